/*
 * appconfig.c: app configuration as Intune delivers it: a list of sets (one
 * per app configuration policy), never merged, plus resolvers that pick one
 * value of a key across the sets (ANY / AND / OR / MIN / MAX, after the
 * Intune SDK's BooleanQueryType, NumberQueryType and StringQueryType). Pure
 * functions over the check-in's "appConfigurations" array.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "sdk/sdk.h"

/* The value of key in one set, or NULL. */
static const char *set_value(const json_t *set, const char *key)
{
    const json_t *cs = json_object_get(set, "customSettings");
    size_t i;
    const json_t *kv;
    json_array_foreach(cs, i, kv)
    {
        const char *n = json_string_value(json_object_get(kv, "name"));
        if (n && !strcmp(n, key)) {
            const char *v = json_string_value(json_object_get(kv, "value"));
            return v ? v : "";
        }
    }
    return NULL;
}

int appcfg_get(const json_t *configs, size_t i, const char *key, const char **value)
{
    if (!key || i >= json_array_size(configs))
        return RG_EINVAL;
    const char *v = set_value(json_array_get(configs, i), key);
    if (!v)
        return RG_ENOTFOUND;
    *value = v;
    return 0;
}

static bool parse_bool(const char *s, bool *out)
{
    if (!strcasecmp(s, "true") || !strcmp(s, "1"))
        *out = true;
    else if (!strcasecmp(s, "false") || !strcmp(s, "0"))
        *out = false;
    else
        return false;
    return true;
}

static bool parse_int(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno)
        return false;
    *out = (int64_t)v;
    return true;
}

static bool parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/*
 * Walks every set's value of key; found: some set has the key. Each resolver
 * below folds the values that parse; none parsing is APPCFG_ETYPE.
 */
#define FOREACH_VALUE(configs, key, v, found)                                                                          \
    for (size_t i_ = 0, n_ = json_array_size(configs); i_ < n_; i_++)                                                  \
        if (((v) = set_value(json_array_get(configs, i_), key)) && ((found) = true))

int appcfg_bool(const json_t *configs, const char *key, rg_query q, bool *out)
{
    if (!key || (q != RG_QUERY_ANY && q != RG_QUERY_AND && q != RG_QUERY_OR))
        return RG_EINVAL;
    bool found = false, any = false, acc = q == RG_QUERY_AND;
    const char *v;
    FOREACH_VALUE(configs, key, v, found)
    {
        bool b;
        if (!parse_bool(v, &b))
            continue;
        if (q == RG_QUERY_ANY) {
            *out = b;
            return 0;
        }
        acc = q == RG_QUERY_AND ? acc && b : acc || b;
        any = true;
    }
    if (!found)
        return RG_ENOTFOUND;
    if (!any)
        return APPCFG_ETYPE;
    *out = acc;
    return 0;
}

int appcfg_int(const json_t *configs, const char *key, rg_query q, int64_t *out)
{
    if (!key || (q != RG_QUERY_ANY && q != RG_QUERY_MIN && q != RG_QUERY_MAX))
        return RG_EINVAL;
    bool found = false, any = false;
    int64_t acc = 0;
    const char *v;
    FOREACH_VALUE(configs, key, v, found)
    {
        int64_t x;
        if (!parse_int(v, &x))
            continue;
        if (!any || (q == RG_QUERY_MIN && x < acc) || (q == RG_QUERY_MAX && x > acc))
            acc = x;
        any = true;
        if (q == RG_QUERY_ANY)
            break;
    }
    if (!found)
        return RG_ENOTFOUND;
    if (!any)
        return APPCFG_ETYPE;
    *out = acc;
    return 0;
}

int appcfg_double(const json_t *configs, const char *key, rg_query q, double *out)
{
    if (!key || (q != RG_QUERY_ANY && q != RG_QUERY_MIN && q != RG_QUERY_MAX))
        return RG_EINVAL;
    bool found = false, any = false;
    double acc = 0;
    const char *v;
    FOREACH_VALUE(configs, key, v, found)
    {
        double x;
        if (!parse_double(v, &x))
            continue;
        if (!any || (q == RG_QUERY_MIN && x < acc) || (q == RG_QUERY_MAX && x > acc))
            acc = x;
        any = true;
        if (q == RG_QUERY_ANY)
            break;
    }
    if (!found)
        return RG_ENOTFOUND;
    if (!any)
        return APPCFG_ETYPE;
    *out = acc;
    return 0;
}

int appcfg_string(const json_t *configs, const char *key, rg_query q, const char **out)
{
    if (!key || (q != RG_QUERY_ANY && q != RG_QUERY_MIN && q != RG_QUERY_MAX))
        return RG_EINVAL;
    bool found = false;
    const char *acc = NULL, *v;
    FOREACH_VALUE(configs, key, v, found)
    {
        if (!acc || (q == RG_QUERY_MIN && strcmp(v, acc) < 0) || (q == RG_QUERY_MAX && strcmp(v, acc) > 0))
            acc = v;
        if (q == RG_QUERY_ANY)
            break;
    }
    if (!found)
        return RG_ENOTFOUND;
    *out = acc;
    return 0;
}

json_t *appcfg_full(const json_t *configs)
{
    json_t *arr = json_array();
    size_t i;
    const json_t *set;
    json_array_foreach(configs, i, set)
    {
        json_t *o = json_object(), *m = json_object();
        const json_t *id = json_object_get(set, "id"), *dn = json_object_get(set, "displayName");
        json_object_set_new(o, "id", id ? json_deep_copy(id) : json_null());
        json_object_set_new(o, "displayName", dn ? json_deep_copy(dn) : json_null());
        size_t k;
        const json_t *kv;
        json_array_foreach(json_object_get(set, "customSettings"), k, kv)
        {
            const char *n = json_string_value(json_object_get(kv, "name"));
            const char *v = json_string_value(json_object_get(kv, "value"));
            if (n && !json_object_get(m, n)) /* the first of a duplicated name, as set_value */
                json_object_set_new(m, n, json_string(v ? v : ""));
        }
        json_object_set_new(o, "settings", m);
        json_array_append_new(arr, o);
    }
    return arr;
}
