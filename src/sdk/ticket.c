/*
 * ticket.c: the signed ticket of a check-in. The server signs the canonical
 * JSON payload with its Ed25519 key; the ticket carries both base64-encoded.
 * The SDK trusts a ticket only if the signature verifies against the key it
 * pinned at sign-in, so editing the cached check-in grants nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/answer.h"
#include "common/err.h"
#include "sdk/sdk.h"

int ticket_b64_decode(const char *s, unsigned char **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    size_t n = s ? strlen(s) : 0;
    if (!n || n % 4 || n > (64u << 20))
        return RG_EINVAL;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                  c == '/' || (c == '=' && i >= n - 2 && (i == n - 1 || s[n - 1] == '='));
        if (!ok)
            return RG_EINVAL;
    }
    unsigned char *b = malloc(n / 4 * 3 + 1);
    if (!b)
        return RG_ENOMEM;
    int len = EVP_DecodeBlock(b, (const unsigned char *)s, (int)n);
    if (len < 0) {
        free(b);
        return RG_EINVAL;
    }
    /* EVP_DecodeBlock counts the padding as zero bytes */
    if (s[n - 1] == '=')
        len--;
    if (s[n - 2] == '=')
        len--;
    b[len] = 0;
    *out = b;
    *outlen = (size_t)len;
    return 0;
}

static int verify(EVP_PKEY *pk, const unsigned char *sig, size_t sl, const void *msg, size_t ml)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return RG_ENOMEM;
    int ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
             EVP_DigestVerify(ctx, sig, sl, msg, ml) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : RG_EAUTH;
}

int ticket_action_parse(const char *s)
{
    if (!s)
        return -1;
    if (!strcmp(s, "allow"))
        return RG_ACTION_ALLOW;
    if (!strcmp(s, "warn"))
        return RG_ACTION_WARN;
    if (!strcmp(s, "block"))
        return RG_ACTION_BLOCK;
    if (!strcmp(s, "wipe"))
        return RG_ACTION_WIPE;
    return -1;
}

static bool get_str(const json_t *o, const char *k, char *dst, size_t n, bool required)
{
    const json_t *v = json_object_get(o, k);
    if (json_is_null(v) || !v) {
        dst[0] = '\0';
        return !required;
    }
    const char *s = json_string_value(v);
    if (!s || strlen(s) >= n)
        return false;
    memcpy(dst, s, strlen(s) + 1);
    return true;
}

static bool get_ms(const json_t *o, const char *k, int64_t *out)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

static int parse_payload(const unsigned char *p, size_t n, struct ticket *t)
{
    json_t *o = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return RG_EINVAL;
    }
    int act = ticket_action_parse(json_string_value(json_object_get(o, "action")));
    bool ok = act >= 0 && get_str(o, "registrationId", t->registration_id, sizeof t->registration_id, true) &&
              get_str(o, "tenantId", t->tenant_id, sizeof t->tenant_id, false) &&
              get_str(o, "userId", t->user_id, sizeof t->user_id, false) &&
              get_str(o, "appId", t->app_id, sizeof t->app_id, true) &&
              get_str(o, "deviceId", t->device_id, sizeof t->device_id, false) &&
              get_ms(o, "issuedAt", &t->issued_at) && get_ms(o, "offlineAccessUntil", &t->offline_until) &&
              get_ms(o, "offlineWipeAt", &t->wipe_at) &&
              get_str(o, "answerSha256", t->answer_sha256, sizeof t->answer_sha256, true) &&
              strlen(t->answer_sha256) == ANSWER_SHA256_LEN;
    json_decref(o);
    if (!ok)
        return RG_EINVAL;
    t->action = (rg_action)act;
    return 0;
}

int ticket_verify(const char *key_b64, const char *payload_b64, const char *sig_b64, const char *expect_reg,
                  const char *expect_app, struct ticket *t)
{
    memset(t, 0, sizeof *t);
    unsigned char *key = NULL, *payload = NULL, *sig = NULL;
    size_t kl, pl, sl;
    int rc = ticket_b64_decode(key_b64, &key, &kl);
    if (!rc && kl != 32)
        rc = RG_EINVAL;
    if (!rc)
        rc = ticket_b64_decode(payload_b64, &payload, &pl);
    if (!rc)
        rc = ticket_b64_decode(sig_b64, &sig, &sl);
    if (!rc && sl != 64)
        rc = RG_EAUTH;
    EVP_PKEY *pk = NULL;
    if (!rc && !(pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key, kl)))
        rc = RG_EINVAL;
    if (!rc) {
        /* the contract: the signature is over the payload bytes (the decoded JSON) */
        rc = verify(pk, sig, sl, payload, pl); /* exactly the bytes parsed below, nothing else */
    }
    if (!rc)
        rc = parse_payload(payload, pl, t);
    if (!rc && ((expect_reg && strcmp(expect_reg, t->registration_id)) || (expect_app && strcmp(expect_app, t->app_id))))
        rc = RG_EAUTH;
    EVP_PKEY_free(pk);
    free(key);
    free(payload);
    free(sig);
    if (rc)
        memset(t, 0, sizeof *t);
    return rc;
}

int ticket_verify_json(const char *key_b64, const json_t *ticket, const char *expect_reg, const char *expect_app,
                       struct ticket *t)
{
    const char *p = json_string_value(json_object_get(ticket, "payload"));
    const char *s = json_string_value(json_object_get(ticket, "signature"));
    if (!p || !s) {
        memset(t, 0, sizeof *t);
        return RG_EINVAL;
    }
    return ticket_verify(key_b64, p, s, expect_reg, expect_app, t);
}

int ticket_check_answer(const struct ticket *t, const json_t *answer)
{
    char d[ANSWER_SHA256_LEN + 1];
    if (answer_sha256(answer, d))
        return RG_ENOMEM;
    return CRYPTO_memcmp(d, t->answer_sha256, ANSWER_SHA256_LEN) ? RG_EAUTH : 0;
}
