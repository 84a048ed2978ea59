/*
 * normalize.c: the indicator vocabulary (types, actions with Defender's legacy
 * names, severities) and the validation and canonical forms of indicator
 * values: hashes, thumbprints, IP addresses, domain names and URLs
 * (indicators.h; the lenient lookup variants are declared in normalize.h).
 */
#include "intel/normalize.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#if defined(__SSE2__) && !defined(INTEL_NO_SIMD)
#include <emmintrin.h>
#endif

#include "common/err.h"

/* ---- names ---- */

static const char *const type_names[INTEL_TYPE_COUNT] = {
    "FileSha1", "FileSha256", "FileMd5", "CertificateThumbprint", "IpAddress", "DomainName", "Url",
};
static const char *const action_names[INTEL_ACTION_COUNT] = {
    "Allowed", "Audit", "Warn", "Block", "BlockAndRemediate",
};
static const char *const severity_names[INTEL_SEV_COUNT] = {
    "Informational", "Low", "Medium", "High",
};

const char *intel_type_name(enum intel_type type)
{
    return (unsigned)type < INTEL_TYPE_COUNT ? type_names[type] : "?";
}

const char *intel_action_name(enum intel_action action)
{
    return (unsigned)action < INTEL_ACTION_COUNT ? action_names[action] : "?";
}

const char *intel_severity_name(enum intel_severity severity)
{
    return (unsigned)severity < INTEL_SEV_COUNT ? severity_names[severity] : "?";
}

static int find_name(const char *const *names, int count, const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

int intel_type_parse(const char *s, enum intel_type *out)
{
    int i = find_name(type_names, INTEL_TYPE_COUNT, s);
    if (i < 0)
        return RG_EINVAL;
    *out = (enum intel_type)i;
    return 0;
}

int intel_severity_parse(const char *s, enum intel_severity *out)
{
    int i = find_name(severity_names, INTEL_SEV_COUNT, s);
    if (i < 0)
        return RG_EINVAL;
    *out = (enum intel_severity)i;
    return 0;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * Messages quote input ("%.40s", a value as sent) and are cut to errlen, either of which may end
 * inside a UTF-8 character or carry bytes that are not UTF-8 or are control characters; callers put
 * them into JSON (json_pack refuses invalid UTF-8, so the 400 became a 500). Each such byte
 * becomes '?': every message is valid UTF-8 without control characters.
 */
static void clean_text(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 4;
        bool ok = n < 4 && (n || (c >= 0x20 && c != 0x7f));
        for (size_t i = 1; ok && i <= n; i++)
            ok = (p[i] & 0xc0) == 0x80;
        /* no overlong 3/4-byte forms, no surrogates, nothing above U+10FFFF */
        if (ok && n == 2)
            ok = !(c == 0xe0 && p[1] < 0xa0) && !(c == 0xed && p[1] >= 0xa0);
        if (ok && n == 3)
            ok = !(c == 0xf0 && p[1] < 0x90) && !(c == 0xf4 && p[1] >= 0x90);
        if (!ok) {
            *p++ = '?';
            continue;
        }
        p += n + 1;
    }
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    clean_text(err);
}

static bool is_network(enum intel_type type)
{
    return type == INTEL_IP || type == INTEL_DOMAIN || type == INTEL_URL;
}

int intel_action_parse(const char *s, enum intel_type type, enum intel_action *out, bool *alert_implied, char *err,
                       size_t errlen)
{
    bool implied = false;
    int i = find_name(action_names, INTEL_ACTION_COUNT, s);
    if (i >= 0) {
        *out = (enum intel_action)i;
    } else if (s && strcmp(s, "Alert") == 0) {
        *out = INTEL_AUDIT;
        implied = true;
    } else if (s && strcmp(s, "AlertAndBlock") == 0) {
        *out = is_network(type) ? INTEL_BLOCK : INTEL_BLOCK_AND_REMEDIATE;
        implied = true;
    } else {
        const char *hint = NULL;
        if (s && (strcasecmp(s, "Allow") == 0 || strcasecmp(s, "Allowed") == 0))
            hint = "Allowed";
        for (int k = 0; !hint && s && k < INTEL_ACTION_COUNT; k++)
            if (strcasecmp(s, action_names[k]) == 0)
                hint = action_names[k];
        if (!hint && s && strcasecmp(s, "AlertAndBlock") == 0)
            hint = "AlertAndBlock";
        if (!hint && s && strcasecmp(s, "Alert") == 0)
            hint = "Alert";
        if (hint)
            seterr(err, errlen, "action: unknown value \"%.40s\"; did you mean \"%s\"?", s, hint);
        else
            seterr(err, errlen,
                   "action: %s%.40s%s is not one of Allowed, Audit, Warn, Block, BlockAndRemediate "
                   "(legacy: Alert, AlertAndBlock)",
                   s ? "\"" : "", s ? s : "a missing value", s ? "\"" : "");
        return RG_EINVAL;
    }
    if (alert_implied)
        *alert_implied = implied;
    return 0;
}

int intel_check_action_type(enum intel_type type, enum intel_action action, char *err, size_t errlen)
{
    if ((unsigned)type >= INTEL_TYPE_COUNT) {
        seterr(err, errlen, "indicatorType: invalid value");
        return RG_EINVAL;
    }
    if ((unsigned)action >= INTEL_ACTION_COUNT) {
        seterr(err, errlen, "action: invalid value");
        return RG_EINVAL;
    }
    if (is_network(type) && action == INTEL_BLOCK_AND_REMEDIATE) {
        seterr(err, errlen,
               "action: BlockAndRemediate is not supported for %s indicators (network indicators: IpAddress, "
               "DomainName, Url); use Block",
               type_names[type]);
        return RG_EINVAL;
    }
    if (type == INTEL_CERT && action != INTEL_ALLOWED && action != INTEL_BLOCK_AND_REMEDIATE) {
        seterr(err, errlen,
               "action: %s is not supported for CertificateThumbprint indicators; use Allowed or BlockAndRemediate",
               action_names[action]);
        return RG_EINVAL;
    }
    return 0;
}

int intel_check_action(enum intel_type type, enum intel_action action, bool generate_alert, char *err,
                       size_t errlen)
{
    int rc = intel_check_action_type(type, action, err, errlen);
    if (rc)
        return rc;
    if (action == INTEL_AUDIT && !generate_alert) {
        seterr(err, errlen, "generateAlert: must be true for Audit indicators");
        return RG_EINVAL;
    }
    return 0;
}

/* ---- small helpers ---- */

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Lower-case hex digit for a byte, or 0 if it is not one. */
static const char hex_lower[256] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5', ['6'] = '6', ['7'] = '7',
    ['8'] = '8', ['9'] = '9', ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f',
    ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f',
};

static bool is_label_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Printable form of one byte for messages. */
static const char *show_char(int c, char buf[8])
{
    if (c > 0x20 && c < 0x7f)
        snprintf(buf, 8, "'%c'", c);
    else
        snprintf(buf, 8, "0x%02x", (unsigned)(c & 0xff));
    return buf;
}

/* ---- hashes and thumbprints ---- */

static size_t hex_len_of(enum intel_type type)
{
    switch (type) {
    case INTEL_FILE_SHA1:
    case INTEL_CERT:
        return 40;
    case INTEL_FILE_SHA256:
        return 64;
    case INTEL_FILE_MD5:
        return 32;
    default:
        return 0;
    }
}

int intel_norm_hex(enum intel_type type, const char *s, bool strict, char *out, size_t outlen, size_t *outn, char *err,
                   size_t errlen)
{
    size_t want = hex_len_of(type);
    if (!want || !s)
        return RG_EINVAL;
    if (!*s) {
        seterr(err, errlen, "indicatorValue: is empty");
        return RG_EINVAL;
    }
    if (outlen < want + 1)
        return RG_ETOOBIG;
    size_t j = 0;
    if (type != INTEL_CERT) { /* fast path: exactly want hex digits */
        for (; j < want && hex_lower[(unsigned char)s[j]]; j++)
            out[j] = hex_lower[(unsigned char)s[j]];
        if (j == want && s[j] == '\0') {
            out[want] = '\0';
            *outn = want;
            return 0;
        }
        j = 0;
    }
    for (size_t i = 0; s[i]; i++) {
        int c = (unsigned char)s[i];
        if (type == INTEL_CERT && c == ' ')
            continue;
        if (type == INTEL_CERT && c == ':' && strict) {
            seterr(err, errlen,
                   "indicatorValue: colon-separated thumbprints are not accepted; give the 40 hex digits of the "
                   "SHA-1 thumbprint (spaces allowed)");
            return RG_EINVAL;
        }
        if (hexval(c) < 0) {
            char cb[8];
            seterr(err, errlen, "indicatorValue: a %s is %zu hexadecimal digits; found %s at position %zu",
                   type_names[type], want, show_char(c, cb), i + 1);
            return RG_EINVAL;
        }
        if (j < want)
            out[j] = (char)lower(c);
        j++;
    }
    if (j != want) {
        const char *other = j == 32 ? " (the length of an MD5)" : j == 40 ? " (the length of a SHA-1)"
                                                              : j == 64 ? " (the length of a SHA-256)"
                                                                        : "";
        seterr(err, errlen, "indicatorValue: a %s is %zu hexadecimal digits, got %zu%s", type_names[type], want, j,
               other);
        return RG_EINVAL;
    }
    out[want] = '\0';
    *outn = want;
    return 0;
}

/* ---- IP addresses ---- */

/* Name of the internal range holding the address, or NULL if external. */
static const char *internal_v4(const unsigned char b[4])
{
    uint32_t a = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    if ((a >> 24) == 0)
        return "\"this network\" (0.0.0.0/8)";
    if ((a >> 24) == 10 || (a & 0xfff00000u) == 0xac100000u || (a & 0xffff0000u) == 0xc0a80000u)
        return "private (RFC 1918)";
    if ((a & 0xffc00000u) == 0x64400000u)
        return "shared carrier-grade NAT (100.64.0.0/10)";
    if ((a >> 24) == 127)
        return "loopback";
    if ((a & 0xffff0000u) == 0xa9fe0000u)
        return "link-local";
    if ((a >> 28) == 0xe)
        return "multicast";
    if ((a >> 28) == 0xf)
        return "reserved or broadcast (240.0.0.0/4)";
    return NULL;
}

static const char *internal_v6(const unsigned char b[16])
{
    static const unsigned char zero[16] = {0};
    if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1))
        return b[15] ? "loopback" : "unspecified (::)";
    if ((b[0] & 0xfe) == 0xfc)
        return "unique-local (fc00::/7)";
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return "link-local (fe80::/10)";
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
        return "site-local (fec0::/10)";
    if (b[0] == 0xff)
        return "multicast";
    return NULL;
}

int intel_norm_ip(const char *s, size_t n, bool strict, char *out, size_t outlen, size_t *outn, char *err,
                  size_t errlen)
{
    char buf[64];
    if (!s || n == 0) {
        seterr(err, errlen, "indicatorValue: is empty");
        return RG_EINVAL;
    }
    if (memchr(s, '/', n)) {
        seterr(err, errlen, "indicatorValue: IP ranges (CIDR) are not supported; give single addresses");
        return RG_EINVAL;
    }
    if (memchr(s, '-', n)) {
        seterr(err, errlen, "indicatorValue: IP ranges are not supported; give single addresses");
        return RG_EINVAL;
    }
    if (memchr(s, '*', n)) {
        seterr(err, errlen, "indicatorValue: wildcards are not supported in IP addresses; give single addresses");
        return RG_EINVAL;
    }
    if (memchr(s, '%', n)) {
        seterr(err, errlen, "indicatorValue: IPv6 zone ids (%%...) are not supported");
        return RG_EINVAL;
    }
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        if (strict) {
            seterr(err, errlen, "indicatorValue: give the IP address without brackets");
            return RG_EINVAL;
        }
        s++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof buf) {
        seterr(err, errlen, "indicatorValue: not a valid IPv4 or IPv6 address");
        return RG_EINVAL;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    unsigned char b[16];
    int family;
    if (inet_pton(AF_INET, buf, b) == 1) {
        family = AF_INET;
    } else if (inet_pton(AF_INET6, buf, b) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        family = AF_INET6;
        if (memcmp(b, mapped, 12) == 0) {
            memmove(b, b + 12, 4);
            family = AF_INET;
        }
    } else {
        const char *colon = memchr(buf, ':', n);
        if (colon && strchr(buf, '.') && !strchr(colon + 1, ':'))
            seterr(err, errlen, "indicatorValue: give the IP address without a port");
        else if (strchr(buf, '[') || strchr(buf, ']'))
            seterr(err, errlen, "indicatorValue: give the IP address without brackets or a port");
        else
            seterr(err, errlen, "indicatorValue: \"%.64s\" is not a valid IPv4 or IPv6 address", buf);
        return RG_EINVAL;
    }
    char text[INET6_ADDRSTRLEN];
    if (!inet_ntop(family, b, text, sizeof text))
        return RG_EINVAL;
    if (strict) {
        const char *why = family == AF_INET ? internal_v4(b) : internal_v6(b);
        if (why) {
            seterr(err, errlen, "indicatorValue: only external IP addresses are supported; %s is a %s address", text,
                   why);
            return RG_EINVAL;
        }
    }
    size_t len = strlen(text);
    if (outlen < len + 1)
        return RG_ETOOBIG;
    memcpy(out, text, len + 1);
    *outn = len;
    return 0;
}

/* ---- public suffixes ---- */

/* Second-level ICANN suffixes, sorted (strcmp order) for bsearch; each is in the Public Suffix List. */
static const char *const psl2[] = {
    "ac.at",   "ac.cn",   "ac.id",   "ac.il",   "ac.in",    "ac.ir",   "ac.jp",     "ac.ke",   "ac.kr",  "ac.nz",
    "ac.th",   "ac.uk",   "ac.za",   "ad.jp",   "asn.au",   "asso.fr", "co.at",     "co.id",   "co.il",  "co.in",
    "co.ir",   "co.jp",   "co.ke",   "co.kr",   "co.nz",    "co.th",   "co.tz",     "co.ug",   "co.uk",  "co.za",
    "com.ar",  "com.au",  "com.br",  "com.cn",  "com.co",   "com.eg",  "com.es",    "com.fr",  "com.gr", "com.hk",
    "com.kw",  "com.lb",  "com.mx",  "com.my",  "com.ng",   "com.pe",  "com.ph",    "com.pk",  "com.pl", "com.pt",
    "com.qa",  "com.sa",  "com.sg",  "com.tr",  "com.tw",   "com.ua",  "com.vn",    "ed.jp",   "edu.ar", "edu.au",
    "edu.br",  "edu.cn",  "edu.co",  "edu.eg",  "edu.es",   "edu.gr",  "edu.hk",    "edu.in",  "edu.mx", "edu.my",
    "edu.ng",  "edu.ph",  "edu.pk",  "edu.pl",  "edu.sa",   "edu.sg",  "edu.tr",    "edu.tw",  "edu.ua", "edu.vn",
    "firm.in", "gen.in",  "go.id",   "go.jp",   "go.ke",    "go.kr",   "go.th",     "gob.ar",  "gob.es", "gob.mx",
    "gob.pe",  "gouv.fr", "gov.au",  "gov.br",  "gov.cn",   "gov.co",  "gov.eg",    "gov.gr",  "gov.hk", "gov.il",
    "gov.in",  "gov.ir",  "gov.kw",  "gov.my",  "gov.ng",   "gov.ph",  "gov.pk",    "gov.pl",  "gov.pt", "gov.qa",
    "gov.sa",  "gov.sg",  "gov.tr",  "gov.tw",  "gov.ua",   "gov.uk",  "gov.vn",    "gov.za",  "govt.nz", "gr.jp",
    "gv.at",   "id.au",   "idv.hk",  "idv.tw",  "in.th",    "in.ua",   "ind.in",    "lg.jp",   "ltd.uk", "me.uk",
    "muni.il", "ne.jp",   "ne.kr",   "net.ar",  "net.au",   "net.br",  "net.cn",    "net.co",  "net.eg", "net.hk",
    "net.id",  "net.il",  "net.in",  "net.mx",  "net.my",   "net.ng",  "net.nz",    "net.ph",  "net.pk", "net.pl",
    "net.sa",  "net.sg",  "net.th",  "net.tr",  "net.tw",   "net.ua",  "net.uk",    "net.vn",  "net.za", "nhs.uk",
    "nom.es",  "or.at",   "or.id",   "or.jp",   "or.ke",    "or.kr",   "or.th",     "org.ar",  "org.au", "org.br",
    "org.cn",  "org.co",  "org.eg",  "org.es",  "org.hk",   "org.il",  "org.in",    "org.mx",  "org.my", "org.ng",
    "org.nz",  "org.pe",  "org.ph",  "org.pk",  "org.pl",   "org.sa",  "org.sg",    "org.tr",  "org.tw", "org.ua",
    "org.uk",  "org.vn",  "org.za",  "plc.uk",  "police.uk", "re.kr",  "res.in",    "sch.id",  "school.nz", "web.id",
    "web.za",
};

static int cmp_str(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(const char *const *)elem);
}

bool intel_is_public_suffix(const char *domain)
{
    if (!domain || !*domain)
        return false;
    const char *dot = strchr(domain, '.');
    if (!dot)
        return true; /* the PSL's default rule: every top-level label is a public suffix */
    if (strchr(dot + 1, '.'))
        return false; /* no three-label suffix in the built-in list */
    return bsearch(domain, psl2, sizeof psl2 / sizeof psl2[0], sizeof psl2[0], cmp_str) != NULL;
}

/* ---- domain names ---- */

/* True if needle occurs in s[0..n). */
static bool contains(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(s + i, needle, k) == 0)
            return true;
    return false;
}

/* For lookups: lower-case letters, digits, '-', '_' map to themselves lower-cased, '.' to '.', others to 0. */
static const char host_char[256] = {
    ['-'] = '-', ['.'] = '.', ['_'] = '_',
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5', ['6'] = '6', ['7'] = '7',
    ['8'] = '8', ['9'] = '9',
    ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f', ['g'] = 'g', ['h'] = 'h',
    ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l', ['m'] = 'm', ['n'] = 'n', ['o'] = 'o', ['p'] = 'p',
    ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't', ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x',
    ['y'] = 'y', ['z'] = 'z',
    ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f', ['G'] = 'g', ['H'] = 'h',
    ['I'] = 'i', ['J'] = 'j', ['K'] = 'k', ['L'] = 'l', ['M'] = 'm', ['N'] = 'n', ['O'] = 'o', ['P'] = 'p',
    ['Q'] = 'q', ['R'] = 'r', ['S'] = 's', ['T'] = 't', ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x',
    ['Y'] = 'y', ['Z'] = 'z',
};

/* The lenient form in one table-driven pass: the same result as the general code below. */
static int host_lenient(const char *s, size_t n, char *out, size_t outlen, size_t *outn)
{
    if (n > 0 && s[n - 1] == '.')
        n--;
    if (n == 0 || n > INTEL_DOMAIN_MAX || outlen < n + 1)
        return RG_EINVAL;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char c = host_char[(unsigned char)s[i]];
        out[i] = c;
        if (c == '.') {
            if (i == label || i - label > 63)
                return RG_EINVAL;
            label = i + 1;
        } else if (!c) {
            return RG_EINVAL;
        }
    }
    if (n == label || n - label > 63)
        return RG_EINVAL;
    out[n] = '\0';
    *outn = n;
    return 0;
}

/*
 * intel_host_parse: lower-cases and checks 16 bytes at a time with SSE2 (every x86-64
 * has it), or 8 at a time with plain 64-bit arithmetic elsewhere (INTEL_NO_SIMD forces
 * that path, for tests). Both find the dots from a bit mask.
 */
#if defined(__SSE2__) && !defined(INTEL_NO_SIMD)
#define HOST_STEP 16

/* 0xff where lo <= byte <= hi (signed compare after moving lo to -128; bytes >= 0x80 fail for lo > 0). */
static inline __m128i in_range(__m128i v, int lo, int hi)
{
    __m128i t = _mm_add_epi8(v, _mm_set1_epi8((char)(-128 - lo)));
    return _mm_cmpgt_epi8(_mm_set1_epi8((char)(hi - lo - 127)), t);
}

/* Lower-cases src[0..16) into dst; bit i of *dots is set where it is '.'; returns the valid-byte mask. */
static inline unsigned host_chunk(const char *src, char *dst, unsigned *dots)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)src);
    v = _mm_or_si128(v, _mm_and_si128(in_range(v, 'A', 'Z'), _mm_set1_epi8(0x20)));
    __m128i ok = _mm_or_si128(_mm_or_si128(in_range(v, 'a', 'z'), in_range(v, '0', '9')),
                              _mm_or_si128(in_range(v, '-', '.'), _mm_cmpeq_epi8(v, _mm_set1_epi8('_'))));
    _mm_storeu_si128((__m128i *)(void *)dst, v);
    *dots = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.')));
    return (unsigned)_mm_movemask_epi8(ok);
}
#else
#define HOST_STEP 8
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
/* Bit 7 of each byte set where that byte of x (7-bit bytes only) is in [lo, hi]; no carries between bytes. */
#define RANGE(x, lo, hi) ((((x) + (0x80u - (lo)) * ONES) & ~((x) + (0x7fu - (hi)) * ONES)) & HIGHS)

/* Bit i of a byte mask (bit 7 of byte i) to bit i of a plain mask. */
static inline unsigned byte_bits(uint64_t m)
{
    return (unsigned)(((m >> 7) * 0x0102040810204080ull) >> 56);
}

static inline unsigned host_chunk(const char *src, char *dst, unsigned *dots)
{
    uint64_t w;
    memcpy(&w, src, sizeof w);
    uint64_t x = w & ~HIGHS, ascii = ~w & HIGHS;
    w |= (RANGE(x, 'A', 'Z') & ascii) >> 2; /* upper to lower case */
    x = w & ~HIGHS;
    uint64_t ok = (RANGE(x, '-', '.') | RANGE(x, '0', '9') | RANGE(x, '_', '_') | RANGE(x, 'a', 'z')) & ascii;
    memcpy(dst, &w, sizeof w);
    *dots = byte_bits(RANGE(x, '.', '.') & ascii);
    return byte_bits(ok);
}
#undef RANGE
#undef HIGHS
#undef ONES
#endif

/* memcpy(d, s, r) for r < 16, inline (fixed-size copies that may overlap). */
static inline void copy_short(char *d, const char *s, size_t r)
{
    if (r >= 8) {
        memcpy(d, s, 8);
        memcpy(d + r - 8, s + r - 8, 8);
    } else if (r >= 4) {
        memcpy(d, s, 4);
        memcpy(d + r - 4, s + r - 4, 4);
    } else if (r) {
        d[0] = s[0];
        d[r / 2] = s[r / 2];
        d[r - 1] = s[r - 1];
    }
}

int intel_host_parse(const char *s, size_t n, struct intel_host *h)
{
    if (n > 0 && s[n - 1] == '.')
        n--;
    if (n == 0 || n > INTEL_DOMAIN_MAX)
        return RG_EINVAL;
    char *p = (char *)(h->w + 1);
    h->w[0] = 0;
    /* the last, partial chunk (the one holding the NUL) is copied in first, over zeros */
    size_t full = n / HOST_STEP * HOST_STEP;
    memset(p + full, 0, HOST_STEP);
    copy_short(p + full, s + full, n - full);
    size_t label = 0;
    unsigned nl = 0;
    for (size_t k = 0; k < n; k += HOST_STEP) {
        unsigned dots, in = k < full ? (1u << HOST_STEP) - 1 : (1u << (n - k)) - 1;
        if ((host_chunk(k < full ? s + k : p + k, p + k, &dots) & in) != in)
            return RG_EINVAL;
        for (dots &= in; dots; dots &= dots - 1) {
            size_t i = k + (size_t)__builtin_ctz(dots);
            if (i == label || i - label > 63)
                return RG_EINVAL;
            h->label[nl++] = (uint8_t)label;
            label = i + 1;
        }
    }
    if (n == label || n - label > 63)
        return RG_EINVAL;
    h->label[nl++] = (uint8_t)label;
    h->n = n;
    h->nlabels = nl;
    return 0;
}

int intel_norm_domain(const char *s, size_t n, bool strict, char *out, size_t outlen, size_t *outn, char *err,
                      size_t errlen)
{
    if (!strict && s)
        return host_lenient(s, n, out, outlen, outn);
    if (!s || n == 0) {
        seterr(err, errlen, "indicatorValue: is empty");
        return RG_EINVAL;
    }
    if (strict) {
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c <= 0x20 || c == 0x7f) {
                seterr(err, errlen, "indicatorValue: a DomainName must not contain spaces or control characters");
                return RG_EINVAL;
            }
            if (c >= 0x80) {
                seterr(err, errlen,
                       "indicatorValue: give internationalized domain names in their ASCII form (xn--...)");
                return RG_EINVAL;
            }
        }
        if (contains(s, n, "://")) {
            seterr(err, errlen,
                   "indicatorValue: a DomainName is a host name, not a URL; give just the host (or use the Url type)");
            return RG_EINVAL;
        }
        if (memchr(s, '*', n)) {
            seterr(err, errlen,
                   "indicatorValue: wildcards are not supported; a DomainName already matches all its subdomains");
            return RG_EINVAL;
        }
        if (memchr(s, '/', n)) {
            seterr(err, errlen, "indicatorValue: a DomainName cannot contain a path; use the Url type for paths");
            return RG_EINVAL;
        }
        if (memchr(s, ':', n) || memchr(s, '[', n)) {
            char ip[64];
            size_t ipn;
            if (intel_norm_ip(s, n, false, ip, sizeof ip, &ipn, NULL, 0) == 0)
                seterr(err, errlen, "indicatorValue: \"%.64s\" is an IP address; use the IpAddress type", ip);
            else
                seterr(err, errlen, "indicatorValue: a DomainName cannot contain a port");
            return RG_EINVAL;
        }
        if (s[0] == '.') {
            seterr(err, errlen,
                   "indicatorValue: the domain starts with a dot; give it without (a DomainName already matches "
                   "all its subdomains)");
            return RG_EINVAL;
        }
    }
    if (s[n - 1] == '.')
        n--;
    if (n == 0) {
        seterr(err, errlen, "indicatorValue: is empty");
        return RG_EINVAL;
    }
    if (n > INTEL_DOMAIN_MAX) {
        seterr(err, errlen, "indicatorValue: a domain name is at most %d characters", INTEL_DOMAIN_MAX);
        return RG_EINVAL;
    }
    if (outlen < n + 1)
        return RG_ETOOBIG;
    size_t label = 0; /* start of the current label in out */
    bool all_digits = true, label_digits = true;
    for (size_t i = 0; i <= n; i++) {
        int c = i < n ? lower((unsigned char)s[i]) : '.';
        if (c == '.') {
            size_t len = i - label;
            if (len == 0) {
                seterr(err, errlen, "indicatorValue: empty label in \"%.*s\"", (int)n, s);
                return RG_EINVAL;
            }
            if (len > 63) {
                seterr(err, errlen, "indicatorValue: label \"%.*s...\" is longer than 63 characters", 20, out + label);
                return RG_EINVAL;
            }
            if (strict && (out[label] == '-' || out[i - 1] == '-')) {
                seterr(err, errlen, "indicatorValue: label \"%.*s\" starts or ends with a hyphen", (int)len,
                       out + label);
                return RG_EINVAL;
            }
            if (i < n)
                out[i] = '.';
            label = i + 1;
            if (i < n)
                label_digits = true;
            continue;
        }
        if (!is_label_char(c)) {
            char cb[8];
            seterr(err, errlen, "indicatorValue: invalid character %s in domain name \"%.*s\"", show_char(c, cb),
                   (int)(n < 80 ? n : 80), s);
            return RG_EINVAL;
        }
        if (c < '0' || c > '9') {
            all_digits = false;
            label_digits = false;
        }
        out[i] = (char)c;
    }
    out[n] = '\0';
    if (strict) {
        if (all_digits) {
            seterr(err, errlen, "indicatorValue: \"%s\" looks like an IP address; use the IpAddress type", out);
            return RG_EINVAL;
        }
        if (label_digits) {
            seterr(err, errlen, "indicatorValue: the top-level label of \"%s\" cannot be all digits", out);
            return RG_EINVAL;
        }
        if (intel_is_public_suffix(out)) {
            seterr(err, errlen,
                   "indicatorValue: \"%s\" is a public suffix; an indicator for it would match every domain under it",
                   out);
            return RG_EINVAL;
        }
    }
    *outn = n;
    return 0;
}

/* ---- URLs ---- */

struct ob {
    char *p;
    size_t n, cap;
    bool over;
};

static void ob_putc(struct ob *o, char c)
{
    if (o->n < o->cap)
        o->p[o->n++] = c;
    else
        o->over = true;
}

static void ob_put(struct ob *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ob_putc(o, s[i]);
}

static bool is_unreserved(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

/* Copies one percent-escape at s[*i] (RFC 3986 §6.2.2.1-2). false if malformed (strict). */
static bool put_pct(struct ob *o, const char *s, size_t *i, bool strict)
{
    static const char hex[] = "0123456789ABCDEF";
    int h = hexval((unsigned char)s[*i + 1]), l = h >= 0 ? hexval((unsigned char)s[*i + 2]) : -1;
    if (h < 0 || l < 0) {
        if (strict)
            return false;
        ob_put(o, "%25", 3);
        *i += 1;
        return true;
    }
    int v = h * 16 + l;
    if (is_unreserved(v)) {
        ob_putc(o, (char)v);
    } else {
        ob_putc(o, '%');
        ob_putc(o, hex[h]);
        ob_putc(o, hex[l]);
    }
    *i += 3;
    return true;
}

/* RFC 3986 §5.2.4 on a path that starts with '/', in place; returns the new length (>= 1). */
static size_t remove_dot_segments(char *p, size_t n)
{
    size_t r = 0, w = 0;
    while (r < n) {
        size_t s = r + 1, e = s; /* p[r] == '/' */
        while (e < n && p[e] != '/')
            e++;
        size_t len = e - s;
        bool last = e == n;
        if (len == 1 && p[s] == '.') {
            if (last)
                p[w++] = '/';
        } else if (len == 2 && p[s] == '.' && p[s + 1] == '.') {
            while (w > 0 && p[w - 1] != '/')
                w--;
            if (w > 0)
                w--;
            if (last)
                p[w++] = '/';
        } else {
            p[w++] = '/';
            memmove(p + w, p + s, len);
            w += len;
        }
        r = e;
    }
    if (w == 0)
        p[w++] = '/';
    return w;
}

int intel_norm_url(const char *s, bool strict, char *out, size_t outlen, size_t *outn, struct intel_url_parts *parts,
                   char *err, size_t errlen)
{
    if (!s || !*s) {
        seterr(err, errlen, "indicatorValue: is empty");
        return RG_EINVAL;
    }
    if (outlen == 0)
        return RG_ETOOBIG;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c == 0x7f) {
            seterr(err, errlen, "indicatorValue: a Url must not contain spaces or control characters (percent-encode them)");
            return RG_EINVAL;
        }
        if (c >= 0x80) {
            seterr(err, errlen, "indicatorValue: non-ASCII characters must be percent-encoded in a Url");
            return RG_EINVAL;
        }
    }
    bool https;
    size_t i;
    if (strncasecmp(s, "http://", 7) == 0) {
        https = false;
        i = 7;
    } else if (strncasecmp(s, "https://", 8) == 0) {
        https = true;
        i = 8;
    } else {
        seterr(err, errlen, "indicatorValue: a Url must start with http:// or https://%s",
               strstr(s, "://") ? "" : " (for a bare host name use the DomainName type)");
        return RG_EINVAL;
    }
    /* authority */
    size_t a0 = i;
    while (s[i] && s[i] != '/' && s[i] != '\\' && s[i] != '?' && s[i] != '#')
        i++;
    size_t a1 = i;
    const char *at = NULL;
    for (size_t k = a0; k < a1; k++)
        if (s[k] == '@')
            at = s + k;
    if (at) {
        if (strict) {
            seterr(err, errlen, "indicatorValue: user names and passwords (user@) are not allowed in a Url");
            return RG_EINVAL;
        }
        a0 = (size_t)(at - s) + 1;
    }
    if (a0 == a1) {
        seterr(err, errlen, "indicatorValue: the Url has no host");
        return RG_EINVAL;
    }
    size_t h0 = a0, h1, p0 = a1;
    bool bracket = s[a0] == '[';
    if (bracket) {
        const char *rb = memchr(s + a0, ']', a1 - a0);
        if (!rb) {
            seterr(err, errlen, "indicatorValue: unterminated [IPv6] host in the Url");
            return RG_EINVAL;
        }
        h0 = a0 + 1;
        h1 = (size_t)(rb - s);
        if (h1 + 1 < a1) {
            if (s[h1 + 1] != ':') {
                seterr(err, errlen, "indicatorValue: unexpected characters after the [IPv6] host");
                return RG_EINVAL;
            }
            p0 = h1 + 2;
        }
    } else {
        const char *pc = memchr(s + a0, ':', a1 - a0);
        h1 = pc ? (size_t)(pc - s) : a1;
        p0 = pc ? h1 + 1 : a1;
    }
    unsigned long port = 0;
    if (p0 < a1) {
        bool ok = a1 - p0 <= 5;
        for (size_t k = p0; ok && k < a1; k++) {
            if (s[k] < '0' || s[k] > '9')
                ok = false;
            else
                port = port * 10 + (unsigned long)(s[k] - '0');
        }
        if (!ok || port == 0 || port > 65535) {
            seterr(err, errlen, "indicatorValue: invalid port \"%.*s\" in the Url", (int)(a1 - p0 < 16 ? a1 - p0 : 16),
                   s + p0);
            return RG_EINVAL;
        }
    }
    if (port == (https ? 443ul : 80ul))
        port = 0;

    struct ob o = {out, 0, outlen - 1 < INTEL_VALUE_MAX ? outlen - 1 : INTEL_VALUE_MAX, false};
    ob_put(&o, https ? "https://" : "http://", https ? 8 : 7);
    /* host */
    char host[INTEL_DOMAIN_MAX + 1];
    size_t hn;
    int family = 0, rc;
    if (h1 == h0) {
        seterr(err, errlen, "indicatorValue: the Url has no host");
        return RG_EINVAL;
    }
    if (bracket) {
        char v6[64];
        if (h1 - h0 >= sizeof v6 || !memchr(s + h0, ':', h1 - h0)) {
            seterr(err, errlen, "indicatorValue: invalid [IPv6] host in the Url");
            return RG_EINVAL;
        }
        rc = intel_norm_ip(s + h0, h1 - h0, strict, host, sizeof host, &hn, err, errlen);
        family = strchr(host, ':') ? 6 : 4;
    } else {
        unsigned char b4[4];
        char v4[16];
        bool is_v4 = false;
        if (h1 - h0 < sizeof v4) {
            memcpy(v4, s + h0, h1 - h0);
            v4[h1 - h0] = '\0';
            is_v4 = inet_pton(AF_INET, v4, b4) == 1;
        }
        if (is_v4) {
            rc = intel_norm_ip(s + h0, h1 - h0, strict, host, sizeof host, &hn, err, errlen);
            family = 4;
        } else {
            rc = intel_norm_domain(s + h0, h1 - h0, strict, host, sizeof host, &hn, err, errlen);
        }
    }
    if (rc)
        return rc == RG_ETOOBIG ? RG_EINVAL : rc;
    if (parts) {
        parts->host_family = family;
        parts->host_off = o.n;
    }
    if (family == 6)
        ob_putc(&o, '[');
    ob_put(&o, host, hn);
    if (family == 6)
        ob_putc(&o, ']');
    if (parts)
        parts->host_len = o.n - parts->host_off;
    if (port) {
        char pb[8];
        int pn = snprintf(pb, sizeof pb, ":%lu", port);
        ob_put(&o, pb, (size_t)pn);
    }
    /* path */
    size_t path_off = o.n;
    i = a1;
    while (s[i] && s[i] != '?' && s[i] != '#') {
        if (s[i] == '%') {
            if (!put_pct(&o, s, &i, strict))
                goto bad_pct;
            continue;
        }
        ob_putc(&o, s[i] == '\\' ? '/' : s[i]);
        i++;
    }
    if (o.n == path_off)
        ob_putc(&o, '/');
    if (!o.over)
        o.n = path_off + remove_dot_segments(o.p + path_off, o.n - path_off);
    size_t query_off = o.n;
    if (s[i] == '?') {
        i++;
        ob_putc(&o, '?');
        while (s[i] && s[i] != '#') {
            if (s[i] == '%') {
                if (!put_pct(&o, s, &i, strict))
                    goto bad_pct;
                continue;
            }
            ob_putc(&o, s[i]);
            i++;
        }
        if (!o.over && o.n == query_off + 1)
            o.n = query_off;
    }
    if (o.over) {
        if (outlen - 1 >= INTEL_VALUE_MAX) {
            seterr(err, errlen, "indicatorValue: a Url is at most %d characters (after normalization)",
                   INTEL_VALUE_MAX);
            return RG_EINVAL;
        }
        return RG_ETOOBIG;
    }
    out[o.n] = '\0';
    *outn = o.n;
    if (parts) {
        parts->path_off = path_off;
        parts->query_off = query_off;
    }
    return 0;
bad_pct:
    seterr(err, errlen, "indicatorValue: invalid percent-escape at position %zu of the Url (write %% as %%25)", i + 1);
    return RG_EINVAL;
}

/* ---- the entry point ---- */

int intel_normalize(enum intel_type type, const char *value, char *out, size_t outlen, char *err, size_t errlen)
{
    size_t n;
    if ((unsigned)type >= INTEL_TYPE_COUNT) {
        seterr(err, errlen, "indicatorType: invalid value");
        return RG_EINVAL;
    }
    if (!value) {
        seterr(err, errlen, "indicatorValue: is missing");
        return RG_EINVAL;
    }
    if (!out || outlen == 0)
        return RG_ETOOBIG;
    switch (type) {
    case INTEL_FILE_SHA1:
    case INTEL_FILE_SHA256:
    case INTEL_FILE_MD5:
    case INTEL_CERT:
        return intel_norm_hex(type, value, true, out, outlen, &n, err, errlen);
    case INTEL_IP:
        return intel_norm_ip(value, strlen(value), true, out, outlen, &n, err, errlen);
    case INTEL_DOMAIN:
        return intel_norm_domain(value, strlen(value), true, out, outlen, &n, err, errlen);
    case INTEL_URL:
        return intel_norm_url(value, true, out, outlen, &n, NULL, err, errlen);
    default:
        return RG_EINVAL;
    }
}
