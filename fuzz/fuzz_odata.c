/*
 * fuzz_odata.c: libFuzzer target for the OData query parser,
 * odata_query_parse (src/server/odata/), the code every Graph and Defender
 * list request runs over its raw query string. The input is the raw query
 * after '?'. It is parsed against three collections: one with every property
 * type (strings, numbers, booleans, datetimes, string and object
 * collections, an object, an untyped and a case-sensitive property), the
 * server's users-and-groups table and its every-policy table. Then, on
 * success, everything a handler does with a query: match, sort, $select,
 * the SQL forms, the next link.
 * Beyond "no crash, no sanitizer report, no leak" it checks the contract:
 *   - an error has status 400 or 500 and a clean (UTF-8, no control) message;
 *   - the canonical filter, sent again as $filter, parses to the same text;
 *   - the next page's link parses again, with the same canonical filter;
 *   - odata_compare is antisymmetric on the test items.
 */
#include <stdio.h>

#include <jansson.h>

#include "server/api/api.h"
#include "common/buf.h"
#include "common/err.h"
#include "fuzz.h"
#include "server/odata/odata.h"

static const struct odata_prop props[] = {
    {"id", ODATA_T_STRING, 0},
    {"displayName", ODATA_T_STRING, 0},
    {"severity", ODATA_T_STRING, 0},
    {"riskScore", ODATA_T_NUMBER, 0},
    {"isActive", ODATA_T_BOOL, 0},
    {"createdDateTime", ODATA_T_DATETIME, 0},
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
static const struct odata_collection coll_strict = {
    props, sizeof props / sizeof props[0], NULL, 0, NULL, 0, true, -1, 0,
};
static const struct odata_sql_map map[] = {
    {"id", "id", ODATA_SQL_NOCASE, NULL, NULL},
    {"displayName", "name", ODATA_SQL_BYTE_ORDER, NULL, NULL},
    {"severity", "json_extract(body,'$.severity')", 0, NULL, NULL},
    {"riskScore", "score", 0, NULL, NULL},
    {"isActive", "active", 0, NULL, NULL},
    {"createdDateTime", "created", ODATA_SQL_TIME_TEXT, NULL, NULL},
    {"target/groupId", "json_extract(body,'$.target.groupId')", 0, NULL, NULL},
    {"extra", "json_extract(body,'$.extra')", 0, NULL, NULL},
    {"token", "token", 0, NULL, NULL},
    {"tags", "json_extract(body,'$.tags')", 0, "json_each(json_extract(body,'$.tags'))", "json_each.value"},
};

static const char items_json[] =
    "[{\"id\":\"a1\",\"displayName\":\"Alpha\",\"severity\":\"High\",\"riskScore\":7,\"isActive\":true,"
    "\"createdDateTime\":\"2024-01-01T10:00:00Z\",\"machineTags\":[\"x\",\"Y\"],\"target\":{\"groupId\":\"g1\"},"
    "\"assignments\":[{\"target\":{\"groupId\":\"g1\"}}],\"extra\":1.5,\"token\":\"Tok\"},"
    "{\"id\":\"b2\",\"displayName\":\"beta\",\"severity\":null,\"riskScore\":-2.25,\"isActive\":false,"
    "\"createdDateTime\":\"not a date\",\"machineTags\":[],\"target\":null,\"extra\":\"s\"},"
    "{\"id\":\"c3\",\"displayName\":\"\\u00e9t\\u00e9\",\"riskScore\":9007199254740993,\"machineTags\":[1,null],"
    "\"createdDateTime\":\"2023-12-31T23:59:59.9999999-01:00\",\"extra\":[true]},"
    "{}]";

/* Appends s percent-encoded (all but the unreserved characters). */
static int put_encoded(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int rc;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-._~", c)) {
            rc = buf_append(b, s, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = buf_append(b, e, 3);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static void check_error(int rc, const struct odata_error *err)
{
    FUZZ_CHECK(rc == RG_EINVAL || rc == RG_ETOOBIG || rc == RG_ENOMEM);
    FUZZ_CHECK(err->status == 400 || err->status == 500);
    FUZZ_CHECK(err->code && *err->code);
    FUZZ_CHECK(memchr(err->message, '\0', sizeof err->message));
    FUZZ_CHECK(fuzz_clean_text(err->message));
}

/* The canonical filter of q, re-sent as $filter=..., gives the same canonical filter. */
static void check_canonical(const struct odata_query *q, const struct odata_collection *c)
{
    struct buf f = BUF_INIT(1 << 20), raw = BUF_INIT(1 << 22), f2 = BUF_INIT(1 << 20);
    if (odata_filter_format(q, &f) || !f.len)
        goto out;
    if (buf_puts(&raw, "$filter=") || put_encoded(&raw, buf_str(&f)))
        goto out;
    struct odata_query *q2 = NULL;
    struct odata_error err;
    int rc = odata_query_parse(buf_str(&raw), c, &q2, &err);
    if (rc == RG_ENOMEM)
        goto out;
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(!odata_filter_format(q2, &f2));
    FUZZ_CHECK(f.len == f2.len && !memcmp(f.data, f2.data, f.len));
    odata_query_free(q2);
out:
    buf_release(&f);
    buf_release(&raw);
    buf_release(&f2);
}

static void check_next_link(const struct odata_query *q, const struct odata_collection *c)
{
    struct buf link = BUF_INIT(1 << 22), f = BUF_INIT(1 << 20), f2 = BUF_INIT(1 << 20);
    if (odata_next_link(q, "https://x/v1.0/items", 10, "tok", &link))
        goto out;
    const char *qs = strchr(buf_str(&link), '?');
    FUZZ_CHECK(qs);
    struct odata_query *q2 = NULL;
    struct odata_error err;
    int rc = odata_query_parse(qs + 1, c, &q2, &err);
    if (rc == RG_ENOMEM)
        goto out;
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(q2->skip == 10 && q2->skiptoken && !strcmp(q2->skiptoken, "tok"));
    FUZZ_CHECK(!odata_filter_format(q, &f) && !odata_filter_format(q2, &f2));
    FUZZ_CHECK(f.len == f2.len && (!f.len || !memcmp(f.data, f2.data, f.len)));
    odata_query_free(q2);
out:
    buf_release(&link);
    buf_release(&f);
    buf_release(&f2);
}

static void use_query(const struct odata_query *q, const struct odata_collection *c, json_t *items)
{
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        (void)odata_match(q, it);
        json_t *sel = odata_select(q, it);
        json_decref(sel);
        for (size_t j = 0; j < json_array_size(items); j++) {
            int ab = odata_compare(q, it, json_array_get(items, j));
            int ba = odata_compare(q, json_array_get(items, j), it);
            FUZZ_CHECK((ab < 0 && ba > 0) || (ab > 0 && ba < 0) || (ab == 0 && ba == 0));
        }
    }
    json_t *copy = json_copy(items);
    if (copy) {
        FUZZ_CHECK(odata_sort(q, copy) != RG_EINVAL);
        json_decref(copy);
    }
    struct buf sql = BUF_INIT(1 << 20);
    json_t *binds = json_array();
    if (binds) {
        int rc = odata_sql_where(q, map, sizeof map / sizeof map[0], &sql, binds);
        FUZZ_CHECK(rc == 0 || rc == ODATA_ENOTSUP || rc == RG_ENOMEM || rc == RG_ETOOBIG);
        if (!rc) { /* one bind per placeholder: no input text in the SQL */
            size_t marks = 0;
            for (const char *p = buf_str(&sql); *p; p++)
                marks += *p == '?';
            FUZZ_CHECK(marks == json_array_size(binds));
        }
        buf_clear(&sql);
        rc = odata_sql_orderby(q, map, sizeof map / sizeof map[0], "id", &sql);
        FUZZ_CHECK(rc == 0 || rc == ODATA_ENOTSUP || rc == RG_ENOMEM || rc == RG_ETOOBIG);
        json_decref(binds);
    }
    buf_release(&sql);
    (void)odata_query_param(q, "api-version");
    (void)odata_query_unknown(q);
    check_canonical(q, c);
    check_next_link(q, c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    char *raw = fuzz_strndup(data, size);
    json_t *items = json_loads(items_json, 0, NULL);
    if (!raw || !items) {
        free(raw);
        json_decref(items);
        return 0;
    }
    const struct odata_collection *colls[] = {&coll, &coll_strict, api_coll_directory_objects(), api_coll_schema(-1)};
    for (size_t k = 0; k < sizeof colls / sizeof colls[0]; k++) {
        struct odata_query *q = NULL;
        struct odata_error err;
        memset(&err, 0x55, sizeof err);
        int rc = odata_query_parse(raw, colls[k], &q, &err);
        if (rc) {
            FUZZ_CHECK(!q);
            check_error(rc, &err);
            continue;
        }
        FUZZ_CHECK(q);
        use_query(q, colls[k], items);
        odata_query_free(q);
    }
    json_decref(items);
    free(raw);
    return 0;
}
