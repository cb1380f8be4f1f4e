"""Test harness: starts the real fake-bedrock and the real bedrockgw on free
ports and gives tests a REST client, a gRPC client (generated from proto/ by
the standard protoc) and a handle on the emulator's control plane.

Environment (set by ctest, see CMakeLists.txt):
  BGW_BIN_DIR   directory holding bedrockgw and fake-bedrock
  BGW_PY_GEN    directory holding the protoc-generated *_pb2.py modules
"""
import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.environ.get("BGW_PY_GEN", ""))

import grpc  # noqa: E402
from google.protobuf import timestamp_pb2  # noqa: E402,F401
from bedrockgw.v1 import model_import_jobs_pb2 as pb  # noqa: E402

BIN = os.environ.get("BGW_BIN_DIR", "build/bin")
AKID = "AKIDBGWTEST0000001"
SECRET = "bgw-test-secret/Example+Key=0123456789"
REGION = "us-west-2"
METHOD = "/bedrockgw.v1.ModelImportJobs/ListModelImportJobs"

KEYS = {"team-a": "key-team-a-0123456789", "team-b": "key-team-b-9876543210"}


def sha256_hex(s):
    return hashlib.sha256(s.encode()).hexdigest()


# Text that must never appear in a process log: sanitizer reports (ASan/UBSan
# builds) and, for the gateway, secret material.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def assert_log_clean(log, what="gateway", secrets=(), check_secrets=True):
    """Raises AssertionError if log holds a sanitizer report or (for the
    gateway) the AWS secret, a SigV4 signature or an API key."""
    for m in SANITIZER_MARKERS:
        if m in log:
            raise AssertionError("%s log has a sanitizer report (%r):\n%s" % (what, m, log[-6000:]))
    if not check_secrets:
        return
    for s in (SECRET,) + tuple(secrets):
        if s and s in log:
            raise AssertionError("AWS secret material in %s log" % what)
    if "Signature=" in log:
        raise AssertionError("SigV4 signature in %s log" % what)
    for k in KEYS.values():
        if k in log:
            raise AssertionError("API key in %s log" % what)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ts_to_rfc3339(seconds, nanos):
    """proto3 JSON form of a Timestamp (the standard library's printer)."""
    t = timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)
    return t.ToJsonString()


def parse_ts(text):
    """ISO 8601 / RFC 3339 text (offsets and fractions allowed) -> (seconds,
    nanos), by the standard protobuf library."""
    t = timestamp_pb2.Timestamp()
    t.FromJsonString(text)
    return t.seconds, t.nanos


class Proc:
    """A child process whose output goes to a file; waits for a JSON line
    with "event":"ready"."""

    def __init__(self, argv, env, log_path, ready_stream="stderr", timeout=15):
        self.log_path = log_path
        self.log = open(log_path, "w+b")
        kw = {"stdout": self.log, "stderr": subprocess.STDOUT}
        self.p = subprocess.Popen(argv, env=env, **kw)
        self.ready = self._wait_ready(timeout)

    def _wait_ready(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.p.poll() is not None:
                raise RuntimeError("%s exited (%s):\n%s" % (self.p.args[0], self.p.returncode, self.text()))
            for line in self.text().splitlines():
                if '"ready"' in line:
                    try:
                        obj = json.loads(line)
                    except ValueError:
                        continue
                    if obj.get("event") == "ready":
                        return obj
            time.sleep(0.02)
        raise RuntimeError("%s not ready in %ss:\n%s" % (self.p.args[0], timeout, self.text()))

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_events(self, event=None):
        out = []
        for line in self.text().splitlines():
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if event is None or obj.get("event") == event:
                out.append(obj)
        return out

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                raise AssertionError("%s did not stop within %ss" % (self.p.args[0], timeout))
        self.log.close()
        return self.p.returncode


class Fake:
    def __init__(self, tmp, generate=120, seed=7, extra=(), env_extra=None):
        env = dict(os.environ)
        env.update(env_extra or {})
        argv = [os.path.join(BIN, "fake-bedrock"), "--listen", "127.0.0.1:0", "--region", REGION,
                "--access-key", AKID, "--secret-key", SECRET]
        if generate:
            argv += ["--generate", str(generate), "--seed", str(seed)]
        argv += list(extra)
        self.proc = Proc(argv, env, os.path.join(tmp, "fake.log"), timeout=15)
        self.port = self.proc.ready["port"]
        self.url = "http://127.0.0.1:%d" % self.port

    def _call(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        data = json.dumps(body).encode() if body is not None else None
        c.request(method, path, body=data, headers={"content-type": "application/json"} if data else {})
        r = c.getresponse()
        raw = r.read()
        c.close()
        if r.status >= 300:
            raise RuntimeError("fake control %s %s -> %d %s" % (method, path, r.status, raw))
        return json.loads(raw) if raw else None

    def requests(self):
        return self._call("GET", "/_fake/requests")["requests"]

    def api_requests(self):
        return [r for r in self.requests() if r["path"].endswith("/model-import-jobs")]

    def counters(self):
        return self._call("GET", "/_fake/counters")

    def reset(self):
        self._call("POST", "/_fake/reset")

    def fault(self, kind, count=1, **kw):
        body = {"kind": kind, "count": count}
        body.update(kw)
        self._call("POST", "/_fake/faults", body)

    def set_jobs(self, jobs):
        self._call("PUT", "/_fake/jobs", {"modelImportJobSummaries": jobs})

    def set_generated(self, n, seed):
        self._call("PUT", "/_fake/jobs", {"generate": n, "seed": seed})

    def jobs(self):
        """The emulator's whole data set (upstream JSON objects)."""
        return self._call("GET", "/_fake/jobs")["modelImportJobSummaries"]

    def stop(self):
        rc = self.proc.stop()
        assert_log_clean(self.proc.text(), "fake-bedrock", check_secrets=False)
        return rc


def base_config(fake_url, **over):
    cfg = {
        "grpc": {"listen": "127.0.0.1:0"},
        "http": {"listen": "127.0.0.1:0", "cors_allowed_origins": ["https://app.example.com"]},
        "aws": {"region": REGION, "endpoint": fake_url, "timeout_ms": 5000},
        "gateway": {"default_page_size": 25, "shutdown_grace_ms": 3000, "shutdown_unready_ms": 0},
        # The response cache would answer repeated queries without the
        # upstream these suites assert on; test_cache*.py turn it on.
        "cache": {"enabled": False},
        "tenants": [{"id": t, "api_keys": [sha256_hex(k)]} for t, k in sorted(KEYS.items())],
    }
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(cfg.get(k), dict):
            cfg[k].update(v)
        else:
            cfg[k] = v
    return cfg


class Gateway:
    def __init__(self, tmp, cfg, env_extra=None, creds=True, wrapper=()):
        self.cfg_path = os.path.join(tmp, "gateway.json")
        with open(self.cfg_path, "w") as f:
            json.dump(cfg, f)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["GRPC_DNS_RESOLVER"] = "native"
        if creds:
            env["AWS_ACCESS_KEY_ID"] = AKID
            env["AWS_SECRET_ACCESS_KEY"] = SECRET
        env.update(env_extra or {})
        self.proc = Proc(list(wrapper) + [os.path.join(BIN, "bedrockgw"), "--config", self.cfg_path],
                         env, os.path.join(tmp, "gateway.log"))
        self.http_port = self.proc.ready["http_port"]
        self.grpc_port = self.proc.ready["grpc_port"]
        self.channel = grpc.insecure_channel("127.0.0.1:%d" % self.grpc_port)
        self.list_rpc = self.channel.unary_unary(
            METHOD, request_serializer=pb.ListModelImportJobsRequest.SerializeToString,
            response_deserializer=pb.ListModelImportJobsResponse.FromString)

    # -- REST -------------------------------------------------------------
    def rest(self, query="", key="team-a", method="GET", headers=None, path="/v1/model-import-jobs",
             raw_query=None):
        """query: dict/list of pairs (urlencoded with quote, so '+' -> %2B) or a raw string."""
        if raw_query is None:
            if isinstance(query, (dict, list)):
                items = query.items() if isinstance(query, dict) else query
                raw_query = "&".join("%s=%s" % (urllib.parse.quote(k, safe=""), urllib.parse.quote(str(v), safe=""))
                                     for k, v in items)
            else:
                raw_query = query
        target = path + ("?" + raw_query if raw_query else "")
        h = {}
        if key:
            h["x-api-key"] = KEYS.get(key, key)
        h.update(headers or {})
        c = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=20)
        c.request(method, target, headers=h)
        r = c.getresponse()
        body = r.read()
        c.close()
        self.last_raw = body
        parsed = None
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = body
        return r.status, {k.lower(): v for k, v in r.getheaders()}, parsed

    # -- gRPC -------------------------------------------------------------
    def grpc(self, req=None, key="team-a", timeout=20, metadata=None, bearer=True):
        md = list(metadata or [])
        if key:
            k = KEYS.get(key, key)
            md.append(("authorization", "Bearer " + k) if bearer else ("x-api-key", k))
        return self.list_rpc.with_call(req or pb.ListModelImportJobsRequest(), timeout=timeout, metadata=md)

    def grpc_future(self, req=None, key="team-a", timeout=20, metadata=None, bearer=True):
        md = list(metadata or [])
        if key:
            k = KEYS.get(key, key)
            md.append(("authorization", "Bearer " + k) if bearer else ("x-api-key", k))
        return self.list_rpc.future(req or pb.ListModelImportJobsRequest(), timeout=timeout, metadata=md)

    def health(self, timeout=5):
        """grpc.health.v1.Health/Check with an empty request; raw response bytes."""
        rpc = self.channel.unary_unary("/grpc.health.v1.Health/Check",
                                       request_serializer=lambda b: b, response_deserializer=lambda b: b)
        return rpc(b"", timeout=timeout)

    def access_events(self):
        # Access lines are written once per loop turn, right after the
        # answers of that turn went out: give the turn a moment to end.
        time.sleep(0.05)
        return self.proc.log_events("access")

    def wait_access(self, pred, timeout=3.0):
        """The first access-log event for which pred(event) holds (polls)."""
        deadline = time.time() + timeout
        while True:
            for e in self.access_events():
                if pred(e):
                    return e
            if time.time() > deadline:
                raise AssertionError("no matching access event in gateway log:\n%s" % self.proc.text()[-4000:])
            time.sleep(0.02)

    def send_signal(self, sig=signal.SIGTERM):
        """Signals the gateway without waiting (see stop for that)."""
        self.signalled = True
        self.proc.p.send_signal(sig)

    def stop(self, sig=signal.SIGTERM):
        self.channel.close()
        if getattr(self, "signalled", False) and self.proc.p.poll() is None:
            # Already told to stop: give it its grace period before another
            # signal (which would force it) is sent.
            try:
                self.proc.p.wait(15)
            except subprocess.TimeoutExpired:
                pass
        return self.proc.stop(sig)


class GatewayTestCase(unittest.TestCase):
    """One fake + one gateway per test class; the fake is reset before each test."""
    fake_args = {}
    config_over = {}

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="bgw-it-")
        cls.fake = Fake(cls.tmp, **cls.fake_args)
        try:
            cls.gw = Gateway(cls.tmp, base_config(cls.fake.url, **cls.config_over))
        except BaseException:
            cls.fake.proc.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            rc = cls.gw.stop()
        finally:
            fake_rc = cls.fake.stop()
        log = cls.gw.proc.text()
        assert rc == 0, "gateway exit code %s\n%s" % (rc, log[-4000:])
        assert_log_clean(log)
        assert fake_rc == 0, "fake-bedrock exit code %s\n%s" % (fake_rc, cls.fake.proc.text()[-4000:])

    def setUp(self):
        self.fake.reset()

    # -- more gateways ------------------------------------------------------
    def start_gateway(self, cfg=None, env_extra=None, creds=True, secrets=(), wrapper=(), **over):
        """Another gateway (own directory, own log), stopped and checked (exit
        0, clean log) at the end of the test. cfg: a whole config, else
        base_config(this class's fake, **over)."""
        d = tempfile.mkdtemp(prefix="gw-", dir=self.tmp)
        g = Gateway(d, cfg if cfg is not None else base_config(self.fake.url, **over),
                    env_extra=env_extra, creds=creds, wrapper=wrapper)

        def finish():
            rc = g.stop()
            self.assertEqual(rc, 0, "extra gateway exit code\n" + g.proc.text()[-4000:])
            assert_log_clean(g.proc.text(), secrets=secrets)
        self.addCleanup(finish)
        return g

    # -- what the upstream saw ----------------------------------------------
    def assertNoUpstream(self):
        reqs = self.fake.api_requests()
        self.assertEqual(reqs, [], "the upstream must receive nothing")

    def one_upstream(self):
        """The one API request the emulator received, checked for being a
        correctly signed GET /model-import-jobs."""
        reqs = self.fake.api_requests()
        self.assertEqual(len(reqs), 1, reqs)
        r = reqs[0]
        self.assertSigned(r)
        return r

    def assertSigned(self, r, ok=True):
        self.assertEqual(r["method"], "GET")
        self.assertEqual(r["path"], "/model-import-jobs")
        h = r["headers"]
        for name in ("host", "x-amz-date", "authorization"):
            self.assertIn(name, h, r)
        self.assertRegex(h["x-amz-date"], r"^\d{8}T\d{6}Z$")
        self.assertTrue(h["authorization"].startswith("AWS4-HMAC-SHA256 Credential=%s/" % AKID), h)
        self.assertIn("/%s/bedrock/aws4_request" % REGION, h["authorization"])
        self.assertEqual(h["host"], "127.0.0.1:%d" % self.fake.port)
        self.assertIs(r["signature_ok"], ok, r)

    def assertStatusError(self, status, body, http_status, grpc_code, field=None):
        self.assertEqual(status, http_status, body)
        self.assertIsInstance(body, dict, body)
        self.assertEqual(body["code"], grpc_code, body)
        self.assertTrue(body["message"], body)
        if field:
            self.assertIn(field, body["message"])
            fv = [v for d in body.get("details", []) for v in d.get("fieldViolations", [])]
            self.assertIn(field, [v["field"] for v in fv], body)

    def assertRpcError(self, ctx_exc, code, field=None):
        e = ctx_exc
        self.assertEqual(e.code(), code, e.details())
        self.assertTrue(e.details())
        if field:
            self.assertIn(field, e.details())


# -- a data set with known values ---------------------------------------------
# Upstream JSON as Bedrock might send it: offsets and fractions in the times,
# fields the contract does not know. PUT it with fake.set_jobs(KNOWN_JOBS).
ARN = "arn:aws:bedrock:%s:123456789012:" % REGION
KNOWN_JOBS = [
    {"jobArn": ARN + "model-import-job/alpha0000001", "jobName": "alpha+v1.release", "status": "Completed",
     "creationTime": "2024-05-01T12:00:00.5+02:00", "lastModifiedTime": "2024-05-02T00:00:00Z",
     "endTime": "2024-05-02T00:00:00.000001Z",
     "importedModelArn": ARN + "imported-model/alphamodel01", "importedModelName": "alpha-imported",
     "modelArchitecture": "llama", "vpcConfig": {"subnetIds": ["subnet-1"], "securityGroupIds": []}},
    {"jobArn": ARN + "model-import-job/beta00000002", "jobName": "beta-2", "status": "InProgress",
     "creationTime": "2024-05-03T08:30:00.123456789-05:30", "lastModifiedTime": "2024-05-03T14:00:01.120Z",
     "unknownFlag": True, "somethingNew": None},
    {"jobArn": ARN + "model-import-job/gamma0000003", "jobName": "gamma", "status": "Failed",
     "creationTime": "2024-04-30T23:59:59Z", "lastModifiedTime": "2024-05-01T00:10:00+00:00",
     "endTime": "2024-05-01T05:40:00.25+05:30", "failureMessage": "model weights not found"},
]
STATUS_ENUM = {"InProgress": pb.MODEL_IMPORT_JOB_STATUS_IN_PROGRESS, "Completed": pb.MODEL_IMPORT_JOB_STATUS_COMPLETED,
               "Failed": pb.MODEL_IMPORT_JOB_STATUS_FAILED}
TIME_FIELDS = ("lastModifiedTime", "creationTime", "endTime")


def sort_key(job):
    return parse_ts(job["creationTime"]) + (job["jobArn"],)


def expected_json(job):
    """The proto3 JSON a standard client expects for one upstream job."""
    out = {"jobArn": job["jobArn"], "jobName": job["jobName"],
           "status": pb.ModelImportJobStatus.Name(STATUS_ENUM[job["status"]])}
    for k in TIME_FIELDS:
        if job.get(k) is not None:
            out[k] = ts_to_rfc3339(*parse_ts(job[k]))
    for k in ("importedModelArn", "importedModelName"):
        if job.get(k):
            out[k] = job[k]
    return out


def expected_pb(job):
    """The typed message a gRPC client expects for one upstream job."""
    m = pb.ModelImportJobSummary(job_arn=job["jobArn"], job_name=job["jobName"], status=STATUS_ENUM[job["status"]],
                                 imported_model_arn=job.get("importedModelArn", ""),
                                 imported_model_name=job.get("importedModelName", ""))
    for k, f in (("lastModifiedTime", "last_modified_time"), ("creationTime", "creation_time"),
                 ("endTime", "end_time")):
        if job.get(k) is not None:
            s, n = parse_ts(job[k])
            getattr(m, f).seconds = s
            getattr(m, f).nanos = n
    return m
