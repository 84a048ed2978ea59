/*
 * cmd_indicator.c: `riskgate indicator`, Defender's custom indicators
 * (/api/indicators): add (submit or update by type and value), list with
 * $filter (streamed page by page: a tenant may hold millions), show, rm.
 * import is in ind_import.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/threat_cmds.h"
#include "common/buf.h"

const char *const ind_types[] = {"FileSha1", "FileSha256", "FileMd5", "CertificateThumbprint", "IpAddress",
                                 "DomainName", "Url", NULL};
const char *const ind_actions[] = {"Allowed", "Audit", "Warn", "Block", "BlockAndRemediate", NULL};
const char *const ind_severities[] = {"Informational", "Low", "Medium", "High", NULL};

static int run_add(struct cli *cli, const struct cli_args *a)
{
    const char *type = cli_opt(a, "type"), *value = cli_opt(a, "value"), *action = cli_opt(a, "action");
    const char *title = cli_opt(a, "title");
    if (!type || !value || !action || !title)
        return cli_usage(cli, "indicator add: --type, --value, --action and --title are required");
    const char *desc = cli_opt(a, "description");
    json_t *body = json_pack("{s:s,s:s,s:s,s:s,s:s}", "indicatorType", type, "indicatorValue", value, "action", action,
                             "title", title, "description", desc ? desc : "");
    if (!body)
        return cli_usage(cli, "indicator add: the values must be UTF-8 text");
    if (cli_opt(a, "severity"))
        json_object_set_new(body, "severity", json_string(cli_opt(a, "severity")));
    if (cli_opt(a, "expires"))
        json_object_set_new(body, "expirationTime", json_string(cli_opt(a, "expires")));
    const char *const *scopes;
    size_t n = cli_opt_list(a, "scope", &scopes);
    if (n) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_string(scopes[i]));
        json_object_set_new(body, "rbacGroupNames", arr);
    }
    if (cli_flag(a, "generate-alert"))
        json_object_set_new(body, "generateAlert", json_true());
    json_t *ans = NULL;
    int code = cli_call(cli, "POST", IND_PATH, body, &ans);
    json_decref(body);
    if (code)
        return code;
    if (cli->json) {
        cli_print_json(ans);
    } else {
        char *id = cli_value_text(json_object_get(ans, "id"));
        printf("indicator %s: %s %s %s\n", id ? id : "?", cli_str(ans, "action"), cli_str(ans, "indicatorType"),
               cli_str(ans, "indicatorValue"));
        free(id);
    }
    json_decref(ans);
    return CLI_OK;
}

/* ---- list: a table (or the JSON collection) printed page by page ---- */

#define LIST_COLS 8
static const char *const list_cols[LIST_COLS] = {"ID", "TYPE", "VALUE", "ACTION", "SEVERITY", "TITLE", "EXPIRES",
                                                 "SCOPE"};

struct lister {
    struct cli *cli;
    size_t count;
    size_t width[LIST_COLS]; /* from the first page; later pages keep them */
    bool started;
};

static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

/* The cells of one indicator; release with row_release. */
struct row {
    const char *cell[LIST_COLS];
    char *id, *scope; /* owned */
};

static void row_cells(const json_t *ind, struct row *r)
{
    r->id = cli_value_text(json_object_get(ind, "id"));
    struct buf scope = BUF_INIT(0);
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(ind, "rbacGroupNames"), i, s)
        buf_printf(&scope, "%s%s", i ? "," : "", json_string_value(s) ? json_string_value(s) : "");
    r->scope = buf_detach(&scope);
    const char *cells[LIST_COLS] = {r->id, cli_str(ind, "indicatorType"), cli_str(ind, "indicatorValue"),
                                    cli_str(ind, "action"), cli_str(ind, "severity"), cli_str(ind, "title"),
                                    cli_str(ind, "expirationTime"), r->scope};
    memcpy(r->cell, cells, sizeof cells);
}

static void row_release(struct row *r)
{
    free(r->id);
    free(r->scope);
}

static void print_row(const struct lister *l, const char *const *cells)
{
    for (size_t c = 0; c < LIST_COLS; c++) {
        const char *s = cells[c] && *cells[c] ? cells[c] : "-";
        fputs(s, stdout);
        if (c + 1 < LIST_COLS) /* later pages may hold longer cells: at least two spaces between columns */
            for (size_t w = text_width(s), end = (w > l->width[c] ? w : l->width[c]) + 2; w < end; w++)
                fputc(' ', stdout);
    }
    fputc('\n', stdout);
}

static int table_page(void *ud, const json_t *page)
{
    struct lister *l = ud;
    const json_t *items = json_object_get(page, "value");
    size_t i;
    json_t *ind;
    struct row r;
    if (!l->started) {
        for (size_t c = 0; c < LIST_COLS; c++)
            l->width[c] = text_width(list_cols[c]);
        json_array_foreach(items, i, ind) {
            row_cells(ind, &r);
            for (size_t c = 0; c < LIST_COLS; c++) {
                size_t w = text_width(r.cell[c] && *r.cell[c] ? r.cell[c] : "-");
                if (w > l->width[c])
                    l->width[c] = w;
            }
            row_release(&r);
        }
        print_row(l, list_cols);
        l->started = true;
    }
    json_array_foreach(items, i, ind) {
        row_cells(ind, &r);
        print_row(l, r.cell);
        row_release(&r);
        l->count++;
    }
    return CLI_OK;
}

/* Prints s with every line but the first indented by indent spaces. */
static void put_indented(const char *s, int indent)
{
    for (; *s; s++) {
        fputc(*s, stdout);
        if (*s == '\n')
            printf("%*s", indent, "");
    }
}

static int json_page(void *ud, const json_t *page)
{
    struct lister *l = ud;
    if (!l->started) {
        json_t *ctx = json_object_get(page, "@odata.context");
        char *c = ctx ? json_dumps(ctx, JSON_ENCODE_ANY) : NULL;
        printf("{\n");
        if (c)
            printf("  \"@odata.context\": %s,\n", c);
        printf("  \"value\": [");
        free(c);
        l->started = true;
    }
    size_t i;
    json_t *ind;
    json_array_foreach(json_object_get(page, "value"), i, ind) {
        char *s = json_dumps(ind, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!s)
            return cli_fail(CLI_EFAIL, "out of memory");
        printf("%s\n    ", l->count ? "," : "");
        put_indented(s, 4);
        free(s);
        l->count++;
    }
    return CLI_OK;
}

static int run_list(struct cli *cli, const struct cli_args *a)
{
    static const char *const props[][2] = {{"indicatorType", "type"}, {"action", "action"}, {"indicatorValue", "value"}};
    struct buf filter = BUF_INIT(8192), path = BUF_INIT(32768);
    int rc = 0;
    for (size_t i = 0; i < 3; i++) {
        const char *v = cli_opt(a, props[i][1]);
        if (!v)
            continue;
        rc |= buf_printf(&filter, "%s%s eq '", filter.len ? " and " : "", props[i][0]);
        for (const char *p = v; *p; p++)
            rc |= *p == '\'' ? buf_puts(&filter, "''") : buf_append(&filter, p, 1);
        rc |= buf_puts(&filter, "'");
    }
    rc |= buf_puts(&path, IND_PATH);
    if (!rc && filter.len) {
        size_t room = filter.len * 3 + 1;
        char *enc = malloc(room);
        rc = !enc || cli_escape(buf_str(&filter), enc, room) || buf_printf(&path, "?$filter=%s", enc);
        free(enc);
    }
    buf_release(&filter);
    if (rc) {
        buf_release(&path);
        return cli_usage(cli, "indicator list: --value is too long");
    }
    struct lister l = {cli, 0, {0}, false};
    int code = cli_list_pages(cli, buf_str(&path), cli->json ? json_page : table_page, &l);
    buf_release(&path);
    if (cli->json) {
        if (!l.started)
            return code;
        printf(l.count ? "\n  ]\n}\n" : "]\n}\n");
    } else if (!code && !l.count) {
        printf("(none)\n");
    }
    return code;
}

static int ind_path(struct cli *cli, const char *id, char *path, size_t n)
{
    int code = cli_check_id(cli, "indicator", id);
    if (!code && (size_t)snprintf(path, n, "%s/%s", IND_PATH, id) >= n)
        code = cli_usage(cli, "indicator: the id is too long");
    return code;
}

static int run_show(struct cli *cli, const struct cli_args *a)
{
    char path[600];
    json_t *ans = NULL;
    int code = ind_path(cli, a->pos[0], path, sizeof path);
    if (code || (code = cli_call(cli, "GET", path, NULL, &ans)))
        return code;
    if (cli->json)
        cli_print_json(ans);
    else
        cli_print_object(ans, NULL);
    json_decref(ans);
    return CLI_OK;
}

static int run_rm(struct cli *cli, const struct cli_args *a)
{
    int first = CLI_OK;
    char path[600], msg[1024];
    for (size_t i = 0; i < a->npos; i++) /* every id checked before anything is deleted */
        if ((first = ind_path(cli, a->pos[i], path, sizeof path)))
            return first;
    for (size_t i = 0; i < a->npos; i++) {
        ind_path(cli, a->pos[i], path, sizeof path);
        int code = cli_try(cli, "DELETE", path, NULL, NULL, msg, sizeof msg);
        if (code)
            cli_fail(code, "indicator %s: %s", a->pos[i], msg);
        else if (!cli->json)
            printf("deleted indicator %s\n", a->pos[i]);
        if (code && !first)
            first = code;
    }
    return first;
}

static const struct cli_opt add_opts[] = {
    {"type", CLI_VALUE, "TYPE", "indicatorType", ind_types},
    {"value", CLI_VALUE, "VALUE", "indicatorValue: a hash, IP address, domain, URL or certificate thumbprint", NULL},
    {"action", CLI_VALUE, "ACTION", "what devices do on a match", ind_actions},
    {"title", CLI_VALUE, "TEXT", "title (shown in alerts and on the device)", NULL},
    {"description", CLI_VALUE, "TEXT", "description (default empty)", NULL},
    {"severity", CLI_VALUE, "SEVERITY", "severity of the alerts it raises (default Informational)", ind_severities},
    {"expires", CLI_VALUE, "TIME", "expirationTime, ISO-8601 UTC, e.g. 2030-01-01T00:00:00Z", NULL},
    {"scope", CLI_LIST, "TAG", "only devices with this tag (rbacGroupNames; default every device)", NULL},
    {"generate-alert", CLI_FLAG, NULL, "raise an alert on a match (required for Audit)", NULL},
    CLI_OPT_END,
};

static const struct cli_opt list_opts[] = {
    {"type", CLI_VALUE, "TYPE", "only this indicatorType", ind_types},
    {"action", CLI_VALUE, "ACTION", "only this action", ind_actions},
    {"value", CLI_VALUE, "VALUE", "only this indicatorValue", NULL},
    CLI_OPT_END,
};

static const struct cli_cmd cmds[] = {
    {"add", "--type TYPE --value VALUE --action ACTION --title TEXT [options]", "Submit an indicator (or update the one with the same type and value).",
     "Examples:\n  riskgate indicator add --type DomainName --value evil.example --action Block --title 'Phishing site'\n"
     "  riskgate indicator add --type FileSha256 --value 275a02...fd0f --action Audit --generate-alert \\\n"
     "      --title 'EICAR' --severity High --scope byod --expires 2030-01-01T00:00:00Z",
     0, 0, add_opts, run_add},
    {"list", "[--type TYPE] [--action ACTION] [--value VALUE]", "List the indicators.",
     "Prints ID, TYPE, VALUE, ACTION, SEVERITY, TITLE, EXPIRES and SCOPE, page by page.", 0, 0, list_opts, run_list},
    {"show", "ID", "Show one indicator.", NULL, 1, 1, NULL, run_show},
    {"rm", "ID...", "Delete indicators.", NULL, 1, (size_t)-1, NULL, run_rm},
    {"import", "FILE|- [--action ACTION] [--title TEXT] [--type TYPE] [--generate-alert]",
     "Import indicators from Defender's CSV template or a list of domains and URLs.", IND_IMPORT_HELP, 1, 1,
     ind_import_opts, ind_import},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const struct cli_group cli_group_indicator = {"indicator", "threat indicators (hashes, IPs, domains, URLs): add, list, show, rm, import",
                                              cmds};
