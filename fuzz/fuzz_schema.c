/*
 * fuzz_schema.c: libFuzzer target for the validation of Graph request
 * bodies against the schema table, schema_validate
 * (src/server/policy/schema.c): app protection and app configuration
 * policies, connectors, users and groups, POST and PATCH. The input is the
 * request body as sent; it is read as the server reads it (jansson,
 * duplicate keys rejected, as api_parse_body does) and, when it is an
 * object, validated for every kind, as a POST and as a PATCH.
 * Checks: on success *out is an object and, for a POST, holds every
 * property of the table; on error *out is NULL and the message is not
 * empty; every text of the error is NUL-terminated valid UTF-8.
 */
#include <jansson.h>

#include "common/err.h"
#include "fuzz.h"
#include "server/policy/schema.h"

static void check_err(const struct schema_error *e)
{
    FUZZ_CHECK(memchr(e->property, '\0', sizeof e->property));
    FUZZ_CHECK(memchr(e->message, '\0', sizeof e->message));
    FUZZ_CHECK(memchr(e->ignored, '\0', sizeof e->ignored));
    FUZZ_CHECK(fuzz_utf8_ok(e->property, true));
    FUZZ_CHECK(fuzz_utf8_ok(e->message, true));
    FUZZ_CHECK(fuzz_utf8_ok(e->ignored, true));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    json_t *in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(in)) {
        json_decref(in);
        return 0;
    }
    enum schema_kind k0;
    (void)schema_kind_from_odata_type(json_string_value(json_object_get(in, "@odata.type")), &k0);
    /* the navigation properties are removed by the caller first */
    json_object_del(in, "assignments");
    json_object_del(in, "apps");
    for (int k = 0; k < SCHEMA_KIND_COUNT; k++) {
        for (int patch = 0; patch < 2; patch++) {
            json_t *out = (json_t *)&out;
            struct schema_error err;
            memset(&err, 'x', sizeof err);
            int rc = schema_validate((enum schema_kind)k, in, patch, &out, &err);
            if (rc) {
                FUZZ_CHECK(rc == RG_EINVAL || rc == RG_ENOMEM);
                FUZZ_CHECK(!out);
                check_err(&err);
                FUZZ_CHECK(err.message[0]);
                continue;
            }
            FUZZ_CHECK(json_is_object(out));
            check_err(&err);
            if (!patch) {
                size_t n;
                const struct schema_prop *p = schema_props((enum schema_kind)k, &n);
                for (size_t i = 0; i < n; i++)
                    FUZZ_CHECK(json_object_get(out, p[i].name));
            }
            json_decref(out);
        }
    }
    json_decref(in);
    return 0;
}
