# Thin wrapper over CMake so a newcomer only types `make run` or `make test`.
#   make        install missing Debian packages, build everything (./build)
#   make run    the same, then start riskgated on the embedded default (SQLite under ./var/)
#   make test   the same, then every test, then again built with ASan+UBSan (./build-asan), then the
#               whole tree built with clang -Werror (./build-clang: fails on any clang warning), then the
#               tests labelled tsan (the parts that start threads) built with ThreadSanitizer (./build-tsan),
#               then each libFuzzer target for FUZZ_SMOKE_SECONDS (default 3; ./build-fuzz)
#   make bench  build optimized (./build-bench), run every benchmark, print the table and write
#               bench/results/latest.json (bench/README.md; BENCH_QUICK=1 for a quick run)
#   make fuzz   install clang if missing, build the libFuzzer targets (./build-fuzz), run each for
#               FUZZ_SECONDS (default 60), printing each one's executions and coverage (edges); fails if any
#               crashes (inputs in build-fuzz/crashes/; fuzz/README.md)
#   make clean  remove the build trees (./var is kept: it holds your data and admin key)
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
CLANG_BUILD ?= build-clang
TSAN_BUILD ?= build-tsan
TSAN_CC    ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 3
FUZZ_TARGETS ?=
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?=

.PHONY: all deps build run test test-fast test-asan test-clang test-tsan test-fuzz-smoke fuzz-build bench fuzz clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

run: build
	@scripts/run.sh $(BUILD)/riskgated

test-fast: build
	cd $(BUILD) && ctest --output-on-failure --timeout 300 $(CTEST_ARGS)

test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DRG_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure --timeout 600 $(CTEST_ARGS)

# Every target of the tree (server, agent, SDK, tests, benchmarks) compiled by clang with the warning flags of
# CMakeLists.txt, -Werror included: a clang warning fails the build, so make test fails.
test-clang: deps
	@cmake -S . -B $(CLANG_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(CLANG_BUILD) -j$(JOBS)

# ThreadSanitizer (clang by default; TSAN_CC=gcc works too) over the tests labelled tsan in tests/CMakeLists.txt.
test-tsan: deps
	@cmake -S . -B $(TSAN_BUILD) -DCMAKE_C_COMPILER=$(TSAN_CC) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRG_TSAN=ON >/dev/null
	@cmake --build $(TSAN_BUILD) -j$(JOBS)
	cd $(TSAN_BUILD) && ctest --output-on-failure --timeout 600 -L tsan $(CTEST_ARGS)

# A few seconds of fuzzing per target (the long runs are make fuzz): fails on any crash, leak or sanitizer report.
test-fuzz-smoke: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) fuzz/run.sh $(FUZZ_BUILD)

test: test-fast test-asan test-clang test-tsan test-fuzz-smoke

bench: deps
	@bash bench/run.sh

fuzz-build: deps
	@scripts/install-fuzz-deps.sh
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRG_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) --target fuzz -j$(JOBS)

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(CLANG_BUILD) $(TSAN_BUILD)
