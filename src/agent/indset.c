/*
 * indset.c: the agent's indicator set (indset.h) over the shared matcher
 * (src/intel/indicators.h). The matcher keeps values, actions and severities;
 * this file keeps each indicator's title in a small table by id, and maps the
 * agent's loose inputs (bare hosts, case-insensitive action names) onto it.
 */
#include "agent/indset.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/url.h"
#include "common/err.h"
#include "common/util.h"
#include "intel/indicators.h"

struct meta {
    int64_t id;
    char *title;
    struct meta *next;
};

struct indset {
    struct intel_set *set;
    struct meta **b; /* titles by id */
    size_t nb, count;
};

static const struct {
    const char *name;
    enum ind_type type;
    enum intel_type itype;
} types[] = {
    {"FileSha256", IND_SHA256, INTEL_FILE_SHA256},
    {"FileSha1", IND_SHA1, INTEL_FILE_SHA1},
    {"FileMd5", IND_MD5, INTEL_FILE_MD5},
    {"CertificateThumbprint", IND_CERT, INTEL_CERT},
    {"IpAddress", IND_IP, INTEL_IP},
    {"DomainName", IND_DOMAIN, INTEL_DOMAIN},
    {"Url", IND_URL, INTEL_URL},
};
#define NTYPES (sizeof types / sizeof types[0])

static const struct {
    const char *name;
    enum ind_action action;
} actions[] = {
    {"Allowed", IND_ALLOWED}, {"Audit", IND_AUDIT},   {"Block", IND_BLOCK}, {"BlockAndRemediate", IND_REMEDIATE},
    {"Warn", IND_WARN},       {"Allow", IND_ALLOWED}, {"Alert", IND_AUDIT}, {"AlertAndBlock", IND_REMEDIATE},
};

enum ind_type indset_type_parse(const char *s)
{
    for (size_t i = 0; s && i < NTYPES; i++)
        if (!strcasecmp(s, types[i].name))
            return types[i].type;
    return IND_NONE;
}

enum ind_action indset_action_parse(const char *s)
{
    for (size_t i = 0; s && i < sizeof actions / sizeof actions[0]; i++)
        if (!strcasecmp(s, actions[i].name))
            return actions[i].action;
    return IND_NOACTION;
}

const char *indset_action_name(enum ind_action a)
{
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (actions[i].action == a)
            return actions[i].name;
    return "None";
}

const char *indset_type_name(enum ind_type t)
{
    for (size_t i = 0; i < NTYPES; i++)
        if (types[i].type == t)
            return types[i].name;
    return "None";
}

static bool to_intel_type(enum ind_type t, enum intel_type *out)
{
    for (size_t i = 0; i < NTYPES; i++)
        if (types[i].type == t) {
            *out = types[i].itype;
            return true;
        }
    return false;
}

static enum ind_type from_intel_type(enum intel_type t)
{
    for (size_t i = 0; i < NTYPES; i++)
        if (types[i].itype == t)
            return types[i].type;
    return IND_NONE;
}

static bool network_type(enum ind_type t)
{
    return t == IND_IP || t == IND_DOMAIN || t == IND_URL;
}

static bool to_intel_action(enum ind_action a, enum ind_type t, enum intel_action *out)
{
    switch (a) {
    case IND_ALLOWED:
        *out = INTEL_ALLOWED;
        return true;
    case IND_AUDIT:
        *out = INTEL_AUDIT;
        return true;
    case IND_WARN:
        *out = INTEL_WARN;
        return true;
    case IND_BLOCK:
        *out = INTEL_BLOCK;
        return true;
    case IND_REMEDIATE: /* legacy AlertAndBlock on a network indicator: Block (what it did) */
        *out = network_type(t) ? INTEL_BLOCK : INTEL_BLOCK_AND_REMEDIATE;
        return true;
    default:
        return false;
    }
}

static enum ind_action from_intel_action(enum intel_action a)
{
    switch (a) {
    case INTEL_ALLOWED:
        return IND_ALLOWED;
    case INTEL_AUDIT:
        return IND_AUDIT;
    case INTEL_WARN:
        return IND_WARN;
    case INTEL_BLOCK:
        return IND_BLOCK;
    case INTEL_BLOCK_AND_REMEDIATE:
        return IND_REMEDIATE;
    default:
        return IND_NOACTION;
    }
}

static size_t bucket(const struct indset *s, int64_t id)
{
    uint64_t x = (uint64_t)id;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (size_t)(x & (s->nb - 1));
}

struct indset *indset_new(void)
{
    struct indset *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->nb = 64;
    s->b = calloc(s->nb, sizeof *s->b);
    if (!s->b || intel_set_new(&s->set)) {
        indset_free(s);
        return NULL;
    }
    return s;
}

static void meta_clear(struct indset *s)
{
    for (size_t i = 0; i < s->nb; i++) {
        struct meta *m = s->b[i];
        while (m) {
            struct meta *n = m->next;
            free(m->title);
            free(m);
            m = n;
        }
        s->b[i] = NULL;
    }
}

void indset_free(struct indset *s)
{
    if (!s)
        return;
    if (s->b)
        meta_clear(s);
    free(s->b);
    intel_set_free(s->set);
    free(s);
}

void indset_clear(struct indset *s)
{
    if (!s)
        return;
    struct intel_set *fresh = NULL;
    if (intel_set_new(&fresh) == 0) {
        intel_set_free(s->set);
        s->set = fresh;
    } else { /* no memory for a new set: empty the old one id by id */
        for (size_t i = 0; i < s->nb; i++)
            for (struct meta *m = s->b[i]; m; m = m->next)
                intel_set_remove(s->set, (uint64_t)m->id);
    }
    meta_clear(s);
    s->count = 0;
}

size_t indset_count(const struct indset *s)
{
    return s ? intel_set_count(s->set) : 0;
}

static struct meta *meta_find(const struct indset *s, int64_t id)
{
    for (struct meta *m = s->b[bucket(s, id)]; m; m = m->next)
        if (m->id == id)
            return m;
    return NULL;
}

static void meta_grow(struct indset *s)
{
    size_t nb = s->nb * 2;
    struct meta **b = calloc(nb, sizeof *b);
    if (!b)
        return; /* longer chains, still correct */
    struct meta **old = s->b;
    size_t oldn = s->nb;
    s->b = b;
    s->nb = nb;
    for (size_t i = 0; i < oldn; i++) {
        struct meta *m = old[i];
        while (m) {
            struct meta *n = m->next;
            size_t k = bucket(s, m->id);
            m->next = b[k];
            b[k] = m;
            m = n;
        }
    }
    free(old);
}

static void meta_remove(struct indset *s, int64_t id)
{
    struct meta **pp = &s->b[bucket(s, id)];
    while (*pp && (*pp)->id != id)
        pp = &(*pp)->next;
    if (*pp) {
        struct meta *m = *pp;
        *pp = m->next;
        free(m->title);
        free(m);
        s->count--;
    }
}

int indset_remove(struct indset *s, int64_t id)
{
    meta_remove(s, id);
    return id < 0 ? RG_ENOTFOUND : intel_set_remove(s->set, (uint64_t)id);
}

static enum intel_severity severity_of(const char *s)
{
    enum intel_severity v = INTEL_SEV_INFORMATIONAL;
    for (int i = 0; s && i < INTEL_SEV_COUNT; i++)
        if (!strcasecmp(s, intel_severity_name((enum intel_severity)i)))
            v = (enum intel_severity)i;
    return v;
}

int indset_upsert(struct indset *s, const struct indicator *ind)
{
    struct intel_indicator ii = {0};
    if (!ind || ind->id < 0 || !ind->value || !to_intel_type(ind->type, &ii.type) ||
        !to_intel_action(ind->action, ind->type, &ii.action))
        return RG_EINVAL;
    ii.id = (uint64_t)ind->id;
    ii.value = ind->value;
    ii.severity = severity_of(ind->severity);
    ii.expires_ms = ind->expires_ms > 0 ? ind->expires_ms : 0;
    char *title = ind->title ? strdup(ind->title) : NULL;
    if (ind->title && !title)
        return RG_ENOMEM;
    int rc = intel_set_put(s->set, &ii, NULL, 0);
    if (rc) {
        free(title);
        return rc == RG_ENOMEM ? RG_ENOMEM : RG_EINVAL;
    }
    struct meta *m = meta_find(s, ind->id);
    if (!m) {
        m = calloc(1, sizeof *m);
        if (!m) {
            free(title);
            /* it matches already, without its title: RG_ENOMEM keeps the sync's version, so the retry brings it */
            return RG_ENOMEM;
        }
        if (s->count + 1 > s->nb)
            meta_grow(s);
        m->id = ind->id;
        size_t k = bucket(s, ind->id);
        m->next = s->b[k];
        s->b[k] = m;
        s->count++;
    }
    free(m->title);
    m->title = title;
    return 0;
}

static bool fill(const struct indset *s, const struct intel_match *m, struct indicator *out)
{
    memset(out, 0, sizeof *out);
    if (!m->found)
        return false;
    out->id = (int64_t)m->id;
    out->type = from_intel_type(m->type);
    out->value = m->value;
    out->action = from_intel_action(m->action);
    out->severity = intel_severity_name(m->severity);
    out->expires_ms = m->expires_ms;
    struct meta *mt = meta_find(s, out->id);
    out->title = mt ? mt->title : NULL;
    return true;
}

bool indset_match_url(const struct indset *s, const char *url, struct indicator *out)
{
    memset(out, 0, sizeof *out);
    char host[URL_HOST_MAX];
    if (!s || !url || url_host(url, host, sizeof host, NULL))
        return false;
    struct intel_match m;
    int64_t now = util_now_ms();
    int rc;
    if (strstr(url, "://"))
        rc = intel_match_url(s->set, url, now, NULL, 0, &m);
    else if (url_is_ip(host))
        rc = intel_match_ip(s->set, host, now, NULL, 0, &m);
    else if (url[strcspn(url, "/?#")]) { /* "host/path": as an http URL */
        size_t n = strlen(url) + 8;
        char *u = malloc(n);
        if (!u)
            return false;
        snprintf(u, n, "http://%s", url);
        rc = intel_match_url(s->set, u, now, NULL, 0, &m);
        free(u);
    } else {
        rc = intel_match_domain(s->set, host, now, NULL, 0, &m);
    }
    return !rc && fill(s, &m, out);
}

bool indset_match_file(const struct indset *s, const char *sha256, const char *sha1, const char *md5,
                       struct indicator *out)
{
    memset(out, 0, sizeof *out);
    if (!s)
        return false;
    struct intel_match m;
    int rc = intel_match_file(s->set, sha256 && *sha256 ? sha256 : NULL, sha1 && *sha1 ? sha1 : NULL,
                              md5 && *md5 ? md5 : NULL, util_now_ms(), NULL, 0, &m);
    return !rc && fill(s, &m, out);
}
