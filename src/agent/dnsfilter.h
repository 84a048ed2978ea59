/*
 * dnsfilter.h: the agent's local DNS filtering resolver (web protection's
 * traffic filter, the Linux stand-in for the mobile apps' local VPN).
 *
 * It listens on one address (UDP and TCP) inside the caller's poll loop: no
 * thread, non-blocking sockets only. For each query a decide callback says
 * whether the name is blocked, warned or passed; blocked and warned names get
 * a local answer (the sinkhole address, NODATA, or NXDOMAIN), every other
 * query is forwarded byte for byte to the upstream resolvers (with a random
 * ID, from a random source port: see DNSF_UP_SOCKS) and their answer relayed
 * unchanged but for the ID. An upstream that stays silent is replaced
 * by the next one; past the query's total time the client gets SERVFAIL.
 * Messages are parsed and built with ldns only (no hand-written wire code).
 *
 * Memory is bounded: at most DNSF_MAX_PENDING forwarded UDP queries and
 * DNSF_MAX_TCP TCP clients at once; beyond that new queries get SERVFAIL
 * (UDP), and a new TCP client takes the place of the client idle the longest
 * (none idle, all with a query forwarded or an answer being written: the new
 * one is refused). A TCP client that completes no query within
 * DNSF_TCP_IDLE_MS of its connection or of its last answer is closed: bytes
 * of an unfinished query do not extend that time (RFC 7766 §6.2.3).
 *
 * Not thread-safe: one filter, one thread (the decide callback runs on it).
 */
#ifndef RG_AGENT_DNSFILTER_H
#define RG_AGENT_DNSFILTER_H
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DNSF_MAX_UPSTREAMS 4
#define DNSF_MAX_PENDING 1024 /* forwarded UDP queries in flight, each with its own random 16-bit upstream ID */
#define DNSF_MAX_TCP 8        /* TCP clients at once; each may have one forwarded query over TCP */
#define DNSF_MAX_QUERY 4096   /* a larger query is answered FORMERR */
#define DNSF_TIMEOUT_MS 2000  /* per query, all upstreams together: then SERVFAIL */
#define DNSF_TCP_IDLE_MS 3000 /* TCP: a query must be complete this long after the connection or the last answer */
#define DNSF_TTL 10 /* of local answers: short, so that an override or a removed indicator applies soon */
/*
 * Forwarded UDP queries leave from a pool of DNSF_UP_SOCKS sockets per address
 * family, each bound to a random ephemeral port; each query goes from a random
 * one. A socket is replaced by one on a new port after about DNSF_UP_USES
 * queries (DNSF_UP_USES / 2 to 3/2 of it, varied per socket) or DNSF_UP_AGE_MS
 * after its first use, once the queries sent from it are answered or moved on.
 */
#define DNSF_UP_SOCKS 16 /* a power of two */
#define DNSF_UP_USES 64
#define DNSF_UP_AGE_MS 10000
/* What the filter adds to a poll set at most: UDP, TCP listener, the upstream pools, clients, their upstreams. */
#define DNSF_MAX_FDS (2 + 2 * DNSF_UP_SOCKS + 2 * DNSF_MAX_TCP)

/* What the decide callback says about a name. */
enum dnsf_action { DNSF_PASS = 0, DNSF_BLOCK = 1, DNSF_WARN = 2 };

/*
 * Decides one query. name: the query name in lower case, without the final
 * dot ("" for the root), with \DDD escapes for odd bytes. Called once per
 * well-formed query.
 */
typedef enum dnsf_action (*dnsf_decide_fn)(void *ud, const char *name, uint16_t qtype);

/* How blocked names are answered. */
struct dnsf_answers {
    bool nxdomain; /* NXDOMAIN for every type, instead of the sinkhole */
    bool have_v4;  /* A queries get v4 (else NODATA) */
    uint8_t v4[4];
    bool have_v6; /* AAAA queries get v6 (else NODATA) */
    uint8_t v6[16];
    uint32_t ttl;
};

/* What dnsf_handle decided. */
enum dnsf_result {
    DNSF_DROP = 0,  /* nothing to send (a response, or too short to answer) */
    DNSF_REPLY = 1, /* out holds the answer to send back */
    DNSF_FORWARD = 2,
};

struct dnsf_info {
    char name[1024];     /* the query name as given to decide ("" when not parsed) */
    uint16_t qtype;      /* 0 when not parsed */
    size_t question_len; /* wire bytes of the question section after the 12-byte header */
    enum dnsf_action action;
    int rcode; /* of a local answer (0 NOERROR, 1 FORMERR, 3 NXDOMAIN, 4 NOTIMP), -1 none */
};

/*
 * The whole per-query decision, the function the fuzz target drives: parses
 * q (qlen bytes, untrusted) with ldns, checks it is one standard query
 * (QR clear, opcode QUERY, QDCOUNT 1, no answer or authority records, at most
 * DNSF_MAX_QUERY bytes), asks decide (may be NULL: pass), and for a local
 * answer builds it into out (cap bytes; 512 is always enough). Malformed
 * queries get FORMERR (NOTIMP for other opcodes) when their header can be
 * read, else are dropped. info: filled (never NULL). Never reads past qlen.
 */
enum dnsf_result dnsf_handle(const struct dnsf_answers *a, dnsf_decide_fn decide, void *ud, const uint8_t *q,
                             size_t qlen, uint8_t *out, size_t cap, size_t *outlen, struct dnsf_info *info);
/* Builds a SERVFAIL answer to query q into out; 0 or -1 (q unreadable, out too small). */
int dnsf_servfail(const uint8_t *q, size_t qlen, uint8_t *out, size_t cap, size_t *outlen);

/* Counters (status.json "dnsFilter"). */
struct dnsf_stats {
    uint64_t queries, blocked, warned, forwarded, servfail, formerr, dropped;
    uint64_t tcp_evicted; /* idle TCP clients closed to make room for a new one */
};

struct dnsf_config {
    struct sockaddr_storage listen;
    socklen_t listen_len;
    struct sockaddr_storage up[DNSF_MAX_UPSTREAMS];
    socklen_t up_len[DNSF_MAX_UPSTREAMS];
    int nup;
    struct dnsf_answers answers;
    int timeout_ms; /* 0: DNSF_TIMEOUT_MS */
};

struct dnsfilter;

/*
 * Binds UDP and TCP on cfg->listen and opens the upstream socket pools (one
 * per address family of cfg->up). decide and
 * ud are kept (borrowed). *out: free with dnsfilter_free. 0, or RG_EIO with a
 * sentence in err (the address is taken, needs root, ...), RG_ENOMEM, RG_EINVAL.
 */
int dnsfilter_new(const struct dnsf_config *cfg, dnsf_decide_fn decide, void *ud, struct dnsfilter **out, char *err,
                  size_t errlen);
/* Closes every socket, frees everything; accepts NULL. */
void dnsfilter_free(struct dnsfilter *f);
/* Fills fds (at most max) with the filter's sockets and the events it waits for; returns how many. */
int dnsfilter_pollfds(struct dnsfilter *f, struct pollfd *fds, int max);
/* Serves what poll() reported ready among fds (others' fds are ignored); never blocks. */
void dnsfilter_process(struct dnsfilter *f, const struct pollfd *fds, int n);
/* Answers SERVFAIL to queries past their time, retries the next upstream, drops idle TCP clients. */
void dnsfilter_timeouts(struct dnsfilter *f, int64_t now_ms);
/* Monotonic ms of the next timeout, or INT64_MAX. */
int64_t dnsfilter_next(const struct dnsfilter *f);
const struct dnsf_stats *dnsfilter_stats(const struct dnsfilter *f);

/*
 * Parses "ADDR", "ADDR:PORT", "[V6]:PORT" (IPv4 or IPv6 literals only) into
 * ss; PORT defaults to defport. 0 or RG_EINVAL.
 */
int dnsf_parse_addr(const char *s, int defport, struct sockaddr_storage *ss, socklen_t *len);
/* "ADDR:PORT" / "[V6]:PORT" of ss into out. */
void dnsf_format_addr(const struct sockaddr_storage *ss, char *out, size_t n);
/*
 * The nameservers of a resolv.conf (path; NULL: /etc/resolv.conf), read with
 * ldns, port 53, leaving out skip (may be NULL: our own listen address).
 * Returns how many were stored (at most max).
 */
int dnsf_resolv_conf(const char *path, const struct sockaddr_storage *skip, struct sockaddr_storage *up,
                     socklen_t *up_len, int max);
#endif
