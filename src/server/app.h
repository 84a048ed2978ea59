/*
 * app.h: the daemon's state, one struct passed to every handler (no globals).
 */
#ifndef RG_APP_H
#define RG_APP_H
#include <stdbool.h>

#include "common/log.h"
#include "common/util.h"
#include "server/http/http.h"
#include "server/store/store.h"

/* The built-in threat-defense partner's connector id (riskgate's own threat side, in Defender's role). */
#define APP_BUILTIN_PARTNER_ID "fc780465-2017-40d4-a0c5-307022471b92"
#define APP_DEFAULT_TENANT "default"

struct notify;
struct appcache;
struct work_pool;
struct ratelimit;

/* Who the request being handled is by, for the audit trail (audit.h); inactive between requests. */
struct audit_actor {
    bool active;
    char key_id[UTIL_UUID_LEN + 1];
    char key_name[128];
    char peer[64];
    char request_id[40];
};

struct app {
    struct store *store;          /* owned by main */
    struct notify *notify;        /* waiters on suspended requests; owned by main */
    struct appcache *cache;       /* the check-in's in-memory state (appcache.h); owned by main */
    struct sign_key *sign;        /* signs offline tickets; owned by main */
    const struct log *log;        /* borrowed */
    struct http_metrics *metrics; /* borrowed */
    char public_url[256];         /* "http://127.0.0.1:8443": base of @odata.context and nextLink */
    struct work_pool *work;       /* password checks run here, off the loop (work.h); NULL = inline; owned by main */
    struct ratelimit *limits;     /* failed sign-ins per address and per account (ratelimit.h); may be NULL; owned by main */
    int64_t device_alert_limit;      /* alerts and timeline events per device (--device-alert-limit) */
    struct ratelimit *device_limits; /* detection reports per device (its address table, keyed by device id); may be NULL */
    struct audit_actor actor;     /* set by api_authenticate for the request being handled (loop thread only) */
    long flush_failures;          /* failed flushes of check-in times in a row (main.c's tick logs the first and the end) */
};

/*
 * First start against an empty store: creates tenant "default" and one admin
 * key, and writes the key to key_file (mode 0600, the folder created if
 * needed). *created is set to 1 then, 0 on later starts (which never touch
 * the file). Also makes sure every tenant has the built-in connector.
 * Returns 0 or an RG_ code with err filled.
 */
int app_bootstrap(struct app *app, const char *key_file, int *created, char *err, size_t errlen);

/* Creates a tenant with its built-in connector; used by bootstrap and the tenants API. */
int app_tenant_create(struct app *app, const char *name, char *id_out);
/* Creates an API key for a tenant; returns the key (caller frees) or NULL. The key is stored hashed. */
char *app_key_create(struct app *app, const char *tenant_id, const char *name, const char *role, char *id_out);

/* The route table of riskgated (api/routes.c). */
const struct http_route *app_routes(size_t *count);
#endif
