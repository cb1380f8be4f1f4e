#!/bin/sh
# Issue-17 benchmarks: REST hits against an epoll floor, the miss path's
# added latency, memory per idle connection. Not part of ctest.
#   ./tests/bench/run_perf_bench.sh [--rounds N] [--duration S] [--connections N]
set -eu
cd "$(dirname "$0")/../.."
./deploy/install-deps.sh
for p in wrk nghttp2-client python3-h2; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || {
        SUDO=""
        if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "$p"
    }
done
BUILD=${BGW_BENCH_BUILD:-build-bench}
cmake -S . -B "$BUILD" -DBGW_WERROR=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target bedrockgw fake-bedrock epoll_floor py_proto >/dev/null
ulimit -n 8192 2>/dev/null || true
exec /usr/bin/python3 tests/bench/perf_bench.py --build "$BUILD" "$@"
