/*
 * routes.c: the route table of riskgated, the map of its API. Every Graph
 * route is served under /beta/ and /v1.0/ alike ("{v}"); "{}" is one captured
 * path segment. See docs/api.md for bodies and answers.
 */
#include "server/api/api.h"
#include "server/app.h"

#define DAM "/{v}/deviceAppManagement/"
#define POLICY_ROUTES(seg, fam)                                                                                        \
    {"GET", DAM seg, api_policy_list, &fam, 0}, {"POST", DAM seg, api_policy_create, &fam, 0},                                \
        {"GET", DAM seg "/$count", api_policy_list, &fam, 0},                                                              \
        {"GET", DAM seg "/{}", api_policy_get, &fam, 0}, {"PATCH", DAM seg "/{}", api_policy_update, &fam, 0},                \
        {"DELETE", DAM seg "/{}", api_policy_delete, &fam, 0}, {"POST", DAM seg "/{}/assign", api_policy_assign, &fam, 0},    \
        {"GET", DAM seg "/{}/assignments", api_policy_assignments, &fam, 0},                                               \
        {"POST", DAM seg "/{}/targetApps", api_policy_target_apps, &fam, 0},                                               \
        {"GET", DAM seg "/{}/apps", api_policy_apps, &fam, 0},                                                             \
        {"GET", DAM seg "/{}/deploymentSummary", api_policy_deployment_summary, &fam, 0}

static const struct http_route routes[] = {
    {"GET", "/healthz", api_healthz, NULL, 0},
    {"GET", "/{v}/deviceAppManagement", api_device_app_management, NULL, 0},
    {"GET", "/metrics", api_metrics, NULL, 0},

    POLICY_ROUTES("androidManagedAppProtections", api_family_android),
    POLICY_ROUTES("iosManagedAppProtections", api_family_ios),
    POLICY_ROUTES("targetedManagedAppConfigurations", api_family_appconfig),
    POLICY_ROUTES("managedAppPolicies", api_family_all),
    {"GET", DAM "managedAppStatuses", api_app_status_list, NULL, 0},
    {"GET", DAM "managedAppStatuses/{}", api_app_status_get, NULL, 0},
    {"GET", DAM "managedAppRegistrations", api_registration_list, NULL, 0},
    {"GET", DAM "managedAppRegistrations/$count", api_registration_list, NULL, 0},
    {"GET", DAM "managedAppRegistrations/{}", api_registration_get, NULL, 0},
    {"GET", DAM "managedAppRegistrations/{}/appliedPolicies", api_registration_nav, "appliedPolicies", 0},
    {"GET", DAM "managedAppRegistrations/{}/intendedPolicies", api_registration_nav, "intendedPolicies", 0},
    {"GET", DAM "managedAppRegistrations/{}/operations", api_registration_nav, "operations", 0},

    {"GET", "/{v}/deviceManagement/auditEvents", api_audit_list, NULL, 0},
    {"GET", "/{v}/deviceManagement/auditEvents/$count", api_audit_list, NULL, 0},
    {"GET", "/{v}/deviceManagement/auditEvents/{}", api_audit_get, NULL, 0},
    {"GET", "/{v}/deviceManagement/mobileThreatDefenseConnectors", api_connector_list, NULL, 0},
    {"GET", "/{v}/deviceManagement/mobileThreatDefenseConnectors/$count", api_connector_list, NULL, 0},
    {"POST", "/{v}/deviceManagement/mobileThreatDefenseConnectors", api_connector_create, NULL, 0},
    {"GET", "/{v}/deviceManagement/mobileThreatDefenseConnectors/{}", api_connector_get, NULL, 0},
    {"PATCH", "/{v}/deviceManagement/mobileThreatDefenseConnectors/{}", api_connector_update, NULL, 0},
    {"DELETE", "/{v}/deviceManagement/mobileThreatDefenseConnectors/{}", api_connector_delete, NULL, 0},

    {"GET", "/{v}/users", api_user_list, NULL, 0},
    {"GET", "/{v}/users/$count", api_user_list, NULL, 0},
    {"POST", "/{v}/users", api_user_create, NULL, 0},
    {"GET", "/{v}/users/{}", api_user_get, NULL, 0},
    {"PATCH", "/{v}/users/{}", api_user_update, NULL, 0},
    {"DELETE", "/{v}/users/{}", api_user_delete, NULL, 0},
    {"GET", "/{v}/users/{}/getManagedAppPolicies", api_user_policies, NULL, 0},
    {"GET", "/{v}/users/{}/managedAppRegistrations", api_user_registrations, NULL, 0},
    {"GET", "/{v}/users/{}/managedAppRegistrations/$count", api_user_registrations, NULL, 0},
    {"POST", "/{v}/users/{}/wipeManagedAppRegistrationsByDeviceTag", api_user_wipe_by_tag, NULL, 0},
    {"POST", "/{v}/users/{}/wipeManagedAppRegistrationByDeviceTag", api_user_wipe_by_tag, NULL, 0},
    {"POST", "/{v}/users/{}/wipeManagedAppRegistrationsByAzureAdDeviceId", api_user_wipe_by_device, NULL, 0},
    {"POST", "/{v}/users/{}/wipeAndBlockManagedApps", api_user_wipe_and_block, NULL, 0},
    {"POST", "/{v}/users/{}/unblockManagedApps", api_user_unblock, NULL, 0},
    {"GET", "/{v}/users/{}/isManagedAppUserBlocked", api_user_is_blocked, NULL, 0},
    {"GET", "/{v}/groups", api_group_list, NULL, 0},
    {"GET", "/{v}/groups/$count", api_group_list, NULL, 0},
    {"POST", "/{v}/groups", api_group_create, NULL, 0},
    {"GET", "/{v}/groups/{}", api_group_get, NULL, 0},
    {"PATCH", "/{v}/groups/{}", api_group_update, NULL, 0},
    {"DELETE", "/{v}/groups/{}", api_group_delete, NULL, 0},
    {"GET", "/{v}/groups/{}/members", api_group_members, NULL, 0},
    {"GET", "/{v}/groups/{}/members/$count", api_group_members, NULL, 0},
    {"POST", "/{v}/groups/{}/members/$ref", api_group_member_add, NULL, 0},
    {"DELETE", "/{v}/groups/{}/members/{}/$ref", api_group_member_remove, NULL, 0},
    {"POST", "/{v}/$batch", api_batch, NULL, 0}, /* JSON batching: each step dispatched through this table */

    {"GET", "/riskgate/v1/whoami", api_whoami, NULL, 0},
    {"GET", "/riskgate/v1/tenants", api_tenant_list, NULL, 0},
    {"POST", "/riskgate/v1/tenants", api_tenant_create, NULL, 0},
    {"GET", "/riskgate/v1/keys", api_key_list, NULL, 0},
    {"POST", "/riskgate/v1/keys", api_key_create, NULL, 0},
    {"DELETE", "/riskgate/v1/keys/{}", api_key_delete, NULL, 0},
    {"GET", "/riskgate/v1/effectivePolicy", api_effective, NULL, 0},
    {"POST", "/riskgate/v1/enrollmentCodes", api_enrollment_create, NULL, 0},
    {"POST", "/riskgate/v1/partnerKeys", api_partner_key_create, NULL, 0},
    {"GET", "/riskgate/v1/threatSignal", api_threat_signal, NULL, 0},

    /* the device agent (docs/device-api.md) */
    {"POST", "/device/v1/activate", api_device_activate, NULL, 0},
    {"POST", "/device/v1/heartbeat", api_device_heartbeat, NULL, 0},
    {"GET", "/device/v1/config", api_device_config, NULL, 0},
    {"POST", "/device/v1/detections", api_device_detections, NULL, 0},
    {"POST", "/device/v1/signout", api_device_signout, NULL, 0},
    {"GET", "/device/v1/indicators", api_device_indicators, NULL, 0},
    {"GET", "/device/v1/wait", api_device_wait, NULL, 0},

    /* managed apps (docs/app-api.md) */
    {"POST", "/app/v1/register", api_app_register, NULL, 0},
    {"POST", "/app/v1/checkin", api_app_checkin, NULL, 0},
    {"GET", "/app/v1/wait", api_app_wait, NULL, 0},
    {"POST", "/app/v1/wipe/{}/confirm", api_app_wipe_confirm, NULL, 0},
    {"GET", "/app/v1/serverKey", api_app_server_key, NULL, 0}, /* public: the key apps build in */
    {"GET", "/app/v1/deviceNonce", api_app_device_nonce, NULL, 0}, /* public: for the agent's device proof */
    {"GET", "/riskgate/v1/wipeRequests", api_wipe_list, NULL, 0},
    {"GET", "/riskgate/v1/tenantSettings", api_tenant_settings_get, NULL, 0},
    {"PATCH", "/riskgate/v1/tenantSettings", api_tenant_settings_update, NULL, 0},

    /* third-party threat-defense partners */
    {"POST", "/partner/v1/heartbeat", api_partner_heartbeat, NULL, 0},
    {"POST", "/partner/v1/devices/{}/threatLevel", api_partner_level, NULL, 0},

    /* Defender-shaped SOC API */
    {"POST", "/api/indicators", api_indicator_submit, NULL, 0},
    {"GET", "/api/indicators", api_indicator_list, NULL, 0},
    {"GET", "/api/indicators/$count", api_indicator_list, NULL, 0}, /* before {}: the first match wins */
    {"POST", "/api/indicators/import", api_indicator_import, NULL, HTTP_MAX_IMPORT_BODY},
    {"GET", "/api/indicators/{}", api_indicator_get, NULL, 0},
    {"DELETE", "/api/indicators/{}", api_indicator_delete, NULL, 0},
    {"POST", "/api/indicators/BatchDelete", api_indicator_batch_delete, NULL, HTTP_MAX_IMPORT_BODY},
    {"POST", "/api/indicators/BatchUpdate", api_indicator_batch_update, NULL, HTTP_MAX_IMPORT_BODY},
    {"GET", "/api/machines", api_machine_list, NULL, 0},
    {"GET", "/api/machines/$count", api_machine_list, NULL, 0},
    {"GET", "/api/machines/{}", api_machine_get, NULL, 0},
    {"GET", "/api/machines/{}/alerts", api_machine_alerts, NULL, 0},
    {"GET", "/api/machines/{}/alerts/$count", api_machine_alerts, NULL, 0},
    {"POST", "/api/machines/{}/tags", api_machine_tags, NULL, 0},
    {"POST", "/api/machines/{}/offboard", api_machine_offboard, NULL, 0},
    {"GET", "/api/alerts", api_alert_list, NULL, 0},
    {"GET", "/api/alerts/$count", api_alert_list, NULL, 0},
    {"GET", "/api/alerts/{}", api_alert_get, NULL, 0},
    {"PATCH", "/api/alerts/{}", api_alert_update, NULL, 0},
};

const struct http_route *app_routes(size_t *count)
{
    *count = sizeof routes / sizeof routes[0];
    return routes;
}
