/*
 * gen_odata.c: the data of benchmark 8 (bench/README.md), written straight
 * through the store interface (store.h) in large transactions, as gen_data.c
 * does for 1-3: INDICATORS domain indicators and USERS users in tenant
 * "default" (start riskgated once on the database first), and the same kinds
 * in a small tenant "odata-ref" (SMALL of each), the reference of the same
 * run, with an admin key whose plaintext goes to OUTDIR/ref.key.
 *
 * The shapes are those the API writes (api/indicators.c, api/directory.c).
 * Names are pseudo-random words, so a two-letter prefix selects about 1/676
 * of a collection and its matches are spread over the whole insertion order:
 *   indicator i: "<word>-<i>.example.org", DomainName, Block;
 *   user i:      displayName "<Word> <Word> <i>", u<i>@bench.test.
 *
 * Usage: gen_odata DBPATH OUTDIR INDICATORS USERS SMALL
 * Prints progress on stderr; exit 0, or 1 with the reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"
#include "server/app.h"
#include "server/store/store.h"

#define BATCH 200000 /* writes per transaction */

struct gen {
    struct store *s;
    size_t in_batch;
    uint64_t rnd;
    char now[UTIL_TIME_LEN + 1];
};

static int fail(const char *what, int rc)
{
    fprintf(stderr, "gen_odata: %s: %s\n", what, rg_err_name(rc));
    return 1;
}

static int tick(struct gen *g)
{
    if (++g->in_batch < BATCH)
        return 0;
    g->in_batch = 0;
    int rc = g->s->ops->commit(g->s);
    return rc ? rc : g->s->ops->begin(g->s);
}

static uint64_t splitmix(uint64_t *state)
{
    uint64_t x = (*state += 0x9e3779b97f4a7c15ull);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* A pronounceable word of 4-9 letters; upper: capitalised. */
static void word(struct gen *g, char *out, size_t outlen, int upper)
{
    static const char cons[] = "bcdfghjklmnprstvwz", vow[] = "aeiou";
    uint64_t r = splitmix(&g->rnd);
    size_t n = 4 + r % 6, i = 0;
    r >>= 3;
    /* the first two letters uniformly from 26 x 26, so a two-letter prefix is 1/676 */
    out[i++] = (char)('a' + r % 26);
    r /= 26;
    out[i++] = (char)('a' + r % 26);
    r /= 26;
    for (; i < n && i + 1 < outlen; i++) {
        if (i % 2)
            out[i] = cons[r % (sizeof cons - 1)];
        else
            out[i] = vow[r % (sizeof vow - 1)];
        r = r / 19 + (r & 0xff) * 0x9e37;
    }
    out[i] = '\0';
    if (upper)
        out[0] = (char)(out[0] - 'a' + 'A');
}

static int indicators(struct gen *g, const char *tid, size_t n)
{
    struct store *s = g->s;
    int64_t ver = 0;
    int rc = s->ops->ind_version(s, tid, &ver);
    for (size_t i = 0; i < n && !rc; i++) {
        char w[16], value[64], title[80];
        word(g, w, sizeof w, 0);
        snprintf(value, sizeof value, "%s-%zu.example.org", w, i);
        snprintf(title, sizeof title, "bench indicator %zu", i);
        json_t *b = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "indicatorValue", value, "indicatorType",
                              "DomainName", "action", "Block", "title", title, "description", "", "severity",
                              "Informational", "creationTimeDateTimeUtc", g->now, "lastUpdateTime", g->now,
                              "createdBy", "gen_odata", "generateAlert", 0);
        int64_t id = 0;
        rc = b ? s->ops->ind_upsert(s, tid, "DomainName", value, "Block", b, ++ver, &id) : RG_ENOMEM;
        json_decref(b);
        if (!rc)
            rc = tick(g);
        if (!rc && (i + 1) % 250000 == 0)
            fprintf(stderr, "gen_odata: %zu indicators\n", i + 1);
    }
    return rc;
}

static int users(struct gen *g, const char *tid, size_t n)
{
    struct store *s = g->s;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char id[UTIL_UUID_LEN + 1], first[16], last[16], name[64], upn[64];
        if (util_uuid(id, sizeof id))
            return RG_EIO;
        word(g, first, sizeof first, 1);
        word(g, last, sizeof last, 1);
        snprintf(name, sizeof name, "%s %s %zu", first, last, i);
        snprintf(upn, sizeof upn, "u%zu@bench.test", i);
        json_t *u = json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:s}", "@odata.type", "#microsoft.graph.user", "id", id,
                              "userPrincipalName", upn, "displayName", name, "accountEnabled", 1, "mail", upn,
                              "createdDateTime", g->now);
        rc = u ? s->ops->doc_insert(s, tid, "users", id, u) : RG_ENOMEM;
        json_decref(u);
        if (!rc)
            rc = tick(g);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s DBPATH OUTDIR INDICATORS USERS SMALL\n", argv[0]);
        return 2;
    }
    size_t nind = strtoul(argv[3], NULL, 10), nusers = strtoul(argv[4], NULL, 10), small = strtoul(argv[5], NULL, 10);
    char url[4200], err[256], path[4200];
    snprintf(url, sizeof url, "sqlite:%s", argv[1]);
    struct gen g = {.rnd = 0x5eed0da7aull};
    util_time_format(util_now_ms(), g.now, sizeof g.now);
    int rc = store_open(url, &g.s, err, sizeof err);
    if (rc) {
        fprintf(stderr, "gen_odata: %s: %s\n", url, err);
        return 1;
    }
    struct store *s = g.s;
    char tid[UTIL_UUID_LEN + 1], ref[UTIL_UUID_LEN + 1], kid[UTIL_UUID_LEN + 1];
    if ((rc = s->ops->tenant_find(s, APP_DEFAULT_TENANT, tid)))
        return fail("tenant default (start riskgated once on this database first)", rc);

    /* the reference tenant and its admin key */
    char hash[UTIL_SHA256_HEX_LEN + 1];
    char *key = util_token("rgk_", 32);
    if (!key)
        return fail("random", RG_EIO);
    util_sha256_hex(key, strlen(key), hash, sizeof hash);
    if ((rc = s->ops->tenant_create(s, "odata-ref", ref)) || (rc = s->ops->key_create(s, ref, "bench", "admin", hash, kid)))
        return fail("reference tenant", rc);
    snprintf(path, sizeof path, "%s/ref.key", argv[2]);
    FILE *f = fopen(path, "w");
    if (!f || fputs(key, f) < 0 || fclose(f)) {
        perror(path);
        return 1;
    }
    free(key);

    uint64_t t0 = util_mono_ns();
    if ((rc = s->ops->begin(s)))
        return fail("begin", rc);
    if ((rc = indicators(&g, tid, nind)) || (rc = users(&g, tid, nusers)) || (rc = indicators(&g, ref, small)) ||
        (rc = users(&g, ref, small)))
        return fail("data", rc);
    if ((rc = s->ops->commit(s)))
        return fail("commit", rc);
    fprintf(stderr, "gen_odata: %zu indicators and %zu users, %zu of each in the reference tenant (%.1f s)\n", nind,
            nusers, small, (util_mono_ns() - t0) / 1e9);
    s->ops->close(s);
    return 0;
}
