#!/usr/bin/env bash
# odata_bench.sh: benchmark 8 of `make bench` (bench/README.md): OData over
# large collections, from the indexes (issue 10).
#
#   BUILD=build-bench SCALE=1 bash bench/odata_bench.sh   (bench/run.sh calls it so)
#
# bench/gen_odata.c writes 1,000,000 x SCALE domain indicators and 100,000 x
# SCALE users into tenant "default", and 1,000 of each into tenant
# "odata-ref", the reference. riskgated (CPU 0) then answers, on one kept-alive
# connection from CPU 1, 30 times each (after 3 warm-ups):
#   GET /api/indicators?$filter=startswith(indicatorValue,'ka')&$orderby=indicatorValue&$top=100
#   GET /v1.0/users?$filter=startswith(displayName,'k')&$orderby=displayName&$top=100
# in the large tenant, and the same $orderby and $top without $filter in the
# reference one (a page of 100 of 1,000, the same bytes to send). Rows: the median
# first-page time against the reference's (goal: under 50 ms), and how much riskgated's peak
# memory (VmHWM) grew over the large queries after the reference ones (goal:
# under 4 MiB, i.e. independent of the collection's size: one page is read,
# plus SQLite's bounded page cache).
set -euo pipefail
BUILD=${BUILD:-build-bench}
SCALE=${SCALE:-1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "$BUILD" && pwd)
TMP=$(mktemp -d /tmp/rg-odata.XXXXXX)
SRV_PID=
log() { echo "odata_bench: $*" >&2; }
die() { log "$*"; exit 1; }
cleanup() {
  if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then kill -TERM "$SRV_PID"; wait "$SRV_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
row() {
  jq -cn --arg g "8 OData over large collections" --arg n "$1" --argjson v "$2" --arg u "$3" --arg r "$4" \
    --argjson rv "$5" --arg goal "$6" --argjson met "$7" \
    '{group:$g, name:$n, value:$v, unit:$u, reference:$r, ref_value:$rv,
      ratio:(if $rv == 0 then null else (($v / $rv) * 10000 | round / 10000) end), goal:$goal, met:$met}'
}
yes_if() { awk "BEGIN { exit !($1) }" && echo true || echo false; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$SRV_PID/status"; }

start() {
  : >"$TMP/daemon.log"
  taskset -c 0 "$BIN/riskgated" --listen 127.0.0.1:0 --db "sqlite:$TMP/riskgate.db" --admin-key-file "$TMP/admin.key" \
    --signing-key-file "$TMP/signing.key" >>"$TMP/daemon.log" 2>&1 &
  SRV_PID=$!
  URL=
  for _ in $(seq 1200); do
    URL=$(sed -n 's/^riskgated: listening on //p' "$TMP/daemon.log" | head -n1)
    [ -n "$URL" ] && curl -fsS -o /dev/null "$URL/healthz" 2>/dev/null && return 0
    kill -0 "$SRV_PID" 2>/dev/null || die "riskgated exited: $(tail -3 "$TMP/daemon.log")"
    sleep 0.025
  done
  die "riskgated did not start"
}
stop() {
  kill -TERM "$SRV_PID" 2>/dev/null || true
  wait "$SRV_PID" 2>/dev/null || true
  SRV_PID=
}

NIND=$(awk -v s="$SCALE" 'BEGIN { printf "%d", 1000000 * s }')
NUSERS=$(awk -v s="$SCALE" 'BEGIN { printf "%d", 100000 * s }')
start # creates the database and tenant "default"
stop
t0=$SECONDS
"$BIN/gen_odata" "$TMP/riskgate.db" "$TMP" "$NIND" "$NUSERS" 1000 || die "gen_odata failed"
log "data: $NIND indicators, $NUSERS users in $((SECONDS - t0)) s, database $(du -sh "$TMP/riskgate.db" | cut -f1)"
sync
start

# time KEYFILE PATH: median and p90 of 30 first pages (ms), after 3 warm-ups; checks the page is full
time_q() {
  taskset -c 1 python3 - "$URL" "$(cat "$1")" "$2" <<'PY'
import http.client, json, statistics, sys, time, urllib.parse
url, key, path = sys.argv[1:4]
u = urllib.parse.urlsplit(url)
c = http.client.HTTPConnection(u.hostname, u.port)
h = {"Authorization": "Bearer " + key}
ts = []
for i in range(33):
    t = time.perf_counter()
    c.request("GET", path, headers=h)
    r = c.getresponse()
    body = r.read()
    dt = (time.perf_counter() - t) * 1000
    if r.status != 200:
        sys.exit(f"HTTP {r.status}: {body[:300]!r}")
    if i >= 3:
        ts.append(dt)
n = len(json.loads(body)["value"])
ts.sort()
print(f"{statistics.median(ts):.3f} {ts[int(len(ts) * 0.9)]:.3f} {n}")
PY
}
IQ="/api/indicators?\$filter=startswith(indicatorValue,'ka')&\$orderby=indicatorValue&\$top=100"
UQ="/v1.0/users?\$filter=startswith(displayName,'k')&\$orderby=displayName&\$top=100"
# the reference: a first page of 100 of the same order, from 1,000
IR="/api/indicators?\$orderby=indicatorValue&\$top=100"
UR="/v1.0/users?\$orderby=displayName&\$top=100"
base=$(hwm_kb)
read -r iref_med iref_p90 iref_n < <(time_q "$TMP/ref.key" "$IR") || die "indicator query (reference) failed"
read -r uref_med uref_p90 uref_n < <(time_q "$TMP/ref.key" "$UR") || die "user query (reference) failed"
ref_hwm=$(hwm_kb)
read -r ibig_med ibig_p90 ibig_n < <(time_q "$TMP/admin.key" "$IQ") || die "indicator query failed"
read -r ubig_med ubig_p90 ubig_n < <(time_q "$TMP/admin.key" "$UQ") || die "user query failed"
big_hwm=$(hwm_kb)
log "indicators: median $ibig_med ms, p90 $ibig_p90 ms ($ibig_n rows); reference $iref_med ms ($iref_n rows)"
log "users: median $ubig_med ms, p90 $ubig_p90 ms ($ubig_n rows); reference $uref_med ms ($uref_n rows)"
log "VmHWM: $base kB after start, $ref_hwm kB after the reference queries, $big_hwm kB after the large ones"
[ "$ibig_n" = 100 ] && [ "$ubig_n" = 100 ] && [ "$iref_n" = 100 ] && [ "$uref_n" = 100 ] || die "a first page was not full ($ibig_n, $ubig_n rows)"
row "indicators: startswith + \$orderby, first page of 100, $NIND indicators" "$ibig_med" ms \
  "\$orderby alone, first page of 100 of 1,000 indicators" "$iref_med" "value < 50 ms" "$(yes_if "$ibig_med < 50")"
row "users: startswith + \$orderby, first page of 100, $NUSERS users" "$ubig_med" ms \
  "\$orderby alone, first page of 100 of 1,000 users" "$uref_med" "value < 50 ms" "$(yes_if "$ubig_med < 50")"
grow=$((big_hwm - ref_hwm))
row "peak memory growth over the large queries" "$grow" kB "growth over the reference queries" \
  "$((ref_hwm - base))" "value < 4096 kB" "$(yes_if "$grow < 4096")"
stop
