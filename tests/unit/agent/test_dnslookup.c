/*
 * test_dnslookup.c: unit tests of src/agent/dnslookup.c's reading of a
 * resolver's answer (dnslookup_read_answer): the first address of the query's
 * type and the smallest TTL, names compared without case, no address in a
 * valid answer, and what is refused: another ID, a query instead of an answer,
 * another name or type, a malformed, short or truncated datagram
 * (fuzz/fuzz_dnslookup.c fuzzes the same function).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/dnslookup.h"
#include "common/err.h"

/* header id 0x1234, QR RD RA, rcode rc; one question example.test type t; an answers */
#define HDR(flags2, an) 0x12, 0x34, 0x81, flags2, 0, 1, 0, an, 0, 0, 0, 0
#define QNAME 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0
#define Q(t) QNAME, 0, t, 0, 1
/* an answer for the question's name (pointer to offset 12), type t, TTL ttl (one byte), 4 or 16 bytes of data */
#define RR(t, ttl, len) 0xc0, 0x0c, 0, t, 0, 1, 0, 0, 0, ttl, 0, len

static const uint8_t two_a[] = {HDR(0x80, 2), Q(1), RR(1, 200, 4), 192, 0, 2, 7, RR(1, 30, 4), 192, 0, 2, 8};

static void test_address_and_ttl(void **state)
{
    (void)state;
    char addr[64];
    uint32_t ttl = 0;
    assert_int_equal(dnslookup_read_answer(two_a, sizeof two_a, 0x1234, "example.test", 1, addr, sizeof addr, &ttl), 0);
    assert_string_equal(addr, "192.0.2.7"); /* the first address */
    assert_int_equal(ttl, 30);              /* the smallest TTL of the answer */
    /* names are compared without case */
    assert_int_equal(dnslookup_read_answer(two_a, sizeof two_a, 0x1234, "EXAMPLE.Test.", 1, addr, sizeof addr, &ttl), 0);

    static const uint8_t aaaa[] = {HDR(0x80, 1), Q(28), RR(28, 60, 16), 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                   0, 0, 0, 0, 0, 0, 0, 1};
    assert_int_equal(dnslookup_read_answer(aaaa, sizeof aaaa, 0x1234, "example.test", 28, addr, sizeof addr, &ttl), 0);
    assert_string_equal(addr, "2001:db8::1");
    assert_int_equal(ttl, 60);
}

static void test_not_found(void **state)
{
    (void)state;
    char addr[64];
    uint32_t ttl = 0;
    static const uint8_t nxdomain[] = {HDR(0x83, 0), Q(1)};
    assert_int_equal(dnslookup_read_answer(nxdomain, sizeof nxdomain, 0x1234, "example.test", 1, addr, sizeof addr, &ttl),
                     RG_ENOTFOUND);
    static const uint8_t empty[] = {HDR(0x80, 0), Q(28)};
    assert_int_equal(dnslookup_read_answer(empty, sizeof empty, 0x1234, "example.test", 28, addr, sizeof addr, &ttl),
                     RG_ENOTFOUND);
    /* only records of the query's type count: a CNAME alone is no address */
    static const uint8_t cname[] = {HDR(0x80, 1), Q(1), RR(5, 9, 6), 3, 'w', 'w', 'w', 0xc0, 0x0c};
    assert_int_equal(dnslookup_read_answer(cname, sizeof cname, 0x1234, "example.test", 1, addr, sizeof addr, &ttl),
                     RG_ENOTFOUND);
}

static void test_refused(void **state)
{
    (void)state;
    char addr[64];
    uint32_t ttl = 0;
    /* not the answer to this query: another ID, name or type */
    assert_int_equal(dnslookup_read_answer(two_a, sizeof two_a, 0x4321, "example.test", 1, addr, sizeof addr, &ttl),
                     RG_EINVAL);
    assert_int_equal(dnslookup_read_answer(two_a, sizeof two_a, 0x1234, "example.org", 1, addr, sizeof addr, &ttl),
                     RG_EINVAL);
    assert_int_equal(dnslookup_read_answer(two_a, sizeof two_a, 0x1234, "example.test", 28, addr, sizeof addr, &ttl),
                     RG_EINVAL);
    /* a query (QR clear) */
    uint8_t query[sizeof two_a];
    memcpy(query, two_a, sizeof query);
    query[2] &= 0x7f;
    assert_int_equal(dnslookup_read_answer(query, sizeof query, 0x1234, "example.test", 1, addr, sizeof addr, &ttl),
                     RG_EINVAL);
    /* an A record of 3 bytes: ldns refuses the whole message */
    static const uint8_t short_a[] = {HDR(0x80, 1), Q(1), RR(1, 9, 3), 1, 2, 3};
    assert_int_equal(dnslookup_read_answer(short_a, sizeof short_a, 0x1234, "example.test", 1, addr, sizeof addr, &ttl),
                     RG_EINVAL);
    /* short or truncated datagrams, bad arguments */
    assert_int_equal(dnslookup_read_answer(two_a, 11, 0x1234, "example.test", 1, addr, sizeof addr, &ttl), RG_EINVAL);
    assert_int_equal(dnslookup_read_answer(two_a, sizeof two_a - 2, 0x1234, "example.test", 1, addr, sizeof addr, &ttl),
                     RG_EINVAL);
    assert_int_equal(dnslookup_read_answer(NULL, 0, 0x1234, "example.test", 1, addr, sizeof addr, &ttl), RG_EINVAL);
    assert_int_equal(dnslookup_read_answer(two_a, sizeof two_a, 0x1234, "example.test", 5, addr, sizeof addr, &ttl),
                     RG_EINVAL);
    assert_int_equal(dnslookup_read_answer(two_a, sizeof two_a, 0x1234, "example.test", 1, addr, 16, &ttl), RG_EINVAL);
}

/*
 * The message that made ldns_wire2pkt leak in dnsf_servfail (fuzz/corpus/fuzz_dns) leaked in the lookup
 * too, one record per answer read, until the lookup read records one at a time: refused, and under
 * LeakSanitizer (make test's ASan pass) nothing leaks.
 */
static void test_wire2pkt_leak(void **state)
{
    (void)state;
    FILE *f = fopen(RG_FUZZ_CORPUS "/leak-wire2pkt-from-fuzz_dns", "rb");
    assert_non_null(f);
    uint8_t wire[1024];
    size_t len = fread(wire, 1, sizeof wire, f);
    fclose(f);
    assert_true(len > 12);
    uint16_t id = (uint16_t)(wire[0] << 8 | wire[1]);
    char addr[64];
    uint32_t ttl = 0;
    for (int i = 0; i < 100; i++) {
        assert_int_equal(dnslookup_read_answer(wire, len, id, "example.test", 1, addr, sizeof addr, &ttl), RG_EINVAL);
        wire[2] |= 0x80; /* and as an answer (QR set) */
        assert_int_equal(dnslookup_read_answer(wire, len, id, "example.test", 28, addr, sizeof addr, &ttl), RG_EINVAL);
        wire[2] &= 0x7f;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_address_and_ttl),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_wire2pkt_leak),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
