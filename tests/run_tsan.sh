#!/bin/sh
# The client SDK is multi-threaded by contract: its unit test and its
# several-threads-on-one-client integration test under ThreadSanitizer
# (build in ./build-tsan). Debian's gRPC core and Abseil are not built with
# TSan; tests/tsan.supp keeps reports wholly inside them out.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BGW_TSAN_BUILD_DIR:-build-tsan}
cmake -S . -B "$BUILD" -DBGW_TSAN=ON -DBGW_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target bgw-client-threads client_sdk_test bedrockgw fake-bedrock py_proto
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(pwd)/tests/tsan.supp"
"$BUILD/bin/client_sdk_test"
cd tests/integration
BGW_BIN_DIR="../../$BUILD/bin" BGW_PY_GEN="../../$BUILD/gen/py" PYTHONDONTWRITEBYTECODE=1 \
    /usr/bin/python3 -m unittest -v test_client_sdk.ClientSdkThreads
echo "tsan: client SDK thread tests clean"
