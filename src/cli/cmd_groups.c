/*
 * cmd_groups.c: `riskgate groups`, the directory's groups (Graph's /groups)
 * and their members. A group is named by id or exact displayName; a member by
 * user id or userPrincipalName.
 */
#include <stdio.h>

#include "cli/cli.h"

#define ID_LEN 256

static int run_list(struct cli *cli, const struct cli_args *a)
{
    char path[64];
    json_t *ans = NULL;
    int code = cli_graph_path(cli, path, sizeof path, "groups");
    if (code || (code = cli_list(cli, path, &ans)))
        return code;
    if (cli->json) {
        cli_print_json(ans);
    } else {
        static const char *const cols[] = {"ID", "NAME", "DESCRIPTION"};
        struct table t;
        table_init(&t, cols, 3);
        size_t i;
        json_t *g;
        json_array_foreach(json_object_get(ans, "value"), i, g)
            table_add(&t, cli_str(g, "id"), cli_str(g, "displayName"), cli_str(g, "description"));
        table_print(&t);
        table_release(&t);
    }
    json_decref(ans);
    return CLI_OK;
}

/* "groups/<id>" + suffix for a group named by id or name. */
static int group_path(struct cli *cli, const char *group, const char *suffix, char *path, size_t n)
{
    char id[ID_LEN];
    int code = cli_resolve_group(cli, group, id, sizeof id);
    if (!code)
        code = cli_check_id(cli, "group", id);
    return code ? code : cli_graph_path(cli, path, n, "groups/%s%s", id, suffix);
}

static int run_get(struct cli *cli, const struct cli_args *a)
{
    char path[1024];
    json_t *ans = NULL;
    int code = group_path(cli, a->pos[0], "", path, sizeof path);
    if (code || (code = cli_call(cli, "GET", path, NULL, &ans)))
        return code;
    if (cli->json)
        cli_print_json(ans);
    else
        cli_print_object(ans, NULL);
    json_decref(ans);
    return CLI_OK;
}

static int run_create(struct cli *cli, const struct cli_args *a)
{
    const char *name = cli_opt(a, "name");
    if (!name)
        return cli_usage(cli, "groups create: --name is required");
    char path[64];
    json_t *body = json_pack("{s:s}", "displayName", name), *ans = NULL;
    if (cli_opt(a, "description"))
        json_object_set_new(body, "description", json_string(cli_opt(a, "description")));
    int code = cli_graph_path(cli, path, sizeof path, "groups");
    if (!code)
        code = cli_call(cli, "POST", path, body, &ans);
    json_decref(body);
    if (code)
        return code;
    if (cli->json)
        cli_print_json(ans);
    else
        printf("created group '%s' (%s)\n", cli_str(ans, "displayName"), cli_str(ans, "id"));
    json_decref(ans);
    return CLI_OK;
}

static int run_delete(struct cli *cli, const struct cli_args *a)
{
    char path[1024];
    int code = group_path(cli, a->pos[0], "", path, sizeof path);
    if (!code)
        code = cli_call(cli, "DELETE", path, NULL, NULL);
    if (!code && !cli->json)
        printf("deleted group %s\n", a->pos[0]);
    return code;
}

static int run_members(struct cli *cli, const struct cli_args *a)
{
    char path[1024];
    json_t *ans = NULL;
    int code = group_path(cli, a->pos[0], "/members", path, sizeof path);
    if (code || (code = cli_list(cli, path, &ans)))
        return code;
    if (cli->json) {
        cli_print_json(ans);
    } else {
        static const char *const cols[] = {"ID", "UPN", "NAME"};
        struct table t;
        table_init(&t, cols, 3);
        size_t i;
        json_t *u;
        json_array_foreach(json_object_get(ans, "value"), i, u)
            table_add(&t, cli_str(u, "id"), cli_str(u, "userPrincipalName"), cli_str(u, "displayName"));
        table_print(&t);
        table_release(&t);
    }
    json_decref(ans);
    return CLI_OK;
}

static int run_add_member(struct cli *cli, const struct cli_args *a)
{
    char path[1024], uid[ID_LEN];
    int code = cli_resolve_user(cli, a->pos[1], uid, sizeof uid);
    if (!code)
        code = group_path(cli, a->pos[0], "/members/$ref", path, sizeof path);
    if (code)
        return code;
    /* Graph's reference body: the member's URL ends with its id */
    struct buf ref = BUF_INIT(4096);
    buf_printf(&ref, "%s/%s/directoryObjects/%s", cli->client.base, cli->api, uid);
    json_t *body = json_pack("{s:s}", "@odata.id", buf_str(&ref));
    buf_release(&ref);
    code = cli_call(cli, "POST", path, body, NULL);
    json_decref(body);
    if (!code && !cli->json)
        printf("added %s to group %s\n", a->pos[1], a->pos[0]);
    return code;
}

static int run_remove_member(struct cli *cli, const struct cli_args *a)
{
    char path[1024], uid[ID_LEN], suffix[ID_LEN + 32];
    int code = cli_resolve_user(cli, a->pos[1], uid, sizeof uid);
    if (code)
        return code;
    snprintf(suffix, sizeof suffix, "/members/%s/$ref", uid);
    if ((code = group_path(cli, a->pos[0], suffix, path, sizeof path)) || (code = cli_call(cli, "DELETE", path, NULL, NULL)))
        return code;
    if (!cli->json)
        printf("removed %s from group %s\n", a->pos[1], a->pos[0]);
    return CLI_OK;
}

static const struct cli_opt create_opts[] = {
    {"name", CLI_VALUE, "NAME", "display name (assign and the other commands accept it in place of the id)", NULL},
    {"description", CLI_VALUE, "TEXT", "description", NULL},
    CLI_OPT_END,
};

static const struct cli_cmd cmds[] = {
    {"list", "", "List the groups.", NULL, 0, 0, NULL, run_list},
    {"get", "GROUP", "Show one group (by id or name).", NULL, 1, 1, NULL, run_get},
    {"create", "--name NAME [--description TEXT]", "Create a group.",
     "Example:\n  riskgate groups create --name Sales --description 'Sales staff'", 0, 0, create_opts, run_create},
    {"delete", "GROUP", "Delete a group (policies keep their now empty assignments).", NULL, 1, 1, NULL, run_delete},
    {"members", "GROUP", "List a group's members.", NULL, 1, 1, NULL, run_members},
    {"add-member", "GROUP USER", "Add a user (id or UPN) to a group.",
     "Example:\n  riskgate groups add-member Sales ada@contoso.com", 2, 2, NULL, run_add_member},
    {"remove-member", "GROUP USER", "Remove a user (id or UPN) from a group.", NULL, 2, 2, NULL, run_remove_member},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const struct cli_group cli_group_groups = {
    "groups", "groups of the directory and their members: list, get, create, delete, members, add-member, ...", cmds};
