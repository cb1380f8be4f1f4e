#!/bin/sh
# Scale-out benchmarks (issue 13): local-hit cost with and without Redis
# (callgrind), an L2 hit's added latency, upstream calls per 1,000 client
# calls for 3 replicas with and without Redis. Not part of ctest.
#
#   ./tests/bench/run_fleet_bench.sh
#   SKIP_CALLGRIND=1 ./tests/bench/run_fleet_bench.sh --poll-seconds 5
set -eu
cd "$(dirname "$0")/../.."
./deploy/install-deps.sh
./tests/bench/install_pkgs.sh valgrind nghttp2-client redis-server
BUILD=${BGW_BENCH_BUILD:-build-bench}
cmake -S . -B "$BUILD" -DBGW_WERROR=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target bedrockgw fake-bedrock py_proto >/dev/null
exec /usr/bin/python3 tests/bench/fleet_bench.py --build "$BUILD" "$@"
