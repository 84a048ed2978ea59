/* state.c: load and atomic save of state.json (state.h). */
#include "agent/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/err.h"

#define STATE_MAX (64u << 10)

bool state_activated(const struct agent_state *st)
{
    return st->device_id && *st->device_id && st->credential && *st->credential;
}

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void state_release(struct agent_state *st)
{
    if (!st)
        return;
    free(st->server);
    free(st->tenant);
    free(st->tenant_id);
    free(st->user);
    free(st->user_id);
    free(st->device_id);
    wipe_free(st->credential);
    free(st->activated_at);
    struct agent_state empty = AGENT_STATE_INIT;
    *st = empty;
}

int state_set(char **field, const char *v)
{
    char *c = NULL;
    if (v && !(c = strdup(v)))
        return RG_ENOMEM;
    free(*field);
    *field = c;
    return 0;
}

/* Reads a whole small file into b; RG_ENOTFOUND, RG_EIO, RG_ETOOBIG. */
static int read_file(const char *path, struct buf *b)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? RG_ENOTFOUND : RG_EIO;
    char tmp[4096];
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = RG_EIO;
            break;
        }
        if (n == 0)
            break;
        if ((rc = buf_append(b, tmp, (size_t)n)))
            break;
    }
    OPENSSL_cleanse(tmp, sizeof tmp);
    close(fd);
    return rc;
}

static int take(json_t *o, const char *k, char **field)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v))
        return 0;
    return state_set(field, json_string_value(v));
}

int state_load(const char *path, struct agent_state *st)
{
    state_release(st);
    struct buf b = BUF_INIT(STATE_MAX);
    int rc = read_file(path, &b);
    if (rc) {
        OPENSSL_cleanse(b.data, b.alloc);
        buf_release(&b);
        return rc;
    }
    json_t *o = json_loadb(buf_str(&b), b.len, 0, NULL);
    if (b.data)
        OPENSSL_cleanse(b.data, b.alloc);
    buf_release(&b);
    if (!json_is_object(o)) {
        json_decref(o);
        return RG_EINVAL;
    }
    rc = take(o, "server", &st->server);
    if (!rc)
        rc = take(o, "tenant", &st->tenant);
    if (!rc)
        rc = take(o, "tenantId", &st->tenant_id);
    if (!rc)
        rc = take(o, "userPrincipalName", &st->user);
    if (!rc)
        rc = take(o, "userId", &st->user_id);
    if (!rc)
        rc = take(o, "deviceId", &st->device_id);
    if (!rc)
        rc = take(o, "credential", &st->credential);
    if (!rc)
        rc = take(o, "activatedAt", &st->activated_at);
    st->vpn_skipped = json_is_true(json_object_get(o, "vpnSkipped"));
    /* jansson keeps its own copy of the credential: overwrite it before freeing */
    json_t *cred = json_object_get(o, "credential");
    if (json_is_string(cred)) {
        char *p = (char *)json_string_value(cred);
        OPENSSL_cleanse(p, strlen(p));
    }
    json_decref(o);
    if (rc)
        state_release(st);
    return rc;
}

static int set_str(json_t *o, const char *k, const char *v)
{
    if (!v)
        return 0;
    return json_object_set_new(o, k, json_string(v)) ? RG_ENOMEM : 0;
}

int state_save(const char *path, const struct agent_state *st)
{
    json_t *o = json_object();
    if (!o)
        return RG_ENOMEM;
    int rc = json_object_set_new(o, "version", json_integer(1)) ? RG_ENOMEM : 0;
    if (!rc)
        rc = set_str(o, "server", st->server);
    if (!rc)
        rc = set_str(o, "tenant", st->tenant);
    if (!rc)
        rc = set_str(o, "tenantId", st->tenant_id);
    if (!rc)
        rc = set_str(o, "userPrincipalName", st->user);
    if (!rc)
        rc = set_str(o, "userId", st->user_id);
    if (!rc)
        rc = set_str(o, "deviceId", st->device_id);
    if (!rc)
        rc = set_str(o, "credential", st->credential);
    if (!rc)
        rc = set_str(o, "activatedAt", st->activated_at);
    if (!rc && json_object_set_new(o, "vpnSkipped", json_boolean(st->vpn_skipped)))
        rc = RG_ENOMEM;
    char *text = rc ? NULL : json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_t *cred = json_object_get(o, "credential");
    if (json_is_string(cred)) {
        char *p = (char *)json_string_value(cred);
        OPENSSL_cleanse(p, strlen(p));
    }
    json_decref(o);
    if (!text)
        return rc ? rc : RG_ENOMEM;
    struct buf tmp = BUF_INIT(0);
    if (buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid())) {
        wipe_free(text);
        return RG_ENOMEM;
    }
    rc = RG_EIO;
    unlink(buf_str(&tmp));
    int fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
        size_t len = strlen(text), off = 0;
        bool ok = fchmod(fd, 0600) == 0;
        while (ok && off < len) {
            ssize_t n = write(fd, text + off, len - off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                ok = false;
            else
                off += (size_t)n;
        }
        ok = ok && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
        ok = close(fd) == 0 && ok;
        if (ok && rename(buf_str(&tmp), path) == 0)
            rc = 0;
        else
            unlink(buf_str(&tmp));
    }
    buf_release(&tmp);
    wipe_free(text);
    return rc;
}
