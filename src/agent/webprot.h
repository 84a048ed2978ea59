/*
 * webprot.h: web protection's traffic filter inside the agent core: the DNS
 * filter (dnsfilter.h) deciding by the synced indicators and the built-in
 * phishing test domain (agent_web_match, the same decision as check-url), the
 * block page (blockpage.h), the switches (antiphishing, vpn, the person's VPN
 * skip, read again at every batch of queries so live settings apply at once)
 * and the reports: a "phishing" detection per blocked or warned name (at most
 * one per name per hour), a "phishingOverridden" one per "Continue anyway".
 * Internal: only src/agent/ includes it. Runs on the daemon's thread.
 */
#ifndef RG_AGENT_WEBPROT_H
#define RG_AGENT_WEBPROT_H
#include <poll.h>
#include <stdint.h>

#include <jansson.h>

#include "agent/dnsfilter.h"

struct rg_agent;
struct rg_agent_dns;

#define WEBPROT_DEFAULT_LISTEN "127.0.0.2:53"
#define WEBPROT_MAX_FDS (DNSF_MAX_FDS + 1) /* the filter's sockets and the block page's eventfd */
#define WEBPROT_RATE_SLOTS 1024            /* names whose last report time is kept (one report per name per hour) */
#define WEBPROT_REPORT_EVERY_MS (3600 * 1000)

/* Stores the options (rg_agent_set_dns); 0, RG_AGENT_EINVAL (with ag->err), RG_AGENT_ENOMEM. */
int webprot_configure(struct rg_agent *ag, const struct rg_agent_dns *dns);
/* Opens the filter and the page when configured; failures are logged and shown in status, never fatal. */
void webprot_start(struct rg_agent *ag);
void webprot_free(struct rg_agent *ag);
int webprot_pollfds(struct rg_agent *ag, struct pollfd *fds, int max);
void webprot_process(struct rg_agent *ag, const struct pollfd *fds, int n);
/* Timeouts, reports of overrides, forgetting reported events. */
void webprot_tick(struct rg_agent *ag, int64_t now_ms);
/* Monotonic ms of the next timeout, or INT64_MAX. */
int64_t webprot_next(const struct rg_agent *ag);
/* status.json "dnsFilter" (new reference; null when the daemon has no filter configured). */
json_t *webprot_status_json(struct rg_agent *ag);
/*
 * The filter's decision for one name, as the DNS filter asks it (exposed for
 * tests): PASS when filtering is off, an override applies, or no Block/Warn
 * decides it. Side effects on BLOCK/WARN: the block page learns why, and a
 * "phishing" detection is raised when the name was not reported in the last hour.
 */
enum dnsf_action webprot_decide(void *agent, const char *name, uint16_t qtype);
/* Reads the switches again (antiphishing, vpn, the VPN skip); done before every batch of queries. */
void webprot_refresh(struct rg_agent *ag);
#endif
