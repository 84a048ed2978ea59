/*
 * The DNS filter's fuzz target (fuzz/fuzz_dns.c) under gcc: its
 * LLVMFuzzerTestOneInput over every file of fuzz/corpus/fuzz_dns (truncated,
 * bad label lengths, a compression loop, oversized, valid queries...) and
 * over 4000 random mutations of them from a fixed seed. The target traps on
 * a broken promise, so this test fails by crashing (and under ASan/UBSan on
 * any memory error).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXF 64
static uint8_t *files[MAXF];
static size_t sizes[MAXF];
static int nfiles;

static uint64_t rng = 0x9e3779b97f4a7c15ull; /* fixed seed: the same mutations every run */
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static void load_corpus(void)
{
    const char *dir = RG_FUZZ_CORPUS;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) && nfiles < MAXF) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        uint8_t *buf = malloc(8192);
        size_t n = fread(buf, 1, 8192, f);
        fclose(f);
        files[nfiles] = buf;
        sizes[nfiles++] = n;
    }
    closedir(d);
}

static void test_corpus(void **state)
{
    (void)state;
    load_corpus();
    assert_true(nfiles >= 15);
    for (int i = 0; i < nfiles; i++)
        LLVMFuzzerTestOneInput(files[i], sizes[i]);
}

static void test_mutations(void **state)
{
    (void)state;
    uint8_t buf[8192 + 64];
    for (int round = 0; round < 4000; round++) {
        int k = (int)(next_rand() % (uint32_t)nfiles);
        size_t n = sizes[k] > 600 ? 600 : sizes[k];
        memcpy(buf, files[k], n);
        int edits = 1 + (int)(next_rand() % 4);
        for (int e = 0; e < edits; e++) {
            uint32_t r = next_rand();
            switch (r % 5) {
            case 0: /* flip a bit */
                if (n)
                    buf[next_rand() % n] ^= (uint8_t)(1u << (r >> 8) % 8);
                break;
            case 1: /* a random byte */
                if (n)
                    buf[next_rand() % n] = (uint8_t)(r >> 8);
                break;
            case 2: /* truncate */
                if (n)
                    n = next_rand() % n;
                break;
            case 3: /* a compression pointer somewhere */
                if (n > 13) {
                    size_t at = 12 + next_rand() % (n - 13);
                    buf[at] = (uint8_t)(0xc0 | ((r >> 8) & 0x3f));
                    buf[at + 1] = (uint8_t)(r >> 16);
                }
                break;
            default: /* append junk */
                for (int j = 0; j < 8 && n < sizeof buf; j++)
                    buf[n++] = (uint8_t)next_rand();
            }
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    for (int i = 0; i < nfiles; i++)
        free(files[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
