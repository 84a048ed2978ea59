/*
 * test_sync_faults.c: the agent's side of an indicator sync (agent_sync_apply,
 * src/agent/sync.c, into the indicator set of src/agent/indset.c) with the Nth
 * allocation failing, for every N, alone and then with every later one failing
 * too (this binary is linked with --wrap for malloc, calloc, realloc, strdup
 * and strndup, tests/CMakeLists.txt; jansson's go through json_set_alloc_funcs).
 * Each run must not crash nor leak (LeakSanitizer in the ASan build), return 0
 * with the set as the clean run left it, or RG_ENOMEM; after RG_ENOMEM the page
 * is applied again without faults, as sync.c does (its version does not move
 * on a failure, so the next sync asks for the same page), and the set must then
 * be the clean run's: nothing of a failed apply survives the retry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/core.h"
#include "agent/indset.h"
#include "common/buf.h"
#include "common/err.h"

static long fault_at, fault_count;
static int fault_hit, fault_sticky;

static int fail_now(void)
{
    if (!fault_at)
        return 0;
    long k = ++fault_count;
    if (k == fault_at || (fault_sticky && k > fault_at)) {
        fault_hit = 1;
        return 1;
    }
    return 0;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size)
{
    return fail_now() ? NULL : __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __real_realloc(p, n);
}
char *__wrap_strdup(const char *s)
{
    return fail_now() ? NULL : __real_strdup(s);
}
char *__wrap_strndup(const char *s, size_t n)
{
    return fail_now() ? NULL : __real_strndup(s, n);
}
static void *json_alloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
}

#define NOW_MS 1764000000000LL /* 2025-11-24 */

/* What the set answers: its size and, for each probe, the matching indicator's id and action. */
static char *describe(const struct indset *set)
{
    static const char *const urls[] = {"https://evil.example.com/x",   "http://sub.evil.example.com/",
                                       "https://phish.example.net/login", "http://203.0.113.7/",
                                       "https://old.example.org/",      "https://later.example.org/a",
                                       "https://kept.example.com/",     "https://gone.example.com/",
                                       NULL};
    struct buf b = BUF_INIT(0);
    buf_printf(&b, "count=%zu", indset_count(set));
    for (int i = 0; urls[i]; i++) {
        struct indicator m = {0};
        if (indset_match_url(set, urls[i], &m))
            buf_printf(&b, " %s=%lld/%s/%s", urls[i], (long long)m.id, indset_action_name(m.action),
                       m.title ? m.title : "(no title)");
        else
            buf_printf(&b, " %s=-", urls[i]);
    }
    struct indicator m = {0};
    if (indset_match_file(set, "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", NULL, NULL, &m))
        buf_printf(&b, " file=%lld/%s/%s", (long long)m.id, indset_action_name(m.action), m.title ? m.title : "(none)");
    char *s = strdup(buf_str(&b));
    buf_release(&b);
    assert_non_null(s);
    return s;
}

/* The set before the page: two indicators, one of which the page removes. */
static struct indset *start_set(void)
{
    struct indset *set = indset_new();
    assert_non_null(set);
    struct indicator kept = {.id = 1, .type = IND_DOMAIN, .value = "kept.example.com", .action = IND_BLOCK};
    struct indicator gone = kept;
    gone.id = 2;
    gone.value = "gone.example.com";
    assert_int_equal(indset_upsert(set, &kept), 0);
    assert_int_equal(indset_upsert(set, &gone), 0);
    return set;
}

static void test_apply_faults(void **state)
{
    (void)state;
    json_t *page = json_loads(
        "{\"version\":9,\"removed\":[\"2\",\"77\"],\"upserts\":["
        "{\"id\":\"3\",\"indicatorType\":\"DomainName\",\"indicatorValue\":\"Evil.Example.COM.\",\"action\":\"Block\","
        "\"severity\":\"High\",\"title\":\"evil\"},"
        "{\"id\":\"4\",\"indicatorType\":\"Url\",\"indicatorValue\":\"https://phish.example.net/login\",\"action\":\"Warn\"},"
        "{\"id\":\"5\",\"indicatorType\":\"IpAddress\",\"indicatorValue\":\"203.0.113.7\",\"action\":\"Block\"},"
        "{\"id\":\"6\",\"indicatorType\":\"FileSha256\",\"indicatorValue\":"
        "\"275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F\",\"action\":\"AlertAndBlock\",\"title\":\"eicar\"},"
        "{\"id\":\"7\",\"indicatorType\":\"DomainName\",\"indicatorValue\":\"old.example.org\",\"action\":\"Block\","
        "\"expirationTime\":\"2020-01-01T00:00:00Z\"},"
        "{\"id\":\"8\",\"indicatorType\":\"DomainName\",\"indicatorValue\":\"later.example.org\",\"action\":\"Allowed\","
        "\"expirationTime\":\"2099-01-01T00:00:00Z\"},"
        "{\"id\":\"9\",\"indicatorType\":\"DomainName\",\"indicatorValue\":\"com\",\"action\":\"Block\"},"
        "{\"indicatorType\":\"DomainName\",\"indicatorValue\":\"noid.example.org\",\"action\":\"Block\"}]}",
        0, NULL);
    assert_non_null(page);

    struct indset *set = start_set();
    size_t bad_ref = 0;
    assert_int_equal(agent_sync_apply(set, page, NOW_MS, &bad_ref), 0);
    char *ref = describe(set);
    indset_free(set);

    for (int sticky = 0; sticky < 2; sticky++) {
        long n, failed = 0, ok = 0;
        for (n = 1;; n++) {
            set = start_set();
            size_t bad = 0;
            fault_count = 0;
            fault_hit = 0;
            fault_sticky = sticky;
            fault_at = n;
            int rc = agent_sync_apply(set, page, NOW_MS, &bad);
            fault_at = 0;
            int hit = fault_hit;
            if (rc) {
                if (rc != RG_ENOMEM)
                    fail_msg("allocation %ld failed: agent_sync_apply returned %d, not RG_ENOMEM", n, rc);
                failed++;
                bad = 0;
                assert_int_equal(agent_sync_apply(set, page, NOW_MS, &bad), 0); /* the next sync's retry */
            } else {
                ok++;
            }
            char *got = describe(set);
            if (strcmp(got, ref))
                fail_msg("allocation %ld failed (%s): %s, then the set answers\n  %s\nnot\n  %s", n,
                         sticky ? "and every later one" : "alone", rc ? "RG_ENOMEM and a retry" : "0", got, ref);
            if (!rc && hit && bad != bad_ref)
                fail_msg("allocation %ld failed: %zu indicators counted unusable, the clean run %zu", n, bad, bad_ref);
            free(got);
            indset_free(set);
            if (!hit)
                break;
        }
        printf("agent sync apply %s: %ld runs: %ld RG_ENOMEM (then whole after the retry), %ld as the clean run\n",
               sticky ? "sticky" : "single", n - 1, failed, ok - 1);
    }
    free(ref);
    json_decref(page);
}

int main(void)
{
    json_set_alloc_funcs(json_alloc, free);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
