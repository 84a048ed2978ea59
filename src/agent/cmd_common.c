/* cmd_common.c: exit codes, opening the agent with the logger (cmd.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent/cmd.h"

int cmd_exit_code(int rc)
{
    switch (rc) {
    case RG_AGENT_OK:
        return EXIT_OK_;
    case RG_AGENT_EUNREACHABLE:
        return EXIT_UNREACHABLE;
    case RG_AGENT_EAUTH:
    case RG_AGENT_EFORBIDDEN:
        return EXIT_REFUSED;
    case RG_AGENT_EINVAL:
        return EXIT_USAGE;
    default:
        return EXIT_FAIL;
    }
}

static void on_log(void *ud, int level, const char *msg)
{
    const struct log *lg = ud;
    enum log_level l = level <= 0 ? LOG_DEBUG : level == 1 ? LOG_INFO : level == 2 ? LOG_WARN : LOG_ERROR;
    log_msg(lg, l, "%s", msg);
}

struct rg_agent *cmd_open(struct cmd_env *env)
{
    struct rg_agent *ag = NULL;
    int rc = rg_agent_new(env->state_dir, &ag);
    if (rc) {
        fprintf(stderr, "riskgate-agent: cannot open the state folder %s: %s\n",
                env->state_dir ? env->state_dir : "(default)", rg_agent_strerror(rc));
        return NULL;
    }
    rg_agent_set_log(ag, on_log, &env->log);
    return ag;
}

int cmd_fail(struct rg_agent *ag, int rc)
{
    const char *m = rg_agent_errmsg(ag);
    fprintf(stderr, "riskgate-agent: %s\n", m && *m ? m : rg_agent_strerror(rc));
    return cmd_exit_code(rc);
}

int cmd_usage(const char *text)
{
    fprintf(stderr, "usage: riskgate-agent [--state-dir DIR] %s\n", text);
    return EXIT_USAGE;
}

int cmd_seconds(const char *arg, const char *name, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < min || v > max) {
        fprintf(stderr, "riskgate-agent: --%s wants seconds from %ld to %ld\n", name, min, max);
        return EXIT_USAGE;
    }
    *out = v;
    return 0;
}
