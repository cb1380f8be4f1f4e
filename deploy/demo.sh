#!/bin/sh
# Quick start: install what is needed, build, and run the gateway against the
# bundled Bedrock emulator (when no AWS account is configured) with two demo
# tenants. Prints working curl and gRPC examples; Ctrl-C stops everything.
#
#   ./deploy/demo.sh            # emulator (default when AWS_ACCESS_KEY_ID is unset)
#   BGW_DEMO_REAL_AWS=1 ./deploy/demo.sh   # use your AWS credentials and region instead
#   ./deploy/demo.sh --replicas 2          # N replicas sharing a local redis-server
#                                          # (REST on 8080, 8081, ...; gRPC on 50051, 50052, ...)
set -eu
REPLICAS=1
while [ $# -gt 0 ]; do
    case "$1" in
    --replicas) REPLICAS=${2:-}; shift 2 ;;
    --replicas=*) REPLICAS=${1#--replicas=}; shift ;;
    *) echo "usage: $0 [--replicas N]" >&2; exit 2 ;;
    esac
done
case "$REPLICAS" in
[1-9]) ;;
*) echo "demo: --replicas takes 1 to 9" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${BGW_BUILD_DIR:-$ROOT/build}
HTTP_PORT=${BGW_DEMO_HTTP_PORT:-8080}
GRPC_PORT=${BGW_DEMO_GRPC_PORT:-50051}
FAKE_PORT=${BGW_DEMO_FAKE_PORT:-4599}
REDIS_PORT=${BGW_DEMO_REDIS_PORT:-6399}

./deploy/install-deps.sh
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" >/dev/null

# The AWS SDK example's pinned packages (quietly; the demo runs without them)
if command -v npm >/dev/null 2>&1 && [ ! -d deploy/examples/aws-sdk/node_modules ]; then
    (cd deploy/examples/aws-sdk && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1) || true
fi

RUN=$(mktemp -d /tmp/bedrockgw-demo.XXXXXX)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# wait_ready PID PATTERN LOG: until LOG has PATTERN; fail fast if PID died.
wait_ready() {
    i=0
    until grep -q "$2" "$3" 2>/dev/null; do
        if ! kill -0 "$1" 2>/dev/null || [ $i -ge 150 ]; then
            echo "demo: failed to start; its log:" >&2
            cat "$3" >&2
            exit 1
        fi
        i=$((i + 1))
        sleep 0.1
    done
}

sed -e "s/127.0.0.1:50051/127.0.0.1:$GRPC_PORT/" -e "s/127.0.0.1:8080/127.0.0.1:$HTTP_PORT/" \
    -e "s#http://127.0.0.1:4599#http://127.0.0.1:$FAKE_PORT#" deploy/config/demo.json > "$RUN/gateway.json"

if [ -z "${BGW_DEMO_REAL_AWS:-}" ]; then
    echo "demo: no AWS account configured: starting the bundled Bedrock emulator on 127.0.0.1:$FAKE_PORT"
    "$BUILD/bin/fake-bedrock" --listen "127.0.0.1:$FAKE_PORT" --region us-east-1 \
        --access-key AKIDDEMO0000000000 --secret-key demo-secret-not-a-real-key \
        --generate 60 --seed 42 > "$RUN/fake.log" 2>&1 &
    fake=$!
    pids="$pids $fake"
    wait_ready "$fake" '"ready"' "$RUN/fake.log"
    export AWS_ACCESS_KEY_ID=AKIDDEMO0000000000 AWS_SECRET_ACCESS_KEY=demo-secret-not-a-real-key
    export AWS_ENDPOINT_URL_BEDROCK="http://127.0.0.1:$FAKE_PORT"
    export AWS_REGION=us-east-1
    unset AWS_SESSION_TOKEN || true
else
    # Real Bedrock: the config's emulator endpoint is dropped for the default.
    sed -i -e '/"endpoint"/s#"endpoint": "[^"]*", ##' "$RUN/gateway.json"
fi

if [ "$REPLICAS" -gt 1 ]; then
    echo "demo: starting redis-server on 127.0.0.1:$REDIS_PORT (no persistence) for $REPLICAS replicas"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$RUN" > "$RUN/redis.log" 2>&1 &
    redis=$!
    pids="$pids $redis"
    wait_ready "$redis" 'Ready to accept connections' "$RUN/redis.log"
    head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$RUN/token-secret"
fi
n=0
while [ $n -lt "$REPLICAS" ]; do
    cfg="$RUN/gateway.json"
    if [ "$REPLICAS" -gt 1 ]; then
        cfg="$RUN/gateway-$n.json"
        # Each replica: its own ports; the same Redis and page-token secret.
        python3 - "$RUN/gateway.json" "$cfg" "$n" "$HTTP_PORT" "$GRPC_PORT" "$REDIS_PORT" "$RUN" <<'PY'
import json, sys
src, dst, i, http, grpc, redis, run = sys.argv[1:]
c = json.load(open(src))
c["http"]["listen"] = "127.0.0.1:%d" % (int(http) + int(i))
c["grpc"]["listen"] = "127.0.0.1:%d" % (int(grpc) + int(i))
c["tokens"] = {"secret_file": run + "/token-secret"}
c["redis"] = {"url": "redis://127.0.0.1:%s" % redis}
json.dump(c, open(dst, "w"), indent=2)
PY
    fi
    "$BUILD/bin/bedrockgw" --config "$cfg" 2> "$RUN/gateway-$n.log" &
    gw=$!
    pids="$pids $gw"
    wait_ready "$gw" '"event":"ready"' "$RUN/gateway-$n.log"
    n=$((n + 1))
done
[ "$REPLICAS" -gt 1 ] || mv "$RUN/gateway-0.log" "$RUN/gateway.log"

cat <<MSG

bedrockgw is up: REST on http://127.0.0.1:$HTTP_PORT, gRPC on 127.0.0.1:$GRPC_PORT
Demo tenants (deploy/config/demo.json): team-a (key demo-key-team-a) sees jobs named
team-a-* and shared-*; team-b (key demo-key-team-b) sees team-b-* jobs that are
Completed or InProgress, with importedModelArn redacted. Both are rate limited.
Logs: $RUN/gateway.log (access log, JSON lines)

Try (REST):
  curl -s -H 'x-api-key: demo-key-team-a' 'http://127.0.0.1:$HTTP_PORT/v1/model-import-jobs?maxResults=3'
  curl -s -H 'authorization: Bearer demo-key-team-a' 'http://127.0.0.1:$HTTP_PORT/v1/model-import-jobs?statusEquals=MODEL_IMPORT_JOB_STATUS_COMPLETED&sortOrder=Ascending&maxResults=2'
  curl -s -H 'x-api-key: demo-key-team-a' 'http://127.0.0.1:$HTTP_PORT/v1/model-import-jobs?creationTimeAfter=2025-01-01T00:00:00%2B05:30&nameContains=team-a'
  curl -s -H 'x-api-key: demo-key-team-b' 'http://127.0.0.1:$HTTP_PORT/v1/model-import-jobs?maxResults=3'   # team-b's slice
  curl -s 'http://127.0.0.1:$HTTP_PORT/v1/model-import-jobs'          # 401, no key
  curl -s -H 'x-api-key: demo-key-team-a' 'http://127.0.0.1:$HTTP_PORT/v1/model-import-jobs?maxResults=5000'   # 400 naming maxResults

Try (the unmodified AWS SDK for JavaScript, deploy/examples/aws-sdk; team-a's gateway-issued keys):
  AWS_ENDPOINT_URL_BEDROCK=http://127.0.0.1:$HTTP_PORT AWS_REGION=us-east-1 \\
  AWS_ACCESS_KEY_ID=BGWDEMOTEAMA00000001 AWS_SECRET_ACCESS_KEY=demo-aws-secret-team-a-0123456789abcdef \\
    node deploy/examples/aws-sdk/list_jobs.js --status Completed --max 5
  (boto3 / the AWS CLI take the same three variables: aws bedrock list-model-import-jobs)

Try (gRPC, client generated by the standard protoc from proto/):
  /usr/bin/python3 deploy/examples/list_jobs_grpc.py --target 127.0.0.1:$GRPC_PORT --key demo-key-team-a --max-results 3 --status COMPLETED

MSG
if [ "$REPLICAS" -gt 1 ]; then
    cat <<MSG
$REPLICAS replicas share 127.0.0.1:$REDIS_PORT (logs: $RUN/gateway-N.log). A page one
replica fetched is answered by the other from Redis, without an upstream call
(X-Cache speaks of the caller's own view, so it still says miss there):
  curl -s -H 'x-api-key: demo-key-team-a' 'http://127.0.0.1:$HTTP_PORT/v1/model-import-jobs?maxResults=4'
  curl -s -H 'x-api-key: demo-key-team-a' 'http://127.0.0.1:$((HTTP_PORT + 1))/v1/model-import-jobs?maxResults=4'
  curl -s 'http://127.0.0.1:$((HTTP_PORT + 1))/metrics' | grep -E '^bedrockgw_(redis_up|cache_l2_total)'
  curl -s 'http://127.0.0.1:$FAKE_PORT/_fake/counters'     # the emulator's count of calls
A page token from one replica continues on another; kill the redis-server and
every call is still answered (each replica alone), with a redis_down event.

MSG
fi
echo "Ctrl-C stops the gateway and the emulator."
wait
