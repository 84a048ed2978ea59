/* log.c: text and JSON log lines on stderr (log.h). */
#include "common/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/util.h"

#define LOG_LINE_MAX (64 * 1024) /* a longer line loses the fields past it, never the line */
#define LOG_FIELD_CUT 1024         /* JSON lines over the cap: each string field cut to this many bytes */

static const char *level_names[] = {"debug", "info", "warn", "error"};

#define LOG_BATCH_MAX (64 * 1024)
struct log_batch {
    struct buf held;
};

int log_batch_start(struct log *lg)
{
    if (lg->batch)
        return 0;
    struct log_batch *b = calloc(1, sizeof *b);
    if (!b)
        return RG_ENOMEM;
    b->held = (struct buf)BUF_INIT(2 * LOG_BATCH_MAX);
    lg->batch = b;
    return 0;
}

void log_flush(const struct log *lg)
{
    if (!lg || !lg->batch || !lg->batch->held.len)
        return;
    FILE *f = lg->out ? lg->out : stderr;
    fwrite(lg->batch->held.data, 1, lg->batch->held.len, f);
    fflush(f);
    buf_clear(&lg->batch->held);
}

void log_batch_end(struct log *lg)
{
    if (!lg->batch)
        return;
    log_flush(lg);
    buf_release(&lg->batch->held);
    free(lg->batch);
    lg->batch = NULL;
}

/* Writes one composed line: held with the batch (access lines), or at once after what is held. */
static void put_line(const struct log *lg, const struct buf *b, int batched)
{
    if (batched && lg->batch && lg->batch->held.len + b->len <= LOG_BATCH_MAX &&
        !buf_append(&lg->batch->held, b->data, b->len))
        return;
    log_flush(lg);
    FILE *f = lg->out ? lg->out : stderr;
    fwrite(b->data, 1, b->len, f);
    fflush(f);
}

int log_format_parse(const char *s, enum log_format *out)
{
    if (!strcmp(s, "text"))
        *out = LOG_TEXT;
    else if (!strcmp(s, "json"))
        *out = LOG_JSON;
    else
        return RG_EINVAL;
    return 0;
}

/* Text mode: a value with spaces, quotes, '=' or control characters is quoted and escaped, so no input can forge a line or a field. */
static void put_text(struct buf *b, const char *v)
{
    int plain = *v != '\0';
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            plain = 0;
    if (plain) {
        buf_puts(b, v);
        return;
    }
    buf_puts(b, "\"");
    const unsigned char *run = (const unsigned char *)v; /* plain bytes go in runs, not one by one */
    for (const unsigned char *p = run; *p; p++) {
        if (*p != '"' && *p != '\\' && *p >= ' ' && *p != 0x7f)
            continue;
        buf_append(b, run, (size_t)(p - run));
        if (*p == '"' || *p == '\\')
            buf_printf(b, "\\%c", *p);
        else if (*p == '\n')
            buf_puts(b, "\\n");
        else
            buf_printf(b, "\\x%02x", *p);
        run = p + 1;
    }
    buf_puts(b, (const char *)run);
    buf_puts(b, "\"");
}

/*
 * Composes the whole line in memory and hands it to stdio once: stderr is
 * unbuffered, and a line written piecemeal costs a write(2) per piece (a
 * daemon logging on its hot path stalls) and can interleave with other writers.
 */
static void emit(const struct log *lg, json_t *obj)
{
    char ts[UTIL_TIME_LEN + 1];
    util_time_format(util_now_ms(), ts, sizeof ts);
    struct buf b = BUF_INIT(LOG_LINE_MAX);
    if (lg->format == LOG_JSON) {
        json_object_set_new(obj, "time", json_string(ts));
        char *s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
        if (s && buf_puts(&b, s)) { /* over the cap: shorten every long string field, keep the line */
            free(s);
            const char *k;
            json_t *v;
            json_object_foreach(obj, k, v) {
                if (json_is_string(v) && json_string_length(v) > LOG_FIELD_CUT) {
                    const char *t = json_string_value(v);
                    size_t cut = LOG_FIELD_CUT;
                    while (cut > 0 && ((unsigned char)t[cut] & 0xC0) == 0x80) /* not inside a UTF-8 sequence */
                        cut--;
                    json_string_setn(v, t, cut);
                }
            }
            json_object_set_new(obj, "truncated", json_true());
            s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
            b.len = 0;
            if (s)
                buf_puts(&b, s);
        }
        free(s);
    } else {
        buf_puts(&b, ts);
        const char *k;
        json_t *v;
        json_object_foreach(obj, k, v) {
            if (json_is_string(v)) {
                buf_printf(&b, " %s=", k);
                put_text(&b, json_string_value(v));
            }
            else if (json_is_integer(v))
                buf_printf(&b, " %s=%lld", k, (long long)json_integer_value(v));
            else if (json_is_real(v))
                buf_printf(&b, " %s=%.3f", k, json_real_value(v));
        }
    }
    if (b.len && buf_puts(&b, "\n")) { /* at the cap: the line is cut short, never left without its newline */
        b.data[b.len - 1] = '\n';
    }
    if (b.len)
        put_line(lg, &b, 0);
    buf_release(&b);
}

/* Appends the decimal n (no printf on the access path: it was a fifth of a check-in's time). */
static void put_uint(struct buf *b, unsigned long long n)
{
    char d[24];
    size_t i = sizeof d;
    do {
        d[--i] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    buf_append(b, d + i, sizeof d - i);
}

/* The text form of an access line, as emit writes it for the same fields, without a JSON object. */
static void request_text(struct buf *b, const char *method, const char *route, const char *path, int status,
                         double ms, const char *tenant, const char *request_id)
{
    char ts[UTIL_TIME_LEN + 1];
    util_time_format(util_now_ms(), ts, sizeof ts);
    buf_puts(b, ts);
    buf_puts(b, " level=info method=");
    put_text(b, method);
    buf_puts(b, " route=");
    put_text(b, route ? route : "-");
    buf_puts(b, " path=");
    put_text(b, path);
    buf_puts(b, " status=");
    if (status < 0) {
        buf_puts(b, "-");
        status = -status;
    }
    put_uint(b, (unsigned long long)status);
    /* %.3f of a duration: whole microseconds, rounded */
    unsigned long long us = ms > 0 ? (unsigned long long)(ms * 1000.0 + 0.5) : 0;
    buf_puts(b, " ms=");
    put_uint(b, us / 1000);
    char frac[4] = {(char)('0' + us / 100 % 10), (char)('0' + us / 10 % 10), (char)('0' + us % 10), 0};
    buf_puts(b, ".");
    buf_puts(b, frac);
    buf_puts(b, " tenant=");
    put_text(b, tenant ? tenant : "-");
    if (request_id && request_id[0]) {
        buf_puts(b, " requestId=");
        put_text(b, request_id);
    }
    buf_puts(b, "\n");
}

void log_msg(const struct log *lg, enum log_level lvl, const char *fmt, ...)
{
    if (!lg || lvl < lg->min_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *o = json_object();
    json_object_set_new(o, "level", json_string(level_names[lvl]));
    json_object_set_new(o, "msg", json_string(msg));
    emit(lg, o);
    json_decref(o);
}

void log_request(const struct log *lg, const char *method, const char *route, const char *path, int status,
                 double duration_ms, const char *tenant, const char *request_id)
{
    if (!lg || LOG_INFO < lg->min_level)
        return;
    if (lg->format == LOG_TEXT) {
        struct buf b = BUF_INIT(LOG_LINE_MAX);
        request_text(&b, method, route, path, status, duration_ms, tenant, request_id);
        if (b.len && b.data[b.len - 1] != '\n') /* over the cap: cut, with its newline */
            b.data[b.len - 1] = '\n';
        if (b.len)
            put_line(lg, &b, 1);
        buf_release(&b);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "level", json_string("info"));
    json_object_set_new(o, "method", json_string(method));
    json_object_set_new(o, "route", json_string(route ? route : "-"));
    json_object_set_new(o, "path", json_string(path));
    json_object_set_new(o, "status", json_integer(status));
    json_object_set_new(o, "ms", json_real(duration_ms));
    json_object_set_new(o, "tenant", json_string(tenant ? tenant : "-"));
    if (request_id && request_id[0])
        json_object_set_new(o, "requestId", json_string(request_id));
    emit(lg, o);
    json_decref(o);
}
