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

int cmd_activate(struct cmd_env *env, int argc, char **argv);
int cmd_run(struct cmd_env *env, int argc, char **argv);
int cmd_status(struct cmd_env *env, int argc, char **argv);
int cmd_signout(struct cmd_env *env, int argc, char **argv);
int cmd_check_url(struct cmd_env *env, int argc, char **argv);
int cmd_vpn(struct cmd_env *env, int argc, char **argv);
int cmd_hello(struct cmd_env *env, int argc, char **argv);
int cmd_rescan(struct cmd_env *env, int argc, char **argv);
#endif
