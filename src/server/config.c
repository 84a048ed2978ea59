/* config.c: the option table of riskgated and its parsers (config.h). */
#include "server/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/ratelimit.h"

struct option_def {
    const char *name;   /* flag and config-file key */
    size_t offset;      /* field in struct config */
    size_t size;
    const char *dflt;
    const char *help;
};

#define OPT(n, field, d, h) {n, offsetof(struct config, field), sizeof(((struct config *)0)->field), d, h}
static const struct option_def options[] = {
    OPT("listen", listen, "127.0.0.1:8443", "ADDR:PORT to listen on (port 0: any free port)"),
    OPT("db", db, "sqlite:./var/riskgate.db", "database URL: sqlite:PATH"),
    OPT("admin-key-file", admin_key_file, "./var/admin.key",
        "where the first start writes the bootstrap admin key (mode 0600)"),
    OPT("signing-key-file", signing_key_file, "./var/signing.key",
        "Ed25519 key that signs managed apps' offline tickets (created on first start, mode 0600)"),
    OPT("log-format", log_format, "text", "log lines as text or json"),
    OPT("tls-cert", tls_cert, "", "PEM certificate chain: serve HTTPS (needs --tls-key)"),
    OPT("tls-key", tls_key, "", "PEM private key for --tls-cert"),
    OPT("public-url", public_url, "", "base URL clients use, for @odata links (default: from --listen)"),
    OPT("trusted-proxy", trusted_proxy, "",
        "CIDR of a reverse proxy whose X-Forwarded-For names the client (repeatable, or comma-separated)"),
    OPT("signin-address-limit", signin_address_limit, "10/60",
        "failed sign-ins allowed per client address: N/S, N per S seconds (bursts of N); then 429"),
    OPT("signin-account-limit", signin_account_limit, "20/300",
        "failed sign-ins allowed per account (tenant and user): N/S, as above"),
    OPT("device-report-limit", device_report_limit, "120/60",
        "detection reports accepted per device: N/S, N per S seconds (bursts of N); then 429"),
    OPT("device-alert-limit", device_alert_limit, "10000",
        "alerts and timeline events one device may hold; a report that would add more answers 507"),
    OPT("workers", workers, "0", "threads that check passwords off the event loop, 1-64 (0: CPUs, at most 4)"),
};
#define NOPTIONS (sizeof options / sizeof options[0])

static char *field(struct config *c, const struct option_def *o)
{
    return (char *)c + o->offset;
}

void config_init(struct config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < NOPTIONS; i++)
        snprintf(field(c, &options[i]), options[i].size, "%s", options[i].dflt);
}

static int set(struct config *c, const char *name, const char *value, char *err, size_t errlen)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (strcmp(options[i].name, name))
            continue;
        char *dst = field(c, &options[i]);
        int append = !strcmp(name, "trusted-proxy") && dst[0]; /* repeatable: the values add up */
        if (strlen(value) + (append ? strlen(dst) + 1 : 0) >= options[i].size) {
            snprintf(err, errlen, "--%s: value too long", name);
            return -1;
        }
        if (append) {
            size_t n = strlen(dst);
            snprintf(dst + n, options[i].size - n, ",%s", value);
        } else {
            snprintf(dst, options[i].size, "%s", value);
        }
        struct ratelimit_rule rule;
        if ((!strncmp(name, "signin-", 7) || !strcmp(name, "device-report-limit")) && ratelimit_rule_parse(value, &rule)) {
            snprintf(err, errlen, "--%s: expected N/S (N failed sign-ins per S seconds), got '%s'", name, value);
            return -1;
        }
        if (!strcmp(name, "device-alert-limit")) {
            char *end;
            long long n = strtoll(value, &end, 10);
            if (!*value || *end || n < 1 || n > 100000000) {
                snprintf(err, errlen, "--device-alert-limit: expected 1 to 100000000, got '%s'", value);
                return -1;
            }
        }
        if (!strcmp(name, "workers")) {
            char *end;
            long n = strtol(value, &end, 10);
            if (!*value || *end || n < 0 || n > 64) {
                snprintf(err, errlen, "--workers: expected 0 (automatic) to 64, got '%s'", value);
                return -1;
            }
        }
        if (!strcmp(name, "log-format")) {
            enum log_format f;
            if (log_format_parse(value, &f)) {
                snprintf(err, errlen, "--log-format: expected text or json, got '%s'", value);
                return -1;
            }
        }
        return 0;
    }
    snprintf(err, errlen, "unknown option '%s' (see --help)", name);
    return -1;
}

static bool known(const char *name)
{
    if (!strcmp(name, "config"))
        return true;
    for (size_t i = 0; i < NOPTIONS; i++)
        if (!strcmp(options[i].name, name))
            return true;
    return false;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int load_file(struct config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "--config %s: cannot open", path);
        return -1;
    }
    char line[8192];
    int lineno = 0, rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'name = value'", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char sub[512];
        rc = set(c, trim(s), trim(eq + 1), sub, sizeof sub);
        if (rc)
            snprintf(err, errlen, "%s:%d: %s", path, lineno, sub);
    }
    fclose(f);
    return rc;
}

void config_usage(FILE *out)
{
    fprintf(out, "usage: riskgated [--config FILE] [--OPTION VALUE]...\n"
                 "       riskgated backup --to FILE [--db URL]     copy the live database (while it serves)\n"
                 "       riskgated restore --from FILE [--db URL]  replace the database with a backup (stop riskgated first)\n\n"
                 "The riskgate server: Graph-compatible app protection admin API.\n\noptions:\n");
    for (size_t i = 0; i < NOPTIONS; i++)
        fprintf(out, "  --%-16s %s%s%s%s\n", options[i].name, options[i].help, options[i].dflt[0] ? " [default: " : "",
                options[i].dflt, options[i].dflt[0] ? "]" : "");
    fprintf(out, "  --%-16s %s\n  --%-16s %s\n  --%-16s %s\n", "config FILE", "read 'name = value' lines first",
            "help", "print this help", "version", "print the version");
    fprintf(out, "\nexit codes: 0 clean shutdown, 1 runtime failure, 2 bad usage or configuration\n");
}

int config_parse_args(struct config *c, int argc, char **argv, char *err, size_t errlen)
{
    /* --config first, so flags override the file */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--config") && i + 1 < argc) {
            if (load_file(c, argv[i + 1], err, errlen))
                return -1;
        } else if (!strncmp(a, "--config=", 9)) {
            if (load_file(c, a + 9, err, errlen))
                return -1;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            config_usage(stdout);
            return 1;
        }
        if (!strcmp(a, "--version")) {
            printf("riskgated %s\n", RG_VERSION);
            return 1;
        }
        if (strncmp(a, "--", 2)) {
            snprintf(err, errlen, "unexpected argument '%s' (see --help)", a);
            return -1;
        }
        char name[64];
        const char *eq = strchr(a, '=');
        const char *value;
        if (eq) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - a - 2), a + 2);
            value = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a + 2);
            if (!known(name)) {
                snprintf(err, errlen, "unknown option '--%s' (see --help)", name);
                return -1;
            }
            if (i + 1 >= argc) {
                snprintf(err, errlen, "--%s needs a value", name);
                return -1;
            }
            value = argv[++i];
        }
        if (!strcmp(name, "config"))
            continue;
        if (set(c, name, value, err, errlen))
            return -1;
    }
    return 0;
}
