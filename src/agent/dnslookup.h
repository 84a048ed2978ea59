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

/*
 * Reads wire (len bytes, one datagram from a resolver; borrowed) as the
 * answer to the query dnslookup_addr sent for name with ID id and type (1 A,
 * 28 AAAA): the ID, QR, the one question (name, compared without case, and
 * type) must match. addr and *ttl as for dnslookup_addr. 0, RG_ENOTFOUND (our
 * answer, without an address of that type), RG_EINVAL (not a DNS message, not
 * the answer to that query, or bad arguments). The parser of what resolvers
 * send (fuzz/fuzz_dnslookup.c).
 */
int dnslookup_read_answer(const uint8_t *wire, size_t len, uint16_t id, const char *name, uint16_t type,
                          char *addr, size_t n, uint32_t *ttl);
#endif
