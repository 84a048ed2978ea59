/*
 * normalize.h: internals shared by normalize.c and indicators.c (not API; see
 * indicators.h). The canonicalizers run in two modes:
 *   strict  - for indicator values: every rule of intel_normalize, with messages;
 *   lenient - for lookups: only the canonical form (case, trailing dot, default
 *             port, percent-escapes, dot segments), no policy checks (public
 *             suffixes, internal addresses), no messages, no allocation.
 * All return 0 or a negative RG_ code, and write a NUL-terminated result of
 * *outn bytes (not counting the NUL) to out.
 */
#ifndef RG_INTEL_NORMALIZE_H
#define RG_INTEL_NORMALIZE_H
#include <stdbool.h>
#include <stddef.h>

#include "intel/indicators.h"

/* Where the parts of a canonical URL are, for lookups. */
struct intel_url_parts {
    size_t host_off, host_len; /* the host as written in the URL (IPv6 with brackets) */
    size_t path_off;           /* index of the first '/' of the path */
    size_t query_off;          /* index of '?', or the length when there is no query */
    int host_family;           /* 0 for a name, 4 or 6 for an IP literal */
};

int intel_norm_domain(const char *s, size_t n, bool strict, char *out, size_t outlen, size_t *outn, char *err,
                      size_t errlen);
int intel_norm_ip(const char *s, size_t n, bool strict, char *out, size_t outlen, size_t *outn, char *err,
                  size_t errlen);
int intel_norm_hex(enum intel_type type, const char *s, bool strict, char *out, size_t outlen, size_t *outn, char *err,
                   size_t errlen);
int intel_norm_url(const char *s, bool strict, char *out, size_t outlen, size_t *outn, struct intel_url_parts *parts,
                   char *err, size_t errlen);
/* intel_check_action without the generateAlert rule (what the set enforces). */
int intel_check_action_type(enum intel_type type, enum intel_action action, char *err, size_t errlen);
#endif
