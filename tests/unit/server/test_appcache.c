/*
 * test_appcache.c: unit tests of server/appcache.c (and the watching store,
 * server/store/watch.c, that feeds it): a cached answer is served while
 * nothing it depends on changed, and dropped by each kind of write — the
 * registration, its device, any tenant-wide collection, a rollback — by facts
 * that change the registration, and after APPCACHE_TICKET_MS; writes that
 * decide nothing (alerts, other devices) keep it. The tenant snapshot follows
 * writes; deferred lastSyncDateTime marks are flushed in one transaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "server/appcache.h"
#include "server/store/store.h"

#define T1 "00000000-0000-4000-8000-000000000001"
#define REG "11111111-1111-4111-8111-111111111111"

struct fx {
    char dir[64];
    struct store *s; /* the watching store */
    struct appcache *c;
    json_t *reg, *answer;
    unsigned char tok[32];
    struct appcache_stamp st;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/rg-appcache-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char url[128], err[256];
    snprintf(url, sizeof url, "sqlite:%s/db", f->dir);
    struct store *db = NULL;
    assert_int_equal(store_open(url, &db, err, sizeof err), 0);
    f->c = appcache_new();
    assert_non_null(f->c);
    assert_int_equal(store_watch_new(db, appcache_on_write, f->c, &f->s), 0);
    char tid[UTIL_UUID_LEN + 1];
    assert_int_equal(f->s->ops->tenant_create(f->s, "default", tid), 0);
    f->reg = json_pack("{s:s,s:s,s:s,s:s,s:b}", "id", REG, "deviceId", "dev-1", "osVersion", "14", "appId", "a.b",
                       "agentInstalled", 1);
    assert_int_equal(f->s->ops->doc_insert(f->s, tid, "managedAppRegistrations", REG, f->reg), 0);
    json_object_set_new(f->reg, "tenantId", json_string(tid)); /* where the tests find it */
    /* a ticket as build_checkin makes it: base64 of the payload and of a 64-byte signature */
    f->answer = json_pack("{s:{s:s,s:s},s:{s:s,s:s},s:n,s:s}", "decision", "action", "allow", "reasonCode", "allowed",
                          "ticket", "payload", "eyJhIjoxfQ==", "signature",
                          "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4"
                          "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eA==",
                          "wipe", "decisionVersion", "0123456789abcdef");
    memset(f->tok, 7, sizeof f->tok);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    store_close(f->s);
    appcache_free(f->c);
    json_decref(f->reg);
    json_decref(f->answer);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static const char *tid(struct fx *f)
{
    return json_string_value(json_object_get(f->reg, "tenantId"));
}

static void put(struct fx *f, int64_t now)
{
    appcache_stamp(f->c, tid(f), "dev-1", &f->st);
    assert_int_equal(appcache_put(f->c, f->tok, tid(f), "default", f->reg, f->answer, &f->st, now), 0);
}

static int hit(struct fx *f, const char *facts, int64_t now)
{
    struct appcache_hit h;
    json_t *j = facts ? json_loads(facts, 0, NULL) : NULL;
    int r = appcache_lookup(f->c, f->tok, j, now, &h);
    json_decref(j);
    return r;
}

static void test_hit_and_bytes(void **state)
{
    struct fx *f = *state;
    assert_int_equal(hit(f, NULL, 1000), 0);
    put(f, 1000);
    assert_int_equal(appcache_count(f->c), 1);
    struct appcache_hit h;
    assert_int_equal(appcache_lookup(f->c, f->tok, NULL, 1500, &h), 1);
    assert_string_equal(h.reg_id, REG);
    assert_string_equal(h.device_id, "dev-1");
    assert_string_equal(h.version, "0123456789abcdef");
    assert_string_equal(h.tenant_name, "default");
    struct buf b = BUF_INIT(1 << 16);
    assert_int_equal(appcache_hit_write(&h, &b), 0);
    assert_int_equal(buf_puts(&b, ""), 0);
    json_t *back = json_loadb(b.data, b.len, 0, NULL);
    assert_non_null(back);
    assert_true(json_equal(back, f->answer)); /* the same answer, member order aside */
    json_decref(back);
    buf_release(&b);
    /* another token: a miss */
    unsigned char other[32];
    memset(other, 8, sizeof other);
    assert_int_equal(appcache_lookup(f->c, other, NULL, 1500, &h), 0);
}

static void test_ticket_age(void **state)
{
    struct fx *f = *state;
    put(f, 1000);
    assert_int_equal(hit(f, NULL, 1000 + APPCACHE_TICKET_MS - 1), 1);
    assert_int_equal(hit(f, NULL, 1000 + APPCACHE_TICKET_MS), 0);
    assert_int_equal(hit(f, NULL, 999), 0); /* the clock went back */
}

static void test_facts(void **state)
{
    struct fx *f = *state;
    put(f, 1000);
    assert_int_equal(hit(f, "{}", 1001), 1);
    assert_int_equal(hit(f, "{\"osVersion\":\"14\",\"agentInstalled\":true}", 1001), 1);
    assert_int_equal(hit(f, "{\"osVersion\":\"15\"}", 1001), 0);
    assert_int_equal(hit(f, "{\"rooted\":false}", 1001), 0); /* a fact it did not have */
    assert_int_equal(hit(f, "{\"appId\":\"a.b\"}", 1001), 0); /* the slow path answers 400 */
    assert_int_equal(hit(f, "{\"osVersion\":null}", 1001), 0);
    assert_int_equal(hit(f, "[]", 1001), 0);
}

static void test_invalidation(void **state)
{
    struct fx *f = *state;
    struct store *s = f->s;
    json_t *doc = json_pack("{s:s}", "id", "x");
    /* decide nothing: alerts, another device */
    put(f, 1000);
    assert_int_equal(s->ops->doc_insert(s, tid(f), "alerts", "x", doc), 0);
    assert_int_equal(s->ops->doc_insert(s, tid(f), "devices", "dev-2", doc), 0);
    assert_int_equal(hit(f, NULL, 1001), 1);
    /* its device */
    assert_int_equal(s->ops->doc_insert(s, tid(f), "devices", "dev-1", doc), 0);
    assert_int_equal(hit(f, NULL, 1001), 0);
    put(f, 1000);
    assert_int_equal(s->ops->doc_update(s, tid(f), "devices", "dev-1", doc), 0);
    assert_int_equal(hit(f, NULL, 1001), 0);
    /* tenant-wide collections */
    const char *colls[] = {"managedAppPolicies", "groups", "users", "mobileThreatDefenseConnectors", "tenantSettings",
                           "wipeRequests"};
    for (size_t i = 0; i < sizeof colls / sizeof colls[0]; i++) {
        put(f, 1000);
        assert_int_equal(s->ops->doc_insert(s, tid(f), colls[i], "x", doc), 0);
        assert_int_equal(hit(f, NULL, 1001), 0);
    }
    /* the registration itself, and its deletion */
    put(f, 1000);
    assert_int_equal(s->ops->doc_update(s, tid(f), "managedAppRegistrations", REG, f->reg), 0);
    assert_int_equal(hit(f, NULL, 1001), 0);
    assert_int_equal(appcache_count(f->c), 0);
    put(f, 1000);
    assert_int_equal(s->ops->doc_delete(s, tid(f), "managedAppRegistrations", REG), 0);
    assert_int_equal(hit(f, NULL, 1001), 0);
    /* a revoked credential */
    put(f, 1000);
    assert_int_equal(s->ops->cred_create(s, "h", "device", tid(f), "dev-1", 0), 0);
    assert_int_equal(hit(f, NULL, 1001), 1);
    assert_int_equal(s->ops->cred_delete(s, "h"), 0);
    assert_int_equal(hit(f, NULL, 1001), 0);
    /* a rollback: whatever the transaction read may be gone */
    put(f, 1000);
    assert_int_equal(s->ops->begin(s), 0);
    s->ops->rollback(s);
    assert_int_equal(hit(f, NULL, 1001), 0);
    /* a failed write changes nothing */
    put(f, 1000);
    assert_int_equal(s->ops->doc_update(s, tid(f), "users", "nobody", doc), RG_ENOTFOUND);
    assert_int_equal(hit(f, NULL, 1001), 1);
    json_decref(doc);
}

static void test_tenant_snapshot(void **state)
{
    struct fx *f = *state;
    struct store *s = f->s;
    json_t *g = json_pack("{s:s,s:[s,s]}", "id", "g1", "members", "u1", "u2");
    json_t *w = json_pack("{s:s,s:s,s:s}", "id", "w1", "registrationId", REG, "status", "pending");
    assert_int_equal(s->ops->doc_insert(s, tid(f), "groups", "g1", g), 0);
    const struct appcache_tenant *t = NULL;
    assert_int_equal(appcache_tenant(f->c, s, tid(f), &t), 0);
    assert_int_equal(json_array_size(json_object_get(t->user_groups, "u1")), 1);
    assert_null(json_object_get(t->user_groups, "u3"));
    assert_int_equal(json_object_size(t->wipes), 0);
    assert_int_equal(json_object_size(t->links), 0);
    const struct appcache_tenant *again = NULL;
    assert_int_equal(appcache_tenant(f->c, s, tid(f), &again), 0);
    assert_ptr_equal(again->user_groups, t->user_groups); /* not reloaded */
    assert_int_equal(s->ops->doc_insert(s, tid(f), "wipeRequests", "w1", w), 0);
    assert_int_equal(appcache_tenant(f->c, s, tid(f), &t), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(t->wipes, REG), 0), "id")),
                        "w1");
    json_array_append_new(json_object_get(g, "members"), json_string("u3"));
    assert_int_equal(s->ops->doc_update(s, tid(f), "groups", "g1", g), 0);
    assert_int_equal(appcache_tenant(f->c, s, tid(f), &t), 0);
    assert_int_equal(json_array_size(json_object_get(t->user_groups, "u3")), 1);
    json_decref(g);
    json_decref(w);
}

static void test_flush(void **state)
{
    struct fx *f = *state;
    struct store *s = f->s;
    put(f, 1000);
    int64_t at = 1795000000000; /* 2026-11-18 */
    appcache_synced(f->c, f->tok, at);
    appcache_synced(f->c, f->tok, at + 5); /* the same mark, later */
    assert_int_equal(appcache_flush(f->c, s), 0);
    assert_int_equal(hit(f, NULL, 1001), 1); /* our own write invalidates nothing */
    json_t *r = NULL;
    assert_int_equal(s->ops->doc_get(s, tid(f), "managedAppRegistrations", REG, &r), 0);
    char ts[UTIL_TIME_LEN + 1];
    util_time_format(at + 5, ts, sizeof ts);
    assert_string_equal(json_string_value(json_object_get(r, "lastSyncDateTime")), ts);
    assert_string_equal(json_string_value(json_object_get(r, "lastDecision")), "allow");
    assert_string_equal(json_string_value(json_object_get(r, "lastReasonCode")), "allowed");
    json_decref(r);
    /* within a minute of the last mark: not marked again */
    appcache_synced(f->c, f->tok, at + 1000);
    assert_int_equal(appcache_flush(f->c, s), 0);
    assert_int_equal(s->ops->doc_get(s, tid(f), "managedAppRegistrations", REG, &r), 0);
    assert_string_equal(json_string_value(json_object_get(r, "lastSyncDateTime")), ts);
    json_decref(r);
    /* a mark whose entry went (its registration was deleted) is skipped */
    appcache_synced(f->c, f->tok, at + APPCACHE_SYNC_MS);
    assert_int_equal(s->ops->doc_delete(s, tid(f), "managedAppRegistrations", REG), 0);
    assert_int_equal(appcache_flush(f->c, s), 0);
    assert_int_equal(appcache_flush(f->c, NULL), 0); /* nothing left to write: the store is not touched */
}

static void test_shared_answers(void **state)
{
    struct fx *f = *state;
    /* many registrations with the same decision: one copy of the shared part */
    for (int i = 0; i < 5000; i++) {
        unsigned char tok[32] = {0};
        memcpy(tok, &i, sizeof i);
        char id[UTIL_UUID_LEN + 1];
        snprintf(id, sizeof id, "11111111-1111-4111-8111-%012d", i);
        json_object_set_new(f->reg, "id", json_string(id));
        appcache_stamp(f->c, tid(f), "dev-1", &f->st);
        assert_int_equal(appcache_put(f->c, tok, tid(f), "default", f->reg, f->answer, &f->st, 1000), 0);
    }
    assert_int_equal(appcache_count(f->c), 5000);
    unsigned char tok[32] = {0};
    int k = 4321;
    memcpy(tok, &k, sizeof k);
    struct appcache_hit h;
    assert_int_equal(appcache_lookup(f->c, tok, NULL, 1001, &h), 1);
    assert_string_equal(h.reg_id, "11111111-1111-4111-8111-000000004321");
    const char *rest = h.rest;
    k = 17;
    memcpy(tok, &k, sizeof k);
    assert_int_equal(appcache_lookup(f->c, tok, NULL, 1001, &h), 1);
    assert_ptr_equal(h.rest, rest);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hit_and_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ticket_age, setup, teardown),
        cmocka_unit_test_setup_teardown(test_facts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalidation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tenant_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_answers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
