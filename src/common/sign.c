/* sign.c: Ed25519 signing key and signatures with OpenSSL (sign.h). */
#include "common/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/err.h"

struct sign_key {
    EVP_PKEY *pkey;
    char pub_b64[64];
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
