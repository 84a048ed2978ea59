/*
 * sdk.h: internals of libriskgate (include/riskgate/riskgate.h). The handle,
 * and the modules it is made of, one concern per file:
 *   ticket.c    base64 and the Ed25519 ticket check (OpenSSL)
 *   offline.c   the offline clock rules (pure)
 *   appconfig.c the app configuration resolvers (pure, on the check-in JSON)
 *   cache.c     the storage folder: JSON files written 0600 atomically
 *   http.c      the libcurl client (one place maps HTTP status to codes)
 *   agentlink.c the agent's local socket ("hello")
 *   decision.c  struct rg_decision, its getters and the dialogs' texts
 *   sdk.c       the handle: configure, sign-in, check-in, wipe
 *   live.c      the long-poll, periodic work, rg_fds/rg_process/rg_run_until
 * Internal functions return 0 or a negative code of common/err.h; only the
 * public functions turn them into rg_status (sdk_status).
 */
#ifndef RG_SDK_SDK_H
#define RG_SDK_SDK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "riskgate/riskgate.h"
#include "common/httpc.h"

/* ---- ticket.c ---- */
#define TICKET_ID_LEN 80
struct ticket {
    char registration_id[TICKET_ID_LEN];
    char tenant_id[TICKET_ID_LEN];
    char user_id[TICKET_ID_LEN];
    char app_id[256];
    char device_id[TICKET_ID_LEN];
    rg_action action; /* ALLOW, WARN, BLOCK or WIPE */
    int64_t issued_at, offline_until, wipe_at; /* ms since the epoch */
    char answer_sha256[65]; /* of the answer it came with (common/answer.h) */
};
/* Decodes standard base64 (padding required, no whitespace). *out: malloc'd, caller frees. 0, RG_EINVAL, RG_ENOMEM. */
int ticket_b64_decode(const char *s, unsigned char **out, size_t *outlen);
/*
 * Verifies a ticket: sig_b64 must be an Ed25519 signature by key_b64 (base64
 * of the 32 raw bytes) over the decoded payload bytes; then the payload is
 * parsed into *t. expect_reg / expect_app: when not NULL, the payload's
 * registrationId / appId must equal them. 0, RG_EAUTH (the signature does
 * not verify, or the ticket is someone else's), RG_EINVAL (malformed key,
 * base64 or payload), RG_ENOMEM.
 */
int ticket_verify(const char *key_b64, const char *payload_b64, const char *sig_b64, const char *expect_reg,
                  const char *expect_app, struct ticket *t);
/* The same on a {"payload","signature"} JSON object. */
int ticket_verify_json(const char *key_b64, const json_t *ticket, const char *expect_reg, const char *expect_app,
                       struct ticket *t);
/* "allow" -> RG_ACTION_ALLOW ...; -1 for anything else. */
int ticket_action_parse(const char *s);
/*
 * Whether answer's decision, settings, app configuration and wipe are the
 * ones t signed (its answerSha256). 0, RG_EAUTH (they differ), RG_ENOMEM.
 */
int ticket_check_answer(const struct ticket *t, const json_t *answer);

/* ---- offline.c ---- */
#define OFFLINE_CLOCK_SKEW_MS (5 * 60 * 1000) /* a clock this far before issuedAt was set back */
struct offline_verdict {
    rg_action action;
    const char *reason; /* static: "offlineAllowed", "offline", "offlineWipe", "offlineNoTicket", "clockChanged", ... */
};
/* The offline decision at now (ms since the epoch) from a verified ticket, or t == NULL when there is none. */
struct offline_verdict offline_decide(const struct ticket *t, int64_t now);

/* ---- appconfig.c: configs is the check-in's "appConfigurations" array (may be NULL) ---- */
int appcfg_get(const json_t *configs, size_t i, const char *key, const char **value);
int appcfg_bool(const json_t *configs, const char *key, rg_query q, bool *out);
int appcfg_int(const json_t *configs, const char *key, rg_query q, int64_t *out);
int appcfg_double(const json_t *configs, const char *key, rg_query q, double *out);
/* *out borrowed from configs. */
int appcfg_string(const json_t *configs, const char *key, rg_query q, const char **out);
/* [{"id","displayName","settings":{...}}] (new reference). */
json_t *appcfg_full(const json_t *configs);
/* Internal codes of the SDK beyond common/err.h (sdk_status maps them all): */
#define APPCFG_ETYPE (-100)       /* the key exists, no value parses */
#define SDK_EUNREACHABLE (-101)   /* no answer from the server */
#define SDK_EBADTICKET (-102)     /* a ticket does not verify */
#define SDK_EKEYMISMATCH (-103)   /* the server key is not the pinned one */
#define SDK_ESERVER (-104)        /* an unexpected answer */

/* ---- cache.c ---- */
/* Creates dir (mode 0700) if missing and tightens it to 0700. 0 or RG_EIO. */
int cache_dir_ensure(const char *dir);
/* Writes dir/name atomically (temporary file, fsync, rename), mode 0600. 0, RG_EIO, RG_ENOMEM. */
int cache_write(const char *dir, const char *name, const json_t *v);
/* Reads dir/name. *out: new reference. 0, RG_ENOTFOUND (no file), RG_EINVAL (not JSON), RG_EIO. */
int cache_read(const char *dir, const char *name, json_t **out);
/* Removes dir/name; a missing file is fine. 0 or RG_EIO. */
int cache_remove(const char *dir, const char *name);
#define CACHE_REGISTRATION "registration.json" /* registrationId, token, serverKey, server, tenant, user */
#define CACHE_CHECKIN "checkin.json"           /* the last check-in answer (with its ticket) */

/* ---- agentlink.c ---- */
struct agent_hello {
    bool installed; /* something answered on the socket */
    bool activated;
    char device_id[TICKET_ID_LEN];
};
/* Asks the agent at sock_path "hello" (1 s timeout). No agent is not an error: installed = false. */
void agentlink_hello(const char *sock_path, struct agent_hello *out);
/*
 * Asks the agent to sign a server nonce with its device key ("prove <nonce>"):
 * *sig_b64 (caller frees) the signature, for device_id (which the agent
 * must name). 0, or RG_EIO (no agent, another device, or no key).
 */
int agentlink_prove(const char *sock_path, const char *nonce, const char *device_id, char **sig_b64);

/* ---- decision.c ---- */
struct rg_decision {
    rg_action action;
    char *reason, *title, *message, *remedy, *link; /* owned; link may be NULL, the others not */
    json_t *warnings;                               /* owned array */
    bool offline;
    int64_t offline_until, wipe_at;
};
/* Frees the contents; the struct becomes an empty SIGN_IN decision. */
void decision_release(struct rg_decision *d);
/* Fills d from a check-in's "decision" and "warnings" (the ticket's times when t). 0, RG_EINVAL, RG_ENOMEM. */
int decision_from_checkin(struct rg_decision *d, const json_t *checkin, const struct ticket *t);
/* Fills d with the SDK's own dialog for action/reason (Sign-in, Internet Connection Required, Wipe Alert...). */
int decision_local(struct rg_decision *d, rg_action action, const char *reason);
/* True if a and b would show the same screen. */
bool decision_same(const struct rg_decision *a, const struct rg_decision *b);

/* ---- the handle (sdk.c, live.c) ---- */
struct sdk_live {
    void *multi;          /* CURLM *, owned */
    struct httpc_async req;
    bool pending;
    struct pollfd socks[RG_MAX_FDS];
    int nsocks;
    int64_t timer_at;     /* monotonic ms of curl's timer, -1 none */
    int64_t next_arm;     /* monotonic ms */
    int backoff_ms;
    int64_t sent_at;
    int quick;            /* answers that came at once, in a row */
};

struct rg {
    bool configured;
    /* options (owned copies) */
    char *server_url, *opt_key, *storage_dir, *app_id, *platform, *app_version, *os_version, *patch_level, *model,
        *manufacturer, *device_name, *agent_socket;
    bool rooted;
    int pin_failures;
    /* registration (cache) */
    json_t *reg;          /* registration.json, or NULL when not signed in; its deviceId: the device proved */
    json_t *checkin;      /* the last check-in answer whose ticket verified, or NULL */
    struct ticket ticket; /* its ticket */
    bool have_ticket;
    /* current state */
    struct rg_decision dec;
    bool online;           /* the last check-in (or wait) reached the server */
    struct agent_hello hello; /* the agent's last answer (sdk_checkin, rg_sign_in), for the offline rules */
    bool hello_known;
    int64_t next_checkin;  /* wall ms */
    int checkin_backoff_ms;
    bool wipe_failed;      /* the wipe callback failed: not run again until a launch check or recheck */
    struct sdk_live live;
    /* callbacks */
    rg_wipe_fn wipe_fn;
    void *wipe_ud;
    rg_decision_fn dec_fn;
    void *dec_ud;
    int in_callback;
    char err[512];
};

/* sdk.c */
int sdk_status(int internal_rc);
void sdk_seterr(struct rg *rg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *sdk_token(const struct rg *rg);
const char *sdk_server(const struct rg *rg);
/*
 * Applies a check-in answer (from checkin, register or wait): verifies its
 * ticket against the pinned key, stores it, updates the decision, runs a
 * pending wipe. *changed: whether the decision changed. Internal code.
 */
int sdk_apply_checkin(struct rg *rg, const json_t *answer, bool *changed);
/* One check-in; on failure to reach the server, the offline decision. *changed as above. Internal code. */
int sdk_checkin(struct rg *rg, bool *changed);
/* Applies the offline rules to the current ticket; runs the offline wipe. *changed as above. */
void sdk_offline(struct rg *rg, bool *changed);
/* Calls the decision-changed callback. */
void sdk_notify(struct rg *rg);
/* Forgets the registration (memory and cache); the decision becomes SIGN_IN unless keep_decision. */
void sdk_forget(struct rg *rg, bool keep_decision);
int64_t sdk_mono_ms(void);

/* live.c */
void live_init(struct rg *rg);
void live_cancel(struct rg *rg);
void live_free(struct rg *rg);
#endif
