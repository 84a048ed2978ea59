/*
 * cmd_appconfigs.c: `riskgate appconfigs`, app configuration policies
 * (Graph's targetedManagedAppConfigurations): sets of key=value settings
 * delivered to managed apps, never merged. Assign and target-apps have the
 * shapes of the policies commands (policy_nav.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli/policy_cmds.h"

static int run_list(struct cli *cli, const struct cli_args *a)
{
    return pol_list(cli, SEG_CONFIG, cli_opt(a, "filter"));
}

static int run_get(struct cli *cli, const struct cli_args *a)
{
    return pol_get(cli, SEG_CONFIG, a->pos[0]);
}

static int run_delete(struct cli *cli, const struct cli_args *a)
{
    return pol_delete(cli, SEG_CONFIG, a->pos[0]);
}

static int run_assign(struct cli *cli, const struct cli_args *a)
{
    return pol_assign(cli, SEG_CONFIG, a);
}

static int run_assignments(struct cli *cli, const struct cli_args *a)
{
    return pol_assignments(cli, SEG_CONFIG, a->pos[0]);
}

static int run_target_apps(struct cli *cli, const struct cli_args *a)
{
    return pol_target_apps(cli, SEG_CONFIG, a);
}

static int run_apps(struct cli *cli, const struct cli_args *a)
{
    return pol_apps(cli, SEG_CONFIG, a->pos[0]);
}

/* Sets key to value in a customSettings array (keyValuePair list), replacing an existing key. */
static void kv_set(json_t *settings, const char *key, const char *value)
{
    size_t i;
    json_t *kv;
    json_array_foreach(settings, i, kv) {
        if (!strcmp(cli_str(kv, "name"), key)) {
            json_object_set_new(kv, "value", json_string(value));
            return;
        }
    }
    json_array_append_new(settings, json_pack("{s:s,s:s}", "name", key, "value", value));
}

static bool kv_unset(json_t *settings, const char *key)
{
    size_t i;
    json_t *kv;
    json_array_foreach(settings, i, kv) {
        if (!strcmp(cli_str(kv, "name"), key)) {
            json_array_remove(settings, i);
            return true;
        }
    }
    return false;
}

/* Applies every --set KEY=VALUE (values are strings) to settings. */
static int apply_sets(struct cli *cli, const struct cli_args *a, json_t *settings)
{
    const char *const *sets;
    size_t n = cli_opt_list(a, "set", &sets);
    for (size_t i = 0; i < n; i++) {
        json_t *one = json_object();
        int code = cli_set_prop(cli, one, sets[i], false);
        const char *k;
        json_t *v;
        json_object_foreach(one, k, v)
            kv_set(settings, k, json_string_value(v));
        json_decref(one);
        if (code)
            return code;
    }
    return CLI_OK;
}

static int run_create(struct cli *cli, const struct cli_args *a)
{
    const char *name = cli_opt(a, "name"), *platform = cli_opt(a, "platform");
    const char *const *pkgs;
    size_t npkgs = cli_opt_list(a, "app", &pkgs);
    if (!name)
        return cli_usage(cli, "appconfigs create: --name is required");
    if (npkgs && !platform)
        return cli_usage(cli, "appconfigs create: --app needs --platform android|ios");
    json_t *settings = json_array(), *ans = NULL;
    json_t *body = json_pack("{s:s,s:o}", "displayName", name, "customSettings", settings);
    if (cli_opt(a, "description"))
        json_object_set_new(body, "description", json_string(cli_opt(a, "description")));
    if (cli_opt(a, "group-type"))
        json_object_set_new(body, "appGroupType", json_string(cli_opt(a, "group-type")));
    if (npkgs) {
        bool ios = !strcmp(platform, "ios");
        json_t *apps = json_array();
        for (size_t i = 0; i < npkgs; i++)
            json_array_append_new(apps, json_pack("{s:{s:s,s:s}}", "mobileAppIdentifier", "@odata.type",
                                                  ios ? "#microsoft.graph.iosMobileAppIdentifier"
                                                      : "#microsoft.graph.androidMobileAppIdentifier",
                                                  ios ? "bundleId" : "packageId", pkgs[i]));
        json_object_set_new(body, "apps", apps);
    }
    char path[256];
    int code = apply_sets(cli, a, settings);
    if (!code)
        code = cli_graph_path(cli, path, sizeof path, "deviceAppManagement/%s", SEG_CONFIG);
    if (!code)
        code = cli_call(cli, "POST", path, body, &ans);
    if (!code) {
        if (cli->json)
            cli_print_json(ans);
        else
            printf("created %s as %s\n", cli_str(ans, "displayName"), cli_str(ans, "id"));
    }
    json_decref(body);
    json_decref(ans);
    return code;
}

static int run_update(struct cli *cli, const struct cli_args *a)
{
    const char *id = a->pos[0], *file = cli_opt(a, "file");
    const char *const *sets, *const *unsets;
    size_t nsets = cli_opt_list(a, "set", &sets), nunsets = cli_opt_list(a, "unset", &unsets);
    json_t *body = NULL, *current = NULL;
    int code = file ? cli_read_json_file(file, &body) : CLI_OK;
    if (code)
        return code;
    if (!body)
        body = json_object();
    json_object_del(body, "assignments");
    json_object_del(body, "apps");
    if (cli_opt(a, "name"))
        json_object_set_new(body, "displayName", json_string(cli_opt(a, "name")));
    if (cli_opt(a, "description"))
        json_object_set_new(body, "description", json_string(cli_opt(a, "description")));
    if (nsets || nunsets) {
        /* customSettings is replaced whole: start from the current list */
        code = pol_fetch(cli, SEG_CONFIG, id, false, &current);
        json_t *settings = json_deep_copy(json_object_get(current, "customSettings"));
        if (!json_is_array(settings)) {
            json_decref(settings);
            settings = json_array();
        }
        for (size_t i = 0; !code && i < nunsets; i++)
            if (!kv_unset(settings, unsets[i]))
                fprintf(stderr, "riskgate: note: %s has no setting '%s'\n", id, unsets[i]);
        if (!code)
            code = apply_sets(cli, a, settings);
        json_object_set_new(body, "customSettings", settings);
    }
    if (!code && !json_object_size(body))
        code = cli_usage(cli, "appconfigs update: nothing to change");
    if (!code)
        code = pol_patch(cli, SEG_CONFIG, id, body);
    json_decref(body);
    json_decref(current);
    return code;
}

static const char *const platforms[] = {"android", "ios", NULL};
static const char *const group_types[] = {"selectedPublicApps", "allApps", "allMicrosoftApps", "allCoreMicrosoftApps",
                                          NULL};

static const struct cli_opt list_opts[] = {
    {"filter", CLI_VALUE, "NAME", "only the sets with exactly this displayName", NULL},
    CLI_OPT_END,
};

static const struct cli_opt create_opts[] = {
    {"name", CLI_VALUE, "NAME", "display name", NULL},
    {"description", CLI_VALUE, "TEXT", "description", NULL},
    {"set", CLI_LIST, "KEY=VALUE", "one setting delivered to the apps (the value is a string)", NULL},
    {"app", CLI_LIST, "PKG", "a targeted app's package id (Android) or bundle id (iOS)", NULL},
    {"platform", CLI_VALUE, "PLATFORM", "the platform of the --app ids", platforms},
    {"group-type", CLI_VALUE, "TYPE", "which apps it covers besides the listed ones", group_types},
    CLI_OPT_END,
};

static const struct cli_opt update_opts[] = {
    {"name", CLI_VALUE, "NAME", "new display name", NULL},
    {"description", CLI_VALUE, "TEXT", "new description", NULL},
    {"set", CLI_LIST, "KEY=VALUE", "add or change one setting", NULL},
    {"unset", CLI_LIST, "KEY", "remove one setting", NULL},
    {"file", CLI_VALUE, "FILE", "properties to change as Graph JSON (a PATCH body); - reads stdin", NULL},
    CLI_OPT_END,
};

static const struct cli_cmd cmds[] = {
    {"list", "[--filter NAME]", "List app configuration sets.", NULL, 0, 0, list_opts, run_list},
    {"get", "ID", "Show one set: settings, assignments, apps.", NULL, 1, 1, NULL, run_get},
    {"create", "--name NAME --set KEY=VALUE ... [--app PKG ... --platform android|ios]",
     "Create an app configuration set.",
     "Example:\n  riskgate appconfigs create --name 'Outlook config' --set com.microsoft.outlook.Mail.FocusedInbox=false \\\n"
     "      --app com.microsoft.office.outlook --platform android",
     0, 0, create_opts, run_create},
    {"update", "ID [--name NAME] [--set KEY=VALUE ...] [--unset KEY ...] [--file FILE]",
     "Change a set: its name, or some of its settings (the others are kept).", NULL, 1, 1, update_opts, run_update},
    {"delete", "ID", "Delete a set.", NULL, 1, 1, NULL, run_delete},
    {"assign", "ID [--include GROUP ...] [--exclude GROUP ...] [--all-users | --clear]",
     "Set the groups a set applies to (replaces its assignments).", NULL, 1, 1, pol_assign_opts, run_assign},
    {"assignments", "ID", "List a set's assignments.", NULL, 1, 1, NULL, run_assignments},
    {"target-apps", "ID --app PKG ... --platform android|ios [--group-type TYPE]",
     "Set the apps a set targets (replaces the list).", NULL, 1, 1, pol_target_apps_opts, run_target_apps},
    {"apps", "ID", "List the apps a set targets.", NULL, 1, 1, NULL, run_apps},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const struct cli_group cli_group_appconfigs = {
    "appconfigs", "app configuration sets (key=value settings for apps): list, get, create, update, assign, ...", cmds};
