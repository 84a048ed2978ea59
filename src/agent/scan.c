/* scan.c: folder walk, hashing, EICAR recognition and the file verdict (scan.h). */
#include "agent/scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/util.h"

/* The standard EICAR test string, split so that this source file is not itself flagged. */
static const char eicar_a[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$";
static const char eicar_b[] = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

bool scan_is_eicar(const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t la = sizeof eicar_a - 1, lb = sizeof eicar_b - 1;
    if (n < la + lb || n > SCAN_EICAR_MAX || memcmp(b, eicar_a, la) || memcmp(b + la, eicar_b, lb))
        return false;
    for (size_t i = la + lb; i < n; i++)
        if (b[i] != ' ' && b[i] != '\t' && b[i] != '\r' && b[i] != '\n' && b[i] != 0x1a)
            return false;
    return true;
}

struct hasher {
    EVP_MD_CTX *c[3];
};

static void hasher_release(struct hasher *hs)
{
    for (int i = 0; i < 3; i++)
        EVP_MD_CTX_free(hs->c[i]);
}

static int hasher_init(struct hasher *hs)
{
    const EVP_MD *md[3] = {EVP_sha256(), EVP_sha1(), EVP_md5()};
    memset(hs, 0, sizeof *hs);
    for (int i = 0; i < 3; i++) {
        hs->c[i] = EVP_MD_CTX_new();
        if (!hs->c[i] || EVP_DigestInit_ex(hs->c[i], md[i], NULL) != 1) {
            hasher_release(hs);
            return RG_ENOMEM;
        }
    }
    return 0;
}

static int hasher_update(struct hasher *hs, const void *p, size_t n)
{
    for (int i = 0; i < 3; i++)
        if (EVP_DigestUpdate(hs->c[i], p, n) != 1)
            return RG_ENOMEM;
    return 0;
}

static int hasher_final(struct hasher *hs, struct scan_hashes *h)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    char *out[3] = {h->sha256, h->sha1, h->md5};
    for (int i = 0; i < 3; i++) {
        if (EVP_DigestFinal_ex(hs->c[i], md, &n) != 1)
            return RG_ENOMEM;
        util_hex(md, n, out[i]);
    }
    return 0;
}

int scan_hash_mem(const void *p, size_t n, struct scan_hashes *h)
{
    struct hasher hs;
    int rc = hasher_init(&hs);
    if (!rc)
        rc = hasher_update(&hs, p, n);
    if (!rc)
        rc = hasher_final(&hs, h);
    hasher_release(&hs);
    return rc;
}

int scan_hash_fd(int fd, uint64_t max, struct scan_hashes *h, bool *eicar)
{
    struct hasher hs;
    int rc = hasher_init(&hs);
    if (rc)
        return rc;
    unsigned char head[SCAN_EICAR_MAX + 1];
    size_t headlen = 0;
    uint64_t total = 0;
    unsigned char *chunk = malloc(64 << 10);
    if (!chunk) {
        hasher_release(&hs);
        return RG_ENOMEM;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, 64 << 10);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = RG_EIO;
            break;
        }
        if (n == 0)
            break;
        total += (uint64_t)n;
        if (total > max) {
            rc = RG_ETOOBIG;
            break;
        }
        if (headlen < sizeof head) {
            size_t k = (size_t)n < sizeof head - headlen ? (size_t)n : sizeof head - headlen;
            memcpy(head + headlen, chunk, k);
            headlen += k;
        }
        if ((rc = hasher_update(&hs, chunk, (size_t)n)))
            break;
    }
    if (!rc)
        rc = hasher_final(&hs, h);
    if (!rc && eicar)
        *eicar = total <= SCAN_EICAR_MAX && scan_is_eicar(head, (size_t)total);
    free(chunk);
    hasher_release(&hs);
    return rc;
}

/* ---- cache: path -> (identity of the file, hashes) ---- */

struct centry {
    char *path;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    struct scan_hashes h;
    bool eicar;
    unsigned gen;
    struct centry *next;
};

struct scan_cache {
    struct centry **b;
    size_t nb, count;
    unsigned gen;
};

static size_t hash_path(const char *s)
{
    size_t h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

struct scan_cache *scan_cache_new(void)
{
    struct scan_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->nb = 256;
    c->b = calloc(c->nb, sizeof *c->b);
    if (!c->b) {
        free(c);
        return NULL;
    }
    return c;
}

void scan_cache_free(struct scan_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nb; i++) {
        struct centry *e = c->b[i];
        while (e) {
            struct centry *n = e->next;
            free(e->path);
            free(e);
            e = n;
        }
    }
    free(c->b);
    free(c);
}

void scan_cache_begin(struct scan_cache *c)
{
    if (c)
        c->gen++;
}

void scan_cache_end(struct scan_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nb; i++) {
        struct centry **pp = &c->b[i];
        while (*pp) {
            struct centry *e = *pp;
            if (e->gen != c->gen) {
                *pp = e->next;
                free(e->path);
                free(e);
                c->count--;
            } else {
                pp = &e->next;
            }
        }
    }
}

static bool same_time(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static struct centry *cache_find(struct scan_cache *c, const char *path)
{
    for (struct centry *e = c->b[hash_path(path) & (c->nb - 1)]; e; e = e->next)
        if (!strcmp(e->path, path))
            return e;
    return NULL;
}

static void cache_grow(struct scan_cache *c)
{
    size_t nb = c->nb * 2;
    struct centry **b = calloc(nb, sizeof *b);
    if (!b)
        return; /* stays slower, still correct */
    for (size_t i = 0; i < c->nb; i++) {
        struct centry *e = c->b[i];
        while (e) {
            struct centry *n = e->next;
            size_t k = hash_path(e->path) & (nb - 1);
            e->next = b[k];
            b[k] = e;
            e = n;
        }
    }
    free(c->b);
    c->b = b;
    c->nb = nb;
}

static void cache_put(struct scan_cache *c, const char *path, const struct stat *sb, const struct scan_hashes *h,
                      bool eicar)
{
    struct centry *e = cache_find(c, path);
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e || !(e->path = strdup(path))) {
            free(e);
            return;
        }
        if (c->count + 1 > c->nb)
            cache_grow(c);
        size_t k = hash_path(path) & (c->nb - 1);
        e->next = c->b[k];
        c->b[k] = e;
        c->count++;
    }
    e->dev = sb->st_dev;
    e->ino = sb->st_ino;
    e->size = sb->st_size;
    e->mtime = sb->st_mtim;
    e->ctime = sb->st_ctim;
    e->h = *h;
    e->eicar = eicar;
    e->gen = c->gen;
}

/* ---- walk ---- */

struct walk {
    struct scan_cache *cache;
    scan_visit_fn fn;
    void *ud;
    struct scan_stats *st;
    struct buf path;
};

static void truncate_to(struct buf *b, size_t len)
{
    b->len = len;
    if (b->data)
        b->data[len] = '\0';
}

static int visit_file(struct walk *w, int dfd, const char *name, const struct stat *sb)
{
    const char *path = buf_str(&w->path);
    w->st->files++;
    if ((uint64_t)sb->st_size > SCAN_MAX_FILE_BYTES) {
        w->st->skipped++;
        return 0;
    }
    struct scan_hashes h;
    bool eicar = false;
    struct centry *ce = w->cache ? cache_find(w->cache, path) : NULL;
    if (ce && ce->dev == sb->st_dev && ce->ino == sb->st_ino && ce->size == sb->st_size &&
        same_time(ce->mtime, sb->st_mtim) && same_time(ce->ctime, sb->st_ctim)) {
        ce->gen = w->cache->gen;
        h = ce->h;
        eicar = ce->eicar;
    } else {
        int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
            w->st->skipped++;
            return 0;
        }
        struct stat fsb;
        int rc = fstat(fd, &fsb);
        if (rc || !S_ISREG(fsb.st_mode) || fsb.st_dev != sb->st_dev || fsb.st_ino != sb->st_ino) {
            close(fd);
            w->st->skipped++;
            return 0;
        }
        rc = scan_hash_fd(fd, SCAN_MAX_FILE_BYTES, &h, &eicar);
        close(fd);
        if (rc == RG_ENOMEM)
            return rc;
        if (rc) {
            w->st->skipped++;
            return 0;
        }
        w->st->hashed++;
        if (w->cache)
            cache_put(w->cache, path, &fsb, &h, eicar);
    }
    struct scan_file f = {path, name, (uint64_t)sb->st_size, &h, eicar};
    return w->fn ? w->fn(w->ud, &f) : 0;
}

/* Walks the open folder dfd (ownership taken) whose path is w->path. */
static int walk_dir(struct walk *w, int dfd, int depth)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        w->st->skipped++;
        return 0;
    }
    w->st->dirs++;
    int rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        const char *name = de->d_name;
        if (!strcmp(name, ".") || !strcmp(name, ".."))
            continue;
        size_t save = w->path.len;
        bool slash = save && w->path.data[save - 1] == '/';
        if ((rc = buf_printf(&w->path, slash ? "%s" : "/%s", name))) {
            if (rc != RG_ETOOBIG)
                break;
            rc = 0; /* a path over 64 KiB: skipped */
            w->st->skipped++;
            continue;
        }
        struct stat sb;
        if (fstatat(dirfd(d), name, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
            if (S_ISDIR(sb.st_mode)) {
                if (depth < SCAN_MAX_DEPTH) {
                    int sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                    if (sub >= 0)
                        rc = walk_dir(w, sub, depth + 1);
                    else
                        w->st->skipped++;
                }
            } else if (S_ISREG(sb.st_mode)) {
                rc = visit_file(w, dirfd(d), name, &sb);
            } /* symlinks, devices, fifos, sockets: never followed or read */
        }
        truncate_to(&w->path, save);
    }
    closedir(d);
    return rc;
}

int scan_tree(const char *root, struct scan_cache *cache, scan_visit_fn fn, void *ud, struct scan_stats *stats)
{
    struct scan_stats local = {0};
    struct walk w = {cache, fn, ud, stats ? stats : &local, BUF_INIT(1 << 16)};
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? RG_ENOTFOUND : RG_EIO;
    int rc = buf_puts(&w.path, root);
    if (rc) {
        close(fd);
        return rc;
    }
    rc = walk_dir(&w, fd, 0);
    buf_release(&w.path);
    return rc;
}

void scan_verdict(const struct indset *set, const struct scan_hashes *h, bool eicar, struct scan_verdict *v)
{
    memset(v, 0, sizeof *v);
    if (indset_match_file(set, h->sha256, h->sha1, h->md5, &v->by)) {
        v->matched = true;
        v->threat = v->by.action != IND_ALLOWED;
        v->threat_name = v->by.title && *v->by.title ? v->by.title : "Custom file indicator";
        return;
    }
    if (eicar) {
        v->threat = true;
        v->threat_name = SCAN_EICAR_THREAT;
    }
}
