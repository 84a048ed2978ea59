/* cmd_wipes.c: `riskgate wipes`, the selective-wipe requests and their state (pending, successful, failed). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static int run_list(struct cli *cli, const struct cli_args *a)
{
    json_t *ans = NULL;
    int code = cli_list(cli, "/riskgate/v1/wipeRequests", &ans);
    if (code)
        return code;
    if (cli->json) {
        cli_print_json(ans);
    } else {
        static const char *const cols[] = {"ID", "STATUS", "REASON", "USER", "APP", "REGISTRATION", "REQUESTED",
                                           "COMPLETED"};
        struct table t;
        table_init(&t, cols, 8);
        size_t i;
        json_t *w;
        json_array_foreach(json_object_get(ans, "value"), i, w) {
            char made[32], done[32];
            cli_short_time(cli_str(w, "createdDateTime"), made, sizeof made);
            cli_short_time(cli_str(w, "completedDateTime"), done, sizeof done);
            table_add(&t, cli_str(w, "id"), cli_str(w, "status"), cli_str(w, "reason"), cli_str(w, "userId"),
                      cli_str(w, "appId"), cli_str(w, "registrationId"), made, done);
        }
        table_print(&t);
        table_release(&t);
    }
    json_decref(ans);
    return CLI_OK;
}

static const struct cli_cmd cmds[] = {
    {"list", "", "List selective-wipe requests: pending until the app confirms, then successful or failed.", NULL, 0,
     0, NULL, run_list},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const struct cli_group cli_group_wipes = {"wipes", "selective-wipe requests: list", cmds};
