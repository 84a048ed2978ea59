/* test_log.c: src/common/log.c — one line per event, escaped so no input forges a line or a field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/log.h"

/* Logs through lg into a temporary file and returns what was written (free it). */
static char *logged(struct log *lg, const char *msg)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    lg->out = f;
    log_msg(lg, LOG_WARN, "%s", msg);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    char *s = calloc(1, (size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    lg->out = NULL;
    return s;
}

/* The part of a text line after " msg=". */
static const char *msg_field(const char *line)
{
    const char *m = strstr(line, " msg=");
    assert_non_null(m);
    return m + 5;
}

static void test_text_plain_and_quoted(void **state)
{
    (void)state;
    struct log lg = LOG_INIT;
    char *s = logged(&lg, "plain");
    assert_string_equal(msg_field(s), "plain\n");
    assert_non_null(strstr(s, " level=warn "));
    free(s);
    s = logged(&lg, "two words");
    assert_string_equal(msg_field(s), "\"two words\"\n");
    free(s);
    s = logged(&lg, "");
    assert_string_equal(msg_field(s), "\"\"\n");
    free(s);
}

static void test_text_escapes(void **state)
{
    (void)state;
    struct log lg = LOG_INIT;
    /* a forged second line, a quote, a backslash, a control byte and DEL: one line, all escaped */
    char *s = logged(&lg, "a\"b\\c\nlevel=error msg=forged\x01\x7f end");
    assert_string_equal(msg_field(s), "\"a\\\"b\\\\c\\nlevel=error msg=forged\\x01\\x7f end\"\n");
    assert_ptr_equal(strchr(s, '\n'), s + strlen(s) - 1); /* exactly one newline, at the end */
    free(s);
}

static void test_text_long_line(void **state)
{
    (void)state;
    struct log lg = LOG_INIT;
    char msg[2000];
    memset(msg, '"', sizeof msg - 1); /* every byte escaped: the message (cut at 1,023) doubles */
    msg[sizeof msg - 1] = '\0';
    char *s = logged(&lg, msg);
    const char *m = msg_field(s);
    assert_int_equal(strlen(m), 1 + 2 * 1023 + 1 + 1);
    assert_ptr_equal(strchr(s, '\n'), s + strlen(s) - 1);
    free(s);
}

static void test_json(void **state)
{
    (void)state;
    struct log lg = LOG_INIT;
    lg.format = LOG_JSON;
    char *s = logged(&lg, "x\ny \"z\"");
    assert_ptr_equal(strchr(s, '\n'), s + strlen(s) - 1);
    json_error_t e;
    json_t *o = json_loads(s, 0, &e);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "msg")), "x\ny \"z\"");
    assert_string_equal(json_string_value(json_object_get(o, "level")), "warn");
    assert_true(json_is_string(json_object_get(o, "time")));
    json_decref(o);
    free(s);
}

/* A JSON line over the 64 KiB cap (a huge request path) is written, shortened, never dropped. */
static void test_json_over_cap(void **state)
{
    (void)state;
    struct log lg = LOG_INIT;
    lg.format = LOG_JSON;
    size_t n = 100 * 1024;
    char *path = malloc(n + 1);
    assert_non_null(path);
    memset(path, 'p', n);
    path[0] = '/';
    path[n] = '\0';
    FILE *f = tmpfile();
    assert_non_null(f);
    lg.out = f;
    log_request(&lg, "GET", "/x", path, 404, 0.5, NULL, NULL);
    long len = ftell(f);
    assert_true(len > 0 && len < 8192);
    rewind(f);
    char *line = calloc(1, (size_t)len + 1);
    assert_non_null(line);
    assert_int_equal(fread(line, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    json_t *o = json_loads(line, 0, NULL);
    assert_non_null(o);
    assert_true(json_is_true(json_object_get(o, "truncated")));
    assert_int_equal(json_integer_value(json_object_get(o, "status")), 404);
    assert_int_equal(strlen(json_string_value(json_object_get(o, "path"))), 1024);
    json_decref(o);
    free(line);
    free(path);
}

static void test_level_filter(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    struct log lg = LOG_INIT;
    lg.out = f;
    log_msg(&lg, LOG_DEBUG, "not shown");
    assert_int_equal(ftell(f), 0);
    log_msg(NULL, LOG_ERROR, "no logger: nothing");
    fclose(f);
}

/* What f holds from the start (free it). */
static char *contents(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    char *s = calloc(1, (size_t)n + 1);
    assert_non_null(s);
    rewind(f);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    fseek(f, 0, SEEK_END);
    return s;
}

/* Access lines: the text form field by field, escaped; batched until a flush or another line, in order */
static void test_request_batch(void **state)
{
    (void)state;
    struct log lg = LOG_INIT;
    FILE *f = tmpfile();
    assert_non_null(f);
    lg.out = f;
    log_request(&lg, "GET", "/{v}/users", "/v1.0/users", 200, 12.3456, "default", "rid-1");
    char *s = contents(f);
    const char *fields = strchr(s, ' ');
    assert_non_null(fields);
    assert_string_equal(fields, " level=info method=GET route=/{v}/users path=/v1.0/users status=200 ms=12.346 "
                                "tenant=default requestId=rid-1\n");
    free(s);
    assert_int_equal(log_batch_start(&lg), 0);
    log_request(&lg, "POST", NULL, "/a b\n", 404, 0.0004, NULL, NULL);
    log_request(&lg, "GET", "/x", "/x", 500, 1000.5, NULL, "");
    s = contents(f);
    assert_null(strstr(s, "POST")); /* held */
    free(s);
    log_msg(&lg, LOG_WARN, "after");
    s = contents(f);
    char *post = strstr(s, "method=POST route=- path=\"/a b\\n\" status=404 ms=0.000 tenant=-\n");
    char *x = strstr(s, "path=/x status=500 ms=1000.500 tenant=-\n");
    char *after = strstr(s, "msg=after");
    assert_true(post && x && after && post < x && x < after); /* the batch first, in order */
    free(s);
    log_request(&lg, "GET", "/y", "/y", 200, 1, "t", NULL);
    log_flush(&lg);
    s = contents(f);
    assert_non_null(strstr(s, "path=/y status=200 ms=1.000 tenant=t\n"));
    free(s);
    log_request(&lg, "GET", "/z", "/z", 200, 1, "t", NULL);
    log_batch_end(&lg); /* flushes */
    assert_null(lg.batch);
    s = contents(f);
    assert_non_null(strstr(s, "path=/z "));
    free(s);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_plain_and_quoted), cmocka_unit_test(test_text_escapes),
        cmocka_unit_test(test_text_long_line),        cmocka_unit_test(test_json),
        cmocka_unit_test(test_level_filter),          cmocka_unit_test(test_json_over_cap),
        cmocka_unit_test(test_request_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
