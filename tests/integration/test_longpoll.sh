#!/usr/bin/env bash
# Suspended requests: an agent waiting on GET /device/v1/wait is answered at
# once when something that concerns it changes, at its timeout otherwise, and
# at shutdown; many idle waiters cost no thread and are all woken.
source "$(dirname "$0")/lib.sh"
rg_start

api POST /v1.0/users '{"userPrincipalName":"a@x.y","passwordProfile":{"password":"correct horse battery"}}'
api POST /device/v1/activate '{"tenant":"default","userPrincipalName":"a@x.y","password":"correct horse battery","device":{"platform":"android"}}' ""
CRED=$(jq -r .credential <<<"$BODY")
DEV=$(jq -r .deviceId <<<"$BODY")
api POST /device/v1/heartbeat '{}' "$CRED"
CV=$(jq -r .configVersion <<<"$BODY")
IV=$(jq -r .indicatorVersion <<<"$BODY")

wait_url="$RG_URL/device/v1/wait?config=$CV&indicators=$IV"
now_ms() { date +%s%3N; }

# nothing happens: answered at the timeout
t0=$(now_ms)
out=$(curl -s -H "Authorization: Bearer $CRED" "$wait_url&timeout=1")
t1=$(now_ms)
expect_eq "$out" '{"changed":false}' "timeout answer"
[ $((t1 - t0)) -ge 900 ] && pass || fail "answered before the timeout ($((t1 - t0)) ms)"

# a stale version: answered at once
out=$(curl -s -H "Authorization: Bearer $CRED" "$RG_URL/device/v1/wait?config=old&indicators=$IV&timeout=30")
expect_eq "$(jq -r '.changed|tostring' <<<"$out") $(jq -r .reason <<<"$out")" "true config" "stale config version"

# a change wakes the waiter at once
curl -s -H "Authorization: Bearer $CRED" "$wait_url&timeout=30" >"$RG_TMP/w1" &
w1=$!
sleep 0.3
t0=$(now_ms)
api POST /api/indicators '{"indicatorValue":"evil.example.com","indicatorType":"DomainName","action":"Block","title":"t","description":""}'
wait $w1
t1=$(now_ms)
expect_eq "$(cat "$RG_TMP/w1")" '{"changed":true,"reason":"indicators"}' "an indicator change wakes the agent"
[ $((t1 - t0)) -lt 1000 ] && pass || fail "woken in $((t1 - t0)) ms"
echo "longpoll: indicator change to waiting agent: $((t1 - t0)) ms"

# the device's own threat level, a tag, a policy change
api POST /device/v1/heartbeat '{}' "$CRED"
CV=$(jq -r .configVersion <<<"$BODY")
IV=$(jq -r .indicatorVersion <<<"$BODY")
wait_url="$RG_URL/device/v1/wait?config=$CV&indicators=$IV"
curl -s -H "Authorization: Bearer $CRED" "$wait_url&timeout=30" >"$RG_TMP/w2" &
w2=$!
sleep 0.3
api POST "/api/machines/$DEV/tags" '{"Value":"vip","Action":"Add"}'
wait $w2
expect_eq "$(cat "$RG_TMP/w2")" '{"changed":true,"reason":"device"}' "a tag wakes the device"
curl -s -H "Authorization: Bearer $CRED" "$wait_url&timeout=30" >"$RG_TMP/w3" &
w3=$!
sleep 0.3
api POST /beta/deviceAppManagement/targetedManagedAppConfigurations '{"displayName":"c","customSettings":[]}'
wait $w3
expect_eq "$(cat "$RG_TMP/w3")" '{"changed":true,"reason":"config"}' "a configuration change wakes the device"

# many devices waiting, then one change wakes them all
N=200
api POST /device/v1/heartbeat '{}' "$CRED"
IV=$(jq -r .indicatorVersion <<<"$BODY")
creds=()
for i in $(seq 1 $N); do
  api POST /riskgate/v1/enrollmentCodes '{"userId":"a@x.y"}'
  code=$(jq -r .code <<<"$BODY")
  api POST /device/v1/activate "{\"tenant\":\"default\",\"enrollmentCode\":\"$code\",\"device\":{\"platform\":\"android\"}}" ""
  creds+=("$(jq -r .credential <<<"$BODY")")
done
pids=()
for i in $(seq 1 $N); do
  curl -s -H "Authorization: Bearer ${creds[$((i - 1))]}" "$RG_URL/device/v1/wait?indicators=$IV&timeout=60" >"$RG_TMP/many.$i" &
  pids+=($!)
done
for i in $(seq 1 100); do
  waiting=$(curl -s "$RG_URL/metrics" | sed -n 's/^riskgate_waiters //p')
  [ "$waiting" = "$N" ] && break
  sleep 0.1
done
expect_eq "$waiting" "$N" "$N idle waiters held"
rss=$(awk '/VmRSS/ {print $2}' /proc/"$RG_PID"/status)
echo "longpoll: riskgated RSS with $N waiters: ${rss} kB"
t0=$(now_ms)
api POST /api/indicators '{"indicatorValue":"evil2.example.com","indicatorType":"DomainName","action":"Block","title":"t","description":""}'
for p in "${pids[@]}"; do wait "$p"; done
t1=$(now_ms)
woken=$(grep -l '"changed":true' "$RG_TMP"/many.* | wc -l)
expect_eq "$woken" "$N" "every waiter woken"
echo "longpoll: woke $N waiters in $((t1 - t0)) ms"
waiting=$(curl -s "$RG_URL/metrics" | sed -n 's/^riskgate_waiters //p')
expect_eq "$waiting" 0 "no waiter left behind"

# one wait per device: a second one answers the first
api POST /device/v1/heartbeat '{}' "$CRED"
wait_url="$RG_URL/device/v1/wait?config=$(jq -r .configVersion <<<"$BODY")&indicators=$(jq -r .indicatorVersion <<<"$BODY")"
curl -s -H "Authorization: Bearer $CRED" "$wait_url&timeout=30" >"$RG_TMP/w5" &
w5=$!
sleep 0.3
curl -s -H "Authorization: Bearer $CRED" "$wait_url&timeout=1" >"$RG_TMP/w6"
wait $w5
expect_eq "$(cat "$RG_TMP/w5")" '{"changed":false}' "a newer wait of the same device releases the older"

# bad input, and another device's credential
api GET "/device/v1/wait?timeout=0" "" "$CRED"
expect_error 400 timeout "timeout out of range"
api GET "/device/v1/wait" "" ""
expect_error 401 "" "a device credential is needed"

# shutdown answers the waiters
api POST /device/v1/heartbeat '{}' "$CRED"
wait_url="$RG_URL/device/v1/wait?config=$(jq -r .configVersion <<<"$BODY")&indicators=$(jq -r .indicatorVersion <<<"$BODY")"
curl -s -H "Authorization: Bearer $CRED" "$wait_url&timeout=60" >"$RG_TMP/w4" &
w4=$!
sleep 0.3
rg_stop
wait $w4 || true
expect_eq "$(cat "$RG_TMP/w4")" '{"changed":false}' "shutdown answers a waiting agent"
finish
