// Drives the unmodified AWS SDK for JavaScript v3 (@aws-sdk/client-bedrock,
// pinned in package-lock.json) for tests/integration/test_aws_front.py.
//
//   node bedrock_sdk.js '<json>'
//   {"endpoint": "http://127.0.0.1:PORT", "region": "us-west-2",
//    "accessKeyId": "...", "secretAccessKey": "...",
//    "op": "list" | "paginate", "input": {...ListModelImportJobs input...},
//    "pageSize": N (paginate), "clockOffsetMs": 0}
//
// Prints one JSON line: {"ok": true, "pages": [<output without $metadata>],
// "requestIds": [...]} or {"ok": false, "name": ..., "message": ...,
// "httpStatusCode": ..., "fault": ...}. Timestamps print as ISO strings
// (the SDK parsed them into Date objects first).
"use strict";
const {
  BedrockClient,
  ListModelImportJobsCommand,
  paginateListModelImportJobs,
} = require("@aws-sdk/client-bedrock");

function reviveDates(input) {
  const out = { ...input };
  for (const k of ["creationTimeAfter", "creationTimeBefore"]) {
    if (typeof out[k] === "string") out[k] = new Date(out[k]);
    else if (typeof out[k] === "number") out[k] = new Date(out[k]);
  }
  return out;
}

function plain(output) {
  const { $metadata, ...rest } = output;
  return JSON.parse(JSON.stringify(rest));
}

async function main() {
  const cfg = JSON.parse(process.argv[2]);
  const client = new BedrockClient({
    endpoint: cfg.endpoint,
    region: cfg.region,
    credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey },
    maxAttempts: 1,
    systemClockOffset: cfg.clockOffsetMs || 0,
  });
  const pages = [];
  const requestIds = [];
  try {
    if (cfg.op === "paginate") {
      const it = paginateListModelImportJobs(
        { client, pageSize: cfg.pageSize || undefined },
        reviveDates(cfg.input || {})
      );
      for await (const page of it) {
        requestIds.push(page.$metadata.requestId);
        pages.push(plain(page));
      }
    } else {
      const out = await client.send(new ListModelImportJobsCommand(reviveDates(cfg.input || {})));
      requestIds.push(out.$metadata.requestId);
      pages.push(plain(out));
    }
    process.stdout.write(JSON.stringify({ ok: true, pages, requestIds }) + "\n");
  } catch (e) {
    process.stdout.write(
      JSON.stringify({
        ok: false,
        name: e.name,
        message: e.message,
        httpStatusCode: e.$metadata ? e.$metadata.httpStatusCode : undefined,
        fault: e.$fault,
        requestId: e.$metadata ? e.$metadata.requestId : undefined,
        pages,
      }) + "\n"
    );
  }
}

main();
