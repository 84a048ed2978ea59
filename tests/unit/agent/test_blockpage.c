/*
 * test_blockpage.c: unit tests of src/agent/blockpage.c with its thread
 * running, for the ThreadSanitizer pass (the tsan label): a client thread
 * asks the page for a warned name and continues ("Continue anyway": the form's
 * token, then the POST) again and again over real TCP, while this thread, as
 * the DNS filter and the daemon's loop do, records blocks, asks whether names
 * are overridden, takes the override events and builds the status JSON. The
 * page's answers are checked too: 200 with a form for a warned name, 200 for
 * the continue, 403 without a token, 404 for a name not blocked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/blockpage.h"
#include "common/err.h"
#include "common/util.h"

#define ROUNDS 20

static struct sockaddr_in page_addr;

/* One HTTP/1.1 exchange with the page (Connection: close); the answer's status, its body in out. -1 on an I/O error. */
static int http(const char *method, const char *target, const char *host, const char *extra, char *out, size_t n)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)&page_addr, sizeof page_addr)) {
        close(fd);
        return -1;
    }
    char req[1024];
    int len = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: %s\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n",
                       method, target, host, extra);
    if (len < 0 || (size_t)len >= sizeof req || send(fd, req, (size_t)len, MSG_NOSIGNAL) != len) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 10000) <= 0)
            break;
        ssize_t r = read(fd, out + got, n - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
        if (got == n - 1)
            break;
    }
    close(fd);
    out[got] = '\0';
    int status = -1;
    if (sscanf(out, "HTTP/1.1 %d", &status) != 1)
        return -1;
    return status;
}

struct client {
    int warned_ok, continued_ok, refused_ok, unknown_ok;
    atomic_bool done;
};

static void *client_main(void *arg)
{
    struct client *c = arg;
    static char resp[65536];
    for (int i = 0; i < ROUNDS; i++) {
        c->warned_ok += http("GET", "/", "warn.test", "", resp, sizeof resp) == 200;
        const char *t = strstr(resp, "/.riskgate/continue?t=");
        char target[160] = "";
        if (t)
            snprintf(target, sizeof target, "%.*s", (int)strcspn(t, "\""), t);
        c->continued_ok +=
            t && http("POST", target, "warn.test", "Origin: http://warn.test\r\n", resp, sizeof resp) == 200;
        c->refused_ok += http("POST", "/.riskgate/continue", "warn.test", "Origin: http://warn.test\r\n", resp,
                              sizeof resp) == 403;
        c->unknown_ok += http("GET", "/", "never-blocked.test", "", resp, sizeof resp) == 404;
    }
    atomic_store(&c->done, true);
    return NULL;
}

/* Listens on a free port of 127.0.0.1: one the kernel just gave, retried if someone took it in between. */
static void listen_page(struct blockpage *bp)
{
    char err[256] = "";
    for (int attempt = 0; attempt < 20; attempt++) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s >= 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof a;
        assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
        assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
        close(s);
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        memcpy(&ss, &a, sizeof a);
        if (blockpage_listen(bp, &ss, sizeof a, err, sizeof err) == 0) {
            page_addr = a;
            return;
        }
    }
    fail_msg("the block page could not listen: %s", err);
}

static void test_page_and_filter_together(void **state)
{
    (void)state;
    struct blockpage *bp = NULL;
    assert_int_equal(blockpage_new(&bp), 0);
    blockpage_record(bp, "warn.test", true, "it is a test", "DomainName warn.test");
    listen_page(bp);
    assert_true(blockpage_listening(bp));

    struct client c = {0};
    atomic_init(&c.done, false);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, client_main, &c), 0);
    int events = 0;
    char name[64];
    for (unsigned i = 0; !atomic_load(&c.done); i++) {
        int64_t now = util_now_ms();
        snprintf(name, sizeof name, "blocked-%u.test", i % 50);
        blockpage_record(bp, name, i % 2, "a test block", NULL);
        blockpage_record(bp, "warn.test", true, "it is a test", "DomainName warn.test");
        (void)blockpage_overridden(bp, "warn.test", now);
        (void)blockpage_overridden(bp, name, now);
        struct bp_event ev;
        while (blockpage_take(bp, &ev)) {
            assert_string_equal(ev.name, "warn.test");
            events++;
        }
        json_decref(blockpage_json(bp, now, i % 2));
        usleep(1000);
    }
    pthread_join(th, NULL);
    struct bp_event ev;
    while (blockpage_take(bp, &ev))
        events++;
    assert_int_equal(c.warned_ok, ROUNDS);
    assert_int_equal(c.continued_ok, ROUNDS);
    assert_int_equal(c.refused_ok, ROUNDS);
    assert_int_equal(c.unknown_ok, ROUNDS);
    assert_true(events >= 1);
    assert_true(blockpage_overridden(bp, "warn.test", util_now_ms()));
    blockpage_free(bp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_and_filter_together),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
