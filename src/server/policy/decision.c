/*
 * decision.c: the conditional-launch decision (decision.h; app-protection
 * reference §1, §8, §9, §10, §12). Each row records what it checked in the
 * "evaluated" list and, when it fires, a hit (action, precedence rank,
 * reason code); the strictest hit, first in precedence order, becomes the
 * decision. The dialog texts of every reason code live in the table below.
 * Pure: no I/O, no globals that change.
 */
#include "server/policy/decision.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/util.h"
#include "server/threat/threat.h"

enum act { ACT_ALLOW, ACT_WARN, ACT_BLOCK, ACT_WIPE }; /* in strictness order */
static const char *const act_names[] = {"allow", "warn", "block", "wipe"};

/* Precedence among hits of the same action, first shown first (decision.h explains why). */
enum order {
    ORD_ACCOUNT,
    ORD_ONBOARDING,
    ORD_SDK,
    ORD_APP,
    ORD_OS_MIN,
    ORD_OS_MAX,
    ORD_PATCH,
    ORD_MANUFACTURER,
    ORD_MODEL,
    ORD_ROOTED,
    ORD_THREAT,
    ORD_PIN,
    ORD_COUNT
};

/* ---------- texts ---------- */

struct text {
    const char *code;
    enum act action;
    const char *title, *message, *remedy;
};

/* Reference §12 verbatim where it has a text; our own wording where it has only a title or nothing. */
#define WIPE_TEXT(code)                                                                                                \
    {code, ACT_WIPE, "Wipe Alert",                                                                                     \
     "Your organization has removed its data associated with this app. To continue, restart the app.",                \
     "Restart the app, then sign in again with your work or school account."}
#define CONTACT_IT "Contact your IT administrator for help."
#define AGENT DECISION_AGENT_PHRASE
#define RECHECK "then come back to this app and check access again."

static const struct text texts[] = {
    {DECISION_R_ALLOWED, ACT_ALLOW, "Access allowed", "This app meets your organization's requirements.", ""},

    {DECISION_R_MIN_SDK_VERSION_WARNING, ACT_WARN, "App Update Recommended",
     "This app uses an older version of its security component than your organization recommends. You can keep "
     "working, but you may lose access to work or school data later.",
     "Update the app from your app store."},
    {DECISION_R_MIN_SDK_VERSION, ACT_BLOCK, "App Update Required",
     "This app uses an older version of its security component than your organization allows, so it can't open "
     "work or school data.",
     "Update the app from your app store, then open it again. If no update is available, " CONTACT_IT},
    WIPE_TEXT(DECISION_R_MIN_SDK_VERSION_WIPE),

    {DECISION_R_MIN_APP_VERSION_WARNING, ACT_WARN, "App Update Recommended",
     "This version of the app is older than your organization recommends. You can keep working, but you may lose "
     "access to work or school data later.",
     "Update the app from your app store."},
    {DECISION_R_MIN_APP_VERSION, ACT_BLOCK, "App Update Required",
     "This version of the app is older than your organization allows, so it can't open work or school data.",
     "Update the app from your app store, then open it again."},
    WIPE_TEXT(DECISION_R_MIN_APP_VERSION_WIPE),

    {DECISION_R_MIN_OS_VERSION_WARNING, ACT_WARN, "Device Update Recommended",
     "Your device's operating system is older than your organization recommends for this app. You can keep "
     "working, but you may lose access to work or school data later.",
     "Install the latest system update from your device's settings."},
    {DECISION_R_MIN_OS_VERSION, ACT_BLOCK, "Device Update Required",
     "Your device's operating system is older than your organization allows for this app.",
     "Install the latest system update from your device's settings, then open the app again."},
    WIPE_TEXT(DECISION_R_MIN_OS_VERSION_WIPE),

    {DECISION_R_MAX_OS_VERSION_WARNING, ACT_WARN, "Operating System Not Yet Approved",
     "Your device's operating system is newer than your organization has approved for this app. You can keep "
     "working for now.",
     "No action is needed now. If access is blocked later, " CONTACT_IT},
    {DECISION_R_MAX_OS_VERSION, ACT_BLOCK, "Operating System Not Approved",
     "Your device's operating system is newer than your organization has approved for this app.",
     "Access returns once your organization approves this version. " CONTACT_IT},
    WIPE_TEXT(DECISION_R_MAX_OS_VERSION_WIPE),

    {DECISION_R_MIN_PATCH_VERSION_WARNING, ACT_WARN, "Security Update Recommended",
     "Your device's security patch level is older than your organization recommends for this app. You can keep "
     "working, but you may lose access to work or school data later.",
     "Install the latest security update from your device's settings."},
    {DECISION_R_MIN_PATCH_VERSION, ACT_BLOCK, "Security Update Required",
     "Your device's security patch level is older than your organization allows for this app.",
     "Install the latest security update from your device's settings, then open the app again."},
    WIPE_TEXT(DECISION_R_MIN_PATCH_VERSION_WIPE),

    {DECISION_R_MANUFACTURER_NOT_ALLOWED, ACT_BLOCK, "Device Not Supported",
     "Your organization doesn't allow this app to open work or school data on devices from this manufacturer.",
     "Use a device your organization supports. " CONTACT_IT},
    WIPE_TEXT(DECISION_R_MANUFACTURER_NOT_ALLOWED_WIPE),
    {DECISION_R_DEVICE_MODEL_NOT_ALLOWED, ACT_BLOCK, "Device Not Supported",
     "Your organization doesn't allow this app to open work or school data on this device model.",
     "Use a device your organization supports. " CONTACT_IT},
    WIPE_TEXT(DECISION_R_DEVICE_MODEL_NOT_ALLOWED_WIPE),

    {DECISION_R_DEVICE_ROOTED, ACT_BLOCK, "Device noncompliant",
     "This app can't be used because you are using a rooted device. Contact your IT administrator for help.",
     "Use a device that isn't rooted. " CONTACT_IT},
    WIPE_TEXT(DECISION_R_DEVICE_ROOTED_WIPE),
    {DECISION_R_DEVICE_JAILBROKEN, ACT_BLOCK, "Device Non-Compliant",
     "This app cannot be used because you are using a jailbroken device. Contact your IT administrator for help.",
     "Use a device that isn't jailbroken. " CONTACT_IT},
    WIPE_TEXT(DECISION_R_DEVICE_JAILBROKEN_WIPE),

    {DECISION_R_PIN_RETRIES_EXCEEDED, ACT_BLOCK, "Reset PIN",
     "You entered an incorrect PIN too many times, so this app's PIN must be reset.",
     "Sign in again with your work or school account, then choose a new PIN."},
    WIPE_TEXT(DECISION_R_PIN_RETRIES_EXCEEDED_WIPE),

    {DECISION_R_ACCOUNT_DISABLED, ACT_BLOCK, "Account Disabled",
     "Your work or school account is disabled, so this app can't open your organization's data.", CONTACT_IT},
    WIPE_TEXT(DECISION_R_ACCOUNT_DISABLED_WIPE),

    {DECISION_R_AGENT_NOT_INSTALLED, ACT_BLOCK, "Get access",
     "Your organization needs to check that this device is safe before this app can open work or school data. "
     "The check is done by " AGENT ", which isn't installed on this device yet.",
     "Install " AGENT ", open it and sign in with your work or school account, " RECHECK},
    {DECISION_R_AGENT_NOT_ACTIVATED, ACT_BLOCK, "Launch App to Check the Security Status",
     "Your organization needs to check that this device is safe before this app can open work or school data, "
     "but " AGENT " isn't signed in yet.",
     "Open " AGENT " and sign in with your work or school account, " RECHECK},
    {DECISION_R_THREAT_DEVICE_INACTIVE, ACT_BLOCK, "Launch App to Check the Security Status",
     "Your organization hasn't received a recent security status for this device from " AGENT ".",
     "Open " AGENT " and make sure you are signed in, wait a minute, " RECHECK},
    {DECISION_R_THREAT_NO_PARTNER_DATA, ACT_BLOCK, "Launch App to Check the Security Status",
     "Your organization hasn't received a security status for this device yet.",
     "Open " AGENT " so it can check this device, wait a minute, " RECHECK},
    {DECISION_R_THREAT_CONNECTOR_OFF, ACT_BLOCK, "Security Check Unavailable",
     "Your organization requires a security check before this app can open work or school data, but the check "
     "isn't turned on for this type of device.",
     "This can't be fixed on your device. " CONTACT_IT},
    {DECISION_R_THREAT_PARTNER_UNRESPONSIVE, ACT_BLOCK, "Security Check Unavailable",
     "Your organization's security service hasn't reported recently, so this app can't confirm that your device "
     "is safe.",
     "Try again later. If this continues, " CONTACT_IT},
    {DECISION_R_THREAT_SIGNAL_MISSING, ACT_BLOCK, "Security Check Unavailable",
     "This app can't confirm that your device is safe right now.", "Try again later. If this continues, " CONTACT_IT},
    {DECISION_R_THREAT_LEVEL_TOO_HIGH, ACT_BLOCK, "Access blocked",
     "A security threat was found on this device, so this app can't open work or school data until it is removed.",
     "Open " AGENT " to remove the threat, " RECHECK},
    WIPE_TEXT(DECISION_R_THREAT_LEVEL_TOO_HIGH_WIPE),

    {DECISION_R_OFFLINE_TOO_LONG, ACT_BLOCK, "Internet Connection Required",
     "You must be connected to the Internet to verify that you can use this app.",
     "Connect to the Internet, then open the app again."},
    WIPE_TEXT(DECISION_R_OFFLINE_WIPE),
    WIPE_TEXT(DECISION_R_WIPE_REQUESTED),
    {DECISION_R_SIGN_IN_REQUIRED, ACT_BLOCK, "Sign-in",
     "To protect its data, your organization needs to manage this app. To complete this action, sign in with your "
     "work or school account.",
     "Sign in with your work or school account."},
    {DECISION_R_RESTART_REQUIRED, ACT_BLOCK, "Restart Required",
     "Your organization is now protecting its data in this app. You need to restart the app to continue.",
     "Restart the app."},
    {DECISION_R_ACCOUNT_NOT_SET_UP, ACT_BLOCK, "Account Not Set Up",
     "Your organization has not set up your account to access work or school data. Contact your IT administrator "
     "for help.",
     CONTACT_IT},
    {DECISION_R_APP_NOT_SET_UP, ACT_BLOCK, "App Not Set Up",
     "This app has not been set up for you to use. Contact your IT administrator for help.", CONTACT_IT},
};

static const struct text *text_find(const char *code)
{
    for (size_t i = 0; code && i < sizeof texts / sizeof texts[0]; i++)
        if (strcmp(texts[i].code, code) == 0)
            return &texts[i];
    return NULL;
}

const char *decision_text(const char *reason_code, const char **title, const char **message, const char **remedy)
{
    const struct text *t = text_find(reason_code);
    if (!t)
        return NULL;
    if (title)
        *title = t->title;
    if (message)
        *message = t->message;
    if (remedy)
        *remedy = t->remedy;
    return act_names[t->action];
}

/* ---------- helpers ---------- */

/* A setting's value; NULL when absent or null. */
static const json_t *setting(const json_t *settings, const char *name)
{
    const json_t *v = json_object_get(json_object_get(settings, name), "value");
    return json_is_null(v) ? NULL : v;
}

static bool nothing_allowed(const json_t *settings, const char *name)
{
    return json_is_true(json_object_get(json_object_get(settings, name), "nothingAllowed"));
}

static int set_new(json_t *obj, const char *key, json_t *v)
{
    return json_object_set_new(obj, key, v) ? RG_ENOMEM : 0; /* v is released on failure, NULL included */
}

/* Cuts an incomplete UTF-8 sequence that snprintf's truncation left at the end. */
static void utf8_fix_tail(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (n - (i - 1) < need)
        s[i - 1] = '\0';
}

/* s cut to at most n-1 bytes at a character boundary, in buf (for echoing input in details). */
static const char *clip(const char *s, char *buf, size_t n)
{
    snprintf(buf, n, "%s", s ? s : "");
    utf8_fix_tail(buf);
    return buf;
}

/* A JSON string from text that may echo reported facts: never fails for bad UTF-8 (bytes become '?'). */
static json_t *text_json(char *s)
{
    utf8_fix_tail(s);
    json_t *j = json_string(s);
    if (j)
        return j;
    for (char *p = s; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    return json_string(s);
}

/* Trimmed item [p, p+n) equals s, case-insensitively. */
static bool item_ieq(const char *p, size_t n, const char *s)
{
    while (n && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    size_t m = strlen(s);
    while (m && (*s == ' ' || *s == '\t')) {
        s++;
        m--;
    }
    while (m && (s[m - 1] == ' ' || s[m - 1] == '\t'))
        m--;
    return n && n == m && strncasecmp(p, s, n) == 0;
}

/* A list setting: a ';'-separated string or an array of strings. Has it any item? Does it hold item? */
static bool list_empty(const json_t *v)
{
    if (json_is_array(v))
        return json_array_size(v) == 0;
    const char *s = json_string_value(v);
    for (; s && *s; s++)
        if (*s != ';' && *s != ' ' && *s != '\t')
            return false;
    return true;
}

static bool list_has(const json_t *v, const char *item)
{
    if (json_is_array(v)) {
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e) {
            const char *s = json_string_value(e);
            if (s && item_ieq(s, strlen(s), item))
                return true;
        }
        return false;
    }
    const char *s = json_string_value(v);
    while (s && *s) {
        size_t len = strcspn(s, ";");
        if (item_ieq(s, len, item))
            return true;
        s += len;
        if (*s == ';')
            s++;
    }
    return false;
}

/* "YYYY-MM-DD" */
static bool patch_valid(const char *s)
{
    if (strlen(s) != 10)
        return false;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            return false;
    return true;
}

/* managedAppDeviceThreatLevel: secured(1) < low(2) < medium(3) < high(4); 0 = notConfigured or unknown. */
static int threat_rank(const char *s)
{
    static const char *const levels[] = {"secured", "low", "medium", "high"};
    for (int i = 0; s && i < 4; i++)
        if (strcmp(levels[i], s) == 0)
            return i + 1;
    return 0;
}

/* ---------- evaluation ---------- */

#define MAX_HITS 32 /* more than the rows can fire: 15 version properties + 6 rows */

struct hit {
    enum act action;
    enum order order;
    const char *reason;
};

struct eval {
    const json_t *settings;
    const struct decision_facts *f;
    json_t *evaluated;
    struct hit hits[MAX_HITS];
    size_t nhits;
};

/* Appends one "evaluated" entry; reason != NULL: the row fired (result "fail"), recorded as a hit. */
static int record(struct eval *ev, const char *row, const char *prop, enum act action, const char *result,
                  char *detail, const char *reason, enum order order)
{
    json_t *e = json_object();
    int rc = json_array_append_new(ev->evaluated, e) ? RG_ENOMEM : 0;
    if (!rc)
        rc = set_new(e, "row", json_string(row));
    if (!rc)
        rc = set_new(e, "property", json_string(prop));
    if (!rc)
        rc = set_new(e, "action", json_string(act_names[action]));
    if (!rc)
        rc = set_new(e, "result", json_string(result));
    if (!rc)
        rc = set_new(e, "detail", text_json(detail));
    if (!rc && reason)
        rc = set_new(e, "reasonCode", json_string(reason));
    if (!rc && reason && ev->nhits < MAX_HITS)
        ev->hits[ev->nhits++] = (struct hit){action, order, reason};
    return rc;
}

static int skip(struct eval *ev, const char *row, const char *prop, enum act action, char *detail)
{
    return record(ev, row, prop, action, "skip", detail, NULL, 0);
}

/* A platform-specific row on another platform? (unknown platform: evaluated) */
static bool other_platform(const struct decision_facts *f, const char *platform)
{
    return platform && f->platform && strcmp(f->platform, platform) != 0;
}

/*
 * The action of a block/wipe row from its action property: absent = block
 * (Graph default); blockWhenSettingIsSupported = block; warn and unknown
 * values are raised to block (fail closed), noted in note.
 */
static enum act row_action(const json_t *settings, const char *prop, char *note, size_t notelen)
{
    const json_t *v = setting(settings, prop);
    const char *s = json_string_value(v);
    note[0] = '\0';
    if (!v) {
        snprintf(note, notelen, "; %s not set: block", prop);
        return ACT_BLOCK;
    }
    if (s && strcmp(s, "wipe") == 0)
        return ACT_WIPE;
    if (s && (strcmp(s, "block") == 0 || strcmp(s, "blockWhenSettingIsSupported") == 0))
        return ACT_BLOCK;
    char c[41];
    snprintf(note, notelen, "; %s \"%s\" is not offered for this row: enforced as block", prop,
             s ? clip(s, c, sizeof c) : "?");
    return ACT_BLOCK;
}

/* --- version rows --- */

enum fact { F_SDK, F_APP, F_OS, F_PATCH };
enum fire { FIRE_BELOW, FIRE_AT_OR_BELOW, FIRE_ABOVE };

struct version_prop {
    const char *row, *prop;
    enum fact fact;
    const char *platform; /* NULL: both */
    enum fire fire;
    enum act action;
    const char *reason;
    enum order order;
};

static const struct version_prop version_props[] = {
    {"minSdkVersion", "minimumWarningSdkVersion", F_SDK, "ios", FIRE_BELOW, ACT_WARN,
     DECISION_R_MIN_SDK_VERSION_WARNING, ORD_SDK},
    {"minSdkVersion", "minimumRequiredSdkVersion", F_SDK, "ios", FIRE_BELOW, ACT_BLOCK, DECISION_R_MIN_SDK_VERSION,
     ORD_SDK},
    {"minSdkVersion", "minimumWipeSdkVersion", F_SDK, "ios", FIRE_AT_OR_BELOW, ACT_WIPE,
     DECISION_R_MIN_SDK_VERSION_WIPE, ORD_SDK},
    {"minAppVersion", "minimumWarningAppVersion", F_APP, NULL, FIRE_BELOW, ACT_WARN,
     DECISION_R_MIN_APP_VERSION_WARNING, ORD_APP},
    {"minAppVersion", "minimumRequiredAppVersion", F_APP, NULL, FIRE_BELOW, ACT_BLOCK, DECISION_R_MIN_APP_VERSION,
     ORD_APP},
    {"minAppVersion", "minimumWipeAppVersion", F_APP, NULL, FIRE_AT_OR_BELOW, ACT_WIPE,
     DECISION_R_MIN_APP_VERSION_WIPE, ORD_APP},
    {"minOsVersion", "minimumWarningOsVersion", F_OS, NULL, FIRE_BELOW, ACT_WARN, DECISION_R_MIN_OS_VERSION_WARNING,
     ORD_OS_MIN},
    {"minOsVersion", "minimumRequiredOsVersion", F_OS, NULL, FIRE_BELOW, ACT_BLOCK, DECISION_R_MIN_OS_VERSION,
     ORD_OS_MIN},
    {"minOsVersion", "minimumWipeOsVersion", F_OS, NULL, FIRE_AT_OR_BELOW, ACT_WIPE, DECISION_R_MIN_OS_VERSION_WIPE,
     ORD_OS_MIN},
    {"maxOsVersion", "maximumWarningOsVersion", F_OS, NULL, FIRE_ABOVE, ACT_WARN, DECISION_R_MAX_OS_VERSION_WARNING,
     ORD_OS_MAX},
    {"maxOsVersion", "maximumRequiredOsVersion", F_OS, NULL, FIRE_ABOVE, ACT_BLOCK, DECISION_R_MAX_OS_VERSION,
     ORD_OS_MAX},
    {"maxOsVersion", "maximumWipeOsVersion", F_OS, NULL, FIRE_ABOVE, ACT_WIPE, DECISION_R_MAX_OS_VERSION_WIPE,
     ORD_OS_MAX},
    {"minPatchVersion", "minimumWarningPatchVersion", F_PATCH, "android", FIRE_BELOW, ACT_WARN,
     DECISION_R_MIN_PATCH_VERSION_WARNING, ORD_PATCH},
    {"minPatchVersion", "minimumRequiredPatchVersion", F_PATCH, "android", FIRE_BELOW, ACT_BLOCK,
     DECISION_R_MIN_PATCH_VERSION, ORD_PATCH},
    {"minPatchVersion", "minimumWipePatchVersion", F_PATCH, "android", FIRE_AT_OR_BELOW, ACT_WIPE,
     DECISION_R_MIN_PATCH_VERSION_WIPE, ORD_PATCH},
};

static int eval_version(struct eval *ev, const struct version_prop *vp)
{
    static const char *const fact_names[] = {"SDK version", "app version", "OS version", "patch level"};
    const char *fname = fact_names[vp->fact];
    const struct decision_facts *f = ev->f;
    const json_t *v = setting(ev->settings, vp->prop);
    const char *want = json_string_value(v);
    char detail[320], c1[41], c2[41];
    if (!v || (want && (!*want || (vp->fact == F_PATCH && strcmp(want, "0000-00-00") == 0))))
        return 0; /* not set */
    if (other_platform(f, vp->platform)) {
        snprintf(detail, sizeof detail, "%s row is evaluated on %s only", vp->row, vp->platform);
        return skip(ev, vp->row, vp->prop, vp->action, detail);
    }
    if (!want || !(vp->fact == F_PATCH ? patch_valid(want) : util_version_valid(want))) {
        snprintf(detail, sizeof detail, "policy value is not a valid %s", fname);
        return skip(ev, vp->row, vp->prop, vp->action, detail);
    }
    const char *have = vp->fact == F_SDK ? f->sdk_version
                       : vp->fact == F_APP ? f->app_version
                       : vp->fact == F_OS  ? f->os_version
                                           : f->patch_level;
    if (!have) {
        snprintf(detail, sizeof detail, "%s not reported", fname);
        return skip(ev, vp->row, vp->prop, vp->action, detail);
    }
    if (!(vp->fact == F_PATCH ? patch_valid(have) : util_version_valid(have))) {
        snprintf(detail, sizeof detail, "reported %s \"%s\" is not valid: treated as not reported", fname,
                 clip(have, c1, sizeof c1));
        return skip(ev, vp->row, vp->prop, vp->action, detail);
    }
    int c = vp->fact == F_PATCH ? strcmp(have, want) : util_version_cmp(have, want);
    bool fires = vp->fire == FIRE_BELOW ? c < 0 : vp->fire == FIRE_AT_OR_BELOW ? c <= 0 : c > 0;
    static const char *const fired_words[] = {"is below", "is at or below", "is above"};
    static const char *const passed_words[] = {"is not below", "is above", "is not above"};
    snprintf(detail, sizeof detail, "%s %s %s %s", fname, clip(have, c1, sizeof c1),
             fires ? fired_words[vp->fire] : passed_words[vp->fire], clip(want, c2, sizeof c2));
    return record(ev, vp->row, vp->prop, vp->action, fires ? "fail" : "pass", detail, fires ? vp->reason : NULL,
                  vp->order);
}

/* --- allow-list rows (manufacturer, models) --- */

struct list_row {
    const char *row, *prop, *action_prop;
    const char *platform;
    bool manufacturer; /* else model */
    const char *reason, *reason_wipe;
    enum order order;
};

static const struct list_row list_rows[] = {
    {"deviceManufacturer", "allowedAndroidDeviceManufacturers", "appActionIfAndroidDeviceManufacturerNotAllowed",
     "android", true, DECISION_R_MANUFACTURER_NOT_ALLOWED, DECISION_R_MANUFACTURER_NOT_ALLOWED_WIPE,
     ORD_MANUFACTURER},
    {"deviceModel", "allowedAndroidDeviceModels", "appActionIfAndroidDeviceModelNotAllowed", "android", false,
     DECISION_R_DEVICE_MODEL_NOT_ALLOWED, DECISION_R_DEVICE_MODEL_NOT_ALLOWED_WIPE, ORD_MODEL},
    {"deviceModel", "allowedIosDeviceModels", "appActionIfIosDeviceModelNotAllowed", "ios", false,
     DECISION_R_DEVICE_MODEL_NOT_ALLOWED, DECISION_R_DEVICE_MODEL_NOT_ALLOWED_WIPE, ORD_MODEL},
};

static int eval_list(struct eval *ev, const struct list_row *lr)
{
    const json_t *v = setting(ev->settings, lr->prop);
    bool nothing = nothing_allowed(ev->settings, lr->prop);
    char note[160], detail[320], c1[61];
    if ((!v || list_empty(v)) && !nothing)
        return 0; /* no restriction */
    enum act action = row_action(ev->settings, lr->action_prop, note, sizeof note);
    const char *what = lr->manufacturer ? "manufacturer" : "model";
    const char *have = lr->manufacturer ? ev->f->manufacturer : ev->f->model;
    if (other_platform(ev->f, lr->platform)) {
        snprintf(detail, sizeof detail, "%s is evaluated on %s only", lr->prop, lr->platform);
        return skip(ev, lr->row, lr->prop, action, detail);
    }
    if (!have) {
        snprintf(detail, sizeof detail, "%s not reported%s", what, note);
        return skip(ev, lr->row, lr->prop, action, detail);
    }
    bool ok = !nothing && list_has(v, have);
    if (nothing)
        snprintf(detail, sizeof detail, "the applying policies allow no %s in common%s", what, note);
    else
        snprintf(detail, sizeof detail, "%s \"%s\" is %sin the allowed list%s", what, clip(have, c1, sizeof c1),
                 ok ? "" : "not ", note);
    return record(ev, lr->row, lr->prop, action, ok ? "pass" : "fail", detail,
                  ok ? NULL : action == ACT_WIPE ? lr->reason_wipe : lr->reason, lr->order);
}

/* --- rooted / jailbroken, PIN attempts, disabled account --- */

static int eval_rooted(struct eval *ev)
{
    const char *row = "rootedDevice", *prop = "deviceComplianceRequired";
    char note[160], detail[320];
    if (!json_is_true(setting(ev->settings, prop)))
        return 0;
    enum act action = row_action(ev->settings, "appActionIfDeviceComplianceRequired", note, sizeof note);
    bool ios = ev->f->platform && strcmp(ev->f->platform, "ios") == 0;
    const char *word = ios ? "jailbroken" : "rooted";
    if (ev->f->rooted < 0) {
        snprintf(detail, sizeof detail, "%s state not reported%s", word, note);
        return skip(ev, row, prop, action, detail);
    }
    bool fires = ev->f->rooted > 0;
    snprintf(detail, sizeof detail, "device reported %s%s%s", fires ? "" : "not ", word, note);
    const char *reason = ios ? (action == ACT_WIPE ? DECISION_R_DEVICE_JAILBROKEN_WIPE : DECISION_R_DEVICE_JAILBROKEN)
                             : (action == ACT_WIPE ? DECISION_R_DEVICE_ROOTED_WIPE : DECISION_R_DEVICE_ROOTED);
    return record(ev, row, prop, action, fires ? "fail" : "pass", detail, fires ? reason : NULL, ORD_ROOTED);
}

static int eval_pin(struct eval *ev)
{
    const char *row = "maxPinAttempts", *prop = "maximumPinRetries";
    char note[160], detail[320];
    const json_t *v = setting(ev->settings, prop);
    if (!v)
        return 0;
    enum act action = row_action(ev->settings, "appActionIfMaximumPinRetriesExceeded", note, sizeof note);
    if (!json_is_integer(v) || json_integer_value(v) < 1) {
        snprintf(detail, sizeof detail, "policy value is not a positive integer");
        return skip(ev, row, prop, action, detail);
    }
    json_int_t max = json_integer_value(v);
    if (ev->f->pin_failures < 0) {
        snprintf(detail, sizeof detail, "failed PIN attempts not reported%s", note);
        return skip(ev, row, prop, action, detail);
    }
    bool fires = ev->f->pin_failures >= max;
    snprintf(detail, sizeof detail, "%d failed PIN attempts, %s %lld allowed%s", ev->f->pin_failures,
             fires ? "reached the" : "below the", (long long)max, note);
    return record(ev, row, prop, action, fires ? "fail" : "pass", detail,
                  fires ? (action == ACT_WIPE ? DECISION_R_PIN_RETRIES_EXCEEDED_WIPE : DECISION_R_PIN_RETRIES_EXCEEDED)
                        : NULL,
                  ORD_PIN);
}

static int eval_account(struct eval *ev)
{
    const char *row = "disabledAccount", *prop = "appActionIfUnableToAuthenticateUser";
    char note[160], detail[320];
    if (!setting(ev->settings, prop))
        return 0; /* null: the row is off */
    enum act action = row_action(ev->settings, prop, note, sizeof note);
    if (ev->f->account_disabled < 0) {
        snprintf(detail, sizeof detail, "account state not known%s", note);
        return skip(ev, row, prop, action, detail);
    }
    bool fires = ev->f->account_disabled > 0;
    snprintf(detail, sizeof detail, "the user's account is %s%s", fires ? "disabled" : "enabled", note);
    return record(ev, row, prop, action, fires ? "fail" : "pass", detail,
                  fires ? (action == ACT_WIPE ? DECISION_R_ACCOUNT_DISABLED_WIPE : DECISION_R_ACCOUNT_DISABLED) : NULL,
                  ORD_ACCOUNT);
}

/* --- threat row --- */

/* The onboarding reason code for a missing signal (decision.h). */
static const char *onboarding_reason(const struct threat_signal *sig, int agent_installed)
{
    static const struct {
        const char *signal_reason, *code;
    } map[] = {
        {"noAgent", DECISION_R_AGENT_NOT_INSTALLED},
        {"agentNotActivated", DECISION_R_AGENT_NOT_ACTIVATED},
        {"deviceInactive", DECISION_R_THREAT_DEVICE_INACTIVE},
        {"noPartnerData", DECISION_R_THREAT_NO_PARTNER_DATA},
        {"connectorOff", DECISION_R_THREAT_CONNECTOR_OFF},
        {"partnerUnresponsive", DECISION_R_THREAT_PARTNER_UNRESPONSIVE},
    };
    if (agent_installed == 0)
        return DECISION_R_AGENT_NOT_INSTALLED;
    /* the app saw the agent, but it has no device id to give: installed, not activated */
    if (agent_installed == 1 && sig && sig->reason && !strcmp(sig->reason, "noAgent"))
        return DECISION_R_AGENT_NOT_ACTIVATED;
    for (size_t i = 0; sig && sig->reason && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].signal_reason, sig->reason) == 0)
            return map[i].code;
    return DECISION_R_THREAT_SIGNAL_MISSING;
}

static int eval_threat(struct eval *ev, const struct threat_signal *sig)
{
    const char *row = "maxThreatLevel", *prop = "maximumAllowedDeviceThreatLevel";
    char note[160], detail[320];
    const json_t *v = setting(ev->settings, prop);
    if (!v)
        return 0;
    enum act action = row_action(ev->settings, "mobileThreatDefenseRemediationAction", note, sizeof note);
    const char *max = json_string_value(v);
    int max_rank = threat_rank(max);
    if (!max_rank) {
        char c1[41];
        snprintf(detail, sizeof detail, "%s is %s: the threat gate is off", prop,
                 max ? clip(max, c1, sizeof c1) : "not a string");
        return skip(ev, row, prop, action, detail);
    }
    if (sig && !sig->present && sig->reason && !strcmp(sig->reason, "connectorOff")) {
        /* the admin has not connected threat defense for this platform: the row is ignored, not failed */
        snprintf(detail, sizeof detail, "the threat-defense connector is off for this platform: the row is ignored");
        return skip(ev, row, prop, action, detail);
    }
    if (!sig || !sig->present) {
        const char *code = onboarding_reason(sig, ev->f->agent_installed);
        snprintf(detail, sizeof detail,
                 "no threat signal (%s%s): the gate needs an activated agent even at %s; onboarding blocks",
                 sig && sig->reason ? sig->reason : "none obtained",
                 ev->f->agent_installed == 0 ? ", app saw no agent" : "", max);
        return record(ev, row, prop, ACT_BLOCK, "fail", detail, code, ORD_ONBOARDING);
    }
    char level[sizeof sig->level + 1];
    memcpy(level, sig->level, sizeof sig->level);
    level[sizeof sig->level] = '\0';
    int rank = threat_rank(level);
    if (!rank) {
        snprintf(detail, sizeof detail, "reported level \"%s\" is not a threat level", level);
        return record(ev, row, prop, ACT_BLOCK, "fail", detail, DECISION_R_THREAT_SIGNAL_MISSING, ORD_ONBOARDING);
    }
    bool fires = rank > max_rank;
    snprintf(detail, sizeof detail, "reported level %s is %s the allowed maximum %s%s", level,
             fires ? "above" : "within", max, note);
    return record(ev, row, prop, action, fires ? "fail" : "pass", detail,
                  fires ? (action == ACT_WIPE ? DECISION_R_THREAT_LEVEL_TOO_HIGH_WIPE : DECISION_R_THREAT_LEVEL_TOO_HIGH)
                        : NULL,
                  ORD_THREAT);
}

/* ---------- the decision object ---------- */

/* text with every DECISION_AGENT_PHRASE replaced by agent (when set). */
static json_t *agent_text(const char *text, const char *agent)
{
    static const char phrase[] = DECISION_AGENT_PHRASE;
    if (!agent || !*agent || !strstr(text, phrase))
        return json_string(text);
    struct buf b = BUF_INIT(8192);
    int rc = 0;
    const char *p;
    while (!rc && (p = strstr(text, phrase))) {
        rc = buf_append(&b, text, (size_t)(p - text));
        if (!rc)
            rc = buf_puts(&b, agent);
        text = p + sizeof phrase - 1;
    }
    if (!rc)
        rc = buf_puts(&b, text);
    json_t *j = rc ? NULL : json_stringn(buf_str(&b), b.len);
    buf_release(&b);
    return j;
}

/* Sets reasonCode, title, message and remedy of code on obj, the agent named when known. */
static int set_texts(json_t *obj, const char *code, const char *agent)
{
    const struct text *t = text_find(code);
    if (!t)
        return RG_EINVAL; /* a reason code without a text: a bug here, caught by the tests */
    int rc = set_new(obj, "reasonCode", json_string(code));
    if (!rc)
        rc = set_new(obj, "title", agent_text(t->title, agent));
    if (!rc)
        rc = set_new(obj, "message", agent_text(t->message, agent));
    if (!rc)
        rc = set_new(obj, "remedy", agent_text(t->remedy, agent));
    return rc;
}

static int build(const struct eval *ev, const json_t *links, json_t *d)
{
    const char *agent = json_string_value(json_object_get(links, "agentAppName"));
    const char *url = json_string_value(json_object_get(links, "agentInstallUrl"));
    if (agent && strlen(agent) > 100)
        agent = NULL; /* not a name: keep the generic wording */
    size_t win = SIZE_MAX;
    for (size_t i = 0; i < ev->nhits; i++)
        if (win == SIZE_MAX || ev->hits[i].action > ev->hits[win].action ||
            (ev->hits[i].action == ev->hits[win].action && ev->hits[i].order < ev->hits[win].order))
            win = i;
    const char *code = win == SIZE_MAX ? DECISION_R_ALLOWED : ev->hits[win].reason;
    int rc = set_new(d, "action", json_string(act_names[win == SIZE_MAX ? ACT_ALLOW : ev->hits[win].action]));
    if (!rc)
        rc = set_texts(d, code, agent);
    if (!rc && url && *url && strcmp(code, DECISION_R_AGENT_NOT_INSTALLED) == 0)
        rc = set_new(d, "link", json_string(url));
    json_t *warnings = json_array();
    if (!rc)
        rc = set_new(d, "warnings", warnings);
    else
        json_decref(warnings);
    for (int o = 0; !rc && o < ORD_COUNT; o++)
        for (size_t i = 0; !rc && i < ev->nhits; i++) {
            if (ev->hits[i].action != ACT_WARN || (int)ev->hits[i].order != o)
                continue;
            json_t *w = json_object();
            rc = json_array_append_new(warnings, w) ? RG_ENOMEM : set_texts(w, ev->hits[i].reason, agent);
        }
    return rc;
}

int decision_evaluate(const json_t *settings, const struct decision_facts *f, const struct threat_signal *signal,
                      const json_t *links, json_t **out)
{
    if (!f || !out || (settings && !json_is_object(settings)))
        return RG_EINVAL;
    struct eval ev = {.settings = settings, .f = f, .evaluated = json_array(), .nhits = 0};
    json_t *d = json_object();
    int rc = ev.evaluated && d ? 0 : RG_ENOMEM;
    if (settings) {
        for (size_t i = 0; !rc && i < sizeof version_props / sizeof version_props[0]; i++)
            rc = eval_version(&ev, &version_props[i]);
        for (size_t i = 0; !rc && i < sizeof list_rows / sizeof list_rows[0]; i++)
            rc = eval_list(&ev, &list_rows[i]);
        if (!rc)
            rc = eval_rooted(&ev);
        if (!rc)
            rc = eval_pin(&ev);
        if (!rc)
            rc = eval_account(&ev);
        if (!rc)
            rc = eval_threat(&ev, signal);
    }
    if (!rc)
        rc = build(&ev, links, d);
    if (!rc) {
        rc = set_new(d, "evaluated", ev.evaluated);
        ev.evaluated = NULL;
    }
    json_decref(ev.evaluated);
    if (rc) {
        json_decref(d);
        return rc;
    }
    *out = d;
    return 0;
}
