/*
 * defender.c: the Defender-shaped SOC API over the threat side:
 * /api/machines (list, get, tags Add/Remove) and /api/alerts (list, get,
 * PATCH status / classification / determination / assignedTo / comment),
 * with the field names of the threat-defense reference §6-8. Admin API keys
 * authenticate, as for Graph; readers may read.
 *
 * Lists take OData through the odata module: alerts (millions) are filtered,
 * ordered, counted and paged in SQL (store doc_query); machines are shaped
 * from device documents and filtered in memory. Alerts carry "evidence": []
 * unless $expand=evidence, as Defender's. /api/machines/{id}/alerts lists a
 * machine's alerts (404 for an unknown machine). Each list has a "/$count"
 * route answering the number of matches alone, as text/plain: alerts are
 * counted in SQL (COUNT(*)), and so are machines when the $filter names
 * only properties that are the device document's own fields; one on a
 * computed property (healthStatus, osPlatform, ...) is counted where the
 * list filters it, on the shaped machines in memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/api/api.h"
#include "server/odata/odata.h"
#include "server/notify.h"
#include "server/threat/threat.h"

static const char *os_platform(const char *p)
{
    if (!p)
        return "Unknown";
    if (!strcmp(p, "android"))
        return "Android";
    if (!strcmp(p, "ios"))
        return "iOS";
    if (!strcmp(p, "linux"))
        return "Linux";
    return "Unknown";
}

/* Defender's Machine shape of a device document, plus riskgate's threatLevel. */
static json_t *machine_of(const json_t *d)
{
    const char *last = json_string_value(json_object_get(d, "lastSeen"));
    int64_t ms = 0;
    int active = json_is_true(json_object_get(d, "activated")) && last && !util_time_parse(last, &ms) &&
                 util_now_ms() - ms < 7LL * 86400 * 1000;
    json_t *m = json_pack("{s:O,s:O?,s:O?,s:O?,s:s,s:O?,s:n,s:s,s:s,s:s,s:O?,s:s,s:s,s:O,s:O?,s:O,s:O?,s:O?,s:O?}",
                          "id", json_object_get(d, "id"), "computerDnsName", json_object_get(d, "computerDnsName"),
                          "firstSeen", json_object_get(d, "firstSeen"), "lastSeen", json_object_get(d, "lastSeen"),
                          "osPlatform", os_platform(json_string_value(json_object_get(d, "platform"))), "version",
                          json_object_get(d, "osVersion"), "osBuild", "healthStatus", active ? "Active" : "Inactive",
                          "onboardingStatus", json_is_true(json_object_get(d, "activated")) ? "Onboarded" : "CanBeOnboarded",
                          "riskScore", json_string_value(json_object_get(d, "riskScore")) ? json_string_value(json_object_get(d, "riskScore")) : "None",
                          "aadDeviceId", json_object_get(d, "id"), "exposureLevel", "None", "deviceValue", "Normal",
                          "machineTags", json_object_get(d, "machineTags"), "threatLevel",
                          json_object_get(d, "threatLevel"), "userPrincipalName", json_object_get(d, "userPrincipalName"),
                          "model", json_object_get(d, "model"), "manufacturer", json_object_get(d, "manufacturer"),
                          "agentVersion", json_object_get(d, "agentVersion"));
    return m;
}

static json_t *alert_of(const json_t *a)
{
    json_t *o = json_deep_copy(a);
    json_object_del(o, "detectionKey");
    return o;
}

#define LIST_MAX 10000 /* $top ceiling, as Defender's */

static const struct odata_prop machine_props[] = {
    {"id", ODATA_T_STRING, 0},           {"computerDnsName", ODATA_T_STRING, 0},
    {"firstSeen", ODATA_T_DATETIME, 0},  {"lastSeen", ODATA_T_DATETIME, 0},
    {"osPlatform", ODATA_T_STRING, 0},   {"version", ODATA_T_STRING, 0},
    {"osBuild", ODATA_T_ANY, 0},         {"healthStatus", ODATA_T_STRING, 0},
    {"onboardingStatus", ODATA_T_STRING, 0}, {"riskScore", ODATA_T_STRING, 0},
    {"aadDeviceId", ODATA_T_STRING, 0},  {"exposureLevel", ODATA_T_STRING, 0},
    {"deviceValue", ODATA_T_STRING, 0},  {"machineTags", ODATA_T_STRINGS, 0},
    {"threatLevel", ODATA_T_STRING, 0},  {"userPrincipalName", ODATA_T_STRING, 0},
    {"model", ODATA_T_STRING, 0},        {"manufacturer", ODATA_T_STRING, 0},
    {"agentVersion", ODATA_T_STRING, 0}, {"rbacGroupId", ODATA_T_ANY, 0},
    {"lastIpAddress", ODATA_T_STRING, 0},
};
static const struct odata_collection machine_coll = {
    .props = machine_props, .nprops = sizeof machine_props / sizeof machine_props[0],
    .reject_unknown = true, .top_default = LIST_MAX, .top_max = LIST_MAX,
};

/*
 * The Machine properties that are the device document's own fields, same
 * name and value: a $filter that names only these is the same filter on the
 * stored documents, so /api/machines/$count can count it in SQL.
 */
static const struct odata_prop machine_stored_props[] = {
    {"id", ODATA_T_STRING, 0},          {"computerDnsName", ODATA_T_STRING, 0},
    {"threatLevel", ODATA_T_STRING, 0}, {"userPrincipalName", ODATA_T_STRING, 0},
    {"model", ODATA_T_STRING, 0},       {"manufacturer", ODATA_T_STRING, 0},
    {"agentVersion", ODATA_T_STRING, 0},
};
static const struct odata_collection machine_stored_coll = {
    .props = machine_stored_props, .nprops = sizeof machine_stored_props / sizeof machine_stored_props[0],
    .reject_unknown = true, .top_default = LIST_MAX, .top_max = LIST_MAX,
};

static const struct odata_prop alert_props[] = {
    {"id", ODATA_T_STRING, 0},
    {"incidentId", ODATA_T_ANY, 0},
    {"investigationId", ODATA_T_ANY, 0},
    {"title", ODATA_T_STRING, 0},
    {"description", ODATA_T_STRING, 0},
    {"category", ODATA_T_STRING, 0},
    {"severity", ODATA_T_STRING, 0},
    {"status", ODATA_T_STRING, 0},
    {"investigationState", ODATA_T_STRING, 0},
    {"classification", ODATA_T_STRING, 0},
    {"determination", ODATA_T_STRING, 0},
    {"assignedTo", ODATA_T_STRING, 0},
    {"detectionSource", ODATA_T_STRING, 0},
    {"threatFamilyName", ODATA_T_STRING, 0},
    {"machineId", ODATA_T_STRING, 0},
    {"computerDnsName", ODATA_T_STRING, 0},
    {"alertCreationTime", ODATA_T_DATETIME, 0},
    {"firstEventTime", ODATA_T_DATETIME, 0},
    {"lastEventTime", ODATA_T_DATETIME, 0},
    {"lastUpdateTime", ODATA_T_DATETIME, 0},
    {"resolvedTime", ODATA_T_DATETIME, 0},
    {"kind", ODATA_T_STRING, 0},
    {"evidence", ODATA_T_OBJECTS, 0},
    {"relatedUser", ODATA_T_OBJECT, 0},
    {"comments", ODATA_T_OBJECTS, 0},
};
static const char *const alert_expand[] = {"evidence"};
static const struct odata_collection alert_coll = {
    .props = alert_props, .nprops = sizeof alert_props / sizeof alert_props[0],
    .expand = alert_expand, .nexpand = 1,
    .reject_unknown = true, .top_default = LIST_MAX, .top_max = LIST_MAX,
};

static int parse_query(struct http_request *req, struct http_response *res, const struct odata_collection *c,
                       struct odata_query **q)
{
    struct odata_error e;
    if (!odata_query_parse(req->query, c, q, &e))
        return 0;
    api_mde_error(res, e.status, e.status == 400 ? "ODataError" : "InternalServerError", "%s", e.message);
    return -1;
}

void api_machine_list(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    struct odata_query *q = NULL;
    json_t *all = NULL;
    if (api_authenticate(app, req, res, API_READ, &auth) || parse_query(req, res, &machine_coll, &q))
        return;
    struct odata_query *sq = NULL; /* the same $filter on the stored fields, when it names only those */
    struct odata_error e;
    if (api_count_route(req) && (!q->filter || !odata_query_parse(req->query, &machine_stored_coll, &sq, &e))) {
        int64_t n = 0; /* GET /api/machines/$count: the devices counted in SQL */
        struct store_doc_query dq = {.odata = sq, .limit = 0, .count_out = &n};
        int rc = app->store->ops->doc_query(app->store, auth.tenant_id, THREAT_DEVICES, &dq, &all);
        odata_query_free(sq);
        if (!rc) {
            api_send_count(res, n);
            goto out;
        }
        if (rc != ODATA_ENOTSUP) {
            api_fail(res, rc, THREAT_DEVICES);
            goto out;
        }
        json_decref(all);
        all = NULL;
    }
    int rc = app->store->ops->doc_list(app->store, auth.tenant_id, THREAT_DEVICES, &all);
    if (rc) {
        api_fail(res, rc, THREAT_DEVICES);
        goto out;
    }
    /* devices are few per tenant next to alerts: shaped, then filtered and ordered in memory */
    json_t *hits = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(all, i, d) {
        json_t *m = machine_of(d);
        if (odata_match(q, m))
            json_array_append(hits, m);
        json_decref(m);
    }
    if (api_count_route(req)) { /* $count with $filter: on the shaped machines, as the list filters */
        api_send_count(res, (int64_t)json_array_size(hits));
        json_decref(hits);
        goto out;
    }
    odata_sort(q, hits);
    size_t n = json_array_size(hits), from = (size_t)q->skip < n ? (size_t)q->skip : n;
    size_t to = q->top < 0 || (size_t)q->top > n - from ? n : from + (size_t)q->top;
    json_t *items = json_array();
    for (i = from; i < to; i++)
        json_array_append_new(items, odata_select(q, json_array_get(hits, i)));
    api_send_page(app, req, res, "Machines", "/api/machines", q, items, to < n, (int64_t)n, (long)to);
    json_decref(hits);
out:
    json_decref(all);
    odata_query_free(q);
}

static int expands_evidence(const struct odata_query *q)
{
    for (size_t i = 0; i < q->nexpand; i++)
        if (!strcmp(q->expand[i], "evidence"))
            return 1;
    return 0;
}

/* Alerts from SQL: $filter/$orderby/$top/$skip/$count compiled by the store; machine_id may be NULL. */
static void alert_list(struct app *app, struct http_request *req, struct http_response *res, const char *machine_id)
{
    struct api_auth auth;
    struct odata_query *q = NULL;
    json_t *rows = NULL, *d = NULL;
    if (api_authenticate(app, req, res, API_READ, &auth) || parse_query(req, res, &alert_coll, &q))
        return;
    if (machine_id) {
        int rc = app->store->ops->doc_get(app->store, auth.tenant_id, THREAT_DEVICES, machine_id, &d);
        if (rc) {
            if (rc == RG_ENOTFOUND)
                api_mde_error(res, 404, "ResourceNotFound", "Machine %.128s was not found", machine_id);
            else
                api_fail(res, rc, "machine");
            goto out;
        }
    }
    int64_t count = 0, want = q->top < 0 ? LIST_MAX : q->top;
    bool counting = api_count_route(req); /* .../alerts/$count: COUNT(*) only, no row read */
    struct store_doc_query dq = {.odata = q, .eq_field = machine_id ? "machineId" : NULL, .eq_value = machine_id,
                                 .limit = counting ? 0 : want + 1, .offset = counting ? 0 : q->skip,
                                 .count_out = counting || q->count ? &count : NULL};
    int rc = app->store->ops->doc_query(app->store, auth.tenant_id, THREAT_ALERTS, &dq, &rows);
    if (rc == ODATA_ENOTSUP) {
        api_mde_error(res, 400, "ODataError", "$filter/$orderby: this expression cannot be served for alerts "
                                              "(lambda operators and nested properties are not supported).");
        goto out;
    }
    if (rc) {
        api_fail(res, rc, THREAT_ALERTS);
        goto out;
    }
    if (counting) {
        api_send_count(res, count);
        goto out;
    }
    int expand = expands_evidence(q);
    json_t *items = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(rows, i, a) {
        if ((int64_t)i >= want)
            break;
        json_t *o = alert_of(a);
        if (!expand) /* Defender: the evidence only with $expand=evidence */
            json_object_set_new(o, "evidence", json_array());
        json_array_append_new(items, odata_select(q, o));
        json_decref(o);
    }
    struct buf path = BUF_INIT(1024); /* the id percent-encoded: it comes from the request */
    buf_puts(&path, machine_id ? "/api/machines/" : "/api/alerts");
    if (machine_id) {
        api_buf_put_encoded(&path, machine_id);
        buf_puts(&path, "/alerts");
    }
    api_send_page(app, req, res, "Alerts", buf_str(&path), q, items, (int64_t)json_array_size(rows) > want, count,
                  q->skip + (long)want);
    buf_release(&path);
out:
    json_decref(rows);
    json_decref(d);
    odata_query_free(q);
}

void api_alert_list(void *app, struct http_request *req, struct http_response *res)
{
    alert_list(app, req, res, NULL);
}

void api_machine_alerts(void *app, struct http_request *req, struct http_response *res)
{
    alert_list(app, req, res, req->params[0]);
}

static void get_one(struct app *app, struct http_request *req, struct http_response *res, const char *coll,
                    const char *what, json_t *(*shape)(const json_t *))
{
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    json_t *d = NULL;
    int rc = app->store->ops->doc_get(app->store, auth.tenant_id, coll, req->params[0], &d);
    if (rc) {
        api_fail(res, rc, what);
        return;
    }
    json_t *o = shape(d);
    api_send(res, 200, o);
    json_decref(o);
    json_decref(d);
}

void api_machine_get(void *app, struct http_request *req, struct http_response *res)
{
    get_one(app, req, res, THREAT_DEVICES, "machine", machine_of);
}

void api_alert_get(void *app, struct http_request *req, struct http_response *res)
{
    get_one(app, req, res, THREAT_ALERTS, "alert", alert_of);
}

void api_machine_tags(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    json_t *body = NULL, *d = NULL;
    if (api_authenticate(app, req, res, API_WRITE, &auth))
        return;
    int rc = app->store->ops->doc_get(app->store, auth.tenant_id, THREAT_DEVICES, req->params[0], &d);
    if (rc) {
        api_fail(res, rc, "machine");
        return;
    }
    if (api_parse_body(req, res, &body))
        goto out;
    const char *value = json_string_value(json_object_get(body, "Value"));
    const char *action = json_string_value(json_object_get(body, "Action"));
    if (!value || !*value || strlen(value) > 200) {
        http_error(res, 400, "BadRequest", "Value: a tag of 1 to 200 characters is required.");
        goto out;
    }
    if (!action || (strcmp(action, "Add") && strcmp(action, "Remove"))) {
        http_error(res, 400, "BadRequest", "Action: 'Add' or 'Remove' is required.");
        goto out;
    }
    json_t *tags = json_object_get(d, "machineTags");
    size_t i, at = (size_t)-1;
    json_t *t;
    json_array_foreach(tags, i, t) {
        if (!strcmp(json_string_value(t), value))
            at = i;
    }
    if (!strcmp(action, "Add") && at == (size_t)-1)
        json_array_append_new(tags, json_string(value));
    else if (!strcmp(action, "Remove") && at != (size_t)-1)
        json_array_remove(tags, at);
    rc = app->store->ops->doc_update(app->store, auth.tenant_id, THREAT_DEVICES, req->params[0], d);
    if (rc) {
        api_fail(res, rc, "machine");
        goto out;
    }
    notify_device(app->notify, auth.tenant_id, req->params[0], NOTIFY_DEVICE); /* tags scope indicators */
    json_t *o = machine_of(d);
    api_send(res, 200, o);
    json_decref(o);
out:
    json_decref(body);
    json_decref(d);
}

void api_machine_offboard(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    json_t *d = NULL;
    if (api_authenticate(app, req, res, API_WRITE, &auth))
        return;
    struct store *s = app->store;
    int rc = s->ops->doc_get(s, auth.tenant_id, THREAT_DEVICES, req->params[0], &d);
    if (!rc && !json_is_true(json_object_get(d, "activated"))) {
        http_error(res, 400, "BadRequest", "id: this machine is already offboarded.");
        json_decref(d);
        return;
    }
    if (!rc && !(rc = s->ops->begin(s))) {
        rc = threat_offboard(s, auth.tenant_id, d);
        if (!rc)
            rc = s->ops->commit(s);
        else
            s->ops->rollback(s);
    }
    if (rc) {
        api_fail(res, rc, "machine");
    } else {
        notify_device(app->notify, auth.tenant_id, req->params[0], NOTIFY_DEVICE);
        notify_device(app->notify, auth.tenant_id, req->params[0], NOTIFY_THREAT);
        json_t *o = machine_of(d);
        api_send(res, 200, o);
        json_decref(o);
    }
    json_decref(d);
}

static int one_of(const char *v, const char *const *values)
{
    for (size_t i = 0; values[i]; i++)
        if (!strcmp(v, values[i]))
            return 1;
    return 0;
}

void api_alert_update(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    json_t *body = NULL, *a = NULL, *device = NULL;
    if (api_authenticate(app, req, res, API_WRITE, &auth))
        return;
    int rc = app->store->ops->doc_get(app->store, auth.tenant_id, THREAT_ALERTS, req->params[0], &a);
    if (rc) {
        api_fail(res, rc, "alert");
        return;
    }
    if (api_parse_body(req, res, &body))
        goto out;
    static const char *const statuses[] = {"New", "InProgress", "Resolved", NULL};
    static const char *const classes[] = {"TruePositive", "Informational, expected activity", "FalsePositive",
                                          "Unknown", NULL};
    static const char *const determinations[] = {
        "MultiStagedAttack", "MaliciousUserActivity", "CompromisedUser", "Malware", "Phishing", "UnwantedSoftware",
        "SecurityTesting", "LineOfBusinessApplication", "ConfirmedUserActivity", "Clean", "InsufficientData",
        "Other", "NotAvailable", NULL};
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v) {
        const char *s = json_string_value(v);
        if (!strcmp(k, "status")) {
            if (!s || !one_of(s, statuses)) {
                http_error(res, 400, "BadRequest", "status: one of New, InProgress, Resolved is expected.");
                goto out;
            }
        } else if (!strcmp(k, "classification")) {
            if (!s || !one_of(s, classes)) {
                http_error(res, 400, "BadRequest",
                           "classification: one of TruePositive, 'Informational, expected activity', FalsePositive is "
                           "expected.");
                goto out;
            }
        } else if (!strcmp(k, "determination")) {
            if (!s || !one_of(s, determinations)) {
                http_error(res, 400, "BadRequest", "determination: not a Defender determination value.");
                goto out;
            }
        } else if (!strcmp(k, "assignedTo") || !strcmp(k, "comment")) {
            if (!s || strlen(s) > 1000) {
                http_error(res, 400, "BadRequest", "%s: a string of at most 1000 characters is expected.", k);
                goto out;
            }
        } else {
            http_error(res, 400, "BadRequest",
                       "%s: not an updatable alert property (status, assignedTo, classification, determination, comment).",
                       k);
            goto out;
        }
    }
    char ts[UTIL_TIME_LEN + 1];
    util_time_format(util_now_ms(), ts, sizeof ts);
    json_object_foreach(body, k, v) {
        if (!strcmp(k, "comment")) {
            json_t *comments = json_object_get(a, "comments");
            if (!json_is_array(comments)) {
                comments = json_array();
                json_object_set_new(a, "comments", comments);
            }
            json_array_append_new(comments, json_pack("{s:O,s:s,s:s}", "comment", v, "createdBy", auth.key_id,
                                                      "createdTime", ts));
        } else {
            json_object_set(a, k, v);
        }
    }
    const char *status = json_string_value(json_object_get(body, "status"));
    if (status) {
        json_object_set_new(a, "resolvedTime", !strcmp(status, "Resolved") ? json_string(ts) : json_null());
        if (!strcmp(status, "Resolved"))
            json_object_set_new(a, "resolvedBy", json_string("analyst"));
    }
    json_object_set_new(a, "lastUpdateTime", json_string(ts));
    struct store *s = app->store;
    const char *mid = json_string_value(json_object_get(a, "machineId"));
    rc = s->ops->begin(s);
    if (!rc)
        rc = s->ops->doc_update(s, auth.tenant_id, THREAT_ALERTS, req->params[0], a);
    /* an analyst resolving or reopening an alert moves the device's level at once */
    if (!rc && status && mid && !s->ops->doc_get(s, auth.tenant_id, THREAT_DEVICES, mid, &device))
        rc = threat_recompute(s, auth.tenant_id, device);
    if (!rc)
        rc = s->ops->commit(s);
    else
        s->ops->rollback(s);
    if (rc) {
        api_fail(res, rc, "alert");
        goto out;
    }
    if (status && mid)
        notify_device(app->notify, auth.tenant_id, mid, NOTIFY_THREAT);
    json_t *o = alert_of(a);
    api_send(res, 200, o);
    json_decref(o);
out:
    json_decref(body);
    json_decref(a);
    json_decref(device);
}
