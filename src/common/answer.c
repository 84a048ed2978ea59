/* answer.c: the check-in answer's digest (answer.h). */
#include "common/answer.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"

static json_t *part(const json_t *answer, const char *k)
{
    json_t *v = json_object_get(answer, k);
    return v ? json_incref(v) : json_null();
}

int answer_sha256(const json_t *answer, char out[ANSWER_SHA256_LEN + 1])
{
    json_t *o = json_object();
    if (!o || json_object_set_new(o, "appConfigurations", part(answer, "appConfigurations")) ||
        json_object_set_new(o, "decision", part(answer, "decision")) ||
        json_object_set_new(o, "settings", part(answer, "settings")) ||
        json_object_set_new(o, "wipe", part(answer, "wipe"))) {
        json_decref(o);
        return RG_ENOMEM;
    }
    char *t = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (!t)
        return RG_ENOMEM;
    util_sha256_hex(t, strlen(t), out, ANSWER_SHA256_LEN + 1);
    free(t);
    return 0;
}
