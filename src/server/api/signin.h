/*
 * signin.h: password sign-in off the event loop. A handler that has found
 * the user (or not) hands the password check to the worker pool (work.h):
 * the request is suspended (http_suspend), scrypt runs on a worker on copies
 * of the password and the stored hash, and the handler's finish function runs
 * back on the loop thread with the result, where it does the store writes
 * and fills the answer.
 */
#ifndef RG_API_SIGNIN_H
#define RG_API_SIGNIN_H
#include <jansson.h>

#include "common/password.h"
#include "common/util.h"
#include "server/app.h"
#include "server/http/http.h"

struct signin {
    struct app *app;
    json_t *body;                    /* the request body (owned) */
    json_t *user;                    /* the user found, or NULL (owned) */
    char tid[UTIL_UUID_LEN + 1];     /* the tenant id, "" if none */
    char tenant[128];                /* the tenant name sent */
    int ok;                          /* set before finish: password and user matched */
    /* private */
    struct http_pending *pending;
    void (*finish)(struct signin *s, struct http_response *res);
    char password[PASSWORD_MAX_LEN + 1];
    char hash[PASSWORD_HASH_LEN];
    int has_hash;
    char request_id[40], client_request_id[72];
    char addr_key[64], acct_key[400]; /* rate-limit keys: refunded when the sign-in succeeds */
};

/*
 * Signs a user in by password: checks the rate limits of the client's
 * address and of the account (429 with Retry-After when over), finds the
 * tenant and the user, then verifies password against the user's
 * passwordHash on a worker (a dummy hash of the same cost when there is no
 * such user, so timing tells nothing) and calls finish(s, res) on the loop;
 * res is then sent as the suspended request's answer (status and body).
 * tenant, upn and password are borrowed (copied as needed). Takes ownership
 * of body in every case. Returns 0 when res was suspended or answered, -1
 * with res filled (429, or 503 when the pool is busy or stopping). finish is
 * not called when the client went away, the wait timed out or the server
 * stopped first (those get 503 or nothing).
 */
int api_signin_start(struct app *app, struct http_request *req, struct http_response *res, json_t *body,
                     const char *tenant, const char *upn, const char *password,
                     void (*finish)(struct signin *s, struct http_response *res));

/*
 * The address limit alone, for sign-ins without a password (one-time
 * enrollment codes): takes a token for the request's client address into
 * key (at least 64 bytes). 0, or -1 with res answered 429 and Retry-After.
 * api_signin_refund_address gives it back when the sign-in succeeded.
 */
int api_signin_admit_address(struct app *app, struct http_request *req, struct http_response *res, char *key,
                             size_t keylen);
void api_signin_refund_address(struct app *app, const char *key);

/*
 * Hashes a new password (password_hash, scrypt) off the event loop: the
 * request is suspended, the hash runs on a worker on a copy of password
 * (wiped after), then finish(arg, hash, res) runs on the loop thread with the
 * hash (NULL when hashing failed) and fills res, which is sent as the
 * suspended request's answer. release(arg) runs exactly once afterwards, also
 * when finish never runs (client gone, timeout, shutdown: 503 or nothing).
 * Without a pool (an app built by hand) everything runs inline on res.
 * Returns 0 when res was suspended or answered; -1 with res filled (503: the
 * pool is busy or stopping), release already called.
 */
int api_hash_start(struct app *app, struct http_request *req, struct http_response *res, const char *password,
                   void (*finish)(void *arg, const char *hash, struct http_response *res),
                   void (*release)(void *arg), void *arg);
#endif
