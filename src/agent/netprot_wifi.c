/*
 * netprot_wifi.c: the current Wi-Fi network for open-network detection
 * (netprot.h): the security words of `riskgate-agent network observe`,
 * NetworkManager's terse output (`nmcli -t -f ACTIVE,SSID-HEX,BSSID,SECURITY
 * dev wifi`: the name in hex, so that no name can forge a line or a field), running nmcli without a shell, and the privacy-preserving key of a
 * network. Without NetworkManager (nmcli missing or not answering) the
 * daemon relies on observations fed in.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/netprot.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/util.h"

static const char *const sec_names[] = {"unknown", "none", "open", "wep", "wpa", "wpa2", "wpa3"};

int netprot_sec_parse(const char *s, enum netprot_sec *out)
{
    for (int i = NETPROT_SEC_NONE; s && i <= NETPROT_SEC_WPA3; i++) {
        if (!strcasecmp(s, sec_names[i])) {
            *out = (enum netprot_sec)i;
            return 0;
        }
    }
    return RG_EINVAL;
}

const char *netprot_sec_name(enum netprot_sec s)
{
    return (int)s >= 0 && s <= NETPROT_SEC_WPA3 ? sec_names[s] : "unknown";
}

bool netprot_sec_unsafe(enum netprot_sec s)
{
    return s == NETPROT_SEC_OPEN || s == NETPROT_SEC_WEP;
}

/* Case-insensitive: w occurs in s as a whole word (words split at blanks and '/'). */
static bool has_word(const char *s, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = s; *p; p++) {
        if (strncasecmp(p, w, n))
            continue;
        bool start = p == s || isspace((unsigned char)p[-1]) || p[-1] == '/';
        bool end = !p[n] || isspace((unsigned char)p[n]) || p[n] == '/';
        if (start && end)
            return true;
    }
    return false;
}

enum netprot_sec netprot_sec_from_nmcli(const char *s)
{
    while (s && isspace((unsigned char)*s))
        s++;
    if (!s || !*s || !strcmp(s, "--"))
        return NETPROT_SEC_OPEN;
    if (has_word(s, "WPA3") || has_word(s, "SAE") || has_word(s, "OWE"))
        return NETPROT_SEC_WPA3; /* OWE ("enhanced open") is encrypted: not an open network */
    if (has_word(s, "WPA2") || has_word(s, "802.1X"))
        return NETPROT_SEC_WPA2;
    if (has_word(s, "WPA1") || has_word(s, "WPA"))
        return NETPROT_SEC_WPA;
    if (has_word(s, "WEP"))
        return NETPROT_SEC_WEP;
    return NETPROT_SEC_UNKNOWN;
}

/*
 * Splits one terse line into at most max fields, unescaping "\:" and "\\".
 * How many fields there were (max + 1 for "too many"); a field of 130 bytes
 * or more makes the line malformed (-1).
 */
static int split_terse(const char *line, size_t len, char fields[][130], int max)
{
    int nf = 0;
    size_t o = 0;
    fields[0][0] = '\0';
    for (size_t i = 0; i < len; i++) {
        char ch = line[i];
        if (ch == '\\' && i + 1 < len) {
            ch = line[++i];
        } else if (ch == ':') {
            fields[nf][o] = '\0';
            if (++nf >= max)
                return max + 1;
            o = 0;
            fields[nf][0] = '\0';
            continue;
        }
        if (o + 1 >= 130)
            return -1;
        fields[nf][o++] = ch;
    }
    fields[nf][o] = '\0';
    return nf + 1;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int netprot_hex_ssid(const char *hex, char *out, size_t n)
{
    size_t len = strlen(hex), o = 0;
    if (len % 2 || len / 2 > 32 || len / 2 >= n)
        return RG_EINVAL;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);
        if (hi < 0 || lo < 0)
            return RG_EINVAL;
        unsigned char b = (unsigned char)(hi << 4 | lo);
        out[o++] = b < 0x20 || b == 0x7f ? '?' : (char)b; /* no NUL, newline or other control byte in a name */
    }
    out[o] = '\0';
    return 0;
}

/* Copies src into dst (n bytes), cut if longer. */
static void copy(char *dst, size_t n, const char *src)
{
    size_t len = strnlen(src, n - 1);
    memcpy(dst, src, len);
    dst[len] = '\0';
}

int netprot_nmcli_parse(const char *text, struct netprot_wifi *out)
{
    memset(out, 0, sizeof *out);
    out->sec = NETPROT_SEC_NONE;
    snprintf(out->source, sizeof out->source, "nmcli");
    const char *p = text ? text : "";
    int rc = RG_ENOTFOUND;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len && p[len - 1] == '\r')
            len--;
        char f[4][130], ssid[33];
        /* a malformed line (not four fields, an SSID that is not hex) is skipped, not fatal */
        if (len && rc == RG_ENOTFOUND && split_terse(p, len, f, 4) == 4 && !strcmp(f[0], "yes") &&
            !netprot_hex_ssid(f[1], ssid, sizeof ssid)) {
            copy(out->ssid, sizeof out->ssid, ssid);
            copy(out->bssid, sizeof out->bssid, f[2]);
            out->sec = netprot_sec_from_nmcli(f[3]);
            rc = 0;
        }
        p += len;
        while (*p == '\r' || *p == '\n')
            p++;
    }
    return rc;
}

int netprot_nmcli_read(struct netprot_wifi *out)
{
    int pfd[2];
    if (pipe(pfd))
        return RG_EIO;
    fcntl(pfd[0], F_SETFD, FD_CLOEXEC);
    fcntl(pfd[1], F_SETFD, FD_CLOEXEC);
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return RG_EIO;
    }
    if (pid == 0) { /* the child: only async-signal-safe calls until exec */
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        dup2(pfd[1], 1);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 2);
        }
        static char *const argv[] = {"nmcli", "-t", "-f", "ACTIVE,SSID-HEX,BSSID,SECURITY", "dev", "wifi", NULL};
        static char *const envp[] = {"LC_ALL=C", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                     NULL};
        execve("/usr/bin/nmcli", argv, envp);
        execve("/bin/nmcli", argv, envp);
        execve("/usr/local/bin/nmcli", argv, envp);
        _exit(127);
    }
    close(pfd[1]);
    struct buf b = BUF_INIT(1 << 20);
    uint64_t deadline = util_mono_ns() / 1000000u + NETPROT_NMCLI_TIMEOUT_MS;
    int rc = 0;
    for (;;) {
        int64_t left = (int64_t)(deadline - util_mono_ns() / 1000000u);
        if (left <= 0) {
            rc = RG_EIO;
            break;
        }
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        int k = poll(&p, 1, (int)left);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            rc = RG_EIO;
            break;
        }
        char tmp[4096];
        ssize_t n = read(pfd[0], tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (buf_append(&b, tmp, (size_t)n)) {
            rc = RG_EINVAL;
            break;
        }
    }
    close(pfd[0]);
    if (rc)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!rc && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
        rc = RG_ENOTFOUND; /* 127: not installed; 8: NetworkManager not running; others: no Wi-Fi device */
    if (!rc)
        rc = netprot_nmcli_parse(b.data ? b.data : "", out);
    buf_release(&b);
    return rc;
}

void netprot_wifi_key(const char *ssid, const char *bssid, char *out, size_t n)
{
    struct buf b = BUF_INIT(0);
    char h[UTIL_SHA256_HEX_LEN + 1] = "";
    if (!buf_printf(&b, "%s\n%s", ssid ? ssid : "", bssid ? bssid : ""))
        util_sha256_hex(b.data, b.len, h, sizeof h);
    buf_release(&b);
    snprintf(out, n, "wifi:%s", h);
}
