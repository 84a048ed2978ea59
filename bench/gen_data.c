/*
 * gen_data.c: fills a riskgated SQLite database with the data of benchmarks 1-3
 * (bench/README.md) straight through the store interface (store.h), in large
 * transactions, because a million registrations through the public API would
 * take hours (every registration checks a password and runs a decision).
 *
 * The database must already hold what the admin API writes and a benchmark
 * should not hand-craft: tenant "default", the groups, the app protection
 * policy (targeted at the bench apps, assigned to the groups) and the built-in
 * connector switched on for Android (bench/server_bench.sh makes them through
 * the API). This program adds, with the same document shapes the server writes
 * (api/directory.c users, api/device.c devices and their "device" credentials,
 * api/appapi.c registrations and their "app" credentials):
 *   - USERS users (u<i>@bench.test, no password: they never sign in here), user i
 *     in group i % (number of groups);
 *   - DEVICES devices, device i owned by user i, threat level by i (below), with
 *     a credential rgd_... whose SHA-256 is stored;
 *   - APPS registrations per user (app com.bench.app<a>, android), bound to the
 *     user's device if it has one, each with a token rga_... stored as SHA-256;
 *   - the built-in connector's heartbeat set to now (a running agent would).
 * Threat levels: device i with i % 10 == 0 is "secured" (the live-wait clients
 * use those), otherwise secured/low/medium/high by i % 4.
 *
 * Speed: random keys inserted into a B-tree far larger than SQLite's page cache
 * rewrite most of the tree on every commit. So registration ids are version-4
 * UUIDs whose first 48 bits count up (the server only ever looks them up by
 * id), and the credentials are inserted after the documents, sorted by hash.
 *
 * Files written to OUTDIR (plaintext secrets of samples only):
 *   checkin_tokens.txt  tokens of the registrations on devices i % 10 == 1 (low
 *                       or high: half allowed, half blocked), at most 10,000;
 *   expect.tsv          token, expected action, expected reasonCode: a sample of
 *                       every kind, for the sanity check;
 *   live.tsv            token, device index: registrations on devices i % 10 == 0;
 *   devices.tsv         device index, device credential: the devices of live.tsv.
 *
 * Usage: gen_data DBPATH OUTDIR USERS APPS DEVICES
 * Prints progress on stderr; exit 0, or 1 with the reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"
#include "server/app.h"
#include "server/store/store.h"
#include "server/threat/threat.h"

#define BATCH 250000 /* rows per transaction */

static const char *const levels[] = {"secured", "low", "medium", "high"};
static const char *const scores[] = {"None", "Low", "Medium", "High"};

struct gen {
    struct store *s;
    char tid[UTIL_UUID_LEN + 1];
    size_t in_batch;
};

static int fail(const char *what, int rc)
{
    fprintf(stderr, "gen_data: %s: %s\n", what, rg_err_name(rc));
    return 1;
}

/* Commits every BATCH writes so a transaction stays bounded. */
static int tick(struct gen *g)
{
    if (++g->in_batch < BATCH)
        return 0;
    g->in_batch = 0;
    int rc = g->s->ops->commit(g->s);
    return rc ? rc : g->s->ops->begin(g->s);
}

struct reg_cred {
    char hash[UTIL_SHA256_HEX_LEN + 1];
    char reg_id[UTIL_UUID_LEN + 1];
};

static int cmp_cred(const void *a, const void *b)
{
    return strcmp(((const struct reg_cred *)a)->hash, ((const struct reg_cred *)b)->hash);
}

/* A version-4 UUID whose first 48 bits are n, the rest random (rnd: 64 random bits). */
static void counting_uuid(char *out, uint64_t n, uint64_t rnd)
{
    snprintf(out, UTIL_UUID_LEN + 1, "%08llx-%04llx-4%03llx-%04llx-%012llx", (unsigned long long)(n >> 16) & 0xffffffffull,
             (unsigned long long)n & 0xffff, (unsigned long long)rnd & 0xfff,
             (unsigned long long)(0x8000 | ((rnd >> 12) & 0x3fff)), (unsigned long long)(rnd >> 16) & 0xffffffffffffull);
}

static uint64_t splitmix(uint64_t *state)
{
    uint64_t x = (*state += 0x9e3779b97f4a7c15ull);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static int level_of(size_t dev)
{
    return dev % 10 == 0 ? 0 : (int)(dev % 4);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s DBPATH OUTDIR USERS APPS DEVICES\n", argv[0]);
        return 2;
    }
    const char *outdir = argv[2];
    size_t nusers = strtoul(argv[3], NULL, 10), napps = strtoul(argv[4], NULL, 10),
           ndev = strtoul(argv[5], NULL, 10);
    if (!nusers || !napps || napps > 100 || ndev > nusers) {
        fprintf(stderr, "gen_data: USERS > 0, 0 < APPS <= 100, DEVICES <= USERS\n");
        return 2;
    }
    char url[4200], err[256];
    snprintf(url, sizeof url, "sqlite:%s", argv[1]);
    struct gen g = {0};
    int rc = store_open(url, &g.s, err, sizeof err);
    if (rc) {
        fprintf(stderr, "gen_data: %s: %s\n", url, err);
        return 1;
    }
    struct store *s = g.s;
    if ((rc = s->ops->tenant_find(s, APP_DEFAULT_TENANT, g.tid)))
        return fail("tenant default (start riskgated once on this database first)", rc);

    json_t *groups = NULL;
    if ((rc = s->ops->doc_list(s, g.tid, "groups", &groups)))
        return fail("groups", rc);
    size_t ngroups = json_array_size(groups);
    if (!ngroups) {
        fprintf(stderr, "gen_data: the database has no group; create them through the API first\n");
        return 1;
    }

    char path[4200];
    FILE *f_tok, *f_exp, *f_live, *f_dev;
#define OPEN(var, name)                                                                                                \
    snprintf(path, sizeof path, "%s/%s", outdir, name);                                                                \
    if (!(var = fopen(path, "w"))) {                                                                                   \
        perror(path);                                                                                                  \
        return 1;                                                                                                      \
    }
    OPEN(f_tok, "checkin_tokens.txt")
    OPEN(f_exp, "expect.tsv")
    OPEN(f_live, "live.tsv")
    OPEN(f_dev, "devices.tsv")
#undef OPEN

    uint64_t t0 = util_mono_ns();
    char now[UTIL_TIME_LEN + 1];
    util_time_format(util_now_ms(), now, sizeof now);

    /* the built-in connector: on for Android, heartbeat now */
    json_t *conn = NULL;
    if ((rc = s->ops->doc_get(s, g.tid, THREAT_CONNECTORS, APP_BUILTIN_PARTNER_ID, &conn)))
        return fail("built-in connector", rc);
    json_object_set_new(conn, "androidMobileApplicationManagementEnabled", json_true());
    json_object_set_new(conn, "lastHeartbeatDateTime", json_string(now));
    if ((rc = s->ops->doc_update(s, g.tid, THREAT_CONNECTORS, APP_BUILTIN_PARTNER_ID, conn)))
        return fail("built-in connector", rc);
    json_decref(conn);

    char (*uids)[UTIL_UUID_LEN + 1] = calloc(nusers, sizeof *uids);
    char (*dids)[UTIL_UUID_LEN + 1] = calloc(ndev ? ndev : 1, sizeof *dids);
    json_t **members = calloc(ngroups, sizeof *members);
    if (!uids || !dids || !members)
        return fail("memory", RG_ENOMEM);
    for (size_t k = 0; k < ngroups; k++)
        members[k] = json_array();

    if ((rc = s->ops->begin(s)))
        return fail("begin", rc);

    /* users (api/directory.c shape, without a password) */
    for (size_t i = 0; i < nusers; i++) {
        char upn[64];
        snprintf(upn, sizeof upn, "u%zu@bench.test", i);
        if (util_uuid(uids[i], sizeof uids[i]))
            return fail("uuid", RG_EIO);
        json_t *u = json_pack("{s:s,s:s,s:s,s:s,s:b,s:n}", "@odata.type", "#microsoft.graph.user", "id", uids[i],
                              "userPrincipalName", upn, "displayName", upn, "accountEnabled", 1, "mail");
        if ((rc = s->ops->doc_insert(s, g.tid, "users", uids[i], u)) || (rc = tick(&g)))
            return fail("user", rc);
        json_decref(u);
        json_array_append_new(members[i % ngroups], json_string(uids[i]));
    }
    /* group memberships: the "members" array of each group document */
    for (size_t k = 0; k < ngroups; k++) {
        json_t *grp = json_array_get(groups, k);
        json_object_set_new(grp, "members", members[k]);
        if ((rc = s->ops->doc_update(s, g.tid, "groups", json_string_value(json_object_get(grp, "id")), grp)))
            return fail("group", rc);
    }
    fprintf(stderr, "gen_data: %zu users in %zu groups (%.1f s)\n", nusers, ngroups, (util_mono_ns() - t0) / 1e9);

    /* devices (api/device.c activation shape) and their credentials */
    for (size_t i = 0; i < ndev; i++) {
        char upn[64], hash[UTIL_SHA256_HEX_LEN + 1];
        snprintf(upn, sizeof upn, "u%zu@bench.test", i);
        if (util_uuid(dids[i], sizeof dids[i]))
            return fail("uuid", RG_EIO);
        int lv = level_of(i);
        json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:[],s:s,s:s,s:s}", "id", dids[i], "tenant",
                              APP_DEFAULT_TENANT, "userId", uids[i], "userPrincipalName", upn, "platform", "android",
                              "activated", 1, "firstSeen", now, "lastSeen", now, "machineTags", "threatLevel",
                              levels[lv], "riskScore", scores[lv], "threatLevelDateTime", now);
        char *cred = util_token("rgd_", 32);
        if (!d || !cred)
            return fail("device", RG_ENOMEM);
        util_sha256_hex(cred, strlen(cred), hash, sizeof hash);
        if ((rc = s->ops->doc_insert(s, g.tid, THREAT_DEVICES, dids[i], d)) || (rc = tick(&g)) ||
            (rc = s->ops->cred_create(s, hash, "device", g.tid, dids[i], 0)) || (rc = tick(&g)))
            return fail("device", rc);
        if (i % 10 == 0)
            fprintf(f_dev, "%zu\t%s\n", i, cred);
        free(cred);
        json_decref(d);
    }
    fprintf(stderr, "gen_data: %zu devices (%.1f s)\n", ndev, (util_mono_ns() - t0) / 1e9);

    /* registrations (api/appapi.c api_app_register shape) and their tokens */
    size_t ntok = 0, nexp_none = 0, nregs = 0;
    struct reg_cred *rc_all = malloc(nusers * napps * sizeof *rc_all);
    uint64_t rng = util_now_ms() ^ ((uint64_t)util_mono_ns() << 20);
    uint64_t base = splitmix(&rng) & 0xffffffffull; /* a different range of ids for every run */
    if (!rc_all)
        return fail("memory", RG_ENOMEM);
    for (size_t i = 0; i < nusers; i++) {
        char upn[64];
        snprintf(upn, sizeof upn, "u%zu@bench.test", i);
        int has_dev = i < ndev;
        for (size_t a = 0; a < napps; a++) {
            char id[UTIL_UUID_LEN + 1], app_id[64], hash[UTIL_SHA256_HEX_LEN + 1];
            counting_uuid(id, (base << 24) + nregs, splitmix(&rng));
            snprintf(app_id, sizeof app_id, "com.bench.app%zu", a);
            json_t *r = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:s}", "id", id,
                                  "tenant", APP_DEFAULT_TENANT, "userId", uids[i], "userPrincipalName", upn,
                                  "createdDateTime", now, "lastSyncDateTime", now, "appId", app_id, "platform",
                                  "android", "appVersion", "4.2401.1", "sdkVersion", "0.1.0", "osVersion", "14",
                                  "patchLevel", "2024-05-01", "model", "Pixel 8", "manufacturer", "Google", "rooted", 0,
                                  "agentInstalled", has_dev, "deviceName", upn);
            if (!r)
                return fail("registration", RG_ENOMEM);
            if (has_dev) {
                json_object_set_new(r, "deviceId", json_string(dids[i]));
                json_object_set_new(r, "deviceTag", json_string(dids[i]));
            }
            char *token = util_token("rga_", 32);
            if (!token)
                return fail("token", RG_ENOMEM);
            util_sha256_hex(token, strlen(token), hash, sizeof hash);
            if ((rc = s->ops->doc_insert(s, g.tid, "managedAppRegistrations", id, r)) || (rc = tick(&g)))
                return fail("registration", rc);
            memcpy(rc_all[nregs].hash, hash, sizeof hash);
            memcpy(rc_all[nregs].reg_id, id, sizeof id);
            nregs++;
            json_decref(r);
            if (has_dev && i % 10 == 1 && ntok < 10000) {
                fprintf(f_tok, "%s\n", token);
                ntok++;
            }
            if (has_dev && i % 10 == 0)
                fprintf(f_live, "%s\t%zu\n", token, i);
            if (has_dev && i % 97 == 0 && a == i % napps) {
                int lv = level_of(i);
                fprintf(f_exp, "%s\t%s\t%s\n", token, lv <= 1 ? "allow" : "block",
                        lv <= 1 ? "allowed" : "threatLevelTooHigh");
            } else if (!has_dev && nexp_none < 20 && i % 1013 == 0 && a == 0) {
                fprintf(f_exp, "%s\tblock\tagentNotInstalled\n", token);
                nexp_none++;
            }
            free(token);
        }
        if (i % 10000 == 9999)
            fprintf(stderr, "gen_data: registrations of %zu users (%.1f s)\n", i + 1, (util_mono_ns() - t0) / 1e9);
    }
    fprintf(stderr, "gen_data: %zu registration documents (%.1f s)\n", nregs, (util_mono_ns() - t0) / 1e9);
    qsort(rc_all, nregs, sizeof *rc_all, cmp_cred);
    for (size_t i = 0; i < nregs; i++)
        if ((rc = s->ops->cred_create(s, rc_all[i].hash, "app", g.tid, rc_all[i].reg_id, 0)) || (rc = tick(&g)))
            return fail("registration token", rc);
    free(rc_all);
    if ((rc = s->ops->commit(s)))
        return fail("commit", rc);
    fprintf(stderr, "gen_data: %zu registrations, %zu sample tokens (%.1f s)\n", nusers * napps, ntok,
            (util_mono_ns() - t0) / 1e9);
    fclose(f_tok);
    fclose(f_exp);
    fclose(f_live);
    fclose(f_dev);
    json_decref(groups);
    free(uids);
    free(dids);
    free(members);
    store_close(s);
    return 0;
}
