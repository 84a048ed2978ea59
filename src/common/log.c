/* log.c: text and JSON log lines on stderr (log.h). */
#include "common/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/util.h"

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
static void put_text(FILE *f, const char *v)
{
    int plain = *v != '\0';
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            plain = 0;
    if (plain) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < ' ' || *p == 0x7f)
            fprintf(f, "\\x%02x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void emit(const struct log *lg, json_t *obj)
{
    FILE *f = lg->out ? lg->out : stderr;
    char ts[UTIL_TIME_LEN + 1];
    util_time_format(util_now_ms(), ts, sizeof ts);
    if (lg->format == LOG_JSON) {
        json_object_set_new(obj, "time", json_string(ts));
        char *s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
        if (s) {
            fprintf(f, "%s\n", s);
            free(s);
        }
    } else {
        fprintf(f, "%s", ts);
        const char *k;
        json_t *v;
        json_object_foreach(obj, k, v) {
            if (json_is_string(v)) {
                fprintf(f, " %s=", k);
                put_text(f, json_string_value(v));
            }
            else if (json_is_integer(v))
                fprintf(f, " %s=%lld", k, (long long)json_integer_value(v));
            else if (json_is_real(v))
                fprintf(f, " %s=%.3f", k, json_real_value(v));
        }
        fputc('\n', f);
    }
    fflush(f);
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
                 double duration_ms, const char *tenant)
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
    emit(lg, o);
    json_decref(o);
}
