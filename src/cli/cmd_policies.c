/*
 * cmd_policies.c: `riskgate policies`, app protection policies (Android, iOS)
 * and, through the polymorphic managedAppPolicies collection, app
 * configurations too. The shared commands live in policy_nav.c and
 * policy_io.c (import/export).
 */
#include <stdio.h>
#include <string.h>

#include "cli/policy_cmds.h"

static int run_list(struct cli *cli, const struct cli_args *a)
{
    return pol_list(cli, pol_segment(cli_opt(a, "platform")), cli_opt(a, "filter"));
}

static int run_get(struct cli *cli, const struct cli_args *a)
{
    return pol_get(cli, SEG_ALL, a->pos[0]);
}

static int run_delete(struct cli *cli, const struct cli_args *a)
{
    return pol_delete(cli, SEG_ALL, a->pos[0]);
}

static int run_assign(struct cli *cli, const struct cli_args *a)
{
    return pol_assign(cli, SEG_ALL, a);
}

static int run_assignments(struct cli *cli, const struct cli_args *a)
{
    return pol_assignments(cli, SEG_ALL, a->pos[0]);
}

static int run_target_apps(struct cli *cli, const struct cli_args *a)
{
    return pol_target_apps(cli, SEG_ALL, a);
}

static int run_apps(struct cli *cli, const struct cli_args *a)
{
    return pol_apps(cli, SEG_ALL, a->pos[0]);
}

static int run_create(struct cli *cli, const struct cli_args *a)
{
    const char *file = cli_opt(a, "file"), *platform = cli_opt(a, "platform");
    if (!file)
        return cli_usage(cli, "policies create: --file FILE (or --file - for stdin) is required");
    json_t *body = NULL, *ans = NULL;
    int code = cli_read_json_file(file, &body);
    if (code)
        return code;
    const char *kind = pol_kind(json_string_value(json_object_get(body, "@odata.type")));
    if (platform && kind && strcmp(platform, kind))
        code = cli_usage(cli, "--platform %s: the file's @odata.type says %s", platform, kind);
    else if (!platform && !kind)
        code = cli_usage(cli, "policies create: the file has no @odata.type; say what it is with --platform");
    char path[256];
    if (!code)
        code = cli_graph_path(cli, path, sizeof path, "deviceAppManagement/%s", pol_segment(platform ? platform : kind));
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
    const char *file = cli_opt(a, "file");
    const char *const *sets;
    size_t nsets = cli_opt_list(a, "set", &sets);
    if (!file && !nsets)
        return cli_usage(cli, "policies update: give --file FILE and/or --set NAME=VALUE");
    json_t *body = NULL;
    int code = file ? cli_read_json_file(file, &body) : CLI_OK;
    if (code)
        return code;
    if (!body)
        body = json_object();
    if (json_object_get(body, "assignments") || json_object_get(body, "apps")) {
        fprintf(stderr, "riskgate: note: the file's assignments and apps are left out; change them with "
                        "`policies assign` and `policies target-apps`\n");
        json_object_del(body, "assignments");
        json_object_del(body, "apps");
    }
    for (size_t i = 0; i < nsets && !code; i++)
        code = cli_set_prop(cli, body, sets[i], true);
    if (!code)
        code = pol_patch(cli, SEG_ALL, a->pos[0], body);
    json_decref(body);
    return code;
}

static const char *const list_platforms[] = {"android", "ios", "config", "all", NULL};
static const char *const create_platforms[] = {"android", "ios", "config", NULL};

static const struct cli_opt list_opts[] = {
    {"platform", CLI_VALUE, "PLATFORM", "only this kind (config: app configurations; default all)", list_platforms},
    {"filter", CLI_VALUE, "NAME", "only the policies with exactly this displayName", NULL},
    CLI_OPT_END,
};

static const struct cli_opt create_opts[] = {
    {"platform", CLI_VALUE, "PLATFORM", "the policy's kind (default: the file's @odata.type)", create_platforms},
    {"file", CLI_VALUE, "FILE", "the policy as Graph JSON; - reads stdin", NULL},
    CLI_OPT_END,
};

static const struct cli_opt update_opts[] = {
    {"file", CLI_VALUE, "FILE", "properties to change, as Graph JSON (a PATCH body); - reads stdin", NULL},
    {"set", CLI_LIST, "NAME=VALUE", "one property; VALUE is read as JSON if it parses, else as a string", NULL},
    CLI_OPT_END,
};

static const struct cli_cmd cmds[] = {
    {"list", "[--platform android|ios|config|all] [--filter NAME]", "List policies.", NULL, 0, 0, list_opts, run_list},
    {"get", "ID", "Show a policy: its properties, assignments and apps.", NULL, 1, 1, NULL, run_get},
    {"create", "--platform android|ios --file FILE|-", "Create a policy from a JSON file (Graph's shape).",
     "The file may carry assignments and apps (deep insert). Example:\n"
     "  riskgate policies create --platform android --file level-1.json", 0, 0, create_opts, run_create},
    {"update", "ID (--file FILE | --set NAME=VALUE ...)", "Change a policy's properties (PATCH).",
     "Examples:\n  riskgate policies update T_1234 --set minimumPinLength=6 --set pinCharacterSet=alphanumericAndSymbol\n"
     "  riskgate policies update T_1234 --set 'allowedDataStorageLocations=[\"oneDriveForBusiness\"]'",
     1, 1, update_opts, run_update},
    {"delete", "ID", "Delete a policy.", NULL, 1, 1, NULL, run_delete},
    {"import", "PATH [--platform android|ios|config] [--skip-assignments]",
     "Create policies from a JSON file or from every *.json file of a folder.",
     "Each file's @odata.type (androidManagedAppProtection, iosManagedAppProtection,\n"
     "targetedManagedAppConfiguration) decides where it goes; files without one need --platform.\n"
     "Prints \"imported NAME as ID\" per file, or the server's reason; exits non-zero if any failed.\n"
     "Example:\n  riskgate policies import ./intune-app-protection/", 1, 1, pol_import_opts, pol_import},
    {"export", "ID|--all [--out DIR]",
     "Write policies as JSON files (with assignments and apps), one per policy, named by displayName.",
     "The files import back with `riskgate policies import`. --out - prints one policy to stdout.\n"
     "Example:\n  riskgate policies export --all --out backup/", 0, 1, pol_export_opts, pol_export},
    {"assign", "ID [--include GROUP ...] [--exclude GROUP ...] [--all-users | --clear]",
     "Set the groups a policy applies to (replaces its assignments).",
     "Example:\n  riskgate policies assign T_1234 --include Sales --include Support --exclude Executives", 1, 1,
     pol_assign_opts, run_assign},
    {"assignments", "ID", "List a policy's assignments.", NULL, 1, 1, NULL, run_assignments},
    {"target-apps", "ID [--app PKG ...] [--group-type TYPE] [--platform android|ios]",
     "Set the apps a policy targets (replaces the list).",
     "The app identifier type follows the policy's platform; app configurations need --platform.\n"
     "Example:\n  riskgate policies target-apps T_1234 --app com.microsoft.office.outlook --group-type selectedPublicApps",
     1, 1, pol_target_apps_opts, run_target_apps},
    {"apps", "ID", "List the apps a policy targets.", NULL, 1, 1, NULL, run_apps},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const struct cli_group cli_group_policies = {
    "policies", "app protection policies: list, get, create, update, delete, import, export, assign, target-apps", cmds};
