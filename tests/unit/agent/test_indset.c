/*
 * Unit tests of src/agent/indset.c (the agent's seam over src/intel/) and url.c:
 * domain suffixes, URL path prefixes, IPs, precedence, titles, updates, bare hosts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agent/indset.h"
#include "agent/url.h"
#include "common/err.h"

static void add(struct indset *s, int64_t id, enum ind_type t, const char *v, enum ind_action a)
{
    assert_int_equal(indset_upsert(s, &(struct indicator){.id = id, .type = t, .value = v, .action = a}), 0);
}

static enum ind_action act(const struct indset *s, const char *url)
{
    struct indicator m;
    return indset_match_url(s, url, &m) ? m.action : IND_NOACTION;
}

static void test_url_host(void **state)
{
    (void)state;
    char h[URL_HOST_MAX];
    const char *path;
    assert_int_equal(url_host("https://user:pw@Sub.Example.COM.:8443/a/b?q=1", h, sizeof h, &path), 0);
    assert_string_equal(h, "sub.example.com");
    assert_string_equal(path, "/a/b?q=1");
    assert_int_equal(url_host("example.com/x", h, sizeof h, &path), 0);
    assert_string_equal(h, "example.com");
    assert_string_equal(path, "/x");
    assert_int_equal(url_host("http://[2001:DB8:0:0:0:0:0:1]:80/", h, sizeof h, NULL), 0);
    assert_string_equal(h, "2001:db8::1");
    assert_int_equal(url_host("10.1.2.3", h, sizeof h, &path), 0);
    assert_string_equal(path, "");
    assert_true(url_is_ip(h));
    assert_false(url_is_ip("example.com"));
    assert_int_equal(url_host("", h, sizeof h, NULL), RG_EINVAL);
    assert_int_equal(url_host("http:///x", h, sizeof h, NULL), RG_EINVAL);
    assert_int_equal(url_host("http://bad host/", h, sizeof h, NULL), RG_EINVAL);
}

static void test_domains(void **state)
{
    (void)state;
    struct indset *s = indset_new();
    add(s, 1, IND_DOMAIN, "Evil.COM.", IND_BLOCK);
    assert_int_equal(indset_count(s), 1);
    assert_int_equal(act(s, "evil.com"), IND_BLOCK);
    assert_int_equal(act(s, "https://a.b.evil.com/path"), IND_BLOCK);
    assert_int_equal(act(s, "https://notevil.com/"), IND_NOACTION); /* whole labels only */
    assert_int_equal(act(s, "https://evil.com.example.org/"), IND_NOACTION);
    /* an Allowed subdomain beats the Block of its parent; Allow > Warn > Block */
    add(s, 2, IND_DOMAIN, "good.evil.com", IND_ALLOWED);
    assert_int_equal(act(s, "https://good.evil.com/"), IND_ALLOWED);
    assert_int_equal(act(s, "https://x.good.evil.com/"), IND_ALLOWED);
    assert_int_equal(act(s, "https://bad.evil.com/"), IND_BLOCK);
    /* the most specific domain wins; on one value Allowed > Warn > Block */
    add(s, 3, IND_DOMAIN, "warn.example", IND_WARN);
    add(s, 4, IND_DOMAIN, "x.warn.example", IND_BLOCK);
    assert_int_equal(act(s, "x.warn.example"), IND_BLOCK);
    assert_int_equal(act(s, "y.warn.example"), IND_WARN);
    add(s, 5, IND_DOMAIN, "x.warn.example", IND_WARN);
    assert_int_equal(act(s, "x.warn.example"), IND_WARN);
    assert_int_equal(indset_remove(s, 5), 0);
    /* replace by id, then remove */
    add(s, 1, IND_DOMAIN, "evil.com", IND_AUDIT);
    assert_int_equal(indset_count(s), 4);
    assert_int_equal(act(s, "evil.com"), IND_AUDIT);
    assert_int_equal(indset_remove(s, 1), 0);
    assert_int_equal(indset_remove(s, 1), RG_ENOTFOUND);
    assert_int_equal(act(s, "evil.com"), IND_NOACTION);
    indset_clear(s);
    assert_int_equal(indset_count(s), 0);
    assert_int_equal(act(s, "good.evil.com"), IND_NOACTION);
    indset_free(s);
}

static void test_urls_and_ips(void **state)
{
    (void)state;
    struct indset *s = indset_new();
    add(s, 1, IND_URL, "https://support.example.com", IND_BLOCK);
    add(s, 2, IND_URL, "https://support.example.com/office", IND_ALLOWED);
    add(s, 3, IND_URL, "http://phish.example.net/login", IND_BLOCK);
    add(s, 4, IND_IP, "203.0.113.7", IND_WARN);
    add(s, 5, IND_IP, "2001:db8::0:1", IND_BLOCK);
    /* the longest path wins */
    assert_int_equal(act(s, "https://support.example.com/office/365"), IND_ALLOWED);
    assert_int_equal(act(s, "https://support.example.com/windows"), IND_BLOCK);
    assert_int_equal(act(s, "https://support.example.com"), IND_BLOCK);
    assert_int_equal(act(s, "http://phish.example.net/login?next=/"), IND_BLOCK);
    assert_int_equal(act(s, "http://phish.example.net/login/step2"), IND_BLOCK);
    assert_int_equal(act(s, "http://phish.example.net/loginx"), IND_NOACTION); /* path segments */
    assert_int_equal(act(s, "phish.example.net/login"), IND_BLOCK);            /* "host/path" taken as http */
    assert_int_equal(act(s, "http://phish.example.net/"), IND_NOACTION);
    assert_int_equal(act(s, "http://sub.phish.example.net/login"), IND_NOACTION); /* URL: exact host */
    /* the indicator's title comes back with the match */
    assert_int_equal(indset_upsert(s, &(struct indicator){.id = 9,
                                                          .type = IND_DOMAIN,
                                                          .value = "titled.example",
                                                          .action = IND_BLOCK,
                                                          .title = "Known phishing kit",
                                                          .severity = "High"}),
                     0);
    struct indicator m;
    assert_true(indset_match_url(s, "https://login.titled.example/x", &m));
    assert_int_equal(m.id, 9);
    assert_int_equal(m.type, IND_DOMAIN);
    assert_string_equal(m.value, "titled.example");
    assert_string_equal(m.title, "Known phishing kit");
    assert_string_equal(m.severity, "High");
    /* expired indicators do not match */
    assert_int_equal(indset_upsert(s, &(struct indicator){.id = 10,
                                                          .type = IND_DOMAIN,
                                                          .value = "old.example",
                                                          .action = IND_BLOCK,
                                                          .expires_ms = 1000}),
                     0);
    assert_int_equal(act(s, "old.example"), IND_NOACTION);
    assert_int_equal(act(s, "http://203.0.113.7:8080/x"), IND_WARN);
    assert_int_equal(act(s, "203.0.113.70"), IND_NOACTION);
    assert_int_equal(act(s, "http://[2001:db8::1]/"), IND_BLOCK);
    indset_free(s);
}

static void test_parse_and_bad_values(void **state)
{
    (void)state;
    assert_int_equal(indset_type_parse("filesha256"), IND_SHA256);
    assert_int_equal(indset_type_parse("DomainName"), IND_DOMAIN);
    assert_int_equal(indset_type_parse("nope"), IND_NONE);
    assert_int_equal(indset_action_parse("AlertAndBlock"), IND_REMEDIATE);
    assert_int_equal(indset_action_parse("Alert"), IND_AUDIT);
    assert_int_equal(indset_action_parse("allowed"), IND_ALLOWED);
    assert_int_equal(indset_action_parse(NULL), IND_NOACTION);
    assert_string_equal(indset_action_name(IND_BLOCK), "Block");
    struct indset *s = indset_new();
    struct indicator bad = {.id = 9, .type = IND_SHA256, .value = "abc", .action = IND_BLOCK};
    assert_int_equal(indset_upsert(s, &bad), RG_EINVAL);
    bad.type = IND_IP;
    bad.value = "not-an-ip";
    assert_int_equal(indset_upsert(s, &bad), RG_EINVAL);
    bad.type = IND_DOMAIN;
    bad.value = "   ";
    assert_int_equal(indset_upsert(s, &bad), RG_EINVAL);
    bad.value = "com"; /* a public suffix alone would match every .com host */
    assert_int_equal(indset_upsert(s, &bad), RG_EINVAL);
    bad.value = "ok.example";
    bad.action = IND_NOACTION;
    assert_int_equal(indset_upsert(s, &bad), RG_EINVAL);
    assert_int_equal(indset_count(s), 0);
    /* upper-case hashes are normalized; the file order is SHA-256 > SHA-1 > MD5 */
    add(s, 1, IND_MD5, "44D88612FEA8A8F36DE82E1278ABB02F", IND_BLOCK);
    struct indicator m;
    assert_true(indset_match_file(s, NULL, NULL, "44d88612fea8a8f36de82e1278abb02f", &m));
    assert_int_equal(m.id, 1);
    assert_int_equal(m.action, IND_BLOCK);
    assert_false(indset_match_file(s, "", "", "", &m));
    /* many entries: the tables grow and every one is still found */
    for (int i = 0; i < 5000; i++) {
        char d[64];
        snprintf(d, sizeof d, "host%d.example", i);
        add(s, 100 + i, IND_DOMAIN, d, i % 2 ? IND_BLOCK : IND_WARN);
    }
    assert_int_equal(indset_count(s), 5001);
    assert_int_equal(act(s, "https://a.host4999.example/"), IND_BLOCK);
    assert_int_equal(act(s, "host0.example"), IND_WARN);
    for (int i = 0; i < 5000; i += 2)
        assert_int_equal(indset_remove(s, 100 + i), 0);
    assert_int_equal(act(s, "host0.example"), IND_NOACTION);
    assert_int_equal(act(s, "host1.example"), IND_BLOCK);
    indset_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_host),
        cmocka_unit_test(test_domains),
        cmocka_unit_test(test_urls_and_ips),
        cmocka_unit_test(test_parse_and_bad_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
