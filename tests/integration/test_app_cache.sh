#!/usr/bin/env bash
# The check-in cache (src/server/appcache.h) against the real daemon: a repeat
# check-in reuses the cached answer (same ticket), and every change a decision
# depends on is in the very next check-in after the cached one — a policy
# PATCH, a group membership change, a threat level change, a wipe, the
# registration's user deleted, a changed fact. lastSyncDateTime, written in
# batches, is on disk after a clean stop.
source "$(dirname "$0")/lib.sh"
rg_start
DAM=/beta/deviceAppManagement
BUILTIN=fc780465-2017-40d4-a0c5-307022471b92
OUTLOOK=com.microsoft.office.outlook

api POST /v1.0/users '{"userPrincipalName":"alice@contoso.com","passwordProfile":{"password":"correct horse battery"}}'
alice=$(jq -r .id <<<"$BODY")
api POST /v1.0/groups '{"displayName":"mobile"}'
grp=$(jq -r .id <<<"$BODY")
api POST "/v1.0/groups/$grp/members/\$ref" "{\"@odata.id\":\"https://graph.microsoft.com/v1.0/directoryObjects/$alice\"}"
api POST "$DAM/androidManagedAppProtections" '{"displayName":"MTD","maximumAllowedDeviceThreatLevel":"high","mobileThreatDefenseRemediationAction":"block"}'
pol=$(jq -r .id <<<"$BODY")
api POST "$DAM/androidManagedAppProtections/$pol/targetApps" "{\"apps\":[{\"mobileAppIdentifier\":{\"@odata.type\":\"#microsoft.graph.androidMobileAppIdentifier\",\"packageId\":\"$OUTLOOK\"}}]}"
api POST "$DAM/androidManagedAppProtections/$pol/assign" "{\"assignments\":[{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$grp\"}}]}"
api PATCH "/beta/deviceManagement/mobileThreatDefenseConnectors/$BUILTIN" '{"androidMobileApplicationManagementEnabled":true}'
PUB=$(devkey_new "$RG_TMP/device.key")
api POST /device/v1/activate "{\"tenant\":\"default\",\"userPrincipalName\":\"alice@contoso.com\",\"password\":\"correct horse battery\",\"devicePublicKey\":\"$PUB\",\"device\":{\"platform\":\"android\",\"deviceName\":\"alice-pixel\"}}" ""
CRED=$(jq -r .credential <<<"$BODY")
DEV=$(jq -r .deviceId <<<"$BODY")
api POST /device/v1/heartbeat '{}' "$CRED"
reg="{\"tenant\":\"default\",\"userPrincipalName\":\"alice@contoso.com\",\"password\":\"correct horse battery\",\"app\":{\"appId\":\"$OUTLOOK\",\"platform\":\"android\",\"appVersion\":\"4.2401.1\",\"osVersion\":\"14\",\"agentInstalled\":true,\"deviceId\":\"$DEV\",\"deviceProof\":$(device_proof "$RG_TMP/device.key" "$DEV")}}"
api POST /app/v1/register "$reg" ""
expect_status 201 "register"
TOKEN=$(jq -r .token <<<"$BODY")
REG=$(jq -r .registrationId <<<"$BODY")
app() { api "$1" "$2" "${3-}" "$TOKEN"; }
issued() { jq -r .ticket.payload <<<"$BODY" | base64 -d | jq -r .issuedAt; }

# twice, so the second answer comes from the cache; prints "action reasonCode"
checkin_twice() {
  app POST /app/v1/checkin ""
  app POST /app/v1/checkin ""
}
decision() { jq -r '.decision.action + " " + .decision.reasonCode' <<<"$BODY"; }

app POST /app/v1/checkin ""
expect_eq "$(decision)" "allow allowed" "allowed"
first=$(issued)
V1=$(jq -r .decisionVersion <<<"$BODY")
app POST /app/v1/checkin ""
expect_eq "$(issued)" "$first" "a repeat check-in reuses the cached answer and its ticket"
expect_eq "$(jq -r .decisionVersion <<<"$BODY")" "$V1" "same decisionVersion"
app POST /app/v1/checkin '{"app":{"osVersion":"14","agentInstalled":true}}'
expect_eq "$(issued)" "$first" "facts that change nothing keep the cached answer"

# the ticket still verifies (cached bytes are the signed bytes)
KEY=$(curl -s "$RG_URL/app/v1/serverKey" | jq -r .serverKey)
jq -r .ticket.payload <<<"$BODY" | base64 -d >"$RG_TMP/payload"
jq -r .ticket.signature <<<"$BODY" | base64 -d >"$RG_TMP/sig"
{ printf '\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00'; printf '%s' "$KEY" | base64 -d; } >"$RG_TMP/pub.der"
if openssl pkeyutl -verify -pubin -inkey "$RG_TMP/pub.der" -keyform DER -rawin -in "$RG_TMP/payload" -sigfile "$RG_TMP/sig" >/dev/null 2>&1; then pass; else fail "a cached ticket does not verify"; fi

# a threat level change (the Test Virus: medium) is in the next check-in
eicar='{"detections":[{"kind":"malware","key":"sha256:275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f","threatName":"Test Virus"}]}'
api POST /device/v1/detections "$eicar" "$CRED"
app POST /app/v1/checkin ""
expect_eq "$(decision)" "allow allowed" "medium is within a high maximum"

# a policy PATCH
checkin_twice
api PATCH "$DAM/androidManagedAppProtections/$pol" '{"maximumAllowedDeviceThreatLevel":"low"}'
expect_status 204 "policy PATCH"
app POST /app/v1/checkin ""
expect_eq "$(decision)" "block threatLevelTooHigh" "policy PATCH: the next check-in is blocked"

# the threat level going down
checkin_twice
api POST /device/v1/detections "$(jq '.detections[0].state = "resolved"' <<<"$eicar")" "$CRED"
app POST /app/v1/checkin ""
expect_eq "$(decision)" "allow allowed" "threat resolved: the next check-in is allowed"
# and up again
checkin_twice
api POST /device/v1/detections "$(jq '.detections[0].key = "sha256:2"' <<<"$eicar")" "$CRED"
app POST /app/v1/checkin ""
expect_eq "$(decision)" "block threatLevelTooHigh" "threat level up: the next check-in is blocked"

# a group membership change: no policy applies any more, then again
checkin_twice
api DELETE "/v1.0/groups/$grp/members/$alice/\$ref"
expect_status 204 "member removed"
app POST /app/v1/checkin ""
[ "$(decision)" != "block threatLevelTooHigh" ] && [ "$(jq -r '.settings | length' <<<"$BODY")" = 0 ] && pass ||
  fail "membership removed: no policy in the next check-in: $(jq -c '{decision, settings}' <<<"$BODY")"
checkin_twice
api POST "/v1.0/groups/$grp/members/\$ref" "{\"@odata.id\":\"https://graph.microsoft.com/v1.0/directoryObjects/$alice\"}"
app POST /app/v1/checkin ""
expect_eq "$(decision)" "block threatLevelTooHigh" "membership back: the policy applies in the next check-in"

# a changed fact is not answered from the cache
api PATCH "$DAM/androidManagedAppProtections/$pol" '{"maximumAllowedDeviceThreatLevel":"high","minimumRequiredOsVersion":"13.0"}'
checkin_twice
expect_eq "$(decision)" "allow allowed" "os 14 meets a minimum of 13"
app POST /app/v1/checkin '{"app":{"osVersion":"12"}}'
expect_eq "$(jq -r .decision.action <<<"$BODY")" block "a changed fact: the answer is fresh"

# a wipe requested by the admin
app POST /app/v1/checkin '{"app":{"osVersion":"14"}}'
checkin_twice
expect_eq "$(jq -r .wipe <<<"$BODY")" null "no wipe yet"
api POST "/beta/users/$alice/wipeManagedAppRegistrationsByAzureAdDeviceId" "{\"azureAdDeviceId\":\"$DEV\"}"
expect_status 204 "wipe by device"
app POST /app/v1/checkin ""
WID=$(jq -r .wipe.id <<<"$BODY")
[ "$WID" != null ] && [ "$(jq -r .decision.action <<<"$BODY")" = wipe ] && pass || fail "wipe: in the next check-in: $BODY"
checkin_twice
app POST "/app/v1/wipe/$WID/confirm" '{"status":"successful"}'
expect_status 204 "wipe confirmed"
app POST /app/v1/checkin ""
expect_eq "$(jq -r .wipe <<<"$BODY")" null "confirmed: no wipe in the next check-in"

# the live wait answers at once from a cached answer when the app is behind
checkin_twice
app GET "/app/v1/wait?decision=old&timeout=5"
expect_eq "$(jq -r '.changed' <<<"$BODY")" true "wait: a stale decisionVersion answers at once"
expect_eq "$(jq -r '.checkin.decisionVersion' <<<"$BODY")" "$(jq -r .decisionVersion <<<"$(app POST /app/v1/checkin ""; echo "$BODY")")" \
  "wait: the cached answer's version"

# lastSyncDateTime is written in batches (at most once a minute per registration, and whenever
# its answer changes), and on disk after a clean stop
before=$(date -u +%Y-%m-%dT%H:%M:%S)
sleep 1
api PATCH /riskgate/v1/tenantSettings '{"agentAppName":"riskgate-agent"}'
checkin_twice
rg_stop
rg_start
api GET "/beta/users/$alice/managedAppRegistrations"
sync=$(jq -r --arg r "$REG" '.value[] | select(.id == $r) | .lastSyncDateTime' <<<"$BODY")
[[ "$sync" > "$before" ]] && pass || fail "lastSyncDateTime after a clean stop: $sync, expected after $before"

# the registration's user deleted: the token is refused at once
app POST /app/v1/checkin ""
checkin_twice
expect_status 200 "cached again after restart"
api DELETE "/v1.0/users/$alice"
expect_status 204 "user deleted"
app POST /app/v1/checkin ""
expect_error 401 "" "user deleted: the next check-in is refused"
app GET "/app/v1/wait?timeout=1"
expect_error 401 "" "user deleted: the wait is refused"
finish
