/*
 * agent_main.c: riskgate-agent's main(): global options, then one command
 * from the table below (one file per command, cmd_*.c). See docs/agent.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "agent/cmd.h"

static const struct {
    const char *name;
    int (*fn)(struct cmd_env *, int, char **);
    const char *args;
    const char *what;
} commands[] = {
    {"activate", cmd_activate, "--server URL --tenant NAME (--user UPN [--password-stdin] | --code CODE) [--skip-vpn]",
     "sign in and activate this device"},
    {"run", cmd_run, "[--scan DIR]... [--interval S] [--log-format text|json] [-v]",
     "the daemon: heartbeat, configuration, indicators, scans, local socket"},
    {"status", cmd_status, "[--json]", "what the agent knows, in plain words"},
    {"signout", cmd_signout, "", "sign out (if your organization allows it)"},
    {"check-url", cmd_check_url, "URL", "look a URL up in the indicators (exit 1 if blocked or warned)"},
    {"vpn", cmd_vpn, "on|off", "turn the VPN filter on, or skip it if allowed"},
    {"hello", cmd_hello, "", "print the local socket's hello answer (what managed apps learn)"},
    {"prove", cmd_prove, "NONCE", "sign a server nonce with the device key (the device proof apps send)"},
    {"rescan", cmd_rescan, "", "ask the daemon for a heartbeat and a scan now (like SIGHUP)"},
    {"network", cmd_network, "status [--json] | observe --security S [--ssid NAME] | trust|untrust [--ssid NAME|--cert SHA256]",
     "network protection: what it sees, feed the current Wi-Fi, trust a network or certificate"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: riskgate-agent [--state-dir DIR] COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-9s%s%s\n            %s\n", commands[i].name, commands[i].args[0] ? " " : "", commands[i].args,
                commands[i].what);
    fprintf(f, "\nThe state folder (default $RISKGATE_AGENT_STATE or ./var/agent) holds state.json,\n"
               "status.json and agent.sock. Exit codes: 0 ok, 1 failure, 2 usage, 3 cannot reach the\n"
               "server, 4 refused by the server. See docs/agent.md.\n");
}

int main(int argc, char **argv)
{
    struct cmd_env env = {NULL, LOG_INIT};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("riskgate-agent %s\n", RG_AGENT_VERSION);
            return 0;
        }
        if (!strcmp(argv[i], "--state-dir") && i + 1 < argc) {
            env.state_dir = argv[++i];
        } else if (!strncmp(argv[i], "--state-dir=", 12)) {
            env.state_dir = argv[i] + 12;
        } else {
            fprintf(stderr, "riskgate-agent: unknown option %s\n", argv[i]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    for (size_t k = 0; k < NCOMMANDS; k++) {
        if (strcmp(argv[i], commands[k].name))
            continue;
        if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
            fprintf(stderr, "riskgate-agent: libcurl could not start\n");
            return EXIT_FAIL;
        }
        optind = 1;
        int rc = commands[k].fn(&env, argc - i, argv + i);
        curl_global_cleanup();
        return rc;
    }
    if (!strcmp(argv[i], "help")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "riskgate-agent: unknown command '%s'\n", argv[i]);
    usage(stderr);
    return EXIT_USAGE;
}
