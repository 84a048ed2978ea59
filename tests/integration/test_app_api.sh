#!/usr/bin/env bash
# The seed's story through the app-facing API, with curl playing the managed
# app (Outlook) and the agent: onboarding screens, allowed once the agent is
# active, blocked the moment a threat is reported (the live wait answers with
# the new decision), allowed after remediation, wipe with confirmation,
# connector off, a `high` maximum, Graph's wipe actions, registrations.
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
api POST "$DAM/androidManagedAppProtections" '{"displayName":"MTD","maximumAllowedDeviceThreatLevel":"secured","mobileThreatDefenseRemediationAction":"block","periodOnlineBeforeAccessCheck":"PT30M"}'
pol=$(jq -r .id <<<"$BODY")
api POST "$DAM/androidManagedAppProtections/$pol/targetApps" "{\"apps\":[{\"mobileAppIdentifier\":{\"@odata.type\":\"#microsoft.graph.androidMobileAppIdentifier\",\"packageId\":\"$OUTLOOK\"}}]}"
api POST "$DAM/androidManagedAppProtections/$pol/assign" "{\"assignments\":[{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$grp\"}}]}"
api PATCH "/beta/deviceManagement/mobileThreatDefenseConnectors/$BUILTIN" '{"androidMobileApplicationManagementEnabled":true}'
api PATCH /riskgate/v1/tenantSettings '{"agentInstallUrl":"https://apps.example.org/riskgate-agent","agentAppName":"riskgate-agent"}'
expect_status 200 "tenant settings"

reg='{"tenant":"default","userPrincipalName":"alice@contoso.com","password":"correct horse battery","app":{"appId":"com.microsoft.office.outlook","platform":"android","appVersion":"4.2401.1","sdkVersion":"0.1.0","osVersion":"14","agentInstalled":false}}'
api POST /app/v1/register "$(jq '.password = "nope nope nope"' <<<"$reg")" ""
expect_error 401 "" "wrong password"
api POST /app/v1/register "$(jq '.app.platform = "symbian"' <<<"$reg")" ""
expect_error 400 app.platform "bad platform"
api POST /app/v1/register "$reg" ""
expect_status 201 "register Outlook"
TOKEN=$(jq -r .token <<<"$BODY")
KEY=$(jq -r .serverKey <<<"$BODY")
[[ $TOKEN == rga_* ]] && [ "$(printf '%s' "$KEY" | base64 -d | wc -c)" = 32 ] && pass || fail "token and a 32-byte Ed25519 key"
expect_eq "$(jq -r '.checkin.decision.title + " | " + .checkin.decision.action' <<<"$BODY")" "Get access | block" "no agent: Get access"
jq -e '.checkin.decision.link == "https://apps.example.org/riskgate-agent"' >/dev/null <<<"$BODY" && pass || fail "the admin's install link: $(jq -c .checkin.decision <<<"$BODY")"
expect_eq "$(jq -r .checkin.nextCheckInSeconds <<<"$BODY")" 1800 "next check-in from periodOnlineBeforeAccessCheck"

# the ticket is signed by the server key over the payload bytes
jq -r .checkin.ticket.payload <<<"$BODY" | base64 -d >"$RG_TMP/payload"
jq -r .checkin.ticket.signature <<<"$BODY" | base64 -d >"$RG_TMP/sig"
{ printf '\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00'; printf '%s' "$KEY" | base64 -d; } >"$RG_TMP/pub.der"
if openssl pkeyutl -verify -pubin -inkey "$RG_TMP/pub.der" -keyform DER -rawin -in "$RG_TMP/payload" -sigfile "$RG_TMP/sig" >/dev/null 2>&1; then pass; else fail "ticket signature does not verify"; fi
sed -i 's/"action":"block"/"action":"allow"/' "$RG_TMP/payload"
if openssl pkeyutl -verify -pubin -inkey "$RG_TMP/pub.der" -keyform DER -rawin -in "$RG_TMP/payload" -sigfile "$RG_TMP/sig" >/dev/null 2>&1; then
  fail "a tampered ticket verifies"; else pass; fi

app() { api "$1" "$2" "${3-}" "$TOKEN"; }
# agent installed, not activated
app POST /app/v1/checkin '{"app":{"agentInstalled":true}}'
expect_eq "$(jq -r .decision.reasonCode <<<"$BODY")" agentNotActivated "agent installed, not activated"
jq -e '.decision.title | test("Launch App to Check the Security Status"; "i")' >/dev/null <<<"$BODY" && pass || fail "screen title: $(jq -c .decision <<<"$BODY")"

# the person activates the agent: allowed
PUB=$(devkey_new "$RG_TMP/device.key")
api POST /device/v1/activate "{\"tenant\":\"default\",\"userPrincipalName\":\"alice@contoso.com\",\"password\":\"correct horse battery\",\"devicePublicKey\":\"$PUB\",\"device\":{\"platform\":\"android\",\"deviceName\":\"alice-pixel\"}}" ""
CRED=$(jq -r .credential <<<"$BODY")
DEV=$(jq -r .deviceId <<<"$BODY")
api POST /device/v1/heartbeat '{}' "$CRED"
app POST /app/v1/checkin "{\"app\":{\"deviceId\":\"$DEV\",\"agentInstalled\":true,\"deviceProof\":$(device_proof "$RG_TMP/device.key" "$DEV")}}"
expect_eq "$(jq -r .decision.action <<<"$BODY")" allow "activated agent: allowed"
DV=$(jq -r .decisionVersion <<<"$BODY")

# the running app waits; the agent reports the Test Virus; the app learns within a second
curl -s -H "Authorization: Bearer $TOKEN" "$RG_URL/app/v1/wait?decision=$DV&timeout=30" >"$RG_TMP/w1" &
w1=$!
sleep 0.3
t0=$(date +%s%3N)
eicar='{"detections":[{"kind":"malware","key":"sha256:275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f","threatName":"Test Virus"}]}'
api POST /device/v1/detections "$eicar" "$CRED"
wait $w1
t1=$(date +%s%3N)
expect_eq "$(jq -r '.checkin.decision.title + " | " + .checkin.decision.reasonCode' "$RG_TMP/w1")" \
  "Access blocked | threatLevelTooHigh" "the running app is blocked"
[ $((t1 - t0)) -lt 1000 ] && pass || fail "decision change took $((t1 - t0)) ms"
echo "app-api: detection to running app's decision: $((t1 - t0)) ms"

# remediation: the file is gone, recheck access
api POST /device/v1/detections "$(jq '.detections[0].state = "resolved"' <<<"$eicar")" "$CRED"
app POST /app/v1/checkin ""
expect_eq "$(jq -r .decision.action <<<"$BODY")" allow "remediated: allowed again"

# the threat row with Wipe: a wipe request, delivered, confirmed once
api PATCH "$DAM/androidManagedAppProtections/$pol" '{"mobileThreatDefenseRemediationAction":"wipe"}'
api POST /device/v1/detections "$(jq '.detections[0].key = "sha256:2"' <<<"$eicar")" "$CRED"
app POST /app/v1/checkin ""
expect_eq "$(jq -r .decision.action <<<"$BODY")" wipe "threat row with wipe"
WID=$(jq -r .wipe.id <<<"$BODY")
[ "$WID" != null ] && pass || fail "a wipe request is delivered"
app POST /app/v1/checkin ""
expect_eq "$(jq -r .wipe.id <<<"$BODY")" "$WID" "the same request until confirmed"
app POST "/app/v1/wipe/$WID/confirm" '{"status":"done"}'
expect_error 400 status "bad confirmation"
app POST "/app/v1/wipe/$WID/confirm" '{"status":"successful"}'
expect_status 204 "wipe confirmed"
app POST "/app/v1/wipe/$WID/confirm" '{"status":"successful"}'
expect_error 400 status "confirmed once"
api GET /riskgate/v1/wipeRequests
expect_eq "$(jq -r --arg w "$WID" '.value[] | select(.id == $w) | .status' <<<"$BODY")" successful "wipe request state"
app POST /app/v1/checkin ""
expect_eq "$(jq -r '.wipe' <<<"$BODY")" null "no second wipe for the same registration"
out=$(RISKGATE_URL=$RG_URL RISKGATE_TOKEN=$RG_KEY "$RG_BIN_DIR/riskgate" wipes list)
grep -q "$WID *successful" <<<"$out" && pass || fail "riskgate wipes list shows the state: $out"
api POST /device/v1/detections "$(jq '.detections[0].key = "sha256:2" | .detections[0].state = "resolved"' <<<"$eicar")" "$CRED"
api PATCH "$DAM/androidManagedAppProtections/$pol" '{"mobileThreatDefenseRemediationAction":"block"}'

# connector off: the threat row is ignored
api POST /device/v1/detections "$(jq '.detections[0].key = "sha256:3"' <<<"$eicar")" "$CRED"
app POST /app/v1/checkin ""
expect_eq "$(jq -r .decision.action <<<"$BODY")" block "medium threat, connector on: blocked"
api PATCH "/beta/deviceManagement/mobileThreatDefenseConnectors/$BUILTIN" '{"androidMobileApplicationManagementEnabled":false}'
app POST /app/v1/checkin ""
expect_eq "$(jq -r .decision.action <<<"$BODY")" allow "connector off: the threat row is ignored"
api PATCH "/beta/deviceManagement/mobileThreatDefenseConnectors/$BUILTIN" '{"androidMobileApplicationManagementEnabled":true}'

# a `high` maximum: allowed while the agent is active, refused without it
api PATCH "$DAM/androidManagedAppProtections/$pol" '{"maximumAllowedDeviceThreatLevel":"high"}'
app POST /app/v1/checkin ""
expect_eq "$(jq -r .decision.action <<<"$BODY")" allow "high: allowed with an active agent"
api POST "/api/machines/$DEV/offboard" ""
app POST /app/v1/checkin ""
expect_eq "$(jq -r .decision.action <<<"$BODY")" block "high: refused without an active agent"

# Graph's user actions and registrations
api GET "/beta/deviceAppManagement/managedAppRegistrations"
expect_eq "$(jq -r '.value[0]["@odata.type"] + " " + .value[0].appIdentifier.packageId' <<<"$BODY")" \
  "#microsoft.graph.androidManagedAppRegistration $OUTLOOK" "registration in Graph's shape"
regid=$(jq -r '.value[0].id' <<<"$BODY")
api GET "/beta/deviceAppManagement/managedAppRegistrations/$regid"
expect_eq "$(jq -r '.id + " " + .appIdentifier.packageId' <<<"$BODY")" "$regid $OUTLOOK" "one registration by id"
api GET "/beta/deviceAppManagement/managedAppRegistrations('$regid')"
expect_status 200 "one registration by key syntax"
api GET "/beta/deviceAppManagement/managedAppRegistrations/nope"
expect_error 404 managedAppRegistration "a missing registration"
api GET "/beta/users/$alice/isManagedAppUserBlocked"
expect_eq "$(jq -r .value <<<"$BODY")" false "not blocked"
api POST "/beta/users/$alice/wipeAndBlockManagedApps" ""
expect_status 204 "wipeAndBlockManagedApps"
api GET "/beta/users/$alice/isManagedAppUserBlocked"
expect_eq "$(jq -r .value <<<"$BODY")" true "blocked"
app POST /app/v1/checkin ""
expect_eq "$(jq -r '.decision.reasonCode + " " + (.wipe != null | tostring)' <<<"$BODY")" "wipeRequested true" "blocked user: wiped first"
BW=$(jq -r .wipe.id <<<"$BODY")
jq -r .ticket.payload <<<"$BODY" | base64 -d | jq -e '.action == "wipe"' >/dev/null && pass || fail "the signed ticket says wipe"
app POST "/app/v1/wipe/$BW/confirm" '{"status":"successful"}'
app POST /app/v1/checkin ""
expect_eq "$(jq -r '.decision.reasonCode + " " + (.wipe | tostring)' <<<"$BODY")" "userBlocked null" "then blocked, and wiped only once"
api POST "/beta/users/$alice/unblockManagedApps" ""
api GET "/beta/users/$alice/isManagedAppUserBlocked"
expect_eq "$(jq -r .value <<<"$BODY")" false "unblocked"
api POST "/beta/users/$alice/wipeManagedAppRegistrationsByAzureAdDeviceId" '{"azureAdDeviceId":""}'
expect_error 400 azureAdDeviceId "empty device id"

# tokens are scoped: another tenant and the admin API
app GET /beta/deviceAppManagement/managedAppPolicies
expect_error 401 "" "a registration token on the admin API"
api POST /app/v1/checkin "" "$CRED"
expect_error 401 "" "a device credential is not a registration token"

# a disabled account (accountEnabled false) is refused on the app side too, whatever the policy's optional rows say
api POST /v1.0/users '{"userPrincipalName":"eve@contoso.com","accountEnabled":false,"passwordProfile":{"password":"correct horse battery"}}'
eve=$(jq -r .id <<<"$BODY")
api POST "/v1.0/groups/$grp/members/\$ref" "{\"@odata.id\":\"https://graph.microsoft.com/v1.0/directoryObjects/$eve\"}"
ereg=$(jq '.userPrincipalName = "eve@contoso.com"' <<<"$reg")
api POST /app/v1/register "$ereg" ""
expect_error 403 accountEnabled "a disabled account cannot register an app"
api PATCH "/v1.0/users/$eve" '{"accountEnabled":true}'
api POST /app/v1/register "$ereg" ""
expect_status 201 "enabled, eve registers"
ETOKEN=$(jq -r .token <<<"$BODY")
api PATCH "/v1.0/users/$eve" '{"accountEnabled":false}'
api POST /app/v1/checkin '{"app":{"agentInstalled":false}}' "$ETOKEN"
expect_eq "$(jq -r '.decision.action + " " + .decision.reasonCode' <<<"$BODY")" "block accountDisabled" \
  "disabled later, eve's check-in is blocked though the policy has no disabledAccount row"
rg_stop
if grep -qaF "$TOKEN" "$RG_TMP"/var/riskgate.db* "$RG_TMP/daemon.log"; then fail "the token is stored or logged"; else pass; fi
finish
