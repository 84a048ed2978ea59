/*
 * appcache.h: what the managed apps' check-in needs, kept in memory so the
 * decision path does not read the database (ARCHITECTURE: "the store is the
 * truth; the decision path reads memory").
 *
 * Two layers, both invalidated by writes the store reports (store_watch_new:
 * every write path is covered, whichever handler makes it):
 *  - per tenant, a snapshot of what decisions share: the policies, each user's
 *    groups, the connectors, the tenant's links, the wipe requests by
 *    registration. Rebuilt lazily after any write to those collections (or to
 *    users), which are admin writes and rare.
 *  - per registration, its last check-in answer: the shared part (decision,
 *    settings, configurations, wipe, decisionVersion; interned, so 1M
 *    registrations under a few policies share a handful of copies; values
 *    with app configuration tokens are substituted per user before they get
 *    here, so they share only with identical answers) and its
 *    signed ticket. Valid while nothing it was computed from changed (the
 *    tenant's snapshot generation, its device's generation, the registration
 *    itself) and for at most APPCACHE_TICKET_MS, so a reused ticket is never
 *    older than that (docs/app-api.md). Filled on a registration's first
 *    check-in after start (lazily: start-up reads nothing).
 *
 * lastSyncDateTime (and lastDecision, lastReasonCode) are not written per
 * check-in: a check-in marks the registration (at most once per
 * APPCACHE_SYNC_MS, and whenever its answer changed), and appcache_flush
 * writes the marked ones in one transaction (riskgated calls it once a second
 * and at shutdown). So lastSyncDateTime may lag by up to a minute, and a crash
 * loses at most the last second of marks; nothing a decision depends on is
 * deferred (changed facts and queued wipes are written before the answer).
 *
 * One process, loop thread only. Across nodes the same invalidations will
 * travel over PostgreSQL LISTEN/NOTIFY.
 */
#ifndef RG_APPCACHE_H
#define RG_APPCACHE_H
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/buf.h"
#include "server/store/store.h"

#define APPCACHE_TICKET_MS 60000 /* a cached answer (and its ticket) is reused for at most a minute */
#define APPCACHE_SYNC_MS 60000   /* a registration's lastSyncDateTime is written at most once a minute */

struct appcache;

/* A new, empty cache; NULL when out of memory. */
struct appcache *appcache_new(void);
/* Frees the cache (marks not flushed are dropped: call appcache_flush first). Accepts NULL. */
void appcache_free(struct appcache *c);

/* The store_watch_fn riskgated installs: invalidates what a write touched. arg is the cache. */
void appcache_on_write(void *arg, const char *tenant_id, const char *coll, const char *id);

/* What decisions in one tenant share; every member borrowed from the cache, valid until the next store write. */
struct appcache_tenant {
    json_t *policies;    /* the managedAppPolicies documents, as doc_list gives them */
    json_t *user_groups; /* {"<user id>": ["<group id>", ...]} */
    json_t *connectors;  /* the mobileThreatDefenseConnectors documents */
    json_t *links;       /* the tenantSettings document ({} when none) */
    json_t *wipes;       /* {"<registration id>": [wipe request documents]} */
};

/*
 * The tenant's snapshot, loaded from s when missing or stale. *out is
 * borrowed: do not keep it across a store write. 0 or an RG_ code.
 */
int appcache_tenant(struct appcache *c, struct store *s, const char *tenant_id, const struct appcache_tenant **out);

/* The generations an answer is computed under; take them before reading anything. */
struct appcache_stamp {
    uint64_t config, device;
};
void appcache_stamp(const struct appcache *c, const char *tenant_id, const char *device_id, struct appcache_stamp *out);

/* A cached answer, borrowed from the cache until the next call into it. */
struct appcache_hit {
    const char *tenant_id, *tenant_name, *reg_id, *device_id; /* device_id "" when none */
    const char *version;                                       /* decisionVersion */
    const unsigned char *ticket; /* the ticket's payload bytes (payload_len), then its 64-byte signature */
    size_t payload_len;
    const char *rest;                                          /* the answer's other members, "..."} */
};

/*
 * The cached answer for a token (SHA-256, 32 bytes) if it is still valid at
 * now_ms and the facts (the check-in's "app" object, or NULL) change nothing
 * in the registration. Returns 1 (hit, *out filled), 0 (miss).
 */
int appcache_lookup(struct appcache *c, const unsigned char token_sha[32], const json_t *facts, int64_t now_ms,
                    struct appcache_hit *out);

/*
 * Remembers answer (a check-in answer, borrowed) for the token, computed under
 * st at now_ms for the registration reg (borrowed; its facts are hashed) of
 * tenant (id and name). Replaces an earlier entry. 0 or RG_ENOMEM.
 */
int appcache_put(struct appcache *c, const unsigned char token_sha[32], const char *tenant_id, const char *tenant_name,
                 const json_t *reg, const json_t *answer, const struct appcache_stamp *st, int64_t now_ms);

/* Appends a hit's answer (the same bytes a fresh answer would have, but the ticket) to out. 0 or RG_ENOMEM. */
int appcache_hit_write(const struct appcache_hit *h, struct buf *out);

/*
 * Marks a check-in: the token's registration synced at now_ms with its cached
 * decision (skipped when it was marked less than APPCACHE_SYNC_MS ago). The
 * write (lastSyncDateTime, lastDecision, lastReasonCode: records, read by no
 * decision) is deferred to appcache_flush. No-op for an unknown token.
 */
void appcache_synced(struct appcache *c, const unsigned char token_sha[32], int64_t now_ms);

/*
 * Writes the marked registrations' lastSyncDateTime in one transaction.
 * 0, or an RG_ code (the marks are kept for the next try).
 */
int appcache_flush(struct appcache *c, struct store *s);

/* Entries held now (registrations with a cached answer), for metrics and tests. */
size_t appcache_count(const struct appcache *c);
#endif
