/*
 * agentconfig.h: the device agent's configuration from app configuration
 * sets, by the seed's own keys (threat-defense reference §9.4). Pure.
 *
 * Intune never merges app configuration; the Defender app receives every set
 * and resolves. We resolve on the server, once, so every agent agrees: each key
 * has a documented default and a resolver (the most protective value when two
 * sets disagree). Sets without DefenderMAMConfigs = 1 are ignored, as the
 * reference requires of "Managed apps" policies, and reported as such.
 */
#ifndef RG_THREAT_AGENTCONFIG_H
#define RG_THREAT_AGENTCONFIG_H
#include <jansson.h>

/* App ids whose app configurations configure the agent (Defender's, and ours). */
#define AGENTCONFIG_APP_DEFENDER "com.microsoft.scmx"
#define AGENTCONFIG_APP_RISKGATE "org.riskgate.agent"

/*
 * sets: borrowed array of {"id","displayName","customSettings":[{"name","value"}]}.
 * *settings (new ref): every known key with its resolved value as a string
 * ("1"/"0" for booleans and switches, digits for levels, text for tags/lists).
 * *ignored (new ref): [{"id","displayName","reason"}] for sets left out.
 * Returns 0 or RG_ENOMEM.
 */
int agentconfig_resolve(const json_t *sets, json_t **settings, json_t **ignored);

/* True if a resolved setting is on ("1"). */
int agentconfig_on(const json_t *settings, const char *key);
#endif
