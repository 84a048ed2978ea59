/*
 * dnsfilter.c: the local DNS filtering resolver of dnsfilter.h. One UDP and
 * one TCP socket on the listen address; UDP queries are read in batches with
 * recvmmsg and answered with sendmmsg (forwards go upstream with sendmmsg too);
 * a query is read with ldns_wire2rr, never into a whole ldns_pkt, and local
 * answers are built with ldns_pkt. Forwarded UDP queries get a fully random
 * 16-bit upstream ID (OpenSSL RAND_bytes, drawn in batches), wait in a fixed
 * table of slots and are found again through a small open-addressing table
 * keyed by that ID. They leave from a pool of upstream UDP sockets per address
 * family, each bound to a random ephemeral port and replaced by a fresh one
 * after a few uses or seconds (RFC 5452: ID and port to guess); each query goes
 * out from a randomly chosen socket, batched per socket with sendmmsg, and its
 * answer is taken only on that socket, from the upstream asked, with the ID
 * sent and the question echoed. TCP clients are served one query at a time,
 * forwarded over their own TCP connection to the upstream. DNS messages are
 * read and written with ldns only.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <openssl/rand.h>

#include "agent/dnsfilter.h"
#include "common/err.h"
#include "common/util.h"

#define BATCH 32
#define UDP_MAX 4096              /* larger datagrams are truncated (MSG_TRUNC) and answered FORMERR */
#define IDTAB 2048                /* open-addressing table of the pending upstream IDs: at most half full */
#define RND_POOL 512              /* random bytes drawn from OpenSSL at a time */
#define NSOCK (2 * DNSF_UP_SOCKS) /* upstream UDP sockets: [0, DNSF_UP_SOCKS) IPv4, then IPv6 */
_Static_assert(IDTAB >= 2 * DNSF_MAX_PENDING && !(IDTAB & (IDTAB - 1)), "IDTAB: a power of two, half full at most");
_Static_assert(!(DNSF_UP_SOCKS & (DNSF_UP_SOCKS - 1)) && DNSF_UP_SOCKS <= 256, "DNSF_UP_SOCKS: a power of two");
_Static_assert(DNSF_MAX_PENDING <= 65535, "slot numbers are uint16_t");

/* ---------------------------------------------------------------- one query */

static void info_reset(struct dnsf_info *info)
{
    info->name[0] = '\0';
    info->qtype = 0;
    info->question_len = 0;
    info->action = DNSF_PASS;
    info->rcode = -1;
}

/*
 * Writes pkt into out; 0 or -1 (does not fit, no memory). Through a buffer of
 * cap bytes: ldns_pkt2wire would allocate 64 KiB for every answer.
 */
static int emit(const ldns_pkt *pkt, uint8_t *out, size_t cap, size_t *outlen)
{
    ldns_buffer *b = ldns_buffer_new(cap);
    int rc = -1;
    if (b && ldns_pkt2buffer_wire(b, pkt) == LDNS_STATUS_OK && ldns_buffer_position(b) <= cap) {
        *outlen = ldns_buffer_position(b);
        memcpy(out, ldns_buffer_begin(b), *outlen);
        rc = 0;
    }
    ldns_buffer_free(b);
    return rc;
}

/*
 * A response to the query header hdr: its id, opcode and rd echoed, qr and ra
 * set, rcode, and a copy of question (if any) in the question section. NULL
 * without memory.
 */
static ldns_pkt *answer_new(const uint8_t *hdr, const ldns_rr *question, ldns_pkt_rcode rcode)
{
    ldns_pkt *p = ldns_pkt_new();
    if (!p)
        return NULL;
    ldns_pkt_set_id(p, LDNS_ID_WIRE(hdr));
    ldns_pkt_set_qr(p, true);
    ldns_pkt_set_opcode(p, (ldns_pkt_opcode)LDNS_OPCODE_WIRE(hdr));
    ldns_pkt_set_rd(p, LDNS_RD_WIRE(hdr) != 0);
    ldns_pkt_set_ra(p, true);
    ldns_pkt_set_rcode(p, (uint8_t)rcode);
    if (question) {
        ldns_rr *c = ldns_rr_clone(question);
        if (!c || !ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, c)) {
            ldns_rr_free(c);
            ldns_pkt_free(p);
            return NULL;
        }
    }
    return p;
}

/* An error answer (FORMERR, NOTIMP, SERVFAIL) carrying id, opcode and rd of the query header, and question q if any. */
static int error_answer(const uint8_t *hdr, const ldns_rr *question, ldns_pkt_rcode rcode, uint8_t *out, size_t cap,
                        size_t *outlen)
{
    ldns_pkt *p = answer_new(hdr, question, rcode);
    if (!p)
        return -1;
    int rc = emit(p, out, cap, outlen);
    ldns_pkt_free(p);
    return rc;
}

/* The local answer for a blocked or warned name. */
static int block_answer(const struct dnsf_answers *a, const uint8_t *hdr, bool edns, const ldns_rr *question,
                        uint8_t *out, size_t cap, size_t *outlen, int *rcode)
{
    *rcode = a->nxdomain ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR;
    ldns_pkt *p = answer_new(hdr, question, (ldns_pkt_rcode)*rcode);
    if (!p)
        return -1;
    ldns_pkt_set_aa(p, true);
    if (edns)
        ldns_pkt_set_edns_udp_size(p, 1232); /* answer EDNS with EDNS, without options */
    int rc = 0;
    ldns_rr_type t = ldns_rr_get_type(question);
    bool in = ldns_rr_get_class(question) == LDNS_RR_CLASS_IN;
    const uint8_t *addr = NULL;
    size_t alen = 0;
    if (!a->nxdomain && in && t == LDNS_RR_TYPE_A && a->have_v4)
        addr = a->v4, alen = 4;
    else if (!a->nxdomain && in && t == LDNS_RR_TYPE_AAAA && a->have_v6)
        addr = a->v6, alen = 16;
    if (!rc && addr) { /* else NODATA: NOERROR with no answer */
        ldns_rr *rr = ldns_rr_new();
        ldns_rdf *owner = ldns_rdf_clone(ldns_rr_owner(question));
        ldns_rdf *data = ldns_rdf_new_frm_data(alen == 4 ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA, alen, addr);
        if (!rr || !owner || !data) {
            ldns_rr_free(rr);
            ldns_rdf_deep_free(owner);
            ldns_rdf_deep_free(data);
            rc = -1;
        } else {
            ldns_rr_set_owner(rr, owner);
            ldns_rr_set_type(rr, t);
            ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
            ldns_rr_set_ttl(rr, a->ttl);
            if (!ldns_rr_push_rdf(rr, data)) {
                ldns_rdf_deep_free(data);
                ldns_rr_free(rr);
                rc = -1;
            } else if (!ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr)) {
                ldns_rr_free(rr);
                rc = -1;
            }
        }
    }
    if (!rc)
        rc = emit(p, out, cap, outlen);
    ldns_pkt_free(p);
    return rc;
}

/*
 * The name of a question as decide sees it: lower case, no final dot. 0 or -1.
 * ldns writes the presentation form; lower-casing its A-Z is what
 * ldns_dname2canonical does to the wire bytes (escapes are digits), and leaves
 * the question itself as asked, for the answer to echo.
 */
static int qname_text(const ldns_rdf *owner, char *out, size_t n)
{
    ldns_buffer *b = ldns_buffer_new(256);
    int rc = -1;
    if (b && ldns_rdf2buffer_str_dname(b, owner) == LDNS_STATUS_OK) {
        size_t len = ldns_buffer_position(b);
        const char *s = (const char *)ldns_buffer_begin(b);
        if (len > 0 && s[len - 1] == '.')
            len--;
        if (len < n) {
            for (size_t i = 0; i < len; i++)
                out[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
            out[len] = '\0';
            rc = 0;
        }
    }
    ldns_buffer_free(b);
    return rc;
}

/*
 * Reads the one question of q (and checks its additional section, where EDNS's
 * OPT record is) with ldns's record reader: the per-query path builds no
 * ldns_pkt. The header's counts were checked by the caller. *wire_len: the
 * question's bytes after the header. 0 or -1.
 */
static int read_question(const uint8_t *q, size_t qlen, ldns_rr **question, size_t *wire_len, bool *edns)
{
    size_t pos = LDNS_HEADER_SIZE;
    *question = NULL;
    *edns = false;
    if (ldns_wire2rr(question, q, qlen, &pos, LDNS_SECTION_QUESTION) != LDNS_STATUS_OK || !*question)
        return -1;
    *wire_len = pos - LDNS_HEADER_SIZE; /* as sent (a compressed name is shorter than its rdf) */
    for (unsigned i = 0; i < LDNS_ARCOUNT(q); i++) {
        ldns_rr *rr = NULL;
        if (ldns_wire2rr(&rr, q, qlen, &pos, LDNS_SECTION_ADDITIONAL) != LDNS_STATUS_OK || !rr) {
            ldns_rr_free(*question);
            *question = NULL;
            return -1;
        }
        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_OPT)
            *edns = true;
        ldns_rr_free(rr);
    }
    return 0;
}

enum dnsf_result dnsf_handle(const struct dnsf_answers *a, dnsf_decide_fn decide, void *ud, const uint8_t *q,
                             size_t qlen, uint8_t *out, size_t cap, size_t *outlen, struct dnsf_info *info)
{
    info_reset(info);
    *outlen = 0;
    if (!q || qlen < LDNS_HEADER_SIZE || LDNS_QR_WIRE(q))
        return DNSF_DROP; /* not a query, or no header to answer to */
    if (qlen > DNSF_MAX_QUERY) {
        info->rcode = LDNS_RCODE_FORMERR;
        return error_answer(q, NULL, LDNS_RCODE_FORMERR, out, cap, outlen) ? DNSF_DROP : DNSF_REPLY;
    }
    if (LDNS_OPCODE_WIRE(q) != LDNS_PACKET_QUERY) {
        info->rcode = LDNS_RCODE_NOTIMPL;
        return error_answer(q, NULL, LDNS_RCODE_NOTIMPL, out, cap, outlen) ? DNSF_DROP : DNSF_REPLY;
    }
    ldns_rr *question = NULL;
    bool edns = false;
    if (LDNS_QDCOUNT(q) != 1 || LDNS_ANCOUNT(q) || LDNS_NSCOUNT(q) ||
        read_question(q, qlen, &question, &info->question_len, &edns)) {
        info->question_len = 0;
        info->rcode = LDNS_RCODE_FORMERR;
        return error_answer(q, NULL, LDNS_RCODE_FORMERR, out, cap, outlen) ? DNSF_DROP : DNSF_REPLY;
    }
    const ldns_rdf *owner = ldns_rr_owner(question);
    info->qtype = (uint16_t)ldns_rr_get_type(question);
    if (qname_text(owner, info->name, sizeof info->name)) {
        info->name[0] = '\0';
        ldns_rr_free(question);
        info->rcode = LDNS_RCODE_FORMERR;
        return error_answer(q, NULL, LDNS_RCODE_FORMERR, out, cap, outlen) ? DNSF_DROP : DNSF_REPLY;
    }
    info->action = decide ? decide(ud, info->name, info->qtype) : DNSF_PASS;
    enum dnsf_result r = DNSF_FORWARD;
    if (info->action != DNSF_PASS)
        r = block_answer(a, q, edns, question, out, cap, outlen, &info->rcode) ? DNSF_DROP : DNSF_REPLY;
    ldns_rr_free(question);
    return r;
}

int dnsf_servfail(const uint8_t *q, size_t qlen, uint8_t *out, size_t cap, size_t *outlen)
{
    if (!q || qlen < LDNS_HEADER_SIZE)
        return -1;
    /* Only the question is read (as dnsf_handle does): ldns_wire2pkt on a whole malformed packet
     * leaks what it had read before failing (libldns 1.8.3; found by fuzz/fuzz_dns.c), and a
     * SERVFAIL answers with the question alone. */
    ldns_rr *question = NULL;
    size_t pos = LDNS_HEADER_SIZE;
    if (LDNS_QDCOUNT(q) == 1 && ldns_wire2rr(&question, q, qlen, &pos, LDNS_SECTION_QUESTION) != LDNS_STATUS_OK) {
        ldns_rr_free(question);
        question = NULL;
    }
    int rc = error_answer(q, question, LDNS_RCODE_SERVFAIL, out, cap, outlen);
    ldns_rr_free(question);
    return rc;
}

/* ---------------------------------------------------------------- addresses */

int dnsf_parse_addr(const char *s, int defport, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *port = NULL;
    size_t hl;
    if (!s || !*s)
        return RG_EINVAL;
    if (*s == '[') {
        const char *e = strchr(s, ']');
        if (!e || (e[1] && e[1] != ':'))
            return RG_EINVAL;
        hl = (size_t)(e - s - 1);
        s++;
        port = e[1] ? e + 2 : NULL;
    } else {
        const char *c = strchr(s, ':');
        if (c && strchr(c + 1, ':')) { /* a bare IPv6 address */
            hl = strlen(s);
        } else {
            hl = c ? (size_t)(c - s) : strlen(s);
            port = c ? c + 1 : NULL;
        }
    }
    if (hl == 0 || hl >= sizeof host)
        return RG_EINVAL;
    memcpy(host, s, hl);
    host[hl] = '\0';
    long p = defport;
    if (port) {
        char *end;
        errno = 0;
        p = strtol(port, &end, 10);
        if (errno || *end || end == port || p < 0 || p > 65535) /* 0: any free port */
            return RG_EINVAL;
    }
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)p);
        *len = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)p);
        *len = sizeof *v6;
        return 0;
    }
    return RG_EINVAL;
}

void dnsf_format_addr(const struct sockaddr_storage *ss, char *out, size_t n)
{
    char h[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &v6->sin6_addr, h, sizeof h);
        snprintf(out, n, "[%s]:%u", h, ntohs(v6->sin6_port));
    } else if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &v4->sin_addr, h, sizeof h);
        snprintf(out, n, "%s:%u", h, ntohs(v4->sin_port));
    } else {
        snprintf(out, n, "-");
    }
}

/* Same family, address and port. */
static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)a, *y = (const struct sockaddr_in *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a, *y = (const struct sockaddr_in6 *)b;
        return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr);
    }
    return false;
}

int dnsf_resolv_conf(const char *path, const struct sockaddr_storage *skip, struct sockaddr_storage *up,
                     socklen_t *up_len, int max)
{
    ldns_resolver *res = NULL;
    if (ldns_resolver_new_frm_file(&res, path) != LDNS_STATUS_OK || !res)
        return 0;
    int n = 0;
    ldns_rdf **ns = ldns_resolver_nameservers(res);
    for (size_t i = 0; i < ldns_resolver_nameserver_count(res) && n < max; i++) {
        size_t sz = 0;
        struct sockaddr_storage *ss = ldns_rdf2native_sockaddr_storage(ns[i], 53, &sz);
        if (!ss)
            continue;
        if (sz <= sizeof *up && !(skip && same_addr(ss, skip))) {
            memset(&up[n], 0, sizeof up[n]);
            memcpy(&up[n], ss, sz);
            up_len[n] = (socklen_t)sz;
            n++;
        }
        LDNS_FREE(ss);
    }
    ldns_resolver_deep_free(res);
    return n;
}

/* ---------------------------------------------------------------- the filter */

struct pending {
    bool used;
    uint16_t client_id, up_id;
    int up, tries;
    int sock; /* the upstream socket its current try left from (index into us), -1 none */
    int64_t try_deadline, deadline;
    struct sockaddr_storage client;
    socklen_t client_len;
    uint8_t *q; /* the client's query, with the upstream ID written in */
    uint16_t qlen, question_len;
};

struct tcp_client {
    int fd; /* -1: free */
    uint8_t in[2 + DNSF_MAX_QUERY];
    size_t inlen;
    uint8_t *out; /* a framed answer being written, or NULL */
    size_t outlen, outoff;
    int64_t idle_deadline; /* connection or last answer + DNSF_TCP_IDLE_MS: partial queries do not move it */
    /* the query being forwarded over TCP, if ufd >= 0 or busy */
    bool busy;
    int ufd, up, tries;
    bool connected;
    uint8_t *fq; /* framed query for the upstream */
    size_t fqlen, fqsent;
    uint8_t *ans; /* framed answer from the upstream, or its 2-byte length so far */
    size_t anslen, anscap;
    uint8_t lenbuf[2];
    uint16_t client_id, question_len;
    int64_t try_deadline, deadline;
};

/*
 * One upstream UDP socket of the pool, bound to a random ephemeral port. Past
 * its uses or its time it retires: no new query leaves from it, and once the
 * queries that did are answered or moved on, it is replaced by a socket on a
 * new port (so an answer is never lost to a rotation).
 */
struct upsock {
    int fd; /* -1: closed (no upstream of that family) */
    bool retiring, queued;
    int npend;         /* pending queries whose current try left from it */
    uint32_t uses;     /* queries sent since it was opened */
    uint32_t max_uses; /* then it retires: DNSF_UP_USES / 2 .. 3/2 DNSF_UP_USES, so the pool does not retire at once */
    int64_t expires;   /* or at this time (monotonic ms; 0: set at its first use) */
    uint16_t fwd[BATCH]; /* pending slots whose query waits to be sent from it */
    int nfwd;
};

struct dnsfilter {
    struct dnsf_config cfg;
    dnsf_decide_fn decide;
    void *ud;
    int ufd, tfd; /* listeners */
    struct upsock us[NSOCK];
    int nretiring[2]; /* per family */
    int dirty[NSOCK]; /* sockets with forwards queued (us[i].queued) */
    int ndirty;
    struct pending pend[DNSF_MAX_PENDING];
    int npend;
    uint16_t freeslot[DNSF_MAX_PENDING]; /* a stack of the free slots of pend */
    int nfree;
    uint16_t idtab[IDTAB]; /* 1 + slot of the pending query with that upstream ID (linear probing), 0 empty */
    uint8_t rpool[RND_POOL];
    size_t rpos;
    int64_t next_deadline; /* earliest pending deadline, INT64_MAX */
    struct tcp_client tcp[DNSF_MAX_TCP];
    uint64_t rnd;
    struct dnsf_stats st;
    /* batch buffers */
    uint8_t rbuf[BATCH][UDP_MAX + 1];
    struct sockaddr_storage raddr[BATCH];
    uint8_t sbuf[BATCH][512];
    struct sockaddr_storage saddr[BATCH];
    size_t slen[BATCH];
    socklen_t salen[BATCH];
    int nsend;
};

/* Refills the random pool: OpenSSL's CSPRNG, else getrandom, else (neither works) a xorshift64* seeded at start. */
static void rnd_fill(struct dnsfilter *f)
{
    f->rpos = 0;
    if (RAND_bytes(f->rpool, (int)sizeof f->rpool) == 1 ||
        getrandom(f->rpool, sizeof f->rpool, GRND_NONBLOCK) == (ssize_t)sizeof f->rpool)
        return;
    for (size_t i = 0; i < sizeof f->rpool; i += 2) {
        f->rnd ^= f->rnd >> 12;
        f->rnd ^= f->rnd << 25;
        f->rnd ^= f->rnd >> 27;
        ldns_write_uint16(f->rpool + i, (uint16_t)((f->rnd * 2685821657736338717ULL) >> 48));
    }
}

/* 16 random bits, from the pool: one RAND_bytes call per RND_POOL / 2 values. */
static uint16_t rnd16(struct dnsfilter *f)
{
    if (f->rpos + 2 > sizeof f->rpool)
        rnd_fill(f);
    uint16_t v = ldns_read_uint16(f->rpool + f->rpos);
    f->rpos += 2;
    return v;
}

/* ---- pending queries by upstream ID */

/* The slot of the pending query with upstream ID id, or -1. */
static int id_find(const struct dnsfilter *f, uint16_t id)
{
    for (unsigned i = id & (IDTAB - 1); f->idtab[i]; i = (i + 1) & (IDTAB - 1))
        if (f->pend[f->idtab[i] - 1].up_id == id)
            return f->idtab[i] - 1;
    return -1;
}

/* Files slot under its up_id (not already there; the table is never full). */
static void id_put(struct dnsfilter *f, int slot)
{
    unsigned i = f->pend[slot].up_id & (IDTAB - 1);
    while (f->idtab[i])
        i = (i + 1) & (IDTAB - 1);
    f->idtab[i] = (uint16_t)(slot + 1);
}

/* Removes slot (filed under its up_id), moving later entries of its run back so lookups need no tombstones. */
static void id_del(struct dnsfilter *f, int slot)
{
    unsigned i = f->pend[slot].up_id & (IDTAB - 1);
    while (f->idtab[i] != slot + 1) {
        if (!f->idtab[i])
            return;
        i = (i + 1) & (IDTAB - 1);
    }
    for (unsigned j = (i + 1) & (IDTAB - 1); f->idtab[j]; j = (j + 1) & (IDTAB - 1)) {
        unsigned home = f->pend[f->idtab[j] - 1].up_id & (IDTAB - 1);
        /* entry j may fill the hole at i unless its home lies cyclically in (i, j] */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            f->idtab[i] = f->idtab[j];
            i = j;
        }
    }
    f->idtab[i] = 0;
}

static int open_sock(int family, int type, const struct sockaddr *bind_to, socklen_t len, bool listen_too, char *err,
                     size_t errlen)
{
    int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    if (type == SOCK_STREAM)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind_to && bind(fd, bind_to, len)) {
        int e = errno; /* kept for the caller (EADDRINUSE) */
        snprintf(err, errlen, "%s", strerror(e));
        close(fd);
        errno = e;
        return -1;
    }
    if (listen_too && listen(fd, 64)) {
        snprintf(err, errlen, "listen: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* A UDP socket of family fam bound to a port the kernel picks at random from the ephemeral range; -1 (errno). */
static int upsock_open(int fam)
{
    struct sockaddr_storage any;
    memset(&any, 0, sizeof any);
    any.ss_family = (sa_family_t)fam; /* the wildcard address, port 0 */
    char why[128];
    return open_sock(fam, SOCK_DGRAM, (const struct sockaddr *)&any,
                     fam == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in), false, why,
                     sizeof why);
}

/* Fresh limits for socket u; its expiry is set at its first use (an idle socket need not be replaced). */
static void upsock_reset(struct dnsfilter *f, struct upsock *u)
{
    u->uses = 0;
    u->max_uses = DNSF_UP_USES / 2 + rnd16(f) % DNSF_UP_USES;
    u->expires = 0;
    u->retiring = false;
}

/* Replaces a retired socket whose queries are all done with one on a new port; keeps it if none can be opened. */
static void upsock_renew(struct dnsfilter *f, int s)
{
    struct upsock *u = &f->us[s];
    int fd = upsock_open(s < DNSF_UP_SOCKS ? AF_INET : AF_INET6);
    if (fd >= 0) {
        close(u->fd);
        u->fd = fd;
    }
    f->nretiring[s >= DNSF_UP_SOCKS]--;
    upsock_reset(f, u);
}

/* Renews the retired sockets that no pending query uses any more; cheap when none is retiring. */
static void pool_maintain(struct dnsfilter *f)
{
    if (!f->nretiring[0] && !f->nretiring[1])
        return;
    for (int s = 0; s < NSOCK; s++)
        if (f->us[s].retiring && !f->us[s].npend && !f->us[s].queued)
            upsock_renew(f, s);
}

/*
 * A random open socket of family k (0 IPv4, 1 IPv6) for the next query, or -1.
 * A socket past its uses or time retires here, as long as half the family's
 * pool is still taking queries.
 */
static int pool_pick(struct dnsfilter *f, int k, int64_t now)
{
    int base = k * DNSF_UP_SOCKS, r = rnd16(f) % DNSF_UP_SOCKS, fallback = -1;
    for (int i = 0; i < DNSF_UP_SOCKS; i++) {
        int s = base + (r + i) % DNSF_UP_SOCKS;
        struct upsock *u = &f->us[s];
        if (u->fd < 0)
            continue;
        if (!u->retiring && (u->uses >= u->max_uses || (u->expires && now >= u->expires)) &&
            f->nretiring[k] < DNSF_UP_SOCKS / 2) {
            u->retiring = true;
            f->nretiring[k]++;
        }
        if (!u->retiring)
            return s;
        if (fallback < 0)
            fallback = s;
    }
    return fallback;
}

int dnsfilter_new(const struct dnsf_config *cfg, dnsf_decide_fn decide, void *ud, struct dnsfilter **out, char *err,
                  size_t errlen)
{
    *out = NULL;
    if (cfg->nup < 0 || cfg->nup > DNSF_MAX_UPSTREAMS) {
        snprintf(err, errlen, "at most %d upstream resolvers", DNSF_MAX_UPSTREAMS);
        return RG_EINVAL;
    }
    struct dnsfilter *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return RG_ENOMEM;
    }
    f->cfg = *cfg;
    if (f->cfg.timeout_ms <= 0)
        f->cfg.timeout_ms = DNSF_TIMEOUT_MS;
    f->decide = decide;
    f->ud = ud;
    f->ufd = f->tfd = -1;
    for (int s = 0; s < NSOCK; s++)
        f->us[s].fd = -1;
    f->next_deadline = INT64_MAX;
    for (int i = 0; i < DNSF_MAX_TCP; i++)
        f->tcp[i].fd = f->tcp[i].ufd = -1;
    for (int i = 0; i < DNSF_MAX_PENDING; i++) {
        f->pend[i].sock = -1;
        f->freeslot[i] = (uint16_t)(DNSF_MAX_PENDING - 1 - i);
    }
    f->nfree = DNSF_MAX_PENDING;
    if (getrandom(&f->rnd, sizeof f->rnd, 0) != (ssize_t)sizeof f->rnd || !f->rnd)
        f->rnd = util_mono_ns() | 1; /* the last resort of rnd_fill only */
    rnd_fill(f);
    char why[256];
    char where[80];
    dnsf_format_addr(&cfg->listen, where, sizeof where);
    int fam = cfg->listen.ss_family;
    /* Port 0 lets the UDP bind pick a free port, which TCP may already use elsewhere: then try another one. */
    bool any_port = fam == AF_INET6 ? ((const struct sockaddr_in6 *)&cfg->listen)->sin6_port == 0
                                    : ((const struct sockaddr_in *)&cfg->listen)->sin_port == 0;
    for (int attempt = 0; attempt < (any_port ? 8 : 1); attempt++) {
        if (f->ufd >= 0)
            close(f->ufd);
        f->ufd =
            open_sock(fam, SOCK_DGRAM, (const struct sockaddr *)&cfg->listen, cfg->listen_len, false, why, sizeof why);
        if (f->ufd < 0)
            break;
        /* TCP on the same port (the UDP bind may have picked port 0's ephemeral one) */
        struct sockaddr_storage bound;
        socklen_t bl = sizeof bound;
        getsockname(f->ufd, (struct sockaddr *)&bound, &bl);
        f->cfg.listen = bound;
        f->cfg.listen_len = bl;
        f->tfd = open_sock(fam, SOCK_STREAM, (const struct sockaddr *)&bound, bl, true, why, sizeof why);
        if (f->tfd >= 0 || errno != EADDRINUSE)
            break;
    }
    if (f->ufd < 0 || f->tfd < 0) {
        snprintf(err, errlen, "the DNS filter could not listen on %s: %s", where, why);
        dnsfilter_free(f);
        return RG_EIO;
    }
    int rcv = 4 << 20;
    setsockopt(f->ufd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    for (int i = 0; i < cfg->nup; i++) {
        int k = cfg->up[i].ss_family == AF_INET6;
        for (int s = k * DNSF_UP_SOCKS; s < (k + 1) * DNSF_UP_SOCKS; s++) {
            if (f->us[s].fd >= 0)
                continue;
            if ((f->us[s].fd = upsock_open(k ? AF_INET6 : AF_INET)) < 0) {
                snprintf(err, errlen, "the DNS filter could not open an upstream socket: %s", strerror(errno));
                dnsfilter_free(f);
                return RG_EIO;
            }
            upsock_reset(f, &f->us[s]);
        }
    }
    *out = f;
    return 0;
}

static void tcp_upstream_close(struct tcp_client *c)
{
    if (c->ufd >= 0)
        close(c->ufd);
    c->ufd = -1;
    c->connected = false;
    free(c->ans);
    c->ans = NULL;
    c->anslen = c->anscap = 0;
    c->fqsent = 0;
}

static void tcp_close(struct tcp_client *c)
{
    tcp_upstream_close(c);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->out);
    free(c->fq);
    c->out = c->fq = NULL;
    c->inlen = c->outlen = c->outoff = c->fqlen = 0;
    c->busy = false;
}

/* Detaches p from the socket its last try left from (answers there are no longer taken). */
static void pend_unsock(struct dnsfilter *f, struct pending *p)
{
    if (p->sock >= 0)
        f->us[p->sock].npend--;
    p->sock = -1;
}

static void pend_free(struct dnsfilter *f, struct pending *p)
{
    pend_unsock(f, p);
    id_del(f, (int)(p - f->pend));
    free(p->q);
    p->q = NULL;
    p->used = false;
    f->npend--;
    f->freeslot[f->nfree++] = (uint16_t)(p - f->pend);
}

void dnsfilter_free(struct dnsfilter *f)
{
    if (!f)
        return;
    for (int i = 0; i < DNSF_MAX_PENDING; i++)
        if (f->pend[i].used)
            pend_free(f, &f->pend[i]);
    for (int i = 0; i < DNSF_MAX_TCP; i++)
        tcp_close(&f->tcp[i]);
    int fds[] = {f->ufd, f->tfd};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    for (int s = 0; s < NSOCK; s++)
        if (f->us[s].fd >= 0)
            close(f->us[s].fd);
    free(f);
}

const struct dnsf_stats *dnsfilter_stats(const struct dnsfilter *f)
{
    return &f->st;
}

int dnsfilter_pollfds(struct dnsfilter *f, struct pollfd *fds, int max)
{
    int n = 0;
#define ADD(fd_, ev_)                                                                                                  \
    do {                                                                                                               \
        if (n < max) {                                                                                                 \
            fds[n].fd = (fd_);                                                                                         \
            fds[n].events = (short)(ev_);                                                                              \
            fds[n].revents = 0;                                                                                        \
            n++;                                                                                                       \
        }                                                                                                              \
    } while (0)
    ADD(f->ufd, POLLIN);
    ADD(f->tfd, POLLIN);
    /* only the upstream sockets some query waits on: nothing else is taken from them (what else reaches one waits in
     * its buffer, and is read and dropped once a query uses it, or closed with it) */
    for (int s = 0; s < NSOCK; s++)
        if (f->us[s].fd >= 0 && f->us[s].npend)
            ADD(f->us[s].fd, POLLIN);
    for (int i = 0; i < DNSF_MAX_TCP; i++) {
        struct tcp_client *c = &f->tcp[i];
        if (c->fd < 0)
            continue;
        short ev = 0;
        if (c->out)
            ev |= POLLOUT;
        else if (!c->busy)
            ev |= POLLIN;
        ADD(c->fd, ev);
        if (c->ufd >= 0)
            ADD(c->ufd, c->connected && c->fqsent == c->fqlen ? POLLIN : POLLOUT);
    }
#undef ADD
    return n;
}

/* ---- UDP */

static void queue_send(struct dnsfilter *f, const uint8_t *data, size_t len, const struct sockaddr_storage *to,
                       socklen_t tolen);

static void flush_sends(struct dnsfilter *f)
{
    if (!f->nsend)
        return;
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    memset(m, 0, sizeof m);
    for (int i = 0; i < f->nsend; i++) {
        iov[i].iov_base = f->sbuf[i];
        iov[i].iov_len = f->slen[i];
        m[i].msg_hdr.msg_iov = &iov[i];
        m[i].msg_hdr.msg_iovlen = 1;
        m[i].msg_hdr.msg_name = &f->saddr[i];
        m[i].msg_hdr.msg_namelen = f->salen[i];
    }
    int off = 0;
    while (off < f->nsend) {
        int k = sendmmsg(f->ufd, m + off, (unsigned)(f->nsend - off), 0);
        if (k <= 0) {
            if (k < 0 && errno == EINTR)
                continue;
            /* a full socket buffer or an unreachable client: those answers are lost, as over any UDP path */
            f->st.dropped += (uint64_t)(f->nsend - off);
            break;
        }
        off += k;
    }
    f->nsend = 0;
}

static void queue_send(struct dnsfilter *f, const uint8_t *data, size_t len, const struct sockaddr_storage *to,
                       socklen_t tolen)
{
    if (len > sizeof f->sbuf[0]) { /* relayed answers can be large: send at once */
        flush_sends(f);
        if (sendto(f->ufd, data, len, 0, (const struct sockaddr *)to, tolen) < 0)
            f->st.dropped++;
        return;
    }
    if (f->nsend == BATCH)
        flush_sends(f);
    memcpy(f->sbuf[f->nsend], data, len);
    f->slen[f->nsend] = len;
    f->saddr[f->nsend] = *to;
    f->salen[f->nsend] = tolen;
    f->nsend++;
}

static void servfail_to(struct dnsfilter *f, const uint8_t *q, size_t qlen, const struct sockaddr_storage *to,
                        socklen_t tolen)
{
    uint8_t out[512];
    size_t n;
    f->st.servfail++;
    if (!dnsf_servfail(q, qlen, out, sizeof out, &n))
        queue_send(f, out, n, to, tolen);
}

/*
 * Sends the queued forwards of upstream socket k with sendmmsg. A query the
 * kernel refuses is retried at once on the next upstream, through the
 * timeouts: its try ends now.
 */
static void flush_forwards_k(struct dnsfilter *f, int k, int64_t now)
{
    struct upsock *u = &f->us[k];
    int n = u->nfwd;
    if (!n)
        return;
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    memset(m, 0, sizeof m);
    for (int i = 0; i < n; i++) {
        struct pending *p = &f->pend[u->fwd[i]];
        iov[i].iov_base = p->q;
        iov[i].iov_len = p->qlen;
        m[i].msg_hdr.msg_iov = &iov[i];
        m[i].msg_hdr.msg_iovlen = 1;
        m[i].msg_hdr.msg_name = &f->cfg.up[p->up];
        m[i].msg_hdr.msg_namelen = f->cfg.up_len[p->up];
    }
    int off = 0;
    while (off < n) {
        int sent = sendmmsg(u->fd, m + off, (unsigned)(n - off), 0);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent <= 0) { /* the message at off failed */
            struct pending *p = &f->pend[u->fwd[off]];
            p->try_deadline = now;
            f->next_deadline = now;
            off++;
            continue;
        }
        off += sent;
    }
    u->nfwd = 0;
}

/* Sends what is queued on every socket: one sendmmsg per socket used. */
static void flush_forwards(struct dnsfilter *f, int64_t now)
{
    for (int i = 0; i < f->ndirty; i++) {
        flush_forwards_k(f, f->dirty[i], now);
        f->us[f->dirty[i]].queued = false;
    }
    f->ndirty = 0;
}

/*
 * Queues p's query for its current upstream (sent by flush_forwards) on a
 * randomly chosen socket of the pool, the only one its answer is then taken
 * on; false if it cannot go.
 */
static bool pend_send(struct dnsfilter *f, struct pending *p, int64_t now)
{
    const struct sockaddr_storage *up = &f->cfg.up[p->up];
    int k = up->ss_family == AF_INET6;
    int64_t per_try = f->cfg.timeout_ms / (f->cfg.nup ? f->cfg.nup : 1);
    p->try_deadline = now + per_try;
    if (p->try_deadline > p->deadline || p->tries + 1 >= f->cfg.nup)
        p->try_deadline = p->deadline;
    if (p->try_deadline < f->next_deadline)
        f->next_deadline = p->try_deadline;
    p->tries++;
    pend_unsock(f, p);
    int s = pool_pick(f, k, now);
    if (s < 0)
        return false;
    struct upsock *u = &f->us[s];
    p->sock = s;
    u->npend++;
    u->uses++;
    if (!u->expires)
        u->expires = now + DNSF_UP_AGE_MS;
    if (u->nfwd == BATCH)
        flush_forwards_k(f, s, now);
    if (!u->queued) {
        u->queued = true;
        f->dirty[f->ndirty++] = s;
    }
    u->fwd[u->nfwd++] = (uint16_t)(p - f->pend);
    return true;
}

/* Restores the client's ID into q (in place). */
static void restore_id(uint8_t *q, uint16_t id)
{
    ldns_write_uint16(q, id);
}

static void pend_fail(struct dnsfilter *f, struct pending *p)
{
    restore_id(p->q, p->client_id);
    servfail_to(f, p->q, p->qlen, &p->client, p->client_len);
    pend_free(f, p);
}

static void forward_udp(struct dnsfilter *f, const uint8_t *q, size_t qlen, const struct dnsf_info *info,
                        const struct sockaddr_storage *from, socklen_t fromlen, int64_t now)
{
    if (!f->cfg.nup || f->npend == DNSF_MAX_PENDING) {
        servfail_to(f, q, qlen, from, fromlen);
        return;
    }
    int slot = f->freeslot[f->nfree - 1]; /* (the ID, not the slot, is what an answer must guess) */
    struct pending *p = &f->pend[slot];
    if (!(p->q = malloc(qlen))) {
        servfail_to(f, q, qlen, from, fromlen);
        return;
    }
    memcpy(p->q, q, qlen);
    f->nfree--;
    p->used = true;
    f->npend++;
    p->qlen = (uint16_t)qlen;
    p->question_len = (uint16_t)info->question_len;
    p->client_id = LDNS_ID_WIRE(q);
    do /* 16 random bits, none shared with another pending query */
        p->up_id = rnd16(f);
    while (id_find(f, p->up_id) >= 0);
    id_put(f, slot);
    restore_id(p->q, p->up_id);
    p->client = *from;
    p->client_len = fromlen;
    p->up = 0;
    p->tries = 0;
    p->deadline = now + f->cfg.timeout_ms;
    f->st.forwarded++;
    while (!pend_send(f, p, now)) {
        if (p->tries >= f->cfg.nup) {
            pend_fail(f, p);
            return;
        }
        p->up = (p->up + 1) % f->cfg.nup;
    }
}

static void on_query(struct dnsfilter *f, const uint8_t *q, size_t qlen, bool truncated,
                     const struct sockaddr_storage *from, socklen_t fromlen, int64_t now)
{
    uint8_t out[512];
    size_t n = 0;
    struct dnsf_info info;
    f->st.queries++;
    enum dnsf_result r = dnsf_handle(&f->cfg.answers, f->decide, f->ud, q, truncated ? DNSF_MAX_QUERY + 1 : qlen, out,
                                     sizeof out, &n, &info);
    if (r == DNSF_REPLY) {
        if (info.rcode == LDNS_RCODE_FORMERR || info.rcode == LDNS_RCODE_NOTIMPL)
            f->st.formerr++;
        else if (info.action == DNSF_WARN)
            f->st.warned++;
        else
            f->st.blocked++;
        queue_send(f, out, n, from, fromlen);
    } else if (r == DNSF_FORWARD) {
        forward_udp(f, q, qlen, &info, from, fromlen, now);
    } else {
        f->st.dropped++;
    }
}

static void read_queries(struct dnsfilter *f, int64_t now)
{
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    for (int round = 0; round < 32; round++) { /* then let the other sockets have a turn */
        memset(m, 0, sizeof m);
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = f->rbuf[i];
            iov[i].iov_len = sizeof f->rbuf[i];
            m[i].msg_hdr.msg_iov = &iov[i];
            m[i].msg_hdr.msg_iovlen = 1;
            m[i].msg_hdr.msg_name = &f->raddr[i];
            m[i].msg_hdr.msg_namelen = sizeof f->raddr[i];
        }
        int k = recvmmsg(f->ufd, m, BATCH, MSG_DONTWAIT, NULL);
        if (k <= 0)
            break;
        for (int i = 0; i < k; i++) {
            size_t len = m[i].msg_len;
            bool trunc = (m[i].msg_hdr.msg_flags & MSG_TRUNC) || len > UDP_MAX;
            on_query(f, f->rbuf[i], trunc ? UDP_MAX : len, trunc, &f->raddr[i], m[i].msg_hdr.msg_namelen, now);
        }
        flush_forwards(f, now);
        flush_sends(f);
        if (k < BATCH)
            break;
    }
    flush_forwards(f, now);
    flush_sends(f);
}

/* Reads the answers that reached upstream socket k and queues the relayed ones. */
static void read_answers(struct dnsfilter *f, int k)
{
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    for (int round = 0; round < 32; round++) {
        memset(m, 0, sizeof m);
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = f->rbuf[i];
            iov[i].iov_len = sizeof f->rbuf[i];
            m[i].msg_hdr.msg_iov = &iov[i];
            m[i].msg_hdr.msg_iovlen = 1;
            m[i].msg_hdr.msg_name = &f->raddr[i];
            m[i].msg_hdr.msg_namelen = sizeof f->raddr[i];
        }
        int got = recvmmsg(f->us[k].fd, m, BATCH, MSG_DONTWAIT, NULL);
        if (got <= 0)
            break;
        for (int i = 0; i < got; i++) {
            uint8_t *a = f->rbuf[i];
            size_t len = m[i].msg_len;
            if (len < LDNS_HEADER_SIZE || (m[i].msg_hdr.msg_flags & MSG_TRUNC) || !LDNS_QR_WIRE(a))
                continue;
            int slot = id_find(f, LDNS_ID_WIRE(a));
            if (slot < 0)
                continue;
            struct pending *p = &f->pend[slot];
            /* the answer must reach the socket the query left from, come from the upstream asked (address and port),
             * carry the ID sent (found by it) and echo the question */
            if (p->sock != k || !same_addr(&f->raddr[i], &f->cfg.up[p->up]) ||
                len < LDNS_HEADER_SIZE + (size_t)p->question_len ||
                memcmp(a + LDNS_HEADER_SIZE, p->q + LDNS_HEADER_SIZE, p->question_len))
                continue;
            restore_id(a, p->client_id);
            queue_send(f, a, len, &p->client, p->client_len);
            pend_free(f, p);
        }
        if (got < BATCH)
            break;
    }
    /* the answers go out with those of the other sockets, at the end of dnsfilter_process (or when a batch is full) */
}

/* ---- TCP */

static void tcp_accept(struct dnsfilter *f, int64_t now)
{
    for (;;) {
        int fd = accept4(f->tfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        struct tcp_client *c = NULL;
        for (int i = 0; i < DNSF_MAX_TCP && !c; i++)
            if (f->tcp[i].fd < 0)
                c = &f->tcp[i];
        if (!c) { /* full: the client idle the longest makes room, so idle connections never lock others out */
            for (int i = 0; i < DNSF_MAX_TCP; i++) {
                struct tcp_client *o = &f->tcp[i];
                if (!o->busy && !o->out && (!c || o->idle_deadline < c->idle_deadline))
                    c = o;
            }
            if (!c) { /* every client has a query in progress: the new one retries or falls back */
                close(fd);
                continue;
            }
            tcp_close(c);
            f->st.tcp_evicted++;
        }
        c->fd = fd;
        c->inlen = 0;
        c->idle_deadline = now + DNSF_TCP_IDLE_MS;
        if (c->idle_deadline < f->next_deadline)
            f->next_deadline = c->idle_deadline;
    }
}

/* Frames data (len bytes) as the client's next answer. */
static void tcp_answer(struct dnsfilter *f, struct tcp_client *c, const uint8_t *data, size_t len, int64_t now)
{
    free(c->out);
    c->out = malloc(len + 2);
    if (!c->out) {
        tcp_close(c);
        return;
    }
    ldns_write_uint16(c->out, (uint16_t)len);
    memcpy(c->out + 2, data, len);
    c->outlen = len + 2;
    c->outoff = 0;
    c->idle_deadline = now + DNSF_TCP_IDLE_MS;
    (void)f;
}

static void tcp_servfail(struct dnsfilter *f, struct tcp_client *c, int64_t now)
{
    uint8_t out[512];
    size_t n;
    tcp_upstream_close(c);
    c->busy = false;
    f->st.servfail++;
    restore_id(c->fq + 2, c->client_id);
    if (dnsf_servfail(c->fq + 2, c->fqlen - 2, out, sizeof out, &n))
        tcp_close(c);
    else
        tcp_answer(f, c, out, n, now);
    free(c->fq);
    c->fq = NULL;
}

/* Opens a connection to the client's current upstream; false on an immediate failure. */
static bool tcp_connect_up(struct dnsfilter *f, struct tcp_client *c, int64_t now)
{
    tcp_upstream_close(c);
    const struct sockaddr_storage *up = &f->cfg.up[c->up];
    int64_t per_try = f->cfg.timeout_ms / (f->cfg.nup ? f->cfg.nup : 1);
    c->try_deadline = now + per_try;
    c->tries++;
    if (c->try_deadline > c->deadline || c->tries >= f->cfg.nup)
        c->try_deadline = c->deadline;
    if (c->try_deadline < f->next_deadline)
        f->next_deadline = c->try_deadline;
    c->ufd = socket(up->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->ufd < 0)
        return false;
    if (connect(c->ufd, (const struct sockaddr *)up, f->cfg.up_len[c->up]) == 0) {
        c->connected = true;
    } else if (errno != EINPROGRESS) {
        tcp_upstream_close(c);
        return false;
    }
    return true;
}

/* Moves on to the next upstream, or SERVFAIL when all were tried or time is up. */
static void tcp_next_upstream(struct dnsfilter *f, struct tcp_client *c, int64_t now)
{
    while (c->tries < f->cfg.nup && now < c->deadline) {
        c->up = (c->up + 1) % f->cfg.nup;
        if (tcp_connect_up(f, c, now))
            return;
    }
    tcp_servfail(f, c, now);
}

/* Handles the complete queries in c->in, one at a time. */
static void tcp_serve_input(struct dnsfilter *f, struct tcp_client *c, int64_t now)
{
    while (!c->busy && !c->out && c->inlen >= 2) {
        size_t qlen = ldns_read_uint16(c->in);
        if (qlen > DNSF_MAX_QUERY || qlen < LDNS_HEADER_SIZE) { /* not a query we take: hang up */
            f->st.queries++;
            f->st.dropped++;
            tcp_close(c);
            return;
        }
        if (c->inlen < qlen + 2)
            return;
        uint8_t out[512];
        size_t n = 0;
        struct dnsf_info info;
        f->st.queries++;
        enum dnsf_result r =
            dnsf_handle(&f->cfg.answers, f->decide, f->ud, c->in + 2, qlen, out, sizeof out, &n, &info);
        if (r == DNSF_REPLY) {
            if (info.rcode == LDNS_RCODE_FORMERR || info.rcode == LDNS_RCODE_NOTIMPL)
                f->st.formerr++;
            else if (info.action == DNSF_WARN)
                f->st.warned++;
            else
                f->st.blocked++;
            tcp_answer(f, c, out, n, now);
        } else if (r == DNSF_FORWARD && f->cfg.nup) {
            f->st.forwarded++;
            c->fq = malloc(qlen + 2);
            if (!c->fq) {
                tcp_close(c);
                return;
            }
            memcpy(c->fq, c->in, qlen + 2);
            c->fqlen = qlen + 2;
            c->client_id = LDNS_ID_WIRE(c->fq + 2);
            c->question_len = (uint16_t)info.question_len;
            restore_id(c->fq + 2, rnd16(f)); /* a fresh ID upstream too */
            c->busy = true;
            c->up = 0;
            c->tries = 0;
            c->deadline = now + f->cfg.timeout_ms;
            if (!tcp_connect_up(f, c, now))
                tcp_next_upstream(f, c, now);
        } else if (r == DNSF_FORWARD) {
            f->st.servfail++;
            if (!dnsf_servfail(c->in + 2, qlen, out, sizeof out, &n))
                tcp_answer(f, c, out, n, now);
        } else {
            f->st.dropped++;
        }
        if (c->fd < 0)
            return;
        memmove(c->in, c->in + qlen + 2, c->inlen - qlen - 2);
        c->inlen -= qlen + 2;
    }
}

static void tcp_client_io(struct dnsfilter *f, struct tcp_client *c, short rev, int64_t now)
{
    if (rev & (POLLERR | POLLNVAL)) {
        tcp_close(c);
        return;
    }
    /* hung up while its query is forwarded: poll would report POLLHUP at every turn (a busy loop), and the
     * answer cannot be delivered; drop the client and its forward */
    if (c->busy && !c->out && (rev & POLLHUP)) {
        tcp_close(c);
        return;
    }
    if (c->out && (rev & (POLLOUT | POLLHUP))) {
        ssize_t k = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
        if (k < 0 && errno != EAGAIN && errno != EINTR) {
            tcp_close(c);
            return;
        }
        if (k > 0)
            c->outoff += (size_t)k;
        if (c->outoff == c->outlen) {
            free(c->out);
            c->out = NULL;
            c->outlen = c->outoff = 0;
        }
    } else if (!c->busy && (rev & (POLLIN | POLLHUP))) {
        ssize_t k = recv(c->fd, c->in + c->inlen, sizeof c->in - c->inlen, 0);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) {
            tcp_close(c);
            return;
        }
        if (k > 0)
            c->inlen += (size_t)k; /* the idle time runs on: only an answer restarts it */
    }
    if (c->fd >= 0)
        tcp_serve_input(f, c, now);
}

static void tcp_upstream_io(struct dnsfilter *f, struct tcp_client *c, short rev, int64_t now)
{
    if (!c->connected) {
        int e = 0;
        socklen_t el = sizeof e;
        if (getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &e, &el) || e) {
            tcp_next_upstream(f, c, now);
            return;
        }
        c->connected = true;
    }
    if (c->fqsent < c->fqlen) {
        ssize_t k = send(c->ufd, c->fq + c->fqsent, c->fqlen - c->fqsent, MSG_NOSIGNAL);
        if (k < 0 && errno != EAGAIN && errno != EINTR) {
            tcp_next_upstream(f, c, now);
            return;
        }
        if (k > 0)
            c->fqsent += (size_t)k;
        return;
    }
    if (!(rev & (POLLIN | POLLHUP | POLLERR)))
        return;
    /* the 2-byte length first, then the answer into a buffer of that size */
    ssize_t k;
    if (!c->ans) {
        k = recv(c->ufd, c->lenbuf + c->anslen, 2 - c->anslen, 0);
        if (k > 0) {
            c->anslen += (size_t)k;
            if (c->anslen == 2) {
                size_t alen = ldns_read_uint16(c->lenbuf);
                if (alen < LDNS_HEADER_SIZE || !(c->ans = malloc(alen + 2))) {
                    tcp_next_upstream(f, c, now);
                    return;
                }
                memcpy(c->ans, c->lenbuf, 2);
                c->anscap = alen + 2;
            }
            return;
        }
    } else {
        k = recv(c->ufd, c->ans + c->anslen, c->anscap - c->anslen, 0);
        if (k > 0) {
            c->anslen += (size_t)k;
            if (c->anslen < c->anscap)
                return;
            uint8_t *a = c->ans + 2;
            size_t alen = c->anscap - 2;
            /* the answer must carry the ID sent and echo the question */
            if (!LDNS_QR_WIRE(a) || LDNS_ID_WIRE(a) != LDNS_ID_WIRE(c->fq + 2) ||
                alen < LDNS_HEADER_SIZE + (size_t)c->question_len ||
                memcmp(a + LDNS_HEADER_SIZE, c->fq + 2 + LDNS_HEADER_SIZE, c->question_len)) {
                tcp_next_upstream(f, c, now);
                return;
            }
            restore_id(a, c->client_id);
            /* hand the framed answer to the client as is */
            free(c->out);
            c->out = c->ans;
            c->outlen = c->anscap;
            c->outoff = 0;
            c->ans = NULL;
            c->anslen = c->anscap = 0;
            tcp_upstream_close(c);
            free(c->fq);
            c->fq = NULL;
            c->busy = false;
            c->idle_deadline = now + DNSF_TCP_IDLE_MS;
            return;
        }
    }
    if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
        tcp_next_upstream(f, c, now);
}

void dnsfilter_process(struct dnsfilter *f, const struct pollfd *fds, int n)
{
    int64_t now = (int64_t)(util_mono_ns() / 1000000u);
    for (int i = 0; i < n; i++) {
        short rev = fds[i].revents;
        if (!rev)
            continue;
        int fd = fds[i].fd;
        if (fd == f->ufd) {
            read_queries(f, now);
        } else if (fd == f->tfd) {
            tcp_accept(f, now);
        } else {
            int s = 0;
            while (s < NSOCK && f->us[s].fd != fd)
                s++;
            if (s < NSOCK) {
                read_answers(f, s);
                continue;
            }
            for (int k = 0; k < DNSF_MAX_TCP; k++) {
                struct tcp_client *c = &f->tcp[k];
                if (c->fd < 0)
                    continue;
                if (fd == c->ufd) {
                    tcp_upstream_io(f, c, rev, now);
                    break;
                }
                if (fd == c->fd) {
                    tcp_client_io(f, c, rev, now);
                    break;
                }
            }
        }
    }
    flush_sends(f);
    pool_maintain(f);
}

void dnsfilter_timeouts(struct dnsfilter *f, int64_t now)
{
    if (now < f->next_deadline)
        return;
    int64_t next = INT64_MAX;
    for (int i = 0; i < DNSF_MAX_PENDING && f->npend; i++) {
        struct pending *p = &f->pend[i];
        if (!p->used)
            continue;
        if (now >= p->try_deadline) {
            bool sent = false;
            while (!sent && p->tries < f->cfg.nup && now < p->deadline) {
                p->up = (p->up + 1) % f->cfg.nup;
                sent = pend_send(f, p, now);
            }
            if (!sent) {
                pend_fail(f, p);
                continue;
            }
        }
        if (p->try_deadline < next)
            next = p->try_deadline;
    }
    f->next_deadline = next; /* a retry that cannot be sent below brings it back to now */
    flush_forwards(f, now);
    flush_sends(f);
    pool_maintain(f);
    for (int i = 0; i < DNSF_MAX_TCP; i++) {
        struct tcp_client *c = &f->tcp[i];
        if (c->fd < 0)
            continue;
        if (c->busy && now >= c->try_deadline)
            tcp_next_upstream(f, c, now);
        if (c->fd >= 0 && !c->busy && now >= c->idle_deadline)
            tcp_close(c);
        if (c->fd < 0)
            continue;
        int64_t d = c->busy ? c->try_deadline : c->idle_deadline;
        if (d < next)
            next = d;
    }
    if (next < f->next_deadline) /* (not above it: a forward refused by the kernel set it to now) */
        f->next_deadline = next;
}

int64_t dnsfilter_next(const struct dnsfilter *f)
{
    return f->next_deadline;
}
