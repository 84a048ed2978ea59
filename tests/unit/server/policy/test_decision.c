/*
 * test_decision.c: unit tests of server/policy/decision.c: every
 * conditional-launch row (pass, warn, block, wipe, unknown facts skip), the
 * threat row for every signal reason and level, precedence (action, then the
 * per-platform order), the dialog texts and failing allocations.
 *
 * Settings are written flat with single quotes, S("{'maximumPinRetries':5}"),
 * and wrapped into effective_compute()'s {"value": ..., "from": ...} shape.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/err.h"
#include "server/policy/decision.h"
#include "server/threat/threat.h"

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

/* Effective settings from a flat {"property": value} literal. */
static json_t *S(const char *flat)
{
    json_t *in = J(flat), *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(in, k, v) {
        json_object_set_new(out, k, json_pack("{s:O,s:s,s:s,s:[]}", "value", v, "from", "T_1", "fromName", "P1",
                                              "others"));
    }
    json_decref(in);
    return out;
}

static struct decision_facts android_facts(void)
{
    struct decision_facts f = {"android", "5.0", "1.0", "14", "2024-05-01", "Pixel 8", "Google", 0, 0, 0, 1};
    return f;
}

static struct decision_facts ios_facts(void)
{
    struct decision_facts f = {"ios", "5.0", "1.0", "17.4", NULL, "iPhone15,2", "Apple", 0, 0, 0, 1};
    return f;
}

static struct threat_signal sig_level(const char *level)
{
    struct threat_signal s;
    memset(&s, 0, sizeof s);
    s.present = 1;
    snprintf(s.level, sizeof s.level, "%s", level);
    snprintf(s.partner, sizeof s.partner, "fc780465-2017-40d4-a0c5-307022471b92");
    return s;
}

static struct threat_signal sig_missing(const char *reason)
{
    struct threat_signal s;
    memset(&s, 0, sizeof s);
    s.reason = reason;
    return s;
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/*
 * Evaluates and checks the invariants every decision keeps: the shape, a
 * text for the reason code whose action is the decision's, well-formed
 * "evaluated" entries (reasonCode exactly on failures).
 */
static json_t *run_full(const json_t *settings, const struct decision_facts *f, const struct threat_signal *sig,
                        const json_t *links)
{
    json_t *d = NULL;
    assert_int_equal(decision_evaluate(settings, f, sig, links, &d), 0);
    assert_non_null(d);
    const char *title, *message, *remedy;
    const char *act = decision_text(str(d, "reasonCode"), &title, &message, &remedy);
    assert_non_null(act);
    assert_string_equal(act, str(d, "action"));
    assert_non_null(str(d, "title"));
    assert_non_null(str(d, "message"));
    assert_non_null(str(d, "remedy"));
    assert_true(json_is_array(json_object_get(d, "warnings")));
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(d, "warnings"), i, e) {
        const char *wa = decision_text(str(e, "reasonCode"), NULL, NULL, NULL);
        assert_non_null(wa);
        assert_string_equal(wa, "warn");
        assert_non_null(str(e, "title"));
        assert_non_null(str(e, "message"));
    }
    json_array_foreach(json_object_get(d, "evaluated"), i, e) {
        assert_non_null(str(e, "row"));
        assert_non_null(str(e, "property"));
        assert_non_null(str(e, "action"));
        assert_non_null(str(e, "detail"));
        const char *r = str(e, "result");
        assert_true(!strcmp(r, "pass") || !strcmp(r, "fail") || !strcmp(r, "skip"));
        assert_int_equal(!strcmp(r, "fail"), str(e, "reasonCode") != NULL);
        if (str(e, "reasonCode"))
            assert_non_null(decision_text(str(e, "reasonCode"), NULL, NULL, NULL));
    }
    return d;
}

static json_t *run(const char *flat, const struct decision_facts *f, const struct threat_signal *sig)
{
    json_t *s = S(flat);
    json_t *d = run_full(s, f, sig, NULL);
    json_decref(s);
    return d;
}

/* The decision's action and reason code, then frees it. */
static void expect(json_t *d, const char *action, const char *reason)
{
    if (strcmp(str(d, "action"), action) || strcmp(str(d, "reasonCode"), reason)) {
        char *dump = json_dumps(d, JSON_INDENT(1));
        print_error("decision: %s\n", dump);
        free(dump);
    }
    assert_string_equal(str(d, "action"), action);
    assert_string_equal(str(d, "reasonCode"), reason);
    json_decref(d);
}

static void expect_run(const char *flat, const struct decision_facts *f, const struct threat_signal *sig,
                       const char *action, const char *reason)
{
    expect(run(flat, f, sig), action, reason);
}

/* The "evaluated" entry of a property (the only one expected). */
static const json_t *evaluated(const json_t *d, const char *prop)
{
    size_t i;
    const json_t *e, *found = NULL;
    json_array_foreach(json_object_get(d, "evaluated"), i, e) {
        if (!strcmp(str(e, "property"), prop)) {
            assert_null(found);
            found = e;
        }
    }
    return found;
}

static void expect_result(const json_t *d, const char *prop, const char *result)
{
    const json_t *e = evaluated(d, prop);
    if (!e)
        fail_msg("%s not evaluated", prop);
    assert_string_equal(str(e, "result"), result);
}

static size_t warning_count(const json_t *d)
{
    return json_array_size(json_object_get(d, "warnings"));
}

static const char *warning_at(const json_t *d, size_t i)
{
    return str(json_array_get(json_object_get(d, "warnings"), i), "reasonCode");
}

/* ---------- no policy ---------- */

static void test_no_settings_allows(void **state)
{
    (void)state;
    struct decision_facts f = DECISION_FACTS_INIT;
    json_t *d = run_full(NULL, &f, NULL, NULL);
    assert_int_equal(json_array_size(json_object_get(d, "evaluated")), 0);
    assert_int_equal(warning_count(d), 0);
    assert_null(json_object_get(d, "link"));
    assert_string_equal(str(d, "remedy"), "");
    expect(d, "allow", "allowed");

    /* settings with no conditional-launch property: allow, nothing evaluated */
    d = run("{'pinRequired':true,'periodOnlineBeforeAccessCheck':'PT30M'}", &f, NULL);
    assert_int_equal(json_array_size(json_object_get(d, "evaluated")), 0);
    expect(d, "allow", "allowed");
}

/* ---------- version rows ---------- */

#define MIN_OS "{'minimumWarningOsVersion':'15','minimumRequiredOsVersion':'14','minimumWipeOsVersion':'12'}"

static void test_min_os_version(void **state)
{
    (void)state;
    struct decision_facts f = android_facts();
    f.os_version = "16";
    json_t *d = run(MIN_OS, &f, NULL);
    expect_result(d, "minimumWarningOsVersion", "pass");
    expect_result(d, "minimumRequiredOsVersion", "pass");
    expect_result(d, "minimumWipeOsVersion", "pass");
    expect(d, "allow", "allowed");

    f.os_version = "15.0"; /* equal is not below */
    expect_run(MIN_OS, &f, NULL, "allow", "allowed");

    f.os_version = "14.1";
    d = run(MIN_OS, &f, NULL);
    assert_int_equal(warning_count(d), 1);
    assert_string_equal(warning_at(d, 0), "minOsVersionWarning");
    expect(d, "warn", "minOsVersionWarning");

    f.os_version = "13"; /* below required and warning: block, still warned */
    d = run(MIN_OS, &f, NULL);
    expect_result(d, "minimumRequiredOsVersion", "fail");
    expect_result(d, "minimumWipeOsVersion", "pass");
    assert_int_equal(warning_count(d), 1);
    expect(d, "block", "minOsVersion");

    f.os_version = "12.0.1"; /* above the wipe version */
    expect_run(MIN_OS, &f, NULL, "block", "minOsVersion");
    f.os_version = "12"; /* at or below minimumWipe */
    expect_run(MIN_OS, &f, NULL, "wipe", "minOsVersionWipe");
    f.os_version = "11.4";
    expect_run(MIN_OS, &f, NULL, "wipe", "minOsVersionWipe");

    /* unknown or unreadable facts skip */
    f.os_version = NULL;
    d = run(MIN_OS, &f, NULL);
    expect_result(d, "minimumRequiredOsVersion", "skip");
    expect_result(d, "minimumWipeOsVersion", "skip");
    expect(d, "allow", "allowed");
    f.os_version = "14 beta!";
    d = run(MIN_OS, &f, NULL);
    expect_result(d, "minimumRequiredOsVersion", "skip");
    expect(d, "allow", "allowed");

    /* iOS uses the same row */
    struct decision_facts fi = ios_facts();
    fi.os_version = "13.7";
    expect_run(MIN_OS, &fi, NULL, "block", "minOsVersion");

    /* null and empty values are unset: not evaluated */
    f.os_version = "10";
    d = run("{'minimumRequiredOsVersion':null,'minimumWarningOsVersion':''}", &f, NULL);
    assert_int_equal(json_array_size(json_object_get(d, "evaluated")), 0);
    expect(d, "allow", "allowed");
}

#define MAX_OS "{'maximumWarningOsVersion':'17','maximumRequiredOsVersion':'18','maximumWipeOsVersion':'19'}"

static void test_max_os_version(void **state)
{
    (void)state;
    struct decision_facts f = ios_facts();
    f.os_version = "17";
    expect_run(MAX_OS, &f, NULL, "allow", "allowed");
    f.os_version = "17.0.1";
    expect_run(MAX_OS, &f, NULL, "warn", "maxOsVersionWarning");
    f.os_version = "18";
    expect_run(MAX_OS, &f, NULL, "warn", "maxOsVersionWarning");
    f.os_version = "18.1";
    json_t *d = run(MAX_OS, &f, NULL);
    assert_int_equal(warning_count(d), 1);
    expect(d, "block", "maxOsVersion");
    f.os_version = "19"; /* not above the wipe version */
    expect_run(MAX_OS, &f, NULL, "block", "maxOsVersion");
    f.os_version = "19.0.1";
    expect_run(MAX_OS, &f, NULL, "wipe", "maxOsVersionWipe");
    f.os_version = NULL;
    d = run(MAX_OS, &f, NULL);
    expect_result(d, "maximumWipeOsVersion", "skip");
    expect(d, "allow", "allowed");
}

#define MIN_APP "{'minimumWarningAppVersion':'5.2','minimumRequiredAppVersion':'5.0','minimumWipeAppVersion':'4.1'}"

static void test_min_app_version(void **state)
{
    (void)state;
    struct decision_facts f = android_facts();
    f.app_version = "5.10"; /* numeric segments: 5.10 > 5.2 */
    expect_run(MIN_APP, &f, NULL, "allow", "allowed");
    f.app_version = "5.1.9";
    expect_run(MIN_APP, &f, NULL, "warn", "minAppVersionWarning");
    f.app_version = "4.9";
    expect_run(MIN_APP, &f, NULL, "block", "minAppVersion");
    f.app_version = "4.1.0"; /* equal to the wipe version */
    expect_run(MIN_APP, &f, NULL, "wipe", "minAppVersionWipe");
    f.app_version = NULL;
    json_t *d = run(MIN_APP, &f, NULL);
    expect_result(d, "minimumWarningAppVersion", "skip");
    expect(d, "allow", "allowed");
}

#define MIN_SDK "{'minimumWarningSdkVersion':'2.0','minimumRequiredSdkVersion':'1.5','minimumWipeSdkVersion':'1.0'}"

static void test_min_sdk_version(void **state)
{
    (void)state;
    struct decision_facts f = ios_facts();
    f.sdk_version = "2.0.0";
    expect_run(MIN_SDK, &f, NULL, "allow", "allowed");
    f.sdk_version = "1.9";
    expect_run(MIN_SDK, &f, NULL, "warn", "minSdkVersionWarning");
    f.sdk_version = "1.4";
    expect_run(MIN_SDK, &f, NULL, "block", "minSdkVersion");
    f.sdk_version = "0.9";
    expect_run(MIN_SDK, &f, NULL, "wipe", "minSdkVersionWipe");
    f.sdk_version = NULL;
    expect_run(MIN_SDK, &f, NULL, "allow", "allowed");

    /* an iOS-only row on Android: skipped */
    struct decision_facts fa = android_facts();
    fa.sdk_version = "0.1";
    json_t *d = run(MIN_SDK, &fa, NULL);
    expect_result(d, "minimumRequiredSdkVersion", "skip");
    expect(d, "allow", "allowed");
}

#define MIN_PATCH                                                                                                      \
    "{'minimumWarningPatchVersion':'2024-06-01','minimumRequiredPatchVersion':'2024-03-01',"                           \
    "'minimumWipePatchVersion':'2023-01-01'}"

static void test_min_patch_version(void **state)
{
    (void)state;
    struct decision_facts f = android_facts();
    f.patch_level = "2024-06-01";
    expect_run(MIN_PATCH, &f, NULL, "allow", "allowed");
    f.patch_level = "2024-05-05";
    expect_run(MIN_PATCH, &f, NULL, "warn", "minPatchVersionWarning");
    f.patch_level = "2024-02-05";
    expect_run(MIN_PATCH, &f, NULL, "block", "minPatchVersion");
    f.patch_level = "2023-01-01";
    expect_run(MIN_PATCH, &f, NULL, "wipe", "minPatchVersionWipe");
    f.patch_level = NULL;
    expect_run(MIN_PATCH, &f, NULL, "allow", "allowed");
    f.patch_level = "May 2024"; /* not YYYY-MM-DD: unknown */
    json_t *d = run(MIN_PATCH, &f, NULL);
    expect_result(d, "minimumRequiredPatchVersion", "skip");
    expect(d, "allow", "allowed");

    /* "0000-00-00" is unset */
    f.patch_level = "2020-01-01";
    d = run("{'minimumRequiredPatchVersion':'0000-00-00'}", &f, NULL);
    assert_null(evaluated(d, "minimumRequiredPatchVersion"));
    expect(d, "allow", "allowed");

    /* Android only */
    struct decision_facts fi = ios_facts();
    fi.patch_level = "2020-01-01";
    d = run(MIN_PATCH, &fi, NULL);
    expect_result(d, "minimumWipePatchVersion", "skip");
    expect(d, "allow", "allowed");
}

/* ---------- allow lists ---------- */

static void test_manufacturers(void **state)
{
    (void)state;
    struct decision_facts f = android_facts();
    const char *list = "{'allowedAndroidDeviceManufacturers':'Google; Samsung'}";
    f.manufacturer = "google";
    json_t *d = run(list, &f, NULL);
    expect_result(d, "allowedAndroidDeviceManufacturers", "pass");
    expect(d, "allow", "allowed");
    f.manufacturer = "SAMSUNG ";
    expect_run(list, &f, NULL, "allow", "allowed");
    f.manufacturer = "Xiaomi";
    d = run(list, &f, NULL);
    /* the action property is absent: its default, block */
    assert_string_equal(str(evaluated(d, "allowedAndroidDeviceManufacturers"), "action"), "block");
    expect(d, "block", "manufacturerNotAllowed");
    f.manufacturer = "Goo"; /* whole names only */
    expect_run(list, &f, NULL, "block", "manufacturerNotAllowed");
    expect_run("{'allowedAndroidDeviceManufacturers':'Google;Samsung',"
               "'appActionIfAndroidDeviceManufacturerNotAllowed':'wipe'}",
               &f, NULL, "wipe", "manufacturerNotAllowedWipe");
    f.manufacturer = NULL;
    d = run(list, &f, NULL);
    expect_result(d, "allowedAndroidDeviceManufacturers", "skip");
    expect(d, "allow", "allowed");

    /* two policies' lists intersected by effective_compute (Google;Samsung & google = Google) */
    f.manufacturer = "GOOGLE";
    expect_run("{'allowedAndroidDeviceManufacturers':'Google'}", &f, NULL, "allow", "allowed");
    f.manufacturer = "Samsung";
    expect_run("{'allowedAndroidDeviceManufacturers':'Google'}", &f, NULL, "block", "manufacturerNotAllowed");

    /* an intersection with nothing in common allows nothing */
    json_t *s = S("{'allowedAndroidDeviceManufacturers':''}");
    json_object_set_new(json_object_get(s, "allowedAndroidDeviceManufacturers"), "nothingAllowed", json_true());
    f.manufacturer = "Google";
    expect(run_full(s, &f, NULL, NULL), "block", "manufacturerNotAllowed");
    json_decref(s);

    /* an empty list (no nothingAllowed) restricts nothing */
    d = run("{'allowedAndroidDeviceManufacturers':''}", &f, NULL);
    assert_null(evaluated(d, "allowedAndroidDeviceManufacturers"));
    expect(d, "allow", "allowed");
}

static void test_models(void **state)
{
    (void)state;
    struct decision_facts f = android_facts();
    const char *alist = "{'allowedAndroidDeviceModels':['Pixel 8','SM-G991B'],"
                        "'appActionIfAndroidDeviceModelNotAllowed':'block'}";
    f.model = "pixel 8";
    expect_run(alist, &f, NULL, "allow", "allowed");
    f.model = "Pixel 7";
    expect_run(alist, &f, NULL, "block", "deviceModelNotAllowed");
    expect_run("{'allowedAndroidDeviceModels':['Pixel 8'],'appActionIfAndroidDeviceModelNotAllowed':'wipe'}", &f,
               NULL, "wipe", "deviceModelNotAllowedWipe");
    f.model = NULL;
    json_t *d = run(alist, &f, NULL);
    expect_result(d, "allowedAndroidDeviceModels", "skip");
    expect(d, "allow", "allowed");
    f.model = "Anything";
    d = run("{'allowedAndroidDeviceModels':[]}", &f, NULL);
    assert_null(evaluated(d, "allowedAndroidDeviceModels"));
    expect(d, "allow", "allowed");

    struct decision_facts fi = ios_facts();
    const char *ilist = "{'allowedIosDeviceModels':'iPhone15,2;iPhone14,5',"
                        "'appActionIfIosDeviceModelNotAllowed':'block'}";
    fi.model = "iphone14,5";
    expect_run(ilist, &fi, NULL, "allow", "allowed");
    fi.model = "iPhone12,1";
    expect_run(ilist, &fi, NULL, "block", "deviceModelNotAllowed");
    expect_run("{'allowedIosDeviceModels':'iPhone15,2','appActionIfIosDeviceModelNotAllowed':'wipe'}", &fi, NULL,
               "wipe", "deviceModelNotAllowedWipe");
    /* the iOS list on an Android device: skipped */
    d = run(ilist, &f, NULL);
    expect_result(d, "allowedIosDeviceModels", "skip");
    expect(d, "allow", "allowed");
}

/* ---------- device, PIN and account rows ---------- */

static void test_rooted(void **state)
{
    (void)state;
    struct decision_facts f = android_facts();
    const char *on = "{'deviceComplianceRequired':true,'appActionIfDeviceComplianceRequired':'block'}";
    f.rooted = 0;
    json_t *d = run(on, &f, NULL);
    expect_result(d, "deviceComplianceRequired", "pass");
    expect(d, "allow", "allowed");
    f.rooted = 1;
    d = run(on, &f, NULL);
    assert_string_equal(str(d, "title"), "Device noncompliant");
    assert_string_equal(str(d, "message"),
                        "This app can't be used because you are using a rooted device. Contact your IT "
                        "administrator for help.");
    expect(d, "block", "deviceRooted");
    expect_run("{'deviceComplianceRequired':true,'appActionIfDeviceComplianceRequired':'wipe'}", &f, NULL, "wipe",
               "deviceRootedWipe");
    /* off: not evaluated */
    d = run("{'deviceComplianceRequired':false,'appActionIfDeviceComplianceRequired':'wipe'}", &f, NULL);
    assert_null(evaluated(d, "deviceComplianceRequired"));
    expect(d, "allow", "allowed");
    /* unknown: skip (documented in decision.h) */
    f.rooted = -1;
    d = run(on, &f, NULL);
    expect_result(d, "deviceComplianceRequired", "skip");
    expect(d, "allow", "allowed");

    struct decision_facts fi = ios_facts();
    fi.rooted = 1;
    d = run(on, &fi, NULL);
    assert_string_equal(str(d, "title"), "Device Non-Compliant");
    assert_string_equal(str(d, "message"), "This app cannot be used because you are using a jailbroken device. "
                                           "Contact your IT administrator for help.");
    expect(d, "block", "deviceJailbroken");
    expect_run("{'deviceComplianceRequired':true,'appActionIfDeviceComplianceRequired':'wipe'}", &fi, NULL, "wipe",
               "deviceJailbrokenWipe");
}

/* Actions a block/wipe row does not offer are enforced as block; blockWhenSettingIsSupported is block. */
static void test_action_normalization(void **state)
{
    (void)state;
    struct decision_facts f = android_facts();
    f.rooted = 1;
    json_t *d = run("{'deviceComplianceRequired':true,'appActionIfDeviceComplianceRequired':'warn'}", &f, NULL);
    assert_non_null(strstr(str(evaluated(d, "deviceComplianceRequired"), "detail"), "enforced as block"));
    expect(d, "block", "deviceRooted");
    expect_run("{'deviceComplianceRequired':true,'appActionIfDeviceComplianceRequired':'blockWhenSettingIsSupported'}",
               &f, NULL, "block", "deviceRooted");
    expect_run("{'deviceComplianceRequired':true,'appActionIfDeviceComplianceRequired':'unknownFutureValue'}", &f,
               NULL, "block", "deviceRooted");
    expect_run("{'deviceComplianceRequired':true}", &f, NULL, "block", "deviceRooted"); /* Graph default */
}

static void test_pin_attempts(void **state)
{
    (void)state;
    struct decision_facts f = android_facts();
    const char *five = "{'maximumPinRetries':5,'appActionIfMaximumPinRetriesExceeded':'block'}";
    f.pin_failures = 4;
    json_t *d = run(five, &f, NULL);
    expect_result(d, "maximumPinRetries", "pass");
    expect(d, "allow", "allowed");
    f.pin_failures = 5;
    d = run(five, &f, NULL);
    assert_string_equal(str(d, "title"), "Reset PIN");
    expect(d, "block", "pinRetriesExceeded");
    f.pin_failures = 9;
    expect_run("{'maximumPinRetries':5,'appActionIfMaximumPinRetriesExceeded':'wipe'}", &f, NULL, "wipe",
               "pinRetriesExceededWipe");
    expect_run("{'maximumPinRetries':5}", &f, NULL, "block", "pinRetriesExceeded");
    f.pin_failures = -1;
    d = run(five, &f, NULL);
    expect_result(d, "maximumPinRetries", "skip");
    expect(d, "allow", "allowed");
}

static void test_disabled_account(void **state)
{
    (void)state;
    struct decision_facts f = android_facts();
    const char *blk = "{'appActionIfUnableToAuthenticateUser':'block'}";
    f.account_disabled = 0;
    json_t *d = run(blk, &f, NULL);
    expect_result(d, "appActionIfUnableToAuthenticateUser", "pass");
    expect(d, "allow", "allowed");
    f.account_disabled = 1;
    expect_run(blk, &f, NULL, "block", "accountDisabled");
    expect_run("{'appActionIfUnableToAuthenticateUser':'wipe'}", &f, NULL, "wipe", "accountDisabledWipe");
    /* null: the row is off */
    d = run("{'appActionIfUnableToAuthenticateUser':null}", &f, NULL);
    assert_int_equal(json_array_size(json_object_get(d, "evaluated")), 0);
    expect(d, "allow", "allowed");
    f.account_disabled = -1;
    d = run(blk, &f, NULL);
    expect_result(d, "appActionIfUnableToAuthenticateUser", "skip");
    expect(d, "allow", "allowed");
}

/* ---------- threat row ---------- */

static void test_threat_levels(void **state)
{
    (void)state;
    static const char *const levels[] = {"secured", "low", "medium", "high"};
    struct decision_facts f = android_facts();
    char flat[200];
    for (int m = 0; m < 4; m++) {
        for (int r = 0; r < 4; r++) {
            struct threat_signal s = sig_level(levels[r]);
            bool over = r > m;
            snprintf(flat, sizeof flat,
                     "{'maximumAllowedDeviceThreatLevel':'%s','mobileThreatDefenseRemediationAction':'block'}",
                     levels[m]);
            json_t *d = run(flat, &f, &s);
            expect_result(d, "maximumAllowedDeviceThreatLevel", over ? "fail" : "pass");
            if (over) {
                assert_string_equal(str(d, "title"), "Access blocked");
                assert_non_null(strstr(str(d, "remedy"), "remove the threat"));
            }
            expect(d, over ? "block" : "allow", over ? "threatLevelTooHigh" : "allowed");
            snprintf(flat, sizeof flat,
                     "{'maximumAllowedDeviceThreatLevel':'%s','mobileThreatDefenseRemediationAction':'wipe'}",
                     levels[m]);
            expect_run(flat, &f, &s, over ? "wipe" : "allow", over ? "threatLevelTooHighWipe" : "allowed");
        }
    }
    /* the remediation action absent: block */
    struct threat_signal s = sig_level("medium");
    expect_run("{'maximumAllowedDeviceThreatLevel':'low'}", &f, &s, "block", "threatLevelTooHigh");
}

static void test_threat_high_needs_signal(void **state)
{
    (void)state;
    const char *high = "{'maximumAllowedDeviceThreatLevel':'high','mobileThreatDefenseRemediationAction':'block'}";
    struct decision_facts f = android_facts();
    struct threat_signal s = sig_level("high");
    expect_run(high, &f, &s, "allow", "allowed");
    s = sig_missing("agentNotActivated");
    expect_run(high, &f, &s, "block", "agentNotActivated");
    f.agent_installed = -1;
    expect_run(high, &f, NULL, "block", "threatSignalMissing"); /* no signal obtained at all */
    f.agent_installed = 0;
    expect_run(high, &f, NULL, "block", "agentNotInstalled");
}

static void test_agent_seen_not_activated(void **state)
{
    (void)state;
    struct decision_facts f = android_facts();
    f.agent_installed = 1;
    struct threat_signal s = sig_missing("noAgent");
    expect(run("{'maximumAllowedDeviceThreatLevel':'secured','mobileThreatDefenseRemediationAction':'block'}", &f, &s),
           "block", "agentNotActivated");
}

static void test_threat_connector_off_ignored(void **state)
{
    (void)state;
    struct decision_facts f = android_facts();
    struct threat_signal s = sig_missing("connectorOff");
    json_t *d = run("{'maximumAllowedDeviceThreatLevel':'secured','mobileThreatDefenseRemediationAction':'block'}", &f, &s);
    assert_string_equal(str(evaluated(d, "maximumAllowedDeviceThreatLevel"), "result"), "skip");
    expect(d, "allow", "allowed"); /* frees d */
}

static void test_threat_signal_reasons(void **state)
{
    (void)state;
    static const struct {
        const char *reason, *code, *title;
    } cases[] = {
        {"noAgent", "agentNotActivated", "Launch App to Check the Security Status"}, /* the app saw the agent */
        {"agentNotActivated", "agentNotActivated", "Launch App to Check the Security Status"},
        {"deviceInactive", "threatDeviceInactive", "Launch App to Check the Security Status"},
        {"noPartnerData", "threatNoPartnerData", "Launch App to Check the Security Status"},
        {"partnerUnresponsive", "threatPartnerUnresponsive", "Security Check Unavailable"},
        {"somethingNew", "threatSignalMissing", "Security Check Unavailable"},
        {NULL, "threatSignalMissing", "Security Check Unavailable"},
    };
    struct decision_facts f = android_facts();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* a missing signal blocks whatever the remediation action, at every maximum */
        for (int wipe = 0; wipe < 2; wipe++) {
            char flat[200];
            snprintf(flat, sizeof flat,
                     "{'maximumAllowedDeviceThreatLevel':'%s','mobileThreatDefenseRemediationAction':'%s'}",
                     wipe ? "secured" : "medium", wipe ? "wipe" : "block");
            struct threat_signal s = sig_missing(cases[i].reason);
            json_t *d = run(flat, &f, &s);
            assert_string_equal(str(d, "title"), cases[i].title);
            assert_string_equal(str(evaluated(d, "maximumAllowedDeviceThreatLevel"), "action"), "block");
            expect(d, "block", cases[i].code);
        }
    }
    /* the app saw no agent: install it, whatever the server's reason */
    f.agent_installed = 0;
    struct threat_signal s = sig_missing("agentNotActivated");
    expect_run("{'maximumAllowedDeviceThreatLevel':'low'}", &f, &s, "block", "agentNotInstalled");
    /* a present signal wins over agent_installed */
    s = sig_level("low");
    expect_run("{'maximumAllowedDeviceThreatLevel':'low'}", &f, &s, "allow", "allowed");
    /* a present signal with a level we do not know: not satisfied */
    f.agent_installed = 1;
    s = sig_level("severe");
    expect_run("{'maximumAllowedDeviceThreatLevel':'high'}", &f, &s, "block", "threatSignalMissing");
}

static void test_threat_links(void **state)
{
    (void)state;
    struct decision_facts f = android_facts();
    f.agent_installed = 0;
    json_t *s = S("{'maximumAllowedDeviceThreatLevel':'medium'}");
    json_t *links = J("{'agentInstallUrl':'https://play.google.com/store/apps/details?id=com.riskgate.agent',"
                      "'agentAppName':'Riskgate Agent'}");
    json_t *d = run_full(s, &f, NULL, links);
    assert_string_equal(str(d, "title"), "Get access");
    assert_string_equal(str(d, "link"), "https://play.google.com/store/apps/details?id=com.riskgate.agent");
    assert_non_null(strstr(str(d, "remedy"), "Install Riskgate Agent, open it"));
    assert_null(strstr(str(d, "remedy"), DECISION_AGENT_PHRASE));
    expect(d, "block", "agentNotInstalled");

    /* no links: generic wording, no link */
    d = run_full(s, &f, NULL, NULL);
    assert_null(json_object_get(d, "link"));
    assert_non_null(strstr(str(d, "remedy"), "Install " DECISION_AGENT_PHRASE));
    expect(d, "block", "agentNotInstalled");

    /* a link only on the install screen */
    f.agent_installed = 1;
    struct threat_signal sig = sig_missing("agentNotActivated");
    d = run_full(s, &f, &sig, links);
    assert_null(json_object_get(d, "link"));
    assert_non_null(strstr(str(d, "remedy"), "Open Riskgate Agent and sign in"));
    expect(d, "block", "agentNotActivated");
    sig = sig_level("high");
    d = run_full(s, &f, &sig, links);
    assert_null(json_object_get(d, "link"));
    assert_non_null(strstr(str(d, "remedy"), "Open Riskgate Agent to remove the threat"));
    expect(d, "block", "threatLevelTooHigh");
    json_decref(links);
    json_decref(s);
}

static void test_threat_not_configured(void **state)
{
    (void)state;
    struct decision_facts f = android_facts();
    f.agent_installed = 0;
    json_t *d = run("{'maximumAllowedDeviceThreatLevel':'notConfigured','mobileThreatDefenseRemediationAction':'wipe'}",
                    &f, NULL);
    expect_result(d, "maximumAllowedDeviceThreatLevel", "skip");
    expect(d, "allow", "allowed");
    d = run("{'maximumAllowedDeviceThreatLevel':'unknownFutureValue'}", &f, NULL);
    expect_result(d, "maximumAllowedDeviceThreatLevel", "skip");
    expect(d, "allow", "allowed");
    /* the row absent: no onboarding either */
    d = run("{'mobileThreatDefenseRemediationAction':'block'}", &f, NULL);
    assert_int_equal(json_array_size(json_object_get(d, "evaluated")), 0);
    expect(d, "allow", "allowed");
}

/* ---------- precedence ---------- */

static void test_precedence_actions(void **state)
{
    (void)state;
    struct decision_facts f = android_facts();
    f.app_version = "4.0";   /* below the warning version only */
    f.os_version = "10";     /* at the wipe version */
    f.manufacturer = "Acme"; /* not allowed: block */
    const char *all = "{'minimumWarningAppVersion':'4.5','minimumWipeOsVersion':'10',"
                      "'allowedAndroidDeviceManufacturers':'Google','appActionIfAndroidDeviceManufacturerNotAllowed':"
                      "'block'}";
    json_t *d = run(all, &f, NULL);
    assert_int_equal(warning_count(d), 1);
    assert_string_equal(warning_at(d, 0), "minAppVersionWarning");
    assert_string_equal(str(d, "title"), "Wipe Alert");
    assert_string_equal(str(d, "message"),
                        "Your organization has removed its data associated with this app. To continue, restart the app.");
    expect(d, "wipe", "minOsVersionWipe"); /* wipe > block > warn */
    f.os_version = "14";
    d = run(all, &f, NULL);
    assert_int_equal(warning_count(d), 1);
    expect(d, "block", "manufacturerNotAllowed"); /* block > warn */
    f.manufacturer = "Google";
    expect_run(all, &f, NULL, "warn", "minAppVersionWarning");

    /* a wipe from a later row beats a block from an earlier one */
    f.manufacturer = "Acme";
    f.pin_failures = 7;
    expect_run("{'minimumRequiredAppVersion':'9','maximumPinRetries':5,"
               "'appActionIfMaximumPinRetriesExceeded':'wipe'}",
               &f, NULL, "wipe", "pinRetriesExceededWipe");
}

/* iOS: SDK version, then app version, then OS version, then the rest (reference §9). */
static void test_precedence_ios(void **state)
{
    (void)state;
    struct decision_facts f = ios_facts();
    f.sdk_version = "1.0";
    f.app_version = "1.0";
    f.os_version = "15.0";
    f.model = "iPhone9,1";
    f.rooted = 1;
    f.pin_failures = 9;
    const char *rest = "'allowedIosDeviceModels':'iPhone15,2','deviceComplianceRequired':true,'maximumPinRetries':5";
    char flat[512];
    snprintf(flat, sizeof flat,
             "{'minimumRequiredSdkVersion':'2.0','minimumRequiredAppVersion':'2.0','minimumRequiredOsVersion':'16',"
             "%s}",
             rest);
    expect_run(flat, &f, NULL, "block", "minSdkVersion");
    snprintf(flat, sizeof flat, "{'minimumRequiredAppVersion':'2.0','minimumRequiredOsVersion':'16',%s}", rest);
    expect_run(flat, &f, NULL, "block", "minAppVersion");
    snprintf(flat, sizeof flat, "{'minimumRequiredOsVersion':'16',%s}", rest);
    expect_run(flat, &f, NULL, "block", "minOsVersion");
    snprintf(flat, sizeof flat, "{%s}", rest);
    expect_run(flat, &f, NULL, "block", "deviceModelNotAllowed");
    expect_run("{'deviceComplianceRequired':true,'maximumPinRetries':5}", &f, NULL, "block", "deviceJailbroken");

    /* warnings in the same order */
    json_t *d = run("{'minimumWarningOsVersion':'16','minimumWarningAppVersion':'2','minimumWarningSdkVersion':'2'}",
                    &f, NULL);
    assert_int_equal(warning_count(d), 3);
    assert_string_equal(warning_at(d, 0), "minSdkVersionWarning");
    assert_string_equal(warning_at(d, 1), "minAppVersionWarning");
    assert_string_equal(warning_at(d, 2), "minOsVersionWarning");
    expect(d, "warn", "minSdkVersionWarning");
}

/* Android: app version, then OS version, then patch version, then the rest (reference §9). */
static void test_precedence_android(void **state)
{
    (void)state;
    struct decision_facts f = android_facts();
    f.app_version = "1.0";
    f.os_version = "12";
    f.patch_level = "2023-01-01";
    f.manufacturer = "Acme";
    f.rooted = 1;
    const char *rest = "'allowedAndroidDeviceManufacturers':'Google','deviceComplianceRequired':true";
    char flat[512];
    snprintf(flat, sizeof flat,
             "{'minimumRequiredPatchVersion':'2024-01-01','minimumRequiredOsVersion':'13',"
             "'minimumRequiredAppVersion':'2.0',%s}",
             rest);
    expect_run(flat, &f, NULL, "block", "minAppVersion");
    snprintf(flat, sizeof flat, "{'minimumRequiredPatchVersion':'2024-01-01','minimumRequiredOsVersion':'13',%s}",
             rest);
    expect_run(flat, &f, NULL, "block", "minOsVersion");
    snprintf(flat, sizeof flat, "{'minimumRequiredPatchVersion':'2024-01-01','maximumRequiredOsVersion':'11',%s}",
             rest);
    expect_run(flat, &f, NULL, "block", "maxOsVersion");
    snprintf(flat, sizeof flat, "{'minimumRequiredPatchVersion':'2024-01-01',%s}", rest);
    expect_run(flat, &f, NULL, "block", "minPatchVersion");
    snprintf(flat, sizeof flat, "{%s}", rest);
    expect_run(flat, &f, NULL, "block", "manufacturerNotAllowed");

    json_t *d = run("{'minimumWarningPatchVersion':'2024-01-01','minimumWarningOsVersion':'13',"
                    "'minimumWarningAppVersion':'2'}",
                    &f, NULL);
    assert_int_equal(warning_count(d), 3);
    assert_string_equal(warning_at(d, 0), "minAppVersionWarning");
    assert_string_equal(warning_at(d, 1), "minOsVersionWarning");
    assert_string_equal(warning_at(d, 2), "minPatchVersionWarning");
    expect(d, "warn", "minAppVersionWarning");
}

/* Our placement: disabled account, then onboarding, then versions, device rows, threat level, PIN. */
static void test_precedence_threat_rows(void **state)
{
    (void)state;
    struct decision_facts f = android_facts();
    f.app_version = "1.0";
    f.rooted = 1;
    f.pin_failures = 9;
    f.agent_installed = 0;
    const char *base = "'maximumAllowedDeviceThreatLevel':'low','minimumRequiredAppVersion':'2',"
                       "'deviceComplianceRequired':true,'maximumPinRetries':3";
    char flat[512];
    snprintf(flat, sizeof flat, "{%s}", base);
    expect_run(flat, &f, NULL, "block", "agentNotInstalled"); /* onboarding before everything else */
    f.account_disabled = 1;
    snprintf(flat, sizeof flat, "{'appActionIfUnableToAuthenticateUser':'block',%s}", base);
    expect_run(flat, &f, NULL, "block", "accountDisabled"); /* only the admin can help */
    f.account_disabled = 0;

    /* with an activated agent: versions, then the device rows, then the threat level, then the PIN */
    f.agent_installed = 1;
    struct threat_signal s = sig_level("high");
    snprintf(flat, sizeof flat, "{%s}", base);
    expect_run(flat, &f, &s, "block", "minAppVersion");
    f.app_version = "3";
    expect_run(flat, &f, &s, "block", "deviceRooted");
    f.rooted = 0;
    expect_run(flat, &f, &s, "block", "threatLevelTooHigh");
    s = sig_level("low");
    expect_run(flat, &f, &s, "block", "pinRetriesExceeded");

    /* onboarding is a block: a wipe row still wins */
    f.agent_installed = 0;
    f.os_version = "9";
    snprintf(flat, sizeof flat, "{'minimumWipeOsVersion':'10',%s}", base);
    expect_run(flat, &f, NULL, "wipe", "minOsVersionWipe");
}

/* ---------- texts ---------- */

static void test_texts(void **state)
{
    (void)state;
    static const char *const codes[] = {
        DECISION_R_ALLOWED,
        DECISION_R_MIN_OS_VERSION_WARNING,
        DECISION_R_MIN_OS_VERSION,
        DECISION_R_MIN_OS_VERSION_WIPE,
        DECISION_R_MAX_OS_VERSION_WARNING,
        DECISION_R_MAX_OS_VERSION,
        DECISION_R_MAX_OS_VERSION_WIPE,
        DECISION_R_MIN_APP_VERSION_WARNING,
        DECISION_R_MIN_APP_VERSION,
        DECISION_R_MIN_APP_VERSION_WIPE,
        DECISION_R_MIN_SDK_VERSION_WARNING,
        DECISION_R_MIN_SDK_VERSION,
        DECISION_R_MIN_SDK_VERSION_WIPE,
        DECISION_R_MIN_PATCH_VERSION_WARNING,
        DECISION_R_MIN_PATCH_VERSION,
        DECISION_R_MIN_PATCH_VERSION_WIPE,
        DECISION_R_MANUFACTURER_NOT_ALLOWED,
        DECISION_R_MANUFACTURER_NOT_ALLOWED_WIPE,
        DECISION_R_DEVICE_MODEL_NOT_ALLOWED,
        DECISION_R_DEVICE_MODEL_NOT_ALLOWED_WIPE,
        DECISION_R_DEVICE_ROOTED,
        DECISION_R_DEVICE_ROOTED_WIPE,
        DECISION_R_DEVICE_JAILBROKEN,
        DECISION_R_DEVICE_JAILBROKEN_WIPE,
        DECISION_R_PIN_RETRIES_EXCEEDED,
        DECISION_R_PIN_RETRIES_EXCEEDED_WIPE,
        DECISION_R_ACCOUNT_DISABLED,
        DECISION_R_ACCOUNT_DISABLED_WIPE,
        DECISION_R_AGENT_NOT_INSTALLED,
        DECISION_R_AGENT_NOT_ACTIVATED,
        DECISION_R_THREAT_DEVICE_INACTIVE,
        DECISION_R_THREAT_NO_PARTNER_DATA,
        DECISION_R_THREAT_CONNECTOR_OFF,
        DECISION_R_THREAT_PARTNER_UNRESPONSIVE,
        DECISION_R_THREAT_SIGNAL_MISSING,
        DECISION_R_THREAT_LEVEL_TOO_HIGH,
        DECISION_R_THREAT_LEVEL_TOO_HIGH_WIPE,
        DECISION_R_OFFLINE_TOO_LONG,
        DECISION_R_OFFLINE_WIPE,
        DECISION_R_WIPE_REQUESTED,
        DECISION_R_SIGN_IN_REQUIRED,
        DECISION_R_RESTART_REQUIRED,
        DECISION_R_ACCOUNT_NOT_SET_UP,
        DECISION_R_APP_NOT_SET_UP,
    };
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        const char *title = NULL, *message = NULL, *remedy = NULL;
        const char *act = decision_text(codes[i], &title, &message, &remedy);
        if (!act)
            fail_msg("no text for %s", codes[i]);
        assert_true(title && *title);
        assert_true(message && *message);
        assert_non_null(remedy);
        size_t len = strlen(codes[i]);
        bool wipe = len > 4 && !strcmp(codes[i] + len - 4, "Wipe");
        bool warn = len > 7 && !strcmp(codes[i] + len - 7, "Warning");
        if (wipe || !strcmp(codes[i], "wipeRequested")) {
            assert_string_equal(act, "wipe");
            assert_string_equal(title, "Wipe Alert");
        } else if (warn) {
            assert_string_equal(act, "warn");
        } else if (strcmp(codes[i], "allowed")) {
            assert_string_equal(act, "block");
            assert_true(*remedy); /* every block says what to do */
        }
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(codes[i], codes[j]);
    }
    /* reference §12 verbatim */
    const char *t, *m;
    assert_string_equal(decision_text("offlineTooLong", &t, &m, NULL), "block");
    assert_string_equal(t, "Internet Connection Required");
    assert_string_equal(m, "You must be connected to the Internet to verify that you can use this app.");
    decision_text("appNotSetUp", &t, &m, NULL);
    assert_string_equal(t, "App Not Set Up");
    assert_string_equal(m, "This app has not been set up for you to use. Contact your IT administrator for help.");
    decision_text("accountNotSetUp", &t, &m, NULL);
    assert_string_equal(t, "Account Not Set Up");
    assert_string_equal(m, "Your organization has not set up your account to access work or school data. Contact "
                           "your IT administrator for help.");
    decision_text("agentNotInstalled", &t, NULL, NULL);
    assert_string_equal(t, "Get access");
    decision_text("agentNotActivated", &t, NULL, NULL);
    assert_string_equal(t, "Launch App to Check the Security Status");
    decision_text("threatLevelTooHigh", &t, NULL, NULL);
    assert_string_equal(t, "Access blocked");
    decision_text("wipeRequested", NULL, &m, NULL);
    assert_string_equal(m, "Your organization has removed its data associated with this app. To continue, restart "
                           "the app.");
    /* unknown codes */
    t = "untouched";
    assert_null(decision_text("noSuchCode", &t, NULL, NULL));
    assert_string_equal(t, "untouched");
    assert_null(decision_text(NULL, NULL, NULL, NULL));
}

/* ---------- inputs ---------- */

static void test_bad_arguments(void **state)
{
    (void)state;
    struct decision_facts f = android_facts();
    json_t *out = NULL, *arr = json_array();
    assert_int_equal(decision_evaluate(NULL, NULL, NULL, NULL, &out), RG_EINVAL);
    assert_int_equal(decision_evaluate(NULL, &f, NULL, NULL, NULL), RG_EINVAL);
    assert_int_equal(decision_evaluate(arr, &f, NULL, NULL, &out), RG_EINVAL);
    assert_null(out);
    json_decref(arr);

    /* wrongly typed policy values are skipped, not trusted */
    json_t *d = run("{'minimumRequiredOsVersion':14,'maximumPinRetries':'five','deviceComplianceRequired':'yes'}", &f,
                    NULL);
    expect_result(d, "minimumRequiredOsVersion", "skip");
    expect_result(d, "maximumPinRetries", "skip");
    assert_null(evaluated(d, "deviceComplianceRequired"));
    expect(d, "allow", "allowed");
}

/* Reported strings are echoed in details: long multi-byte and invalid UTF-8 input still give valid JSON. */
static void test_details_utf8(void **state)
{
    (void)state;
    struct decision_facts f = android_facts();
    char model[400];
    size_t k = 0;
    model[k++] = 'a'; /* so a 2-byte character straddles the cut */
    while (k + 2 < sizeof model) {
        model[k++] = (char)0xC3;
        model[k++] = (char)0xA9;
    }
    model[k] = '\0';
    f.model = model;
    json_t *d = run("{'allowedAndroidDeviceModels':['Pixel 8']}", &f, NULL);
    assert_non_null(strstr(str(evaluated(d, "allowedAndroidDeviceModels"), "detail"), "model \"a\xc3\xa9"));
    expect(d, "block", "deviceModelNotAllowed");
    f.model = "bad\xff\xfe";
    d = run("{'allowedAndroidDeviceModels':['Pixel 8']}", &f, NULL);
    assert_non_null(strstr(str(evaluated(d, "allowedAndroidDeviceModels"), "detail"), "model \"bad?"));
    expect(d, "block", "deviceModelNotAllowed");
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

/* Every JSON allocation fails in turn: RG_ENOMEM, nothing leaked, *out untouched; then success. */
static void test_allocation_failures(void **state)
{
    (void)state;
    struct decision_facts f = android_facts();
    f.os_version = "13";
    f.app_version = "4.0";
    f.manufacturer = "Acme";
    f.agent_installed = 0;
    json_t *s = S("{'minimumWarningOsVersion':'15','minimumRequiredOsVersion':'14','minimumWarningAppVersion':'5',"
                  "'allowedAndroidDeviceManufacturers':'Google','maximumAllowedDeviceThreatLevel':'low',"
                  "'deviceComplianceRequired':true,'maximumPinRetries':5}");
    json_t *links = J("{'agentInstallUrl':'https://example.com/agent','agentAppName':'Agent'}");
    json_t *out = NULL;
    int rc = RG_ENOMEM;
    long k;
    for (k = 0; rc == RG_ENOMEM && k < 100000; k++) {
        out = NULL;
        alloc_budget = k;
        json_set_alloc_funcs(failing_malloc, free);
        rc = decision_evaluate(s, &f, NULL, links, &out);
        json_set_alloc_funcs(malloc, free);
        alloc_budget = -1;
        if (rc) {
            assert_int_equal(rc, RG_ENOMEM);
            assert_null(out);
        }
    }
    assert_int_equal(rc, 0);
    assert_true(k > 20);
    assert_int_equal(warning_count(out), 2);
    expect(out, "block", "agentNotInstalled");
    json_decref(links);
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_settings_allows),
        cmocka_unit_test(test_min_os_version),
        cmocka_unit_test(test_max_os_version),
        cmocka_unit_test(test_min_app_version),
        cmocka_unit_test(test_min_sdk_version),
        cmocka_unit_test(test_min_patch_version),
        cmocka_unit_test(test_manufacturers),
        cmocka_unit_test(test_models),
        cmocka_unit_test(test_rooted),
        cmocka_unit_test(test_action_normalization),
        cmocka_unit_test(test_pin_attempts),
        cmocka_unit_test(test_disabled_account),
        cmocka_unit_test(test_threat_levels),
        cmocka_unit_test(test_threat_high_needs_signal),
        cmocka_unit_test(test_agent_seen_not_activated),
        cmocka_unit_test(test_threat_connector_off_ignored),
        cmocka_unit_test(test_threat_signal_reasons),
        cmocka_unit_test(test_threat_links),
        cmocka_unit_test(test_threat_not_configured),
        cmocka_unit_test(test_precedence_actions),
        cmocka_unit_test(test_precedence_ios),
        cmocka_unit_test(test_precedence_android),
        cmocka_unit_test(test_precedence_threat_rows),
        cmocka_unit_test(test_texts),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_details_utf8),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
