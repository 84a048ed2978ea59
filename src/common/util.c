/* util.c: time stamps, ids, hashing, tokens, durations and versions (util.h). */
#include "common/util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/err.h"

int64_t util_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t util_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void util_time_format(int64_t ms, char *out, size_t outlen)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03d0000Z", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

int util_time_parse(const char *s, int64_t *ms_out)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
        return RG_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1)
        return RG_EINVAL;
    const char *p = s + n;
    int64_t frac_ms = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (isdigit((unsigned char)*p)) {
            if (digits < 3)
                frac_ms = frac_ms * 10 + (*p - '0');
            digits++;
            p++;
        }
        if (!digits)
            return RG_EINVAL;
        for (; digits < 3; digits++)
            frac_ms *= 10;
    }
    if (!(strcmp(p, "Z") == 0 || strcmp(p, "+00:00") == 0))
        return RG_EINVAL;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    *ms_out = (int64_t)t * 1000 + frac_ms;
    return 0;
}

int util_uuid(char *out, size_t outlen)
{
    unsigned char b[16];
    if (outlen < UTIL_UUID_LEN + 1 || RAND_bytes(b, sizeof b) != 1)
        return RG_EIO;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, outlen, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
             b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return 0;
}

bool util_is_uuid(const char *s)
{
    if (!s || strlen(s) != UTIL_UUID_LEN)
        return false;
    for (int i = 0; i < UTIL_UUID_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

char *util_token(const char *prefix, size_t nbytes)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[64];
    if (nbytes == 0 || nbytes > sizeof raw || RAND_bytes(raw, (int)nbytes) != 1)
        return NULL;
    size_t plen = prefix ? strlen(prefix) : 0;
    size_t olen = (nbytes * 8 + 5) / 6;
    char *out = malloc(plen + olen + 1);
    if (!out)
        return NULL;
    if (plen)
        memcpy(out, prefix, plen);
    unsigned acc = 0;
    int bits = 0;
    size_t o = plen;
    for (size_t i = 0; i < nbytes; i++) {
        acc = (acc << 8) | raw[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = alphabet[(acc >> bits) & 63];
        }
    }
    if (bits > 0)
        out[o++] = alphabet[(acc << (6 - bits)) & 63];
    out[o] = '\0';
    OPENSSL_cleanse(raw, sizeof raw);
    return out;
}

void util_hex(const void *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

void util_sha256_hex(const void *p, size_t n, char *out, size_t outlen)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32 && 2 * i + 2 < outlen; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

bool util_secure_streq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return false;
    return CRYPTO_memcmp(a, b, la) == 0;
}

/* Reads "<number><unit>" pieces of a duration; number may have a fraction. */
static int duration_part(const char **pp, double *num, char *unit)
{
    const char *p = *pp;
    if (!isdigit((unsigned char)*p))
        return RG_EINVAL;
    char *end;
    double v = strtod(p, &end);
    if (end == p || !*end || !isfinite(v))
        return RG_EINVAL;
    *num = v;
    *unit = *end;
    *pp = end + 1;
    return 0;
}

int util_duration_parse(const char *s, double *seconds_out)
{
    if (!s)
        return RG_EINVAL;
    double sign = 1;
    const char *p = s;
    if (*p == '-') {
        sign = -1;
        p++;
    }
    if (*p++ != 'P' || !*p)
        return RG_EINVAL;
    static const char date_units[] = "YMWD", time_units[] = "HMS";
    static const double date_secs[] = {365 * 86400.0, 30 * 86400.0, 7 * 86400.0, 86400.0};
    static const double time_secs[] = {3600.0, 60.0, 1.0};
    double total = 0;
    int last = -1, parts = 0;
    while (*p && *p != 'T') {
        double v;
        char u;
        if (duration_part(&p, &v, &u))
            return RG_EINVAL;
        const char *k = strchr(date_units, u);
        if (!k || !u || (int)(k - date_units) <= last)
            return RG_EINVAL;
        last = (int)(k - date_units);
        total += v * date_secs[last];
        parts++;
    }
    if (*p == 'T') {
        p++;
        if (!*p)
            return RG_EINVAL;
        last = -1;
        while (*p) {
            double v;
            char u;
            if (duration_part(&p, &v, &u))
                return RG_EINVAL;
            const char *k = strchr(time_units, u);
            if (!k || !u || (int)(k - time_units) <= last)
                return RG_EINVAL;
            last = (int)(k - time_units);
            total += v * time_secs[last];
            parts++;
        }
    }
    if (!parts)
        return RG_EINVAL;
    *seconds_out = sign * total;
    return 0;
}

static bool seg_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_';
}

bool util_version_valid(const char *s)
{
    if (!s || !*s || strlen(s) > 64)
        return false;
    int segs = 1;
    size_t seglen = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '.') {
            if (!seglen)
                return false;
            seglen = 0;
            segs++;
        } else if (seg_char(*p)) {
            seglen++;
        } else {
            return false;
        }
    }
    return seglen > 0 && segs <= 8;
}

int util_version_cmp(const char *a, const char *b)
{
    while (*a || *b) {
        size_t la = strcspn(a, "."), lb = strcspn(b, ".");
        bool na = la > 0 && strspn(a, "0123456789") == la;
        bool nb = lb > 0 && strspn(b, "0123456789") == lb;
        int c;
        if (!la && !lb) {
            c = 0;
        } else if ((na || !la) && (nb || !lb)) {
            /* numeric: strip leading zeros, then longer is bigger */
            while (la > 1 && *a == '0') { a++; la--; }
            while (lb > 1 && *b == '0') { b++; lb--; }
            if (!la) c = (lb == 1 && *b == '0') ? 0 : -1;
            else if (!lb) c = (la == 1 && *a == '0') ? 0 : 1;
            else if (la != lb) c = la < lb ? -1 : 1;
            else c = memcmp(a, b, la);
        } else {
            size_t m = la < lb ? la : lb;
            c = memcmp(a, b, m);
            if (!c && la != lb)
                c = la < lb ? -1 : 1;
        }
        if (c)
            return c < 0 ? -1 : 1;
        a += la;
        b += lb;
        if (*a == '.') a++;
        if (*b == '.') b++;
    }
    return 0;
}

const char *rg_err_name(int code)
{
    switch (code) {
    case RG_OK: return "ok";
    case RG_ENOMEM: return "out of memory";
    case RG_ENOTFOUND: return "not found";
    case RG_EEXISTS: return "already exists";
    case RG_EINVAL: return "invalid input";
    case RG_EIO: return "I/O error";
    case RG_ETOOBIG: return "too big";
    case RG_EAUTH: return "unauthenticated";
    case RG_EPERM: return "forbidden";
    case RG_ECONFLICT: return "conflict";
    case RG_EFULL: return "storage full";
    default: return "unknown error";
    }
}
