#!/usr/bin/env bash
# Resources real Intune scripts read (issue: Graph/Defender compatibility, item 7): the
# deviceAppManagement singleton and a policy's deploymentSummary, in the shapes of Graph's docs.
source "$(dirname "$0")/lib.sh"
rg_start
DAM=/beta/deviceAppManagement
OUTLOOK=com.microsoft.office.outlook

api GET /beta/deviceAppManagement
expect_status 200 "GET the deviceAppManagement singleton"
expect_eq "$(jq -r '."@odata.type" + " " + .microsoftStoreForBusinessPortalSelection' <<<"$BODY")" \
  "#microsoft.graph.deviceAppManagement none" "the singleton's type and properties"
api GET /beta/deviceAppManagement "" ""
expect_error 401 "" "the singleton needs a key"

for u in alice bob; do
  api POST /v1.0/users "{\"userPrincipalName\":\"$u@contoso.com\",\"passwordProfile\":{\"password\":\"correct horse battery\"}}"
  declare "$u=$(jq -r .id <<<"$BODY")"
done
api POST /v1.0/groups '{"displayName":"mobile"}'
grp=$(jq -r .id <<<"$BODY")
api POST "/v1.0/groups/$grp/members/\$ref" "{\"@odata.id\":\"https://graph.microsoft.com/v1.0/directoryObjects/$alice\"}"
api POST "$DAM/androidManagedAppProtections" '{"displayName":"Outlook baseline"}'
pol=$(jq -r .id <<<"$BODY")
api POST "$DAM/androidManagedAppProtections/$pol/targetApps" "{\"apps\":[{\"mobileAppIdentifier\":{\"@odata.type\":\"#microsoft.graph.androidMobileAppIdentifier\",\"packageId\":\"$OUTLOOK\"}}]}"
api POST "$DAM/androidManagedAppProtections/$pol/assign" "{\"assignments\":[{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$grp\"}}]}"

api GET "$DAM/androidManagedAppProtections/$pol/deploymentSummary"
expect_status 200 "deploymentSummary before any registration"
expect_eq "$(jq -r '."@odata.type" + " " + (.configurationDeployedUserCount|tostring) + " " + .displayName' <<<"$BODY")" \
  "#microsoft.graph.managedAppPolicyDeploymentSummary 0 Outlook baseline" "nobody reached yet"

reg() { jq -nc --arg u "$1" --arg a "$2" '{tenant:"default",userPrincipalName:($u+"@contoso.com"),password:"correct horse battery",app:{appId:$a,platform:"android",appVersion:"1",sdkVersion:"0.1.0",osVersion:"14",agentInstalled:false}}'; }
api POST /app/v1/register "$(reg alice $OUTLOOK)" ""
expect_status 201 "alice registers Outlook"
areg=$(jq -r .registrationId <<<"$BODY")
atok=$(jq -r .token <<<"$BODY")
api POST /app/v1/register "$(reg alice com.example.other)" ""
expect_status 201 "alice registers an app the policy does not target"
api POST /app/v1/register "$(reg bob $OUTLOOK)" ""
expect_status 201 "bob (not in the group) registers Outlook"
breg=$(jq -r .registrationId <<<"$BODY")

api GET "$DAM/androidManagedAppProtections('$pol')/deploymentSummary"
expect_status 200 "deploymentSummary through key syntax"
expect_eq "$(jq -r .configurationDeployedUserCount <<<"$BODY")" "1" "only alice's Outlook is reached"
expect_eq "$(jq -c '[.configurationDeploymentSummaryPerApp[] | {p: .mobileAppIdentifier.packageId, n: .configurationAppliedUserCount}]' <<<"$BODY")" \
  "[{\"p\":\"$OUTLOOK\",\"n\":1}]" "per app: Outlook, one user"
[[ "$(jq -r .lastRefreshTime <<<"$BODY")" == 20* ]] && pass || fail "lastRefreshTime is a time: $BODY"
api GET "$DAM/managedAppPolicies/$pol/deploymentSummary"
expect_eq "$(jq -r .configurationDeployedUserCount <<<"$BODY")" "1" "the same through managedAppPolicies"
api GET "$DAM/iosManagedAppProtections/$pol/deploymentSummary"
expect_error 404 "" "an Android policy is not found among iOS ones"
api GET "$DAM/androidManagedAppProtections/nope/deploymentSummary"
expect_error 404 "" "an unknown policy"

# ---- $expand=deploymentSummary on lists and single gets: the navigation's object under its name ----
api POST "$DAM/iosManagedAppProtections" '{"displayName":"iOS baseline"}'
ipol=$(jq -r .id <<<"$BODY")
api GET "$DAM/androidManagedAppProtections?\$expand=deploymentSummary"
expect_status 200 "a list with \$expand=deploymentSummary"
expect_eq "$(jq -r --arg p "$pol" '.value[] | select(.id == $p) | .deploymentSummary | ."@odata.type" + " " + .id + " " + (.configurationDeployedUserCount|tostring)' <<<"$BODY")" \
  "#microsoft.graph.managedAppPolicyDeploymentSummary $pol 1" "the list's policy carries its deploymentSummary"
expect_eq "$(jq -c '[.value[] | has("assignments")] | unique' <<<"$BODY")" "[false]" "deploymentSummary alone does not expand assignments"
api GET "$DAM/androidManagedAppProtections/$pol?\$expand=deploymentSummary"
expect_eq "$STATUS $(jq -r '.deploymentSummary.configurationDeployedUserCount|tostring' <<<"$BODY")" "200 1" "a single get with \$expand=deploymentSummary"
expect_eq "$(jq -c '[.deploymentSummary.configurationDeploymentSummaryPerApp[].mobileAppIdentifier.packageId]' <<<"$BODY")" \
  "[\"$OUTLOOK\"]" "the expanded summary is the navigation's, per app"
api GET "$DAM/androidManagedAppProtections('$pol')?\$expand=deploymentSummary,assignments&\$select=displayName"
expect_eq "$(jq -c '[keys[] | select(startswith("@") | not)]' <<<"$BODY")" '["assignments","deploymentSummary","displayName","id"]' \
  "\$expand keeps its navigations under \$select"
api GET "$DAM/androidManagedAppProtections/$pol"
expect_eq "$(jq -r 'has("deploymentSummary")' <<<"$BODY")" false "no deploymentSummary without \$expand"
api GET "$DAM/iosManagedAppProtections/$ipol?\$expand=deploymentSummary"
expect_eq "$STATUS $(jq -r '.deploymentSummary.displayName + " " + (.deploymentSummary.configurationDeployedUserCount|tostring)' <<<"$BODY")" \
  "200 iOS baseline 0" "iosManagedAppProtections/{id} with \$expand=deploymentSummary"
api GET "$DAM/iosManagedAppProtections?\$expand=deploymentSummary"
expect_eq "$(jq -r '[.value[].deploymentSummary.id] | join(",")' <<<"$BODY")" "$ipol" "iosManagedAppProtections list with \$expand"
api GET "$DAM/managedAppPolicies?\$expand=deploymentSummary&\$filter=displayName%20eq%20'Outlook%20baseline'"
expect_eq "$(jq -r '.value[] | .id + " " + (.deploymentSummary.configurationDeployedUserCount|tostring)' <<<"$BODY")" "$pol 1" \
  "managedAppPolicies list with \$expand and \$filter"
api GET "$DAM/managedAppPolicies/$pol?\$expand=deploymentSummary"
expect_eq "$(jq -r '.deploymentSummary.configurationDeployedUserCount|tostring' <<<"$BODY")" "1" "managedAppPolicies/{id} with \$expand"
api GET "$DAM/androidManagedAppProtections?\$expand=deploymentSummary,colour"
expect_error 400 colour "an unknown \$expand on a list names it"
api GET "$DAM/androidManagedAppProtections/$pol?\$expand=colour"
expect_error 400 colour "an unknown \$expand on a single get names it"

# ---- a registration's navigation: intendedPolicies, appliedPolicies, operations ----
R=$DAM/managedAppRegistrations
api GET "$R/$areg/intendedPolicies"
expect_status 200 "intendedPolicies"
expect_eq "$(jq -r '[.value[].id] | join(",")' <<<"$BODY")" "$pol" "the policy is intended for alice's Outlook"
api GET "$R/$breg/intendedPolicies"
expect_eq "$(jq '.value | length' <<<"$BODY")" "0" "and not for bob's"
api GET "$R('$areg')/appliedPolicies"
expect_eq "$(jq -r '[.value[].id] | join(",")' <<<"$BODY")" "$pol" "applied: unchanged since alice's last sync"
sleep 1
api PATCH "$DAM/androidManagedAppProtections/$pol" '{"minimumPinLength":6}'
api GET "$R/$areg/appliedPolicies"
expect_eq "$(jq '.value | length' <<<"$BODY")" "0" "a policy changed since the last sync is intended, not applied yet"
api POST /app/v1/checkin '{"app":{"agentInstalled":false}}' "$atok"
expect_status 200 "alice's Outlook checks in"
# the check-in time is written within a second (appcache_flush): wait for it, not for luck
applied() { api GET "$R/$areg/appliedPolicies"; [ "$(jq -r '[.value[].id] | join(",")' <<<"$BODY")" = "$pol" ]; }
wait_until 10 applied && pass || fail "after the check-in the change is applied: $BODY"
api GET "$R/$breg/operations"
expect_eq "$(jq '.value | length' <<<"$BODY")" "0" "no operations before a wipe"
api POST "/beta/users/$bob/wipeAndBlockManagedApps" ""
expect_status 204 "wipe bob's apps"
api GET "$R/$breg/operations"
expect_eq "$(jq -r '.value[0] | ."@odata.type" + " " + .state' <<<"$BODY")" "#microsoft.graph.managedAppOperation pending" \
  "the wipe is a managedAppOperation"
# Microsoft's Intune user-data export script: users/{id}/managedAppRegistrations?$expand=appliedPolicies,intendedPolicies,operations
api GET "/beta/users/$alice/managedAppRegistrations?\$expand=appliedPolicies,intendedPolicies,operations&\$filter=appIdentifier/packageId%20eq%20'$OUTLOOK'"
expect_status 200 "a user's registrations with \$expand and \$filter"
expect_eq "$(jq -c '[.value[] | [(.intendedPolicies|length), (.appliedPolicies|length), (.operations|length)]]' <<<"$BODY")" "[[1,1,0]]" \
  "the navigation expanded on the one matching registration"
api GET "$R?\$expand=intendedPolicies&\$count=true"
expect_eq "$(jq -r '."@odata.count"' <<<"$BODY")" "3" "every registration, counted"
api GET "$R/$areg?\$expand=operations,intendedPolicies"
expect_eq "$(jq -c '[(.intendedPolicies|length), (.operations|length)]' <<<"$BODY")" "[1,0]" "\$expand on one registration"
api GET "$R?\$expand=bogus"
expect_error 400 bogus "an unknown navigation in \$expand"
# ---- managedAppStatuses: the reports Microsoft's scripts read ----
api GET "$DAM/managedAppStatuses"
expect_eq "$(jq -r '[.value[].id] | sort | join(",")' <<<"$BODY")" "appregistrationsummary,userconfigstatus,userstatus,windowsprotectionreport" \
  "the four reports, as managedAppStatusRaw"
cols=DisplayName,UserEmail,ApplicationName,Platform,PolicyName,Bogus
api GET "$DAM/managedAppStatuses('appregistrationsummary')?fetch=2&policyMode=0&columns=$cols"
expect_status 200 "appregistrationsummary with fetch and columns (the sample script's request)"
expect_eq "$(jq -r '[.content.header[].columnName] | join(",")' <<<"$BODY")" "$cols" "the header is the columns asked for"
expect_eq "$(jq '.content.body | length' <<<"$BODY")" "2" "fetch=2 rows"
tok=$(jq -r .content.skipToken <<<"$BODY")
[ -n "$tok" ] && pass || fail "a skipToken when more rows remain: $BODY"
api GET "$DAM/managedAppStatuses('appregistrationsummary')?fetch=2&columns=$cols&seek=$tok"
expect_eq "$(jq -r '.content.body | length' <<<"$BODY") $(jq -r .content.skipToken <<<"$BODY")" "1 " "the last page, no skipToken"
api GET "$DAM/managedAppStatuses('appregistrationsummary')?columns=UserEmail,ApplicationName,PolicyName"
expect_eq "$(jq -r '[.content.body[].values | select(.[0]=="alice@contoso.com" and .[1]=="'$OUTLOOK'") | .[2]] | join(",")' <<<"$BODY")" \
  "Outlook baseline" "alice's Outlook row names the policy it gets"
api GET "$DAM/managedAppStatuses('userstatus')?userId=$alice"
expect_eq "$(jq -r '[.content.validationStatuses[] | select(.validationName=="Intune License") | .state] | join(",")' <<<"$BODY")" "Pass" \
  "userstatus: the Intune License check the scripts test"
api GET "$DAM/managedAppStatuses('userstatus')"
expect_error 400 userId "userstatus needs userId"
api GET "$DAM/managedAppStatuses('userconfigstatus')?userId=$alice"
expect_status 200 "userconfigstatus"
api GET "$DAM/managedAppStatuses('windowsprotectionreport')"
expect_eq "$(jq '.content.body | length' <<<"$BODY")" "0" "no Windows apps here"
api GET "$DAM/managedAppStatuses('nope')"
expect_error 404 "" "an unknown report"
finish
