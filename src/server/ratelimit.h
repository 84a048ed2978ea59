/*
 * ratelimit.h: failed sign-ins per client address and per account, as token
 * buckets in fixed-size tables (bounded memory, no allocation after
 * ratelimit_new), and the trusted-proxy rule that decides which address a
 * request comes from.
 *
 * A bucket holds up to `burst` tokens and refills at burst per `period_s`
 * seconds. A sign-in takes one token from its address's bucket and one from
 * its account's before the password is checked; a sign-in that succeeds
 * gives them back, so only failures use them up. An empty bucket answers 429
 * with the seconds until a token is back. When a table is full, the entry
 * whose bucket is fullest (the least restricted) among a few candidates is
 * forgotten. Not thread-safe: the loop thread only.
 */
#ifndef RG_RATELIMIT_H
#define RG_RATELIMIT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ratelimit_kind { RATELIMIT_ADDRESS, RATELIMIT_ACCOUNT, RATELIMIT_NKINDS };

struct ratelimit_rule {
    double burst;    /* tokens a bucket holds (>= 1) */
    double period_s; /* seconds to refill `burst` tokens (> 0) */
};

#define RATELIMIT_CAPACITY 4096 /* entries per table (address, account) */
#define RATELIMIT_MAX_PROXIES 32

struct ratelimit;

/*
 * Parses "N/S" (N failed sign-ins per S seconds, e.g. "10/60") into rule.
 * 0, or RG_EINVAL for anything else (N 1..1000000, S 1..86400).
 */
int ratelimit_rule_parse(const char *s, struct ratelimit_rule *rule);

/*
 * A limiter with `capacity` entries per table (rounded up to a power of two,
 * at least 16), rules for addresses and accounts, and the trusted proxies in
 * proxies: CIDRs ("10.0.0.0/8", "::1", "fd00::/8") separated by commas, or
 * NULL/"" for none. 0, RG_EINVAL (err filled) or RG_ENOMEM.
 */
int ratelimit_new(const struct ratelimit_rule *address, const struct ratelimit_rule *account, size_t capacity,
                  const char *proxies, struct ratelimit **out, char *err, size_t errlen);
void ratelimit_free(struct ratelimit *rl);

/*
 * Takes one token from key's bucket (key: any NUL-terminated string).
 * Returns 0 when taken, or the whole seconds (>= 1) until one is back.
 */
int ratelimit_take(struct ratelimit *rl, enum ratelimit_kind kind, const char *key, int64_t now_ms);
/* Gives one token back to key's bucket (a sign-in that succeeded), up to its burst. */
void ratelimit_give(struct ratelimit *rl, enum ratelimit_kind kind, const char *key, int64_t now_ms);
/* Keys held in a table now (tests, metrics). */
size_t ratelimit_count(const struct ratelimit *rl, enum ratelimit_kind kind);

/* True if addr (numeric IPv4 or IPv6 text) is in one of the trusted proxies' CIDRs. */
bool ratelimit_trusted(const struct ratelimit *rl, const char *addr);

/*
 * The client's address: peer, unless peer is a trusted proxy and
 * forwarded_for (an X-Forwarded-For value, may be NULL) names one; then the
 * right-most address in it that is not itself a trusted proxy. An entry that
 * is not a valid address stops the walk: the address right of it (or peer)
 * is used. Writes the address, normalised, to out (at least 46 bytes).
 */
void ratelimit_client(const struct ratelimit *rl, const char *peer, const char *forwarded_for, char *out,
                      size_t outlen);
#endif
