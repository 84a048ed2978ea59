/*
 * main.c: riskgate, the admin CLI of riskgated. The command table (one group
 * per file under src/cli/), the global options, and dispatch:
 *   riskgate [global options] GROUP [COMMAND] [arguments and options]
 * Global options may also follow the command. Exit codes: cli.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cli.h"

#define DEFAULT_URL "http://127.0.0.1:8443"

/* The command table: every group, in the order `riskgate --help` lists them. */
static const struct cli_group *const groups[] = {
    &cli_group_whoami,     &cli_group_tenants,    &cli_group_keys,      &cli_group_users,
    &cli_group_groups,     &cli_group_policies,   &cli_group_appconfigs, &cli_group_connectors,
    &cli_group_effective,  &cli_group_registrations, &cli_group_wipes,      &cli_group_indicator,  &cli_group_device,
    &cli_group_alert,      &cli_group_partner_key, &cli_group_audit,
};

static const char *const api_versions[] = {"beta", "v1.0", NULL};

static const struct cli_opt global_opts[] = {
    {"url", CLI_VALUE, "URL", "server base URL (env RISKGATE_URL; default " DEFAULT_URL ")", NULL},
    {"token", CLI_VALUE, "KEY", "API key (env RISKGATE_TOKEN)", NULL},
    {"token-file", CLI_VALUE, "PATH", "read the API key from the first line of a file", NULL},
    {"json", CLI_FLAG, NULL, "print the server's JSON answer instead of tables", NULL},
    {"api", CLI_VALUE, "VERSION", "Graph API version of the paths (default beta)", api_versions},
    {"help", CLI_FLAG, NULL, "show help (also -h; works after any command)", NULL},
    {"version", CLI_FLAG, NULL, "print the version and exit", NULL},
    CLI_OPT_END,
};

static void help_top(FILE *f)
{
    fprintf(f, "usage: riskgate [global options] COMMAND [SUBCOMMAND] [arguments] [options]\n\n"
               "The admin CLI of riskgated: app protection policies, app configurations, users and groups,\n"
               "threat-defense connectors, API keys and tenants, over the server's Graph-shaped admin API;\n"
               "threat indicators, devices and alerts over its Defender-shaped API (/api/...).\n\n"
               "Commands:\n");
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        fprintf(f, "  %-14s %s\n", groups[i]->name, groups[i]->summary);
    fprintf(f, "\nGlobal options (before or after the command):\n");
    for (const struct cli_opt *o = global_opts; o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->metavar ? " " : "",
                 o->choices ? "beta|v1.0" : o->metavar ? o->metavar : "");
        fprintf(f, "  %-20s %s\n", left, o->help);
    }
    fprintf(f, "\nExit codes:\n"
               "  0  ok\n"
               "  1  the server refused or failed (other 4xx/5xx), or a local error (file, JSON)\n"
               "  2  usage error (bad command, option or argument; the usage is printed)\n"
               "  3  cannot reach the server\n"
               "  4  authentication or permission refused (401/403)\n"
               "  5  not found (404)\n"
               "\nErrors go to stderr as \"riskgate: <message>\". The API key is never printed, except the new\n"
               "keys and codes that `keys create`, `tenants create`,\n"
               "`partner-key create` and `device enroll-code` show once.\n"
               "\nriskgate COMMAND --help lists a command's subcommands; riskgate COMMAND SUBCOMMAND --help its options.\n");
}

static const struct cli_group *find_group(const char *name)
{
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        if (!strcmp(groups[i]->name, name))
            return groups[i];
    return NULL;
}

static const struct cli_cmd *find_cmd(const struct cli_group *g, const char *name)
{
    for (const struct cli_cmd *c = g->cmds; c->run; c++)
        if (c->name && !strcmp(c->name, name))
            return c;
    return NULL;
}

/* The first line of a file, trimmed, into a new string; NULL with a message printed. */
static char *read_token_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_fail(CLI_EUSAGE, "--token-file %s: %s", path, strerror(errno));
        return NULL;
    }
    char line[4096];
    char *got = fgets(line, sizeof line, f);
    fclose(f);
    if (!got) {
        cli_fail(CLI_EUSAGE, "--token-file %s: the file is empty", path);
        return NULL;
    }
    char *s = line;
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    if (!n) {
        cli_fail(CLI_EUSAGE, "--token-file %s: the first line is empty", path);
        return NULL;
    }
    char *t = malloc(n + 1);
    if (t)
        memcpy(t, s, n + 1);
    memset(line, 0, sizeof line);
    return t;
}

static int run(int argc, char **argv)
{
    struct cli cli;
    memset(&cli, 0, sizeof cli);
    struct cli_args glob, args;
    cli_args_init(&glob, global_opts);
    cli_args_init(&args, NULL);
    char err[512];
    int idx = 1, code = CLI_OK;
    char *token_buf = NULL;

    if ((code = cli_args_parse(NULL, &glob, argc, argv, &idx, true, err, sizeof err))) {
        cli_fail(code, "%s", err);
        fprintf(stderr, "usage: riskgate [global options] COMMAND ...   (riskgate --help)\n");
        goto out;
    }
    if (cli_flag(&glob, "version")) {
        printf("riskgate %s\n", CLI_VERSION);
        goto out;
    }
    if (idx >= argc) {
        help_top(cli_flag(&glob, "help") ? stdout : stderr);
        code = cli_flag(&glob, "help") ? CLI_OK : CLI_EUSAGE;
        goto out;
    }
    const struct cli_group *g = find_group(argv[idx]);
    if (!g) {
        code = cli_fail(CLI_EUSAGE, "unknown command '%s'", argv[idx]);
        fprintf(stderr, "usage: riskgate [global options] COMMAND ...   (riskgate --help lists the commands)\n");
        goto out;
    }
    idx++;
    cli.group = g;
    const struct cli_cmd *c = g->cmds[0].name ? NULL : &g->cmds[0];
    if (!c) {
        if ((code = cli_args_parse(NULL, &glob, argc, argv, &idx, true, err, sizeof err))) {
            cli_fail(code, "%s", err);
            cli_print_usage(stderr, g, NULL);
            goto out;
        }
        if (idx >= argc) {
            bool help = cli_flag(&glob, "help");
            if (!help)
                cli_fail(CLI_EUSAGE, "%s: a command is needed", g->name);
            cli_help_group(help ? stdout : stderr, g);
            code = help ? CLI_OK : CLI_EUSAGE;
            goto out;
        }
        c = find_cmd(g, argv[idx]);
        if (!c) {
            code = cli_fail(CLI_EUSAGE, "%s: unknown command '%s'", g->name, argv[idx]);
            cli_help_group(stderr, g);
            goto out;
        }
        idx++;
    }
    cli.cmd = c;
    cli_args_init(&args, c->opts);
    if ((code = cli_args_parse(&args, &glob, argc, argv, &idx, false, err, sizeof err))) {
        if (cli_flag(&glob, "help")) {
            cli_help_command(stdout, g, c);
            code = CLI_OK;
        } else {
            cli_usage(&cli, "%s", err);
        }
        goto out;
    }
    if (cli_flag(&glob, "help")) {
        cli_help_command(stdout, g, c);
        goto out;
    }
    if (args.npos < c->min_pos || args.npos > c->max_pos) {
        if (args.npos < c->min_pos)
            code = cli_usage(&cli, "%s%s%s: missing argument", g->name, c->name ? " " : "", c->name ? c->name : "");
        else
            code = cli_usage(&cli, "%s%s%s: unexpected argument '%s'", g->name, c->name ? " " : "",
                             c->name ? c->name : "", args.pos[c->max_pos]);
        goto out;
    }

    cli.url = cli_opt(&glob, "url");
    if (!cli.url)
        cli.url = getenv("RISKGATE_URL");
    if (!cli.url || !*cli.url)
        cli.url = DEFAULT_URL;
    const char *token = cli_opt(&glob, "token");
    if (!token && cli_opt(&glob, "token-file")) {
        if (!(token = token_buf = read_token_file(cli_opt(&glob, "token-file")))) {
            code = CLI_EUSAGE;
            goto out;
        }
    }
    if (!token)
        token = getenv("RISKGATE_TOKEN");
    cli.api = cli_opt(&glob, "api") ? cli_opt(&glob, "api") : "beta";
    cli.json = cli_flag(&glob, "json");
    if (client_init(&cli.client, cli.url, token)) {
        code = cli_usage(&cli, "--url '%s': an http:// or https:// URL is needed", cli.url);
        goto out;
    }
    code = c->run(&cli, &args);
out:
    client_release(&cli.client);
    if (token_buf) {
        memset(token_buf, 0, strlen(token_buf));
        free(token_buf);
    }
    cli_args_release(&args);
    cli_args_release(&glob);
    return code;
}

int main(int argc, char **argv)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
        fprintf(stderr, "riskgate: libcurl could not start\n");
        return CLI_EFAIL;
    }
    int code = run(argc, argv);
    if (fflush(stdout) && !code)
        code = cli_fail(CLI_EFAIL, "writing the output failed: %s", strerror(errno));
    curl_global_cleanup();
    return code;
}
