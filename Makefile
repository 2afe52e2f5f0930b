# mycel: developer entry points around meson.
#
#   make            build (installs missing Debian packages first)
#   make test       unit tests, then the same tests under ASan+UBSan, then a summary
#   make demo       run examples/demo.sh against the build
#   make governance run the governance walk-through (examples/governance/walkthrough.sh)
#   make fuzz       build the libFuzzer targets;  make fuzz-run TARGET=name SECONDS=600
#   make bench      run every build/tests/bench/bench-* one after another
#   make format     clang-format -i the sources
#   make clean      remove all build directories

# Debian packages the build, tests and fuzzers need.  OPTIONAL_PACKAGES are installed only
# when the archive has them (libclang-rt gives clang its ASan/UBSan/libFuzzer runtimes;
# serf is the peer bench-gossip measures convergence against).
PACKAGES := build-essential meson ninja-build pkg-config cmake clang \
	libnng-dev libmsgpack-dev liblmdb-dev lmdb-utils libsodium-dev libyaml-dev \
	libpcre2-dev libcmocka-dev python3 python3-jsonschema python3-yaml
OPTIONAL_PACKAGES := libclang-rt-14-dev serf

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := build

export DEBIAN_FRONTEND := noninteractive

BUILD_DIR := build
SAN_DIR := build-san
FUZZ_DIR := build-fuzz
MESON_TEST := meson test --print-errorlogs --num-processes 2

# Sanitizer runtime options.  meson 1.0.1 sets no *SAN_OPTIONS of its own and passes the
# environment through to tests (a test()'s own env: in meson.build would still override);
# newer meson only fills these in when they are unset, so exporting them here always wins.
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Compiler for the sanitizer and fuzz builds, picked when the recipe runs (after deps).
PICK_CC := cc=$$(command -v clang || command -v gcc)

TARGET ?=
SECONDS ?= 60

# $(call ensure_pkgs,required,optional): install whichever of the packages are missing.
define ensure_pkgs
@missing=""; optional=""; \
	for p in $(1); do \
		dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	for p in $(2); do \
		dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'ok installed' || optional="$$optional $$p"; \
	done; \
	if [ -z "$$missing$$optional" ]; then exit 0; fi; \
	sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
	echo "deps: missing:$$missing$$optional"; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q || exit 1; \
	for p in $$optional; do \
		if apt-cache show "$$p" >/dev/null 2>&1; then missing="$$missing $$p"; \
		else echo "deps: $$p is not available here, skipping it"; fi; \
	done; \
	[ -z "$$missing" ] || $$sudo env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends $$missing
endef

.PHONY: all deps build test check-sanitize fuzz fuzz-run demo governance bench clean format

all: build

deps:
	$(call ensure_pkgs,$(PACKAGES),$(OPTIONAL_PACKAGES))

build: deps
	@[ -f $(BUILD_DIR)/build.ninja ] || meson setup $(BUILD_DIR) --buildtype=debugoptimized
	meson compile -C $(BUILD_DIR)

# Both suites always run; the summary reads their testlog.json files.  Old logs are removed
# first so that a suite which could not run shows up as missing rather than as stale results.
test: build
	@rm -f $(BUILD_DIR)/meson-logs/testlog.json $(SAN_DIR)/meson-logs/testlog.json; \
	rc=0; \
	echo "== tests ($(BUILD_DIR))"; \
	$(MESON_TEST) -C $(BUILD_DIR) || rc=1; \
	sed -n 's/^total: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$$/JSON Schema Test Suite, draft 2019-09, the keywords mycel implements: \1 cases pass, \2 fail, \3 skipped by name (see the schema test log)/p' \
		$(BUILD_DIR)/meson-logs/testlog.txt 2>/dev/null | head -1; \
	grep -h '^corpus lint:' $(BUILD_DIR)/meson-logs/testlog.txt 2>/dev/null | head -1; \
	echo "== tests under ASan+UBSan ($(SAN_DIR))"; \
	$(MAKE) --no-print-directory check-sanitize || rc=1; \
	echo "== summary"; \
	python3 tests/summarize.py $(BUILD_DIR) $(SAN_DIR) || rc=1; \
	exit $$rc

check-sanitize: deps
	@if [ ! -f $(SAN_DIR)/build.ninja ]; then \
		$(PICK_CC); echo "check-sanitize: configuring $(SAN_DIR) with $$cc"; \
		CC="$$cc" meson setup $(SAN_DIR) --buildtype=debug \
			-Db_sanitize=address,undefined -Db_lundef=false || exit 1; \
	fi
	meson compile -C $(SAN_DIR)
	$(SAN_ENV) $(MESON_TEST) -C $(SAN_DIR)

fuzz: deps
	@if [ ! -f $(FUZZ_DIR)/build.ninja ]; then \
		cc=$$(command -v clang) || { echo "fuzz: libFuzzer needs clang" >&2; exit 1; }; \
		CC="$$cc" meson setup $(FUZZ_DIR) --buildtype=debugoptimized -Dfuzzing=true \
			-Db_sanitize=address,undefined -Db_lundef=false || exit 1; \
	fi
	meson compile -C $(FUZZ_DIR)

# New inputs go to a fresh temporary directory; the checked-in corpus is only read.
# Crash/leak/timeout artifacts land in the current directory (ignored by git).
fuzz-run: fuzz
	@[ -n "$(TARGET)" ] || { echo "usage: make fuzz-run TARGET=name [SECONDS=60]" >&2; exit 2; }
	@bin=$(FUZZ_DIR)/tests/fuzz/fuzz-$(TARGET)-libfuzzer; \
	[ -x "$$bin" ] || { echo "fuzz-run: no fuzz target $$bin" >&2; exit 2; }; \
	[ -d tests/fuzz/corpus/$(TARGET) ] || { echo "fuzz-run: no corpus tests/fuzz/corpus/$(TARGET)" >&2; exit 2; }; \
	new=$$(mktemp -d "$${TMPDIR:-/tmp}/mycel-fuzz-$(TARGET).XXXXXX") || exit 1; \
	echo "fuzz-run: new inputs go to $$new"; \
	$(SAN_ENV) "$$bin" -max_total_time=$(SECONDS) -print_final_stats=1 "$$new" tests/fuzz/corpus/$(TARGET); \
	rc=$$?; echo "fuzz-run: new inputs are in $$new"; exit $$rc

demo: build
	bash examples/demo.sh $(BUILD_DIR)

governance: build
	MYCEL=$(BUILD_DIR)/node/mycel bash examples/governance/walkthrough.sh

bench: build
	@rc=0; found=0; \
	for b in $(BUILD_DIR)/tests/bench/bench-*; do \
		[ -f "$$b" ] && [ -x "$$b" ] || continue; \
		found=1; echo "== $$b"; "$$b" || { echo "bench: $$b failed" >&2; rc=1; }; \
	done; \
	[ $$found -eq 1 ] || echo "bench: no benchmarks built in $(BUILD_DIR)/tests/bench"; \
	exit $$rc

clean:
	rm -rf $(BUILD_DIR) $(SAN_DIR) $(FUZZ_DIR)

FORMAT_FILES := $(wildcard src/*.c src/*.h include/mycel/*.h node/*.c tests/*.c tests/*/*.c)

format:
	$(call ensure_pkgs,clang-format,)
	$(if $(FORMAT_FILES),clang-format -i $(FORMAT_FILES),@echo "format: no source files")
