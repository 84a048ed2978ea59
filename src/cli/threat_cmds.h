/*
 * threat_cmds.h: what the threat-defense command groups share:
 * `riskgate indicator` (cmd_indicator.c, with its import in ind_import.c),
 * `riskgate device`, `riskgate alert` and `riskgate partner-key`.
 */
#ifndef RG_CLI_THREAT_CMDS_H
#define RG_CLI_THREAT_CMDS_H
#include "cli/cli.h"

#define IND_PATH "/api/indicators"
#define IND_IMPORT_PATH "/api/indicators/import"

/* Defender's names, NULL-terminated: indicatorType, action, severity. */
extern const char *const ind_types[], *const ind_actions[], *const ind_severities[];

/* indicator import FILE|- [--action A] [--title T] [--type T] [--generate-alert] */
int ind_import(struct cli *cli, const struct cli_args *a);
extern const struct cli_opt ind_import_opts[];
#define IND_IMPORT_HELP                                                                                                \
    "FILE is Defender's indicator CSV template (a header row naming the columns indicatorType,\n"                    \
    "indicatorValue, action, title, description, expirationTime, severity, recommendedActions,\n"                    \
    "rbacGroups, category, mitretechniques, GenerateAlert, in any order and any case), or a plain\n"                 \
    "list of domains and URLs, one per line ('#' comments and blank lines skipped; a value with\n"                   \
    "\"://\" is a Url, else a DomainName). - reads stdin. The file is streamed and sent in batches\n"                \
    "of 10000 indicators. In a CSV, --action, --title and --type fill empty cells; in a list they\n"                 \
    "apply to every line (defaults: Block, \"Imported from FILE\", guessed).\n"                                       \
    "Prints \"N imported, M failed\"; each failure goes to stderr as \"line L: VALUE: reason\",\n"                  \
    "and the exit code is 1 when any failed.\n\n"                                                                      \
    "Examples:\n"                                                                                                      \
    "  riskgate indicator import indicators.csv\n"                                                                     \
    "  riskgate indicator import blocklist.txt --action Warn --title 'Phishing feed'"
#endif
