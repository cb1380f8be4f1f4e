#!/bin/sh
# Issue-17 benchmarks: REST hits against an epoll floor, the miss path's
# added latency, memory per idle connection. Not part of ctest.
#   ./tests/bench/run_perf_bench.sh [--rounds N] [--duration S] [--connections N] [--parts floor,miss,misscg,grpcsys,memory,cachefill]
set -eu
cd "$(dirname "$0")/../.."
./deploy/install-deps.sh
./tests/bench/install_pkgs.sh wrk nghttp2-client python3-h2 valgrind strace
BUILD=${BGW_BENCH_BUILD:-build-bench}
cmake -S . -B "$BUILD" -DBGW_WERROR=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target bedrockgw fake-bedrock epoll_floor py_proto >/dev/null
ulimit -n 8192 2>/dev/null || true
exec /usr/bin/python3 tests/bench/perf_bench.py --build "$BUILD" "$@"
