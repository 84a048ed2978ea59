/*
 * routes.c: the route table of riskgated, the map of its API. Every Graph
 * route is served under /beta/ and /v1.0/ alike ("{v}"); "{}" is one captured
 * path segment. See docs/api.md for bodies and answers.
 */
#include "server/api/api.h"
#include "server/app.h"

#define DAM "/{v}/deviceAppManagement/"
#define POLICY_ROUTES(seg, fam)                                                                                        \
    {"GET", DAM seg, api_policy_list, &fam}, {"POST", DAM seg, api_policy_create, &fam},                                \
        {"GET", DAM seg "/{}", api_policy_get, &fam}, {"PATCH", DAM seg "/{}", api_policy_update, &fam},                \
        {"DELETE", DAM seg "/{}", api_policy_delete, &fam}, {"POST", DAM seg "/{}/assign", api_policy_assign, &fam},    \
        {"GET", DAM seg "/{}/assignments", api_policy_assignments, &fam},                                               \
        {"POST", DAM seg "/{}/targetApps", api_policy_target_apps, &fam},                                               \
        {"GET", DAM seg "/{}/apps", api_policy_apps, &fam}

static const struct http_route routes[] = {
    {"GET", "/healthz", api_healthz, NULL},
    {"GET", "/metrics", api_metrics, NULL},

    POLICY_ROUTES("androidManagedAppProtections", api_family_android),
    POLICY_ROUTES("iosManagedAppProtections", api_family_ios),
    POLICY_ROUTES("targetedManagedAppConfigurations", api_family_appconfig),
    POLICY_ROUTES("managedAppPolicies", api_family_all),
    {"GET", DAM "managedAppRegistrations", api_registration_list, NULL},

    {"GET", "/{v}/deviceManagement/mobileThreatDefenseConnectors", api_connector_list, NULL},
    {"POST", "/{v}/deviceManagement/mobileThreatDefenseConnectors", api_connector_create, NULL},
    {"GET", "/{v}/deviceManagement/mobileThreatDefenseConnectors/{}", api_connector_get, NULL},
    {"PATCH", "/{v}/deviceManagement/mobileThreatDefenseConnectors/{}", api_connector_update, NULL},
    {"DELETE", "/{v}/deviceManagement/mobileThreatDefenseConnectors/{}", api_connector_delete, NULL},

    {"GET", "/{v}/users", api_user_list, NULL},
    {"POST", "/{v}/users", api_user_create, NULL},
    {"GET", "/{v}/users/{}", api_user_get, NULL},
    {"PATCH", "/{v}/users/{}", api_user_update, NULL},
    {"DELETE", "/{v}/users/{}", api_user_delete, NULL},
    {"GET", "/{v}/users/{}/getManagedAppPolicies", api_user_policies, NULL},
    {"GET", "/{v}/groups", api_group_list, NULL},
    {"POST", "/{v}/groups", api_group_create, NULL},
    {"GET", "/{v}/groups/{}", api_group_get, NULL},
    {"PATCH", "/{v}/groups/{}", api_group_update, NULL},
    {"DELETE", "/{v}/groups/{}", api_group_delete, NULL},
    {"GET", "/{v}/groups/{}/members", api_group_members, NULL},
    {"POST", "/{v}/groups/{}/members/$ref", api_group_member_add, NULL},
    {"DELETE", "/{v}/groups/{}/members/{}/$ref", api_group_member_remove, NULL},

    {"GET", "/riskgate/v1/whoami", api_whoami, NULL},
    {"GET", "/riskgate/v1/tenants", api_tenant_list, NULL},
    {"POST", "/riskgate/v1/tenants", api_tenant_create, NULL},
    {"GET", "/riskgate/v1/keys", api_key_list, NULL},
    {"POST", "/riskgate/v1/keys", api_key_create, NULL},
    {"DELETE", "/riskgate/v1/keys/{}", api_key_delete, NULL},
    {"GET", "/riskgate/v1/effectivePolicy", api_effective, NULL},
    {"POST", "/riskgate/v1/enrollmentCodes", api_enrollment_create, NULL},
    {"POST", "/riskgate/v1/partnerKeys", api_partner_key_create, NULL},
    {"GET", "/riskgate/v1/threatSignal", api_threat_signal, NULL},

    /* the device agent (docs/device-api.md) */
    {"POST", "/device/v1/activate", api_device_activate, NULL},
    {"POST", "/device/v1/heartbeat", api_device_heartbeat, NULL},
    {"GET", "/device/v1/config", api_device_config, NULL},
    {"POST", "/device/v1/detections", api_device_detections, NULL},
    {"POST", "/device/v1/signout", api_device_signout, NULL},

    /* third-party threat-defense partners */
    {"POST", "/partner/v1/heartbeat", api_partner_heartbeat, NULL},
    {"POST", "/partner/v1/devices/{}/threatLevel", api_partner_level, NULL},

    /* Defender-shaped SOC API */
    {"GET", "/api/machines", api_machine_list, NULL},
    {"GET", "/api/machines/{}", api_machine_get, NULL},
    {"POST", "/api/machines/{}/tags", api_machine_tags, NULL},
    {"GET", "/api/alerts", api_alert_list, NULL},
    {"GET", "/api/alerts/{}", api_alert_get, NULL},
    {"PATCH", "/api/alerts/{}", api_alert_update, NULL},
};

const struct http_route *app_routes(size_t *count)
{
    *count = sizeof routes / sizeof routes[0];
    return routes;
}
