/*
 * httpc.h: the HTTP client of riskgate's device-side libraries (the agent core
 * and libriskgate) to riskgated, over libcurl: JSON in, JSON out, with a device
 * credential or registration token as the Bearer token, timeouts, a capped
 * answer, and the error-to-code mapping of the device and app APIs in one place:
 * no answer -> RG_EIO ("unreachable"), 401 -> RG_EAUTH, 403 -> RG_EPERM,
 * other non-2xx -> RG_EINVAL, with the Graph error message kept.
 *
 * Library code: never prints; never puts the credential in an error message.
 * Not thread-safe: one client per thread.
 */
#ifndef RG_HTTPC_H
#define RG_HTTPC_H
#include <jansson.h>

#include "common/buf.h"

#define HTTPC_MAX_ANSWER (4u << 20)
#define HTTPC_CONNECT_TIMEOUT_S 5L
#define HTTPC_TIMEOUT_S 15L

struct httpc_client {
    void *curl;  /* CURL *, owned */
    char *base;  /* base URL without trailing '/', owned */
    char *auth;  /* "Authorization: Bearer ...", owned and wiped, or NULL */
    char ua[64]; /* User-Agent */
    void *resolve;           /* struct curl_slist * for CURLOPT_RESOLVE, owned, or NULL (httpc_set_resolve) */
    long connect_timeout_s;  /* 0: HTTPC_CONNECT_TIMEOUT_S */
    long timeout_s;          /* of a whole httpc_call; 0: HTTPC_TIMEOUT_S */
};

/* Fills hc for base_url (http or https). token and user_agent may be NULL. 0, RG_EINVAL, RG_ENOMEM. */
int httpc_init(struct httpc_client *hc, const char *base_url, const char *token, const char *user_agent);
/* Frees hc's contents; accepts a zeroed or released client. */
void httpc_release(struct httpc_client *hc);
/*
 * Pins the address of the server's host for the next requests (and async
 * transfers prepared after it): entry is a CURLOPT_RESOLVE line,
 * "HOST:PORT:ADDR" (a v6 ADDR in brackets), copied; NULL clears the pin
 * (curl resolves the name itself again). 0 or RG_ENOMEM (the old pin is kept).
 */
int httpc_set_resolve(struct httpc_client *hc, const char *entry);
/*
 * Builds the CURLOPT_RESOLVE entry for base_url's host and addr (an IPv4 or
 * IPv6 literal) into out. Returns 0, 1 when the URL's host is already an IP
 * literal (no pin needed; out is then empty), RG_EINVAL (bad URL or address,
 * or out too small). host (hostlen bytes, may be NULL) receives the host name.
 */
int httpc_resolve_entry(const char *base_url, const char *addr, char *out, size_t n, char *host, size_t hostlen);

struct httpc_answer {
    long status;     /* 0 when no answer came */
    json_t *json;    /* parsed body (owned) or NULL */
    char error[320]; /* for a person: why no answer, or the server's error message */
};
#define HTTPC_ANSWER_INIT                                                                                               \
    {                                                                                                                  \
        0, NULL, ""                                                                                                    \
    }
void httpc_answer_release(struct httpc_answer *a);

/*
 * One request; path starts with '/'. body: borrowed, or NULL. a: reset, then filled.
 * Returns 0 for a 2xx answer, RG_EIO when the server could not be reached,
 * RG_EAUTH (401), RG_EPERM (403), RG_ENOTFOUND (404), RG_EINVAL (other
 * non-2xx), RG_ETOOBIG, RG_ENOMEM.
 */
int httpc_call(struct httpc_client *hc, const char *method, const char *path, const json_t *body, struct httpc_answer *a);

/*
 * An asynchronous GET for a caller's curl multi handle (the long-poll of
 * live.c): the same options, headers and answer mapping as httpc_call, but the
 * transfer is driven by curl_multi_socket_action. The struct must not move
 * while the transfer runs (libcurl holds pointers into it).
 */
/* Where a transfer's body goes: b grows up to its cap; rc: why the write stopped. */
struct httpc_sink {
    struct buf *b;
    int rc;
};
struct httpc_async {
    void *curl;     /* CURL *, owned; add it to the multi handle */
    void *hdr;      /* struct curl_slist *, owned (holds the credential: wiped at release) */
    char *base;     /* copy of the client's base URL, for error messages */
    struct buf url; /* the full URL */
    struct buf resp;
    struct httpc_sink sink; /* into resp */
    char errbuf[256];      /* CURL_ERROR_SIZE */
    void *resolve;         /* copy of the client's pin (struct curl_slist *), owned, or NULL */
};
/* Prepares a GET of path on hc's server with a whole-transfer timeout. 0 or RG_ENOMEM. x is zeroed first. */
int httpc_async_prepare(struct httpc_client *hc, struct httpc_async *x, const char *path, long timeout_s);
/*
 * Maps a finished transfer (curlcode: CURLMsg.data.result) to the answer, as
 * httpc_call's return value. Call it once, after the handle left the multi handle.
 */
int httpc_async_result(struct httpc_async *x, int curlcode, struct httpc_answer *a);
/* Frees x's contents (the handle must no longer be in a multi handle); accepts a zeroed struct. */
void httpc_async_release(struct httpc_async *x);
#endif
