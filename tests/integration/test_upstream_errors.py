"""Bedrock's error classes (injected in the emulator) as a client sees them on
both transports, plus broken credentials and an unreachable endpoint."""
import json
import re
import time
import unittest

import grpc

from harness import AKID, SECRET, GatewayTestCase, free_port, pb

Req = pb.ListModelImportJobsRequest
SC = grpc.StatusCode

# kind -> (HTTP status, gRPC code number, grpc.StatusCode, upstream status seen by the fake)
CLASSES = {
    "throttle": (429, 8, SC.RESOURCE_EXHAUSTED, 429),
    "internal": (503, 14, SC.UNAVAILABLE, 500),
    "validation": (400, 3, SC.INVALID_ARGUMENT, 400),
    "access_denied": (403, 7, SC.PERMISSION_DENIED, 403),
    "malformed": (502, 13, SC.INTERNAL, 200),
    "drop": (503, 14, SC.UNAVAILABLE, 0),
}


class UpstreamErrors(GatewayTestCase):
    # A small upstream timeout so that the "delay" class is quick to test.
    # One attempt: these tests pin how each class maps; retries are tested
    # in test_resilience.py.
    config_over = {"aws": {"timeout_ms": 1000}, "upstream": {"max_attempts": 1}}

    def inject(self, kind, **kw):
        self.fake.reset()
        # A count above one keeps the test meaningful should the gateway
        # ever retry retryable classes.
        self.fake.fault(kind, count=5, **kw)

    def check_upstream(self, kind, upstream_status):
        reqs = self.fake.api_requests()
        self.assertGreaterEqual(len(reqs), 1)
        for r in reqs:
            self.assertSigned(r)
            self.assertEqual(r["fault"], kind)
            self.assertEqual(r["status"], upstream_status)
            self.assertEqual(r["query"], {"maxResults": "3"})

    def test_error_classes_rest(self):
        for kind, (http, code, _, up) in CLASSES.items():
            with self.subTest(kind=kind):
                self.inject(kind)
                st, h, body = self.gw.rest({"maxResults": 3})
                self.assertStatusError(st, body, http, code)
                self.assertTrue(h["content-type"].startswith("application/json"))
                self.check_upstream(kind, up)
                ev = self.gw.wait_access(lambda e: e.get("request_id") == h["x-request-id"])
                self.assertEqual(ev["http_status"], http)
                self.assertEqual(ev["grpc_code"], code)

    def test_error_classes_grpc(self):
        for kind, (_, _, sc, up) in CLASSES.items():
            with self.subTest(kind=kind):
                self.inject(kind)
                with self.assertRaises(grpc.RpcError) as cm:
                    self.gw.grpc(Req(max_results=3))
                self.assertRpcError(cm.exception, sc)
                self.check_upstream(kind, up)

    def test_throttle_retry_after_rest(self):
        self.inject("throttle", retry_after_s=7)
        st, h, body = self.gw.rest({"maxResults": 3})
        self.assertStatusError(st, body, 429, 8)
        self.assertEqual(h.get("retry-after"), "7")
        retry = [d for d in body["details"] if d.get("@type") == "type.googleapis.com/google.rpc.RetryInfo"]
        self.assertEqual(retry, [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}])
        self.check_upstream("throttle", 429)

    def test_throttle_without_retry_after_still_advises(self):
        self.inject("throttle")
        st, h, body = self.gw.rest({"maxResults": 3})
        self.assertStatusError(st, body, 429, 8)
        self.assertRegex(h.get("retry-after", ""), r"^[1-9][0-9]*$")

    def test_throttle_retry_after_grpc(self):
        self.inject("throttle", retry_after_s=7)
        with self.assertRaises(grpc.RpcError) as cm:
            self.gw.grpc(Req(max_results=3))
        self.assertRpcError(cm.exception, SC.RESOURCE_EXHAUSTED)
        md = dict(cm.exception.trailing_metadata() or ())
        self.assertEqual(md.get("retry-after"), "7")

    def test_upstream_messages_are_passed_but_bounded(self):
        self.inject("access_denied")
        st, h, body = self.gw.rest({"maxResults": 3})
        self.assertStatusError(st, body, 403, 7)
        self.assertIn("AccessDeniedException", body["message"])
        self.assertLessEqual(len(body["message"]), 300)
        # Bedrock's own text names the gateway's IAM principal: never shown.
        self.assertNotIn("arn:aws", body["message"])

    def test_delay_beyond_upstream_timeout(self):
        for transport in ("rest", "grpc"):
            with self.subTest(transport=transport):
                self.inject("delay", delay_ms=3000)
                t0 = time.monotonic()
                if transport == "rest":
                    st, h, body = self.gw.rest({"maxResults": 3})
                    self.assertStatusError(st, body, 504, 4)
                else:
                    with self.assertRaises(grpc.RpcError) as cm:
                        self.gw.grpc(Req(max_results=3), timeout=10)
                    self.assertRpcError(cm.exception, SC.DEADLINE_EXCEEDED)
                elapsed = time.monotonic() - t0
                self.assertGreater(elapsed, 0.9)
                self.assertLess(elapsed, 2.5)
                self.check_upstream("delay", 200)
                self.gw.wait_access(lambda e: e.get("code") == "DEADLINE_EXCEEDED" and e.get("transport") == transport)

    def test_recovers_after_faults(self):
        self.inject("internal")
        self.fake.reset()  # clears the fault queue
        st, h, body = self.gw.rest({"maxResults": 3})
        self.assertEqual(st, 200, body)
        self.assertEqual(len(body["modelImportJobSummaries"]), 3)

    def test_wrong_credentials(self):
        wrong = "WRONG-secret/abcdefghijklmnopqrstuvwxyz012345"
        g = self.start_gateway(creds=False, secrets=(wrong,),
                               env_extra={"AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": wrong})
        st, h, body = g.rest({"maxResults": 3})
        self.assertStatusError(st, body, 403, 7)
        with self.assertRaises(grpc.RpcError) as cm:
            g.grpc(Req(max_results=3))
        self.assertRpcError(cm.exception, SC.PERMISSION_DENIED)
        reqs = self.fake.api_requests()
        self.assertEqual(len(reqs), 2)
        sigs = []
        for r in reqs:
            self.assertSigned(r, ok=False)
            self.assertEqual(r["status"], 403)
            sigs.append(re.search(r"Signature=([0-9a-f]{64})", r["headers"]["authorization"]).group(1))
        for msg in (body["message"], cm.exception.details(), json.dumps(body)):
            for secret in (wrong, SECRET) + tuple(sigs):
                self.assertNotIn(secret, msg)
            self.assertNotIn("Signature=", msg)
            self.assertNotIn("AWS4-HMAC-SHA256", msg)
            self.assertNotIn("Canonical", msg)
        self.assertEqual(self.fake.counters()["auth_failed"], 2)

    def test_closed_port(self):
        g = self.start_gateway(aws={"endpoint": "http://127.0.0.1:%d" % free_port()})
        st, h, body = g.rest({"maxResults": 3})
        self.assertStatusError(st, body, 503, 14)
        with self.assertRaises(grpc.RpcError) as cm:
            g.grpc(Req(max_results=3))
        self.assertRpcError(cm.exception, SC.UNAVAILABLE)
        self.assertNoUpstream()
        ev = g.wait_access(lambda e: e.get("request_id") == h["x-request-id"])
        self.assertEqual(ev["code"], "UNAVAILABLE")


if __name__ == "__main__":
    unittest.main()
