/*
 * config.h: the Defender-app configuration keys the agent understands
 * (reference §9.4), as one table: name, kind, default. The server resolves
 * each key across app-configuration sets into "settings"; this module reads
 * that object: booleans accept 0/1 and true/false (any case), JSON booleans
 * and integers; a missing or unreadable value falls back to the default.
 * Pure functions over a borrowed json_t; thread-safe.
 */
#ifndef RG_AGENT_CONFIG_H
#define RG_AGENT_CONFIG_H
#include <stdbool.h>

#include <jansson.h>

enum config_kind { CONFIG_BOOL, CONFIG_INT, CONFIG_STRING };

struct config_key {
    const char *name;
    enum config_kind kind;
    const char *def; /* default as on the wire; NULL = none */
    const char *what;
};

/* The table, terminated by a {NULL} entry. */
const struct config_key *config_keys(void);
/* The table row of a key (exact name), or NULL. */
const struct config_key *config_key_find(const char *name);

/* Parses "1"/"0"/"true"/"false" (any case, surrounding blanks allowed); 0 or RG_EINVAL. */
int config_bool_parse(const char *s, bool *out);
/* Parses a decimal integer (blanks allowed around it) or true/false as 1/0; 0 or RG_EINVAL. */
int config_int_parse(const char *s, long *out);

/* A boolean key from settings (may be NULL), with the table's default. */
bool config_bool(const json_t *settings, const char *name);
/* An integer key from settings, with the table's default. */
long config_int(const json_t *settings, const char *name);
/* A string key from settings, or the default (may be NULL). Borrowed from settings or the table. */
const char *config_string(const json_t *settings, const char *name);

/* Web protection state per §9.5/§9.7. */
enum config_web { CONFIG_WEB_OFF, CONFIG_WEB_PARTIAL, CONFIG_WEB_ON };
/*
 * Web protection from antiphishing, vpn and whether the person skipped the
 * VPN; *why (may be NULL): a sentence for a person (static string).
 */
enum config_web config_web_protection(const json_t *settings, bool vpn_skipped, const char **why);
/* "on", "partial", "off". */
const char *config_web_name(enum config_web w);
#endif
