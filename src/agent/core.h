/*
 * core.h: the inside of struct rg_agent (the public handle of
 * include/riskgate/agent.h) and the functions the core's files share.
 * Internal: only src/agent/ includes it. All state lives in the handle.
 */
#ifndef RG_AGENT_CORE_H
#define RG_AGENT_CORE_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "common/httpc.h"
#include "agent/indset.h"
#include "agent/scan.h"
#include "agent/state.h"
#include "common/buf.h"
#include "common/util.h"
#include "riskgate/agent.h"

#define AGENT_MAX_CONNS 16     /* broker clients at once; when full, a new one takes an idle one's place */
#define AGENT_LINE_MAX 4096    /* one broker request line */
#define AGENT_CONN_LINE_MS 5000 /* a broker client sends a complete line this soon after connecting or its last answer */
#define AGENT_REPORT_BATCH 100 /* detections per POST */
#define AGENT_RETRY_MS 5000    /* after a failed report */
#define AGENT_REPORT_GAP_MS 1000 /* between two reports: a burst of detections (web protection: one per blocked name) is one POST a second, not one per loop turn */
#define AGENT_SYNC_SLICE_MS 200 /* the daemon fetches indicator pages for this long, then serves its loop again */
/*
 * The daemon's calls to the server (heartbeat, configuration, an indicator
 * page, a report) block its loop, which also serves the local socket and the
 * DNS filter: each is bounded by these (whole call, connection), and a loop
 * turn makes one of them at most, so the socket's clients (10 s for the CLI)
 * wait for one call at most. A command's calls keep httpc's longer defaults.
 */
#define AGENT_LOOP_CALL_S 5L
#define AGENT_LOOP_CONNECT_S 3L
#define AGENT_DEFAULT_SCAN_S 60
#define AGENT_DEFAULT_HEARTBEAT_S 60
#define AGENT_TEST_DOMAIN "smartscreentestratings2.net" /* reference §10: always phishing */
#define AGENT_WAIT_TIMEOUT_S 50                         /* the long-poll's ?timeout= */
#define AGENT_WAIT_SLACK_S 20                           /* the transfer's own timeout is the long-poll's plus this */
#define AGENT_WAIT_BACKOFF_MIN_MS 1000                  /* first delay after a failed wait, doubled each time */
#define AGENT_WAIT_BACKOFF_MAX_MS 60000
#define AGENT_WAIT_QUICK_MS 1000 /* a wait answered this soon after the request counts as "quick" */
#define AGENT_WAIT_QUICK_MAX 10  /* that many quick answers in a row: back off (a loop guard) */
#define AGENT_WAIT_MAX_FDS 4     /* sockets of the long-poll's transfer in the poll set */

/*
 * One detection until the server knows it is resolved: a threat the scanner
 * found (kind "malware", key "sha256:<hex>"), or one raised by web or network
 * protection through agent_detection_set (any other kind of docs/device-api.md).
 */
struct agent_threat {
    char kind[24];     /* "malware", "phishing", "phishingOverridden", "rogueWifi", "openNetwork", "certificate" */
    json_t *details;   /* kinds but malware: extra report fields ("url", ...), owned, or NULL */
    char *key;         /* "sha256:<hex>" for malware; the caller's key otherwise */
    char *threat_name; /* "Test Virus" or the indicator's title */
    char *file_path;   /* a file that has it */
    char *file_name;
    char *indicator; /* "FileSha256 Block" when an indicator decided, else NULL */
    struct scan_hashes h;
    char detected_at[UTIL_TIME_LEN + 1];
    char *alert_id; /* from the server */
    bool active;    /* seen in the last scan */
    bool reported;  /* the server has the current state */
    bool known;     /* the server was told it is active (else a resolve needs no report) */
    bool seen;      /* scratch during a scan */
};

struct agent_conn {
    int fd; /* -1 when free */
    struct buf in, out;
    int64_t since_ms; /* accepted, or its last complete line served: the bytes of a partial line do not move it */
    uid_t uid;        /* SO_PEERCRED's, when uid_known */
    bool uid_known;
    bool closing; /* close once out is flushed */
};

/*
 * The long-poll (wait.c): one GET /device/v1/wait kept open on a curl multi
 * handle whose sockets join the caller's poll set (rg_agent_pollfds) and
 * whose timer joins rg_agent_tick's next_ms. No thread: everything runs in
 * the caller's loop, and nothing in here ever blocks.
 */
struct agent_wait {
    void *multi; /* CURLM *, created at the first arm, or NULL */
    struct httpc_async req;
    bool pending;     /* req is in multi */
    int64_t sent_ms;  /* monotonic, when req was armed */
    int64_t timer_ms; /* curl's timer, monotonic ms; -1: none */
    struct {
        int fd;
        short events; /* POLLIN / POLLOUT */
    } socks[AGENT_WAIT_MAX_FDS];
    int nsocks;
    int64_t next_arm;      /* monotonic ms: not before (backoff) */
    int backoff_ms;        /* current delay after failures, 0 when the last wait went well */
    int quick;             /* consecutive quick answers that brought nothing new */
    bool failing;          /* the last wait failed (logged once per streak) */
    bool sync_due;         /* a change was announced: the next heartbeat is for it */
    bool dirty;            /* the state shown in status.json changed */
    char stale_config[64]; /* versions the server said we should have ("" / -1: none) */
    int64_t stale_ind;
    /* what the agent held when a change was announced: a sync that moves any of it is progress, not a loop */
    char seen_config[64];
    int64_t seen_ind;
    char seen_level[16];
    char last_reason[16];   /* of the last change, "" none */
    int64_t last_change_ms; /* wall clock */
    unsigned long changes;
    char last_error[320];
};

struct rg_agent {
    char *dir, *state_path, *status_path, *sock_path;
    struct agent_state st;
    struct timespec state_mtime;
    ino_t state_ino;
    rg_agent_log_fn log_fn;
    void *log_ud;
    char err[512];

    /* the server session */
    struct httpc_client http;
    bool http_ready;
    json_t *settings;     /* resolved configuration (owned) or NULL */
    char *config_version; /* of settings */
    char *wanted_config;  /* configVersion from the last heartbeat */
    int64_t ind_version;  /* of the indicator set */
    int64_t wanted_ind;   /* indicatorVersion from the last heartbeat, -1 unknown */
    bool ind_more;        /* the server has more indicator pages: the daemon fetches them turn by turn */
    bool config_due, ind_due; /* daemon: the heartbeat asked for a configuration fetch / an indicator sync, made at
                                 the next turns of the loop (one server call per turn) */
    struct indset *ind;
    char threat_level[16]; /* "" unknown */
    int hb_interval_s;
    int64_t last_hb_ms; /* wall clock of the last good heartbeat */
    bool server_ok;
    bool refused; /* the credential was refused (401) */
    char last_error[512];

    /* the daemon */
    bool daemon;
    int64_t next_hb, next_scan, next_report, next_status; /* monotonic ms */
    bool rescan;
    int scan_interval_s;
    char **dirs;
    size_t ndirs;
    struct scan_cache *cache;
    struct agent_threat *threats;
    size_t nthreats, athreats;
    int64_t last_scan_ms; /* wall */
    struct scan_stats last_stats;
    int lfd; /* broker listening socket, -1 */
    struct agent_conn conns[AGENT_MAX_CONNS];
    int conn_line_ms; /* AGENT_CONN_LINE_MS (a test may shorten it) */
    struct agent_wait wait;
    struct netprot *np; /* network protection (netprot.h), owned */
    struct webprot *web; /* web protection's DNS filter and block page (webprot.c), or NULL */
};

int64_t agent_mono_ms(void);
void agent_log(struct rg_agent *ag, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sets ag->err (for rg_agent_errmsg) and returns code. */
int agent_fail(struct rg_agent *ag, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Re-reads state.json if it changed on disk (activation or sign-out by another process); true if so. */
bool agent_refresh_identity(struct rg_agent *ag);
/* Maps an internal RG_E* code of the HTTP layer to an RG_AGENT_* code. */
int agent_code(int rg);

/* sync.c: the device API */
int agent_session(struct rg_agent *ag);         /* http client for the stored identity */
void agent_session_reset(struct rg_agent *ag);  /* forget server state (identity changed) */
int agent_heartbeat(struct rg_agent *ag);       /* POST heartbeat; then config / indicators if moved */
int agent_fetch_config(struct rg_agent *ag);    /* GET config */
int agent_sync_indicators(struct rg_agent *ag); /* GET indicators?since= while "more" (daemon: for a slice, then ind_more) */
/*
 * Applies one sync page ({"removed": [ids], "upserts": [indicators]}) to set:
 * removals, then upserts; an indicator already expired at now_ms is dropped,
 * one that cannot be used (no id, bad value) is counted in *bad. 0, or
 * RG_ENOMEM (the set holds what was applied so far).
 */
int agent_sync_apply(struct indset *set, const json_t *page, int64_t now_ms, size_t *bad);
int agent_report(struct rg_agent *ag);          /* POST pending detections */
json_t *agent_device_facts(void);               /* {"platform":"linux",...} */

/* devkey.c: the device key (state folder's device.key) and "prove <nonce>" */
struct sign_key;
/* Makes a fresh key in device.key.new for an activation; *out: sign_key_free. 0 or an RG_AGENT_* code. */
int agent_devkey_new(struct rg_agent *ag, struct sign_key **out);
/* After the activation: keep (device.key.new becomes device.key) or drop it. */
int agent_devkey_commit(struct rg_agent *ag, bool keep);
/* The local socket's answer to "prove <nonce>": {"deviceId","nonce","signature"} or {"error"}. */
json_t *agent_prove_json(struct rg_agent *ag, const char *nonce);

/* threats.c: scan pass and the threat list */
int agent_scan_pass(struct rg_agent *ag);
void agent_threats_release(struct rg_agent *ag);
json_t *agent_threats_json(const struct rg_agent *ag);
void agent_threats_load(struct rg_agent *ag, const json_t *arr);
size_t agent_threats_pending(const struct rg_agent *ag);
struct agent_threat *agent_threat_find(struct rg_agent *ag, const char *key);
/*
 * Raises (active) or clears (!active) a detection of another kind than
 * "malware", to be reported at the next report pass. key: stable per
 * detection ("dns:<hash>", "cert:<sha256>", ...); title: a sentence for the
 * SOC and the person; details: extra report fields (stolen, may be NULL),
 * already stripped of what privacy keys forbid. Clearing an unknown key does
 * nothing. 0 or RG_AGENT_ENOMEM.
 */
int agent_detection_set(struct rg_agent *ag, const char *kind, const char *key, bool active, const char *title,
                        json_t *details);
void agent_threats_drop_resolved(struct rg_agent *ag); /* resolved and reported: forgotten */
/* Forgets, without any report, the detections of this kind the server already has (events such as phishing). */
void agent_detections_forget_reported(struct rg_agent *ag, const char *kind);

/* status.c */
json_t *agent_time_json(int64_t ms); /* wall-clock ms as an ISO time string, or JSON null for 0 */
json_t *agent_status_build(struct rg_agent *ag);
int agent_status_write(struct rg_agent *ag);
json_t *agent_status_read(const struct rg_agent *ag); /* status.json or NULL */
json_t *agent_check_url_json(struct rg_agent *ag, const char *url, int *action);
/*
 * The web decision shared by check-url and the DNS filter (webprot.c): the
 * deciding indicator for url (a URL or a bare host; host: its host part), and
 * when builtin is set the built-in test domain, which blocks unless an
 * indicator allows or warns it. Returns and stores in out->action an
 * RG_AGENT_* action; out->ind's strings are borrowed until the set changes.
 */
struct agent_web_hit {
    int action;         /* RG_AGENT_NOMATCH .. RG_AGENT_BLOCK */
    bool builtin;       /* decided by the built-in test domain */
    struct indicator ind; /* the deciding indicator (when not builtin and action != NOMATCH) */
    const char *title;  /* the indicator's title, the built-in's, or NULL */
};
int agent_web_match(struct rg_agent *ag, const char *url, const char *host, bool builtin, struct agent_web_hit *out);
json_t *agent_hello_json(struct rg_agent *ag);

/* broker.c */
int agent_broker_open(struct rg_agent *ag);
void agent_broker_close(struct rg_agent *ag);
int agent_broker_pollfds(struct rg_agent *ag, struct pollfd *fds, int max);
void agent_broker_process(struct rg_agent *ag, const struct pollfd *fds, int n);
/* Closes the clients past their AGENT_CONN_LINE_MS; returns when the next one is due (monotonic ms) or INT64_MAX. */
int64_t agent_broker_expire(struct rg_agent *ag, int64_t now);
/*
 * The broker's request parser: appends n bytes a client sent (borrowed) to c->in, serves every whole
 * line in it, and appends one JSON line per answer to c->out. A line longer than c->in's cap answers an
 * error and sets c->closing; nothing is read once c->closing is set. c->fd is used only for the
 * client's credentials (SO_PEERCRED), so it may be -1 (fuzz/fuzz_broker.c).
 */
void agent_broker_feed(struct rg_agent *ag, struct agent_conn *c, const char *data, size_t n);
int agent_broker_ask(const char *sock_path, const char *request, int timeout_ms, char **answer);

/* wait.c: the long-poll on GET /device/v1/wait */
void agent_wait_init(struct rg_agent *ag);
void agent_wait_free(struct rg_agent *ag);   /* cancels, frees the multi handle */
void agent_wait_cancel(struct rg_agent *ag); /* drops a pending wait (identity changed); re-armed at once */
/* Drives curl's timer and arms a wait when due (daemon, activated, credential not refused). */
void agent_wait_tick(struct rg_agent *ag, int64_t now);
/* After the heartbeat a change asked for: rc is the heartbeat's; backs off if the versions are still behind. */
void agent_wait_synced(struct rg_agent *ag, int rc);
/* Monotonic ms of the wait's next due work (timer or re-arm), or INT64_MAX. */
int64_t agent_wait_next(const struct rg_agent *ag);
int agent_wait_pollfds(struct rg_agent *ag, struct pollfd *fds, int max);
void agent_wait_process(struct rg_agent *ag, const struct pollfd *fds, int n);
json_t *agent_wait_json(const struct rg_agent *ag); /* for status.json: "liveUpdates" */
/* The next backoff delay after cur ms (0: none yet): 1 s doubling to 60 s. */
int agent_wait_backoff(int cur_ms);
/* Reads a wait answer: 1 changed (reason copied), 0 not changed, RG_EINVAL not a wait answer. */
int agent_wait_parse(const json_t *answer, char *reason, size_t n);
#endif
