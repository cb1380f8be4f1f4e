#!/bin/sh
# Cache-hit benchmarks (issue 4): REST vs nginx proxy_cache, gRPC vs a bare
# gRPC-core server, CPU per request, callgrind instructions per request,
# latency at a fixed rate. Not part of ctest. Writes its figures to stdout
# and tests/bench/out/results.json; tests/bench/RESULTS.md records a run.
#
#   ./tests/bench/run_bench.sh                # everything, 5 interleaved rounds
#   ROUNDS=7 DURATION=8 ./tests/bench/run_bench.sh
#   SKIP_CALLGRIND=1 ./tests/bench/run_bench.sh
#   QUICK=1 ./tests/bench/run_bench.sh           # throughput only, 3 rounds x 3 s
#   CALLGRIND_ONLY=1 ./tests/bench/run_bench.sh  # instructions per REST and gRPC hit
#   BGW_BENCH_BUILD=build-prof ...               # another build dir (e.g. with -g)
set -eu
cd "$(dirname "$0")/../.."
./deploy/install-deps.sh
PKGS="wrk nginx-light nghttp2-client valgrind linux-perf"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing || \
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends wrk nginx nghttp2-client valgrind
fi
BUILD=${BGW_BENCH_BUILD:-build-bench}
cmake -S . -B "$BUILD" -DBGW_WERROR=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target bedrockgw fake-bedrock grpc_baseline py_proto >/dev/null
exec /usr/bin/python3 tests/bench/bench.py --build "$BUILD" "$@"
