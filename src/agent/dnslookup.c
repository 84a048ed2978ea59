/* dnslookup.c: a bounded A/AAAA lookup sent straight to given resolvers, with ldns (dnslookup.h). */
#include "agent/dnslookup.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>
#include <openssl/rand.h>

#include "common/err.h"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr);
}

/*
 * Reads one datagram from a resolver as the answer to query (id, qname, type):
 * 0 with addr and ttl, RG_ENOTFOUND (a valid answer without an address of that
 * type), RG_EINVAL (not a DNS message, or not ours). The header is read by
 * hand and the question and answer records one at a time with ldns_wire2rr,
 * never into a whole ldns_pkt: ldns_wire2pkt leaks on some malformed messages
 * (fuzz_dnslookup, as it did in dnsf_servfail), and the authority and
 * additional sections are not needed.
 */
static int read_wire(const uint8_t *wire, size_t len, uint16_t id, const ldns_rdf *qname, ldns_rr_type type,
                     char *addr, size_t n, uint32_t *ttl)
{
    if (len < LDNS_HEADER_SIZE || LDNS_ID_WIRE(wire) != id || !LDNS_QR_WIRE(wire) || LDNS_QDCOUNT(wire) != 1)
        return RG_EINVAL;
    size_t pos = LDNS_HEADER_SIZE;
    ldns_rr *q = NULL;
    if (ldns_wire2rr(&q, wire, len, &pos, LDNS_SECTION_QUESTION) != LDNS_STATUS_OK || !q)
        return RG_EINVAL;
    bool ours = ldns_rr_get_type(q) == type && !ldns_dname_compare(ldns_rr_owner(q), qname);
    ldns_rr_free(q);
    if (!ours)
        return RG_EINVAL;
    if (LDNS_RCODE_WIRE(wire) != LDNS_RCODE_NOERROR)
        return RG_ENOTFOUND;
    bool found = false;
    uint32_t min = UINT32_MAX;
    for (unsigned i = 0; i < LDNS_ANCOUNT(wire); i++) {
        ldns_rr *rr = NULL;
        if (ldns_wire2rr(&rr, wire, len, &pos, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK || !rr)
            return RG_EINVAL; /* a broken answer section: not a DNS message */
        if (ldns_rr_ttl(rr) < min)
            min = ldns_rr_ttl(rr);
        if (!found && ldns_rr_get_type(rr) == type && ldns_rr_rd_count(rr) == 1) {
            const ldns_rdf *rd = ldns_rr_rdf(rr, 0);
            size_t want = type == LDNS_RR_TYPE_A ? 4 : 16;
            found = ldns_rdf_size(rd) == want && inet_ntop(type == LDNS_RR_TYPE_A ? AF_INET : AF_INET6,
                                                           ldns_rdf_data(rd), addr, (socklen_t)n);
        }
        ldns_rr_free(rr);
    }
    if (!found)
        return RG_ENOTFOUND;
    *ttl = min;
    return 0;
}

int dnslookup_read_answer(const uint8_t *wire, size_t len, uint16_t id, const char *name, uint16_t type,
                          char *addr, size_t n, uint32_t *ttl)
{
    if (!name || !*name || n < 46 || (type != LDNS_RR_TYPE_A && type != LDNS_RR_TYPE_AAAA))
        return RG_EINVAL;
    ldns_rdf *qname = NULL;
    if (ldns_str2rdf_dname(&qname, name) != LDNS_STATUS_OK)
        return RG_EINVAL;
    ldns_dname2canonical(qname);
    int rc = read_wire(wire, len, id, qname, (ldns_rr_type)type, addr, n, ttl);
    ldns_rdf_deep_free(qname);
    return rc;
}

/* One query of type to the resolvers, within deadline (monotonic ms). */
static int ask(const struct sockaddr_storage *up, const socklen_t *up_len, int nup, const ldns_rdf *qname,
               ldns_rr_type type, int64_t deadline, char *addr, size_t n, uint32_t *ttl)
{
    int rc = RG_EIO;
    for (int i = 0; i < nup && rc == RG_EIO; i++) {
        int64_t now = mono_ms();
        if (now >= deadline)
            break;
        /* an equal share of what is left for each resolver still to try */
        int64_t slice_end = now + (deadline - now) / (nup - i);
        uint16_t id;
        if (RAND_bytes((unsigned char *)&id, sizeof id) != 1)
            return RG_EIO;
        ldns_pkt *qp = ldns_pkt_query_new(ldns_rdf_clone(qname), type, LDNS_RR_CLASS_IN, LDNS_RD);
        uint8_t *wire = NULL;
        size_t wlen = 0;
        if (!qp)
            return RG_ENOMEM;
        ldns_pkt_set_id(qp, id);
        ldns_status st = ldns_pkt2wire(&wire, qp, &wlen);
        ldns_pkt_free(qp);
        if (st != LDNS_STATUS_OK)
            return RG_ENOMEM;
        int fd = socket(up[i].ss_family, SOCK_DGRAM, 0);
        if (fd < 0 || sendto(fd, wire, wlen, 0, (const struct sockaddr *)&up[i], up_len[i]) != (ssize_t)wlen) {
            if (fd >= 0)
                close(fd);
            free(wire);
            continue;
        }
        free(wire);
        for (;;) {
            now = mono_ms();
            if (now >= slice_end)
                break;
            struct pollfd p = {fd, POLLIN, 0};
            int r = poll(&p, 1, (int)(slice_end - now));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            uint8_t in[4096];
            struct sockaddr_storage from;
            socklen_t fl = sizeof from;
            ssize_t got = recvfrom(fd, in, sizeof in, 0, (struct sockaddr *)&from, &fl);
            if (got < 0 || !same_addr(&from, &up[i]))
                continue;
            int a = read_wire(in, (size_t)got, id, qname, type, addr, n, ttl);
            if (a != RG_EINVAL) {
                rc = a;
                break;
            }
        }
        close(fd);
    }
    return rc;
}

int dnslookup_addr(const struct sockaddr_storage *up, const socklen_t *up_len, int nup, const char *name,
                   int timeout_ms, char *addr, size_t n, uint32_t *ttl)
{
    if (!name || !*name || nup <= 0 || n < 46)
        return RG_EINVAL;
    ldns_rdf *qname = NULL;
    if (ldns_str2rdf_dname(&qname, name) != LDNS_STATUS_OK)
        return RG_EINVAL;
    ldns_dname2canonical(qname);
    int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 1000);
    int rc = ask(up, up_len, nup, qname, LDNS_RR_TYPE_A, deadline, addr, n, ttl);
    if (rc == RG_ENOTFOUND)
        rc = ask(up, up_len, nup, qname, LDNS_RR_TYPE_AAAA, deadline, addr, n, ttl);
    ldns_rdf_deep_free(qname);
    return rc;
}
