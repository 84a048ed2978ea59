/* ratelimit.c: token buckets in open-addressed tables and trusted proxies (ratelimit.h). */
#include "server/ratelimit.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/err.h"

#define PROBES 8 /* slots looked at for a key; also the candidates for eviction */

struct entry {
    uint64_t key; /* hash of the key; 0 = empty */
    double tokens;
    int64_t updated_ms;
};

struct table {
    struct ratelimit_rule rule;
    struct entry *slots;
    size_t count;
};

struct cidr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    unsigned prefix;
};

struct ratelimit {
    struct table t[RATELIMIT_NKINDS];
    size_t mask;
    uint64_t seed;
    struct cidr proxies[RATELIMIT_MAX_PROXIES];
    size_t nproxies;
};

int ratelimit_rule_parse(const char *s, struct ratelimit_rule *rule)
{
    char *end;
    if (!s || !isdigit((unsigned char)*s))
        return RG_EINVAL;
    long n = strtol(s, &end, 10);
    if (*end != '/' || !isdigit((unsigned char)end[1]))
        return RG_EINVAL;
    long p = strtol(end + 1, &end, 10);
    if (*end || n < 1 || n > 1000000 || p < 1 || p > 86400)
        return RG_EINVAL;
    rule->burst = (double)n;
    rule->period_s = (double)p;
    return 0;
}

/* Parses an address into family and bytes; 0 or -1. */
static int parse_addr(const char *s, int *family, unsigned char out[16])
{
    memset(out, 0, 16);
    if (inet_pton(AF_INET, s, out) == 1) {
        *family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out) == 1) {
        /* an IPv4-mapped address is the IPv4 address */
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (!memcmp(out, mapped, 12)) {
            memmove(out, out + 12, 4);
            memset(out + 4, 0, 12);
            *family = AF_INET;
        } else {
            *family = AF_INET6;
        }
        return 0;
    }
    return -1;
}

static int parse_cidr(const char *s, size_t len, struct cidr *c)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *slash = strchr(buf, '/');
    long prefix = -1;
    if (slash) {
        char *end;
        *slash = '\0';
        if (!isdigit((unsigned char)slash[1]))
            return -1;
        prefix = strtol(slash + 1, &end, 10);
        if (*end)
            return -1;
    }
    if (parse_addr(buf, &c->family, c->addr))
        return -1;
    long max = c->family == AF_INET ? 32 : 128;
    if (prefix < 0)
        prefix = max;
    if (prefix > max)
        return -1;
    c->prefix = (unsigned)prefix;
    return 0;
}

static int parse_proxies(struct ratelimit *rl, const char *list, char *err, size_t errlen)
{
    const char *p = list;
    while (p && *p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, ", ");
        if (rl->nproxies == RATELIMIT_MAX_PROXIES) {
            snprintf(err, errlen, "--trusted-proxy: at most %d entries", RATELIMIT_MAX_PROXIES);
            return RG_EINVAL;
        }
        if (parse_cidr(p, n, &rl->proxies[rl->nproxies])) {
            snprintf(err, errlen, "--trusted-proxy '%.*s': expected an address or CIDR, e.g. 10.0.0.0/8", (int)(n > 64 ? 64 : n), p);
            return RG_EINVAL;
        }
        rl->nproxies++;
        p += n;
    }
    return 0;
}

int ratelimit_new(const struct ratelimit_rule *address, const struct ratelimit_rule *account, size_t capacity,
                  const char *proxies, struct ratelimit **out, char *err, size_t errlen)
{
    const struct ratelimit_rule *rules[RATELIMIT_NKINDS] = {address, account};
    for (int k = 0; k < RATELIMIT_NKINDS; k++)
        if (!(rules[k]->burst >= 1) || !(rules[k]->period_s > 0)) {
            snprintf(err, errlen, "sign-in limit: a burst of at least 1 and a positive period are needed");
            return RG_EINVAL;
        }
    size_t cap = 16;
    while (cap < capacity && cap < ((size_t)1 << 24))
        cap <<= 1;
    struct ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return RG_ENOMEM;
    rl->mask = cap - 1;
    if (getrandom(&rl->seed, sizeof rl->seed, 0) != sizeof rl->seed)
        rl->seed = (uint64_t)(uintptr_t)rl ^ 0x9e3779b97f4a7c15ull;
    for (int k = 0; k < RATELIMIT_NKINDS; k++) {
        rl->t[k].rule = *rules[k];
        if (!(rl->t[k].slots = calloc(cap, sizeof(struct entry)))) {
            ratelimit_free(rl);
            return RG_ENOMEM;
        }
    }
    int rc = parse_proxies(rl, proxies, err, errlen);
    if (rc) {
        ratelimit_free(rl);
        return rc;
    }
    *out = rl;
    return 0;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (!rl)
        return;
    for (int k = 0; k < RATELIMIT_NKINDS; k++)
        free(rl->t[k].slots);
    free(rl);
}

/* FNV-1a, seeded per process so keys cannot be chosen to collide. Never 0. */
static uint64_t key_hash(const struct ratelimit *rl, const char *key)
{
    uint64_t h = 0xcbf29ce484222325ull ^ rl->seed;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    h ^= h >> 29;
    return h ? h : 1;
}

static void refill(const struct table *t, struct entry *e, int64_t now_ms)
{
    if (now_ms > e->updated_ms) {
        e->tokens += (double)(now_ms - e->updated_ms) / 1000.0 * t->rule.burst / t->rule.period_s;
        if (e->tokens > t->rule.burst)
            e->tokens = t->rule.burst;
    }
    e->updated_ms = now_ms;
}

/* The key's entry, made (maybe by evicting another) when create is set; NULL when absent. */
static struct entry *lookup(struct ratelimit *rl, struct table *t, const char *key, int64_t now_ms, int create)
{
    uint64_t h = key_hash(rl, key);
    struct entry *empty = NULL, *victim = NULL;
    double victim_tokens = -1;
    for (size_t i = 0; i < PROBES; i++) {
        struct entry *e = &t->slots[(h + i) & rl->mask];
        if (e->key == h) {
            refill(t, e, now_ms);
            return e;
        }
        if (!e->key) {
            if (!empty)
                empty = e;
            continue;
        }
        refill(t, e, now_ms);
        if (e->tokens > victim_tokens) {
            victim = e;
            victim_tokens = e->tokens;
        }
    }
    if (!create)
        return NULL;
    struct entry *e = empty ? empty : victim;
    if (empty)
        t->count++;
    *e = (struct entry){.key = h, .tokens = t->rule.burst, .updated_ms = now_ms};
    return e;
}

int ratelimit_take(struct ratelimit *rl, enum ratelimit_kind kind, const char *key, int64_t now_ms)
{
    struct table *t = &rl->t[kind];
    struct entry *e = lookup(rl, t, key, now_ms, 1);
    if (e->tokens >= 1.0) {
        e->tokens -= 1.0;
        return 0;
    }
    double secs = (1.0 - e->tokens) * t->rule.period_s / t->rule.burst;
    int s = (int)secs;
    if ((double)s < secs)
        s++;
    return s < 1 ? 1 : s;
}

void ratelimit_give(struct ratelimit *rl, enum ratelimit_kind kind, const char *key, int64_t now_ms)
{
    struct table *t = &rl->t[kind];
    struct entry *e = lookup(rl, t, key, now_ms, 0);
    if (e && (e->tokens += 1.0) > t->rule.burst)
        e->tokens = t->rule.burst;
}

size_t ratelimit_count(const struct ratelimit *rl, enum ratelimit_kind kind)
{
    return rl->t[kind].count;
}

static bool in_cidr(const struct cidr *c, int family, const unsigned char a[16])
{
    if (c->family != family)
        return false;
    unsigned full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->addr, a, full))
        return false;
    if (!rest)
        return true;
    unsigned char m = (unsigned char)(0xff << (8 - rest));
    return (c->addr[full] & m) == (a[full] & m);
}

static bool trusted_bytes(const struct ratelimit *rl, int family, const unsigned char a[16])
{
    for (size_t i = 0; i < rl->nproxies; i++)
        if (in_cidr(&rl->proxies[i], family, a))
            return true;
    return false;
}

bool ratelimit_trusted(const struct ratelimit *rl, const char *addr)
{
    int family;
    unsigned char a[16];
    return addr && !parse_addr(addr, &family, a) && trusted_bytes(rl, family, a);
}

/* Writes the normalised text of an address. */
static void format_addr(int family, const unsigned char a[16], char *out, size_t outlen)
{
    char buf[INET6_ADDRSTRLEN];
    if (!inet_ntop(family, a, buf, sizeof buf))
        buf[0] = '\0';
    snprintf(out, outlen, "%s", buf);
}

void ratelimit_client(const struct ratelimit *rl, const char *peer, const char *forwarded_for, char *out,
                      size_t outlen)
{
    int family;
    unsigned char a[16];
    if (!peer || parse_addr(peer, &family, a)) {
        snprintf(out, outlen, "%s", peer ? peer : "");
        return;
    }
    format_addr(family, a, out, outlen);
    if (!forwarded_for || !trusted_bytes(rl, family, a))
        return;
    /* walk X-Forwarded-For from the right: each hop trusted so far vouches for the one left of it */
    size_t end = strlen(forwarded_for);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && forwarded_for[start - 1] != ',')
            start--;
        size_t b = start, e = end;
        while (b < e && (forwarded_for[b] == ' ' || forwarded_for[b] == '\t'))
            b++;
        while (e > b && (forwarded_for[e - 1] == ' ' || forwarded_for[e - 1] == '\t'))
            e--;
        char hop[64];
        if (e - b == 0 || e - b >= sizeof hop)
            return;
        memcpy(hop, forwarded_for + b, e - b);
        hop[e - b] = '\0';
        if (parse_addr(hop, &family, a))
            return; /* not an address: keep the last one we could trust */
        format_addr(family, a, out, outlen);
        if (!trusted_bytes(rl, family, a))
            return;
        end = start > 0 ? start - 1 : 0;
    }
}
