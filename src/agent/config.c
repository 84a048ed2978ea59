/*
 * config.c: the configuration key table and value parsing (config.h).
 * Defaults where the reference's sources disagree (§9.4) are chosen for the
 * Managed Apps route this agent follows and written in docs/agent.md.
 */
#include "agent/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"

static const struct config_key keys[] = {
    {"DefenderMAMConfigs", CONFIG_INT, NULL, "marker of a Managed Apps policy"},
    {"antiphishing", CONFIG_BOOL, "1", "anti-phishing (web protection)"},
    {"vpn", CONFIG_BOOL, "1", "web protection through the local VPN"},
    {"WebProtection", CONFIG_BOOL, "true", "iOS: false deploys without the VPN"},
    {"DefenderNetworkProtectionEnable", CONFIG_BOOL, "0", "network protection parent switch"},
    {"DefenderAllowlistedCACertificates", CONFIG_STRING, NULL, "trusted CA thumbprints"},
    {"DefenderCertificateDetection", CONFIG_INT, "1", "0 off, 1 audit, 2 on"},
    {"DefenderOpenNetworkDetection", CONFIG_INT, "0", "0 off, 1 audit, 2 on"},
    {"DefenderEndUserTrustFlowEnable", CONFIG_BOOL, "0", "user may trust networks and certificates"},
    {"DefenderNetworkProtectionAutoRemediation", CONFIG_BOOL, "1", "remediation alerts"},
    {"DefenderNetworkProtectionPrivacy", CONFIG_BOOL, "1", "no network/certificate details collected"},
    {"DefenderExcludeURLInReport", CONFIG_BOOL, "0", "phishing reports omit the URL"},
    {"DefenderExcludeAppInReport", CONFIG_BOOL, "0", "malware reports omit app and file names"},
    {"DefenderTVMPrivacyMode", CONFIG_BOOL, "0", "no app inventory sent"},
    {"DefenderOptionalVPN", CONFIG_BOOL, "0", "the person may skip the VPN"},
    {"DefenderOptionalAccessibility", CONFIG_BOOL, "0", "the person may skip Accessibility"},
    {"DisableSignOut", CONFIG_BOOL, "0", "sign-out is not allowed"},
    {"DefenderDeviceTag", CONFIG_STRING, NULL, "device tag"},
    {NULL, CONFIG_BOOL, NULL, NULL},
};

const struct config_key *config_keys(void)
{
    return keys;
}

const struct config_key *config_key_find(const char *name)
{
    for (const struct config_key *k = keys; name && k->name; k++)
        if (!strcmp(k->name, name))
            return k;
    return NULL;
}

/* s without surrounding blanks as (p, n). */
static void trim(const char *s, const char **p, size_t *n)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    *p = s;
    *n = len;
}

int config_bool_parse(const char *s, bool *out)
{
    if (!s)
        return RG_EINVAL;
    const char *p;
    size_t n;
    trim(s, &p, &n);
    if ((n == 1 && *p == '1') || (n == 4 && !strncasecmp(p, "true", 4)))
        *out = true;
    else if ((n == 1 && *p == '0') || (n == 5 && !strncasecmp(p, "false", 5)))
        *out = false;
    else
        return RG_EINVAL;
    return 0;
}

int config_int_parse(const char *s, long *out)
{
    if (!s)
        return RG_EINVAL;
    bool b;
    if (!config_bool_parse(s, &b)) {
        *out = b;
        return 0;
    }
    const char *p;
    size_t n;
    trim(s, &p, &n);
    if (!n || n > 20)
        return RG_EINVAL;
    char tmp[24];
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    long v = strtol(tmp, &end, 10);
    if (errno || *end)
        return RG_EINVAL;
    *out = v;
    return 0;
}

static const char *def_of(const char *name)
{
    const struct config_key *k = config_key_find(name);
    return k ? k->def : NULL;
}

bool config_bool(const json_t *settings, const char *name)
{
    bool v = false;
    json_t *j = settings ? json_object_get(settings, name) : NULL;
    if (json_is_boolean(j))
        return json_is_true(j);
    if (json_is_integer(j) && (json_integer_value(j) == 0 || json_integer_value(j) == 1))
        return json_integer_value(j) == 1;
    if (json_is_string(j) && !config_bool_parse(json_string_value(j), &v))
        return v;
    const char *d = def_of(name);
    if (d && !config_bool_parse(d, &v))
        return v;
    return false;
}

long config_int(const json_t *settings, const char *name)
{
    long v = 0;
    json_t *j = settings ? json_object_get(settings, name) : NULL;
    if (json_is_integer(j))
        return (long)json_integer_value(j);
    if (json_is_boolean(j))
        return json_is_true(j);
    if (json_is_string(j) && !config_int_parse(json_string_value(j), &v))
        return v;
    const char *d = def_of(name);
    if (d && !config_int_parse(d, &v))
        return v;
    return 0;
}

const char *config_string(const json_t *settings, const char *name)
{
    json_t *j = settings ? json_object_get(settings, name) : NULL;
    if (json_is_string(j))
        return json_string_value(j);
    return def_of(name);
}

enum config_web config_web_protection(const json_t *settings, bool vpn_skipped, const char **why)
{
    bool ap = config_bool(settings, "antiphishing");
    bool vpn = config_bool(settings, "vpn");
    const char *w;
    enum config_web r;
    if (!ap && !vpn) {
        r = CONFIG_WEB_OFF;
        w = "your organization turned web protection off (antiphishing and vpn are 0)";
    } else if (ap && !vpn) {
        r = CONFIG_WEB_ON;
        w = "anti-phishing is on without the VPN (vpn is 0)";
    } else if (!ap) {
        r = vpn_skipped ? CONFIG_WEB_OFF : CONFIG_WEB_PARTIAL;
        w = vpn_skipped ? "anti-phishing is off and you skipped the VPN"
                        : "the VPN filter is on but your organization turned anti-phishing off";
    } else if (vpn_skipped) {
        r = CONFIG_WEB_PARTIAL;
        w = "you skipped the VPN: URLs are checked on request (check-url, apps) but traffic is not filtered; "
            "run 'riskgate-agent vpn on' to turn it on";
    } else {
        r = CONFIG_WEB_ON;
        w = "anti-phishing and the VPN filter are on";
    }
    if (why)
        *why = w;
    return r;
}

const char *config_web_name(enum config_web w)
{
    return w == CONFIG_WEB_ON ? "on" : w == CONFIG_WEB_PARTIAL ? "partial" : "off";
}
