/*
 * indicators.h: threat-intelligence indicators (MDE-compatible) and the set
 * that matches them, shared by riskgated and the device agent. Pure library:
 * no globals, no I/O, never prints or exits.
 *
 * Two halves:
 *   1. Vocabulary and validation: indicator types, actions (with Defender's
 *      legacy names), severities, and intel_normalize(), which checks an
 *      indicatorValue and returns its canonical form or a message naming the
 *      field, for the API to answer 400 with. (normalize.c)
 *   2. struct intel_set: an in-memory set of indicators with lookups for
 *      domains, URLs, IPs, file hashes and certificate thumbprints.
 *      (indicators.c)
 *
 * Matching and precedence implemented (reference: shared/reference/threat-defense.md §5;
 * "(derived)" marks our own choice where the reference is silent):
 *
 *   Domain   "example.com matches example.com, sub.example.com, a.sub.example.com
 *            (whole-label suffix)". The host and each parent domain are probed; the
 *            MOST SPECIFIC domain that has a live indicator wins (evil.com Allowed +
 *            bad.evil.com Block: bad.evil.com is blocked, x.evil.com allowed) - the
 *            domain analogue of the reference's "on conflict the longest path wins"
 *            (derived). notevil.com and evil.com.example do not match evil.com.
 *   URL      "https://example.com/block matches everything under /block; on conflict
 *            the longest path wins". "Under" is read as a path-segment boundary:
 *            .../block matches .../block, .../block/x and .../block?q=1, not
 *            .../blockade; an indicator ending in '/' matches everything below it; in
 *            the query part a prefix ends before '&'. The scheme is part of the value
 *            (http:// and https:// indicators are distinct). (derived)
 *   URL vs domain: a matching URL indicator names a path on the host, so it is
 *            more specific than any DomainName indicator and wins; only when no URL
 *            indicator matches are the DomainName indicators of the URL's host
 *            consulted (IpAddress indicators when the host is an IP literal). This
 *            extends "the longest path wins" to the domain level, so an admin can
 *            allow a domain and block one path on it, or the reverse. (derived)
 *   IP       exact address only ("no wildcards, ranges or CIDR").
 *   Same value, several indicators (e.g. one per device group): "IP/URL/domain
 *            conflict: Allow > Warn > Block"; Audit, which the reference does not rank,
 *            comes last so an audit-only indicator never switches off an enforcing
 *            one (derived). Then "device-group-scoped policy beats an all-devices
 *            policy"; then the lower id (deterministic).
 *   Files    decision order [IND-file]: "3. blocked or warned by a file indicator =>
 *            Block / Warn" comes before "5. allowed by an allow-file indicator =>
 *            Allow", so Block, BlockAndRemediate and Warn beat Allowed, which beats
 *            Audit (last, derived). Within the same class: "Hash strength (same action
 *            type and target): SHA-256 > SHA-1 > MD5, regardless of device group";
 *            then scoped beats all-devices; then the more restrictive action
 *            (BlockAndRemediate > Block > Warn, derived); then the lower id.
 *   Certificates: same decision order (BlockAndRemediate beats Allowed).
 *   Expiration: an entry with expires_ms != 0 matches only while now < expires_ms.
 *   Scope (rbacGroupNames): "empty = all devices"; otherwise the entry matches a
 *            device that carries at least one of the names (exact, case-sensitive).
 *
 * Thread safety: the vocabulary functions are pure and thread-safe. Lookups
 * (intel_match_*, intel_set_count, intel_set_version) only read the set and may run
 * concurrently with each other; every change (put, remove, purge, reserve, free)
 * needs exclusive access (e.g. a rwlock held for writing), and invalidates the
 * value pointers handed out by earlier matches.
 */
#ifndef RG_INTEL_INDICATORS_H
#define RG_INTEL_INDICATORS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- vocabulary ---- */

/* indicatorType; the names are Defender's exact strings. */
enum intel_type {
    INTEL_FILE_SHA1,    /* "FileSha1" */
    INTEL_FILE_SHA256,  /* "FileSha256" */
    INTEL_FILE_MD5,     /* "FileMd5" */
    INTEL_CERT,         /* "CertificateThumbprint" */
    INTEL_IP,           /* "IpAddress" */
    INTEL_DOMAIN,       /* "DomainName" */
    INTEL_URL,          /* "Url" */
    INTEL_TYPE_COUNT
};

/* action, current names. Legacy names are mapped by intel_action_parse(). */
enum intel_action {
    INTEL_ALLOWED,             /* "Allowed" */
    INTEL_AUDIT,               /* "Audit" */
    INTEL_WARN,                /* "Warn" */
    INTEL_BLOCK,               /* "Block" */
    INTEL_BLOCK_AND_REMEDIATE, /* "BlockAndRemediate" */
    INTEL_ACTION_COUNT
};

enum intel_severity {
    INTEL_SEV_INFORMATIONAL, /* "Informational" */
    INTEL_SEV_LOW,           /* "Low" */
    INTEL_SEV_MEDIUM,        /* "Medium" */
    INTEL_SEV_HIGH,          /* "High" */
    INTEL_SEV_COUNT
};

/* Longest canonical value (URLs); out buffers of intel_normalize need INTEL_VALUE_MAX + 1. */
#define INTEL_VALUE_MAX 2048
/* Longest domain name (RFC 1035 presentation form without the trailing dot). */
#define INTEL_DOMAIN_MAX 253
/* Limits on a scope (rbacGroupNames): names per indicator, bytes per name. */
#define INTEL_SCOPE_MAX_NAMES 64
#define INTEL_SCOPE_MAX_NAME_LEN 255

/* Defender name of a value ("FileSha256", "Block", "High"); "?" for out-of-range values. Never NULL. */
const char *intel_type_name(enum intel_type type);
const char *intel_action_name(enum intel_action action);
const char *intel_severity_name(enum intel_severity severity);

/* Parses an exact (case-sensitive) Defender name. 0, or RG_EINVAL for anything else. */
int intel_type_parse(const char *s, enum intel_type *out);
int intel_severity_parse(const char *s, enum intel_severity *out);

/*
 * Parses an action name, accepting the legacy names (reference §2: "Legacy (supported
 * until January 2022): Alert, AlertAndBlock. Renames: alert-only -> Audit + generate
 * alert; alert-and-block -> BlockAndRemediate (+ optional alert)"):
 *   "Alert"         -> INTEL_AUDIT, *alert_implied = true
 *   "AlertAndBlock" -> INTEL_BLOCK_AND_REMEDIATE for files and certificates, and
 *                      INTEL_BLOCK for IpAddress/DomainName/Url (where BlockAndRemediate
 *                      is rejected and Block is what the legacy action did; derived);
 *                      *alert_implied = true
 *   current names   -> themselves, *alert_implied = false
 * "Allow" is not an API value (the portal's label for Allowed) and is rejected with a
 * "did you mean" hint, as are case variants of known names.
 * type: the indicator's type (only used for AlertAndBlock; INTEL_TYPE_COUNT if unknown,
 * which maps it to BlockAndRemediate). alert_implied, err: may be NULL.
 * Returns 0, or RG_EINVAL with a message naming the field "action" in err.
 */
int intel_action_parse(const char *s, enum intel_type type, enum intel_action *out, bool *alert_implied, char *err,
                       size_t errlen);

/*
 * Checks that an action is allowed for a type (reference §2 "Actions per indicator type",
 * §4 "Row rejects ... BlockAndRemediate on network indicators"):
 *   files (hashes): Allowed, Audit, Warn, Block, BlockAndRemediate
 *   IpAddress, DomainName, Url: Allowed, Audit, Warn, Block
 *   CertificateThumbprint: Allowed, BlockAndRemediate
 * and that generate_alert is true for Audit ("generateAlert must be TRUE when creating an
 * Audit indicator"). Returns 0, or RG_EINVAL with a message naming "action" or
 * "generateAlert" in err (may be NULL).
 */
int intel_check_action(enum intel_type type, enum intel_action action, bool generate_alert, char *err,
                       size_t errlen);

/*
 * Validates an indicatorValue of the given type and writes its canonical form to out
 * (NUL-terminated; outlen >= INTEL_VALUE_MAX + 1 always suffices). Rules:
 *   FileSha1 / FileSha256 / FileMd5: exactly 40 / 64 / 32 hex digits; lower-cased.
 *   CertificateThumbprint: the SHA-1 thumbprint, 40 hex digits; spaces between digits
 *     are dropped (as Windows displays them); colons are rejected; lower-cased.
 *   IpAddress: one IPv4 (dotted quad) or IPv6 address (inet_pton); written in canonical
 *     form (inet_ntop; an IPv4-mapped IPv6 address becomes the IPv4 address). Rejected:
 *     CIDR ("IP ranges (CIDR) are not supported; give single addresses"), ranges,
 *     wildcards, ports, brackets, zone ids, and internal addresses ("external addresses
 *     only"): 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.168/16, 224/4,
 *     240/4; ::, ::1, fc00::/7, fe80::/10, fec0::/10, ff00::/8. Documentation ranges
 *     (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32) are accepted.
 *   DomainName: lower-cased, one trailing dot dropped, at most 253 characters; labels of
 *     1-63 letters, digits, '-' (not first or last) or '_'; ASCII only (give IDNs in their
 *     xn-- form). Rejected: wildcards ("*.x" - a domain already matches its subdomains),
 *     URLs, ports and paths, IP addresses, all-digit top-level labels, and public
 *     suffixes alone (see intel_is_public_suffix).
 *   Url: http:// or https:// only; scheme and host lower-cased; host validated as above
 *     (a domain, an IPv4 address or a bracketed IPv6 address); default port (:80 for
 *     http, :443 for https) dropped; no user:password@; empty path becomes "/"; '\' in
 *     the path becomes '/'; "." and ".." segments resolved; percent-escapes of unreserved
 *     characters decoded and other escapes upper-cased (RFC 3986 §6.2.2); an empty query
 *     dropped; the #fragment dropped; path and query otherwise kept as given (they are
 *     case-sensitive). No spaces, control or non-ASCII characters (percent-encode them);
 *     at most INTEL_VALUE_MAX characters.
 * err (may be NULL) receives a one-line English message starting with the field name,
 * e.g. "indicatorValue: IP ranges (CIDR) are not supported; give single addresses".
 * Returns 0, RG_EINVAL (invalid value or type), or RG_ETOOBIG (out too small).
 */
int intel_normalize(enum intel_type type, const char *value, char *out, size_t outlen, char *err, size_t errlen);

/*
 * The type a bare value most likely has (guess.c), for plain-list imports:
 * an IPv4 or IPv6 address (brackets allowed) -> INTEL_IP; exactly 32, 40 or
 * 64 hex digits -> INTEL_FILE_MD5, INTEL_FILE_SHA1, INTEL_FILE_SHA256; a
 * scheme ("://") or a path, query, fragment or port after the host -> INTEL_URL;
 * anything else -> INTEL_DOMAIN. s: one trimmed line (borrowed). Never fails:
 * the guess is then checked by intel_normalize like any value.
 */
enum intel_type intel_guess_type(const char *s);

/*
 * True if domain (lower case, no trailing dot) is a public suffix on its own, so an
 * indicator for it would match every domain under it. Built-in, deliberately modest
 * list (no download, no file): every single label (the Public Suffix List's default "*"
 * rule, so com, net, org, io, uk ...) plus 201 common second-level ICANN suffixes
 * (co.uk, com.au, co.jp, com.br, com.cn, co.in, co.za, ...), each checked against the
 * PSL. Not covered: the PSL's wildcard and exception rules (*.bd, *.np, *.sch.uk ...)
 * and its PRIVATE section (github.io, blogspot.com ...): blocking a whole hosting
 * platform stays possible on purpose.
 */
bool intel_is_public_suffix(const char *domain);

/* ---- the set ---- */

struct intel_set;

/* One indicator to add or update. All pointers are borrowed for the call only. */
struct intel_indicator {
    uint64_t id;                  /* identity in the set (the store's indicator id) */
    enum intel_type type;
    const char *value;            /* raw or canonical; normalized by intel_set_put */
    enum intel_action action;     /* current name (map legacy ones with intel_action_parse) */
    enum intel_severity severity;
    int64_t expires_ms;           /* ms since the epoch; 0 = never; >= 0 */
    const char *const *scope;     /* rbacGroupNames; may be NULL when nscope == 0 */
    size_t nscope;                /* 0 = all devices */
};

/* The result of a lookup. */
struct intel_match {
    bool found;                   /* false: nothing live matched; the other fields are zero */
    enum intel_type type;         /* type of the winning indicator (DomainName for a URL lookup that fell back) */
    enum intel_action action;
    enum intel_severity severity;
    uint64_t id;
    int64_t expires_ms;
    const char *value;            /* canonical value of the winner; borrowed from the set, valid until its next change */
};

/*
 * Allocates an empty set (hash seed from getrandom, so the layout differs per process).
 * *out is NULL on failure. Returns 0 or RG_ENOMEM. Free with intel_set_free.
 */
int intel_set_new(struct intel_set **out);
/* Frees the set and everything in it; accepts NULL. */
void intel_set_free(struct intel_set *set);
/* Pre-sizes the indexes for n indicators (optional; avoids rehashing while loading). 0, RG_ETOOBIG or RG_ENOMEM. */
int intel_set_reserve(struct intel_set *set, size_t n);

/*
 * Adds an indicator, or updates the one with the same id (every field may change).
 * The identity is the id, not the value: several indicators may carry the same value
 * (e.g. one per device group, or Defender for Cloud Apps' own) and then conflict as
 * described at the top. A caller that wants Defender's submit-or-update-by-value keeps
 * one id per (type, value) in its store. The value is normalized (intel_normalize) and
 * the action checked against the type (intel_check_action, without the generateAlert
 * rule). Scope names are interned (each distinct scope is kept until the set is freed).
 * err: may be NULL; gets the message of a validation failure.
 * Returns 0; RG_EINVAL (invalid value, type, action, severity, expiry or scope; the set is
 * unchanged); RG_ETOOBIG (over INTEL_SCOPE_MAX_* or 2^32-2 entries); RG_ENOMEM (the set
 * is unchanged). Increments the version on success. Needs exclusive access.
 */
int intel_set_put(struct intel_set *set, const struct intel_indicator *ind, char *err, size_t errlen);
/* Removes the indicator with this id. 0 (version incremented) or RG_ENOTFOUND. Needs exclusive access. */
int intel_set_remove(struct intel_set *set, uint64_t id);
/* Removes every indicator expired at now (ms); returns how many (version incremented if any). */
size_t intel_set_purge_expired(struct intel_set *set, int64_t now);
/* Number of indicators held, expired ones included until purged. */
size_t intel_set_count(const struct intel_set *set);
/* Change counter: starts at 0, +1 on every successful put, remove and non-empty purge. */
uint64_t intel_set_version(const struct intel_set *set);
/* Bytes allocated by the set (arrays at their capacity), for metrics. */
size_t intel_set_memory(const struct intel_set *set);

/*
 * Lookups. Common parameters:
 *   now        ms since the epoch; entries with expires_ms != 0 && now >= expires_ms are skipped.
 *   tags       the device's group names (rbacGroupNames it belongs to); borrowed; may be NULL
 *              when ntags == 0 (then only all-devices indicators match).
 *   m          the result (always filled; m->found false when nothing matched).
 * Return 0 (look at m->found), or RG_EINVAL when set or m is NULL or the input is not a
 * well-formed host / URL / address / hash (m->found is false then). They never allocate
 * and are safe to call concurrently with each other (see the top).
 */

/* host: a DNS name, any case, optional trailing dot. Matches DomainName indicators on the
 * host and its parent domains; the most specific wins. */
int intel_match_domain(const struct intel_set *set, const char *host, int64_t now, const char *const *tags,
                       size_t ntags, struct intel_match *m);
/* url: an absolute http(s) URL (normalized like a Url indicator; user@ is ignored). Url
 * indicators by longest segment prefix, then DomainName (or IpAddress) indicators of the host. */
int intel_match_url(const struct intel_set *set, const char *url, int64_t now, const char *const *tags, size_t ntags,
                    struct intel_match *m);
/* ip: one IPv4 or IPv6 address (brackets allowed; IPv4-mapped IPv6 matches the IPv4 indicator); exact match. */
int intel_match_ip(const struct intel_set *set, const char *ip, int64_t now, const char *const *tags, size_t ntags,
                   struct intel_match *m);
/* The hashes of one file, hex in any case; any of them may be NULL. File precedence as at the top. */
int intel_match_file(const struct intel_set *set, const char *sha256, const char *sha1, const char *md5, int64_t now,
                     const char *const *tags, size_t ntags, struct intel_match *m);
/* thumbprint: the certificate's SHA-1 thumbprint, 40 hex digits (spaces allowed). */
int intel_match_cert(const struct intel_set *set, const char *thumbprint, int64_t now, const char *const *tags,
                     size_t ntags, struct intel_match *m);
#endif
