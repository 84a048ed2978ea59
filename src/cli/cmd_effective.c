/*
 * cmd_effective.c: `riskgate effective`, which policies apply to a user's app
 * and the merged (most restrictive) settings, each explained by the policy it
 * came from (GET /riskgate/v1/effectivePolicy).
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

static void print_policies(const json_t *arr)
{
    static const char *const cols[] = {"ID", "NAME"};
    struct table t;
    table_init(&t, cols, 2);
    size_t i;
    json_t *p;
    json_array_foreach(arr, i, p)
        table_add(&t, cli_str(p, "id"), cli_str(p, "displayName"));
    table_print(&t);
    table_release(&t);
}

static void print_configs(const json_t *arr)
{
    size_t i, j;
    json_t *c, *kv;
    if (!json_array_size(arr))
        printf("(none)\n");
    json_array_foreach(arr, i, c) {
        printf("%s [%s]\n", cli_str(c, "displayName"), cli_str(c, "id"));
        json_array_foreach(json_object_get(c, "customSettings"), j, kv)
            printf("  %s = %s\n", cli_str(kv, "name"), cli_str(kv, "value"));
    }
}

static void print_conflicts(const json_t *arr)
{
    size_t i, j;
    json_t *c, *v;
    json_array_foreach(arr, i, c) {
        printf("%s:", cli_str(c, "name"));
        json_array_foreach(json_object_get(c, "values"), j, v) {
            char *text = cli_value_text(json_object_get(v, "value"));
            printf("%s \"%s\" from %s [%s]", j ? ";" : "", text ? text : "?", cli_str(v, "policyName"),
                   cli_str(v, "policy"));
            free(text);
        }
        printf("\n");
    }
}

static int run(struct cli *cli, const struct cli_args *a)
{
    const char *app = cli_opt(a, "app"), *platform = cli_opt(a, "platform");
    const char *level = cli_opt(a, "level") ? cli_opt(a, "level") : "unmanaged";
    if (!app || !platform)
        return cli_usage(cli, "effective: --app and --platform are required");
    char user_q[1024], app_q[1024], path[2400];
    if (cli_escape(a->pos[0], user_q, sizeof user_q) || cli_escape(app, app_q, sizeof app_q))
        return cli_usage(cli, "effective: an argument is too long");
    snprintf(path, sizeof path, "/riskgate/v1/effectivePolicy?user=%s&app=%s&platform=%s&managementLevel=%s", user_q,
             app_q, platform, level);
    json_t *ans = NULL;
    int code = cli_call(cli, "GET", path, NULL, &ans);
    if (code)
        return code;
    if (cli->json) {
        cli_print_json(ans);
        json_decref(ans);
        return CLI_OK;
    }
    printf("Effective settings for %s, app %s (%s, %s):\n", a->pos[0], app, platform, level);
    const json_t *lines = json_object_get(ans, "explanation");
    size_t i;
    json_t *line;
    json_array_foreach(lines, i, line)
        printf("%s\n", json_string_value(line));
    if (!json_array_size(lines))
        printf("(no app protection policy applies: the app runs unprotected for this user)\n");
    printf("\nApp protection policies applied:\n");
    print_policies(json_object_get(ans, "protectionPolicies"));
    printf("\nApp configuration sets delivered:\n");
    print_configs(json_object_get(ans, "appConfigurations"));
    const json_t *conflicts = json_object_get(ans, "appConfigurationConflicts");
    if (json_array_size(conflicts)) {
        printf("\nConflicts (a key set to different values by several sets):\n");
        print_conflicts(conflicts);
    }
    json_decref(ans);
    return CLI_OK;
}

static const char *const platforms[] = {"android", "ios", NULL};
static const char *const levels[] = {"unmanaged",
                                     "mdm",
                                     "androidEnterprise",
                                     "androidEnterpriseDedicatedDevicesWithAzureAdSharedMode",
                                     "androidOpenSourceProjectUserAssociated",
                                     "androidOpenSourceProjectUserless",
                                     NULL};

static const struct cli_opt opts[] = {
    {"app", CLI_VALUE, "PKG", "the app's package id (Android) or bundle id (iOS)", NULL},
    {"platform", CLI_VALUE, "PLATFORM", "the device's platform", platforms},
    {"level", CLI_VALUE, "LEVEL", "the device's management level (default unmanaged)", levels},
    CLI_OPT_END,
};

static const struct cli_cmd cmds[] = {
    {NULL, "USER --app PKG --platform android|ios [--level unmanaged|mdm]",
     "Explain the app protection a user's app gets: each merged setting and the policy it came from.",
     "USER is a user id or userPrincipalName. Each line reads\n"
     "  setting = value (from policy NAME [ID]; policy OTHER wanted VALUE)\n"
     "then the policies that apply, the app configuration sets delivered and their conflicts.\n"
     "Example:\n  riskgate effective ada@contoso.com --app com.microsoft.office.outlook --platform android",
     1, 1, opts, run},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const struct cli_group cli_group_effective = {"effective", "explain the effective policy of a user's app", cmds};
