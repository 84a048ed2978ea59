/*
 * Unit tests of src/agent/dnsfilter.c and webprot.c: the local answers
 * (sinkhole A, AAAA, NODATA, NXDOMAIN, FORMERR, NOTIMP, dropped responses),
 * the decision by the agent's indicators (block, subdomain, Allowed beats
 * Block, Warn, the built-in test domain, antiphishing/vpn switches, a live
 * indicator change, one report per name, DefenderExcludeURLInReport), the
 * block page's override table, and the filter on real loopback sockets:
 * a forwarded query and its answer relayed byte for byte but the ID, and
 * SERVFAIL when the upstream stays silent; the spoofing defences of forwarded
 * queries (fully random upstream IDs, random and changing source ports, answers
 * taken only on the query's socket, from the upstream asked, with its ID);
 * DNS-over-TCP fairness (a new client is served when idle clients fill the
 * table, and a query that trickles in does not hold its connection open).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "agent/blockpage.h"
#include "agent/core.h"
#include "agent/dnsfilter.h"
#include "agent/webprot.h"
#include "common/util.h"

static size_t query(const char *name, ldns_rr_type t, uint8_t *out, size_t cap)
{
    ldns_pkt *p = NULL;
    assert_int_equal(ldns_pkt_query_new_frm_str(&p, name, t, LDNS_RR_CLASS_IN, LDNS_RD), LDNS_STATUS_OK);
    ldns_pkt_set_id(p, 0x4242);
    uint8_t *w = NULL;
    size_t n = 0;
    assert_int_equal(ldns_pkt2wire(&w, p, &n), LDNS_STATUS_OK);
    assert_true(n <= cap);
    memcpy(out, w, n);
    free(w);
    ldns_pkt_free(p);
    return n;
}

static enum dnsf_action by_suffix(void *ud, const char *name, uint16_t qtype)
{
    (void)ud;
    (void)qtype;
    if (strstr(name, "evil.test"))
        return DNSF_BLOCK;
    return strstr(name, "warn.test") ? DNSF_WARN : DNSF_PASS;
}

static ldns_pkt *handle(const struct dnsf_answers *a, const char *name, ldns_rr_type t, enum dnsf_result want)
{
    uint8_t q[512], out[512];
    size_t n = query(name, t, q, sizeof q), on = 0;
    struct dnsf_info info;
    assert_int_equal(dnsf_handle(a, by_suffix, NULL, q, n, out, sizeof out, &on, &info), want);
    if (want != DNSF_REPLY)
        return NULL;
    ldns_pkt *p = NULL;
    assert_int_equal(ldns_wire2pkt(&p, out, on), LDNS_STATUS_OK);
    assert_int_equal(ldns_pkt_id(p), 0x4242);
    assert_true(ldns_pkt_qr(p));
    assert_int_equal(ldns_pkt_qdcount(p), 1);
    return p;
}

static void test_local_answers(void **state)
{
    (void)state;
    struct dnsf_answers a = {.have_v4 = true, .v4 = {127, 0, 0, 2}, .ttl = 10};
    ldns_pkt *p = handle(&a, "www.evil.test.", LDNS_RR_TYPE_A, DNSF_REPLY);
    assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_ancount(p), 1);
    ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
    assert_int_equal(ldns_rr_ttl(rr), 10);
    assert_memory_equal(ldns_rdf_data(ldns_rr_rdf(rr, 0)), a.v4, 4);
    ldns_pkt_free(p);
    /* AAAA without a v6 block page, and other types: NODATA */
    p = handle(&a, "www.evil.test.", LDNS_RR_TYPE_AAAA, DNSF_REPLY);
    assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_ancount(p), 0);
    ldns_pkt_free(p);
    p = handle(&a, "warn.test.", LDNS_RR_TYPE_MX, DNSF_REPLY);
    assert_int_equal(ldns_pkt_ancount(p), 0);
    ldns_pkt_free(p);
    struct dnsf_answers v6 = {.have_v6 = true, .v6 = {[15] = 1}, .ttl = 10};
    p = handle(&v6, "evil.test.", LDNS_RR_TYPE_AAAA, DNSF_REPLY);
    assert_int_equal(ldns_pkt_ancount(p), 1);
    ldns_pkt_free(p);
    struct dnsf_answers nx = {.nxdomain = true, .ttl = 10};
    p = handle(&nx, "evil.test.", LDNS_RR_TYPE_A, DNSF_REPLY);
    assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
    ldns_pkt_free(p);
    /* everything else is forwarded */
    assert_null(handle(&a, "example.com.", LDNS_RR_TYPE_A, DNSF_FORWARD));
    /* the callback decides, whatever the name looks like */
    p = handle(&a, "evil.test.example.com.", LDNS_RR_TYPE_A, DNSF_REPLY);
    ldns_pkt_free(p);
}

static void test_malformed(void **state)
{
    (void)state;
    struct dnsf_answers a = {.have_v4 = true, .ttl = 10};
    uint8_t q[512], out[512];
    size_t n = query("example.com.", LDNS_RR_TYPE_A, q, sizeof q), on;
    struct dnsf_info info;
    /* too short for a header: dropped */
    assert_int_equal(dnsf_handle(&a, by_suffix, NULL, q, 11, out, sizeof out, &on, &info), DNSF_DROP);
    /* a truncated question: FORMERR */
    assert_int_equal(dnsf_handle(&a, by_suffix, NULL, q, 15, out, sizeof out, &on, &info), DNSF_REPLY);
    assert_int_equal(info.rcode, LDNS_RCODE_FORMERR);
    /* a response (QR set): dropped, never answered */
    q[2] |= 0x80;
    assert_int_equal(dnsf_handle(&a, by_suffix, NULL, q, n, out, sizeof out, &on, &info), DNSF_DROP);
    q[2] &= 0x7f;
    /* QDCOUNT 2 */
    q[5] = 2;
    assert_int_equal(dnsf_handle(&a, by_suffix, NULL, q, n, out, sizeof out, &on, &info), DNSF_REPLY);
    assert_int_equal(info.rcode, LDNS_RCODE_FORMERR);
    q[5] = 1;
    /* another opcode: NOTIMP */
    q[2] |= 0x10;
    assert_int_equal(dnsf_handle(&a, by_suffix, NULL, q, n, out, sizeof out, &on, &info), DNSF_REPLY);
    assert_int_equal(info.rcode, LDNS_RCODE_NOTIMPL);
    /* a compression loop in the question */
    static const uint8_t loop[] = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
    assert_int_equal(dnsf_handle(&a, by_suffix, NULL, loop, sizeof loop, out, sizeof out, &on, &info), DNSF_REPLY);
    assert_int_equal(info.rcode, LDNS_RCODE_FORMERR);
    /* oversized */
    uint8_t *big = calloc(1, DNSF_MAX_QUERY + 100);
    memcpy(big, q, n);
    assert_int_equal(dnsf_handle(&a, by_suffix, NULL, big, DNSF_MAX_QUERY + 100, out, sizeof out, &on, &info),
                     DNSF_REPLY);
    assert_int_equal(info.rcode, LDNS_RCODE_FORMERR);
    free(big);
}

static struct rg_agent *agent(void)
{
    char dir[] = "/tmp/rg-dnsf-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct rg_agent *ag;
    assert_int_equal(rg_agent_new(dir, &ag), 0);
    struct rg_agent_dns d = {.listen = "127.0.0.1:0", .block_page = "off"};
    assert_int_equal(rg_agent_set_dns(ag, &d), 0);
    webprot_refresh(ag);
    return ag;
}

static void add(struct rg_agent *ag, int64_t id, const char *v, enum ind_action a, const char *title)
{
    assert_int_equal(
        indset_upsert(ag->ind,
                      &(struct indicator){.id = id, .type = IND_DOMAIN, .value = v, .action = a, .title = title}),
        0);
}

static void set(struct rg_agent *ag, const char *json)
{
    json_decref(ag->settings);
    ag->settings = json_loads(json, 0, NULL);
    webprot_refresh(ag);
}

static size_t count_kind(struct rg_agent *ag, const char *kind)
{
    size_t n = 0;
    for (size_t i = 0; i < ag->nthreats; i++)
        n += !strcmp(ag->threats[i].kind, kind);
    return n;
}

static void test_decide(void **state)
{
    (void)state;
    struct rg_agent *ag = agent();
    add(ag, 1, "evil-site.com", IND_BLOCK, "Evil site");
    add(ag, 2, "safe.evil-site.com", IND_ALLOWED, NULL);
    add(ag, 3, "warned-site.com", IND_WARN, "Dubious");
    assert_int_equal(webprot_decide(ag, "evil-site.com", 1), DNSF_BLOCK);
    assert_int_equal(webprot_decide(ag, "a.b.evil-site.com", 1), DNSF_BLOCK);
    assert_int_equal(webprot_decide(ag, "notevil-site.com", 1), DNSF_PASS); /* whole labels only */
    assert_int_equal(webprot_decide(ag, "safe.evil-site.com", 1), DNSF_PASS);
    assert_int_equal(webprot_decide(ag, "x.safe.evil-site.com", 1), DNSF_PASS);
    assert_int_equal(webprot_decide(ag, "warned-site.com", 28), DNSF_WARN);
    assert_int_equal(webprot_decide(ag, "www." AGENT_TEST_DOMAIN, 1), DNSF_BLOCK);
    /* one detection per name: the second query of a name adds none */
    size_t n = count_kind(ag, "phishing");
    assert_int_equal(n, 4);
    assert_int_equal(webprot_decide(ag, "evil-site.com", 1), DNSF_BLOCK);
    assert_int_equal(count_kind(ag, "phishing"), n);
    char key[80], hex[UTIL_SHA256_HEX_LEN + 1];
    util_sha256_hex("a.b.evil-site.com", 17, hex, sizeof hex);
    snprintf(key, sizeof key, "dns:%s", hex);
    struct agent_threat *t = agent_threat_find(ag, key);
    assert_non_null(t);
    assert_string_equal(json_string_value(json_object_get(t->details, "url")), "a.b.evil-site.com");
    /* a live change of the set applies to the next query */
    assert_int_equal(indset_remove(ag->ind, 1), 0);
    assert_int_equal(webprot_decide(ag, "evil-site.com", 1), DNSF_PASS);
    add(ag, 4, "evil-site.com", IND_ALLOWED, NULL);
    add(ag, 5, "evil-site.com", IND_BLOCK, NULL);
    assert_int_equal(webprot_decide(ag, "evil-site.com", 1), DNSF_PASS); /* Allowed beats Block on one value */
    /* DefenderExcludeURLInReport: no name in the report */
    set(ag, "{\"DefenderExcludeURLInReport\":\"1\"}");
    assert_int_equal(webprot_decide(ag, "other.warned-site.com", 1), DNSF_WARN);
    util_sha256_hex("other.warned-site.com", 21, hex, sizeof hex);
    snprintf(key, sizeof key, "dns:%s", hex);
    assert_non_null(t = agent_threat_find(ag, key));
    assert_null(json_object_get(t->details, "url"));
    /* nor in its title or anywhere else, even for an indicator without a title ("DomainName <value>" as the reason) */
    add(ag, 6, "untitled-site.com", IND_BLOCK, NULL);
    assert_int_equal(webprot_decide(ag, "untitled-site.com", 1), DNSF_BLOCK);
    util_sha256_hex("untitled-site.com", 17, hex, sizeof hex);
    snprintf(key, sizeof key, "dns:%s", hex);
    assert_non_null(t = agent_threat_find(ag, key));
    assert_null(strstr(t->threat_name, "untitled-site"));
    char *dump = t->details ? json_dumps(t->details, 0) : NULL;
    assert_true(!dump || !strstr(dump, "untitled-site"));
    free(dump);
    /* antiphishing=0: custom indicators only; vpn=0 or a skipped VPN: nothing filtered */
    set(ag, "{\"antiphishing\":\"0\"}");
    assert_int_equal(webprot_decide(ag, AGENT_TEST_DOMAIN, 1), DNSF_PASS);
    assert_int_equal(webprot_decide(ag, "warned-site.com", 1), DNSF_WARN);
    set(ag, "{\"vpn\":\"0\"}");
    assert_int_equal(webprot_decide(ag, "warned-site.com", 1), DNSF_PASS);
    assert_int_equal(webprot_decide(ag, AGENT_TEST_DOMAIN, 1), DNSF_PASS);
    set(ag, "{}");
    ag->st.vpn_skipped = true;
    webprot_refresh(ag);
    assert_int_equal(webprot_decide(ag, AGENT_TEST_DOMAIN, 1), DNSF_PASS);
    ag->st.vpn_skipped = false;
    webprot_refresh(ag);
    assert_int_equal(webprot_decide(ag, AGENT_TEST_DOMAIN, 1), DNSF_BLOCK);
    rg_agent_free(ag);
}

static void test_overrides(void **state)
{
    (void)state;
    struct blockpage *bp;
    assert_int_equal(blockpage_new(&bp), 0);
    int64_t now = 1000000;
    assert_false(blockpage_overridden(bp, "a.example", now));
    assert_int_equal(blockpage_override(bp, "a.example", now), 0);
    assert_true(blockpage_overridden(bp, "a.example", now + 1));
    assert_false(blockpage_overridden(bp, "b.example", now + 1));
    assert_false(blockpage_overridden(bp, "a.example", now + BP_OVERRIDE_MS)); /* expired */
    /* bounded: BP_MAX_OVERRIDES at once */
    int ok = 0;
    for (int i = 0; i < BP_MAX_OVERRIDES + 10; i++) {
        char n[32];
        snprintf(n, sizeof n, "n%d.example", i);
        ok += blockpage_override(bp, n, now) == 0;
    }
    assert_int_equal(ok, BP_MAX_OVERRIDES);
    /* after they expire, room again */
    assert_int_equal(blockpage_override(bp, "late.example", now + BP_OVERRIDE_MS + 1), 0);
    blockpage_free(bp);
}

/* The filter on loopback sockets, with a fake upstream made of one UDP socket. */
static void run(struct dnsfilter *f, int ms)
{
    struct pollfd fds[DNSF_MAX_FDS];
    int n = dnsfilter_pollfds(f, fds, DNSF_MAX_FDS);
    if (poll(fds, (nfds_t)n, ms) > 0)
        dnsfilter_process(f, fds, n);
}

static void test_sockets(void **state)
{
    (void)state;
    int up = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ua = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(up, (struct sockaddr *)&ua, sizeof ua), 0);
    socklen_t ul = sizeof ua;
    getsockname(up, (struct sockaddr *)&ua, &ul);
    struct dnsf_config cfg = {.nup = 1, .timeout_ms = 300, .answers = {.have_v4 = true, .ttl = 10}};
    assert_int_equal(dnsf_parse_addr("127.0.0.1:0", 53, &cfg.listen, &cfg.listen_len), 0);
    memcpy(&cfg.up[0], &ua, sizeof ua);
    cfg.up_len[0] = sizeof ua;
    struct dnsfilter *f;
    char err[256];
    int rc = dnsfilter_new(&cfg, by_suffix, NULL, &f, err, sizeof err);
    if (rc)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    struct pollfd pf[DNSF_MAX_FDS];
    dnsfilter_pollfds(f, pf, DNSF_MAX_FDS);
    struct sockaddr_storage la;
    socklen_t ll = sizeof la;
    getsockname(pf[0].fd, (struct sockaddr *)&la, &ll);

    int cl = socket(AF_INET, SOCK_DGRAM, 0);
    uint8_t q[512], got[4096], ans[512];
    size_t qn = query("www.example.com.", LDNS_RR_TYPE_A, q, sizeof q);
    assert_int_equal(sendto(cl, q, qn, 0, (struct sockaddr *)&la, ll), (ssize_t)qn);
    run(f, 1000);
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    ssize_t k = recvfrom(up, got, sizeof got, 0, (struct sockaddr *)&from, &fl);
    assert_int_equal(k, (ssize_t)qn);
    assert_memory_equal(got + 2, q + 2, qn - 2); /* the query as sent, but for the ID */
    /* the upstream's answer: the query turned into a response, plus a byte pattern to recognize */
    memcpy(ans, got, qn);
    ans[2] |= 0x80;
    memcpy(ans + qn, "\x01\x02\x03", 3);
    assert_int_equal(sendto(up, ans, qn + 3, 0, (struct sockaddr *)&from, fl), (ssize_t)qn + 3);
    run(f, 1000);
    k = recv(cl, got, sizeof got, 0);
    assert_int_equal(k, (ssize_t)qn + 3);
    assert_memory_equal(got, q, 2); /* the client's ID back */
    assert_memory_equal(got + 2, ans + 2, qn + 1);
    assert_int_equal(dnsfilter_stats(f)->forwarded, 1);

    /* a blocked name is answered locally */
    qn = query("evil.test.", LDNS_RR_TYPE_A, q, sizeof q);
    sendto(cl, q, qn, 0, (struct sockaddr *)&la, ll);
    run(f, 1000);
    k = recv(cl, got, sizeof got, 0);
    assert_true(k > (ssize_t)qn);
    assert_int_equal(dnsfilter_stats(f)->blocked, 1);

    /* a silent upstream: SERVFAIL once the query's time is up */
    qn = query("quiet.example.", LDNS_RR_TYPE_A, q, sizeof q);
    sendto(cl, q, qn, 0, (struct sockaddr *)&la, ll);
    run(f, 1000);
    assert_true(dnsfilter_next(f) != INT64_MAX);
    dnsfilter_timeouts(f, dnsfilter_next(f) + 1);
    k = recv(cl, got, sizeof got, 0);
    ldns_pkt *p = NULL;
    assert_int_equal(ldns_wire2pkt(&p, got, (size_t)k), LDNS_STATUS_OK);
    assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
    assert_int_equal(ldns_pkt_id(p), 0x4242);
    ldns_pkt_free(p);
    assert_int_equal(dnsfilter_stats(f)->servfail, 1);
    dnsfilter_free(f);
    close(cl);
    close(up);
}

/* An upstream the kernel refuses at once (broadcast without SO_BROADCAST: EACCES): the next one gets the query now,
 * not after the first one's share of the time (30 s here). */
static void test_refused_upstream(void **state)
{
    (void)state;
    int up = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ua = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(up, (struct sockaddr *)&ua, sizeof ua), 0);
    socklen_t ul = sizeof ua;
    getsockname(up, (struct sockaddr *)&ua, &ul);
    struct dnsf_config cfg = {.nup = 2, .timeout_ms = 60000, .answers = {.have_v4 = true, .ttl = 10}};
    assert_int_equal(dnsf_parse_addr("127.0.0.1:0", 53, &cfg.listen, &cfg.listen_len), 0);
    assert_int_equal(dnsf_parse_addr("255.255.255.255:53", 53, &cfg.up[0], &cfg.up_len[0]), 0);
    memcpy(&cfg.up[1], &ua, sizeof ua);
    cfg.up_len[1] = sizeof ua;
    struct dnsfilter *f;
    char err[256];
    assert_int_equal(dnsfilter_new(&cfg, by_suffix, NULL, &f, err, sizeof err), 0);
    struct pollfd pf[DNSF_MAX_FDS];
    dnsfilter_pollfds(f, pf, DNSF_MAX_FDS);
    struct sockaddr_storage la;
    socklen_t ll = sizeof la;
    getsockname(pf[0].fd, (struct sockaddr *)&la, &ll);
    int cl = socket(AF_INET, SOCK_DGRAM, 0);
    uint8_t q[512], got[4096];
    size_t qn = query("www.example.com.", LDNS_RR_TYPE_A, q, sizeof q);
    assert_int_equal(sendto(cl, q, qn, 0, (struct sockaddr *)&la, ll), (ssize_t)qn);
    run(f, 1000);
    /* the refused try is over already: due now, not in 30 s */
    assert_true(dnsfilter_next(f) <= (int64_t)(util_mono_ns() / 1000000u));
    dnsfilter_timeouts(f, dnsfilter_next(f));
    ssize_t k = recv(up, got, sizeof got, MSG_DONTWAIT);
    assert_int_equal(k, (ssize_t)qn);
    assert_memory_equal(got + 2, q + 2, qn - 2);
    assert_int_equal(dnsfilter_stats(f)->forwarded, 1);
    assert_int_equal(dnsfilter_stats(f)->servfail, 0);
    dnsfilter_free(f);
    close(cl);
    close(up);
}

/* A TCP client that hangs up while its query is forwarded is dropped with its forward (no POLLHUP busy loop). */
static void test_tcp_hangup(void **state)
{
    (void)state;
    int tl = socket(AF_INET, SOCK_STREAM, 0); /* an upstream that accepts (the kernel does) and never answers */
    struct sockaddr_in ua = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(tl, (struct sockaddr *)&ua, sizeof ua), 0);
    assert_int_equal(listen(tl, 4), 0);
    socklen_t ul = sizeof ua;
    getsockname(tl, (struct sockaddr *)&ua, &ul);
    struct dnsf_config cfg = {.nup = 1, .timeout_ms = 60000, .answers = {.have_v4 = true, .ttl = 10}};
    assert_int_equal(dnsf_parse_addr("127.0.0.1:0", 53, &cfg.listen, &cfg.listen_len), 0);
    memcpy(&cfg.up[0], &ua, sizeof ua);
    cfg.up_len[0] = sizeof ua;
    struct dnsfilter *f;
    char err[256];
    assert_int_equal(dnsfilter_new(&cfg, by_suffix, NULL, &f, err, sizeof err), 0);
    struct pollfd pf[DNSF_MAX_FDS];
    int base = dnsfilter_pollfds(f, pf, DNSF_MAX_FDS);
    struct sockaddr_storage la;
    socklen_t ll = sizeof la;
    getsockname(pf[1].fd, (struct sockaddr *)&la, &ll); /* the TCP listener */
    int cl = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(cl, (struct sockaddr *)&la, ll), 0);
    uint8_t q[514];
    size_t qn = query("www.example.com.", LDNS_RR_TYPE_A, q + 2, sizeof q - 2);
    q[0] = (uint8_t)(qn >> 8);
    q[1] = (uint8_t)qn;
    assert_int_equal(send(cl, q, qn + 2, 0), (ssize_t)qn + 2);
    int n = base;
    for (int i = 0; i < 20 && n != base + 2; i++) { /* accepted, read, forwarded over TCP */
        run(f, 100);
        n = dnsfilter_pollfds(f, pf, DNSF_MAX_FDS);
    }
    assert_int_equal(n, base + 2);
    assert_int_equal(pf[base].events, 0); /* busy: waits for nothing from the client */
    /* poll says the client hung up (POLLHUP is reported whatever the events) */
    pf[base].revents = POLLHUP;
    dnsfilter_process(f, pf, n);
    assert_int_equal(dnsfilter_pollfds(f, pf, DNSF_MAX_FDS), base); /* the client and its forward are gone */
    dnsfilter_free(f);
    close(cl);
    close(tl);
}

/* A TCP connection to the filter's TCP listener (pf[1] of dnsfilter_pollfds). */
static int tcp_connect_to(const struct sockaddr_storage *la, socklen_t ll)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (const struct sockaddr *)la, ll), 0);
    return fd;
}

/* True when fd has something to read (data or EOF) within ms. */
static bool readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms) == 1;
}

/*
 * Idle DNS-over-TCP clients never lock others out: with DNSF_MAX_TCP idle connections open, a new client is
 * served and the one idle the longest is closed; a client whose query trickles in byte by byte is closed
 * DNSF_TCP_IDLE_MS after its connection all the same (its bytes do not extend the time).
 */
static void test_tcp_fair(void **state)
{
    (void)state;
    struct dnsf_config cfg = {.nup = 0, .timeout_ms = 300, .answers = {.have_v4 = true, .ttl = 10}};
    assert_int_equal(dnsf_parse_addr("127.0.0.1:0", 53, &cfg.listen, &cfg.listen_len), 0);
    struct dnsfilter *f;
    char err[256];
    assert_int_equal(dnsfilter_new(&cfg, by_suffix, NULL, &f, err, sizeof err), 0);
    struct pollfd pf[DNSF_MAX_FDS];
    int base = dnsfilter_pollfds(f, pf, DNSF_MAX_FDS);
    struct sockaddr_storage la;
    socklen_t ll = sizeof la;
    getsockname(pf[1].fd, (struct sockaddr *)&la, &ll); /* the TCP listener */
    int idle[DNSF_MAX_TCP];
    for (int i = 0; i < DNSF_MAX_TCP; i++) {
        idle[i] = tcp_connect_to(&la, ll);
        int n = 0;
        for (int k = 0; k < 50 && n != base + i + 1; k++) { /* accepted, one by one: idle[0] is the oldest */
            run(f, 100);
            n = dnsfilter_pollfds(f, pf, DNSF_MAX_FDS);
        }
        assert_int_equal(n, base + i + 1);
    }
    /* the table is full of idle clients: a new one is served all the same */
    int cl = tcp_connect_to(&la, ll);
    uint8_t q[514], got[4096];
    size_t qn = query("evil.test.", LDNS_RR_TYPE_A, q + 2, sizeof q - 2);
    q[0] = (uint8_t)(qn >> 8);
    q[1] = (uint8_t)qn;
    assert_int_equal(send(cl, q, qn + 2, 0), (ssize_t)qn + 2);
    for (int k = 0; k < 50 && !readable(cl, 0); k++) /* a bound, not a measurement */
        run(f, 100);
    ssize_t k = recv(cl, got, sizeof got, MSG_DONTWAIT);
    assert_true(k > 2); /* an answer, not a hang-up */
    assert_int_equal((size_t)k, 2 + (((size_t)got[0] << 8) | got[1]));
    ldns_pkt *p = NULL;
    assert_int_equal(ldns_wire2pkt(&p, got + 2, (size_t)k - 2), LDNS_STATUS_OK);
    assert_int_equal(ldns_pkt_id(p), 0x4242);
    assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
    assert_true(ldns_pkt_ancount(p) >= 1); /* the sinkhole address */
    ldns_pkt_free(p);
    assert_int_equal(dnsfilter_stats(f)->tcp_evicted, 1);
    /* the oldest idle client made room (EOF), the others are still open */
    assert_true(readable(idle[0], 1000));
    assert_int_equal(recv(idle[0], got, sizeof got, 0), 0);
    for (int i = 1; i < DNSF_MAX_TCP; i++)
        assert_false(readable(idle[i], 0));
    assert_int_equal(dnsfilter_pollfds(f, pf, DNSF_MAX_FDS), base + DNSF_MAX_TCP);

    /* a client trickling a query one byte at a time: closed DNSF_TCP_IDLE_MS after its connection all the same */
    int64_t t_mid = (int64_t)(util_mono_ns() / 1000000u); /* after every connection and the last answer */
    usleep(20000);
    assert_int_equal(send(idle[1], q, 1, 0), 1);
    for (int i = 0; i < 5; i++)
        run(f, 20);
    assert_false(readable(idle[1], 0)); /* not yet closed */
    dnsfilter_timeouts(f, t_mid + DNSF_TCP_IDLE_MS);
    assert_true(readable(idle[1], 1000));
    assert_int_equal(recv(idle[1], got, sizeof got, 0), 0);
    /* and the idle ones with it: none is left */
    assert_int_equal(dnsfilter_pollfds(f, pf, DNSF_MAX_FDS), base);
    dnsfilter_free(f);
    close(cl);
    for (int i = 0; i < DNSF_MAX_TCP; i++)
        close(idle[i]);
}

/* ---- spoofing resistance of forwarded queries (RFC 5452) */

/* A fake upstream: a UDP socket on addr:port (port 0: any). */
static int fake_upstream(const char *addr, uint16_t port, struct sockaddr_in *sa)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    assert_int_equal(inet_pton(AF_INET, addr, &sa->sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)sa, sizeof *sa), 0);
    socklen_t l = sizeof *sa;
    getsockname(fd, (struct sockaddr *)sa, &l);
    int rcv = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    return fd;
}

struct spoof_env {
    int up, cl;
    struct sockaddr_in ua;
    struct sockaddr_storage la;
    socklen_t ll;
    struct dnsfilter *f;
};

static void spoof_setup(struct spoof_env *e)
{
    e->up = fake_upstream("127.0.0.1", 0, &e->ua);
    struct dnsf_config cfg = {.nup = 1, .timeout_ms = 60000, .answers = {.have_v4 = true, .ttl = 10}};
    assert_int_equal(dnsf_parse_addr("127.0.0.1:0", 53, &cfg.listen, &cfg.listen_len), 0);
    memcpy(&cfg.up[0], &e->ua, sizeof e->ua);
    cfg.up_len[0] = sizeof e->ua;
    char err[256];
    assert_int_equal(dnsfilter_new(&cfg, by_suffix, NULL, &e->f, err, sizeof err), 0);
    struct pollfd pf[DNSF_MAX_FDS];
    dnsfilter_pollfds(e->f, pf, DNSF_MAX_FDS);
    e->ll = sizeof e->la;
    getsockname(pf[0].fd, (struct sockaddr *)&e->la, &e->ll);
    e->cl = socket(AF_INET, SOCK_DGRAM, 0);
    int rcv = 4 << 20;
    setsockopt(e->cl, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
}

static void spoof_teardown(struct spoof_env *e)
{
    dnsfilter_free(e->f);
    close(e->cl);
    close(e->up);
}

/* What the fake upstream got: a query, the filter's source address, and the ID it carries. */
struct upq {
    uint8_t q[512];
    size_t n;
    struct sockaddr_in from;
};

/* Sends n client queries q<base+i>.example. (client ID base+i) and collects what the upstream gets (all n). */
static void send_batch(struct spoof_env *e, int base, int n, struct upq *got)
{
    for (int i = 0; i < n; i++) {
        char name[64];
        uint8_t q[512];
        snprintf(name, sizeof name, "q%d.example.", base + i);
        size_t qn = query(name, LDNS_RR_TYPE_A, q, sizeof q);
        ldns_write_uint16(q, (uint16_t)(base + i));
        assert_int_equal(sendto(e->cl, q, qn, 0, (struct sockaddr *)&e->la, e->ll), (ssize_t)qn);
    }
    int have = 0;
    for (int tries = 0; tries < 200 && have < n; tries++) {
        run(e->f, 20);
        for (;;) {
            socklen_t fl = sizeof got[have].from;
            ssize_t k =
                recvfrom(e->up, got[have].q, sizeof got[have].q, MSG_DONTWAIT, (struct sockaddr *)&got[have].from, &fl);
            if (k <= 0)
                break;
            got[have].n = (size_t)k;
            if (++have == n)
                break;
        }
    }
    assert_int_equal(have, n);
}

/* The upstream's answer to u: its query turned into a response, sent from fd to where the query came from. */
static void answer_from(int fd, const struct upq *u, uint16_t id)
{
    uint8_t a[512];
    memcpy(a, u->q, u->n);
    ldns_write_uint16(a, id);
    a[2] |= 0x80;
    assert_int_equal(sendto(fd, a, u->n, 0, (const struct sockaddr *)&u->from, sizeof u->from), (ssize_t)u->n);
}

/* Reads the client's answers (up to max, waiting up to ms for the first); returns how many. */
static int client_answers(struct spoof_env *e, int max, int ms, uint8_t (*out)[512])
{
    int n = 0;
    for (int t = 0; t < ms / 10 && n < max; t++) {
        run(e->f, 10);
        ssize_t k;
        while (n < max && (k = recv(e->cl, out[n], sizeof out[n], MSG_DONTWAIT)) > 0)
            n++;
    }
    return n;
}

static bool seen_port(const uint16_t *ports, int n, uint16_t p)
{
    for (int i = 0; i < n; i++)
        if (ports[i] == p)
            return true;
    return false;
}

/*
 * Upstream IDs use all 16 bits and never repeat among pending queries; source
 * ports vary across queries and keep changing; every answer, taken back in any
 * order, reaches its client with the client's ID.
 */
static void test_upstream_random(void **state)
{
    (void)state;
    enum { BATCHQ = 200, ROUNDS = 10 };
    struct spoof_env e;
    spoof_setup(&e);
    static struct upq got[BATCHQ];
    static uint8_t ans[BATCHQ][512];
    uint16_t ports[4096];
    int nports = 0, ports_first_round = 0;
    unsigned hi_or = 0, hi_and = 0xff, lo_or = 0, lo_and = 0xff;
    int low10_shared = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int base = round * BATCHQ;
        send_batch(&e, base, BATCHQ, got);
        /* all BATCHQ are pending at once: no two share an upstream ID */
        for (int i = 0; i < BATCHQ; i++) {
            uint16_t id = ldns_read_uint16(got[i].q);
            hi_or |= id >> 8, hi_and &= id >> 8, lo_or |= id & 0xff, lo_and &= id & 0xff;
            for (int j = 0; j < i; j++) {
                uint16_t other = ldns_read_uint16(got[j].q);
                assert_int_not_equal(id, other);
                /* the low 10 bits are not a pending-table slot: random IDs share them now and then */
                low10_shared += (id & 0x3ff) == (other & 0x3ff);
            }
            uint16_t port = ntohs(got[i].from.sin_port);
            if (!seen_port(ports, nports, port) && nports < (int)(sizeof ports / sizeof ports[0]))
                ports[nports++] = port;
        }
        if (round == 0)
            ports_first_round = nports;
        /* answer them back to front, each from the upstream, and check each client gets its own answer */
        for (int i = BATCHQ - 1; i >= 0; i--)
            answer_from(e.up, &got[i], ldns_read_uint16(got[i].q));
        int n = client_answers(&e, BATCHQ, 2000, ans);
        assert_int_equal(n, BATCHQ);
        for (int i = 0; i < n; i++) {
            uint16_t cid = ldns_read_uint16(ans[i]);
            assert_true(cid >= base && cid < base + BATCHQ);
            char name[64];
            snprintf(name, sizeof name, "q%u", (unsigned)cid);
            assert_int_equal(ans[i][12], strlen(name)); /* the first label of the echoed question */
            assert_memory_equal(ans[i] + 13, name, strlen(name));
        }
    }
    /* every bit of both bytes took both values */
    assert_int_equal(hi_or, 0xff);
    assert_int_equal(hi_and, 0);
    assert_int_equal(lo_or, 0xff);
    assert_int_equal(lo_and, 0);
    /* ~19 pairs expected per round with 16 random bits, none when the low 10 bits are the slot (p < 1e-8 of 0) */
    assert_true(low10_shared > 0);
    /* several source ports for one batch of queries, and new ones as the sockets are replaced */
    assert_true(ports_first_round >= 8);
    assert_true(nports > DNSF_UP_SOCKS);
    assert_int_equal(dnsfilter_stats(e.f)->forwarded, BATCHQ * ROUNDS);
    assert_int_equal(dnsfilter_stats(e.f)->servfail, 0);
    spoof_teardown(&e);
}

/*
 * An answer from another address or port, to another of the filter's sockets,
 * with a wrong ID or question: dropped.
 */
static void test_upstream_spoofed(void **state)
{
    (void)state;
    enum { NQ = 24 };
    struct spoof_env e;
    spoof_setup(&e);
    static struct upq got[NQ];
    send_batch(&e, 7, NQ, got); /* several pending queries, so several of the pool's sockets are in use */
    int qi = -1;
    for (int i = 0; i < NQ && qi < 0; i++)
        if (ldns_read_uint16(got[i].q + 12) == 0x0271) /* "\002q7": the query of client ID 7 */
            qi = i;
    assert_true(qi >= 0);
    struct upq u = got[qi];
    uint16_t id = ldns_read_uint16(u.q);
    uint8_t ans[NQ][512];
    /* the right answer from another address, with the upstream's port */
    struct sockaddr_in sa;
    int other_addr = fake_upstream("127.0.0.2", ntohs(e.ua.sin_port), &sa);
    answer_from(other_addr, &u, id);
    /* ... from another port of the upstream's address */
    int other_port = fake_upstream("127.0.0.1", 0, &sa);
    answer_from(other_port, &u, id);
    /* from the upstream, to the other sockets the filter's queries left from */
    int others = 0;
    for (int i = 0; i < NQ; i++) {
        if (got[i].from.sin_port == u.from.sin_port)
            continue;
        struct upq v = u;
        v.from = got[i].from;
        answer_from(e.up, &v, id);
        others++;
    }
    assert_true(others >= 1);
    /* from the upstream, with every other ID (read as they come, not lost to a full socket buffer) */
    for (unsigned x = 0; x < 65536; x++) {
        if (x != id)
            answer_from(e.up, &u, (uint16_t)x);
        if (x % 128 == 127)
            assert_int_equal(client_answers(&e, 1, 10, ans), 0);
    }
    /* from the upstream with the ID but another question */
    struct upq w = u;
    w.q[14] = '8'; /* "q7.example." -> "q8.example." */
    answer_from(e.up, &w, id);
    /* none of them is relayed */
    for (int t = 0; t < 50; t++)
        assert_int_equal(client_answers(&e, 1, 10, ans), 0);
    /* the real answers still are */
    for (int i = 0; i < NQ; i++)
        answer_from(e.up, &got[i], ldns_read_uint16(got[i].q));
    assert_int_equal(client_answers(&e, NQ, 2000, ans), NQ);
    assert_int_equal(dnsfilter_stats(e.f)->servfail, 0);
    close(other_addr);
    close(other_port);
    spoof_teardown(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_answers),    cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_decide),           cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_sockets),          cmocka_unit_test(test_refused_upstream),
        cmocka_unit_test(test_tcp_hangup),       cmocka_unit_test(test_upstream_random),
        cmocka_unit_test(test_upstream_spoofed), cmocka_unit_test(test_tcp_fair),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
