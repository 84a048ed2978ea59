/*
 * status.c: the agent's status as JSON — for `riskgate-agent status`, for
 * status.json (which the daemon rewrites so that other processes can read
 * it), and for the broker's "hello" and "check-url" answers. Nothing here
 * ever includes the device credential.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/config.h"
#include "agent/core.h"
#include "agent/netprot.h"
#include "agent/webprot.h"
#include "agent/url.h"
#include "common/err.h"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *agent_time_json(int64_t ms)
{
    if (!ms)
        return json_null();
    char t[UTIL_TIME_LEN + 1];
    util_time_format(ms, t, sizeof t);
    return json_string(t);
}

json_t *agent_status_read(const struct rg_agent *ag)
{
    json_error_t e;
    json_t *o = json_load_file(ag->status_path, 0, &e);
    if (o && !json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* True if something accepts connections on the agent socket. */
static bool daemon_listening(const struct rg_agent *ag)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(ag->sock_path) >= sizeof sa.sun_path)
        return false;
    memcpy(sa.sun_path, ag->sock_path, strlen(ag->sock_path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    bool ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

/* The runtime part known to this process (the daemon's own memory). */
static void runtime_from_memory(struct rg_agent *ag, json_t *o)
{
    json_object_set_new(o, "lastHeartbeat", agent_time_json(ag->last_hb_ms));
    json_object_set_new(o, "serverReachable", json_boolean(ag->server_ok));
    json_object_set_new(o, "credentialRefused", json_boolean(ag->refused));
    json_object_set_new(o, "lastError", ag->last_error[0] ? json_string(ag->last_error) : json_null());
    json_object_set_new(o, "threatLevel", ag->threat_level[0] ? json_string(ag->threat_level) : json_null());
    json_object_set_new(o, "configVersion", str_or_null(ag->config_version));
    json_object_set_new(o, "settings", ag->settings ? json_deep_copy(ag->settings) : json_null());
    json_object_set_new(o, "indicatorVersion", json_integer(ag->ind_version));
    json_object_set_new(o, "indicatorCount", json_integer((json_int_t)indset_count(ag->ind)));
    json_t *scan = json_object();
    json_t *dirs = json_array();
    for (size_t i = 0; i < ag->ndirs; i++)
        json_array_append_new(dirs, json_string(ag->dirs[i]));
    json_object_set_new(scan, "folders", dirs);
    json_object_set_new(scan, "intervalSeconds", json_integer(ag->scan_interval_s));
    json_object_set_new(scan, "lastScan", agent_time_json(ag->last_scan_ms));
    json_object_set_new(scan, "files", json_integer((json_int_t)ag->last_stats.files));
    json_object_set_new(scan, "skipped", json_integer((json_int_t)ag->last_stats.skipped));
    json_object_set_new(o, "scan", scan);
    json_object_set_new(o, "threats", agent_threats_json(ag));
    json_object_set_new(o, "liveUpdates", agent_wait_json(ag));
    json_object_set_new(o, "networkProtection", netprot_status_json(ag));
    json_object_set_new(o, "dnsFilter", webprot_status_json(ag));
}

static const char *const runtime_keys[] = {
    "lastHeartbeat", "serverReachable", "credentialRefused", "lastError",      "threatLevel",
    "configVersion", "settings",        "indicatorVersion",  "indicatorCount", "scan",
    "threats",       "daemon",          "liveUpdates", "networkProtection", "dnsFilter"};

json_t *agent_status_build(struct rg_agent *ag)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    const struct agent_state *st = &ag->st;
    bool active = state_activated(st);
    json_object_set_new(o, "agentVersion", json_string(RG_AGENT_VERSION));
    json_object_set_new(o, "stateDir", json_string(ag->dir));
    json_object_set_new(o, "activated", json_boolean(active));
    json_object_set_new(o, "signedOut", json_boolean(st->device_id && !st->credential));
    json_object_set_new(o, "server", str_or_null(st->server));
    json_object_set_new(o, "tenant", str_or_null(st->tenant));
    json_object_set_new(o, "tenantId", str_or_null(st->tenant_id));
    json_object_set_new(o, "userPrincipalName", str_or_null(st->user));
    json_object_set_new(o, "userId", str_or_null(st->user_id));
    json_object_set_new(o, "deviceId", str_or_null(st->device_id));
    json_object_set_new(o, "activatedAt", str_or_null(st->activated_at));
    json_object_set_new(o, "vpnSkipped", json_boolean(st->vpn_skipped));

    if (ag->daemon) {
        runtime_from_memory(ag, o);
        json_t *d = json_object();
        json_object_set_new(d, "running", json_true());
        json_object_set_new(d, "pid", json_integer(getpid()));
        json_object_set_new(d, "updatedAt", agent_time_json(util_now_ms()));
        json_object_set_new(o, "daemon", d);
    } else {
        runtime_from_memory(ag, o);
        json_t *old = agent_status_read(ag);
        const char *odev = old ? json_string_value(json_object_get(old, "deviceId")) : NULL;
        bool same = old && ((!odev && !st->device_id) || (odev && st->device_id && !strcmp(odev, st->device_id)));
        if (same) {
            for (size_t i = 0; i < sizeof runtime_keys / sizeof runtime_keys[0]; i++) {
                json_t *v = json_object_get(old, runtime_keys[i]);
                /* the daemon's file wins, except where it knows nothing and we do (settings just fetched) */
                if (v && !(json_is_null(v) && !json_is_null(json_object_get(o, runtime_keys[i]))))
                    json_object_set(o, runtime_keys[i], v);
            }
        } else if (old) {
            /* another device's runtime: only the local file facts still hold */
            json_object_set(o, "threats", json_object_get(old, "threats"));
            json_object_set(o, "scan", json_object_get(old, "scan"));
        }
        json_decref(old);
        json_t *d = json_object_get(o, "daemon");
        if (!json_is_object(d)) {
            d = json_object();
            json_object_set_new(o, "daemon", d);
        }
        json_object_set_new(d, "running", json_boolean(daemon_listening(ag)));
    }
    if (!active)
        json_object_set_new(o, "threatLevel", json_null());

    /* derived, for people */
    json_t *settings = json_object_get(o, "settings");
    const char *why;
    enum config_web w = config_web_protection(json_is_object(settings) ? settings : NULL, st->vpn_skipped, &why);
    json_t *web = json_object();
    json_object_set_new(web, "state", json_string(config_web_name(w)));
    json_object_set_new(web, "why", json_string(why));
    json_object_set_new(web, "configurationKnown", json_boolean(json_is_object(settings)));
    json_object_set_new(web, "vpnOptional",
                        json_boolean(config_bool(json_is_object(settings) ? settings : NULL, "DefenderOptionalVPN")));
    /* the traffic filter the configuration wants could not listen: "partial: the DNS filter could not listen on ..." */
    json_t *df = json_object_get(o, "dnsFilter");
    if (json_is_object(df)) {
        if (w == CONFIG_WEB_ON && config_bool(json_is_object(settings) ? settings : NULL, "vpn") &&
            json_is_false(json_object_get(df, "listening"))) {
            json_object_set_new(web, "state", json_string(config_web_name(CONFIG_WEB_PARTIAL)));
            json_object_set(web, "why", json_object_get(df, "error"));
        }
        json_object_set(web, "dnsFilter", df);
    }
    json_object_set_new(o, "webProtection", web);
    json_object_set_new(o, "signOutAllowed",
                        json_boolean(!config_bool(json_is_object(settings) ? settings : NULL, "DisableSignOut")));
    json_object_set_new(
        o, "appDetailsInReports",
        json_boolean(!config_bool(json_is_object(settings) ? settings : NULL, "DefenderExcludeAppInReport")));
    return o;
}

int agent_status_write(struct rg_agent *ag)
{
    json_t *o = agent_status_build(ag);
    if (!o)
        return RG_AGENT_ENOMEM;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", ag->status_path, (long)getpid());
    int rc = json_dump_file(o, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (rc || chmod(tmp, 0644) || rename(tmp, ag->status_path)) {
        unlink(tmp);
        agent_log(ag, 2, "cannot write %s: %s", ag->status_path, strerror(errno));
        return RG_AGENT_EIO;
    }
    return 0;
}

static int action_code(enum ind_action a)
{
    switch (a) {
    case IND_ALLOWED:
        return RG_AGENT_ALLOWED;
    case IND_AUDIT:
        return RG_AGENT_AUDIT;
    case IND_WARN:
        return RG_AGENT_WARN;
    case IND_BLOCK:
    case IND_REMEDIATE:
        return RG_AGENT_BLOCK;
    default:
        return RG_AGENT_NOMATCH;
    }
}

static const char *action_text(int a)
{
    static const char *const names[] = {"None", "Allowed", "Audit", "Warn", "Block"};
    return a >= 0 && a <= RG_AGENT_BLOCK ? names[a] : "None";
}

/* True if host is the built-in test domain or one of its subdomains. */
static bool is_test_domain(const char *host)
{
    size_t hl = strlen(host), tl = strlen(AGENT_TEST_DOMAIN);
    return hl >= tl && !strcmp(host + hl - tl, AGENT_TEST_DOMAIN) && (hl == tl || host[hl - tl - 1] == '.');
}

int agent_web_match(struct rg_agent *ag, const char *url, const char *host, bool builtin, struct agent_web_hit *out)
{
    out->builtin = false;
    out->title = NULL;
    int act = indset_match_url(ag->ind, url, &out->ind) ? action_code(out->ind.action) : RG_AGENT_NOMATCH;
    if (builtin && (act == RG_AGENT_NOMATCH || act == RG_AGENT_AUDIT) && is_test_domain(host)) {
        act = RG_AGENT_BLOCK;
        out->builtin = true;
        out->title = "Phishing test page (built-in test domain)";
    } else if (act != RG_AGENT_NOMATCH) {
        out->title = out->ind.title;
    }
    out->action = act;
    return act;
}

json_t *agent_check_url_json(struct rg_agent *ag, const char *url, int *action)
{
    char host[URL_HOST_MAX];
    if (!url || url_host(url, host, sizeof host, NULL))
        return NULL;
    struct agent_web_hit wh;
    int act = agent_web_match(ag, url, host, true, &wh);
    const struct indicator *m = act != RG_AGENT_NOMATCH && !wh.builtin ? &wh.ind : NULL;
    json_t *o = json_object();
    json_object_set_new(o, "url", json_string(url));
    json_object_set_new(o, "host", json_string(host));
    if (wh.builtin) {
        json_object_set_new(o, "indicatorType", json_string("Builtin"));
        json_object_set_new(o, "indicatorValue", json_string(AGENT_TEST_DOMAIN));
        json_object_set_new(o, "title", json_string(wh.title));
        json_object_set_new(o, "severity", json_string("Informational"));
    } else if (m) {
        json_object_set_new(o, "indicatorId", json_integer(m->id));
        json_object_set_new(o, "indicatorType", json_string(indset_type_name(m->type)));
        json_object_set_new(o, "indicatorValue", json_string(m->value));
        if (m->title)
            json_object_set_new(o, "title", json_string(m->title));
        if (m->severity)
            json_object_set_new(o, "severity", json_string(m->severity));
    }
    enum config_web w = config_web_protection(ag->settings, ag->st.vpn_skipped, NULL);
    json_object_set_new(o, "webProtection", json_string(config_web_name(w)));
    if (w == CONFIG_WEB_OFF && act != RG_AGENT_NOMATCH) {
        /* web protection is off by configuration: report what it would have done, block nothing */
        json_object_set_new(o, "wouldBe", json_string(action_text(act)));
        act = RG_AGENT_NOMATCH;
    }
    json_object_set_new(o, "action", json_string(action_text(act)));
    json_object_set_new(o, "indicatorsVersion", json_integer(ag->ind_version));
    if (action)
        *action = act;
    return o;
}

json_t *agent_hello_json(struct rg_agent *ag)
{
    bool active = state_activated(&ag->st);
    json_t *o = json_object();
    json_object_set_new(o, "installed", json_true());
    json_object_set_new(o, "activated", json_boolean(active));
    json_object_set_new(o, "deviceId", active ? str_or_null(ag->st.device_id) : json_null());
    json_object_set_new(o, "tenant", active ? str_or_null(ag->st.tenant) : json_null());
    json_object_set_new(o, "tenantId", active ? str_or_null(ag->st.tenant_id) : json_null());
    json_object_set_new(o, "threatLevel",
                        !active ? json_null() : json_string(ag->threat_level[0] ? ag->threat_level : "unknown"));
    json_object_set_new(o, "agentVersion", json_string(RG_AGENT_VERSION));
    return o;
}
