/* signin.c: password checks on the worker pool (signin.h). */
#include "server/api/signin.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "server/api/api.h"
#include "server/ratelimit.h"
#include "server/work.h"

#define SIGNIN_WAIT_SECONDS 30 /* a check still queued after this answers 503 */

/* the same work whether or not the user exists */
static const char dummy_hash[] = "$scrypt$ln=15,r=8,p=1$00000000000000000000000000000000$"
                                 "0000000000000000000000000000000000000000000000000000000000000000";

static void refund(struct signin *s);

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
    if (s->ok)
        refund(s);
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

/* Takes a token for the address and the account; 0, or -1 with res answered 429. */
static int admit(struct app *app, struct http_response *res, const char *addr_key, const char *acct_key)
{
    if (!app->limits)
        return 0;
    int64_t now = util_now_ms();
    int wait = ratelimit_take(app->limits, RATELIMIT_ADDRESS, addr_key, now);
    const char *what = "this address";
    if (!wait && (wait = ratelimit_take(app->limits, RATELIMIT_ACCOUNT, acct_key, now))) {
        ratelimit_give(app->limits, RATELIMIT_ADDRESS, addr_key, now); /* this attempt does not happen */
        what = "this account";
    }
    if (!wait)
        return 0;
    http_error(res, 429, "TooManyRequests", "password: too many failed sign-ins from %s; retry in %d seconds.", what,
               wait);
    res->retry_after = wait;
    return -1;
}

static void refund(struct signin *s)
{
    if (!s->app->limits)
        return;
    int64_t now = util_now_ms();
    ratelimit_give(s->app->limits, RATELIMIT_ADDRESS, s->addr_key, now);
    ratelimit_give(s->app->limits, RATELIMIT_ACCOUNT, s->acct_key, now);
}

int api_signin_start(struct app *app, struct http_request *req, struct http_response *res, json_t *body,
                     const char *tenant, const char *upn, const char *password,
                     void (*finish)(struct signin *s, struct http_response *res))
{
    struct signin *s = calloc(1, sizeof *s);
    if (!s) {
        json_decref(body);
        api_fail(res, RG_ENOMEM, "sign-in");
        return -1;
    }
    s->app = app;
    s->body = body;
    s->finish = finish;
    if (app->limits)
        ratelimit_client(app->limits, req->peer, req->forwarded_for, s->addr_key, sizeof s->addr_key);
    /* accounts by tenant and user name as sent, in lower case: "Alice@x" and "alice@x" are one account */
    snprintf(s->acct_key, sizeof s->acct_key, "%s\n%s", tenant, upn);
    for (char *c = s->acct_key; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    if (admit(app, res, s->addr_key, s->acct_key)) {
        signin_free(s);
        return -1;
    }
    snprintf(s->tenant, sizeof s->tenant, "%s", tenant);
    if (!app->store->ops->tenant_find(app->store, tenant, s->tid)) {
        /* by name through the index; a user id works too, as everywhere a user is named */
        if (app->store->ops->user_find(app->store, s->tid, upn, &s->user) == RG_ENOTFOUND)
            app->store->ops->doc_get(app->store, s->tid, "users", upn, &s->user);
    } else
        s->tid[0] = '\0';
    snprintf(s->password, sizeof s->password, "%s", password);
    const char *h = s->user ? json_string_value(json_object_get(s->user, "passwordHash")) : NULL;
    if (h && strlen(h) < sizeof s->hash) {
        memcpy(s->hash, h, strlen(h) + 1);
        s->has_hash = 1;
    }
    snprintf(s->request_id, sizeof s->request_id, "%s", res->request_id);
    snprintf(s->client_request_id, sizeof s->client_request_id, "%s", res->client_request_id);
    if (!app->work) {
        /* no pool (an app built by hand, as in unit tests): check inline */
        verify_run(s);
        if (s->ok)
            refund(s);
        s->finish(s, res);
        signin_free(s);
        return 0;
    }
    s->pending = http_suspend(req, res, SIGNIN_WAIT_SECONDS, on_timeout, on_cancel, s);
    if (!s->pending) {
        refund(s); /* no password was checked ($batch step, shutdown): the attempt does not count */
        signin_free(s);
        return -1;
    }
    if (work_submit(app->work, verify_run, verify_done, s)) {
        /* too many checks queued: the request is suspended, so answer it as finished */
        answer_unavailable(s->pending, s->request_id, s->client_request_id);
        signin_free(s);
    }
    return 0;
}

int api_signin_admit_address(struct app *app, struct http_request *req, struct http_response *res, char *key,
                             size_t keylen)
{
    key[0] = '\0';
    if (!app->limits)
        return 0;
    ratelimit_client(app->limits, req->peer, req->forwarded_for, key, keylen);
    int wait = ratelimit_take(app->limits, RATELIMIT_ADDRESS, key, util_now_ms());
    if (!wait)
        return 0;
    http_error(res, 429, "TooManyRequests", "enrollmentCode: too many failed sign-ins from this address; retry in %d seconds.",
               wait);
    res->retry_after = wait;
    return -1;
}

void api_signin_refund_address(struct app *app, const char *key)
{
    if (app->limits && key[0])
        ratelimit_give(app->limits, RATELIMIT_ADDRESS, key, util_now_ms());
}

/* ---- hashing a new password ---- */

struct hash_job {
    struct http_pending *pending;
    void (*finish)(void *arg, const char *hash, struct http_response *res);
    void (*release)(void *arg);
    void *arg;
    char password[PASSWORD_MAX_LEN + 1];
    char hash[PASSWORD_HASH_LEN];
    int ok;
    char request_id[40], client_request_id[72];
};

static void hash_job_free(struct hash_job *j)
{
    j->release(j->arg);
    OPENSSL_cleanse(j->password, sizeof j->password);
    free(j);
}

static void hash_run(void *arg)
{
    struct hash_job *j = arg;
    j->ok = password_hash(j->password, j->hash, sizeof j->hash) == 0;
    OPENSSL_cleanse(j->password, sizeof j->password);
}

static void hash_done(void *arg, int cancelled)
{
    struct hash_job *j = arg;
    if (j->pending && cancelled) {
        answer_unavailable(j->pending, j->request_id, j->client_request_id);
    } else if (j->pending) {
        struct http_response r = {.status = 200, .content_type = "application/json", .body = BUF_INIT(HTTP_RESPONSE_CAP)};
        snprintf(r.request_id, sizeof r.request_id, "%s", j->request_id);
        snprintf(r.client_request_id, sizeof r.client_request_id, "%s", j->client_request_id);
        j->finish(j->arg, j->ok ? j->hash : NULL, &r);
        http_pending_finish_res(j->pending, &r, buf_str(&r.body), r.body.len);
        buf_release(&r.body);
    }
    hash_job_free(j);
}

static void hash_timeout(void *app, struct http_pending *p, void *data)
{
    (void)app;
    struct hash_job *j = data;
    j->pending = NULL; /* the job still owns j: hash_done frees it */
    answer_unavailable(p, j->request_id, j->client_request_id);
}

static void hash_cancel(void *app, struct http_pending *p, void *data)
{
    (void)app;
    (void)p;
    ((struct hash_job *)data)->pending = NULL;
}

int api_hash_start(struct app *app, struct http_request *req, struct http_response *res, const char *password,
                   void (*finish)(void *arg, const char *hash, struct http_response *res),
                   void (*release)(void *arg), void *arg)
{
    struct hash_job *j = calloc(1, sizeof *j);
    if (!j) {
        release(arg);
        api_fail(res, RG_ENOMEM, "password");
        return -1;
    }
    j->finish = finish;
    j->release = release;
    j->arg = arg;
    snprintf(j->password, sizeof j->password, "%s", password);
    snprintf(j->request_id, sizeof j->request_id, "%s", res->request_id);
    snprintf(j->client_request_id, sizeof j->client_request_id, "%s", res->client_request_id);
    /* inline without a pool, and inside $batch, whose steps cannot be suspended */
    if (!app->work || !req->impl) {
        hash_run(j);
        j->finish(j->arg, j->ok ? j->hash : NULL, res);
        hash_job_free(j);
        return 0;
    }
    j->pending = http_suspend(req, res, SIGNIN_WAIT_SECONDS, hash_timeout, hash_cancel, j);
    if (!j->pending) {
        hash_job_free(j);
        return -1;
    }
    if (work_submit(app->work, hash_run, hash_done, j)) {
        answer_unavailable(j->pending, j->request_id, j->client_request_id);
        hash_job_free(j);
    }
    return 0;
}
