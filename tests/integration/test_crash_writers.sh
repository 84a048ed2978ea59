#!/usr/bin/env bash
# kill -9 under concurrent writes: six admin writers (crash_writers.py: policy creates, PATCHes and
# deletes, indicator creates and updates) write without pause while riskgated is killed with SIGKILL
# RG_CRASH_KILLS times (default 8) at random moments and restarted on the same database. After the
# last restart every acknowledged (2xx) write must be there as acknowledged, a deleted object gone,
# and PRAGMA integrity_check ok. Prints the number of acknowledged writes checked.
source "$(dirname "$0")/lib.sh"
KILLS=${RG_CRASH_KILLS:-8}
WRITERS=${RG_CRASH_WRITERS:-6}
HERE=$(dirname "$0")

rg_start
echo "$RG_URL" >"$RG_TMP/url.new" && mv "$RG_TMP/url.new" "$RG_TMP/url" # whole, for the writers
mkdir -p "$RG_TMP/wlog"
WPID=
crash_cleanup() {
  touch "$RG_TMP/stop"
  if [ -n "$WPID" ] && kill -0 "$WPID" 2>/dev/null; then kill "$WPID" 2>/dev/null || true; fi
  rg_cleanup
}
trap crash_cleanup EXIT
python3 "$HERE/crash_writers.py" write "$RG_TMP/url" "$RG_KEY" "$RG_TMP/wlog" "$WRITERS" "$RG_TMP/stop" >"$RG_TMP/writers.out" 2>&1 &
WPID=$!

acked_lines() { cat "$RG_TMP"/wlog/*.log 2>/dev/null | grep -cv '^attempt' || true; }
t0=$(date +%s)
for k in $(seq 1 "$KILLS"); do
  # let the writers get going on this run (at least 100 more acknowledged writes), then a random moment
  before=$(acked_lines)
  wait_until 20 bash -c "[ \$(cat $RG_TMP/wlog/*.log 2>/dev/null | grep -cv '^attempt') -ge $((before + 100)) ]" \
    || fail "run $k: the writers got nothing acknowledged in 20 s"
  sleep "0.$((RANDOM % 9 + 1))"
  rg_kill9
  cp "$RG_TMP/daemon.log" "$RG_TMP/daemon.$k.log"
  rg_start
  echo "$RG_URL" >"$RG_TMP/url.new" && mv "$RG_TMP/url.new" "$RG_TMP/url" # whole, for the writers
done
# a last stretch of writes on the final run, then the writers stop and are checked
before=$(acked_lines)
wait_until 20 bash -c "[ \$(cat $RG_TMP/wlog/*.log 2>/dev/null | grep -cv '^attempt') -ge $((before + 100)) ]" \
  || fail "the writers got nothing acknowledged after the last restart"
touch "$RG_TMP/stop"
rc=0
wait "$WPID" || rc=$?
WPID=
expect_eq "$rc" 0 "the writers ran to the end ($(cat "$RG_TMP/writers.out"))"
t1=$(date +%s)

rc=0
out=$(python3 "$HERE/crash_writers.py" verify "$RG_URL" "$RG_KEY" "$RG_TMP/wlog") || rc=$?
echo "$out"
expect_eq "$rc" 0 "every acknowledged write survived $KILLS kill -9"
n=$(sed -n 's/^verify: \([0-9]*\) acknowledged.*/\1/p' <<<"$out")
[ "${n:-0}" -ge $((KILLS * 20)) ] && pass || fail "too few acknowledged writes to mean anything: ${n:-0}"
rg_stop
integrity=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' "$RG_TMP/var/riskgate.db")
expect_eq "$integrity" ok "PRAGMA integrity_check after $KILLS kill -9"
echo "crash-writers: $KILLS kill -9 under $WRITERS writers in $((t1 - t0)) s, $(cat "$RG_TMP/writers.out"), ${n:-0} checked"
finish
