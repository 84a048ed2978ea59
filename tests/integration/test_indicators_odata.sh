#!/usr/bin/env bash
# /api/indicators, issue 10 items 8 and 13 and the indicator half of item 4:
# legacy and extra action values and properties read back as sent, values as
# sent (matching, dedup and $filter on the canonical form), BatchDelete and
# BatchUpdate, and OData ($filter, $orderby, $select, $count, errors) served
# from SQL.
source "$(dirname "$0")/lib.sh"
rg_start

ind() { api POST /api/indicators "$1"; }
q() { api GET "/api/indicators?$1"; }
vals() { jq -r '[.value[].indicatorValue] | join(",")' <<<"$BODY"; }
apic() { STATUS=$(curl -sS -o "$RG_TMP/resp" -D "$RG_TMP/hdrs" -w '%{http_code}' -H "Authorization: Bearer $RG_KEY" "$RG_URL$1"); BODY=$(cat "$RG_TMP/resp"); }

# ---- legacy and extra action values: read back as sent, filter finds them ----
n=0
for a in AlertAndBlock Alert Allowed Audit Warn Block BlockAndRemediate; do
  n=$((n + 1))
  case $a in
    Warn|Allowed|Block) t=DomainName v="act$n.example.org" ;;
    *) t=FileSha1 v=$(printf '%040d' $n) ;;
  esac
  ind "{\"indicatorValue\":\"$v\",\"indicatorType\":\"$t\",\"action\":\"$a\",\"title\":\"t$n\",\"description\":\"\",\"generateAlert\":true}"
  expect_eq "$(jq -r .action <<<"$BODY")" "$a" "action $a reads back as sent"
  q "\$filter=action%20eq%20'$a'"
  expect_eq "$(vals)" "$v" "\$filter=action eq '$a' finds it"
done

# ---- extra Defender properties round-trip ----
ind '{"indicatorValue":"extra.example.org","indicatorType":"DomainName","action":"Block","title":"extra","description":"d",
      "externalId":"ext-1","rbacGroupNames":"vip, corp","rbacGroupIds":["12","13"],"generateAlert":true,"category":"Phishing",
      "mitreTechniques":["T1566"],"educateUrl":"https://help.example.org/why","lookBackPeriod":"P30D",
      "expirationTime":"2031-02-03T04:05:06Z","application":"demo app","recommendedActions":"call IT"}'
expect_status 200 "an indicator with every extra property"
extra=$(jq -r .id <<<"$BODY")
api GET "/api/indicators/$extra"
for p in 'externalId=ext-1' 'rbacGroupNames=vip,corp' 'rbacGroupIds=12,13' 'generateAlert=true' 'category=Phishing' \
         'mitreTechniques=T1566' 'educateUrl=https://help.example.org/why' 'lookBackPeriod=P30D' \
         'expirationTime=2031-02-03T04:05:06Z' 'application=demo app' 'recommendedActions=call IT'; do
  k=${p%%=*}
  expect_eq "$(jq -r --arg k "$k" '.[$k] | if type == "array" then join(",") else tostring end' <<<"$BODY")" "${p#*=}" "$k round-trips"
done
for bad in '"externalId":5' '"rbacGroupNames":7' '"rbacGroupIds":"x"' '"generateAlert":"maybe"' '"category":[1]' \
           '"mitreTechniques":"T1"' '"educateUrl":true' '"lookBackPeriod":[]' '"expirationTime":12' '"application":{}' \
           '"recommendedActions":false'; do
  k=$(sed 's/^"\([^"]*\)".*/\1/' <<<"$bad")
  ind "{\"indicatorValue\":\"bad.example.org\",\"indicatorType\":\"DomainName\",\"action\":\"Block\",\"title\":\"x\",\"description\":\"\",$bad}"
  expect_error 400 "$k" "wrong-typed $k is 400"
  jq -e '.error.target | type == "string"' >/dev/null <<<"$BODY" && pass || fail "$k: Defender's error body has a target: $BODY"
done

# ---- values as sent; matching, dedup and $filter on the canonical form ----
UP=275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F
LO=$(tr 'A-F' 'a-f' <<<"$UP")
ind "{\"indicatorValue\":\"$UP\",\"indicatorType\":\"FileSha256\",\"action\":\"Block\",\"title\":\"eicar\",\"description\":\"\"}"
up=$(jq -r .id <<<"$BODY")
expect_eq "$(jq -r .indicatorValue <<<"$BODY")" "$UP" "an upper-case hash reads back as sent"
q "\$filter=indicatorValue%20eq%20'$LO'"
expect_eq "$(vals)" "$UP" "a lower-case filter finds the upper-case hash"
M5=44D88612FEA8A8F36DE82E1278ABB02F
ind "{\"indicatorValue\":\"$(tr 'A-F' 'a-f' <<<"$M5")\",\"indicatorType\":\"FileMd5\",\"action\":\"Block\",\"title\":\"m\",\"description\":\"\"}"
q "\$filter=indicatorValue%20eq%20'$M5'"
expect_eq "$(jq '.value | length' <<<"$BODY")" 1 "an upper-case filter finds the lower-case hash"
ind "{\"indicatorValue\":\"$LO\",\"indicatorType\":\"FileSha256\",\"action\":\"Audit\",\"generateAlert\":true,\"title\":\"eicar\",\"description\":\"\"}"
expect_eq "$(jq -r .id <<<"$BODY")" "$up" "the same hash in another case updates (dedup on the canonical form)"
ind '{"indicatorValue":"https://noslash.example.org","indicatorType":"Url","action":"Warn","title":"u","description":""}'
expect_eq "$(jq -r .indicatorValue <<<"$BODY")" "https://noslash.example.org" "a URL without trailing slash reads back as sent"

# ---- eq/in on indicatorValue also take the literal's canonical form, as submit computes it ----
ind '{"indicatorValue":"https://example.org/path","indicatorType":"Url","action":"Warn","title":"canon","description":""}'
curl_id=$(jq -r .id <<<"$BODY")
ind '{"indicatorValue":"2001:db8::1","indicatorType":"IpAddress","action":"Block","title":"v6","description":""}'
cq() { q "\$filter=$(jq -rn --arg f "$1" '$f | @uri')${2-}"; }
cq "indicatorValue eq 'HTTPS://Example.org/path'"
expect_eq "$STATUS $(vals)" "200 https://example.org/path" "scheme and host in another case"
cq "indicatorValue eq 'https://Example.org:443/a/../%70ath#frag'"
expect_eq "$(vals)" "https://example.org/path" "default port, dot segments, an escaped unreserved character, a fragment"
cq "indicatorValue eq 'https://noslash.example.org'"
expect_eq "$(vals)" "https://noslash.example.org" "a URL without a path finds the one stored with '/'"
cq "indicatorType eq 'url' and indicatorValue eq 'https://example.org:443/path'"
expect_eq "$(vals)" "https://example.org/path" "with indicatorType beside it, that type's canonical form"
cq "indicatorType eq 'DomainName' and indicatorValue eq 'https://example.org:443/path'"
expect_eq "$STATUS $(vals)" "200 " "another type beside it: no URL form, nothing found"
cq "indicatorValue in ('none.example.org','https://example.org:443/path','2001:DB8:0:0:0:0:0:1')" "&\$orderby=indicatorValue"
expect_eq "$(vals)" "2001:db8::1,https://example.org/path" "in: each literal with its canonical forms"
cq "not (indicatorValue eq 'https://example.org:443/path') and title eq 'canon'"
expect_eq "$STATUS $(vals)" "200 " "not eq: the canonical form is excluded too"
cq "indicatorValue eq 'https://example.org/PATH2'"
expect_eq "$STATUS $(vals)" "200 " "a literal the canonicaliser keeps is compared as given"
cq "indicatorValue in ('https://example.org:443/path','https://noslash.example.org')" "&\$top=1&\$orderby=title"
expect_eq "$(vals)" "https://example.org/path" "first page of a widened in-list"
next=$(jq -r '."@odata.nextLink"' <<<"$BODY")
[[ $next == *noslash.example.org%27* && $next != *noslash.example.org%2F%27* ]] && pass || fail "the nextLink carries the filter as sent: $next"
api GET "/api/${next#*/api/}"
expect_eq "$(vals)" "https://noslash.example.org" "the nextLink's page widens again"
apic "/api/indicators/\$count?\$filter=$(jq -rn '"indicatorValue eq '"'"'https://example.org:443/path'"'"'" | @uri')"
expect_eq "$BODY" "1" "/\$count with a canonicalised literal"
api DELETE "/api/indicators/$curl_id"

# ---- BatchDelete and BatchUpdate ----
ids=()
for i in 1 2 3; do
  ind "{\"indicatorValue\":\"batch$i.example.org\",\"indicatorType\":\"DomainName\",\"action\":\"Block\",\"title\":\"b$i\",\"description\":\"\"}"
  ids+=("$(jq -r .id <<<"$BODY")")
done
api POST /api/indicators/BatchUpdate "{\"IndicatorIds\":[\"${ids[0]}\",\"${ids[1]}\"],\"severity\":\"High\",\"action\":\"Allowed\"}"
expect_status 200 "BatchUpdate"
api GET "/api/indicators/${ids[1]}"
expect_eq "$(jq -r '.severity + " " + .action + " " + .title' <<<"$BODY")" "High Allowed b2" "BatchUpdate set the fields, kept the rest"
api GET "/api/indicators/${ids[2]}"
expect_eq "$(jq -r .severity <<<"$BODY")" "Informational" "BatchUpdate left unlisted ids alone"
api POST /api/indicators/BatchUpdate "{\"IndicatorIds\":[\"${ids[0]}\"],\"severity\":\"Huge\"}"
expect_error 400 severity "BatchUpdate with a bad value"
api POST /api/indicators/BatchUpdate "{\"IndicatorIds\":[\"${ids[0]}\"],\"indicatorValue\":\"x.example.org\"}"
expect_error 400 indicatorValue "BatchUpdate cannot change the identity"
api POST /api/indicators/batchdelete "{\"IndicatorIds\":[\"${ids[0]}\",\"${ids[1]}\"]}"
expect_status 204 "BatchDelete"
api GET "/api/indicators/${ids[0]}"
expect_status 404 "a batch-deleted indicator is gone"
api GET "/api/indicators/${ids[1]}"
expect_status 404 "the second batch-deleted indicator is gone"
api POST /api/indicators/BatchDelete '{"IndicatorIds":[]}'
expect_error 400 IndicatorIds "BatchDelete with no ids"
api POST /api/indicators/BatchDelete '{"ids":["1"]}'
expect_error 400 IndicatorIds "BatchDelete without IndicatorIds"
api POST /api/indicators/BatchDelete '{"IndicatorIds":["abc"]}'
expect_error 400 'IndicatorIds[0]' "BatchDelete with a malformed id"
jq -e '.error.target' >/dev/null <<<"$BODY" && pass || fail "BatchDelete error has Defender's target: $BODY"
api POST /api/indicators/BatchDelete "{\"IndicatorIds\":[\"${ids[2]}\",\"999999\"]}"
expect_status 404 "BatchDelete with an unknown id (Defender's docs: 404)"
api GET "/api/indicators/${ids[2]}"
expect_status 200 "nothing is deleted when an id is unknown"

# ---- OData ----
q "\$filter=startswith(indicatorValue,'act')%20and%20indicatorType%20eq%20'DomainName'&\$orderby=indicatorValue"
expect_eq "$(vals)" "act3.example.org,act5.example.org,act6.example.org" "startswith and and, \$orderby asc"
q "\$filter=startswith(indicatorValue,'act')&\$orderby=indicatorValue%20desc&\$top=2"
expect_eq "$(vals)" "act6.example.org,act5.example.org" "\$orderby desc with \$top"
[ "$(jq -r '."@odata.nextLink"' <<<"$BODY")" != null ] && pass || fail "\$orderby pages with a nextLink"
next=$(jq -r '."@odata.nextLink"' <<<"$BODY")
api GET "/api/${next#*/api/}"
expect_eq "$(vals)" "act3.example.org" "the \$orderby nextLink gives the next page"
q "\$filter=action%20eq%20'Warn'%20or%20action%20eq%20'Allowed'&\$orderby=title"
expect_eq "$(jq -r '[.value[].title] | join(",")' <<<"$BODY")" "t3,t5,u" "or"
q "\$filter=title%20in%20('t1','t2','t7')&\$orderby=title%20desc"
expect_eq "$(jq -r '[.value[].title] | join(",")' <<<"$BODY")" "t7,t2,t1" "in"
q "\$filter=startswith(title,'t')%20and%20not%20(indicatorType%20eq%20'FileSha1')&\$orderby=title"
expect_eq "$(jq -r '[.value[].title] | join(",")' <<<"$BODY")" "t3,t5,t6" "not"
q "\$filter=expirationTime%20gt%202031-01-01T00:00:00Z"
expect_eq "$(vals)" "extra.example.org" "gt on a datetime"
q "\$filter=severity%20eq%20'High'%20and%20generateAlert%20eq%20true"
expect_eq "$(jq '.value | length' <<<"$BODY")" 0 "and with a boolean (nothing High alerts)"
q "\$filter=endswith(indicatorValue,'.org')%20and%20contains(title,'xtr')"
expect_eq "$(vals)" "extra.example.org" "endswith and contains"
q "\$select=indicatorValue,action&\$filter=title%20eq%20'extra'"
expect_eq "$(jq -c '.value[0] | keys' <<<"$BODY")" '["action","id","indicatorValue"]' "\$select"
q "\$count=true&\$top=1&\$filter=startswith(indicatorValue,'act')"
expect_eq "$(jq -r '."@odata.count"' <<<"$BODY") $(jq '.value | length' <<<"$BODY")" "3 1" "\$count=true counts all matches"
# ---- /$count as a path segment: the number alone, text/plain, counted in SQL ----
q '$top=10000'
total=$(jq '.value | length' <<<"$BODY")
apic '/api/indicators/$count'
expect_status 200 "/api/indicators/\$count"
expect_eq "$BODY" "$total" "/api/indicators/\$count is the number of indicators"
grep -qi '^content-type: text/plain' "$RG_TMP/hdrs" && pass || fail "/api/indicators/\$count is text/plain"
apic "/api/indicators/\$count?\$filter=startswith(indicatorValue,'act')"
expect_eq "$BODY" "3" "/api/indicators/\$count with \$filter"
apic "/api/indicators/\$count?\$filter=startswith(indicatorValue,'act')&\$top=1&\$skip=1"
expect_eq "$BODY" "3" "/api/indicators/\$count ignores \$top and \$skip"
apic "/api/indicators/\$count?\$filter=colour%20eq%20'red'"
expect_error 400 colour "/api/indicators/\$count with an unknown property"
q "\$filter=IndicatorValue%20eq%20'extra.example.org'"
expect_eq "$(vals)" "extra.example.org" "a known property in another case"
q "\$filter=colour%20eq%20'red'"
expect_error 400 colour "unknown property in \$filter"
q "\$orderby=colour"
expect_error 400 colour "unknown property in \$orderby"
q "\$filter=title%20eq"
expect_error 400 '$filter' "bad \$filter syntax"
q "\$frobnicate=1"
expect_error 400 frobnicate "unknown \$option"

# ---- any()/all() over rbacGroupNames, rbacGroupIds (SQL: EXISTS over json_each) ----
# "vip, corp" was sent as one comma-separated string: stored (and served) as the names ["vip","corp"],
# so any() tests each name, whole and without regard to case, never a piece of the string as sent.
ind '{"indicatorValue":"scoped.example.org","indicatorType":"DomainName","action":"Block","title":"scoped","description":"",
      "rbacGroupNames":["Corp"],"rbacGroupIds":["13"]}'
expect_status 200 "an indicator scoped with an array of names"
q "\$filter=rbacGroupNames/any(g:g%20eq%20'vip')"
expect_eq "$STATUS $(vals)" "200 extra.example.org" "rbacGroupNames/any(g: g eq 'vip') on a comma-separated string as sent"
q "\$filter=rbacGroupNames/any(g:g%20eq%20'VIP')&\$select=indicatorValue"
expect_eq "$(vals)" "extra.example.org" "any() compares names without regard to case"
q "\$filter=rbacGroupNames/any(g:g%20eq%20'corp')&\$orderby=indicatorValue"
expect_eq "$(vals)" "extra.example.org,scoped.example.org" "any() finds a name of a comma string and of an array"
q "\$filter=rbacGroupNames/any(g:g%20eq%20'vi')"
expect_eq "$STATUS $(vals)" "200 " "any() matches whole names, not pieces"
q "\$filter=rbacGroupNames/any(g:g%20eq%20'vip,%20corp')"
expect_eq "$STATUS $(vals)" "200 " "the comma string as sent is not one of the names"
q "\$filter=rbacGroupNames/any(g:startswith(g,'co')%20and%20indicatorType%20eq%20'DomainName')&\$orderby=indicatorValue"
expect_eq "$(vals)" "extra.example.org,scoped.example.org" "any() with a function and the indicator's own property"
q "\$filter=rbacGroupIds/any(i:i%20in%20('99','12'))"
expect_eq "$(vals)" "extra.example.org" "rbacGroupIds/any() with in"
q "\$filter=rbacGroupIds/any(i:i%20eq%20'13')%20and%20not%20rbacGroupNames/any(g:g%20eq%20'vip')"
expect_eq "$(vals)" "scoped.example.org" "not any() and any()"
q "\$filter=rbacGroupNames/any()&\$orderby=indicatorValue"
expect_eq "$(vals)" "extra.example.org,scoped.example.org" "any() without a lambda: a non-empty scope"
apic '/api/indicators/$count'
all=$BODY
apic "/api/indicators/\$count?\$filter=rbacGroupNames/all(g:g%20eq%20'corp')"
expect_eq "$BODY" "$((all - 1))" "all(): true on an empty scope, false when one name differs"
apic "/api/indicators/\$count?\$filter=rbacGroupNames/any(g:g%20eq%20'corp')"
expect_eq "$BODY" "2" "/\$count with any()"
q "\$filter=mitreTechniques/any(t:t%20eq%20'T1566')"
expect_eq "$(vals)" "extra.example.org" "mitreTechniques/any()"
q "\$filter=title/any(g:g%20eq%20'vip')"
expect_error 400 title "any() on a property that is not a collection"

finish
