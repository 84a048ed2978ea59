/*
 * Unit tests of src/agent/dnsfilter.c and webprot.c: the local answers
 * (sinkhole A, AAAA, NODATA, NXDOMAIN, FORMERR, NOTIMP, dropped responses),
 * the decision by the agent's indicators (block, subdomain, Allowed beats
 * Block, Warn, the built-in test domain, antiphishing/vpn switches, a live
 * indicator change, one report per name, DefenderExcludeURLInReport), the
 * block page's override table, and the filter on real loopback sockets:
 * a forwarded query and its answer relayed byte for byte but the ID, and
 * SERVFAIL when the upstream stays silent.
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_answers), cmocka_unit_test(test_malformed), cmocka_unit_test(test_decide),
        cmocka_unit_test(test_overrides),     cmocka_unit_test(test_sockets),   cmocka_unit_test(test_refused_upstream),
        cmocka_unit_test(test_tcp_hangup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
