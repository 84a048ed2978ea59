/*
 * watch.c: a store that forwards every call to another store and tells an
 * observer about each write (store_watch_new in store.h). riskgated's
 * in-memory caches hang their invalidation here, so no write path can forget
 * to invalidate: whatever handler writes a document, the cache hears of it.
 */
#include <stdlib.h>

#include "common/err.h"
#include "common/jsonsafe.h"
#include "server/store/store.h"

struct watch {
    struct store base; /* first: a struct store * is a struct watch * */
    struct store *inner;
    store_watch_fn fn;
    void *arg;
    store_audit_fn audit;
    void *audit_arg;
    int in_tx; /* the caller's store_begin is open */
};

/* The audit hook's say before a write (0 when there is none). */
static int audited(struct store *s, const char *tenant_id, const char *coll, const char *id, const json_t *after)
{
    struct watch *w = (struct watch *)s;
    return w->audit ? w->audit(w->audit_arg, w->inner, tenant_id, coll, id, after) : 0;
}

static struct watch *W(struct store *s)
{
    return (struct watch *)s;
}

/*
 * No write from a unit of work whose JSON lost a member to a failed allocation
 * (jsonsafe.h): the document, or what decided it, may be incomplete. RG_ENOMEM.
 */
#define REFUSE_IF_JSON_FAILED()                                                                                        \
    do {                                                                                                               \
        if (jsonsafe_failed())                                                                                         \
            return RG_ENOMEM;                                                                                          \
    } while (0)

static void seen(struct store *s, int rc, const char *tenant_id, const char *coll, const char *id)
{
    if (!rc)
        W(s)->fn(W(s)->arg, tenant_id, coll, id);
}

static int w_open(const char *path, struct store **out, char *err, size_t errlen)
{
    (void)path;
    (void)out;
    (void)err;
    (void)errlen;
    return RG_EINVAL; /* opened by store_watch_new only */
}

static void w_close(struct store *s)
{
    store_close(W(s)->inner);
    free(s);
}

static int w_begin(struct store *s)
{
    int rc = W(s)->inner->ops->begin(W(s)->inner);
    W(s)->in_tx = !rc;
    return rc;
}

static int w_commit(struct store *s)
{
    W(s)->in_tx = 0;
    if (jsonsafe_failed()) { /* see REFUSE_IF_JSON_FAILED: nothing of the transaction is kept */
        W(s)->inner->ops->rollback(W(s)->inner);
        W(s)->fn(W(s)->arg, NULL, NULL, NULL);
        return RG_ENOMEM;
    }
    int rc = W(s)->inner->ops->commit(W(s)->inner);
    if (rc) /* what the transaction wrote may or may not be there: forget everything */
        W(s)->fn(W(s)->arg, NULL, NULL, NULL);
    return rc;
}

static void w_rollback(struct store *s)
{
    W(s)->in_tx = 0;
    W(s)->inner->ops->rollback(W(s)->inner);
    /* a cache may have been filled from the transaction's own writes */
    W(s)->fn(W(s)->arg, NULL, NULL, NULL);
}

#define IN (W(s)->inner)

/*
 * An audited write made outside a transaction of the caller's gets one of its
 * own, so the audit record and the change commit together or not at all (a
 * full disk between the two must not leave a record of a write that failed).
 */
static int own_begin(struct store *s, int *own)
{
    *own = W(s)->audit && !W(s)->in_tx;
    return *own ? IN->ops->begin(IN) : 0;
}

static int own_end(struct store *s, int own, int rc)
{
    if (!own)
        return rc;
    if (rc) {
        IN->ops->rollback(IN);
        return rc;
    }
    if (jsonsafe_failed()) { /* the audit record may be the incomplete part */
        IN->ops->rollback(IN);
        return RG_ENOMEM;
    }
    rc = IN->ops->commit(IN);
    if (rc) /* it may or may not be there */
        W(s)->fn(W(s)->arg, NULL, NULL, NULL);
    return rc;
}

static int w_tenant_create(struct store *s, const char *name, char *id_out)
{
    REFUSE_IF_JSON_FAILED();
    return IN->ops->tenant_create(IN, name, id_out);
}
static int w_tenant_find(struct store *s, const char *name, char *id_out)
{
    return IN->ops->tenant_find(IN, name, id_out);
}
static int w_tenant_list(struct store *s, json_t **out)
{
    return IN->ops->tenant_list(IN, out);
}
static int w_key_create(struct store *s, const char *tenant_id, const char *name, const char *role,
                        const char *key_hash, char *id_out)
{
    REFUSE_IF_JSON_FAILED();
    int own, rc = own_begin(s, &own);
    if (!rc)
        rc = IN->ops->key_create(IN, tenant_id, name, role, key_hash, id_out);
    if (!rc && W(s)->audit) {
        json_t *after = json_pack("{s:s,s:s,s:s}", "id", id_out, "name", name, "role", role);
        rc = after ? audited(s, tenant_id, STORE_AUDIT_KEYS, id_out, after) : RG_ENOMEM;
        json_decref(after);
    }
    return own_end(s, own, rc);
}
static int w_key_lookup(struct store *s, const char *key_hash, struct store_key *out)
{
    return IN->ops->key_lookup(IN, key_hash, out);
}
static int w_key_list(struct store *s, const char *tenant_id, json_t **out)
{
    return IN->ops->key_list(IN, tenant_id, out);
}
static int w_key_delete(struct store *s, const char *tenant_id, const char *id)
{
    REFUSE_IF_JSON_FAILED();
    int own, rc = own_begin(s, &own);
    if (!rc)
        rc = audited(s, tenant_id, STORE_AUDIT_KEYS, id, NULL);
    if (!rc)
        rc = IN->ops->key_delete(IN, tenant_id, id);
    return own_end(s, own, rc);
}
static int w_key_count(struct store *s, int64_t *out)
{
    return IN->ops->key_count(IN, out);
}
static int w_doc_insert(struct store *s, const char *tenant_id, const char *coll, const char *id, const json_t *body)
{
    REFUSE_IF_JSON_FAILED();
    int own, rc = own_begin(s, &own);
    if (!rc)
        rc = audited(s, tenant_id, coll, id, body);
    if (!rc)
        rc = IN->ops->doc_insert(IN, tenant_id, coll, id, body);
    rc = own_end(s, own, rc);
    seen(s, rc, tenant_id, coll, id);
    return rc;
}
static int w_doc_update(struct store *s, const char *tenant_id, const char *coll, const char *id, const json_t *body)
{
    REFUSE_IF_JSON_FAILED();
    int own, rc = own_begin(s, &own);
    if (!rc)
        rc = audited(s, tenant_id, coll, id, body);
    if (!rc)
        rc = IN->ops->doc_update(IN, tenant_id, coll, id, body);
    rc = own_end(s, own, rc);
    seen(s, rc, tenant_id, coll, id);
    return rc;
}
static int w_doc_get(struct store *s, const char *tenant_id, const char *coll, const char *id, json_t **out)
{
    return IN->ops->doc_get(IN, tenant_id, coll, id, out);
}
static int w_user_find(struct store *s, const char *tenant_id, const char *upn, json_t **out)
{
    return IN->ops->user_find(IN, tenant_id, upn, out);
}
static int w_doc_list(struct store *s, const char *tenant_id, const char *coll, json_t **out)
{
    return IN->ops->doc_list(IN, tenant_id, coll, out);
}
static int w_doc_delete(struct store *s, const char *tenant_id, const char *coll, const char *id)
{
    REFUSE_IF_JSON_FAILED();
    int own, rc = own_begin(s, &own);
    if (!rc)
        rc = audited(s, tenant_id, coll, id, NULL);
    if (!rc)
        rc = IN->ops->doc_delete(IN, tenant_id, coll, id);
    rc = own_end(s, own, rc);
    seen(s, rc, tenant_id, coll, id);
    return rc;
}
static int w_cred_create(struct store *s, const char *hash, const char *kind, const char *tenant_id,
                         const char *subject_id, int64_t expires_ms)
{
    REFUSE_IF_JSON_FAILED();
    return IN->ops->cred_create(IN, hash, kind, tenant_id, subject_id, expires_ms);
}
static int w_cred_lookup(struct store *s, const char *hash, const char *kind, struct store_cred *out)
{
    return IN->ops->cred_lookup(IN, hash, kind, out);
}
static int w_cred_delete(struct store *s, const char *hash)
{
    REFUSE_IF_JSON_FAILED();
    int rc = IN->ops->cred_delete(IN, hash);
    seen(s, rc, NULL, STORE_WATCH_CREDENTIALS, NULL);
    return rc;
}
static int w_cred_delete_subject(struct store *s, const char *kind, const char *tenant_id, const char *subject_id)
{
    REFUSE_IF_JSON_FAILED();
    int rc = IN->ops->cred_delete_subject(IN, kind, tenant_id, subject_id);
    seen(s, rc, tenant_id, STORE_WATCH_CREDENTIALS, subject_id);
    return rc;
}
static int w_ind_version(struct store *s, const char *tenant_id, int64_t *out)
{
    return IN->ops->ind_version(IN, tenant_id, out);
}
static int w_ind_upsert(struct store *s, const char *tenant_id, const char *type, const char *value, const char *action,
                        const json_t *body, int64_t version, int64_t *id_out)
{
    REFUSE_IF_JSON_FAILED();
    return IN->ops->ind_upsert(IN, tenant_id, type, value, action, body, version, id_out);
}
static int w_ind_get(struct store *s, const char *tenant_id, int64_t id, json_t **out)
{
    return IN->ops->ind_get(IN, tenant_id, id, out);
}
static int w_ind_delete(struct store *s, const char *tenant_id, int64_t id, int64_t version)
{
    REFUSE_IF_JSON_FAILED();
    return IN->ops->ind_delete(IN, tenant_id, id, version);
}
static int w_doc_query(struct store *s, const char *tenant_id, const char *coll, const struct store_doc_query *q,
                       json_t **out)
{
    return IN->ops->doc_query(IN, tenant_id, coll, q, out);
}

static int w_ind_query(struct store *s, const char *tenant_id, const struct store_ind_query *q, json_t **out)
{
    return IN->ops->ind_query(IN, tenant_id, q, out);
}

static const struct store_ops watch_ops = {
    .scheme = "watch",
    .open = w_open,
    .close = w_close,
    .begin = w_begin,
    .commit = w_commit,
    .rollback = w_rollback,
    .tenant_create = w_tenant_create,
    .tenant_find = w_tenant_find,
    .tenant_list = w_tenant_list,
    .key_create = w_key_create,
    .key_lookup = w_key_lookup,
    .key_list = w_key_list,
    .key_delete = w_key_delete,
    .key_count = w_key_count,
    .doc_insert = w_doc_insert,
    .doc_update = w_doc_update,
    .doc_get = w_doc_get,
    .user_find = w_user_find,
    .doc_list = w_doc_list,
    .doc_query = w_doc_query,
    .doc_delete = w_doc_delete,
    .cred_create = w_cred_create,
    .cred_lookup = w_cred_lookup,
    .cred_delete = w_cred_delete,
    .cred_delete_subject = w_cred_delete_subject,
    .ind_version = w_ind_version,
    .ind_upsert = w_ind_upsert,
    .ind_get = w_ind_get,
    .ind_delete = w_ind_delete,
    .ind_query = w_ind_query,
};

int store_watch_new(struct store *inner, store_watch_fn fn, void *arg, struct store **out)
{
    struct watch *w = calloc(1, sizeof *w);
    if (!w)
        return RG_ENOMEM;
    w->base.ops = &watch_ops;
    w->inner = inner;
    w->fn = fn;
    w->arg = arg;
    *out = &w->base;
    return 0;
}

void store_watch_audit(struct store *watching, store_audit_fn fn, void *arg)
{
    W(watching)->audit = fn;
    W(watching)->audit_arg = arg;
}
