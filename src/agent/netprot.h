/*
 * netprot.h: network protection (reference §9.1 "rogue Wi-Fi, rogue
 * certificates, admin allow-list of CA certificates", keys of §9.4).
 * Internal to src/agent/. Four files:
 *
 *   netprot_certs.c  trust-store certificates (OpenSSL): loading PEM/DER
 *                    files and bundles, SHA-256/SHA-1 thumbprints, the
 *                    allow-list, the diff against the distribution's bundle.
 *   netprot_wifi.c   the current Wi-Fi: security words, nmcli's terse output
 *                    and running nmcli (fork/exec, no shell, 2 s bound).
 *   netprot_tls.c    the interception check: TLS to well-known hosts,
 *                    verified against the system trust (or --tls-ca) and the
 *                    host name, optionally pinned; on a worker thread.
 *   netprot.c        the daemon side: schedule, evaluation of the keys into
 *                    detections (agent_detection_set), the person's trust
 *                    list (network-trust.json, 0600), status, the broker's
 *                    "network" requests, the rg_agent_* option setters.
 *
 * Pure helpers (certs, wifi parsing, target parsing) are thread-safe and
 * never log; results are 0 or a negative RG_E* code (common/err.h).
 */
#ifndef RG_AGENT_NETPROT_H
#define RG_AGENT_NETPROT_H
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct rg_agent;

#define NETPROT_SHA256_HEX 64
#define NETPROT_SHA1_HEX 40
#define NETPROT_MAX_DEPTH 4            /* folder levels below a trust-store or bundle folder */
#define NETPROT_MAX_FILE (8u << 20)    /* certificate files above this are skipped */
#define NETPROT_MAX_CERTS 20000        /* per set: a bound on what a folder may hold */
#define NETPROT_TLS_TIMEOUT_MS 3000    /* connect + handshake, per check */
#define NETPROT_NMCLI_TIMEOUT_MS 2000  /* nmcli's run, then it is killed */
#define NETPROT_DEFAULT_INTERVAL_S 900 /* interception checks: every 15 minutes */
#define NETPROT_MAX_TLS_CHECKS 16

/* ---- certificates (netprot_certs.c) ---- */

struct netprot_cert {
    char sha256[NETPROT_SHA256_HEX + 1]; /* lower-case hex */
    char sha1[NETPROT_SHA1_HEX + 1];
    char *subject; /* RFC 2253 text, owned */
    char *path;    /* the file it was read from (the first one), owned */
};

/* A set of certificates, unique by SHA-256. NETPROT_CERTSET_INIT starts valid and empty. */
struct netprot_certset {
    struct netprot_cert *v;
    size_t n, cap;
    size_t unreadable; /* folders that could not be listed (not counting missing ones) */
};
#define NETPROT_CERTSET_INIT {NULL, 0, 0, 0}
void netprot_certset_release(struct netprot_certset *s);
/*
 * Adds every certificate of path: a PEM file (one or a bundle of many), a DER
 * file, or a folder whose *.crt, *.pem and *.cer files (and subfolders, up to
 * NETPROT_MAX_DEPTH) are read; symlinks are followed. A missing path adds
 * nothing and is not an error; a folder that cannot be listed counts in
 * s->unreadable. Files that hold no certificate are skipped. 0, RG_ENOMEM.
 */
int netprot_certset_load(struct netprot_certset *s, const char *path);
/* Adds the certificates of one PEM/DER buffer, naming them with path (borrowed). How many, or RG_ENOMEM. */
int netprot_certset_add_buffer(struct netprot_certset *s, const void *data, size_t len, const char *path);
/* The certificate with this SHA-256 (lower-case hex), or NULL. */
const struct netprot_cert *netprot_certset_find(const struct netprot_certset *s, const char *sha256);

/*
 * Normalizes one thumbprint of an allow-list: hex digits with or without
 * blanks (and colons, tolerated), any case. out (at least 65 bytes): lower-case
 * hex. Returns 1 for SHA-1 (40 digits), 2 for SHA-256 (64 digits), RG_EINVAL
 * for anything else. (p, n) need not be NUL-terminated.
 */
int netprot_thumb_normalize(const char *p, size_t n, char *out, size_t outlen);
/*
 * True if c is in list: DefenderAllowlistedCACertificates, comma-separated
 * thumbprints, each SHA-1 or SHA-256 (told apart by length). NULL/"" allows nothing.
 */
bool netprot_allowlisted(const char *list, const struct netprot_cert *c);
/*
 * The suspicious certificates: those of store that are not in bundle (the
 * distribution's trusted set), not allow-listed by list, and whose SHA-256
 * is not in trusted (n_trusted strings, the person's trust; may be NULL).
 * out receives copies. 0, RG_ENOMEM.
 */
int netprot_suspicious(const struct netprot_certset *store, const struct netprot_certset *bundle, const char *list,
                       char *const *trusted, size_t n_trusted, struct netprot_certset *out);

/* ---- Wi-Fi (netprot_wifi.c) ---- */

enum netprot_sec {
    NETPROT_SEC_UNKNOWN = 0, /* nothing known */
    NETPROT_SEC_NONE,        /* not on Wi-Fi */
    NETPROT_SEC_OPEN,
    NETPROT_SEC_WEP,
    NETPROT_SEC_WPA,
    NETPROT_SEC_WPA2,
    NETPROT_SEC_WPA3,
};

struct netprot_wifi {
    enum netprot_sec sec;
    char ssid[130];  /* 32 bytes on the air; room for what nmcli prints */
    char bssid[32];  /* "AA:BB:CC:DD:EE:FF" or "" */
    char source[16]; /* "nmcli", "observed", "" */
};

/* "open", "wep", "wpa", "wpa2", "wpa3", "none" (any case) -> *out. 0 or RG_EINVAL. */
int netprot_sec_parse(const char *s, enum netprot_sec *out);
/* The word of a security value ("unknown" for UNKNOWN). Static. */
const char *netprot_sec_name(enum netprot_sec s);
/* True for open and WEP networks (what DefenderOpenNetworkDetection is about). */
bool netprot_sec_unsafe(enum netprot_sec s);
/*
 * Maps nmcli's SECURITY column ("", "--", "WEP", "WPA1 WPA2", "WPA2 802.1X",
 * "WPA3", "OWE", ...) to a security value.
 */
enum netprot_sec netprot_sec_from_nmcli(const char *s);
/*
 * Parses `nmcli -t -f ACTIVE,SSID-HEX,BSSID,SECURITY dev wifi` output (fields
 * split at unescaped ':', "\:" and "\\" unescaped; the SSID in hex, so a
 * network's name cannot forge a line or a field): the first well-formed line
 * whose ACTIVE is "yes" fills *out (source "nmcli"). Malformed lines (not four
 * fields, an SSID that is not hex) are skipped. 0 found; RG_ENOTFOUND no
 * active network (out->sec = NETPROT_SEC_NONE).
 */
int netprot_nmcli_parse(const char *text, struct netprot_wifi *out);
/*
 * Decodes an SSID in hex (nmcli's SSID-HEX, at most 32 bytes) into out (n
 * bytes, at least 33), NUL-terminated; control bytes become '?'. 0 or RG_EINVAL.
 */
int netprot_hex_ssid(const char *hex, char *out, size_t n);
/*
 * Runs nmcli (PATH lookup, LC_ALL=C, no shell) and parses it. RG_ENOTFOUND when
 * nmcli is not installed or NetworkManager does not answer, RG_EIO on a
 * timeout (the child is killed), else as netprot_nmcli_parse.
 */
int netprot_nmcli_read(struct netprot_wifi *out);
/*
 * The detection key of a network: "wifi:" + SHA-256 hex of ssid "\n" bssid,
 * so the key itself does not name the network. out: at least 70 bytes.
 */
void netprot_wifi_key(const char *ssid, const char *bssid, char *out, size_t n);

/* ---- interception check (netprot_tls.c) ---- */

struct netprot_tls_target {
    char host[256];
    char port[8];
    char pin[NETPROT_SHA256_HEX + 1]; /* "" or SHA-256 hex of the leaf's SPKI or of the leaf itself */
};
/* "HOST:PORT[=SHA256]" ("[v6]:PORT" for IPv6; the pin may have colons) -> *out. 0 or RG_EINVAL. */
int netprot_tls_parse(const char *spec, struct netprot_tls_target *out);

enum netprot_tls_result {
    NETPROT_TLS_PENDING = 0, /* not checked yet */
    NETPROT_TLS_OK,          /* the chain and the name verify (and the pin matches) */
    NETPROT_TLS_INTERCEPTED, /* a TLS server answered whose certificate does not verify or match the pin */
    NETPROT_TLS_UNREACHABLE, /* no connection or no TLS handshake: tells nothing */
};
const char *netprot_tls_result_name(enum netprot_tls_result r);

struct netprot_tls_outcome {
    enum netprot_tls_result result;
    char reason[160];
    int64_t at_ms; /* wall clock */
};

/*
 * One check, blocking for at most timeout_ms (connect + handshake): a TCP
 * connection to t, a TLS handshake with SNI, then the chain verified against
 * ca_file (NULL: OpenSSL's default paths, the system trust), the host name
 * (or IP) checked, and the pin compared. *cancel (may be NULL) non-zero
 * aborts within 100 ms. Fills *out; thread-safe.
 */
void netprot_tls_check(const struct netprot_tls_target *t, const char *ca_file, int timeout_ms,
                       const atomic_int *cancel, struct netprot_tls_outcome *out);

/*
 * The worker: runs the checks of targets (copied) one after another on a
 * thread of its own. netprot_tls_job_done tells whether it has finished
 * (never blocks); netprot_tls_job_finish joins it and copies the outcomes
 * (n of them) into out; netprot_tls_job_free cancels and frees (NULL ok). It
 * returns within about 300 ms: a thread still inside getaddrinfo (which cannot
 * be cancelled) is detached and frees the job itself when it ends; the job
 * holds copies of all it uses and never refers to its owner.
 */
struct netprot_tls_job;
int netprot_tls_job_start(const struct netprot_tls_target *targets, size_t n, const char *ca_file,
                          struct netprot_tls_job **out);
bool netprot_tls_job_done(struct netprot_tls_job *job);
void netprot_tls_job_finish(struct netprot_tls_job *job, struct netprot_tls_outcome *out, size_t n);
void netprot_tls_job_free(struct netprot_tls_job *job);

/* ---- the daemon side (netprot.c) ---- */

struct netprot;
struct netprot *netprot_new(void);
void netprot_free(struct netprot *np);
/* The daemon started: checks are due at once. */
void netprot_start(struct rg_agent *ag);
/* A rescan was asked for (SIGHUP, socket): certificates, Wi-Fi and interception checks now. */
void netprot_request(struct rg_agent *ag);
/* Whatever is due; true if the status changed. Never blocks for long (nmcli: 2 s at most). */
bool netprot_tick(struct rg_agent *ag, int64_t now);
/* Monotonic ms of the next due work, or INT64_MAX. */
int64_t netprot_next(const struct rg_agent *ag);
/* status.json's "networkProtection" (new reference). */
json_t *netprot_status_json(struct rg_agent *ag);
/* Who is asking over the broker socket (SO_PEERCRED, SO_PEERGROUPS). */
struct netprot_peer {
    bool known; /* false: the credentials could not be read (refused) */
    uint32_t uid, gid;
    const uint32_t *groups; /* supplementary groups, borrowed; may be NULL */
    size_t ngroups;
};
#define NETPROT_NO_GROUP UINT32_MAX
/*
 * May this peer change what network protection sees or trusts (observe,
 * trust, untrust)? Root, the daemon's own user (self_uid), and members of
 * group (primary or supplementary; NETPROT_NO_GROUP: none) may. Pure.
 */
bool netprot_peer_allowed(const struct netprot_peer *p, uint32_t self_uid, uint32_t group);
/* `run --network-group NAME`: members of this group may use the network operations. 0 or RG_EINVAL (no such group). */
int netprot_set_group(struct netprot *np, const char *name);

#define NETPROT_OBSERVE_TTL_S 3600     /* an observation fed in holds for an hour unless "ttl" says */
#define NETPROT_OBSERVE_TTL_MAX 86400
/*
 * The broker's "network <json>" request: {"op":"observe","ssid":..,"bssid":..,
 * "security":..,"ttl":S} | {"op":"trust"|"untrust","ssid":..|"cert":..}, from
 * peer (borrowed; NULL or not allowed: refused). Returns the answer (new
 * reference): {"ok":true,...} or {"error":"...","code":"forbidden"|"invalid"}.
 */
json_t *netprot_serve(struct rg_agent *ag, const char *request, const struct netprot_peer *peer);
#endif
