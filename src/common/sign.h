/*
 * sign.h: the server's Ed25519 signing key (OpenSSL), for the offline tickets
 * managed apps verify against the key they pinned at sign-in.
 */
#ifndef RG_SIGN_H
#define RG_SIGN_H
#include <stddef.h>

struct sign_key;

/*
 * Loads the PEM private key at path, or creates one (mode 0600) when the file
 * does not exist. *created is set to 1 then. Returns 0 or RG_EIO with err filled.
 */
int sign_key_load(const char *path, struct sign_key **out, int *created, char *err, size_t errlen);
void sign_key_free(struct sign_key *k);
/* The public key: base64 of its 32 raw bytes. Borrowed from the key. */
const char *sign_key_public_b64(const struct sign_key *k);
/* Signs msg; *sig_b64 (caller frees) is base64 of the 64-byte signature. 0 or RG_EIO. */
int sign_message(const struct sign_key *k, const void *msg, size_t len, char **sig_b64);
/* Base64 of (p, n); caller frees. NULL on allocation failure. */
char *sign_base64(const void *p, size_t n);
#endif
