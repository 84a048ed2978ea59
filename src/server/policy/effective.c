/*
 * effective.c: which app protection policies and app configurations apply to
 * a user's app, and the merged (most restrictive) protection settings, each
 * explained by the policy whose value won and the policies that wanted
 * another value (effective.h; app-protection reference §1, §9, §10, §14).
 *
 * Targeting is decided here (groups, apps, platform, management level); the
 * merge rule of each setting comes from the schema tables (schema.h), so a new
 * property only needs a table row. Pure: no I/O, no globals that change.
 */
#include "server/policy/effective.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/util.h"
#include "server/policy/schema.h"

/*
 * The Microsoft apps that appGroupType "allMicrosoftApps" and
 * "allCoreMicrosoftApps" cover. Package ids (Google Play) and bundle ids
 * (App Store) as Graph lists them in a policy's "apps"; matched
 * case-insensitively, like every app id here. "core" marks the portal's
 * "Core Microsoft Apps" (Edge, Excel, Microsoft 365 (Office), OneDrive,
 * OneNote, Outlook, PowerPoint, SharePoint, Teams, To Do, Word); the
 * "all Microsoft apps" set is every row. NULL = not published on that
 * platform under an id we are sure of.
 */
struct ms_app {
    const char *name;
    const char *android; /* package id */
    const char *ios;     /* bundle id */
    bool core;
};

static const struct ms_app microsoft_apps[] = {
    {"Microsoft Outlook", "com.microsoft.office.outlook", "com.microsoft.Office.Outlook", true},
    {"Microsoft Teams", "com.microsoft.teams", "com.microsoft.skype.teams", true},
    {"Microsoft Word", "com.microsoft.office.word", "com.microsoft.Office.Word", true},
    {"Microsoft Excel", "com.microsoft.office.excel", "com.microsoft.Office.Excel", true},
    {"Microsoft PowerPoint", "com.microsoft.office.powerpoint", "com.microsoft.Office.Powerpoint", true},
    {"Microsoft OneDrive", "com.microsoft.skydrive", "com.microsoft.skydrive", true},
    {"Microsoft OneNote", "com.microsoft.office.onenote", "com.microsoft.onenote", true},
    {"Microsoft Edge", "com.microsoft.emmx", "com.microsoft.msedge", true},
    {"Microsoft SharePoint", "com.microsoft.sharepoint", "com.microsoft.sharepoint", true},
    {"Microsoft To Do", "com.microsoft.todos", "com.microsoft.to-do", true},
    {"Microsoft 365 (Office)", "com.microsoft.office.officehubrow", "com.microsoft.officemobile", true},
    /* all Microsoft apps, beyond the core set */
    {"Microsoft Office (previous hub)", "com.microsoft.office.officehub", NULL, false},
    {"Microsoft Office (hub, low RAM)", "com.microsoft.office.officehubhl", NULL, false},
    {"Microsoft Planner", "com.microsoft.planner", "com.microsoft.plannermobile", false},
    {"Microsoft Power BI", "com.microsoft.powerbim", "com.microsoft.powerbimobile", false},
    {"Power Apps", "com.microsoft.msapps", "com.microsoft.msapps", false},
    {"Power Automate", "com.microsoft.flow", "com.microsoft.flow", false},
    {"Microsoft Stream", "com.microsoft.stream", "com.microsoft.stream", false},
    {"Viva Engage (Yammer)", "com.yammer.v1", "wefwef", false},
    {"Skype for Business", "com.microsoft.office.lync15", "com.microsoft.lync2013.iphone", false},
    {"Microsoft Shifts", NULL, "com.microsoft.shiftr", false},
};

/* A policy document taking part in one computation. */
struct pol {
    const json_t *doc; /* borrowed */
    const char *id;
    const char *name;  /* "" when the document has no displayName */
    size_t idx;        /* position in the input, breaks ties of equal ids */
};

/* One property's values across the applying protection policies. */
struct merge_ctx {
    const struct schema_prop *prop;
    const struct pol *pols; /* sorted by id */
    size_t n;
    const json_t **vals;    /* vals[i]: pols[i]'s value, NULL when absent or JSON null */
};

/* ---------- small helpers ---------- */

static const char *odata_name(const char *t)
{
    return t && *t == '#' ? t + 1 : t;
}

static bool str_ieq(const char *a, const char *b)
{
    return a && b && strcasecmp(a, b) == 0;
}

/* The string member key of obj, or NULL. */
static const char *get_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* obj[key] = v, taking v; RG_ENOMEM when v is NULL or the set fails. */
static int obj_set(json_t *obj, const char *key, json_t *v)
{
    if (!v)
        return RG_ENOMEM;
    return json_object_set_new(obj, key, v) ? RG_ENOMEM : 0;
}

/* arr += v, taking v; RG_ENOMEM when v is NULL or the append fails. */
static int arr_add(json_t *arr, json_t *v)
{
    if (!v)
        return RG_ENOMEM;
    return json_array_append_new(arr, v) ? RG_ENOMEM : 0;
}

static bool is_policy_kind(enum schema_kind k)
{
    return k == SCHEMA_ANDROID_PROTECTION || k == SCHEMA_IOS_PROTECTION ||
           k == SCHEMA_APP_CONFIGURATION;
}

static int doc_kind(const json_t *doc, enum schema_kind *kind)
{
    const char *t = get_str(doc, "@odata.type");
    if (!t || schema_kind_from_odata_type(t, kind) != 0)
        return RG_EINVAL;
    return 0;
}

/* ---------- targeting ---------- */

static bool user_in_group(const struct effective_query *q, const char *group_id)
{
    if (!group_id || !q->group_ids)
        return false;
    for (size_t i = 0; i < q->group_count; i++)
        if (str_ieq(q->group_ids[i], group_id)) /* object ids are GUIDs: case does not matter */
            return true;
    return false;
}

/*
 * Included through a group the user is in, or through "all licensed users",
 * and excluded through none of the user's groups: exclusion wins. Other
 * target types (allDevices, ...) do not target users and are ignored.
 */
static bool groups_match(const struct effective_query *q, const json_t *doc)
{
    const json_t *assignments = json_object_get(doc, "assignments");
    size_t i;
    const json_t *a;
    bool included = false;
    if (!json_is_array(assignments))
        return false;
    json_array_foreach(assignments, i, a) {
        const json_t *target = json_object_get(a, "target");
        const char *type = odata_name(get_str(target, "@odata.type"));
        if (!type)
            continue;
        if (strcmp(type, "microsoft.graph.exclusionGroupAssignmentTarget") == 0) {
            if (user_in_group(q, get_str(target, "groupId")))
                return false;
        } else if (strcmp(type, "microsoft.graph.groupAssignmentTarget") == 0) {
            if (user_in_group(q, get_str(target, "groupId")))
                included = true;
        } else if (strcmp(type, "microsoft.graph.allLicensedUsersAssignmentTarget") == 0) {
            included = true;
        }
    }
    return included;
}

int effective_user_targeted(const struct effective_query *q, const json_t *policy)
{
    return groups_match(q, policy) ? 1 : 0;
}

/* -1 unknown platform, else an enum effective_platform. */
static int identifier_platform(const json_t *ident)
{
    const char *type = odata_name(get_str(ident, "@odata.type"));
    if (type && strcmp(type, "microsoft.graph.androidMobileAppIdentifier") == 0)
        return EFFECTIVE_ANDROID;
    if (type && strcmp(type, "microsoft.graph.iosMobileAppIdentifier") == 0)
        return EFFECTIVE_IOS;
    if (get_str(ident, "packageId"))
        return EFFECTIVE_ANDROID;
    if (get_str(ident, "bundleId"))
        return EFFECTIVE_IOS;
    return -1;
}

/* Does a managedMobileApp id ("com.x.android", "com.x.ios", or a bare id) name the app? */
static bool app_id_matches(const struct effective_query *q, const char *id)
{
    static const struct { const char *suffix; int platform; } suffixes[] = {
        {".android", EFFECTIVE_ANDROID},
        {".ios", EFFECTIVE_IOS},
    };
    size_t len = strlen(id), want = strlen(q->app_id);
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t sl = strlen(suffixes[i].suffix);
        if (len > sl && strcasecmp(id + len - sl, suffixes[i].suffix) == 0) {
            if (suffixes[i].platform != (int)q->platform)
                return false;
            return len - sl == want && strncasecmp(id, q->app_id, want) == 0;
        }
    }
    return strcasecmp(id, q->app_id) == 0;
}

/*
 * One element of a policy's "apps": matches by mobileAppIdentifier
 * (packageId / bundleId) or by its id without the platform suffix. An entry
 * that says which platform it is for only matches that platform, so an app
 * configuration listing Android Outlook does not reach iOS Outlook.
 */
static bool app_entry_matches(const struct effective_query *q, const json_t *entry)
{
    if (json_is_string(entry))
        return app_id_matches(q, json_string_value(entry));
    const json_t *ident = json_object_get(entry, "mobileAppIdentifier");
    if (json_is_object(ident)) {
        int platform = identifier_platform(ident);
        const char *pkg = get_str(ident, "packageId");
        const char *app = pkg ? pkg : get_str(ident, "bundleId");
        if (platform >= 0 && platform != (int)q->platform)
            return false; /* another platform's app, whatever its id says */
        if (str_ieq(app, q->app_id))
            return true;
    }
    const char *id = get_str(entry, "id");
    return id && app_id_matches(q, id);
}

static bool microsoft_app(const struct effective_query *q, bool core_only)
{
    for (size_t i = 0; i < sizeof microsoft_apps / sizeof microsoft_apps[0]; i++) {
        const struct ms_app *a = &microsoft_apps[i];
        if (core_only && !a->core)
            continue;
        if (str_ieq(q->platform == EFFECTIVE_ANDROID ? a->android : a->ios, q->app_id))
            return true;
    }
    return false;
}

/* The app is in "apps", or "appGroupType" covers it. */
static bool apps_match(const struct effective_query *q, const json_t *doc)
{
    const json_t *apps = json_object_get(doc, "apps");
    size_t i;
    const json_t *entry;
    json_array_foreach(apps, i, entry) {
        if (app_entry_matches(q, entry))
            return true;
    }
    const char *group = get_str(doc, "appGroupType");
    if (!group) /* absent: only the listed apps (selectedPublicApps) */
        return false;
    if (strcmp(group, "allApps") == 0)
        return true;
    if (strcmp(group, "allMicrosoftApps") == 0)
        return microsoft_app(q, false);
    if (strcmp(group, "allCoreMicrosoftApps") == 0)
        return microsoft_app(q, true);
    return false; /* selectedPublicApps, unknownFutureValue: only the listed apps */
}

static bool platform_match(const struct effective_query *q, enum schema_kind kind)
{
    switch (kind) {
    case SCHEMA_ANDROID_PROTECTION:
        return q->platform == EFFECTIVE_ANDROID;
    case SCHEMA_IOS_PROTECTION:
        return q->platform == EFFECTIVE_IOS;
    case SCHEMA_APP_CONFIGURATION:
        return true; /* cross-platform: the apps list decides */
    default:
        return false;
    }
}

/*
 * "targetedAppManagementLevels" is an appManagementLevel flags value written
 * as comma-separated names. Absent, null, "" or "unspecified" (= 0) targets
 * every level; "unspecified" inside a list adds nothing (0 | mdm = mdm).
 */
static bool level_match(const struct effective_query *q, const json_t *doc)
{
    const json_t *v = json_object_get(doc, "targetedAppManagementLevels");
    if (!v || json_is_null(v))
        return true;
    const char *s = json_string_value(v);
    if (!s)
        return false;
    const char *want = q->management_level && *q->management_level ? q->management_level : "unmanaged";
    size_t want_len = strlen(want);
    bool any_level = false;
    while (*s) {
        size_t len = strcspn(s, ",");
        const char *tok = s;
        s += len;
        if (*s == ',')
            s++;
        while (len && (*tok == ' ' || *tok == '\t')) {
            tok++;
            len--;
        }
        while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
            len--;
        if (!len || (len == 11 && strncasecmp(tok, "unspecified", 11) == 0))
            continue;
        any_level = true;
        if (len == want_len && strncasecmp(tok, want, len) == 0)
            return true;
    }
    return !any_level;
}

int effective_policy_applies(const struct effective_query *q, const json_t *policy)
{
    enum schema_kind kind;
    if (!q || !q->app_id || !json_is_object(policy) || doc_kind(policy, &kind) != 0)
        return 0;
    if (!is_policy_kind(kind) || !platform_match(q, kind))
        return 0;
    return level_match(q, policy) && groups_match(q, policy) && apps_match(q, policy);
}

/* ---------- document shape ---------- */

static bool null_or(const json_t *v, bool ok)
{
    return !v || json_is_null(v) || ok;
}

/* The members targeting and merging read must have the expected JSON types. */
static int check_doc(const json_t *doc, enum schema_kind *kind)
{
    if (!json_is_object(doc) || doc_kind(doc, kind) != 0)
        return RG_EINVAL;
    if (!is_policy_kind(*kind))
        return 0; /* connectors, users, groups: never apply, not inspected */
    const char *id = get_str(doc, "id");
    if (!id || !*id)
        return RG_EINVAL;
    const json_t *v = json_object_get(doc, "displayName");
    if (!null_or(v, json_is_string(v)))
        return RG_EINVAL;
    v = json_object_get(doc, "appGroupType");
    if (!null_or(v, json_is_string(v)))
        return RG_EINVAL;
    v = json_object_get(doc, "targetedAppManagementLevels");
    if (!null_or(v, json_is_string(v)))
        return RG_EINVAL;

    size_t i;
    const json_t *e;
    v = json_object_get(doc, "assignments");
    if (!null_or(v, json_is_array(v)))
        return RG_EINVAL;
    json_array_foreach(v, i, e) {
        const json_t *target = json_object_get(e, "target");
        const char *type = get_str(target, "@odata.type");
        if (!type)
            return RG_EINVAL;
        type = odata_name(type);
        if ((strcmp(type, "microsoft.graph.groupAssignmentTarget") == 0 ||
             strcmp(type, "microsoft.graph.exclusionGroupAssignmentTarget") == 0) &&
            !get_str(target, "groupId"))
            return RG_EINVAL;
    }
    v = json_object_get(doc, "apps");
    if (!null_or(v, json_is_array(v)))
        return RG_EINVAL;
    json_array_foreach(v, i, e) {
        if (!json_is_object(e) && !json_is_string(e))
            return RG_EINVAL;
    }
    if (*kind == SCHEMA_APP_CONFIGURATION) {
        v = json_object_get(doc, "customSettings");
        if (!null_or(v, json_is_array(v)))
            return RG_EINVAL;
        json_array_foreach(v, i, e) {
            if (!get_str(e, "name"))
                return RG_EINVAL;
        }
    }
    return 0;
}

static int pol_cmp(const void *a, const void *b)
{
    const struct pol *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* ---------- merge rules ---------- */

/* The first policy that set the property (one exists whenever we merge). */
static size_t first_set(const struct merge_ctx *m)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->vals[i])
            return i;
    return 0;
}

/*
 * FIRST (no stricter side, e.g. mobileThreatDefensePartnerPriority,
 * customBrowserPackageId): the first policy by id that set a value; "" is what
 * Graph shows for an unset string, so it only wins when nobody set another.
 */
static size_t merge_first(const struct merge_ctx *m)
{
    for (size_t i = 0; i < m->n; i++) {
        const char *s = json_string_value(m->vals[i]);
        if (m->vals[i] && (!s || *s))
            return i;
    }
    return first_set(m);
}

/* TRUE_WINS / FALSE_WINS: the first policy holding the stricter boolean. */
static int merge_bool(const struct merge_ctx *m, bool strict, size_t *from)
{
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < m->n; i++) {
        if (!m->vals[i])
            continue;
        if (!json_is_boolean(m->vals[i]))
            return RG_EINVAL;
        if (best == SIZE_MAX && json_is_true(m->vals[i]) == strict)
            best = i;
    }
    *from = best != SIZE_MAX ? best : first_set(m);
    return 0;
}

/* A number, or a duration in seconds (the original string is what is delivered). */
static int number_of(const struct schema_prop *p, const json_t *v, double *out)
{
    if (p->type == SCHEMA_T_DURATION || json_is_string(v)) {
        if (!json_is_string(v) || util_duration_parse(json_string_value(v), out) != 0)
            return RG_EINVAL;
        return 0;
    }
    if (!json_is_number(v))
        return RG_EINVAL;
    *out = json_number_value(v);
    return 0;
}

/*
 * MIN properties whose zero means "not set" rather than "strictest", as their
 * schema.c rows say (the table has no column for it): PT0S = never reset the
 * PIN, 0 days = no Company Portal deferral limit. Zero is ignored unless every
 * policy has it. (allowedOutboundClipboardSharingExceptionLength is not here:
 * its 0 = no exception, the strictest.)
 */
static const char *const zero_means_unset[] = {
    "periodBeforePinReset",
    "blockAfterCompanyPortalUpdateDeferralInDays",
    "warnAfterCompanyPortalUpdateDeferralInDays",
    "wipeAfterCompanyPortalUpdateDeferralInDays",
    NULL,
};

static bool in_names(const char *const *names, const char *name)
{
    for (; *names; names++)
        if (strcmp(*names, name) == 0)
            return true;
    return false;
}

/*
 * MIN / MAX: the smallest (largest) value; on a tie the first policy by id.
 * Durations compare by their length in seconds, and the winner's original
 * string is delivered ("PT720M" stays "PT720M").
 */
static int merge_minmax(const struct merge_ctx *m, bool want_max, size_t *from)
{
    size_t best = SIZE_MAX;
    double best_v = 0;
    bool skip_zero = !want_max && in_names(zero_means_unset, m->prop->name);
    for (size_t i = 0; i < m->n; i++) {
        double x;
        if (!m->vals[i])
            continue;
        int rc = number_of(m->prop, m->vals[i], &x);
        if (rc)
            return rc;
        if (skip_zero && x == 0)
            continue;
        if (best == SIZE_MAX || (want_max ? x > best_v : x < best_v)) {
            best = i;
            best_v = x;
        }
    }
    *from = best != SIZE_MAX ? best : first_set(m);
    return 0;
}

/* ORDER: the value earliest in the table's enum_values; values not listed are least strict. */
static int merge_order(const struct merge_ctx *m, size_t *from)
{
    const char *const *ev = m->prop->enum_values;
    size_t best = SIZE_MAX, best_rank = SIZE_MAX;
    if (!ev) {
        *from = first_set(m);
        return 0;
    }
    for (size_t i = 0; i < m->n; i++) {
        if (!m->vals[i])
            continue;
        const char *s = json_string_value(m->vals[i]);
        if (!s)
            return RG_EINVAL;
        size_t rank = SIZE_MAX - 1;
        for (size_t k = 0; ev[k]; k++) {
            if (strcmp(ev[k], s) == 0) {
                rank = k;
                break;
            }
        }
        if (best == SIZE_MAX || rank < best_rank) {
            best = i;
            best_rank = rank;
        }
    }
    *from = best;
    return 0;
}

/* managedAppRemediationAction strictness: wipe > block > blockWhenSettingIsSupported > warn. */
static int action_rank(const char *s)
{
    static const char *const order[] = {"warn", "blockWhenSettingIsSupported", "block", "wipe"};
    for (int i = 0; i < 4; i++)
        if (strcmp(order[i], s) == 0)
            return i + 1;
    return 0; /* unknownFutureValue and the like: least strict */
}

/*
 * ACTION: the strictest remediation. Paired rows (a condition and its
 * action, e.g. maximumAllowedDeviceThreatLevel + mobileThreatDefenseRemediationAction,
 * maximumPinRetries + appActionIfMaximumPinRetriesExceeded) are merged
 * independently: the strictest threshold and the strictest action, even when
 * they come from two different policies. That is at least as restrictive as
 * either policy alone, which is what §9 asks for; "from" says which policy
 * supplied each half.
 */
static int merge_action(const struct merge_ctx *m, size_t *from)
{
    size_t best = SIZE_MAX;
    int best_rank = -1;
    for (size_t i = 0; i < m->n; i++) {
        if (!m->vals[i])
            continue;
        const char *s = json_string_value(m->vals[i]);
        if (!s)
            return RG_EINVAL;
        int r = action_rank(s);
        if (r > best_rank) {
            best = i;
            best_rank = r;
        }
    }
    *from = best;
    return 0;
}

/* A version or patch level that sets nothing: "", "0000-00-00". */
static bool version_unset(const char *s)
{
    return !*s || strcmp(s, "0000-00-00") == 0;
}

/* VERSION_MAX / VERSION_MIN: the highest (lowest) version that is set; patch dates compare as text. */
static int merge_version(const struct merge_ctx *m, bool want_max, size_t *from)
{
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < m->n; i++) {
        if (!m->vals[i])
            continue;
        const char *s = json_string_value(m->vals[i]);
        if (!s)
            return RG_EINVAL;
        if (version_unset(s))
            continue;
        if (best == SIZE_MAX) {
            best = i;
            continue;
        }
        const char *b = json_string_value(m->vals[best]);
        int c = m->prop->type == SCHEMA_T_PATCH_DATE ? strcmp(s, b) : util_version_cmp(s, b);
        if (want_max ? c > 0 : c < 0)
            best = i;
    }
    *from = best != SIZE_MAX ? best : first_set(m); /* nobody set one: deliver the first "unset" */
    return 0;
}

/* managedAppDeviceThreatLevel: secured(1) < low(2) < medium(3) < high(4); 0 = no gate. */
static int threat_level(const char *s)
{
    static const char *const levels[] = {"secured", "low", "medium", "high"};
    for (int i = 0; i < 4; i++)
        if (strcmp(levels[i], s) == 0)
            return i + 1;
    return 0; /* notConfigured, unknownFutureValue */
}

/* THREAT: the lowest configured level; notConfigured only when nobody configured one. */
static int merge_threat(const struct merge_ctx *m, size_t *from)
{
    size_t best = SIZE_MAX;
    int best_level = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (!m->vals[i])
            continue;
        const char *s = json_string_value(m->vals[i]);
        if (!s)
            return RG_EINVAL;
        int l = threat_level(s);
        if (l && (best == SIZE_MAX || l < best_level)) {
            best = i;
            best_level = l;
        }
    }
    *from = best != SIZE_MAX ? best : first_set(m);
    return 0;
}

/* ---------- list rules (INTERSECT, UNION) ---------- */

/*
 * A list value as a JSON array: arrays as they are (borrowed), ';'-separated
 * strings split into trimmed, non-empty parts (a new array).
 */
struct list {
    json_t *items; /* NULL when the policy did not set the property */
    bool owned;
};

static int split_list(const char *s, json_t **out)
{
    json_t *arr = json_array();
    if (!arr)
        return RG_ENOMEM;
    while (*s) {
        size_t len = strcspn(s, ";");
        const char *tok = s;
        s += len;
        if (*s == ';')
            s++;
        while (len && (*tok == ' ' || *tok == '\t')) {
            tok++;
            len--;
        }
        while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
            len--;
        if (len && arr_add(arr, json_stringn(tok, len))) {
            json_decref(arr);
            return RG_ENOMEM;
        }
    }
    *out = arr;
    return 0;
}

static int join_list(const json_t *arr, json_t **out)
{
    struct buf b = BUF_INIT(0);
    size_t i;
    const json_t *e;
    int rc = buf_puts(&b, "");
    json_array_foreach(arr, i, e) {
        if (!rc && i)
            rc = buf_puts(&b, ";");
        if (!rc)
            rc = buf_puts(&b, json_string_value(e));
    }
    if (!rc) {
        *out = json_stringn(buf_str(&b), b.len);
        if (!*out)
            rc = RG_ENOMEM;
    }
    buf_release(&b);
    return rc;
}

/*
 * Element equality in lists: keyValuePairs by name (exact), enum lists
 * exactly, other strings (manufacturers, models) case-insensitively.
 */
static bool elem_eq(const struct schema_prop *p, const json_t *a, const json_t *b)
{
    if (json_is_object(a) && json_is_object(b)) {
        const char *na = get_str(a, "name"), *nb = get_str(b, "name");
        if (na && nb)
            return strcmp(na, nb) == 0;
        return json_equal(a, b);
    }
    if (json_is_string(a) && json_is_string(b)) {
        if (p->type == SCHEMA_T_ENUM_LIST)
            return strcmp(json_string_value(a), json_string_value(b)) == 0;
        return strcasecmp(json_string_value(a), json_string_value(b)) == 0;
    }
    return json_equal(a, b);
}

static bool list_has(const struct schema_prop *p, const json_t *arr, const json_t *e)
{
    size_t i;
    const json_t *x;
    json_array_foreach(arr, i, x) {
        if (elem_eq(p, x, e))
            return true;
    }
    return false;
}

static void lists_release(struct list *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (l[i].owned)
            json_decref(l[i].items);
}

/* Reads every policy's value as a list; all must be arrays or all strings. */
static int lists_read(const struct merge_ctx *m, struct list *l, bool *strings)
{
    int shape = 0; /* 1 array, 2 string */
    for (size_t i = 0; i < m->n; i++) {
        const json_t *v = m->vals[i];
        l[i].items = NULL;
        l[i].owned = false;
        if (!v)
            continue;
        int s = json_is_array(v) ? 1 : json_is_string(v) ? 2 : 0;
        if (!s || (shape && s != shape)) {
            lists_release(l, i);
            return RG_EINVAL;
        }
        shape = s;
        if (s == 1) {
            l[i].items = (json_t *)v; /* borrowed, only read */
        } else {
            int rc = split_list(json_string_value(v), &l[i].items);
            if (rc) {
                lists_release(l, i);
                return rc;
            }
            l[i].owned = true;
        }
    }
    *strings = shape == 2;
    return 0;
}

/*
 * Allow lists that only apply while their policy blocks the wider action: the
 * locations a user may save to (or open from) when saving (opening) is
 * blocked. Under its gate an empty list allows no location at all, so it
 * restricts; without the gate an empty list is just the default and says
 * nothing (schema.c, allowedDataStorageLocations row).
 */
static const struct {
    const char *list, *gate;
} gated_lists[] = {
    {"allowedDataStorageLocations", "saveAsBlocked"},
    {"allowedDataIngestionLocations", "blockDataIngestionIntoOrganizationDocuments"},
    {"approvedKeyboards", "keyboardsRestricted"},
    /* exemptions: an empty list exempts nothing, the strictest value, whatever else is set ("" = always) */
    {"exemptedAppPackages", ""},
    {"exemptedAppProtocols", ""},
    {"exemptedUniversalLinks", ""},
};

static const char *list_gate(const char *name)
{
    for (size_t i = 0; i < sizeof gated_lists / sizeof gated_lists[0]; i++)
        if (strcmp(gated_lists[i].list, name) == 0)
            return gated_lists[i].gate;
    return NULL;
}

/*
 * INTERSECT (lists of allowed things; null or empty = no restriction, except
 * an empty gated list, see gated_lists) and UNION (lists of blocked or extra
 * things). The result keeps the first contributing policy's order and
 * spelling, then (UNION) appends what later policies add. When the result is
 * exactly the first contributor's list, its value is delivered verbatim.
 * *nothing: the policies restrict the list and together allow no element (an
 * empty value would otherwise read as "no restriction").
 */
static int merge_list(const struct merge_ctx *m, bool intersect, size_t *from, json_t **merged,
                      bool *nothing)
{
    struct list *l = calloc(m->n ? m->n : 1, sizeof *l);
    bool *restricts = calloc(m->n ? m->n : 1, sizeof *restricts);
    const char *gate = intersect ? list_gate(m->prop->name) : NULL;
    json_t *res = NULL;
    bool strings = false;
    size_t first = SIZE_MAX;
    int rc;
    if (!l || !restricts) {
        free(l);
        free(restricts);
        return RG_ENOMEM;
    }
    rc = lists_read(m, l, &strings);
    if (rc) {
        free(l);
        free(restricts);
        return rc;
    }
    for (size_t i = 0; i < m->n; i++) {
        restricts[i] = l[i].items && (json_array_size(l[i].items) ||
                                      (gate && (!*gate || json_is_true(json_object_get(m->pols[i].doc, gate)))));
        if (restricts[i] && first == SIZE_MAX)
            first = i;
    }
    if (first == SIZE_MAX) { /* only empty lists: no restriction, nothing extra */
        *from = first_set(m);
        goto out;
    }
    *from = first;
    res = json_array();
    if (!res) {
        rc = RG_ENOMEM;
        goto out;
    }
    size_t k;
    const json_t *e;
    json_array_foreach(l[first].items, k, e) {
        if (list_has(m->prop, res, e))
            continue;
        bool keep = true;
        for (size_t i = first + 1; intersect && keep && i < m->n; i++)
            if (restricts[i] && !list_has(m->prop, l[i].items, e))
                keep = false;
        if (keep && (rc = arr_add(res, json_deep_copy(e))))
            goto out;
    }
    for (size_t i = first + 1; !intersect && i < m->n; i++) {
        if (!l[i].items)
            continue;
        json_array_foreach(l[i].items, k, e) {
            if (!list_has(m->prop, res, e) && (rc = arr_add(res, json_deep_copy(e))))
                goto out;
        }
    }
    *nothing = intersect && json_array_size(res) == 0;
    if (json_array_size(res) == json_array_size(l[first].items))
        goto out; /* the first contributor's list, unchanged: deliver it verbatim */
    if (strings) {
        rc = join_list(res, merged);
    } else {
        *merged = res;
        res = NULL;
    }
out:
    json_decref(res);
    lists_release(l, m->n);
    free(l);
    free(restricts);
    return rc;
}

/* ---------- one setting ---------- */

static int others_add(json_t *others, const struct pol *p, const json_t *v)
{
    json_t *o = json_object();
    int rc = o ? 0 : RG_ENOMEM;
    if (!rc)
        rc = obj_set(o, "policy", json_string(p->id));
    if (!rc)
        rc = obj_set(o, "policyName", json_string(p->name));
    if (!rc)
        rc = obj_set(o, "value", json_deep_copy(v));
    if (!rc)
        return arr_add(others, o);
    json_decref(o);
    return rc;
}

/*
 * Merges one property over the applying policies. *out: the setting object
 * (new reference), or NULL when no policy set the property.
 */
static int merge_setting(const struct merge_ctx *m, json_t **out)
{
    size_t from = SIZE_MAX;
    json_t *merged = NULL, *setting = NULL;
    bool nothing = false;
    int rc = 0;

    *out = NULL;
    for (size_t i = 0; i < m->n; i++) {
        const json_t *v = json_object_get(m->pols[i].doc, m->prop->name);
        m->vals[i] = json_is_null(v) ? NULL : v;
        if (m->vals[i] && from == SIZE_MAX)
            from = i;
    }
    if (from == SIZE_MAX)
        return 0;

    switch (m->prop->merge) {
    case MERGE_TRUE_WINS:
        rc = merge_bool(m, true, &from);
        break;
    case MERGE_FALSE_WINS:
        rc = merge_bool(m, false, &from);
        break;
    case MERGE_MIN:
        rc = merge_minmax(m, false, &from);
        break;
    case MERGE_MAX:
        rc = merge_minmax(m, true, &from);
        break;
    case MERGE_ORDER:
        rc = merge_order(m, &from);
        break;
    case MERGE_ACTION:
        rc = merge_action(m, &from);
        break;
    case MERGE_VERSION_MAX:
        rc = merge_version(m, true, &from);
        break;
    case MERGE_VERSION_MIN:
        rc = merge_version(m, false, &from);
        break;
    case MERGE_INTERSECT:
        rc = merge_list(m, true, &from, &merged, &nothing);
        break;
    case MERGE_UNION:
        rc = merge_list(m, false, &from, &merged, &nothing);
        break;
    case MERGE_THREAT:
        rc = merge_threat(m, &from);
        break;
    case MERGE_FIRST:
    case MERGE_NONE:
    default:
        from = merge_first(m);
        break;
    }
    if (rc)
        return rc;
    if (!merged && !(merged = json_deep_copy(m->vals[from])))
        return RG_ENOMEM;

    json_t *others = json_array();
    setting = json_object();
    if (!setting || !others) {
        json_decref(others);
        rc = RG_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < m->n && !rc; i++)
        if (i != from && m->vals[i] && !json_equal(m->vals[i], merged))
            rc = others_add(others, &m->pols[i], m->vals[i]);
    if (rc) {
        json_decref(others);
        goto fail;
    }
    rc = obj_set(setting, "value", merged);
    merged = NULL;
    if (!rc)
        rc = obj_set(setting, "from", json_string(m->pols[from].id));
    if (!rc)
        rc = obj_set(setting, "fromName", json_string(m->pols[from].name));
    if (!rc)
        rc = obj_set(setting, "others", others);
    else
        json_decref(others);
    if (!rc && nothing)
        rc = obj_set(setting, "nothingAllowed", json_true());
    if (rc)
        goto fail;
    *out = setting;
    return 0;
fail:
    json_decref(merged);
    json_decref(setting);
    return rc;
}

/* ---------- the whole computation ---------- */

static json_t *pol_ref(const struct pol *p)
{
    json_t *o = json_object();
    if (o && (obj_set(o, "id", json_string(p->id)) ||
              obj_set(o, "displayName", json_string(p->name)))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int add_settings(enum effective_platform platform, const struct pol *prot, size_t n,
                        json_t *settings)
{
    size_t count = 0;
    enum schema_kind kind = platform == EFFECTIVE_ANDROID ? SCHEMA_ANDROID_PROTECTION : SCHEMA_IOS_PROTECTION;
    const struct schema_prop *props = schema_props(kind, &count);
    const json_t **vals;
    int rc = 0;
    if (!n || !props)
        return 0;
    vals = calloc(n, sizeof *vals);
    if (!vals)
        return RG_ENOMEM;
    struct merge_ctx m = {NULL, prot, n, vals};
    for (size_t k = 0; k < count && !rc; k++) {
        json_t *setting = NULL;
        if (props[k].merge == MERGE_NONE)
            continue;
        m.prop = &props[k];
        rc = merge_setting(&m, &setting);
        if (!rc && setting)
            rc = obj_set(settings, props[k].name, setting);
    }
    free(vals);
    return rc;
}

struct occurrence {
    size_t pol;         /* index into the sorted configurations */
    const char *name;
    const json_t *value;
};

/*
 * Every customSettings key given two or more different values (by the same or
 * different sets: the app receives all of them either way), with every value
 * given for it, in the order of the sets.
 */
static int add_conflicts(const struct pol *cfg, size_t n, json_t *conflicts)
{
    size_t total = 0, k = 0;
    for (size_t i = 0; i < n; i++)
        total += json_array_size(json_object_get(cfg[i].doc, "customSettings"));
    if (!total)
        return 0;
    struct occurrence *occ = calloc(total, sizeof *occ);
    if (!occ)
        return RG_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t j;
        const json_t *kv;
        json_array_foreach(json_object_get(cfg[i].doc, "customSettings"), j, kv) {
            const json_t *v = json_object_get(kv, "value");
            occ[k].pol = i;
            occ[k].name = get_str(kv, "name");
            occ[k].value = v ? v : json_null();
            k++;
        }
    }
    int rc = 0;
    for (size_t i = 0; i < total && !rc; i++) {
        bool seen = false, differ = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(occ[j].name, occ[i].name) == 0;
        for (size_t j = i + 1; j < total && !seen && !differ; j++)
            differ = strcmp(occ[j].name, occ[i].name) == 0 && !json_equal(occ[j].value, occ[i].value);
        if (seen || !differ)
            continue;
        json_t *c = json_object(), *values = json_array();
        if (!c || !values) {
            json_decref(c);
            json_decref(values);
            rc = RG_ENOMEM;
            break;
        }
        rc = obj_set(c, "name", json_string(occ[i].name));
        for (size_t j = i; j < total && !rc; j++)
            if (strcmp(occ[j].name, occ[i].name) == 0)
                rc = others_add(values, &cfg[occ[j].pol], occ[j].value);
        if (!rc)
            rc = obj_set(c, "values", values);
        else
            json_decref(values);
        if (!rc)
            rc = arr_add(conflicts, c);
        else
            json_decref(c);
    }
    free(occ);
    return rc;
}

static int add_configurations(const struct pol *cfg, size_t n, json_t *list)
{
    for (size_t i = 0; i < n; i++) {
        const json_t *cs = json_object_get(cfg[i].doc, "customSettings");
        json_t *o = pol_ref(&cfg[i]);
        if (!o)
            return RG_ENOMEM;
        int rc = obj_set(o, "customSettings", json_is_array(cs) ? json_deep_copy(cs) : json_array());
        if (!rc)
            rc = arr_add(list, o);
        else
            json_decref(o);
        if (rc)
            return rc;
    }
    return 0;
}

int effective_compute(const struct effective_query *q, const json_t *policies, json_t **out)
{
    size_t n, i, nprot = 0, ncfg = 0;
    const json_t *doc;
    struct pol *prot = NULL, *cfg = NULL;
    json_t *res = NULL, *plist = NULL, *settings = NULL, *configs = NULL, *conflicts = NULL;
    int rc;

    if (out)
        *out = NULL;
    if (!q || !out || !q->app_id || !json_is_array(policies) ||
        (q->group_count && !q->group_ids) ||
        (q->platform != EFFECTIVE_ANDROID && q->platform != EFFECTIVE_IOS))
        return RG_EINVAL;
    n = json_array_size(policies);
    prot = calloc(n ? n : 1, sizeof *prot);
    cfg = calloc(n ? n : 1, sizeof *cfg);
    if (!prot || !cfg) {
        rc = RG_ENOMEM;
        goto done;
    }
    json_array_foreach(policies, i, doc) {
        enum schema_kind kind;
        if ((rc = check_doc(doc, &kind)))
            goto done;
        if (!effective_policy_applies(q, doc))
            continue;
        const char *name = get_str(doc, "displayName");
        struct pol p = {doc, get_str(doc, "id"), name ? name : "", i};
        if (kind == SCHEMA_APP_CONFIGURATION)
            cfg[ncfg++] = p;
        else
            prot[nprot++] = p;
    }
    qsort(prot, nprot, sizeof *prot, pol_cmp);
    qsort(cfg, ncfg, sizeof *cfg, pol_cmp);

    res = json_object();
    rc = res ? 0 : RG_ENOMEM;
    if (!rc)
        rc = obj_set(res, "protectionPolicies", plist = json_array());
    if (!rc)
        rc = obj_set(res, "settings", settings = json_object());
    if (!rc)
        rc = obj_set(res, "appConfigurations", configs = json_array());
    if (!rc)
        rc = obj_set(res, "appConfigurationConflicts", conflicts = json_array());
    for (i = 0; i < nprot && !rc; i++)
        rc = arr_add(plist, pol_ref(&prot[i]));
    if (!rc)
        rc = add_settings(q->platform, prot, nprot, settings);
    if (!rc)
        rc = add_configurations(cfg, ncfg, configs);
    if (!rc)
        rc = add_conflicts(cfg, ncfg, conflicts);
done:
    free(prot);
    free(cfg);
    if (rc) {
        json_decref(res);
        return rc;
    }
    *out = res;
    return 0;
}

/* ---------- explanations ---------- */

/* Appends v as compact JSON. */
static int put_json(struct buf *b, const json_t *v)
{
    char *s = json_dumps(v ? v : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s)
        return RG_ENOMEM;
    int rc = buf_puts(b, s);
    free(s);
    return rc;
}

static const char *str_or(const json_t *v, const char *dflt)
{
    const char *s = json_string_value(v);
    return s ? s : dflt;
}

int effective_explain_lines(const json_t *effective, struct buf *out)
{
    const json_t *settings = json_object_get(effective, "settings");
    const char *key;
    const json_t *s;
    int rc = 0;
    if (!out || !json_is_object(settings))
        return RG_EINVAL;
    struct buf tmp = BUF_INIT(out->cap);
    json_object_foreach((json_t *)settings, key, s) {
        const json_t *others = json_object_get(s, "others");
        const json_t *o;
        size_t i;
        rc = buf_printf(&tmp, "%s = ", key);
        if (!rc)
            rc = put_json(&tmp, json_object_get(s, "value"));
        if (!rc)
            rc = buf_printf(&tmp, " (from policy %s [%s]", str_or(json_object_get(s, "fromName"), ""),
                            str_or(json_object_get(s, "from"), ""));
        json_array_foreach(others, i, o) {
            if (!rc)
                rc = buf_printf(&tmp, "; policy %s wanted ", str_or(json_object_get(o, "policyName"), ""));
            if (!rc)
                rc = put_json(&tmp, json_object_get(o, "value"));
        }
        if (!rc && json_is_true(json_object_get(s, "nothingAllowed")))
            rc = buf_puts(&tmp, "; the policies' lists share no value: nothing is allowed");
        if (!rc)
            rc = buf_puts(&tmp, ")\n");
        if (rc)
            break;
    }
    if (!rc && tmp.len)
        rc = buf_append(out, tmp.data, tmp.len);
    buf_release(&tmp);
    return rc;
}
