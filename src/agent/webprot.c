/*
 * webprot.c: web protection's traffic filter in the agent core (see
 * webprot.h): options, the decide callback the DNS filter asks for every
 * query, the block page, and the phishing reports.
 *
 * Switches (reference §9.5, §9.7), read again before every batch of queries:
 *   vpn=1 and the VPN not skipped: the filter filters (custom indicators;
 *     the built-in phishing test domain too when antiphishing=1);
 *   otherwise (vpn=0, or skipped with DefenderOptionalVPN): the filter keeps
 *     listening but forwards everything, so DNS on the device keeps working;
 *     check-url still answers by the indicators when antiphishing=1.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/blockpage.h"
#include "agent/config.h"
#include "agent/core.h"
#include "agent/dnslookup.h"
#include "agent/webprot.h"
#include "common/err.h"
#include "common/util.h"

struct rate_slot {
    uint64_t h;
    int64_t at_ms;
};

struct webprot {
    struct dnsf_config cfg;
    char listen_text[80];
    bool page_on;
    struct sockaddr_storage page;
    socklen_t page_len;
    char page_text[80];
    bool upstream_default;
    struct dnsfilter *dns;
    struct blockpage *bp;
    char dns_error[320], page_error[320];
    bool filtering, builtin, hide_names;
    int64_t next_identity_check; /* monotonic ms: state.json (the VPN skip) is looked at no more often */
    size_t pending;              /* phishing detections raised and not yet reported */
    uint64_t reports, reports_skipped;
    struct rate_slot rate[WEBPROT_RATE_SLOTS];
    /* the server's address, looked up through the upstreams (webprot_pin_server) */
    char pin_base[512];   /* the server URL it was looked up for */
    char pin_entry[320];  /* CURLOPT_RESOLVE line, "" when none */
    int64_t pin_until;    /* monotonic ms: look up again from then */
};

#define WEBPROT_MAX_PENDING 256 /* unreported phishing detections at most (the server may be away) */

int webprot_configure(struct rg_agent *ag, const struct rg_agent_dns *dns)
{
    struct webprot *w = ag->web;
    if (!w && !(w = ag->web = calloc(1, sizeof *w)))
        return RG_AGENT_ENOMEM;
    memset(w, 0, sizeof *w);
    const char *listen = dns && dns->listen ? dns->listen : WEBPROT_DEFAULT_LISTEN;
    if (dnsf_parse_addr(listen, 53, &w->cfg.listen, &w->cfg.listen_len))
        return agent_fail(ag, RG_AGENT_EINVAL, "--dns-listen wants ADDR[:PORT] with an IP address: %s", listen);
    dnsf_format_addr(&w->cfg.listen, w->listen_text, sizeof w->listen_text);
    for (int i = 0; dns && i < dns->nupstreams; i++) {
        if (w->cfg.nup == DNSF_MAX_UPSTREAMS)
            return agent_fail(ag, RG_AGENT_EINVAL, "at most %d --dns-upstream", DNSF_MAX_UPSTREAMS);
        if (dnsf_parse_addr(dns->upstreams[i], 53, &w->cfg.up[w->cfg.nup], &w->cfg.up_len[w->cfg.nup]))
            return agent_fail(ag, RG_AGENT_EINVAL, "--dns-upstream wants ADDR[:PORT] with an IP address: %s",
                              dns->upstreams[i]);
        w->cfg.nup++;
    }
    w->upstream_default = w->cfg.nup == 0;
    const char *page = dns ? dns->block_page : NULL;
    w->page_on = !(page && !strcmp(page, "off"));
    if (w->page_on && page) {
        if (dnsf_parse_addr(page, 80, &w->page, &w->page_len))
            return agent_fail(ag, RG_AGENT_EINVAL, "--block-page wants ADDR:PORT with an IP address: %s", page);
    } else if (w->page_on) { /* the filter's address, port 80 */
        w->page = w->cfg.listen;
        w->page_len = w->cfg.listen_len;
        if (w->page.ss_family == AF_INET)
            ((struct sockaddr_in *)&w->page)->sin_port = htons(80);
        else
            ((struct sockaddr_in6 *)&w->page)->sin6_port = htons(80);
    }
    struct dnsf_answers *a = &w->cfg.answers;
    a->nxdomain = dns && dns->nxdomain;
    a->ttl = DNSF_TTL;
    if (w->page_on && w->page.ss_family == AF_INET6) {
        a->have_v6 = true;
        memcpy(a->v6, &((struct sockaddr_in6 *)&w->page)->sin6_addr, 16);
    } else if (w->page_on) {
        a->have_v4 = true;
        memcpy(a->v4, &((struct sockaddr_in *)&w->page)->sin_addr, 4);
    } else {
        a->have_v4 = true; /* 0.0.0.0: the usual "null" sinkhole when there is no page */
    }
    if (w->page_on)
        dnsf_format_addr(&w->page, w->page_text, sizeof w->page_text);
    return 0;
}

void webprot_refresh(struct rg_agent *ag)
{
    struct webprot *w = ag->web;
    int64_t now = agent_mono_ms();
    if (ag->daemon && now >= w->next_identity_check) { /* `vpn on|off` from another process applies within 0.2 s */
        w->next_identity_check = now + 200;
        agent_refresh_identity(ag);
    }
    w->builtin = config_bool(ag->settings, "antiphishing");
    w->filtering = config_bool(ag->settings, "vpn") && !ag->st.vpn_skipped;
    w->hide_names = config_bool(ag->settings, "DefenderExcludeURLInReport");
}

void webprot_start(struct rg_agent *ag)
{
    struct webprot *w = ag->web;
    if (!w)
        return;
    if (w->upstream_default) {
        w->cfg.nup = dnsf_resolv_conf(NULL, &w->cfg.listen, w->cfg.up, w->cfg.up_len, DNSF_MAX_UPSTREAMS);
        if (!w->cfg.nup)
            agent_log(ag, 2,
                      "web protection: no upstream resolver in /etc/resolv.conf (give --dns-upstream): "
                      "names that are not blocked get SERVFAIL");
    }
    webprot_refresh(ag);
    if (w->page_on) {
        int rc = blockpage_new(&w->bp);
        if (rc) {
            snprintf(w->page_error, sizeof w->page_error, "the block page could not start: %s", rg_err_name(rc));
        } else if (blockpage_listen(w->bp, &w->page, w->page_len, w->page_error, sizeof w->page_error)) {
            agent_log(ag, 2, "web protection: %s", w->page_error);
        } else {
            agent_log(ag, 1, "web protection: block page on http://%s/", w->page_text);
        }
    }
    if (dnsfilter_new(&w->cfg, webprot_decide, ag, &w->dns, w->dns_error, sizeof w->dns_error)) {
        agent_log(ag, 2, "web protection partial: %s", w->dns_error);
        return;
    }
    char up[DNSF_MAX_UPSTREAMS * 56] = "";
    size_t off = 0;
    for (int i = 0; i < w->cfg.nup && off < sizeof up; i++) {
        char a[56];
        dnsf_format_addr(&w->cfg.up[i], a, sizeof a);
        off += (size_t)snprintf(up + off, sizeof up - off, "%s%s", i ? ", " : "", a);
    }
    /* the bound address (port 0 picks one) */
    agent_log(ag, 1, "web protection: DNS filter on %s (UDP and TCP), upstream %s, blocked names get %s",
              w->listen_text, w->cfg.nup ? up : "none",
              w->cfg.answers.nxdomain ? "NXDOMAIN"
              : w->page_on            ? w->page_text
                                      : "0.0.0.0");
}

void webprot_pin_server(struct rg_agent *ag)
{
    struct webprot *w = ag->web;
    struct httpc_client *hc = &ag->http;
    if (!w || !w->dns || !ag->http_ready || !hc->base)
        return;
    /* the filter waits while the loop is in a request: do not wait long to connect */
    hc->connect_timeout_s = WEBPROT_CONNECT_TIMEOUT_S;
    char host[256], entry[320];
    if (httpc_resolve_entry(hc->base, "127.0.0.1", entry, sizeof entry, host, sizeof host)) /* IP literal, or bad */
        return;
    int64_t now = agent_mono_ms();
    if (strcmp(w->pin_base, hc->base)) { /* another server: forget the old pin */
        snprintf(w->pin_base, sizeof w->pin_base, "%s", hc->base);
        w->pin_entry[0] = '\0';
        w->pin_until = 0;
    }
    if (now >= w->pin_until && w->cfg.nup > 0) {
        char addr[64];
        uint32_t ttl = 0;
        int rc = dnslookup_addr(w->cfg.up, w->cfg.up_len, w->cfg.nup, host, WEBPROT_PIN_LOOKUP_MS, addr, sizeof addr,
                                &ttl);
        if (!rc && !httpc_resolve_entry(hc->base, addr, entry, sizeof entry, NULL, 0)) {
            if (ttl < WEBPROT_PIN_MIN_S)
                ttl = WEBPROT_PIN_MIN_S;
            if (ttl > WEBPROT_PIN_MAX_S)
                ttl = WEBPROT_PIN_MAX_S;
            snprintf(w->pin_entry, sizeof w->pin_entry, "%s", entry);
            w->pin_until = now + (int64_t)ttl * 1000;
        } else { /* keep a stale pin if there is one; try again later, not at every request */
            agent_log(ag, 2, "web protection: the upstream resolvers did not give %s's address (%s)", host,
                      rg_err_name(rc ? rc : RG_EINVAL));
            w->pin_until = now + WEBPROT_PIN_RETRY_S * 1000;
        }
    }
    if (w->pin_entry[0])
        httpc_set_resolve(hc, w->pin_entry); /* on RG_ENOMEM the old pin, or curl's own lookup */
}

void webprot_free(struct rg_agent *ag)
{
    struct webprot *w = ag->web;
    if (!w)
        return;
    dnsfilter_free(w->dns);
    blockpage_free(w->bp);
    free(w);
    ag->web = NULL;
}

int webprot_pollfds(struct rg_agent *ag, struct pollfd *fds, int max)
{
    struct webprot *w = ag->web;
    if (!w || max <= 0)
        return 0;
    int n = 0;
    if (w->bp) {
        fds[n].fd = blockpage_fd(w->bp);
        fds[n].events = POLLIN;
        fds[n].revents = 0;
        n++;
    }
    if (w->dns)
        n += dnsfilter_pollfds(w->dns, fds + n, max - n);
    return n;
}

static void name_key(const char *prefix, const char *name, char *key, size_t n)
{
    char hex[UTIL_SHA256_HEX_LEN + 1];
    util_sha256_hex(name, strlen(name), hex, sizeof hex);
    snprintf(key, n, "%s%s", prefix, hex);
}

/* Raises a web detection unless too many wait for the server already. */
static void report_name(struct rg_agent *ag, const char *kind, const char *prefix, const char *name, const char *title,
                        const char *threat)
{
    struct webprot *w = ag->web;
    if (w->pending >= WEBPROT_MAX_PENDING) {
        w->reports_skipped++;
        return;
    }
    char key[80];
    name_key(prefix, name, key, sizeof key);
    json_t *d = json_object();
    if (!w->hide_names) /* DefenderExcludeURLInReport: the name never leaves the device */
        json_object_set_new(d, "url", json_string(name));
    if (threat && *threat)
        json_object_set_new(d, "threatName", json_string(threat));
    if (!agent_detection_set(ag, kind, key, true, title, d)) {
        w->pending++;
        w->reports++;
    }
}

static uint64_t hash64(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

enum dnsf_action webprot_decide(void *agent, const char *name, uint16_t qtype)
{
    (void)qtype;
    struct rg_agent *ag = agent;
    struct webprot *w = ag->web;
    if (!w->filtering || !name[0])
        return DNSF_PASS;
    struct agent_web_hit h;
    int act = agent_web_match(ag, name, name, w->builtin, &h);
    if (act != RG_AGENT_BLOCK && act != RG_AGENT_WARN)
        return DNSF_PASS;
    bool warn = act == RG_AGENT_WARN;
    int64_t now = util_now_ms();
    if (warn && blockpage_overridden(w->bp, name, now))
        return DNSF_PASS;
    /* one report per name per hour; the table forgets the oldest names first (direct-mapped) */
    uint64_t hv = hash64(name);
    struct rate_slot *r = &w->rate[hv % WEBPROT_RATE_SLOTS];
    bool report = r->h != hv || r->at_ms == 0 || now - r->at_ms >= WEBPROT_REPORT_EVERY_MS;
    if (!w->bp && !report)
        return warn ? DNSF_WARN : DNSF_BLOCK; /* nothing to tell: no text to format on this hot path */
    char why[BP_TEXT_MAX], ind[BP_TEXT_MAX] = "";
    if (h.builtin) {
        snprintf(why, sizeof why, "it is a known phishing test site");
    } else {
        snprintf(ind, sizeof ind, "%s %s", indset_type_name(h.ind.type), h.ind.value ? h.ind.value : "");
        snprintf(why, sizeof why, "%s", h.title && *h.title ? h.title : ind);
    }
    if (w->bp)
        blockpage_record(w->bp, name, warn, why, h.builtin ? NULL : ind);
    if (report) {
        r->h = hv;
        r->at_ms = now;
        char title[BP_TEXT_MAX + 64];
        if (w->hide_names) /* the reason may be "DomainName <the name>" (an indicator without a title) */
            snprintf(title, sizeof title, "%s", warn ? "Phishing warning shown" : "Phishing site blocked");
        else
            snprintf(title, sizeof title, "%s: %s",
                     warn ? "Web protection warned about a site" : "Web protection blocked a site",
                     h.builtin ? "phishing test site" : why);
        report_name(ag, "phishing", "dns:", name, title, h.builtin ? "Phishing test page" : h.title);
    }
    return warn ? DNSF_WARN : DNSF_BLOCK;
}

void webprot_process(struct rg_agent *ag, const struct pollfd *fds, int n)
{
    struct webprot *w = ag->web;
    if (!w)
        return;
    webprot_refresh(ag);
    if (w->dns)
        dnsfilter_process(w->dns, fds, n);
    if (!w->bp)
        return;
    int efd = blockpage_fd(w->bp);
    for (int i = 0; i < n; i++) {
        if (fds[i].fd != efd || !(fds[i].revents & POLLIN))
            continue;
        uint64_t v;
        if (read(efd, &v, sizeof v) < 0 && errno != EAGAIN)
            agent_log(ag, 2, "web protection: block page wake-up: %s", strerror(errno));
        struct bp_event ev;
        while (blockpage_take(w->bp, &ev)) {
            agent_log(ag, 1, "web protection: the person continued to a warned site%s%s", w->hide_names ? "" : ": ",
                      w->hide_names ? "" : ev.name);
            char title[BP_TEXT_MAX + 64];
            if (w->hide_names) /* ev.title may be "DomainName <the name>" */
                snprintf(title, sizeof title, "Phishing warning overlooked");
            else
                snprintf(title, sizeof title, "Warning overlooked: the person opened a warned site anyway (%s)",
                         ev.title);
            report_name(ag, "phishingOverridden", "dnsoverride:", ev.name, title, w->hide_names ? NULL : ev.title);
        }
    }
}

void webprot_tick(struct rg_agent *ag, int64_t now_ms)
{
    struct webprot *w = ag->web;
    if (!w)
        return;
    webprot_refresh(ag);
    if (w->dns)
        dnsfilter_timeouts(w->dns, now_ms);
    /* phishing alerts are events: once the server has them, the device forgets them */
    agent_detections_forget_reported(ag, "phishing");
    agent_detections_forget_reported(ag, "phishingOverridden");
    size_t pending = 0;
    for (size_t i = 0; i < ag->nthreats; i++)
        pending += !ag->threats[i].reported &&
                   (!strcmp(ag->threats[i].kind, "phishing") || !strcmp(ag->threats[i].kind, "phishingOverridden"));
    w->pending = pending;
}

int64_t webprot_next(const struct rg_agent *ag)
{
    const struct webprot *w = ag->web;
    return w && w->dns ? dnsfilter_next(w->dns) : INT64_MAX;
}

json_t *webprot_status_json(struct rg_agent *ag)
{
    struct webprot *w = ag->web;
    if (!w || !ag->daemon)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "listen", json_string(w->listen_text));
    json_object_set_new(o, "listening", json_boolean(w->dns != NULL));
    json_object_set_new(o, "error", w->dns ? json_null() : json_string(w->dns_error));
    json_object_set_new(o, "filtering", json_boolean(w->dns && w->filtering));
    json_object_set_new(
        o, "why",
        json_string(!w->dns ? w->dns_error
                    : w->filtering
                        ? (w->builtin ? "blocked and warned names are answered locally"
                                      : "blocked and warned names are answered locally (custom indicators only: "
                                        "antiphishing is 0)")
                    : ag->st.vpn_skipped ? "you skipped the VPN: every query is forwarded unfiltered"
                                         : "vpn is 0: every query is forwarded unfiltered"));
    json_object_set_new(o, "builtinPhishingList", json_boolean(w->builtin));
    json_object_set_new(o, "blockMode", json_string(w->cfg.answers.nxdomain ? "nxdomain" : "sinkhole"));
    json_t *ups = json_array();
    const struct dnsf_config *c = &w->cfg;
    for (int i = 0; i < c->nup; i++) {
        char a[56];
        dnsf_format_addr(&c->up[i], a, sizeof a);
        json_array_append_new(ups, json_string(a));
    }
    json_object_set_new(o, "upstreams", ups);
    static const struct dnsf_stats zero;
    const struct dnsf_stats *s = w->dns ? dnsfilter_stats(w->dns) : &zero;
    json_object_set_new(o, "queries", json_integer((json_int_t)s->queries));
    json_object_set_new(o, "blocked", json_integer((json_int_t)s->blocked));
    json_object_set_new(o, "warned", json_integer((json_int_t)s->warned));
    json_object_set_new(o, "forwarded", json_integer((json_int_t)s->forwarded));
    json_object_set_new(o, "servfail", json_integer((json_int_t)s->servfail));
    json_object_set_new(o, "formerr", json_integer((json_int_t)s->formerr));
    json_object_set_new(o, "dropped", json_integer((json_int_t)s->dropped));
    json_object_set_new(o, "tcpEvicted", json_integer((json_int_t)s->tcp_evicted));
    json_object_set_new(o, "reports", json_integer((json_int_t)w->reports));
    json_object_set_new(o, "reportsSkipped", json_integer((json_int_t)w->reports_skipped));
    json_t *page = w->bp ? blockpage_json(w->bp, util_now_ms(), w->hide_names) : json_object();
    json_object_set_new(page, "address", w->page_on ? json_string(w->page_text) : json_null());
    if (!blockpage_listening(w->bp))
        json_object_set_new(page, "error", json_string(w->page_on ? w->page_error : "off (--block-page off)"));
    json_object_set_new(o, "blockPage", page);
    return o;
}
