#!/bin/sh
# Builds the libFuzzer targets (clang, -DBGW_FUZZ=ON) in ./build-fuzz, runs
# the seed-corpus regression (ctest -R ^fuzz_), then fuzzes each target for
# N seconds (default 30).
#
#   ./tests/fuzz/run.sh [seconds-per-target]
#
# New inputs go to a scratch corpus in build-fuzz/fuzz-corpus/<name>/ (seeded
# from tests/fuzz/corpus/<name>/, which is only read, never written). Crash
# and leak reproducers land in build-fuzz/fuzz-artifacts/. Exits non-zero on
# any crash, leak, sanitizer report or invariant failure.
set -eu
cd "$(dirname "$0")/../.."
./deploy/install-deps.sh
SECS=${1:-30}
case $SECS in '' | *[!0-9]*) echo "usage: $0 [seconds-per-target]" >&2; exit 2 ;; esac
BUILD=${BGW_FUZZ_BUILD_DIR:-build-fuzz}
SRC=$(pwd)
TARGETS="query upstream_response config sigv4_auth time fake_query http1 sts_xml credentials_json ini
page_token grpc_request http_headers x509_names page_codec redis_url sigv4_request"

# -max_len per target: a little above the largest realistic input.
max_len() {
    case $1 in
    config) echo 8192 ;;
    upstream_response) echo 16384 ;;
    sigv4_auth) echo 4096 ;; # beyond the 2048-byte parser storage
    time) echo 128 ;;
    http1) echo 9000 ;; # beyond the default 8 KiB head limit
    sts_xml | credentials_json) echo 20000 ;; # beyond CREDENTIALS_FIELD_MAX (8 KiB)
    ini) echo 8192 ;;
    page_token) echo 2200 ;;  # beyond PAGE_TOKEN_TEXT_MAX
    grpc_request) echo 4096 ;;
    http_headers) echo 4096 ;;
    x509_names) echo 8192 ;;
    *) echo 4096 ;;
    esac
}

CC=${CC:-clang}
export CC
cmake -S . -B "$BUILD" -DBGW_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target fuzzers

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# 1. Regression over the seed corpora (the same entries the normal ctest run
#    of a BGW_FUZZ build has).
(cd "$BUILD" && ctest --output-on-failure -R '^fuzz_')

# 2. Timed fuzzing, one target after another.
status=0
mkdir -p "$BUILD/fuzz-artifacts"
for t in $TARGETS; do
    scratch="$BUILD/fuzz-corpus/$t"
    mkdir -p "$scratch"
    log="$BUILD/fuzz-artifacts/$t.log"
    echo "fuzz: $t for ${SECS}s (log: $log)"
    # The first corpus directory is where libFuzzer writes; the repo's seed
    # directory comes second and is only read.
    if "$BUILD/bin/${t}_fuzz" -max_total_time="$SECS" -max_len="$(max_len "$t")" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$BUILD/fuzz-artifacts/$t-" \
        "$scratch" "$SRC/tests/fuzz/corpus/$t" >"$log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        echo "fuzz: $t ok, ${execs:-?} executions"
    else
        status=1
        echo "fuzz: $t FAILED; last lines of $log:" >&2
        tail -n 40 "$log" >&2
    fi
done
exit $status
