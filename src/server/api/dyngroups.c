/*
 * dyngroups.c: dynamic membership, as Entra ID has it. A group whose
 * groupTypes include "DynamicMembership" has its members computed from its
 * membershipRule (policy/dynrule.h) over the tenant's users and stored in
 * the group's "members", like any group's, so everything that reads
 * membership (targeting, the check-in snapshot, members) sees one list. The
 * members are recomputed when the rule, the group type or the processing
 * state changes, and for one user whenever that user is created or changed,
 * in the same transaction as the write. membershipRuleProcessingState
 * "Paused" freezes the members as they are.
 */
#include <string.h>

#include "server/api/api.h"
#include "server/policy/dynrule.h"

bool api_group_is_dynamic(const json_t *g)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(g, "groupTypes"), i, t) {
        if (json_is_string(t) && !strcmp(json_string_value(t), "DynamicMembership"))
            return true;
    }
    return false;
}

static bool paused(const json_t *g)
{
    const char *s = json_string_value(json_object_get(g, "membershipRuleProcessingState"));
    return s && !strcmp(s, "Paused");
}

int api_dyngroup_check(json_t *g, struct http_response *res)
{
    json_t *rule = json_object_get(g, "membershipRule");
    if (!api_group_is_dynamic(g)) {
        if (json_is_string(rule)) {
            http_error(res, 400, "BadRequest",
                       "membershipRule: only a group whose groupTypes include DynamicMembership has a rule.");
            return -1;
        }
        return 0;
    }
    if (!json_is_string(rule) || !json_string_length(rule)) {
        http_error(res, 400, "BadRequest",
                   "membershipRule: required for a group whose groupTypes include DynamicMembership.");
        return -1;
    }
    struct dynrule *r = NULL;
    char err[DYNRULE_ERR_LEN];
    int rc = dynrule_parse(json_string_value(rule), &r, err, sizeof err);
    dynrule_free(r);
    if (rc) {
        http_error(res, rc == RG_ENOMEM ? 500 : 400, rc == RG_ENOMEM ? "InternalServerError" : "BadRequest", "%s", err);
        return -1;
    }
    if (json_is_null(json_object_get(g, "membershipRuleProcessingState")) ||
        !json_object_get(g, "membershipRuleProcessingState"))
        json_object_set_new(g, "membershipRuleProcessingState", json_string("On"));
    return 0;
}

int api_dyngroup_compute(struct app *app, const char *tenant_id, json_t *g)
{
    if (!api_group_is_dynamic(g) || paused(g))
        return 0;
    struct dynrule *r = NULL;
    if (dynrule_parse(json_string_value(json_object_get(g, "membershipRule")), &r, NULL, 0))
        return RG_EINVAL; /* api_dyngroup_check let it through: cannot happen */
    json_t *users = NULL, *members = json_array();
    int rc = app->store->ops->doc_list(app->store, tenant_id, "users", &users);
    size_t i;
    json_t *u;
    json_array_foreach(users, i, u) {
        if (!rc && dynrule_match(r, u))
            rc = json_array_append(members, json_object_get(u, "id")) ? RG_ENOMEM : 0;
    }
    dynrule_free(r);
    json_decref(users);
    if (!rc)
        rc = json_object_set(g, "members", members) ? RG_ENOMEM : 0;
    json_decref(members);
    return rc;
}

int api_dyngroup_user_changed(struct app *app, const char *tenant_id, const json_t *user)
{
    struct store *s = app->store;
    const char *uid = json_string_value(json_object_get(user, "id"));
    if (!uid)
        return RG_EINVAL; /* every stored user has its id */
    json_t *groups = NULL;
    int rc = s->ops->doc_list(s, tenant_id, "groups", &groups);
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g) {
        if (rc)
            break;
        if (!api_group_is_dynamic(g) || paused(g))
            continue;
        struct dynrule *r = NULL;
        if (dynrule_parse(json_string_value(json_object_get(g, "membershipRule")), &r, NULL, 0))
            continue;
        bool want = dynrule_match(r, user);
        dynrule_free(r);
        json_t *m = json_object_get(g, "members");
        if (!json_is_array(m)) {
            json_object_set_new(g, "members", json_array());
            m = json_object_get(g, "members");
        }
        size_t at = SIZE_MAX, j;
        json_t *v;
        json_array_foreach(m, j, v) {
            if (json_is_string(v) && !strcmp(json_string_value(v), uid))
                at = j;
        }
        if (want == (at != SIZE_MAX))
            continue;
        if (want)
            rc = json_array_append_new(m, json_string(uid)) ? RG_ENOMEM : 0;
        else
            json_array_remove(m, at);
        if (!rc)
            rc = s->ops->doc_update(s, tenant_id, "groups", json_string_value(json_object_get(g, "id")), g);
    }
    json_decref(groups);
    return rc;
}
