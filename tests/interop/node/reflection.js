// An independent reflection client (grpc-js-reflection-client, unmodified,
// pinned in package-lock.json) against the gateway: list the services and
// the contract's methods, then build a client for
// ListModelImportJobs from the reflected descriptors alone (no .proto file)
// and call it. Prints one JSON line (tests/integration/test_reflection.py).
// (Its getAllExtensionNumbersOfType cannot decode any answer with the
// google-protobuf 4 it installs, readPackedInt32 being gone: the test asks
// that question with Python's stock descriptors instead.)
//
//   node reflection.js <host:port> <api key> [v1|v1alpha]
"use strict";
const grpc = require("@grpc/grpc-js");
const { GrpcReflection } = require("grpc-js-reflection-client");

const [addr, apiKey, version = "v1"] = process.argv.slice(2);

(async () => {
  const insecure = grpc.ChannelCredentials.createInsecure();
  const refl = new GrpcReflection(addr, insecure, {}, version);
  const services = await refl.listServices();
  const methods = await refl.listMethods("bedrockgw.v1.ModelImportJobs");
  const descriptor = await refl.getDescriptorBySymbol("bedrockgw.v1.ModelImportJobs");
  const pkg = descriptor.getPackageObject({ keepCase: true, enums: String, longs: Number });
  const client = new pkg.bedrockgw.v1.ModelImportJobs(addr, insecure);
  const md = new grpc.Metadata();
  md.set("x-api-key", apiKey);
  const response = await new Promise((resolve, reject) =>
    client.ListModelImportJobs(
      { max_results: 3, sort_order: "SORT_ORDER_ASCENDING", status_equals: "MODEL_IMPORT_JOB_STATUS_COMPLETED" },
      md,
      { deadline: Date.now() + 10000 },
      (err, resp) => (err ? reject(err) : resolve(resp)),
    ),
  );
  client.close();
  console.log(
    JSON.stringify({
      services: services.sort(),
      methods: methods.map((m) => ({ name: m.name, path: m.definition.path })),
      response,
    }),
  );
  process.exit(0);
})().catch((e) => {
  console.error(String((e && e.stack) || e));
  process.exit(1);
});
