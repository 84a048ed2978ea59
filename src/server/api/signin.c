/* signin.c: password checks on the worker pool (signin.h). */
#include "server/api/signin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "server/api/api.h"
#include "server/work.h"

#define SIGNIN_WAIT_SECONDS 30 /* a check still queued after this answers 503 */

/* the same work whether or not the user exists */
static const char dummy_hash[] = "$scrypt$ln=15,r=8,p=1$00000000000000000000000000000000$"
                                 "0000000000000000000000000000000000000000000000000000000000000000";

static void signin_free(struct signin *s)
{
    json_decref(s->body);
    json_decref(s->user);
    OPENSSL_cleanse(s->password, sizeof s->password);
    OPENSSL_cleanse(s->hash, sizeof s->hash);
    free(s);
}

/* On a worker: only the copies in s. */
static void verify_run(void *arg)
{
    struct signin *s = arg;
    s->ok = password_verify(s->password, s->has_hash ? s->hash : dummy_hash) && s->has_hash;
    OPENSSL_cleanse(s->password, sizeof s->password);
}

static void answer_unavailable(struct http_pending *p, const char *request_id, const char *client_id)
{
    struct http_response r = {.body = BUF_INIT(HTTP_RESPONSE_CAP)};
    snprintf(r.request_id, sizeof r.request_id, "%s", request_id);
    snprintf(r.client_request_id, sizeof r.client_request_id, "%s", client_id);
    http_error(&r, 503, "ServiceUnavailable", "The sign-in could not be checked now; retry.");
    http_pending_finish(p, r.status, buf_str(&r.body), r.body.len);
    buf_release(&r.body);
}

/* On the loop. */
static void verify_done(void *arg, int cancelled)
{
    struct signin *s = arg;
    if (s->pending && cancelled) {
        answer_unavailable(s->pending, s->request_id, s->client_request_id);
    } else if (s->pending) {
        struct http_response r = {.status = 200, .content_type = "application/json", .body = BUF_INIT(HTTP_RESPONSE_CAP)};
        snprintf(r.request_id, sizeof r.request_id, "%s", s->request_id);
        snprintf(r.client_request_id, sizeof r.client_request_id, "%s", s->client_request_id);
        s->finish(s, &r);
        http_pending_finish(s->pending, r.status, buf_str(&r.body), r.body.len);
        buf_release(&r.body);
    }
    signin_free(s);
}

static void on_timeout(void *app, struct http_pending *p, void *data)
{
    (void)app;
    struct signin *s = data;
    s->pending = NULL; /* the job still owns s: verify_done frees it */
    answer_unavailable(p, s->request_id, s->client_request_id);
}

static void on_cancel(void *app, struct http_pending *p, void *data)
{
    (void)app;
    (void)p;
    struct signin *s = data;
    s->pending = NULL;
}

int api_signin_start(struct app *app, struct http_request *req, struct http_response *res, const char *password,
                     json_t *body, json_t *user, const char *tid, const char *tenant,
                     void (*finish)(struct signin *s, struct http_response *res))
{
    struct signin *s = calloc(1, sizeof *s);
    if (!s) {
        json_decref(body);
        json_decref(user);
        api_fail(res, RG_ENOMEM, "sign-in");
        return -1;
    }
    s->app = app;
    s->body = body;
    s->user = user;
    s->finish = finish;
    snprintf(s->tid, sizeof s->tid, "%s", tid ? tid : "");
    snprintf(s->tenant, sizeof s->tenant, "%s", tenant ? tenant : "");
    snprintf(s->password, sizeof s->password, "%s", password);
    const char *h = user ? json_string_value(json_object_get(user, "passwordHash")) : NULL;
    if (h && strlen(h) < sizeof s->hash) {
        memcpy(s->hash, h, strlen(h) + 1);
        s->has_hash = 1;
    }
    snprintf(s->request_id, sizeof s->request_id, "%s", res->request_id);
    snprintf(s->client_request_id, sizeof s->client_request_id, "%s", res->client_request_id);
    if (!app->work) {
        /* no pool (tests that build an app by hand): check inline */
        verify_run(s);
        s->finish(s, res);
        signin_free(s);
        return 0;
    }
    s->pending = http_suspend(req, res, SIGNIN_WAIT_SECONDS, on_timeout, on_cancel, s);
    if (!s->pending) {
        signin_free(s);
        return -1;
    }
    if (work_submit(app->work, verify_run, verify_done, s)) {
        /* the request stays suspended: answer it now, as finished */
        answer_unavailable(s->pending, s->request_id, s->client_request_id);
        signin_free(s);
    }
    return 0;
}
