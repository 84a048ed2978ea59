#!/usr/bin/env bash
# riskgate-agent web protection, for real: the real riskgated, an activated agent whose DNS filter
# listens on a high loopback port, a tiny real upstream (tests/integration/dns_upstream.py, python3
# stdlib), real dig and curl:
#   blocked domain and subdomain -> the sinkhole; other names -> the upstream's answer byte for byte;
#   Allowed beats Block; the block page names the indicator's title; Warn's "Continue anyway"
#   unblocks and the server shows a Low phishingOverridden alert, a plain block an Informational
#   phishing one; a new indicator applies without restart; DefenderExcludeURLInReport keeps the name
#   out of the alert; vpn=0 stops filtering; garbage does not hurt; upstream down -> SERVFAIL.
source "$(dirname "$0")/lib.sh"

AGENT="$RG_BIN_DIR/riskgate-agent"
[ -x "$AGENT" ] || { echo "FAIL: $AGENT not built" >&2; exit 1; }
# dig comes with scripts/install-deps.sh (Debian dnsutils): without it the test fails, never passes
command -v dig >/dev/null || { echo "FAIL: dig not installed (Debian dnsutils; scripts/install-deps.sh installs it)" >&2; exit 1; }
HERE=$(cd "$(dirname "$0")" && pwd)
ST="$RG_TMP/agent"
LOG="$RG_TMP/agent.log"
AG_PID=
UP_PID=
: >"$LOG"
wp_cleanup() {
  for p in "$AG_PID" "$UP_PID"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then kill -9 "$p" 2>/dev/null || true; fi
  done
  rg_cleanup
}
trap wp_cleanup EXIT

DNS_PORT=$(free_port)
PAGE_PORT=$(free_port)
UP_PORT=$(free_port)
q() { dig @127.0.0.1 -p "$DNS_PORT" +tries=1 +time=5 +short "$@" 2>&1 | tail -n1; }
status_of() { dig @127.0.0.1 -p "$DNS_PORT" +tries=1 +time=5 "$@" 2>&1 | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }
sinkholed() { [ "$(q "$1")" = 127.0.0.1 ]; }
upstreamed() { [ "$(q "$1")" = 192.0.2.7 ]; }
page() { curl -s -H "Host: $1" "http://127.0.0.1:$PAGE_PORT/"; }
live() { python3 - "$ST/agent.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"status\n")
buf = b""
while not buf.endswith(b"\n"):
    c = s.recv(65536)
    if not c: break
    buf += c
print(buf.decode())
PY
}
alerts_json() { api GET "/api/alerts?\$expand=evidence"; echo "$BODY"; } # Defender lists evidence only when asked
has_alert() { # kind severity
  [ "$(alerts_json | jq --arg d "$DEV" --arg k "$1" --arg s "$2" '[.value[] | select(.machineId == $d and .kind == $k and .severity == $s)] | length')" -ge "${3:-1}" ]
}

rg_start
DAM=/beta/deviceAppManagement
api POST /v1.0/users '{"userPrincipalName":"alice@contoso.com","passwordProfile":{"password":"correct horse battery"}}'
expect_status 201 "user"
alice=$(jq -r .id <<<"$BODY")
api POST /v1.0/groups '{"displayName":"agents"}'
grp=$(jq -r .id <<<"$BODY")
api POST "/v1.0/groups/$grp/members/\$ref" "{\"@odata.id\":\"https://graph.microsoft.com/v1.0/directoryObjects/$alice\"}"
RC=0
echo "correct horse battery" | "$AGENT" --state-dir "$ST" activate --server "$RG_URL" --tenant default \
  --user alice@contoso.com --password-stdin >"$RG_TMP/a.out" 2>&1 || RC=$?
expect_eq "$RC" 0 "activation"
DEV=$(jq -r .deviceId "$ST/state.json")
# The agent reaches the server by a host name only the filter's upstream knows (rg-server.test, from
# dns_upstream.py): its requests must not depend on the system resolver (on a device pointed at the
# filter, that would wait on the agent's own blocked loop).
SRV_NAMED=${RG_URL/127.0.0.1/rg-server.test}
jq --arg s "$SRV_NAMED" '.server = $s' "$ST/state.json" >"$RG_TMP/state.new" && cat "$RG_TMP/state.new" >"$ST/state.json"
expect_eq "$(jq -r .server "$ST/state.json")" "$SRV_NAMED" "server URL by host name"

api POST /api/indicators '{"indicatorValue":"blocked-site.com","indicatorType":"DomainName","action":"Block","title":"Known credential phishing","description":"test","severity":"High"}'
case "$STATUS" in 200 | 201) pass ;; *) fail "Block indicator: $STATUS $BODY" ;; esac
api POST /api/indicators '{"indicatorValue":"ok.blocked-site.com","indicatorType":"DomainName","action":"Allowed","title":"Our page","description":"test"}'
api POST /api/indicators '{"indicatorValue":"warn-site.com","indicatorType":"DomainName","action":"Warn","title":"Dubious downloads","description":"test"}'
api POST /api/indicators '{"indicatorValue":"secret-site.com","indicatorType":"DomainName","action":"Block","title":"Secret test","description":"test"}'

python3 "$HERE/dns_upstream.py" "$UP_PORT" >"$RG_TMP/up.log" 2>&1 &
UP_PID=$!
wait_until 5 grep -q ready "$RG_TMP/up.log" || fail "the test upstream did not start"
"$AGENT" --state-dir "$ST" run --interval 300 --dns-listen "127.0.0.1:$DNS_PORT" --dns-upstream "127.0.0.1:$UP_PORT" \
  --block-page "127.0.0.1:$PAGE_PORT" -v >>"$LOG" 2>&1 &
AG_PID=$!
synced() { [ "$(jq -r '.indicatorCount // 0' "$ST/status.json" 2>/dev/null)" -ge 4 ]; }
wait_until 10 synced || fail "indicators not synced: $(cat "$ST/status.json" 2>/dev/null | head -c 400)"
hb_ok() { jq -e '.lastHeartbeat != null and .serverReachable == true' "$ST/status.json" >/dev/null 2>&1; }
if wait_until 10 hb_ok; then pass; else fail "no heartbeat to $SRV_NAMED: $(head -c 400 "$ST/status.json")"; fi

# ---- blocked, subdomain, Allowed beats Block, upstream answers ----
if wait_until 5 sinkholed blocked-site.com; then pass; else fail "blocked domain: $(q blocked-site.com)"; fi
if sinkholed a.b.blocked-site.com; then pass; else fail "blocked subdomain: $(q a.b.blocked-site.com)"; fi
if upstreamed ok.blocked-site.com; then pass; else fail "Allowed beats Block: $(q ok.blocked-site.com)"; fi
if upstreamed www.example.org; then pass; else fail "forwarded: $(q www.example.org)"; fi
if [ "$(dig @127.0.0.1 -p "$DNS_PORT" +tcp +short blocked-site.com)" = 127.0.0.1 ] &&
   [ "$(dig @127.0.0.1 -p "$DNS_PORT" +tcp +short www.example.org)" = 192.0.2.7 ]; then pass; else fail "TCP"; fi
if sinkholed smartscreentestratings2.net; then pass; else fail "built-in test domain"; fi
# the relayed answer is the upstream's, byte for byte (a query with the same ID straight to the upstream)
if python3 - "$DNS_PORT" "$UP_PORT" <<'PY'
import socket, struct, sys
def ask(port, q):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
    s.sendto(q, ("127.0.0.1", port)); return s.recv(4096)
name = b"".join(bytes([len(l)]) + l for l in b"bytes.example.net".split(b".")) + b"\0"
q = struct.pack("!HHHHHH", 0xbeef, 0x0100, 1, 0, 0, 0) + name + struct.pack("!HH", 1, 1)
a, b = ask(int(sys.argv[1]), q), ask(int(sys.argv[2]), q)
sys.exit(0 if a == b and len(a) > len(q) else 1)
PY
then pass; else fail "the relayed answer differs from the upstream's"; fi

# ---- the block page ----
P=$(page blocked-site.com)
grep -q "blocked by your organization because" <<<"$P" && grep -q "Known credential phishing" <<<"$P" && pass ||
  fail "block page: $P"
grep -q "Continue anyway" <<<"$P" && fail "a Block page offers Continue anyway" || pass
grep -q "known phishing test site" <<<"$(page smartscreentestratings2.net)" && pass || fail "built-in page"

# ---- Warn: the page offers to continue; continuing unblocks and is reported Low ----
if sinkholed warn-site.com; then pass; else fail "warned name: $(q warn-site.com)"; fi
P=$(page warn-site.com)
grep -q "Dubious downloads" <<<"$P" && grep -q "Continue anyway" <<<"$P" && pass || fail "warn page: $P"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Host: blocked-site.com" "http://127.0.0.1:$PAGE_PORT/.riskgate/continue")
expect_eq "$code" 403 "a blocked site cannot be continued"
# another site cannot post the form for the person: without the page's token, or from another origin, 403
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Host: warn-site.com" "http://127.0.0.1:$PAGE_PORT/.riskgate/continue")
expect_eq "$code" 403 "continue without the page's token"
ACTION=$(sed -n 's/.*action="\([^"]*\)".*/\1/p' <<<"$P" | head -n1)
case "$ACTION" in /.riskgate/continue\?t=*) pass ;; *) fail "the form's action: $ACTION" ;; esac
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Host: warn-site.com" -H "Origin: http://evil.example" \
  "http://127.0.0.1:$PAGE_PORT$ACTION")
expect_eq "$code" 403 "continue posted from another site"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Host: warn-site.com" -H "Sec-Fetch-Site: cross-site" \
  -H "Origin: http://warn-site.com" "http://127.0.0.1:$PAGE_PORT$ACTION")
expect_eq "$code" 403 "continue with Sec-Fetch-Site cross-site"
if sinkholed warn-site.com; then pass; else fail "a refused continue unblocked: $(q warn-site.com)"; fi
# the real flow: the page's own form, from the page's origin (the token is used once)
P=$(page warn-site.com)
ACTION=$(sed -n 's/.*action="\([^"]*\)".*/\1/p' <<<"$P" | head -n1)
code=$(curl -s -o "$RG_TMP/cont" -w '%{http_code}' -X POST -H "Host: warn-site.com" -H "Origin: http://warn-site.com" \
  "http://127.0.0.1:$PAGE_PORT$ACTION")
expect_eq "$code" 200 "continue anyway"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Host: warn-site.com" -H "Origin: http://warn-site.com" \
  "http://127.0.0.1:$PAGE_PORT$ACTION")
expect_eq "$code" 403 "a token is good once"
if wait_until 5 upstreamed warn-site.com; then pass; else fail "after Continue anyway: $(q warn-site.com)"; fi
if sinkholed blocked-site.com; then pass; else fail "the override is for that name only"; fi
if wait_until 10 has_alert phishingOverridden Low; then pass; else fail "no Low phishingOverridden alert: $(alerts_json | head -c 600)"; fi
if wait_until 10 has_alert phishing Informational; then pass; else fail "no Informational phishing alert"; fi
alerts_json | grep -q "blocked-site.com" && pass || fail "the alert names the blocked site (URL reports on)"

# ---- a new indicator applies without restart (live long-poll) ----
api POST /api/indicators '{"indicatorValue":"late-site.com","indicatorType":"DomainName","action":"Block","title":"Late","description":"test"}'
if wait_until 5 sinkholed late-site.com; then pass; else fail "new indicator not applied: $(q late-site.com)"; fi

# ---- garbage does not hurt ----
python3 - "$DNS_PORT" <<'PY'
import os, random, socket, sys
random.seed(7)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(300):
    s.sendto(os.urandom(random.randint(0, 600)), ("127.0.0.1", int(sys.argv[1])))
s.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01", ("127.0.0.1", int(sys.argv[1])))
t = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); t.sendall(b"\xff\xff" + os.urandom(100)); t.close()
PY
if upstreamed www.example.org && sinkholed blocked-site.com; then pass; else fail "after garbage"; fi
live | jq -e '.dnsFilter.queries > 300 and .dnsFilter.blocked >= 1 and .dnsFilter.forwarded >= 1 and .dnsFilter.formerr >= 1' >/dev/null &&
  pass || fail "dnsFilter counters: $(live | jq -c .dnsFilter)"

# ---- DefenderExcludeURLInReport, then vpn=0, through an app configuration targeting the agent ----
cfg_body() { echo "{\"displayName\":\"web\",\"customSettings\":[{\"name\":\"DefenderMAMConfigs\",\"value\":\"1\"}$1]}"; }
api POST "$DAM/targetedManagedAppConfigurations" "$(cfg_body ',{"name":"DefenderExcludeURLInReport","value":"1"}')"
cfg=$(jq -r .id <<<"$BODY")
api POST "$DAM/targetedManagedAppConfigurations/$cfg/targetApps" '{"apps":[{"mobileAppIdentifier":{"@odata.type":"#microsoft.graph.androidMobileAppIdentifier","packageId":"org.riskgate.agent"}}]}'
api POST "$DAM/targetedManagedAppConfigurations/$cfg/assign" "{\"assignments\":[{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$grp\"}}]}"
setting_is() { [ "$(live | jq -r --arg k "$1" '.settings[$k] // empty')" = "$2" ]; }
if wait_until 10 setting_is DefenderExcludeURLInReport 1; then pass; else fail "DefenderExcludeURLInReport not applied"; fi
n_before=$(alerts_json | jq --arg d "$DEV" '[.value[] | select(.machineId == $d and .kind == "phishing")] | length')
sinkholed secret-site.com && pass || fail "secret-site blocked"
if wait_until 10 has_alert phishing Informational $((n_before + 1)); then pass; else fail "no alert for the hidden name"; fi
alerts_json | grep -q "secret-site" && fail "DefenderExcludeURLInReport: the name reached the server" || pass
grep -q "secret-site" "$RG_TMP/daemon.log" && fail "the name is in the server's log" || pass

api PATCH "$DAM/targetedManagedAppConfigurations/$cfg" "$(cfg_body ',{"name":"vpn","value":"0"}')"
if wait_until 10 setting_is vpn 0; then pass; else fail "vpn=0 not applied"; fi
if wait_until 3 upstreamed blocked-site.com; then pass; else fail "vpn=0 still filters: $(q blocked-site.com)"; fi
live | jq -e '.dnsFilter.filtering == false and .webProtection.state == "on"' >/dev/null && pass ||
  fail "status with vpn=0: $(live | jq -c '.webProtection')"

# ---- upstream down: SERVFAIL (the filter answers it after its own 2 s; dig waits 5 s at most) ----
kill "$UP_PID"; wait "$UP_PID" 2>/dev/null || true; UP_PID=
t0=$(date +%s%3N)
st=$(status_of down.example.org)
t1=$(date +%s%3N)
expect_eq "$st" SERVFAIL "upstream down"
echo "info: SERVFAIL came after $((t1 - t0)) ms"

kill -TERM "$AG_PID"
rc=0
wait "$AG_PID" || rc=$?
AG_PID=
expect_eq "$rc" 0 "agent exit status"
grep -q "ERROR: \|runtime error" "$LOG" && fail "sanitizer report: $(grep -m3 'ERROR\|runtime error' "$LOG")" || pass
finish
