/*
 * password.h: slow password hashing for user sign-in (scrypt, OpenSSL).
 * Encoded form: "$scrypt$ln=15,r=8,p=1$<salt hex>$<key hex>" — parameters are
 * stored with the hash so they can be raised later without breaking old ones.
 */
#ifndef RG_PASSWORD_H
#define RG_PASSWORD_H
#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_HASH_LEN 160 /* buffer size for password_hash's output */
#define PASSWORD_MIN_LEN 8
#define PASSWORD_MAX_LEN 256

/* Hashes password (NUL-terminated) into out. 0, RG_EINVAL (length), RG_EIO (crypto failure). */
int password_hash(const char *password, char *out, size_t outlen);
/* True if password matches the encoded hash (constant-time compare); false for any malformed hash. */
bool password_verify(const char *password, const char *encoded);
#endif
