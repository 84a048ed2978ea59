/*
 * main.c: riskgated. Parses the configuration, opens the store, bootstraps
 * an empty database, serves the API until SIGTERM/SIGINT, then drains and
 * closes the store cleanly.
 */
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/jsonsafe.h"
#include "common/log.h"
#include "common/sign.h"
#include "server/app.h"
#include "server/appcache.h"
#include "server/audit.h"
#include "server/config.h"
#include "server/http/http.h"
#include "server/notify.h"
#include "server/store/store.h"
#include "server/ratelimit.h"
#include "server/work.h"

static volatile sig_atomic_t stop_signal;
static volatile int stop_flag;

static void on_signal(int sig)
{
    stop_signal = sig;
    stop_flag = 1;
}

/* On the loop when the worker pool has finished jobs. */
static void on_work_done(void *pool)
{
    jsonsafe_mark(); /* the completions are units of work of their own (jsonsafe.h) */
    work_pool_complete(pool);
}

/* Once a second on the loop: the deferred lastSyncDateTime writes of check-ins (appcache.h). */
static void on_tick(void *vapp)
{
    struct app *app = vapp;
    jsonsafe_mark();
    int rc = appcache_flush(app->cache, app->store);
    /* once when it starts failing and once when it works again: a full disk must not fill the log too */
    if (rc && app->flush_failures++ == 0)
        log_msg(app->log, LOG_WARN, "could not write check-in times (%s); retrying every second", rg_err_name(rc));
    else if (!rc && app->flush_failures) {
        log_msg(app->log, LOG_INFO, "check-in times written again after %ld failed tries", app->flush_failures);
        app->flush_failures = 0;
    }
}

/*
 * riskgated backup --to FILE [--db URL | --config FILE ...]
 * riskgated restore --from FILE [--db URL | --config FILE ...]
 * The usual options name the database; exit 0, 1 (it failed: why on stderr) or 2 (usage).
 */
static int backup_command(int argc, char **argv)
{
    const char *cmd = argv[1], *want = !strcmp(cmd, "backup") ? "--to" : "--from", *file = NULL;
    char *rest[64];
    int nrest = 0;
    rest[nrest++] = argv[0];
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], want) && i + 1 < argc)
            file = argv[++i];
        else if (nrest < 63)
            rest[nrest++] = argv[i];
    }
    rest[nrest] = NULL;
    struct config cfg;
    char err[1024] = "";
    config_init(&cfg);
    if (!file) {
        fprintf(stderr, "riskgated %s: %s FILE is required (riskgated %s %s FILE [--db URL])\n", cmd, want, cmd, want);
        return 2;
    }
    int rc = config_parse_args(&cfg, nrest, rest, err, sizeof err);
    if (rc)
        return rc > 0 ? 0 : (fprintf(stderr, "riskgated %s: %s\n", cmd, err), 2);
    umask(077); /* a backup holds what the database holds: password hashes, device data */
    rc = !strcmp(cmd, "backup") ? store_backup(cfg.db, file, err, sizeof err) : store_restore(cfg.db, file, err, sizeof err);
    if (rc) {
        fprintf(stderr, "riskgated %s: %s\n", cmd, err);
        return rc == RG_EINVAL && strstr(err, "PostgreSQL") ? 2 : 1;
    }
    fprintf(stderr, "riskgated %s: %s %s %s\n", cmd, !strcmp(cmd, "backup") ? cfg.db : file,
            !strcmp(cmd, "backup") ? "copied to" : "restored into", !strcmp(cmd, "backup") ? file : cfg.db);
    return 0;
}

/*
 * riskgated server-key [--signing-key-file PATH | --config FILE ...]: prints
 * the ticket signing key's public half (base64), the server_key apps build in,
 * read from the key file, not from a server that could be someone else's.
 * Creates the key as the server would when there is none yet. Exit 0, 1, 2.
 */
static int server_key_command(int argc, char **argv)
{
    char *rest[64];
    int nrest = 0;
    rest[nrest++] = argv[0];
    for (int i = 2; i < argc && nrest < 63; i++)
        rest[nrest++] = argv[i];
    rest[nrest] = NULL;
    struct config cfg;
    char err[1024] = "";
    config_init(&cfg);
    int rc = config_parse_args(&cfg, nrest, rest, err, sizeof err);
    if (rc)
        return rc > 0 ? 0 : (fprintf(stderr, "riskgated server-key: %s\n", err), 2);
    struct sign_key *k = NULL;
    int made = 0;
    umask(077);
    if (sign_key_load(cfg.signing_key_file, &k, &made, err, sizeof err)) {
        fprintf(stderr, "riskgated server-key: %s\n", err);
        return 1;
    }
    if (made)
        fprintf(stderr, "riskgated server-key: created the ticket signing key %s (mode 0600)\n", cfg.signing_key_file);
    printf("%s\n", sign_key_public_b64(k));
    sign_key_free(k);
    return 0;
}

int main(int argc, char **argv)
{
    /* one write per log line (unbuffered stderr costs a system call per field, on every request) */
    setvbuf(stderr, NULL, _IOLBF, 0);
    jsonsafe_init(NULL, NULL); /* a parse that ran out of memory fails instead of losing bytes */
    if (argc > 1 && (!strcmp(argv[1], "backup") || !strcmp(argv[1], "restore")))
        return backup_command(argc, argv);
    if (argc > 1 && !strcmp(argv[1], "server-key"))
        return server_key_command(argc, argv);
    struct config cfg;
    char err[1024] = "";
    config_init(&cfg);
    int rc = config_parse_args(&cfg, argc, argv, err, sizeof err);
    if (rc)
        return rc > 0 ? 0 : (fprintf(stderr, "riskgated: %s\n", err), 2);

    struct log lg = LOG_INIT;
    log_format_parse(cfg.log_format, &lg.format);

    /* the database holds password hashes and device data: every file riskgated creates is private */
    umask(077);
    signal(SIGPIPE, SIG_IGN);
    /* idle live connections are file descriptors: allow as many as the system lets this process have */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    struct app app = {.log = &lg};
    struct store *db = NULL;
    if ((rc = store_open(cfg.db, &db, err, sizeof err))) {
        fprintf(stderr, "riskgated: %s\n", err);
        return rc == RG_EINVAL ? 2 : 1;
    }
    /* every write reaches the check-in cache through the watching store, whichever handler makes it */
    if (!(app.cache = appcache_new()) || store_watch_new(db, appcache_on_write, app.cache, &app.store)) {
        fprintf(stderr, "riskgated: out of memory\n");
        appcache_free(app.cache);
        store_close(db);
        return 1;
    }
    store_watch_audit(app.store, audit_on_write, &app); /* admin writes get their record in their transaction */
    int created = 0;
    if (app_bootstrap(&app, cfg.admin_key_file, &created, err, sizeof err)) {
        fprintf(stderr, "riskgated: %s\n", err);
        store_close(app.store);
        appcache_free(app.cache);
        return 1;
    }
    if (created)
        fprintf(stderr, "riskgated: first start: created tenant '%s' and its admin API key, written to %s (mode 0600)\n",
                APP_DEFAULT_TENANT, cfg.admin_key_file);

    int made_key = 0;
    if (sign_key_load(cfg.signing_key_file, &app.sign, &made_key, err, sizeof err)) {
        fprintf(stderr, "riskgated: %s\n", err);
        store_close(app.store);
        appcache_free(app.cache);
        return 1;
    }
    if (made_key)
        fprintf(stderr, "riskgated: created the ticket signing key %s (mode 0600)\n", cfg.signing_key_file);
    app.metrics = http_metrics_new();
    app.notify = notify_new();
    size_t nroutes;
    const struct http_route *routes = app_routes(&nroutes);
    struct http_server_config hc = {
        .listen = cfg.listen,
        .tls_cert = cfg.tls_cert[0] ? cfg.tls_cert : NULL,
        .tls_key = cfg.tls_key[0] ? cfg.tls_key : NULL,
        .routes = routes,
        .nroutes = nroutes,
        .app = &app,
        .log = &lg,
        .metrics = app.metrics,
        .tick = on_tick,
        .request_done = audit_actor_clear,
    };
    struct http_server *srv = NULL;
    int port = 0;
    if ((rc = http_server_new(&hc, &srv, &port, err, sizeof err))) {
        fprintf(stderr, "riskgated: %s\n", err);
        notify_free(app.notify);
        sign_key_free(app.sign);
        http_metrics_free(app.metrics);
        store_close(app.store);
        appcache_free(app.cache);
        return rc == RG_EINVAL ? 2 : 1;
    }
    struct ratelimit_rule by_addr, by_acct;
    ratelimit_rule_parse(cfg.signin_address_limit, &by_addr); /* checked by config_parse_args */
    ratelimit_rule_parse(cfg.signin_account_limit, &by_acct);
    struct ratelimit_rule by_dev;
    ratelimit_rule_parse(cfg.device_report_limit, &by_dev);
    if ((rc = ratelimit_new(&by_addr, &by_acct, RATELIMIT_CAPACITY, cfg.trusted_proxy, &app.limits, err, sizeof err)) ||
        (rc = ratelimit_new(&by_dev, &by_dev, RATELIMIT_CAPACITY, NULL, &app.device_limits, err, sizeof err))) {
        ratelimit_free(app.limits);
        fprintf(stderr, "riskgated: %s\n", err);
        http_server_free(srv);
        notify_free(app.notify);
        sign_key_free(app.sign);
        http_metrics_free(app.metrics);
        store_close(app.store);
        appcache_free(app.cache);
        return rc == RG_EINVAL ? 2 : 1;
    }
    app.device_alert_limit = strtoll(cfg.device_alert_limit, NULL, 10);
    unsigned nworkers = (unsigned)strtoul(cfg.workers, NULL, 10);
    if (!nworkers)
        nworkers = work_default_threads();
    if (work_pool_new(nworkers, 256, &app.work) || http_server_watch(srv, work_pool_fd(app.work), on_work_done, app.work)) {
        fprintf(stderr, "riskgated: cannot start the worker threads\n");
        work_pool_free(app.work);
        ratelimit_free(app.limits);
        ratelimit_free(app.device_limits);
        http_server_free(srv);
        notify_free(app.notify);
        sign_key_free(app.sign);
        http_metrics_free(app.metrics);
        store_close(app.store);
        appcache_free(app.cache);
        return 1;
    }
    const char *scheme = hc.tls_cert ? "https" : "http";
    if (cfg.public_url[0]) {
        snprintf(app.public_url, sizeof app.public_url, "%s", cfg.public_url);
    } else {
        char host[200];
        snprintf(host, sizeof host, "%.199s", cfg.listen);
        char *colon = strrchr(host, ':');
        if (colon)
            *colon = '\0';
        if (!host[0] || !strcmp(host, "0.0.0.0"))
            snprintf(host, sizeof host, "127.0.0.1");
        snprintf(app.public_url, sizeof app.public_url, "%s://%s:%d", scheme, host, port);
    }
    log_msg(&lg, LOG_INFO, "riskgated listening on %s (database %s, admin key file %s)", app.public_url, cfg.db,
            cfg.admin_key_file);
    fprintf(stderr, "riskgated: listening on %s\n", app.public_url);
    fflush(stderr);

    /* access lines in one write per turn of the loop, not one per request (log.h) */
    if (log_batch_start(&lg))
        log_msg(&lg, LOG_WARN, "access lines are written one by one (out of memory for the batch)");
    rc = http_server_run(srv, &stop_flag);
    log_msg(&lg, LOG_INFO, "shutting down (signal %d)", (int)stop_signal);
    /* every suspended sign-in was answered by the drain; queued checks are cancelled, running ones finish */
    work_pool_free(app.work);
    app.work = NULL;
    http_server_free(srv);
    ratelimit_free(app.limits);
    ratelimit_free(app.device_limits);
    if (appcache_flush(app.cache, app.store))
        log_msg(&lg, LOG_WARN, "shutdown: could not write the last check-in times");
    notify_free(app.notify);
    sign_key_free(app.sign);
    http_metrics_free(app.metrics);
    store_close(app.store);
    appcache_free(app.cache);
    log_batch_end(&lg);
    return rc ? 1 : 0;
}
