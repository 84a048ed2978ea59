/*
 * batch.c: Graph JSON batching, POST /{v}/$batch (docs/api.md, "$batch").
 *
 * The body holds up to BATCH_MAX requests, each {id, method, url, headers?,
 * body?, dependsOn?}. The whole batch is checked first (ids present and
 * unique regardless of case, method and url present, dependsOn naming known
 * ids without a cycle); a malformed batch answers 400 and runs nothing. Then
 * the steps run one after another on the loop thread, in array order except
 * that a step runs after the steps it depends on. Each step is a request of
 * its own: the outer Authorization is applied to it, it goes through the same
 * route table and handler as a direct request (http_dispatch), and a handler's
 * write is committed before it answers 2xx, exactly as for a direct request,
 * so a 2xx inside the batch is durable. A step that depends on one that did
 * not answer 2xx answers 424 FailedDependency and does not run. The answer is
 * 200 {"responses":[{id, status, headers, body?}]}, in the order of the
 * requests.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/jsonsafe.h"
#include "server/api/api.h"

#define BATCH_MAX 20    /* Graph's limit */
#define BATCH_ID_MAX 128
#define BATCH_URL_MAX 2048

struct step {
    char id[BATCH_ID_MAX + 1];
    const json_t *req;         /* borrowed from the batch body */
    size_t deps[BATCH_MAX];    /* indexes of the steps it depends on */
    size_t ndeps;
    int mark;                  /* ordering: 0 new, 1 on the path, 2 placed */
    int status;                /* once run */
    json_t *response;          /* once run: {id,status,headers,body?}, new reference */
};

/* The id of a request as a string (Graph sends strings; IntuneCD sends integers). 0, or -1 if absent or bad. */
static int id_string(const json_t *v, char *out, size_t outlen)
{
    int n;
    if (json_is_string(v))
        n = snprintf(out, outlen, "%s", json_string_value(v));
    else if (json_is_integer(v))
        n = snprintf(out, outlen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else
        return -1;
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

static int find_step(const struct step *steps, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(steps[i].id, id)) /* ids are not case-sensitive */
            return (int)i;
    return -1;
}

/* Places step i and, before it, what it depends on, into order[]; -1 on a cycle. */
static int place(struct step *steps, size_t i, size_t *order, size_t *norder)
{
    if (steps[i].mark == 2)
        return 0;
    if (steps[i].mark == 1)
        return -1;
    steps[i].mark = 1;
    for (size_t k = 0; k < steps[i].ndeps; k++)
        if (place(steps, steps[i].deps[k], order, norder))
            return -1;
    steps[i].mark = 2;
    order[(*norder)++] = i;
    return 0;
}

/* Checks the batch and fills steps and the run order; on failure fills res (400) and returns -1. */
static int parse_batch(const json_t *requests, struct step *steps, size_t *order, struct http_response *res)
{
    size_t n = json_array_size(requests);
    for (size_t i = 0; i < n; i++) {
        const json_t *r = json_array_get(requests, i);
        struct step *s = &steps[i];
        s->req = r;
        if (!json_is_object(r)) {
            http_error(res, 400, "BadRequest", "requests[%zu] must be a JSON object.", i);
            return -1;
        }
        if (id_string(json_object_get(r, "id"), s->id, sizeof s->id) || !s->id[0]) {
            http_error(res, 400, "BadRequest",
                       "requests[%zu]: the property 'id' is missing or not a string of at most %d characters.", i,
                       BATCH_ID_MAX);
            return -1;
        }
        if (find_step(steps, i, s->id) >= 0) {
            http_error(res, 400, "BadRequest", "requests[%zu]: the 'id' '%s' is used by another request of the batch.",
                       i, s->id);
            return -1;
        }
        if (!json_is_string(json_object_get(r, "method")) || !json_string_length(json_object_get(r, "method"))) {
            http_error(res, 400, "BadRequest", "Request '%s': the property 'method' is missing.", s->id);
            return -1;
        }
        if (!json_is_string(json_object_get(r, "url")) || !json_string_length(json_object_get(r, "url"))) {
            http_error(res, 400, "BadRequest", "Request '%s': the property 'url' is missing.", s->id);
            return -1;
        }
        const json_t *h = json_object_get(r, "headers");
        if (h && !json_is_object(h) && !json_is_null(h)) {
            http_error(res, 400, "BadRequest", "Request '%s': the property 'headers' must be a JSON object.", s->id);
            return -1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct step *s = &steps[i];
        const json_t *d = json_object_get(s->req, "dependsOn");
        if (!d || json_is_null(d))
            continue;
        size_t nd = json_is_array(d) ? json_array_size(d) : 1;
        if ((!json_is_array(d) && !json_is_string(d)) || nd > BATCH_MAX) {
            http_error(res, 400, "BadRequest", "Request '%s': the property 'dependsOn' must be an array of ids.", s->id);
            return -1;
        }
        for (size_t k = 0; k < nd; k++) {
            char id[BATCH_ID_MAX + 1];
            int j = id_string(json_is_array(d) ? json_array_get(d, k) : d, id, sizeof id) ? -1 : find_step(steps, n, id);
            if (j < 0) {
                http_error(res, 400, "BadRequest", "Request '%s': 'dependsOn' names an id that is not in the batch.",
                           s->id);
                return -1;
            }
            s->deps[s->ndeps++] = (size_t)j;
        }
    }
    size_t norder = 0;
    for (size_t i = 0; i < n; i++)
        if (place(steps, i, order, &norder)) {
            http_error(res, 400, "BadRequest", "Request '%s': 'dependsOn' makes a cycle.", steps[i].id);
            return -1;
        }
    return 0;
}

/* Keeps a client-request-id only when it is short and plain, as the server does for a direct request. */
static int plain_id(const char *v)
{
    size_t n = strlen(v);
    return n > 0 && n <= 64 && strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:") == n;
}

/*
 * Builds the step's request from its JSON and dispatches it; fills sub. Checks
 * that need the step only (url form, headers, body) answer in sub, not the batch.
 */
static void run_step(struct app *app, struct http_request *outer, const struct step *s, struct http_response *sub)
{
    const json_t *r = s->req;
    const char *url = json_string_value(json_object_get(r, "url"));
    const json_t *headers = json_object_get(r, "headers");
    const json_t *body = json_object_get(r, "body");

    char method[16];
    const char *m = json_string_value(json_object_get(r, "method"));
    size_t ml = strlen(m);
    if (ml >= sizeof method) {
        http_error(sub, 405, "MethodNotAllowed", "The method of request '%s' is not allowed.", s->id);
        return;
    }
    for (size_t i = 0; i <= ml; i++)
        method[i] = (char)toupper((unsigned char)m[i]);

    /* the outer request's client: rate limits and the audit trail see the real address */
    struct http_request req = {.method = method, .query = "", .parent = outer, .authorization = outer->authorization,
                               .peer = outer->peer, .forwarded_for = outer->forwarded_for,
                               .consistency_level = outer->consistency_level};
    const char *content_type = NULL, *crid = NULL;
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)headers, name, v) {
        if (!json_is_string(v)) {
            http_error(sub, 400, "BadRequest", "The header '%s' of request '%s' must be a string.", name, s->id);
            return;
        }
        if (!strcasecmp(name, "Content-Type"))
            content_type = json_string_value(v);
        else if (!strcasecmp(name, "If-Match"))
            req.if_match = json_string_value(v);
        else if (!strcasecmp(name, "ConsistencyLevel"))
            req.consistency_level = json_string_value(v);
        else if (!strcasecmp(name, "client-request-id") && plain_id(json_string_value(v)))
            crid = json_string_value(v);
    }
    if (crid) {
        req.client_request_id = crid;
        snprintf(sub->client_request_id, sizeof sub->client_request_id, "%s", crid);
    }

    /* url: relative to the version, "/users/x" or "users/x", maybe with a query */
    if (strstr(url, "://") || !strncmp(url, "//", 2)) {
        http_error(sub, 400, "BadRequest", "The url '%s' must be relative to the version, e.g. '/users'.", url);
        return;
    }
    if (strlen(url) > BATCH_URL_MAX) {
        http_error(sub, 400, "BadRequest", "The url of request '%s' is longer than %d bytes.", s->id, BATCH_URL_MAX);
        return;
    }
    const char *rel = url[0] == '/' ? url + 1 : url;
    size_t first = strcspn(rel, "/?");
    if (first == 4 && (!strncasecmp(rel, "beta", 4) || !strncasecmp(rel, "v1.0", 4))) {
        http_error(sub, 400, "BadRequest",
                   "The url '%s' must be relative to the version of the batch ('/%s/'), without a version segment.",
                   url, outer->version);
        return;
    }
    if ((first == 6 && !strncasecmp(rel, "$batch", 6)) || (first == 8 && !strncasecmp(rel, "%24batch", 8))) {
        http_error(sub, 400, "BadRequest", "A $batch cannot contain another $batch (request '%s').", s->id);
        return;
    }
    char path[BATCH_URL_MAX + 16], norm[3 * (BATCH_URL_MAX + 16) + 1];
    size_t plen = strcspn(rel, "?#");
    snprintf(path, sizeof path, "/%s/%.*s", outer->version, (int)plen, rel);
    req.path = path;
    if (strchr(path, '(') && http_path_normalize(path, norm, sizeof norm) == 0) /* coll('id') is coll/id */
        req.path = norm;
    char query[BATCH_URL_MAX + 1];
    if (rel[plen] == '?') {
        snprintf(query, sizeof query, "%.*s", (int)strcspn(rel + plen + 1, "#"), rel + plen + 1);
        req.query = query;
    }

    char *text = NULL;
    if (body && !json_is_null(body)) {
        if (!content_type) {
            http_error(sub, 400, "BadRequest",
                       "Request '%s' has a body, so its 'headers' must contain Content-Type (application/json).", s->id);
            return;
        }
        if (!json_is_object(body) && !json_is_array(body)) {
            http_error(sub, 400, "BadRequest", "The body of request '%s' must be a JSON object.", s->id);
            return;
        }
        text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!text) {
            http_error(sub, 503, "ServiceUnavailable", "Out of memory; retry.");
            return;
        }
        req.body = text;
        req.body_len = strlen(text);
    }

    size_t nroutes;
    const struct http_route *routes = app_routes(&nroutes);
    char scratch[2048];
    http_dispatch(routes, nroutes, app, &req, sub, scratch, sizeof scratch);
    free(text);
    if (sub->suspended) /* http_suspend refuses batch steps; never reached */
        http_error(sub, 500, "InternalServerError", "Request '%s' tried to wait inside a $batch.", s->id);
}

/* {id, status, headers, body?} of a step that ran (or was refused), new reference or NULL. */
static json_t *step_response(const struct step *s, const struct http_response *sub)
{
    json_t *h = json_object();
    json_t *o = json_pack("{s:s,s:i,s:o}", "id", s->id, "status", sub->status, "headers", h);
    if (!o)
        return NULL;
    int has_body = sub->status != 204 && sub->body.len > 0;
    if (has_body)
        json_object_set_new(h, "Content-Type", json_string(sub->content_type));
    if (sub->location[0])
        json_object_set_new(h, "Location", json_string(sub->location));
    if (sub->etag[0])
        json_object_set_new(h, "ETag", json_string(sub->etag));
    if (sub->warning[0])
        json_object_set_new(h, "Warning", json_string(sub->warning));
    if (sub->status == 429 || sub->status == 503 || sub->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", sub->retry_after > 0 ? sub->retry_after : sub->status == 429 ? 1 : 5);
        json_object_set_new(h, "Retry-After", json_string(ra));
    }
    json_object_set_new(h, "client-request-id", json_string(sub->client_request_id));
    if (has_body) {
        json_t *b = jsonsafe_loadb(sub->body.data, sub->body.len, 0, NULL);
        json_object_set_new(o, "body", b ? b : json_stringn(sub->body.data, sub->body.len));
    }
    return o;
}

/* A 2xx answer; anything else fails the steps that depend on it. */
static int succeeded(int status)
{
    return status >= 200 && status < 300;
}

void api_batch(void *app_, struct http_request *req, struct http_response *res)
{
    struct app *app = app_;
    if (req->parent) {
        http_error(res, 400, "BadRequest", "A $batch cannot contain another $batch.");
        return;
    }
    struct api_auth auth;
    if (api_authenticate(app, req, res, API_READ, &auth)) /* each step checks its own access again */
        return;
    json_t *doc;
    if (api_parse_body(req, res, &doc))
        return;
    const json_t *requests = json_object_get(doc, "requests");
    size_t n = json_array_size(requests);
    if (!json_is_array(requests) || n == 0) {
        http_error(res, 400, "BadRequest", "The property 'requests' must be a non-empty array.");
        json_decref(doc);
        return;
    }
    if (n > BATCH_MAX) {
        http_error(res, 400, "MaximumValueExceeded", "Number of batch request steps exceeds the maximum value of %d.",
                   BATCH_MAX);
        json_decref(doc);
        return;
    }
    struct step steps[BATCH_MAX];
    size_t order[BATCH_MAX];
    memset(steps, 0, sizeof steps);
    if (parse_batch(requests, steps, order, res)) {
        json_decref(doc);
        return;
    }

    int failed = 0;
    for (size_t k = 0; k < n; k++) {
        struct step *s = &steps[order[k]];
        struct http_response sub = {.status = 200, .content_type = "application/json", .body = BUF_INIT(HTTP_RESPONSE_CAP)};
        util_uuid(sub.request_id, sizeof sub.request_id);
        snprintf(sub.client_request_id, sizeof sub.client_request_id, "%s", res->client_request_id);
        const struct step *bad = NULL;
        for (size_t d = 0; d < s->ndeps && !bad; d++)
            if (!succeeded(steps[s->deps[d]].status))
                bad = &steps[s->deps[d]];
        if (bad)
            http_error(&sub, 424, "FailedDependency", "Request '%s' depends on request '%s', which failed (status %d).",
                       s->id, bad->id, bad->status);
        else
            run_step(app, req, s, &sub);
        s->status = sub.status;
        s->response = step_response(s, &sub);
        failed |= !s->response;
        buf_release(&sub.body);
    }

    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        if (steps[i].response)
            json_array_append_new(list, steps[i].response);
    json_t *out = json_pack("{s:o}", "responses", list);
    if (failed || !out) /* the steps ran (and their writes are kept); only the answer could not be built */
        http_error(res, 500, "InternalServerError", "The answer of the batch could not be built.");
    else
        api_send(res, 200, out);
    json_decref(out);
    json_decref(doc);
}
