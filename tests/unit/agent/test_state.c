/* Unit tests of src/agent/state.c: state.json round trip, mode 0600, missing and malformed files. */
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

#include "agent/state.h"
#include "common/err.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/rg-agent-state.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/state.json", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

static void test_round_trip(void **state)
{
    (void)state;
    struct agent_state st = AGENT_STATE_INIT;
    assert_false(state_activated(&st));
    assert_int_equal(state_set(&st.server, "http://127.0.0.1:8443"), 0);
    assert_int_equal(state_set(&st.tenant, "default"), 0);
    assert_int_equal(state_set(&st.tenant_id, "t-1"), 0);
    assert_int_equal(state_set(&st.user, "alice@contoso.com"), 0);
    assert_int_equal(state_set(&st.user_id, "u-1"), 0);
    assert_int_equal(state_set(&st.device_id, "d-1"), 0);
    assert_int_equal(state_set(&st.credential, "rgd_secret"), 0);
    assert_int_equal(state_set(&st.activated_at, "2026-01-01T00:00:00.0000000Z"), 0);
    st.vpn_skipped = true;
    assert_true(state_activated(&st));
    assert_int_equal(state_save(path, &st), 0);

    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    struct agent_state back = AGENT_STATE_INIT;
    assert_int_equal(state_load(path, &back), 0);
    assert_string_equal(back.server, st.server);
    assert_string_equal(back.tenant, "default");
    assert_string_equal(back.tenant_id, "t-1");
    assert_string_equal(back.user, "alice@contoso.com");
    assert_string_equal(back.user_id, "u-1");
    assert_string_equal(back.device_id, "d-1");
    assert_string_equal(back.credential, "rgd_secret");
    assert_string_equal(back.activated_at, st.activated_at);
    assert_true(back.vpn_skipped);
    assert_true(state_activated(&back));

    /* sign-out: the credential goes, the rest stays */
    assert_int_equal(state_set(&back.credential, NULL), 0);
    assert_int_equal(state_save(path, &back), 0);
    assert_int_equal(state_load(path, &st), 0);
    assert_null(st.credential);
    assert_string_equal(st.device_id, "d-1");
    assert_false(state_activated(&st));
    FILE *f = fopen(path, "r");
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_null(strstr(text, "rgd_secret"));
    assert_null(strstr(text, "credential"));

    state_release(&st);
    state_release(&back);
    state_release(&back); /* twice is fine */
}

static void test_missing_and_bad(void **state)
{
    (void)state;
    struct agent_state st = AGENT_STATE_INIT;
    unlink(path);
    assert_int_equal(state_load(path, &st), RG_ENOTFOUND);
    FILE *f = fopen(path, "w");
    fputs("[1, 2", f);
    fclose(f);
    assert_int_equal(state_load(path, &st), RG_EINVAL);
    f = fopen(path, "w");
    fputs("[1, 2]", f);
    fclose(f);
    assert_int_equal(state_load(path, &st), RG_EINVAL);
    f = fopen(path, "w");
    fputs("{\"deviceId\": 5, \"server\": \"http://x\"}", f);
    fclose(f);
    assert_int_equal(state_load(path, &st), 0);
    assert_null(st.device_id);
    assert_string_equal(st.server, "http://x");
    assert_false(state_activated(&st));
    state_release(&st);
    /* a save over a world-readable file leaves it 0600 */
    chmod(path, 0644);
    assert_int_equal(state_save(path, &st), 0);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    /* a folder that does not exist */
    assert_int_equal(state_save("/nonexistent-rg/state.json", &st), RG_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_and_bad, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
