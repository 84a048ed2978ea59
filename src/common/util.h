/*
 * util.h: small pure helpers shared by every program: time stamps, ids,
 * hashing and random tokens (OpenSSL), ISO-8601 durations, version strings.
 * All functions are thread-safe and keep no state.
 */
#ifndef RG_UTIL_H
#define RG_UTIL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define UTIL_UUID_LEN 36      /* without the NUL */
#define UTIL_SHA256_HEX_LEN 64 /* without the NUL */
#define UTIL_TIME_LEN 28      /* "2024-01-02T03:04:05.1234567Z" */

/* Milliseconds since the epoch (wall clock). */
int64_t util_now_ms(void);
/* Monotonic nanoseconds, for durations. */
uint64_t util_mono_ns(void);
/* Formats ms since the epoch as Graph's DateTimeOffset, UTC, 7 fraction digits. out >= UTIL_TIME_LEN+1. */
void util_time_format(int64_t ms, char *out, size_t outlen);
/* Parses an ISO-8601 UTC time ("...Z" or "+00:00"); 0 or RG_EINVAL. */
int util_time_parse(const char *s, int64_t *ms_out);

/* Random version-4 UUID, lower case, into out (>= UTIL_UUID_LEN+1). 0 or RG_EIO. */
int util_uuid(char *out, size_t outlen);
/* True if s is a UUID in 8-4-4-4-12 hex form. */
bool util_is_uuid(const char *s);
/* Random URL-safe token of nbytes of entropy, with an optional prefix. Caller frees. NULL on failure. */
char *util_token(const char *prefix, size_t nbytes);
/* The n bytes at p as lower-case hex into out (2n+1 bytes, NUL-terminated). */
void util_hex(const void *p, size_t n, char *out);
/* SHA-256 of (p, n) as lower-case hex into out (>= UTIL_SHA256_HEX_LEN+1). */
void util_sha256_hex(const void *p, size_t n, char *out, size_t outlen);
/* Constant-time comparison of two NUL-terminated strings of equal length. */
bool util_secure_streq(const char *a, const char *b);

/*
 * Parses an ISO-8601 / xsd:duration ("PT30M", "P90D", "P1Y2M3DT4H5M6.5S", "-P1D")
 * into seconds (years count 365 days, months 30). 0, or RG_EINVAL for anything else.
 */
int util_duration_parse(const char *s, double *seconds_out);

/*
 * Compares two version strings segment by segment ("1.10" > "1.9"; "9.0" == "9";
 * numeric segments numerically, others by byte). Returns <0, 0, >0.
 */
int util_version_cmp(const char *a, const char *b);
/* True if s is a plausible version: 1 to 8 dot-separated non-empty segments of [0-9A-Za-z-_]. */
bool util_version_valid(const char *s);
#endif
