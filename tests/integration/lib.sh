# lib.sh: helpers for the integration tests (sourced). Each test starts the real
# riskgated from $RG_BIN_DIR on 127.0.0.1 with an ephemeral port and a temporary
# SQLite file, talks to it with curl, and stops it on exit.
set -euo pipefail

: "${RG_BIN_DIR:?RG_BIN_DIR must point at the build folder}"
RG_TMP=$(mktemp -d /tmp/riskgate-it.XXXXXX)
RG_PID=
RG_URL=
RG_KEY=
FAILS=0
PASSES=0
SKIPS=0
# ctest's skip code (SKIP_RETURN_CODE in tests/CMakeLists.txt): only for an optional outside thing.
RG_SKIP=77

rg_cleanup() {
  if [ -n "$RG_PID" ] && kill -0 "$RG_PID" 2>/dev/null; then kill -9 "$RG_PID" 2>/dev/null || true; fi
  rm -rf "$RG_TMP"
}
trap rg_cleanup EXIT

# free_port: a port free for both UDP and TCP on 127.0.0.1 (for riskgate-agent's DNS filter)
free_port() {
  python3 - <<'PY'
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        u.close(); t.close()
PY
}

# rg_start [extra flags...]: starts the daemon on the test's database; sets RG_URL, RG_PID, RG_KEY.
rg_start() {
  : >"$RG_TMP/daemon.log"
  "$RG_BIN_DIR/riskgated" --listen 127.0.0.1:0 --db "sqlite:$RG_TMP/var/riskgate.db" \
    --admin-key-file "$RG_TMP/var/admin.key" --signing-key-file "$RG_TMP/var/signing.key" "$@" >>"$RG_TMP/daemon.log" 2>&1 &
  RG_PID=$!
  local i
  for i in $(seq 1 100); do
    if grep -q '^riskgated: listening on ' "$RG_TMP/daemon.log"; then break; fi
    if ! kill -0 "$RG_PID" 2>/dev/null; then cat "$RG_TMP/daemon.log" >&2; echo "FAIL: riskgated exited at start" >&2; exit 1; fi
    sleep 0.05
  done
  RG_URL=$(sed -n 's/^riskgated: listening on //p' "$RG_TMP/daemon.log" | head -n1)
  [ -n "$RG_URL" ] || { cat "$RG_TMP/daemon.log" >&2; echo "FAIL: riskgated did not start" >&2; exit 1; }
  RG_KEY=$(cat "$RG_TMP/var/admin.key")
}

# rg_stop: SIGTERM and wait; fails the test if the exit status is not 0 (sanitizer reports count).
rg_stop() {
  kill -TERM "$RG_PID"
  local rc=0
  wait "$RG_PID" || rc=$?
  RG_PID=
  if [ "$rc" -ne 0 ]; then cat "$RG_TMP/daemon.log" >&2; fail "riskgated exited with status $rc after SIGTERM"; fi
}

# rg_kill9: kill -9, no cleanup at all.
rg_kill9() {
  kill -9 "$RG_PID"
  wait "$RG_PID" 2>/dev/null || true
  RG_PID=
}

# api METHOD PATH [BODY|@file] [KEY]: sets STATUS and BODY (response).
api() {
  local method=$1 path=$2 data=${3-} key=${4-$RG_KEY}
  local args=(-sS -o "$RG_TMP/resp" -w '%{http_code}' -X "$method")
  [ -n "$key" ] && args+=(-H "Authorization: Bearer $key")
  if [ -n "$data" ]; then args+=(-H 'Content-Type: application/json' --data-binary "$data"); fi
  STATUS=$(curl "${args[@]}" "$RG_URL$path")
  BODY=$(cat "$RG_TMP/resp")
}

pass() { PASSES=$((PASSES + 1)); }
fail() { FAILS=$((FAILS + 1)); echo "FAIL: $*" >&2; }

# expect_status CODE what: checks STATUS.
expect_status() {
  if [ "$STATUS" = "$1" ]; then pass; else fail "$2: expected HTTP $1, got $STATUS: $BODY"; fi
}

# expect_error CODE PROPERTY what: status and a Graph error body whose message names PROPERTY.
expect_error() {
  local code=$1 prop=$2 what=$3
  if [ "$STATUS" != "$code" ]; then fail "$what: expected HTTP $code, got $STATUS: $BODY"; return; fi
  if ! jq -e '.error.code and .error.message' >/dev/null 2>&1 <<<"$BODY"; then fail "$what: not a Graph error body: $BODY"; return; fi
  if [ -n "$prop" ] && ! jq -e --arg p "$prop" '.error.message | contains($p)' >/dev/null <<<"$BODY"; then
    fail "$what: message does not name '$prop': $BODY"; return
  fi
  pass
}

# expect_eq ACTUAL EXPECTED what
expect_eq() {
  if [ "$1" = "$2" ]; then pass; else fail "$3: expected '$2', got '$1'"; fi
}

# finish: prints the closing line; exits 1 on any failure, else $RG_SKIP (77, ctest shows the test as
# skipped) when a part was skipped for want of an optional outside thing, else 0.
finish() {
  echo "$(basename "$0"): $PASSES passed, $FAILS failed, $SKIPS skipped"
  if [ "$FAILS" -ne 0 ]; then return 1; fi
  if [ "$SKIPS" -ne 0 ]; then return "$RG_SKIP"; fi
  return 0
}

# skip_part [--installed] WHAT: part of the test cannot run for want of an outside thing (a tool,
# root). The rest runs; finish then exits 77 unless something failed. With --installed the thing is
# one scripts/install-deps.sh installs, so the CI machine has it: under CI=true it is a failure.
# Never for our own daemon, agent, CLI or endpoints: their absence is a failure.
skip_part() {
  local installed=
  if [ "${1:-}" = --installed ]; then installed=1; shift; fi
  if [ -n "$installed" ] && [ "${CI:-}" = true ]; then
    fail "$* (CI=true: scripts/install-deps.sh installs it, so it may not be skipped)"
    return
  fi
  SKIPS=$((SKIPS + 1))
  echo "SKIPPED: $*"
}

# need_tool CMD PACKAGE: the test cannot run at all without CMD, which scripts/install-deps.sh
# installs: exits 77 (skipped), or 1 under CI=true.
need_tool() {
  command -v "$1" >/dev/null && return 0
  if [ "${CI:-}" = true ]; then
    echo "FAIL: $1 not installed (Debian $2; scripts/install-deps.sh installs it; CI=true forbids skipping)" >&2
    exit 1
  fi
  echo "SKIPPED: $1 not installed (Debian $2; scripts/install-deps.sh installs it)" >&2
  exit "$RG_SKIP"
}

# require_endpoint METHOD PATH: fails the test and stops it when riskgated has no such route (404
# without credentials): a missing endpoint is a router regression, never a reason to skip.
require_endpoint() {
  api "$1" "$2" "" ""
  if [ "$STATUS" = 404 ]; then
    fail "$1 $2 answers 404: the endpoint is missing"
    finish || true
    exit 1
  fi
}

# fixtures_dir: the framework policies in the repository (tests/fixtures/intune-app-protection);
# a missing folder fails the test (the data is part of the repository, never optional).
fixtures_dir() {
  local d=${RG_FIXTURES:-${RG_SOURCE_DIR:-$(dirname "${BASH_SOURCE[0]}")/../..}/tests/fixtures}/intune-app-protection
  if ! ls "$d"/*.json >/dev/null 2>&1; then
    echo "FAIL: fixtures not found ($d): they live in tests/fixtures" >&2
    exit 1
  fi
  echo "$d"
}

# wait_until SECONDS CMD...: polls CMD every 0.1 s; returns 1 if it never succeeded in time.
wait_until() {
  local limit=$(($1 * 10)) i
  shift
  for ((i = 0; i < limit; i++)); do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  return 1
}

# ag ARGS...: runs riskgate-agent on the state folder $ST with no stdin; sets RC and AOUT (its stdout;
# stderr in $RG_TMP/a.err). Tests that want stderr in AOUT define their own.
ag() {
  RC=0
  "$AGENT" --state-dir "$ST" "$@" >"$RG_TMP/a.out" 2>"$RG_TMP/a.err" </dev/null || RC=$?
  AOUT=$(cat "$RG_TMP/a.out")
}

# ---- device keys and proofs (docs/app-api.md "Device proof"), as riskgate-agent makes them ----
# devkey_new FILE: a new Ed25519 device key in FILE (PEM); prints its public key, base64 of the 32 raw bytes.
devkey_new() {
  openssl genpkey -algorithm ed25519 -out "$1" 2>/dev/null || return 1
  openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | base64 -w0
}
# devkey_sign FILE DEVICE_ID NONCE: the base64 signature of the device proof's text.
devkey_sign() {
  printf 'riskgate-device-proof:v1\n%s\n%s' "$2" "$3" >"$RG_TMP/proof.txt"
  openssl pkeyutl -sign -rawin -inkey "$1" -in "$RG_TMP/proof.txt" | base64 -w0
}
# device_proof FILE DEVICE_ID: {"nonce","signature"} over a fresh nonce of the server (GET /app/v1/deviceNonce).
device_proof() {
  local n
  n=$(curl -s "$RG_URL/app/v1/deviceNonce" | jq -r .nonce)
  printf '{"nonce":"%s","signature":"%s"}' "$n" "$(devkey_sign "$1" "$2" "$n")"
}
