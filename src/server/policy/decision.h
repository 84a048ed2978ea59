/*
 * decision.h: the conditional-launch decision for one app launch or check-in:
 * the effective protection settings (effective.h) against what the app
 * reported and the device's threat signal (threat.h) give allow, warn, block
 * or wipe, with the dialog to show. Every user-facing text of app access
 * lives in one table here (decision_text). Pure: no I/O, no globals that
 * change. Thread-safe.
 *
 * Rows evaluated (app-protection reference §8), each only when its
 * properties are set; "row" is the name used in the "evaluated" list:
 *   minSdkVersion    minimum{Warning,Required,Wipe}SdkVersion (iOS)
 *   minAppVersion    minimum{Warning,Required,Wipe}AppVersion
 *   minOsVersion     minimum{Warning,Required,Wipe}OsVersion
 *   maxOsVersion     maximum{Warning,Required,Wipe}OsVersion
 *   minPatchVersion  minimum{Warning,Required,Wipe}PatchVersion (Android; "0000-00-00" = unset)
 *   deviceManufacturer  allowedAndroidDeviceManufacturers + appActionIfAndroidDeviceManufacturerNotAllowed
 *   deviceModel      allowedAndroidDeviceModels + appActionIfAndroidDeviceModelNotAllowed,
 *                    allowedIosDeviceModels + appActionIfIosDeviceModelNotAllowed
 *   rootedDevice     deviceComplianceRequired=true + appActionIfDeviceComplianceRequired
 *   maxPinAttempts   maximumPinRetries + appActionIfMaximumPinRetriesExceeded (block = "Reset PIN")
 *   disabledAccount  appActionIfUnableToAuthenticateUser
 *   maxThreatLevel   maximumAllowedDeviceThreatLevel + mobileThreatDefenseRemediationAction
 *
 * Comparisons: "minimumRequired/Warning" fire when the reported value is
 * below the setting, "minimumWipe" when it is below or equal, "maximum*" when
 * it is above (util_version_cmp; patch levels "YYYY-MM-DD" as text).
 * Manufacturers and models match case-insensitively, surrounding blanks
 * ignored; a list the merge emptied ("nothingAllowed") allows nothing. The
 * version rows fire on every property that is hit (a device below both
 * minimumWarning and minimumRequired is blocked and warned).
 *
 * Actions: a row's action property missing from the settings means its
 * Graph default, block. blockWhenSettingIsSupported is block (the server
 * can evaluate every row here). Rows that offer only block/wipe (all but the
 * version rows) raise "warn" and unknown values (unknownFutureValue) to
 * block: fail closed, and the "evaluated" detail says so.
 *
 * Unknown facts: a row whose fact is unknown (NULL, -1, or a version that
 * util_version_valid() rejects) does not fire: result "skip", detail "... not
 * reported". This holds for rootedDevice too: rooted = -1 with
 * deviceComplianceRequired skips, because the server cannot tell and the
 * connector's threat row is the place that catches jailbreaks reported by the
 * agent (threat.h: a rooted device raises a High alert). Facts are
 * self-reported, so an app that hides one gains nothing it could not gain by
 * lying.
 *
 * Threat row (reference §1, §10): notConfigured (or a value this version does
 * not know) skips. Otherwise the signal must be present, even for "high":
 *   agent_installed == 0 or reason "noAgent"  -> agentNotInstalled ("Get access", link = agentInstallUrl)
 *   "agentNotActivated"                       -> agentNotActivated ("Launch App to Check the Security Status")
 *   "deviceInactive"                          -> threatDeviceInactive (open the agent so it reports again)
 *   "noPartnerData"                           -> threatNoPartnerData (open the partner's app)
 *   "connectorOff"                            -> the row is skipped: with the connector off the
 *                                                threat row is ignored (the SDK issue's contract);
 *                                                threatConnectorOff stays for callers that gate on it
 *   "partnerUnresponsive"                     -> threatPartnerUnresponsive (try later / the admin)
 *   no signal at all, another reason, or a present signal with an unknown level
 *                                             -> threatSignalMissing
 * all with action block whatever the remediation action (wiping a user's data
 * because an agent is not installed yet would punish onboarding). With a
 * signal: reported level > maximum (secured < low < medium < high) -> the
 * row's action: threatLevelTooHigh ("Access blocked") or threatLevelTooHighWipe.
 *
 * Precedence (reference §1, §9): the strictest action wins, wipe > block >
 * warn. Among fired rows with that action the first in this order is the
 * decision:
 *   1. disabledAccount: nothing the user does helps; only the admin can.
 *   2. threat onboarding (agentNotInstalled ... threatSignalMissing): nothing
 *      else can be checked fully until the agent is active, and onboarding is
 *      the longest path for the user, so it starts first.
 *   3. the version rows in the reference's order: iOS SDK -> app -> OS;
 *      Android app -> OS -> patch (one order serves both: the SDK row exists
 *      only on iOS, the patch row only on Android): minSdkVersion,
 *      minAppVersion, minOsVersion, maxOsVersion, minPatchVersion.
 *   4. device rows the user cannot fix on this device: deviceManufacturer,
 *      deviceModel, rootedDevice.
 *   5. threatLevelTooHigh: fixable in the agent app.
 *   6. maxPinAttempts ("Reset PIN"): a quick fix, shown once nothing else blocks.
 * Every warn that fired is listed in "warnings" in the same order (the
 * decision's own row included when the decision is warn).
 */
#ifndef RG_POLICY_DECISION_H
#define RG_POLICY_DECISION_H
#include <jansson.h>

struct threat_signal; /* server/threat/threat.h */

/* Reason codes: stable wire strings (the app and the SDK key on them). */
#define DECISION_R_ALLOWED "allowed"
/* version rows: warn / block / wipe */
#define DECISION_R_MIN_OS_VERSION_WARNING "minOsVersionWarning"
#define DECISION_R_MIN_OS_VERSION "minOsVersion"
#define DECISION_R_MIN_OS_VERSION_WIPE "minOsVersionWipe"
#define DECISION_R_MAX_OS_VERSION_WARNING "maxOsVersionWarning"
#define DECISION_R_MAX_OS_VERSION "maxOsVersion"
#define DECISION_R_MAX_OS_VERSION_WIPE "maxOsVersionWipe"
#define DECISION_R_MIN_APP_VERSION_WARNING "minAppVersionWarning"
#define DECISION_R_MIN_APP_VERSION "minAppVersion"
#define DECISION_R_MIN_APP_VERSION_WIPE "minAppVersionWipe"
#define DECISION_R_MIN_SDK_VERSION_WARNING "minSdkVersionWarning"
#define DECISION_R_MIN_SDK_VERSION "minSdkVersion"
#define DECISION_R_MIN_SDK_VERSION_WIPE "minSdkVersionWipe"
#define DECISION_R_MIN_PATCH_VERSION_WARNING "minPatchVersionWarning"
#define DECISION_R_MIN_PATCH_VERSION "minPatchVersion"
#define DECISION_R_MIN_PATCH_VERSION_WIPE "minPatchVersionWipe"
/* block / wipe rows */
#define DECISION_R_MANUFACTURER_NOT_ALLOWED "manufacturerNotAllowed"
#define DECISION_R_MANUFACTURER_NOT_ALLOWED_WIPE "manufacturerNotAllowedWipe"
#define DECISION_R_DEVICE_MODEL_NOT_ALLOWED "deviceModelNotAllowed"
#define DECISION_R_DEVICE_MODEL_NOT_ALLOWED_WIPE "deviceModelNotAllowedWipe"
#define DECISION_R_DEVICE_ROOTED "deviceRooted"         /* Android text */
#define DECISION_R_DEVICE_ROOTED_WIPE "deviceRootedWipe"
#define DECISION_R_DEVICE_JAILBROKEN "deviceJailbroken" /* iOS text */
#define DECISION_R_DEVICE_JAILBROKEN_WIPE "deviceJailbrokenWipe"
#define DECISION_R_PIN_RETRIES_EXCEEDED "pinRetriesExceeded" /* "Reset PIN" */
#define DECISION_R_PIN_RETRIES_EXCEEDED_WIPE "pinRetriesExceededWipe"
#define DECISION_R_ACCOUNT_DISABLED "accountDisabled"
#define DECISION_R_ACCOUNT_DISABLED_WIPE "accountDisabledWipe"
/* threat row: onboarding (always block) */
#define DECISION_R_AGENT_NOT_INSTALLED "agentNotInstalled"
#define DECISION_R_AGENT_NOT_ACTIVATED "agentNotActivated"
#define DECISION_R_THREAT_DEVICE_INACTIVE "threatDeviceInactive"
#define DECISION_R_THREAT_NO_PARTNER_DATA "threatNoPartnerData"
#define DECISION_R_THREAT_CONNECTOR_OFF "threatConnectorOff"
#define DECISION_R_THREAT_PARTNER_UNRESPONSIVE "threatPartnerUnresponsive"
#define DECISION_R_THREAT_SIGNAL_MISSING "threatSignalMissing"
/* threat row: level above the maximum */
#define DECISION_R_THREAT_LEVEL_TOO_HIGH "threatLevelTooHigh"
#define DECISION_R_THREAT_LEVEL_TOO_HIGH_WIPE "threatLevelTooHighWipe"
/* not produced by decision_evaluate: the SDK's own screens and other server answers */
#define DECISION_R_OFFLINE_TOO_LONG "offlineTooLong"   /* "Internet Connection Required" (block) */
#define DECISION_R_OFFLINE_WIPE "offlineWipe"          /* offline past periodOfflineBeforeWipeIsEnforced */
#define DECISION_R_WIPE_REQUESTED "wipeRequested"      /* the admin's selective wipe */
#define DECISION_R_SIGN_IN_REQUIRED "signInRequired"   /* "Sign-in" */
#define DECISION_R_RESTART_REQUIRED "restartRequired"  /* policy just received */
#define DECISION_R_ACCOUNT_NOT_SET_UP "accountNotSetUp" /* no policy for the user */
#define DECISION_R_APP_NOT_SET_UP "appNotSetUp"        /* the app is not targeted */

/*
 * Texts that name the agent say DECISION_AGENT_PHRASE; decision_evaluate
 * replaces it with links' "agentAppName" when that is set (decision_text
 * returns the generic wording).
 */
#define DECISION_AGENT_PHRASE "your organization's security app"

/* What the app reported; NULL / -1 = unknown. All strings borrowed. */
struct decision_facts {
    const char *platform;    /* "android" | "ios"; NULL = unknown (platform-specific rows still run) */
    const char *app_version; /* the app's version */
    const char *sdk_version; /* libriskgate's version (the iOS "SDK version" row) */
    const char *os_version;
    const char *patch_level; /* Android security patch, "YYYY-MM-DD" */
    const char *model;
    const char *manufacturer;
    int rooted;           /* 1 rooted / jailbroken, 0 not, -1 unknown */
    int pin_failures;     /* consecutive failed PIN attempts, -1 unknown */
    int account_disabled; /* 1 the user's account is disabled, 0 not, -1 unknown */
    int agent_installed;  /* 1 the app saw the local agent (device id known), 0 not, -1 unknown */
};
/* Every fact unknown. */
#define DECISION_FACTS_INIT {NULL, NULL, NULL, NULL, NULL, NULL, NULL, -1, -1, -1, -1}

/*
 * Evaluates the conditional-launch rows (above).
 *  settings: borrowed effective_compute() "settings" object
 *            ({"<property>": {"value": ..., "from": ..., "nothingAllowed"?}}); NULL = no policy
 *            applies: allow, nothing evaluated.
 *  f:        borrowed, required.
 *  signal:   borrowed threat_signal_get() result for the user's device; NULL = none obtained
 *            (the threat row then fails, see above).
 *  links:    borrowed {"agentInstallUrl": "...", "agentAppName": "..."} from the admin's
 *            configuration; NULL or missing keys: no link, generic agent wording.
 *  *out (new reference, the caller decrefs):
 *   {"action": "allow|warn|block|wipe", "reasonCode", "title", "message", "remedy" ("" when none),
 *    "link" (only for agentNotInstalled with an install URL),
 *    "warnings": [{"reasonCode", "title", "message", "remedy"}...],
 *    "evaluated": [{"row", "property", "action", "result": "pass|fail|skip", "detail",
 *                   "reasonCode" (fail only)}...]}
 * Returns 0; RG_EINVAL when f or out is NULL or settings is not an object; RG_ENOMEM.
 * On failure *out is left untouched.
 */
int decision_evaluate(const json_t *settings, const struct decision_facts *f, const struct threat_signal *signal,
                      const json_t *links, json_t **out);

/*
 * The texts of a reason code. Each of title, message, remedy may be NULL
 * (not wanted); they are set to static strings (remedy "" when there is
 * none). Returns the code's action ("allow", "warn", "block", "wipe"), or
 * NULL for an unknown code (the out strings then untouched).
 */
const char *decision_text(const char *reason_code, const char **title, const char **message, const char **remedy);
#endif
