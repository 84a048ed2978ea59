/*
 * cmd_alert.c: `riskgate alert`, the alerts devices raised, in Defender's
 * Alert shape (/api/alerts): list (the server filters one `eq` clause; the
 * other options filter here), show with evidence and comments, resolve,
 * reopen. Resolving or reopening recomputes the device's level at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/threat_cmds.h"

#define ALERTS_PATH "/api/alerts"

static const char *const statuses[] = {"New", "InProgress", "Resolved", "Unknown", NULL};
static const char *const severities[] = {"UnSpecified", "Informational", "Low", "Medium", "High", NULL};
static const char *const classifications[] = {"TruePositive", "FalsePositive", "Informational",
                                              "Informational, expected activity", NULL};
static const char *const determinations[] = {
    "MultiStagedAttack", "MaliciousUserActivity", "CompromisedUser", "Malware", "Phishing", "UnwantedSoftware",
    "SecurityTesting", "LineOfBusinessApplication", "ConfirmedUserActivity", "Clean", "InsufficientData", "Other",
    "NotAvailable", NULL};

static int run_list(struct cli *cli, const struct cli_args *a)
{
    /* the server takes one clause: the most selective given */
    const char *const filters[][2] = {{"machineId", cli_opt(a, "device")},
                                      {"status", cli_opt(a, "status")},
                                      {"severity", cli_opt(a, "severity")}};
    size_t server = 3;
    for (size_t i = 0; i < 3 && server == 3; i++)
        if (filters[i][1])
            server = i;
    char q[1024], path[1200];
    if (server < 3 && cli_filter_eq(filters[server][0], filters[server][1], q, sizeof q))
        return cli_usage(cli, "alert list: --%s is too long", server ? filters[server][0] : "device");
    snprintf(path, sizeof path, "%s%s%s", ALERTS_PATH, server < 3 ? "?" : "", server < 3 ? q : "");
    json_t *ans = NULL;
    int code = cli_list(cli, path, &ans);
    if (code)
        return code;
    json_t *items = json_object_get(ans, "value");
    for (size_t i = json_array_size(items); i-- > 0;) {
        const json_t *al = json_array_get(items, i);
        for (size_t f = server + 1; f < 3; f++)
            if (filters[f][1] && strcmp(cli_str(al, filters[f][0]), filters[f][1])) {
                json_array_remove(items, i);
                break;
            }
    }
    if (cli->json) {
        cli_print_json(ans);
    } else {
        static const char *const cols[] = {"ID", "SEVERITY", "STATUS", "TITLE", "DEVICE", "USER", "CREATED"};
        struct table t;
        table_init(&t, cols, 7);
        size_t i;
        json_t *al;
        json_array_foreach(items, i, al) {
            char created[32];
            cli_short_time(cli_str(al, "alertCreationTime"), created, sizeof created);
            const json_t *ru = json_object_get(al, "relatedUser");
            char user[400] = "";
            if (*cli_str(ru, "userName"))
                snprintf(user, sizeof user, "%s@%s", cli_str(ru, "userName"), cli_str(ru, "domainName"));
            table_add(&t, cli_str(al, "id"), cli_str(al, "severity"), cli_str(al, "status"), cli_str(al, "title"),
                      *cli_str(al, "computerDnsName") ? cli_str(al, "computerDnsName") : cli_str(al, "machineId"),
                      user, created);
        }
        table_print(&t);
        table_release(&t);
    }
    json_decref(ans);
    return CLI_OK;
}

static int alert_path(struct cli *cli, const char *id, char *path, size_t n)
{
    int code = cli_check_id(cli, "alert", id);
    if (!code && (size_t)snprintf(path, n, "%s/%s", ALERTS_PATH, id) >= n)
        code = cli_usage(cli, "alert: the id is too long");
    return code;
}

static void print_evidence(const json_t *al)
{
    const json_t *ev = json_object_get(al, "evidence");
    printf("\nEvidence:\n");
    if (!json_array_size(ev))
        printf("(none)\n");
    size_t i;
    json_t *e;
    json_array_foreach(ev, i, e) {
        const char *k;
        json_t *v;
        size_t width = 0;
        json_object_foreach(e, k, v) {
            if (strlen(k) > width)
                width = strlen(k);
        }
        printf("%s[%zu]\n", i ? "\n" : "", i + 1);
        json_object_foreach(e, k, v) {
            char *text = cli_value_text(v);
            printf("  %-*s  %s\n", (int)width, k, text ? text : "?");
            free(text);
        }
    }
    const json_t *comments = json_object_get(al, "comments");
    if (!json_array_size(comments))
        return;
    printf("\nComments:\n");
    json_array_foreach(comments, i, e) {
        char when[32];
        cli_short_time(cli_str(e, "createdTime"), when, sizeof when);
        printf("%s  %s  %s\n", when, cli_str(e, "createdBy"), cli_str(e, "comment"));
    }
}

static int run_show(struct cli *cli, const struct cli_args *a)
{
    char path[600];
    json_t *ans = NULL;
    int code = alert_path(cli, a->pos[0], path, sizeof path);
    if (code || (code = cli_call(cli, "GET", path, NULL, &ans)))
        return code;
    if (cli->json) {
        cli_print_json(ans);
    } else {
        static const char *const skip[] = {"evidence", "comments", NULL};
        cli_print_object(ans, skip);
        print_evidence(ans);
    }
    json_decref(ans);
    return CLI_OK;
}

/* PATCH the alert with body (owned); prints "<verb> alert ID". */
static int patch_alert(struct cli *cli, const char *id, json_t *body, const char *verb)
{
    char path[600];
    json_t *ans = NULL;
    int code = alert_path(cli, id, path, sizeof path);
    if (!code)
        code = cli_call(cli, "PATCH", path, body, &ans);
    json_decref(body);
    if (code)
        return code;
    if (cli->json)
        cli_print_json(ans);
    else
        printf("%s alert %s (%s): status %s\n", verb, id, cli_str(ans, "title"), cli_str(ans, "status"));
    json_decref(ans);
    return CLI_OK;
}

/* --comment TEXT into body; a usage error when it is not UTF-8. */
static int add_comment(struct cli *cli, const struct cli_args *a, json_t *body)
{
    const char *c = cli_opt(a, "comment");
    if (c && json_object_set_new(body, "comment", json_string(c))) {
        json_decref(body);
        return cli_usage(cli, "--comment: UTF-8 text is expected");
    }
    return CLI_OK;
}

static int run_resolve(struct cli *cli, const struct cli_args *a)
{
    json_t *body = json_pack("{s:s}", "status", "Resolved");
    const char *cls = cli_opt(a, "classification"), *det = cli_opt(a, "determination");
    if (cls)
        json_object_set_new(body, "classification",
                            json_string(!strcmp(cls, "Informational") ? "Informational, expected activity" : cls));
    if (det)
        json_object_set_new(body, "determination", json_string(det));
    int code = add_comment(cli, a, body);
    return code ? code : patch_alert(cli, a->pos[0], body, "resolved");
}

static int run_reopen(struct cli *cli, const struct cli_args *a)
{
    json_t *body = json_pack("{s:s}", "status", "New");
    int code = add_comment(cli, a, body);
    return code ? code : patch_alert(cli, a->pos[0], body, "reopened");
}

static const struct cli_opt list_opts[] = {
    {"status", CLI_VALUE, "STATUS", "only alerts with this status", statuses},
    {"severity", CLI_VALUE, "SEVERITY", "only alerts of this severity", severities},
    {"device", CLI_VALUE, "ID", "only alerts of this device (machineId)", NULL},
    CLI_OPT_END,
};

static const struct cli_opt resolve_opts[] = {
    {"classification", CLI_VALUE, "CLASS", "Defender's classification (Informational stands for the long name)",
     classifications},
    {"determination", CLI_VALUE, "WHAT", "Defender's determination", determinations},
    {"comment", CLI_VALUE, "TEXT", "a comment added to the alert", NULL},
    CLI_OPT_END,
};

static const struct cli_opt reopen_opts[] = {
    {"comment", CLI_VALUE, "TEXT", "a comment added to the alert", NULL},
    CLI_OPT_END,
};

static const struct cli_cmd cmds[] = {
    {"list", "[--status STATUS] [--severity SEVERITY] [--device ID]", "List the alerts.",
     "Prints ID, SEVERITY, STATUS, TITLE, DEVICE, USER and CREATED.", 0, 0, list_opts, run_list},
    {"show", "ID", "Show one alert with its evidence and comments.", NULL, 1, 1, NULL, run_show},
    {"resolve", "ID [--classification CLASS] [--determination WHAT] [--comment TEXT]",
     "Resolve an alert (the device's level is recomputed at once).",
     "Example:\n  riskgate alert resolve 6f1c... --classification FalsePositive --determination Clean --comment 'test device'",
     1, 1, resolve_opts, run_resolve},
    {"reopen", "ID [--comment TEXT]", "Set a resolved alert back to New.", NULL, 1, 1, reopen_opts, run_reopen},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const struct cli_group cli_group_alert = {"alert", "alerts raised by devices: list, show, resolve, reopen", cmds};
