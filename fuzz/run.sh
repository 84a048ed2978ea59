#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build (fuzz/README.md); `make fuzz` calls it.
#   fuzz/run.sh [BUILD_DIR [TARGET...]]     BUILD_DIR defaults to build-fuzz; no TARGET = all it built
# Each target runs FUZZ_SECONDS (default 60) with -max_total_time, from its seed corpus
# fuzz/corpus/<t>/ (read only) and a working corpus BUILD_DIR/corpus/<t>/ (grows; kept between runs),
# with fuzz/dict/<t>.dict when there is one. A crash, leak, sanitizer report or timeout (FUZZ_TIMEOUT,
# default 10 s per input) leaves its input in BUILD_DIR/crashes/<t>/ and makes the script exit 1.
# Each target's line gives its executions and exec/s (the log's stat:: lines, BUILD_DIR/fuzz-logs/<t>.log)
# and its coverage: cov, the edges of instrumented code reached, and ft, libFuzzer's features (edges
# with hit counts), from the last status line (DONE, or the last pulse before a crash). Uninstrumented
# libraries (ldns, jansson, OpenSSL) are not counted.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build-fuzz}
shift || true
seconds=${FUZZ_SECONDS:-60}
timeout=${FUZZ_TIMEOUT:-10}
if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(grep -v '^$' "$build/fuzz-targets.txt"); fi
mkdir -p "$build/fuzz-logs"
failed=()
table=()
for t in "${targets[@]}"; do
  bin="$build/fuzz/$t"
  [ -x "$bin" ] || { echo "fuzz: $bin is not built" >&2; failed+=("$t"); continue; }
  mkdir -p "$build/corpus/$t" "$build/crashes/$t"
  args=(-max_total_time="$seconds" -timeout="$timeout" -print_final_stats=1 -artifact_prefix="$build/crashes/$t/")
  [ -f "$here/dict/$t.dict" ] && args+=(-dict="$here/dict/$t.dict")
  echo "fuzz: $t for ${seconds}s" >&2
  ok=1
  "$bin" "${args[@]}" "$build/corpus/$t" "$here/corpus/$t" >"$build/fuzz-logs/$t.log" 2>&1 || ok=
  log="$build/fuzz-logs/$t.log"
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  # "#132317 DONE   cov: 32 ft: 38 corp: 15/508b ..."
  status=$(grep -E '^#[0-9]+[[:space:]].* cov: [0-9]+ ft: [0-9]+' "$log" | tail -n1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$status")
  [ -n "$runs" ] || runs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$status")
  table+=("$(printf '%-20s %12s %9s %7s %7s %s' "$t" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$([ -n "$ok" ] && echo ok || echo FAILED)")")
  summary="${runs:-?} runs, ${rate:-?} exec/s, cov ${cov:-?} edges, ft ${ft:-?}, corpus ${corp:-?}"
  if [ -n "$ok" ]; then
    echo "fuzz: $t ok: $summary" >&2
  else
    echo "fuzz: $t FAILED after $summary (log $log; inputs in $build/crashes/$t/):" >&2
    grep -m3 -E "ERROR|SUMMARY|runtime error" "$build/fuzz-logs/$t.log" >&2
    failed+=("$t")
  fi
done
# the figures of every target together, for a closing note
printf '%-20s %12s %9s %7s %7s %s\n' target executions exec/s cov ft result >&2
printf '%s\n' "${table[@]}" >&2
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
