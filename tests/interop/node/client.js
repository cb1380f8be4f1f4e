// An unmodified @grpc/grpc-js client of the gateway. Runs one scenario and
// prints one JSON line with what the client saw; the Python test asserts on
// it and on what the upstream emulator received.
//
//   node client.js SCENARIO ADDR KEY [CA CERT KEY_FILE]
//
// Scenarios: ok, details, large, concurrent, deadline, cancel, drain.
"use strict";
const fs = require("fs");
const path = require("path");
const grpc = require("@grpc/grpc-js");
const loader = require("@grpc/proto-loader");

const [scenario, addr, apiKey, ca, cert, keyFile] = process.argv.slice(2);
const protoDir = path.join(__dirname, "..", "..", "..", "proto");
const def = loader.loadSync(path.join(protoDir, "bedrockgw/v1/model_import_jobs.proto"), {
  includeDirs: [protoDir, path.join(protoDir, "third_party"), "/usr/include"],
  enums: String,
  longs: Number,
});
const Service = grpc.loadPackageDefinition(def).bedrockgw.v1.ModelImportJobs;

function credentials() {
  if (!ca) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(
    fs.readFileSync(ca),
    keyFile ? fs.readFileSync(keyFile) : null,
    cert ? fs.readFileSync(cert) : null,
  );
}

const client = new Service(addr, credentials(), {
  "grpc.ssl_target_name_override": "localhost",
  "grpc.default_authority": "localhost",
});

function md() {
  const m = new grpc.Metadata();
  if (apiKey) m.set("authorization", "Bearer " + apiKey);
  return m;
}

function call(req, opts = {}) {
  return new Promise((resolve) => {
    const out = {};
    const c = client.listModelImportJobs(req, md(), opts, (err, resp) => {
      if (err) {
        out.code = err.code;
        out.details = err.details;
        const m = err.metadata ? err.metadata.getMap() : {};
        out.has_details_bin = Buffer.isBuffer(m["grpc-status-details-bin"]);
        out.retry_after = m["retry-after"] || null;
      } else {
        out.code = 0;
        out.rows = resp.modelImportJobSummaries.length;
        out.first_status = resp.modelImportJobSummaries.length
          ? resp.modelImportJobSummaries[0].status : null;
        out.next_token = !!resp.nextToken;
      }
      resolve(out);
    });
    c.on("metadata", (m) => { out.request_id = (m.get("x-request-id") || [null])[0]; });
    c.on("status", (s) => { out.x_cache = (s.metadata.get("x-cache") || [null])[0]; });
    if (opts.cancelAfterMs !== undefined) setTimeout(() => c.cancel(), opts.cancelAfterMs);
  });
}

async function main() {
  let result;
  switch (scenario) {
    case "ok":
      result = await call({maxResults: 5});
      break;
    case "details":
      result = await call({maxResults: 5000});
      break;
    case "large":
      result = await call({maxResults: 1000});
      break;
    case "concurrent": {
      const all = await Promise.all(Array.from({length: 1000}, () => call({maxResults: 2})));
      const codes = {};
      for (const r of all) codes[r.code] = (codes[r.code] || 0) + 1;
      result = {codes, rows: all.reduce((n, r) => n + (r.rows || 0), 0)};
      break;
    }
    case "deadline":
      result = await call({maxResults: 3}, {deadline: Date.now() + 200});
      break;
    case "cancel":
      result = await call({maxResults: 3}, {cancelAfterMs: 100});
      result.after = await call({maxResults: 3});
      break;
    case "drain": {
      // a call in flight when the gateway is told to stop (the test signals
      // it once it sees the upstream request) still gets its answer
      result = await call({maxResults: 3, nameContains: "a"});
      break;
    }
    default:
      throw new Error("unknown scenario " + scenario);
  }
  client.close();
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + "\n");
  process.exit(2);
});
