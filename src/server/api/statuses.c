/*
 * statuses.c: deviceAppManagement/managedAppStatuses, the app protection
 * status reports, as managedAppStatusRaw ({"displayName", "id", "version",
 * "content"}) with the report ids and content shapes Microsoft's own scripts
 * read (docs/research/graph-defender-shapes.md, Q4):
 *
 *   appregistrationsummary   ?fetch=N&columns=A,B,...&seek=<skipToken>
 *                            content {header:[{columnName}], body:[{values:[...]}], skipToken}
 *   windowsprotectionreport  the same table; riskgate has no Windows apps, so no rows
 *   userstatus               ?userId=  content {validationStatuses:[{validationName, state, mitigationInstruction}]}
 *   userconfigstatus         ?userId=  content {header, body, skipToken}: the app configurations the user gets
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/api/api.h"

struct report {
    const char *id;
    const char *display_name;
};

static const struct report reports[] = {
    {"appregistrationsummary", "App registration summary"},
    {"windowsprotectionreport", "Windows protection report"},
    {"userstatus", "User status"},
    {"userconfigstatus", "User app configuration status"},
};
#define NREPORTS (sizeof reports / sizeof reports[0])

/* The columns appregistrationsummary knows, in the default order. */
static const char *const reg_columns[] = {
    "DisplayName",       "UserEmail",        "UserId",          "ApplicationName",   "ApplicationId",
    "ApplicationInstanceId", "ApplicationVersion", "SdkVersion", "DeviceName",        "DeviceType",
    "DeviceManufacturer", "DeviceModel",     "AndroidPatchVersion", "AzureADDeviceId", "MDMDeviceID",
    "DeviceId",          "Platform",         "PlatformVersion", "ManagementLevel",   "PolicyName",
    "PolicyId",          "LastCheckInDate",  "CreatedDate",     "ComplianceState",   NULL};

#define MAX_COLUMNS 64
#define MAX_FETCH 6000

static const struct report *find_report(const char *id)
{
    for (size_t i = 0; i < NREPORTS; i++) {
        if (!strcasecmp(reports[i].id, id))
            return &reports[i];
    }
    return NULL;
}

static json_t *raw(const struct report *r, json_t *content)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:o}", "@odata.type", "#microsoft.graph.managedAppStatusRaw", "id", r->id,
                     "displayName", r->display_name, "version", "1", "content", content ? content : json_null());
}

/* One registration's value for a column; a new reference ("" for a column with nothing to show). */
static json_t *column_value(const char *col, const json_t *reg, const json_t *user, const json_t *intended)
{
    const char *plat = json_string_value(json_object_get(reg, "platform"));
    bool ios = plat && !strcmp(plat, "ios");
    const char *key = NULL;
    if (!strcasecmp(col, "DisplayName"))
        return json_incref(json_object_get(user, "displayName") ? json_object_get(user, "displayName") : json_string(""));
    if (!strcasecmp(col, "UserEmail")) {
        json_t *m = json_object_get(user, "mail");
        return json_incref(json_is_string(m) ? m : json_object_get(user, "userPrincipalName"));
    }
    if (!strcasecmp(col, "Platform"))
        return json_string(ios ? "iOS" : "Android");
    if (!strcasecmp(col, "DeviceType"))
        return json_string(ios ? "iPhone" : "Android");
    if (!strcasecmp(col, "ManagementLevel"))
        return json_string("Unmanaged");
    if (!strcasecmp(col, "ComplianceState")) {
        const char *d = json_string_value(json_object_get(reg, "lastDecision"));
        return json_string(!d ? "Unknown" : !strcmp(d, "allow") || !strcmp(d, "warn") ? "Compliant" : "NotCompliant");
    }
    if (!strcasecmp(col, "PolicyName") || !strcasecmp(col, "PolicyId")) {
        bool names = !strcasecmp(col, "PolicyName");
        char out[4096] = "";
        size_t i, n = 0;
        json_t *p;
        json_array_foreach(intended, i, p) {
            const char *v = json_string_value(json_object_get(p, names ? "displayName" : "id"));
            int w = snprintf(out + n, sizeof out - n, "%s%s", n ? "; " : "", v ? v : "");
            if (w < 0 || (size_t)w >= sizeof out - n)
                break;
            n += (size_t)w;
        }
        return json_string(out);
    }
    static const char *const map[][2] = {
        {"UserId", "userId"},           {"ApplicationName", "appId"},     {"ApplicationId", "appId"},
        {"ApplicationInstanceId", "id"}, {"ApplicationVersion", "appVersion"}, {"SdkVersion", "sdkVersion"},
        {"DeviceName", "deviceName"},   {"DeviceManufacturer", "manufacturer"}, {"DeviceModel", "model"},
        {"AndroidPatchVersion", "patchLevel"}, {"AzureADDeviceId", "deviceId"}, {"MDMDeviceID", "managedDeviceId"},
        {"DeviceId", "deviceId"},       {"PlatformVersion", "osVersion"}, {"LastCheckInDate", "lastSyncDateTime"},
        {"CreatedDate", "createdDateTime"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (!strcasecmp(col, map[i][0]))
            key = map[i][1];
    }
    json_t *v = key ? json_object_get(reg, key) : NULL;
    if (!strcasecmp(col, "UserId") && !json_is_string(v))
        v = json_object_get(user, "id");
    return json_is_string(v) ? json_incref(v) : json_string("");
}

/* Reads an unsigned decimal query parameter into *out (dflt when absent); -1 with a 400 when malformed. */
static int query_count(struct http_request *req, struct http_response *res, const char *name, long dflt, long *out)
{
    char v[32];
    int got = http_query_get(req->query, name, v, sizeof v);
    *out = dflt;
    if (got == 0)
        return 0;
    char *end = NULL;
    long n = got > 0 ? strtol(v, &end, 10) : -1;
    if (got < 0 || !v[0] || *end || n < 0) {
        http_error(res, 400, "BadRequest", "%s: must be a non-negative integer.", name);
        return -1;
    }
    *out = n;
    return 0;
}

static int registration_table(struct app *app, struct http_request *req, struct http_response *res,
                              const char *tenant_id, bool windows, json_t **out)
{
    char cols[2048];
    const char *names[MAX_COLUMNS];
    size_t ncols = 0;
    int got = http_query_get(req->query, "columns", cols, sizeof cols);
    if (got < 0) {
        http_error(res, 400, "BadRequest", "columns: too long or malformed.");
        return -1;
    }
    if (got > 0) {
        for (char *save = NULL, *c = strtok_r(cols, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
            while (*c == ' ')
                c++;
            if (!*c)
                continue;
            if (ncols == MAX_COLUMNS) {
                http_error(res, 400, "BadRequest", "columns: at most %d columns.", MAX_COLUMNS);
                return -1;
            }
            names[ncols++] = c; /* unknown column names give empty values, as the report does */
        }
    }
    if (!ncols) {
        for (; reg_columns[ncols]; ncols++)
            names[ncols] = reg_columns[ncols];
    }
    long fetch, seek;
    if (query_count(req, res, "fetch", MAX_FETCH, &fetch) || query_count(req, res, "seek", 0, &seek))
        return -1;
    if (fetch == 0 || fetch > MAX_FETCH)
        fetch = MAX_FETCH;
    json_t *header = json_array(), *body = json_array();
    for (size_t c = 0; c < ncols; c++)
        json_array_append_new(header, json_pack("{s:s}", "columnName", names[c]));
    json_t *regs = NULL;
    int rc = windows ? 0 : app->store->ops->doc_list(app->store, tenant_id, "managedAppRegistrations", &regs);
    struct api_reg_ctx ctx;
    api_reg_ctx_init(&ctx);
    long row = 0;
    bool more = false;
    size_t i;
    json_t *r;
    json_array_foreach(regs, i, r) {
        if (rc)
            break;
        if (row++ < seek)
            continue;
        if ((long)json_array_size(body) >= fetch) {
            more = true;
            break;
        }
        json_t *user = NULL, *intended = NULL;
        const char *uid = json_string_value(json_object_get(r, "userId"));
        if (uid && app->store->ops->doc_get(app->store, tenant_id, "users", uid, &user))
            user = NULL;
        json_t *nav = json_object();
        struct odata_query q = {0};
        const char *const want[] = {"intendedPolicies"};
        q.expand = want;
        q.nexpand = 1;
        rc = api_reg_expand(app, tenant_id, &ctx, r, nav, &q);
        intended = json_object_get(nav, "intendedPolicies");
        json_t *values = json_array();
        for (size_t c = 0; c < ncols; c++)
            json_array_append_new(values, column_value(names[c], r, user, intended));
        json_array_append_new(body, json_pack("{s:o}", "values", values));
        json_decref(nav);
        json_decref(user);
    }
    api_reg_ctx_release(&ctx);
    json_decref(regs);
    if (rc) {
        json_decref(header);
        json_decref(body);
        api_fail(res, rc, "report");
        return -1;
    }
    char skip[32] = "";
    if (more)
        snprintf(skip, sizeof skip, "%ld", seek + fetch);
    *out = json_pack("{s:o,s:o,s:s}", "header", header, "body", body, "skipToken", skip);
    return 0;
}

static int user_report(struct app *app, struct http_request *req, struct http_response *res, const char *tenant_id,
                       bool config, json_t **out)
{
    char uid_q[256];
    if (http_query_get(req->query, "userId", uid_q, sizeof uid_q) <= 0 || !uid_q[0]) {
        http_error(res, 400, "BadRequest", "userId: the user's id is required for this report.");
        return -1;
    }
    json_t *user = NULL, *regs = NULL;
    int rc = api_user_find(app, tenant_id, uid_q, &user);
    if (!rc)
        rc = app->store->ops->doc_list(app->store, tenant_id, "managedAppRegistrations", &regs);
    if (rc) {
        api_fail(res, rc, "user");
        json_decref(user);
        return -1;
    }
    json_t *mine = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(regs, i, r) {
        if (json_equal(json_object_get(r, "userId"), json_object_get(user, "id")))
            json_array_append(mine, r);
    }
    if (!config) {
        bool enabled = !json_is_false(json_object_get(user, "accountEnabled"));
        *out = json_pack(
            "{s:[{s:s,s:s,s:n},{s:s,s:s,s:s?},{s:s,s:s,s:s?}]}", "validationStatuses", "validationName",
            "Intune License", "state", "Pass", "mitigationInstruction", "validationName", "Account enabled", "state",
            enabled ? "Pass" : "Fail", "mitigationInstruction",
            enabled ? NULL : "The account is disabled (accountEnabled false): enable it in the directory.",
            "validationName", "App registrations", "state", json_array_size(mine) ? "Pass" : "Warning",
            "mitigationInstruction", json_array_size(mine) ? NULL : "No managed app has signed in with this account yet.");
    } else {
        json_t *body = json_array();
        struct api_reg_ctx ctx;
        api_reg_ctx_init(&ctx);
        json_array_foreach(mine, i, r) {
            json_t *nav = json_object();
            const char *const want[] = {"appliedPolicies", "intendedPolicies"};
            struct odata_query q = {.expand = want, .nexpand = 2};
            if ((rc = api_reg_expand(app, tenant_id, &ctx, r, nav, &q))) {
                json_decref(nav);
                break;
            }
            size_t j;
            json_t *p;
            json_array_foreach(json_object_get(nav, "intendedPolicies"), j, p) {
                if (strcmp(json_string_value(json_object_get(p, "@odata.type")) ? json_string_value(json_object_get(p, "@odata.type")) : "",
                           "#microsoft.graph.targetedManagedAppConfiguration"))
                    continue;
                bool applied = false;
                size_t k;
                json_t *a;
                json_array_foreach(json_object_get(nav, "appliedPolicies"), k, a) {
                    applied |= json_equal(json_object_get(a, "id"), json_object_get(p, "id"));
                }
                json_array_append_new(body, json_pack("{s:[O,O,O,s]}", "values", json_object_get(p, "displayName"),
                                                      json_object_get(p, "id"), json_object_get(r, "appId"),
                                                      applied ? "Succeeded" : "Pending"));
            }
            json_decref(nav);
        }
        api_reg_ctx_release(&ctx);
        *out = json_pack("{s:[{s:s},{s:s},{s:s},{s:s}],s:o,s:s}", "header", "columnName", "PolicyName", "columnName",
                         "PolicyId", "columnName", "ApplicationName", "columnName", "Status", "body", body, "skipToken",
                         "");
    }
    json_decref(mine);
    json_decref(regs);
    json_decref(user);
    if (rc) {
        json_decref(*out);
        api_fail(res, rc, "report");
        return -1;
    }
    return 0;
}

void api_app_status_list(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    json_t *items = json_array();
    for (size_t i = 0; i < NREPORTS; i++)
        json_array_append_new(items, raw(&reports[i], NULL));
    api_send_collection(app, req, res, "deviceAppManagement/managedAppStatuses", items, api_coll_app_statuses());
    json_decref(items);
}

void api_app_status_get(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    const struct report *r = find_report(req->params[0]);
    if (!r) {
        api_fail(res, RG_ENOTFOUND, "managedAppStatus");
        return;
    }
    json_t *content = NULL;
    int bad;
    if (!strcmp(r->id, "appregistrationsummary") || !strcmp(r->id, "windowsprotectionreport"))
        bad = registration_table(app, req, res, auth.tenant_id, r->id[0] == 'w', &content);
    else
        bad = user_report(app, req, res, auth.tenant_id, !strcmp(r->id, "userconfigstatus"), &content);
    if (bad)
        return;
    char ctx[512];
    api_context_url(app, req, "deviceAppManagement/managedAppStatuses/$entity", ctx, sizeof ctx);
    json_t *o = json_pack("{s:s}", "@odata.context", ctx);
    json_t *one = raw(r, content);
    json_object_update(o, one);
    api_send(res, 200, o);
    json_decref(one);
    json_decref(o);
}
