/*
 * fuzz.h: what every libFuzzer target of fuzz/ shares (fuzz/README.md):
 * the entry point's prototype, FUZZ_CHECK (traps on a broken promise, which
 * libFuzzer reports as a crash and saves the input), an exact-size
 * NUL-terminated copy of the input (so ASan sees a read past its end), and a
 * check that a message is valid UTF-8 without control characters, as the
 * parsers promise for every error text they build from input.
 * Header-only and static: a target is one .c file.
 */
#ifndef RG_FUZZ_H
#define RG_FUZZ_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                                                                  \
    do {                                                                                                               \
        if (!(c))                                                                                                      \
            __builtin_trap();                                                                                          \
    } while (0)

/* A malloc'd copy of data with a NUL after it (inner NULs kept); NULL when memory runs out. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return NULL;
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/*
 * True if s is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF) and,
 * unless controls_ok, without C0 controls or DEL.
 */
static inline bool fuzz_utf8_ok(const char *s, bool controls_ok)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        if (!controls_ok && (c < 0x20 || c == 0x7f))
            return false;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : 0;
        if (!n || c > 0xf4)
            return false;
        uint32_t cp = c & (0x3fu >> n);
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3fu);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p += n + 1;
    }
    return true;
}

/* Valid UTF-8 without control characters: what every error message built from input must be. */
static inline bool fuzz_clean_text(const char *s)
{
    return fuzz_utf8_ok(s, false);
}
#endif
