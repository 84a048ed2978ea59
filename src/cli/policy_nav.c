/*
 * policy_nav.c: the commands policies and appconfigs share (policy_cmds.h):
 * list, get, delete, update, and the navigation of a policy: assign /
 * assignments (groups it includes or excludes) and target-apps / apps (the
 * apps it targets).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/policy_cmds.h"

#define ID_LEN 256
#define INCLUDE_TARGET "#microsoft.graph.groupAssignmentTarget"
#define EXCLUDE_TARGET "#microsoft.graph.exclusionGroupAssignmentTarget"
#define ALL_USERS_TARGET "#microsoft.graph.allLicensedUsersAssignmentTarget"
#define ANDROID_APP "#microsoft.graph.androidMobileAppIdentifier"
#define IOS_APP "#microsoft.graph.iosMobileAppIdentifier"

const char *pol_kind(const char *t)
{
    if (!t)
        return NULL;
    if (!strcmp(t, TYPE_ANDROID))
        return "android";
    if (!strcmp(t, TYPE_IOS))
        return "ios";
    if (!strcmp(t, TYPE_CONFIG))
        return "config";
    return NULL;
}

const char *pol_segment(const char *kind)
{
    if (!kind || !strcmp(kind, "all"))
        return SEG_ALL;
    if (!strcmp(kind, "android"))
        return SEG_ANDROID;
    if (!strcmp(kind, "ios"))
        return SEG_IOS;
    if (!strcmp(kind, "config"))
        return SEG_CONFIG;
    return NULL;
}

static int item_path(struct cli *cli, const char *segment, const char *id, const char *suffix, char *path, size_t n)
{
    int code = cli_check_id(cli, "policy id", id);
    return code ? code : cli_graph_path(cli, path, n, "deviceAppManagement/%s/%s%s", segment, id, suffix);
}

int pol_fetch(struct cli *cli, const char *segment, const char *id, bool expand, json_t **out)
{
    char path[1024];
    int code = item_path(cli, segment, id, expand ? "?$expand=assignments,apps" : "", path, sizeof path);
    return code ? code : cli_call(cli, "GET", path, NULL, out);
}

/* What the APPS column shows: the group type, or how many apps are selected. */
static void apps_text(const json_t *p, char *out, size_t n)
{
    const char *gt = cli_str(p, "appGroupType");
    if (!*gt || !strcmp(gt, "selectedPublicApps"))
        snprintf(out, n, "%lld selected", (long long)json_integer_value(json_object_get(p, "deployedAppCount")));
    else
        snprintf(out, n, "%s", gt);
}

int pol_list(struct cli *cli, const char *segment, const char *filter_name)
{
    char path[1400], q[1024] = "";
    if (filter_name && cli_filter_eq("displayName", filter_name, q, sizeof q))
        return cli_usage(cli, "--filter: the name is too long");
    json_t *ans = NULL;
    int code = cli_graph_path(cli, path, sizeof path, "deviceAppManagement/%s%s%s", segment, *q ? "?" : "", q);
    if (code || (code = cli_list(cli, path, &ans)))
        return code;
    if (cli->json) {
        cli_print_json(ans);
    } else {
        static const char *const cols[] = {"ID", "NAME", "TYPE", "ASSIGNED", "APPS", "MODIFIED"};
        struct table t;
        table_init(&t, cols, 6);
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(ans, "value"), i, p) {
            char modified[32], apps[64];
            const char *kind = pol_kind(cli_str(p, "@odata.type"));
            cli_short_time(cli_str(p, "lastModifiedDateTime"), modified, sizeof modified);
            apps_text(p, apps, sizeof apps);
            table_add(&t, cli_str(p, "id"), cli_str(p, "displayName"), kind ? kind : cli_str(p, "@odata.type"),
                      json_is_true(json_object_get(p, "isAssigned")) ? "yes" : "no", apps, modified);
        }
        table_print(&t);
        table_release(&t);
    }
    json_decref(ans);
    return CLI_OK;
}

/* Group display names by id, for readable assignments; an empty object if they cannot be read. */
static json_t *group_names(struct cli *cli)
{
    char path[64];
    json_t *names = json_object();
    struct client_response r = CLIENT_RESPONSE_INIT;
    json_t *items = NULL;
    if (!cli_graph_path(cli, path, sizeof path, "groups") && !client_get_all(&cli->client, path, &items, &r) && items) {
        size_t i;
        json_t *g;
        json_array_foreach(items, i, g)
            json_object_set(names, cli_str(g, "id"), json_object_get(g, "displayName"));
    }
    json_decref(items);
    client_response_release(&r);
    return names;
}

static void print_assignments(struct cli *cli, const json_t *arr)
{
    static const char *const cols[] = {"KIND", "GROUP", "GROUP ID"};
    json_t *names = json_array_size(arr) ? group_names(cli) : NULL;
    struct table t;
    table_init(&t, cols, 3);
    size_t i;
    json_t *a;
    json_array_foreach(arr, i, a) {
        const json_t *target = json_object_get(a, "target");
        const char *type = cli_str(target, "@odata.type"), *gid = cli_str(target, "groupId");
        const char *kind = !strcmp(type, INCLUDE_TARGET)     ? "include"
                           : !strcmp(type, EXCLUDE_TARGET)   ? "exclude"
                           : !strcmp(type, ALL_USERS_TARGET) ? "include"
                                                             : type;
        const char *name = !strcmp(type, ALL_USERS_TARGET) ? "(all users)" : cli_str(names, gid);
        if (!*name && *gid)
            name = "(no such group)";
        table_add(&t, kind, name, gid);
    }
    table_print(&t);
    table_release(&t);
    json_decref(names);
}

static void print_apps(const json_t *arr)
{
    static const char *const cols[] = {"APP", "PLATFORM", "ID"};
    struct table t;
    table_init(&t, cols, 3);
    size_t i;
    json_t *app;
    json_array_foreach(arr, i, app) {
        const json_t *mai = json_object_get(app, "mobileAppIdentifier");
        bool ios = !strcmp(cli_str(mai, "@odata.type"), IOS_APP);
        table_add(&t, cli_str(mai, ios ? "bundleId" : "packageId"), ios ? "ios" : "android", cli_str(app, "id"));
    }
    table_print(&t);
    table_release(&t);
}

int pol_get(struct cli *cli, const char *segment, const char *id)
{
    json_t *p = NULL;
    int code = pol_fetch(cli, segment, id, true, &p);
    if (code)
        return code;
    if (cli->json) {
        cli_print_json(p);
    } else {
        static const char *const skip[] = {"assignments", "apps", NULL};
        cli_print_object(p, skip);
        printf("\nassignments:\n");
        print_assignments(cli, json_object_get(p, "assignments"));
        printf("\napps (appGroupType %s):\n", cli_str(p, "appGroupType"));
        print_apps(json_object_get(p, "apps"));
    }
    json_decref(p);
    return CLI_OK;
}

int pol_delete(struct cli *cli, const char *segment, const char *id)
{
    char path[1024];
    int code = item_path(cli, segment, id, "", path, sizeof path);
    if (!code)
        code = cli_call(cli, "DELETE", path, NULL, NULL);
    if (!code && !cli->json)
        printf("deleted %s\n", id);
    return code;
}

int pol_patch(struct cli *cli, const char *segment, const char *id, const json_t *body)
{
    char path[1024];
    int code = item_path(cli, segment, id, "", path, sizeof path);
    if (!code)
        code = cli_call(cli, "PATCH", path, body, NULL);
    if (!code && !cli->json)
        printf("updated %s\n", id);
    return code;
}

/* Appends one assignment per group in the list option name. */
static int add_targets(struct cli *cli, const struct cli_args *a, const char *name, const char *type, json_t *arr)
{
    const char *const *groups;
    size_t n = cli_opt_list(a, name, &groups);
    for (size_t i = 0; i < n; i++) {
        char gid[ID_LEN];
        int code = cli_resolve_group(cli, groups[i], gid, sizeof gid);
        if (code)
            return code;
        json_array_append_new(arr, json_pack("{s:{s:s,s:s}}", "target", "@odata.type", type, "groupId", gid));
    }
    return CLI_OK;
}

int pol_assign(struct cli *cli, const char *segment, const struct cli_args *a)
{
    const char *const *unused;
    bool any = cli_opt_list(a, "include", &unused) || cli_opt_list(a, "exclude", &unused) ||
               cli_flag(a, "all-users");
    if (!any && !cli_flag(a, "clear"))
        return cli_usage(cli, "assign: give --include, --exclude or --all-users (or --clear to remove every assignment)");
    if (any && cli_flag(a, "clear"))
        return cli_usage(cli, "assign: --clear cannot be combined with groups");
    json_t *arr = json_array();
    if (cli_flag(a, "all-users"))
        json_array_append_new(arr, json_pack("{s:{s:s}}", "target", "@odata.type", ALL_USERS_TARGET));
    int code = add_targets(cli, a, "include", INCLUDE_TARGET, arr);
    if (!code)
        code = add_targets(cli, a, "exclude", EXCLUDE_TARGET, arr);
    char path[1024];
    if (!code)
        code = item_path(cli, segment, a->pos[0], "/assign", path, sizeof path);
    json_t *body = json_pack("{s:o}", "assignments", arr);
    if (!code)
        code = cli_call(cli, "POST", path, body, NULL);
    if (!code && !cli->json)
        printf("assigned %s: %zu assignment%s\n", a->pos[0], json_array_size(arr),
               json_array_size(arr) == 1 ? "" : "s");
    json_decref(body);
    return code;
}

/* GET segment/id/<nav> as a whole collection: printed as JSON, or its items into *items for a table. */
static int list_nav(struct cli *cli, const char *segment, const char *id, const char *nav, json_t **items)
{
    char path[1024], suffix[32];
    json_t *ans = NULL;
    snprintf(suffix, sizeof suffix, "/%s", nav);
    int code = item_path(cli, segment, id, suffix, path, sizeof path);
    if (code || (code = cli_list(cli, path, &ans)))
        return code;
    if (cli->json) {
        cli_print_json(ans);
        *items = NULL;
    } else {
        *items = json_incref(json_object_get(ans, "value"));
    }
    json_decref(ans);
    return CLI_OK;
}

int pol_assignments(struct cli *cli, const char *segment, const char *id)
{
    json_t *items = NULL;
    int code = list_nav(cli, segment, id, "assignments", &items);
    if (!code && items)
        print_assignments(cli, items);
    json_decref(items);
    return code;
}

int pol_apps(struct cli *cli, const char *segment, const char *id)
{
    json_t *items = NULL;
    int code = list_nav(cli, segment, id, "apps", &items);
    if (!code && items)
        print_apps(items);
    json_decref(items);
    return code;
}

int pol_target_apps(struct cli *cli, const char *segment, const struct cli_args *a)
{
    const char *id = a->pos[0], *group_type = cli_opt(a, "group-type"), *platform = cli_opt(a, "platform");
    const char *const *pkgs;
    size_t npkgs = cli_opt_list(a, "app", &pkgs);
    if (!npkgs && !group_type)
        return cli_usage(cli, "target-apps: give --app (repeatable) and/or --group-type");
    json_t *p = NULL;
    int code = pol_fetch(cli, segment, id, true, &p);
    if (code)
        return code;
    const char *kind = pol_kind(cli_str(p, "@odata.type"));
    if (kind && strcmp(kind, "config")) {
        if (platform && strcmp(platform, kind))
            code = cli_usage(cli, "--platform %s: policy %s is an %s policy", platform, id, kind);
        platform = kind;
    } else if (npkgs && !platform) {
        code = cli_usage(cli, "target-apps: %s is an app configuration; say which platform the apps are for with "
                              "--platform android|ios", id);
    }
    json_t *apps = json_array();
    if (npkgs) {
        bool ios = platform && !strcmp(platform, "ios");
        for (size_t i = 0; i < npkgs; i++)
            json_array_append_new(apps, json_pack("{s:{s:s,s:s}}", "mobileAppIdentifier", "@odata.type",
                                                  ios ? IOS_APP : ANDROID_APP, ios ? "bundleId" : "packageId",
                                                  pkgs[i]));
    } else {
        /* only the group type changes: keep the apps targeted now */
        size_t i;
        json_t *app;
        json_array_foreach(json_object_get(p, "apps"), i, app)
            json_array_append_new(apps, json_pack("{s:O}", "mobileAppIdentifier",
                                                  json_object_get(app, "mobileAppIdentifier")));
    }
    json_t *body = json_pack("{s:o}", "apps", apps);
    if (group_type)
        json_object_set_new(body, "appGroupType", json_string(group_type));
    char path[1024];
    if (!code)
        code = item_path(cli, segment, id, "/targetApps", path, sizeof path);
    if (!code)
        code = cli_call(cli, "POST", path, body, NULL);
    if (!code && !cli->json)
        printf("%s now targets %zu app%s%s%s\n", id, json_array_size(apps), json_array_size(apps) == 1 ? "" : "s",
               group_type ? ", appGroupType " : "", group_type ? group_type : "");
    json_decref(body);
    json_decref(p);
    return code;
}

static const char *const platforms[] = {"android", "ios", NULL};
static const char *const group_types[] = {"selectedPublicApps", "allApps", "allMicrosoftApps", "allCoreMicrosoftApps",
                                          NULL};

const struct cli_opt pol_assign_opts[] = {
    {"include", CLI_LIST, "GROUP", "a group (id or name) the policy applies to", NULL},
    {"exclude", CLI_LIST, "GROUP", "a group (id or name) the policy never applies to (exclusion wins)", NULL},
    {"all-users", CLI_FLAG, NULL, "include every user", NULL},
    {"clear", CLI_FLAG, NULL, "remove every assignment", NULL},
    CLI_OPT_END,
};

const struct cli_opt pol_target_apps_opts[] = {
    {"app", CLI_LIST, "PKG", "an Android package id or iOS bundle id; the list replaces the targeted apps", NULL},
    {"group-type", CLI_VALUE, "TYPE", "which apps the policy covers besides the listed ones", group_types},
    {"platform", CLI_VALUE, "PLATFORM", "the apps' platform (app configurations only)", platforms},
    CLI_OPT_END,
};
