/*
 * fuzz_intel.c: libFuzzer target for the indicator value canonicalisers and
 * the type guesser (src/intel/): intel_normalize for every indicator type
 * (what a Defender indicator POST, an import or a partner sends),
 * intel_guess_type (plain-list imports), the lenient forms the lookups use
 * (intel_norm_domain/ip/url, intel_host_parse) and the set's lookups with
 * the raw value (the agent matches hosts and URLs it sees against the set).
 * The input is one value (an inner NUL ends it).
 * Checks the promises of indicators.h and normalize.h:
 *   - a message on every refusal, starting "indicatorValue" or naming the field;
 *   - canonical forms are fixed points: normalizing the result gives it back;
 *   - the lenient form of a value accepted strictly is its canonical form;
 *   - intel_host_parse accepts exactly what lenient intel_norm_domain does, with the same name;
 *   - a value put in a set is found again by the lookup of its type, with the raw value;
 *   - the guessed type is a valid type;
 *   - every message (intel_normalize, intel_action_parse) is valid UTF-8 without control characters.
 */
#include <stdio.h>

#include "common/err.h"
#include "fuzz.h"
#include "intel/indicators.h"
#include "intel/normalize.h"

static void check_lookup(enum intel_type t, const char *raw, const char *canon)
{
    struct intel_set *set = NULL;
    if (intel_set_new(&set))
        return;
    enum intel_action action = t == INTEL_CERT ? INTEL_ALLOWED : INTEL_BLOCK;
    struct intel_indicator ind = {.id = 7, .type = t, .value = raw, .action = action, .severity = INTEL_SEV_HIGH};
    char err[256];
    int rc = intel_set_put(set, &ind, err, sizeof err);
    if (rc == RG_ENOMEM)
        goto out;
    FUZZ_CHECK(rc == 0);
    struct intel_match m;
    memset(&m, 0, sizeof m);
    switch (t) {
    case INTEL_DOMAIN:
        FUZZ_CHECK(intel_match_domain(set, raw, 0, NULL, 0, &m) == 0 && m.found && m.id == 7);
        break;
    case INTEL_IP:
        FUZZ_CHECK(intel_match_ip(set, raw, 0, NULL, 0, &m) == 0 && m.found && m.id == 7);
        break;
    case INTEL_URL:
        FUZZ_CHECK(intel_match_url(set, raw, 0, NULL, 0, &m) == 0 && m.found && m.id == 7);
        break;
    case INTEL_CERT:
        FUZZ_CHECK(intel_match_cert(set, raw, 0, NULL, 0, &m) == 0 && m.found && m.id == 7);
        break;
    case INTEL_FILE_SHA256:
        FUZZ_CHECK(intel_match_file(set, raw, NULL, NULL, 0, NULL, 0, &m) == 0 && m.found);
        break;
    case INTEL_FILE_SHA1:
        FUZZ_CHECK(intel_match_file(set, NULL, raw, NULL, 0, NULL, 0, &m) == 0 && m.found);
        break;
    case INTEL_FILE_MD5:
        FUZZ_CHECK(intel_match_file(set, NULL, NULL, raw, 0, NULL, 0, &m) == 0 && m.found);
        break;
    default:
        break;
    }
    if (m.found)
        FUZZ_CHECK(m.value && !strcmp(m.value, canon));
out:
    intel_set_free(set);
}

/* The lenient canonicaliser of a type on s, into out; 0 or an error (types without one: 1). */
static int lenient(enum intel_type t, const char *s, char *out, size_t outlen, size_t *n)
{
    struct intel_url_parts parts;
    switch (t) {
    case INTEL_DOMAIN:
        return intel_norm_domain(s, strlen(s), false, out, outlen, n, NULL, 0);
    case INTEL_IP:
        return intel_norm_ip(s, strlen(s), false, out, outlen, n, NULL, 0);
    case INTEL_URL:
        return intel_norm_url(s, false, out, outlen, n, &parts, NULL, 0);
    default:
        return intel_norm_hex(t, s, false, out, outlen, n, NULL, 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 3 * INTEL_VALUE_MAX)
        return 0;
    char *v = fuzz_strndup(data, size);
    if (!v)
        return 0;
    enum intel_type g = intel_guess_type(v);
    FUZZ_CHECK((int)g >= 0 && g < INTEL_TYPE_COUNT);
    /* the other fields of an indicator, with the value as their text */
    enum intel_type pt;
    enum intel_severity ps;
    enum intel_action pa;
    bool implied;
    char aerr[256];
    (void)intel_type_parse(v, &pt);
    (void)intel_severity_parse(v, &ps);
    if (intel_action_parse(v, g, &pa, &implied, aerr, sizeof aerr))
        FUZZ_CHECK(fuzz_clean_text(aerr));

    for (int ti = 0; ti < INTEL_TYPE_COUNT; ti++) {
        enum intel_type t = (enum intel_type)ti;
        char out[INTEL_VALUE_MAX + 1], again[INTEL_VALUE_MAX + 1], err[512];
        err[0] = '\0';
        int rc = intel_normalize(t, v, out, sizeof out, err, sizeof err);
        if (rc) {
            FUZZ_CHECK(rc == RG_EINVAL || rc == RG_ETOOBIG);
            FUZZ_CHECK(memchr(err, '\0', sizeof err) && (rc != RG_EINVAL || err[0]));
            FUZZ_CHECK(fuzz_clean_text(err));
            continue;
        }
        FUZZ_CHECK(strlen(out) <= INTEL_VALUE_MAX);
        /* a fixed point */
        FUZZ_CHECK(intel_normalize(t, out, again, sizeof again, NULL, 0) == 0 && !strcmp(out, again));
        /* lenient on the raw value gives the canonical form */
        size_t n = 0;
        char len[INTEL_VALUE_MAX + 1];
        FUZZ_CHECK(lenient(t, v, len, sizeof len, &n) == 0);
        FUZZ_CHECK(n == strlen(len) && !strcmp(len, out));
        if (t == INTEL_DOMAIN)
            FUZZ_CHECK(intel_is_public_suffix(out) == false);
        check_lookup(t, v, out);
    }

    /* the word-at-a-time host parser against the byte-at-a-time one */
    size_t vn = strlen(v);
    struct intel_host h;
    char dom[INTEL_DOMAIN_MAX + 2];
    size_t dn = 0;
    int a = intel_host_parse(v, vn, &h);
    int b = intel_norm_domain(v, vn, false, dom, sizeof dom, &dn, NULL, 0);
    FUZZ_CHECK((a == 0) == (b == 0));
    if (!a)
        FUZZ_CHECK(h.n == dn && !strcmp(intel_host_name(&h), dom) && h.nlabels >= 1);

    /* lenient forms never fail in an unexpected way on anything */
    for (int ti = 0; ti < INTEL_TYPE_COUNT; ti++) {
        char out[INTEL_VALUE_MAX + 1];
        size_t n = 0;
        int rc = lenient((enum intel_type)ti, v, out, sizeof out, &n);
        FUZZ_CHECK(rc == 0 || rc == RG_EINVAL || rc == RG_ETOOBIG);
        if (!rc)
            FUZZ_CHECK(n == strlen(out));
    }
    free(v);
    return 0;
}
