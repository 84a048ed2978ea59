#!/usr/bin/env bash
# Graph policy API against the real daemon: import of the six Microsoft framework
# files with a property-by-property round trip, PATCH and versions, assign and
# targetApps, app configurations, paging and $filter, and the effective-policy
# merge with includes, excludes and conflicts.
source "$(dirname "$0")/lib.sh"
rg_start
DAM=/beta/deviceAppManagement

# --- import: the six framework files in tests/fixtures (their absence fails the test)
FIX=$(fixtures_dir)
files=("$FIX"/*.json)
[ "${#files[@]}" -eq 6 ] && pass || fail "six framework files in $FIX, found ${#files[@]}"
declare -A ids
for f in "${files[@]}"; do
  type=$(jq -r '."@odata.type"' "$f")
  case $type in
    *androidManagedAppProtection) coll=androidManagedAppProtections ;;
    *iosManagedAppProtection) coll=iosManagedAppProtections ;;
  esac
  api POST "$DAM/$coll" "@$f"
  expect_status 201 "import $(basename "$f")"
  id=$(jq -r .id <<<"$BODY")
  ids[$f]=$id
  [[ $id == T_* ]] && pass || fail "protection id $id does not start with T_"
  jq -e '.version | test("^\".+\"$")' >/dev/null <<<"$BODY" && pass || fail "version is not a quoted ETag: $BODY"
  api GET "$DAM/$coll/$id"
  expect_status 200 "read back $(basename "$f")"
  diff=$(jq -n --slurpfile a "$f" --argjson b "$BODY" \
    '[$a[0] | to_entries[] | select(.key | test("@odata") | not) | select(.key != "isAssigned")
      | select($b[.key] != .value) | {key, want: .value, got: $b[.key]}]')
  expect_eq "$diff" "[]" "round trip of every property of $(basename "$f")"
  # also through the polymorphic collection
  api GET "$DAM/managedAppPolicies/$id"
  expect_status 200 "managedAppPolicies/$id"
done
n=${#files[@]}
api GET "$DAM/managedAppPolicies"
expect_eq "$(jq '.value | length' <<<"$BODY")" "$n" "managedAppPolicies lists every import"
expect_eq "$(jq -r '."@odata.context"' <<<"$BODY")" "$RG_URL/beta/\$metadata#deviceAppManagement/managedAppPolicies" "@odata.context"

# --- a real export with everything a tool adds: BOM, CRLF, @odata annotations, server-owned fields
printf '\xEF\xBB\xBF{\r\n"@odata.context":"https://graph.microsoft.com/beta/$metadata#deviceAppManagement/iosManagedAppProtections/$entity",\r\n"@odata.type":"#microsoft.graph.iosManagedAppProtection",\r\n"id":"T_11111111-1111-1111-1111-111111111111","version":"\\"abc\\"","createdDateTime":"2020-01-01T00:00:00Z","lastModifiedDateTime":"2020-01-01T00:00:00Z","isAssigned":true,"deployedAppCount":3,\r\n"displayName":"export","periodOfflineBeforeAccessCheck@odata.type":"#Duration","periodOfflineBeforeAccessCheck":"PT12H","roleScopeTagIds@odata.type":"#Collection(String)","roleScopeTagIds":["0"],"pinCharacterSet@odata.type":"#microsoft.graph.managedAppPinCharacterSet","pinCharacterSet":"alphanumericAndSymbol",\r\n"assignments@odata.context":"x","apps@odata.associationLink":"y"}\r\n' >"$RG_TMP/export.json"
api POST "$DAM/managedAppPolicies" "@$RG_TMP/export.json"
expect_status 201 "import of an export with BOM, CRLF and annotations"
exp_id=$(jq -r .id <<<"$BODY")
[ "$exp_id" != "T_11111111-1111-1111-1111-111111111111" ] && pass || fail "the server must own the id"
expect_eq "$(jq -r '.pinCharacterSet + " " + .periodOfflineBeforeAccessCheck + " " + (.isAssigned|tostring)' <<<"$BODY")" \
  "alphanumericAndSymbol PT12H false" "export values kept, server-owned fields ignored"

# --- PATCH changes version and lastModifiedDateTime; If-Match guards
api GET "$DAM/iosManagedAppProtections/$exp_id"
v1=$(jq -r .version <<<"$BODY")
sleep 0.01
api PATCH "$DAM/iosManagedAppProtections/$exp_id" '{"minimumPinLength":8,"minimumRequiredOsVersion":"16.1"}'
expect_status 204 "PATCH"
api GET "$DAM/iosManagedAppProtections/$exp_id"
v2=$(jq -r .version <<<"$BODY")
[ "$v1" != "$v2" ] && pass || fail "PATCH did not change version ($v1)"
expect_eq "$(jq -r '.minimumPinLength|tostring' <<<"$BODY")" 8 "PATCH value"
expect_eq "$(jq -r .displayName <<<"$BODY")" export "PATCH keeps other properties"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $RG_KEY" -H "If-Match: $v1" \
  --data '{"minimumPinLength":9}' "$RG_URL$DAM/iosManagedAppProtections/$exp_id")
expect_status 412 "PATCH with a stale If-Match"
api PATCH "$DAM/androidManagedAppProtections/$exp_id" '{"minimumPinLength":9}'
expect_status 404 "an iOS policy is not found under androidManagedAppProtections"

# --- v1.0 serves the same
api GET "/v1.0/deviceAppManagement/iosManagedAppProtections/$exp_id"
expect_status 200 "v1.0 path"

# --- directory, assign, targetApps, effective policy
mkuser() { api POST /v1.0/users "{\"userPrincipalName\":\"$1\",\"displayName\":\"$1\"}"; expect_status 201 "create user $1"; jq -r .id <<<"$BODY"; }
mkgroup() { api POST /v1.0/groups "{\"displayName\":\"$1\"}"; expect_status 201 "create group $1"; jq -r .id <<<"$BODY"; }
alice=$(mkuser alice@contoso.com)
bob=$(mkuser bob@contoso.com)
sales=$(mkgroup sales)
contractors=$(mkgroup contractors)
for pair in "$sales $alice" "$sales $bob" "$contractors $bob"; do
  set -- $pair
  api POST "/v1.0/groups/$1/members/\$ref" "{\"@odata.id\":\"https://graph.microsoft.com/v1.0/directoryObjects/$2\"}"
  expect_status 204 "add member"
done
api GET "/v1.0/groups/$sales/members"
expect_eq "$(jq '.value | length' <<<"$BODY")" 2 "sales has two members"

mkpol() {
  api POST "$DAM/androidManagedAppProtections" "$1"
  expect_status 201 "create policy"
  jq -r .id <<<"$BODY"
}
pa=$(mkpol '{"displayName":"A","minimumPinLength":4,"maximumPinRetries":10,"saveAsBlocked":false,"allowedAndroidDeviceManufacturers":"Google;Samsung","appGroupType":"selectedPublicApps","maximumAllowedDeviceThreatLevel":"medium","mobileThreatDefenseRemediationAction":"block"}')
pb=$(mkpol '{"displayName":"B","minimumPinLength":6,"maximumPinRetries":5,"saveAsBlocked":true,"allowedAndroidDeviceManufacturers":"google","appGroupType":"selectedPublicApps","maximumAllowedDeviceThreatLevel":"secured","mobileThreatDefenseRemediationAction":"wipe"}')
api POST "$DAM/androidManagedAppProtections/$pa/assign" "{\"assignments\":[{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$sales\"}}]}"
expect_status 204 "assign A"
api POST "$DAM/androidManagedAppProtections/$pb/assign" "{\"assignments\":[{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$sales\"}},{\"target\":{\"@odata.type\":\"#microsoft.graph.exclusionGroupAssignmentTarget\",\"groupId\":\"$contractors\"}}]}"
expect_status 204 "assign B with an exclusion"
api GET "$DAM/androidManagedAppProtections/$pb/assignments"
expect_eq "$(jq -r '[.value[].id] | sort | join(",")' <<<"$BODY")" "$(printf '%s\n' "${contractors}_excl" "${sales}_incl" | sort | paste -sd,)" "assignment ids"
api GET "$DAM/androidManagedAppProtections/$pb"
expect_eq "$(jq -r .isAssigned <<<"$BODY")" true "isAssigned after assign"
for p in $pa $pb; do
  api POST "$DAM/androidManagedAppProtections/$p/targetApps" '{"apps":[{"mobileAppIdentifier":{"@odata.type":"#microsoft.graph.androidMobileAppIdentifier","packageId":"com.microsoft.office.outlook"}}],"appGroupType":"selectedPublicApps"}'
  expect_status 204 "targetApps"
done
api GET "$DAM/androidManagedAppProtections/$pa/apps"
expect_eq "$(jq -r '.value[0].id' <<<"$BODY")" "com.microsoft.office.outlook.android" "managedMobileApp id"
api GET "$DAM/androidManagedAppProtections/$pa"
expect_eq "$(jq -r .deployedAppCount <<<"$BODY")" 1 "deployedAppCount"

# app configurations: two sets for Outlook, one key in conflict
mkcfg() {
  api POST "$DAM/targetedManagedAppConfigurations" "$1"
  expect_status 201 "create app configuration"
  local id; id=$(jq -r .id <<<"$BODY")
  [[ $id == A_* ]] && pass || fail "app configuration id $id does not start with A_"
  api POST "$DAM/targetedManagedAppConfigurations/$id/targetApps" '{"apps":[{"mobileAppIdentifier":{"@odata.type":"#microsoft.graph.androidMobileAppIdentifier","packageId":"com.microsoft.office.outlook"}}]}'
  expect_status 204 "config targetApps"
  api POST "$DAM/targetedManagedAppConfigurations/$id/assign" "{\"assignments\":[{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$sales\"}}]}"
  expect_status 204 "config assign"
}
mkcfg '{"displayName":"cfg1","customSettings":[{"name":"antiphishing","value":"1"},{"name":"vpn","value":"1"}]}'
mkcfg '{"displayName":"cfg2","customSettings":[{"name":"antiphishing","value":"1"},{"name":"vpn","value":"0"}]}'

api GET "/riskgate/v1/effectivePolicy?user=alice@contoso.com&app=com.microsoft.office.outlook&platform=android"
expect_status 200 "effective policy for alice"
expect_eq "$(jq -r '[.protectionPolicies[].displayName] | sort | join(",")' <<<"$BODY")" "A,B" "alice gets A and B"
expect_eq "$(jq -r '.settings.minimumPinLength.value' <<<"$BODY")" 6 "longest PIN wins"
expect_eq "$(jq -r '.settings.minimumPinLength.from' <<<"$BODY")" "$pb" "minimumPinLength comes from B"
expect_eq "$(jq -r '.settings.minimumPinLength.others[0].value' <<<"$BODY")" 4 "A wanted 4"
expect_eq "$(jq -r '.settings.maximumPinRetries.value' <<<"$BODY")" 5 "fewest retries wins"
expect_eq "$(jq -r '.settings.saveAsBlocked.value' <<<"$BODY")" true "blocked wins"
expect_eq "$(jq -r '.settings.allowedAndroidDeviceManufacturers.value | ascii_downcase' <<<"$BODY")" "google" "manufacturer lists intersect"
expect_eq "$(jq -r '.settings.maximumAllowedDeviceThreatLevel.value' <<<"$BODY")" "secured" "lowest threat level wins"
expect_eq "$(jq -r '.settings.mobileThreatDefenseRemediationAction.value' <<<"$BODY")" "wipe" "wipe beats block"
expect_eq "$(jq '.appConfigurations | length' <<<"$BODY")" 2 "both app configuration sets delivered"
expect_eq "$(jq -r '[.appConfigurationConflicts[].name] | join(",")' <<<"$BODY")" "vpn" "conflicting key reported"
jq -e '.explanation | map(select(startswith("minimumPinLength = 6 (from policy B"))) | length == 1' >/dev/null <<<"$BODY" \
  && pass || fail "explanation line for minimumPinLength: $(jq -c .explanation <<<"$BODY")"

api GET "/riskgate/v1/effectivePolicy?user=$bob&app=com.microsoft.office.outlook&platform=android"
expect_eq "$(jq -r '[.protectionPolicies[].displayName] | join(",")' <<<"$BODY")" "A" "exclusion wins for bob"
api GET "/riskgate/v1/effectivePolicy?user=alice@contoso.com&app=com.example.other&platform=android"
expect_eq "$(jq -r '.protectionPolicies | length' <<<"$BODY")" 0 "untargeted app gets no policy"
api GET "/beta/users/$bob/getManagedAppPolicies"
expect_status 200 "getManagedAppPolicies"
expect_eq "$(jq -r '[.value[].displayName] | sort | join(",")' <<<"$BODY")" "A,cfg1,cfg2" "bob's policies (B excluded)"

# --- paging and $filter
api GET "$DAM/managedAppPolicies?\$top=2"
expect_eq "$(jq '.value | length' <<<"$BODY")" 2 "\$top=2"
next=$(jq -r '."@odata.nextLink"' <<<"$BODY")
[[ $next == "$RG_URL"* ]] && pass || fail "nextLink missing: $BODY"
STATUS=$(curl -s -o "$RG_TMP/resp" -w '%{http_code}' -H "Authorization: Bearer $RG_KEY" "$next")
expect_status 200 "follow nextLink"
api GET "$DAM/managedAppPolicies?\$filter=displayName%20eq%20'B'"
expect_eq "$(jq -r '[.value[].id] | join(",")' <<<"$BODY")" "$pb" "\$filter=displayName eq 'B'"

# --- delete
api DELETE "$DAM/androidManagedAppProtections/$pa"
expect_status 204 "DELETE"
api GET "$DAM/androidManagedAppProtections/$pa"
expect_error 404 "" "GET after DELETE"

rg_stop
finish
