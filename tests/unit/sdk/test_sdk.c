/*
 * Unit tests of the public SDK (include/riskgate/riskgate.h) without a
 * server: a cache holding a ticket signed by a test key (pinned), a server
 * URL nobody answers, and the offline rules seen through rg_launch_check:
 * offline access, an edited cache that grants nothing, "Internet Connection
 * Required", the offline wipe through the app's callback (and its failure),
 * the resolvers, and the error codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "common/answer.h"
#include "common/util.h"
#include "riskgate/riskgate.h"
#include "sdk/sdk.h"

#define APP "com.microsoft.office.outlook"
#define MIN (60 * 1000LL)

static char dir[64];
static EVP_PKEY *key;
static char pub[64];

static char *b64(const void *p, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    assert_non_null(out);
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    return out;
}

static char *sign(const char *msg)
{
    unsigned char sig[64];
    size_t sl = sizeof sig;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, key), 1);
    assert_int_equal(EVP_DigestSign(ctx, sig, &sl, (const unsigned char *)msg, strlen(msg)), 1);
    EVP_MD_CTX_free(ctx);
    return b64(sig, sl);
}

/* The device the next write_cache's ticket names (NULL: none) */
static const char *ticket_device;

/* Writes registration.json and a check-in whose ticket says action, with its clocks relative to now. */
static void write_cache(const char *action, int64_t until_rel, int64_t wipe_rel)
{
    int64_t now = util_now_ms();
    json_t *reg = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "registrationId", "reg-1", "token", "rga_test",
                            "serverKey", pub, "server", "http://127.0.0.1:1", "appId", APP, "platform", "android");
    assert_int_equal(cache_dir_ensure(dir), 0);
    assert_int_equal(cache_write(dir, CACHE_REGISTRATION, reg), 0);
    json_decref(reg);
    json_t *ck = json_pack(
        "{s:{s:s, s:s, s:s, s:s, s:s}, s:[], s:{s:b, s:s}, s:[{s:s, s:s, s:[{s:s, s:s}]}], s:i, s:n, s:s}",
        "decision", "action", action, "reasonCode", !strcmp(action, "block") ? "threatLevelTooHigh" : "allowed",
        "title", !strcmp(action, "block") ? "Access blocked" : "", "message", "cached message", "remedy", "",
        "warnings", "settings", "pinRequired", 1, "minimumRequiredOsVersion", "12", "appConfigurations", "id", "c1",
        "displayName", "Outlook", "customSettings", "name", "maxAttachmentMB", "value", "25", "nextCheckInSeconds", 1800,
        "wipe", "decisionVersion", "v1");
    assert_non_null(ck);
    /* signed as riskgated signs: the answer's digest in the payload (common/answer.h) */
    char digest[ANSWER_SHA256_LEN + 1];
    assert_int_equal(answer_sha256(ck, digest), 0);
    json_t *payload = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s, s:I, s:I, s:I, s:s}", "registrationId", "reg-1",
                                "tenantId", "t-1", "userId", "u-1", "appId", APP, "deviceId", ticket_device, "action",
                                action, "issuedAt", (json_int_t)(now - MIN), "offlineAccessUntil",
                                (json_int_t)(now + until_rel), "offlineWipeAt", (json_int_t)(now + wipe_rel),
                                "answerSha256", digest);
    char *pj = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS);
    char *p64 = b64(pj, strlen(pj)), *sig = sign(pj);
    json_object_set_new(ck, "ticket", json_pack("{s:s, s:s}", "payload", p64, "signature", sig));
    assert_int_equal(cache_write(dir, CACHE_CHECKIN, ck), 0);
    json_decref(ck);
    json_decref(payload);
    free(pj);
    free(p64);
    free(sig);
}

/* The agent's socket for open_sdk (a fake agent's, or one nobody listens on) */
static const char *agent_sock = "/nonexistent/agent.sock";

static struct rg *open_sdk(int expect)
{
    struct rg *rg = NULL;
    assert_int_equal(rg_new(&rg), RG_SDK_OK);
    struct rg_options o = RG_OPTIONS_INIT;
    o.server_url = "http://127.0.0.1:1"; /* nothing listens on port 1: offline */
    o.storage_dir = dir;
    o.app_id = APP;
    o.platform = "android";
    o.agent_socket = agent_sock;
    o.server_key = pub; /* built in, as riskgate.h asks */
    assert_int_equal(rg_configure(rg, &o), expect);
    return rg;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/rg-sdk.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    unsigned char raw[32];
    size_t rl = sizeof raw;
    if (!key || EVP_PKEY_get_raw_public_key(key, raw, &rl) != 1)
        return -1;
    EVP_EncodeBlock((unsigned char *)pub, raw, 32);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[128];
    snprintf(p, sizeof p, "%s/registration.json", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/checkin.json", dir);
    unlink(p);
    rmdir(dir);
    EVP_PKEY_free(key);
    return 0;
}

static void test_offline_allows_from_ticket(void **state)
{
    (void)state;
    write_cache("allow", 60 * MIN, 24 * 60 * MIN);
    struct rg *rg = open_sdk(RG_SDK_OK);
    assert_true(rg_is_signed_in(rg));
    const struct rg_decision *d = NULL;
    assert_int_equal(rg_launch_check(rg, &d), RG_SDK_OK);
    assert_int_equal(rg_decision_action(d), RG_ACTION_ALLOW);
    assert_true(rg_decision_allows(d));
    assert_true(rg_decision_is_offline(d));
    assert_string_equal(rg_decision_message(d), "cached message");
    assert_true(rg_decision_offline_until(d) > util_now_ms());
    assert_true(strlen(rg_errmsg(rg)) > 0); /* why the server was not used */
    char *s = NULL;
    assert_int_equal(rg_settings_json(rg, &s), RG_SDK_OK);
    assert_non_null(strstr(s, "\"pinRequired\":true"));
    rg_string_free(s);
    assert_int_equal(rg_appconfig_count(rg), 1);
    int64_t v = 0;
    assert_int_equal(rg_appconfig_int(rg, "maxAttachmentMB", RG_QUERY_MAX, &v), RG_SDK_OK);
    assert_int_equal(v, 25);
    assert_int_equal(rg_appconfig_int(rg, "nope", RG_QUERY_MAX, &v), RG_SDK_ENOTFOUND);
    int b;
    assert_int_equal(rg_appconfig_bool(rg, "maxAttachmentMB", RG_QUERY_ANY, &b), RG_SDK_ETYPE);
    char *str = NULL;
    assert_int_equal(rg_appconfig_string(rg, "maxAttachmentMB", RG_QUERY_MIN, &str), RG_SDK_OK);
    assert_string_equal(str, "25");
    rg_string_free(str);
    assert_int_equal(rg_appconfig_json(rg, &s), RG_SDK_OK);
    assert_non_null(strstr(s, "\"settings\":{\"maxAttachmentMB\":\"25\"}"));
    rg_string_free(s);
    /* the loop: nothing changes, no wait is opened while offline */
    struct pollfd fds[RG_MAX_FDS];
    int t;
    assert_int_equal(rg_process(rg, 0), RG_SDK_OK);
    assert_int_equal(rg_fds(rg, fds, RG_MAX_FDS, &t), 0);
    assert_true(t > 0);
    rg_free(rg);
}

static void test_edited_cache_grants_nothing(void **state)
{
    (void)state;
    write_cache("block", 60 * MIN, 24 * 60 * MIN);
    json_t *ck = NULL;
    assert_int_equal(cache_read(dir, CACHE_CHECKIN, &ck), 0);
    /* the person edits the decision and the payload's action to allow, keeping the signature */
    json_object_set_new(json_object_get(ck, "decision"), "action", json_string("allow"));
    json_t *tk = json_object_get(ck, "ticket");
    unsigned char *raw;
    size_t n;
    assert_int_equal(ticket_b64_decode(json_string_value(json_object_get(tk, "payload")), &raw, &n), 0);
    char *at = strstr((char *)raw, "\"block\"");
    assert_non_null(at);
    memcpy(at, "\"allow\"", 7);
    char *p = b64(raw, n);
    json_object_set_new(tk, "payload", json_string(p));
    assert_int_equal(cache_write(dir, CACHE_CHECKIN, ck), 0);
    free(p);
    free(raw);
    json_decref(ck);
    struct rg *rg = open_sdk(RG_SDK_OK);
    const struct rg_decision *d;
    assert_int_equal(rg_launch_check(rg, &d), RG_SDK_OK);
    assert_int_equal(rg_decision_action(d), RG_ACTION_CONNECT);
    assert_string_equal(rg_decision_title(d), "Internet Connection Required");
    assert_string_equal(rg_decision_reason(d), "offlineNoTicket");
    assert_false(rg_decision_allows(d));
    rg_free(rg);

    /* untouched, the block stays a block offline */
    write_cache("block", 60 * MIN, 24 * 60 * MIN);
    rg = open_sdk(RG_SDK_OK);
    assert_int_equal(rg_launch_check(rg, &d), RG_SDK_OK);
    assert_int_equal(rg_decision_action(d), RG_ACTION_BLOCK);
    assert_string_equal(rg_decision_title(d), "Access blocked");
    rg_free(rg);
}

/* Settings, configuration or decision text edited in the cache (the signed action kept): the cache counts for nothing */
static void test_edited_settings_grant_nothing(void **state)
{
    (void)state;
    static const char *const edits[] = {"settings", "appConfigurations", "decision"};
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        write_cache("allow", 60 * MIN, 24 * 60 * MIN);
        json_t *ck = NULL;
        assert_int_equal(cache_read(dir, CACHE_CHECKIN, &ck), 0);
        if (!strcmp(edits[i], "settings"))
            json_object_set_new(json_object_get(ck, "settings"), "pinRequired", json_false());
        else if (!strcmp(edits[i], "appConfigurations"))
            json_array_clear(json_object_get(ck, "appConfigurations"));
        else
            json_object_set_new(json_object_get(ck, "decision"), "message", json_string("edited"));
        assert_int_equal(cache_write(dir, CACHE_CHECKIN, ck), 0);
        json_decref(ck);
        struct rg *rg = open_sdk(RG_SDK_OK);
        const struct rg_decision *d;
        assert_int_equal(rg_launch_check(rg, &d), RG_SDK_OK);
        assert_int_equal(rg_decision_action(d), RG_ACTION_CONNECT);
        assert_string_equal(rg_decision_reason(d), "offlineNoTicket");
        char *js = NULL;
        assert_int_equal(rg_settings_json(rg, &js), RG_SDK_OK);
        assert_string_equal(js, "{}"); /* the edited settings are not handed to the app */
        rg_string_free(js);
        rg_free(rg);
    }
}

/* A fake agent on path answering every request with "hello" for device dev, until killed. */
static pid_t fake_agent(const char *path, const char *dev)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    assert_true(strlen(path) < sizeof sa.sun_path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 8), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        for (;;) {
            int c = accept(fd, NULL, NULL);
            char in[256], out[256];
            if (c < 0 || read(c, in, sizeof in) <= 0) {
                if (c >= 0)
                    close(c);
                continue;
            }
            int n = snprintf(out, sizeof out, "{\"installed\":true,\"activated\":true,\"deviceId\":\"%s\"}\n", dev);
            if (write(c, out, (size_t)n) != n) {
                /* the SDK gave up: nothing to do */
            }
            close(c);
        }
    }
    close(fd);
    return pid;
}

/* An offline ticket opens data only on the device it names: the agent here must say so */
static void test_ticket_other_device(void **state)
{
    (void)state;
    ticket_device = "d-1";
    write_cache("allow", 60 * MIN, 24 * 60 * MIN);
    /* no agent answers (stopped, or the storage copied to a device without one) */
    struct rg *rg = open_sdk(RG_SDK_OK);
    const struct rg_decision *d;
    assert_int_equal(rg_launch_check(rg, &d), RG_SDK_OK);
    assert_int_equal(rg_decision_action(d), RG_ACTION_CONNECT);
    assert_string_equal(rg_decision_reason(d), "deviceNotConfirmed");
    assert_false(rg_decision_allows(d));
    rg_free(rg);

    char sock[128];
    snprintf(sock, sizeof sock, "%s/agent.sock", dir);
    agent_sock = sock;
    static const char *const devs[] = {"d-2", "d-1"}; /* another device's agent, then this one's */
    for (size_t i = 0; i < 2; i++) {
        pid_t pid = fake_agent(sock, devs[i]);
        rg = open_sdk(RG_SDK_OK);
        assert_int_equal(rg_launch_check(rg, &d), RG_SDK_OK);
        assert_int_equal(rg_decision_action(d), i ? RG_ACTION_ALLOW : RG_ACTION_CONNECT);
        assert_string_equal(rg_decision_reason(d), i ? "allowed" : "deviceNotConfirmed");
        assert_true(rg_decision_is_offline(d));
        rg_free(rg);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    unlink(sock);
    agent_sock = "/nonexistent/agent.sock";
    ticket_device = NULL;
}

static void test_offline_too_long(void **state)
{
    (void)state;
    write_cache("allow", -1, 24 * 60 * MIN);
    struct rg *rg = open_sdk(RG_SDK_OK);
    const struct rg_decision *d;
    assert_int_equal(rg_launch_check(rg, &d), RG_SDK_OK);
    assert_int_equal(rg_decision_action(d), RG_ACTION_CONNECT);
    assert_string_equal(rg_decision_title(d), "Internet Connection Required");
    assert_string_equal(rg_decision_message(d),
                        "You must be connected to the Internet to verify that you can use this app.");
    char *js = NULL;
    assert_int_equal(rg_decision_json(d, &js), RG_SDK_OK);
    assert_non_null(strstr(js, "\"action\":\"connect\""));
    rg_string_free(js);
    rg_free(rg);
}

struct wipe_probe {
    int calls;
    int result;
    struct rg *rg;
    int nested;
};

static int on_wipe(void *ud, char *why, size_t n)
{
    struct wipe_probe *w = ud;
    w->calls++;
    w->nested = rg_launch_check(w->rg, NULL); /* not allowed from a callback */
    if (w->result)
        snprintf(why, n, "disk is read-only");
    return w->result;
}

static void test_offline_wipe(void **state)
{
    (void)state;
    write_cache("allow", -2, -1);
    struct rg *rg = open_sdk(RG_SDK_OK);
    struct wipe_probe w = {0, 0, rg, 0};
    rg_set_wipe_callback(rg, on_wipe, &w);
    const struct rg_decision *d;
    assert_int_equal(rg_launch_check(rg, &d), RG_SDK_OK);
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.nested, RG_SDK_EBUSY);
    assert_int_equal(rg_decision_action(d), RG_ACTION_WIPE);
    assert_string_equal(rg_decision_title(d), "Wipe Alert");
    assert_false(rg_is_signed_in(rg));
    char p[128];
    snprintf(p, sizeof p, "%s/registration.json", dir);
    assert_int_not_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/checkin.json", dir);
    assert_int_not_equal(access(p, F_OK), 0);
    assert_int_equal(rg_process(rg, 0), RG_SDK_OK);
    assert_int_equal(w.calls, 1);
    rg_free(rg);
}

static void test_offline_wipe_fails(void **state)
{
    (void)state;
    write_cache("allow", -2, -1);
    struct rg *rg = open_sdk(RG_SDK_OK);
    struct wipe_probe w = {0, 1, rg, 0};
    rg_set_wipe_callback(rg, on_wipe, &w);
    const struct rg_decision *d;
    assert_int_equal(rg_launch_check(rg, &d), RG_SDK_OK);
    assert_int_equal(w.calls, 1);
    assert_int_equal(rg_decision_action(d), RG_ACTION_BLOCK);
    assert_string_equal(rg_decision_reason(d), "wipeFailed");
    assert_true(rg_is_signed_in(rg)); /* the data is still there: nothing forgotten */
    for (int i = 0; i < 3; i++)
        assert_int_equal(rg_process(rg, 0), RG_SDK_OK);
    assert_int_equal(w.calls, 1); /* no loop of callbacks */
    w.result = 0;
    assert_int_equal(rg_recheck(rg, &d), RG_SDK_OK); /* a recheck tries again */
    assert_int_equal(w.calls, 2);
    assert_int_equal(rg_decision_action(d), RG_ACTION_WIPE);
    rg_free(rg);
}

static void test_errors(void **state)
{
    (void)state;
    struct rg *rg = NULL;
    assert_int_equal(rg_new(&rg), RG_SDK_OK);
    assert_int_equal(rg_launch_check(rg, NULL), RG_SDK_ENOTCONFIGURED);
    assert_int_equal(rg_process(rg, 0), RG_SDK_ENOTCONFIGURED);
    assert_null(rg_decision(rg));
    struct rg_options o = RG_OPTIONS_INIT;
    assert_int_equal(rg_configure(rg, &o), RG_SDK_EINVAL);
    o.storage_dir = dir;
    o.app_id = APP;
    o.platform = "windows";
    assert_int_equal(rg_configure(rg, &o), RG_SDK_EINVAL);
    o.platform = "ios";
    o.server_url = "ftp://x";
    assert_int_equal(rg_configure(rg, &o), RG_SDK_EINVAL);
    o.server_url = NULL;
    o.server_key = "AAAA";
    assert_int_equal(rg_configure(rg, &o), RG_SDK_EINVAL);
    o.server_key = NULL;
    assert_int_equal(rg_configure(rg, &o), RG_SDK_EINVAL); /* a key is required... */
    assert_non_null(strstr(rg_errmsg(rg), "server_key is required"));
    o.trust_on_first_use = 1; /* ...unless trust on first use is chosen */
    assert_int_equal(rg_configure(rg, &o), RG_SDK_OK);
    const struct rg_decision *d;
    assert_int_equal(rg_launch_check(rg, &d), RG_SDK_OK);
    assert_int_equal(rg_decision_action(d), RG_ACTION_SIGN_IN);
    assert_string_equal(rg_decision_title(d), "Sign-in");
    assert_int_equal(rg_sign_in(rg, "default", "a@b", "pw", NULL), RG_SDK_EINVAL); /* no server URL */
    rg_free(rg);
    rg_free(NULL);
    for (int c = 0; c >= -14; c--)
        assert_non_null(rg_strerror(c));
    assert_string_equal(rg_strerror(RG_SDK_EBADTICKET), "the ticket's signature does not verify");

    /* a key given in the options must be the pinned one */
    write_cache("allow", 60 * MIN, 24 * 60 * MIN);
    assert_int_equal(rg_new(&rg), RG_SDK_OK);
    o.platform = "android";
    o.server_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    assert_int_equal(rg_configure(rg, &o), RG_SDK_EKEYMISMATCH);
    o.server_key = pub;
    assert_int_equal(rg_configure(rg, &o), RG_SDK_OK);
    assert_int_equal(rg_sign_out(rg), RG_SDK_OK);
    assert_false(rg_is_signed_in(rg));
    rg_free(rg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offline_allows_from_ticket), cmocka_unit_test(test_edited_cache_grants_nothing),
        cmocka_unit_test(test_offline_too_long),           cmocka_unit_test(test_offline_wipe),
        cmocka_unit_test(test_offline_wipe_fails),         cmocka_unit_test(test_errors),
        cmocka_unit_test(test_edited_settings_grant_nothing), cmocka_unit_test(test_ticket_other_device),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
