/* Unit tests of src/sdk/offline.c: the offline clock rules of the last ticket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sdk/sdk.h"

#define MIN (60 * 1000LL)
#define DAY (24 * 60 * MIN)
#define T0 1700000000000LL

static struct ticket ticket(rg_action a)
{
    struct ticket t;
    memset(&t, 0, sizeof t);
    t.action = a;
    t.issued_at = T0;
    t.offline_until = T0 + 720 * MIN; /* periodOfflineBeforeAccessCheck PT720M */
    t.wipe_at = T0 + 90 * DAY;        /* periodOfflineBeforeWipeIsEnforced P90D */
    return t;
}

static void test_allow_until_access_check(void **state)
{
    (void)state;
    struct ticket t = ticket(RG_ACTION_ALLOW);
    struct offline_verdict v = offline_decide(&t, T0);
    assert_int_equal(v.action, RG_ACTION_ALLOW);
    v = offline_decide(&t, T0 + 719 * MIN);
    assert_int_equal(v.action, RG_ACTION_ALLOW);
    assert_string_equal(v.reason, "offlineAllowed");
    v = offline_decide(&t, T0 + 720 * MIN); /* the period has run out: exactly at the limit */
    assert_int_equal(v.action, RG_ACTION_CONNECT);
    assert_string_equal(v.reason, "offline");
    v = offline_decide(&t, T0 + 30 * DAY);
    assert_int_equal(v.action, RG_ACTION_CONNECT);
}

static void test_warn_stays_warn(void **state)
{
    (void)state;
    struct ticket t = ticket(RG_ACTION_WARN);
    assert_int_equal(offline_decide(&t, T0 + MIN).action, RG_ACTION_WARN);
    assert_int_equal(offline_decide(&t, T0 + 721 * MIN).action, RG_ACTION_CONNECT);
}

static void test_wipe_after_period(void **state)
{
    (void)state;
    struct ticket t = ticket(RG_ACTION_ALLOW);
    assert_int_equal(offline_decide(&t, T0 + 90 * DAY - 1).action, RG_ACTION_CONNECT);
    struct offline_verdict v = offline_decide(&t, T0 + 90 * DAY);
    assert_int_equal(v.action, RG_ACTION_WIPE);
    assert_string_equal(v.reason, "offlineWipe");
    t = ticket(RG_ACTION_BLOCK);
    assert_int_equal(offline_decide(&t, T0 + 91 * DAY).action, RG_ACTION_WIPE);
}

static void test_block_stays_block(void **state)
{
    (void)state;
    struct ticket t = ticket(RG_ACTION_BLOCK);
    assert_int_equal(offline_decide(&t, T0 + MIN).action, RG_ACTION_BLOCK);
    assert_int_equal(offline_decide(&t, T0 + 721 * MIN).action, RG_ACTION_CONNECT);
    t = ticket(RG_ACTION_WIPE);
    assert_int_equal(offline_decide(&t, T0 + MIN).action, RG_ACTION_WIPE);
}

static void test_no_ticket_and_clock_rollback(void **state)
{
    (void)state;
    struct offline_verdict v = offline_decide(NULL, T0);
    assert_int_equal(v.action, RG_ACTION_CONNECT);
    assert_string_equal(v.reason, "offlineNoTicket");
    struct ticket t = ticket(RG_ACTION_ALLOW);
    /* a little skew is fine; a clock set back before the ticket was issued is not */
    assert_int_equal(offline_decide(&t, T0 - MIN).action, RG_ACTION_ALLOW);
    v = offline_decide(&t, T0 - DAY);
    assert_int_equal(v.action, RG_ACTION_CONNECT);
    assert_string_equal(v.reason, "clockChanged");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allow_until_access_check), cmocka_unit_test(test_warn_stays_warn),
        cmocka_unit_test(test_wipe_after_period),        cmocka_unit_test(test_block_stays_block),
        cmocka_unit_test(test_no_ticket_and_clock_rollback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
