/*
 * policy_bench.c: benchmark 6 of `make bench` (bench/README.md): policy
 * evaluation alone, no HTTP and no store. A user in 5 groups with 20 Android
 * protection policies assigned to those groups (4 each, all targeting the
 * app, with different PIN, OS version, threat level and other settings), plus
 * 10 policies assigned to other groups that must not apply; per evaluation:
 * effective_compute (which policies apply, merged settings) then
 * decision_evaluate (the conditional-launch rows, threat row included).
 *
 * Policy documents are made the way the admin API stores them: schema_validate
 * of a POST body fills every property with its default, then the server-owned
 * and navigation properties (id, @odata.type, assignments, apps) are added.
 *
 * The reference, in the same run: parsing the same 30 documents from their
 * JSON text (json_loads), which is what the server does on every check-in
 * before it can evaluate anything (the store hands it text). A ratio above 1
 * means evaluating costs less than reading the policies.
 *
 * Usage: policy_bench [SECONDS per measurement, default 3]. Rows on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "server/policy/decision.h"
#include "server/policy/effective.h"
#include "server/policy/schema.h"
#include "server/threat/threat.h"

#define NPOL 30
#define NAPPLY 20

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_t *make_policy(int k)
{
    static const char *const levels[] = {"low", "medium", "high", "secured", "notConfigured"};
    char os[16], app[16], period[16];
    snprintf(os, sizeof os, "%d.0", 8 + k % 5);
    snprintf(app, sizeof app, "4.%d.0", k % 7);
    snprintf(period, sizeof period, "PT%dM", 10 + k);
    json_t *in = json_pack("{s:s,s:s,s:s,s:i,s:i,s:b,s:b,s:b,s:b,s:s,s:s,s:s,s:s}", "displayName", "bench policy",
                           "maximumAllowedDeviceThreatLevel", levels[k % 5], "mobileThreatDefenseRemediationAction",
                           "block", "maximumPinRetries", 3 + k % 8, "minimumPinLength", 4 + k % 6, "pinRequired",
                           k % 2, "saveAsBlocked", k % 3 == 0, "printBlocked", k % 4 == 0, "dataBackupBlocked",
                           k % 5 == 0, "minimumRequiredOsVersion", os, "minimumWarningAppVersion", app,
                           "periodOnlineBeforeAccessCheck", period, "appGroupType", "selectedPublicApps");
    json_t *doc = NULL;
    struct schema_error err;
    if (schema_validate(SCHEMA_ANDROID_PROTECTION, in, false, &doc, &err)) {
        fprintf(stderr, "policy_bench: policy %d: %s: %s\n", k, err.property, err.message);
        exit(1);
    }
    json_decref(in);
    char id[64], gid[64], aid[64];
    snprintf(id, sizeof id, "T_bench-%02d", k);
    /* the first 20 are assigned to the user's 5 groups (4 each), the other 10 to groups the user is not in */
    snprintf(gid, sizeof gid, k < NAPPLY ? "group-%d" : "other-group-%d", k % 5);
    snprintf(aid, sizeof aid, "assign-%d", k);
    json_object_set_new(doc, "@odata.type", json_string("#microsoft.graph.androidManagedAppProtection"));
    json_object_set_new(doc, "id", json_string(id));
    json_object_set_new(doc, "assignments",
                        json_pack("[{s:s,s:{s:s,s:s}}]", "id", aid, "target", "@odata.type",
                                  "#microsoft.graph.groupAssignmentTarget", "groupId", gid));
    json_t *apps = json_array();
    for (int a = 0; a < 10; a++) {
        char pkg[64], appid[80];
        snprintf(pkg, sizeof pkg, "com.bench.app%d", a);
        snprintf(appid, sizeof appid, "%s.android", pkg);
        json_array_append_new(apps, json_pack("{s:s,s:{s:s,s:s}}", "id", appid, "mobileAppIdentifier", "@odata.type",
                                              "#microsoft.graph.androidMobileAppIdentifier", "packageId", pkg));
    }
    json_object_set_new(doc, "apps", apps);
    return doc;
}

static void row(const char *name, double value, const char *unit, const char *ref, double ref_value, const char *goal)
{
    printf("{\"group\":\"6 Policy evaluation\",\"name\":\"%s\",\"value\":%.1f,\"unit\":\"%s\",\"reference\":\"%s\","
           "\"ref_value\":%.1f,\"ratio\":%.4f,\"goal\":\"%s\",\"met\":null}\n",
           name, value, unit, ref, ref_value, ref_value > 0 ? value / ref_value : 0.0, goal);
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? strtod(argv[1], NULL) : 3.0;
    if (!(secs > 0 && secs <= 60)) {
        fprintf(stderr, "usage: %s [seconds per measurement, (0, 60]]\n", argv[0]);
        return 2;
    }
    json_t *policies = json_array();
    for (int k = 0; k < NPOL; k++)
        json_array_append_new(policies, make_policy(k));
    char *text = json_dumps(policies, JSON_COMPACT);
    size_t text_len = strlen(text);

    const char *groups[] = {"group-0", "group-1", "group-2", "group-3", "group-4"};
    struct effective_query q = {.user_id = "user-1", .group_ids = groups, .group_count = 5,
                                .app_id = "com.bench.app3", .platform = EFFECTIVE_ANDROID,
                                .management_level = "unmanaged"};
    struct decision_facts f = {.platform = "android", .app_version = "5.0.0", .sdk_version = "0.1.0",
                               .os_version = "14", .patch_level = "2024-05-01", .model = "Pixel 8",
                               .manufacturer = "Google", .rooted = 0, .pin_failures = 0, .account_disabled = 0,
                               .agent_installed = 1};
    struct threat_signal sig = {.present = 1, .level = "secured", .partner = "fc780465-2017-40d4-a0c5-307022471b92"};
    json_t *links = json_object();

    /* check once: 20 policies apply and the merged threat row allows a secured device */
    json_t *eff = NULL, *dec = NULL;
    if (effective_compute(&q, policies, &eff) ||
        decision_evaluate(json_object_get(eff, "settings"), &f, &sig, links, &dec)) {
        fprintf(stderr, "policy_bench: evaluation failed\n");
        return 1;
    }
    size_t applied = json_array_size(json_object_get(eff, "protectionPolicies"));
    const char *action = json_string_value(json_object_get(dec, "action"));
    fprintf(stderr, "policy_bench: %d policies (%zu bytes of JSON), %zu apply, %zu merged settings, decision %s (%s)\n",
            NPOL, text_len, applied, json_object_size(json_object_get(eff, "settings")), action,
            json_string_value(json_object_get(dec, "reasonCode")));
    if (applied != NAPPLY || !action || strcmp(action, "allow")) {
        fprintf(stderr, "policy_bench: expected %d policies applying and allow\n", NAPPLY);
        return 1;
    }
    json_decref(eff);
    json_decref(dec);

    /* measured: merge + decision */
    size_t n = 0;
    double t0 = now_s(), t;
    do {
        for (int i = 0; i < 50; i++, n++) {
            effective_compute(&q, policies, &eff);
            decision_evaluate(json_object_get(eff, "settings"), &f, &sig, links, &dec);
            json_decref(eff);
            json_decref(dec);
        }
    } while ((t = now_s() - t0) < secs);
    double eval_rate = (double)n / t;

    /* reference: parsing the same documents from text */
    n = 0;
    t0 = now_s();
    do {
        for (int i = 0; i < 50; i++, n++) {
            json_t *p = json_loadb(text, text_len, 0, NULL);
            json_decref(p);
        }
    } while ((t = now_s() - t0) < secs);
    double parse_rate = (double)n / t;
    fprintf(stderr, "policy_bench: %.0f merges+decisions/s, %.0f parses of the 30 policies/s (one core)\n", eval_rate,
            parse_rate);
    row("merge + decision per second, one core", eval_rate, "/s", "json_loads of the 30 policies per second",
        parse_rate, "higher is better (no goal)");
    row("time per evaluation", 1e6 / eval_rate, "us", "time per parse of the 30 policies", 1e6 / parse_rate,
        "lower is better (no goal)");
    free(text);
    json_decref(policies);
    json_decref(links);
    return 0;
}
