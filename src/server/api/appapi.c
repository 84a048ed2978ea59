/*
 * appapi.c: the managed apps' API (docs/app-api.md): registration (the SDK's
 * sign-in), check-in with the decision, the effective settings, the app
 * configuration sets and a signed offline ticket, the live decision
 * long-poll, and wipe confirmation; plus Graph's managedAppRegistrations and
 * the user wipe actions (wipeManagedAppRegistrationsByDeviceTag, ...).
 *
 * A registration token (rga_...) is stored as SHA-256 and reaches only its
 * own registration. The decision reads the device's threat signal only
 * through threat_signal_get (the connector), never alerts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "common/jsonsafe.h"
#include "common/password.h"
#include "server/api/signin.h"
#include "common/answer.h"
#include "common/sign.h"
#include "server/api/api.h"
#include "server/appcache.h"
#include "server/notify.h"
#include "server/policy/decision.h"
#include "server/policy/effective.h"
#include "server/policy/tokens.h"
#include "server/threat/threat.h"

#define CRED_APP "app"
#define REGS "managedAppRegistrations"
#define WIPES "wipeRequests"
#define WAIT_DEFAULT 50

struct app_auth {
    char tenant_id[UTIL_UUID_LEN + 1];
    char reg_id[128];
    json_t *reg;  /* owned */
    json_t *user; /* owned */
};

static void app_auth_release(struct app_auth *a)
{
    json_decref(a->reg);
    json_decref(a->user);
    a->reg = a->user = NULL;
}

static int app_authenticate(struct app *app, struct http_request *req, struct http_response *res,
                            struct app_auth *out)
{
    const char *h = req->authorization;
    if (!h || strncasecmp(h, "Bearer ", 7) || strncmp(h + 7, "rga_", 4)) {
        http_error(res, 401, "Unauthorized", "A registration token is required: 'Authorization: Bearer rga_...'.");
        return -1;
    }
    char hash[UTIL_SHA256_HEX_LEN + 1];
    util_sha256_hex(h + 7, strlen(h + 7), hash, sizeof hash);
    struct store_cred c;
    int rc = app->store->ops->cred_lookup(app->store, hash, CRED_APP, &c);
    if (!rc)
        rc = app->store->ops->doc_get(app->store, c.tenant_id, REGS, c.subject_id, &out->reg);
    if (!rc)
        rc = app->store->ops->doc_get(app->store, c.tenant_id, "users",
                                      json_string_value(json_object_get(out->reg, "userId")), &out->user);
    if (rc) {
        app_auth_release(out);
        if (rc == RG_ENOTFOUND)
            http_error(res, 401, "Unauthorized", "The registration is not valid any more; sign in again.");
        else
            api_fail(res, rc, "registration");
        return -1;
    }
    memcpy(out->tenant_id, c.tenant_id, sizeof out->tenant_id);
    snprintf(out->reg_id, sizeof out->reg_id, "%s", c.subject_id);
    snprintf(req->tenant, sizeof req->tenant, "%s", json_string_value(json_object_get(out->reg, "tenant")));
    return 0;
}

/* ---- facts ---- */

static const char *const fact_strings[] = {"appVersion", "sdkVersion", "osVersion", "patchLevel", "model",
                                           "manufacturer", "deviceId", "deviceName", "deviceTag", NULL};

/* Copies the app's facts into the registration; 400 on a bad one, 500 when memory runs out. */
static int apply_facts(json_t *reg, const json_t *facts, int creating, struct http_response *res)
{
    if (!json_is_object(facts)) {
        http_error(res, 400, "BadRequest", "app: an object of app and device facts is required.");
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)facts, k, v) {
        int known = !strcmp(k, "appId") || !strcmp(k, "platform") || !strcmp(k, "rooted") ||
                    !strcmp(k, "agentInstalled") || !strcmp(k, "pinFailures") || !strcmp(k, "deviceProof");
        for (size_t i = 0; fact_strings[i]; i++)
            known |= !strcmp(k, fact_strings[i]);
        if (!known) {
            http_error(res, 400, "BadRequest", "app.%.64s: unknown fact.", k);
            return -1;
        }
        if (json_is_null(v))
            continue;
        if (!strcmp(k, "rooted") || !strcmp(k, "agentInstalled")) {
            if (!json_is_boolean(v)) {
                http_error(res, 400, "BadRequest", "app.%s: true or false is expected.", k);
                return -1;
            }
        } else if (!strcmp(k, "deviceProof")) {
            const char *n = json_string_value(json_object_get(v, "nonce"));
            const char *sg = json_string_value(json_object_get(v, "signature"));
            if (!json_is_object(v) || json_object_size(v) != 2 || !n || !sg) {
                http_error(res, 400, "BadRequest", "app.deviceProof: {\"nonce\", \"signature\"} strings are expected.");
                return -1;
            }
        } else if (!strcmp(k, "pinFailures")) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535) {
                http_error(res, 400, "BadRequest", "app.pinFailures: an integer from 0 to 65535 is expected.");
                return -1;
            }
        } else if (!json_is_string(v) || json_string_length(v) > 256 ||
                   strlen(json_string_value(v)) != json_string_length(v)) {
            http_error(res, 400, "BadRequest", "app.%s: a string of at most 256 characters is expected.", k);
            return -1;
        }
    }
    if (creating) {
        const char *id = json_string_value(json_object_get(facts, "appId"));
        const char *platform = json_string_value(json_object_get(facts, "platform"));
        if (!id || !*id || strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(id)) {
            http_error(res, 400, "BadRequest", "app.appId: the app's package id (Android) or bundle id (iOS) is required.");
            return -1;
        }
        if (!platform || (strcmp(platform, "android") && strcmp(platform, "ios"))) {
            http_error(res, 400, "BadRequest", "app.platform: 'android' or 'ios' is required.");
            return -1;
        }
        if (json_object_set_new(reg, "appId", json_string(id)) ||
            json_object_set_new(reg, "platform", json_string(platform))) {
            api_fail(res, RG_ENOMEM, "registration");
            return -1;
        }
    } else if (json_object_get(facts, "appId") || json_object_get(facts, "platform")) {
        http_error(res, 400, "BadRequest", "app.appId: a registration's app and platform cannot change; sign in again.");
        return -1;
    }
    json_object_foreach((json_t *)facts, k, v) {
        if (strcmp(k, "appId") && strcmp(k, "platform") && strcmp(k, "deviceProof") && json_object_set(reg, k, v)) {
            api_fail(res, RG_ENOMEM, "registration");
            return -1;
        }
    }
    return 0;
}

/* How long a device nonce may be used: the SDK asks one just before it asks the agent. */
#define DEVICE_NONCE_MAX_AGE_MS (5 * 60 * 1000)

/*
 * A device the registration does not hold yet (had: the deviceId before the
 * facts) is taken only with a proof from that device's agent: its key's
 * signature over a fresh server nonce (docs/app-api.md "Device proof"). So an
 * app on one device cannot name another one, such as the user's clean one.
 * 0, or -1 with res answered 403.
 */
static int check_device_claim(struct app *app, const char *tenant_id, const char *had, const json_t *reg,
                              const json_t *facts, struct http_response *res)
{
    const char *dev = json_string_value(json_object_get(reg, "deviceId"));
    if (!dev || !*dev || (had && !strcmp(had, dev)))
        return 0;
    const json_t *p = json_object_get(facts, "deviceProof");
    if (!p) {
        http_error(res, 403, "DeviceProofRequired",
                   "app.deviceProof: naming a device needs a proof from its agent: a nonce of GET /app/v1/deviceNonce "
                   "signed by the agent (docs/app-api.md).");
        return -1;
    }
    const char *nonce = json_string_value(json_object_get(p, "nonce"));
    const char *sig = json_string_value(json_object_get(p, "signature"));
    int rc = sign_nonce_check(app->sign, nonce, util_now_ms(), DEVICE_NONCE_MAX_AGE_MS);
    if (rc) {
        http_error(res, 403, "DeviceProofInvalid", "app.deviceProof.nonce: %s",
                   rc == RG_EAUTH ? "the nonce has expired; ask a new one." : "not a nonce this server issued.");
        return -1;
    }
    json_t *d = NULL;
    rc = app->store->ops->doc_get(app->store, tenant_id, THREAT_DEVICES, dev, &d);
    const char *key = json_string_value(json_object_get(d, "devicePublicKey"));
    char text[512];
    int tl = sign_device_proof_text(dev, nonce, text, sizeof text);
    if (rc && rc != RG_ENOTFOUND) {
        api_fail(res, rc, "device");
    } else if (!json_is_true(json_object_get(d, "activated")) || !key) {
        http_error(res, 403, "DeviceProofInvalid",
                   "app.deviceId: no activated device with a registered key has this id in the organization.");
        rc = RG_EAUTH;
    } else if (tl < 0 || sign_verify(key, text, (size_t)tl, sig)) {
        http_error(res, 403, "DeviceProofInvalid",
                   "app.deviceProof.signature: it does not verify against the key of the device named.");
        rc = RG_EAUTH;
    }
    json_decref(d);
    return rc ? -1 : 0;
}

/* ---- wipes ---- */

/* A registration's wipe requests (new reference), from the tenant's snapshot (appcache.h). */
static int reg_wipes(struct app *app, const char *tenant_id, const char *reg_id, json_t **out)
{
    const struct appcache_tenant *t = NULL;
    int rc = appcache_tenant(app->cache, app->store, tenant_id, &t);
    if (rc)
        return rc;
    json_t *mine = json_object_get(t->wipes, reg_id);
    *out = mine ? json_incref(mine) : json_array();
    return *out ? 0 : RG_ENOMEM;
}

/* Queues a wipe for a registration unless one was ever queued for the same reason; *created set when new. */
static int wipe_queue(struct app *app, const char *tenant_id, const json_t *reg, const char *reason, int *created)
{
    struct store *s = app->store;
    const char *reg_id = json_string_value(json_object_get(reg, "id"));
    json_t *mine = NULL;
    *created = 0;
    int rc = reg_wipes(app, tenant_id, reg_id, &mine);
    if (rc)
        return rc;
    size_t i;
    json_t *w;
    json_array_foreach(mine, i, w) {
        const char *st = json_string_value(json_object_get(w, "status"));
        if (st && !strcmp(st, "pending")) { /* one at a time, exactly once */
            json_decref(mine);
            return 0;
        }
        const char *why = json_string_value(json_object_get(w, "reason"));
        if (why && !strcmp(why, reason) && strcmp(reason, "admin")) {
            json_decref(mine);
            return 0;
        }
    }
    json_decref(mine);
    char id[UTIL_UUID_LEN + 1], ts[UTIL_TIME_LEN + 1];
    if (util_uuid(id, sizeof id))
        return RG_EIO;
    util_time_format(util_now_ms(), ts, sizeof ts);
    json_t *doc = json_pack("{s:s,s:s,s:O,s:O,s:O,s:s,s:s,s:s,s:n}", "id", id, "registrationId", reg_id, "userId",
                            json_object_get(reg, "userId"), "appId", json_object_get(reg, "appId"), "deviceId",
                            json_object_get(reg, "deviceId") ? json_object_get(reg, "deviceId") : json_null(),
                            "reason", reason, "status", "pending", "createdDateTime", ts, "completedDateTime");
    rc = s->ops->doc_insert(s, tenant_id, WIPES, id, doc);
    json_decref(doc);
    if (!rc)
        *created = 1;
    return rc;
}

/* ---- check-in ---- */

static int64_t duration_ms(const json_t *settings, const char *prop, const char *dflt)
{
    const char *v = json_string_value(json_object_get(json_object_get(settings, prop), "value"));
    double secs;
    if (!v || util_duration_parse(v, &secs) || secs < 0)
        util_duration_parse(dflt, &secs);
    return (int64_t)(secs * 1000.0);
}

static const char *threat_priority(const json_t *settings)
{
    return json_string_value(json_object_get(json_object_get(settings, "mobileThreatDefensePartnerPriority"), "value"));
}

static json_t *tenant_links(struct app *app, const char *tenant_id)
{
    json_t *doc = NULL;
    if (app->store->ops->doc_get(app->store, tenant_id, "tenantSettings", "tenant", &doc))
        return json_object();
    return doc;
}

/*
 * The whole answer of a check-in for a registration (docs/app-api.md), and the
 * side effects a decision has: a wipe queued by the threat row or a blocked
 * user. The registration is written when write_reg is set (its facts changed,
 * or it is new); otherwise its lastSyncDateTime, lastDecision and
 * lastReasonCode are left to appcache_synced (records that decide nothing).
 * Reads the tenant's snapshot (appcache.h) and the device; runs in one
 * transaction.
 */
static int build_checkin(struct app *app, const char *tenant_id, json_t *reg, const json_t *user, int write_reg,
                         json_t **out)
{
    struct store *s = app->store;
    const char *uid = json_string_value(json_object_get(user, "id"));
    const char *platform = json_string_value(json_object_get(reg, "platform"));
    json_t *groups = NULL, *all = NULL, *eff = NULL, *dec = NULL, *links = NULL, *mine = NULL, *conns = NULL;
    const struct appcache_tenant *snap = NULL;
    int rc = appcache_tenant(app->cache, s, tenant_id, &snap);
    if (rc)
        goto out;
    /* our own references: the snapshot goes with the next store write (a wipe queued below) */
    groups = json_object_get(snap->user_groups, uid ? uid : "");
    groups = groups ? json_incref(groups) : json_array();
    if (!groups) { /* not "in no group": that could be another decision */
        rc = RG_ENOMEM;
        goto out;
    }
    all = json_incref(snap->policies);
    conns = json_incref(snap->connectors);
    links = json_incref(snap->links);
    size_t ng = json_array_size(groups);
    const char **gids = calloc(ng ? ng : 1, sizeof *gids);
    if (!gids) {
        rc = RG_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < ng; i++)
        gids[i] = json_string_value(json_array_get(groups, i));
    struct effective_query q = {.user_id = uid, .group_ids = gids, .group_count = ng,
                                .app_id = json_string_value(json_object_get(reg, "appId")),
                                .platform = !strcmp(platform, "ios") ? EFFECTIVE_IOS : EFFECTIVE_ANDROID,
                                .management_level = "unmanaged"};
    rc = effective_compute(&q, all, &eff);
    free(gids);
    if (rc)
        goto out;
    json_t *settings = json_object_get(eff, "settings");
    int64_t now = util_now_ms();
    struct threat_signal sig;
    const char *device_id = json_string_value(json_object_get(reg, "deviceId"));
    rc = threat_signal_get_with(s, tenant_id, conns, uid, device_id, platform, threat_priority(settings), now, &sig);
    if (rc)
        goto out;
    json_t *pinf = json_object_get(reg, "pinFailures");
    struct decision_facts f = {
        .platform = platform,
        .app_version = json_string_value(json_object_get(reg, "appVersion")),
        .sdk_version = json_string_value(json_object_get(reg, "sdkVersion")),
        .os_version = json_string_value(json_object_get(reg, "osVersion")),
        .patch_level = json_string_value(json_object_get(reg, "patchLevel")),
        .model = json_string_value(json_object_get(reg, "model")),
        .manufacturer = json_string_value(json_object_get(reg, "manufacturer")),
        .rooted = json_is_boolean(json_object_get(reg, "rooted")) ? json_is_true(json_object_get(reg, "rooted")) : -1,
        .pin_failures = json_is_integer(pinf) ? (int)json_integer_value(pinf) : -1,
        .account_disabled = !json_is_true(json_object_get(user, "accountEnabled")),
        .agent_installed = json_is_boolean(json_object_get(reg, "agentInstalled"))
                               ? json_is_true(json_object_get(reg, "agentInstalled"))
                               : (device_id && *device_id ? 1 : -1),
    };
    /* no policy for this app: nothing to decide, the app is not managed by this tenant */
    rc = decision_evaluate(json_array_size(json_object_get(eff, "protectionPolicies")) ? settings : NULL, &f, &sig,
                           links, &dec);
    if (rc)
        goto out;
    const char *action = json_string_value(json_object_get(dec, "action"));
    int created = 0;
    if (json_is_true(json_object_get(user, "managedAppsBlocked"))) {
        /* wipeAndBlockManagedApps: blocked, and every registration wiped once */
        json_t *blocked = json_pack("{s:s,s:s,s:s,s:s,s:s,s:[]}", "action", "block", "reasonCode", "userBlocked",
                                    "title", "Access blocked",
                                    "message", "Your organization has blocked work or school data in this app for your account.",
                                    "remedy", "Contact your IT administrator.", "warnings");
        json_decref(dec);
        dec = blocked;
        action = "block";
        rc = wipe_queue(app, tenant_id, reg, "userBlocked", &created);
    } else if (!json_is_true(json_object_get(user, "accountEnabled")) && (!action || strcmp(action, "wipe"))) {
        /* A disabled account never reaches work data, whatever the policy's optional rows say: the
           disabledAccount row chooses only between this block and a wipe. */
        json_t *blocked = json_pack("{s:s,s:s,s:s,s:s,s:s,s:[]}", "action", "block", "reasonCode",
                                    DECISION_R_ACCOUNT_DISABLED, "title", "Access blocked", "message",
                                    "Your work or school account is disabled.", "remedy",
                                    "Contact your IT administrator.", "warnings");
        json_decref(dec);
        dec = blocked;
        action = "block";
    } else if (action && !strcmp(action, "wipe")) {
        rc = wipe_queue(app, tenant_id, reg, json_string_value(json_object_get(dec, "reasonCode")), &created);
    }
    if (rc)
        goto out;
    rc = reg_wipes(app, tenant_id, json_string_value(json_object_get(reg, "id")), &mine);
    if (rc)
        goto out;
    json_t *wipe = json_null();
    size_t i;
    json_t *w;
    json_array_foreach(mine, i, w) {
        if (!strcmp(json_string_value(json_object_get(w, "status")), "pending")) {
            wipe = json_pack("{s:O}", "id", json_object_get(w, "id"));
            break; /* wipe_queue keeps at most one pending */
        }
    }
    /* a pending wipe is the decision, and is in the signed ticket too, so an app offline still wipes */
    if (!json_is_null(wipe) && strcmp(action ? action : "", "wipe")) {
        const char *title = "", *message = "", *remedy = "";
        decision_text(DECISION_R_WIPE_REQUESTED, &title, &message, &remedy);
        json_t *wd = json_pack("{s:s,s:s,s:s,s:s,s:s,s:[]}", "action", "wipe", "reasonCode", DECISION_R_WIPE_REQUESTED,
                               "title", title, "message", message, "remedy", remedy, "warnings");
        json_decref(dec);
        dec = wd;
        action = "wipe";
    }
    /* flat settings, as the app enforces them */
    json_t *flat = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(settings, k, v)
        json_object_set(flat, k, json_object_get(v, "value"));
    int64_t online = duration_ms(settings, "periodOnlineBeforeAccessCheck", "PT30M");
    int64_t offline = duration_ms(settings, "periodOfflineBeforeAccessCheck", "PT12H");
    int64_t offwipe = duration_ms(settings, "periodOfflineBeforeWipeIsEnforced", "P90D");
    /*
     * The configuration values with Intune's tokens substituted for this user
     * and registration (policy/tokens.h). Done here, before the answer and its
     * decisionVersion exist, so the version covers the values the app acts on
     * and what appcache keeps is already this registration's: its entries are
     * per token (one registration, one user), and the shared blobs are
     * interned by content, so two users' different values never share one
     * (sets without tokens still do). A change to the user (users writes) or
     * to the registration's deviceId (its own write) makes the entry stale.
     */
    struct tokens_ctx tctx = {
        .upn = json_string_value(json_object_get(user, "userPrincipalName")),
        .mail = json_string_value(json_object_get(user, "mail")),
        .display_name = json_string_value(json_object_get(user, "displayName")),
        .user_id = uid,
        .account_id = tenant_id,
        .device_id = device_id,
    };
    json_t *configs = NULL;
    if (tokens_apply(json_object_get(eff, "appConfigurations"), &tctx, &configs)) {
        json_decref(flat);
        json_decref(wipe);
        rc = RG_ENOMEM;
        goto out;
    }
    json_t *warnings = json_object_get(dec, "warnings");
    json_t *answer = json_pack("{s:O,s:o,s:o,s:o,s:I,s:o}", "decision", dec, "warnings",
                               warnings ? json_incref(warnings) : json_array(), "settings", flat, "appConfigurations",
                               configs, "nextCheckInSeconds", (json_int_t)(online / 1000), "wipe", wipe);
    if (!answer) {
        rc = RG_ENOMEM;
        goto out;
    }
    /*
     * The signed ticket covers the whole answer the app acts on: the action
     * and times in clear, the decision, settings, configuration and wipe by
     * their digest (common/answer.h), which the SDK computes again. It names
     * the registration and device it was issued to, so it is worth nothing in
     * another registration's storage or on another device.
     */
    char digest[ANSWER_SHA256_LEN + 1];
    rc = answer_sha256(answer, digest);
    json_t *payload = rc ? NULL
                         : json_pack("{s:O,s:s,s:s,s:O,s:s?,s:s,s:I,s:I,s:I,s:s}", "registrationId",
                                     json_object_get(reg, "id"), "tenantId", tenant_id, "userId", uid, "appId",
                                     json_object_get(reg, "appId"), "deviceId", device_id, "action",
                                     action ? action : "block", "issuedAt", (json_int_t)now, "offlineAccessUntil",
                                     (json_int_t)(now + offline), "offlineWipeAt", (json_int_t)(now + offwipe),
                                     "answerSha256", digest);
    char *ptext = payload ? json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(payload);
    char *pb64 = ptext ? sign_base64(ptext, strlen(ptext)) : NULL, *sig64 = NULL;
    if (!pb64 || sign_message(app->sign, ptext, strlen(ptext), &sig64) ||
        json_object_set_new(answer, "ticket", json_pack("{s:s,s:s}", "payload", pb64, "signature", sig64))) {
        free(ptext);
        free(pb64);
        free(sig64);
        json_decref(answer);
        rc = rc ? rc : RG_EIO;
        goto out;
    }
    free(ptext);
    free(pb64);
    free(sig64);
    /* what the app needs to compare: everything but the ticket's times */
    char ver[17];
    snprintf(ver, sizeof ver, "%.16s", digest);
    json_object_set_new(answer, "decisionVersion", json_string(ver));
    char ts[UTIL_TIME_LEN + 1];
    util_time_format(now, ts, sizeof ts);
    json_object_set_new(reg, "lastSyncDateTime", json_string(ts));
    json_object_set(reg, "lastDecision", json_object_get(dec, "action"));
    json_object_set(reg, "lastReasonCode", json_object_get(dec, "reasonCode"));
    if (write_reg)
        rc = s->ops->doc_update(s, tenant_id, REGS, json_string_value(json_object_get(reg, "id")), reg);
    if (rc) {
        json_decref(answer);
        goto out;
    }
    *out = answer;
out:
    json_decref(groups);
    json_decref(all);
    json_decref(eff);
    json_decref(dec);
    json_decref(links);
    json_decref(mine);
    json_decref(conns);
    return rc;
}

/* build_checkin inside a transaction. */
static int checkin_tx(struct app *app, const char *tenant_id, json_t *reg, const json_t *user, int write_reg,
                      json_t **out)
{
    struct store *s = app->store;
    int rc = s->ops->begin(s);
    if (rc)
        return rc;
    rc = build_checkin(app, tenant_id, reg, user, write_reg, out);
    if (!rc)
        rc = s->ops->commit(s);
    else
        s->ops->rollback(s);
    if (rc) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

/* ---- handlers ---- */

static void register_signed_in(struct signin *si, struct http_response *res);

void api_app_register(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    json_t *body = NULL;
    if (api_parse_body(req, res, &body))
        return;
    const char *tenant = json_string_value(json_object_get(body, "tenant"));
    const char *upn = json_string_value(json_object_get(body, "userPrincipalName"));
    const char *pw = json_string_value(json_object_get(body, "password"));
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v) {
        if (strcmp(k, "tenant") && strcmp(k, "userPrincipalName") && strcmp(k, "password") && strcmp(k, "app")) {
            http_error(res, 400, "BadRequest", "%.64s: unknown property of a registration.", k);
            goto out;
        }
    }
    if (!tenant || !upn || !pw) {
        http_error(res, 400, "BadRequest", "userPrincipalName: tenant, userPrincipalName and password are required.");
        goto out;
    }
    snprintf(req->tenant, sizeof req->tenant, "%s", tenant);
    /* rate limits, then scrypt on a worker; register_signed_in runs back on the loop */
    api_signin_start(app, req, res, body, tenant, upn, pw, register_signed_in);
    return;
out:
    json_decref(body);
}

/* After the password check, on the loop: the registration, its token and the first check-in. */
static void register_signed_in(struct signin *si, struct http_response *res)
{
    struct app *app = si->app;
    json_t *body = si->body, *user = si->user, *reg = NULL, *checkin = NULL;
    const char *tenant = si->tenant, *tid = si->tid;
    int rc;
    if (!si->ok) {
        http_error(res, 401, "Unauthorized", "The sign-in was not accepted: check the organization, user name and password.");
        return;
    }
    if (!json_is_true(json_object_get(user, "accountEnabled"))) { /* as the device side refuses it */
        http_error(res, 403, "Forbidden", "accountEnabled: this account is disabled; contact your IT administrator.");
        return;
    }
    char id[UTIL_UUID_LEN + 1], ts[UTIL_TIME_LEN + 1];
    if (util_uuid(id, sizeof id)) {
        api_fail(res, RG_EIO, "registration");
        goto out;
    }
    util_time_format(util_now_ms(), ts, sizeof ts);
    reg = json_pack("{s:s,s:s,s:O,s:O,s:s,s:s}", "id", id, "tenant", tenant, "userId", json_object_get(user, "id"),
                    "userPrincipalName", json_object_get(user, "userPrincipalName"), "createdDateTime", ts,
                    "lastSyncDateTime", ts);
    if (apply_facts(reg, json_object_get(body, "app"), 1, res) ||
        check_device_claim(app, tid, NULL, reg, json_object_get(body, "app"), res))
        goto out;
    if (!json_object_get(reg, "deviceTag") && json_is_string(json_object_get(reg, "deviceId")))
        json_object_set(reg, "deviceTag", json_object_get(reg, "deviceId"));
    char *token = util_token("rga_", 32);
    if (!token) {
        api_fail(res, RG_EIO, "registration");
        goto out;
    }
    char th[UTIL_SHA256_HEX_LEN + 1];
    util_sha256_hex(token, strlen(token), th, sizeof th);
    struct store *s = app->store;
    rc = s->ops->begin(s);
    if (!rc)
        rc = s->ops->doc_insert(s, tid, REGS, id, reg);
    if (!rc)
        rc = s->ops->cred_create(s, th, CRED_APP, tid, id, 0);
    if (!rc)
        rc = build_checkin(app, tid, reg, user, 1, &checkin);
    if (!rc)
        rc = s->ops->commit(s);
    else
        s->ops->rollback(s);
    if (rc) {
        api_fail(res, rc, "registration");
    } else {
        json_t *o = json_pack("{s:s,s:s,s:s,s:O}", "registrationId", id, "token", token, "serverKey",
                              sign_key_public_b64(app->sign), "checkin", checkin);
        api_send(res, 201, o);
        json_decref(o);
    }
    OPENSSL_cleanse(token, strlen(token));
    free(token);
out:
    json_decref(reg);
    json_decref(checkin);
}

/* SHA-256 of the request's registration token; 0 when there is none (the slow path answers 401). */
static int token_sha(const struct http_request *req, unsigned char out[SHA256_DIGEST_LENGTH])
{
    const char *h = req->authorization;
    if (!h || strncasecmp(h, "Bearer ", 7) || strncmp(h + 7, "rga_", 4))
        return 0;
    SHA256((const unsigned char *)h + 7, strlen(h + 7), out);
    return 1;
}

/*
 * The fast path (appcache.h): a valid cached answer for this token whose
 * facts the request does not change. Returns 1 with res answered, 0 to take
 * the slow path (which also gives every error answer).
 */
static int checkin_cached(struct app *app, struct http_request *req, struct http_response *res, const char *prefix)
{
    unsigned char sha[SHA256_DIGEST_LENGTH];
    if (!token_sha(req, sha))
        return 0;
    json_t *body = NULL;
    if (req->body_len && !(body = jsonsafe_loadb(req->body, req->body_len, 0, NULL)))
        return 0;
    json_t *facts = json_object_get(body, "app");
    struct appcache_hit hit;
    int64_t now = util_now_ms();
    int ok = (!body || (json_is_object(body) && json_object_size(body) == (facts ? 1u : 0u))) &&
             appcache_lookup(app->cache, sha, facts, now, &hit);
    json_decref(body);
    if (!ok)
        return 0;
    buf_clear(&res->body);
    if ((prefix && buf_puts(&res->body, prefix)) || appcache_hit_write(&hit, &res->body) ||
        (prefix && buf_puts(&res->body, "}"))) {
        buf_clear(&res->body);
        return 0;
    }
    res->status = 200;
    snprintf(req->tenant, sizeof req->tenant, "%s", hit.tenant_name);
    appcache_synced(app->cache, sha, now);
    return 1;
}

/* Remembers a fresh answer for the request's token (computed under st, started at now). */
static void checkin_remember(struct app *app, struct http_request *req, const struct app_auth *aa,
                             const json_t *answer, const struct appcache_stamp *st, int64_t now)
{
    unsigned char sha[SHA256_DIGEST_LENGTH];
    if (token_sha(req, sha) && !appcache_put(app->cache, sha, aa->tenant_id, req->tenant, aa->reg, answer, st, now))
        appcache_synced(app->cache, sha, now);
}

void api_app_checkin(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct app_auth aa = {0};
    json_t *body = NULL, *answer = NULL, *before = NULL;
    if (checkin_cached(app, req, res, NULL))
        return;
    if (app_authenticate(app, req, res, &aa))
        return;
    if (req->body_len && api_parse_body(req, res, &body))
        goto out;
    json_t *facts = json_object_get(body, "app");
    if (body && (json_object_size(body) > (facts ? 1u : 0u))) {
        http_error(res, 400, "BadRequest", "app: send {\"app\": {facts that changed}} (or no body).");
        goto out;
    }
    before = json_deep_copy(aa.reg);
    if (facts && (apply_facts(aa.reg, facts, 0, res) ||
                  check_device_claim(app, aa.tenant_id, json_string_value(json_object_get(before, "deviceId")),
                                     aa.reg, facts, res)))
        goto out;
    /* facts that changed are durable before the answer: they may change the decision */
    int changed = !before || !json_equal(before, aa.reg);
    int64_t now = util_now_ms();
    struct appcache_stamp st;
    appcache_stamp(app->cache, aa.tenant_id, json_string_value(json_object_get(aa.reg, "deviceId")), &st);
    int rc = checkin_tx(app, aa.tenant_id, aa.reg, aa.user, changed, &answer);
    if (rc) {
        api_fail(res, rc, "check-in");
    } else {
        checkin_remember(app, req, &aa, answer, &st, now);
        api_send(res, 200, answer);
    }
out:
    app_auth_release(&aa);
    json_decref(body);
    json_decref(answer);
    json_decref(before);
}

struct app_waiter {
    struct app *app;
    char tenant_id[UTIL_UUID_LEN + 1];
    char reg_id[128];
};

/* A change that may move the app's decision: answer with the fresh check-in. */
static void app_wake(struct http_pending *p, void *arg, unsigned kind)
{
    (void)kind;
    struct app_waiter *w = arg;
    struct store *s = w->app->store;
    json_t *reg = NULL, *user = NULL, *answer = NULL;
    int rc = s->ops->doc_get(s, w->tenant_id, REGS, w->reg_id, &reg);
    if (!rc)
        rc = s->ops->doc_get(s, w->tenant_id, "users", json_string_value(json_object_get(reg, "userId")), &user);
    if (!rc)
        rc = checkin_tx(w->app, w->tenant_id, reg, user, 0, &answer);
    if (rc) {
        http_pending_finish(p, 200, "{\"changed\":true}", 16);
    } else {
        json_t *o = json_pack("{s:b,s:O}", "changed", 1, "checkin", answer);
        char *text = json_dumps(o, JSON_COMPACT);
        http_pending_finish(p, 200, text ? text : "{\"changed\":true}", text ? strlen(text) : 16);
        free(text);
        json_decref(o);
    }
    json_decref(reg);
    json_decref(user);
    json_decref(answer);
}

void api_app_wait(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct app_auth aa = {0};
    json_t *answer = NULL;
    unsigned char sha[SHA256_DIGEST_LENGTH];
    struct appcache_hit hit;
    int64_t now = util_now_ms();
    int cached = token_sha(req, sha) && appcache_lookup(app->cache, sha, NULL, now, &hit);
    if (!cached && app_authenticate(app, req, res, &aa))
        return;
    char have[64] = "", secs[16] = "";
    long timeout = WAIT_DEFAULT;
    char *end = NULL;
    if (http_query_get(req->query, "decision", have, sizeof have) < 0 ||
        http_query_get(req->query, "timeout", secs, sizeof secs) < 0 ||
        (secs[0] && ((timeout = strtol(secs, &end, 10)) < 1 || timeout > 300 || *end))) {
        http_error(res, 400, "BadRequest", "timeout: whole seconds from 1 to 300 are expected (decision: the "
                                           "decisionVersion the app has).");
        goto out;
    }
    const char *tenant_id, *reg_id, *device_id, *version;
    if (cached) {
        snprintf(req->tenant, sizeof req->tenant, "%s", hit.tenant_name);
        appcache_synced(app->cache, sha, now);
        tenant_id = hit.tenant_id;
        reg_id = hit.reg_id;
        device_id = hit.device_id;
        version = hit.version;
        if (strcmp(have, version)) {
            buf_clear(&res->body);
            if (buf_puts(&res->body, "{\"changed\":true,\"checkin\":") || appcache_hit_write(&hit, &res->body) ||
                buf_puts(&res->body, "}"))
                api_fail(res, RG_ENOMEM, "wait");
            goto out;
        }
    } else {
        struct appcache_stamp st;
        appcache_stamp(app->cache, aa.tenant_id, json_string_value(json_object_get(aa.reg, "deviceId")), &st);
        int rc = checkin_tx(app, aa.tenant_id, aa.reg, aa.user, 0, &answer);
        if (rc) {
            api_fail(res, rc, "check-in");
            goto out;
        }
        checkin_remember(app, req, &aa, answer, &st, now);
        tenant_id = aa.tenant_id;
        reg_id = aa.reg_id;
        device_id = json_string_value(json_object_get(aa.reg, "deviceId"));
        version = json_string_value(json_object_get(answer, "decisionVersion"));
        if (strcmp(have, version)) {
            json_t *o = json_pack("{s:b,s:O}", "changed", 1, "checkin", answer);
            api_send(res, 200, o);
            json_decref(o);
            goto out;
        }
    }
    struct app_waiter *w = calloc(1, sizeof *w);
    if (!w) {
        api_fail(res, RG_ENOMEM, "wait");
        goto out;
    }
    w->app = app;
    snprintf(w->tenant_id, sizeof w->tenant_id, "%s", tenant_id);
    snprintf(w->reg_id, sizeof w->reg_id, "%s", reg_id);
    notify_wait_with(app->notify, req, res, w->tenant_id, device_id, w->reg_id,
                     NOTIFY_THREAT | NOTIFY_CONFIG | NOTIFY_APP, (unsigned)timeout, app_wake, w, free);
out:
    app_auth_release(&aa);
    json_decref(answer);
}

void api_app_wipe_confirm(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct app_auth aa = {0};
    json_t *body = NULL, *w = NULL;
    if (app_authenticate(app, req, res, &aa))
        return;
    int rc = app->store->ops->doc_get(app->store, aa.tenant_id, WIPES, req->params[0], &w);
    const char *rid = json_string_value(json_object_get(w, "registrationId"));
    if (rc || !rid || strcmp(rid, aa.reg_id)) {
        api_fail(res, rc && rc != RG_ENOTFOUND ? rc : RG_ENOTFOUND, "wipe request");
        goto out;
    }
    if (api_parse_body(req, res, &body))
        goto out;
    const char *status = json_string_value(json_object_get(body, "status"));
    json_t *msg = json_object_get(body, "message");
    if (!status || (strcmp(status, "successful") && strcmp(status, "failed"))) {
        http_error(res, 400, "BadRequest", "status: 'successful' or 'failed' is required.");
        goto out;
    }
    if (msg && (!json_is_string(msg) || json_string_length(msg) > 1000)) {
        http_error(res, 400, "BadRequest", "message: a string of at most 1000 characters is expected.");
        goto out;
    }
    if (strcmp(json_string_value(json_object_get(w, "status")), "pending")) {
        http_error(res, 400, "BadRequest", "status: this wipe request is already %s.",
                   json_string_value(json_object_get(w, "status")));
        goto out;
    }
    char ts[UTIL_TIME_LEN + 1];
    util_time_format(util_now_ms(), ts, sizeof ts);
    json_object_set_new(w, "status", json_string(status));
    json_object_set_new(w, "completedDateTime", json_string(ts));
    if (msg)
        json_object_set(w, "message", msg);
    rc = app->store->ops->doc_update(app->store, aa.tenant_id, WIPES, req->params[0], w);
    if (rc)
        api_fail(res, rc, "wipe request");
    else
        res->status = 204;
out:
    app_auth_release(&aa);
    json_decref(body);
    json_decref(w);
}

/* ---- Graph: registrations and the user wipe actions ---- */

json_t *api_registration_public(const json_t *r)
{
    int ios = !strcmp(json_string_value(json_object_get(r, "platform")) ? json_string_value(json_object_get(r, "platform")) : "", "ios");
    json_t *flagged = json_array();
    if (json_is_true(json_object_get(r, "rooted")))
        json_array_append_new(flagged, json_string("rootedDevice"));
    return json_pack("{s:s,s:O,s:O,s:O,s:O?,s:O?,s:O?,s:s,s:O?,s:O?,s:n,s:O?,s:O?,s:O?,s:o,s:O,s:{s:s,s:O},s:s}",
                     "@odata.type", ios ? "#microsoft.graph.iosManagedAppRegistration"
                                        : "#microsoft.graph.androidManagedAppRegistration",
                     "id", json_object_get(r, "id"), "createdDateTime", json_object_get(r, "createdDateTime"),
                     "lastSyncDateTime", json_object_get(r, "lastSyncDateTime"), "applicationVersion",
                     json_object_get(r, "appVersion"), "managementSdkVersion", json_object_get(r, "sdkVersion"),
                     "platformVersion", json_object_get(r, "osVersion"), "deviceType", ios ? "iPhone" : "Android",
                     "deviceTag", json_object_get(r, "deviceTag"), "deviceName", json_object_get(r, "deviceName"),
                     "managedDeviceId", "azureADDeviceId", json_object_get(r, "deviceId"), "deviceModel",
                     json_object_get(r, "model"), "deviceManufacturer", json_object_get(r, "manufacturer"),
                     "flaggedReasons", flagged, "userId", json_object_get(r, "userId"), "appIdentifier",
                     "@odata.type", ios ? "#microsoft.graph.iosMobileAppIdentifier"
                                        : "#microsoft.graph.androidMobileAppIdentifier",
                     ios ? "bundleId" : "packageId", json_object_get(r, "appId"), "version", "1");
}

/* Queues wipes for a user's registrations matching (field == value), or all of them when field is NULL. */
static int wipe_user_regs(struct app *app, const char *tenant_id, const char *uid, const char *field,
                          const char *value, const char *reason)
{
    struct store *s = app->store;
    json_t *all = NULL;
    int rc = s->ops->begin(s);
    if (!rc)
        rc = s->ops->doc_list(s, tenant_id, REGS, &all);
    size_t i;
    json_t *r;
    json_t *woken = json_array();
    json_array_foreach(all, i, r) {
        if (rc)
            break;
        const char *ru = json_string_value(json_object_get(r, "userId"));
        const char *fv = field ? json_string_value(json_object_get(r, field)) : NULL;
        if (!ru || strcmp(ru, uid) || (field && (!fv || strcmp(fv, value))))
            continue;
        int created = 0;
        rc = wipe_queue(app, tenant_id, r, reason, &created);
        if (!rc && created)
            json_array_append(woken, json_object_get(r, "id"));
    }
    if (!rc)
        rc = s->ops->commit(s);
    else
        s->ops->rollback(s);
    if (!rc) /* running apps learn at once */
        json_array_foreach(woken, i, r)
            notify_owner(app->notify, tenant_id, json_string_value(r), NOTIFY_APP);
    json_decref(woken);
    json_decref(all);
    return rc;
}

static int load_user(struct app *app, struct http_request *req, struct http_response *res, enum api_access access,
                     struct api_auth *auth, json_t **user)
{
    if (api_authenticate(app, req, res, access, auth))
        return -1;
    int rc = api_user_find(app, auth->tenant_id, req->params[0], user);
    if (rc) {
        api_fail(res, rc, "user");
        return -1;
    }
    return 0;
}

static void wipe_by(struct app *app, struct http_request *req, struct http_response *res, const char *param,
                    const char *field)
{
    struct api_auth auth;
    json_t *user = NULL, *body = NULL;
    if (load_user(app, req, res, API_WRITE, &auth, &user))
        return;
    if (api_parse_body(req, res, &body))
        goto out;
    const char *value = json_string_value(json_object_get(body, param));
    if (!value || !*value || json_object_size(body) != 1) {
        http_error(res, 400, "BadRequest", "%s: required (and nothing else).", param);
        goto out;
    }
    int rc = wipe_user_regs(app, auth.tenant_id, json_string_value(json_object_get(user, "id")), field, value, "admin");
    if (rc)
        api_fail(res, rc, "wipe");
    else
        res->status = 204;
out:
    json_decref(user);
    json_decref(body);
}

void api_user_wipe_by_tag(void *app, struct http_request *req, struct http_response *res)
{
    wipe_by(app, req, res, "deviceTag", "deviceTag");
}

void api_user_wipe_by_device(void *app, struct http_request *req, struct http_response *res)
{
    wipe_by(app, req, res, "azureAdDeviceId", "deviceId");
}

static void set_blocked(struct app *app, struct http_request *req, struct http_response *res, int blocked)
{
    struct api_auth auth;
    json_t *user = NULL;
    if (load_user(app, req, res, API_WRITE, &auth, &user))
        return;
    const char *uid = json_string_value(json_object_get(user, "id"));
    json_object_set_new(user, "managedAppsBlocked", json_boolean(blocked));
    int rc = app->store->ops->doc_update(app->store, auth.tenant_id, "users", uid, user);
    if (!rc && blocked)
        rc = wipe_user_regs(app, auth.tenant_id, uid, NULL, NULL, "userBlocked"); /* once per registration */
    if (rc) {
        api_fail(res, rc, "user");
    } else {
        notify_tenant(app->notify, auth.tenant_id, NOTIFY_CONFIG);
        res->status = 204;
    }
    json_decref(user);
}

void api_user_wipe_and_block(void *app, struct http_request *req, struct http_response *res)
{
    set_blocked(app, req, res, 1);
}

void api_user_unblock(void *app, struct http_request *req, struct http_response *res)
{
    set_blocked(app, req, res, 0);
}

void api_user_is_blocked(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    json_t *user = NULL;
    if (load_user(app, req, res, API_READ, &auth, &user))
        return;
    char ctx[512];
    api_context_url(app, req, "Edm.Boolean", ctx, sizeof ctx);
    json_t *o = json_pack("{s:s,s:b}", "@odata.context", ctx, "value",
                          json_is_true(json_object_get(user, "managedAppsBlocked")));
    api_send(res, 200, o);
    json_decref(o);
    json_decref(user);
}

void api_user_registrations(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    json_t *user = NULL, *all = NULL;
    struct odata_query *q = NULL;
    if (load_user(app, req, res, API_READ, &auth, &user))
        return;
    if (api_query(req, res, api_coll_registrations(), &q)) {
        json_decref(user);
        return;
    }
    int rc = app->store->ops->doc_list(app->store, auth.tenant_id, REGS, &all);
    json_t *items = json_array();
    struct api_reg_ctx c;
    api_reg_ctx_init(&c);
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r) {
        if (rc || !json_equal(json_object_get(r, "userId"), json_object_get(user, "id")))
            continue;
        json_t *pub = api_registration_public(r);
        json_array_append_new(items, pub);
        rc = api_reg_expand(app, auth.tenant_id, &c, r, pub, q);
    }
    if (rc)
        api_fail(res, rc, "registrations");
    else
        api_send_query(app, req, res, "managedAppRegistrations", items, q);
    api_reg_ctx_release(&c);
    odata_query_free(q);
    json_decref(items);
    json_decref(user);
    json_decref(all);
}

void api_wipe_list(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    json_t *all = NULL;
    int rc = app->store->ops->doc_list(app->store, auth.tenant_id, WIPES, &all);
    if (rc) {
        api_fail(res, rc, "wipe requests");
        return;
    }
    api_send_collection(app, req, res, "wipeRequests", all, api_coll_wipes());
    json_decref(all);
}

/* GET /app/v1/deviceNonce: public, stateless (common/sign.h); the SDK has its agent sign it. */
void api_app_device_nonce(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    (void)req;
    char nonce[SIGN_NONCE_LEN + 1];
    if (sign_nonce_new(app->sign, util_now_ms(), nonce)) {
        api_fail(res, RG_EIO, "nonce");
        return;
    }
    json_t *o = json_pack("{s:s,s:i}", "nonce", nonce, "expiresInSeconds", DEVICE_NONCE_MAX_AGE_MS / 1000);
    api_send(res, 200, o);
    json_decref(o);
}

void api_app_server_key(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    json_t *o = json_pack("{s:s,s:s}", "algorithm", "Ed25519", "serverKey", sign_key_public_b64(app->sign));
    api_send(res, 200, o);
    json_decref(o);
}

void api_tenant_settings_get(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    json_t *doc = tenant_links(app, auth.tenant_id);
    api_send(res, 200, doc);
    json_decref(doc);
}

void api_tenant_settings_update(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    json_t *body = NULL, *doc = NULL;
    if (api_authenticate(app, req, res, API_WRITE, &auth) || api_parse_body(req, res, &body))
        return;
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v) {
        if ((strcmp(k, "agentInstallUrl") && strcmp(k, "agentAppName")) || !json_is_string(v) ||
            json_string_length(v) > 1000) {
            http_error(res, 400, "BadRequest", "%.64s: agentInstallUrl and agentAppName (strings) are the settings.", k);
            goto out;
        }
    }
    doc = tenant_links(app, auth.tenant_id);
    int existed = json_object_size(doc) > 0;
    json_object_update(doc, body);
    int rc = existed ? app->store->ops->doc_update(app->store, auth.tenant_id, "tenantSettings", "tenant", doc)
                     : app->store->ops->doc_insert(app->store, auth.tenant_id, "tenantSettings", "tenant", doc);
    if (rc) {
        api_fail(res, rc, "settings");
    } else {
        notify_tenant(app->notify, auth.tenant_id, NOTIFY_CONFIG);
        api_send(res, 200, doc);
    }
out:
    json_decref(body);
    json_decref(doc);
}
