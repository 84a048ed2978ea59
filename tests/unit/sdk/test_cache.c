/* Unit tests of src/sdk/cache.c: JSON round trip, folder 0700 and files 0600, missing and broken files. */
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

#include "common/err.h"
#include "sdk/sdk.h"

static char base[64];
static char dir[128];

static int setup(void **state)
{
    (void)state;
    snprintf(base, sizeof base, "/tmp/rg-sdk-cache.XXXXXX");
    if (!mkdtemp(base))
        return -1;
    snprintf(dir, sizeof dir, "%s/store", base);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[256];
    const char *names[] = {"registration.json", "checkin.json", "broken.json", "registration.json.tmp"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
    rmdir(base);
    return 0;
}

static void test_round_trip(void **state)
{
    (void)state;
    umask(022);
    assert_int_equal(cache_dir_ensure(dir), 0);
    struct stat sb;
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);

    json_t *reg = json_pack("{s:s, s:s, s:s, s:i}", "registrationId", "reg-1", "token", "rga_secret", "serverKey",
                            "AAAA", "n", 42);
    assert_int_equal(cache_write(dir, CACHE_REGISTRATION, reg), 0);
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, CACHE_REGISTRATION);
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    json_t *back = NULL;
    assert_int_equal(cache_read(dir, CACHE_REGISTRATION, &back), 0);
    assert_true(json_equal(reg, back));
    json_decref(back);

    /* overwrite: still 0600, new contents, no temporary left */
    json_object_set_new(reg, "n", json_integer(43));
    assert_int_equal(cache_write(dir, CACHE_REGISTRATION, reg), 0);
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(cache_read(dir, CACHE_REGISTRATION, &back), 0);
    assert_int_equal(json_integer_value(json_object_get(back, "n")), 43);
    json_decref(back);
    snprintf(p, sizeof p, "%s/%s.tmp", dir, CACHE_REGISTRATION);
    assert_int_not_equal(access(p, F_OK), 0);
    json_decref(reg);

    assert_int_equal(cache_remove(dir, CACHE_REGISTRATION), 0);
    assert_int_equal(cache_read(dir, CACHE_REGISTRATION, &back), RG_ENOTFOUND);
    assert_null(back);
    assert_int_equal(cache_remove(dir, CACHE_REGISTRATION), 0); /* already gone: fine */
}

static void test_tightens_folder(void **state)
{
    (void)state;
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(cache_dir_ensure(dir), 0);
    struct stat sb;
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    assert_int_equal(cache_dir_ensure(""), RG_EINVAL);
    char f[256];
    snprintf(f, sizeof f, "%s/checkin.json", dir); /* a file where a folder should be */
    FILE *fp = fopen(f, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(cache_dir_ensure(f), RG_EIO);
}

static void test_broken_file(void **state)
{
    (void)state;
    assert_int_equal(cache_dir_ensure(dir), 0);
    char p[256];
    snprintf(p, sizeof p, "%s/broken.json", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("{\"token\": \"rga_", f);
    fclose(f);
    json_t *v = NULL;
    assert_int_equal(cache_read(dir, "broken.json", &v), RG_EINVAL);
    assert_null(v);
    f = fopen(p, "w");
    fputs("[1,2]", f); /* JSON, but not an object */
    fclose(f);
    assert_int_equal(cache_read(dir, "broken.json", &v), RG_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tightens_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
