/*
 * cli.h: the internals shared by the riskgate admin CLI: exit codes, the
 * command and option tables (options are declared as data and parsed by
 * args.c), the per-run context, and helpers every command group uses to call
 * the API (call.c) and print answers (output.c).
 *
 * CLI code may print and exit; client.c (the HTTP client) may not.
 * Every command is `int run(struct cli *, const struct cli_args *)` and
 * returns one of the exit codes below; main() exits with it.
 */
#ifndef RG_CLI_H
#define RG_CLI_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "cli/client.h"

#define CLI_VERSION RG_VERSION /* from CMake project(VERSION) */

/* Exit codes, documented in `riskgate --help` and docs/cli.md. */
enum cli_exit {
    CLI_OK = 0,        /* done */
    CLI_EFAIL = 1,     /* the server refused or failed (4xx/5xx other than below), or a local error */
    CLI_EUSAGE = 2,    /* bad command line; the command's usage is printed */
    CLI_ECONNECT = 3,  /* the server could not be reached */
    CLI_EAUTH = 4,     /* authentication or permission refused (401/403) */
    CLI_ENOTFOUND = 5, /* not found (404) */
};

enum cli_opt_kind {
    CLI_FLAG,  /* --name */
    CLI_VALUE, /* --name VALUE or --name=VALUE; the last one given wins */
    CLI_LIST,  /* --name VALUE, repeatable; every value kept in order */
};

/* One option of a command (or a global one). Tables end with CLI_OPT_END. */
struct cli_opt {
    const char *name;            /* long name without "--" */
    enum cli_opt_kind kind;
    const char *metavar;         /* "FILE", "ID"...; NULL for flags */
    const char *help;            /* one line */
    const char *const *choices;  /* NULL-terminated allowed values, or NULL for any */
};
#define CLI_OPT_END {NULL, CLI_FLAG, NULL, NULL, NULL}
#define CLI_MAX_OPTS 16

/* Parsed values of one option table plus positionals. Release with cli_args_release(). */
struct cli_args {
    const struct cli_opt *opts; /* borrowed; the table the values follow (may be NULL) */
    struct {
        size_t count;
        const char **values; /* borrowed from argv; owned array */
    } val[CLI_MAX_OPTS];
    const char **pos; /* positionals, borrowed from argv; owned array */
    size_t npos;
};

struct cli;

/* One command. A group whose first command has name NULL is itself the command (whoami, effective). */
struct cli_cmd {
    const char *name;
    const char *usage;   /* what follows "riskgate GROUP NAME", e.g. "ID [--out DIR]" */
    const char *summary; /* one line */
    const char *help;    /* NULL, or more lines: details and examples */
    size_t min_pos, max_pos;
    const struct cli_opt *opts; /* NULL or ended by CLI_OPT_END */
    int (*run)(struct cli *cli, const struct cli_args *a);
};

/* A command group: one file under src/cli/ each. cmds ends with an entry whose run is NULL. */
struct cli_group {
    const char *name;
    const char *summary;
    const struct cli_cmd *cmds;
};

extern const struct cli_group cli_group_tenants, cli_group_keys, cli_group_whoami, cli_group_users,
    cli_group_groups, cli_group_policies, cli_group_appconfigs, cli_group_connectors, cli_group_effective,
    cli_group_registrations, cli_group_indicator, cli_group_device, cli_group_alert, cli_group_partner_key,
    cli_group_wipes, cli_group_audit;

/* The context of one run. */
struct cli {
    struct client client;
    const char *url;             /* server base URL */
    const char *api;             /* Graph version segment: "beta" or "v1.0" */
    bool json;                   /* --json: print raw JSON answers */
    const struct cli_group *group; /* running command, for usage messages */
    const struct cli_cmd *cmd;
};

/* ---- args.c: option parsing and help text ---- */

/* Starts a, empty, for the option table opts (may be NULL). */
void cli_args_init(struct cli_args *a, const struct cli_opt *opts);
void cli_args_release(struct cli_args *a);
/*
 * Parses argv[*index..argc) into cmd (options of the command, may be NULL) and
 * glob (the global options, which may appear anywhere). With stop_at_positional
 * parsing stops at the first positional (left at *index); otherwise positionals
 * go to cmd (or glob when cmd is NULL). "--" ends options. Returns 0 or
 * CLI_EUSAGE with err filled.
 */
int cli_args_parse(struct cli_args *cmd, struct cli_args *glob, int argc, char **argv, int *index,
                   bool stop_at_positional, char *err, size_t errlen);
/* The last value of a CLI_VALUE/CLI_LIST option, or NULL when not given. */
const char *cli_opt(const struct cli_args *a, const char *name);
/* True if a flag (or any option) named name was given. */
bool cli_flag(const struct cli_args *a, const char *name);
/* Every value of a CLI_LIST option, in order; *values borrowed. */
size_t cli_opt_list(const struct cli_args *a, const char *name, const char *const **values);

/* Help of a group (its commands) and of one command, to f. */
void cli_help_group(FILE *f, const struct cli_group *g);
void cli_help_command(FILE *f, const struct cli_group *g, const struct cli_cmd *c);
/* "usage: riskgate GROUP CMD ..." and a pointer to --help, to f. */
void cli_print_usage(FILE *f, const struct cli_group *g, const struct cli_cmd *c);

/* ---- call.c: API calls, errors, resolving names ---- */

/* Prints "riskgate: <message>" to stderr; returns code. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A usage error in the running command: message, then its usage, to stderr. Returns CLI_EUSAGE. */
int cli_usage(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * One request. path starts with '/' (see cli_graph_path). body may be NULL.
 * On success (2xx) returns CLI_OK and *out (if out) gets the answer (new
 * reference, NULL for an empty answer). Otherwise returns the exit code and
 * writes the reason into msg: the server's error.message, or why it could not
 * be reached. Prints nothing.
 */
int cli_try(struct cli *cli, const char *method, const char *path, const json_t *body, json_t **out, char *msg,
            size_t msglen);
/* cli_try with a body already encoded as JSON text (payload, len bytes; NULL for none). */
int cli_try_raw(struct cli *cli, const char *method, const char *path, const char *payload, size_t len, json_t **out,
                char *msg, size_t msglen);
/* cli_try that prints "riskgate: <reason>" on failure. */
int cli_call(struct cli *cli, const char *method, const char *path, const json_t *body, json_t **out);
/*
 * GETs a whole collection, following @odata.nextLink. *answer (new reference)
 * is the first page's object with "value" holding every item and no nextLink.
 * Prints the reason on failure.
 */
int cli_list(struct cli *cli, const char *path, json_t **answer);

/*
 * GETs a collection page by page, following @odata.nextLink, and calls
 * on_page with each page's answer (borrowed; its "value" is an array) so
 * that large collections need not be held at once. Stops at the first
 * non-zero code on_page returns, and returns it. Prints the reason of a
 * failed request.
 */
int cli_list_pages(struct cli *cli, const char *path, int (*on_page)(void *ud, const json_t *page), void *ud);

/* "/<api>/<fmt...>" into out. Returns CLI_OK or CLI_EUSAGE (too long; message printed). */
int cli_graph_path(struct cli *cli, char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Checks that id can be one URL path segment; prints a usage error (CLI_EUSAGE) if not. */
int cli_check_id(struct cli *cli, const char *what, const char *id);
/* Percent-encodes s (everything but unreserved characters) for a query string. Returns 0 or -1 (too long). */
int cli_escape(const char *s, char *out, size_t outlen);
/* "$filter=<prop> eq '<value>'" encoded for a query string. Returns 0 or -1 (too long). */
int cli_filter_eq(const char *prop, const char *value, char *out, size_t outlen);

/* A user's id from an id or a userPrincipalName (GET users/{upn}). Prints the reason on failure. */
int cli_resolve_user(struct cli *cli, const char *id_or_upn, char *id_out, size_t idlen);
/* A group's id from an id or an exact displayName (exactly one must match). Prints the reason on failure. */
int cli_resolve_group(struct cli *cli, const char *id_or_name, char *id_out, size_t idlen);
/* Reads a JSON object from a file ("-" = stdin), UTF-8 BOM allowed. *out new reference. Prints the reason. */
int cli_read_json_file(const char *path, json_t **out);
/*
 * Parses "name=value" (value as JSON if it parses as JSON, else as a string)
 * into obj. Returns CLI_OK or a usage error (printed).
 */
int cli_set_prop(struct cli *cli, json_t *obj, const char *assignment, bool value_as_json);

/* ---- output.c: tables and values ---- */

/* A table printed with aligned columns. */
struct table {
    size_t ncols;
    const char *const *headers; /* borrowed, ncols */
    json_t *rows;               /* array of arrays of strings; owned */
};
void table_init(struct table *t, const char *const *headers, size_t ncols);
/* Adds a row of ncols strings (NULL or "" shows as "-"). */
void table_add(struct table *t, ...);
/* Prints the header line and rows to stdout; "(none)" when empty. */
void table_print(const struct table *t);
void table_release(struct table *t);

/* Pretty JSON of v to stdout, properties in their order. */
void cli_print_json(const json_t *v);
/* A value as text: strings as they are, null as "null", others as compact JSON. Caller frees. */
char *cli_value_text(const json_t *v);
/* A string member of obj, or "" (never NULL). */
const char *cli_str(const json_t *obj, const char *key);
/* "2026-01-02T03:04:05.123Z" as "2026-01-02 03:04" into out (the input itself when it is not a time). */
void cli_short_time(const char *iso, char *out, size_t outlen);
/* Prints an object's properties as aligned "name  value" lines (skipping "@odata.context" and the names in skip, NULL-ended). */
void cli_print_object(const json_t *obj, const char *const *skip);
#endif
