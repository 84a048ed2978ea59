/*
 * config.h: riskgated's configuration, declared once as a table (config.c)
 * from which the flags, the config file and --help are all derived.
 */
#ifndef RG_CONFIG_H
#define RG_CONFIG_H
#include <stdio.h>

struct config {
    char listen[256];
    char db[4096];
    char admin_key_file[4096];
    char signing_key_file[4096];
    char log_format[8];
    char tls_cert[4096];
    char tls_key[4096];
    char public_url[256];
    char workers[8];
    char device_alert_limit[16];
    char trusted_proxy[2048];
    char signin_address_limit[32];
    char signin_account_limit[32];
    char device_report_limit[32];
};

/* Fills defaults. */
void config_init(struct config *c);
/*
 * Applies "--name value" / "--name=value" flags, and "--config FILE" (a file
 * of "name = value" lines, '#' comments) read first. Returns 0, 1 when --help
 * or --version was printed, or -1 with a message in err.
 */
int config_parse_args(struct config *c, int argc, char **argv, char *err, size_t errlen);
/* Prints the option table as help text. */
void config_usage(FILE *out);
#endif
