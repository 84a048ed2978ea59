#!/usr/bin/env bash
# /api/indicators (Defender's shape) and the agent's delta sync: validation
# (CIDR, public suffixes, BlockAndRemediate on network indicators, Audit
# without an alert), update by (type, value), $filter, import, delete as a
# tombstone the agents see, scoping by device tags, tenant isolation.
source "$(dirname "$0")/lib.sh"
rg_start

ind() { api POST /api/indicators "$1"; }
ind '{"indicatorValue":"Evil.Example.COM.","indicatorType":"DomainName","action":"Block","title":"evil","description":"test","severity":"High"}'
expect_status 200 "submit a domain indicator"
dom=$(jq -r .id <<<"$BODY")
expect_eq "$(jq -r '.indicatorValue + " " + .action + " " + .severity + " " + .sourceType' <<<"$BODY")" \
  "Evil.Example.COM. Block High AadApp" "value as sent and Defender fields"
ind '{"indicatorValue":"evil.example.com","indicatorType":"DomainName","action":"Allowed","title":"ok now","description":""}'
expect_eq "$(jq -r '.id + " " + .action' <<<"$BODY")" "$dom Allowed" "same type and value updates"
ind '{"indicatorValue":"275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F","indicatorType":"FileSha256","action":"AlertAndBlock","title":"eicar","description":"test file"}'
expect_eq "$(jq -r '.action + " " + (.generateAlert|tostring)' <<<"$BODY")" "AlertAndBlock true" "legacy AlertAndBlock on a file reads back as sent"
ind '{"indicatorValue":"203.0.113.7","indicatorType":"IpAddress","action":"Block","title":"c2","description":"","rbacGroupNames":["vip"]}'
expect_status 200 "scoped IP indicator"
ip=$(jq -r .id <<<"$BODY")
ind '{"indicatorValue":"https://phish.example.net/login","indicatorType":"Url","action":"Warn","title":"phish","description":""}'
expect_status 200 "URL indicator"

ind '{"indicatorValue":"10.0.0.0/8","indicatorType":"IpAddress","action":"Block","title":"x","description":""}'
expect_error 400 indicatorValue "CIDR is rejected"
ind '{"indicatorValue":"com","indicatorType":"DomainName","action":"Block","title":"x","description":""}'
expect_error 400 indicatorValue "a public suffix is rejected"
ind '{"indicatorValue":"evil.example.com","indicatorType":"DomainName","action":"BlockAndRemediate","title":"x","description":""}'
expect_error 400 action "BlockAndRemediate on a network indicator"
ind '{"indicatorValue":"evil.example.com","indicatorType":"DomainName","action":"Audit","generateAlert":false,"title":"x","description":""}'
expect_error 400 generateAlert "Audit without an alert"
ind '{"indicatorValue":"abc","indicatorType":"FileSha256","action":"Block","title":"x","description":""}'
expect_error 400 indicatorValue "bad hash"
ind '{"indicatorValue":"x.example.com","indicatorType":"Domain","action":"Block","title":"x","description":""}'
expect_error 400 indicatorType "unknown type"
ind '{"indicatorValue":"x.example.com","indicatorType":"DomainName","action":"Block","description":""}'
expect_error 400 title "missing title"
ind '{"indicatorValue":"x.example.com","indicatorType":"DomainName","action":"Block","title":"x","description":"","colour":"red"}'
expect_error 400 colour "unknown property"
ind '{"indicatorValue":"x.example.com","indicatorType":"DomainName","action":"Block","title":"x","description":"","expirationTime":"soon"}'
expect_error 400 expirationTime "bad expiration"

api GET "/api/indicators?\$filter=indicatorType%20eq%20'DomainName'"
expect_eq "$(jq -r '[.value[].indicatorValue] | join(",")' <<<"$BODY")" "evil.example.com" "\$filter on indicatorType"
api GET "/api/indicators?\$filter=indicatorType%20eq%20'FileSha256'%20and%20indicatorValue%20eq%20'275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F'"
expect_eq "$(jq '.value | length' <<<"$BODY")" 1 "\$filter on value (any case)"
api GET "/api/indicators?\$top=2"
expect_eq "$(jq '.value | length' <<<"$BODY")" 2 "\$top"
[ "$(jq -r '."@odata.nextLink"' <<<"$BODY")" != null ] && pass || fail "nextLink"
# walking nextLinks (keyset paging) visits every indicator once
api GET "/api/indicators"
total=$(jq '.value | length' <<<"$BODY")
api GET "/api/indicators?\$top=2"
seen=$(jq -r '.value[].id' <<<"$BODY")
next=$(jq -r '."@odata.nextLink"' <<<"$BODY")
while [ "$next" != null ]; do
  page=$(curl -s -H "Authorization: Bearer $RG_KEY" "$next")
  seen+=$'\n'$(jq -r '.value[].id' <<<"$page")
  next=$(jq -r '."@odata.nextLink"' <<<"$page")
done
expect_eq "$(sort -u <<<"$seen" | grep -c .)" "$total" "nextLinks visit every indicator once"
api GET "/api/indicators?\$top=1&\$skiptoken=1&\$skip=1"
expect_error 400 '$skiptoken' "\$skiptoken with \$skip"
api GET "/api/indicators?\$filter=action%20eq%20'Block'%20garbage"
expect_error 400 '$filter' "trailing text in \$filter"
api GET "/api/indicators?\$filter=colour%20eq%20'red'"
expect_error 400 '$filter' "unsupported filter"

# import: per-row results, failures do not stop the batch
api POST /api/indicators/import '{"Indicators":[{"indicatorValue":"bad.example.org","indicatorType":"DomainName","action":"Block","title":"a","description":""},{"indicatorValue":"1.2.3.0/24","indicatorType":"IpAddress","action":"Block","title":"b","description":""}]}'
expect_status 200 "import"
expect_eq "$(jq -r '[.value[].isFailed|tostring] | join(",")' <<<"$BODY")" "false,true" "per-row results"
jq -e '.value[1].failureReason | contains("indicatorValue")' >/dev/null <<<"$BODY" && pass || fail "failure reason names the field"

# a device: full sync, then deltas (scope by tags, deletions)
api POST /v1.0/users '{"userPrincipalName":"a@x.y","passwordProfile":{"password":"correct horse battery"}}'
api POST /device/v1/activate '{"tenant":"default","userPrincipalName":"a@x.y","password":"correct horse battery","device":{"platform":"android"}}' ""
CRED=$(jq -r .credential <<<"$BODY")
DEV=$(jq -r .deviceId <<<"$BODY")
api GET "/device/v1/indicators?since=0" "" "$CRED"
expect_status 200 "full sync"
v1=$(jq -r .version <<<"$BODY")
expect_eq "$(jq -r '[.upserts[].indicatorValue] | sort | join(",")' <<<"$BODY")" \
  "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f,bad.example.org,evil.example.com,https://phish.example.net/login" \
  "full sync without the scoped indicator"
api POST /device/v1/heartbeat '{}' "$CRED"
expect_eq "$(jq -r .indicatorVersion <<<"$BODY")" "$v1" "heartbeat tells the indicator version"
api GET "/device/v1/indicators?since=$v1" "" "$CRED"
expect_eq "$(jq -r '(.upserts|length|tostring) + " " + (.removed|length|tostring)' <<<"$BODY")" "0 0" "nothing new"
api POST "/api/machines/$DEV/tags" '{"Value":"vip","Action":"Add"}'
api POST /device/v1/heartbeat '{}' "$CRED"
expect_eq "$(jq -r .indicatorVersion <<<"$BODY")" 0 "a new tag tells the device to start over"
api GET "/device/v1/indicators?since=$v1" "" "$CRED"
expect_eq "$(jq -r '.full|tostring' <<<"$BODY")" true "its next sync is a full one"
jq -e '[.upserts[].indicatorValue] | index("203.0.113.7")' >/dev/null <<<"$BODY" && pass || fail "a tagged device gets the scoped indicator"
v1=$(jq -r .version <<<"$BODY")
api POST /device/v1/heartbeat '{}' "$CRED"
expect_eq "$(jq -r .indicatorVersion <<<"$BODY")" "$v1" "then the real version again"
api GET "/device/v1/indicators?since=999999" "" "$CRED"
expect_eq "$(jq -r '(.full|tostring) + " " + (.version|tostring)' <<<"$BODY")" "true $v1" "a version from the future starts over"
api DELETE "/api/indicators/$dom"
expect_status 204 "delete"
api GET "/api/indicators/$dom"
expect_error 404 "" "deleted indicator"
api GET "/device/v1/indicators?since=$v1" "" "$CRED"
expect_eq "$(jq -r '.removed | join(",")' <<<"$BODY")" "$dom" "the deletion reaches the device as a removal"
api GET "/device/v1/indicators?since=x" "" "$CRED"
expect_error 400 since "bad since"

# isolation: another tenant sees none of it
api POST /riskgate/v1/tenants '{"name":"other"}'
other=$(jq -r .adminKey.key <<<"$BODY")
api GET /api/indicators "" "$other"
expect_eq "$(jq '.value | length' <<<"$BODY")" 0 "another tenant's indicators are invisible"
api GET "/api/indicators/$ip" "" "$other"
expect_error 404 "" "another tenant's indicator"
api DELETE "/api/indicators/$ip" "" "$other"
expect_error 404 "" "another tenant cannot delete"
rg_stop
finish
