/* cmd_keys.c: `riskgate keys` (the API keys of the caller's tenant) and `riskgate whoami`. */
#include <stdio.h>

#include "cli/cli.h"

#define KEYS_PATH "/riskgate/v1/keys"

static int run_whoami(struct cli *cli, const struct cli_args *a)
{
    json_t *ans = NULL;
    int code = cli_call(cli, "GET", "/riskgate/v1/whoami", NULL, &ans);
    if (code)
        return code;
    if (cli->json) {
        cli_print_json(ans);
    } else {
        printf("tenant  %s (%s)\n", cli_str(ans, "tenant"), cli_str(ans, "tenantId"));
        printf("role    %s\n", cli_str(ans, "role"));
        printf("key     %s\n", cli_str(ans, "keyId"));
        printf("server  %s\n", cli->url);
    }
    json_decref(ans);
    return CLI_OK;
}

static int run_list(struct cli *cli, const struct cli_args *a)
{
    json_t *ans = NULL;
    int code = cli_list(cli, KEYS_PATH, &ans);
    if (code)
        return code;
    if (cli->json) {
        cli_print_json(ans);
    } else {
        static const char *const cols[] = {"ID", "NAME", "ROLE", "CREATED"};
        struct table t;
        table_init(&t, cols, 4);
        size_t i;
        json_t *k;
        json_array_foreach(json_object_get(ans, "value"), i, k) {
            char created[32];
            cli_short_time(cli_str(k, "createdDateTime"), created, sizeof created);
            table_add(&t, cli_str(k, "id"), cli_str(k, "name"), cli_str(k, "role"), created);
        }
        table_print(&t);
        table_release(&t);
    }
    json_decref(ans);
    return CLI_OK;
}

static int run_create(struct cli *cli, const struct cli_args *a)
{
    const char *name = cli_opt(a, "name"), *role = cli_opt(a, "role");
    if (!name || !role)
        return cli_usage(cli, "keys create: --name and --role are required");
    json_t *body = json_pack("{s:s,s:s}", "name", name, "role", role), *ans = NULL;
    int code = cli_call(cli, "POST", KEYS_PATH, body, &ans);
    json_decref(body);
    if (code)
        return code;
    if (cli->json) {
        cli_print_json(ans);
    } else {
        printf("created key '%s' (%s), role %s\n", cli_str(ans, "name"), cli_str(ans, "id"), cli_str(ans, "role"));
        printf("key: %s\n", cli_str(ans, "key"));
    }
    fprintf(stderr, "riskgate: warning: store this key now; it is shown only once and cannot be recovered\n");
    json_decref(ans);
    return CLI_OK;
}

static int run_delete(struct cli *cli, const struct cli_args *a)
{
    const char *id = a->pos[0];
    char path[1024];
    int code = cli_check_id(cli, "key id", id);
    if (!code && snprintf(path, sizeof path, KEYS_PATH "/%s", id) >= (int)sizeof path)
        code = cli_usage(cli, "key id too long");
    if (!code)
        code = cli_call(cli, "DELETE", path, NULL, NULL);
    if (!code && !cli->json)
        printf("deleted key %s\n", id);
    return code;
}

static const char *const roles[] = {"admin", "reader", NULL};

static const struct cli_opt create_opts[] = {
    {"name", CLI_VALUE, "NAME", "a name that says who or what uses the key", NULL},
    {"role", CLI_VALUE, "ROLE", "admin (read-write) or reader (read-only)", roles},
    CLI_OPT_END,
};

static const struct cli_cmd keys_cmds[] = {
    {"list", "", "List the API keys of your tenant (not the keys themselves).", NULL, 0, 0, NULL, run_list},
    {"create", "--name NAME --role admin|reader", "Create an API key; the key is printed once.",
     "Example:\n  riskgate keys create --name soc-dashboard --role reader", 0, 0, create_opts, run_create},
    {"delete", "ID", "Delete an API key (a tenant keeps at least one admin key).", NULL, 1, 1, NULL, run_delete},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const struct cli_group cli_group_keys = {"keys", "API keys of your tenant: list, create, delete", keys_cmds};

static const struct cli_cmd whoami_cmds[] = {
    {NULL, "", "Show the tenant and role of the API key in use.", NULL, 0, 0, NULL, run_whoami},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const struct cli_group cli_group_whoami = {"whoami", "the tenant and role of the API key in use", whoami_cmds};
