/* cmd_signout.c: `riskgate-agent signout`: POST /device/v1/signout, then the credential is removed locally. */
#include <getopt.h>
#include <stdio.h>

#include "agent/cmd.h"

#define USAGE "signout [--state-dir DIR]"

int cmd_signout(struct cmd_env *env, int argc, char **argv)
{
    static const struct option opts[] = {
        {"state-dir", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'S')
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
    int rc = rg_agent_signout(ag);
    if (rc == RG_AGENT_EFORBIDDEN) {
        printf("Your organization does not allow signing out of riskgate-agent.\n");
        rg_agent_free(ag);
        return EXIT_REFUSED;
    }
    if (rc) {
        rc = cmd_fail(ag, rc);
        rg_agent_free(ag);
        return rc;
    }
    printf("Signed out. This device no longer reports to the server; the credential was removed.\n");
    rg_agent_free(ag);
    return 0;
}
