/*
 * schema.c: the Graph property tables of schema.h (one per resource kind) and
 * the validation of POST/PATCH bodies against them.
 *
 * Sources of the tables: Graph beta resource pages (microsoft-graph-docs-contrib
 * api-reference/beta/resources/intune-mam-androidmanagedappprotection.md,
 * intune-mam-iosmanagedappprotection.md, intune-mam-targetedmanagedappconfiguration.md,
 * intune-onboarding-mobilethreatdefenseconnector.md and the enum pages), the
 * app-protection reference (§3-§9) and real exports: the defaults are what Graph
 * shows for a policy that never set the property.
 *
 * Each row says how two policies' values merge into the most restrictive one
 * (schema.h, enum schema_merge). Where the choice is not obvious, a comment on
 * the row says why. Enum value lists of MERGE_ORDER properties are ordered
 * strictest first; the others keep Graph's order.
 */
#include "server/policy/schema.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/jsonsafe.h"
#include "common/util.h"

#define STRING_MAX_DEFAULT 4096 /* bytes, when a row's max is 0 */
#define NAME_MAX_BYTES 1024     /* displayName: generous; Entra counts 256 characters, we count bytes */
#define LIST_MAX_ITEMS 1000     /* items in any collection property */
#define DURATION_MAX_BYTES 64

/* ---- enum value lists (Graph beta enum pages; app-protection reference §4) ---- */

/* managedAppDataTransferLevel, strictest first. */
static const char *const transfer_level[] = {"none", "managedApps", "allApps", NULL};
/* managedAppClipboardSharingLevel, strictest first. */
static const char *const group_types[] = {"DynamicMembership", "Unified", NULL};
static const char *const rule_processing[] = {"On", "Paused", NULL};
static const char *const group_visibility[] = {"Public", "Private", "HiddenMembership", NULL};
static const char *const clipboard_level[] = {"blocked", "managedApps", "managedAppsWithPasteIn", "allApps", NULL};
/* managedAppPinCharacterSet, strictest first: a PIN with letters and symbols is harder to guess. */
static const char *const pin_charset[] = {"alphanumericAndSymbol", "numeric", NULL};
/* managedAppNotificationRestriction, strictest first. */
static const char *const notification_restriction[] = {"block", "blockOrganizationalData", "allow", NULL};
/* managedBrowserType, strictest first: requiring Edge narrows "any managed browser". */
static const char *const browser_type[] = {"microsoftEdge", "notConfigured", NULL};
/* managedAppPhoneNumberRedirectLevel, strictest first. customApp is one named dialer that
 * need not be policy-managed, so it ranks below managedApps (data stays in managed apps). */
static const char *const dialer_level[] = {"blocked", "managedApps", "customApp", "allApps", NULL};
/* messagingRedirectAppType, strictest first; same reasoning as the dialer. */
static const char *const messaging_redirect[] = {"blocked", "anyManagedApp", "specificApps", "anyApp", NULL};
/* managedAppDeviceThreatLevel (MERGE_THREAT, Graph order). */
static const char *const threat_level[] = {"notConfigured", "secured", "low", "medium", "high", NULL};
/* managedAppRemediationAction (MERGE_ACTION, Graph order). */
static const char *const remediation_action[] = {"block", "wipe", "warn", "blockWhenSettingIsSupported", NULL};
/* mobileThreatDefenseRemediationAction: Graph says warn is not supported; the portal offers block and wipe. */
static const char *const mtd_remediation_action[] = {"block", "wipe", NULL};
/* mobileThreatDefensePartnerPriority (null = Defender preferred). */
static const char *const mtd_partner_priority[] = {"defenderOverThirdPartyPartner", "thirdPartyPartnerOverDefender",
                                                   "unknownFutureValue", NULL};
/* appManagementLevel (flags). */
static const char *const app_management_level[] = {"unspecified",
                                                   "unmanaged",
                                                   "mdm",
                                                   "androidEnterprise",
                                                   "androidEnterpriseDedicatedDevicesWithAzureAdSharedMode",
                                                   "androidOpenSourceProjectUserAssociated",
                                                   "androidOpenSourceProjectUserless",
                                                   "unknownFutureValue",
                                                   NULL};
/* targetedManagedAppGroupType. */
static const char *const app_group_type[] = {"selectedPublicApps", "allCoreMicrosoftApps", "allMicrosoftApps",
                                             "allApps", NULL};
/* managedAppDataStorageLocation. */
static const char *const storage_location[] = {"oneDriveForBusiness", "sharePoint", "box",
                                               "localStorage",        "photoLibrary", "iManage",
                                               "egnyte",              "unknownFutureValue", NULL};
/* managedAppDataIngestionLocation. */
static const char *const ingestion_location[] = {"oneDriveForBusiness", "sharePoint", "camera", "photoLibrary", NULL};
/* androidManagedAppSafetyNetDeviceAttestationType, strictest first. */
static const char *const safetynet_attestation[] = {"basicIntegrityAndDeviceCertification", "basicIntegrity", "none",
                                                    NULL};
/* androidManagedAppSafetyNetAppsVerificationType, strictest first. */
static const char *const safetynet_apps[] = {"enabled", "none", NULL};
/* androidManagedAppSafetyNetEvaluationType, strictest first. */
static const char *const safetynet_evaluation[] = {"hardwareBacked", "basic", NULL};
/* managedAppDataEncryptionType (iOS), strictest first: data is protected for the longest time. */
static const char *const ios_encryption[] = {"whenDeviceLocked", "whenDeviceLockedExceptOpenFiles",
                                             "afterDeviceRestart", "useDeviceSettings", NULL};
/* genmoji/screenCapture/writingToolsIosManagedAppConfigurationState, strictest first. */
static const char *const ios_config_state[] = {"blocked", "notBlocked", "unknownFutureValue", NULL};

/* ---- row builders: {name, type, enum_values, min, max, nullable, default_json, merge} ---- */

#define BOOL_ROW(n, def, m) {n, SCHEMA_T_BOOL, NULL, 0, 0, false, def, m}
#define BOOL_NULLABLE_ROW(n, m) {n, SCHEMA_T_BOOL, NULL, 0, 0, true, "null", m}
#define INT_ROW(n, lo, hi, def, m) {n, SCHEMA_T_INT32, NULL, lo, hi, false, def, m}
#define STR_ROW(n, maxlen, nul, def, m) {n, SCHEMA_T_STRING, NULL, 0, maxlen, nul, def, m}
#define VERSION_ROW(n, m) {n, SCHEMA_T_VERSION, NULL, 0, 0, true, "null", m}
#define PATCH_ROW(n) {n, SCHEMA_T_PATCH_DATE, NULL, 0, 0, true, "\"0000-00-00\"", MERGE_VERSION_MAX}
#define DURATION_ROW(n, nul, def, m) {n, SCHEMA_T_DURATION, NULL, 0, 0, nul, def, m}
#define ENUM_ROW(n, vals, nul, def, m) {n, SCHEMA_T_ENUM, vals, 0, 0, nul, def, m}
#define ACTION_ROW(n, nul, def) {n, SCHEMA_T_ENUM, remediation_action, 0, 0, nul, def, MERGE_ACTION}
#define FLAGS_ROW(n, vals, def, m) {n, SCHEMA_T_FLAGS, vals, 0, 0, false, def, m}
#define STRLIST_ROW(n, def, m) {n, SCHEMA_T_STRING_LIST, NULL, 0, 0, false, def, m}
#define ENUMLIST_ROW(n, vals, def, m) {n, SCHEMA_T_ENUM_LIST, vals, 0, 0, false, def, m}
#define KV_ROW(n, m) {n, SCHEMA_T_KV_LIST, NULL, 0, 0, false, "[]", m}

/* managedAppPolicy (base of every policy kind). displayName is required on POST (see validate). */
#define MANAGED_APP_POLICY_ROWS                                                                                       \
    STR_ROW("displayName", NAME_MAX_BYTES, false, "\"\"", MERGE_NONE),                                               \
    STR_ROW("description", 0, true, "null", MERGE_NONE),                                                             \
    STRLIST_ROW("roleScopeTagIds", "[\"0\"]", MERGE_NONE)

/*
 * managedAppProtection (shared by Android and iOS) and targetedManagedAppProtection.
 * A macro so the two platform tables, which schema_props() hands out as one
 * array each, share one list.
 */
#define MANAGED_APP_PROTECTION_ROWS                                                                                   \
    DURATION_ROW("periodOfflineBeforeAccessCheck", false, "\"PT12H\"", MERGE_MIN),                                   \
    DURATION_ROW("periodOnlineBeforeAccessCheck", false, "\"PT30M\"", MERGE_MIN),                                    \
    ENUM_ROW("allowedInboundDataTransferSources", transfer_level, false, "\"allApps\"", MERGE_ORDER),                \
    ENUM_ROW("allowedOutboundDataTransferDestinations", transfer_level, false, "\"allApps\"", MERGE_ORDER),          \
    BOOL_ROW("organizationalCredentialsRequired", "false", MERGE_TRUE_WINS),                                         \
    ENUM_ROW("allowedOutboundClipboardSharingLevel", clipboard_level, false, "\"allApps\"", MERGE_ORDER),            \
    BOOL_ROW("dataBackupBlocked", "false", MERGE_TRUE_WINS),                                                         \
    BOOL_ROW("deviceComplianceRequired", "false", MERGE_TRUE_WINS),                                                  \
    BOOL_ROW("managedBrowserToOpenLinksRequired", "false", MERGE_TRUE_WINS),                                         \
    BOOL_ROW("saveAsBlocked", "false", MERGE_TRUE_WINS),                                                             \
    DURATION_ROW("periodOfflineBeforeWipeIsEnforced", false, "\"P90D\"", MERGE_MIN),                                 \
    BOOL_ROW("pinRequired", "false", MERGE_TRUE_WINS),                                                               \
    INT_ROW("maximumPinRetries", 1, 65535, "5", MERGE_MIN),                                                          \
    BOOL_ROW("simplePinBlocked", "false", MERGE_TRUE_WINS),                                                          \
    /* Graph documents no range ("a positive whole number"); 4..14 is the portal's. */                               \
    INT_ROW("minimumPinLength", 4, 14, "4", MERGE_MAX),                                                              \
    ENUM_ROW("pinCharacterSet", pin_charset, false, "\"numeric\"", MERGE_ORDER),                                     \
    /* PT0S means "never reset", the loosest value: the merge must skip PT0S, not let it win as the minimum. */     \
    DURATION_ROW("periodBeforePinReset", false, "\"PT0S\"", MERGE_MIN),                                              \
    /* Locations the user may save to when saveAsBlocked: fewer is stricter. Empty with saveAsBlocked = none. */     \
    ENUMLIST_ROW("allowedDataStorageLocations", storage_location, "[]", MERGE_INTERSECT),                            \
    BOOL_ROW("contactSyncBlocked", "false", MERGE_TRUE_WINS),                                                        \
    BOOL_ROW("printBlocked", "false", MERGE_TRUE_WINS),                                                              \
    BOOL_ROW("fingerprintBlocked", "false", MERGE_TRUE_WINS),                                                        \
    /* true lets the device PIN replace the app PIN: true relaxes. */                                                \
    BOOL_ROW("disableAppPinIfDevicePinIsSet", "false", MERGE_FALSE_WINS),                                            \
    VERSION_ROW("maximumRequiredOsVersion", MERGE_VERSION_MIN),                                                      \
    VERSION_ROW("maximumWarningOsVersion", MERGE_VERSION_MIN),                                                       \
    VERSION_ROW("maximumWipeOsVersion", MERGE_VERSION_MIN),                                                          \
    VERSION_ROW("minimumRequiredOsVersion", MERGE_VERSION_MAX),                                                      \
    VERSION_ROW("minimumWarningOsVersion", MERGE_VERSION_MAX),                                                       \
    VERSION_ROW("minimumRequiredAppVersion", MERGE_VERSION_MAX),                                                     \
    VERSION_ROW("minimumWarningAppVersion", MERGE_VERSION_MAX),                                                      \
    VERSION_ROW("minimumWipeOsVersion", MERGE_VERSION_MAX),                                                          \
    VERSION_ROW("minimumWipeAppVersion", MERGE_VERSION_MAX),                                                         \
    ACTION_ROW("appActionIfDeviceComplianceRequired", false, "\"block\""),                                           \
    ACTION_ROW("appActionIfMaximumPinRetriesExceeded", false, "\"block\""),                                          \
    /* How long biometrics may stand in for the PIN: shorter is stricter; null = never overridden. */                \
    DURATION_ROW("pinRequiredInsteadOfBiometricTimeout", true, "null", MERGE_MIN),                                   \
    /* Characters that may be copied to any app despite the clipboard level: 0 = none, the strictest. */            \
    INT_ROW("allowedOutboundClipboardSharingExceptionLength", 0, 65535, "0", MERGE_MIN),                             \
    ENUM_ROW("notificationRestriction", notification_restriction, false, "\"allow\"", MERGE_ORDER),                  \
    INT_ROW("previousPinBlockCount", 0, 24, "0", MERGE_MAX),                                                         \
    ENUM_ROW("managedBrowser", browser_type, false, "\"notConfigured\"", MERGE_ORDER),                               \
    ENUM_ROW("maximumAllowedDeviceThreatLevel", threat_level, false, "\"notConfigured\"", MERGE_THREAT),             \
    ENUM_ROW("mobileThreatDefenseRemediationAction", mtd_remediation_action, false, "\"block\"", MERGE_ACTION),      \
    /* Which partner to trust has no stricter side. */                                                               \
    ENUM_ROW("mobileThreatDefensePartnerPriority", mtd_partner_priority, true, "null", MERGE_FIRST),                 \
    BOOL_ROW("blockDataIngestionIntoOrganizationDocuments", "false", MERGE_TRUE_WINS),                               \
    /* Sources the user may open org data from when ingestion is blocked: fewer is stricter. */                      \
    ENUMLIST_ROW("allowedDataIngestionLocations", ingestion_location, "[]", MERGE_INTERSECT),                        \
    ACTION_ROW("appActionIfUnableToAuthenticateUser", true, "null"),                                                 \
    ENUM_ROW("dialerRestrictionLevel", dialer_level, false, "\"allApps\"", MERGE_ORDER),                             \
    /* Grace before blocking in off-clock hours: shorter is stricter. */                                             \
    DURATION_ROW("gracePeriodToBlockAppsDuringOffClockHours", true, "null", MERGE_MIN),                              \
    ENUM_ROW("protectedMessagingRedirectAppType", messaging_redirect, false, "\"anyApp\"", MERGE_ORDER),             \
    /* targetedManagedAppProtection: targeting, not protection settings. */                                          \
    FLAGS_ROW("targetedAppManagementLevels", app_management_level, "\"unspecified\"", MERGE_NONE),                   \
    ENUM_ROW("appGroupType", app_group_type, false, "\"selectedPublicApps\"", MERGE_NONE)

static const struct schema_prop android_props[] = {
    MANAGED_APP_POLICY_ROWS,
    MANAGED_APP_PROTECTION_ROWS,
    /* androidManagedAppProtection's own properties (deployedAppCount is server-owned). */
    BOOL_ROW("screenCaptureBlocked", "false", MERGE_TRUE_WINS),
    /* true drops app-level encryption when the device encrypts: true relaxes. */
    BOOL_ROW("disableAppEncryptionIfDeviceEncryptionIsEnabled", "false", MERGE_FALSE_WINS),
    BOOL_ROW("encryptAppData", "false", MERGE_TRUE_WINS),
    PATCH_ROW("minimumRequiredPatchVersion"),
    PATCH_ROW("minimumWarningPatchVersion"),
    /* Apps exempt from the transfer policy: fewer exemptions is stricter. Unlike allow lists,
     * an empty list here means "no exemption", the strictest value, not "no limit". */
    KV_ROW("exemptedAppPackages", MERGE_INTERSECT),
    PATCH_ROW("minimumWipePatchVersion"),
    /* ';'-separated allow list (reference §9: "Google;Samsung" & "Google" = "Google"). */
    STR_ROW("allowedAndroidDeviceManufacturers", 0, true, "null", MERGE_INTERSECT),
    ACTION_ROW("appActionIfAndroidDeviceManufacturerNotAllowed", false, "\"block\""),
    ACTION_ROW("appActionIfAccountIsClockedOut", true, "null"),
    ACTION_ROW("appActionIfSamsungKnoxAttestationRequired", true, "null"),
    ENUM_ROW("requiredAndroidSafetyNetDeviceAttestationType", safetynet_attestation, false, "\"none\"", MERGE_ORDER),
    ACTION_ROW("appActionIfAndroidSafetyNetDeviceAttestationFailed", false, "\"block\""),
    ENUM_ROW("requiredAndroidSafetyNetAppsVerificationType", safetynet_apps, false, "\"none\"", MERGE_ORDER),
    ACTION_ROW("appActionIfAndroidSafetyNetAppsVerificationFailed", false, "\"block\""),
    /* Graph shows "" for the custom browser of a new policy (framework exports). */
    STR_ROW("customBrowserPackageId", 0, true, "\"\"", MERGE_FIRST),
    STR_ROW("customBrowserDisplayName", 0, true, "\"\"", MERGE_FIRST),
    VERSION_ROW("minimumRequiredCompanyPortalVersion", MERGE_VERSION_MAX),
    VERSION_ROW("minimumWarningCompanyPortalVersion", MERGE_VERSION_MAX),
    VERSION_ROW("minimumWipeCompanyPortalVersion", MERGE_VERSION_MAX),
    BOOL_ROW("keyboardsRestricted", "false", MERGE_TRUE_WINS),
    /* Keyboards allowed while keyboardsRestricted (a gate, like saveAsBlocked for storage
     * locations): fewer approved is stricter. Matched by name (the package id). */
    KV_ROW("approvedKeyboards", MERGE_INTERSECT),
    STRLIST_ROW("allowedAndroidDeviceModels", "[]", MERGE_INTERSECT),
    ACTION_ROW("appActionIfAndroidDeviceModelNotAllowed", false, "\"block\""),
    STR_ROW("customDialerAppPackageId", 0, true, "null", MERGE_FIRST),
    STR_ROW("customDialerAppDisplayName", 0, true, "null", MERGE_FIRST),
    BOOL_ROW("biometricAuthenticationBlocked", "false", MERGE_TRUE_WINS),
    ENUM_ROW("requiredAndroidSafetyNetEvaluationType", safetynet_evaluation, false, "\"basic\"", MERGE_ORDER),
    /* Days a Company Portal update may be deferred: fewer is stricter, but 0 means "not set"
     * and must be skipped by the merge, not win as the minimum. Portal range 0..365. */
    INT_ROW("blockAfterCompanyPortalUpdateDeferralInDays", 0, 365, "0", MERGE_MIN),
    INT_ROW("warnAfterCompanyPortalUpdateDeferralInDays", 0, 365, "0", MERGE_MIN),
    INT_ROW("wipeAfterCompanyPortalUpdateDeferralInDays", 0, 365, "0", MERGE_MIN),
    BOOL_ROW("deviceLockRequired", "false", MERGE_TRUE_WINS),
    ACTION_ROW("appActionIfDeviceLockNotSet", false, "\"block\""),
    /* Forcing the VPN on launch restricts where traffic goes: true is stricter. */
    BOOL_ROW("connectToVpnOnLaunch", "false", MERGE_TRUE_WINS),
    ACTION_ROW("appActionIfDevicePasscodeComplexityLessThanLow", true, "null"),
    ACTION_ROW("appActionIfDevicePasscodeComplexityLessThanMedium", true, "null"),
    ACTION_ROW("appActionIfDevicePasscodeComplexityLessThanHigh", true, "null"),
    BOOL_ROW("requireClass3Biometrics", "false", MERGE_TRUE_WINS),
    BOOL_ROW("requirePinAfterBiometricChange", "false", MERGE_TRUE_WINS),
    /* null = ignore; true lets fingerprints and biometrics stand in for the PIN: true relaxes. */
    BOOL_NULLABLE_ROW("fingerprintAndBiometricEnabled", MERGE_FALSE_WINS),
    STR_ROW("messagingRedirectAppPackageId", 0, true, "null", MERGE_FIRST),
    STR_ROW("messagingRedirectAppDisplayName", 0, true, "null", MERGE_FIRST),
};

static const struct schema_prop ios_props[] = {
    MANAGED_APP_POLICY_ROWS,
    MANAGED_APP_PROTECTION_ROWS,
    /* iosManagedAppProtection's own properties (deployedAppCount is server-owned). */
    ENUM_ROW("genmojiConfigurationState", ios_config_state, true, "null", MERGE_ORDER),
    ENUM_ROW("screenCaptureConfigurationState", ios_config_state, true, "null", MERGE_ORDER),
    ENUM_ROW("writingToolsConfigurationState", ios_config_state, true, "null", MERGE_ORDER),
    ENUM_ROW("appDataEncryptionType", ios_encryption, false, "\"whenDeviceLocked\"", MERGE_ORDER),
    VERSION_ROW("minimumRequiredSdkVersion", MERGE_VERSION_MAX),
    BOOL_ROW("faceIdBlocked", "false", MERGE_TRUE_WINS),
    /* true lets widgets show org data: true relaxes. */
    BOOL_ROW("allowWidgetContentSync", "false", MERGE_FALSE_WINS),
    /* Protocols exempt from the transfer policy: fewer exemptions is stricter; empty = no
     * exemption (strictest), not "no limit". */
    KV_ROW("exemptedAppProtocols", MERGE_INTERSECT),
    VERSION_ROW("minimumWipeSdkVersion", MERGE_VERSION_MAX),
    /* ';'-separated allow list, a string unlike Android's collection. */
    STR_ROW("allowedIosDeviceModels", 0, true, "null", MERGE_INTERSECT),
    ACTION_ROW("appActionIfIosDeviceModelNotAllowed", false, "\"block\""),
    ACTION_ROW("appActionIfAccountIsClockedOut", true, "null"),
    BOOL_ROW("thirdPartyKeyboardsBlocked", "false", MERGE_TRUE_WINS),
    BOOL_ROW("filterOpenInToOnlyManagedApps", "false", MERGE_TRUE_WINS),
    /* true turns off Open-In protection of outbound data: true relaxes. */
    BOOL_ROW("disableProtectionOfManagedOutboundOpenInData", "false", MERGE_FALSE_WINS),
    BOOL_ROW("protectInboundDataFromUnknownSources", "false", MERGE_TRUE_WINS),
    STR_ROW("customBrowserProtocol", 0, true, "\"\"", MERGE_FIRST),
    STR_ROW("customDialerAppProtocol", 0, true, "null", MERGE_FIRST),
    /* Links that must open in the managed app: every policy's links stay protected, so union. */
    STRLIST_ROW("managedUniversalLinks", "[]", MERGE_UNION),
    /* Links allowed to open unmanaged apps: fewer exemptions is stricter; empty = no exemption. */
    STRLIST_ROW("exemptedUniversalLinks", "[]", MERGE_INTERSECT),
    VERSION_ROW("minimumWarningSdkVersion", MERGE_VERSION_MAX),
    STR_ROW("messagingRedirectAppUrlScheme", 0, true, "null", MERGE_FIRST),
};

/* targetedManagedAppConfiguration: never merged (reference §14), so MERGE_NONE throughout. */
static const struct schema_prop app_configuration_props[] = {
    MANAGED_APP_POLICY_ROWS,
    KV_ROW("customSettings", MERGE_NONE),
    ENUM_ROW("appGroupType", app_group_type, false, "\"selectedPublicApps\"", MERGE_NONE),
    FLAGS_ROW("targetedAppManagementLevels", app_management_level, "\"unspecified\"", MERGE_NONE),
};

/* mobileThreatDefenseConnector (reference §7): tenant settings, not merged. */
static const struct schema_prop connector_props[] = {
    BOOL_ROW("androidMobileApplicationManagementEnabled", "false", MERGE_NONE),
    BOOL_ROW("iosMobileApplicationManagementEnabled", "false", MERGE_NONE),
    BOOL_ROW("windowsMobileApplicationManagementEnabled", "false", MERGE_NONE),
    BOOL_ROW("androidEnabled", "false", MERGE_NONE),
    BOOL_ROW("iosEnabled", "false", MERGE_NONE),
    BOOL_ROW("windowsEnabled", "false", MERGE_NONE),
    BOOL_ROW("macEnabled", "false", MERGE_NONE),
    BOOL_ROW("androidDeviceBlockedOnMissingPartnerData", "false", MERGE_NONE),
    BOOL_ROW("iosDeviceBlockedOnMissingPartnerData", "false", MERGE_NONE),
    BOOL_ROW("windowsDeviceBlockedOnMissingPartnerData", "false", MERGE_NONE),
    BOOL_ROW("macDeviceBlockedOnMissingPartnerData", "false", MERGE_NONE),
    BOOL_ROW("partnerUnsupportedOsVersionBlocked", "false", MERGE_NONE),
    /* Graph documents no range; 1..365 days is ours (0 would mark every partner unresponsive). */
    INT_ROW("partnerUnresponsivenessThresholdInDays", 1, 365, "7", MERGE_NONE),
    /* Mixed casing as Graph spells it: IOS...Application, Ios...Certificate. */
    BOOL_ROW("allowPartnerToCollectIOSApplicationMetadata", "false", MERGE_NONE),
    BOOL_ROW("allowPartnerToCollectIOSPersonalApplicationMetadata", "false", MERGE_NONE),
    BOOL_ROW("allowPartnerToCollectIosCertificateMetadata", "false", MERGE_NONE),
    BOOL_ROW("allowPartnerToCollectIosPersonalCertificateMetadata", "false", MERGE_NONE),
    BOOL_ROW("microsoftDefenderForEndpointAttachEnabled", "false", MERGE_NONE),
    /* Not in Graph's 2024 table; sent and read back by CIPP (docs/research/graph-defender-shapes.md, Q6). */
    BOOL_ROW("grantMobileThreatDefensePartnerRole", "false", MERGE_NONE),
};

/* Our minimal directory: the user properties riskgate needs. */
static const struct schema_prop user_props[] = {
    STR_ROW("userPrincipalName", NAME_MAX_BYTES, false, "\"\"", MERGE_NONE),
    STR_ROW("displayName", NAME_MAX_BYTES, false, "\"\"", MERGE_NONE),
    BOOL_ROW("accountEnabled", "true", MERGE_NONE),
    STR_ROW("mail", NAME_MAX_BYTES, true, "null", MERGE_NONE),
    /* What dynamic membership rules read (policy/dynrule.h), with Graph's user names and limits. */
    STR_ROW("givenName", 64, true, "null", MERGE_NONE),
    STR_ROW("surname", 64, true, "null", MERGE_NONE),
    STR_ROW("mailNickname", 64, true, "null", MERGE_NONE),
    STR_ROW("jobTitle", 128, true, "null", MERGE_NONE),
    STR_ROW("department", 64, true, "null", MERGE_NONE),
    STR_ROW("companyName", 64, true, "null", MERGE_NONE),
    STR_ROW("employeeId", 16, true, "null", MERGE_NONE),
    STR_ROW("employeeType", 64, true, "null", MERGE_NONE),
    STR_ROW("officeLocation", 128, true, "null", MERGE_NONE),
    STR_ROW("streetAddress", 1024, true, "null", MERGE_NONE),
    STR_ROW("city", 128, true, "null", MERGE_NONE),
    STR_ROW("state", 128, true, "null", MERGE_NONE),
    STR_ROW("postalCode", 40, true, "null", MERGE_NONE),
    STR_ROW("country", 128, true, "null", MERGE_NONE),
    STR_ROW("usageLocation", 2, true, "null", MERGE_NONE),
    STR_ROW("preferredLanguage", 64, true, "null", MERGE_NONE),
    STR_ROW("mobilePhone", 64, true, "null", MERGE_NONE),
    STR_ROW("faxNumber", 64, true, "null", MERGE_NONE),
    STR_ROW("userType", 64, true, "null", MERGE_NONE),
    STR_ROW("passwordPolicies", 256, true, "null", MERGE_NONE),
    STRLIST_ROW("businessPhones", "[]", MERGE_NONE),
    STRLIST_ROW("otherMails", "[]", MERGE_NONE),
};

static const struct schema_prop group_props[] = {
    STR_ROW("displayName", NAME_MAX_BYTES, false, "\"\"", MERGE_NONE),
    STR_ROW("description", 0, true, "null", MERGE_NONE),
    STR_ROW("mailNickname", 64, true, "null", MERGE_NONE), /* Entra: at most 64 characters */
    BOOL_ROW("securityEnabled", "true", MERGE_NONE),
    BOOL_ROW("mailEnabled", "false", MERGE_NONE),
    /* "DynamicMembership": members computed from membershipRule; "Unified": a Microsoft 365 group. */
    ENUMLIST_ROW("groupTypes", group_types, "[]", MERGE_NONE),
    STR_ROW("membershipRule", 12288, true, "null", MERGE_NONE), /* 3072 characters (dynrule.h), in UTF-8 bytes */
    ENUM_ROW("membershipRuleProcessingState", rule_processing, true, "null", MERGE_NONE),
    ENUM_ROW("visibility", group_visibility, true, "null", MERGE_NONE),
    STR_ROW("classification", 256, true, "null", MERGE_NONE),
    BOOL_NULLABLE_ROW("isAssignableToRole", MERGE_NONE),
};

struct kind_info {
    const char *odata_type;
    const struct schema_prop *props;
    size_t count;
};

#define KIND(t, a) {t, a, sizeof(a) / sizeof((a)[0])}
static const struct kind_info kinds[SCHEMA_KIND_COUNT] = {
    [SCHEMA_ANDROID_PROTECTION] = KIND("#microsoft.graph.androidManagedAppProtection", android_props),
    [SCHEMA_IOS_PROTECTION] = KIND("#microsoft.graph.iosManagedAppProtection", ios_props),
    [SCHEMA_APP_CONFIGURATION] = KIND("#microsoft.graph.targetedManagedAppConfiguration", app_configuration_props),
    [SCHEMA_CONNECTOR] = KIND("#microsoft.graph.mobileThreatDefenseConnector", connector_props),
    [SCHEMA_USER] = KIND("#microsoft.graph.user", user_props),
    [SCHEMA_GROUP] = KIND("#microsoft.graph.group", group_props),
};

/* Server-owned properties: accepted and ignored on input (schema.h). */
static const char *const server_owned[] = {"id",      "createdDateTime", "lastModifiedDateTime",
                                           "version", "isAssigned",      "deployedAppCount",
                                           NULL};
static const char *const connector_server_owned[] = {"lastHeartbeatDateTime", "partnerState", NULL};
/* Read-only in Graph: a body that carries them (an export replayed) has them ignored, as Graph does. */
static const char *const directory_read_only[] = {"deletedDateTime", "renewedDateTime", "expirationDateTime",
                                                  "onPremisesSyncEnabled", "onPremisesLastSyncDateTime",
                                                  "onPremisesSecurityIdentifier", "onPremisesSamAccountName",
                                                  "onPremisesDomainName", "onPremisesNetBiosName",
                                                  "onPremisesProvisioningErrors", "proxyAddresses", "securityIdentifier",
                                                  "imAddresses", "creationOptions", "resourceBehaviorOptions",
                                                  "resourceProvisioningOptions", "mail", NULL};

static bool valid_kind(enum schema_kind kind)
{
    return (int)kind >= 0 && kind < SCHEMA_KIND_COUNT;
}

const char *schema_odata_type(enum schema_kind kind)
{
    return valid_kind(kind) ? kinds[kind].odata_type : NULL;
}

int schema_kind_from_odata_type(const char *odata_type, enum schema_kind *out)
{
    if (!odata_type)
        return RG_ENOTFOUND;
    if (*odata_type == '#')
        odata_type++;
    for (int k = 0; k < SCHEMA_KIND_COUNT; k++) {
        if (strcmp(kinds[k].odata_type + 1, odata_type) == 0) {
            if (out)
                *out = (enum schema_kind)k;
            return 0;
        }
    }
    return RG_ENOTFOUND;
}

const struct schema_prop *schema_props(enum schema_kind kind, size_t *count)
{
    if (!valid_kind(kind)) {
        if (count)
            *count = 0;
        return NULL;
    }
    if (count)
        *count = kinds[kind].count;
    return kinds[kind].props;
}

const struct schema_prop *schema_find(enum schema_kind kind, const char *name)
{
    if (!valid_kind(kind) || !name)
        return NULL;
    for (size_t i = 0; i < kinds[kind].count; i++)
        if (strcmp(kinds[kind].props[i].name, name) == 0)
            return &kinds[kind].props[i];
    return NULL;
}

/* ---- validation ---- */

static bool in_list(const char *const *list, const char *s)
{
    for (; list && *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

/*
 * Copies at most outlen-1 bytes of s into out without splitting a UTF-8
 * sequence (the messages go back to clients as JSON strings, which must be
 * valid UTF-8). Returns out.
 */
static const char *clip(char *out, size_t outlen, const char *s)
{
    size_t n = strlen(s);
    if (n >= outlen) {
        n = outlen - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--; /* s[n] would be a continuation byte: cut before its sequence */
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

/* Cuts an incomplete UTF-8 sequence off the end of s (left by a truncating snprintf). */
static void trim_utf8_tail(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (n - (i - 1) < want)
        s[i - 1] = '\0';
}

/* Fills err: property = prop, message = "<prop>: <fmt...>". Returns RG_EINVAL. */
__attribute__((format(printf, 3, 4))) static int fail(struct schema_error *err, const char *prop, const char *fmt, ...)
{
    char name[101];
    clip(err->property, sizeof err->property, prop);
    int n = snprintf(err->message, sizeof err->message, "%s: ", clip(name, sizeof name, prop));
    if (n < 0 || (size_t)n >= sizeof err->message)
        return RG_EINVAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message + n, sizeof err->message - (size_t)n, fmt, ap);
    va_end(ap);
    trim_utf8_tail(err->message);
    return RG_EINVAL;
}

/*
 * Appends "a, b, c" (the enum's values) to err->message, cutting at a value
 * boundary with ", ..." when the message is full. Returns RG_EINVAL.
 */
static int append_values(struct schema_error *err, const char *const *values)
{
    size_t cap = sizeof err->message, len = strlen(err->message);
    for (const char *const *v = values; v && *v; v++) {
        const char *sep = v == values ? "" : ", ";
        size_t need = strlen(sep) + strlen(*v);
        /* Keep room for ", ..." unless this is the last value. */
        if (len + need + (v[1] ? 5 : 0) >= cap) {
            snprintf(err->message + len, cap - len, "%s...", v == values ? "" : ", ");
            break;
        }
        snprintf(err->message + len, cap - len, "%s%s", sep, *v);
        len += need;
    }
    return RG_EINVAL;
}

static int fail_enum_value(struct schema_error *err, const struct schema_prop *p, const char *value)
{
    char shown[41];
    fail(err, p->name, "unknown value '%s'; expected %s", clip(shown, sizeof shown, value),
         p->type == SCHEMA_T_FLAGS ? "comma-separated names of " : "one of ");
    return append_values(err, p->enum_values);
}

/* A JSON string without NUL bytes; *len receives its byte length. */
static const char *string_of(const json_t *v, size_t *len)
{
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n)
        return NULL;
    if (len)
        *len = n;
    return s;
}

static bool patch_date_valid(const char *s)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return false;
    if (strcmp(s, "0000-00-00") == 0)
        return true;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

/* ISO-8601 duration, >= 0. The character filter keeps strtod's extras (hex, exponents) out. */
static int check_duration(const struct schema_prop *p, const char *s, struct schema_error *err)
{
    double secs;
    const char *body = s[0] == '-' ? s + 1 : s;
    if (strlen(s) > DURATION_MAX_BYTES || body[0] != 'P' ||
        strspn(body + 1, "0123456789.YMWDTHS") != strlen(body + 1) || util_duration_parse(s, &secs) != 0)
        return fail(err, p->name, "not an ISO-8601 duration (like PT30M, PT12H or P90D)");
    if (secs < 0)
        return fail(err, p->name, "must not be negative");
    return 0;
}

/* "unmanaged,mdm": every comma-separated name (spaces around it allowed) is a value of the enum. */
static int check_flags(const struct schema_prop *p, const char *s, struct schema_error *err)
{
    const char *q = s;
    for (;;) {
        while (*q == ' ')
            q++;
        size_t n = strcspn(q, ", ");
        char name[128];
        if (n == 0 || n >= sizeof name)
            return fail_enum_value(err, p, s);
        memcpy(name, q, n);
        name[n] = '\0';
        if (!in_list(p->enum_values, name))
            return fail_enum_value(err, p, name);
        q += n;
        while (*q == ' ')
            q++;
        if (!*q)
            return 0;
        if (*q != ',')
            return fail_enum_value(err, p, s);
        q++;
    }
}

static int check_kv_item(const struct schema_prop *p, size_t i, const json_t *item, struct schema_error *err)
{
    if (!json_is_object(item))
        return fail(err, p->name, "item %zu must be an object {\"name\": string, \"value\": string}", i);
    const char *key;
    const json_t *v;
    bool has_name = false;
    json_object_foreach((json_t *)item, key, v) {
        if (strstr(key, "@odata.") != NULL)
            continue; /* "@odata.type": "microsoft.graph.keyValuePair" */
        if (strcmp(key, "name") == 0) {
            size_t len;
            if (!string_of(v, &len) || len > STRING_MAX_DEFAULT)
                return fail(err, p->name, "item %zu: \"name\" must be a string of at most %d bytes", i,
                            STRING_MAX_DEFAULT);
            has_name = true;
        } else if (strcmp(key, "value") == 0) {
            size_t len;
            if (!json_is_null(v) && (!string_of(v, &len) || len > STRING_MAX_DEFAULT))
                return fail(err, p->name, "item %zu: \"value\" must be a string of at most %d bytes", i,
                            STRING_MAX_DEFAULT);
        } else {
            char shown[41];
            return fail(err, p->name, "item %zu: unknown key '%s'; a keyValuePair has name and value", i,
                        clip(shown, sizeof shown, key));
        }
    }
    if (!has_name)
        return fail(err, p->name, "item %zu: \"name\" is required", i);
    return 0;
}

/* STRING_LIST, ENUM_LIST, KV_LIST. A STRING_LIST row's max bounds each item (0 = 4096 bytes). */
static int check_list(const struct schema_prop *p, const json_t *v, struct schema_error *err)
{
    if (!json_is_array(v))
        return fail(err, p->name, "must be an array");
    if (json_array_size(v) > LIST_MAX_ITEMS)
        return fail(err, p->name, "must have at most %d items", LIST_MAX_ITEMS);
    size_t maxlen = p->max > 0 ? (size_t)p->max : STRING_MAX_DEFAULT;
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item) {
        size_t len;
        const char *s;
        int rc;
        switch (p->type) {
        case SCHEMA_T_STRING_LIST:
            s = string_of(item, &len);
            if (!s)
                return fail(err, p->name, "item %zu must be a string", i);
            if (len > maxlen)
                return fail(err, p->name, "item %zu must be at most %zu bytes", i, maxlen);
            break;
        case SCHEMA_T_ENUM_LIST:
            s = string_of(item, NULL);
            if (!s) {
                fail(err, p->name, "item %zu must be a string, one of ", i);
                return append_values(err, p->enum_values);
            }
            if (!in_list(p->enum_values, s))
                return fail_enum_value(err, p, s);
            break;
        default: /* SCHEMA_T_KV_LIST */
            if ((rc = check_kv_item(p, i, item, err)) != 0)
                return rc;
            break;
        }
    }
    return 0;
}

/* One value against its row. */
static int check_value(const struct schema_prop *p, const json_t *v, struct schema_error *err)
{
    if (json_is_null(v))
        return p->nullable ? 0 : fail(err, p->name, "must not be null");
    size_t len;
    const char *s;
    int64_t ms;
    switch (p->type) {
    case SCHEMA_T_BOOL:
        return json_is_boolean(v) ? 0 : fail(err, p->name, "must be true or false");
    case SCHEMA_T_INT32: {
        int64_t lo = p->min, hi = p->max;
        if (lo == 0 && hi == 0)
            hi = INT32_MAX;
        if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
            return fail(err, p->name, "must be an integer from %lld to %lld", (long long)lo, (long long)hi);
        return 0;
    }
    case SCHEMA_T_STRING: {
        size_t maxlen = p->max > 0 ? (size_t)p->max : STRING_MAX_DEFAULT;
        if (!(s = string_of(v, &len)))
            return fail(err, p->name, "must be a string");
        if (len > maxlen)
            return fail(err, p->name, "must be at most %zu bytes", maxlen);
        return 0;
    }
    case SCHEMA_T_VERSION:
        if (!(s = string_of(v, NULL)) || (*s && !util_version_valid(s)))
            return fail(err, p->name, "not a version (like 14.8 or 1.2.3)");
        return 0;
    case SCHEMA_T_PATCH_DATE:
        if (!(s = string_of(v, NULL)) || !patch_date_valid(s))
            return fail(err, p->name, "must be a date YYYY-MM-DD (0000-00-00 for none)");
        return 0;
    case SCHEMA_T_DURATION:
        if (!(s = string_of(v, NULL)))
            return fail(err, p->name, "not an ISO-8601 duration (like PT30M, PT12H or P90D)");
        return check_duration(p, s, err);
    case SCHEMA_T_DATETIME:
        if (!(s = string_of(v, NULL)) || util_time_parse(s, &ms) != 0)
            return fail(err, p->name, "not an ISO-8601 UTC date and time (like 2024-01-02T03:04:05Z)");
        return 0;
    case SCHEMA_T_ENUM:
    case SCHEMA_T_FLAGS:
        if (!(s = string_of(v, NULL))) {
            fail(err, p->name, "must be a string, %s",
                 p->type == SCHEMA_T_FLAGS ? "comma-separated names of " : "one of ");
            return append_values(err, p->enum_values);
        }
        if (p->type == SCHEMA_T_FLAGS)
            return check_flags(p, s, err);
        return in_list(p->enum_values, s) ? 0 : fail_enum_value(err, p, s);
    case SCHEMA_T_STRING_LIST:
    case SCHEMA_T_ENUM_LIST:
    case SCHEMA_T_KV_LIST:
        return check_list(p, v, err);
    }
    return fail(err, p->name, "has an unsupported type");
}

/* "alias@domain": one '@', something on both sides, no spaces. */
static bool address_like(const char *s)
{
    const char *at = strchr(s, '@');
    return at && at != s && at[1] && !strchr(at + 1, '@') && !strpbrk(s, " \t\r\n");
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

/* Rules beyond the row: names that must not be empty, address shapes. */
static int check_extra(enum schema_kind kind, const struct schema_prop *p, const json_t *v, bool is_patch,
                       struct schema_error *err)
{
    const char *s = json_string_value(v);
    if (!s)
        return 0;
    if (kind != SCHEMA_CONNECTOR && strcmp(p->name, "displayName") == 0 && blank(s))
        return is_patch ? fail(err, p->name, "must not be empty") : fail(err, p->name, "is required");
    if (kind == SCHEMA_USER && strcmp(p->name, "userPrincipalName") == 0 && !address_like(s))
        return blank(s) && !is_patch ? fail(err, p->name, "is required")
                                     : fail(err, p->name, "must look like alias@domain");
    if (kind == SCHEMA_USER && strcmp(p->name, "mail") == 0 && !address_like(s))
        return fail(err, p->name, "must be an email address like alias@domain");
    return 0;
}

static bool ignored_key(enum schema_kind kind, const char *key)
{
    if (strstr(key, "@odata.") != NULL) /* "@odata.context", "prop@odata.type", ... */
        return true;
    if (in_list(server_owned, key))
        return true;
    if (kind == SCHEMA_GROUP && in_list(directory_read_only, key))
        return true;
    if (kind == SCHEMA_USER && strcmp(key, "mail") && in_list(directory_read_only, key))
        return true;
    return kind == SCHEMA_CONNECTOR && in_list(connector_server_owned, key);
}

/* Appends item to a sep-separated list in out, cut at a UTF-8 boundary when it does not fit. */
static void append_list(char *out, size_t outlen, const char *sep, const char *item)
{
    size_t n = strlen(out), sl = n ? strlen(sep) : 0, il = strlen(item);
    if (n + sl >= outlen)
        return;
    memcpy(out + n, sep, sl);
    n += sl;
    size_t room = outlen - n - 1;
    memcpy(out + n, item, il < room ? il : room);
    out[n + (il < room ? il : room)] = '\0';
    trim_utf8_tail(out);
}

/* Properties the Intune portal sends in app protection bodies that are no Graph property. */
static const char *const portal_only[] = {"periodBeforePinResetRequired", "pinRequiredInsteadOfBiometric",
                                          "shareWithBrowserVirtualSetting", NULL};

/* True for an unknown name Graph accepts and ignores on this kind: the other platform's, the portal's own. */
static bool tolerated(enum schema_kind kind, const char *key)
{
    if (kind != SCHEMA_ANDROID_PROTECTION && kind != SCHEMA_IOS_PROTECTION)
        return false;
    if (in_list(portal_only, key))
        return true;
    return schema_find(kind == SCHEMA_ANDROID_PROTECTION ? SCHEMA_IOS_PROTECTION : SCHEMA_ANDROID_PROTECTION, key) != NULL;
}

static int check_odata_type(enum schema_kind kind, const json_t *v, struct schema_error *err)
{
    const char *s = string_of(v, NULL);
    enum schema_kind found;
    if (!s)
        return fail(err, "@odata.type", "must be a string, %s", kinds[kind].odata_type);
    char shown[81];
    if (schema_kind_from_odata_type(s, &found) != 0 || found != kind)
        return fail(err, "@odata.type", "expected %s, got '%s'", kinds[kind].odata_type,
                    clip(shown, sizeof shown, s));
    return 0;
}

static int fail_nomem(struct schema_error *err)
{
    err->property[0] = '\0';
    snprintf(err->message, sizeof err->message, "out of memory");
    return RG_ENOMEM;
}

int schema_validate(enum schema_kind kind, const json_t *in, bool is_patch, json_t **out, struct schema_error *err)
{
    struct schema_error dummy;
    if (!err)
        err = &dummy;
    err->property[0] = '\0';
    err->message[0] = '\0';
    err->ignored[0] = '\0';
    if (out)
        *out = NULL;
    if (!valid_kind(kind) || !out) {
        snprintf(err->message, sizeof err->message, "invalid resource kind");
        return RG_EINVAL;
    }
    if (!json_is_object(in)) {
        snprintf(err->message, sizeof err->message, "the request body must be a JSON object");
        return RG_EINVAL;
    }
    const struct kind_info *ki = &kinds[kind];

    const char *key;
    const json_t *v;
    int rc;
    /* The type first: a body of another kind is reported as that, not as its first unknown property. */
    if ((v = json_object_get(in, "@odata.type")) && (rc = check_odata_type(kind, v, err)) != 0)
        return rc;
    /* Every problem of the body in one answer: unknown names first, then bad values. */
    char unknown[512] = "", bad[1024] = "";
    size_t nunknown = 0;
    json_object_foreach((json_t *)in, key, v) {
        if (ignored_key(kind, key))
            continue;
        const struct schema_prop *p = schema_find(kind, key);
        char name[101];
        clip(name, sizeof name, key);
        if (!p) {
            if (tolerated(kind, key)) {
                append_list(err->ignored, sizeof err->ignored, ", ", name);
            } else {
                if (!err->property[0])
                    clip(err->property, sizeof err->property, key);
                char quoted[104];
                snprintf(quoted, sizeof quoted, "'%s'", name);
                append_list(unknown, sizeof unknown, ", ", quoted);
                nunknown++;
            }
            continue;
        }
        struct schema_error one = {0};
        if ((rc = check_value(p, v, &one)) != 0 || (rc = check_extra(kind, p, v, is_patch, &one)) != 0) {
            if (rc == RG_ENOMEM)
                return fail_nomem(err);
            if (!err->property[0])
                snprintf(err->property, sizeof err->property, "%s", one.property);
            append_list(bad, sizeof bad, "; ", one.message);
        }
    }
    if (nunknown || bad[0]) {
        int n = 0;
        if (nunknown)
            n = snprintf(err->message, sizeof err->message,
                         "The propert%s %s %s not exist on type '%s'. Make sure to only use property names that are "
                         "defined by the type.%s",
                         nunknown > 1 ? "ies" : "y", unknown, nunknown > 1 ? "do" : "does", ki->odata_type + 1,
                         bad[0] ? " " : "");
        if (n >= 0 && (size_t)n < sizeof err->message && bad[0])
            snprintf(err->message + n, sizeof err->message - (size_t)n, "%s", bad);
        trim_utf8_tail(err->message);
        err->ignored[0] = '\0';
        return RG_EINVAL;
    }
    if (!is_patch) {
        /* Required on POST; empty values were rejected above. */
        if (kind == SCHEMA_USER && !json_object_get(in, "userPrincipalName"))
            return fail(err, "userPrincipalName", "is required");
        if (kind != SCHEMA_CONNECTOR && !json_is_string(json_object_get(in, "displayName")))
            return fail(err, "displayName", "is required");
    }

    json_t *o = json_object();
    if (!o)
        return fail_nomem(err);
    for (size_t i = 0; i < ki->count; i++) {
        const struct schema_prop *p = &ki->props[i];
        const json_t *given = json_object_get(in, p->name);
        json_t *val;
        if (given)
            val = json_deep_copy(given);
        else if (is_patch)
            continue;
        else
            val = jsonsafe_loadb(p->default_json, strlen(p->default_json), JSON_DECODE_ANY, NULL);
        if (!val || json_object_set_new(o, p->name, val) != 0) {
            json_decref(o);
            return fail_nomem(err);
        }
    }
    *out = o;
    return 0;
}
