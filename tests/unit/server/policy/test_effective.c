/*
 * test_effective.c: unit tests of server/policy/effective.c: which policies
 * apply (groups, apps, platform, management level), how protection settings
 * merge (with the real schema tables), app configuration delivery and
 * conflicts, and the explanation lines.
 *
 * Policy documents are JSON literals written with single quotes (J() turns
 * them into double quotes) to keep them readable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "server/policy/effective.h"

#define ANDROID_T "#microsoft.graph.androidManagedAppProtection"
#define IOS_T "#microsoft.graph.iosManagedAppProtection"
#define CONFIG_T "#microsoft.graph.targetedManagedAppConfiguration"
#define ALL_USERS "[{'id':'a','target':{'@odata.type':'#microsoft.graph.allLicensedUsersAssignmentTarget'}}]"

/* Parses a JSON literal written with ' for ". */
static json_t *J(const char *text)
{
    size_t n = strlen(text);
    char *s = malloc(n + 1);
    assert_non_null(s);
    for (size_t i = 0; i <= n; i++)
        s[i] = text[i] == '\'' ? '"' : text[i];
    json_error_t err;
    json_t *v = json_loads(s, JSON_DECODE_ANY, &err);
    if (!v)
        fail_msg("bad JSON literal (%s): %s", err.text, s);
    free(s);
    return v;
}

/* A policy of type `type` with id `id`, named "Policy <id>", for all licensed users and every app. */
static json_t *pol(const char *type, const char *id, const char *extra)
{
    struct buf b = BUF_INIT(0);
    assert_int_equal(buf_printf(&b,
                                "{'@odata.type':'%s','id':'%s','displayName':'Policy %s',"
                                "'appGroupType':'allApps','assignments':" ALL_USERS "%s%s}",
                                type, id, id, extra && *extra ? "," : "", extra ? extra : ""),
                     0);
    json_t *v = J(buf_str(&b));
    buf_release(&b);
    return v;
}

static json_t *android_pol(const char *id, const char *extra)
{
    return pol(ANDROID_T, id, extra);
}

static const struct effective_query android_q = {"user-1", NULL, 0, "com.contoso.app", EFFECTIVE_ANDROID, NULL};

/* Runs effective_compute on a NULL-terminated list of documents (taken). */
static json_t *compute(const struct effective_query *q, json_t *first, ...)
{
    json_t *arr = json_array();
    va_list ap;
    va_start(ap, first);
    for (json_t *d = first; d; d = va_arg(ap, json_t *))
        json_array_append_new(arr, d);
    va_end(ap);
    json_t *out = NULL;
    assert_int_equal(effective_compute(q, arr, &out), 0);
    assert_non_null(out);
    json_decref(arr);
    return out;
}

static const json_t *setting(const json_t *eff, const char *name)
{
    return json_object_get(json_object_get(eff, "settings"), name);
}

/* Asserts a JSON value equals a literal (single-quoted JSON). */
static void assert_json(const json_t *got, const char *want_literal)
{
    json_t *want = J(want_literal);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
        char *w = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
        print_error("got  %s\nwant %s\n", g ? g : "(null)", w ? w : "(null)");
        free(g);
        free(w);
        json_decref(want);
        fail();
    }
    json_decref(want);
}

/* value, from and the others' policy ids of one merged setting. */
static void assert_setting(const json_t *eff, const char *name, const char *value, const char *from,
                           const char *others_ids)
{
    const json_t *s = setting(eff, name);
    if (!s)
        fail_msg("no setting %s", name);
    assert_json(json_object_get(s, "value"), value);
    assert_string_equal(json_string_value(json_object_get(s, "from")), from);
    struct buf b = BUF_INIT(0);
    size_t i;
    const json_t *o;
    json_array_foreach(json_object_get(s, "others"), i, o)
    {
        assert_int_equal(buf_printf(&b, "%s%s", i ? "," : "", json_string_value(json_object_get(o, "policy"))), 0);
    }
    assert_string_equal(buf_str(&b), others_ids);
    buf_release(&b);
}

/* ---------- targeting ---------- */

static json_t *grouped(const char *assignments)
{
    struct buf b = BUF_INIT(0);
    assert_int_equal(buf_printf(&b,
                                "{'@odata.type':'" ANDROID_T "','id':'T_1','appGroupType':'allApps','assignments':%s}",
                                assignments),
                     0);
    json_t *v = J(buf_str(&b));
    buf_release(&b);
    return v;
}

static void test_include_exclude(void **state)
{
    (void)state;
    json_t *p = grouped(
        "[{'id':'g1_incl','target':{'@odata.type':'#microsoft.graph.groupAssignmentTarget','groupId':'g1'}},"
        " {'id':'g2_excl','target':{'@odata.type':'#microsoft.graph.exclusionGroupAssignmentTarget','groupId':'g2'}}]");
    const char *in_g1[] = {"g1"}, *in_both[] = {"g2", "g1"}, *in_g2[] = {"g2"};
    struct effective_query q = android_q;
    q.group_ids = in_g1;
    q.group_count = 1;
    assert_int_equal(effective_policy_applies(&q, p), 1);
    q.group_ids = in_both; /* exclusion wins */
    q.group_count = 2;
    assert_int_equal(effective_policy_applies(&q, p), 0);
    q.group_ids = in_g2;
    q.group_count = 1;
    assert_int_equal(effective_policy_applies(&q, p), 0);
    /* group ids are GUIDs: compared without regard to case */
    const char *upper[] = {"G1"};
    q.group_ids = upper;
    assert_int_equal(effective_policy_applies(&q, p), 1);
    json_decref(p);
}

static void test_user_in_no_group(void **state)
{
    (void)state;
    json_t *p = grouped("[{'target':{'@odata.type':'#microsoft.graph.groupAssignmentTarget','groupId':'g1'}}]");
    const char *other[] = {"g9"};
    struct effective_query q = android_q;
    assert_int_equal(effective_policy_applies(&q, p), 0); /* no groups at all */
    q.group_ids = other;
    q.group_count = 1;
    assert_int_equal(effective_policy_applies(&q, p), 0);
    json_decref(p);
    p = grouped("[]"); /* unassigned */
    assert_int_equal(effective_policy_applies(&q, p), 0);
    json_decref(p);
}

static void test_all_licensed_users(void **state)
{
    (void)state;
    json_t *p =
        grouped("[{'target':{'@odata.type':'#microsoft.graph.allLicensedUsersAssignmentTarget'}},"
                " {'target':{'@odata.type':'#microsoft.graph.exclusionGroupAssignmentTarget','groupId':'gx'}}]");
    struct effective_query q = android_q;
    assert_int_equal(effective_policy_applies(&q, p), 1);
    const char *excluded[] = {"gx"};
    q.group_ids = excluded;
    q.group_count = 1;
    assert_int_equal(effective_policy_applies(&q, p), 0);
    json_decref(p);
}

static void test_app_list_case_insensitive(void **state)
{
    (void)state;
    json_t *p = J("{'@odata.type':'" ANDROID_T "','id':'T_1','assignments':" ALL_USERS ","
                  " 'apps':[{'id':'com.contoso.app.android','mobileAppIdentifier':"
                  "   {'@odata.type':'#microsoft.graph.androidMobileAppIdentifier','packageId':'com.Contoso.App'}},"
                  "  {'id':'com.fabrikam.notes.android'}]}");
    struct effective_query q = android_q;
    q.app_id = "COM.CONTOSO.APP";
    assert_int_equal(effective_policy_applies(&q, p), 1);
    q.app_id = "com.fabrikam.notes"; /* by id without ".android" */
    assert_int_equal(effective_policy_applies(&q, p), 1);
    q.app_id = "com.fabrikam.notes.android"; /* the id itself is not a package id */
    assert_int_equal(effective_policy_applies(&q, p), 0);
    q.app_id = "com.other.app";
    assert_int_equal(effective_policy_applies(&q, p), 0);
    json_decref(p);

    /* an app configuration listing only the iOS app does not reach the Android app */
    p = J("{'@odata.type':'" CONFIG_T "','id':'A_1','assignments':" ALL_USERS ","
          " 'apps':[{'id':'com.contoso.app.ios','mobileAppIdentifier':"
          "   {'@odata.type':'#microsoft.graph.iosMobileAppIdentifier','bundleId':'com.contoso.app'}}]}");
    q = android_q;
    assert_int_equal(effective_policy_applies(&q, p), 0);
    q.platform = EFFECTIVE_IOS;
    assert_int_equal(effective_policy_applies(&q, p), 1);
    json_decref(p);
}

static int applies_group_type(const char *group_type, const char *app, enum effective_platform platform)
{
    struct buf b = BUF_INIT(0);
    assert_int_equal(buf_printf(&b,
                                "{'@odata.type':'%s','id':'T_1','appGroupType':'%s','assignments':" ALL_USERS
                                ",'apps':[{'id':'com.contoso.listed.android'},{'id':'com.contoso.listed.ios'}]}",
                                platform == EFFECTIVE_ANDROID ? ANDROID_T : IOS_T, group_type),
                     0);
    json_t *p = J(buf_str(&b));
    buf_release(&b);
    struct effective_query q = android_q;
    q.app_id = app;
    q.platform = platform;
    int r = effective_policy_applies(&q, p);
    json_decref(p);
    return r;
}

static void test_app_group_type(void **state)
{
    (void)state;
    assert_int_equal(applies_group_type("allApps", "com.anything.at.all", EFFECTIVE_ANDROID), 1);
    /* core Microsoft apps: Outlook on both platforms */
    assert_int_equal(applies_group_type("allCoreMicrosoftApps", "com.microsoft.office.outlook", EFFECTIVE_ANDROID), 1);
    assert_int_equal(applies_group_type("allCoreMicrosoftApps", "com.microsoft.Office.Outlook", EFFECTIVE_IOS), 1);
    assert_int_equal(applies_group_type("allCoreMicrosoftApps", "com.microsoft.emmx", EFFECTIVE_ANDROID), 1);
    assert_int_equal(applies_group_type("allCoreMicrosoftApps", "com.microsoft.skype.teams", EFFECTIVE_IOS), 1);
    /* the Android Edge id is no iOS app */
    assert_int_equal(applies_group_type("allCoreMicrosoftApps", "com.microsoft.emmx", EFFECTIVE_IOS), 0);
    /* Planner is a Microsoft app, not a core one */
    assert_int_equal(applies_group_type("allCoreMicrosoftApps", "com.microsoft.planner", EFFECTIVE_ANDROID), 0);
    assert_int_equal(applies_group_type("allMicrosoftApps", "com.microsoft.planner", EFFECTIVE_ANDROID), 1);
    assert_int_equal(applies_group_type("allMicrosoftApps", "com.microsoft.office.outlook", EFFECTIVE_ANDROID), 1);
    assert_int_equal(applies_group_type("allMicrosoftApps", "com.contoso.app", EFFECTIVE_ANDROID), 0);
    /* selected apps: only the listed ones */
    assert_int_equal(applies_group_type("selectedPublicApps", "com.microsoft.office.outlook", EFFECTIVE_ANDROID), 0);
    assert_int_equal(applies_group_type("selectedPublicApps", "com.contoso.listed", EFFECTIVE_ANDROID), 1);
    assert_int_equal(applies_group_type("selectedPublicApps", "com.contoso.listed", EFFECTIVE_IOS), 1);
    /* the listed apps count under any group type */
    assert_int_equal(applies_group_type("allCoreMicrosoftApps", "com.contoso.listed", EFFECTIVE_ANDROID), 1);
}

static void test_platform_mismatch(void **state)
{
    (void)state;
    json_t *a = android_pol("T_a", NULL), *i = pol(IOS_T, "T_i", NULL), *c = pol(CONFIG_T, "A_c", NULL);
    struct effective_query q = android_q;
    assert_int_equal(effective_policy_applies(&q, a), 1);
    assert_int_equal(effective_policy_applies(&q, i), 0);
    assert_int_equal(effective_policy_applies(&q, c), 1);
    q.platform = EFFECTIVE_IOS;
    assert_int_equal(effective_policy_applies(&q, a), 0);
    assert_int_equal(effective_policy_applies(&q, i), 1);
    assert_int_equal(effective_policy_applies(&q, c), 1);
    json_t *conn = J("{'@odata.type':'#microsoft.graph.mobileThreatDefenseConnector','id':'x'}");
    assert_int_equal(effective_policy_applies(&q, conn), 0);
    json_decref(conn);

    /* compute: only the platform's protections, every matching configuration */
    q = android_q;
    json_t *eff = compute(&q, i, a, c, NULL);
    assert_json(json_object_get(eff, "protectionPolicies"), "[{'id':'T_a','displayName':'Policy T_a'}]");
    assert_int_equal(json_array_size(json_object_get(eff, "appConfigurations")), 1);
    json_decref(eff);
}

static int applies_level(const char *levels_json, const char *device_level)
{
    struct buf b = BUF_INIT(0);
    if (levels_json)
        assert_int_equal(buf_printf(&b, "'targetedAppManagementLevels':%s", levels_json), 0);
    json_t *p = android_pol("T_1", levels_json ? buf_str(&b) : NULL);
    buf_release(&b);
    struct effective_query q = android_q;
    q.management_level = device_level;
    int r = effective_policy_applies(&q, p);
    json_decref(p);
    return r;
}

static void test_management_level(void **state)
{
    (void)state;
    assert_int_equal(applies_level(NULL, "mdm"), 1); /* absent */
    assert_int_equal(applies_level("null", "mdm"), 1);
    assert_int_equal(applies_level("'unspecified'", "androidEnterprise"), 1);
    assert_int_equal(applies_level("'unmanaged,mdm'", NULL), 1); /* NULL = unmanaged */
    assert_int_equal(applies_level("'unmanaged,mdm'", "mdm"), 1);
    assert_int_equal(applies_level("'unmanaged, mdm'", "mdm"), 1);
    assert_int_equal(applies_level("'unmanaged,mdm'", "androidEnterprise"), 0);
    assert_int_equal(applies_level("'mdm'", NULL), 0);
    assert_int_equal(applies_level("'mdm'", "unmanaged"), 0);
    assert_int_equal(applies_level("'unmanaged'", "unmanaged"), 1);
}

/* ---------- merges ---------- */

static void test_merge_pin_length_max(void **state)
{
    (void)state;
    json_t *eff = compute(&android_q, android_pol("T_b", "'minimumPinLength':6"),
                          android_pol("T_a", "'minimumPinLength':4"), NULL);
    assert_setting(eff, "minimumPinLength", "6", "T_b", "T_a");
    const json_t *s = setting(eff, "minimumPinLength");
    assert_string_equal(json_string_value(json_object_get(s, "fromName")), "Policy T_b");
    assert_json(json_object_get(s, "others"), "[{'policy':'T_a','policyName':'Policy T_a','value':4}]");
    /* sorted by id */
    assert_json(json_object_get(eff, "protectionPolicies"),
                "[{'id':'T_a','displayName':'Policy T_a'},{'id':'T_b','displayName':'Policy T_b'}]");
    /* nobody set it: not reported */
    assert_null(setting(eff, "maximumPinRetries"));
    json_decref(eff);
}

static void test_merge_pin_retries_min(void **state)
{
    (void)state;
    json_t *eff =
        compute(&android_q, android_pol("T_a", "'maximumPinRetries':10"), android_pol("T_b", "'maximumPinRetries':3"),
                android_pol("T_c", "'maximumPinRetries':null"), NULL);
    assert_setting(eff, "maximumPinRetries", "3", "T_b", "T_a");
    json_decref(eff);
}

static void test_merge_true_wins(void **state)
{
    (void)state;
    json_t *eff = compute(&android_q, android_pol("T_a", "'saveAsBlocked':false,'disableAppPinIfDevicePinIsSet':true"),
                          android_pol("T_b", "'saveAsBlocked':true,'disableAppPinIfDevicePinIsSet':false"),
                          android_pol("T_c", "'saveAsBlocked':true"), NULL);
    assert_setting(eff, "saveAsBlocked", "true", "T_b", "T_a");
    assert_setting(eff, "disableAppPinIfDevicePinIsSet", "false", "T_b", "T_a"); /* FALSE_WINS */
    json_decref(eff);
}

static void test_merge_order(void **state)
{
    (void)state;
    json_t *eff = compute(&android_q, android_pol("T_a", "'allowedOutboundDataTransferDestinations':'allApps'"),
                          android_pol("T_b", "'allowedOutboundDataTransferDestinations':'managedApps'"), NULL);
    assert_setting(eff, "allowedOutboundDataTransferDestinations", "'managedApps'", "T_b", "T_a");
    json_decref(eff);
    eff = compute(&android_q, android_pol("T_a", "'allowedOutboundDataTransferDestinations':'managedApps'"),
                  android_pol("T_b", "'allowedOutboundDataTransferDestinations':'none'"),
                  android_pol("T_c", "'allowedOutboundDataTransferDestinations':'managedApps'"), NULL);
    assert_setting(eff, "allowedOutboundDataTransferDestinations", "'none'", "T_b", "T_a,T_c");
    json_decref(eff);
}

static void test_merge_action(void **state)
{
    (void)state;
    json_t *eff = compute(&android_q, android_pol("T_a", "'appActionIfDeviceComplianceRequired':'block'"),
                          android_pol("T_b", "'appActionIfDeviceComplianceRequired':'wipe'"),
                          android_pol("T_c", "'appActionIfDeviceComplianceRequired':'warn'"), NULL);
    assert_setting(eff, "appActionIfDeviceComplianceRequired", "'wipe'", "T_b", "T_a,T_c");
    json_decref(eff);
    eff = compute(&android_q, android_pol("T_a", "'appActionIfDeviceLockNotSet':'warn'"),
                  android_pol("T_b", "'appActionIfDeviceLockNotSet':'blockWhenSettingIsSupported'"), NULL);
    assert_setting(eff, "appActionIfDeviceLockNotSet", "'blockWhenSettingIsSupported'", "T_b", "T_a");
    json_decref(eff);
}

static void test_merge_version_max(void **state)
{
    (void)state;
    /* "10.10" > "10.2" as versions, though not as text */
    json_t *eff = compute(&android_q, android_pol("T_a", "'minimumRequiredOsVersion':'10.2'"),
                          android_pol("T_b", "'minimumRequiredOsVersion':'10.10'"),
                          android_pol("T_c", "'minimumRequiredOsVersion':''"), NULL);
    assert_setting(eff, "minimumRequiredOsVersion", "'10.10'", "T_b", "T_a,T_c");
    json_decref(eff);
    /* patch levels: the latest date; "0000-00-00" is unset */
    eff = compute(&android_q, android_pol("T_a", "'minimumRequiredPatchVersion':'0000-00-00'"),
                  android_pol("T_b", "'minimumRequiredPatchVersion':'2024-03-01'"),
                  android_pol("T_c", "'minimumRequiredPatchVersion':'2023-12-05'"), NULL);
    assert_setting(eff, "minimumRequiredPatchVersion", "'2024-03-01'", "T_b", "T_a,T_c");
    json_decref(eff);
    /* nobody set one: the first "unset" value is delivered */
    eff = compute(&android_q, android_pol("T_a", "'minimumWipePatchVersion':'0000-00-00'"),
                  android_pol("T_b", "'minimumWipePatchVersion':'0000-00-00'"), NULL);
    assert_setting(eff, "minimumWipePatchVersion", "'0000-00-00'", "T_a", "");
    json_decref(eff);
}

static void test_merge_version_min(void **state)
{
    (void)state;
    json_t *eff = compute(&android_q, android_pol("T_a", "'maximumRequiredOsVersion':'12.1'"),
                          android_pol("T_b", "'maximumRequiredOsVersion':null"),
                          android_pol("T_c", "'maximumRequiredOsVersion':'11.0'"),
                          android_pol("T_d", "'maximumRequiredOsVersion':''"), NULL);
    assert_setting(eff, "maximumRequiredOsVersion", "'11.0'", "T_c", "T_a,T_d");
    json_decref(eff);
}

static void test_merge_intersect_manufacturers(void **state)
{
    (void)state;
    /* reference §9: "Google;Samsung" & "Google" = "Google" */
    json_t *eff = compute(&android_q, android_pol("T_a", "'allowedAndroidDeviceManufacturers':'Google;Samsung'"),
                          android_pol("T_b", "'allowedAndroidDeviceManufacturers':'google'"),
                          android_pol("T_c", "'allowedAndroidDeviceManufacturers':null"), NULL);
    assert_setting(eff, "allowedAndroidDeviceManufacturers", "'Google'", "T_a", "T_b");
    assert_null(json_object_get(setting(eff, "allowedAndroidDeviceManufacturers"), "nothingAllowed"));
    json_decref(eff);
    /* one list alone is delivered as written */
    eff = compute(&android_q, android_pol("T_a", "'allowedAndroidDeviceManufacturers':''"),
                  android_pol("T_b", "'allowedAndroidDeviceManufacturers':'Samsung; Google'"), NULL);
    assert_setting(eff, "allowedAndroidDeviceManufacturers", "'Samsung; Google'", "T_b", "T_a");
    json_decref(eff);
    /* disjoint lists: nothing is allowed, said explicitly */
    eff = compute(&android_q, android_pol("T_a", "'allowedAndroidDeviceManufacturers':'Google'"),
                  android_pol("T_b", "'allowedAndroidDeviceManufacturers':'Samsung'"), NULL);
    assert_setting(eff, "allowedAndroidDeviceManufacturers", "''", "T_a", "T_b");
    assert_json(json_object_get(setting(eff, "allowedAndroidDeviceManufacturers"), "nothingAllowed"), "true");
    json_decref(eff);
    /* iOS models are ';'-separated strings too */
    struct effective_query q = android_q;
    q.platform = EFFECTIVE_IOS;
    eff = compute(&q, pol(IOS_T, "T_a", "'allowedIosDeviceModels':'iPhone15,2;iPad13,1;iPhone14,5'"),
                  pol(IOS_T, "T_b", "'allowedIosDeviceModels':'iphone14,5;IPHONE15,2'"), NULL);
    assert_setting(eff, "allowedIosDeviceModels", "'iPhone15,2;iPhone14,5'", "T_a", "T_b");
    json_decref(eff);
}

static void test_merge_intersect_storage_locations(void **state)
{
    (void)state;
    json_t *eff = compute(
        &android_q, android_pol("T_a", "'allowedDataStorageLocations':['oneDriveForBusiness','sharePoint','box']"),
        android_pol("T_b", "'allowedDataStorageLocations':[]"),
        android_pol("T_c", "'allowedDataStorageLocations':['sharePoint','oneDriveForBusiness']"), NULL);
    assert_setting(eff, "allowedDataStorageLocations", "['oneDriveForBusiness','sharePoint']", "T_a", "T_b,T_c");
    json_decref(eff);
    /* an empty list where saving is blocked allows no location: it restricts */
    eff = compute(&android_q,
                  android_pol("T_a", "'saveAsBlocked':true,'allowedDataStorageLocations':['oneDriveForBusiness']"),
                  android_pol("T_b", "'saveAsBlocked':true,'allowedDataStorageLocations':[]"), NULL);
    assert_setting(eff, "allowedDataStorageLocations", "[]", "T_a", "");
    assert_json(json_object_get(setting(eff, "allowedDataStorageLocations"), "nothingAllowed"), "true");
    json_decref(eff);
    /* key-value lists intersect by name */
    eff = compute(
        &android_q,
        android_pol("T_a", "'approvedKeyboards':[{'name':'com.touchtype.swiftkey','value':'SwiftKey'},"
                           "{'name':'com.google.android.inputmethod.latin','value':'Gboard'}]"),
        android_pol("T_b", "'approvedKeyboards':[{'name':'com.google.android.inputmethod.latin','value':'G'}]"), NULL);
    assert_setting(eff, "approvedKeyboards", "[{'name':'com.google.android.inputmethod.latin','value':'Gboard'}]",
                   "T_a", "T_b");
    json_decref(eff);
}

static void test_merge_exemptions(void **state)
{
    (void)state;
    /* an empty exemption list exempts nothing: it is the strictest value, not "no restriction" */
    json_t *eff =
        compute(&android_q, android_pol("T_a", "'exemptedAppPackages':[]"),
                android_pol("T_b", "'exemptedAppPackages':[{'name':'com.google.maps','value':'Maps'}]"), NULL);
    assert_setting(eff, "exemptedAppPackages", "[]", "T_a", "T_b");
    json_decref(eff);
    eff = compute(&android_q,
                  android_pol("T_a", "'exemptedAppPackages':[{'name':'com.google.maps','value':'Maps'},"
                                     "{'name':'com.waze','value':'Waze'}]"),
                  android_pol("T_b", "'exemptedAppPackages':[{'name':'com.waze','value':'Waze'}]"), NULL);
    assert_setting(eff, "exemptedAppPackages", "[{'name':'com.waze','value':'Waze'}]", "T_a", "");
    json_decref(eff);
}

static void test_merge_union(void **state)
{
    (void)state;
    struct effective_query q = android_q;
    q.platform = EFFECTIVE_IOS;
    json_t *eff =
        compute(&q, pol(IOS_T, "T_a", "'managedUniversalLinks':['http://a.example/*']"),
                pol(IOS_T, "T_b", "'managedUniversalLinks':['http://b.example/*','http://a.example/*']"), NULL);
    assert_setting(eff, "managedUniversalLinks", "['http://a.example/*','http://b.example/*']", "T_a", "T_b");
    json_decref(eff);
}

static void test_merge_threat(void **state)
{
    (void)state;
    json_t *eff = compute(&android_q, android_pol("T_a", "'maximumAllowedDeviceThreatLevel':'medium'"),
                          android_pol("T_b", "'maximumAllowedDeviceThreatLevel':'secured'"),
                          android_pol("T_c", "'maximumAllowedDeviceThreatLevel':'notConfigured'"), NULL);
    assert_setting(eff, "maximumAllowedDeviceThreatLevel", "'secured'", "T_b", "T_a,T_c");
    json_decref(eff);
    eff = compute(&android_q, android_pol("T_a", "'maximumAllowedDeviceThreatLevel':'notConfigured'"),
                  android_pol("T_b", "'maximumAllowedDeviceThreatLevel':'high'"), NULL);
    assert_setting(eff, "maximumAllowedDeviceThreatLevel", "'high'", "T_b", "T_a");
    json_decref(eff);
    eff = compute(&android_q, android_pol("T_a", "'maximumAllowedDeviceThreatLevel':'notConfigured'"),
                  android_pol("T_b", "'maximumAllowedDeviceThreatLevel':'notConfigured'"), NULL);
    assert_setting(eff, "maximumAllowedDeviceThreatLevel", "'notConfigured'", "T_a", "");
    json_decref(eff);
    /* the paired action merges on its own: the strictest of each */
    eff = compute(
        &android_q,
        android_pol("T_a",
                    "'maximumAllowedDeviceThreatLevel':'secured','mobileThreatDefenseRemediationAction':'block'"),
        android_pol("T_b", "'maximumAllowedDeviceThreatLevel':'low','mobileThreatDefenseRemediationAction':'wipe'"),
        NULL);
    assert_setting(eff, "maximumAllowedDeviceThreatLevel", "'secured'", "T_a", "T_b");
    assert_setting(eff, "mobileThreatDefenseRemediationAction", "'wipe'", "T_b", "T_a");
    json_decref(eff);
}

static void test_merge_durations(void **state)
{
    (void)state;
    /* PT12H == PT720M < P1D: the tie goes to the first policy by id, which keeps its own spelling */
    json_t *eff = compute(&android_q, android_pol("T_b", "'periodOfflineBeforeAccessCheck':'PT12H'"),
                          android_pol("T_c", "'periodOfflineBeforeAccessCheck':'P1D'"),
                          android_pol("T_a", "'periodOfflineBeforeAccessCheck':'PT720M'"), NULL);
    assert_setting(eff, "periodOfflineBeforeAccessCheck", "'PT720M'", "T_a", "T_b,T_c");
    json_decref(eff);
    eff = compute(&android_q, android_pol("T_a", "'periodOfflineBeforeAccessCheck':'P1D'"),
                  android_pol("T_b", "'periodOfflineBeforeAccessCheck':'PT12H'"),
                  android_pol("T_c", "'periodOfflineBeforeAccessCheck':'PT720M'"), NULL);
    assert_setting(eff, "periodOfflineBeforeAccessCheck", "'PT12H'", "T_b", "T_a,T_c");
    json_decref(eff);
    /* periodBeforePinReset PT0S = never reset: skipped, not the minimum */
    eff = compute(&android_q, android_pol("T_a", "'periodBeforePinReset':'PT0S'"),
                  android_pol("T_b", "'periodBeforePinReset':'P90D'"),
                  android_pol("T_c", "'periodBeforePinReset':'P365D'"), NULL);
    assert_setting(eff, "periodBeforePinReset", "'P90D'", "T_b", "T_a,T_c");
    json_decref(eff);
    /* same for Company Portal deferral days (0 = not set) */
    eff = compute(&android_q, android_pol("T_a", "'blockAfterCompanyPortalUpdateDeferralInDays':0"),
                  android_pol("T_b", "'blockAfterCompanyPortalUpdateDeferralInDays':30"), NULL);
    assert_setting(eff, "blockAfterCompanyPortalUpdateDeferralInDays", "30", "T_b", "T_a");
    json_decref(eff);
    /* but a clipboard exception of 0 characters is the strictest */
    eff = compute(&android_q, android_pol("T_a", "'allowedOutboundClipboardSharingExceptionLength':10"),
                  android_pol("T_b", "'allowedOutboundClipboardSharingExceptionLength':0"), NULL);
    assert_setting(eff, "allowedOutboundClipboardSharingExceptionLength", "0", "T_b", "T_a");
    json_decref(eff);
}

static void test_merge_first(void **state)
{
    (void)state;
    json_t *eff =
        compute(&android_q, android_pol("T_b", "'mobileThreatDefensePartnerPriority':'thirdPartyPartnerOverDefender'"),
                android_pol("T_a", "'mobileThreatDefensePartnerPriority':'defenderOverThirdPartyPartner',"
                                   "'customBrowserPackageId':''"),
                android_pol("T_c", "'customBrowserPackageId':'com.contoso.browser'"), NULL);
    assert_setting(eff, "mobileThreatDefensePartnerPriority", "'defenderOverThirdPartyPartner'", "T_a", "T_b");
    /* "" is Graph's unset string: a set value wins over it */
    assert_setting(eff, "customBrowserPackageId", "'com.contoso.browser'", "T_c", "T_a");
    json_decref(eff);
}

static void test_targeting_is_not_a_setting(void **state)
{
    (void)state;
    /* targeting properties are not settings; display names are not either */
    json_t *eff = compute(&android_q, android_pol("T_a", "'targetedAppManagementLevels':'unspecified'"), NULL);
    assert_null(setting(eff, "appGroupType"));
    assert_null(setting(eff, "targetedAppManagementLevels"));
    assert_null(setting(eff, "displayName"));
    assert_int_equal(json_object_size(json_object_get(eff, "settings")), 0);
    assert_json(json_object_get(eff, "appConfigurations"), "[]");
    assert_json(json_object_get(eff, "appConfigurationConflicts"), "[]");
    json_decref(eff);
}

/* ---------- Microsoft's framework policies (tests/fixtures), as published ---------- */

/* Loads a framework policy from tests/fixtures (RG_FIXTURES, else the folder CMake compiled in)
 * and gives it an id and an all-users assignment; a missing file fails the test. */
static json_t *framework(const char *file, const char *id)
{
    const char *dir = getenv("RG_FIXTURES");
    if (!dir || !*dir)
        dir = RG_FIXTURES_DIR;
    struct buf path = BUF_INIT(0);
    assert_int_equal(buf_printf(&path, "%s/intune-app-protection/%s", dir, file), 0);
    if (access(buf_str(&path), R_OK) != 0)
        fail_msg("fixture not found (%s): it lives in tests/fixtures", buf_str(&path));
    json_error_t err;
    json_t *p = json_load_file(buf_str(&path), 0, &err);
    if (!p)
        fail_msg("%s: %s", buf_str(&path), err.text);
    buf_release(&path);
    assert_int_equal(json_object_set_new(p, "id", json_string(id)), 0);
    assert_int_equal(json_object_set_new(p, "assignments", J(ALL_USERS)), 0);
    return p;
}

static void test_framework_fixtures(void **state)
{
    (void)state;
    json_t *l1 = framework("level-1-enterprise-basic-data-protection-Android.json", "T_1");
    json_t *l2 = framework("level-2-enterprise-enhanced-data-protection-Android.json", "T_2");
    json_t *l3 = framework("level-3-enterprise-high-data-protection-Android.json", "T_3");
    struct effective_query q = android_q;
    q.app_id = "com.microsoft.office.outlook"; /* they target allCoreMicrosoftApps */
    json_t *eff = compute(&q, l3, l1, NULL);
    assert_int_equal(json_array_size(json_object_get(eff, "protectionPolicies")), 2);
    assert_setting(eff, "minimumPinLength", "6", "T_3", "T_1");
    /* level 1 does not block saving: its empty list restricts nothing */
    assert_setting(eff, "allowedDataStorageLocations", "['oneDriveForBusiness','sharePoint']", "T_3", "T_1");
    assert_setting(eff, "maximumAllowedDeviceThreatLevel", "'secured'", "T_3", "T_1");
    assert_setting(eff, "mobileThreatDefenseRemediationAction", "'block'", "T_1", "");
    assert_setting(eff, "periodBeforePinReset", "'P365D'", "T_3", "T_1"); /* PT0S = never */
    assert_setting(eff, "maximumRequiredOsVersion", "'11.0'", "T_3", "");
    assert_setting(eff, "appActionIfDeviceComplianceRequired", "'wipe'", "T_3", "T_1");
    assert_setting(eff, "customBrowserPackageId", "''", "T_1", "");
    assert_setting(eff, "minimumRequiredPatchVersion", "'0000-00-00'", "T_1", "");
    const json_t *kb = setting(eff, "approvedKeyboards");
    assert_int_equal(json_array_size(json_object_get(kb, "value")), 11); /* level 3's list, verbatim */
    assert_string_equal(json_string_value(json_object_get(kb, "from")), "T_3");
    json_decref(eff);
    /* not a core Microsoft app: nothing applies */
    q.app_id = "com.contoso.app";
    eff = compute(&q, l2, NULL);
    assert_int_equal(json_array_size(json_object_get(eff, "protectionPolicies")), 0);
    assert_int_equal(json_object_size(json_object_get(eff, "settings")), 0);
    json_decref(eff);

    q = android_q;
    q.platform = EFFECTIVE_IOS;
    q.app_id = "com.microsoft.Office.Outlook";
    eff = compute(&q, framework("level-1-enterprise-basic-data-protection-iOS.json", "T_1"),
                  framework("level-2-enterprise-enhanced-data-protection-iOS.json", "T_2"),
                  framework("level-3-enterprise-high-data-protection-iOS.json", "T_3"), NULL);
    assert_int_equal(json_array_size(json_object_get(eff, "protectionPolicies")), 3);
    assert_setting(eff, "minimumPinLength", "6", "T_3", "T_1,T_2");
    json_decref(eff);
}

/* ---------- app configurations ---------- */

static void test_app_configurations(void **state)
{
    (void)state;
    json_t *eff =
        compute(&android_q,
                pol(CONFIG_T, "A_2",
                    "'customSettings':[{'name':'DefenderMAMConfigs','value':'1'},"
                    "{'name':'color','value':'blue'},{'name':'mode','value':'strict'}]"),
                pol(CONFIG_T, "A_1",
                    "'customSettings':[{'name':'color','value':'red'},{'name':'DefenderMAMConfigs','value':'1'}]"),
                android_pol("T_1", "'minimumPinLength':6"), NULL);
    /* both sets, by id, unmerged */
    assert_json(json_object_get(eff, "appConfigurations"),
                "[{'id':'A_1','displayName':'Policy A_1','customSettings':[{'name':'color','value':'red'},"
                "{'name':'DefenderMAMConfigs','value':'1'}]},"
                "{'id':'A_2','displayName':'Policy A_2','customSettings':[{'name':'DefenderMAMConfigs','value':'1'},"
                "{'name':'color','value':'blue'},{'name':'mode','value':'strict'}]}]");
    /* the differing key is reported with every value; the agreeing one is not */
    assert_json(json_object_get(eff, "appConfigurationConflicts"),
                "[{'name':'color','values':[{'policy':'A_1','policyName':'Policy A_1','value':'red'},"
                "{'policy':'A_2','policyName':'Policy A_2','value':'blue'}]}]");
    /* configurations are not protection policies */
    assert_json(json_object_get(eff, "protectionPolicies"), "[{'id':'T_1','displayName':'Policy T_1'}]");
    json_decref(eff);
}

/* ---------- explanations ---------- */

static void test_explain_lines(void **state)
{
    (void)state;
    json_t *eff =
        compute(&android_q, android_pol("T_b", "'minimumPinLength':6,'allowedDataStorageLocations':['sharePoint']"),
                android_pol("T_a", "'minimumPinLength':4,'allowedDataStorageLocations':['sharePoint','box'],"
                                   "'minimumRequiredOsVersion':'10.0'"),
                NULL);
    struct buf b = BUF_INIT(0);
    assert_int_equal(buf_puts(&b, "before\n"), 0);
    assert_int_equal(effective_explain_lines(eff, &b), 0);
    /* settings come in the schema table's order */
    assert_string_equal(buf_str(&b), "before\n"
                                     "minimumPinLength = 6 (from policy Policy T_b [T_b]; policy Policy T_a wanted 4)\n"
                                     "allowedDataStorageLocations = [\"sharePoint\"] (from policy Policy T_a [T_a])\n"
                                     "minimumRequiredOsVersion = \"10.0\" (from policy Policy T_a [T_a])\n");
    buf_release(&b);

    /* a cap too small: an error and out unchanged */
    struct buf small = BUF_INIT(16);
    assert_int_equal(buf_puts(&small, "x"), 0);
    assert_int_equal(effective_explain_lines(eff, &small), RG_ETOOBIG);
    assert_string_equal(buf_str(&small), "x");
    buf_release(&small);
    json_decref(eff);

    /* nothing allowed is said */
    eff = compute(&android_q, android_pol("T_a", "'allowedAndroidDeviceManufacturers':'Google'"),
                  android_pol("T_b", "'allowedAndroidDeviceManufacturers':'Samsung'"), NULL);
    assert_int_equal(effective_explain_lines(eff, &b), 0);
    assert_string_equal(buf_str(&b), "allowedAndroidDeviceManufacturers = \"\" (from policy Policy T_a [T_a]; "
                                     "policy Policy T_b wanted \"Samsung\"; the policies' lists share no value: "
                                     "nothing is allowed)\n");
    buf_release(&b);
    json_decref(eff);

    json_t *bad = J("{'protectionPolicies':[]}");
    assert_int_equal(effective_explain_lines(bad, &b), RG_EINVAL);
    json_decref(bad);
}

/* ---------- malformed input ---------- */

static int compute_text(const char *literal)
{
    json_t *arr = J(literal), *out = (json_t *)1;
    int rc = effective_compute(&android_q, arr, &out);
    if (rc)
        assert_null(out);
    json_decref(out);
    json_decref(arr);
    return rc;
}

static void test_malformed(void **state)
{
    (void)state;
    json_t *out = NULL;
    json_t *obj = J("{}");
    assert_int_equal(effective_compute(&android_q, obj, &out), RG_EINVAL); /* not an array */
    assert_int_equal(effective_compute(NULL, obj, &out), RG_EINVAL);
    json_decref(obj);
    assert_int_equal(compute_text("[]"), 0);
    assert_int_equal(compute_text("[1]"), RG_EINVAL);
    assert_int_equal(compute_text("[{'id':'T_1'}]"), RG_EINVAL); /* no @odata.type */
    assert_int_equal(compute_text("[{'@odata.type':'#microsoft.graph.nothing','id':'x'}]"), RG_EINVAL);
    assert_int_equal(compute_text("[{'@odata.type':'" ANDROID_T "'}]"), RG_EINVAL); /* no id */
    assert_int_equal(compute_text("[{'@odata.type':'" ANDROID_T "','id':'T','assignments':{}}]"), RG_EINVAL);
    assert_int_equal(compute_text("[{'@odata.type':'" ANDROID_T "','id':'T','assignments':[{'target':"
                                  "{'@odata.type':'#microsoft.graph.groupAssignmentTarget'}}]}]"),
                     RG_EINVAL); /* group target without groupId */
    assert_int_equal(compute_text("[{'@odata.type':'" CONFIG_T "','id':'A','customSettings':[{'value':'v'}]}]"),
                     RG_EINVAL);
    /* a wrongly typed setting of an applying policy */
    assert_int_equal(compute_text("[{'@odata.type':'" ANDROID_T "','id':'T','appGroupType':'allApps',"
                                  "'assignments':" ALL_USERS ",'minimumPinLength':'six'}]"),
                     RG_EINVAL);
    /* connectors may be mixed in: ignored */
    assert_int_equal(compute_text("[{'@odata.type':'#microsoft.graph.mobileThreatDefenseConnector','id':'c'}]"), 0);
}

/* ---------- failing allocations ---------- */

static long alloc_budget = -1; /* allocations left before they fail; -1 = never fail */

static void *failing_malloc(size_t n)
{
    if (alloc_budget == 0)
        return NULL;
    if (alloc_budget > 0)
        alloc_budget--;
    return malloc(n);
}

/* Every JSON allocation of compute and explain fails in turn: RG_ENOMEM, nothing leaked, out untouched. */
static void test_allocation_failures(void **state)
{
    (void)state;
    json_t *arr = json_array();
    json_array_append_new(arr, android_pol("T_a",
                                           "'minimumPinLength':6,'allowedAndroidDeviceManufacturers':'Google;Samsung',"
                                           "'allowedDataStorageLocations':['sharePoint','box'],'saveAsBlocked':true"));
    json_array_append_new(arr, android_pol("T_b", "'minimumPinLength':4,'allowedAndroidDeviceManufacturers':'google',"
                                                  "'allowedDataStorageLocations':['box'],'periodBeforePinReset':'PT0S',"
                                                  "'approvedKeyboards':[{'name':'k','value':'K'}]"));
    json_array_append_new(arr, pol(CONFIG_T, "A_1", "'customSettings':[{'name':'k','value':'1'}]"));
    json_array_append_new(arr, pol(CONFIG_T, "A_2", "'customSettings':[{'name':'k','value':'2'}]"));
    json_t *out = NULL;
    int rc = RG_ENOMEM;
    long k;
    for (k = 0; rc == RG_ENOMEM && k < 100000; k++) {
        out = NULL;
        alloc_budget = k;
        json_set_alloc_funcs(failing_malloc, free);
        rc = effective_compute(&android_q, arr, &out);
        json_set_alloc_funcs(malloc, free);
        alloc_budget = -1;
        if (rc)
            assert_null(out);
    }
    assert_int_equal(rc, 0);
    assert_true(k > 10); /* the sweep did reach the inner allocations */
    assert_setting(out, "allowedAndroidDeviceManufacturers", "'Google'", "T_a", "T_b");

    struct buf b = BUF_INIT(0);
    rc = RG_ENOMEM;
    for (k = 0; rc == RG_ENOMEM && k < 100000; k++) {
        alloc_budget = k;
        json_set_alloc_funcs(failing_malloc, free);
        rc = effective_explain_lines(out, &b);
        json_set_alloc_funcs(malloc, free);
        alloc_budget = -1;
        if (rc)
            assert_int_equal(b.len, 0);
    }
    assert_int_equal(rc, 0);
    assert_non_null(
        strstr(buf_str(&b), "minimumPinLength = 6 (from policy Policy T_a [T_a]; policy Policy T_b wanted 4)\n"));
    buf_release(&b);
    json_decref(out);
    json_decref(arr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_include_exclude),
        cmocka_unit_test(test_user_in_no_group),
        cmocka_unit_test(test_all_licensed_users),
        cmocka_unit_test(test_app_list_case_insensitive),
        cmocka_unit_test(test_app_group_type),
        cmocka_unit_test(test_platform_mismatch),
        cmocka_unit_test(test_management_level),
        cmocka_unit_test(test_merge_pin_length_max),
        cmocka_unit_test(test_merge_pin_retries_min),
        cmocka_unit_test(test_merge_true_wins),
        cmocka_unit_test(test_merge_order),
        cmocka_unit_test(test_merge_action),
        cmocka_unit_test(test_merge_version_max),
        cmocka_unit_test(test_merge_version_min),
        cmocka_unit_test(test_merge_intersect_manufacturers),
        cmocka_unit_test(test_merge_intersect_storage_locations),
        cmocka_unit_test(test_merge_exemptions),
        cmocka_unit_test(test_merge_union),
        cmocka_unit_test(test_merge_threat),
        cmocka_unit_test(test_merge_durations),
        cmocka_unit_test(test_merge_first),
        cmocka_unit_test(test_targeting_is_not_a_setting),
        cmocka_unit_test(test_framework_fixtures),
        cmocka_unit_test(test_app_configurations),
        cmocka_unit_test(test_explain_lines),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
