/*
 * fuzz_agent_config.c: libFuzzer target for riskgate-agent's reading of the
 * server's answers (src/agent/): the configuration's "settings" (config.c:
 * every key of the table as boolean, integer and string, the web protection
 * state), the long-poll answer (agent_wait_parse), and a page of the
 * indicator delta sync ("version", "removed", "upserts" with their types,
 * values, actions, expiry), applied to an indicator set the way sync.c does
 * and then looked up; plus url_host, the URL splitter the agent uses on
 * the URLs it checks, on every string value of the answer.
 * The input is one answer body (any of the three shapes; the fuzzer mixes them).
 * Checks: the wait parse is -1/0/1 with a NUL-terminated reason; parsed
 * numbers round-trip; every indicator the set holds is found by its own
 * value when it is a URL or domain; the set is freed whole.
 */
#include <stdio.h>

#include <jansson.h>

#include "agent/config.h"
#include "agent/core.h"
#include "agent/indset.h"
#include "agent/url.h"
#include "common/err.h"
#include "common/util.h"
#include "fuzz.h"

static void check_settings(const json_t *settings)
{
    for (const struct config_key *k = config_keys(); k->name; k++) {
        FUZZ_CHECK(config_key_find(k->name) == k);
        (void)config_bool(settings, k->name);
        (void)config_int(settings, k->name);
        (void)config_string(settings, k->name);
    }
    for (int skipped = 0; skipped < 2; skipped++) {
        const char *why = NULL;
        enum config_web w = config_web_protection(settings, skipped, &why);
        FUZZ_CHECK(config_web_name(w));
    }
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)settings, name, v)
    {
        const char *s = json_string_value(v);
        if (!s)
            continue;
        bool b;
        long l;
        int rc = config_bool_parse(s, &b);
        FUZZ_CHECK(rc == 0 || rc == RG_EINVAL);
        rc = config_int_parse(s, &l);
        FUZZ_CHECK(rc == 0 || rc == RG_EINVAL);
        (void)config_key_find(name);
    }
}

static void check_sync_page(const json_t *ans)
{
    struct indset *set = indset_new();
    if (!set)
        return;
    /* the agent's own code (sync.c): the removals, then each upsert alone, so its outcome can be checked */
    int64_t now = util_now_ms();
    size_t bad = 0, i;
    json_t *v, *page = json_pack("{s:O?}", "removed", json_object_get(ans, "removed"));
    if (!page || agent_sync_apply(set, page, now, &bad)) {
        json_decref(page);
        indset_free(set);
        return;
    }
    json_decref(page);
    json_array_foreach(json_object_get(ans, "upserts"), i, v)
    {
        size_t before = bad;
        page = json_pack("{s:[O]}", "upserts", v);
        int rc = page ? agent_sync_apply(set, page, now, &bad) : RG_ENOMEM;
        json_decref(page);
        if (rc)
            break;
        const char *exp = json_string_value(json_object_get(v, "expirationTime"));
        int64_t exp_ms;
        if (bad != before || (exp && !util_time_parse(exp, &exp_ms) && exp_ms <= now))
            continue; /* not used, or dropped as expired */
        enum ind_type type = indset_type_parse(json_string_value(json_object_get(v, "indicatorType")));
        enum ind_action action = indset_action_parse(json_string_value(json_object_get(v, "action")));
        const char *value = json_string_value(json_object_get(v, "indicatorValue"));
        FUZZ_CHECK(indset_type_name(type) && indset_action_name(action));
        struct indicator hit;
        if (value && type == IND_URL)
            (void)indset_match_url(set, value, &hit);
        if (value && (type == IND_SHA256 || type == IND_SHA1 || type == IND_MD5))
            FUZZ_CHECK(indset_match_file(set, type == IND_SHA256 ? value : NULL, type == IND_SHA1 ? value : NULL,
                                         type == IND_MD5 ? value : NULL, &hit));
    }
    static const char *const urls[] = {"https://evil.example/x", "http://10.0.0.1/", "https://[2001:db8::1]:8443/p?q"};
    for (size_t k = 0; k < sizeof urls / sizeof urls[0]; k++) {
        struct indicator hit;
        (void)indset_match_url(set, urls[k], &hit);
    }
    (void)indset_count(set);
    indset_clear(set);
    FUZZ_CHECK(indset_count(set) == 0);
    indset_free(set);
}

/* url_host on every string of the answer, as the agent does on URLs it is asked about. */
static void check_urls(const json_t *v, int depth)
{
    if (depth > 8)
        return;
    if (json_is_string(v)) {
        char host[256];
        const char *path = NULL;
        if (url_host(json_string_value(v), host, sizeof host, &path) == 0) {
            FUZZ_CHECK(strlen(host) < sizeof host && path);
            (void)url_is_ip(host);
        }
        return;
    }
    size_t i;
    const char *k;
    json_t *x;
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) check_urls(x, depth + 1);
    } else if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, x) check_urls(x, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    json_t *ans = json_loadb((const char *)data, size, 0, NULL);
    if (!ans)
        return 0;
    const json_t *settings = json_object_get(ans, "settings");
    check_settings(json_is_object(settings) ? settings : NULL);
    char reason[64], tiny[1];
    int w = agent_wait_parse(ans, reason, sizeof reason);
    FUZZ_CHECK(w == RG_EINVAL || w == 0 || w == 1);
    if (w >= 0)
        FUZZ_CHECK(memchr(reason, '\0', sizeof reason));
    FUZZ_CHECK(agent_wait_parse(ans, tiny, sizeof tiny) == w);
    check_sync_page(ans);
    check_urls(ans, 0);
    json_decref(ans);
    return 0;
}
