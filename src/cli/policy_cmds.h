/*
 * policy_cmds.h: the commands `riskgate policies` and `riskgate appconfigs`
 * share (policy_nav.c, policy_io.c). segment is the Graph collection the
 * group works on: "managedAppPolicies" (every kind) for policies,
 * "targetedManagedAppConfigurations" for appconfigs. Each function prints
 * and returns an exit code (cli.h).
 */
#ifndef RG_CLI_POLICY_CMDS_H
#define RG_CLI_POLICY_CMDS_H
#include "cli/cli.h"

#define SEG_ALL "managedAppPolicies"
#define SEG_ANDROID "androidManagedAppProtections"
#define SEG_IOS "iosManagedAppProtections"
#define SEG_CONFIG "targetedManagedAppConfigurations"

#define TYPE_ANDROID "#microsoft.graph.androidManagedAppProtection"
#define TYPE_IOS "#microsoft.graph.iosManagedAppProtection"
#define TYPE_CONFIG "#microsoft.graph.targetedManagedAppConfiguration"

/* "android", "ios", "config" from a policy's @odata.type, or NULL. */
const char *pol_kind(const char *odata_type);
/* The collection segment for a kind name ("android", "ios", "config", "all"), or NULL. */
const char *pol_segment(const char *kind);

/* GET segment/id (with $expand=assignments,apps if expand) into *out. Prints the reason on failure. */
int pol_fetch(struct cli *cli, const char *segment, const char *id, bool expand, json_t **out);

/* list [--filter NAME]: a table of the collection (or its JSON). */
int pol_list(struct cli *cli, const char *segment, const char *filter_name);
/* get ID: every property, then assignments and apps. */
int pol_get(struct cli *cli, const char *segment, const char *id);
/* delete ID */
int pol_delete(struct cli *cli, const char *segment, const char *id);
/* PATCH segment/id with body; prints "updated ID". */
int pol_patch(struct cli *cli, const char *segment, const char *id, const json_t *body);
/* assign ID --include G... --exclude G... [--all-users] [--clear] */
int pol_assign(struct cli *cli, const char *segment, const struct cli_args *a);
/* assignments ID */
int pol_assignments(struct cli *cli, const char *segment, const char *id);
/* target-apps ID --app PKG... [--group-type T] [--platform android|ios] */
int pol_target_apps(struct cli *cli, const char *segment, const struct cli_args *a);
/* apps ID */
int pol_apps(struct cli *cli, const char *segment, const char *id);

/* The option tables of the shared commands. */
extern const struct cli_opt pol_assign_opts[], pol_target_apps_opts[];

/* policy_io.c: import PATH [--platform P] [--skip-assignments], export ID|--all [--out DIR]. */
int pol_import(struct cli *cli, const struct cli_args *a);
int pol_export(struct cli *cli, const struct cli_args *a);
extern const struct cli_opt pol_import_opts[], pol_export_opts[];
#endif
