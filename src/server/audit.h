/*
 * audit.h: the audit trail of admin writes (audit.c): every document write
 * and API key change made while an admin request is handled, recorded in the
 * same transaction as an Intune auditEvent (collection "auditEvents"), served
 * as GET /{v}/deviceManagement/auditEvents.
 */
#ifndef RG_AUDIT_H
#define RG_AUDIT_H
#include "server/app.h"

#define AUDIT_COLLECTION "auditEvents"

/* The store_audit_fn of the watching store (store.h); arg is the struct app. */
int audit_on_write(void *app, struct store *inner, const char *tenant_id, const char *coll, const char *id,
                   const json_t *after);
/* Who the writes from now on are by (an admin API key); cleared after each request. */
void audit_actor_set(struct app *app, const char *key_id, const char *key_name, const char *peer,
                     const char *request_id);
void audit_actor_clear(void *app);
#endif
