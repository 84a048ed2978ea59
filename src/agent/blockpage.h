/*
 * blockpage.h: the page a person sees when the DNS filter sent their browser
 * to the sinkhole address ("This site was blocked by your organization
 * because ..."), and for a Warn indicator its "Continue anyway" button, which
 * unblocks that name on this device for BP_OVERRIDE_MS.
 *
 * The page is served by h2o (libh2o-evloop, the HTTP library riskgated
 * already uses, so no HTTP is parsed by hand and no new dependency comes in)
 * on an evloop of its own thread: h2o's loop is epoll-based and cannot join
 * the daemon's ppoll() set through its public API. Everything the two threads
 * share is the small table below, behind one mutex: recent blocks (name ->
 * why) written by the DNS filter and read by the page, overrides written by
 * the page and read by the filter on each query, and a queue of overrides
 * made, which wakes the daemon's loop through an eventfd so it reports them.
 *
 * Thread-safety: every function may be called from any thread, except that
 * blockpage_listen and blockpage_free belong to the thread that created it.
 */
#ifndef RG_AGENT_BLOCKPAGE_H
#define RG_AGENT_BLOCKPAGE_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

#define BP_OVERRIDE_MS (3600 * 1000) /* "Continue anyway" unblocks a name for an hour */
#define BP_MAX_OVERRIDES 128
#define BP_NAME_MAX 256
#define BP_TEXT_MAX 256

/* An override the person made ("Continue anyway"), for the daemon to report. */
struct bp_event {
    char name[BP_NAME_MAX];
    char title[BP_TEXT_MAX];     /* why it was warned */
    char indicator[BP_TEXT_MAX]; /* "DomainName evil.example" or "" */
};

struct blockpage;

/* The shared table and its eventfd, no listener yet. 0 or RG_ENOMEM / RG_EIO. */
int blockpage_new(struct blockpage **out);
/*
 * Serves the page on addr (TCP) from a new thread. 0, or RG_EIO with a
 * sentence in err (address taken, needs root).
 */
int blockpage_listen(struct blockpage *bp, const struct sockaddr_storage *addr, socklen_t len, char *err,
                     size_t errlen);
/* True while the page's thread serves. */
bool blockpage_listening(const struct blockpage *bp);
/* Stops the thread, closes everything; accepts NULL. */
void blockpage_free(struct blockpage *bp);

/*
 * Remembers why name was just blocked (warn: it may be continued). title:
 * the sentence shown after "because" (borrowed); indicator: "DomainName x" or
 * NULL for the built-in list.
 */
void blockpage_record(struct blockpage *bp, const char *name, bool warn, const char *title, const char *indicator);
/* True if the person continued to name (an override not yet expired). now_ms: wall clock. */
bool blockpage_overridden(struct blockpage *bp, const char *name, int64_t now_ms);
/* Adds an override as the page does (for tests and the page itself); 0, or -1 when the table is full. */
int blockpage_override(struct blockpage *bp, const char *name, int64_t now_ms);
/* Readable when overrides were made; read it, then blockpage_take until it returns false. */
int blockpage_fd(const struct blockpage *bp);
/* Takes the oldest override event not yet taken into *ev; false when none. */
bool blockpage_take(struct blockpage *bp, struct bp_event *ev);
/* {"listening":..,"overrides":[{"name":..,"until":..}]} (new reference); hide_names: names left out. */
json_t *blockpage_json(struct blockpage *bp, int64_t now_ms, bool hide_names);
#endif
