/*
 * test_schema.c: unit tests of server/policy/schema.c: the property tables,
 * and validation of POST/PATCH bodies, including the six Intune framework
 * exports in tests/fixtures/intune-app-protection/ (a missing fixture fails).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "common/err.h"
#include "server/policy/schema.h"

/* ---- helpers ---- */

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!j)
        fail_msg("bad test JSON '%s': %s", text, jerr.text);
    return j;
}

static int validate_text(enum schema_kind kind, const char *body, bool is_patch, json_t **out, struct schema_error *err)
{
    json_t *in = parse(body);
    int rc = schema_validate(kind, in, is_patch, out, err);
    json_decref(in);
    return rc;
}

/* body must validate; returns *out (caller decrefs). */
static json_t *expect_ok(enum schema_kind kind, const char *body, bool is_patch)
{
    struct schema_error err;
    json_t *out = NULL;
    int rc = validate_text(kind, body, is_patch, &out, &err);
    if (rc != 0)
        fail_msg("expected %s to validate, got %d: property '%s': %s", body, rc, err.property, err.message);
    assert_non_null(out);
    return out;
}

static void expect_ok_discard(enum schema_kind kind, const char *body, bool is_patch)
{
    json_decref(expect_ok(kind, body, is_patch));
}

/* body must fail with RG_EINVAL on property prop, message starting with "prop: " and containing want (if any). */
static void expect_error(enum schema_kind kind, const char *body, bool is_patch, const char *prop, const char *want)
{
    struct schema_error err;
    json_t *out = (json_t *)&err; /* must come back NULL */
    int rc = validate_text(kind, body, is_patch, &out, &err);
    if (rc != RG_EINVAL)
        fail_msg("expected %s to fail on '%s', got rc %d", body, prop, rc);
    assert_null(out);
    if (strcmp(err.property, prop) != 0)
        fail_msg("%s: expected property '%s', got '%s' (%s)", body, prop, err.property, err.message);
    char prefix[160];
    snprintf(prefix, sizeof prefix, "%s: ", prop);
    char quoted[160];
    snprintf(quoted, sizeof quoted, "'%s'", prop);
    if (*prop && strncmp(err.message, prefix, strlen(prefix)) != 0 && !strstr(err.message, quoted))
        fail_msg("%s: message does not name the property: %s", body, err.message);
    if (want && !strstr(err.message, want))
        fail_msg("%s: message '%s' lacks '%s'", body, err.message, want);
}

/* A minimal valid POST body of each kind. */
static const char *minimal_post(enum schema_kind kind)
{
    switch (kind) {
    case SCHEMA_CONNECTOR: return "{}";
    case SCHEMA_USER: return "{\"displayName\": \"Ada\", \"userPrincipalName\": \"ada@contoso.com\"}";
    default: return "{\"displayName\": \"p\"}";
    }
}

static bool ignored_key(const char *key)
{
    static const char *const owned[] = {"id", "createdDateTime", "lastModifiedDateTime", "version", "isAssigned",
                                        "deployedAppCount", NULL};
    if (strstr(key, "@odata."))
        return true;
    for (const char *const *o = owned; *o; o++)
        if (strcmp(*o, key) == 0)
            return true;
    return false;
}

/* ---- fixtures ---- */

struct fixture {
    const char *file;
    enum schema_kind kind;
};

static const struct fixture fixtures[] = {
    {"level-1-enterprise-basic-data-protection-Android.json", SCHEMA_ANDROID_PROTECTION},
    {"level-1-enterprise-basic-data-protection-iOS.json", SCHEMA_IOS_PROTECTION},
    {"level-2-enterprise-enhanced-data-protection-Android.json", SCHEMA_ANDROID_PROTECTION},
    {"level-2-enterprise-enhanced-data-protection-iOS.json", SCHEMA_IOS_PROTECTION},
    {"level-3-enterprise-high-data-protection-Android.json", SCHEMA_ANDROID_PROTECTION},
    {"level-3-enterprise-high-data-protection-iOS.json", SCHEMA_IOS_PROTECTION},
};

/* Loads a fixture from the repository's tests/fixtures (RG_FIXTURES, else the folder CMake
 * compiled in); a missing fixture is a failure, not a skip. */
static json_t *load_fixture(const char *file)
{
    const char *root = getenv("RG_FIXTURES");
    if (!root || !*root)
        root = RG_FIXTURES_DIR;
    char dir[1024], path[1200];
    snprintf(dir, sizeof dir, "%s/intune-app-protection", root);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        fail_msg("fixtures not found (%s): they live in tests/fixtures", dir);
    snprintf(path, sizeof path, "%s/%s", dir, file);
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (!j)
        fail_msg("cannot load %s: %s (line %d)", path, jerr.text, jerr.line);
    return j;
}

static void test_fixture(void **state)
{
    const struct fixture *fx = *state;
    json_t *in = load_fixture(fx->file);

    enum schema_kind kind;
    assert_int_equal(schema_kind_from_odata_type(json_string_value(json_object_get(in, "@odata.type")), &kind), 0);
    assert_int_equal(kind, fx->kind);

    struct schema_error err;
    json_t *out = NULL;
    int rc = schema_validate(fx->kind, in, false, &out, &err);
    if (rc != 0)
        fail_msg("%s: POST rejected: %s", fx->file, err.message);

    /* Every property comes back with the identical JSON value. */
    size_t given = 0;
    const char *key;
    json_t *v;
    json_object_foreach(in, key, v) {
        if (ignored_key(key))
            continue;
        given++;
        if (!schema_find(fx->kind, key))
            fail_msg("%s: '%s' is not in the table", fx->file, key);
        json_t *got = json_object_get(out, key);
        if (!got || !json_equal(got, v)) {
            char *a = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT), *b = got ? json_dumps(got, JSON_ENCODE_ANY) : NULL;
            fail_msg("%s: '%s' was %s, came back %s", fx->file, key, a, b ? b : "(missing)");
        }
    }
    size_t count;
    schema_props(fx->kind, &count);
    assert_int_equal(json_object_size(out), count);
    json_decref(out);

    /* As a PATCH: exactly the given properties. */
    out = NULL;
    rc = schema_validate(fx->kind, in, true, &out, &err);
    if (rc != 0)
        fail_msg("%s: PATCH rejected: %s", fx->file, err.message);
    assert_int_equal(json_object_size(out), given);
    json_decref(out);

    /* The wrong platform's kind refuses it: @odata.type names the other one. */
    enum schema_kind other = fx->kind == SCHEMA_IOS_PROTECTION ? SCHEMA_ANDROID_PROTECTION : SCHEMA_IOS_PROTECTION;
    out = NULL;
    assert_int_equal(schema_validate(other, in, false, &out, &err), RG_EINVAL);
    assert_string_equal(err.property, "@odata.type");
    assert_null(out);
    json_decref(in);
}

/* ---- tables ---- */

static void test_table_counts(void **state)
{
    (void)state;
    static const size_t want[SCHEMA_KIND_COUNT] = {
        [SCHEMA_ANDROID_PROTECTION] = 94, [SCHEMA_IOS_PROTECTION] = 74, [SCHEMA_APP_CONFIGURATION] = 6,
        [SCHEMA_CONNECTOR] = 19,          [SCHEMA_USER] = 26,           [SCHEMA_GROUP] = 11,
    };
    for (int k = 0; k < SCHEMA_KIND_COUNT; k++) {
        size_t count = 0;
        assert_non_null(schema_props((enum schema_kind)k, &count));
        if (count != want[k])
            fail_msg("%s: %zu properties, expected %zu", schema_odata_type((enum schema_kind)k), count, want[k]);
    }
    size_t count = 42;
    assert_null(schema_props(SCHEMA_KIND_COUNT, &count));
    assert_int_equal(count, 0);
    assert_null(schema_odata_type(SCHEMA_KIND_COUNT));
}

static void test_table_invariants(void **state)
{
    (void)state;
    for (int k = 0; k < SCHEMA_KIND_COUNT; k++) {
        size_t count;
        const struct schema_prop *props = schema_props((enum schema_kind)k, &count);
        for (size_t i = 0; i < count; i++) {
            const struct schema_prop *p = &props[i];
            bool enumish = p->type == SCHEMA_T_ENUM || p->type == SCHEMA_T_FLAGS || p->type == SCHEMA_T_ENUM_LIST ||
                           p->merge == MERGE_ORDER;
            if (enumish && (!p->enum_values || !p->enum_values[0]))
                fail_msg("%s has no enum_values", p->name);
            if (!enumish && p->enum_values)
                fail_msg("%s has enum_values but is not an enum", p->name);
            for (size_t j = 0; j < i; j++)
                if (strcmp(props[j].name, p->name) == 0)
                    fail_msg("%s appears twice", p->name);
            assert_ptr_equal(schema_find((enum schema_kind)k, p->name), p);
            json_t *def = json_loads(p->default_json, JSON_DECODE_ANY, NULL);
            if (!def)
                fail_msg("%s: default_json '%s' does not parse", p->name, p->default_json);
            if (json_is_null(def) && !p->nullable)
                fail_msg("%s: default null but not nullable", p->name);
            json_decref(def);
        }
    }
}

static void test_enum_values_exact(void **state)
{
    (void)state;
    const struct schema_prop *p = schema_find(SCHEMA_ANDROID_PROTECTION, "allowedOutboundClipboardSharingLevel");
    assert_non_null(p);
    assert_int_equal(p->merge, MERGE_ORDER);
    const char *const want[] = {"blocked", "managedApps", "managedAppsWithPasteIn", "allApps", NULL};
    for (int i = 0; want[i]; i++)
        assert_string_equal(p->enum_values[i], want[i]);
    assert_null(p->enum_values[4]);

    p = schema_find(SCHEMA_IOS_PROTECTION, "allowedInboundDataTransferSources");
    assert_string_equal(p->enum_values[0], "none");
    assert_string_equal(p->enum_values[1], "managedApps");
    assert_string_equal(p->enum_values[2], "allApps");

    p = schema_find(SCHEMA_ANDROID_PROTECTION, "mobileThreatDefensePartnerPriority");
    assert_true(p->nullable);
    assert_string_equal(p->enum_values[2], "unknownFutureValue");
    expect_ok_discard(SCHEMA_ANDROID_PROTECTION, "{\"mobileThreatDefensePartnerPriority\": \"unknownFutureValue\"}",
                      true);
}

static void test_find_and_kinds(void **state)
{
    (void)state;
    const struct schema_prop *p = schema_find(SCHEMA_ANDROID_PROTECTION, "maximumAllowedDeviceThreatLevel");
    assert_non_null(p);
    assert_int_equal(p->type, SCHEMA_T_ENUM);
    assert_int_equal(p->merge, MERGE_THREAT);
    p = schema_find(SCHEMA_IOS_PROTECTION, "mobileThreatDefenseRemediationAction");
    assert_non_null(p);
    assert_int_equal(p->merge, MERGE_ACTION);
    assert_int_equal(schema_find(SCHEMA_ANDROID_PROTECTION, "targetedAppManagementLevels")->type, SCHEMA_T_FLAGS);
    assert_int_equal(schema_find(SCHEMA_ANDROID_PROTECTION, "maximumPinRetries")->merge, MERGE_MIN);
    assert_int_equal(schema_find(SCHEMA_ANDROID_PROTECTION, "minimumPinLength")->merge, MERGE_MAX);
    assert_int_equal(schema_find(SCHEMA_ANDROID_PROTECTION, "minimumRequiredPatchVersion")->merge, MERGE_VERSION_MAX);
    assert_int_equal(schema_find(SCHEMA_IOS_PROTECTION, "maximumRequiredOsVersion")->merge, MERGE_VERSION_MIN);
    assert_int_equal(schema_find(SCHEMA_IOS_PROTECTION, "disableAppPinIfDevicePinIsSet")->merge, MERGE_FALSE_WINS);
    assert_int_equal(schema_find(SCHEMA_ANDROID_PROTECTION, "allowedAndroidDeviceModels")->merge, MERGE_INTERSECT);
    assert_int_equal(schema_find(SCHEMA_ANDROID_PROTECTION, "displayName")->merge, MERGE_NONE);
    assert_null(schema_find(SCHEMA_IOS_PROTECTION, "allowedAndroidDeviceModels"));
    assert_null(schema_find(SCHEMA_ANDROID_PROTECTION, "faceIdBlocked"));
    assert_null(schema_find(SCHEMA_ANDROID_PROTECTION, "displayname"));
    assert_null(schema_find(SCHEMA_ANDROID_PROTECTION, "isAssigned"));
    assert_null(schema_find(SCHEMA_ANDROID_PROTECTION, NULL));
    assert_null(schema_find(SCHEMA_KIND_COUNT, "displayName"));
    assert_non_null(schema_find(SCHEMA_CONNECTOR, "allowPartnerToCollectIOSApplicationMetadata"));
    assert_non_null(schema_find(SCHEMA_CONNECTOR, "allowPartnerToCollectIosCertificateMetadata"));
    assert_null(schema_find(SCHEMA_CONNECTOR, "allowPartnerToCollectIosApplicationMetadata"));

    for (int k = 0; k < SCHEMA_KIND_COUNT; k++) {
        const char *t = schema_odata_type((enum schema_kind)k);
        enum schema_kind got = SCHEMA_KIND_COUNT;
        assert_non_null(t);
        assert_int_equal(t[0], '#');
        assert_int_equal(schema_kind_from_odata_type(t, &got), 0);
        assert_int_equal(got, k);
        got = SCHEMA_KIND_COUNT;
        assert_int_equal(schema_kind_from_odata_type(t + 1, &got), 0);
        assert_int_equal(got, k);
    }
    enum schema_kind got;
    assert_int_equal(schema_kind_from_odata_type("#microsoft.graph.windowsManagedAppProtection", &got), RG_ENOTFOUND);
    assert_int_equal(schema_kind_from_odata_type("", &got), RG_ENOTFOUND);
    assert_int_equal(schema_kind_from_odata_type(NULL, &got), RG_ENOTFOUND);
    assert_string_equal(schema_odata_type(SCHEMA_CONNECTOR), "#microsoft.graph.mobileThreatDefenseConnector");
}

/* ---- POST / PATCH output ---- */

static void test_post_has_every_property(void **state)
{
    (void)state;
    for (int k = 0; k < SCHEMA_KIND_COUNT; k++) {
        json_t *out = expect_ok((enum schema_kind)k, minimal_post((enum schema_kind)k), false);
        size_t count;
        const struct schema_prop *props = schema_props((enum schema_kind)k, &count);
        assert_int_equal(json_object_size(out), count);
        for (size_t i = 0; i < count; i++)
            if (!json_object_get(out, props[i].name))
                fail_msg("%s missing from POST output", props[i].name);
        json_decref(out);
    }
}

/* The defaults themselves are valid values: a POST output validates again and comes back equal. */
static void test_post_output_revalidates(void **state)
{
    (void)state;
    for (int k = 0; k < SCHEMA_KIND_COUNT; k++) {
        json_t *out = expect_ok((enum schema_kind)k, minimal_post((enum schema_kind)k), false);
        struct schema_error err;
        json_t *again = NULL;
        if (schema_validate((enum schema_kind)k, out, false, &again, &err) != 0)
            fail_msg("%s: defaults rejected: %s", schema_odata_type((enum schema_kind)k), err.message);
        assert_true(json_equal(out, again));
        json_decref(again);
        json_decref(out);
    }
}

static void test_post_defaults(void **state)
{
    (void)state;
    json_t *out = expect_ok(SCHEMA_ANDROID_PROTECTION, "{\"displayName\": \"p\"}", false);
    json_t *want = parse("{\"displayName\": \"p\", \"description\": null, \"roleScopeTagIds\": [\"0\"],"
                         " \"appGroupType\": \"selectedPublicApps\", \"targetedAppManagementLevels\": \"unspecified\","
                         " \"minimumRequiredPatchVersion\": \"0000-00-00\", \"maximumPinRetries\": 5,"
                         " \"periodOfflineBeforeAccessCheck\": \"PT12H\", \"periodOnlineBeforeAccessCheck\": \"PT30M\","
                         " \"periodOfflineBeforeWipeIsEnforced\": \"P90D\", \"pinRequired\": false,"
                         " \"allowedDataStorageLocations\": [], \"minimumRequiredOsVersion\": null,"
                         " \"maximumAllowedDeviceThreatLevel\": \"notConfigured\","
                         " \"mobileThreatDefensePartnerPriority\": null, \"fingerprintAndBiometricEnabled\": null,"
                         " \"appActionIfUnableToAuthenticateUser\": null}");
    const char *key;
    json_t *v;
    json_object_foreach(want, key, v) {
        if (!json_equal(json_object_get(out, key), v))
            fail_msg("default of %s is wrong", key);
    }
    json_decref(want);
    json_decref(out);

    out = expect_ok(SCHEMA_CONNECTOR, "{}", false);
    assert_int_equal(json_integer_value(json_object_get(out, "partnerUnresponsivenessThresholdInDays")), 7);
    assert_true(json_is_false(json_object_get(out, "androidMobileApplicationManagementEnabled")));
    json_decref(out);

    out = expect_ok(SCHEMA_USER, minimal_post(SCHEMA_USER), false);
    assert_true(json_is_true(json_object_get(out, "accountEnabled")));
    assert_true(json_is_null(json_object_get(out, "mail")));
    json_decref(out);

    out = expect_ok(SCHEMA_GROUP, "{\"displayName\": \"Sales\"}", false);
    assert_true(json_is_true(json_object_get(out, "securityEnabled")));
    assert_true(json_is_false(json_object_get(out, "mailEnabled")));
    json_decref(out);
}

static void test_patch_only_given(void **state)
{
    (void)state;
    json_t *out = expect_ok(SCHEMA_IOS_PROTECTION,
                            "{\"pinRequired\": true, \"periodBeforePinReset\": \"P365D\","
                            " \"minimumRequiredOsVersion\": \"14.8\","
                            " \"@odata.type\": \"#microsoft.graph.iosManagedAppProtection\","
                            " \"id\": \"T_1\"}",
                            true);
    assert_int_equal(json_object_size(out), 3);
    assert_string_equal(json_string_value(json_object_get(out, "periodBeforePinReset")), "P365D");
    assert_string_equal(json_string_value(json_object_get(out, "minimumRequiredOsVersion")), "14.8");
    json_decref(out);

    out = expect_ok(SCHEMA_ANDROID_PROTECTION, "{}", true);
    assert_int_equal(json_object_size(out), 0);
    json_decref(out);
}

/* Strings come back exactly as given, not normalised. */
static void test_values_round_trip(void **state)
{
    (void)state;
    const char *body = "{\"displayName\": \"  p\", \"periodOfflineBeforeAccessCheck\": \"PT720M\","
                       " \"periodBeforePinReset\": \"P365D\", \"periodOnlineBeforeAccessCheck\": \"PT0.5H\","
                       " \"minimumRequiredPatchVersion\": \"0000-00-00\","
                       " \"minimumWarningPatchVersion\": \"2024-02-29\","
                       " \"targetedAppManagementLevels\": \"unmanaged, mdm\", \"minimumRequiredOsVersion\": \"09.0\","
                       " \"customBrowserPackageId\": \"\", \"minimumWipeAppVersion\": \"\"}";
    json_t *in = parse(body);
    json_t *out = expect_ok(SCHEMA_ANDROID_PROTECTION, body, false);
    const char *key;
    json_t *v;
    json_object_foreach(in, key, v) assert_true(json_equal(json_object_get(out, key), v));
    json_decref(out);
    json_decref(in);
}

/* ---- errors ---- */

static void test_body_not_object(void **state)
{
    (void)state;
    expect_error(SCHEMA_ANDROID_PROTECTION, "[]", false, "", "JSON object");
    expect_error(SCHEMA_ANDROID_PROTECTION, "\"x\"", true, "", NULL);
    struct schema_error err;
    json_t *out;
    assert_int_equal(schema_validate(SCHEMA_ANDROID_PROTECTION, NULL, false, &out, &err), RG_EINVAL);
    assert_null(out);
}

static void test_unknown_property(void **state)
{
    (void)state;
    struct schema_error err;
    json_t *out = NULL;
    assert_int_equal(validate_text(SCHEMA_ANDROID_PROTECTION, "{\"displayName\": \"p\", \"fooBar\": 1}", false, &out,
                                   &err),
                     RG_EINVAL);
    assert_string_equal(err.property, "fooBar");
    assert_string_equal(err.message, "The property 'fooBar' does not exist on type "
                                     "'microsoft.graph.androidManagedAppProtection'. Make sure to only use property "
                                     "names that are defined by the type.");
    assert_null(out);
    /* Every problem in one message: unknown names, then bad values. */
    assert_int_equal(validate_text(SCHEMA_ANDROID_PROTECTION,
                                   "{\"fooBar\": 1, \"minimumPinLength\": 99, \"bazQux\": 2, \"pinCharacterSet\": \"x\"}", true,
                                   &out, &err),
                     RG_EINVAL);
    assert_string_equal(err.property, "fooBar");
    assert_non_null(strstr(err.message, "The properties 'fooBar', 'bazQux' do not exist"));
    assert_non_null(strstr(err.message, "minimumPinLength: "));
    assert_non_null(strstr(err.message, "pinCharacterSet: "));
    assert_string_equal(err.ignored, "");
    /* Another platform's property, and the portal's own, are accepted, not kept, and reported. */
    assert_int_equal(validate_text(SCHEMA_ANDROID_PROTECTION,
                                   "{\"faceIdBlocked\": true, \"shareWithBrowserVirtualSetting\": \"anyApp\", "
                                   "\"maximumPinRetries\": 5}",
                                   true, &out, &err),
                     0);
    assert_string_equal(err.ignored, "faceIdBlocked, shareWithBrowserVirtualSetting");
    assert_null(json_object_get(out, "faceIdBlocked"));
    assert_int_equal(json_integer_value(json_object_get(out, "maximumPinRetries")), 5);
    json_decref(out);
    assert_int_equal(validate_text(SCHEMA_IOS_PROTECTION, "{\"encryptAppData\": true}", true, &out, &err), 0);
    assert_string_equal(err.ignored, "encryptAppData");
    json_decref(out);
    /* Not on other kinds: an app configuration has no other platform. */
    expect_error(SCHEMA_APP_CONFIGURATION, "{\"faceIdBlocked\": true}", true, "faceIdBlocked", "does not exist");
    /* Navigation properties are the caller's to remove. */
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"assignments\": []}", true, "assignments", "does not exist");
    /* Case matters. */
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"PinRequired\": true}", true, "PinRequired", NULL);
    /* Server-owned names of connectors are not ignored elsewhere. */
    expect_error(SCHEMA_GROUP, "{\"partnerState\": \"enabled\"}", true, "partnerState", NULL);
}

/* Messages echo client input, clipped: they must stay valid UTF-8 (they go back as JSON strings). */
static void test_messages_stay_utf8(void **state)
{
    (void)state;
    char key[700] = "", value[720] = "";
    for (int i = 0; i < 300; i++) {
        size_t n = strlen(key);
        memcpy(key + n, "\xC3\xA9", 3); /* "é" and the NUL */
    }
    snprintf(value, sizeof value, "x%s", key); /* odd offset: a cut lands inside a sequence */
    struct schema_error err;
    json_t *in = json_object(), *out = NULL;
    json_object_set_new(in, key, json_true());
    assert_int_equal(schema_validate(SCHEMA_GROUP, in, true, &out, &err), RG_EINVAL);
    json_t *a = json_string(err.property), *b = json_string(err.message);
    assert_non_null(a);
    assert_non_null(b);
    json_decref(a);
    json_decref(b);
    json_decref(in);

    static const char *const props[] = {"pinCharacterSet", "targetedAppManagementLevels", "@odata.type", NULL};
    for (int i = 0; props[i]; i++) {
        in = json_object();
        json_object_set_new(in, props[i], json_string(value));
        assert_int_equal(schema_validate(SCHEMA_ANDROID_PROTECTION, in, true, &out, &err), RG_EINVAL);
        assert_string_equal(err.property, props[i]);
        b = json_string(err.message);
        if (!b)
            fail_msg("%s: message is not valid UTF-8", props[i]);
        json_decref(b);
        json_decref(in);
    }
}

static void test_wrong_types(void **state)
{
    (void)state;
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"pinRequired\": \"true\"}", true, "pinRequired", "true or false");
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"pinRequired\": 1}", true, "pinRequired", NULL);
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"maximumPinRetries\": 5.0}", true, "maximumPinRetries", "integer");
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"maximumPinRetries\": \"5\"}", true, "maximumPinRetries", "integer");
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"maximumPinRetries\": true}", true, "maximumPinRetries", NULL);
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"description\": 5}", true, "description", "string");
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"roleScopeTagIds\": \"0\"}", true, "roleScopeTagIds", "array");
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"roleScopeTagIds\": [0]}", true, "roleScopeTagIds", "item 0");
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"allowedAndroidDeviceModels\": {}}", true, "allowedAndroidDeviceModels",
                 "array");
    expect_error(SCHEMA_CONNECTOR, "{\"androidEnabled\": \"yes\"}", true, "androidEnabled", NULL);
    expect_error(SCHEMA_USER, "{\"accountEnabled\": null}", true, "accountEnabled", "null");

    struct schema_error err;
    json_t *out = NULL;
    assert_int_equal(validate_text(SCHEMA_ANDROID_PROTECTION, "{\"maximumPinRetries\": 0}", true, &out, &err),
                     RG_EINVAL);
    assert_string_equal(err.message, "maximumPinRetries: must be an integer from 1 to 65535");
}

static void test_int_ranges(void **state)
{
    (void)state;
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"maximumPinRetries\": 65536}", true, "maximumPinRetries", "1 to 65535");
    expect_ok_discard(SCHEMA_ANDROID_PROTECTION, "{\"maximumPinRetries\": 65535}", true);
    expect_ok_discard(SCHEMA_ANDROID_PROTECTION, "{\"maximumPinRetries\": 1}", true);
    expect_error(SCHEMA_IOS_PROTECTION, "{\"previousPinBlockCount\": 25}", true, "previousPinBlockCount", "0 to 24");
    expect_error(SCHEMA_IOS_PROTECTION, "{\"previousPinBlockCount\": -1}", true, "previousPinBlockCount", NULL);
    expect_ok_discard(SCHEMA_IOS_PROTECTION, "{\"previousPinBlockCount\": 24}", true);
    expect_error(SCHEMA_IOS_PROTECTION, "{\"minimumPinLength\": 3}", true, "minimumPinLength", "4 to 14");
    expect_error(SCHEMA_IOS_PROTECTION, "{\"minimumPinLength\": 15}", true, "minimumPinLength", NULL);
    expect_error(SCHEMA_IOS_PROTECTION, "{\"allowedOutboundClipboardSharingExceptionLength\": 65536}", true,
                 "allowedOutboundClipboardSharingExceptionLength", "0 to 65535");
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"blockAfterCompanyPortalUpdateDeferralInDays\": 366}", true,
                 "blockAfterCompanyPortalUpdateDeferralInDays", "0 to 365");
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"maximumPinRetries\": 9223372036854775807}", true, "maximumPinRetries",
                 NULL);
    expect_error(SCHEMA_CONNECTOR, "{\"partnerUnresponsivenessThresholdInDays\": 0}", true,
                 "partnerUnresponsivenessThresholdInDays", NULL);
    expect_ok_discard(SCHEMA_CONNECTOR, "{\"partnerUnresponsivenessThresholdInDays\": 30}", true);
}

static void test_enums(void **state)
{
    (void)state;
    struct schema_error err;
    json_t *out = NULL;
    assert_int_equal(validate_text(SCHEMA_ANDROID_PROTECTION, "{\"pinCharacterSet\": \"foo\"}", true, &out, &err),
                     RG_EINVAL);
    assert_string_equal(err.property, "pinCharacterSet");
    assert_string_equal(err.message,
                        "pinCharacterSet: unknown value 'foo'; expected one of alphanumericAndSymbol, numeric");
    /* Numbers are not accepted for enums, even Graph's numeric values. */
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"maximumAllowedDeviceThreatLevel\": 1}", true,
                 "maximumAllowedDeviceThreatLevel", "must be a string");
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"appActionIfDeviceComplianceRequired\": 0}", true,
                 "appActionIfDeviceComplianceRequired", NULL);
    /* Exact case. */
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"pinCharacterSet\": \"Numeric\"}", true, "pinCharacterSet", NULL);
    /* The MTD action is block or wipe only. */
    expect_error(SCHEMA_IOS_PROTECTION, "{\"mobileThreatDefenseRemediationAction\": \"warn\"}", true,
                 "mobileThreatDefenseRemediationAction", "block, wipe");
    expect_ok_discard(SCHEMA_IOS_PROTECTION, "{\"mobileThreatDefenseRemediationAction\": \"wipe\"}", true);
    expect_ok_discard(SCHEMA_ANDROID_PROTECTION,
                      "{\"appActionIfDevicePasscodeComplexityLessThanHigh\": \"blockWhenSettingIsSupported\","
                      " \"maximumAllowedDeviceThreatLevel\": \"secured\", \"dialerRestrictionLevel\": \"customApp\","
                      " \"protectedMessagingRedirectAppType\": \"specificApps\","
                      " \"managedBrowser\": \"microsoftEdge\"}",
                      true);
    expect_ok_discard(SCHEMA_IOS_PROTECTION,
                      "{\"genmojiConfigurationState\": \"blocked\", \"appDataEncryptionType\": \"afterDeviceRestart\"}",
                      true);
    expect_error(SCHEMA_APP_CONFIGURATION, "{\"appGroupType\": \"someApps\"}", true, "appGroupType", "allApps");
}

static void test_flags(void **state)
{
    (void)state;
    expect_ok_discard(SCHEMA_ANDROID_PROTECTION, "{\"targetedAppManagementLevels\": \"unmanaged,mdm\"}", true);
    expect_ok_discard(SCHEMA_ANDROID_PROTECTION, "{\"targetedAppManagementLevels\": \"unmanaged, mdm\"}", true);
    expect_ok_discard(SCHEMA_APP_CONFIGURATION, "{\"targetedAppManagementLevels\": \"androidEnterprise\"}", true);
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"targetedAppManagementLevels\": \"unmanaged,bogus\"}", true,
                 "targetedAppManagementLevels", "'bogus'");
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"targetedAppManagementLevels\": \"\"}", true,
                 "targetedAppManagementLevels", NULL);
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"targetedAppManagementLevels\": \"unmanaged,\"}", true,
                 "targetedAppManagementLevels", NULL);
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"targetedAppManagementLevels\": \",mdm\"}", true,
                 "targetedAppManagementLevels", NULL);
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"targetedAppManagementLevels\": \"unmanaged mdm\"}", true,
                 "targetedAppManagementLevels", NULL);
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"targetedAppManagementLevels\": 3}", true,
                 "targetedAppManagementLevels", "must be a string");
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"targetedAppManagementLevels\": null}", true,
                 "targetedAppManagementLevels", "null");
}

static void test_durations(void **state)
{
    (void)state;
    static const char *const bad[] = {"\"12 hours\"", "\"P\"", "\"PT\"", "\"-P1D\"", "\"P1e5D\"", "\"P0x10D\"",
                                      "\"pt30m\"", "\"PT30\"", "\"30M\"", "\"\"", "43200", "\"PT1H30H\"", NULL};
    for (int i = 0; bad[i]; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"periodOfflineBeforeAccessCheck\": %s}", bad[i]);
        expect_error(SCHEMA_ANDROID_PROTECTION, body, true, "periodOfflineBeforeAccessCheck",
                     strcmp(bad[i], "\"-P1D\"") == 0 ? "negative" : "not an ISO-8601 duration");
    }
    static const char *const good[] = {"PT12H", "PT720M", "P90D", "PT0S", "P0D", "P365D", "P1Y2M3DT4H5M6.5S", "P2W",
                                       NULL};
    for (int i = 0; good[i]; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"periodOfflineBeforeWipeIsEnforced\": \"%s\"}", good[i]);
        expect_ok_discard(SCHEMA_IOS_PROTECTION, body, true);
    }
    expect_error(SCHEMA_IOS_PROTECTION, "{\"periodOfflineBeforeWipeIsEnforced\": null}", true,
                 "periodOfflineBeforeWipeIsEnforced", "null");
    expect_ok_discard(SCHEMA_IOS_PROTECTION, "{\"gracePeriodToBlockAppsDuringOffClockHours\": null}", true);
    expect_ok_discard(SCHEMA_IOS_PROTECTION, "{\"gracePeriodToBlockAppsDuringOffClockHours\": \"PT2M4.5004762S\"}",
                      true);
}

static void test_versions(void **state)
{
    (void)state;
    static const char *const bad[] = {"\"1..2\"", "\"abc def\"", "\"1.2.\"", "\".1\"", "\"1.2.3.4.5.6.7.8.9\"", "14.8",
                                      NULL};
    for (int i = 0; bad[i]; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"minimumRequiredOsVersion\": %s}", bad[i]);
        expect_error(SCHEMA_ANDROID_PROTECTION, body, true, "minimumRequiredOsVersion", "not a version");
    }
    expect_ok_discard(SCHEMA_ANDROID_PROTECTION,
                      "{\"minimumRequiredOsVersion\": \"9.0\", \"maximumRequiredOsVersion\": \"16.4.1\","
                      " \"minimumWarningAppVersion\": \"\", \"minimumWipeCompanyPortalVersion\": \"5.0.6198.0\","
                      " \"maximumWipeOsVersion\": null}",
                      true);
    expect_error(SCHEMA_IOS_PROTECTION, "{\"minimumRequiredSdkVersion\": \"v 1\"}", true, "minimumRequiredSdkVersion",
                 NULL);
}

static void test_patch_dates(void **state)
{
    (void)state;
    static const char *const bad[] = {"\"2023-13-01\"", "\"2023-02-30\"", "\"2023-02-29\"", "\"20230101\"",
                                      "\"2023-1-1\"",   "\"\"",           "\"2023-01-00\"", "\"0000-01-01\"",
                                      "\"2023-01-01T00:00:00Z\"", "20230101", NULL};
    for (int i = 0; bad[i]; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"minimumRequiredPatchVersion\": %s}", bad[i]);
        expect_error(SCHEMA_ANDROID_PROTECTION, body, true, "minimumRequiredPatchVersion", "YYYY-MM-DD");
    }
    expect_ok_discard(SCHEMA_ANDROID_PROTECTION,
                      "{\"minimumRequiredPatchVersion\": \"2024-02-29\","
                      " \"minimumWarningPatchVersion\": \"0000-00-00\","
                      " \"minimumWipePatchVersion\": null}",
                      true);
}

static void test_null_handling(void **state)
{
    (void)state;
    static const char *const non_nullable[] = {"pinRequired", "maximumPinRetries", "pinCharacterSet",
                                               "roleScopeTagIds", "periodOfflineBeforeAccessCheck",
                                               "allowedDataStorageLocations", "approvedKeyboards", "displayName",
                                               "appActionIfDeviceComplianceRequired", "appGroupType", NULL};
    for (int i = 0; non_nullable[i]; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"%s\": null}", non_nullable[i]);
        expect_error(SCHEMA_ANDROID_PROTECTION, body, true, non_nullable[i], "must not be null");
    }
    expect_ok_discard(SCHEMA_ANDROID_PROTECTION,
                      "{\"description\": null, \"appActionIfUnableToAuthenticateUser\": null,"
                      " \"fingerprintAndBiometricEnabled\": null, \"mobileThreatDefensePartnerPriority\": null,"
                      " \"allowedAndroidDeviceManufacturers\": null, \"customDialerAppPackageId\": null,"
                      " \"pinRequiredInsteadOfBiometricTimeout\": null,"
                      " \"appActionIfSamsungKnoxAttestationRequired\": null}",
                      true);
    expect_ok_discard(SCHEMA_IOS_PROTECTION,
                      "{\"genmojiConfigurationState\": null, \"allowedIosDeviceModels\": null,"
                      " \"appActionIfAccountIsClockedOut\": null, \"messagingRedirectAppUrlScheme\": null}",
                      true);
}

static void test_strings(void **state)
{
    (void)state;
    char body[6000];
    char big[4100];
    memset(big, 'a', 4097);
    big[4097] = '\0';
    snprintf(body, sizeof body, "{\"description\": \"%s\"}", big);
    expect_error(SCHEMA_ANDROID_PROTECTION, body, true, "description", "at most 4096 bytes");
    big[4096] = '\0';
    snprintf(body, sizeof body, "{\"description\": \"%s\"}", big);
    expect_ok_discard(SCHEMA_ANDROID_PROTECTION, body, true);
    big[1025] = '\0';
    snprintf(body, sizeof body, "{\"displayName\": \"%s\"}", big);
    expect_error(SCHEMA_IOS_PROTECTION, body, false, "displayName", "at most 1024 bytes");
    big[65] = '\0';
    snprintf(body, sizeof body, "{\"displayName\": \"g\", \"mailNickname\": \"%s\"}", big);
    expect_error(SCHEMA_GROUP, body, false, "mailNickname", "at most 64 bytes");

    /* An embedded NUL (a decoder with JSON_ALLOW_NUL could produce one) is not a string we store. */
    struct schema_error err;
    json_t *in = json_object(), *out = NULL;
    json_object_set_new(in, "customBrowserPackageId", json_stringn("a\0b", 3));
    assert_int_equal(schema_validate(SCHEMA_ANDROID_PROTECTION, in, true, &out, &err), RG_EINVAL);
    assert_string_equal(err.property, "customBrowserPackageId");
    assert_null(out);
    json_decref(in);
}

static void test_lists(void **state)
{
    (void)state;
    expect_ok_discard(SCHEMA_ANDROID_PROTECTION,
                      "{\"allowedDataStorageLocations\": [\"box\", \"iManage\", \"egnyte\", \"localStorage\"],"
                      " \"allowedDataIngestionLocations\": [\"photoLibrary\"],"
                      " \"approvedKeyboards\": [{\"@odata.type\": \"microsoft.graph.keyValuePair\", \"name\": \"a\","
                      " \"value\": \"b\"}], \"exemptedAppPackages\": [{\"name\": \"Maps\", \"value\": null}],"
                      " \"allowedAndroidDeviceModels\": [\"Pixel 8\"]}",
                      true);
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"allowedDataStorageLocations\": [\"box\", \"bogus\"]}", true,
                 "allowedDataStorageLocations", "'bogus'");
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"allowedDataStorageLocations\": [\"box\", 3]}", true,
                 "allowedDataStorageLocations", "item 1");
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"allowedDataIngestionLocations\": [\"box\"]}", true,
                 "allowedDataIngestionLocations", "'box'");
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"approvedKeyboards\": [{\"value\": \"b\"}]}", true, "approvedKeyboards",
                 "\"name\" is required");
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"approvedKeyboards\": [\"com.x\"]}", true, "approvedKeyboards",
                 "item 0");
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"approvedKeyboards\": [{\"name\": \"a\", \"label\": \"b\"}]}", true,
                 "approvedKeyboards", "'label'");
    expect_error(SCHEMA_ANDROID_PROTECTION, "{\"exemptedAppPackages\": [{\"name\": 1, \"value\": \"b\"}]}", true,
                 "exemptedAppPackages", NULL);
    expect_error(SCHEMA_IOS_PROTECTION, "{\"exemptedAppProtocols\": {\"name\": \"a\", \"value\": \"b\"}}", true,
                 "exemptedAppProtocols", "array");
    expect_ok_discard(SCHEMA_APP_CONFIGURATION,
                      "{\"customSettings\": [{\"name\": \"com.microsoft.intune.mam.managedbrowser.proxy\","
                      " \"value\": \"{{userprincipalname}}\"}]}",
                      true);

    /* Bounded length. */
    struct schema_error err;
    json_t *in = json_object(), *arr = json_array(), *out = NULL;
    for (int i = 0; i < 1001; i++)
        json_array_append_new(arr, json_string("x"));
    json_object_set_new(in, "managedUniversalLinks", arr);
    assert_int_equal(schema_validate(SCHEMA_IOS_PROTECTION, in, true, &out, &err), RG_EINVAL);
    assert_string_equal(err.property, "managedUniversalLinks");
    json_decref(in);
}

static void test_display_name_required(void **state)
{
    (void)state;
    for (int k = 0; k < SCHEMA_KIND_COUNT; k++) {
        if (k == SCHEMA_CONNECTOR || k == SCHEMA_USER)
            continue;
        expect_error((enum schema_kind)k, "{}", false, "displayName", "is required");
        expect_error((enum schema_kind)k, "{\"displayName\": \"\"}", false, "displayName", "is required");
        expect_error((enum schema_kind)k, "{\"displayName\": \"  \"}", false, "displayName", "is required");
        expect_error((enum schema_kind)k, "{\"displayName\": \"\"}", true, "displayName", "empty");
        expect_ok_discard((enum schema_kind)k, "{}", true);
    }
    struct schema_error err;
    json_t *out = NULL;
    assert_int_equal(validate_text(SCHEMA_ANDROID_PROTECTION, "{\"pinRequired\": true}", false, &out, &err), RG_EINVAL);
    assert_string_equal(err.message, "displayName: is required");
    expect_ok_discard(SCHEMA_CONNECTOR, "{}", false);
    expect_error(SCHEMA_USER, "{\"userPrincipalName\": \"a@b.c\"}", false, "displayName", "is required");
}

static void test_users_and_groups(void **state)
{
    (void)state;
    expect_error(SCHEMA_USER, "{\"displayName\": \"Ada\"}", false, "userPrincipalName", "is required");
    expect_error(SCHEMA_USER, "{\"displayName\": \"Ada\", \"userPrincipalName\": \"\"}", false, "userPrincipalName",
                 "is required");
    static const char *const bad_upn[] = {"ada", "@contoso.com", "ada@", "a@b@c", "ada lovelace@contoso.com", NULL};
    for (int i = 0; bad_upn[i]; i++) {
        char body[160];
        snprintf(body, sizeof body, "{\"displayName\": \"Ada\", \"userPrincipalName\": \"%s\"}", bad_upn[i]);
        expect_error(SCHEMA_USER, body, false, "userPrincipalName", "alias@domain");
    }
    expect_error(SCHEMA_USER, "{\"userPrincipalName\": \"nope\"}", true, "userPrincipalName", NULL);
    expect_error(SCHEMA_USER, "{\"mail\": \"nope\"}", true, "mail", "email");
    expect_ok_discard(SCHEMA_USER, "{\"mail\": null, \"accountEnabled\": false}", true);
    json_t *out = expect_ok(SCHEMA_USER,
                            "{\"id\": \"8d1c\", \"displayName\": \"Ada\", \"userPrincipalName\": \"ada@contoso.com\","
                            " \"mail\": \"ada@contoso.com\", \"@odata.type\": \"microsoft.graph.user\"}",
                            false);
    assert_int_equal(json_object_size(out), 26); /* every user property, defaults for the unset ones */
    assert_null(json_object_get(out, "id"));
    json_decref(out);

    expect_error(SCHEMA_GROUP, "{\"description\": \"x\"}", false, "displayName", "is required");
    expect_ok_discard(SCHEMA_GROUP,
                      "{\"displayName\": \"Sales\", \"mailNickname\": \"sales\", \"securityEnabled\": true,"
                      " \"mailEnabled\": false, \"description\": null}",
                      false);
    expect_error(SCHEMA_GROUP, "{\"securityEnabled\": \"true\"}", true, "securityEnabled", NULL);
}

static void test_connector(void **state)
{
    (void)state;
    json_t *out = expect_ok(SCHEMA_CONNECTOR,
                            "{\"@odata.type\": \"#microsoft.graph.mobileThreatDefenseConnector\","
                            " \"id\": \"fc780465-2017-40d4-a0c5-307022471b92\", \"partnerState\": \"enabled\","
                            " \"lastHeartbeatDateTime\": \"2024-01-02T03:04:05Z\","
                            " \"androidMobileApplicationManagementEnabled\": true,"
                            " \"allowPartnerToCollectIOSApplicationMetadata\": true,"
                            " \"allowPartnerToCollectIosPersonalCertificateMetadata\": true}",
                            false);
    assert_null(json_object_get(out, "partnerState"));
    assert_null(json_object_get(out, "lastHeartbeatDateTime"));
    assert_true(json_is_true(json_object_get(out, "androidMobileApplicationManagementEnabled")));
    assert_true(json_is_true(json_object_get(out, "allowPartnerToCollectIosPersonalCertificateMetadata")));
    json_decref(out);
    expect_error(SCHEMA_CONNECTOR, "{\"displayName\": \"x\"}", false, "displayName",
                 "does not exist on type 'microsoft.graph.mobileThreatDefenseConnector'");
    expect_error(SCHEMA_CONNECTOR, "{\"allowPartnerToCollectIosApplicationMetadata\": true}", true,
                 "allowPartnerToCollectIosApplicationMetadata", "does not exist");
}

static void test_odata_type(void **state)
{
    (void)state;
    expect_ok_discard(SCHEMA_ANDROID_PROTECTION,
                      "{\"@odata.type\": \"#microsoft.graph.androidManagedAppProtection\", \"displayName\": \"p\"}",
                      false);
    expect_ok_discard(SCHEMA_ANDROID_PROTECTION,
                      "{\"@odata.type\": \"microsoft.graph.androidManagedAppProtection\", \"displayName\": \"p\"}",
                      false);
    expect_error(SCHEMA_ANDROID_PROTECTION,
                 "{\"@odata.type\": \"#microsoft.graph.iosManagedAppProtection\", \"displayName\": \"p\"}", false,
                 "@odata.type", "expected #microsoft.graph.androidManagedAppProtection");
    expect_error(SCHEMA_APP_CONFIGURATION, "{\"@odata.type\": \"#microsoft.graph.nothing\"}", true, "@odata.type",
                 NULL);
    expect_error(SCHEMA_GROUP, "{\"@odata.type\": 5}", true, "@odata.type", "string");
}

static void test_annotations_and_server_owned(void **state)
{
    (void)state;
    json_t *out = expect_ok(
        SCHEMA_IOS_PROTECTION,
        "{\"@odata.context\":"
        " \"https://graph.microsoft.com/beta/$metadata#deviceAppManagement/iosManagedAppProtections/$entity\","
        " \"@odata.id\": \"deviceAppManagement/iosManagedAppProtections('T_1')\", \"@odata.etag\": 5,"
        " \"id\": \"T_e655f25b-6797-4dfa-9ecb-3c5831519219\", \"createdDateTime\": \"2021-06-04T08:57:57.775389Z\","
        " \"lastModifiedDateTime\": \"garbage is fine, it is ignored\", \"version\": \"\\\"4900bdbc\\\"\","
        " \"isAssigned\": true, \"deployedAppCount\": 31, \"displayName\": \"p\","
        " \"periodOfflineBeforeAccessCheck\": \"PT12H\", \"periodOfflineBeforeAccessCheck@odata.type\": \"#Duration\","
        " \"roleScopeTagIds@odata.type\": \"#Collection(String)\", \"roleScopeTagIds\": [\"0\", \"7\"],"
        " \"pinCharacterSet@odata.type\": \"#microsoft.graph.managedAppPinCharacterSet\","
        " \"assignments@odata.context\": \"x\", \"apps@odata.navigationLink\": \"y\"}",
        false);
    size_t count;
    schema_props(SCHEMA_IOS_PROTECTION, &count);
    assert_int_equal(json_object_size(out), count);
    assert_null(json_object_get(out, "id"));
    assert_null(json_object_get(out, "isAssigned"));
    assert_null(json_object_get(out, "@odata.context"));
    assert_null(json_object_get(out, "periodOfflineBeforeAccessCheck@odata.type"));
    assert_int_equal(json_array_size(json_object_get(out, "roleScopeTagIds")), 2);
    json_decref(out);
}

static void test_null_err_is_tolerated(void **state)
{
    (void)state;
    json_t *in = parse("{\"nope\": 1}"), *out = NULL;
    assert_int_equal(schema_validate(SCHEMA_GROUP, in, true, &out, NULL), RG_EINVAL);
    assert_null(out);
    json_decref(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_fixture, (void *)&fixtures[0]),
        cmocka_unit_test_prestate(test_fixture, (void *)&fixtures[1]),
        cmocka_unit_test_prestate(test_fixture, (void *)&fixtures[2]),
        cmocka_unit_test_prestate(test_fixture, (void *)&fixtures[3]),
        cmocka_unit_test_prestate(test_fixture, (void *)&fixtures[4]),
        cmocka_unit_test_prestate(test_fixture, (void *)&fixtures[5]),
        cmocka_unit_test(test_table_counts),
        cmocka_unit_test(test_table_invariants),
        cmocka_unit_test(test_enum_values_exact),
        cmocka_unit_test(test_find_and_kinds),
        cmocka_unit_test(test_post_has_every_property),
        cmocka_unit_test(test_post_output_revalidates),
        cmocka_unit_test(test_post_defaults),
        cmocka_unit_test(test_patch_only_given),
        cmocka_unit_test(test_values_round_trip),
        cmocka_unit_test(test_body_not_object),
        cmocka_unit_test(test_unknown_property),
        cmocka_unit_test(test_messages_stay_utf8),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_int_ranges),
        cmocka_unit_test(test_enums),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_patch_dates),
        cmocka_unit_test(test_null_handling),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_display_name_required),
        cmocka_unit_test(test_users_and_groups),
        cmocka_unit_test(test_connector),
        cmocka_unit_test(test_odata_type),
        cmocka_unit_test(test_annotations_and_server_owned),
        cmocka_unit_test(test_null_err_is_tolerated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
