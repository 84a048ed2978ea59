/* common.c: authentication, body parsing, answers and paging for the API handlers (api.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/jsonsafe.h"
#include "server/api/api.h"
#include "server/audit.h"
#include "server/policy/schema.h"

int api_authenticate(struct app *app, struct http_request *req, struct http_response *res, enum api_access access,
                     struct api_auth *out)
{
    const char *h = req->authorization;
    if (!h || strncasecmp(h, "Bearer ", 7) || !h[7]) {
        http_error(res, 401, "Unauthorized", "Missing credentials: send an API key as 'Authorization: Bearer <key>'.");
        return -1;
    }
    const char *key = h + 7;
    while (*key == ' ')
        key++;
    char hash[UTIL_SHA256_HEX_LEN + 1];
    util_sha256_hex(key, strlen(key), hash, sizeof hash);
    struct store_key k;
    int rc = app->store->ops->key_lookup(app->store, hash, &k);
    if (rc == RG_ENOTFOUND) {
        http_error(res, 401, "Unauthorized", "The API key is not valid.");
        return -1;
    }
    if (rc) {
        api_fail(res, rc, "key");
        return -1;
    }
    memcpy(out->tenant_id, k.tenant_id, sizeof out->tenant_id);
    snprintf(out->tenant_name, sizeof out->tenant_name, "%s", k.tenant_name);
    memcpy(out->key_id, k.id, sizeof out->key_id);
    out->admin = !strcmp(k.role, "admin");
    snprintf(req->tenant, sizeof req->tenant, "%s", out->tenant_name);
    snprintf(out->key_name, sizeof out->key_name, "%s", k.name);
    if (out->admin) /* the writes of this request go to the audit trail under this key */
        audit_actor_set(app, k.id, k.name, req->peer, res->request_id);
    if (access == API_WRITE && !out->admin) {
        http_error(res, 403, "Forbidden", "The key's role 'reader' cannot change anything; an 'admin' key is needed.");
        return -1;
    }
    return 0;
}

int api_parse_body(struct http_request *req, struct http_response *res, json_t **out)
{
    const char *p = req->body ? req->body : "";
    size_t n = req->body_len;
    if (n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) {
        p += 3;
        n -= 3;
    }
    if (n == 0) {
        http_error(res, 400, "BadRequest", "The request body is empty; a JSON object is expected.");
        return -1;
    }
    json_error_t jerr;
    json_t *v = jsonsafe_loadb(p, n, JSON_REJECT_DUPLICATES, &jerr);
    if (!v && jsonsafe_oom(&jerr)) { /* the body may be fine: do not tell the client it is not */
        api_fail(res, RG_ENOMEM, "request body");
        return -1;
    }
    if (!v) {
        http_error(res, 400, "BadRequest", "The request body is not valid JSON (line %d, column %d): %s", jerr.line,
                   jerr.column, jerr.text);
        return -1;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        http_error(res, 400, "BadRequest", "The request body must be a JSON object.");
        return -1;
    }
    *out = v;
    return 0;
}

void api_schema_fail(struct http_response *res, int rc, const struct schema_error *err)
{
    if (rc == RG_ENOMEM)
        api_fail(res, rc, "request");
    else
        http_error(res, 400, "BadRequest", "%s", err->message);
}

void api_send(struct http_response *res, int status, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    buf_clear(&res->body);
    if (!s || buf_puts(&res->body, s)) {
        free(s);
        http_error(res, 500, "InternalServerError", "The answer could not be built.");
        return;
    }
    free(s);
    res->status = status;
}

void api_fail(struct http_response *res, int rc, const char *what)
{
    switch (rc) {
    case RG_ENOTFOUND:
        http_error(res, 404, "ResourceNotFound", "The %s was not found.", what);
        break;
    case RG_EEXISTS:
        http_error(res, 409, "Conflict", "The %s already exists.", what);
        break;
    case RG_EINVAL:
        http_error(res, 400, "BadRequest", "The %s is not valid.", what);
        break;
    case RG_ECONFLICT:
        http_error(res, 412, "PreconditionFailed", "The %s was changed since the version given in If-Match.", what);
        break;
    case RG_ETOOBIG:
        http_error(res, 400, "BadRequest", "The %s is too large.", what);
        break;
    case RG_EFULL: /* the disk is full: nothing was written, and it is worth trying again later (Retry-After) */
        http_error(res, 503, "ServiceUnavailable",
                   "The %s could not be stored: the server's storage is full. Nothing was written; try again later.",
                   what);
        break;
    default:
        http_error(res, 500, "InternalServerError", "The %s could not be stored or read (%s).", what, rg_err_name(rc));
        break;
    }
}

void api_context_url(struct app *app, struct http_request *req, const char *what, char *out, size_t outlen)
{
    if (!req->version && !strncmp(req->path, "/api/", 5)) {
        snprintf(out, outlen, "%s/api/$metadata#%s", app->public_url, what);
        return;
    }
    snprintf(out, outlen, "%s/%s/$metadata#%s", app->public_url, req->version ? req->version : "beta", what);
}

void api_new_version(char *out, size_t outlen)
{
    char id[UTIL_UUID_LEN + 1];
    util_uuid(id, sizeof id);
    snprintf(out, outlen, "\"%s\"", id);
}

void api_strip_annotations(json_t *obj)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, k, v) {
        if (!strncmp(k, "@odata.", 7) || strstr(k, "@odata."))
            json_object_del(obj, k);
    }
}

void api_buf_put_encoded(struct buf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-_.~", c))
            buf_append(b, p, 1);
        else
            buf_printf(b, "%%%02X", c);
    }
}

static int query_parse(struct http_request *req, struct http_response *res, const struct odata_collection *coll,
                       struct odata_query **q, bool searchable)
{
    struct odata_error err;
    if (odata_query_parse(req->query, coll, q, &err)) {
        http_error(res, err.status, err.code, "%s", err.message);
        return -1;
    }
    if ((*q)->search && searchable && (!req->consistency_level || strcasecmp(req->consistency_level, "eventual"))) {
        http_error(res, 400, "Request_UnsupportedQuery",
                   "$search: Request with $search query parameter only works through MSGraph with a special request "
                   "header: 'ConsistencyLevel: eventual'");
    } else if ((*q)->search && !searchable) {
        http_error(res, 400, "BadRequest", "$search is not supported on this collection; use $filter.");
    } else if ((*q)->skiptoken) {
        http_error(res, 400, "BadRequest", "$skiptoken: this collection pages with $skip; follow @odata.nextLink.");
    } else {
        return 0;
    }
    odata_query_free(*q);
    *q = NULL;
    return -1;
}

int api_query(struct http_request *req, struct http_response *res, const struct odata_collection *coll,
              struct odata_query **q)
{
    return query_parse(req, res, coll, q, false);
}

bool api_count_route(const struct http_request *req)
{
    size_t n = req->route ? strlen(req->route) : 0;
    return n >= 7 && !strcmp(req->route + n - 7, "/$count");
}

void api_send_count(struct http_response *res, int64_t n)
{
    res->status = 200;
    res->content_type = "text/plain";
    buf_clear(&res->body);
    buf_printf(&res->body, "%" PRId64, n);
}

void api_send_page(struct app *app, struct http_request *req, struct http_response *res, const char *context,
                   const char *path, const struct odata_query *q, json_t *page, bool more, int64_t count,
                   long next_skip)
{
    char ctx[512];
    api_context_url(app, req, context, ctx, sizeof ctx);
    json_t *o = json_pack("{s:s}", "@odata.context", ctx);
    if (q->count)
        json_object_set_new(o, "@odata.count", json_integer(count));
    json_object_set_new(o, "value", page);
    if (more) {
        struct buf next = BUF_INIT(65536);
        char base[1024];
        snprintf(base, sizeof base, "%s%s", app->public_url, path ? path : req->path);
        if (odata_next_link(q, base, next_skip, NULL, &next)) {
            buf_release(&next);
            json_decref(o);
            http_error(res, 400, "BadRequest", "The query is too long to page; narrow $filter or $select.");
            return;
        }
        json_object_set_new(o, "@odata.nextLink", json_string(buf_str(&next)));
        buf_release(&next);
    }
    api_send(res, 200, o);
    json_decref(o);
}

void api_send_query(struct app *app, struct http_request *req, struct http_response *res, const char *context,
                    json_t *items, const struct odata_query *q)
{
    if (odata_sort(q, items)) {
        api_fail(res, RG_ENOMEM, "collection");
        return;
    }
    json_t *page = json_array();
    size_t idx;
    json_t *it;
    long matched = 0;
    bool more = false;
    json_array_foreach(items, idx, it) {
        if (!odata_match(q, it))
            continue;
        if (matched++ < q->skip)
            continue;
        if (q->top >= 0 && (long)json_array_size(page) >= q->top) {
            more = true;
            if (!q->count && !api_count_route(req))
                break;
            continue;
        }
        json_array_append_new(page, odata_select(q, it));
    }
    if (api_count_route(req)) {
        json_decref(page);
        api_send_count(res, matched);
        return;
    }
    api_send_page(app, req, res, context, NULL, q, page, more, matched, q->skip + q->top);
}

void api_send_docs(struct app *app, struct http_request *req, struct http_response *res, const char *context,
                   const char *tenant_id, const char *coll, const struct odata_collection *oc,
                   json_t *(*shape)(const json_t *doc), bool searchable)
{
    struct odata_query *q = NULL;
    struct api_search *se = NULL;
    char err[512];
    if (query_parse(req, res, oc, &q, searchable))
        return;
    if (q->search && api_search_parse(q->search, oc, &se, err, sizeof err)) {
        http_error(res, 400, "BadRequest", "%s", err);
        odata_query_free(q);
        return;
    }
    json_t *rows = NULL;
    int64_t count = 0;
    bool counting = api_count_route(req);
    struct store_doc_query dq = {.odata = q,
                                 .limit = counting ? 0 : q->top < 0 ? -1 : (int64_t)q->top + 1,
                                 .offset = q->skip,
                                 .count_out = counting || q->count ? &count : NULL};
    /* $search is evaluated in memory */
    int rc = se ? ODATA_ENOTSUP : app->store->ops->doc_query(app->store, tenant_id, coll, &dq, &rows);
    if (rc == ODATA_ENOTSUP) { /* a query SQL cannot say (any(), nested paths, $search): in memory */
        json_t *all = NULL;
        rc = app->store->ops->doc_list(app->store, tenant_id, coll, &all);
        if (!rc) {
            json_t *items = json_array();
            size_t i;
            json_t *d;
            json_array_foreach(all, i, d) {
                if (se && !api_search_match(se, d))
                    continue;
                json_array_append_new(items, shape ? shape(d) : json_incref(d));
            }
            api_send_query(app, req, res, context, items, q);
            json_decref(items);
            json_decref(all);
        }
    } else if (!rc && counting) {
        api_send_count(res, count);
    } else if (!rc) {
        json_t *page = json_array();
        size_t i;
        json_t *d;
        json_array_foreach(rows, i, d) {
            if (q->top >= 0 && (long)i >= q->top)
                break;
            json_t *o = shape ? shape(d) : json_incref(d);
            json_array_append_new(page, odata_select(q, o));
            json_decref(o);
        }
        api_send_page(app, req, res, context, NULL, q, page, q->top >= 0 && (int64_t)json_array_size(rows) > q->top,
                      count, q->skip + q->top);
    }
    if (rc)
        api_fail(res, rc, coll);
    json_decref(rows);
    api_search_free(se);
    odata_query_free(q);
}

void api_send_collection(struct app *app, struct http_request *req, struct http_response *res, const char *context,
                         json_t *items, const struct odata_collection *coll)
{
    struct odata_query *q = NULL;
    if (api_query(req, res, coll, &q))
        return;
    api_send_query(app, req, res, context, items, q);
    odata_query_free(q);
}
