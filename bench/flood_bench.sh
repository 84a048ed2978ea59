#!/usr/bin/env bash
# flood_bench.sh: benchmark 7 of `make bench` (bench/README.md): does a sign-in
# flood stall the event loop?
#
#   BUILD=build-bench FLOOD_SECONDS=20 bash bench/flood_bench.sh   (bench/run.sh calls it so)
#
# riskgated (pinned to CPU 0, default --workers) on an empty database with one
# user; bench/flood.py (CPU 1) measures /healthz alone, then during 8 clients
# posting wrong passwords to POST /device/v1/activate for FLOOD_SECONDS:
#   a. with the default sign-in limits (most of the flood answers 429);
#   b. with the limits lifted (every request runs scrypt on the worker pool):
#      what the pool alone does for the loop.
# Goal (issue 11): /healthz p99 during the flood < 5 ms. Before the pool, 8
# clients for 20 s gave 744 ms median / 812 ms p99. Rows on stdout.
set -euo pipefail
BUILD=${BUILD:-build-bench}
SECS=${FLOOD_SECONDS:-20}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "$BUILD" && pwd)
TMP=$(mktemp -d /tmp/rg-flood.XXXXXX)
SRV_PID=
log() { echo "flood_bench: $*" >&2; }
die() { log "$*"; exit 1; }
cleanup() {
  if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then kill -TERM "$SRV_PID"; wait "$SRV_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
row() {
  jq -cn --arg g "$1" --arg n "$2" --argjson v "$3" --arg u "$4" --arg r "$5" --argjson rv "$6" --arg goal "$7" \
    --argjson met "$8" \
    '{group:$g, name:$n, value:$v, unit:$u, reference:$r, ref_value:$rv,
      ratio:(if $rv == 0 then null else (($v / $rv) * 10000 | round / 10000) end), goal:$goal, met:$met}'
}
yes_if() { awk "BEGIN { exit !($1) }" && echo true || echo false; }

# run LABEL [riskgated flags...]: one server, one flood; prints rows
run() {
  local label=$1
  shift
  : >"$TMP/daemon.log"
  rm -f "$TMP/riskgate.db"*
  taskset -c 0 "$BIN/riskgated" --listen 127.0.0.1:0 --db "sqlite:$TMP/riskgate.db" --admin-key-file "$TMP/admin.key" \
    --signing-key-file "$TMP/signing.key" "$@" >>"$TMP/daemon.log" 2>&1 &
  SRV_PID=$!
  local url=
  for _ in $(seq 400); do
    url=$(sed -n 's/^riskgated: listening on //p' "$TMP/daemon.log" | head -n1)
    [ -n "$url" ] && break
    kill -0 "$SRV_PID" 2>/dev/null || die "riskgated exited: $(tail -3 "$TMP/daemon.log")"
    sleep 0.025
  done
  [ -n "$url" ] || die "riskgated did not start"
  local st
  st=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$TMP/admin.key")" -H 'Content-Type: application/json' \
    --data-binary '{"userPrincipalName":"alice@contoso.com","accountEnabled":true,"passwordProfile":{"password":"correct horse battery"}}' \
    "$url/v1.0/users")
  [ "$st" = 201 ] || die "user: HTTP $st"
  log "$label: flooding for $SECS s"
  local out
  out=$(taskset -c 1 python3 "$ROOT/bench/flood.py" "$url" --seconds "$SECS" --baseline 5 --clients 8 \
    --user alice@contoso.com --password "correct horse battery" --flood-user mallory@contoso.com)
  log "$label: $out"
  kill -TERM "$SRV_PID"
  wait "$SRV_PID" || die "riskgated exited with an error after SIGTERM"
  SRV_PID=
  local bp99 bmed fp99 fmed honest
  bmed=$(jq .baseline.median_ms <<<"$out"); bp99=$(jq .baseline.p99_ms <<<"$out")
  fmed=$(jq .flood.median_ms <<<"$out"); fp99=$(jq .flood.p99_ms <<<"$out")
  honest=$(jq -r .honest.status <<<"$out")
  [ "$honest" = 201 ] || log "$label: the honest sign-in from 127.0.0.2 got $honest"
  row "7 Sign-in flood" "/healthz p99 during the flood ($label)" "$fp99" ms "/healthz p99 without flood" "$bp99" \
    "value < 5 ms" "$(yes_if "$fp99 < 5")"
  row "7 Sign-in flood" "/healthz median during the flood ($label)" "$fmed" ms "/healthz median without flood" "$bmed" \
    "lower is better (no goal)" null
}

run "default limits"
run "limits lifted: scrypt on every request" --signin-address-limit 1000000/1 --signin-account-limit 1000000/1
