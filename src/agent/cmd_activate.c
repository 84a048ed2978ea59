/*
 * cmd_activate.c: `riskgate-agent activate`: sign in with a user and password
 * (asked on the terminal without echo, or one line from stdin with
 * --password-stdin) or a one-time enrollment code, and store the device
 * identity. Never prints the credential.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "agent/cmd.h"

#define USAGE                                                                                                          \
    "activate --server URL --tenant NAME (--user UPN [--password-stdin] | --code CODE) [--skip-vpn] [--state-dir DIR]"

/* Reads one line (no newline) into buf; from the terminal with echo off when tty. */
static int read_password(bool from_stdin, char *buf, size_t n)
{
    FILE *in = stdin;
    FILE *tty = NULL;
    struct termios old, quiet;
    bool restore = false;
    if (!from_stdin) {
        tty = fopen("/dev/tty", "r+");
        if (!tty)
            return -1;
        in = tty;
        fputs("Password: ", tty);
        fflush(tty);
        if (tcgetattr(fileno(tty), &old) == 0) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            restore = tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0;
        }
    }
    bool ok = fgets(buf, (int)n, in) != NULL;
    if (restore) {
        tcsetattr(fileno(tty), TCSAFLUSH, &old);
        fputc('\n', tty);
    }
    if (tty)
        fclose(tty);
    if (!ok)
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

int cmd_activate(struct cmd_env *env, int argc, char **argv)
{
    static const struct option opts[] = {
        {"server", required_argument, NULL, 's'},
        {"tenant", required_argument, NULL, 't'},
        {"user", required_argument, NULL, 'u'},
        {"password-stdin", no_argument, NULL, 'p'},
        {"code", required_argument, NULL, 'c'},
        {"skip-vpn", no_argument, NULL, 'k'},
        {"state-dir", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct rg_agent_activation a = {0};
    bool pw_stdin = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            a.server = optarg;
            break;
        case 't':
            a.tenant = optarg;
            break;
        case 'u':
            a.user = optarg;
            break;
        case 'p':
            pw_stdin = true;
            break;
        case 'c':
            a.code = optarg;
            break;
        case 'k':
            a.skip_vpn = 1;
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
    if (optind < argc || !a.server || !a.tenant || (!a.user == !a.code) || (pw_stdin && a.code))
        return cmd_usage(USAGE);
    char password[1024] = "";
    if (a.user) {
        if (!pw_stdin && !isatty(STDIN_FILENO)) {
            fprintf(stderr, "riskgate-agent: no terminal to ask the password on; use --password-stdin\n");
            return EXIT_USAGE;
        }
        if (read_password(pw_stdin, password, sizeof password) || !password[0]) {
            fprintf(stderr, "riskgate-agent: no password given\n");
            return EXIT_USAGE;
        }
        a.password = password;
    }
    struct rg_agent *ag = cmd_open(env);
    if (!ag) {
        OPENSSL_cleanse(password, sizeof password);
        return EXIT_FAIL;
    }
    int rc = rg_agent_activate(ag, &a);
    OPENSSL_cleanse(password, sizeof password);
    if (rc) {
        rc = cmd_fail(ag, rc);
        rg_agent_free(ag);
        return rc;
    }
    char *text = NULL;
    json_t *st = NULL;
    if (!rg_agent_status_json(ag, &text))
        st = json_loads(text, 0, NULL);
    rg_agent_string_free(text);
    const char *dev = json_string_value(json_object_get(st, "deviceId"));
    printf("Activated: device %s", dev ? dev : "?");
    if (a.user)
        printf(" for %s", a.user);
    printf(" in tenant %s.\n", a.tenant);
    if (a.skip_vpn) {
        if (json_is_true(json_object_get(st, "vpnSkipped")))
            printf("You skipped the VPN: web protection is partial until you run 'riskgate-agent vpn on'.\n");
        else if (!json_is_object(json_object_get(st, "settings")))
            printf("The configuration could not be fetched, so the VPN cannot be skipped now; the VPN filter "
                   "stays on.\n");
        else
            printf("Your organization does not let you skip the VPN (DefenderOptionalVPN is off); the VPN filter "
                   "stays on.\n");
    }
    printf("Start the agent with: riskgate-agent run --scan <folder>\n");
    json_decref(st);
    rg_agent_free(ag);
    return 0;
}
