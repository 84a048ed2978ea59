/*
 * riskgate-app: the demo managed app. It plays Outlook for Android
 * (com.microsoft.office.outlook) on top of libriskgate's public API only:
 * sign in, show the launch screen a person would see and exit with a code
 * per decision, or stay open printing each decision change and deleting its
 * demo "corporate data" folder when the organization wipes it.
 *
 *   riskgate-app --server http://127.0.0.1:8443 sign-in --user alice@contoso.com --password-file pw
 *   riskgate-app launch [--json]    exit 0 allow, 3 warn, 4 block, 5 offline too long, 6 wiped, 7 sign in
 *   riskgate-app run [--json]       until SIGINT/SIGTERM
 * docs/sdk.md lists every command, option and exit code.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "riskgate/riskgate.h"

enum {
    EXIT_ALLOW = 0,
    EXIT_ERROR = 1,
    EXIT_USAGE = 2,
    EXIT_WARN = 3,
    EXIT_BLOCK = 4,
    EXIT_CONNECT = 5,
    EXIT_WIPED = 6,
    EXIT_SIGN_IN = 7,
};

struct app {
    struct rg_options o;
    const char *storage;
    char data_dir[4096]; /* the demo's corporate data: <storage>/corporate-data */
    int json;
    const char *user, *tenant, *password, *password_file;
    const char *key, *type, *query;
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static int exit_code(const struct rg_decision *d)
{
    switch (rg_decision_action(d)) {
    case RG_ACTION_ALLOW:
        return EXIT_ALLOW;
    case RG_ACTION_WARN:
        return EXIT_WARN;
    case RG_ACTION_BLOCK:
        return EXIT_BLOCK;
    case RG_ACTION_CONNECT:
        return EXIT_CONNECT;
    case RG_ACTION_WIPE:
        return EXIT_WIPED;
    case RG_ACTION_SIGN_IN:
        return EXIT_SIGN_IN;
    }
    return EXIT_ERROR;
}

static void stamp(char *out, size_t n, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, n, "%" PRId64, ms);
}

/* Creates the demo mailbox when access is allowed and it is not there. */
static void open_corporate_data(struct app *a)
{
    struct stat sb;
    if (stat(a->data_dir, &sb) == 0)
        return;
    if (mkdir(a->data_dir, 0700) && errno != EEXIST)
        return;
    char p[4200];
    snprintf(p, sizeof p, "%s/inbox.txt", a->data_dir);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs("From: ceo@contoso.com\nSubject: Q3 numbers (confidential)\n\nDemo corporate data.\n", f);
        fclose(f);
    }
}

/* Prints the screen a person would see (or its JSON) and returns the exit code. */
static int show(struct app *a, const struct rg_decision *d, const char *event)
{
    int code = exit_code(d);
    if (rg_decision_allows(d))
        open_corporate_data(a);
    if (a->json) {
        char *js = NULL;
        if (rg_decision_json(d, &js) == RG_SDK_OK) {
            json_t *o = json_loads(js, 0, NULL);
            if (o) {
                if (event)
                    json_object_set_new(o, "event", json_string(event));
                json_object_set_new(o, "exitCode", json_integer(code));
                json_object_set_new(o, "corporateData", json_string(a->data_dir));
                char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
                if (line)
                    printf("%s\n", line);
                free(line);
                json_decref(o);
            }
        }
        rg_string_free(js);
        fflush(stdout);
        return code;
    }
    const char *title = rg_decision_title(d);
    if (event)
        printf("-- %s --\n", event);
    switch (rg_decision_action(d)) {
    case RG_ACTION_ALLOW:
        printf("Outlook: access allowed%s. Opening your mailbox (%s).\n",
               rg_decision_is_offline(d) ? " (offline, from the last ticket)" : "", a->data_dir);
        break;
    case RG_ACTION_WARN:
        printf("== %s ==\n%s\n", *title ? title : "Warning", rg_decision_message(d));
        if (*rg_decision_remedy(d))
            printf("What to do: %s\n", rg_decision_remedy(d));
        printf("[Continue] Opening your mailbox (%s).\n", a->data_dir);
        break;
    default:
        printf("== %s ==\n%s\n", title, rg_decision_message(d));
        if (*rg_decision_remedy(d))
            printf("What to do: %s\n", rg_decision_remedy(d));
        if (rg_decision_link(d))
            printf("Link: %s\n", rg_decision_link(d));
        if (rg_decision_action(d) == RG_ACTION_BLOCK || rg_decision_action(d) == RG_ACTION_CONNECT)
            printf("[Recheck]\n");
        break;
    }
    printf("(reason: %s", rg_decision_reason(d));
    if (rg_decision_offline_until(d)) {
        char t1[40], t2[40];
        stamp(t1, sizeof t1, rg_decision_offline_until(d));
        stamp(t2, sizeof t2, rg_decision_offline_wipe_at(d));
        printf("; offline access until %s, offline wipe at %s", t1, t2);
    }
    printf(")\n");
    fflush(stdout);
    return code;
}

/* Deletes path and everything under it. 0 or -1. */
static int remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb))
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(sb.st_mode))
        return unlink(path);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char child[4200];
        if ((size_t)snprintf(child, sizeof child, "%s/%s", path, e->d_name) >= sizeof child || remove_tree(child))
            rc = -1;
    }
    closedir(d);
    return rc || rmdir(path) ? -1 : 0;
}

/* The wipe callback: the demo's corporate data is one folder. */
static int on_wipe(void *ud, char *why, size_t why_len)
{
    struct app *a = ud;
    int rc = remove_tree(a->data_dir);
    if (rc)
        snprintf(why, why_len, "cannot delete %s: %s", a->data_dir, strerror(errno));
    if (a->json) {
        json_t *o = json_pack("{s:s, s:s, s:b}", "event", "wipe", "corporateData", a->data_dir, "deleted", !rc);
        char *line = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        if (line)
            printf("%s\n", line);
        free(line);
        json_decref(o);
    } else
        printf("-- wipe: %s %s --\n", a->data_dir, rc ? "could NOT be deleted" : "deleted");
    fflush(stdout);
    return rc;
}

static void on_decision(void *ud, const struct rg_decision *d)
{
    show(ud, d, "decision changed");
}

static int fail(const struct rg *rg, int rc, const char *what)
{
    const char *m = rg ? rg_errmsg(rg) : "";
    fprintf(stderr, "riskgate-app: %s: %s%s%s\n", what, rg_strerror(rc), *m ? ": " : "", m);
    return EXIT_ERROR;
}

static char *read_password(struct app *a)
{
    if (a->password)
        return strdup(a->password);
    const char *env = getenv("RISKGATE_APP_PASSWORD");
    if (!a->password_file)
        return env ? strdup(env) : NULL;
    FILE *f = strcmp(a->password_file, "-") ? fopen(a->password_file, "r") : stdin;
    if (!f)
        return NULL;
    char line[1024];
    char *p = fgets(line, sizeof line, f) ? strdup(line) : NULL;
    if (f != stdin)
        fclose(f);
    if (p)
        p[strcspn(p, "\r\n")] = '\0';
    return p;
}

static int parse_query(const char *s, rg_query *q)
{
    const char *names[] = {"any", "and", "or", "min", "max"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, names[i])) {
            *q = (rg_query)i;
            return 0;
        }
    return -1;
}

static int cmd_config(struct app *a, struct rg *rg)
{
    if (!a->key) {
        char *js = NULL;
        if (rg_appconfig_json(rg, &js))
            return fail(rg, RG_SDK_ENOMEM, "config");
        printf("%s\n", js);
        rg_string_free(js);
        return 0;
    }
    rg_query q = RG_QUERY_ANY;
    if (a->query && parse_query(a->query, &q)) {
        fprintf(stderr, "riskgate-app: --query: any, and, or, min or max\n");
        return EXIT_USAGE;
    }
    const char *type = a->type ? a->type : "string";
    int rc;
    json_t *v = NULL;
    if (!strcmp(type, "bool")) {
        int b;
        if (!(rc = rg_appconfig_bool(rg, a->key, q, &b)))
            v = json_boolean(b);
    } else if (!strcmp(type, "int")) {
        int64_t i;
        if (!(rc = rg_appconfig_int(rg, a->key, q, &i)))
            v = json_integer((json_int_t)i);
    } else if (!strcmp(type, "double")) {
        double x;
        if (!(rc = rg_appconfig_double(rg, a->key, q, &x)))
            v = json_real(x);
    } else if (!strcmp(type, "string")) {
        char *s = NULL;
        if (!(rc = rg_appconfig_string(rg, a->key, q, &s)))
            v = json_string(s);
        rg_string_free(s);
    } else {
        fprintf(stderr, "riskgate-app: --type: bool, int, double or string\n");
        return EXIT_USAGE;
    }
    if (rc)
        return fail(rg, rc, a->key);
    char *out = json_dumps(v, JSON_ENCODE_ANY);
    printf("%s\n", out ? out : "null");
    free(out);
    json_decref(v);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: riskgate-app [options] COMMAND [--json]\n"
            "commands:\n"
            "  sign-in --user UPN [--tenant NAME] [--password P | --password-file F|-]   (or $RISKGATE_APP_PASSWORD)\n"
            "  launch        check access and show the launch screen; exit code per decision\n"
            "  recheck       the same, as the screen's Recheck button\n"
            "  run           stay open: print each decision change; delete the corporate data on wipe\n"
            "  settings      the effective protection settings (JSON)\n"
            "  config [--key K [--type bool|int|double|string] [--query any|and|or|min|max]]\n"
            "  sign-out      forget the registration\n"
            "options:\n"
            "  --server URL (or $RISKGATE_SERVER)  --storage DIR (or $RISKGATE_APP_STORAGE; ./var/app)\n"
            "  --server-key BASE64 (or $RISKGATE_SERVER_KEY; `riskgated server-key` prints it): required, unless\n"
            "  --trust-on-first-use  pin the key the first sign-in returns (whoever answers it is trusted)\n"
            "  --app-id ID (com.microsoft.office.outlook)  --platform android|ios (android)  --agent-socket PATH\n"
            "  --app-version V  --os-version V  --patch-level YYYY-MM-DD  --model M  --rooted  --json\n"
            "exit codes: 0 allowed, 1 error, 2 usage, 3 allowed with a warning, 4 blocked,\n"
            "            5 Internet Connection Required, 6 wiped, 7 sign-in required\n");
}

int main(int argc, char **argv)
{
    struct app a;
    memset(&a, 0, sizeof a);
    a.o = (struct rg_options)RG_OPTIONS_INIT;
    a.o.app_id = "com.microsoft.office.outlook";
    a.o.platform = "android";
    a.o.app_version = "4.2401.1";
    a.o.os_version = "14";
    a.o.patch_level = "2024-05-01";
    a.o.model = "Pixel 8";
    a.o.manufacturer = "Google";
    a.o.device_name = "demo-device";
    a.o.server_url = getenv("RISKGATE_SERVER");
    /* the server's key: built in (cmake -DRG_APP_SERVER_KEY=...), or given at run time */
#ifdef RG_APP_SERVER_KEY
    a.o.server_key = RG_APP_SERVER_KEY;
#endif
    if (getenv("RISKGATE_SERVER_KEY") && *getenv("RISKGATE_SERVER_KEY"))
        a.o.server_key = getenv("RISKGATE_SERVER_KEY");
    a.storage = getenv("RISKGATE_APP_STORAGE");
    static const struct option opts[] = {
        {"server", required_argument, NULL, 's'},     {"server-key", required_argument, NULL, 'k'},
        {"storage", required_argument, NULL, 'd'},    {"app-id", required_argument, NULL, 'a'},
        {"platform", required_argument, NULL, 'p'},   {"agent-socket", required_argument, NULL, 'S'},
        {"app-version", required_argument, NULL, 'V'}, {"os-version", required_argument, NULL, 'O'},
        {"patch-level", required_argument, NULL, 'P'}, {"model", required_argument, NULL, 'm'},
        {"rooted", no_argument, NULL, 'r'},           {"json", no_argument, NULL, 'j'},
        {"user", required_argument, NULL, 'u'},       {"tenant", required_argument, NULL, 't'},
        {"password", required_argument, NULL, 'w'},   {"password-file", required_argument, NULL, 'W'},
        {"key", required_argument, NULL, 'K'},        {"type", required_argument, NULL, 'T'},
        {"query", required_argument, NULL, 'Q'},      {"help", no_argument, NULL, 'h'},
        {"trust-on-first-use", no_argument, NULL, 'F'},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': a.o.server_url = optarg; break;
        case 'k': a.o.server_key = optarg; break;
        case 'd': a.storage = optarg; break;
        case 'a': a.o.app_id = optarg; break;
        case 'p': a.o.platform = optarg; break;
        case 'S': a.o.agent_socket = optarg; break;
        case 'V': a.o.app_version = optarg; break;
        case 'O': a.o.os_version = optarg; break;
        case 'P': a.o.patch_level = optarg; break;
        case 'm': a.o.model = optarg; break;
        case 'r': a.o.rooted = 1; break;
        case 'j': a.json = 1; break;
        case 'u': a.user = optarg; break;
        case 't': a.tenant = optarg; break;
        case 'w': a.password = optarg; break;
        case 'W': a.password_file = optarg; break;
        case 'K': a.key = optarg; break;
        case 'T': a.type = optarg; break;
        case 'Q': a.query = optarg; break;
        case 'F': a.o.trust_on_first_use = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[optind];
    if (a.o.server_url && !*a.o.server_url)
        a.o.server_url = NULL;
    a.o.storage_dir = a.storage && *a.storage ? a.storage : "./var/app";
    if (!strcmp(a.o.storage_dir, "./var/app"))
        mkdir("./var", 0755);
    snprintf(a.data_dir, sizeof a.data_dir, "%s/corporate-data", a.o.storage_dir);

    struct rg *rg = NULL;
    int rc = rg_new(&rg);
    if (rc)
        return fail(NULL, rc, "rg_new");
    int code = EXIT_ERROR;
    if ((rc = rg_configure(rg, &a.o))) {
        code = fail(rg, rc, "configure");
        goto out;
    }
    rg_set_wipe_callback(rg, on_wipe, &a);
    const struct rg_decision *d = NULL;
    if (!strcmp(cmd, "sign-in")) {
        char *pw = read_password(&a);
        if (!a.user || !pw) {
            free(pw);
            fprintf(stderr, "riskgate-app: sign-in needs --user and a password\n");
            code = EXIT_USAGE;
            goto out;
        }
        rc = rg_sign_in(rg, a.tenant, a.user, pw, &d);
        memset(pw, 0, strlen(pw));
        free(pw);
        code = rc ? fail(rg, rc, "sign-in") : show(&a, d, NULL);
    } else if (!strcmp(cmd, "launch") || !strcmp(cmd, "recheck")) {
        rc = !strcmp(cmd, "launch") ? rg_launch_check(rg, &d) : rg_recheck(rg, &d);
        code = rc ? fail(rg, rc, cmd) : show(&a, d, NULL);
        if (!rc && rg_decision_is_offline(d) && *rg_errmsg(rg))
            fprintf(stderr, "riskgate-app: offline: %s\n", rg_errmsg(rg));
    } else if (!strcmp(cmd, "run")) {
        if ((rc = rg_launch_check(rg, &d))) {
            code = fail(rg, rc, "launch");
            goto out;
        }
        show(&a, d, a.json ? "launch" : NULL);
        rg_set_decision_callback(rg, on_decision, &a);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        rc = rg_run_until(rg, &stop_flag);
        code = rc ? fail(rg, rc, "run") : exit_code(rg_decision(rg));
    } else if (!strcmp(cmd, "settings")) {
        char *js = NULL;
        if ((rc = rg_settings_json(rg, &js))) {
            code = fail(rg, rc, "settings");
        } else {
            printf("%s\n", js);
            code = 0;
        }
        rg_string_free(js);
    } else if (!strcmp(cmd, "config")) {
        code = cmd_config(&a, rg);
    } else if (!strcmp(cmd, "sign-out")) {
        rc = rg_sign_out(rg);
        code = rc ? fail(rg, rc, "sign-out") : 0;
    } else {
        usage(stderr);
        code = EXIT_USAGE;
    }
out:
    rg_free(rg);
    return code;
}
