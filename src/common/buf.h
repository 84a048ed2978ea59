/*
 * buf.h: a growable byte buffer with a size cap, for everything that grows
 * from input. The contents are always NUL-terminated (not counted in len).
 *
 * struct buf b = BUF_INIT(1 << 20);   cap of 1 MiB; starts valid and empty
 * buf_append(&b, p, n); ...           returns RG_ETOOBIG past the cap, RG_ENOMEM
 * buf_release(&b);                    frees the contents; the struct is reusable
 *
 * On any failure the buffer keeps its previous contents.
 */
#ifndef RG_BUF_H
#define RG_BUF_H
#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data;   /* NULL until the first append; owned */
    size_t len;   /* bytes used, not counting the NUL */
    size_t alloc; /* bytes allocated */
    size_t cap;   /* maximum len; 0 = SIZE_MAX */
};
#define BUF_INIT(capacity) {NULL, 0, 0, (capacity)}

int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Contents as a C string: "" when empty. Borrowed; valid until the next change. */
const char *buf_str(const struct buf *b);
/* Sets len to 0, keeps the allocation. */
void buf_clear(struct buf *b);
/* Frees the contents; accepts a released buffer. */
void buf_release(struct buf *b);
/* Hands the contents to the caller (free() them); the buffer becomes empty. Never NULL on success. */
char *buf_detach(struct buf *b);
#endif
