/*
 * netprot_tls.c: the TLS interception check of network protection
 * (netprot.h). A network that intercepts TLS (a rogue access point, a
 * captive proxy with its own CA) shows up as a well-known host whose
 * certificate does not verify against the system trust, names another host,
 * or does not match a pin. The check connects with a non-blocking socket and
 * a deadline (connect + handshake within NETPROT_TLS_TIMEOUT_MS) and runs on
 * a worker thread, so the daemon's loop never waits for the network; the
 * loop picks the outcomes up when the worker is done.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "agent/netprot.h"
#include "common/err.h"
#include "common/util.h"

#define SLICE_MS 100 /* the longest wait between two looks at the cancel flag */
#define JOB_GRACE_MS 300 /* netprot_tls_job_free waits this long for the thread, then detaches it */

const char *netprot_tls_result_name(enum netprot_tls_result r)
{
    switch (r) {
    case NETPROT_TLS_OK:
        return "ok";
    case NETPROT_TLS_INTERCEPTED:
        return "intercepted";
    case NETPROT_TLS_UNREACHABLE:
        return "unreachable";
    default:
        return "pending";
    }
}

int netprot_tls_parse(const char *spec, struct netprot_tls_target *out)
{
    memset(out, 0, sizeof *out);
    if (!spec || !*spec)
        return RG_EINVAL;
    const char *eq = strchr(spec, '=');
    size_t hp_len = eq ? (size_t)(eq - spec) : strlen(spec);
    const char *host = spec, *port;
    size_t host_len;
    if (*spec == '[') {
        const char *close_br = memchr(spec, ']', hp_len);
        if (!close_br || close_br + 1 >= spec + hp_len || close_br[1] != ':')
            return RG_EINVAL;
        host = spec + 1;
        host_len = (size_t)(close_br - host);
        port = close_br + 2;
    } else {
        const char *colon = NULL;
        for (const char *p = spec; p < spec + hp_len; p++)
            if (*p == ':')
                colon = p;
        if (!colon)
            return RG_EINVAL;
        host_len = (size_t)(colon - spec);
        port = colon + 1;
        if (memchr(spec, ':', host_len)) /* a bare IPv6 address needs brackets */
            return RG_EINVAL;
    }
    size_t port_len = (size_t)(spec + hp_len - port);
    if (!host_len || host_len >= sizeof out->host || !port_len || port_len >= sizeof out->port)
        return RG_EINVAL;
    for (size_t i = 0; i < host_len; i++)
        if (host[i] <= ' ' || host[i] == '/' || (unsigned char)host[i] >= 127)
            return RG_EINVAL;
    long pn = 0;
    for (size_t i = 0; i < port_len; i++) {
        if (port[i] < '0' || port[i] > '9')
            return RG_EINVAL;
        pn = pn * 10 + (port[i] - '0');
        if (pn > 65535)
            return RG_EINVAL;
    }
    if (pn < 1)
        return RG_EINVAL;
    memcpy(out->host, host, host_len);
    memcpy(out->port, port, port_len);
    if (eq && netprot_thumb_normalize(eq + 1, strlen(eq + 1), out->pin, sizeof out->pin) != 2)
        return RG_EINVAL;
    return 0;
}

static int64_t mono_ms(void)
{
    return (int64_t)(util_mono_ns() / 1000000u);
}

static bool cancelled(const atomic_int *cancel)
{
    return cancel && atomic_load(cancel);
}

/* Waits for events on fd until the deadline, in slices that look at cancel. 1 ready, 0 timeout/cancel, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline, const atomic_int *cancel)
{
    for (;;) {
        if (cancelled(cancel))
            return 0;
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int k = poll(&p, 1, (int)(left < SLICE_MS ? left : SLICE_MS));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k > 0)
            return 1;
    }
}

/* A connected non-blocking TCP socket to t, or -1 (why in out). */
static int tcp_connect(const struct netprot_tls_target *t, int64_t deadline, const atomic_int *cancel,
                       struct netprot_tls_outcome *out)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    unsigned char ip[16];
    if (inet_pton(AF_INET, t->host, ip) == 1 || inet_pton(AF_INET6, t->host, ip) == 1)
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV; /* an address: no resolver, nothing to wait for */
    /* a name: getaddrinfo cannot be cancelled; netprot_tls_job_free detaches a thread stuck here */
    int g = getaddrinfo(t->host, t->port, &hints, &res);
    if (!g && cancelled(cancel)) {
        freeaddrinfo(res);
        snprintf(out->reason, sizeof out->reason, "cancelled");
        return -1;
    }
    if (g || !res) {
        snprintf(out->reason, sizeof out->reason, "cannot resolve %.64s: %s", t->host, gai_strerror(g));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
            snprintf(out->reason, sizeof out->reason, "connect: %s", strerror(errno));
            close(fd);
            fd = -1;
            continue;
        }
        int err = 0;
        socklen_t len = sizeof err;
        if (wait_fd(fd, POLLOUT, deadline, cancel) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
            snprintf(out->reason, sizeof out->reason, "connect: %s", err ? strerror(err) : "timed out");
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* SHA-256 hex of the leaf's SubjectPublicKeyInfo (spki) and of the whole certificate (cert). */
static void leaf_digests(X509 *x, char *spki, char *cert)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    spki[0] = cert[0] = '\0';
    unsigned char *der = NULL;
    int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    if (len > 0 && EVP_Digest(der, (size_t)len, md, &n, EVP_sha256(), NULL) && n == 32)
        util_hex(md, n, spki);
    OPENSSL_free(der);
    if (X509_digest(x, EVP_sha256(), md, &n) && n == 32)
        util_hex(md, n, cert);
}

void netprot_tls_check(const struct netprot_tls_target *t, const char *ca_file, int timeout_ms,
                       const atomic_int *cancel, struct netprot_tls_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->result = NETPROT_TLS_UNREACHABLE;
    int64_t deadline = mono_ms() + timeout_ms;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(out->reason, sizeof out->reason, "TLS is not available");
        out->at_ms = util_now_ms();
        return;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    int loaded = ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) : SSL_CTX_set_default_verify_paths(ctx);
    if (loaded != 1) {
        snprintf(out->reason, sizeof out->reason, "cannot load the trusted certificates");
        SSL_CTX_free(ctx);
        ERR_clear_error();
        out->at_ms = util_now_ms();
        return;
    }
    /* verify after the handshake, so that a failure is told apart from "no TLS there" */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    int fd = tcp_connect(t, deadline, cancel, out);
    SSL *ssl = fd >= 0 ? SSL_new(ctx) : NULL;
    if (fd >= 0 && !ssl)
        snprintf(out->reason, sizeof out->reason, "TLS is not available");
    if (ssl) {
        unsigned char ip[16];
        bool is_ip = inet_pton(AF_INET, t->host, ip) == 1 || inet_pton(AF_INET6, t->host, ip) == 1;
        if (is_ip)
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), t->host);
        else {
            SSL_set_tlsext_host_name(ssl, t->host);
            SSL_set1_host(ssl, t->host);
        }
        SSL_set_fd(ssl, fd);
        int hs = 0;
        for (;;) {
            hs = SSL_connect(ssl);
            if (hs == 1)
                break;
            int e = SSL_get_error(ssl, hs);
            short ev = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
            if (!ev || wait_fd(fd, ev, deadline, cancel) != 1) {
                snprintf(out->reason, sizeof out->reason, "no TLS handshake: %s",
                         ev ? "timed out" : "the server does not speak TLS or closed the connection");
                break;
            }
        }
        if (hs == 1) {
            X509 *leaf = SSL_get1_peer_certificate(ssl);
            long vr = SSL_get_verify_result(ssl);
            if (!leaf) {
                out->result = NETPROT_TLS_INTERCEPTED;
                snprintf(out->reason, sizeof out->reason, "the server showed no certificate");
            } else if (vr != X509_V_OK) {
                out->result = NETPROT_TLS_INTERCEPTED;
                snprintf(out->reason, sizeof out->reason, "certificate does not verify: %s",
                         X509_verify_cert_error_string(vr));
            } else if (t->pin[0]) {
                char spki[65], cert[65];
                leaf_digests(leaf, spki, cert);
                bool match = !strcmp(spki, t->pin) || !strcmp(cert, t->pin);
                out->result = match ? NETPROT_TLS_OK : NETPROT_TLS_INTERCEPTED;
                snprintf(out->reason, sizeof out->reason, "%s",
                         match ? "verified, pin matches" : "the certificate verifies but does not match the pin");
            } else {
                out->result = NETPROT_TLS_OK;
                snprintf(out->reason, sizeof out->reason, "verified");
            }
            X509_free(leaf);
            SSL_shutdown(ssl); /* best effort, non-blocking */
        }
        SSL_free(ssl);
    }
    if (fd >= 0)
        close(fd);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    out->at_ms = util_now_ms();
}

struct netprot_tls_job {
    pthread_t th;
    struct netprot_tls_target *targets;
    struct netprot_tls_outcome *out;
    size_t n;
    char *ca_file;
    atomic_int cancel;
    atomic_int done;
    atomic_int refs; /* the thread's and the owner's: the last to let go frees the job */
    bool joined;
};

static void job_release(struct netprot_tls_job *job)
{
    free(job->targets);
    free(job->out);
    free(job->ca_file);
    free(job);
}

static void *job_main(void *arg)
{
    struct netprot_tls_job *job = arg;
    for (size_t i = 0; i < job->n; i++) {
        if (atomic_load(&job->cancel))
            break;
        netprot_tls_check(&job->targets[i], job->ca_file, NETPROT_TLS_TIMEOUT_MS, &job->cancel, &job->out[i]);
    }
    OPENSSL_thread_stop();
    atomic_store(&job->done, 1);
    if (atomic_fetch_sub(&job->refs, 1) == 1)
        job_release(job); /* the owner let go (detached): nothing else refers to the job */
    return NULL;
}

int netprot_tls_job_start(const struct netprot_tls_target *targets, size_t n, const char *ca_file,
                          struct netprot_tls_job **out)
{
    *out = NULL;
    struct netprot_tls_job *job = calloc(1, sizeof *job);
    if (!job)
        return RG_ENOMEM;
    job->n = n;
    job->targets = calloc(n ? n : 1, sizeof *job->targets);
    job->out = calloc(n ? n : 1, sizeof *job->out);
    job->ca_file = ca_file ? strdup(ca_file) : NULL;
    atomic_init(&job->done, 0);
    atomic_init(&job->cancel, 0);
    atomic_init(&job->refs, 2);
    if (!job->targets || !job->out || (ca_file && !job->ca_file)) {
        job_release(job);
        return RG_ENOMEM;
    }
    if (n)
        memcpy(job->targets, targets, n * sizeof *targets);
    if (pthread_create(&job->th, NULL, job_main, job)) {
        job_release(job);
        return RG_EIO;
    }
    *out = job;
    return 0;
}

bool netprot_tls_job_done(struct netprot_tls_job *job)
{
    return job && atomic_load(&job->done);
}

void netprot_tls_job_finish(struct netprot_tls_job *job, struct netprot_tls_outcome *out, size_t n)
{
    if (!job)
        return;
    if (!job->joined) {
        pthread_join(job->th, NULL);
        job->joined = true;
    }
    for (size_t i = 0; i < n && i < job->n; i++)
        out[i] = job->out[i];
}

void netprot_tls_job_free(struct netprot_tls_job *job)
{
    if (!job)
        return;
    atomic_store(&job->cancel, 1);
    if (job->joined) {
        job_release(job);
        return;
    }
    /*
     * A check inside getaddrinfo cannot be cancelled (it may block for the
     * resolver's timeout): wait a little for the thread, then detach it. The
     * job owns copies of everything it uses (targets, CA file, outcomes) and
     * never touches the agent, so the thread frees it itself when it ends.
     */
    for (int i = 0; i < JOB_GRACE_MS / 10 && !atomic_load(&job->done); i++)
        usleep(10000);
    if (atomic_load(&job->done)) {
        pthread_join(job->th, NULL);
        job_release(job);
        return;
    }
    pthread_detach(job->th);
    if (atomic_fetch_sub(&job->refs, 1) == 1)
        job_release(job); /* the thread ended between the look and the detach */
}
