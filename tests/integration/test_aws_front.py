"""The AWS-compatible front (issue 14): the unmodified AWS SDK for
JavaScript v3 (@aws-sdk/client-bedrock, pinned in
tests/interop/node/package-lock.json, installed by tests/run.sh with npm ci)
pointed at the gateway with gateway-issued access keys gets the tenant's
policy-filtered view in Bedrock's own wire format; its errors are the SDK's
named exceptions; nothing bad goes upstream. Also the emulator, checked with
the same SDK, so that it stays faithful to Bedrock."""
import datetime
import http.client
import json
import os
import shutil
import subprocess
import time
import unittest

import awssig
import harness
from harness import AKID, REGION, SECRET, GatewayTestCase, base_config, pb, sort_key
import policyutil

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop", "node")
KEY_A = ("BGWTEAMA0000000000001", "teamA-secret/0123456789+abcdefghijABCDEFGHIJ")
KEY_B = ("BGWTEAMB0000000000002", "teamB-secret/9876543210+zyxwvutsrqZYXWVUTSRQ")
KEY_C = ("BGWTEAMC0000000000003", "teamC-secret/5555555555+limitedlimitedLIMITED")
POLICY_B = {"job_name_prefixes": ["team-b-"], "statuses": ["Completed", "InProgress"],
            "redact": ["importedModelArn"], "max_results": 6}
SECRETS = (KEY_A[1], KEY_B[1], KEY_C[1])


def node_ready():
    if not shutil.which("node"):
        raise AssertionError("node is not installed: deploy/install-deps.sh installs it")
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@aws-sdk", "client-bedrock")):
        raise AssertionError("run npm ci in tests/interop/node (tests/run.sh does)")


def sdk(endpoint, key, op="list", input=None, region=REGION, **kw):
    """One run of the unmodified SDK; its JSON result line."""
    cfg = {"endpoint": endpoint, "region": region, "accessKeyId": key[0],
           "secretAccessKey": key[1], "op": op, "input": input or {}}
    cfg.update(kw)
    p = subprocess.run(["node", os.path.join(NODE_DIR, "bedrock_sdk.js"), json.dumps(cfg)],
                       capture_output=True, timeout=60)
    out = p.stdout.decode().strip().splitlines()
    if p.returncode != 0 or not out:
        raise AssertionError("node failed (%d): %s" % (p.returncode, p.stderr.decode()[-2000:]))
    return json.loads(out[-1])


def items(res):
    return [j for page in res["pages"] for j in page.get("modelImportJobSummaries", [])]


def front_config(fake_url, **over):
    cfg = base_config(fake_url, **over)
    tenants = cfg["tenants"]
    tenants[0]["aws_access_keys"] = [{"access_key_id": KEY_A[0], "secret": KEY_A[1]}]
    tenants[0]["policy"] = {"job_name_prefixes": ["team-a-", "shared-"]}
    tenants[1]["aws_access_keys"] = [{"access_key_id": KEY_B[0], "secret_env": "BGW_TEST_KEY_B"}]
    tenants[1]["policy"] = POLICY_B
    tenants.append({"id": "team-c", "rate_limit": {"rps": 0.01, "burst": 1},
                    "aws_access_keys": [{"access_key_id": KEY_C[0], "secret": KEY_C[1]}]})
    return cfg


class AwsFront(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        node_ready()
        cls.tmp = __import__("tempfile").mkdtemp(prefix="bgw-aws-")
        cls.fake = harness.Fake(cls.tmp)
        try:
            cls.gw = harness.Gateway(cls.tmp, front_config(cls.fake.url,
                                                           cache={"enabled": True, "ttl_ms": 60000}),
                                     env_extra={"BGW_TEST_KEY_B": KEY_B[1]})
        except BaseException:
            cls.fake.proc.stop()
            raise
        cls.endpoint = "http://127.0.0.1:%d" % cls.gw.http_port

    @classmethod
    def tearDownClass(cls):
        try:
            rc = cls.gw.stop()
        finally:
            cls.fake.stop()
        log = cls.gw.proc.text()
        assert rc == 0, log[-3000:]
        harness.assert_log_clean(log, secrets=SECRETS)
        for s in SECRETS:
            assert s not in log

    def setUp(self):
        self.fake.reset()

    def expected(self, policy, filters=None, order="Descending"):
        return policyutil.expected_arns(self.fake.jobs(), policy, dict(filters or {}, sortOrder=order))

    def sdk(self, key, op="list", input=None, **kw):
        return sdk(self.endpoint, key, op, input, **kw)

    # -- the contract -----------------------------------------------------------
    def test_list_with_every_filter_enum_and_time_form(self):
        policy_a = {"job_name_prefixes": ["team-a-", "shared-"]}
        cases = [
            ({}, {}),
            ({"statusEquals": "InProgress"}, {"statusEquals": "InProgress"}),
            ({"statusEquals": "Completed", "sortOrder": "Ascending", "sortBy": "CreationTime"},
             {"statusEquals": "Completed"}),
            ({"statusEquals": "Failed", "sortOrder": "Descending"}, {"statusEquals": "Failed"}),
            ({"nameContains": "llama"}, {"nameContains": "llama"}),
            ({"creationTimeAfter": "2024-06-01T00:00:00Z", "creationTimeBefore": "2025-06-01T12:30:00.250Z"},
             {"creationTimeAfter": "2024-06-01T00:00:00Z", "creationTimeBefore": "2025-06-01T12:30:00.250Z"}),
            ({"creationTimeAfter": 1735689600000}, {"creationTimeAfter": "2025-01-01T00:00:00Z"}),
        ]
        for inp, filters in cases:
            with self.subTest(input=inp):
                self.fake.reset()
                res = self.sdk(KEY_A, input=dict(inp, maxResults=1000))
                self.assertTrue(res["ok"], res)
                order = inp.get("sortOrder", "Descending")
                want = self.expected(policy_a, filters, order)
                got = items(res)
                self.assertEqual([j["jobArn"] for j in got], want)
                self.assertNotIn("nextToken", res["pages"][0])
                # what went upstream: Bedrock's names and spellings
                for r in self.fake.api_requests():
                    for k, v in filters.items():
                        if k in ("statusEquals", "nameContains"):
                            self.assertEqual(r["query"].get(k), v)
        # the shapes the SDK parsed: Dates, enum strings, every member
        by_arn = {j["jobArn"]: j for j in self.fake.jobs()}
        res = self.sdk(KEY_A, input={"maxResults": 50})
        for j in items(res):
            up = by_arn[j["jobArn"]]
            self.assertEqual(j["jobName"], up["jobName"])
            self.assertEqual(j["status"], up["status"])
            for k in ("creationTime", "lastModifiedTime", "endTime"):
                if k in up:
                    self.assertEqual(harness.parse_ts(j[k]), harness.parse_ts(up[k]), k)
            for k in ("importedModelArn", "importedModelName"):
                self.assertEqual(j.get(k), up.get(k))
        self.assertTrue(res["requestIds"][0].startswith("a"))

    def test_upstream_is_signed_with_the_central_credentials_and_cached(self):
        res = self.sdk(KEY_A, input={"maxResults": 9, "nameContains": "shared"})
        self.assertTrue(res["ok"], res)
        again = self.sdk(KEY_A, input={"maxResults": 9, "nameContains": "shared"})
        self.assertEqual(items(again), items(res))
        reqs = self.fake.api_requests()
        self.assertEqual(len(reqs), 1, "the second call is a cache hit")
        self.assertTrue(reqs[0]["signature_ok"])
        auth = reqs[0]["headers"]["authorization"]
        self.assertIn("Credential=" + AKID + "/", auth)
        self.assertNotIn(KEY_A[0], json.dumps(reqs))

    def rest_walk(self, key, page):
        arns, token = [], None
        while True:
            q = {"maxResults": page}
            if token:
                q["nextToken"] = token
            st, _, body = self.gw.rest(q, key=key)
            self.assertEqual(st, 200, body)
            arns += [j["jobArn"] for j in body["modelImportJobSummaries"]]
            token = body.get("nextToken")
            if not token:
                return arns

    def grpc_walk(self, key, page):
        arns, token = [], ""
        while True:
            resp, _ = self.gw.grpc(pb.ListModelImportJobsRequest(max_results=page, next_token=token),
                                   key=key)
            arns += [j.job_arn for j in resp.model_import_job_summaries]
            token = resp.next_token
            if not token:
                return arns

    def test_paginator_walks_the_policy_view_like_rest_and_grpc(self):
        res = self.sdk(KEY_B, op="paginate", pageSize=7)
        self.assertTrue(res["ok"], res)
        got = [j["jobArn"] for j in items(res)]
        want = self.expected(POLICY_B)
        self.assertEqual(got, want)
        self.assertEqual(len(set(got)), len(got))
        self.assertGreater(len(res["pages"]), 2)
        for page in res["pages"]:  # the tenant's page size clamps the SDK's 7
            self.assertLessEqual(len(page.get("modelImportJobSummaries", [])), 6)
        for j in items(res):
            self.assertNotIn("importedModelArn", j)  # redacted by team-b's policy
            self.assertIn(j["status"], ("Completed", "InProgress"))
        self.assertEqual(self.rest_walk("team-b", 7), want)
        self.assertEqual(self.grpc_walk("team-b", 7), want)

    # -- refusals: the SDK's named exceptions, nothing upstream ----------------
    def assertRefused(self, res, name, status):
        self.assertFalse(res["ok"], res)
        self.assertEqual(res["name"], name, res)
        self.assertEqual(res["httpStatusCode"], status, res)
        self.assertEqual(self.fake.api_requests(), [], "nothing goes upstream")

    def test_wrong_secret_unknown_key_skew_and_region_are_refused(self):
        self.assertRefused(self.sdk((KEY_A[0], "not-the-secret-0123456789")),
                           "InvalidSignatureException", 403)
        self.assertRefused(self.sdk(("BGWUNKNOWN0000000009", KEY_A[1])),
                           "UnrecognizedClientException", 403)
        self.assertRefused(self.sdk(KEY_A, clockOffsetMs=10 * 60 * 1000),
                           "InvalidSignatureException", 403)
        self.assertRefused(self.sdk(KEY_A, clockOffsetMs=-10 * 60 * 1000),
                           "InvalidSignatureException", 403)
        self.assertRefused(self.sdk(KEY_A, region="eu-central-1"), "InvalidSignatureException", 403)
        # inside the 5-minute window is accepted, as AWS accepts it
        ok = self.sdk(KEY_A, clockOffsetMs=-4 * 60 * 1000, input={"maxResults": 1})
        self.assertTrue(ok["ok"], ok)

    def test_another_tenants_page_token_is_refused(self):
        a = self.sdk(KEY_A, input={"maxResults": 2})
        token = a["pages"][0]["nextToken"]
        self.fake.reset()
        res = self.sdk(KEY_B, input={"maxResults": 2, "nextToken": token})
        self.assertRefused(res, "ValidationException", 400)
        self.assertIn("nextToken", res["message"])

    def test_bad_input_is_a_validation_exception(self):
        res = self.sdk(KEY_A, input={"maxResults": 5000})
        self.assertRefused(res, "ValidationException", 400)
        self.assertIn("maxResults", res["message"])

    def test_rate_limit_is_a_throttling_exception(self):
        first = self.sdk(KEY_C, input={"maxResults": 1})
        self.assertTrue(first["ok"], first)
        self.fake.reset()
        res = self.sdk(KEY_C, input={"maxResults": 1})
        self.assertRefused(res, "ThrottlingException", 429)
        q, hd = awssig.sign("GET", self.host(), "/model-import-jobs", [("maxResults", "1")],
                            KEY_C[0], KEY_C[1], REGION)
        st, h, body = self.raw(q, hd)
        self.assertEqual((st, h.get("x-amzn-errortype")), (429, "ThrottlingException"))
        self.assertGreaterEqual(int(h["retry-after"]), 1)
        self.assertIn("rate limit", body["message"])

    def test_audit_line_names_the_key_never_the_secret_or_signature(self):
        res = self.sdk(KEY_A, input={"maxResults": 3})
        rid = res["requestIds"][0]
        e = self.gw.wait_access(lambda e: e.get("request_id") == rid)
        self.assertEqual(e["transport"], "aws")
        self.assertEqual(e["auth"], "sigv4")
        self.assertEqual(e["access_key_id"], KEY_A[0])
        self.assertEqual(e["tenant"], "team-a")
        bad = self.sdk((KEY_A[0], "not-the-secret-0123456789"))
        e = self.gw.wait_access(lambda e: e.get("request_id") == bad["requestId"])
        self.assertEqual(e["code"], "UNAUTHENTICATED")
        self.assertEqual(e["access_key_id"], KEY_A[0])
        log = self.gw.proc.text()
        self.assertNotIn("Signature=", log)
        for s in SECRETS:
            self.assertNotIn(s, log)

    # -- raw requests: presigned URLs, missing or broken signatures ------------
    def raw(self, query, headers=None, method="GET"):
        c = http.client.HTTPConnection("127.0.0.1", self.gw.http_port, timeout=10)
        c.request(method, "/model-import-jobs" + ("?" + query if query else ""), headers=headers or {})
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, json.loads(body) if body else None

    def host(self):
        return "127.0.0.1:%d" % self.gw.http_port

    def test_presigned_query_and_header_signatures_from_another_signer(self):
        q = awssig.presign("GET", self.host(), "/model-import-jobs", [("maxResults", "13"), ("nameContains", "e")], KEY_A[0],
                           KEY_A[1], REGION)
        st, h, body = self.raw(q)
        self.assertEqual(st, 200, body)
        self.assertLessEqual(len(body["modelImportJobSummaries"]), 13)
        self.assertIn("x-amzn-requestid", h)
        old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=120)
        q = awssig.presign("GET", self.host(), "/model-import-jobs", [("maxResults", "13"), ("nameContains", "e")], KEY_A[0],
                           KEY_A[1], REGION, expires=60, when=old)
        st, h, body = self.raw(q)
        self.assertEqual((st, h.get("x-amzn-errortype")), (403, "InvalidSignatureException"))
        self.assertIn("expired", body["message"])
        q, hd = awssig.sign("GET", self.host(), "/model-import-jobs", [("maxResults", "17"), ("nameContains", "e")], KEY_B[0],
                            KEY_B[1], REGION)
        st, _, body = self.raw(q, hd)
        self.assertEqual(st, 200, body)
        before = len(self.fake.api_requests())
        st, h, _ = self.raw(q.replace("maxResults=17", "maxResults=16"), hd)  # tampered
        self.assertEqual((st, h.get("x-amzn-errortype")), (403, "InvalidSignatureException"))
        self.assertEqual(len(self.fake.api_requests()), before, "nothing upstream")

    def test_missing_and_malformed_signatures(self):
        st, h, body = self.raw("maxResults=2")
        self.assertEqual((st, h.get("x-amzn-errortype")), (403, "MissingAuthenticationTokenException"))
        self.assertIn("message", body)
        st, h, _ = self.raw("maxResults=2", {"authorization": "AWS4-HMAC-SHA256 Credential=x"})
        self.assertEqual((st, h.get("x-amzn-errortype")), (400, "IncompleteSignatureException"))
        st, h, _ = self.raw("maxResults=2", {"x-api-key": harness.KEYS["team-a"]})
        self.assertEqual((st, h.get("x-amzn-errortype")), (403, "MissingAuthenticationTokenException"))
        # a parameter without '=' (a fuzzer found it crashed the parser)
        st, h, _ = self.raw("flag&maxResults=2&X-Amz-Algorithm")
        self.assertIn(st, (400, 403))
        q = awssig.presign("GET", self.host(), "/model-import-jobs", [("maxResults", "1")],
                           KEY_A[0], KEY_A[1], REGION)
        st, _, _ = self.raw("flag&" + q)
        self.assertEqual(st, 403, "a parameter the signature did not cover")
        q, hd = awssig.sign("GET", self.host(), "/model-import-jobs", [("maxResults", "2")], KEY_B[0],
                            KEY_B[1], REGION)
        hd["content-length"] = "2"
        c = http.client.HTTPConnection("127.0.0.1", self.gw.http_port, timeout=10)
        c.request("GET", "/model-import-jobs?" + q, body=b"{}", headers=hd)
        r = c.getresponse()
        r.read()
        c.close()
        self.assertEqual((r.status, r.getheader("x-amzn-errortype")),
                         (400, "IncompleteSignatureException"), "a body nothing verifies")
        st, h, _ = self.raw("", method="DELETE")
        self.assertEqual(st, 400)
        self.assertEqual(h.get("x-amzn-errortype"), "ValidationException")
        self.assertEqual(self.fake.api_requests(), [])


class KeygenAndReload(unittest.TestCase):
    """bedrockgw keygen mints the keys; a SIGHUP puts them to work and takes
    them away."""

    def test_keygen_then_reload_adds_and_removes_a_key(self):
        node_ready()
        tmp = __import__("tempfile").mkdtemp(prefix="bgw-keygen-")
        fake = harness.Fake(tmp)
        self.addCleanup(fake.stop)
        gw = harness.Gateway(tmp, base_config(fake.url))
        endpoint = "http://127.0.0.1:%d" % gw.http_port
        keydir = os.path.join(tmp, "keys")
        os.makedirs(keydir)
        p = subprocess.run([os.path.join(harness.BIN, "bedrockgw"), "keygen", "--tenant", "team-k",
                            "--out-dir", keydir], capture_output=True, timeout=10)
        self.assertEqual(p.returncode, 0, p.stderr)
        snippet = json.loads(p.stdout)
        secret_file = snippet["aws_access_keys"][0]["secret_file"]
        akid = snippet["aws_access_keys"][0]["access_key_id"]
        with open(secret_file) as f:
            secret = f.read().strip()
        with open(os.path.join(keydir, "team-k.api-key")) as f:
            api_key = f.read().strip()
        for path in (secret_file, os.path.join(keydir, "team-k.api-key")):
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertNotIn(secret.encode(), p.stdout + p.stderr)
        self.assertNotIn(api_key.encode(), p.stdout + p.stderr)
        again = subprocess.run([os.path.join(harness.BIN, "bedrockgw"), "keygen", "--tenant",
                                "team-k", "--out-dir", keydir], capture_output=True, timeout=10)
        self.assertEqual(again.returncode, 1, "never overwrites a secret file")
        self.assertRefusedKey(sdk(endpoint, (akid, secret), input={"maxResults": 1}))

        def reload(cfg):
            n = len(gw.proc.log_events("reloaded"))
            with open(gw.cfg_path, "w") as f:
                json.dump(cfg, f)
            gw.proc.p.send_signal(__import__("signal").SIGHUP)
            deadline = time.time() + 10
            while len(gw.proc.log_events("reloaded")) == n:
                self.assertLess(time.time(), deadline, gw.proc.text()[-2000:])
                time.sleep(0.05)
        cfg = base_config(fake.url)
        cfg["tenants"].append(dict(snippet, policy={"job_name_prefixes": ["shared-"]}))
        reload(cfg)
        res = sdk(endpoint, (akid, secret), op="paginate", pageSize=50)
        self.assertTrue(res["ok"], res)
        names = [j["jobName"] for j in items(res)]
        self.assertTrue(names and all(n.startswith("shared-") for n in names))
        st, _, body = gw.rest({"maxResults": 2}, key=api_key)
        self.assertEqual(st, 200, body)
        reload(base_config(fake.url))
        self.assertRefusedKey(sdk(endpoint, (akid, secret), input={"maxResults": 1}))
        self.assertEqual(gw.stop(), 0)
        harness.assert_log_clean(gw.proc.text(), secrets=(secret, api_key))

    def assertRefusedKey(self, res):
        self.assertFalse(res["ok"], res)
        self.assertEqual(res["name"], "UnrecognizedClientException", res)


class EmulatorWithSdk(unittest.TestCase):
    """The bundled Bedrock emulator, called by the same unmodified SDK
    pointed straight at it: its answers and injected faults parse into the
    SDK's shapes and named exceptions."""

    @classmethod
    def setUpClass(cls):
        node_ready()
        cls.tmp = __import__("tempfile").mkdtemp(prefix="bgw-emu-")
        cls.fake = harness.Fake(cls.tmp)
        cls.key = (AKID, SECRET)

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def test_pages_and_faults_parse_like_bedrock(self):
        res = sdk(self.fake.url, self.key, op="paginate", pageSize=40)
        self.assertTrue(res["ok"], res)
        want = [j["jobArn"] for j in sorted(self.fake.jobs(), key=sort_key, reverse=True)]
        self.assertEqual([j["jobArn"] for j in items(res)], want)
        for kind, name, status in (("throttle", "ThrottlingException", 429),
                                   ("validation", "ValidationException", 400),
                                   ("access_denied", "AccessDeniedException", 403),
                                   ("internal", "InternalServerException", 500)):
            self.fake.fault(kind)
            r = sdk(self.fake.url, self.key, input={"maxResults": 1})
            self.assertFalse(r["ok"], r)
            self.assertEqual((r["name"], r["httpStatusCode"]), (name, status), r)
        r = sdk(self.fake.url, (AKID, "wrong-secret-0123456789"), input={"maxResults": 1})
        self.assertEqual(r["name"], "InvalidSignatureException", r)


if __name__ == "__main__":
    unittest.main()
