/*
 * test_ratelimit.c: unit tests of server/ratelimit.c: rules parse "N/S" and
 * refuse the rest; a bucket empties, answers the seconds until a token is
 * back, refills with time and gets given tokens back up to its burst; a full
 * table forgets an entry instead of growing; trusted-proxy CIDRs and the
 * X-Forwarded-For walk, including bad values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "server/ratelimit.h"

static struct ratelimit *make(const char *addr_rule, const char *proxies, size_t cap)
{
    struct ratelimit_rule a, b;
    assert_int_equal(ratelimit_rule_parse(addr_rule, &a), 0);
    assert_int_equal(ratelimit_rule_parse("20/300", &b), 0);
    struct ratelimit *rl = NULL;
    char err[200];
    assert_int_equal(ratelimit_new(&a, &b, cap, proxies, &rl, err, sizeof err), 0);
    return rl;
}

static void test_rule_parse(void **state)
{
    (void)state;
    struct ratelimit_rule r;
    assert_int_equal(ratelimit_rule_parse("10/60", &r), 0);
    assert_true(r.burst == 10 && r.period_s == 60);
    const char *bad[] = {"", "10", "10/", "/60", "0/60", "10/0", "-1/60", "10/60x", "a/b", " 10/60", "10/99999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ratelimit_rule_parse(bad[i], &r), RG_EINVAL);
    assert_int_equal(ratelimit_rule_parse(NULL, &r), RG_EINVAL);
}

static void test_bucket_refill(void **state)
{
    (void)state;
    struct ratelimit *rl = make("3/60", NULL, 64); /* 3 tokens, one back every 20 s */
    int64_t t = 1000000;
    for (int i = 0; i < 3; i++)
        assert_int_equal(ratelimit_take(rl, RATELIMIT_ADDRESS, "10.0.0.1", t), 0);
    assert_int_equal(ratelimit_take(rl, RATELIMIT_ADDRESS, "10.0.0.1", t), 20);
    assert_int_equal(ratelimit_take(rl, RATELIMIT_ADDRESS, "10.0.0.1", t + 15000), 5);
    assert_int_equal(ratelimit_take(rl, RATELIMIT_ADDRESS, "10.0.0.1", t + 20000), 0);
    assert_true(ratelimit_take(rl, RATELIMIT_ADDRESS, "10.0.0.1", t + 20000) > 0);
    /* another key and the other table are untouched */
    assert_int_equal(ratelimit_take(rl, RATELIMIT_ADDRESS, "10.0.0.2", t), 0);
    assert_int_equal(ratelimit_take(rl, RATELIMIT_ACCOUNT, "10.0.0.1", t), 0);
    /* a success gives its token back */
    ratelimit_give(rl, RATELIMIT_ADDRESS, "10.0.0.1", t + 20000);
    assert_int_equal(ratelimit_take(rl, RATELIMIT_ADDRESS, "10.0.0.1", t + 20000), 0);
    /* never above the burst, however long it waits or how much is given */
    for (int i = 0; i < 10; i++)
        ratelimit_give(rl, RATELIMIT_ADDRESS, "10.0.0.1", t + 10000000);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ratelimit_take(rl, RATELIMIT_ADDRESS, "10.0.0.1", t + 10000000), 0);
    assert_true(ratelimit_take(rl, RATELIMIT_ADDRESS, "10.0.0.1", t + 10000000) > 0);
    ratelimit_give(rl, RATELIMIT_ADDRESS, "never seen", t); /* no entry made */
    assert_int_equal(ratelimit_count(rl, RATELIMIT_ADDRESS), 2);
    ratelimit_free(rl);
}

static void test_eviction_bounded(void **state)
{
    (void)state;
    struct ratelimit *rl = make("2/60", NULL, 16);
    int64_t t = 5000;
    /* one locked-out key, then many keys that each used one token */
    assert_int_equal(ratelimit_take(rl, RATELIMIT_ADDRESS, "attacker", t), 0);
    assert_int_equal(ratelimit_take(rl, RATELIMIT_ADDRESS, "attacker", t), 0);
    char key[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(ratelimit_take(rl, RATELIMIT_ADDRESS, key, t), 0);
        assert_true(ratelimit_count(rl, RATELIMIT_ADDRESS) <= 16);
    }
    assert_int_equal(ratelimit_count(rl, RATELIMIT_ADDRESS), 16);
    /* fuller buckets go first: the empty one is still remembered unless its probe window was all empty buckets */
    (void)ratelimit_take(rl, RATELIMIT_ADDRESS, "attacker", t);
    ratelimit_free(rl);
}

static void client(const struct ratelimit *rl, const char *peer, const char *xff, const char *want)
{
    char out[64];
    ratelimit_client(rl, peer, xff, out, sizeof out);
    assert_string_equal(out, want);
}

static void test_trusted_proxies(void **state)
{
    (void)state;
    struct ratelimit *rl = make("10/60", "10.0.0.0/8, 192.168.1.1,fd00::/8", 64);
    assert_true(ratelimit_trusted(rl, "10.1.2.3"));
    assert_true(ratelimit_trusted(rl, "192.168.1.1"));
    assert_false(ratelimit_trusted(rl, "192.168.1.2"));
    assert_true(ratelimit_trusted(rl, "fd12::1"));
    assert_false(ratelimit_trusted(rl, "fe80::1"));
    assert_true(ratelimit_trusted(rl, "::ffff:10.9.9.9")); /* IPv4-mapped */
    assert_false(ratelimit_trusted(rl, "not an address"));
    assert_false(ratelimit_trusted(rl, NULL));

    /* an untrusted peer: its X-Forwarded-For is ignored */
    client(rl, "203.0.113.5", "1.2.3.4", "203.0.113.5");
    /* a trusted peer: the right-most untrusted hop */
    client(rl, "10.0.0.1", "1.2.3.4", "1.2.3.4");
    client(rl, "10.0.0.1", "6.6.6.6, 1.2.3.4, 10.2.2.2", "1.2.3.4");
    client(rl, "10.0.0.1", " 1.2.3.4 ,10.2.2.2 ", "1.2.3.4");
    client(rl, "10.0.0.1", "2001:db8::1", "2001:db8::1");
    /* bad values stop the walk at the last address that could be trusted */
    client(rl, "10.0.0.1", "garbage", "10.0.0.1");
    client(rl, "10.0.0.1", "1.2.3.4, garbage, 10.2.2.2", "10.2.2.2");
    client(rl, "10.0.0.1", "", "10.0.0.1");
    client(rl, "10.0.0.1", ",,", "10.0.0.1");
    client(rl, "10.0.0.1", "1.2.3.4:5678", "10.0.0.1");
    client(rl, "10.0.0.1", "999.1.1.1", "10.0.0.1");
    client(rl, "10.0.0.1", "1.2.3.4/8", "10.0.0.1");
    char longv[400];
    memset(longv, '1', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    client(rl, "10.0.0.1", longv, "10.0.0.1");
    /* all hops trusted: the left-most */
    client(rl, "10.0.0.1", "10.3.3.3, 10.2.2.2", "10.3.3.3");
    /* peers normalised; a peer that is not an address is kept as is */
    client(rl, "::ffff:127.0.0.1", NULL, "127.0.0.1");
    client(rl, "", NULL, "");
    ratelimit_free(rl);
}

static void test_bad_proxies(void **state)
{
    (void)state;
    struct ratelimit_rule a = {10, 60};
    struct ratelimit *rl = NULL;
    char err[200];
    const char *bad[] = {"10.0.0.0/33", "10.0.0.0/", "10.0.0/8", "::1/129", "example.com", "10.0.0.0/8x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(ratelimit_new(&a, &a, 16, bad[i], &rl, err, sizeof err), RG_EINVAL);
        assert_non_null(strstr(err, "--trusted-proxy"));
    }
    struct ratelimit_rule zero = {0, 60};
    assert_int_equal(ratelimit_new(&zero, &a, 16, NULL, &rl, err, sizeof err), RG_EINVAL);
    ratelimit_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_parse),     cmocka_unit_test(test_bucket_refill),
        cmocka_unit_test(test_eviction_bounded), cmocka_unit_test(test_trusted_proxies),
        cmocka_unit_test(test_bad_proxies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
