/*
 * agentlink.c: asks the riskgate agent on this device over its local socket
 * (docs/agent.md "Local socket protocol"), one request line, one JSON line
 * back, bounded by 1 s:
 *   "hello\n"         {"installed":true,"activated":...,"deviceId":...}: who it is
 *   "prove <nonce>\n" {"deviceId","nonce","signature"}: the device proof, a
 *                     server nonce signed with the device key, which the
 *                     server needs before it takes the device id
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/err.h"
#include "common/util.h"
#include "sdk/sdk.h"

#define ASK_TIMEOUT_MS 1000

/* Sends line (with its newline) and returns the answer line parsed, or NULL. */
static json_t *ask(const char *sock_path, const char *line)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!sock_path || strlen(sock_path) >= sizeof sa.sun_path)
        return NULL;
    memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    char in[4096];
    size_t got = 0, len = strlen(line);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && send(fd, line, len, MSG_NOSIGNAL) == (ssize_t)len) {
        int64_t deadline = (int64_t)(util_mono_ns() / 1000000) + ASK_TIMEOUT_MS;
        while (got < sizeof in - 1 && !memchr(in, '\n', got)) {
            int left = (int)(deadline - (int64_t)(util_mono_ns() / 1000000));
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (left <= 0 || poll(&p, 1, left) <= 0)
                break;
            ssize_t r = recv(fd, in + got, sizeof in - 1 - got, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        if (got < sizeof in - 1 && send(fd, "quit\n", 5, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
            /* nothing to do: the agent closes idle connections itself */
        }
    }
    close(fd);
    char *nl = got ? memchr(in, '\n', got) : NULL;
    return nl ? json_loadb(in, (size_t)(nl - in), 0, NULL) : NULL;
}

void agentlink_hello(const char *sock_path, struct agent_hello *out)
{
    memset(out, 0, sizeof *out);
    json_t *o = ask(sock_path, "hello\n");
    if (json_is_true(json_object_get(o, "installed"))) {
        out->installed = true;
        out->activated = json_is_true(json_object_get(o, "activated"));
        const char *id = json_string_value(json_object_get(o, "deviceId"));
        if (id && strlen(id) < sizeof out->device_id)
            memcpy(out->device_id, id, strlen(id) + 1);
    }
    json_decref(o);
}

int agentlink_prove(const char *sock_path, const char *nonce, const char *device_id, char **sig_b64)
{
    *sig_b64 = NULL;
    char line[256];
    if (!nonce || strchr(nonce, '\n') || snprintf(line, sizeof line, "prove %s\n", nonce) >= (int)sizeof line)
        return RG_EINVAL;
    json_t *o = ask(sock_path, line);
    const char *dev = json_string_value(json_object_get(o, "deviceId"));
    const char *sig = json_string_value(json_object_get(o, "signature"));
    const char *n = json_string_value(json_object_get(o, "nonce"));
    int rc = RG_EIO;
    if (dev && sig && n && !strcmp(dev, device_id) && !strcmp(n, nonce)) {
        *sig_b64 = strdup(sig);
        rc = *sig_b64 ? 0 : RG_ENOMEM;
    }
    json_decref(o);
    return rc;
}
