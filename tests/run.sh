#!/bin/sh
# Quick start, second command: install what is needed, build, and run every
# test (unit, the AWS SigV4 suite case by case, the emulator smoke test and
# the integration suite that drives the real gateway against the real
# emulator over sockets).
#
#   ./tests/run.sh              # normal build in ./build
#   BGW_SANITIZE=1 ./tests/run.sh   # ASan+UBSan build in ./build-asan
set -eu
cd "$(dirname "$0")/.."
./deploy/install-deps.sh
# npm packages the tests use, exactly as locked
(cd tests/interop/node && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/deploy && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/web && npm ci --no-audit --no-fund --loglevel=error)
if [ -n "${BGW_SANITIZE:-}" ]; then
    BUILD=${BGW_BUILD_DIR:-build-asan}
    EXTRA="-DBGW_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug"
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:${ASAN_OPTIONS:-}"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    export LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0"
else
    BUILD=${BGW_BUILD_DIR:-build}
    EXTRA="-DCMAKE_BUILD_TYPE=RelWithDebInfo"
fi
# shellcheck disable=SC2086
cmake -S . -B "$BUILD" -DBGW_WERROR=ON $EXTRA
cmake --build "$BUILD" -j"$(nproc)"
cd "$BUILD"
ctest --output-on-failure -j"$(nproc)" --timeout 600
