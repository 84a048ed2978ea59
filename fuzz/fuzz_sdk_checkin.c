/*
 * fuzz_sdk_checkin.c: libFuzzer target for libriskgate's reading of the
 * server's check-in answer (src/sdk/): the ticket (base64, the Ed25519
 * check, the signed payload's JSON), the decision and warnings
 * (decision_from_checkin, rg_decision_json), the app configuration sets and
 * their resolvers (appcfg_*), and the offline rules on the ticket
 * (offline_decide). This is the code between the network and the app.
 * The input is the answer's body as the SDK's HTTP client reads it.
 * The ticket is taken twice: as sent, against a fixed pinned key (a forged
 * or garbled ticket must be refused, never parsed); and, so that the fuzzer
 * reaches the payload parser, with ticket.payload's text signed here by that
 * key (as the server would sign it) and verified again.
 * Checks: a ticket that does not verify leaves *t zeroed; a parsed ticket's
 * strings are NUL-terminated; the decision's JSON is valid JSON; resolver
 * results are one of their documented codes.
 */
#include <openssl/evp.h>

#include "common/err.h"
#include "fuzz.h"
#include "sdk/sdk.h"

/* A fixed Ed25519 key (RFC 8032 test 1). */
static const unsigned char priv[32] = {0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
                                       0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
                                       0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
static const char pub_b64[] = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

static char *b64(const unsigned char *p, size_t n)
{
    char *s = malloc(4 * ((n + 2) / 3) + 1);
    if (s)
        EVP_EncodeBlock((unsigned char *)s, p, (int)n);
    return s;
}

/* ticket.payload's text, signed with the fixed key, verified as the SDK does. */
static void signed_ticket(const char *payload, struct ticket *t, int *rc)
{
    *rc = RG_EINVAL;
    size_t n = strlen(payload);
    unsigned char sig[64];
    size_t sl = sizeof sig;
    EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, sizeof priv);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    char *p64 = b64((const unsigned char *)payload, n), *s64 = NULL;
    if (pk && ctx && p64 && EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk) == 1 &&
        EVP_DigestSign(ctx, sig, &sl, (const unsigned char *)payload, n) == 1 && (s64 = b64(sig, sl))) {
        *rc = ticket_verify(pub_b64, p64, s64, NULL, NULL, t);
        FUZZ_CHECK(*rc == 0 || *rc == RG_EINVAL || *rc == RG_ENOMEM);
        /* the same ticket for someone else's registration is refused */
        if (*rc == 0) {
            struct ticket t2;
            FUZZ_CHECK(ticket_verify(pub_b64, p64, s64, "\x01other", NULL, &t2) == RG_EAUTH);
        }
    }
    free(p64);
    free(s64);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
}

static bool zeroed(const struct ticket *t)
{
    static const struct ticket z;
    return !memcmp(t, &z, sizeof z);
}

static void check_ticket(const struct ticket *t)
{
    FUZZ_CHECK(memchr(t->registration_id, '\0', sizeof t->registration_id) && t->registration_id[0]);
    FUZZ_CHECK(memchr(t->tenant_id, '\0', sizeof t->tenant_id));
    FUZZ_CHECK(memchr(t->user_id, '\0', sizeof t->user_id));
    FUZZ_CHECK(memchr(t->app_id, '\0', sizeof t->app_id));
    FUZZ_CHECK(memchr(t->device_id, '\0', sizeof t->device_id));
    static const int64_t nows[] = {0, 1700000000000, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof nows / sizeof nows[0]; i++) {
        struct offline_verdict v = offline_decide(t, nows[i]);
        FUZZ_CHECK(v.reason);
    }
}

static void check_appconfig(const json_t *configs)
{
    static const char *const keys[] = {"com.microsoft.outlook.Mail.FocusedInbox", "maxAttachmentMB", "ratio", ""};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        for (int q = RG_QUERY_ANY; q <= RG_QUERY_MAX; q++) {
            bool b;
            int64_t i;
            double d;
            const char *s;
            int r = appcfg_bool(configs, keys[k], (rg_query)q, &b);
            FUZZ_CHECK(r == 0 || r == RG_ENOTFOUND || r == RG_EINVAL || r == APPCFG_ETYPE);
            r = appcfg_int(configs, keys[k], (rg_query)q, &i);
            FUZZ_CHECK(r == 0 || r == RG_ENOTFOUND || r == RG_EINVAL || r == APPCFG_ETYPE);
            r = appcfg_double(configs, keys[k], (rg_query)q, &d);
            FUZZ_CHECK(r == 0 || r == RG_ENOTFOUND || r == RG_EINVAL || r == APPCFG_ETYPE);
            r = appcfg_string(configs, keys[k], (rg_query)q, &s);
            FUZZ_CHECK(r == 0 || r == RG_ENOTFOUND || r == RG_EINVAL || r == APPCFG_ETYPE);
            if (!r)
                FUZZ_CHECK(s);
        }
        for (size_t n = 0; n <= json_array_size(configs) && n < 8; n++) {
            const char *v;
            (void)appcfg_get(configs, n, keys[k], &v);
        }
    }
    json_t *full = appcfg_full(configs);
    json_decref(full);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    json_t *answer = json_loadb((const char *)data, size, 0, NULL);
    if (!answer)
        return 0;
    const json_t *tj = json_object_get(answer, "ticket");

    /* as sent: only the pinned key's signature opens it */
    struct ticket t;
    memset(&t, 0x55, sizeof t);
    int rc = ticket_verify_json(pub_b64, tj, NULL, NULL, &t);
    if (rc)
        FUZZ_CHECK(zeroed(&t));
    else
        check_ticket(&t);

    /* signed here, so the payload parser sees the fuzzer's JSON */
    const char *payload = json_string_value(json_object_get(tj, "payload"));
    if (payload) {
        signed_ticket(payload, &t, &rc);
        if (rc)
            FUZZ_CHECK(zeroed(&t));
        else
            check_ticket(&t);
    } else {
        rc = RG_EINVAL;
    }

    struct rg_decision d, d2;
    memset(&d, 0, sizeof d);
    memset(&d2, 0, sizeof d2);
    d.action = d2.action = RG_ACTION_SIGN_IN;
    if (decision_from_checkin(&d, answer, rc ? NULL : &t) == 0) {
        char *js = NULL;
        if (rg_decision_json(&d, &js) == RG_SDK_OK) {
            json_t *back = json_loads(js, 0, NULL);
            FUZZ_CHECK(back);
            json_decref(back);
            rg_string_free(js);
        }
        FUZZ_CHECK(decision_local(&d2, RG_ACTION_BLOCK, "offline") != RG_EINVAL);
        (void)decision_same(&d, &d2);
        FUZZ_CHECK(decision_same(&d, &d));
    }
    decision_release(&d);
    decision_release(&d2);
    check_appconfig(json_object_get(answer, "appConfigurations"));
    json_decref(answer);
    return 0;
}
