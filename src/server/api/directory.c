/*
 * directory.c: the minimal directory assignments need: users, groups and
 * group members (Graph's /users, /groups, /groups/{id}/members/$ref), and
 * /users/{id}/getManagedAppPolicies.
 *
 * Users and groups are documents in the "users" and "groups" collections;
 * a group's member ids are kept in its document ("members", not served).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "common/password.h"
#include "server/api/api.h"
#include "server/api/signin.h"
#include "server/notify.h"
#include "server/policy/effective.h"
#include "server/policy/schema.h"
#include "server/threat/threat.h"

int api_user_find(struct app *app, const char *tenant_id, const char *id_or_upn, json_t **out)
{
    int rc = app->store->ops->doc_get(app->store, tenant_id, "users", id_or_upn, out);
    if (rc != RG_ENOTFOUND || !strchr(id_or_upn, '@'))
        return rc;
    return app->store->ops->user_find(app->store, tenant_id, id_or_upn, out); /* by index, case ignored */
}

static bool contains(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (json_is_string(v) && !strcmp(json_string_value(v), s))
            return true;
    }
    return false;
}

int api_user_groups(struct app *app, const char *tenant_id, const char *user_id, json_t **out)
{
    json_t *groups = NULL;
    int rc = app->store->ops->doc_list(app->store, tenant_id, "groups", &groups);
    if (rc)
        return rc;
    json_t *ids = json_array();
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g) {
        if (contains(json_object_get(g, "members"), user_id))
            json_array_append(ids, json_object_get(g, "id"));
    }
    json_decref(groups);
    *out = ids;
    return 0;
}

static json_t *public_doc(const json_t *doc)
{
    json_t *o = json_deep_copy(doc);
    json_object_del(o, "members");
    json_object_del(o, "passwordHash");
    return o;
}

/*
 * Takes Graph's passwordProfile out of a user body: {"password": "...",
 * "forceChangePasswordNextSignIn": bool}. On success pw holds the password
 * (or "" when the body had none), to be hashed off the loop (api_hash_start).
 * On error fills res (400).
 */
static int take_password(json_t *body, char *pw_out, size_t pwlen, struct http_response *res)
{
    pw_out[0] = '\0';
    json_t *pp = json_object_get(body, "passwordProfile");
    if (!pp)
        return 0;
    json_t *pw = json_object_get(pp, "password");
    const char *k;
    json_t *v;
    if (!json_is_object(pp) || !json_is_string(pw)) {
        http_error(res, 400, "BadRequest", "passwordProfile.password: a string is required.");
        return -1;
    }
    json_object_foreach(pp, k, v) {
        if (strcmp(k, "password") && strcmp(k, "forceChangePasswordNextSignIn") && strcmp(k, "forceChangePasswordNextSignInWithMfa") &&
            !strstr(k, "@odata.")) {
            http_error(res, 400, "BadRequest", "passwordProfile.%s: unknown property of passwordProfile.", k);
            return -1;
        }
    }
    size_t len = json_string_length(pw);
    if (len < PASSWORD_MIN_LEN || len > PASSWORD_MAX_LEN || strlen(json_string_value(pw)) != len) {
        http_error(res, 400, "BadRequest", "passwordProfile.password: must be %d to %d characters.", PASSWORD_MIN_LEN,
                   PASSWORD_MAX_LEN);
        return -1;
    }
    snprintf(pw_out, pwlen, "%s", json_string_value(pw));
    json_object_del(body, "passwordProfile");
    return 0;
}

static void entity_context(struct app *app, struct http_request *req, const char *coll, char *ctx, size_t ctxlen)
{
    char what[64];
    snprintf(what, sizeof what, "%s/$entity", coll);
    api_context_url(app, req, what, ctx, ctxlen);
}

static void send_entity(struct http_response *res, int status, const char *ctx, const json_t *doc)
{
    json_t *o = json_pack("{s:s}", "@odata.context", ctx);
    json_t *p = public_doc(doc);
    json_object_update(o, p);
    json_decref(p);
    api_send(res, status, o);
    json_decref(o);
}

static void send_one(struct app *app, struct http_request *req, struct http_response *res, int status,
                     const char *coll, const json_t *doc)
{
    char ctx[512];
    entity_context(app, req, coll, ctx, sizeof ctx);
    send_entity(res, status, ctx, doc);
}

static void list_coll(struct app *app, struct http_request *req, struct http_response *res, const char *coll)
{
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    api_send_docs(app, req, res, coll, auth.tenant_id, coll,
                  api_coll_schema(!strcmp(coll, "users") ? SCHEMA_USER : SCHEMA_GROUP), public_doc, true);
}

static int load(struct app *app, struct api_auth *auth, const char *coll, const char *id, json_t **out)
{
    if (!strcmp(coll, "users"))
        return api_user_find(app, auth->tenant_id, id, out);
    return app->store->ops->doc_get(app->store, auth->tenant_id, coll, id, out);
}

static void get_one(struct app *app, struct http_request *req, struct http_response *res, const char *coll)
{
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    json_t *doc = NULL;
    int rc = load(app, &auth, coll, req->params[0], &doc);
    if (rc) {
        api_fail(res, rc, !strcmp(coll, "users") ? "user" : "group");
        return;
    }
    send_one(app, req, res, 200, coll, doc);
    json_decref(doc);
}

/* userPrincipalName must be unique in a tenant (case-insensitive). */
static int upn_taken(struct app *app, struct api_auth *auth, const char *upn, const char *except_id)
{
    json_t *u = NULL;
    int rc = api_user_find(app, auth->tenant_id, upn, &u);
    int taken = rc == 0 && (!except_id || strcmp(json_string_value(json_object_get(u, "id")), except_id));
    json_decref(u);
    return taken;
}

/*
 * Writes a user or group in one transaction with what dynamic membership makes of it: a
 * dynamic group's members computed from its rule, or a user's place in every dynamic group.
 */
static int write_directory(struct app *app, const char *tenant_id, const char *coll, enum schema_kind kind,
                           const char *id, json_t *doc, bool insert)
{
    struct store *s = app->store;
    int rc = s->ops->begin(s);
    if (!rc && kind == SCHEMA_GROUP)
        rc = api_dyngroup_compute(app, tenant_id, doc);
    if (!rc)
        rc = insert ? s->ops->doc_insert(s, tenant_id, coll, id, doc) : s->ops->doc_update(s, tenant_id, coll, id, doc);
    if (!rc && kind == SCHEMA_USER)
        rc = api_dyngroup_user_changed(app, tenant_id, doc);
    if (!rc)
        rc = s->ops->commit(s);
    else
        s->ops->rollback(s);
    return rc;
}

/*
 * A user or group write that may wait for a password's hash (api_hash_start):
 * what the loop needs to finish it once the request's own memory is gone.
 */
struct dir_write {
    struct app *app;
    struct api_auth auth;
    const char *coll; /* static */
    enum schema_kind kind;
    char id[UTIL_UUID_LEN + 1];
    json_t *doc;   /* create: the new document */
    json_t *patch; /* update: the validated patch, applied to the document as stored when the hash is ready */
    bool has_password; /* the body set a password: finish gets its hash, or NULL when hashing failed */
    struct audit_actor actor; /* who asked: the write, made later, is theirs in the audit trail */
    char location[512], context[512];
};

static void dir_write_free(void *arg)
{
    struct dir_write *w = arg;
    json_decref(w->doc);
    json_decref(w->patch);
    free(w);
}

static void upn_conflict(struct http_response *res, const char *upn)
{
    http_error(res, 400, "BadRequest", "userPrincipalName: another user with the same value '%s' already exists.",
               upn);
}

/* Creates the document (with the hash, when there is one); the 201 or the error into res. */
static void create_finish(void *arg, const char *hash, struct http_response *res)
{
    struct dir_write *w = arg;
    if (w->has_password && !hash) {
        http_error(res, 500, "InternalServerError", "passwordProfile.password: could not be hashed.");
        return;
    }
    /* checked again: another request may have taken the name while the hash ran */
    const char *upn = json_string_value(json_object_get(w->doc, "userPrincipalName"));
    if (w->kind == SCHEMA_USER && upn_taken(w->app, &w->auth, upn, NULL)) {
        upn_conflict(res, upn);
        return;
    }
    if (hash)
        json_object_set_new(w->doc, "passwordHash", json_string(hash));
    struct audit_actor now = w->app->actor;
    w->app->actor = w->actor; /* inline, the same; after a hash, the request's again */
    int rc = write_directory(w->app, w->auth.tenant_id, w->coll, w->kind, w->id, w->doc, true);
    w->app->actor = now;
    if (rc) {
        api_fail(res, rc, w->coll);
        return;
    }
    snprintf(res->location, sizeof res->location, "%s", w->location);
    send_entity(res, 201, w->context, w->doc);
}

static void create(struct app *app, struct http_request *req, struct http_response *res, const char *coll,
                   enum schema_kind kind)
{
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_WRITE, &auth))
        return;
    json_t *body = NULL, *props = NULL;
    if (api_parse_body(req, res, &body))
        return;
    char pw[PASSWORD_MAX_LEN + 1];
    if (kind == SCHEMA_USER && take_password(body, pw, sizeof pw, res))
        goto out;
    /* Graph needs a displayName; ours defaults a user's to its userPrincipalName */
    json_t *given_upn = json_object_get(body, "userPrincipalName");
    if (kind == SCHEMA_USER && !json_object_get(body, "displayName") && json_is_string(given_upn))
        json_object_set(body, "displayName", given_upn);
    struct schema_error err;
    int vrc = schema_validate(kind, body, false, &props, &err);
    if (vrc) {
        api_schema_fail(res, vrc, &err);
        goto out;
    }
    const char *upn = json_string_value(json_object_get(props, "userPrincipalName"));
    if (kind == SCHEMA_USER && upn_taken(app, &auth, upn, NULL)) {
        upn_conflict(res, upn);
        goto out;
    }
    struct dir_write *w = calloc(1, sizeof *w);
    if (!w) {
        api_fail(res, RG_ENOMEM, coll);
        goto out;
    }
    *w = (struct dir_write){.app = app, .auth = auth, .coll = coll, .kind = kind, .actor = app->actor};
    util_uuid(w->id, sizeof w->id);
    w->doc = json_pack("{s:s,s:s}", "@odata.type", schema_odata_type(kind), "id", w->id);
    json_object_update(w->doc, props);
    if (kind == SCHEMA_GROUP)
        json_object_set_new(w->doc, "members", json_array());
    if (kind == SCHEMA_GROUP && api_dyngroup_check(w->doc, res)) {
        dir_write_free(w);
        goto out;
    }
    snprintf(w->location, sizeof w->location, "%s/%s/%s/%s", app->public_url, req->version ? req->version : "v1.0",
             coll, w->id);
    entity_context(app, req, coll, w->context, sizeof w->context);
    if (kind == SCHEMA_USER && pw[0]) {
        w->has_password = true;
        api_hash_start(app, req, res, pw, create_finish, dir_write_free, w);
    } else {
        create_finish(w, NULL, res);
        dir_write_free(w);
    }
out:
    OPENSSL_cleanse(pw, sizeof pw);
    json_decref(body);
    json_decref(props);
}

/* Applies the patch to the document as stored now (with the hash, when there is one); 204 or the error. */
static void update_finish(void *arg, const char *hash, struct http_response *res)
{
    struct dir_write *w = arg;
    if (w->has_password && !hash) {
        http_error(res, 500, "InternalServerError", "passwordProfile.password: could not be hashed.");
        return;
    }
    json_t *doc = NULL;
    int rc = load(w->app, &w->auth, w->coll, w->id, &doc);
    if (rc) {
        api_fail(res, rc, w->kind == SCHEMA_USER ? "user" : "group");
        return;
    }
    const char *upn = json_string_value(json_object_get(w->patch, "userPrincipalName"));
    if (upn && upn_taken(w->app, &w->auth, upn, w->id)) {
        upn_conflict(res, upn);
        json_decref(doc);
        return;
    }
    json_object_update(doc, w->patch);
    if (hash)
        json_object_set_new(doc, "passwordHash", json_string(hash));
    if (w->kind == SCHEMA_GROUP && api_dyngroup_check(doc, res)) {
        json_decref(doc);
        return;
    }
    struct audit_actor now = w->app->actor;
    w->app->actor = w->actor;
    rc = write_directory(w->app, w->auth.tenant_id, w->coll, w->kind, w->id, doc, false);
    w->app->actor = now;
    json_decref(doc);
    if (rc) {
        api_fail(res, rc, w->coll);
        return;
    }
    notify_tenant(w->app->notify, w->auth.tenant_id, NOTIFY_CONFIG);
    res->status = 204;
}

static void update(struct app *app, struct http_request *req, struct http_response *res, const char *coll,
                   enum schema_kind kind)
{
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_WRITE, &auth))
        return;
    json_t *doc = NULL, *body = NULL, *patch = NULL;
    char pw[PASSWORD_MAX_LEN + 1] = "";
    int rc = load(app, &auth, coll, req->params[0], &doc);
    if (rc) {
        api_fail(res, rc, kind == SCHEMA_USER ? "user" : "group");
        return;
    }
    if (api_parse_body(req, res, &body))
        goto out;
    if (kind == SCHEMA_USER && take_password(body, pw, sizeof pw, res))
        goto out;
    struct schema_error err;
    int vrc = schema_validate(kind, body, true, &patch, &err);
    if (vrc) {
        api_schema_fail(res, vrc, &err);
        goto out;
    }
    struct dir_write *w = calloc(1, sizeof *w);
    if (!w) {
        api_fail(res, RG_ENOMEM, coll);
        goto out;
    }
    *w = (struct dir_write){.app = app, .auth = auth, .coll = coll, .kind = kind, .patch = patch, .actor = app->actor};
    patch = NULL;
    snprintf(w->id, sizeof w->id, "%s", json_string_value(json_object_get(doc, "id")));
    if (kind == SCHEMA_USER && pw[0]) {
        w->has_password = true;
        api_hash_start(app, req, res, pw, update_finish, dir_write_free, w);
    } else {
        update_finish(w, NULL, res);
        dir_write_free(w);
    }
out:
    OPENSSL_cleanse(pw, sizeof pw);
    json_decref(doc);
    json_decref(body);
    json_decref(patch);
}

void api_user_list(void *app, struct http_request *req, struct http_response *res)
{
    list_coll(app, req, res, "users");
}
void api_user_create(void *app, struct http_request *req, struct http_response *res)
{
    create(app, req, res, "users", SCHEMA_USER);
}
void api_user_get(void *app, struct http_request *req, struct http_response *res)
{
    get_one(app, req, res, "users");
}
void api_user_update(void *app, struct http_request *req, struct http_response *res)
{
    update(app, req, res, "users", SCHEMA_USER);
}
void api_group_list(void *app, struct http_request *req, struct http_response *res)
{
    list_coll(app, req, res, "groups");
}
void api_group_create(void *app, struct http_request *req, struct http_response *res)
{
    create(app, req, res, "groups", SCHEMA_GROUP);
}
void api_group_get(void *app, struct http_request *req, struct http_response *res)
{
    get_one(app, req, res, "groups");
}
void api_group_update(void *app, struct http_request *req, struct http_response *res)
{
    update(app, req, res, "groups", SCHEMA_GROUP);
}

#define DYNAMIC_MEMBERS                                                                                               \
    "members: this group's members are computed from its membershipRule (groupTypes DynamicMembership); "            \
    "change the rule or the users' properties instead."

/* Removes a user id from a group's member list in place; true if it was there. */
static bool remove_member(json_t *group, const char *uid)
{
    json_t *m = json_object_get(group, "members");
    size_t i;
    json_t *v;
    json_array_foreach(m, i, v) {
        if (!strcmp(json_string_value(v), uid)) {
            json_array_remove(m, i);
            return true;
        }
    }
    return false;
}

void api_user_delete(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_WRITE, &auth))
        return;
    json_t *user = NULL, *groups = NULL;
    int rc = api_user_find(app, auth.tenant_id, req->params[0], &user);
    if (rc) {
        api_fail(res, rc, "user");
        return;
    }
    const char *uid = json_string_value(json_object_get(user, "id"));
    struct store *s = app->store;
    rc = s->ops->begin(s);
    if (!rc)
        rc = s->ops->doc_list(s, auth.tenant_id, "groups", &groups);
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g) {
        if (!rc && remove_member(g, uid))
            rc = s->ops->doc_update(s, auth.tenant_id, "groups", json_string_value(json_object_get(g, "id")), g);
    }
    if (!rc)
        rc = threat_offboard_user(s, auth.tenant_id, uid); /* its devices' credentials die with it */
    if (!rc)
        rc = s->ops->doc_delete(s, auth.tenant_id, "users", uid);
    if (!rc)
        rc = s->ops->commit(s);
    else
        s->ops->rollback(s);
    if (rc) {
        api_fail(res, rc, "user");
    } else {
        notify_tenant(app->notify, auth.tenant_id, NOTIFY_CONFIG);
        res->status = 204;
    }
    json_decref(user);
    json_decref(groups);
}

void api_group_delete(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_WRITE, &auth))
        return;
    /* Policies keep assignments to a deleted group; they match nobody, as in Intune. */
    int rc = app->store->ops->doc_delete(app->store, auth.tenant_id, "groups", req->params[0]);
    if (rc)
        api_fail(res, rc, "group");
    else
        res->status = 204;
}

void api_group_members(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    json_t *g = NULL;
    int rc = app->store->ops->doc_get(app->store, auth.tenant_id, "groups", req->params[0], &g);
    if (rc) {
        api_fail(res, rc, "group");
        return;
    }
    json_t *items = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(g, "members"), i, v) {
        json_t *u = NULL;
        if (!app->store->ops->doc_get(app->store, auth.tenant_id, "users", json_string_value(v), &u)) {
            json_array_append_new(items, public_doc(u));
            json_decref(u);
        }
    }
    api_send_collection(app, req, res, "directoryObjects", items, api_coll_directory_objects());
    json_decref(items);
    json_decref(g);
}

/* The id at the end of an @odata.id: ".../directoryObjects/{id}", ".../users/{id}" or "...('{id}')". */
static int ref_id(const char *ref, char *out, size_t n)
{
    const char *p = strrchr(ref, '/');
    p = p ? p + 1 : ref;
    const char *q = strstr(p, "('");
    size_t len;
    if (q) {
        p = q + 2;
        const char *e = strstr(p, "')");
        if (!e)
            return -1;
        len = (size_t)(e - p);
    } else {
        len = strlen(p);
    }
    if (!len || len >= n)
        return -1;
    memcpy(out, p, len);
    out[len] = '\0';
    return 0;
}

void api_group_member_add(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_WRITE, &auth))
        return;
    json_t *g = NULL, *body = NULL, *u = NULL;
    int rc = app->store->ops->doc_get(app->store, auth.tenant_id, "groups", req->params[0], &g);
    if (rc) {
        api_fail(res, rc, "group");
        return;
    }
    if (api_group_is_dynamic(g)) {
        http_error(res, 400, "BadRequest", DYNAMIC_MEMBERS);
        goto out;
    }
    if (api_parse_body(req, res, &body))
        goto out;
    const char *ref = json_string_value(json_object_get(body, "@odata.id"));
    char uid[256];
    if (!ref || ref_id(ref, uid, sizeof uid)) {
        http_error(res, 400, "BadRequest",
                   "@odata.id: required, e.g. \"https://graph.microsoft.com/v1.0/directoryObjects/{user id}\".");
        goto out;
    }
    if (api_user_find(app, auth.tenant_id, uid, &u)) {
        http_error(res, 400, "BadRequest", "@odata.id: no user '%s' in this tenant.", uid);
        goto out;
    }
    const char *id = json_string_value(json_object_get(u, "id"));
    json_t *members = json_object_get(g, "members");
    if (contains(members, id)) {
        http_error(res, 400, "BadRequest",
                   "@odata.id: one or more added object references already exist for the following modified "
                   "properties: 'members'.");
        goto out;
    }
    json_array_append_new(members, json_string(id));
    rc = app->store->ops->doc_update(app->store, auth.tenant_id, "groups", req->params[0], g);
    if (rc) {
        api_fail(res, rc, "group");
    } else {
        notify_tenant(app->notify, auth.tenant_id, NOTIFY_CONFIG);
        res->status = 204;
    }
out:
    json_decref(g);
    json_decref(body);
    json_decref(u);
}

void api_group_member_remove(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_WRITE, &auth))
        return;
    json_t *g = NULL;
    int rc = app->store->ops->doc_get(app->store, auth.tenant_id, "groups", req->params[0], &g);
    if (rc) {
        api_fail(res, rc, "group");
        return;
    }
    if (api_group_is_dynamic(g))
        http_error(res, 400, "BadRequest", DYNAMIC_MEMBERS);
    else if (!remove_member(g, req->params[1]))
        api_fail(res, RG_ENOTFOUND, "group member");
    else if ((rc = app->store->ops->doc_update(app->store, auth.tenant_id, "groups", req->params[0], g)))
        api_fail(res, rc, "group");
    else {
        notify_tenant(app->notify, auth.tenant_id, NOTIFY_CONFIG);
        res->status = 204;
    }
    json_decref(g);
}

void api_user_policies(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    json_t *user = NULL, *groups = NULL, *all = NULL;
    int rc = api_user_find(app, auth.tenant_id, req->params[0], &user);
    if (!rc)
        rc = api_user_groups(app, auth.tenant_id, json_string_value(json_object_get(user, "id")), &groups);
    if (!rc)
        rc = app->store->ops->doc_list(app->store, auth.tenant_id, API_POLICY_COLLECTION, &all);
    if (rc) {
        api_fail(res, rc, "user");
    } else {
        size_t ng = json_array_size(groups), i;
        const char **gids = calloc(ng ? ng : 1, sizeof *gids);
        for (i = 0; i < ng; i++)
            gids[i] = json_string_value(json_array_get(groups, i));
        struct effective_query q = {.user_id = json_string_value(json_object_get(user, "id")), .group_ids = gids,
                                    .group_count = ng};
        json_t *items = json_array();
        json_t *p;
        json_array_foreach(all, i, p) {
            if (effective_user_targeted(&q, p))
                json_array_append_new(items, api_policy_public(p, false));
        }
        free(gids);
        api_send_collection(app, req, res, "Collection(microsoft.graph.managedAppPolicy)", items, api_coll_schema(-1));
        json_decref(items);
    }
    json_decref(user);
    json_decref(groups);
    json_decref(all);
}
