#!/usr/bin/env bash
# Real Graph tooling's request forms work unchanged (issue: Graph/Defender compatibility):
# the version and path segments in any case, OData key syntax, Graph's whole error body with
# request ids. Requests are written from the public Graph documentation and Microsoft's samples.
source "$(dirname "$0")/lib.sh"
rg_start

# hdr NAME: the value of response header NAME of the last `apih` call (case-insensitive name).
apih() {
  local method=$1 path=$2 data=${3-}
  shift 3 || shift $#
  local args=(-sS -o "$RG_TMP/resp" -D "$RG_TMP/hdrs" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $RG_KEY")
  if [ -n "$data" ]; then args+=(-H 'Content-Type: application/json' --data-binary "$data"); fi
  STATUS=$(curl "${args[@]}" "$@" "$RG_URL$path")
  BODY=$(cat "$RG_TMP/resp")
}
hdr() { tr -d '\r' <"$RG_TMP/hdrs" | awk -v n="$(tr 'A-Z' 'a-z' <<<"$1")" '{ i = index($0, ": ") } i && tolower(substr($0, 1, i - 1)) == n { print substr($0, i + 2) }' | tail -n1; }

# ---- 1. the version segment and path segments in any case ----
api POST /beta/deviceAppManagement/androidManagedAppProtections '{"displayName":"Case test"}'
expect_status 201 "create a policy"
pid=$(jq -r .id <<<"$BODY")
api GET /Beta/deviceAppManagement/androidManagedAppProtections
expect_status 200 "/Beta/ (Microsoft's samples' spelling)"
expect_eq "$(jq -r '.value[0].displayName' <<<"$BODY")" "Case test" "/Beta/ lists the policy"
api GET /BETA/DeviceAppManagement/AndroidManagedAppProtections/$pid
expect_status 200 "every segment in another case"
api GET /V1.0/deviceAppManagement/androidManagedAppProtections/$pid
expect_status 200 "/V1.0/"
api POST /beta/users '{"userPrincipalName":"ann@contoso.com","displayName":"Ann"}'
expect_status 201 "create a user"
uid=$(jq -r .id <<<"$BODY")
api POST /beta/groups '{"displayName":"Sales"}'
gid=$(jq -r .id <<<"$BODY")
api POST "/beta/Groups/$gid/Members/\$ref" "{\"@odata.id\":\"https://graph.microsoft.com/v1.0/directoryObjects/$uid\"}"
expect_status 204 "/groups/{id}/Members/\$ref in another case"
api GET "/beta/groups/$gid/members"
expect_eq "$(jq -r '.value[0].id' <<<"$BODY")" "$uid" "the member was added"
api GET /beta2/deviceAppManagement/androidManagedAppProtections
expect_error 404 "" "an unknown version is still not found"

# ---- 2. OData key syntax ----
api GET "/beta/deviceAppManagement/androidManagedAppProtections('$pid')"
expect_status 200 "collection('id')"
expect_eq "$(jq -r .id <<<"$BODY")" "$pid" "collection('id') is the policy"
api GET "/beta/deviceAppManagement/androidManagedAppProtections('$pid')/"
expect_status 200 "collection('id')/"
api POST "/beta/deviceAppManagement/androidManagedAppProtections('$pid')/assign" \
  "{\"assignments\":[{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$gid\"}}]}"
expect_status 204 "collection('id')/assign"
api GET "/beta/deviceAppManagement/androidManagedAppProtections('$pid')?\$expand=assignments"
expect_eq "$(jq -r '.assignments[0].target.groupId' <<<"$BODY")" "$gid" "collection('id')?\$expand=assignments"
api GET "/beta/deviceAppManagement/androidManagedAppProtections($pid)"
expect_status 200 "collection(id) without quotes"
api GET "/beta/users('ann%40contoso.com')"
expect_eq "$(jq -r .id <<<"$BODY")" "$uid" "users('upn') with an encoded @"
api GET "/beta/users('ann@contoso.com')/getManagedAppPolicies()"
expect_status 200 "users('upn')/function()"
expect_eq "$(jq -r '.value[0].id' <<<"$BODY")" "$pid" "the function's answer"
api PATCH "/beta/deviceAppManagement/androidManagedAppProtections(%27$pid%27)" '{"description":"via key syntax"}'
expect_status 204 "PATCH collection(%27id%27)"
api GET "/beta/deviceAppManagement/androidManagedAppProtections/$pid"
expect_eq "$(jq -r .description <<<"$BODY")" "via key syntax" "the PATCH landed"
api GET "/beta/deviceAppManagement/androidManagedAppProtections('nope')"
expect_error 404 "" "collection('missing') is not found"

# ---- 3. Graph's tolerance: the other platform's and the portal's own properties ----
# an Android body as the Intune portal sends it (iOS-only properties and portal-only names in it)
apih POST /beta/deviceAppManagement/androidManagedAppProtections \
  '{"displayName":"Portal capture","customBrowserProtocol":"","customDialerAppProtocol":"","exemptedAppProtocols":[],"periodBeforePinResetRequired":false,"pinRequiredInsteadOfBiometric":true,"shareWithBrowserVirtualSetting":"anyApp","minimumPinLength":6,"apps":[],"assignments":[]}'
expect_status 201 "a portal-captured Android body with iOS and portal-only properties"
w=$(hdr warning)
[[ "$w" == *customBrowserProtocol* && "$w" == *shareWithBrowserVirtualSetting* && "$w" == *periodBeforePinResetRequired* ]] && pass \
  || fail "the Warning header names the ignored properties: '$w'"
ppid=$(jq -r .id <<<"$BODY")
api GET "/beta/deviceAppManagement/androidManagedAppProtections/$ppid"
expect_eq "$(jq -r '[.minimumPinLength, has("customBrowserProtocol"), has("shareWithBrowserVirtualSetting")] | join(",")' <<<"$BODY")" \
  "6,false,false" "the known properties are kept; the ignored ones are not served (Graph's model has none of them)"
# Microsoft's Android sample (powershell-intune-samples, AppProtectionPolicy_Add.ps1) sends iOS's appDataEncryptionType
api POST /beta/deviceAppManagement/androidManagedAppProtections '{"displayName":"MS sample","appDataEncryptionType":"afterDeviceRestart","faceIdBlocked":false}'
expect_status 201 "Microsoft's Android sample with iOS's appDataEncryptionType"
apih POST /beta/deviceAppManagement/iosManagedAppProtections '{"displayName":"iOS capture","exemptedAppPackages":[],"customBrowserPackageId":"","pinRequiredInsteadOfBiometric":false}'
expect_status 201 "an iOS body with Android-only properties"
[[ "$(hdr warning)" == *exemptedAppPackages* ]] && pass || fail "the iOS Warning names exemptedAppPackages: $(hdr warning)"
apih PATCH "/beta/deviceAppManagement/androidManagedAppProtections/$ppid" '{"faceIdBlocked":true,"maximumPinRetries":7}'
expect_status 204 "a PATCH with an iOS-only property (204, as Intune answers)"
[[ "$(hdr warning)" == *faceIdBlocked* ]] && pass || fail "the PATCH Warning names faceIdBlocked: $(hdr warning)"
apih PATCH "/beta/deviceAppManagement/androidManagedAppProtections/$ppid" '{"maximumPinRetries":8}'
expect_eq "$(hdr warning)" "" "no Warning when nothing was ignored"
api POST /beta/deviceAppManagement/androidManagedAppProtections '{"displayName":"x","fooBar":1,"bazQux":2,"customBrowserProtocol":""}'
expect_error 400 fooBar "an unknown property is still refused"
[[ "$(jq -r .error.message <<<"$BODY")" == *bazQux* && "$(jq -r .error.message <<<"$BODY")" != *customBrowserProtocol* ]] && pass \
  || fail "one 400 names every unknown property and none of the tolerated ones: $BODY"

# ---- 6. the built-in connector reads as live before any device reported ----
BUILTIN=fc780465-2017-40d4-a0c5-307022471b92
api GET "/beta/deviceManagement/mobileThreatDefenseConnectors/$BUILTIN"
expect_eq "$(jq -r .partnerState <<<"$BODY")" available "the built-in connector, no platform on: available, not notSetUp"
api PATCH "/beta/deviceManagement/mobileThreatDefenseConnectors('$BUILTIN')" '{"iosMobileApplicationManagementEnabled":true}'
expect_status 200 "turn iOS on through key syntax"
expect_eq "$(jq -r .partnerState <<<"$BODY")" enabled "the built-in connector with iOS on: enabled"
# the Graph docs' create example and CIPP/Microsoft365DSC: a POST without "id" is Defender's connector
api POST /beta/deviceManagement/mobileThreatDefenseConnectors/ \
  '{"@odata.type":"#microsoft.graph.mobileThreatDefenseConnector","androidEnabled":true,"iosEnabled":true,"partnerUnsupportedOsVersionBlocked":true,"partnerUnresponsivenessThresholdInDays":3,"grantMobileThreatDefensePartnerRole":true}'
expect_status 200 "a connector POST without id sets up the built-in (Defender's) connector"
expect_eq "$(jq -r .id <<<"$BODY")" "$BUILTIN" "the id-less connector is Defender's well-known id"
api GET "/beta/deviceManagement/mobileThreatDefenseConnectors/$BUILTIN"
expect_eq "$(jq -r '[.androidEnabled, .iosMobileApplicationManagementEnabled, .partnerUnresponsivenessThresholdInDays, .grantMobileThreatDefensePartnerRole] | join(",")' <<<"$BODY")" \
  "true,true,3,true" "its settings were applied and the earlier ones kept"
api POST /beta/deviceManagement/mobileThreatDefenseConnectors '{"partnerUnresponsivenessThresholdInDays":"x"}'
expect_error 400 partnerUnresponsivenessThresholdInDays "an id-less POST is still validated"
api POST /beta/deviceManagement/mobileThreatDefenseConnectors '{"id":"11111111-2222-3333-4444-555555555555"}'
expect_error 400 id "an unknown partner id"
api POST /beta/deviceManagement/mobileThreatDefenseConnectors '{"id":"2c7790de-8b02-4814-85cf-e0c59380dee8"}'
expect_status 201 "a third-party connector"
expect_eq "$(jq -r .partnerState <<<"$BODY")" notSetUp "a partner never heard from is still notSetUp"

# ---- 9. @odata.type with or without the leading '#' ----
api POST "/beta/deviceAppManagement/androidManagedAppProtections/$pid/targetApps" \
  '{"apps":[{"mobileAppIdentifier":{"@odata.type":"microsoft.graph.androidMobileAppIdentifier","packageId":"com.microsoft.office.outlook"}}],"appGroupType":"selectedPublicApps"}'
expect_status 204 "targetApps with a mobile-app identifier type without '#' (the docs' form)"
api GET "/beta/deviceAppManagement/androidManagedAppProtections/$pid/apps"
expect_eq "$(jq -r '.value[0].mobileAppIdentifier["@odata.type"]' <<<"$BODY")" "#microsoft.graph.androidMobileAppIdentifier" \
  "the identifier is served in its canonical form"
api POST "/beta/deviceAppManagement/androidManagedAppProtections/$pid/assign" \
  "{\"assignments\":[{\"target\":{\"@odata.type\":\"microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$gid\"}}]}"
expect_status 204 "an assignment target type without '#'"
api GET "/beta/deviceAppManagement/androidManagedAppProtections/$pid"
expect_eq "$(jq -r .isAssigned <<<"$BODY")" "true" "the target without '#' counts as an inclusion"
api POST /beta/deviceAppManagement/managedAppPolicies '{"@odata.type":"microsoft.graph.iosManagedAppProtection","displayName":"no hash"}'
expect_status 201 "a polymorphic create with @odata.type without '#'"

# ---- 10. Graph's error shape in full, request ids ----
apih GET /beta/deviceAppManagement/androidManagedAppProtections/nope ""
expect_status 404 "a missing policy"
rid=$(hdr request-id)
[ -n "$rid" ] && pass || fail "no request-id header"
expect_eq "$(hdr client-request-id)" "$rid" "client-request-id defaults to the request id"
expect_eq "$(jq -r '.error.innerError["request-id"]' <<<"$BODY")" "$rid" "innerError.request-id"
jq -e '.error.innerError.date | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")' >/dev/null <<<"$BODY" && pass ||
  fail "innerError.date: $BODY"
apih GET /beta/users/nope "" -H "client-request-id: 4f1c8a2e-cafe-4bd1-9a4e-1234567890ab"
expect_eq "$(hdr client-request-id)" "4f1c8a2e-cafe-4bd1-9a4e-1234567890ab" "a client's request id is echoed"
expect_eq "$(jq -r '.error.innerError["client-request-id"]' <<<"$BODY")" "4f1c8a2e-cafe-4bd1-9a4e-1234567890ab" \
  "and is in innerError"
apih GET /beta/users "" -H "client-request-id: bad value with spaces"
[ "$(hdr client-request-id)" = "$(hdr request-id)" ] && pass || fail "a malformed client-request-id is not echoed"
apih GET /healthz ""
[ -n "$(hdr request-id)" ] && pass || fail "request-id on a 200"
wait_until 2 grep -q "$rid" "$RG_TMP/daemon.log" && pass || fail "the request id is in the access log"
# an error message never echoes bytes that are not UTF-8 (curl would encode them: a raw request)
BODY=$(python3 - "$RG_URL" <<'PY'
import socket, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
s = socket.create_connection((u.hostname, u.port))
s.sendall(b"GET /beta/no\x9fwhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    data += c
head, _, body = data.partition(b"\r\n\r\n")
print(head.split(b" ")[1].decode())
sys.stdout.write(body.decode("utf-8"))
PY
)
STATUS=$(head -n1 <<<"$BODY")
BODY=$(tail -n +2 <<<"$BODY")
expect_error 404 'x9f' "invalid UTF-8 in the path still gives a JSON error body"

rg_stop
finish
