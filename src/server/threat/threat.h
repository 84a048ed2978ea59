/*
 * threat.h: the threat-defense side of riskgated: devices' alerts and threat
 * levels, and the one function the app-management side may ask — the threat
 * signal of a user's device, through the connector (ARCHITECTURE: the app side
 * never reads alerts).
 *
 * Devices live in the "devices" collection, alerts in "alerts" (Defender's
 * Alert shape), connectors in "mobileThreatDefenseConnectors".
 */
#ifndef RG_THREAT_H
#define RG_THREAT_H
#include <stdint.h>

#include <jansson.h>

#include "server/store/store.h"

#define THREAT_DEVICES "devices"
#define THREAT_ALERTS "alerts"
#define THREAT_CONNECTORS "mobileThreatDefenseConnectors"
#define THREAT_EVENTS "deviceEvents" /* timeline events (open networks, suspicious certificates) */

/*
 * Detection kinds and their alert severity (threat-defense reference §9.2):
 *   phishing Informational, phishingOverridden Low, malware Medium, rogueWifi Low,
 *   jailbreak High; openNetwork and certificate are device timeline events (THREAT_EVENTS)
 *   and also Informational alerts (docs/device-api.md), so they never move the level.
 * Returns 0 and fills the static strings, or RG_EINVAL for an unknown kind.
 */
int threat_kind_info(const char *kind, const char **severity, const char **title, const char **category);

/* "secured" | "low" | "medium" | "high" from the highest severity of active alerts. */
const char *threat_level_of(const json_t *device_alerts);
/* Defender's riskScore ("None", "Informational", "Low", "Medium", "High") from the same. */
const char *threat_risk_score_of(const json_t *device_alerts);

/*
 * Applies an agent's detections (device-api.md) to a device: opens, refreshes
 * or resolves its alerts, redacts what the privacy settings keep off the
 * server, recomputes and stores the device's level. device: the stored
 * document, updated in place and written. settings: the agent's resolved
 * configuration. On bad input returns RG_EINVAL with err naming the field.
 * limit: the alerts and timeline events the device may hold; a report that
 * would add more is refused whole with RG_ETOOBIG (err says so), while
 * reports that refresh or resolve what exists still pass (limit <= 0: none).
 * *result (new ref): {"alerts":[{"key","alertId","status"}], "threatLevel"}.
 */
int threat_report(struct store *s, const char *tenant_id, json_t *device, const json_t *detections,
                  const json_t *settings, int64_t limit, json_t **result, char *err, size_t errlen);

/*
 * Turns the facts a device reports about itself into alerts: "rooted": true opens
 * the jailbreak alert (High), false resolves it. Writes the device. 0 or RG_ code.
 */
int threat_facts(struct store *s, const char *tenant_id, json_t *device);

/* Offboards a device: deactivated, its credential revoked (caller's transaction). */
int threat_offboard(struct store *s, const char *tenant_id, json_t *device);
/* Offboards every active device of a user (when the user is deleted). */
int threat_offboard_user(struct store *s, const char *tenant_id, const char *user_id);

/* Recomputes a device's level from its active alerts and writes the device if it changed. */
int threat_recompute(struct store *s, const char *tenant_id, json_t *device);

/* Every alert of one device (new array). */
int threat_device_alerts(struct store *s, const char *tenant_id, const char *device_id, json_t **out);

/* The threat signal the app side sees for (user, device, platform). */
struct threat_signal {
    int present;          /* 1: level holds the signal; 0: missing, see reason */
    char level[16];       /* secured | low | medium | high */
    char partner[64];     /* connector (partner) id the signal came from */
    int64_t age_ms;       /* how old the partner's report is */
    const char *reason;   /* when missing: "noAgent", "agentNotActivated", "connectorOff",
                             "partnerUnresponsive", "noPartnerData", "deviceInactive" (static string) */
};

/*
 * The signal for a user's device on a platform ("android" | "ios"), choosing the
 * partner by the policy's mobileThreatDefensePartnerPriority (NULL or
 * "defenderOverThirdPartyPartner": the built-in first; "thirdPartyPartnerOverDefender":
 * the enabled third party first). device_id may be NULL (no agent on the device).
 * Returns 0 (see out->present) or an RG_ code for a store failure.
 */
int threat_signal_get(struct store *s, const char *tenant_id, const char *user_id, const char *device_id,
                      const char *platform, const char *priority, int64_t now_ms, struct threat_signal *out);

/*
 * The same with the tenant's connectors given (conns: the
 * mobileThreatDefenseConnectors documents, borrowed), for callers that keep
 * them in memory (appcache.h). Reads only the device.
 */
int threat_signal_get_with(struct store *s, const char *tenant_id, const json_t *conns, const char *user_id,
                           const char *device_id, const char *platform, const char *priority, int64_t now_ms,
                           struct threat_signal *out);

/* Records a partner heartbeat on its connector (throttled to one write a minute). */
int threat_partner_heartbeat(struct store *s, const char *tenant_id, const char *partner_id, int64_t now_ms);
#endif
