/*
 * effective.h: which app protection policies and app configurations apply to
 * a user's app, and the merged (most restrictive) protection settings,
 * explained setting by setting. Pure: no I/O, no globals. Thread-safe.
 *
 * The rules (app-protection reference §1, §9, §14):
 *  - a policy applies when the user is in one of its include groups
 *    (groupAssignmentTarget) and in none of its exclude groups
 *    (exclusionGroupAssignmentTarget): exclusion wins;
 *  - and it targets the app: the app is in its "apps" list, or its
 *    "appGroupType" covers the app (allApps: every app; allMicrosoftApps and
 *    allCoreMicrosoftApps: the Microsoft apps listed in effective.c;
 *    selectedPublicApps: only the listed apps);
 *  - and its platform matches (android/ios protection kinds), and its
 *    "targetedAppManagementLevels" is "unspecified" or contains the device's level;
 *  - protection settings merge by each property's schema_merge rule;
 *  - app configurations are never merged: every matching set is delivered;
 *    keys set to different values by two sets are reported as conflicts.
 */
#ifndef RG_POLICY_EFFECTIVE_H
#define RG_POLICY_EFFECTIVE_H
#include <stddef.h>

#include <jansson.h>

enum effective_platform { EFFECTIVE_ANDROID, EFFECTIVE_IOS };

struct effective_query {
    const char *user_id;                 /* borrowed */
    const char *const *group_ids;        /* borrowed; the groups the user is a member of */
    size_t group_count;
    const char *app_id;                  /* package id (Android) or bundle id (iOS), compared case-insensitively */
    enum effective_platform platform;
    const char *management_level;        /* appManagementLevel name, e.g. "unmanaged", "mdm"; NULL = "unmanaged" */
};

/*
 * policies: borrowed JSON array of stored policy documents, every kind mixed
 * (android/ios protections and app configurations). Each document is what
 * GET .../{id} returns plus its navigation properties:
 *   {"@odata.type": "...", "id": "T_...", "displayName": "...", <properties>,
 *    "assignments": [{"id":..., "target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget"
 *                     | "#microsoft.graph.exclusionGroupAssignmentTarget", "groupId": "..."}}],
 *    "apps": [{"id": "com.x.android", "mobileAppIdentifier": {"@odata.type": "...", "packageId"|"bundleId": "com.x"}}]}
 *
 * *out (new reference): {
 *   "protectionPolicies": [{"id", "displayName"}...],        applying protection policies, by id
 *   "settings": { "<property>": {"value": <merged>, "from": "<policy id>", "fromName": "<displayName>",
 *                 "others": [{"policy": id, "policyName": name, "value": v}...]   // policies that wanted another value
 *               }, ... },                                     only properties some applying policy set non-null
 *   (an allow-list setting whose policies together allow nothing - they share no element, or
 *    one blocks saving and allows no location - also carries "nothingAllowed": true: its empty
 *    "value" then means "none allowed", not "no restriction")
 *   "appConfigurations": [{"id", "displayName", "customSettings": [{"name","value"}...]}...],
 *   "appConfigurationConflicts": [{"name": key, "values": [{"policy": id, "policyName": name, "value": v}...]}...]
 * }
 * Returns 0, RG_EINVAL for a malformed document, RG_ENOMEM.
 */
int effective_compute(const struct effective_query *q, const json_t *policies, json_t **out);

/*
 * Do the policy's assignments target the query's user (an include group or all
 * licensed users, and no exclude group)? Ignores app, platform and level: what
 * users/{id}/getManagedAppPolicies lists. 1 yes, 0 no.
 */
int effective_user_targeted(const struct effective_query *q, const json_t *policy);

/* Does this policy document apply to the query (groups, app, platform, level)? 1 yes, 0 no. */
int effective_policy_applies(const struct effective_query *q, const json_t *policy);

struct buf;
/*
 * Appends to out one line per merged setting of an effective_compute() result:
 *   setting = <value> (from policy <name> [<id>]; policy <name2> wanted <value2>; ...)\n
 * values as compact JSON, settings in the result's order. effective: borrowed.
 * Returns 0, RG_EINVAL when effective has no "settings" object, RG_ENOMEM or
 * RG_ETOOBIG (out's cap); on failure out is unchanged.
 */
int effective_explain_lines(const json_t *effective, struct buf *out);
#endif
