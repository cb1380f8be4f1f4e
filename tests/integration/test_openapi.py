"""docs/openapi.json against the contract and the running gateway.

- Drift, both directions, against the proto compiled by protoc into a
  descriptor set: every request field is a query parameter of the REST
  operation (JSON name, type, enum values = the proto enum's, the Bedrock
  spellings = the enum's "Bedrock:" comment) and every parameter is a field;
  every response / summary field is a schema property and back (JSON name,
  type; Timestamp = string date-time; enums).
- The live gateway: real answers (several filters, both enum renderings,
  304, errors 400/401/429, the AWS front, /healthz, /readyz, /metrics) and
  their documented headers validate against the document's schemas by an
  independent JSON Schema validator (Ajv, tests/web); boundary values taken
  from the document (minimum/maximum, min/maxLength, pattern, enum, format)
  are accepted or refused by the gateway exactly as the document says.
- Served: GET /openapi.json gives the committed file byte for byte, with its
  ETag, 304 on If-None-Match, CORS by the allow-list, no key needed; with
  http.openapi_enabled false it is 404.
"""
import copy
import hashlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from google.protobuf import descriptor_pb2

import awssig
from harness import KEYS, REGION, GatewayTestCase, base_config, sha256_hex

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DOC_PATH = os.path.join(ROOT, "docs", "openapi.json")
PROTO_DIR = os.path.join(ROOT, "proto")
PROTO = "bedrockgw/v1/model_import_jobs.proto"
WEB_DIR = os.path.join(ROOT, "tests", "web")
LIST_PATH = "/v1/model-import-jobs"
FD = descriptor_pb2.FieldDescriptorProto
AWS_KEY = ("BGWOPENAPI0000000001", "openapi-test-secret/0123456789+abcdefghij")


def load_doc():
    with open(DOC_PATH) as f:
        return json.load(f)


def web_ready():
    if not shutil.which("node"):
        raise AssertionError("node is not installed: deploy/install-deps.sh installs it")
    if not os.path.isdir(os.path.join(WEB_DIR, "node_modules", "ajv")):
        raise AssertionError("run npm ci in tests/web (tests/run.sh does)")


def validate(items):
    """[(json pointer into the document, instance)] -> [(valid, errors)] by Ajv."""
    p = subprocess.run(["node", os.path.join(WEB_DIR, "validate_instances.mjs"), DOC_PATH],
                       input=json.dumps([{"at": a, "instance": i} for a, i in items]),
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("validator failed: " + p.stderr[-3000:])
    return [(r["valid"], r["errors"]) for r in json.loads(p.stdout)]


# -- the proto, compiled ------------------------------------------------------

def descriptor_set():
    out = os.path.join(tempfile.mkdtemp(prefix="bgw-desc-"), "contract.pb")
    subprocess.run(["protoc", "--include_imports", "--include_source_info", "--descriptor_set_out=" + out,
                    "-I" + os.path.join(PROTO_DIR, "third_party"), "-I" + PROTO_DIR, "-I/usr/include", PROTO],
                   check=True)
    fds = descriptor_pb2.FileDescriptorSet()
    with open(out, "rb") as f:
        fds.ParseFromString(f.read())
    return next(f for f in fds.file if f.name == PROTO)


def enum_info(fd):
    """{".pkg.Enum": {"names": [...], "numbers": [...], "bedrock": [...]}};
    Bedrock's spellings from the enum's leading "Bedrock: A | B" comment."""
    comments = {}
    for loc in fd.source_code_info.location:
        if len(loc.path) == 2 and loc.path[0] == 5:  # FileDescriptorProto.enum_type
            comments[loc.path[1]] = loc.leading_comments
    out = {}
    for i, e in enumerate(fd.enum_type):
        bedrock = []
        for line in comments.get(i, "").splitlines():
            line = line.strip()
            if line.startswith("Bedrock:"):
                bedrock = [w.strip().rstrip(".") for w in line[len("Bedrock:"):].split("|")]
        out[".%s.%s" % (fd.package, e.name)] = {
            "name": e.name, "names": [v.name for v in e.value], "numbers": [v.number for v in e.value],
            "bedrock": bedrock}
    return out


class Resolver:
    def __init__(self, doc):
        self.doc = doc

    def get(self, node):
        while isinstance(node, dict) and "$ref" in node:
            t = self.doc
            for part in node["$ref"][2:].split("/"):
                t = t[part.replace("~1", "/").replace("~0", "~")]
            node = t
        return node

    @staticmethod
    def ref_name(node):
        return node["$ref"].rsplit("/", 1)[1] if isinstance(node, dict) and "$ref" in node else None


def drift(doc, fd):
    """Differences between the document and the contract, as messages."""
    r = Resolver(doc)
    enums = enum_info(fd)
    msgs = {m.name: m for m in fd.message_type}
    problems = []

    def check_enum_schema(where, schema_ref, info):
        name = Resolver.ref_name(schema_ref)
        if name is None:
            problems.append("%s: enum %s must be a $ref to a component schema" % (where, info["name"]))
            return
        s = r.get(schema_ref)
        if s.get("type") != "string" or s.get("enum") != info["names"]:
            problems.append("%s: schema %s has enum %s, proto %s has %s" % (
                where, name, s.get("enum"), info["name"], info["names"]))

    def check_type(where, field, schema, in_query):
        s = r.get(schema)
        if field.label == FD.LABEL_REPEATED:
            if s.get("type") != "array":
                problems.append("%s: repeated field must be an array, is %s" % (where, s.get("type")))
                return
            items = s.get("items", {})
            want = field.type_name.rsplit(".", 1)[1]
            if Resolver.ref_name(items) != want:
                problems.append("%s: items must be $ref %s, is %s" % (where, want, items))
            return
        if field.type == FD.TYPE_MESSAGE:
            if field.type_name == ".google.protobuf.Timestamp":
                if (s.get("type"), s.get("format")) != ("string", "date-time"):
                    problems.append("%s: Timestamp must be string/date-time, is %s/%s" % (
                        where, s.get("type"), s.get("format")))
            else:
                problems.append("%s: message type %s not mapped" % (where, field.type_name))
        elif field.type == FD.TYPE_ENUM:
            info = enums[field.type_name]
            alts = s.get("anyOf") if in_query else s.get("oneOf")
            if not alts:
                problems.append("%s: enum field needs %s alternatives" % (where, "anyOf" if in_query else "oneOf"))
                return
            check_enum_schema(where, alts[0], info)
            bedrock = [a for a in alts if r.get(a).get("enum") == info["bedrock"]]
            if not info["bedrock"] or not bedrock:
                problems.append("%s: no alternative with Bedrock's spellings %s" % (where, info["bedrock"]))
            if in_query:
                prefix = os.path.commonprefix([n for n in info["names"]])
                prefix = prefix[:prefix.rfind("_") + 1]
                short = [n[len(prefix):] for n in info["names"][1:]]
                kinds = {(r.get(a).get("type"), json.dumps(r.get(a).get("enum"))) for a in alts}
                if ("string", json.dumps(short)) not in kinds:
                    problems.append("%s: no alternative with the short names %s" % (where, short))
                if ("integer", json.dumps(info["numbers"])) not in kinds:
                    problems.append("%s: no integer alternative with the numbers %s" % (where, info["numbers"]))
        elif field.type == FD.TYPE_INT32:
            if (s.get("type"), s.get("format")) != ("integer", "int32"):
                problems.append("%s: int32 must be integer/int32, is %s/%s" % (where, s.get("type"), s.get("format")))
        elif field.type == FD.TYPE_STRING:
            if s.get("type") != "string":
                problems.append("%s: string field is %s" % (where, s.get("type")))
        else:
            problems.append("%s: proto type %d not mapped" % (where, field.type))

    # Request fields <-> query parameters of the REST operation.
    op = doc["paths"][LIST_PATH]["get"]
    query = {}
    for p in op["parameters"]:
        p = r.get(p)
        if p["in"] == "query":
            query[p["name"]] = p
    req = msgs["ListModelImportJobsRequest"]
    fields = {f.json_name: f for f in req.field}
    rendering = {"enums"}  # documented options that are not request fields
    for name in sorted(set(fields) - set(query)):
        problems.append("request field %s has no query parameter" % name)
    for name in sorted(set(query) - set(fields) - rendering):
        problems.append("query parameter %s is no request field" % name)
    for name in sorted(set(fields) & set(query)):
        check_type("query %s" % name, fields[name], query[name]["schema"], True)
    if "enums" not in query or r.get(query["enums"]["schema"]).get("enum") != ["proto", "bedrock"]:
        problems.append("query parameter enums must list proto and bedrock")

    # Response and summary fields <-> schema properties.
    schemas = doc["components"]["schemas"]
    for msg in ("ListModelImportJobsResponse", "ModelImportJobSummary"):
        if msg not in schemas:
            problems.append("no schema %s" % msg)
            continue
        props = schemas[msg].get("properties", {})
        fields = {f.json_name: f for f in msgs[msg].field}
        for name in sorted(set(fields) - set(props)):
            problems.append("%s field %s has no schema property" % (msg, name))
        for name in sorted(set(props) - set(fields)):
            problems.append("%s property %s is no proto field" % (msg, name))
        for name in sorted(set(fields) & set(props)):
            check_type("%s.%s" % (msg, name), fields[name], props[name], False)
        if schemas[msg].get("additionalProperties") is not False:
            problems.append("%s must not allow other properties" % msg)
    ok = doc["paths"][LIST_PATH]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    if Resolver.ref_name(ok) != "ListModelImportJobsResponse":
        problems.append("200 of %s is not ListModelImportJobsResponse" % LIST_PATH)
    return problems


class Drift(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.doc = load_doc()
        cls.fd = descriptor_set()

    def test_document_and_proto_agree(self):
        self.assertEqual(drift(self.doc, self.fd), [])

    def test_document_path_is_the_http_annotation(self):
        """The proto's google.api.http rule (GET, its path) is the document's
        operation for the RPC, and the only non-AWS list path it has."""
        from google.api import annotations_pb2
        method = self.fd.service[0].method[0]
        self.assertEqual(method.name, "ListModelImportJobs")
        opts = descriptor_pb2.MethodOptions.FromString(method.options.SerializeToString())
        rule = opts.Extensions[annotations_pb2.http]
        self.assertEqual(rule.WhichOneof("pattern"), "get")
        self.assertEqual(rule.get, LIST_PATH)
        self.assertIn("get", self.doc["paths"][rule.get])
        self.assertEqual(set(self.doc["paths"][rule.get]) - {"get", "options", "parameters"}, set())

    def test_drift_in_either_direction_is_found(self):
        """The check itself: each kind of drift is reported."""
        cases = []
        d = copy.deepcopy(self.doc)  # a parameter gone
        d["paths"][LIST_PATH]["get"]["parameters"] = [
            p for p in d["paths"][LIST_PATH]["get"]["parameters"] if not p["$ref"].endswith("/nameContains")]
        cases.append((d, "request field nameContains has no query parameter"))
        d = copy.deepcopy(self.doc)  # a parameter the proto lacks
        d["components"]["parameters"]["extra"] = {"name": "pageSize", "in": "query", "schema": {"type": "integer"}}
        d["paths"][LIST_PATH]["get"]["parameters"].append({"$ref": "#/components/parameters/extra"})
        cases.append((d, "query parameter pageSize is no request field"))
        d = copy.deepcopy(self.doc)  # an enum value missing
        d["components"]["schemas"]["ModelImportJobStatus"]["enum"].pop()
        cases.append((d, "proto ModelImportJobStatus has"))
        d = copy.deepcopy(self.doc)  # a summary property the proto lacks
        d["components"]["schemas"]["ModelImportJobSummary"]["properties"]["jobOwner"] = {"type": "string"}
        cases.append((d, "ModelImportJobSummary property jobOwner is no proto field"))
        d = copy.deepcopy(self.doc)  # a summary field missing
        del d["components"]["schemas"]["ModelImportJobSummary"]["properties"]["endTime"]
        cases.append((d, "ModelImportJobSummary field endTime has no schema property"))
        d = copy.deepcopy(self.doc)  # a Timestamp typed wrong
        d["components"]["schemas"]["ModelImportJobSummary"]["properties"]["creationTime"] = {"type": "integer"}
        cases.append((d, "Timestamp must be string/date-time"))
        d = copy.deepcopy(self.doc)  # maxResults typed as a string
        d["components"]["parameters"]["maxResults"]["schema"] = {"type": "string"}
        cases.append((d, "query maxResults: int32 must be integer/int32"))
        for doc, want in cases:
            got = drift(doc, self.fd)
            self.assertTrue(any(want in p for p in got), (want, got))


# -- the live gateway -----------------------------------------------------------

def op_responses(doc, path, method="get"):
    return doc["paths"][path][method]["responses"]


class Live(GatewayTestCase):
    fake_args = {"generate": 40, "seed": 23}

    @classmethod
    def setUpClass(cls):
        web_ready()
        cls.doc = load_doc()
        cls.res = Resolver(cls.doc)
        super().setUpClass()

    def follow(self, ptr):
        """(final pointer, object) after following $refs from ptr."""
        while True:
            node = self.doc
            for part in ptr[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            if not (isinstance(node, dict) and "$ref" in node):
                return ptr, node
            ptr = node["$ref"]

    def check_answer(self, path, status, headers, body, method="get"):
        """The validations of one answer: its body against the documented
        schema and every documented header it carries against that header's
        schema. Returns a list of (label, pointer, instance)."""
        esc = path.replace("~", "~0").replace("/", "~1")
        resps = op_responses(self.doc, path, method)
        self.assertIn(str(status), resps, "status %s of %s %s is not documented" % (status, method, path))
        base, r = self.follow("#/paths/%s/%s/responses/%s" % (esc, method, status))
        out = []
        content = r.get("content", {})
        if body is not None:
            self.assertIn("application/json", content, "%s %s: no JSON body documented" % (path, status))
            out.append(("%s %d body" % (path, status), base + "/content/application~1json/schema", body))
        for name in r.get("headers", {}):
            value = headers.get(name.lower())
            if value is None:
                continue
            hptr, h = self.follow(base + "/headers/" + name)
            schema = self.res.get(h["schema"])
            if schema.get("type") == "integer":
                self.assertRegex(value, r"^\d+$", "%s: %s" % (name, value))
                value = int(value)
            out.append(("%s %d header %s" % (path, status, name), hptr + "/schema", value))
        return out

    def documented_headers(self, path, status, method="get"):
        esc = path.replace("~", "~0").replace("/", "~1")
        return self.follow("#/paths/%s/%s/responses/%s" % (esc, method, status))[1].get("headers", {})

    def assertValid(self, checks):
        results = validate([(a, i) for _, a, i in checks])
        bad = ["%s: %s -> %s" % (label, json.dumps(inst)[:200], errs)
               for (label, _, inst), (ok, errs) in zip(checks, results) if not ok]
        self.assertEqual(bad, [])

    def test_real_answers_validate(self):
        g = self.start_gateway(cache={"enabled": True, "ttl_ms": 60000})
        checks = []
        filters = [{}, {"statusEquals": "Completed"}, {"statusEquals": "MODEL_IMPORT_JOB_STATUS_FAILED", "sortOrder": "Ascending"},
                   {"nameContains": "a", "maxResults": 3}, {"creationTimeAfter": "2020-01-01T00:00:00Z", "sortBy": "CreationTime"},
                   {"enums": "bedrock"}, {"enums": "bedrock", "statusEquals": "InProgress"}, {"enums": "proto", "maxResults": 2}]
        statuses = {"proto": set(), "bedrock": set()}
        for q in filters:
            st, h, body = g.rest(q)
            self.assertEqual(st, 200, body)
            self.assertTrue(body["modelImportJobSummaries"], (q, body))
            checks += self.check_answer(LIST_PATH, st, h, body)
            statuses[q.get("enums", "proto")] |= {j["status"] for j in body["modelImportJobSummaries"]}
            # the same again with its ETag: 304 through the documented headers
            st2, h2, body2 = g.rest(q, headers={"If-None-Match": h["etag"]})
            self.assertEqual(st2, 304, body2)
            self.assertIsNone(body2)
            checks += self.check_answer(LIST_PATH, st2, h2, None)
        # Each rendering's values are the proto enum's / Bedrock's schema exactly.
        for s in statuses["proto"]:
            checks.append(("proto status", "#/components/schemas/ModelImportJobStatus", s))
        for s in statuses["bedrock"]:
            checks.append(("bedrock status", "#/components/schemas/ModelImportJobStatusBedrock", s))
        self.assertEqual(len(statuses["bedrock"]), 3, statuses)
        # Paging: the token of page 1 gives page 2.
        st, h, p1 = g.rest({"maxResults": 5})
        st, h, p2 = g.rest({"maxResults": 5, "nextToken": p1["nextToken"]})
        self.assertEqual(st, 200, p2)
        checks += self.check_answer(LIST_PATH, st, h, p2)
        # Errors.
        for q, key, want in (({"maxResults": 0}, "team-a", 400), ({"bogus": 1}, "team-a", 400),
                             ({"enums": "json"}, "team-a", 400), ({}, None, 401), ({}, "not-a-key", 401)):
            st, h, body = g.rest(q, key=key)
            self.assertEqual(st, want, body)
            checks += self.check_answer(LIST_PATH, st, h, body)
            self.assertEqual(h["cache-control"], "no-store")
        st, h, body = g.rest("", path="/nope")
        self.assertEqual(st, 404)
        checks.append(("404 body", "#/components/schemas/Status", body))
        for path in ("/healthz", "/readyz", "/openapi.json"):
            st, h, body = g.rest("", key=None, path=path)
            self.assertEqual(st, 200, body)
            checks += self.check_answer(path, st, h, body)
        st, h, body = g.rest("", key=None, path="/metrics")
        self.assertEqual(st, 200)
        self.assertTrue(h["content-type"].startswith("text/plain; version=0.0.4"), h)
        self.assertValid(checks)

    def test_rate_limited_answer_validates(self):
        over = base_config(self.fake.url)
        over["tenants"][0]["rate_limit"] = {"rps": 0.01, "burst": 1}
        g = self.start_gateway(cfg=over)
        st, h, body = g.rest({"maxResults": 1})
        self.assertEqual(st, 200, body)
        st, h, body = g.rest({"maxResults": 1})
        self.assertEqual(st, 429, body)
        # documented as always carrying Retry-After, and RetryInfo in the body
        hdrs = self.documented_headers(LIST_PATH, 429)
        self.assertIn("Retry-After", hdrs)
        self.assertIn("retry-after", h)
        self.assertIn("type.googleapis.com/google.rpc.RetryInfo", [d["@type"] for d in body["details"]])
        self.assertValid(self.check_answer(LIST_PATH, st, h, body))

    def test_aws_front_answers_validate(self):
        cfg = base_config(self.fake.url)
        cfg["tenants"][0]["aws_access_keys"] = [{"access_key_id": AWS_KEY[0], "secret": AWS_KEY[1]}]
        g = self.start_gateway(cfg=cfg, secrets=(AWS_KEY[1],))
        host = "127.0.0.1:%d" % g.http_port
        checks = []
        for params, want in (([("maxResults", "4"), ("statusEquals", "Completed")], 200),
                             ([("maxResults", "0")], 400)):
            q, hd = awssig.sign("GET", host, "/model-import-jobs", params, AWS_KEY[0], AWS_KEY[1], REGION)
            st, h, body = g.rest(raw_query=q, key=None, headers=hd, path="/model-import-jobs")
            self.assertEqual(st, want, body)
            checks += self.check_answer("/model-import-jobs", st, h, body)
        st, h, body = g.rest({"maxResults": 1}, key=None, path="/model-import-jobs")
        self.assertEqual(st, 403, body)
        self.assertEqual(h["x-amzn-errortype"], "MissingAuthenticationTokenException")
        checks += self.check_answer("/model-import-jobs", st, h, body)
        self.assertValid(checks)

    # -- boundaries taken from the document ---------------------------------

    def candidates(self, schema):
        """Values around every limit the (resolved) schema states."""
        s = self.res.get(schema)
        out = []
        for alt in s.get("anyOf", []) + s.get("oneOf", []):
            out += self.candidates(alt)
        if "enum" in s:
            for v in s["enum"]:
                out.append(v)
                if isinstance(v, str):
                    out += [v.lower(), v + "X"]
                else:
                    out += [v + 1, -v - 1]
        if s.get("type") == "integer":
            lo, hi = s.get("minimum"), s.get("maximum")
            for v in (lo, hi):
                if v is not None:
                    out += [v - 1, v, v + 1]
        if s.get("type") == "string" and "enum" not in s and s.get("format") != "date-time":
            lo, hi = s.get("minLength", 0), s.get("maxLength", 64)
            for n in (lo, hi, hi + 1):
                if n > 0:
                    out.append(("a1+b.c-" * 400)[:n])
            out += ["a", "9z", "a+b", "a.b-c", "-ab", ".ab", "+ab", "a b", "a_b", "a/b", "ab\u00e9", "a%b", "a--b"]
        if s.get("format") == "date-time":
            out += ["2024-05-01T12:00:00Z", "2024-05-01T12:00:00.123456789Z", "2024-05-01T12:00:00+05:30",
                    "2024-05-01T12:00:00-00:00", "2024-05-01T12:00:00", "2024-05-01", "2024-13-01T00:00:00Z",
                    "2024-02-30T00:00:00Z", "2024-05-01T25:00:00Z", "2024-05-01 12:00:00Z", "yesterday",
                    "2024-05-01T12:00:00+5:30"]
        seen, uniq = set(), []
        for v in out:
            k = json.dumps(v)
            if k not in seen:
                seen.add(k)
                uniq.append(v)
        return uniq

    def test_boundaries_are_enforced_as_documented(self):
        g = self.gw
        params = {}
        for p in self.doc["paths"][LIST_PATH]["get"]["parameters"]:
            pr = self.res.get(p)
            if pr["in"] == "query" and pr["name"] != "nextToken":
                params[pr["name"]] = (p["$ref"] + "/schema", pr["schema"])
        queue = []
        for name, (ptr, schema) in params.items():
            for v in self.candidates(schema):
                queue.append((name, ptr, v))
        self.assertGreater(len(queue), 60)
        verdicts = validate([(ptr, v) for _, ptr, v in queue])
        mismatches, accepted, refused = [], 0, 0
        for (name, _, v), (ok, errs) in zip(queue, verdicts):
            st, h, body = g.rest([(name, v)])
            if ok:
                accepted += 1
                if st != 200:
                    mismatches.append("%s=%r: document accepts, gateway %d %s" % (name, v, st, body))
            else:
                refused += 1
                if st != 400 or name not in json.dumps(body.get("details", [])):
                    mismatches.append("%s=%r: document refuses (%s), gateway %d %s" % (name, v, errs[:1], st, body))
        self.assertEqual(mismatches, [])
        self.assertGreater(accepted, 20)
        self.assertGreater(refused, 20)

    def test_next_token_limits_as_documented(self):
        ptr = "#/components/parameters/nextToken/schema"
        schema = self.res.get(self.doc["components"]["parameters"]["nextToken"])["schema"]
        st, h, p1 = self.gw.rest({"maxResults": 2})
        real = p1["nextToken"]
        long = "A" * (schema["maxLength"] + 1)
        cands = [real, long, real[:5] + " " + real[5:], real + "\t"]
        verdicts = validate([(ptr, v) for v in cands])
        self.assertEqual([ok for ok, _ in verdicts], [True, False, False, False])
        st, h, body = self.gw.rest({"maxResults": 2, "nextToken": real})
        self.assertEqual(st, 200, body)
        for v in cands[1:]:
            st, h, body = self.gw.rest({"maxResults": 2, "nextToken": v})
            self.assertStatusError(st, body, 400, 3, "nextToken")


# -- served at /openapi.json ------------------------------------------------------

class Served(GatewayTestCase):
    fake_args = {"generate": 5, "seed": 3}

    def get(self, g, headers=None, method="GET"):
        c = http.client.HTTPConnection("127.0.0.1", g.http_port, timeout=10)
        c.request(method, "/openapi.json", headers=headers or {})
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body

    def test_served_bytes_are_the_committed_file(self):
        with open(DOC_PATH, "rb") as f:
            committed = f.read()
        st, h, body = self.get(self.gw)  # no API key
        self.assertEqual(st, 200)
        self.assertEqual(body, committed)
        self.assertEqual(h["content-type"], "application/json")
        self.assertEqual(h["etag"], '"sha256:%s"' % hashlib.sha256(committed).hexdigest()[:32])
        self.assertEqual(h["cache-control"], "public, no-cache")
        self.assertEqual(h["vary"], "Origin")
        self.assertNotIn("access-control-allow-origin", h)
        st, h2, body = self.get(self.gw, {"If-None-Match": h["etag"]})
        self.assertEqual((st, body, h2["etag"]), (304, b"", h["etag"]))
        st, _, body = self.get(self.gw, {"If-None-Match": '"other", W/' + h["etag"]})
        self.assertEqual(st, 304)
        st, _, body = self.get(self.gw, {"If-None-Match": '"sha256:0000"'})
        self.assertEqual((st, body), (200, committed))
        st, h3, body = self.get(self.gw, method="HEAD")
        self.assertEqual((st, body, int(h3["content-length"])), (200, b"", len(committed)))
        st, h4, _ = self.get(self.gw, {"Origin": "https://app.example.com"})
        self.assertEqual(h4["access-control-allow-origin"], "https://app.example.com")
        st, h5, _ = self.get(self.gw, {"Origin": "https://evil.example.net"})
        self.assertEqual(st, 200)
        self.assertNotIn("access-control-allow-origin", h5)
        st, _, body = self.get(self.gw, method="DELETE")
        self.assertEqual(st, 405)
        self.assertNoUpstream()

    def test_switch_applies_on_reload(self):
        g = self.start_gateway()
        self.assertEqual(self.get(g)[0], 200)
        cfg = base_config(self.fake.url, http={"openapi_enabled": False})
        tmp = g.cfg_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(cfg, f)
        os.replace(tmp, g.cfg_path)
        n = len(g.proc.log_events("reloaded"))
        g.proc.p.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while len(g.proc.log_events("reloaded")) <= n:
            self.assertLess(time.time(), deadline, g.proc.text()[-3000:])
            time.sleep(0.02)
        self.assertEqual(self.get(g)[0], 404)

    def test_switched_off_is_404(self):
        g = self.start_gateway(http={"openapi_enabled": False})
        st, h, body = self.get(g)
        self.assertEqual(st, 404)
        self.assertEqual(json.loads(body)["code"], 5)
        st, h, body = g.rest({"maxResults": 1})  # the API itself is still there
        self.assertEqual(st, 200, body)


if __name__ == "__main__":
    unittest.main()
