// The browser client against docs/openapi.json (ctest web_client_types):
// 1. client-sdk/web/openapi.d.ts is exactly what openapi-typescript (pinned)
//    generates from the document now (else: stale, regenerate it with
//    `npx openapi-typescript ../../docs/openapi.json -o ../../client-sdk/web/openapi.d.ts`
//    in tests/web);
// 2. tsc (pinned) --checkJs finds no error in client-sdk/web/bedrockgw.js and
//    deploy/examples/web/app.js, whose JSDoc types come from that file.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, "..", "..");
const bin = (name) => path.join(here, "node_modules", ".bin", name);
const committed = path.join(root, "client-sdk", "web", "openapi.d.ts");
const fresh = path.join(mkdtempSync(path.join(tmpdir(), "bgw-types-")), "openapi.d.ts");
execFileSync(bin("openapi-typescript"), [path.join(root, "docs", "openapi.json"), "-o", fresh], { stdio: "pipe" });
if (readFileSync(fresh, "utf8") !== readFileSync(committed, "utf8")) {
  console.log("web types: client-sdk/web/openapi.d.ts is stale against docs/openapi.json; regenerate it:\n" +
    "  (cd tests/web && npx openapi-typescript ../../docs/openapi.json -o ../../client-sdk/web/openapi.d.ts)");
  process.exit(1);
}
try {
  execFileSync(bin("tsc"), ["-p", path.join(here, "tsconfig.json")], { stdio: "pipe" });
} catch (e) {
  console.log(String(e.stdout || "") + String(e.stderr || ""));
  console.log("web types: tsc --checkJs found errors in the web client or the example page");
  process.exit(1);
}
console.log("web types: openapi.d.ts matches docs/openapi.json; tsc --checkJs: no errors");
