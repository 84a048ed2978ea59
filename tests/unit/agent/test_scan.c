/*
 * Unit tests of src/agent/scan.c: EICAR recognition (the 68-byte string at the
 * start, trailing whitespace up to 128 bytes), SHA-256/SHA-1/MD5, the folder
 * walk (no symlink followed, large files skipped, cache) and the verdict.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/indset.h"
#include "agent/scan.h"
#include "common/err.h"

/* Built at run time so that this source file is not itself the test string. */
static void eicar(char *out)
{
    snprintf(out, 69, "%s%s", "X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");
}

static void test_eicar(void **state)
{
    (void)state;
    char b[256];
    eicar(b);
    assert_int_equal(strlen(b), SCAN_EICAR_LEN);
    assert_true(scan_is_eicar(b, 68));
    memcpy(b + 68, "\r\n", 2);
    assert_true(scan_is_eicar(b, 70));
    memset(b + 68, ' ', 60);
    assert_true(scan_is_eicar(b, 128)); /* exactly 128 bytes */
    memset(b + 68, ' ', 61);
    assert_false(scan_is_eicar(b, 129)); /* over 128 */
    memcpy(b + 68, "\t\x1a\n", 3);
    assert_true(scan_is_eicar(b, 71));
    memcpy(b + 68, " x", 2);
    assert_false(scan_is_eicar(b, 70)); /* something else after it */
    assert_false(scan_is_eicar(b, 67)); /* truncated */
    char shifted[80] = " ";
    eicar(shifted + 1);
    assert_false(scan_is_eicar(shifted, 69)); /* not at the start */
    eicar(b);
    b[10] ^= 1;
    assert_false(scan_is_eicar(b, 68));
}

static void test_hashes(void **state)
{
    (void)state;
    struct scan_hashes h;
    assert_int_equal(scan_hash_mem("abc", 3, &h), 0);
    assert_string_equal(h.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_string_equal(h.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_string_equal(h.md5, "900150983cd24fb0d6963f7d28e17f72");
    assert_int_equal(scan_hash_mem("", 0, &h), 0);
    assert_string_equal(h.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_string_equal(h.md5, "d41d8cd98f00b204e9800998ecf8427e");
    /* the EICAR file's well-known SHA-256 */
    char b[80];
    eicar(b);
    assert_int_equal(scan_hash_mem(b, 68, &h), 0);
    assert_string_equal(h.sha256, "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f");
    assert_string_equal(h.md5, "44d88612fea8a8f36de82e1278abb02f");
    assert_string_equal(h.sha1, "3395856ce81f2b7382dee72602f798b642f14140");
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

struct seen {
    int files, eicars;
    char last_eicar[512];
};

static int visit(void *ud, const struct scan_file *f)
{
    struct seen *s = ud;
    s->files++;
    if (f->eicar) {
        s->eicars++;
        snprintf(s->last_eicar, sizeof s->last_eicar, "%s", f->path);
    }
    return 0;
}

static void test_walk(void **state)
{
    (void)state;
    char root[] = "/tmp/rg-agent-scan.XXXXXX", outside[] = "/tmp/rg-agent-out.XXXXXX";
    assert_non_null(mkdtemp(root));
    assert_non_null(mkdtemp(outside));
    char p[512], q[512], e[80];
    eicar(e);
    snprintf(p, sizeof p, "%s/sub/deeper", root);
    snprintf(q, sizeof q, "%s/sub", root);
    assert_int_equal(mkdir(q, 0755), 0);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/sub/deeper/eicar.com", root);
    write_file(p, e, 68);
    snprintf(p, sizeof p, "%s/clean.txt", root);
    write_file(p, "hello\n", 6);
    /* outside the tree, reached only through symlinks: never followed */
    snprintf(q, sizeof q, "%s/eicar.txt", outside);
    write_file(q, e, 68);
    snprintf(p, sizeof p, "%s/link-to-file", root);
    assert_int_equal(symlink(q, p), 0);
    snprintf(p, sizeof p, "%s/link-to-dir", root);
    assert_int_equal(symlink(outside, p), 0);
    /* a sparse file over the size limit is skipped without being read */
    snprintf(p, sizeof p, "%s/huge.bin", root);
    int fd = open(p, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)SCAN_MAX_FILE_BYTES + 1), 0);
    close(fd);

    struct scan_cache *cache = scan_cache_new();
    struct seen s = {0};
    struct scan_stats st = {0};
    scan_cache_begin(cache);
    assert_int_equal(scan_tree(root, cache, visit, &s, &st), 0);
    scan_cache_end(cache);
    assert_int_equal(s.files, 2);
    assert_int_equal(s.eicars, 1);
    snprintf(p, sizeof p, "%s/sub/deeper/eicar.com", root);
    assert_string_equal(s.last_eicar, p);
    assert_int_equal(st.files, 3);
    assert_int_equal(st.skipped, 1);
    assert_int_equal(st.hashed, 2);

    /* again: same answers from the cache, nothing hashed */
    memset(&s, 0, sizeof s);
    memset(&st, 0, sizeof st);
    scan_cache_begin(cache);
    assert_int_equal(scan_tree(root, cache, visit, &s, &st), 0);
    scan_cache_end(cache);
    assert_int_equal(s.eicars, 1);
    assert_int_equal(st.hashed, 0);

    /* the file changes: hashed again, no longer EICAR */
    write_file(s.last_eicar, "now clean, and longer than before.................................................", 80);
    memset(&s, 0, sizeof s);
    memset(&st, 0, sizeof st);
    scan_cache_begin(cache);
    assert_int_equal(scan_tree(root, cache, visit, &s, &st), 0);
    scan_cache_end(cache);
    assert_int_equal(s.eicars, 0);
    assert_int_equal(st.hashed, 1);

    assert_int_equal(scan_tree("/nonexistent-rg-agent", cache, visit, &s, NULL), RG_ENOTFOUND);
    scan_cache_free(cache);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", root, outside);
    assert_int_equal(system(cmd), 0);
}

static void test_verdict(void **state)
{
    (void)state;
    char e[80];
    eicar(e);
    struct scan_hashes eh, ch;
    scan_hash_mem(e, 68, &eh);
    scan_hash_mem("clean", 5, &ch);
    struct scan_verdict v;
    scan_verdict(NULL, &eh, true, &v);
    assert_true(v.threat);
    assert_string_equal(v.threat_name, "Test Virus");
    assert_false(v.matched);
    scan_verdict(NULL, &ch, false, &v);
    assert_false(v.threat);

    struct indset *s = indset_new();
    /* an MD5 Block on the clean file: reported with the indicator's title */
    assert_int_equal(
        indset_upsert(
            s,
            &(struct indicator){.id = 1, .type = IND_MD5, .value = ch.md5, .action = IND_BLOCK, .title = "Evil tool"}),
        0);
    scan_verdict(s, &ch, false, &v);
    assert_true(v.threat);
    assert_string_equal(v.threat_name, "Evil tool");
    /* same action class: the stronger hash decides (SHA-256 > SHA-1 > MD5) */
    assert_int_equal(indset_upsert(s, &(struct indicator){.id = 2,
                                                          .type = IND_SHA256,
                                                          .value = ch.sha256,
                                                          .action = IND_BLOCK,
                                                          .title = "Evil tool v2"}),
                     0);
    scan_verdict(s, &ch, false, &v);
    assert_true(v.threat);
    assert_true(v.matched);
    assert_int_equal(v.by.type, IND_SHA256);
    assert_string_equal(v.threat_name, "Evil tool v2");
    /* "blocked by a file indicator" comes before "allowed by an allow-file indicator" (reference §5):
     * a SHA-256 Allowed does not lift the MD5 Block */
    assert_int_equal(
        indset_upsert(s, &(struct indicator){.id = 2, .type = IND_SHA256, .value = ch.sha256, .action = IND_ALLOWED}),
        0);
    scan_verdict(s, &ch, false, &v);
    assert_true(v.threat);
    assert_int_equal(v.by.type, IND_MD5);
    assert_int_equal(indset_remove(s, 1), 0);
    scan_verdict(s, &ch, false, &v);
    assert_false(v.threat);
    assert_true(v.matched);
    /* Allowed suppresses the built-in EICAR detection too */
    assert_int_equal(
        indset_upsert(s, &(struct indicator){.id = 3, .type = IND_SHA1, .value = eh.sha1, .action = IND_ALLOWED}), 0);
    scan_verdict(s, &eh, true, &v);
    assert_false(v.threat);
    /* Audit and Warn are reported */
    assert_int_equal(
        indset_upsert(s, &(struct indicator){.id = 3, .type = IND_SHA1, .value = eh.sha1, .action = IND_AUDIT}), 0);
    scan_verdict(s, &eh, true, &v);
    assert_true(v.threat);
    assert_string_equal(v.threat_name, "Custom file indicator");
    indset_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eicar),
        cmocka_unit_test(test_hashes),
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_verdict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
