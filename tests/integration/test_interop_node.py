"""Interop with an independent gRPC implementation: Node's @grpc/grpc-js
(pinned in tests/interop/node/package-lock.json, installed by tests/run.sh
with npm ci), unmodified, over plaintext, TLS and mTLS: answers, status
details, 1,000 rows, 1,000 concurrent calls on one connection, deadlines,
a client cancelling mid-call, and a call in flight across SIGTERM (GOAWAY)."""
import json
import os
import shutil
import signal
import subprocess
import time
import unittest

from harness import KEYS, GatewayTestCase, sha256_hex
from tlsutil import make_ca, make_cert

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop", "node")


def node_ready():
    if not shutil.which("node"):
        raise AssertionError("node is not installed: deploy/install-deps.sh installs it")
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@grpc", "grpc-js")):
        raise AssertionError("run npm ci in tests/interop/node (tests/run.sh does)")


class NodeInterop(GatewayTestCase):
    fake_args = {"generate": 1200, "seed": 5}

    @classmethod
    def setUpClass(cls):
        node_ready()
        super().setUpClass()

    def node(self, scenario, port, key="team-a", tls=(), timeout=60, wait=True):
        argv = ["node", os.path.join(NODE_DIR, "client.js"), scenario, "127.0.0.1:%d" % port,
                KEYS.get(key, key)] + list(tls)
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if not wait:
            return p
        return self.result(p, timeout)

    def result(self, p, timeout=60):
        out, err = p.communicate(timeout=timeout)
        self.assertEqual(p.returncode, 0, err)
        return json.loads(out.strip().splitlines()[-1])

    def test_answers_details_and_large_pages(self):
        port = self.gw.grpc_port
        r = self.node("ok", port)
        self.assertEqual((r["code"], r["rows"], r["next_token"]), (0, 5, True), r)
        self.assertRegex(r["request_id"], r"^g")
        self.assertTrue(r["first_status"].startswith("MODEL_IMPORT_JOB_STATUS_"), r)
        self.assertEqual(self.one_upstream()["query"]["maxResults"], "5")
        self.fake.reset()
        r = self.node("details", port)
        self.assertEqual(r["code"], 3, r)  # INVALID_ARGUMENT
        self.assertIn("maxResults", r["details"])
        self.assertTrue(r["has_details_bin"], r)
        self.assertNoUpstream()
        r = self.node("ok", port, key="not-a-key")
        self.assertEqual(r["code"], 16, r)
        r = self.node("large", port)
        self.assertEqual((r["code"], r["rows"]), (0, 1000), r)

    def test_thousand_concurrent_calls_on_one_connection(self):
        g = self.start_gateway(cache={"enabled": True, "ttl_ms": 60000})
        r = self.node("concurrent", g.grpc_port, timeout=120)
        self.assertEqual(r["codes"], {"0": 1000}, r)
        self.assertEqual(r["rows"], 2000)
        # coalesced and cached: Bedrock saw one call
        self.assertEqual(len(self.fake.api_requests()), 1)

    def test_deadline_and_cancel(self):
        port = self.gw.grpc_port
        self.fake.fault("delay", count=1, delay_ms=1500)
        t0 = time.time()
        r = self.node("deadline", port)
        self.assertEqual(r["code"], 4, r)  # DEADLINE_EXCEEDED
        self.assertLess(time.time() - t0, 1.4 + 1.0)
        self.fake.fault("delay", count=1, delay_ms=1500)
        r = self.node("cancel", port)
        self.assertEqual(r["code"], 1, r)  # CANCELLED, by the client
        self.assertEqual((r["after"]["code"], r["after"]["rows"]), (0, 3), r)
        self.assertEqual(self.gw.health(), b"\x08\x01")

    def test_call_in_flight_across_sigterm(self):
        g = self.start_gateway(gateway={"shutdown_grace_ms": 5000})
        self.fake.fault("delay", count=1, delay_ms=800)
        p = self.node("drain", g.grpc_port, wait=False)
        deadline = time.time() + 20
        while not self.fake.api_requests():
            self.assertLess(time.time(), deadline, "the call did not reach the upstream")
            time.sleep(0.02)
        g.send_signal(signal.SIGTERM)
        r = self.result(p)
        self.assertEqual((r["code"], r["rows"]), (0, 3), r)
        self.assertEqual(g.proc.p.wait(timeout=8), 0)

    def test_tls_and_mtls(self):
        d = os.path.join(self.tmp, "node-certs")
        os.makedirs(d, exist_ok=True)
        ca = make_ca(d, "ca")
        srv_crt, srv_key = make_cert(d, "server", "localhost")
        cli_crt, cli_key = make_cert(d, "client", "svc-node", client=True, san="DNS:svc-node")
        tls = {"cert_file": srv_crt, "key_file": srv_key}
        g = self.start_gateway(grpc={"listen": "127.0.0.1:0", "tls": tls})
        r = self.node("ok", g.grpc_port, tls=[ca])
        self.assertEqual((r["code"], r["rows"]), (0, 5), r)
        mtls = dict(tls, client_ca_file=ca, require_client_cert=True)
        tenants = [{"id": "team-a", "api_keys": [sha256_hex(KEYS["team-a"])],
                    "mtls_subjects": ["DNS:svc-node"]}]
        g = self.start_gateway(grpc={"listen": "127.0.0.1:0", "tls": mtls}, tenants=tenants)
        r = self.node("ok", g.grpc_port, key="", tls=[ca, cli_crt, cli_key])
        self.assertEqual((r["code"], r["rows"]), (0, 5), r)
        e = g.wait_access(lambda e: e.get("transport") == "grpc")
        self.assertEqual((e["tenant"], e["auth"]), ("team-a", "mtls"))
        # without a client certificate the handshake fails (TLS 1.3: the
        # client learns it from the server's alert on its first read)
        r = self.node("ok", g.grpc_port, tls=[ca])
        self.assertIn(r["code"], (13, 14), r)
        if r["code"] == 13:
            self.assertIn("certificate required", r["details"])


if __name__ == "__main__":
    unittest.main()
