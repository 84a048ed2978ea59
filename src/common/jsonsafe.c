/* jsonsafe.c: JSON parsing that notices jansson's silent allocation failures (jsonsafe.h). */
#include "common/jsonsafe.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* set once by jsonsafe_init, before threads */
static void *(*real_malloc)(size_t) = malloc;
static void (*real_free)(void *) = free;

static _Thread_local unsigned long failures; /* jansson allocations that failed on this thread */
static _Thread_local unsigned long marked;   /* failures at this thread's last jsonsafe_mark */

/*
 * While jsonsafe_loadb parses, an allocation that fails is served from this
 * reserve instead: jansson 2.14's lexer does not stop at a failed allocation
 * of its token buffer, it drops the character, and when the dropped one is a
 * string's closing quote its copy loop runs past the buffer (a heap overflow,
 * found by tests/unit/server/test_alloc_faults.c). With the reserve the parse
 * goes on intact and its result is thrown away. Past the reserve (a token over
 * ~64 KiB at the moment memory runs out) jansson gets its NULL as before.
 */
#define RESERVE_SIZE (64u * 1024u)
static _Thread_local int parsing;
static _Thread_local size_t reserve_used;
static _Thread_local alignas(max_align_t) unsigned char reserve[RESERVE_SIZE];

static int in_reserve(const void *p)
{
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)reserve;
    return a >= lo && a < lo + RESERVE_SIZE;
}

static void *counting_malloc(size_t n)
{
    void *p = real_malloc(n);
    if (p)
        return p;
    failures++;
    size_t need = (n + alignof(max_align_t) - 1) & ~(size_t)(alignof(max_align_t) - 1);
    if (parsing && need <= RESERVE_SIZE - reserve_used) {
        p = reserve + reserve_used;
        reserve_used += need;
    }
    return p;
}

static void counting_free(void *p)
{
    if (!in_reserve(p)) /* a block of the reserve goes back with the whole reserve, after the parse */
        real_free(p);
}

void jsonsafe_init(void *(*m)(size_t), void (*f)(void *))
{
    real_malloc = m ? m : malloc;
    real_free = f ? f : free;
    json_set_alloc_funcs(counting_malloc, counting_free);
}

json_t *jsonsafe_loadb(const char *buf, size_t len, size_t flags, json_error_t *err)
{
    json_error_t local;
    if (!err)
        err = &local;
    unsigned long before = failures;
    parsing = 1;
    reserve_used = 0;
    json_t *v = json_loadb(buf, len, flags, err);
    parsing = 0;
    if (failures != before) {
        json_decref(v);
        reserve_used = 0;
        memset(err, 0, sizeof *err);
        err->line = err->column = -1;
        snprintf(err->text, sizeof err->text, "out of memory");
        err->text[JSON_ERROR_TEXT_LENGTH - 1] = (char)json_error_out_of_memory;
        return NULL;
    }
    return v;
}

void jsonsafe_mark(void)
{
    marked = failures;
}

int jsonsafe_failed(void)
{
    return failures != marked;
}

int jsonsafe_oom(const json_error_t *err)
{
    return json_error_code(err) == json_error_out_of_memory;
}
