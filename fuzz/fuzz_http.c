/*
 * fuzz_http.c: libFuzzer target for what riskgated does with a request
 * target before any handler runs (src/server/http/router.c): split path and
 * query at the first '?' (server.c), rewrite OData key syntax with
 * http_path_normalize into a buffer of the size server.c gives it, match the
 * path against the real route table (app_routes()) for each method, which
 * percent-decodes the captured segments; then look query parameters up with
 * http_query_get and decode the whole query with http_url_decode.
 * The input is the request target as sent ("/v1.0/users('a')/memberOf?$top=5");
 * an inner NUL ends it, as h2o's pool_strndup would not but no path holds one.
 * Checks: normalization never writes past the buffer and fails cleanly when
 * the buffer is too small; a match has a route, a version of "beta"/"v1.0"
 * or none, and non-empty captured segments inside the scratch buffer;
 * decoding never grows a string.
 */
#include "fuzz.h"
#include "server/app.h"
#include "server/http/http.h"

static void check_match(const char *method, const char *path)
{
    size_t nroutes;
    const struct http_route *routes = app_routes(&nroutes);
    struct http_request req = {.method = method, .path = path, .query = ""};
    char scratch[2048];
    const struct http_route *r = NULL;
    enum http_match m = http_route_match(routes, nroutes, &req, scratch, sizeof scratch, &r);
    if (m != HTTP_MATCH_OK)
        return;
    FUZZ_CHECK(r && req.route == r->pattern && !strcmp(r->method, method));
    FUZZ_CHECK(!req.version || !strcmp(req.version, "beta") || !strcmp(req.version, "v1.0"));
    FUZZ_CHECK(req.nparams <= HTTP_MAX_PARAMS);
    for (size_t i = 0; i < req.nparams; i++) {
        FUZZ_CHECK(req.params[i] >= scratch && req.params[i] < scratch + sizeof scratch);
        FUZZ_CHECK(req.params[i][0] && strlen(req.params[i]) < sizeof scratch);
    }
}

static void check_query(const char *query)
{
    static const char *const names[] = {"$top", "$filter", "since", "api-version", "$skiptoken", ""};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char small[8], big[4096];
        int a = http_query_get(query, names[i], small, sizeof small);
        int b = http_query_get(query, names[i], big, sizeof big);
        FUZZ_CHECK(a >= -1 && a <= 1 && b >= -1 && b <= 1);
        FUZZ_CHECK(!a == !b || a == -1); /* found or absent alike, unless the small buffer overflowed */
        if (a == 1)
            FUZZ_CHECK(strlen(small) < sizeof small && !strcmp(small, big));
        if (b == 1)
            FUZZ_CHECK(strlen(big) < sizeof big);
    }
    char *copy = strdup(query);
    if (copy) {
        size_t n = strlen(copy);
        int d = http_url_decode(copy);
        FUZZ_CHECK(d >= -1 && (d < 0 || (size_t)d <= n));
        free(copy);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *target = fuzz_strndup(data, size);
    if (!target)
        return 0;
    char *q = strchr(target, '?');
    const char *query = "";
    if (q) {
        *q = '\0';
        query = q + 1;
    }
    const char *path = target;
    size_t plen = strlen(target);
    /* exactly the size server.c allocates, so ASan sees a write past it */
    char *norm = malloc(plen * 3 + 1);
    if (norm && http_path_normalize(target, norm, plen * 3 + 1) == 0) {
        FUZZ_CHECK(strlen(norm) <= plen * 3);
        path = norm;
        /* a buffer one byte short of the result fails, never overflows */
        size_t need = strlen(norm) + 1;
        char *tight = malloc(need);
        if (tight) {
            FUZZ_CHECK(http_path_normalize(target, tight, need) == 0 && !strcmp(tight, norm));
            FUZZ_CHECK(http_path_normalize(target, tight, need - 1) == -1);
            free(tight);
        }
    }
    static const char *const methods[] = {"GET", "POST", "PATCH", "PUT", "DELETE"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        check_match(methods[i], path);
    check_query(query);
    free(norm);
    free(target);
    return 0;
}
