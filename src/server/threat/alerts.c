/*
 * alerts.c: detections to Defender-shaped alerts, and a device's threat level
 * as the highest severity among its active alerts (threat.h).
 *
 * Level model (reference §9.3, derived): max severity of unresolved alerts;
 * High -> high, Medium -> medium, Low -> low; none or only Informational ->
 * secured (informational alerts are timeline-grade: a blocked phishing page
 * means protection worked).
 *
 * Open networks and suspicious certificates: reference §9.2 says they are now
 * device-timeline events, no longer Informational alerts. The issue asks that
 * the SOC gets an alert in audit mode and that the device's remediation
 * resolves it, so both are kept: a timeline event per report, and an
 * Informational alert (never above "secured") that a "resolved" report
 * resolves. With DefenderNetworkProtectionPrivacy on, the server also drops
 * ssid, bssid and certificateSubject and the device's own title (the agent
 * never sends them then either).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"
#include "server/threat/agentconfig.h"
#include "server/threat/threat.h"

static const struct kind {
    const char *name, *severity, *title, *category;
} kinds[] = {
    {"phishing", "Informational", "Phishing site blocked", "InitialAccess"},
    {"phishingOverridden", "Low", "Phishing warning overlooked: the user opened the site anyway", "InitialAccess"},
    {"malware", "Medium", "Malicious app or file detected", "Malware"},
    {"rogueWifi", "Low", "Rogue Wi-Fi network", "CredentialAccess"},
    {"jailbreak", "High", "Device is rooted or jailbroken", "DefenseEvasion"},
    {"openNetwork", "Informational", "Connected to an open network", "CredentialAccess"},
    {"certificate", "Informational", "Suspicious certificate on the device", "CredentialAccess"},
};

/* Kinds the reference records as device timeline events (§9.2); we raise an Informational alert too (above). */
static int timeline_kind(const char *kind)
{
    return !strcmp(kind, "openNetwork") || !strcmp(kind, "certificate");
}

int threat_kind_info(const char *kind, const char **severity, const char **title, const char **category)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (!strcmp(kinds[i].name, kind)) {
            *severity = kinds[i].severity;
            *title = kinds[i].title;
            *category = kinds[i].category;
            return 0;
        }
    }
    return RG_EINVAL;
}

static int severity_rank(const char *sev)
{
    static const char *const order[] = {"Informational", "Low", "Medium", "High"};
    for (int i = 0; i < 4; i++)
        if (sev && !strcmp(sev, order[i]))
            return i + 1;
    return 0;
}

static int max_active_rank(const json_t *alerts)
{
    int best = 0;
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a) {
        const char *st = json_string_value(json_object_get(a, "status"));
        if (st && !strcmp(st, "Resolved"))
            continue;
        int r = severity_rank(json_string_value(json_object_get(a, "severity")));
        if (r > best)
            best = r;
    }
    return best;
}

const char *threat_level_of(const json_t *device_alerts)
{
    static const char *const levels[] = {"secured", "secured", "low", "medium", "high"};
    return levels[max_active_rank(device_alerts)];
}

const char *threat_risk_score_of(const json_t *device_alerts)
{
    static const char *const scores[] = {"None", "Informational", "Low", "Medium", "High"};
    return scores[max_active_rank(device_alerts)];
}

int threat_device_alerts(struct store *s, const char *tenant_id, const char *device_id, json_t **out)
{
    /* through migration 8's index: the cost is the device's alerts, not the tenant's */
    struct store_doc_query q = {.eq_field = "machineId", .eq_value = device_id, .limit = -1};
    return s->ops->doc_query(s, tenant_id, THREAT_ALERTS, &q, out);
}

int threat_offboard(struct store *s, const char *tenant_id, json_t *device)
{
    char ts[UTIL_TIME_LEN + 1];
    util_time_format(util_now_ms(), ts, sizeof ts);
    const char *id = json_string_value(json_object_get(device, "id"));
    json_object_set_new(device, "activated", json_false());
    json_object_set_new(device, "offboardedDateTime", json_string(ts));
    json_object_del(device, "devicePublicKey"); /* offboarding revokes the device key: no app can claim it */
    int rc = s->ops->doc_update(s, tenant_id, THREAT_DEVICES, id, device);
    if (!rc)
        rc = s->ops->cred_delete_subject(s, "device", tenant_id, id);
    return rc;
}

int threat_offboard_user(struct store *s, const char *tenant_id, const char *user_id)
{
    json_t *all = NULL;
    int rc = s->ops->doc_list(s, tenant_id, THREAT_DEVICES, &all);
    size_t i;
    json_t *d;
    json_array_foreach(all, i, d) {
        const char *uid = json_string_value(json_object_get(d, "userId"));
        if (!rc && uid && !strcmp(uid, user_id) && json_is_true(json_object_get(d, "activated")))
            rc = threat_offboard(s, tenant_id, d);
    }
    json_decref(all);
    return rc;
}

int threat_facts(struct store *s, const char *tenant_id, json_t *device)
{
    json_t *rooted = json_object_get(device, "rooted");
    if (!json_is_boolean(rooted))
        return 0;
    json_t *det = json_pack("[{s:s,s:s,s:s,s:s}]", "kind", "jailbreak", "key", "device:rooted", "state",
                            json_is_true(rooted) ? "active" : "resolved", "title",
                            "The device reports that it is rooted or jailbroken");
    json_t *settings = json_object(), *result = NULL;
    char err[256];
    int rc = det && settings ? threat_report(s, tenant_id, device, det, settings, 0, &result, err, sizeof err)
                             : RG_ENOMEM;
    json_decref(det);
    json_decref(settings);
    json_decref(result);
    return rc;
}

int threat_recompute(struct store *s, const char *tenant_id, json_t *device)
{
    const char *id = json_string_value(json_object_get(device, "id"));
    json_t *alerts = NULL;
    int rc = threat_device_alerts(s, tenant_id, id, &alerts);
    if (rc)
        return rc;
    const char *level = threat_level_of(alerts);
    const char *score = threat_risk_score_of(alerts);
    json_decref(alerts);
    const char *old = json_string_value(json_object_get(device, "threatLevel"));
    const char *old_score = json_string_value(json_object_get(device, "riskScore"));
    if (old && !strcmp(old, level) && old_score && !strcmp(old_score, score))
        return 0;
    char ts[UTIL_TIME_LEN + 1];
    util_time_format(util_now_ms(), ts, sizeof ts);
    json_object_set_new(device, "threatLevel", json_string(level));
    json_object_set_new(device, "riskScore", json_string(score));
    json_object_set_new(device, "threatLevelDateTime", json_string(ts));
    return s->ops->doc_update(s, tenant_id, THREAT_DEVICES, id, device);
}

static const char *str_field(const json_t *d, const char *name, size_t max, char *err, size_t errlen, size_t idx,
                             int *bad)
{
    json_t *v = json_object_get(d, name);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v) || json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(err, errlen, "detections[%zu].%s: a string of at most %zu characters is expected.", idx, name, max);
        *bad = 1;
        return NULL;
    }
    return json_string_value(v);
}

/* Finds the device's open alert for a detection key hash. */
static json_t *open_alert(const json_t *alerts, const char *key_hash)
{
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a) {
        const char *k = json_string_value(json_object_get(a, "detectionKey"));
        const char *st = json_string_value(json_object_get(a, "status"));
        if (k && !strcmp(k, key_hash) && st && strcmp(st, "Resolved"))
            return a;
    }
    return NULL;
}

/* Network protection's detail fields (netprot.c in the agent); the private ones go with DefenderNetworkProtectionPrivacy. */
static const char *const net_fields[] = {"ssid", "bssid", "security", "certificateSubject", "certificateThumbprint",
                                         "host", "mode", "reason", NULL};
static int net_private(const char *field)
{
    return !strcmp(field, "ssid") || !strcmp(field, "bssid") || !strcmp(field, "certificateSubject");
}

static int net_kind(const char *kind)
{
    return !strcmp(kind, "openNetwork") || !strcmp(kind, "certificate") || !strcmp(kind, "rogueWifi");
}

static int check_fields(const json_t *d, size_t i, char *err, size_t errlen)
{
    static const char *const allowed[] = {"kind", "key", "state", "title", "threatName", "fileName", "filePath",
                                          "sha256", "sha1", "md5", "url", "appName", "time", "ssid", "bssid",
                                          "security", "certificateSubject", "certificateThumbprint", "host", "mode",
                                          "reason", NULL};
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)d, k, v) {
        int ok = 0;
        for (int j = 0; allowed[j]; j++)
            ok |= !strcmp(allowed[j], k);
        if (!ok) {
            snprintf(err, errlen, "detections[%zu].%s: unknown property of a detection.", i, k);
            return RG_EINVAL;
        }
    }
    return 0;
}

int threat_report(struct store *s, const char *tenant_id, json_t *device, const json_t *detections,
                  const json_t *settings, int64_t limit, json_t **result, char *err, size_t errlen)
{
    if (!json_is_array(detections) || json_array_size(detections) > 1000) {
        snprintf(err, errlen, "detections: an array of at most 1000 detections is required.");
        return RG_EINVAL;
    }
    /* validate everything before writing anything */
    size_t i;
    json_t *d;
    json_array_foreach(detections, i, d) {
        int bad = 0;
        const char *sev, *title, *cat;
        if (!json_is_object(d)) {
            snprintf(err, errlen, "detections[%zu]: an object is expected.", i);
            return RG_EINVAL;
        }
        if (check_fields(d, i, err, errlen))
            return RG_EINVAL;
        const char *kind = str_field(d, "kind", 64, err, errlen, i, &bad);
        if (bad || !kind || threat_kind_info(kind, &sev, &title, &cat)) {
            if (!bad)
                snprintf(err, errlen, "detections[%zu].kind: one of phishing, phishingOverridden, malware, rogueWifi, "
                                      "jailbreak, openNetwork, certificate is required.", i);
            return RG_EINVAL;
        }
        const char *key = str_field(d, "key", 512, err, errlen, i, &bad);
        if (bad || !key || !*key) {
            if (!bad)
                snprintf(err, errlen, "detections[%zu].key: a stable identifier of the threat is required.", i);
            return RG_EINVAL;
        }
        const char *state = str_field(d, "state", 16, err, errlen, i, &bad);
        if (bad || (state && strcmp(state, "active") && strcmp(state, "resolved"))) {
            if (!bad)
                snprintf(err, errlen, "detections[%zu].state: 'active' or 'resolved' is expected.", i);
            return RG_EINVAL;
        }
        static const char *const strs[] = {"title", "threatName", "fileName", "filePath", "sha256", "sha1", "md5",
                                           "url", "appName", "ssid", "bssid", "security", "certificateSubject",
                                           "certificateThumbprint", "host", "mode", "reason"};
        for (size_t j = 0; j < sizeof strs / sizeof strs[0]; j++) {
            str_field(d, strs[j], 2048, err, errlen, i, &bad);
            if (bad)
                return RG_EINVAL;
        }
        const char *t = str_field(d, "time", 64, err, errlen, i, &bad);
        int64_t ms;
        if (bad || (t && util_time_parse(t, &ms))) {
            if (!bad)
                snprintf(err, errlen, "detections[%zu].time: an ISO-8601 UTC time is expected.", i);
            return RG_EINVAL;
        }
    }

    const char *device_id = json_string_value(json_object_get(device, "id"));
    json_t *alerts = NULL;
    int rc = threat_device_alerts(s, tenant_id, device_id, &alerts);
    if (rc)
        return rc;
    /* the device's cap: what it holds (alerts, and its events counted through migration 9's index) and what this adds */
    if (limit > 0) {
        int64_t events = 0, adds = 0;
        struct store_doc_query q = {.eq_field = "machineId", .eq_value = device_id, .limit = 0, .count_out = &events};
        json_t *none = NULL;
        rc = s->ops->doc_query(s, tenant_id, THREAT_EVENTS, &q, &none);
        json_decref(none);
        if (rc) {
            json_decref(alerts);
            return rc;
        }
        json_array_foreach(detections, i, d) {
            const char *kind = json_string_value(json_object_get(d, "kind"));
            const char *state = json_string_value(json_object_get(d, "state"));
            const char *key = json_string_value(json_object_get(d, "key"));
            char kh[UTIL_SHA256_HEX_LEN + 1];
            util_sha256_hex(key, strlen(key), kh, sizeof kh);
            adds += timeline_kind(kind) ? 1 : 0;
            adds += (!state || strcmp(state, "resolved")) && !open_alert(alerts, kh) ? 1 : 0; /* at most: repeats count */
        }
        int64_t have = (int64_t)json_array_size(alerts) + events;
        if (adds && have + adds > limit) {
            snprintf(err, errlen,
                     "detections: this device holds %lld alerts and events, and one device may hold %lld "
                     "(--device-alert-limit); reports that resolve or refresh them are still accepted.",
                     (long long)have, (long long)limit);
            json_decref(alerts);
            return RG_ETOOBIG;
        }
    }
    int no_url = agentconfig_on(settings, "DefenderExcludeURLInReport");
    int no_app = agentconfig_on(settings, "DefenderExcludeAppInReport");
    int net_privacy = agentconfig_on(settings, "DefenderNetworkProtectionPrivacy");
    json_t *out = json_array();
    char now[UTIL_TIME_LEN + 1];
    util_time_format(util_now_ms(), now, sizeof now);
    json_array_foreach(detections, i, d) {
        const char *kind = json_string_value(json_object_get(d, "kind"));
        const char *key = json_string_value(json_object_get(d, "key"));
        const char *state = json_string_value(json_object_get(d, "state"));
        const char *when = json_string_value(json_object_get(d, "time"));
        const char *sev = "Informational", *title = "", *cat = "";
        threat_kind_info(kind, &sev, &title, &cat);
        /* the key may name a URL or an app: only its hash is kept */
        char kh[UTIL_SHA256_HEX_LEN + 1];
        util_sha256_hex(key, strlen(key), kh, sizeof kh);
        json_t *a = open_alert(alerts, kh);
        const char *status;
        if (timeline_kind(kind)) {
            /* a timeline event: recorded once per report, never part of the level */
            char id[UTIL_UUID_LEN + 1];
            if (util_uuid(id, sizeof id)) {
                rc = RG_EIO;
                break;
            }
            json_t *ev = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", id, "machineId", device_id, "kind", kind,
                                   "title", title, "state", state ? state : "active", "eventTime", when ? when : now,
                                   "reportedTime", now);
            if (!no_url && json_is_string(json_object_get(d, "url")))
                json_object_set(ev, "url", json_object_get(d, "url"));
            rc = s->ops->doc_insert(s, tenant_id, THREAT_EVENTS, id, ev);
            json_decref(ev);
            if (rc)
                break;
            /* and the Informational alert below, which the device's "resolved" report resolves */
        }
        if (state && !strcmp(state, "resolved")) {
            if (!a) {
                json_array_append_new(out, json_pack("{s:s,s:n,s:s}", "key", key, "alertId", "status", "Resolved"));
                continue;
            }
            json_object_set_new(a, "status", json_string("Resolved"));
            json_object_set_new(a, "resolvedTime", json_string(now));
            json_object_set_new(a, "lastUpdateTime", json_string(now));
            json_object_set_new(a, "investigationState", json_string("SuccessfullyRemediated"));
            json_object_set_new(a, "resolvedBy", json_string("device"));
            rc = s->ops->doc_update(s, tenant_id, THREAT_ALERTS, json_string_value(json_object_get(a, "id")), a);
            status = "Resolved";
        } else if (a) {
            json_object_set_new(a, "lastEventTime", json_string(when ? when : now));
            json_object_set_new(a, "lastUpdateTime", json_string(now));
            rc = s->ops->doc_update(s, tenant_id, THREAT_ALERTS, json_string_value(json_object_get(a, "id")), a);
            status = json_string_value(json_object_get(a, "status"));
        } else {
            char id[UTIL_UUID_LEN + 1];
            util_uuid(id, sizeof id);
            const char *threat = json_string_value(json_object_get(d, "threatName"));
            const char *dtitle = json_string_value(json_object_get(d, "title"));
            const char *dns = json_string_value(json_object_get(device, "computerDnsName"));
            json_t *ev = json_pack("{s:s,s:s,s:s}", "entityType",
                                   !strcmp(kind, "malware")       ? "File"
                                   : !strcmp(kind, "certificate") ? "Certificate"
                                   : net_kind(kind)               ? "Network"
                                                                  : "Url",
                                   "evidenceCreationTime", now, "detectionStatus", "Detected");
            for (size_t j = 0; net_kind(kind) && net_fields[j]; j++)
                if (json_is_string(json_object_get(d, net_fields[j])) && !(net_privacy && net_private(net_fields[j])))
                    json_object_set(ev, net_fields[j], json_object_get(d, net_fields[j]));
            static const char *const copy[] = {"sha256", "sha1", "md5"};
            for (size_t j = 0; j < 3; j++)
                if (json_is_string(json_object_get(d, copy[j])))
                    json_object_set(ev, copy[j], json_object_get(d, copy[j]));
            if (!no_app) {
                if (json_is_string(json_object_get(d, "fileName")))
                    json_object_set(ev, "fileName", json_object_get(d, "fileName"));
                if (json_is_string(json_object_get(d, "filePath")))
                    json_object_set(ev, "filePath", json_object_get(d, "filePath"));
                if (json_is_string(json_object_get(d, "appName")))
                    json_object_set(ev, "appName", json_object_get(d, "appName"));
            }
            if (!no_url && json_is_string(json_object_get(d, "url")))
                json_object_set(ev, "url", json_object_get(d, "url"));
            a = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:n,s:n,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:n,s:s,s:s,s:[o]}",
                          "id", id, "title",
                          dtitle && !no_app && !no_url && !(net_privacy && net_kind(kind)) ? dtitle : title,
                          "description", title,
                          "category", cat, "severity", sev, "status", "New", "investigationState", "Unknown",
                          "classification", "determination", "detectionSource", "riskgateAgent", "threatFamilyName",
                          threat && !no_app ? threat : "", "machineId", device_id, "computerDnsName",
                          dns ? dns : "", "alertCreationTime",
                          now, "firstEventTime", when ? when : now, "lastEventTime", when ? when : now,
                          "lastUpdateTime", now, "resolvedTime", "detectionKey", kh, "kind", kind, "evidence", ev);
            const char *upn = json_string_value(json_object_get(device, "userPrincipalName"));
            const char *at = upn ? strchr(upn, '@') : NULL;
            json_object_set_new(a, "relatedUser",
                                at ? json_pack("{s:s%,s:s}", "userName", upn, (size_t)(at - upn), "domainName", at + 1)
                                   : json_pack("{s:n,s:n}", "userName", "domainName"));
            rc = s->ops->doc_insert(s, tenant_id, THREAT_ALERTS, id, a);
            json_array_append_new(alerts, a);
            status = "New";
        }
        if (rc)
            break;
        json_array_append_new(out, json_pack("{s:s,s:O,s:s}", "key", key, "alertId", json_object_get(a, "id"),
                                             "status", status));
    }
    json_decref(alerts);
    if (!rc)
        rc = threat_recompute(s, tenant_id, device);
    if (rc) {
        json_decref(out);
        return rc;
    }
    *result = json_pack("{s:o,s:O}", "alerts", out, "threatLevel", json_object_get(device, "threatLevel"));
    return 0;
}
