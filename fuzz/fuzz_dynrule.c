/*
 * fuzz_dynrule.c: libFuzzer target for the Entra ID dynamic-membership rule
 * parser, dynrule_parse (src/server/policy/dynrule.c), which reads a group's
 * membershipRule as an administrator (or a partner's tooling) sent it. The
 * input is the rule text (an inner NUL ends it, as in a C string). On
 * success the rule is matched against a few users (every property present,
 * none, odd types, a non-object), which exercises the compiled regular
 * expressions too.
 * Checks: a NULL out on error; the message starts "membershipRule: ", is
 * clean UTF-8 without control characters and fits DYNRULE_ERR_LEN; the same
 * message, truncated, with a small buffer; parsing is deterministic.
 */
#include <stdio.h>

#include <jansson.h>

#include "common/err.h"
#include "fuzz.h"
#include "server/policy/dynrule.h"

static const char users_json[] =
    "[{\"id\":\"u1\",\"displayName\":\"Ann Lee\",\"userPrincipalName\":\"ann@contoso.com\",\"mail\":\"ann@contoso.com\","
    "\"department\":\"Sales\",\"jobTitle\":\"Manager\",\"country\":\"US\",\"city\":\"Seattle\",\"accountEnabled\":true,"
    "\"otherMails\":[\"a@x.org\",\"ANN@y.org\"],\"proxyAddresses\":[\"SMTP:ann@contoso.com\",\"smtp:al@contoso.com\"],"
    "\"employeeId\":\"50001\",\"userType\":\"Member\",\"companyName\":\"\\u00c9t\\u00e9 \\u0416\"},"
    "{\"ID\":\"u2\",\"DEPARTMENT\":null,\"accountEnabled\":\"true\",\"otherMails\":\"lone@x.org\","
    "\"proxyAddresses\":[1,null,\"x\"],\"mail\":\"a\\u0000b\"},"
    "{},"
    "\"not an object\"]";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    char *rule = fuzz_strndup(data, size);
    json_t *users = json_loads(users_json, JSON_ALLOW_NUL, NULL);
    if (!rule || !users) {
        free(rule);
        json_decref(users);
        return 0;
    }
    struct dynrule *r = (struct dynrule *)&r;
    char err[DYNRULE_ERR_LEN];
    memset(err, 'x', sizeof err);
    int rc = dynrule_parse(rule, &r, err, sizeof err);
    if (rc) {
        FUZZ_CHECK(rc == RG_EINVAL || rc == RG_ENOMEM);
        FUZZ_CHECK(!r);
        FUZZ_CHECK(memchr(err, '\0', sizeof err));
        FUZZ_CHECK(!strncmp(err, "membershipRule: ", 16));
        FUZZ_CHECK(fuzz_clean_text(err));
        /* a short buffer gets a prefix of the same message, cut on a character boundary */
        char small[24];
        struct dynrule *r2 = NULL;
        FUZZ_CHECK(dynrule_parse(rule, &r2, small, sizeof small) == rc && !r2);
        FUZZ_CHECK(strlen(small) < sizeof small && !strncmp(small, err, strlen(small)));
        FUZZ_CHECK(fuzz_clean_text(small));
    } else {
        FUZZ_CHECK(r);
        size_t i;
        json_t *u;
        json_array_foreach(users, i, u)
        {
            bool m = dynrule_match(r, u);
            FUZZ_CHECK(m == dynrule_match(r, u));
        }
        (void)dynrule_match(r, NULL);
        dynrule_free(r);
    }
    json_decref(users);
    free(rule);
    return 0;
}
