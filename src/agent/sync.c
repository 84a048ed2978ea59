/*
 * sync.c: the agent's side of the device API (docs/device-api.md): heartbeat,
 * configuration refetch when configVersion moves, indicator delta sync when
 * indicatorVersion moves, and detection reports. Every function returns an
 * RG_AGENT_* code and leaves a sentence in ag->last_error on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent/config.h"
#include "agent/core.h"
#include "agent/webprot.h"
#include "common/err.h"

/* Records a failed call; returns its RG_AGENT_* code. */
static int note(struct rg_agent *ag, const char *what, int rc, const struct httpc_answer *ans)
{
    int code = agent_code(rc);
    snprintf(ag->last_error, sizeof ag->last_error, "%.60s: %.400s", what,
             code == RG_AGENT_EAUTH ? "the server refused the device credential (401)"
             : ans->error[0]        ? ans->error
                                    : rg_err_name(rc));
    ag->server_ok = code != RG_AGENT_EUNREACHABLE;
    if (code == RG_AGENT_EAUTH)
        ag->refused = true;
    agent_log(ag, 2, "%s", ag->last_error);
    return code;
}

int agent_session(struct rg_agent *ag)
{
    if (ag->http_ready) {
        webprot_pin_server(ag); /* the server's address, not through our own DNS filter */
        if (ag->daemon) {       /* the loop waits for each call: bounded (core.h) */
            ag->http.timeout_s = AGENT_LOOP_CALL_S;
            ag->http.connect_timeout_s = AGENT_LOOP_CONNECT_S;
        }
        return 0;
    }
    if (!state_activated(&ag->st))
        return agent_fail(ag, RG_AGENT_ENOTACTIVE, "the agent is not activated");
    int rc = httpc_init(&ag->http, ag->st.server, ag->st.credential, "riskgate-agent/" RG_AGENT_VERSION);
    if (rc)
        return agent_fail(ag, rc == RG_ENOMEM ? RG_AGENT_ENOMEM : RG_AGENT_EINVAL,
                          "state.json holds no usable server URL");
    ag->http_ready = true;
    return agent_session(ag); /* the pin and the daemon's bounds */
}

void agent_session_reset(struct rg_agent *ag)
{
    agent_wait_cancel(ag); /* re-armed with the new identity's versions */
    httpc_release(&ag->http);
    ag->http_ready = false;
    json_decref(ag->settings);
    ag->settings = NULL;
    free(ag->config_version);
    ag->config_version = NULL;
    free(ag->wanted_config);
    ag->wanted_config = NULL;
    indset_clear(ag->ind);
    ag->ind_version = 0;
    ag->wanted_ind = -1;
    ag->ind_more = false;
    ag->config_due = ag->ind_due = false;
    ag->threat_level[0] = '\0';
    ag->refused = false;
    ag->server_ok = false;
    ag->last_hb_ms = 0;
    ag->last_error[0] = '\0';
}

/* First line of a small file, without the newline, into out; false if unreadable. */
static bool read_line(const char *path, char *out, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fgets(out, (int)n, f) != NULL;
    fclose(f);
    if (ok)
        out[strcspn(out, "\r\n")] = '\0';
    return ok && *out;
}

json_t *agent_device_facts(void)
{
    json_t *d = json_object();
    char host[256] = "";
    struct utsname u;
    bool have_uname = uname(&u) == 0;
    if (gethostname(host, sizeof host - 1))
        host[0] = '\0';
    json_object_set_new(d, "platform", json_string("linux"));
    if (*host)
        json_object_set_new(d, "deviceName", json_string(host));
    if (have_uname)
        json_object_set_new(d, "osVersion", json_string(u.release));
    char line[128];
    if (read_line("/sys/class/dmi/id/product_name", line, sizeof line))
        json_object_set_new(d, "model", json_string(line));
    else if (have_uname)
        json_object_set_new(d, "model", json_string(u.machine));
    if (read_line("/sys/class/dmi/id/sys_vendor", line, sizeof line))
        json_object_set_new(d, "manufacturer", json_string(line));
    json_object_set_new(d, "agentVersion", json_string(RG_AGENT_VERSION));
    json_object_set_new(d, "rooted", json_false());
    return d;
}

int agent_heartbeat(struct rg_agent *ag)
{
    int rc = agent_session(ag);
    if (rc) {
        snprintf(ag->last_error, sizeof ag->last_error, "%.400s", ag->err);
        return rc;
    }
    json_t *body = agent_device_facts();
    json_t *perm = json_object();
    json_object_set_new(perm, "vpn", json_boolean(!ag->st.vpn_skipped));
    json_object_set_new(body, "permissions", perm);
    struct httpc_answer ans = HTTPC_ANSWER_INIT;
    rc = httpc_call(&ag->http, "POST", "/device/v1/heartbeat", body, &ans);
    json_decref(body);
    if (rc) {
        rc = note(ag, "heartbeat", rc, &ans);
        httpc_answer_release(&ans);
        return rc;
    }
    ag->server_ok = true;
    ag->refused = false;
    ag->last_error[0] = '\0';
    ag->last_hb_ms = util_now_ms();
    const char *cv = json_string_value(json_object_get(ans.json, "configVersion"));
    if (cv && (!ag->wanted_config || strcmp(cv, ag->wanted_config))) {
        free(ag->wanted_config);
        ag->wanted_config = strdup(cv);
    }
    json_t *iv = json_object_get(ans.json, "indicatorVersion");
    if (json_is_integer(iv))
        ag->wanted_ind = json_integer_value(iv);
    const char *lvl = json_string_value(json_object_get(ans.json, "threatLevel"));
    if (lvl)
        snprintf(ag->threat_level, sizeof ag->threat_level, "%s", lvl);
    json_int_t hb = json_integer_value(json_object_get(ans.json, "heartbeatIntervalSeconds"));
    if (hb > 0 && hb <= 86400)
        ag->hb_interval_s = (int)hb;
    httpc_answer_release(&ans);
    agent_log(ag, 0, "heartbeat ok: level %s, config %s, indicators %lld", ag->threat_level[0] ? ag->threat_level : "-",
              ag->wanted_config ? ag->wanted_config : "-", (long long)ag->wanted_ind);
    bool config = !ag->settings ||
                  (ag->wanted_config && (!ag->config_version || strcmp(ag->wanted_config, ag->config_version)));
    bool ind = ag->wanted_ind >= 0 && ag->wanted_ind != ag->ind_version;
    if (ag->daemon) { /* at the next turns of the loop, one call each (rg_agent_tick) */
        ag->config_due = config;
        ag->ind_due = ind;
        return 0;
    }
    if (config)
        agent_fetch_config(ag); /* failures logged; retried at the next heartbeat */
    if (ind)
        agent_sync_indicators(ag);
    return 0;
}

int agent_fetch_config(struct rg_agent *ag)
{
    int rc = agent_session(ag);
    if (rc) {
        snprintf(ag->last_error, sizeof ag->last_error, "%.400s", ag->err);
        return rc;
    }
    struct httpc_answer ans = HTTPC_ANSWER_INIT;
    rc = httpc_call(&ag->http, "GET", "/device/v1/config", NULL, &ans);
    if (rc) {
        rc = note(ag, "configuration", rc, &ans);
        httpc_answer_release(&ans);
        return rc;
    }
    json_t *settings = json_object_get(ans.json, "settings");
    if (!json_is_object(settings)) {
        httpc_answer_release(&ans);
        snprintf(ag->last_error, sizeof ag->last_error, "configuration: the answer has no \"settings\" object");
        agent_log(ag, 2, "%s", ag->last_error);
        return RG_AGENT_ESERVER;
    }
    const char *ver = json_string_value(json_object_get(ans.json, "version"));
    bool changed = !ag->settings || !json_equal(ag->settings, settings);
    json_decref(ag->settings);
    ag->settings = json_incref(settings);
    free(ag->config_version);
    ag->config_version = ver ? strdup(ver) : NULL;
    if (ver && !ag->wanted_config)
        ag->wanted_config = strdup(ver);
    httpc_answer_release(&ans);
    if (changed)
        agent_log(ag, 1, "configuration %s: web protection %s, app details in reports %s, sign-out %s",
                  ag->config_version ? ag->config_version : "-",
                  config_web_name(config_web_protection(ag->settings, ag->st.vpn_skipped, NULL)),
                  config_bool(ag->settings, "DefenderExcludeAppInReport") ? "excluded" : "included",
                  config_bool(ag->settings, "DisableSignOut") ? "disabled" : "allowed");
    return 0;
}

/* An indicator id as a number (the contract sends integers; MDE shapes use strings). */
static bool json_id(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_string(v)) {
        char *end;
        long long x = strtoll(json_string_value(v), &end, 10);
        if (*json_string_value(v) && !*end) {
            *out = x;
            return true;
        }
    }
    return false;
}

int agent_sync_apply(struct indset *set, const json_t *page, int64_t now_ms, size_t *bad)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(page, "removed"), i, v)
    {
        int64_t id;
        if (json_id(v, &id))
            indset_remove(set, id);
    }
    json_array_foreach(json_object_get(page, "upserts"), i, v)
    {
        struct indicator ind = {0};
        if (!json_id(json_object_get(v, "id"), &ind.id)) {
            (*bad)++;
            continue;
        }
        const char *exp = json_string_value(json_object_get(v, "expirationTime"));
        int64_t exp_ms;
        if (exp && !util_time_parse(exp, &exp_ms)) {
            if (exp_ms <= now_ms) {
                indset_remove(set, ind.id);
                continue;
            }
            ind.expires_ms = exp_ms;
        }
        ind.type = indset_type_parse(json_string_value(json_object_get(v, "indicatorType")));
        ind.value = json_string_value(json_object_get(v, "indicatorValue"));
        ind.action = indset_action_parse(json_string_value(json_object_get(v, "action")));
        ind.severity = json_string_value(json_object_get(v, "severity"));
        ind.title = json_string_value(json_object_get(v, "title"));
        int rc = indset_upsert(set, &ind);
        if (rc == RG_ENOMEM)
            return RG_ENOMEM;
        if (rc) {
            indset_remove(set, ind.id);
            (*bad)++;
        }
    }
    return 0;
}

/* One page of the delta sync; *more: the server holds more after it. */
static int sync_page(struct rg_agent *ag, bool *more)
{
    *more = false;
    int rc = agent_session(ag);
    if (rc)
        return rc;
    char path[96];
    snprintf(path, sizeof path, "/device/v1/indicators?since=%lld", (long long)ag->ind_version);
    struct httpc_answer ans = HTTPC_ANSWER_INIT;
    rc = httpc_call(&ag->http, "GET", path, NULL, &ans);
    if (rc) {
        rc = note(ag, "indicator sync", rc, &ans);
        httpc_answer_release(&ans);
        return rc;
    }
    json_t *ver = json_object_get(ans.json, "version");
    if (!json_is_integer(ver)) {
        httpc_answer_release(&ans);
        snprintf(ag->last_error, sizeof ag->last_error, "indicator sync: the answer has no version");
        agent_log(ag, 2, "%s", ag->last_error);
        return RG_AGENT_ESERVER;
    }
    if (json_is_true(json_object_get(ans.json, "full")) || ag->ind_version == 0)
        indset_clear(ag->ind);
    size_t bad = 0;
    if (agent_sync_apply(ag->ind, ans.json, util_now_ms(), &bad)) {
        httpc_answer_release(&ans);
        snprintf(ag->last_error, sizeof ag->last_error, "indicator sync: out of memory");
        return RG_AGENT_ENOMEM;
    }
    int64_t old = ag->ind_version;
    ag->ind_version = json_integer_value(ver);
    if (ag->wanted_ind < ag->ind_version)
        ag->wanted_ind = ag->ind_version;
    *more = json_is_true(json_object_get(ans.json, "more")) && ag->ind_version > old;
    httpc_answer_release(&ans);
    agent_log(ag, 1, "indicators: version %lld -> %lld, %zu held%s", (long long)old, (long long)ag->ind_version,
              indset_count(ag->ind), bad ? " (some could not be used)" : "");
    return 0;
}

int agent_sync_indicators(struct rg_agent *ag)
{
    /* The daemon's loop also answers DNS: it takes the pages of a large sync (the first one of a million
     * indicators is 200 pages) a slice at a time and serves queries in between (rg_agent_tick goes on while
     * ind_more). A command waits for the whole set. */
    int64_t until = agent_mono_ms() + AGENT_SYNC_SLICE_MS;
    bool more = false;
    int rc;
    do
        rc = sync_page(ag, &more);
    while (!rc && more && (!ag->daemon || agent_mono_ms() < until));
    ag->ind_more = !rc && more;
    /* a new indicator may change what an unchanged file is (rescan once the set is whole) */
    if (!rc && !more && ag->daemon)
        ag->rescan = true;
    return rc;
}

int agent_report(struct rg_agent *ag)
{
    int rc = agent_session(ag);
    if (rc)
        return rc;
    bool hide_app = config_bool(ag->settings, "DefenderExcludeAppInReport");
    json_t *arr = json_array();
    char now[UTIL_TIME_LEN + 1];
    util_time_format(util_now_ms(), now, sizeof now);
    size_t *sent = calloc(AGENT_REPORT_BATCH, sizeof *sent);
    size_t nsent = 0;
    if (!arr || !sent) {
        json_decref(arr);
        free(sent);
        return RG_AGENT_ENOMEM;
    }
    for (size_t i = 0; i < ag->nthreats && nsent < AGENT_REPORT_BATCH; i++) {
        struct agent_threat *t = &ag->threats[i];
        if (t->reported)
            continue;
        json_t *d = json_object();
        json_object_set_new(d, "kind", json_string(t->kind));
        json_object_set_new(d, "key", json_string(t->key));
        json_object_set_new(d, "state", json_string(t->active ? "active" : "resolved"));
        if (strcmp(t->kind, "malware")) { /* web and network protection: title and details as raised */
            json_object_set_new(d, "title", json_string(t->threat_name ? t->threat_name : t->kind));
            if (t->details)
                json_object_update(d, t->details);
            json_object_set_new(d, "time", json_string(t->active ? t->detected_at : now));
            json_array_append_new(arr, d);
            sent[nsent++] = i;
            continue;
        }
        char title[300];
        snprintf(title, sizeof title, "Malware detected: %s", t->threat_name);
        json_object_set_new(d, "title", json_string(title));
        json_object_set_new(d, "threatName", json_string(t->threat_name));
        if (!hide_app) {
            if (t->file_name)
                json_object_set_new(d, "fileName", json_string(t->file_name));
            if (t->file_path)
                json_object_set_new(d, "filePath", json_string(t->file_path));
        }
        json_object_set_new(d, "sha256", json_string(t->h.sha256));
        json_object_set_new(d, "sha1", json_string(t->h.sha1));
        json_object_set_new(d, "md5", json_string(t->h.md5));
        json_object_set_new(d, "time", json_string(t->active ? t->detected_at : now));
        json_array_append_new(arr, d);
        sent[nsent++] = i;
    }
    json_t *body = json_object();
    json_object_set_new(body, "detections", arr);
    struct httpc_answer ans = HTTPC_ANSWER_INIT;
    rc = httpc_call(&ag->http, "POST", "/device/v1/detections", body, &ans);
    json_decref(body);
    if (rc) {
        rc = note(ag, "detection report", rc, &ans);
        httpc_answer_release(&ans);
        free(sent);
        return rc;
    }
    ag->server_ok = true;
    for (size_t k = 0; k < nsent; k++) {
        struct agent_threat *t = &ag->threats[sent[k]];
        t->reported = true;
        t->known = t->active;
        agent_log(ag, 1, "reported %s threat %s (%s)", t->active ? "active" : "resolved", t->key, t->threat_name);
    }
    free(sent);
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(ans.json, "alerts"), i, a)
    {
        const char *key = json_string_value(json_object_get(a, "key"));
        const char *id = json_string_value(json_object_get(a, "alertId"));
        struct agent_threat *t = key ? agent_threat_find(ag, key) : NULL;
        if (t && id && (!t->alert_id || strcmp(t->alert_id, id))) {
            free(t->alert_id);
            t->alert_id = strdup(id);
        }
    }
    const char *lvl = json_string_value(json_object_get(ans.json, "threatLevel"));
    if (lvl)
        snprintf(ag->threat_level, sizeof ag->threat_level, "%s", lvl);
    httpc_answer_release(&ans);
    agent_threats_drop_resolved(ag);
    return 0;
}
