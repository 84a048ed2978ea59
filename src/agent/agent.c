/*
 * agent.c: the public entry points of the agent core (include/riskgate/agent.h):
 * the handle's lifecycle, activation, sign-out, the VPN switch, and the
 * daemon's cron function (rg_agent_tick). The device API lives in sync.c,
 * scanning in threats.c, status in status.c, the local socket in broker.c,
 * the long-poll for live updates in wait.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "agent/config.h"
#include "agent/core.h"
#include "common/sign.h"
#include "agent/netprot.h"
#include "agent/webprot.h"
#include "common/err.h"

int64_t agent_mono_ms(void)
{
    return (int64_t)(util_mono_ns() / 1000000u);
}

void agent_log(struct rg_agent *ag, int level, const char *fmt, ...)
{
    if (!ag->log_fn)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ag->log_fn(ag->log_ud, level, msg);
}

int agent_fail(struct rg_agent *ag, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ag->err, sizeof ag->err, fmt, ap);
    va_end(ap);
    return code;
}

int agent_code(int rg)
{
    switch (rg) {
    case 0:
        return RG_AGENT_OK;
    case RG_ENOMEM:
        return RG_AGENT_ENOMEM;
    case RG_EIO:
        return RG_AGENT_EUNREACHABLE;
    case RG_EAUTH:
        return RG_AGENT_EAUTH;
    case RG_EPERM:
        return RG_AGENT_EFORBIDDEN;
    default:
        return RG_AGENT_ESERVER;
    }
}

const char *rg_agent_strerror(int code)
{
    switch (code) {
    case RG_AGENT_OK:
        return "success";
    case RG_AGENT_ENOMEM:
        return "out of memory";
    case RG_AGENT_EINVAL:
        return "invalid argument";
    case RG_AGENT_EIO:
        return "local I/O error";
    case RG_AGENT_EUNREACHABLE:
        return "cannot reach the server";
    case RG_AGENT_EAUTH:
        return "the server refused the sign-in or the device credential";
    case RG_AGENT_EFORBIDDEN:
        return "not allowed by your organization's configuration";
    case RG_AGENT_ESERVER:
        return "unexpected answer from the server";
    case RG_AGENT_ENOTACTIVE:
        return "the agent is not activated";
    case RG_AGENT_ENODAEMON:
        return "no riskgate-agent daemon is running";
    default:
        return "unknown error";
    }
}

const char *rg_agent_errmsg(const struct rg_agent *ag)
{
    return ag ? ag->err : "";
}

void rg_agent_set_log(struct rg_agent *ag, rg_agent_log_fn fn, void *ud)
{
    ag->log_fn = fn;
    ag->log_ud = ud;
}

static char *join(const char *dir, const char *name)
{
    struct buf b = BUF_INIT(0);
    if (buf_printf(&b, "%s/%s", dir, name)) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b);
}

/* mkdir -p with mode for the missing parts. */
static int make_dirs(const char *dir, mode_t mode)
{
    char *p = strdup(dir);
    if (!p)
        return RG_ENOMEM;
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || !*s) {
            char c = *s;
            *s = '\0';
            if (mkdir(p, mode) && errno != EEXIST)
                rc = RG_EIO;
            *s = c;
            if (!c || rc)
                break;
        }
    }
    free(p);
    struct stat sb;
    if (!rc && (stat(dir, &sb) || !S_ISDIR(sb.st_mode)))
        rc = RG_EIO;
    return rc;
}

/* Loads state.json when it changed on disk (or the first time). Returns true if the identity changed. */
static bool reload_state(struct rg_agent *ag, bool force)
{
    struct stat sb;
    bool exists = stat(ag->state_path, &sb) == 0;
    if (!force && exists && sb.st_ino == ag->state_ino && sb.st_mtim.tv_sec == ag->state_mtime.tv_sec &&
        sb.st_mtim.tv_nsec == ag->state_mtime.tv_nsec)
        return false;
    if (!force && !exists && !ag->state_ino)
        return false;
    char *old_dev = ag->st.device_id ? strdup(ag->st.device_id) : NULL;
    bool was_active = state_activated(&ag->st);
    char *old_server = ag->st.server ? strdup(ag->st.server) : NULL;
    int rc = exists ? state_load(ag->state_path, &ag->st) : RG_ENOTFOUND;
    if (rc) {
        state_release(&ag->st);
        if (rc != RG_ENOTFOUND)
            agent_log(ag, 3, "cannot read %s: %s", ag->state_path, rg_err_name(rc));
    }
    ag->state_ino = exists ? sb.st_ino : 0;
    if (exists)
        ag->state_mtime = sb.st_mtim;
    /* the HTTP session and a pending wait carry the old credential: rebuilt on the next call */
    httpc_release(&ag->http);
    ag->http_ready = false;
    agent_wait_cancel(ag);
    bool now_active = state_activated(&ag->st);
    bool changed = was_active != now_active || (old_dev == NULL) != (ag->st.device_id == NULL) ||
                   (old_dev && ag->st.device_id && strcmp(old_dev, ag->st.device_id)) ||
                   (old_server && ag->st.server && strcmp(old_server, ag->st.server));
    free(old_dev);
    free(old_server);
    return changed;
}

bool agent_refresh_identity(struct rg_agent *ag)
{
    if (!reload_state(ag, false))
        return false;
    agent_log(ag, 1, "state.json changed: %s",
              state_activated(&ag->st) ? "activated" : "not activated (signed out or not yet activated)");
    agent_session_reset(ag);
    for (size_t i = 0; i < ag->nthreats; i++)
        ag->threats[i].reported = ag->threats[i].known = false;
    int64_t now = agent_mono_ms();
    ag->next_hb = now;
    ag->next_report = now;
    return true;
}

int rg_agent_new(const char *state_dir, struct rg_agent **out)
{
    *out = NULL;
    if (!state_dir || !*state_dir)
        state_dir = getenv("RISKGATE_AGENT_STATE");
    if (!state_dir || !*state_dir)
        state_dir = "./var/agent";
    struct rg_agent *ag = calloc(1, sizeof *ag);
    if (!ag)
        return RG_AGENT_ENOMEM;
    ag->lfd = -1;
    agent_wait_init(ag);
    for (int i = 0; i < AGENT_MAX_CONNS; i++)
        ag->conns[i].fd = -1;
    ag->conn_line_ms = AGENT_CONN_LINE_MS;
    ag->scan_interval_s = AGENT_DEFAULT_SCAN_S;
    ag->hb_interval_s = AGENT_DEFAULT_HEARTBEAT_S;
    ag->wanted_ind = -1;
    ag->dir = strdup(state_dir);
    if (ag->dir) {
        size_t n = strlen(ag->dir);
        while (n > 1 && ag->dir[n - 1] == '/')
            ag->dir[--n] = '\0';
    }
    ag->state_path = ag->dir ? join(ag->dir, "state.json") : NULL;
    ag->status_path = ag->dir ? join(ag->dir, "status.json") : NULL;
    ag->sock_path = ag->dir ? join(ag->dir, "agent.sock") : NULL;
    ag->ind = indset_new();
    ag->cache = scan_cache_new();
    ag->np = netprot_new();
    if (!ag->sock_path || !ag->status_path || !ag->state_path || !ag->ind || !ag->cache || !ag->np) {
        rg_agent_free(ag);
        return RG_AGENT_ENOMEM;
    }
    if (make_dirs(ag->dir, 0755)) {
        rg_agent_free(ag);
        return RG_AGENT_EIO;
    }
    struct stat sb;
    if (stat(ag->state_path, &sb) == 0) {
        int rc = state_load(ag->state_path, &ag->st);
        if (rc == RG_ENOMEM) {
            rg_agent_free(ag);
            return RG_AGENT_ENOMEM;
        }
        if (rc) {
            rg_agent_free(ag);
            return RG_AGENT_EIO;
        }
        ag->state_ino = sb.st_ino;
        ag->state_mtime = sb.st_mtim;
    }
    /* the last known configuration, so that one-shot commands know the keys offline */
    json_t *old = agent_status_read(ag);
    if (old && ag->st.device_id && json_is_object(json_object_get(old, "settings")) &&
        json_is_string(json_object_get(old, "deviceId")) &&
        !strcmp(json_string_value(json_object_get(old, "deviceId")), ag->st.device_id)) {
        ag->settings = json_incref(json_object_get(old, "settings"));
        const char *v = json_string_value(json_object_get(old, "configVersion"));
        ag->config_version = v ? strdup(v) : NULL;
    }
    json_decref(old);
    *out = ag;
    return 0;
}

void rg_agent_free(struct rg_agent *ag)
{
    if (!ag)
        return;
    agent_broker_close(ag);
    agent_wait_free(ag);
    httpc_release(&ag->http);
    state_release(&ag->st);
    json_decref(ag->settings);
    free(ag->config_version);
    free(ag->wanted_config);
    indset_free(ag->ind);
    scan_cache_free(ag->cache);
    netprot_free(ag->np);
    webprot_free(ag);
    agent_threats_release(ag);
    for (size_t i = 0; i < ag->ndirs; i++)
        free(ag->dirs[i]);
    free(ag->dirs);
    free(ag->dir);
    free(ag->state_path);
    free(ag->status_path);
    free(ag->sock_path);
    free(ag);
}

void rg_agent_string_free(char *s)
{
    free(s);
}

int rg_agent_activate(struct rg_agent *ag, const struct rg_agent_activation *a)
{
    ag->err[0] = '\0';
    if (!a || !a->server || !a->tenant || !*a->tenant)
        return agent_fail(ag, RG_AGENT_EINVAL, "the server URL and the tenant are required");
    bool by_code = a->code && *a->code;
    if (!by_code && !(a->user && *a->user && a->password))
        return agent_fail(ag, RG_AGENT_EINVAL, "give a user and password, or an enrollment code");
    struct httpc_client hc;
    int rc = httpc_init(&hc, a->server, NULL, "riskgate-agent/" RG_AGENT_VERSION);
    if (rc)
        return agent_fail(ag, rc == RG_ENOMEM ? RG_AGENT_ENOMEM : RG_AGENT_EINVAL,
                          "the server must be an http:// or https:// URL");
    json_t *body = json_object();
    json_object_set_new(body, "tenant", json_string(a->tenant));
    if (by_code) {
        json_object_set_new(body, "enrollmentCode", json_string(a->code));
    } else {
        json_object_set_new(body, "userPrincipalName", json_string(a->user));
        json_object_set_new(body, "password", json_string(a->password));
    }
    json_object_set_new(body, "device", agent_device_facts());
    /* a new device key for the new device: its public half is registered with the activation */
    struct sign_key *dk = NULL;
    if ((rc = agent_devkey_new(ag, &dk))) {
        json_decref(body);
        httpc_release(&hc);
        return rc;
    }
    json_object_set_new(body, "devicePublicKey", json_string(sign_key_public_b64(dk)));
    sign_key_free(dk);
    struct httpc_answer ans = HTTPC_ANSWER_INIT;
    rc = httpc_call(&hc, "POST", "/device/v1/activate", body, &ans);
    /* jansson holds a copy of the password: overwrite it before it is freed */
    json_t *pw = json_object_get(body, "password");
    if (json_is_string(pw))
        memset((char *)json_string_value(pw), 0, strlen(json_string_value(pw)));
    json_decref(body);
    httpc_release(&hc);
    if (rc) {
        agent_devkey_commit(ag, false);
        int code = agent_code(rc);
        if (code == RG_AGENT_EAUTH)
            agent_fail(ag, code, "the sign-in was refused: wrong user, password, code or tenant");
        else
            agent_fail(ag, code, "activation failed: %s", ans.error);
        httpc_answer_release(&ans);
        return code;
    }
    const char *dev = json_string_value(json_object_get(ans.json, "deviceId"));
    const char *cred = json_string_value(json_object_get(ans.json, "credential"));
    if (!dev || !cred || !*dev || !*cred) {
        agent_devkey_commit(ag, false);
        httpc_answer_release(&ans);
        return agent_fail(ag, RG_AGENT_ESERVER, "the server's activation answer has no deviceId or credential");
    }
    struct agent_state st = AGENT_STATE_INIT;
    char now[UTIL_TIME_LEN + 1];
    util_time_format(util_now_ms(), now, sizeof now);
    rc = state_set(&st.server, a->server);
    rc = rc ? rc : state_set(&st.tenant, a->tenant);
    rc = rc ? rc : state_set(&st.tenant_id, json_string_value(json_object_get(ans.json, "tenantId")));
    rc = rc ? rc : state_set(&st.user, by_code ? NULL : a->user);
    rc = rc ? rc : state_set(&st.user_id, json_string_value(json_object_get(ans.json, "userId")));
    rc = rc ? rc : state_set(&st.device_id, dev);
    rc = rc ? rc : state_set(&st.credential, cred);
    rc = rc ? rc : state_set(&st.activated_at, now);
    json_int_t hb = json_integer_value(json_object_get(ans.json, "heartbeatIntervalSeconds"));
    /* the answer's credential copy is wiped before it is freed */
    memset((char *)cred, 0, strlen(cred));
    httpc_answer_release(&ans);
    /* the key first: a state naming this device always has its key beside it */
    if (!rc && agent_devkey_commit(ag, true)) {
        state_release(&st);
        return RG_AGENT_EIO;
    }
    if (!rc)
        rc = state_save(ag->state_path, &st);
    if (rc) {
        agent_devkey_commit(ag, false);
        state_release(&st);
        return agent_fail(ag, rc == RG_ENOMEM ? RG_AGENT_ENOMEM : RG_AGENT_EIO, "cannot write %s", ag->state_path);
    }
    state_release(&ag->st);
    ag->st = st;
    struct stat sb;
    if (stat(ag->state_path, &sb) == 0) {
        ag->state_ino = sb.st_ino;
        ag->state_mtime = sb.st_mtim;
    }
    agent_session_reset(ag);
    if (hb > 0 && hb < 86400)
        ag->hb_interval_s = (int)hb;
    agent_log(ag, 1, "activated: device %s in tenant %s", ag->st.device_id, ag->st.tenant);

    /* the configuration, for the VPN choice and so that status knows the keys */
    int crc = agent_fetch_config(ag);
    if (crc)
        agent_log(ag, 2, "activated, but the configuration could not be fetched: %s", ag->last_error);
    if (a->skip_vpn) {
        if (!crc && config_bool(ag->settings, "DefenderOptionalVPN")) {
            ag->st.vpn_skipped = true;
            if (state_save(ag->state_path, &ag->st))
                return agent_fail(ag, RG_AGENT_EIO, "cannot write %s", ag->state_path);
            if (stat(ag->state_path, &sb) == 0) {
                ag->state_ino = sb.st_ino;
                ag->state_mtime = sb.st_mtim;
            }
        }
    }
    agent_status_write(ag);
    return 0;
}

int rg_agent_signout(struct rg_agent *ag)
{
    ag->err[0] = '\0';
    reload_state(ag, true);
    if (!state_activated(&ag->st))
        return agent_fail(ag, RG_AGENT_ENOTACTIVE, "the agent is not activated");
    int rc = agent_session(ag);
    if (rc)
        return rc;
    struct httpc_answer ans = HTTPC_ANSWER_INIT;
    rc = httpc_call(&ag->http, "POST", "/device/v1/signout", NULL, &ans);
    if (rc) {
        int code = agent_code(rc);
        if (code == RG_AGENT_EFORBIDDEN)
            agent_fail(ag, code, "Your organization does not allow signing out of riskgate-agent.");
        else if (code == RG_AGENT_EAUTH)
            agent_fail(ag, code, "the server refused the device credential (already signed out or removed?)");
        else
            agent_fail(ag, code, "sign-out failed: %s", ans.error);
        httpc_answer_release(&ans);
        return code;
    }
    httpc_answer_release(&ans);
    state_set(&ag->st.credential, NULL);
    if (state_save(ag->state_path, &ag->st))
        return agent_fail(ag, RG_AGENT_EIO, "signed out, but %s could not be rewritten", ag->state_path);
    reload_state(ag, true);
    agent_session_reset(ag);
    agent_log(ag, 1, "signed out: device %s", ag->st.device_id ? ag->st.device_id : "-");
    return 0;
}

int rg_agent_set_vpn(struct rg_agent *ag, int on)
{
    ag->err[0] = '\0';
    reload_state(ag, true);
    if (!state_activated(&ag->st))
        return agent_fail(ag, RG_AGENT_ENOTACTIVE, "the agent is not activated");
    if (!on) {
        int rc = agent_fetch_config(ag);
        if (rc)
            return agent_fail(ag, rc, "%s", ag->last_error);
        if (!config_bool(ag->settings, "DefenderOptionalVPN"))
            return agent_fail(ag, RG_AGENT_EFORBIDDEN,
                              "Your organization requires the VPN filter (DefenderOptionalVPN is off).");
    }
    ag->st.vpn_skipped = !on;
    if (state_save(ag->state_path, &ag->st))
        return agent_fail(ag, RG_AGENT_EIO, "cannot write %s", ag->state_path);
    reload_state(ag, true);
    return 0;
}

int rg_agent_add_scan_dir(struct rg_agent *ag, const char *dir)
{
    struct stat sb;
    if (!dir || stat(dir, &sb) || !S_ISDIR(sb.st_mode))
        return agent_fail(ag, RG_AGENT_EINVAL, "%s is not a folder", dir ? dir : "(null)");
    char **d = realloc(ag->dirs, (ag->ndirs + 1) * sizeof *d);
    if (!d)
        return RG_AGENT_ENOMEM;
    ag->dirs = d;
    if (!(d[ag->ndirs] = strdup(dir)))
        return RG_AGENT_ENOMEM;
    ag->ndirs++;
    return 0;
}

void rg_agent_set_scan_interval(struct rg_agent *ag, int seconds)
{
    ag->scan_interval_s = seconds < 1 ? 1 : seconds;
}

int rg_agent_start(struct rg_agent *ag)
{
    ag->err[0] = '\0';
    ag->daemon = true;
    /* threats found by an earlier run, so that the ones gone meanwhile get resolved */
    json_t *old = agent_status_read(ag);
    if (old) {
        const char *dev = json_string_value(json_object_get(old, "deviceId"));
        bool same = (!dev && !ag->st.device_id) || (dev && ag->st.device_id && !strcmp(dev, ag->st.device_id));
        if (same)
            agent_threats_load(ag, json_object_get(old, "threats"));
        json_decref(old);
    }
    int rc = agent_broker_open(ag);
    if (rc)
        return rc;
    int64_t now = agent_mono_ms();
    ag->next_hb = now;
    ag->next_scan = now;
    ag->next_report = now;
    netprot_start(ag);
    webprot_start(ag); /* the DNS filter and block page, when rg_agent_set_dns asked for them */
    return 0;
}

void rg_agent_request_rescan(struct rg_agent *ag)
{
    netprot_request(ag);
    ag->rescan = true;
    ag->next_hb = agent_mono_ms();
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

int rg_agent_tick(struct rg_agent *ag, int *next_ms)
{
    int64_t now = agent_mono_ms();
    bool dirty = agent_refresh_identity(ag);
    bool active = state_activated(&ag->st);
    /* one blocking call to the server per turn at most (AGENT_LOOP_CALL_S): the heartbeat, then at the next turns
     * the configuration and the indicators it asked for, then a report; the local socket is served in between */
    bool called = active;
    if (active && now >= ag->next_hb) {
        int rc = agent_heartbeat(ag);
        int64_t iv = (int64_t)ag->hb_interval_s * 1000;
        ag->next_hb = agent_mono_ms() + (rc ? min64(iv, 15000) : iv); /* from the call's end: a timed-out call
                                                                          * is not retried at once */
        if (ag->wait.sync_due && !ag->config_due && !ag->ind_due && !ag->ind_more) /* a change announced: applied? */
            agent_wait_synced(ag, rc);
        dirty = true;
    } else if (active && ag->config_due) {
        ag->config_due = false;
        agent_fetch_config(ag); /* failures logged; retried at the next heartbeat */
        if (ag->wait.sync_due && !ag->ind_due && !ag->ind_more)
            agent_wait_synced(ag, 0);
        dirty = true;
    } else if (active && (ag->ind_due || ag->ind_more)) { /* an indicator sync, a slice at a time */
        ag->ind_due = false;
        int rc = agent_sync_indicators(ag);
        if (ag->wait.sync_due && !ag->ind_more)
            agent_wait_synced(ag, rc);
        dirty = !ag->ind_more;
    } else {
        called = false;
    }
    if (ag->rescan || now >= ag->next_scan) {
        ag->rescan = false;
        agent_scan_pass(ag);
        ag->next_scan = agent_mono_ms() + (int64_t)ag->scan_interval_s * 1000;
        dirty = true;
    }
    if (netprot_tick(ag, now)) /* network protection: its detections are reported just below */
        dirty = true;
    if (!called && active && !ag->refused && agent_threats_pending(ag) && now >= ag->next_report) {
        int rc = agent_report(ag);
        /* the server refusing the batch itself will not change soon: retry slowly. The report is a blocking
         * HTTP call on the loop that also serves DNS: never more than one per AGENT_REPORT_GAP_MS. */
        if (rc)
            ag->next_report = now + (rc == RG_AGENT_ESERVER ? 12 * AGENT_RETRY_MS : AGENT_RETRY_MS);
        else
            ag->next_report = agent_mono_ms() + AGENT_REPORT_GAP_MS;
        dirty = true;
    }
    now = agent_mono_ms();
    /* live updates: re-arm the long-poll (after the heartbeat it may have asked for), drive curl's timer */
    agent_wait_tick(ag, now);
    webprot_tick(ag, now);
    if (ag->wait.dirty) {
        ag->wait.dirty = false;
        dirty = true;
    }
    if (dirty || now >= ag->next_status) {
        agent_status_write(ag);
        ag->next_status = now + 10000;
    }
    int64_t next = min64(ag->next_scan, ag->next_status);
    if (active)
        next = min64(next, ag->next_hb);
    if (active && !ag->refused && agent_threats_pending(ag))
        next = min64(next, ag->next_report);
    next = min64(next, agent_wait_next(ag));
    next = min64(next, netprot_next(ag));
    next = min64(next, webprot_next(ag));
    next = min64(next, agent_broker_expire(ag, now)); /* local-socket clients that sent no line in time */
    if (active && (ag->config_due || ag->ind_due || ag->ind_more))
        next = now;
    int64_t wait = next - now;
    if (next_ms)
        *next_ms = (int)(wait < 0 ? 0 : wait > 60000 ? 60000 : wait);
    return 0;
}

int rg_agent_pollfds(struct rg_agent *ag, struct pollfd *fds, int max)
{
    int n = agent_broker_pollfds(ag, fds, max);
    n += agent_wait_pollfds(ag, fds + n, max - n);
    return n + webprot_pollfds(ag, fds + n, max - n);
}

void rg_agent_process(struct rg_agent *ag, const struct pollfd *fds, int n)
{
    agent_broker_process(ag, fds, n);
    agent_wait_process(ag, fds, n);
    webprot_process(ag, fds, n);
}

int rg_agent_set_dns(struct rg_agent *ag, const struct rg_agent_dns *dns)
{
    ag->err[0] = '\0';
    return webprot_configure(ag, dns);
}

int rg_agent_sync(struct rg_agent *ag)
{
    ag->err[0] = '\0';
    reload_state(ag, true);
    if (!state_activated(&ag->st))
        return agent_fail(ag, RG_AGENT_ENOTACTIVE, "the agent is not activated");
    int rc = agent_heartbeat(ag); /* syncs the indicators too when their version moved */
    if (!rc && ag->wanted_ind >= 0 && ag->wanted_ind != ag->ind_version)
        rc = ag->last_error[0] ? RG_AGENT_ESERVER : RG_AGENT_OK; /* the sync inside failed */
    if (rc)
        return agent_fail(ag, rc, "%s", ag->last_error);
    return 0;
}

int rg_agent_check_url(struct rg_agent *ag, const char *url, int *action, char **json)
{
    ag->err[0] = '\0';
    if (json)
        *json = NULL;
    json_t *o = agent_check_url_json(ag, url, action);
    if (!o)
        return agent_fail(ag, RG_AGENT_EINVAL, "not a URL, host name or IP address: %s", url ? url : "");
    if (json && !(*json = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
        json_decref(o);
        return RG_AGENT_ENOMEM;
    }
    json_decref(o);
    return 0;
}

int rg_agent_status_json(struct rg_agent *ag, char **out)
{
    reload_state(ag, false);
    json_t *o = agent_status_build(ag);
    *out = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return *out ? 0 : RG_AGENT_ENOMEM;
}

int rg_agent_ask(struct rg_agent *ag, const char *request, char **answer)
{
    ag->err[0] = '\0';
    int rc = agent_broker_ask(ag->sock_path, request, 10000, answer);
    if (rc == RG_AGENT_ENODAEMON)
        return agent_fail(ag, rc, "no riskgate-agent daemon answers on %s", ag->sock_path);
    if (rc)
        return agent_fail(ag, rc, "the daemon on %s did not answer", ag->sock_path);
    return 0;
}
