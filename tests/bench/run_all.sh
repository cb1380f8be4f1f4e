#!/bin/sh
# Every benchmark, one after the other (each installs and builds what it
# needs): cache hits vs nginx and a bare gRPC server, the scale-out figures,
# and the floor / miss-path / memory figures. Figures in tests/bench/out/.
set -eu
cd "$(dirname "$0")"
./run_bench.sh "$@"
./run_fleet_bench.sh
./run_perf_bench.sh
