/*
 * odata.c: the OData query of odata.h: reading the raw query string into
 * its options (the expressions are parsed by odata_filter.c), evaluating
 * $filter and $orderby against jansson values, $select projection and the
 * next page's link; plus the memory, error and string/time helpers the
 * module shares (odata_int.h).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/odata/odata_int.h"

/* ---- memory: every block of a query on one list ---- */

struct odata_mem {
    struct odata_mem *next;
    max_align_t data[];
};

void *odata_alloc(struct odata_query *q, size_t n)
{
    if (n > SIZE_MAX - sizeof(struct odata_mem))
        return NULL;
    struct odata_mem *m = calloc(1, sizeof *m + n);
    if (!m)
        return NULL;
    m->next = q->mem;
    q->mem = m;
    return m->data;
}

char *odata_strndup(struct odata_query *q, const char *s, size_t n)
{
    char *d = n < SIZE_MAX ? odata_alloc(q, n + 1) : NULL;
    if (d)
        memcpy(d, s, n);
    return d;
}

void odata_mem_free(struct odata_mem *m)
{
    while (m) {
        struct odata_mem *next = m->next;
        free(m);
        m = next;
    }
}

void odata_query_free(struct odata_query *q)
{
    if (!q)
        return;
    odata_mem_free(q->mem);
    free(q);
}

/* ---- errors and strings ---- */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80                    ? 1
                 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
                 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
                 : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
                                                : 0;
    if (!len || len > n)
        return 0;
    for (size_t k = 1; k < len; k++)
        if ((s[k] & 0xc0) != 0x80)
            return 0;
    if (len == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
        return 0; /* overlong, surrogate */
    if (len == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)))
        return 0; /* overlong, above U+10FFFF */
    return len;
}

bool odata_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(p + i, n - i);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

int odata_fail(struct odata_error *err, int rc, const char *fmt, ...)
{
    char raw[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof raw ? (size_t)n : sizeof raw - 1;
    const unsigned char *p = (const unsigned char *)raw;
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < sizeof err->message;) {
        size_t k = p[i] >= 0x20 && p[i] != 0x7f ? utf8_seq(p + i, len - i) : 0;
        if (!k) {
            o += (size_t)snprintf(err->message + o, sizeof err->message - o, "\\x%02x", p[i]);
            i++;
            continue;
        }
        if (o + k >= sizeof err->message)
            break;
        memcpy(err->message + o, p + i, k);
        o += k;
        i += k;
    }
    err->message[o] = '\0';
    err->status = rc == RG_ENOMEM ? 500 : 400;
    err->code = rc == RG_ENOMEM ? "InternalServerError" : "BadRequest";
    return rc;
}

bool odata_ci_eqn(const char *a, size_t n, const char *b)
{
    for (size_t i = 0; i < n; i++, b++)
        if (!*b || odata_fold((unsigned char)a[i]) != odata_fold((unsigned char)*b))
            return false;
    return !*b;
}

const struct odata_prop *odata_find_prop(const struct odata_collection *coll, const char *name, size_t n)
{
    for (size_t i = 0; i < coll->nprops; i++)
        if (odata_ci_eqn(name, n, coll->props[i].name))
            return &coll->props[i];
    return NULL;
}

/* <0, 0, >0 comparing byte strings, folding ASCII case unless cs. */
static int str_cmp(const char *a, size_t an, const char *b, size_t bn, bool cs)
{
    size_t n = an < bn ? an : bn;
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (!cs) {
            x = odata_fold(x);
            y = odata_fold(y);
        }
        if (x != y)
            return x < y ? -1 : 1;
    }
    return an < bn ? -1 : an > bn;
}

/* ---- time ---- */

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int odata_instant_parse(const char *s, size_t n, int64_t *ticks)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0;
    if (n < 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d))
        return RG_EINVAL;
    if (y < 1 || mo < 1 || mo > 12 || d < 1)
        return RG_EINVAL;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap))
        return RG_EINVAL;
    size_t i = 10;
    int64_t frac = 0; /* 100 ns units */
    int sign = 0;
    if (i < n) {
        if ((s[i] != 'T' && s[i] != 't') || n < i + 6 || s[i + 3] != ':' || !digits(s + i + 1, 2, &h) ||
            !digits(s + i + 4, 2, &mi) || h > 23 || mi > 59)
            return RG_EINVAL;
        i += 6;
        if (i < n && s[i] == ':') {
            if (n < i + 3 || !digits(s + i + 1, 2, &sec) || sec > 59)
                return RG_EINVAL;
            i += 3;
            if (i < n && s[i] == '.') {
                size_t k = ++i;
                for (int scale = 1000000; i < n && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
                    frac += (s[i] - '0') * scale;
                if (i == k)
                    return RG_EINVAL;
            }
        }
        if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < n && (s[i] == '+' || s[i] == '-')) {
            sign = s[i] == '+' ? 1 : -1;
            if (n < i + 6 || s[i + 3] != ':' || !digits(s + i + 1, 2, &oh) || !digits(s + i + 4, 2, &om) || oh > 23 ||
                om > 59)
                return RG_EINVAL;
            i += 6;
        }
        if (i != n)
            return RG_EINVAL;
    }
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
    *ticks = secs * 10000000 + frac;
    return 0;
}

/* ---- parsing the query string ---- */

enum opt { O_FILTER, O_ORDERBY, O_SELECT, O_TOP, O_SKIP, O_COUNT, O_SEARCH, O_SKIPTOKEN, O_EXPAND, O_FORMAT, O_N };
static const char *const opt_names[O_N] = {"filter", "orderby", "select",    "top",    "skip",
                                           "count",  "search",  "skiptoken", "expand", "format"};

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/*
 * Decodes (s, n) (%XX, '+' = space) into a new string of q; what names the
 * part for messages ("a parameter name", or the option).
 */
static int decode(struct odata_query *q, const char *s, size_t n, const char *what, char **out, size_t *outlen,
                  struct odata_error *err)
{
    char *d = odata_alloc(q, (n < ODATA_MAX_OPTION ? n : ODATA_MAX_OPTION) + 1);
    if (!d)
        return odata_fail(err, RG_ENOMEM, "out of memory");
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o == ODATA_MAX_OPTION)
            return odata_fail(err, RG_ETOOBIG, "%s: longer than %d bytes", what, ODATA_MAX_OPTION);
        char c = s[i];
        if (c == '%') {
            int h = i + 2 < n ? hexval(s[i + 1]) : -1, l = h >= 0 ? hexval(s[i + 2]) : -1;
            if (l < 0)
                return odata_fail(err, RG_EINVAL, "%s: '%%' must be followed by two hex digits", what);
            c = (char)(h * 16 + l);
            i += 2;
            if (!c)
                return odata_fail(err, RG_EINVAL, "%s: contains a NUL byte (%%00)", what);
        } else if (c == '+') {
            c = ' ';
        }
        d[o++] = c;
    }
    d[o] = '\0';
    *out = d;
    *outlen = o;
    return 0;
}

/* Name without a leading '$' equals b without a leading '$', in any case. */
static bool name_eq(const char *a, size_t n, const char *b)
{
    if (n && *a == '$') {
        a++;
        n--;
    }
    return odata_ci_eqn(a, n, *b == '$' ? b + 1 : b);
}

static int parse_count(const char *v, const char *opt, long max, long *out, struct odata_error *err)
{
    long n = 0;
    size_t i = 0;
    for (; v[i] >= '0' && v[i] <= '9'; i++) {
        if (n > (max - (v[i] - '0')) / 10)
            return odata_fail(err, RG_EINVAL, "%s: '%.*s' is too large (at most %ld)", opt, ODATA_ECHO, v, max);
        n = n * 10 + (v[i] - '0');
    }
    if (!i || v[i])
        return odata_fail(err, RG_EINVAL, "%s: must be a non-negative integer, not '%.*s'", opt, ODATA_ECHO, v);
    *out = n;
    return 0;
}

/*
 * Splits a comma-separated list of names (spaces around them ignored) and
 * resolves each with find (canonical name or NULL); duplicates are dropped.
 * "*" gives *all.
 */
static int parse_names(struct odata_query *q, const char *v, const char *opt, const char *what, size_t max,
                       const char *(*find)(const struct odata_collection *, const char *, size_t),
                       const char *const **out, size_t *nout, bool *all, struct odata_error *err)
{
    const char **names = odata_alloc(q, (max ? max : 1) * sizeof *names);
    if (!names)
        return odata_fail(err, RG_ENOMEM, "out of memory");
    size_t n = 0;
    *all = false;
    for (const char *p = v;; p++) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (!len)
            return odata_fail(err, RG_EINVAL, "%s: an empty name in the list", opt);
        if (len == 1 && *p == '*') {
            *all = true;
        } else if (memchr(p, '(', len)) {
            return odata_fail(err, RG_EINVAL, "%s: options in parentheses ('%.*s') are not supported", opt, ODATA_ECHO,
                              p);
        } else {
            const char *name = find(q->coll, p, len);
            if (!name)
                return odata_fail(err, RG_EINVAL, "%s: '%.*s' is not %s of this collection", opt,
                                  (int)(len < ODATA_ECHO ? len : ODATA_ECHO), p, what);
            size_t k = 0;
            while (k < n && names[k] != name)
                k++;
            if (k == n)
                names[n++] = name;
        }
        if (!end)
            break;
        p = end;
    }
    *out = names;
    *nout = *all ? 0 : n;
    return 0;
}

static const char *find_select(const struct odata_collection *c, const char *s, size_t n)
{
    const struct odata_prop *p = odata_find_prop(c, s, n);
    return p ? p->name : NULL;
}

static const char *find_expand(const struct odata_collection *c, const char *s, size_t n)
{
    for (size_t i = 0; i < c->nexpand; i++)
        if (odata_ci_eqn(s, n, c->expand[i]))
            return c->expand[i];
    return NULL;
}

static int apply_option(struct odata_query *q, enum opt o, const char *v, size_t n, struct odata_error *err)
{
    const struct odata_collection *c = q->coll;
    bool all;
    long num;
    switch (o) {
    case O_FILTER:
        return odata_parse_filter(q, v, n, err);
    case O_ORDERBY:
        return odata_parse_orderby(q, v, n, err);
    case O_SELECT:
        return parse_names(q, v, "$select", "a property", c->nprops, find_select, &q->select, &q->nselect, &all, err);
    case O_EXPAND: {
        int rc = parse_names(q, v, "$expand", "a relationship that can be expanded", c->nexpand, find_expand,
                             &q->expand, &q->nexpand, &all, err);
        if (!rc && all) {
            q->expand = c->expand;
            q->nexpand = c->nexpand;
        }
        return rc;
    }
    case O_TOP:
        if (parse_count(v, "$top", LONG_MAX / 2, &num, err))
            return RG_EINVAL;
        q->top = c->top_max > 0 && num > c->top_max ? c->top_max : num;
        q->top_given = true;
        return 0;
    case O_SKIP:
        return parse_count(v, "$skip", ODATA_MAX_SKIP, &q->skip, err);
    case O_COUNT:
        if (!odata_ci_eqn(v, n, "true") && !odata_ci_eqn(v, n, "false"))
            return odata_fail(err, RG_EINVAL, "$count: must be true or false, not '%.*s'", ODATA_ECHO, v);
        q->count = odata_ci_eqn(v, n, "true");
        return 0;
    case O_SEARCH:
        q->search = v;
        return 0;
    case O_SKIPTOKEN:
        q->skiptoken = v;
        return 0;
    case O_FORMAT:
        if (!odata_ci_eqn(v, n, "json") && !odata_ci_eqn(v, n < 16 || v[16] != ';' ? n : 16, "application/json"))
            return odata_fail(err, RG_EINVAL, "$format: only json is supported, not '%.*s'", ODATA_ECHO, v);
        return 0;
    case O_N:
        break;
    }
    return 0;
}

/* One "key=value" (n bytes at s) of the query string. */
static int parse_param(struct odata_query *q, const char *s, size_t n, bool seen[O_N], struct odata_error *err)
{
    const struct odata_collection *c = q->coll;
    const char *eq = memchr(s, '=', n);
    size_t kn = eq ? (size_t)(eq - s) : n;
    char *key, *val;
    size_t klen, vlen;
    int rc = decode(q, s, kn, "a parameter name", &key, &klen, err);
    if (rc)
        return rc;
    int o = O_N;
    for (int i = 0; i < O_N; i++)
        if (name_eq(key, klen, opt_names[i]))
            o = i;
    size_t extra = c->nparams;
    if (o == O_N)
        for (size_t i = 0; i < c->nparams; i++)
            if (name_eq(key, klen, c->params[i]))
                extra = i;
    if (o == O_N && extra == c->nparams) {
        if (*key == '$')
            return odata_fail(err, RG_EINVAL, "'%.*s' is not a supported query option", ODATA_ECHO, key);
        if (c->reject_unknown)
            return odata_fail(err, RG_EINVAL, "'%.*s' is not a supported query parameter", ODATA_ECHO, key);
        if (!q->unknown)
            q->unknown = key;
        return 0;
    }
    char what[32];
    snprintf(what, sizeof what, "$%s", o < O_N ? opt_names[o] : "");
    const char *label = o < O_N ? what : c->params[extra];
    if (o < O_N ? seen[o] : q->param_values[extra] != NULL)
        return odata_fail(err, RG_EINVAL, "%s: given more than once", label);
    if (eq)
        rc = decode(q, eq + 1, n - kn - 1, label, &val, &vlen, err);
    else
        rc = decode(q, "", 0, label, &val, &vlen, err);
    if (rc)
        return rc;
    if (o == O_N) {
        q->param_values[extra] = val;
        return 0;
    }
    seen[o] = true;
    return apply_option(q, (enum opt)o, val, vlen, err);
}

int odata_query_parse(const char *raw_query, const struct odata_collection *coll, struct odata_query **out,
                      struct odata_error *err)
{
    *out = NULL;
    struct odata_query *q = calloc(1, sizeof *q);
    if (!q)
        return odata_fail(err, RG_ENOMEM, "out of memory");
    q->coll = coll;
    q->top = coll->top_default;
    int rc = 0;
    if (coll->nparams && !(q->param_values = odata_alloc(q, coll->nparams * sizeof *q->param_values)))
        rc = odata_fail(err, RG_ENOMEM, "out of memory");
    bool seen[O_N] = {false};
    for (const char *p = raw_query ? raw_query : ""; !rc && *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n)
            rc = parse_param(q, p, n, seen, err);
        p += n + (amp != NULL);
    }
    if (rc) {
        odata_query_free(q);
        return rc;
    }
    *out = q;
    return 0;
}

const char *odata_query_param(const struct odata_query *q, const char *name)
{
    for (size_t i = 0; i < q->coll->nparams; i++)
        if (name_eq(name, strlen(name), q->coll->params[i]))
            return q->param_values[i];
    return NULL;
}

const char *odata_query_unknown(const struct odata_query *q)
{
    return q->unknown;
}

/* ---- evaluation ---- */

/* obj[name], exact first, then without regard to ASCII case; NULL when obj is not an object. */
static const json_t *get_ci(const json_t *obj, const char *name)
{
    if (!json_is_object(obj))
        return NULL;
    const json_t *v = json_object_get(obj, name);
    if (v)
        return v;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)obj, k, x) {
        if (odata_ci_eqn(k, strlen(k), name))
            return x;
    }
    return NULL;
}

/* The value at path in item (root = elem for the lambda variable); NULL when missing or null. */
static const json_t *path_value(const struct odata_path *p, const json_t *item, const json_t *elem)
{
    const json_t *v = p->prop ? get_ci(item, p->prop->name) : elem;
    for (size_t i = 0; v && i < p->nsegs; i++)
        v = get_ci(v, p->segs[i]);
    return json_is_null(v) ? NULL : v;
}

static bool apply_cmp(enum odata_cmp op, int c)
{
    switch (op) {
    case ODATA_EQ:
        return c == 0;
    case ODATA_NE:
        return c != 0;
    case ODATA_GT:
        return c > 0;
    case ODATA_GE:
        return c >= 0;
    case ODATA_LT:
        return c < 0;
    case ODATA_LE:
        return c <= 0;
    }
    return false;
}

static int num_cmp(double a, double b)
{
    return a < b ? -1 : a > b;
}

static bool match_cmp(enum odata_cmp op, const struct odata_lit *l, const json_t *v, bool cs)
{
    if (!v)
        return l->kind == ODATA_L_NULL && op == ODATA_EQ;
    if (l->kind == ODATA_L_NULL)
        return op == ODATA_NE;
    int c;
    int64_t t;
    switch (l->kind) {
    case ODATA_L_STRING:
        if (!json_is_string(v))
            return false;
        c = str_cmp(json_string_value(v), json_string_length(v), l->s, l->len, cs);
        break;
    case ODATA_L_DATETIME:
        if (!json_is_string(v) || odata_instant_parse(json_string_value(v), json_string_length(v), &t))
            return false;
        c = t < l->ticks ? -1 : t > l->ticks;
        break;
    case ODATA_L_INT:
    case ODATA_L_REAL:
        if (json_is_integer(v) && l->kind == ODATA_L_INT)
            c = json_integer_value(v) < l->i ? -1 : json_integer_value(v) > l->i;
        else if (json_is_number(v))
            c = num_cmp(json_number_value(v), l->d);
        else
            return false;
        break;
    case ODATA_L_BOOL:
        if (!json_is_boolean(v))
            return false;
        c = json_is_true(v) - l->b;
        break;
    default:
        return false;
    }
    return apply_cmp(op, c);
}

/* contains(): KMP search of l in (s, n). */
static bool contains(const char *s, size_t n, const struct odata_lit *l, bool cs)
{
    const unsigned char *v = (const unsigned char *)s, *w = (const unsigned char *)l->s;
    if (!l->len)
        return true;
    for (size_t i = 0, k = 0; i < n; i++) {
        unsigned char c = cs ? v[i] : odata_fold(v[i]);
        while (k && c != (cs ? w[k] : odata_fold(w[k])))
            k = l->kmp[k - 1];
        if (c == (cs ? w[k] : odata_fold(w[k])) && ++k == l->len)
            return true;
    }
    return false;
}

static bool match_func(enum odata_func f, const struct odata_lit *l, const json_t *v, bool cs)
{
    if (!json_is_string(v))
        return false;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    switch (f) {
    case ODATA_F_STARTSWITH:
        return n >= l->len && !str_cmp(s, l->len, l->s, l->len, cs);
    case ODATA_F_ENDSWITH:
        return n >= l->len && !str_cmp(s + n - l->len, l->len, l->s, l->len, cs);
    case ODATA_F_CONTAINS:
        return contains(s, n, l, cs);
    }
    return false;
}

static bool eval(const struct odata_node *n, const json_t *item, const json_t *elem)
{
    const json_t *v;
    switch (n->kind) {
    case ODATA_N_AND:
        for (const struct odata_node *k = n->kids; k; k = k->next)
            if (!eval(k, item, elem))
                return false;
        return true;
    case ODATA_N_OR:
        for (const struct odata_node *k = n->kids; k; k = k->next)
            if (eval(k, item, elem))
                return true;
        return false;
    case ODATA_N_NOT:
        return !eval(n->kids, item, elem);
    case ODATA_N_CMP:
        return match_cmp(n->cmp, n->lit, path_value(&n->path, item, elem), n->path.cs);
    case ODATA_N_IN:
        v = path_value(&n->path, item, elem);
        for (const struct odata_lit *l = n->lit; l; l = l->next)
            if (match_cmp(ODATA_EQ, l, v, n->path.cs))
                return true;
        return false;
    case ODATA_N_FUNC:
        return match_func(n->func, n->lit, path_value(&n->path, item, elem), n->path.cs);
    case ODATA_N_ANY:
    case ODATA_N_ALL: {
        bool any = n->kind == ODATA_N_ANY;
        v = path_value(&n->path, item, elem);
        if (!json_is_array(v))
            return !v && !any; /* missing or null: an empty collection */
        if (!n->kids)
            return json_array_size(v) > 0;
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e) {
            if (eval(n->kids, item, e) == any)
                return any;
        }
        return !any;
    }
    }
    return false;
}

bool odata_match(const struct odata_query *q, const json_t *item)
{
    return !q->filter || eval(q->filter, item, NULL);
}

/* ---- ordering ---- */

static int rank(const json_t *v)
{
    return !v ? 0 : json_is_boolean(v) ? 1 : json_is_number(v) ? 2 : json_is_string(v) ? 3 : 4;
}

static int value_cmp(const struct odata_path *p, const json_t *a, const json_t *b)
{
    int ra = rank(a), rb = rank(b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    switch (ra) {
    case 1:
        return json_is_true(a) - json_is_true(b);
    case 2:
        if (json_is_integer(a) && json_is_integer(b))
            return json_integer_value(a) < json_integer_value(b) ? -1 : json_integer_value(a) > json_integer_value(b);
        return num_cmp(json_number_value(a), json_number_value(b));
    case 3: {
        const char *sa = json_string_value(a), *sb = json_string_value(b);
        size_t na = json_string_length(a), nb = json_string_length(b);
        if (p->type == ODATA_T_DATETIME) { /* instants first, in time order; then the rest as strings */
            int64_t ta, tb;
            bool oka = !odata_instant_parse(sa, na, &ta), okb = !odata_instant_parse(sb, nb, &tb);
            if (oka && okb)
                return ta < tb ? -1 : ta > tb;
            if (oka != okb)
                return oka ? -1 : 1;
        }
        return str_cmp(sa, na, sb, nb, p->cs);
    }
    }
    return 0;
}

int odata_compare(const struct odata_query *q, const json_t *a, const json_t *b)
{
    for (size_t i = 0; i < q->norderby; i++) {
        const struct odata_key *k = &q->orderby[i];
        int c = value_cmp(&k->path, path_value(&k->path, a, NULL), path_value(&k->path, b, NULL));
        if (c)
            return k->desc ? -c : c;
    }
    return 0;
}

int odata_sort(const struct odata_query *q, json_t *array)
{
    if (!json_is_array(array))
        return RG_EINVAL;
    size_t n = json_array_size(array);
    if (!q->norderby || n < 2)
        return 0;
    json_t **a = malloc(2 * n * sizeof *a);
    if (!a)
        return RG_ENOMEM;
    json_t **tmp = a + n;
    for (size_t i = 0; i < n; i++)
        a[i] = json_incref(json_array_get(array, i));
    /* bottom-up merge sort: on a tie the left run's item goes first, so the sort is stable */
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                tmp[o++] = odata_compare(q, a[j], a[i]) < 0 ? a[j++] : a[i++];
            while (i < mid)
                tmp[o++] = a[i++];
            while (j < hi)
                tmp[o++] = a[j++];
        }
        memcpy(a, tmp, n * sizeof *a);
    }
    for (size_t i = 0; i < n; i++)
        json_array_set(array, i, a[i]); /* replaces a slot; allocates nothing */
    for (size_t i = 0; i < n; i++)
        json_decref(a[i]);
    free(a);
    return 0;
}

/* ---- $select ---- */

json_t *odata_select(const struct odata_query *q, const json_t *item)
{
    if (!q->nselect || !json_is_object(item))
        return json_incref((json_t *)item);
    json_t *o = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)item, k, v) {
        bool keep = !strcmp(k, "id") || !strncmp(k, "@odata.", 7);
        for (size_t i = 0; !keep && i < q->nselect; i++)
            keep = odata_ci_eqn(k, strlen(k), q->select[i]);
        for (size_t i = 0; !keep && i < q->nexpand; i++) /* an expanded navigation comes with any $select */
            keep = !strcmp(k, q->expand[i]);
        if (keep && json_object_set(o, k, v)) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* ---- the next page's link ---- */

static int put_encoded(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            rc = buf_append(b, &s[i], 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = buf_append(b, e, 3);
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* Appends "&key=" (or '?' first) then value (n bytes) percent-encoded. key is ours: "$top", or a param name. */
static int put_param(struct buf *b, bool *first, const char *key, const char *value, size_t n)
{
    int rc = buf_puts(b, *first ? "?" : "&");
    *first = false;
    if (!rc && *key == '$')
        rc = buf_append(b, key++, 1);
    if (!rc)
        rc = put_encoded(b, key, strlen(key));
    if (!rc)
        rc = buf_puts(b, "=");
    return rc ? rc : put_encoded(b, value, n);
}

/* The names joined by commas, as one parameter. */
static int put_names(struct buf *b, bool *first, const char *key, const char *const *names, size_t n)
{
    struct buf v = BUF_INIT(0);
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++)
        rc = buf_printf(&v, "%s%s", i ? "," : "", names[i]);
    if (!rc)
        rc = put_param(b, first, key, buf_str(&v), v.len);
    buf_release(&v);
    return rc;
}

int odata_next_link(const struct odata_query *q, const char *base, long skip, const char *skiptoken, struct buf *out)
{
    bool first = true;
    char num[32];
    int rc = base ? buf_puts(out, base) : 0;
    struct buf v = BUF_INIT(0);
    if (!rc && q->filter && !(rc = odata_filter_format(q, &v)))
        rc = put_param(out, &first, "$filter", buf_str(&v), v.len);
    if (!rc && q->search)
        rc = put_param(out, &first, "$search", q->search, strlen(q->search));
    buf_clear(&v);
    for (size_t i = 0; !rc && i < q->norderby; i++)
        rc = buf_printf(&v, "%s%s%s", i ? "," : "", q->orderby[i].path.text, q->orderby[i].desc ? " desc" : "");
    if (!rc && q->norderby)
        rc = put_param(out, &first, "$orderby", buf_str(&v), v.len);
    buf_release(&v);
    if (!rc && q->nselect)
        rc = put_names(out, &first, "$select", q->select, q->nselect);
    if (!rc && q->nexpand)
        rc = put_names(out, &first, "$expand", q->expand, q->nexpand);
    if (!rc && q->count)
        rc = put_param(out, &first, "$count", "true", 4);
    if (!rc && q->top_given) {
        snprintf(num, sizeof num, "%ld", q->top);
        rc = put_param(out, &first, "$top", num, strlen(num));
    }
    for (size_t i = 0; !rc && i < q->coll->nparams; i++)
        if (q->param_values[i])
            rc = put_param(out, &first, q->coll->params[i], q->param_values[i], strlen(q->param_values[i]));
    if (!rc && skip >= 0) {
        snprintf(num, sizeof num, "%ld", skip);
        rc = put_param(out, &first, "$skip", num, strlen(num));
    }
    if (!rc && skiptoken)
        rc = put_param(out, &first, "$skiptoken", skiptoken, strlen(skiptoken));
    return rc;
}
