#!/bin/sh
# Installs every Debian 12 package bedrockgw needs to build, run and test.
# Used by the README quick start, .ci/run and the container build.
# Runs apt-get only when something is missing, so a second run is quick.
set -eu

#
#   ./deploy/install-deps.sh                  # everything (build, run, test)
#   BGW_DEPS=build ./deploy/install-deps.sh   # only what building the gateway needs
#                                             # (the container image's build stage)

# Building the gateway and its client library.
BUILD_PKGS="build-essential cmake pkg-config
libgrpc-dev grpc-proto protobuf-c-compiler libprotobuf-c-dev libprotobuf-dev protobuf-compiler
libcurl4-openssl-dev libssl-dev libjansson-dev libevent-dev libnghttp2-dev libhiredis-dev
python3 ca-certificates"

# Running the test suite and the demo: clients, sanitizers, a real Redis, a
# browser, promtool, systemd-analyze, YAML parsing.
TEST_PKGS="python3-grpcio python3-protobuf curl jq openssl clang libclang-rt-14-dev
nghttp2-client redis-server chromium python3-h2 clang-format python3-yaml prometheus systemd"

PKGS="$BUILD_PKGS"
if [ "${BGW_DEPS:-all}" != build ]; then
    PKGS="$PKGS $TEST_PKGS"
    # Node.js and npm for the interop tests (any install of them will do)
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        PKGS="$PKGS nodejs npm"
    fi
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "install-deps: installing:$missing" >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing
fi
