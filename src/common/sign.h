/*
 * sign.h: the server's Ed25519 signing key (OpenSSL), for the offline tickets
 * managed apps verify against the key they pinned at sign-in.
 */
#ifndef RG_SIGN_H
#define RG_SIGN_H
#include <stddef.h>
#include <stdint.h>

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

/*
 * Checks sig_b64 (base64 of 64 bytes) over msg against pub_b64 (base64 of a
 * 32-byte Ed25519 public key). 0, RG_EINVAL (either is malformed), RG_EAUTH
 * (the signature does not verify).
 */
int sign_verify(const char *pub_b64, const void *msg, size_t len, const char *sig_b64);
/* 1 if s is the base64 of a 32-byte Ed25519 public key, else 0. */
int sign_is_public_key(const char *s);

/*
 * Server nonces for device proofs (docs/security.md): 80 hex digits, the
 * issue time (ms), 16 random bytes and a MAC over both under a key derived
 * from the signing key. Stateless: any node holding the same key checks one
 * another's nonces, and nothing is stored. A nonce can be used again until it
 * expires (max_age_ms); what it binds is freshness, as the proof's message
 * also names the device.
 */
#define SIGN_NONCE_LEN 80
int sign_nonce_new(const struct sign_key *k, int64_t now_ms, char out[SIGN_NONCE_LEN + 1]);
/* 0, RG_EINVAL (not a nonce of this key), RG_EAUTH (expired, or issued in the future). */
int sign_nonce_check(const struct sign_key *k, const char *nonce, int64_t now_ms, int64_t max_age_ms);
/*
 * The text a device key signs to prove a device: "riskgate-device-proof:v1\n"
 * device id "\n" nonce. Returns its length, or -1 when out is too small.
 */
int sign_device_proof_text(const char *device_id, const char *nonce, char *out, size_t outlen);
#endif
