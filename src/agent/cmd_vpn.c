/* cmd_vpn.c: `riskgate-agent vpn on|off`: turn the VPN filter on, or skip it when DefenderOptionalVPN allows. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "agent/cmd.h"

#define USAGE "vpn on|off [--state-dir DIR]"

int cmd_vpn(struct cmd_env *env, int argc, char **argv)
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
    if (optind + 1 != argc || (strcmp(argv[optind], "on") && strcmp(argv[optind], "off")))
        return cmd_usage(USAGE);
    bool on = !strcmp(argv[optind], "on");
    struct rg_agent *ag = cmd_open(env);
    if (!ag)
        return EXIT_FAIL;
    int rc = rg_agent_set_vpn(ag, on);
    if (rc == RG_AGENT_EFORBIDDEN) {
        printf("%s\n", rg_agent_errmsg(ag));
        rg_agent_free(ag);
        return EXIT_REFUSED;
    }
    if (rc) {
        rc = cmd_fail(ag, rc);
        rg_agent_free(ag);
        return rc;
    }
    printf(on ? "The VPN filter is on.\n" : "You skipped the VPN: web protection is partial.\n");
    rg_agent_free(ag);
    return 0;
}
