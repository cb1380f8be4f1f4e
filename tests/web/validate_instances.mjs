// Validates JSON instances against schemas of an OpenAPI 3.1 document with
// an independent JSON Schema 2020-12 validator (Ajv, pinned in
// package-lock.json), for tests/integration/test_openapi.py.
//
//   node validate_instances.mjs DOC < [{"at": "<JSON pointer into DOC>", "instance": ...}, ...]
//
// "at" names a schema anywhere in the document ("#/components/schemas/Status",
// "#/components/parameters/maxResults/schema", ...). Prints one JSON array:
// [{"valid": bool, "errors": [...]}, ...] in the same order.
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { readFileSync } from "node:fs";

const doc = JSON.parse(readFileSync(process.argv[2], "utf8"));
const items = JSON.parse(readFileSync(0, "utf8"));

function resolve(pointer) {
  let t = doc;
  for (const part of pointer.replace(/^#\//, "").split("/"))
    t = t?.[decodeURIComponent(part).replace(/~1/g, "/").replace(/~0/g, "~")];
  if (t === undefined) throw new Error(`no schema at ${pointer}`);
  return t;
}

// The document's component schemas become $defs; its references follow.
function rewrite(node) {
  if (Array.isArray(node)) return node.map(rewrite);
  if (!node || typeof node !== "object") return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "$ref" && typeof v === "string" && v.startsWith("#/components/schemas/"))
      out[k] = "#/$defs/" + v.slice("#/components/schemas/".length);
    else out[k] = rewrite(v);
  }
  return out;
}

const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
addFormats(ajv);
// OpenAPI's numeric formats.
ajv.addFormat("int32", { type: "number", validate: (n) => Number.isInteger(n) && n >= -2147483648 && n <= 2147483647 });
ajv.addKeyword({ keyword: "example" });
const defs = rewrite(doc.components.schemas);
const out = items.map(({ at, instance }) => {
  let schema = rewrite(resolve(at));
  if (schema.$ref === undefined && Object.keys(schema).length === 0) schema = true;
  const validate = ajv.compile({ $defs: defs, ...(schema === true ? {} : schema) });
  const valid = validate(instance);
  return { valid, errors: valid ? [] : validate.errors.map((e) => `${e.instancePath || "/"} ${e.message} (${e.schemaPath})`) };
});
console.log(JSON.stringify(out));
