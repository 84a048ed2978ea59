/*
 * jsonsafe.h: parsing JSON without trusting a parse that ran out of memory.
 *
 * jansson 2.14's lexer ignores a failed allocation while it collects a token
 * (lex_save drops the character), so json_loadb under memory pressure can
 * return a value whose strings have bytes missing: an id that names nothing,
 * a tenant that is not the one stored. jsonsafe counts jansson's failed
 * allocations per thread and throws such a parse away.
 *
 * The same count tells a unit of work (a request, a tick) that some JSON it
 * built may be missing a member: json_object_set_new and its kin fail
 * silently when their allocation does, and the code that calls them rarely
 * checks. As SQLite's mallocFailed flag on a connection, jsonsafe_failed()
 * stays true from the failure to the next jsonsafe_mark(); riskgated's store
 * refuses to write while it is true, and the HTTP layer answers 500 instead of
 * what the handler built (src/server/store/watch.c, src/server/http/server.c).
 */
#ifndef RG_JSONSAFE_H
#define RG_JSONSAFE_H
#include <stddef.h>

#include <jansson.h>

/*
 * Makes jansson allocate through m and f (NULL: malloc and free), counting the
 * allocations that fail. Call once at start, before any thread uses jansson
 * (json_set_alloc_funcs is process-wide). Without it, jsonsafe_loadb cannot
 * tell and behaves as json_loadb.
 */
void jsonsafe_init(void *(*m)(size_t), void (*f)(void *));

/*
 * json_loadb (same arguments; err may be NULL), except that a value built
 * while one of jansson's allocations failed is freed and NULL returned, with
 * err's code json_error_out_of_memory. Thread-safe.
 */
json_t *jsonsafe_loadb(const char *buf, size_t len, size_t flags, json_error_t *err);

/* A unit of work starts on this thread: jsonsafe_failed() is false until one of jansson's allocations fails. */
void jsonsafe_mark(void);
/* True when one of jansson's allocations failed on this thread since its last jsonsafe_mark(). */
int jsonsafe_failed(void);

/* True when err (filled by a failed jsonsafe_loadb or json_loadb) says memory ran out, not that the text is bad. */
int jsonsafe_oom(const json_error_t *err);
#endif
