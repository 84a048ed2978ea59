/*
 * search.c: Graph's $search on directory objects (users, groups), an
 * advanced query: it needs the header "ConsistencyLevel: eventual".
 *
 *   $search="displayName:wa"
 *   $search="displayName:ann" OR "mail:ann"
 *   $search="displayName:sales team" AND "description:emea"
 *
 * Each clause is "property:term" in double quotes; clauses are joined with
 * AND and OR (AND binds first), as Graph's documentation shows. On
 * displayName and description the search is tokenized: the value and the term
 * are split into words at spaces and symbols, at a change from lower to upper
 * case and between letters and digits, and every word of the term must be a
 * prefix of some word of the value (ASCII case ignored). On any other string
 * property it is startswith(), as Graph does. Evaluated in memory, after the
 * $filter: documented in docs/api.md.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/api/api.h"

#define SEARCH_MAX_CLAUSES 16

struct search_clause {
    char prop[64];
    char term[256];
    bool tokenized;
    bool or_before; /* joined to the previous clause with OR (else AND) */
};

struct api_search {
    struct search_clause c[SEARCH_MAX_CLAUSES];
    size_t n;
};

static bool is_word_char(unsigned char ch)
{
    return isalnum(ch) || ch >= 0x80;
}

/*
 * The next word of s from *pos: [*start, *end); false at the end. Words break
 * at other characters, at lower-to-upper case and at letter-digit changes.
 */
static bool next_word(const char *s, size_t len, size_t *pos, size_t *start, size_t *end)
{
    size_t i = *pos;
    while (i < len && !is_word_char((unsigned char)s[i]))
        i++;
    if (i >= len)
        return false;
    *start = i++;
    while (i < len && is_word_char((unsigned char)s[i])) {
        unsigned char a = (unsigned char)s[i - 1], b = (unsigned char)s[i];
        if ((islower(a) && isupper(b)) || (isalpha(a) && isdigit(b)) || (isdigit(a) && isalpha(b)))
            break;
        i++;
    }
    *end = i;
    *pos = i;
    return true;
}

static bool prefix_ci(const char *s, size_t slen, const char *p, size_t plen)
{
    if (plen > slen)
        return false;
    for (size_t i = 0; i < plen; i++)
        if (tolower((unsigned char)s[i]) != tolower((unsigned char)p[i]))
            return false;
    return true;
}

static bool clause_match(const struct search_clause *c, const json_t *item)
{
    const char *k;
    json_t *v, *val = NULL;
    json_object_foreach((json_t *)item, k, v) {
        if (!strcasecmp(k, c->prop)) {
            val = v;
            break;
        }
    }
    if (!json_is_string(val))
        return false;
    const char *s = json_string_value(val);
    size_t slen = json_string_length(val), tlen = strlen(c->term);
    if (!c->tokenized)
        return prefix_ci(s, slen, c->term, tlen);
    size_t tp = 0, ts, te;
    bool any = false;
    while (next_word(c->term, tlen, &tp, &ts, &te)) {
        any = true;
        size_t vp = 0, vs, ve;
        bool found = false;
        while (!found && next_word(s, slen, &vp, &vs, &ve))
            found = prefix_ci(s + vs, ve - vs, c->term + ts, te - ts);
        if (!found)
            return false;
    }
    return any || !tlen;
}

bool api_search_match(const struct api_search *se, const json_t *item)
{
    /* OR of AND-groups */
    bool result = false, group = true;
    for (size_t i = 0; i < se->n; i++) {
        if (i && se->c[i].or_before) {
            result = result || group;
            group = true;
        }
        group = group && clause_match(&se->c[i], item);
    }
    return result || group;
}

void api_search_free(struct api_search *se)
{
    free(se);
}

static void skip_ws(const char **p)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
}

int api_search_parse(const char *text, const struct odata_collection *oc, struct api_search **out, char *err,
                     size_t errlen)
{
    struct api_search *se = calloc(1, sizeof *se);
    if (!se) {
        snprintf(err, errlen, "$search: out of memory.");
        return RG_ENOMEM;
    }
    const char *p = text;
    for (;;) {
        skip_ws(&p);
        if (se->n == SEARCH_MAX_CLAUSES) {
            snprintf(err, errlen, "$search: at most %d clauses.", SEARCH_MAX_CLAUSES);
            goto bad;
        }
        struct search_clause *c = &se->c[se->n];
        if (*p != '"') {
            snprintf(err, errlen, "$search: expected a clause in double quotes, \"property:term\", at column %zu.",
                     (size_t)(p - text) + 1);
            goto bad;
        }
        const char *q = strchr(++p, '"'), *colon = memchr(p, ':', q ? (size_t)(q - p) : 0);
        if (!q || !colon) {
            snprintf(err, errlen, "$search: a clause is \"property:term\", with its closing quote.");
            goto bad;
        }
        size_t plen = (size_t)(colon - p), tlen = (size_t)(q - colon - 1);
        const char *canon = NULL;
        for (size_t i = 0; i < oc->nprops && !canon; i++)
            if (strlen(oc->props[i].name) == plen && !strncasecmp(oc->props[i].name, p, plen) &&
                oc->props[i].type == ODATA_T_STRING)
                canon = oc->props[i].name;
        if (!canon) {
            snprintf(err, errlen, "$search: '%.*s' is not a searchable (string) property of this collection.",
                     (int)(plen < 64 ? plen : 64), p);
            goto bad;
        }
        if (tlen >= sizeof c->term) {
            snprintf(err, errlen, "$search: a term is at most %zu bytes.", sizeof c->term - 1);
            goto bad;
        }
        snprintf(c->prop, sizeof c->prop, "%s", canon);
        memcpy(c->term, colon + 1, tlen);
        c->term[tlen] = '\0';
        c->tokenized = !strcmp(canon, "displayName") || !strcmp(canon, "description");
        se->n++;
        p = q + 1;
        skip_ws(&p);
        if (!*p)
            break;
        bool or = !strncmp(p, "OR", 2), and = !strncmp(p, "AND", 3);
        if (!or && !and) {
            snprintf(err, errlen, "$search: expected AND or OR between clauses at column %zu.", (size_t)(p - text) + 1);
            goto bad;
        }
        p += or ? 2 : 3;
        if (se->n < SEARCH_MAX_CLAUSES)
            se->c[se->n].or_before = or;
    }
    *out = se;
    return 0;
bad:
    free(se);
    return RG_EINVAL;
}
