/*
 * answer.h: the digest of a check-in answer that its signed ticket carries
 * (docs/app-api.md "The ticket"). The server signs it; libriskgate computes it
 * again over the answer it received (or cached) and acts on nothing that
 * differs, so the decision, the settings, the app configuration and the wipe
 * are all as signed, not only the action.
 */
#ifndef RG_ANSWER_H
#define RG_ANSWER_H
#include <jansson.h>

#define ANSWER_SHA256_LEN 64

/*
 * SHA-256 (lower-case hex) of the canonical JSON of
 * {"appConfigurations", "decision", "settings", "wipe"} as they are in answer
 * (null when absent): keys sorted, no white space, UTF-8 as is, as jansson's
 * JSON_COMPACT | JSON_SORT_KEYS writes it (RFC 8785's form for the values an
 * answer holds: no floating-point numbers). 0, or RG_ENOMEM.
 */
int answer_sha256(const json_t *answer, char out[ANSWER_SHA256_LEN + 1]);
#endif
