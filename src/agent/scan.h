/*
 * scan.h: the file scanner: walks folders (regular files only, no symlink
 * ever followed below the root, bounded depth and size), hashes each file
 * (SHA-256, SHA-1, MD5 through OpenSSL EVP), recognizes the EICAR test file,
 * and decides with the indicator set whether a file is a threat. A cache keyed
 * by path and (device, inode, size, mtime, ctime) avoids re-hashing unchanged
 * files between scans.
 *
 * No printing; errors of single files are counted, not fatal. Not thread-safe
 * per cache.
 */
#ifndef RG_AGENT_SCAN_H
#define RG_AGENT_SCAN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/indset.h"

#define SCAN_MAX_FILE_BYTES (64ull << 20) /* larger files are skipped */
#define SCAN_MAX_DEPTH 32                 /* folder levels below a root */
#define SCAN_EICAR_MAX 128                /* EICAR string + trailing whitespace */
#define SCAN_EICAR_LEN 68

struct scan_hashes {
    char sha256[65];
    char sha1[41];
    char md5[33];
};

/* True if (p, n) is a whole file that is the EICAR test file: the 68-byte string, then only
 * space, tab, CR, LF or Ctrl-Z up to 128 bytes in all. */
bool scan_is_eicar(const void *p, size_t n);
/* Hashes (p, n) into h. 0 or RG_ENOMEM. */
int scan_hash_mem(const void *p, size_t n, struct scan_hashes *h);
/* Hashes a whole open file from its current offset; eicar (may be NULL) tells whether it is the EICAR file.
 * 0, RG_EIO, RG_ETOOBIG (more than max bytes), RG_ENOMEM. */
int scan_hash_fd(int fd, uint64_t max, struct scan_hashes *h, bool *eicar);

/* A file the walk reached. Everything borrowed for the callback's duration. */
struct scan_file {
    const char *path; /* root-joined path */
    const char *name; /* last component */
    uint64_t size;
    const struct scan_hashes *hashes;
    bool eicar;
};
/* Called for each hashed file; a non-zero return stops the walk and is returned by scan_tree. */
typedef int (*scan_visit_fn)(void *ud, const struct scan_file *f);

struct scan_stats {
    uint64_t files;   /* regular files visited */
    uint64_t hashed;  /* of which hashed now (not from the cache) */
    uint64_t skipped; /* too large, unreadable, or changed under us */
    uint64_t dirs;
};

struct scan_cache;
struct scan_cache *scan_cache_new(void);
void scan_cache_free(struct scan_cache *c);
/* Start of a scan pass: entries not seen again until scan_cache_end are dropped then. */
void scan_cache_begin(struct scan_cache *c);
void scan_cache_end(struct scan_cache *c);

/*
 * Walks root (a folder; a symlink given as the root itself is followed, none
 * below it). cache may be NULL. stats (may be NULL) is added to.
 * 0, RG_ENOTFOUND / RG_EIO (root cannot be opened), or the callback's code.
 */
int scan_tree(const char *root, struct scan_cache *cache, scan_visit_fn fn, void *ud, struct scan_stats *stats);

/* What to do about one file. */
struct scan_verdict {
    bool threat;             /* report it */
    const char *threat_name; /* "Test Virus", or the indicator's title (borrowed from the set) */
    bool matched;            /* an indicator decided (else the built-in EICAR check) */
    struct indicator by;     /* that indicator, when matched */
};
/*
 * The decision for a hashed file (reference §5 file order): a file indicator
 * on the strongest hash decides (Block, BlockAndRemediate, Warn, Audit:
 * report; Allowed: never report, even the EICAR file); otherwise the EICAR
 * file is reported as "Test Virus". set may be NULL.
 */
void scan_verdict(const struct indset *set, const struct scan_hashes *h, bool eicar, struct scan_verdict *v);

#define SCAN_EICAR_THREAT "Test Virus"
#endif
