"""The process: command line, config checking, environment overrides,
health, and a graceful SIGTERM while calls are in flight."""
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import grpc

from harness import (AKID, BIN, REGION, SECRET, GatewayTestCase, assert_log_clean, base_config, free_port,
                     pb)

GW = os.path.join(BIN, "bedrockgw")


def run(args, env=None, timeout=20):
    e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    e.update(env or {})
    p = subprocess.run([GW] + args, capture_output=True, text=True, timeout=timeout, env=e)
    assert_log_clean(p.stdout + p.stderr, "bedrockgw " + " ".join(args))
    return p


class CommandLine(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="bgw-it-cli-")

    def write(self, name, cfg):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(cfg if isinstance(cfg, str) else json.dumps(cfg))
        return path

    def test_help_and_version(self):
        p = run(["--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("--config", p.stdout)
        self.assertIn("--check-config", p.stdout)
        p = run(["--version"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"^bedrockgw \d+\.\d+\.\d+")

    def test_bad_arguments(self):
        for args in ([], ["--bogus"], ["--config"]):
            with self.subTest(args=args):
                p = run(args)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("usage", p.stderr)

    def test_check_config_good(self):
        path = self.write("good.json", base_config("http://127.0.0.1:9"))
        p = run(["--check-config", path])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("OK", p.stdout)
        self.assertIn(path, p.stdout)

    def test_check_config_bad(self):
        good = base_config("http://127.0.0.1:9")

        def variant(**changes):
            cfg = json.loads(json.dumps(good))
            for dotted, value in changes.items():
                parts = dotted.split("__")
                d = cfg
                for p in parts[:-1]:
                    d = d[p]
                if value is KeyError:
                    del d[parts[-1]]
                else:
                    d[parts[-1]] = value
            return cfg

        cases = [
            ("unknown_top", variant(extra={"x": 1}), "extra"),
            ("unknown_nested", variant(grpc__bogus=1), "grpc.bogus"),
            ("unknown_aws", variant(aws__secret_access_key="x"), "aws.secret_access_key"),
            ("bad_listen", variant(http__listen="localhost"), "http.listen"),
            ("bad_listen_port", variant(grpc__listen="127.0.0.1:70000"), "grpc.listen"),
            ("bad_hash", variant(tenants=[{"id": "t", "api_keys": ["not-a-sha256"]}]), "tenants[0].api_keys[0]"),
            ("plain_key", variant(tenants=[{"id": "t", "api_keys": ["key-team-a-0123456789"]}]),
             "tenants[0].api_keys[0]"),
            ("missing_tenants", variant(tenants=KeyError), "tenants"),
            ("empty_tenants", variant(tenants=[]), "tenants"),
            ("bad_endpoint_scheme", variant(aws__endpoint="ftp://bedrock.example.com"), "aws.endpoint"),
            ("bad_endpoint_junk", variant(aws__endpoint="http://exa mple.com"), "aws.endpoint"),
            ("bad_endpoint_query", variant(aws__endpoint="https://bedrock.example.com/?x=1"), "aws.endpoint"),
            ("bad_timeout", variant(aws__timeout_ms="fast"), "aws.timeout_ms"),
            ("bad_page_size", variant(gateway__default_page_size=0), "gateway.default_page_size"),
            ("bad_origin", variant(http__cors_allowed_origins=["app.example.com"]), "http.cors_allowed_origins"),
        ]
        for name, cfg, key in cases:
            with self.subTest(name=name):
                path = self.write(name + ".json", cfg)
                p = run(["--check-config", path])
                self.assertNotEqual(p.returncode, 0, p.stdout)
                self.assertIn(path, p.stderr)
                self.assertIn(key, p.stderr)
        for name, text in (("not_json", "{"), ("not_object", "[]")):
            with self.subTest(name=name):
                path = self.write(name + ".json", text)
                p = run(["--check-config", path])
                self.assertNotEqual(p.returncode, 0)
                self.assertIn(path, p.stderr)
        p = run(["--check-config", os.path.join(self.tmp, "missing.json")])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("missing.json", p.stderr)

    def test_check_config_env_endpoint_is_checked(self):
        path = self.write("env_ep.json", base_config("http://127.0.0.1:9"))
        p = run(["--check-config", path], env={"AWS_ENDPOINT_URL_BEDROCK": "notaurl"})
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("AWS_ENDPOINT_URL_BEDROCK", p.stderr)

    def test_missing_credentials(self):
        path = self.write("nocreds.json", base_config("http://127.0.0.1:9"))
        p = run(["--config", path], timeout=20)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("AWS_ACCESS_KEY_ID", p.stderr)
        p = run(["--config", path], env={"AWS_ACCESS_KEY_ID": AKID}, timeout=20)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("AWS_SECRET_ACCESS_KEY", p.stderr)
        self.assertNotIn('"ready"', p.stdout + p.stderr)


    def test_start_failures_are_json_events_naming_the_reason(self):
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        try:
            cfg = base_config("http://127.0.0.1:9",
                              grpc={"listen": "127.0.0.1:%d" % busy.getsockname()[1]})
            path = self.write("busy.json", cfg)
            p = run(["--config", path], env={"AWS_ACCESS_KEY_ID": AKID,
                                             "AWS_SECRET_ACCESS_KEY": SECRET}, timeout=20)
        finally:
            busy.close()
        self.assertEqual(p.returncode, 1)
        lines = [json.loads(l) for l in p.stderr.splitlines() if l.startswith("{")]
        self.assertEqual([l["event"] for l in lines], ["start_failed"], p.stderr)
        self.assertIn("grpc.listen", lines[0]["error"])
        self.assertIn("Address already in use", lines[0]["error"])
        # a config error too
        path = self.write("badkey.json", dict(base_config("http://127.0.0.1:9"), nope=1))
        p = run(["--config", path], timeout=20)
        self.assertEqual(p.returncode, 1)
        ev = json.loads(p.stderr.strip().splitlines()[-1])
        self.assertEqual(ev["event"], "config_error")
        self.assertIn("nope", ev["error"])


class Running(GatewayTestCase):

    def test_ready_line(self):
        r = self.gw.proc.ready
        self.assertEqual(r["event"], "ready")
        self.assertIsInstance(r["grpc_port"], int)
        self.assertIsInstance(r["http_port"], int)
        self.assertGreater(r["grpc_port"], 0)
        self.assertGreater(r["http_port"], 0)
        self.assertNotEqual(r["grpc_port"], r["http_port"])
        self.assertEqual(r.get("endpoint"), self.fake.url)

    def test_grpc_health(self):
        self.assertEqual(self.gw.health(), b"\x08\x01")
        self.assertNoUpstream()

    def test_healthz(self):
        st, h, body = self.gw.rest(path="/healthz", key=None)
        self.assertEqual(st, 200, body)
        self.assertEqual(body, {"status": "SERVING"})
        self.assertNoUpstream()

    def test_unknown_grpc_method(self):
        rpc = self.gw.channel.unary_unary("/bedrockgw.v1.ModelImportJobs/Nope",
                                          request_serializer=lambda b: b, response_deserializer=lambda b: b)
        with self.assertRaises(grpc.RpcError) as cm:
            rpc(b"", timeout=5)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNIMPLEMENTED)

    def test_endpoint_env_overrides_config(self):
        closed = "http://127.0.0.1:%d" % free_port()
        g = self.start_gateway(aws={"endpoint": closed}, env_extra={"AWS_ENDPOINT_URL_BEDROCK": self.fake.url})
        self.assertEqual(g.proc.ready.get("endpoint_source"), "AWS_ENDPOINT_URL_BEDROCK")
        st, h, body = g.rest({"maxResults": 3})
        self.assertEqual(st, 200, body)
        self.assertEqual(len(body["modelImportJobSummaries"]), 3)
        self.assertEqual(self.one_upstream()["query"], {"maxResults": "3"})

    def test_generic_endpoint_env_and_precedence(self):
        closed = "http://127.0.0.1:%d" % free_port()
        g = self.start_gateway(aws={"endpoint": closed}, env_extra={"AWS_ENDPOINT_URL": self.fake.url})
        st, h, body = g.rest({"maxResults": 2})
        self.assertEqual(st, 200, body)
        g2 = self.start_gateway(aws={"endpoint": self.fake.url},
                                env_extra={"AWS_ENDPOINT_URL": self.fake.url, "AWS_ENDPOINT_URL_BEDROCK": closed})
        st, h, body = g2.rest({"maxResults": 2})
        self.assertStatusError(st, body, 503, 14)
        self.assertEqual(len(self.fake.api_requests()), 1)

    def test_region_env_overrides_config(self):
        g = self.start_gateway(env_extra={"AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": REGION})
        self.assertEqual(g.proc.ready.get("region"), "eu-central-1")
        st, h, body = g.rest({"maxResults": 3})
        self.assertStatusError(st, body, 403, 7)
        reqs = self.fake.api_requests()
        self.assertEqual(len(reqs), 1)
        self.assertFalse(reqs[0]["signature_ok"])
        self.assertIn("/eu-central-1/bedrock/aws4_request", reqs[0]["headers"]["authorization"])
        self.assertEqual(reqs[0]["status"], 403)
        self.assertNotIn(SECRET, body["message"])

    def test_default_region_env(self):
        g = self.start_gateway(aws={"region": "ap-south-1"}, env_extra={"AWS_DEFAULT_REGION": REGION})
        st, h, body = g.rest({"maxResults": 3})
        self.assertEqual(st, 200, body)
        self.assertTrue(self.one_upstream()["signature_ok"])

    def test_sigterm_drains_in_flight_calls(self):
        g = self.start_gateway(gateway={"shutdown_grace_ms": 4000})
        try:
            self._sigterm_with_calls_in_flight(g)
        except Exception as e:
            raise AssertionError("%s\n--- gateway log ---\n%s\n--- upstream requests ---\n%s" % (
                e, g.proc.text()[-4000:], [(r["fault"], r["status"]) for r in self.fake.api_requests()])) from e

    def _sigterm_with_calls_in_flight(self, g):
        self.fake.fault("delay", count=2, delay_ms=1500)
        fut = g.grpc_future(pb.ListModelImportJobsRequest(max_results=4), timeout=10)
        rest_result = {}

        def rest_call():
            try:
                rest_result["r"] = g.rest({"maxResults": 5})
            except Exception as e:  # reported by the main thread
                rest_result["error"] = e
                rest_result["at"] = time.monotonic()
        t = threading.Thread(target=rest_call)
        t.start()
        deadline = time.time() + 3
        while len(self.fake.api_requests()) < 2:
            self.assertLess(time.time(), deadline, "calls did not reach the upstream")
            time.sleep(0.02)
        t_sig = time.monotonic()
        g.send_signal(signal.SIGTERM)

        # New connections are refused soon after the signal.
        deadline = time.time() + 2
        while True:
            try:
                socket.create_connection(("127.0.0.1", g.http_port), timeout=1).close()
            except ConnectionRefusedError:
                break
            self.assertLess(time.time(), deadline, "HTTP port still accepts connections")
            time.sleep(0.02)
        ch = grpc.insecure_channel("127.0.0.1:%d" % g.grpc_port)
        try:
            with self.assertRaises(grpc.RpcError) as cm:
                ch.unary_unary("/grpc.health.v1.Health/Check", request_serializer=lambda b: b,
                               response_deserializer=lambda b: b)(b"", timeout=1)
            # Refused outright (UNAVAILABLE), or - when the connection races
            # gRPC core's asynchronous listener shutdown - the call is
            # cancelled by the shutting-down server (CANCELLED). Never OK.
            self.assertIn(cm.exception.code(), (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                                                grpc.StatusCode.CANCELLED))
        finally:
            ch.close()

        # The calls in flight still complete successfully.
        resp = fut.result(timeout=10)
        self.assertEqual(len(resp.model_import_job_summaries), 4)
        t.join(10)
        self.assertNotIn("error", rest_result, "REST call in flight failed %.2fs after SIGTERM: %r\n%s" % (
            rest_result.get("at", 0) - t_sig, rest_result.get("error"), g.proc.text()[-3000:]))
        st, h, body = rest_result["r"]
        self.assertEqual(st, 200, body)
        self.assertEqual(len(body["modelImportJobSummaries"]), 5)

        # And the process exits 0 within the grace period.
        rc = g.proc.p.wait(timeout=6)
        self.assertEqual(rc, 0, g.proc.text()[-3000:])
        self.assertLess(time.monotonic() - t_sig, 4.0)
        ev = g.proc.log_events("draining")
        self.assertEqual(len(ev), 1)
        self.assertEqual(ev[0]["inflight"], 2)
        codes = [e["code"] for e in g.access_events()]
        self.assertEqual(codes, ["OK", "OK"])

    def test_sigterm_when_idle_exits_at_once(self):
        g = self.start_gateway()
        t0 = time.monotonic()
        g.send_signal(signal.SIGTERM)
        self.assertEqual(g.proc.p.wait(timeout=5), 0)
        self.assertLess(time.monotonic() - t0, 2.0)


if __name__ == "__main__":
    unittest.main()
