/*
 * client.h: the small HTTP client of the riskgate CLI, over libcurl: JSON
 * requests (GET/POST/PATCH/DELETE) with Bearer authentication, a capped
 * response buffer and timeouts, and whole-collection reads that follow
 * @odata.nextLink.
 *
 * Library code: it never prints or exits, and never puts the token in an
 * error message. The token is only sent to the base URL's origin: absolute
 * URLs (nextLinks) pointing elsewhere are re-based onto it.
 * Not thread-safe: one struct client per thread.
 *
 *   struct client c;
 *   if (client_init(&c, "http://127.0.0.1:8443", token)) ...
 *   struct client_response r = CLIENT_RESPONSE_INIT;
 *   int rc = client_request(&c, "GET", "/beta/users", NULL, &r);
 *   ... rc == 0: an answer came, see r.status and r.json ...
 *   client_response_release(&r);
 *   client_release(&c);
 */
#ifndef RG_CLI_CLIENT_H
#define RG_CLI_CLIENT_H
#include <stddef.h>

#include <jansson.h>

#include "common/buf.h"

#define CLIENT_MAX_RESPONSE (64u << 20) /* bytes of one answer */
#define CLIENT_CONNECT_TIMEOUT_S 10L
#define CLIENT_TIMEOUT_S 120L   /* whole request */
#define CLIENT_MAX_PAGES 100000 /* nextLinks followed by client_get_all */

struct client {
    void *curl;          /* CURL *, owned */
    char *base;          /* base URL without trailing '/', owned */
    size_t origin_len;   /* length of base's "scheme://authority" */
    char *auth_header;   /* "Authorization: Bearer <token>", owned, or NULL without a token */
};

struct client_response {
    long status;     /* HTTP status; 0 when no answer came */
    json_t *json;    /* the parsed answer (owned), NULL when empty or not JSON */
    struct buf body; /* the raw answer */
    char error[320]; /* why no answer came, "" otherwise */
};
#define CLIENT_RESPONSE_INIT {0, NULL, BUF_INIT(CLIENT_MAX_RESPONSE), ""}

/*
 * Fills c for a server at base_url ("http://host:port" or "https://...", an
 * optional path prefix allowed). token: borrowed, copied; NULL or "" sends no
 * Authorization header. Returns 0, RG_EINVAL (not an http(s) URL) or RG_ENOMEM.
 */
int client_init(struct client *c, const char *base_url, const char *token);
/* Frees c's contents; accepts a released or zeroed client. */
void client_release(struct client *c);

/*
 * Sends one request and waits for the answer.
 * method: "GET", "POST", "PATCH", "DELETE". target: a path starting with '/'
 * (appended to the base URL) or an absolute URL of the same origin.
 * body: borrowed JSON sent as application/json, or NULL.
 * out: reset, then filled. Returns 0 when an answer came (whatever its status),
 * RG_EIO when the server could not be reached or the transfer failed,
 * RG_ETOOBIG when the answer is over CLIENT_MAX_RESPONSE, RG_EINVAL for a
 * target of another origin, RG_ENOMEM; out->error then says why.
 */
int client_request(struct client *c, const char *method, const char *target, const json_t *body,
                   struct client_response *out);

/*
 * client_request with a body already encoded: payload (len bytes, borrowed)
 * is sent as application/json; NULL sends none. Lets a caller build a large
 * body incrementally (indicator import batches).
 */
int client_send(struct client *c, const char *method, const char *target, const char *payload, size_t len,
                struct client_response *out);

/*
 * A nextLink as a target of c's origin: kept when it is ours (or a path),
 * else its path re-based onto the base URL. New string, or NULL (not a URL,
 * out of memory).
 */
char *client_rebase(const struct client *c, const char *link);

/*
 * GETs a collection ({"value": [...], "@odata.nextLink": ...}) page by page.
 * On success (0 and a 2xx status in out) *items is a new array of every item;
 * out keeps the last page. A non-2xx answer returns 0 with *items NULL and the
 * answer in out. Other errors as client_request, plus RG_EINVAL when an answer
 * is not a collection or the nextLinks loop.
 */
int client_get_all(struct client *c, const char *target, json_t **items, struct client_response *out);

/* Frees out's contents and makes it empty again (status 0). */
void client_response_release(struct client_response *out);
#endif
