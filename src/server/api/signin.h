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
};

/*
 * Verifies password against user's passwordHash (a dummy hash of the same
 * cost when user is NULL or has none, so timing tells nothing) on a worker,
 * then calls finish(s, res) on the loop; res is sent as the suspended
 * request's answer (status and body). Takes ownership of body and user in
 * every case. Returns 0 (res is suspended), or -1 with res filled (503 when
 * the pool is busy or stopping). finish is not called when the client went
 * away, the wait timed out or the server stopped first (those get 503 or
 * nothing).
 */
int api_signin_start(struct app *app, struct http_request *req, struct http_response *res, const char *password,
                     json_t *body, json_t *user, const char *tid, const char *tenant,
                     void (*finish)(struct signin *s, struct http_response *res));
#endif
