#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build (fuzz/README.md); `make fuzz` calls it.
#   fuzz/run.sh [BUILD_DIR [TARGET...]]     BUILD_DIR defaults to build-fuzz; no TARGET = all it built
# Each target runs FUZZ_SECONDS (default 60) with -max_total_time, from its seed corpus
# fuzz/corpus/<t>/ (read only) and a working corpus BUILD_DIR/corpus/<t>/ (grows; kept between runs),
# with fuzz/dict/<t>.dict when there is one. A crash, leak, sanitizer report or timeout (FUZZ_TIMEOUT,
# default 10 s per input) leaves its input in BUILD_DIR/crashes/<t>/ and makes the script exit 1.
# The last line of each log (BUILD_DIR/fuzz-logs/<t>.log) gives executions and exec/s.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build-fuzz}
shift || true
seconds=${FUZZ_SECONDS:-60}
timeout=${FUZZ_TIMEOUT:-10}
if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(grep -v '^$' "$build/fuzz-targets.txt"); fi
mkdir -p "$build/fuzz-logs"
failed=()
for t in "${targets[@]}"; do
  bin="$build/fuzz/$t"
  [ -x "$bin" ] || { echo "fuzz: $bin is not built" >&2; failed+=("$t"); continue; }
  mkdir -p "$build/corpus/$t" "$build/crashes/$t"
  args=(-max_total_time="$seconds" -timeout="$timeout" -print_final_stats=1 -artifact_prefix="$build/crashes/$t/")
  [ -f "$here/dict/$t.dict" ] && args+=(-dict="$here/dict/$t.dict")
  echo "fuzz: $t for ${seconds}s" >&2
  if "$bin" "${args[@]}" "$build/corpus/$t" "$here/corpus/$t" >"$build/fuzz-logs/$t.log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/fuzz-logs/$t.log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$build/fuzz-logs/$t.log")
    echo "fuzz: $t ok: ${runs:-?} runs, ${rate:-?} exec/s" >&2
  else
    echo "fuzz: $t FAILED (log $build/fuzz-logs/$t.log; inputs in $build/crashes/$t/):" >&2
    grep -m3 -E "ERROR|SUMMARY|runtime error" "$build/fuzz-logs/$t.log" >&2
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
