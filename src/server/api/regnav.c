/*
 * regnav.c: the navigation properties of a managedAppRegistration, as Graph
 * has them: intendedPolicies (the policies that apply to it now, as check-in
 * decides), appliedPolicies (those of them the app has had since it last
 * synchronised: unchanged since its lastSyncDateTime) and operations (its
 * selective wipes, as managedAppOperation). Served as collections
 * (managedAppRegistrations/{id}/<nav>) and through $expand on every
 * registration list and GET.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/api/api.h"
#include "server/policy/effective.h"

void api_reg_ctx_init(struct api_reg_ctx *c)
{
    memset(c, 0, sizeof *c);
}

void api_reg_ctx_release(struct api_reg_ctx *c)
{
    json_decref(c->policies);
    json_decref(c->wipes);
    json_decref(c->groups_of);
    memset(c, 0, sizeof *c);
}

int api_reg_applies(struct app *app, const char *tenant_id, struct api_reg_ctx *c, const json_t *reg,
                    const json_t *policy, bool *applies)
{
    *applies = false;
    const char *uid = json_string_value(json_object_get(reg, "userId"));
    const char *app_id = json_string_value(json_object_get(reg, "appId"));
    if (!uid || !app_id)
        return 0;
    if (!c->groups_of && !(c->groups_of = json_object()))
        return RG_ENOMEM;
    json_t *groups = json_object_get(c->groups_of, uid);
    if (!groups) {
        int rc = api_user_groups(app, tenant_id, uid, &groups);
        if (rc)
            return rc;
        if (json_object_set_new(c->groups_of, uid, groups)) /* frees groups */
            return RG_ENOMEM;
    }
    size_t ng = json_array_size(groups);
    const char **gids = calloc(ng ? ng : 1, sizeof *gids);
    if (!gids)
        return RG_ENOMEM;
    for (size_t g = 0; g < ng; g++)
        gids[g] = json_string_value(json_array_get(groups, g));
    const char *plat = json_string_value(json_object_get(reg, "platform"));
    struct effective_query q = {.user_id = uid, .group_ids = gids, .group_count = ng, .app_id = app_id,
                                .platform = plat && !strcmp(plat, "ios") ? EFFECTIVE_IOS : EFFECTIVE_ANDROID,
                                .management_level = json_string_value(json_object_get(reg, "managementLevel"))};
    *applies = effective_policy_applies(&q, policy) == 1;
    free(gids);
    return 0;
}

/* The policies intended for reg (applied_only: and unchanged since its last sync), in their public shape. */
static int policies_of(struct app *app, const char *tenant_id, struct api_reg_ctx *c, const json_t *reg,
                       bool applied_only, json_t **out)
{
    int rc = 0;
    if (!c->policies && (rc = app->store->ops->doc_list(app->store, tenant_id, API_POLICY_COLLECTION, &c->policies)))
        return rc;
    const char *synced = json_string_value(json_object_get(reg, "lastSyncDateTime"));
    int64_t sync_ms = 0;
    if (applied_only && (!synced || util_time_parse(synced, &sync_ms))) {
        *out = json_array(); /* never synchronised: nothing applied yet */
        return *out ? 0 : RG_ENOMEM;
    }
    json_t *list = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(c->policies, i, p) {
        bool applies;
        if ((rc = api_reg_applies(app, tenant_id, c, reg, p, &applies)))
            break;
        if (!applies)
            continue;
        if (applied_only) {
            const char *mod = json_string_value(json_object_get(p, "lastModifiedDateTime"));
            int64_t mod_ms = 0;
            if (mod && !util_time_parse(mod, &mod_ms) && mod_ms > sync_ms)
                continue;
        }
        json_array_append_new(list, api_policy_public(p, false));
    }
    if (rc) {
        json_decref(list);
        return rc;
    }
    *out = list;
    return 0;
}

/* reg's selective wipes as managedAppOperation: {"displayName","state","lastModifiedDateTime","id","version"}. */
static int operations_of(struct app *app, const char *tenant_id, struct api_reg_ctx *c, const json_t *reg, json_t **out)
{
    int rc;
    if (!c->wipes && (rc = app->store->ops->doc_list(app->store, tenant_id, "wipeRequests", &c->wipes)))
        return rc;
    json_t *list = json_array();
    size_t i;
    json_t *w;
    json_array_foreach(c->wipes, i, w) {
        if (!json_equal(json_object_get(w, "registrationId"), json_object_get(reg, "id")))
            continue;
        json_t *when = json_object_get(w, "completedDateTime");
        if (!json_is_string(when))
            when = json_object_get(w, "createdDateTime");
        json_array_append_new(list, json_pack("{s:s,s:O,s:s,s:O,s:O,s:s}", "@odata.type", "#microsoft.graph.managedAppOperation",
                                              "id", json_object_get(w, "id"), "displayName", "Selective wipe", "state",
                                              json_object_get(w, "status"), "lastModifiedDateTime", when, "version", "1"));
    }
    *out = list;
    return 0;
}

static int nav_of(struct app *app, const char *tenant_id, struct api_reg_ctx *c, const json_t *reg, const char *nav,
                  json_t **out)
{
    if (!strcmp(nav, "operations"))
        return operations_of(app, tenant_id, c, reg, out);
    return policies_of(app, tenant_id, c, reg, !strcmp(nav, "appliedPolicies"), out);
}

int api_reg_expand(struct app *app, const char *tenant_id, struct api_reg_ctx *c, const json_t *reg, json_t *pub,
                   const struct odata_query *q)
{
    for (size_t i = 0; q && i < q->nexpand; i++) {
        json_t *v = NULL;
        int rc = nav_of(app, tenant_id, c, reg, q->expand[i], &v);
        if (rc)
            return rc;
        json_object_set_new(pub, q->expand[i], v);
    }
    return 0;
}

static const struct odata_collection *nav_coll(const char *nav)
{
    return !strcmp(nav, "operations") ? api_coll_operations() : api_coll_schema(-1);
}

void api_registration_nav(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    const char *nav = req->route_arg;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    json_t *reg = NULL, *items = NULL;
    int rc = app->store->ops->doc_get(app->store, auth.tenant_id, "managedAppRegistrations", req->params[0], &reg);
    struct api_reg_ctx c;
    api_reg_ctx_init(&c);
    if (!rc)
        rc = nav_of(app, auth.tenant_id, &c, reg, nav, &items);
    if (rc) {
        api_fail(res, rc, "managedAppRegistration");
    } else {
        char ctx[256];
        snprintf(ctx, sizeof ctx, "deviceAppManagement/managedAppRegistrations('%s')/%s", req->params[0], nav);
        api_send_collection(app, req, res, ctx, items, nav_coll(nav));
    }
    api_reg_ctx_release(&c);
    json_decref(items);
    json_decref(reg);
}
