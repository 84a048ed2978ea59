/*
 * cmd_connectors.c: `riskgate connectors`, the mobile threat defense
 * connectors (Graph's deviceManagement/mobileThreatDefenseConnectors), one
 * per partner, named by the partner's id. "builtin" names riskgate's own
 * partner (it carries Defender for Endpoint's id).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"

#define BUILTIN_ID "fc780465-2017-40d4-a0c5-307022471b92"
#define COLL "deviceManagement/mobileThreatDefenseConnectors"

static const char *partner_id(const char *arg)
{
    return !strcmp(arg, "builtin") ? BUILTIN_ID : arg;
}

static const char *yes_no(const json_t *v)
{
    return json_is_true(v) ? "on" : "off";
}

static int run_list(struct cli *cli, const struct cli_args *a)
{
    char path[128];
    json_t *ans = NULL;
    int code = cli_graph_path(cli, path, sizeof path, COLL);
    if (code || (code = cli_list(cli, path, &ans)))
        return code;
    if (cli->json) {
        cli_print_json(ans);
    } else {
        static const char *const cols[] = {"ID", "STATE", "ANDROID MAM", "IOS MAM", "THRESHOLD", "LAST HEARTBEAT"};
        struct table t;
        table_init(&t, cols, 6);
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(ans, "value"), i, c) {
            char id[128], hb[32], days[32];
            const char *cid = cli_str(c, "id");
            snprintf(id, sizeof id, "%s%s", cid, !strcasecmp(cid, BUILTIN_ID) ? " (builtin)" : "");
            cli_short_time(cli_str(c, "lastHeartbeatDateTime"), hb, sizeof hb);
            snprintf(days, sizeof days, "%lld days",
                     (long long)json_integer_value(json_object_get(c, "partnerUnresponsivenessThresholdInDays")));
            table_add(&t, id, cli_str(c, "partnerState"),
                      yes_no(json_object_get(c, "androidMobileApplicationManagementEnabled")),
                      yes_no(json_object_get(c, "iosMobileApplicationManagementEnabled")), days, *hb ? hb : "never");
        }
        table_print(&t);
        table_release(&t);
    }
    json_decref(ans);
    return CLI_OK;
}

static int item_path(struct cli *cli, const char *arg, char *path, size_t n)
{
    const char *id = partner_id(arg);
    int code = cli_check_id(cli, "connector id", id);
    return code ? code : cli_graph_path(cli, path, n, COLL "/%s", id);
}

static int run_get(struct cli *cli, const struct cli_args *a)
{
    char path[1024];
    json_t *ans = NULL;
    int code = item_path(cli, a->pos[0], path, sizeof path);
    if (code || (code = cli_call(cli, "GET", path, NULL, &ans)))
        return code;
    if (cli->json)
        cli_print_json(ans);
    else
        cli_print_object(ans, NULL);
    json_decref(ans);
    return CLI_OK;
}

/* The body of create/update from the flags. */
static int connector_body(struct cli *cli, const struct cli_args *a, json_t *body)
{
    if (cli_opt(a, "android-mam"))
        json_object_set_new(body, "androidMobileApplicationManagementEnabled",
                            json_boolean(!strcmp(cli_opt(a, "android-mam"), "on")));
    if (cli_opt(a, "ios-mam"))
        json_object_set_new(body, "iosMobileApplicationManagementEnabled",
                            json_boolean(!strcmp(cli_opt(a, "ios-mam"), "on")));
    const char *days = cli_opt(a, "threshold-days");
    if (days) {
        char *end = NULL;
        errno = 0;
        long n = strtol(days, &end, 10);
        if (!*days || *end || errno || n < 0 || n > 100000)
            return cli_usage(cli, "--threshold-days: '%s' is not a number of days", days);
        json_object_set_new(body, "partnerUnresponsivenessThresholdInDays", json_integer(n));
    }
    const char *const *sets;
    size_t n = cli_opt_list(a, "set", &sets);
    for (size_t i = 0; i < n; i++) {
        int code = cli_set_prop(cli, body, sets[i], true);
        if (code)
            return code;
    }
    return CLI_OK;
}

static void print_result(struct cli *cli, const char *verb, const json_t *ans)
{
    if (cli->json) {
        cli_print_json(ans);
        return;
    }
    printf("%s connector %s: state %s, Android MAM %s, iOS MAM %s\n", verb, cli_str(ans, "id"),
           cli_str(ans, "partnerState"), yes_no(json_object_get(ans, "androidMobileApplicationManagementEnabled")),
           yes_no(json_object_get(ans, "iosMobileApplicationManagementEnabled")));
}

static int run_create(struct cli *cli, const struct cli_args *a)
{
    char path[128];
    json_t *body = json_pack("{s:s}", "id", partner_id(a->pos[0])), *ans = NULL;
    int code = connector_body(cli, a, body);
    if (!code)
        code = cli_graph_path(cli, path, sizeof path, COLL);
    if (!code)
        code = cli_call(cli, "POST", path, body, &ans);
    if (!code)
        print_result(cli, "created", ans);
    json_decref(body);
    json_decref(ans);
    return code;
}

static int run_update(struct cli *cli, const struct cli_args *a)
{
    char path[1024];
    json_t *body = json_object(), *ans = NULL;
    int code = connector_body(cli, a, body);
    if (!code && !json_object_size(body))
        code = cli_usage(cli, "connectors update: nothing to change");
    if (!code)
        code = item_path(cli, a->pos[0], path, sizeof path);
    if (!code)
        code = cli_call(cli, "PATCH", path, body, &ans);
    if (!code)
        print_result(cli, "updated", ans);
    json_decref(body);
    json_decref(ans);
    return code;
}

static int run_delete(struct cli *cli, const struct cli_args *a)
{
    char path[1024];
    int code = item_path(cli, a->pos[0], path, sizeof path);
    if (!code)
        code = cli_call(cli, "DELETE", path, NULL, NULL);
    if (!code && !cli->json)
        printf("deleted connector %s\n", partner_id(a->pos[0]));
    return code;
}

static const char *const on_off[] = {"on", "off", NULL};

static const struct cli_opt create_opts[] = {
    {"android-mam", CLI_VALUE, "on|off", "use the partner's risk signal in Android app protection", on_off},
    {"ios-mam", CLI_VALUE, "on|off", "use the partner's risk signal in iOS app protection", on_off},
    {"set", CLI_LIST, "NAME=VALUE", "any other connector property (VALUE as JSON if it parses)", NULL},
    CLI_OPT_END,
};

static const struct cli_opt update_opts[] = {
    {"android-mam", CLI_VALUE, "on|off", "use the partner's risk signal in Android app protection", on_off},
    {"ios-mam", CLI_VALUE, "on|off", "use the partner's risk signal in iOS app protection", on_off},
    {"threshold-days", CLI_VALUE, "N", "days without a heartbeat before the partner counts as unresponsive", NULL},
    {"set", CLI_LIST, "NAME=VALUE", "any other connector property (VALUE as JSON if it parses)", NULL},
    CLI_OPT_END,
};

static const struct cli_cmd cmds[] = {
    {"list", "", "List the connectors and their state.", NULL, 0, 0, NULL, run_list},
    {"get", "ID|builtin", "Show one connector.", NULL, 1, 1, NULL, run_get},
    {"create", "ID|builtin [--android-mam on|off] [--ios-mam on|off]", "Create the connector of a partner.",
     "ID is the partner's well-known id; builtin is riskgate's own (" BUILTIN_ID ").\n"
     "Per platform, at most the built-in partner and one other may be on for app protection.", 1, 1, create_opts,
     run_create},
    {"update", "ID|builtin [--android-mam on|off] [--ios-mam on|off] [--threshold-days N]", "Change a connector.",
     "Example:\n  riskgate connectors update builtin --android-mam on --ios-mam on --threshold-days 3", 1, 1,
     update_opts, run_update},
    {"delete", "ID", "Delete a partner's connector (not the built-in one).", NULL, 1, 1, NULL, run_delete},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const struct cli_group cli_group_connectors = {
    "connectors", "mobile threat defense connectors: list, get, create, update, delete", cmds};
