/* client.c: the CLI's HTTP client over libcurl (client.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "cli/client.h"
#include "common/err.h"

#define USER_AGENT "riskgate-cli"

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* Length of "scheme://authority" at the start of url, or 0 if url is not http(s). */
static size_t origin_length(const char *url)
{
    size_t skip;
    if (!strncasecmp(url, "http://", 7))
        skip = 7;
    else if (!strncasecmp(url, "https://", 8))
        skip = 8;
    else
        return 0;
    const char *slash = strchr(url + skip, '/');
    size_t n = slash ? (size_t)(slash - url) : strlen(url);
    return n > skip ? n : 0;
}

int client_init(struct client *c, const char *base_url, const char *token)
{
    memset(c, 0, sizeof *c);
    size_t olen = base_url ? origin_length(base_url) : 0;
    if (!olen)
        return RG_EINVAL;
    c->base = dup_str(base_url);
    if (!c->base)
        return RG_ENOMEM;
    size_t n = strlen(c->base);
    while (n > olen && c->base[n - 1] == '/')
        c->base[--n] = '\0';
    c->origin_len = olen;
    if (token && *token) {
        struct buf h = BUF_INIT(0);
        if (buf_printf(&h, "Authorization: Bearer %s", token)) {
            buf_release(&h);
            client_release(c);
            return RG_ENOMEM;
        }
        c->auth_header = buf_detach(&h);
    }
    c->curl = curl_easy_init();
    if (!c->curl) {
        client_release(c);
        return RG_ENOMEM;
    }
    return 0;
}

void client_release(struct client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->base);
    if (c->auth_header) {
        /* do not leave the key in freed memory */
        volatile char *p = c->auth_header;
        while (*p)
            *p++ = '\0';
        free(c->auth_header);
    }
    memset(c, 0, sizeof *c);
}

void client_response_release(struct client_response *out)
{
    json_decref(out->json);
    out->json = NULL;
    buf_release(&out->body);
    out->status = 0;
    out->error[0] = '\0';
}

struct sink {
    struct buf *body;
    int rc; /* the first buf_append failure */
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    size_t len = size * n;
    s->rc = buf_append(s->body, p, len);
    return s->rc ? 0 : len;
}

/* The full URL of a target into a new buffer, or NULL with out->error filled. */
static char *target_url(const struct client *c, const char *target, struct client_response *out, int *rc)
{
    struct buf url = BUF_INIT(0);
    size_t tol = origin_length(target);
    if (target[0] == '/') {
        *rc = buf_printf(&url, "%s%s", c->base, target);
    } else if (tol && tol == c->origin_len && !strncasecmp(target, c->base, tol)) {
        *rc = buf_puts(&url, target);
    } else {
        snprintf(out->error, sizeof out->error, "refusing to send the API key to another origin");
        *rc = RG_EINVAL;
        return NULL;
    }
    if (*rc) {
        snprintf(out->error, sizeof out->error, "out of memory");
        buf_release(&url);
        return NULL;
    }
    return buf_detach(&url);
}

int client_request(struct client *c, const char *method, const char *target, const json_t *body,
                   struct client_response *out)
{
    if (!body)
        return client_send(c, method, target, NULL, 0, out);
    char *payload = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!payload) {
        client_response_release(out);
        snprintf(out->error, sizeof out->error, "the request body could not be encoded");
        return RG_ENOMEM;
    }
    size_t len = strlen(payload);
    int rc = client_send(c, method, target, payload, len, out);
    for (volatile char *p = payload; len--;) /* it may hold a password */
        *p++ = '\0';
    free(payload);
    return rc;
}

int client_send(struct client *c, const char *method, const char *target, const char *payload, size_t len,
                struct client_response *out)
{
    client_response_release(out);
    if (!out->body.cap)
        out->body.cap = CLIENT_MAX_RESPONSE;
    int rc = 0;
    char *url = target_url(c, target, out, &rc);
    if (!url)
        return rc;
    CURL *curl = c->curl;
    curl_easy_reset(curl);
    struct curl_slist *headers = NULL, *h;
    h = curl_slist_append(headers, "Accept: application/json");
    if (h)
        headers = h;
    if (payload && (h = curl_slist_append(headers, "Content-Type: application/json")))
        headers = h;
    if (payload && (h = curl_slist_append(headers, "Expect:"))) /* no 100-continue round trip for large bodies */
        headers = h;
    if (c->auth_header && (h = curl_slist_append(headers, c->auth_header)))
        headers = h;
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, CLIENT_CONNECT_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, CLIENT_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    struct sink sink = {&out->body, 0};
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    if (!strcmp(method, "GET")) {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
        if (payload || strcmp(method, "DELETE")) {
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload ? payload : "");
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(payload ? len : 0));
        }
    }
    CURLcode cc = curl_easy_perform(curl);
    if (cc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
        if (out->body.len) {
            const char *p = buf_str(&out->body);
            size_t n = out->body.len;
            if (n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) {
                p += 3;
                n -= 3;
            }
            out->json = json_loadb(p, n, 0, NULL);
        }
    } else if (cc == CURLE_WRITE_ERROR && sink.rc) {
        if (sink.rc == RG_ETOOBIG)
            snprintf(out->error, sizeof out->error, "the answer is larger than %zu MiB", out->body.cap >> 20);
        else
            snprintf(out->error, sizeof out->error, "out of memory");
        rc = sink.rc;
    } else {
        snprintf(out->error, sizeof out->error, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
        rc = RG_EIO;
    }
    /* the URL and the error buffer are only borrowed by the handle */
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(headers);
    free(url);
    return rc;
}

char *client_rebase(const struct client *c, const char *link)
{
    struct buf b = BUF_INIT(0);
    size_t ol = origin_length(link);
    int rc;
    if (!ol)
        rc = link[0] == '/' ? buf_puts(&b, link) : RG_EINVAL;
    else if (ol == c->origin_len && !strncasecmp(link, c->base, ol))
        rc = buf_puts(&b, link);
    else
        rc = buf_printf(&b, "%.*s%s", (int)c->origin_len, c->base, link[ol] ? link + ol : "/");
    if (rc) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b);
}

int client_get_all(struct client *c, const char *target, json_t **items, struct client_response *out)
{
    *items = NULL;
    json_t *all = json_array();
    char *next = dup_str(target);
    int rc = all && next ? 0 : RG_ENOMEM;
    for (long pages = 0; !rc; pages++) {
        rc = client_request(c, "GET", next, NULL, out);
        if (rc || out->status < 200 || out->status > 299)
            break;
        json_t *value = json_object_get(out->json, "value");
        if (!json_is_array(value) || json_array_extend(all, value)) {
            snprintf(out->error, sizeof out->error, "the answer is not a collection (no \"value\" array)");
            rc = RG_EINVAL;
            break;
        }
        const char *link = json_string_value(json_object_get(out->json, "@odata.nextLink"));
        if (!link) {
            *items = all;
            all = NULL;
            break;
        }
        char *n = client_rebase(c, link);
        if (!n || !strcmp(n, next) || pages + 1 >= CLIENT_MAX_PAGES) {
            snprintf(out->error, sizeof out->error, "the collection's @odata.nextLink %s",
                     n ? "does not advance" : "is not a URL");
            free(n);
            rc = RG_EINVAL;
            break;
        }
        free(next);
        next = n;
    }
    if (rc == RG_ENOMEM && !out->error[0])
        snprintf(out->error, sizeof out->error, "out of memory");
    json_decref(all);
    free(next);
    return rc;
}
