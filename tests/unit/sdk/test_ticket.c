/*
 * Unit tests of src/sdk/ticket.c: a ticket signed the way riskgated signs it
 * (Ed25519 over the exact payload bytes, payload and signature base64)
 * verifies; a tampered payload, a wrong key, another registration's ticket
 * and malformed input do not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "common/answer.h"
#include "common/err.h"
#include "common/util.h"
#include "sdk/sdk.h"

static char *b64(const void *p, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    assert_non_null(out);
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    return out;
}

struct signer {
    EVP_PKEY *key;
    char *pub_b64;
};

static void signer_new(struct signer *s)
{
    s->key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_non_null(s->key);
    unsigned char raw[32];
    size_t rl = sizeof raw;
    assert_int_equal(EVP_PKEY_get_raw_public_key(s->key, raw, &rl), 1);
    assert_int_equal(rl, 32);
    s->pub_b64 = b64(raw, rl);
}

static void signer_free(struct signer *s)
{
    EVP_PKEY_free(s->key);
    free(s->pub_b64);
}

/* Signs msg; returns base64 of the signature. */
static char *sign(const struct signer *s, const void *msg, size_t n)
{
    unsigned char sig[64];
    size_t sl = sizeof sig;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->key), 1);
    assert_int_equal(EVP_DigestSign(ctx, sig, &sl, msg, n), 1);
    EVP_MD_CTX_free(ctx);
    return b64(sig, sl);
}

static const char PAYLOAD[] =
    "{\"registrationId\":\"reg-1\",\"tenantId\":\"t-1\",\"userId\":\"u-1\",\"appId\":\"com.microsoft.office.outlook\","
    "\"deviceId\":\"d-1\",\"action\":\"allow\",\"issuedAt\":1700000000000,\"offlineAccessUntil\":1700043200000,"
    "\"offlineWipeAt\":1707776000000,"
    "\"answerSha256\":\"9a4c1f0b2d3e5f60718293a4b5c6d7e8f9012345678901234567890abcdef012\"}";

static void test_valid(void **state)
{
    (void)state;
    struct signer s;
    signer_new(&s);
    char *p = b64(PAYLOAD, strlen(PAYLOAD)), *sig = sign(&s, PAYLOAD, strlen(PAYLOAD));
    struct ticket t;
    assert_int_equal(ticket_verify(s.pub_b64, p, sig, "reg-1", "com.microsoft.office.outlook", &t), 0);
    assert_string_equal(t.registration_id, "reg-1");
    assert_string_equal(t.tenant_id, "t-1");
    assert_string_equal(t.user_id, "u-1");
    assert_string_equal(t.device_id, "d-1");
    assert_int_equal(t.action, RG_ACTION_ALLOW);
    assert_true(t.issued_at == 1700000000000LL);
    assert_true(t.offline_until == 1700043200000LL);
    assert_true(t.wipe_at == 1707776000000LL);
    assert_string_equal(t.answer_sha256, "9a4c1f0b2d3e5f60718293a4b5c6d7e8f9012345678901234567890abcdef012");
    /* no identity expectations */
    assert_int_equal(ticket_verify(s.pub_b64, p, sig, NULL, NULL, &t), 0);
    /* the JSON form */
    json_t *o = json_pack("{s:s, s:s}", "payload", p, "signature", sig);
    assert_int_equal(ticket_verify_json(s.pub_b64, o, "reg-1", NULL, &t), 0);
    json_decref(o);
    free(p);
    free(sig);
    signer_free(&s);
}

static void test_tampered_payload(void **state)
{
    (void)state;
    struct signer s;
    signer_new(&s);
    char *sig = sign(&s, PAYLOAD, strlen(PAYLOAD));
    /* the cached payload edited from block to allow: the signature was over "block" */
    char blocked[sizeof PAYLOAD];
    memcpy(blocked, PAYLOAD, sizeof PAYLOAD);
    char *act = strstr(blocked, "\"allow\"");
    assert_non_null(act);
    char *bsig = sign(&s, blocked, strlen(blocked)); /* genuine for the original */
    memcpy(act, "\"block\"", 7);
    char *bsig2 = sign(&s, blocked, strlen(blocked)); /* signature of the block ticket */
    memcpy(act, "\"allow\"", 7);                      /* ...edited back to allow */
    char *p = b64(blocked, strlen(blocked));
    struct ticket t;
    assert_int_equal(ticket_verify(s.pub_b64, p, bsig2, NULL, NULL, &t), RG_EAUTH);
    assert_string_equal(t.registration_id, ""); /* nothing left from a refused ticket */
    /* a later offlineAccessUntil */
    char later[sizeof PAYLOAD + 8];
    snprintf(later, sizeof later, "%s", PAYLOAD);
    char *u = strstr(later, "1700043200000");
    assert_non_null(u);
    u[0] = '9';
    char *lp = b64(later, strlen(later));
    assert_int_equal(ticket_verify(s.pub_b64, lp, sig, NULL, NULL, &t), RG_EAUTH);
    /* one flipped byte of the signature */
    char *bad = strdup(sig);
    bad[5] = bad[5] == 'A' ? 'B' : 'A';
    char *op = b64(PAYLOAD, strlen(PAYLOAD));
    assert_int_equal(ticket_verify(s.pub_b64, op, bad, NULL, NULL, &t), RG_EAUTH);
    assert_int_equal(ticket_verify(s.pub_b64, op, sig, NULL, NULL, &t), 0);
    free(bad);
    free(op);
    free(lp);
    free(p);
    free(bsig);
    free(bsig2);
    free(sig);
    signer_free(&s);
}

static void test_wrong_key(void **state)
{
    (void)state;
    struct signer s, other;
    signer_new(&s);
    signer_new(&other);
    char *p = b64(PAYLOAD, strlen(PAYLOAD));
    char *sig = sign(&other, PAYLOAD, strlen(PAYLOAD)); /* a server that is not the pinned one */
    struct ticket t;
    assert_int_equal(ticket_verify(s.pub_b64, p, sig, NULL, NULL, &t), RG_EAUTH);
    assert_int_equal(ticket_verify(other.pub_b64, p, sig, NULL, NULL, &t), 0);
    free(p);
    free(sig);
    signer_free(&s);
    signer_free(&other);
}

static void test_someone_elses_ticket(void **state)
{
    (void)state;
    struct signer s;
    signer_new(&s);
    char *p = b64(PAYLOAD, strlen(PAYLOAD)), *sig = sign(&s, PAYLOAD, strlen(PAYLOAD));
    struct ticket t;
    assert_int_equal(ticket_verify(s.pub_b64, p, sig, "reg-2", NULL, &t), RG_EAUTH);
    assert_int_equal(ticket_verify(s.pub_b64, p, sig, NULL, "com.other.app", &t), RG_EAUTH);
    free(p);
    free(sig);
    signer_free(&s);
}

static void test_malformed(void **state)
{
    (void)state;
    struct signer s;
    signer_new(&s);
    struct ticket t;
    char *p = b64(PAYLOAD, strlen(PAYLOAD)), *sig = sign(&s, PAYLOAD, strlen(PAYLOAD));
    assert_int_equal(ticket_verify("not base64!", p, sig, NULL, NULL, &t), RG_EINVAL);
    assert_int_equal(ticket_verify("AAAA", p, sig, NULL, NULL, &t), RG_EINVAL); /* 3 bytes, not 32 */
    assert_int_equal(ticket_verify(s.pub_b64, "%%%%", sig, NULL, NULL, &t), RG_EINVAL);
    assert_int_equal(ticket_verify(s.pub_b64, p, "", NULL, NULL, &t), RG_EINVAL);
    assert_int_equal(ticket_verify(s.pub_b64, p, "AAAA", NULL, NULL, &t), RG_EAUTH); /* not 64 bytes */
    assert_int_equal(ticket_verify(s.pub_b64, NULL, sig, NULL, NULL, &t), RG_EINVAL);
    /* signed, but not a ticket: each payload below is genuinely signed */
    const char *bad[] = {"[]", "{\"action\":\"allow\"}",
                         "{\"registrationId\":\"r\",\"appId\":\"a\",\"action\":\"maybe\",\"issuedAt\":1,"
                         "\"offlineAccessUntil\":2,\"offlineWipeAt\":3}",
                         "{\"registrationId\":\"r\",\"appId\":\"a\",\"action\":\"allow\",\"issuedAt\":\"1\","
                         "\"offlineAccessUntil\":2,\"offlineWipeAt\":3}",
                         /* a ticket without the answer's digest signs only the action: refused */
                         "{\"registrationId\":\"r\",\"appId\":\"a\",\"action\":\"allow\",\"issuedAt\":1,"
                         "\"offlineAccessUntil\":2,\"offlineWipeAt\":3}",
                         "{\"registrationId\":\"r\",\"appId\":\"a\",\"action\":\"allow\",\"issuedAt\":1,"
                         "\"offlineAccessUntil\":2,\"offlineWipeAt\":3,\"answerSha256\":\"abc\"}",
                         "not json"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *bp = b64(bad[i], strlen(bad[i])), *bs = sign(&s, bad[i], strlen(bad[i]));
        assert_int_equal(ticket_verify(s.pub_b64, bp, bs, NULL, NULL, &t), RG_EINVAL);
        free(bp);
        free(bs);
    }
    json_t *o = json_pack("{s:s}", "payload", p);
    assert_int_equal(ticket_verify_json(s.pub_b64, o, NULL, NULL, &t), RG_EINVAL);
    assert_int_equal(ticket_verify_json(s.pub_b64, NULL, NULL, NULL, &t), RG_EINVAL);
    json_decref(o);
    free(p);
    free(sig);
    signer_free(&s);
}

static void test_b64(void **state)
{
    (void)state;
    unsigned char *out;
    size_t n;
    assert_int_equal(ticket_b64_decode("aGk=", &out, &n), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "hi", 2);
    free(out);
    assert_int_equal(ticket_b64_decode("aGVsbG8=", &out, &n), 0);
    assert_int_equal(n, 5);
    free(out);
    assert_int_equal(ticket_b64_decode("aGV", &out, &n), RG_EINVAL);
    assert_int_equal(ticket_b64_decode("a=Vs", &out, &n), RG_EINVAL);
    assert_int_equal(ticket_b64_decode("aGVs bG8=", &out, &n), RG_EINVAL);
    assert_int_equal(ticket_b64_decode("", &out, &n), RG_EINVAL);
    assert_null(out);
}

/* The answer's digest: what the server computes over what the app acts on, and nothing else */
static void test_answer_digest(void **state)
{
    (void)state;
    json_t *a = json_pack("{s:{s:s,s:s}, s:{s:b}, s:[], s:n, s:i, s:s, s:{s:s}}", "decision", "action", "allow",
                          "reasonCode", "allowed", "settings", "pinRequired", 1, "appConfigurations", "wipe",
                          "nextCheckInSeconds", 1800, "decisionVersion", "v", "ticket", "payload", "x");
    struct ticket t;
    memset(&t, 0, sizeof t);
    assert_int_equal(answer_sha256(a, t.answer_sha256), 0);
    assert_int_equal(strlen(t.answer_sha256), ANSWER_SHA256_LEN);
    /* the canonical text is documented (docs/app-api.md): anyone can compute it */
    static const char canon[] = "{\"appConfigurations\":[],\"decision\":{\"action\":\"allow\",\"reasonCode\":"
                                "\"allowed\"},\"settings\":{\"pinRequired\":true},\"wipe\":null}";
    char want[65];
    util_sha256_hex(canon, strlen(canon), want, sizeof want);
    assert_string_equal(t.answer_sha256, want);
    assert_int_equal(ticket_check_answer(&t, a), 0);
    /* what is outside the digest may change: times, the next check-in, the version */
    json_object_set_new(a, "nextCheckInSeconds", json_integer(60));
    assert_int_equal(ticket_check_answer(&t, a), 0);
    /* what the app acts on may not */
    json_object_set_new(json_object_get(a, "settings"), "pinRequired", json_false());
    assert_int_equal(ticket_check_answer(&t, a), RG_EAUTH);
    json_object_set_new(json_object_get(a, "settings"), "pinRequired", json_true());
    json_object_set_new(a, "wipe", json_pack("{s:s}", "id", "w-1"));
    assert_int_equal(ticket_check_answer(&t, a), RG_EAUTH);
    json_object_set_new(a, "wipe", json_null());
    json_array_append_new(json_object_get(a, "appConfigurations"), json_object());
    assert_int_equal(ticket_check_answer(&t, a), RG_EAUTH);
    json_decref(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),           cmocka_unit_test(test_tampered_payload),
        cmocka_unit_test(test_wrong_key),       cmocka_unit_test(test_someone_elses_ticket),
        cmocka_unit_test(test_malformed), cmocka_unit_test(test_answer_digest),       cmocka_unit_test(test_b64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
