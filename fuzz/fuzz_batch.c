/*
 * fuzz_batch.c: libFuzzer target for the Graph $batch body (api_batch,
 * src/server/api/batch.c): the requests array, ids, dependsOn and its cycles,
 * each step's method, url, headers and body, then every step dispatched
 * through riskgated's route table to its handler, whose own body parsing
 * (api_parse_body, schema validation) runs on what the step carries.
 * The server is a struct app as main.c builds it, on a SQLite store in memory
 * ("sqlite::memory:"), bootstrapped with its admin key, with no worker pool
 * (password hashing inline) and no listener; the batch is sent with the admin
 * key. The store is built anew every 256 inputs, so what steps wrote does not
 * pile up. Key files live in a folder under /tmp, removed at exit.
 * The input is the batch body (JSON).
 * Checks: the answer has a body that is JSON; a 200 has one response per
 * request, each with the id of a request of the batch and a status from 100
 * to 599; an error has Graph's error shape; no step waits (suspends);
 * nothing leaks.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <jansson.h>

#include "common/sign.h"
#include "server/api/api.h"
#include "server/app.h"
#include "server/appcache.h"
#include "server/audit.h"
#include "server/notify.h"
#include "fuzz.h"

static char dir[] = "/tmp/rg-fuzz-batch-XXXXXX";
static char key_path[64], sign_path[64];
static struct app app;
static struct log lg = LOG_INIT;
static char auth[256];
static unsigned uses;

static void down(void)
{
    if (!app.store)
        return;
    store_close(app.store);
    appcache_free(app.cache);
    app.store = NULL;
    app.cache = NULL;
}

static void cleanup(void)
{
    down();
    sign_key_free(app.sign);
    notify_free(app.notify);
    http_metrics_free(app.metrics);
    if (lg.out)
        fclose(lg.out);
    unlink(key_path);
    unlink(sign_path);
    rmdir(dir);
}

/* A new store in memory with tenant "default" and its admin key in auth. */
static void up(void)
{
    char err[256];
    int created = 0;
    struct store *db = NULL;
    unlink(key_path);
    if (store_open("sqlite::memory:", &db, err, sizeof err) || !(app.cache = appcache_new()) ||
        store_watch_new(db, appcache_on_write, app.cache, &app.store))
        __builtin_trap(); /* the target cannot run at all */
    store_watch_audit(app.store, audit_on_write, &app);
    if (app_bootstrap(&app, key_path, &created, err, sizeof err) || !created)
        __builtin_trap();
    FILE *f = fopen(key_path, "r");
    char key[200] = "";
    if (!f || !fgets(key, sizeof key, f))
        __builtin_trap();
    fclose(f);
    key[strcspn(key, "\r\n")] = '\0';
    snprintf(auth, sizeof auth, "Bearer %s", key);
}

static void init(void)
{
    char err[256];
    int made = 0;
    if (!mkdtemp(dir))
        __builtin_trap();
    snprintf(key_path, sizeof key_path, "%s/admin.key", dir);
    snprintf(sign_path, sizeof sign_path, "%s/signing.key", dir);
    lg.min_level = LOG_ERROR;
    if (!(lg.out = fopen("/dev/null", "w"))) /* quiet */
        __builtin_trap();
    app.log = &lg;
    snprintf(app.public_url, sizeof app.public_url, "http://127.0.0.1:8443");
    if (sign_key_load(sign_path, &app.sign, &made, err, sizeof err))
        __builtin_trap();
    app.metrics = http_metrics_new();
    app.notify = notify_new();
    atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!app.sign)
        init();
    if (!app.store || uses++ % 256 == 0) {
        down();
        up();
    }
    /* an exact-size copy: the body is not NUL-terminated */
    char *body = malloc(size ? size : 1);
    if (!body)
        return 0;
    if (size)
        memcpy(body, data, size);
    struct http_request req = {.method = "POST", .path = "/v1.0/$batch", .query = "", .body = body, .body_len = size,
                               .authorization = auth, .version = "v1.0", .peer = "127.0.0.1"};
    struct http_response res = {.status = 200, .content_type = "application/json", .body = BUF_INIT(HTTP_RESPONSE_CAP)};
    snprintf(res.request_id, sizeof res.request_id, "fuzz");
    snprintf(res.client_request_id, sizeof res.client_request_id, "fuzz");
    api_batch(&app, &req, &res);
    FUZZ_CHECK(!res.suspended);
    FUZZ_CHECK(res.status >= 200 && res.status <= 599);
    FUZZ_CHECK(res.body.len > 0);
    json_t *out = json_loadb(res.body.data, res.body.len, 0, NULL);
    FUZZ_CHECK(json_is_object(out));
    if (res.status == 200) {
        /* the body as api_parse_body reads it: a UTF-8 byte order mark first is skipped */
        size_t skip = size >= 3 && !memcmp(body, "\xEF\xBB\xBF", 3) ? 3 : 0;
        json_t *in = json_loadb(body + skip, size - skip, 0, NULL);
        const json_t *requests = json_object_get(in, "requests");
        const json_t *responses = json_object_get(out, "responses");
        FUZZ_CHECK(json_is_array(requests) && json_is_array(responses));
        FUZZ_CHECK(json_array_size(responses) == json_array_size(requests));
        size_t i;
        const json_t *r;
        json_array_foreach(responses, i, r) {
            json_int_t st = json_integer_value(json_object_get(r, "status"));
            FUZZ_CHECK(st >= 100 && st <= 599);
            FUZZ_CHECK(json_is_string(json_object_get(r, "id")));
            FUZZ_CHECK(json_is_object(json_object_get(r, "headers")));
        }
        json_decref(in);
    } else {
        const json_t *e = json_object_get(out, "error");
        FUZZ_CHECK(json_is_string(json_object_get(e, "code")) && json_is_string(json_object_get(e, "message")));
    }
    json_decref(out);
    buf_release(&res.body);
    free(body);
    return 0;
}
