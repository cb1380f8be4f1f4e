#!/usr/bin/env node
// An unmodified AWS SDK program: it lists Bedrock model import jobs. Pointed
// at the gateway, it gets the tenant's view; the only changes are the usual
// environment variables:
//
//   AWS_ENDPOINT_URL_BEDROCK=http://127.0.0.1:8080 \
//   AWS_ACCESS_KEY_ID=<gateway-issued> AWS_SECRET_ACCESS_KEY=<gateway-issued> \
//   AWS_REGION=us-east-1 node list_jobs.js [--status Completed] [--max N]
//
// (npm ci in this folder first; deploy/demo.sh does.)
"use strict";
const { BedrockClient, paginateListModelImportJobs } = require("@aws-sdk/client-bedrock");

async function main() {
  const args = process.argv.slice(2);
  const input = {};
  let max = Infinity;
  for (let i = 0; i < args.length; i += 2) {
    if (args[i] === "--status") input.statusEquals = args[i + 1];
    else if (args[i] === "--name-contains") input.nameContains = args[i + 1];
    else if (args[i] === "--max") max = Number(args[i + 1]);
    else throw new Error("usage: list_jobs.js [--status S] [--name-contains T] [--max N]");
  }
  const client = new BedrockClient({}); // endpoint, region and keys from the environment
  let n = 0;
  for await (const page of paginateListModelImportJobs({ client, pageSize: 25 }, input)) {
    for (const job of page.modelImportJobSummaries || []) {
      if (n++ >= max) return;
      console.log(`${job.creationTime.toISOString()}  ${job.status.padEnd(10)}  ${job.jobName}`);
    }
  }
}

main().catch((e) => {
  console.error(`${e.name}: ${e.message}`);
  process.exit(1);
});
