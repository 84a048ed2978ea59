/*
 * api.h: helpers shared by the admin API handlers (one file per resource
 * family under api/). HTTP status codes are decided here, from RG_ codes.
 */
#ifndef RG_API_H
#define RG_API_H
#include <stdbool.h>

#include <jansson.h>

#include "common/err.h"
#include "server/app.h"
#include "server/http/http.h"
#include "server/odata/odata.h"
#include "server/store/store.h"

struct api_auth {
    char tenant_id[UTIL_UUID_LEN + 1];
    char tenant_name[128];
    char key_id[UTIL_UUID_LEN + 1];
    bool admin; /* role admin (read-write); false = reader */
    char key_name[128];
};

enum api_access { API_READ, API_WRITE };

/*
 * Authenticates the Bearer key and checks the role for the access wanted.
 * On failure fills res (401 or 403) and returns non-zero; the handler returns.
 */
int api_authenticate(struct app *app, struct http_request *req, struct http_response *res, enum api_access access,
                     struct api_auth *out);

/*
 * Parses the request body as one JSON object: accepts a UTF-8 byte order mark
 * and CRLF line ends. On failure fills res (400) and returns non-zero.
 * *out is a new reference.
 */
int api_parse_body(struct http_request *req, struct http_response *res, json_t **out);

/*
 * The answer to a failed schema_validate (its result rc and err): 400 with err's message for a body
 * that breaks the schema, or api_fail's 500 when validation ran out of memory (the body may be fine).
 */
struct schema_error;
void api_schema_fail(struct http_response *res, int rc, const struct schema_error *err);

/* Answers with a JSON value (borrowed) and status. */
void api_send(struct http_response *res, int status, const json_t *v);
/*
 * Maps an RG_ code to an HTTP error answer (the one place store results become statuses);
 * what names the object: 404 RG_ENOTFOUND, 409 RG_EEXISTS, 400 RG_EINVAL and RG_ETOOBIG,
 * 412 RG_ECONFLICT, 503 RG_EFULL (storage full, with Retry-After), 500 anything else.
 */
void api_fail(struct http_response *res, int rc, const char *what);

/*
 * Parses the request's OData query options against coll (one of the
 * api_coll_* descriptions, or the caller's own). On success *q is the parsed
 * query (odata_query_free it) and 0 is returned; otherwise res holds Graph's
 * 400 naming the option or property, and -1 is returned.
 */
int api_query(struct http_request *req, struct http_response *res, const struct odata_collection *coll,
              struct odata_query **q);

/* True on a ".../$count" route (req->route ends in "/$count"): the answer is the count alone. */
bool api_count_route(const struct http_request *req);
/* The answer of a "/$count" route: 200, text/plain, the decimal number n alone. */
void api_send_count(struct http_response *res, int64_t n);

/*
 * Answers a collection held in memory, as Graph does: $filter, $orderby
 * (items is sorted in place), $skip, $top (default and maximum page 1000),
 * $select, $count=true (@odata.count); @odata.context (context is the part
 * after "$metadata#") and @odata.nextLink, rebuilt from the parsed options
 * only, when more remain. On a route ending in "/$count" the answer is the
 * number of matching items as text/plain. api_send_query takes a query the
 * caller parsed with api_query (borrowed); api_send_collection parses it.
 */
void api_send_query(struct app *app, struct http_request *req, struct http_response *res, const char *context,
                    json_t *items, const struct odata_query *q);
void api_send_collection(struct app *app, struct http_request *req, struct http_response *res, const char *context,
                         json_t *items, const struct odata_collection *coll);
/*
 * Sends one page (taken): @odata.context (context: after "$metadata#"),
 * @odata.count when $count=true, value, and when more remain the
 * @odata.nextLink of path (NULL: the request's) at $skip=next_skip, rebuilt
 * from the parsed options only (a 400 if it would be too long).
 */
void api_send_page(struct app *app, struct http_request *req, struct http_response *res, const char *context,
                   const char *path, const struct odata_query *q, json_t *page, bool more, int64_t count,
                   long next_skip);

/*
 * Answers a stored collection as api_send_query does, from SQL (store
 * doc_query: $filter, $orderby, $skip, $top and counts from the indexes, one
 * page read), or from memory when the query has no SQL form. shape turns a
 * stored document into its public form (a new reference; NULL: as stored).
 * searchable: the collection takes Graph's $search (directory objects; with
 * the header "ConsistencyLevel: eventual"), evaluated in memory (search.c).
 */
void api_send_docs(struct app *app, struct http_request *req, struct http_response *res, const char *context,
                   const char *tenant_id, const char *coll, const struct odata_collection *oc,
                   json_t *(*shape)(const json_t *doc), bool searchable);

/* $search on directory objects (search.c): parsed against the collection's string properties. */
struct api_search;
int api_search_parse(const char *text, const struct odata_collection *oc, struct api_search **out, char *err,
                     size_t errlen);
bool api_search_match(const struct api_search *se, const json_t *item);
void api_search_free(struct api_search *se);

/*
 * A registration's navigation properties (regnav.c): what one request has loaded to answer them
 * (the tenant's policies, wipes, and each user's groups), kept across registrations of one list.
 */
struct api_reg_ctx {
    json_t *policies;  /* stored policy documents, or NULL until needed */
    json_t *wipes;     /* wipe requests, or NULL until needed */
    json_t *groups_of; /* user id -> array of group ids */
};
void api_reg_ctx_init(struct api_reg_ctx *c);
void api_reg_ctx_release(struct api_reg_ctx *c);
/* Does the policy apply to the registration now (its user's groups, app, platform, level)? 0 or an RG_ code. */
int api_reg_applies(struct app *app, const char *tenant_id, struct api_reg_ctx *c, const json_t *reg,
                    const json_t *policy, bool *applies);
/* Adds to pub (the registration's public shape) each navigation property q's $expand names. 0 or an RG_ code. */
int api_reg_expand(struct app *app, const char *tenant_id, struct api_reg_ctx *c, const json_t *reg, json_t *pub,
                   const struct odata_query *q);
/* GET managedAppRegistrations/{id}/<nav>; route_arg is "appliedPolicies", "intendedPolicies" or "operations". */
void api_registration_nav(void *app, struct http_request *req, struct http_response *res);

/* deviceAppManagement/managedAppStatuses, the status reports (statuses.c). */
void api_app_status_list(void *app, struct http_request *req, struct http_response *res);
void api_app_status_get(void *app, struct http_request *req, struct http_response *res);

/* Dynamic membership (dyngroups.c). */
bool api_group_is_dynamic(const json_t *group);
/* Checks a group document's groupTypes / membershipRule (400 into res, -1) and defaults its processing state. */
int api_dyngroup_check(json_t *group, struct http_response *res);
/* Recomputes a dynamic group's "members" from the tenant's users, in place (not when Paused). 0 or an RG_ code. */
int api_dyngroup_compute(struct app *app, const char *tenant_id, json_t *group);
/* Re-evaluates every dynamic group for one created or changed user and writes the groups that change. */
int api_dyngroup_user_changed(struct app *app, const char *tenant_id, const json_t *user);

/* The OData descriptions of the in-memory collections (collections.c). */
const struct odata_collection *api_coll_schema(int kind); /* enum schema_kind; -1 = every policy kind */
const struct odata_collection *api_coll_directory_objects(void); /* users and groups */
const struct odata_collection *api_coll_registrations(void);
const struct odata_collection *api_coll_wipes(void);
const struct odata_collection *api_coll_audit_events(void);
void api_audit_list(void *app, struct http_request *req, struct http_response *res);
void api_audit_get(void *app, struct http_request *req, struct http_response *res);
const struct odata_collection *api_coll_tenants(void);
const struct odata_collection *api_coll_keys(void);
const struct odata_collection *api_coll_assignments(void);
const struct odata_collection *api_coll_apps(void);
const struct odata_collection *api_coll_operations(void); /* managedAppOperation */
const struct odata_collection *api_coll_app_statuses(void); /* managedAppStatus */

/* "https://host/beta/$metadata#<what>" into out. */
void api_context_url(struct app *app, struct http_request *req, const char *what, char *out, size_t outlen);

/* A new version string: a quoted ETag, e.g. "\"5b0f...\"" (the quotes are part of the value). */
void api_new_version(char *out, size_t outlen);

/* Appends s percent-encoded for a query string (unreserved characters kept). */
void api_buf_put_encoded(struct buf *b, const char *s);

/* Removes keys that start with '@odata.' or contain '@odata.' (annotations) from obj, in place. */
void api_strip_annotations(json_t *obj);

/* A policy resource family: one Graph collection backed by the "managedAppPolicies" store collection. */
struct api_family {
    const char *segment; /* "androidManagedAppProtections", ..., "managedAppPolicies" */
    int kind;            /* enum schema_kind, or -1 for the polymorphic managedAppPolicies */
};
extern const struct api_family api_family_android, api_family_ios, api_family_appconfig, api_family_all;

#define API_POLICY_COLLECTION "managedAppPolicies"

/* Policy handlers (api/policies.c); req->route_arg is the struct api_family. */
void api_policy_list(void *app, struct http_request *req, struct http_response *res);
void api_policy_create(void *app, struct http_request *req, struct http_response *res);
void api_policy_get(void *app, struct http_request *req, struct http_response *res);
void api_policy_update(void *app, struct http_request *req, struct http_response *res);
void api_policy_delete(void *app, struct http_request *req, struct http_response *res);
void api_policy_assign(void *app, struct http_request *req, struct http_response *res);
/* GET .../{id}/deploymentSummary: managedAppPolicyDeploymentSummary from the registrations it applies to now. */
void api_policy_deployment_summary(void *app, struct http_request *req, struct http_response *res);
/* GET /{v}/deviceAppManagement: the singleton. */
void api_device_app_management(void *app, struct http_request *req, struct http_response *res);
void api_policy_assignments(void *app, struct http_request *req, struct http_response *res);
void api_policy_target_apps(void *app, struct http_request *req, struct http_response *res);
void api_policy_apps(void *app, struct http_request *req, struct http_response *res);
/* The public shape of a stored policy document (navigation removed, computed fields added); new reference. */
json_t *api_policy_public(const json_t *doc, bool expand_nav);

/* Directory (api/directory.c). */
void api_user_list(void *app, struct http_request *req, struct http_response *res);
void api_user_create(void *app, struct http_request *req, struct http_response *res);
void api_user_get(void *app, struct http_request *req, struct http_response *res);
void api_user_update(void *app, struct http_request *req, struct http_response *res);
void api_user_delete(void *app, struct http_request *req, struct http_response *res);
void api_user_policies(void *app, struct http_request *req, struct http_response *res);
void api_group_list(void *app, struct http_request *req, struct http_response *res);
void api_group_create(void *app, struct http_request *req, struct http_response *res);
void api_group_get(void *app, struct http_request *req, struct http_response *res);
void api_group_update(void *app, struct http_request *req, struct http_response *res);
void api_group_delete(void *app, struct http_request *req, struct http_response *res);
void api_group_members(void *app, struct http_request *req, struct http_response *res);
void api_group_member_add(void *app, struct http_request *req, struct http_response *res);
void api_group_member_remove(void *app, struct http_request *req, struct http_response *res);
/*
 * Finds a user by id or userPrincipalName (case-insensitive) in a tenant.
 * *out new reference. RG_ENOTFOUND when absent.
 */
int api_user_find(struct app *app, const char *tenant_id, const char *id_or_upn, json_t **out);
/* The ids of the groups a user belongs to, as a new JSON array of strings. */
int api_user_groups(struct app *app, const char *tenant_id, const char *user_id, json_t **out);

/* Connectors (api/connectors.c). */
void api_connector_list(void *app, struct http_request *req, struct http_response *res);
void api_connector_create(void *app, struct http_request *req, struct http_response *res);
void api_connector_get(void *app, struct http_request *req, struct http_response *res);
void api_connector_update(void *app, struct http_request *req, struct http_response *res);
void api_connector_delete(void *app, struct http_request *req, struct http_response *res);
/* A connector document as stored for a new partner (defaults), new reference. */
json_t *api_connector_new_doc(const char *partner_id);

/* riskgate's own endpoints (api/admin.c). */
void api_healthz(void *app, struct http_request *req, struct http_response *res);
void api_metrics(void *app, struct http_request *req, struct http_response *res);
void api_whoami(void *app, struct http_request *req, struct http_response *res);
void api_tenant_list(void *app, struct http_request *req, struct http_response *res);
void api_tenant_create(void *app, struct http_request *req, struct http_response *res);
void api_key_list(void *app, struct http_request *req, struct http_response *res);
void api_key_create(void *app, struct http_request *req, struct http_response *res);
void api_key_delete(void *app, struct http_request *req, struct http_response *res);
void api_effective(void *app, struct http_request *req, struct http_response *res);
void api_registration_list(void *app, struct http_request *req, struct http_response *res);
void api_registration_get(void *app, struct http_request *req, struct http_response *res);

/* The device-facing API, enrollment codes, partner keys and the partner API (api/device.c). */
void api_device_activate(void *app, struct http_request *req, struct http_response *res);
void api_device_heartbeat(void *app, struct http_request *req, struct http_response *res);
void api_device_config(void *app, struct http_request *req, struct http_response *res);
void api_device_detections(void *app, struct http_request *req, struct http_response *res);
void api_device_signout(void *app, struct http_request *req, struct http_response *res);
void api_device_wait(void *app, struct http_request *req, struct http_response *res);
void api_enrollment_create(void *app, struct http_request *req, struct http_response *res);
void api_partner_key_create(void *app, struct http_request *req, struct http_response *res);
void api_partner_heartbeat(void *app, struct http_request *req, struct http_response *res);
void api_partner_level(void *app, struct http_request *req, struct http_response *res);
void api_threat_signal(void *app, struct http_request *req, struct http_response *res);

/* Custom indicators (api/indicators.c). */
/*
 * Answers with Defender's error body, {"error":{"code","message","target"}},
 * target a fresh correlation id (MDE's /api/ differs from Graph's here).
 */
void api_mde_error(struct http_response *res, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void api_indicator_submit(void *app, struct http_request *req, struct http_response *res);
void api_indicator_import(void *app, struct http_request *req, struct http_response *res);
void api_indicator_list(void *app, struct http_request *req, struct http_response *res);
void api_indicator_get(void *app, struct http_request *req, struct http_response *res);
void api_indicator_delete(void *app, struct http_request *req, struct http_response *res);
/* POST /api/indicators/BatchDelete {"IndicatorIds":[...]}: 204; 404 (nothing deleted) if an id is unknown. */
void api_indicator_batch_delete(void *app, struct http_request *req, struct http_response *res);
/* POST /api/indicators/BatchUpdate {"IndicatorIds":[...], <fields>} or {"Indicators":[...]}: 200 {"value":[...]}. */
void api_indicator_batch_update(void *app, struct http_request *req, struct http_response *res);
/*
 * The indicators a device should hold that changed after version since (0: all),
 * scoped by its tags: {"version","full","more","upserts":[...],"removed":[ids]}.
 */
int api_indicator_sync(struct app *app, const char *tenant_id, json_t *device, int64_t since, json_t **out);
/* The device's indicator scope (its tags, sorted, '\n'-joined); caller frees. NULL on allocation failure. */
char *api_indicator_scope(const json_t *device);
/* True if the device's tags changed since its last indicator sync (it must start over). */
int api_indicator_scope_changed(const json_t *device);
void api_device_indicators(void *app, struct http_request *req, struct http_response *res);

/* Managed apps (api/appapi.c): registration, check-in, live decisions, wipe; Graph wipe actions. */
void api_app_register(void *app, struct http_request *req, struct http_response *res);
void api_app_checkin(void *app, struct http_request *req, struct http_response *res);
void api_app_wait(void *app, struct http_request *req, struct http_response *res);
void api_app_wipe_confirm(void *app, struct http_request *req, struct http_response *res);
void api_app_server_key(void *app, struct http_request *req, struct http_response *res);
void api_app_device_nonce(void *app, struct http_request *req, struct http_response *res);
void api_user_wipe_by_tag(void *app, struct http_request *req, struct http_response *res);
void api_user_wipe_by_device(void *app, struct http_request *req, struct http_response *res);
void api_user_wipe_and_block(void *app, struct http_request *req, struct http_response *res);
void api_user_unblock(void *app, struct http_request *req, struct http_response *res);
void api_user_is_blocked(void *app, struct http_request *req, struct http_response *res);
void api_user_registrations(void *app, struct http_request *req, struct http_response *res);
void api_wipe_list(void *app, struct http_request *req, struct http_response *res);
void api_tenant_settings_get(void *app, struct http_request *req, struct http_response *res);
void api_tenant_settings_update(void *app, struct http_request *req, struct http_response *res);
/* Graph's managedAppRegistration shape of a stored registration (new reference). */
json_t *api_registration_public(const json_t *reg);

/* JSON batching, POST /{v}/$batch (api/batch.c): runs each step through app_routes() as its own request. */
void api_batch(void *app, struct http_request *req, struct http_response *res);

/* Defender-shaped SOC API (api/defender.c). */
void api_machine_list(void *app, struct http_request *req, struct http_response *res);
void api_machine_get(void *app, struct http_request *req, struct http_response *res);
/* GET /api/machines/{id}/alerts: the machine's alerts, with OData; 404 for an unknown machine. */
void api_machine_alerts(void *app, struct http_request *req, struct http_response *res);
void api_machine_tags(void *app, struct http_request *req, struct http_response *res);
void api_machine_offboard(void *app, struct http_request *req, struct http_response *res);
void api_alert_list(void *app, struct http_request *req, struct http_response *res);
void api_alert_get(void *app, struct http_request *req, struct http_response *res);
void api_alert_update(void *app, struct http_request *req, struct http_response *res);
#endif
