/* Unit tests of src/agent/config.c: key table, 0/1 and true/false parsing, defaults, web protection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/config.h"
#include "common/err.h"

static void test_bool_parse(void **state)
{
    (void)state;
    bool b = false;
    assert_int_equal(config_bool_parse("1", &b), 0);
    assert_true(b);
    assert_int_equal(config_bool_parse("0", &b), 0);
    assert_false(b);
    assert_int_equal(config_bool_parse("true", &b), 0);
    assert_true(b);
    assert_int_equal(config_bool_parse("TRUE", &b), 0);
    assert_true(b);
    assert_int_equal(config_bool_parse("False", &b), 0);
    assert_false(b);
    assert_int_equal(config_bool_parse("  1 ", &b), 0);
    assert_true(b);
    assert_int_equal(config_bool_parse("yes", &b), RG_EINVAL);
    assert_int_equal(config_bool_parse("2", &b), RG_EINVAL);
    assert_int_equal(config_bool_parse("", &b), RG_EINVAL);
    assert_int_equal(config_bool_parse("10", &b), RG_EINVAL);
    assert_int_equal(config_bool_parse("truex", &b), RG_EINVAL);
    assert_int_equal(config_bool_parse(NULL, &b), RG_EINVAL);
}

static void test_int_parse(void **state)
{
    (void)state;
    long v = -1;
    assert_int_equal(config_int_parse("2", &v), 0);
    assert_int_equal(v, 2);
    assert_int_equal(config_int_parse(" 0 ", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(config_int_parse("true", &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(config_int_parse("1x", &v), RG_EINVAL);
    assert_int_equal(config_int_parse("", &v), RG_EINVAL);
}

static void test_settings_values(void **state)
{
    (void)state;
    json_t *s = json_pack("{s:s, s:s, s:s, s:s, s:b, s:i, s:s, s:s}", "DefenderExcludeAppInReport", "true",
                          "DefenderExcludeURLInReport", "1", "DisableSignOut", "false", "DefenderOptionalVPN", "0",
                          "antiphishing", 0, "vpn", 1, "DefenderCertificateDetection", "2",
                          "DefenderOpenNetworkDetection", "garbage");
    assert_non_null(s);
    assert_true(config_bool(s, "DefenderExcludeAppInReport"));
    assert_true(config_bool(s, "DefenderExcludeURLInReport"));
    assert_false(config_bool(s, "DisableSignOut"));
    assert_false(config_bool(s, "DefenderOptionalVPN"));
    assert_false(config_bool(s, "antiphishing")); /* JSON false */
    assert_true(config_bool(s, "vpn"));           /* JSON 1 */
    assert_int_equal(config_int(s, "DefenderCertificateDetection"), 2);
    assert_int_equal(config_int(s, "DefenderOpenNetworkDetection"), 0); /* unreadable: default 0 */
    json_decref(s);
}

static void test_defaults(void **state)
{
    (void)state;
    /* the defaults written in docs/agent.md */
    assert_true(config_bool(NULL, "antiphishing"));
    assert_true(config_bool(NULL, "vpn"));
    assert_false(config_bool(NULL, "DefenderExcludeAppInReport"));
    assert_false(config_bool(NULL, "DefenderExcludeURLInReport"));
    assert_false(config_bool(NULL, "DefenderOptionalVPN"));
    assert_false(config_bool(NULL, "DisableSignOut"));
    assert_false(config_bool(NULL, "DefenderNetworkProtectionEnable"));
    assert_true(config_bool(NULL, "DefenderNetworkProtectionPrivacy"));
    assert_int_equal(config_int(NULL, "DefenderCertificateDetection"), 1);
    assert_int_equal(config_int(NULL, "DefenderOpenNetworkDetection"), 0);
    assert_null(config_string(NULL, "DefenderDeviceTag"));
    assert_false(config_bool(NULL, "NoSuchKey"));
    assert_non_null(config_key_find("DefenderOptionalVPN"));
    assert_null(config_key_find("defenderoptionalvpn")); /* key names are exact */
    size_t n = 0;
    for (const struct config_key *k = config_keys(); k->name; k++)
        n++;
    assert_true(n >= 17);
    json_t *s = json_pack("{s:s}", "DefenderDeviceTag", "sales");
    assert_string_equal(config_string(s, "DefenderDeviceTag"), "sales");
    json_decref(s);
}

static enum config_web web(const char *ap, const char *vpn, bool skipped)
{
    json_t *s = json_pack("{s:s, s:s}", "antiphishing", ap, "vpn", vpn);
    const char *why = NULL;
    enum config_web w = config_web_protection(s, skipped, &why);
    assert_non_null(why);
    json_decref(s);
    return w;
}

static void test_web_protection(void **state)
{
    (void)state;
    assert_int_equal(web("1", "1", false), CONFIG_WEB_ON);
    assert_int_equal(web("true", "true", false), CONFIG_WEB_ON);
    assert_int_equal(web("0", "0", false), CONFIG_WEB_OFF);
    assert_int_equal(web("false", "0", true), CONFIG_WEB_OFF);
    assert_int_equal(web("1", "0", false), CONFIG_WEB_ON); /* without the VPN */
    assert_int_equal(web("1", "0", true), CONFIG_WEB_ON);  /* no VPN to skip */
    assert_int_equal(web("1", "1", true), CONFIG_WEB_PARTIAL);
    assert_int_equal(web("0", "1", false), CONFIG_WEB_PARTIAL);
    assert_int_equal(web("0", "1", true), CONFIG_WEB_OFF);
    assert_int_equal(config_web_protection(NULL, false, NULL), CONFIG_WEB_ON); /* defaults 1/1 */
    assert_string_equal(config_web_name(CONFIG_WEB_PARTIAL), "partial");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bool_parse),      cmocka_unit_test(test_int_parse),
        cmocka_unit_test(test_settings_values), cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_web_protection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
