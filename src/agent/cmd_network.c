/*
 * cmd_network.c: `riskgate-agent network status|observe|trust|untrust`
 * (network protection, docs/agent.md), the network options of `run`, and
 * the "Network protection" block that `status` prints too. observe, trust
 * and untrust go to the running daemon over the local socket ("network
 * <json>"); status reads status.json like `status` does.
 *
 * Exit codes: 0 done; 1 failure (no daemon running, or NetworkManager
 * answers so observations are not taken); 2 usage; 4 refused: by the
 * organization (DefenderEndUserTrustFlowEnable is off), or because this user
 * may not (only root, the daemon's user and its --network-group may).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent/cmd.h"

#define USAGE                                                                                                          \
    "network status [--json]\n"                                                                                        \
    "       riskgate-agent network observe --security open|wep|wpa|wpa2|wpa3|none [--ssid NAME] [--bssid XX:XX:..] [--ttl S]\n" \
    "       riskgate-agent network trust|untrust [--ssid NAME | --cert SHA256]"

int cmd_netprot_option(struct cmd_netprot_opts *o, int code, const char *arg)
{
    const char **list = NULL;
    int *n = NULL;
    switch (code) {
    case 1000:
        list = o->stores, n = &o->nstores;
        break;
    case 1001:
        list = o->bundles, n = &o->nbundles;
        break;
    case 1002:
        list = o->checks, n = &o->nchecks;
        break;
    case 1003:
        o->tls_ca = arg;
        return 0;
    case 1004:
        return cmd_seconds(arg, "net-interval", 10, 86400, &o->interval) ? -1 : 0;
    case 1005:
        o->group = arg;
        return 0;
    default:
        return -1;
    }
    if (*n == CMD_NETPROT_MAX) {
        fprintf(stderr, "riskgate-agent: at most %d of each network protection option\n", CMD_NETPROT_MAX);
        return -1;
    }
    list[(*n)++] = arg;
    return 0;
}

int cmd_netprot_apply(struct rg_agent *ag, const struct cmd_netprot_opts *o)
{
    int rc = 0;
    for (int i = 0; !rc && i < o->nstores; i++)
        rc = rg_agent_add_trust_store(ag, o->stores[i]);
    for (int i = 0; !rc && i < o->nbundles; i++)
        rc = rg_agent_add_ca_bundle(ag, o->bundles[i]);
    for (int i = 0; !rc && i < o->nchecks; i++)
        rc = rg_agent_add_tls_check(ag, o->checks[i]);
    if (!rc && o->tls_ca)
        rc = rg_agent_set_tls_ca(ag, o->tls_ca);
    if (!rc && o->interval)
        rg_agent_set_net_interval(ag, (int)o->interval);
    if (!rc && o->group)
        rc = rg_agent_set_network_group(ag, o->group);
    return rc;
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

void cmd_network_print(const struct json_t *status)
{
    const json_t *np = json_object_get(status, "networkProtection");
    const json_t *settings = json_object_get(status, "settings");
    if (!json_is_object(np)) {
        const char *on = str(settings, "DefenderNetworkProtectionEnable");
        printf("Network protection: %s\n", on && (!strcmp(on, "1") || !strcmp(on, "true"))
                                               ? "on (the daemon has not reported yet: riskgate-agent run)"
                                               : "off");
        return;
    }
    if (!json_is_true(json_object_get(np, "enabled"))) {
        printf("Network protection: off (your organization has not turned it on)\n");
        return;
    }
    const char *cm = str(np, "certificateDetection"), *om = str(np, "openNetworkDetection");
    printf("Network protection: on\n");
    json_t *net = json_object_get(np, "network");
    const char *sec = str(net, "security");
    if (!json_is_object(net))
        printf("  Network:          not known (no NetworkManager; riskgate-agent network observe ...)\n");
    else if (sec && !strcmp(sec, "none"))
        printf("  Network:          not on Wi-Fi\n");
    else
        printf("  Network:          Wi-Fi %s (%s)%s\n", str(net, "ssid") ? str(net, "ssid") : "?", sec ? sec : "?",
               json_is_true(json_object_get(net, "trusted")) ? ", trusted by you" : "");
    if (om && !strcmp(om, "enable"))
        printf("  Open networks:    you are warned about open and WEP Wi-Fi\n");
    else if (om && !strcmp(om, "audit"))
        printf("  Open networks:    checked for your organization\n");
    else
        printf("  Open networks:    not checked\n");
    const json_t *certs = json_object_get(np, "certificates");
    if (cm && !strcmp(cm, "enable")) {
        size_t n = json_array_size(json_object_get(certs, "suspicious"));
        if (n)
            printf("  Certificates:     %zu suspicious certificate%s installed\n", n, n == 1 ? "" : "s");
        else
            printf("  Certificates:     no suspicious certificate (%lld checked)\n",
                   (long long)json_integer_value(json_object_get(certs, "checked")));
    } else if (cm && !strcmp(cm, "audit")) {
        printf("  Certificates:     checked for your organization\n");
    } else {
        printf("  Certificates:     not checked\n");
    }
    size_t nchecks = json_array_size(json_object_get(np, "tlsChecks"));
    if (json_is_true(json_object_get(np, "intercepted")))
        printf("  Interception:     your connection may be intercepted on this network\n");
    else if (nchecks)
        printf("  Interception:     none seen (%zu endpoint%s checked%s%s)\n", nchecks, nchecks == 1 ? "" : "s",
               str(np, "lastTlsCheck") ? ", last at " : "", str(np, "lastTlsCheck") ? str(np, "lastTlsCheck") : "");
    if (json_is_true(json_object_get(np, "trustFlow")))
        printf("  Trust:            you may trust networks and certificates (riskgate-agent network trust)\n");
    size_t i;
    json_t *line;
    json_array_foreach(json_object_get(np, "notices"), i, line) printf("  What to do:       %s\n", json_string_value(line));
    if (json_is_true(json_object_get(np, "privacy")))
        printf("  Privacy:          network names and certificate details are not sent to your organization\n");
}

static int net_status(struct cmd_env *env, bool as_json)
{
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
    json_t *st = json_loads(text, 0, NULL);
    rg_agent_string_free(text);
    if (as_json) {
        json_t *np = json_object_get(st, "networkProtection");
        char *s = json_dumps(np ? np : json_null(), JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        printf("%s\n", s ? s : "null");
        free(s);
    } else {
        cmd_network_print(st);
    }
    json_decref(st);
    rg_agent_free(ag);
    return 0;
}

/* Sends {"op":..., ...} to the daemon; prints the outcome. */
static int net_ask(struct cmd_env *env, json_t *req)
{
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    size_t n = body ? strlen(body) + 9 : 0;
    char *line = body ? malloc(n) : NULL;
    if (line)
        snprintf(line, n, "network %s", body);
    free(body);
    if (!line) {
        fprintf(stderr, "riskgate-agent: out of memory\n");
        return EXIT_FAIL;
    }
    struct rg_agent *ag = cmd_open(env);
    if (!ag) {
        free(line);
        return EXIT_FAIL;
    }
    char *answer = NULL;
    int rc = rg_agent_ask(ag, line, &answer);
    free(line);
    if (rc) {
        rc = cmd_fail(ag, rc);
        if (rc == EXIT_FAIL || rc == EXIT_USAGE)
            fprintf(stderr, "riskgate-agent: network protection runs in the daemon: start it with riskgate-agent run\n");
        rg_agent_free(ag);
        return rc == EXIT_USAGE ? EXIT_FAIL : rc;
    }
    rg_agent_free(ag);
    json_t *a = json_loads(answer, 0, NULL);
    rg_agent_string_free(answer);
    int out = 0;
    if (!json_is_object(a)) {
        fprintf(stderr, "riskgate-agent: the daemon's answer is not understood\n");
        out = EXIT_FAIL;
    } else if (str(a, "error")) {
        const char *code = str(a, "code");
        bool forbidden = code && !strcmp(code, "forbidden");
        fprintf(forbidden ? stdout : stderr, "%s%s\n", forbidden ? "" : "riskgate-agent: ", str(a, "error"));
        out = forbidden ? EXIT_REFUSED : code && !strcmp(code, "invalid") ? EXIT_USAGE : EXIT_FAIL;
    } else if (str(a, "network")) {
        printf("%s the network %s.\n", json_is_true(json_object_get(a, "trusted")) ? "You trust" : "You no longer trust",
               str(a, "network"));
    } else if (str(a, "certificate")) {
        printf("%s the certificate %s.\n",
               json_is_true(json_object_get(a, "trusted")) ? "You trust" : "You no longer trust", str(a, "certificate"));
    } else {
        printf("Network observed: %s.\n", str(a, "security") ? str(a, "security") : "?");
    }
    json_decref(a);
    return out;
}

int cmd_network(struct cmd_env *env, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},       {"ssid", required_argument, NULL, 's'},
        {"bssid", required_argument, NULL, 'b'}, {"security", required_argument, NULL, 'e'},
        {"cert", required_argument, NULL, 'c'},  {"state-dir", required_argument, NULL, 'S'},
        {"ttl", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            printf("usage: riskgate-agent %s\n", USAGE);
            return 0;
        }
        return cmd_usage(USAGE);
    }
    const char *verb = argv[1];
    const char *ssid = NULL, *bssid = NULL, *security = NULL, *cert = NULL;
    long ttl = 0;
    bool as_json = false;
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            as_json = true;
            break;
        case 's':
            ssid = optarg;
            break;
        case 'b':
            bssid = optarg;
            break;
        case 'e':
            security = optarg;
            break;
        case 'c':
            cert = optarg;
            break;
        case 't':
            if (cmd_seconds(optarg, "ttl", 10, 86400, &ttl))
                return EXIT_USAGE;
            break;
        case 'S':
            env->state_dir = optarg;
            break;
        case 'h':
            printf("usage: riskgate-agent %s\n", USAGE);
            return 0;
        default:
            return cmd_usage(USAGE);
        }
    }
    if (optind < argc)
        return cmd_usage(USAGE);
    if (!strcmp(verb, "status")) {
        if (ssid || bssid || security || cert || ttl)
            return cmd_usage(USAGE);
        return net_status(env, as_json);
    }
    if (as_json)
        return cmd_usage(USAGE);
    if (!strcmp(verb, "observe")) {
        if (!security || cert)
            return cmd_usage(USAGE);
        json_t *req = json_pack("{s:s,s:s}", "op", "observe", "security", security);
        if (ssid)
            json_object_set_new(req, "ssid", json_string(ssid));
        if (bssid)
            json_object_set_new(req, "bssid", json_string(bssid));
        if (ttl)
            json_object_set_new(req, "ttl", json_integer(ttl));
        return net_ask(env, req);
    }
    if (!strcmp(verb, "trust") || !strcmp(verb, "untrust")) {
        if (security || bssid || ttl || (ssid && cert))
            return cmd_usage(USAGE);
        json_t *req = json_pack("{s:s}", "op", verb);
        if (ssid)
            json_object_set_new(req, "ssid", json_string(ssid));
        if (cert)
            json_object_set_new(req, "cert", json_string(cert));
        return net_ask(env, req);
    }
    return cmd_usage(USAGE);
}
