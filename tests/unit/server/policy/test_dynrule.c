/*
 * test_dynrule.c: unit tests of server/policy/dynrule.c: every operator both
 * ways, case-insensitivity (operators, properties, keys, values), precedence
 * and parentheses, -not, lists, regular expressions, -any/-all, null and
 * boolean semantics, Microsoft's documented examples, and the errors: their
 * columns, the limits, and messages that stay valid UTF-8 whatever the rule.
 *
 * Users are JSON written with ' for ", U("{'department':'Sales'}").
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/err.h"
#include "server/policy/dynrule.h"

/* ---- helpers ---- */

/* Parses a JSON literal written with ' for ". */
static json_t *U(const char *text)
{
    size_t n = strlen(text);
    char *s = malloc(n + 1);
    assert_non_null(s);
    for (size_t i = 0; i <= n; i++)
        s[i] = text[i] == '\'' ? '"' : text[i];
    json_error_t jerr;
    json_t *v = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!v)
        fail_msg("bad JSON literal (%s): %s", jerr.text, s);
    free(s);
    return v;
}

static struct dynrule *P(const char *rule)
{
    char err[DYNRULE_ERR_LEN];
    struct dynrule *r = NULL;
    int rc = dynrule_parse(rule, &r, err, sizeof err);
    if (rc != 0)
        fail_msg("expected rule to parse: %s\n  got %d: %s", rule, rc, err);
    assert_non_null(r);
    return r;
}

/* Whether the user (JSON with ') satisfies the rule. */
static bool M(const char *rule, const char *user)
{
    struct dynrule *r = P(rule);
    json_t *u = U(user);
    bool m = dynrule_match(r, u);
    json_decref(u);
    dynrule_free(r);
    return m;
}

#define YES(rule, user)                                                                                                \
    do {                                                                                                               \
        if (!M(rule, user))                                                                                            \
            fail_msg("expected %s to match %s", rule, user);                                                           \
    } while (0)
#define NO(rule, user)                                                                                                 \
    do {                                                                                                               \
        if (M(rule, user))                                                                                             \
            fail_msg("expected %s not to match %s", rule, user);                                                       \
    } while (0)

/* Valid UTF-8 without control characters (C0, DEL, C1). */
static bool clean_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n;
        uint32_t cp;
        if (c < 0x20 || c == 0x7F)
            return false;
        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (size_t k = 1; k <= n; k++) {
            if ((p[k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp < 0xE000) ||
            (cp >= 0x80 && cp < 0xA0))
            return false;
        p += n + 1;
    }
    return true;
}

/*
 * rule must fail with RG_EINVAL and a message that starts "membershipRule: ",
 * contains want, ends " at column <col>" (col 0: no column), and is clean UTF-8.
 */
static void expect_error(const char *rule, const char *want, int col)
{
    char err[DYNRULE_ERR_LEN];
    struct dynrule *r = (struct dynrule *)err; /* must come back NULL */
    int rc = dynrule_parse(rule, &r, err, sizeof err);
    if (rc != RG_EINVAL)
        fail_msg("expected %s to fail, got %d", rule, rc);
    assert_null(r);
    if (strncmp(err, "membershipRule: ", 16) != 0)
        fail_msg("%s: message lacks the prefix: %s", rule, err);
    if (!strstr(err, want))
        fail_msg("%s: message '%s' lacks '%s'", rule, err, want);
    if (!clean_utf8(err))
        fail_msg("%s: message is not clean UTF-8", rule);
    char tail[48];
    snprintf(tail, sizeof tail, " at column %d", col);
    size_t n = strlen(err), t = strlen(tail);
    if (col > 0 && (n < t || strcmp(err + n - t, tail) != 0))
        fail_msg("%s: message '%s' does not end with '%s'", rule, err, tail);
    if (col == 0 && strstr(err, " at column "))
        fail_msg("%s: message '%s' has a column", rule, err);
}

static char *repeat(const char *prefix, const char *unit, size_t n, const char *suffix);

/* ---- the property table ---- */

static void test_property_table(void **state)
{
    (void)state;
    size_t n = 0;
    const struct dynrule_property *p = dynrule_user_properties(&n);
    assert_non_null(p);
    assert_int_equal(n, 30);
    bool seen_id = false, seen_bool = false;
    int sets = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcasecmp(p[i - 1].name, p[i].name) >= 0)
            fail_msg("table not sorted at %s", p[i].name);
        char rule[128];
        snprintf(rule, sizeof rule, "user.%s -eq null", p[i].name);
        dynrule_free(P(rule));
        if (strcmp(p[i].name, "objectId") == 0) {
            assert_string_equal(p[i].key, "id");
            seen_id = true;
        } else if (!strcmp(p[i].name, "mobile")) { /* the rule's names where Graph's user keys differ */
            assert_string_equal(p[i].key, "mobilePhone");
        } else if (!strcmp(p[i].name, "physicalDeliveryOfficeName")) {
            assert_string_equal(p[i].key, "officeLocation");
        } else if (!strcmp(p[i].name, "facsimileTelephoneNumber")) {
            assert_string_equal(p[i].key, "faxNumber");
        } else {
            assert_string_equal(p[i].key, p[i].name);
        }
        if (p[i].type == DYNRULE_T_BOOL) {
            assert_string_equal(p[i].name, "accountEnabled");
            seen_bool = true;
        }
        if (p[i].type == DYNRULE_T_STRING_SET)
            sets++;
    }
    assert_true(seen_id && seen_bool);
    assert_int_equal(sets, 2);
    assert_non_null(dynrule_user_properties(NULL));
}

/* ---- operators ---- */

static void test_eq_ne(void **state)
{
    (void)state;
    const char *u = "{'department':'Sales','city':'Lagos'}";
    YES("user.department -eq \"Sales\"", u);
    NO("user.department -eq \"Sale\"", u);
    NO("user.department -eq \"Sales \"", u);
    YES("user.department -ne \"Marketing\"", u);
    NO("user.department -ne \"Sales\"", u);
    YES("user.city -eq \"Lagos\"", u);
    YES("user.objectId -eq \"aaaaaaaa-0000-1111-2222-bbbbbbbbbbbb\"", "{'id':'AAAAAAAA-0000-1111-2222-bbbbbbbbbbbb'}");
    NO("user.objectId -eq \"aaaaaaaa-0000-1111-2222-bbbbbbbbbbbb\"",
       "{'objectId':'aaaaaaaa-0000-1111-2222-bbbbbbbbbbbb'}");
    YES("user.employeeId -eq 50001", "{'employeeId':'50001'}"); /* bare numbers are values */
    YES("user.department -eq \"\"", "{'department':''}");
    NO("user.department -eq \"\"", "{'department':'x'}");
}

static void test_starts_ends(void **state)
{
    (void)state;
    const char *u = "{'jobTitle':'SDE II','mail':'ada@Contoso.com'}";
    YES("user.jobTitle -startsWith \"SDE\"", u);
    NO("user.jobTitle -startsWith \"DE\"", u);
    YES("user.jobTitle -notStartsWith \"PM\"", u);
    NO("user.jobTitle -notStartsWith \"sde\"", u);
    YES("user.mail -endsWith \"@contoso.com\"", u);
    NO("user.mail -endsWith \"@contoso.co\"", u);
    NO("user.mail -endsWith \"xada@contoso.com\"", u);
    YES("user.mail -notEndsWith \"@outlook.com\"", u);
    NO("user.mail -notEndsWith \"CONTOSO.COM\"", u);
    YES("user.jobTitle -startsWith \"\"", u);
    YES("user.jobTitle -startsWith \"SDE II\"", u);
    NO("user.jobTitle -startsWith \"SDE III\"", u);
}

static void test_contains(void **state)
{
    (void)state;
    const char *u = "{'displayName':'Ada Lovelace'}";
    YES("user.displayName -contains \"love\"", u);
    YES("user.displayName -contains \"Ada\"", u);
    YES("user.displayName -contains \"lace\"", u);
    NO("user.displayName -contains \"babbage\"", u);
    YES("user.displayName -notContains \"babbage\"", u);
    NO("user.displayName -notContains \"LOVE\"", u);
    NO("user.displayName -contains \"Ada Lovelace!\"", u);
}

static void test_match(void **state)
{
    (void)state;
    /* Microsoft's examples: "^Da.*" and ".*vid". */
    YES("user.displayName -match \"^Da.*\"", "{'displayName':'Da'}");
    YES("user.displayName -match \"^Da.*\"", "{'displayName':'David'}");
    NO("user.displayName -match \"^Da.*\"", "{'displayName':'aDa'}");
    YES("user.displayName -match \".*vid\"", "{'displayName':'David'}");
    NO("user.displayName -match \".*vid\"", "{'displayName':'Da'}");
    YES("user.city -match \"ago\"", "{'city':'Lagos'}"); /* unanchored: anywhere */
    YES("user.city -match \".*?ago.*\"", "{'city':'Lagos'}");
    YES("user.city -match \"^LAGOS$\"", "{'city':'lagos'}"); /* ignores case */
    NO("user.city -match \"^Lago$\"", "{'city':'Lagos'}");
    YES("user.city -notMatch \"^Ab\"", "{'city':'Lagos'}");
    NO("user.city -notMatch \"^la\"", "{'city':'Lagos'}");
    /* .NET's \d and \D outside brackets; [[:digit:]] as POSIX has it. */
    YES("user.postalCode -match \"^\\d{5}$\"", "{'postalCode':'12345'}");
    NO("user.postalCode -match \"^\\d{5}$\"", "{'postalCode':'1234a'}");
    YES("user.postalCode -match \"^\\D+$\"", "{'postalCode':'abc'}");
    YES("user.postalCode -match \"^[[:digit:]]{3}[\\d]$\"", "{'postalCode':'123d'}");
    YES("user.mail -match \"^[a-z]+@(contoso|fabrikam)\\.com$\"", "{'mail':'ada@Fabrikam.com'}");
    /* An embedded NUL never matches. */
    NO("user.city -match \"^Lagos\"", "{'city':'Lagos\\u0000x'}");
    YES("user.city -notMatch \"^Lagos\"", "{'city':'Lagos\\u0000x'}");
}

static void test_in_notin(void **state)
{
    (void)state;
    const char *u = "{'department':'50002','city':'Port Harcourt'}";
    YES("user.department -in [\"50001\",\"50002\",\"50003\"]", u);
    NO("user.department -in [\"50001\",\"50003\"]", u);
    YES("user.department -notIn [\"50001\",\"50003\"]", u);
    NO("user.department -notIn [\"50001\", \"50002\"]", u);
    YES("user.department -in [50001, 50002]", u);
    YES("user.city -in [ \"Lagos\" , \"port harcourt\" ]", u);
    YES("user.city -in ['Lagos','Port Harcourt']", u);
    YES("user.city -in [\"Port Harcourt\"]", u);
    NO("user.city -in [\"Port\"]", u);
    YES("user.department -eq \"Accounts\" -and user.city -in [\"Lagos\", \"Ibadan\"]",
        "{'department':'Accounts','city':'Ibadan'}");
    YES("user.city -notin [\"Lagos\", \"Ibadan\", \"Kaduna\", \"Abuja\", \"Port Harcourt\"]", "{'city':'Kano'}");
}

static void test_case_insensitivity(void **state)
{
    (void)state;
    const char *u = "{'department':'Sales','accountEnabled':true}";
    YES("user.department -EQ \"Sales\"", u);
    YES("user.department -Eq \"SALES\"", u);
    YES("USER.DEPARTMENT -eq \"sales\"", u);
    YES("User.Department -StartsWith \"SA\"", u);
    YES("user.department -NOTIN [\"x\"]", u);
    YES("user.accountenabled -eq TRUE", u);
    YES("user.department -eq \"Sales\" -AND user.department -Ne \"x\" -Or user.city -eq \"y\"", u);
    /* Keys in any case; the key with the exact casing wins. */
    YES("user.department -eq \"Sales\"", "{'Department':'Sales'}");
    YES("user.department -eq \"Sales\"", "{'DEPARTMENT':'Sales'}");
    YES("user.department -eq \"Sales\"", "{'DEPARTMENT':'Other','department':'Sales'}");
    YES("user.objectId -eq \"x\"", "{'ID':'x'}");
    YES("user.mailNickName -eq \"ada\"", "{'mailNickname':'ada'}");
    /* Non-ASCII letters fold too. */
    YES("user.surname -eq \"MÜLLER\"", "{'surname':'müller'}");
    YES("user.surname -eq \"müller\"", "{'surname':'MÜLLER'}");
    YES("user.city -eq \"ŁÓDŹ\"", "{'city':'łódź'}");
    YES("user.city -startsWith \"мос\"", "{'city':'Москва'}");
    YES("user.city -endsWith \"ΛΑΣ\"", "{'city':'\xCE\xB5\xCE\xBB\xCE\xBB\xCE\xB1\xCF\x82'}"); /* final sigma */
    YES("user.city -contains \"ÜRI\"", "{'city':'Zürich'}");
    NO("user.city -eq \"Zurich\"", "{'city':'Zürich'}");
    YES("user.city -in [\"ZÜRICH\"]", "{'city':'zürich'}");
}

static void test_dashes(void **state)
{
    (void)state;
    const char *u = "{'department':'Sales','mail':'a@b.c'}";
    /* Operators and logical words without the dash, as Entra accepts. */
    YES("user.department eq \"Sales\"", u);
    YES("user.department startsWith \"S\" and user.mail ne null", u);
    YES("not user.department eq \"x\"", u);
    YES("user.department in [\"Sales\"] or user.city eq \"x\"", u);
    /* U+2013, as in Microsoft's own examples (user.mail –ne null). */
    YES("user.mail \xE2\x80\x93ne null", u);
    YES("user.department \xE2\x80\x93"
        "eq \"Sales\" \xE2\x80\x93"
        "and user.mail \xE2\x80\x93"
        "ne null",
        u);
    /* No blanks needed around the operator. */
    YES("user.department-eq\"Sales\"", u);
    YES("(user.department -eq \"Sales\")-and(user.mail -ne null)", u);
    YES("\n\tuser.department\r\n-eq\t\"Sales\"  \n", u);
}

static void test_precedence(void **state)
{
    (void)state;
    /* a -or b -and c is a -or (b -and c). */
    const char *a_only = "{'city':'A'}";
    YES("user.city -eq \"A\" -or user.city -eq \"B\" -and user.department -eq \"D\"", a_only);
    NO("(user.city -eq \"A\" -or user.city -eq \"B\") -and user.department -eq \"D\"", a_only);
    YES("user.department -eq \"D\" -and user.city -eq \"B\" -or user.city -eq \"A\"", a_only);
    NO("user.department -eq \"D\" -and (user.city -eq \"B\" -or user.city -eq \"A\")", a_only);
    /* Microsoft's: country US -and (Marketing -or Sales). */
    const char *rule =
        "user.country -eq \"US\" -and (user.department -eq \"Marketing\" -or user.department -eq \"Sales\")";
    YES(rule, "{'country':'US','department':'Sales'}");
    NO(rule, "{'country':'FR','department':'Sales'}");
    NO(rule, "{'country':'US','department':'Legal'}");
    YES("user.department -eq \"Marketing\" -and user.country -eq \"US\"", "{'country':'US','department':'marketing'}");
    /* -not binds tighter than -and: (-not a) -and b. */
    NO("-not user.city -eq \"A\" -and user.city -eq \"A\"", a_only);
    YES("-not (user.city -eq \"A\" -and user.department -eq \"D\")", a_only);
    NO("-not user.city -eq \"B\" -and user.department -eq \"D\"", a_only);
    YES("-not user.city -eq \"B\" -or user.department -eq \"D\"", a_only);
    /* Redundant parentheses, long chains. */
    YES("((((user.city -eq \"A\"))))", a_only);
    YES("user.city -eq \"X\" -or user.city -eq \"Y\" -or user.city -eq \"Z\" -or user.city -eq \"A\"", a_only);
    NO("user.city -eq \"A\" -and user.city -ne \"B\" -and user.city -ne \"C\" -and user.city -eq \"D\"", a_only);
    YES("(user.city -eq \"X\" -or user.city -eq \"A\") -and (user.city -ne \"B\" -or user.city -eq \"C\")", a_only);
}

static void test_not(void **state)
{
    (void)state;
    const char *u = "{'jobTitle':'SDE','department':'Sales'}";
    NO("-not (user.jobTitle -startsWith \"SDE\")", u);
    YES("-not (user.jobTitle -startsWith \"PM\")", u);
    YES("-not -not (user.jobTitle -startsWith \"SDE\")", u);
    YES("not not not (user.jobTitle -eq \"PM\")", u);
    YES("(user.department -eq \"Sales\") -and -not (user.jobTitle -startsWith \"PM\")", u);
    NO("(user.department -eq \"Sales\") -and -not (user.jobTitle -startsWith \"SDE\")", u);
}

/* ---- documented examples ---- */

static void test_documented_examples(void **state)
{
    (void)state;
    const char *dash = "(user.department -eq \"Sales\") -and (user.accountEnabled -eq true)";
    const char *word = "(user.department -eq \"Sales\") and (user.accountEnabled -eq true)";
    const char *users_yes[] = {"{'department':'Sales','accountEnabled':true}",
                               "{'department':'sales','accountEnabled':true,'city':'x'}"};
    const char *users_no[] = {"{'department':'Sales','accountEnabled':false}", "{'department':'Sales'}",
                              "{'department':'Marketing','accountEnabled':true}", "{}"};
    for (size_t i = 0; i < 2; i++) {
        YES(dash, users_yes[i]);
        YES(word, users_yes[i]);
    }
    for (size_t i = 0; i < 4; i++) {
        NO(dash, users_no[i]);
        NO(word, users_no[i]);
    }
    YES("user.department -eq \"Sales\"", "{'department':'Sales'}");
    YES("(user.department -eq \"Sales\") -or (user.department -eq \"Marketing\")", "{'department':'Marketing'}");
    YES("(user.department -eq \"Sales\") -and -not (user.jobTitle -startsWith \"SDE\")",
        "{'department':'Sales','jobTitle':'Manager'}");
    YES("user.objectId -ne null", "{'id':'1'}");
    NO("user.objectId -ne null", "{}");
    YES("(user.objectId -ne null) -and (user.userType -eq \"Member\")", "{'id':'1','userType':'Member'}");
    NO("(user.objectId -ne null) -and (user.userType -eq \"Member\")", "{'id':'1','userType':'Guest'}");
    YES("user.department -in [\"50001\",\"50002\",\"50003\",\"50005\",\"50006\",\"50007\",\"50008\",\"50016\","
        "\"50020\",\"50024\",\"50038\",\"50039\",\"51100\"]",
        "{'department':'50039'}");
    YES("(user.proxyAddresses -any (_ -startsWith \"contoso\"))", "{'proxyAddresses':['smtp:a@x','Contoso:b']}");
    YES("user.otherMails -startsWith \"alias@domain\"", "{'otherMails':['x@y','alias@domain.com']}");
    YES("user.proxyAddresses -notEndsWith \"@outlook.com\"", "{'proxyAddresses':['SMTP:a@contoso.com']}");
    YES("user.passwordPolicies -eq \"DisableStrongPassword\"", "{'passwordPolicies':'DisableStrongPassword'}");
    YES("user.mail -notEndsWith \"@Contoso.com\"", "{'mail':'a@fabrikam.com'}");
    YES("user.mailNickname -endsWith \"-vendor\"", "{'mailNickname':'ada-vendor'}");
}

/* ---- null, booleans ---- */

static void test_null_semantics(void **state)
{
    (void)state;
    /* Missing, JSON null, and not a string: all null. */
    const char *nulls[] = {"{}", "{'department':null}", "{'department':5}", "{'department':['Sales']}",
                           "{'department':true}"};
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++) {
        const char *u = nulls[i];
        YES("user.department -eq null", u);
        NO("user.department -ne null", u);
        NO("user.department -eq \"Sales\"", u);
        YES("user.department -ne \"Sales\"", u);
        NO("user.department -startsWith \"\"", u);
        YES("user.department -notStartsWith \"S\"", u);
        NO("user.department -endsWith \"s\"", u);
        YES("user.department -notEndsWith \"s\"", u);
        NO("user.department -contains \"\"", u);
        YES("user.department -notContains \"a\"", u);
        NO("user.department -match \".*\"", u);
        YES("user.department -notMatch \"x\"", u);
        NO("user.department -in [\"Sales\"]", u);
        YES("user.department -notIn [\"Sales\"]", u);
        /* -not (a -eq b) is a -ne b. */
        YES("-not (user.department -eq \"Sales\")", u);
        YES("user.department -ne \"Sales\" -and user.department -eq null", u);
    }
    /* Present (even empty): not null. */
    NO("user.department -eq null", "{'department':''}");
    YES("user.department -ne null", "{'department':''}");
    YES("user.department -ne null", "{'department':'Sales'}");
    /* "null" quoted is the string null; NULL is null. */
    YES("user.department -eq \"null\"", "{'department':'null'}");
    NO("user.department -eq \"null\"", "{}");
    YES("user.department -eq NULL", "{}");
    YES("user.department -eq Null", "{'department':null}");
    /* A user that is not an object, or no user, has no properties. */
    struct dynrule *r = P("user.department -eq null");
    json_t *arr = U("['Sales']");
    assert_true(dynrule_match(r, NULL));
    assert_true(dynrule_match(r, arr));
    json_decref(arr);
    dynrule_free(r);
    assert_false(dynrule_match(NULL, NULL));
    /* Embedded NUL: compared with it. */
    NO("user.city -eq \"Lagos\"", "{'city':'Lagos\\u0000'}");
    YES("user.city -startsWith \"Lagos\"", "{'city':'Lagos\\u0000'}");
}

static void test_account_enabled(void **state)
{
    (void)state;
    const char *on = "{'accountEnabled':true}", *off = "{'accountEnabled':false}";
    YES("user.accountEnabled -eq true", on);
    NO("user.accountEnabled -eq true", off);
    YES("user.accountEnabled -eq false", off);
    NO("user.accountEnabled -eq false", on);
    YES("user.accountEnabled -ne false", on);
    YES("user.accountEnabled -ne true", off);
    YES("user.accountEnabled -eq \"true\"", on);
    YES("user.accountEnabled -eq 'True'", on);
    YES("user.accountEnabled -eq \"FALSE\"", off);
    YES("user.accountEnabled -eq True", on);
    NO("user.accountEnabled -eq null", on);
    YES("user.accountEnabled -ne null", off);
    /* Missing, null, or not a boolean: null. */
    const char *nulls[] = {"{}", "{'accountEnabled':null}", "{'accountEnabled':'true'}", "{'accountEnabled':1}"};
    for (size_t i = 0; i < 4; i++) {
        NO("user.accountEnabled -eq true", nulls[i]);
        NO("user.accountEnabled -eq false", nulls[i]);
        YES("user.accountEnabled -ne true", nulls[i]);
        YES("user.accountEnabled -eq null", nulls[i]);
    }
    /* A string property compared with bare true is the string "true". */
    YES("user.department -eq true", "{'department':'True'}");
    NO("user.department -eq true", "{'department':true}");
}

/* ---- multi-valued properties ---- */

static void test_any_all(void **state)
{
    (void)state;
    const char *u = "{'otherMails':['ada@contoso.com','ada@Fabrikam.com'],'department':'Sales'}";
    YES("user.otherMails -any (_ -contains \"contoso\")", u);
    YES("user.otherMails -any (_ -contains \"FABRIKAM\")", u);
    NO("user.otherMails -any (_ -contains \"northwind\")", u);
    NO("user.otherMails -all (_ -contains \"contoso\")", u);
    YES("user.otherMails -all (_ -contains \"@\")", u);
    YES("user.otherMails -all (_ -endsWith \".com\")", u);
    YES("user.otherMails -any _ -startsWith \"ADA@\"", u); /* without parentheses */
    YES("user.otherMails -any _ -eq \"ada@contoso.com\" -and user.department -eq \"Sales\"", u);
    NO("user.otherMails -any _ -eq \"ada@contoso.com\" -and user.department -eq \"Legal\"", u);
    YES("user.otherMails -ANY (_ -match \"^ada@f\")", u);
    YES("user.otherMails -any (_ -in [\"x@y\", \"ada@fabrikam.com\"])", u);
    YES("user.otherMails -all (_ -notIn [\"x@y\"])", u);
    /* Several conditions on the item. */
    YES("user.otherMails -any (_ -startsWith \"ada\" -and _ -endsWith \"fabrikam.com\")", u);
    NO("user.otherMails -any (_ -startsWith \"bob\" -or _ -endsWith \"northwind.com\")", u);
    YES("user.otherMails -all (_ -endsWith \"contoso.com\" -or _ -endsWith \"fabrikam.com\")", u);
    YES("user.otherMails -all (-not (_ -contains \"northwind\"))", u);
    YES("user.otherMails -any (not _ -contains \"contoso\")", u);
    NO("-not user.otherMails -any (_ -contains \"contoso\")", u);
    /* Empty, missing, null: -any false, -all true. */
    const char *empties[] = {"{'otherMails':[]}", "{}", "{'otherMails':null}", "{'otherMails':5}"};
    for (size_t i = 0; i < 4; i++) {
        NO("user.otherMails -any (_ -contains \"\")", empties[i]);
        YES("user.otherMails -all (_ -contains \"x\")", empties[i]);
        YES("user.otherMails -eq null", empties[i]);
        NO("user.otherMails -ne null", empties[i]);
        NO("user.otherMails -eq \"x\"", empties[i]);
        YES("user.otherMails -ne \"x\"", empties[i]);
    }
    /* Non-string items are null items; a lone string is a one-item collection. */
    YES("user.otherMails -any (_ -eq null)", "{'otherMails':['a',null]}");
    NO("user.otherMails -all (_ -ne null)", "{'otherMails':['a',7]}");
    YES("user.otherMails -all (_ -ne null)", "{'otherMails':['a','b']}");
    YES("user.otherMails -any (_ -eq \"a\")", "{'otherMails':'A'}");
    NO("user.otherMails -eq null", "{'otherMails':[null]}");
    /* Operators straight on a collection: positive = some item, negated = no item. */
    const char *p = "{'proxyAddresses':['SMTP:ada@contoso.com','smtp:ada@outlook.com']}";
    YES("user.proxyAddresses -startsWith \"smtp:\"", p);
    YES("user.proxyAddresses -endsWith \"@outlook.com\"", p);
    NO("user.proxyAddresses -notEndsWith \"@outlook.com\"", p);
    YES("user.proxyAddresses -notEndsWith \"@northwind.com\"", p);
    YES("user.proxyAddresses -eq \"smtp:ADA@contoso.com\"", p);
    NO("user.proxyAddresses -ne \"smtp:ADA@contoso.com\"", p);
    YES("user.proxyAddresses -contains \"outlook\"", p);
    NO("user.proxyAddresses -notContains \"outlook\"", p);
    YES("user.proxyAddresses -match \"^smtp:.*@contoso\\.com$\"", p);
    YES("user.proxyAddresses -in [\"x\", \"smtp:ada@outlook.com\"]", p);
    YES("user.proxyAddresses -ne null", p);
}

/* ---- strings ---- */

/* Whether a user whose property is exactly value satisfies the rule. */
static bool MV(const char *rule, const char *property, const char *value)
{
    struct dynrule *r = P(rule);
    json_t *u = json_pack("{s:s}", property, value);
    assert_non_null(u);
    bool m = dynrule_match(r, u);
    json_decref(u);
    dynrule_free(r);
    return m;
}

static void test_string_escapes(void **state)
{
    (void)state;
    assert_true(MV("user.department -eq \"`\"Sales`\"\"", "department", "\"Sales\""));
    assert_false(MV("user.department -eq \"`\"Sales`\"\"", "department", "Sales"));
    assert_true(MV("user.surname -eq 'O''Brien'", "surname", "O'Brien"));
    assert_true(MV("user.surname -eq \"O'Brien\"", "surname", "O'Brien"));
    assert_true(MV("user.surname -eq 'O`'Brien'", "surname", "O'Brien"));
    assert_true(MV("user.surname -eq 'say \"hi\"'", "surname", "say \"hi\""));
    assert_true(MV("user.department -eq \"a``b\"", "department", "a`b"));
    assert_true(MV("user.department -eq \"a`b\"", "department", "a`b")); /* backtick before a letter: itself */
    assert_true(MV("user.department -eq \"a,b [c] (d) -and e\"", "department", "a,b [c] (d) -and e"));
    assert_true(MV("user.department -in ['a''b', \"c`\"d\"]", "department", "c\"d"));
    assert_true(MV("user.department -in ['a''b', \"c`\"d\"]", "department", "A'B"));
    assert_true(MV("user.department -eq \"tab\there\"", "department", "tab\there"));
    assert_true(MV("user.department -eq \"`\"\"", "department", "\""));
    assert_true(MV("user.department -eq ''''", "department", "'"));
    assert_true(MV("user.department -eq \"\"", "department", ""));
}

/* ---- errors ---- */

static void test_errors(void **state)
{
    (void)state;
    /* The messages of the brief, exactly. */
    char err[DYNRULE_ERR_LEN];
    struct dynrule *r = NULL;
    assert_int_equal(dynrule_parse("user.department -equals \"Sales\"", &r, err, sizeof err), RG_EINVAL);
    assert_string_equal(err, "membershipRule: unknown operator '-equals' at column 17");
    assert_int_equal(dynrule_parse("user.departmen -eq \"Sales\"", &r, err, sizeof err), RG_EINVAL);
    assert_string_equal(err, "membershipRule: 'user.departmen' is not a supported user property at column 1");
    assert_null(r);

    expect_error("(user.department -eq \"Sales\") -and (user.cty -eq \"x\")", "'user.cty' is not a supported", 37);
    expect_error("user.extensionAttribute15 -eq \"Marketing\"", "not a supported user property", 1);
    expect_error("device.deviceOSType -eq \"iPad\"", "expected a user property such as user.department", 1);
    expect_error("department -eq \"Sales\"", "found 'department'", 1);
    expect_error("user. -eq \"Sales\"", "found 'user.'", 1);
    expect_error("user.city equals \"x\"", "unknown operator 'equals'", 11);
    expect_error("user.city -and \"x\"", "expected an operator such as -eq after 'user.city', found '-and'", 11);
    expect_error("user.city", "expected an operator such as -eq after 'user.city', found the end of the rule", 10);
    expect_error("user.city \"x\"", "found '\"x\"'", 11);
    /* Parentheses. */
    expect_error("(user.department -eq \"Sales\"", "expected ')' to close the '(' at column 1, found the end", 29);
    expect_error("((user.city -eq \"a\") -or (user.city -eq \"b\")", "close the '(' at column 1", 45);
    expect_error("(user.city -eq \"a\" user.city -eq \"b\")", "found 'user.city'", 20);
    expect_error("user.city -eq \"a\")", "unexpected ')'", 18);
    expect_error("()", "expected a condition such as user.department -eq \"Sales\", found ')'", 2);
    expect_error("user.city -eq \"a\" -and", "expected a condition", 23);
    expect_error("user.city -eq \"a\" -and -or user.city -eq \"b\"", "found '-or'", 24);
    expect_error("user.city -eq \"a\" user.city", "expected -and, -or or the end of the rule, found 'user.city'", 19);
    /* Strings and values. */
    expect_error("user.department -eq \"Sales", "unterminated string", 21);
    expect_error("user.department -eq 'Sales", "unterminated string", 21);
    expect_error("user.department -eq \"Sales`\"", "unterminated string", 21);
    expect_error("user.department -eq Sales",
                 "expected a value (a quoted string, true, false or null) after -eq, found 'Sales'", 21);
    expect_error("user.department -eq", "found the end of the rule", 20);
    expect_error("user.department -eq $null", "found '$null'", 21);
    expect_error("user.department -startsWith null", "null can only be compared with -eq or -ne, not -startsWith", 29);
    expect_error("user.department -match null", "null can only be compared", 24);
    expect_error("user.department -eq (\"x\")", "found '('", 21);
    /* Lists. */
    expect_error("user.department -in \"Sales\"", "expected a list such as [\"a\", \"b\"] after -in", 21);
    expect_error("user.department -eq [\"a\"]", "expected a value", 21);
    expect_error("user.department -in []", "the list is empty", 22);
    expect_error("user.department -in [\"a\",]", "expected a quoted string in the list, found ']'", 26);
    expect_error("user.department -in [\"a\" \"b\"]", "expected ',' or ']' in the list opened at column 21", 26);
    expect_error("user.department -in [\"a\", null]", "a list holds strings, not null", 27);
    expect_error("user.department -in [\"a\"", "found the end of the rule", 25);
    /* Types. */
    expect_error("user.accountEnabled -startsWith \"t\"",
                 "-startsWith cannot be used with the boolean user.accountEnabled", 21);
    expect_error("user.accountEnabled -in [true]", "-in cannot be used with the boolean", 21);
    expect_error("user.accountEnabled -eq \"yes\"", "compared with true, false or null, found '\"yes\"'", 25);
    expect_error("user.accountEnabled -eq 1", "found '1'", 25);
    expect_error("user.department -any (_ -eq \"x\")", "-any needs a multi-valued property", 17);
    expect_error("user.accountEnabled -all (_ -eq \"x\")", "-all needs a multi-valued property", 21);
    expect_error("_ -eq \"x\"", "'_' can only be used inside -any (...) or -all (...)", 1);
    expect_error("user.otherMails -any (user.city -eq \"x\")", "conditions test '_'", 23);
    expect_error("user.otherMails -any (_ -any (_ -eq \"x\"))", "-any cannot be used inside -any/-all", 25);
    expect_error("user.otherMails -any -not (_ -eq \"x\")", "found '-not'", 22);
    expect_error("user.otherMails -any (_ -eq \"x\"", "expected ')'", 32);
    /* Regular expressions. */
    expect_error("user.city -match \"(ago\"", "invalid regular expression (", 18);
    expect_error("user.city -match \"[a-\"", "invalid regular expression", 18);
    expect_error("user.city -notMatch \"a{2,1}\"", "invalid regular expression", 21);
    /* Back-references and big counted repetitions: their cost is not bounded. */
    expect_error("user.city -match \"(a)\\1\"", "back-references (\\1) are not supported", 18);
    expect_error("user.city -match \"(.{1,32}.{1,32}.{1,32}){1,32}x\"", "too complex (counted repetitions", 18);
    expect_error("user.city -match \".{0,255}.{0,4}\"", "may add at most 256 items", 18);
    expect_error("user.city -match \"((a{10}){10}){3}\"", "too complex", 18);
    expect_error("user.city -match \"a{1000}\"", "too complex", 18);
    expect_error("user.city -match \"x{1,}{300}\"", "too complex", 18);
    expect_error("user.city -match \"x{,300}\"", "too complex", 18);
    /* Stacked repetition operators: glibc's regcomp is exponential in their number (fuzz/fuzz_dynrule.c). */
    expect_error("user.employeeId -match \"^\\.d:0\\\\userz+++*+++++++++++++c+x\"", "a repetition operator right after another", 24);
    expect_error("user.city -match \"a**\"", "a repetition operator right after another", 18);
    expect_error("user.city -match \"a*??\"", "a repetition operator right after another", 18);
    expect_error("user.city -match \"a{2}*\"", "a repetition operator right after another", 18);
    dynrule_free(P("user.city -match \"^a.*?b+?c??d{2}?$\""));
    dynrule_free(P("user.city -match \"(a*)*\""));
    dynrule_free(P("user.city -match \".{0,255}.{0,3}\""));
    dynrule_free(P("user.city -match \"((a{5}){5}){5}\""));
    dynrule_free(P("user.city -match \"^[a-z]{2,64}@contoso\\.com$\""));
    dynrule_free(P("user.city -match \"[\\1]a{,3}\""));
    expect_error("user.city -match \"*a\"", "invalid regular expression (Invalid preceding regular expression)", 18);
    expect_error("user.city -match \"a+\" -and user.city -match \"(\"", "invalid regular expression", 45);
    /* Characters. */
    expect_error("user.city -eq \"a\" && user.city -eq \"b\"", "unexpected character '&'", 19);
    expect_error("user.city - eq \"a\"", "'-' must be followed by an operator name such as -eq", 11);
    expect_error("user.city -eq \"a\" \x01", "unexpected character '\\x01'", 19);
    expect_error("user.city -eq \"a\" \x7f", "unexpected character '\\x7F'", 19);
    expect_error("user.city -eq \"a\" \xC2\x85", "unexpected character '\\xC2\\x85'", 19);
    expect_error("user.city -eq \"a\" \xE2\x80\x94", "unexpected character '\xE2\x80\x94'", 19);
    /* Empty, missing. */
    expect_error("", "the rule is empty", 0);
    expect_error("   \n\t ", "the rule is empty", 0);
    expect_error("Direct Reports for \"aaaaaaaa-0000-1111-2222-bbbbbbbbbbbb\"", "found 'Direct'", 1);
    r = (struct dynrule *)err;
    assert_int_equal(dynrule_parse(NULL, &r, err, sizeof err), RG_EINVAL);
    assert_null(r);
    assert_string_equal(err, "membershipRule: missing");
    assert_int_equal(dynrule_parse("user.city -eq \"a\"", NULL, err, sizeof err), RG_EINVAL);
    /* No room for a message, or no buffer: still the code. */
    assert_int_equal(dynrule_parse("user.cty -eq \"a\"", &r, NULL, 0), RG_EINVAL);
    assert_null(r);
    err[0] = 'x';
    assert_int_equal(dynrule_parse("user.cty -eq \"a\"", &r, err, 0), RG_EINVAL);
    assert_int_equal(err[0], 'x');
    dynrule_free(NULL);
}

/* Columns count characters, not bytes. */
static void test_error_columns_utf8(void **state)
{
    (void)state;
    /* "Zürich", "Ωmega", "–" and "í" are one column each. */
    expect_error("user.city -eq \"Zürich\" -or user.city -equals \"x\"", "unknown operator '-equals'", 38);
    expect_error("user.city -eq \"Ωmega\" \xE2\x80\x93or user.c\xC3\xADty -eq \"x\"",
                 "'user.c\xC3\xADty' is not a supported user property", 27);
    expect_error("user.city -eq \"\xF0\x9F\x98\x80\" -and user.city -eq", "found the end of the rule", 37);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    const char *rules[] = {
        "user.department -eq \"Sal\xFF\"",
        "user.department -eq \"Sal\xC3\"",
        "user.department -eq \"Sal\xC0\xAF\"",     /* overlong '/' */
        "user.department -eq \"Sal\xED\xA0\x80\"", /* a surrogate */
        "user.depar\xE9ment -eq \"Sales\"",        /* Latin-1, not UTF-8 */
        "\x80",
    };
    const char *want[] = {"\\xFF", "\\xC3", "\\xC0", "\\xED", "\\xE9", "\\x80"};
    const int col[] = {25, 25, 25, 25, 11, 1};
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        char msg[64];
        snprintf(msg, sizeof msg, "invalid UTF-8 (byte %s)", want[i]);
        expect_error(rules[i], msg, col[i]);
    }
    /* The rule is checked first: a later invalid byte wins over an earlier syntax error. */
    expect_error("user.cty -eq \"\xFE\"", "invalid UTF-8 (byte \\xFE)", 15);
}

/* A message cut short stays NUL-terminated and never ends inside a character. */
static void test_error_truncation(void **state)
{
    (void)state;
    const char *rule = "user.\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9 -eq \"x\"";
    char full[DYNRULE_ERR_LEN];
    struct dynrule *r = NULL;
    assert_int_equal(dynrule_parse(rule, &r, full, sizeof full), RG_EINVAL);
    assert_string_equal(full, "membershipRule: 'user.\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9' is not a supported user "
                              "property at column 1");
    for (size_t len = 1; len < strlen(full) + 2; len++) {
        char err[DYNRULE_ERR_LEN];
        memset(err, 'Z', sizeof err);
        assert_int_equal(dynrule_parse(rule, &r, err, len), RG_EINVAL);
        assert_true(strlen(err) < len);
        assert_true(clean_utf8(err));
        assert_memory_equal(err, full, strlen(err));
        assert_int_equal(err[len], 'Z'); /* nothing written past errlen */
    }
    /* The longest messages quote a token of 40 characters that escape to 8 bytes each: they fit whole. */
    char worst[1024];
    size_t o = 0;
    worst[o++] = 'u';
    for (int i = 0; i < 60; i++) {
        memcpy(worst + o, "\xC2\x85", 2);
        o += 2;
    }
    worst[o++] = ' ';
    worst[o++] = '"';
    for (int i = 0; i < 60; i++) {
        memcpy(worst + o, "\xC2\x85", 2);
        o += 2;
    }
    memcpy(worst + o, "\"", 2);
    char big[DYNRULE_ERR_LEN];
    assert_int_equal(dynrule_parse(worst, &r, big, sizeof big), RG_EINVAL);
    assert_true(clean_utf8(big));
    assert_non_null(strstr(big, "expected a user property such as user.department, found 'u\\xC2\\x85"));
    assert_non_null(strstr(big, "...' at column 1"));
    char *second = repeat("user.city ", "\xC2\x85", 60, "");
    char *second2 = repeat(second, "", 0, " -eq \"x\"");
    assert_int_equal(dynrule_parse(second2, &r, big, sizeof big), RG_EINVAL);
    assert_true(clean_utf8(big));
    assert_true(strlen(big) < sizeof big - 1);
    assert_non_null(strstr(big, " at column 11"));
    free(second);
    free(second2);
    /* Long rule text is cut in messages. */
    char longrule[400];
    snprintf(longrule, sizeof longrule, "user.%0200d -eq \"x\"", 7);
    char err[DYNRULE_ERR_LEN];
    assert_int_equal(dynrule_parse(longrule, &r, err, sizeof err), RG_EINVAL);
    assert_non_null(strstr(err, "...' is not a supported user property at column 1"));
    assert_true(strlen(err) < 120);
}

/* ---- limits ---- */

static char *repeat(const char *prefix, const char *unit, size_t n, const char *suffix)
{
    size_t len = strlen(prefix) + strlen(unit) * n + strlen(suffix);
    char *s = malloc(len + 1);
    assert_non_null(s);
    size_t o = 0;
    memcpy(s + o, prefix, strlen(prefix));
    o += strlen(prefix);
    for (size_t i = 0; i < n; i++) {
        memcpy(s + o, unit, strlen(unit));
        o += strlen(unit);
    }
    memcpy(s + o, suffix, strlen(suffix) + 1);
    return s;
}

static void test_length_limit(void **state)
{
    (void)state;
    const char *prefix = "user.city -eq \"", *suffix = "\"";
    size_t fixed = strlen(prefix) + strlen(suffix);
    /* Exactly 3072 characters: fine; 3073: too long. */
    char *ok = repeat(prefix, "x", DYNRULE_MAX_CHARS - fixed, suffix);
    assert_int_equal(strlen(ok), DYNRULE_MAX_CHARS);
    dynrule_free(P(ok));
    char *over = repeat(prefix, "x", DYNRULE_MAX_CHARS - fixed + 1, suffix);
    expect_error(over, "the rule is longer than 3072 characters (it has 3073)", 0);
    /* Characters, not bytes: 3072 characters of two bytes each are fine. */
    char *wide = repeat(prefix, "\xC3\xA9", DYNRULE_MAX_CHARS - fixed, suffix);
    struct dynrule *r = P(wide);
    dynrule_free(r);
    /* Far too long: rejected before it is read. */
    char *huge = repeat(prefix, "x", 100000, suffix);
    expect_error(huge, "the rule is longer than 3072 characters", 0);
    /* A long list is fine: list items are not nodes. */
    char *list = repeat("user.employeeId -in [0", ",1", 1500, "]");
    assert_true(strlen(list) < DYNRULE_MAX_CHARS);
    r = P(list);
    json_t *one = U("{'employeeId':'1'}"), *two = U("{'employeeId':'2'}");
    assert_true(dynrule_match(r, one));
    assert_false(dynrule_match(r, two));
    json_decref(one);
    json_decref(two);
    dynrule_free(r);
    free(ok);
    free(over);
    free(wide);
    free(huge);
    free(list);
}

static void test_depth_limit(void **state)
{
    (void)state;
    const char *u = "{'city':'a'}";
    char *ok = repeat("", "(", DYNRULE_MAX_DEPTH, "user.city -eq \"a\"");
    char *ok2 = repeat(ok, ")", DYNRULE_MAX_DEPTH, "");
    YES(ok2, u);
    char *deep = repeat("", "(", DYNRULE_MAX_DEPTH + 1, "user.city -eq \"a\"");
    char *deep2 = repeat(deep, ")", DYNRULE_MAX_DEPTH + 1, "");
    expect_error(deep2, "the rule nests deeper than 32 levels", DYNRULE_MAX_DEPTH + 1);
    /* -not counts as a level. */
    char *nots = repeat("", "-not ", DYNRULE_MAX_DEPTH, "user.city -eq \"a\"");
    YES(nots, u); /* an even number of -not */
    char *nots2 = repeat("", "-not ", DYNRULE_MAX_DEPTH + 1, "user.city -eq \"a\"");
    expect_error(nots2, "the rule nests deeper than 32 levels", 5 * DYNRULE_MAX_DEPTH + 1);
    /* Unclosed parentheses far down: the depth error comes first, and nothing crashes or leaks. */
    char *open = repeat("", "(", 1000, "");
    expect_error(open, "nests deeper than 32 levels", 33);
    char *close = repeat("user.city -eq \"a\"", ")", 1000, "");
    expect_error(close, "unexpected ')'", 18);
    free(ok);
    free(ok2);
    free(deep);
    free(deep2);
    free(nots);
    free(nots2);
    free(open);
    free(close);
}

/* Groups "not ... not user.mail eq 1" (nots[i] times "not ") joined by " or ". */
static char *node_rule(const size_t *nots, size_t groups)
{
    char *acc = repeat("", "", 0, "");
    for (size_t g = 0; g < groups; g++) {
        char *grp = repeat(g ? " or " : "", "not ", nots[g], "user.mail eq 1");
        char *next = repeat(acc, "", 0, grp);
        free(acc);
        free(grp);
        acc = next;
    }
    return acc;
}

static void test_node_limit(void **state)
{
    (void)state;
    /*
     * Each group is nots + 1 nodes, and the -or one more. 30 + 1, then seven
     * times 31 + 1, then the -or: 31 + 224 + 1 = 256 nodes, the limit.
     */
    size_t nots[8] = {30, 31, 31, 31, 31, 31, 31, 31};
    char *max = node_rule(nots, 8);
    assert_true(strlen(max) < DYNRULE_MAX_CHARS);
    YES(max, "{'mail':'1'}"); /* an even number of not: the first group is true */
    YES(max, "{'mail':'2'}"); /* 31 not: the other groups are true */
    /* One more not on the first group: 257. The last node made is the last group's outer not. */
    nots[0] = 31;
    char *more = node_rule(nots, 8);
    const char *last = more;
    for (const char *q = strstr(more, " or "); q; q = strstr(q + 1, " or "))
        last = q + 4; /* after the last " or " */
    expect_error(more, "the rule is too complex (more than 256 conditions and operators)", (int)(last - more) + 1);
    free(max);
    free(more);
}

/* ---- threads ---- */

struct shared {
    const struct dynrule *rule;
    json_t *yes, *no;
    int failures;
};

static void *worker(void *arg)
{
    struct shared *s = arg;
    int bad = 0;
    for (int i = 0; i < 2000; i++)
        bad += !dynrule_match(s->rule, s->yes) + dynrule_match(s->rule, s->no);
    return (void *)(intptr_t)bad;
}

static void test_shared_across_threads(void **state)
{
    (void)state;
    struct dynrule *r = P("user.mail -match \"^[a-z]+@contoso\\.com$\" -and user.otherMails -any (_ -contains \"x\")"
                          " -and user.city -in [\"Zürich\", \"Lagos\"]");
    struct shared s = {r, U("{'mail':'ada@CONTOSO.com','otherMails':['axb'],'city':'ZÜRICH'}"),
                       U("{'mail':'ada@contoso.org','otherMails':['axb'],'city':'Lagos'}"), 0};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, &s), 0);
    for (int i = 0; i < 4; i++) {
        void *bad;
        assert_int_equal(pthread_join(t[i], &bad), 0);
        assert_int_equal((intptr_t)bad, 0);
    }
    json_decref(s.yes);
    json_decref(s.no);
    dynrule_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_property_table),
        cmocka_unit_test(test_eq_ne),
        cmocka_unit_test(test_starts_ends),
        cmocka_unit_test(test_contains),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_in_notin),
        cmocka_unit_test(test_case_insensitivity),
        cmocka_unit_test(test_dashes),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_not),
        cmocka_unit_test(test_documented_examples),
        cmocka_unit_test(test_null_semantics),
        cmocka_unit_test(test_account_enabled),
        cmocka_unit_test(test_any_all),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_error_columns_utf8),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_error_truncation),
        cmocka_unit_test(test_length_limit),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_node_limit),
        cmocka_unit_test(test_shared_across_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
