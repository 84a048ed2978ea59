/* agentconfig.c: resolving the agent's configuration keys across app configuration sets (agentconfig.h). */
#include "server/threat/agentconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"

enum kind { BOOL, LEVEL, TEXT, LIST };
enum resolver {
    R_MAX,       /* switches where on is more protective, levels where higher is stricter */
    R_MIN,       /* switches where on relaxes protection (optional permissions, user trust) */
    R_FIRST,     /* text: the first set (by id) that gives the key */
    R_INTERSECT, /* comma-separated allow lists: only what every set allows */
};

/*
 * The keys of reference §9.4. Where Microsoft's pages disagree on a default, the
 * choice is named in docs/agent.md: we follow the Android MAM source document [SRC-B].
 */
static const struct key {
    const char *name;
    enum kind kind;
    int max;            /* LEVEL: highest value */
    const char *dflt;   /* resolved value when no set gives the key ("" = unset) */
    enum resolver resolve;
} keys[] = {
    {"DefenderMAMConfigs", BOOL, 1, "1", R_MAX},
    {"antiphishing", BOOL, 1, "1", R_MAX},
    {"vpn", BOOL, 1, "1", R_MAX},
    {"DefenderNetworkProtectionEnable", BOOL, 1, "0", R_MAX},
    {"DefenderAllowlistedCACertificates", LIST, 0, "", R_INTERSECT},
    {"DefenderCertificateDetection", LEVEL, 2, "1", R_MAX},
    {"DefenderOpenNetworkDetection", LEVEL, 2, "0", R_MAX},
    {"DefenderEndUserTrustFlowEnable", BOOL, 1, "0", R_MIN},
    {"DefenderNetworkProtectionAutoRemediation", BOOL, 1, "1", R_MAX},
    {"DefenderNetworkProtectionPrivacy", BOOL, 1, "1", R_MAX},
    {"DefenderExcludeURLInReport", BOOL, 1, "0", R_MAX},
    {"DefenderExcludeAppInReport", BOOL, 1, "0", R_MAX},
    {"DefenderTVMPrivacyMode", BOOL, 1, "0", R_MAX},
    {"DefenderOptionalVPN", BOOL, 1, "0", R_MIN},
    {"DefenderOptionalAccessibility", BOOL, 1, "0", R_MIN},
    {"DisableSignOut", BOOL, 1, "0", R_MAX},
    {"DefenderDeviceTag", TEXT, 0, "", R_FIRST},
};
#define NKEYS (sizeof keys / sizeof keys[0])

/* Parses a boolean-like or level value: "0/1/2", "true/false" (any case). -1 if not one. */
static int parse_level(const char *v, int max)
{
    while (isspace((unsigned char)*v))
        v++;
    if (!strcasecmp(v, "true"))
        return 1;
    if (!strcasecmp(v, "false"))
        return 0;
    if (isdigit((unsigned char)v[0]) && !v[1] && v[0] - '0' <= max)
        return v[0] - '0';
    return -1;
}

static const char *setting_value(const json_t *set, const char *name)
{
    size_t i;
    json_t *kv;
    json_array_foreach(json_object_get(set, "customSettings"), i, kv) {
        const char *n = json_string_value(json_object_get(kv, "name"));
        if (n && !strcmp(n, name))
            return json_string_value(json_object_get(kv, "value"));
    }
    return NULL;
}

/* Keeps in acc (comma list, normalized: lower case, no spaces) only items also in v. */
static void intersect(char *acc, size_t acclen, const char *v, int first)
{
    char norm[4096];
    size_t o = 0;
    for (const char *p = v; *p && o + 1 < sizeof norm; p++)
        if (!isspace((unsigned char)*p) && *p != ':')
            norm[o++] = (char)tolower((unsigned char)*p);
    norm[o] = '\0';
    if (first) {
        snprintf(acc, acclen, "%s", norm);
        return;
    }
    char out[4096] = "", *save = NULL, *copy = strdup(acc);
    if (!copy)
        return;
    for (char *it = strtok_r(copy, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
        char needle[512];
        snprintf(needle, sizeof needle, ",%s,", it);
        char hay[4100];
        snprintf(hay, sizeof hay, ",%s,", norm);
        if (strstr(hay, needle)) {
            size_t l = strlen(out);
            snprintf(out + l, sizeof out - l, "%s%s", l ? "," : "", it);
        }
    }
    free(copy);
    snprintf(acc, acclen, "%s", out);
}

int agentconfig_resolve(const json_t *sets, json_t **settings, json_t **ignored)
{
    json_t *s = json_object(), *ign = json_array(), *used = json_array();
    if (!s || !ign || !used)
        goto nomem;
    size_t i;
    json_t *set;
    json_array_foreach(sets, i, set) {
        const char *marker = setting_value(set, "DefenderMAMConfigs");
        if (!marker || parse_level(marker, 1) != 1) {
            json_array_append_new(ign, json_pack("{s:O?,s:O?,s:s}", "id", json_object_get(set, "id"), "displayName",
                                                 json_object_get(set, "displayName"), "reason",
                                                 "DefenderMAMConfigs is not 1 in this set"));
            continue;
        }
        json_array_append(used, set);
    }
    for (size_t k = 0; k < NKEYS; k++) {
        const struct key *key = &keys[k];
        int best = -1, seen = 0;
        char text[4096] = "";
        json_array_foreach(used, i, set) {
            const char *v = setting_value(set, key->name);
            if (!v)
                continue;
            if (key->kind == TEXT) {
                if (!seen)
                    snprintf(text, sizeof text, "%s", v);
            } else if (key->kind == LIST) {
                intersect(text, sizeof text, v, !seen);
            } else {
                int lv = parse_level(v, key->max);
                if (lv < 0)
                    continue; /* not a value of this key: as if absent */
                if (best < 0 || (key->resolve == R_MAX ? lv > best : lv < best))
                    best = lv;
            }
            seen = 1;
        }
        char val[4096];
        if (key->kind == TEXT || key->kind == LIST)
            snprintf(val, sizeof val, "%s", seen ? text : key->dflt);
        else if (best >= 0)
            snprintf(val, sizeof val, "%d", best);
        else
            snprintf(val, sizeof val, "%s", key->dflt);
        if (json_object_set_new(s, key->name, json_string(val)))
            goto nomem;
    }
    json_decref(used);
    *settings = s;
    *ignored = ign;
    return 0;
nomem:
    json_decref(s);
    json_decref(ign);
    json_decref(used);
    return RG_ENOMEM;
}

int agentconfig_on(const json_t *settings, const char *key)
{
    const char *v = json_string_value(json_object_get(settings, key));
    return v && strcmp(v, "0") && v[0];
}
