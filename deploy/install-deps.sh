#!/bin/sh
# Installs every Debian 12 package bedrockgw needs to build, run and test.
# Used by the README quick start, .ci/run and the container build.
# Runs apt-get only when something is missing, so a second run is quick.
set -eu

PKGS="build-essential cmake pkg-config
libgrpc-dev protobuf-c-compiler libprotobuf-c-dev libprotobuf-dev protobuf-compiler
libcurl4-openssl-dev libssl-dev libjansson-dev libevent-dev
python3 python3-grpcio python3-protobuf curl jq openssl ca-certificates clang libclang-rt-14-dev
libnghttp2-dev nghttp2-client libhiredis-dev redis-server chromium python3-h2 clang-format"

# Node.js and npm for the interop tests (any install of them will do)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    PKGS="$PKGS nodejs npm"
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
