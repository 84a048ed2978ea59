/*
 * call.c: how CLI commands talk to the API: one call with the server's error
 * turned into an exit code and a message, whole collections, paths and query
 * strings, resolving user and group names to ids, and reading JSON files.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/err.h"
#include "common/util.h"

#define MAX_INPUT_FILE (1u << 20) /* the server's own request limit */

int cli_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("riskgate: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

int cli_usage(struct cli *cli, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("riskgate: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (cli->group)
        cli_print_usage(stderr, cli->group, cli->cmd);
    return CLI_EUSAGE;
}

static int code_of_status(long status)
{
    if (status >= 200 && status <= 299)
        return CLI_OK;
    if (status == 401 || status == 403)
        return CLI_EAUTH;
    if (status == 404)
        return CLI_ENOTFOUND;
    return CLI_EFAIL;
}

/* The reason of a failed answer: the server's error.message, else the status and the start of the body. */
static void answer_reason(const struct client_response *r, char *msg, size_t msglen)
{
    const json_t *e = json_object_get(r->json, "error");
    const char *m = json_string_value(json_object_get(e, "message"));
    if (m && *m) {
        snprintf(msg, msglen, "%s", m);
        return;
    }
    const char *body = buf_str(&r->body);
    size_t n = strcspn(body, "\r\n");
    if (n > 200)
        n = 200;
    snprintf(msg, msglen, "the server answered HTTP %ld%s%.*s", r->status, n ? ": " : "", (int)n, body);
}

static int transport_code(struct cli *cli, int rc, const struct client_response *r, char *msg, size_t msglen)
{
    if (rc == RG_EIO) {
        snprintf(msg, msglen, "cannot reach the server at %s: %s", cli->url, r->error);
        return CLI_ECONNECT;
    }
    snprintf(msg, msglen, "%s", r->error[0] ? r->error : rg_err_name(rc));
    return CLI_EFAIL;
}

/* The exit code and message of a finished client_request/client_send; *out gets a 2xx answer. */
static int answer_code(struct cli *cli, int rc, struct client_response *r, json_t **out, char *msg, size_t msglen)
{
    int code;
    if (out)
        *out = NULL;
    if (rc) {
        code = transport_code(cli, rc, r, msg, msglen);
    } else {
        code = code_of_status(r->status);
        if (code)
            answer_reason(r, msg, msglen);
        else if (out)
            *out = json_incref(r->json);
        if (r->status == 401 && !cli->client.auth_header) {
            size_t n = strlen(msg);
            snprintf(msg + n, msglen - n, " (no API key given: use --token-file, --token or RISKGATE_TOKEN)");
        }
    }
    client_response_release(r);
    return code;
}

int cli_try(struct cli *cli, const char *method, const char *path, const json_t *body, json_t **out, char *msg,
            size_t msglen)
{
    struct client_response r = CLIENT_RESPONSE_INIT;
    int rc = client_request(&cli->client, method, path, body, &r);
    return answer_code(cli, rc, &r, out, msg, msglen);
}

int cli_try_raw(struct cli *cli, const char *method, const char *path, const char *payload, size_t len, json_t **out,
                char *msg, size_t msglen)
{
    struct client_response r = CLIENT_RESPONSE_INIT;
    int rc = client_send(&cli->client, method, path, payload, len, &r);
    return answer_code(cli, rc, &r, out, msg, msglen);
}

int cli_call(struct cli *cli, const char *method, const char *path, const json_t *body, json_t **out)
{
    char msg[1024];
    int code = cli_try(cli, method, path, body, out, msg, sizeof msg);
    if (code)
        cli_fail(code, "%s", msg);
    return code;
}

int cli_list(struct cli *cli, const char *path, json_t **answer)
{
    struct client_response r = CLIENT_RESPONSE_INIT;
    json_t *items = NULL;
    char msg[1024];
    int code = CLI_OK;
    *answer = NULL;
    int rc = client_get_all(&cli->client, path, &items, &r);
    if (rc) {
        code = transport_code(cli, rc, &r, msg, sizeof msg);
    } else if ((code = code_of_status(r.status))) {
        answer_reason(&r, msg, sizeof msg);
    } else {
        json_t *o = json_object();
        const json_t *ctx = json_object_get(r.json, "@odata.context");
        if (ctx)
            json_object_set(o, "@odata.context", (json_t *)ctx);
        json_object_set_new(o, "value", items);
        items = NULL;
        *answer = o;
    }
    json_decref(items);
    client_response_release(&r);
    if (code)
        cli_fail(code, "%s", msg);
    return code;
}

int cli_list_pages(struct cli *cli, const char *path, int (*on_page)(void *ud, const json_t *page), void *ud)
{
    char msg[1024];
    char *next = malloc(strlen(path) + 1);
    if (!next)
        return cli_fail(CLI_EFAIL, "out of memory");
    memcpy(next, path, strlen(path) + 1);
    int code = CLI_OK;
    for (long pages = 0; !code; pages++) {
        json_t *page = NULL;
        if ((code = cli_try(cli, "GET", next, NULL, &page, msg, sizeof msg))) {
            cli_fail(code, "%s", msg);
            break;
        }
        if (!json_is_array(json_object_get(page, "value"))) {
            json_decref(page);
            code = cli_fail(CLI_EFAIL, "the answer is not a collection (no \"value\" array)");
            break;
        }
        code = on_page(ud, page);
        const char *link = json_string_value(json_object_get(page, "@odata.nextLink"));
        char *n = link && !code ? client_rebase(&cli->client, link) : NULL;
        json_decref(page);
        if (code || !link) {
            free(n);
            break;
        }
        if (!n || !strcmp(n, next) || pages + 1 >= CLIENT_MAX_PAGES) {
            code = cli_fail(CLI_EFAIL, "the collection's @odata.nextLink %s", n ? "does not advance" : "is not a URL");
            free(n);
            break;
        }
        free(next);
        next = n;
    }
    free(next);
    return code;
}

int cli_graph_path(struct cli *cli, char *out, size_t outlen, const char *fmt, ...)
{
    int n = snprintf(out, outlen, "/%s/", cli->api);
    va_list ap;
    va_start(ap, fmt);
    int m = n < 0 || (size_t)n >= outlen ? -1 : vsnprintf(out + n, outlen - (size_t)n, fmt, ap);
    va_end(ap);
    if (m < 0 || (size_t)m >= outlen - (size_t)n)
        return cli_usage(cli, "an argument is too long");
    return CLI_OK;
}

int cli_check_id(struct cli *cli, const char *what, const char *id)
{
    size_t n = strlen(id);
    if (!n || n > 512)
        return cli_usage(cli, "%s: 1 to 512 characters are needed", what);
    for (const char *p = id; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c >= 0x7f || strchr("/?#%\\\"<>`{}|^[]", c))
            return cli_usage(cli, "%s '%s': the character '%c' cannot be part of an id", what, id, c);
    }
    return CLI_OK;
}

int cli_escape(const char *s, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                     strchr("-_.~", *p);
        if (o + (plain ? 1 : 3) >= outlen)
            return -1;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    if (o >= outlen)
        return -1;
    out[o] = '\0';
    return 0;
}

int cli_filter_eq(const char *prop, const char *value, char *out, size_t outlen)
{
    struct buf f = BUF_INIT(4096);
    int rc = buf_printf(&f, "%s eq '", prop);
    for (const char *p = value; !rc && *p; p++)
        rc = *p == '\'' ? buf_puts(&f, "''") : buf_append(&f, p, 1); /* OData doubles a quote */
    if (!rc)
        rc = buf_puts(&f, "'");
    int n = rc ? -1 : snprintf(out, outlen, "$filter=");
    if (n < 0 || (size_t)n >= outlen || cli_escape(buf_str(&f), out + n, outlen - (size_t)n))
        rc = -1;
    buf_release(&f);
    return rc ? -1 : 0;
}

int cli_resolve_user(struct cli *cli, const char *id_or_upn, char *id_out, size_t idlen)
{
    int code = cli_check_id(cli, "user", id_or_upn);
    if (code)
        return code;
    if (!strchr(id_or_upn, '@')) {
        snprintf(id_out, idlen, "%s", id_or_upn);
        return CLI_OK;
    }
    char path[1024];
    json_t *u = NULL;
    if ((code = cli_graph_path(cli, path, sizeof path, "users/%s", id_or_upn)) ||
        (code = cli_call(cli, "GET", path, NULL, &u)))
        return code;
    const char *id = json_string_value(json_object_get(u, "id"));
    if (!id || (size_t)snprintf(id_out, idlen, "%s", id) >= idlen)
        code = cli_fail(CLI_EFAIL, "the server's answer for user '%s' has no usable id", id_or_upn);
    json_decref(u);
    return code;
}

int cli_resolve_group(struct cli *cli, const char *id_or_name, char *id_out, size_t idlen)
{
    if (util_is_uuid(id_or_name)) {
        snprintf(id_out, idlen, "%s", id_or_name);
        return CLI_OK;
    }
    char q[1024], path[1200];
    json_t *ans = NULL;
    int code;
    if (cli_filter_eq("displayName", id_or_name, q, sizeof q))
        return cli_usage(cli, "group name too long: '%s'", id_or_name);
    if ((code = cli_graph_path(cli, path, sizeof path, "groups?%s", q)) || (code = cli_list(cli, path, &ans)))
        return code;
    json_t *v = json_object_get(ans, "value");
    size_t n = json_array_size(v);
    if (n == 0)
        code = cli_fail(CLI_ENOTFOUND, "no group has the id or name '%s'", id_or_name);
    else if (n > 1)
        code = cli_fail(CLI_EFAIL, "%zu groups are named '%s'; give the group's id instead", n, id_or_name);
    else if ((size_t)snprintf(id_out, idlen, "%s", cli_str(json_array_get(v, 0), "id")) >= idlen || !*id_out)
        code = cli_fail(CLI_EFAIL, "the server's answer for group '%s' has no usable id", id_or_name);
    json_decref(ans);
    return code;
}

int cli_read_json_file(const char *path, json_t **out)
{
    *out = NULL;
    bool std_in = !strcmp(path, "-");
    FILE *f = std_in ? stdin : fopen(path, "rb");
    if (!f)
        return cli_fail(CLI_EFAIL, "%s: %s", path, strerror(errno));
    struct buf b = BUF_INIT(MAX_INPUT_FILE);
    char chunk[65536];
    size_t n;
    int rc = 0;
    while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = buf_append(&b, chunk, n);
    bool bad = ferror(f);
    if (!std_in)
        fclose(f);
    int code = CLI_OK;
    if (rc || bad) {
        code = cli_fail(CLI_EFAIL, "%s: %s", std_in ? "stdin" : path,
                        rc == RG_ETOOBIG ? "larger than 1 MiB" : rc ? "out of memory" : "read error");
    } else {
        const char *p = buf_str(&b);
        size_t len = b.len;
        if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) {
            p += 3;
            len -= 3;
        }
        json_error_t jerr;
        json_t *v = json_loadb(p, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!v)
            code = cli_fail(CLI_EFAIL, "%s: not valid JSON (line %d, column %d): %s", std_in ? "stdin" : path, jerr.line,
                            jerr.column, jerr.text);
        else if (!json_is_object(v))
            code = cli_fail(CLI_EFAIL, "%s: a JSON object is expected", std_in ? "stdin" : path);
        if (code)
            json_decref(v);
        else
            *out = v;
    }
    buf_release(&b);
    return code;
}

int cli_set_prop(struct cli *cli, json_t *obj, const char *assignment, bool value_as_json)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return cli_usage(cli, "--set '%s': NAME=VALUE expected", assignment);
    size_t n = (size_t)(eq - assignment);
    char name[256];
    if (n >= sizeof name)
        return cli_usage(cli, "--set: the name is too long");
    memcpy(name, assignment, n);
    name[n] = '\0';
    json_t *v = value_as_json ? json_loads(eq + 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!v)
        v = json_string(eq + 1);
    if (!v)
        return cli_usage(cli, "--set %s: the value is not valid UTF-8", name);
    json_object_set_new(obj, name, v);
    return CLI_OK;
}
