#!/usr/bin/env bash
# server_bench.sh: benchmarks 1-3 of `make bench` (bench/README.md) against one riskgated.
#
#   BUILD=build-bench SCALE=1 bash bench/server_bench.sh      (bench/run.sh calls it so)
#
# SCALE 1: 100,000 users x 10 apps = 1,000,000 registrations, 10,000 devices,
# 10,000 live waits; SCALE 0.1 (BENCH_QUICK=1) a tenth of each.
# Steps, every one bounded by `timeout`:
#   1. riskgated on an empty database (start-up time and RSS: the references of 3);
#      through the admin API: 10 groups, one Android protection policy (maximum threat
#      level "low", action block) targeting com.bench.app0..9, assigned to the groups,
#      the built-in connector on for Android. Stopped.
#   2. build-bench/gen_data fills the database (bench/gen_data.c).
#   3. riskgated started again on it: start-up time; a sanity check that sample
#      registrations get the decision their device's level implies (exit 1 if not).
#   4. Decision throughput (1): wrk on 64 keep-alive connections, one thread,
#      POST /app/v1/checkin rotating 10,000 tokens; then /healthz the same way; then
#      nginx (one worker, loopback) answering `return 200` with a body of exactly
#      a check-in answer's size. riskgated and nginx pinned to CPU 0, wrk to CPU 1.
#   5. Memory per registration (3): riskgated's RSS after the load over the database's
#      registrations (reference: the database file per registration).
#   6. Signal propagation (2) and memory per idle connection (3): build-bench/live_clients.
# Rows (one JSON object per line) on stdout; progress on stderr. Loopback only.
set -euo pipefail
BUILD=${BUILD:-build-bench}
SCALE=${SCALE:-1}
DUR=${WRK_SECONDS:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "$BUILD" && pwd)
read -r USERS DEVICES DETECTIONS < <(awk -v s="$SCALE" 'BEGIN { printf "%d %d %d\n", 100000 * s, 10000 * s, (s >= 1 ? 200 : 50) }')
APPS=10
TMP=$(mktemp -d /var/tmp/rg-bench.XXXXXX) # on disk, not tmpfs: check-ins write (synchronous=FULL)
SRV_PID= NGX_PID=
log() { echo "server_bench: $*" >&2; }
die() { log "$*"; exit 1; }
cleanup() {
  local p
  for p in "$NGX_PID" "$SRV_PID"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
now_us() { local t=$EPOCHREALTIME; echo $((${t%.*} * 1000000 + 10#${t#*.})); }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# row GROUP NAME VALUE UNIT REFERENCE REF_VALUE GOAL MET(true|false|null)
row() {
  jq -cn --arg g "$1" --arg n "$2" --argjson v "$3" --arg u "$4" --arg r "$5" --argjson rv "$6" --arg goal "$7" \
    --argjson met "$8" \
    '{group:$g, name:$n, value:$v, unit:$u, reference:$r, ref_value:$rv,
      ratio:(if $rv == 0 then null else (($v / $rv) * 10000 | round / 10000) end), goal:$goal, met:$met}'
}
yes_if() { awk "BEGIN { exit !($1) }" && echo true || echo false; }

ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((DEVICES + 200)) ] || die "ulimit -n $(ulimit -n) is too low for $((DEVICES)) waits"

# start_server DB: starts riskgated pinned to CPU 0, sets SRV_PID, URL and START_MS (exec to /healthz 200)
start_server() {
  : >"$TMP/daemon.log"
  local t0 t1
  t0=$(now_us)
  taskset -c 0 "$BIN/riskgated" --listen 127.0.0.1:0 --db "sqlite:$1" --admin-key-file "$TMP/admin.key" \
    --signing-key-file "$TMP/signing.key" >>"$TMP/daemon.log" 2>&1 &
  SRV_PID=$!
  URL=
  for _ in $(seq 60000); do
    [ -z "$URL" ] && URL=$(sed -n 's/^riskgated: listening on //p' "$TMP/daemon.log" | head -n1)
    if [ -n "$URL" ] && curl -fsS -o /dev/null "$URL/healthz" 2>/dev/null; then break; fi
    kill -0 "$SRV_PID" 2>/dev/null || die "riskgated exited: $(tail -5 "$TMP/daemon.log")"
    sleep 0.005
  done
  t1=$(now_us)
  [ -n "$URL" ] || die "riskgated did not start"
  START_MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
}
stop_server() {
  kill -TERM "$SRV_PID" 2>/dev/null || true
  wait "$SRV_PID" 2>/dev/null || true
  SRV_PID=
}
# api METHOD PATH [BODY]: admin call; sets STATUS and BODY
api() {
  local args=(-sS -o "$TMP/resp" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $(cat "$TMP/admin.key")")
  [ -n "${3-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  STATUS=$(curl "${args[@]}" "$URL$2")
  BODY=$(cat "$TMP/resp")
}

# ---- 1. empty database: references, and the admin-made documents ----
DB=$TMP/riskgate.db
start_server "$DB"
EMPTY_START_MS=$START_MS
EMPTY_RSS_KB=$(rss_kb "$SRV_PID")
log "empty database: up in $EMPTY_START_MS ms, RSS $EMPTY_RSS_KB kB"
DAM=/beta/deviceAppManagement
assign='{"assignments":['
for g in $(seq 0 9); do
  api POST /v1.0/groups "{\"displayName\":\"bench-$g\"}"
  [ "$STATUS" = 201 ] || die "group: $STATUS $BODY"
  [ "$g" = 0 ] || assign+=','
  assign+="{\"target\":{\"@odata.type\":\"#microsoft.graph.groupAssignmentTarget\",\"groupId\":\"$(jq -r .id <<<"$BODY")\"}}"
done
assign+=']}'
api POST "$DAM/androidManagedAppProtections" '{"displayName":"bench: no threat above low","maximumAllowedDeviceThreatLevel":"low","mobileThreatDefenseRemediationAction":"block"}'
[ "$STATUS" = 201 ] || die "policy: $STATUS $BODY"
pol=$(jq -r .id <<<"$BODY")
apps='{"apps":['
for a in $(seq 0 $((APPS - 1))); do
  [ "$a" = 0 ] || apps+=','
  apps+="{\"mobileAppIdentifier\":{\"@odata.type\":\"#microsoft.graph.androidMobileAppIdentifier\",\"packageId\":\"com.bench.app$a\"}}"
done
apps+=']}'
api POST "$DAM/androidManagedAppProtections/$pol/targetApps" "$apps"
[ "${STATUS:0:1}" = 2 ] || die "targetApps: $STATUS $BODY"
api POST "$DAM/androidManagedAppProtections/$pol/assign" "$assign"
[ "$STATUS" = 204 ] || die "assign: $STATUS $BODY"
api PATCH /beta/deviceManagement/mobileThreatDefenseConnectors/fc780465-2017-40d4-a0c5-307022471b92 '{"androidMobileApplicationManagementEnabled":true}'
[ "$STATUS" = 200 ] || die "connector: $STATUS $BODY"
stop_server

# ---- 2. the data ----
t0=$(now_us)
timeout 600 "$BIN/gen_data" "$DB" "$TMP" "$USERS" "$APPS" "$DEVICES" || die "gen_data failed"
log "gen_data: $(awk -v a="$t0" -v b="$(now_us)" 'BEGIN { printf "%.1f", (b - a) / 1e6 }') s, database $(du -sh "$DB" | cut -f1)"
DB_BYTES=$(stat -c %s "$DB")
REGS=$((USERS * APPS))

# ---- 3. riskgated on the data; sanity check ----
sync
start_server "$DB"
RSS_START_KB=$(rss_kb "$SRV_PID")
log "$REGS registrations: up in $START_MS ms, RSS $RSS_START_KB kB"
row "3 Scale in memory and time" "start-up with the data of (1)" "$(awk -v v="$START_MS" 'BEGIN { print v / 1000 }')" s \
  "start-up on an empty database" "$(awk -v v="$EMPTY_START_MS" 'BEGIN { print v / 1000 }')" "value < 5 s" \
  "$(yes_if "$START_MS < 5000")"
bad=0 n=0
while IFS=$'\t' read -r tok want reason; do
  got=$(curl -sS -X POST -H "Authorization: Bearer $tok" "$URL/app/v1/checkin" | jq -r '"\(.decision.action) \(.decision.reasonCode)"')
  n=$((n + 1))
  [ "$got" = "$want $reason" ] || { bad=$((bad + 1)); log "sanity: expected '$want $reason', got '$got'"; }
done <"$TMP/expect.tsv"
[ "$bad" = 0 ] || die "sanity check: $bad of $n sample check-ins got the wrong decision"
log "sanity check: $n sample check-ins got the expected decisions"
# the tenant's snapshot (policies, 100,000 users' groups) is built by now: the growth after this
# point is what each further registration costs once it has checked in
RSS_SNAP_KB=$(rss_kb "$SRV_PID")
NSANE=$n

# ---- 4. decision throughput ----
# drain: waits (at most 60 s) until the requests a previous run left in the server are done,
# i.e. until /healthz answers within 20 ms, so one run's backlog is not measured in the next
drain() {
  local t
  for _ in $(seq 600); do
    t=$(curl -sS -o /dev/null -w '%{time_total}' "$URL/healthz" 2>/dev/null || echo 1)
    awk -v t="$t" 'BEGIN { exit !(t < 0.02) }' && return 0
    sleep 0.1
  done
  log "the server is still busy after 60 s"
}
# wrk_run NAME URL [extra env]: runs wrk pinned to CPU 1, prints its JSON line
wrk_run() {
  local name=$1 url=$2
  shift 2
  drain
  env "$@" timeout $((DUR + 30)) taskset -c 1 wrk -t1 -c64 -d"${DUR}s" --timeout 10s -s "$ROOT/bench/wrk_report.lua" "$url" \
    >"$TMP/wrk-$name.out" 2>&1 || die "wrk $name failed: $(cat "$TMP/wrk-$name.out")"
  grep '^{' "$TMP/wrk-$name.out" | tail -1
}
CK=(WRK_PATH=/app/v1/checkin WRK_METHOD=POST WRK_TOKENS="$TMP/checkin_tokens.txt")
DUR_SAVE=$DUR; DUR=2; wrk_run warm "$URL/app/v1/checkin" "${CK[@]}" >/dev/null; DUR=$DUR_SAVE
ck=$(wrk_run checkin "$URL/app/v1/checkin" "${CK[@]}")
log "check-in: $ck"
RSS_CK_KB=$(rss_kb "$SRV_PID") # every token of the sample has checked in by now
hz=$(wrk_run healthz "$URL/healthz" WRK_PATH=/healthz)
log "healthz: $hz"
[ "$(jq .non2xx <<<"$ck")" = 0 ] || die "check-ins answered non-2xx: $ck"
[ "$(jq .non2xx <<<"$hz")" = 0 ] || die "/healthz answered non-2xx: $hz"
[ "$(jq .requests <<<"$ck")" -gt 0 ] || die "no check-in completed: $ck"

# nginx: one worker, a body of exactly the size of a check-in answer (same headers count roughly: JSON content type)
SAMPLE=$(head -1 "$TMP/checkin_tokens.txt")
curl -sS -X POST -H "Authorization: Bearer $SAMPLE" "$URL/app/v1/checkin" >"$TMP/answer.json"
SIZE=$(stat -c %s "$TMP/answer.json")
BODYTXT=$(tr -d "\\\\'\$\n" <"$TMP/answer.json")
while [ "${#BODYTXT}" -lt "$SIZE" ]; do BODYTXT+=" "; done # the characters nginx would need escaped, replaced by blanks
mkdir -p "$TMP/nginx"
NPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$NPORT;
    location / { default_type application/json; return 200 '$BODYTXT'; }
  }
}
EOF
taskset -c 0 nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" >"$TMP/nginx/stderr" 2>&1 &
NGX_PID=$!
for _ in $(seq 200); do curl -fsS -o /dev/null "http://127.0.0.1:$NPORT/" 2>/dev/null && break; sleep 0.02; done
got=$(curl -fsS "http://127.0.0.1:$NPORT/" | wc -c) || die "nginx did not start: $(cat "$TMP/nginx/stderr" "$TMP/nginx/error.log" 2>/dev/null)"
[ "$got" = "$SIZE" ] || die "nginx body is $got bytes, the check-in answer $SIZE"
ng=$(wrk_run nginx "http://127.0.0.1:$NPORT/" WRK_PATH=/)
log "nginx ($SIZE-byte body): $ng"
[ "$(jq .non2xx <<<"$ng")" = 0 ] || die "nginx answered non-2xx: $ng"
kill -TERM "$NGX_PID" 2>/dev/null || true
wait "$NGX_PID" 2>/dev/null || true
NGX_PID=

G1="1 Decision throughput"
ck_rps=$(jq .rps <<<"$ck") hz_rps=$(jq .rps <<<"$hz") ng_rps=$(jq .rps <<<"$ng")
row "$G1" "check-in requests per second" "$ck_rps" req/s "/healthz, same connections" "$hz_rps" "ratio >= 0.7" \
  "$(yes_if "$ck_rps / $hz_rps >= 0.7")"
row "$G1" "check-in requests per second vs nginx" "$ck_rps" req/s "nginx return 200, same body size, 1 worker" "$ng_rps" \
  "ratio >= 0.5" "$(yes_if "$ck_rps / $ng_rps >= 0.5")"
ms() { jq "$1 / 1000" <<<"$2"; }
row "$G1" "check-in median latency" "$(ms .p50_us "$ck")" ms "/healthz median, same connections" "$(ms .p50_us "$hz")" \
  "lower is better (no goal)" null
row "$G1" "check-in p99 latency" "$(ms .p99_us "$ck")" ms "/healthz p99, same connections" "$(ms .p99_us "$hz")" \
  "lower is better (no goal)" null
row "$G1" "check-in p99 latency vs nginx" "$(ms .p99_us "$ck")" ms "nginx p99" "$(ms .p99_us "$ng")" \
  "lower is better (no goal)" null

# ---- 5. memory per registration ----
# two views: over every registration in the database (what a lazy cache costs now), and per
# registration that has checked in (what each costs once in memory: the worst case, every app active)
RSS_DATA_KB=$(rss_kb "$SRV_PID")
NTOK=$(wc -l <"$TMP/checkin_tokens.txt")
per_reg=$(awk -v a="$RSS_DATA_KB" -v b="$EMPTY_RSS_KB" -v n="$REGS" 'BEGIN { d = (a - b) * 1024 / n; printf "%.1f", d < 0 ? 0 : d }')
per_active=$(awk -v a="$RSS_CK_KB" -v b="$RSS_START_KB" -v n="$NTOK" 'BEGIN { d = (a - b) * 1024 / n; printf "%.1f", d < 0 ? 0 : d }')
DB_PER=$(awk -v a="$DB_BYTES" -v n="$REGS" 'BEGIN { printf "%.1f", a / n }')
row "3 Scale in memory and time" "riskgated RSS per registration in the database" "$per_reg" B \
  "database file per registration" "$DB_PER" "value < 1024 B" "$(yes_if "$per_reg < 1024")"
per_marginal=$(awk -v a="$RSS_CK_KB" -v b="$RSS_SNAP_KB" -v n="$((NTOK - NSANE))" 'BEGIN { d = n > 0 ? (a - b) * 1024 / n : 0; printf "%.1f", d < 0 ? 0 : d }')
row "3 Scale in memory and time" "riskgated RSS per registration that checked in, after the tenant snapshot" "$per_marginal" B \
  "database file per registration" "$DB_PER" "value < 1024 B" "$(yes_if "$per_marginal < 1024")"
row "3 Scale in memory and time" "riskgated RSS growth over $NTOK check-ins / $NTOK (incl. the tenant snapshot, built once)" "$per_active" B \
  "database file per registration" "$DB_PER" "lower is better (no goal)" null
log "RSS: empty database $EMPTY_RSS_KB kB; with the data at start $RSS_START_KB kB; tenant snapshot built $RSS_SNAP_KB kB; after $NTOK registrations checked in $RSS_CK_KB kB; after all runs $RSS_DATA_KB kB"

# ---- 6. live waits: signal propagation and memory per idle connection ----
# first every live registration checks in once (not measured), so what riskgated keeps per
# registration is already there and the RSS growth below is the connections' own
cut -f1 "$TMP/live.tsv" >"$TMP/live_tokens.txt"
DUR_SAVE=$DUR; DUR=3; wrk_run pretouch "$URL/app/v1/checkin" WRK_PATH=/app/v1/checkin WRK_METHOD=POST \
  WRK_TOKENS="$TMP/live_tokens.txt" >/dev/null; DUR=$DUR_SAVE
drain
ulimit -n "$(ulimit -Hn)"
timeout 400 taskset -c 1 "$BIN/live_clients" "$URL" "$TMP/live.tsv" "$TMP/devices.tsv" "$DEVICES" "$DETECTIONS" "$SRV_PID" \
  || die "live_clients failed"
stop_server
