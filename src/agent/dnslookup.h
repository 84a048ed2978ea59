/*
 * dnslookup.h: one blocking, bounded address lookup straight to given DNS
 * resolvers (the web protection filter's upstreams), bypassing the system
 * resolver. The agent uses it for the server's host name while its own DNS
 * filter runs: the system resolver may point at that filter, which cannot
 * answer while the agent's loop is blocked in a request to the server.
 * Internal: only src/agent/ includes it. Thread-safe (no shared state).
 */
#ifndef RG_AGENT_DNSLOOKUP_H
#define RG_AGENT_DNSLOOKUP_H
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * Asks the resolvers up[0..nup) in turn (UDP, a random query ID, answers
 * checked for source, ID and question) for name's A records, then AAAA when
 * there are none, within timeout_ms in all. addr (n bytes, 46 is enough)
 * receives the first address as text; *ttl the smallest TTL of the answer.
 * 0, RG_ENOTFOUND (an answer without address), RG_EIO (no answer in time),
 * RG_EINVAL (bad name), RG_ENOMEM.
 */
int dnslookup_addr(const struct sockaddr_storage *up, const socklen_t *up_len, int nup, const char *name,
                   int timeout_ms, char *addr, size_t n, uint32_t *ttl);
#endif
