"""Upstream resilience, observed at the emulator: retries per error class
(and none for validation / access denied), the retry quota, the caller's
deadline bounding retries, the concurrency/rate limit, the circuit breaker,
and readiness during shutdown."""
import signal
import threading
import time
import unittest

import grpc

from harness import GatewayTestCase, pb

Req = pb.ListModelImportJobsRequest
FAST = {"retry_base_ms": 20, "retry_throttle_base_ms": 20, "breaker_threshold": 0}


class Retries(GatewayTestCase):
    config_over = {"aws": {"timeout_ms": 400}, "upstream": dict(FAST)}

    def test_retries_per_error_class(self):
        # kind -> (attempts the emulator sees, HTTP status the client gets)
        cases = {"throttle": (3, 429), "internal": (3, 503), "drop": (3, 503),
                 "validation": (1, 400), "access_denied": (1, 403)}
        for kind, (attempts, http) in cases.items():
            with self.subTest(kind=kind):
                self.fake.reset()
                self.fake.fault(kind, count=10)
                st, h, body = self.gw.rest({"maxResults": 3})
                self.assertEqual(st, http, body)
                n = len(self.fake.api_requests())
                if kind == "drop":
                    # curl replays a request once, by itself, when a reused
                    # keep-alive connection dies before any response.
                    self.assertIn(n, (attempts, attempts + 1))
                else:
                    self.assertEqual(n, attempts)
                ev = self.gw.wait_access(lambda e: e.get("request_id") == h["x-request-id"])
                self.assertEqual(ev["http_status"], http)

    def test_timeout_is_retried(self):
        self.fake.fault("delay", count=10, delay_ms=1000)
        st, h, body = self.gw.rest({"maxResults": 3})
        self.assertEqual(st, 504, body)
        self.assertEqual(len(self.fake.api_requests()), 3)

    def test_transient_then_success(self):
        self.fake.fault("internal", count=2)
        st, h, body = self.gw.rest({"maxResults": 3})
        self.assertEqual(st, 200, body)
        self.assertEqual([r["status"] for r in self.fake.api_requests()], [500, 500, 200])

    def test_retry_after_honoured(self):
        self.fake.fault("throttle", count=1, retry_after_s=1)
        t0 = time.monotonic()
        st, h, body = self.gw.rest({"maxResults": 3})
        self.assertEqual(st, 200, body)
        self.assertGreaterEqual(time.monotonic() - t0, 0.95)
        self.assertEqual(len(self.fake.api_requests()), 2)

    def test_retry_after_http_date(self):
        # Retry-After: <IMF-fixdate 2 s ahead> (whole seconds, so 1-2 s from now).
        self.fake.fault("throttle", count=1, retry_after_date_s=2)
        t0 = time.monotonic()
        st, h, body = self.gw.rest({"maxResults": 3})
        self.assertEqual(st, 200, body)
        self.assertGreaterEqual(time.monotonic() - t0, 0.95)
        self.assertEqual([r["status"] for r in self.fake.api_requests()], [429, 200])

    def test_retry_after_http_date_past_retries_at_once(self):
        self.fake.fault("throttle", count=1, retry_after_date_s=-60)
        t0 = time.monotonic()
        st, h, body = self.gw.rest({"maxResults": 3})
        self.assertEqual(st, 200, body)
        self.assertLess(time.monotonic() - t0, 0.9)
        self.assertEqual([r["status"] for r in self.fake.api_requests()], [429, 200])

    def test_retry_after_http_date_beyond_max_goes_to_client(self):
        # 30 s ahead is beyond upstream.max_retry_after_ms (5 s): no retry; the
        # client is told when to come back, converted to delta-seconds.
        self.fake.fault("throttle", count=1, retry_after_date_s=30)
        st, h, body = self.gw.rest({"maxResults": 3})
        self.assertEqual(st, 429, body)
        self.assertIn(int(h["retry-after"]), (29, 30, 31))
        self.assertEqual(len(self.fake.api_requests()), 1)

    def test_deadline_bounds_retries(self):
        g = self.start_gateway(upstream={"retry_base_ms": 3000, "retry_throttle_base_ms": 3000,
                                         "breaker_threshold": 0})
        self.fake.fault("internal", count=10)
        t0 = time.monotonic()
        with self.assertRaises(grpc.RpcError) as cm:
            g.grpc(Req(max_results=3), timeout=0.8)
        self.assertLess(time.monotonic() - t0, 1.5)
        # Backoff (up to 3 s) would pass the deadline: at most what fits was tried.
        time.sleep(0.5)
        self.assertLessEqual(len(self.fake.api_requests()), 2)
        self.assertIn(cm.exception.code(), (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED))

    def test_retry_quota(self):
        g = self.start_gateway(upstream=dict(FAST, retry_quota=10))
        self.fake.fault("internal", count=20)
        st, _, _ = g.rest({"maxResults": 3})
        self.assertEqual(st, 503)
        self.assertEqual(len(self.fake.api_requests()), 3)  # two retries: 5 + 5 tokens
        self.fake.reset()
        self.fake.fault("internal", count=20)
        st, _, _ = g.rest({"maxResults": 3})
        self.assertEqual(st, 503)
        self.assertEqual(len(self.fake.api_requests()), 1)  # quota empty: no retry
        self.assertTrue(g.proc.log_events("retry_quota_exhausted"))


class Limits(GatewayTestCase):
    config_over = {"upstream": {"max_concurrency": 1, "rate_per_s": 1, "burst": 1, "queue_wait_ms": 200}}

    def test_rate_limit_resource_exhausted(self):
        self.fake.fault("delay", count=1, delay_ms=600)
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("r", self.gw.rest({"maxResults": 1})))
        t.start()
        deadline = time.time() + 3
        while not self.fake.api_requests():
            self.assertLess(time.time(), deadline)
            time.sleep(0.01)
        st, h, body = self.gw.rest({"maxResults": 1})
        self.assertEqual(st, 429, body)
        self.assertEqual(body["code"], 8)
        self.assertIn("retry-after", h)
        t.join(5)
        self.assertEqual(out["r"][0], 200)
        self.assertEqual(len(self.fake.api_requests()), 1)


class Breaker(GatewayTestCase):
    config_over = {"upstream": {"max_attempts": 1, "breaker_threshold": 2, "breaker_cooldown_ms": 1500}}

    def test_opens_fails_fast_then_closes(self):
        self.fake.fault("internal", count=2)
        for _ in range(2):
            st, _, _ = self.gw.rest({"maxResults": 1})
            self.assertEqual(st, 503)
        self.assertEqual(len(self.fake.api_requests()), 2)
        st, h, body = self.gw.rest({"maxResults": 1})
        self.assertEqual(st, 503, body)
        self.assertIn("circuit breaker", body["message"])
        self.assertIn("retry-after", h)
        with self.assertRaises(grpc.RpcError) as cm:
            self.gw.grpc(Req(max_results=1))
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAVAILABLE)
        self.assertEqual(len(self.fake.api_requests()), 2, "fail fast: nothing sent")
        time.sleep(0.3)
        st, _, body = self.gw.rest(path="/readyz", key=None)
        self.assertEqual(st, 503, body)
        self.assertIn("breaker", body["reason"])
        self.assertEqual(self.gw.health(), b"\x08\x02")
        time.sleep(1.4)
        st, _, body = self.gw.rest({"maxResults": 1})  # the probe
        self.assertEqual(st, 200, body)
        self.assertEqual(len(self.fake.api_requests()), 3)
        time.sleep(0.3)
        st, _, _ = self.gw.rest(path="/readyz", key=None)
        self.assertEqual(st, 200)
        self.assertEqual(self.gw.health(), b"\x08\x01")
        states = [e["state"] for e in self.gw.proc.log_events("circuit_breaker")]
        self.assertEqual(states[-2:], ["open", "closed"])


class Readiness(GatewayTestCase):

    def test_readyz_and_healthz(self):
        st, _, body = self.gw.rest(path="/readyz", key=None)
        self.assertEqual((st, body["status"]), (200, "SERVING"))
        st, _, body = self.gw.rest(path="/healthz", key=None)
        self.assertEqual(st, 200)

    def test_sigterm_flips_readiness_while_call_completes(self):
        g = self.start_gateway(gateway={"shutdown_unready_ms": 1500, "shutdown_grace_ms": 3000})
        self.fake.fault("delay", count=1, delay_ms=1000)
        fut = g.grpc_future(Req(max_results=2), timeout=10)
        deadline = time.time() + 3
        while not self.fake.api_requests():
            self.assertLess(time.time(), deadline)
            time.sleep(0.01)
        g.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        st, _, body = g.rest(path="/readyz", key=None)
        self.assertEqual(st, 503, body)
        self.assertEqual(body["reason"], "shutting down")
        self.assertEqual(g.health(), b"\x08\x02")
        st, _, _ = g.rest(path="/healthz", key=None)
        self.assertEqual(st, 200)  # alive, just not ready
        self.assertFalse(fut.done())
        resp = fut.result(timeout=10)
        self.assertEqual(len(resp.model_import_job_summaries), 2)
        self.assertEqual(g.proc.p.wait(timeout=8), 0)
        names = [e.get("event") for e in g.proc.log_events() if e.get("event") in ("unready", "draining")]
        self.assertEqual(names, ["unready", "draining"])


if __name__ == "__main__":
    unittest.main()
