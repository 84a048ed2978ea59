/*
 * fuzz_broker.c: libFuzzer target for the request parsing of riskgate-agent's
 * broker socket (agent_broker_feed, src/agent/broker.c): the bytes any local
 * process may write to <state dir>/agent.sock (mode 0666), split into lines
 * and served: hello, check-url <url>, rescan, network <json>, status, quit.
 * The agent is one rg_agent on an empty state folder under /tmp (created once,
 * removed at exit), not activated and with network protection not started,
 * so nothing leaves the process; the connection has no socket (fd -1: the
 * peer is unknown, as when SO_PEERCRED fails).
 * The input is what a client sends; its first byte sets the size of the
 * reads it arrives in (1 to 64 bytes), so lines are cut across reads.
 * Checks: every answer is one line holding a JSON object; there are no more
 * answers than request lines; unless the connection is closing, no whole line
 * is left unserved and the input buffer keeps its cap; nothing leaks.
 */
#include <stdio.h>
#include <unistd.h>

#include <jansson.h>

#include "agent/core.h"
#include "fuzz.h"

static struct rg_agent *ag;
static char dir[] = "/tmp/rg-fuzz-broker-XXXXXX";

static void cleanup(void)
{
    rg_agent_free(ag);
    ag = NULL;
    rmdir(dir); /* fails, harmlessly, if the agent left a file there */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ag) {
        if (!mkdtemp(dir) || rg_agent_new(dir, &ag))
            __builtin_trap(); /* the target cannot run at all */
        atexit(cleanup);
    }
    if (!size)
        return 0;
    size_t chunk = (size_t)(data[0] % 64) + 1;
    data++, size--;
    struct agent_conn c = {.fd = -1, .in = BUF_INIT(AGENT_LINE_MAX), .out = BUF_INIT(1 << 20)};
    size_t lines = 0;
    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        for (size_t i = 0; i < n; i++)
            lines += data[off + i] == '\n';
        agent_broker_feed(ag, &c, (const char *)data + off, n);
        if (!c.closing)
            FUZZ_CHECK(!c.in.len || !memchr(c.in.data, '\n', c.in.len));
        FUZZ_CHECK(c.in.len <= AGENT_LINE_MAX);
    }
    /* the answers: one JSON object a line */
    size_t answers = 0;
    const char *p = c.out.data ? c.out.data : "";
    FUZZ_CHECK(!c.out.len || c.out.data[c.out.len - 1] == '\n');
    while (*p) {
        const char *nl = strchr(p, '\n');
        FUZZ_CHECK(nl);
        json_error_t e;
        json_t *o = json_loadb(p, (size_t)(nl - p), 0, &e);
        FUZZ_CHECK(json_is_object(o));
        json_decref(o);
        answers++;
        p = nl + 1;
    }
    FUZZ_CHECK((size_t)(p - (c.out.data ? c.out.data : "")) == c.out.len);
    /* the line too long answers without a newline of its own */
    FUZZ_CHECK(answers <= lines + 1);
    buf_release(&c.in);
    buf_release(&c.out);
    return 0;
}
