/*
 * store.h: riskgated's storage interface. The store is the truth; every
 * backend (one file each: sqlite.c now, postgres.c next) implements the same
 * ops table, and callers never know which one runs.
 *
 * Data model (portable SQL, see sqlite.c for the schema and migrations):
 *  - tenants(id, name)
 *  - api_keys(id, tenant_id, name, role, key_hash): admin/reader keys, SHA-256 of the key only
 *  - credentials(hash, kind, tenant_id, subject_id, expires_at): device credentials,
 *    one-time enrollment codes and partner keys, SHA-256 of the secret only
 *  - indicators(id, tenant_id, type, value, action, body, version, deleted): threat
 *    intelligence at the scale of millions per tenant, versioned for delta sync
 *  - documents(tenant_id, collection, id, body, ...): the Graph resources as JSON
 *    documents (policies, app configurations, connectors, users, groups, ...),
 *    keyed by (tenant, collection, id). Bodies are what the API serves.
 *
 * Every write is its own transaction unless wrapped in store_begin/store_commit,
 * and is durable (fsync'd) when the call returns 0.
 * Results: 0, RG_ENOTFOUND, RG_EEXISTS, RG_ECONFLICT (version mismatch), RG_EIO, RG_ENOMEM,
 * RG_EFULL (the disk is full: nothing of the write, or of the transaction it was in, is kept).
 * After a failed write inside store_begin the transaction may be gone: its later
 * writes and its commit fail with the same code; end it with rollback.
 * A store handle is used by one thread at a time.
 */
#ifndef RG_STORE_H
#define RG_STORE_H
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/util.h"

struct store;
struct odata_query;

struct store_key {
    char id[UTIL_UUID_LEN + 1];
    char tenant_id[UTIL_UUID_LEN + 1];
    char tenant_name[128];
    char name[128];
    char role[16]; /* "admin" or "reader" */
};

/* A hashed secret that is not an API key: device credential, enrollment code, partner key. */
struct store_cred {
    char tenant_id[UTIL_UUID_LEN + 1];
    char subject_id[128]; /* device id, user id or partner (connector) id */
    int64_t expires_ms;   /* 0 = never */
};

/* A query over a tenant's indicators; NULL/0 fields do not filter. */
struct store_ind_query {
    const char *type, *action, *value; /* exact matches (canonical forms) */
    int64_t since_version;             /* only rows changed after this version */
    int with_deleted;                  /* include tombstones (delta sync) */
    int by_version;                    /* order by version (sync) rather than id (admin lists) */
    int64_t after_id;                  /* keyset paging of admin lists: only ids above this */
    int64_t limit, offset;
    /*
     * OData $filter and $orderby (borrowed, may be NULL), compiled to SQL by the
     * backend with its own column map (odata_sql_where/odata_sql_orderby) so the
     * list is answered from an index. $orderby replaces the id/version order
     * (id breaks ties). A property the backend cannot map fails the query with
     * ODATA_ENOTSUP.
     */
    const struct odata_query *odata;
    int64_t *count_out; /* when not NULL, receives the number of matching rows, ignoring limit/offset/after_id;
                         * with limit 0 only the count is run and *out is an empty array */
};

/*
 * A query over a collection of documents with OData, answered in SQL: the
 * backend maps each listed property to its body field (same name) and
 * compiles $filter/$orderby with odata_sql_where/odata_sql_orderby; without
 * $orderby, creation order. ODATA_ENOTSUP when the query uses something the
 * backend cannot compile (the caller may then filter in memory).
 */
struct store_doc_query {
    const struct odata_query *odata;   /* borrowed, may be NULL */
    const char *eq_field, *eq_value;   /* an extra "body field = value" condition (e.g. machineId), may be NULL */
    int64_t limit, offset;             /* limit < 0: all */
    int64_t *count_out;                /* when not NULL, receives the number of matches, ignoring limit/offset */
};

struct store_ops {
    const char *scheme; /* "sqlite" */
    int (*open)(const char *path, struct store **out, char *err, size_t errlen);
    void (*close)(struct store *s);
    int (*begin)(struct store *s);
    int (*commit)(struct store *s);
    void (*rollback)(struct store *s);

    int (*tenant_create)(struct store *s, const char *name, char *id_out /* UTIL_UUID_LEN+1 */);
    int (*tenant_find)(struct store *s, const char *name, char *id_out);
    int (*tenant_list)(struct store *s, json_t **out /* [{id,name,createdDateTime}] */);

    int (*key_create)(struct store *s, const char *tenant_id, const char *name, const char *role,
                      const char *key_hash, char *id_out);
    int (*key_lookup)(struct store *s, const char *key_hash, struct store_key *out);
    int (*key_list)(struct store *s, const char *tenant_id, json_t **out /* [{id,name,role,createdDateTime}] */);
    int (*key_delete)(struct store *s, const char *tenant_id, const char *id);
    int (*key_count)(struct store *s, int64_t *out);

    /* Inserts a new document; RG_EEXISTS if (tenant, collection, id) exists. body borrowed. */
    int (*doc_insert)(struct store *s, const char *tenant_id, const char *coll, const char *id, const json_t *body);
    /* Replaces an existing document; RG_ENOTFOUND if absent. */
    int (*doc_update)(struct store *s, const char *tenant_id, const char *coll, const char *id, const json_t *body);
    int (*doc_get)(struct store *s, const char *tenant_id, const char *coll, const char *id, json_t **out);
    /*
     * One user of the "users" collection by userPrincipalName (ASCII case
     * ignored), through an index: never reads the other users. RG_ENOTFOUND.
     */
    int (*user_find)(struct store *s, const char *tenant_id, const char *upn, json_t **out);
    /* All documents of a collection, ordered by creation, as a new JSON array. */
    int (*doc_list)(struct store *s, const char *tenant_id, const char *coll, json_t **out);
    int (*doc_delete)(struct store *s, const char *tenant_id, const char *coll, const char *id);
    /* Documents of a collection matching q, as a new JSON array (see struct store_doc_query). */
    int (*doc_query)(struct store *s, const char *tenant_id, const char *coll, const struct store_doc_query *q,
                     json_t **out);

    /* Credentials by SHA-256 hash and kind ("device", "enrollment", "partner"). */
    int (*cred_create)(struct store *s, const char *hash, const char *kind, const char *tenant_id,
                       const char *subject_id, int64_t expires_ms);
    int (*cred_lookup)(struct store *s, const char *hash, const char *kind, struct store_cred *out);
    int (*cred_delete)(struct store *s, const char *hash);
    /* Revokes every credential of a kind for a subject (e.g. a device signing out). */
    int (*cred_delete_subject)(struct store *s, const char *kind, const char *tenant_id, const char *subject_id);

    /*
     * Indicators (threat intelligence). Every change takes the tenant's next
     * version (ind_version + 1, the caller's transaction keeps it unique);
     * deletions are tombstones so agents can sync by delta. Rows come back as
     * their stored body plus "id" (string), "_version", "_deleted" and "_value"
     * (the canonical value the row is keyed and matched by).
     */
    int (*ind_version)(struct store *s, const char *tenant_id, int64_t *out);
    /* Creates or updates by (type, value); *id_out receives the indicator's id. */
    int (*ind_upsert)(struct store *s, const char *tenant_id, const char *type, const char *value, const char *action,
                      const json_t *body, int64_t version, int64_t *id_out);
    int (*ind_get)(struct store *s, const char *tenant_id, int64_t id, json_t **out);
    int (*ind_delete)(struct store *s, const char *tenant_id, int64_t id, int64_t version);
    int (*ind_query)(struct store *s, const char *tenant_id, const struct store_ind_query *q, json_t **out);
};

struct store {
    const struct store_ops *ops;
};

/*
 * Opens a store by URL: "sqlite:PATH" (PATH created with its folder if missing).
 * On failure returns RG_EINVAL (unknown scheme) or RG_EIO with err filled.
 */
int store_open(const char *url, struct store **out, char *err, size_t errlen);
/* Closes cleanly (checkpoint, release). Accepts NULL. */
void store_close(struct store *s);

/*
 * backup.c: the embedded database's backup and restore (sqlite: URLs only;
 * RG_EINVAL for others, with the PostgreSQL tools named in err).
 * store_backup copies a consistent snapshot of the live database (riskgated
 * may be serving) to the file `to` (written as to.tmp, checked, synced, then
 * renamed). store_restore checks `from` (integrity, a riskgate schema)
 * before touching anything, then replaces the database's content with it in
 * one transaction and runs the migrations. Stop riskgated before a restore:
 * a running one keeps serving what it had cached. 0, RG_EINVAL or RG_EIO,
 * with err filled.
 */
int store_backup(const char *db_url, const char *to, char *err, size_t errlen);
int store_restore(const char *db_url, const char *from, char *err, size_t errlen);

/*
 * A store that forwards every call to `inner` and, after each successful
 * write, calls fn(arg, tenant_id, collection, id): documents (insert, update,
 * delete) with their collection and id; credential deletions with collection
 * STORE_WATCH_CREDENTIALS (tenant_id and id NULL when unknown). A rollback or
 * a failed commit calls fn(arg, NULL, NULL, NULL): "anything may have changed".
 * Every write, and a commit, fails with RG_ENOMEM while jsonsafe_failed()
 * (common/jsonsafe.h): JSON built since the unit of work began may be missing
 * a member, so nothing of it is stored (a commit then rolls back).
 * Calls come before the caller's transaction commits (an observer only
 * invalidates, so that is safe). Takes ownership of inner: closing the
 * watching store closes it. Returns 0 or RG_ENOMEM (inner left open).
 */
typedef void (*store_watch_fn)(void *arg, const char *tenant_id, const char *coll, const char *id);
#define STORE_WATCH_CREDENTIALS "credentials"
int store_watch_new(struct store *inner, store_watch_fn fn, void *arg, struct store **out);
/*
 * An audit hook on a watching store: before each document write (insert,
 * update; after NULL for a delete) and each API key creation and deletion
 * (collection STORE_AUDIT_KEYS, after {name, role}; never the key or its
 * hash), fn(arg, inner, tenant_id, coll, id, after) runs on the inner store,
 * inside the caller's transaction (or, for a write made outside one, a
 * transaction of its own around the record and the write), so it can read the
 * document as it was and write its record with the change, and the two commit
 * together or not at all. A non-zero return refuses the write.
 */
typedef int (*store_audit_fn)(void *arg, struct store *inner, const char *tenant_id, const char *coll, const char *id,
                              const json_t *after);
#define STORE_AUDIT_KEYS "apiKeys"
void store_watch_audit(struct store *watching, store_audit_fn fn, void *arg);

/* The backends, one file each. */
extern const struct store_ops store_sqlite_ops;
#endif
