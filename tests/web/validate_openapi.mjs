// Validates an OpenAPI document (default: docs/openapi.json) with an
// independent OpenAPI 3.x validator (@seriousme/openapi-schema-validator,
// pinned in package-lock.json) and checks that every $ref resolves. A ctest
// (openapi_validate). Exit 0 = valid; 1 = invalid, with the errors.
import { Validator } from "@seriousme/openapi-schema-validator";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const file = process.argv[2] || path.join(here, "..", "..", "docs", "openapi.json");
const doc = JSON.parse(readFileSync(file, "utf8"));
const v = new Validator();
const res = await v.validate(doc);
if (!res.valid) {
  console.log(JSON.stringify(res.errors, null, 2));
  console.log(`openapi: ${file} is NOT a valid OpenAPI ${v.version} document`);
  process.exit(1);
}
if (v.version !== "3.1") {
  console.log(`openapi: ${file} validated as OpenAPI ${v.version}, want 3.1`);
  process.exit(1);
}
// Every local $ref must point at something (the schema check does not
// resolve references).
const bad = [];
(function walk(node, at) {
  if (Array.isArray(node)) return node.forEach((x, i) => walk(x, `${at}/${i}`));
  if (!node || typeof node !== "object") return;
  for (const [k, x] of Object.entries(node)) {
    if (k === "$ref" && typeof x === "string") {
      let t = doc;
      for (const part of x.replace(/^#\//, "").split("/")) t = t?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
      if (!x.startsWith("#/") || t === undefined) bad.push(`${at}: ${x}`);
    } else walk(x, `${at}/${k}`);
  }
})(doc, "#");
if (bad.length) {
  console.log(`openapi: unresolved $ref:\n  ${bad.join("\n  ")}`);
  process.exit(1);
}
console.log(`openapi: ${path.relative(process.cwd(), file)} is a valid OpenAPI ${v.version} document (${Object.keys(doc.paths).length} paths)`);
