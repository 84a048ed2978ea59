/*
 * fuzz_dnslookup.c: libFuzzer target for the agent's reading of upstream DNS
 * answers (dnslookup_read_answer, src/agent/dnslookup.c; ldns_wire2rr),
 * what a resolver (or anyone who spoofs its address) sends the agent when it
 * looks up the server's host name.
 * The input is one datagram. It is read as the answer to an A and to an AAAA
 * query for example.test, with the ID it carries (so the fuzzer reaches past
 * the ID check) and with another ID.
 * Checks: the code is 0, RG_ENOTFOUND or RG_EINVAL; another ID is RG_EINVAL;
 * an address read is one inet_pton takes back in the query's family; the
 * answer is the same when read twice; nothing leaks (ASan).
 */
#include <arpa/inet.h>

#include "agent/dnslookup.h"
#include "common/err.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so ASan sees a read past the datagram's end */
    uint8_t *wire = malloc(size ? size : 1);
    if (!wire)
        return 0;
    if (size)
        memcpy(wire, data, size);
    uint16_t id = size >= 2 ? (uint16_t)(wire[0] << 8 | wire[1]) : 0;
    static const uint16_t types[2] = {1, 28};
    for (int t = 0; t < 2; t++) {
        char addr[64], again[64];
        uint32_t ttl = 0, ttl2 = 0;
        int rc = dnslookup_read_answer(wire, size, id, "Example.TEST", types[t], addr, sizeof addr, &ttl);
        FUZZ_CHECK(rc == 0 || rc == RG_ENOTFOUND || rc == RG_EINVAL);
        if (rc == 0) {
            unsigned char bin[16];
            FUZZ_CHECK(memchr(addr, '\0', sizeof addr));
            FUZZ_CHECK(inet_pton(t ? AF_INET6 : AF_INET, addr, bin) == 1);
        }
        int rc2 = dnslookup_read_answer(wire, size, id, "example.test", types[t], again, sizeof again, &ttl2);
        FUZZ_CHECK(rc2 == rc);
        if (rc == 0)
            FUZZ_CHECK(!strcmp(addr, again) && ttl == ttl2);
        FUZZ_CHECK(dnslookup_read_answer(wire, size, (uint16_t)(id ^ 0x5a5a), "example.test", types[t], addr,
                                         sizeof addr, &ttl) == RG_EINVAL);
    }
    free(wire);
    return 0;
}
