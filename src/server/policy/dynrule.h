/*
 * dynrule.h: Entra ID (Azure AD) dynamic membership rules for users: parse a
 * group's membershipRule once, then test Graph user objects against it.
 *
 *   struct dynrule *r;
 *   char err[DYNRULE_ERR_LEN];
 *   if (dynrule_parse("(user.department -eq \"Sales\") -and (user.accountEnabled -eq true)",
 *                     &r, err, sizeof err) != 0) { ...400 with err... }
 *   bool member = dynrule_match(r, user_json);
 *   dynrule_free(r);
 *
 * Syntax (Microsoft's "Dynamic membership rules for groups in Microsoft Entra
 * ID"; the EBNF is at the top of dynrule.c):
 *   - Conditions: user.<property> <operator> <value>. The "user." prefix,
 *     property names, operator names and true/false/null are case-insensitive.
 *     Operators and the logical words may be written with or without the
 *     leading '-' (-eq / eq, -and / and), as Entra accepts; U+2013 (the en dash
 *     Microsoft's own examples show, "–eq") counts as '-'.
 *   - Operators: -eq -ne -startsWith -notStartsWith -endsWith -notEndsWith
 *     -contains -notContains -match -notMatch, -in / -notIn with a bracketed
 *     list ["a", "b"], and on the multi-valued properties -any / -all with the
 *     "_" form: user.otherMails -any (_ -contains "contoso"). Inside the
 *     parentheses "_" stands for one item and -and/-or/-not/parentheses may
 *     combine several "_" conditions; without parentheses
 *     (user.proxyAddresses -any _ -startsWith "smtp:") it is one condition.
 *   - Values: "double" or 'single' quoted strings. Inside either, a backtick
 *     escapes a quote or a backtick (`" `' ``); inside single quotes '' is a
 *     quote too. A backtick before anything else is a literal backtick. Bare
 *     true, false, null and numbers (digits and dots, e.g. 50001) are values;
 *     quoted "null" is the literal string null. Other bare words are errors.
 *   - Logical: -not binds tighter than -and, -and tighter than -or;
 *     parentheses group.
 *   - The properties are those of dynrule_user_properties(). extensionAttributeN,
 *     extension_<app>_<name>, memberOf, employeeHireDate, dirSyncEnabled,
 *     assignedPlans, device.* rules and "Direct Reports for" are not supported:
 *     parse errors.
 *
 * Evaluation (dynrule_match):
 *   - A property is read from the user object's key of the same name, the key
 *     with exactly the property's casing first, else the first key equal
 *     ignoring case. objectId reads "id". A user that is not an object has no
 *     properties.
 *   - A string property whose key is missing, JSON null or not a string is
 *     null. accountEnabled is null unless it is a JSON boolean. A multi-valued
 *     property that is missing or null is an empty collection; a lone string
 *     there counts as a one-item collection; non-string items are null items.
 *   - Null: "-eq null" is true and "-ne null" false for a null property (for a
 *     collection: no items). Every positive operator (-eq "x", -startsWith,
 *     -endsWith, -contains, -match, -in) is false on null, and every negated
 *     one (-ne "x", -notStartsWith, -notEndsWith, -notContains, -notMatch,
 *     -notIn) is exactly its complement, so true on null: a user without a
 *     department is in user.department -ne "Sales". Microsoft documents
 *     only -eq null / -ne null; this choice keeps "-not (a -eq b)" equal to
 *     "a -ne b" (add -and user.department -ne null to leave nulls out).
 *   - An operator other than -any/-all applied to a multi-valued property
 *     tests the items: a positive operator is true if ANY item satisfies it,
 *     a negated one is true if NO item satisfies the positive form
 *     (user.proxyAddresses -notEndsWith "@outlook.com": no address ends so).
 *     -any on an empty collection is false, -all true (Entra's
 *     "-all (... -eq null)" selects users with none).
 *   - String comparisons ignore case: ASCII, Latin-1, Latin Extended-A, basic
 *     Greek and Cyrillic letters fold one-to-one; other characters compare
 *     exactly. Strings are compared whole (a JSON string with an embedded
 *     NUL is compared with it; it never satisfies -match).
 *   - -match / -notMatch: POSIX extended regular expressions (regcomp with
 *     REG_EXTENDED | REG_ICASE | REG_NOSUB, compiled once by dynrule_parse),
 *     searched anywhere in the value unless anchored with ^ / $. Entra uses
 *     .NET regular expressions: as a courtesy \d and \D outside brackets are
 *     rewritten to [0-9] / [^0-9]; glibc also knows \w \s \b, and accepts
 *     .*? (laziness cannot change whether a value matches); other .NET-only
 *     syntax ((?i), lookaround, named groups) is a parse error. REG_ICASE folds ASCII only unless the process
 *     has set a UTF-8 LC_CTYPE. To bound the cost of matching (glibc's is
 *     about the square of the expanded pattern times the value's length),
 *     back-references (\1..\9) are parse errors, and so are counted
 *     repetitions ({n,m}, nested ones multiplied) that would add more than
 *     256 items to the pattern: ^\d{5}$ and .{0,255} are fine,
 *     (.{1,32}){1,32} is not.
 *   - accountEnabled takes only -eq / -ne with true, false (bare or quoted) or null.
 *
 * Limits: a rule of at most DYNRULE_MAX_CHARS characters (Entra's limit,
 * counted in Unicode code points), DYNRULE_MAX_DEPTH levels of parentheses,
 * -not and -any/-all, DYNRULE_MAX_NODES nodes (each condition, -and/-or
 * chain, -not, -any/-all is one node; list items do not count).
 *
 * Pure module: no I/O, no globals that change. A parsed rule is immutable:
 * one struct dynrule may be matched from several threads at once (the user
 * objects must not be modified meanwhile). Not a public API.
 */
#ifndef RG_POLICY_DYNRULE_H
#define RG_POLICY_DYNRULE_H
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define DYNRULE_MAX_CHARS 3072 /* Entra's limit on the rule body */
#define DYNRULE_MAX_DEPTH 32
#define DYNRULE_MAX_NODES 256
#define DYNRULE_ERR_LEN 1024 /* holds any message dynrule_parse writes, whole */

struct dynrule; /* opaque: a parsed rule */

enum dynrule_type {
    DYNRULE_T_STRING,     /* a JSON string (or null) */
    DYNRULE_T_BOOL,       /* a JSON boolean (accountEnabled) */
    DYNRULE_T_STRING_SET, /* a JSON array of strings (otherMails, proxyAddresses) */
};

struct dynrule_property {
    const char *name; /* as Microsoft spells it in rules: "department", "objectId" */
    const char *key;  /* the Graph user key it reads: "department", "id" */
    enum dynrule_type type;
};

/* The supported user properties, sorted by name; *count receives the length. Static, never NULL. */
const struct dynrule_property *dynrule_user_properties(size_t *count);

/*
 * Parses a membershipRule.
 *
 * rule: borrowed NUL-terminated text (not kept). out: receives the parsed rule,
 * which the caller frees with dynrule_free(); NULL on any error.
 * err, errlen: on RG_EINVAL, an English message for a Graph error body,
 * starting "membershipRule: " and ending with the 1-based column (in
 * characters) where the problem is, e.g.
 *   membershipRule: unknown operator '-equals' at column 17
 *   membershipRule: 'user.departmen' is not a supported user property at column 1
 * Always valid UTF-8 without control characters: bytes of the rule that are
 * neither are written as \xNN, and rule text quoted in it is cut after 40
 * characters. Truncated to errlen - 1 bytes (never inside a character);
 * DYNRULE_ERR_LEN always holds it whole. err may be NULL (or errlen 0).
 *
 * Returns 0; RG_EINVAL for a NULL rule or out, a syntax error, an unknown
 * property or operator, an operator the property's type does not take, a bad
 * regular expression, invalid UTF-8 or a limit exceeded; RG_ENOMEM (err says
 * "out of memory").
 */
int dynrule_parse(const char *rule, struct dynrule **out, char *err, size_t errlen);

/*
 * Whether user (borrowed Graph user object, keys in any case; may be NULL)
 * satisfies the rule. False for a NULL rule. Never allocates, never fails.
 */
bool dynrule_match(const struct dynrule *rule, const json_t *user);

/* Frees a parsed rule. Accepts NULL. */
void dynrule_free(struct dynrule *rule);
#endif
