/*
 * intel_bench.c: standalone benchmark of the indicator set (src/intel/indicators.h).
 *
 * Builds a set of 500,000 DomainName + 500,000 Url indicators plus 100,000
 * FileSha256 hashes (synthetic, deterministic), then prints:
 *   - build time (intel_set_put of every indicator, normalization included, no reserve);
 *   - memory per indicator: resident set growth (/proc/self/statm) and malloc'd
 *     bytes growth (mallinfo2) across the build, and intel_set_memory();
 *   - lookups per second on one core for domains, URLs and hashes, half hits and
 *     half misses, on two query sets: "exact" (the indicator values themselves)
 *     and "realistic" (a subdomain of an indicator domain, a longer URL under an
 *     indicator URL; same misses);
 *   - the floor: the exact-key queries against a plain open-addressing hash table
 *     of the same keys (strdup'd strings, 64-bit FNV-1a + finalizer, linear probing,
 *     strcmp): one probe per query, no normalization, no precedence.
 * Usage: intel_bench [--rows] [--queries N] [--reps N] [scale]
 *   scale 1 = the sizes above (0.1 for a quick run); --queries: lookups per run
 *   (default 1,000,000); --reps: runs per query set, the best is kept (default 3).
 *   For instruction counts under callgrind, e.g. "--queries 100000 --reps 1 0.1".
 * --rows (make bench, bench/README.md): the human report goes to stderr and
 * stdout gets benchmark 4's rows, one JSON object per line.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "intel/indicators.h"

/* ---- deterministic data ---- */

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static size_t label(char *out, uint64_t r, unsigned minlen, unsigned span)
{
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    size_t n = minlen + (size_t)(r % span);
    r = mix(r);
    for (size_t i = 0; i < n; i++) {
        out[i] = alpha[i == 0 ? r % 26 : r % 36];
        r /= 36;
        if (r < 36)
            r = mix(r + i);
    }
    return n;
}

static const char *const tlds[] = {"com", "net", "org", "info", "xyz", "ru", "io", "top"};

/* Host for item i of family salt: "<8-15>.tld" or, one time in three, "<3-7>.<8-15>.tld". */
static size_t host_of(char *out, uint64_t salt, uint64_t i)
{
    uint64_t r = mix(i * 0x100000001b3ull ^ salt);
    size_t n = 0;
    if (r % 3 == 0) {
        n += label(out, mix(r ^ 1), 3, 5);
        out[n++] = '.';
    }
    n += label(out + n, mix(r ^ 2), 8, 8);
    n += (size_t)snprintf(out + n, 16, ".%s", tlds[(r >> 40) % 8]);
    return n;
}

static void domain_of(char *out, uint64_t salt, uint64_t i)
{
    host_of(out, salt, i);
}

/* "https://host/<4-9>[/<4-9>[/<4-9>]]" */
static void url_of(char *out, uint64_t salt, uint64_t i)
{
    uint64_t r = mix(i ^ salt ^ 0xabcdef);
    size_t n = (size_t)snprintf(out, 16, "https://");
    n += host_of(out + n, salt ^ 0x5555, i);
    unsigned segs = 1 + (unsigned)(r % 3);
    for (unsigned s = 0; s < segs; s++) {
        out[n++] = '/';
        n += label(out + n, mix(r + s), 4, 6);
    }
    out[n] = '\0';
}

static void hash_of(char *out, uint64_t salt, uint64_t i)
{
    static const char hex[] = "0123456789abcdef";
    for (int w = 0; w < 4; w++) {
        uint64_t r = mix(i * 4 + (uint64_t)w + salt);
        for (int k = 0; k < 16; k++)
            out[w * 16 + k] = hex[(r >> (k * 4)) & 15];
    }
    out[64] = '\0';
}

/* ---- measurement ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* ---- the floor: a plain open-addressing table ---- */

struct plain {
    char **keys;
    uint64_t *hashes;
    size_t mask;
};

static uint64_t plain_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static int plain_init(struct plain *t, size_t n)
{
    size_t slots = 16;
    while (slots / 4 * 3 < n)
        slots *= 2;
    t->keys = calloc(slots, sizeof *t->keys);
    t->hashes = calloc(slots, sizeof *t->hashes);
    t->mask = slots - 1;
    return t->keys && t->hashes ? 0 : -1;
}

static int plain_add(struct plain *t, const char *key)
{
    uint64_t h = plain_hash(key);
    size_t pos = h & t->mask;
    while (t->keys[pos]) {
        if (t->hashes[pos] == h && strcmp(t->keys[pos], key) == 0)
            return 0;
        pos = (pos + 1) & t->mask;
    }
    t->keys[pos] = strdup(key);
    t->hashes[pos] = h;
    return t->keys[pos] ? 0 : -1;
}

static int plain_has(const struct plain *t, const char *key)
{
    uint64_t h = plain_hash(key);
    for (size_t pos = h & t->mask; t->keys[pos]; pos = (pos + 1) & t->mask)
        if (t->hashes[pos] == h && strcmp(t->keys[pos], key) == 0)
            return 1;
    return 0;
}

static void plain_free(struct plain *t)
{
    for (size_t i = 0; i <= t->mask; i++)
        free(t->keys[i]);
    free(t->keys);
    free(t->hashes);
}

/* ---- queries ---- */

enum kind { K_DOMAIN, K_URL, K_HASH };

struct qset {
    char *buf;    /* NUL-separated strings */
    char **q;
    size_t n;
};

/* n queries of kind k; one in hit_every hits indicator j (exact value or, if realistic, a longer form), the rest miss. */
static int make_queries(struct qset *qs, enum kind k, size_t n, size_t nind, int realistic, size_t hit_every)
{
    const size_t width = 192;
    qs->buf = malloc(n * width);
    qs->q = malloc(n * sizeof *qs->q);
    qs->n = n;
    if (!qs->buf || !qs->q)
        return -1;
    char *p = qs->buf; /* strings packed back to back, as compact as the floor's keys */
    for (size_t i = 0; i < n; i++) {
        uint64_t j = mix(i ^ 0x77) % nind;
        int hit = i % hit_every == 0;
        uint64_t salt = hit ? 0 : 0xdeadbeef; /* misses: same shapes, other names */
        char v[128];
        switch (k) {
        case K_DOMAIN:
            domain_of(v, salt, hit ? j : i);
            if (realistic)
                snprintf(p, width, "%s%s", (i >> 1) % 2 ? "www." : "a.cdn.", v);
            else
                snprintf(p, width, "%s", v);
            break;
        case K_URL:
            url_of(v, salt, hit ? j : i);
            if (realistic)
                snprintf(p, width, "%s/download/file.bin?id=%zu", v, i);
            else
                snprintf(p, width, "%s", v);
            break;
        case K_HASH:
            hash_of(p, salt + 0x1234, hit ? j : i + 0x100000000ull);
            break;
        }
        qs->q[i] = p;
        p += strlen(p) + 1;
    }
    return 0;
}

static void qset_free(struct qset *qs)
{
    free(qs->buf);
    free(qs->q);
}

/* Not inlined, so that callgrind can split the runs: --dump-before=run_set --dump-after=run_set. */
__attribute__((noinline)) static double run_set(const struct intel_set *set, enum kind k, const struct qset *qs,
                                                double *hit_ratio)
{
    struct intel_match m;
    size_t hits = 0;
    double t0 = now_s();
    for (size_t i = 0; i < qs->n; i++) {
        int rc = k == K_DOMAIN ? intel_match_domain(set, qs->q[i], 1, NULL, 0, &m)
                 : k == K_URL  ? intel_match_url(set, qs->q[i], 1, NULL, 0, &m)
                               : intel_match_file(set, qs->q[i], NULL, NULL, 1, NULL, 0, &m);
        hits += rc == 0 && m.found;
    }
    double dt = now_s() - t0;
    *hit_ratio = (double)hits / (double)qs->n;
    return (double)qs->n / dt;
}

__attribute__((noinline)) static double run_plain(const struct plain *t, const struct qset *qs, double *hit_ratio)
{
    size_t hits = 0;
    double t0 = now_s();
    for (size_t i = 0; i < qs->n; i++)
        hits += (size_t)plain_has(t, qs->q[i]);
    double dt = now_s() - t0;
    *hit_ratio = (double)hits / (double)qs->n;
    return (double)qs->n / dt;
}

/* One row of benchmark 4 (bench/README.md format); met: 1, 0, or -1 for no goal. */
static void row_print(const char *name, double value, const char *unit, const char *ref, double ref_value,
                      const char *goal, int met)
{
    printf("{\"group\":\"4 Indicator matching\",\"name\":\"%s\",\"value\":%.6g,\"unit\":\"%s\","
           "\"reference\":\"%s\",\"ref_value\":%.6g,\"ratio\":%.4f,\"goal\":\"%s\",\"met\":%s}\n",
           name, value, unit, ref, ref_value, ref_value > 0 ? value / ref_value : 0.0, goal,
           met < 0 ? "null" : met ? "true" : "false");
}

int main(int argc, char **argv)
{
    int rows = 0, reps = 3, bad = 0;
    double scale = 1.0;
    size_t nq = 1000000;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--rows"))
            rows = 1;
        else if (!strcmp(argv[a], "--queries") && a + 1 < argc)
            nq = (size_t)strtoul(argv[++a], NULL, 10);
        else if (!strcmp(argv[a], "--reps") && a + 1 < argc)
            reps = (int)strtol(argv[++a], NULL, 10);
        else if (argv[a][0] != '-')
            scale = strtod(argv[a], NULL);
        else
            bad = 1;
    }
    FILE *out = rows ? stderr : stdout;
    if (bad || !(scale > 0 && scale <= 10) || nq == 0 || nq > 100000000 || reps < 1 || reps > 100) {
        fprintf(stderr, "usage: %s [--rows] [--queries N] [--reps N] [scale in (0, 10]]\n", argv[0]);
        return 2;
    }
    const size_t ndom = (size_t)(500000 * scale), nurl = (size_t)(500000 * scale), nhash = (size_t)(100000 * scale);
    const size_t total = ndom + nurl + nhash;
    char v[256], err[256];

    /* build */
    size_t rss0 = rss_bytes(), heap0 = heap_bytes();
    struct intel_set *set = NULL;
    if (intel_set_new(&set)) {
        fprintf(stderr, "intel_set_new failed\n");
        return 1;
    }
    double t0 = now_s();
    uint64_t id = 1;
    for (size_t i = 0; i < total; i++) {
        struct intel_indicator ind = {id++, INTEL_DOMAIN, v, INTEL_BLOCK, INTEL_SEV_MEDIUM, 0, NULL, 0};
        if (i < ndom) {
            domain_of(v, 0, i);
        } else if (i < ndom + nurl) {
            ind.type = INTEL_URL;
            url_of(v, 0, i - ndom);
        } else {
            ind.type = INTEL_FILE_SHA256;
            hash_of(v, 0x1234, i - ndom - nurl);
        }
        int rc = intel_set_put(set, &ind, err, sizeof err);
        if (rc) {
            fprintf(stderr, "put \"%s\": %s (%s)\n", v, rg_err_name(rc), err);
            return 1;
        }
    }
    double build = now_s() - t0;
    size_t rss1 = rss_bytes(), heap1 = heap_bytes();

    /* the floor table, same keys */
    size_t heap2 = heap_bytes();
    struct plain pt;
    if (plain_init(&pt, total))
        return 1;
    t0 = now_s();
    for (size_t i = 0; i < total; i++) {
        if (i < ndom)
            domain_of(v, 0, i);
        else if (i < ndom + nurl)
            url_of(v, 0, i - ndom);
        else
            hash_of(v, 0x1234, i - ndom - nurl);
        if (plain_add(&pt, v))
            return 1;
    }
    double pbuild = now_s() - t0;
    size_t heap3 = heap_bytes();

    fprintf(out, "intel_bench: %zu DomainName + %zu Url + %zu FileSha256 = %zu indicators (%zu in the set)\n", ndom, nurl,
           nhash, total, intel_set_count(set));
    fprintf(out, "build: %.2f s (%.0f puts/s, normalization included); floor table build %.2f s\n", build,
           (double)total / build, pbuild);
    fprintf(out, "memory per indicator: RSS growth %.1f B, malloc'd growth %.1f B, intel_set_memory %.1f B "
           "(floor table: %.1f B malloc'd)\n",
           (double)(rss1 - rss0) / (double)total, (double)(heap1 - heap0) / (double)total,
           (double)intel_set_memory(set) / (double)total, (double)(heap3 - heap2) / (double)total);

    static const char *const names[] = {"domain", "url", "hash", "domain"};
    double set_rate[4], real_rate[4], floor_rate[4];
    fprintf(out, "\n%-7s | %-22s | %-22s | %-22s\n", "lookups", "set, exact keys", "set, realistic", "floor, exact keys");
    fprintf(out, "--------+------------------------+------------------------+-----------------------\n");
    for (int row = 0; row < 4; row++) {
        int k = row == 3 ? K_DOMAIN : row;
        size_t hit_every = row == 3 ? 20 : 2; /* last row: 5% hits, like a DNS filter's traffic */
        size_t nind = k == K_DOMAIN ? ndom : k == K_URL ? nurl : nhash;
        struct qset exact, real;
        if (make_queries(&exact, (enum kind)k, nq, nind, 0, hit_every) ||
            make_queries(&real, (enum kind)k, nq, nind, 1, hit_every))
            return 1;
        double h1, h2, h3, r1 = 0, r2 = 0, r3 = 0;
        for (int rep = 0; rep < reps; rep++) { /* best of reps */
            double a = run_set(set, (enum kind)k, &exact, &h1);
            double b = run_set(set, (enum kind)k, &real, &h2);
            double c = run_plain(&pt, &exact, &h3);
            r1 = a > r1 ? a : r1;
            r2 = b > r2 ? b : r2;
            r3 = c > r3 ? c : r3;
        }
        set_rate[row] = r1;
        real_rate[row] = r2;
        floor_rate[row] = r3;
        fprintf(out, "%-7s | %8.2f M/s (%3.0f%% hit) | %8.2f M/s (%3.0f%% hit) | %8.2f M/s (%3.0f%% hit)\n", names[row],
               r1 / 1e6, h1 * 100, r2 / 1e6, h2 * 100, r3 / 1e6, h3 * 100);
        qset_free(&exact);
        qset_free(&real);
    }
    fprintf(out, "\nrealistic: domain = www.<indicator> or a.cdn.<indicator>; url = <indicator>/download/file.bin?id=N;\n"
           "hash = the same as exact. Misses have the same shapes. One thread, %zu queries per run, best of %d.\n",
           nq, reps);
    if (rows) {
        double per = (double)(heap1 - heap0) / (double)total, fper = (double)(heap3 - heap2) / (double)total;
        row_print("indicator set build time", build, "s", "open-addressing floor table build, same keys", pbuild,
                  "lower is better (no goal)", -1);
        row_print("memory per indicator (malloc'd)", per, "B", "floor table, malloc'd per key", fper,
                  "value < 100 B", per < 100);
        row_print("domain lookups per second, one core (exact, 50% hits)", set_rate[0], "lookups/s",
                  "floor table, same queries", floor_rate[0], "value >= 5000000", set_rate[0] >= 5e6);
        row_print("domain lookups per second, one core (subdomains, 5% hits)", real_rate[3], "lookups/s",
                  "floor table, exact keys, 5% hits", floor_rate[3], "value >= 5000000", real_rate[3] >= 5e6);
        row_print("URL lookups per second, one core (exact, 50% hits)", set_rate[1], "lookups/s",
                  "floor table, same queries", floor_rate[1], "higher is better (no goal)", -1);
        row_print("URL lookups per second, one core (longer URLs, 50% hits)", real_rate[1], "lookups/s",
                  "floor table, exact keys", floor_rate[1], "higher is better (no goal)", -1);
        row_print("file hash lookups per second, one core (50% hits)", set_rate[2], "lookups/s",
                  "floor table, same queries", floor_rate[2], "higher is better (no goal)", -1);
    }
    plain_free(&pt);
    intel_set_free(set);
    return 0;
}
