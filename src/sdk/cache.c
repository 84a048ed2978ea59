/*
 * cache.c: the SDK's storage folder (mode 0700): small JSON files, each
 * written whole to a temporary file (mode 0600), synced and renamed over the
 * old one, so a crash leaves either the old or the new file, never half.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/err.h"
#include "sdk/sdk.h"

#define CACHE_MAX_FILE (4u << 20)

int cache_dir_ensure(const char *dir)
{
    if (!dir || !*dir)
        return RG_EINVAL;
    if (mkdir(dir, 0700) && errno != EEXIST)
        return RG_EIO;
    struct stat sb;
    if (stat(dir, &sb) || !S_ISDIR(sb.st_mode))
        return RG_EIO;
    if ((sb.st_mode & 0777) != 0700 && chmod(dir, 0700))
        return RG_EIO;
    return 0;
}

static int path_of(struct buf *p, const char *dir, const char *name, const char *suffix)
{
    return buf_printf(p, "%s/%s%s", dir, name, suffix);
}

int cache_write(const char *dir, const char *name, const json_t *v)
{
    struct buf path = BUF_INIT(4096), tmp = BUF_INIT(4096);
    char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text || path_of(&path, dir, name, "") || path_of(&tmp, dir, name, ".tmp")) {
        free(text);
        buf_release(&path);
        buf_release(&tmp);
        return RG_ENOMEM;
    }
    int rc = RG_EIO;
    size_t n = strlen(text);
    unlink(buf_str(&tmp)); /* a leftover of a crash */
    int fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
        size_t off = 0;
        while (off < n) {
            ssize_t w = write(fd, text + off, n - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        bool ok = off == n && fchmod(fd, 0600) == 0 && fsync(fd) == 0;
        ok = close(fd) == 0 && ok;
        if (ok && rename(buf_str(&tmp), buf_str(&path)) == 0)
            rc = 0;
        else
            unlink(buf_str(&tmp));
    }
    OPENSSL_cleanse(text, n); /* the registration holds the token */
    free(text);
    buf_release(&path);
    buf_release(&tmp);
    return rc;
}

int cache_read(const char *dir, const char *name, json_t **out)
{
    *out = NULL;
    struct buf path = BUF_INIT(4096), data = BUF_INIT(CACHE_MAX_FILE);
    if (path_of(&path, dir, name, "")) {
        buf_release(&path);
        return RG_ENOMEM;
    }
    int fd = open(buf_str(&path), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    buf_release(&path);
    if (fd < 0)
        return errno == ENOENT ? RG_ENOTFOUND : RG_EIO;
    int rc = 0;
    char chunk[4096];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = RG_EIO;
            break;
        }
        if (r == 0)
            break;
        if ((rc = buf_append(&data, chunk, (size_t)r)))
            break;
    }
    close(fd);
    OPENSSL_cleanse(chunk, sizeof chunk);
    if (!rc) {
        *out = json_loadb(buf_str(&data), data.len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(*out)) {
            json_decref(*out);
            *out = NULL;
            rc = RG_EINVAL;
        }
    }
    if (data.data)
        OPENSSL_cleanse(data.data, data.len);
    buf_release(&data);
    return rc == RG_ETOOBIG ? RG_EINVAL : rc;
}

int cache_remove(const char *dir, const char *name)
{
    struct buf path = BUF_INIT(4096);
    if (path_of(&path, dir, name, "")) {
        buf_release(&path);
        return RG_ENOMEM;
    }
    int rc = unlink(buf_str(&path)) && errno != ENOENT ? RG_EIO : 0;
    buf_release(&path);
    return rc;
}
