/*
 * indset.h: the agent's indicator set, filled by delta sync
 * (GET /device/v1/indicators) and asked by the scanner (file hashes) and by
 * check-url (URLs, domains, IPs). A thin seam over the shared matcher of
 * src/intel/indicators.h (whose header documents the matching and precedence
 * rules: domains by whole-label suffix, most specific wins; URL path prefixes,
 * longest wins, before the host's domain; Allowed > Warn > Block > Audit on one
 * value; files Block/Warn > Allowed > Audit, then SHA-256 > SHA-1 > MD5), plus
 * what the agent shows that the matcher does not keep: each indicator's title.
 *
 *   struct indset *s = indset_new();
 *   indset_upsert(s, &(struct indicator){.id = 1, .type = IND_DOMAIN, .value = "evil.com", .action = IND_BLOCK});
 *   struct indicator hit;
 *   if (indset_match_url(s, "https://a.evil.com/x", &hit)) ... hit.action ...
 *   indset_free(s);
 *
 * Not thread-safe. Strings of a match are borrowed until the next change.
 */
#ifndef RG_AGENT_INDSET_H
#define RG_AGENT_INDSET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ind_type { IND_NONE, IND_SHA256, IND_SHA1, IND_MD5, IND_CERT, IND_IP, IND_DOMAIN, IND_URL };
/* In increasing precedence for web matches (Allowed wins). */
enum ind_action { IND_NOACTION, IND_AUDIT, IND_BLOCK, IND_REMEDIATE, IND_WARN, IND_ALLOWED };

struct indicator {
    int64_t id;
    enum ind_type type;
    const char *value; /* as sent; the set stores a normalized copy */
    enum ind_action action;
    const char *severity; /* "Informational".."High", may be NULL */
    const char *title;    /* may be NULL */
    int64_t expires_ms;   /* 0 = never */
};

struct indset;

/* Parses "FileSha256", "DomainName", ... (case-insensitive); IND_NONE if unknown. */
enum ind_type indset_type_parse(const char *s);
/* Parses "Block", "Allowed", "Alert" ... (case-insensitive); IND_NOACTION if unknown. */
enum ind_action indset_action_parse(const char *s);
/* "Block", "Allowed", ... for display. */
const char *indset_action_name(enum ind_action a);
const char *indset_type_name(enum ind_type t);

/* A new empty set, or NULL without memory. */
struct indset *indset_new(void);
/* Frees the set; accepts NULL. */
void indset_free(struct indset *s);
/* Removes every indicator. */
void indset_clear(struct indset *s);
/* Number of indicators held. */
size_t indset_count(const struct indset *s);
/*
 * Adds or replaces (by id) an indicator; strings are copied, the value
 * normalized by intel_normalize. expires_ms: 0 = never. 0, RG_EINVAL (unknown
 * type or action, invalid value), RG_ENOMEM (the indicator may then match
 * already, without its title: apply it again, as a sync retry does).
 */
int indset_upsert(struct indset *s, const struct indicator *ind);
/* Removes an indicator by id; 0 or RG_ENOTFOUND. */
int indset_remove(struct indset *s, int64_t id);

/*
 * The deciding indicator for a URL ("https://..."), a bare host or an IP
 * address, into *out; false when none matches (or the input is not one).
 */
bool indset_match_url(const struct indset *s, const char *url, struct indicator *out);
/* The deciding file indicator for these hashes (hex, any may be NULL or ""), into *out; false if none. */
bool indset_match_file(const struct indset *s, const char *sha256, const char *sha1, const char *md5,
                       struct indicator *out);
#endif
