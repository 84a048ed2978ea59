/*
 * guess.c: the indicator type of a bare value, for plain-list imports
 * (`riskgate indicator import` of a file that is not Defender's CSV):
 * IPv4/IPv6 -> IpAddress; 32, 40 or 64 hex digits -> FileMd5, FileSha1,
 * FileSha256; a URL with a scheme, or a host followed by a path, query or
 * port -> Url; anything else -> DomainName (intel_normalize then judges it).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "intel/indicators.h"

static int all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

enum intel_type intel_guess_type(const char *s)
{
    size_t n = strlen(s);
    unsigned char ip[16];
    char tmp[64];
    if (n < sizeof tmp) {
        /* "[2001:db8::1]" is an address too */
        const char *a = s;
        size_t an = n;
        if (n > 2 && s[0] == '[' && s[n - 1] == ']') {
            a = s + 1;
            an = n - 2;
        }
        memcpy(tmp, a, an);
        tmp[an] = '\0';
        if (inet_pton(AF_INET, tmp, ip) == 1 || inet_pton(AF_INET6, tmp, ip) == 1)
            return INTEL_IP;
    }
    if (all_hex(s, n)) {
        if (n == 32)
            return INTEL_FILE_MD5;
        if (n == 40)
            return INTEL_FILE_SHA1;
        if (n == 64)
            return INTEL_FILE_SHA256;
    }
    if (strstr(s, "://") || strpbrk(s, "/?#:"))
        return INTEL_URL;
    return INTEL_DOMAIN;
}
