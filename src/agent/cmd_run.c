/*
 * cmd_run.c: `riskgate-agent run`, the daemon. A plain main loop: the signal
 * handlers only set the two flags below; the periodic work is rg_agent_tick;
 * the local socket is served between ticks. ppoll() unblocks the signals
 * only while it waits, so a signal is never lost between a flag check and the
 * wait. SIGTERM/SIGINT stop (the socket is removed, status.json written),
 * SIGHUP rescans at once.
 */
/* ppoll() needs _GNU_SOURCE: CMakeLists.txt defines it for this file alone (the -include of banned.h
 * pulls in the libc headers before any #define here could). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cmd.h"

#define USAGE                                                                                                  \
    "run [--scan DIR]... [--interval S] [--log-format text|json] [-v] [--state-dir DIR]\n"                     \
    "        " CMD_NETPROT_USAGE "\n"                                                                        \
    "        " CMD_WEBPROT_USAGE

/* The only mutable statics of the program: what the signal handlers may touch. */
static volatile sig_atomic_t stop_flag, rescan_flag;

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void on_hup(int sig)
{
    (void)sig;
    rescan_flag = 1;
}

int cmd_run(struct cmd_env *env, int argc, char **argv)
{
    static const struct option opts[] = {
        {"scan", required_argument, NULL, 's'},
        {"interval", required_argument, NULL, 'i'},
        {"log-format", required_argument, NULL, 'l'},
        {"verbose", no_argument, NULL, 'v'},
        {"state-dir", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        CMD_NETPROT_OPTIONS,
        CMD_WEBPROT_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct cmd_netprot_opts npo = {0};
    struct cmd_webprot_opts wpo = {0};
    const char *dirs[64];
    int ndirs = 0;
    long interval = 0;
    int c;
    while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (ndirs == (int)(sizeof dirs / sizeof dirs[0])) {
                fprintf(stderr, "riskgate-agent: at most 64 --scan folders\n");
                return EXIT_USAGE;
            }
            dirs[ndirs++] = optarg;
            break;
        case 'i':
            if (cmd_seconds(optarg, "interval", 1, 86400, &interval))
                return EXIT_USAGE;
            break;
        case 'l':
            if (log_format_parse(optarg, &env->log.format)) {
                fprintf(stderr, "riskgate-agent: --log-format is text or json\n");
                return EXIT_USAGE;
            }
            break;
        case 'v':
            env->log.min_level = LOG_DEBUG;
            break;
        case 'S':
            env->state_dir = optarg;
            break;
        case 'h':
            printf("usage: riskgate-agent %s\n", USAGE);
            return 0;
        default:
            if (c >= CMD_NETPROT_OPT_FIRST && c <= CMD_NETPROT_OPT_LAST) { /* network protection (cmd_network.c) */
                if (cmd_netprot_option(&npo, c, optarg))
                    return EXIT_USAGE;
                break;
            }
            if (c >= CMD_WEBPROT_OPT_FIRST && c <= CMD_WEBPROT_OPT_LAST) { /* web protection (cmd_webprot.c) */
                if (cmd_webprot_option(&wpo, c, optarg))
                    return EXIT_USAGE;
                break;
            }
            return cmd_usage(USAGE);
        }
    }
    if (optind < argc)
        return cmd_usage(USAGE);
    struct rg_agent *ag = cmd_open(env);
    if (!ag)
        return EXIT_FAIL;
    int rc = 0;
    for (int i = 0; i < ndirs && !rc; i++)
        rc = rg_agent_add_scan_dir(ag, dirs[i]);
    if (!rc)
        rc = cmd_netprot_apply(ag, &npo);
    if (!rc)
        rc = cmd_webprot_apply(ag, &wpo);
    if (rc) {
        rc = cmd_fail(ag, rc);
        rg_agent_free(ag);
        return rc == EXIT_USAGE ? EXIT_USAGE : rc;
    }
    if (interval)
        rg_agent_set_scan_interval(ag, (int)interval);

    sigset_t block, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGHUP);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    rc = rg_agent_start(ag);
    if (rc) {
        rc = cmd_fail(ag, rc);
        rg_agent_free(ag);
        return rc;
    }
    log_msg(&env->log, LOG_INFO, "riskgate-agent %s running, %d folder(s) to scan", RG_AGENT_VERSION, ndirs);
    while (!stop_flag) {
        if (rescan_flag) {
            rescan_flag = 0;
            log_msg(&env->log, LOG_INFO, "SIGHUP: rescanning");
            rg_agent_request_rescan(ag);
        }
        int wait_ms = 0;
        rg_agent_tick(ag, &wait_ms);
        if (stop_flag)
            break;
        if (rescan_flag)
            continue;
        struct pollfd fds[RG_AGENT_MAX_FDS];
        int n = rg_agent_pollfds(ag, fds, RG_AGENT_MAX_FDS);
        struct timespec ts = {wait_ms / 1000, (long)(wait_ms % 1000) * 1000000L};
        int k = ppoll(fds, (nfds_t)n, &ts, &waitmask);
        if (k > 0)
            rg_agent_process(ag, fds, n);
    }
    log_msg(&env->log, LOG_INFO, "stopping");
    rg_agent_free(ag);
    return 0;
}
