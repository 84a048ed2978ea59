/*
 * odata_filter.c: the expression syntax of $filter and $orderby. A tokenizer
 * and a recursive-descent parser build the tree of odata_int.h, resolving
 * property names against the collection and checking literals against the
 * type hints; odata_filter_format writes a tree back in canonical form.
 *
 * Grammar (EBNF). Keywords and function names are matched in any case;
 * spaces and tabs may separate tokens. Precedence: not > and > or.
 *
 *   filter   = or-expr END ;
 *   or-expr  = and-expr { "or" and-expr } ;
 *   and-expr = not-expr { "and" not-expr } ;
 *   not-expr = "not" not-expr | primary ;
 *   primary  = "(" or-expr ")"
 *            | call [ ( "eq" | "ne" ) ( "true" | "false" ) ]
 *            | path cmp-op value
 *            | path "in" "(" value { "," value } ")"
 *            | path ;                                  (* a boolean property: path eq true *)
 *   call     = func "(" path "," string ")"
 *            | path "/" ( "any" | "all" ) "(" [ ident ":" or-expr ] ")" ;   (* empty: any() only *)
 *   func     = "startswith" | "endswith" | "contains" ;
 *   cmp-op   = "eq" | "ne" | "gt" | "ge" | "lt" | "le" ;
 *   path     = ident { "/" ident } ;       (* root: a property, or the variable of the enclosing lambda *)
 *   value    = string | number | "true" | "false" | "null" | datetime | guid ;
 *   string   = "'" { byte - "'" | "''" } "'" ;
 *   number   = [ "-" ] digits [ "." digits ] [ ( "e" | "E" ) [ "+" | "-" ] digits ] ;
 *   datetime = d4 "-" d2 "-" d2 [ ( "T" | "t" ) d2 ":" d2 [ ":" d2 [ "." digits ] ]
 *                                 [ "Z" | "z" | ( "+" | "-" ) d2 ":" d2 ] ] ;
 *   guid     = h8 "-" h4 "-" h4 "-" h4 "-" h12 ;
 *   ident    = ( letter | "_" | byte >= 0x80 ) { letter | digit | "_" | byte >= 0x80 } ;
 *
 *   orderby  = orderkey { "," orderkey } END ;
 *   orderkey = path [ "asc" | "desc" ] ;
 *
 * The parser recurses only for "(", "not" and lambdas, which together may
 * nest ODATA_MAX_DEPTH levels (checked by deeper() before each opens one);
 * and/or chains are built iteratively as n-ary nodes.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/odata/odata_int.h"

#define MAX_SEGS 16 /* segments of one path */

enum tok { T_END, T_LP, T_RP, T_COMMA, T_SLASH, T_COLON, T_IDENT, T_STRING, T_NUMBER, T_DATETIME, T_GUID };

struct token {
    enum tok t;
    size_t pos; /* offset in the input */
    size_t n;   /* length */
};

struct parser {
    struct odata_query *q;
    struct odata_error *err;
    const char *opt; /* "$filter" or "$orderby", for messages */
    const char *s;   /* the decoded option value */
    size_t n;
    size_t pos;       /* where the next token starts looking */
    struct token tok; /* the current token */
    size_t nodes;
    const char *var; /* the lambda variable while its body is parsed, else NULL */
    size_t varlen;
    enum odata_type vartype;
    bool varcs;
};

/* ---- tokens ---- */

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(unsigned char c)
{
    return is_digit(c) || (odata_fold(c) >= 'a' && odata_fold(c) <= 'f');
}

static bool is_ident_start(unsigned char c)
{
    return (odata_fold(c) >= 'a' && odata_fold(c) <= 'z') || c == '_' || c >= 0x80;
}

static bool is_ident_char(unsigned char c)
{
    return is_ident_start(c) || is_digit(c);
}

static int echo(size_t n)
{
    return (int)(n < ODATA_ECHO ? n : ODATA_ECHO);
}

/* Length of a GUID at s (36), or 0. */
static size_t guid_at(const char *s, size_t n)
{
    if (n < 36)
        return 0;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex((unsigned char)s[i]))
            return 0;
    }
    return 36;
}

/* True if s starts like a date: dddd-dd-dd. */
static bool date_at(const char *s, size_t n)
{
    static const char shape[] = "dddd-dd-dd";
    if (n < 10)
        return false;
    for (size_t i = 0; i < 10; i++)
        if (shape[i] == 'd' ? !is_digit((unsigned char)s[i]) : s[i] != '-')
            return false;
    return true;
}

static size_t number_at(const char *s, size_t n)
{
    size_t j = 0;
    if (j < n && s[j] == '-')
        j++;
    while (j < n && is_digit((unsigned char)s[j]))
        j++;
    if (j + 1 < n && s[j] == '.' && is_digit((unsigned char)s[j + 1]))
        for (j++; j < n && is_digit((unsigned char)s[j]); j++)
            ;
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        size_t k = j + 1;
        if (k < n && (s[k] == '+' || s[k] == '-'))
            k++;
        if (k < n && is_digit((unsigned char)s[k]))
            for (j = k; j < n && is_digit((unsigned char)s[j]); j++)
                ;
    }
    return j;
}

/* Reads the next token into p->tok. */
static int lex(struct parser *p)
{
    const char *s = p->s;
    size_t n = p->n, i = p->pos;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    p->tok.pos = i;
    if (i >= n) {
        p->tok.t = T_END;
        p->tok.n = 0;
        p->pos = i;
        return 0;
    }
    unsigned char c = (unsigned char)s[i];
    size_t j = i + 1;
    enum tok t;
    switch (c) {
    case '(':
        t = T_LP;
        break;
    case ')':
        t = T_RP;
        break;
    case ',':
        t = T_COMMA;
        break;
    case '/':
        t = T_SLASH;
        break;
    case ':':
        t = T_COLON;
        break;
    case '\'':
        for (;; j++) {
            if (j >= n)
                return odata_fail(p->err, RG_EINVAL, "%s: the string starting at column %zu has no closing quote",
                                  p->opt, i + 1);
            if (s[j] == '\'') {
                if (j + 1 < n && s[j + 1] == '\'') {
                    j++;
                    continue;
                }
                j++;
                break;
            }
        }
        t = T_STRING;
        break;
    default:
        if (guid_at(s + i, n - i)) {
            t = T_GUID;
            j = i + 36;
        } else if (date_at(s + i, n - i)) {
            for (j = i; j < n && s[j] && strchr("0123456789TtZz:.+-", s[j]); j++)
                ;
            t = T_DATETIME;
        } else if (is_digit(c) || (c == '-' && i + 1 < n && is_digit((unsigned char)s[i + 1]))) {
            j = i + number_at(s + i, n - i);
            t = T_NUMBER;
        } else if (is_ident_start(c)) {
            while (j < n && is_ident_char((unsigned char)s[j]))
                j++;
            t = T_IDENT;
        } else {
            return odata_fail(p->err, RG_EINVAL, "%s: unexpected character '%c' at column %zu", p->opt, c, i + 1);
        }
        if (t != T_IDENT && j < n && is_ident_char((unsigned char)s[j])) {
            while (j < n && is_ident_char((unsigned char)s[j]))
                j++;
            return odata_fail(p->err, RG_EINVAL, "%s: '%.*s' at column %zu is not a valid value", p->opt, echo(j - i),
                              s + i, i + 1);
        }
    }
    p->tok.t = t;
    p->tok.n = j - i;
    p->pos = j;
    return 0;
}

static const char *tok_text(const struct parser *p)
{
    return p->s + p->tok.pos;
}

static bool is_kw(const struct parser *p, const char *kw)
{
    return p->tok.t == T_IDENT && odata_ci_eqn(tok_text(p), p->tok.n, kw);
}

/* True if the next thing after the current token is '('. */
static bool lparen_follows(const struct parser *p)
{
    size_t i = p->pos;
    while (i < p->n && (p->s[i] == ' ' || p->s[i] == '\t'))
        i++;
    return i < p->n && p->s[i] == '(';
}

static int expected(const struct parser *p, const char *what)
{
    if (p->tok.t == T_END)
        return odata_fail(p->err, RG_EINVAL, "%s: expected %s at column %zu, found the end of the expression", p->opt,
                          what, p->tok.pos + 1);
    return odata_fail(p->err, RG_EINVAL, "%s: expected %s at column %zu, found '%.*s'", p->opt, what, p->tok.pos + 1,
                      echo(p->tok.n), tok_text(p));
}

static int oom(const struct parser *p)
{
    return odata_fail(p->err, RG_ENOMEM, "%s: out of memory", p->opt);
}

static int cmp_op(const struct parser *p)
{
    static const char *const ops[] = {"eq", "ne", "gt", "ge", "lt", "le"};
    for (int i = 0; i < 6; i++)
        if (is_kw(p, ops[i]))
            return i;
    return -1;
}

static int func_id(const struct parser *p)
{
    static const char *const fns[] = {"startswith", "endswith", "contains"};
    for (int i = 0; i < 3; i++)
        if (is_kw(p, fns[i]))
            return i;
    return -1;
}

static const char *type_name(enum odata_type t)
{
    switch (t) {
    case ODATA_T_STRING:
        return "a string";
    case ODATA_T_NUMBER:
        return "a number";
    case ODATA_T_BOOL:
        return "a boolean";
    case ODATA_T_DATETIME:
        return "a date and time";
    case ODATA_T_STRINGS:
    case ODATA_T_OBJECTS:
        return "a collection";
    case ODATA_T_OBJECT:
        return "an object";
    case ODATA_T_ANY:
        break;
    }
    return "untyped";
}

/* Before the "(", "not" or lambda at the current token opens one more level below depth. */
static int deeper(const struct parser *p, int depth)
{
    if (depth < ODATA_MAX_DEPTH)
        return 0;
    return odata_fail(p->err, RG_ETOOBIG, "%s: nested more than %d levels deep (column %zu)", p->opt, ODATA_MAX_DEPTH,
                      p->tok.pos + 1);
}

static int new_node(struct parser *p, enum odata_kind kind, struct odata_node **out)
{
    if (++p->nodes > ODATA_MAX_NODES)
        return odata_fail(p->err, RG_ETOOBIG, "%s: more than %d conditions; simplify the expression", p->opt,
                          ODATA_MAX_NODES);
    *out = odata_alloc(p->q, sizeof **out);
    if (!*out)
        return oom(p);
    (*out)->kind = kind;
    return 0;
}

/* ---- paths ---- */

static int resolve_path(struct parser *p, const struct token *segs, size_t nseg, struct odata_path *out)
{
    const char *s0 = p->s + segs[0].pos;
    size_t n0 = segs[0].n;
    const char *root;
    memset(out, 0, sizeof *out);
    if (p->var && n0 == p->varlen && !memcmp(s0, p->var, n0)) {
        root = p->var;
        out->type = p->vartype;
        out->cs = p->varcs;
    } else {
        out->prop = odata_find_prop(p->q->coll, s0, n0);
        if (!out->prop)
            return odata_fail(p->err, RG_EINVAL, "%s: '%.*s' is not a property of this collection (column %zu)", p->opt,
                              echo(n0), s0, segs[0].pos + 1);
        root = out->prop->name;
        out->type = out->prop->type;
        out->cs = (out->prop->flags & ODATA_CASE_SENSITIVE) != 0;
    }
    size_t len = strlen(root);
    if (nseg > 1) {
        if (out->type != ODATA_T_OBJECT && out->type != ODATA_T_ANY)
            return odata_fail(p->err, RG_EINVAL, "%s: '%s' is %s, not an object; '%.*s' is not valid (column %zu)",
                              p->opt, root, type_name(out->type),
                              echo(segs[nseg - 1].pos + segs[nseg - 1].n - segs[0].pos), s0, segs[0].pos + 1);
        out->type = ODATA_T_ANY;
        out->nsegs = nseg - 1;
        out->segs = odata_alloc(p->q, out->nsegs * sizeof *out->segs);
        if (!out->segs)
            return oom(p);
        for (size_t i = 1; i < nseg; i++) {
            if (!(out->segs[i - 1] = odata_strndup(p->q, p->s + segs[i].pos, segs[i].n)))
                return oom(p);
            len += 1 + segs[i].n;
        }
    }
    char *text = odata_alloc(p->q, len + 1);
    if (!text)
        return oom(p);
    size_t o = strlen(root);
    memcpy(text, root, o);
    for (size_t i = 0; i < out->nsegs; i++) {
        text[o++] = '/';
        memcpy(text + o, out->segs[i], segs[i + 1].n);
        o += segs[i + 1].n;
    }
    out->text = text;
    return 0;
}

/*
 * Reads a path from the current identifier. Stops before "/any(" or "/all("
 * (the current token is then that keyword) and sets *lambda to ODATA_N_ANY
 * or ODATA_N_ALL; otherwise *lambda is -1.
 */
static int parse_path(struct parser *p, struct odata_path *out, int *lambda)
{
    struct token segs[MAX_SEGS];
    size_t nseg = 0;
    *lambda = -1;
    for (;;) {
        if (p->tok.t != T_IDENT)
            return expected(p, nseg ? "a property name after '/'" : "a property name");
        if (nseg && lparen_follows(p) && (is_kw(p, "any") || is_kw(p, "all"))) {
            *lambda = is_kw(p, "any") ? ODATA_N_ANY : ODATA_N_ALL;
            break;
        }
        if (nseg == MAX_SEGS)
            return odata_fail(p->err, RG_ETOOBIG, "%s: the path at column %zu has more than %d segments", p->opt,
                              segs[0].pos + 1, MAX_SEGS);
        segs[nseg++] = p->tok;
        TRY(lex(p));
        if (p->tok.t != T_SLASH)
            break;
        TRY(lex(p));
    }
    return resolve_path(p, segs, nseg, out);
}

/* ---- values ---- */

static int parse_number(struct parser *p, struct odata_lit *l)
{
    char tmp[64];
    size_t n = p->tok.n;
    if (n >= sizeof tmp)
        return odata_fail(p->err, RG_EINVAL, "%s: the number at column %zu is too long", p->opt, p->tok.pos + 1);
    memcpy(tmp, tok_text(p), n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    if (!strpbrk(tmp, ".eE")) {
        l->kind = ODATA_L_INT;
        l->i = strtoll(tmp, &end, 10);
        l->d = (double)l->i;
    } else {
        l->kind = ODATA_L_REAL;
        l->d = strtod(tmp, &end);
        if (errno == ERANGE && !isinf(l->d))
            errno = 0; /* underflow to (nearly) 0 is fine */
    }
    if (errno || *end)
        return odata_fail(p->err, RG_EINVAL, "%s: the number '%s' at column %zu is out of range", p->opt, tmp,
                          p->tok.pos + 1);
    return 0;
}

/* Reads a literal at the current token into a new *out. */
static int parse_value(struct parser *p, struct odata_lit **out)
{
    struct odata_lit *l = odata_alloc(p->q, sizeof *l);
    if (!l)
        return oom(p);
    const char *t = tok_text(p);
    size_t n = p->tok.n;
    l->s = t;
    l->len = n;
    switch (p->tok.t) {
    case T_STRING: {
        char *v = odata_alloc(p->q, n);
        if (!v)
            return oom(p);
        size_t o = 0;
        for (size_t i = 1; i + 1 < n; i++) {
            v[o++] = t[i];
            if (t[i] == '\'')
                i++;
        }
        if (!odata_utf8_valid(v, o))
            return odata_fail(p->err, RG_EINVAL, "%s: the string at column %zu is not valid UTF-8", p->opt,
                              p->tok.pos + 1);
        l->kind = ODATA_L_STRING;
        l->s = v;
        l->len = o;
        break;
    }
    case T_GUID:
        l->kind = ODATA_L_STRING;
        break;
    case T_NUMBER:
        TRY(parse_number(p, l));
        break;
    case T_DATETIME:
        if (odata_instant_parse(t, n, &l->ticks))
            return odata_fail(p->err, RG_EINVAL, "%s: '%.*s' at column %zu is not a valid date and time", p->opt,
                              echo(n), t, p->tok.pos + 1);
        l->kind = ODATA_L_DATETIME;
        break;
    default:
        if (is_kw(p, "null")) {
            l->kind = ODATA_L_NULL;
        } else if (is_kw(p, "true") || is_kw(p, "false")) {
            l->kind = ODATA_L_BOOL;
            l->b = is_kw(p, "true");
        } else {
            return expected(p, "a value (a quoted string, a number, true, false, null, a date and time or a GUID)");
        }
    }
    /* the literal's own text must outlive the input: STRING copies it above, the others here */
    if (l->kind != ODATA_L_STRING || p->tok.t == T_GUID) {
        if (!(l->s = odata_strndup(p->q, t, n)))
            return oom(p);
    }
    *out = l;
    return lex(p);
}

/*
 * Checks that literal l (at column col) may be compared with path by op, as
 * the type hint says; converts a quoted datetime for an ODATA_T_DATETIME path.
 */
static int check_value(struct parser *p, const struct odata_path *path, enum odata_cmp op, struct odata_lit *l,
                       size_t col)
{
    if (l->kind == ODATA_L_BOOL && op != ODATA_EQ && op != ODATA_NE)
        return odata_fail(p->err, RG_EINVAL, "%s: true and false can only be compared with eq or ne (column %zu)",
                          p->opt, col);
    if (l->kind == ODATA_L_NULL || path->type == ODATA_T_ANY)
        return 0;
    const char *how = NULL;
    switch (path->type) {
    case ODATA_T_STRING:
        if (l->kind == ODATA_L_STRING || l->kind == ODATA_L_DATETIME)
            return 0;
        how = "compare it with a quoted value";
        break;
    case ODATA_T_NUMBER:
        if (l->kind == ODATA_L_INT || l->kind == ODATA_L_REAL)
            return 0;
        how = "compare it with an unquoted number";
        break;
    case ODATA_T_BOOL:
        if (l->kind == ODATA_L_BOOL)
            return 0;
        how = "compare it with true or false";
        break;
    case ODATA_T_DATETIME:
        if (l->kind == ODATA_L_DATETIME)
            return 0;
        if (l->kind == ODATA_L_STRING && !odata_instant_parse(l->s, l->len, &l->ticks)) {
            l->kind = ODATA_L_DATETIME;
            return 0;
        }
        how = "compare it with an ISO-8601 value such as 2024-01-01T00:00:00Z";
        break;
    case ODATA_T_STRINGS:
    case ODATA_T_OBJECTS:
        how = "use any(), e.g. x/any(v: v eq 'a'), or compare it with null";
        break;
    case ODATA_T_OBJECT:
        how = "compare one of its properties (x/name) or compare it with null";
        break;
    case ODATA_T_ANY:
        break;
    }
    return odata_fail(p->err, RG_EINVAL, "%s: '%s' is %s; %s (column %zu)", p->opt, path->text, type_name(path->type),
                      how, col);
}

/* ---- expressions ---- */

static int parse_list(struct parser *p, int depth, enum odata_kind kind, struct odata_node **out);

/* After a boolean call: an optional "eq true", "ne false" (kept as is) or "eq false", "ne true" (negated). */
static int bool_suffix(struct parser *p, struct odata_node **n)
{
    int op = cmp_op(p);
    if (op < 0)
        return 0;
    if (op != ODATA_EQ && op != ODATA_NE)
        return odata_fail(p->err, RG_EINVAL, "%s: a function's result can only be compared with eq or ne (column %zu)",
                          p->opt, p->tok.pos + 1);
    TRY(lex(p));
    if (!is_kw(p, "true") && !is_kw(p, "false"))
        return expected(p, "true or false");
    bool keep = is_kw(p, "true") == (op == ODATA_EQ);
    TRY(lex(p));
    if (keep)
        return 0;
    struct odata_node * not ;
    TRY(new_node(p, ODATA_N_NOT, &not ));
    not ->kids = *n;
    *n = not ;
    return 0;
}

/* KMP failure table of contains()'s value, folded unless case-sensitive. */
static int build_kmp(struct parser *p, struct odata_lit *l, bool cs)
{
    if (!l->len)
        return 0;
    size_t *t = odata_alloc(p->q, l->len * sizeof *t);
    if (!t)
        return oom(p);
    const unsigned char *s = (const unsigned char *)l->s;
    for (size_t i = 1, k = 0; i < l->len; i++) {
        unsigned char c = cs ? s[i] : odata_fold(s[i]);
        while (k && c != (cs ? s[k] : odata_fold(s[k])))
            k = t[k - 1];
        if (c == (cs ? s[k] : odata_fold(s[k])))
            k++;
        t[i] = k;
    }
    l->kmp = t;
    return 0;
}

static int parse_func(struct parser *p, struct odata_node **out)
{
    static const char *const names[] = {"startswith", "endswith", "contains"};
    enum odata_func f = (enum odata_func)func_id(p);
    TRY(lex(p)); /* '(' */
    TRY(lex(p));
    struct odata_path path;
    int lambda;
    size_t col = p->tok.pos + 1;
    TRY(parse_path(p, &path, &lambda));
    if (lambda >= 0)
        return expected(p, "','");
    if (path.type != ODATA_T_STRING && path.type != ODATA_T_ANY)
        return odata_fail(p->err, RG_EINVAL, "%s: %s() needs a string; '%s' is %s (column %zu)", p->opt, names[f],
                          path.text, type_name(path.type), col);
    if (p->tok.t != T_COMMA)
        return expected(p, "','");
    TRY(lex(p));
    if (p->tok.t != T_STRING && p->tok.t != T_GUID)
        return expected(p, "a quoted string");
    struct odata_lit *l;
    TRY(parse_value(p, &l));
    if (p->tok.t != T_RP)
        return expected(p, "')'");
    TRY(lex(p));
    if (f == ODATA_F_CONTAINS)
        TRY(build_kmp(p, l, path.cs));
    TRY(new_node(p, ODATA_N_FUNC, out));
    (*out)->func = f;
    (*out)->path = path;
    (*out)->lit = l;
    return 0;
}

/* At "any"/"all" after a path: the lambda over that path. */
static int parse_lambda(struct parser *p, int depth, const struct odata_path *path, enum odata_kind kind,
                        struct odata_node **out)
{
    if (p->var)
        return odata_fail(p->err, RG_EINVAL, "%s: any() or all() inside another one is not supported (column %zu)",
                          p->opt, p->tok.pos + 1);
    if (path->type != ODATA_T_STRINGS && path->type != ODATA_T_OBJECTS && path->type != ODATA_T_ANY)
        return odata_fail(p->err, RG_EINVAL, "%s: '%s' is %s, not a collection; any() and all() need one (column %zu)",
                          p->opt, path->text, type_name(path->type), p->tok.pos + 1);
    TRY(deeper(p, depth));
    struct odata_node *n;
    TRY(new_node(p, kind, &n));
    n->path = *path;
    TRY(lex(p)); /* '(' */
    TRY(lex(p));
    if (p->tok.t == T_RP && kind == ODATA_N_ANY) {
        *out = n;
        return lex(p);
    }
    if (p->tok.t != T_IDENT)
        return expected(p, kind == ODATA_N_ANY ? "a lambda variable (any(t: ...)) or ')'"
                                               : "a lambda variable (all(t: ...))");
    if (!(n->var = odata_strndup(p->q, tok_text(p), p->tok.n)))
        return oom(p);
    TRY(lex(p));
    if (p->tok.t != T_COLON)
        return expected(p, "':'");
    TRY(lex(p));
    p->var = n->var;
    p->varlen = strlen(n->var);
    p->vartype = path->type == ODATA_T_STRINGS   ? ODATA_T_STRING
                 : path->type == ODATA_T_OBJECTS ? ODATA_T_OBJECT
                                                 : ODATA_T_ANY;
    p->varcs = path->cs;
    int rc = parse_list(p, depth + 1, ODATA_N_OR, &n->kids);
    p->var = NULL;
    if (rc)
        return rc;
    if (p->tok.t != T_RP)
        return expected(p, "'and', 'or' or ')'");
    *out = n;
    return lex(p);
}

static int parse_in(struct parser *p, const struct odata_path *path, struct odata_node **out)
{
    size_t col = p->tok.pos + 1;
    TRY(lex(p));
    if (p->tok.t != T_LP)
        return expected(p, "'(' after in");
    TRY(lex(p));
    struct odata_node *n;
    TRY(new_node(p, ODATA_N_IN, &n));
    n->path = *path;
    struct odata_lit **tail = &n->lit;
    for (size_t k = 0;; k++) {
        if (k == ODATA_MAX_IN)
            return odata_fail(p->err, RG_ETOOBIG, "%s: the list of in at column %zu has more than %d values", p->opt,
                              col, ODATA_MAX_IN);
        size_t vcol = p->tok.pos + 1;
        TRY(parse_value(p, tail));
        TRY(check_value(p, path, ODATA_EQ, *tail, vcol));
        tail = &(*tail)->next;
        if (p->tok.t == T_RP)
            break;
        if (p->tok.t != T_COMMA)
            return expected(p, "',' or ')'");
        TRY(lex(p));
    }
    *out = n;
    return lex(p);
}

static int parse_primary(struct parser *p, int depth, struct odata_node **out)
{
    if (p->tok.t == T_LP) {
        TRY(deeper(p, depth));
        TRY(lex(p));
        TRY(parse_list(p, depth + 1, ODATA_N_OR, out));
        if (p->tok.t != T_RP)
            return expected(p, "'and', 'or' or ')'");
        return lex(p);
    }
    if (p->tok.t != T_IDENT || is_kw(p, "true") || is_kw(p, "false") || is_kw(p, "null"))
        return expected(p, "a property name, a function or '('");
    if (func_id(p) >= 0 && lparen_follows(p)) {
        TRY(parse_func(p, out));
        return bool_suffix(p, out);
    }
    struct odata_path path;
    int lambda;
    TRY(parse_path(p, &path, &lambda));
    if (lambda >= 0) {
        TRY(parse_lambda(p, depth, &path, (enum odata_kind)lambda, out));
        return bool_suffix(p, out);
    }
    int op = cmp_op(p);
    if (is_kw(p, "in"))
        return parse_in(p, &path, out);
    struct odata_lit *l;
    if (op >= 0) {
        TRY(lex(p));
        size_t col = p->tok.pos + 1;
        TRY(parse_value(p, &l));
        TRY(check_value(p, &path, (enum odata_cmp)op, l, col));
    } else if (path.type == ODATA_T_BOOL &&
               (p->tok.t == T_END || p->tok.t == T_RP || is_kw(p, "and") || is_kw(p, "or"))) {
        op = ODATA_EQ; /* a boolean property alone: p eq true */
        if (!(l = odata_alloc(p->q, sizeof *l)))
            return oom(p);
        l->kind = ODATA_L_BOOL;
        l->b = true;
    } else {
        return expected(p, "a comparison operator (eq, ne, gt, ge, lt, le or in)");
    }
    TRY(new_node(p, ODATA_N_CMP, out));
    (*out)->cmp = (enum odata_cmp)op;
    (*out)->path = path;
    (*out)->lit = l;
    return 0;
}

static int parse_not(struct parser *p, int depth, struct odata_node **out)
{
    if (!is_kw(p, "not"))
        return parse_primary(p, depth, out);
    TRY(deeper(p, depth));
    TRY(new_node(p, ODATA_N_NOT, out));
    TRY(lex(p));
    return parse_not(p, depth + 1, &(*out)->kids);
}

/* or-expr (kind OR) or and-expr (kind AND): operands joined by the keyword, as one n-ary node. */
static int parse_list(struct parser *p, int depth, enum odata_kind kind, struct odata_node **out)
{
    const char *kw = kind == ODATA_N_OR ? "or" : "and";
    struct odata_node *first, *n, *tail;
    TRY(kind == ODATA_N_OR ? parse_list(p, depth, ODATA_N_AND, &first) : parse_not(p, depth, &first));
    if (!is_kw(p, kw)) {
        *out = first;
        return 0;
    }
    TRY(new_node(p, kind, &n));
    n->kids = tail = first;
    while (is_kw(p, kw)) {
        TRY(lex(p));
        TRY(kind == ODATA_N_OR ? parse_list(p, depth, ODATA_N_AND, &tail->next) : parse_not(p, depth, &tail->next));
        tail = tail->next;
    }
    *out = n;
    return 0;
}

int odata_parse_filter(struct odata_query *q, const char *s, size_t n, struct odata_error *err)
{
    struct parser p = {.q = q, .err = err, .opt = "$filter", .s = s, .n = n};
    TRY(lex(&p));
    if (p.tok.t == T_END)
        return odata_fail(err, RG_EINVAL, "$filter: the expression is empty");
    TRY(parse_list(&p, 0, ODATA_N_OR, &q->filter));
    if (p.tok.t != T_END)
        return expected(&p, "'and', 'or' or the end of the expression");
    return 0;
}

int odata_parse_orderby(struct odata_query *q, const char *s, size_t n, struct odata_error *err)
{
    struct parser p = {.q = q, .err = err, .opt = "$orderby", .s = s, .n = n};
    TRY(lex(&p));
    if (p.tok.t == T_END)
        return odata_fail(err, RG_EINVAL, "$orderby: the list is empty");
    struct odata_key *keys = odata_alloc(q, ODATA_MAX_ORDERBY * sizeof *keys);
    if (!keys)
        return oom(&p);
    size_t nkeys = 0;
    for (;;) {
        if (nkeys == ODATA_MAX_ORDERBY)
            return odata_fail(err, RG_ETOOBIG, "$orderby: more than %d keys", ODATA_MAX_ORDERBY);
        size_t col = p.tok.pos + 1;
        struct odata_key *k = &keys[nkeys];
        int lambda;
        TRY(parse_path(&p, &k->path, &lambda));
        if (lambda >= 0)
            return expected(&p, "'asc', 'desc', ',' or the end of the list");
        enum odata_type t = k->path.type;
        if (t == ODATA_T_STRINGS || t == ODATA_T_OBJECTS || t == ODATA_T_OBJECT)
            return odata_fail(err, RG_EINVAL, "$orderby: '%s' is %s and cannot be ordered by (column %zu)",
                              k->path.text, type_name(t), col);
        for (size_t i = 0; i < nkeys; i++)
            if (odata_ci_eqn(keys[i].path.text, strlen(keys[i].path.text), k->path.text))
                return odata_fail(err, RG_EINVAL, "$orderby: '%s' is given twice (column %zu)", k->path.text, col);
        if (is_kw(&p, "asc") || is_kw(&p, "desc")) {
            k->desc = is_kw(&p, "desc");
            TRY(lex(&p));
        }
        nkeys++;
        if (p.tok.t == T_END)
            break;
        if (p.tok.t != T_COMMA)
            return expected(&p, "'asc', 'desc', ',' or the end of the list");
        TRY(lex(&p));
    }
    q->orderby = keys;
    q->norderby = nkeys;
    return 0;
}

/* ---- canonical form ---- */

static int put_lit(struct buf *b, const struct odata_lit *l)
{
    switch (l->kind) {
    case ODATA_L_NULL:
        return buf_puts(b, "null");
    case ODATA_L_BOOL:
        return buf_puts(b, l->b ? "true" : "false");
    case ODATA_L_STRING:
        TRY(buf_puts(b, "'"));
        for (size_t i = 0; i < l->len; i++)
            TRY(buf_append(b, l->s[i] == '\'' ? "''" : &l->s[i], l->s[i] == '\'' ? 2 : 1));
        return buf_puts(b, "'");
    case ODATA_L_INT:
    case ODATA_L_REAL:
    case ODATA_L_DATETIME:
        break;
    }
    return buf_append(b, l->s, l->len);
}

static int put_node(struct buf *b, const struct odata_node *n, bool top)
{
    static const char *const ops[] = {" eq ", " ne ", " gt ", " ge ", " lt ", " le "};
    static const char *const fns[] = {"startswith(", "endswith(", "contains("};
    switch (n->kind) {
    case ODATA_N_AND:
    case ODATA_N_OR:
        if (!top)
            TRY(buf_puts(b, "("));
        for (const struct odata_node *k = n->kids; k; k = k->next) {
            TRY(put_node(b, k, false));
            if (k->next)
                TRY(buf_puts(b, n->kind == ODATA_N_AND ? " and " : " or "));
        }
        return top ? 0 : buf_puts(b, ")");
    case ODATA_N_NOT:
        TRY(buf_puts(b, "not ("));
        TRY(put_node(b, n->kids, true));
        return buf_puts(b, ")");
    case ODATA_N_CMP:
        TRY(buf_puts(b, n->path.text));
        TRY(buf_puts(b, ops[n->cmp]));
        return put_lit(b, n->lit);
    case ODATA_N_IN:
        TRY(buf_puts(b, n->path.text));
        TRY(buf_puts(b, " in ("));
        for (const struct odata_lit *l = n->lit; l; l = l->next) {
            TRY(put_lit(b, l));
            TRY(buf_puts(b, l->next ? "," : ")"));
        }
        return 0;
    case ODATA_N_FUNC:
        TRY(buf_puts(b, fns[n->func]));
        TRY(buf_puts(b, n->path.text));
        TRY(buf_puts(b, ","));
        TRY(put_lit(b, n->lit));
        return buf_puts(b, ")");
    case ODATA_N_ANY:
    case ODATA_N_ALL:
        TRY(buf_puts(b, n->path.text));
        TRY(buf_puts(b, n->kind == ODATA_N_ANY ? "/any(" : "/all("));
        if (n->kids) {
            TRY(buf_puts(b, n->var));
            TRY(buf_puts(b, ":"));
            TRY(put_node(b, n->kids, true));
        }
        return buf_puts(b, ")");
    }
    return 0;
}

int odata_filter_format(const struct odata_query *q, struct buf *out)
{
    return q->filter ? put_node(out, q->filter, true) : 0;
}
