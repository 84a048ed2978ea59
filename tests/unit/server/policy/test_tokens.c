/*
 * test_tokens.c: unit tests of server/policy/tokens.c: every known token,
 * case-insensitive names, unknown tokens and stray braces left alone, empty
 * values for what the user lacks, no second pass over substituted text, the
 * size cap, and tokens_apply over a check-in's appConfigurations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/err.h"
#include "server/policy/tokens.h"

static const struct tokens_ctx john = {
    .upn = "John@contoso.com",
    .mail = "john.doe@contoso.com",
    .display_name = "John Doe",
    .user_id = "3ec2c00f-b125-4519-acf0-302ac3761822",
    .account_id = "fc0dc142-71d8-4b12-bbea-bae2a8514c81",
    .device_id = "b9841cd9-9843-405f-be28-b2265c59ef97",
};

/* tokens_expand into a fresh buffer; asserts success and compares. */
static void expect(const char *in, const struct tokens_ctx *ctx, const char *want)
{
    struct buf b = BUF_INIT(TOKENS_VALUE_MAX);
    assert_int_equal(tokens_expand(in, ctx, &b), 0);
    assert_string_equal(buf_str(&b), want);
    buf_release(&b);
}

static void test_each_token(void **state)
{
    (void)state;
    expect("{{userprincipalname}}", &john, "John@contoso.com");
    expect("{{mail}}", &john, "john.doe@contoso.com");
    expect("{{partialupn}}", &john, "John");
    expect("{{accountid}}", &john, "fc0dc142-71d8-4b12-bbea-bae2a8514c81");
    expect("{{userid}}", &john, "3ec2c00f-b125-4519-acf0-302ac3761822");
    expect("{{username}}", &john, "John Doe");
    expect("{{PrimarySMTPAddress}}", &john, "john.doe@contoso.com");
    expect("{{deviceid}}", &john, "b9841cd9-9843-405f-be28-b2265c59ef97");
}

static void test_case_insensitive(void **state)
{
    (void)state;
    expect("{{UserPrincipalName}}", &john, "John@contoso.com");
    expect("{{MAIL}}", &john, "john.doe@contoso.com");
    expect("{{primarysmtpaddress}}", &john, "john.doe@contoso.com");
    expect("{{PartialUPN}}", &john, "John");
    expect("{{DeviceId}}", &john, "b9841cd9-9843-405f-be28-b2265c59ef97");
}

static void test_in_text(void **state)
{
    (void)state;
    expect("", &john, "");
    expect("no tokens here", &john, "no tokens here");
    expect("https://mail.example/{{partialupn}}/inbox?u={{userid}}", &john,
           "https://mail.example/John/inbox?u=3ec2c00f-b125-4519-acf0-302ac3761822");
    expect("{{mail}}{{mail}}", &john, "john.doe@contoso.com""john.doe@contoso.com");
    expect("a{{username}}b", &john, "aJohn Doeb");
}

static void test_unknown_left_alone(void **state)
{
    (void)state;
    expect("{{foo}}", &john, "{{foo}}");
    expect("x={{foo}} y={{mail}}", &john, "x={{foo}} y=john.doe@contoso.com");
    expect("{{ mail }}", &john, "{{ mail }}");
    expect("{{}}", &john, "{{}}");
    expect("{{mail", &john, "{{mail");
    expect("mail}}", &john, "mail}}");
    expect("{mail}", &john, "{mail}");
    expect("{{{mail}}}", &john, "{john.doe@contoso.com}");
    expect("{{serialnumber}}", &john, "{{serialnumber}}"); /* MDM-only: not ours */
    expect("{{mailx}}", &john, "{{mailx}}");
    expect("{{primarysmtpaddressx}}", &john, "{{primarysmtpaddressx}}");
    assert_int_equal(tokens_present("{{foo}} {{ mail }}"), 0);
    assert_int_equal(tokens_present(NULL), 0);
    assert_int_equal(tokens_present("x{{Mail}}"), 1);
}

static void test_missing_values_empty(void **state)
{
    (void)state;
    const struct tokens_ctx none = {0};
    expect("[{{mail}}][{{PrimarySMTPAddress}}][{{deviceid}}][{{partialupn}}][{{username}}]", &none, "[][][][][]");
    const struct tokens_ctx noat = {.upn = "john"};
    expect("{{partialupn}}", &noat, "john");
    const struct tokens_ctx two = {.upn = "a@b@contoso.com"};
    expect("{{partialupn}}", &two, "a@b");
}

static void test_no_recursion(void **state)
{
    (void)state;
    const struct tokens_ctx evil = {.upn = "{{mail}}@contoso.com", .mail = "m@contoso.com",
                                    .display_name = "{{userprincipalname}}", .user_id = "{{"};
    expect("{{userprincipalname}}", &evil, "{{mail}}@contoso.com");
    expect("{{username}}", &evil, "{{userprincipalname}}");
    expect("{{partialupn}}", &evil, "{{mail}}");
    /* a value ending in "{{" does not join the following text into a token */
    expect("{{userid}}mail}}", &evil, "{{mail}}");
}

static void test_cap(void **state)
{
    (void)state;
    struct buf b = BUF_INIT(16);
    assert_int_equal(tokens_expand("ab{{mail}}", &john, &b), RG_ETOOBIG);
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_puts(&b, "keep"), 0);
    assert_int_equal(tokens_expand("{{userprincipalname}}", &john, &b), RG_ETOOBIG);
    assert_string_equal(buf_str(&b), "keep");
    assert_int_equal(tokens_expand("{{partialupn}}", &john, &b), 0);
    assert_string_equal(buf_str(&b), "keepJohn");
    buf_release(&b);
}

static void test_apply(void **state)
{
    (void)state;
    json_t *in = json_loads("[{\"id\":\"A_1\",\"displayName\":\"{{mail}}\",\"customSettings\":["
                            "{\"name\":\"{{userid}}\",\"value\":\"{{partialupn}}\"},"
                            "{\"name\":\"plain\",\"value\":\"x\"},{\"name\":\"odd\",\"value\":\"{{foo}}\"}]},"
                            "{\"id\":\"A_2\",\"displayName\":\"n\",\"customSettings\":["
                            "{\"name\":\"k\",\"value\":\"v\"}]}]",
                            0, NULL);
    assert_non_null(in);
    char *before = json_dumps(in, JSON_COMPACT);
    json_t *out = NULL;
    assert_int_equal(tokens_apply(in, &john, &out), 0);
    char *got = json_dumps(out, JSON_COMPACT);
    assert_string_equal(got, "[{\"id\":\"A_1\",\"displayName\":\"{{mail}}\",\"customSettings\":["
                             "{\"name\":\"{{userid}}\",\"value\":\"John\"},"
                             "{\"name\":\"plain\",\"value\":\"x\"},{\"name\":\"odd\",\"value\":\"{{foo}}\"}]},"
                             "{\"id\":\"A_2\",\"displayName\":\"n\",\"customSettings\":["
                             "{\"name\":\"k\",\"value\":\"v\"}]}]");
    /* the input is untouched, and a set without tokens is shared, not copied */
    char *after = json_dumps(in, JSON_COMPACT);
    assert_string_equal(before, after);
    assert_ptr_equal(json_array_get(out, 1), json_array_get(in, 1));
    assert_int_equal(tokens_in_configs(in), 1);
    assert_int_equal(tokens_in_configs(out), 0); /* {{foo}} is not a token */
    assert_int_equal(tokens_in_configs(NULL), 0);
    free(before);
    free(after);
    free(got);
    json_decref(out);
    assert_int_equal(tokens_apply(NULL, &john, &out), 0);
    assert_int_equal(json_array_size(out), 0);
    json_decref(out);
    json_decref(in);
}

static void test_apply_too_long_raw(void **state)
{
    (void)state;
    /* 10,000 {{userprincipalname}} tokens expand past TOKENS_VALUE_MAX: the value is delivered raw */
    size_t n = 10000, tl = strlen("{{userprincipalname}}");
    char *v = malloc(n * tl + 1);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        memcpy(v + i * tl, "{{userprincipalname}}", tl);
    v[n * tl] = '\0';
    json_t *in = json_pack("[{s:s,s:[{s:s,s:s}]}]", "id", "A_1", "customSettings", "name", "k", "value", v);
    json_t *out = NULL;
    assert_int_equal(tokens_apply(in, &john, &out), 0);
    const char *got = json_string_value(
        json_object_get(json_array_get(json_object_get(json_array_get(out, 0), "customSettings"), 0), "value"));
    assert_string_equal(got, v);
    json_decref(out);
    json_decref(in);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_token),        cmocka_unit_test(test_case_insensitive),
        cmocka_unit_test(test_in_text),           cmocka_unit_test(test_unknown_left_alone),
        cmocka_unit_test(test_missing_values_empty), cmocka_unit_test(test_no_recursion),
        cmocka_unit_test(test_cap),               cmocka_unit_test(test_apply),
        cmocka_unit_test(test_apply_too_long_raw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
