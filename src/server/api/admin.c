/*
 * admin.c: riskgate's own endpoints beside Graph's: /healthz, /metrics,
 * /riskgate/v1/whoami, tenants (operator only: an admin key of the "default"
 * tenant), API keys of the caller's tenant, the effective-policy explanation,
 * and the read-only managedAppRegistrations list.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "server/api/api.h"
#include "server/audit.h"
#include "server/notify.h"
#include "server/policy/effective.h"

void api_healthz(void *app, struct http_request *req, struct http_response *res)
{
    buf_puts(&res->body, "{\"status\":\"ok\"}");
}

void api_metrics(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    res->content_type = "text/plain; version=0.0.4";
    buf_printf(&res->body, "# HELP riskgate_waiters Clients waiting on a suspended request (long-poll).\n"
                           "# TYPE riskgate_waiters gauge\nriskgate_waiters %zu\n", notify_count(app->notify));
    if (http_metrics_render(app->metrics, &res->body))
        http_error(res, 500, "InternalServerError", "metrics could not be rendered");
}

void api_whoami(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "tenantId", auth.tenant_id, "tenant", auth.tenant_name, "keyId",
                          auth.key_id, "role", auth.admin ? "admin" : "reader");
    api_send(res, 200, o);
    json_decref(o);
}

static int operator_auth(struct app *app, struct http_request *req, struct http_response *res, enum api_access access,
                         struct api_auth *auth)
{
    if (api_authenticate(app, req, res, access, auth))
        return -1;
    if (strcmp(auth->tenant_name, APP_DEFAULT_TENANT)) {
        http_error(res, 403, "Forbidden", "Tenants are managed with a key of the '" APP_DEFAULT_TENANT "' tenant.");
        return -1;
    }
    return 0;
}

void api_tenant_list(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (operator_auth(app, req, res, API_READ, &auth))
        return;
    json_t *all = NULL;
    int rc = app->store->ops->tenant_list(app->store, &all);
    if (rc) {
        api_fail(res, rc, "tenant list");
        return;
    }
    api_send_collection(app, req, res, "tenants", all, api_coll_tenants());
    json_decref(all);
}

static bool valid_name(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (!n || n > max)
        return false;
    for (const char *p = s; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return false;
    return true;
}

void api_tenant_create(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (operator_auth(app, req, res, API_WRITE, &auth))
        return;
    json_t *body = NULL;
    if (api_parse_body(req, res, &body))
        return;
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v) {
        if (strcmp(k, "name")) {
            http_error(res, 400, "BadRequest", "%s: unknown property of a tenant.", k);
            goto out;
        }
    }
    if (!valid_name(name, 63)) {
        http_error(res, 400, "BadRequest", "name: 1 to 63 characters of a-z, 0-9, '-', '_' and '.' are required.");
        goto out;
    }
    char id[UTIL_UUID_LEN + 1], key_id[UTIL_UUID_LEN + 1];
    struct store *s = app->store;
    int rc = s->ops->begin(s);
    if (!rc)
        rc = app_tenant_create(app, name, id);
    char *key = rc ? NULL : app_key_create(app, id, "initial admin key", "admin", key_id);
    if (!rc && !key)
        rc = RG_EIO;
    if (!rc)
        rc = s->ops->commit(s);
    else
        s->ops->rollback(s);
    if (rc) {
        if (rc == RG_EEXISTS)
            http_error(res, 400, "BadRequest", "name: a tenant named '%s' already exists.", name);
        else
            api_fail(res, rc, "tenant");
    } else {
        json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s,s:s}}", "id", id, "name", name, "adminKey", "id", key_id, "role",
                              "admin", "key", key);
        api_send(res, 201, o);
        json_decref(o);
    }
    if (key)
        OPENSSL_cleanse(key, strlen(key));
    free(key);
out:
    json_decref(body);
}

void api_key_list(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_WRITE, &auth))
        return;
    json_t *all = NULL;
    int rc = app->store->ops->key_list(app->store, auth.tenant_id, &all);
    if (rc) {
        api_fail(res, rc, "key list");
        return;
    }
    api_send_collection(app, req, res, "keys", all, api_coll_keys());
    json_decref(all);
}

void api_key_create(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_WRITE, &auth))
        return;
    json_t *body = NULL;
    if (api_parse_body(req, res, &body))
        return;
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *role = json_string_value(json_object_get(body, "role"));
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v) {
        if (strcmp(k, "name") && strcmp(k, "role")) {
            http_error(res, 400, "BadRequest", "%s: unknown property of an API key.", k);
            goto out;
        }
    }
    if (!name || !*name || strlen(name) > 127) {
        http_error(res, 400, "BadRequest", "name: a name of 1 to 127 characters is required.");
        goto out;
    }
    if (!role || (strcmp(role, "admin") && strcmp(role, "reader"))) {
        http_error(res, 400, "BadRequest", "role: must be 'admin' or 'reader'.");
        goto out;
    }
    char id[UTIL_UUID_LEN + 1];
    char *key = app_key_create(app, auth.tenant_id, name, role, id);
    if (!key) {
        api_fail(res, RG_EIO, "key");
        goto out;
    }
    json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "id", id, "name", name, "role", role, "key", key);
    api_send(res, 201, o);
    json_decref(o);
    OPENSSL_cleanse(key, strlen(key));
    free(key);
out:
    json_decref(body);
}

void api_key_delete(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_WRITE, &auth))
        return;
    json_t *all = NULL;
    int rc = app->store->ops->key_list(app->store, auth.tenant_id, &all);
    if (rc) {
        api_fail(res, rc, "key");
        return;
    }
    size_t i, admins = 0;
    json_t *key, *target = NULL;
    json_array_foreach(all, i, key) {
        if (!strcmp(json_string_value(json_object_get(key, "role")), "admin"))
            admins++;
        if (!strcmp(json_string_value(json_object_get(key, "id")), req->params[0]))
            target = key;
    }
    if (!target)
        api_fail(res, RG_ENOTFOUND, "key");
    else if (admins == 1 && !strcmp(json_string_value(json_object_get(target, "role")), "admin"))
        http_error(res, 400, "BadRequest", "id: this is the tenant's last admin key; create another one first.");
    else if ((rc = app->store->ops->key_delete(app->store, auth.tenant_id, req->params[0])))
        api_fail(res, rc, "key");
    else
        res->status = 204;
    json_decref(all);
}

void api_effective(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    char user_q[256], app_id[256], platform[16], level[64];
    if (http_query_get(req->query, "user", user_q, sizeof user_q) <= 0) {
        http_error(res, 400, "BadRequest", "user: the user's id or userPrincipalName is required.");
        return;
    }
    if (http_query_get(req->query, "app", app_id, sizeof app_id) <= 0 || !app_id[0]) {
        http_error(res, 400, "BadRequest", "app: the app's package id (Android) or bundle id (iOS) is required.");
        return;
    }
    if (http_query_get(req->query, "platform", platform, sizeof platform) <= 0 ||
        (strcmp(platform, "android") && strcmp(platform, "ios"))) {
        http_error(res, 400, "BadRequest", "platform: 'android' or 'ios' is required.");
        return;
    }
    int hl = http_query_get(req->query, "managementLevel", level, sizeof level);
    if (hl < 0) {
        http_error(res, 400, "BadRequest", "managementLevel: too long.");
        return;
    }
    json_t *user = NULL, *groups = NULL, *all = NULL, *eff = NULL;
    int rc = api_user_find(app, auth.tenant_id, user_q, &user);
    if (rc) {
        api_fail(res, rc, "user");
        return;
    }
    const char *uid = json_string_value(json_object_get(user, "id"));
    rc = api_user_groups(app, auth.tenant_id, uid, &groups);
    if (!rc)
        rc = app->store->ops->doc_list(app->store, auth.tenant_id, API_POLICY_COLLECTION, &all);
    if (rc) {
        api_fail(res, rc, "policy list");
        goto out;
    }
    size_t ng = json_array_size(groups);
    const char **gids = calloc(ng ? ng : 1, sizeof *gids);
    for (size_t i = 0; i < ng; i++)
        gids[i] = json_string_value(json_array_get(groups, i));
    struct effective_query q = {
        .user_id = uid,
        .group_ids = gids,
        .group_count = ng,
        .app_id = app_id,
        .platform = !strcmp(platform, "ios") ? EFFECTIVE_IOS : EFFECTIVE_ANDROID,
        .management_level = hl > 0 ? level : "unmanaged",
    };
    rc = effective_compute(&q, all, &eff);
    free(gids);
    if (rc) {
        api_fail(res, rc, "effective policy");
        goto out;
    }
    struct buf lines = BUF_INIT(4u << 20);
    effective_explain_lines(eff, &lines);
    json_t *arr = json_array();
    char *save = NULL, *text = buf_detach(&lines);
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        json_array_append_new(arr, json_string(line));
    free(text);
    json_object_set_new(eff, "explanation", arr);
    json_object_set_new(eff, "userId", json_string(uid));
    json_object_set_new(eff, "app", json_string(app_id));
    json_object_set_new(eff, "platform", json_string(platform));
    json_object_set_new(eff, "managementLevel", json_string(q.management_level));
    api_send(res, 200, eff);
out:
    json_decref(user);
    json_decref(groups);
    json_decref(all);
    json_decref(eff);
}

void api_registration_list(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    struct odata_query *q = NULL;
    if (api_query(req, res, api_coll_registrations(), &q))
        return;
    json_t *all = NULL;
    int rc = app->store->ops->doc_list(app->store, auth.tenant_id, "managedAppRegistrations", &all);
    json_t *items = json_array();
    struct api_reg_ctx c;
    api_reg_ctx_init(&c);
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r) {
        json_t *pub = api_registration_public(r);
        json_array_append_new(items, pub);
        if (!rc)
            rc = api_reg_expand(app, auth.tenant_id, &c, r, pub, q);
    }
    if (rc)
        api_fail(res, rc, "registration list");
    else
        api_send_query(app, req, res, "deviceAppManagement/managedAppRegistrations", items, q);
    api_reg_ctx_release(&c);
    odata_query_free(q);
    json_decref(items);
    json_decref(all);
}

void api_registration_get(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    struct odata_query *q = NULL;
    if (api_query(req, res, api_coll_registrations(), &q))
        return;
    json_t *reg = NULL;
    int rc = app->store->ops->doc_get(app->store, auth.tenant_id, "managedAppRegistrations", req->params[0], &reg);
    json_t *pub = rc ? NULL : api_registration_public(reg);
    struct api_reg_ctx c;
    api_reg_ctx_init(&c);
    if (!rc)
        rc = api_reg_expand(app, auth.tenant_id, &c, reg, pub, q);
    if (rc) {
        api_fail(res, rc, "managedAppRegistration");
    } else {
        char ctx[512];
        api_context_url(app, req, "deviceAppManagement/managedAppRegistrations/$entity", ctx, sizeof ctx);
        json_t *o = json_pack("{s:s}", "@odata.context", ctx);
        json_object_update(o, pub);
        api_send(res, 200, o);
        json_decref(o);
    }
    api_reg_ctx_release(&c);
    odata_query_free(q);
    json_decref(pub);
    json_decref(reg);
}

/* The audit trail (audit.h): admins only, as Intune's audit log needs its own permission. */
static int audit_auth(struct app *app, struct http_request *req, struct http_response *res, struct api_auth *auth)
{
    if (api_authenticate(app, req, res, API_READ, auth))
        return -1;
    if (!auth->admin) {
        http_error(res, 403, "Forbidden", "The audit trail needs an 'admin' key.");
        return -1;
    }
    return 0;
}

void api_audit_list(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (audit_auth(app, req, res, &auth))
        return;
    api_send_docs(app, req, res, "deviceManagement/auditEvents", auth.tenant_id, AUDIT_COLLECTION,
                  api_coll_audit_events(), NULL, false);
}

void api_audit_get(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (audit_auth(app, req, res, &auth))
        return;
    json_t *d = NULL;
    int rc = app->store->ops->doc_get(app->store, auth.tenant_id, AUDIT_COLLECTION, req->params[0], &d);
    if (rc) {
        api_fail(res, rc, "audit event");
        return;
    }
    char ctx[512];
    api_context_url(app, req, "deviceManagement/auditEvents/$entity", ctx, sizeof ctx);
    json_object_set_new(d, "@odata.context", json_string(ctx));
    api_send(res, 200, d);
    json_decref(d);
}
