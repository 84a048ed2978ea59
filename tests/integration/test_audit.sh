#!/usr/bin/env bash
# The audit trail of admin writes (issue 11 item 7): who (the key), what, when,
# before and after, in the same transaction as the write, served as Intune's
# deviceManagement/auditEvents; an admin who turned the connector off is found.
. "$(dirname "$0")/lib.sh"
rg_start
CONN=fc780465-2017-40d4-a0c5-307022471b92
ev() { api GET "/beta/deviceManagement/auditEvents?$(jq -rn --arg s "$1" '$s|@uri' | sed 's/%3D/=/g; s/%26/\&/g')"; }

api PATCH "/beta/deviceManagement/mobileThreatDefenseConnectors/$CONN" '{"androidEnabled":true}'
expect_status 200 "connector on"
api POST /beta/deviceManagement/mobileThreatDefenseConnectors/x/nothing '{}'
api POST /riskgate/v1/keys '{"name":"night-shift","role":"admin"}'
expect_status 201 "a second admin key"
night=$(jq -r .key <<<"$BODY")
api PATCH "/beta/deviceManagement/mobileThreatDefenseConnectors/$CONN" '{"androidEnabled":false}' "$night"
expect_status 200 "the night shift turns the connector off"

ev "\$filter=activityOperationType eq 'Patch' and resources/any(r: r/resourceId eq '$CONN')&\$orderby=activityDateTime desc"
expect_status 200 "auditEvents with \$filter and \$orderby"
expect_eq "$(jq -r '.value[0].actor.applicationDisplayName' <<<"$BODY")" "night-shift" "who turned the connector off: the key's name"
expect_eq "$(jq -r '.value[0].resources[0].modifiedProperties[] | select(.displayName == "androidEnabled") | "\(.oldValue)->\(.newValue)"' <<<"$BODY")" \
  "true->false" "the change, before and after"
expect_eq "$(jq -r '.value[0] | "\(.activityResult) \(.category) \(.componentName)"' <<<"$BODY")" "Success Application riskgated" "Intune's auditEvent fields"
[ -n "$(jq -r '.value[0].actor.ipAddress' <<<"$BODY")" ] && pass || fail "the client's address is recorded"
expect_eq "$(jq '.value | length' <<<"$BODY")" 2 "both connector changes, newest first"
expect_eq "$(jq -r '.value[1].actor.applicationDisplayName' <<<"$BODY")" "bootstrap admin key" "the first change is the bootstrap key's"
id=$(jq -r '.value[0].id' <<<"$BODY")
out=$(RISKGATE_URL="$RG_URL" RISKGATE_TOKEN="$RG_KEY" "$RG_BIN_DIR/riskgate" audit list --resource "$CONN" 2>&1) || true
echo "$out"
[[ "$(sed -n 2p <<<"$out")" == *night-shift*"Patch mobileThreatDefenseConnectors"*androidEnabled* ]] && pass ||
  fail "riskgate audit list --resource names the key and the property, newest first"
api GET "/beta/deviceManagement/auditEvents/$id"
expect_eq "$(jq -r .activityOperationType <<<"$BODY")" Patch "one event by id"

# creates, deletes, keys and passwords
api POST /v1.0/groups '{"displayName":"audited"}'
gid=$(jq -r .id <<<"$BODY")
api DELETE "/v1.0/groups/$gid"
ev "\$filter=resources/any(r: r/resourceId eq '$gid')&\$orderby=activityDateTime"
expect_eq "$(jq -r '[.value[].activityOperationType] | join(",")' <<<"$BODY")" "Create,Delete" "a group's create and delete"
ev "\$filter=category eq 'Role' and activityOperationType eq 'Create'"
expect_eq "$(jq -r '.value[0].resources[0].displayName' <<<"$BODY")" "night-shift" "the key's creation (by name)"
grep -q "$night" <<<"$BODY" && fail "the key itself is in the audit trail" || pass
api POST /v1.0/users '{"userPrincipalName":"pw@contoso.com","passwordProfile":{"password":"audited password"}}'
expect_status 201 "a user with a password (hashed off the loop)"
uid=$(jq -r .id <<<"$BODY")
ev "\$filter=resources/any(r: r/resourceId eq '$uid')"
expect_eq "$(jq -r '.value[0].resources[0].modifiedProperties[] | select(.displayName == "passwordHash") | .newValue' <<<"$BODY")" \
  "(secret)" "a password's hash is recorded as changed, never its value"
expect_eq "$(jq -r '.value[0].actor.applicationDisplayName' <<<"$BODY")" "bootstrap admin key" "the deferred write keeps its actor"

# failed writes leave no record; device-side writes are not admin writes
api PATCH /v1.0/groups/00000000-0000-0000-0000-000000000000 '{"displayName":"x"}'
expect_status 404 "a PATCH of nothing"
ev "\$filter=resources/any(r: r/resourceId eq '00000000-0000-0000-0000-000000000000')"
expect_eq "$(jq '.value | length' <<<"$BODY")" 0 "a failed write has no audit record"
api POST /device/v1/activate '{"tenant":"default","userPrincipalName":"pw@contoso.com","password":"audited password","device":{"platform":"android","deviceName":"d","osVersion":"14","model":"m","manufacturer":"x","agentVersion":"0.1.0"}}' ""
expect_status 201 "a device activates"
ev "\$filter=category eq 'Device'"
expect_eq "$(jq '.value | length' <<<"$BODY")" 0 "device activity is not in the admin audit trail"

# who may read it
api POST /riskgate/v1/keys '{"name":"viewer","role":"reader"}'
reader=$(jq -r .key <<<"$BODY")
api GET /beta/deviceManagement/auditEvents "" "$reader"
expect_error 403 "admin" "a reader key cannot read the audit trail"
api POST /riskgate/v1/tenants '{"name":"fabrikam"}'
other=$(jq -r .adminKey.key <<<"$BODY")
api GET "/beta/deviceManagement/auditEvents/$id" "" "$other"
expect_status 404 "another tenant's audit event"
api GET "/beta/deviceManagement/auditEvents/\$count?\$filter=activityOperationType%20eq%20'Patch'" "" "$other"
expect_eq "$BODY" "0" "another tenant sees none of this tenant's changes (only its own setup: its connector and key)"
finish
