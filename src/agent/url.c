/* url.c: host extraction and IP detection for indicator matching (url.h). */
#include "agent/url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "common/err.h"

bool url_is_ip(const char *s)
{
    unsigned char b[16];
    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

int url_host(const char *in, char *host, size_t hostlen, const char **path)
{
    const char *p = in;
    while (*p && isspace((unsigned char)*p))
        p++;
    const char *scheme = strstr(p, "://");
    if (scheme && (size_t)(scheme - p) < 16 && strcspn(p, "/?#") > (size_t)(scheme - p))
        p = scheme + 3;
    size_t auth_len = strcspn(p, "/?#");
    const char *at = memchr(p, '@', auth_len);
    if (at) {
        auth_len -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    const char *rest = p + auth_len;
    const char *h = p;
    size_t hl;
    if (*h == '[') {
        const char *close = memchr(h, ']', auth_len);
        if (!close)
            return RG_EINVAL;
        h++;
        hl = (size_t)(close - h);
    } else {
        const char *colon = memchr(h, ':', auth_len);
        /* two colons or more without brackets: a bare IPv6 address, no port */
        bool v6 = colon && memchr(colon + 1, ':', auth_len - (size_t)(colon + 1 - h));
        hl = colon && !v6 ? (size_t)(colon - h) : auth_len;
    }
    while (hl && h[hl - 1] == '.')
        hl--;
    while (hl && isspace((unsigned char)h[hl - 1]))
        hl--;
    if (!hl || hl >= hostlen || hl >= URL_HOST_MAX)
        return RG_EINVAL;
    for (size_t i = 0; i < hl; i++) {
        unsigned char c = (unsigned char)h[i];
        if (!(isalnum(c) || c == '-' || c == '.' || c == '_' || c == ':' || c >= 0x80))
            return RG_EINVAL;
        host[i] = (char)tolower(c);
    }
    host[hl] = '\0';
    if (strchr(host, ':')) { /* IPv6: canonical text form */
        unsigned char b[16];
        if (inet_pton(AF_INET6, host, b) != 1 || !inet_ntop(AF_INET6, b, host, (socklen_t)hostlen))
            return RG_EINVAL;
    }
    if (path)
        *path = rest;
    return 0;
}
