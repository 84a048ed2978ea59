/*
 * connectors.c: deviceManagement/mobileThreatDefenseConnectors, one per
 * threat-defense partner, its id the partner's well-known GUID. riskgate's
 * own threat-defense side is the built-in partner (APP_BUILTIN_PARTNER_ID,
 * Defender's id, so scripts that look for the Defender connector find it).
 *
 * partnerState is computed when served, from lastHeartbeatDateTime and
 * partnerUnresponsivenessThresholdInDays: never heard from = notSetUp; silent
 * longer than the threshold = unresponsive; else enabled when a platform flag
 * is on, available otherwise. The built-in partner is this server's own
 * threat side, which runs whenever the connector can be read: before any
 * device has reported it is available or enabled, never notSetUp.
 *
 * Rule (Intune since "Primary MTD service"): per platform, the connectors
 * enabled for MAM evaluation are at most the built-in one and one other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/api/api.h"
#include "server/notify.h"
#include "server/policy/schema.h"

#define COLL "mobileThreatDefenseConnectors"

static const char *const partners[][2] = {
    {"fc780465-2017-40d4-a0c5-307022471b92", "riskgate threat defense (built-in; Microsoft Defender for Endpoint's id)"},
    {"860d3ab4-8fd1-45f5-89cd-ecf51e4f92e5", "BETTER Mobile Security"},
    {"d3ddeae8-441f-4681-b80f-aef644f7195a", "Check Point Harmony Mobile"},
    {"8d0ed095-8191-4bd3-8a41-953b22d51ff7", "Pradeo"},
    {"1f58d6d2-02cc-4c80-b008-1bfe7396a10a", "Jamf Trust"},
    {"4873197-ffec-4dfc-9816-db65f34c7cb9", "Trellix Mobile Security"},
    {"a447eca6-a986-4d3f-9838-5862bf50776c", "CylancePROTECT Mobile"},
    {"4928f0f6-2660-4f69-b4c5-5170ec921f7b", "Trend Micro"},
    {"bb13fe25-ce1f-45aa-b278-cabbc6b9072e", "SentinelOne"},
    {"e6f777f8-e4c2-4a5b-be01-50b5c124bc7f", "Windows Security Center"},
    {"29ee2d98-e795-475f-a0f8-0802dc3384a9", "CrowdStrike Falcon for Mobile"},
    {"870b252b-0ef0-4707-8847-50fc571472b3", "Sophos"},
    {"2c7790de-8b02-4814-85cf-e0c59380dee8", "Lookout for Work"},
    {"28fd67fd-b179-4629-a8b0-dad420b697c7", "Symantec Endpoint Protection"},
    {"08a8455c-48dd-45ff-ad82-7211355354f3", "Zimperium"},
};

/* The partner's id as spelled in the table (ids are matched case-insensitively), or NULL. */
static const char *known_partner(const char *id)
{
    for (size_t i = 0; i < sizeof partners / sizeof partners[0]; i++)
        if (!strcasecmp(partners[i][0], id))
            return partners[i][0];
    return NULL;
}

json_t *api_connector_new_doc(const char *partner_id)
{
    json_t *props = NULL, *empty = json_object();
    struct schema_error err;
    if (schema_validate(SCHEMA_CONNECTOR, empty, false, &props, &err)) {
        json_decref(empty);
        return NULL;
    }
    json_decref(empty);
    json_t *doc = json_pack("{s:s,s:s}", "@odata.type", schema_odata_type(SCHEMA_CONNECTOR), "id", partner_id);
    json_object_update(doc, props);
    json_object_set_new(doc, "lastHeartbeatDateTime", json_null());
    json_decref(props);
    return doc;
}

static const char *state_of(const json_t *doc)
{
    const char *hb = json_string_value(json_object_get(doc, "lastHeartbeatDateTime"));
    const char *id = json_string_value(json_object_get(doc, "id"));
    bool builtin = id && !strcasecmp(id, APP_BUILTIN_PARTNER_ID);
    int64_t ms;
    bool heard = hb && !util_time_parse(hb, &ms);
    if (!heard && !builtin)
        return "notSetUp";
    json_int_t days = json_integer_value(json_object_get(doc, "partnerUnresponsivenessThresholdInDays"));
    if (heard && days > 0 && util_now_ms() - ms > (int64_t)days * 86400 * 1000)
        return "unresponsive";
    static const char *const flags[] = {"androidEnabled", "iosEnabled", "windowsEnabled", "macEnabled",
                                        "androidMobileApplicationManagementEnabled",
                                        "iosMobileApplicationManagementEnabled",
                                        "windowsMobileApplicationManagementEnabled"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (json_is_true(json_object_get(doc, flags[i])))
            return "enabled";
    return "available";
}

static json_t *public_doc(const json_t *doc)
{
    json_t *o = json_deep_copy(doc);
    json_object_set_new(o, "partnerState", json_string(state_of(doc)));
    return o;
}

/* Checks the MAM rule over all connectors, with `changed` standing in for its stored version. */
static int check_rule(struct app *app, const struct api_auth *auth, const json_t *changed, struct http_response *res)
{
    json_t *all = NULL;
    int rc = app->store->ops->doc_list(app->store, auth->tenant_id, COLL, &all);
    if (rc) {
        api_fail(res, rc, "connector list");
        return -1;
    }
    static const char *const flags[] = {"androidMobileApplicationManagementEnabled",
                                        "iosMobileApplicationManagementEnabled",
                                        "windowsMobileApplicationManagementEnabled"};
    const char *cid = json_string_value(json_object_get(changed, "id"));
    for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++) {
        if (!json_is_true(json_object_get(changed, flags[f])) || !strcasecmp(cid, APP_BUILTIN_PARTNER_ID))
            continue;
        size_t i;
        json_t *c;
        json_array_foreach(all, i, c) {
            const char *id = json_string_value(json_object_get(c, "id"));
            if (!strcasecmp(id, cid) || !strcasecmp(id, APP_BUILTIN_PARTNER_ID))
                continue;
            if (json_is_true(json_object_get(c, flags[f]))) {
                http_error(res, 400, "BadRequest",
                           "%s: partner %s is already enabled for app protection evaluation on this platform; only "
                           "the built-in partner and one other may be (turn it off first).",
                           flags[f], id);
                json_decref(all);
                return -1;
            }
        }
    }
    json_decref(all);
    return 0;
}

static void send_one(struct app *app, struct http_request *req, struct http_response *res, int status, const json_t *doc)
{
    char ctx[512];
    api_context_url(app, req, "deviceManagement/" COLL "/$entity", ctx, sizeof ctx);
    json_t *o = json_pack("{s:s}", "@odata.context", ctx);
    json_t *p = public_doc(doc);
    json_object_update(o, p);
    json_decref(p);
    api_send(res, status, o);
    json_decref(o);
}

void api_connector_list(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    json_t *all = NULL;
    int rc = app->store->ops->doc_list(app->store, auth.tenant_id, COLL, &all);
    if (rc) {
        api_fail(res, rc, "connector list");
        return;
    }
    json_t *items = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(all, i, d)
        json_array_append_new(items, public_doc(d));
    api_send_collection(app, req, res, "deviceManagement/" COLL, items, api_coll_schema(SCHEMA_CONNECTOR));
    json_decref(items);
    json_decref(all);
}

void api_connector_get(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    json_t *doc = NULL;
    const char *id = known_partner(req->params[0]);
    int rc = id ? app->store->ops->doc_get(app->store, auth.tenant_id, COLL, id, &doc) : RG_ENOTFOUND;
    if (rc) {
        api_fail(res, rc, "connector");
        return;
    }
    send_one(app, req, res, 200, doc);
    json_decref(doc);
}

void api_connector_create(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_WRITE, &auth))
        return;
    json_t *body = NULL, *props = NULL, *doc = NULL;
    if (api_parse_body(req, res, &body))
        return;
    /* Without "id" (the Graph docs' example, CIPP, Microsoft365DSC) the connector is Microsoft
       Defender for Endpoint's, whose role riskgated's own threat side plays. Every tenant has it
       from the start and it cannot be deleted, so such a POST sets it up: its properties are
       applied as a PATCH would, and the answer is 200 with the connector. */
    json_t *given_v = json_object_get(body, "id");
    if (given_v && !json_is_string(given_v) && !json_is_null(given_v)) {
        http_error(res, 400, "BadRequest", "id: must be a string, the partner's well-known id.");
        goto out;
    }
    const char *given = json_string_value(given_v);
    if (!given || !given[0]) {
        static const char builtin[] = APP_BUILTIN_PARTNER_ID;
        req->params[0] = builtin;
        req->nparams = 1;
        json_decref(body);
        api_connector_update(app, req, res);
        return;
    }
    const char *id = known_partner(given);
    if (!id) {
        http_error(res, 400, "BadRequest",
                   "id: '%s' is not a known partner's id (see docs/api.md, connectors; omit it for the built-in one).",
                   given);
        goto out;
    }
    struct schema_error err;
    int vrc = schema_validate(SCHEMA_CONNECTOR, body, false, &props, &err);
    if (vrc) {
        api_schema_fail(res, vrc, &err);
        goto out;
    }
    doc = api_connector_new_doc(id);
    json_object_update(doc, props);
    if (check_rule(app, &auth, doc, res))
        goto out;
    int rc = app->store->ops->doc_insert(app->store, auth.tenant_id, COLL, id, doc);
    if (rc) {
        api_fail(res, rc, "connector");
        goto out;
    }
    snprintf(res->location, sizeof res->location, "%s/%s/deviceManagement/" COLL "/%s", app->public_url,
             req->version ? req->version : "beta", id);
    send_one(app, req, res, 201, doc);
out:
    json_decref(body);
    json_decref(props);
    json_decref(doc);
}

void api_connector_update(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_WRITE, &auth))
        return;
    json_t *doc = NULL, *body = NULL, *patch = NULL;
    const char *id = known_partner(req->params[0]);
    int rc = id ? app->store->ops->doc_get(app->store, auth.tenant_id, COLL, id, &doc) : RG_ENOTFOUND;
    if (rc) {
        api_fail(res, rc, "connector");
        return;
    }
    if (api_parse_body(req, res, &body))
        goto out;
    struct schema_error err;
    int vrc = schema_validate(SCHEMA_CONNECTOR, body, true, &patch, &err);
    if (vrc) {
        api_schema_fail(res, vrc, &err);
        goto out;
    }
    json_object_update(doc, patch);
    if (check_rule(app, &auth, doc, res))
        goto out;
    rc = app->store->ops->doc_update(app->store, auth.tenant_id, COLL, id, doc);
    if (rc) {
        api_fail(res, rc, "connector");
    } else {
        notify_tenant(app->notify, auth.tenant_id, NOTIFY_THREAT); /* the signal of every device may change */
        send_one(app, req, res, 200, doc);
    }
out:
    json_decref(doc);
    json_decref(body);
    json_decref(patch);
}

void api_connector_delete(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_WRITE, &auth))
        return;
    if (!strcasecmp(req->params[0], APP_BUILTIN_PARTNER_ID)) {
        http_error(res, 400, "BadRequest",
                   "id: the built-in partner's connector cannot be deleted; turn its *Enabled flags off instead.");
        return;
    }
    /* the connector and its partner keys go together */
    const char *id = known_partner(req->params[0]);
    struct store *s = app->store;
    int rc = id ? s->ops->begin(s) : RG_ENOTFOUND;
    if (id && !rc) {
        rc = s->ops->doc_delete(s, auth.tenant_id, COLL, id);
        if (!rc)
            rc = s->ops->cred_delete_subject(s, "partner", auth.tenant_id, id);
        if (!rc)
            rc = s->ops->commit(s);
        else
            s->ops->rollback(s);
    }
    if (rc)
        api_fail(res, rc, "connector");
    else
        res->status = 204;
}
