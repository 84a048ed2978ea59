/*
 * agentlink.c: asks the riskgate agent on this device who it is, over its
 * local socket (docs/agent.md "Local socket protocol"): "hello\n" answers one
 * JSON line {"installed":true,"activated":...,"deviceId":...}. The server
 * uses the device id to find the device's threat level. Bounded: 1 s.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/util.h"
#include "sdk/sdk.h"

#define HELLO_TIMEOUT_MS 1000

void agentlink_hello(const char *sock_path, struct agent_hello *out)
{
    memset(out, 0, sizeof *out);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!sock_path || strlen(sock_path) >= sizeof sa.sun_path)
        return;
    memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    char line[4096];
    size_t got = 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && send(fd, "hello\n", 6, MSG_NOSIGNAL) == 6) {
        int64_t deadline = (int64_t)(util_mono_ns() / 1000000) + HELLO_TIMEOUT_MS;
        while (got < sizeof line - 1 && !memchr(line, '\n', got)) {
            int left = (int)(deadline - (int64_t)(util_mono_ns() / 1000000));
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (left <= 0 || poll(&p, 1, left) <= 0)
                break;
            ssize_t r = recv(fd, line + got, sizeof line - 1 - got, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        if (got < sizeof line - 1 && send(fd, "quit\n", 5, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
            /* nothing to do: the agent closes idle connections itself */
        }
    }
    close(fd);
    char *nl = got ? memchr(line, '\n', got) : NULL;
    if (!nl)
        return;
    json_t *o = json_loadb(line, (size_t)(nl - line), 0, NULL);
    if (json_is_true(json_object_get(o, "installed"))) {
        out->installed = true;
        out->activated = json_is_true(json_object_get(o, "activated"));
        const char *id = json_string_value(json_object_get(o, "deviceId"));
        if (id && strlen(id) < sizeof out->device_id)
            memcpy(out->device_id, id, strlen(id) + 1);
    }
    json_decref(o);
}
