/* sign.c: Ed25519 signing key and signatures with OpenSSL (sign.h). */
#include "common/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "common/err.h"

struct sign_key {
    EVP_PKEY *pkey;
    char pub_b64[64];
    unsigned char nonce_key[32]; /* SHA-256 of a label and the private key (sign_nonce_new) */
};

char *sign_base64(const void *p, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (out)
        EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    return out;
}

static int finish(struct sign_key *k, char *err, size_t errlen)
{
    unsigned char raw[32];
    size_t rl = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &rl) != 1 || rl != 32) {
        snprintf(err, errlen, "signing key: not an Ed25519 key");
        return RG_EIO;
    }
    EVP_EncodeBlock((unsigned char *)k->pub_b64, raw, 32);
    unsigned char priv[32];
    size_t pl = sizeof priv;
    static const char label[] = "riskgate device nonce v1";
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int dl = 0;
    int ok = ctx && EVP_PKEY_get_raw_private_key(k->pkey, priv, &pl) == 1 && pl == 32 &&
             EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(ctx, label, sizeof label) == 1 &&
             EVP_DigestUpdate(ctx, priv, pl) == 1 && EVP_DigestFinal_ex(ctx, k->nonce_key, &dl) == 1 && dl == 32;
    EVP_MD_CTX_free(ctx);
    OPENSSL_cleanse(priv, sizeof priv);
    if (!ok) {
        snprintf(err, errlen, "signing key: cannot derive the nonce key");
        return RG_EIO;
    }
    return 0;
}

int sign_key_load(const char *path, struct sign_key **out, int *created, char *err, size_t errlen)
{
    *created = 0;
    struct sign_key *k = calloc(1, sizeof *k);
    if (!k)
        return RG_ENOMEM;
    FILE *f = fopen(path, "r");
    if (f) {
        k->pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
        if (!k->pkey || EVP_PKEY_get_id(k->pkey) != EVP_PKEY_ED25519) {
            snprintf(err, errlen, "signing key %s: not a PEM Ed25519 private key", path);
            sign_key_free(k);
            return RG_EIO;
        }
    } else if (errno == ENOENT) {
        k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        int fd = k->pkey ? open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
        FILE *w = fd >= 0 ? fdopen(fd, "w") : NULL;
        int ok = w && PEM_write_PrivateKey(w, k->pkey, NULL, NULL, 0, NULL, NULL) == 1 && fflush(w) == 0 &&
                 fsync(fd) == 0;
        if (w)
            fclose(w);
        else if (fd >= 0)
            close(fd);
        if (!ok) {
            snprintf(err, errlen, "signing key %s: cannot create it: %s", path, strerror(errno));
            sign_key_free(k);
            return RG_EIO;
        }
        *created = 1;
    } else {
        snprintf(err, errlen, "signing key %s: %s", path, strerror(errno));
        sign_key_free(k);
        return RG_EIO;
    }
    int rc = finish(k, err, errlen);
    if (rc) {
        sign_key_free(k);
        return rc;
    }
    *out = k;
    return 0;
}

void sign_key_free(struct sign_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    OPENSSL_cleanse(k->nonce_key, sizeof k->nonce_key);
    free(k);
}

const char *sign_key_public_b64(const struct sign_key *k)
{
    return k->pub_b64;
}

int sign_message(const struct sign_key *k, const void *msg, size_t len, char **sig_b64)
{
    unsigned char sig[64];
    size_t sl = sizeof sig;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
             EVP_DigestSign(ctx, sig, &sl, msg, len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return RG_EIO;
    *sig_b64 = sign_base64(sig, sl);
    return *sig_b64 ? 0 : RG_ENOMEM;
}

/* Decodes padded base64 of exactly want bytes into out; 0 or RG_EINVAL. */
static int unb64_exact(const char *s, unsigned char *out, size_t want)
{
    size_t n = s ? strlen(s) : 0;
    size_t enc = 4 * ((want + 2) / 3);
    unsigned char tmp[96];
    if (n != enc || enc / 4 * 3 > sizeof tmp)
        return RG_EINVAL;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
                 (c == '=' && i >= n - (enc / 4 * 3 - want));
        if (!ok)
            return RG_EINVAL;
    }
    if (n >= 2 && s[n - 2] == '=' && s[n - 1] != '=')
        return RG_EINVAL;
    if (EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n) < (int)want)
        return RG_EINVAL;
    memcpy(out, tmp, want);
    return 0;
}

int sign_is_public_key(const char *s)
{
    unsigned char raw[32];
    return unb64_exact(s, raw, sizeof raw) == 0;
}

int sign_verify(const char *pub_b64, const void *msg, size_t len, const char *sig_b64)
{
    unsigned char raw[32], sig[64];
    if (unb64_exact(pub_b64, raw, sizeof raw) || unb64_exact(sig_b64, sig, sizeof sig))
        return RG_EINVAL;
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, sizeof raw);
    if (!pk)
        return RG_EINVAL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
             EVP_DigestVerify(ctx, sig, sizeof sig, msg, len) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    return ok ? 0 : RG_EAUTH;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The nonce's first 48 hex digits (time and random) and their MAC: 32 more. */
static int nonce_mac(const struct sign_key *k, const char *head48, char out[33])
{
    unsigned char mac[32];
    unsigned int ml = 0;
    if (!HMAC(EVP_sha256(), k->nonce_key, sizeof k->nonce_key, (const unsigned char *)head48, 48, mac, &ml) ||
        ml != 32)
        return RG_EIO;
    hex(mac, 16, out);
    return 0;
}

int sign_nonce_new(const struct sign_key *k, int64_t now_ms, char out[SIGN_NONCE_LEN + 1])
{
    unsigned char r[16];
    if (now_ms < 0 || RAND_bytes(r, sizeof r) != 1)
        return RG_EIO;
    snprintf(out, 17, "%016llx", (unsigned long long)now_ms);
    hex(r, sizeof r, out + 16);
    return nonce_mac(k, out, out + 48);
}

int sign_nonce_check(const struct sign_key *k, const char *nonce, int64_t now_ms, int64_t max_age_ms)
{
    if (!nonce || strlen(nonce) != SIGN_NONCE_LEN || strspn(nonce, "0123456789abcdef") != SIGN_NONCE_LEN)
        return RG_EINVAL;
    char want[33];
    if (nonce_mac(k, nonce, want))
        return RG_EIO;
    if (CRYPTO_memcmp(want, nonce + 48, 32))
        return RG_EINVAL;
    char t[17];
    memcpy(t, nonce, 16);
    t[16] = '\0';
    int64_t issued = (int64_t)strtoull(t, NULL, 16);
    /* a little skew between nodes is allowed; a nonce from the future beyond it is not */
    if (issued > now_ms + 30000 || now_ms - issued > max_age_ms)
        return RG_EAUTH;
    return 0;
}

int sign_device_proof_text(const char *device_id, const char *nonce, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "riskgate-device-proof:v1\n%s\n%s", device_id ? device_id : "", nonce ? nonce : "");
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}
