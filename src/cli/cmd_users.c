/* cmd_users.c: `riskgate users`, the directory's users (Graph's /users). A user is named by id or userPrincipalName. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"

#define PASSWORD_MAX 4096 /* bytes read; the server takes 8 to 256 characters */

static int run_list(struct cli *cli, const struct cli_args *a)
{
    char path[64];
    json_t *ans = NULL;
    int code = cli_graph_path(cli, path, sizeof path, "users");
    if (code || (code = cli_list(cli, path, &ans)))
        return code;
    if (cli->json) {
        cli_print_json(ans);
    } else {
        static const char *const cols[] = {"ID", "UPN", "NAME", "ENABLED"};
        struct table t;
        table_init(&t, cols, 4);
        size_t i;
        json_t *u;
        json_array_foreach(json_object_get(ans, "value"), i, u) {
            const json_t *en = json_object_get(u, "accountEnabled");
            table_add(&t, cli_str(u, "id"), cli_str(u, "userPrincipalName"), cli_str(u, "displayName"),
                      json_is_false(en) ? "no" : "yes");
        }
        table_print(&t);
        table_release(&t);
    }
    json_decref(ans);
    return CLI_OK;
}

static int user_path(struct cli *cli, const char *user, char *path, size_t n)
{
    int code = cli_check_id(cli, "user", user);
    return code ? code : cli_graph_path(cli, path, n, "users/%s", user);
}

static int run_get(struct cli *cli, const struct cli_args *a)
{
    char path[1024];
    json_t *ans = NULL;
    int code = user_path(cli, a->pos[0], path, sizeof path);
    if (code || (code = cli_call(cli, "GET", path, NULL, &ans)))
        return code;
    if (cli->json)
        cli_print_json(ans);
    else
        cli_print_object(ans, NULL);
    json_decref(ans);
    return CLI_OK;
}

static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

/*
 * --password-stdin: the first line of stdin (without its line break) into
 * body's passwordProfile.password. On a terminal it prompts on stderr with
 * echo off. The password is never printed.
 */
static int read_password(struct cli *cli, json_t *body)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &old);
    if (tty) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        fputs("password: ", stderr);
        fflush(stderr);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *line = NULL;
    size_t cap = 0;
    errno = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    int code = CLI_OK;
    if (n < 0) {
        code = cli_fail(CLI_EFAIL, "--password-stdin: %s", errno ? strerror(errno) : "stdin is empty");
    } else {
        size_t len = (size_t)n;
        if (len && line[len - 1] == '\n')
            len--;
        if (len && line[len - 1] == '\r')
            len--;
        json_t *pw = len && len <= PASSWORD_MAX ? json_stringn(line, len) : NULL;
        if (!pw)
            code = cli_fail(CLI_EFAIL, "--password-stdin: the first line of stdin must be a password of UTF-8 text");
        else
            json_object_set_new(body, "passwordProfile", json_pack("{s:o}", "password", pw));
    }
    if (line) {
        wipe(line, cap);
        free(line);
    }
    return code;
}

/* Overwrites the password in body (before it is freed). */
static void wipe_password(json_t *body)
{
    const char *pw = json_string_value(json_object_get(json_object_get(body, "passwordProfile"), "password"));
    if (pw)
        wipe((char *)pw, strlen(pw));
}

/* The properties of create/update from the options into body. */
static int user_body(struct cli *cli, const struct cli_args *a, json_t *body)
{
    if (cli_flag(a, "enabled") && cli_flag(a, "disabled"))
        return cli_usage(cli, "--enabled and --disabled exclude each other");
    if (cli_flag(a, "password-stdin")) {
        int code = read_password(cli, body);
        if (code)
            return code;
    }
    if (cli_opt(a, "upn"))
        json_object_set_new(body, "userPrincipalName", json_string(cli_opt(a, "upn")));
    if (cli_opt(a, "name"))
        json_object_set_new(body, "displayName", json_string(cli_opt(a, "name")));
    if (cli_opt(a, "mail"))
        json_object_set_new(body, "mail", json_string(cli_opt(a, "mail")));
    if (cli_flag(a, "enabled") || cli_flag(a, "disabled"))
        json_object_set_new(body, "accountEnabled", json_boolean(cli_flag(a, "enabled")));
    return CLI_OK;
}

static int run_create(struct cli *cli, const struct cli_args *a)
{
    if (!cli_opt(a, "upn") || !cli_opt(a, "name"))
        return cli_usage(cli, "users create: --upn and --name are required");
    char path[64];
    json_t *body = json_object(), *ans = NULL;
    int code = user_body(cli, a, body);
    if (!code)
        code = cli_graph_path(cli, path, sizeof path, "users");
    if (!code)
        code = cli_call(cli, "POST", path, body, &ans);
    wipe_password(body);
    json_decref(body);
    if (code)
        return code;
    if (cli->json)
        cli_print_json(ans);
    else
        printf("created user %s (%s)\n", cli_str(ans, "userPrincipalName"), cli_str(ans, "id"));
    json_decref(ans);
    return CLI_OK;
}

static int run_update(struct cli *cli, const struct cli_args *a)
{
    char path[1024];
    json_t *body = json_object();
    int code = user_body(cli, a, body);
    if (!code && !json_object_size(body))
        code = cli_usage(cli, "users update: nothing to change (give --name, --upn, --mail, --enabled, --disabled or "
                              "--password-stdin)");
    if (!code)
        code = user_path(cli, a->pos[0], path, sizeof path);
    if (!code)
        code = cli_call(cli, "PATCH", path, body, NULL);
    wipe_password(body);
    json_decref(body);
    if (!code && !cli->json)
        printf("updated user %s\n", a->pos[0]);
    return code;
}

static int run_delete(struct cli *cli, const struct cli_args *a)
{
    char path[1024];
    int code = user_path(cli, a->pos[0], path, sizeof path);
    if (!code)
        code = cli_call(cli, "DELETE", path, NULL, NULL);
    if (!code && !cli->json)
        printf("deleted user %s\n", a->pos[0]);
    return code;
}

static const struct cli_opt create_opts[] = {
    {"upn", CLI_VALUE, "UPN", "userPrincipalName, e.g. ada@contoso.com (unique in the tenant)", NULL},
    {"name", CLI_VALUE, "NAME", "display name", NULL},
    {"mail", CLI_VALUE, "ADDRESS", "mail address", NULL},
    {"disabled", CLI_FLAG, NULL, "create the account disabled", NULL},
    {"password-stdin", CLI_FLAG, NULL, "read a password (for the agent's sign-in) from the first line of stdin", NULL},
    CLI_OPT_END,
};

static const struct cli_opt update_opts[] = {
    {"upn", CLI_VALUE, "UPN", "new userPrincipalName", NULL},
    {"name", CLI_VALUE, "NAME", "new display name", NULL},
    {"mail", CLI_VALUE, "ADDRESS", "new mail address", NULL},
    {"enabled", CLI_FLAG, NULL, "enable the account", NULL},
    {"disabled", CLI_FLAG, NULL, "disable the account", NULL},
    {"password-stdin", CLI_FLAG, NULL, "set a new password, read from the first line of stdin", NULL},
    CLI_OPT_END,
};

static const struct cli_cmd cmds[] = {
    {"list", "", "List the users.", NULL, 0, 0, NULL, run_list},
    {"get", "ID|UPN", "Show one user.", NULL, 1, 1, NULL, run_get},
    {"create", "--upn UPN --name NAME [--disabled] [--password-stdin]", "Create a user.",
     "--password-stdin reads the password the user signs in to the agent with from stdin (8 to 256\n"
     "characters; stored hashed, never shown).\n\n"
     "Example:\n  riskgate users create --upn ada@contoso.com --name 'Ada Lovelace'\n"
     "  printf '%s\\n' \"$PW\" | riskgate users create --upn bob@contoso.com --name Bob --password-stdin",
     0, 0, create_opts, run_create},
    {"update", "ID|UPN [--name NAME] [--enabled|--disabled] [--password-stdin]", "Change a user's properties.", NULL, 1, 1, update_opts,
     run_update},
    {"delete", "ID|UPN", "Delete a user (and its group memberships).", NULL, 1, 1, NULL, run_delete},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const struct cli_group cli_group_users = {"users", "users of the directory: list, get, create, update, delete", cmds};
