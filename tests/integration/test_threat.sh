#!/usr/bin/env bash
# The threat-defense side through the real daemon, with curl playing the device:
# activation (password, enrollment code), heartbeat, configuration keys and
# device tags, detections to alerts and the device's level, analyst resolution,
# privacy keys, the connector-gated threat signal, third-party partners.
source "$(dirname "$0")/lib.sh"
rg_start
DAM=/beta/deviceAppManagement
BUILTIN=fc780465-2017-40d4-a0c5-307022471b92

# device call: dev METHOD PATH [BODY] with $CRED
dev() { api "$1" "$2" "${3-}" "$CRED"; }

api POST /v1.0/users '{"userPrincipalName":"alice@contoso.com","passwordProfile":{"password":"correct horse battery"}}'
expect_status 201 "user with a password"
alice=$(jq -r .id <<<"$BODY")
jq -e 'has("passwordProfile") or has("passwordHash") | not' >/dev/null <<<"$BODY" && pass || fail "password material served: $BODY"
api POST /v1.0/users '{"userPrincipalName":"bob@contoso.com","passwordProfile":{"password":"short"}}'
expect_error 400 passwordProfile.password "too short a password"
api POST /v1.0/users '{"userPrincipalName":"bob@contoso.com"}'
bob=$(jq -r .id <<<"$BODY")
api POST /v1.0/groups '{"displayName":"mobile"}'
grp=$(jq -r .id <<<"$BODY")
api POST "/v1.0/groups/$grp/members/\$ref" "{\"@odata.id\":\"https://graph.microsoft.com/v1.0/directoryObjects/$alice\"}"

act='{"tenant":"default","userPrincipalName":"alice@contoso.com","password":"correct horse battery","device":{"platform":"android","deviceName":"alice-pixel","osVersion":"14","model":"Pixel 8","manufacturer":"Google","agentVersion":"0.1.0"}}'
api POST /device/v1/activate "$(jq '.password = "wrong password!"' <<<"$act")" ""
expect_error 401 "" "wrong password"
api POST /device/v1/activate "$(jq '.userPrincipalName = "nobody@contoso.com"' <<<"$act")" ""
expect_error 401 "" "unknown user"
api POST /device/v1/activate "$(jq '.tenant = "nope"' <<<"$act")" ""
expect_error 401 "" "unknown tenant"
api POST /device/v1/activate "$(jq '.device.platform = "windows"' <<<"$act")" ""
expect_error 400 device.platform "bad platform"
api POST /device/v1/activate "$act" ""
expect_status 201 "activate with a password"
CRED=$(jq -r .credential <<<"$BODY")
DEV=$(jq -r .deviceId <<<"$BODY")
[[ $CRED == rgd_* ]] && pass || fail "device credential"

# the admin's view
api GET "/api/machines/$DEV"
expect_eq "$(jq -r '.computerDnsName + " " + .osPlatform + " " + .riskScore + " " + .onboardingStatus + " " + .healthStatus' <<<"$BODY")" \
  "alice-pixel Android None Onboarded Active" "machine after activation"

# threat signal: connector off, then on
api GET "/riskgate/v1/threatSignal?user=$alice&device=$DEV&platform=android"
expect_eq "$(jq -r .reason <<<"$BODY")" connectorOff "signal with the connector off"
api PATCH "/beta/deviceManagement/mobileThreatDefenseConnectors/$BUILTIN" '{"androidMobileApplicationManagementEnabled":true}'
expect_status 200 "connector on for Android"
api GET "/riskgate/v1/threatSignal?user=$alice&device=$DEV&platform=android"
expect_eq "$(jq -r .reason <<<"$BODY")" partnerUnresponsive "no heartbeat yet: unresponsive"
dev POST /device/v1/heartbeat '{"osVersion":"14.1","permissions":{"vpn":true,"accessibility":false}}'
expect_status 200 "heartbeat"
expect_eq "$(jq -r .threatLevel <<<"$BODY")" secured "level at heartbeat"
api GET "/beta/deviceManagement/mobileThreatDefenseConnectors/$BUILTIN"
expect_eq "$(jq -r .partnerState <<<"$BODY")" enabled "built-in connector enabled and live"
[ "$(jq -r .lastHeartbeatDateTime <<<"$BODY")" != null ] && pass || fail "lastHeartbeatDateTime set"
api GET "/riskgate/v1/threatSignal?user=$alice&device=$DEV&platform=android"
expect_eq "$(jq -r '(.present|tostring) + " " + .level' <<<"$BODY")" "true secured" "signal present"
api GET "/riskgate/v1/threatSignal?user=$alice&platform=android"
expect_eq "$(jq -r .reason <<<"$BODY")" noAgent "no device id: no agent"
api GET "/riskgate/v1/threatSignal?user=$bob&device=$DEV&platform=android"
expect_eq "$(jq -r .reason <<<"$BODY")" agentNotActivated "another user's device is not this user's signal"
api GET "/riskgate/v1/threatSignal?user=$alice&device=$DEV&platform=ios"
expect_eq "$(jq -r .reason <<<"$BODY")" connectorOff "iOS connector still off"

# configuration keys, tags
api POST "$DAM/targetedManagedAppConfigurations" '{"displayName":"Defender","customSettings":[{"name":"DefenderMAMConfigs","value":"1"},{"name":"antiphishing","value":"1"},{"name":"vpn","value":"0"},{"name":"DefenderDeviceTag","value":"byod"},{"name":"DefenderExcludeURLInReport","value":"true"},{"name":"DisableSignOut","value":"1"}]}'
cfg=$(jq -r .id <<<"$BODY")
api POST "$DAM/targetedManagedAppConfigurations/$cfg/targetApps" '{"apps":[{"mobileAppIdentifier":{"@odata.type":"#microsoft.graph.androidMobileAppIdentifier","packageId":"com.microsoft.scmx"}}]}'
api POST "$DAM/targetedManagedAppConfigurations/$cfg/assign" "{\"assignments\":[{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$grp\"}}]}"
api POST "$DAM/targetedManagedAppConfigurations" '{"displayName":"no marker","customSettings":[{"name":"vpn","value":"1"}]}'
cfg2=$(jq -r .id <<<"$BODY")
api POST "$DAM/targetedManagedAppConfigurations/$cfg2/targetApps" '{"apps":[{"mobileAppIdentifier":{"@odata.type":"#microsoft.graph.androidMobileAppIdentifier","packageId":"com.microsoft.scmx"}}]}'
api POST "$DAM/targetedManagedAppConfigurations/$cfg2/assign" "{\"assignments\":[{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$grp\"}}]}"
dev GET /device/v1/config
expect_status 200 "config"
expect_eq "$(jq -r '.settings | .antiphishing + .vpn + .DisableSignOut + .DefenderExcludeURLInReport + " " + .DefenderDeviceTag + " " + .DefenderCertificateDetection' <<<"$BODY")" \
  "1011 byod 1" "seed keys resolved with defaults"
expect_eq "$(jq -r '[.ignoredSets[].displayName] | join(",")' <<<"$BODY")" "no marker" "a set without DefenderMAMConfigs=1 is ignored"
dev POST /device/v1/heartbeat '{}'
api GET "/api/machines/$DEV"
expect_eq "$(jq -r '.machineTags | join(",")' <<<"$BODY")" byod "DefenderDeviceTag shows at the next heartbeat"

# detections -> alert -> level
eicar='{"detections":[{"kind":"malware","key":"sha256:275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f","state":"active","threatName":"Test Virus","fileName":"eicar.com","filePath":"/sdcard/Download/eicar.com","sha256":"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"}]}'
dev POST /device/v1/detections "$eicar"
expect_status 200 "malware detection"
expect_eq "$(jq -r .threatLevel <<<"$BODY")" medium "Test Virus gives medium"
alert=$(jq -r '.alerts[0].alertId' <<<"$BODY")
dev POST /device/v1/detections "$eicar"
expect_eq "$(jq -r '.alerts[0].alertId' <<<"$BODY")" "$alert" "the same threat refreshes its alert"
api GET "/api/alerts/$alert"
expect_eq "$(jq -r '.severity + " " + .status + " " + .machineId + " " + .evidence[0].fileName' <<<"$BODY")" \
  "Medium New $DEV eicar.com" "alert shape"
api GET "/api/machines/$DEV"
expect_eq "$(jq -r '.riskScore + " " + .threatLevel' <<<"$BODY")" "Medium medium" "machine risk"
api GET "/riskgate/v1/threatSignal?user=$alice&device=$DEV&platform=android"
expect_eq "$(jq -r .level <<<"$BODY")" medium "signal follows the level"
dev POST /device/v1/detections '{"detections":[{"kind":"phishing","key":"domain:phish.example","url":"https://phish.example/login"}]}'
expect_eq "$(jq -r .threatLevel <<<"$BODY")" medium "informational phishing does not raise the level"
api GET "/api/alerts?\$filter=kind%20eq%20'phishing'"
expect_eq "$(jq -r '.value[0].severity + " " + (.value[0].evidence[0].url // "none")' <<<"$BODY")" "Informational none" \
  "DefenderExcludeURLInReport keeps the URL off the server"
# OData on alerts (from SQL) and machines, the machine's alerts, $expand=evidence
api GET "/api/machines/$DEV/alerts?\$orderby=severity%20desc&\$count=true"
expect_eq "$(jq -r '(."@odata.count"|tostring) + " " + ([.value[].severity] | join(",")) + " " + ([.value[].machineId] | unique | join(","))' <<<"$BODY")" \
  "2 Medium,Informational $DEV" "/api/machines/{id}/alerts with \$orderby and \$count"
api GET "/api/machines/00000000-0000-0000-0000-000000000000/alerts"
expect_error 404 "" "alerts of an unknown machine"
api GET "/api/alerts?\$filter=severity%20eq%20'Medium'%20and%20machineId%20eq%20'$DEV'"
expect_eq "$(jq -r '[.value[].id] | join(",")' <<<"$BODY")" "$alert" "\$filter on alerts"
expect_eq "$(jq -c '.value[0].evidence' <<<"$BODY")" "[]" "no evidence without \$expand"
api GET "/api/alerts?\$filter=id%20eq%20'$alert'&\$expand=evidence"
expect_eq "$(jq -r '.value[0].evidence[0] | .entityType + " " + .fileName + " " + .sha256 + " " + .detectionStatus + " " + (.evidenceCreationTime != null | tostring)' <<<"$BODY")" \
  "File eicar.com 275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f Detected true" "\$expand=evidence"
api GET "/api/alerts?\$filter=alertCreationTime%20gt%202020-01-01T00:00:00Z%20and%20not%20(severity%20eq%20'Medium')&\$select=severity"
expect_eq "$(jq -c '[.value[] | select(.machineId == null) | .severity] | unique' <<<"$BODY")" '["Informational"]' "datetime gt, not and \$select on alerts"
api GET "/api/alerts?\$filter=colour%20eq%20'red'"
expect_error 400 colour "unknown property in an alert \$filter"
api GET "/api/machines?\$filter=id%20eq%20'$DEV'%20and%20riskScore%20eq%20'medium'"
expect_eq "$(jq -r '[.value[].id] | join(",")' <<<"$BODY")" "$DEV" "\$filter on machines"
# /$count on the Defender lists: the number alone, text/plain, with $filter
apic() { STATUS=$(curl -sS -o "$RG_TMP/resp" -D "$RG_TMP/hdrs" -w '%{http_code}' -H "Authorization: Bearer $RG_KEY" "$RG_URL$1"); BODY=$(cat "$RG_TMP/resp"); }
api GET /api/alerts
nalerts=$(jq '.value | length' <<<"$BODY")
apic '/api/alerts/$count'
expect_status 200 "/api/alerts/\$count"
expect_eq "$BODY" "$nalerts" "/api/alerts/\$count is the number of alerts"
grep -qi '^content-type: text/plain' "$RG_TMP/hdrs" && pass || fail "/api/alerts/\$count is text/plain"
apic "/api/alerts/\$count?\$filter=severity%20eq%20'Medium'"
expect_eq "$BODY" "1" "/api/alerts/\$count with \$filter"
apic "/api/machines/$DEV/alerts/\$count"
expect_eq "$STATUS $BODY" "200 2" "/api/machines/{id}/alerts/\$count"
apic "/api/machines/$DEV/alerts/\$count?\$filter=kind%20eq%20'phishing'"
expect_eq "$BODY" "1" "/api/machines/{id}/alerts/\$count with \$filter"
apic "/api/machines/00000000-0000-0000-0000-000000000000/alerts/\$count"
expect_status 404 "/api/machines/{unknown}/alerts/\$count"
apic '/api/machines/$count'
expect_eq "$STATUS $BODY" "200 1" "/api/machines/\$count"
grep -qi '^content-type: text/plain' "$RG_TMP/hdrs" && pass || fail "/api/machines/\$count is text/plain"
apic "/api/machines/\$count?\$filter=healthStatus%20eq%20'Active'"
expect_eq "$BODY" "1" "/api/machines/\$count with \$filter (a computed property)"
apic "/api/machines/\$count?\$filter=computerDnsName%20eq%20'ALICE-pixel'%20and%20id%20eq%20'$DEV'"
expect_eq "$BODY" "1" "/api/machines/\$count with a \$filter on stored fields (SQL), without regard to case as the list"
api GET "/api/machines?\$filter=computerDnsName%20eq%20'ALICE-pixel'"
expect_eq "$(jq '.value | length' <<<"$BODY")" "1" "the list agrees"
apic "/api/machines/\$count?\$filter=startswith(model,'iPhone')"
expect_eq "$BODY" "0" "/api/machines/\$count with a stored-field \$filter nothing matches"
apic "/api/machines/\$count?\$filter=machineTags/any(t:t%20eq%20'byod')"
expect_eq "$BODY" "1" "/api/machines/\$count with any() on the tags"
apic "/api/machines/\$count?\$filter=osPlatform%20eq%20'iOS'"
expect_eq "$BODY" "0" "/api/machines/\$count with a \$filter nothing matches"
apic "/api/alerts/\$count?\$filter=colour%20eq%20'red'"
expect_error 400 colour "/api/alerts/\$count with an unknown property"
api GET "/api/machines?\$filter=healthStatus%20eq"
expect_error 400 '$filter' "bad \$filter syntax on machines"
dev POST /device/v1/detections '{"detections":[{"kind":"malware","key":"sha256:275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f","state":"resolved"}]}'
expect_eq "$(jq -r .threatLevel <<<"$BODY")" secured "file gone: secured"
api GET "/api/alerts/$alert"
expect_eq "$(jq -r .status <<<"$BODY")" Resolved "alert resolved by the device"

# an analyst resolving lowers the level
dev POST /device/v1/detections '{"detections":[{"kind":"jailbreak","key":"root:su"}]}'
expect_eq "$(jq -r .threatLevel <<<"$BODY")" high "rooted gives high"
jb=$(jq -r '.alerts[0].alertId' <<<"$BODY")
api PATCH "/api/alerts/$jb" '{"status":"Resolved","classification":"FalsePositive","determination":"Clean","comment":"test device"}'
expect_status 200 "analyst resolves"
api GET "/api/machines/$DEV"
expect_eq "$(jq -r .threatLevel <<<"$BODY")" secured "level drops at once"
api PATCH "/api/alerts/$jb" '{"status":"Closed"}'
expect_error 400 status "bad alert status"
api PATCH "/api/alerts/$jb" '{"severity":"Low"}'
expect_error 400 severity "not updatable"

# bad detections
dev POST /device/v1/detections '{"detections":[{"kind":"virus","key":"x"}]}'
expect_error 400 "detections[0].kind" "unknown kind"
dev POST /device/v1/detections '{"detections":[{"kind":"malware"}]}'
expect_error 400 "detections[0].key" "missing key"
dev POST /device/v1/detections '{"detections":[{"kind":"malware","key":"k","extra":1}]}'
expect_error 400 "detections[0].extra" "unknown field"
dev POST /device/v1/detections '{"detections":[{"kind":"malware","key":"ok"},{"kind":"malware","key":"k","time":"yesterday"}]}'
expect_error 400 "detections[1].time" "bad time"
api GET "/api/machines/$DEV"
expect_eq "$(jq -r .threatLevel <<<"$BODY")" secured "a refused batch wrote nothing"

# device credentials cannot do admin things, admin keys are not device credentials
dev GET /beta/deviceAppManagement/managedAppPolicies
expect_error 401 "" "device credential on the admin API"
api GET /device/v1/config
expect_error 401 "" "admin key on the device API"
api POST /api/machines/$DEV/tags '{"Value":"vip","Action":"Add"}'
expect_eq "$(jq -r '.machineTags | join(",")' <<<"$BODY")" "byod,vip" "tag added"
api POST /api/machines/$DEV/tags '{"Value":"vip","Action":"Toggle"}'
expect_error 400 Action "bad tag action"

# enrollment code, once
api POST /riskgate/v1/enrollmentCodes '{"userId":"bob@contoso.com","expiresInMinutes":10}'
expect_status 201 "enrollment code"
code=$(jq -r .code <<<"$BODY")
api POST /device/v1/activate "{\"tenant\":\"default\",\"enrollmentCode\":\"$code\",\"device\":{\"platform\":\"ios\",\"deviceName\":\"bob-iphone\"}}" ""
expect_status 201 "activate with a code"
BOBCRED=$(jq -r .credential <<<"$BODY")
BOBDEV=$(jq -r .deviceId <<<"$BODY")
api POST /device/v1/activate "{\"tenant\":\"default\",\"enrollmentCode\":\"$code\"}" ""
expect_error 401 "" "a code works once"
api POST /riskgate/v1/enrollmentCodes '{"userId":"nobody"}'
expect_error 400 userId "code for an unknown user"

# third-party partner: key, heartbeat, levels, priority, unresponsive
LOOKOUT=2c7790de-8b02-4814-85cf-e0c59380dee8
api POST /beta/deviceManagement/mobileThreatDefenseConnectors "{\"id\":\"$LOOKOUT\",\"iosMobileApplicationManagementEnabled\":true,\"partnerUnresponsivenessThresholdInDays\":1}"
expect_status 201 "third-party connector"
api POST /riskgate/v1/partnerKeys "{\"partnerId\":\"$LOOKOUT\"}"
PKEY=$(jq -r .key <<<"$BODY")
api POST "/partner/v1/devices/$BOBDEV/threatLevel" '{"level":"high"}' "$PKEY"
expect_status 204 "partner posts a level"
api POST "/partner/v1/devices/$BOBDEV/threatLevel" '{"level":"severe"}' "$PKEY"
expect_error 400 level "bad partner level"
api POST "/partner/v1/devices/$BOBDEV/threatLevel" '{"level":"low"}' "$CRED"
expect_error 401 "" "a device credential is not a partner key"
api GET "/riskgate/v1/threatSignal?user=$bob&device=$BOBDEV&platform=ios"
expect_eq "$(jq -r '.level + " " + .partner' <<<"$BODY")" "high $LOOKOUT" "the third party's level on iOS"
api PATCH "/beta/deviceManagement/mobileThreatDefenseConnectors/$BUILTIN" '{"iosMobileApplicationManagementEnabled":true}'
api GET "/riskgate/v1/threatSignal?user=$bob&device=$BOBDEV&platform=ios"
expect_eq "$(jq -r '.level + " " + .partner' <<<"$BODY")" "secured $BUILTIN" "Defender preferred by default"
api GET "/riskgate/v1/threatSignal?user=$bob&device=$BOBDEV&platform=ios&priority=thirdPartyPartnerOverDefender"
expect_eq "$(jq -r .level <<<"$BODY")" high "priority: third party over Defender"
# silence the partner for two days
rg_stop
sqlite3 "$RG_TMP/var/riskgate.db" "UPDATE documents SET body = json_set(body, '\$.lastHeartbeatDateTime', '2020-01-01T00:00:00.0000000Z') WHERE collection = 'mobileThreatDefenseConnectors' AND id = '$LOOKOUT'"
rg_start
api GET "/beta/deviceManagement/mobileThreatDefenseConnectors/$LOOKOUT"
expect_eq "$(jq -r .partnerState <<<"$BODY")" unresponsive "a silent partner is unresponsive"
api GET "/riskgate/v1/threatSignal?user=$bob&device=$BOBDEV&platform=ios&priority=thirdPartyPartnerOverDefender"
expect_eq "$(jq -r .reason <<<"$BODY")" partnerUnresponsive "its data is ignored"
api POST /partner/v1/heartbeat "" "$PKEY"
expect_status 204 "partner heartbeat"
api GET "/beta/deviceManagement/mobileThreatDefenseConnectors/$LOOKOUT"
expect_eq "$(jq -r .partnerState <<<"$BODY")" enabled "back after a heartbeat"

# sign-out: refused by DisableSignOut for alice, allowed for bob
dev POST /device/v1/signout ""
expect_error 403 DisableSignOut "DisableSignOut"
api POST /device/v1/signout "" "$BOBCRED"
expect_status 204 "sign-out"
api POST /device/v1/heartbeat '{}' "$BOBCRED"
expect_error 401 "" "a signed-out credential is revoked"
api GET "/riskgate/v1/threatSignal?user=$bob&device=$BOBDEV&platform=ios"
expect_eq "$(jq -r .reason <<<"$BODY")" agentNotActivated "signed out: not activated"

# an enrollment code survives a refused activation and works once after
api POST /riskgate/v1/enrollmentCodes '{"userId":"alice@contoso.com"}'
code2=$(jq -r .code <<<"$BODY")
[[ $code2 =~ ^[A-Z2-9]{5}-[A-Z2-9]{5}-[A-Z2-9]{5}$ ]] && pass || fail "code shape: $code2"
api POST /device/v1/activate "{\"tenant\":\"default\",\"enrollmentCode\":\"$code2\",\"device\":{\"platform\":\"windows\"}}" ""
expect_error 400 device.platform "refused activation"
api POST /device/v1/activate "{\"tenant\":\"default\",\"enrollmentCode\":\"$code2\",\"device\":{\"platform\":\"android\",\"rooted\":true}}" ""
expect_status 201 "the code still works after a refused activation"
RCRED=$(jq -r .credential <<<"$BODY")
RDEV=$(jq -r .deviceId <<<"$BODY")
api GET "/api/machines/$RDEV"
expect_eq "$(jq -r .threatLevel <<<"$BODY")" high "a device reporting rooted is high"
api POST /device/v1/heartbeat '{"rooted":false}' "$RCRED"
expect_eq "$(jq -r .threatLevel <<<"$BODY")" secured "no longer rooted: secured"

# an admin offboards a device: its credential dies
api POST "/api/machines/$RDEV/offboard" ""
expect_eq "$(jq -r .onboardingStatus <<<"$BODY")" CanBeOnboarded "offboarded"
api POST /device/v1/heartbeat '{}' "$RCRED"
expect_error 401 "" "an offboarded device's credential"
api POST "/api/machines/$RDEV/offboard" ""
expect_error 400 id "offboarding twice"

# a disabled or deleted user's devices stop at once
api PATCH "/v1.0/users/$alice" '{"accountEnabled":false}'
dev POST /device/v1/heartbeat '{}'
expect_error 401 "" "a disabled user's device"
api PATCH "/v1.0/users/$alice" '{"accountEnabled":true}'
dev POST /device/v1/heartbeat '{}'
expect_status 200 "enabled again"
api DELETE "/v1.0/users/$alice"
expect_status 204 "delete the user"
dev POST /device/v1/heartbeat '{}'
expect_error 401 "" "a deleted user's device"
api GET "/api/machines/$DEV"
expect_eq "$(jq -r .onboardingStatus <<<"$BODY")" CanBeOnboarded "its devices are offboarded"

# deleting a connector revokes its partner keys
api DELETE "/beta/deviceManagement/mobileThreatDefenseConnectors/$LOOKOUT"
expect_status 204 "delete the third-party connector"
api POST /partner/v1/heartbeat "" "$PKEY"
expect_error 401 "" "its partner key"
api POST /beta/deviceManagement/mobileThreatDefenseConnectors '{"id":"FC780465-2017-40D4-A0C5-307022471B92"}'
expect_error 409 "" "a case variant of the built-in id is the same connector"
api GET /beta/deviceManagement/mobileThreatDefenseConnectors/FC780465-2017-40D4-A0C5-307022471B92
expect_status 200 "connector ids are case-insensitive"

# open networks and suspicious certificates: a timeline event AND an Informational alert (docs/device-api.md)
api POST /v1.0/users '{"userPrincipalName":"carol@contoso.com","passwordProfile":{"password":"correct horse battery"}}'
api POST /device/v1/activate '{"tenant":"default","userPrincipalName":"carol@contoso.com","password":"correct horse battery","device":{"platform":"android"}}' ""
expect_status 201 "activate carol"
CCRED=$(jq -r .credential <<<"$BODY")
api POST /device/v1/detections '{"detections":[{"kind":"openNetwork","key":"wifi:cafe"},{"kind":"rogueWifi","key":"wifi:evil"}]}' "$CCRED"
expect_status 200 "carol reports"
expect_eq "$(jq -r '([.alerts[].status] | join(",")) + " " + .threatLevel' <<<"$BODY")" "New,New low" \
  "open network: an Informational alert (and a timeline event); rogue Wi-Fi: a low alert"
api POST /device/v1/detections '{"detections":[{"kind":"rogueWifi","key":"wifi:evil","state":"resolved"}]}' "$CCRED"
expect_eq "$(jq -r .threatLevel <<<"$BODY")" secured "an open Informational open-network alert leaves the level at secured"
api POST /device/v1/detections '{"detections":[{"kind":"openNetwork","key":"wifi:cafe","state":"resolved"}]}' "$CCRED"
expect_eq "$(jq -r '.alerts[0].status' <<<"$BODY")" Resolved "the device's resolved report resolves the open-network alert"
api POST /device/v1/detections '{"detections":[{"kind":"certificate","key":"cert:x","ssid":"Cafe","certificateSubject":"CN=Evil","certificateThumbprint":"ab","mode":"audit","host":"h:443","security":"open","bssid":"aa","reason":"r"}]}' "$CCRED"
expect_status 200 "network protection's detail fields are accepted"

# tenants are isolated for devices too
api POST /riskgate/v1/tenants '{"name":"fabrikam"}'
other=$(jq -r .adminKey.key <<<"$BODY")
api GET "/api/machines/$DEV" "" "$other"
expect_error 404 "" "another tenant's machine"
api GET "/api/alerts/$alert" "" "$other"
expect_error 404 "" "another tenant's alert"

# nothing secret or private in the database or the log
rg_stop
for secret in "$CRED" "$BOBCRED" "$PKEY" "$code" "correct horse battery" "phish.example"; do
  if grep -qaF "$secret" "$RG_TMP"/var/riskgate.db* "$RG_TMP/daemon.log"; then fail "'$secret' is stored or logged"; else pass; fi
done
# ---- per device, detection reports are rate limited (--device-report-limit), before the body is read ----
rg_start --device-report-limit 3/60
api POST /v1.0/users '{"userPrincipalName":"limit@contoso.com","passwordProfile":{"password":"limit password 1"}}'
api POST /device/v1/activate "$(jq '.userPrincipalName = "limit@contoso.com" | .password = "limit password 1"' <<<"$act")" ""
expect_status 201 "a fresh device for the limit"
LCRED=$(jq -r .credential <<<"$BODY")
codes=""
for i in 1 2 3 4; do
  api POST /device/v1/detections '{"detections":[]}' "$LCRED"
  codes+="$STATUS "
done
expect_eq "$codes" "200 200 200 429 " "three reports a minute, then 429"
jq -e '.error.code == "TooManyRequests" and (.error.message | test("this device"))' >/dev/null <<<"$BODY" && pass ||
  fail "the 429 is Graph's error body naming the device limit: $BODY"
H=$(curl -sS -D - -o /dev/null -X POST -H "Authorization: Bearer $LCRED" -H 'Content-Type: application/json' \
  --data-binary '{"detections":[]}' "$RG_URL/device/v1/detections")
grep -qi '^retry-after: [1-9]' <<<"$H" && pass || fail "the 429 has Retry-After: $H"
api POST /device/v1/detections '{"detections":[]}' "$CCRED"
expect_status 200 "another device of the same tenant is not limited by the first"
api POST /device/v1/detections 'not json' "$LCRED"
expect_status 429 "the limit applies before the body is parsed"
rg_stop
RG_CONFIG_BAD=$("$RG_BIN_DIR/riskgated" --device-report-limit 0/60 --db "sqlite:$RG_TMP/x.db" 2>&1; echo "exit $?")
[[ "$RG_CONFIG_BAD" == *"device-report-limit"*"exit 2" ]] && pass || fail "a bad --device-report-limit is a usage error: $RG_CONFIG_BAD"

# ---- per device, the alerts and events it may hold (--device-alert-limit) ----
rg_start --device-alert-limit 5
api POST /device/v1/activate "$(jq '.userPrincipalName = "limit@contoso.com" | .password = "limit password 1"' <<<"$act")" ""
expect_status 201 "a device for the alert cap"
QCRED=$(jq -r .credential <<<"$BODY")
det() { # kind key [state]
  printf '{"kind":"%s","key":"%s","threatName":"x"%s}' "$1" "$2" "${3:+,\"state\":\"$3\"}"
}
api POST /device/v1/detections "{\"detections\":[$(det malware k1),$(det malware k2),$(det malware k3)]}" "$QCRED"
expect_status 200 "three alerts"
api POST /device/v1/detections "{\"detections\":[$(det openNetwork net1)]}" "$QCRED"
expect_status 200 "a timeline event and its alert: five things held"
api POST /device/v1/detections "{\"detections\":[$(det malware k4)]}" "$QCRED"
expect_error 507 detections "a sixth alert past --device-alert-limit"
expect_eq "$(jq -r .error.code <<<"$BODY")" quotaLimitReached "Graph's code for a full quota"
api POST /device/v1/detections "{\"detections\":[$(det malware k1),$(det malware k2 resolved)]}" "$QCRED"
expect_status 200 "refreshing and resolving what the device holds still works at the cap"
expect_eq "$(jq -r '[.alerts[] | .key + ":" + .status] | join(" ")' <<<"$BODY")" "k1:New k2:Resolved" "the refresh and the resolution"
rg_stop
RG_CONFIG_BAD=$("$RG_BIN_DIR/riskgated" --device-alert-limit 0 --db "sqlite:$RG_TMP/x.db" 2>&1; echo "exit $?")
[[ "$RG_CONFIG_BAD" == *"device-alert-limit"*"exit 2" ]] && pass || fail "a bad --device-alert-limit is a usage error: $RG_CONFIG_BAD"
finish
