/*
 * cmd_device.c: `riskgate device`, the devices running the riskgate agent in
 * Defender's Machine shape (/api/machines): list, show (with the device's
 * alerts), tag, offboard, and enroll-code (a one-time activation code for a
 * user, POST /riskgate/v1/enrollmentCodes).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/threat_cmds.h"
#include "common/buf.h"

#define MACHINES_PATH "/api/machines"

/* machineTags as "a,b"; new string (never NULL unless out of memory). */
static char *tags_text(const json_t *m)
{
    struct buf b = BUF_INIT(0);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(m, "machineTags"), i, t)
        buf_printf(&b, "%s%s", i ? "," : "", json_string_value(t) ? json_string_value(t) : "");
    return buf_detach(&b);
}

static int run_list(struct cli *cli, const struct cli_args *a)
{
    json_t *ans = NULL;
    int code = cli_list(cli, MACHINES_PATH, &ans);
    if (code)
        return code;
    if (cli->json) {
        cli_print_json(ans);
    } else {
        static const char *const cols[] = {"ID", "NAME", "PLATFORM", "USER", "RISK", "LEVEL", "HEALTH", "LAST SEEN",
                                           "TAGS"};
        struct table t;
        table_init(&t, cols, 9);
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(ans, "value"), i, m) {
            char seen[32];
            char *tags = tags_text(m);
            cli_short_time(cli_str(m, "lastSeen"), seen, sizeof seen);
            table_add(&t, cli_str(m, "id"), cli_str(m, "computerDnsName"), cli_str(m, "osPlatform"),
                      cli_str(m, "userPrincipalName"), cli_str(m, "riskScore"), cli_str(m, "threatLevel"),
                      cli_str(m, "healthStatus"), seen, tags);
            free(tags);
        }
        table_print(&t);
        table_release(&t);
    }
    json_decref(ans);
    return CLI_OK;
}

/* "/api/machines/ID<suffix>" into path, the id checked. */
static int machine_path(struct cli *cli, const char *id, const char *suffix, char *path, size_t n)
{
    int code = cli_check_id(cli, "device", id);
    if (!code && (size_t)snprintf(path, n, "%s/%s%s", MACHINES_PATH, id, suffix) >= n)
        code = cli_usage(cli, "device: the id is too long");
    return code;
}

/* The alerts of one device, as a table under the device's properties. */
static int print_device_alerts(struct cli *cli, const char *id)
{
    char q[1024], path[1100];
    json_t *ans = NULL;
    if (cli_filter_eq("machineId", id, q, sizeof q) ||
        (size_t)snprintf(path, sizeof path, "/api/alerts?%s", q) >= sizeof path)
        return cli_usage(cli, "device: the id is too long");
    int code = cli_list(cli, path, &ans);
    if (code)
        return code;
    static const char *const cols[] = {"ALERT", "SEVERITY", "STATUS", "TITLE", "CREATED"};
    struct table t;
    table_init(&t, cols, 5);
    size_t i;
    json_t *al;
    json_array_foreach(json_object_get(ans, "value"), i, al) {
        char created[32];
        cli_short_time(cli_str(al, "alertCreationTime"), created, sizeof created);
        table_add(&t, cli_str(al, "id"), cli_str(al, "severity"), cli_str(al, "status"), cli_str(al, "title"),
                  created);
    }
    printf("\nAlerts:\n");
    table_print(&t);
    table_release(&t);
    json_decref(ans);
    return CLI_OK;
}

static int run_show(struct cli *cli, const struct cli_args *a)
{
    char path[600];
    json_t *ans = NULL;
    int code = machine_path(cli, a->pos[0], "", path, sizeof path);
    if (code || (code = cli_call(cli, "GET", path, NULL, &ans)))
        return code;
    if (cli->json) {
        cli_print_json(ans);
    } else {
        cli_print_object(ans, NULL);
        code = print_device_alerts(cli, a->pos[0]);
    }
    json_decref(ans);
    return code;
}

static int run_tag(struct cli *cli, const struct cli_args *a)
{
    const char *add = cli_opt(a, "add"), *rm = cli_opt(a, "remove");
    if (!add == !rm)
        return cli_usage(cli, "device tag: give one of --add TAG or --remove TAG");
    char path[600];
    json_t *ans = NULL;
    int code = machine_path(cli, a->pos[0], "/tags", path, sizeof path);
    if (code)
        return code;
    json_t *body = json_pack("{s:s,s:s}", "Value", add ? add : rm, "Action", add ? "Add" : "Remove");
    if (!body)
        return cli_usage(cli, "device tag: the tag must be UTF-8 text");
    code = cli_call(cli, "POST", path, body, &ans);
    json_decref(body);
    if (code)
        return code;
    if (cli->json) {
        cli_print_json(ans);
    } else {
        char *tags = tags_text(ans);
        printf("device %s tags: %s\n", a->pos[0], tags && *tags ? tags : "(none)");
        free(tags);
    }
    json_decref(ans);
    return CLI_OK;
}

static int run_offboard(struct cli *cli, const struct cli_args *a)
{
    char path[600];
    json_t *ans = NULL;
    int code = machine_path(cli, a->pos[0], "/offboard", path, sizeof path);
    if (code || (code = cli_call(cli, "POST", path, NULL, &ans)))
        return code;
    if (cli->json)
        cli_print_json(ans);
    else
        printf("offboarded device %s (%s): its credential is revoked\n", a->pos[0], cli_str(ans, "computerDnsName"));
    json_decref(ans);
    return CLI_OK;
}

static int run_enroll_code(struct cli *cli, const struct cli_args *a)
{
    json_t *body = json_pack("{s:s}", "userId", a->pos[0]), *ans = NULL;
    if (!body)
        return cli_usage(cli, "device enroll-code: the user must be UTF-8 text");
    const char *m = cli_opt(a, "minutes");
    if (m) {
        char *end;
        errno = 0;
        long v = strtol(m, &end, 10);
        if (!*m || *end || errno || v < 1 || v > 43200) {
            json_decref(body);
            return cli_usage(cli, "--minutes: an integer from 1 to 43200 (30 days) is expected");
        }
        json_object_set_new(body, "expiresInMinutes", json_integer(v));
    }
    int code = cli_call(cli, "POST", "/riskgate/v1/enrollmentCodes", body, &ans);
    json_decref(body);
    if (code)
        return code;
    if (cli->json) {
        cli_print_json(ans);
    } else {
        char until[32];
        cli_short_time(cli_str(ans, "expirationDateTime"), until, sizeof until);
        printf("enrollment code for %s, valid once until %s UTC:\n", cli_str(ans, "userPrincipalName"), until);
        printf("code: %s\n", cli_str(ans, "code"));
    }
    fprintf(stderr, "riskgate: warning: give this code to the user now; it is shown only once\n");
    json_decref(ans);
    return CLI_OK;
}

static const struct cli_opt tag_opts[] = {
    {"add", CLI_VALUE, "TAG", "add this tag", NULL},
    {"remove", CLI_VALUE, "TAG", "remove this tag", NULL},
    CLI_OPT_END,
};

static const struct cli_opt enroll_opts[] = {
    {"minutes", CLI_VALUE, "N", "how long the code is valid, 1 to 43200 (default 60)", NULL},
    CLI_OPT_END,
};

static const struct cli_cmd cmds[] = {
    {"list", "", "List the devices.",
     "Prints ID, NAME, PLATFORM, USER, RISK (Defender's riskScore), LEVEL (riskgate's threat level),\n"
     "HEALTH (Active: seen within 7 days), LAST SEEN and TAGS.",
     0, 0, NULL, run_list},
    {"show", "ID", "Show one device and its alerts.", NULL, 1, 1, NULL, run_show},
    {"tag", "ID --add TAG | --remove TAG", "Add or remove a device tag (indicator scopes use tags).", NULL, 1, 1,
     tag_opts, run_tag},
    {"offboard", "ID", "Offboard a device: its agent credential stops working.", NULL, 1, 1, NULL, run_offboard},
    {"enroll-code", "USER [--minutes N]", "Create a one-time code a user activates the agent with.",
     "USER is a user id or userPrincipalName. The code is printed once.\n\n"
     "Example:\n  riskgate device enroll-code ada@contoso.com --minutes 120",
     1, 1, enroll_opts, run_enroll_code},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const struct cli_group cli_group_device = {"device", "devices running the agent: list, show, tag, offboard, enroll-code",
                                           cmds};
