/*
 * indicators.c: Defender's custom indicators, /api/indicators (submit or
 * update, list with $filter, get, delete, batch import), and the agent's
 * delta sync, GET /device/v1/indicators?since=N.
 *
 * Values are validated and canonicalized by the intel module (the same code
 * the agent matches with): the store keys, deduplicates and filters by the
 * canonical value, while the body keeps the value and the action name the
 * caller sent (an upper-case hash, a URL without its trailing slash, the
 * legacy AlertAndBlock), which is what reads serve; the sync hands agents the
 * canonical value and action. Lists take OData ($filter, $orderby, $select,
 * $top, $skip, $count, /$count) and are answered from SQL, any() and all()
 * over rbacGroupNames, rbacGroupIds and mitreTechniques included. Defender
 * documents rbacGroupNames as a comma-separated string and shows it as an
 * array: either is stored as the array of names (trimmed), so
 * rbacGroupNames/any(g: g eq 'vip') tests each name whole, without regard to
 * case, and never a piece of the string as sent. No ceiling:
 * indicators have their own table, versioned per tenant; every change takes
 * a new version and deletions stay as tombstones, so an agent asks only for
 * what changed since the version it has.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "intel/indicators.h"
#include "server/odata/odata.h"
#include "server/api/api.h"
#include "server/notify.h"
#include "server/threat/threat.h"

#define LIST_MAX 10000  /* $top ceiling, as Defender's */
#define SYNC_PAGE 5000 /* indicators per sync answer (at most ~12 MB of URLs); the agent asks again while "more" */

static const char *const settable[] = {"indicatorValue", "indicatorType", "action", "application", "externalID",
                                       "externalId", "expirationTime", "severity", "title", "description",
                                       "recommendedActions", "rbacGroupNames", "rbacGroupIds", "generateAlert",
                                       "educateUrl", "category", "mitreTechniques", "lookBackPeriod", NULL};
static const char *const server_owned[] = {"id", "sourceType", "createdBySource", "source", "createdBy",
                                           "createdByDisplayName", "lastUpdatedBy", "creationTimeDateTimeUtc",
                                           "lastUpdateTime", NULL};

static int in_list(const char *k, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (!strcmp(k, list[i]))
            return 1;
    return 0;
}

void api_mde_error(struct http_response *res, int status, const char *code, const char *fmt, ...)
{
    char msg[1024], target[UTIL_UUID_LEN + 1] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    util_uuid(target, sizeof target);
    json_t *o = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", code, "message", msg, "target", target);
    api_send(res, status, o);
    json_decref(o);
}

static int opt_text(const json_t *in, const char *k, size_t max, char *err, size_t errlen)
{
    json_t *v = json_object_get(in, k);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(err, errlen, "%s: a string of at most %zu characters is expected.", k, max);
        return -1;
    }
    return 0;
}

/* rbacGroupNames as stored: Defender's table says a comma-separated string, its example an array; both come in. */
static json_t *group_names(const json_t *v)
{
    if (json_is_array(v))
        return json_deep_copy(v);
    json_t *a = json_array();
    const char *s = json_string_value(v);
    while (s && *s) {
        size_t n = strcspn(s, ",");
        size_t b = 0, e = n;
        while (b < e && s[b] == ' ')
            b++;
        while (e > b && s[e - 1] == ' ')
            e--;
        if (e > b)
            json_array_append_new(a, json_stringn(s + b, e - b));
        s += n + (s[n] == ',');
    }
    return a;
}

static int string_list(const json_t *in, const char *k, char *err, size_t errlen)
{
    json_t *v = json_object_get(in, k);
    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v) && !strcmp(k, "rbacGroupNames")) {
        json_t *a = group_names(v);
        int bad = json_array_size(a) > INTEL_SCOPE_MAX_NAMES;
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e) bad |= json_string_length(e) > INTEL_SCOPE_MAX_NAME_LEN;
        json_decref(a);
        if (!bad)
            return 0;
    }
    if (!json_is_array(v) || json_array_size(v) > INTEL_SCOPE_MAX_NAMES) {
        snprintf(err, errlen, "%s: an array of at most %d strings is expected.", k, INTEL_SCOPE_MAX_NAMES);
        return -1;
    }
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_string(e) || !json_string_length(e) || json_string_length(e) > INTEL_SCOPE_MAX_NAME_LEN) {
            snprintf(err, errlen, "%s[%zu]: a name of 1 to %d characters is expected.", k, i, INTEL_SCOPE_MAX_NAME_LEN);
            return -1;
        }
    }
    return 0;
}

/*
 * Validates one indicator body into the stored shape. who: the key id, for
 * createdBy/lastUpdatedBy. Fills type/value/action (canonical) for the store.
 */
static int build(const json_t *in, const char *who, json_t **out, char *type_s, char *value, char *action_s, char *err,
                 size_t errlen)
{
    if (!json_is_object(in)) {
        snprintf(err, errlen, "an indicator object is expected.");
        return RG_EINVAL;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)in, k, v) {
        if (!in_list(k, settable) && !in_list(k, server_owned) && strncmp(k, "@odata.", 7) && !strstr(k, "@odata.")) {
            snprintf(err, errlen, "%s: unknown property of an indicator.", k);
            return RG_EINVAL;
        }
    }
    const char *tname = json_string_value(json_object_get(in, "indicatorType"));
    const char *raw = json_string_value(json_object_get(in, "indicatorValue"));
    const char *aname = json_string_value(json_object_get(in, "action"));
    enum intel_type type;
    enum intel_action action;
    enum intel_severity sev = INTEL_SEV_INFORMATIONAL;
    bool implied = false;
    if (!tname || intel_type_parse(tname, &type)) {
        snprintf(err, errlen, "indicatorType: one of FileSha1, FileSha256, FileMd5, CertificateThumbprint, IpAddress, "
                              "DomainName, Url is required.");
        return RG_EINVAL;
    }
    if (!raw) {
        snprintf(err, errlen, "indicatorValue: required.");
        return RG_EINVAL;
    }
    if (intel_normalize(type, raw, value, INTEL_VALUE_MAX + 1, err, errlen))
        return RG_EINVAL;
    if (!aname) {
        snprintf(err, errlen, "action: required (Allowed, Audit, Warn, Block, BlockAndRemediate).");
        return RG_EINVAL;
    }
    if (intel_action_parse(aname, type, &action, &implied, err, errlen))
        return RG_EINVAL;
    json_t *ga = json_object_get(in, "generateAlert");
    bool gen = implied;
    if (ga && !json_is_null(ga)) {
        const char *gs = json_string_value(ga);
        if (json_is_boolean(ga))
            gen = json_is_true(ga);
        else if (gs && (!strcmp(gs, "True") || !strcmp(gs, "true")))
            gen = true;
        else if (gs && (!strcmp(gs, "False") || !strcmp(gs, "false")))
            gen = false;
        else {
            snprintf(err, errlen, "generateAlert: true or false is expected.");
            return RG_EINVAL;
        }
    }
    if (intel_check_action(type, action, gen, err, errlen))
        return RG_EINVAL;
    const char *sname = json_string_value(json_object_get(in, "severity"));
    if (json_object_get(in, "severity") && !json_is_null(json_object_get(in, "severity")) &&
        (!sname || intel_severity_parse(sname, &sev))) {
        snprintf(err, errlen, "severity: one of Informational, Low, Medium, High is expected.");
        return RG_EINVAL;
    }
    static const char *const texts[] = {"application", "externalID", "externalId", "recommendedActions", "educateUrl",
                                        "category"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (opt_text(in, texts[i], 4096, err, errlen))
            return RG_EINVAL;
    const char *title = json_string_value(json_object_get(in, "title"));
    const char *desc = json_string_value(json_object_get(in, "description"));
    if (!title || !*title || opt_text(in, "title", 512, err, errlen)) {
        if (!err[0])
            snprintf(err, errlen, "title: required, at most 512 characters.");
        return RG_EINVAL;
    }
    if (!desc || opt_text(in, "description", 8192, err, errlen)) {
        if (!err[0])
            snprintf(err, errlen, "description: required (it may be empty).");
        return RG_EINVAL;
    }
    if (string_list(in, "rbacGroupNames", err, errlen) || string_list(in, "rbacGroupIds", err, errlen) ||
        string_list(in, "mitreTechniques", err, errlen))
        return RG_EINVAL;
    json_t *lb = json_object_get(in, "lookBackPeriod");
    if (lb && !json_is_null(lb) && !json_is_string(lb) && !json_is_integer(lb)) {
        snprintf(err, errlen, "lookBackPeriod: a duration (ISO-8601 string such as P30D, or days) is expected.");
        return RG_EINVAL;
    }
    const char *exp = json_string_value(json_object_get(in, "expirationTime"));
    int64_t ms;
    if ((json_object_get(in, "expirationTime") && !json_is_null(json_object_get(in, "expirationTime")) && !exp) ||
        (exp && util_time_parse(exp, &ms))) {
        snprintf(err, errlen, "expirationTime: an ISO-8601 UTC time such as 2030-01-01T00:00:00Z is expected.");
        return RG_EINVAL;
    }
    char now[UTIL_TIME_LEN + 1], expn[UTIL_TIME_LEN + 1];
    util_time_format(util_now_ms(), now, sizeof now);
    if (exp) /* "_expires": one fixed-width UTC form, so $filter and $orderby compare it as text in SQL */
        util_time_format(ms, expn, sizeof expn);
    snprintf(type_s, 32, "%s", intel_type_name(type));
    /* the action as sent (legacy names included) is served and filtered; the sync maps it */
    snprintf(action_s, 32, "%s", aname);
    json_t *o = json_pack("{s:s,s:s,s:s,s:O?,s:O?,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:O?,s:s,s:s,s:s,s:O?,s:O?,s:b}",
                          "indicatorValue", raw, "indicatorType", type_s, "action", action_s, "application",
                          json_object_get(in, "application"), "externalID", json_object_get(in, "externalID"),
                          "sourceType", "AadApp", "source", who, "createdBySource", who, "createdBy", who,
                          "lastUpdatedBy", who, "creationTimeDateTimeUtc", now, "lastUpdateTime", now,
                          "expirationTime", json_object_get(in, "expirationTime"), "severity", intel_severity_name(sev),
                          "title", title, "description", desc, "recommendedActions",
                          json_object_get(in, "recommendedActions"), "educateUrl", json_object_get(in, "educateUrl"),
                          "generateAlert", gen);
    if (exp)
        json_object_set_new(o, "_expires", json_string(expn));
    json_object_set_new(o, "rbacGroupNames", group_names(json_object_get(in, "rbacGroupNames")));
    json_t *gi = json_object_get(in, "rbacGroupIds");
    json_object_set_new(o, "rbacGroupIds", json_is_array(gi) ? json_deep_copy(gi) : json_array());
    static const char *const extra[] = {"externalId", "category", "mitreTechniques", "lookBackPeriod"};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        if (json_object_get(in, extra[i]))
            json_object_set(o, extra[i], json_object_get(in, extra[i]));
    *out = o;
    return 0;
}

/* An update keeps who created it and when. 0, or the store's error (then body must not be written). */
static int keep_creation(struct store *s, const char *tenant_id, const char *type, const char *value, json_t *body)
{
    struct store_ind_query q = {.type = type, .value = value, .limit = 1};
    json_t *rows = NULL;
    int rc = s->ops->ind_query(s, tenant_id, &q, &rows);
    if (rc == 0 && json_array_size(rows) == 1) {
        json_t *old = json_array_get(rows, 0);
        static const char *const keep[] = {"createdBy", "createdBySource", "source", "creationTimeDateTimeUtc",
                                           "application"};
        for (size_t i = 0; i < sizeof keep / sizeof keep[0] && !rc; i++)
            if (json_object_get(old, keep[i]) && json_object_set(body, keep[i], json_object_get(old, keep[i])))
                rc = RG_ENOMEM;
    }
    json_decref(rows);
    return rc;
}

static json_t *public_row(const json_t *row)
{
    json_t *o = json_deep_copy(row);
    json_object_del(o, "_version");
    json_object_del(o, "_deleted");
    json_object_del(o, "_value");
    json_object_del(o, "_expires");
    return o;
}

static int parse_id(const char *s, int64_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v <= 0)
        return -1;
    *out = v;
    return 0;
}

void api_indicator_submit(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    json_t *body = NULL, *ind = NULL, *row = NULL;
    if (api_authenticate(app, req, res, API_WRITE, &auth) || api_parse_body(req, res, &body))
        return;
    char type[32], value[INTEL_VALUE_MAX + 1], action[32], err[512] = "";
    if (build(body, auth.key_id, &ind, type, value, action, err, sizeof err)) {
        api_mde_error(res, 400, "InvalidRequestBody", "%s", err);
        goto out;
    }
    struct store *s = app->store;
    int64_t ver = 0, id = 0;
    int rc = s->ops->begin(s);
    if (!rc)
        rc = s->ops->ind_version(s, auth.tenant_id, &ver);
    if (!rc)
        rc = keep_creation(s, auth.tenant_id, type, value, ind);
    if (!rc)
        rc = s->ops->ind_upsert(s, auth.tenant_id, type, value, action, ind, ver + 1, &id);
    if (!rc)
        rc = s->ops->commit(s);
    else
        s->ops->rollback(s);
    if (!rc) {
        notify_tenant(app->notify, auth.tenant_id, NOTIFY_INDICATORS);
        rc = s->ops->ind_get(s, auth.tenant_id, id, &row);
    }
    if (rc) {
        api_fail(res, rc, "indicator");
        goto out;
    }
    json_t *o = public_row(row);
    char ctx[512];
    api_context_url(app, req, "Indicators/$entity", ctx, sizeof ctx);
    json_object_set_new(o, "@odata.context", json_string(ctx));
    api_send(res, 200, o);
    json_decref(o);
out:
    json_decref(body);
    json_decref(ind);
    json_decref(row);
}

void api_indicator_import(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    json_t *body = NULL, *results = NULL;
    if (api_authenticate(app, req, res, API_WRITE, &auth) || api_parse_body(req, res, &body))
        return;
    json_t *list = json_object_get(body, "Indicators");
    if (!json_is_array(list) || json_object_size(body) != 1) {
        api_mde_error(res, 400, "InvalidRequestBody", "Indicators: an array of indicators is required (and nothing else).");
        goto out;
    }
    struct store *s = app->store;
    int64_t ver = 0;
    int rc = s->ops->begin(s);
    if (!rc)
        rc = s->ops->ind_version(s, auth.tenant_id, &ver);
    results = json_array();
    size_t i;
    json_t *in;
    json_array_foreach(list, i, in) {
        if (rc)
            break;
        char type[32], value[INTEL_VALUE_MAX + 1], action[32], err[512] = "";
        json_t *ind = NULL;
        const char *given = json_string_value(json_object_get(in, "indicatorValue"));
        if (build(in, auth.key_id, &ind, type, value, action, err, sizeof err)) {
            json_array_append_new(results, json_pack("{s:n,s:s?,s:b,s:s}", "id", "indicator", given, "isFailed", 1,
                                                     "failureReason", err));
            continue;
        }
        int64_t id = 0;
        rc = keep_creation(s, auth.tenant_id, type, value, ind);
        if (!rc)
            rc = s->ops->ind_upsert(s, auth.tenant_id, type, value, action, ind, ++ver, &id);
        json_decref(ind);
        char ids[32];
        snprintf(ids, sizeof ids, "%lld", (long long)id);
        if (!rc)
            json_array_append_new(results, json_pack("{s:s,s:s,s:b,s:n}", "id", ids, "indicator", value, "isFailed", 0,
                                                     "failureReason"));
    }
    if (!rc)
        rc = s->ops->commit(s);
    else
        s->ops->rollback(s);
    if (rc) {
        api_fail(res, rc, "indicators");
        goto out;
    }
    notify_tenant(app->notify, auth.tenant_id, NOTIFY_INDICATORS);
    json_t *o = json_pack("{s:O}", "value", results);
    api_send(res, 200, o);
    json_decref(o);
out:
    json_decref(body);
    json_decref(results);
}

/* The indicator's properties as OData sees them; sqlite.c's ind_map says how each reaches SQL. */
static const struct odata_prop ind_props[] = {
    {"id", ODATA_T_STRING, 0},
    {"indicatorValue", ODATA_T_STRING, 0},
    {"indicatorType", ODATA_T_STRING, 0},
    {"action", ODATA_T_STRING, 0},
    {"application", ODATA_T_STRING, 0},
    {"externalID", ODATA_T_STRING, 0},
    {"externalId", ODATA_T_STRING, 0},
    {"sourceType", ODATA_T_STRING, 0},
    {"source", ODATA_T_STRING, 0},
    {"createdBySource", ODATA_T_STRING, 0},
    {"createdBy", ODATA_T_STRING, 0},
    {"createdByDisplayName", ODATA_T_STRING, 0},
    {"lastUpdatedBy", ODATA_T_STRING, 0},
    {"creationTimeDateTimeUtc", ODATA_T_DATETIME, 0},
    {"lastUpdateTime", ODATA_T_DATETIME, 0},
    {"expirationTime", ODATA_T_DATETIME, 0},
    {"severity", ODATA_T_STRING, 0},
    {"title", ODATA_T_STRING, 0},
    {"description", ODATA_T_STRING, 0},
    {"recommendedActions", ODATA_T_STRING, 0},
    {"educateUrl", ODATA_T_STRING, 0},
    {"category", ODATA_T_STRING, 0},
    {"lookBackPeriod", ODATA_T_ANY, 0},
    {"generateAlert", ODATA_T_BOOL, 0},
    {"rbacGroupNames", ODATA_T_STRINGS, 0},
    {"rbacGroupIds", ODATA_T_STRINGS, 0},
    {"mitreTechniques", ODATA_T_STRINGS, 0},
};
static const struct odata_collection ind_coll = {
    .props = ind_props,
    .nprops = sizeof ind_props / sizeof ind_props[0],
    .reject_unknown = true,
    .top_default = LIST_MAX,
    .top_max = LIST_MAX,
};

/*
 * odata_widen's forms of an indicatorValue literal: its canonical form as
 * the store keys it (intel_normalize, the code submit uses), for the type a
 * "indicatorType eq '...'" beside it names, or else for every type it is a
 * valid value of. A literal no canonicaliser changes gets no form and keeps
 * its exact meaning; one in another case only is dropped by odata_widen, as
 * eq already ignores case on indicatorValue.
 */
static int value_forms(void *arg, const char *hint, size_t hint_len, const char *s, size_t n, json_t *out)
{
    (void)arg;
    if (n > ODATA_MAX_OPTION || memchr(s, '\0', n))
        return 0;
    char lit[ODATA_MAX_OPTION + 1], canon[INTEL_VALUE_MAX + 1];
    memcpy(lit, s, n);
    lit[n] = '\0';
    int hinted = -1;
    for (int t = 0; hint && t < INTEL_TYPE_COUNT; t++) {
        const char *name = intel_type_name((enum intel_type)t);
        if (strlen(name) == hint_len && !strncasecmp(name, hint, hint_len))
            hinted = t;
    }
    for (int t = 0; t < INTEL_TYPE_COUNT; t++) {
        if (hinted >= 0 && t != hinted)
            continue;
        if (intel_normalize((enum intel_type)t, lit, canon, sizeof canon, NULL, 0))
            continue;
        if (strcmp(canon, lit) && json_array_append_new(out, json_string(canon)))
            return RG_ENOMEM;
    }
    return 0;
}

static const struct odata_widen value_widen = {"indicatorValue", "indicatorType", value_forms, NULL};

/* The list envelope: @odata.context, @odata.count when asked, value, @odata.nextLink when next is not NULL. */
static json_t *envelope(struct app *app, struct http_request *req, const char *what, json_t *items, const int64_t *count,
                        const char *next)
{
    char ctx[512];
    api_context_url(app, req, what, ctx, sizeof ctx);
    json_t *o = json_pack("{s:s}", "@odata.context", ctx);
    if (count)
        json_object_set_new(o, "@odata.count", json_integer(*count));
    json_object_set_new(o, "value", items);
    if (next)
        json_object_set_new(o, "@odata.nextLink", json_string(next));
    return o;
}

void api_indicator_list(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    struct odata_query *oq = NULL;
    struct odata_error oe;
    if (odata_query_parse(req->query, &ind_coll, &oq, &oe)) {
        api_mde_error(res, oe.status, oe.status == 400 ? "ODataError" : "InternalServerError", "%s", oe.message);
        return;
    }
    /*
     * The query SQL answers: a second parse whose indicatorValue eq/in also
     * take the canonical forms of their literals (the stored value is
     * canonical); oq, as sent, builds the answer and its nextLink.
     */
    struct odata_query *wq = NULL;
    int wrc = odata_query_parse(req->query, &ind_coll, &wq, &oe);
    if (!wrc)
        wrc = odata_widen(wq, &value_widen);
    if (wrc) {
        odata_query_free(wq);
        odata_query_free(oq);
        api_fail(res, wrc, "indicators query");
        return;
    }
    struct store_ind_query q = {.limit = oq->top, .offset = oq->skip, .odata = wq};
    int64_t count = 0;
    bool counting = api_count_route(req); /* /api/indicators/$count: COUNT(*) in SQL, no row read */
    if (oq->count || counting)
        q.count_out = &count;
    if (oq->skiptoken) {
        char *end;
        long long v = strtoll(oq->skiptoken, &end, 10);
        if (!oq->skiptoken[0] || *end || v < 0 || oq->norderby) {
            api_mde_error(res, 400, "ODataError", "$skiptoken: the token of an @odata.nextLink is expected.");
            goto out;
        }
        if (oq->skip) {
            api_mde_error(res, 400, "ODataError", "$skiptoken: cannot be combined with $skip; follow the nextLink as given.");
            goto out;
        }
        q.after_id = v;
    }
    int64_t want = q.limit < 0 ? LIST_MAX : q.limit;
    q.limit = counting ? 0 : want + 1;
    if (counting) {
        q.offset = 0;
        q.after_id = 0;
    }
    json_t *rows = NULL;
    int rc = app->store->ops->ind_query(app->store, auth.tenant_id, &q, &rows);
    if (rc == ODATA_ENOTSUP) {
        api_mde_error(res, 400, "ODataError", "$filter/$orderby: this expression cannot be served for indicators.");
        goto out;
    }
    if (rc) {
        api_fail(res, rc, "indicators");
        goto out;
    }
    if (counting) {
        json_decref(rows);
        api_send_count(res, count);
        goto out;
    }
    json_t *items = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        if ((int64_t)i >= want)
            break;
        json_t *pub = public_row(r);
        json_array_append_new(items, odata_select(oq, pub));
        json_decref(pub);
    }
    struct buf next = BUF_INIT(16384);
    int more = want > 0 && (int64_t)json_array_size(rows) > want;
    if (more) {
        char base[512];
        snprintf(base, sizeof base, "%s/api/indicators", app->public_url);
        /* keyset paging without $orderby: the next page starts after the last id, however deep the list */
        const char *last = json_string_value(json_object_get(json_array_get(rows, want - 1), "id"));
        if (oq->norderby || oq->skip)
            rc = odata_next_link(oq, base, oq->skip + want, NULL, &next);
        else
            rc = odata_next_link(oq, base, -1, last ? last : "0", &next);
    }
    json_t *o = envelope(app, req, "Indicators", items, oq->count ? &count : NULL, more && !rc ? buf_str(&next) : NULL);
    buf_release(&next);
    api_send(res, 200, o);
    json_decref(o);
    json_decref(rows);
out:
    odata_query_free(wq);
    odata_query_free(oq);
}

void api_indicator_get(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth))
        return;
    int64_t id;
    json_t *row = NULL;
    int rc = parse_id(req->params[0], &id) ? RG_ENOTFOUND : app->store->ops->ind_get(app->store, auth.tenant_id, id, &row);
    if (rc) {
        api_fail(res, rc, "indicator");
        return;
    }
    json_t *o = public_row(row);
    api_send(res, 200, o);
    json_decref(o);
    json_decref(row);
}

void api_indicator_delete(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_WRITE, &auth))
        return;
    int64_t id, ver = 0;
    if (parse_id(req->params[0], &id)) {
        api_fail(res, RG_ENOTFOUND, "indicator");
        return;
    }
    struct store *s = app->store;
    int rc = s->ops->begin(s);
    if (!rc)
        rc = s->ops->ind_version(s, auth.tenant_id, &ver);
    if (!rc)
        rc = s->ops->ind_delete(s, auth.tenant_id, id, ver + 1);
    if (!rc)
        rc = s->ops->commit(s);
    else
        s->ops->rollback(s);
    if (rc) {
        api_fail(res, rc, "indicator");
    } else {
        notify_tenant(app->notify, auth.tenant_id, NOTIFY_INDICATORS);
        res->status = 204;
    }
}

/* Does an indicator's scope (rbacGroupNames) include a device with these tags? Empty scope = every device. */
static int in_scope(const json_t *row, const json_t *tags)
{
    json_t *names = json_object_get(row, "rbacGroupNames");
    if (!json_array_size(names))
        return 1;
    size_t i, j;
    json_t *n, *t;
    json_array_foreach(names, i, n) {
        json_array_foreach(tags, j, t) {
            if (json_equal(n, t))
                return 1;
        }
    }
    return 0;
}

char *api_indicator_scope(const json_t *device)
{
    json_t *tags = json_object_get(device, "machineTags");
    size_t n = json_array_size(tags);
    const char **v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++)
        v[i] = json_string_value(json_array_get(tags, i)) ? json_string_value(json_array_get(tags, i)) : "";
    /* insertion sort: a device has a handful of tags */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
            const char *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    struct buf b = BUF_INIT(1u << 20);
    int rc = buf_puts(&b, "");
    for (size_t i = 0; i < n && !rc; i++)
        rc = buf_printf(&b, "%s%s", i ? "\n" : "", v[i]);
    free(v);
    if (rc) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b);
}

int api_indicator_scope_changed(const json_t *device)
{
    const char *held = json_string_value(json_object_get(device, "indicatorScope"));
    if (!held) /* never synced: nothing to redo */
        return 0;
    char *cur = api_indicator_scope(device);
    int changed = !cur || strcmp(cur, held);
    free(cur);
    return changed;
}

int api_indicator_sync(struct app *app, const char *tenant_id, json_t *device, int64_t since, json_t **out)
{
    int64_t current = 0;
    int rc = app->store->ops->ind_version(app->store, tenant_id, &current);
    if (rc)
        return rc;
    /*
     * Start over (full) when the device holds nothing, claims a version from the
     * future (a restored database, another server), or its tags changed since its
     * last sync: indicators scoped by tags may have come into or gone out of scope
     * without their own versions moving.
     */
    char *scope = api_indicator_scope(device);
    if (!scope)
        return RG_ENOMEM;
    const char *held = json_string_value(json_object_get(device, "indicatorScope"));
    if (since > current || (since > 0 && (!held || strcmp(held, scope))))
        since = 0;
    if (!held || strcmp(held, scope)) {
        json_object_set_new(device, "indicatorScope", json_string(scope));
        rc = app->store->ops->doc_update(app->store, tenant_id, THREAT_DEVICES,
                                         json_string_value(json_object_get(device, "id")), device);
    }
    free(scope);
    if (rc)
        return rc;
    struct store_ind_query q = {.since_version = since, .with_deleted = since > 0, .by_version = 1,
                                .limit = SYNC_PAGE + 1};
    json_t *rows = NULL;
    rc = app->store->ops->ind_query(app->store, tenant_id, &q, &rows);
    if (rc)
        return rc;
    json_t *tags = json_object_get(device, "machineTags");
    json_t *ups = json_array(), *removed = json_array();
    int64_t version = since;
    size_t i;
    json_t *r;
    int more = json_array_size(rows) > SYNC_PAGE;
    json_array_foreach(rows, i, r) {
        if (i == SYNC_PAGE)
            break;
        version = json_integer_value(json_object_get(r, "_version"));
        if (json_is_true(json_object_get(r, "_deleted")) || !in_scope(r, tags)) {
            if (since > 0)
                json_array_append(removed, json_object_get(r, "id"));
            continue;
        }
        /* agents match the canonical value and enforce the canonical action, whatever name was sent */
        enum intel_type t = INTEL_TYPE_COUNT;
        enum intel_action a;
        const char *tn = json_string_value(json_object_get(r, "indicatorType"));
        const char *an = json_string_value(json_object_get(r, "action"));
        if (tn)
            intel_type_parse(tn, &t);
        const char *canon = an && !intel_action_parse(an, t, &a, NULL, NULL, 0) ? intel_action_name(a) : an;
        json_array_append_new(ups, json_pack("{s:O,s:O,s:O,s:s?,s:O,s:O,s:O,s:O}", "id", json_object_get(r, "id"),
                                             "indicatorType", json_object_get(r, "indicatorType"), "indicatorValue",
                                             json_object_get(r, "_value"), "action", canon,
                                             "severity", json_object_get(r, "severity"),
                                             "title", json_object_get(r, "title"), "expirationTime",
                                             json_object_get(r, "expirationTime"), "rbacGroupNames",
                                             json_object_get(r, "rbacGroupNames")));
    }
    if (!more)
        version = current > version ? current : version;
    *out = json_pack("{s:I,s:b,s:b,s:o,s:o}", "version", (json_int_t)version, "full", since == 0, "more", more,
                     "upserts", ups, "removed", removed);
    json_decref(rows);
    return 0;
}


#define BATCH_MAX 500 /* ids per BatchDelete/BatchUpdate, as Defender's */

/*
 * The "IndicatorIds" of a batch body: 1 to BATCH_MAX ids, strings or integers.
 * Fills ids (BATCH_MAX entries) and *n; 0, or -1 after answering 400.
 */
static int batch_ids(const json_t *body, struct http_response *res, int64_t *ids, size_t *n)
{
    json_t *list = json_object_get(body, "IndicatorIds");
    if (!json_is_array(list) || !json_array_size(list)) {
        api_mde_error(res, 400, "InvalidRequestBody", "IndicatorIds: a non-empty array of indicator ids is required.");
        return -1;
    }
    if (json_array_size(list) > BATCH_MAX) {
        api_mde_error(res, 400, "MaximumBatchSizeExceeded", "Maximum batch size exceeded. Received: %zu, allowed: %d.",
                  json_array_size(list), BATCH_MAX);
        return -1;
    }
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        char num[32];
        if (json_is_integer(v))
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        else if (json_is_string(v) && json_string_length(v) < sizeof num)
            snprintf(num, sizeof num, "%s", json_string_value(v));
        else
            num[0] = '\0';
        if (parse_id(num, &ids[i])) {
            api_mde_error(res, 400, "InvalidInput", "IndicatorIds[%zu]: an indicator id (a positive integer) is expected.",
                      i);
            return -1;
        }
    }
    *n = json_array_size(list);
    return 0;
}

void api_indicator_batch_delete(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    json_t *body = NULL;
    if (api_authenticate(app, req, res, API_WRITE, &auth) || api_parse_body(req, res, &body))
        return;
    int64_t ids[BATCH_MAX], ver = 0;
    size_t n = 0;
    if (json_object_size(body) != 1 || !json_object_get(body, "IndicatorIds")) {
        api_mde_error(res, 400, "InvalidRequestBody", "IndicatorIds: an array of indicator ids is required (and nothing "
                                                  "else).");
        goto out;
    }
    if (batch_ids(body, res, ids, &n))
        goto out;
    struct store *s = app->store;
    int rc = s->ops->begin(s);
    if (!rc)
        rc = s->ops->ind_version(s, auth.tenant_id, &ver);
    size_t i;
    for (i = 0; i < n && !rc; i++)
        rc = s->ops->ind_delete(s, auth.tenant_id, ids[i], ++ver);
    if (!rc)
        rc = s->ops->commit(s);
    else
        s->ops->rollback(s);
    if (rc == RG_ENOTFOUND) /* Defender: 404 when an id is not found; nothing was deleted */
        api_mde_error(res, 404, "NotFound", "Indicator %lld was not found.", (long long)ids[i - 1]);
    else if (rc)
        api_fail(res, rc, "indicators");
    else {
        notify_tenant(app->notify, auth.tenant_id, NOTIFY_INDICATORS);
        res->status = 204;
    }
out:
    json_decref(body);
}

/* Fields BatchUpdate may change on listed indicators: not the identity (type and value). */
static int batch_field_ok(const char *k)
{
    return in_list(k, settable) && strcmp(k, "indicatorValue") && strcmp(k, "indicatorType");
}

void api_indicator_batch_update(void *vapp, struct http_request *req, struct http_response *res)
{
    struct app *app = vapp;
    struct api_auth auth;
    json_t *body = NULL, *results = NULL;
    if (api_authenticate(app, req, res, API_WRITE, &auth) || api_parse_body(req, res, &body))
        return;
    if (json_object_get(body, "Indicators") && !json_object_get(body, "IndicatorIds")) {
        /* the swagger's form, {"Indicators":[...]}: whole indicators updated (or added) by type and value */
        json_decref(body);
        api_indicator_import(vapp, req, res);
        return;
    }
    int64_t ids[BATCH_MAX], ver = 0;
    size_t n = 0;
    if (!json_is_object(body) || batch_ids(body, res, ids, &n)) {
        if (!json_is_object(body))
            api_mde_error(res, 400, "InvalidRequestBody", "IndicatorIds: an object with the ids and the fields to set is "
                                                      "expected.");
        goto out;
    }
    const char *k;
    json_t *v;
    size_t fields = 0;
    json_object_foreach(body, k, v) {
        if (!strcmp(k, "IndicatorIds"))
            continue;
        if (!batch_field_ok(k)) {
            api_mde_error(res, 400, "InvalidRequestBody", "%s: not a property BatchUpdate can set on an indicator.", k);
            goto out;
        }
        fields++;
    }
    if (!fields) {
        api_mde_error(res, 400, "InvalidRequestBody", "BatchUpdate: at least one property to set is required.");
        goto out;
    }
    struct store *s = app->store;
    int rc = s->ops->begin(s);
    if (!rc)
        rc = s->ops->ind_version(s, auth.tenant_id, &ver);
    results = json_array();
    char err[512] = "";
    size_t i;
    for (i = 0; i < n && !rc; i++) {
        json_t *row = NULL, *ind = NULL;
        rc = s->ops->ind_get(s, auth.tenant_id, ids[i], &row);
        if (rc)
            break;
        json_t *merged = public_row(row);
        json_decref(row);
        json_object_foreach(body, k, v) {
            if (strcmp(k, "IndicatorIds"))
                json_object_set(merged, k, v);
        }
        char type[32], value[INTEL_VALUE_MAX + 1], action[32];
        if (build(merged, auth.key_id, &ind, type, value, action, err, sizeof err)) {
            json_decref(merged);
            rc = RG_EINVAL;
            break;
        }
        json_decref(merged);
        int64_t id = 0;
        rc = keep_creation(s, auth.tenant_id, type, value, ind);
        if (!rc)
            rc = s->ops->ind_upsert(s, auth.tenant_id, type, value, action, ind, ++ver, &id);
        json_decref(ind);
        if (!rc)
            rc = s->ops->ind_get(s, auth.tenant_id, id, &row);
        if (!rc) {
            json_array_append_new(results, public_row(row));
            json_decref(row);
        }
    }
    if (!rc)
        rc = s->ops->commit(s);
    else
        s->ops->rollback(s);
    if (rc == RG_EINVAL)
        api_mde_error(res, 400, "InvalidRequestBody", "Indicator %lld: %s", (long long)ids[i], err);
    else if (rc == RG_ENOTFOUND)
        api_mde_error(res, 404, "NotFound", "Indicator %lld was not found.", (long long)ids[i]);
    else if (rc)
        api_fail(res, rc, "indicators");
    else {
        notify_tenant(app->notify, auth.tenant_id, NOTIFY_INDICATORS);
        char ctx[512];
        api_context_url(app, req, "Indicators", ctx, sizeof ctx);
        json_t *o = json_pack("{s:s,s:O}", "@odata.context", ctx, "value", results);
        api_send(res, 200, o);
        json_decref(o);
    }
out:
    json_decref(body);
    json_decref(results);
}
