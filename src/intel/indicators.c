/*
 * indicators.c: struct intel_set, an in-memory indicator set built for about
 * 100 bytes per indicator and millions of lookups per second (indicators.h).
 *
 * Layout (no per-entry malloc):
 *   arena   one char array of self-contained records, appended in order:
 *             [0..8) id  [8..16) expires (ms, 0 = never)  [16..20) scope number
 *             [20..22) value length  [22] meta = type | action << 3 | severity << 6
 *             [23..] value, NUL
 *           (fields read with memcpy: records are not aligned). A removed record
 *           gets type DEAD and stays as a hole; holes are squeezed out (and both
 *           indexes rebuilt) once they pass half of the arena. Offset 0 is never
 *           a record, so 0 marks an empty slot.
 *   fp, vo  an open-addressing table (linear probing, backward-shift deletion)
 *           keyed by a seeded 64-bit hash of (type, value), kept as two parallel
 *           arrays: fp, one byte per slot (0 = empty, else 0x80 | 7 bits of the
 *           hash), and vo, the record offset (4 bytes). A lookup scans the run in
 *           fp, which is small enough (1 MiB per million slots) to stay in cache,
 *           so a level without a match costs no trip to memory; only a
 *           fingerprint match reads vo and then the record (about 1 in 128 slots
 *           matches by chance). Records with the same (type, value) share a run.
 *   is      the same for ids, 4-byte slots {record offset}.
 *   scopes  interned rbacGroupNames lists: sorted, de-duplicated names stored
 *           once in sarena; a record carries the scope's number (0 = all devices).
 * Keys hash 8 bytes at a time (multiply-xorshift, seeded per set and type) then
 * through a 64-bit finalizer; DomainName values take their words from the right,
 * so one right-to-left pass over a host yields the hashes of all its parent
 * domains; Url values take them from the left, so one pass yields the hashes of
 * all path prefixes. A domain lookup parses the host once (intel_host_parse:
 * lower-casing, checks and label starts, 16 bytes at a time) into a zero-padded
 * buffer, so each level's hash folds in only its new words and reads its first
 * len % 8 bytes with one load; probe is inlined and compares keys inline.
 * Both tables double past a load of 3/4. Arrays of 4 MiB and
 * more are 2 MiB-aligned with a huge-page hint (big_alloc).
 * Measured (bench/intel_bench.c, 1.1M indicators): ~80-87 bytes per indicator;
 * a lookup level without a match stays in cache, a hit costs two dependent
 * memory reads (offset, record).
 */
#include "intel/indicators.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "common/err.h"
#include "common/util.h"
#include "intel/normalize.h"

struct scope_rec {
    uint64_t hash;
    uint32_t off;   /* names at sarena + off, each NUL-terminated */
    uint32_t len;   /* bytes, NULs included */
    uint32_t nnames;
};

struct intel_set {
    char *arena;
    size_t alen, acap, agarbage;
    uint32_t n; /* live records */
    uint8_t *fp;  /* per slot: 0 = empty, else fp_of(hash) */
    uint32_t *vo; /* per slot: record offset */
    uint32_t *is;
    uint32_t mask; /* slots - 1 of both tables; 0 while they are NULL */
    struct scope_rec *scopes; /* [0] unused: scope 0 is "all devices" */
    uint32_t nscopes, scopecap;
    char *sarena;
    size_t slen, scap;
    uint32_t *ss; /* scope index: scope number, 0 = empty */
    uint32_t smask;
    uint64_t seed;
    uint64_t tseed[INTEL_TYPE_COUNT];
    uint64_t version;
};

#define FNV_PRIME 0x100000001b3ull
#define MAX_ENTRIES 0x7ffffff0u
#define MIN_SLOTS 16u
#define COMPACT_MIN ((size_t)64 * 1024)
#define REC_ID 0
#define REC_EXPIRES 8
#define REC_SCOPE 16
#define REC_LEN 20
#define REC_META 22
#define REC_VALUE 23
#define TYPE_DEAD 7u

/* ---- hashing ---- */

static inline uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

/* One 8-byte word into the running state. */
static inline uint64_t wstep(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 32);
}

static inline uint64_t load8(const char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* r < 8 bytes as a little-endian number. */
static inline uint64_t load_part(const char *p, size_t r)
{
    uint64_t w = 0;
    for (size_t i = 0; i < r; i++)
        w |= (uint64_t)(unsigned char)p[i] << (8 * i);
    return w;
}

/* The hash of a string from the state after its full words and its remaining r bytes. */
static inline uint64_t finish(uint64_t st, uint64_t part, size_t len)
{
    return fmix64(wstep(st, part) ^ len);
}

/*
 * Key hashes, a word at a time. Forward (all types but DomainName): words s[0..8),
 * s[8..16), ... then the last len % 8 bytes. Backward (DomainName): words s[n-8..n),
 * s[n-16..n-8), ... then the first len % 8 bytes - so the hash of every suffix
 * (parent domain) falls out of one right-to-left pass (match_host).
 */
static uint64_t hash_fwd(uint64_t st, const char *s, size_t n)
{
    size_t k = 0;
    for (; k + 8 <= n; k += 8)
        st = wstep(st, load8(s + k));
    return finish(st, load_part(s + k, n - k), n);
}

static uint64_t hash_bwd(uint64_t st, const char *s, size_t n)
{
    size_t e = n;
    for (; e >= 8; e -= 8)
        st = wstep(st, load8(s + e - 8));
    return finish(st, load_part(s, e), n);
}

static uint64_t key_hash(const struct intel_set *set, unsigned type, const char *s, size_t n)
{
    return type == INTEL_DOMAIN ? hash_bwd(set->tseed[type], s, n) : hash_fwd(set->tseed[type], s, n);
}

static inline uint64_t id_hash(const struct intel_set *set, uint64_t id)
{
    return fmix64(id ^ set->seed);
}

/* Fingerprint byte of a key hash: high bits, which the slot position (low bits) does not use. */
static inline uint8_t fp_of(uint64_t h)
{
    return (uint8_t)((h >> 57) | 0x80);
}

/* ---- records ---- */

static inline unsigned meta_type(unsigned char meta)
{
    return meta & 7u;
}

static inline unsigned meta_action(unsigned char meta)
{
    return (meta >> 3) & 7u;
}

static inline unsigned meta_severity(unsigned char meta)
{
    return (meta >> 6) & 3u;
}

static inline unsigned char make_meta(unsigned type, unsigned action, unsigned severity)
{
    return (unsigned char)(type | action << 3 | severity << 6);
}

static inline uint64_t rec_id(const char *r)
{
    uint64_t v;
    memcpy(&v, r + REC_ID, sizeof v);
    return v;
}

static inline int64_t rec_expires(const char *r)
{
    int64_t v;
    memcpy(&v, r + REC_EXPIRES, sizeof v);
    return v;
}

static inline uint32_t rec_scope(const char *r)
{
    uint32_t v;
    memcpy(&v, r + REC_SCOPE, sizeof v);
    return v;
}

static inline size_t rec_len(const char *r)
{
    uint16_t v;
    memcpy(&v, r + REC_LEN, sizeof v);
    return v;
}

static inline unsigned char rec_meta(const char *r)
{
    return (unsigned char)r[REC_META];
}

/* Writes the header fields except the length. */
static void rec_write(char *r, uint64_t id, int64_t expires, uint32_t scope, unsigned char meta)
{
    memcpy(r + REC_ID, &id, sizeof id);
    memcpy(r + REC_EXPIRES, &expires, sizeof expires);
    memcpy(r + REC_SCOPE, &scope, sizeof scope);
    r[REC_META] = (char)meta;
}

static uint64_t rec_hash(const struct intel_set *set, uint32_t off)
{
    const char *r = set->arena + off;
    return key_hash(set, meta_type(rec_meta(r)), r + REC_VALUE, rec_len(r));
}

/* Offset of the record after the one at off. */
static inline size_t rec_next(const char *arena, size_t off)
{
    return off + REC_VALUE + rec_len(arena + off) + 1;
}

/* ---- the value index ---- */

static void vs_insert(uint8_t *fp, uint32_t *vo, uint32_t mask, uint32_t off, uint64_t h)
{
    uint32_t pos = (uint32_t)h & mask;
    while (fp[pos])
        pos = (pos + 1) & mask;
    fp[pos] = fp_of(h);
    vo[pos] = off;
}

/* Backward-shift deletion of the slot holding off: keeps every run free of holes. */
static void vs_delete(struct intel_set *set, uint32_t off)
{
    uint32_t mask = set->mask, hole = (uint32_t)rec_hash(set, off) & mask;
    while (!set->fp[hole] || set->vo[hole] != off)
        hole = (hole + 1) & mask;
    for (uint32_t j = hole;;) {
        j = (j + 1) & mask;
        if (!set->fp[j])
            break;
        uint32_t home = (uint32_t)rec_hash(set, set->vo[j]) & mask;
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            set->fp[hole] = set->fp[j];
            set->vo[hole] = set->vo[j];
            hole = j;
        }
    }
    set->fp[hole] = 0;
    set->vo[hole] = 0;
}

/* ---- the id index ---- */

static void is_insert(uint32_t *is, uint32_t mask, uint32_t off, uint64_t h)
{
    uint32_t pos = (uint32_t)h & mask;
    while (is[pos])
        pos = (pos + 1) & mask;
    is[pos] = off;
}

/* Offset of the live record with this id, or 0. */
static uint32_t is_lookup(const struct intel_set *set, uint64_t id)
{
    if (!set->is)
        return 0;
    for (uint32_t pos = (uint32_t)id_hash(set, id) & set->mask; set->is[pos]; pos = (pos + 1) & set->mask)
        if (rec_id(set->arena + set->is[pos]) == id)
            return set->is[pos];
    return 0;
}

static void is_delete(struct intel_set *set, uint32_t off)
{
    uint32_t mask = set->mask, hole = (uint32_t)id_hash(set, rec_id(set->arena + off)) & mask;
    while (set->is[hole] != off)
        hole = (hole + 1) & mask;
    for (uint32_t j = hole;;) {
        j = (j + 1) & mask;
        if (!set->is[j])
            break;
        uint32_t home = (uint32_t)id_hash(set, rec_id(set->arena + set->is[j])) & mask;
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            set->is[hole] = set->is[j];
            hole = j;
        }
    }
    set->is[hole] = 0;
}

/* ---- growth ---- */

/*
 * Large arrays (>= 4 MiB) are allocated 2 MiB-aligned and the kernel is asked to
 * back them with huge pages where it supports that (Linux, transparent huge pages
 * in "madvise" mode): lookups touch random places of arrays of tens of MB, and
 * with 4 KiB pages nearly each of them is also a TLB miss. A hint only: nothing
 * depends on it succeeding. big_alloc memory is freed with free().
 */
#define HUGE_PAGE ((size_t)2 << 20)

static void *big_alloc(size_t n)
{
#ifdef MADV_HUGEPAGE
    if (n >= 2 * HUGE_PAGE) {
        size_t rounded = (n + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
        void *p = aligned_alloc(HUGE_PAGE, rounded);
        if (p)
            (void)madvise(p, rounded, MADV_HUGEPAGE);
        return p;
    }
#endif
    return malloc(n);
}

/* Grows a big_alloc'd (or NULL) block from used to n bytes, keeping the first used bytes. */
static void *big_grow(void *old, size_t used, size_t n)
{
    if (n < 2 * HUGE_PAGE)
        return realloc(old, n);
    void *p = big_alloc(n);
    if (p && old)
        memcpy(p, old, used);
    if (p)
        free(old);
    return p;
}

static int ensure_arena(struct intel_set *set, size_t extra)
{
    size_t need = set->alen + extra;
    if (need <= set->acap)
        return 0;
    if (need > UINT32_MAX)
        return RG_ETOOBIG;
    size_t cap = set->acap + set->acap / 2;
    if (cap < need)
        cap = need;
    if (cap < 4096)
        cap = 4096;
    if (cap > UINT32_MAX)
        cap = UINT32_MAX;
    char *p = big_grow(set->arena, set->alen, cap);
    if (!p)
        return RG_ENOMEM;
    if (!set->arena) {
        p[0] = '\0'; /* offset 0 is never a record */
        set->alen = 1;
    }
    set->arena = p;
    set->acap = cap;
    return 0;
}

static uint32_t slots_for(size_t n)
{
    size_t slots = MIN_SLOTS;
    while (slots / 4 * 3 < n)
        slots *= 2;
    return (uint32_t)slots;
}

/* Fills fresh (zeroed) tables from the live records of arena. */
static void index_fill(const struct intel_set *set, const char *arena, size_t alen, uint8_t *fp, uint32_t *vo,
                       uint32_t *is, uint32_t mask)
{
    for (size_t off = 1; off < alen; off = rec_next(arena, off)) {
        const char *r = arena + off;
        unsigned type = meta_type(rec_meta(r));
        if (type == TYPE_DEAD)
            continue;
        vs_insert(fp, vo, mask, (uint32_t)off, key_hash(set, type, r + REC_VALUE, rec_len(r)));
        is_insert(is, mask, (uint32_t)off, id_hash(set, rec_id(r)));
    }
}

/* Makes both indexes large enough for n entries (load <= 3/4), rebuilding them if they grow. */
static int ensure_index(struct intel_set *set, size_t n)
{
    uint32_t slots = slots_for(n);
    if (set->fp && slots <= set->mask + 1)
        return 0;
    uint8_t *fp = calloc(slots, 1);
    uint32_t *vo = big_alloc(slots * sizeof *vo);
    uint32_t *is = calloc(slots, sizeof *is);
    if (!fp || !vo || !is) {
        free(fp);
        free(vo);
        free(is);
        return RG_ENOMEM;
    }
    index_fill(set, set->arena, set->alen, fp, vo, is, slots - 1);
    free(set->fp);
    free(set->vo);
    free(set->is);
    set->fp = fp;
    set->vo = vo;
    set->is = is;
    set->mask = slots - 1;
    return 0;
}

/* Squeezes removed records out of the arena and rebuilds the indexes; on allocation failure keeps all as is. */
static void maybe_compact(struct intel_set *set)
{
    if (set->agarbage < COMPACT_MIN || set->agarbage * 2 < set->alen)
        return;
    size_t live = set->alen - set->agarbage;
    size_t cap = live + live / 4 + 4096;
    uint32_t slots = set->mask + 1;
    char *p = big_alloc(cap);
    uint8_t *fp = calloc(slots, 1);
    uint32_t *vo = big_alloc(slots * sizeof *vo);
    uint32_t *is = calloc(slots, sizeof *is);
    if (!p || !fp || !vo || !is) {
        free(p);
        free(fp);
        free(vo);
        free(is);
        return;
    }
    size_t w = 1;
    p[0] = '\0';
    for (size_t off = 1; off < set->alen;) {
        size_t next = rec_next(set->arena, off);
        if (meta_type(rec_meta(set->arena + off)) != TYPE_DEAD) {
            memcpy(p + w, set->arena + off, next - off);
            w += next - off;
        }
        off = next;
    }
    index_fill(set, p, w, fp, vo, is, slots - 1);
    free(set->arena);
    free(set->fp);
    free(set->vo);
    free(set->is);
    set->arena = p;
    set->alen = w;
    set->acap = cap;
    set->agarbage = 0;
    set->fp = fp;
    set->vo = vo;
    set->is = is;
}

/* ---- scopes ---- */

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool scope_equal(const struct intel_set *set, const struct scope_rec *sc, const char *const *names, size_t n)
{
    if (sc->nnames != n)
        return false;
    const char *p = set->sarena + sc->off;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(names[i]);
        if (strlen(p) != l || memcmp(p, names[i], l) != 0)
            return false;
        p += l + 1;
    }
    return true;
}

static int scope_index_grow(struct intel_set *set, uint32_t need)
{
    uint32_t slots = slots_for(need);
    if (set->ss && slots <= set->smask + 1)
        return 0;
    uint32_t *ss = calloc(slots, sizeof *ss);
    if (!ss)
        return RG_ENOMEM;
    for (uint32_t s = 1; s < set->nscopes; s++) {
        uint32_t pos = (uint32_t)set->scopes[s].hash & (slots - 1);
        while (ss[pos])
            pos = (pos + 1) & (slots - 1);
        ss[pos] = s;
    }
    free(set->ss);
    set->ss = ss;
    set->smask = slots - 1;
    return 0;
}

/* Interns a list of group names; *out = 0 for an empty list. The set is unchanged on failure. */
static int scope_intern(struct intel_set *set, const char *const *names_in, size_t count, uint32_t *out, char *err,
                        size_t errlen)
{
    *out = 0;
    if (count == 0)
        return 0;
    if (!names_in || count > INTEL_SCOPE_MAX_NAMES) {
        if (err && errlen)
            snprintf(err, errlen, "rbacGroupNames: at most %d names", INTEL_SCOPE_MAX_NAMES);
        return names_in ? RG_ETOOBIG : RG_EINVAL;
    }
    const char *names[INTEL_SCOPE_MAX_NAMES];
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        size_t l = names_in[i] ? strlen(names_in[i]) : 0;
        if (l == 0 || l > INTEL_SCOPE_MAX_NAME_LEN) {
            if (err && errlen)
                snprintf(err, errlen, "rbacGroupNames: names must be 1 to %d bytes long", INTEL_SCOPE_MAX_NAME_LEN);
            return RG_EINVAL;
        }
        names[i] = names_in[i];
    }
    qsort(names, count, sizeof names[0], cmp_name);
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        if (n == 0 || strcmp(names[n - 1], names[i]) != 0)
            names[n++] = names[i];
    uint64_t h = set->seed ^ 0x5c09e5u;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(names[i]);
        for (size_t k = 0; k <= l; k++)
            h = (h ^ (unsigned char)names[i][k]) * FNV_PRIME;
        total += l + 1;
    }
    h = fmix64(h);
    if (set->ss) {
        for (uint32_t pos = (uint32_t)h & set->smask; set->ss[pos]; pos = (pos + 1) & set->smask) {
            const struct scope_rec *sc = &set->scopes[set->ss[pos]];
            if (sc->hash == h && scope_equal(set, sc, names, n)) {
                *out = set->ss[pos];
                return 0;
            }
        }
    }
    /* new scope: make room everywhere first */
    if (set->nscopes == 0)
        set->nscopes = 1;
    if (set->nscopes >= UINT32_MAX - 1 || set->slen + total > UINT32_MAX)
        return RG_ETOOBIG;
    if (set->nscopes + 1 > set->scopecap) {
        uint32_t cap = set->scopecap ? set->scopecap * 2 : 16;
        struct scope_rec *p = realloc(set->scopes, cap * sizeof *p);
        if (!p)
            return RG_ENOMEM;
        set->scopes = p;
        set->scopecap = cap;
    }
    if (set->slen + total > set->scap) {
        size_t cap = set->scap * 2 + total + 256;
        char *p = realloc(set->sarena, cap);
        if (!p)
            return RG_ENOMEM;
        set->sarena = p;
        set->scap = cap;
    }
    if (scope_index_grow(set, set->nscopes))
        return RG_ENOMEM;
    struct scope_rec *sc = &set->scopes[set->nscopes];
    sc->hash = h;
    sc->off = (uint32_t)set->slen;
    sc->len = (uint32_t)total;
    sc->nnames = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(names[i]) + 1;
        memcpy(set->sarena + set->slen, names[i], l);
        set->slen += l;
    }
    uint32_t pos = (uint32_t)h & set->smask;
    while (set->ss[pos])
        pos = (pos + 1) & set->smask;
    set->ss[pos] = set->nscopes;
    *out = set->nscopes++;
    return 0;
}

static bool scope_hit(const struct intel_set *set, uint32_t sid, const char *const *tags, size_t ntags)
{
    const struct scope_rec *sc = &set->scopes[sid];
    for (size_t k = 0; k < ntags; k++) {
        const char *t = tags[k];
        if (!t)
            continue;
        size_t tl = strlen(t);
        const char *p = set->sarena + sc->off;
        for (uint32_t j = 0; j < sc->nnames; j++) {
            size_t l = strlen(p);
            if (l == tl && memcmp(p, t, l) == 0)
                return true;
            p += l + 1;
        }
    }
    return false;
}

/* ---- lifecycle ---- */

int intel_set_new(struct intel_set **out)
{
    *out = NULL;
    struct intel_set *set = calloc(1, sizeof *set);
    if (!set)
        return RG_ENOMEM;
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = util_mono_ns() ^ (uint64_t)(uintptr_t)set ^ ((uint64_t)util_now_ms() << 20);
    set->seed = fmix64(seed);
    for (unsigned t = 0; t < INTEL_TYPE_COUNT; t++)
        set->tseed[t] = fmix64(set->seed + (t + 1) * 0x9e3779b97f4a7c15ull);
    *out = set;
    return 0;
}

void intel_set_free(struct intel_set *set)
{
    if (!set)
        return;
    free(set->arena);
    free(set->fp);
    free(set->vo);
    free(set->is);
    free(set->scopes);
    free(set->sarena);
    free(set->ss);
    free(set);
}

int intel_set_reserve(struct intel_set *set, size_t n)
{
    if (!set)
        return RG_EINVAL;
    if (n > MAX_ENTRIES)
        return RG_ETOOBIG;
    return ensure_index(set, n);
}

size_t intel_set_count(const struct intel_set *set)
{
    return set ? set->n : 0;
}

uint64_t intel_set_version(const struct intel_set *set)
{
    return set ? set->version : 0;
}

size_t intel_set_memory(const struct intel_set *set)
{
    if (!set)
        return 0;
    size_t m = sizeof *set + set->acap + set->scap + (size_t)set->scopecap * sizeof(struct scope_rec);
    if (set->fp)
        m += ((size_t)set->mask + 1) * (1 + 2 * sizeof(uint32_t));
    if (set->ss)
        m += ((size_t)set->smask + 1) * sizeof(uint32_t);
    return m;
}

/* ---- changes ---- */

/* Removes the record at off from both indexes and marks it dead. Never fails. */
static void remove_rec(struct intel_set *set, uint32_t off)
{
    vs_delete(set, off);
    is_delete(set, off);
    char *r = set->arena + off;
    r[REC_META] = (char)TYPE_DEAD;
    set->agarbage += REC_VALUE + rec_len(r) + 1;
    set->n--;
}

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

int intel_set_put(struct intel_set *set, const struct intel_indicator *ind, char *err, size_t errlen)
{
    if (!set || !ind)
        return RG_EINVAL;
    if ((unsigned)ind->type >= INTEL_TYPE_COUNT) {
        set_err(err, errlen, "indicatorType: invalid value");
        return RG_EINVAL;
    }
    if ((unsigned)ind->severity >= INTEL_SEV_COUNT) {
        set_err(err, errlen, "severity: invalid value");
        return RG_EINVAL;
    }
    if (ind->expires_ms < 0) {
        set_err(err, errlen, "expirationTime: before 1970");
        return RG_EINVAL;
    }
    char val[INTEL_VALUE_MAX + 1];
    int rc = intel_normalize(ind->type, ind->value, val, sizeof val, err, errlen);
    if (rc)
        return rc;
    rc = intel_check_action_type(ind->type, ind->action, err, errlen);
    if (rc)
        return rc;
    size_t n = strlen(val);
    uint32_t sid;
    rc = scope_intern(set, ind->scope, ind->nscope, &sid, err, errlen);
    if (rc)
        return rc;
    unsigned char meta = make_meta(ind->type, ind->action, ind->severity);

    uint32_t old = is_lookup(set, ind->id);
    if (old) {
        char *r = set->arena + old;
        if (meta_type(rec_meta(r)) == (unsigned)ind->type && rec_len(r) == n && memcmp(r + REC_VALUE, val, n) == 0) {
            rec_write(r, ind->id, ind->expires_ms, sid, meta);
            set->version++;
            return 0;
        }
    } else if (set->n >= MAX_ENTRIES) {
        return RG_ETOOBIG;
    }
    /* room for one more record first, so that nothing below can fail */
    if ((rc = ensure_index(set, (size_t)set->n + 1)) || (rc = ensure_arena(set, REC_VALUE + n + 1)))
        return rc;
    if (old)
        remove_rec(set, old); /* the id now names another value: replace the record */
    uint32_t off = (uint32_t)set->alen;
    char *r = set->arena + off;
    rec_write(r, ind->id, ind->expires_ms, sid, meta);
    uint16_t len16 = (uint16_t)n;
    memcpy(r + REC_LEN, &len16, sizeof len16);
    memcpy(r + REC_VALUE, val, n + 1);
    set->alen += REC_VALUE + n + 1;
    vs_insert(set->fp, set->vo, set->mask, off, key_hash(set, ind->type, val, n));
    is_insert(set->is, set->mask, off, id_hash(set, ind->id));
    set->n++;
    set->version++;
    maybe_compact(set);
    return 0;
}

int intel_set_remove(struct intel_set *set, uint64_t id)
{
    if (!set)
        return RG_EINVAL;
    uint32_t off = is_lookup(set, id);
    if (!off)
        return RG_ENOTFOUND;
    remove_rec(set, off);
    set->version++;
    maybe_compact(set);
    return 0;
}

size_t intel_set_purge_expired(struct intel_set *set, int64_t now)
{
    if (!set || !set->arena)
        return 0;
    size_t removed = 0;
    for (size_t off = 1; off < set->alen; off = rec_next(set->arena, off)) {
        const char *r = set->arena + off;
        int64_t x = rec_expires(r);
        if (meta_type(rec_meta(r)) != TYPE_DEAD && x && now >= x) {
            remove_rec(set, (uint32_t)off);
            removed++;
        }
    }
    if (removed) {
        set->version++;
        maybe_compact(set);
    }
    return removed;
}

/* ---- lookups ---- */

struct best {
    const char *r; /* the winning record */
    uint32_t score;
};

enum rank_mode { RANK_NETWORK, RANK_FILE };

/* Precedence inside one level; see the top of indicators.h. Higher wins. */
static uint32_t score_of(enum rank_mode mode, unsigned action, bool scoped, unsigned strength)
{
    if (mode == RANK_NETWORK) {
        static const uint8_t net[INTEL_ACTION_COUNT] = {
            [INTEL_ALLOWED] = 4, [INTEL_WARN] = 3, [INTEL_BLOCK] = 2, [INTEL_BLOCK_AND_REMEDIATE] = 2, [INTEL_AUDIT] = 1,
        };
        return (uint32_t)net[action] << 1 | scoped;
    }
    static const uint8_t cls[INTEL_ACTION_COUNT] = {
        [INTEL_BLOCK_AND_REMEDIATE] = 3, [INTEL_BLOCK] = 3, [INTEL_WARN] = 3, [INTEL_ALLOWED] = 2, [INTEL_AUDIT] = 1,
    };
    static const uint8_t restrictive[INTEL_ACTION_COUNT] = {
        [INTEL_BLOCK_AND_REMEDIATE] = 3, [INTEL_BLOCK] = 2, [INTEL_WARN] = 1,
    };
    return (uint32_t)cls[action] << 8 | strength << 4 | (uint32_t)scoped << 3 | restrictive[action];
}

struct query {
    const struct intel_set *set;
    int64_t now;
    const char *const *tags;
    size_t ntags;
};

/* memcmp(a, b, n) == 0, inline for the short keys of lookups: every load stays inside [0, n). */
static inline bool same_bytes(const char *a, const char *b, size_t n)
{
    if (n >= 8) {
        uint64_t d = 0;
        for (size_t k = 0; k + 8 < n; k += 8)
            d |= load8(a + k) ^ load8(b + k);
        return (d | (load8(a + n - 8) ^ load8(b + n - 8))) == 0;
    }
    return memcmp(a, b, n) == 0;
}

/*
 * Scans the probe run of hash h for live entries of this type whose value is key[0..klen),
 * keeping the best in *b. Returns whether any was found. Always inlined: the callers pass
 * constant type, mode and strength, and a domain lookup is short enough that a call shows.
 */
static inline __attribute__((always_inline)) bool probe(const struct query *q, unsigned type, uint64_t h,
                                                      const char *key, size_t klen, enum rank_mode mode,
                                                      unsigned strength, struct best *b)
{
    const struct intel_set *set = q->set;
    if (!set->fp)
        return false;
    uint32_t mask = set->mask, pos = (uint32_t)h & mask;
    uint8_t f = fp_of(h);
    bool any = false;
    for (; set->fp[pos]; pos = (pos + 1) & mask) {
        if (set->fp[pos] != f)
            continue;
        const char *r = set->arena + set->vo[pos];
        unsigned char meta = rec_meta(r);
        if (meta_type(meta) != type || rec_len(r) != klen || !same_bytes(r + REC_VALUE, key, klen))
            continue;
        int64_t expires = rec_expires(r);
        if (expires && q->now >= expires)
            continue;
        uint32_t scope = rec_scope(r);
        if (scope && !scope_hit(set, scope, q->tags, q->ntags))
            continue;
        uint32_t score = score_of(mode, meta_action(meta), scope != 0, strength);
        if (!b->r || score > b->score || (score == b->score && rec_id(r) < rec_id(b->r))) {
            b->r = r;
            b->score = score;
        }
        any = true;
    }
    return any;
}

/* Starts loading the slot of h (fingerprint and offset) while the caller prepares other levels. */
static void prefetch_slot(const struct intel_set *set, uint64_t h)
{
    if (set->fp) {
        __builtin_prefetch(&set->fp[(uint32_t)h & set->mask]);
        __builtin_prefetch(&set->vo[(uint32_t)h & set->mask]);
    }
}

static int fill(const struct best *b, struct intel_match *m)
{
    if (!b->r)
        return 0;
    unsigned char meta = rec_meta(b->r);
    m->found = true;
    m->type = (enum intel_type)meta_type(meta);
    m->action = (enum intel_action)meta_action(meta);
    m->severity = (enum intel_severity)meta_severity(meta);
    m->id = rec_id(b->r);
    m->expires_ms = rec_expires(b->r);
    m->value = b->r + REC_VALUE;
    return 0;
}

/*
 * Most specific live domain wins. One right-to-left pass hashes every parent domain
 * (each level folds in only its new words); the slots of all levels are prefetched
 * together, then probed from the host itself upwards.
 */
static void match_host(const struct query *q, const struct intel_host *h, struct best *b)
{
    unsigned levels = h->nlabels - 1; /* the last label alone is a public suffix, never an indicator */
    if (!levels || !q->set->fp)
        return;
    const char *host = intel_host_name(h);
    size_t n = h->n;
    uint64_t hs[sizeof h->label];
    uint64_t st = q->set->tseed[INTEL_DOMAIN];
    size_t words = 0; /* full words from the right folded into st */
    for (unsigned j = levels; j-- > 0;) {
        size_t i = h->label[j], len = n - i;
        for (; (words + 1) * 8 <= len; words++)
            st = wstep(st, load8(host + n - (words + 1) * 8));
        /* the first r bytes of the suffix, as load_part would read them; the 8 zero bytes before
         * the name keep the load inside h */
        size_t r = len - words * 8;
        uint64_t part = r ? load8(host + i + r - 8) >> (64 - 8 * r) : 0;
        hs[j] = finish(st, part, len);
        prefetch_slot(q->set, hs[j]);
    }
    for (unsigned j = 0; j < levels; j++)
        if (probe(q, INTEL_DOMAIN, hs[j], host + h->label[j], n - h->label[j], RANK_NETWORK, 0, b))
            return;
}

static int start(const struct intel_set *set, const void *input, struct intel_match *m)
{
    if (m)
        memset(m, 0, sizeof *m);
    return set && input && m ? 0 : RG_EINVAL;
}

int intel_match_domain(const struct intel_set *set, const char *host, int64_t now, const char *const *tags,
                       size_t ntags, struct intel_match *m)
{
    int rc = start(set, host, m);
    if (rc)
        return rc;
    struct intel_host h;
    if (intel_host_parse(host, strlen(host), &h))
        return RG_EINVAL;
    struct query q = {set, now, tags, ntags};
    struct best b = {NULL, 0};
    match_host(&q, &h, &b);
    return fill(&b, m);
}

int intel_match_ip(const struct intel_set *set, const char *ip, int64_t now, const char *const *tags, size_t ntags,
                   struct intel_match *m)
{
    int rc = start(set, ip, m);
    if (rc)
        return rc;
    char buf[64];
    size_t n;
    if (intel_norm_ip(ip, strlen(ip), false, buf, sizeof buf, &n, NULL, 0))
        return RG_EINVAL;
    struct query q = {set, now, tags, ntags};
    struct best b = {NULL, 0};
    probe(&q, INTEL_IP, key_hash(set, INTEL_IP, buf, n), buf, n, RANK_NETWORK, 0, &b);
    return fill(&b, m);
}

#define URL_BATCH 32

int intel_match_url(const struct intel_set *set, const char *url, int64_t now, const char *const *tags, size_t ntags,
                    struct intel_match *m)
{
    int rc = start(set, url, m);
    if (rc)
        return rc;
    char u[INTEL_VALUE_MAX + 1];
    size_t n;
    struct intel_url_parts pp;
    if (intel_norm_url(url, false, u, sizeof u, &n, &pp, NULL, 0))
        return RG_EINVAL;
    struct query q = {set, now, tags, ntags};
    struct best found = {NULL, 0};

    /*
     * Cut points: the prefixes u[0..i) a Url indicator may equal (see the top of indicators.h).
     * Probed shortest first in batches (prefetched together); the longest level with a live
     * entry wins.
     */
    uint64_t hs[URL_BATCH];
    size_t at[URL_BATCH];
    unsigned k = 0;
    uint64_t st = set->tseed[INTEL_URL];
    size_t words = 0; /* full words from the left folded into st */
    for (size_t i = pp.path_off + 1; i <= n; i++) {
        bool cut = i == n || (i - 1 < pp.query_off && u[i - 1] == '/') || (i < pp.query_off && u[i] == '/') ||
                   i == pp.query_off || (i > pp.query_off && u[i] == '&');
        if (cut) {
            for (; (words + 1) * 8 <= i; words++)
                st = wstep(st, load8(u + words * 8));
            hs[k] = finish(st, load_part(u + words * 8, i - words * 8), i);
            at[k] = i;
            prefetch_slot(set, hs[k]);
            k++;
        }
        if (k == URL_BATCH || (i == n && k)) {
            for (unsigned j = 0; j < k; j++) {
                struct best b = {NULL, 0};
                if (probe(&q, INTEL_URL, hs[j], u, at[j], RANK_NETWORK, 0, &b))
                    found = b;
            }
            k = 0;
        }
    }
    if (!found.r) {
        const char *host = u + pp.host_off;
        size_t hn = pp.host_len;
        struct intel_host h;
        if (pp.host_family == 0) {
            /* the host is canonical already; parsing it again only lays it out for match_host */
            if (intel_host_parse(host, hn, &h) == 0)
                match_host(&q, &h, &found);
        } else {
            if (pp.host_family == 6) {
                host++;
                hn -= 2;
            }
            probe(&q, INTEL_IP, key_hash(set, INTEL_IP, host, hn), host, hn, RANK_NETWORK, 0, &found);
        }
    }
    return fill(&found, m);
}

int intel_match_file(const struct intel_set *set, const char *sha256, const char *sha1, const char *md5, int64_t now,
                     const char *const *tags, size_t ntags, struct intel_match *m)
{
    int rc = start(set, set, m);
    if (rc)
        return rc;
    const char *in[3] = {sha256, sha1, md5};
    static const unsigned types[3] = {INTEL_FILE_SHA256, INTEL_FILE_SHA1, INTEL_FILE_MD5};
    char buf[3][65];
    size_t len[3];
    uint64_t hs[3];
    for (int i = 0; i < 3; i++) {
        if (!in[i])
            continue;
        if (intel_norm_hex((enum intel_type)types[i], in[i], false, buf[i], sizeof buf[i], &len[i], NULL, 0))
            return RG_EINVAL;
        hs[i] = key_hash(set, types[i], buf[i], len[i]);
        prefetch_slot(set, hs[i]);
    }
    struct query q = {set, now, tags, ntags};
    struct best b = {NULL, 0};
    for (int i = 0; i < 3; i++)
        if (in[i])
            probe(&q, types[i], hs[i], buf[i], len[i], RANK_FILE, 3u - (unsigned)i, &b);
    return fill(&b, m);
}

int intel_match_cert(const struct intel_set *set, const char *thumbprint, int64_t now, const char *const *tags,
                     size_t ntags, struct intel_match *m)
{
    int rc = start(set, thumbprint, m);
    if (rc)
        return rc;
    char buf[41];
    size_t n;
    if (intel_norm_hex(INTEL_CERT, thumbprint, false, buf, sizeof buf, &n, NULL, 0))
        return RG_EINVAL;
    struct query q = {set, now, tags, ntags};
    struct best b = {NULL, 0};
    probe(&q, INTEL_CERT, key_hash(set, INTEL_CERT, buf, n), buf, n, RANK_FILE, 3, &b);
    return fill(&b, m);
}
