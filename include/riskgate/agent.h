/*
 * riskgate/agent.h: the core of riskgate-agent, the device agent (the seed's
 * "Defender app"), as a library a mobile port can embed.
 *
 * One handle holds everything: the device identity (state.json in the state
 * folder, mode 0600), the server client, the app configuration, the synced
 * indicators, the scanner and the local broker socket. There are no globals.
 * The library never prints, exits or installs signal handlers; it reports
 * through the log callback and the handle's last error message. It never
 * logs, returns or writes anywhere but state.json the device credential.
 *
 * Not thread-safe: use one handle from one thread. The library starts no
 * thread of its own (except network protection's short-lived TLS check
 * worker, below, and web protection's block page, rg_agent_set_dns): the
 * daemon's network wait (live updates, below) is a non-blocking libcurl
 * transfer whose sockets are part of rg_agent_pollfds, like the DNS filter's.
 * Several processes may use the same state folder (the daemon re-reads
 * state.json when it changes).
 *
 * Live updates: once started and activated, the daemon keeps one long-poll
 * (GET /device/v1/wait, 50 s) open; when the server says something changed
 * (configuration, indicators, the device, its threat level) the next
 * rg_agent_tick heartbeats and refetches at once, then waits again. For that
 * the caller's loop must poll every fd rg_agent_pollfds gives, pass the
 * revents to rg_agent_process, and call rg_agent_tick again within next_ms.
 *
 *   struct rg_agent *ag;
 *   if (rg_agent_new("/var/lib/riskgate-agent", &ag)) ... ;
 *   rg_agent_add_scan_dir(ag, "/home/alice/Downloads");
 *   rg_agent_start(ag);                         // binds agent.sock
 *   while (!stop) {
 *       int wait_ms; rg_agent_tick(ag, &wait_ms);
 *       struct pollfd fds[RG_AGENT_MAX_FDS]; int n = rg_agent_pollfds(ag, fds, RG_AGENT_MAX_FDS);
 *       poll(fds, n, wait_ms);
 *       rg_agent_process(ag, fds, n);
 *   }
 *   rg_agent_free(ag);
 */
#ifndef RISKGATE_AGENT_H
#define RISKGATE_AGENT_H
#include <poll.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RG_AGENT_VERSION "0.1.0"
#define RG_AGENT_VERSION_NUM 0x000100

#if defined(__GNUC__)
#define RG_AGENT_API __attribute__((visibility("default")))
#else
#define RG_AGENT_API
#endif

/* Result codes: 0 or one of these negative values. */
enum rg_agent_code {
    RG_AGENT_OK = 0,
    RG_AGENT_ENOMEM = -1,       /* allocation failed */
    RG_AGENT_EINVAL = -2,       /* invalid argument (a bad URL, a missing field) */
    RG_AGENT_EIO = -3,          /* local file or socket I/O failed */
    RG_AGENT_EUNREACHABLE = -4, /* the server could not be reached */
    RG_AGENT_EAUTH = -5,        /* the server refused the password, code or credential (401) */
    RG_AGENT_EFORBIDDEN = -6,   /* the configuration forbids it (403, e.g. DisableSignOut) */
    RG_AGENT_ESERVER = -7,      /* the server answered something unexpected */
    RG_AGENT_ENOTACTIVE = -8,   /* the agent is not activated */
    RG_AGENT_ENODAEMON = -9,    /* no daemon answers on the local socket */
};

/* Web actions of rg_agent_check_url. */
enum rg_agent_action {
    RG_AGENT_NOMATCH = 0, /* no indicator matched */
    RG_AGENT_ALLOWED = 1, /* an Allowed indicator */
    RG_AGENT_AUDIT = 2,   /* an Audit indicator: allowed, recorded */
    RG_AGENT_WARN = 3,    /* Warn: the person may continue */
    RG_AGENT_BLOCK = 4,   /* Block */
};

#define RG_AGENT_MAX_FDS 72 /* rg_agent_pollfds never returns more (broker 17, live updates 4, web protection 51) */

struct rg_agent;

/* Log levels passed to the callback: 0 debug, 1 info, 2 warn, 3 error. */
typedef void (*rg_agent_log_fn)(void *ud, int level, const char *msg);

/*
 * Opens the agent on a state folder (created mode 0755 if missing; NULL means
 * $RISKGATE_AGENT_STATE or ./var/agent) and loads state.json if present.
 * *out: a new handle, free with rg_agent_free. Returns 0, RG_AGENT_ENOMEM,
 * RG_AGENT_EIO (the folder cannot be created, state.json is unreadable).
 */
RG_AGENT_API int rg_agent_new(const char *state_dir, struct rg_agent **out);
/* Closes the socket (and removes it), frees everything; accepts NULL. */
RG_AGENT_API void rg_agent_free(struct rg_agent *ag);
/* Short English text of a code. Never NULL. */
RG_AGENT_API const char *rg_agent_strerror(int code);
/* Why the last failing call failed, in words for a person; "" after success. Borrowed. */
RG_AGENT_API const char *rg_agent_errmsg(const struct rg_agent *ag);
/* Sets the log callback (NULL: no logging). ud is borrowed. */
RG_AGENT_API void rg_agent_set_log(struct rg_agent *ag, rg_agent_log_fn fn, void *ud);

/* Activation request. Strings are borrowed. Give password or code. */
struct rg_agent_activation {
    const char *server;   /* "http://host:port" */
    const char *tenant;   /* tenant name */
    const char *user;     /* userPrincipalName, with password */
    const char *password; /* never stored or logged */
    const char *code;     /* one-time enrollment code, instead of user+password */
    int skip_vpn;         /* ask to skip the VPN permission (kept only if DefenderOptionalVPN is on) */
};
/*
 * Activates the device (POST /device/v1/activate), writes state.json (0600)
 * and fetches the configuration once. A refused skip_vpn is not an error:
 * rg_agent_status_json then shows "vpnSkipped": false. Returns 0,
 * RG_AGENT_EINVAL, RG_AGENT_EUNREACHABLE, RG_AGENT_EAUTH, RG_AGENT_ESERVER, RG_AGENT_EIO.
 */
RG_AGENT_API int rg_agent_activate(struct rg_agent *ag, const struct rg_agent_activation *a);
/*
 * Signs out (POST /device/v1/signout) and removes the credential from
 * state.json. RG_AGENT_EFORBIDDEN when the configuration sets DisableSignOut;
 * RG_AGENT_ENOTACTIVE, RG_AGENT_EUNREACHABLE, RG_AGENT_EAUTH, RG_AGENT_EIO.
 */
RG_AGENT_API int rg_agent_signout(struct rg_agent *ag);

/*
 * Turns the VPN filter on, or off when the configuration's DefenderOptionalVPN
 * allows the person to skip it (the configuration is fetched to check).
 * Stored in state.json. 0, RG_AGENT_EFORBIDDEN (not allowed), RG_AGENT_ENOTACTIVE,
 * RG_AGENT_EUNREACHABLE, RG_AGENT_EAUTH, RG_AGENT_EIO.
 */
RG_AGENT_API int rg_agent_set_vpn(struct rg_agent *ag, int on);

/*
 * Web protection's traffic filter (docs/agent.md "Web protection"): a local
 * DNS resolver the daemon serves in its poll loop (UDP and TCP, non-blocking)
 * that answers names a Block or Warn indicator (or the built-in phishing test
 * domain) decides with the block page's address (or NXDOMAIN) and forwards
 * every other query to the upstream resolvers unchanged; plus the block page,
 * an HTTP server on a thread of its own (started only when the page is on).
 * Strings are borrowed for the call.
 */
struct rg_agent_dns {
    const char *listen;           /* "ADDR[:PORT]" (an IP literal, port 53 by default); NULL: "127.0.0.2:53" */
    const char *const *upstreams; /* "ADDR[:PORT]" each; none: the nameservers of /etc/resolv.conf */
    int nupstreams;               /* at most 4 */
    const char *block_page;       /* "ADDR:PORT"; NULL: the listen address, port 80; "off": no page */
    int nxdomain;                 /* 1: blocked names get NXDOMAIN instead of the block page's address */
};
/*
 * Turns the filter on for rg_agent_start, which binds it (a failure to bind
 * is logged and shown as web protection "partial", never fatal). Without
 * this call the daemon has no filter. 0, RG_AGENT_EINVAL (a bad address,
 * see rg_agent_errmsg), RG_AGENT_ENOMEM.
 */
RG_AGENT_API int rg_agent_set_dns(struct rg_agent *ag, const struct rg_agent_dns *dns);

/* Adds a folder to scan (copied). 0, RG_AGENT_EINVAL (not a folder), RG_AGENT_ENOMEM. */
RG_AGENT_API int rg_agent_add_scan_dir(struct rg_agent *ag, const char *dir);
/* Seconds between scans (default 60, at least 1). */
RG_AGENT_API void rg_agent_set_scan_interval(struct rg_agent *ag, int seconds);
/* Binds the local broker socket (state folder/agent.sock, mode 0666). 0 or RG_AGENT_EIO. */
RG_AGENT_API int rg_agent_start(struct rg_agent *ag);
/*
 * Asks for a heartbeat (so a changed configuration or new indicators are
 * fetched) and a scan at the next rg_agent_tick: what SIGHUP and the socket's
 * "rescan" do. Not async-signal-safe: call it from the loop, not a handler.
 */
RG_AGENT_API void rg_agent_request_rescan(struct rg_agent *ag);

/*
 * Network protection (docs/agent.md "Network protection"; active while the
 * configuration's DefenderNetworkProtectionEnable is on). Call before
 * rg_agent_start. Strings are copied.
 * - rg_agent_add_trust_store: a folder or file of trusted root certificates to
 *   watch (repeatable; none given: /usr/local/share/ca-certificates and /etc/ssl/certs).
 * - rg_agent_add_ca_bundle: the distribution's own trusted set, a file or folder
 *   (repeatable; none given: /usr/share/ca-certificates); its certificates are never suspicious.
 * - rg_agent_add_tls_check: "HOST:PORT[=SHA256]", a well-known TLS endpoint whose
 *   certificate must verify (and match the pin: SHA-256 of the leaf's SPKI or of
 *   the leaf) on the current network, else the network may intercept (at most 16).
 * - rg_agent_set_tls_ca: verify the checks against this PEM file instead of the system trust.
 * - rg_agent_set_net_interval: seconds between interception checks (default 900, at least 10).
 * - rg_agent_set_network_group: members of this group (by name) may use the
 *   socket's network operations (observe, trust, untrust); root and the
 *   daemon's own user always may, other users are refused.
 * The checks run on a short-lived worker thread (at most 3 s per endpoint);
 * the handle itself is still used from one thread only.
 * 0, RG_AGENT_EINVAL (a bad spec, a missing file), RG_AGENT_ENOMEM.
 */
RG_AGENT_API int rg_agent_add_trust_store(struct rg_agent *ag, const char *path);
RG_AGENT_API int rg_agent_add_ca_bundle(struct rg_agent *ag, const char *path);
RG_AGENT_API int rg_agent_add_tls_check(struct rg_agent *ag, const char *spec);
RG_AGENT_API int rg_agent_set_tls_ca(struct rg_agent *ag, const char *file);
RG_AGENT_API void rg_agent_set_net_interval(struct rg_agent *ag, int seconds);
RG_AGENT_API int rg_agent_set_network_group(struct rg_agent *ag, const char *name);
/*
 * The periodic work: whatever is due of heartbeat, configuration refetch,
 * indicator sync, scan, detection reports, status.json; re-arming the
 * live-update wait and its timeouts. Failures are logged and retried later
 * (the wait: after 1 s, doubling up to 60 s); never fatal. *next_ms: how long
 * the caller may sleep (at most 60000). Returns 0 (work done or nothing due).
 */
RG_AGENT_API int rg_agent_tick(struct rg_agent *ag, int *next_ms);
/*
 * Fills fds (at most max; give RG_AGENT_MAX_FDS) with what the daemon waits
 * on: the broker socket and its clients, and the live-update request's
 * sockets. Returns how many. Call it before every poll(): the set changes.
 */
RG_AGENT_API int rg_agent_pollfds(struct rg_agent *ag, struct pollfd *fds, int max);
/*
 * Serves the broker and advances the live-update request after poll() filled
 * revents of the fds rg_agent_pollfds gave. Never blocks; a change the server
 * announced is acted on by the next rg_agent_tick (next_ms becomes 0).
 */
RG_AGENT_API void rg_agent_process(struct rg_agent *ag, const struct pollfd *fds, int n);

/*
 * One synchronous heartbeat + configuration + indicator sync (for one-shot
 * commands). 0, RG_AGENT_ENOTACTIVE, RG_AGENT_EUNREACHABLE, RG_AGENT_EAUTH, RG_AGENT_ESERVER.
 */
RG_AGENT_API int rg_agent_sync(struct rg_agent *ag);
/*
 * Looks a URL (or bare host / IP) up in the synced indicators and the
 * built-in test domain. *action: an rg_agent_action. json: if not NULL, a new
 * JSON object text {"action":"Block","url":...,"indicatorType":...} to free
 * with rg_agent_string_free. 0 or RG_AGENT_EINVAL / RG_AGENT_ENOMEM.
 */
RG_AGENT_API int rg_agent_check_url(struct rg_agent *ag, const char *url, int *action, char **json);
/*
 * The agent's status as JSON text (new, free with rg_agent_string_free): the
 * identity without the credential, and the daemon's last status.json when it
 * is for the same device. 0 or RG_AGENT_ENOMEM.
 */
RG_AGENT_API int rg_agent_status_json(struct rg_agent *ag, char **out);
/*
 * Sends one request line ("hello", "check-url URL", "rescan") to the daemon
 * running on this state folder; *answer: its one-line JSON answer (new, free
 * with rg_agent_string_free). 0, RG_AGENT_ENODAEMON, RG_AGENT_EIO, RG_AGENT_EINVAL.
 */
RG_AGENT_API int rg_agent_ask(struct rg_agent *ag, const char *request, char **answer);
/* Frees a string the library returned; accepts NULL. */
RG_AGENT_API void rg_agent_string_free(char *s);

#ifdef __cplusplus
}
#endif
#endif
