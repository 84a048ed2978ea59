/*
 * test_odata.c: unit tests of server/odata/: the query-string options, the
 * $filter grammar (every operator, function, literal, precedence, error and
 * limit), evaluation against JSON, ordering, $select, the next page's link
 * and the SQL compiler.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "common/err.h"
#include "server/odata/odata.h"

/* ---- the collection under test ---- */

static const struct odata_prop props[] = {
    {"id", ODATA_T_STRING, 0},
    {"displayName", ODATA_T_STRING, 0},
    {"status", ODATA_T_STRING, 0},
    {"severity", ODATA_T_STRING, 0},
    {"riskScore", ODATA_T_NUMBER, 0},
    {"isActive", ODATA_T_BOOL, 0},
    {"createdDateTime", ODATA_T_DATETIME, 0},
    {"lastSeen", ODATA_T_STRING, 0},
    {"machineTags", ODATA_T_STRINGS, 0},
    {"target", ODATA_T_OBJECT, 0},
    {"assignments", ODATA_T_OBJECTS, 0},
    {"extra", ODATA_T_ANY, 0},
    {"token", ODATA_T_STRING, ODATA_CASE_SENSITIVE},
};
static const char *const expands[] = {"members", "owners"};
static const char *const params[] = {"$deltatoken", "api-version"};
static const struct odata_collection coll = {
    props, sizeof props / sizeof props[0], expands, 2, params, 2, false, 100, 999,
};

/* ---- helpers ---- */

static json_t *J(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!j)
        fail_msg("bad test JSON '%s': %s", text, jerr.text);
    return j;
}

/* s percent-encoded (everything but unreserved), into a static buffer: one use at a time. */
static const char *enc(const char *s)
{
    static char out[65536];
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 4 < sizeof out; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p))
            out[o++] = (char)*p;
        else
            o += (size_t)snprintf(out + o, sizeof out - o, "%%%02X", *p);
    }
    out[o] = '\0';
    return out;
}

/* The message must fit in a JSON string: valid UTF-8, no control characters. */
static void assert_clean(const char *msg)
{
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
        assert_true(*p >= 0x20 && *p != 0x7f);
    json_t *s = json_string(msg);
    assert_non_null(s);
    json_decref(s);
}

static struct odata_query *P_coll(const char *raw, const struct odata_collection *c)
{
    struct odata_query *q = NULL;
    struct odata_error err;
    int rc = odata_query_parse(raw, c, &q, &err);
    if (rc)
        fail_msg("parse of '%s' failed (%d): %s", raw, rc, err.message);
    assert_non_null(q);
    return q;
}

static struct odata_query *P(const char *raw)
{
    return P_coll(raw, &coll);
}

/* Parse of raw must fail with rc and a message containing want (NULL: any). */
static void perr(const char *raw, int want_rc, const char *want)
{
    struct odata_query *q = (struct odata_query *)1;
    struct odata_error err;
    memset(&err, 0, sizeof err);
    int rc = odata_query_parse(raw, &coll, &q, &err);
    if (rc != want_rc)
        fail_msg("parse of '%s': %d, expected %d (%s)", raw, rc, want_rc, rc ? err.message : "no error");
    assert_null(q);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.code, "BadRequest");
    assert_clean(err.message);
    if (want && !strstr(err.message, want))
        fail_msg("message of '%s' is \"%s\", expected to contain \"%s\"", raw, err.message, want);
}

static struct odata_query *PF(const char *filter)
{
    char raw[70000];
    snprintf(raw, sizeof raw, "$filter=%s", enc(filter));
    return P(raw);
}

/* The filter's error, for a filter given in clear. */
static void ferr(const char *filter, int want_rc, const char *want)
{
    char raw[70000];
    snprintf(raw, sizeof raw, "$filter=%s", enc(filter));
    perr(raw, want_rc, want);
}

/* Does filter match item? */
static bool M(const char *filter, const char *item)
{
    struct odata_query *q = PF(filter);
    json_t *j = J(item);
    bool r = odata_match(q, j);
    json_decref(j);
    odata_query_free(q);
    return r;
}

#define MATCH(f, item) assert_true(M(f, item))
#define NOMATCH(f, item) assert_false(M(f, item))

/* The canonical form of filter must be want. */
static void canon(const char *filter, const char *want)
{
    struct odata_query *q = PF(filter);
    struct buf b = BUF_INIT(0);
    assert_int_equal(odata_filter_format(q, &b), 0);
    assert_string_equal(buf_str(&b), want);
    buf_release(&b);
    odata_query_free(q);
}

/* ---- comparisons ---- */

static void test_comparison_operators(void **state)
{
    (void)state;
    const char *it = "{\"displayName\":\"Bob\",\"riskScore\":5,\"isActive\":true}";
    MATCH("displayName eq 'Bob'", it);
    NOMATCH("displayName eq 'Bobby'", it);
    MATCH("displayName ne 'Alice'", it);
    NOMATCH("displayName ne 'bob'", it);
    MATCH("displayName gt 'Alice'", it);
    NOMATCH("displayName gt 'Bob'", it);
    MATCH("displayName ge 'Bob'", it);
    NOMATCH("displayName ge 'Carl'", it);
    MATCH("displayName lt 'Carl'", it);
    NOMATCH("displayName lt 'Bob'", it);
    MATCH("displayName le 'bob'", it);
    NOMATCH("displayName le 'Alice'", it);
    MATCH("riskScore eq 5", it);
    NOMATCH("riskScore ne 5", it);
    MATCH("riskScore gt 4", it);
    NOMATCH("riskScore gt 5", it);
    MATCH("riskScore ge 5", it);
    MATCH("riskScore lt 5.5", it);
    NOMATCH("riskScore lt 5", it);
    MATCH("riskScore le 5.0", it);
    NOMATCH("riskScore le 4.99", it);
    MATCH("isActive eq true", it);
    NOMATCH("isActive eq false", it);
    MATCH("isActive ne false", it);
    /* keywords in any case */
    MATCH("displayName EQ 'Bob' AnD riskScore Gt 1", it);
}

static void test_string_case(void **state)
{
    (void)state;
    const char *it = "{\"displayName\":\"Level One\",\"token\":\"AbC\"}";
    MATCH("displayName eq 'LEVEL ONE'", it);
    MATCH("displayName gt 'level a'", it);
    MATCH("displayName lt 'LEVEL Z'", it);
    /* ODATA_CASE_SENSITIVE: byte for byte */
    MATCH("token eq 'AbC'", it);
    NOMATCH("token eq 'abc'", it);
    NOMATCH("startswith(token,'ab')", it);
    MATCH("startswith(token,'Ab')", it);
    NOMATCH("contains(token,'bc')", it);
    MATCH("token ne 'abc'", it);
    NOMATCH("token in ('abc','ABC')", it);
    /* non-ASCII bytes compare exactly, with ASCII folded around them */
    MATCH("displayName eq 'level one'", it);
    MATCH("displayName eq 'Zoë'", "{\"displayName\":\"zoë\"}");
    NOMATCH("displayName eq 'ZOË'", "{\"displayName\":\"zoë\"}");
}

static void test_functions(void **state)
{
    (void)state;
    const char *it = "{\"displayName\":\"Contoso Phone\",\"riskScore\":3}";
    MATCH("startswith(displayName,'cont')", it);
    NOMATCH("startswith(displayName,'phone')", it);
    MATCH("endswith(displayName,'PHONE')", it);
    NOMATCH("endswith(displayName,'contoso')", it);
    MATCH("contains(displayName,'so ph')", it);
    NOMATCH("contains(displayName,'sop')", it);
    MATCH("contains(displayName,'')", it);
    MATCH("startswith(displayName,'')", it);
    NOMATCH("startswith(displayName,'Contoso Phone and more')", it);
    /* names in any case, spaces around arguments */
    MATCH("StartsWith( displayName , 'CON' )", it);
    MATCH("CONTAINS(displayName,'phone')", it);
    /* optional eq true / eq false / ne */
    MATCH("startswith(displayName,'con') eq true", it);
    NOMATCH("startswith(displayName,'con') eq false", it);
    MATCH("startswith(displayName,'x') eq false", it);
    MATCH("startswith(displayName,'x') ne true", it);
    NOMATCH("contains(displayName,'phone') ne true", it);
    /* contains must find a match after a partial one (KMP) */
    MATCH("contains(displayName,'aab')", "{\"displayName\":\"aaab\"}");
    MATCH("contains(displayName,'ABAC')", "{\"displayName\":\"ababac\"}");
    NOMATCH("contains(displayName,'abaca')", "{\"displayName\":\"ababac\"}");
    /* on a missing or non-string value: false */
    NOMATCH("contains(displayName,'a')", "{}");
    NOMATCH("contains(extra,'1')", "{\"extra\":1}");
    MATCH("contains(extra,'1')", "{\"extra\":\"x1\"}");
    /* LIKE characters are not special in memory */
    MATCH("contains(displayName,'50%_')", "{\"displayName\":\"a 50%_ b\"}");
    NOMATCH("contains(displayName,'50%_')", "{\"displayName\":\"a 50xx b\"}");
    ferr("startswith(riskScore,'1')", RG_EINVAL, "$filter: startswith() needs a string; 'riskScore' is a number");
    ferr("contains(displayName,1)", RG_EINVAL, "expected a quoted string at column 22, found '1'");
    ferr("startswith(displayName,'a') gt true", RG_EINVAL, "a function's result can only be compared with eq or ne");
    ferr("startswith(displayName,'a') eq 1", RG_EINVAL, "expected true or false at column 32");
}

static void test_precedence(void **state)
{
    (void)state;
    /* a or b and c = a or (b and c) */
    canon("status eq 'a' or status eq 'b' and riskScore eq 1", "status eq 'a' or (status eq 'b' and riskScore eq 1)");
    MATCH("status eq 'a' or status eq 'b' and riskScore eq 1", "{\"status\":\"a\",\"riskScore\":2}");
    NOMATCH("(status eq 'a' or status eq 'b') and riskScore eq 1", "{\"status\":\"a\",\"riskScore\":2}");
    canon("riskScore eq 1 and riskScore eq 2 or riskScore eq 3",
          "(riskScore eq 1 and riskScore eq 2) or riskScore eq 3");
    /* not binds tighter than and; applies to the comparison after it */
    canon("not status eq 'a' and riskScore eq 1", "not (status eq 'a') and riskScore eq 1");
    MATCH("not status eq 'a' and riskScore eq 1", "{\"status\":\"b\",\"riskScore\":1}");
    NOMATCH("not (status eq 'b' and riskScore eq 1)", "{\"status\":\"b\",\"riskScore\":1}");
    MATCH("not (status eq 'b' and riskScore eq 2)", "{\"status\":\"b\",\"riskScore\":1}");
    canon("not not status eq 'a'", "not (not (status eq 'a'))");
    MATCH("not not status eq 'a'", "{\"status\":\"A\"}");
    canon("NOT(status eq 'a' or status eq 'b')", "not (status eq 'a' or status eq 'b')");
    /* chains stay flat */
    canon("riskScore eq 1 or riskScore eq 2 or riskScore eq 3", "riskScore eq 1 or riskScore eq 2 or riskScore eq 3");
    canon("((riskScore eq 1))", "riskScore eq 1");
    canon("(riskScore eq 1 or riskScore eq 2) and (riskScore eq 3 or not riskScore eq 4)",
          "(riskScore eq 1 or riskScore eq 2) and (riskScore eq 3 or not (riskScore eq 4))");
    MATCH("riskScore eq 1 or riskScore eq 2 or riskScore eq 3", "{\"riskScore\":3}");
    NOMATCH("riskScore eq 1 and riskScore eq 2 or riskScore eq 3", "{\"riskScore\":1}");
}

static void test_properties(void **state)
{
    (void)state;
    /* resolved without regard to case, written back canonically */
    canon("DISPLAYNAME eq 'x' and RiskScore gt 1", "displayName eq 'x' and riskScore gt 1");
    MATCH("DisplayName eq 'x'", "{\"displayName\":\"X\"}");
    ferr("displayname2 eq 'x'", RG_EINVAL, "$filter: 'displayname2' is not a property of this collection (column 1)");
    ferr("riskScore eq 1 and Foo eq 'x'", RG_EINVAL, "'Foo' is not a property of this collection (column 20)");
    /* nested paths under an object property; nested segments any case at evaluation */
    const char *it = "{\"target\":{\"groupId\":\"G1\",\"inner\":{\"Name\":\"n\"}}}";
    MATCH("target/groupId eq 'g1'", it);
    MATCH("Target/GROUPID eq 'G1'", it);
    MATCH("target/inner/name eq 'N'", it);
    NOMATCH("target/other eq 'x'", it);
    MATCH("target/other eq null", it);
    canon("TARGET/GroupId eq 'x'", "target/GroupId eq 'x'");
    MATCH("target ne null", it);
    MATCH("target eq null", "{}");
    ferr("severity/x eq 'a'", RG_EINVAL, "'severity' is a string, not an object; 'severity/x' is not valid");
    ferr("target eq 'a'", RG_EINVAL, "'target' is an object; compare one of its properties");
    ferr("machineTags eq 'a'", RG_EINVAL, "'machineTags' is a collection; use any()");
    MATCH("machineTags eq null", "{}");
    /* untyped property: anything goes, a mismatched JSON type is false */
    MATCH("extra eq 1", "{\"extra\":1}");
    NOMATCH("extra eq 1", "{\"extra\":\"1\"}");
    MATCH("extra eq '1'", "{\"extra\":\"1\"}");
    MATCH("extra/deep/er eq true", "{\"extra\":{\"deep\":{\"er\":true}}}");
    NOMATCH("extra/deep eq 'x'", "{\"extra\":\"scalar\"}");
}

static void test_null_semantics(void **state)
{
    (void)state;
    const char *missing = "{}", *null = "{\"displayName\":null,\"riskScore\":null}";
    const char *items[] = {missing, null};
    for (int i = 0; i < 2; i++) {
        MATCH("displayName eq null", items[i]);
        NOMATCH("displayName ne null", items[i]);
        NOMATCH("displayName eq 'x'", items[i]);
        NOMATCH("displayName ne 'x'", items[i]);
        NOMATCH("displayName gt 'a'", items[i]);
        NOMATCH("displayName lt 'a'", items[i]);
        NOMATCH("startswith(displayName,'')", items[i]);
        NOMATCH("displayName in ('a','b')", items[i]);
        MATCH("displayName in ('a',null)", items[i]);
        MATCH("not (displayName eq 'x')", items[i]);
        NOMATCH("riskScore ge 0", items[i]);
        NOMATCH("riskScore gt null", items[i]);
        NOMATCH("isActive", items[i]);
        MATCH("not isActive", items[i]);
    }
    MATCH("displayName ne null", "{\"displayName\":\"a\"}");
    NOMATCH("displayName eq null", "{\"displayName\":\"a\"}");
    NOMATCH("displayName in ('b',null)", "{\"displayName\":\"a\"}");
    NOMATCH("riskScore gt null", "{\"riskScore\":1}");
}

static void test_numbers(void **state)
{
    (void)state;
    MATCH("riskScore eq 2", "{\"riskScore\":2.0}");
    MATCH("riskScore eq 2.0", "{\"riskScore\":2}");
    MATCH("riskScore gt -1", "{\"riskScore\":0}");
    MATCH("riskScore lt -1.5", "{\"riskScore\":-2}");
    MATCH("riskScore eq -0.25", "{\"riskScore\":-0.25}");
    MATCH("riskScore eq 1e3", "{\"riskScore\":1000}");
    MATCH("riskScore lt 1.5E-3", "{\"riskScore\":0.001}");
    /* integers compare exactly, beyond double precision */
    MATCH("riskScore eq 9007199254740993", "{\"riskScore\":9007199254740993}");
    NOMATCH("riskScore eq 9007199254740992", "{\"riskScore\":9007199254740993}");
    NOMATCH("riskScore eq 1", "{\"riskScore\":\"1\"}");
    /* a hint decides at parse time */
    ferr("severity eq 1", RG_EINVAL, "$filter: 'severity' is a string; compare it with a quoted value (column 13)");
    ferr("riskScore eq '5'", RG_EINVAL, "'riskScore' is a number; compare it with an unquoted number (column 14)");
    ferr("riskScore eq true", RG_EINVAL, "'riskScore' is a number");
    ferr("riskScore eq 99999999999999999999", RG_EINVAL, "is out of range");
    ferr("riskScore eq 1e999", RG_EINVAL, "is out of range");
    ferr("riskScore eq 12ab", RG_EINVAL, "'12ab' at column 14 is not a valid value");
    ferr("riskScore eq 1.", RG_EINVAL, "unexpected character '.' at column 15");
    ferr("riskScore eq -", RG_EINVAL, "unexpected character '-' at column 14");
}

static void test_datetimes(void **state)
{
    (void)state;
    const char *it =
        "{\"createdDateTime\":\"2024-03-01T10:00:00.1234567Z\",\"lastSeen\":\"2024-03-01T12:00:00+02:00\"}";
    MATCH("createdDateTime gt 2024-01-01T00:00:00Z", it);
    NOMATCH("createdDateTime lt 2024-01-01T00:00:00Z", it);
    MATCH("createdDateTime ge 2024-03-01", it);
    MATCH("createdDateTime lt 2024-03-02", it);
    MATCH("createdDateTime eq 2024-03-01T10:00:00.1234567Z", it);
    NOMATCH("createdDateTime eq 2024-03-01T10:00:00.1234568Z", it);
    MATCH("createdDateTime gt 2024-03-01T10:00:00.123Z", it);
    /* offsets: the same instant */
    MATCH("createdDateTime eq 2024-03-01T12:00:00.1234567+02:00", it);
    MATCH("createdDateTime eq 2024-03-01T05:30:00.1234567-04:30", it);
    MATCH("createdDateTime lt 2024-03-01T10:59", it);
    MATCH("createdDateTime gt 2024-03-01T10:00", it);
    NOMATCH("createdDateTime gt 2024-03-01T10:00:01+00:00", it);
    /* a string property holding a datetime: the instant is compared */
    MATCH("lastSeen eq 2024-03-01T10:00:00Z", it);
    MATCH("lastSeen lt 2024-03-01T10:00:01Z", it);
    NOMATCH("lastSeen eq 2024-03-01T10:00:00Z", "{\"lastSeen\":\"yesterday\"}");
    NOMATCH("lastSeen gt 2000-01-01", "{\"lastSeen\":5}");
    NOMATCH("createdDateTime gt 2000-01-01", "{}");
    NOMATCH("createdDateTime gt 2000-01-01", "{\"createdDateTime\":\"2024-02-30T00:00:00Z\"}");
    /* a quoted value for a datetime property must be a datetime */
    MATCH("createdDateTime lt '2025-01-01T00:00:00Z'", it);
    canon("createdDateTime lt '2025-01-01T00:00:00Z'", "createdDateTime lt 2025-01-01T00:00:00Z");
    ferr("createdDateTime lt 'soon'", RG_EINVAL, "'createdDateTime' is a date and time; compare it with an ISO-8601");
    ferr("createdDateTime lt 5", RG_EINVAL, "'createdDateTime' is a date and time");
    ferr("createdDateTime lt 2024-13-01", RG_EINVAL, "'2024-13-01' at column 20 is not a valid date and time");
    ferr("createdDateTime lt 2023-02-29", RG_EINVAL, "is not a valid date and time");
    ferr("createdDateTime lt 2024-01-01T25:00Z", RG_EINVAL, "is not a valid date and time");
    ferr("createdDateTime lt 2024-01-01T10:00:00+2", RG_EINVAL, "is not a valid date and time");
    ferr("createdDateTime lt 2024-01-01T10:00:00.Z", RG_EINVAL, "is not a valid date and time");
    MATCH("createdDateTime lt 2024-02-29T23:59:59.9999999Z", "{\"createdDateTime\":\"2024-02-29T23:59:59.9999998Z\"}");
    MATCH("createdDateTime lt 1970-01-01", "{\"createdDateTime\":\"1969-12-31T23:59:59Z\"}");
}

static void test_booleans(void **state)
{
    (void)state;
    MATCH("isActive", "{\"isActive\":true}");
    NOMATCH("isActive", "{\"isActive\":false}");
    MATCH("not isActive", "{\"isActive\":false}");
    MATCH("isActive and riskScore eq 1", "{\"isActive\":true,\"riskScore\":1}");
    MATCH("(isActive)", "{\"isActive\":true}");
    MATCH("isActive eq FALSE", "{\"isActive\":false}");
    NOMATCH("isActive eq true", "{\"isActive\":\"true\"}");
    canon("isActive", "isActive eq true");
    ferr("isActive gt true", RG_EINVAL, "true and false can only be compared with eq or ne (column 13)");
    ferr("isActive eq 'true'", RG_EINVAL, "'isActive' is a boolean; compare it with true or false");
    ferr("isActive eq 1", RG_EINVAL, "'isActive' is a boolean");
    ferr("displayName", RG_EINVAL, "expected a comparison operator (eq, ne, gt, ge, lt, le or in) at column 12");
}

static void test_in(void **state)
{
    (void)state;
    MATCH("status in ('New','InProgress')", "{\"status\":\"inprogress\"}");
    NOMATCH("status in ('New','InProgress')", "{\"status\":\"Resolved\"}");
    MATCH("status IN ( 'New' , 'Resolved' )", "{\"status\":\"Resolved\"}");
    MATCH("riskScore in (1, 2.5, 3)", "{\"riskScore\":2.5}");
    NOMATCH("riskScore in (1, 2.5, 3)", "{\"riskScore\":2}");
    MATCH("not (status in ('a'))", "{\"status\":\"b\"}");
    canon("status in ('a','b''c')", "status in ('a','b''c')");
    ferr("status in ()", RG_EINVAL, "expected a value");
    ferr("status in ('a',)", RG_EINVAL, "expected a value");
    ferr("status in ('a' 'b')", RG_EINVAL, "expected ',' or ')' at column 16");
    ferr("status in 'a'", RG_EINVAL, "expected '(' after in at column 11");
    ferr("riskScore in (1,'2')", RG_EINVAL, "'riskScore' is a number; compare it with an unquoted number (column 17)");
}

static void test_lambdas(void **state)
{
    (void)state;
    const char *it = "{\"machineTags\":[\"Prod\",\"Berlin\"],\"status\":\"x\"}";
    MATCH("machineTags/any(t: t eq 'prod')", it);
    MATCH("machineTags/any(x:x eq 'Berlin')", it);
    NOMATCH("machineTags/any(t: t eq 'test')", it);
    MATCH("machineTags/any(t: startswith(t,'ber'))", it);
    MATCH("machineTags/any(t: t eq 'none' or t in ('berlin'))", it);
    MATCH("machineTags/any(t: t eq 'prod' and status eq 'X')", it); /* the body may use the item's properties */
    MATCH("MachineTags/ANY(t: t ne 'prod')", it);
    MATCH("machineTags/any()", it);
    NOMATCH("machineTags/any()", "{\"machineTags\":[]}");
    NOMATCH("machineTags/any(t: t eq 'a')", "{}");
    MATCH("machineTags/all(t: t ne 'test')", it);
    NOMATCH("machineTags/all(t: t ne 'prod')", it);
    MATCH("machineTags/all(t: t eq 'x')", "{\"machineTags\":[]}");
    MATCH("machineTags/all(t: t eq 'x')", "{}");
    MATCH("not machineTags/any(t: t eq 'test')", it);
    MATCH("machineTags/any(t: t eq 'test') eq false", it);
    canon("machineTags/any(t: t eq 'a' or t eq 'b')", "machineTags/any(t:t eq 'a' or t eq 'b')");
    canon("machineTags/any()", "machineTags/any()");
    /* a collection of objects, and an untyped one */
    const char *as = "{\"assignments\":[{\"target\":{\"groupId\":\"g1\"}},{\"target\":{\"groupId\":\"G2\"}}]}";
    MATCH("assignments/any(a: a/target/groupId eq 'g2')", as);
    NOMATCH("assignments/any(a: a/target/groupId eq 'g3')", as);
    MATCH("extra/any(e: e eq 3)", "{\"extra\":[1,3]}");
    ferr("assignments/any(a: a eq 'x')", RG_EINVAL, "'a' is an object");
    ferr("machineTags/any(t: t eq 1)", RG_EINVAL, "'t' is a string; compare it with a quoted value");
    ferr("machineTags/any(t: t/x eq 'a')", RG_EINVAL, "'t' is a string, not an object");
    ferr("status/any(t: t eq 'a')", RG_EINVAL, "'status' is a string, not a collection; any() and all() need one");
    ferr("assignments/any(a: machineTags/any(t: t eq 'a'))", RG_EINVAL,
         "any() or all() inside another one is not supported (column 32)");
    ferr("machineTags/all()", RG_EINVAL, "expected a lambda variable (all(t: ...)) at column 17, found ')'");
    ferr("machineTags/any(t t eq 'a')", RG_EINVAL, "expected ':' at column 19, found 't'");
    ferr("machineTags/any(t: t eq 'a'", RG_EINVAL, "expected 'and', 'or' or ')' at column 28");
    ferr("machineTags/any(t: t eq 'a') and t eq 'b'", RG_EINVAL, "'t' is not a property of this collection");
}

static void test_guids_and_strings(void **state)
{
    (void)state;
    const char *it = "{\"id\":\"0b5a1c2e-aaaa-4bbb-8ccc-1234567890ab\",\"displayName\":\"O'Brien\"}";
    MATCH("id eq 0B5A1C2E-AAAA-4BBB-8CCC-1234567890AB", it);
    MATCH("id eq '0b5a1c2e-aaaa-4bbb-8ccc-1234567890ab'", it);
    MATCH("id in (abcdef01-aaaa-4bbb-8ccc-1234567890ab, 0b5a1c2e-aaaa-4bbb-8ccc-1234567890ab)", it);
    NOMATCH("id eq 12345678-aaaa-4bbb-8ccc-1234567890ab", it);
    canon("id eq abcdef01-aaaa-4bbb-8ccc-1234567890ab", "id eq 'abcdef01-aaaa-4bbb-8ccc-1234567890ab'");
    MATCH("displayName eq 'o''brien'", it);
    MATCH("displayName eq ''", "{\"displayName\":\"\"}");
    MATCH("displayName eq ''''", "{\"displayName\":\"'\"}");
    MATCH("displayName eq 'a&b=c+d%'", "{\"displayName\":\"a&b=c+d%\"}");
    MATCH("displayName eq 'tab\there'", "{\"displayName\":\"tab\\there\"}");
}

/* ---- errors ---- */

static void test_syntax_errors(void **state)
{
    (void)state;
    ferr("displayName eq", RG_EINVAL,
         "$filter: expected a value (a quoted string, a number, true, false, null, a date and time or a GUID) at "
         "column 15, found the end of the expression");
    ferr("displayName foo 'x'", RG_EINVAL,
         "$filter: expected a comparison operator (eq, ne, gt, ge, lt, le or in) at column 13, found 'foo'");
    ferr("(displayName eq 'x'", RG_EINVAL, "expected 'and', 'or' or ')' at column 20, found the end of the expression");
    ferr("displayName eq 'x')", RG_EINVAL, "expected 'and', 'or' or the end of the expression at column 19, found ')'");
    ferr("displayName eq 'x' riskScore eq 1", RG_EINVAL, "at column 20, found 'riskScore'");
    ferr("displayName eq 'abc", RG_EINVAL, "$filter: the string starting at column 16 has no closing quote");
    ferr("displayName eq #", RG_EINVAL, "$filter: unexpected character '#' at column 16");
    ferr("displayName eq 'a' and", RG_EINVAL, "expected a property name, a function or '(' at column 23");
    ferr("and displayName eq 'a'", RG_EINVAL, "'and' is not a property");
    ferr("true", RG_EINVAL, "expected a property name, a function or '(' at column 1, found 'true'");
    ferr("'x' eq displayName", RG_EINVAL, "expected a property name, a function or '(' at column 1, found ''x''");
    ferr("startswith(displayName 'x')", RG_EINVAL, "expected ',' at column 24, found ''x''");
    ferr("startswith(displayName,'x'", RG_EINVAL, "expected ')' at column 27");
    ferr("startswith('x',displayName)", RG_EINVAL, "expected a property name at column 12");
    ferr("target/ 'x'", RG_EINVAL, "expected a property name after '/' at column 9, found ''x''");
    ferr("displayName eq eq", RG_EINVAL, "expected a value");
    ferr("not", RG_EINVAL, "expected a property name, a function or '(' at column 4");
    ferr("   ", RG_EINVAL, "$filter: the expression is empty");
    perr("$filter=", RG_EINVAL, "$filter: the expression is empty");
    ferr("displayName eq 'a' or (", RG_EINVAL, "at column 24, found the end of the expression");
    /* spaces and tabs are whitespace, '+' is a space */
    MATCH("  displayName\teq   'a'  ", "{\"displayName\":\"a\"}");
    struct odata_query *q = P("$filter=displayName+eq+'a'");
    json_t *j = J("{\"displayName\":\"a\"}");
    assert_true(odata_match(q, j));
    json_decref(j);
    odata_query_free(q);
}

static void test_error_messages_are_clean(void **state)
{
    (void)state;
    struct odata_error err;
    struct odata_query *q;
    /* invalid UTF-8 in a property name is named, written as \xNN */
    assert_int_equal(odata_query_parse("$filter=healthSt%9Fus%20eq%20'Active'", &coll, &q, &err), RG_EINVAL);
    assert_clean(err.message);
    assert_string_equal(err.message, "$filter: 'healthSt\\x9fus' is not a property of this collection (column 1)");
    /* valid UTF-8 is kept */
    assert_int_equal(odata_query_parse("$filter=%C3%A9t%C3%A9%20eq%201", &coll, &q, &err), RG_EINVAL);
    assert_string_equal(err.message, "$filter: '\xc3\xa9t\xc3\xa9' is not a property of this collection (column 1)");
    /* control characters */
    assert_int_equal(odata_query_parse("$filter=a%01b%20eq%201", &coll, &q, &err), RG_EINVAL);
    assert_clean(err.message);
    assert_string_equal(err.message, "$filter: unexpected character '\\x01' at column 2");
    assert_int_equal(odata_query_parse("$top=1%0A2", &coll, &q, &err), RG_EINVAL);
    assert_clean(err.message);
    assert_non_null(strstr(err.message, "'1\\x0a2'"));
    /* an unknown option named with bad bytes; an overlong and a surrogate form */
    assert_int_equal(odata_query_parse("$fil%FFter=1", &coll, &q, &err), RG_EINVAL);
    assert_string_equal(err.message, "'$fil\\xffter' is not a supported query option");
    assert_int_equal(odata_query_parse("$x%C0%AF%ED%A0%80=1", &coll, &q, &err), RG_EINVAL);
    assert_string_equal(err.message, "'$x\\xc0\\xaf\\xed\\xa0\\x80' is not a supported query option");
    /* a string literal must be valid UTF-8 */
    perr("$filter=displayName%20eq%20'a%FF'", RG_EINVAL, "$filter: the string at column 16 is not valid UTF-8");
    /* long input is cut in messages */
    char raw[300];
    memset(raw, 'x', sizeof raw);
    memcpy(raw, "$select=", 8);
    raw[sizeof raw - 1] = '\0';
    assert_int_equal(odata_query_parse(raw, &coll, &q, &err), RG_EINVAL);
    assert_true(strlen(err.message) < 120);
    assert_clean(err.message);
}

static void test_limits(void **state)
{
    (void)state;
    struct buf b = BUF_INIT(0);
    /* nesting: 32 levels of parentheses pass, 33 do not */
    for (int depth = 32; depth <= 33; depth++) {
        buf_clear(&b);
        for (int i = 0; i < depth; i++)
            buf_puts(&b, "(");
        buf_puts(&b, "riskScore eq 1");
        for (int i = 0; i < depth; i++)
            buf_puts(&b, ")");
        if (depth == 32)
            odata_query_free(PF(buf_str(&b)));
        else
            ferr(buf_str(&b), RG_ETOOBIG, "$filter: nested more than 32 levels deep (column 33)");
    }
    buf_clear(&b);
    for (int i = 0; i < 33; i++)
        buf_puts(&b, "not ");
    buf_puts(&b, "isActive");
    ferr(buf_str(&b), RG_ETOOBIG, "nested more than 32 levels deep");
    /* a flood of parentheses is refused, not a stack overflow */
    buf_clear(&b);
    for (int i = 0; i < 8000; i++)
        buf_puts(&b, "(");
    ferr(buf_str(&b), RG_ETOOBIG, "nested more than 32 levels deep");
    buf_clear(&b);
    for (int i = 0; i < 2000; i++)
        buf_puts(&b, "not(");
    ferr(buf_str(&b), RG_ETOOBIG, "nested more than 32 levels deep");
    /* nodes: 255 comparisons under one or are 256 nodes; one more is too many */
    for (int n = 255; n <= 256; n++) {
        buf_clear(&b);
        for (int i = 0; i < n; i++)
            buf_printf(&b, "%sriskScore eq %d", i ? " or " : "", i);
        if (n == 255) {
            struct odata_query *q = PF(buf_str(&b));
            json_t *j = J("{\"riskScore\":254}");
            assert_true(odata_match(q, j));
            json_decref(j);
            odata_query_free(q);
        } else {
            ferr(buf_str(&b), RG_ETOOBIG, "$filter: more than 256 conditions");
        }
    }
    /* in-lists: 256 values pass, 257 do not */
    for (int n = 256; n <= 257; n++) {
        buf_clear(&b);
        buf_puts(&b, "riskScore in (");
        for (int i = 0; i < n; i++)
            buf_printf(&b, "%s%d", i ? "," : "", i);
        buf_puts(&b, ")");
        if (n == 256)
            odata_query_free(PF(buf_str(&b)));
        else
            ferr(buf_str(&b), RG_ETOOBIG, "$filter: the list of in at column 11 has more than 256 values");
    }
    /* length: 8192 decoded bytes pass, 8193 do not (before any parsing) */
    for (int n = 8192; n <= 8193; n++) {
        buf_clear(&b);
        buf_puts(&b, "displayName eq '");
        while (b.len < (size_t)n - 1)
            buf_puts(&b, "a");
        buf_puts(&b, "'");
        assert_int_equal(b.len, (size_t)n);
        if (n == 8192)
            odata_query_free(PF(buf_str(&b)));
        else
            ferr(buf_str(&b), RG_ETOOBIG, "$filter: longer than 8192 bytes");
    }
    buf_clear(&b);
    buf_puts(&b, "$search=");
    for (int i = 0; i < 9000; i++)
        buf_puts(&b, "%41");
    perr(buf_str(&b), RG_ETOOBIG, "$search: longer than 8192 bytes");
    /* paths and $orderby keys */
    ferr("target/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p eq 'x'", RG_ETOOBIG, "has more than 16 segments");
    buf_clear(&b);
    buf_puts(&b, "$orderby=");
    for (int i = 0; i < 33; i++)
        buf_printf(&b, "%starget/k%d", i ? "," : "", i);
    perr(buf_str(&b), RG_ETOOBIG, "$orderby: more than 32 keys");
    buf_release(&b);
}

/* ---- options ---- */

static void test_options(void **state)
{
    (void)state;
    struct odata_query *q = P("");
    assert_int_equal(q->top, 100);
    assert_false(q->top_given);
    assert_int_equal(q->skip, 0);
    assert_false(q->count);
    assert_null(q->search);
    assert_null(q->skiptoken);
    assert_int_equal(q->nselect, 0);
    assert_int_equal(q->nexpand, 0);
    assert_int_equal(q->norderby, 0);
    json_t *j = J("{}");
    assert_true(odata_match(q, j)); /* no $filter: everything */
    json_decref(j);
    odata_query_free(q);
    odata_query_free(P(NULL));
    odata_query_free(NULL);

    q = P("$top=5&$skip=10&$count=true&$search=%22displayName:a%20b%22&$skiptoken=abc%2Bdef%3D&$format=json");
    assert_int_equal(q->top, 5);
    assert_true(q->top_given);
    assert_int_equal(q->skip, 10);
    assert_true(q->count);
    assert_string_equal(q->search, "\"displayName:a b\"");
    assert_string_equal(q->skiptoken, "abc+def=");
    odata_query_free(q);

    /* names in any case, with or without '$', keys percent-encoded; empty parts ignored */
    q = P("%24TOP=7&&Skip=3&COUNT=False&filter=riskScore%20eq%201&$Format=application/json;odata.metadata=minimal&");
    assert_int_equal(q->top, 7);
    assert_int_equal(q->skip, 3);
    assert_false(q->count);
    assert_non_null(q->filter);
    odata_query_free(q);

    /* $top is clamped to the maximum; 0 is allowed */
    q = P("$top=5000");
    assert_int_equal(q->top, 999);
    odata_query_free(q);
    q = P("$top=0");
    assert_int_equal(q->top, 0);
    odata_query_free(q);
    static const struct odata_collection unlimited = {props, 3, NULL, 0, NULL, 0, false, -1, 0};
    q = P_coll("", &unlimited);
    assert_true(q->top < 0);
    odata_query_free(q);
    q = P_coll("$top=123456789", &unlimited);
    assert_int_equal(q->top, 123456789);
    odata_query_free(q);

    perr("$top=-1", RG_EINVAL, "$top: must be a non-negative integer, not '-1'");
    perr("$top=abc", RG_EINVAL, "$top: must be a non-negative integer, not 'abc'");
    perr("$top=", RG_EINVAL, "$top: must be a non-negative integer, not ''");
    perr("$top=1.5", RG_EINVAL, "$top: must be a non-negative integer");
    perr("$top=%201", RG_EINVAL, "$top: must be a non-negative integer");
    perr("$top=99999999999999999999999", RG_EINVAL, "$top: '99999999999999999999999' is too large");
    perr("$skip=2147483648", RG_EINVAL, "$skip: '2147483648' is too large (at most 2147483647)");
    q = P("$skip=2147483647");
    assert_int_equal(q->skip, 2147483647L);
    odata_query_free(q);
    perr("$count=yes", RG_EINVAL, "$count: must be true or false, not 'yes'");
    perr("$count", RG_EINVAL, "$count: must be true or false");
    perr("$format=xml", RG_EINVAL, "$format: only json is supported, not 'xml'");
    perr("$format=application/xml", RG_EINVAL, "$format: only json is supported");
    perr("$format=application/jsonx", RG_EINVAL, "$format: only json is supported");
    odata_query_free(P("$format=APPLICATION/JSON"));

    /* unknown and repeated options */
    perr("$foo=1", RG_EINVAL, "'$foo' is not a supported query option");
    perr("$apply=x", RG_EINVAL, "'$apply' is not a supported query option");
    perr("$top=1&$top=2", RG_EINVAL, "$top: given more than once");
    perr("$top=1&$TOP=1", RG_EINVAL, "$top: given more than once");
    perr("$filter=isActive&filter=isActive", RG_EINVAL, "$filter: given more than once");
    perr("%24skip=1&skip=1", RG_EINVAL, "$skip: given more than once");
    perr("$top=1%2", RG_EINVAL, "$top: '%' must be followed by two hex digits");
    perr("$top=%zz", RG_EINVAL, "$top: '%' must be followed by two hex digits");
    perr("%2=1", RG_EINVAL, "a parameter name: '%' must be followed by two hex digits");
    perr("$filter=displayName%20eq%20'a%00b'", RG_EINVAL, "$filter: contains a NUL byte (%00)");
}

static void test_select_and_expand(void **state)
{
    (void)state;
    struct odata_query *q = P("$select=DisplayName,%20riskScore%20,displayName,ID&$expand=Members,owners,members");
    assert_int_equal(q->nselect, 3);
    assert_string_equal(q->select[0], "displayName");
    assert_string_equal(q->select[1], "riskScore");
    assert_string_equal(q->select[2], "id");
    assert_ptr_equal(q->select[0], props[1].name); /* canonical names are the collection's own */
    assert_int_equal(q->nexpand, 2);
    assert_string_equal(q->expand[0], "members");
    assert_string_equal(q->expand[1], "owners");
    odata_query_free(q);
    q = P("$select=*&$expand=*");
    assert_int_equal(q->nselect, 0);
    assert_int_equal(q->nexpand, 2);
    odata_query_free(q);
    perr("$select=displayName,bogus", RG_EINVAL, "$select: 'bogus' is not a property of this collection");
    perr("$select=displayName,,id", RG_EINVAL, "$select: an empty name in the list");
    perr("$select=", RG_EINVAL, "$select: an empty name in the list");
    perr("$select=target/groupId", RG_EINVAL, "$select: 'target/groupId' is not a property");
    perr("$expand=manager", RG_EINVAL, "$expand: 'manager' is not a relationship that can be expanded");
    perr("$expand=members($select=id)", RG_EINVAL, "$expand: options in parentheses ('members($select=id)')");
    /* the old injection: an $expand value carrying "&$skip=5" is refused, not copied */
    perr("$expand=members%26%24skip%3D5", RG_EINVAL, "$expand: 'members&$skip=5' is not a relationship");
    static const struct odata_collection none = {props, 3, NULL, 0, NULL, 0, false, 10, 10};
    struct odata_error err;
    assert_int_equal(odata_query_parse("$expand=members", &none, &q, &err), RG_EINVAL);
}

static void test_select_projection(void **state)
{
    (void)state;
    json_t *item = J("{\"@odata.type\":\"#microsoft.graph.alert\",\"id\":\"1\",\"displayName\":\"a\",\"riskScore\":3,"
                     "\"status\":\"New\",\"@odata.etag\":\"W/1\"}");
    struct odata_query *q = P("$select=riskScore,DISPLAYNAME");
    json_t *o = odata_select(q, item);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(s, "{\"@odata.type\":\"#microsoft.graph.alert\",\"id\":\"1\",\"displayName\":\"a\","
                           "\"riskScore\":3,\"@odata.etag\":\"W/1\"}");
    free(s);
    assert_ptr_equal(json_object_get(o, "riskScore"), json_object_get(item, "riskScore")); /* shared */
    json_decref(o);
    odata_query_free(q);
    q = P("");
    o = odata_select(q, item);
    assert_ptr_equal(o, item);
    json_decref(o);
    odata_query_free(q);
    /* an expanded navigation is returned whatever $select says */
    json_t *nav = J("{\"id\":\"1\",\"displayName\":\"a\",\"members\":[{\"id\":\"m\"}],\"owners\":[]}");
    q = P("$select=displayName&$expand=members");
    o = odata_select(q, nav);
    s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(s, "{\"id\":\"1\",\"displayName\":\"a\",\"members\":[{\"id\":\"m\"}]}");
    free(s);
    json_decref(o);
    json_decref(nav);
    odata_query_free(q);
    q = P("$select=status");
    json_t *arr = J("[1]");
    o = odata_select(q, arr);
    assert_ptr_equal(o, arr);
    json_decref(o);
    json_decref(arr);
    odata_query_free(q);
    assert_int_equal(item->refcount, 1);
    json_decref(item);
}

static void test_params(void **state)
{
    (void)state;
    struct odata_query *q = P("api-version=2024-01-01&%24DeltaToken=abc&foo=1&bar=2");
    assert_string_equal(odata_query_param(q, "api-version"), "2024-01-01");
    assert_string_equal(odata_query_param(q, "$deltatoken"), "abc");
    assert_string_equal(odata_query_param(q, "deltaToken"), "abc");
    assert_null(odata_query_param(q, "nope"));
    assert_string_equal(odata_query_unknown(q), "foo");
    odata_query_free(q);
    q = P("deltatoken=x");
    assert_string_equal(odata_query_param(q, "$deltatoken"), "x");
    assert_null(odata_query_param(q, "api-version"));
    assert_null(odata_query_unknown(q));
    odata_query_free(q);
    perr("api-version=1&API-VERSION=2", RG_EINVAL, "api-version: given more than once");
    static const struct odata_collection strict = {props, 3, NULL, 0, params, 2, true, 10, 10};
    struct odata_error err;
    assert_int_equal(odata_query_parse("api-version=1&foo=1", &strict, &q, &err), RG_EINVAL);
    assert_string_equal(err.message, "'foo' is not a supported query parameter");
    assert_null(q);
}

/* ---- ordering ---- */

static char *ids(const json_t *arr)
{
    static char out[256];
    size_t o = 0;
    size_t i;
    json_t *e;
    out[0] = '\0';
    json_array_foreach(arr, i, e) {
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%s", i ? "," : "",
                              json_string_value(json_object_get(e, "id")));
    }
    return out;
}

static void sorted(const char *raw, const char *items, const char *want)
{
    struct odata_query *q = P(raw);
    json_t *a = J(items);
    assert_int_equal(odata_sort(q, a), 0);
    assert_string_equal(ids(a), want);
    json_decref(a);
    odata_query_free(q);
}

static void test_orderby(void **state)
{
    (void)state;
    const char *items = "[{\"id\":\"1\",\"displayName\":\"b\",\"riskScore\":2},"
                        "{\"id\":\"2\",\"displayName\":\"A\",\"riskScore\":2.5},"
                        "{\"id\":\"3\",\"displayName\":\"c\"},"
                        "{\"id\":\"4\",\"displayName\":\"a\",\"riskScore\":10},"
                        "{\"id\":\"5\",\"displayName\":null,\"riskScore\":-1}]";
    /* strings without regard to case, nulls first; ties keep the input order (2 before 4) */
    sorted("$orderby=displayName", items, "5,2,4,1,3");
    sorted("$orderby=displayName%20asc", items, "5,2,4,1,3");
    sorted("$orderby=displayName%20desc", items, "3,1,2,4,5");
    /* numbers, integer and real together; missing first ascending, last descending */
    sorted("$orderby=riskScore", items, "3,5,1,2,4");
    sorted("$orderby=RiskScore%20DESC", items, "4,2,1,5,3");
    /* several keys */
    sorted("$orderby=displayName,riskScore%20desc", items, "5,4,2,1,3");
    sorted("$orderby=displayName%20desc,%20riskScore", items, "3,1,2,4,5");
    /* stability over many ties */
    sorted("$orderby=status",
           "[{\"id\":\"a\"},{\"id\":\"b\",\"status\":\"x\"},{\"id\":\"c\"},{\"id\":\"d\",\"status\":"
           "\"X\"},{\"id\":\"e\"},{\"id\":\"f\",\"status\":\"x\"},{\"id\":\"g\"}]",
           "a,c,e,g,b,d,f");
    /* datetimes by instant (offsets), then what does not parse */
    sorted(
        "$orderby=createdDateTime",
        "[{\"id\":\"1\",\"createdDateTime\":\"2024-01-01T10:00:00+02:00\"},{\"id\":\"2\",\"createdDateTime\":\"bad\"},"
        "{\"id\":\"3\",\"createdDateTime\":\"2024-01-01T09:00:00Z\"},{\"id\":\"4\"}]",
        "4,1,3,2");
    /* booleans, nested paths; case-sensitive strings by bytes */
    sorted("$orderby=isActive%20desc", "[{\"id\":\"1\",\"isActive\":false},{\"id\":\"2\",\"isActive\":true}]", "2,1");
    sorted("$orderby=target/rank", "[{\"id\":\"1\",\"target\":{\"Rank\":2}},{\"id\":\"2\",\"target\":{\"rank\":1}}]",
           "2,1");
    sorted("$orderby=token",
           "[{\"id\":\"1\",\"token\":\"b\"},{\"id\":\"2\",\"token\":\"B\"},{\"id\":\"3\",\"token\":\"a\"}]", "2,3,1");
    /* mixed types under an untyped property: null < bool < number < string */
    sorted("$orderby=extra",
           "[{\"id\":\"1\",\"extra\":\"s\"},{\"id\":\"2\",\"extra\":5},{\"id\":\"3\",\"extra\":true},"
           "{\"id\":\"4\"}]",
           "4,3,2,1");
    /* no $orderby: unchanged; not an array: EINVAL */
    sorted("", items, "1,2,3,4,5");
    struct odata_query *q = P("$orderby=id");
    json_t *o = J("{}");
    assert_int_equal(odata_sort(q, o), RG_EINVAL);
    json_t *a = J("{\"id\":\"a\",\"riskScore\":1}"), *b = J("{\"id\":\"B\",\"riskScore\":1}");
    assert_true(odata_compare(q, a, b) < 0);
    assert_true(odata_compare(q, b, a) > 0);
    assert_int_equal(odata_compare(q, a, a), 0);
    odata_query_free(q);
    q = P("");
    assert_int_equal(odata_compare(q, a, b), 0);
    odata_query_free(q);
    json_decref(a);
    json_decref(b);
    json_decref(o);

    perr("$orderby=bogus", RG_EINVAL, "$orderby: 'bogus' is not a property of this collection (column 1)");
    perr("$orderby=id,machineTags", RG_EINVAL,
         "$orderby: 'machineTags' is a collection and cannot be ordered by (column 4)");
    perr("$orderby=target", RG_EINVAL, "'target' is an object and cannot be ordered by");
    perr("$orderby=id,ID%20desc", RG_EINVAL, "$orderby: 'id' is given twice (column 4)");
    perr("$orderby=id%20up", RG_EINVAL,
         "$orderby: expected 'asc', 'desc', ',' or the end of the list at column 4, found 'up'");
    perr("$orderby=id,", RG_EINVAL, "$orderby: expected a property name at column 4, found the end of the expression");
    perr("$orderby=", RG_EINVAL, "$orderby: the list is empty");
    perr("$orderby=id%20desc%20asc", RG_EINVAL, "at column 9, found 'asc'");
}

/* ---- the next page's link ---- */

static void test_next_link(void **state)
{
    (void)state;
    struct buf b = BUF_INIT(0);
    struct odata_query *q = P("$filter=DisplayName%20eq%20'a%26%24skip%3D5'%20or%20riskScore%20gt%201"
                              "&$select=riskScore&$orderby=displayName%20desc&$top=5000&$skip=10&$skiptoken=old"
                              "&$count=true&$search=%22a%26b%22&$expand=members&api-version=1%262&foo=bar");
    assert_int_equal(odata_next_link(q, "https://h/beta/alerts", 20, NULL, &b), 0);
    assert_string_equal(buf_str(&b),
                        "https://h/beta/alerts?$filter=displayName%20eq%20%27a%26%24skip%3D5%27%20or%20riskScore"
                        "%20gt%201&$search=%22a%26b%22&$orderby=displayName%20desc&$select=riskScore"
                        "&$expand=members&$count=true&$top=999&api-version=1%262&$skip=20");
    /* exactly one $skip, the new one; no skiptoken, nothing unknown */
    const char *s = buf_str(&b);
    assert_non_null(strstr(s, "$skip="));
    assert_null(strstr(strstr(s, "$skip=") + 1, "$skip="));
    assert_null(strstr(s, "skiptoken"));
    assert_null(strstr(s, "foo"));
    /* the link parses back to the same query */
    struct odata_query *r = P(strchr(s, '?') + 1);
    struct buf f1 = BUF_INIT(0), f2 = BUF_INIT(0);
    odata_filter_format(q, &f1);
    odata_filter_format(r, &f2);
    assert_string_equal(buf_str(&f1), buf_str(&f2));
    assert_int_equal(r->skip, 20);
    assert_int_equal(r->top, 999);
    assert_true(r->count);
    assert_string_equal(r->search, q->search);
    assert_string_equal(odata_query_param(r, "api-version"), "1&2");
    assert_int_equal(r->norderby, 1);
    assert_int_equal(r->nselect, 1);
    buf_release(&f1);
    buf_release(&f2);
    odata_query_free(r);

    /* with a skiptoken instead: encoded, and no $skip */
    buf_clear(&b);
    assert_int_equal(odata_next_link(q, NULL, -1, "t&$skip=1 x", &b), 0);
    s = buf_str(&b);
    assert_null(strstr(s, "$skip="));
    assert_non_null(strstr(s, "&$skiptoken=t%26%24skip%3D1%20x"));
    assert_int_equal(s[0], '?');
    odata_query_free(q);

    /* nothing but the page */
    q = P("");
    buf_clear(&b);
    assert_int_equal(odata_next_link(q, "/x", 5, NULL, &b), 0);
    assert_string_equal(buf_str(&b), "/x?$skip=5");
    buf_clear(&b);
    assert_int_equal(odata_next_link(q, "/x", -1, NULL, &b), 0);
    assert_string_equal(buf_str(&b), "/x");
    odata_query_free(q);

    /* non-ASCII and reserved characters are encoded; a capped buffer reports RG_ETOOBIG */
    q = PF("displayName eq 'é/?#[]@!$&()*+,;=%'");
    buf_clear(&b);
    assert_int_equal(odata_next_link(q, NULL, 0, NULL, &b), 0);
    assert_string_equal(buf_str(&b), "?$filter=displayName%20eq%20%27%C3%A9%2F%3F%23%5B%5D%40%21%24%26%28%29%2A%2B%2C"
                                     "%3B%3D%25%27&$skip=0");
    struct buf small = BUF_INIT(16);
    assert_int_equal(odata_next_link(q, NULL, 0, NULL, &small), RG_ETOOBIG);
    buf_release(&small);
    odata_query_free(q);
    buf_release(&b);
}

/* ---- SQL ---- */

static const struct odata_sql_map sqlmap[] = {
    {"id", "id", ODATA_SQL_NOCASE, NULL, NULL},
    {"displayName", "json_extract(body,'$.displayName')", 0, NULL, NULL},
    {"status", "status", ODATA_SQL_NOCASE, NULL, NULL},
    {"riskScore", "risk", 0, NULL, NULL},
    {"isActive", "active", 0, NULL, NULL},
    {"createdDateTime", "created", ODATA_SQL_TIME_TEXT, NULL, NULL},
    {"lastSeen", "seen_ms", ODATA_SQL_TIME_MS, NULL, NULL},
    {"target/groupId", "group_id", 0, NULL, NULL},
    {"token", "token", 0, NULL, NULL},
    {"severity", "sev", 0, NULL, NULL},
    {"machineTags", "tags", 0, "json_each(t.tags)", "json_each.value"},
};
#define NMAP (sizeof sqlmap / sizeof sqlmap[0])

static void sql(const char *filter, const char *want_sql, const char *want_binds)
{
    struct odata_query *q = PF(filter);
    struct buf b = BUF_INIT(0);
    json_t *binds = json_array();
    int rc = odata_sql_where(q, sqlmap, NMAP, &b, binds);
    if (rc)
        fail_msg("sql of '%s': %d", filter, rc);
    assert_string_equal(buf_str(&b), want_sql);
    char *s = json_dumps(binds, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_string_equal(s, want_binds);
    /* one placeholder per bind */
    size_t marks = 0;
    for (const char *p = buf_str(&b); *p; p++)
        marks += *p == '?';
    assert_int_equal(marks, json_array_size(binds));
    free(s);
    json_decref(binds);
    buf_release(&b);
    odata_query_free(q);
}

static void sql_notsup(const char *filter)
{
    struct odata_query *q = PF(filter);
    struct buf b = BUF_INIT(0);
    buf_puts(&b, "SELECT x WHERE ");
    json_t *binds = json_array();
    json_array_append_new(binds, json_string("tenant"));
    assert_int_equal(odata_sql_where(q, sqlmap, NMAP, &b, binds), ODATA_ENOTSUP);
    /* unchanged */
    assert_string_equal(buf_str(&b), "SELECT x WHERE ");
    assert_int_equal(json_array_size(binds), 1);
    json_decref(binds);
    buf_release(&b);
    odata_query_free(q);
}

static void test_sql_where(void **state)
{
    (void)state;
    sql("displayName eq 'O''Brien'", "lower(json_extract(body,'$.displayName')) = lower(?)", "[\"O'Brien\"]");
    sql("status eq 'New' and riskScore gt 2", "(status = ? AND risk > ?)", "[\"New\",2]");
    sql("status eq 'a' or status eq 'b' and riskScore le 2.5", "(status = ? OR (status = ? AND risk <= ?))",
        "[\"a\",\"b\",2.5]");
    sql("riskScore ne -1 and riskScore ge 0 and riskScore lt 10", "(risk <> ? AND risk >= ? AND risk < ?)",
        "[-1,0,10]");
    sql("isActive", "active = ?", "[true]");
    sql("isActive eq false", "active = ?", "[false]");
    sql("id eq null or displayName ne null", "(id IS NULL OR json_extract(body,'$.displayName') IS NOT NULL)", "[]");
    sql("riskScore gt null", "1=0", "[]");
    sql("status in ('New','InProgress')", "status IN (?,?)", "[\"New\",\"InProgress\"]");
    sql("displayName in ('a',null,'b')",
        "(lower(json_extract(body,'$.displayName')) IN (lower(?),lower(?)) OR "
        "json_extract(body,'$.displayName') IS NULL)",
        "[\"a\",\"b\"]");
    sql("status in (null)", "status IS NULL", "[]");
    sql("startswith(displayName,'50%_a\\b')", "lower(json_extract(body,'$.displayName')) LIKE lower(?) ESCAPE '\\'",
        "[\"50\\\\%\\\\_a\\\\\\\\b%\"]");
    sql("endswith(status,'x')", "status LIKE ? ESCAPE '\\'", "[\"%x\"]");
    sql("contains(status,'x') eq false", "NOT (status IS NOT NULL AND status LIKE ? ESCAPE '\\')", "[\"%x%\"]");
    /* under NOT, comparisons are false, not NULL, on a NULL column */
    sql("not (status eq 'a' or riskScore gt 1)",
        "NOT ((status IS NOT NULL AND status = ?) OR (risk IS NOT NULL AND risk > ?))", "[\"a\",1]");
    sql("not status in ('a',null)", "NOT ((status IS NOT NULL AND status IN (?)) OR status IS NULL)", "[\"a\"]");
    sql("not (status eq null)", "NOT (status IS NULL)", "[]");
    sql("not not (riskScore gt null or status in (null))", "NOT NOT ((1=0) OR (status IS NULL))", "[]");
    /* case-sensitive: no lower(); datetimes per the map's form; a nested path */
    sql("token eq 'AbC'", "token = ?", "[\"AbC\"]");
    sql("createdDateTime ge 2024-01-01T02:00:00.5+02:00", "created >= ?", "[\"2024-01-01T00:00:00.5000000Z\"]");
    sql("lastSeen lt 2024-01-01T00:00:01Z", "seen_ms < ?", "[1704067201000]");
    sql("lastSeen lt 1970-01-01T00:00:00.0001Z", "seen_ms < ?", "[0.10000000000000001]");
    sql("target/GroupId eq 'g'", "lower(group_id) = lower(?)", "[\"g\"]");
    sql("id eq 0b5a1c2e-aaaa-4bbb-8ccc-1234567890ab", "id = ?", "[\"0b5a1c2e-aaaa-4bbb-8ccc-1234567890ab\"]");
    /* any() and all() over a string collection: EXISTS over the map's elems */
    sql("machineTags/any(t: t eq 'Vip')", "EXISTS (SELECT 1 FROM json_each(t.tags) WHERE lower(json_each.value) = lower(?))",
        "[\"Vip\"]");
    sql("machineTags/any()", "EXISTS (SELECT 1 FROM json_each(t.tags))", "[]");
    sql("machineTags/all(t: t ne 'x' and status eq 'New')",
        "NOT EXISTS (SELECT 1 FROM json_each(t.tags) WHERE NOT ((json_each.value IS NOT NULL AND "
        "lower(json_each.value) <> lower(?)) AND (status IS NOT NULL AND status = ?)))",
        "[\"x\",\"New\"]");
    sql("not machineTags/any(t: t in ('a','b'))",
        "NOT EXISTS (SELECT 1 FROM json_each(t.tags) WHERE lower(json_each.value) IN (lower(?),lower(?)))",
        "[\"a\",\"b\"]");
    /* no filter: a true expression */
    struct odata_query *q = P("");
    struct buf b = BUF_INIT(0);
    json_t *binds = json_array();
    assert_int_equal(odata_sql_where(q, sqlmap, NMAP, &b, binds), 0);
    assert_string_equal(buf_str(&b), "1=1");
    odata_query_free(q);
    /* a capped buffer: RG_ETOOBIG, and nothing left behind */
    buf_release(&b);
    b = (struct buf)BUF_INIT(8);
    q = PF("status eq 'a' and riskScore gt 1");
    assert_int_equal(odata_sql_where(q, sqlmap, NMAP, &b, binds), RG_ETOOBIG);
    assert_int_equal(b.len, 0);
    assert_int_equal(json_array_size(binds), 0);
    odata_query_free(q);
    json_decref(binds);
    buf_release(&b);

    /* fall back to memory */
    sql_notsup("riskScore eq 1 and assignments/any(a: a/x eq 'a')"); /* lambda over objects */
    sql_notsup("machineTags/any(t: t eq 'a' and extra eq 1)");        /* unmapped inside a lambda */
    {
        static const struct odata_sql_map noelems[] = {{"machineTags", "tags", 0, NULL, NULL}};
        q = PF("machineTags/any(t: t eq 'a')");
        b = (struct buf)BUF_INIT(0);
        binds = json_array();
        assert_int_equal(odata_sql_where(q, noelems, 1, &b, binds), ODATA_ENOTSUP); /* a backend without elems */
        assert_int_equal(b.len, 0);
        json_decref(binds);
        buf_release(&b);
        odata_query_free(q);
    }
    sql_notsup("status eq 'a' or extra eq 1");                     /* unmapped */
    sql_notsup("target/other eq 'x'");                             /* unmapped path */
    sql_notsup("startswith(token,'a')");                           /* case-sensitive LIKE */
    sql_notsup("severity lt 2024-01-01");                          /* datetime without a time form */
    sql_notsup("target/groupId eq 1");                             /* non-string against a path */
    sql_notsup("status in ('a', 2024-01-01)");                     /* mixed list */
}

/* ---- odata_widen: other spellings of eq/in literals ---- */

/* Forms: the literal lower-cased, and "<literal>/<hint>" when a hint holds. */
static int widen_forms(void *arg, const char *hint, size_t hint_len, const char *s, size_t n, json_t *out)
{
    (*(int *)arg)++;
    char low[64];
    if (n >= sizeof low)
        return 0;
    for (size_t i = 0; i < n; i++)
        low[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
    json_array_append_new(out, json_stringn(low, n));
    if (hint) {
        char h[128];
        snprintf(h, sizeof h, "%.*s/%.*s", (int)n, s, (int)hint_len, hint);
        json_array_append_new(out, json_string(h));
    }
    return 0;
}

static void widened(const char *prop, const char *filter, const char *want_sql, const char *want_binds, int want_calls)
{
    int calls = 0;
    struct odata_widen w = {prop, "status", widen_forms, &calls};
    struct odata_query *q = PF(filter);
    assert_int_equal(odata_widen(q, &w), 0);
    assert_int_equal(calls, want_calls);
    struct buf b = BUF_INIT(0);
    json_t *binds = json_array();
    int rc = odata_sql_where(q, sqlmap, NMAP, &b, binds);
    if (rc)
        fail_msg("sql of widened '%s': %d", filter, rc);
    assert_string_equal(buf_str(&b), want_sql);
    char *j = json_dumps(binds, JSON_COMPACT);
    assert_string_equal(j, want_binds);
    free(j);
    json_decref(binds);
    buf_release(&b);
    odata_query_free(q);
}

static void test_widen(void **state)
{
    (void)state;
    /* a case-insensitive property: a form in another case only adds nothing */
    widened("displayName", "displayName eq 'Ab'", "lower(json_extract(body,'$.displayName')) = lower(?)", "[\"Ab\"]", 1);
    /* a case-sensitive one: the lower-cased form is another value; the hint from the enclosing and */
    widened("token", "status eq 'S' and (token eq 'Ab' or riskScore gt 1)",
            "(status = ? AND (token IN (?,?,?) OR risk > ?))", "[\"S\",\"Ab\",\"ab\",\"Ab/S\",1]", 1);
    /* in: each literal as written, not the forms; a duplicate form is dropped */
    widened("token", "token in ('A','a') and not (status eq 'x')", "(token IN (?,?) AND NOT (status IS NOT NULL AND status = ?))",
            "[\"A\",\"a\",\"x\"]", 2);
    /* ne, functions and other properties are left alone */
    widened("token", "token ne 'A' or displayName eq 'C' or token eq null",
            "(token <> ? OR lower(json_extract(body,'$.displayName')) = lower(?) OR token IS NULL)", "[\"A\",\"C\"]", 0);
    /* inside a lambda the item's own property is widened too */
    widened("token", "machineTags/any(t: t eq 'v' and token eq 'Q')",
            "EXISTS (SELECT 1 FROM json_each(t.tags) WHERE (lower(json_each.value) = lower(?) AND token IN (?,?)))",
            "[\"v\",\"Q\",\"q\"]", 1);
}

/* startswith() on a BYTE_ORDER backend: a range over lower(expr) an index serves, then the LIKE */
static void test_sql_prefix_range(void **state)
{
    (void)state;
    static const struct odata_sql_map bo[] = {{"displayName", "dn", ODATA_SQL_BYTE_ORDER, NULL, NULL},
                                              {"status", "status", ODATA_SQL_NOCASE | ODATA_SQL_BYTE_ORDER, NULL, NULL}};
    struct {
        const char *filter, *sql, *binds;
    } cases[] = {
        {"startswith(displayName,'KaZ')", "(lower(dn) >= ? AND lower(dn) < ? AND lower(dn) LIKE lower(?) ESCAPE '\\')",
         "[\"kaz\",\"ka{\",\"KaZ%\"]"},
        /* 'Z' folds to 'z' before the increment: the bound is "{", not "[" */
        {"startswith(displayName,'Z')", "(lower(dn) >= ? AND lower(dn) < ? AND lower(dn) LIKE lower(?) ESCAPE '\\')",
         "[\"z\",\"{\",\"Z%\"]"},
        /* wildcards are plain bytes in the range, escaped in the pattern */
        {"startswith(displayName,'a%')", "(lower(dn) >= ? AND lower(dn) < ? AND lower(dn) LIKE lower(?) ESCAPE '\\')",
         "[\"a%\",\"a&\",\"a\\\\%%\"]"},
        /* the empty prefix and other functions: the LIKE alone; NOCASE columns have no lower() to range over */
        {"startswith(displayName,'')", "lower(dn) LIKE lower(?) ESCAPE '\\'", "[\"%\"]"},
        {"endswith(displayName,'x')", "lower(dn) LIKE lower(?) ESCAPE '\\'", "[\"%x\"]"},
        {"startswith(status,'n')", "status LIKE ? ESCAPE '\\'", "[\"n%\"]"},
        {"not startswith(displayName,'b')",
         "NOT (dn IS NOT NULL AND (lower(dn) >= ? AND lower(dn) < ? AND lower(dn) LIKE lower(?) ESCAPE '\\'))",
         "[\"b\",\"c\",\"b%\"]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct odata_query *q = PF(cases[i].filter);
        struct buf b = BUF_INIT(0);
        json_t *binds = json_array();
        assert_int_equal(odata_sql_where(q, bo, 2, &b, binds), 0);
        assert_string_equal(buf_str(&b), cases[i].sql);
        char *js = json_dumps(binds, JSON_COMPACT);
        assert_string_equal(js, cases[i].binds);
        free(js);
        json_decref(binds);
        buf_release(&b);
        odata_query_free(q);
    }
    /* a UTF-8 continuation byte is incremented as a byte (the bound need not be UTF-8: bytes compare) */
    struct odata_query *q = PF("startswith(displayName,'\xc3\xbf')");
    struct buf b = BUF_INIT(0);
    json_t *binds = json_array();
    assert_int_equal(odata_sql_where(q, bo, 2, &b, binds), 0);
    assert_string_equal(json_string_value(json_array_get(binds, 1)), "\xc3\xc0");
    json_decref(binds);
    buf_release(&b);
    odata_query_free(q);
}

static void test_sql_orderby(void **state)
{
    (void)state;
    struct odata_query *q = P("$orderby=displayName%20desc,riskScore,status,token%20desc,createdDateTime");
    struct buf b = BUF_INIT(0);
    buf_puts(&b, "ORDER BY ");
    assert_int_equal(odata_sql_orderby(q, sqlmap, NMAP, "id", &b), 0);
    assert_string_equal(buf_str(&b),
                        "ORDER BY lower(json_extract(body,'$.displayName')) DESC NULLS LAST, risk ASC NULLS "
                        "FIRST, status ASC NULLS FIRST, token DESC NULLS LAST, created ASC NULLS FIRST, id ASC");
    odata_query_free(q);
    q = P("");
    buf_clear(&b);
    assert_int_equal(odata_sql_orderby(q, sqlmap, NMAP, "id", &b), 0);
    assert_string_equal(buf_str(&b), "id ASC");
    buf_clear(&b);
    assert_int_equal(odata_sql_orderby(q, sqlmap, NMAP, NULL, &b), 0);
    assert_string_equal(buf_str(&b), "");
    odata_query_free(q);
    q = P("$orderby=riskScore,extra");
    buf_clear(&b);
    buf_puts(&b, "x");
    assert_int_equal(odata_sql_orderby(q, sqlmap, NMAP, "id", &b), ODATA_ENOTSUP);
    assert_string_equal(buf_str(&b), "x");
    odata_query_free(q);
    static const struct odata_sql_map notime[] = {{"createdDateTime", "created", 0, NULL, NULL}};
    q = P("$orderby=createdDateTime");
    assert_int_equal(odata_sql_orderby(q, notime, 1, "id", &b), ODATA_ENOTSUP);
    odata_query_free(q);
    buf_release(&b);
}

/* ---- SQL and memory agree: the compiled WHERE and ORDER BY run in SQLite over the same items ---- */

static const char *const diff_items[] = {
    "{\"id\":\"1\",\"machineTags\":[\"VIP\",\"corp\"],\"displayName\":\"Alpha\",\"status\":\"New\",\"riskScore\":1,\"isActive\":true,"
    "\"createdDateTime\":\"2024-01-01T00:00:00.0000000Z\",\"target\":{\"groupId\":\"G1\"}}",
    "{\"id\":\"2\",\"machineTags\":[],\"displayName\":\"beta 50%\",\"status\":\"inProgress\",\"riskScore\":2.5,\"isActive\":false,"
    "\"createdDateTime\":\"2024-06-01T12:00:00.0000000Z\"}",
    "{\"id\":\"3\",\"machineTags\":null,\"displayName\":null,\"status\":\"resolved\",\"riskScore\":-3}",
    "{\"id\":\"4\",\"machineTags\":[\"vip\",null],\"displayName\":\"a_b\\\\c\",\"riskScore\":null,\"isActive\":true,\"target\":{\"groupId\":\"g2\"}}",
    "{\"id\":\"5\",\"machineTags\":[\"vip\"],\"displayName\":\"ALPHA\",\"status\":\"NEW\",\"riskScore\":10,"
    "\"createdDateTime\":\"2023-12-31T23:59:59.9990000Z\"}",
    "{\"id\":\"6\"}",
    "{\"id\":\"7\",\"machineTags\":[\"corp\"],\"displayName\":\"O'Brien\",\"status\":\"new\",\"riskScore\":2,\"isActive\":false}",
};
#define NDIFF (sizeof diff_items / sizeof diff_items[0])

static const struct odata_sql_map diffmap[] = {
    {"id", "items.id", 0, NULL, NULL}, /* qualified: json_each has an id column of its own */
    {"displayName", "json_extract(body,'$.displayName')", 0, NULL, NULL},
    {"status", "json_extract(body,'$.status') COLLATE NOCASE", ODATA_SQL_NOCASE, NULL, NULL},
    {"riskScore", "json_extract(body,'$.riskScore')", 0, NULL, NULL},
    {"isActive", "json_extract(body,'$.isActive')", 0, NULL, NULL},
    {"createdDateTime", "json_extract(body,'$.createdDateTime')", ODATA_SQL_TIME_TEXT, NULL, NULL},
    {"target/groupId", "json_extract(body,'$.target.groupId')", 0, NULL, NULL},
    {"machineTags", "json_extract(body,'$.machineTags')", 0, 
     "json_each(CASE json_type(items.body,'$.machineTags') WHEN 'array' THEN json_extract(items.body,'$.machineTags') END)",
     "json_each.value"}, /* a JSON null or a scalar is no array: no rows, as odata_match */
};
#define NDIFFMAP (sizeof diffmap / sizeof diffmap[0])

static void bind_all(sqlite3_stmt *st, const json_t *binds)
{
    size_t i;
    json_t *v;
    json_array_foreach(binds, i, v) {
        int k = (int)i + 1;
        if (json_is_string(v))
            sqlite3_bind_text(st, k, json_string_value(v), (int)json_string_length(v), SQLITE_TRANSIENT);
        else if (json_is_integer(v))
            sqlite3_bind_int64(st, k, json_integer_value(v));
        else if (json_is_real(v))
            sqlite3_bind_double(st, k, json_real_value(v));
        else
            sqlite3_bind_int(st, k, json_is_true(v));
    }
}

/* The ids SQL selects, in its order, must be those odata_match keeps, in odata_sort's order. */
static void diff_one(sqlite3 *db, const char *raw, const json_t *items)
{
    struct odata_query *q = P(raw);
    struct buf sql = BUF_INIT(0);
    json_t *binds = json_array();
    buf_puts(&sql, "SELECT id FROM items WHERE ");
    int rc = odata_sql_where(q, diffmap, NDIFFMAP, &sql, binds);
    buf_puts(&sql, " ORDER BY ");
    if (!rc)
        rc = odata_sql_orderby(q, diffmap, NDIFFMAP, "rowid", &sql);
    assert_int_equal(rc, 0);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, buf_str(&sql), -1, &st, NULL) != SQLITE_OK)
        fail_msg("'%s': %s", buf_str(&sql), sqlite3_errmsg(db));
    bind_all(st, binds);
    char got[256] = "", want[256] = "";
    size_t o = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        o += (size_t)snprintf(got + o, sizeof got - o, "%s,", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    json_t *kept = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(items, i, e) {
        if (odata_match(q, e))
            json_array_append(kept, e);
    }
    assert_int_equal(odata_sort(q, kept), 0);
    o = 0;
    json_array_foreach(kept, i, e) {
        o += (size_t)snprintf(want + o, sizeof want - o, "%s,", json_string_value(json_object_get(e, "id")));
    }
    json_decref(kept);
    if (strcmp(got, want))
        fail_msg("%s\nSQL %s\nSQL gives [%s], memory [%s]", raw, buf_str(&sql), got, want);
    json_decref(binds);
    buf_release(&sql);
    odata_query_free(q);
}

static void test_sql_agrees_with_memory(void **state)
{
    (void)state;
    static const char *const atoms[] = {"displayName eq 'alpha'",
                                        "displayName ne 'alpha'",
                                        "displayName gt 'b'",
                                        "displayName le 'ALPHA'",
                                        "displayName lt 'B'",
                                        "displayName eq null",
                                        "displayName eq 'o''brien'",
                                        "startswith(displayName,'a')",
                                        "contains(displayName,'%')",
                                        "endswith(displayName,'\\c')",
                                        "contains(displayName,'_')",
                                        "contains(displayName,'''')",
                                        "status in ('new','Resolved')",
                                        "status in ('x',null)",
                                        "status ne 'new'",
                                        "startswith(status,'IN')",
                                        "riskScore gt 1",
                                        "riskScore le 2.5",
                                        "riskScore eq null",
                                        "riskScore ne null",
                                        "riskScore in (1,2.5,null)",
                                        "riskScore lt null",
                                        "isActive",
                                        "isActive eq false",
                                        "createdDateTime ge 2024-01-01",
                                        "createdDateTime lt 2024-01-01T01:00:00+01:00",
                                        "createdDateTime ne null",
                                        "target/groupId eq 'g1'",
                                        "id eq '6'",
                                        "machineTags/any(t: t eq 'vip')",
                                        "machineTags/any(t: t ne 'vip')",
                                        "machineTags/any()",
                                        "machineTags/all(t: t eq 'vip')",
                                        "machineTags/all(t: startswith(t,'V'))",
                                        "machineTags/any(t: t in ('corp',null))",
                                        "machineTags/any(t: t eq 'vip' and id ne '1')",
                                        "machineTags/all(t: not (t eq 'corp') or status eq 'new')"};
    static const char *const orders[] = {"",
                                         "&$orderby=displayName",
                                         "&$orderby=riskScore%20desc,status",
                                         "&$orderby=createdDateTime%20desc",
                                         "&$orderby=isActive,displayName%20desc",
                                         "&$orderby=target/groupId"};
    const size_t na = sizeof atoms / sizeof atoms[0], no = sizeof orders / sizeof orders[0];
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE items(id TEXT, body TEXT)", NULL, NULL, NULL), SQLITE_OK);
    json_t *items = json_array();
    for (size_t i = 0; i < NDIFF; i++) {
        json_t *j = J(diff_items[i]);
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO items VALUES (?, ?)", -1, &st, NULL), SQLITE_OK);
        sqlite3_bind_text(st, 1, json_string_value(json_object_get(j, "id")), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, diff_items[i], -1, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
        json_array_append_new(items, j);
    }
    /* every atom alone and negated, then random and/or/not/parenthesised combinations; each under an ordering */
    unsigned seed = 7;
    struct buf f = BUF_INIT(0);
    for (size_t round = 0; round < 3000; round++) {
        buf_clear(&f);
        buf_puts(&f, "$filter=");
        if (round < 2 * na) {
            buf_puts(&f, round % 2 ? "not%20" : "");
            buf_puts(&f, enc(atoms[round / 2]));
        } else {
            int n = 2 + (int)((seed >> 16) % 4);
            for (int k = 0; k < n; k++) {
                seed = seed * 1103515245u + 12345u;
                unsigned r = seed >> 16;
                if (k)
                    buf_puts(&f, r & 1 ? "%20and%20" : "%20or%20");
                if (r & 2)
                    buf_puts(&f, "not%20");
                if (r & 4)
                    buf_puts(&f, "(");
                buf_puts(&f, enc(atoms[(r >> 3) % na]));
                if (r & 4) {
                    buf_puts(&f, "%20or%20");
                    buf_puts(&f, enc(atoms[(r >> 8) % na]));
                    buf_puts(&f, ")");
                }
            }
        }
        buf_puts(&f, orders[round % no]);
        diff_one(db, buf_str(&f), items);
    }
    buf_release(&f);
    json_decref(items);
    sqlite3_close(db);
}

/* ---- the module alone: a parse of many random inputs never crashes (a poor man's fuzz pass) ---- */

static void test_random_inputs(void **state)
{
    (void)state;
    static const char *const atoms[] = {"displayName",
                                        "riskScore",
                                        "isActive",
                                        "machineTags",
                                        "target/groupId",
                                        " eq ",
                                        " ne ",
                                        " gt ",
                                        " and ",
                                        " or ",
                                        "not ",
                                        "(",
                                        ")",
                                        "'a''b'",
                                        "1",
                                        "-2.5",
                                        "null",
                                        "true",
                                        "2024-01-01T00:00:00Z",
                                        ",",
                                        "/any(t: t eq 'x')",
                                        "t",
                                        ":",
                                        "startswith(",
                                        " in (",
                                        "\xff",
                                        "'",
                                        "/",
                                        "contains(displayName,'x')"};
    unsigned seed = 12345;
    struct buf b = BUF_INIT(0);
    json_t *item = J("{\"displayName\":\"a'b\",\"riskScore\":1,\"isActive\":true,\"machineTags\":[\"x\"],"
                     "\"target\":{\"groupId\":\"g\"}}");
    int ok = 0;
    for (int i = 0; i < 20000; i++) {
        buf_clear(&b);
        buf_puts(&b, "$filter=");
        int n = 1 + (int)((seed >> 16) % 12);
        for (int k = 0; k < n; k++) {
            seed = seed * 1103515245u + 12345u;
            buf_puts(&b, enc(atoms[(seed >> 16) % (sizeof atoms / sizeof atoms[0])]));
        }
        struct odata_query *q = NULL;
        struct odata_error err;
        int rc = odata_query_parse(buf_str(&b), &coll, &q, &err);
        if (rc) {
            assert_null(q);
            assert_clean(err.message);
            continue;
        }
        ok++;
        (void)odata_match(q, item);
        struct buf f = BUF_INIT(0), sqlb = BUF_INIT(0);
        json_t *binds = json_array();
        (void)odata_sql_where(q, sqlmap, NMAP, &sqlb, binds);
        /* the canonical form parses to itself */
        odata_filter_format(q, &f);
        struct odata_query *r = PF(buf_str(&f));
        struct buf f2 = BUF_INIT(0);
        odata_filter_format(r, &f2);
        assert_string_equal(buf_str(&f), buf_str(&f2));
        assert_int_equal(odata_match(q, item), odata_match(r, item));
        buf_release(&f);
        buf_release(&f2);
        buf_release(&sqlb);
        json_decref(binds);
        odata_query_free(r);
        odata_query_free(q);
    }
    assert_true(ok > 50);
    /* raw bytes from the characters that matter to the lexer, in every option */
    static const char alphabet[] = "()',/: \t-.0129TZ+eEaqnotrsdygl_$%&=\xc3\xa9\xff";
    static const char *const keys[] = {"$filter=", "$orderby=", "$select=", "$expand=", "$top=", "filter="};
    char raw[64];
    for (int i = 0; i < 50000; i++) {
        seed = seed * 1103515245u + 12345u;
        size_t o = (size_t)snprintf(raw, sizeof raw, "%s", keys[(seed >> 16) % 6]);
        size_t n = (seed >> 20) % 40;
        for (size_t k = 0; k < n && o + 1 < sizeof raw; k++) {
            seed = seed * 1103515245u + 12345u;
            raw[o++] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        raw[o] = '\0';
        struct odata_query *q = NULL;
        struct odata_error err;
        if (odata_query_parse(raw, &coll, &q, &err)) {
            assert_clean(err.message);
            continue;
        }
        (void)odata_match(q, item);
        odata_query_free(q);
    }
    json_decref(item);
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_comparison_operators),
        cmocka_unit_test(test_string_case),
        cmocka_unit_test(test_functions),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_properties),
        cmocka_unit_test(test_null_semantics),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_datetimes),
        cmocka_unit_test(test_booleans),
        cmocka_unit_test(test_in),
        cmocka_unit_test(test_lambdas),
        cmocka_unit_test(test_guids_and_strings),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_error_messages_are_clean),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_select_and_expand),
        cmocka_unit_test(test_select_projection),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_orderby),
        cmocka_unit_test(test_next_link),
        cmocka_unit_test(test_sql_where),
        cmocka_unit_test(test_sql_prefix_range),
        cmocka_unit_test(test_widen),
        cmocka_unit_test(test_sql_orderby),
        cmocka_unit_test(test_sql_agrees_with_memory),
        cmocka_unit_test(test_random_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
