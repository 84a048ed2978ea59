/* Unit tests of src/sdk/appconfig.c: the sets as delivered, and the any/and/or/min/max resolvers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "sdk/sdk.h"

/* Three sets (three app configuration policies) that disagree, as Intune allows. */
static const char CONFIGS[] =
    "[{\"id\":\"c1\",\"displayName\":\"Outlook base\",\"customSettings\":["
    "{\"name\":\"com.microsoft.outlook.Mail.FocusedInbox\",\"value\":\"true\"},"
    "{\"name\":\"maxAttachmentMB\",\"value\":\"25\"},{\"name\":\"ratio\",\"value\":\"0.5\"},"
    "{\"name\":\"signature\",\"value\":\"Sent from Contoso\"},{\"name\":\"onlyHere\",\"value\":\"x\"}]},"
    "{\"id\":\"c2\",\"displayName\":\"Outlook sales\",\"customSettings\":["
    "{\"name\":\"com.microsoft.outlook.Mail.FocusedInbox\",\"value\":\"FALSE\"},"
    "{\"name\":\"maxAttachmentMB\",\"value\":\"10\"},{\"name\":\"ratio\",\"value\":\"2.25\"},"
    "{\"name\":\"signature\",\"value\":\"Acme sales\"},{\"name\":\"junk\",\"value\":\"yes please\"}]},"
    "{\"id\":\"c3\",\"displayName\":\"Outlook pilot\",\"customSettings\":["
    "{\"name\":\"com.microsoft.outlook.Mail.FocusedInbox\",\"value\":\"1\"},"
    "{\"name\":\"maxAttachmentMB\",\"value\":\"not a number\"},{\"name\":\"ratio\",\"value\":\"-1e1\"},"
    "{\"name\":\"signature\",\"value\":\"Zed\"},{\"name\":\"junk\",\"value\":\"maybe\"}]}]";

static json_t *configs;

static int setup(void **state)
{
    (void)state;
    configs = json_loads(CONFIGS, 0, NULL);
    return configs ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(configs);
    return 0;
}

static void test_get_per_set(void **state)
{
    (void)state;
    const char *v;
    assert_int_equal(appcfg_get(configs, 0, "maxAttachmentMB", &v), 0);
    assert_string_equal(v, "25");
    assert_int_equal(appcfg_get(configs, 1, "maxAttachmentMB", &v), 0);
    assert_string_equal(v, "10");
    assert_int_equal(appcfg_get(configs, 1, "onlyHere", &v), RG_ENOTFOUND);
    assert_int_equal(appcfg_get(configs, 3, "onlyHere", &v), RG_EINVAL);
    json_t *full = appcfg_full(configs);
    assert_int_equal(json_array_size(full), 3);
    json_t *s2 = json_array_get(full, 1);
    assert_string_equal(json_string_value(json_object_get(s2, "id")), "c2");
    assert_string_equal(json_string_value(json_object_get(json_object_get(s2, "settings"), "signature")),
                        "Acme sales");
    json_decref(full);
}

static void test_bool(void **state)
{
    (void)state;
    const char *k = "com.microsoft.outlook.Mail.FocusedInbox";
    bool b = false;
    assert_int_equal(appcfg_bool(configs, k, RG_QUERY_ANY, &b), 0);
    assert_true(b); /* the first set's */
    assert_int_equal(appcfg_bool(configs, k, RG_QUERY_AND, &b), 0);
    assert_false(b); /* c2 says FALSE */
    assert_int_equal(appcfg_bool(configs, k, RG_QUERY_OR, &b), 0);
    assert_true(b);
    assert_int_equal(appcfg_bool(configs, "missing", RG_QUERY_OR, &b), RG_ENOTFOUND);
    assert_int_equal(appcfg_bool(configs, "junk", RG_QUERY_ANY, &b), APPCFG_ETYPE);
    assert_int_equal(appcfg_bool(configs, k, RG_QUERY_MIN, &b), RG_EINVAL);
    assert_int_equal(appcfg_bool(NULL, k, RG_QUERY_ANY, &b), RG_ENOTFOUND);
}

static void test_int(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(appcfg_int(configs, "maxAttachmentMB", RG_QUERY_ANY, &v), 0);
    assert_int_equal(v, 25);
    assert_int_equal(appcfg_int(configs, "maxAttachmentMB", RG_QUERY_MIN, &v), 0);
    assert_int_equal(v, 10);
    assert_int_equal(appcfg_int(configs, "maxAttachmentMB", RG_QUERY_MAX, &v), 0); /* "not a number" skipped */
    assert_int_equal(v, 25);
    assert_int_equal(appcfg_int(configs, "signature", RG_QUERY_MAX, &v), APPCFG_ETYPE);
    assert_int_equal(appcfg_int(configs, "maxAttachmentMB", RG_QUERY_AND, &v), RG_EINVAL);
    assert_int_equal(appcfg_int(configs, "ratio", RG_QUERY_ANY, &v), APPCFG_ETYPE); /* "0.5" is no integer */
}

static void test_double(void **state)
{
    (void)state;
    double d = 0;
    assert_int_equal(appcfg_double(configs, "ratio", RG_QUERY_ANY, &d), 0);
    assert_true(d == 0.5);
    assert_int_equal(appcfg_double(configs, "ratio", RG_QUERY_MIN, &d), 0);
    assert_true(d == -10.0);
    assert_int_equal(appcfg_double(configs, "ratio", RG_QUERY_MAX, &d), 0);
    assert_true(d == 2.25);
    assert_int_equal(appcfg_double(configs, "maxAttachmentMB", RG_QUERY_MAX, &d), 0);
    assert_true(d == 25.0);
    assert_int_equal(appcfg_double(configs, "ratio", RG_QUERY_OR, &d), RG_EINVAL);
}

static void test_string(void **state)
{
    (void)state;
    const char *s;
    assert_int_equal(appcfg_string(configs, "signature", RG_QUERY_ANY, &s), 0);
    assert_string_equal(s, "Sent from Contoso");
    assert_int_equal(appcfg_string(configs, "signature", RG_QUERY_MIN, &s), 0);
    assert_string_equal(s, "Acme sales"); /* alphabetical */
    assert_int_equal(appcfg_string(configs, "signature", RG_QUERY_MAX, &s), 0);
    assert_string_equal(s, "Zed");
    assert_int_equal(appcfg_string(configs, "junk", RG_QUERY_ANY, &s), 0);
    assert_string_equal(s, "yes please"); /* the first set that has it: c1 does not */
    assert_int_equal(appcfg_string(configs, "nope", RG_QUERY_ANY, &s), RG_ENOTFOUND);
    assert_int_equal(appcfg_string(configs, "signature", RG_QUERY_AND, &s), RG_EINVAL);
}

static void test_malformed_sets(void **state)
{
    (void)state;
    json_t *odd = json_loads("[{\"id\":\"x\"},7,{\"customSettings\":[{\"name\":\"k\"},{\"value\":\"v\"},"
                             "{\"name\":\"n\",\"value\":\"3\"}]}]",
                             0, NULL);
    assert_non_null(odd);
    int64_t v;
    assert_int_equal(appcfg_int(odd, "n", RG_QUERY_MAX, &v), 0);
    assert_int_equal(v, 3);
    const char *s;
    assert_int_equal(appcfg_string(odd, "k", RG_QUERY_ANY, &s), 0); /* a name without a value: "" */
    assert_string_equal(s, "");
    json_t *full = appcfg_full(odd);
    assert_int_equal(json_array_size(full), 3);
    json_decref(full);
    json_decref(odd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_per_set), cmocka_unit_test(test_bool),   cmocka_unit_test(test_int),
        cmocka_unit_test(test_double),      cmocka_unit_test(test_string), cmocka_unit_test(test_malformed_sets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
