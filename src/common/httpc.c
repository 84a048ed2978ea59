/* httpc.c: the libcurl client to riskgated shared by the agent and libriskgate (httpc.h). */
#include "common/httpc.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/err.h"


int httpc_init(struct httpc_client *hc, const char *base_url, const char *token, const char *user_agent)
{
    memset(hc, 0, sizeof *hc);
    if (!base_url || (strncasecmp(base_url, "http://", 7) && strncasecmp(base_url, "https://", 8)))
        return RG_EINVAL;
    const char *auth = base_url + (base_url[4] == ':' ? 7 : 8);
    if (!*auth || *auth == '/')
        return RG_EINVAL;
    hc->base = strdup(base_url);
    if (!hc->base)
        return RG_ENOMEM;
    size_t n = strlen(hc->base);
    while (n && hc->base[n - 1] == '/')
        hc->base[--n] = '\0';
    if (token && *token) {
        struct buf h = BUF_INIT(0);
        if (buf_printf(&h, "Authorization: Bearer %s", token)) {
            buf_release(&h);
            httpc_release(hc);
            return RG_ENOMEM;
        }
        hc->auth = buf_detach(&h);
    }
    snprintf(hc->ua, sizeof hc->ua, "%s", user_agent ? user_agent : "riskgate");
    hc->curl = curl_easy_init();
    if (!hc->curl) {
        httpc_release(hc);
        return RG_ENOMEM;
    }
    return 0;
}

void httpc_release(struct httpc_client *hc)
{
    if (!hc)
        return;
    if (hc->curl)
        curl_easy_cleanup(hc->curl);
    curl_slist_free_all(hc->resolve);
    free(hc->base);
    if (hc->auth) {
        OPENSSL_cleanse(hc->auth, strlen(hc->auth));
        free(hc->auth);
    }
    memset(hc, 0, sizeof *hc);
}

int httpc_set_resolve(struct httpc_client *hc, const char *entry)
{
    struct curl_slist *l = NULL;
    if (entry && !(l = curl_slist_append(NULL, entry)))
        return RG_ENOMEM;
    curl_slist_free_all(hc->resolve);
    hc->resolve = l;
    return 0;
}

int httpc_resolve_entry(const char *base_url, const char *addr, char *out, size_t n, char *host, size_t hostlen)
{
    if (n)
        out[0] = '\0';
    if (host && hostlen)
        host[0] = '\0';
    if (!base_url || (strncasecmp(base_url, "http://", 7) && strncasecmp(base_url, "https://", 8)))
        return RG_EINVAL;
    bool tls = base_url[4] != ':';
    const char *h = base_url + (tls ? 8 : 7);
    size_t hl = strcspn(h, "/?#");
    const char *at = memchr(h, '@', hl); /* userinfo: not ours to keep */
    if (at) {
        hl -= (size_t)(at + 1 - h);
        h = at + 1;
    }
    if (!hl)
        return RG_EINVAL;
    if (h[0] == '[') /* a v6 literal */
        return memchr(h, ']', hl) ? 1 : RG_EINVAL;
    const char *colon = memchr(h, ':', hl);
    size_t namelen = colon ? (size_t)(colon - h) : hl;
    char name[256], port[8];
    if (!namelen || namelen >= sizeof name)
        return RG_EINVAL;
    memcpy(name, h, namelen);
    name[namelen] = '\0';
    if (colon) {
        size_t pl = hl - namelen - 1;
        if (!pl || pl >= sizeof port || strspn(colon + 1, "0123456789") < pl)
            return RG_EINVAL;
        memcpy(port, colon + 1, pl);
        port[pl] = '\0';
    } else {
        snprintf(port, sizeof port, "%s", tls ? "443" : "80");
    }
    unsigned char bin[16];
    if (inet_pton(AF_INET, name, bin) == 1)
        return 1;
    if (host && hostlen)
        snprintf(host, hostlen, "%s", name);
    bool v6 = addr && inet_pton(AF_INET6, addr, bin) == 1;
    if (!addr || (!v6 && inet_pton(AF_INET, addr, bin) != 1))
        return RG_EINVAL;
    int k = snprintf(out, n, v6 ? "%s:%s:[%s]" : "%s:%s:%s", name, port, addr);
    if (k < 0 || (size_t)k >= n) {
        if (n)
            out[0] = '\0';
        return RG_EINVAL;
    }
    return 0;
}

void httpc_answer_release(struct httpc_answer *a)
{
    json_decref(a->json);
    a->json = NULL;
    a->status = 0;
    a->error[0] = '\0';
}

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct httpc_sink *s = ud;
    s->rc = buf_append(s->b, p, size * n);
    return s->rc ? 0 : size * n;
}

/* Frees a header list, wiping each line first (one holds the credential). */
static void free_headers(struct curl_slist *h)
{
    for (struct curl_slist *t = h; t; t = t->next)
        if (t->data)
            OPENSSL_cleanse(t->data, strlen(t->data));
    curl_slist_free_all(h);
}

/*
 * The options every request shares, on a fresh or reset handle. sk, errbuf and
 * payload must outlive the transfer. Returns the header list to free with
 * free_headers after it (NULL is possible: then no extra header is sent).
 */
static struct curl_slist *setup(CURL *c, const struct httpc_client *hc, const char *method, const char *url,
                                const char *payload, struct httpc_sink *sk, char *errbuf, long timeout_s)
{
    struct curl_slist *hdr = NULL, *t;
    if ((t = curl_slist_append(hdr, "Accept: application/json")))
        hdr = t;
    if (payload && (t = curl_slist_append(hdr, "Content-Type: application/json")))
        hdr = t;
    if (hc->auth && (t = curl_slist_append(hdr, hc->auth)))
        hdr = t;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_USERAGENT, hc->ua);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, hc->connect_timeout_s > 0 ? hc->connect_timeout_s
                                                                           : HTTPC_CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sk);
    if (!strcmp(method, "GET")) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload ? payload : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(payload ? strlen(payload) : 0));
    }
    return hdr;
}

/* The answer of a finished transfer, and the code of the device API's mapping (http.h). */
static int result(CURL *c, CURLcode cc, int sink_rc, const struct buf *resp, const char *errbuf, const char *base,
                  struct httpc_answer *a)
{
    int rc = 0;
    if (cc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
        if (resp->len)
            a->json = json_loadb(buf_str(resp), resp->len, 0, NULL);
        if (a->status < 200 || a->status > 299) {
            const char *msg = json_string_value(json_object_get(json_object_get(a->json, "error"), "message"));
            snprintf(a->error, sizeof a->error, "the server answered HTTP %ld%s%s", a->status, msg ? ": " : "",
                     msg ? msg : "");
            rc = a->status == 401   ? RG_EAUTH
                 : a->status == 403 ? RG_EPERM
                 : a->status == 404 ? RG_ENOTFOUND
                                    : RG_EINVAL;
        }
    } else if (cc == CURLE_WRITE_ERROR && sink_rc) {
        rc = sink_rc;
        snprintf(a->error, sizeof a->error, "%s",
                 rc == RG_ETOOBIG ? "the server's answer is too large" : "out of memory");
    } else {
        rc = RG_EIO;
        snprintf(a->error, sizeof a->error, "cannot reach %s: %s", base, errbuf[0] ? errbuf : curl_easy_strerror(cc));
    }
    return rc;
}

int httpc_call(struct httpc_client *hc, const char *method, const char *path, const json_t *body, struct httpc_answer *a)
{
    httpc_answer_release(a);
    struct buf url = BUF_INIT(0), resp = BUF_INIT(HTTPC_MAX_ANSWER);
    char *payload = NULL;
    if (buf_printf(&url, "%s%s", hc->base, path) ||
        (body && !(payload = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER)))) {
        buf_release(&url);
        snprintf(a->error, sizeof a->error, "out of memory");
        return RG_ENOMEM;
    }
    CURL *c = hc->curl;
    curl_easy_reset(c);
    char errbuf[CURL_ERROR_SIZE] = "";
    struct httpc_sink sk = {&resp, 0};
    struct curl_slist *hdr =
        setup(c, hc, method, buf_str(&url), payload, &sk, errbuf, hc->timeout_s > 0 ? hc->timeout_s : HTTPC_TIMEOUT_S);
    if (hc->resolve)
        curl_easy_setopt(c, CURLOPT_RESOLVE, (struct curl_slist *)hc->resolve);
    CURLcode cc = curl_easy_perform(c);
    int rc = result(c, cc, sk.rc, &resp, errbuf, hc->base, a);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_RESOLVE, NULL);
    free_headers(hdr);
    buf_release(&resp);
    buf_release(&url);
    if (payload) /* the activation body carries a password */
        OPENSSL_cleanse(payload, strlen(payload));
    free(payload);
    return rc;
}

int httpc_async_prepare(struct httpc_client *hc, struct httpc_async *x, const char *path, long timeout_s)
{
    memset(x, 0, sizeof *x);
    x->url = (struct buf)BUF_INIT(0);
    x->resp = (struct buf)BUF_INIT(HTTPC_MAX_ANSWER);
    if (buf_printf(&x->url, "%s%s", hc->base, path) || !(x->base = strdup(hc->base)) || !(x->curl = curl_easy_init())) {
        httpc_async_release(x);
        return RG_ENOMEM;
    }
    x->sink = (struct httpc_sink){&x->resp, 0};
    x->hdr = setup(x->curl, hc, "GET", buf_str(&x->url), NULL, &x->sink, x->errbuf, timeout_s);
    if (hc->resolve) { /* a copy: the client's pin may change while this transfer runs */
        const struct curl_slist *r = hc->resolve;
        if (!(x->resolve = curl_slist_append(NULL, r->data))) {
            httpc_async_release(x);
            return RG_ENOMEM;
        }
        curl_easy_setopt(x->curl, CURLOPT_RESOLVE, x->resolve);
    }
    curl_easy_setopt(x->curl, CURLOPT_PRIVATE, x);
    return 0;
}

int httpc_async_result(struct httpc_async *x, int curlcode, struct httpc_answer *a)
{
    httpc_answer_release(a);
    return result(x->curl, (CURLcode)curlcode, x->sink.rc, &x->resp, x->errbuf, x->base ? x->base : "", a);
}

void httpc_async_release(struct httpc_async *x)
{
    if (x->curl)
        curl_easy_cleanup(x->curl);
    free_headers(x->hdr);
    curl_slist_free_all(x->resolve);
    free(x->base);
    buf_release(&x->url);
    buf_release(&x->resp);
    memset(x, 0, sizeof *x);
}
