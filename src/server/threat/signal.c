/*
 * signal.c: the threat signal of a user's device as the app-management side
 * sees it — only through the connector (threat.h).
 *
 * Order of checks (app-protection reference §10, derived): no device id from
 * the agent => noAgent; device unknown, signed out or another user's =>
 * agentNotActivated; pick the partner by priority among the connectors
 * enabled for MAM on the platform; none => connectorOff; silent past its
 * threshold => partnerUnresponsive; no report for the device => noPartnerData.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/util.h"
#include "server/app.h"
#include "server/threat/threat.h"

static int mam_enabled(const json_t *conn, const char *platform)
{
    char flag[64];
    snprintf(flag, sizeof flag, "%sMobileApplicationManagementEnabled", platform);
    return json_is_true(json_object_get(conn, flag));
}

static int unresponsive(const json_t *conn, int64_t now_ms)
{
    const char *hb = json_string_value(json_object_get(conn, "lastHeartbeatDateTime"));
    int64_t ms;
    if (!hb || util_time_parse(hb, &ms))
        return 1;
    json_int_t days = json_integer_value(json_object_get(conn, "partnerUnresponsivenessThresholdInDays"));
    return days > 0 && now_ms - ms > (int64_t)days * 86400 * 1000;
}

int threat_signal_get(struct store *s, const char *tenant_id, const char *user_id, const char *device_id,
                      const char *platform, const char *priority, int64_t now_ms, struct threat_signal *out)
{
    json_t *conns = NULL;
    int rc = s->ops->doc_list(s, tenant_id, THREAT_CONNECTORS, &conns);
    if (!rc)
        rc = threat_signal_get_with(s, tenant_id, conns, user_id, device_id, platform, priority, now_ms, out);
    json_decref(conns);
    return rc;
}

int threat_signal_get_with(struct store *s, const char *tenant_id, const json_t *conns, const char *user_id,
                           const char *device_id, const char *platform, const char *priority, int64_t now_ms,
                           struct threat_signal *out)
{
    memset(out, 0, sizeof *out);
    if (!device_id || !*device_id) {
        out->reason = "noAgent";
        return 0;
    }
    json_t *device = NULL;
    int rc = s->ops->doc_get(s, tenant_id, THREAT_DEVICES, device_id, &device);
    if (rc == RG_ENOTFOUND || (!rc && (!json_is_true(json_object_get(device, "activated")) ||
                                       (user_id && strcmp(json_string_value(json_object_get(device, "userId")), user_id))))) {
        json_decref(device);
        out->reason = "agentNotActivated";
        return 0;
    }
    if (rc)
        return rc;
    const json_t *builtin = NULL, *third = NULL;
    size_t i;
    json_t *c;
    json_array_foreach(conns, i, c) {
        if (!mam_enabled(c, platform))
            continue;
        if (!strcasecmp(json_string_value(json_object_get(c, "id")), APP_BUILTIN_PARTNER_ID))
            builtin = c;
        else if (!third)
            third = c;
    }
    int third_first = priority && !strcmp(priority, "thirdPartyPartnerOverDefender");
    const json_t *chosen = third_first ? (third ? third : builtin) : (builtin ? builtin : third);
    if (!chosen) {
        out->reason = "connectorOff";
    } else if (unresponsive(chosen, now_ms)) {
        out->reason = "partnerUnresponsive";
    } else {
        const char *pid = json_string_value(json_object_get(chosen, "id"));
        snprintf(out->partner, sizeof out->partner, "%s", pid);
        const char *level = NULL, *when = NULL;
        if (chosen == builtin) {
            /* the level is as fresh as the agent's last report */
            level = json_string_value(json_object_get(device, "threatLevel"));
            when = json_string_value(json_object_get(device, "lastSeen"));
            json_int_t days = json_integer_value(json_object_get(chosen, "partnerUnresponsivenessThresholdInDays"));
            int64_t seen;
            if (!when || util_time_parse(when, &seen) || (days > 0 && now_ms - seen > (int64_t)days * 86400 * 1000)) {
                out->reason = "deviceInactive";
                level = NULL;
                out->partner[0] = '\0';
                goto done;
            }
        } else {
            json_t *pl = json_object_get(json_object_get(device, "partnerLevels"), pid);
            level = json_string_value(json_object_get(pl, "level"));
            when = json_string_value(json_object_get(pl, "time"));
        }
        int64_t ms;
        if (!level) {
            out->reason = "noPartnerData";
        } else {
            out->present = 1;
            snprintf(out->level, sizeof out->level, "%s", level);
            out->age_ms = when && !util_time_parse(when, &ms) ? now_ms - ms : 0;
        }
    }
done:
    json_decref(device);
    return 0;
}

int threat_partner_heartbeat(struct store *s, const char *tenant_id, const char *partner_id, int64_t now_ms)
{
    json_t *conn = NULL;
    int rc = s->ops->doc_get(s, tenant_id, THREAT_CONNECTORS, partner_id, &conn);
    if (rc)
        return rc;
    const char *hb = json_string_value(json_object_get(conn, "lastHeartbeatDateTime"));
    int64_t ms;
    if (!hb || util_time_parse(hb, &ms) || now_ms - ms >= 60 * 1000) {
        char ts[UTIL_TIME_LEN + 1];
        util_time_format(now_ms, ts, sizeof ts);
        json_object_set_new(conn, "lastHeartbeatDateTime", json_string(ts));
        rc = s->ops->doc_update(s, tenant_id, THREAT_CONNECTORS, partner_id, conn);
    }
    json_decref(conn);
    return rc;
}
