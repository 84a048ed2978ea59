/*
 * cmd_ask.c: `riskgate-agent hello`, `prove NONCE` and `rescan`: one
 * request line to the running daemon's local socket, its JSON answer printed.
 * "hello" is what a managed app learns. Without a running daemon they say so
 * and exit 1.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "agent/cmd.h"

/* with_arg: the request takes one argument, appended after a space */
static int ask_line(struct cmd_env *env, int argc, char **argv, const char *request, bool with_arg, const char *usage)
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
            printf("usage: riskgate-agent %s\n", usage);
            return 0;
        } else
            return cmd_usage(usage);
    }
    if (optind + (with_arg ? 1 : 0) != argc)
        return cmd_usage(usage);
    char line[512];
    if (with_arg && (strchr(argv[optind], '\n') ||
                     snprintf(line, sizeof line, "%s %s", request, argv[optind]) >= (int)sizeof line))
        return cmd_usage(usage);
    struct rg_agent *ag = cmd_open(env);
    if (!ag)
        return EXIT_FAIL;
    char *text = NULL;
    int rc = rg_agent_ask(ag, with_arg ? line : request, &text);
    if (rc) {
        rc = cmd_fail(ag, rc);
        rg_agent_free(ag);
        return rc;
    }
    printf("%s\n", text);
    rg_agent_string_free(text);
    rg_agent_free(ag);
    return 0;
}

int cmd_hello(struct cmd_env *env, int argc, char **argv)
{
    return ask_line(env, argc, argv, "hello", false, "hello [--state-dir DIR]");
}

int cmd_rescan(struct cmd_env *env, int argc, char **argv)
{
    return ask_line(env, argc, argv, "rescan", false, "rescan [--state-dir DIR]");
}

int cmd_prove(struct cmd_env *env, int argc, char **argv)
{
    return ask_line(env, argc, argv, "prove", true, "prove NONCE [--state-dir DIR]");
}
