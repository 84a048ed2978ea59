#!/usr/bin/env bash
# decision_latency.sh: how long a running managed app takes to change its
# decision after a threat is reported (server + libriskgate, loopback).
#
#   cmake -S . -B build >/dev/null && cmake --build build -j2
#   RG_BIN_DIR=build bash bench/decision_latency.sh            # 100 tries
#   RG_BIN_DIR=build TRIES=20 GAP_MS=0 bash bench/decision_latency.sh
#
# Setup as in tests/integration/test_story.sh: the real riskgated (temporary
# database, ephemeral port), a policy (max threat level secured, action Block)
# for alice's group with the connector on, the real riskgate-agent activated and
# running (it answers the app's "hello" with the device id), and
# `riskgate-app run --json` in the background, each line it prints stamped on
# arrival. Then TRIES times: curl plays the agent and POSTs a malware detection
# with a new key (POST /device/v1/detections with the device credential); the
# time is measured from that POST returning 200 (and, second, from before curl
# was started) to the app printing "block";
# the detection is then resolved the same way and the app must print "allow"
# again (measured too). Prints median, p90 and worst in ms, for both.
#
# GAP_MS (default 1100): the pause before each threat report, so the app's wait
# is already held on the server when the report arrives (the normal case on a
# device) and because libriskgate treats 5 waits in a row answered within 1 s
# as a server loop and backs off 1 s, then 2, 4, 8 ... (src/sdk/live.c
# QUICK_MS/QUICK_MAX): with GAP_MS=0 the decisions stall 1, 2, 4 ... 60 s after
# a few tries. The resolve is sent as soon as the block is seen (no pause), so the
# "allowed" figure includes re-arming the wait. A run takes TRIES x ~1.2 s.
# Not run by make test. Needs curl, jq.
set -euo pipefail
: "${RG_BIN_DIR:?set RG_BIN_DIR to the build folder, e.g. RG_BIN_DIR=build}"
RG_BIN_DIR=$(cd "$RG_BIN_DIR" && pwd)
TRIES=${TRIES:-100}
GAP_MS=${GAP_MS:-1100}
TMP=$(mktemp -d /tmp/riskgate-bench.XXXXXX)
SRV_PID= AG_PID= RUN_PID=
cleanup() {
  local p
  for p in "$RUN_PID" "$AG_PID" "$SRV_PID"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
die() { echo "decision_latency: $*" >&2; exit 1; }
now_ms() { local t=$EPOCHREALTIME; echo $((${t%.*} * 1000 + 10#${t#*.} / 1000)); }
now_us() { local t=$EPOCHREALTIME; echo $((${t%.*} * 1000000 + 10#${t#*.})); }

# ---- the server ----
"$RG_BIN_DIR/riskgated" --listen 127.0.0.1:0 --db "sqlite:$TMP/riskgate.db" --admin-key-file "$TMP/admin.key" \
  --signing-key-file "$TMP/signing.key" >"$TMP/daemon.log" 2>&1 &
SRV_PID=$!
for _ in $(seq 100); do grep -q '^riskgated: listening on ' "$TMP/daemon.log" && break; sleep 0.05; done
URL=$(sed -n 's/^riskgated: listening on //p' "$TMP/daemon.log" | head -n1)
[ -n "$URL" ] || die "riskgated did not start: $(cat "$TMP/daemon.log")"
KEY=$(cat "$TMP/admin.key")
# api METHOD PATH [BODY] [TOKEN]: sets STATUS and BODY
api() {
  local args=(-sS -o "$TMP/resp" -w '%{http_code}' -X "$1" -H "Authorization: Bearer ${4-$KEY}")
  [ -n "${3-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  STATUS=$(curl "${args[@]}" "$URL$2")
  BODY=$(cat "$TMP/resp")
}
DAM=/beta/deviceAppManagement
api POST /v1.0/users '{"userPrincipalName":"alice@contoso.com","passwordProfile":{"password":"correct horse battery"}}'
alice=$(jq -r .id <<<"$BODY")
api POST /v1.0/groups '{"displayName":"mobile"}'
grp=$(jq -r .id <<<"$BODY")
api POST "/v1.0/groups/$grp/members/\$ref" "{\"@odata.id\":\"https://graph.microsoft.com/v1.0/directoryObjects/$alice\"}"
api POST "$DAM/androidManagedAppProtections" '{"displayName":"MTD","maximumAllowedDeviceThreatLevel":"secured","mobileThreatDefenseRemediationAction":"block"}'
pol=$(jq -r .id <<<"$BODY")
api POST "$DAM/androidManagedAppProtections/$pol/targetApps" '{"apps":[{"mobileAppIdentifier":{"@odata.type":"#microsoft.graph.androidMobileAppIdentifier","packageId":"com.microsoft.office.outlook"}}]}'
api POST "$DAM/androidManagedAppProtections/$pol/assign" "{\"assignments\":[{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$grp\"}}]}"
[ "$STATUS" = 204 ] || die "policy assignment: $STATUS $BODY"
api PATCH /beta/deviceManagement/mobileThreatDefenseConnectors/fc780465-2017-40d4-a0c5-307022471b92 '{"androidMobileApplicationManagementEnabled":true}'
[ "$STATUS" = 200 ] || die "connector: $STATUS $BODY"

# ---- the agent, activated and running ----
ST=$TMP/agent
printf 'correct horse battery\n' >"$TMP/pw"
"$RG_BIN_DIR/riskgate-agent" --state-dir "$ST" activate --server "$URL" --tenant default --user alice@contoso.com \
  --password-stdin <"$TMP/pw" >/dev/null 2>&1 || die "activation failed"
"$RG_BIN_DIR/riskgate-agent" --state-dir "$ST" run --interval 86400 >"$TMP/agent.log" 2>&1 &
AG_PID=$!
for _ in $(seq 100); do [ -S "$ST/agent.sock" ] && break; sleep 0.05; done
[ -S "$ST/agent.sock" ] || die "the agent did not start: $(cat "$TMP/agent.log")"
CRED=$(jq -r .credential "$ST/state.json")

# ---- the app: signed in, allowed, running ----
SKEY=$("$RG_BIN_DIR/riskgated" server-key --signing-key-file "$TMP/signing.key") || die "no server key"
APP=("$RG_BIN_DIR/riskgate-app" --storage "$TMP/app" --agent-socket "$ST/agent.sock" --server-key "$SKEY")
rc=0
"${APP[@]}" --server "$URL" sign-in --user alice@contoso.com --password-file "$TMP/pw" >/dev/null || rc=$?
for _ in $(seq 100); do [ "$rc" = 0 ] && break; rc=0; "${APP[@]}" launch >/dev/null || rc=$?; sleep 0.1; done
[ "$rc" = 0 ] || die "the app is not allowed (exit $rc)"
RUNLOG=$TMP/run.log
: >"$RUNLOG"
"${APP[@]}" run --json 2>"$TMP/run.err" </dev/null \
  > >(while IFS= read -r l; do t=$EPOCHREALTIME; printf '%s %s\n' $((${t%.*} * 1000000 + 10#${t#*.})) "$l"; done >>"$RUNLOG") &
RUN_PID=$!
for _ in $(seq 100); do grep -q '"event":"launch"' "$RUNLOG" && break; sleep 0.05; done
grep -q '"event":"launch".*"action":"allow"\|"action":"allow".*"event":"launch"' "$RUNLOG" || die "the running app did not start allowed: $(cat "$RUNLOG" "$TMP/run.err")"

# detect KEY STATE: POSTs one detection as the agent; sets SENT and DONE, the microseconds
# before curl was started and after it returned 200
detect() {
  local code
  SENT=$(now_us)
  code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $CRED" -H 'Content-Type: application/json' \
    --data-binary "{\"detections\":[{\"kind\":\"malware\",\"key\":\"$1\",\"state\":\"$2\",\"threatName\":\"Bench Virus\",\"title\":\"Malware detected: Bench Virus\"}]}" \
    "$URL/device/v1/detections")
  DONE=$(now_us)
  [ "$code" = 200 ] || die "POST /device/v1/detections answered $code"
}
# await N ACTION: waits (70 s: longer than the SDK's longest backoff) for a "decision changed" line after the first N with that action; prints its stamp
await() {
  local deadline=$(($(now_ms) + 70000)) line
  while :; do
    line=$(tail -n +"$(($1 + 1))" "$RUNLOG" | grep '"event":"decision changed"' | grep "\"action\":\"$2\"" | head -1 || true)
    if [ -n "$line" ]; then echo "${line%% *}"; return 0; fi
    [ "$(now_ms)" -lt "$deadline" ] || die "try $i: no '$2' decision within 70 s: $(tail -n 3 "$RUNLOG")"
    sleep 0.002
  done
}
BLOCK=() ALLOW=() BLOCK_SENT=() ALLOW_SENT=()
for ((i = 1; i <= TRIES; i++)); do
  [ "$GAP_MS" -gt 0 ] && sleep "$((GAP_MS / 1000)).$(printf '%03d' $((GAP_MS % 1000)))"
  n=$(wc -l <"$RUNLOG")
  detect "sha256:bench-$$-$i" active
  t1=$(await "$n" block)
  BLOCK+=($((t1 - DONE)))
  BLOCK_SENT+=($((t1 - SENT)))
  n=$(wc -l <"$RUNLOG")
  detect "sha256:bench-$$-$i" resolved
  t1=$(await "$n" allow)
  ALLOW+=($((t1 - DONE)))
  ALLOW_SENT+=($((t1 - SENT)))
done

# stats NAME VALUES...: median, p90 (nearest rank) and worst, in ms with a decimal
stats() {
  local name=$1
  shift
  printf '%s\n' "$@" | sort -n | awk -v name="$name" '
    { v[NR] = $1 }
    END {
      med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      p90 = v[int((NR * 90 + 99) / 100)]
      printf "%-36s median %6.1f ms   p90 %6.1f ms   worst %6.1f ms   best %6.1f ms   (n=%d)\n", name, med / 1000, p90 / 1000, v[NR] / 1000, v[1] / 1000, NR
    }'
}
echo "decision latency on loopback, $TRIES tries, GAP_MS=$GAP_MS; riskgate-app run's line stamped as it is read."
echo "From the detection POST answered 200 (curl returned; negative: the app printed before curl had exited):"
stats "  threat reported -> Access blocked" "${BLOCK[@]}"
stats "  threat resolved -> Access allowed" "${ALLOW[@]}"
echo "From the detection POST sent (before curl started; includes starting curl):"
stats "  threat reported -> Access blocked" "${BLOCK_SENT[@]}"
stats "  threat resolved -> Access allowed" "${ALLOW_SENT[@]}"
