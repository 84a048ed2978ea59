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

#define WEBPROT_CONNECT_TIMEOUT_S 2L /* the agent's connect timeout to the server while the filter runs */
#define WEBPROT_PIN_LOOKUP_MS 1000   /* the server's name through the upstreams: all of them together */
#define WEBPROT_PIN_MIN_S 60         /* the looked-up address is kept for its TTL, within these bounds */
#define WEBPROT_PIN_MAX_S 300
#define WEBPROT_PIN_RETRY_S 30 /* after a failed lookup */

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
/*
 * While the DNS filter runs, pins the server's address for ag->http (called
 * before every request to the server, agent_session): the device's resolver
 * may be this filter, which cannot answer while the loop waits in curl, so the
 * server's host name is looked up through the filter's upstreams (dnslookup.h)
 * and handed to curl (httpc_set_resolve), kept for its TTL (60-300 s). Also
 * lowers the connect timeout to WEBPROT_CONNECT_TIMEOUT_S. Nothing for an IP
 * literal URL or without the filter. Blocks up to WEBPROT_PIN_LOOKUP_MS.
 */
void webprot_pin_server(struct rg_agent *ag);
/* Reads the switches again (antiphishing, vpn, the VPN skip); done before every batch of queries. */
void webprot_refresh(struct rg_agent *ag);
#endif
