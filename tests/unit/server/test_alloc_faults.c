/*
 * test_alloc_faults.c: failing allocations, the way SQLite tests itself. For
 * each operation (an app check-in, a policy import, an indicator import, the
 * agent's indicator sync, an agent's detection report and heartbeat), the
 * request is run through riskgated's own router and handlers (http_dispatch,
 * as a $batch step is) on a fresh copy of a prepared database, once cleanly
 * and then again and again with the Nth allocation failing, for N = 1, 2, ...
 * until a run makes no more allocations than N. Counted: every malloc, calloc,
 * realloc, strdup and strndup of riskgated's code (this binary is linked with
 * --wrap for them, tests/CMakeLists.txt), every allocation of jansson
 * (json_set_alloc_funcs) and of SQLite (SQLITE_CONFIG_MALLOC). OpenSSL's own
 * allocations are not counted.
 *
 * Each faulted run must: not crash; answer an error (5xx) with the database
 * exactly as it was or, when the failure came after the commit, as the clean
 * run left it (ids, times and hashes aside) — never half of it; or answer as
 * the clean run did (same status, the same shape of body) with the database
 * as the clean run left it; and, under the ASan build, leak nothing
 * (LeakSanitizer at the end of each operation's sweep and at exit).
 * A second pass does the same with every allocation from the Nth on failing
 * (every 5th N; RG_FAULT_FULL=1 for every one). RG_FAULT_OP=NAME runs one
 * operation; RG_FAULT_TRACE=N prints the stack of the Nth allocation where it
 * fails (the first thing to look at when a run fails).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <execinfo.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define RG_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/lsan_interface.h>
#define RG_LSAN 1
#endif
#endif

#include "common/buf.h"
#include "common/err.h"
#include "common/jsonsafe.h"
#include "common/log.h"
#include "common/sign.h"
#include "server/app.h"
#include "server/appcache.h"
#include "server/audit.h"
#include "server/http/http.h"
#include "server/notify.h"
#include "server/store/store.h"

/* ---- the allocation hook ---- */

static long fault_at;       /* 0: off; else the allocation (counted from arming) that fails */
static long fault_count;    /* allocations since armed */
static int fault_hit;       /* an allocation was failed since armed */
static int fault_sticky;    /* every allocation from fault_at on fails, not only that one */

static void arm(long n, int sticky)
{
    fault_count = 0;
    fault_hit = 0;
    fault_sticky = sticky;
    fault_at = n;
}

static void disarm(void)
{
    fault_at = 0;
}

static long fault_trace; /* RG_FAULT_TRACE=N: print the stack of each run's Nth allocation when it fails */

static int fail_now(void)
{
    if (!fault_at)
        return 0;
    long k = ++fault_count;
    if (k == fault_at || (fault_sticky && k > fault_at)) {
        if (k == fault_trace && k == fault_at) {
            void *frames[32];
            int n = backtrace(frames, 32);
            fprintf(stderr, "allocation %ld fails here:\n", k);
            backtrace_symbols_fd(frames, n, 2);
        }
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

/* SQLite's allocator: a 16-byte header holds the size (xSize), so the payload stays 8-aligned */
#define SQ_HDR 16
static void *sq_malloc(int n)
{
    if (n <= 0 || fail_now())
        return NULL;
    char *p = __real_malloc((size_t)n + SQ_HDR);
    if (!p)
        return NULL;
    memcpy(p, &n, sizeof n);
    return p + SQ_HDR;
}
static void sq_free(void *p)
{
    if (p)
        free((char *)p - SQ_HDR);
}
static void *sq_realloc(void *p, int n)
{
    if (n <= 0 || fail_now())
        return NULL;
    char *q = __real_realloc((char *)p - SQ_HDR, (size_t)n + SQ_HDR);
    if (!q)
        return NULL;
    memcpy(q, &n, sizeof n);
    return q + SQ_HDR;
}
static int sq_size(void *p)
{
    int n = 0;
    if (p)
        memcpy(&n, (char *)p - SQ_HDR, sizeof n);
    return n;
}
static int sq_roundup(int n)
{
    return (n + 7) & ~7;
}
static int sq_init(void *arg)
{
    (void)arg;
    return SQLITE_OK;
}
static void sq_shutdown(void *arg)
{
    (void)arg;
}

/* ---- riskgated in-process: the app as main.c builds it, on a copy of a database ---- */

struct env {
    char dir[64];
    char db[128];
    struct app app;
    struct log lg;
};

static char g_dir[64];
static char g_admin[160], g_device[160], g_app[160]; /* "Bearer ..." credentials made by the setup */
static char g_device_id[64];

static void env_open(struct env *e, const char *db_path)
{
    memset(e, 0, sizeof *e);
    e->lg = (struct log)LOG_INIT;
    e->lg.min_level = LOG_ERROR + 1; /* quiet: thousands of runs */
    e->app.log = &e->lg;
    char url[200], err[512] = "";
    snprintf(url, sizeof url, "sqlite:%s", db_path);
    struct store *db = NULL;
    if (store_open(url, &db, err, sizeof err))
        fail_msg("store_open: %s", err);
    e->app.cache = appcache_new();
    assert_non_null(e->app.cache);
    assert_int_equal(store_watch_new(db, appcache_on_write, e->app.cache, &e->app.store), 0);
    store_watch_audit(e->app.store, audit_on_write, &e->app);
    char keyfile[128], signfile[128];
    snprintf(keyfile, sizeof keyfile, "%s/admin.key", g_dir);
    snprintf(signfile, sizeof signfile, "%s/signing.key", g_dir);
    int created = 0;
    if (app_bootstrap(&e->app, keyfile, &created, err, sizeof err))
        fail_msg("bootstrap: %s", err);
    int made = 0;
    if (sign_key_load(signfile, &e->app.sign, &made, err, sizeof err))
        fail_msg("signing key: %s", err);
    e->app.metrics = http_metrics_new();
    e->app.notify = notify_new();
    snprintf(e->app.public_url, sizeof e->app.public_url, "http://127.0.0.1:1");
}

static void env_close(struct env *e)
{
    jsonsafe_mark(); /* the tick after the request is a unit of work of its own, as in main.c */
    if (appcache_flush(e->app.cache, e->app.store))
        fail_msg("the deferred check-in times could not be written after the run");
    notify_free(e->app.notify);
    sign_key_free(e->app.sign);
    http_metrics_free(e->app.metrics);
    store_close(e->app.store);
    appcache_free(e->app.cache);
}

/* The answer of one request: status and body (a new string). */
struct answer {
    int status;
    char *body;
};

/* Runs one request through the route table; faults armed (n > 0) only around the handler. */
static struct answer request(struct env *e, const char *method, const char *path, const char *query, const char *body,
                             const char *auth, long n, int sticky)
{
    struct http_request req = {.method = method,
                               .path = path,
                               .query = query ? query : "",
                               .body = body,
                               .body_len = body ? strlen(body) : 0,
                               .authorization = auth,
                               .peer = "127.0.0.1"};
    struct http_response res = {.status = 200, .content_type = "application/json", .body = BUF_INIT(HTTP_RESPONSE_CAP)};
    snprintf(res.request_id, sizeof res.request_id, "00000000-0000-4000-8000-00000000000f");
    snprintf(res.client_request_id, sizeof res.client_request_id, "%s", res.request_id);
    size_t nroutes;
    const struct http_route *routes = app_routes(&nroutes);
    char scratch[4096];
    if (n)
        arm(n, sticky);
    http_dispatch(routes, nroutes, &e->app, &req, &res, scratch, sizeof scratch);
    disarm();
    audit_actor_clear(&e->app);
    struct answer a = {res.status, strdup(res.body.len ? buf_str(&res.body) : "")};
    buf_release(&res.body);
    assert_non_null(a.body);
    return a;
}

static json_t *answer_json(const struct answer *a)
{
    return json_loads(a->body, 0, NULL);
}

/* Runs a setup request that must answer want; returns its JSON body (caller decrefs). */
static json_t *must(struct env *e, int want, const char *method, const char *path, const char *body, const char *auth)
{
    struct answer a = request(e, method, path, NULL, body, auth, 0, 0);
    if (a.status != want)
        fail_msg("setup: %s %s answered %d, not %d: %s", method, path, a.status, want, a.body);
    json_t *v = answer_json(&a);
    free(a.body);
    return v;
}

/* ---- what the database holds: every row of every table, as text ---- */

static char *fingerprint(const char *db_path)
{
    static const char *const tables[] = {"tenants", "api_keys", "documents", "credentials", "indicators", NULL};
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    struct buf b = BUF_INIT(0);
    for (int t = 0; tables[t]; t++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY rowid", tables[t]);
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        buf_printf(&b, "[%s]\n", tables[t]);
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int i = 0; i < sqlite3_column_count(st); i++) {
                const unsigned char *v = sqlite3_column_text(st, i);
                buf_printf(&b, "%s\x1f", v ? (const char *)v : "NULL");
            }
            buf_puts(&b, "\n");
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    char *s = strdup(buf_str(&b));
    buf_release(&b);
    assert_non_null(s);
    return s;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The fingerprint with what differs from run to run blanked: UUIDs, times, long hex strings. */
static char *normalized(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1), *o = out; /* every replacement is shorter than what it replaces */
    assert_non_null(out);
    for (size_t i = 0; i < n;) {
        if (!is_hex(s[i]) || (i && is_hex(s[i - 1]))) { /* only at the start of a run of hex digits */
            *o++ = s[i++];
            continue;
        }
        /* a UUID: 8-4-4-4-12 hex */
        if (n - i >= 36) {
            int ok = 1;
            for (int k = 0; k < 36 && ok; k++)
                ok = (k == 8 || k == 13 || k == 18 || k == 23) ? s[i + k] == '-' : is_hex(s[i + k]);
            if (ok) {
                memcpy(o, "<uuid>", 6);
                o += 6;
                i += 36;
                continue;
            }
        }
        /* a time: 2026-12-03T13:51:29[.fraction]Z */
        if (n - i >= 20 && is_digit(s[i]) && is_digit(s[i + 3]) && s[i + 4] == '-' && s[i + 10] == 'T' &&
            s[i + 13] == ':') {
            size_t j = i + 19;
            while (j < n && (s[j] == '.' || is_digit(s[j])))
                j++;
            if (j < n && s[j] == 'Z') {
                memcpy(o, "<time>", 6);
                o += 6;
                i = j + 1;
                continue;
            }
        }
        /* a hash or a token: 32 or more hex digits */
        size_t j = i;
        while (j < n && is_hex(s[j]))
            j++;
        if (j - i >= 32) {
            memcpy(o, "<hex>", 5);
            o += 5;
            i = j;
            continue;
        }
        memcpy(o, s + i, j - i);
        o += j - i;
        i = j;
    }
    *o = '\0';
    return out;
}

/* Same keys, types and array lengths, values aside: a body built with a silently failed allocation differs. */
static int same_shape(const json_t *a, const json_t *b)
{
    if (json_typeof(a) != json_typeof(b)) {
        /* true and false are one type here: a decision may differ only in a value */
        if (!(json_is_boolean(a) && json_is_boolean(b)))
            return 0;
    }
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return 0;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)a, k, v) {
            json_t *w = json_object_get(b, k);
            if (!w || !same_shape(v, w))
                return 0;
        }
    } else if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same_shape(json_array_get(a, i), json_array_get(b, i)))
                return 0;
    }
    return 1;
}

/* ---- the operations ---- */

struct op {
    const char *name, *method, *path, *query;
    const char *body; /* NULL: none */
    const char *auth;
    int want; /* the clean run's status */
};

static char g_template[128];
static char g_policy_body[65536];
static char *g_template_bytes; /* the prepared database, copied afresh before every run */
static size_t g_template_len;

static void copy_template(const char *to)
{
    char side[200];
    snprintf(side, sizeof side, "%s-wal", to);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", to);
    unlink(side);
    FILE *f = fopen(to, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(g_template_bytes, 1, g_template_len, f), g_template_len);
    assert_int_equal(fclose(f), 0);
}

/*
 * One sweep: the clean run, then N = 1, 2, ... failing the Nth allocation (or every one from the
 * Nth on, sticky) until a run allocates fewer than N times. Prints how far it went.
 */
static void sweep(const struct op *op, int sticky)
{
    char run_db[160];
    snprintf(run_db, sizeof run_db, "%s/run.db", g_dir);
    struct env e;

    /* the clean run */
    copy_template(run_db);
    char *before = fingerprint(run_db);
    env_open(&e, run_db);
    struct answer ref = request(&e, op->method, op->path, op->query, op->body, op->auth, 0, 0);
    env_close(&e);
    if (ref.status != op->want)
        fail_msg("%s: the clean run answered %d, not %d: %s", op->name, ref.status, op->want, ref.body);
    json_t *ref_body = answer_json(&ref);
    char *after_fp = fingerprint(run_db);
    char *after = normalized(after_fp);
    free(after_fp);

    long n, errors = 0, recovered = 0, committed = 0, runs = 0;
    /* sticky failures take every 5th N unless RG_FAULT_FULL is set: they mostly end the same way, fast */
    long step = sticky && !getenv("RG_FAULT_FULL") ? 5 : 1;
    for (n = 1;; n += step) {
        runs++;
        copy_template(run_db);
        env_open(&e, run_db);
        struct answer a = request(&e, op->method, op->path, op->query, op->body, op->auth, n, sticky);
        int hit = fault_hit;
        env_close(&e);
        char *fp = fingerprint(run_db);
        if (!hit) { /* the run allocated fewer than n times: the sweep is complete */
            if (a.status != ref.status)
                fail_msg("%s: a run without a fault answered %d, the clean run %d", op->name, a.status, ref.status);
            free(fp);
            free(a.body);
            break;
        }
        if (a.status >= 500) {
            errors++;
            /* all or nothing: as before, or as the clean run left it (the failure came after the commit) */
            int unchanged = !strcmp(fp, before);
            char *nfp = unchanged ? NULL : normalized(fp);
            if (!unchanged && strcmp(nfp, after)) {
                size_t d = 0;
                while (fp[d] && fp[d] == before[d])
                    d++;
                fprintf(stderr, "%s: allocation %ld failed (%s): the answer is %d and the database is half-written; "
                         "from byte %zu, before:\n%.800s\n--- after:\n%.800s",
                         op->name, n, sticky ? "and every later one" : "alone", a.status, d,
                         before + (d > 200 ? d - 200 : 0), fp + (d > 200 ? d - 200 : 0));
                fail();
            }
            if (!unchanged)
                committed++;
            free(nfp);
            json_t *v = answer_json(&a);
            /* with every allocation failing, even the error body may not be built: the status is enough */
            if (!sticky && (!v || !json_is_string(json_object_get(json_object_get(v, "error"), "code"))))
                fail_msg("%s: allocation %ld failed: %d without an error body: %s", op->name, n, a.status, a.body);
            json_decref(v);
        } else if (a.status == ref.status) {
            recovered++;
            char *nfp = normalized(fp);
            if (strcmp(nfp, after)) {
                size_t d = 0;
                while (nfp[d] && nfp[d] == after[d])
                    d++;
                size_t from = d > 300 ? d - 300 : 0;
                fail_msg("%s: allocation %ld failed (%s): answered %d as the clean run, but the database differs "
                         "from the clean run's at byte %zu:\n--- clean\n%.600s\n--- this run\n%.600s",
                         op->name, n, sticky ? "and every later one" : "alone", a.status, d, after + from, nfp + from);
            }
            json_t *v = answer_json(&a);
            if ((v == NULL) != (ref_body == NULL) || (v && !same_shape(v, ref_body)))
                fail_msg("%s: allocation %ld failed: answered %d but the body differs from the clean run's:\n%s\n%s",
                         op->name, n, a.status, ref.body, a.body);
            json_decref(v);
            free(nfp);
        } else {
            fail_msg("%s: allocation %ld failed (%s): answered %d (the clean run %d): %s", op->name, n,
                     sticky ? "and every later one" : "alone", a.status, ref.status, a.body);
        }
        free(fp);
        free(a.body);
    }
    printf("%-17s %s: %5ld runs, the Nth allocation failing%s (N up to %ld): %ld answered 5xx (%ld of them after "
           "the write was whole), %ld as the clean run\n",
           op->name, sticky ? "sticky" : "single", runs - 1, sticky ? " and every later one" : " alone", n - 1, errors,
           committed, recovered);
    fflush(stdout);
    json_decref(ref_body);
    free(ref.body);
    free(before);
    free(after);
#ifdef RG_LSAN
    if (__lsan_do_recoverable_leak_check())
        fail_msg("%s: LeakSanitizer found leaks (above)", op->name);
#endif
}

static struct op g_ops[8];
static size_t g_nops;

static void run_op(void **state)
{
    const struct op *op = *state;
    sweep(op, 0);
    sweep(op, 1);
}

/* ---- the prepared database: a tenant with a user, a group, a policy, an activated device, an app ---- */

static void prepare(void)
{
    /* on a tmpfs when there is one: thousands of runs, each with its fsyncs (synchronous=FULL) */
    struct stat sb;
    snprintf(g_dir, sizeof g_dir, "%s/rg-faults.XXXXXX", stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) ? "/dev/shm" : "/tmp");
    assert_non_null(mkdtemp(g_dir));
    snprintf(g_template, sizeof g_template, "%s/template.db", g_dir);
    struct env e;
    env_open(&e, g_template);
    char keyfile[128], key[128] = "";
    snprintf(keyfile, sizeof keyfile, "%s/admin.key", g_dir);
    FILE *f = fopen(keyfile, "r");
    assert_non_null(f);
    assert_non_null(fgets(key, sizeof key, f));
    fclose(f);
    key[strcspn(key, "\r\n")] = '\0';
    snprintf(g_admin, sizeof g_admin, "Bearer %s", key);

    json_t *v = must(&e, 201, "POST", "/v1.0/users",
                     "{\"userPrincipalName\":\"alice@contoso.com\",\"passwordProfile\":{\"password\":\"correct horse battery\"}}",
                     g_admin);
    char alice[64];
    snprintf(alice, sizeof alice, "%s", json_string_value(json_object_get(v, "id")));
    json_decref(v);
    v = must(&e, 201, "POST", "/v1.0/groups", "{\"displayName\":\"mobile\"}", g_admin);
    char grp[64], path[256], body[1024];
    snprintf(grp, sizeof grp, "%s", json_string_value(json_object_get(v, "id")));
    json_decref(v);
    snprintf(path, sizeof path, "/v1.0/groups/%s/members/$ref", grp);
    snprintf(body, sizeof body, "{\"@odata.id\":\"https://graph.microsoft.com/v1.0/directoryObjects/%s\"}", alice);
    json_decref(must(&e, 204, "POST", path, body, g_admin));
    v = must(&e, 201, "POST", "/beta/deviceAppManagement/androidManagedAppProtections",
             "{\"displayName\":\"MTD\",\"maximumAllowedDeviceThreatLevel\":\"secured\","
             "\"mobileThreatDefenseRemediationAction\":\"block\",\"periodOnlineBeforeAccessCheck\":\"PT30M\","
             "\"minimumRequiredOsVersion\":\"12\"}",
             g_admin);
    char pol[64];
    snprintf(pol, sizeof pol, "%s", json_string_value(json_object_get(v, "id")));
    json_decref(v);
    snprintf(path, sizeof path, "/beta/deviceAppManagement/androidManagedAppProtections/%s/targetApps", pol);
    json_decref(must(&e, 204, "POST", path,
                     "{\"apps\":[{\"mobileAppIdentifier\":{\"@odata.type\":\"#microsoft.graph.androidMobileAppIdentifier\","
                     "\"packageId\":\"com.microsoft.office.outlook\"}}]}",
                     g_admin));
    snprintf(path, sizeof path, "/beta/deviceAppManagement/androidManagedAppProtections/%s/assign", pol);
    snprintf(body, sizeof body,
             "{\"assignments\":[{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"%s\"}}]}",
             grp);
    json_decref(must(&e, 204, "POST", path, body, g_admin));
    json_decref(must(&e, 200, "PATCH",
                     "/beta/deviceManagement/mobileThreatDefenseConnectors/" APP_BUILTIN_PARTNER_ID,
                     "{\"androidMobileApplicationManagementEnabled\":true}", g_admin));
    /* the agent's device key, as riskgate-agent makes it, so the app can prove its device (docs/app-api.md) */
    char keypath[128], err[256];
    snprintf(keypath, sizeof keypath, "%s/device.key", g_dir);
    struct sign_key *dk = NULL;
    int made = 0;
    assert_int_equal(sign_key_load(keypath, &dk, &made, err, sizeof err), 0);
    snprintf(body, sizeof body,
             "{\"tenant\":\"default\",\"userPrincipalName\":\"alice@contoso.com\",\"password\":\"correct horse battery\","
             "\"devicePublicKey\":\"%s\",\"device\":{\"platform\":\"android\",\"deviceName\":\"alice-pixel\"}}",
             sign_key_public_b64(dk));
    v = must(&e, 201, "POST", "/device/v1/activate", body, NULL);
    snprintf(g_device, sizeof g_device, "Bearer %s", json_string_value(json_object_get(v, "credential")));
    snprintf(g_device_id, sizeof g_device_id, "%s", json_string_value(json_object_get(v, "deviceId")));
    json_decref(v);
    json_decref(must(&e, 200, "POST", "/device/v1/heartbeat", "{}", g_device));
    v = must(&e, 200, "GET", "/app/v1/deviceNonce", NULL, NULL);
    char nonce[SIGN_NONCE_LEN + 1], ptext[512];
    snprintf(nonce, sizeof nonce, "%s", json_string_value(json_object_get(v, "nonce")));
    json_decref(v);
    int tl = sign_device_proof_text(g_device_id, nonce, ptext, sizeof ptext);
    char *sig = NULL;
    assert_true(tl > 0 && !sign_message(dk, ptext, (size_t)tl, &sig));
    sign_key_free(dk);
    snprintf(body, sizeof body,
             "{\"tenant\":\"default\",\"userPrincipalName\":\"alice@contoso.com\",\"password\":\"correct horse battery\","
             "\"app\":{\"appId\":\"com.microsoft.office.outlook\",\"platform\":\"android\",\"appVersion\":\"4.2401.1\","
             "\"sdkVersion\":\"0.1.0\",\"osVersion\":\"14\",\"agentInstalled\":false,\"deviceId\":\"%s\","
             "\"deviceProof\":{\"nonce\":\"%s\",\"signature\":\"%s\"}}}",
             g_device_id, nonce, sig);
    free(sig);
    v = must(&e, 201, "POST", "/app/v1/register", body, NULL);
    snprintf(g_app, sizeof g_app, "Bearer %s", json_string_value(json_object_get(v, "token")));
    json_decref(v);
    json_decref(must(&e, 200, "POST", "/api/indicators",
                     "{\"indicatorValue\":\"evil.example.com\",\"indicatorType\":\"DomainName\",\"action\":\"Block\","
                     "\"title\":\"evil\",\"description\":\"test\",\"severity\":\"High\"}",
                     g_admin));
    env_close(&e); /* a clean close: the WAL is checkpointed into the file, which alone is the database */
    FILE *tf = fopen(g_template, "rb");
    assert_non_null(tf);
    fseek(tf, 0, SEEK_END);
    g_template_len = (size_t)ftell(tf);
    fseek(tf, 0, SEEK_SET);
    g_template_bytes = malloc(g_template_len);
    assert_non_null(g_template_bytes);
    assert_int_equal(fread(g_template_bytes, 1, g_template_len, tf), g_template_len);
    fclose(tf);

    /* the policy import: a framework policy from the fixtures, as `riskgate policies import` posts it */
    char fixture[512];
    snprintf(fixture, sizeof fixture, "%s/intune-app-protection/level-3-enterprise-high-data-protection-Android.json",
             getenv("RG_FIXTURES") ? getenv("RG_FIXTURES") : RG_FIXTURES_DIR);
    json_error_t jerr;
    json_t *p = json_load_file(fixture, 0, &jerr);
    if (!p)
        fail_msg("%s: %s", fixture, jerr.text);
    json_object_del(p, "assignments");
    char *text = json_dumps(p, JSON_COMPACT);
    assert_non_null(text);
    assert_true(strlen(text) < sizeof g_policy_body);
    snprintf(g_policy_body, sizeof g_policy_body, "%s", text);
    free(text);
    json_decref(p);
}

static void add_op(const char *name, const char *method, const char *path, const char *query, const char *body,
                   const char *auth, int want)
{
    struct op *op = &g_ops[g_nops++];
    op->name = name;
    op->method = method;
    op->path = path;
    op->query = query;
    op->body = body;
    op->auth = auth;
    op->want = want;
}

int main(void)
{
    /* before anything touches SQLite or jansson */
    static const sqlite3_mem_methods mem = {sq_malloc, sq_free, sq_realloc, sq_size, sq_roundup, sq_init, sq_shutdown,
                                            NULL};
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &mem) != SQLITE_OK)
        return 1;
    jsonsafe_init(json_alloc, free); /* as riskgated does, through the hook */
    if (getenv("RG_FAULT_TRACE"))
        fault_trace = strtol(getenv("RG_FAULT_TRACE"), NULL, 10);
    prepare();

    static char checkin[256];
    snprintf(checkin, sizeof checkin, "{\"app\":{\"deviceId\":\"%s\",\"agentInstalled\":true}}", g_device_id);
    add_op("policy import", "POST", "/beta/deviceAppManagement/androidManagedAppProtections", NULL, g_policy_body,
           g_admin, 201);
    add_op("check-in", "POST", "/app/v1/checkin", NULL, checkin, g_app, 200);
    add_op("indicator import", "POST", "/api/indicators/import",
           NULL,
           "{\"Indicators\":[{\"indicatorValue\":\"bad.example.org\",\"indicatorType\":\"DomainName\",\"action\":\"Block\","
           "\"title\":\"bad\",\"description\":\"x\"},{\"indicatorValue\":\"203.0.113.9\",\"indicatorType\":\"IpAddress\","
           "\"action\":\"Warn\",\"title\":\"ip\",\"description\":\"x\"},{\"indicatorValue\":\"evil.example.com\","
           "\"indicatorType\":\"DomainName\",\"action\":\"Allowed\",\"title\":\"now allowed\",\"description\":\"x\"}]}",
           g_admin, 200);
    add_op("indicator sync", "GET", "/device/v1/indicators", "since=0", NULL, g_device, 200);
    add_op("agent report", "POST", "/device/v1/detections",
           NULL,
           "{\"detections\":[{\"kind\":\"malware\",\"key\":\"sha256:275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f\","
           "\"threatName\":\"Test Virus\"}]}",
           g_device, 200);
    add_op("agent heartbeat", "POST", "/device/v1/heartbeat", NULL, "{}", g_device, 200);

    struct CMUnitTest tests[8];
    size_t nt = 0;
    const char *only = getenv("RG_FAULT_OP"); /* one operation by name, e.g. RG_FAULT_OP=check-in */
    for (size_t i = 0; i < g_nops; i++)
        if (!only || !strcmp(only, g_ops[i].name))
            tests[nt++] = (struct CMUnitTest){g_ops[i].name, run_op, NULL, NULL, &g_ops[i]};
    int rc = _cmocka_run_group_tests("alloc_faults", tests, nt, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd))
        rc = 1;
    free(g_template_bytes);
    return rc;
}
