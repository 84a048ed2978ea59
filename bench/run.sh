#!/usr/bin/env bash
# run.sh: `make bench` (bench/README.md). Builds an optimized tree, installs the
# bench's Debian packages if missing, runs every benchmark with a time bound,
# prints one table and writes bench/results/latest.json.
#
#   bash bench/run.sh                 the full run (about 10 minutes on 2 cores)
#   BENCH_QUICK=1 bash bench/run.sh   a tenth of the data, shorter runs (about 2 minutes)
#   BENCH_BUILD=dir                   the build tree (default build-bench)
#   BENCH_OUT=file                    where the JSON goes (default bench/results/latest.json;
#                                     quick runs: build-bench/bench-quick.json, so latest.json
#                                     always holds a full run)
# A benchmark that fails or runs out of time leaves its rows printed so far and a
# "not run" row with the reason; the run goes on with the next one.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BENCH_BUILD:-build-bench}
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
  SCALE=0.1 WRK_SECONDS=3 ARM_SECONDS=60 DETECT_SECONDS=30 POLICY_SECONDS=1 DNS_NAMES=100000 DNS_MAX=150 FLOOD_SECONDS=5
  OUT=${BENCH_OUT:-$BUILD/bench-quick.json}
else
  SCALE=1 WRK_SECONDS=10 ARM_SECONDS=120 DETECT_SECONDS=90 POLICY_SECONDS=3 DNS_NAMES=1000000 DNS_MAX=330 FLOOD_SECONDS=20
  OUT=${BENCH_OUT:-bench/results/latest.json}
fi
export SCALE WRK_SECONDS ARM_SECONDS DETECT_SECONDS BUILD
T0=$SECONDS
WORK=$(mktemp -d /tmp/rg-bench-run.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
ROWS=$WORK/rows.jsonl
: >"$ROWS"
say() { echo "bench: $*" >&2; }

# not_run GROUP NAME REASON: a row saying a benchmark did not (fully) run
not_run() {
  python3 -c 'import json, sys; print(json.dumps({"group": sys.argv[1], "name": sys.argv[2], "value": None, "unit": "",
    "reference": "", "ref_value": None, "ratio": None, "goal": "", "met": None, "status": "not run",
    "reason": sys.argv[3]}))' "$1" "$2" "$3" >>"$ROWS"
}

# step GROUP NAME SECONDS CMD...: runs CMD under timeout, keeps its rows; on failure a "not run" row
step() {
  local group=$1 name=$2 secs=$3 t=$SECONDS rc
  shift 3
  say "== $group: $name (at most $secs s)"
  timeout --kill-after=10 "$secs" "$@" >"$WORK/out" 2> >(tee "$WORK/err" >&2)
  rc=$?
  wait # the tee
  grep '^{' "$WORK/out" >>"$ROWS"
  if [ "$rc" != 0 ]; then
    local why
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
      why="timed out after $secs s"
    else
      why="exit $rc: $(grep -v '^[[:space:]]*$' "$WORK/err" | tail -1 | cut -c1-200)"
    fi
    not_run "$group" "$name" "$why"
    say "$name: not run to the end ($why)"
  fi
  say "$name: $((SECONDS - t)) s"
}

# ---- build and dependencies ----
if ! scripts/install-bench-deps.sh; then
  say "the bench's Debian packages are missing (see above)"
  exit 1
fi
say "building an optimized tree in $BUILD (RelWithDebInfo: -O2 -g, no sanitizers)"
if ! timeout 900 cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRG_SANITIZE=OFF >/dev/null ||
   ! timeout 900 cmake --build "$BUILD" -j"$(nproc)" --target riskgated riskgate-agent intel_bench gen_data \
       live_clients policy_bench gen_odata >"$WORK/build.log" 2>&1; then
  tail -30 "$WORK/build.log" >&2
  say "the build failed"
  exit 1
fi
BUILD_S=$((SECONDS - T0))
say "built in $BUILD_S s"

# ---- the benchmarks ----
# 4 and 6 first: they need nothing but a core, and do not wait on the long server run
step "4 Indicator matching" "intel_bench" 240 taskset -c 1 "$BUILD/intel_bench" --rows "$SCALE"
step "6 Policy evaluation" "policy_bench" 60 taskset -c 1 "$BUILD/policy_bench" "$POLICY_SECONDS"
step "1 Decision throughput" "server_bench (benchmarks 1, 2, 3)" $([ "$QUICK" = 1 ] && echo 300 || echo 540) \
  bash bench/server_bench.sh
# each of 1-3 must have produced rows; if server_bench stopped early, say which are missing
for g in "1 Decision throughput" "2 Signal propagation" "3 Scale in memory and time"; do
  grep -q "\"group\": *\"${g%% *} " "$ROWS" || not_run "$g" "all figures" "server_bench.sh stopped before this benchmark (see above)"
done
# dns_filter.sh's SCALE is the number of blocked names (its own contract), not the factor above
if [ -f bench/dns_filter.sh ]; then
  step "5 DNS filter" "dns_filter.sh" "$DNS_MAX" env SCALE="$DNS_NAMES" BUILD="$BUILD" bash bench/dns_filter.sh
  grep -q '"group": *"5 ' "$ROWS" || not_run "5 DNS filter" "dns_filter.sh" "it printed no row"
else
  not_run "5 DNS filter" "dns_filter.sh" "bench/dns_filter.sh is missing"
fi

step "7 Sign-in flood" "flood_bench.sh" $((FLOOD_SECONDS * 2 + 60)) env BUILD="$BUILD" FLOOD_SECONDS="$FLOOD_SECONDS" \
  bash bench/flood_bench.sh
grep -q '"group": *"7 ' "$ROWS" || not_run "7 Sign-in flood" "flood_bench.sh" "it printed no row"

step "8 OData over large collections" "odata_bench.sh" $([ "$QUICK" = 1 ] && echo 120 || echo 400) \
  env BUILD="$BUILD" SCALE="$SCALE" bash bench/odata_bench.sh
grep -q '"group": *"8 ' "$ROWS" || not_run "8 OData over large collections" "odata_bench.sh" "it printed no row"

# ---- the table ----
TOTAL=$((SECONDS - T0))
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && commit+="+changes"
python3 - "$WORK/machine.json" "$SCALE" "$TOTAL" "$BUILD_S" "$commit" <<'EOF'
import json, os, platform, subprocess, sys, time
out, scale, total, build_s, commit = sys.argv[1:6]
cpu = "unknown"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
ram = "unknown"
for line in open("/proc/meminfo"):
    if line.startswith("MemTotal:"):
        ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
osname = platform.system()
try:
    for line in open("/etc/os-release"):
        if line.startswith("PRETTY_NAME="):
            osname = line.split("=", 1)[1].strip().strip('"')
except OSError:
    pass
json.dump({"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "commit": commit, "nproc": os.cpu_count(),
           "cpu": cpu, "ram": ram, "os": osname, "kernel": platform.release(), "scale": float(scale),
           "quick": float(scale) < 1, "total_seconds": int(total), "build_seconds": int(build_s)}, open(out, "w"))
EOF
mkdir -p "$(dirname "$OUT")"
python3 bench/report.py "$ROWS" "$WORK/machine.json" "$OUT"
