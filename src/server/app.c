/* app.c: first-start bootstrap, tenants and API keys (app.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/err.h"
#include "server/api/api.h"
#include "server/app.h"

int app_tenant_create(struct app *app, const char *name, char *id_out)
{
    struct store *s = app->store;
    int rc = s->ops->tenant_create(s, name, id_out);
    if (rc)
        return rc;
    json_t *conn = api_connector_new_doc(APP_BUILTIN_PARTNER_ID);
    if (!conn)
        return RG_ENOMEM;
    rc = s->ops->doc_insert(s, id_out, "mobileThreatDefenseConnectors", APP_BUILTIN_PARTNER_ID, conn);
    json_decref(conn);
    return rc;
}

char *app_key_create(struct app *app, const char *tenant_id, const char *name, const char *role, char *id_out)
{
    char *key = util_token("rgk_", 32);
    if (!key)
        return NULL;
    char hash[UTIL_SHA256_HEX_LEN + 1];
    util_sha256_hex(key, strlen(key), hash, sizeof hash);
    if (app->store->ops->key_create(app->store, tenant_id, name, role, hash, id_out)) {
        OPENSSL_cleanse(key, strlen(key));
        free(key);
        return NULL;
    }
    return key;
}

/* Writes the key to a new file, mode 0600, creating its folder; fsyncs it. */
static int write_key_file(const char *path, const char *key, char *err, size_t errlen)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0700) && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
            return RG_EIO;
        }
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write the admin key file %s: %s", path, strerror(errno));
        return RG_EIO;
    }
    fchmod(fd, 0600);
    size_t n = strlen(key);
    int ok = write(fd, key, n) == (ssize_t)n && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    close(fd);
    if (!ok) {
        snprintf(err, errlen, "cannot write the admin key file %s: %s", path, strerror(errno));
        return RG_EIO;
    }
    return 0;
}

int app_bootstrap(struct app *app, const char *key_file, int *created, char *err, size_t errlen)
{
    struct store *s = app->store;
    *created = 0;
    char tid[UTIL_UUID_LEN + 1];
    int rc = s->ops->tenant_find(s, APP_DEFAULT_TENANT, tid);
    if (rc == 0)
        return 0;
    if (rc != RG_ENOTFOUND) {
        snprintf(err, errlen, "cannot read the tenants: %s", rg_err_name(rc));
        return rc;
    }
    /* Empty store: tenant, key and key file together, or nothing (the file is written before commit). */
    char key_id[UTIL_UUID_LEN + 1];
    char *key = NULL;
    rc = s->ops->begin(s);
    if (!rc)
        rc = app_tenant_create(app, APP_DEFAULT_TENANT, tid);
    if (!rc && !(key = app_key_create(app, tid, "bootstrap admin key", "admin", key_id)))
        rc = RG_EIO;
    if (!rc)
        rc = write_key_file(key_file, key, err, errlen);
    else
        snprintf(err, errlen, "cannot create the default tenant: %s", rg_err_name(rc));
    if (!rc)
        rc = s->ops->commit(s);
    else
        s->ops->rollback(s);
    if (key) {
        OPENSSL_cleanse(key, strlen(key));
        free(key);
    }
    if (rc) {
        if (!err[0])
            snprintf(err, errlen, "cannot commit the default tenant: %s", rg_err_name(rc));
        return rc;
    }
    *created = 1;
    return 0;
}
