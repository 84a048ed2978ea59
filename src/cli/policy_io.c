/*
 * policy_io.c: `riskgate policies import` and `export`: policies as JSON
 * files, one per policy, in Graph's shape (what GET returns with
 * $expand=assignments,apps), so that an export imports back unchanged and
 * Intune's own exports import as they are.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli/policy_cmds.h"

#define NAME_MAX_BYTES 120

/* ---- import ---- */

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The *.json files of a folder, sorted, as a new JSON array of paths. */
static int folder_files(const char *dir, json_t **out)
{
    DIR *d = opendir(dir);
    if (!d)
        return cli_fail(CLI_EFAIL, "%s: %s", dir, strerror(errno));
    json_t *names = json_array();
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 5 && e->d_name[0] != '.' && !strcasecmp(e->d_name + n - 5, ".json"))
            json_array_append_new(names, json_string(e->d_name));
    }
    closedir(d);
    size_t n = json_array_size(names);
    const char **v = calloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; v && i < n; i++)
        v[i] = json_string_value(json_array_get(names, i));
    if (v)
        qsort(v, n, sizeof *v, by_name);
    json_t *paths = json_array();
    size_t dl = strlen(dir);
    for (size_t i = 0; v && i < n; i++) {
        struct buf p = BUF_INIT(0);
        buf_printf(&p, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", v[i]);
        json_array_append_new(paths, json_string(buf_str(&p)));
        buf_release(&p);
    }
    free(v);
    json_decref(names);
    *out = paths;
    return CLI_OK;
}

/* Imports one file; prints its outcome (unless --json) and records it in results. */
static int import_one(struct cli *cli, const char *file, const struct cli_args *a, json_t *results)
{
    json_t *body = NULL, *ans = NULL;
    char msg[1024] = "";
    int code = cli_read_json_file(file, &body);
    if (code) {
        json_array_append_new(results, json_pack("{s:s,s:s}", "file", file, "error", "unreadable or not JSON"));
        return code;
    }
    const char *type = json_string_value(json_object_get(body, "@odata.type"));
    const char *kind = pol_kind(type), *platform = cli_opt(a, "platform");
    if (type && !kind) {
        snprintf(msg, sizeof msg, "@odata.type '%s' is not a policy riskgate imports", type);
        code = CLI_EFAIL;
    } else if (!kind && !platform) {
        snprintf(msg, sizeof msg, "the file has no @odata.type; say what it is with --platform android|ios|config");
        code = CLI_EUSAGE;
    }
    if (cli_flag(a, "skip-assignments"))
        json_object_del(body, "assignments");
    char path[256];
    if (!code)
        code = cli_graph_path(cli, path, sizeof path, "deviceAppManagement/%s", pol_segment(kind ? kind : platform));
    if (!code)
        code = cli_try(cli, "POST", path, body, &ans, msg, sizeof msg);
    if (code) {
        bool hint = !strncmp(msg, "assignments", 11);
        if (!cli->json)
            cli_fail(code, "%s: %s%s", file, msg,
                     hint ? " (--skip-assignments imports the policy without its assignments)" : "");
        json_array_append_new(results, json_pack("{s:s,s:s}", "file", file, "error", msg));
    } else {
        if (!cli->json)
            printf("imported %s as %s\n", cli_str(ans, "displayName"), cli_str(ans, "id"));
        json_array_append_new(results, json_pack("{s:s,s:s,s:s}", "file", file, "id", cli_str(ans, "id"),
                                                 "displayName", cli_str(ans, "displayName")));
    }
    json_decref(body);
    json_decref(ans);
    return code;
}

int pol_import(struct cli *cli, const struct cli_args *a)
{
    const char *src = a->pos[0];
    struct stat st;
    json_t *files = NULL;
    int code = CLI_OK;
    if (strcmp(src, "-") && stat(src, &st))
        return cli_fail(CLI_EFAIL, "%s: %s", src, strerror(errno));
    if (strcmp(src, "-") && S_ISDIR(st.st_mode)) {
        if ((code = folder_files(src, &files)))
            return code;
        if (!json_array_size(files)) {
            json_decref(files);
            return cli_fail(CLI_EFAIL, "%s: no *.json files in this folder", src);
        }
    } else {
        files = json_pack("[s]", src);
    }
    json_t *results = json_array();
    size_t i, failed = 0;
    json_t *f;
    json_array_foreach(files, i, f) {
        int rc = import_one(cli, json_string_value(f), a, results);
        if (rc) {
            failed++;
            if (!code)
                code = rc;
        }
        if (rc == CLI_ECONNECT || rc == CLI_EAUTH)
            break; /* every other file would fail the same way */
    }
    if (cli->json)
        cli_print_json(results);
    else if (json_array_size(files) > 1)
        printf("%zu imported, %zu failed\n", json_array_size(results) - failed, failed);
    json_decref(results);
    json_decref(files);
    return code;
}

/* ---- export ---- */

/* A file name from a display name: [A-Za-z0-9._-] kept, runs of others become one '-'. */
static void sanitize(const char *name, const char *fallback, char *out, size_t n)
{
    size_t o = 0;
    for (const char *p = name; *p && o + 1 < n && o < NAME_MAX_BYTES; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c) || c == '.' || c == '_' || c == '-')
            out[o++] = (char)c;
        else if (o && out[o - 1] != '-')
            out[o++] = '-';
    }
    while (o && (out[o - 1] == '-' || out[o - 1] == '.'))
        o--;
    out[o] = '\0';
    size_t lead = strspn(out, ".-");
    if (lead)
        memmove(out, out + lead, o - lead + 1);
    if (!out[0])
        snprintf(out, n, "%s", fallback);
}

static int write_file(const char *path, const json_t *doc)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return cli_fail(CLI_EFAIL, "%s: %s", path, strerror(errno));
    int bad = json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) || fputc('\n', f) == EOF;
    if (fclose(f) || bad)
        return cli_fail(CLI_EFAIL, "%s: write failed: %s", path, strerror(errno));
    return CLI_OK;
}

/* Exports one policy into dir ("-": stdout); used: file names taken so far (object). */
static int export_one(struct cli *cli, const char *id, const char *dir, json_t *used, json_t *results)
{
    json_t *doc = NULL;
    int code = pol_fetch(cli, SEG_ALL, id, true, &doc);
    if (code)
        return code;
    json_object_del(doc, "@odata.context");
    if (!strcmp(dir, "-")) {
        cli_print_json(doc);
        json_decref(doc);
        return CLI_OK;
    }
    char base[NAME_MAX_BYTES + 1], name[NAME_MAX_BYTES + 300];
    sanitize(cli_str(doc, "displayName"), id, base, sizeof base);
    snprintf(name, sizeof name, "%s.json", base);
    if (json_object_get(used, name)) /* two policies with one name: the id tells them apart */
        snprintf(name, sizeof name, "%s-%s.json", base, id);
    json_object_set_new(used, name, json_true());
    struct buf path = BUF_INIT(0);
    buf_printf(&path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    code = write_file(buf_str(&path), doc);
    if (!code) {
        if (!cli->json)
            printf("exported %s to %s\n", cli_str(doc, "displayName"), buf_str(&path));
        json_array_append_new(results, json_pack("{s:s,s:s,s:s}", "id", id, "displayName",
                                                 cli_str(doc, "displayName"), "file", buf_str(&path)));
    }
    buf_release(&path);
    json_decref(doc);
    return code;
}

int pol_export(struct cli *cli, const struct cli_args *a)
{
    bool all = cli_flag(a, "all");
    const char *dir = cli_opt(a, "out") ? cli_opt(a, "out") : ".";
    if (all == (a->npos == 1))
        return cli_usage(cli, "policies export: give one policy ID or --all");
    if (all && !strcmp(dir, "-"))
        return cli_usage(cli, "policies export: --out - (stdout) takes one policy, not --all");
    if (!*dir)
        return cli_usage(cli, "--out: a folder is needed");
    if (strcmp(dir, "-") && mkdir(dir, 0755) && errno != EEXIST)
        return cli_fail(CLI_EFAIL, "%s: %s", dir, strerror(errno));
    json_t *ids = json_array(), *used = json_object(), *results = json_array();
    int code = CLI_OK;
    if (all) {
        json_t *ans = NULL;
        char path[128];
        /* ids first, then one GET each: the expanded navigation is per entity */
        code = cli_graph_path(cli, path, sizeof path, "deviceAppManagement/%s", SEG_ALL);
        if (!code)
            code = cli_list(cli, path, &ans);
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(ans, "value"), i, p)
            json_array_append(ids, json_object_get(p, "id"));
        json_decref(ans);
    } else {
        json_array_append_new(ids, json_string(a->pos[0]));
    }
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) {
        if (code)
            break;
        code = export_one(cli, json_string_value(id), dir, used, results);
    }
    if (!code && cli->json && strcmp(dir, "-"))
        cli_print_json(results);
    else if (!code && all && !cli->json)
        printf("%zu polic%s exported to %s\n", json_array_size(results), json_array_size(results) == 1 ? "y" : "ies",
               dir);
    json_decref(ids);
    json_decref(used);
    json_decref(results);
    return code;
}

static const char *const platforms[] = {"android", "ios", "config", NULL};

const struct cli_opt pol_import_opts[] = {
    {"platform", CLI_VALUE, "PLATFORM", "the kind of files that have no @odata.type", platforms},
    {"skip-assignments", CLI_FLAG, NULL, "import without the files' assignments (groups of another tenant)", NULL},
    CLI_OPT_END,
};

const struct cli_opt pol_export_opts[] = {
    {"all", CLI_FLAG, NULL, "export every policy and app configuration", NULL},
    {"out", CLI_VALUE, "DIR", "folder to write to (created if missing; default .); - prints to stdout", NULL},
    CLI_OPT_END,
};
