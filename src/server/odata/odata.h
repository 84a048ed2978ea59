/*
 * odata.h: OData v4 query options as Microsoft Graph reads them: parsing of
 * a raw query string ($filter, $orderby, $select, $top, $skip, $count,
 * $search, $skiptoken, $expand, $format) against a description of the
 * collection, evaluation of the filter and the ordering against jansson
 * objects, $select projection, the next page's link, and compiling $filter
 * and $orderby to SQL so large collections can be served from an index.
 *
 *   static const struct odata_prop props[] = {{"id", ODATA_T_STRING, 0}, ...};
 *   static const struct odata_collection coll = {props, 3, ..., .top_default = 100, .top_max = 999};
 *   struct odata_query *q; struct odata_error err;
 *   if (odata_query_parse(req->query, &coll, &q, &err))
 *       return http_error(res, err.status, err.code, "%s", err.message);
 *   ... odata_match(q, item), odata_sort(q, array), odata_select(q, item) ...
 *   odata_query_free(q);
 *
 * Pure module: no I/O, no globals that change. A parsed query is immutable:
 * any number of threads may use it at once. The input is hostile: every
 * size is bounded (ODATA_MAX_*), the parser's recursion is bounded by
 * ODATA_MAX_DEPTH, and error messages never echo bytes that are not valid
 * UTF-8 or are control characters (they are written as \xNN).
 *
 * Semantics (Graph's, where OData leaves a choice):
 *  - Option names are case-insensitive and may be sent without the '$'
 *    ("filter=" as Graph beta accepts); keys may be percent-encoded
 *    ("%24top"). A repeated option, or an unknown "$name", is an error.
 *  - Property names in $filter, $orderby and $select are matched without
 *    regard to case and resolved to the canonical name. "a/b/c" is allowed
 *    when "a" is ODATA_T_OBJECT (or ODATA_T_ANY); the nested segments are
 *    looked up without regard to case at evaluation.
 *  - Precedence: not > and > or. "not" applies to the comparison after it:
 *    "not a eq 1" is "not (a eq 1)".
 *  - A missing or null property: "eq null" is true, every other comparison
 *    (ne 'x', gt, startswith, in, ...) is false; "not (p eq 'x')" is true.
 *  - Strings compare without regard to ASCII case (as Entra ID directory
 *    filters do) unless the property has ODATA_CASE_SENSITIVE; a lambda
 *    variable takes the flag of its collection, nested paths their root's.
 *  - Numbers compare numerically, integer and real JSON alike (integers
 *    exactly). Booleans only with eq and ne.
 *  - A datetime literal (unquoted ISO-8601: "2024-01-01", "2024-01-01T10:00Z",
 *    "2024-01-01T10:00:00.1234567+02:00"; no offset = UTC) compared with a
 *    string value parses the value the same way and compares instants (to
 *    100 ns); a value that does not parse compares false. A quoted string
 *    compared with an ODATA_T_DATETIME property must be such a datetime.
 *    Unquoted GUIDs are strings.
 *  - The type hint decides at parse time (400) what is certainly wrong: a
 *    string property with a number or true/false ("'severity' is a string;
 *    compare it with a quoted value"), a number property with a string, a
 *    boolean with anything but true/false/null or with gt/ge/lt/le, a
 *    collection or object compared directly (only eq/ne null), string
 *    functions on a non-string. Where there is no hint (ODATA_T_ANY, nested
 *    paths) a value of another JSON type than the literal compares false.
 */
#ifndef RG_ODATA_H
#define RG_ODATA_H
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"

#define ODATA_MAX_OPTION 8192      /* bytes of one option's name or value, decoded */
#define ODATA_MAX_DEPTH 32         /* nesting of parentheses, not and any/all in $filter */
#define ODATA_MAX_NODES 256        /* comparisons, functions, and/or/not, any/all in $filter */
#define ODATA_MAX_IN 256           /* values of one "in (...)" list */
#define ODATA_MAX_ORDERBY 32       /* keys of $orderby */
#define ODATA_MAX_SKIP 2147483647L /* largest $skip */

/* What a property holds, as a hint for checking literals and ordering. */
enum odata_type {
    ODATA_T_STRING,   /* JSON string */
    ODATA_T_NUMBER,   /* JSON integer or real */
    ODATA_T_BOOL,     /* JSON true/false */
    ODATA_T_DATETIME, /* JSON string, ISO-8601 (Graph's DateTimeOffset) */
    ODATA_T_STRINGS,  /* JSON array of strings: p/any(t: t eq 'x') */
    ODATA_T_OBJECT,   /* JSON object: p/name eq 'x' */
    ODATA_T_OBJECTS,  /* JSON array of objects: p/any(o: o/name eq 'x') */
    ODATA_T_ANY,      /* no hint: any JSON value; a mismatched type compares false */
};

#define ODATA_CASE_SENSITIVE 0x1u /* odata_prop.flags: compare this property's strings byte for byte */

struct odata_prop {
    const char *name; /* canonical name, e.g. "displayName" */
    enum odata_type type;
    unsigned flags; /* ODATA_CASE_SENSITIVE or 0 */
};

/*
 * What the caller's collection offers. Borrowed by a parsed query, which
 * points into these tables: they must outlive it (static tables, normally).
 */
struct odata_collection {
    const struct odata_prop *props; /* the known properties; $filter/$orderby/$select accept only these */
    size_t nprops;
    const char *const *expand; /* navigation names $expand accepts (canonical), may be NULL */
    size_t nexpand;
    const char *const *params; /* the caller's own parameter names (e.g. "$deltatoken", "api-version"),
                                  matched without regard to case; may be NULL */
    size_t nparams;
    bool reject_unknown; /* a parameter that is no option and not in params is an error (else kept
                            for odata_query_unknown) */
    long top_default;    /* $top when absent; < 0 = no limit */
    long top_max;        /* a larger $top is clamped to it; <= 0 = no maximum */
};

/* Why a query was refused: ready for http_error(res, e.status, e.code, "%s", e.message). */
struct odata_error {
    int status;        /* 400 for anything in the input; 500 when memory ran out */
    const char *code;  /* Graph error code, static: "BadRequest" (or "InternalServerError") */
    char message[512]; /* English, names the option and what is wrong; valid UTF-8, no control characters */
};

struct odata_node; /* the parsed $filter (internal) */
struct odata_key;  /* one $orderby key (internal) */
struct odata_mem;  /* the query's memory (internal) */

/*
 * A parsed query. The public fields are read-only results; everything is
 * valid until odata_query_free.
 */
struct odata_query {
    long top;                  /* $top clamped to top_max, or top_default when absent; < 0 = no limit */
    bool top_given;            /* $top was sent */
    long skip;                 /* $skip, 0 when absent */
    bool count;                /* $count=true */
    const char *search;        /* $search decoded, as sent (quotes included), or NULL; any bytes but NUL */
    const char *skiptoken;     /* $skiptoken decoded, opaque, or NULL; any bytes but NUL: validate before use */
    const char *const *select; /* $select: canonical names (borrowed from the collection), no duplicates; */
    size_t nselect;            /*   0 = all properties (no $select, or "*") */
    const char *const *expand; /* $expand: canonical names (borrowed from the collection) */
    size_t nexpand;
    size_t norderby; /* number of $orderby keys */
    /* internal */
    const struct odata_collection *coll;
    struct odata_node *filter; /* NULL when no $filter */
    struct odata_key *orderby;
    const char **param_values; /* decoded value per coll->params entry, NULL when absent */
    const char *unknown;       /* first unknown parameter name, decoded, or NULL */
    struct odata_mem *mem;
};

/*
 * Parses raw_query, the raw query string after '?' (percent-encoded, '+' is
 * a space; NULL or "" for none), against coll (borrowed; must outlive *out).
 * On success *out is a new query (free with odata_query_free) and 0 is
 * returned. Otherwise *out is NULL, err is filled and the result is
 * RG_EINVAL (the input is wrong), RG_ETOOBIG (over an ODATA_MAX_* limit;
 * still status 400) or RG_ENOMEM (status 500). err may not be NULL.
 * Syntax errors in $filter and $orderby give the 1-based column (in bytes of
 * the decoded value) and what was expected.
 */
int odata_query_parse(const char *raw_query, const struct odata_collection *coll, struct odata_query **out,
                      struct odata_error *err);
/* Frees a query and everything it holds; accepts NULL. */
void odata_query_free(struct odata_query *q);

/*
 * Decoded value of the caller's parameter name (one of coll->params, any case,
 * with or without the '$'), or NULL when absent. Any bytes but NUL.
 */
const char *odata_query_param(const struct odata_query *q, const char *name);
/* The first parameter that is neither an option nor in coll->params (decoded name), or NULL. */
const char *odata_query_unknown(const struct odata_query *q);

/*
 * Appends the filter in a canonical form (canonical property names, every
 * nested and/or group in parentheses, "not (...)"), e.g.
 * "displayName eq 'a''b' or (riskScore gt 2 and startswith(title,'x'))".
 * Appends nothing when there is no $filter. 0, or the buf_append error.
 */
int odata_filter_format(const struct odata_query *q, struct buf *out);

/* True if item (a JSON object) satisfies $filter; true when there is none. */
bool odata_match(const struct odata_query *q, const json_t *item);

/*
 * Compares two items by $orderby: <0, 0, >0. Missing and null values come
 * first ascending (last descending), then false < true, numbers, strings
 * (without regard to ASCII case unless ODATA_CASE_SENSITIVE; datetimes by
 * instant). 0 on a tie or when there is no $orderby.
 */
int odata_compare(const struct odata_query *q, const json_t *a, const json_t *b);
/*
 * Sorts a JSON array in place by odata_compare, stably (ties keep their
 * input order). No-op without $orderby. 0, RG_EINVAL (not an array) or
 * RG_ENOMEM (the array is unchanged).
 */
int odata_sort(const struct odata_query *q, json_t *array);

/*
 * Other spellings of the same value, for odata_widen: forms(arg, hint,
 * hint_len, s, n, out) appends to out (a JSON array) as JSON strings the
 * values that stand for the literal (s, n) (none is fine; the literal
 * itself need not be added). hint is the string of a "hint_prop eq '...'"
 * that holds where the literal is compared (an operand of an enclosing
 * "and"), or NULL. Returns 0, or RG_ENOMEM to fail odata_widen.
 */
struct odata_widen {
    const char *prop;      /* canonical name of the property whose eq and in literals are widened */
    const char *hint_prop; /* canonical name, or NULL */
    int (*forms)(void *arg, const char *hint, size_t hint_len, const char *s, size_t n, json_t *out);
    void *arg;
};
/*
 * Rewrites q's $filter in place so that every "prop eq 'x'" (becoming an
 * in-list) and "prop in (..., 'x', ...)" on w->prop (a top-level property,
 * also under not, or, any() and all()) also matches the forms w->forms
 * gives for each string literal; forms equal to a literal already there
 * (as eq compares on the property: bytes when ODATA_CASE_SENSITIVE, else
 * without regard to ASCII case) are dropped, so a literal the caller would
 * not respell keeps its exact meaning. ne, functions and other properties
 * are left as they are. odata_next_link formats the rewritten filter: widen
 * a second parse of the query when links must show the one sent. w is
 * borrowed. 0, RG_ENOMEM, or what forms returned; on failure q may hold
 * part of the forms (free it).
 */
int odata_widen(struct odata_query *q, const struct odata_widen *w);

/*
 * $select: a new reference to an object holding only the selected properties
 * of item, plus "id", every "@odata.*" annotation, which Graph always
 * returns, and the navigation properties $expand names (an expanded
 * relationship is returned whatever $select says). Without $select (or with "*"), or when item is not an object, a
 * new reference to item itself. Values are shared, not copied. NULL only
 * when memory runs out.
 */
json_t *odata_select(const struct odata_query *q, const json_t *item);

/*
 * Appends the next page's link: base (borrowed, may be NULL for none) then
 * '?' and the query rebuilt from the parsed options only: $filter in
 * canonical form, $search, $orderby, $select, $expand, $count, $top when
 * sent, the caller's parameters that were sent; then "$skip=<skip>" when
 * skip >= 0 and "$skiptoken=<skiptoken>" when skiptoken is not NULL. The
 * request's own $skip and $skiptoken are never carried over, and nothing of
 * the raw input is copied: every value is percent-encoded but for the
 * unreserved characters (A-Z a-z 0-9 - . _ ~), so no value can add a
 * parameter. 0, or the buf_append error (RG_ETOOBIG past out's cap).
 */
int odata_next_link(const struct odata_query *q, const char *base, long skip, const char *skiptoken, struct buf *out);

/* ---- SQL ---- */

/*
 * Returned by odata_sql_where and odata_sql_orderby when the query has no
 * SQL form for the given map: it uses a property (or path) that is not
 * mapped, or a construct that is not translated (any/all without the map's
 * elems, over objects, or nested under a path; string functions
 * on an ODATA_CASE_SENSITIVE property, as SQLite's LIKE ignores ASCII case;
 * datetimes without ODATA_SQL_TIME_*; a non-string literal against an
 * untyped path). The caller then evaluates in memory (odata_match,
 * odata_sort). err.h has no "not supported" code; RG_ENOTFOUND ("no SQL
 * mapping found") is the closest, and these functions return it for nothing
 * else.
 */
#define ODATA_ENOTSUP RG_ENOTFOUND

/*
 * odata_sql_map.flags:
 *   ODATA_SQL_NOCASE     expr already compares without regard to case (COLLATE NOCASE, citext): no lower()
 *   ODATA_SQL_TIME_TEXT  datetimes are stored as fixed-width UTC text "YYYY-MM-DDTHH:MM:SS.fffffffZ"
 *                        (util_time_format's form), so text order is time order
 *   ODATA_SQL_TIME_MS    datetimes are stored as integer milliseconds since the epoch
 *   ODATA_SQL_BYTE_ORDER lower(expr) folds ASCII only and strings compare byte by byte (SQLite's
 *                        BINARY collation): startswith() also gets the range lower(expr) >= ? AND
 *                        lower(expr) < ?, which an index on lower(expr) serves (LIKE alone is a scan)
 */
#define ODATA_SQL_NOCASE 0x1u
#define ODATA_SQL_TIME_TEXT 0x2u
#define ODATA_SQL_TIME_MS 0x4u
#define ODATA_SQL_BYTE_ORDER 0x8u

/* How one property (or nested path, e.g. "target/groupId") is reached in SQL. */
struct odata_sql_map {
    const char *prop; /* canonical property name, or path; matched without regard to case */
    const char *expr; /* SQL expression, trusted text: "title", "json_extract(body,'$.title')" */
    unsigned flags;   /* ODATA_SQL_* */
    /*
     * any() and all() over a collection of strings (ODATA_T_STRINGS), or NULL
     * when the backend has no form for them (they then return ODATA_ENOTSUP):
     * elems is a table source (trusted SQL) with one row per element of the
     * property's array and no row when it is missing, null or not an array,
     * e.g. SQLite's "json_each(CASE json_type(t.body,'$.tags') WHEN 'array'
     * THEN json_extract(t.body,'$.tags') END)" (json_each alone gives a JSON
     * null or a scalar as one row; PostgreSQL could give "jsonb_array_elements_text(
     * CASE jsonb_typeof(t.body->'tags') WHEN 'array' THEN t.body->'tags' END) AS
     * e(value)"); elem is the element's expression in it ("json_each.value",
     * "e.value"), compared as expr is, with these flags.
     * A lambda body may name other properties, whose expressions are then
     * evaluated inside that subquery: give them qualified (t.column), as a
     * column of the table source (json_each's id, type, value...) would
     * otherwise capture an unqualified name.
     */
    const char *elems;
    const char *elem;
};

/*
 * Appends $filter as a SQL boolean expression ("1=1" when there is none) to
 * sql, with a '?' placeholder for every value and the values appended to
 * binds (a JSON array) in order, as JSON strings, integers, reals or
 * true/false (bind them as 1/0 on SQLite); null is never bound (IS NULL).
 * The SQL is portable to SQLite and PostgreSQL: =, <>, <, <=, >, >=,
 * lower(), LIKE ? ESCAPE '\' (with %, _ and \ escaped in the bind), IN
 * (?,...), IS [NOT] NULL, NOT, AND, OR, and for any()/all() over a map
 * entry with elems "EXISTS (SELECT 1 FROM elems WHERE ...)" and "NOT EXISTS
 * (SELECT 1 FROM elems WHERE NOT ...)". Comparisons under a NOT are guarded
 * with "x IS NOT NULL AND" so SQL's three-valued logic gives odata_match's
 * answer. Case-insensitive properties without ODATA_SQL_NOCASE are compared
 * as lower(expr) op lower(?) (lower() folds Unicode on PostgreSQL, ASCII on
 * SQLite; string order follows the database's collation). Mapped paths
 * (nested or ODATA_T_ANY) are treated as strings. Input text is never put
 * into sql, only placeholders. map is borrowed (nmap entries).
 * Returns 0; ODATA_ENOTSUP (see above); RG_ENOMEM or RG_ETOOBIG (sql's cap).
 * On failure sql and binds are as they were.
 */
int odata_sql_where(const struct odata_query *q, const struct odata_sql_map *map, size_t nmap, struct buf *sql,
                    json_t *binds);
/*
 * Appends the ORDER BY list (without the keywords): "lower(title) ASC NULLS
 * FIRST, severity DESC NULLS LAST, " then tiebreak (trusted SQL, e.g. "id",
 * may be NULL) ASC, so the order is total; it is odata_sort's order for
 * items that arrive in tiebreak order (odata_sort keeps ties as they come).
 * NULLS FIRST/LAST (SQLite 3.30+, PostgreSQL) keeps OData's null order on
 * both. With neither $orderby nor tiebreak, appends nothing. Same returns as
 * odata_sql_where; on failure sql is as it was.
 */
int odata_sql_orderby(const struct odata_query *q, const struct odata_sql_map *map, size_t nmap, const char *tiebreak,
                      struct buf *sql);
#endif
