/* cmd_registrations.c: `riskgate registrations`, the managed apps that checked in (managedAppRegistrations). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static int run_list(struct cli *cli, const struct cli_args *a)
{
    char path[128];
    json_t *ans = NULL;
    int code = cli_graph_path(cli, path, sizeof path, "deviceAppManagement/managedAppRegistrations");
    if (code || (code = cli_list(cli, path, &ans)))
        return code;
    if (cli->json) {
        cli_print_json(ans);
    } else {
        static const char *const cols[] = {"ID", "USER", "APP", "PLATFORM", "DEVICE", "VERSION", "LAST SYNC"};
        struct table t;
        table_init(&t, cols, 7);
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(ans, "value"), i, r) {
            const json_t *app = json_object_get(r, "appIdentifier");
            const char *pkg = cli_str(app, "packageId");
            const char *type = cli_str(r, "@odata.type");
            char sync[32];
            cli_short_time(cli_str(r, "lastSyncDateTime"), sync, sizeof sync);
            table_add(&t, cli_str(r, "id"), cli_str(r, "userId"), *pkg ? pkg : cli_str(app, "bundleId"),
                      strstr(type, "android") ? "android" : strstr(type, "ios") ? "ios" : type,
                      cli_str(r, "deviceName"), cli_str(r, "applicationVersion"), sync);
        }
        table_print(&t);
        table_release(&t);
    }
    json_decref(ans);
    return CLI_OK;
}

static const struct cli_cmd cmds[] = {
    {"list", "", "List the app registrations (managed apps that checked in).", NULL, 0, 0, NULL, run_list},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const struct cli_group cli_group_registrations = {"registrations", "managed app registrations: list", cmds};
