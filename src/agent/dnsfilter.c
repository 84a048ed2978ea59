/*
 * dnsfilter.c: the local DNS filtering resolver of dnsfilter.h. One UDP and
 * one TCP socket on the listen address; UDP queries are read in batches with
 * recvmmsg and answered with sendmmsg (forwards go upstream with sendmmsg too);
 * a query is read with ldns_wire2rr, never into a whole ldns_pkt, and local
 * answers are built with ldns_pkt; forwarded UDP queries wait in a fixed
 * table whose slot number is part of the ID sent upstream (with random high
 * bits), so an answer finds its query in O(1). TCP clients are served one
 * query at a time, forwarded over their own TCP connection to the upstream.
 * DNS messages are read and written with ldns only.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <ldns/ldns.h>

#include "agent/dnsfilter.h"
#include "common/err.h"
#include "common/util.h"

#define BATCH 32
#define UDP_MAX 4096 /* larger datagrams are truncated (MSG_TRUNC) and answered FORMERR */
#define SLOT_BITS 10 /* log2(DNSF_MAX_PENDING) */
_Static_assert((1 << SLOT_BITS) == DNSF_MAX_PENDING, "DNSF_MAX_PENDING is 1 << SLOT_BITS");

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

/* An error answer (FORMERR, NOTIMP, SERVFAIL) carrying id, opcode and rd of the query header, and question q if any. */
static int error_answer(const uint8_t *hdr, const ldns_rr *question, ldns_pkt_rcode rcode, uint8_t *out, size_t cap,
                        size_t *outlen)
{
    ldns_pkt *p = ldns_pkt_new();
    if (!p)
        return -1;
    ldns_pkt_set_id(p, LDNS_ID_WIRE(hdr));
    ldns_pkt_set_qr(p, true);
    ldns_pkt_set_opcode(p, (ldns_pkt_opcode)LDNS_OPCODE_WIRE(hdr));
    ldns_pkt_set_rd(p, LDNS_RD_WIRE(hdr) != 0);
    ldns_pkt_set_ra(p, true);
    ldns_pkt_set_rcode(p, (uint8_t)rcode);
    int rc = 0;
    if (question) {
        ldns_rr *c = ldns_rr_clone(question);
        if (!c || !ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, c)) {
            ldns_rr_free(c);
            rc = -1;
        }
    }
    if (!rc)
        rc = emit(p, out, cap, outlen);
    ldns_pkt_free(p);
    return rc;
}

/* The local answer for a blocked or warned name. */
static int block_answer(const struct dnsf_answers *a, const uint8_t *hdr, bool edns, const ldns_rr *question,
                        uint8_t *out, size_t cap, size_t *outlen, int *rcode)
{
    ldns_pkt *p = ldns_pkt_new();
    if (!p)
        return -1;
    ldns_pkt_set_id(p, LDNS_ID_WIRE(hdr));
    ldns_pkt_set_qr(p, true);
    ldns_pkt_set_aa(p, true);
    ldns_pkt_set_rd(p, LDNS_RD_WIRE(hdr) != 0);
    ldns_pkt_set_ra(p, true);
    if (edns)
        ldns_pkt_set_edns_udp_size(p, 1232); /* answer EDNS with EDNS, without options */
    int rc = 0;
    ldns_rr *c = ldns_rr_clone(question);
    if (!c || !ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, c)) {
        ldns_rr_free(c);
        rc = -1;
    }
    ldns_rr_type t = ldns_rr_get_type(question);
    bool in = ldns_rr_get_class(question) == LDNS_RR_CLASS_IN;
    *rcode = a->nxdomain ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR;
    ldns_pkt_set_rcode(p, (uint8_t)*rcode);
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
    ldns_pkt *p = NULL;
    const ldns_rr *question = NULL;
    if (ldns_wire2pkt(&p, q, qlen) == LDNS_STATUS_OK && p && ldns_rr_list_rr_count(ldns_pkt_question(p)) == 1)
        question = ldns_rr_list_rr(ldns_pkt_question(p), 0);
    int rc = error_answer(q, question, LDNS_RCODE_SERVFAIL, out, cap, outlen);
    ldns_pkt_free(p);
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
    int64_t idle_deadline;
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

struct dnsfilter {
    struct dnsf_config cfg;
    dnsf_decide_fn decide;
    void *ud;
    int ufd, tfd; /* listeners */
    int upfd[2];  /* upstream UDP sockets: [0] IPv4, [1] IPv6, -1 when no upstream of that family */
    struct pending pend[DNSF_MAX_PENDING];
    int npend;
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
    uint16_t fwd[2][BATCH]; /* pending slots whose query waits to go upstream, per upstream socket */
    int nfwd[2];
};

static uint16_t rnd16(struct dnsfilter *f)
{
    /* xorshift64*, seeded from getrandom: unpredictable enough to make blind answer spoofing a guess */
    f->rnd ^= f->rnd >> 12;
    f->rnd ^= f->rnd << 25;
    f->rnd ^= f->rnd >> 27;
    return (uint16_t)((f->rnd * 2685821657736338717ULL) >> 48);
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
    f->ufd = f->tfd = f->upfd[0] = f->upfd[1] = -1;
    f->next_deadline = INT64_MAX;
    for (int i = 0; i < DNSF_MAX_TCP; i++)
        f->tcp[i].fd = f->tcp[i].ufd = -1;
    if (getrandom(&f->rnd, sizeof f->rnd, 0) != (ssize_t)sizeof f->rnd || !f->rnd)
        f->rnd = util_mono_ns() | 1;
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
        if (f->upfd[k] >= 0)
            continue;
        f->upfd[k] = open_sock(k ? AF_INET6 : AF_INET, SOCK_DGRAM, NULL, 0, false, why, sizeof why);
        if (f->upfd[k] < 0) {
            snprintf(err, errlen, "the DNS filter could not open an upstream socket: %s", why);
            dnsfilter_free(f);
            return RG_EIO;
        }
        setsockopt(f->upfd[k], SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
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

static void pend_free(struct dnsfilter *f, struct pending *p)
{
    free(p->q);
    p->q = NULL;
    p->used = false;
    f->npend--;
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
    int fds[] = {f->ufd, f->tfd, f->upfd[0], f->upfd[1]};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fds[i] >= 0)
            close(fds[i]);
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
    for (int k = 0; k < 2; k++)
        if (f->upfd[k] >= 0)
            ADD(f->upfd[k], POLLIN);
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
    int n = f->nfwd[k];
    if (!n)
        return;
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    memset(m, 0, sizeof m);
    for (int i = 0; i < n; i++) {
        struct pending *p = &f->pend[f->fwd[k][i]];
        iov[i].iov_base = p->q;
        iov[i].iov_len = p->qlen;
        m[i].msg_hdr.msg_iov = &iov[i];
        m[i].msg_hdr.msg_iovlen = 1;
        m[i].msg_hdr.msg_name = &f->cfg.up[p->up];
        m[i].msg_hdr.msg_namelen = f->cfg.up_len[p->up];
    }
    int off = 0;
    while (off < n) {
        int sent = sendmmsg(f->upfd[k], m + off, (unsigned)(n - off), 0);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent <= 0) { /* the message at off failed */
            struct pending *p = &f->pend[f->fwd[k][off]];
            p->try_deadline = now;
            f->next_deadline = now;
            off++;
            continue;
        }
        off += sent;
    }
    f->nfwd[k] = 0;
}

static void flush_forwards(struct dnsfilter *f, int64_t now)
{
    flush_forwards_k(f, 0, now);
    flush_forwards_k(f, 1, now);
}

/* Queues p's query for its current upstream (sent by flush_forwards); false if it cannot go. */
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
    if (f->upfd[k] < 0)
        return false;
    if (f->nfwd[k] == BATCH)
        flush_forwards_k(f, k, now);
    f->fwd[k][f->nfwd[k]++] = (uint16_t)(p - f->pend);
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
    /* a free slot, starting at a random place */
    int start = rnd16(f) & (DNSF_MAX_PENDING - 1), slot = -1;
    for (int i = 0; i < DNSF_MAX_PENDING; i++) {
        int s = (start + i) & (DNSF_MAX_PENDING - 1);
        if (!f->pend[s].used) {
            slot = s;
            break;
        }
    }
    struct pending *p = &f->pend[slot];
    if (!(p->q = malloc(qlen))) {
        servfail_to(f, q, qlen, from, fromlen);
        return;
    }
    memcpy(p->q, q, qlen);
    p->used = true;
    f->npend++;
    p->qlen = (uint16_t)qlen;
    p->question_len = (uint16_t)info->question_len;
    p->client_id = LDNS_ID_WIRE(q);
    p->up_id = (uint16_t)((rnd16(f) & ~(DNSF_MAX_PENDING - 1)) | (unsigned)slot);
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
        int got = recvmmsg(f->upfd[k], m, BATCH, MSG_DONTWAIT, NULL);
        if (got <= 0)
            break;
        for (int i = 0; i < got; i++) {
            uint8_t *a = f->rbuf[i];
            size_t len = m[i].msg_len;
            if (len < LDNS_HEADER_SIZE || (m[i].msg_hdr.msg_flags & MSG_TRUNC) || !LDNS_QR_WIRE(a))
                continue;
            uint16_t id = LDNS_ID_WIRE(a);
            struct pending *p = &f->pend[id & (DNSF_MAX_PENDING - 1)];
            /* the answer must come from the upstream asked, carry the ID sent and echo the question */
            if (!p->used || p->up_id != id || !same_addr(&f->raddr[i], &f->cfg.up[p->up]) ||
                len < LDNS_HEADER_SIZE + (size_t)p->question_len ||
                memcmp(a + LDNS_HEADER_SIZE, p->q + LDNS_HEADER_SIZE, p->question_len))
                continue;
            restore_id(a, p->client_id);
            queue_send(f, a, len, &p->client, p->client_len);
            pend_free(f, p);
        }
        flush_sends(f);
        if (got < BATCH)
            break;
    }
    flush_sends(f);
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
        if (!c) { /* full: the client retries or falls back */
            close(fd);
            continue;
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
        if (k > 0) {
            c->inlen += (size_t)k;
            c->idle_deadline = now + DNSF_TCP_IDLE_MS;
        }
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
        } else if (fd == f->upfd[0] || fd == f->upfd[1]) {
            read_answers(f, fd == f->upfd[1]);
        } else {
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
