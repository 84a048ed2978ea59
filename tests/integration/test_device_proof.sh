#!/usr/bin/env bash
# Devices prove who they are (issue 11, docs/app-api.md "Device proof"): a
# user with two activated devices, the clean one and one with a threat, tries
# from the app on the threatened one to name the clean one — without a proof,
# with a proof signed by the wrong device's key, with a forged nonce, with
# another proof's signature — and is refused each time; the honest claim is
# taken. Offboarding revokes the key. The ticket names the registration and
# device, and covers the whole answer by a digest anyone can compute.
source "$(dirname "$0")/lib.sh"
rg_start
DAM=/beta/deviceAppManagement
BUILTIN=fc780465-2017-40d4-a0c5-307022471b92
OUTLOOK=com.microsoft.office.outlook

api POST /v1.0/users '{"userPrincipalName":"alice@contoso.com","passwordProfile":{"password":"correct horse battery"}}'
alice=$(jq -r .id <<<"$BODY")
api POST /v1.0/users '{"userPrincipalName":"bob@contoso.com","passwordProfile":{"password":"correct horse battery"}}'
bob=$(jq -r .id <<<"$BODY")
api POST /v1.0/groups '{"displayName":"mobile"}'
grp=$(jq -r .id <<<"$BODY")
for u in "$alice" "$bob"; do
  api POST "/v1.0/groups/$grp/members/\$ref" "{\"@odata.id\":\"https://graph.microsoft.com/v1.0/directoryObjects/$u\"}"
done
api POST "$DAM/androidManagedAppProtections" '{"displayName":"MTD","maximumAllowedDeviceThreatLevel":"secured","mobileThreatDefenseRemediationAction":"block","pinRequired":true}'
pol=$(jq -r .id <<<"$BODY")
api POST "$DAM/androidManagedAppProtections/$pol/targetApps" "{\"apps\":[{\"mobileAppIdentifier\":{\"@odata.type\":\"#microsoft.graph.androidMobileAppIdentifier\",\"packageId\":\"$OUTLOOK\"}}]}"
api POST "$DAM/androidManagedAppProtections/$pol/assign" "{\"assignments\":[{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$grp\"}}]}"
api PATCH "/beta/deviceManagement/mobileThreatDefenseConnectors/$BUILTIN" '{"androidMobileApplicationManagementEnabled":true}'
expect_status 200 "connector on"

# activate USER KEYFILE -> DEV, CRED (the key made as riskgate-agent makes it)
activate() {
  local pub
  pub=$(devkey_new "$2")
  api POST /device/v1/activate "{\"tenant\":\"default\",\"userPrincipalName\":\"$1\",\"password\":\"correct horse battery\",\"devicePublicKey\":\"$pub\",\"device\":{\"platform\":\"android\"}}" ""
  expect_status 201 "activate a device of $1 with its key"
  DEV=$(jq -r .deviceId <<<"$BODY")
  CRED=$(jq -r .credential <<<"$BODY")
}
activate alice@contoso.com "$RG_TMP/clean.key"
CLEAN=$DEV
api POST /device/v1/heartbeat '{}' "$CRED"
activate alice@contoso.com "$RG_TMP/dirty.key"
DIRTY=$DEV
DCRED=$CRED
api POST /device/v1/heartbeat '{}' "$DCRED"
api POST /device/v1/detections '{"detections":[{"kind":"malware","key":"sha256:275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f","threatName":"Test Virus"}]}' "$DCRED"
expect_status 200 "the threat on the second device"

# a bad key at activation: refused, naming the field
api POST /device/v1/activate '{"tenant":"default","userPrincipalName":"alice@contoso.com","password":"correct horse battery","devicePublicKey":"AAAA"}' ""
expect_error 400 devicePublicKey "a device key that is not an Ed25519 public key"

# the nonce: public, 80 hex digits, fresh each time
api GET /app/v1/deviceNonce "" ""
expect_status 200 "a device nonce"
N1=$(jq -r .nonce <<<"$BODY")
[[ $N1 =~ ^[0-9a-f]{80}$ ]] && pass || fail "nonce shape: $N1"
expect_eq "$(jq -r .expiresInSeconds <<<"$BODY")" 300 "a nonce lasts five minutes"
api GET /app/v1/deviceNonce "" ""
[ "$(jq -r .nonce <<<"$BODY")" != "$N1" ] && pass || fail "two nonces are the same"

# register FACTS_JSON_FRAGMENT -> STATUS, BODY
register() {
  api POST /app/v1/register "{\"tenant\":\"default\",\"userPrincipalName\":\"alice@contoso.com\",\"password\":\"correct horse battery\",\"app\":{\"appId\":\"$OUTLOOK\",\"platform\":\"android\",\"agentInstalled\":true$1}}" ""
}
# the attacker's app runs on the threatened device; it names the clean one
register ",\"deviceId\":\"$CLEAN\""
expect_error 403 app.deviceProof "naming a device without a proof"
expect_eq "$(jq -r .error.code <<<"$BODY")" DeviceProofRequired "its error code"
# the threatened device's agent signs for the clean device's id
register ",\"deviceId\":\"$CLEAN\",\"deviceProof\":$(device_proof "$RG_TMP/dirty.key" "$CLEAN")"
expect_error 403 app.deviceProof.signature "a proof by another device's key"
# the clean device's proof of one nonce, moved onto another nonce
api GET /app/v1/deviceNonce "" ""
N2=$(jq -r .nonce <<<"$BODY")
SIG1=$(devkey_sign "$RG_TMP/clean.key" "$CLEAN" "$N1")
register ",\"deviceId\":\"$CLEAN\",\"deviceProof\":{\"nonce\":\"$N2\",\"signature\":\"$SIG1\"}"
expect_error 403 app.deviceProof.signature "a signature over another nonce"
# a nonce the server did not issue (one digit changed), properly signed
FORGED=$(sed 's/^./f/' <<<"$N1"); [ "$FORGED" = "$N1" ] && FORGED=$(sed 's/^./e/' <<<"$N1")
register ",\"deviceId\":\"$CLEAN\",\"deviceProof\":{\"nonce\":\"$FORGED\",\"signature\":\"$(devkey_sign "$RG_TMP/clean.key" "$CLEAN" "$FORGED")\"}"
expect_error 403 app.deviceProof.nonce "a forged nonce"
register ",\"deviceId\":\"$CLEAN\",\"deviceProof\":{\"nonce\":\"$N1\"}"
expect_error 400 app.deviceProof "a proof without a signature"
# a device that does not exist
register ",\"deviceId\":\"00000000-0000-0000-0000-000000000000\",\"deviceProof\":$(device_proof "$RG_TMP/clean.key" 00000000-0000-0000-0000-000000000000)"
expect_error 403 app.deviceId "an unknown device"

# the honest app on the threatened device: taken, and blocked by that device's threat
register ",\"deviceId\":\"$DIRTY\",\"deviceProof\":$(device_proof "$RG_TMP/dirty.key" "$DIRTY")"
expect_status 201 "the device the app runs on, proved"
TOKEN=$(jq -r .token <<<"$BODY")
REG=$(jq -r .registrationId <<<"$BODY")
expect_eq "$(jq -r '.checkin.decision.action + " " + .checkin.decision.reasonCode' <<<"$BODY")" "block threatLevelTooHigh" \
  "the proved device's threat decides"
# a check-in that moves to the clean device: a new claim, so it needs a proof too
api POST /app/v1/checkin "{\"app\":{\"deviceId\":\"$CLEAN\"}}" "$TOKEN"
expect_error 403 app.deviceProof "a check-in naming another device without a proof"
api POST /app/v1/checkin "{\"app\":{\"deviceId\":\"$CLEAN\",\"deviceProof\":$(device_proof "$RG_TMP/dirty.key" "$CLEAN")}}" "$TOKEN"
expect_error 403 app.deviceProof.signature "a check-in naming another device with the wrong key"
api GET "$DAM/managedAppRegistrations/$REG"
expect_eq "$(jq -r .azureADDeviceId <<<"$BODY")" "$DIRTY" "the refused claims changed nothing"
# the held device needs no new proof: repeat check-ins stay on the fast path
api POST /app/v1/checkin "{\"app\":{\"deviceId\":\"$DIRTY\"}}" "$TOKEN"
expect_eq "$(jq -r .decision.action <<<"$BODY")" block "the held device, without a new proof"

# the ticket: the registration and device it was issued to, and the whole answer's digest
jq -r .ticket.payload <<<"$BODY" | base64 -d >"$RG_TMP/payload"
expect_eq "$(jq -r '.registrationId + " " + .deviceId' "$RG_TMP/payload")" "$REG $DIRTY" "the ticket names its registration and device"
want=$(jq -cS '{appConfigurations, decision, settings, wipe}' <<<"$BODY" | tr -d '\n' | sha256sum | cut -d' ' -f1)
expect_eq "$(jq -r .answerSha256 "$RG_TMP/payload")" "$want" "the ticket signs the digest of decision, settings, configuration and wipe"
expect_eq "$(jq -r .settings.pinRequired <<<"$BODY")" true "the settings it covers"

# bob cannot name alice's device, even with its proof: the claim verifies, the signal is not his
api POST /app/v1/register "{\"tenant\":\"default\",\"userPrincipalName\":\"bob@contoso.com\",\"password\":\"correct horse battery\",\"app\":{\"appId\":\"$OUTLOOK\",\"platform\":\"android\",\"agentInstalled\":true,\"deviceId\":\"$CLEAN\",\"deviceProof\":$(device_proof "$RG_TMP/clean.key" "$CLEAN")}}" ""
expect_status 201 "bob on alice's device"
expect_eq "$(jq -r .checkin.decision.reasonCode <<<"$BODY")" agentNotActivated "another user's device gives no signal"

# offboarding revokes the key: the device cannot be claimed any more
api POST "/api/machines/$CLEAN/offboard" '{"Comment":"lost"}'
expect_status 200 "offboard the clean device"
register ",\"deviceId\":\"$CLEAN\",\"deviceProof\":$(device_proof "$RG_TMP/clean.key" "$CLEAN")"
expect_error 403 app.deviceId "an offboarded device's key"
rg_stop
finish
