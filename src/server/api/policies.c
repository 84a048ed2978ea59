/*
 * policies.c: Graph's app protection policies and app configurations:
 * androidManagedAppProtections, iosManagedAppProtections,
 * targetedManagedAppConfigurations and the polymorphic managedAppPolicies,
 * with their assign / assignments / targetApps / apps navigation.
 *
 * Every kind lives in one store collection ("managedAppPolicies"), one JSON
 * document per policy holding its properties, server-owned fields, and its
 * "assignments" and "apps" arrays. The property tables (policy/schema.c)
 * decide what a body may carry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/api/api.h"
#include "server/notify.h"
#include "server/policy/schema.h"

const struct api_family api_family_android = {"androidManagedAppProtections", SCHEMA_ANDROID_PROTECTION};
const struct api_family api_family_ios = {"iosManagedAppProtections", SCHEMA_IOS_PROTECTION};
const struct api_family api_family_appconfig = {"targetedManagedAppConfigurations", SCHEMA_APP_CONFIGURATION};
const struct api_family api_family_all = {"managedAppPolicies", -1};

#define GROUP_TARGET "#microsoft.graph.groupAssignmentTarget"
#define EXCL_TARGET "#microsoft.graph.exclusionGroupAssignmentTarget"
#define ALL_USERS_TARGET "#microsoft.graph.allLicensedUsersAssignmentTarget"
#define ANDROID_APP_ID "#microsoft.graph.androidMobileAppIdentifier"
#define IOS_APP_ID "#microsoft.graph.iosMobileAppIdentifier"

/* True if an @odata.type names want ("#microsoft.graph.x"): with or without the leading '#', in any case. */
static bool type_is(const char *type, const char *want)
{
    return type && !strcasecmp(type + (type[0] == '#'), want + 1);
}

static const struct api_family *family(struct http_request *req)
{
    return req->route_arg;
}

static int doc_kind(const json_t *doc, enum schema_kind *kind)
{
    return schema_kind_from_odata_type(json_string_value(json_object_get(doc, "@odata.type")), kind);
}

/* Loads a policy for this route's family: a document of another kind answers 404. */
static int load(struct app *app, const struct api_auth *auth, const struct api_family *fam, const char *id,
                json_t **out)
{
    json_t *doc = NULL;
    int rc = app->store->ops->doc_get(app->store, auth->tenant_id, API_POLICY_COLLECTION, id, &doc);
    if (rc)
        return rc;
    enum schema_kind k;
    if (doc_kind(doc, &k) || (fam->kind >= 0 && (int)k != fam->kind)) {
        json_decref(doc);
        return RG_ENOTFOUND;
    }
    *out = doc;
    return 0;
}

static bool has_include(const json_t *assignments)
{
    size_t i;
    json_t *a;
    json_array_foreach(assignments, i, a) {
        const char *t = json_string_value(json_object_get(json_object_get(a, "target"), "@odata.type"));
        if (type_is(t, GROUP_TARGET) || type_is(t, ALL_USERS_TARGET))
            return true;
    }
    return false;
}

json_t *api_policy_public(const json_t *doc, bool expand_nav)
{
    json_t *o = json_deep_copy(doc);
    json_t *assignments = json_object_get(doc, "assignments");
    json_t *apps = json_object_get(doc, "apps");
    json_object_set_new(o, "isAssigned", json_boolean(has_include(assignments)));
    json_object_set_new(o, "deployedAppCount", json_integer((json_int_t)json_array_size(apps)));
    if (!expand_nav) {
        json_object_del(o, "assignments");
        json_object_del(o, "apps");
    }
    return o;
}

/* The $expand names of q (parsed against the family's collection) include name. */
static bool expands(const struct odata_query *q, const char *name)
{
    for (size_t i = 0; i < q->nexpand; i++)
        if (!strcmp(q->expand[i], name))
            return true;
    return false;
}

/* assignments and apps are stored on the policy: shown with either one expanded, as before */
static bool expands_stored_nav(const struct odata_query *q)
{
    return expands(q, "assignments") || expands(q, "apps");
}

/* What $expand=deploymentSummary needs, loaded once per request: the tenant's registrations. */
struct summary_ctx {
    json_t *regs;
    struct api_reg_ctx reg;
};
static int summary_ctx_init(struct app *app, const struct api_auth *auth, struct summary_ctx *c);
static void summary_ctx_release(struct summary_ctx *c);
static int deployment_summary_of(struct app *app, const struct api_auth *auth, struct summary_ctx *c,
                                 const json_t *policy, json_t **out);
static int deployment_summary(struct app *app, const struct api_auth *auth, const json_t *policy, json_t **out);

static bool want_expand(struct http_request *req)
{
    char v[128];
    return http_query_get(req->query, "$expand", v, sizeof v) > 0 && (strstr(v, "assignments") || strstr(v, "apps"));
}

static void send_entity(struct app *app, struct http_request *req, struct http_response *res, int status,
                        const char *segment, const json_t *doc)
{
    json_t *o = api_policy_public(doc, want_expand(req));
    char what[256], ctx[512];
    snprintf(what, sizeof what, "deviceAppManagement/%s/$entity", segment);
    api_context_url(app, req, what, ctx, sizeof ctx);
    json_t *out = json_pack("{s:s}", "@odata.context", ctx);
    json_object_update(out, o);
    json_decref(o);
    const char *ver = json_string_value(json_object_get(doc, "version"));
    if (ver)
        snprintf(res->etag, sizeof res->etag, "%s", ver);
    api_send(res, status, out);
    json_decref(out);
}

/* True if a group exists in the tenant. */
static bool group_exists(struct app *app, const char *tenant_id, const char *gid)
{
    json_t *g = NULL;
    int rc = app->store->ops->doc_get(app->store, tenant_id, "groups", gid, &g);
    json_decref(g);
    return rc == 0;
}

/*
 * Validates an assignments array (from "assign" or a deep insert) into the
 * stored shape. On error fills res (400) and returns -1.
 */
static int build_assignments(struct app *app, const struct api_auth *auth, const json_t *in, json_t **out,
                             struct http_response *res)
{
    if (!json_is_array(in) || json_array_size(in) > 1000) {
        http_error(res, 400, "BadRequest",
                   "assignments: must be an array of at most 1000 targetedManagedAppPolicyAssignment.");
        return -1;
    }
    json_t *arr = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(in, i, a) {
        json_t *t = json_object_get(a, "target");
        const char *type = json_string_value(json_object_get(t, "@odata.type"));
        if (!json_is_object(a) || !json_is_object(t) || !type) {
            http_error(res, 400, "BadRequest", "assignments[%zu].target: an object with an @odata.type is required.", i);
            goto fail;
        }
        bool incl = type_is(type, GROUP_TARGET), excl = type_is(type, EXCL_TARGET), all = type_is(type, ALL_USERS_TARGET);
        if (!incl && !excl && !all) {
            http_error(res, 400, "BadRequest",
                       "assignments[%zu].target.@odata.type: '%s' is not supported; use " GROUP_TARGET ", " EXCL_TARGET
                       " or " ALL_USERS_TARGET ".",
                       i, type);
            goto fail;
        }
        const char *ft = json_string_value(json_object_get(t, "deviceAndAppManagementAssignmentFilterType"));
        if (ft && strcmp(ft, "none")) {
            http_error(res, 400, "BadRequest",
                       "assignments[%zu].target.deviceAndAppManagementAssignmentFilterType: assignment filters are not "
                       "supported; use 'none'.", i);
            goto fail;
        }
        const char *gid = json_string_value(json_object_get(t, "groupId"));
        char id[160];
        json_t *target;
        type = incl ? GROUP_TARGET : excl ? EXCL_TARGET : ALL_USERS_TARGET; /* stored in its canonical form */
        if (all) {
            snprintf(id, sizeof id, "allLicensedUsers_incl");
            target = json_pack("{s:s,s:n,s:s}", "@odata.type", type, "deviceAndAppManagementAssignmentFilterId",
                               "deviceAndAppManagementAssignmentFilterType", "none");
        } else {
            if (!gid || !*gid) {
                http_error(res, 400, "BadRequest", "assignments[%zu].target.groupId: is required.", i);
                goto fail;
            }
            if (!group_exists(app, auth->tenant_id, gid)) {
                http_error(res, 400, "BadRequest", "assignments[%zu].target.groupId: no group '%s' in this tenant.", i,
                           gid);
                goto fail;
            }
            snprintf(id, sizeof id, "%s_%s", gid, incl ? "incl" : "excl");
            target = json_pack("{s:s,s:n,s:s,s:s}", "@odata.type", type, "deviceAndAppManagementAssignmentFilterId",
                               "deviceAndAppManagementAssignmentFilterType", "none", "groupId", gid);
        }
        /* the portal forbids one group in both lists; a repeated target is one assignment */
        size_t j;
        json_t *prev;
        json_array_foreach(arr, j, prev) {
            const char *pgid = json_string_value(json_object_get(json_object_get(prev, "target"), "groupId"));
            const char *pid = json_string_value(json_object_get(prev, "id"));
            if (!strcmp(pid, id)) {
                http_error(res, 400, "BadRequest", "assignments[%zu]: the same target is given twice.", i);
                json_decref(target);
                goto fail;
            }
            if (gid && pgid && !strcmp(gid, pgid)) {
                http_error(res, 400, "BadRequest",
                           "assignments[%zu].target.groupId: group '%s' cannot be both included and excluded.", i, gid);
                json_decref(target);
                goto fail;
            }
        }
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:o}", "id", id, "source", "direct", "sourceId",
                                             "00000000-0000-0000-0000-000000000000", "target", target));
    }
    *out = arr;
    return 0;
fail:
    json_decref(arr);
    return -1;
}

/* A stable signed 32-bit hash of the app id, shown as managedMobileApp.version like Graph's. */
static void app_version(const char *id, char *out, size_t n)
{
    uint32_t h = 2166136261u;
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    snprintf(out, n, "%d", (int32_t)h);
}

/* Validates a managedMobileApp array for a policy kind into the stored shape. */
static int build_apps(enum schema_kind kind, const json_t *in, json_t **out, struct http_response *res)
{
    if (!json_is_array(in) || json_array_size(in) > 1000) {
        http_error(res, 400, "BadRequest", "apps: must be an array of at most 1000 managedMobileApp.");
        return -1;
    }
    json_t *arr = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(in, i, a) {
        json_t *mai = json_object_get(a, "mobileAppIdentifier");
        const char *type = json_string_value(json_object_get(mai, "@odata.type"));
        if (!json_is_object(mai) || !type) {
            http_error(res, 400, "BadRequest",
                       "apps[%zu].mobileAppIdentifier: an object with an @odata.type is required.", i);
            goto fail;
        }
        bool android = type_is(type, ANDROID_APP_ID), ios = type_is(type, IOS_APP_ID);
        if ((!android && !ios) || (kind == SCHEMA_ANDROID_PROTECTION && !android) ||
            (kind == SCHEMA_IOS_PROTECTION && !ios)) {
            http_error(res, 400, "BadRequest", "apps[%zu].mobileAppIdentifier.@odata.type: '%s' is not allowed here; use %s.",
                       i, type,
                       kind == SCHEMA_ANDROID_PROTECTION ? ANDROID_APP_ID
                       : kind == SCHEMA_IOS_PROTECTION   ? IOS_APP_ID
                                                         : ANDROID_APP_ID " or " IOS_APP_ID);
            goto fail;
        }
        type = android ? ANDROID_APP_ID : IOS_APP_ID; /* stored in its canonical form */
        const char *field = android ? "packageId" : "bundleId";
        const char *pkg = json_string_value(json_object_get(mai, field));
        if (!pkg || !*pkg || strlen(pkg) > 255 || strpbrk(pkg, " /\\'\"")) {
            http_error(res, 400, "BadRequest", "apps[%zu].mobileAppIdentifier.%s: a package or bundle id is required.",
                       i, field);
            goto fail;
        }
        char id[300], ver[16];
        snprintf(id, sizeof id, "%s.%s", pkg, android ? "android" : "ios");
        size_t j;
        json_t *prev;
        json_array_foreach(arr, j, prev) {
            if (!strcasecmp(json_string_value(json_object_get(prev, "id")), id)) {
                http_error(res, 400, "BadRequest", "apps[%zu]: '%s' is listed twice.", i, pkg);
                goto fail;
            }
        }
        app_version(id, ver, sizeof ver);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:{s:s,s:s}}", "id", id, "version", ver, "mobileAppIdentifier",
                                             "@odata.type", type, field, pkg));
    }
    *out = arr;
    return 0;
fail:
    json_decref(arr);
    return -1;
}

/*
 * Says which properties were accepted and ignored (the other platform's, the portal's own), in a
 * Warning header (RFC 9111 §5.5's form). The names come from schema's static tables, never from
 * the request, so the header cannot carry a client's bytes.
 */
static void note_ignored(struct http_response *res, const struct schema_error *err)
{
    if (err->ignored[0])
        snprintf(res->warning, sizeof res->warning, "299 riskgated \"accepted and ignored: %s\"", err->ignored);
}

static int write_doc(struct app *app, const struct api_auth *auth, const char *id, json_t *doc, bool insert)
{
    return insert ? app->store->ops->doc_insert(app->store, auth->tenant_id, API_POLICY_COLLECTION, id, doc)
                  : app->store->ops->doc_update(app->store, auth->tenant_id, API_POLICY_COLLECTION, id, doc);
}

void api_policy_list(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    const struct api_family *fam = family(req);
    struct odata_query *q = NULL;
    if (api_query(req, res, api_coll_schema(fam->kind), &q))
        return;
    json_t *all = NULL;
    int rc = app->store->ops->doc_list(app->store, auth.tenant_id, API_POLICY_COLLECTION, &all);
    if (rc) {
        odata_query_free(q);
        api_fail(res, rc, "policy list");
        return;
    }
    bool expand = expands_stored_nav(q);
    bool summary = expands(q, "deploymentSummary") && !api_count_route(req);
    struct summary_ctx sc;
    if (summary && (rc = summary_ctx_init(app, &auth, &sc))) {
        odata_query_free(q);
        json_decref(all);
        api_fail(res, rc, "policy list");
        return;
    }
    json_t *items = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(all, i, d) {
        enum schema_kind k;
        if (doc_kind(d, &k) || (fam->kind >= 0 && (int)k != fam->kind))
            continue;
        json_t *o = api_policy_public(d, expand), *sum = NULL;
        /* policies are few: each one's summary, before $filter and paging pick from them */
        if (summary && !rc && !(rc = deployment_summary_of(app, &auth, &sc, d, &sum)))
            json_object_set_new(o, "deploymentSummary", sum);
        json_array_append_new(items, o);
    }
    if (summary)
        summary_ctx_release(&sc);
    char ctx[128];
    snprintf(ctx, sizeof ctx, "deviceAppManagement/%s", fam->segment);
    if (rc)
        api_fail(res, rc, "policy list");
    else
        api_send_query(app, req, res, ctx, items, q);
    odata_query_free(q);
    json_decref(items);
    json_decref(all);
}

void api_policy_create(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_WRITE, &auth))
        return;
    const struct api_family *fam = family(req);
    json_t *body = NULL, *props = NULL, *assignments = NULL, *apps = NULL, *doc = NULL;
    if (api_parse_body(req, res, &body))
        return;
    enum schema_kind kind;
    const char *type = json_string_value(json_object_get(body, "@odata.type"));
    if (fam->kind < 0) {
        if (!type || schema_kind_from_odata_type(type, &kind) ||
            (kind != SCHEMA_ANDROID_PROTECTION && kind != SCHEMA_IOS_PROTECTION && kind != SCHEMA_APP_CONFIGURATION)) {
            http_error(res, 400, "BadRequest",
                       "@odata.type: required here, one of #microsoft.graph.androidManagedAppProtection, "
                       "#microsoft.graph.iosManagedAppProtection, #microsoft.graph.targetedManagedAppConfiguration.");
            goto out;
        }
    } else {
        kind = (enum schema_kind)fam->kind;
    }
    json_t *nav_assign = json_incref(json_object_get(body, "assignments"));
    json_t *nav_apps = json_incref(json_object_get(body, "apps"));
    json_object_del(body, "assignments");
    json_object_del(body, "apps");
    struct schema_error err;
    int bad = schema_validate(kind, body, false, &props, &err);
    if (bad)
        api_schema_fail(res, bad, &err);
    else if (nav_assign && !json_is_null(nav_assign) && build_assignments(app, &auth, nav_assign, &assignments, res))
        bad = 1;
    else if (nav_apps && !json_is_null(nav_apps) && build_apps(kind, nav_apps, &apps, res))
        bad = 1;
    if (!bad)
        note_ignored(res, &err);
    json_decref(nav_assign);
    json_decref(nav_apps);
    if (bad)
        goto out;

    char uuid[UTIL_UUID_LEN + 1], id[UTIL_UUID_LEN + 3], ts[UTIL_TIME_LEN + 1], ver[64];
    util_uuid(uuid, sizeof uuid);
    snprintf(id, sizeof id, "%c_%s", kind == SCHEMA_APP_CONFIGURATION ? 'A' : 'T', uuid);
    util_time_format(util_now_ms(), ts, sizeof ts);
    api_new_version(ver, sizeof ver);
    doc = json_pack("{s:s,s:s}", "@odata.type", schema_odata_type(kind), "id", id);
    json_object_update(doc, props);
    json_object_set_new(doc, "createdDateTime", json_string(ts));
    json_object_set_new(doc, "lastModifiedDateTime", json_string(ts));
    json_object_set_new(doc, "version", json_string(ver));
    json_object_set_new(doc, "assignments", assignments ? json_incref(assignments) : json_array());
    json_object_set_new(doc, "apps", apps ? json_incref(apps) : json_array());
    int rc = write_doc(app, &auth, id, doc, true);
    if (rc) {
        api_fail(res, rc, "policy");
        goto out;
    }
    notify_tenant(app->notify, auth.tenant_id, NOTIFY_CONFIG);
    snprintf(res->location, sizeof res->location, "%s/%s/deviceAppManagement/%s('%s')", app->public_url,
             req->version ? req->version : "beta", fam->segment, id);
    send_entity(app, req, res, 201, fam->segment, doc);
out:
    json_decref(body);
    json_decref(props);
    json_decref(assignments);
    json_decref(apps);
    json_decref(doc);
}

void api_policy_get(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    const struct api_family *fam = family(req);
    struct odata_query *q = NULL; /* $expand checked against the family's navigation: unknown names are a 400 */
    if (api_query(req, res, api_coll_schema(fam->kind), &q))
        return;
    json_t *doc = NULL, *sum = NULL;
    int rc = load(app, &auth, fam, req->params[0], &doc);
    if (!rc && expands(q, "deploymentSummary"))
        rc = deployment_summary(app, &auth, doc, &sum);
    if (rc) {
        api_fail(res, rc, "policy");
    } else {
        json_t *o = api_policy_public(doc, expands_stored_nav(q));
        if (sum)
            json_object_set(o, "deploymentSummary", sum);
        char what[256], ctx[512];
        snprintf(what, sizeof what, "deviceAppManagement/%s/$entity", fam->segment);
        api_context_url(app, req, what, ctx, sizeof ctx);
        json_t *out = json_pack("{s:s}", "@odata.context", ctx);
        json_t *sel = odata_select(q, o);
        json_object_update(out, sel);
        json_decref(sel);
        json_decref(o);
        const char *ver = json_string_value(json_object_get(doc, "version"));
        if (ver)
            snprintf(res->etag, sizeof res->etag, "%s", ver);
        api_send(res, 200, out);
        json_decref(out);
    }
    json_decref(sum);
    json_decref(doc);
    odata_query_free(q);
}

/* Checks If-Match against the stored version; fills res (412) on mismatch. */
static int check_if_match(struct http_request *req, struct http_response *res, const json_t *doc)
{
    if (!req->if_match || !strcmp(req->if_match, "*"))
        return 0;
    const char *ver = json_string_value(json_object_get(doc, "version"));
    if (ver && !strcmp(ver, req->if_match))
        return 0;
    api_fail(res, RG_ECONFLICT, "policy");
    return -1;
}

/* Stamps a write: new version and lastModifiedDateTime. */
static void touch(json_t *doc)
{
    char ts[UTIL_TIME_LEN + 1], ver[64];
    util_time_format(util_now_ms(), ts, sizeof ts);
    api_new_version(ver, sizeof ver);
    json_object_set_new(doc, "lastModifiedDateTime", json_string(ts));
    json_object_set_new(doc, "version", json_string(ver));
}

void api_policy_update(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_WRITE, &auth))
        return;
    json_t *doc = NULL, *body = NULL, *patch = NULL;
    int rc = load(app, &auth, family(req), req->params[0], &doc);
    if (rc) {
        api_fail(res, rc, "policy");
        return;
    }
    if (check_if_match(req, res, doc) || api_parse_body(req, res, &body))
        goto out;
    enum schema_kind kind;
    doc_kind(doc, &kind);
    if (json_object_get(body, "assignments") || json_object_get(body, "apps")) {
        http_error(res, 400, "BadRequest", "%s: change it with the %s action, not PATCH.",
                   json_object_get(body, "assignments") ? "assignments" : "apps",
                   json_object_get(body, "assignments") ? "assign" : "targetApps");
        goto out;
    }
    struct schema_error err;
    int vrc = schema_validate(kind, body, true, &patch, &err);
    if (vrc) {
        api_schema_fail(res, vrc, &err);
        goto out;
    }
    note_ignored(res, &err);
    json_object_update(doc, patch);
    touch(doc);
    rc = write_doc(app, &auth, req->params[0], doc, false);
    if (rc) {
        api_fail(res, rc, "policy");
        goto out;
    }
    res->status = 204;
    notify_tenant(app->notify, auth.tenant_id, NOTIFY_CONFIG);
    snprintf(res->etag, sizeof res->etag, "%s", json_string_value(json_object_get(doc, "version")));
out:
    json_decref(doc);
    json_decref(body);
    json_decref(patch);
}

void api_policy_delete(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_WRITE, &auth))
        return;
    json_t *doc = NULL;
    int rc = load(app, &auth, family(req), req->params[0], &doc);
    if (!rc && check_if_match(req, res, doc)) {
        json_decref(doc);
        return;
    }
    json_decref(doc);
    if (!rc)
        rc = app->store->ops->doc_delete(app->store, auth.tenant_id, API_POLICY_COLLECTION, req->params[0]);
    if (rc) {
        api_fail(res, rc, "policy");
        return;
    }
    notify_tenant(app->notify, auth.tenant_id, NOTIFY_CONFIG);
    res->status = 204;
}

/* assign and targetApps share this shape: load, validate the body part, replace, store, 204. */
static void replace_nav(struct app *app, struct http_request *req, struct http_response *res, bool assign)
{
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_WRITE, &auth))
        return;
    json_t *doc = NULL, *body = NULL, *built = NULL;
    int rc = load(app, &auth, family(req), req->params[0], &doc);
    if (rc) {
        api_fail(res, rc, "policy");
        return;
    }
    if (api_parse_body(req, res, &body))
        goto out;
    enum schema_kind kind;
    doc_kind(doc, &kind);
    const char *key = assign ? "assignments" : "apps";
    json_t *in = json_object_get(body, key);
    if (!in) {
        http_error(res, 400, "BadRequest", "%s: is required.", key);
        goto out;
    }
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v) {
        if (strcmp(k, key) && (assign || strcmp(k, "appGroupType")) && strncmp(k, "@odata.", 7)) {
            http_error(res, 400, "BadRequest", "%s: unknown parameter of the %s action.", k,
                       assign ? "assign" : "targetApps");
            goto out;
        }
    }
    if (assign ? build_assignments(app, &auth, in, &built, res) : build_apps(kind, in, &built, res))
        goto out;
    if (!assign && json_object_get(body, "appGroupType")) {
        json_t *patch = NULL, *one = json_pack("{s:O}", "appGroupType", json_object_get(body, "appGroupType"));
        struct schema_error err;
        rc = schema_validate(kind, one, true, &patch, &err);
        json_decref(one);
        if (rc) {
            api_schema_fail(res, rc, &err);
            goto out;
        }
        json_object_update(doc, patch);
        json_decref(patch);
    }
    json_object_set(doc, key, built);
    touch(doc);
    rc = write_doc(app, &auth, req->params[0], doc, false);
    if (rc) {
        api_fail(res, rc, "policy");
        goto out;
    }
    notify_tenant(app->notify, auth.tenant_id, NOTIFY_CONFIG);
    res->status = 204;
out:
    json_decref(doc);
    json_decref(body);
    json_decref(built);
}

void api_policy_assign(void *app, struct http_request *req, struct http_response *res)
{
    replace_nav(app, req, res, true);
}

void api_policy_target_apps(void *app, struct http_request *req, struct http_response *res)
{
    replace_nav(app, req, res, false);
}

static void list_nav(struct app *app, struct http_request *req, struct http_response *res, const char *key)
{
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    json_t *doc = NULL;
    int rc = load(app, &auth, family(req), req->params[0], &doc);
    if (rc) {
        api_fail(res, rc, "policy");
        return;
    }
    enum schema_kind kind;
    doc_kind(doc, &kind);
    json_t *items = json_array();
    size_t i;
    json_t *it;
    const char *type = !strcmp(key, "assignments") ? "#microsoft.graph.targetedManagedAppPolicyAssignment"
                                                   : "#microsoft.graph.managedMobileApp";
    json_array_foreach(json_object_get(doc, key), i, it) {
        json_t *o = json_pack("{s:s}", "@odata.type", type);
        json_object_update(o, it);
        json_array_append_new(items, o);
    }
    char ctx[256];
    snprintf(ctx, sizeof ctx, "deviceAppManagement/%s('%s')/%s", family(req)->segment, req->params[0], key);
    api_send_collection(app, req, res, ctx, items,
                        !strcmp(key, "assignments") ? api_coll_assignments() : api_coll_apps());
    json_decref(items);
    json_decref(doc);
}

void api_policy_assignments(void *app, struct http_request *req, struct http_response *res)
{
    list_nav(app, req, res, "assignments");
}

void api_policy_apps(void *app, struct http_request *req, struct http_response *res)
{
    list_nav(app, req, res, "apps");
}

/* ---- deploymentSummary: who the policy reaches, from the registrations ---- */

/* The registration's app identifier in Graph's shape: {"@odata.type", "packageId"|"bundleId"}. */
static json_t *reg_app_identifier(const json_t *reg)
{
    bool ios = !strcmp(json_string_value(json_object_get(reg, "platform")) ? json_string_value(json_object_get(reg, "platform")) : "", "ios");
    return json_pack("{s:s,s:O}", "@odata.type",
                     ios ? "#microsoft.graph.iosMobileAppIdentifier" : "#microsoft.graph.androidMobileAppIdentifier",
                     ios ? "bundleId" : "packageId", json_object_get(reg, "appId"));
}

static int summary_ctx_init(struct app *app, const struct api_auth *auth, struct summary_ctx *c)
{
    c->regs = NULL;
    api_reg_ctx_init(&c->reg);
    int rc = app->store->ops->doc_list(app->store, auth->tenant_id, "managedAppRegistrations", &c->regs);
    if (rc)
        summary_ctx_release(c);
    return rc;
}

static void summary_ctx_release(struct summary_ctx *c)
{
    json_decref(c->regs);
    c->regs = NULL;
    api_reg_ctx_release(&c->reg);
}

/*
 * managedAppPolicyDeploymentSummary of one policy: the users with a registration the policy
 * applies to now (its assignments, apps, platform and management level, as check-in decides),
 * in all and per app, from the registrations c holds (one load for a whole list). *out is a
 * new reference.
 */
static int deployment_summary_of(struct app *app, const struct api_auth *auth, struct summary_ctx *c,
                                 const json_t *policy, json_t **out)
{
    json_t *users = json_object(), *per_app = json_object();
    int rc = users && per_app ? 0 : RG_ENOMEM;
    size_t i;
    json_t *r;
    json_array_foreach(c->regs, i, r) {
        bool applies = false;
        if (rc || (rc = api_reg_applies(app, auth->tenant_id, &c->reg, r, policy, &applies)))
            break;
        if (!applies)
            continue;
        const char *uid = json_string_value(json_object_get(r, "userId"));
        const char *app_id = json_string_value(json_object_get(r, "appId"));
        if (!uid || !app_id)
            continue; /* a registration without its user or app counts nowhere, rather than in one list only */
        json_object_set_new(users, uid, json_true());
        json_t *pa = json_object_get(per_app, app_id);
        if (!pa) {
            pa = json_pack("{s:o,s:o}", "identifier", reg_app_identifier(r), "users", json_object());
            json_object_set_new(per_app, app_id, pa);
        }
        json_object_set_new(json_object_get(pa, "users"), uid, json_true());
    }
    if (!rc) {
        char now[UTIL_TIME_LEN + 1];
        util_time_format(util_now_ms(), now, sizeof now);
        json_t *apps = json_array();
        const char *k;
        json_t *pa;
        json_object_foreach(per_app, k, pa) {
            json_array_append_new(apps, json_pack("{s:s,s:O,s:I}", "@odata.type",
                                                  "#microsoft.graph.managedAppPolicyDeploymentSummaryPerApp",
                                                  "mobileAppIdentifier", json_object_get(pa, "identifier"),
                                                  "configurationAppliedUserCount",
                                                  (json_int_t)json_object_size(json_object_get(pa, "users"))));
        }
        *out = json_pack("{s:s,s:O,s:O?,s:I,s:s,s:o,s:O?}", "@odata.type",
                         "#microsoft.graph.managedAppPolicyDeploymentSummary", "id", json_object_get(policy, "id"),
                         "displayName", json_object_get(policy, "displayName"), "configurationDeployedUserCount",
                         (json_int_t)json_object_size(users), "lastRefreshTime", now,
                         "configurationDeploymentSummaryPerApp", apps, "version", json_object_get(policy, "version"));
        if (!*out)
            rc = RG_ENOMEM;
    }
    json_decref(users);
    json_decref(per_app);
    return rc;
}

/* The summary of one policy, the registrations loaded for it alone. */
static int deployment_summary(struct app *app, const struct api_auth *auth, const json_t *policy, json_t **out)
{
    struct summary_ctx c;
    int rc = summary_ctx_init(app, auth, &c);
    if (rc)
        return rc;
    rc = deployment_summary_of(app, auth, &c, policy, out);
    summary_ctx_release(&c);
    return rc;
}

void api_policy_deployment_summary(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    json_t *doc = NULL, *sum = NULL;
    int rc = load(app, &auth, family(req), req->params[0], &doc);
    if (!rc)
        rc = deployment_summary(app, &auth, doc, &sum);
    if (rc) {
        api_fail(res, rc, "policy");
    } else {
        char what[256], ctx[512];
        snprintf(what, sizeof what, "deviceAppManagement/%s('%s')/deploymentSummary/$entity", family(req)->segment,
                 req->params[0]);
        api_context_url(app, req, what, ctx, sizeof ctx);
        json_t *o = json_pack("{s:s}", "@odata.context", ctx);
        json_object_update(o, sum);
        api_send(res, 200, o);
        json_decref(o);
    }
    json_decref(sum);
    json_decref(doc);
}

/* GET /deviceAppManagement: the singleton, as Graph's docs give it (no Microsoft Store for Business here). */
void api_device_app_management(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    char ctx[512];
    api_context_url(app, req, "deviceAppManagement", ctx, sizeof ctx);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:b,s:n,s:s,s:s}", "@odata.context", ctx, "@odata.type",
                          "#microsoft.graph.deviceAppManagement", "id", auth.tenant_id,
                          "microsoftStoreForBusinessLastSuccessfulSyncDateTime", "0001-01-01T00:00:00Z",
                          "isEnabledForMicrosoftStoreForBusiness", 0, "microsoftStoreForBusinessLanguage",
                          "microsoftStoreForBusinessLastCompletedApplicationSyncTime", "0001-01-01T00:00:00Z",
                          "microsoftStoreForBusinessPortalSelection", "none");
    api_send(res, 200, o);
    json_decref(o);
}
