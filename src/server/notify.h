/*
 * notify.h: change notification for waiting clients (long-poll). A device's
 * agent (and, next, a managed app's SDK) waits on a suspended request; a write
 * that concerns it wakes it at once instead of at its next heartbeat.
 *
 * One process holds every waiter in a list; the cost of an idle waiter is its
 * connection, its suspended request and one small record (no thread). Across
 * nodes the same events will travel over PostgreSQL LISTEN/NOTIFY.
 * Loop thread only.
 */
#ifndef RG_NOTIFY_H
#define RG_NOTIFY_H
#include <stddef.h>

#include "server/http/http.h"

#define NOTIFY_MAX_WAITERS 200000 /* beyond this a wait answers 503 (file descriptors are the real bound) */

enum notify_kind {
    NOTIFY_CONFIG = 1,     /* policies, app configurations, assignments or membership changed (tenant-wide) */
    NOTIFY_INDICATORS = 2, /* the tenant's indicators changed */
    NOTIFY_DEVICE = 4,     /* one device's record changed (tags, offboarding) */
    NOTIFY_THREAT = 8,     /* one device's threat level changed */
};

struct notify;
struct notify *notify_new(void);
/* Frees the registry; waiters still registered must have been answered (server shutdown does). */
void notify_free(struct notify *n);

/*
 * Suspends req until an event of one of `kinds` for the tenant (or this device,
 * for device kinds) or `seconds` pass. On an event the answer is
 * {"changed":true,"reason":"<kind>"}; on timeout {"changed":false}.
 * Returns 0, or -1 when the request could not be suspended (res filled).
 */
int notify_wait(struct notify *n, struct http_request *req, struct http_response *res, const char *tenant_id,
                const char *device_id, unsigned kinds, unsigned seconds);

/* Wakes the tenant's waiters for a tenant-wide kind. */
void notify_tenant(struct notify *n, const char *tenant_id, enum notify_kind kind);
/* Wakes one device's waiters. */
void notify_device(struct notify *n, const char *tenant_id, const char *device_id, enum notify_kind kind);
/* Waiters registered now. */
size_t notify_count(const struct notify *n);
#endif
