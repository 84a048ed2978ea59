/*
 * tokens.c: substitution of Intune's app configuration tokens in managed-app
 * configuration values (tokens.h has the rules).
 */
#include "server/policy/tokens.h"

#include <string.h>
#include <strings.h>

#include "common/err.h"

enum tok { T_UPN, T_MAIL, T_PARTIALUPN, T_ACCOUNTID, T_USERID, T_USERNAME, T_SMTP, T_DEVICEID };

static const struct {
    const char *name;
    enum tok tok;
} known[] = {
    {"userprincipalname", T_UPN}, {"mail", T_MAIL},         {"partialupn", T_PARTIALUPN},
    {"accountid", T_ACCOUNTID},   {"userid", T_USERID},     {"username", T_USERNAME},
    {"primarysmtpaddress", T_SMTP}, {"deviceid", T_DEVICEID},
};
#define NKNOWN (sizeof known / sizeof known[0])
#define NAME_MAX_LEN 18 /* "primarysmtpaddress" */

/* The known token at p ("{{name}}"), its length in *len; -1 when p does not start one. */
static int token_at(const char *p, size_t *len)
{
    if (p[0] != '{' || p[1] != '{')
        return -1;
    const char *end = strstr(p + 2, "}}");
    if (!end)
        return -1;
    size_t n = (size_t)(end - (p + 2));
    if (!n || n > NAME_MAX_LEN)
        return -1;
    for (size_t i = 0; i < NKNOWN; i++) {
        if (strlen(known[i].name) == n && !strncasecmp(p + 2, known[i].name, n)) {
            *len = n + 4;
            return (int)known[i].tok;
        }
    }
    return -1;
}

int tokens_present(const char *value)
{
    size_t len;
    for (const char *p = value ? strstr(value, "{{") : NULL; p; p = strstr(p + 1, "{{"))
        if (token_at(p, &len) >= 0)
            return 1;
    return 0;
}

/* The text a token stands for, and its length; "" when the user has no such value. */
static const char *token_value(enum tok t, const struct tokens_ctx *c, size_t *n)
{
    const char *v = NULL;
    switch (t) {
    case T_UPN: v = c->upn; break;
    case T_MAIL: case T_SMTP: v = c->mail; break;
    case T_ACCOUNTID: v = c->account_id; break;
    case T_USERID: v = c->user_id; break;
    case T_USERNAME: v = c->display_name; break;
    case T_DEVICEID: v = c->device_id; break;
    case T_PARTIALUPN: {
        v = c->upn ? c->upn : "";
        const char *at = strrchr(v, '@');
        *n = at ? (size_t)(at - v) : strlen(v);
        return v;
    }
    }
    v = v ? v : "";
    *n = strlen(v);
    return v;
}

int tokens_expand(const char *value, const struct tokens_ctx *ctx, struct buf *out)
{
    size_t start = out->len;
    const char *p = value ? value : "";
    int rc = 0;
    while (!rc && *p) {
        const char *open = strstr(p, "{{");
        size_t len = 0;
        int t = -1;
        /* "{{{mail}}": the first brace is text, the token starts at the next one */
        while (open && (t = token_at(open, &len)) < 0)
            open = strstr(open + 1, "{{");
        if (!open) {
            rc = buf_puts(out, p);
            break;
        }
        size_t n;
        const char *v = token_value((enum tok)t, ctx, &n);
        rc = buf_append(out, p, (size_t)(open - p));
        if (!rc)
            rc = buf_append(out, v, n);
        p = open + len; /* the value is never scanned again */
    }
    if (rc) { /* the buffer keeps what it held before */
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return rc;
}

/* 1 when a customSettings value of the set holds a known token. */
static int set_has_tokens(const json_t *set)
{
    size_t i;
    json_t *kv;
    json_array_foreach(json_object_get(set, "customSettings"), i, kv)
        if (tokens_present(json_string_value(json_object_get(kv, "value"))))
            return 1;
    return 0;
}

int tokens_in_configs(const json_t *configs)
{
    size_t i;
    json_t *set;
    json_array_foreach(configs, i, set)
        if (set_has_tokens(set))
            return 1;
    return 0;
}

/* The set with its values substituted, or a new reference to it when none needs it; NULL when out of memory. */
static json_t *apply_set(json_t *set, const struct tokens_ctx *ctx)
{
    const json_t *cs = json_object_get(set, "customSettings");
    size_t i;
    json_t *kv;
    if (!set_has_tokens(set))
        return json_incref(set);
    json_t *copy = json_copy(set), *list = json_array();
    if (!copy || !list || json_object_set_new(copy, "customSettings", list)) {
        json_decref(copy);
        return NULL;
    }
    struct buf b = BUF_INIT(TOKENS_VALUE_MAX);
    json_array_foreach(cs, i, kv) {
        const char *v = json_string_value(json_object_get(kv, "value"));
        json_t *item = kv;
        buf_clear(&b);
        if (tokens_present(v) && !tokens_expand(v, ctx, &b)) {
            item = json_copy(kv);
            if (!item || json_object_set_new(item, "value", json_stringn(buf_str(&b), b.len))) {
                json_decref(item);
                item = NULL;
            }
        } else {
            json_incref(item); /* nothing to substitute, or too long: delivered raw */
        }
        if (!item || json_array_append_new(list, item)) {
            buf_release(&b);
            json_decref(copy);
            return NULL;
        }
    }
    buf_release(&b);
    return copy;
}

int tokens_apply(const json_t *configs, const struct tokens_ctx *ctx, json_t **out)
{
    json_t *res = json_array();
    size_t i;
    json_t *set;
    if (!res)
        return RG_ENOMEM;
    json_array_foreach(configs, i, set) {
        if (json_array_append_new(res, apply_set(set, ctx))) {
            json_decref(res);
            return RG_ENOMEM;
        }
    }
    *out = res;
    return 0;
}
