/*
 * err.h: the one vocabulary of internal result codes. Internal functions
 * return 0 on success or one of these negative codes; HTTP status codes are
 * derived from them in one place (server/api/graph.c).
 */
#ifndef RG_ERR_H
#define RG_ERR_H
enum {
    RG_OK = 0,
    RG_ENOMEM = -1,    /* allocation failed */
    RG_ENOTFOUND = -2, /* no such object (or not in this tenant) */
    RG_EEXISTS = -3,   /* object already exists */
    RG_EINVAL = -4,    /* invalid input */
    RG_EIO = -5,       /* storage or system I/O failed */
    RG_ETOOBIG = -6,   /* input over a size limit */
    RG_EAUTH = -7,     /* missing or wrong credential */
    RG_EPERM = -8,     /* credential valid, role not allowed */
    RG_ECONFLICT = -9, /* precondition failed (If-Match) or a rule forbids it */
    RG_EFULL = -10,    /* storage full (disk or quota): nothing was written; retry once space returns */
};
/* Short English name of a code, for logs. Never NULL. */
const char *rg_err_name(int code);
#endif
