/* router.c: matching request paths against route tables, and query strings (http.h). */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "server/http/http.h"

static int hexval(char c);

/* Decodes %XX escapes of a path segment in place ('+' stays '+'); its length, or -1 if malformed. */
static int path_decode(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '%') {
            int h = hexval(p[1]), l = h >= 0 ? hexval(p[2]) : -1;
            if (h < 0 || l < 0 || (h == 0 && l == 0))
                return -1;
            *o++ = (char)(h * 16 + l);
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return (int)(o - s);
}

/* Splits the next segment of *p (after a leading '/'). Returns its length, or -1 at the end. */
static int next_segment(const char **p, const char **seg)
{
    if (**p != '/')
        return -1;
    (*p)++;
    *seg = *p;
    const char *slash = strchr(*p, '/');
    size_t n = slash ? (size_t)(slash - *p) : strlen(*p);
    *p += n;
    return (int)n;
}

static bool match_one(const char *pattern, const char *path, struct http_request *req, char *scratch,
                      size_t scratch_len)
{
    const char *pp = pattern, *sp = path;
    size_t used = 0, nparams = 0;
    const char *version = NULL;
    for (;;) {
        const char *pseg = NULL, *sseg = NULL;
        int pn = next_segment(&pp, &pseg);
        int sn = next_segment(&sp, &sseg);
        if (pn < 0 || sn < 0) {
            /* tolerate one trailing slash on the request path */
            if (pn < 0 && sn == 0 && *sp == '\0')
                sn = -1;
            if (pn != sn)
                return false;
            break;
        }
        if (pn == 3 && !memcmp(pseg, "{v}", 3)) {
            /* Graph matches path segments case-insensitively ("/Beta/", ".../Members") */
            if (sn == 4 && !strncasecmp(sseg, "beta", 4))
                version = "beta";
            else if (sn == 4 && !strncasecmp(sseg, "v1.0", 4))
                version = "v1.0";
            else
                return false;
        } else if (pn == 2 && !memcmp(pseg, "{}", 2)) {
            if (sn == 0 || nparams == HTTP_MAX_PARAMS || used + (size_t)sn + 1 > scratch_len)
                return false;
            memcpy(scratch + used, sseg, (size_t)sn);
            scratch[used + (size_t)sn] = '\0';
            if (path_decode(scratch + used) <= 0) /* malformed %-escape, or an empty/NUL segment */
                return false;
            req->params[nparams++] = scratch + used;
            used += (size_t)sn + 1;
        } else if (pn != sn || strncasecmp(pseg, sseg, (size_t)pn)) {
            return false;
        }
    }
    req->nparams = nparams;
    req->version = version;
    return true;
}

enum http_match http_route_match(const struct http_route *routes, size_t nroutes, struct http_request *req,
                                 char *scratch, size_t scratch_len, const struct http_route **out)
{
    bool path_seen = false;
    for (size_t i = 0; i < nroutes; i++) {
        if (!match_one(routes[i].pattern, req->path, req, scratch, scratch_len))
            continue;
        path_seen = true;
        if (strcmp(routes[i].method, req->method))
            continue;
        req->route = routes[i].pattern;
        req->route_arg = routes[i].arg;
        *out = &routes[i];
        return HTTP_MATCH_OK;
    }
    req->nparams = 0;
    return path_seen ? HTTP_MATCH_BAD_METHOD : HTTP_MATCH_NO_ROUTE;
}

/* Appends n bytes to out[*o]; -1 when they do not fit with a NUL. */
static int put(char *out, size_t outlen, size_t *o, const char *s, size_t n)
{
    if (*o + n >= outlen)
        return -1;
    memcpy(out + *o, s, n);
    *o += n;
    return 0;
}

/* Reads one byte of a segment at s[*i]: '%27', '%28' and '%29' count as the quote and parentheses they encode. */
static char seg_byte(const char *s, size_t n, size_t *i)
{
    if (s[*i] == '%' && *i + 2 < n && s[*i + 1] == '2' && (s[*i + 2] == '7' || s[*i + 2] == '8' || s[*i + 2] == '9')) {
        char c = s[*i + 2] == '7' ? '\'' : s[*i + 2] == '8' ? '(' : ')';
        *i += 3;
        return c;
    }
    return s[(*i)++];
}

/* Rewrites one segment "name(key)" into "name/key" (see http_path_normalize); 1 if rewritten, 0 if left as is. */
static int key_segment(const char *seg, size_t n, char *out, size_t outlen, size_t *o)
{
    char tmp[1024];
    size_t tn = 0;
    for (size_t i = 0; i < n && tn < sizeof tmp;)
        tmp[tn++] = seg_byte(seg, n, &i);
    const char *open = memchr(tmp, '(', tn);
    if (!open || open == tmp || tn >= sizeof tmp || tmp[tn - 1] != ')')
        return 0;
    size_t name_len = (size_t)(open - tmp);
    const char *key = open + 1;
    size_t klen = tn - name_len - 2;
    if (memchr(key, '(', klen) || memchr(key, ')', klen) || memchr(key, '=', klen))
        return 0; /* composite or named keys: not ours to rewrite */
    /* A lone quote inside a quoted key: not a key literal, the segment is copied as sent. Checked
     * before writing, so that a buffer that holds the result is never refused for the longer
     * rewrite tried first (found by fuzz/fuzz_http.c). */
    if (klen >= 2 && key[0] == '\'' && key[klen - 1] == '\'') {
        for (size_t i = 1; i + 1 < klen; i++) {
            if (key[i] != '\'')
                continue;
            if (key[i + 1] != '\'' || i + 2 >= klen)
                return 0;
            i++;
        }
    }
    size_t start = *o;
    if (put(out, outlen, o, tmp, name_len))
        return -1;
    if (klen == 0) /* a function call "fn()" is the segment "fn" */
        return 1;
    if (put(out, outlen, o, "/", 1))
        return -1;
    if (klen >= 2 && key[0] == '\'' && key[klen - 1] == '\'') {
        for (size_t i = 1; i + 1 < klen; i++) {
            if (key[i] == '\'') {
                if (key[i + 1] != '\'' || i + 2 >= klen) {
                    *o = start;
                    return 0; /* a lone quote inside: not a key literal */
                }
                i++;
                if (put(out, outlen, o, "%27", 3))
                    return -1;
            } else if (put(out, outlen, o, key + i, 1)) {
                return -1;
            }
        }
    } else if (memchr(key, '\'', klen)) {
        *o = start;
        return 0;
    } else if (put(out, outlen, o, key, klen)) {
        return -1;
    }
    if (*o == start + name_len + 1) {
        *o = start;
        return 0; /* "name('')": an empty key, left for the router to refuse */
    }
    return 1;
}

int http_path_normalize(const char *path, char *out, size_t outlen)
{
    size_t o = 0;
    const char *p = path;
    while (*p) {
        const char *slash = strchr(p + 1, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (*p == '/') {
            if (put(out, outlen, &o, "/", 1))
                return -1;
            p++;
            n--;
        }
        int rc = n ? key_segment(p, n, out, outlen, &o) : 0;
        if (rc < 0)
            return -1;
        if (rc == 0 && put(out, outlen, &o, p, n))
            return -1;
        p += n;
    }
    if (!outlen)
        return -1;
    out[o] = '\0';
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int http_url_decode(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '%') {
            int h = hexval(p[1]), l = h >= 0 ? hexval(p[2]) : -1;
            if (h < 0 || l < 0)
                return -1;
            *o++ = (char)(h * 16 + l);
            p += 2;
        } else if (*p == '+') {
            *o++ = ' ';
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return (int)(o - s);
}

int http_query_get(const char *query, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    const char *p = query;
    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', plen);
        size_t klen = eq ? (size_t)(eq - p) : plen;
        /* the key may itself be encoded ("%24top") */
        char key[64];
        if (klen < sizeof key) {
            memcpy(key, p, klen);
            key[klen] = '\0';
            if (http_url_decode(key) >= 0 && strlen(key) == nlen && !memcmp(key, name, nlen)) {
                size_t vlen = eq ? plen - klen - 1 : 0;
                if (vlen >= outlen)
                    return -1;
                memcpy(out, eq ? eq + 1 : "", vlen);
                out[vlen] = '\0';
                return http_url_decode(out) < 0 ? -1 : 1;
            }
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}
