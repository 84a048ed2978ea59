/* cmd_audit.c: `riskgate audit`, the audit trail of admin writes (deviceManagement/auditEvents). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct cli_opt list_opts[] = {
    {"resource", CLI_VALUE, "ID", "only changes of this resource (a policy, connector, group, user, key id)", NULL},
    CLI_OPT_END,
};

static int run_list(struct cli *cli, const struct cli_args *a)
{
    char base[128], q[1024] = "", path[1400];
    const char *res = cli_opt(a, "resource");
    int code = cli_graph_path(cli, base, sizeof base, "deviceManagement/auditEvents");
    if (code)
        return code;
    if (res && (code = cli_check_id(cli, "--resource", res)))
        return code;
    if (res) {
        char esc[512];
        if (cli_escape(res, esc, sizeof esc))
            return cli_usage(cli, "audit list: --resource is too long");
        /* resources/any(r: r/resourceId eq '<id>'), percent-encoded */
        snprintf(q, sizeof q, "&$filter=resources/any(r:%%20r/resourceId%%20eq%%20%%27%s%%27)", esc);
    }
    snprintf(path, sizeof path, "%s?$orderby=activityDateTime%%20desc%s", base, q);
    json_t *ans = NULL;
    if ((code = cli_list(cli, path, &ans)))
        return code;
    if (cli->json) {
        cli_print_json(ans);
    } else {
        static const char *const cols[] = {"WHEN", "WHO", "ACTIVITY", "RESOURCE", "CHANGED"};
        struct table t;
        table_init(&t, cols, 5);
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(ans, "value"), i, e) {
            const json_t *r = json_array_get(json_object_get(e, "resources"), 0);
            char changed[512] = "";
            size_t k, n = 0;
            json_t *m;
            json_array_foreach(json_object_get(r, "modifiedProperties"), k, m) {
                int w = snprintf(changed + n, sizeof changed - n, "%s%s", n ? "," : "", cli_str(m, "displayName"));
                if (w < 0 || (size_t)w >= sizeof changed - n)
                    break;
                n += (size_t)w;
            }
            char when[32];
            cli_short_time(cli_str(e, "activityDateTime"), when, sizeof when);
            table_add(&t, when, cli_str(json_object_get(e, "actor"), "applicationDisplayName"), cli_str(e, "activity"),
                      cli_str(r, "resourceId"), changed);
        }
        table_print(&t);
        table_release(&t);
    }
    json_decref(ans);
    return CLI_OK;
}

static const struct cli_cmd cmds[] = {
    {"list", "[--resource ID]", "The admin writes, newest first: when, which key, what, which properties changed.",
     "Example: who turned the connector off?\n  riskgate audit list --resource fc780465-2017-40d4-a0c5-307022471b92\n"
     "With --json, each event's before and after values (resources[].modifiedProperties).",
     0, 0, list_opts, run_list},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const struct cli_group cli_group_audit = {"audit", "the audit trail of admin writes: list", cmds};
