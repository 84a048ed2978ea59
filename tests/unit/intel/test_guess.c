/* test_guess.c: unit tests of src/intel/guess.c, the plain-list import's type classifier. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "intel/indicators.h"

#define GUESS(s, t) assert_string_equal(intel_type_name(intel_guess_type(s)), t)

static void test_addresses(void **state)
{
    (void)state;
    GUESS("203.0.113.7", "IpAddress");
    GUESS("2001:db8::1", "IpAddress");
    GUESS("[2001:db8::1]", "IpAddress");
    GUESS("::ffff:10.0.0.1", "IpAddress");
    GUESS("203.0.113", "DomainName"); /* not an address; intel_normalize judges it as a domain */
}

static void test_hashes(void **state)
{
    (void)state;
    GUESS("44d88612fea8a8f36de82e1278abb02f", "FileMd5");
    GUESS("3395856CE81F2B7382DEE72602F798B642F14140", "FileSha1");
    GUESS("275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F", "FileSha256");
    GUESS("44d88612fea8a8f36de82e1278abb02", "DomainName"); /* 31 hex digits: no hash length */
    GUESS("deadbeef", "DomainName");
}

static void test_urls_and_domains(void **state)
{
    (void)state;
    GUESS("https://phish.example.net/login", "Url");
    GUESS("http://example.com", "Url");
    GUESS("phish.example.net/login", "Url");
    GUESS("example.com:8080", "Url");
    GUESS("example.com?q=1", "Url");
    GUESS("evil.example.com", "DomainName");
    GUESS("Evil.Example.COM.", "DomainName");
    GUESS("", "DomainName");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_hashes),
        cmocka_unit_test(test_urls_and_domains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
