#!/usr/bin/env bash
# Smoke test of fake-bedrock: starts the binary on a free port, reads the
# ready line, and checks with curl (curl >= 7.75 for --aws-sigv4) and jq:
# unsigned/badly signed requests, signed listing, filters, pagination,
# validation, the control plane and every fault kind; then SIGTERM -> exit 0.
#
# usage: smoke_test.sh /path/to/fake-bedrock
#
# Note on signing with curl 7.88: curl signs the query string exactly as it
# appears in the URL (it neither sorts nor re-encodes it), while SigV4 - and
# the emulator - canonicalize the decoded pairs (re-encoded, sorted). So the
# signed URLs below list parameters in sorted order with every reserved
# character percent-encoded (':' -> %3A, '+' -> %2B).
set -u -o pipefail

BIN=${1:?usage: smoke_test.sh /path/to/fake-bedrock}
REGION=us-east-1
AKID=AKIDFAKEEXAMPLE
SECRET=fake-secret-key-example
TMP=$(mktemp -d)
PID=""
PASS=0
FAIL=0

cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); echo "ok   - $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; }
check() { # check "description" <command...>
    local what=$1
    shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}

# start <extra args...>: runs the binary, waits for the ready line, sets PORT.
start() {
    # Empty the file before the background job opens it: otherwise the loop
    # below can read the previous instance's ready line (a stale port).
    : >"$TMP/stdout"
    "$BIN" --listen 127.0.0.1:0 --region "$REGION" --access-key "$AKID" \
        --secret-key "$SECRET" "$@" >"$TMP/stdout" 2>>"$TMP/stderr" &
    PID=$!
    # Up to 30 s: under a loaded machine (ASan builds, tests in parallel) a
    # sanitized binary can take seconds to start; wait for a whole line.
    for _ in $(seq 1 600); do
        if [ -s "$TMP/stdout" ] && [ "$(tail -c1 "$TMP/stdout" | od -An -c | tr -d ' ')" = '\n' ]; then
            break
        fi
        sleep 0.05
    done
    READY=$(head -n1 "$TMP/stdout")
    PORT=$(echo "$READY" | jq -er 'select(.event == "ready") | .port') || {
        echo "no ready line; stderr:"; cat "$TMP/stderr"; exit 1
    }
    BASE="http://127.0.0.1:$PORT"
}

stop() { # stop: SIGTERM, expect exit status 0
    kill -TERM "$PID"
    wait "$PID"
    local rc=$?
    PID=""
    [ "$rc" -eq 0 ]
}

# req <outfile-prefix> <curl args...>: writes body to $TMP/<p>.body, headers
# to $TMP/<p>.hdr, echoes the status code.
req() {
    local p=$1
    shift
    curl -s -o "$TMP/$p.body" -D "$TMP/$p.hdr" -w '%{http_code}' "$@"
}
signed() { # signed <prefix> <query> [extra curl args]
    local p=$1 q=$2
    shift 2
    req "$p" --aws-sigv4 "aws:amz:$REGION:bedrock" --user "$AKID:$SECRET" "$@" \
        "$BASE/model-import-jobs${q:+?$q}"
}
hdr() { grep -i "^$2:" "$TMP/$1.hdr" | head -n1 | cut -d' ' -f2- | tr -d '\r'; }
jqb() { jq -e "$2" "$TMP/$1.body" >/dev/null 2>&1; }
fault() { curl -s -o /dev/null -w '%{http_code}' -X POST --data "$1" "$BASE/_fake/faults"; }

# ---------------------------------------------------------------------------
start --generate 120 --seed 42
check "ready line is exactly one JSON line" [ "$(wc -l <"$TMP/stdout")" -eq 1 ]
check "--help exits 0" "$BIN" --help >/dev/null

# --- authentication ---------------------------------------------------------
s=$(req unsigned "$BASE/model-import-jobs")
check "unsigned request -> 403" [ "$s" = 403 ]
check "unsigned: x-amzn-ErrorType header" \
    bash -c "[[ '$(hdr unsigned x-amzn-ErrorType)' == MissingAuthenticationTokenException:* ]]"
check "unsigned: x-amzn-RequestId header" [ -n "$(hdr unsigned x-amzn-RequestId)" ]

s=$(req badsecret --aws-sigv4 "aws:amz:$REGION:bedrock" --user "$AKID:wrong" "$BASE/model-import-jobs")
check "wrong secret -> 403 InvalidSignatureException" \
    bash -c "[ $s = 403 ] && [[ '$(hdr badsecret x-amzn-ErrorType)' == InvalidSignatureException:* ]]"
check "wrong secret: message names the mismatch" \
    jqb badsecret '.message | startswith("The request signature we calculated does not match")'

s=$(req badregion --aws-sigv4 "aws:amz:eu-west-1:bedrock" --user "$AKID:$SECRET" "$BASE/model-import-jobs")
check "wrong region -> 403 InvalidSignatureException naming us-east-1" \
    bash -c "[ $s = 403 ] && jq -e '.message | contains(\"us-east-1\")' $TMP/badregion.body >/dev/null"

s=$(req badsvc --aws-sigv4 "aws:amz:$REGION:s3" --user "$AKID:$SECRET" "$BASE/model-import-jobs")
check "wrong service -> 403" [ "$s" = 403 ]

s=$(req badkey --aws-sigv4 "aws:amz:$REGION:bedrock" --user "AKIDOTHER:$SECRET" "$BASE/model-import-jobs")
check "unknown access key -> 403 UnrecognizedClientException" \
    bash -c "[ $s = 403 ] && [[ '$(hdr badkey x-amzn-ErrorType)' == UnrecognizedClientException:* ]]"

s=$(signed expired "" -H "X-Amz-Date: 20200101T000000Z")
check "old x-amz-date -> 403 Signature expired" \
    bash -c "[ $s = 403 ] && jq -e '.message | startswith(\"Signature expired\")' $TMP/expired.body >/dev/null"

s=$(signed unsorted "maxResults=2&creationTimeAfter=2024-06-01T00%3A00%3A00Z")
check "query signed unsorted (not SigV4 canonical) -> 403" [ "$s" = 403 ]

# --- listing ----------------------------------------------------------------
s=$(signed all "")
check "signed list -> 200" [ "$s" = 200 ]
check "signed list: all 120 jobs on one page (default maxResults 1000), no nextToken" \
    jqb all '(.modelImportJobSummaries | length) == 120 and (has("nextToken") | not)'
check "default order is Descending by creationTime" \
    jqb all '[.modelImportJobSummaries[].creationTime | fromdateiso8601? // (sub("\\.[0-9]+Z$";"Z") | fromdateiso8601)] as $t | $t == ($t | sort | reverse)'
check "Completed jobs carry importedModelArn and endTime; InProgress no endTime" \
    jqb all '([.modelImportJobSummaries[] | select(.status == "Completed") | has("importedModelArn") and has("endTime")] | all) and
             ([.modelImportJobSummaries[] | select(.status == "InProgress") | (has("endTime") or has("importedModelArn")) | not] | all) and
             ([.modelImportJobSummaries[] | select(.status == "Failed") | has("endTime") and (has("importedModelArn") | not)] | all)'
check "ARNs look like Bedrock's" \
    jqb all '[.modelImportJobSummaries[].jobArn | test("^arn:aws:bedrock:us-east-1:123456789012:model-import-job/[a-z0-9]{12}$")] | all'
check "application/json and x-amzn-RequestId" \
    bash -c "[[ '$(hdr all Content-Type)' == application/json* ]] && [ -n '$(hdr all x-amzn-RequestId)' ]"

s=$(signed completed "statusEquals=Completed")
check "statusEquals=Completed filters" \
    bash -c "[ $s = 200 ] && jq -e '(.modelImportJobSummaries | length) > 0 and ([.modelImportJobSummaries[].status == \"Completed\"] | all)' $TMP/completed.body >/dev/null"

s=$(signed plus "nameContains=exp%2B")
check "nameContains=exp%2B keeps the literal +" \
    bash -c "[ $s = 200 ] && jq -e '(.modelImportJobSummaries | length) > 0 and ([.modelImportJobSummaries[].jobName | contains(\"exp+\")] | all)' $TMP/plus.body >/dev/null"

s=$(signed after "creationTimeAfter=2025-01-01T00%3A00%3A00Z&creationTimeBefore=2025-07-01T00%3A00%3A00Z&sortOrder=Ascending")
check "creationTimeAfter/Before window, Ascending" \
    bash -c "[ $s = 200 ] && jq -e '[.modelImportJobSummaries[].creationTime | .[0:19]] as \$t | (\$t | length) > 0 and \$t == (\$t | sort) and (\$t[0] >= \"2025-01-01\") and (\$t[-1] < \"2025-07-01\")' $TMP/after.body >/dev/null"

# --- pagination -------------------------------------------------------------
walk() { # walk <query-prefix>: pages with maxResults=7, prints jobArns
    local q=$1 tok="" n=0
    : >"$TMP/walk.arns"
    while :; do
        local qq="${q:+$q&}maxResults=7${tok:+&nextToken=$tok}"
        [ "$(signed page "$qq")" = 200 ] || return 1
        jq -r '.modelImportJobSummaries[].jobArn' "$TMP/page.body" >>"$TMP/walk.arns"
        tok=$(jq -r '.nextToken // empty' "$TMP/page.body")
        n=$((n + 1))
        [ -z "$tok" ] && break
        [ "$n" -gt 100 ] && return 1
    done
    return 0
}
check "paging maxResults=7 walks all 120 jobs" walk ""
check "paging: no duplicates, same order as one page" \
    bash -c "[ \$(sort -u $TMP/walk.arns | wc -l) -eq 120 ] && diff -q $TMP/walk.arns <(jq -r '.modelImportJobSummaries[].jobArn' $TMP/all.body) >/dev/null"
signed p1 "maxResults=5&statusEquals=Failed" >/dev/null
TOK=$(jq -r '.nextToken' "$TMP/p1.body")
s=$(signed p2 "maxResults=5&nextToken=$TOK&statusEquals=Failed")
check "token continues with the same filters" [ "$s" = 200 ]
s=$(signed p3 "maxResults=5&nextToken=$TOK&statusEquals=Completed")
check "token with other filters -> 400 Invalid pagination token" \
    bash -c "[ $s = 400 ] && jq -e '.message == \"Invalid pagination token\"' $TMP/p3.body >/dev/null"
s=$(signed p4 "nextToken=garbage")
check "garbage token -> 400 ValidationException" \
    bash -c "[ $s = 400 ] && [[ '$(hdr p4 x-amzn-ErrorType)' == ValidationException:* ]]"

# --- validation -------------------------------------------------------------
s=$(signed v1 "maxResults=0")
check "maxResults=0 -> 400" bash -c "[ $s = 400 ] && jq -e '.message | contains(\"maxResults\")' $TMP/v1.body >/dev/null"
s=$(signed v2 "maxResults=1001")
check "maxResults=1001 -> 400" [ "$s" = 400 ]
s=$(signed v3 "statusEquals=Running")
check "statusEquals=Running -> 400" [ "$s" = 400 ]
s=$(signed v4 "nameContains=-leading")
check "nameContains pattern -> 400" [ "$s" = 400 ]
s=$(signed v5 "nameContains=$(printf 'a%.0s' $(seq 1 64))")
check "nameContains 64 chars -> 400" [ "$s" = 400 ]
s=$(signed v6 "sortBy=Name")
check "sortBy=Name -> 400" [ "$s" = 400 ]
s=$(signed v7 "sortOrder=asc")
check "sortOrder=asc -> 400" [ "$s" = 400 ]
s=$(signed v8 "creationTimeAfter=yesterday")
check "bad timestamp -> 400" [ "$s" = 400 ]
s=$(signed v9 "maxResults=0&statusEquals=Nope")
check "two errors reported together" jqb v9 '.message | startswith("2 validation errors detected")'

# --- control plane ----------------------------------------------------------
s=$(req ctr "$BASE/_fake/counters")
check "GET /_fake/counters" \
    bash -c "[ $s = 200 ] && jq -e '.requests_total > 0 and .list_ok > 0 and .auth_failed > 0 and .validation_failed > 0 and .faults_injected == 0' $TMP/ctr.body >/dev/null"
s=$(req log "$BASE/_fake/requests")
check "GET /_fake/requests records query, headers, signature_ok, status" \
    bash -c "[ $s = 200 ] && jq -e '[.requests[] | select(.query.nameContains == \"exp+\")][0] | .query_raw == \"nameContains=exp%2B\" and .signature_ok == true and .status == 200 and .fault == null and (.headers.authorization | startswith(\"AWS4-HMAC-SHA256\"))' $TMP/log.body >/dev/null"
check "request log never holds the secret" bash -c "! grep -q '$SECRET' $TMP/log.body"
s=$(req reset -X POST "$BASE/_fake/reset")
req ctr2 "$BASE/_fake/counters" >/dev/null
req log2 "$BASE/_fake/requests" >/dev/null
check "POST /_fake/reset clears counters and log" \
    bash -c "[ $s = 200 ] && jq -e '.requests_total == 0' $TMP/ctr2.body >/dev/null && jq -e '.requests == []' $TMP/log2.body >/dev/null"
s=$(req nf "$BASE/nope")
check "unknown path -> 404 UnknownOperationException" \
    bash -c "[ $s = 404 ] && [[ '$(hdr nf x-amzn-ErrorType)' == UnknownOperationException:* ]]"
s=$(req m405 -X DELETE "$BASE/model-import-jobs")
check "DELETE /model-import-jobs -> 405" [ "$s" = 405 ]
s=$(req m405b -X DELETE "$BASE/_fake/counters")
check "DELETE /_fake/counters -> 405" [ "$s" = 405 ]
check "bad fault kind -> 400" [ "$(fault '{"kind":"meteor"}')" = 400 ]
check "fault with unknown member -> 400" [ "$(fault '{"kind":"throttle","cnt":2}')" = 400 ]

echo '{"modelImportJobSummaries":[
 {"jobArn":"arn:aws:bedrock:us-east-1:123456789012:model-import-job/aaaaaaaaaaaa","jobName":"alpha","status":"Completed",
  "creationTime":"2024-05-01T12:00:00.123Z","lastModifiedTime":"2024-05-01T13:00:00Z","endTime":"2024-05-01T13:00:00Z",
  "importedModelArn":"arn:aws:bedrock:us-east-1:123456789012:imported-model/bbbbbbbbbbbb","importedModelName":"alpha-m","futureField":1},
 {"jobArn":"arn:aws:bedrock:us-east-1:123456789012:model-import-job/cccccccccccc","jobName":"beta","status":"InProgress",
  "creationTime":"2024-05-02T00:00:00Z","lastModifiedTime":"2024-05-02T00:00:00Z"}]}' >"$TMP/jobs.json"
s=$(req put -X PUT --data-binary @"$TMP/jobs.json" "$BASE/_fake/jobs")
check "PUT /_fake/jobs replaces the data set" bash -c "[ $s = 200 ] && jq -e '.jobs == 2' $TMP/put.body >/dev/null"
signed two "" >/dev/null
check "listing reflects the new data, timestamps and unknown fields as given" \
    jqb two '[.modelImportJobSummaries[].jobName] == ["beta","alpha"] and .modelImportJobSummaries[1].creationTime == "2024-05-01T12:00:00.123Z" and .modelImportJobSummaries[1].futureField == 1'
s=$(req putbad -X PUT --data '{"modelImportJobSummaries":[{"jobName":"x"}]}' "$BASE/_fake/jobs")
check "PUT /_fake/jobs with a bad job -> 400" [ "$s" = 400 ]
s=$(req gen -X PUT --data '{"generate":30,"seed":5}' "$BASE/_fake/jobs")
check "PUT /_fake/jobs {generate,seed}" bash -c "[ $s = 200 ] && jq -e '.jobs == 30' $TMP/gen.body >/dev/null"

# --- faults -----------------------------------------------------------------
curl -s -o /dev/null -X POST "$BASE/_fake/reset"
check "queue throttle x2 (retry_after_s 3)" [ "$(fault '{"kind":"throttle","count":2,"retry_after_s":3}')" = 200 ]
check "queue internal" [ "$(fault '{"kind":"internal"}')" = 200 ]
s1=$(signed f1 ""); s2=$(signed f2 ""); s3=$(signed f3 ""); s4=$(signed f4 "")
check "throttle: 429 ThrottlingException with Retry-After: 3" \
    bash -c "[ $s1 = 429 ] && [ $s2 = 429 ] && [ '$(hdr f1 Retry-After)' = 3 ] && [[ '$(hdr f1 x-amzn-ErrorType)' == ThrottlingException:* ]]"
check "internal (FIFO after throttle): 500 InternalServerException" \
    bash -c "[ $s3 = 500 ] && [[ '$(hdr f3 x-amzn-ErrorType)' == InternalServerException:* ]]"
check "queue drained: next call 200" [ "$s4" = 200 ]

fault '{"kind":"validation"}' >/dev/null
s=$(signed f5 "")
check "validation fault: 400 ValidationException" [ "$s" = 400 ]
fault '{"kind":"access_denied"}' >/dev/null
s=$(signed f6 "")
check "access_denied: 403 with \"Message\"" \
    bash -c "[ $s = 403 ] && [[ '$(hdr f6 x-amzn-ErrorType)' == AccessDeniedException:* ]] && jq -e 'has(\"Message\")' $TMP/f6.body >/dev/null"
fault '{"kind":"malformed"}' >/dev/null
s=$(signed f7 "")
check "malformed: 200 with a body that is not JSON" bash -c "[ $s = 200 ] && ! jq . $TMP/f7.body >/dev/null 2>&1"

fault '{"kind":"empty_page"}' >/dev/null
s=$(signed f8 "maxResults=4")
TOK=$(jq -r '.nextToken // empty' "$TMP/f8.body")
check "empty_page: 200, no jobs, a nextToken" \
    bash -c "[ $s = 200 ] && jq -e '(.modelImportJobSummaries | length) == 0 and (.nextToken | length) > 0' $TMP/f8.body >/dev/null"
signed f9 "maxResults=4&nextToken=$TOK" >/dev/null
signed f10 "maxResults=4" >/dev/null
check "empty_page token continues from the same position" \
    bash -c "diff -q <(jq -c .modelImportJobSummaries $TMP/f9.body) <(jq -c .modelImportJobSummaries $TMP/f10.body) >/dev/null"

fault '{"kind":"delay","delay_ms":400}' >/dev/null
t0=$(date +%s%N)
s=$(signed f11 "")
t1=$(date +%s%N)
check "delay 400ms: 200 after >= 0.4 s" bash -c "[ $s = 200 ] && [ $(((t1 - t0) / 1000000)) -ge 390 ]"

fault '{"kind":"delay","delay_ms":800}' >/dev/null
signed f12 "" --max-time 0.2 >/dev/null
sleep 1
s=$(signed f13 "")
check "client gone during delay: emulator survives" [ "$s" = 200 ]

fault '{"kind":"drop"}' >/dev/null
curl -s -o /dev/null --aws-sigv4 "aws:amz:$REGION:bedrock" --user "$AKID:$SECRET" "$BASE/model-import-jobs"
rc=$?
check "drop: connection closed without a response (curl exit 52/56)" bash -c "[ $rc = 52 ] || [ $rc = 56 ]"
s=$(signed f14 "")
check "after drop: 200" [ "$s" = 200 ]

req ctr3 "$BASE/_fake/counters" >/dev/null
check "counters after faults" \
    jqb ctr3 '.faults_injected == 10 and .list_ok == 7 and .auth_failed == 0 and .validation_failed == 0'
req log3 "$BASE/_fake/requests" >/dev/null
check "request log: fault names and status 0 for drop" \
    jqb log3 '[.requests[].fault] | index("drop") != null and index("throttle") != null' 
check "request log: drop logged with status 0" \
    jqb log3 '[.requests[] | select(.fault == "drop") | .status] == [0]'
s=$(req qlen "$BASE/_fake/faults")
check "GET /_fake/faults: queue empty" bash -c "[ $s = 200 ] && jq -e '.faults == []' $TMP/qlen.body >/dev/null"

check "SIGTERM -> exit 0" stop

# --- session token ------------------------------------------------------------
start --generate 3 --session-token TOKEN123
s=$(signed st1 "" -H "x-amz-security-token: TOKEN123")
check "session token: signed and equal -> 200" [ "$s" = 200 ]
s=$(signed st2 "")
check "session token missing -> 403 UnrecognizedClientException" \
    bash -c "[ $s = 403 ] && [[ '$(hdr st2 x-amzn-ErrorType)' == UnrecognizedClientException:* ]]"
s=$(signed st3 "" -H "x-amz-security-token: OTHER")
check "session token wrong -> 403" [ "$s" = 403 ]
check "SIGTERM -> exit 0 (2)" stop

# --- data file ---------------------------------------------------------------
jq '.modelImportJobSummaries' "$TMP/jobs.json" >"$TMP/bare.json"
start --data "$TMP/bare.json"
signed df "" >/dev/null
check "--data with a bare array" jqb df '(.modelImportJobSummaries | length) == 2'
kill -INT "$PID"; wait "$PID"; rc=$?; PID=""
check "SIGINT -> exit 0" [ "$rc" -eq 0 ]

echo "# $PASS passed, $FAIL failed"
if grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$TMP/stderr" 2>/dev/null; then
    echo "sanitizer report in stderr:"; cat "$TMP/stderr"; exit 1
fi
[ "$FAIL" -eq 0 ]
