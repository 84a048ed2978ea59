/*
 * threats.c: one scan pass over the configured folders and the list of
 * threats it keeps: a threat (keyed "sha256:<hex>") is active while some
 * scanned file has it, and becomes resolved, to be reported once, when none
 * does any more. The list survives restarts through status.json.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/core.h"
#include "common/err.h"

struct agent_threat *agent_threat_find(struct rg_agent *ag, const char *key)
{
    for (size_t i = 0; i < ag->nthreats; i++)
        if (!strcmp(ag->threats[i].key, key))
            return &ag->threats[i];
    return NULL;
}

static void threat_release(struct agent_threat *t)
{
    free(t->key);
    free(t->threat_name);
    free(t->file_path);
    free(t->file_name);
    free(t->indicator);
    free(t->alert_id);
    json_decref(t->details);
    memset(t, 0, sizeof *t);
}

void agent_threats_drop_resolved(struct rg_agent *ag)
{
    size_t o = 0;
    for (size_t i = 0; i < ag->nthreats; i++) {
        struct agent_threat *t = &ag->threats[i];
        if (!t->active && t->reported) {
            threat_release(t);
            continue;
        }
        ag->threats[o++] = *t;
    }
    ag->nthreats = o;
}

void agent_detections_forget_reported(struct rg_agent *ag, const char *kind)
{
    size_t o = 0;
    for (size_t i = 0; i < ag->nthreats; i++) {
        struct agent_threat *t = &ag->threats[i];
        if (t->reported && !strcmp(t->kind, kind)) {
            threat_release(t);
            continue;
        }
        ag->threats[o++] = *t;
    }
    ag->nthreats = o;
}

void agent_threats_release(struct rg_agent *ag)
{
    for (size_t i = 0; i < ag->nthreats; i++)
        threat_release(&ag->threats[i]);
    free(ag->threats);
    ag->threats = NULL;
    ag->nthreats = ag->athreats = 0;
}

size_t agent_threats_pending(const struct rg_agent *ag)
{
    size_t n = 0;
    for (size_t i = 0; i < ag->nthreats; i++)
        n += !ag->threats[i].reported;
    return n;
}

static int set_str(char **field, const char *v)
{
    if (*field && v && !strcmp(*field, v))
        return 0;
    char *c = v ? strdup(v) : NULL;
    if (v && !c)
        return RG_ENOMEM;
    free(*field);
    *field = c;
    return 0;
}

static struct agent_threat *threat_add(struct rg_agent *ag, const char *key)
{
    if (ag->nthreats == ag->athreats) {
        size_t n = ag->athreats ? ag->athreats * 2 : 8;
        struct agent_threat *p = realloc(ag->threats, n * sizeof *p);
        if (!p)
            return NULL;
        ag->threats = p;
        ag->athreats = n;
    }
    struct agent_threat *t = &ag->threats[ag->nthreats];
    memset(t, 0, sizeof *t);
    if (!(t->key = strdup(key)))
        return NULL;
    snprintf(t->kind, sizeof t->kind, "malware");
    ag->nthreats++;
    return t;
}

int agent_detection_set(struct rg_agent *ag, const char *kind, const char *key, bool active, const char *title,
                        json_t *details)
{
    struct agent_threat *t = agent_threat_find(ag, key);
    if (!active) {
        json_decref(details);
        if (t && t->active) {
            t->active = false;
            t->reported = false;
            agent_log(ag, 1, "%s cleared: %s", t->kind, t->threat_name ? t->threat_name : key);
        }
        return 0;
    }
    bool fresh = !t;
    if (!t && !(t = threat_add(ag, key))) {
        json_decref(details);
        return RG_AGENT_ENOMEM;
    }
    snprintf(t->kind, sizeof t->kind, "%s", kind);
    if (set_str(&t->threat_name, title ? title : kind)) {
        json_decref(details);
        return RG_AGENT_ENOMEM;
    }
    json_decref(t->details);
    t->details = details;
    if (fresh || !t->active) {
        t->active = true;
        t->reported = false;
        util_time_format(util_now_ms(), t->detected_at, sizeof t->detected_at);
        agent_log(ag, 2, "%s: %s", kind, t->threat_name);
    }
    return 0;
}

static int on_file(void *ud, const struct scan_file *f)
{
    struct rg_agent *ag = ud;
    struct scan_verdict v;
    scan_verdict(ag->ind, f->hashes, f->eicar, &v);
    if (!v.threat)
        return 0;
    char key[80];
    snprintf(key, sizeof key, "sha256:%s", f->hashes->sha256);
    struct agent_threat *t = agent_threat_find(ag, key);
    bool fresh = !t;
    if (!t && !(t = threat_add(ag, key)))
        return RG_ENOMEM;
    if (fresh || !t->active) {
        t->active = true;
        t->reported = false;
        util_time_format(util_now_ms(), t->detected_at, sizeof t->detected_at);
        agent_log(ag, 2, "threat found: %s (%s) in %s", v.threat_name, key, f->path);
    }
    if (!t->seen) { /* the first file of this pass that has it names it */
        t->seen = true;
        char ind[64] = "";
        if (v.matched)
            snprintf(ind, sizeof ind, "%s %s", indset_type_name(v.by.type), indset_action_name(v.by.action));
        if (set_str(&t->file_path, f->path) || set_str(&t->file_name, f->name) ||
            set_str(&t->threat_name, v.threat_name) || set_str(&t->indicator, v.matched ? ind : NULL))
            return RG_ENOMEM;
        t->h = *f->hashes;
    }
    return 0;
}

int agent_scan_pass(struct rg_agent *ag)
{
    for (size_t i = 0; i < ag->nthreats; i++)
        ag->threats[i].seen = strcmp(ag->threats[i].kind, "malware") != 0; /* others are not the scanner's */
    struct scan_stats st = {0};
    bool complete = true;
    scan_cache_begin(ag->cache);
    for (size_t i = 0; i < ag->ndirs; i++) {
        int rc = scan_tree(ag->dirs[i], ag->cache, on_file, ag, &st);
        if (rc == RG_ENOMEM) {
            complete = false;
            break;
        }
        if (rc && rc != RG_ENOTFOUND) { /* a folder we cannot read now: do not resolve what it held */
            agent_log(ag, 2, "cannot scan %s: %s", ag->dirs[i], rg_err_name(rc));
            complete = false;
        }
    }
    scan_cache_end(ag->cache);
    if (complete) {
        for (size_t i = 0; i < ag->nthreats; i++) {
            struct agent_threat *t = &ag->threats[i];
            if (t->active && !t->seen) {
                t->active = false;
                t->reported = false;
                agent_log(ag, 1, "threat gone: %s (%s), was %s", t->threat_name, t->key,
                          t->file_path ? t->file_path : "-");
            }
        }
    }
    /* never reported and already gone: nothing to tell the server */
    size_t o = 0;
    for (size_t i = 0; i < ag->nthreats; i++) {
        struct agent_threat *t = &ag->threats[i];
        if (!t->active && !t->known) {
            threat_release(t);
            continue;
        }
        ag->threats[o++] = *t;
    }
    ag->nthreats = o;
    ag->last_scan_ms = util_now_ms();
    ag->last_stats = st;
    agent_log(ag, 0, "scan: %llu files (%llu hashed, %llu skipped) in %zu folders", (unsigned long long)st.files,
              (unsigned long long)st.hashed, (unsigned long long)st.skipped, ag->ndirs);
    return complete ? 0 : RG_AGENT_EIO;
}

json_t *agent_threats_json(const struct rg_agent *ag)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < ag->nthreats; i++) {
        const struct agent_threat *t = &ag->threats[i];
        json_t *o = json_object();
        json_object_set_new(o, "key", json_string(t->key));
        json_object_set_new(o, "kind", json_string(t->kind));
        if (t->details)
            json_object_set(o, "details", t->details);
        json_object_set_new(o, "state", json_string(t->active ? "active" : "resolved"));
        json_object_set_new(o, "threatName", json_string(t->threat_name ? t->threat_name : ""));
        if (t->file_path)
            json_object_set_new(o, "filePath", json_string(t->file_path));
        if (t->file_name)
            json_object_set_new(o, "fileName", json_string(t->file_name));
        if (t->indicator)
            json_object_set_new(o, "indicator", json_string(t->indicator));
        json_object_set_new(o, "sha256", json_string(t->h.sha256));
        json_object_set_new(o, "sha1", json_string(t->h.sha1));
        json_object_set_new(o, "md5", json_string(t->h.md5));
        json_object_set_new(o, "detectedAt", json_string(t->detected_at));
        if (t->alert_id)
            json_object_set_new(o, "alertId", json_string(t->alert_id));
        json_object_set_new(o, "reported", json_boolean(t->reported));
        json_object_set_new(o, "known", json_boolean(t->known));
        json_array_append_new(arr, o);
    }
    return arr;
}

static void copy_hex(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

void agent_threats_load(struct rg_agent *ag, const json_t *arr)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        const char *key = json_string_value(json_object_get(o, "key"));
        const char *kind = json_string_value(json_object_get(o, "kind"));
        bool malware = !kind || !strcmp(kind, "malware");
        if (!key || (malware && strncmp(key, "sha256:", 7)) || agent_threat_find(ag, key))
            continue;
        struct agent_threat *t = threat_add(ag, key);
        if (!t)
            return;
        if (!malware) {
            snprintf(t->kind, sizeof t->kind, "%s", kind);
            json_t *d = json_object_get(o, "details");
            t->details = json_is_object(d) ? json_deep_copy(d) : NULL;
        }
        t->active = !json_is_string(json_object_get(o, "state")) ||
                    strcmp(json_string_value(json_object_get(o, "state")), "resolved");
        t->reported = json_is_true(json_object_get(o, "reported"));
        t->known = json_is_true(json_object_get(o, "known"));
        set_str(&t->threat_name, json_string_value(json_object_get(o, "threatName")));
        set_str(&t->file_path, json_string_value(json_object_get(o, "filePath")));
        set_str(&t->file_name, json_string_value(json_object_get(o, "fileName")));
        set_str(&t->indicator, json_string_value(json_object_get(o, "indicator")));
        set_str(&t->alert_id, json_string_value(json_object_get(o, "alertId")));
        if (!t->threat_name)
            set_str(&t->threat_name, "unknown threat");
        copy_hex(t->h.sha256, sizeof t->h.sha256, json_string_value(json_object_get(o, "sha256")));
        copy_hex(t->h.sha1, sizeof t->h.sha1, json_string_value(json_object_get(o, "sha1")));
        copy_hex(t->h.md5, sizeof t->h.md5, json_string_value(json_object_get(o, "md5")));
        copy_hex(t->detected_at, sizeof t->detected_at, json_string_value(json_object_get(o, "detectedAt")));
    }
}
