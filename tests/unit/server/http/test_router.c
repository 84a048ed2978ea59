/* Unit tests of src/server/http/router.c: route matching, captures, versions, query strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/http/http.h"

static void h(void *app, struct http_request *req, struct http_response *res)
{
    (void)app;
    (void)req;
    (void)res;
}

static const int arg_one = 1;
static const struct http_route routes[] = {
    {"GET", "/healthz", h, NULL, 0},
    {"GET", "/{v}/users/{}", h, &arg_one, 0},
    {"PATCH", "/{v}/users/{}", h, NULL, 0},
    {"POST", "/{v}/groups/{}/members/$ref", h, NULL, 0},
    {"DELETE", "/{v}/groups/{}/members/{}/$ref", h, NULL, 0},
};
#define N (sizeof routes / sizeof routes[0])

static enum http_match match(const char *method, const char *path, struct http_request *req, char *scratch,
                             size_t n, const struct http_route **r)
{
    memset(req, 0, sizeof *req);
    req->method = method;
    req->path = path;
    req->query = "";
    return http_route_match(routes, N, req, scratch, n, r);
}

static void test_match_and_capture(void **state)
{
    (void)state;
    struct http_request req;
    char scratch[256];
    const struct http_route *r = NULL;
    assert_int_equal(match("GET", "/beta/users/abc", &req, scratch, sizeof scratch, &r), HTTP_MATCH_OK);
    assert_ptr_equal(r, &routes[1]);
    assert_ptr_equal(req.route_arg, &arg_one);
    assert_string_equal(req.version, "beta");
    assert_int_equal(req.nparams, 1);
    assert_string_equal(req.params[0], "abc");
    assert_string_equal(req.route, "/{v}/users/{}");

    assert_int_equal(match("DELETE", "/v1.0/groups/g1/members/u2/$ref", &req, scratch, sizeof scratch, &r),
                     HTTP_MATCH_OK);
    assert_string_equal(req.version, "v1.0");
    assert_int_equal(req.nparams, 2);
    assert_string_equal(req.params[0], "g1");
    assert_string_equal(req.params[1], "u2");
    /* one trailing slash is tolerated */
    assert_int_equal(match("GET", "/healthz/", &req, scratch, sizeof scratch, &r), HTTP_MATCH_OK);
}

static void test_percent_decoding(void **state)
{
    (void)state;
    struct http_request req;
    char scratch[256];
    const struct http_route *r = NULL;
    assert_int_equal(match("GET", "/beta/users/alice%40contoso.com", &req, scratch, sizeof scratch, &r),
                     HTTP_MATCH_OK);
    assert_string_equal(req.params[0], "alice@contoso.com");
    assert_int_equal(match("GET", "/beta/users/a%4", &req, scratch, sizeof scratch, &r), HTTP_MATCH_NO_ROUTE);
    assert_int_equal(match("GET", "/beta/users/a%00b", &req, scratch, sizeof scratch, &r), HTTP_MATCH_NO_ROUTE);
    assert_int_equal(match("GET", "/beta/users/a+b", &req, scratch, sizeof scratch, &r), HTTP_MATCH_OK);
    assert_string_equal(req.params[0], "a+b");
}

static void test_no_match(void **state)
{
    (void)state;
    struct http_request req;
    char scratch[256];
    const struct http_route *r = NULL;
    assert_int_equal(match("GET", "/v2/users/x", &req, scratch, sizeof scratch, &r), HTTP_MATCH_NO_ROUTE);
    assert_int_equal(match("GET", "/beta/users", &req, scratch, sizeof scratch, &r), HTTP_MATCH_NO_ROUTE);
    assert_int_equal(match("GET", "/beta/users/x/y", &req, scratch, sizeof scratch, &r), HTTP_MATCH_NO_ROUTE);
    assert_int_equal(match("GET", "/beta/users//", &req, scratch, sizeof scratch, &r), HTTP_MATCH_NO_ROUTE);
    assert_int_equal(match("PUT", "/beta/users/x", &req, scratch, sizeof scratch, &r), HTTP_MATCH_BAD_METHOD);
    assert_int_equal(match("", "", &req, scratch, sizeof scratch, &r), HTTP_MATCH_NO_ROUTE);
    /* captures that do not fit the scratch space do not match */
    char small[4];
    assert_int_equal(match("GET", "/beta/users/abcdef", &req, small, sizeof small, &r), HTTP_MATCH_NO_ROUTE);
}

static void test_query(void **state)
{
    (void)state;
    char v[32];
    assert_int_equal(http_query_get("$top=5&%24skip=10&$filter=displayName%20eq%20'a+b'", "$skip", v, sizeof v), 1);
    assert_string_equal(v, "10");
    assert_int_equal(http_query_get("$top=5&$filter=displayName%20eq%20'a+b'", "$filter", v, sizeof v), 1);
    assert_string_equal(v, "displayName eq 'a b'");
    assert_int_equal(http_query_get("$top=5", "$skip", v, sizeof v), 0);
    assert_int_equal(http_query_get("flag&x=1", "flag", v, sizeof v), 1);
    assert_string_equal(v, "");
    assert_int_equal(http_query_get("x=%zz", "x", v, sizeof v), -1);
    assert_int_equal(http_query_get("x=0123456789012345678901234567890123456789", "x", v, sizeof v), -1);
    assert_int_equal(http_query_get("", "x", v, sizeof v), 0);
}

static void test_any_case(void **state)
{
    (void)state;
    struct http_request req;
    char scratch[256];
    const struct http_route *r = NULL;
    assert_int_equal(match("GET", "/Beta/Users/Abc", &req, scratch, sizeof scratch, &r), HTTP_MATCH_OK);
    assert_string_equal(req.version, "beta");
    assert_string_equal(req.params[0], "Abc"); /* captured values keep their case */
    assert_int_equal(match("GET", "/V1.0/users/x", &req, scratch, sizeof scratch, &r), HTTP_MATCH_OK);
    assert_string_equal(req.version, "v1.0");
    assert_int_equal(match("POST", "/beta/GROUPS/g/Members/$REF", &req, scratch, sizeof scratch, &r), HTTP_MATCH_OK);
    assert_int_equal(match("GET", "/HEALTHZ", &req, scratch, sizeof scratch, &r), HTTP_MATCH_OK);
}

static void norm_is(const char *in, const char *want)
{
    char out[256];
    assert_int_equal(http_path_normalize(in, out, sizeof out), 0);
    assert_string_equal(out, want);
}

static void test_key_syntax(void **state)
{
    (void)state;
    norm_is("/beta/users('abc')", "/beta/users/abc");
    norm_is("/beta/users('abc')/", "/beta/users/abc/");
    norm_is("/beta/deviceAppManagement/androidManagedAppProtections('T_1')/assign",
            "/beta/deviceAppManagement/androidManagedAppProtections/T_1/assign");
    norm_is("/beta/users(5b0f)", "/beta/users/5b0f");
    norm_is("/beta/users(%27a%40b.com%27)", "/beta/users/a%40b.com");
    norm_is("/beta/users('o''brien')", "/beta/users/o%27brien");
    norm_is("/beta/users/x/getManagedAppPolicies()", "/beta/users/x/getManagedAppPolicies");
    norm_is("/beta/users('x')/managedAppRegistrations('r')", "/beta/users/x/managedAppRegistrations/r");
    /* not key syntax: copied as sent */
    norm_is("/beta/users/a(b", "/beta/users/a(b");
    norm_is("/beta/users/(x)", "/beta/users/(x)");
    norm_is("/beta/users('a'b')", "/beta/users('a'b')");
    norm_is("/beta/users(id='x')", "/beta/users(id='x')");
    norm_is("/beta/users('')", "/beta/users('')");
    norm_is("/", "/");
    norm_is("", "");
    char small[8];
    assert_int_equal(http_path_normalize("/beta/users('abc')", small, sizeof small), -1);
    /* a buffer that holds the result is enough, even when the rewrite tried first is longer
     * ("''" becomes "%27" before the lone quote shows it is no key literal; found by fuzz_http) */
    const char *lone = "/beta/users('a''b'c')";
    char exact[32];
    assert_true(strlen(lone) < sizeof exact);
    assert_int_equal(http_path_normalize(lone, exact, strlen(lone) + 1), 0);
    assert_string_equal(exact, lone);
    assert_int_equal(http_path_normalize(lone, exact, strlen(lone)), -1);

    /* and the normalized path routes like the plain one */
    char out[256], scratch[256];
    struct http_request req;
    const struct http_route *r = NULL;
    assert_int_equal(http_path_normalize("/beta/users('alice%40contoso.com')", out, sizeof out), 0);
    assert_int_equal(match("GET", out, &req, scratch, sizeof scratch, &r), HTTP_MATCH_OK);
    assert_string_equal(req.params[0], "alice@contoso.com");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_and_capture),
        cmocka_unit_test(test_percent_decoding),
        cmocka_unit_test(test_no_match),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_any_case),
        cmocka_unit_test(test_key_syntax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
