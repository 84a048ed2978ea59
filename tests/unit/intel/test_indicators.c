/*
 * test_indicators.c: unit tests of src/intel/indicators.c and normalize.c:
 * the vocabulary (names, legacy actions), every validation rule of
 * intel_normalize (accept and reject, with the message naming the problem),
 * matching and precedence, expiration, scopes, set changes, and a randomized
 * cross-check of 10,000 indicators against a naive linear scan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/err.h"
#include "intel/indicators.h"

/* ---- helpers ---- */

static void expect_norm(enum intel_type type, const char *in, const char *want)
{
    char out[INTEL_VALUE_MAX + 1], err[256] = "";
    int rc = intel_normalize(type, in, out, sizeof out, err, sizeof err);
    if (rc != 0)
        fail_msg("%s \"%s\": expected \"%s\", got %d: %s", intel_type_name(type), in, want, rc, err);
    if (strcmp(out, want) != 0)
        fail_msg("%s \"%s\": expected \"%s\", got \"%s\"", intel_type_name(type), in, want, out);
}

/* value must be rejected with a message that starts with field: and contains needle. */
static void expect_reject(enum intel_type type, const char *in, const char *needle)
{
    char out[INTEL_VALUE_MAX + 1], err[256] = "";
    int rc = intel_normalize(type, in, out, sizeof out, err, sizeof err);
    if (rc != RG_EINVAL)
        fail_msg("%s \"%s\": expected RG_EINVAL, got %d (out \"%s\")", intel_type_name(type), in, rc,
                 rc == 0 ? out : "");
    if (strncmp(err, "indicatorValue: ", 16) != 0 || !strstr(err, needle))
        fail_msg("%s \"%s\": message \"%s\" lacks the field name or \"%s\"", intel_type_name(type), in, err, needle);
}

static struct intel_set *new_set(void)
{
    struct intel_set *set = NULL;
    assert_int_equal(intel_set_new(&set), 0);
    assert_non_null(set);
    return set;
}

static void put_full(struct intel_set *set, uint64_t id, enum intel_type type, const char *value,
                     enum intel_action action, int64_t expires, const char *const *scope, size_t nscope)
{
    struct intel_indicator ind = {id, type, value, action, INTEL_SEV_MEDIUM, expires, scope, nscope};
    char err[256] = "";
    int rc = intel_set_put(set, &ind, err, sizeof err);
    if (rc)
        fail_msg("put %s \"%s\" failed %d: %s", intel_type_name(type), value, rc, err);
}

static void put(struct intel_set *set, uint64_t id, enum intel_type type, const char *value, enum intel_action action)
{
    put_full(set, id, type, value, action, 0, NULL, 0);
}

static struct intel_match dom(const struct intel_set *set, const char *host)
{
    struct intel_match m;
    assert_int_equal(intel_match_domain(set, host, 0, NULL, 0, &m), 0);
    return m;
}

static struct intel_match url(const struct intel_set *set, const char *u)
{
    struct intel_match m;
    int rc = intel_match_url(set, u, 0, NULL, 0, &m);
    if (rc)
        fail_msg("intel_match_url(\"%s\") = %d", u, rc);
    return m;
}

/* ---- vocabulary ---- */

static void test_names(void **state)
{
    (void)state;
    static const char *const types[] = {"FileSha1",  "FileSha256", "FileMd5", "CertificateThumbprint",
                                        "IpAddress", "DomainName", "Url"};
    for (int i = 0; i < INTEL_TYPE_COUNT; i++) {
        enum intel_type t;
        assert_string_equal(intel_type_name((enum intel_type)i), types[i]);
        assert_int_equal(intel_type_parse(types[i], &t), 0);
        assert_int_equal(t, i);
    }
    enum intel_type t;
    assert_int_equal(intel_type_parse("domainname", &t), RG_EINVAL);
    assert_int_equal(intel_type_parse("Sha256", &t), RG_EINVAL);
    assert_int_equal(intel_type_parse(NULL, &t), RG_EINVAL);
    assert_string_equal(intel_type_name(INTEL_TYPE_COUNT), "?");

    static const char *const sev[] = {"Informational", "Low", "Medium", "High"};
    for (int i = 0; i < INTEL_SEV_COUNT; i++) {
        enum intel_severity s;
        assert_string_equal(intel_severity_name((enum intel_severity)i), sev[i]);
        assert_int_equal(intel_severity_parse(sev[i], &s), 0);
        assert_int_equal(s, i);
    }
    enum intel_severity s;
    assert_int_equal(intel_severity_parse("Critical", &s), RG_EINVAL);

    static const char *const act[] = {"Allowed", "Audit", "Warn", "Block", "BlockAndRemediate"};
    for (int i = 0; i < INTEL_ACTION_COUNT; i++) {
        enum intel_action a;
        bool implied = true;
        assert_string_equal(intel_action_name((enum intel_action)i), act[i]);
        assert_int_equal(intel_action_parse(act[i], INTEL_FILE_SHA256, &a, &implied, NULL, 0), 0);
        assert_int_equal(a, i);
        assert_false(implied);
    }
}

/*
 * Found by fuzz/fuzz_intel.c: messages quote the value cut to 40 bytes (and to errlen), which could
 * end inside a UTF-8 character; the server puts them into JSON (json_pack refuses invalid UTF-8, so
 * a 400 became a 500). Every message is now valid UTF-8 without control characters.
 */
static bool clean_utf8(const char *s)
{
    json_t *j = json_string(s); /* NULL unless valid UTF-8 */
    bool ok = j != NULL;
    json_decref(j);
    for (; ok && *s; s++)
        ok = (unsigned char)*s >= 0x20 && *s != 0x7f;
    return ok;
}

static void test_messages_clean_utf8(void **state)
{
    (void)state;
    char v[128], err[256];
    for (int i = 0; i < 30; i++) { /* 30 x U+00E9: byte 40 falls inside one */
        v[2 * i] = '\xc3';
        v[2 * i + 1] = '\xa9';
    }
    v[60] = '\0';
    enum intel_action a;
    assert_int_equal(intel_action_parse(v, INTEL_URL, &a, NULL, err, sizeof err), RG_EINVAL);
    assert_true(clean_utf8(err));
    char ip[40] = "1.2.3.\xd1\n";
    char out[INTEL_VALUE_MAX + 1];
    assert_int_equal(intel_normalize(INTEL_IP, ip, out, sizeof out, err, sizeof err), RG_EINVAL);
    assert_true(clean_utf8(err));
    assert_non_null(strstr(err, "1.2.3.??"));
    /* cut by a short buffer inside a character */
    char small[13];
    assert_int_equal(intel_action_parse("Bl\xc3\xa9\xc3\xa9\xc3\xa9", INTEL_URL, &a, NULL, small, sizeof small), RG_EINVAL);
    assert_true(clean_utf8(small));
}

static void test_legacy_actions(void **state)
{
    (void)state;
    enum intel_action a;
    bool implied = false;
    char err[256];
    /* alert-only -> Audit + generate alert */
    assert_int_equal(intel_action_parse("Alert", INTEL_DOMAIN, &a, &implied, err, sizeof err), 0);
    assert_int_equal(a, INTEL_AUDIT);
    assert_true(implied);
    /* alert-and-block -> BlockAndRemediate for files and certificates */
    implied = false;
    assert_int_equal(intel_action_parse("AlertAndBlock", INTEL_FILE_SHA256, &a, &implied, err, sizeof err), 0);
    assert_int_equal(a, INTEL_BLOCK_AND_REMEDIATE);
    assert_true(implied);
    assert_int_equal(intel_action_parse("AlertAndBlock", INTEL_CERT, &a, NULL, err, sizeof err), 0);
    assert_int_equal(a, INTEL_BLOCK_AND_REMEDIATE);
    assert_int_equal(intel_action_parse("AlertAndBlock", INTEL_TYPE_COUNT, &a, NULL, err, sizeof err), 0);
    assert_int_equal(a, INTEL_BLOCK_AND_REMEDIATE);
    /* ... and Block for network indicators, where BlockAndRemediate is rejected */
    static const enum intel_type net[] = {INTEL_IP, INTEL_DOMAIN, INTEL_URL};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(intel_action_parse("AlertAndBlock", net[i], &a, NULL, err, sizeof err), 0);
        assert_int_equal(a, INTEL_BLOCK);
        assert_int_equal(intel_check_action(net[i], a, true, err, sizeof err), 0);
    }
    /* not API values */
    assert_int_equal(intel_action_parse("Allow", INTEL_URL, &a, NULL, err, sizeof err), RG_EINVAL);
    assert_non_null(strstr(err, "action:"));
    assert_non_null(strstr(err, "did you mean \"Allowed\""));
    assert_int_equal(intel_action_parse("block", INTEL_URL, &a, NULL, err, sizeof err), RG_EINVAL);
    assert_non_null(strstr(err, "did you mean \"Block\""));
    assert_int_equal(intel_action_parse("Quarantine", INTEL_URL, &a, NULL, err, sizeof err), RG_EINVAL);
    assert_non_null(strstr(err, "action: \"Quarantine\" is not one of"));
    assert_int_equal(intel_action_parse(NULL, INTEL_URL, &a, NULL, err, sizeof err), RG_EINVAL);
}

static void test_check_action(void **state)
{
    (void)state;
    char err[256];
    /* files: every action */
    for (int a = 0; a < INTEL_ACTION_COUNT; a++) {
        assert_int_equal(intel_check_action(INTEL_FILE_SHA256, (enum intel_action)a, true, err, sizeof err), 0);
        assert_int_equal(intel_check_action(INTEL_FILE_MD5, (enum intel_action)a, true, err, sizeof err), 0);
    }
    /* network: no BlockAndRemediate */
    static const enum intel_type net[] = {INTEL_IP, INTEL_DOMAIN, INTEL_URL};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(intel_check_action(net[i], INTEL_ALLOWED, false, err, sizeof err), 0);
        assert_int_equal(intel_check_action(net[i], INTEL_WARN, false, err, sizeof err), 0);
        assert_int_equal(intel_check_action(net[i], INTEL_BLOCK, false, err, sizeof err), 0);
        assert_int_equal(intel_check_action(net[i], INTEL_AUDIT, true, err, sizeof err), 0);
        assert_int_equal(intel_check_action(net[i], INTEL_BLOCK_AND_REMEDIATE, true, err, sizeof err), RG_EINVAL);
        assert_non_null(strstr(err, "action: BlockAndRemediate is not supported for"));
        assert_non_null(strstr(err, "use Block"));
    }
    /* certificates: Allowed or BlockAndRemediate only */
    assert_int_equal(intel_check_action(INTEL_CERT, INTEL_ALLOWED, false, err, sizeof err), 0);
    assert_int_equal(intel_check_action(INTEL_CERT, INTEL_BLOCK_AND_REMEDIATE, false, err, sizeof err), 0);
    assert_int_equal(intel_check_action(INTEL_CERT, INTEL_BLOCK, false, err, sizeof err), RG_EINVAL);
    assert_non_null(strstr(err, "action: Block is not supported for CertificateThumbprint"));
    assert_int_equal(intel_check_action(INTEL_CERT, INTEL_WARN, false, err, sizeof err), RG_EINVAL);
    assert_int_equal(intel_check_action(INTEL_CERT, INTEL_AUDIT, true, err, sizeof err), RG_EINVAL);
    /* Audit needs generateAlert */
    assert_int_equal(intel_check_action(INTEL_URL, INTEL_AUDIT, false, err, sizeof err), RG_EINVAL);
    assert_string_equal(err, "generateAlert: must be true for Audit indicators");
    assert_int_equal(intel_check_action(INTEL_TYPE_COUNT, INTEL_BLOCK, false, err, sizeof err), RG_EINVAL);
    assert_int_equal(intel_check_action(INTEL_URL, INTEL_ACTION_COUNT, false, err, sizeof err), RG_EINVAL);
}

/* ---- validation ---- */

static void test_norm_hashes(void **state)
{
    (void)state;
    const char *sha256 = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
    expect_norm(INTEL_FILE_SHA256, sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect_norm(INTEL_FILE_SHA1, "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    expect_norm(INTEL_FILE_MD5, "d41d8cd98f00b204e9800998ecf8427e", "d41d8cd98f00b204e9800998ecf8427e");
    expect_reject(INTEL_FILE_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
                  "FileSha256 is 64 hexadecimal digits, got 63");
    expect_reject(INTEL_FILE_SHA256, "g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                  "found 'g' at position 1");
    expect_reject(INTEL_FILE_SHA1, sha256, "FileSha1 is 40 hexadecimal digits, got 64 (the length of a SHA-256)");
    expect_reject(INTEL_FILE_MD5, "da39a3ee5e6b4b0d3255bfef95601890afd80709", "got 40 (the length of a SHA-1)");
    expect_reject(INTEL_FILE_MD5, "d41d8cd9 8f00b204e9800998ecf8427e", "found 0x20");
    expect_reject(INTEL_FILE_MD5, "", "is empty");
    /* certificate thumbprints: SHA-1, spaces allowed, colons not */
    expect_norm(INTEL_CERT, "DA 39 A3 EE 5E 6B 4B 0D 32 55 BF EF 95 60 18 90 AF D8 07 09",
                "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    expect_reject(INTEL_CERT, "DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09", "colon-separated");
    expect_reject(INTEL_CERT, sha256, "CertificateThumbprint is 40 hexadecimal digits, got 64");
    /* out too small */
    char small[10];
    assert_int_equal(intel_normalize(INTEL_FILE_MD5, "d41d8cd98f00b204e9800998ecf8427e", small, sizeof small, NULL, 0),
                     RG_ETOOBIG);
}

static void test_norm_ip(void **state)
{
    (void)state;
    expect_norm(INTEL_IP, "8.8.8.8", "8.8.8.8");
    expect_norm(INTEL_IP, "203.0.113.5", "203.0.113.5");
    expect_norm(INTEL_IP, "2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
    expect_norm(INTEL_IP, "2606:4700:4700::1111", "2606:4700:4700::1111");
    expect_norm(INTEL_IP, "::ffff:8.8.4.4", "8.8.4.4");
    expect_reject(INTEL_IP, "203.0.113.0/24", "IP ranges (CIDR) are not supported; give single addresses");
    expect_reject(INTEL_IP, "2001:db8::/32", "IP ranges (CIDR) are not supported; give single addresses");
    expect_reject(INTEL_IP, "203.0.113.1-203.0.113.9", "IP ranges are not supported");
    expect_reject(INTEL_IP, "203.0.113.*", "wildcards are not supported");
    expect_reject(INTEL_IP, "203.0.113.5:443", "without a port");
    expect_reject(INTEL_IP, "[2001:db8::1]", "without brackets");
    expect_reject(INTEL_IP, "fe80::1%eth0", "zone ids");
    expect_reject(INTEL_IP, "203.0.113", "is not a valid IPv4 or IPv6 address");
    expect_reject(INTEL_IP, "203.0.113.256", "is not a valid IPv4 or IPv6 address");
    expect_reject(INTEL_IP, "evil.com", "is not a valid IPv4 or IPv6 address");
    expect_reject(INTEL_IP, "", "is empty");
    /* external addresses only */
    expect_reject(INTEL_IP, "10.1.2.3", "only external IP addresses are supported; 10.1.2.3 is a private (RFC 1918)");
    expect_reject(INTEL_IP, "172.16.0.1", "private (RFC 1918)");
    expect_reject(INTEL_IP, "172.31.255.255", "private (RFC 1918)");
    expect_norm(INTEL_IP, "172.32.0.1", "172.32.0.1");
    expect_reject(INTEL_IP, "192.168.1.1", "private (RFC 1918)");
    expect_reject(INTEL_IP, "127.0.0.1", "loopback");
    expect_reject(INTEL_IP, "169.254.169.254", "link-local");
    expect_reject(INTEL_IP, "100.64.0.1", "carrier-grade NAT");
    expect_reject(INTEL_IP, "0.0.0.0", "this network");
    expect_reject(INTEL_IP, "224.0.0.1", "multicast");
    expect_reject(INTEL_IP, "255.255.255.255", "broadcast");
    expect_reject(INTEL_IP, "::1", "loopback");
    expect_reject(INTEL_IP, "::", "unspecified");
    expect_reject(INTEL_IP, "fe80::1", "link-local (fe80::/10)");
    expect_reject(INTEL_IP, "fd00::1", "unique-local");
    expect_reject(INTEL_IP, "ff02::1", "multicast");
    expect_reject(INTEL_IP, "::ffff:10.0.0.1", "private (RFC 1918)");
}

static void test_norm_domain(void **state)
{
    (void)state;
    expect_norm(INTEL_DOMAIN, "Evil.COM", "evil.com");
    expect_norm(INTEL_DOMAIN, "evil.com.", "evil.com");
    expect_norm(INTEL_DOMAIN, "a-b.x_y.evil.co.uk", "a-b.x_y.evil.co.uk");
    expect_norm(INTEL_DOMAIN, "xn--bcher-kva.example", "xn--bcher-kva.example");
    expect_norm(INTEL_DOMAIN, "smartscreentestratings2.net", "smartscreentestratings2.net");
    expect_norm(INTEL_DOMAIN, "github.io", "github.io"); /* PSL private section: allowed on purpose */
    expect_reject(INTEL_DOMAIN, "*.evil.com", "wildcards are not supported");
    expect_reject(INTEL_DOMAIN, "ev*l.com", "wildcards are not supported");
    expect_reject(INTEL_DOMAIN, "com", "\"com\" is a public suffix");
    expect_reject(INTEL_DOMAIN, "COM.", "\"com\" is a public suffix");
    expect_reject(INTEL_DOMAIN, "io", "public suffix");
    expect_reject(INTEL_DOMAIN, "co.uk", "\"co.uk\" is a public suffix");
    expect_reject(INTEL_DOMAIN, "com.au", "public suffix");
    expect_reject(INTEL_DOMAIN, "localhost", "public suffix");
    expect_reject(INTEL_DOMAIN, "https://evil.com", "not a URL");
    expect_reject(INTEL_DOMAIN, "evil.com/path", "cannot contain a path");
    expect_reject(INTEL_DOMAIN, "evil.com:8080", "cannot contain a port");
    expect_reject(INTEL_DOMAIN, "203.0.113.5", "looks like an IP address; use the IpAddress type");
    expect_reject(INTEL_DOMAIN, "2001:db8::1", "is an IP address; use the IpAddress type");
    expect_reject(INTEL_DOMAIN, "evil.123", "top-level label");
    expect_reject(INTEL_DOMAIN, "a..evil.com", "empty label");
    expect_reject(INTEL_DOMAIN, ".evil.com", "starts with a dot");
    expect_reject(INTEL_DOMAIN, "-evil.com", "starts or ends with a hyphen");
    expect_reject(INTEL_DOMAIN, "evil-.com", "starts or ends with a hyphen");
    expect_reject(INTEL_DOMAIN, "ev!l.com", "invalid character '!'");
    expect_reject(INTEL_DOMAIN, "ev il.com", "spaces");
    expect_reject(INTEL_DOMAIN, "b\xc3\xbc" "cher.example", "xn--");
    expect_reject(INTEL_DOMAIN, "", "is empty");
    expect_reject(INTEL_DOMAIN, ".", "starts with a dot");
    char label[80], lng[300];
    memset(label, 'a', 64);
    snprintf(label + 64, sizeof label - 64, ".com");
    expect_reject(INTEL_DOMAIN, label, "longer than 63 characters");
    size_t n = 0;
    while (n < 250) {
        memcpy(lng + n, "abcdefghi.", 10);
        n += 10;
    }
    memcpy(lng + n, "com", 4); /* 253 characters */
    expect_norm(INTEL_DOMAIN, lng, lng);
    lng[n] = 'x';
    memcpy(lng + n + 1, "com", 4); /* 254 */
    expect_reject(INTEL_DOMAIN, lng, "at most 253 characters");
}

static void test_public_suffix(void **state)
{
    (void)state;
    assert_true(intel_is_public_suffix("com"));
    assert_true(intel_is_public_suffix("anything"));
    assert_true(intel_is_public_suffix("co.uk"));
    assert_true(intel_is_public_suffix("ac.at"));   /* first of the table */
    assert_true(intel_is_public_suffix("web.za"));  /* last */
    assert_true(intel_is_public_suffix("gov.uk"));
    assert_false(intel_is_public_suffix("evil.com"));
    assert_false(intel_is_public_suffix("bbc.co.uk"));
    assert_false(intel_is_public_suffix("uk.co"));
    assert_false(intel_is_public_suffix(""));
    assert_false(intel_is_public_suffix(NULL));
}

static void test_norm_url(void **state)
{
    (void)state;
    expect_norm(INTEL_URL, "HTTPS://Support.Microsoft.COM/Office", "https://support.microsoft.com/Office");
    expect_norm(INTEL_URL, "http://evil.com", "http://evil.com/");
    expect_norm(INTEL_URL, "http://evil.com:80/a", "http://evil.com/a");
    expect_norm(INTEL_URL, "https://evil.com:443/a", "https://evil.com/a");
    expect_norm(INTEL_URL, "https://evil.com:8443/a", "https://evil.com:8443/a");
    expect_norm(INTEL_URL, "http://evil.com:080/a", "http://evil.com/a");
    expect_norm(INTEL_URL, "https://evil.com./a?b=1#frag", "https://evil.com/a?b=1");
    expect_norm(INTEL_URL, "https://evil.com/a?", "https://evil.com/a");
    expect_norm(INTEL_URL, "https://evil.com/a/./b/../c", "https://evil.com/a/c");
    expect_norm(INTEL_URL, "https://evil.com/a/..", "https://evil.com/");
    expect_norm(INTEL_URL, "https://evil.com/../../x", "https://evil.com/x");
    expect_norm(INTEL_URL, "https://evil.com/%7euser/%2e%2e/m%61lware%2fx%3f", "https://evil.com/malware%2Fx%3F");
    expect_norm(INTEL_URL, "https://evil.com\\a\\b", "https://evil.com/a/b");
    expect_norm(INTEL_URL, "https://evil.com/a//b/", "https://evil.com/a//b/");
    expect_norm(INTEL_URL, "https://evil.com?q=1", "https://evil.com/?q=1");
    expect_norm(INTEL_URL, "http://203.0.113.5/x", "http://203.0.113.5/x");
    expect_norm(INTEL_URL, "http://[2001:DB8::0001]:8080/x", "http://[2001:db8::1]:8080/x");
    expect_reject(INTEL_URL, "ftp://evil.com/x", "must start with http:// or https://");
    expect_reject(INTEL_URL, "evil.com/x", "DomainName type");
    expect_reject(INTEL_URL, "javascript:alert(1)", "must start with http:// or https://");
    expect_reject(INTEL_URL, "https://user:pw@evil.com/", "user names and passwords");
    expect_reject(INTEL_URL, "https://evil.com/a b", "spaces");
    expect_reject(INTEL_URL, "https://evil.com/\xc3\xa9", "percent-encoded");
    expect_reject(INTEL_URL, "https:///x", "has no host");
    expect_reject(INTEL_URL, "https://evil.com:0/", "invalid port");
    expect_reject(INTEL_URL, "https://evil.com:99999/", "invalid port");
    expect_reject(INTEL_URL, "https://evil.com:8x/", "invalid port");
    expect_reject(INTEL_URL, "https://evil.com/%zz", "invalid percent-escape");
    expect_reject(INTEL_URL, "https://co.uk/x", "public suffix");
    expect_reject(INTEL_URL, "https://*.evil.com/", "wildcards");
    expect_reject(INTEL_URL, "http://10.0.0.1/admin", "private (RFC 1918)");
    expect_reject(INTEL_URL, "http://[::1]/", "loopback");
    expect_reject(INTEL_URL, "http://[2001:db8::1/", "unterminated");
    char big[INTEL_VALUE_MAX + 64];
    int n = snprintf(big, sizeof big, "https://evil.com/");
    memset(big + n, 'a', sizeof big - (size_t)n - 1);
    big[sizeof big - 1] = '\0';
    expect_reject(INTEL_URL, big, "at most 2048 characters");
    char err[128];
    char out[INTEL_VALUE_MAX + 1];
    assert_int_equal(intel_normalize(INTEL_TYPE_COUNT, "x", out, sizeof out, err, sizeof err), RG_EINVAL);
    assert_int_equal(intel_normalize(INTEL_URL, NULL, out, sizeof out, err, sizeof err), RG_EINVAL);
    assert_string_equal(err, "indicatorValue: is missing");
}

/* ---- matching ---- */

static void test_domain_subdomains(void **state)
{
    (void)state;
    struct intel_set *set = new_set();
    put(set, 1, INTEL_DOMAIN, "evil.com", INTEL_BLOCK);
    struct intel_match m = dom(set, "evil.com");
    assert_true(m.found);
    assert_int_equal(m.id, 1);
    assert_int_equal(m.type, INTEL_DOMAIN);
    assert_int_equal(m.action, INTEL_BLOCK);
    assert_int_equal(m.severity, INTEL_SEV_MEDIUM);
    assert_string_equal(m.value, "evil.com");
    assert_true(dom(set, "a.b.evil.com").found);
    assert_true(dom(set, "A.B.EVIL.COM.").found);
    assert_false(dom(set, "notevil.com").found);
    assert_false(dom(set, "evil.com.example").found);
    assert_false(dom(set, "evil.co").found);
    assert_false(dom(set, "com").found);
    assert_false(dom(set, "vil.com").found);
    assert_int_equal(intel_match_domain(set, "ev il.com", 0, NULL, 0, &m), RG_EINVAL);
    assert_false(m.found);
    assert_int_equal(intel_match_domain(set, NULL, 0, NULL, 0, &m), RG_EINVAL);
    assert_int_equal(intel_match_domain(NULL, "evil.com", 0, NULL, 0, &m), RG_EINVAL);
    intel_set_free(set);
}

static void test_same_value_precedence(void **state)
{
    (void)state;
    struct intel_set *set = new_set();
    /* "Allow > Warn > Block" for the same value */
    put(set, 1, INTEL_DOMAIN, "evil.com", INTEL_BLOCK);
    put(set, 2, INTEL_DOMAIN, "evil.com", INTEL_ALLOWED);
    put(set, 3, INTEL_DOMAIN, "evil.com", INTEL_WARN);
    struct intel_match m = dom(set, "x.evil.com");
    assert_true(m.found);
    assert_int_equal(m.action, INTEL_ALLOWED);
    assert_int_equal(m.id, 2);
    assert_int_equal(intel_set_remove(set, 2), 0);
    m = dom(set, "x.evil.com");
    assert_int_equal(m.action, INTEL_WARN);
    assert_int_equal(intel_set_remove(set, 3), 0);
    /* Audit ranks below Block (derived) */
    put(set, 4, INTEL_DOMAIN, "evil.com", INTEL_AUDIT);
    m = dom(set, "evil.com");
    assert_int_equal(m.action, INTEL_BLOCK);
    assert_int_equal(m.id, 1);
    /* same action: device-group-scoped beats all-devices */
    const char *team1[] = {"team1"};
    const char *dev[] = {"team1"};
    put_full(set, 5, INTEL_DOMAIN, "evil.com", INTEL_BLOCK, 0, team1, 1);
    assert_int_equal(intel_match_domain(set, "evil.com", 0, dev, 1, &m), 0);
    assert_int_equal(m.id, 5);
    assert_int_equal(intel_match_domain(set, "evil.com", 0, NULL, 0, &m), 0);
    assert_int_equal(m.id, 1);
    /* same for IPs and URLs */
    put(set, 10, INTEL_IP, "203.0.113.7", INTEL_BLOCK);
    put(set, 11, INTEL_IP, "203.0.113.7", INTEL_ALLOWED);
    assert_int_equal(intel_match_ip(set, "203.0.113.7", 0, NULL, 0, &m), 0);
    assert_int_equal(m.action, INTEL_ALLOWED);
    put(set, 20, INTEL_URL, "https://bad.example/x", INTEL_BLOCK);
    put(set, 21, INTEL_URL, "https://bad.example/x", INTEL_WARN);
    m = url(set, "https://bad.example/x/y");
    assert_int_equal(m.action, INTEL_WARN);
    assert_int_equal(m.id, 21);
    intel_set_free(set);
}

static void test_domain_specificity(void **state)
{
    (void)state;
    struct intel_set *set = new_set();
    put(set, 1, INTEL_DOMAIN, "evil.com", INTEL_ALLOWED);
    put(set, 2, INTEL_DOMAIN, "bad.evil.com", INTEL_BLOCK);
    put(set, 3, INTEL_DOMAIN, "ok.bad.evil.com", INTEL_WARN);
    struct intel_match m = dom(set, "x.bad.evil.com");
    assert_int_equal(m.id, 2);
    assert_int_equal(m.action, INTEL_BLOCK);
    assert_string_equal(m.value, "bad.evil.com");
    m = dom(set, "bad.evil.com");
    assert_int_equal(m.id, 2);
    m = dom(set, "y.evil.com");
    assert_int_equal(m.id, 1);
    assert_int_equal(m.action, INTEL_ALLOWED);
    m = dom(set, "a.ok.bad.evil.com");
    assert_int_equal(m.id, 3);
    m = dom(set, "notbad.evil.com");
    assert_int_equal(m.id, 1);
    intel_set_free(set);
}

static void test_url_longest_prefix(void **state)
{
    (void)state;
    struct intel_set *set = new_set();
    put(set, 1, INTEL_URL, "https://support.microsoft.com", INTEL_BLOCK);
    put(set, 2, INTEL_URL, "https://support.microsoft.com/office", INTEL_ALLOWED);
    put(set, 3, INTEL_URL, "https://support.microsoft.com/office/x/", INTEL_WARN);
    put(set, 4, INTEL_URL, "https://support.microsoft.com/q?a=1", INTEL_AUDIT);
    struct intel_match m = url(set, "https://support.microsoft.com/office/word");
    assert_int_equal(m.id, 2);
    assert_int_equal(m.type, INTEL_URL);
    assert_string_equal(m.value, "https://support.microsoft.com/office");
    assert_int_equal(url(set, "https://support.microsoft.com/office").id, 2);
    assert_int_equal(url(set, "https://support.microsoft.com/office?lang=en").id, 2);
    assert_int_equal(url(set, "HTTPS://SUPPORT.microsoft.com:443/office/#top").id, 2);
    assert_int_equal(url(set, "https://support.microsoft.com/office/x/y").id, 3);
    assert_int_equal(url(set, "https://support.microsoft.com/office/x/").id, 3);
    assert_int_equal(url(set, "https://support.microsoft.com/office/x").id, 2); /* x/ needs the slash */
    assert_int_equal(url(set, "https://support.microsoft.com/officeX").id, 1);  /* segment boundary */
    assert_int_equal(url(set, "https://support.microsoft.com/").id, 1);
    assert_int_equal(url(set, "https://support.microsoft.com").id, 1);
    assert_int_equal(url(set, "https://support.microsoft.com/a/../office/z").id, 2);
    assert_int_equal(url(set, "https://support.microsoft.com/%6Fffice/z").id, 2);
    assert_int_equal(url(set, "https://support.microsoft.com/q?a=1").id, 4);
    assert_int_equal(url(set, "https://support.microsoft.com/q?a=1&b=2").id, 4);
    assert_int_equal(url(set, "https://support.microsoft.com/q?a=12").id, 1);
    assert_int_equal(url(set, "https://support.microsoft.com/Office").id, 1); /* paths are case-sensitive */
    /* the scheme and the port are part of the value */
    assert_false(url(set, "http://support.microsoft.com/office").found);
    assert_false(url(set, "https://support.microsoft.com:8443/office").found);
    assert_false(url(set, "https://microsoft.com/office").found);
    struct intel_match mm;
    assert_int_equal(intel_match_url(set, "ftp://support.microsoft.com/", 0, NULL, 0, &mm), RG_EINVAL);
    assert_false(mm.found);
    assert_int_equal(intel_match_url(set, "not a url", 0, NULL, 0, &mm), RG_EINVAL);
    intel_set_free(set);
}

static void test_url_and_domain(void **state)
{
    (void)state;
    struct intel_set *set = new_set();
    put(set, 1, INTEL_DOMAIN, "evil.com", INTEL_BLOCK);
    put(set, 2, INTEL_URL, "https://cdn.evil.com/safe", INTEL_ALLOWED);
    put(set, 3, INTEL_DOMAIN, "good.example", INTEL_ALLOWED);
    put(set, 4, INTEL_URL, "https://good.example/malware", INTEL_BLOCK);
    put(set, 5, INTEL_IP, "203.0.113.9", INTEL_WARN);
    /* a URL indicator beats the host's domain indicators, either way round */
    struct intel_match m = url(set, "https://cdn.evil.com/safe/lib.js");
    assert_int_equal(m.id, 2);
    assert_int_equal(m.type, INTEL_URL);
    m = url(set, "https://good.example/malware/x.exe");
    assert_int_equal(m.id, 4);
    assert_int_equal(m.action, INTEL_BLOCK);
    /* no URL indicator: the host's domain indicators */
    m = url(set, "https://cdn.evil.com/other");
    assert_int_equal(m.id, 1);
    assert_int_equal(m.type, INTEL_DOMAIN);
    assert_string_equal(m.value, "evil.com");
    m = url(set, "http://user@www.good.example:8080/");
    assert_int_equal(m.id, 3);
    /* an IP-literal host: the IP indicators */
    m = url(set, "http://203.0.113.9/payload");
    assert_int_equal(m.id, 5);
    assert_int_equal(m.type, INTEL_IP);
    assert_false(url(set, "http://203.0.113.10/payload").found);
    assert_false(url(set, "https://example.org/").found);
    intel_set_free(set);
}

static void test_ip_exact(void **state)
{
    (void)state;
    struct intel_set *set = new_set();
    put(set, 1, INTEL_IP, "203.0.113.5", INTEL_BLOCK);
    put(set, 2, INTEL_IP, "2001:db8::1", INTEL_BLOCK);
    struct intel_match m;
    assert_int_equal(intel_match_ip(set, "203.0.113.5", 0, NULL, 0, &m), 0);
    assert_true(m.found);
    assert_int_equal(m.id, 1);
    assert_int_equal(intel_match_ip(set, "::ffff:203.0.113.5", 0, NULL, 0, &m), 0);
    assert_int_equal(m.id, 1);
    assert_int_equal(intel_match_ip(set, "203.0.113.50", 0, NULL, 0, &m), 0);
    assert_false(m.found);
    assert_int_equal(intel_match_ip(set, "203.0.113.4", 0, NULL, 0, &m), 0);
    assert_false(m.found);
    assert_int_equal(intel_match_ip(set, "2001:0db8:0:0:0:0:0:0001", 0, NULL, 0, &m), 0);
    assert_int_equal(m.id, 2);
    assert_int_equal(intel_match_ip(set, "[2001:db8::1]", 0, NULL, 0, &m), 0);
    assert_int_equal(m.id, 2);
    assert_int_equal(intel_match_ip(set, "2001:db8::2", 0, NULL, 0, &m), 0);
    assert_false(m.found);
    assert_int_equal(intel_match_ip(set, "203.0.113.0/24", 0, NULL, 0, &m), RG_EINVAL);
    assert_int_equal(intel_match_ip(set, "evil.com", 0, NULL, 0, &m), RG_EINVAL);
    /* the IP is not a domain */
    assert_false(dom(set, "203.0.113.5").found);
    intel_set_free(set);
}

#define H256 "a3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define H1 "b939a3ee5e6b4b0d3255bfef95601890afd80709"
#define H5 "c41d8cd98f00b204e9800998ecf8427e"

static void test_file_precedence(void **state)
{
    (void)state;
    struct intel_set *set = new_set();
    struct intel_match m;
    /* SHA-256 > SHA-1 > MD5 for the same action */
    put(set, 5, INTEL_FILE_MD5, H5, INTEL_BLOCK);
    put(set, 1, INTEL_FILE_SHA1, H1, INTEL_BLOCK);
    put(set, 9, INTEL_FILE_SHA256, H256, INTEL_BLOCK);
    assert_int_equal(intel_match_file(set, H256, H1, H5, 0, NULL, 0, &m), 0);
    assert_int_equal(m.id, 9);
    assert_int_equal(m.type, INTEL_FILE_SHA256);
    assert_string_equal(m.value, H256);
    assert_int_equal(intel_match_file(set, NULL, H1, H5, 0, NULL, 0, &m), 0);
    assert_int_equal(m.id, 1);
    assert_int_equal(intel_match_file(set, NULL, NULL, "C41D8CD98F00B204E9800998ECF8427E", 0, NULL, 0, &m), 0);
    assert_int_equal(m.id, 5);
    assert_int_equal(intel_match_file(set, NULL, NULL, NULL, 0, NULL, 0, &m), 0);
    assert_false(m.found);
    /* decision order: a blocking or warning file indicator beats an allowing one */
    put(set, 9, INTEL_FILE_SHA256, H256, INTEL_ALLOWED);
    assert_int_equal(intel_match_file(set, H256, H1, H5, 0, NULL, 0, &m), 0);
    assert_int_equal(m.id, 1);
    assert_int_equal(m.action, INTEL_BLOCK);
    assert_int_equal(intel_match_file(set, H256, NULL, NULL, 0, NULL, 0, &m), 0);
    assert_int_equal(m.action, INTEL_ALLOWED);
    /* within the blocking class, the stronger hash wins: SHA-256 Warn over SHA-1 Block */
    put(set, 9, INTEL_FILE_SHA256, H256, INTEL_WARN);
    assert_int_equal(intel_match_file(set, H256, H1, H5, 0, NULL, 0, &m), 0);
    assert_int_equal(m.id, 9);
    assert_int_equal(m.action, INTEL_WARN);
    /* Audit comes last */
    put(set, 9, INTEL_FILE_SHA256, H256, INTEL_AUDIT);
    put(set, 1, INTEL_FILE_SHA1, H1, INTEL_ALLOWED);
    assert_int_equal(intel_match_file(set, H256, H1, NULL, 0, NULL, 0, &m), 0);
    assert_int_equal(m.id, 1);
    /* same hash, same class: more restrictive wins */
    put(set, 20, INTEL_FILE_SHA256, H256, INTEL_BLOCK);
    put(set, 21, INTEL_FILE_SHA256, H256, INTEL_BLOCK_AND_REMEDIATE);
    assert_int_equal(intel_match_file(set, H256, NULL, NULL, 0, NULL, 0, &m), 0);
    assert_int_equal(m.id, 21);
    assert_int_equal(intel_match_file(set, "xyz", NULL, NULL, 0, NULL, 0, &m), RG_EINVAL);
    assert_int_equal(intel_match_file(set, H1, NULL, NULL, 0, NULL, 0, &m), RG_EINVAL);
    /* certificates */
    put(set, 30, INTEL_CERT, H1, INTEL_ALLOWED);
    assert_int_equal(intel_match_cert(set, "B9 39 A3 EE 5E 6B 4B 0D 32 55 BF EF 95 60 18 90 AF D8 07 09", 0, NULL, 0, &m),
                     0);
    assert_int_equal(m.id, 30);
    assert_int_equal(m.type, INTEL_CERT);
    put(set, 31, INTEL_CERT, H1, INTEL_BLOCK_AND_REMEDIATE);
    assert_int_equal(intel_match_cert(set, H1, 0, NULL, 0, &m), 0);
    assert_int_equal(m.id, 31);
    assert_int_equal(intel_match_cert(set, "0000000000000000000000000000000000000000", 0, NULL, 0, &m), 0);
    assert_false(m.found);
    intel_set_free(set);
}

static void test_expiration(void **state)
{
    (void)state;
    struct intel_set *set = new_set();
    put_full(set, 1, INTEL_DOMAIN, "evil.com", INTEL_BLOCK, 0, NULL, 0);
    put_full(set, 2, INTEL_DOMAIN, "a.evil.com", INTEL_WARN, 1000, NULL, 0);
    put_full(set, 3, INTEL_IP, "203.0.113.1", INTEL_BLOCK, 500, NULL, 0);
    struct intel_match m;
    assert_int_equal(intel_match_domain(set, "x.a.evil.com", 999, NULL, 0, &m), 0);
    assert_int_equal(m.id, 2);
    assert_int_equal(m.expires_ms, 1000);
    assert_int_equal(intel_match_domain(set, "x.a.evil.com", 1000, NULL, 0, &m), 0);
    assert_int_equal(m.id, 1); /* expired: the parent domain applies */
    assert_int_equal(intel_match_ip(set, "203.0.113.1", 499, NULL, 0, &m), 0);
    assert_true(m.found);
    assert_int_equal(intel_match_ip(set, "203.0.113.1", 500, NULL, 0, &m), 0);
    assert_false(m.found);
    uint64_t v = intel_set_version(set);
    assert_int_equal(intel_set_purge_expired(set, 400), 0);
    assert_int_equal(intel_set_version(set), v);
    assert_int_equal(intel_set_purge_expired(set, 1000), 2);
    assert_int_equal(intel_set_version(set), v + 1);
    assert_int_equal(intel_set_count(set), 1);
    assert_int_equal(intel_match_domain(set, "x.a.evil.com", 0, NULL, 0, &m), 0);
    assert_int_equal(m.id, 1);
    struct intel_indicator bad = {7, INTEL_DOMAIN, "x.example", INTEL_BLOCK, INTEL_SEV_LOW, -1, NULL, 0};
    char err[128];
    assert_int_equal(intel_set_put(set, &bad, err, sizeof err), RG_EINVAL);
    assert_non_null(strstr(err, "expirationTime"));
    intel_set_free(set);
}

static void test_scope(void **state)
{
    (void)state;
    struct intel_set *set = new_set();
    const char *t1[] = {"team1"};
    const char *t12[] = {"team2", "team1", "team2"};
    put_full(set, 1, INTEL_DOMAIN, "evil.com", INTEL_BLOCK, 0, t1, 1);
    put_full(set, 2, INTEL_DOMAIN, "other.com", INTEL_BLOCK, 0, t12, 3);
    put_full(set, 3, INTEL_DOMAIN, "all.com", INTEL_BLOCK, 0, NULL, 0);
    const char *dev1[] = {"sales", "team1"};
    const char *dev2[] = {"team2"};
    const char *dev3[] = {"Team1", NULL};
    struct intel_match m;
    assert_int_equal(intel_match_domain(set, "x.evil.com", 0, dev1, 2, &m), 0);
    assert_true(m.found);
    assert_int_equal(intel_match_domain(set, "x.evil.com", 0, dev2, 1, &m), 0);
    assert_false(m.found);
    assert_int_equal(intel_match_domain(set, "x.evil.com", 0, NULL, 0, &m), 0);
    assert_false(m.found);
    assert_int_equal(intel_match_domain(set, "x.evil.com", 0, dev3, 2, &m), 0); /* names are case-sensitive */
    assert_false(m.found);
    assert_int_equal(intel_match_domain(set, "other.com", 0, dev2, 1, &m), 0);
    assert_true(m.found);
    assert_int_equal(intel_match_domain(set, "other.com", 0, dev1, 2, &m), 0);
    assert_true(m.found);
    assert_int_equal(intel_match_domain(set, "all.com", 0, dev2, 1, &m), 0);
    assert_true(m.found);
    assert_int_equal(intel_match_domain(set, "all.com", 0, NULL, 0, &m), 0);
    assert_true(m.found);
    /* out-of-scope specific entry: the parent applies */
    put_full(set, 4, INTEL_DOMAIN, "sub.all.com", INTEL_ALLOWED, 0, t1, 1);
    assert_int_equal(intel_match_domain(set, "sub.all.com", 0, dev2, 1, &m), 0);
    assert_int_equal(m.id, 3);
    assert_int_equal(intel_match_domain(set, "sub.all.com", 0, dev1, 2, &m), 0);
    assert_int_equal(m.id, 4);
    /* bad scopes */
    const char *empty[] = {""};
    struct intel_indicator ind = {9, INTEL_DOMAIN, "x.example", INTEL_BLOCK, INTEL_SEV_LOW, 0, empty, 1};
    char err[128];
    assert_int_equal(intel_set_put(set, &ind, err, sizeof err), RG_EINVAL);
    assert_non_null(strstr(err, "rbacGroupNames"));
    const char *many[INTEL_SCOPE_MAX_NAMES + 1];
    for (int i = 0; i <= INTEL_SCOPE_MAX_NAMES; i++)
        many[i] = "g";
    ind.scope = many;
    ind.nscope = INTEL_SCOPE_MAX_NAMES + 1;
    assert_int_equal(intel_set_put(set, &ind, err, sizeof err), RG_ETOOBIG);
    assert_int_equal(intel_set_count(set), 4);
    /* many distinct scopes (the scope index grows), each interned once */
    char names[40][8], hosts[40][24];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "g%d", i);
        snprintf(hosts[i], sizeof hosts[i], "d%d.example", i);
        const char *sc[] = {names[i], "shared"};
        put_full(set, 100 + (uint64_t)i, INTEL_DOMAIN, hosts[i], INTEL_BLOCK, 0, sc, 2);
    }
    size_t mem = intel_set_memory(set);
    for (int i = 0; i < 40; i++) {
        const char *sc[] = {"shared", names[i]}; /* same scope, other order: no new scope */
        put_full(set, 100 + (uint64_t)i, INTEL_DOMAIN, hosts[i], INTEL_WARN, 0, sc, 2);
    }
    assert_int_equal(intel_set_memory(set), mem);
    for (int i = 0; i < 40; i++) {
        const char *mine[] = {names[i]}, *other[] = {names[(i + 1) % 40]}, *shared[] = {"x", "shared"};
        assert_int_equal(intel_match_domain(set, hosts[i], 0, mine, 1, &m), 0);
        assert_int_equal(m.id, 100 + (uint64_t)i);
        assert_int_equal(m.action, INTEL_WARN);
        assert_int_equal(intel_match_domain(set, hosts[i], 0, other, 1, &m), 0);
        assert_false(m.found);
        assert_int_equal(intel_match_domain(set, hosts[i], 0, shared, 2, &m), 0);
        assert_true(m.found);
    }
    intel_set_free(set);
}

static void test_changes(void **state)
{
    (void)state;
    struct intel_set *set = new_set();
    assert_int_equal(intel_set_count(set), 0);
    assert_int_equal(intel_set_version(set), 0);
    put(set, 1, INTEL_DOMAIN, "evil.com", INTEL_BLOCK);
    put(set, 2, INTEL_URL, "https://evil.com/x", INTEL_BLOCK);
    assert_int_equal(intel_set_count(set), 2);
    assert_int_equal(intel_set_version(set), 2);
    /* put as update (same id, same value, value spelled differently) keeps the count */
    put(set, 1, INTEL_DOMAIN, "EVIL.com.", INTEL_WARN);
    assert_int_equal(intel_set_count(set), 2);
    assert_int_equal(intel_set_version(set), 3);
    struct intel_match m = dom(set, "evil.com");
    assert_int_equal(m.action, INTEL_WARN);
    /* same id, new value: the entry moves */
    put(set, 1, INTEL_DOMAIN, "bad.example", INTEL_BLOCK);
    assert_int_equal(intel_set_count(set), 2);
    assert_false(dom(set, "evil.com").found);
    assert_int_equal(dom(set, "x.bad.example").id, 1);
    /* remove */
    assert_int_equal(intel_set_remove(set, 1), 0);
    assert_int_equal(intel_set_count(set), 1);
    assert_int_equal(intel_set_version(set), 5);
    assert_false(dom(set, "x.bad.example").found);
    assert_int_equal(intel_set_remove(set, 1), RG_ENOTFOUND);
    assert_int_equal(intel_set_version(set), 5);
    assert_int_equal(url(set, "https://evil.com/x/y").id, 2);
    /* invalid puts leave the set unchanged and say why */
    char err[256];
    struct intel_indicator bad = {3, INTEL_DOMAIN, "*.evil.com", INTEL_BLOCK, INTEL_SEV_HIGH, 0, NULL, 0};
    assert_int_equal(intel_set_put(set, &bad, err, sizeof err), RG_EINVAL);
    assert_non_null(strstr(err, "indicatorValue: wildcards"));
    bad.value = "evil.com";
    bad.action = INTEL_BLOCK_AND_REMEDIATE;
    assert_int_equal(intel_set_put(set, &bad, err, sizeof err), RG_EINVAL);
    assert_non_null(strstr(err, "action: BlockAndRemediate"));
    bad.action = INTEL_BLOCK;
    bad.severity = INTEL_SEV_COUNT;
    assert_int_equal(intel_set_put(set, &bad, err, sizeof err), RG_EINVAL);
    assert_int_equal(intel_set_count(set), 1);
    assert_int_equal(intel_set_version(set), 5);
    assert_int_equal(intel_set_reserve(set, 1000), 0);
    assert_true(intel_set_memory(set) > 1000 * 9); /* index slots: 1 + 4 + 4 bytes at a load <= 3/4 */
    assert_int_equal(url(set, "https://evil.com/x/y").id, 2);
    intel_set_free(set);
    intel_set_free(NULL);
}

/* ---- randomized cross-check against a naive linear scan ---- */

struct naive {
    bool live;
    uint64_t id;
    enum intel_type type;
    char value[128];
    enum intel_action action;
    int64_t expires;
    unsigned scope; /* bit 0: team1, bit 1: team2; 0 = all devices */
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static unsigned pick(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static void rand_host(char *out, size_t outlen, unsigned min_labels)
{
    static const char *const labels[] = {"a", "b", "evil", "x1", "cdn", "b-c"};
    static const char *const tlds[] = {"com", "net", "org"};
    unsigned k = min_labels + pick(3);
    size_t n = 0;
    out[0] = '\0';
    for (unsigned i = 0; i + 1 < k; i++)
        n += (size_t)snprintf(out + n, outlen - n, "%s.", labels[pick(6)]);
    snprintf(out + n, outlen - n, "%s", tlds[pick(3)]);
}

static void rand_url(char *out, size_t outlen)
{
    static const char *const segs[] = {"a", "b", "xy", ""};
    char host[64];
    rand_host(host, sizeof host, 2);
    size_t n = (size_t)snprintf(out, outlen, "%s://%s/", pick(4) ? "https" : "http", host);
    unsigned depth = pick(4);
    for (unsigned i = 0; i < depth; i++)
        n += (size_t)snprintf(out + n, outlen - n, "%s%s", segs[pick(4)], i + 1 < depth || pick(2) ? "/" : "");
    unsigned q = pick(5);
    if (q == 1)
        snprintf(out + n, outlen - n, "?q=1");
    else if (q == 2)
        snprintf(out + n, outlen - n, "?q=1&r=2");
}

#define HEX_POOL 1500

static void rand_hex(char *out, unsigned len, unsigned pool)
{
    uint64_t x = 0x51ed270b27bd1a1bull * (pick(pool) + 1);
    for (unsigned i = 0; i < len; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        out[i] = "0123456789abcdef"[(x >> 60) & 15];
    }
    out[len] = '\0';
}

static void rand_value(enum intel_type type, char *out, size_t outlen)
{
    switch (type) {
    case INTEL_DOMAIN:
        rand_host(out, outlen, 2);
        break;
    case INTEL_URL:
        rand_url(out, outlen);
        break;
    case INTEL_IP:
        if (pick(2))
            snprintf(out, outlen, "%s.%u", pick(2) ? "203.0.113" : "198.51.100", pick(250) + 1);
        else
            snprintf(out, outlen, "2001:db8::%x", pick(500) + 1);
        break;
    case INTEL_FILE_SHA256:
        rand_hex(out, 64, HEX_POOL);
        break;
    case INTEL_FILE_SHA1:
    case INTEL_CERT:
        rand_hex(out, 40, HEX_POOL);
        break;
    case INTEL_FILE_MD5:
        rand_hex(out, 32, HEX_POOL);
        break;
    default:
        out[0] = '\0';
    }
}

static enum intel_action rand_action(enum intel_type type)
{
    if (type == INTEL_CERT)
        return pick(2) ? INTEL_ALLOWED : INTEL_BLOCK_AND_REMEDIATE;
    if (type == INTEL_IP || type == INTEL_DOMAIN || type == INTEL_URL)
        return (enum intel_action)pick(4);
    return (enum intel_action)pick(5);
}

static bool naive_live(const struct naive *e, int64_t now, unsigned dev)
{
    return e->live && !(e->expires && now >= e->expires) && (e->scope == 0 || (e->scope & dev));
}

static unsigned naive_score(const struct naive *e, bool file)
{
    unsigned scoped = e->scope != 0;
    if (!file) {
        unsigned r = e->action == INTEL_ALLOWED ? 4 : e->action == INTEL_WARN ? 3 : e->action == INTEL_AUDIT ? 1 : 2;
        return r * 2 + scoped;
    }
    unsigned cls = e->action == INTEL_ALLOWED ? 2 : e->action == INTEL_AUDIT ? 1 : 3;
    unsigned strength = e->type == INTEL_FILE_MD5 ? 1 : e->type == INTEL_FILE_SHA1 ? 2 : 3;
    unsigned restr = e->action == INTEL_BLOCK_AND_REMEDIATE ? 3 : e->action == INTEL_BLOCK ? 2
                                                                : e->action == INTEL_WARN ? 1
                                                                                          : 0;
    return cls * 1000 + strength * 100 + scoped * 10 + restr;
}

static void naive_consider(const struct naive *e, bool file, const struct naive **best)
{
    if (!*best || naive_score(e, file) > naive_score(*best, file) ||
        (naive_score(e, file) == naive_score(*best, file) && e->id < (*best)->id))
        *best = e;
}

static bool ends_with_label(const char *host, const char *dom)
{
    size_t h = strlen(host), d = strlen(dom);
    if (h == d)
        return strcmp(host, dom) == 0;
    return h > d && strcmp(host + h - d, dom) == 0 && host[h - d - 1] == '.';
}

static const struct naive *naive_domain(const struct naive *es, size_t n, const char *host, int64_t now, unsigned dev)
{
    const struct naive *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < n; i++) {
        const struct naive *e = &es[i];
        if (e->type != INTEL_DOMAIN || !naive_live(e, now, dev) || !ends_with_label(host, e->value))
            continue;
        size_t len = strlen(e->value);
        if (len > best_len) {
            best = NULL;
            best_len = len;
        }
        if (len == best_len)
            naive_consider(e, false, &best);
    }
    return best;
}

/* The "under" rule of indicators.h, written out on canonical strings. */
static bool url_under(const char *q, const char *v)
{
    size_t L = strlen(v), n = strlen(q);
    if (L > n || strncmp(q, v, L) != 0)
        return false;
    const char *qm = strchr(q, '?');
    size_t qpos = qm ? (size_t)(qm - q) : n;
    return L == n || (L - 1 < qpos && q[L - 1] == '/') || (L < qpos && q[L] == '/') || L == qpos ||
           (L > qpos && q[L] == '&');
}

static const struct naive *naive_url(const struct naive *es, size_t n, const char *u, int64_t now, unsigned dev)
{
    const struct naive *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < n; i++) {
        const struct naive *e = &es[i];
        if (e->type != INTEL_URL || !naive_live(e, now, dev) || !url_under(u, e->value))
            continue;
        size_t len = strlen(e->value);
        if (len > best_len) {
            best = NULL;
            best_len = len;
        }
        if (len == best_len)
            naive_consider(e, false, &best);
    }
    if (best)
        return best;
    char host[128];
    const char *h = strstr(u, "://") + 3;
    size_t hl = strcspn(h, "/:?");
    memcpy(host, h, hl);
    host[hl] = '\0';
    return naive_domain(es, n, host, now, dev);
}

static const struct naive *naive_exact(const struct naive *es, size_t n, enum intel_type type, const char *v,
                                       int64_t now, unsigned dev, bool file, const struct naive *best)
{
    for (size_t i = 0; i < n; i++)
        if (es[i].type == type && naive_live(&es[i], now, dev) && strcmp(es[i].value, v) == 0)
            naive_consider(&es[i], file, &best);
    return best;
}

static void check_same(const struct naive *want, const struct intel_match *got, const char *what, const char *q)
{
    if (!want) {
        if (got->found)
            fail_msg("%s \"%s\": naive finds nothing, set finds id %llu \"%s\"", what, q,
                     (unsigned long long)got->id, got->value);
        return;
    }
    if (!got->found || got->id != want->id)
        fail_msg("%s \"%s\": naive finds id %llu \"%s\" (%s), set finds %s %llu \"%s\"", what, q,
                 (unsigned long long)want->id, want->value, intel_action_name(want->action),
                 got->found ? "id" : "nothing", (unsigned long long)got->id, got->found ? got->value : "");
    assert_int_equal(got->action, want->action);
    assert_int_equal(got->type, want->type);
    assert_string_equal(got->value, want->value);
}

#define NAIVE_N 10000

static void test_randomized(void **state)
{
    (void)state;
    struct naive *es = calloc(NAIVE_N, sizeof *es);
    assert_non_null(es);
    struct intel_set *set = new_set();
    static const char *const team[2] = {"team1", "team2"};
    size_t live = 0;
    unsigned queries[5] = {0}, hits[5] = {0};

    for (int round = 0; round < 3; round++) {
        /* fill / update */
        for (size_t i = 0; i < NAIVE_N; i++) {
            if (round > 0 && pick(3) != 0)
                continue;
            struct naive *e = &es[i];
            static const enum intel_type types[] = {INTEL_DOMAIN, INTEL_DOMAIN, INTEL_DOMAIN, INTEL_URL, INTEL_URL,
                                                    INTEL_URL,    INTEL_IP,     INTEL_FILE_SHA256, INTEL_FILE_SHA1,
                                                    INTEL_FILE_MD5, INTEL_CERT};
            if (!e->live)
                live++;
            e->live = true;
            e->id = i + 1;
            e->type = types[pick(sizeof types / sizeof types[0])];
            rand_value(e->type, e->value, sizeof e->value);
            e->action = rand_action(e->type);
            e->expires = pick(4) == 0 ? 1 + pick(2000) : 0;
            e->scope = pick(3) == 0 ? 1 + pick(3) : 0;
            const char *sc[2];
            size_t nsc = 0;
            for (int b = 0; b < 2; b++)
                if (e->scope & (1u << b))
                    sc[nsc++] = team[b];
            char canon[INTEL_VALUE_MAX + 1];
            assert_int_equal(intel_normalize(e->type, e->value, canon, sizeof canon, NULL, 0), 0);
            assert_string_equal(canon, e->value); /* generated values are canonical */
            put_full(set, e->id, e->type, e->value, e->action, e->expires, sc, nsc);
        }
        /* remove some */
        for (size_t i = 0; i < NAIVE_N; i++) {
            if (pick(4) != 0)
                continue;
            int rc = intel_set_remove(set, i + 1);
            assert_int_equal(rc, es[i].live ? 0 : RG_ENOTFOUND);
            if (es[i].live)
                live--;
            es[i].live = false;
        }
        assert_int_equal(intel_set_count(set), live);

        /* compare */
        for (int k = 0; k < 8000; k++) {
            int64_t now = pick(2200);
            unsigned dev = pick(4);
            const char *tags[2];
            size_t ntags = 0;
            for (int b = 0; b < 2; b++)
                if (dev & (1u << b))
                    tags[ntags++] = team[b];
            char q[256];
            struct intel_match m;
            unsigned kind = pick(5);
            queries[kind]++;
            switch (kind) {
            case 0:
                rand_host(q, sizeof q, 1);
                assert_int_equal(intel_match_domain(set, q, now, tags, ntags, &m), 0);
                check_same(naive_domain(es, NAIVE_N, q, now, dev), &m, "domain", q);
                break;
            case 1:
                rand_url(q, sizeof q);
                assert_int_equal(intel_match_url(set, q, now, tags, ntags, &m), 0);
                check_same(naive_url(es, NAIVE_N, q, now, dev), &m, "url", q);
                break;
            case 2:
                rand_value(INTEL_IP, q, sizeof q);
                assert_int_equal(intel_match_ip(set, q, now, tags, ntags, &m), 0);
                check_same(naive_exact(es, NAIVE_N, INTEL_IP, q, now, dev, false, NULL), &m, "ip", q);
                break;
            case 3: {
                char a[65], b[41], c[33];
                rand_hex(a, 64, HEX_POOL);
                rand_hex(b, 40, HEX_POOL);
                rand_hex(c, 32, HEX_POOL);
                const char *pa = pick(4) ? a : NULL, *pb = pick(4) ? b : NULL, *pc = pick(4) ? c : NULL;
                assert_int_equal(intel_match_file(set, pa, pb, pc, now, tags, ntags, &m), 0);
                const struct naive *best = NULL;
                if (pa)
                    best = naive_exact(es, NAIVE_N, INTEL_FILE_SHA256, a, now, dev, true, best);
                if (pb)
                    best = naive_exact(es, NAIVE_N, INTEL_FILE_SHA1, b, now, dev, true, best);
                if (pc)
                    best = naive_exact(es, NAIVE_N, INTEL_FILE_MD5, c, now, dev, true, best);
                check_same(best, &m, "file", a);
                break;
            }
            default:
                rand_hex(q, 40, HEX_POOL);
                assert_int_equal(intel_match_cert(set, q, now, tags, ntags, &m), 0);
                check_same(naive_exact(es, NAIVE_N, INTEL_CERT, q, now, dev, true, NULL), &m, "cert", q);
                break;
            }
            hits[kind] += m.found && (kind != 1 || m.type == INTEL_URL); /* URLs: URL-level hits */
        }
    }
    /* the generators give every kind of lookup both hits and misses */
    for (int k = 0; k < 5; k++) {
        if (hits[k] * 20 < queries[k] || hits[k] * 20 > queries[k] * 19)
            fail_msg("lookup kind %d: %u hits of %u queries", k, hits[k], queries[k]);
    }
    /* purge agrees with the naive view */
    size_t expired = 0;
    for (size_t i = 0; i < NAIVE_N; i++)
        if (es[i].live && es[i].expires && 1500 >= es[i].expires)
            expired++;
    assert_int_equal(intel_set_purge_expired(set, 1500), expired);
    assert_int_equal(intel_set_count(set), live - expired);
    intel_set_free(set);
    free(es);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_legacy_actions),
        cmocka_unit_test(test_messages_clean_utf8),
        cmocka_unit_test(test_check_action),
        cmocka_unit_test(test_norm_hashes),
        cmocka_unit_test(test_norm_ip),
        cmocka_unit_test(test_norm_domain),
        cmocka_unit_test(test_public_suffix),
        cmocka_unit_test(test_norm_url),
        cmocka_unit_test(test_domain_subdomains),
        cmocka_unit_test(test_same_value_precedence),
        cmocka_unit_test(test_domain_specificity),
        cmocka_unit_test(test_url_longest_prefix),
        cmocka_unit_test(test_url_and_domain),
        cmocka_unit_test(test_ip_exact),
        cmocka_unit_test(test_file_precedence),
        cmocka_unit_test(test_expiration),
        cmocka_unit_test(test_scope),
        cmocka_unit_test(test_changes),
        cmocka_unit_test(test_randomized),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
