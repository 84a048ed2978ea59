/*
 * sdk.c: the handle of libriskgate: options, the cached registration, the
 * check-in (online, or offline from the ticket), applying an answer, the
 * wipe, and the public getters. The live connection is live.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/util.h"
#include "sdk/sdk.h"

#define CHECKIN_DEFAULT_S 1800
#define CHECKIN_MIN_S 30
#define CHECKIN_MAX_S 86400
#define RETRY_MIN_MS 5000
#define RETRY_MAX_MS (5 * 60 * 1000)

/* ---- status and errors ---- */

int sdk_status(int rc)
{
    switch (rc) {
    case 0:
        return RG_SDK_OK;
    case RG_ENOMEM:
        return RG_SDK_ENOMEM;
    case RG_EINVAL:
        return RG_SDK_EINVAL;
    case RG_EIO:
        return RG_SDK_EIO;
    case RG_EAUTH:
        return RG_SDK_EAUTH;
    case RG_ENOTFOUND:
        return RG_SDK_ENOTFOUND;
    case APPCFG_ETYPE:
        return RG_SDK_ETYPE;
    case SDK_EUNREACHABLE:
        return RG_SDK_EUNREACHABLE;
    case SDK_EBADTICKET:
        return RG_SDK_EBADTICKET;
    case SDK_EKEYMISMATCH:
        return RG_SDK_EKEYMISMATCH;
    default:
        return RG_SDK_ESERVER;
    }
}

const char *rg_strerror(int status)
{
    switch ((rg_status)status) {
    case RG_SDK_OK:
        return "success";
    case RG_SDK_ENOMEM:
        return "out of memory";
    case RG_SDK_EINVAL:
        return "invalid argument";
    case RG_SDK_EIO:
        return "storage folder I/O failed";
    case RG_SDK_EUNREACHABLE:
        return "the server could not be reached";
    case RG_SDK_EAUTH:
        return "wrong user or password, or registration revoked";
    case RG_SDK_ESERVER:
        return "unexpected answer from the server";
    case RG_SDK_EBADTICKET:
        return "the ticket's signature does not verify";
    case RG_SDK_EKEYMISMATCH:
        return "the server key is not the pinned one";
    case RG_SDK_ENOTCONFIGURED:
        return "not configured";
    case RG_SDK_ENOTSIGNEDIN:
        return "not signed in";
    case RG_SDK_ENOTFOUND:
        return "no such key";
    case RG_SDK_ETYPE:
        return "no value of that type";
    case RG_SDK_EBUSY:
        return "not allowed from a callback";
    }
    return "unknown status";
}

void sdk_seterr(struct rg *rg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rg->err, sizeof rg->err, fmt, ap);
    va_end(ap);
}

const char *rg_errmsg(const struct rg *rg)
{
    return rg ? rg->err : "no handle";
}

int64_t sdk_mono_ms(void)
{
    return (int64_t)(util_mono_ns() / 1000000);
}

/* ---- handle ---- */

int rg_new(struct rg **out)
{
    if (!out)
        return RG_SDK_EINVAL;
    struct rg *rg = calloc(1, sizeof *rg);
    if (!rg)
        return RG_SDK_ENOMEM;
    decision_release(&rg->dec);
    live_init(rg);
    *out = rg;
    return RG_SDK_OK;
}

static void free_options(struct rg *rg)
{
    char **f[] = {&rg->server_url, &rg->opt_key,    &rg->storage_dir,  &rg->app_id,      &rg->platform,
                  &rg->app_version, &rg->os_version, &rg->patch_level, &rg->model,       &rg->manufacturer,
                  &rg->device_name, &rg->agent_socket};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        free(*f[i]);
        *f[i] = NULL;
    }
}

static void drop_registration(struct rg *rg)
{
    if (rg->reg) {
        json_t *tok = json_object_get(rg->reg, "token");
        if (json_is_string(tok) && json_string_length(tok)) /* wipe the token from memory */
            OPENSSL_cleanse((void *)json_string_value(tok), json_string_length(tok));
    }
    json_decref(rg->reg);
    rg->reg = NULL;
    json_decref(rg->checkin);
    rg->checkin = NULL;
    memset(&rg->ticket, 0, sizeof rg->ticket);
    rg->have_ticket = false;
    rg->online = false;
}

void rg_free(struct rg *rg)
{
    if (!rg)
        return;
    live_free(rg);
    drop_registration(rg);
    decision_release(&rg->dec);
    free_options(rg);
    free(rg);
}

const char *sdk_token(const struct rg *rg)
{
    return json_string_value(json_object_get(rg->reg, "token"));
}

const char *sdk_server(const struct rg *rg)
{
    if (rg->server_url)
        return rg->server_url;
    return json_string_value(json_object_get(rg->reg, "server"));
}

static const char *pinned_key(const struct rg *rg)
{
    const char *k = json_string_value(json_object_get(rg->reg, "serverKey"));
    return k ? k : rg->opt_key;
}

static int dup_opt(char **dst, const char *s)
{
    if (!s)
        return 0;
    *dst = strdup(s);
    return *dst ? 0 : RG_ENOMEM;
}

static bool valid_key(const char *b64)
{
    unsigned char *k;
    size_t n;
    if (ticket_b64_decode(b64, &k, &n))
        return false;
    free(k);
    return n == 32;
}

static bool valid_url(const char *u)
{
    return u && (!strncmp(u, "http://", 7) || !strncmp(u, "https://", 8)) && strlen(u) > 8;
}

void sdk_notify(struct rg *rg)
{
    if (!rg->dec_fn)
        return;
    rg->in_callback++;
    rg->dec_fn(rg->dec_ud, &rg->dec);
    rg->in_callback--;
}

void sdk_forget(struct rg *rg, bool keep_decision)
{
    live_cancel(rg);
    drop_registration(rg);
    if (rg->storage_dir) {
        cache_remove(rg->storage_dir, CACHE_CHECKIN);
        cache_remove(rg->storage_dir, CACHE_REGISTRATION);
    }
    if (!keep_decision)
        decision_local(&rg->dec, RG_ACTION_SIGN_IN, "signInRequired");
}

/* The decision from the cache alone, without side effects (no wipe runs): what rg_decision shows before a check. */
static void decision_from_cache(struct rg *rg)
{
    if (!rg->reg) {
        decision_local(&rg->dec, RG_ACTION_SIGN_IN, "signInRequired");
        return;
    }
    bool changed;
    rg->in_callback++; /* no wipe callback from here: sdk_offline sees in_callback and defers it */
    sdk_offline(rg, &changed);
    rg->in_callback--;
}

int rg_configure(struct rg *rg, const struct rg_options *o)
{
    if (!rg || !o)
        return RG_SDK_EINVAL;
    if (rg->in_callback)
        return RG_SDK_EBUSY;
    if (!o->storage_dir || !*o->storage_dir || !o->app_id || !*o->app_id || !o->platform ||
        (strcmp(o->platform, "android") && strcmp(o->platform, "ios"))) {
        sdk_seterr(rg, "storage_dir, app_id and platform (\"android\" or \"ios\") are required");
        return RG_SDK_EINVAL;
    }
    if (o->server_url && !valid_url(o->server_url)) {
        sdk_seterr(rg, "server_url: not an http:// or https:// URL");
        return RG_SDK_EINVAL;
    }
    if (o->server_key && !valid_key(o->server_key)) {
        sdk_seterr(rg, "server_key: not the base64 of a 32-byte Ed25519 public key");
        return RG_SDK_EINVAL;
    }
    if (!o->server_key && !o->trust_on_first_use) {
        sdk_seterr(rg, "server_key is required: build in the server's key (GET /app/v1/serverKey, or riskgated "
                       "server-key), or set trust_on_first_use to pin the key the first sign-in returns");
        return RG_SDK_EINVAL;
    }
    live_cancel(rg);
    drop_registration(rg);
    free_options(rg);
    rg->configured = false;
    rg->hello_known = false;
    int rc = 0;
    rc = rc ? rc : dup_opt(&rg->server_url, o->server_url);
    rc = rc ? rc : dup_opt(&rg->opt_key, o->server_key);
    rc = rc ? rc : dup_opt(&rg->storage_dir, o->storage_dir);
    rc = rc ? rc : dup_opt(&rg->app_id, o->app_id);
    rc = rc ? rc : dup_opt(&rg->platform, o->platform);
    rc = rc ? rc : dup_opt(&rg->app_version, o->app_version);
    rc = rc ? rc : dup_opt(&rg->os_version, o->os_version);
    rc = rc ? rc : dup_opt(&rg->patch_level, o->patch_level);
    rc = rc ? rc : dup_opt(&rg->model, o->model);
    rc = rc ? rc : dup_opt(&rg->manufacturer, o->manufacturer);
    rc = rc ? rc : dup_opt(&rg->device_name, o->device_name);
    rg->rooted = o->rooted != 0;
    if (!rc) {
        if (o->agent_socket) {
            rc = dup_opt(&rg->agent_socket, o->agent_socket);
        } else {
            const char *st = getenv("RISKGATE_AGENT_STATE");
            struct buf p = BUF_INIT(4096);
            rc = buf_printf(&p, "%s/agent.sock", st && *st ? st : "./var/agent");
            rg->agent_socket = rc ? NULL : buf_detach(&p);
            buf_release(&p);
        }
    }
    if (rc) {
        sdk_seterr(rg, "out of memory");
        return RG_SDK_ENOMEM;
    }
    if (cache_dir_ensure(rg->storage_dir)) {
        sdk_seterr(rg, "%s: cannot create or use the storage folder", rg->storage_dir);
        return RG_SDK_EIO;
    }
    json_t *reg = NULL;
    rc = cache_read(rg->storage_dir, CACHE_REGISTRATION, &reg);
    if (rc == RG_EIO) {
        sdk_seterr(rg, "%s/%s: cannot read it", rg->storage_dir, CACHE_REGISTRATION);
        return RG_SDK_EIO;
    }
    if (reg) {
        const char *app = json_string_value(json_object_get(reg, "appId"));
        const char *key = json_string_value(json_object_get(reg, "serverKey"));
        if (!json_string_value(json_object_get(reg, "token")) || !key || !valid_key(key) || !app || strcmp(app, rg->app_id)) {
            json_decref(reg); /* another app's or a broken registration: ignored, as if signed out */
            reg = NULL;
        } else if (rg->opt_key && strcmp(rg->opt_key, key)) {
            json_decref(reg);
            sdk_seterr(rg, "server_key differs from the key pinned at sign-in; sign out first to change servers");
            return RG_SDK_EKEYMISMATCH;
        }
    }
    rg->reg = reg;
    rg->configured = true;
    json_t *ck = NULL;
    if (reg && !cache_read(rg->storage_dir, CACHE_CHECKIN, &ck)) {
        const char *rid = json_string_value(json_object_get(reg, "registrationId"));
        /* a cached answer counts only with its verified ticket, and only as the ticket signed it */
        if (!ticket_verify_json(pinned_key(rg), json_object_get(ck, "ticket"), rid, rg->app_id, &rg->ticket) &&
            !ticket_check_answer(&rg->ticket, ck)) {
            rg->checkin = ck;
            rg->have_ticket = true;
        } else {
            memset(&rg->ticket, 0, sizeof rg->ticket);
            json_decref(ck);
        }
    }
    rg->next_checkin = util_now_ms();
    decision_from_cache(rg);
    rg->err[0] = '\0';
    return RG_SDK_OK;
}

int rg_is_signed_in(const struct rg *rg)
{
    return rg && rg->reg != NULL;
}

void rg_set_pin_failures(struct rg *rg, int failures)
{
    if (rg)
        rg->pin_failures = failures < 0 ? 0 : failures;
}

void rg_set_wipe_callback(struct rg *rg, rg_wipe_fn fn, void *ud)
{
    if (rg) {
        rg->wipe_fn = fn;
        rg->wipe_ud = ud;
    }
}

void rg_set_decision_callback(struct rg *rg, rg_decision_fn fn, void *ud)
{
    if (rg) {
        rg->dec_fn = fn;
        rg->dec_ud = ud;
    }
}

const struct rg_decision *rg_decision(const struct rg *rg)
{
    return rg && rg->configured ? &rg->dec : NULL;
}

/* ---- requests ---- */

/* The app facts of register and check-in (appId and platform are fixed at registration: only sent then). */
static json_t *app_facts(struct rg *rg, const struct agent_hello *h, bool registering)
{
    json_t *a = json_object();
    if (registering) {
        json_object_set_new(a, "appId", json_string(rg->app_id));
        json_object_set_new(a, "platform", json_string(rg->platform));
    }
    json_object_set_new(a, "sdkVersion", json_string(RG_SDK_VERSION));
    const struct {
        const char *k, *v;
    } f[] = {{"appVersion", rg->app_version}, {"osVersion", rg->os_version}, {"patchLevel", rg->patch_level},
             {"model", rg->model},            {"manufacturer", rg->manufacturer}, {"deviceName", rg->device_name}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].v)
            json_object_set_new(a, f[i].k, json_string(f[i].v));
    json_object_set_new(a, "rooted", json_boolean(rg->rooted));
    json_object_set_new(a, "agentInstalled", json_boolean(h->installed));
    if (h->device_id[0])
        json_object_set_new(a, "deviceId", json_string(h->device_id));
    return a;
}

static int call(struct rg *rg, const char *token, const char *method, const char *path, const json_t *body,
                struct httpc_answer *a);

/*
 * The device claim of a register or check-in (docs/app-api.md "Device
 * proof"): the agent's device id, with a proof when the registration does not
 * hold that device yet (or force): a server nonce the agent signs with its
 * device key. A device that cannot be proved is not claimed (deviceId null):
 * the server would refuse it.
 */
static void claim_device(struct rg *rg, const struct agent_hello *h, json_t *facts, bool force)
{
    if (!h->device_id[0])
        return;
    const char *held = rg->reg ? json_string_value(json_object_get(rg->reg, "deviceId")) : NULL;
    if (!force && held && !strcmp(held, h->device_id)) {
        json_object_set_new(facts, "deviceId", json_string(h->device_id));
        return;
    }
    struct httpc_answer a = HTTPC_ANSWER_INIT;
    char *sig = NULL;
    const char *nonce = NULL;
    if (!call(rg, NULL, "GET", "/app/v1/deviceNonce", NULL, &a) &&
        (nonce = json_string_value(json_object_get(a.json, "nonce"))) &&
        !agentlink_prove(rg->agent_socket, nonce, h->device_id, &sig)) {
        json_object_set_new(facts, "deviceId", json_string(h->device_id));
        json_object_set_new(facts, "deviceProof", json_pack("{s:s,s:s}", "nonce", nonce, "signature", sig));
    } else {
        json_object_set_new(facts, "deviceId", json_null());
    }
    free(sig);
    httpc_answer_release(&a);
}

/* After the server took facts: the registration holds the device they claimed (cached); 0 or RG_EIO. */
static int remember_device(struct rg *rg, const json_t *facts)
{
    const json_t *d = json_object_get(facts, "deviceId");
    if (!rg->reg || !d)
        return 0;
    const json_t *had = json_object_get(rg->reg, "deviceId");
    if (had ? json_equal(had, d) : json_is_null(d))
        return 0;
    if (json_is_string(d))
        json_object_set(rg->reg, "deviceId", (json_t *)d);
    else
        json_object_del(rg->reg, "deviceId");
    return cache_write(rg->storage_dir, CACHE_REGISTRATION, rg->reg) ? RG_EIO : 0;
}

/* True if a 403 says the server wants a device proof the request did not carry. */
static bool wants_proof(const struct httpc_answer *a)
{
    const char *code = json_string_value(json_object_get(json_object_get(a->json, "error"), "code"));
    return a->status == 403 && code && !strcmp(code, "DeviceProofRequired");
}

/* Maps an HTTP client result to an internal SDK code. */
static int http_rc(int rc)
{
    switch (rc) {
    case 0:
        return 0;
    case RG_EIO:
        return SDK_EUNREACHABLE;
    case RG_EAUTH:
    case RG_ENOMEM:
        return rc;
    default:
        return SDK_ESERVER;
    }
}

static int call(struct rg *rg, const char *token, const char *method, const char *path, const json_t *body,
                struct httpc_answer *a)
{
    const char *server = sdk_server(rg);
    if (!server) {
        sdk_seterr(rg, "no server URL: set options.server_url");
        return RG_EINVAL;
    }
    struct httpc_client hc;
    int rc = httpc_init(&hc, server, token, "libriskgate/" RG_SDK_VERSION);
    if (rc) {
        sdk_seterr(rg, "%s", rc == RG_ENOMEM ? "out of memory" : "server_url: not a usable URL");
        return rc;
    }
    rc = http_rc(httpc_call(&hc, method, path, body, a));
    httpc_release(&hc);
    if (rc)
        sdk_seterr(rg, "%s", a->error[0] ? a->error : rg_err_name(rc));
    return rc;
}

/* Percent-encodes s (RFC 3986 unreserved characters kept) onto b. */
static int append_escaped(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                     c == '.' || c == '_' || c == '~';
        char e[3] = {'%', hex[c >> 4], hex[c & 15]};
        int rc = plain ? buf_append(b, s, 1) : buf_append(b, e, 3);
        if (rc)
            return rc;
    }
    return 0;
}

/* POST /app/v1/wipe/{id}/confirm. */
static int confirm_wipe(struct rg *rg, const char *id, bool ok, const char *why)
{
    struct buf path = BUF_INIT(1024);
    if (buf_puts(&path, "/app/v1/wipe/") || append_escaped(&path, id) || buf_puts(&path, "/confirm")) {
        buf_release(&path);
        return RG_ENOMEM;
    }
    json_t *body = json_pack("{s:s}", "status", ok ? "successful" : "failed");
    if (why && *why)
        json_object_set_new(body, "message", json_string(why));
    struct httpc_answer a = HTTPC_ANSWER_INIT;
    int rc = call(rg, sdk_token(rg), "POST", buf_str(&path), body, &a);
    httpc_answer_release(&a);
    json_decref(body);
    buf_release(&path);
    return rc;
}

/*
 * Runs the app's wipe callback; with a wipe request id, confirms the outcome
 * to the server. Success (and a delivered confirmation): the registration
 * and cache are forgotten, the decision is "Wipe Alert". A failed callback:
 * "failed" is confirmed and the decision blocks. A confirmation that did not
 * reach the server keeps the registration: the server delivers the pending
 * wipe again at the next check-in and the (idempotent) wipe runs again.
 */
static int run_wipe(struct rg *rg, const char *id, const char *reason)
{
    char why[512] = "";
    int cb = -1;
    if (rg->wipe_fn) {
        rg->in_callback++;
        cb = rg->wipe_fn(rg->wipe_ud, why, sizeof why);
        rg->in_callback--;
        why[sizeof why - 1] = '\0';
    } else {
        snprintf(why, sizeof why, "the app has no wipe callback");
    }
    int rc = 0;
    if (id)
        rc = confirm_wipe(rg, id, cb == 0, cb == 0 ? NULL : (why[0] ? why : "the app could not delete its data"));
    if (cb != 0) {
        rg->wipe_failed = true;
        decision_local(&rg->dec, RG_ACTION_BLOCK, "wipeFailed");
        return 0;
    }
    decision_local(&rg->dec, RG_ACTION_WIPE, reason);
    if (rc == 0)
        sdk_forget(rg, true);
    return 0;
}

/* nextCheckInSeconds, bounded. */
static int64_t next_in_ms(const json_t *answer)
{
    const json_t *v = json_object_get(answer, "nextCheckInSeconds");
    json_int_t s = json_is_integer(v) ? json_integer_value(v) : CHECKIN_DEFAULT_S;
    if (s < CHECKIN_MIN_S)
        s = CHECKIN_MIN_S;
    if (s > CHECKIN_MAX_S)
        s = CHECKIN_MAX_S;
    return (int64_t)s * 1000;
}

int sdk_apply_checkin(struct rg *rg, const json_t *answer, bool *changed)
{
    *changed = false;
    if (!rg->reg)
        return RG_EINVAL;
    const char *rid = json_string_value(json_object_get(rg->reg, "registrationId"));
    struct ticket t;
    int rc = ticket_verify_json(pinned_key(rg), json_object_get(answer, "ticket"), rid, rg->app_id, &t);
    if (rc == RG_ENOMEM)
        return rc;
    if (rc) {
        sdk_seterr(rg, "the check-in's ticket does not verify against the pinned server key");
        return SDK_EBADTICKET;
    }
    struct rg_decision nd;
    memset(&nd, 0, sizeof nd);
    rc = decision_from_checkin(&nd, answer, &t);
    if (rc) {
        sdk_seterr(rg, "the check-in has no valid decision");
        return rc == RG_ENOMEM ? rc : SDK_ESERVER;
    }
    /* the ticket signs the action, and the decision, settings, configuration and wipe by their digest */
    rc = nd.action != t.action ? RG_EAUTH : ticket_check_answer(&t, answer);
    if (rc) {
        decision_release(&nd);
        if (rc == RG_ENOMEM)
            return rc;
        sdk_seterr(rg, "the check-in's decision, settings or configuration do not match its signed ticket");
        return SDK_EBADTICKET;
    }
    json_t *copy = json_deep_copy(answer);
    if (!copy) {
        decision_release(&nd);
        return RG_ENOMEM;
    }
    const char *oldv = json_string_value(json_object_get(rg->checkin, "decisionVersion"));
    const char *newv = json_string_value(json_object_get(answer, "decisionVersion"));
    *changed = !decision_same(&rg->dec, &nd) || !oldv || !newv || strcmp(oldv, newv);
    decision_release(&rg->dec);
    rg->dec = nd;
    json_decref(rg->checkin);
    rg->checkin = copy;
    rg->ticket = t;
    rg->have_ticket = true;
    rg->online = true;
    rg->wipe_failed = false;
    rg->checkin_backoff_ms = 0;
    int64_t now = util_now_ms();
    rg->next_checkin = now + next_in_ms(answer);
    if (t.offline_until > now && rg->next_checkin > t.offline_until)
        rg->next_checkin = t.offline_until; /* renew the ticket before it runs out */
    if (cache_write(rg->storage_dir, CACHE_CHECKIN, copy))
        sdk_seterr(rg, "%s/%s: cannot write the cache", rg->storage_dir, CACHE_CHECKIN);
    const json_t *w = json_object_get(answer, "wipe");
    const char *wid = json_string_value(json_object_get(w, "id"));
    if (wid || t.action == RG_ACTION_WIPE) {
        *changed = true;
        return run_wipe(rg, wid, "wipe");
    }
    return 0;
}

void sdk_offline(struct rg *rg, bool *changed)
{
    *changed = false;
    struct rg_decision nd;
    memset(&nd, 0, sizeof nd);
    if (!rg->reg) {
        decision_local(&nd, RG_ACTION_SIGN_IN, "signInRequired");
    } else {
        struct offline_verdict v = offline_decide(rg->have_ticket ? &rg->ticket : NULL, util_now_ms());
        /*
         * A ticket opens data offline only on the device it was issued to: the
         * agent here must say it is that device (a ticket with the storage
         * copied to another device, or with the agent stopped, does not).
         */
        if ((v.action == RG_ACTION_ALLOW || v.action == RG_ACTION_WARN) && rg->ticket.device_id[0]) {
            if (!rg->hello_known) {
                agentlink_hello(rg->agent_socket, &rg->hello);
                rg->hello_known = true;
            }
            if (strcmp(rg->hello.device_id, rg->ticket.device_id)) {
                v.action = RG_ACTION_CONNECT;
                v.reason = "deviceNotConfirmed";
            }
        }
        if (v.action == RG_ACTION_WIPE) {
            if (rg->in_callback || rg->wipe_failed) { /* deferred, or already failed: no loop of callbacks */
                decision_local(&nd, rg->wipe_failed ? RG_ACTION_BLOCK : RG_ACTION_WIPE,
                               rg->wipe_failed ? "wipeFailed" : v.reason);
            } else {
                run_wipe(rg, NULL, v.reason);
                *changed = true;
                return;
            }
        } else if ((v.action == RG_ACTION_ALLOW || v.action == RG_ACTION_WARN || v.action == RG_ACTION_BLOCK) &&
                   rg->checkin &&
                   ticket_action_parse(json_string_value(
                       json_object_get(json_object_get(rg->checkin, "decision"), "action"))) == (int)v.action) {
            decision_from_checkin(&nd, rg->checkin, &rg->ticket); /* the cached screen, with the signed action */
        } else {
            decision_local(&nd, v.action, v.reason);
        }
        nd.offline = true;
        if (rg->have_ticket) {
            nd.offline_until = rg->ticket.offline_until;
            nd.wipe_at = rg->ticket.wipe_at;
        }
    }
    if (!nd.title) { /* out of memory: keep the decision, but never leave access open offline */
        decision_release(&nd);
        decision_local(&nd, RG_ACTION_CONNECT, "offline");
    }
    *changed = !decision_same(&rg->dec, &nd);
    decision_release(&rg->dec);
    rg->dec = nd;
}

int sdk_checkin(struct rg *rg, bool *changed)
{
    *changed = false;
    if (!rg->reg) {
        sdk_offline(rg, changed);
        return RG_EINVAL;
    }
    struct agent_hello h;
    agentlink_hello(rg->agent_socket, &h);
    rg->hello = h;
    rg->hello_known = true;
    struct httpc_answer a = HTTPC_ANSWER_INIT;
    int rc = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        json_t *body = json_object(), *facts = app_facts(rg, &h, false);
        json_object_set_new(facts, "pinFailures", json_integer(rg->pin_failures)); /* riskgated reads it among the facts */
        /* the second time: the server did not hold the device this cache says it proved */
        claim_device(rg, &h, facts, attempt > 0);
        json_object_set_new(body, "app", facts);
        httpc_answer_release(&a);
        rc = call(rg, sdk_token(rg), "POST", "/app/v1/checkin", body, &a);
        if (!rc && remember_device(rg, facts))
            sdk_seterr(rg, "%s/%s: cannot write the registration", rg->storage_dir, CACHE_REGISTRATION);
        bool retry = rc && wants_proof(&a) && !json_object_get(facts, "deviceProof");
        json_decref(body);
        if (!retry)
            break;
    }
    if (!rc)
        rc = sdk_apply_checkin(rg, a.json, changed);
    httpc_answer_release(&a);
    if (rc == RG_EAUTH) { /* the registration was revoked or deleted */
        sdk_forget(rg, true);
        struct rg_decision old = rg->dec;
        memset(&rg->dec, 0, sizeof rg->dec);
        decision_local(&rg->dec, RG_ACTION_SIGN_IN, "registrationRevoked");
        *changed = !decision_same(&old, &rg->dec);
        decision_release(&old);
        return rc;
    }
    if (rc) {
        rg->online = false;
        rg->checkin_backoff_ms = rg->checkin_backoff_ms < RETRY_MIN_MS ? RETRY_MIN_MS
                                 : rg->checkin_backoff_ms >= RETRY_MAX_MS / 2 ? RETRY_MAX_MS
                                                                              : rg->checkin_backoff_ms * 2;
        rg->next_checkin = util_now_ms() + rg->checkin_backoff_ms;
        char keep[sizeof rg->err];
        memcpy(keep, rg->err, sizeof keep);
        sdk_offline(rg, changed);
        memcpy(rg->err, keep, sizeof keep);
    }
    return rc;
}

static int check(struct rg *rg, const struct rg_decision **out)
{
    if (!rg)
        return RG_SDK_EINVAL;
    if (rg->in_callback)
        return RG_SDK_EBUSY;
    if (!rg->configured) {
        sdk_seterr(rg, "call rg_configure first");
        return RG_SDK_ENOTCONFIGURED;
    }
    rg->err[0] = '\0';
    rg->wipe_failed = false; /* a launch or recheck tries a failed offline wipe again */
    bool changed;
    if (!rg->reg) {
        decision_local(&rg->dec, RG_ACTION_SIGN_IN, "signInRequired");
    } else {
        sdk_checkin(rg, &changed);
        live_cancel(rg); /* the next wait starts from the new decisionVersion */
    }
    if (out)
        *out = &rg->dec;
    return RG_SDK_OK;
}

int rg_launch_check(struct rg *rg, const struct rg_decision **out)
{
    return check(rg, out);
}

int rg_recheck(struct rg *rg, const struct rg_decision **out)
{
    return check(rg, out);
}

int rg_sign_in(struct rg *rg, const char *tenant, const char *user, const char *password,
               const struct rg_decision **out)
{
    if (!rg)
        return RG_SDK_EINVAL;
    if (rg->in_callback)
        return RG_SDK_EBUSY;
    if (!rg->configured) {
        sdk_seterr(rg, "call rg_configure first");
        return RG_SDK_ENOTCONFIGURED;
    }
    if (!user || !*user || !password) {
        sdk_seterr(rg, "user and password are required");
        return RG_SDK_EINVAL;
    }
    rg->err[0] = '\0';
    /* a key pinned earlier (or given in the options) must be the server's */
    char *old_key = NULL;
    const char *pk = pinned_key(rg);
    if (pk && !(old_key = strdup(pk)))
        return RG_SDK_ENOMEM;
    char *server = sdk_server(rg) ? strdup(sdk_server(rg)) : NULL;
    if (!server) {
        free(old_key);
        sdk_seterr(rg, "no server URL: set options.server_url");
        return RG_SDK_EINVAL;
    }
    struct agent_hello h;
    agentlink_hello(rg->agent_socket, &h);
    rg->hello = h;
    rg->hello_known = true;
    json_t *body = json_object(), *facts = app_facts(rg, &h, true);
    claim_device(rg, &h, facts, true);
    const char *claimed = json_string_value(json_object_get(facts, "deviceId"));
    json_object_set_new(body, "tenant", json_string(tenant && *tenant ? tenant : "default"));
    json_object_set_new(body, "userPrincipalName", json_string(user));
    json_object_set_new(body, "password", json_string(password));
    json_object_set_new(body, "app", facts);
    struct httpc_answer a = HTTPC_ANSWER_INIT;
    int rc = call(rg, NULL, "POST", "/app/v1/register", body, &a);
    json_t *pw = json_object_get(body, "password");
    if (json_string_length(pw))
        OPENSSL_cleanse((void *)json_string_value(pw), json_string_length(pw));
    char proved[TICKET_ID_LEN] = "";
    if (claimed)
        snprintf(proved, sizeof proved, "%s", claimed);
    json_decref(body);
    const char *rid = json_string_value(json_object_get(a.json, "registrationId"));
    const char *tok = json_string_value(json_object_get(a.json, "token"));
    const char *key = json_string_value(json_object_get(a.json, "serverKey"));
    if (!rc && (!rid || !tok || !key || !valid_key(key) || !json_is_object(json_object_get(a.json, "checkin")))) {
        sdk_seterr(rg, "the server's sign-in answer lacks registrationId, token, serverKey or checkin");
        rc = SDK_ESERVER;
    }
    if (!rc && old_key && strcmp(old_key, key)) {
        sdk_seterr(rg, "the server's key is not the pinned one");
        rc = SDK_EKEYMISMATCH;
    }
    if (rc == RG_EAUTH)
        sdk_seterr(rg, "wrong user or password");
    bool replaced = false;
    if (!rc) {
        live_cancel(rg);
        drop_registration(rg);
        replaced = true;
        rg->reg = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "registrationId", rid, "token", tok,
                            "serverKey", key, "server", server, "tenant", tenant && *tenant ? tenant : "default",
                            "user", user, "appId", rg->app_id, "platform", rg->platform);
        if (!rg->reg || (proved[0] && json_object_set_new(rg->reg, "deviceId", json_string(proved))))
            rc = RG_ENOMEM;
    }
    bool changed;
    if (!rc)
        rc = sdk_apply_checkin(rg, json_object_get(a.json, "checkin"), &changed);
    if (!rc && rg->reg && cache_write(rg->storage_dir, CACHE_REGISTRATION, rg->reg)) {
        sdk_seterr(rg, "%s/%s: cannot write the registration", rg->storage_dir, CACHE_REGISTRATION);
        rc = RG_EIO;
    }
    if (rc && replaced)
        sdk_forget(rg, false); /* a half-done sign-in leaves nothing behind */
    httpc_answer_release(&a);
    free(old_key);
    free(server);
    if (out)
        *out = &rg->dec;
    return sdk_status(rc);
}

int rg_sign_out(struct rg *rg)
{
    if (!rg)
        return RG_SDK_EINVAL;
    if (rg->in_callback)
        return RG_SDK_EBUSY;
    if (!rg->configured)
        return RG_SDK_ENOTCONFIGURED;
    sdk_forget(rg, false);
    return RG_SDK_OK;
}

/* ---- settings and app configuration ---- */

void rg_string_free(char *s)
{
    free(s);
}

int rg_settings_json(const struct rg *rg, char **out)
{
    if (!rg || !out)
        return RG_SDK_EINVAL;
    const json_t *s = json_object_get(rg->checkin, "settings");
    json_t *empty = json_is_object(s) ? NULL : json_object();
    *out = json_dumps(empty ? empty : s, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(empty);
    return *out ? RG_SDK_OK : RG_SDK_ENOMEM;
}

static const json_t *configs(const struct rg *rg)
{
    return json_object_get(rg->checkin, "appConfigurations");
}

size_t rg_appconfig_count(const struct rg *rg)
{
    return rg ? json_array_size(configs(rg)) : 0;
}

int rg_appconfig_json(const struct rg *rg, char **out)
{
    if (!rg || !out)
        return RG_SDK_EINVAL;
    json_t *full = appcfg_full(configs(rg));
    *out = full ? json_dumps(full, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(full);
    return *out ? RG_SDK_OK : RG_SDK_ENOMEM;
}

int rg_appconfig_get(const struct rg *rg, size_t i, const char *key, const char **value)
{
    if (!rg || !value)
        return RG_SDK_EINVAL;
    return sdk_status(appcfg_get(configs(rg), i, key, value));
}

int rg_appconfig_bool(const struct rg *rg, const char *key, rg_query q, int *out)
{
    if (!rg || !out)
        return RG_SDK_EINVAL;
    bool b;
    int rc = appcfg_bool(configs(rg), key, q, &b);
    if (!rc)
        *out = b;
    return sdk_status(rc);
}

int rg_appconfig_int(const struct rg *rg, const char *key, rg_query q, int64_t *out)
{
    if (!rg || !out)
        return RG_SDK_EINVAL;
    return sdk_status(appcfg_int(configs(rg), key, q, out));
}

int rg_appconfig_double(const struct rg *rg, const char *key, rg_query q, double *out)
{
    if (!rg || !out)
        return RG_SDK_EINVAL;
    return sdk_status(appcfg_double(configs(rg), key, q, out));
}

int rg_appconfig_string(const struct rg *rg, const char *key, rg_query q, char **out)
{
    if (!rg || !out)
        return RG_SDK_EINVAL;
    const char *v;
    int rc = appcfg_string(configs(rg), key, q, &v);
    if (!rc && !(*out = strdup(v)))
        rc = RG_ENOMEM;
    return sdk_status(rc);
}
