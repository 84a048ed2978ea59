/* password.c: scrypt password hashes (password.h). */
#include "common/password.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/err.h"

#define SALT_LEN 16
#define KEY_LEN 32
#define DEFAULT_LN 15 /* N = 2^15: 32 MiB and a few tens of ms per attempt */
#define MAX_LN 20

static int derive(const char *password, const unsigned char *salt, int ln, int r, int p, unsigned char *key)
{
    uint64_t n = 1ull << ln;
    uint64_t maxmem = 128ull * n * (uint64_t)r * (uint64_t)p + (16u << 20);
    return EVP_PBE_scrypt(password, strlen(password), salt, SALT_LEN, n, (uint64_t)r, (uint64_t)p, maxmem, key,
                          KEY_LEN) == 1
               ? 0
               : RG_EIO;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static int unhex(const char *s, size_t n, unsigned char *out)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (unsigned char)v;
    }
    return 0;
}

int password_hash(const char *password, char *out, size_t outlen)
{
    size_t len = strlen(password);
    if (len < PASSWORD_MIN_LEN || len > PASSWORD_MAX_LEN)
        return RG_EINVAL;
    unsigned char salt[SALT_LEN], key[KEY_LEN];
    if (RAND_bytes(salt, sizeof salt) != 1 || derive(password, salt, DEFAULT_LN, 8, 1, key))
        return RG_EIO;
    char s[2 * SALT_LEN + 1], k[2 * KEY_LEN + 1];
    hex(salt, SALT_LEN, s);
    hex(key, KEY_LEN, k);
    OPENSSL_cleanse(key, sizeof key);
    int n = snprintf(out, outlen, "$scrypt$ln=%d,r=8,p=1$%s$%s", DEFAULT_LN, s, k);
    return n > 0 && (size_t)n < outlen ? 0 : RG_EINVAL;
}

bool password_verify(const char *password, const char *encoded)
{
    int ln, r, p, used = 0;
    if (!encoded || sscanf(encoded, "$scrypt$ln=%d,r=%d,p=%d$%n", &ln, &r, &p, &used) != 3 || !used)
        return false;
    if (ln < 10 || ln > MAX_LN || r < 1 || r > 32 || p < 1 || p > 16)
        return false;
    const char *s = encoded + used;
    if (strlen(s) != 2 * SALT_LEN + 1 + 2 * KEY_LEN || s[2 * SALT_LEN] != '$')
        return false;
    unsigned char salt[SALT_LEN], want[KEY_LEN], got[KEY_LEN];
    if (unhex(s, SALT_LEN, salt) || unhex(s + 2 * SALT_LEN + 1, KEY_LEN, want))
        return false;
    size_t plen = strlen(password);
    if (plen > PASSWORD_MAX_LEN || derive(password, salt, ln, r, p, got))
        return false;
    bool ok = CRYPTO_memcmp(got, want, KEY_LEN) == 0;
    OPENSSL_cleanse(got, sizeof got);
    return ok;
}
