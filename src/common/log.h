/*
 * log.h: the daemon's logger. One line per event on stderr, as text or JSON.
 * Callers never pass secrets: keys and tokens are not arguments of any log call.
 * The logger is a value passed down (no globals); a NULL logger logs nothing.
 */
#ifndef RG_LOG_H
#define RG_LOG_H
#include <stdio.h>

enum log_format { LOG_TEXT, LOG_JSON };
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

struct log_batch;
struct log {
    enum log_format format;
    enum log_level min_level;
    FILE *out; /* borrowed; stderr by default */
    struct log_batch *batch; /* access lines held for one write (log_batch_start), or NULL */
};
#define LOG_INIT {LOG_TEXT, LOG_INFO, NULL, NULL}

/* Parses "text" or "json"; 0 or RG_EINVAL. */
int log_format_parse(const char *s, enum log_format *out);
void log_msg(const struct log *lg, enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * Access lines in batches: from log_batch_start, log_request appends its line
 * to memory and log_flush writes what is held in one write (the server calls
 * it each time its event loop has handled what was ready, so a line waits only
 * while other requests are being answered; at most 64 KiB are held). Any other
 * line writes the batch first, so the order stays. log_batch_end flushes and
 * stops. 0 or RG_ENOMEM.
 */
int log_batch_start(struct log *lg);
void log_flush(const struct log *lg);
void log_batch_end(struct log *lg);
/* One access-log line: method, route pattern, status, duration, tenant name and request id (each may be NULL). */
void log_request(const struct log *lg, const char *method, const char *route, const char *path, int status,
                 double duration_ms, const char *tenant, const char *request_id);
#endif
