/*
 * tokens.h: Intune's app configuration tokens. A managed-app configuration
 * value (targetedManagedAppConfiguration customSettings) may hold tokens,
 * "{{userprincipalname}}" say, that are replaced with the signed-in user's
 * data before the app reads it (Microsoft's "App configuration policies for
 * Intune App SDK managed apps", "Configuration values for using tokens").
 *
 *   struct tokens_ctx ctx = {.upn = "john@contoso.com", .mail = NULL, ...};
 *   struct buf out = BUF_INIT(TOKENS_VALUE_MAX);
 *   tokens_expand("user={{partialupn}}", &ctx, &out);   -> "user=john"
 *
 * Rules (docs/api.md, "App configuration tokens"):
 *  - Known names: userprincipalname, mail, partialupn (the UPN before its
 *    last '@'; the whole UPN when it has none), accountid (the tenant id),
 *    userid (the user's object id), username (the display name),
 *    primarysmtpaddress (the user's mail, Entra's primary SMTP address), and
 *    deviceid (the registration's device id; in Intune's MDM list, riskgate
 *    serves it on the MAM channel too).
 *  - A token is "{{" name "}}" with nothing else between the braces; the name
 *    is matched case-insensitively (Microsoft writes both {{mail}} and
 *    {{PrimarySMTPAddress}}; nothing documents case mattering).
 *  - An unknown name ("{{foo}}", "{{ mail }}") stays as it is.
 *  - A known token whose value the user does not have (no mail, no device)
 *    becomes "" (Intune documents nothing for this case; an app reading an
 *    address should not be handed a literal "{{mail}}").
 *  - One pass, left to right: substituted text is never scanned again, so a
 *    display name holding "{{mail}}" is delivered as written.
 * Pure functions: no I/O, no globals, thread-safe.
 */
#ifndef RG_POLICY_TOKENS_H
#define RG_POLICY_TOKENS_H
#include <stddef.h>

#include <jansson.h>

#include "common/buf.h"

#define TOKENS_VALUE_MAX (64 * 1024) /* the largest substituted value; a longer one is delivered raw */

/* The user's (and registration's) data tokens expand to; every member borrowed, NULL when unknown. */
struct tokens_ctx {
    const char *upn;          /* userPrincipalName */
    const char *mail;         /* mail; also {{PrimarySMTPAddress}} */
    const char *display_name; /* displayName, {{username}} */
    const char *user_id;      /* the user's object id */
    const char *account_id;   /* the tenant id */
    const char *device_id;    /* the registration's device id */
};

/*
 * Appends value with its tokens substituted from ctx to out (whose cap bounds
 * the result). value and ctx are borrowed. 0; RG_ETOOBIG past out's cap or
 * RG_ENOMEM, out then holding what it held before.
 */
int tokens_expand(const char *value, const struct tokens_ctx *ctx, struct buf *out);

/* 1 when value holds a known token (so tokens_expand would change it), else 0. value may be NULL. */
int tokens_present(const char *value);

/* 1 when some customSettings value of configs (an appConfigurations array, may be NULL) holds a known token. */
int tokens_in_configs(const json_t *configs);

/*
 * A copy of configs (a check-in's "appConfigurations" array: [{"id",
 * "displayName", "customSettings": [{"name","value"}]}]) with every
 * customSettings value substituted; names, ids and display names are not.
 * Sets that need no substitution are shared with configs (incref), not
 * copied. A value whose expansion would pass TOKENS_VALUE_MAX is left raw.
 * configs borrowed (NULL gives []); *out owned by the caller. 0 or RG_ENOMEM.
 */
int tokens_apply(const json_t *configs, const struct tokens_ctx *ctx, json_t **out);
#endif
