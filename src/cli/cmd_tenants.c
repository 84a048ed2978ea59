/* cmd_tenants.c: `riskgate tenants` (operator only: an admin key of the "default" tenant). */
#include <stdio.h>

#include "cli/cli.h"

#define TENANTS_PATH "/riskgate/v1/tenants"

static int run_list(struct cli *cli, const struct cli_args *a)
{
    json_t *ans = NULL;
    int code = cli_list(cli, TENANTS_PATH, &ans);
    if (code)
        return code;
    if (cli->json) {
        cli_print_json(ans);
    } else {
        static const char *const cols[] = {"ID", "NAME", "CREATED"};
        struct table t;
        table_init(&t, cols, 3);
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(ans, "value"), i, v) {
            char created[32];
            cli_short_time(cli_str(v, "createdDateTime"), created, sizeof created);
            table_add(&t, cli_str(v, "id"), cli_str(v, "name"), created);
        }
        table_print(&t);
        table_release(&t);
    }
    json_decref(ans);
    return CLI_OK;
}

static int run_create(struct cli *cli, const struct cli_args *a)
{
    json_t *body = json_pack("{s:s}", "name", a->pos[0]), *ans = NULL;
    int code = cli_call(cli, "POST", TENANTS_PATH, body, &ans);
    json_decref(body);
    if (code)
        return code;
    const json_t *key = json_object_get(ans, "adminKey");
    if (cli->json) {
        cli_print_json(ans);
    } else {
        printf("created tenant '%s' (%s)\n", cli_str(ans, "name"), cli_str(ans, "id"));
        printf("admin key: %s\n", cli_str(key, "key"));
    }
    fprintf(stderr, "riskgate: warning: store the tenant's admin key now; it is shown only once and cannot be "
                    "recovered\n");
    json_decref(ans);
    return CLI_OK;
}

static const struct cli_cmd cmds[] = {
    {"list", "", "List the tenants.", NULL, 0, 0, NULL, run_list},
    {"create", "NAME", "Create a tenant and print its first admin key (once).",
     "NAME: 1 to 63 characters of a-z, 0-9, '-', '_' and '.'.\n"
     "Example:\n  riskgate tenants create contoso", 1, 1, NULL, run_create},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const struct cli_group cli_group_tenants = {"tenants", "tenants of the server (operator key only): list, create",
                                            cmds};
