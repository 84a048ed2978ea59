/*
 * live_clients.c: benchmark 2 (signal propagation) and the idle-connection half
 * of benchmark 3 of `make bench` (bench/README.md): N managed apps holding a
 * live decision wait (GET /app/v1/wait, docs/app-api.md) each on its own
 * keep-alive connection, then detections reported for random devices as their
 * agent would (POST /device/v1/detections with the device credential), timing
 * how long the changed decision takes to reach every app on that device.
 *
 * One thread, libcurl's multi socket interface on epoll (HTTP parsing is
 * libcurl's; answers are parsed with jansson).
 *   1. arm: one wait without a decision version gives the version an allowed
 *      app has; every client then waits with it (at most ARM_PARALLEL starting
 *      at once), and the server's riskgate_waiters gauge (/metrics) says when
 *      they are all held (setting up = asked for but not yet counted by the gauge);
 *      riskgated's RSS before and after, and ours, give the
 *      memory per idle connection. Bounded by ARM_SECONDS.
 *   2. detect: DETECTIONS times, a random device whose apps are all held gets
 *      a malware detection (level medium, above the policy's "low": block); the
 *      time from the POST being sent to each of its apps' answers with "block"
 *      is one sample (an upper bound of "from accepted": riskgated wakes the
 *      waits before it answers the POST; the time from its 200 is logged too),
 *      the POST's own round trip the reference. Then the
 *      detection is resolved and every app must be allowed again before the
 *      next one. Answers re-arm at once with the new version. Bounded by
 *      DETECT_SECONDS.
 *
 * Usage: live_clients URL LIVE_TSV DEVICES_TSV N DETECTIONS SERVER_PID
 *   LIVE_TSV: "token<TAB>device index" lines; DEVICES_TSV: "device index<TAB>credential".
 *   env ARM_SECONDS (default 240), DETECT_SECONDS (default 150), ARM_PARALLEL (default 512).
 * Rows (bench/README.md format) on stdout, progress on stderr; exit 1 on a setup failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#define MAX_BODY (1u << 20)

enum cstate { C_IDLE, C_ARMING, C_HELD };

struct client {
    char token[96];
    long device;
    CURL *easy;
    enum cstate state;
    int in_flight;
    char *body;
    size_t len;
    struct curl_slist *headers; /* of the transfer in flight */
    char last_action[16];
    double t_answer; /* when the last changed answer arrived */
};

struct ctx {
    CURLM *multi;
    int epfd;
    long timeout_ms;
    const char *url;
    char version[64];
    struct client *clients;
    size_t n;
    size_t held;         /* clients with a wait in flight after the version is known */
    size_t answers;      /* changed answers seen */
    /* the side request (metrics, detection POST) */
    CURL *side;
    char *side_body;
    size_t side_len;
    long side_status;
    int side_done;
    double side_t_done;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(long pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, pid ? "/proc/%ld/status" : "/proc/self/status", pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

struct sink {
    char **body;
    size_t *len;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
    struct sink *s = arg;
    size_t n = size * nmemb;
    if (*s->len + n > MAX_BODY)
        return 0; /* an answer this large is a failure, not something to buffer */
    char *nb = realloc(*s->body, *s->len + n + 1);
    if (!nb)
        return 0;
    memcpy(nb + *s->len, p, n);
    *s->len += n;
    nb[*s->len] = '\0';
    *s->body = nb;
    return n;
}

static int on_socket(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
    struct ctx *c = arg;
    struct epoll_event ev = {0};
    ev.data.fd = fd;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(c->epfd, EPOLL_CTL_DEL, fd, NULL);
        curl_multi_assign(c->multi, fd, NULL);
        return 0;
    }
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
    if (!sockp) {
        if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) && errno == EEXIST)
            epoll_ctl(c->epfd, EPOLL_CTL_MOD, fd, &ev);
        curl_multi_assign(c->multi, fd, c); /* mark as known */
    } else {
        epoll_ctl(c->epfd, EPOLL_CTL_MOD, fd, &ev);
    }
    return 0;
}

static int on_timer(CURLM *m, long ms, void *arg)
{
    ((struct ctx *)arg)->timeout_ms = ms;
    return 0;
}

static struct sink *sinks; /* one per client, plus the side request's at index n */

static void start_wait(struct ctx *c, struct client *cl)
{
    char u[512], auth[160];
    if (c->version[0])
        snprintf(u, sizeof u, "%s/app/v1/wait?decision=%s&timeout=300", c->url, c->version);
    else
        snprintf(u, sizeof u, "%s/app/v1/wait?timeout=300", c->url);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", cl->token);
    curl_easy_reset(cl->easy);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    curl_easy_setopt(cl->easy, CURLOPT_URL, u);
    curl_easy_setopt(cl->easy, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(cl->easy, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(cl->easy, CURLOPT_WRITEDATA, &sinks[cl - c->clients]);
    curl_easy_setopt(cl->easy, CURLOPT_PRIVATE, cl);
    curl_easy_setopt(cl->easy, CURLOPT_TCP_KEEPALIVE, 0L);
    curl_easy_setopt(cl->easy, CURLOPT_TIMEOUT, 330L);
    /* libcurl does not copy the header list: it lives until the next transfer of this client */
    curl_slist_free_all(cl->headers);
    cl->headers = h;
    cl->len = 0;
    cl->in_flight = 1;
    curl_multi_add_handle(c->multi, cl->easy);
}

static void side_request(struct ctx *c, const char *url, const char *auth, const char *post)
{
    static struct curl_slist *h;
    curl_slist_free_all(h);
    h = NULL;
    if (auth)
        h = curl_slist_append(h, auth);
    if (post)
        h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_reset(c->side);
    curl_easy_setopt(c->side, CURLOPT_URL, url);
    curl_easy_setopt(c->side, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c->side, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c->side, CURLOPT_WRITEDATA, &sinks[c->n]);
    curl_easy_setopt(c->side, CURLOPT_PRIVATE, NULL);
    curl_easy_setopt(c->side, CURLOPT_TIMEOUT, 30L);
    if (post)
        curl_easy_setopt(c->side, CURLOPT_COPYPOSTFIELDS, post);
    c->side_len = 0;
    c->side_done = 0;
    curl_multi_add_handle(c->multi, c->side);
}

/* A wait answered: note its decision and re-arm. */
static void on_wait_done(struct ctx *c, struct client *cl, CURLcode res, double t)
{
    long status = 0;
    curl_easy_getinfo(cl->easy, CURLINFO_RESPONSE_CODE, &status);
    cl->in_flight = 0;
    if (cl->state == C_HELD && c->held)
        c->held--;
    json_t *o = res == CURLE_OK && status == 200 ? json_loadb(cl->body ? cl->body : "", cl->len, 0, NULL) : NULL;
    if (!o) {
        fprintf(stderr, "live_clients: a wait failed (%s, HTTP %ld): %.200s\n", curl_easy_strerror(res), status,
                cl->body ? cl->body : "");
        cl->state = C_IDLE; /* re-armed by the main loop */
        return;
    }
    if (json_is_true(json_object_get(o, "changed"))) {
        json_t *ck = json_object_get(o, "checkin");
        const char *v = json_string_value(json_object_get(ck, "decisionVersion"));
        const char *a = json_string_value(json_object_get(json_object_get(ck, "decision"), "action"));
        snprintf(cl->last_action, sizeof cl->last_action, "%s", a ? a : "?");
        cl->t_answer = t;
        c->answers++;
        if (v && !c->version[0])
            snprintf(c->version, sizeof c->version, "%s", v);
        /* re-arm with the version this client has now */
        if (v) {
            char keep[64];
            snprintf(keep, sizeof keep, "%s", c->version);
            snprintf(c->version, sizeof c->version, "%s", v);
            start_wait(c, cl);
            snprintf(c->version, sizeof c->version, "%s", keep);
            cl->state = C_HELD;
            c->held++;
            json_decref(o);
            return;
        }
    }
    json_decref(o);
    start_wait(c, cl); /* timed out unchanged: wait again */
    cl->state = C_HELD;
    c->held++;
}

/* Runs the event loop for up to max_s seconds or until *stop becomes non-zero (checked after each event). */
static void pump(struct ctx *c, double max_s, const int *stop)
{
    double end = now_s() + max_s;
    struct epoll_event evs[256];
    int running;
    while (now_s() < end && !(stop && *stop)) {
        long wait_ms = c->timeout_ms < 0 ? 50 : c->timeout_ms > 50 ? 50 : c->timeout_ms;
        int nev = epoll_wait(c->epfd, evs, 256, (int)wait_ms);
        if (nev <= 0) {
            curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        } else {
            for (int i = 0; i < nev; i++) {
                int flags = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                            (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                            (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
                curl_multi_socket_action(c->multi, evs[i].data.fd, flags, &running);
            }
        }
        CURLMsg *m;
        int left;
        double t = now_s();
        while ((m = curl_multi_info_read(c->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            CURL *e = m->easy_handle;
            CURLcode res = m->data.result;
            curl_multi_remove_handle(c->multi, e);
            if (e == c->side) {
                curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &c->side_status);
                if (res != CURLE_OK)
                    c->side_status = -1;
                c->side_done = 1;
                c->side_t_done = t;
                continue;
            }
            struct client *cl = NULL;
            curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&cl);
            on_wait_done(c, cl, res, t);
        }
    }
}

/* The side request, synchronously inside the loop (waits keep being served). 0 or -1. */
static int side_run(struct ctx *c, const char *url, const char *auth, const char *post, double max_s)
{
    side_request(c, url, auth, post);
    pump(c, max_s, &c->side_done);
    return c->side_done && c->side_status >= 200 && c->side_status < 300 ? 0 : -1;
}

static long metric_waiters(struct ctx *c)
{
    char u[512];
    snprintf(u, sizeof u, "%s/metrics", c->url);
    if (side_run(c, u, NULL, NULL, 10))
        return -1;
    const char *p = c->side_body ? strstr(c->side_body, "\nriskgate_waiters ") : NULL;
    return p ? strtol(p + 18, NULL, 10) : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t k = (size_t)((p / 100.0) * (double)n + 0.999999);
    return v[k ? k - 1 : 0];
}

static void row(const char *group, const char *name, double value, const char *unit, const char *ref, double ref_value,
                const char *goal, const char *met)
{
    json_t *o = json_pack("{s:s,s:s,s:f,s:s,s:s,s:f,s:o,s:s,s:o}", "group", group, "name", name, "value", value, "unit",
                          unit, "reference", ref, "ref_value", ref_value, "ratio",
                          ref_value != 0 ? json_real((double)(long long)(value / ref_value * 10000 + 0.5) / 10000)
                                         : json_null(),
                          "goal", goal, "met", !strcmp(met, "null") ? json_null() : json_boolean(!strcmp(met, "true")));
    char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    printf("%s\n", t);
    fflush(stdout);
    free(t);
    json_decref(o);
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s URL LIVE_TSV DEVICES_TSV N DETECTIONS SERVER_PID\n", argv[0]);
        return 2;
    }
    const char *env;
    double arm_s = (env = getenv("ARM_SECONDS")) ? strtod(env, NULL) : 240;
    double detect_s = (env = getenv("DETECT_SECONDS")) ? strtod(env, NULL) : 150;
    size_t parallel = (env = getenv("ARM_PARALLEL")) ? strtoul(env, NULL, 10) : 512;
    size_t want = strtoul(argv[4], NULL, 10), ndet = strtoul(argv[5], NULL, 10);
    long spid = strtol(argv[6], NULL, 10);
    struct rlimit rl;
    if (!getrlimit(RLIMIT_NOFILE, &rl)) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < want + 100) {
        fprintf(stderr, "live_clients: RLIMIT_NOFILE %llu is too low for %zu connections\n",
                (unsigned long long)rl.rlim_cur, want);
        return 1;
    }

    /* inputs */
    struct ctx c = {.url = argv[1], .timeout_ms = -1};
    c.clients = calloc(want ? want : 1, sizeof *c.clients);
    FILE *f = fopen(argv[2], "r");
    if (!f || !c.clients) {
        perror(argv[2]);
        return 1;
    }
    char line[512];
    while (c.n < want && fgets(line, sizeof line, f)) {
        struct client *cl = &c.clients[c.n];
        if (sscanf(line, "%95s %ld", cl->token, &cl->device) == 2)
            c.n++;
    }
    fclose(f);
    long maxdev = 0;
    for (size_t i = 0; i < c.n; i++)
        maxdev = c.clients[i].device > maxdev ? c.clients[i].device : maxdev;
    char **creds = calloc((size_t)maxdev + 1, sizeof *creds);
    if (!creds || !(f = fopen(argv[3], "r"))) {
        perror(argv[3]);
        return 1;
    }
    long di;
    char cred[128];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%ld %127s", &di, cred) == 2 && di >= 0 && di <= maxdev)
            creds[di] = strdup(cred);
    fclose(f);
    if (!c.n) {
        fprintf(stderr, "live_clients: no client in %s\n", argv[2]);
        return 1;
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    c.multi = curl_multi_init();
    c.epfd = epoll_create1(0);
    curl_multi_setopt(c.multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c.multi, CURLMOPT_SOCKETDATA, &c);
    curl_multi_setopt(c.multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(c.multi, CURLMOPT_TIMERDATA, &c);
    curl_multi_setopt(c.multi, CURLMOPT_MAXCONNECTS, (long)c.n + 16);
    sinks = calloc(c.n + 1, sizeof *sinks);
    for (size_t i = 0; i < c.n; i++) {
        c.clients[i].easy = curl_easy_init();
        sinks[i] = (struct sink){&c.clients[i].body, &c.clients[i].len};
    }
    sinks[c.n] = (struct sink){&c.side_body, &c.side_len};
    c.side = curl_easy_init();

    /* ---- 1. arm ---- */
    long srv0 = rss_kb(spid), self0 = rss_kb(0);
    double t0 = now_s();
    start_wait(&c, &c.clients[0]); /* no version: answered at once with the allowed app's version */
    c.clients[0].state = C_ARMING;
    while (!c.version[0] && now_s() - t0 < 30)
        pump(&c, 0.05, NULL);
    if (!c.version[0]) {
        fprintf(stderr, "live_clients: no decision version from the first wait\n");
        return 1;
    }
    size_t next = 1;
    long waiting = 0;
    double last_report = now_s(), last_metric = 0;
    while (now_s() - t0 < arm_s) {
        /* at most `parallel` waits being set up (a check-in each) at once */
        while (next < c.n && (long)(c.held - (size_t)waiting) < (long)parallel) {
            start_wait(&c, &c.clients[next]);
            c.clients[next].state = C_HELD;
            c.held++;
            next++;
        }
        for (size_t i = 0; i < next; i++) /* failed ones, again */
            if (c.clients[i].state == C_IDLE && !c.clients[i].in_flight) {
                start_wait(&c, &c.clients[i]);
                c.clients[i].state = C_HELD;
                c.held++;
            }
        pump(&c, 0.05, NULL);
        if (now_s() - last_metric > 0.1) {
            long w = metric_waiters(&c);
            waiting = w >= 0 ? w : waiting;
            last_metric = now_s();
        }
        if (now_s() - last_report > 5) {
            fprintf(stderr, "live_clients: %ld of %zu waits held (%.0f s)\n", waiting, c.n, now_s() - t0);
            last_report = now_s();
        }
        if (next >= c.n && waiting >= (long)c.n)
            break;
    }
    pump(&c, 1.0, NULL); /* settle */
    waiting = metric_waiters(&c);
    long srv1 = rss_kb(spid), self1 = rss_kb(0);
    double arm_time = now_s() - t0;
    fprintf(stderr, "live_clients: %ld of %zu waits held after %.1f s; riskgated RSS %ld -> %ld kB, ours %ld -> %ld kB\n",
            waiting, c.n, arm_time, srv0, srv1, self0, self1);
    const char *G3 = "3 Scale in memory and time", *G2 = "2 Signal propagation";
    row(G2, "live waits held", (double)waiting, "waits", "waits asked for", (double)c.n, "ratio >= 1",
        waiting >= (long)c.n ? "true" : "false");
    if (waiting > 0) {
        double per = (double)(srv1 - srv0) * 1024.0 / (double)waiting;
        double ours = (double)(self1 - self0) * 1024.0 / (double)waiting;
        row(G3, "riskgated RSS per idle live connection", per < 0 ? 0 : per, "B",
            "live_clients (libcurl) RSS per connection", ours, "value < 16384 B", per < 16384 ? "true" : "false");
    }

    /* ---- 2. detect ---- */
    /* devices whose apps are all held, and their clients */
    size_t ndevs = 0;
    long *devs = calloc(c.n, sizeof *devs);
    for (size_t i = 0; i < c.n;) { /* live.tsv lists a device's apps one after another */
        long d = c.clients[i].device;
        int ok = creds[d] != NULL;
        for (; i < c.n && c.clients[i].device == d; i++)
            ok &= c.clients[i].state == C_HELD && c.clients[i].in_flight;
        if (ok)
            devs[ndevs++] = d;
    }
    if (!ndevs) {
        fprintf(stderr, "live_clients: no device has all its apps held; no detection sent\n");
        return 1;
    }
    double *lat = calloc(ndet * 100 + 1, sizeof *lat), *lat_sent = calloc(ndet * 100 + 1, sizeof *lat_sent),
           *post = calloc(ndet + 1, sizeof *post);
    size_t nlat = 0, npost = 0, missed = 0, done_det = 0;
    char u[512], auth[192], body[512];
    snprintf(u, sizeof u, "%s/device/v1/detections", c.url);
    srand(12345);
    t0 = now_s();
    for (size_t k = 0; k < ndet && now_s() - t0 < detect_s; k++) {
        long d = devs[(size_t)rand() % ndevs];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", creds[d]);
        for (int phase = 0; phase < 2; phase++) {
            const char *want_action = phase ? "allow" : "block";
            snprintf(body, sizeof body,
                     "{\"detections\":[{\"kind\":\"malware\",\"key\":\"sha256:bench-%zu\",\"state\":\"%s\","
                     "\"threatName\":\"Bench Virus\",\"title\":\"Malware detected: Bench Virus\"}]}",
                     k, phase ? "resolved" : "active");
            for (size_t i = 0; i < c.n; i++)
                if (c.clients[i].device == d)
                    c.clients[i].t_answer = 0;
            double sent = now_s();
            if (side_run(&c, u, auth, body, 30)) {
                fprintf(stderr, "live_clients: POST /device/v1/detections answered %ld: %.200s\n", c.side_status,
                        c.side_body ? c.side_body : "");
                return 1;
            }
            double accepted = c.side_t_done;
            if (!phase)
                post[npost++] = (accepted - sent) * 1000;
            /* until every app of the device has the new action, at most 10 s */
            double until = now_s() + 10;
            int all = 0;
            while (!all && now_s() < until) {
                all = 1;
                for (size_t i = 0; i < c.n && all; i++)
                    if (c.clients[i].device == d &&
                        (c.clients[i].t_answer == 0 || strcmp(c.clients[i].last_action, want_action)))
                        all = 0;
                if (!all)
                    pump(&c, 0.005, NULL);
            }
            for (size_t i = 0; i < c.n; i++) {
                struct client *cl = &c.clients[i];
                if (cl->device != d)
                    continue;
                if (cl->t_answer == 0 || strcmp(cl->last_action, want_action)) {
                    missed++;
                    continue;
                }
                if (!phase) {
                    double l = (cl->t_answer - accepted) * 1000;
                    lat[nlat] = l < 0 ? 0 : l;
                    lat_sent[nlat++] = (cl->t_answer - sent) * 1000;
                }
            }
        }
        done_det++;
    }
    qsort(lat, nlat, sizeof *lat, cmp_double);
    qsort(lat_sent, nlat, sizeof *lat_sent, cmp_double);
    qsort(post, npost, sizeof *post, cmp_double);
    fprintf(stderr,
            "live_clients: %zu detections in %.1f s, %zu app answers timed (%zu missed); detection -> app: "
            "median %.1f ms, p99 %.1f ms, worst %.1f ms; POST round trip median %.1f ms, p99 %.1f ms\n",
            done_det, now_s() - t0, nlat, missed, pct(lat, nlat, 50), pct(lat, nlat, 99), nlat ? lat[nlat - 1] : 0,
            pct(post, npost, 50), pct(post, npost, 99));
    fprintf(stderr, "live_clients: from the POST sent: median %.1f ms, p99 %.1f ms, worst %.1f ms\n",
            pct(lat_sent, nlat, 50), pct(lat_sent, nlat, 99), nlat ? lat_sent[nlat - 1] : 0);
    if (nlat) {
        /* from the POST sent: an upper bound of "from accepted" whatever the order of the server's
           answer and its wake-ups (riskgated wakes the waits before it answers the POST) */
        double p99 = pct(lat_sent, nlat, 99);
        row(G2, "detection sent -> decision at the app, p99", p99, "ms", "the detection POST's round trip, p99",
            pct(post, npost, 99), "value < 250 ms", p99 < 250 ? "true" : "false");
        row(G2, "detection sent -> decision at the app, median", pct(lat_sent, nlat, 50), "ms",
            "the detection POST's round trip, median", pct(post, npost, 50), "lower is better (no goal)", "null");
        row(G2, "detections timed", (double)done_det, "detections", "detections asked for", (double)ndet,
            "ratio >= 1", done_det >= ndet && !missed ? "true" : "false");
    }
    /* not cleaning up 10,000 handles one by one: the process ends here */
    return 0;
}
