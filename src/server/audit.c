/*
 * audit.c: the audit trail of admin writes (audit.h), as Intune's
 * deviceManagement/auditEvents. The watching store (store.h) calls
 * audit_on_write before every document write and API key change; while an
 * admin request is being handled (app->actor), a record of who, what, when
 * and the changed properties (before and after) is written in the same
 * transaction, so an acknowledged write always has its record.
 */
#include "server/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"

#define AUDIT_VALUE_MAX 1000 /* a property's old or new value is cut at this many bytes in the record */

/* Collections that are not admin configuration: their writes are not audited. */
static bool audited_collection(const char *coll)
{
    static const char *const skip[] = {AUDIT_COLLECTION, NULL};
    for (int i = 0; skip[i]; i++)
        if (!strcmp(coll, skip[i]))
            return false;
    return true;
}

/* Secrets and their hashes never go into a record: only that they changed. */
static bool secret_property(const char *k)
{
    return !strcmp(k, "passwordHash") || !strcmp(k, "key") || !strcmp(k, "keyHash") || !strcmp(k, "secret");
}

/* n cut back to a UTF-8 character boundary of s */
static size_t utf8_cut(const char *s, size_t n)
{
    while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static json_t *value_text(const json_t *v, const char *k)
{
    if (!v)
        return json_null();
    if (secret_property(k))
        return json_string("(secret)");
    if (json_is_string(v)) {
        const char *sv = json_string_value(v);
        size_t n = json_string_length(v);
        return json_stringn(sv, n <= AUDIT_VALUE_MAX ? n : utf8_cut(sv, AUDIT_VALUE_MAX));
    }
    char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    if (!d)
        return json_null();
    size_t n = strlen(d);
    json_t *o = json_stringn(d, n > AUDIT_VALUE_MAX ? utf8_cut(d, AUDIT_VALUE_MAX) : n);
    free(d);
    return o ? o : json_string("(too long)");
}

/* Graph's modifiedProperties: every top-level property whose value differs. */
static json_t *modified(const json_t *before, const json_t *after)
{
    json_t *out = json_array();
    const char *k;
    json_t *v;
    if (after)
        json_object_foreach((json_t *)after, k, v) {
            json_t *old = before ? json_object_get(before, k) : NULL;
            if (old && json_equal(old, v))
                continue;
            json_t *nv = value_text(v, k), *ov = value_text(old, k);
            json_array_append_new(out, json_pack("{s:s,s:o,s:o}", "displayName", k, "oldValue",
                                                 ov ? ov : json_null(), "newValue", nv ? nv : json_null()));
        }
    if (before)
        json_object_foreach((json_t *)before, k, v) {
            if (after && json_object_get(after, k))
                continue;
            json_t *ov = value_text(v, k);
            json_array_append_new(out, json_pack("{s:s,s:o,s:n}", "displayName", k, "oldValue",
                                                 ov ? ov : json_null(), "newValue"));
        }
    return out;
}

static const char *category_of(const char *coll)
{
    if (!strcmp(coll, "users") || !strcmp(coll, "groups"))
        return "Directory";
    if (!strcmp(coll, STORE_AUDIT_KEYS) || !strcmp(coll, "tenants"))
        return "Role";
    if (!strcmp(coll, "devices") || !strcmp(coll, "alerts") || !strcmp(coll, "deviceEvents"))
        return "Device";
    return "Application";
}

int audit_on_write(void *vapp, struct store *inner, const char *tenant_id, const char *coll, const char *id,
                   const json_t *after)
{
    struct app *app = vapp;
    if (!app->actor.active || !tenant_id || !coll || !id || !audited_collection(coll))
        return 0;
    json_t *before = NULL;
    int rc = 0;
    if (strcmp(coll, STORE_AUDIT_KEYS)) {
        rc = inner->ops->doc_get(inner, tenant_id, coll, id, &before);
        if (rc && rc != RG_ENOTFOUND)
            return rc;
        rc = 0;
    }
    const char *op = !after ? "Delete" : before ? "Patch" : "Create";
    if (!after && !before && strcmp(coll, STORE_AUDIT_KEYS))
        return 0; /* a delete of nothing: the write fails (404), no record */
    json_t *mods = modified(before, after);
    const char *name = after ? json_string_value(json_object_get(after, "displayName")) : NULL;
    if (!name && before)
        name = json_string_value(json_object_get(before, "displayName"));
    if (!name && after)
        name = json_string_value(json_object_get(after, "name"));
    char aid[UTIL_UUID_LEN + 1], when[UTIL_TIME_LEN + 1], activity[160];
    util_uuid(aid, sizeof aid);
    util_time_format(util_now_ms(), when, sizeof when);
    snprintf(activity, sizeof activity, "%s %s", op, coll);
    const struct audit_actor *a = &app->actor;
    json_t *ev = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,"
        "s:{s:s,s:s,s:s,s:s,s:s,s:s,s:n,s:[]},"
        "s:[{s:s?,s:s,s:s,s:s,s:o}]}",
        "id", aid, "displayName", activity, "componentName", "riskgated", "activity", activity, "activityDateTime",
        when, "activityType", activity, "activityOperationType", op, "activityResult", "Success", "correlationId",
        a->request_id, "category", category_of(coll),
        "actor", "type", "ItPro", "auditActorType", "ItPro", "applicationId", a->key_id, "applicationDisplayName",
        a->key_name, "ipAddress", a->peer, "actorType", "apiKey", "userPrincipalName", "userPermissions",
        "resources", "displayName", name, "type", coll, "auditResourceType", coll, "resourceId", id,
        "modifiedProperties", mods);
    json_decref(before);
    if (!ev)
        return RG_ENOMEM;
    rc = inner->ops->doc_insert(inner, tenant_id, AUDIT_COLLECTION, aid, ev);
    json_decref(ev);
    return rc;
}

void audit_actor_set(struct app *app, const char *key_id, const char *key_name, const char *peer,
                     const char *request_id)
{
    struct audit_actor *a = &app->actor;
    a->active = true;
    snprintf(a->key_id, sizeof a->key_id, "%s", key_id ? key_id : "");
    snprintf(a->key_name, sizeof a->key_name, "%s", key_name ? key_name : "");
    snprintf(a->peer, sizeof a->peer, "%s", peer ? peer : "");
    snprintf(a->request_id, sizeof a->request_id, "%s", request_id ? request_id : "");
}

void audit_actor_clear(void *vapp)
{
    struct app *app = vapp;
    app->actor.active = false;
}
