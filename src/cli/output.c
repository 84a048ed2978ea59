/* output.c: what the CLI prints by default: aligned tables and property lists, and pretty JSON for --json. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

void table_init(struct table *t, const char *const *headers, size_t ncols)
{
    t->ncols = ncols;
    t->headers = headers;
    t->rows = json_array();
}

void table_add(struct table *t, ...)
{
    json_t *row = json_array();
    va_list ap;
    va_start(ap, t);
    for (size_t i = 0; i < t->ncols; i++) {
        const char *s = va_arg(ap, const char *);
        json_array_append_new(row, json_string(s && *s ? s : "-"));
    }
    va_end(ap);
    json_array_append_new(t->rows, row);
}

/* Display width of a UTF-8 string: code points (good enough for names). */
static size_t width_of(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

static void print_cell(const char *s, size_t width, bool last)
{
    fputs(s, stdout);
    if (last)
        return;
    for (size_t w = width_of(s); w < width + 2; w++)
        fputc(' ', stdout);
}

void table_print(const struct table *t)
{
    size_t widths[16] = {0};
    size_t nc = t->ncols < 16 ? t->ncols : 16;
    size_t r;
    json_t *row;
    for (size_t c = 0; c < nc; c++)
        widths[c] = width_of(t->headers[c]);
    json_array_foreach(t->rows, r, row) {
        for (size_t c = 0; c < nc; c++) {
            size_t w = width_of(json_string_value(json_array_get(row, c)));
            if (w > widths[c])
                widths[c] = w;
        }
    }
    for (size_t c = 0; c < nc; c++)
        print_cell(t->headers[c], widths[c], c + 1 == nc);
    fputc('\n', stdout);
    json_array_foreach(t->rows, r, row) {
        for (size_t c = 0; c < nc; c++)
            print_cell(json_string_value(json_array_get(row, c)), widths[c], c + 1 == nc);
        fputc('\n', stdout);
    }
    if (!json_array_size(t->rows))
        fputs("(none)\n", stdout);
}

void table_release(struct table *t)
{
    json_decref(t->rows);
    t->rows = NULL;
}

void cli_print_json(const json_t *v)
{
    if (!v)
        return;
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
    }
    free(s);
}

char *cli_value_text(const json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = strlen(s) + 1;
        char *p = malloc(n);
        if (p)
            memcpy(p, s, n);
        return p;
    }
    return json_dumps(v ? v : json_null(), JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}

const char *cli_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

void cli_short_time(const char *iso, char *out, size_t outlen)
{
    /* "YYYY-MM-DDTHH:MM..." */
    if (iso && strlen(iso) >= 16 && iso[4] == '-' && iso[7] == '-' && iso[10] == 'T' && iso[13] == ':')
        snprintf(out, outlen, "%.10s %.5s", iso, iso + 11);
    else
        snprintf(out, outlen, "%s", iso ? iso : "");
}

static bool skipped(const char *key, const char *const *skip)
{
    if (!strcmp(key, "@odata.context"))
        return true;
    for (; skip && *skip; skip++)
        if (!strcmp(*skip, key))
            return true;
    return false;
}

void cli_print_object(const json_t *obj, const char *const *skip)
{
    const char *k;
    json_t *v;
    size_t width = 0;
    json_object_foreach((json_t *)obj, k, v) {
        if (!skipped(k, skip) && strlen(k) > width)
            width = strlen(k);
    }
    json_object_foreach((json_t *)obj, k, v) {
        if (skipped(k, skip))
            continue;
        char *text = cli_value_text(v);
        printf("%-*s  %s\n", (int)width, k, text ? text : "?");
        free(text);
    }
}
