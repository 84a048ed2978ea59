# Thin wrapper over CMake so a newcomer only types `make run` or `make test`.
#   make        install missing Debian packages, build everything (./build)
#   make run    the same, then start riskgated on the embedded default (SQLite under ./var/)
#   make test   the same, then every test, then again built with ASan+UBSan (./build-asan)
#   make bench  build optimized (./build-bench), run every benchmark, print the table and write
#               bench/results/latest.json (bench/README.md; BENCH_QUICK=1 for a quick run)
#   make clean  remove the build trees (./var is kept: it holds your data and admin key)
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?=

.PHONY: all deps build run test test-fast test-asan bench clean

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

test: test-fast test-asan

bench: deps
	@bash bench/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
