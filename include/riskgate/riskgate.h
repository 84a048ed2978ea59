/*
 * riskgate/riskgate.h: libriskgate, the managed-app SDK of riskgate.
 *
 * An app (a mail client, say) links libriskgate to ask riskgated whether the
 * person may open its corporate data on this device, to enforce the app
 * protection settings and app configuration the server sends, and to delete
 * that data when the organization asks (selective wipe). The guide for app
 * developers is docs/sdk.md; the HTTP contract is docs/app-api.md.
 *
 * One handle (struct rg) holds everything: the options, the registration
 * (token and pinned server key), the last signed ticket and check-in (cached
 * in the storage folder, mode 0700, files 0600), the current decision and
 * the live connection. There are no globals. The library never prints,
 * exits, aborts or installs signal handlers; failures come back as an
 * rg_status and a sentence in rg_errmsg(). The registration token is never
 * logged, returned or written anywhere but the storage folder.
 *
 * Threads: the library starts none. A handle is not thread-safe: use it from
 * one thread (or serialize the calls). Callbacks run on that thread, inside
 * rg_launch_check, rg_recheck, rg_process or rg_run_until; from a callback
 * only the getters (rg_decision*, rg_settings_json, rg_appconfig_*) may be
 * called: anything else answers RG_SDK_EBUSY.
 *
 * Lifecycle:
 *
 *   struct rg *rg;
 *   rg_new(&rg);
 *   struct rg_options o = RG_OPTIONS_INIT;
 *   o.server_url = "https://riskgate.example"; o.storage_dir = "/data/app/rg";
 *   o.app_id = "com.microsoft.office.outlook"; o.platform = "android";
 *   rg_configure(rg, &o);                       // loads the cache
 *   rg_set_wipe_callback(rg, delete_my_data, app);
 *   rg_set_decision_callback(rg, show_screen, app);
 *   if (!rg_is_signed_in(rg)) rg_sign_in(rg, "default", upn, password, NULL);
 *   const struct rg_decision *d;
 *   rg_launch_check(rg, &d);                    // online, or from the ticket offline
 *   if (rg_decision_allows(d)) open_corporate_data();
 *   while (!stop) rg_process(rg, 1000);         // or rg_run_until(rg, &stop)
 *   rg_free(rg);
 */
#ifndef RISKGATE_RISKGATE_H
#define RISKGATE_RISKGATE_H
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RG_SDK_VERSION "0.1.0"
#define RG_SDK_VERSION_NUM 0x000100 /* 0xMMmmpp */

#if defined(RG_SDK_BUILDING) && defined(__GNUC__)
#define RG_API __attribute__((visibility("default")))
#else
#define RG_API
#endif

/* Result of every call that can fail: RG_SDK_OK (0) or one of these negative values. */
typedef enum rg_status {
    RG_SDK_OK = 0,
    RG_SDK_ENOMEM = -1,         /* allocation failed */
    RG_SDK_EINVAL = -2,         /* invalid argument (a bad URL or key, a missing field) */
    RG_SDK_EIO = -3,            /* the storage folder could not be read or written */
    RG_SDK_EUNREACHABLE = -4,   /* the server could not be reached */
    RG_SDK_EAUTH = -5,          /* wrong user or password, or the registration was revoked (401) */
    RG_SDK_ESERVER = -6,        /* the server answered something unexpected */
    RG_SDK_EBADTICKET = -7,     /* a ticket's signature does not verify against the pinned key */
    RG_SDK_EKEYMISMATCH = -8,   /* the server's key is not the one pinned */
    RG_SDK_ENOTCONFIGURED = -9, /* rg_configure has not succeeded yet */
    RG_SDK_ENOTSIGNEDIN = -10,  /* no registration: call rg_sign_in */
    RG_SDK_ENOTFOUND = -11,     /* no app configuration value has that key */
    RG_SDK_ETYPE = -12,         /* the key exists, but no value parses as the asked type */
    RG_SDK_EBUSY = -13,         /* called from inside a callback */
} rg_status;

/* Short English text of a status ("not signed in"). Never NULL; static. */
RG_API const char *rg_strerror(int status);

/* What the app must do now. */
typedef enum rg_action {
    RG_ACTION_ALLOW = 0,    /* open the corporate data */
    RG_ACTION_WARN = 1,     /* open it, and show the warning (title, message) once */
    RG_ACTION_BLOCK = 2,    /* do not open it; show the screen (title, message, remedy), offer Recheck */
    RG_ACTION_WIPE = 3,     /* the corporate data was (or must be) deleted: "Wipe Alert" */
    RG_ACTION_CONNECT = 4,  /* offline too long: "Internet Connection Required"; do not open */
    RG_ACTION_SIGN_IN = 5,  /* no registration (never signed in, or revoked): show "Sign-in" */
} rg_action;

/* The whole state of one app on one device. Opaque. */
struct rg;
/* One decision: what the person sees. Opaque; see rg_decision_*. */
struct rg_decision;

/* Options of rg_configure. Strings are borrowed (copied by rg_configure). */
struct rg_options {
    const char *server_url;   /* "https://host:port"; NULL: the one of the cached registration */
    const char *server_key;   /* base64 Ed25519 public key of the server (GET /app/v1/serverKey, riskgated
                                 server-key), built into the app: required unless trust_on_first_use */
    const char *storage_dir;  /* cache folder (created mode 0700); required */
    const char *app_id;       /* e.g. "com.microsoft.office.outlook"; required */
    const char *platform;     /* "android" or "ios"; required */
    const char *app_version;  /* the facts the server checks (conditional launch); may be NULL */
    const char *os_version;
    const char *patch_level;  /* Android security patch level, "2024-05-01" */
    const char *model;
    const char *manufacturer;
    const char *device_name;
    int rooted;               /* 1 if the device is rooted / jailbroken */
    const char *agent_socket; /* the riskgate agent's socket; NULL: $RISKGATE_AGENT_STATE/agent.sock or ./var/agent/agent.sock */
    /*
     * 1: without server_key, pin whatever key the first sign-in returns
     * (trust on first use: whoever answers that sign-in, a server in the
     * middle too, is trusted from then on). 0 (the default): server_key is
     * required, and rg_configure refuses to start without it.
     */
    int trust_on_first_use;
};
#define RG_OPTIONS_INIT {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0}

/* Allocates a handle. *out: free it with rg_free. RG_SDK_OK or RG_SDK_ENOMEM. */
RG_API int rg_new(struct rg **out);
/* Closes the live connection and frees everything; accepts NULL. The cache stays. */
RG_API void rg_free(struct rg *rg);
/* Why the last failing call on rg failed, in a sentence; "" after a success. Borrowed until the next call. */
RG_API const char *rg_errmsg(const struct rg *rg);

/*
 * Sets the options and loads the cache of storage_dir (registration, pinned
 * key, last ticket and check-in). May be called again (a new server URL, say).
 * RG_SDK_OK, RG_SDK_EINVAL (a required option is missing — server_key too,
 * unless trust_on_first_use —, the URL or key is malformed), RG_SDK_EIO (the folder cannot be created or read),
 * RG_SDK_EKEYMISMATCH (server_key differs from the key pinned in the cache),
 * RG_SDK_ENOMEM, RG_SDK_EBUSY.
 */
RG_API int rg_configure(struct rg *rg, const struct rg_options *opt);

/*
 * Signs the person in (POST /app/v1/register): the registration token and the
 * server key are stored (the key pinned: it must equal options.server_key
 * when one was given), and the first check-in is applied. The agent's device
 * id is asked from the agent's local socket. password is never stored.
 * *out (may be NULL): the decision, borrowed until the next call on rg.
 * RG_SDK_OK, RG_SDK_EAUTH (wrong user or password), RG_SDK_EUNREACHABLE,
 * RG_SDK_ESERVER, RG_SDK_EBADTICKET, RG_SDK_EKEYMISMATCH, RG_SDK_EIO,
 * RG_SDK_ENOTCONFIGURED, RG_SDK_EINVAL, RG_SDK_ENOMEM, RG_SDK_EBUSY.
 */
RG_API int rg_sign_in(struct rg *rg, const char *tenant, const char *user, const char *password,
                      const struct rg_decision **out);
/* Forgets the registration: removes the cache files. Corporate data is the app's to delete. */
RG_API int rg_sign_out(struct rg *rg);
/* 1 if a registration is cached, else 0. */
RG_API int rg_is_signed_in(const struct rg *rg);

/*
 * The launch check: a check-in (POST /app/v1/checkin) with the app's facts
 * and the agent's device id. When the server cannot be reached the decision
 * comes from the last ticket (offline rules, docs/sdk.md): ALLOW/WARN until
 * its offlineAccessUntil, then CONNECT, and WIPE (the wipe callback runs) at
 * its offlineWipeAt. Not signed in or revoked: a SIGN_IN decision.
 * *out: the decision, borrowed until the next call on rg other than a getter.
 * RG_SDK_OK whenever there is a decision (offline too; rg_decision_is_offline
 * tells), else RG_SDK_ENOTCONFIGURED, RG_SDK_ENOMEM, RG_SDK_EBUSY. A pending
 * wipe runs the wipe callback before this returns.
 */
RG_API int rg_launch_check(struct rg *rg, const struct rg_decision **out);
/* The same, when the person taps "Recheck" (after fixing what the screen said). */
RG_API int rg_recheck(struct rg *rg, const struct rg_decision **out);
/* The current decision (SIGN_IN before any check). Borrowed, as above. Never NULL after rg_configure. */
RG_API const struct rg_decision *rg_decision(const struct rg *rg);
/* Sets the failed PIN attempts the next check-in reports (pinFailures). */
RG_API void rg_set_pin_failures(struct rg *rg, int failures);

/* Decision getters: strings are borrowed from d ("" when absent; link may be NULL). */
RG_API rg_action rg_decision_action(const struct rg_decision *d);
/* 1 for ALLOW and WARN (the app may open its corporate data), else 0. */
RG_API int rg_decision_allows(const struct rg_decision *d);
RG_API const char *rg_decision_reason(const struct rg_decision *d); /* "allowed", "agentNotInstalled", "offline", ... */
RG_API const char *rg_decision_title(const struct rg_decision *d);  /* "Get access", "Access blocked", ... */
RG_API const char *rg_decision_message(const struct rg_decision *d);
RG_API const char *rg_decision_remedy(const struct rg_decision *d); /* what to do */
RG_API const char *rg_decision_link(const struct rg_decision *d);   /* NULL when none */
/* 1 if decided from the cached ticket because the server could not be reached. */
RG_API int rg_decision_is_offline(const struct rg_decision *d);
/* ms since the epoch: until when offline access lasts / when the offline wipe runs; 0 if unknown. */
RG_API int64_t rg_decision_offline_until(const struct rg_decision *d);
RG_API int64_t rg_decision_offline_wipe_at(const struct rg_decision *d);
/* The decision as JSON text (action, reasonCode, title, message, remedy, link, warnings, offline...). New: rg_string_free. */
RG_API int rg_decision_json(const struct rg_decision *d, char **out);
/* Name of an action: "allow", "warn", "block", "wipe", "connect", "signIn". Static. */
RG_API const char *rg_action_name(rg_action a);

/* The effective protection settings of the last check-in, as JSON text ("{}" if none). New: rg_string_free. */
RG_API int rg_settings_json(const struct rg *rg, char **out);

/*
 * App configuration: every set (app configuration policy) that targets this
 * user and app, unaltered and never merged (several sets may name one key).
 */
/* How many sets the last check-in carried. */
RG_API size_t rg_appconfig_count(const struct rg *rg);
/* All sets as JSON text: [{"id","displayName","settings":{"name":"value",...}}, ...]. New: rg_string_free. */
RG_API int rg_appconfig_json(const struct rg *rg, char **out);
/* The value of key in set i (0-based), borrowed until the next check-in; RG_SDK_ENOTFOUND, RG_SDK_EINVAL (i out of range). */
RG_API int rg_appconfig_get(const struct rg *rg, size_t i, const char *key, const char **value);

/* Resolvers of one key across all sets, as Intune's SDK offers them. */
typedef enum rg_query {
    RG_QUERY_ANY = 0, /* the first set (in order) whose value parses as the type */
    RG_QUERY_AND = 1, /* booleans: true only if every value is true */
    RG_QUERY_OR = 2,  /* booleans: true if any value is true */
    RG_QUERY_MIN = 3, /* numbers: the smallest; strings: the first alphabetically (byte order) */
    RG_QUERY_MAX = 4, /* numbers: the largest; strings: the last alphabetically */
} rg_query;
/*
 * Booleans are "true"/"false" (any case) or "1"/"0"; integers are decimal
 * (64-bit); doubles are strtod numbers. Values that do not parse are skipped.
 * RG_SDK_OK, RG_SDK_ENOTFOUND (no set has key), RG_SDK_ETYPE (none parses),
 * RG_SDK_EINVAL (a query that does not apply to the type: MIN/MAX on booleans,
 * AND/OR on numbers and strings).
 */
RG_API int rg_appconfig_bool(const struct rg *rg, const char *key, rg_query q, int *out);
RG_API int rg_appconfig_int(const struct rg *rg, const char *key, rg_query q, int64_t *out);
RG_API int rg_appconfig_double(const struct rg *rg, const char *key, rg_query q, double *out);
/* *out: a new string, free with rg_string_free. */
RG_API int rg_appconfig_string(const struct rg *rg, const char *key, rg_query q, char **out);

/* Frees a string the library returned; accepts NULL. */
RG_API void rg_string_free(char *s);

/*
 * Wipe callback, implemented by the app: delete the app's corporate data
 * (accounts, mail, files, caches). Return 0 when everything is gone, else
 * non-zero, with a sentence in why (why_len bytes, NUL-terminated) that the
 * server records. The SDK confirms the wipe to the server ("successful") only
 * after 0; otherwise it confirms "failed". After a successful wipe the SDK
 * also removes its own cache: the app needs a new sign-in.
 */
typedef int (*rg_wipe_fn)(void *ud, char *why, size_t why_len);
/* Decision-changed callback: d is borrowed for the call's duration. */
typedef void (*rg_decision_fn)(void *ud, const struct rg_decision *d);
/* Sets the callbacks (NULL: none). ud is borrowed. Without a wipe callback a wipe is confirmed "failed". */
RG_API void rg_set_wipe_callback(struct rg *rg, rg_wipe_fn fn, void *ud);
RG_API void rg_set_decision_callback(struct rg *rg, rg_decision_fn fn, void *ud);

/*
 * The live connection, for the app's own event loop. While signed in, the
 * SDK keeps GET /app/v1/wait (50 s) open; when the server answers with a new
 * check-in it is applied at once (the decision-changed callback, a wipe). It
 * also checks in every nextCheckInSeconds, retries after failures (1 s
 * doubling to 60 s) and applies the offline clock.
 *
 * rg_fds fills fds (at most max; RG_MAX_FDS is enough) with the sockets to
 * poll and *timeout_ms with how long the loop may sleep before calling
 * rg_process again; returns how many fds. The set changes: call it before
 * every poll.
 */
#define RG_MAX_FDS 4
RG_API int rg_fds(struct rg *rg, struct pollfd *fds, int max, int *timeout_ms);
/*
 * Polls the SDK's sockets for at most timeout_ms (0: do not wait), then does
 * whatever is due. A periodic check-in is a blocking request (at most ~20 s
 * against a hanging server). Network failures are not errors (they are
 * retried); RG_SDK_OK, RG_SDK_ENOTCONFIGURED, RG_SDK_EBUSY.
 */
RG_API int rg_process(struct rg *rg, int timeout_ms);
/* Calls rg_process until *stop is non-zero (a signal handler may set it; checked at least every second). */
RG_API int rg_run_until(struct rg *rg, const volatile sig_atomic_t *stop);

#ifdef __cplusplus
}
#endif
#endif
