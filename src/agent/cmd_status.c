/*
 * cmd_status.c: `riskgate-agent status [--json]`: the agent's state for a
 * person, in plain words: activation, device, the daemon and its last
 * heartbeat, the threat level, what to do about each threat, web protection
 * and whether sign-out is allowed. Reads state.json and the daemon's
 * status.json; never contacts the server.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "agent/cmd.h"

#define USAGE "status [--json] [--state-dir DIR]"

static const char *s(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : NULL;
}

/* "secured" -> "Secured". */
static const char *level_word(const char *lvl, char *buf, size_t n)
{
    if (!lvl)
        return NULL;
    snprintf(buf, n, "%s", lvl);
    if (buf[0])
        buf[0] = (char)toupper((unsigned char)buf[0]);
    return buf;
}

/* Network protection's detections are shown in its own block (cmd_network_print), audit mode respected. */
static bool network_kind(const json_t *t)
{
    const char *k = s(t, "kind");
    return k && (!strcmp(k, "certificate") || !strcmp(k, "openNetwork") || !strcmp(k, "rogueWifi"));
}

static void print_threats(const json_t *st, const char *level)
{
    json_t *threats = json_object_get(st, "threats");
    size_t i, nactive = 0;
    json_t *t;
    json_array_foreach(threats, i, t) nactive += !network_kind(t) && strcmp(s(t, "state") ? s(t, "state") : "", "resolved") != 0;
    if (!nactive) {
        printf("Threats:          none found%s\n",
               json_is_object(json_object_get(st, "scan")) &&
                       json_array_size(json_object_get(json_object_get(st, "scan"), "folders"))
                   ? ""
                   : " (no folder is scanned: riskgate-agent run --scan DIR)");
    } else {
        printf("Threats:          %zu\n", nactive);
    }
    size_t left = nactive;
    json_array_foreach(threats, i, t)
    {
        if (network_kind(t))
            continue;
        const char *name = s(t, "threatName") ? s(t, "threatName") : "a threat";
        const char *path = s(t, "filePath");
        if (!strcmp(s(t, "state") ? s(t, "state") : "", "resolved")) {
            printf("  - %s: the file is gone; the server has not been told yet\n", name);
            continue;
        }
        left--;
        printf("  - %s in %s%s%s\n", name, path ? path : "a scanned file",
               s(t, "indicator") ? " — matched indicator " : "", s(t, "indicator") ? s(t, "indicator") : "");
        if (nactive == 1)
            printf("    Delete the file %s (%s), then the level returns to Secured.\n", path ? path : "", name);
        else
            printf("    Delete the file %s (%s).%s\n", path ? path : "", name,
                   left == 0 ? " Once every file above is deleted, the level returns to Secured." : "");
        if (!json_is_true(json_object_get(t, "reported")))
            printf("    (not reported to the server yet)\n");
    }
    (void)level;
}

int cmd_status(struct cmd_env *env, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"state-dir", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool as_json = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'j')
            as_json = true;
        else if (c == 'S')
            env->state_dir = optarg;
        else if (c == 'h') {
            printf("usage: riskgate-agent %s\n", USAGE);
            return 0;
        } else
            return cmd_usage(USAGE);
    }
    if (optind < argc)
        return cmd_usage(USAGE);
    struct rg_agent *ag = cmd_open(env);
    if (!ag)
        return EXIT_FAIL;
    char *text = NULL;
    int rc = rg_agent_status_json(ag, &text);
    if (rc) {
        rc = cmd_fail(ag, rc);
        rg_agent_free(ag);
        return rc;
    }
    if (as_json) {
        printf("%s\n", text);
        rg_agent_string_free(text);
        rg_agent_free(ag);
        return 0;
    }
    json_t *st = json_loads(text, 0, NULL);
    rg_agent_string_free(text);
    bool active = json_is_true(json_object_get(st, "activated"));
    bool running = json_is_true(json_object_get(json_object_get(st, "daemon"), "running"));
    char lvlbuf[32];
    const char *level = level_word(s(st, "threatLevel"), lvlbuf, sizeof lvlbuf);
    if (!active && json_is_true(json_object_get(st, "signedOut"))) {
        printf("riskgate-agent is signed out (device %s). Activate it again with:\n"
               "  riskgate-agent activate --server URL --tenant NAME --user UPN\n",
               s(st, "deviceId"));
    } else if (!active) {
        printf("riskgate-agent is installed but not activated. Activate it with:\n"
               "  riskgate-agent activate --server URL --tenant NAME --user UPN\n");
    } else {
        if (s(st, "userPrincipalName"))
            printf("riskgate-agent is activated for %s in tenant %s.\n", s(st, "userPrincipalName"),
                   s(st, "tenant") ? s(st, "tenant") : "?");
        else
            printf("riskgate-agent is activated (enrollment code) in tenant %s.\n",
                   s(st, "tenant") ? s(st, "tenant") : "?");
        printf("Device id:        %s\n", s(st, "deviceId"));
        printf("Server:           %s\n", s(st, "server") ? s(st, "server") : "?");
    }
    json_t *d = json_object_get(st, "daemon");
    if (running)
        printf("Agent daemon:     running (pid %lld)\n", (long long)json_integer_value(json_object_get(d, "pid")));
    else
        printf("Agent daemon:     not running (start it with: riskgate-agent run --scan DIR)\n");
    if (active) {
        const char *hb = s(st, "lastHeartbeat");
        printf("Last heartbeat:   %s", hb ? hb : "never");
        if (json_is_true(json_object_get(st, "credentialRefused")))
            printf(" (the server refused this device's credential: activate again)");
        else if (s(st, "lastError"))
            printf(" (last problem: %s)", s(st, "lastError"));
        printf("\n");
        printf("Threat level:     %s\n", level ? level : "unknown (no heartbeat yet)");
        json_t *live = json_object_get(st, "liveUpdates");
        const char *ls = s(live, "state");
        if (running && ls && !strcmp(ls, "retrying"))
            printf("Live updates:     retrying (last problem: %s)\n",
                   s(live, "lastError") ? s(live, "lastError") : "?");
        else if (running && ls && strcmp(ls, "off"))
            printf("Live updates:     on (server changes reach this device within seconds)\n");
    }
    print_threats(st, level);
    json_t *web = json_object_get(st, "webProtection");
    printf("Web protection:   %s — %s%s\n", s(web, "state") ? s(web, "state") : "?", s(web, "why") ? s(web, "why") : "",
           json_is_true(json_object_get(web, "configurationKnown")) ? ""
                                                                    : " (configuration not fetched yet: defaults)");
    if (json_is_true(json_object_get(st, "vpnSkipped")))
        printf("VPN:              you skipped it (allowed by DefenderOptionalVPN)\n");
    if (active)
        printf("Sign-out:         %s\n", json_is_true(json_object_get(st, "signOutAllowed"))
                                             ? "allowed (riskgate-agent signout)"
                                             : "not allowed by your organization (DisableSignOut)");
    cmd_network_print(st);
    if (!json_is_true(json_object_get(st, "appDetailsInReports")))
        printf("Privacy:          file and app names are not sent with threat reports\n");
    json_decref(st);
    rg_agent_free(ag);
    return 0;
}
