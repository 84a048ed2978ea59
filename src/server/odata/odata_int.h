/*
 * odata_int.h: what the three files of the OData module share, not API:
 * the parsed $filter tree and $orderby keys (built by odata_filter.c, read
 * by odata.c and odata_sql.c), the query's memory, error reporting, and the
 * string and time helpers both evaluation and SQL need.
 */
#ifndef RG_ODATA_INT_H
#define RG_ODATA_INT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/odata/odata.h"

enum odata_kind {
    ODATA_N_AND, /* kids: two or more operands, linked by next */
    ODATA_N_OR,
    ODATA_N_NOT,  /* kids: the operand */
    ODATA_N_CMP,  /* path cmp lit */
    ODATA_N_IN,   /* path in (lit, lit->next, ...) */
    ODATA_N_FUNC, /* func(path, lit) */
    ODATA_N_ANY,  /* path/any(var: kids); var and kids NULL for any() */
    ODATA_N_ALL,  /* path/all(var: kids) */
};

enum odata_cmp { ODATA_EQ, ODATA_NE, ODATA_GT, ODATA_GE, ODATA_LT, ODATA_LE };
enum odata_func { ODATA_F_STARTSWITH, ODATA_F_ENDSWITH, ODATA_F_CONTAINS };
enum odata_lit_kind { ODATA_L_NULL, ODATA_L_BOOL, ODATA_L_INT, ODATA_L_REAL, ODATA_L_STRING, ODATA_L_DATETIME };

struct odata_lit {
    enum odata_lit_kind kind;
    bool b;        /* BOOL */
    long long i;   /* INT */
    double d;      /* INT and REAL */
    int64_t ticks; /* DATETIME: 100 ns units since 1970-01-01T00:00:00Z */
    const char *s; /* STRING: the value; INT, REAL, DATETIME: the text as written */
    size_t len;
    const size_t *kmp;      /* contains(): failure table of the (folded) value, len entries */
    struct odata_lit *next; /* the next value of an in-list */
};

struct odata_path {
    const struct odata_prop *prop; /* the root property; NULL when the root is the lambda variable */
    const char **segs;             /* nested segments, as written */
    size_t nsegs;
    enum odata_type type; /* the hint for what the path holds (ODATA_T_ANY under nested segments) */
    bool cs;              /* strings compare byte for byte */
    const char *text;     /* canonical "target/groupId" (or "t/x" under a lambda): messages, format, SQL map */
};

struct odata_node {
    enum odata_kind kind;
    enum odata_cmp cmp;
    enum odata_func func;
    struct odata_path path;
    struct odata_lit *lit;   /* CMP, FUNC: the value; IN: the first value */
    const char *var;         /* ANY, ALL: the lambda variable */
    struct odata_node *kids; /* AND, OR: first operand; NOT, ANY, ALL: the operand */
    struct odata_node *next; /* next operand of the parent AND/OR */
};

struct odata_key {
    struct odata_path path;
    bool desc;
};

/* Returns x's code when it is not 0. */
#define TRY(x)                                                                                                         \
    do {                                                                                                               \
        int rc_ = (x);                                                                                                 \
        if (rc_)                                                                                                       \
            return rc_;                                                                                                \
    } while (0)

/* The query's memory: every block is freed by odata_mem_free. Zeroed; NULL when out of memory. */
void *odata_alloc(struct odata_query *q, size_t n);
char *odata_strndup(struct odata_query *q, const char *s, size_t n);
void odata_mem_free(struct odata_mem *m);

/*
 * Fills err (status 400 "BadRequest", or 500 for RG_ENOMEM) with the
 * formatted message, bytes that are not valid UTF-8 and control characters
 * written as \xNN, and returns rc. "%.*s" of input is safe.
 */
int odata_fail(struct odata_error *err, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Input text shown in messages is cut to this many bytes. */
#define ODATA_ECHO 64

/* True if (s, n) is valid UTF-8 (no overlong forms, no surrogates). */
bool odata_utf8_valid(const char *s, size_t n);
/* ASCII case folding. */
static inline unsigned char odata_fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}
/* True if a (n bytes) equals the C string b without regard to ASCII case. */
bool odata_ci_eqn(const char *a, size_t n, const char *b);
/* The property of coll named (name, n) without regard to case, or NULL. */
const struct odata_prop *odata_find_prop(const struct odata_collection *coll, const char *name, size_t n);
/*
 * Parses an ISO-8601 date ("2024-01-31") or date and time ("2024-01-31T10:00",
 * seconds, fraction and "Z" or "+hh:mm"/"-hh:mm" optional; no offset = UTC)
 * into 100 ns ticks since the epoch. 0 or RG_EINVAL.
 */
int odata_instant_parse(const char *s, size_t n, int64_t *ticks);

/* odata_filter.c: parse one option's decoded value (s, n) into q. 0, or an error with err filled. */
int odata_parse_filter(struct odata_query *q, const char *s, size_t n, struct odata_error *err);
int odata_parse_orderby(struct odata_query *q, const char *s, size_t n, struct odata_error *err);
#endif
