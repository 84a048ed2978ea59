#!/usr/bin/env bash
# test_flood.sh: eight clients send wrong passwords to POST /device/v1/activate
# from 127.0.0.1 for 8 s (bench/flood.py) while /healthz is measured. Asserts
# behaviour only: the flood gets 401s then 429s (each with Retry-After), an
# honest activation from 127.0.0.2 during the flood succeeds, and the daemon
# stops cleanly. The /healthz median/p99 with and without the flood are
# printed, not asserted (timing belongs to bench/, not to tests).
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

rg_start
api POST /v1.0/users '{"userPrincipalName":"alice@contoso.com","accountEnabled":true,"passwordProfile":{"password":"correct horse battery"}}'
expect_status 201 "user with a password"
api POST /v1.0/users '{"userPrincipalName":"bob@contoso.com","accountEnabled":true,"passwordProfile":{"password":"another good one"}}'
expect_status 201 "second user"

# 127.0.0.2 must reach the loopback listener (Linux routes 127/8 there)
if ! curl -sS -o /dev/null --interface 127.0.0.2 "$RG_URL/healthz"; then
  fail "cannot connect from 127.0.0.2"
  finish
fi

# the flood aims at bob; alice signs in honestly from 127.0.0.2 halfway through
OUTJ=$(python3 "$ROOT/bench/flood.py" "$RG_URL" --seconds 8 --baseline 2 --clients 8 \
  --user alice@contoso.com --password "correct horse battery" --flood-user bob@contoso.com)
echo "flood: $OUTJ"
jq -r '"healthz without flood: median \(.baseline.median_ms) ms, p99 \(.baseline.p99_ms) ms (n=\(.baseline.n))",
       "healthz during flood:  median \(.flood.median_ms) ms, p99 \(.flood.p99_ms) ms (n=\(.flood.n))",
       "flood answers: \(.flood_statuses)", "honest sign-in from 127.0.0.2: \(.honest)"' <<<"$OUTJ"

expect_eq "$(jq -r '.honest.status' <<<"$OUTJ")" 201 "honest activation from another address during the flood"
expect_eq "$(jq -r '(.flood_statuses["401"] // 0) > 0' <<<"$OUTJ")" true "the flood's first wrong passwords get 401"
expect_eq "$(jq -r '(.flood_statuses["429"] // 0) > 0' <<<"$OUTJ")" true "the flood is rate limited (429)"
expect_eq "$(jq -r '.flood_statuses["429_without_retry_after"] // 0' <<<"$OUTJ")" 0 "every 429 has Retry-After"
expect_eq "$(jq -r '[.flood_statuses | keys[] | select(. != "401" and . != "429")] | length' <<<"$OUTJ")" 0 \
  "the flood gets nothing but 401 and 429"
expect_eq "$(jq -r '.baseline.n > 0 and .flood.n > 0' <<<"$OUTJ")" true "/healthz answered before and during the flood"

# what no one authenticated is logged at a bounded rate, the rest summed up (not one line per request)
nflood=$(jq '[.flood_statuses | to_entries[] | select(.key | test("^[0-9]+$")) | .value] | add' <<<"$OUTJ")
nlines=$(wc -l <"$RG_TMP/daemon.log")
echo "flood: $nflood requests, $nlines log lines so far"
if [ "$nflood" -gt 2000 ]; then
  [ "$nlines" -lt 1000 ] && pass || fail "the log is bounded during a flood: $nlines lines for $nflood requests"
  wait_until 12 grep -q 'unauthenticated or rate-limited requests not logged one by one' "$RG_TMP/daemon.log" && pass ||
    fail "the requests not logged are summed up in the log"
else
  fail "the flood was too small to test the log's bound ($nflood requests)"
fi

# the 429 is Graph's error body, with Retry-After
H=$(curl -sS -D - -o "$RG_TMP/resp" -H 'Content-Type: application/json' --interface 127.0.0.1 \
  --data-binary '{"tenant":"default","userPrincipalName":"bob@contoso.com","password":"wrong again"}' \
  "$RG_URL/device/v1/activate")
STATUS=$(sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' <<<"$H")
BODY=$(cat "$RG_TMP/resp")
expect_error 429 "" "wrong password from the flooding address"
expect_eq "$(jq -r .error.code <<<"$BODY")" TooManyRequests "429 error code"
if grep -qi '^retry-after: [1-9]' <<<"$H"; then pass; else fail "429 without Retry-After: $H"; fi

# the address stays limited (tokens are taken before the check), other addresses and accounts are not
api POST /device/v1/activate '{"tenant":"default","userPrincipalName":"alice@contoso.com","password":"correct horse battery"}' ""
expect_status 429 "even the right password from the flooding address waits for its tokens"
STATUS=$(curl -sS -o "$RG_TMP/resp" -w '%{http_code}' --interface 127.0.0.2 -H 'Content-Type: application/json' \
  --data-binary '{"tenant":"default","userPrincipalName":"alice@contoso.com","password":"correct horse battery"}' \
  "$RG_URL/device/v1/activate")
BODY=$(cat "$RG_TMP/resp")
expect_status 201 "alice again from 127.0.0.2 after the flood (curl --interface)"

# wrong enrollment codes count against the address too (from 127.0.0.3: nothing else used it)
codes=""
for i in $(seq 1 11); do
  codes+=$(curl -sS -o /dev/null -w '%{http_code} ' --interface 127.0.0.3 -H 'Content-Type: application/json' \
    --data-binary '{"tenant":"default","enrollmentCode":"WRONG-CODE-'"$i"'"}' "$RG_URL/device/v1/activate")
done
expect_eq "$codes" "401 401 401 401 401 401 401 401 401 401 429 " "ten wrong enrollment codes, then 429"

# ---- new passwords are hashed on the pool too: concurrent creates, one name, one winner ----
racers=()
for i in $(seq 6); do
  curl -sS -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $RG_KEY" -H 'Content-Type: application/json' \
    --data-binary '{"userPrincipalName":"race@contoso.com","passwordProfile":{"password":"racing password '"$i"'"}}' \
    "$RG_URL/v1.0/users" >"$RG_TMP/race.$i" &
  racers+=($!)
done
wait "${racers[@]}" # not a bare wait: riskgated is a background job of this shell too
codes=$(cat "$RG_TMP"/race.* | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
expect_eq "$codes" "201:1 400:5 " "six concurrent creates of one userPrincipalName, with passwords: one 201, five 400"
apic_count=$(curl -sS -H "Authorization: Bearer $RG_KEY" "$RG_URL/v1.0/users/\$count?\$filter=userPrincipalName%20eq%20'race@contoso.com'")
expect_eq "$apic_count" 1 "one such user stored"
H=$(curl -sS -D - -o "$RG_TMP/loc.json" -H "Authorization: Bearer $RG_KEY" -H 'Content-Type: application/json' \
  --data-binary '{"userPrincipalName":"loc@contoso.com","passwordProfile":{"password":"located password"}}' "$RG_URL/v1.0/users")
locid=$(jq -r .id "$RG_TMP/loc.json")
grep -qi "^location: .*/v1.0/users/$locid" <<<"$H" && pass || fail "a user created with a password (answered after the hash) has its Location: $H"
bobid=$(curl -sS -H "Authorization: Bearer $RG_KEY" "$RG_URL/v1.0/users?\$filter=userPrincipalName%20eq%20'bob@contoso.com'" | jq -r '.value[0].id')
api PATCH "/v1.0/users/$bobid" '{"jobTitle":"rotated","passwordProfile":{"password":"a brand new one"}}'
expect_status 204 "PATCH with a new password (hashed on the pool)"
api GET "/v1.0/users/$bobid"
expect_eq "$(jq -r '.jobTitle + " " + (has("passwordHash") | tostring)' <<<"$BODY")" "rotated false" \
  "the PATCH's other properties applied, no hash served"
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' --interface 127.0.0.4 -H 'Content-Type: application/json' \
  --data-binary '{"tenant":"default","userPrincipalName":"bob@contoso.com","password":"a brand new one"}' "$RG_URL/device/v1/activate")
expect_eq "$STATUS" 201 "bob signs in with the password set by PATCH"

rg_stop

# shutdown with password checks queued and running: each suspended sign-in gets an answer, the daemon exits 0
rg_start --workers 1 --signin-address-limit 1000/1 --signin-account-limit 1000/1
for i in 1 2 3 4 5 6; do
  curl -sS -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
    --data-binary '{"tenant":"default","userPrincipalName":"bob@contoso.com","password":"wrong"}' \
    "$RG_URL/device/v1/activate" >"$RG_TMP/shut.$i" 2>/dev/null &
done
sleep 0.3
rg_stop
wait
for i in 1 2 3 4 5 6; do
  st=$(cat "$RG_TMP/shut.$i")
  case "$st" in 401 | 503) pass ;; *) fail "sign-in $i during shutdown: expected 401 or 503, got '$st'" ;; esac
done
echo "sign-ins answered during shutdown: $(cat "$RG_TMP"/shut.* | sort | uniq -c | tr '\n' ' ')"
finish
