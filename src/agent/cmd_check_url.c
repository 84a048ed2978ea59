/*
 * cmd_check_url.c: `riskgate-agent check-url URL`: asks the running daemon
 * over the local socket; without a daemon, syncs the indicators once itself.
 * Prints the action (Allowed, Audit, Warn, Block, or "no match") and exits 0
 * when the URL may be opened, 1 when it is blocked or warned.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "agent/cmd.h"

#define USAGE "check-url URL [--state-dir DIR]"

static void print_answer(const json_t *o)
{
    const char *act = json_string_value(json_object_get(o, "action"));
    const char *type = json_string_value(json_object_get(o, "indicatorType"));
    const char *val = json_string_value(json_object_get(o, "indicatorValue"));
    const char *title = json_string_value(json_object_get(o, "title"));
    const char *would = json_string_value(json_object_get(o, "wouldBe"));
    if (!act || !strcmp(act, "None"))
        printf("no match");
    else
        printf("%s", act);
    if (type && val)
        printf(": %s %s", type, val);
    if (title)
        printf(" (%s)", title);
    if (would)
        printf(" — web protection is off, it would be %s", would);
    printf("\n");
}

int cmd_check_url(struct cmd_env *env, int argc, char **argv)
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
    if (optind + 1 != argc || !argv[optind][0] || strchr(argv[optind], '\n'))
        return cmd_usage(USAGE);
    const char *url = argv[optind];
    struct rg_agent *ag = cmd_open(env);
    if (!ag)
        return EXIT_FAIL;
    char req[8192];
    snprintf(req, sizeof req, "check-url %s", url);
    char *text = NULL;
    int rc = rg_agent_ask(ag, req, &text);
    if (rc == RG_AGENT_ENODAEMON) {
        /* no daemon: one sync of our own (only the built-in test domain when not activated) */
        rc = rg_agent_sync(ag);
        if (rc == RG_AGENT_EUNREACHABLE || rc == RG_AGENT_EAUTH || rc == RG_AGENT_ENOMEM) {
            rc = cmd_fail(ag, rc);
            rg_agent_free(ag);
            return rc;
        }
        if (rc && rc != RG_AGENT_ENOTACTIVE) /* answer from what we have, and say so */
            fprintf(stderr, "riskgate-agent: warning: %s\n", rg_agent_errmsg(ag));
        int action;
        rc = rg_agent_check_url(ag, url, &action, &text);
    }
    if (rc) {
        rc = cmd_fail(ag, rc);
        rg_agent_free(ag);
        return rc;
    }
    json_t *o = json_loads(text, 0, NULL);
    rg_agent_string_free(text);
    rg_agent_free(ag);
    const char *err = json_string_value(json_object_get(o, "error"));
    if (!o || err) {
        fprintf(stderr, "riskgate-agent: %s\n", err ? err : "unreadable answer from the daemon");
        json_decref(o);
        return EXIT_USAGE;
    }
    print_answer(o);
    const char *act = json_string_value(json_object_get(o, "action"));
    int code = act && (!strcmp(act, "Block") || !strcmp(act, "Warn")) ? 1 : 0;
    json_decref(o);
    return code;
}
