/*
 * fuzz_nmcli.c: libFuzzer target for the agent's reading of NetworkManager's
 * output (src/agent/netprot_wifi.c): netprot_nmcli_parse on what
 * `nmcli -t -f ACTIVE,SSID-HEX,BSSID,SECURITY dev wifi` prints (terse fields,
 * "\:" escapes, the SSID in hex), netprot_sec_from_nmcli on each line,
 * netprot_hex_ssid and netprot_wifi_key on what was found. nmcli's output is
 * local, but the SSID is whatever a nearby access point broadcasts.
 * The input is nmcli's output (text; it stops at a NUL, as the reader does).
 * Checks: 0 or RG_ENOTFOUND; a network found has source "nmcli", a known
 * security value, an SSID of at most 32 bytes without control bytes, a BSSID
 * that fits its field; none found is NETPROT_SEC_NONE; the same text parses
 * the same; the key is "wifi:" and 64 hex digits.
 */
#include "agent/netprot.h"
#include "common/err.h"
#include "fuzz.h"

static void check_text(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    FUZZ_CHECK(n < cap);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    if (!text)
        return 0;
    struct netprot_wifi w, again;
    int rc = netprot_nmcli_parse(text, &w);
    FUZZ_CHECK(rc == 0 || rc == RG_ENOTFOUND);
    FUZZ_CHECK(!strcmp(w.source, "nmcli"));
    if (rc == 0) {
        FUZZ_CHECK(w.sec >= NETPROT_SEC_UNKNOWN && w.sec <= NETPROT_SEC_WPA3 && w.sec != NETPROT_SEC_NONE);
        check_text(w.ssid, 33);
        FUZZ_CHECK(memchr(w.bssid, '\0', sizeof w.bssid));
        FUZZ_CHECK(netprot_sec_name(w.sec));
        char key[80];
        netprot_wifi_key(w.ssid, w.bssid, key, sizeof key);
        FUZZ_CHECK(strlen(key) == 5 + 64 && !strncmp(key, "wifi:", 5));
        for (size_t i = 5; key[i]; i++)
            FUZZ_CHECK((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f'));
    } else {
        FUZZ_CHECK(w.sec == NETPROT_SEC_NONE);
    }
    FUZZ_CHECK(netprot_nmcli_parse(text, &again) == rc && !memcmp(&w, &again, sizeof w));
    /* each line's last field as a SECURITY column, each line as an SSID in hex */
    char *line = text;
    while (line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        const char *last = strrchr(line, ':');
        enum netprot_sec s = netprot_sec_from_nmcli(last ? last + 1 : line);
        FUZZ_CHECK(s >= NETPROT_SEC_UNKNOWN && s <= NETPROT_SEC_WPA3 && s != NETPROT_SEC_NONE);
        char ssid[33];
        if (!netprot_hex_ssid(line, ssid, sizeof ssid))
            check_text(ssid, sizeof ssid);
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    return 0;
}
