/*
 * device.c: the device-facing API of the agent (docs/device-api.md):
 * activation by password or one-time enrollment code, heartbeat,
 * configuration, detections, sign-out; the admin's enrollment codes and
 * partner keys; the partner API of third-party threat-defense partners.
 *
 * Device credentials, enrollment codes and partner keys are random tokens
 * stored as SHA-256 in the credentials table; a device credential reaches
 * only its own device document.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/password.h"
#include "server/api/signin.h"
#include "common/sign.h"
#include "server/api/api.h"
#include "server/ratelimit.h"
#include "server/appcache.h"
#include "server/notify.h"
#include "server/policy/effective.h"
#include "server/policy/tokens.h"
#include "server/threat/agentconfig.h"
#include "server/threat/threat.h"

#define HEARTBEAT_SECONDS 60
#define CRED_DEVICE "device"
#define CRED_ENROLL "enrollment"
#define CRED_PARTNER "partner"

struct device_auth {
    char tenant_id[UTIL_UUID_LEN + 1];
    char device_id[128];
    json_t *device; /* the stored document, owned */
};

/* Authenticates a credential of a kind; fills tenant and subject. On failure fills res (401). */
static int cred_auth(struct app *app, struct http_request *req, struct http_response *res, const char *kind,
                     const char *prefix, struct store_cred *out)
{
    const char *h = req->authorization;
    size_t plen = strlen(prefix);
    if (!h || strncasecmp(h, "Bearer ", 7) || strncmp(h + 7, prefix, plen)) {
        http_error(res, 401, "Unauthorized", "A %s credential is required: 'Authorization: Bearer %s...'.", kind,
                   prefix);
        return -1;
    }
    char hash[UTIL_SHA256_HEX_LEN + 1];
    util_sha256_hex(h + 7, strlen(h + 7), hash, sizeof hash);
    int rc = app->store->ops->cred_lookup(app->store, hash, kind, out);
    if (rc == RG_ENOTFOUND || (!rc && out->expires_ms && out->expires_ms < util_now_ms())) {
        http_error(res, 401, "Unauthorized", "The %s credential is not valid (revoked, expired or unknown).", kind);
        return -1;
    }
    if (rc) {
        api_fail(res, rc, "credential");
        return -1;
    }
    return 0;
}

static int device_auth(struct app *app, struct http_request *req, struct http_response *res, struct device_auth *out)
{
    struct store_cred c;
    if (cred_auth(app, req, res, CRED_DEVICE, "rgd_", &c))
        return -1;
    memcpy(out->tenant_id, c.tenant_id, sizeof out->tenant_id);
    snprintf(out->device_id, sizeof out->device_id, "%s", c.subject_id);
    json_t *user = NULL;
    int rc = app->store->ops->doc_get(app->store, c.tenant_id, THREAT_DEVICES, c.subject_id, &out->device);
    if (!rc)
        rc = app->store->ops->doc_get(app->store, c.tenant_id, "users",
                                      json_string_value(json_object_get(out->device, "userId")), &user);
    int ok = !rc && json_is_true(json_object_get(out->device, "activated")) &&
             json_is_true(json_object_get(user, "accountEnabled"));
    json_decref(user);
    if (!ok) {
        json_decref(out->device);
        out->device = NULL;
        if (rc && rc != RG_ENOTFOUND)
            api_fail(res, rc, "device");
        else
            http_error(res, 401, "Unauthorized",
                       "This device is signed out, offboarded, or its user is disabled; activate it again.");
        return -1;
    }
    snprintf(req->tenant, sizeof req->tenant, "%s", json_string_value(json_object_get(out->device, "tenant")));
    return 0;
}

/* The agent's configuration for a device, as GET /device/v1/config answers it. */
struct agent_cfg {
    json_t *settings; /* resolved seed keys (agentconfig.h) */
    json_t *sets;     /* every app configuration set targeting the agent for the user */
    json_t *ignored;  /* sets left out, with the reason */
    char version[32]; /* hash of the three: changes whenever any of them does */
};

static void agent_cfg_release(struct agent_cfg *c)
{
    json_decref(c->settings);
    json_decref(c->sets);
    json_decref(c->ignored);
    memset(c, 0, sizeof *c);
}

static int agent_config(struct app *app, const char *tenant_id, const json_t *device, json_t **settings,
                        json_t **sets, json_t **ignored, char *version, size_t vlen);

static int agent_cfg_load(struct app *app, const char *tenant_id, const json_t *device, struct agent_cfg *c)
{
    return agent_config(app, tenant_id, device, &c->settings, &c->sets, &c->ignored, c->version, sizeof c->version);
}

/* The agent's configuration for a device: the app configuration sets targeting the agent for its user. */
static int agent_config(struct app *app, const char *tenant_id, const json_t *device, json_t **settings,
                        json_t **sets, json_t **ignored, char *version, size_t vlen)
{
    const char *uid = json_string_value(json_object_get(device, "userId"));
    const char *platform = json_string_value(json_object_get(device, "platform"));
    json_t *groups = NULL, *all = NULL, *collected = json_array();
    /* the groups and policies from memory (appcache.h): this runs on every heartbeat and report */
    const struct appcache_tenant *snap = NULL;
    int rc = appcache_tenant(app->cache, app->store, tenant_id, &snap);
    if (!rc) {
        groups = json_object_get(snap->user_groups, uid ? uid : "");
        groups = groups ? json_incref(groups) : json_array();
        all = json_incref(snap->policies);
        if (!groups || !collected) /* not "in no group": that could be another configuration */
            rc = RG_ENOMEM;
    }
    size_t ng = json_array_size(groups);
    const char **gids = calloc(ng ? ng : 1, sizeof *gids);
    if (!gids)
        rc = RG_ENOMEM;
    for (size_t i = 0; i < ng && gids; i++)
        gids[i] = json_string_value(json_array_get(groups, i));
    static const char *const app_ids[] = {AGENTCONFIG_APP_DEFENDER, AGENTCONFIG_APP_RISKGATE};
    for (size_t a = 0; !rc && a < 2; a++) {
        struct effective_query q = {.user_id = uid, .group_ids = gids, .group_count = ng, .app_id = app_ids[a],
                                    .platform = platform && !strcmp(platform, "ios") ? EFFECTIVE_IOS
                                                                                     : EFFECTIVE_ANDROID,
                                    .management_level = "unmanaged"};
        json_t *eff = NULL;
        rc = effective_compute(&q, all, &eff);
        size_t i, j;
        json_t *set, *have;
        json_array_foreach(json_object_get(eff, "appConfigurations"), i, set) {
            int dup = 0;
            json_array_foreach(collected, j, have)
                dup |= json_equal(json_object_get(have, "id"), json_object_get(set, "id"));
            if (!dup)
                json_array_append(collected, set);
        }
        json_decref(eff);
    }
    free(gids);
    json_decref(groups);
    json_decref(all);
    /*
     * Admin-written values (DefenderDeviceTag, say) may hold Intune's tokens
     * (policy/tokens.h): substituted for the device's user before resolving,
     * so the settings and the version are this user's. The user is read only
     * when a value holds one; a user gone leaves the user's tokens empty.
     */
    if (!rc && tokens_in_configs(collected)) {
        json_t *user = NULL, *subst = NULL;
        if (uid)
            app->store->ops->doc_get(app->store, tenant_id, "users", uid, &user);
        struct tokens_ctx tctx = {
            .upn = json_string_value(json_object_get(user, "userPrincipalName")),
            .mail = json_string_value(json_object_get(user, "mail")),
            .display_name = json_string_value(json_object_get(user, "displayName")),
            .user_id = uid,
            .account_id = tenant_id,
            .device_id = json_string_value(json_object_get(device, "id")),
        };
        rc = tokens_apply(collected, &tctx, &subst);
        json_decref(user);
        if (!rc) {
            json_decref(collected);
            collected = subst;
        }
    }
    if (!rc)
        rc = agentconfig_resolve(collected, settings, ignored);
    if (rc) {
        json_decref(collected);
        return rc;
    }
    *sets = collected;
    json_t *whole = json_pack("{s:O,s:O,s:O}", "settings", *settings, "sets", collected, "ignored", *ignored);
    char *text = json_dumps(whole, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(whole);
    char h[UTIL_SHA256_HEX_LEN + 1];
    util_sha256_hex(text ? text : "", text ? strlen(text) : 0, h, sizeof h);
    free(text);
    snprintf(version, vlen, "%.16s", h);
    return 0;
}

static const char *opt_string(const json_t *o, const char *k, size_t max, struct http_response *res, int *bad)
{
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v) || json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v)) {
        http_error(res, 400, "BadRequest", "device.%s: a string of at most %zu characters is expected.", k, max);
        *bad = 1;
        return NULL;
    }
    return json_string_value(v);
}

/* Copies the device facts of a body into the device document; 400 on a bad one. */
static int apply_facts(json_t *doc, const json_t *facts, struct http_response *res)
{
    static const char *const fields[] = {"deviceName", "osVersion", "model", "manufacturer", "agentVersion",
                                         "patchLevel"};
    int bad = 0;
    if (facts && !json_is_object(facts)) {
        http_error(res, 400, "BadRequest", "device: an object of device facts is expected.");
        return -1;
    }
    const char *platform = opt_string(facts, "platform", 16, res, &bad);
    if (bad)
        return -1;
    if (platform) {
        if (strcmp(platform, "android") && strcmp(platform, "ios") && strcmp(platform, "linux")) {
            http_error(res, 400, "BadRequest", "device.platform: 'android', 'ios' or 'linux' is expected.");
            return -1;
        }
        json_object_set_new(doc, "platform", json_string(platform));
    }
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *v = opt_string(facts, fields[i], 256, res, &bad);
        if (bad)
            return -1;
        if (v)
            json_object_set_new(doc, fields[i], json_string(v));
    }
    const char *name = json_string_value(json_object_get(doc, "deviceName"));
    if (name)
        json_object_set_new(doc, "computerDnsName", json_string(name));
    json_t *rooted = json_object_get(facts, "rooted");
    if (rooted && !json_is_boolean(rooted)) {
        http_error(res, 400, "BadRequest", "device.rooted: true or false is expected.");
        return -1;
    }
    if (rooted)
        json_object_set(doc, "rooted", rooted);
    json_t *perms = json_object_get(facts, "permissions");
    if (perms) {
        const char *k;
        json_t *v;
        if (!json_is_object(perms) || json_object_size(perms) > 32) {
            http_error(res, 400, "BadRequest", "permissions: an object of at most 32 name: true|false pairs is expected.");
            return -1;
        }
        json_object_foreach(perms, k, v) {
            if (!json_is_boolean(v) || strlen(k) > 64) {
                http_error(res, 400, "BadRequest", "permissions.%.64s: true or false is expected.", k);
                return -1;
            }
        }
        json_object_set(doc, "permissions", perms);
    }
    return 0;
}

static const char activate_denied[] =
    "The sign-in was not accepted: check the organization, user name and password, or code.";
static void activate_signed_in(struct signin *s, struct http_response *res);
static void activate_finish(struct app *app, const char *tenant, const char *tid, json_t *body, json_t *user,
                            const char *code_hash, struct http_response *res);

void api_device_activate(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    json_t *body = NULL, *user = NULL;
    if (api_parse_body(req, res, &body))
        return;
    const char *tenant = json_string_value(json_object_get(body, "tenant"));
    const char *upn = json_string_value(json_object_get(body, "userPrincipalName"));
    const char *pw = json_string_value(json_object_get(body, "password"));
    const char *code = json_string_value(json_object_get(body, "enrollmentCode"));
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v) {
        if (strcmp(k, "tenant") && strcmp(k, "userPrincipalName") && strcmp(k, "password") &&
            strcmp(k, "enrollmentCode") && strcmp(k, "device") && strcmp(k, "devicePublicKey")) {
            http_error(res, 400, "BadRequest", "%s: unknown property of an activation.", k);
            goto out;
        }
    }
    if (!tenant) {
        http_error(res, 400, "BadRequest", "tenant: the organization's tenant name is required.");
        goto out;
    }
    if (!code && (!upn || !pw)) {
        http_error(res, 400, "BadRequest", "userPrincipalName: a user and password, or an enrollmentCode, is required.");
        goto out;
    }
    const json_t *dpk = json_object_get(body, "devicePublicKey");
    if (dpk && !sign_is_public_key(json_string_value(dpk))) {
        http_error(res, 400, "BadRequest", "devicePublicKey: the base64 of a 32-byte Ed25519 public key is expected.");
        goto out;
    }
    char tid[UTIL_UUID_LEN + 1], code_hash[UTIL_SHA256_HEX_LEN + 1] = "";
    int rc = app->store->ops->tenant_find(app->store, tenant, tid);
    if (code) {
        char addr_key[64];
        if (api_signin_admit_address(app, req, res, addr_key, sizeof addr_key))
            goto out;
        char hash[UTIL_SHA256_HEX_LEN + 1];
        util_sha256_hex(code, strlen(code), hash, sizeof hash);
        struct store_cred c;
        if (rc || app->store->ops->cred_lookup(app->store, hash, CRED_ENROLL, &c) || strcmp(c.tenant_id, tid) ||
            (c.expires_ms && c.expires_ms < util_now_ms()) ||
            app->store->ops->doc_get(app->store, tid, "users", c.subject_id, &user)) {
            http_error(res, 401, "Unauthorized", "%s", activate_denied);
            goto out;
        }
        snprintf(code_hash, sizeof code_hash, "%s", hash); /* consumed with the activation's writes */
        api_signin_refund_address(app, addr_key); /* a valid code: only failures count */
    } else {
        snprintf(req->tenant, sizeof req->tenant, "%s", tenant);
        /* rate limits, then scrypt on a worker; activate_signed_in runs back on the loop */
        api_signin_start(app, req, res, body, tenant, upn, pw, activate_signed_in);
        return;
    }
    snprintf(req->tenant, sizeof req->tenant, "%s", tenant);
    activate_finish(app, tenant, tid, body, user, code_hash, res);
out:
    json_decref(body);
    json_decref(user);
}

static void activate_signed_in(struct signin *s, struct http_response *res)
{
    if (!s->ok) {
        http_error(res, 401, "Unauthorized", "%s", activate_denied);
        return;
    }
    activate_finish(s->app, s->tenant, s->tid, s->body, s->user, "", res);
}

/* After the user is known to be who they say: the device, its credential and the answer. */
static void activate_finish(struct app *app, const char *tenant, const char *tid, json_t *body, json_t *user,
                            const char *code_hash, struct http_response *res)
{
    json_t *doc = NULL, *facts = json_object_get(body, "device");
    const char *denied = activate_denied;
    int rc;
    if (!json_is_true(json_object_get(user, "accountEnabled"))) {
        http_error(res, 403, "Forbidden", "accountEnabled: this account is disabled; contact your IT administrator.");
        goto out;
    }
    char id[UTIL_UUID_LEN + 1], ts[UTIL_TIME_LEN + 1];
    util_uuid(id, sizeof id);
    util_time_format(util_now_ms(), ts, sizeof ts);
    doc = json_pack("{s:s,s:s,s:O,s:O,s:s,s:b,s:s,s:s,s:[],s:s,s:s,s:n}", "id", id, "tenant", tenant, "userId",
                    json_object_get(user, "id"), "userPrincipalName", json_object_get(user, "userPrincipalName"),
                    "platform", "android", "activated", 1, "firstSeen", ts, "lastSeen", ts, "machineTags",
                    "threatLevel", "secured", "riskScore", "None", "threatLevelDateTime");
    json_object_set_new(doc, "threatLevelDateTime", json_string(ts));
    if (apply_facts(doc, facts, res))
        goto out;
    /* the agent's device key: what proves this device to the apps' registrations (docs/security.md) */
    if (json_is_string(json_object_get(body, "devicePublicKey")))
        json_object_set(doc, "devicePublicKey", json_object_get(body, "devicePublicKey"));
    char *cred = util_token("rgd_", 32);
    if (!cred) {
        api_fail(res, RG_EIO, "device credential");
        goto out;
    }
    char ch[UTIL_SHA256_HEX_LEN + 1];
    util_sha256_hex(cred, strlen(cred), ch, sizeof ch);
    struct store *s = app->store;
    rc = s->ops->begin(s);
    /* a one-time code is used up by the activation it allowed, or not at all */
    if (!rc && code_hash[0] && (rc = s->ops->cred_delete(s, code_hash)) == RG_ENOTFOUND) {
        s->ops->rollback(s);
        http_error(res, 401, "Unauthorized", "%s", denied);
        OPENSSL_cleanse(cred, strlen(cred));
        free(cred);
        goto out;
    }
    if (!rc)
        rc = s->ops->doc_insert(s, tid, THREAT_DEVICES, id, doc);
    if (!rc)
        rc = threat_facts(s, tid, doc);
    if (!rc)
        rc = s->ops->cred_create(s, ch, CRED_DEVICE, tid, id, 0);
    if (!rc)
        rc = s->ops->commit(s);
    else
        s->ops->rollback(s);
    if (rc) {
        api_fail(res, rc, "device");
    } else {
        json_t *o = json_pack("{s:s,s:s,s:s,s:O,s:i}", "deviceId", id, "credential", cred, "tenantId", tid, "userId",
                              json_object_get(user, "id"), "heartbeatIntervalSeconds", HEARTBEAT_SECONDS);
        api_send(res, 201, o);
        json_decref(o);
    }
    OPENSSL_cleanse(cred, strlen(cred));
    free(cred);
out:
    json_decref(doc);
}

/* Keeps the tag the configuration sets (DefenderDeviceTag) on the device; true if it changed. */
static int apply_config_tag(json_t *device, const json_t *settings)
{
    const char *want = json_string_value(json_object_get(settings, "DefenderDeviceTag"));
    const char *had = json_string_value(json_object_get(device, "configTag"));
    if ((!want || !*want) && !had)
        return 0;
    if (want && had && !strcmp(want, had))
        return 0;
    json_t *tags = json_object_get(device, "machineTags");
    size_t i;
    json_t *t;
    if (had) {
        json_array_foreach(tags, i, t) {
            if (!strcmp(json_string_value(t), had)) {
                json_array_remove(tags, i);
                break;
            }
        }
        json_object_del(device, "configTag");
    }
    if (want && *want) {
        int present = 0;
        json_array_foreach(tags, i, t)
            present |= !strcmp(json_string_value(t), want);
        if (!present)
            json_array_append_new(tags, json_string(want));
        json_object_set_new(device, "configTag", json_string(want));
    }
    return 1;
}

void api_device_heartbeat(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct device_auth da = {0};
    json_t *body = NULL;
    struct agent_cfg cfg = {0};
    if (device_auth(app, req, res, &da))
        return;
    if (req->body_len && api_parse_body(req, res, &body))
        goto out;
    if (body && apply_facts(da.device, body, res))
        goto out;
    char ts[UTIL_TIME_LEN + 1];
    int64_t now = util_now_ms();
    int rc = agent_cfg_load(app, da.tenant_id, da.device, &cfg);
    if (rc) {
        api_fail(res, rc, "configuration");
        goto out;
    }
    apply_config_tag(da.device, cfg.settings);
    util_time_format(now, ts, sizeof ts);
    json_object_set_new(da.device, "lastSeen", json_string(ts));
    struct store *s = app->store;
    rc = s->ops->begin(s);
    if (!rc)
        rc = s->ops->doc_update(s, da.tenant_id, THREAT_DEVICES, da.device_id, da.device);
    if (!rc)
        rc = threat_facts(s, da.tenant_id, da.device);
    if (!rc)
        rc = threat_partner_heartbeat(s, da.tenant_id, APP_BUILTIN_PARTNER_ID, now);
    if (!rc)
        rc = s->ops->commit(s);
    else
        s->ops->rollback(s);
    if (rc) {
        api_fail(res, rc, "device");
        goto out;
    }
    int64_t iv = 0;
    if ((rc = app->store->ops->ind_version(app->store, da.tenant_id, &iv))) {
        api_fail(res, rc, "indicators");
        goto out;
    }
    if (api_indicator_scope_changed(da.device))
        iv = 0; /* "start over": the device syncs, and the server answers a full set for its new scope */
    json_t *o = json_pack("{s:s,s:I,s:O,s:i,s:O}", "configVersion", cfg.version, "indicatorVersion", (json_int_t)iv, "threatLevel",
                          json_object_get(da.device, "threatLevel"), "heartbeatIntervalSeconds", HEARTBEAT_SECONDS,
                          "deviceTags", json_object_get(da.device, "machineTags"));
    api_send(res, 200, o);
    json_decref(o);
out:
    json_decref(da.device);
    json_decref(body);
    agent_cfg_release(&cfg);
}

void api_device_config(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct device_auth da = {0};
    struct agent_cfg cfg = {0};
    if (device_auth(app, req, res, &da))
        return;
    int rc = agent_cfg_load(app, da.tenant_id, da.device, &cfg);
    if (rc) {
        api_fail(res, rc, "configuration");
    } else {
        json_t *o = json_pack("{s:s,s:O,s:O,s:O}", "version", cfg.version, "settings", cfg.settings, "sets",
                              cfg.sets, "ignoredSets", cfg.ignored);
        api_send(res, 200, o);
        json_decref(o);
    }
    json_decref(da.device);
    agent_cfg_release(&cfg);
}

void api_device_detections(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct device_auth da = {0};
    json_t *body = NULL, *result = NULL;
    struct agent_cfg cfg = {0};
    if (device_auth(app, req, res, &da))
        return;
    /* per device, before the body is read: a stolen or broken agent cannot fill the tenant's alerts */
    int wait = app->device_limits ? ratelimit_take(app->device_limits, RATELIMIT_ADDRESS, da.device_id, util_now_ms()) : 0;
    if (wait) {
        http_error(res, 429, "TooManyRequests", "detections: too many reports from this device; retry in %d seconds.",
                   wait);
        res->retry_after = wait;
        goto out;
    }
    if (api_parse_body(req, res, &body))
        goto out;
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v) {
        if (strcmp(k, "detections")) {
            http_error(res, 400, "BadRequest", "%s: unknown property; send {\"detections\": [...]}.", k);
            goto out;
        }
    }
    char err[512] = "";
    int rc = agent_cfg_load(app, da.tenant_id, da.device, &cfg);
    struct store *s = app->store;
    if (!rc)
        rc = s->ops->begin(s);
    if (!rc) {
        rc = threat_report(s, da.tenant_id, da.device, json_object_get(body, "detections"), cfg.settings,
                           app->device_alert_limit, &result, err, sizeof err);
        if (!rc)
            rc = s->ops->commit(s);
        else
            s->ops->rollback(s);
    }
    if (rc == RG_EINVAL) {
        http_error(res, 400, "BadRequest", "%s", err);
    } else if (rc == RG_ETOOBIG) {
        http_error(res, 507, "quotaLimitReached", "%s", err); /* Graph's code for a full quota */
    } else if (rc) {
        api_fail(res, rc, "detections");
    } else {
        notify_device(app->notify, da.tenant_id, da.device_id, NOTIFY_THREAT);
        api_send(res, 200, result);
    }
out:
    json_decref(da.device);
    json_decref(body);
    agent_cfg_release(&cfg);
    json_decref(result);
}

void api_device_indicators(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct device_auth da = {0};
    json_t *out = NULL;
    if (device_auth(app, req, res, &da))
        return;
    char v[32];
    long long since = 0;
    int hv = http_query_get(req->query, "since", v, sizeof v);
    char *end = NULL;
    errno = 0;
    if (hv < 0 || (hv > 0 && ((since = strtoll(v, &end, 10)) < 0 || !v[0] || *end || errno))) {
        http_error(res, 400, "BadRequest", "since: the indicator version the device has (0 for all) is expected.");
    } else {
        int rc = api_indicator_sync(app, da.tenant_id, da.device, since, &out);
        if (rc)
            api_fail(res, rc, "indicators");
        else
            api_send(res, 200, out);
    }
    json_decref(out);
    json_decref(da.device);
}

void api_device_wait(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct device_auth da = {0};
    struct agent_cfg cfg = {0};
    if (device_auth(app, req, res, &da))
        return;
    char have_cfg[64] = "", have_ind[32] = "", secs[16] = "";
    long timeout = 50;
    char *end = NULL;
    if (http_query_get(req->query, "config", have_cfg, sizeof have_cfg) < 0 ||
        http_query_get(req->query, "indicators", have_ind, sizeof have_ind) < 0 ||
        http_query_get(req->query, "timeout", secs, sizeof secs) < 0 ||
        (secs[0] && ((timeout = strtol(secs, &end, 10)) < 1 || timeout > 300 || *end))) {
        http_error(res, 400, "BadRequest", "timeout: whole seconds from 1 to 300 are expected (config, indicators: "
                                           "the versions the device has).");
        goto out;
    }
    int64_t iv = 0;
    int rc = agent_cfg_load(app, da.tenant_id, da.device, &cfg);
    if (!rc)
        rc = app->store->ops->ind_version(app->store, da.tenant_id, &iv);
    if (rc) {
        api_fail(res, rc, "configuration");
        goto out;
    }
    char ivs[32];
    if (api_indicator_scope_changed(da.device))
        iv = 0; /* its tags changed: start over */
    snprintf(ivs, sizeof ivs, "%lld", (long long)iv);
    /* already behind: answer at once */
    if ((have_cfg[0] && strcmp(have_cfg, cfg.version)) || (have_ind[0] && strcmp(have_ind, ivs))) {
        json_t *o = json_pack("{s:b,s:s,s:s,s:I}", "changed", 1, "reason",
                              have_cfg[0] && strcmp(have_cfg, cfg.version) ? "config" : "indicators", "configVersion",
                              cfg.version, "indicatorVersion", (json_int_t)iv);
        api_send(res, 200, o);
        json_decref(o);
        goto out;
    }
    notify_wait(app->notify, req, res, da.tenant_id, da.device_id,
                NOTIFY_CONFIG | NOTIFY_INDICATORS | NOTIFY_DEVICE | NOTIFY_THREAT, (unsigned)timeout);
out:
    json_decref(da.device);
    agent_cfg_release(&cfg);
}

void api_device_signout(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct device_auth da = {0};
    struct agent_cfg cfg = {0};
    if (device_auth(app, req, res, &da))
        return;
    int rc = agent_cfg_load(app, da.tenant_id, da.device, &cfg);
    if (!rc && agentconfig_on(cfg.settings, "DisableSignOut")) {
        http_error(res, 403, "Forbidden", "DisableSignOut: your organization does not allow signing out of the agent.");
        goto out;
    }
    struct store *s = app->store;
    if (!rc)
        rc = s->ops->begin(s);
    if (!rc) {
        rc = threat_offboard(s, da.tenant_id, da.device);
        if (!rc)
            rc = s->ops->commit(s);
        else
            s->ops->rollback(s);
    }
    if (rc)
        api_fail(res, rc, "device");
    else
        res->status = 204;
out:
    json_decref(da.device);
    agent_cfg_release(&cfg);
}

void api_enrollment_create(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    json_t *body = NULL, *user = NULL;
    if (api_authenticate(app, req, res, API_WRITE, &auth) || api_parse_body(req, res, &body))
        return;
    const char *uid = json_string_value(json_object_get(body, "userId"));
    json_t *mins = json_object_get(body, "expiresInMinutes");
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v) {
        if (strcmp(k, "userId") && strcmp(k, "expiresInMinutes")) {
            http_error(res, 400, "BadRequest", "%s: unknown property of an enrollment code.", k);
            goto out;
        }
    }
    if (!uid || api_user_find(app, auth.tenant_id, uid, &user)) {
        http_error(res, 400, "BadRequest", "userId: an existing user's id or userPrincipalName is required.");
        goto out;
    }
    json_int_t m = 60;
    if (mins && (!json_is_integer(mins) || (m = json_integer_value(mins)) < 1 || m > 43200)) {
        http_error(res, 400, "BadRequest", "expiresInMinutes: an integer from 1 to 43200 (30 days) is expected.");
        goto out;
    }
    /* 15 characters from an unambiguous alphabet, grouped for reading aloud */
    static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"; /* 32 symbols: 5 bits each, no bias */
    unsigned char raw[15];
    char code[32];
    size_t o = 0;
    if (RAND_bytes(raw, sizeof raw) != 1) {
        api_fail(res, RG_EIO, "enrollment code");
        goto out;
    }
    for (size_t i = 0; i < sizeof raw; i++) {
        if (i && i % 5 == 0)
            code[o++] = '-';
        code[o++] = alphabet[raw[i] & 31];
    }
    code[o] = '\0';
    OPENSSL_cleanse(raw, sizeof raw);
    char hash[UTIL_SHA256_HEX_LEN + 1], ts[UTIL_TIME_LEN + 1];
    util_sha256_hex(code, strlen(code), hash, sizeof hash);
    int64_t exp = util_now_ms() + (int64_t)m * 60000;
    int rc = app->store->ops->cred_create(app->store, hash, CRED_ENROLL, auth.tenant_id,
                                          json_string_value(json_object_get(user, "id")), exp);
    if (rc) {
        api_fail(res, rc, "enrollment code");
        goto out;
    }
    util_time_format(exp, ts, sizeof ts);
    json_t *out = json_pack("{s:s,s:O,s:O,s:s}", "code", code, "userId", json_object_get(user, "id"),
                            "userPrincipalName", json_object_get(user, "userPrincipalName"), "expirationDateTime", ts);
    api_send(res, 201, out);
    json_decref(out);
    OPENSSL_cleanse(code, sizeof code);
out:
    json_decref(body);
    json_decref(user);
}

void api_partner_key_create(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    json_t *body = NULL, *conn = NULL;
    if (api_authenticate(app, req, res, API_WRITE, &auth) || api_parse_body(req, res, &body))
        return;
    const char *pid = json_string_value(json_object_get(body, "partnerId"));
    if (!pid || app->store->ops->doc_get(app->store, auth.tenant_id, THREAT_CONNECTORS, pid, &conn)) {
        http_error(res, 400, "BadRequest", "partnerId: the id of an existing mobileThreatDefenseConnector is required.");
        goto out;
    }
    if (!strcasecmp(pid, APP_BUILTIN_PARTNER_ID)) {
        http_error(res, 400, "BadRequest", "partnerId: the built-in partner reports through its agents, not a key.");
        goto out;
    }
    char *key = util_token("rgp_", 32);
    if (!key) {
        api_fail(res, RG_EIO, "partner key");
        goto out;
    }
    char hash[UTIL_SHA256_HEX_LEN + 1];
    util_sha256_hex(key, strlen(key), hash, sizeof hash);
    int rc = app->store->ops->cred_create(app->store, hash, CRED_PARTNER, auth.tenant_id, pid, 0);
    if (rc) {
        api_fail(res, rc, "partner key");
    } else {
        json_t *o = json_pack("{s:s,s:s}", "partnerId", pid, "key", key);
        api_send(res, 201, o);
        json_decref(o);
    }
    OPENSSL_cleanse(key, strlen(key));
    free(key);
out:
    json_decref(body);
    json_decref(conn);
}

/* A partner key authenticates only while its connector exists. */
static int partner_auth(struct app *app, struct http_request *req, struct http_response *res, struct store_cred *c)
{
    if (cred_auth(app, req, res, CRED_PARTNER, "rgp_", c))
        return -1;
    json_t *conn = NULL;
    int rc = app->store->ops->doc_get(app->store, c->tenant_id, THREAT_CONNECTORS, c->subject_id, &conn);
    json_decref(conn);
    if (rc == RG_ENOTFOUND) {
        http_error(res, 401, "Unauthorized", "The partner key's connector no longer exists.");
        return -1;
    }
    if (rc) {
        api_fail(res, rc, "connector");
        return -1;
    }
    return 0;
}

void api_partner_heartbeat(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct store_cred c;
    if (partner_auth(app, req, res, &c))
        return;
    int rc = threat_partner_heartbeat(app->store, c.tenant_id, c.subject_id, util_now_ms());
    if (rc)
        api_fail(res, rc, "connector");
    else
        res->status = 204;
}

void api_partner_level(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct store_cred c;
    json_t *body = NULL, *device = NULL;
    if (partner_auth(app, req, res, &c) || api_parse_body(req, res, &body))
        return;
    const char *level = json_string_value(json_object_get(body, "level"));
    static const char *const levels[] = {"secured", "low", "medium", "high"};
    int ok = 0;
    for (int i = 0; level && i < 4; i++)
        ok |= !strcmp(level, levels[i]);
    if (!ok || json_object_size(body) != 1) {
        http_error(res, 400, "BadRequest", "level: one of secured, low, medium, high is required (and nothing else).");
        goto out;
    }
    int rc = app->store->ops->doc_get(app->store, c.tenant_id, THREAT_DEVICES, req->params[0], &device);
    if (rc) {
        api_fail(res, rc, "device");
        goto out;
    }
    char ts[UTIL_TIME_LEN + 1];
    util_time_format(util_now_ms(), ts, sizeof ts);
    json_t *pl = json_object_get(device, "partnerLevels");
    if (!json_is_object(pl)) {
        pl = json_object();
        json_object_set_new(device, "partnerLevels", pl);
    }
    json_object_set_new(pl, c.subject_id, json_pack("{s:s,s:s}", "level", level, "time", ts));
    struct store *s = app->store;
    rc = s->ops->begin(s);
    if (!rc)
        rc = s->ops->doc_update(s, c.tenant_id, THREAT_DEVICES, req->params[0], device);
    if (!rc)
        rc = threat_partner_heartbeat(s, c.tenant_id, c.subject_id, util_now_ms());
    if (!rc)
        rc = s->ops->commit(s);
    else
        s->ops->rollback(s);
    if (rc) {
        api_fail(res, rc, "device");
    } else {
        notify_device(app->notify, c.tenant_id, req->params[0], NOTIFY_THREAT);
        res->status = 204;
    }
out:
    json_decref(body);
    json_decref(device);
}

void api_threat_signal(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    char user_q[256], dev[128] = "", platform[16], prio[64];
    json_t *user = NULL;
    if (http_query_get(req->query, "user", user_q, sizeof user_q) <= 0 ||
        api_user_find(app, auth.tenant_id, user_q, &user)) {
        http_error(res, 400, "BadRequest", "user: an existing user's id or userPrincipalName is required.");
        return;
    }
    int hp = http_query_get(req->query, "priority", prio, sizeof prio);
    if (http_query_get(req->query, "platform", platform, sizeof platform) <= 0 ||
        (strcmp(platform, "android") && strcmp(platform, "ios"))) {
        http_error(res, 400, "BadRequest", "platform: 'android' or 'ios' is required.");
    } else if (http_query_get(req->query, "device", dev, sizeof dev) < 0 || hp < 0) {
        http_error(res, 400, "BadRequest", "device: too long.");
    } else {
        struct threat_signal sig;
        int rc = threat_signal_get(app->store, auth.tenant_id, json_string_value(json_object_get(user, "id")), dev,
                                   platform, hp > 0 ? prio : NULL, util_now_ms(), &sig);
        if (rc) {
            api_fail(res, rc, "threat signal");
        } else {
            json_t *o = sig.present ? json_pack("{s:b,s:s,s:s,s:I}", "present", 1, "level", sig.level, "partner",
                                                sig.partner, "ageSeconds", (json_int_t)(sig.age_ms / 1000))
                                    : json_pack("{s:b,s:s}", "present", 0, "reason", sig.reason);
            api_send(res, 200, o);
            json_decref(o);
        }
    }
    json_decref(user);
}
