#!/usr/bin/env bash
# riskgate-agent end to end against the real riskgated: activation (a wrong
# password exits 4, state.json 0600, the credential never printed or logged),
# the heartbeat makes the device appear in /api/machines, an EICAR file in a
# scanned folder opens a Medium alert and raises the machine's riskScore, its
# removal resolves it; status in plain words; the local socket (hello,
# check-url, rescan) and SIGHUP; configuration keys (DefenderExcludeAppInReport,
# DefenderOptionalVPN, DisableSignOut); file and URL indicators (the device
# API and the indicator sync must be there: a 404 fails); sign-out; exit codes.
source "$(dirname "$0")/lib.sh"

AGENT="$RG_BIN_DIR/riskgate-agent"
[ -x "$AGENT" ] || { echo "FAIL: $AGENT not built" >&2; exit 1; }
ST="$RG_TMP/agent"
SCAN="$RG_TMP/scan"
OUT="$RG_TMP/agent-out.txt" # every output of every agent command, to look for the credential
AG_PID=
mkdir -p "$SCAN"
: >"$OUT"
: >"$RG_TMP/agent.log"
ag_cleanup() {
  if [ -n "$AG_PID" ] && kill -0 "$AG_PID" 2>/dev/null; then kill -9 "$AG_PID" 2>/dev/null || true; fi
  rg_cleanup
}
trap ag_cleanup EXIT

# ag ARGS...: runs the agent on the test's state folder; sets RC, AOUT (stdout) and AERR (stderr).
ag() {
  RC=0
  "$AGENT" --state-dir "$ST" "$@" >"$RG_TMP/a.out" 2>"$RG_TMP/a.err" </dev/null || RC=$?
  AOUT=$(cat "$RG_TMP/a.out")
  AERR=$(cat "$RG_TMP/a.err")
  cat "$RG_TMP/a.out" "$RG_TMP/a.err" >>"$OUT"
}
# ag_start [run flags...]: the daemon in the background, scanning $SCAN; waits for its socket. Web protection's
# DNS filter listens on a free port of its own, not on run's default 127.0.0.2:53 (which tests running in
# parallel, or as root, would fight over), and without the block page (port 80).
AG_DNS_PORT=$(free_port)
ag_start() {
  "$AGENT" --state-dir "$ST" run --scan "$SCAN" --dns-listen "127.0.0.1:$AG_DNS_PORT" --block-page off "$@" \
    >>"$RG_TMP/agent.log" 2>&1 &
  AG_PID=$!
  local i
  for i in $(seq 1 100); do
    [ -S "$ST/agent.sock" ] && return 0
    kill -0 "$AG_PID" 2>/dev/null || break
    sleep 0.05
  done
  cat "$RG_TMP/agent.log" >&2
  fail "the agent daemon did not start"
  exit 1
}
# ag_stop: SIGTERM; the daemon must exit 0 and remove its socket.
ag_stop() {
  kill -TERM "$AG_PID"
  local rc=0
  wait "$AG_PID" || rc=$?
  AG_PID=
  expect_eq "$rc" 0 "the daemon exits 0 on SIGTERM"
  [ ! -e "$ST/agent.sock" ] && pass || fail "the socket is removed at exit"
}
# wait_until SECONDS CMD...: polls CMD every 0.1 s; returns 1 on timeout.
put_eicar() { printf '%s%s\r\n' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' >"$1"; }
put_eicar "$RG_TMP/eicar.ref"
EICAR_SHA256=$(sha256sum "$RG_TMP/eicar.ref" | cut -d' ' -f1) # with its trailing CR LF
# alerts_for STATUS: how many of the device's alerts have that status (sets N)
alerts_for() {
  api GET "/api/alerts?\$expand=evidence"
  N=$(jq --arg d "$DEV" --arg s "$1" '[.value[] | select(.machineId == $d and .status == $s)] | length' <<<"$BODY")
}
has_new_alert() { alerts_for New; [ "$N" -ge 1 ]; }
no_new_alert() { alerts_for New; [ "$N" -eq 0 ]; }
machine_risk_is() {
  api GET "/api/machines/$DEV"
  [ "$(jq -r .riskScore <<<"$BODY")" = "$1" ]
}

rg_start
DAM=/beta/deviceAppManagement

# ---- usage and unreachable server: no server endpoint needed ----
ag bogus-command
expect_eq "$RC" 2 "unknown command exits 2"
ag activate --server "$RG_URL"
expect_eq "$RC" 2 "activate without a tenant exits 2"
ag run --interval 0
expect_eq "$RC" 2 "bad --interval exits 2"
ag status
expect_eq "$RC" 0 "status before activation"
grep -q "installed but not activated" <<<"$AOUT" && pass || fail "status says not activated: $AOUT"
ag hello
expect_eq "$RC" 1 "hello without a daemon exits 1"
RC=0
echo "pw" | "$AGENT" --state-dir "$ST" activate --server http://127.0.0.1:1 --tenant default --user a@x.y \
  --password-stdin >>"$OUT" 2>&1 || RC=$?
expect_eq "$RC" 3 "activation against a closed port exits 3"

# the device API must be there: a 404 is a router regression, not a reason to skip
require_endpoint POST /device/v1/activate

# ---- a user with a password, in a group the agent's app configuration targets ----
api POST /v1.0/users '{"userPrincipalName":"alice@contoso.com","passwordProfile":{"password":"correct horse battery"}}'
expect_status 201 "user with a password"
alice=$(jq -r .id <<<"$BODY")
api POST /v1.0/groups '{"displayName":"agents"}'
grp=$(jq -r .id <<<"$BODY")
api POST "/v1.0/groups/$grp/members/\$ref" "{\"@odata.id\":\"https://graph.microsoft.com/v1.0/directoryObjects/$alice\"}"

# ---- activation ----
RC=0
echo "wrong password!" | "$AGENT" --state-dir "$ST" activate --server "$RG_URL" --tenant default \
  --user alice@contoso.com --password-stdin >"$RG_TMP/a.out" 2>&1 || RC=$?
cat "$RG_TMP/a.out" >>"$OUT"
expect_eq "$RC" 4 "a wrong password exits 4"
grep -q "refused" "$RG_TMP/a.out" && pass || fail "says the sign-in was refused: $(cat "$RG_TMP/a.out")"
[ ! -e "$ST/state.json" ] && pass || fail "no state.json after a refused sign-in"

RC=0
echo "correct horse battery" | "$AGENT" --state-dir "$ST" activate --server "$RG_URL" --tenant default \
  --user alice@contoso.com --password-stdin --skip-vpn >"$RG_TMP/a.out" 2>&1 || RC=$?
cat "$RG_TMP/a.out" >>"$OUT"
expect_eq "$RC" 0 "activation with a password"
grep -q "does not let you skip the VPN" "$RG_TMP/a.out" && pass || fail "--skip-vpn refused without DefenderOptionalVPN: $(cat "$RG_TMP/a.out")"
expect_eq "$(stat -c %a "$ST/state.json")" 600 "state.json mode 0600"
CRED=$(jq -r .credential "$ST/state.json")
DEV=$(jq -r .deviceId "$ST/state.json")
[[ $CRED == rgd_* ]] && pass || fail "a device credential in state.json"
expect_eq "$(jq -r .vpnSkipped "$ST/state.json")" false "the VPN was not skipped"
expect_eq "$(jq -r .server "$ST/state.json")" "$RG_URL" "the server URL is stored"

# ---- the daemon: heartbeat, EICAR by the periodic scan, removal ----
api GET "/api/machines/$DEV"
seen0=$(jq -r .lastSeen <<<"$BODY")
sleep 0.05
ag_start --interval 1
heartbeat_seen() {
  api GET /api/machines
  [ "$(jq -r --arg d "$DEV" '.value[] | select(.id == $d) | .lastSeen' <<<"$BODY")" != "$seen0" ]
}
if wait_until 5 heartbeat_seen; then pass; else fail "no heartbeat seen in /api/machines: $BODY"; fi
api GET "/api/machines/$DEV"
expect_eq "$(jq -r '.osPlatform + " " + .healthStatus + " " + .riskScore' <<<"$BODY")" "Linux Active None" \
  "the device in /api/machines after the heartbeat"
ag hello
expect_eq "$RC" 0 "hello through the socket"
expect_eq "$(jq -r '(.installed|tostring) + " " + (.activated|tostring) + " " + .deviceId + " " + .tenant' <<<"$AOUT")" \
  "true true $DEV default" "hello: installed, activated, device id, tenant"
jq -e 'has("agentVersion") and has("threatLevel") and (has("credential") | not)' >/dev/null <<<"$AOUT" && pass \
  || fail "hello fields: $AOUT"
expect_eq "$(stat -c %a "$ST/agent.sock")" 666 "the socket is mode 0666"

put_eicar "$SCAN/eicar.com"
if wait_until 6 has_new_alert; then pass; else fail "no alert within 6 s of the EICAR file: $BODY"; fi
api GET "/api/alerts?\$expand=evidence"
alert=$(jq -c --arg d "$DEV" '[.value[] | select(.machineId == $d and .status == "New")][0]' <<<"$BODY")
expect_eq "$(jq -r .severity <<<"$alert")" Medium "the EICAR alert is Medium"
expect_eq "$(jq -r '.evidence[0].sha256' <<<"$alert")" "$EICAR_SHA256" "evidence sha256"
expect_eq "$(jq -r '.evidence[0].fileName' <<<"$alert")" eicar.com "evidence fileName"
if wait_until 3 machine_risk_is Medium; then pass; else fail "machine riskScore: $BODY"; fi
ag status
expect_eq "$RC" 0 "status with a threat"
grep -q "activated for alice@contoso.com in tenant default" <<<"$AOUT" && pass || fail "status: who: $AOUT"
grep -q "Device id: *$DEV" <<<"$AOUT" && pass || fail "status: device id"
grep -q "Threat level: *Medium" <<<"$AOUT" && pass || fail "status: level Medium: $AOUT"
grep -qF "Delete the file $SCAN/eicar.com (Test Virus), then the level returns to Secured." <<<"$AOUT" && pass \
  || fail "status: what to do: $AOUT"
grep -q "Last heartbeat: *20" <<<"$AOUT" && pass || fail "status: last heartbeat"
grep -q "Web protection: *on" <<<"$AOUT" && pass || fail "status: web protection on"
grep -q "Sign-out: *allowed" <<<"$AOUT" && pass || fail "status: sign-out allowed"
ag status --json # "on" above means the DNS filter really listens (else "partial")
jq -e --arg l "127.0.0.1:$AG_DNS_PORT" '.webProtection.state == "on" and .webProtection.dnsFilter.listening
  and .webProtection.dnsFilter.listen == $l and .webProtection.dnsFilter.filtering' >/dev/null <<<"$AOUT" \
  && pass || fail "status --json: the DNS filter listens and filters: $AOUT"
ag status --json
jq -e --arg d "$DEV" '.activated and .deviceId == $d and (.threats | length) == 1 and .daemon.running' >/dev/null <<<"$AOUT" \
  && pass || fail "status --json: $AOUT"

rm "$SCAN/eicar.com"
if wait_until 6 no_new_alert; then pass; else fail "the alert is not resolved within 6 s of the removal"; fi
alerts_for Resolved
expect_eq "$N" 1 "the alert is Resolved"
if wait_until 3 machine_risk_is None; then pass; else fail "machine risk after remediation: $BODY"; fi
ag status
grep -q "Threat level: *Secured" <<<"$AOUT" && pass || fail "status: level back to Secured: $AOUT"
grep -q "Threats: *none found" <<<"$AOUT" && pass || fail "status: no threat left: $AOUT"

# ---- check-url: the built-in test domain through the daemon ----
ag check-url https://smartscreentestratings2.net/
expect_eq "$RC" 1 "the test phishing domain is blocked"
grep -q "^Block" <<<"$AOUT" && pass || fail "check-url prints Block: $AOUT"
ag check-url https://www.example.org/
expect_eq "$RC" 0 "an unknown URL is allowed"
expect_eq "$AOUT" "no match" "check-url prints no match"
ag_stop

# ---- SIGHUP and "rescan" act at once, whatever the interval ----
ag_start --interval 3600
sleep 0.3
put_eicar "$SCAN/again.txt"
kill -HUP "$AG_PID"
if wait_until 4 has_new_alert; then pass; else fail "SIGHUP did not rescan"; fi
rm "$SCAN/again.txt"
ag rescan
expect_eq "$RC" 0 "rescan through the socket"
if wait_until 4 no_new_alert; then pass; else fail "\"rescan\" did not rescan"; fi

# ---- configuration keys: hide app details, optional VPN, no sign-out ----
cfgbody='{"displayName":"agent keys","customSettings":[{"name":"DefenderMAMConfigs","value":"1"},{"name":"DefenderExcludeAppInReport","value":"true"},{"name":"DefenderOptionalVPN","value":"1"},{"name":"DisableSignOut","value":"1"}]}'
api POST "$DAM/targetedManagedAppConfigurations" "$cfgbody"
expect_status 201 "app configuration for the agent"
cfg=$(jq -r .id <<<"$BODY")
api POST "$DAM/targetedManagedAppConfigurations/$cfg/targetApps" '{"apps":[{"mobileAppIdentifier":{"@odata.type":"#microsoft.graph.androidMobileAppIdentifier","packageId":"org.riskgate.agent"}}]}'
api POST "$DAM/targetedManagedAppConfigurations/$cfg/assign" "{\"assignments\":[{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$grp\"}}]}"
expect_status 204 "assigned"
kill -HUP "$AG_PID" # heartbeat now: configVersion moved, the configuration is fetched
config_has_keys() { ag status --json; jq -e '.settings.DisableSignOut == "1"' >/dev/null <<<"$AOUT"; }
if wait_until 4 config_has_keys; then pass; else fail "the new configuration was not fetched: $AOUT"; fi
ag status
grep -q "Sign-out: *not allowed by your organization" <<<"$AOUT" && pass || fail "status: sign-out not allowed: $AOUT"
grep -q "not sent with threat reports" <<<"$AOUT" && pass || fail "status: privacy line: $AOUT"
put_eicar "$SCAN/private.com"
ag rescan
if wait_until 4 has_new_alert; then pass; else fail "no alert with app details excluded"; fi
api GET "/api/alerts?\$expand=evidence"
alert=$(jq -c --arg d "$DEV" '[.value[] | select(.machineId == $d and .status == "New")][0]' <<<"$BODY")
jq -e '.evidence[0] | (has("fileName") or has("filePath")) | not' >/dev/null <<<"$alert" && pass \
  || fail "DefenderExcludeAppInReport: no file name or path in the alert: $alert"
expect_eq "$(jq -r '.evidence[0].sha256' <<<"$alert")" "$EICAR_SHA256" "hashes are still reported"
grep -q '"filePath"' "$ST/status.json" && pass || fail "the person still sees the path locally"
if grep -qaF "private.com" "$RG_TMP"/var/riskgate.db* "$RG_TMP/daemon.log"; then
  fail "DefenderExcludeAppInReport: the file name reached the server's database or log"
else pass; fi
rm "$SCAN/private.com"
ag rescan
if wait_until 4 no_new_alert; then pass; else fail "not resolved"; fi

ag vpn off
expect_eq "$RC" 0 "vpn off allowed by DefenderOptionalVPN"
ag status
grep -q "Web protection: *partial" <<<"$AOUT" && pass || fail "web protection partial without the VPN: $AOUT"
ag vpn on
expect_eq "$RC" 0 "vpn on"

ag signout
expect_eq "$RC" 4 "DisableSignOut: signout exits 4"
expect_eq "$AOUT" "Your organization does not allow signing out of riskgate-agent." "DisableSignOut message"
[ "$(jq -r .credential "$ST/state.json")" = "$CRED" ] && pass || fail "the credential stays after a refused sign-out"

# ---- indicators (delta sync) ----
require_endpoint GET /device/v1/indicators
require_endpoint POST /api/indicators
printf 'not really malware, but the admin says so\n' >"$RG_TMP/evil.bin"
evil=$(sha256sum "$RG_TMP/evil.bin" | cut -d' ' -f1)
api POST /api/indicators "{\"indicatorValue\":\"$evil\",\"indicatorType\":\"FileSha256\",\"action\":\"Block\",\"title\":\"Evil tool\",\"description\":\"test\",\"severity\":\"High\"}"
expect_status 200 "file indicator"
api POST /api/indicators '{"indicatorValue":"evil.example.com","indicatorType":"DomainName","action":"Block","title":"Evil site","description":"test","severity":"High"}'
expect_status 200 "domain indicator"
api POST /api/indicators "{\"indicatorValue\":\"$EICAR_SHA256\",\"indicatorType\":\"FileSha256\",\"action\":\"Allowed\",\"title\":\"our test file\",\"description\":\"test\"}"
expect_status 200 "allow indicator for the EICAR file"
kill -HUP "$AG_PID"
synced() { ag status --json; [ "$(jq -r .indicatorCount <<<"$AOUT")" -ge 3 ]; }
if wait_until 4 synced; then pass; else fail "indicators not synced: $AOUT"; fi
ag check-url https://login.evil.example.com/x
expect_eq "$RC" 1 "a subdomain of a blocked domain is blocked"
grep -q "^Block: DomainName evil.example.com (Evil site)" <<<"$AOUT" && pass || fail "check-url: $AOUT"
api POST /api/indicators '{"indicatorValue":"safe.evil.example.com","indicatorType":"DomainName","action":"Allowed","title":"Our page","description":"test"}'
expect_status 200 "allow indicator under the blocked domain"
allowed_synced() { ag check-url https://safe.evil.example.com/; [ "$RC" = 0 ]; }
if wait_until 4 allowed_synced; then pass; else fail "an Allowed indicator does not beat the Block on its parent: $AOUT"; fi
ag check-url https://other.evil.example.com/
expect_eq "$RC" 1 "the rest of the blocked domain stays blocked"
cp "$RG_TMP/evil.bin" "$SCAN/tool.bin"
put_eicar "$SCAN/allowed-eicar.com"
ag rescan
if wait_until 4 has_new_alert; then pass; else fail "no alert for the file indicator"; fi
alerts_for New
expect_eq "$N" 1 "one alert: the Allowed indicator suppresses the EICAR file"
ag status
grep -q "Evil tool" <<<"$AOUT" && pass || fail "status names the indicator's title: $AOUT"
rm "$SCAN/tool.bin" "$SCAN/allowed-eicar.com"
ag rescan
if wait_until 4 no_new_alert; then pass; else fail "file indicator alert not resolved"; fi

# ---- sign-out once allowed ----
api PATCH "$DAM/targetedManagedAppConfigurations/$cfg" '{"customSettings":[{"name":"DefenderMAMConfigs","value":"1"},{"name":"DisableSignOut","value":"0"}]}'
expect_status 204 "DisableSignOut lifted"
ag signout
expect_eq "$RC" 0 "signout once allowed"
jq -e 'has("credential") | not' >/dev/null "$ST/state.json" && pass || fail "the credential is removed from state.json"
expect_eq "$(jq -r .deviceId "$ST/state.json")" "$DEV" "the device id stays for the record"
ag hello
expect_eq "$(jq -r .activated <<<"$AOUT")" false "the daemon sees the sign-out"
ag status
grep -q "signed out" <<<"$AOUT" && pass || fail "status says signed out: $AOUT"
ag_stop

# ---- an enrollment code instead of a password ----
api POST /riskgate/v1/enrollmentCodes '{"userId":"alice@contoso.com","expiresInMinutes":10}'
expect_status 201 "enrollment code"
code=$(jq -r .code <<<"$BODY")
ST2="$RG_TMP/agent2"
RC=0
"$AGENT" --state-dir "$ST2" activate --server "$RG_URL" --tenant default --code "$code" >>"$OUT" 2>&1 || RC=$?
expect_eq "$RC" 0 "activation with an enrollment code"
RC=0
"$AGENT" --state-dir "$ST2" activate --server "$RG_URL" --tenant default --code "$code" >>"$OUT" 2>&1 || RC=$?
expect_eq "$RC" 4 "a used code exits 4"
CRED2=$(jq -r .credential "$ST2/state.json")
rg_stop

# ---- the credential never shows ----
for f in "$OUT" "$RG_TMP/agent.log" "$RG_TMP/daemon.log" "$ST/status.json" "$ST2/status.json"; do
  if grep -qF -e "$CRED" -e "$CRED2" "$f"; then fail "a device credential appears in $(basename "$f")"; else pass; fi
done

finish
