/*
 * cmd.h: what the riskgate-agent commands (cmd_*.c, dispatched from
 * agent_main.c) share: exit codes, opening the agent with a logger, and the
 * common options. Command code may print and exit; the core (rg_agent_*) never does.
 */
#ifndef RG_AGENT_CMD_H
#define RG_AGENT_CMD_H
#include <stdbool.h>

#include "common/log.h"
#include "riskgate/agent.h"

enum {
    EXIT_OK_ = 0,
    EXIT_FAIL = 1,        /* failure */
    EXIT_USAGE = 2,       /* bad usage */
    EXIT_UNREACHABLE = 3, /* cannot reach the server */
    EXIT_REFUSED = 4,     /* refused by the server (401/403) */
};

struct cmd_env {
    const char *state_dir; /* --state-dir, or NULL: $RISKGATE_AGENT_STATE or ./var/agent */
    struct log log;        /* stderr logger */
};

/* Exit code for an rg_agent_* result. */
int cmd_exit_code(int rc);
/* Opens the agent with the logger wired in; prints why and returns NULL on failure. */
struct rg_agent *cmd_open(struct cmd_env *env);
/* Prints "riskgate-agent: <errmsg or strerror>" on stderr and returns the exit code for rc. */
int cmd_fail(struct rg_agent *ag, int rc);
/* Prints a usage line for a command on stderr; returns EXIT_USAGE. */
int cmd_usage(const char *text);
/*
 * Parses a whole number of seconds from min to max for option --name into *out;
 * 0, or prints "--name wants seconds from min to max" on stderr and returns EXIT_USAGE.
 */
int cmd_seconds(const char *arg, const char *name, long min, long max, long *out);

int cmd_activate(struct cmd_env *env, int argc, char **argv);
int cmd_run(struct cmd_env *env, int argc, char **argv);
int cmd_status(struct cmd_env *env, int argc, char **argv);
int cmd_signout(struct cmd_env *env, int argc, char **argv);
int cmd_check_url(struct cmd_env *env, int argc, char **argv);
int cmd_vpn(struct cmd_env *env, int argc, char **argv);
int cmd_hello(struct cmd_env *env, int argc, char **argv);
int cmd_prove(struct cmd_env *env, int argc, char **argv);
int cmd_rescan(struct cmd_env *env, int argc, char **argv);
int cmd_network(struct cmd_env *env, int argc, char **argv);

/*
 * Network protection's options of `run` (cmd_network.c): --trust-store DIR,
 * --ca-bundle FILE_OR_DIR, --tls-check HOST:PORT[=SHA256] (repeatable),
 * --tls-ca FILE, --net-interval S, --network-group NAME. Add CMD_NETPROT_OPTIONS to the getopt
 * table, pass the codes between CMD_NETPROT_OPT_FIRST and _LAST to
 * cmd_netprot_option (prints why and returns non-zero on a bad value), then
 * cmd_netprot_apply once the agent is open (an rg_agent_* code).
 */
#define CMD_NETPROT_MAX 16
#define CMD_NETPROT_OPT_FIRST 1000
#define CMD_NETPROT_OPT_LAST 1005
#define CMD_NETPROT_OPTIONS                                                                                            \
    {"trust-store", required_argument, NULL, 1000}, {"ca-bundle", required_argument, NULL, 1001},                      \
        {"tls-check", required_argument, NULL, 1002}, {"tls-ca", required_argument, NULL, 1003},                       \
        {"net-interval", required_argument, NULL, 1004}, {"network-group", required_argument, NULL, 1005}
#define CMD_NETPROT_USAGE                                                                                              \
    "[--trust-store DIR]... [--ca-bundle FILE_OR_DIR]... [--tls-check HOST:PORT[=SHA256]]... [--tls-ca FILE] "         \
    "[--net-interval S] [--network-group NAME]"
struct cmd_netprot_opts {
    const char *stores[CMD_NETPROT_MAX], *bundles[CMD_NETPROT_MAX], *checks[CMD_NETPROT_MAX];
    int nstores, nbundles, nchecks;
    const char *tls_ca;
    long interval;
    const char *group; /* --network-group */
};
int cmd_netprot_option(struct cmd_netprot_opts *o, int code, const char *arg);
int cmd_netprot_apply(struct rg_agent *ag, const struct cmd_netprot_opts *o);
/* Prints status.json's "networkProtection" block for a person (the `status` and `network status` commands). */
struct json_t;
void cmd_network_print(const struct json_t *status);

/*
 * Web protection's options of `run` (cmd_webprot.c): --dns-listen ADDR[:PORT]|off,
 * --dns-upstream ADDR[:PORT] (repeatable), --block-page ADDR:PORT|off,
 * --dns-block-mode sinkhole|nxdomain. Same use as the network options above:
 * CMD_WEBPROT_OPTIONS in the getopt table, codes between CMD_WEBPROT_OPT_FIRST
 * and _LAST to cmd_webprot_option, then cmd_webprot_apply (an rg_agent_* code).
 */
#define CMD_WEBPROT_OPT_FIRST 1100
#define CMD_WEBPROT_OPT_LAST 1103
#define CMD_WEBPROT_OPTIONS                                                                                            \
    {"dns-listen", required_argument, NULL, 1100}, {"dns-upstream", required_argument, NULL, 1101},                    \
        {"block-page", required_argument, NULL, 1102}, {"dns-block-mode", required_argument, NULL, 1103}
#define CMD_WEBPROT_USAGE                                                                                              \
    "[--dns-listen ADDR[:PORT]|off] [--dns-upstream ADDR[:PORT]]... [--block-page ADDR:PORT|off] "                    \
    "[--dns-block-mode sinkhole|nxdomain]"
struct cmd_webprot_opts {
    const char *listen, *block_page;
    const char *upstreams[4];
    int nupstreams;
    int nxdomain;
};
int cmd_webprot_option(struct cmd_webprot_opts *o, int code, const char *arg);
int cmd_webprot_apply(struct rg_agent *ag, const struct cmd_webprot_opts *o);
#endif
