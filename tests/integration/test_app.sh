#!/usr/bin/env bash
# riskgate-app (libriskgate) against the real riskgated: sign-in without an
# agent ("Get access" and its exit code), the cache's modes, allowed once a
# (fake) activated agent answers "hello", the running app told of a threat by
# the live connection, the wipe (corporate data deleted, confirmed to the
# server), and offline launches from the signed ticket.
source "$(dirname "$0")/lib.sh"
rg_start
# POST without a token: 401 once the endpoint exists (a GET answers 405 there, 404 before)
if [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$RG_URL/app/v1/checkin")" != 401 ]; then
  echo "FAIL: POST /app/v1/checkin without a token does not answer 401: the app endpoints are missing" >&2
  exit 1
fi
APPBIN="$RG_BIN_DIR/riskgate-app"
DAM=/beta/deviceAppManagement
BUILTIN=fc780465-2017-40d4-a0c5-307022471b92
OUTLOOK=com.microsoft.office.outlook
STORE=$RG_TMP/app
SOCK=$RG_TMP/agent.sock
printf 'correct horse battery\n' >"$RG_TMP/pw"

api POST /v1.0/users '{"userPrincipalName":"alice@contoso.com","passwordProfile":{"password":"correct horse battery"}}'
alice=$(jq -r .id <<<"$BODY")
api POST /v1.0/groups '{"displayName":"mobile"}'
grp=$(jq -r .id <<<"$BODY")
api POST "/v1.0/groups/$grp/members/\$ref" "{\"@odata.id\":\"https://graph.microsoft.com/v1.0/directoryObjects/$alice\"}"
api POST "$DAM/androidManagedAppProtections" '{"displayName":"MTD","maximumAllowedDeviceThreatLevel":"secured","mobileThreatDefenseRemediationAction":"block"}'
pol=$(jq -r .id <<<"$BODY")
api POST "$DAM/androidManagedAppProtections/$pol/targetApps" "{\"apps\":[{\"mobileAppIdentifier\":{\"@odata.type\":\"#microsoft.graph.androidMobileAppIdentifier\",\"packageId\":\"$OUTLOOK\"}}]}"
api POST "$DAM/androidManagedAppProtections/$pol/assign" "{\"assignments\":[{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$grp\"}}]}"
api PATCH "/beta/deviceManagement/mobileThreatDefenseConnectors/$BUILTIN" '{"androidMobileApplicationManagementEnabled":true}'
expect_status 200 "connector on for Android app protection"

# the server key apps build in: riskgated server-key reads it from the key file, as the server serves it
SKEY=$("$RG_BIN_DIR/riskgated" server-key --signing-key-file "$RG_TMP/var/signing.key")
expect_eq "$SKEY" "$(curl -s "$RG_URL/app/v1/serverKey" | jq -r .serverKey)" "riskgated server-key prints the key the server signs with"

# no server key and no trust on first use: refused before anything is sent
rc=0; "$APPBIN" --storage "$RG_TMP/nokey" --server "$RG_URL" launch >/dev/null 2>"$RG_TMP/err" || rc=$?
expect_eq "$rc" 1 "no server key: exit 1"
grep -q "server_key is required" "$RG_TMP/err" && pass || fail "no server key message: $(cat "$RG_TMP/err")"
# trust on first use, as an explicit choice: the key sign-in returns is pinned
rc=0; "$APPBIN" --storage "$RG_TMP/tofu" --trust-on-first-use --server "$RG_URL" sign-in --user alice@contoso.com \
  --password-file "$RG_TMP/pw" >/dev/null 2>"$RG_TMP/err" || rc=$?
expect_eq "$rc" 4 "trust on first use: signed in (blocked, no agent)"
expect_eq "$(jq -r .serverKey "$RG_TMP/tofu/registration.json")" "$SKEY" "trust on first use pinned the server's key"
# a wrong key built in: the sign-in is refused, nothing cached
rc=0; "$APPBIN" --storage "$RG_TMP/wrongkey" --server-key AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= --server "$RG_URL" \
  sign-in --user alice@contoso.com --password-file "$RG_TMP/pw" >/dev/null 2>"$RG_TMP/err" || rc=$?
expect_eq "$rc" 1 "another server's key: sign-in refused"
[ ! -e "$RG_TMP/wrongkey/registration.json" ] && pass || fail "a refused key left a registration"

export RISKGATE_SERVER_KEY=$SKEY
ra() { "$APPBIN" --storage "$STORE" --agent-socket "$SOCK" "$@"; }

# wrong password: an error, exit 1, nothing cached
rc=0; ra --server "$RG_URL" sign-in --user alice@contoso.com --password "nope nope" >/dev/null 2>"$RG_TMP/err" || rc=$?
expect_eq "$rc" 1 "wrong password: exit 1"
grep -q "wrong user or password" "$RG_TMP/err" && pass || fail "wrong password message: $(cat "$RG_TMP/err")"

# sign-in and launch without an agent: Get access, exit 4
rc=0; ra --server "$RG_URL" sign-in --user alice@contoso.com --password-file "$RG_TMP/pw" >"$RG_TMP/out" || rc=$?
expect_eq "$rc" 4 "sign-in without an agent: blocked (exit 4)"
rc=0; ra launch >"$RG_TMP/out" || rc=$?
expect_eq "$rc" 4 "launch without an agent: exit 4"
grep -q '^== Get access ==$' "$RG_TMP/out" && pass || fail "launch screen: $(cat "$RG_TMP/out")"
rc=0; ra launch --json >"$RG_TMP/out" || rc=$?
expect_eq "$(jq -r '.title + " | " + .action + " | " + .reasonCode + " | " + (.exitCode|tostring)' "$RG_TMP/out")" \
  "Get access | block | agentNotInstalled | 4" "launch --json without an agent"
expect_eq "$(stat -c %a "$STORE")" 700 "storage folder mode"
expect_eq "$(stat -c %a "$STORE/registration.json") $(stat -c %a "$STORE/checkin.json")" "600 600" "cache file modes"
TOKEN=$(jq -r .token "$STORE/registration.json")
if grep -rq "$TOKEN" "$RG_TMP/out" "$RG_TMP/err"; then fail "the token was printed"; else pass; fi

# a fake activated agent on the socket: the device id of a real activation
PUB=$(devkey_new "$RG_TMP/device.key")
api POST /device/v1/activate "{\"tenant\":\"default\",\"userPrincipalName\":\"alice@contoso.com\",\"password\":\"correct horse battery\",\"devicePublicKey\":\"$PUB\",\"device\":{\"platform\":\"android\",\"deviceName\":\"alice-pixel\"}}" ""
CRED=$(jq -r .credential <<<"$BODY")
DEV=$(jq -r .deviceId <<<"$BODY")
api POST /device/v1/heartbeat '{}' "$CRED"
# it answers hello, and prove (signing the nonce with the device key, through openssl)
python3 - "$SOCK" "$DEV" "$RG_TMP/device.key" <<'PY' &
import base64, json, os, socket, subprocess, sys
path, dev, key = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); s.listen(8)
while True:
    c, _ = s.accept()
    f = c.makefile("rwb")
    line = f.readline().strip()
    if line == b"hello":
        f.write((json.dumps({"installed": True, "activated": True, "deviceId": dev, "threatLevel": "secured"}) + "\n").encode()); f.flush()
    elif line.startswith(b"prove "):
        nonce = line[6:].decode()
        with open(key + ".msg", "wb") as m:  # pkeyutl signs Ed25519 from a file, not a pipe
            m.write(("riskgate-device-proof:v1\n%s\n%s" % (dev, nonce)).encode())
        sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", key, "-in", key + ".msg"],
                             capture_output=True, check=True).stdout
        f.write((json.dumps({"deviceId": dev, "nonce": nonce, "signature": base64.b64encode(sig).decode()}) + "\n").encode()); f.flush()
    c.close()
PY
AGENT_PID=$!
trap 'kill $AGENT_PID 2>/dev/null || true; [ -n "${RUN_PID:-}" ] && kill $RUN_PID 2>/dev/null; rg_cleanup' EXIT
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.05; done

rc=0; ra launch >"$RG_TMP/out" || rc=$?
expect_eq "$rc" 0 "activated agent: allowed (exit 0)"
[ -f "$STORE/corporate-data/inbox.txt" ] && pass || fail "corporate data opened: $(cat "$RG_TMP/out")"

# the running app: a threat arrives through the live connection
"$APPBIN" --storage "$STORE" --agent-socket "$SOCK" run --json >"$RG_TMP/run" 2>"$RG_TMP/run.err" &
RUN_PID=$!
for _ in $(seq 100); do grep -q '"event":"launch"' "$RG_TMP/run" 2>/dev/null && break; sleep 0.05; done
sleep 0.3
eicar='{"detections":[{"kind":"malware","key":"sha256:275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f","threatName":"Test Virus"}]}'
api POST /device/v1/detections "$eicar" "$CRED"
for _ in $(seq 60); do grep -q '"event":"decision changed"' "$RG_TMP/run" && break; sleep 0.05; done
expect_eq "$(grep '"event":"decision changed"' "$RG_TMP/run" | head -1 | jq -r '.action + " | " + .reasonCode + " | " + .title')" \
  "block | threatLevelTooHigh | Access blocked" "running app: blocked by the live connection within 3 s"

# the policy now wipes: the running app deletes its corporate data and confirms
api PATCH "$DAM/androidManagedAppProtections/$pol" '{"mobileThreatDefenseRemediationAction":"wipe"}'
for _ in $(seq 100); do grep -q '"event":"wipe"' "$RG_TMP/run" && break; sleep 0.05; done
grep -q '"event":"wipe".*"deleted":true' "$RG_TMP/run" && pass || fail "wipe event: $(cat "$RG_TMP/run")"
[ ! -e "$STORE/corporate-data" ] && pass || fail "corporate data still there after the wipe"
sleep 0.3
api GET /riskgate/v1/wipeRequests
expect_eq "$(jq -r '[.value[].status] | join(",")' <<<"$BODY")" successful "wipe confirmed successful"
kill -TERM $RUN_PID; rc=0; wait $RUN_PID || rc=$?; RUN_PID=
expect_eq "$rc" 6 "run exits with the last decision's code: wiped (6)"
rc=0; ra launch >"$RG_TMP/out" || rc=$?
expect_eq "$rc" 7 "after the wipe: sign in again (exit 7)"

# offline: allowed from the signed ticket; an edited cache grants nothing
api PATCH "$DAM/androidManagedAppProtections/$pol" '{"mobileThreatDefenseRemediationAction":"block"}'
api POST /device/v1/detections "$(jq '.detections[0].state = "resolved"' <<<"$eicar")" "$CRED"
api POST /device/v1/heartbeat '{}' "$CRED"
rc=0; ra --server "$RG_URL" sign-in --user alice@contoso.com --password-file "$RG_TMP/pw" >"$RG_TMP/out" || rc=$?
expect_eq "$rc" 0 "signed in again, remediated: allowed"
rg_kill9
rc=0; ra launch --json >"$RG_TMP/out" || rc=$?
expect_eq "$rc $(jq -r '.action + " " + (.offline|tostring)' "$RG_TMP/out")" "0 allow true" "offline launch from the ticket"
jq '.ticket.payload |= (@base64d | sub("\"offlineAccessUntil\":[0-9]+"; "\"offlineAccessUntil\":99999999999999") | @base64)' \
  "$STORE/checkin.json" >"$RG_TMP/ck" && cp "$RG_TMP/ck" "$STORE/checkin.json"
rc=0; ra launch >"$RG_TMP/out" || rc=$?
expect_eq "$rc" 5 "edited ticket offline: Internet Connection Required (exit 5)"
grep -q '^== Internet Connection Required ==$' "$RG_TMP/out" && pass || fail "offline screen: $(cat "$RG_TMP/out")"
finish
