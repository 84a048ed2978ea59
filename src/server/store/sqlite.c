/*
 * sqlite.c: the embedded SQLite backend of the store (store.h).
 *
 * WAL journal with synchronous=FULL, so a committed write survives a crash
 * or kill -9 right after the call returns. Schema changes are numbered
 * migrations applied in order at open, each in its own transaction, recorded
 * in schema_migrations. The SQL in the migrations is kept portable (TEXT,
 * INTEGER, no SQLite-only types) so the PostgreSQL backend can share it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "common/err.h"
#include "common/buf.h"
#include "common/jsonsafe.h"
#include "common/util.h"
#include "server/odata/odata.h"
#include "server/store/store.h"

static const char *const migrations[] = {
    /* 1: tenants, keys, documents */
    "CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);"
    "CREATE TABLE api_keys (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    "  name TEXT NOT NULL, role TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);"
    "CREATE TABLE documents (tenant_id TEXT NOT NULL, collection TEXT NOT NULL, id TEXT NOT NULL,"
    "  body TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (tenant_id, collection, id));"
    "CREATE INDEX documents_by_seq ON documents (tenant_id, collection, seq);",
    /* 2: hashed device credentials, enrollment codes and partner keys */
    "CREATE TABLE credentials (hash TEXT PRIMARY KEY, kind TEXT NOT NULL, tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    "  subject_id TEXT NOT NULL, expires_at INTEGER NOT NULL, created_at TEXT NOT NULL);"
    "CREATE INDEX credentials_by_subject ON credentials (tenant_id, kind, subject_id);",
    /* 3: indicators, versioned per tenant; deletions stay as tombstones so agents sync by delta */
    "CREATE TABLE indicators (id INTEGER PRIMARY KEY AUTOINCREMENT, tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    "  type TEXT NOT NULL, value TEXT NOT NULL, action TEXT NOT NULL, body TEXT NOT NULL, version INTEGER NOT NULL,"
    "  deleted INTEGER NOT NULL DEFAULT 0, UNIQUE (tenant_id, type, value));"
    "CREATE INDEX indicators_by_version ON indicators (tenant_id, version);",
    /* 4: admin lists page by id (keyset) */
    "CREATE INDEX indicators_by_id ON indicators (tenant_id, deleted, id);",
    /* 5: sign-in finds one user by name without reading the tenant's users */
    "CREATE INDEX documents_users_by_upn ON documents (tenant_id, lower(json_extract(body, '$.userPrincipalName')))"
    "  WHERE collection = 'users';",
    /* 6: OData $filter on the indexed columns (compared as lower(col) = lower(?)); action holds the name as sent */
    "CREATE INDEX indicators_by_lvalue ON indicators (tenant_id, deleted, lower(value));"
    "CREATE INDEX indicators_by_ltype ON indicators (tenant_id, deleted, lower(type));"
    "CREATE INDEX indicators_by_laction ON indicators (tenant_id, deleted, lower(action));",
    /*
     * 7: OData on the directory from an index: $filter (eq, startswith) and
     * $orderby on the names admins and scripts look users and groups up by;
     * seq last, the tiebreak of every document order, so a page is read in
     * index order and the scan stops at $top (the sign-in lookup of 5 uses
     * documents_users_by_lupn's leading columns, so 5's index goes)
     */
    "DROP INDEX documents_users_by_upn;"
    "CREATE INDEX documents_users_by_ldisplayname ON documents"
    "  (tenant_id, lower(json_extract(body,'$.displayName')), seq) WHERE collection = 'users';"
    "CREATE INDEX documents_users_by_lupn ON documents"
    "  (tenant_id, lower(json_extract(body,'$.userPrincipalName')), seq) WHERE collection = 'users';"
    "CREATE INDEX documents_users_by_lmail ON documents"
    "  (tenant_id, lower(json_extract(body,'$.mail')), seq) WHERE collection = 'users';"
    "CREATE INDEX documents_groups_by_ldisplayname ON documents"
    "  (tenant_id, lower(json_extract(body,'$.displayName')), seq) WHERE collection = 'groups';",
    /* 8: a device's alerts (every detection report reads them; /api/machines/{id}/alerts) without the tenant's */
    "CREATE INDEX documents_alerts_by_machine ON documents"
    "  (tenant_id, json_extract(body,'$.machineId'), seq) WHERE collection = 'alerts';",
    /* 9: a device's timeline events, counted against --device-alert-limit at every report */
    "CREATE INDEX documents_events_by_machine ON documents"
    "  (tenant_id, json_extract(body,'$.machineId'), seq) WHERE collection = 'deviceEvents';",
};

enum stmt_id {
    S_BEGIN, S_COMMIT, S_ROLLBACK,
    S_TENANT_INSERT, S_TENANT_FIND, S_TENANT_LIST,
    S_KEY_INSERT, S_KEY_LOOKUP, S_KEY_LIST, S_KEY_DELETE, S_KEY_COUNT,
    S_DOC_INSERT, S_DOC_UPDATE, S_DOC_GET, S_DOC_LIST, S_DOC_DELETE, S_USER_BY_UPN,
    S_CRED_INSERT, S_CRED_LOOKUP, S_CRED_DELETE, S_CRED_DELETE_SUBJECT,
    S_IND_VERSION, S_IND_UPSERT, S_IND_ID, S_IND_GET, S_IND_DELETE,
    S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_TENANT_INSERT] = "INSERT INTO tenants (id, name, created_at) VALUES (?1, ?2, ?3)",
    [S_TENANT_FIND] = "SELECT id FROM tenants WHERE name = ?1",
    [S_TENANT_LIST] = "SELECT id, name, created_at FROM tenants ORDER BY created_at, name",
    [S_KEY_INSERT] = "INSERT INTO api_keys (id, tenant_id, name, role, key_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_KEY_LOOKUP] = "SELECT k.id, k.tenant_id, t.name, k.name, k.role FROM api_keys k JOIN tenants t ON t.id = k.tenant_id"
                     " WHERE k.key_hash = ?1",
    [S_KEY_LIST] = "SELECT id, name, role, created_at FROM api_keys WHERE tenant_id = ?1 ORDER BY created_at, id",
    [S_KEY_DELETE] = "DELETE FROM api_keys WHERE tenant_id = ?1 AND id = ?2",
    [S_KEY_COUNT] = "SELECT COUNT(*) FROM api_keys",
    [S_DOC_INSERT] = "INSERT INTO documents (tenant_id, collection, id, body, seq) VALUES (?1, ?2, ?3, ?4,"
                     " (SELECT COALESCE(MAX(seq), 0) + 1 FROM documents WHERE tenant_id = ?1 AND collection = ?2))",
    [S_DOC_UPDATE] = "UPDATE documents SET body = ?4 WHERE tenant_id = ?1 AND collection = ?2 AND id = ?3",
    [S_DOC_GET] = "SELECT body FROM documents WHERE tenant_id = ?1 AND collection = ?2 AND id = ?3",
    [S_DOC_LIST] = "SELECT body FROM documents WHERE tenant_id = ?1 AND collection = ?2 ORDER BY seq",
    /* the expression and the collection literal match documents_users_by_upn, so it is used */
    [S_USER_BY_UPN] = "SELECT body FROM documents WHERE tenant_id = ?1 AND collection = 'users'"
                      " AND lower(json_extract(body, '$.userPrincipalName')) = lower(?2) LIMIT 1",
    [S_DOC_DELETE] = "DELETE FROM documents WHERE tenant_id = ?1 AND collection = ?2 AND id = ?3",
    [S_CRED_INSERT] = "INSERT INTO credentials (hash, kind, tenant_id, subject_id, expires_at, created_at)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_CRED_LOOKUP] = "SELECT tenant_id, subject_id, expires_at FROM credentials WHERE hash = ?1 AND kind = ?2",
    [S_CRED_DELETE] = "DELETE FROM credentials WHERE hash = ?1",
    [S_CRED_DELETE_SUBJECT] = "DELETE FROM credentials WHERE tenant_id = ?1 AND kind = ?2 AND subject_id = ?3",
    [S_IND_VERSION] = "SELECT COALESCE(MAX(version), 0) FROM indicators WHERE tenant_id = ?1",
    [S_IND_UPSERT] = "INSERT INTO indicators (tenant_id, type, value, action, body, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                     " ON CONFLICT (tenant_id, type, value) DO UPDATE SET action = excluded.action,"
                     " body = excluded.body, version = excluded.version, deleted = 0",
    [S_IND_ID] = "SELECT id FROM indicators WHERE tenant_id = ?1 AND type = ?2 AND value = ?3",
    [S_IND_GET] = "SELECT body, id, version, deleted, value FROM indicators WHERE tenant_id = ?1 AND id = ?2 AND deleted = 0",
    [S_IND_DELETE] = "UPDATE indicators SET deleted = 1, version = ?3 WHERE tenant_id = ?1 AND id = ?2 AND deleted = 0",
};

struct sqlite_store {
    struct store base;
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT];
    int in_tx; /* inside store_begin: single statements do not open their own transaction */
    /*
     * Set when SQLite rolled the open transaction back by itself (it may on
     * SQLITE_FULL, SQLITE_IOERR and SQLITE_NOMEM): every later write of that
     * transaction and its commit fail with this code, so a caller that goes
     * on after a failed statement cannot commit half of its writes one by one
     * in autocommit mode. Cleared by the rollback or commit that ends it.
     */
    int tx_error;
};

static struct sqlite_store *S(struct store *s)
{
    return (struct sqlite_store *)s;
}

static int map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return 0;
    case SQLITE_CONSTRAINT:
        return RG_EEXISTS;
    case SQLITE_NOMEM:
        return RG_ENOMEM;
    case SQLITE_FULL: /* the disk (or a quota) is full: the statement wrote nothing */
        return RG_EFULL;
    case SQLITE_IOERR:
        /* the WAL index (-shm) could not grow: out of space as well */
        return rc == SQLITE_IOERR_SHMSIZE ? RG_EFULL : RG_EIO;
    default:
        return RG_EIO;
    }
}

/* Resets a cached statement and binds text parameters (NULL-terminated list). */
static sqlite3_stmt *prep(struct sqlite_store *ss, enum stmt_id id)
{
    sqlite3_stmt *st = ss->stmt[id];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

static void bind(sqlite3_stmt *st, int idx, const char *v)
{
    sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC);
}

static int exec1(struct sqlite_store *ss, sqlite3_stmt *st)
{
    if (ss->tx_error)
        return ss->tx_error;
    if (ss->in_tx && sqlite3_get_autocommit(ss->db)) /* another statement's failure ended it (a read's, say) */
        return ss->tx_error = RG_EIO;
    int rc = sqlite3_step(st);
    int changes = sqlite3_changes(ss->db);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        int err = map_rc(rc);
        if (!err)
            err = RG_EIO;
        if (ss->in_tx && sqlite3_get_autocommit(ss->db))
            ss->tx_error = err; /* the transaction is gone (see struct sqlite_store) */
        return err;
    }
    return changes;
}

static int run_migrations(sqlite3 *db, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db,
                     "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                     " applied_at TEXT NOT NULL)",
                     NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    for (size_t i = 0; i < sizeof migrations / sizeof migrations[0]; i++) {
        int version = (int)i + 1;
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, "SELECT 1 FROM schema_migrations WHERE version = ?1", -1, &st, NULL) != SQLITE_OK)
            goto fail_db;
        sqlite3_bind_int(st, 1, version);
        int have = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        if (have)
            continue;
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
            goto fail;
        if (sqlite3_exec(db, migrations[i], NULL, NULL, &msg) != SQLITE_OK) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            goto fail;
        }
        char ts[UTIL_TIME_LEN + 1], sql[128];
        util_time_format(util_now_ms(), ts, sizeof ts);
        snprintf(sql, sizeof sql, "INSERT INTO schema_migrations VALUES (%d, '%s')", version, ts);
        if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK || sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            goto fail;
        }
    }
    return 0;
fail:
    snprintf(err, errlen, "migration failed: %s", msg ? msg : "unknown error");
    sqlite3_free(msg);
    return RG_EIO;
fail_db:
    snprintf(err, errlen, "migration failed: %s", sqlite3_errmsg(db));
    return RG_EIO;
}

static void sq_close(struct store *s)
{
    struct sqlite_store *ss = S(s);
    if (!ss)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(ss->stmt[i]);
    if (ss->db) {
        sqlite3_exec(ss->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
        sqlite3_close(ss->db);
    }
    free(ss);
}

/* mkdir -p of the folder holding path. */
static int make_parent(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(dir, 0700) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(dir, 0700) && errno != EEXIST)
        return -1;
    return 0;
}

static int sq_open(const char *path, struct store **out, char *err, size_t errlen)
{
    if (!*path) {
        snprintf(err, errlen, "sqlite: empty path");
        return RG_EINVAL;
    }
    if (make_parent(path)) {
        snprintf(err, errlen, "sqlite: cannot create the folder of %s: %s", path, strerror(errno));
        return RG_EIO;
    }
    struct sqlite_store *ss = calloc(1, sizeof *ss);
    if (!ss)
        return RG_ENOMEM;
    ss->base.ops = &store_sqlite_ops;
    if (sqlite3_open_v2(path, &ss->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "sqlite: cannot open %s: %s", path, ss->db ? sqlite3_errmsg(ss->db) : "out of memory");
        sq_close(&ss->base);
        return RG_EIO;
    }
    sqlite3_busy_timeout(ss->db, 5000);
    sqlite3_extended_result_codes(ss->db, 1); /* map_rc tells a full WAL index (SQLITE_IOERR_SHMSIZE) from other I/O */
    char *msg = NULL;
    /* a 64 MiB page cache: the B-tree pages of key lookups (a first check-in reads 4 rows by key) stay in memory */
    if (sqlite3_exec(ss->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                             " PRAGMA cache_size=-65536;", NULL, NULL,
                     &msg) != SQLITE_OK) {
        snprintf(err, errlen, "sqlite: %s: %s", path, msg ? msg : "pragma failed");
        sqlite3_free(msg);
        sq_close(&ss->base);
        return RG_EIO;
    }
    int rc = run_migrations(ss->db, err, errlen);
    if (rc) {
        sq_close(&ss->base);
        return rc;
    }
    for (int i = 0; i < S_COUNT; i++) {
        if (sqlite3_prepare_v3(ss->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &ss->stmt[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "sqlite: prepare failed: %s", sqlite3_errmsg(ss->db));
            sq_close(&ss->base);
            return RG_EIO;
        }
    }
    *out = &ss->base;
    return 0;
}

static int sq_begin(struct store *s)
{
    struct sqlite_store *ss = S(s);
    ss->tx_error = 0;
    int rc = exec1(ss, prep(ss, S_BEGIN));
    if (rc < 0)
        return rc;
    ss->in_tx = 1;
    return 0;
}

static int sq_commit(struct store *s)
{
    struct sqlite_store *ss = S(s);
    int rc = exec1(ss, prep(ss, S_COMMIT)); /* tx_error when the transaction is already gone */
    if (rc < 0) {
        if (!sqlite3_get_autocommit(ss->db)) {
            ss->tx_error = 0;
            exec1(ss, prep(ss, S_ROLLBACK));
        }
        ss->in_tx = 0;
        ss->tx_error = 0;
        return rc;
    }
    ss->in_tx = 0;
    return 0;
}

static void sq_rollback(struct store *s)
{
    struct sqlite_store *ss = S(s);
    ss->tx_error = 0;
    if (ss->in_tx && !sqlite3_get_autocommit(ss->db))
        exec1(ss, prep(ss, S_ROLLBACK));
    ss->in_tx = 0;
}

static void now_text(char *ts, size_t n)
{
    util_time_format(util_now_ms(), ts, n);
}

static int sq_tenant_create(struct store *s, const char *name, char *id_out)
{
    struct sqlite_store *ss = S(s);
    char id[UTIL_UUID_LEN + 1], ts[UTIL_TIME_LEN + 1];
    if (util_uuid(id, sizeof id))
        return RG_EIO;
    now_text(ts, sizeof ts);
    sqlite3_stmt *st = prep(ss, S_TENANT_INSERT);
    bind(st, 1, id);
    bind(st, 2, name);
    bind(st, 3, ts);
    int rc = exec1(ss, st);
    if (rc < 0)
        return rc;
    memcpy(id_out, id, sizeof id);
    return 0;
}

static int sq_tenant_find(struct store *s, const char *name, char *id_out)
{
    struct sqlite_store *ss = S(s);
    sqlite3_stmt *st = prep(ss, S_TENANT_FIND);
    bind(st, 1, name);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        snprintf(id_out, UTIL_UUID_LEN + 1, "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_reset(st);
        return 0;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? RG_ENOTFOUND : map_rc(rc);
}

/* Runs a query and collects rows as objects with the given column names. */
static int rows_to_json(sqlite3_stmt *st, const char *const *cols, json_t **out)
{
    json_t *arr = json_array();
    if (!arr)
        return RG_ENOMEM;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        for (int i = 0; cols[i]; i++)
            json_object_set_new(o, cols[i], json_string((const char *)sqlite3_column_text(st, i)));
        json_array_append_new(arr, o);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return map_rc(rc);
    }
    *out = arr;
    return 0;
}

static int sq_tenant_list(struct store *s, json_t **out)
{
    static const char *const cols[] = {"id", "name", "createdDateTime", NULL};
    return rows_to_json(prep(S(s), S_TENANT_LIST), cols, out);
}

static int sq_key_create(struct store *s, const char *tenant_id, const char *name, const char *role,
                         const char *key_hash, char *id_out)
{
    struct sqlite_store *ss = S(s);
    char id[UTIL_UUID_LEN + 1], ts[UTIL_TIME_LEN + 1];
    if (util_uuid(id, sizeof id))
        return RG_EIO;
    now_text(ts, sizeof ts);
    sqlite3_stmt *st = prep(ss, S_KEY_INSERT);
    bind(st, 1, id);
    bind(st, 2, tenant_id);
    bind(st, 3, name);
    bind(st, 4, role);
    bind(st, 5, key_hash);
    bind(st, 6, ts);
    int rc = exec1(ss, st);
    if (rc < 0)
        return rc;
    if (id_out)
        memcpy(id_out, id, sizeof id);
    return 0;
}

static void col_copy(sqlite3_stmt *st, int col, char *dst, size_t n)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    snprintf(dst, n, "%s", v ? (const char *)v : "");
}

static int sq_key_lookup(struct store *s, const char *key_hash, struct store_key *out)
{
    struct sqlite_store *ss = S(s);
    sqlite3_stmt *st = prep(ss, S_KEY_LOOKUP);
    bind(st, 1, key_hash);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        col_copy(st, 0, out->id, sizeof out->id);
        col_copy(st, 1, out->tenant_id, sizeof out->tenant_id);
        col_copy(st, 2, out->tenant_name, sizeof out->tenant_name);
        col_copy(st, 3, out->name, sizeof out->name);
        col_copy(st, 4, out->role, sizeof out->role);
        sqlite3_reset(st);
        return 0;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? RG_ENOTFOUND : map_rc(rc);
}

static int sq_key_list(struct store *s, const char *tenant_id, json_t **out)
{
    static const char *const cols[] = {"id", "name", "role", "createdDateTime", NULL};
    sqlite3_stmt *st = prep(S(s), S_KEY_LIST);
    bind(st, 1, tenant_id);
    return rows_to_json(st, cols, out);
}

static int sq_key_delete(struct store *s, const char *tenant_id, const char *id)
{
    struct sqlite_store *ss = S(s);
    sqlite3_stmt *st = prep(ss, S_KEY_DELETE);
    bind(st, 1, tenant_id);
    bind(st, 2, id);
    int rc = exec1(ss, st);
    return rc < 0 ? rc : rc == 0 ? RG_ENOTFOUND : 0;
}

static int sq_key_count(struct store *s, int64_t *out)
{
    struct sqlite_store *ss = S(s);
    sqlite3_stmt *st = prep(ss, S_KEY_COUNT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : map_rc(rc);
}

static int doc_write(struct store *s, enum stmt_id sid, const char *tenant_id, const char *coll, const char *id,
                     const json_t *body)
{
    struct sqlite_store *ss = S(s);
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text)
        return RG_ENOMEM;
    sqlite3_stmt *st = prep(ss, sid);
    bind(st, 1, tenant_id);
    bind(st, 2, coll);
    bind(st, 3, id);
    bind(st, 4, text);
    int rc = exec1(ss, st);
    free(text);
    if (rc < 0)
        return rc;
    if (sid == S_DOC_UPDATE && rc == 0)
        return RG_ENOTFOUND;
    return 0;
}

static int sq_doc_insert(struct store *s, const char *tenant_id, const char *coll, const char *id, const json_t *body)
{
    return doc_write(s, S_DOC_INSERT, tenant_id, coll, id, body);
}

static int sq_doc_update(struct store *s, const char *tenant_id, const char *coll, const char *id, const json_t *body)
{
    return doc_write(s, S_DOC_UPDATE, tenant_id, coll, id, body);
}

static json_t *parse_body(sqlite3_stmt *st)
{
    const char *text = (const char *)sqlite3_column_text(st, 0);
    if (!text) /* the column is NOT NULL: SQLite ran out of memory converting it */
        return NULL;
    int n = sqlite3_column_bytes(st, 0);
    return jsonsafe_loadb(text, (size_t)n, 0, NULL);
}

static int sq_doc_get(struct store *s, const char *tenant_id, const char *coll, const char *id, json_t **out)
{
    struct sqlite_store *ss = S(s);
    sqlite3_stmt *st = prep(ss, S_DOC_GET);
    bind(st, 1, tenant_id);
    bind(st, 2, coll);
    bind(st, 3, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        json_t *doc = parse_body(st);
        sqlite3_reset(st);
        if (!doc)
            return RG_EIO;
        *out = doc;
        return 0;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? RG_ENOTFOUND : map_rc(rc);
}

static int sq_user_find(struct store *s, const char *tenant_id, const char *upn, json_t **out)
{
    struct sqlite_store *ss = S(s);
    sqlite3_stmt *st = prep(ss, S_USER_BY_UPN);
    bind(st, 1, tenant_id);
    bind(st, 2, upn);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        json_t *doc = parse_body(st);
        sqlite3_reset(st);
        if (!doc)
            return RG_EIO;
        *out = doc;
        return 0;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? RG_ENOTFOUND : map_rc(rc);
}

static int sq_doc_list(struct store *s, const char *tenant_id, const char *coll, json_t **out)
{
    struct sqlite_store *ss = S(s);
    sqlite3_stmt *st = prep(ss, S_DOC_LIST);
    bind(st, 1, tenant_id);
    bind(st, 2, coll);
    json_t *arr = json_array();
    if (!arr)
        return RG_ENOMEM;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *doc = parse_body(st);
        if (!doc) {
            rc = SQLITE_CORRUPT;
            break;
        }
        json_array_append_new(arr, doc);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return map_rc(rc);
    }
    *out = arr;
    return 0;
}

static int sq_doc_delete(struct store *s, const char *tenant_id, const char *coll, const char *id)
{
    struct sqlite_store *ss = S(s);
    sqlite3_stmt *st = prep(ss, S_DOC_DELETE);
    bind(st, 1, tenant_id);
    bind(st, 2, coll);
    bind(st, 3, id);
    int rc = exec1(ss, st);
    return rc < 0 ? rc : rc == 0 ? RG_ENOTFOUND : 0;
}

static int sq_cred_create(struct store *s, const char *hash, const char *kind, const char *tenant_id,
                          const char *subject_id, int64_t expires_ms)
{
    struct sqlite_store *ss = S(s);
    char ts[UTIL_TIME_LEN + 1];
    now_text(ts, sizeof ts);
    sqlite3_stmt *st = prep(ss, S_CRED_INSERT);
    bind(st, 1, hash);
    bind(st, 2, kind);
    bind(st, 3, tenant_id);
    bind(st, 4, subject_id);
    sqlite3_bind_int64(st, 5, expires_ms);
    bind(st, 6, ts);
    int rc = exec1(ss, st);
    return rc < 0 ? rc : 0;
}

static int sq_cred_lookup(struct store *s, const char *hash, const char *kind, struct store_cred *out)
{
    struct sqlite_store *ss = S(s);
    sqlite3_stmt *st = prep(ss, S_CRED_LOOKUP);
    bind(st, 1, hash);
    bind(st, 2, kind);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        col_copy(st, 0, out->tenant_id, sizeof out->tenant_id);
        col_copy(st, 1, out->subject_id, sizeof out->subject_id);
        out->expires_ms = sqlite3_column_int64(st, 2);
        sqlite3_reset(st);
        return 0;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? RG_ENOTFOUND : map_rc(rc);
}

static int sq_cred_delete(struct store *s, const char *hash)
{
    struct sqlite_store *ss = S(s);
    sqlite3_stmt *st = prep(ss, S_CRED_DELETE);
    bind(st, 1, hash);
    int rc = exec1(ss, st);
    return rc < 0 ? rc : rc == 0 ? RG_ENOTFOUND : 0;
}

static int sq_cred_delete_subject(struct store *s, const char *kind, const char *tenant_id, const char *subject_id)
{
    struct sqlite_store *ss = S(s);
    sqlite3_stmt *st = prep(ss, S_CRED_DELETE_SUBJECT);
    bind(st, 1, tenant_id);
    bind(st, 2, kind);
    bind(st, 3, subject_id);
    int rc = exec1(ss, st);
    return rc < 0 ? rc : 0;
}

static int sq_ind_version(struct store *s, const char *tenant_id, int64_t *out)
{
    struct sqlite_store *ss = S(s);
    sqlite3_stmt *st = prep(ss, S_IND_VERSION);
    bind(st, 1, tenant_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : map_rc(rc);
}

static int sq_ind_upsert(struct store *s, const char *tenant_id, const char *type, const char *value,
                         const char *action, const json_t *body, int64_t version, int64_t *id_out)
{
    struct sqlite_store *ss = S(s);
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text)
        return RG_ENOMEM;
    sqlite3_stmt *st = prep(ss, S_IND_UPSERT);
    bind(st, 1, tenant_id);
    bind(st, 2, type);
    bind(st, 3, value);
    bind(st, 4, action);
    bind(st, 5, text);
    sqlite3_bind_int64(st, 6, version);
    int rc = exec1(ss, st);
    free(text);
    if (rc < 0)
        return rc;
    st = prep(ss, S_IND_ID);
    bind(st, 1, tenant_id);
    bind(st, 2, type);
    bind(st, 3, value);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id_out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : map_rc(rc ? rc : SQLITE_ERROR);
}

/*
 * An indicator row as JSON: its body plus "id" (a string, as Defender's) and the
 * sync fields "_version", "_deleted" and "_value" (the canonical value; the
 * body's indicatorValue is the one the caller sent).
 */
static json_t *ind_row(sqlite3_stmt *st)
{
    json_t *o = parse_body(st);
    if (!o)
        return NULL;
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)sqlite3_column_int64(st, 1));
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "_version", json_integer(sqlite3_column_int64(st, 2)));
    json_object_set_new(o, "_deleted", json_boolean(sqlite3_column_int(st, 3)));
    json_object_set_new(o, "_value", json_string((const char *)sqlite3_column_text(st, 4)));
    return o;
}

static int sq_ind_get(struct store *s, const char *tenant_id, int64_t id, json_t **out)
{
    struct sqlite_store *ss = S(s);
    sqlite3_stmt *st = prep(ss, S_IND_GET);
    bind(st, 1, tenant_id);
    sqlite3_bind_int64(st, 2, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = ind_row(st);
        sqlite3_reset(st);
        return *out ? 0 : RG_EIO;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? RG_ENOTFOUND : map_rc(rc);
}

static int sq_ind_delete(struct store *s, const char *tenant_id, int64_t id, int64_t version)
{
    struct sqlite_store *ss = S(s);
    sqlite3_stmt *st = prep(ss, S_IND_DELETE);
    bind(st, 1, tenant_id);
    sqlite3_bind_int64(st, 2, id);
    sqlite3_bind_int64(st, 3, version);
    int rc = exec1(ss, st);
    return rc < 0 ? rc : rc == 0 ? RG_ENOTFOUND : 0;
}

/*
 * How OData reaches an indicator in SQL. The indexed columns (value and type
 * canonical, action as sent) are compared as lower(col) = lower(?), which the
 * lower() indexes of migration 6 serve; the rest are read from the body.
 * Names are qualified ("indicators.type"): inside an any()/all() subquery
 * json_each's own columns (id, type, value, ...) would capture bare ones.
 * The string lists are JSON arrays in every stored body (build() in
 * api/indicators.c splits a comma-separated rbacGroupNames), and json_each
 * walks their elements (only of an array: json_each would give a JSON null
 * or a scalar as one row): rbacGroupNames/any(g: g eq 'vip') is an EXISTS
 * over json_each in SQL, not a scan of the rows in C.
 */
#define J(p) "json_extract(indicators.body,'$." p "')"
#define EACH(p) "json_each(CASE json_type(indicators.body,'$." p "') WHEN 'array' THEN " J(p) " END)"
static const struct odata_sql_map ind_map[] = {
    {"id", "indicators.id", ODATA_SQL_NOCASE, NULL, NULL},
    {"indicatorValue", "indicators.value", ODATA_SQL_BYTE_ORDER, NULL, NULL},
    {"indicatorType", "indicators.type", ODATA_SQL_BYTE_ORDER, NULL, NULL},
    {"action", "indicators.action", ODATA_SQL_BYTE_ORDER, NULL, NULL},
    {"title", J("title"), ODATA_SQL_BYTE_ORDER, NULL, NULL},
    {"description", J("description"), ODATA_SQL_BYTE_ORDER, NULL, NULL},
    {"severity", J("severity"), ODATA_SQL_BYTE_ORDER, NULL, NULL},
    {"application", J("application"), ODATA_SQL_BYTE_ORDER, NULL, NULL},
    {"externalId", J("externalId"), ODATA_SQL_BYTE_ORDER, NULL, NULL},
    {"externalID", J("externalID"), ODATA_SQL_BYTE_ORDER, NULL, NULL},
    {"sourceType", J("sourceType"), ODATA_SQL_BYTE_ORDER, NULL, NULL},
    {"source", J("source"), ODATA_SQL_BYTE_ORDER, NULL, NULL},
    {"createdBy", J("createdBy"), ODATA_SQL_BYTE_ORDER, NULL, NULL},
    {"createdBySource", J("createdBySource"), ODATA_SQL_BYTE_ORDER, NULL, NULL},
    {"createdByDisplayName", J("createdByDisplayName"), ODATA_SQL_BYTE_ORDER, NULL, NULL},
    {"lastUpdatedBy", J("lastUpdatedBy"), ODATA_SQL_BYTE_ORDER, NULL, NULL},
    {"recommendedActions", J("recommendedActions"), ODATA_SQL_BYTE_ORDER, NULL, NULL},
    {"educateUrl", J("educateUrl"), ODATA_SQL_BYTE_ORDER, NULL, NULL},
    {"category", J("category"), ODATA_SQL_BYTE_ORDER, NULL, NULL},
    {"lookBackPeriod", J("lookBackPeriod"), ODATA_SQL_BYTE_ORDER, NULL, NULL},
    {"generateAlert", J("generateAlert"), ODATA_SQL_NOCASE, NULL, NULL},
    {"creationTimeDateTimeUtc", J("creationTimeDateTimeUtc"), ODATA_SQL_TIME_TEXT, NULL, NULL},
    {"lastUpdateTime", J("lastUpdateTime"), ODATA_SQL_TIME_TEXT, NULL, NULL},
    {"expirationTime", J("_expires"), ODATA_SQL_TIME_TEXT, NULL, NULL}, /* util_time_format's form of it, set by the API */
    {"rbacGroupNames", J("rbacGroupNames"), 0, EACH("rbacGroupNames"), "json_each.value"},
    {"rbacGroupIds", J("rbacGroupIds"), 0, EACH("rbacGroupIds"), "json_each.value"},
    {"mitreTechniques", J("mitreTechniques"), 0, EACH("mitreTechniques"), "json_each.value"},
};
#undef EACH
#undef J

/* Binds odata_sql_where's values (strings, integers, reals, booleans as 1/0) from index *idx on. */
static void bind_json(sqlite3_stmt *st, int *idx, const json_t *binds)
{
    size_t i;
    json_t *v;
    json_array_foreach(binds, i, v) {
        int k = (*idx)++;
        if (json_is_string(v))
            sqlite3_bind_text(st, k, json_string_value(v), (int)json_string_length(v), SQLITE_TRANSIENT);
        else if (json_is_integer(v))
            sqlite3_bind_int64(st, k, json_integer_value(v));
        else if (json_is_real(v))
            sqlite3_bind_double(st, k, json_real_value(v));
        else if (json_is_boolean(v))
            sqlite3_bind_int(st, k, json_is_true(v));
        else
            sqlite3_bind_null(st, k);
    }
}

/* The WHERE clause of an indicator query (after "WHERE"), with its binds; keyset skipped when !keyset. */
static int ind_where(const struct store_ind_query *q, int keyset, struct buf *sql, json_t *binds)
{
    int rc = buf_puts(sql, "tenant_id = ?");
    if (!rc && q->since_version)
        rc = buf_puts(sql, " AND version > ?");
    if (!rc && !q->with_deleted)
        rc = buf_puts(sql, " AND deleted = 0");
    if (!rc && keyset && q->after_id)
        rc = buf_puts(sql, " AND id > ?");
    if (!rc && q->type)
        rc = buf_puts(sql, " AND type = ?");
    if (!rc && q->action)
        rc = buf_puts(sql, " AND action = ?");
    if (!rc && q->value)
        rc = buf_puts(sql, " AND value = ?");
    if (!rc && q->odata) {
        rc = buf_puts(sql, " AND (");
        if (!rc)
            rc = odata_sql_where(q->odata, ind_map, sizeof ind_map / sizeof ind_map[0], sql, binds);
        if (!rc)
            rc = buf_puts(sql, ")");
    }
    return rc;
}

static void ind_bind_fixed(sqlite3_stmt *st, int *idx, const char *tenant_id, const struct store_ind_query *q,
                           int keyset)
{
    bind(st, (*idx)++, tenant_id);
    if (q->since_version)
        sqlite3_bind_int64(st, (*idx)++, q->since_version);
    if (keyset && q->after_id)
        sqlite3_bind_int64(st, (*idx)++, q->after_id);
    if (q->type)
        bind(st, (*idx)++, q->type);
    if (q->action)
        bind(st, (*idx)++, q->action);
    if (q->value)
        bind(st, (*idx)++, q->value);
}

static int ind_count(struct sqlite_store *ss, const char *tenant_id, const struct store_ind_query *q, int64_t *out)
{
    struct buf sql = BUF_INIT(64 * 1024);
    json_t *binds = json_array();
    int rc = binds ? buf_puts(&sql, "SELECT COUNT(*) FROM indicators WHERE ") : RG_ENOMEM;
    if (!rc)
        rc = ind_where(q, 0, &sql, binds);
    sqlite3_stmt *st = NULL;
    if (!rc && sqlite3_prepare_v2(ss->db, buf_str(&sql), -1, &st, NULL) != SQLITE_OK)
        rc = RG_EIO;
    if (!rc) {
        int idx = 1;
        ind_bind_fixed(st, &idx, tenant_id, q, 0);
        bind_json(st, &idx, binds);
        int sr = sqlite3_step(st);
        if (sr == SQLITE_ROW)
            *out = sqlite3_column_int64(st, 0);
        else
            rc = map_rc(sr);
    }
    sqlite3_finalize(st);
    json_decref(binds);
    buf_release(&sql);
    return rc;
}

static int sq_ind_query(struct store *s, const char *tenant_id, const struct store_ind_query *q, json_t **out)
{
    struct sqlite_store *ss = S(s);
    /* fixed clauses and odata's placeholders, values bound: no text from the request enters the SQL */
    struct buf sql = BUF_INIT(64 * 1024);
    json_t *binds = json_array();
    int rc = binds ? buf_puts(&sql, "SELECT body, id, version, deleted, value FROM indicators WHERE ") : RG_ENOMEM;
    if (!rc)
        rc = ind_where(q, 1, &sql, binds);
    if (!rc)
        rc = buf_puts(&sql, " ORDER BY ");
    if (!rc && q->odata && q->odata->norderby)
        rc = odata_sql_orderby(q->odata, ind_map, sizeof ind_map / sizeof ind_map[0], "id", &sql);
    else if (!rc)
        rc = buf_puts(&sql, q->by_version ? "version" : "id");
    if (!rc)
        rc = buf_puts(&sql, " LIMIT ? OFFSET ?");
    if (!rc && q->count_out)
        rc = ind_count(ss, tenant_id, q, q->count_out);
    if (!rc && q->count_out && q->limit == 0) { /* a count alone: no page to read */
        json_decref(binds);
        buf_release(&sql);
        *out = json_array();
        return *out ? 0 : RG_ENOMEM;
    }
    sqlite3_stmt *st = NULL;
    if (!rc && sqlite3_prepare_v2(ss->db, buf_str(&sql), -1, &st, NULL) != SQLITE_OK)
        rc = RG_EIO;
    buf_release(&sql);
    if (rc) {
        json_decref(binds);
        return rc;
    }
    int idx = 1;
    ind_bind_fixed(st, &idx, tenant_id, q, 1);
    bind_json(st, &idx, binds);
    json_decref(binds);
    sqlite3_bind_int64(st, idx++, q->limit);
    sqlite3_bind_int64(st, idx++, q->offset);
    json_t *arr = json_array();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = ind_row(st);
        if (!o) {
            rc = SQLITE_CORRUPT;
            break;
        }
        json_array_append_new(arr, o);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return map_rc(rc);
    }
    *out = arr;
    return 0;
}

/*
 * The SQL map of a document query: every property of the collection read
 * from its body field. Names come from the caller's static odata tables
 * (trusted text, letters and digits only; anything else is not mapped).
 */
static int doc_map(const struct odata_collection *c, struct odata_sql_map **out, char **texts)
{
    struct odata_sql_map *m = calloc(c->nprops ? c->nprops : 1, sizeof *m);
    struct buf t = BUF_INIT(64 * 1024);
    size_t *offs = calloc(c->nprops ? c->nprops : 1, sizeof *offs);
    size_t n = 0;
    int rc = m && offs ? 0 : RG_ENOMEM;
    for (size_t i = 0; i < c->nprops && !rc; i++) {
        const char *name = c->props[i].name;
        if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != strlen(name))
            continue;
        offs[n] = t.len;
        rc = buf_printf(&t, "json_extract(body,'$.%s')", name);
        if (!rc)
            rc = buf_append(&t, "", 1);
        m[n].prop = name;
        m[n].flags = c->props[i].type == ODATA_T_DATETIME ? ODATA_SQL_TIME_TEXT
                     : c->props[i].type == ODATA_T_BOOL   ? ODATA_SQL_NOCASE
                                                          : ODATA_SQL_BYTE_ORDER;
        n++;
    }
    if (rc) {
        free(m);
        free(offs);
        buf_release(&t);
        return rc;
    }
    char *base = buf_detach(&t);
    for (size_t i = 0; i < n; i++)
        m[i].expr = base + offs[i];
    free(offs);
    *out = m;
    *texts = base;
    return (int)n;
}

static int sq_doc_query(struct store *s, const char *tenant_id, const char *coll, const struct store_doc_query *q,
                        json_t **out)
{
    struct sqlite_store *ss = S(s);
    struct odata_sql_map *map = NULL;
    char *texts = NULL;
    int nmap = 0;
    if (q->odata) {
        nmap = doc_map(q->odata->coll, &map, &texts);
        if (nmap < 0)
            return nmap;
    }
    struct buf where = BUF_INIT(64 * 1024), sql = BUF_INIT(128 * 1024);
    json_t *binds = json_array();
    /*
     * The collection name is the caller's constant: as a literal (when it is
     * one word) it lets SQLite use the partial indexes "WHERE collection =
     * 'users'" of migrations 5 and 7, which a bound value would not.
     */
    bool lit = strspn(coll, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == strlen(coll) && *coll;
    int rc = !binds ? RG_ENOMEM
             : lit  ? buf_printf(&where, "tenant_id = ? AND collection = '%s'", coll)
                    : buf_puts(&where, "tenant_id = ? AND collection = ?");
    if (!rc && q->eq_field)
        rc = buf_printf(&where, " AND json_extract(body,'$.%s') = ?", q->eq_field);
    if (!rc && q->odata) {
        rc = buf_puts(&where, " AND (");
        if (!rc)
            rc = odata_sql_where(q->odata, map, (size_t)nmap, &where, binds);
        if (!rc)
            rc = buf_puts(&where, ")");
    }
    int64_t count = 0;
    for (int pass = q->count_out ? 0 : 1; pass < 2 && !rc; pass++) {
        buf_clear(&sql);
        rc = buf_printf(&sql, "SELECT %s FROM documents WHERE %s", pass ? "body" : "COUNT(*)", buf_str(&where));
        if (!rc && pass) {
            rc = buf_puts(&sql, " ORDER BY ");
            if (!rc && q->odata && q->odata->norderby)
                rc = odata_sql_orderby(q->odata, map, (size_t)nmap, "seq", &sql);
            else if (!rc)
                rc = buf_puts(&sql, "seq");
            if (!rc)
                rc = buf_puts(&sql, " LIMIT ? OFFSET ?");
        }
        sqlite3_stmt *st = NULL;
        if (!rc && sqlite3_prepare_v2(ss->db, buf_str(&sql), -1, &st, NULL) != SQLITE_OK)
            rc = RG_EIO;
        if (rc)
            break;
        int idx = 1;
        bind(st, idx++, tenant_id);
        if (!lit)
            bind(st, idx++, coll);
        if (q->eq_field)
            bind(st, idx++, q->eq_value);
        bind_json(st, &idx, binds);
        if (!pass) {
            int sr = sqlite3_step(st);
            if (sr == SQLITE_ROW)
                count = sqlite3_column_int64(st, 0);
            else
                rc = map_rc(sr);
        } else {
            sqlite3_bind_int64(st, idx++, q->limit);
            sqlite3_bind_int64(st, idx++, q->offset);
            json_t *arr = json_array();
            int sr;
            while ((sr = sqlite3_step(st)) == SQLITE_ROW) {
                json_t *doc = parse_body(st);
                if (!doc) {
                    sr = SQLITE_CORRUPT;
                    break;
                }
                json_array_append_new(arr, doc);
            }
            if (sr != SQLITE_DONE) {
                json_decref(arr);
                rc = map_rc(sr);
            } else {
                *out = arr;
            }
        }
        sqlite3_finalize(st);
    }
    if (!rc && q->count_out)
        *q->count_out = count;
    json_decref(binds);
    buf_release(&where);
    buf_release(&sql);
    free(map);
    free(texts);
    return rc;
}

const struct store_ops store_sqlite_ops = {
    .scheme = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .tenant_create = sq_tenant_create,
    .tenant_find = sq_tenant_find,
    .tenant_list = sq_tenant_list,
    .key_create = sq_key_create,
    .key_lookup = sq_key_lookup,
    .key_list = sq_key_list,
    .key_delete = sq_key_delete,
    .key_count = sq_key_count,
    .doc_insert = sq_doc_insert,
    .doc_update = sq_doc_update,
    .doc_get = sq_doc_get,
    .user_find = sq_user_find,
    .doc_list = sq_doc_list,
    .doc_delete = sq_doc_delete,
    .doc_query = sq_doc_query,
    .cred_create = sq_cred_create,
    .cred_lookup = sq_cred_lookup,
    .cred_delete = sq_cred_delete,
    .cred_delete_subject = sq_cred_delete_subject,
    .ind_version = sq_ind_version,
    .ind_upsert = sq_ind_upsert,
    .ind_get = sq_ind_get,
    .ind_delete = sq_ind_delete,
    .ind_query = sq_ind_query,
};
