#!/usr/bin/env bash
# riskgate-agent live updates: the running daemon keeps one GET /device/v1/wait
# open, so server-side changes reach it within seconds although its scan
# interval (300 s) and heartbeat interval (60 s) are far longer:
#   (1) a FileSha256 Block indicator for a file already in a scanned folder -> alert
#   (2) a DomainName Block indicator -> check-url through the daemon blocks a subdomain
#   (3) DefenderDeviceTag in an app configuration targeting the agent -> machineTags
# and while the wait is pending the socket keeps answering and scans keep
# running; when the server goes away the agent backs off instead of looping.
# Prints the measured latencies.
source "$(dirname "$0")/lib.sh"

AGENT="$RG_BIN_DIR/riskgate-agent"
[ -x "$AGENT" ] || { echo "FAIL: $AGENT not built" >&2; exit 1; }
ST="$RG_TMP/agent"
SCAN="$RG_TMP/scan"
LOG="$RG_TMP/agent.log"
AG_PID=
mkdir -p "$SCAN"
: >"$LOG"
ag_cleanup() {
  if [ -n "$AG_PID" ] && kill -0 "$AG_PID" 2>/dev/null; then kill -9 "$AG_PID" 2>/dev/null || true; fi
  rg_cleanup
}
trap ag_cleanup EXIT

# until_ms LIMIT_MS CMD...: polls CMD every 20 ms; sets MS to the time it took; returns 1 past the limit.
until_ms() {
  local limit=$1 t0 now
  shift
  t0=$(date +%s%3N)
  while :; do
    if "$@"; then MS=$(($(date +%s%3N) - T0)); return 0; fi
    now=$(date +%s%3N)
    if [ $((now - t0)) -ge "$limit" ]; then MS=$((now - T0)); return 1; fi
    sleep 0.02
  done
}
now_ms() { date +%s%3N; }
waiters() { curl -s "$RG_URL/metrics" | sed -n 's/^riskgate_waiters //p'; }
one_waiter() { [ "$(waiters)" = 1 ]; }
live_state() { jq -r '.liveUpdates.state // "none"' "$ST/status.json" 2>/dev/null; }
live_waiting() { [ "$(live_state)" = waiting ]; }
agent_cpu_ticks() { awk '{print $14 + $15}' /proc/"$AG_PID"/stat; }
put_eicar() { printf '%s%s\r\n' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' >"$1"; }
alerts_for() {
  api GET /api/alerts
  N=$(jq --arg d "$DEV" --arg s "$1" '[.value[] | select(.machineId == $d and .status == $s)] | length' <<<"$BODY")
}
has_new_alert() { alerts_for New; [ "$N" -ge 1 ]; }
no_new_alert() { alerts_for New; [ "$N" -eq 0 ]; }
evil_alert() {
  api GET /api/alerts
  [ "$(jq --arg d "$DEV" '[.value[] | select(.machineId == $d and .status == "New" and (.title | contains("Live evil")))] | length' <<<"$BODY")" -ge 1 ]
}
subdomain_blocked() { ag check-url https://login.live-evil.example.com/x; [ "$RC" = 1 ]; }
has_tag() {
  api GET "/api/machines/$DEV"
  jq -e --arg t "$1" '.machineTags | index($t) != null' >/dev/null <<<"$BODY"
}
lacks_tag() { ! has_tag "$1"; }

rg_start
DAM=/beta/deviceAppManagement
# the endpoints the live updates use must be there: a 404 is a router regression, not a skip
require_endpoint GET /device/v1/wait
require_endpoint POST /device/v1/activate
require_endpoint POST /api/indicators

# ---- a user in a group the agent's app configuration will target; activation ----
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
CRED=$(jq -r .credential "$ST/state.json")
DEV=$(jq -r .deviceId "$ST/state.json")

# ---- the daemon: scans every 300 s, heartbeats every 60 s; a file is in the folder from the start ----
printf 'a tool the admin will only later call evil\n' >"$SCAN/tool.bin"
evil=$(sha256sum "$SCAN/tool.bin" | cut -d' ' -f1)
"$AGENT" --state-dir "$ST" run --scan "$SCAN" --interval 300 --dns-listen off -v >>"$LOG" 2>&1 &
AG_PID=$!
if wait_until 5 live_waiting; then pass; else fail "the agent does not report a pending wait: $(cat "$ST/status.json" 2>/dev/null)"; fi
if wait_until 3 one_waiter; then pass; else fail "the server does not hold exactly one wait: $(waiters)"; fi
jq -e '.scan.files >= 1 and .scan.intervalSeconds == 300' >/dev/null "$ST/status.json" && pass \
  || fail "the first scan saw the file: $(jq -c .scan "$ST/status.json")"
no_new_alert && pass || fail "no alert before the indicator"
hb0=$(jq -r .lastHeartbeat "$ST/status.json")

# ---- while the wait is pending, the socket answers at once ----
t0=$(now_ms)
ag hello
t1=$(now_ms)
expect_eq "$RC" 0 "hello while waiting"
expect_eq "$(jq -r .activated <<<"$AOUT")" true "hello: activated"
[ $((t1 - t0)) -lt 1000 ] && pass || fail "hello took $((t1 - t0)) ms while a wait is pending"
ag status
grep -q "^Live updates: *on" <<<"$AOUT" && pass || fail "status: live updates on: $AOUT"
echo "hello through the socket while a wait is pending: $((t1 - t0)) ms"

# ---- and scans still run: an EICAR file + rescan, alert, removal, resolved ----
put_eicar "$SCAN/eicar.com"
ag rescan
expect_eq "$RC" 0 "rescan while waiting"
if wait_until 4 has_new_alert; then pass; else fail "no EICAR alert from a rescan while a wait is pending"; fi
rm "$SCAN/eicar.com"
ag rescan
if wait_until 4 no_new_alert; then pass; else fail "the EICAR alert is not resolved"; fi
if wait_until 3 one_waiter; then pass; else fail "still one wait after the rescans: $(waiters)"; fi

# ---- (1) a file indicator for the file already there: alert without any rescan request ----
T0=$(now_ms)
api POST /api/indicators "{\"indicatorValue\":\"$evil\",\"indicatorType\":\"FileSha256\",\"action\":\"Block\",\"title\":\"Live evil tool\",\"description\":\"test\",\"severity\":\"High\"}"
expect_status 200 "file indicator"
if until_ms 3000 evil_alert; then pass; else fail "no alert within 3 s of the file indicator ($MS ms)"; fi
LAT_FILE=$MS
echo "file indicator -> alert on the server: ${LAT_FILE} ms"

# ---- (2) a domain indicator: check-url through the running daemon blocks a subdomain ----
ag check-url https://login.live-evil.example.com/x
expect_eq "$RC" 0 "not blocked before the indicator"
T0=$(now_ms)
api POST /api/indicators '{"indicatorValue":"live-evil.example.com","indicatorType":"DomainName","action":"Block","title":"Live evil site","description":"test","severity":"High"}'
expect_status 200 "domain indicator"
if until_ms 2000 subdomain_blocked; then pass; else fail "check-url not blocked within 2 s ($MS ms): $AOUT"; fi
LAT_URL=$MS
grep -q "^Block: DomainName live-evil.example.com (Live evil site)" <<<"$AOUT" && pass || fail "check-url: $AOUT"
# the same question straight on the daemon's socket (no CLI, so no one-shot sync of its own)
raw=$(python3 - "$ST/agent.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b"check-url https://login.live-evil.example.com/x\n")
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(4096)
    if not chunk:
        break
    buf += chunk
print(buf.decode().strip())
PY
)
expect_eq "$(jq -r '.action + " " + .indicatorValue' <<<"$raw")" "Block live-evil.example.com" "the daemon's socket answers Block"
echo "domain indicator -> check-url blocks through the daemon: ${LAT_URL} ms"

# ---- (3) DefenderDeviceTag in a configuration that targets the agent ----
T0=$(now_ms)
api POST "$DAM/targetedManagedAppConfigurations" '{"displayName":"live","customSettings":[{"name":"DefenderMAMConfigs","value":"1"},{"name":"DefenderDeviceTag","value":"live-tag"}]}'
expect_status 201 "app configuration"
cfg=$(jq -r .id <<<"$BODY")
api POST "$DAM/targetedManagedAppConfigurations/$cfg/targetApps" '{"apps":[{"mobileAppIdentifier":{"@odata.type":"#microsoft.graph.androidMobileAppIdentifier","packageId":"org.riskgate.agent"}}]}'
api POST "$DAM/targetedManagedAppConfigurations/$cfg/assign" "{\"assignments\":[{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$grp\"}}]}"
expect_status 204 "assigned"
if until_ms 3000 has_tag live-tag; then pass; else fail "tag not on the machine within 3 s ($MS ms): $BODY"; fi
LAT_TAG=$MS
echo "DefenderDeviceTag (create + target + assign) -> machineTags: ${LAT_TAG} ms"
T0=$(now_ms)
api PATCH "$DAM/targetedManagedAppConfigurations/$cfg" '{"customSettings":[{"name":"DefenderMAMConfigs","value":"1"},{"name":"DefenderDeviceTag","value":"live-tag-2"}]}'
expect_status 204 "tag changed"
if until_ms 3000 has_tag live-tag-2; then pass; else fail "changed tag not on the machine within 3 s ($MS ms): $BODY"; fi
LAT_TAG2=$MS
lacks_tag live-tag && pass || fail "the old configuration tag is gone: $BODY"
echo "DefenderDeviceTag changed -> machineTags: ${LAT_TAG2} ms"
config_fetched() { [ "$(jq -r '.settings.DefenderDeviceTag // ""' "$ST/status.json")" = live-tag-2 ]; }
if wait_until 3 config_fetched; then pass; else fail "the agent refetched the configuration: $(jq -c .settings "$ST/status.json")"; fi

# ---- the periodic work cannot explain it; nothing looped ----
jq -e '.scan.intervalSeconds == 300' >/dev/null "$ST/status.json" && pass || fail "scan interval 300"
changes=$(jq -r .liveUpdates.changes "$ST/status.json")
[ "$changes" -ge 3 ] && [ "$changes" -le 20 ] && pass || fail "live changes seen: $changes (expected a handful)"
grep -q "live updates: the server reports a change (indicators)" "$LOG" && pass || fail "log: indicator change"
grep -q "live updates: the server reports a change (config)" "$LOG" && pass || fail "log: config change"
[ "$(jq -r .lastHeartbeat "$ST/status.json")" != "$hb0" ] && pass || fail "heartbeats were sent for the changes"
if wait_until 3 one_waiter; then pass; else fail "one wait re-armed after the changes: $(waiters)"; fi
echo "live changes acted on: $changes"

# ---- the server goes away: the wait backs off (1 s, 2 s, 4 s ...) instead of looping ----
# At SIGTERM riskgated answers the pending wait {"changed":false}; the agent re-arms at once and
# gets a 503 (shutting down) or a refused connection, then retries after 1 s, 2 s, 4 s.
# a wait must be held when the server stops (the agent may still be re-arming after the last change)
wait_until 5 one_waiter || fail "no wait held before the server stops: $(waiters)"
cpu0=$(agent_cpu_ticks)
# The agent holds an idle keep-alive connection: riskgated stops accepting at once, answers the
# wait, and exits cleanly once h2o closes that idle connection (at most ~10 s later).
kill -TERM "$RG_PID"
sleep 5
retries=$(grep -c "live updates: .*; retrying in" "$LOG" || true)
cpu1=$(agent_cpu_ticks)
srv_rc=0
wait "$RG_PID" || srv_rc=$?
RG_PID=
expect_eq "$srv_rc" 0 "riskgated exits cleanly on SIGTERM with the agent's connection open"
[ "$retries" -ge 2 ] && [ "$retries" -le 4 ] && pass || fail "backoff: $retries failed waits in 5 s (expected 2 to 4)"
[ $((cpu1 - cpu0)) -le 50 ] && pass || fail "the agent used $((cpu1 - cpu0)) CPU ticks in 5 s with the server down"
grep -q "retrying in 1 s" "$LOG" && grep -q "live updates: cannot reach .*retrying in 2 s" "$LOG" \
  && grep -q "live updates: cannot reach .*retrying in 4 s" "$LOG" && pass \
  || fail "backoff delays 1 s, 2 s, 4 s: $(grep 'live updates' "$LOG" | tail -5)"
grep -q 'live updates: nothing changed; waiting again' "$LOG" && pass \
  || fail "the shutdown's {\"changed\":false} re-armed the wait"
echo "server down for 5 s: $retries failed waits, $((cpu1 - cpu0)) CPU ticks; $(grep -o 'retrying in [0-9]* s' "$LOG" | tr '\n' ' ')"
ag hello
expect_eq "$RC" 0 "hello while the server is down"
expect_eq "$(jq -r .liveUpdates.state "$ST/status.json")" retrying "status says retrying"
ag status
grep -q "^Live updates: *retrying (last problem: cannot reach" <<<"$AOUT" && pass || fail "status: live updates retrying: $AOUT"

kill -TERM "$AG_PID"
rc=0
wait "$AG_PID" || rc=$?
AG_PID=
expect_eq "$rc" 0 "the daemon exits 0 on SIGTERM"
for f in "$LOG" "$ST/status.json"; do
  if grep -qF -e "$CRED" "$f"; then fail "the credential appears in $(basename "$f")"; else pass; fi
done
printf 'latencies: file indicator %s ms, domain indicator %s ms, device tag %s ms (changed: %s ms)\n' \
  "$LAT_FILE" "$LAT_URL" "$LAT_TAG" "$LAT_TAG2"
finish
