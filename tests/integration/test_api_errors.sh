#!/usr/bin/env bash
# Every class of bad input answers 400 with Graph's error body naming the
# offending property, and nothing is half-written.
source "$(dirname "$0")/lib.sh"
rg_start
A=/beta/deviceAppManagement/androidManagedAppProtections

count_policies() { api GET /beta/deviceAppManagement/managedAppPolicies; jq '.value | length' <<<"$BODY"; }

api POST "$A" '{"displayName":"ok"}'
expect_status 201 "a valid policy"
good=$(jq -r .id <<<"$BODY")
before=$(count_policies)

api POST "$A" '{"displayName": "x",'
expect_error 400 "JSON" "malformed JSON"
api POST "$A" '[1,2]'
expect_error 400 "object" "a body that is not an object"
api POST "$A" ''
expect_error 400 "empty" "empty body"
api POST "$A" '{"displayName":"x","pinRequired":"yes"}'
expect_error 400 pinRequired "string for a Boolean"
api POST "$A" '{"displayName":"x","minimumPinLength":"6"}'
expect_error 400 minimumPinLength "string for an Int32"
api POST "$A" '{"displayName":"x","minimumPinLength":6.5}'
expect_error 400 minimumPinLength "real for an Int32"
api POST "$A" '{"displayName":"x","pinCharacterSet":"emoji"}'
expect_error 400 pinCharacterSet "unknown enum string"
api POST "$A" '{"displayName":"x","pinCharacterSet":1}'
expect_error 400 pinCharacterSet "enum given as a number"
api POST "$A" '{"displayName":"x","maximumAllowedDeviceThreatLevel":"severe"}'
expect_error 400 maximumAllowedDeviceThreatLevel "unknown threat level"
api POST "$A" '{"displayName":"x","fooBar":true}'
expect_error 400 fooBar "unknown property"
api POST "$A" '{"displayName":"x","fooBar":true,"bazQux":1,"minimumPinLength":99}'
expect_error 400 fooBar "several bad properties: one answer naming the first unknown"
expect_error 400 bazQux "... the second unknown"
expect_error 400 minimumPinLength "... and the bad value"
api POST "$A" '{"displayName":"x","maximumPinRetries":0}'
expect_error 400 maximumPinRetries "out-of-range number (low)"
api POST "$A" '{"displayName":"x","maximumPinRetries":70000}'
expect_error 400 maximumPinRetries "out-of-range number (high)"
api POST "$A" '{"displayName":"x","previousPinBlockCount":25}'
expect_error 400 previousPinBlockCount "out-of-range number"
api POST "$A" '{"displayName":"x","periodOfflineBeforeAccessCheck":"12 hours"}'
expect_error 400 periodOfflineBeforeAccessCheck "bad duration"
api POST "$A" '{"displayName":"x","periodOnlineBeforeAccessCheck":"PT"}'
expect_error 400 periodOnlineBeforeAccessCheck "empty duration"
api POST "$A" '{"displayName":"x","minimumRequiredPatchVersion":"2024-13-45"}'
expect_error 400 minimumRequiredPatchVersion "bad patch date"
# versions are dot-separated alphanumeric segments, as Graph's strings allow ("ten", "16.1-beta")
api POST "$A" '{"displayName":"x","minimumRequiredOsVersion":"ten"}'
expect_status 201 "an alphanumeric version segment"
before=$((before + 1))
api POST "$A" '{"displayName":"x","minimumRequiredOsVersion":"1..2"}'
expect_error 400 minimumRequiredOsVersion "bad version"
api POST "$A" '{"displayName":"x","pinRequired":null}'
expect_error 400 pinRequired "null for a non-nullable Boolean"
api POST "$A" '{"description":"no name"}'
expect_error 400 displayName "missing displayName"
api POST "$A" '{"@odata.type":"#microsoft.graph.iosManagedAppProtection","displayName":"x"}'
expect_error 400 "@odata.type" "wrong @odata.type"
api POST /beta/deviceAppManagement/managedAppPolicies '{"displayName":"x"}'
expect_error 400 "@odata.type" "polymorphic POST without @odata.type"
api POST "$A" '{"displayName":"x","targetedAppManagementLevels":"unmanaged,bogus"}'
expect_error 400 targetedAppManagementLevels "unknown flag"
api POST "$A" '{"displayName":"x","allowedDataStorageLocations":["oneDriveForBusiness","floppy"]}'
expect_error 400 allowedDataStorageLocations "unknown enum in a collection"
api POST "$A" '{"displayName":"x","approvedKeyboards":[{"name":"a","value":5}]}'
expect_error 400 approvedKeyboards "keyValuePair with a number for value"
api POST "$A" '{"displayName":"x","assignments":[{"target":{"@odata.type":"#microsoft.graph.groupAssignmentTarget","groupId":"00000000-0000-0000-0000-000000000001"}}]}'
expect_error 400 groupId "deep insert with an unknown group"
api POST "$A" '{"displayName":"x","apps":[{"mobileAppIdentifier":{"@odata.type":"#microsoft.graph.iosMobileAppIdentifier","bundleId":"com.x"}}]}'
expect_error 400 mobileAppIdentifier "iOS app in an Android policy"
head -c 1100000 /dev/zero | tr '\0' ' ' >"$RG_TMP/big.json"
printf '{"displayName":"big"}' >>"$RG_TMP/big.json"
api POST "$A" "@$RG_TMP/big.json"
expect_error 400 "limit" "oversized body"

# PATCH errors leave the stored policy as it was
api GET "$A/$good"
orig=$(jq -S 'del(."@odata.context")' <<<"$BODY")
api PATCH "$A/$good" '{"minimumPinLength":8,"pinCharacterSet":"emoji"}'
expect_error 400 pinCharacterSet "PATCH with one bad property"
api GET "$A/$good"
expect_eq "$(jq -S 'del(."@odata.context")' <<<"$BODY")" "$orig" "a refused PATCH changes nothing"
api POST "$A/$good/assign" '{"assignments":{"x":1}}'
expect_error 400 assignments "assign with a non-array"
api POST "$A/$good/assign" '{"assignments":[{"target":{"@odata.type":"#microsoft.graph.allDevicesAssignmentTarget"}}]}'
expect_error 400 "@odata.type" "unsupported assignment target"
api POST "$A/$good/targetApps" '{"apps":[],"appGroupType":"someApps"}'
expect_error 400 appGroupType "targetApps with an unknown appGroupType"
api POST "$A/$good/targetApps" '{"apps":[],"bogus":1}'
expect_error 400 bogus "targetApps with an unknown parameter"
api GET "/beta/deviceAppManagement/managedAppPolicies?\$top=abc"
expect_error 400 '$top' "bad \$top"
api GET "/beta/deviceAppManagement/managedAppPolicies?\$filter=displayName%20eq"
expect_error 400 '$filter' "\$filter syntax error"
api GET "/beta/deviceAppManagement/managedAppPolicies?\$filter=fooBar%20eq%20'x'"
expect_error 400 'fooBar' "\$filter on an unknown property"
api PUT "$A/$good" '{}'
expect_error 405 "" "unsupported method"
api GET /beta/deviceAppManagement/nothingHere
expect_error 404 "" "unknown route"

# connectors: enums and the one-partner-per-platform rule
C=/beta/deviceManagement/mobileThreatDefenseConnectors
api POST "$C" '{"id":"2c7790de-8b02-4814-85cf-e0c59380dee8","androidMobileApplicationManagementEnabled":true}'
expect_status 201 "a third-party connector"
api POST "$C" '{"id":"08a8455c-48dd-45ff-ad82-7211355354f3","androidMobileApplicationManagementEnabled":true}'
expect_error 400 androidMobileApplicationManagementEnabled "a second third-party partner on one platform"
api PATCH "$C/fc780465-2017-40d4-a0c5-307022471b92" '{"androidMobileApplicationManagementEnabled":true}'
expect_status 200 "the built-in partner beside one other"
api PATCH "$C/fc780465-2017-40d4-a0c5-307022471b92" '{"partnerUnresponsivenessThresholdInDays":"7"}'
expect_error 400 partnerUnresponsivenessThresholdInDays "connector with a string for an Int32"
api POST "$C" '{"id":"not-a-partner"}'
expect_error 400 id "unknown partner id"
api DELETE "$C/fc780465-2017-40d4-a0c5-307022471b92"
expect_error 400 "built-in" "deleting the built-in connector"

# directory
api POST /v1.0/users '{"displayName":"no upn"}'
expect_error 400 userPrincipalName "user without userPrincipalName"
api POST /v1.0/users '{"userPrincipalName":"a@b.c"}'
expect_status 201 "user"
api POST /v1.0/users '{"userPrincipalName":"A@B.C"}'
expect_error 400 userPrincipalName "duplicate userPrincipalName"
api POST /v1.0/groups '{"displayName":"g"}'
gid=$(jq -r .id <<<"$BODY")
api POST "/v1.0/groups/$gid/members/\$ref" '{"@odata.id":"https://graph.microsoft.com/v1.0/directoryObjects/nobody"}'
expect_error 400 "@odata.id" "adding an unknown member"

expect_eq "$(count_policies)" "$before" "no refused request wrote a policy"
rg_stop
finish
