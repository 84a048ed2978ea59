/*
 * schema.h: the Graph property tables of the app-management resources, and
 * validation of request bodies against them.
 *
 * One table per resource kind lists every settable property with its Graph
 * name, JSON type, enum values, bounds, default and the most-restrictive
 * merge rule the effective-policy module (effective.h) applies. The tables
 * are the single source of truth for: what a POST/PATCH may carry, what a GET
 * returns (every property, defaults for unset ones), and how policies merge.
 *
 * Pure module: no I/O, no globals that change. Thread-safe.
 */
#ifndef RG_POLICY_SCHEMA_H
#define RG_POLICY_SCHEMA_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum schema_kind {
    SCHEMA_ANDROID_PROTECTION, /* #microsoft.graph.androidManagedAppProtection */
    SCHEMA_IOS_PROTECTION,     /* #microsoft.graph.iosManagedAppProtection */
    SCHEMA_APP_CONFIGURATION,  /* #microsoft.graph.targetedManagedAppConfiguration */
    SCHEMA_CONNECTOR,          /* #microsoft.graph.mobileThreatDefenseConnector */
    SCHEMA_USER,               /* #microsoft.graph.user (our minimal directory) */
    SCHEMA_GROUP,              /* #microsoft.graph.group (our minimal directory) */
    SCHEMA_KIND_COUNT
};

enum schema_type {
    SCHEMA_T_BOOL,        /* JSON true/false */
    SCHEMA_T_INT32,       /* JSON integer within [min, max] */
    SCHEMA_T_STRING,      /* JSON string, at most max bytes (0 = 4096) */
    SCHEMA_T_VERSION,     /* JSON string accepted by util_version_valid(), or "" */
    SCHEMA_T_PATCH_DATE,  /* "YYYY-MM-DD" (Android security patch level); "0000-00-00" = unset */
    SCHEMA_T_DURATION,    /* ISO-8601 duration string (util_duration_parse), >= 0 */
    SCHEMA_T_DATETIME,    /* ISO-8601 UTC timestamp */
    SCHEMA_T_ENUM,        /* one string of enum_values */
    SCHEMA_T_FLAGS,       /* comma-separated names of enum_values (e.g. appManagementLevel) */
    SCHEMA_T_STRING_LIST, /* JSON array of strings */
    SCHEMA_T_ENUM_LIST,   /* JSON array of strings of enum_values */
    SCHEMA_T_KV_LIST,     /* JSON array of {"name": string, "value": string} (keyValuePair) */
};

/*
 * How two policies' values for a property combine into the most restrictive one
 * (app-protection reference §9). The effective module implements each rule.
 */
enum schema_merge {
    MERGE_NONE,        /* not a protection setting (displayName, ...): not merged */
    MERGE_TRUE_WINS,   /* booleans where true is stricter (saveAsBlocked, pinRequired) */
    MERGE_FALSE_WINS,  /* booleans where false is stricter (disableAppPinIfDevicePinIsSet) */
    MERGE_MIN,         /* numbers/durations: smaller is stricter (maximumPinRetries, periodOffline...) */
    MERGE_MAX,         /* numbers: larger is stricter (minimumPinLength, previousPinBlockCount) */
    MERGE_ORDER,       /* enum: earlier in enum_values is stricter (order the values strictest first) */
    MERGE_ACTION,      /* managedAppRemediationAction: wipe > block > blockWhenSettingIsSupported > warn */
    MERGE_VERSION_MAX, /* minimum* versions / patch dates: the higher one is stricter; null/unset ignored */
    MERGE_VERSION_MIN, /* maximum* versions: the lower one is stricter; null/unset ignored */
    MERGE_INTERSECT,   /* lists (or ';'-separated strings) of allowed things: intersection; null/empty = no limit */
    MERGE_UNION,       /* lists of blocked/extra things: union */
    MERGE_THREAT,      /* managedAppDeviceThreatLevel: lowest configured level wins; notConfigured = no limit */
    MERGE_FIRST,       /* no stricter order exists: the first policy (by id) wins, others are reported */
};

struct schema_prop {
    const char *name;            /* Graph property name, exact casing */
    enum schema_type type;
    const char *const *enum_values; /* NULL-terminated, for ENUM/FLAGS/ENUM_LIST (and MERGE_ORDER); else NULL */
    int64_t min, max;            /* INT32 bounds; STRING max length (0 = 4096) */
    bool nullable;               /* JSON null accepted */
    const char *default_json;    /* JSON text of the value a GET shows when never set ("null", "false", "\"PT30M\"") */
    enum schema_merge merge;
};

struct schema_error {
    char property[128]; /* the first offending property name ("" if the body itself is bad) */
    char message[1024]; /* English, names every offending property, e.g. "minimumPinLength: must be an
                           integer from 4 to 14; pinCharSet: must be one of ..." */
    char ignored[512];  /* set on success too: the properties accepted and ignored, comma-separated ("" none) */
};

/* "#microsoft.graph.androidManagedAppProtection", ... Never NULL for a valid kind. */
const char *schema_odata_type(enum schema_kind kind);
/* Kind from an @odata.type string (with or without the leading '#'); 0 or RG_ENOTFOUND. */
int schema_kind_from_odata_type(const char *odata_type, enum schema_kind *out);
/* The property table of a kind; *count receives its length. */
const struct schema_prop *schema_props(enum schema_kind kind, size_t *count);
/* One property by exact name, or NULL. */
const struct schema_prop *schema_find(enum schema_kind kind, const char *name);

/*
 * Validates a POST (is_patch false) or PATCH (is_patch true) body.
 *
 * in: borrowed JSON object. Accepted and ignored: "@odata.*" keys, "<prop>@odata.*"
 * annotations, server-owned properties (id, createdDateTime, lastModifiedDateTime,
 * version, isAssigned, deployedAppCount, and for connectors lastHeartbeatDateTime
 * and partnerState). The caller removes navigation properties (assignments, apps)
 * before calling. Anything else not in the table is an error.
 *
 * *out (new reference, caller decrefs): for POST, an object with EVERY property of
 * the table, set to the given value or the parsed default_json; for PATCH, only
 * the given properties. Values are copied as given (strings unaltered).
 *
 * As Intune does with bodies captured from its portal, app protection bodies
 * may carry the other platform's properties and the portal's own
 * (periodBeforePinResetRequired, pinRequiredInsteadOfBiometric,
 * shareWithBrowserVirtualSetting): they are accepted, not stored, and listed
 * in err->ignored. Any other unknown property is an error.
 *
 * Returns 0, or RG_EINVAL with err filled: every unknown property and every
 * bad value of the body in one message. On error *out is NULL.
 */
int schema_validate(enum schema_kind kind, const json_t *in, bool is_patch, json_t **out,
                    struct schema_error *err);
#endif
