#!/usr/bin/env bash
# Keys, roles and tenants: 401 without a valid key, 403 for a reader's write,
# 404 for another tenant's resource, keys stored hashed and never logged.
source "$(dirname "$0")/lib.sh"
rg_start
A=/beta/deviceAppManagement/androidManagedAppProtections

api GET "$A" "" ""
expect_error 401 "" "no key"
api GET "$A" "" "rgk_wrong"
expect_error 401 "" "wrong key"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Basic $RG_KEY" "$RG_URL$A")
expect_status 401 "not a Bearer credential"

api POST "$A" '{"displayName":"default tenant policy"}'
expect_status 201 "admin writes"
pid=$(jq -r .id <<<"$BODY")

api POST /riskgate/v1/keys '{"name":"helpdesk","role":"reader"}'
expect_status 201 "create a reader key"
reader=$(jq -r .key <<<"$BODY")
reader_id=$(jq -r .id <<<"$BODY")
api GET "$A/$pid" "" "$reader"
expect_status 200 "reader reads"
api POST "$A" '{"displayName":"x"}' "$reader"
expect_error 403 "" "reader creates"
api PATCH "$A/$pid" '{"displayName":"y"}' "$reader"
expect_error 403 "" "reader patches"
api DELETE "$A/$pid" "" "$reader"
expect_error 403 "" "reader deletes"
api POST /riskgate/v1/keys '{"name":"x","role":"admin"}' "$reader"
expect_error 403 "" "reader creates keys"
api GET /riskgate/v1/whoami "" "$reader"
expect_eq "$(jq -r .role <<<"$BODY")" reader "whoami role"
api POST /riskgate/v1/keys '{"name":"x","role":"root"}'
expect_error 400 role "unknown role"

# a second tenant
api POST /riskgate/v1/tenants '{"name":"contoso"}'
expect_status 201 "create tenant contoso"
other=$(jq -r .adminKey.key <<<"$BODY")
api POST /riskgate/v1/tenants '{"name":"contoso"}'
expect_error 400 name "duplicate tenant"
api POST /riskgate/v1/tenants '{"name":"Bad Name"}'
expect_error 400 name "bad tenant name"
api GET "$A/$pid" "" "$other"
expect_error 404 "" "another tenant's policy is not found"
api PATCH "$A/$pid" '{"displayName":"stolen"}' "$other"
expect_error 404 "" "another tenant's policy cannot be patched"
api DELETE "$A/$pid" "" "$other"
expect_error 404 "" "another tenant's policy cannot be deleted"
api GET "/beta/deviceAppManagement/managedAppPolicies" "" "$other"
expect_eq "$(jq '.value | length' <<<"$BODY")" 0 "another tenant sees no policies"
api GET /beta/deviceManagement/mobileThreatDefenseConnectors "" "$other"
expect_eq "$(jq -r '.value[0].id' <<<"$BODY")" "fc780465-2017-40d4-a0c5-307022471b92" "each tenant has the built-in connector"
api GET /riskgate/v1/tenants "" "$other"
expect_error 403 "" "only the default tenant manages tenants"
api DELETE "/riskgate/v1/keys/$reader_id" "" "$other"
expect_error 404 "" "another tenant's key cannot be deleted"
api GET "$A/$pid"
expect_eq "$(jq -r .displayName <<<"$BODY")" "default tenant policy" "the policy is untouched"

# revoke
api DELETE "/riskgate/v1/keys/$reader_id"
expect_status 204 "delete the reader key"
api GET "$A/$pid" "" "$reader"
expect_error 401 "" "a revoked key"
admin_id=$(curl -s -H "Authorization: Bearer $RG_KEY" "$RG_URL/riskgate/v1/whoami" | jq -r .keyId)
api DELETE "/riskgate/v1/keys/$admin_id"
expect_error 400 "last admin key" "deleting the last admin key"

# secrets: hashed at rest, never in logs
rg_stop
for k in "$RG_KEY" "$reader" "$other"; do
  if grep -qaF "$k" "$RG_TMP"/var/riskgate.db* "$RG_TMP/daemon.log"; then fail "a key appears in the database or the log"; else pass; fi
done
hashes=$(sqlite3 "$RG_TMP/var/riskgate.db" 'SELECT key_hash FROM api_keys')
want=$(printf '%s' "$RG_KEY" | sha256sum | cut -d' ' -f1)
grep -q "$want" <<<"$hashes" && pass || fail "the admin key is not stored as its SHA-256"
finish
