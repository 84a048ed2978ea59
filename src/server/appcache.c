/* appcache.c: the check-in's in-memory state and its invalidation (appcache.h). */
#include "server/appcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/util.h"

#define REGS "managedAppRegistrations"
#define DEVICES "devices"
#define WIPES "wipeRequests"
#define NFACTS 12

/* The facts a check-in may send (appapi.c's apply_facts knows them); their values are hashed per entry. */
static const char *const fact_keys[NFACTS] = {"appVersion", "sdkVersion", "osVersion",  "patchLevel",
                                              "model",      "manufacturer", "deviceId", "deviceName",
                                              "deviceTag",  "rooted",     "agentInstalled", "pinFailures"};

/* The shared part of answers, interned by content. */
struct blob {
    struct blob *next;
    uint64_t hash;
    size_t refs;
    char text[]; /* "\"decision\":...}" */
};

struct entry {
    struct entry *next_token, *next_reg;
    unsigned char token[32];
    const char *tenant_id; /* interned */
    char reg_id[UTIL_UUID_LEN + 1];
    char version[17];
    const char *tenant_name; /* interned */
    const char *action, *reason; /* the decision's, interned: what lastDecision/lastReasonCode record */
    char *device_id;         /* NULL when none */
    uint64_t config_gen, device_gen;
    int64_t built_ms;
    struct blob *rest;
    unsigned char *ticket;  /* the payload's bytes then the 64-byte signature: base64 is made when answering */
    uint16_t payload_len;
    uint64_t facts[NFACTS]; /* 64-bit hash of each fact's value, 0 when absent */
    int64_t dirty;          /* index into the marks + 1, 0 when not marked */
    int64_t marked_ms;      /* when it was last marked (APPCACHE_SYNC_MS apart at most once) */
};

struct dev_gen {
    struct dev_gen *next;
    uint64_t gen;
    char key[]; /* "<tenant id>/<device id>" */
};

struct tenant {
    struct tenant *next;
    char id[UTIL_UUID_LEN + 1];
    uint64_t gen; /* config generation the snapshot was loaded at; 0 = none */
    struct appcache_tenant snap;
};

struct name {
    struct name *next;
    char text[];
};

struct mark {
    struct entry *e; /* NULL when the entry went before the flush: ids below still name it */
    char tenant_id[UTIL_UUID_LEN + 1];
    char reg_id[UTIL_UUID_LEN + 1];
    int64_t ms;
    const char *action, *reason; /* interned */
};

struct appcache {
    uint64_t gen;    /* the config generation; bumped by every write that is not a device's or a registration's */
    uint64_t devseq; /* source of device generations */
    struct entry **by_token, **by_reg;
    size_t nbuckets, count;
    struct dev_gen **devs;
    size_t ndevbuckets, ndevs;
    struct blob **blobs;
    size_t nblobbuckets;
    struct tenant *tenants;
    struct name *names;
    struct mark *marks;
    size_t nmarks, capmarks;
    int flushing; /* our own lastSyncDateTime writes invalidate nothing */
};

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ull;
    }
    return h;
}
#define FNV0 1469598103934665603ull

static uint64_t str_hash(const char *s)
{
    return fnv(s, strlen(s), FNV0);
}

static uint64_t token_hash(const unsigned char t[32])
{
    uint64_t h;
    memcpy(&h, t, sizeof h);
    return h;
}

struct appcache *appcache_new(void)
{
    struct appcache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->gen = 1;
    c->nbuckets = 1024;
    c->ndevbuckets = 1024;
    c->nblobbuckets = 256;
    c->by_token = calloc(c->nbuckets, sizeof *c->by_token);
    c->by_reg = calloc(c->nbuckets, sizeof *c->by_reg);
    c->devs = calloc(c->ndevbuckets, sizeof *c->devs);
    c->blobs = calloc(c->nblobbuckets, sizeof *c->blobs);
    if (!c->by_token || !c->by_reg || !c->devs || !c->blobs) {
        appcache_free(c);
        return NULL;
    }
    return c;
}

static void snap_release(struct appcache_tenant *t)
{
    json_decref(t->policies);
    json_decref(t->user_groups);
    json_decref(t->connectors);
    json_decref(t->links);
    json_decref(t->wipes);
    memset(t, 0, sizeof *t);
}

static void blob_unref(struct appcache *c, struct blob *b)
{
    if (!b || --b->refs)
        return;
    struct blob **pp = &c->blobs[b->hash % c->nblobbuckets];
    while (*pp != b)
        pp = &(*pp)->next;
    *pp = b->next;
    free(b);
}

static void entry_free(struct appcache *c, struct entry *e)
{
    if (e->dirty)
        c->marks[e->dirty - 1].e = NULL;
    blob_unref(c, e->rest);
    free(e->device_id);
    free(e->ticket);
    free(e);
}

void appcache_free(struct appcache *c)
{
    if (!c)
        return;
    for (size_t i = 0; c->by_token && i < c->nbuckets; i++) {
        for (struct entry *e = c->by_token[i], *next; e; e = next) {
            next = e->next_token;
            entry_free(c, e);
        }
    }
    for (size_t i = 0; c->devs && i < c->ndevbuckets; i++) {
        for (struct dev_gen *d = c->devs[i], *next; d; d = next) {
            next = d->next;
            free(d);
        }
    }
    for (struct tenant *t = c->tenants, *next; t; t = next) {
        next = t->next;
        snap_release(&t->snap);
        free(t);
    }
    for (struct name *n = c->names, *next; n; n = next) {
        next = n->next;
        free(n);
    }
    free(c->by_token);
    free(c->by_reg);
    free(c->devs);
    free(c->blobs);
    free(c->marks);
    free(c);
}

size_t appcache_count(const struct appcache *c)
{
    return c ? c->count : 0;
}

/* ---- lookups ---- */

static struct entry *find_token(const struct appcache *c, const unsigned char t[32])
{
    for (struct entry *e = c->by_token[token_hash(t) % c->nbuckets]; e; e = e->next_token)
        if (!memcmp(e->token, t, 32))
            return e;
    return NULL;
}

static struct entry *find_reg(const struct appcache *c, const char *tenant_id, const char *reg_id)
{
    for (struct entry *e = c->by_reg[str_hash(reg_id) % c->nbuckets]; e; e = e->next_reg)
        if (!strcmp(e->reg_id, reg_id) && !strcmp(e->tenant_id, tenant_id))
            return e;
    return NULL;
}

static void entry_remove(struct appcache *c, struct entry *e)
{
    struct entry **pp = &c->by_token[token_hash(e->token) % c->nbuckets];
    while (*pp != e)
        pp = &(*pp)->next_token;
    *pp = e->next_token;
    pp = &c->by_reg[str_hash(e->reg_id) % c->nbuckets];
    while (*pp != e)
        pp = &(*pp)->next_reg;
    *pp = e->next_reg;
    c->count--;
    entry_free(c, e);
}

static void dev_key(const char *tenant_id, const char *device_id, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s", tenant_id, device_id);
}

static struct dev_gen *find_dev(const struct appcache *c, const char *key)
{
    for (struct dev_gen *d = c->devs[str_hash(key) % c->ndevbuckets]; d; d = d->next)
        if (!strcmp(d->key, key))
            return d;
    return NULL;
}

static uint64_t device_gen(const struct appcache *c, const char *tenant_id, const char *device_id)
{
    if (!device_id || !*device_id)
        return 0;
    char key[UTIL_UUID_LEN + 300];
    dev_key(tenant_id, device_id, key, sizeof key);
    const struct dev_gen *d = find_dev(c, key);
    return d ? d->gen : 0;
}

static void grow_devs(struct appcache *c)
{
    size_t n = c->ndevbuckets * 4;
    struct dev_gen **nb = calloc(n, sizeof *nb);
    if (!nb)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < c->ndevbuckets; i++) {
        for (struct dev_gen *d = c->devs[i], *next; d; d = next) {
            next = d->next;
            size_t b = str_hash(d->key) % n;
            d->next = nb[b];
            nb[b] = d;
        }
    }
    free(c->devs);
    c->devs = nb;
    c->ndevbuckets = n;
}

/* A device changed: every answer computed for it is stale. */
static void bump_device(struct appcache *c, const char *tenant_id, const char *device_id)
{
    char key[UTIL_UUID_LEN + 300];
    dev_key(tenant_id, device_id, key, sizeof key);
    struct dev_gen *d = find_dev(c, key);
    if (!d) {
        size_t len = strlen(key);
        d = malloc(sizeof *d + len + 1);
        if (!d) { /* cannot remember the device: make everything stale instead */
            c->gen++;
            return;
        }
        memcpy(d->key, key, len + 1);
        d->gen = 0;
        size_t b = str_hash(key) % c->ndevbuckets;
        d->next = c->devs[b];
        c->devs[b] = d;
        if (++c->ndevs > c->ndevbuckets)
            grow_devs(c);
    }
    d->gen = ++c->devseq; /* unique: never a value an entry could hold from before */
}

void appcache_on_write(void *arg, const char *tenant_id, const char *coll, const char *id)
{
    struct appcache *c = arg;
    if (!coll) {
        c->gen++;
        return;
    }
    if (!strcmp(coll, "alerts") || !strcmp(coll, "deviceEvents"))
        return; /* the threat side's own records: the app side sees only the device's level (devices) */
    if (!strcmp(coll, DEVICES) && tenant_id && id) {
        bump_device(c, tenant_id, id);
        return;
    }
    if (!strcmp(coll, REGS) && tenant_id && id) {
        if (c->flushing)
            return;
        struct entry *e = find_reg(c, tenant_id, id);
        if (e)
            entry_remove(c, e);
        return;
    }
    c->gen++; /* policies, groups, users, connectors, settings, wipes, credentials, anything new */
}

void appcache_stamp(const struct appcache *c, const char *tenant_id, const char *device_id, struct appcache_stamp *out)
{
    out->config = c->gen;
    out->device = device_gen(c, tenant_id, device_id);
}

/* ---- tenant snapshots ---- */

static int load_snapshot(struct store *s, const char *tenant_id, struct appcache_tenant *t)
{
    json_t *groups = NULL, *wipes = NULL;
    int rc = s->ops->doc_list(s, tenant_id, "managedAppPolicies", &t->policies);
    if (!rc)
        rc = s->ops->doc_list(s, tenant_id, "mobileThreatDefenseConnectors", &t->connectors);
    if (!rc)
        rc = s->ops->doc_list(s, tenant_id, "groups", &groups);
    if (!rc)
        rc = s->ops->doc_list(s, tenant_id, WIPES, &wipes);
    if (!rc) {
        rc = s->ops->doc_get(s, tenant_id, "tenantSettings", "tenant", &t->links);
        if (rc == RG_ENOTFOUND) {
            t->links = json_object();
            rc = t->links ? 0 : RG_ENOMEM;
        }
    }
    t->user_groups = json_object();
    t->wipes = json_object();
    if (!rc && (!t->user_groups || !t->wipes))
        rc = RG_ENOMEM;
    size_t i, j;
    json_t *g, *m;
    json_array_foreach(groups, i, g) {
        if (rc)
            break;
        json_t *gid = json_object_get(g, "id");
        json_array_foreach(json_object_get(g, "members"), j, m) {
            const char *uid = json_string_value(m);
            if (!uid)
                continue;
            json_t *arr = json_object_get(t->user_groups, uid);
            if (!arr) {
                arr = json_array();
                if (!arr || json_object_set_new(t->user_groups, uid, arr)) {
                    rc = RG_ENOMEM;
                    break;
                }
            }
            json_array_append(arr, gid);
        }
    }
    json_array_foreach(wipes, i, g) {
        if (rc)
            break;
        const char *rid = json_string_value(json_object_get(g, "registrationId"));
        if (!rid)
            continue;
        json_t *arr = json_object_get(t->wipes, rid);
        if (!arr) {
            arr = json_array();
            if (!arr || json_object_set_new(t->wipes, rid, arr)) {
                rc = RG_ENOMEM;
                break;
            }
        }
        json_array_append(arr, g);
    }
    json_decref(groups);
    json_decref(wipes);
    if (rc)
        snap_release(t);
    return rc;
}

int appcache_tenant(struct appcache *c, struct store *s, const char *tenant_id, const struct appcache_tenant **out)
{
    struct tenant *t = c->tenants;
    while (t && strcmp(t->id, tenant_id))
        t = t->next;
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t)
            return RG_ENOMEM;
        snprintf(t->id, sizeof t->id, "%s", tenant_id);
        t->next = c->tenants;
        c->tenants = t;
    }
    if (t->gen != c->gen) {
        snap_release(&t->snap);
        t->gen = 0;
        uint64_t at = c->gen;
        int rc = load_snapshot(s, tenant_id, &t->snap);
        if (rc)
            return rc;
        t->gen = at;
    }
    *out = &t->snap;
    return 0;
}

/* ---- answers ---- */

/*
 * 64 bits of FNV-1a over the value's JSON text (0 = absent). Not collision-proof
 * against a chosen value, and it need not be: the app reports its own facts and
 * could as well send the old value; a collision only delays the write (<= 60 s).
 */
static uint64_t value_hash(const json_t *v)
{
    if (!v || json_is_null(v))
        return 0;
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    uint64_t h = text ? fnv(text, strlen(text), FNV0) : 1;
    free(text);
    return h ? h : 1;
}

/* Would applying these facts change the entry's registration? (unknown keys: yes, the slow path answers 400) */
static int facts_change(const struct entry *e, const json_t *facts)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)facts, k, v) {
        size_t i = 0;
        while (i < NFACTS && strcmp(fact_keys[i], k))
            i++;
        if (i == NFACTS)
            return 1;
        if (value_hash(v) != e->facts[i]) /* null hashes as absent: apply_facts stores it */
            return 1;
    }
    return 0;
}

int appcache_lookup(struct appcache *c, const unsigned char token_sha[32], const json_t *facts, int64_t now_ms,
                    struct appcache_hit *out)
{
    struct entry *e = find_token(c, token_sha);
    if (!e || e->config_gen != c->gen || e->device_gen != device_gen(c, e->tenant_id, e->device_id) ||
        now_ms < e->built_ms || now_ms - e->built_ms >= APPCACHE_TICKET_MS)
        return 0;
    if (facts && (!json_is_object(facts) || facts_change(e, facts)))
        return 0;
    out->tenant_id = e->tenant_id;
    out->tenant_name = e->tenant_name;
    out->reg_id = e->reg_id;
    out->device_id = e->device_id ? e->device_id : "";
    out->version = e->version;
    out->ticket = e->ticket;
    out->payload_len = e->payload_len;
    out->rest = e->rest->text;
    return 1;
}

static int put_b64(struct buf *out, const unsigned char *p, size_t n)
{
    char enc[1024]; /* payloads are a few hundred bytes (appcache_put refuses more) */
    if (4 * ((n + 2) / 3) + 1 > sizeof enc)
        return RG_ENOMEM;
    int len = EVP_EncodeBlock((unsigned char *)enc, p, (int)n);
    return buf_append(out, enc, (size_t)len);
}

int appcache_hit_write(const struct appcache_hit *h, struct buf *out)
{
    if (buf_puts(out, "{\"ticket\":{\"payload\":\"") || put_b64(out, h->ticket, h->payload_len) ||
        buf_puts(out, "\",\"signature\":\"") || put_b64(out, h->ticket + h->payload_len, 64) ||
        buf_puts(out, "\"},") || buf_puts(out, h->rest))
        return RG_ENOMEM;
    return 0;
}

/* Decodes standard base64 (with padding) into out (outlen bytes at most); the length or -1. */
static int unb64(const char *s, unsigned char *out, size_t outlen)
{
    size_t n = s ? strlen(s) : 0;
    if (!n || n % 4 || n / 4 * 3 > outlen)
        return -1;
    int len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    if (len < 0)
        return -1;
    return len - (s[n - 1] == '=') - (s[n - 2] == '=');
}

static const char *intern_name(struct appcache *c, const char *s)
{
    for (struct name *n = c->names; n; n = n->next)
        if (!strcmp(n->text, s))
            return n->text;
    size_t len = strlen(s);
    struct name *n = malloc(sizeof *n + len + 1);
    if (!n)
        return NULL;
    memcpy(n->text, s, len + 1);
    n->next = c->names;
    c->names = n;
    return n->text;
}

static struct blob *intern_blob(struct appcache *c, const char *text)
{
    size_t len = strlen(text);
    uint64_t h = fnv(text, len, FNV0);
    struct blob **head = &c->blobs[h % c->nblobbuckets];
    for (struct blob *b = *head; b; b = b->next) {
        if (b->hash == h && !strcmp(b->text, text)) {
            b->refs++;
            return b;
        }
    }
    struct blob *b = malloc(sizeof *b + len + 1);
    if (!b)
        return NULL;
    memcpy(b->text, text, len + 1);
    b->hash = h;
    b->refs = 1;
    b->next = *head;
    *head = b;
    return b;
}

static void grow_entries(struct appcache *c)
{
    size_t n = c->nbuckets * 4;
    struct entry **bt = calloc(n, sizeof *bt), **br = calloc(n, sizeof *br);
    if (!bt || !br) {
        free(bt);
        free(br);
        return; /* longer chains, still correct */
    }
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (struct entry *e = c->by_token[i], *next; e; e = next) {
            next = e->next_token;
            size_t b = token_hash(e->token) % n;
            e->next_token = bt[b];
            bt[b] = e;
        }
        for (struct entry *e = c->by_reg[i], *next; e; e = next) {
            next = e->next_reg;
            size_t b = str_hash(e->reg_id) % n;
            e->next_reg = br[b];
            br[b] = e;
        }
    }
    free(c->by_token);
    free(c->by_reg);
    c->by_token = bt;
    c->by_reg = br;
    c->nbuckets = n;
}

int appcache_put(struct appcache *c, const unsigned char token_sha[32], const char *tenant_id, const char *tenant_name,
                 const json_t *reg, const json_t *answer, const struct appcache_stamp *st, int64_t now_ms)
{
    const char *reg_id = json_string_value(json_object_get(reg, "id"));
    const char *version = json_string_value(json_object_get(answer, "decisionVersion"));
    const char *device_id = json_string_value(json_object_get(reg, "deviceId"));
    json_t *ticket = json_object_get(answer, "ticket");
    unsigned char raw[768 + 64], sig[66];
    int plen = unb64(json_string_value(json_object_get(ticket, "payload")), raw, 768);
    int slen = unb64(json_string_value(json_object_get(ticket, "signature")), sig, sizeof sig);
    if (!reg_id || strlen(reg_id) > UTIL_UUID_LEN || !version || plen <= 0 || slen != 64)
        return 0; /* not cacheable: the slow path answers it every time */
    memcpy(raw + plen, sig, 64);
    struct entry *old = find_token(c, token_sha);
    if (old)
        entry_remove(c, old);
    json_t *rest = json_copy((json_t *)answer);
    char *text = NULL;
    if (rest) {
        json_object_del(rest, "ticket");
        text = json_dumps(rest, JSON_COMPACT);
        json_decref(rest);
    }
    struct entry *e = calloc(1, sizeof *e);
    if (!text || !e || text[0] != '{') {
        free(text);
        free(e);
        return RG_ENOMEM;
    }
    e->rest = intern_blob(c, text + 1);
    free(text);
    e->ticket = malloc((size_t)plen + 64);
    if (e->ticket)
        memcpy(e->ticket, raw, (size_t)plen + 64);
    e->payload_len = (uint16_t)plen;
    e->tenant_id = intern_name(c, tenant_id);
    e->tenant_name = intern_name(c, tenant_name ? tenant_name : "");
    json_t *dec = json_object_get(answer, "decision");
    const char *action = json_string_value(json_object_get(dec, "action"));
    const char *reason = json_string_value(json_object_get(dec, "reasonCode"));
    e->action = intern_name(c, action ? action : "");
    e->reason = intern_name(c, reason ? reason : "");
    e->device_id = device_id && *device_id ? strdup(device_id) : NULL;
    if (!e->rest || !e->ticket || !e->tenant_id || !e->tenant_name || !e->action || !e->reason ||
        (device_id && *device_id && !e->device_id)) {
        entry_free(c, e);
        return RG_ENOMEM;
    }
    memcpy(e->token, token_sha, 32);
    snprintf(e->reg_id, sizeof e->reg_id, "%s", reg_id);
    snprintf(e->version, sizeof e->version, "%s", version);
    e->config_gen = st->config;
    e->device_gen = st->device;
    e->built_ms = now_ms;
    for (size_t i = 0; i < NFACTS; i++)
        e->facts[i] = value_hash(json_object_get(reg, fact_keys[i]));
    size_t b = token_hash(token_sha) % c->nbuckets;
    e->next_token = c->by_token[b];
    c->by_token[b] = e;
    b = str_hash(e->reg_id) % c->nbuckets;
    e->next_reg = c->by_reg[b];
    c->by_reg[b] = e;
    if (++c->count > c->nbuckets)
        grow_entries(c);
    return 0;
}

/* ---- deferred lastSyncDateTime ---- */

void appcache_synced(struct appcache *c, const unsigned char token_sha[32], int64_t now_ms)
{
    struct entry *e = find_token(c, token_sha);
    if (!e)
        return;
    if (!e->dirty && e->marked_ms && now_ms >= e->marked_ms && now_ms - e->marked_ms < APPCACHE_SYNC_MS)
        return;
    if (e->dirty) {
        c->marks[e->dirty - 1].ms = now_ms;
        c->marks[e->dirty - 1].action = e->action;
        c->marks[e->dirty - 1].reason = e->reason;
        return;
    }
    if (c->nmarks == c->capmarks) {
        size_t n = c->capmarks ? c->capmarks * 2 : 256;
        struct mark *m = realloc(c->marks, n * sizeof *m);
        if (!m)
            return; /* lastSyncDateTime lags: it decides nothing */
        c->marks = m;
        c->capmarks = n;
    }
    struct mark *m = &c->marks[c->nmarks++];
    m->e = e;
    snprintf(m->tenant_id, sizeof m->tenant_id, "%s", e->tenant_id);
    snprintf(m->reg_id, sizeof m->reg_id, "%s", e->reg_id);
    m->ms = now_ms;
    e->marked_ms = now_ms;
    m->action = e->action;
    m->reason = e->reason;
    e->dirty = (int64_t)c->nmarks;
}

int appcache_flush(struct appcache *c, struct store *s)
{
    if (!c || !c->nmarks)
        return 0;
    int rc = s->ops->begin(s);
    if (rc)
        return rc;
    c->flushing = 1;
    for (size_t i = 0; i < c->nmarks && !rc; i++) {
        struct mark *m = &c->marks[i];
        json_t *reg = NULL;
        int grc = s->ops->doc_get(s, m->tenant_id, REGS, m->reg_id, &reg);
        if (grc == RG_ENOTFOUND)
            continue; /* deleted meanwhile */
        if (grc) {
            rc = grc;
            break;
        }
        char ts[UTIL_TIME_LEN + 1];
        util_time_format(m->ms, ts, sizeof ts);
        const char *had = json_string_value(json_object_get(reg, "lastSyncDateTime"));
        if (!had || strcmp(had, ts) < 0) {
            json_object_set_new(reg, "lastSyncDateTime", json_string(ts));
            if (m->action[0]) {
                json_object_set_new(reg, "lastDecision", json_string(m->action));
                json_object_set_new(reg, "lastReasonCode", json_string(m->reason));
            }
            rc = s->ops->doc_update(s, m->tenant_id, REGS, m->reg_id, reg);
        }
        json_decref(reg);
    }
    if (rc)
        s->ops->rollback(s);
    else
        rc = s->ops->commit(s); /* a failed commit rolls back itself */
    c->flushing = 0;
    if (rc)
        return rc;
    for (size_t i = 0; i < c->nmarks; i++)
        if (c->marks[i].e)
            c->marks[i].e->dirty = 0;
    c->nmarks = 0;
    return 0;
}
