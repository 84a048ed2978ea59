/*
 * args.c: the CLI's option parser and help text, both driven by the option
 * tables (struct cli_opt) each command declares (cli.h). Options may come
 * before, between and after positionals; global options are accepted at
 * every level.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static size_t opt_count(const struct cli_opt *opts)
{
    size_t n = 0;
    while (opts && opts[n].name)
        n++;
    return n;
}

void cli_args_init(struct cli_args *a, const struct cli_opt *opts)
{
    memset(a, 0, sizeof *a);
    a->opts = opts;
}

void cli_args_release(struct cli_args *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < CLI_MAX_OPTS; i++)
        free(a->val[i].values);
    free(a->pos);
    cli_args_init(a, a->opts);
}

/* Index of option name (length n) in a's table, or -1. */
static int find_opt(const struct cli_args *a, const char *name, size_t n)
{
    size_t count = opt_count(a ? a->opts : NULL);
    for (size_t i = 0; i < count && i < CLI_MAX_OPTS; i++)
        if (strlen(a->opts[i].name) == n && !memcmp(a->opts[i].name, name, n))
            return (int)i;
    return -1;
}

static int add_value(struct cli_args *a, size_t idx, const char *v, size_t room)
{
    if (!a->val[idx].values) {
        a->val[idx].values = calloc(room ? room : 1, sizeof(char *));
        if (!a->val[idx].values)
            return -1;
    }
    a->val[idx].values[a->val[idx].count++] = v;
    return 0;
}

static int add_pos(struct cli_args *a, const char *v, size_t room)
{
    if (!a->pos) {
        a->pos = calloc(room ? room : 1, sizeof(char *));
        if (!a->pos)
            return -1;
    }
    a->pos[a->npos++] = v;
    return 0;
}

static bool in_choices(const char *const *choices, const char *v)
{
    for (; *choices; choices++)
        if (!strcmp(*choices, v))
            return true;
    return false;
}

static void choices_text(const char *const *choices, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; choices[i] && used < n; i++) {
        int w = snprintf(out + used, n - used, "%s%s", i ? "|" : "", choices[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static int usage_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int usage_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return CLI_EUSAGE;
}

int cli_args_parse(struct cli_args *cmd, struct cli_args *glob, int argc, char **argv, int *index,
                   bool stop_at_positional, char *err, size_t errlen)
{
    size_t room = (size_t)argc;
    bool options_done = false;
    int i = *index;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (options_done || arg[0] != '-' || !arg[1]) {
            if (stop_at_positional)
                break;
            if (add_pos(cmd ? cmd : glob, arg, room))
                return usage_err(err, errlen, "out of memory");
            continue;
        }
        if (!strcmp(arg, "--")) {
            options_done = true;
            continue;
        }
        if (!strcmp(arg, "-h"))
            arg = "--help";
        if (arg[1] != '-')
            return usage_err(err, errlen, "unknown option '%s'", arg);
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        struct cli_args *target = cmd;
        int idx = find_opt(cmd, name, nlen);
        if (idx < 0) {
            target = glob;
            idx = find_opt(glob, name, nlen);
        }
        if (idx < 0)
            return usage_err(err, errlen, "unknown option '--%.*s'", (int)nlen, name);
        const struct cli_opt *o = &target->opts[idx];
        const char *value = NULL;
        if (o->kind == CLI_FLAG) {
            if (eq)
                return usage_err(err, errlen, "--%s takes no value", o->name);
            value = "";
        } else if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            return usage_err(err, errlen, "--%s needs a value (%s)", o->name, o->metavar ? o->metavar : "VALUE");
        }
        if (o->choices && o->kind != CLI_FLAG && !in_choices(o->choices, value)) {
            char ch[256];
            choices_text(o->choices, ch, sizeof ch);
            return usage_err(err, errlen, "--%s: '%s' is not one of %s", o->name, value, ch);
        }
        if (add_value(target, (size_t)idx, value, room))
            return usage_err(err, errlen, "out of memory");
    }
    *index = i;
    return 0;
}

const char *cli_opt(const struct cli_args *a, const char *name)
{
    int idx = find_opt(a, name, strlen(name));
    if (idx < 0 || !a->val[idx].count)
        return NULL;
    return a->val[idx].values[a->val[idx].count - 1];
}

bool cli_flag(const struct cli_args *a, const char *name)
{
    int idx = find_opt(a, name, strlen(name));
    return idx >= 0 && a->val[idx].count > 0;
}

size_t cli_opt_list(const struct cli_args *a, const char *name, const char *const **values)
{
    int idx = find_opt(a, name, strlen(name));
    *values = idx >= 0 ? a->val[idx].values : NULL;
    return idx >= 0 ? a->val[idx].count : 0;
}

/* ---- help text ---- */

static void print_opts(FILE *f, const struct cli_opt *opts)
{
    size_t n = opt_count(opts), width = 0;
    char left[400];
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            const struct cli_opt *o = &opts[i];
            char ch[200] = "";
            if (o->choices)
                choices_text(o->choices, ch, sizeof ch);
            if (o->kind == CLI_FLAG)
                snprintf(left, sizeof left, "--%s", o->name);
            else
                snprintf(left, sizeof left, "--%s %s%s", o->name, o->choices && strlen(ch) < 40 ? ch : o->metavar,
                         o->kind == CLI_LIST ? " ..." : "");
            if (pass == 0) {
                if (strlen(left) > width)
                    width = strlen(left);
                continue;
            }
            fprintf(f, "  %-*s  %s", (int)width, left, o->help ? o->help : "");
            if (o->choices && strlen(ch) >= 40)
                fprintf(f, " (one of %s)", ch);
            if (o->kind == CLI_LIST)
                fprintf(f, " (repeatable)");
            fputc('\n', f);
        }
    }
}

static const char *cmd_name(const struct cli_cmd *c)
{
    return c->name ? c->name : "";
}

void cli_print_usage(FILE *f, const struct cli_group *g, const struct cli_cmd *c)
{
    if (!c) {
        fprintf(f, "usage: riskgate %s COMMAND [options]   (riskgate %s --help lists the commands)\n", g->name,
                g->name);
        return;
    }
    fprintf(f, "usage: riskgate %s%s%s%s%s\n", g->name, c->name ? " " : "", cmd_name(c), c->usage && *c->usage ? " " : "",
            c->usage ? c->usage : "");
    fprintf(f, "       (riskgate %s%s%s --help for details)\n", g->name, c->name ? " " : "", cmd_name(c));
}

void cli_help_command(FILE *f, const struct cli_group *g, const struct cli_cmd *c)
{
    fprintf(f, "usage: riskgate %s%s%s%s%s\n\n%s\n", g->name, c->name ? " " : "", cmd_name(c),
            c->usage && *c->usage ? " " : "", c->usage ? c->usage : "", c->summary);
    if (c->help)
        fprintf(f, "\n%s\n", c->help);
    if (opt_count(c->opts)) {
        fprintf(f, "\nOptions:\n");
        print_opts(f, c->opts);
    }
    fprintf(f, "\nGlobal options (--url, --token, --token-file, --json, --api) and exit codes: riskgate --help\n");
}

void cli_help_group(FILE *f, const struct cli_group *g)
{
    if (g->cmds[0].name == NULL) {
        cli_help_command(f, g, &g->cmds[0]);
        return;
    }
    fprintf(f, "usage: riskgate %s COMMAND [options]\n\n%s\n\nCommands:\n", g->name, g->summary);
    size_t width = 0;
    for (const struct cli_cmd *c = g->cmds; c->run; c++)
        if (strlen(c->name) > width)
            width = strlen(c->name);
    for (const struct cli_cmd *c = g->cmds; c->run; c++)
        fprintf(f, "  %-*s  %s\n", (int)width, c->name, c->summary);
    fprintf(f, "\nriskgate %s COMMAND --help shows a command's options.\n", g->name);
}
