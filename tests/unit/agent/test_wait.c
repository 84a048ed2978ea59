/*
 * Unit tests of src/agent/wait.c, the live-update long-poll: the backoff
 * sequence, reading wait answers, and the daemon loop (rg_agent_tick / pollfds
 * / process, as cmd_run.c drives it) against a scripted fake server in a
 * child process: a wait the server holds costs no CPU (few loop turns); a
 * server that says "stale" at once forever, one that ends every wait at once,
 * and a closed port all lead to a backoff, never to a busy loop.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/core.h"
#include "agent/state.h"
#include "common/err.h"

static void test_backoff(void **state)
{
    (void)state;
    static const int want[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
    int cur = 0;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        cur = agent_wait_backoff(cur);
        assert_int_equal(cur, want[i]);
    }
}

static void test_parse(void **state)
{
    (void)state;
    char r[16];
    json_t *o = json_loads("{\"changed\":false}", 0, NULL);
    assert_int_equal(agent_wait_parse(o, r, sizeof r), 0);
    json_decref(o);
    o = json_loads("{\"changed\":true,\"reason\":\"indicators\"}", 0, NULL);
    assert_int_equal(agent_wait_parse(o, r, sizeof r), 1);
    assert_string_equal(r, "indicators");
    json_decref(o);
    o = json_loads("{\"changed\":true,\"reason\":\"config\",\"configVersion\":\"ab\",\"indicatorVersion\":3}", 0, NULL);
    assert_int_equal(agent_wait_parse(o, r, sizeof r), 1);
    assert_string_equal(r, "config");
    json_decref(o);
    o = json_loads("{\"changed\":true}", 0, NULL);
    assert_int_equal(agent_wait_parse(o, r, sizeof r), 1);
    assert_string_equal(r, "unknown");
    json_decref(o);
    o = json_loads("{\"changed\":true,\"reason\":\"a-very-long-reason-text\"}", 0, NULL);
    assert_int_equal(agent_wait_parse(o, r, sizeof r), 1);
    assert_int_equal(strlen(r), sizeof r - 1); /* cut, terminated */
    json_decref(o);
    o = json_loads("{\"changed\":\"yes\"}", 0, NULL);
    assert_int_equal(agent_wait_parse(o, r, sizeof r), RG_EINVAL);
    json_decref(o);
    o = json_loads("{\"error\":{\"message\":\"x\"}}", 0, NULL);
    assert_int_equal(agent_wait_parse(o, r, sizeof r), RG_EINVAL);
    json_decref(o);
    assert_int_equal(agent_wait_parse(NULL, r, sizeof r), RG_EINVAL);
}

/* ---- the fake server ---- */

enum fake_mode {
    FAKE_HOLD,       /* waits are never answered */
    FAKE_STALE,      /* waits: changed, "configuration v2" at once; config always gives v1 */
    FAKE_FALSE_FAST, /* waits: {"changed":false} at once */
    FAKE_TRUE_FAST,  /* waits: changed, "threat" at once; nothing ever changes */
    FAKE_BUSY,       /* waits: changed at once, each heartbeat flips the level; then one false, then held */
};

struct fake {
    pid_t pid;
    int port;
    int counts; /* read end: one byte per request, 'h' heartbeat, 'c' config, 'i' indicators, 'w' wait */
};

static void send_json(int fd, const char *body)
{
    char out[1024];
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     strlen(body), body);
    if (write(fd, out, (size_t)n) < 0) { /* the client went away */
    }
}

/* Reads one request's head (and body, by Content-Length) into req; false at EOF. */
static bool read_request(int fd, char *req, size_t n)
{
    size_t len = 0;
    char *end = NULL;
    while (len + 1 < n && !(end = strstr(req, "\r\n\r\n"))) {
        ssize_t k = read(fd, req + len, n - 1 - len);
        if (k <= 0)
            return false;
        len += (size_t)k;
        req[len] = '\0';
    }
    if (!end)
        return false;
    const char *cl = strstr(req, "Content-Length: ");
    size_t body = cl ? strtoul(cl + 16, NULL, 10) : 0;
    size_t have = len - (size_t)(end + 4 - req);
    char sink[512];
    while (have < body) {
        ssize_t k = read(fd, sink, sizeof sink);
        if (k <= 0)
            return false;
        have += (size_t)k;
    }
    return true;
}

static void fake_serve(int lfd, int out, enum fake_mode mode)
{
    int hbs = 0, waits = 0;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            _exit(0);
        char req[8192] = "";
        if (!read_request(fd, req, sizeof req)) {
            close(fd);
            continue;
        }
        char c = strstr(req, " /device/v1/heartbeat ")  ? 'h'
                 : strstr(req, " /device/v1/config ")   ? 'c'
                 : strstr(req, "/device/v1/indicators") ? 'i'
                 : strstr(req, "/device/v1/wait?")      ? 'w'
                                                        : '?';
        if (write(out, &c, 1) < 0)
            _exit(1);
        if (c == 'h' && mode == FAKE_BUSY && hbs++ % 2)
            send_json(fd, "{\"configVersion\":\"v1\",\"indicatorVersion\":0,\"threatLevel\":\"medium\","
                          "\"heartbeatIntervalSeconds\":60}");
        else if (c == 'h')
            send_json(fd, "{\"configVersion\":\"v1\",\"indicatorVersion\":0,\"threatLevel\":\"secured\","
                          "\"heartbeatIntervalSeconds\":60}");
        else if (c == 'c')
            send_json(fd, "{\"version\":\"v1\",\"settings\":{}}");
        else if (c == 'i')
            send_json(fd, "{\"version\":0,\"full\":true,\"upserts\":[],\"removed\":[]}");
        else if (c == 'w' && (mode == FAKE_HOLD || (mode == FAKE_BUSY && waits > 2 * AGENT_WAIT_QUICK_MAX)))
            continue; /* held: the fd stays open until the child dies */
        else if (c == 'w' && mode == FAKE_BUSY && waits++ < 2 * AGENT_WAIT_QUICK_MAX)
            send_json(fd, "{\"changed\":true,\"reason\":\"threat\"}");
        else if (c == 'w' && mode == FAKE_TRUE_FAST)
            send_json(fd, "{\"changed\":true,\"reason\":\"threat\"}");
        else if (c == 'w' && mode == FAKE_STALE)
            send_json(fd, "{\"changed\":true,\"reason\":\"config\",\"configVersion\":\"v2\",\"indicatorVersion\":0}");
        else if (c == 'w')
            send_json(fd, "{\"changed\":false}");
        else
            send_json(fd, "{}");
        close(fd);
    }
}

static int fake_start(struct fake *f, enum fake_mode mode)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    int p[2];
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) || listen(lfd, 16) ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) || pipe(p))
        return -1;
    f->port = ntohs(sa.sin_port);
    f->pid = fork();
    if (f->pid < 0)
        return -1;
    if (f->pid == 0) {
        close(p[0]);
        fake_serve(lfd, p[1], mode);
        _exit(0);
    }
    close(lfd);
    close(p[1]);
    f->counts = p[0];
    return 0;
}

/* Stops the child; counts how many requests of kind c it saw. */
static int fake_stop(struct fake *f, char c)
{
    kill(f->pid, SIGKILL);
    waitpid(f->pid, NULL, 0);
    int n = 0;
    char b[256];
    ssize_t k;
    while ((k = read(f->counts, b, sizeof b)) > 0)
        for (ssize_t i = 0; i < k; i++)
            n += b[i] == c;
    close(f->counts);
    return n;
}

/* ---- the agent ---- */

struct run {
    char dir[64];
    struct rg_agent *ag;
    int retries; /* log lines "live updates: ...; retrying in" */
};

static void on_log(void *ud, int level, const char *msg)
{
    (void)level;
    struct run *r = ud;
    if (strstr(msg, "live updates: ") && strstr(msg, "; retrying in "))
        r->retries++;
}

static void agent_open(struct run *r, int port)
{
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "/tmp/rg-agent-wait.XXXXXX");
    assert_non_null(mkdtemp(r->dir));
    char path[128], url[64];
    snprintf(path, sizeof path, "%s/state.json", r->dir);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    struct agent_state st = AGENT_STATE_INIT;
    assert_int_equal(state_set(&st.server, url), 0);
    assert_int_equal(state_set(&st.tenant, "default"), 0);
    assert_int_equal(state_set(&st.device_id, "dev-1"), 0);
    assert_int_equal(state_set(&st.credential, "rgd_test"), 0);
    assert_int_equal(state_save(path, &st), 0);
    state_release(&st);
    assert_int_equal(rg_agent_new(r->dir, &r->ag), 0);
    rg_agent_set_log(r->ag, on_log, r);
    assert_int_equal(rg_agent_start(r->ag), 0);
}

static void agent_close(struct run *r)
{
    rg_agent_free(r->ag);
    char p[128];
    const char *files[] = {"state.json", "status.json"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s", r->dir, files[i]);
        unlink(p);
    }
    rmdir(r->dir);
}

/* The daemon's loop (cmd_run.c without signals) for ms; returns how many turns it made. */
static int agent_loop(struct run *r, int ms)
{
    int64_t end = agent_mono_ms() + ms;
    int turns = 0;
    for (int64_t now = agent_mono_ms(); now < end; now = agent_mono_ms()) {
        int wait_ms = 0;
        rg_agent_tick(r->ag, &wait_ms);
        struct pollfd fds[RG_AGENT_MAX_FDS];
        int n = rg_agent_pollfds(r->ag, fds, RG_AGENT_MAX_FDS);
        int64_t left = end - agent_mono_ms();
        if (left < 0)
            left = 0;
        if (poll(fds, (nfds_t)n, wait_ms < left ? wait_ms : (int)left) > 0)
            rg_agent_process(r->ag, fds, n);
        turns++;
    }
    return turns;
}

static void test_held_wait_is_idle(void **state)
{
    (void)state;
    struct fake f;
    assert_int_equal(fake_start(&f, FAKE_HOLD), 0);
    struct run r;
    agent_open(&r, f.port);
    int turns = agent_loop(&r, 2000);
    int pending = r.ag->wait.pending;
    int nfds;
    struct pollfd fds[RG_AGENT_MAX_FDS];
    nfds = rg_agent_pollfds(r.ag, fds, RG_AGENT_MAX_FDS);
    agent_close(&r);
    int waits = fake_stop(&f, 'w');
    assert_int_equal(waits, 1); /* one wait, held the whole time */
    assert_true(pending);
    assert_true(nfds >= 2); /* the broker's listener and the wait's socket */
    assert_true(turns < 40);
    assert_int_equal(r.retries, 0);
}

static void test_stale_forever_backs_off(void **state)
{
    (void)state;
    struct fake f;
    assert_int_equal(fake_start(&f, FAKE_STALE), 0);
    struct run r;
    agent_open(&r, f.port);
    int turns = agent_loop(&r, 3500);
    agent_close(&r);
    int waits = fake_stop(&f, 'w');
    /* armed at 0 s, then after 1 s, then after 2 s more: 3 (never hundreds) */
    assert_in_range(waits, 2, 4);
    assert_in_range(r.retries, 2, 4);
    assert_true(turns < 200);
}

static void test_instant_false_backs_off(void **state)
{
    (void)state;
    struct fake f;
    assert_int_equal(fake_start(&f, FAKE_FALSE_FAST), 0);
    struct run r;
    agent_open(&r, f.port);
    agent_loop(&r, 2500);
    agent_close(&r);
    int waits = fake_stop(&f, 'w');
    /* AGENT_WAIT_QUICK_MAX at once, 1 s pause, as many again, 2 s pause (the delay doubles) */
    assert_in_range(waits, AGENT_WAIT_QUICK_MAX, 2 * AGENT_WAIT_QUICK_MAX + 2);
    assert_in_range(r.retries, 1, 2);
}

static void test_instant_changes_back_off(void **state)
{
    (void)state;
    struct fake f;
    assert_int_equal(fake_start(&f, FAKE_TRUE_FAST), 0);
    struct run r;
    agent_open(&r, f.port);
    agent_loop(&r, 2500);
    agent_close(&r);
    int waits = fake_stop(&f, 'w');
    /* changes that bring nothing new are a loop: as for the instant {"changed":false} */
    assert_in_range(waits, AGENT_WAIT_QUICK_MAX, 2 * AGENT_WAIT_QUICK_MAX + 2);
    assert_in_range(r.retries, 1, 2);
}

static void test_real_changes_do_not_back_off(void **state)
{
    (void)state;
    struct fake f;
    assert_int_equal(fake_start(&f, FAKE_BUSY), 0);
    struct run r;
    agent_open(&r, f.port);
    agent_loop(&r, 1500);
    agent_close(&r);
    int waits = fake_stop(&f, 'w');
    /*
     * Twice the loop guard's count of quick changes that each moved the threat
     * level, then a quick {"changed":false} (a server shutting down): all
     * re-armed at once, the last wait held.
     */
    assert_int_equal(waits, 2 * AGENT_WAIT_QUICK_MAX + 2);
    assert_int_equal(r.retries, 0);
}

static void test_closed_port_backs_off(void **state)
{
    (void)state;
    /* a port nothing listens on: bind, read it, close */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
    close(s);
    struct run r;
    agent_open(&r, ntohs(sa.sin_port));
    int turns = agent_loop(&r, 3500);
    json_t *live = agent_wait_json(r.ag);
    assert_string_equal(json_string_value(json_object_get(live, "state")), "retrying");
    assert_non_null(json_string_value(json_object_get(live, "lastError")));
    json_decref(live);
    assert_int_equal(r.ag->wait.backoff_ms, 4000);
    agent_close(&r);
    assert_in_range(r.retries, 2, 4); /* at 0, 1 and 3 s */
    assert_true(turns < 200);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_held_wait_is_idle),
        cmocka_unit_test(test_stale_forever_backs_off),
        cmocka_unit_test(test_instant_false_backs_off),
        cmocka_unit_test(test_instant_changes_back_off),
        cmocka_unit_test(test_real_changes_do_not_back_off),
        cmocka_unit_test(test_closed_port_backs_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
