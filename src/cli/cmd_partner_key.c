/* cmd_partner_key.c: `riskgate partner-key`, keys a third-party threat-defense partner reports with. */
#include <stdio.h>

#include "cli/threat_cmds.h"

static int run_create(struct cli *cli, const struct cli_args *a)
{
    json_t *body = json_pack("{s:s}", "partnerId", a->pos[0]), *ans = NULL;
    if (!body)
        return cli_usage(cli, "partner-key create: the partner id must be UTF-8 text");
    int code = cli_call(cli, "POST", "/riskgate/v1/partnerKeys", body, &ans);
    json_decref(body);
    if (code)
        return code;
    if (cli->json) {
        cli_print_json(ans);
    } else {
        printf("created a partner key for connector %s\n", cli_str(ans, "partnerId"));
        printf("key: %s\n", cli_str(ans, "key"));
    }
    fprintf(stderr, "riskgate: warning: store this key now; it is shown only once and cannot be recovered\n");
    json_decref(ans);
    return CLI_OK;
}

static const struct cli_cmd cmds[] = {
    {"create", "PARTNER_ID", "Create a key for a partner's reports (shown once).",
     "PARTNER_ID is the id of an existing mobileThreatDefenseConnector other than the built-in one\n"
     "(riskgate connectors list). The partner sends it as a Bearer key to the partner API.\n\n"
     "Example:\n  riskgate partner-key create 2a7f2b4c-8c1e-4c51-9f3c-1c0d1b1b2f3e",
     1, 1, NULL, run_create},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const struct cli_group cli_group_partner_key = {"partner-key", "keys of third-party threat-defense partners: create",
                                                cmds};
