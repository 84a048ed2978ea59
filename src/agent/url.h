/*
 * url.h: the small URL helpers of the agent: the host of a URL (or of a bare
 * host / "host/path"), normalized for indicator matching, and IP detection.
 * Pure functions, thread-safe.
 */
#ifndef RG_AGENT_URL_H
#define RG_AGENT_URL_H
#include <stdbool.h>
#include <stddef.h>

#define URL_HOST_MAX 256 /* a DNS name is at most 253 bytes */

/*
 * Extracts the host of in ("https://user@Host.Example.:8443/p?q", "host/p",
 * "10.0.0.1", "[::1]:80/") into host: lower case, no trailing dot, IPv6
 * without brackets and in canonical form. path: if not NULL, set to the path
 * within in ("/p?q"; "" when there is none). 0 or RG_EINVAL (empty or too long
 * host, bad characters).
 */
int url_host(const char *in, char *host, size_t hostlen, const char **path);
/* True if s is an IPv4 dotted quad or an IPv6 address. */
bool url_is_ip(const char *s);
#endif
