/* store.c: picks the backend for a store URL (store.h). */
#include "server/store/store.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"

static const struct store_ops *const backends[] = {&store_sqlite_ops};

int store_open(const char *url, struct store **out, char *err, size_t errlen)
{
    const char *colon = strchr(url, ':');
    if (!colon) {
        snprintf(err, errlen, "database URL '%s' has no scheme (expected sqlite:PATH)", url);
        return RG_EINVAL;
    }
    size_t n = (size_t)(colon - url);
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        if (strlen(backends[i]->scheme) == n && !strncmp(url, backends[i]->scheme, n))
            return backends[i]->open(colon + 1, out, err, errlen);
    }
    snprintf(err, errlen, "unsupported database scheme '%.*s' (supported: sqlite)", (int)n, url);
    return RG_EINVAL;
}

void store_close(struct store *s)
{
    if (s)
        s->ops->close(s);
}
