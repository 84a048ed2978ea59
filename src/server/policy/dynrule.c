/*
 * dynrule.c: Entra ID dynamic membership rules for users (the contract is in
 * dynrule.h). A tokenizer and a recursive-descent parser turn the rule text
 * into a small tree kept in one array (children by index), with every string
 * literal case-folded into one arena and every -match pattern compiled; the
 * evaluator walks that tree over a Graph user object and never allocates.
 *
 * Grammar (EBNF). Keywords, operator names and property names are matched
 * ignoring ASCII case; the '-' before an operator or logical word is optional
 * and may be U+2013 '–'; blanks (space, tab, CR, LF) separate tokens.
 *
 *   rule       = or_expr EOF ;
 *   or_expr    = and_expr { OR and_expr } ;
 *   and_expr   = not_expr { AND not_expr } ;
 *   not_expr   = NOT not_expr | primary ;
 *   primary    = "(" or_expr ")" | condition ;
 *   condition  = property ( cmp_op value | list_op list | quant_op lambda ) ;
 *   property   = "user." name ;             (name: one of dynrule_user_properties())
 *   lambda     = "(" l_or ")" | l_cond ;    (quant_op only on multi-valued properties)
 *   l_or       = l_and { OR l_and } ;
 *   l_and      = l_not { AND l_not } ;
 *   l_not      = NOT l_not | "(" l_or ")" | l_cond ;
 *   l_cond     = "_" ( cmp_op value | list_op list ) ;
 *   cmp_op     = EQ | NE | STARTSWITH | NOTSTARTSWITH | ENDSWITH | NOTENDSWITH
 *              | CONTAINS | NOTCONTAINS | MATCH | NOTMATCH ;
 *   list_op    = IN | NOTIN ;
 *   quant_op   = ANY | ALL ;
 *   list       = "[" literal { "," literal } "]" ;
 *   value      = literal | "null" ;         (null only after EQ or NE)
 *   literal    = string | "true" | "false" | number ;
 *   number     = digit { digit | "." } ;
 *   string     = '"' { dq_char | escape } '"' | "'" { sq_char | "''" | escape } "'" ;
 *   escape     = "`" ( '"' | "'" | "`" ) ;  (a backtick before anything else is itself)
 *   OR = [ dash ] "or" ; AND = [ dash ] "and" ; NOT = [ dash ] "not" ;
 *   EQ = [ dash ] "eq" ; ... ; NOTIN = [ dash ] "notIn" ; ANY = [ dash ] "any" ; ALL = [ dash ] "all" ;
 *   dash       = "-" | "–" ;
 *
 * Tokens: "(" ")" "[" "]" ","; a string; a dash word (dash then ASCII letters);
 * a word (an ASCII letter, digit, "_", ".", "$", then those or non-ASCII
 * characters but the dash: user.department, _, true, 50001).
 */
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "server/policy/dynrule.h"

/* ---- the property table ---- */

static const struct dynrule_property user_props[] = {
    {"accountEnabled", "accountEnabled", DYNRULE_T_BOOL},
    {"city", "city", DYNRULE_T_STRING},
    {"companyName", "companyName", DYNRULE_T_STRING},
    {"country", "country", DYNRULE_T_STRING},
    {"department", "department", DYNRULE_T_STRING},
    {"displayName", "displayName", DYNRULE_T_STRING},
    {"employeeId", "employeeId", DYNRULE_T_STRING},
    {"employeeType", "employeeType", DYNRULE_T_STRING},
    {"facsimileTelephoneNumber", "faxNumber", DYNRULE_T_STRING}, /* Graph spells the user key faxNumber */
    {"givenName", "givenName", DYNRULE_T_STRING},
    {"jobTitle", "jobTitle", DYNRULE_T_STRING},
    {"mail", "mail", DYNRULE_T_STRING},
    {"mailNickname", "mailNickname", DYNRULE_T_STRING},
    {"mobile", "mobilePhone", DYNRULE_T_STRING},
    {"objectId", "id", DYNRULE_T_STRING},
    {"onPremisesSecurityIdentifier", "onPremisesSecurityIdentifier", DYNRULE_T_STRING},
    {"otherMails", "otherMails", DYNRULE_T_STRING_SET},
    {"passwordPolicies", "passwordPolicies", DYNRULE_T_STRING},
    {"physicalDeliveryOfficeName", "officeLocation", DYNRULE_T_STRING},
    {"postalCode", "postalCode", DYNRULE_T_STRING},
    {"preferredLanguage", "preferredLanguage", DYNRULE_T_STRING},
    {"proxyAddresses", "proxyAddresses", DYNRULE_T_STRING_SET},
    {"sipProxyAddress", "sipProxyAddress", DYNRULE_T_STRING},
    {"state", "state", DYNRULE_T_STRING},
    {"streetAddress", "streetAddress", DYNRULE_T_STRING},
    {"surname", "surname", DYNRULE_T_STRING},
    {"telephoneNumber", "telephoneNumber", DYNRULE_T_STRING},
    {"usageLocation", "usageLocation", DYNRULE_T_STRING},
    {"userPrincipalName", "userPrincipalName", DYNRULE_T_STRING},
    {"userType", "userType", DYNRULE_T_STRING},
};
#define USER_PROP_COUNT (sizeof user_props / sizeof user_props[0])

const struct dynrule_property *dynrule_user_properties(size_t *count)
{
    if (count)
        *count = USER_PROP_COUNT;
    return user_props;
}

/* ---- operators ---- */

/* Positive operators are even, their negation the next odd value; -any/-all last. */
enum op {
    OP_EQ,
    OP_NE,
    OP_STARTS,
    OP_NSTARTS,
    OP_ENDS,
    OP_NENDS,
    OP_CONTAINS,
    OP_NCONTAINS,
    OP_MATCH,
    OP_NMATCH,
    OP_IN,
    OP_NIN,
    OP_ANY,
    OP_ALL,
    OP_COUNT
};
static const char *const op_names[OP_COUNT] = {
    "eq",    "ne",       "startsWith", "notStartsWith", "endsWith", "notEndsWith", "contains", "notContains",
    "match", "notMatch", "in",         "notIn",         "any",      "all",
};

static bool op_negated(unsigned op)
{
    return op < OP_ANY && (op & 1u);
}

/* ---- the tree ---- */

enum node_kind { N_OR, N_AND, N_NOT, N_CMP, N_ANY, N_ALL };
enum value_kind { V_STRING, V_NULL, V_TRUE, V_FALSE, V_LIST };
#define NO_NODE 0xFFFFu
#define SUBJECT_ITEM 0xFFu /* N_CMP inside -any/-all: the subject is "_" */

struct node {
    uint8_t kind;   /* enum node_kind */
    uint8_t op;     /* N_CMP: enum op */
    uint8_t prop;   /* N_CMP, N_ANY, N_ALL: index in user_props, or SUBJECT_ITEM */
    uint8_t value;  /* N_CMP: enum value_kind */
    uint16_t child; /* N_OR, N_AND: first operand; N_NOT, N_ANY, N_ALL: the operand */
    uint16_t next;  /* next operand of the parent N_OR / N_AND, or NO_NODE */
    uint32_t str;   /* V_STRING, V_LIST: arena offset of the (first) folded, NUL-terminated literal */
    uint32_t len;   /* V_STRING: its length in bytes; V_LIST: the number of items (one after the other) */
    regex_t *re;    /* -match / -notMatch: the compiled pattern, owned; else NULL */
};

struct dynrule {
    const char *arena; /* the literals, right after nodes[] */
    size_t nnodes;
    unsigned root;
    struct node nodes[];
};

/* ---- UTF-8 and case folding ---- */

#define U8_BAD 0x110000u /* u8_decode: an invalid byte b decodes to U8_BAD + b, one byte long */

static uint32_t u8_decode(const char *str, size_t n, size_t *len)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned char c = s[0];
    *len = 1;
    if (c < 0x80)
        return c;
    size_t need;
    uint32_t cp;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        cp = c & 0x0Fu;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong forms */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        cp = c & 0x07u;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* nothing past U+10FFFF */
    } else {
        return U8_BAD + c;
    }
    if (n < need + 1 || s[1] < lo || s[1] > hi)
        return U8_BAD + c;
    for (size_t k = 1; k <= need; k++) {
        if ((s[k] & 0xC0u) != 0x80u)
            return U8_BAD + c;
        cp = (cp << 6) | (s[k] & 0x3Fu);
    }
    *len = need + 1;
    return cp;
}

/*
 * Simple one-to-one lower-casing of ASCII, Latin-1, Latin Extended-A, basic
 * Greek and Cyrillic. Every mapping keeps the UTF-8 length, so a folded
 * string has the length of the original and comparisons can work in bytes.
 */
static uint32_t fold(uint32_t c)
{
    if (c < 0x80)
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
    if (c < 0x100)
        return c >= 0xC0 && c <= 0xDE && c != 0xD7 ? c + 32 : c;
    if (c < 0x180) {
        if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F)
            return c; /* İ ı ĸ ŉ ſ: no one-to-one, same-length pair */
        if (c == 0x178)
            return 0xFF; /* Ÿ -> ÿ */
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
            return (c & 1u) ? c + 1 : c; /* upper case odd */
        return (c & 1u) ? c : c + 1;     /* upper case even */
    }
    if (c >= 0x391 && c <= 0x3AB && c != 0x3A2)
        return c + 32;
    if (c == 0x386)
        return 0x3AC;
    if (c >= 0x388 && c <= 0x38A)
        return c + 37;
    if (c == 0x38C)
        return 0x3CC;
    if (c == 0x38E || c == 0x38F)
        return c + 63;
    if (c == 0x3C2)
        return 0x3C3; /* final sigma */
    if (c >= 0x410 && c <= 0x42F)
        return c + 32;
    if (c >= 0x400 && c <= 0x40F)
        return c + 80;
    return c;
}

/* Folds s in place (fold() results are all below U+0800, and as long as their originals). */
static void fold_inplace(char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t l;
        uint32_t c = u8_decode(s + i, n - i, &l);
        uint32_t f = fold(c);
        if (f != c) {
            if (l == 1) {
                s[i] = (char)f;
            } else {
                s[i] = (char)(0xC0u | (f >> 6));
                s[i + 1] = (char)(0x80u | (f & 0x3Fu));
            }
        }
        i += l;
    }
}

/* Whether h starts with the folded needle nd, ignoring case. */
static bool ci_prefix(const char *h, size_t hn, const char *nd, size_t nn)
{
    size_t i = 0, j = 0;
    while (j < nn) {
        if (i >= hn)
            return false;
        size_t a, b;
        uint32_t x = fold(u8_decode(h + i, hn - i, &a));
        uint32_t y = u8_decode(nd + j, nn - j, &b);
        if (x != y)
            return false;
        i += a;
        j += b;
    }
    return true;
}

static bool ci_eq(const char *h, size_t hn, const char *nd, size_t nn)
{
    return hn == nn && ci_prefix(h, hn, nd, nn);
}

static bool ci_ends(const char *h, size_t hn, const char *nd, size_t nn)
{
    return hn >= nn && ci_prefix(h + (hn - nn), nn, nd, nn);
}

static bool ci_contains(const char *h, size_t hn, const char *nd, size_t nn)
{
    for (size_t off = 0; off + nn <= hn; off++)
        if (ci_prefix(h + off, nn, nd, nn))
            return true;
    return false;
}

/* ASCII-only case-insensitive equality of (a, an) and the C string b. */
static bool ascii_ieq(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return false;
    }
    return true;
}

/* ---- the parser ---- */

enum tk { T_EOF, T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_COMMA, T_WORD, T_DASH, T_STRING };

struct tok {
    enum tk kind;
    size_t off, len;   /* the token's bytes in the rule */
    size_t name, nlen; /* T_WORD: the word; T_DASH: the letters after the dash */
};

enum kw { KW_NONE, KW_AND, KW_OR, KW_NOT };

struct parser {
    const char *src;
    size_t len;
    size_t pos;     /* where the next token starts */
    struct tok tok; /* the current token */
    int depth;
    int rc; /* the first error; 0 while there is none */
    char *err;
    size_t errlen;
    size_t nnodes;
    struct node nodes[DYNRULE_MAX_NODES];
    size_t alen, acap;
    char arena[]; /* acap bytes: 2 * len + 2 holds every literal of the rule, NULs included */
};

#define NO_COLUMN ((size_t)-1)
#define ECHO_CHARS 40 /* rule text quoted in a message is cut after this many characters */
#define ECHO_LEN 336  /* ECHO_CHARS escaped (at most 8 bytes each), "..." and the NUL */

/* The 1-based column, in characters, of byte off (the rule before off is valid UTF-8). */
static size_t column(const struct parser *p, size_t off)
{
    size_t col = 1;
    for (size_t i = 0; i < off && i < p->len; i++)
        if (((unsigned char)p->src[i] & 0xC0u) != 0x80u)
            col++;
    return col;
}

/* (s, n) for a message: control characters and invalid UTF-8 as \xNN, cut after ECHO_CHARS characters. */
static const char *echo(const char *s, size_t n, char out[ECHO_LEN])
{
    size_t o = 0, i = 0, chars = 0;
    while (i < n) {
        if (chars == ECHO_CHARS) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        size_t l;
        uint32_t c = u8_decode(s + i, n - i, &l);
        if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0) || c >= U8_BAD) {
            for (size_t k = 0; k < l; k++) {
                snprintf(out + o, ECHO_LEN - o, "\\x%02X", (unsigned)(unsigned char)s[i + k]);
                o += 4;
            }
        } else {
            memcpy(out + o, s + i, l);
            o += l;
        }
        i += l;
        chars++;
    }
    out[o] = '\0';
    return out;
}

/* "'<token>'", or "the end of the rule". */
static const char *found(const struct parser *p, const struct tok *t, char out[ECHO_LEN + 2])
{
    if (t->kind == T_EOF)
        return "the end of the rule";
    char e[ECHO_LEN];
    snprintf(out, ECHO_LEN + 2, "'%s'", echo(p->src + t->off, t->len, e));
    return out;
}

/* Copies msg (valid UTF-8) into err, cut at errlen - 1 bytes but never inside a character. */
static void set_message(char *err, size_t errlen, const char *msg)
{
    if (!err || !errlen)
        return;
    size_t n = strlen(msg);
    if (n >= errlen) {
        n = errlen - 1;
        while (n > 0 && ((unsigned char)msg[n] & 0xC0u) == 0x80u)
            n--;
    }
    memcpy(err, msg, n);
    err[n] = '\0';
}

__attribute__((format(printf, 3, 4))) static void fail(struct parser *p, size_t off, const char *fmt, ...)
{
    if (p->rc)
        return;
    p->rc = RG_EINVAL;
    if (!p->err || !p->errlen)
        return;
    char what[DYNRULE_ERR_LEN], full[DYNRULE_ERR_LEN + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (off == NO_COLUMN)
        snprintf(full, sizeof full, "membershipRule: %s", what);
    else
        snprintf(full, sizeof full, "membershipRule: %s at column %zu", what, column(p, off));
    set_message(p->err, p->errlen, full);
}

static void fail_nomem(struct parser *p)
{
    if (p->rc)
        return;
    p->rc = RG_ENOMEM;
    set_message(p->err, p->errlen, "membershipRule: out of memory");
}

static bool is_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_word(unsigned char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '$';
}

/* Length of a dash at s[i]: 1 for '-', 3 for U+2013, 0 for none. */
static size_t dash_len(const struct parser *p, size_t i)
{
    const unsigned char *s = (const unsigned char *)p->src;
    if (s[i] == '-')
        return 1;
    if (i + 2 < p->len && s[i] == 0xE2 && s[i + 1] == 0x80 && s[i + 2] == 0x93)
        return 3;
    return 0;
}

/* Scans the string starting with the quote at start; *end = the byte after its closing quote. */
static int scan_string(struct parser *p, size_t start, size_t *end)
{
    const char *s = p->src;
    char q = s[start];
    size_t k = start + 1;
    while (k < p->len) {
        if (s[k] == '`' && k + 1 < p->len && (s[k + 1] == '"' || s[k + 1] == '\'' || s[k + 1] == '`')) {
            k += 2;
        } else if (s[k] == q) {
            if (q == '\'' && k + 1 < p->len && s[k + 1] == '\'') {
                k += 2;
                continue;
            }
            *end = k + 1;
            return 0;
        } else {
            k++;
        }
    }
    fail(p, start, "unterminated string (no closing %c) starting", q);
    return -1;
}

/* Reads the next token into p->tok. 0, or -1 with the error set. */
static int advance(struct parser *p)
{
    const unsigned char *s = (const unsigned char *)p->src;
    size_t i = p->pos;
    while (i < p->len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    struct tok t = {T_EOF, i, 0, i, 0};
    size_t j = i + 1, d;
    if (i >= p->len) {
        p->tok = t;
        p->pos = i;
        return 0;
    }
    switch (s[i]) {
    case '(':
        t.kind = T_LPAREN;
        break;
    case ')':
        t.kind = T_RPAREN;
        break;
    case '[':
        t.kind = T_LBRACK;
        break;
    case ']':
        t.kind = T_RBRACK;
        break;
    case ',':
        t.kind = T_COMMA;
        break;
    case '"':
    case '\'':
        if (scan_string(p, i, &j))
            return -1;
        t.kind = T_STRING;
        break;
    default:
        if ((d = dash_len(p, i)) != 0) {
            j = i + d;
            while (j < p->len && is_alpha(s[j]))
                j++;
            if (j == i + d) {
                char e[ECHO_LEN];
                fail(p, i, "'%s' must be followed by an operator name such as -eq", echo(p->src + i, d, e));
                return -1;
            }
            t.kind = T_DASH;
            t.name = i + d;
            t.nlen = j - i - d;
        } else if (is_word(s[i])) {
            /* A word starts with an ASCII word character and may go on with non-ASCII ones
               (user.cíty), so that a message quotes it whole; a dash ends it. */
            while (j < p->len && (is_word(s[j]) || (s[j] >= 0x80 && dash_len(p, j) == 0)))
                j++;
            t.kind = T_WORD;
            t.nlen = j - i;
        } else {
            size_t l;
            char e[ECHO_LEN];
            u8_decode(p->src + i, p->len - i, &l);
            fail(p, i, "unexpected character '%s'", echo(p->src + i, l, e));
            return -1;
        }
    }
    t.len = j - i;
    p->tok = t;
    p->pos = j;
    return 0;
}

static bool tok_is_name(const struct parser *p, const char *name)
{
    const struct tok *t = &p->tok;
    return (t->kind == T_WORD || t->kind == T_DASH) && ascii_ieq(p->src + t->name, t->nlen, name);
}

static enum kw tok_logical(const struct parser *p)
{
    if (tok_is_name(p, "and"))
        return KW_AND;
    if (tok_is_name(p, "or"))
        return KW_OR;
    if (tok_is_name(p, "not"))
        return KW_NOT;
    return KW_NONE;
}

static int tok_op(const struct parser *p)
{
    for (int op = 0; op < OP_COUNT; op++)
        if (tok_is_name(p, op_names[op]))
            return op;
    return -1;
}

static int new_node(struct parser *p, size_t off, enum node_kind kind)
{
    if (p->nnodes >= DYNRULE_MAX_NODES) {
        fail(p, off, "the rule is too complex (more than %d conditions and operators)", DYNRULE_MAX_NODES);
        return -1;
    }
    struct node *n = &p->nodes[p->nnodes];
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)kind;
    n->child = NO_NODE;
    n->next = NO_NODE;
    return (int)p->nnodes++;
}

static int enter(struct parser *p, size_t off)
{
    if (++p->depth > DYNRULE_MAX_DEPTH) {
        fail(p, off, "the rule nests deeper than %d levels", DYNRULE_MAX_DEPTH);
        return -1;
    }
    return 0;
}

/* Appends a literal's bytes to the arena (NUL-terminated); its offset, or -1. */
static long arena_begin(struct parser *p, size_t max)
{
    if (p->alen + max + 1 > p->acap) { /* cannot happen: acap covers every literal */
        fail(p, NO_COLUMN, "internal error: literal arena full");
        return -1;
    }
    return (long)p->alen;
}

/* The current T_STRING's value, unescaped, into the arena; *len its length. Offset, or -1. */
static long put_string(struct parser *p, size_t *len)
{
    const struct tok *t = &p->tok;
    const char *s = p->src + t->off;
    char q = s[0];
    long at = arena_begin(p, t->len);
    if (at < 0)
        return -1;
    char *o = p->arena + at;
    size_t n = 0;
    for (size_t k = 1; k + 1 < t->len; k++) {
        if (s[k] == '`' && k + 2 < t->len && (s[k + 1] == '"' || s[k + 1] == '\'' || s[k + 1] == '`'))
            k++;
        else if (q == '\'' && s[k] == '\'')
            k++; /* '' (the scanner saw a pair) */
        o[n++] = s[k];
    }
    o[n] = '\0';
    p->alen += n + 1;
    *len = n;
    return at;
}

/* The current T_WORD's text into the arena. */
static long put_word(struct parser *p, size_t *len)
{
    const struct tok *t = &p->tok;
    long at = arena_begin(p, t->len);
    if (at < 0)
        return -1;
    memcpy(p->arena + at, p->src + t->off, t->len);
    p->arena[at + (long)t->len] = '\0';
    p->alen += t->len + 1;
    *len = t->len;
    return at;
}

static bool tok_is_number(const struct parser *p)
{
    const struct tok *t = &p->tok;
    if (t->kind != T_WORD || !(p->src[t->off] >= '0' && p->src[t->off] <= '9'))
        return false;
    for (size_t k = 0; k < t->len; k++) {
        char c = p->src[t->off + k];
        if (!((c >= '0' && c <= '9') || c == '.'))
            return false;
    }
    return true;
}

/*
 * What -match may cost: glibc's matcher is about (expanded pattern size)^2
 * times the value's length, and a counted repetition x{n,m} expands x m
 * times; back-references backtrack exponentially. Returns 0, or -1 with the
 * error set, for a back-reference (\1 to \9 outside brackets), counted
 * repetitions that together add more than REGEX_MAX_REPEAT items, or a
 * repetition operator right after another ("a+++*", "a*{2}"): glibc's
 * regcomp takes time exponential in the length of such a run (found by
 * fuzz/fuzz_dynrule.c: 18 operators took over 10 s). One '?' after an
 * operator (the .NET lazy ".*?") stays accepted.
 */
#define REGEX_MAX_REPEAT 256
#define REGEX_MAX_GROUPS 64

static size_t skip_bracket(const char *pat, size_t n, size_t i)
{
    i++; /* '[' */
    if (i < n && pat[i] == '^')
        i++;
    if (i < n && pat[i] == ']')
        i++;
    while (i < n && pat[i] != ']') {
        if (pat[i] == '[' && i + 1 < n && (pat[i + 1] == ':' || pat[i + 1] == '.' || pat[i + 1] == '=')) {
            char delim = pat[i + 1];
            i += 2;
            while (i < n && !(pat[i] == delim && i + 1 < n && pat[i + 1] == ']'))
                i++;
            if (i < n)
                i += 2;
        } else {
            i++;
        }
    }
    return i < n ? i + 1 : n;
}

/*
 * "{m}", "{m,}", "{m,n}" or "{,n}" at pat[i]: the largest count it allows
 * (m + 1 for "{m,}"), *end after it; 0 if it is not one (a literal '{').
 */
static size_t brace_bound(const char *pat, size_t n, size_t i, size_t *end)
{
    size_t k = i + 1, m = 0, hi = 0, digits = 0, hdigits = 0;
    bool comma = false;
    while (k < n && pat[k] >= '0' && pat[k] <= '9' && digits < 6) {
        m = m * 10 + (size_t)(pat[k++] - '0');
        digits++;
    }
    if (k < n && pat[k] == ',') {
        comma = true;
        k++;
        while (k < n && pat[k] >= '0' && pat[k] <= '9' && hdigits < 6) {
            hi = hi * 10 + (size_t)(pat[k++] - '0');
            hdigits++;
        }
    }
    if ((!digits && !comma) || k >= n || pat[k] != '}')
        return 0;
    *end = k + 1;
    if (!comma)
        return m;
    return hdigits ? (hi > m ? hi : m) : m + 1; /* glibc reads "{,n}" as "{0,n}" */
}

static int regex_check(struct parser *p, size_t off, const char *pat, size_t n)
{
    size_t sum[REGEX_MAX_GROUPS + 1] = {0}, last = 0, extra = 0;
    int d = 0;
    size_t i = 0;
    int quant = 0; /* 0: no operator just before; 1: one; 2: one and its lazy '?' */
    while (i < n) {
        char c = pat[i];
        size_t end = 0, bound = 0;
        bool is_quant = c == '*' || c == '+' || c == '?' || (c == '{' && (bound = brace_bound(pat, n, i, &end)) != 0);
        if (is_quant && quant && !(quant == 1 && c == '?')) {
            fail(p, off, "regular expression too complex (a repetition operator right after another, as in a++; "
                         "a single lazy '?' as in .*? is fine)");
            return -1;
        }
        quant = is_quant ? quant + 1 : 0;
        if (c == '\\' && i + 1 < n && pat[i + 1] >= '1' && pat[i + 1] <= '9') {
            fail(p, off, "back-references (\\%c) are not supported in regular expressions", pat[i + 1]);
            return -1;
        }
        if (c == '\\') {
            i += i + 1 < n ? 2 : 1;
            last = 1;
        } else if (c == '[') {
            i = skip_bracket(pat, n, i);
            last = 1;
        } else if (c == '(') {
            if (d == REGEX_MAX_GROUPS) {
                fail(p, off, "regular expression too complex (more than %d nested groups)", REGEX_MAX_GROUPS);
                return -1;
            }
            sum[++d] = 0;
            last = 0;
            i++;
            continue;
        } else if (c == ')' && d > 0) {
            last = sum[d--];
            i++;
        } else if (c == '|') {
            last = 0;
            i++;
            continue;
        } else if (c == '*' || c == '+' || c == '?') {
            i++;
            continue;
        } else if (c == '{' && bound != 0) {
            i = end;
            if (bound > 1 && last > 0) {
                if (bound - 1 > REGEX_MAX_REPEAT || last > REGEX_MAX_REPEAT ||
                    (extra += last * (bound - 1)) > REGEX_MAX_REPEAT) {
                    fail(p, off,
                         "regular expression too complex (counted repetitions such as {n,m} may add at "
                         "most %d items)",
                         REGEX_MAX_REPEAT);
                    return -1;
                }
                sum[d] += last * (bound - 1);
                last *= bound;
            }
            continue;
        } else {
            last = 1;
            i++;
        }
        sum[d] += last;
    }
    return 0;
}

/*
 * Rewrites \d and \D outside bracket expressions to [0-9] and [^0-9] (.NET
 * habits in POSIX ERE). Caller frees; NULL when out of memory.
 */
static char *regex_translate(const char *pat, size_t n)
{
    char *out = malloc(3 * n + 1);
    if (!out)
        return NULL;
    size_t i = 0, o = 0;
    while (i < n) {
        char c = pat[i];
        if (c == '\\' && i + 1 < n) {
            if (pat[i + 1] == 'd' || pat[i + 1] == 'D') {
                const char *rep = pat[i + 1] == 'd' ? "[0-9]" : "[^0-9]";
                memcpy(out + o, rep, strlen(rep));
                o += strlen(rep);
            } else {
                out[o++] = c;
                out[o++] = pat[i + 1];
            }
            i += 2;
        } else if (c == '[') {
            out[o++] = pat[i++];
            if (i < n && pat[i] == '^')
                out[o++] = pat[i++];
            if (i < n && pat[i] == ']')
                out[o++] = pat[i++];
            while (i < n && pat[i] != ']') {
                if (pat[i] == '[' && i + 1 < n && (pat[i + 1] == ':' || pat[i + 1] == '.' || pat[i + 1] == '=')) {
                    char delim = pat[i + 1];
                    out[o++] = pat[i++];
                    out[o++] = pat[i++];
                    while (i < n && !(pat[i] == delim && i + 1 < n && pat[i + 1] == ']'))
                        out[o++] = pat[i++];
                    if (i < n) {
                        out[o++] = pat[i++];
                        out[o++] = pat[i++];
                    }
                } else {
                    out[o++] = pat[i++];
                }
            }
            if (i < n)
                out[o++] = pat[i++];
        } else {
            out[o++] = pat[i++];
        }
    }
    out[o] = '\0';
    return out;
}

/* Compiles node n's pattern (arena offset at, len bytes) for -match / -notMatch. */
static int compile_regex(struct parser *p, int n, size_t off, long at, size_t len)
{
    if (regex_check(p, off, p->arena + at, len))
        return -1;
    char *pat = regex_translate(p->arena + at, len);
    regex_t *re = malloc(sizeof *re);
    if (!pat || !re) {
        free(pat);
        free(re);
        fail_nomem(p);
        return -1;
    }
    int rc = regcomp(re, pat, REG_EXTENDED | REG_ICASE | REG_NOSUB);
    free(pat);
    if (rc != 0) {
        char why[128], e[ECHO_LEN];
        regerror(rc, re, why, sizeof why);
        free(re);
        if (rc == REG_ESPACE)
            fail_nomem(p);
        else
            fail(p, off, "invalid regular expression (%s)", echo(why, strlen(why), e));
        return -1;
    }
    p->nodes[n].re = re;
    return 0;
}

/* true/false as a string literal (bare or quoted) for user.accountEnabled: 1, 0, or -1. */
static int bool_literal(const char *s, size_t n)
{
    if (ascii_ieq(s, n, "true"))
        return 1;
    if (ascii_ieq(s, n, "false"))
        return 0;
    return -1;
}

/* The value after a comparison operator, into node n. */
static int parse_value(struct parser *p, int n, enum dynrule_type type)
{
    struct node *nd = &p->nodes[n];
    const struct tok v = p->tok;
    char f[ECHO_LEN + 2];
    unsigned op = nd->op;
    size_t len = 0;
    long at = -1;
    if (v.kind == T_WORD && ascii_ieq(p->src + v.off, v.len, "null")) {
        if (op != OP_EQ && op != OP_NE) {
            fail(p, v.off, "null can only be compared with -eq or -ne, not -%s", op_names[op]);
            return -1;
        }
        nd->value = V_NULL;
    } else if (type == DYNRULE_T_BOOL) {
        int b = -1;
        if (v.kind == T_STRING) {
            if ((at = put_string(p, &len)) < 0)
                return -1;
            b = bool_literal(p->arena + at, len);
            p->alen = (size_t)at; /* not kept */
        } else if (v.kind == T_WORD) {
            b = bool_literal(p->src + v.off, v.len);
        }
        if (b < 0) {
            fail(p, v.off, "user.accountEnabled is compared with true, false or null, found %s", found(p, &v, f));
            return -1;
        }
        nd->value = b ? V_TRUE : V_FALSE;
    } else {
        if (v.kind == T_STRING)
            at = put_string(p, &len);
        else if (v.kind == T_WORD && (bool_literal(p->src + v.off, v.len) >= 0 || tok_is_number(p)))
            at = put_word(p, &len);
        else {
            fail(p, v.off, "expected a value (a quoted string, true, false or null) after -%s, found %s", op_names[op],
                 found(p, &v, f));
            return -1;
        }
        if (at < 0)
            return -1;
        nd->value = V_STRING;
        nd->str = (uint32_t)at;
        nd->len = (uint32_t)len;
        if (op == OP_MATCH || op == OP_NMATCH) {
            if (compile_regex(p, n, v.off, at, len))
                return -1;
        } else {
            fold_inplace(p->arena + at, len);
        }
    }
    return advance(p);
}

/* The bracketed list after -in / -notIn, into node n. */
static int parse_list(struct parser *p, int n)
{
    char f[ECHO_LEN + 2];
    const struct tok open = p->tok;
    if (open.kind != T_LBRACK) {
        fail(p, open.off, "expected a list such as [\"a\", \"b\"] after -%s, found %s", op_names[p->nodes[n].op],
             found(p, &open, f));
        return -1;
    }
    if (advance(p))
        return -1;
    if (p->tok.kind == T_RBRACK) {
        fail(p, p->tok.off, "the list is empty");
        return -1;
    }
    size_t first = p->alen, count = 0;
    for (;;) {
        const struct tok v = p->tok;
        size_t len = 0;
        long at;
        if (v.kind == T_STRING) {
            at = put_string(p, &len);
        } else if (v.kind == T_WORD && (bool_literal(p->src + v.off, v.len) >= 0 || tok_is_number(p))) {
            at = put_word(p, &len);
        } else if (v.kind == T_WORD && ascii_ieq(p->src + v.off, v.len, "null")) {
            fail(p, v.off, "a list holds strings, not null");
            return -1;
        } else {
            fail(p, v.off, "expected a quoted string in the list, found %s", found(p, &v, f));
            return -1;
        }
        if (at < 0)
            return -1;
        fold_inplace(p->arena + at, len);
        count++;
        if (advance(p))
            return -1;
        if (p->tok.kind == T_RBRACK)
            break;
        if (p->tok.kind != T_COMMA) {
            fail(p, p->tok.off, "expected ',' or ']' in the list opened at column %zu, found %s", column(p, open.off),
                 found(p, &p->tok, f));
            return -1;
        }
        if (advance(p))
            return -1;
    }
    struct node *nd = &p->nodes[n];
    nd->value = V_LIST;
    nd->str = (uint32_t)first;
    nd->len = (uint32_t)count;
    return advance(p);
}

/* "user.<name>" at the current token: index in user_props, or -1. */
static int find_property(struct parser *p)
{
    const struct tok *t = &p->tok;
    char f[ECHO_LEN + 2], e[ECHO_LEN];
    if (t->len > 5 && ascii_ieq(p->src + t->off, 5, "user.")) {
        for (size_t k = 0; k < USER_PROP_COUNT; k++)
            if (ascii_ieq(p->src + t->off + 5, t->len - 5, user_props[k].name))
                return (int)k;
        fail(p, t->off, "'%s' is not a supported user property", echo(p->src + t->off, t->len, e));
        return -1;
    }
    fail(p, t->off, "expected a user property such as user.department, found %s", found(p, t, f));
    return -1;
}

static int parse_or(struct parser *p, bool lam);
static int parse_primary(struct parser *p, bool lam);

/* property op value; lam: inside -any/-all, where the subject is "_". */
static int parse_condition(struct parser *p, bool lam)
{
    char f[ECHO_LEN + 2], e[ECHO_LEN];
    const struct tok subj = p->tok;
    bool is_item = subj.kind == T_WORD && subj.len == 1 && p->src[subj.off] == '_';
    int prop = SUBJECT_ITEM;
    enum dynrule_type type = DYNRULE_T_STRING;
    if (subj.kind != T_WORD || (lam && !is_item)) {
        if (lam)
            fail(p, subj.off, "inside -any/-all conditions test '_' (each item), such as _ -contains \"x\"; found %s",
                 found(p, &subj, f));
        else
            fail(p, subj.off, "expected a condition such as user.department -eq \"Sales\", found %s",
                 found(p, &subj, f));
        return -1;
    }
    if (!lam) {
        if (is_item) {
            fail(p, subj.off, "'_' can only be used inside -any (...) or -all (...)");
            return -1;
        }
        if ((prop = find_property(p)) < 0)
            return -1;
        type = user_props[prop].type;
    }
    if (advance(p))
        return -1;
    const struct tok optok = p->tok;
    const char *subject = echo(p->src + subj.off, subj.len, e);
    int op = tok_op(p);
    if (op < 0) {
        if ((optok.kind == T_WORD || optok.kind == T_DASH) && tok_logical(p) == KW_NONE)
            fail(p, optok.off, "unknown operator %s", found(p, &optok, f));
        else
            fail(p, optok.off, "expected an operator such as -eq after '%s', found %s", subject, found(p, &optok, f));
        return -1;
    }
    if (op == OP_ANY || op == OP_ALL) {
        if (lam) {
            fail(p, optok.off, "-%s cannot be used inside -any/-all", op_names[op]);
            return -1;
        }
        if (type != DYNRULE_T_STRING_SET) {
            fail(p, optok.off, "-%s needs a multi-valued property (user.otherMails, user.proxyAddresses), not '%s'",
                 op_names[op], subject);
            return -1;
        }
    } else if (type == DYNRULE_T_BOOL && op != OP_EQ && op != OP_NE) {
        fail(p, optok.off, "-%s cannot be used with the boolean user.%s (use -eq or -ne)", op_names[op],
             user_props[prop].name);
        return -1;
    }
    if (advance(p))
        return -1;
    int n = new_node(p, optok.off, N_CMP);
    if (n < 0)
        return -1;
    p->nodes[n].op = (uint8_t)op;
    p->nodes[n].prop = (uint8_t)prop;
    if (op == OP_ANY || op == OP_ALL) {
        p->nodes[n].kind = op == OP_ANY ? N_ANY : N_ALL;
        if (enter(p, p->tok.off))
            return -1;
        int c = p->tok.kind == T_LPAREN ? parse_primary(p, true) : parse_condition(p, true);
        if (c < 0)
            return -1;
        p->depth--;
        p->nodes[n].child = (uint16_t)c;
        return n;
    }
    if (op == OP_IN || op == OP_NIN)
        return parse_list(p, n) ? -1 : n;
    return parse_value(p, n, type) ? -1 : n;
}

static int parse_primary(struct parser *p, bool lam)
{
    if (p->tok.kind != T_LPAREN)
        return parse_condition(p, lam);
    size_t open = p->tok.off;
    if (enter(p, open) || advance(p))
        return -1;
    int c = parse_or(p, lam);
    if (c < 0)
        return -1;
    if (p->tok.kind != T_RPAREN) {
        char f[ECHO_LEN + 2];
        fail(p, p->tok.off, "expected ')' to close the '(' at column %zu, found %s", column(p, open),
             found(p, &p->tok, f));
        return -1;
    }
    p->depth--;
    return advance(p) ? -1 : c;
}

static int parse_not(struct parser *p, bool lam)
{
    if (tok_logical(p) != KW_NOT)
        return parse_primary(p, lam);
    size_t off = p->tok.off;
    if (enter(p, off) || advance(p))
        return -1;
    int c = parse_not(p, lam);
    if (c < 0)
        return -1;
    p->depth--;
    int n = new_node(p, off, N_NOT);
    if (n < 0)
        return -1;
    p->nodes[n].child = (uint16_t)c;
    return n;
}

/* operand { keyword operand }: one N_AND / N_OR node over all the operands. */
static int parse_chain(struct parser *p, bool lam, enum kw keyword, enum node_kind kind,
                       int (*operand)(struct parser *, bool))
{
    int first = operand(p, lam);
    if (first < 0 || tok_logical(p) != keyword)
        return first;
    int n = new_node(p, p->tok.off, kind);
    if (n < 0)
        return -1;
    p->nodes[n].child = (uint16_t)first;
    int last = first;
    while (tok_logical(p) == keyword) {
        if (advance(p))
            return -1;
        int c = operand(p, lam);
        if (c < 0)
            return -1;
        p->nodes[last].next = (uint16_t)c;
        last = c;
    }
    return n;
}

static int parse_and(struct parser *p, bool lam)
{
    return parse_chain(p, lam, KW_AND, N_AND, parse_not);
}

static int parse_or(struct parser *p, bool lam)
{
    return parse_chain(p, lam, KW_OR, N_OR, parse_and);
}

/* Checks encoding and length, then parses the whole rule: the root node, or -1. */
static int parse_rule(struct parser *p)
{
    size_t chars = 0;
    for (size_t i = 0; i < p->len;) {
        size_t l;
        if (u8_decode(p->src + i, p->len - i, &l) >= U8_BAD) {
            fail(p, i, "invalid UTF-8 (byte \\x%02X)", (unsigned)(unsigned char)p->src[i]);
            return -1;
        }
        i += l;
        chars++;
    }
    if (chars > DYNRULE_MAX_CHARS) {
        fail(p, NO_COLUMN, "the rule is longer than %d characters (it has %zu)", DYNRULE_MAX_CHARS, chars);
        return -1;
    }
    if (advance(p))
        return -1;
    if (p->tok.kind == T_EOF) {
        fail(p, NO_COLUMN, "the rule is empty");
        return -1;
    }
    int root = parse_or(p, false);
    if (root < 0)
        return -1;
    if (p->tok.kind != T_EOF) {
        char f[ECHO_LEN + 2];
        if (p->tok.kind == T_RPAREN)
            fail(p, p->tok.off, "unexpected ')' (no '(' to close)");
        else
            fail(p, p->tok.off, "expected -and, -or or the end of the rule, found %s", found(p, &p->tok, f));
        return -1;
    }
    return root;
}

static void free_regexes(struct node *nodes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (nodes[i].re) {
            regfree(nodes[i].re);
            free(nodes[i].re);
            nodes[i].re = NULL;
        }
    }
}

int dynrule_parse(const char *rule, struct dynrule **out, char *err, size_t errlen)
{
    set_message(err, errlen, "");
    if (out)
        *out = NULL;
    if (!rule || !out) {
        set_message(err, errlen, "membershipRule: missing");
        return RG_EINVAL;
    }
    size_t max_bytes = (size_t)DYNRULE_MAX_CHARS * 4;
    size_t len = strnlen(rule, max_bytes + 1);
    if (len > max_bytes) {
        char msg[96];
        snprintf(msg, sizeof msg, "membershipRule: the rule is longer than %d characters", DYNRULE_MAX_CHARS);
        set_message(err, errlen, msg);
        return RG_EINVAL;
    }
    size_t acap = 2 * len + 2;
    struct parser *p = malloc(sizeof *p + acap);
    if (!p) {
        set_message(err, errlen, "membershipRule: out of memory");
        return RG_ENOMEM;
    }
    memset(p, 0, sizeof *p);
    p->src = rule;
    p->len = len;
    p->err = err;
    p->errlen = errlen;
    p->acap = acap;
    int root = parse_rule(p);
    struct dynrule *r = NULL;
    if (root >= 0) {
        size_t nodes_bytes = p->nnodes * sizeof(struct node);
        r = malloc(sizeof *r + nodes_bytes + p->alen);
        if (!r)
            fail_nomem(p);
    }
    if (!r) {
        int rc = p->rc ? p->rc : RG_EINVAL;
        free_regexes(p->nodes, p->nnodes);
        free(p);
        return rc;
    }
    memcpy(r->nodes, p->nodes, p->nnodes * sizeof(struct node));
    char *arena = (char *)(r->nodes + p->nnodes);
    memcpy(arena, p->arena, p->alen);
    r->arena = arena;
    r->nnodes = p->nnodes;
    r->root = (unsigned)root;
    free(p);
    *out = r;
    return 0;
}

void dynrule_free(struct dynrule *rule)
{
    if (!rule)
        return;
    free_regexes(rule->nodes, rule->nnodes);
    free(rule);
}

/* ---- evaluation ---- */

/* The user's value of a property: the key with the exact casing first, else any casing. NULL if none. */
static const json_t *get_prop(const json_t *user, const struct dynrule_property *pr)
{
    if (!json_is_object(user))
        return NULL;
    const json_t *v = json_object_get(user, pr->key);
    if (v)
        return v;
    /* jansson's iterator takes a non-const object; it only reads it. */
    json_t *obj = (json_t *)user;
    for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
        const char *k = json_object_iter_key(it);
        if (ascii_ieq(k, strlen(k), pr->key))
            return json_object_iter_value(it);
    }
    return NULL;
}

/* The positive form of n's operator on the string (s, sn). */
static bool test_positive(const struct dynrule *r, const struct node *n, const char *s, size_t sn)
{
    const char *lit = r->arena + n->str;
    switch (n->op & ~1u) {
    case OP_EQ:
        return ci_eq(s, sn, lit, n->len);
    case OP_STARTS:
        return ci_prefix(s, sn, lit, n->len);
    case OP_ENDS:
        return ci_ends(s, sn, lit, n->len);
    case OP_CONTAINS:
        return ci_contains(s, sn, lit, n->len);
    case OP_MATCH:
        return strlen(s) == sn && regexec(n->re, s, 0, NULL, 0) == 0;
    case OP_IN:
        for (uint32_t k = 0; k < n->len; k++) {
            size_t l = strlen(lit);
            if (ci_eq(s, sn, lit, l))
                return true;
            lit += l + 1;
        }
        return false;
    default:
        return false;
    }
}

/* n on one string value v (JSON string, else null). */
static bool test_string(const struct dynrule *r, const struct node *n, const json_t *v)
{
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    if (n->value == V_NULL)
        return (n->op == OP_EQ) == (s == NULL);
    bool hit = s && test_positive(r, n, s, json_string_length(v));
    return hit != op_negated(n->op);
}

static bool test_bool(const struct node *n, const json_t *v)
{
    int b = json_is_true(v) ? 1 : json_is_false(v) ? 0 : -1;
    if (n->value == V_NULL)
        return (n->op == OP_EQ) == (b < 0);
    bool hit = b >= 0 && (b == 1) == (n->value == V_TRUE);
    return n->op == OP_NE ? !hit : hit;
}

/* The items of a multi-valued property: an array's, a lone string, or none. */
static size_t set_size(const json_t *v)
{
    return json_is_array(v) ? json_array_size(v) : json_is_string(v) ? 1 : 0;
}

static const json_t *set_item(const json_t *v, size_t i)
{
    return json_is_array(v) ? json_array_get(v, i) : v;
}

static bool eval(const struct dynrule *r, unsigned i, const json_t *user, const json_t *item);

static bool test_set(const struct dynrule *r, const struct node *n, const json_t *v)
{
    size_t count = set_size(v);
    if (n->value == V_NULL)
        return (n->op == OP_EQ) == (count == 0);
    bool any = false;
    for (size_t k = 0; k < count && !any; k++) {
        const json_t *it = set_item(v, k);
        any = json_is_string(it) && test_positive(r, n, json_string_value(it), json_string_length(it));
    }
    return any != op_negated(n->op);
}

static bool eval(const struct dynrule *r, unsigned i, const json_t *user, const json_t *item)
{
    const struct node *n = &r->nodes[i];
    switch (n->kind) {
    case N_OR:
        for (unsigned c = n->child; c != NO_NODE; c = r->nodes[c].next)
            if (eval(r, c, user, item))
                return true;
        return false;
    case N_AND:
        for (unsigned c = n->child; c != NO_NODE; c = r->nodes[c].next)
            if (!eval(r, c, user, item))
                return false;
        return true;
    case N_NOT:
        return !eval(r, n->child, user, item);
    case N_CMP: {
        if (n->prop == SUBJECT_ITEM)
            return test_string(r, n, item);
        const struct dynrule_property *pr = &user_props[n->prop];
        const json_t *v = get_prop(user, pr);
        switch (pr->type) {
        case DYNRULE_T_BOOL:
            return test_bool(n, v);
        case DYNRULE_T_STRING_SET:
            return test_set(r, n, v);
        case DYNRULE_T_STRING:
            break;
        }
        return test_string(r, n, v);
    }
    case N_ANY:
    case N_ALL: {
        const json_t *v = get_prop(user, &user_props[n->prop]);
        size_t count = set_size(v);
        bool want = n->kind == N_ANY;
        for (size_t k = 0; k < count; k++)
            if (eval(r, n->child, user, set_item(v, k)) == want)
                return want;
        return !want;
    }
    default:
        return false;
    }
}

bool dynrule_match(const struct dynrule *rule, const json_t *user)
{
    if (!rule)
        return false;
    return eval(rule, rule->root, user, NULL);
}
