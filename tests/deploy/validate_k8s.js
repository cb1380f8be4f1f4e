// Validates Kubernetes manifests against the Kubernetes (and Prometheus
// Operator) JSON schemas shipped by kubernetes-models (pinned in
// package-lock.json). Usage: node validate_k8s.js FILE.yaml...
// Prints one JSON line: {"ok": bool, "objects": [{"file", "kind", "name"}],
// "errors": [...]}. Kustomization files are skipped (not API objects).
"use strict";
const fs = require("fs");
const YAML = require("yaml");

function modelFor(apiVersion, kind) {
  const group = apiVersion.includes("/") ? apiVersion : "v1";
  if (group === "monitoring.coreos.com/v1")
    return require("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1")[kind];
  const path = group === "v1" ? "kubernetes-models/v1" : "kubernetes-models/" + group;
  return require(path)[kind];
}

const out = { ok: true, objects: [], errors: [] };
for (const file of process.argv.slice(2)) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  for (const doc of docs) {
    if (doc.errors.length) {
      out.ok = false;
      out.errors.push(`${file}: ${doc.errors[0].message}`);
      continue;
    }
    const obj = doc.toJS();
    if (!obj) continue;
    if (obj.kind === "Kustomization") continue;
    let Model;
    try {
      Model = modelFor(obj.apiVersion, obj.kind);
    } catch (e) {
      Model = undefined;
    }
    if (!Model) {
      out.ok = false;
      out.errors.push(`${file}: no schema for ${obj.apiVersion} ${obj.kind}`);
      continue;
    }
    try {
      new Model(obj).validate();
      out.objects.push({ file, kind: obj.kind, name: obj.metadata && obj.metadata.name });
    } catch (e) {
      out.ok = false;
      out.errors.push(`${file}: ${obj.kind}: ${e.message}`);
    }
  }
}
process.stdout.write(JSON.stringify(out) + "\n");
