/*
 * backup.c: `riskgated backup` and `riskgated restore` for the embedded
 * database (store.h). SQLite's online backup API copies a consistent
 * snapshot (one read transaction) while riskgated keeps serving: in WAL mode
 * readers never block the writer, nor the writer them.
 *
 *   backup:  live database -> FILE.tmp, integrity checked, fsync, rename to FILE
 *   restore: FILE (checked first: integrity and riskgate's schema) -> database,
 *            in one write transaction; then store_open brings an older backup's
 *            schema up to date with the migrations.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/err.h"
#include "server/store/store.h"

/* "ok" from PRAGMA integrity_check, and riskgate's migrations table present; 0 or RG_EINVAL with err. */
static int check_db(sqlite3 *db, const char *what, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int ok = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        ok = !strcmp((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    if (!ok) {
        snprintf(err, errlen, "%s is not an intact SQLite database (%s)", what, sqlite3_errmsg(db));
        return RG_EINVAL;
    }
    st = NULL;
    int has = 0;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM schema_migrations", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        has = sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    if (!has) {
        snprintf(err, errlen, "%s is not a riskgate database (it has no schema_migrations)", what);
        return RG_EINVAL;
    }
    return 0;
}

/* Copies src's main database into dst's in one step (one read snapshot, one write transaction). */
static int copy(sqlite3 *src, sqlite3 *dst, char *err, size_t errlen)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        snprintf(err, errlen, "cannot start the copy: %s", sqlite3_errmsg(dst));
        return RG_EIO;
    }
    int rc;
    for (int tries = 0; (rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED; tries++) {
        if (tries == 100)
            break;
        sqlite3_sleep(50); /* the other side's writer holds a lock a moment; the copy restarts cleanly */
    }
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "the copy failed: %s", sqlite3_errstr(rc));
        return RG_EIO;
    }
    return 0;
}

static const char *sqlite_path(const char *url, char *err, size_t errlen)
{
    if (strncmp(url, "sqlite:", 7) || !url[7]) {
        snprintf(err, errlen, "backup and restore take a sqlite:PATH database (PostgreSQL: use pg_dump and pg_restore)");
        return NULL;
    }
    return url + 7;
}

int store_backup(const char *db_url, const char *to, char *err, size_t errlen)
{
    const char *path = sqlite_path(db_url, err, errlen);
    if (!path)
        return RG_EINVAL;
    if (access(path, R_OK)) {
        snprintf(err, errlen, "cannot read the database %s: %s", path, strerror(errno));
        return RG_EIO;
    }
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", to) >= sizeof tmp) {
        snprintf(err, errlen, "the backup's path is too long");
        return RG_EINVAL;
    }
    sqlite3 *src = NULL, *dst = NULL;
    int rc = 0;
    unlink(tmp);
    if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path, src ? sqlite3_errmsg(src) : "out of memory");
        rc = RG_EIO;
    } else if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, dst ? sqlite3_errmsg(dst) : "out of memory");
        rc = RG_EIO;
    }
    if (!rc) {
        sqlite3_busy_timeout(src, 5000);
        rc = copy(src, dst, err, errlen);
    }
    /* a self-contained file: no WAL beside it */
    if (!rc && sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", tmp, sqlite3_errmsg(dst));
        rc = RG_EIO;
    }
    if (!rc)
        rc = check_db(dst, "the copy", err, errlen);
    sqlite3_close(src);
    if (dst && sqlite3_close(dst) != SQLITE_OK && !rc) {
        snprintf(err, errlen, "cannot close %s", tmp);
        rc = RG_EIO;
    }
    if (!rc) {
        int fd = open(tmp, O_RDONLY);
        if (fd < 0 || fsync(fd)) {
            snprintf(err, errlen, "cannot write %s to disk: %s", tmp, strerror(errno));
            rc = RG_EIO;
        }
        if (fd >= 0)
            close(fd);
    }
    if (!rc && rename(tmp, to)) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, to, strerror(errno));
        rc = RG_EIO;
    }
    if (rc)
        unlink(tmp);
    return rc;
}

int store_restore(const char *db_url, const char *from, char *err, size_t errlen)
{
    const char *path = sqlite_path(db_url, err, errlen);
    if (!path)
        return RG_EINVAL;
    sqlite3 *src = NULL, *dst = NULL;
    int rc = 0;
    if (access(from, R_OK)) {
        snprintf(err, errlen, "cannot read the backup %s: %s", from, strerror(errno));
        return RG_EIO;
    }
    if (sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", from, src ? sqlite3_errmsg(src) : "out of memory");
        rc = RG_EIO;
    }
    if (!rc) /* before the database is touched */
        rc = check_db(src, from, err, errlen);
    if (!rc && sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path, dst ? sqlite3_errmsg(dst) : "out of memory");
        rc = RG_EIO;
    }
    if (!rc) {
        sqlite3_busy_timeout(dst, 5000);
        rc = copy(src, dst, err, errlen);
    }
    if (!rc && sqlite3_exec(dst, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(dst));
        rc = RG_EIO;
    }
    sqlite3_close(src);
    sqlite3_close(dst);
    if (rc)
        return rc;
    /* an older backup's schema is brought up to date now, not at the next start */
    struct store *s = NULL;
    rc = store_open(db_url, &s, err, errlen);
    store_close(s);
    return rc;
}
