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
#include <stdint.h>

#include "intel/indicators.h"

/* Where the parts of a canonical URL are, for lookups. */
struct intel_url_parts {
    size_t host_off, host_len; /* the host as written in the URL (IPv6 with brackets) */
    size_t path_off;           /* index of the first '/' of the path */
    size_t query_off;          /* index of '?', or the length when there is no query */
    int host_family;           /* 0 for a name, 4 or 6 for an IP literal */
};

/*
 * A host name in lenient lookup form, laid out for match_host: the name is
 * word-aligned, preceded by 8 zero bytes and followed by zero bytes up to the
 * end of its last word, so 8-byte loads may reach up to 8 bytes before it and
 * to the end of its last word; plus where each label starts.
 */
struct intel_host {
    uint64_t w[1 + (INTEL_DOMAIN_MAX + 8) / 8]; /* w[0] = 0, then the name, NUL, zero padding */
    size_t n;                                   /* bytes of the name, NUL not counted */
    unsigned nlabels;                           /* >= 1 */
    uint8_t label[(INTEL_DOMAIN_MAX + 1) / 2];  /* start of each label, left to right; label[0] = 0 */
};

/* The name of a parsed host: n bytes, NUL-terminated. */
static inline const char *intel_host_name(const struct intel_host *h)
{
    return (const char *)(h->w + 1);
}

/*
 * Lenient host parsing for lookups, 8 bytes at a time: accepts and canonicalizes
 * exactly what intel_norm_domain(s, n, false, ...) does (same result), into *h.
 * Returns 0 or RG_EINVAL.
 */
int intel_host_parse(const char *s, size_t n, struct intel_host *h);

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
