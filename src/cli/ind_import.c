/*
 * ind_import.c: `riskgate indicator import FILE|-`. FILE is Defender's
 * indicator CSV template (RFC 4180 quoting: commas, doubled quotes and line
 * breaks inside quoted fields; the header row names the columns, in any
 * order and case) or a plain list of values, one per line, each line's type
 * recognised by intel_guess_type: IPv4/IPv6 -> IpAddress, 32/40/64 hex digits
 * -> FileMd5/FileSha1/FileSha256, a URL with or without scheme -> Url, a bare
 * domain -> DomainName (--type overrides the guess).
 *
 * The file is streamed: records become indicators as they are read and go to
 * POST /api/indicators/import in batches of at most 10000 (and under the
 * server's 1 MiB body limit), over the one curl handle, so one keep-alive
 * connection. A batch's body is built as JSON text, not as a jansson tree.
 * Each batch's per-row answers are matched back to the lines they came from.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "cli/threat_cmds.h"
#include "common/buf.h"
#include "common/err.h"
#include "intel/indicators.h"

#define BATCH_MAX 10000                       /* indicators per request */
#define BODY_MAX ((1u << 20) - 64u)           /* the server's body limit (1 MiB), with room for the closing "]}" */
#define RECORD_MAX (1u << 20)                 /* bytes of one CSV record */
#define MAX_FIELDS 64
#define BODY_OPEN "{\"Indicators\":["

/* ---- reading lines and CSV records ---- */

struct lines {
    FILE *f;
    char *line; /* the current line without its line break; owned (getline) */
    size_t cap;
    long no;      /* its number, from 1 */
    bool pending; /* the current line is to be read again */
};

/* The next line into in->line. Returns 1, 0 at the end, -1 on a read error. */
static int next_line(struct lines *in)
{
    if (in->pending) {
        in->pending = false;
        return 1;
    }
    ssize_t got = getline(&in->line, &in->cap, in->f);
    if (got < 0)
        return ferror(in->f) ? -1 : 0;
    in->no++;
    size_t n = (size_t)got;
    if (n && in->line[n - 1] == '\n')
        n--;
    if (n && in->line[n - 1] == '\r')
        n--;
    in->line[n] = '\0';
    if (in->no == 1 && n >= 3 && !memcmp(in->line, "\xEF\xBB\xBF", 3))
        memmove(in->line, in->line + 3, n - 2);
    return 1;
}

static bool blank(const char *s)
{
    return s[strspn(s, " \t")] == '\0';
}

struct record {
    struct buf text;         /* the fields, each NUL-terminated, one after the other */
    size_t off[MAX_FIELDS];  /* where each starts in text */
    size_t n;                /* fields (may exceed MAX_FIELDS: only the first are kept) */
    long line;               /* the line it starts on */
};

static const char *field(const struct record *r, size_t i)
{
    return i < r->n && i < MAX_FIELDS ? r->text.data + r->off[i] : "";
}

/* Ends the field that started at start; unquoted ones lose their trailing blanks. */
static int end_field(struct record *r, size_t start, bool quoted)
{
    if (!quoted)
        while (r->text.len > start && (r->text.data[r->text.len - 1] == ' ' || r->text.data[r->text.len - 1] == '\t'))
            r->text.data[--r->text.len] = '\0';
    if (r->n < MAX_FIELDS)
        r->off[r->n] = start;
    r->n++;
    return buf_append(&r->text, "", 1);
}

/*
 * Parses one CSV record starting at the current line (in->line, already read),
 * reading more lines while a quoted field is open. Returns 0, 1 for a bad
 * record (err says why; the lines are consumed), -1 for a fatal error (err).
 */
static int parse_record(struct lines *in, struct record *r, char *err, size_t errlen)
{
    enum { START, UNQUOTED, QUOTED, QUOTE } st = START;
    buf_clear(&r->text);
    r->n = 0;
    r->line = in->no;
    size_t start = 0;
    bool quoted = false;
    int rc = 0;
    for (const char *p = in->line; !rc;) {
        char c = *p;
        if (!c) {
            if (st != QUOTED) {
                rc = end_field(r, start, quoted);
                break;
            }
            rc = buf_append(&r->text, "\n", 1);
            int got = rc ? 0 : next_line(in);
            if (got < 0) {
                snprintf(err, errlen, "line %ld: read error: %s", in->no, strerror(errno));
                return -1;
            }
            if (!rc && !got) {
                snprintf(err, errlen, "a quoted field is not closed");
                return 1;
            }
            p = in->line;
            continue;
        }
        p++;
        if (c == ',' && st != QUOTED) {
            rc = end_field(r, start, quoted);
            st = START;
            start = r->text.len;
            quoted = false;
            continue;
        }
        switch (st) {
        case START:
            if (c == '"') {
                st = QUOTED;
                quoted = true;
            } else if (c != ' ' && c != '\t') {
                st = UNQUOTED;
                rc = buf_append(&r->text, &c, 1);
            }
            break;
        case UNQUOTED:
            rc = buf_append(&r->text, &c, 1);
            break;
        case QUOTED:
            if (c == '"')
                st = QUOTE;
            else
                rc = buf_append(&r->text, &c, 1);
            break;
        case QUOTE:
            if (c == '"') {
                st = QUOTED;
                rc = buf_append(&r->text, &c, 1);
            } else if (c != ' ' && c != '\t') {
                st = UNQUOTED; /* "a"b: lenient, kept as ab */
                rc = buf_append(&r->text, &c, 1);
            }
            break;
        }
    }
    if (rc) {
        snprintf(err, errlen, "line %ld: %s", r->line,
                 rc == RG_ETOOBIG ? "a record longer than 1 MiB (a quoted field not closed?)" : "out of memory");
        return -1;
    }
    return 0;
}

/* ---- the columns of Defender's template ---- */

enum col { C_TYPE, C_VALUE, C_ACTION, C_TITLE, C_DESC, C_EXPIRES, C_SEVERITY, C_RECOMMENDED, C_RBAC, C_CATEGORY,
           C_MITRE, C_ALERT, C_COUNT };
static const char *const col_names[C_COUNT] = {
    "indicatorType", "indicatorValue", "action",   "title",    "description",     "expirationTime",
    "severity",      "recommendedActions", "rbacGroups", "category", "mitretechniques", "GenerateAlert"};

static int col_of(const char *name)
{
    for (int c = 0; c < C_COUNT; c++)
        if (!strcasecmp(name, col_names[c]))
            return c;
    if (!strcasecmp(name, "rbacGroupNames"))
        return C_RBAC;
    return -1;
}

/* ---- batches ---- */

struct entry {
    long line;
    char *value; /* owned */
    char *error; /* owned: why it was not sent, or NULL when it was */
};

struct import {
    struct cli *cli;
    const char *type, *action, *title; /* from the options, or NULL */
    bool alert;
    struct buf body;  /* BODY_OPEN and the indicators so far */
    size_t nsent;     /* indicators in body */
    struct entry *e;  /* every line of the batch, in order */
    size_t n, cap;
    size_t imported, failed;
};

static char *dup_text(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* "line L: VALUE: reason" on stderr, control characters of VALUE shown as '?'. */
static void report(long line, const char *value, const char *reason)
{
    fprintf(stderr, "line %ld: ", line);
    if (!*value)
        fputs("(empty)", stderr);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        fputc(*p < ' ' || *p == 0x7f ? '?' : *p, stderr);
    fprintf(stderr, ": %s\n", reason);
}

static void batch_reset(struct import *im)
{
    for (size_t i = 0; i < im->n; i++) {
        free(im->e[i].value);
        free(im->e[i].error);
    }
    im->n = im->nsent = 0;
    buf_clear(&im->body);
    buf_puts(&im->body, BODY_OPEN);
}

/* Sends the batch, reports its failures, and empties it. */
static int flush(struct import *im)
{
    json_t *ans = NULL, *results = NULL;
    int code = CLI_OK;
    if (im->nsent) {
        char msg[1024];
        if (buf_puts(&im->body, "]}"))
            return cli_fail(CLI_EFAIL, "out of memory");
        code = cli_try_raw(im->cli, "POST", IND_IMPORT_PATH, im->body.data, im->body.len, &ans, msg, sizeof msg);
        if (code) {
            cli_fail(code, "%s", msg);
            batch_reset(im);
            return code;
        }
        results = json_object_get(ans, "value");
        if (json_array_size(results) != im->nsent) {
            json_decref(ans);
            batch_reset(im);
            return cli_fail(CLI_EFAIL, "the server answered %zu results for %zu indicators",
                            json_array_size(results), im->nsent);
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < im->n; i++) {
        const struct entry *en = &im->e[i];
        if (en->error) {
            im->failed++;
            report(en->line, en->value, en->error);
            continue;
        }
        const json_t *r = json_array_get(results, k++);
        if (json_is_true(json_object_get(r, "isFailed"))) {
            im->failed++;
            const char *why = json_string_value(json_object_get(r, "failureReason"));
            report(en->line, en->value, why ? why : "refused");
        } else {
            im->imported++;
        }
    }
    json_decref(ans);
    batch_reset(im);
    return CLI_OK;
}

static int add_entry(struct import *im, long line, const char *value, const char *error)
{
    if (im->n == im->cap) {
        size_t cap = im->cap ? im->cap * 2 : 1024;
        struct entry *e = realloc(im->e, cap * sizeof *e);
        if (!e)
            return cli_fail(CLI_EFAIL, "out of memory");
        im->e = e;
        im->cap = cap;
    }
    struct entry *en = &im->e[im->n];
    en->line = line;
    en->value = dup_text(value);
    en->error = error ? dup_text(error) : NULL;
    if (!en->value || (error && !en->error)) {
        free(en->value);
        free(en->error);
        return cli_fail(CLI_EFAIL, "out of memory");
    }
    im->n++;
    return CLI_OK;
}

/* A row that is not sent: reported in order with the batch. */
static int add_failure(struct import *im, long line, const char *value, const char *why)
{
    int code = im->n >= BATCH_MAX ? flush(im) : CLI_OK;
    return code ? code : add_entry(im, line, value, why);
}

/* Adds one indicator (borrowed) to the batch, sending the batch first when it is full. */
static int add_indicator(struct import *im, long line, const char *value, const json_t *ind)
{
    char *text = json_dumps(ind, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text)
        return add_failure(im, line, value, "the row could not be encoded as JSON");
    size_t len = strlen(text);
    int code = CLI_OK;
    if (im->n >= BATCH_MAX || im->body.len + len + 1 > BODY_MAX)
        code = flush(im);
    if (!code && im->body.len + len + 1 > BODY_MAX)
        code = add_entry(im, line, value, "larger than a request may be");
    else if (!code && !(code = add_entry(im, line, value, NULL))) {
        if ((im->nsent && buf_puts(&im->body, ",")) || buf_append(&im->body, text, len))
            code = cli_fail(CLI_EFAIL, "out of memory");
        im->nsent++;
    }
    free(text);
    return code;
}

/* Sets key to the string s; -1 when s is not UTF-8. */
static int set_text(json_t *o, const char *key, const char *s)
{
    json_t *v = json_string(s);
    return v ? json_object_set_new(o, key, v) : -1;
}

/* "a, b,c" as ["a","b","c"]; -1 when not UTF-8. */
static int set_list(json_t *o, const char *key, const char *s)
{
    json_t *arr = json_array();
    while (*s) {
        size_t n = strcspn(s, ",");
        const char *a = s, *b = s + n;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a) {
            json_t *v = json_stringn(a, (size_t)(b - a));
            if (!v) {
                json_decref(arr);
                return -1;
            }
            json_array_append_new(arr, v);
        }
        s += n + (s[n] == ',');
    }
    return json_object_set_new(o, key, arr);
}

/* ---- the two formats ---- */

/* One CSV record as an indicator; NULL with why filled when the row is bad. */
static json_t *csv_indicator(const struct import *im, const struct record *r, const int *where, char *why,
                             size_t whylen)
{
#define CELL(c) (where[c] >= 0 ? field(r, (size_t)where[c]) : "")
    const char *type = *CELL(C_TYPE) ? CELL(C_TYPE) : im->type ? im->type : "";
    const char *action = *CELL(C_ACTION) ? CELL(C_ACTION) : im->action ? im->action : "";
    const char *title = *CELL(C_TITLE) ? CELL(C_TITLE) : im->title ? im->title : "";
    json_t *o = json_object();
    int bad = 0;
    if (*type)
        bad |= set_text(o, "indicatorType", type);
    bad |= set_text(o, "indicatorValue", CELL(C_VALUE));
    if (*action)
        bad |= set_text(o, "action", action);
    if (*title)
        bad |= set_text(o, "title", title);
    bad |= set_text(o, "description", CELL(C_DESC));
    static const struct {
        enum col col;
        const char *key;
    } texts[] = {{C_EXPIRES, "expirationTime"}, {C_SEVERITY, "severity"}, {C_RECOMMENDED, "recommendedActions"},
                 {C_CATEGORY, "category"}};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (*CELL(texts[i].col))
            bad |= set_text(o, texts[i].key, CELL(texts[i].col));
    if (*CELL(C_RBAC))
        bad |= set_list(o, "rbacGroupNames", CELL(C_RBAC));
    if (*CELL(C_MITRE))
        bad |= set_list(o, "mitreTechniques", CELL(C_MITRE));
    const char *ga = CELL(C_ALERT);
    if (bad) {
        snprintf(why, whylen, "not valid UTF-8 text");
    } else if (!*CELL(C_VALUE)) {
        snprintf(why, whylen, "indicatorValue: empty");
        bad = 1;
    } else if (*ga && strcasecmp(ga, "true") && strcasecmp(ga, "false")) {
        snprintf(why, whylen, "GenerateAlert: True or False is expected");
        bad = 1;
    } else if (*ga || im->alert) {
        json_object_set_new(o, "generateAlert", json_boolean(*ga ? !strcasecmp(ga, "true") : im->alert));
    }
#undef CELL
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The header row: where[c] is the field of column c, or -1. Prints the reason (CLI_EFAIL) if it is not usable. */
static int csv_header(const struct record *h, int *where, const char *name)
{
    for (int c = 0; c < C_COUNT; c++)
        where[c] = -1;
    if (h->n > MAX_FIELDS)
        return cli_fail(CLI_EFAIL, "%s: line %ld: more than %d columns", name, h->line, MAX_FIELDS);
    for (size_t i = 0; i < h->n; i++) {
        const char *f = field(h, i);
        if (!*f)
            continue; /* an empty trailing column */
        int c = col_of(f);
        if (c < 0)
            return cli_fail(CLI_EFAIL,
                            "%s: line %ld: unknown column '%s' (Defender's template has indicatorType, indicatorValue, "
                            "action, title, description, expirationTime, severity, recommendedActions, rbacGroups, "
                            "category, mitretechniques, GenerateAlert)",
                            name, h->line, f);
        if (where[c] >= 0)
            return cli_fail(CLI_EFAIL, "%s: line %ld: column '%s' appears twice", name, h->line, col_names[c]);
        where[c] = (int)i;
    }
    return CLI_OK;
}

static int import_csv(struct import *im, struct lines *in, const char *name)
{
    struct record r = {BUF_INIT(RECORD_MAX), {0}, 0, 0};
    int where[C_COUNT];
    char err[512], why[256];
    size_t header_fields;
    int code = CLI_OK;
    int got = parse_record(in, &r, err, sizeof err);
    if (got) {
        code = cli_fail(CLI_EFAIL, "%s: %s", name, err);
        goto out;
    }
    if ((code = csv_header(&r, where, name)))
        goto out;
    header_fields = r.n;
    while (!code && (got = next_line(in)) > 0) {
        if (blank(in->line))
            continue;
        int pr = parse_record(in, &r, err, sizeof err);
        if (pr < 0) {
            flush(im);
            code = cli_fail(CLI_EFAIL, "%s: %s", name, err);
            break;
        }
        const char *value = where[C_VALUE] >= 0 ? field(&r, (size_t)where[C_VALUE]) : "";
        if (pr > 0) {
            code = add_failure(im, r.line, value, err);
        } else if (r.n > header_fields) {
            snprintf(why, sizeof why, "%zu fields, but the header has %zu (quote fields that hold commas)", r.n,
                     header_fields);
            code = add_failure(im, r.line, value, why);
        } else {
            json_t *ind = csv_indicator(im, &r, where, why, sizeof why);
            code = ind ? add_indicator(im, r.line, value, ind) : add_failure(im, r.line, value, why);
            json_decref(ind);
        }
    }
    if (got < 0 && !code)
        code = cli_fail(CLI_EFAIL, "%s: line %ld: read error: %s", name, in->no + 1, strerror(errno));
out:
    buf_release(&r.text);
    return code;
}

static int import_list(struct import *im, struct lines *in, const char *name, const char *deftitle)
{
    int got, code = CLI_OK;
    while (!code && (got = next_line(in)) > 0) {
        char *s = in->line + strspn(in->line, " \t");
        size_t n = strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            s[--n] = '\0';
        if (!n || *s == '#')
            continue;
        const char *type = im->type ? im->type : intel_type_name(intel_guess_type(s));
        json_t *o = json_object();
        int bad = set_text(o, "indicatorType", type) | set_text(o, "indicatorValue", s) |
                  set_text(o, "action", im->action ? im->action : "Block") |
                  set_text(o, "title", im->title ? im->title : deftitle) | set_text(o, "description", "");
        if (im->alert)
            json_object_set_new(o, "generateAlert", json_true());
        code = bad ? add_failure(im, in->no, s, "not valid UTF-8 text") : add_indicator(im, in->no, s, o);
        json_decref(o);
    }
    if (got < 0 && !code)
        code = cli_fail(CLI_EFAIL, "%s: line %ld: read error: %s", name, in->no + 1, strerror(errno));
    return code;
}

/* Does the line name the indicatorValue column (a CSV header)? */
static bool is_header(const char *line)
{
    static const char want[] = "indicatorvalue";
    size_t n = sizeof want - 1;
    if (!strchr(line, ','))
        return false;
    for (const char *p = line; *p; p++)
        if (!strncasecmp(p, want, n))
            return true;
    return false;
}

int ind_import(struct cli *cli, const struct cli_args *a)
{
    const char *path = a->pos[0];
    bool std_in = !strcmp(path, "-");
    const char *name = std_in ? "stdin" : path;
    char deftitle[300];
    if ((size_t)snprintf(deftitle, sizeof deftitle, "Imported from %s", name) >= sizeof deftitle) {
        size_t n = strlen(deftitle); /* cut: drop a last character the cut may have split */
        while (n && ((unsigned char)deftitle[n - 1] & 0xC0) == 0x80)
            deftitle[--n] = '\0';
        if (n && (unsigned char)deftitle[n - 1] >= 0xC0)
            deftitle[--n] = '\0';
    }

    struct lines in = {std_in ? stdin : fopen(path, "rb"), NULL, 0, 0, false};
    if (!in.f)
        return cli_fail(CLI_EFAIL, "%s: %s", path, strerror(errno));
    struct import im = {cli, cli_opt(a, "type"), cli_opt(a, "action"), cli_opt(a, "title"), cli_flag(a, "generate-alert"),
                        BUF_INIT(0), 0, NULL, 0, 0, 0, 0};
    batch_reset(&im);
    int got, code = CLI_OK;
    while ((got = next_line(&in)) > 0 && (blank(in.line) || in.line[strspn(in.line, " \t")] == '#'))
        ;
    if (got < 0) {
        code = cli_fail(CLI_EFAIL, "%s: read error: %s", name, strerror(errno));
    } else if (got > 0) {
        in.pending = true;
        if (is_header(in.line)) {
            next_line(&in);
            code = import_csv(&im, &in, name);
        } else {
            code = import_list(&im, &in, name, deftitle);
        }
        if (!code)
            code = flush(&im);
    }
    if (!std_in)
        fclose(in.f);
    free(in.line);
    batch_reset(&im);
    free(im.e);
    buf_release(&im.body);
    if (got < 0 || (code && !im.imported && !im.failed))
        return code; /* nothing done: the error says it all */
    if (cli->json)
        printf("{\n  \"imported\": %zu,\n  \"failed\": %zu\n}\n", im.imported, im.failed);
    else
        printf("%zu imported, %zu failed\n", im.imported, im.failed);
    if (!code && im.failed)
        code = CLI_EFAIL;
    return code;
}

const struct cli_opt ind_import_opts[] = {
    {"action", CLI_VALUE, "ACTION", "the action (list: of every line, default Block; CSV: of rows without one)",
     ind_actions},
    {"title", CLI_VALUE, "TEXT", "the title (list: default \"Imported from FILE\"; CSV: of rows without one)", NULL},
    {"type", CLI_VALUE, "TYPE", "the indicatorType (list: instead of guessing each line's: IP -> IpAddress, 32/40/64 hex -> FileMd5/FileSha1/"
             "FileSha256, URL with or without scheme -> Url, else DomainName; CSV: of rows without one)",
     ind_types},
    {"generate-alert", CLI_FLAG, NULL, "raise alerts on matches (needed for Audit; CSV: rows without GenerateAlert)",
     NULL},
    CLI_OPT_END,
};
