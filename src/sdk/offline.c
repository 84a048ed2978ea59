/*
 * offline.c: the offline clock rules (docs/app-api.md "Ticket payload"). With
 * no server, the last verified ticket decides: its allow/warn lasts while
 * now < offlineAccessUntil (periodOfflineBeforeAccessCheck), then "Internet
 * Connection Required"; at offlineWipeAt (periodOfflineBeforeWipeIsEnforced)
 * the app's data is wiped. A clock set back before the ticket was issued
 * grants nothing. Pure: the caller passes the time.
 */
#include "sdk/sdk.h"

struct offline_verdict offline_decide(const struct ticket *t, int64_t now)
{
    if (!t)
        return (struct offline_verdict){RG_ACTION_CONNECT, "offlineNoTicket"};
    if (t->wipe_at && now >= t->wipe_at)
        return (struct offline_verdict){RG_ACTION_WIPE, "offlineWipe"};
    if (t->action == RG_ACTION_WIPE)
        return (struct offline_verdict){RG_ACTION_WIPE, "wipe"};
    if (now < t->issued_at - OFFLINE_CLOCK_SKEW_MS)
        return (struct offline_verdict){RG_ACTION_CONNECT, "clockChanged"};
    if (now >= t->offline_until)
        return (struct offline_verdict){RG_ACTION_CONNECT, "offline"};
    if (t->action == RG_ACTION_BLOCK)
        return (struct offline_verdict){RG_ACTION_BLOCK, "offlineBlocked"};
    return (struct offline_verdict){t->action, "offlineAllowed"};
}
