/*
 * fuzz_dns.c: libFuzzer target for the DNS filter's per-query function,
 * dnsf_handle (src/agent/dnsfilter.c): parse, decide, build the answer.
 * Names under blocked.test are blocked, under warn.test warned, the rest
 * forwarded. Beyond "no crash, no sanitizer report" it checks what the
 * filter promises and traps otherwise: a reply is a well-formed response
 * (ldns reads it back) with the query's ID and QR set; a forward only for a
 * query whose question was read; a blocked name never forwarded.
 *
 * clang: cmake -DRG_FUZZ=ON -DCMAKE_C_COMPILER=clang (target fuzz_dns).
 * gcc: tests/unit/agent/test_fuzz_dns.c drives the same entry point over
 * fuzz/corpus/fuzz_dns and seeded random mutations in `make test`.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "agent/dnsfilter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix) && (n == k || s[n - k - 1] == '.');
}

static enum dnsf_action decide(void *ud, const char *name, uint16_t qtype)
{
    (void)qtype;
    (*(int *)ud)++;
    if (ends_with(name, "blocked.test"))
        return DNSF_BLOCK;
    return ends_with(name, "warn.test") ? DNSF_WARN : DNSF_PASS;
}

#define CHECK(c)                                                                                                       \
    do {                                                                                                               \
        if (!(c))                                                                                                      \
            __builtin_trap();                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct dnsf_answers modes[2] = {
        {.have_v4 = true, .v4 = {127, 0, 0, 2}, .have_v6 = true, .v6 = {[15] = 1}, .ttl = 10},
        {.nxdomain = true, .ttl = 10},
    };
    /* an exact-size copy, so that ASan sees any read past the end */
    uint8_t *q = malloc(size ? size : 1);
    if (!q)
        return 0;
    if (size)
        memcpy(q, data, size);
    for (int m = 0; m < 2; m++) {
        uint8_t out[512];
        size_t n = 0;
        struct dnsf_info info;
        int calls = 0;
        enum dnsf_result r = dnsf_handle(&modes[m], decide, &calls, q, size, out, sizeof out, &n, &info);
        CHECK(calls <= 1);
        if (r == DNSF_REPLY) {
            CHECK(n >= LDNS_HEADER_SIZE && n <= sizeof out);
            ldns_pkt *p = NULL;
            CHECK(ldns_wire2pkt(&p, out, n) == LDNS_STATUS_OK);
            CHECK(ldns_pkt_qr(p));
            CHECK(size >= LDNS_HEADER_SIZE && ldns_pkt_id(p) == LDNS_ID_WIRE(q));
            if (info.action != DNSF_PASS)
                CHECK((int)ldns_pkt_get_rcode(p) == (m ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR));
            ldns_pkt_free(p);
        } else if (r == DNSF_FORWARD) {
            CHECK(info.action == DNSF_PASS && calls == 1);
            CHECK(info.question_len >= 5 && size >= LDNS_HEADER_SIZE);
            CHECK(size <= DNSF_MAX_QUERY);
        } else {
            CHECK(r == DNSF_DROP && n == 0);
        }
        if (info.action != DNSF_PASS)
            CHECK(r != DNSF_FORWARD);
        /* the SERVFAIL builder on the same input */
        n = 0;
        if (!dnsf_servfail(q, size, out, sizeof out, &n))
            CHECK(n >= LDNS_HEADER_SIZE && n <= sizeof out);
    }
    free(q);
    return 0;
}
