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

    def stop(self):
        return self.proc.stop()


def base_config(fake_url, **over):
    cfg = {
        "grpc": {"listen": "127.0.0.1:0"},
        "http": {"listen": "127.0.0.1:0", "cors_allowed_origins": ["https://app.example.com"]},
        "aws": {"region": REGION, "endpoint": fake_url, "timeout_ms": 5000},
        "gateway": {"default_page_size": 25, "shutdown_grace_ms": 3000},
        "tenants": [{"id": t, "api_keys": [sha256_hex(k)]} for t, k in sorted(KEYS.items())],
    }
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(cfg.get(k), dict):
            cfg[k].update(v)
        else:
            cfg[k] = v
    return cfg


class Gateway:
    def __init__(self, tmp, cfg, env_extra=None, creds=True):
        self.cfg_path = os.path.join(tmp, "gateway.json")
        with open(self.cfg_path, "w") as f:
            json.dump(cfg, f)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["GRPC_DNS_RESOLVER"] = "native"
        if creds:
            env["AWS_ACCESS_KEY_ID"] = AKID
            env["AWS_SECRET_ACCESS_KEY"] = SECRET
        env.update(env_extra or {})
        self.proc = Proc([os.path.join(BIN, "bedrockgw"), "--config", self.cfg_path], env,
                         os.path.join(tmp, "gateway.log"))
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

    def stop(self, sig=signal.SIGTERM):
        self.channel.close()
        return self.proc.stop(sig)


class GatewayTestCase(unittest.TestCase):
    """One fake + one gateway per test class; the fake is reset before each test."""
    fake_args = {}
    config_over = {}

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="bgw-it-")
        cls.fake = Fake(cls.tmp, **cls.fake_args)
        cls.gw = Gateway(cls.tmp, base_config(cls.fake.url, **cls.config_over))

    @classmethod
    def tearDownClass(cls):
        rc = cls.gw.stop()
        cls.fake.stop()
        log = cls.gw.proc.text()
        assert rc == 0, "gateway exit code %s" % rc
        assert SECRET not in log and "Signature=" not in log, "secret material in gateway log"
        for k in KEYS.values():
            assert k not in log, "API key in gateway log"

    def setUp(self):
        self.fake.reset()

    def assertStatusError(self, status, body, http_status, grpc_code, field=None):
        self.assertEqual(status, http_status, body)
        self.assertIsInstance(body, dict, body)
        self.assertEqual(body["code"], grpc_code, body)
        self.assertTrue(body["message"], body)
        if field:
            self.assertIn(field, body["message"])
            fv = [v for d in body.get("details", []) for v in d.get("fieldViolations", [])]
            self.assertIn(field, [v["field"] for v in fv], body)
