/*
 * Unit tests of network protection's pure parts (src/agent/netprot_certs.c,
 * netprot_wifi.c, netprot_tls.c): thumbprint parsing, the allow-list in its
 * SHA-1 and SHA-256 forms, PEM bundles and DER files, the diff against the
 * distribution's bundle, nmcli's terse output, security words, TLS targets,
 * and that a network's key does not name it. Certificates are made here with
 * OpenSSL, so the test needs no files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "agent/netprot.h"
#include "common/err.h"

/* A self-signed certificate with this common name, as PEM (pem) and DER (der). */
struct made {
    char *pem;
    size_t pem_len;
    unsigned char *der;
    int der_len;
};

static void make_cert(const char *cn, struct made *m)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    assert_non_null(key);
    X509 *x = X509_new();
    assert_non_null(x);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char *data;
    long n = BIO_get_mem_data(b, &data);
    m->pem = malloc((size_t)n + 1);
    memcpy(m->pem, data, (size_t)n);
    m->pem[n] = '\0';
    m->pem_len = (size_t)n;
    BIO_free(b);
    m->der = NULL;
    m->der_len = i2d_X509(x, &m->der);
    assert_true(m->der_len > 0);
    X509_free(x);
    EVP_PKEY_free(key);
}

static void made_free(struct made *m)
{
    free(m->pem);
    OPENSSL_free(m->der);
}

static void test_thumbprints(void **state)
{
    (void)state;
    char out[65];
    const char *sha1 = "AB CD EF 01 23 45 67 89 ab cd ef 01 23 45 67 89 AB CD EF 01";
    assert_int_equal(netprot_thumb_normalize(sha1, strlen(sha1), out, sizeof out), 1);
    assert_string_equal(out, "abcdef0123456789abcdef0123456789abcdef01");
    char sha256[65];
    memset(sha256, 'F', 64);
    sha256[64] = '\0';
    assert_int_equal(netprot_thumb_normalize(sha256, 64, out, sizeof out), 2);
    assert_int_equal(out[0], 'f');
    const char *colons = "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01";
    assert_int_equal(netprot_thumb_normalize(colons, strlen(colons), out, sizeof out), 1);
    /* wrong lengths, non-hex, too long */
    assert_int_equal(netprot_thumb_normalize("abc", 3, out, sizeof out), RG_EINVAL);
    assert_int_equal(netprot_thumb_normalize("", 0, out, sizeof out), RG_EINVAL);
    const char *bad = "zz cd ef 01 23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef 01";
    assert_int_equal(netprot_thumb_normalize(bad, strlen(bad), out, sizeof out), RG_EINVAL);
    char longer[100];
    memset(longer, 'a', 99);
    longer[99] = '\0';
    assert_int_equal(netprot_thumb_normalize(longer, 99, out, sizeof out), RG_EINVAL);
}

static void test_load_and_allowlist(void **state)
{
    (void)state;
    struct made a, b;
    make_cert("Test Root A", &a);
    make_cert("Test Root B", &b);
    struct netprot_certset s = NETPROT_CERTSET_INIT;
    /* a bundle of two PEM certificates, one of them twice */
    char *bundle = malloc(a.pem_len * 2 + b.pem_len + 1);
    snprintf(bundle, a.pem_len * 2 + b.pem_len + 1, "%s%s%s", a.pem, b.pem, a.pem);
    assert_int_equal(netprot_certset_add_buffer(&s, bundle, strlen(bundle), "/x/bundle.pem"), 2);
    assert_int_equal(s.n, 2);
    assert_non_null(strstr(s.v[0].subject, "CN=Test Root A"));
    assert_string_equal(s.v[0].path, "/x/bundle.pem");
    assert_int_equal(strlen(s.v[0].sha256), 64);
    assert_int_equal(strlen(s.v[0].sha1), 40);
    /* DER: the same certificate is not added twice */
    assert_int_equal(netprot_certset_add_buffer(&s, a.der, (size_t)a.der_len, "/x/a.der"), 0);
    assert_int_equal(s.n, 2);
    /* garbage holds no certificate */
    assert_int_equal(netprot_certset_add_buffer(&s, "hello", 5, "/x/junk"), 0);
    const struct netprot_cert *ca = netprot_certset_find(&s, s.v[0].sha256);
    assert_non_null(ca);

    /* allow-list: SHA-256, SHA-1 upper case with spaces, among others; empty and junk allow nothing */
    char list[400], spaced[80];
    size_t o = 0;
    for (size_t i = 0; i < 40; i++) {
        spaced[o++] = (char)(ca->sha1[i] >= 'a' ? ca->sha1[i] - 32 : ca->sha1[i]);
        if (i % 2 && i < 39)
            spaced[o++] = ' ';
    }
    spaced[o] = '\0';
    assert_false(netprot_allowlisted(NULL, ca));
    assert_false(netprot_allowlisted("", ca));
    assert_false(netprot_allowlisted("nonsense, 1234", ca));
    snprintf(list, sizeof list, "0000000000000000000000000000000000000000, %s", ca->sha256);
    assert_true(netprot_allowlisted(list, ca));
    assert_false(netprot_allowlisted(list, &s.v[1]));
    snprintf(list, sizeof list, "%s,", spaced);
    assert_true(netprot_allowlisted(list, ca));
    /* a SHA-1 never matches a SHA-256 and the reverse */
    char half[65];
    snprintf(half, sizeof half, "%.40s", ca->sha256);
    assert_false(netprot_allowlisted(half, ca));

    /* the diff: store = {A, B}; bundle = {B} -> A; allow-listed or trusted -> nothing */
    struct netprot_certset dist = NETPROT_CERTSET_INIT, out = NETPROT_CERTSET_INIT;
    assert_int_equal(netprot_certset_add_buffer(&dist, b.pem, b.pem_len, "/usr/share/ca-certificates/b.crt"), 1);
    assert_int_equal(netprot_suspicious(&s, &dist, NULL, NULL, 0, &out), 0);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.v[0].sha256, ca->sha256);
    netprot_certset_release(&out);
    assert_int_equal(netprot_suspicious(&s, &dist, ca->sha1, NULL, 0, &out), 0);
    assert_int_equal(out.n, 0);
    char *trusted[] = {(char *)ca->sha256};
    assert_int_equal(netprot_suspicious(&s, &dist, "", trusted, 1, &out), 0);
    assert_int_equal(out.n, 0);
    netprot_certset_release(&out);
    netprot_certset_release(&dist);
    netprot_certset_release(&s);
    netprot_certset_release(NULL);
    free(bundle);
    made_free(&a);
    made_free(&b);
}

static void test_load_folder(void **state)
{
    (void)state;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/rg-netprot.XXXXXX");
    assert_non_null(mkdtemp(dir));
    struct made a;
    make_cert("Folder Root", &a);
    char p1[128], p2[128], p3[128];
    snprintf(p1, sizeof p1, "%s/a.crt", dir);
    snprintf(p2, sizeof p2, "%s/readme.txt", dir); /* not a certificate name: skipped */
    snprintf(p3, sizeof p3, "%s/a.der.cer", dir);
    FILE *f = fopen(p1, "w");
    fputs(a.pem, f);
    fclose(f);
    f = fopen(p2, "w");
    fputs(a.pem, f);
    fclose(f);
    f = fopen(p3, "wb");
    fwrite(a.der, 1, (size_t)a.der_len, f);
    fclose(f);
    struct netprot_certset s = NETPROT_CERTSET_INIT;
    assert_int_equal(netprot_certset_load(&s, dir), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.v[0].path, p1);
    assert_int_equal(netprot_certset_load(&s, "/nonexistent/folder"), 0);
    assert_int_equal(s.unreadable, 0);
    netprot_certset_release(&s);
    unlink(p1);
    unlink(p2);
    unlink(p3);
    rmdir(dir);
    made_free(&a);
}

static void test_nmcli(void **state)
{
    (void)state;
    struct netprot_wifi w;
    /* nmcli -t -f ACTIVE,SSID-HEX,BSSID,SECURITY: the name in hex, the BSSID's colons escaped */
    const char *out = "no:4E65696768626F757273:11\\:22\\:33\\:44\\:55\\:66:WPA2\n"
                      "yes:436166653A20667265655C6E6574:AA\\:BB\\:CC\\:DD\\:EE\\:FF:\n"
                      "no::00\\:00\\:00\\:00\\:00\\:01:WEP\n";
    assert_int_equal(netprot_nmcli_parse(out, &w), 0);
    assert_string_equal(w.ssid, "Cafe: free\\net");
    assert_string_equal(w.bssid, "AA:BB:CC:DD:EE:FF");
    assert_int_equal(w.sec, NETPROT_SEC_OPEN);
    assert_string_equal(w.source, "nmcli");
    assert_int_equal(netprot_nmcli_parse("yes:486F6D65:AA\\:BB\\:CC\\:DD\\:EE\\:FF:WPA1 WPA2\r\n", &w), 0);
    assert_string_equal(w.ssid, "Home");
    assert_int_equal(w.sec, NETPROT_SEC_WPA2);
    assert_int_equal(netprot_nmcli_parse("no:486F6D65:AA\\:BB\\:CC\\:DD\\:EE\\:FF:WPA2\n", &w), RG_ENOTFOUND);
    assert_int_equal(w.sec, NETPROT_SEC_NONE);
    assert_int_equal(netprot_nmcli_parse("", &w), RG_ENOTFOUND);
    /* malformed lines are skipped, not fatal: too few or too many fields, an SSID that is not hex */
    assert_int_equal(netprot_nmcli_parse("yes:only-two\n", &w), RG_ENOTFOUND);
    assert_int_equal(netprot_nmcli_parse("yes:a:b:c:d:e\n", &w), RG_ENOTFOUND);
    assert_int_equal(netprot_nmcli_parse("yes:Hello:AA\\:BB:--\n"
                                         "garbage\n"
                                         "yes:4F6666696365:AA\\:BB\\:CC\\:DD\\:EE\\:01:WPA3\n",
                                         &w),
                     0);
    assert_string_equal(w.ssid, "Office");
    assert_int_equal(w.sec, NETPROT_SEC_WPA3);
    /* a name made to look like lines and fields ("\nyes:Evil:AA:--") stays one name: it arrives in hex */
    assert_int_equal(netprot_nmcli_parse("no:0A7965733A4576696C3A41413A2D2D:11\\:22\\:33\\:44\\:55\\:66:WPA2\n", &w),
                     RG_ENOTFOUND);
    assert_int_equal(netprot_nmcli_parse("yes:610A623A63:11\\:22\\:33\\:44\\:55\\:66:WPA2\n", &w), 0);
    assert_string_equal(w.ssid, "a?b:c");
    /* hex decoding */
    char ssid[33];
    assert_int_equal(netprot_hex_ssid("", ssid, sizeof ssid), 0);
    assert_string_equal(ssid, "");
    assert_int_equal(netprot_hex_ssid("41426364", ssid, sizeof ssid), 0);
    assert_string_equal(ssid, "ABcd");
    assert_int_equal(netprot_hex_ssid("4142636", ssid, sizeof ssid), RG_EINVAL);
    assert_int_equal(netprot_hex_ssid("41zz", ssid, sizeof ssid), RG_EINVAL);
    assert_int_equal(netprot_hex_ssid("410041", ssid, sizeof ssid), 0);
    assert_string_equal(ssid, "A?A");
    char big[80];
    memset(big, 'a', 66);
    big[66] = '\0';
    assert_int_equal(netprot_hex_ssid(big, ssid, sizeof ssid), RG_EINVAL); /* 33 bytes: more than an SSID holds */
    big[64] = '\0';
    assert_int_equal(netprot_hex_ssid(big, ssid, sizeof ssid), 0);
    assert_int_equal(strlen(ssid), 32);
    /* security words */
    assert_int_equal(netprot_sec_from_nmcli("--"), NETPROT_SEC_OPEN);
    assert_int_equal(netprot_sec_from_nmcli("WEP"), NETPROT_SEC_WEP);
    assert_int_equal(netprot_sec_from_nmcli("WPA1"), NETPROT_SEC_WPA);
    assert_int_equal(netprot_sec_from_nmcli("WPA2 802.1X"), NETPROT_SEC_WPA2);
    assert_int_equal(netprot_sec_from_nmcli("WPA3"), NETPROT_SEC_WPA3);
    assert_int_equal(netprot_sec_from_nmcli("OWE"), NETPROT_SEC_WPA3);
    assert_int_equal(netprot_sec_from_nmcli("WPA2X"), NETPROT_SEC_UNKNOWN);
    enum netprot_sec s;
    assert_int_equal(netprot_sec_parse("WPA2", &s), 0);
    assert_int_equal(s, NETPROT_SEC_WPA2);
    assert_int_equal(netprot_sec_parse("none", &s), 0);
    assert_int_equal(s, NETPROT_SEC_NONE);
    assert_int_equal(netprot_sec_parse("unknown", &s), RG_EINVAL);
    assert_int_equal(netprot_sec_parse(NULL, &s), RG_EINVAL);
    assert_true(netprot_sec_unsafe(NETPROT_SEC_OPEN));
    assert_true(netprot_sec_unsafe(NETPROT_SEC_WEP));
    assert_false(netprot_sec_unsafe(NETPROT_SEC_WPA2));
    assert_string_equal(netprot_sec_name(NETPROT_SEC_WPA3), "wpa3");
    /* nmcli is not installed here: a clean "not found", never a crash */
    int rc = netprot_nmcli_read(&w);
    assert_true(rc == 0 || rc == RG_ENOTFOUND);
}

static void test_wifi_key(void **state)
{
    (void)state;
    char k1[80], k2[80], k3[80];
    netprot_wifi_key("CafeNet", "AA:BB:CC:DD:EE:FF", k1, sizeof k1);
    netprot_wifi_key("CafeNet", "AA:BB:CC:DD:EE:00", k2, sizeof k2);
    netprot_wifi_key("CafeNet", "AA:BB:CC:DD:EE:FF", k3, sizeof k3);
    assert_int_equal(strncmp(k1, "wifi:", 5), 0);
    assert_int_equal(strlen(k1), 5 + 64);
    assert_null(strstr(k1, "Cafe"));
    assert_null(strstr(k1, "AA:BB"));
    assert_string_not_equal(k1, k2);
    assert_string_equal(k1, k3);
}

static void test_tls_targets(void **state)
{
    (void)state;
    struct netprot_tls_target t;
    assert_int_equal(netprot_tls_parse("example.com:443", &t), 0);
    assert_string_equal(t.host, "example.com");
    assert_string_equal(t.port, "443");
    assert_string_equal(t.pin, "");
    char spec[200];
    snprintf(spec, sizeof spec, "127.0.0.1:8443=%s", "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
                                                     "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89");
    assert_int_equal(netprot_tls_parse(spec, &t), 0);
    assert_string_equal(t.host, "127.0.0.1");
    assert_string_equal(t.pin, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
    assert_int_equal(netprot_tls_parse("[::1]:443", &t), 0);
    assert_string_equal(t.host, "::1");
    assert_int_equal(netprot_tls_parse("::1:443", &t), RG_EINVAL);
    assert_int_equal(netprot_tls_parse("example.com", &t), RG_EINVAL);
    assert_int_equal(netprot_tls_parse("example.com:0", &t), RG_EINVAL);
    assert_int_equal(netprot_tls_parse("example.com:65536", &t), RG_EINVAL);
    assert_int_equal(netprot_tls_parse("example.com:44x", &t), RG_EINVAL);
    assert_int_equal(netprot_tls_parse(":443", &t), RG_EINVAL);
    assert_int_equal(netprot_tls_parse("example.com:443=abcd", &t), RG_EINVAL);
    assert_int_equal(netprot_tls_parse("a b:443", &t), RG_EINVAL);
    assert_int_equal(netprot_tls_parse("", &t), RG_EINVAL);
    assert_int_equal(netprot_tls_parse(NULL, &t), RG_EINVAL);
    /* a closed port: unreachable (tells nothing), within the deadline */
    struct netprot_tls_outcome o;
    assert_int_equal(netprot_tls_parse("127.0.0.1:1", &t), 0);
    netprot_tls_check(&t, NULL, 2000, NULL, &o);
    assert_int_equal(o.result, NETPROT_TLS_UNREACHABLE);
    assert_string_equal(netprot_tls_result_name(o.result), "unreachable");
    /* the worker: started, finished, freed */
    struct netprot_tls_job *job = NULL;
    assert_int_equal(netprot_tls_job_start(&t, 1, NULL, &job), 0);
    for (int i = 0; i < 3000 && !netprot_tls_job_done(job); i++) /* a bound (30 s), not a measurement */
        usleep(10000);
    assert_true(netprot_tls_job_done(job));
    netprot_tls_job_finish(job, &o, 1);
    assert_int_equal(o.result, NETPROT_TLS_UNREACHABLE);
    netprot_tls_job_free(job);
    netprot_tls_job_free(NULL);
    /*
     * Freed while it runs: the running check is cancelled and the checks after it never start.
     * Four targets on a listener that accepts and never speaks TLS: without a cancel the worker
     * would hold the first connection until the check's timeout (3 s), then connect for the next.
     * With it, the worker closes the connection it holds and the listener never sees a second one.
     */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t salen = sizeof sa;
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(lfd, 4), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &salen), 0);
    char spec2[64];
    snprintf(spec2, sizeof spec2, "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port)); /* accepts, never speaks TLS */
    struct netprot_tls_target many[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(netprot_tls_parse(spec2, &many[i]), 0);
    assert_int_equal(netprot_tls_job_start(many, 4, NULL, &job), 0);
    /* the worker is inside the first check: its connection is here, its ClientHello waits unanswered */
    struct pollfd lp = {.fd = lfd, .events = POLLIN};
    assert_int_equal(poll(&lp, 1, 10000), 1); /* a bound, not a measurement */
    int cfd = accept(lfd, NULL, NULL);
    assert_true(cfd >= 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    netprot_tls_job_free(job);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (long)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms < 2500); /* free does not wait for the check's 3 s timeout (it waits at most ~300 ms) */
    /* cancelled: the worker let go of the connection it held (EOF after its ClientHello)... */
    char junk[4096];
    ssize_t k;
    struct pollfd cp = {.fd = cfd, .events = POLLIN};
    do {
        assert_int_equal(poll(&cp, 1, 10000), 1);
        k = read(cfd, junk, sizeof junk);
    } while (k > 0);
    assert_int_equal(k, 0);
    /* ...and went no further: the next three checks never connect. Not cancelled, the worker would connect for
     * the second one as soon as the first ended (the EOF above): a check's whole time is ample for that even on
     * a loaded machine, so a quiet listener shows the cancellation, not a slow thread */
    assert_int_equal(poll(&lp, 1, NETPROT_TLS_TIMEOUT_MS), 0);
    close(cfd);
    close(lfd);

    /* a check whose cancel flag is set gives up before its handshake: the peer never gets a ClientHello
     * (without the flag it would get one and the check would wait 60 s for the answer, then fail here) */
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    sa.sin_port = 0;
    salen = sizeof sa;
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(lfd, 4), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &salen), 0);
    snprintf(spec2, sizeof spec2, "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
    assert_int_equal(netprot_tls_parse(spec2, &t), 0);
    atomic_int cancel;
    atomic_init(&cancel, 1);
    netprot_tls_check(&t, NULL, 60000, &cancel, &o);
    assert_int_equal(o.result, NETPROT_TLS_UNREACHABLE);
    if (poll(&(struct pollfd){.fd = lfd, .events = POLLIN}, 1, 1000) == 1) { /* connected before the flag was seen */
        cfd = accept(lfd, NULL, NULL);
        assert_true(cfd >= 0);
        assert_int_equal(read(cfd, junk, sizeof junk), 0);
        close(cfd);
    }
    close(lfd);
}

static void test_peer(void **state)
{
    (void)state;
    const uint32_t self = 1000, grp = 4242;
    uint32_t groups[] = {27, 4242};
    struct netprot_peer root = {.known = true, .uid = 0, .gid = 0};
    struct netprot_peer me = {.known = true, .uid = 1000, .gid = 1000};
    struct netprot_peer other = {.known = true, .uid = 65534, .gid = 65534};
    struct netprot_peer primary = {.known = true, .uid = 1001, .gid = 4242};
    struct netprot_peer member = {.known = true, .uid = 1002, .gid = 1002, .groups = groups, .ngroups = 2};
    struct netprot_peer unknown = {.known = false, .uid = 0, .gid = 0};
    assert_true(netprot_peer_allowed(&root, self, NETPROT_NO_GROUP));
    assert_true(netprot_peer_allowed(&me, self, NETPROT_NO_GROUP));
    assert_false(netprot_peer_allowed(&other, self, NETPROT_NO_GROUP));
    assert_false(netprot_peer_allowed(&other, self, grp));
    assert_false(netprot_peer_allowed(&primary, self, NETPROT_NO_GROUP));
    assert_true(netprot_peer_allowed(&primary, self, grp));
    assert_false(netprot_peer_allowed(&member, self, NETPROT_NO_GROUP));
    assert_true(netprot_peer_allowed(&member, self, grp));
    member.ngroups = 1; /* only group 27 */
    assert_false(netprot_peer_allowed(&member, self, grp));
    assert_false(netprot_peer_allowed(&unknown, self, grp)); /* credentials not read: refused, even "uid 0" */
    assert_false(netprot_peer_allowed(NULL, self, grp));
    /* a daemon running as nobody: nobody may, root still may */
    assert_true(netprot_peer_allowed(&other, 65534, NETPROT_NO_GROUP));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thumbprints), cmocka_unit_test(test_load_and_allowlist),
        cmocka_unit_test(test_load_folder), cmocka_unit_test(test_nmcli),
        cmocka_unit_test(test_wifi_key),    cmocka_unit_test(test_tls_targets),
        cmocka_unit_test(test_peer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
