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
    FILE *f = lg->out ? lg->out : stderr;
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
    if (b.len && buf_puts(&b, "\n")) { /* at the cap: the newline on its own */
        fwrite(b.data, 1, b.len, f);
        fputc('\n', f);
    } else if (b.len) {
        fwrite(b.data, 1, b.len, f);
    }
    fflush(f);
    buf_release(&b);
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
