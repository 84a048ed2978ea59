#!/usr/bin/env bash
# OData query options on Graph collections (issue: Graph/Defender compatibility, items 1 and 4):
# $filter beyond eq, property names in any case, unknown properties and options refused,
# $orderby, $select, $count=true, /$count, $top/$skip with a nextLink built from parsed options.
# The requests follow Microsoft Graph's "Use query parameters" documentation.
source "$(dirname "$0")/lib.sh"
rg_start

A=/beta/deviceAppManagement/androidManagedAppProtections
I=/beta/deviceAppManagement/iosManagedAppProtections
for n in "Level 1 basic" "Level 2 enhanced" "Level 3 high" "Sales O'Brien"; do
  api POST "$A" "$(jq -nc --arg n "$n" '{displayName:$n, minimumPinLength:(if ($n|startswith("Level 3")) then 8 else 4 end)}')"
  expect_status 201 "create $n"
done
api POST "$I" '{"displayName":"iOS baseline","minimumPinLength":6}'
expect_status 201 "create an iOS policy"

# q PATH QUERY: GET with the query percent-encoded as curl would send a script's string
q() { api GET "$1?$(jq -rn --arg s "$2" '$s|@uri' | sed 's/%3D/=/g; s/%26/\&/g')"; }
names() { jq -r '[.value[].displayName] | join(",")' <<<"$BODY"; }

# ---- item 1: property names in any case; unknown ones are a 400 naming them ----
q "$A" "\$filter=displayname eq 'Level 1 basic'"
expect_status 200 "displayname (lower case) in \$filter"
expect_eq "$(names)" "Level 1 basic" "a known property in another case matches"
q "$A" "\$filter=colour eq 'red'"
expect_error 400 colour "an unknown property in \$filter"
q "$A" "\$frobnicate=1"
expect_error 400 '$frobnicate' "an unknown query option"
q "$A" "\$filter=displayName eq"
expect_error 400 '$filter' "a syntax error in \$filter"
q "$A" "\$filter=minimumPinLength eq 'four'"
expect_error 400 minimumPinLength "a string compared with a number property"

# ---- item 4: operators, functions, and/or/not, parentheses, in ----
q "$A" "\$filter=startswith(displayName,'Level')&\$orderby=displayName desc"
expect_eq "$(names)" "Level 3 high,Level 2 enhanced,Level 1 basic" "startswith + \$orderby desc"
q "$A" "\$filter=endswith(displayName,'high') or contains(displayName,'enhanced')&\$orderby=displayName"
expect_eq "$(names)" "Level 2 enhanced,Level 3 high" "endswith or contains, \$orderby asc"
q "$A" "\$filter=minimumPinLength gt 4"
expect_eq "$(names)" "Level 3 high" "gt on a number"
q "$A" "\$filter=minimumPinLength le 4 and not startswith(displayName,'Level')"
expect_eq "$(names)" "Sales O'Brien" "le and not"
q "$A" "\$filter=(displayName eq 'Level 1 basic' or displayName eq 'Level 3 high') and minimumPinLength ge 8"
expect_eq "$(names)" "Level 3 high" "parentheses"
q "$A" "\$filter=displayName in ('Level 1 basic','Sales O''Brien')&\$orderby=displayName"
expect_eq "$(names)" "Level 1 basic,Sales O'Brien" "in (...) with a doubled quote"
q "$A" "\$filter=displayName ne 'Level 1 basic'&\$count=true"
expect_eq "$(jq -r '."@odata.count"' <<<"$BODY")" "3" "ne, and \$count=true gives @odata.count"
q "$A" "\$filter=createdDateTime ge 2000-01-01T00:00:00Z&\$count=true"
expect_eq "$(jq -r '."@odata.count"' <<<"$BODY")" "4" "ge on a datetime"
q "$A" "\$filter=createdDateTime lt 2000-01-01"
expect_eq "$(jq '.value | length' <<<"$BODY")" "0" "lt on a datetime (none that old)"

# ---- $select ----
q "$A" "\$select=displayName,minimumPinLength&\$filter=displayName eq 'Level 3 high'"
expect_eq "$(jq -c '.value[0] | del(."@odata.type") | keys' <<<"$BODY")" '["displayName","id","minimumPinLength"]' "\$select keeps only the selected properties and id"
q "$A" "\$select=nope"
expect_error 400 nope "\$select of an unknown property"

# ---- the polymorphic collection: properties of either platform ----
q /beta/deviceAppManagement/managedAppPolicies "\$filter=minimumPinLength eq 6"
expect_eq "$(names)" "iOS baseline" "managedAppPolicies filters across platforms"

# ---- /$count as a path segment: a plain-text number ----
apic() { STATUS=$(curl -sS -o "$RG_TMP/resp" -D "$RG_TMP/hdrs" -w '%{http_code}' -H "Authorization: Bearer $RG_KEY" "$RG_URL$1"); BODY=$(cat "$RG_TMP/resp"); }
apic "$A/\$count"
expect_status 200 "/\$count"
expect_eq "$BODY" "4" "/\$count is the number of items"
grep -qi '^content-type: text/plain' "$RG_TMP/hdrs" && pass || fail "/\$count is text/plain"
apic "$A/\$count?\$filter=startswith(displayName,'Level')"
expect_eq "$BODY" "3" "/\$count with \$filter"
api POST /beta/users '{"userPrincipalName":"ann@contoso.com","displayName":"Ann"}'
apic "/beta/users/\$count"
expect_eq "$BODY" "1" "users/\$count"

# ---- paging: $top/$skip and a nextLink rebuilt from parsed options ----
q "$A" "\$top=2&\$orderby=displayName&\$filter=minimumPinLength ge 4"
expect_eq "$(names)" "Level 1 basic,Level 2 enhanced" "\$top=2 first page"
next=$(jq -r '."@odata.nextLink"' <<<"$BODY")
[[ "$next" == "$RG_URL/"* ]] && pass || fail "nextLink is absolute: $next"
api GET "${next#"$RG_URL"}"
expect_eq "$(names)" "Level 3 high,Sales O'Brien" "the nextLink gives the second page in the same order"
expect_eq "$(jq -r '."@odata.nextLink" // "none"' <<<"$BODY")" "none" "no nextLink on the last page"
api GET "$A?\$top=1&\$expand=x%26%24skip%3D5"
expect_error 400 '$expand' "an unknown \$expand is refused, not copied into the nextLink"
api GET "$A?\$top=1&\$expand=assignments"
next=$(jq -r '."@odata.nextLink"' <<<"$BODY")
[[ "$next" == *'$expand=assignments'* ]] && pass || fail "nextLink keeps \$expand: $next"
[[ "$next" == *'$skip=1'* ]] && pass || fail "nextLink pages with \$skip: $next"
api GET "$A?\$skiptoken=abc"
expect_error 400 '$skiptoken' "a \$skiptoken this collection never issued"
api GET "$A?\$search=%22Level%22"
expect_error 400 '$search' "\$search where Graph does not offer it"

# ---- other collections take the same options ----
api POST /beta/groups '{"displayName":"Sales"}'
api POST /beta/groups '{"displayName":"Marketing"}'
q /beta/groups "\$filter=startswith(DisplayName,'S')"
expect_eq "$(names)" "Sales" "groups: startswith with the property in another case"
q /beta/users "\$filter=userPrincipalName eq 'ANN@contoso.com'"
expect_eq "$(jq '.value | length' <<<"$BODY")" "1" "users: strings compare without regard to case, as Entra ID does"
q /beta/deviceManagement/mobileThreatDefenseConnectors "\$filter=partnerState ne 'unavailable'"
expect_status 200 "connectors take \$filter"
# ---- the directory answers from SQL (indexes of migration 7): the same answers as in memory ----
for n in "zoe" "Zed" "Zara Ng" "Yan" "zz top" "Ålex" "[bracket]"; do
  u=$(tr -dc 'a-z' <<<"${n,,}")
  api POST /beta/users "{\"userPrincipalName\":\"$u$RANDOM@contoso.com\",\"displayName\":\"$n\",\"department\":\"D${#n}\"}"
  expect_status 201 "user $n"
done
dn() { jq -r '[.value[].displayName] | join(",")' <<<"$BODY"; }
q /beta/users "\$filter=startswith(displayName,'Z')&\$orderby=displayName"
expect_eq "$(dn)" "Zara Ng,Zed,zoe,zz top" "startswith('Z') finds z and Z (the range's bound is after 'z', not after 'Z')"
q /beta/users "\$filter=startswith(displayName,'z')&\$orderby=displayName desc&\$top=2&\$count=true"
expect_eq "$(dn)" "zz top,zoe" "descending, first page"
expect_eq "$(jq '."@odata.count"' <<<"$BODY")" "4" "@odata.count counts every match, not the page"
next=$(jq -r '."@odata.nextLink"' <<<"$BODY")
api GET "${next#"$RG_URL"}"
expect_eq "$(dn)" "Zed,Zara Ng" "the nextLink's page, from SQL"
expect_eq "$(jq -r '."@odata.nextLink" // "none"' <<<"$BODY")" "none" "no nextLink after the last match"
apic "/beta/users/\$count?\$filter=startswith(displayName,'z')%20or%20displayName%20eq%20'Yan'"
expect_eq "$BODY" "5" "users/\$count with \$filter, counted in SQL"
q /beta/users "\$filter=startswith(displayName,'[b')"
expect_eq "$(dn)" "[bracket]" "a prefix with characters LIKE and ranges treat specially"
q /beta/users "\$filter=startswith(displayName,'Å')"
expect_eq "$(dn)" "Ålex" "a non-ASCII prefix"
q /beta/users "\$filter=department eq 'd3' and not startswith(displayName,'z')"
expect_eq "$(dn)" "Yan" "not startswith (either case) and a case-insensitive eq"
q /beta/users "\$filter=otherMails/any(m: m eq 'x@y')"
expect_status 200 "any() on users falls back to memory"
expect_eq "$(jq '.value | length' <<<"$BODY")" "0" "any() over an empty list"
q /beta/users "\$filter=startswith(displayName,'z')&\$select=displayName&\$top=1"
expect_eq "$(jq -c '.value[0] | keys' <<<"$BODY")" '["@odata.type","displayName","id"]' "\$select on a page from SQL (id and annotations kept, as Graph does)"
q /beta/users "\$filter=startswith(displayName,'Z')&\$orderby=displayName"
jq -e '[.value[] | has("passwordHash") or has("members")] | any | not' >/dev/null <<<"$BODY" && pass ||
  fail "users from SQL are shaped like single gets (no passwordHash): $BODY"
# ---- $search on directory objects (an advanced query: ConsistencyLevel: eventual) ----
api POST /beta/users '{"userPrincipalName":"wa1@contoso.com","displayName":"Walter HelloWorld","mail":"walter@contoso.com"}'
api POST /beta/users '{"userPrincipalName":"wa2@contoso.com","displayName":"Anna Wagner","mail":"anna.w@contoso.com"}'
api POST /beta/users '{"userPrincipalName":"x3@contoso.com","displayName":"Bob Dwarf","mail":"bob@fabrikam.com"}'
api POST /beta/groups '{"displayName":"Sales EMEA","description":"Salespeople in Europe"}'
sq() { STATUS=$(curl -sS -o "$RG_TMP/resp" -w '%{http_code}' -H "Authorization: Bearer $RG_KEY" -H 'ConsistencyLevel: eventual' \
  -G --data-urlencode "\$search=$2" ${3:+--data-urlencode "$3"} "$RG_URL$1"); BODY=$(cat "$RG_TMP/resp"); }
sq /v1.0/users '"displayName:wa"' '$orderby=displayName'
expect_status 200 "\$search with ConsistencyLevel: eventual"
expect_eq "$(dn)" "Anna Wagner,Walter HelloWorld" "\$search on displayName matches word prefixes, not inner text (Dwarf)"
sq /v1.0/users '"displayName:world"'
expect_eq "$(dn)" "Walter HelloWorld" "\$search splits words at a change of case"
sq /v1.0/users '"displayName:wal" OR "mail:bob"' '$orderby=displayName'
expect_eq "$(dn)" "Bob Dwarf,Walter HelloWorld" "\$search clauses with OR"
sq /v1.0/users '"displayName:wa" AND "mail:anna"'
expect_eq "$(dn)" "Anna Wagner" "\$search clauses with AND; mail is startswith"
sq /v1.0/users '"mail:contoso"'
expect_eq "$(dn)" "" "\$search on mail is startswith, not a word search"
sq /v1.0/users '"displayName:wa"' '$filter=startswith(mail,'"'"'anna'"'"')'
expect_eq "$(dn)" "Anna Wagner" "\$search with \$filter"
sq /v1.0/groups '"description:europe"'
expect_eq "$(dn)" "Sales EMEA" "\$search on a group's description"
STATUS=$(curl -sS -o "$RG_TMP/resp" -w '%{http_code}' -H "Authorization: Bearer $RG_KEY" -H 'ConsistencyLevel: eventual' \
  -G --data-urlencode '$search="displayName:wa"' "$RG_URL/v1.0/users/\$count"); BODY=$(cat "$RG_TMP/resp")
expect_eq "$BODY" "2" "/\$count with \$search"
api GET "/v1.0/users?\$search=%22displayName:wa%22"
expect_error 400 'ConsistencyLevel' "\$search without ConsistencyLevel: eventual is refused, as Graph does"
sq /v1.0/users '"nosuch:wa"'
expect_error 400 'nosuch' "\$search on an unknown property names it"
sq /v1.0/users 'displayName:wa'
expect_error 400 '$search' "\$search without quotes"
sq /v1.0/users '"displayName:wa" NEAR "mail:x"'
expect_error 400 'AND or OR' "\$search with another operator"
finish
