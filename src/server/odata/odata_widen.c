/*
 * odata_widen.c: rewriting a parsed $filter so that "prop eq 'x'" and "prop
 * in (...)" also accept the other spellings a caller knows stand for the
 * same value (odata_widen, odata.h), e.g. the canonical form of an indicator
 * value. The tree stays in the query's memory; evaluation (odata_match) and
 * SQL (odata_sql_where) then see an ordinary in-list.
 */
#include <string.h>

#include "server/odata/odata_int.h"

/* True if (a, an) and (b, bn) are equal as eq compares them on the path: bytes, or ASCII folded. */
static bool same(const char *a, size_t an, const char *b, size_t bn, bool cs)
{
    if (an != bn)
        return false;
    if (cs)
        return !memcmp(a, b, an);
    for (size_t i = 0; i < an; i++)
        if (odata_fold((unsigned char)a[i]) != odata_fold((unsigned char)b[i]))
            return false;
    return true;
}

static bool on_prop(const struct odata_path *p, const char *prop)
{
    return p->prop && !p->nsegs && !strcmp(p->prop->name, prop);
}

/* Appends to the list starting at first the forms w gives for l that the list does not already hold. */
static int widen_lit(struct odata_query *q, const struct odata_widen *w, const struct odata_lit *hint,
                     struct odata_lit *first, const struct odata_lit *l, bool cs)
{
    json_t *forms = json_array();
    if (!forms)
        return RG_ENOMEM;
    int rc = w->forms(w->arg, hint ? hint->s : NULL, hint ? hint->len : 0, l->s, l->len, forms);
    size_t i;
    json_t *f;
    json_array_foreach(forms, i, f) {
        if (rc)
            break;
        const char *s = json_string_value(f);
        size_t n = json_string_length(f);
        if (!s)
            continue; /* not a string: no form */
        struct odata_lit *last = first;
        bool dup = false;
        for (struct odata_lit *k = first; k; k = k->next) {
            dup |= k->kind == ODATA_L_STRING && same(k->s, k->len, s, n, cs);
            last = k;
        }
        if (dup)
            continue;
        struct odata_lit *add = odata_alloc(q, sizeof *add);
        char *copy = add ? odata_strndup(q, s, n) : NULL;
        if (!copy) {
            rc = RG_ENOMEM;
            break;
        }
        add->kind = ODATA_L_STRING;
        add->s = copy;
        add->len = n;
        last->next = add;
    }
    json_decref(forms);
    return rc;
}

/* The string of a "hint_prop eq 'x'" among an and's operands, or NULL. */
static const struct odata_lit *hint_of(const struct odata_widen *w, const struct odata_node *and)
{
    if (!w->hint_prop)
        return NULL;
    for (const struct odata_node *k = and->kids; k; k = k->next)
        if (k->kind == ODATA_N_CMP && k->cmp == ODATA_EQ && k->lit->kind == ODATA_L_STRING &&
            on_prop(&k->path, w->hint_prop))
            return k->lit;
    return NULL;
}

/*
 * hint: the innermost enclosing and's "hint_prop eq 'x'". It holds for the
 * whole subtree whatever its polarity: under that and, the comparisons
 * below only decide rows where the hint is true.
 */
static int widen(struct odata_query *q, const struct odata_widen *w, struct odata_node *n, const struct odata_lit *hint)
{
    switch (n->kind) {
    case ODATA_N_AND:
        if (hint_of(w, n))
            hint = hint_of(w, n);
        /* fall through */
    case ODATA_N_OR:
    case ODATA_N_NOT:
    case ODATA_N_ANY:
    case ODATA_N_ALL:
        for (struct odata_node *k = n->kids; k; k = k->next)
            TRY(widen(q, w, k, hint));
        return 0;
    case ODATA_N_CMP:
        if (n->cmp != ODATA_EQ || n->lit->kind != ODATA_L_STRING || !on_prop(&n->path, w->prop))
            return 0;
        TRY(widen_lit(q, w, hint, n->lit, n->lit, n->path.cs));
        if (n->lit->next) /* other forms came: an in-list, which odata_match and odata_sql_where both know */
            n->kind = ODATA_N_IN;
        return 0;
    case ODATA_N_IN: {
        if (!on_prop(&n->path, w->prop))
            return 0;
        struct odata_lit *end = n->lit;
        while (end->next)
            end = end->next;
        for (struct odata_lit *l = n->lit;; l = l->next) { /* the values as written, not the forms appended */
            if (l->kind == ODATA_L_STRING)
                TRY(widen_lit(q, w, hint, n->lit, l, n->path.cs));
            if (l == end)
                return 0;
        }
    }
    case ODATA_N_FUNC:
        return 0;
    }
    return 0;
}

int odata_widen(struct odata_query *q, const struct odata_widen *w)
{
    return q->filter ? widen(q, w, q->filter, NULL) : 0;
}
