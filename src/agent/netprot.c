/*
 * netprot.c: network protection in the daemon (netprot.h, docs/agent.md
 * "Network protection"). It gathers three kinds of facts on its own
 * schedule — the trust stores' certificates (every scan interval), the
 * current Wi-Fi (nmcli every 30 s, or what `network observe` fed in) and the
 * interception checks (a worker thread: at start, every --net-interval, when
 * the network changes) — and turns them, with the configuration keys of
 * reference §9.4, into detections through agent_detection_set:
 *
 *   certificate "cert:<sha256>"  a trust-store certificate not in the bundle,
 *                                not allow-listed, not trusted by the person
 *   openNetwork "wifi:<sha256>"  an open or WEP network, not trusted
 *   rogueWifi   "tls:<sha256>"   a well-known host whose TLS does not verify
 *
 * When a condition goes away the detection is cleared (reported resolved)
 * with DefenderNetworkProtectionAutoRemediation on, else forgotten locally
 * (the server's alert stays for the SOC). Switching a detection off, or all
 * of network protection, and the person's trust clear at once. With
 * DefenderNetworkProtectionPrivacy on, no SSID, BSSID or certificate subject
 * is put in a title, a detail or an info-level log line.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/config.h"
#include "agent/core.h"
#include "agent/netprot.h"
#include "common/err.h"

#define WIFI_EVERY_MS 30000       /* nmcli */
#define WIFI_MISSING_MS 300000    /* nmcli not there: look again every 5 minutes */
#define FINGERPRINT_EVERY_MS 5000 /* interfaces and addresses: has the network changed? */
#define JOB_POLL_MS 100           /* while checks run, the loop looks every 100 ms */
#define TRUST_FILE "network-trust.json"

struct np_check {
    char spec[300]; /* as given, for status */
    struct netprot_tls_target t;
    struct netprot_tls_outcome o;
};

struct np_list {
    char **v;
    size_t n;
};

struct netprot {
    struct np_list stores, bundles; /* given with --trust-store / --ca-bundle, else the Debian defaults */
    char *tls_ca;
    struct np_check checks[NETPROT_MAX_TLS_CHECKS];
    size_t nchecks;
    int interval_s;
    bool started;

    struct netprot_certset foreign; /* trust-store certificates not in the bundle (before keys and trust) */
    size_t checked;                 /* certificates seen in the trust stores */
    bool certs_known, certs_complete;
    int64_t last_cert_ms; /* wall */

    struct netprot_wifi wifi; /* sec UNKNOWN: nothing known */
    bool observed;            /* fed in (no NetworkManager): holds until observed_until, or until nmcli answers */
    int64_t observed_until;   /* monotonic */
    bool nmcli_missing;
    uint32_t group;           /* --network-group: its members may use observe/trust/untrust, or NETPROT_NO_GROUP */
    char group_name[64];
    unsigned long passes;     /* evaluations done: a progress signal in status.json */

    char fingerprint[UTIL_SHA256_HEX_LEN + 1];
    struct netprot_tls_job *job;
    int64_t last_tls_ms; /* wall */

    int64_t next_cert, next_wifi, next_tls, next_fp; /* monotonic */
    bool request, dirty;
    char *seen_config; /* the configuration version last evaluated ("" none) */

    struct np_list trusted_nets, trusted_certs;
    char *trust_path;
};

/* ---- small helpers ---- */

static int list_add(struct np_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s))
            return 0;
    char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v)
        return RG_ENOMEM;
    l->v = v;
    if (!(v[l->n] = strdup(s)))
        return RG_ENOMEM;
    l->n++;
    return 0;
}

static bool list_remove(struct np_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!strcmp(l->v[i], s)) {
            free(l->v[i]);
            l->v[i] = l->v[--l->n];
            return true;
        }
    }
    return false;
}

static bool list_has(const struct np_list *l, const char *s)
{
    for (size_t i = 0; s && i < l->n; i++)
        if (!strcmp(l->v[i], s))
            return true;
    return false;
}

static void list_release(struct np_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static json_t *list_json(const struct np_list *l)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < l->n; i++)
        json_array_append_new(a, json_string(l->v[i]));
    return a;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* The keys, read once per use. Modes: 0 off, 1 audit, 2 enable (notify the person). */
struct np_keys {
    bool on, trust_flow, autorem, privacy;
    long cert_mode, open_mode;
    const char *allow;
};

static long mode_of(const json_t *s, const char *key)
{
    long v = config_int(s, key);
    return v < 0 ? 0 : v > 2 ? 2 : v;
}

static void keys_read(const struct rg_agent *ag, struct np_keys *k)
{
    const json_t *s = ag->settings;
    k->on = config_bool(s, "DefenderNetworkProtectionEnable");
    k->cert_mode = k->on ? mode_of(s, "DefenderCertificateDetection") : 0;
    k->open_mode = k->on ? mode_of(s, "DefenderOpenNetworkDetection") : 0;
    k->trust_flow = config_bool(s, "DefenderEndUserTrustFlowEnable");
    k->autorem = config_bool(s, "DefenderNetworkProtectionAutoRemediation");
    k->privacy = config_bool(s, "DefenderNetworkProtectionPrivacy");
    k->allow = config_string(s, "DefenderAllowlistedCACertificates");
}

static const char *mode_name(long m)
{
    return m == 2 ? "enable" : m == 1 ? "audit" : "off";
}

static bool on_wifi(const struct netprot_wifi *w)
{
    return w->sec != NETPROT_SEC_UNKNOWN && w->sec != NETPROT_SEC_NONE;
}

static bool net_trusted(const struct netprot *np, const struct np_keys *k)
{
    return k->trust_flow && on_wifi(&np->wifi) && list_has(&np->trusted_nets, np->wifi.ssid);
}

static void tls_key(const struct np_check *c, char *out, size_t n)
{
    char h[UTIL_SHA256_HEX_LEN + 1];
    char hp[300];
    snprintf(hp, sizeof hp, "%s:%s", c->t.host, c->t.port);
    util_sha256_hex(hp, strlen(hp), h, sizeof h);
    snprintf(out, n, "tls:%s", h);
}

/* ---- lifecycle and options ---- */

struct netprot *netprot_new(void)
{
    struct netprot *np = calloc(1, sizeof *np);
    if (np) {
        np->interval_s = NETPROT_DEFAULT_INTERVAL_S;
        np->group = NETPROT_NO_GROUP;
    }
    return np;
}

void netprot_free(struct netprot *np)
{
    if (!np)
        return;
    netprot_tls_job_free(np->job);
    list_release(&np->stores);
    list_release(&np->bundles);
    list_release(&np->trusted_nets);
    list_release(&np->trusted_certs);
    netprot_certset_release(&np->foreign);
    free(np->tls_ca);
    free(np->seen_config);
    free(np->trust_path);
    free(np);
}

int rg_agent_add_trust_store(struct rg_agent *ag, const char *dir)
{
    if (!dir || !*dir)
        return agent_fail(ag, RG_AGENT_EINVAL, "--trust-store wants a folder or file");
    return list_add(&ag->np->stores, dir) ? RG_AGENT_ENOMEM : 0;
}

int rg_agent_add_ca_bundle(struct rg_agent *ag, const char *path)
{
    struct stat sb;
    if (!path || stat(path, &sb))
        return agent_fail(ag, RG_AGENT_EINVAL, "%s: no such file or folder (--ca-bundle)", path ? path : "(null)");
    return list_add(&ag->np->bundles, path) ? RG_AGENT_ENOMEM : 0;
}

int rg_agent_add_tls_check(struct rg_agent *ag, const char *spec)
{
    struct netprot *np = ag->np;
    if (np->nchecks >= NETPROT_MAX_TLS_CHECKS)
        return agent_fail(ag, RG_AGENT_EINVAL, "at most %d --tls-check endpoints", NETPROT_MAX_TLS_CHECKS);
    struct np_check *c = &np->checks[np->nchecks];
    memset(c, 0, sizeof *c);
    if (!spec || strlen(spec) >= sizeof c->spec || netprot_tls_parse(spec, &c->t))
        return agent_fail(ag, RG_AGENT_EINVAL, "--tls-check wants HOST:PORT[=SHA256], not %s", spec ? spec : "(null)");
    char hp[sizeof c->spec];
    snprintf(hp, sizeof hp, "%s:%s", c->t.host, c->t.port);
    memcpy(c->spec, hp, sizeof hp);
    np->nchecks++;
    return 0;
}

int rg_agent_set_tls_ca(struct rg_agent *ag, const char *file)
{
    struct stat sb;
    if (!file || stat(file, &sb) || !S_ISREG(sb.st_mode))
        return agent_fail(ag, RG_AGENT_EINVAL, "%s: not a file (--tls-ca)", file ? file : "(null)");
    char *c = strdup(file);
    if (!c)
        return RG_AGENT_ENOMEM;
    free(ag->np->tls_ca);
    ag->np->tls_ca = c;
    return 0;
}

void rg_agent_set_net_interval(struct rg_agent *ag, int seconds)
{
    ag->np->interval_s = seconds < 10 ? 10 : seconds;
}

int netprot_set_group(struct netprot *np, const char *name)
{
    if (!name || !*name || strlen(name) >= sizeof np->group_name)
        return RG_EINVAL;
    struct group gr, *res = NULL;
    char tmp[16384];
    if (getgrnam_r(name, &gr, tmp, sizeof tmp, &res) || !res)
        return RG_EINVAL;
    np->group = (uint32_t)res->gr_gid;
    snprintf(np->group_name, sizeof np->group_name, "%s", name);
    return 0;
}

int rg_agent_set_network_group(struct rg_agent *ag, const char *name)
{
    if (netprot_set_group(ag->np, name))
        return agent_fail(ag, RG_AGENT_EINVAL, "--network-group: no such group %s", name ? name : "(null)");
    return 0;
}

bool netprot_peer_allowed(const struct netprot_peer *p, uint32_t self_uid, uint32_t group)
{
    if (!p || !p->known)
        return false;
    if (p->uid == 0 || p->uid == self_uid)
        return true;
    if (group == NETPROT_NO_GROUP)
        return false;
    if (p->gid == group)
        return true;
    for (size_t i = 0; p->groups && i < p->ngroups; i++)
        if (p->groups[i] == group)
            return true;
    return false;
}

/* ---- the person's trust (network-trust.json, 0600) ---- */

static void trust_load(struct rg_agent *ag)
{
    struct netprot *np = ag->np;
    json_error_t e;
    json_t *o = json_load_file(np->trust_path, 0, &e);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(o, "networks"), i, v) if (json_is_string(v))
        list_add(&np->trusted_nets, json_string_value(v));
    json_array_foreach(json_object_get(o, "certificates"), i, v) if (json_is_string(v))
        list_add(&np->trusted_certs, json_string_value(v));
    json_decref(o);
}

static int trust_save(struct rg_agent *ag)
{
    struct netprot *np = ag->np;
    json_t *o = json_object();
    json_object_set_new(o, "networks", list_json(&np->trusted_nets));
    json_object_set_new(o, "certificates", list_json(&np->trusted_certs));
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", np->trust_path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = fd < 0 ? RG_EIO : 0;
    if (!rc && (json_dumpfd(o, fd, JSON_INDENT(2)) || fsync(fd)))
        rc = RG_EIO;
    if (fd >= 0 && close(fd))
        rc = RG_EIO;
    json_decref(o);
    if (!rc && (chmod(tmp, 0600) || rename(tmp, np->trust_path)))
        rc = RG_EIO;
    if (rc) {
        unlink(tmp);
        agent_log(ag, 3, "cannot write %s: %s", np->trust_path, strerror(errno));
    }
    return rc;
}

/* ---- gathering facts ---- */

static void scan_certs(struct rg_agent *ag)
{
    struct netprot *np = ag->np;
    static const char *const def_stores[] = {"/usr/local/share/ca-certificates", "/etc/ssl/certs"};
    static const char *const def_bundles[] = {"/usr/share/ca-certificates"};
    struct netprot_certset store = NETPROT_CERTSET_INIT, bundle = NETPROT_CERTSET_INIT, foreign = NETPROT_CERTSET_INIT;
    int rc = 0;
    for (size_t i = 0; !rc && i < (np->stores.n ? np->stores.n : 2); i++)
        rc = netprot_certset_load(&store, np->stores.n ? np->stores.v[i] : def_stores[i]);
    for (size_t i = 0; !rc && i < (np->bundles.n ? np->bundles.n : 1); i++)
        rc = netprot_certset_load(&bundle, np->bundles.n ? np->bundles.v[i] : def_bundles[i]);
    if (!rc)
        rc = netprot_suspicious(&store, &bundle, NULL, NULL, 0, &foreign);
    if (rc) {
        agent_log(ag, 2, "network protection: the trust stores could not be read (%s)", rg_err_name(rc));
        netprot_certset_release(&foreign);
    } else {
        bool complete = store.unreadable == 0 && bundle.unreadable == 0;
        if (foreign.n != np->foreign.n || !np->certs_known)
            agent_log(ag, 0, "network protection: %zu certificates in the trust stores, %zu not in the bundle",
                      store.n, foreign.n);
        netprot_certset_release(&np->foreign);
        np->foreign = foreign;
        np->checked = store.n;
        np->certs_known = true;
        np->certs_complete = complete;
        np->last_cert_ms = util_now_ms();
        np->dirty = true;
    }
    netprot_certset_release(&store);
    netprot_certset_release(&bundle);
}

static void read_wifi(struct rg_agent *ag, int64_t now)
{
    struct netprot *np = ag->np;
    struct netprot_wifi w;
    memset(&w, 0, sizeof w); /* netprot_nmcli_read leaves it alone when nmcli does not answer */
    int rc = netprot_nmcli_read(&w);
    if (rc == RG_ENOTFOUND && w.sec == NETPROT_SEC_NONE && !np->nmcli_missing && w.source[0]) {
        /* nmcli ran and no Wi-Fi is active */
    } else if (rc && rc != RG_ENOTFOUND) {
        agent_log(ag, 0, "network protection: nmcli failed (%s)", rg_err_name(rc));
        np->next_wifi = now + WIFI_EVERY_MS;
        return;
    }
    if (rc == RG_ENOTFOUND && !w.source[0]) { /* nmcli not installed or NetworkManager not running */
        if (!np->nmcli_missing)
            agent_log(ag, 0, "network protection: NetworkManager (nmcli) is not available; "
                             "Wi-Fi is known only from `riskgate-agent network observe`");
        np->nmcli_missing = true;
        np->next_wifi = now + WIFI_MISSING_MS;
        return;
    }
    np->nmcli_missing = false;
    np->next_wifi = now + WIFI_EVERY_MS;
    if (np->observed) { /* NetworkManager answers: it wins over what was fed in */
        agent_log(ag, 1, "network protection: NetworkManager answers; the network fed in is replaced");
        np->observed = false;
        np->dirty = true;
    }
    if (w.sec != np->wifi.sec || strcmp(w.ssid, np->wifi.ssid) || strcmp(w.bssid, np->wifi.bssid)) {
        np->wifi = w;
        np->dirty = true;
    }
}

/* SHA-256 of the up, non-loopback interfaces' addresses and the Wi-Fi: changes when the network does. */
static void fingerprint(const struct netprot *np, char *out, size_t n)
{
    struct buf b = BUF_INIT(1 << 16);
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) == 0) {
        for (struct ifaddrs *p = ifa; p; p = p->ifa_next) {
            if (!p->ifa_addr || (p->ifa_flags & IFF_LOOPBACK) || !(p->ifa_flags & IFF_UP))
                continue;
            int fam = p->ifa_addr->sa_family;
            if (fam != AF_INET && fam != AF_INET6)
                continue;
            char host[NI_MAXHOST];
            socklen_t len = fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
            if (!getnameinfo(p->ifa_addr, len, host, sizeof host, NULL, 0, NI_NUMERICHOST))
                buf_printf(&b, "%s=%s;", p->ifa_name, host);
        }
        freeifaddrs(ifa);
    }
    buf_printf(&b, "wifi=%d/%s/%s", (int)np->wifi.sec, np->wifi.ssid, np->wifi.bssid);
    util_sha256_hex(b.data ? b.data : "", b.len, out, n);
    buf_release(&b);
}

static void collect_job(struct rg_agent *ag)
{
    struct netprot *np = ag->np;
    struct netprot_tls_outcome out[NETPROT_MAX_TLS_CHECKS];
    netprot_tls_job_finish(np->job, out, np->nchecks);
    netprot_tls_job_free(np->job);
    np->job = NULL;
    for (size_t i = 0; i < np->nchecks; i++) {
        struct np_check *c = &np->checks[i];
        if (out[i].result != c->o.result)
            agent_log(ag, out[i].result == NETPROT_TLS_INTERCEPTED ? 2 : 1, "interception check %s: %s (%s)", c->spec,
                      netprot_tls_result_name(out[i].result), out[i].reason);
        c->o = out[i];
    }
    np->last_tls_ms = util_now_ms();
    np->dirty = true;
}

/* ---- evaluation: facts and keys into detections ---- */

static void forget(struct agent_threat *t)
{
    /* the condition is gone but auto-remediation is off: the server's alert stays for the SOC to resolve */
    t->active = false;
    t->reported = true;
    t->known = false;
}

/* Clears (report resolved) or forgets one of our active threats. */
static void drop(struct rg_agent *ag, const char *key, bool report)
{
    struct agent_threat *t = agent_threat_find(ag, key);
    if (!t || !t->active)
        return;
    if (report) {
        agent_detection_set(ag, t->kind, key, false, NULL, NULL);
    } else {
        agent_log(ag, 1, "%s condition gone; auto-remediation is off, so the alert stays for your organization",
                  t->kind);
        forget(t);
    }
}

static bool cert_wanted(const struct netprot *np, const struct np_keys *k, const struct netprot_cert *c)
{
    return !netprot_allowlisted(k->allow, c) && !(k->trust_flow && list_has(&np->trusted_certs, c->sha256));
}

static void raise_one(struct rg_agent *ag, const char *kind, const char *key, const char *title, json_t *details,
                  const char *notice, long mode)
{
    struct agent_threat *t = agent_threat_find(ag, key);
    bool fresh = !t || !t->active;
    if (agent_detection_set(ag, kind, key, true, title, details))
        return;
    if (fresh && mode == 2 && notice)
        agent_log(ag, 2, "%s", notice);
    else if (fresh && mode == 1)
        agent_log(ag, 1, "%s detection (audit): reported to your organization only", kind);
}

static void evaluate(struct rg_agent *ag)
{
    struct netprot *np = ag->np;
    struct np_keys k;
    keys_read(ag, &k);
    np->passes++;

    /* first what should go: copies of the keys, since clearing may reorder nothing but raising may grow the array */
    struct np_list gone_report = {NULL, 0}, gone_forget = {NULL, 0};
    char wkey[80] = "";
    if (on_wifi(&np->wifi))
        netprot_wifi_key(np->wifi.ssid, np->wifi.bssid, wkey, sizeof wkey);
    for (size_t i = 0; i < ag->nthreats; i++) {
        struct agent_threat *t = &ag->threats[i];
        if (!t->active)
            continue;
        int verdict = 0; /* 0 keep, 1 clear, 2 condition gone (auto-remediation decides) */
        if (!strcmp(t->kind, "certificate") && !strncmp(t->key, "cert:", 5)) {
            const struct netprot_cert *c = netprot_certset_find(&np->foreign, t->key + 5);
            if (k.cert_mode == 0)
                verdict = 1;
            else if (!np->certs_known)
                verdict = 0;
            else if (c)
                verdict = cert_wanted(np, &k, c) ? 0 : 1;
            else
                verdict = np->certs_complete ? 2 : 0;
        } else if (!strcmp(t->kind, "openNetwork") && !strncmp(t->key, "wifi:", 5)) {
            if (k.open_mode == 0)
                verdict = 1;
            else if (np->wifi.sec == NETPROT_SEC_UNKNOWN)
                verdict = 0;
            else if (!strcmp(t->key, wkey))
                verdict = net_trusted(np, &k) ? 1 : netprot_sec_unsafe(np->wifi.sec) ? 0 : 2;
            else
                verdict = 2;
        } else if (!strcmp(t->kind, "rogueWifi") && !strncmp(t->key, "tls:", 4)) {
            verdict = k.on ? 2 : 1;
            for (size_t c = 0; c < np->nchecks && k.on; c++) {
                char key[80];
                tls_key(&np->checks[c], key, sizeof key);
                if (strcmp(key, t->key))
                    continue;
                enum netprot_tls_result r = np->checks[c].o.result;
                verdict = r == NETPROT_TLS_OK ? 2 : 0;
            }
        } else {
            continue;
        }
        if (verdict == 1 || (verdict == 2 && k.autorem))
            list_add(&gone_report, t->key);
        else if (verdict == 2)
            list_add(&gone_forget, t->key);
    }
    for (size_t i = 0; i < gone_report.n; i++)
        drop(ag, gone_report.v[i], true);
    for (size_t i = 0; i < gone_forget.n; i++)
        drop(ag, gone_forget.v[i], false);
    list_release(&gone_report);
    list_release(&gone_forget);

    /* then what should be raised */
    char title[400], notice[600], key[80];
    if (k.cert_mode > 0 && np->certs_known) {
        for (size_t i = 0; i < np->foreign.n; i++) {
            const struct netprot_cert *c = &np->foreign.v[i];
            if (!cert_wanted(np, &k, c))
                continue;
            snprintf(key, sizeof key, "cert:%s", c->sha256);
            if (k.privacy)
                snprintf(title, sizeof title, "Suspicious certificate installed on the device");
            else
                snprintf(title, sizeof title, "Suspicious certificate installed on the device: %s",
                         c->subject ? c->subject : "?");
            json_t *d = json_pack("{s:s,s:s,s:s,s:s}", "certificateThumbprint", c->sha256, "sha256", c->sha256, "sha1",
                                  c->sha1, "mode", mode_name(k.cert_mode));
            if (d && !k.privacy && c->subject)
                json_object_set_new(d, "certificateSubject", json_string(c->subject));
            snprintf(notice, sizeof notice,
                     "Remove the certificate %s (SHA-256 %s) from the trust store, or ask IT to allow it%s",
                     c->path ? c->path : "", c->sha256,
                     k.trust_flow ? " (or trust it: riskgate-agent network trust --cert <SHA-256>)" : "");
            raise_one(ag, "certificate", key, title, d, notice, k.cert_mode);
        }
    }
    if (k.open_mode > 0 && netprot_sec_unsafe(np->wifi.sec) && !net_trusted(np, &k)) {
        bool wep = np->wifi.sec == NETPROT_SEC_WEP;
        const char *base = wep ? "Connected to a Wi-Fi network with weak (WEP) security" : "Connected to an open Wi-Fi network";
        if (k.privacy)
            snprintf(title, sizeof title, "%s", base);
        else
            snprintf(title, sizeof title, "%s: %s", base, np->wifi.ssid);
        json_t *d = json_pack("{s:s,s:s}", "security", netprot_sec_name(np->wifi.sec), "mode", mode_name(k.open_mode));
        if (d && !k.privacy) {
            json_object_set_new(d, "ssid", json_string(np->wifi.ssid));
            if (np->wifi.bssid[0])
                json_object_set_new(d, "bssid", json_string(np->wifi.bssid));
        }
        snprintf(notice, sizeof notice,
                 "You are on an %s Wi-Fi network: others nearby may see your traffic. Use a secured network%s",
                 wep ? "insecure (WEP)" : "open",
                 k.trust_flow ? ", or trust this one: riskgate-agent network trust" : ", or ask IT");
        raise_one(ag, "openNetwork", wkey, title, d, notice, k.open_mode);
    }
    for (size_t i = 0; k.on && i < np->nchecks; i++) {
        const struct np_check *c = &np->checks[i];
        if (c->o.result != NETPROT_TLS_INTERCEPTED)
            continue;
        tls_key(c, key, sizeof key);
        snprintf(title, sizeof title, "Your connection may be intercepted on this network");
        json_t *d = json_pack("{s:s,s:s}", "host", c->spec, "reason", c->o.reason);
        if (d && !k.privacy && on_wifi(&np->wifi)) {
            json_object_set_new(d, "ssid", json_string(np->wifi.ssid));
            if (np->wifi.bssid[0])
                json_object_set_new(d, "bssid", json_string(np->wifi.bssid));
        }
        snprintf(notice, sizeof notice,
                 "Your connection may be intercepted on this network (%s: %s). Disconnect and use another "
                 "network, or ask IT",
                 c->spec, c->o.reason);
        raise_one(ag, "rogueWifi", key, title, d, notice, 2);
    }
}

/* ---- the daemon's hooks ---- */

void netprot_start(struct rg_agent *ag)
{
    struct netprot *np = ag->np;
    if (!np->trust_path) {
        struct buf b = BUF_INIT(0);
        if (!buf_printf(&b, "%s/%s", ag->dir, TRUST_FILE))
            np->trust_path = buf_detach(&b);
        buf_release(&b);
        if (np->trust_path)
            trust_load(ag);
    }
    np->started = true;
    np->request = true;
    np->dirty = true;
}

void netprot_request(struct rg_agent *ag)
{
    if (ag->np)
        ag->np->request = true;
}

bool netprot_tick(struct rg_agent *ag, int64_t now)
{
    struct netprot *np = ag->np;
    if (!np || !np->started)
        return false;
    bool changed = false;
    const char *cv = ag->config_version ? ag->config_version : "";
    if (!np->seen_config || strcmp(np->seen_config, cv)) {
        free(np->seen_config);
        np->seen_config = strdup(cv);
        np->request = true;
        np->dirty = true;
    }
    struct np_keys k;
    keys_read(ag, &k);
    if (np->observed && now >= np->observed_until) {
        agent_log(ag, 1, "network protection: the network fed in has expired; it is not known any more");
        np->observed = false;
        memset(&np->wifi, 0, sizeof np->wifi); /* sec UNKNOWN */
        np->dirty = true;
    }
    if (np->request) {
        np->request = false;
        np->dirty = true; /* a rescan evaluates again, even with nothing new */
        np->next_cert = np->next_wifi = np->next_tls = np->next_fp = now;
    }
    if (np->job && netprot_tls_job_done(np->job)) {
        collect_job(ag);
        changed = true;
    }
    if (k.cert_mode > 0 && now >= np->next_cert) {
        scan_certs(ag);
        np->next_cert = agent_mono_ms() + (int64_t)ag->scan_interval_s * 1000;
    }
    if (k.open_mode > 0 && now >= np->next_wifi)
        read_wifi(ag, now); /* even with an observation: nmcli, when it answers, wins */
    if (k.on && np->nchecks && now >= np->next_fp) {
        char fp[UTIL_SHA256_HEX_LEN + 1];
        fingerprint(np, fp, sizeof fp);
        if (np->fingerprint[0] && strcmp(fp, np->fingerprint)) {
            agent_log(ag, 1, "network protection: the network changed; checking for interception");
            np->next_tls = now;
        }
        snprintf(np->fingerprint, sizeof np->fingerprint, "%s", fp);
        np->next_fp = now + FINGERPRINT_EVERY_MS;
    }
    if (k.on && np->nchecks && !np->job && now >= np->next_tls) {
        struct netprot_tls_target t[NETPROT_MAX_TLS_CHECKS];
        for (size_t i = 0; i < np->nchecks; i++)
            t[i] = np->checks[i].t;
        if (netprot_tls_job_start(t, np->nchecks, np->tls_ca, &np->job))
            agent_log(ag, 2, "network protection: cannot start the interception checks");
        np->next_tls = now + (int64_t)np->interval_s * 1000;
    }
    if (np->dirty) {
        np->dirty = false;
        evaluate(ag);
        changed = true;
    }
    return changed;
}

int64_t netprot_next(const struct rg_agent *ag)
{
    const struct netprot *np = ag->np;
    if (!np || !np->started)
        return INT64_MAX;
    int64_t now = agent_mono_ms();
    if (np->request || np->dirty)
        return now;
    int64_t next = INT64_MAX;
    if (np->job)
        next = now + JOB_POLL_MS;
    struct np_keys k;
    keys_read(ag, &k);
    if (k.cert_mode > 0)
        next = min64(next, np->next_cert);
    if (k.open_mode > 0)
        next = min64(next, np->next_wifi);
    if (np->observed)
        next = min64(next, np->observed_until);
    if (k.on && np->nchecks) {
        next = min64(next, np->next_fp);
        if (!np->job)
            next = min64(next, np->next_tls);
    }
    return next;
}

/* ---- status ---- */

json_t *netprot_status_json(struct rg_agent *ag)
{
    struct netprot *np = ag->np;
    if (!np || !np->started)
        return json_null(); /* another process: the daemon's status.json tells */
    struct np_keys k;
    keys_read(ag, &k);
    json_t *o = json_object();
    json_object_set_new(o, "enabled", json_boolean(k.on));
    json_object_set_new(o, "certificateDetection", json_string(mode_name(k.cert_mode)));
    json_object_set_new(o, "openNetworkDetection", json_string(mode_name(k.open_mode)));
    json_object_set_new(o, "trustFlow", json_boolean(k.trust_flow));
    json_object_set_new(o, "autoRemediation", json_boolean(k.autorem));
    json_object_set_new(o, "privacy", json_boolean(k.privacy));
    json_t *net = json_null();
    if (np->wifi.sec != NETPROT_SEC_UNKNOWN) {
        net = json_object();
        json_object_set_new(net, "source", json_string(np->wifi.source));
        json_object_set_new(net, "security", json_string(netprot_sec_name(np->wifi.sec)));
        if (on_wifi(&np->wifi)) {
            json_object_set_new(net, "ssid", json_string(np->wifi.ssid));
            json_object_set_new(net, "bssid", np->wifi.bssid[0] ? json_string(np->wifi.bssid) : json_null());
            json_object_set_new(net, "trusted", json_boolean(list_has(&np->trusted_nets, np->wifi.ssid)));
        }
        if (np->observed)
            json_object_set_new(net, "expiresAt", agent_time_json(util_now_ms() + (np->observed_until - agent_mono_ms())));
    }
    json_object_set_new(o, "network", net);
    json_object_set_new(o, "evaluations", json_integer((json_int_t)np->passes));
    json_object_set_new(o, "wifiSource", json_string(np->observed ? "observed" : np->nmcli_missing ? "none" : "nmcli"));

    json_t *certs = json_object();
    json_object_set_new(certs, "lastScan", agent_time_json(np->last_cert_ms));
    json_object_set_new(certs, "checked", json_integer((json_int_t)np->checked));
    json_t *notices = json_array();
    char line[700];
    if (k.cert_mode == 2) { /* audit: the person is not told */
        json_t *sus = json_array();
        for (size_t i = 0; i < np->foreign.n; i++) {
            const struct netprot_cert *c = &np->foreign.v[i];
            char key[80];
            snprintf(key, sizeof key, "cert:%s", c->sha256);
            struct agent_threat *t = agent_threat_find(ag, key);
            if (!t || !t->active)
                continue;
            json_array_append_new(sus, json_pack("{s:s,s:s,s:s?,s:s?}", "sha256", c->sha256, "sha1", c->sha1,
                                                 "subject", c->subject, "path", c->path));
            snprintf(line, sizeof line,
                     "Remove the certificate %s (%s, SHA-256 %s) from the trust store, or ask IT to allow it.%s",
                     c->subject ? c->subject : "", c->path ? c->path : "", c->sha256,
                     k.trust_flow ? " If you know it is safe: riskgate-agent network trust --cert <SHA-256>." : "");
            json_array_append_new(notices, json_string(line));
        }
        json_object_set_new(certs, "suspicious", sus);
    }
    json_object_set_new(o, "certificates", certs);
    if (k.open_mode == 2 && netprot_sec_unsafe(np->wifi.sec)) {
        char key[80];
        netprot_wifi_key(np->wifi.ssid, np->wifi.bssid, key, sizeof key);
        struct agent_threat *t = agent_threat_find(ag, key);
        if (t && t->active) {
            snprintf(line, sizeof line,
                     "You are on an %s Wi-Fi network (%s): others nearby may see your traffic. Move to a secured "
                     "network%s.",
                     np->wifi.sec == NETPROT_SEC_WEP ? "insecure (WEP)" : "open", np->wifi.ssid,
                     k.trust_flow ? ", or trust this one: riskgate-agent network trust" : ", or ask IT");
            json_array_append_new(notices, json_string(line));
        }
    }
    json_t *checks = json_array();
    bool intercepted = false;
    for (size_t i = 0; i < np->nchecks; i++) {
        const struct np_check *c = &np->checks[i];
        json_array_append_new(checks, json_pack("{s:s,s:s,s:s,s:o}", "target", c->spec, "result",
                                                netprot_tls_result_name(c->o.result), "reason", c->o.reason,
                                                "checkedAt", agent_time_json(c->o.at_ms)));
        if (k.on && c->o.result == NETPROT_TLS_INTERCEPTED) {
            intercepted = true;
            snprintf(line, sizeof line,
                     "Your connection may be intercepted on this network (%s: %s). Disconnect and use another "
                     "network, or ask IT.",
                     c->spec, c->o.reason);
            json_array_append_new(notices, json_string(line));
        }
    }
    json_object_set_new(o, "tlsChecks", checks);
    json_object_set_new(o, "lastTlsCheck", agent_time_json(np->last_tls_ms));
    json_object_set_new(o, "intercepted", json_boolean(intercepted));
    json_object_set_new(o, "notices", notices);
    json_t *tr = json_object();
    json_object_set_new(tr, "networks", list_json(&np->trusted_nets));
    json_object_set_new(tr, "certificates", list_json(&np->trusted_certs));
    json_object_set_new(o, "trusted", tr);
    return o;
}

/* ---- the broker's "network" requests ---- */

static json_t *err_answer(const char *code, const char *msg)
{
    return json_pack("{s:s,s:s}", "error", msg, "code", code);
}

/* The refusal of a peer that may not use the network operations. */
static json_t *refuse(const struct netprot *np)
{
    char msg[300];
    snprintf(msg, sizeof msg,
             "Only root, the agent's own user (uid %u)%s%s%s may change what network protection sees or trusts.",
             (unsigned)getuid(), np->group_name[0] ? " or members of the group " : "", np->group_name,
             np->group_name[0] ? "" : " (the daemon's --network-group NAME lets a group do it)");
    return err_answer("forbidden", msg);
}

json_t *netprot_serve(struct rg_agent *ag, const char *request, const struct netprot_peer *peer)
{
    struct netprot *np = ag->np;
    json_error_t e;
    json_t *req = json_loads(request ? request : "", 0, &e);
    const char *op = json_string_value(json_object_get(req, "op"));
    json_t *ans = NULL;
    if (!netprot_peer_allowed(peer, (uint32_t)getuid(), np->group)) {
        agent_log(ag, 1, "network protection: refused a network request from uid %ld",
                  peer && peer->known ? (long)peer->uid : -1L);
        ans = refuse(np);
    } else if (!json_is_object(req) || !op) {
        ans = err_answer("invalid", "network wants a JSON object with \"op\": observe, trust or untrust");
    } else if (!np->started) {
        ans = err_answer("invalid", "the daemon has not started network protection");
    } else if (!strcmp(op, "observe")) {
        const char *ssid = json_string_value(json_object_get(req, "ssid"));
        const char *bssid = json_string_value(json_object_get(req, "bssid"));
        const char *sec = json_string_value(json_object_get(req, "security"));
        json_t *jttl = json_object_get(req, "ttl");
        json_int_t ttl = jttl ? (json_is_integer(jttl) ? json_integer_value(jttl) : -1) : NETPROT_OBSERVE_TTL_S;
        struct netprot_wifi w;
        memset(&w, 0, sizeof w);
        if (!np->nmcli_missing && !strcmp(np->wifi.source, "nmcli")) {
            ans = err_answer("conflict", "NetworkManager reports the network on this device, and it wins: "
                                         "network observe is for devices without NetworkManager");
        } else if (ttl < 10 || ttl > NETPROT_OBSERVE_TTL_MAX) {
            ans = err_answer("invalid", "ttl: seconds from 10 to 86400");
        } else if (!sec || netprot_sec_parse(sec, &w.sec)) {
            ans = err_answer("invalid", "security: open, wep, wpa, wpa2, wpa3 or none");
        } else if (w.sec != NETPROT_SEC_NONE && (!ssid || !*ssid || strlen(ssid) > 32)) {
            ans = err_answer("invalid", "ssid: the network's name (1 to 32 bytes) is required");
        } else if (bssid && strlen(bssid) >= sizeof w.bssid) {
            ans = err_answer("invalid", "bssid: XX:XX:XX:XX:XX:XX");
        } else {
            if (w.sec != NETPROT_SEC_NONE) {
                snprintf(w.ssid, sizeof w.ssid, "%s", ssid);
                snprintf(w.bssid, sizeof w.bssid, "%s", bssid ? bssid : "");
            }
            snprintf(w.source, sizeof w.source, "observed");
            np->wifi = w;
            np->observed = true;
            np->observed_until = agent_mono_ms() + (int64_t)ttl * 1000;
            np->dirty = true;
            np->next_fp = agent_mono_ms(); /* a new network: the interception checks follow */
            evaluate(ag);
            np->dirty = false;
            agent_log(ag, 1, "network protection: network observed (%s, for %llds)", netprot_sec_name(w.sec),
                      (long long)ttl);
            ans = json_pack("{s:b,s:s,s:I}", "ok", 1, "security", netprot_sec_name(w.sec), "ttl", ttl);
        }
    } else if (!strcmp(op, "trust") || !strcmp(op, "untrust")) {
        bool trust = !strcmp(op, "trust");
        struct np_keys k;
        keys_read(ag, &k);
        const char *ssid = json_string_value(json_object_get(req, "ssid"));
        const char *cert = json_string_value(json_object_get(req, "cert"));
        char thumb[NETPROT_SHA256_HEX + 1];
        if (!k.trust_flow) {
            ans = err_answer("forbidden", "Your organization does not let you trust networks or certificates "
                                          "(DefenderEndUserTrustFlowEnable is off).");
        } else if (cert) {
            int kind = netprot_thumb_normalize(cert, strlen(cert), thumb, sizeof thumb);
            if (kind == 1) { /* a SHA-1: the certificate must be one we know */
                const struct netprot_cert *c = NULL;
                for (size_t i = 0; i < np->foreign.n && !c; i++)
                    if (!strcmp(np->foreign.v[i].sha1, thumb))
                        c = &np->foreign.v[i];
                if (c)
                    snprintf(thumb, sizeof thumb, "%s", c->sha256);
                else
                    kind = RG_EINVAL;
            }
            if (kind < 0) {
                ans = err_answer("invalid", "cert: the certificate's SHA-256 thumbprint (64 hex digits)");
            } else {
                bool was = list_has(&np->trusted_certs, thumb);
                int rc = trust ? list_add(&np->trusted_certs, thumb) : (list_remove(&np->trusted_certs, thumb), 0);
                if (!rc && was != trust)
                    rc = trust_save(ag);
                ans = rc ? err_answer("io", "cannot save the trust list")
                         : json_pack("{s:b,s:s,s:b}", "ok", 1, "certificate", thumb, "trusted", trust);
            }
        } else {
            if (!ssid)
                ssid = on_wifi(&np->wifi) ? np->wifi.ssid : NULL;
            if (!ssid || !*ssid || strlen(ssid) > 32) {
                ans = err_answer("invalid", "You are not on a known Wi-Fi network: name one with --ssid NAME.");
            } else {
                bool was = list_has(&np->trusted_nets, ssid);
                int rc = trust ? list_add(&np->trusted_nets, ssid) : (list_remove(&np->trusted_nets, ssid), 0);
                if (!rc && was != trust)
                    rc = trust_save(ag);
                ans = rc ? err_answer("io", "cannot save the trust list")
                         : json_pack("{s:b,s:s,s:b}", "ok", 1, "network", ssid, "trusted", trust);
            }
        }
        if (ans && json_is_true(json_object_get(ans, "ok"))) {
            agent_log(ag, 1, "network protection: the person %s a %s", trust ? "trusted" : "untrusted",
                      cert ? "certificate" : "network");
            evaluate(ag);
        }
    } else {
        ans = err_answer("invalid", "unknown op: observe, trust or untrust");
    }
    json_decref(req);
    return ans ? ans : err_answer("invalid", "out of memory");
}
