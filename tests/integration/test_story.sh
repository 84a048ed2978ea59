#!/usr/bin/env bash
# The seed's story end to end, with the real riskgated, the real riskgate-agent
# (daemon scanning a folder, its socket in its state folder) and the real
# riskgate-app (libriskgate) on loopback:
#   connector on for Android; a policy for the user's group: max threat level
#   secured, action Block;
#   launch without the agent          -> "Get access" (exit 4)
#   agent running, not activated      -> "Launch App to Check the Security Status" (exit 4)
#   agent activated                   -> allowed (exit 0)
#   the EICAR file appears            -> the running app prints "Access blocked" < 1 s after
#                                        the agent's report was accepted (< 2 s from rescan)
#   the file is removed, recheck      -> allowed
#   action Wipe, EICAR again          -> the running app deletes its corporate data, the
#                                        wipe request reads successful
#   connector off                     -> the threat row is ignored (allowed)
#   max level high                    -> allowed while the agent is active
#   offline within the grace period   -> allowed from the ticket; a tampered ticket -> exit 5
#   offline past the grace period     -> "Internet Connection Required" (exit 5)
#   high, device offboarded           -> refused (exit 4); no agent at all -> "Get access"
# Prints the measured latencies. Offline = the app pointed at a dead port.
source "$(dirname "$0")/lib.sh"

AGENT="$RG_BIN_DIR/riskgate-agent"
APPBIN="$RG_BIN_DIR/riskgate-app"
for b in "$AGENT" "$APPBIN"; do [ -x "$b" ] || { echo "FAIL: $b not built" >&2; exit 1; }; done
DAM=/beta/deviceAppManagement
BUILTIN=fc780465-2017-40d4-a0c5-307022471b92
OUTLOOK=com.microsoft.office.outlook
ST=$RG_TMP/agent       # the agent's state folder
SOCK=$ST/agent.sock    # its broker socket, where the app looks
SCAN=$RG_TMP/downloads # the folder the agent scans
STORE=$RG_TMP/app      # the app's storage folder
DATA=$STORE/corporate-data
AGLOG=$RG_TMP/agent.log
RUNLOG=$RG_TMP/run.log # the running app's lines, each prefixed with the epoch ms it was read
DEAD=http://127.0.0.1:1
AG_PID=
RUN_PID=
mkdir -p "$SCAN"
: >"$AGLOG"
printf 'correct horse battery\n' >"$RG_TMP/pw"

story_cleanup() {
  local p
  for p in "$RUN_PID" "$AG_PID"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then kill -9 "$p" 2>/dev/null || true; fi
  done
  rg_cleanup
}
trap story_cleanup EXIT

now_ms() { local t=$EPOCHREALTIME; echo $((${t%.*} * 1000 + 10#${t#*.} / 1000)); }
# wait_until SECONDS CMD...: polls CMD every 50 ms; returns 1 on timeout.
wait_until() {
  local deadline=$(($(now_ms) + $1 * 1000))
  shift
  while :; do
    if "$@"; then return 0; fi
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}
put_eicar() { printf '%s%s\r\n' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' >"$1"; }
# ra ARGS...: riskgate-app on the test's storage and the agent's socket; sets RC, OUT.
ra() {
  RC=0
  "$APPBIN" --storage "$STORE" --agent-socket "$SOCK" "$@" >"$RG_TMP/app.out" 2>"$RG_TMP/app.err" </dev/null || RC=$?
  OUT=$(cat "$RG_TMP/app.out")
}
# screen: "title | reasonCode | exit" of the last `ra ... --json`
screen() { jq -r '.title + " | " + .reasonCode + " | " + (.exitCode|tostring)' <<<"$OUT"; }
launch_allows() { ra launch --json; [ "$RC" = 0 ]; }
launch_blocks() { ra launch --json; [ "$RC" = 4 ]; }
# reported STATE N: the agent's log holds at least N "reported STATE threat" lines
reported() { [ "$(grep -c "reported $1 threat" "$AGLOG")" -ge "$2" ]; }
nreported() { grep -c "reported $1 threat" "$AGLOG" || true; }
# the epoch ms of the agent's Nth "reported STATE threat" log line (logged once the server answered 200)
reported_ms() {
  local ts
  ts=$(grep "reported $1 threat" "$AGLOG" | sed -n "$2p" | jq -r .time)
  echo $(($(date -d "${ts%0000Z}Z" +%s%3N)))
}
run_lines() { grep -c . "$RUNLOG" 2>/dev/null || true; }
# run_has N PATTERN: a line after the first N of the running app's output matches PATTERN
run_has() { tail -n +"$(($1 + 1))" "$RUNLOG" | grep -q -- "$2"; }
run_line() { tail -n +"$(($1 + 1))" "$RUNLOG" | grep -- "$2" | head -1; }
run_start() {
  : >"$RUNLOG"
  # the reader stamps each line as it arrives (the app flushes every line)
  "$APPBIN" --storage "$STORE" --agent-socket "$SOCK" run --json 2>"$RG_TMP/run.err" </dev/null \
    > >(while IFS= read -r l; do t=$EPOCHREALTIME; printf '%s %s\n' $((${t%.*} * 1000 + 10#${t#*.} / 1000)) "$l"; done >>"$RUNLOG") &
  RUN_PID=$!
  wait_until 5 run_has 0 '"event":"launch"' || { fail "the running app did not launch: $(cat "$RG_TMP/run.err")"; return 1; }
}
run_stop() {
  kill -TERM "$RUN_PID"
  RUN_RC=0
  wait "$RUN_PID" || RUN_RC=$?
  RUN_PID=
}
wipe_successful() {
  api GET /riskgate/v1/wipeRequests
  [ "$(jq -r '[.value[] | select(.status == "successful")] | length' <<<"$BODY")" -ge 1 ]
}

rg_start
# the server key riskgate-app pins, as an admin would build it in (riskgated server-key)
export RISKGATE_SERVER_KEY
RISKGATE_SERVER_KEY=$("$RG_BIN_DIR/riskgated" server-key --signing-key-file "$RG_TMP/var/signing.key")

# ---- the admin: user in a group, policy (secured, Block) for Outlook, connector on ----
api POST /v1.0/users '{"userPrincipalName":"alice@contoso.com","passwordProfile":{"password":"correct horse battery"}}'
expect_status 201 "user"
alice=$(jq -r .id <<<"$BODY")
api POST /v1.0/groups '{"displayName":"mobile"}'
grp=$(jq -r .id <<<"$BODY")
api POST "/v1.0/groups/$grp/members/\$ref" "{\"@odata.id\":\"https://graph.microsoft.com/v1.0/directoryObjects/$alice\"}"
api POST "$DAM/androidManagedAppProtections" '{"displayName":"MTD","maximumAllowedDeviceThreatLevel":"secured","mobileThreatDefenseRemediationAction":"block"}'
expect_status 201 "policy"
pol=$(jq -r .id <<<"$BODY")
api POST "$DAM/androidManagedAppProtections/$pol/targetApps" "{\"apps\":[{\"mobileAppIdentifier\":{\"@odata.type\":\"#microsoft.graph.androidMobileAppIdentifier\",\"packageId\":\"$OUTLOOK\"}}]}"
api POST "$DAM/androidManagedAppProtections/$pol/assign" "{\"assignments\":[{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$grp\"}}]}"
expect_status 204 "policy assigned to the user's group"
api PATCH "/beta/deviceManagement/mobileThreatDefenseConnectors/$BUILTIN" '{"androidMobileApplicationManagementEnabled":true}'
expect_status 200 "connector on for Android"
api PATCH /riskgate/v1/tenantSettings '{"agentInstallUrl":"https://apps.example.org/riskgate-agent","agentAppName":"riskgate-agent"}'

# ---- no agent: Get access ----
ra --server "$RG_URL" sign-in --user alice@contoso.com --password-file "$RG_TMP/pw" --json
expect_eq "$RC" 4 "sign-in without the agent: blocked"
ra launch --json
expect_eq "$(screen)" "Get access | agentNotInstalled | 4" "launch without the agent"
expect_eq "$(jq -r .link <<<"$OUT")" "https://apps.example.org/riskgate-agent" "Get access links to the agent"

# ---- the agent installed and running, not activated ----
"$AGENT" --state-dir "$ST" run --scan "$SCAN" --interval 300 --dns-listen off --log-format json >>"$AGLOG" 2>&1 &
AG_PID=$!
wait_until 5 test -S "$SOCK" || { cat "$AGLOG" >&2; fail "the agent daemon did not open its socket"; exit 1; }
ag hello
expect_eq "$(jq -r '(.installed|tostring) + " " + (.activated|tostring)' <<<"$AOUT")" "true false" "the daemon answers, not activated"
ra launch --json
expect_eq "$RC" 4 "agent not activated: exit 4"
expect_eq "$(jq -r .reasonCode <<<"$OUT")" agentNotActivated "agent not activated: reason"
jq -e '.title | test("^Launch App to Check the Security Status$"; "i")' >/dev/null <<<"$OUT" && pass \
  || fail "agent not activated: screen: $OUT"

# ---- activation: allowed ----
RC=0
"$AGENT" --state-dir "$ST" activate --server "$RG_URL" --tenant default --user alice@contoso.com \
  --password-stdin <"$RG_TMP/pw" >"$RG_TMP/a.out" 2>&1 || RC=$?
expect_eq "$RC" 0 "the person activates the agent"
DEV=$(jq -r .deviceId "$ST/state.json")
expect_eq "$(stat -c %a "$ST/device.key")" 600 "the device key is made at activation, mode 0600"
NONCE=$(curl -s "$RG_URL/app/v1/deviceNonce" | jq -r .nonce)
rc=0; PROOF=$("$AGENT" --state-dir "$ST" prove "$NONCE") || rc=$?
expect_eq "$rc $(jq -r '.deviceId + " " + .nonce' <<<"$PROOF" 2>/dev/null)" "0 $DEV $NONCE" "the agent signs a server nonce for this device"
if wait_until 10 launch_allows; then pass; else fail "activated agent: not allowed within 10 s: $OUT"; fi
api GET "/beta/deviceAppManagement/managedAppRegistrations"
expect_eq "$(jq -r --arg d "$DEV" '[.value[] | select(.azureADDeviceId == $d or .managedDeviceId == $d)] | length' <<<"$BODY")" 1 \
  "the registration holds the device the agent proved"
expect_eq "$(screen)" "Access allowed | allowed | 0" "activated agent: allowed"
[ -f "$DATA/inbox.txt" ] && pass || fail "the corporate data is opened"

# ---- the running app; the EICAR file appears: Access blocked within a second ----
run_start
# let the live wait be held a while: the SDK counts waits answered within 1 s as a
# loop (src/sdk/live.c QUICK_MS/QUICK_MAX) and backs off after 5; a held wait resets that
sleep 1.1
n0=$(run_lines)
t_file=$(now_ms)
put_eicar "$SCAN/eicar.com"
ag rescan
t_rescan=$(now_ms)
if wait_until 5 run_has "$n0" '"event":"decision changed"'; then pass; else fail "the running app saw no decision change"; fi
line=$(run_line "$n0" '"event":"decision changed"')
expect_eq "$(jq -r '.title + " | " + .action + " | " + .reasonCode' <<<"${line#* }" 2>/dev/null)" \
  "Access blocked | block | threatLevelTooHigh" "the running app is blocked"
if [ -n "$line" ] && wait_until 3 reported active 1; then
  t_app=${line%% *}
  t_rep=$(reported_ms active 1)
  rep_to_app=$((t_app - t_rep))
  rescan_to_app=$((t_app - t_rescan))
  echo "story: EICAR placed -> app blocked: $((t_app - t_file)) ms; rescan -> app: $rescan_to_app ms;" \
    "agent's report accepted (its log line) -> app: $rep_to_app ms"
  [ "$rep_to_app" -lt 1000 ] && pass || fail "report accepted -> running app's decision: $rep_to_app ms (limit 1000)"
  [ "$rescan_to_app" -lt 2000 ] && pass || fail "rescan -> running app's decision: $rescan_to_app ms (limit 2000)"
else
  fail "no timing: the app's line '$line', the agent's log: $(tail -n 5 "$AGLOG")"
fi
ra launch --json
expect_eq "$(screen)" "Access blocked | threatLevelTooHigh | 4" "a new launch while the file is there"

# ---- the file is removed: recheck -> allowed ----
n1=$(run_lines)
rm "$SCAN/eicar.com"
ag rescan
if wait_until 5 reported resolved 1; then pass; else fail "the agent did not report the removal"; fi
ra recheck --json
expect_eq "$(screen)" "Access allowed | allowed | 0" "recheck after the removal: allowed"
if wait_until 3 run_has "$n1" '"action":"allow"'; then pass; else fail "the running app was not allowed again: $(cat "$RUNLOG")"; fi

# ---- the same with Wipe: the corporate data is deleted, the request reads successful ----
api PATCH "$DAM/androidManagedAppProtections/$pol" '{"mobileThreatDefenseRemediationAction":"wipe"}'
expect_status 204 "action Wipe"
[ -d "$DATA" ] && pass || fail "corporate data there before the wipe"
n2=$(run_lines)
put_eicar "$SCAN/eicar.com"
ag rescan
if wait_until 5 run_has "$n2" '"event":"wipe"'; then pass; else fail "the running app was not wiped: $(cat "$RUNLOG")"; fi
run_has "$n2" '"event":"wipe".*"deleted":true' && pass || fail "wipe event: $(tail -n +$((n2 + 1)) "$RUNLOG")"
[ ! -e "$DATA" ] && pass || fail "the corporate data is still there after the wipe"
if wait_until 3 wipe_successful; then pass; else fail "wipe request not successful: $BODY"; fi
expect_eq "$(jq -r '.value | length' <<<"$BODY")" 1 "one wipe request"
run_stop
expect_eq "$RUN_RC" 6 "the running app ends wiped (6)"
ra launch --json
expect_eq "$RC" 7 "after the wipe: sign in again (7)"
rm "$SCAN/eicar.com"
ag rescan
if wait_until 5 reported resolved 2; then pass; else fail "removal after the wipe not reported"; fi
api PATCH "$DAM/androidManagedAppProtections/$pol" '{"mobileThreatDefenseRemediationAction":"block"}'
ra --server "$RG_URL" sign-in --user alice@contoso.com --password-file "$RG_TMP/pw" --json
expect_eq "$(screen)" "Access allowed | allowed | 0" "signed in again: allowed"

# ---- connector off: the threat row is ignored ----
put_eicar "$SCAN/eicar.com"
ag rescan
if wait_until 5 reported active 3; then pass; else fail "the third EICAR report"; fi
ra launch --json
expect_eq "$(screen)" "Access blocked | threatLevelTooHigh | 4" "connector on: blocked"
api PATCH "/beta/deviceManagement/mobileThreatDefenseConnectors/$BUILTIN" '{"androidMobileApplicationManagementEnabled":false}'
ra launch --json
expect_eq "$RC" 0 "connector off: the threat row is ignored (allowed)"
api PATCH "/beta/deviceManagement/mobileThreatDefenseConnectors/$BUILTIN" '{"androidMobileApplicationManagementEnabled":true}'
ra launch --json
expect_eq "$RC" 4 "connector on again: blocked"

# ---- maximum high: allowed with the active agent (the Medium threat is below it) ----
api PATCH "$DAM/androidManagedAppProtections/$pol" '{"maximumAllowedDeviceThreatLevel":"high"}'
ra launch --json
expect_eq "$(screen)" "Access allowed | allowed | 0" "high: allowed while the agent is active"

# ---- offline: the grace period is set short before the last online check-in ----
api PATCH "$DAM/androidManagedAppProtections/$pol" '{"periodOfflineBeforeAccessCheck":"PT3S"}'
expect_status 204 "periodOfflineBeforeAccessCheck PT3S"
ra launch --json
expect_eq "$RC" 0 "the last online check-in: allowed"
t_ck=$(now_ms)
until_ms=$(jq -r .offlineAccessUntil <<<"$OUT")
if [ "$until_ms" -gt "$t_ck" ] && [ "$until_ms" -le $((t_ck + 3500)) ]; then pass; else fail "offlineAccessUntil $until_ms not ~3 s after $t_ck"; fi
cp "$STORE/checkin.json" "$RG_TMP/checkin.good"
ra --server "$DEAD" launch --json
expect_eq "$RC $(jq -r '.action + " " + (.offline|tostring)' <<<"$OUT")" "0 allow true" "offline within the grace period: allowed from the ticket"
# tampered: the payload's offlineAccessUntil pushed a year on (the signature no longer matches)
jq '.ticket.payload |= (@base64d | sub("\"offlineAccessUntil\":[0-9]+"; "\"offlineAccessUntil\":" + (now * 1000 + 31536000000 | floor | tostring)) | @base64)' \
  "$RG_TMP/checkin.good" >"$STORE/checkin.json"
ra --server "$DEAD" launch --json
expect_eq "$RC" 5 "a tampered ticket offline: refused (exit 5)"
expect_eq "$(jq -r .title <<<"$OUT")" "Internet Connection Required" "tampered ticket: the screen"
# tampered: the payload intact, one byte of the signature changed
python3 - "$RG_TMP/checkin.good" "$STORE/checkin.json" <<'PY'
import base64, json, sys
c = json.load(open(sys.argv[1]))
sig = bytearray(base64.b64decode(c["ticket"]["signature"]))
sig[0] ^= 1
c["ticket"]["signature"] = base64.b64encode(bytes(sig)).decode()
json.dump(c, open(sys.argv[2], "w"))
PY
ra --server "$DEAD" launch --json
expect_eq "$RC" 5 "a ticket with a changed signature offline: refused (exit 5)"
cp "$RG_TMP/checkin.good" "$STORE/checkin.json"
past_grace() { [ "$(now_ms)" -gt $((until_ms + 100)) ]; }
wait_until 5 past_grace
ra --server "$DEAD" launch --json
expect_eq "$(screen)" "Internet Connection Required | $(jq -r .reasonCode <<<"$OUT") | 5" "offline past the grace period: exit 5"
[ "$RC" = 5 ] && pass || fail "offline past the grace period: $OUT"
api PATCH "$DAM/androidManagedAppProtections/$pol" '{"periodOfflineBeforeAccessCheck":"PT12H"}'
ra launch --json
expect_eq "$RC" 0 "back online: allowed"

# ---- high without an active agent: refused ----
api POST "/api/machines/$DEV/offboard" ""
expect_status 200 "device offboarded"
ra launch --json
expect_eq "$RC" 4 "high: refused once the device is offboarded"
echo "story: offboarded: $(screen)"
kill -TERM "$AG_PID"
rc=0; wait "$AG_PID" || rc=$?; AG_PID=
expect_eq "$rc" 0 "the agent daemon exits 0"
ra launch --json
expect_eq "$(screen)" "Get access | agentNotInstalled | 4" "no agent at all: Get access"

rg_stop
finish
