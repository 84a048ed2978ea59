#!/usr/bin/env bash
# Groups as Graph has them and dynamic membership (issue: Graph/Defender compatibility, item 12).
# Bodies follow Graph's "Create group" docs and Entra ID's "Dynamic membership rules for groups".
source "$(dirname "$0")/lib.sh"
rg_start
G=/v1.0/groups

# ---- the whole group resource ----
api POST $G '{"displayName":"Library Assist","description":"Self help community for library","groupTypes":["Unified"],"mailEnabled":true,"mailNickname":"library","securityEnabled":false,"visibility":"Private","classification":"General","isAssignableToRole":false}'
expect_status 201 "create a group with Graph's docs' body"
expect_eq "$(jq -r '[(.groupTypes|join(",")), .visibility, .classification, .mailNickname, (.mailEnabled|tostring)] | join(" ")' <<<"$BODY")" \
  "Unified Private General library true" "the group's properties are served back"
api POST $G '{"displayName":"Exported","renewedDateTime":"2024-01-01T00:00:00Z","onPremisesSyncEnabled":null,"proxyAddresses":[],"securityIdentifier":"S-1-12-1","mail":"x@contoso.com"}'
expect_status 201 "read-only properties of an exported group are ignored, as Graph does"
api POST $G '{"displayName":"x","visibility":"Secret"}'
expect_error 400 visibility "an unknown visibility"
api POST $G '{"displayName":"x","groupTypes":["DynamicMembership"]}'
expect_error 400 membershipRule "a dynamic group without a rule"
api POST $G '{"displayName":"x","groupTypes":["DynamicMembership"],"membershipRule":"user.department -equals \"Sales\""}'
expect_error 400 membershipRule "a rule with an unknown operator"
jq -e '.error.message | test("column")' >/dev/null <<<"$BODY" && pass || fail "the rule error gives the column: $BODY"
api POST $G '{"displayName":"x","membershipRule":"user.department -eq \"Sales\""}'
expect_error 400 membershipRule "a rule on a group that is not dynamic"

# ---- users with the properties rules read ----
# mkuser VAR BODY: creates a user and sets VAR to its id (in this shell, so the check counts)
mkuser() { api POST /v1.0/users "$2"; expect_status 201 "create $(jq -r .userPrincipalName <<<"$2")"; printf -v "$1" %s "$(jq -r .id <<<"$BODY")"; }
mkuser alice '{"userPrincipalName":"alice@contoso.com","displayName":"Alice","department":"Sales","jobTitle":"Rep","city":"Oslo","country":"NO","companyName":"Contoso","employeeType":"Employee","accountEnabled":true}'
mkuser bob '{"userPrincipalName":"bob@contoso.com","displayName":"Bob","department":"Sales","accountEnabled":false}'
mkuser carol '{"userPrincipalName":"carol@contoso.com","displayName":"Carol","department":"Marketing"}'
api GET "/v1.0/users/$alice"
expect_eq "$(jq -r '[.department, .jobTitle, .city, .country, .companyName, .employeeType] | join(",")' <<<"$BODY")" \
  "Sales,Rep,Oslo,NO,Contoso,Employee" "a user's directory properties are served back"

members() { api GET "$G/$1/members?\$orderby=displayName"; jq -r '[.value[].displayName] | join(",")' <<<"$BODY"; }

# ---- dynamic membership ----
api POST $G '{"displayName":"Sales (dynamic)","groupTypes":["DynamicMembership"],"securityEnabled":true,"mailEnabled":false,"mailNickname":"sales","membershipRule":"(user.department -eq \"Sales\") and (user.accountEnabled -eq true)"}'
expect_status 201 "create the docs' dynamic group"
dyn=$(jq -r .id <<<"$BODY")
expect_eq "$(jq -r .membershipRuleProcessingState <<<"$BODY")" "On" "processing is On by default"
expect_eq "$(members "$dyn")" "Alice" "members computed from the rule (Bob is disabled, Carol in Marketing)"
api PATCH "/v1.0/users/$carol" '{"department":"Sales"}'
expect_status 204 "Carol moves to Sales"
expect_eq "$(members "$dyn")" "Alice,Carol" "a user's change recomputes her membership"
api PATCH "/v1.0/users/$bob" '{"accountEnabled":true}'
expect_eq "$(members "$dyn")" "Alice,Bob,Carol" "Bob enabled joins"
mkuser dave '{"userPrincipalName":"dave@contoso.com","displayName":"Dave","department":"sales"}'
expect_eq "$(members "$dyn")" "Alice,Bob,Carol,Dave" "a new user joins at once (values compare without regard to case)"
api PATCH "$G/$dyn" '{"membershipRule":"user.city -in [\"Oslo\",\"Bergen\"]"}'
expect_status 204 "change the rule"
expect_eq "$(members "$dyn")" "Alice" "a rule change recomputes every member"
api POST "$G/$dyn/members/\$ref" "{\"@odata.id\":\"https://graph.microsoft.com/v1.0/directoryObjects/$bob\"}"
expect_error 400 members "members of a dynamic group cannot be added by hand"
api DELETE "$G/$dyn/members/$alice/\$ref"
expect_error 400 members "nor removed"
api PATCH "$G/$dyn" '{"membershipRuleProcessingState":"Paused"}'
api PATCH "/v1.0/users/$bob" '{"city":"Bergen"}'
expect_eq "$(members "$dyn")" "Alice" "Paused: membership is frozen"
api PATCH "$G/$dyn" '{"membershipRuleProcessingState":"On"}'
expect_eq "$(members "$dyn")" "Alice,Bob" "On again: recomputed"

# ---- assignments follow ----
api POST /beta/deviceAppManagement/androidManagedAppProtections '{"displayName":"Nordics"}'
pol=$(jq -r .id <<<"$BODY")
api POST "/beta/deviceAppManagement/androidManagedAppProtections/$pol/assign" "{\"assignments\":[{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$dyn\"}}]}"
expect_status 204 "assign a policy to the dynamic group"
api GET "/beta/users/$bob/getManagedAppPolicies"
expect_eq "$(jq -r '[.value[].displayName] | join(",")' <<<"$BODY")" "Nordics" "Bob, now in Bergen, gets the policy"
api PATCH "/v1.0/users/$bob" '{"city":"Stockholm"}'
api GET "/beta/users/$bob/getManagedAppPolicies"
expect_eq "$(jq '.value | length' <<<"$BODY")" "0" "and loses it when he moves"

# ---- OData over the new properties ----
api GET "$G?\$filter=groupTypes/any(t:t%20eq%20'DynamicMembership')"
expect_eq "$(jq -r '[.value[].displayName] | join(",")' <<<"$BODY")" "Sales (dynamic)" "\$filter on groupTypes with any()"
api GET "/v1.0/users?\$filter=department%20eq%20'Sales'%20and%20accountEnabled%20eq%20true&\$orderby=displayName"
expect_eq "$(jq -r '[.value[].displayName] | join(",")' <<<"$BODY")" "Alice,Bob,Carol,Dave" "\$filter on department and accountEnabled"
finish
