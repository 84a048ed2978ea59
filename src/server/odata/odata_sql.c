/*
 * odata_sql.c: a parsed $filter and $orderby as portable SQL (SQLite and
 * PostgreSQL) for a caller's map of properties to SQL expressions, so a
 * store can answer from an index what odata_match and odata_sort would
 * answer in memory. Only '?' placeholders carry input; the SQL text is made
 * of the map's trusted expressions and fixed keywords. What cannot be said
 * in SQL with the same meaning returns ODATA_ENOTSUP (odata.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/odata/odata_int.h"

struct sqlctx {
    const struct odata_sql_map *map;
    size_t nmap;
    struct buf *sql;
    json_t *binds;
    const struct odata_sql_map *var; /* inside a lambda: its variable (the element), else NULL */
};

static const struct odata_sql_map *lookup(const struct sqlctx *c, const struct odata_path *p)
{
    if (!p->prop) /* the lambda variable: a string element; its members (objects) have no SQL form */
        return p->nsegs ? NULL : c->var;
    for (size_t i = 0; i < c->nmap; i++)
        if (odata_ci_eqn(p->text, strlen(p->text), c->map[i].prop))
            return &c->map[i];
    return NULL;
}

/* How the column is compared: its hint, or a string for nested and untyped paths. */
static enum odata_type sql_type(const struct odata_path *p)
{
    return p->nsegs || p->type == ODATA_T_ANY ? ODATA_T_STRING : p->type;
}

static int bind(const struct sqlctx *c, json_t *v)
{
    return json_array_append_new(c->binds, v) ? RG_ENOMEM : 0;
}

/* Writes ticks as "YYYY-MM-DDTHH:MM:SS.fffffffZ" (H. Hinnant's civil_from_days); false outside years 1-9999. */
static bool format_ticks(int64_t ticks, char *out, size_t outlen)
{
    int64_t secs = ticks / 10000000, frac = ticks % 10000000;
    if (frac < 0) {
        frac += 10000000;
        secs--;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1), m = (int)(mp < 10 ? mp + 3 : mp - 9);
    int64_t y = yoe + era * 400 + (m <= 2);
    if (y < 1 || y > 9999)
        return false;
    int n = snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%07dZ", (int)y, m, d, (int)(rem / 3600),
                     (int)(rem / 60 % 60), (int)(rem % 60), (int)frac);
    return n > 0 && (size_t)n < outlen;
}

/* Appends the bind for a non-null literal compared with a column of type t, or ODATA_ENOTSUP. */
static int bind_lit(const struct sqlctx *c, const struct odata_sql_map *m, enum odata_type t, const struct odata_lit *l)
{
    switch (l->kind) {
    case ODATA_L_STRING:
        return t == ODATA_T_STRING ? bind(c, json_stringn(l->s, l->len)) : ODATA_ENOTSUP;
    case ODATA_L_INT:
        return t == ODATA_T_NUMBER ? bind(c, json_integer(l->i)) : ODATA_ENOTSUP;
    case ODATA_L_REAL:
        return t == ODATA_T_NUMBER ? bind(c, json_real(l->d)) : ODATA_ENOTSUP;
    case ODATA_L_BOOL:
        return t == ODATA_T_BOOL ? bind(c, json_boolean(l->b)) : ODATA_ENOTSUP;
    case ODATA_L_DATETIME:
        if (t != ODATA_T_STRING && t != ODATA_T_DATETIME)
            return ODATA_ENOTSUP;
        if (m->flags & ODATA_SQL_TIME_MS)
            return bind(c, l->ticks % 10000 ? json_real((double)l->ticks / 10000.0) : json_integer(l->ticks / 10000));
        if (m->flags & ODATA_SQL_TIME_TEXT) {
            char text[40];
            return format_ticks(l->ticks, text, sizeof text) ? bind(c, json_string(text)) : ODATA_ENOTSUP;
        }
        return ODATA_ENOTSUP;
    case ODATA_L_NULL:
        break;
    }
    return ODATA_ENOTSUP;
}

/* True if a comparison with literal l folds case with lower() on both sides. */
static bool use_lower(const struct odata_sql_map *m, const struct odata_path *p, const struct odata_lit *l)
{
    return l->kind == ODATA_L_STRING && !p->cs && !(m->flags & ODATA_SQL_NOCASE);
}

/* "expr" or "lower(expr)". */
static int put_col(const struct sqlctx *c, const struct odata_sql_map *m, bool lower)
{
    return buf_printf(c->sql, lower ? "lower(%s)" : "%s", m->expr);
}

static int put_guard(const struct sqlctx *c, const struct odata_sql_map *m, bool guard)
{
    return guard ? buf_printf(c->sql, "(%s IS NOT NULL AND ", m->expr) : 0;
}

/* "x IS [NOT] NULL", in parentheses under a NOT (whose operand always has them). */
static int is_null(const struct sqlctx *c, const struct odata_sql_map *m, bool not, bool paren)
{
    return buf_printf(c->sql, "%s%s IS %sNULL%s", paren ? "(" : "", m->expr, not ? "NOT " : "", paren ? ")" : "");
}

static int emit_cmp(const struct sqlctx *c, const struct odata_node *n, bool guard)
{
    static const char *const ops[] = {" = ", " <> ", " > ", " >= ", " < ", " <= "};
    const struct odata_sql_map *m = lookup(c, &n->path);
    if (!m)
        return ODATA_ENOTSUP;
    if (n->lit->kind == ODATA_L_NULL) {
        if (n->cmp != ODATA_EQ && n->cmp != ODATA_NE)
            return buf_puts(c->sql, guard ? "(1=0)" : "1=0"); /* gt null, ...: false, as in memory */
        return is_null(c, m, n->cmp == ODATA_NE, guard);
    }
    bool lower = use_lower(m, &n->path, n->lit);
    TRY(bind_lit(c, m, sql_type(&n->path), n->lit));
    TRY(put_guard(c, m, guard));
    TRY(put_col(c, m, lower));
    TRY(buf_puts(c->sql, ops[n->cmp]));
    TRY(buf_puts(c->sql, lower ? "lower(?)" : "?"));
    return guard ? buf_puts(c->sql, ")") : 0;
}

static int emit_in(const struct sqlctx *c, const struct odata_node *n, bool guard)
{
    const struct odata_sql_map *m = lookup(c, &n->path);
    if (!m)
        return ODATA_ENOTSUP;
    const struct odata_lit *some = NULL;
    bool has_null = false;
    for (const struct odata_lit *l = n->lit; l; l = l->next) {
        if (l->kind == ODATA_L_NULL)
            has_null = true;
        else if (!some)
            some = l;
        else if (l->kind != some->kind && !(l->kind == ODATA_L_INT && some->kind == ODATA_L_REAL) &&
                 !(l->kind == ODATA_L_REAL && some->kind == ODATA_L_INT))
            return ODATA_ENOTSUP; /* one way of comparing per list */
    }
    if (!some)
        return is_null(c, m, false, guard);
    bool lower = use_lower(m, &n->path, some);
    for (const struct odata_lit *l = n->lit; l; l = l->next)
        if (l->kind != ODATA_L_NULL)
            TRY(bind_lit(c, m, sql_type(&n->path), l));
    if (has_null)
        TRY(buf_puts(c->sql, "("));
    TRY(put_guard(c, m, guard));
    TRY(put_col(c, m, lower));
    TRY(buf_puts(c->sql, " IN ("));
    for (const struct odata_lit *l = n->lit, *prev = NULL; l; l = l->next) {
        if (l->kind == ODATA_L_NULL)
            continue;
        TRY(buf_puts(c->sql, prev ? (lower ? ",lower(?)" : ",?") : (lower ? "lower(?)" : "?")));
        prev = l;
    }
    TRY(buf_puts(c->sql, ")"));
    if (guard)
        TRY(buf_puts(c->sql, ")"));
    return has_null ? buf_printf(c->sql, " OR %s IS NULL)", m->expr) : 0;
}

/*
 * Binds the bounds of startswith's range over lower(expr) on a BYTE_ORDER
 * backend: the literal with ASCII folded as SQLite's lower() folds it, and
 * that string with its last byte below 0xFF incremented (the bytes after it
 * dropped). *upper is false when every byte is 0xFF: no upper bound.
 */
static int bind_prefix_range(const struct sqlctx *c, const struct odata_lit *l, bool *upper)
{
    char *lo = malloc(l->len + 1);
    if (!lo)
        return RG_ENOMEM;
    for (size_t i = 0; i < l->len; i++) {
        char ch = l->s[i];
        lo[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
    }
    int rc = bind(c, json_stringn_nocheck(lo, l->len));
    size_t n = l->len;
    while (n && (unsigned char)lo[n - 1] == 0xFF)
        n--;
    *upper = n > 0;
    if (!rc && n) {
        lo[n - 1] = (char)((unsigned char)lo[n - 1] + 1);
        rc = bind(c, json_stringn_nocheck(lo, n));
    }
    free(lo);
    return rc;
}

static int emit_func(const struct sqlctx *c, const struct odata_node *n, bool guard)
{
    const struct odata_sql_map *m = lookup(c, &n->path);
    if (!m || n->path.cs || sql_type(&n->path) != ODATA_T_STRING)
        return ODATA_ENOTSUP; /* SQLite's LIKE ignores ASCII case: no byte-exact form */
    bool lower = !(m->flags & ODATA_SQL_NOCASE), upper = false;
    bool range = lower && n->func == ODATA_F_STARTSWITH && (m->flags & ODATA_SQL_BYTE_ORDER) && n->lit->len;
    if (range) /* placeholders in the order they appear: the bounds, then the pattern */
        TRY(bind_prefix_range(c, n->lit, &upper));
    struct buf pat = BUF_INIT(0);
    int rc = n->func != ODATA_F_STARTSWITH ? buf_puts(&pat, "%") : 0;
    for (size_t i = 0; !rc && i < n->lit->len; i++) {
        char ch = n->lit->s[i];
        if (ch == '%' || ch == '_' || ch == '\\')
            rc = buf_puts(&pat, "\\");
        if (!rc)
            rc = buf_append(&pat, &ch, 1);
    }
    if (!rc && n->func != ODATA_F_ENDSWITH)
        rc = buf_puts(&pat, "%");
    if (!rc)
        rc = bind(c, json_stringn(buf_str(&pat), pat.len));
    buf_release(&pat);
    TRY(rc);
    TRY(put_guard(c, m, guard));
    if (range) {
        TRY(buf_puts(c->sql, "("));
        TRY(put_col(c, m, true));
        TRY(buf_puts(c->sql, " >= ? AND "));
        if (upper) {
            TRY(put_col(c, m, true));
            TRY(buf_puts(c->sql, " < ? AND "));
        }
    }
    TRY(put_col(c, m, lower));
    TRY(buf_puts(c->sql, lower ? " LIKE lower(?) ESCAPE '\\'" : " LIKE ? ESCAPE '\\'"));
    if (range)
        TRY(buf_puts(c->sql, ")"));
    return guard ? buf_puts(c->sql, ")") : 0;
}

static int emit(const struct sqlctx *c, const struct odata_node *n, bool guard);

/*
 * any() and all() over a string collection with the map's elems: any(v: p)
 * is EXISTS (SELECT 1 FROM elems WHERE p), any() EXISTS (SELECT 1 FROM
 * elems), all(v: p) NOT EXISTS (SELECT 1 FROM elems WHERE NOT p), p guarded
 * as under any NOT so that a null element fails it, as in odata_match. A
 * missing or null collection has no rows: any() false, all() true, as in
 * memory. EXISTS is never NULL, so the guard of an enclosing NOT is not
 * needed here.
 */
static int emit_lambda(const struct sqlctx *c, const struct odata_node *n)
{
    const struct odata_sql_map *m = lookup(c, &n->path);
    if (!m || !m->elems || !m->elem || n->path.nsegs || n->path.type != ODATA_T_STRINGS || c->var)
        return ODATA_ENOTSUP;
    bool all = n->kind == ODATA_N_ALL;
    TRY(buf_printf(c->sql, "%sEXISTS (SELECT 1 FROM %s", all ? "NOT " : "", m->elems));
    if (n->kids) {
        struct odata_sql_map var = {.prop = n->var, .expr = m->elem, .flags = m->flags};
        struct sqlctx in = *c;
        in.var = &var;
        TRY(buf_puts(c->sql, all ? " WHERE NOT " : " WHERE "));
        TRY(emit(&in, n->kids, all));
    }
    return buf_puts(c->sql, ")");
}

/* guard: under a NOT, where a comparison must be false, not NULL, on a NULL column. */
static int emit(const struct sqlctx *c, const struct odata_node *n, bool guard)
{
    switch (n->kind) {
    case ODATA_N_AND:
    case ODATA_N_OR:
        TRY(buf_puts(c->sql, "("));
        for (const struct odata_node *k = n->kids; k; k = k->next) {
            TRY(emit(c, k, guard));
            if (k->next)
                TRY(buf_puts(c->sql, n->kind == ODATA_N_AND ? " AND " : " OR "));
        }
        return buf_puts(c->sql, ")");
    case ODATA_N_NOT: /* under guard every operand comes in parentheses */
        TRY(buf_puts(c->sql, "NOT "));
        return emit(c, n->kids, true);
    case ODATA_N_CMP:
        return emit_cmp(c, n, guard);
    case ODATA_N_IN:
        return emit_in(c, n, guard);
    case ODATA_N_FUNC:
        return emit_func(c, n, guard);
    case ODATA_N_ANY:
    case ODATA_N_ALL:
        return emit_lambda(c, n);
    }
    return ODATA_ENOTSUP;
}

/* Undoes a failed compile. */
static int rollback(struct buf *sql, size_t len, json_t *binds, size_t nbinds, int rc)
{
    sql->len = len;
    if (sql->data)
        sql->data[len] = '\0';
    while (binds && json_array_size(binds) > nbinds)
        json_array_remove(binds, json_array_size(binds) - 1);
    return rc;
}

int odata_sql_where(const struct odata_query *q, const struct odata_sql_map *map, size_t nmap, struct buf *sql,
                    json_t *binds)
{
    struct sqlctx c = {map, nmap, sql, binds, NULL};
    size_t len = sql->len, nbinds = json_array_size(binds);
    int rc = q->filter ? emit(&c, q->filter, false) : buf_puts(sql, "1=1");
    return rc ? rollback(sql, len, binds, nbinds, rc) : 0;
}

static int emit_key(const struct sqlctx *c, const struct odata_key *k)
{
    const struct odata_sql_map *m = lookup(c, &k->path);
    enum odata_type t = sql_type(&k->path);
    if (!m || (t == ODATA_T_DATETIME && !(m->flags & (ODATA_SQL_TIME_TEXT | ODATA_SQL_TIME_MS))))
        return ODATA_ENOTSUP;
    TRY(put_col(c, m, t == ODATA_T_STRING && !k->path.cs && !(m->flags & ODATA_SQL_NOCASE)));
    return buf_puts(c->sql, k->desc ? " DESC NULLS LAST" : " ASC NULLS FIRST");
}

int odata_sql_orderby(const struct odata_query *q, const struct odata_sql_map *map, size_t nmap, const char *tiebreak,
                      struct buf *sql)
{
    struct sqlctx c = {map, nmap, sql, NULL, NULL};
    size_t len = sql->len;
    int rc = 0;
    for (size_t i = 0; !rc && i < q->norderby; i++)
        if (!(rc = i ? buf_puts(sql, ", ") : 0))
            rc = emit_key(&c, &q->orderby[i]);
    if (!rc && tiebreak)
        rc = buf_printf(sql, "%s%s ASC", q->norderby ? ", " : "", tiebreak);
    return rc ? rollback(sql, len, NULL, 0, rc) : 0;
}
