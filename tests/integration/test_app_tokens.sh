#!/usr/bin/env bash
# App configuration tokens (docs/api.md, "App configuration tokens"): one
# configuration for Outlook holding {{userprincipalname}}, {{partialupn}},
# {{mail}}, {{deviceid}}, {{userid}}, {{username}}, {{accountid}}, an unknown
# {{foo}} and a case variant; two users check in and each gets their own
# values (the check-in cache shares nothing between them, also on the cached
# path and the live wait); a user's change reaches the next check-in; Graph
# still shows the raw tokens.
source "$(dirname "$0")/lib.sh"
rg_start
DAM=/beta/deviceAppManagement
OUTLOOK=com.microsoft.office.outlook

api POST /v1.0/users '{"userPrincipalName":"alice@contoso.com","displayName":"Alice Liddell","mail":"alice.liddell@contoso.com","passwordProfile":{"password":"correct horse battery"}}'
expect_status 201 "alice"
alice=$(jq -r .id <<<"$BODY")
api POST /v1.0/users '{"userPrincipalName":"bob@fabrikam.com","displayName":"Bob","passwordProfile":{"password":"correct horse battery"}}'
expect_status 201 "bob (no mail)"
bob=$(jq -r .id <<<"$BODY")
api POST /v1.0/groups '{"displayName":"mobile"}'
grp=$(jq -r .id <<<"$BODY")
for u in "$alice" "$bob"; do
  api POST "/v1.0/groups/$grp/members/\$ref" "{\"@odata.id\":\"https://graph.microsoft.com/v1.0/directoryObjects/$u\"}"
done
target="{\"apps\":[{\"mobileAppIdentifier\":{\"@odata.type\":\"#microsoft.graph.androidMobileAppIdentifier\",\"packageId\":\"$OUTLOOK\"}}]}"
assign="{\"assignments\":[{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$grp\"}}]}"
api POST "$DAM/androidManagedAppProtections" '{"displayName":"MTD"}'
pol=$(jq -r .id <<<"$BODY")
api POST "$DAM/androidManagedAppProtections/$pol/targetApps" "$target"
api POST "$DAM/androidManagedAppProtections/$pol/assign" "$assign"

settings='[{"name":"upn","value":"{{userprincipalname}}"},{"name":"partial","value":"{{partialupn}}"},{"name":"mail","value":"{{mail}}"},{"name":"smtp","value":"{{PrimarySMTPAddress}}"},{"name":"device","value":"{{deviceid}}"},{"name":"user","value":"{{userid}}"},{"name":"name","value":"{{username}}"},{"name":"account","value":"{{accountid}}"},{"name":"odd","value":"{{foo}}"},{"name":"url","value":"https://mail.example/{{PartialUPN}}/?u={{UserId}}"},{"name":"plain","value":"no tokens"}]'
api POST "$DAM/targetedManagedAppConfigurations" "{\"displayName\":\"tokens\",\"customSettings\":$settings}"
expect_status 201 "configuration with tokens"
cfg=$(jq -r .id <<<"$BODY")
api POST "$DAM/targetedManagedAppConfigurations/$cfg/targetApps" "$target"
api POST "$DAM/targetedManagedAppConfigurations/$cfg/assign" "$assign"
expect_status 204 "configuration assigned"

# the setting named $1 of the "tokens" configuration in a check-in answer (BODY)
val() { jq -r --arg n "$1" '.appConfigurations[] | select(.displayName == "tokens") | .customSettings[] | select(.name == $n) | .value' <<<"$BODY"; }

# activate_dev USER KEYFILE: an activated device with a device key -> ACT_DEV
activate_dev() {
  local pub
  pub=$(devkey_new "$2")
  api POST /device/v1/activate "{\"tenant\":\"default\",\"userPrincipalName\":\"$1\",\"password\":\"correct horse battery\",\"devicePublicKey\":\"$pub\",\"device\":{\"platform\":\"android\",\"deviceName\":\"phone\"}}" ""
  expect_status 201 "activate a device of $1"
  ACT_DEV=$(jq -r .deviceId <<<"$BODY")
}
activate_dev alice@contoso.com "$RG_TMP/alice1.key"
ADEV1=$ACT_DEV
activate_dev alice@contoso.com "$RG_TMP/alice2.key"
ADEV2=$ACT_DEV
register() { # user [device keyfile] -> REG_TOKEN
  local dev=""
  [ -n "${2-}" ] && dev=",\"deviceId\":\"$2\",\"deviceProof\":$(device_proof "$3" "$2")"
  api POST /app/v1/register "{\"tenant\":\"default\",\"userPrincipalName\":\"$1\",\"password\":\"correct horse battery\",\"app\":{\"appId\":\"$OUTLOOK\",\"platform\":\"android\",\"appVersion\":\"4.2401.1\",\"sdkVersion\":\"0.1.0\",\"osVersion\":\"14\"$dev}}" ""
  expect_status 201 "register $1"
  REG_TOKEN=$(jq -r .token <<<"$BODY")
}
register alice@contoso.com "$ADEV1" "$RG_TMP/alice1.key"
TA=$REG_TOKEN
register bob@fabrikam.com
TB=$REG_TOKEN

check_alice() { # $1: label
  expect_eq "$(val upn)" alice@contoso.com "$1: {{userprincipalname}}"
  expect_eq "$(val partial)" alice "$1: {{partialupn}}"
  expect_eq "$(val mail)" alice.liddell@contoso.com "$1: {{mail}}"
  expect_eq "$(val smtp)" alice.liddell@contoso.com "$1: {{PrimarySMTPAddress}}"
  expect_eq "$(val device)" "$ADEV1" "$1: {{deviceid}}"
  expect_eq "$(val user)" "$alice" "$1: {{userid}}"
  expect_eq "$(val name)" "Alice Liddell" "$1: {{username}}"
  expect_eq "$(val odd)" "{{foo}}" "$1: an unknown token stays"
  expect_eq "$(val url)" "https://mail.example/alice/?u=$alice" "$1: tokens inside text, any case"
  expect_eq "$(val plain)" "no tokens" "$1: plain value"
}
check_bob() {
  expect_eq "$(val upn)" bob@fabrikam.com "$1: bob's {{userprincipalname}}"
  expect_eq "$(val partial)" bob "$1: bob's {{partialupn}}"
  expect_eq "$(val mail)" "" "$1: bob has no mail: {{mail}} is empty"
  expect_eq "$(val smtp)" "" "$1: bob's {{PrimarySMTPAddress}} is empty"
  expect_eq "$(val device)" "" "$1: bob's registration has no device"
  expect_eq "$(val user)" "$bob" "$1: bob's {{userid}}"
  expect_eq "$(val name)" "Bob" "$1: bob's {{username}}"
  expect_eq "$(val odd)" "{{foo}}" "$1: an unknown token stays for bob"
}

api POST /app/v1/checkin "" "$TA"
expect_status 200 "alice checks in"
check_alice "alice, first"
acct=$(val account)
[[ $acct =~ ^[0-9a-f-]{36}$ ]] && pass || fail "{{accountid}} is the tenant id: '$acct'"
va=$(jq -r .decisionVersion <<<"$BODY")
api POST /app/v1/checkin "" "$TB"
expect_status 200 "bob checks in"
check_bob "bob, first"
expect_eq "$(val account)" "$acct" "same tenant, same {{accountid}}"
vb=$(jq -r .decisionVersion <<<"$BODY")
[ "$va" != "$vb" ] && pass || fail "alice and bob share a decisionVersion ($va) though their values differ"

# again: now from the check-in cache (appcache), still each their own
api POST /app/v1/checkin "" "$TA"
check_alice "alice, cached"
expect_eq "$(jq -r .decisionVersion <<<"$BODY")" "$va" "alice's version is stable"
api POST /app/v1/checkin "" "$TB"
check_bob "bob, cached"
api GET "/app/v1/wait?timeout=1" "" "$TB"
BODY=$(jq .checkin <<<"$BODY")
check_bob "bob, the live wait's answer"

# the user's data changes: the next check-in has the new values
api PATCH "/v1.0/users/$bob" '{"mail":"bob@fabrikam.com","displayName":"Robert"}'
expect_status 204 "bob gets a mail"
api POST /app/v1/checkin "" "$TB"
expect_eq "$(val mail)" bob@fabrikam.com "bob's new mail"
expect_eq "$(val name)" Robert "bob's new display name"
[ "$(jq -r .decisionVersion <<<"$BODY")" != "$vb" ] && pass || fail "bob's version did not move with his values"
# a new device id on the registration
api POST /app/v1/checkin "{\"app\":{\"deviceId\":\"$ADEV2\",\"deviceProof\":$(device_proof "$RG_TMP/alice2.key" "$ADEV2")}}" "$TA"
expect_eq "$(val device)" "$ADEV2" "alice's new device id"

# the agent's configuration: admin values for the agent app are substituted for the device's user
api POST "$DAM/targetedManagedAppConfigurations" '{"displayName":"agent","customSettings":[{"name":"DefenderMAMConfigs","value":"1"},{"name":"DefenderDeviceTag","value":"{{partialupn}}-{{deviceid}}"},{"name":"note","value":"{{mail}} {{foo}}"}]}'
expect_status 201 "agent configuration with tokens"
acfg=$(jq -r .id <<<"$BODY")
api POST "$DAM/targetedManagedAppConfigurations/$acfg/targetApps" '{"apps":[{"mobileAppIdentifier":{"@odata.type":"#microsoft.graph.androidMobileAppIdentifier","packageId":"org.riskgate.agent"}}]}'
api POST "$DAM/targetedManagedAppConfigurations/$acfg/assign" "$assign"
for who in alice@contoso.com bob@fabrikam.com; do
  api POST /device/v1/activate "{\"tenant\":\"default\",\"userPrincipalName\":\"$who\",\"password\":\"correct horse battery\",\"device\":{\"platform\":\"android\",\"deviceName\":\"phone\"}}" ""
  expect_status 201 "activate $who's agent"
  cred=$(jq -r .credential <<<"$BODY")
  devid=$(jq -r .deviceId <<<"$BODY")
  api GET /device/v1/config "" "$cred"
  expect_status 200 "$who's agent configuration"
  expect_eq "$(jq -r .settings.DefenderDeviceTag <<<"$BODY")" "${who%@*}-$devid" "$who's agent: DefenderDeviceTag substituted"
  want="{{foo}}"; [ "$who" = alice@contoso.com ] && want="alice.liddell@contoso.com {{foo}}" || want="bob@fabrikam.com {{foo}}"
  expect_eq "$(jq -r '.sets[] | select(.displayName == "agent") | .customSettings[] | select(.name == "note") | .value' <<<"$BODY")" "$want" "$who's agent: the set's values substituted"
done

# Graph shows what the admin wrote
api GET "$DAM/targetedManagedAppConfigurations/$cfg"
expect_status 200 "Graph GET"
expect_eq "$(jq -c .customSettings <<<"$BODY")" "$(jq -c . <<<"$settings")" "Graph keeps the raw tokens"
rg_stop
finish
