# cvmattest top-level Makefile: thin wrapper around CMake + CTest.
# `make demo` and `make check` install any missing Debian packages first (as root).

MAKEFLAGS  += --no-print-directory
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 10
FUZZ_LONG_SECONDS ?= 120

DEB_PACKAGES := build-essential cmake pkg-config clang clang-format libclang-rt-14-dev libssl-dev nettle-dev libgmp-dev \
                libcurl4-openssl-dev libjansson-dev libcmocka-dev python3 jq openssl ca-certificates \
                libtss2-dev swtpm swtpm-tools tpm2-tools \
                libmicrohttpd-dev golang-go golang-golang-x-mod-dev
DEB_PACKAGES += ovmf
DEB_PACKAGES += osslsigncode
DEB_PACKAGES += libmicrohttpd-dev libhiredis-dev redis-server curl
DEB_PACKAGES += chromium chromium-driver
DEB_PACKAGES += nginx wrk python3-cryptography
DEB_PACKAGES += python3-jwt python3-openssl python3-prometheus-client

.PHONY: all deps build check test test-asan test-tsan install demo fuzz bench clean format contract

all: build

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "deps: installing$$missing"; \
	    if [ "$$(id -u)" != 0 ]; then echo "deps: need root to install:$$missing" >&2; exit 1; fi; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "deps: all Debian packages present"; fi

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

$(BUILD_ASAN)/CMakeCache.txt:
	CC=clang cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DCVMA_FUZZ=ON \
	    -DCVMA_FUZZ_SECONDS=$(FUZZ_SECONDS)

test-asan: $(BUILD_ASAN)/CMakeCache.txt
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

# test-tsan: the library and tests/threads only, built with ThreadSanitizer (clang); 8 threads
# verify through one verifier, and any data race fails the run.
$(BUILD_TSAN)/CMakeCache.txt:
	CC=clang cmake -S . -B $(BUILD_TSAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCVMA_TSAN=ON

test-tsan: $(BUILD_TSAN)/CMakeCache.txt
	cmake --build $(BUILD_TSAN) -j $(JOBS) --target test_threads
	TSAN_OPTIONS=halt_on_error=1:abort_on_error=1:second_deadlock_stack=1 CVMA_THREADS_ROUNDS=2 \
	    $(BUILD_TSAN)/test_threads

# install: the binary, libcvmattest.so and .a, the headers, cvmattest.pc, the man page and the
# bash completion under PREFIX (default /usr/local): make install PREFIX=$$HOME/.local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# fuzz: every libFuzzer target for FUZZ_SECONDS (default longer than in check).
fuzz: deps $(BUILD_ASAN)/CMakeCache.txt
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && FUZZ_SECONDS=$(FUZZ_LONG_SECONDS) ctest --output-on-failure -R '^fuzz\.'

# check: deps, build, the whole suite, the thread test under ThreadSanitizer, then the same
# suite under ASan+UBSan (clang), which also runs every libFuzzer target for FUZZ_SECONDS.
# The last line is ctest's summary.
check: deps
	$(MAKE) test
	$(MAKE) test-tsan
	$(MAKE) test-asan

demo: deps build
	$(BUILD)/cvmattest demo

bench: deps build
	$(BUILD)/cvmattest sim snp --out $(BUILD)/bench-snp >/dev/null
	$(BUILD)/cvmattest bench $(BUILD)/bench-snp/report.bin --collateral $(BUILD)/bench-snp \
	    --offline --trust-root $(BUILD)/bench-snp/ark.pem --seconds 3
	$(BUILD)/cvmattest bench $(BUILD)/bench-snp/report.bin --collateral $(BUILD)/bench-snp \
	    --offline --trust-root $(BUILD)/bench-snp/ark.pem --seconds 3 --cold
	openssl speed -seconds 3 ecdsap384 2>/dev/null | tail -n 2
	$(BUILD)/cvmattest sim tdx --out $(BUILD)/bench-tdx >/dev/null
	$(BUILD)/cvmattest bench $(BUILD)/bench-tdx/quote.bin --collateral $(BUILD)/bench-tdx \
	    --offline --trust-root $(BUILD)/bench-tdx/root_ca.pem --seconds 3
	$(BUILD)/cvmattest bench $(BUILD)/bench-tdx/quote.bin --collateral $(BUILD)/bench-tdx \
	    --offline --trust-root $(BUILD)/bench-tdx/root_ca.pem --seconds 3 --cold
	openssl speed -seconds 3 ecdsap256 2>/dev/null | tail -n 1
	$(BUILD)/cvmattest bench registry

# Several `cvmattest serve` instances behind nginx with Redis, driven by wrk (docs/operations.md).
.PHONY: bench-scale
bench-scale: deps build
	CVMATTEST_BIN=$(BUILD)/cvmattest sh bench/scale-out.sh --seconds 10

# The workplace's contract checker, beside the project as the test vectors are; another
# place with CVMATTEST_CONTRACT_CHECK=PATH.
CVMATTEST_CONTRACT_CHECK ?= ../shared/tools/contract-check
contract: build
	@[ -x "$(CVMATTEST_CONTRACT_CHECK)" ] || { echo "contract: no checker at $(CVMATTEST_CONTRACT_CHECK) (set CVMATTEST_CONTRACT_CHECK)"; exit 2; }
	$(CVMATTEST_CONTRACT_CHECK)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN)
