"""The response cache (issue 4), end to end against the emulator's request
counter: coalescing, TTL, stale-while-revalidate, stale-if-error, client
cache control, the byte budget, ETag/304, key normalization, /metrics."""
import threading
import time
import unittest
import http.client

import grpc

from harness import GatewayTestCase, base_config, pb

CACHE = {"enabled": True, "ttl_ms": 5000, "swr_ms": 0, "sie_ms": 0}


def parse_metrics(text):
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        out[name] = float(value)
    return out


class CacheBase(GatewayTestCase):
    fake_args = {"generate": 60, "seed": 5}
    config_over = {"cache": dict(CACHE)}

    def upstream_calls(self):
        return self.fake.counters()["requests_total"]

    def metrics(self, gw=None):
        gw = gw or self.gw
        c = http.client.HTTPConnection("127.0.0.1", gw.http_port, timeout=10)
        c.request("GET", "/metrics")
        r = c.getresponse()
        body = r.read().decode()
        c.close()
        self.assertEqual(r.status, 200)
        self.assertTrue(r.getheader("content-type").startswith("text/plain"))
        return parse_metrics(body)

    def cache_gw(self, **cache):
        cfg = dict(CACHE)
        cfg.update(cache)
        return self.start_gateway(cache=cfg)


class Coalescing(CacheBase):
    def test_concurrent_identical_misses_make_one_call(self):
        self.fake.fault("delay", delay_ms=600)
        q = {"maxResults": 10, "statusEquals": "Completed"}
        results = []
        lock = threading.Lock()

        def rest():
            st, h, body = self.gw.rest(q)
            with lock:
                results.append(("rest", st, body))

        threads = [threading.Thread(target=rest) for _ in range(12)]
        for t in threads:
            t.start()
        time.sleep(0.05)
        req = pb.ListModelImportJobsRequest(max_results=10, status_equals=pb.MODEL_IMPORT_JOB_STATUS_COMPLETED)
        futures = [self.gw.grpc_future(req) for _ in range(8)]
        for t in threads:
            t.join()
        grpc_items = [[j.job_arn for j in f.result().model_import_job_summaries] for f in futures]
        self.assertEqual(self.upstream_calls(), 1)
        self.assertEqual(len(results), 12)
        first = results[0][2]
        for _, st, body in results:
            self.assertEqual(st, 200, body)
            self.assertEqual(body, first)
        for items in grpc_items:
            self.assertEqual(items, [j["jobArn"] for j in first["modelImportJobSummaries"]])
        m = self.metrics()
        self.assertGreaterEqual(m["bedrockgw_cache_coalesced_total"], 10)
        self.assertEqual(m['bedrockgw_upstream_calls_total{outcome="ok"}'], 1)

    def test_errors_reach_every_waiter(self):
        # One slow upstream call that times out (aws.timeout_ms 500): every
        # waiter gets that error, and nothing is cached.
        gw = self.start_gateway(aws={"timeout_ms": 500}, cache=dict(CACHE))
        self.fake.fault("delay", delay_ms=1500)
        q = {"maxResults": 3, "nameContains": "team-a"}
        out = []

        def rest():
            out.append(gw.rest(q))

        threads = [threading.Thread(target=rest) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(self.upstream_calls(), 1)
        self.assertEqual(len(out), 6)
        for st, h, body in out:
            self.assertEqual(st, 504, body)
        m = self.metrics(gw)
        self.assertEqual(m['bedrockgw_upstream_calls_total{outcome="timeout"}'], 1)
        self.assertEqual(m["bedrockgw_cache_coalesced_total"], 5)

    def test_waiter_deadline_does_not_cancel_the_call(self):
        self.fake.fault("delay", delay_ms=1200)
        q = {"maxResults": 4, "nameContains": "shared"}
        rest_out = []
        t = threading.Thread(target=lambda: rest_out.append(self.gw.rest(q)))
        t.start()
        time.sleep(0.1)
        req = pb.ListModelImportJobsRequest(max_results=4, name_contains="shared")
        t0 = time.time()
        with self.assertRaises(grpc.RpcError) as cm:
            self.gw.grpc(req, timeout=0.4)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assertLess(time.time() - t0, 1.0)
        t.join()
        st, h, body = rest_out[0]
        self.assertEqual(st, 200, body)
        self.assertEqual(self.upstream_calls(), 1)
        # and the page it fetched is now cached
        resp, call = self.gw.grpc(req)
        self.assertEqual(len(resp.model_import_job_summaries), len(body["modelImportJobSummaries"]))
        self.assertEqual(self.upstream_calls(), 1)
        self.assertIn(("x-cache", "hit"), call.trailing_metadata())


class Keys(CacheBase):
    def test_equivalent_requests_share_an_entry(self):
        variants = [
            "maxResults=25&creationTimeAfter=2024-06-01T00:00:00Z&statusEquals=Completed",
            "statusEquals=Completed&creationTimeAfter=2024-06-01T00:00:00Z&maxResults=25",
            "creationTimeAfter=2024-06-01T00:00:00%2B00:00&statusEquals=Completed",  # default maxResults
            "creationTimeAfter=2024-06-01T02:00:00.000%2B02:00&statusEquals=MODEL_IMPORT_JOB_STATUS_COMPLETED"
            "&sortOrder=Descending&sortBy=CreationTime",
        ]
        bodies = []
        for v in variants:
            st, h, body = self.gw.rest(raw_query=v)
            self.assertEqual(st, 200, body)
            bodies.append(body)
        self.assertEqual(self.upstream_calls(), 1)
        self.assertTrue(all(b == bodies[0] for b in bodies))
        # gRPC shares it too (same upstream query)
        req = pb.ListModelImportJobsRequest(status_equals=pb.MODEL_IMPORT_JOB_STATUS_COMPLETED)
        req.creation_time_after.FromJsonString("2024-06-01T00:00:00Z")
        resp, call = self.gw.grpc(req)
        self.assertEqual([j.job_arn for j in resp.model_import_job_summaries],
                         [j["jobArn"] for j in bodies[0]["modelImportJobSummaries"]])
        self.assertEqual(self.upstream_calls(), 1)
        # a different value is a different entry
        self.gw.rest(raw_query="creationTimeAfter=2024-06-01T00:00:01Z&statusEquals=Completed")
        self.assertEqual(self.upstream_calls(), 2)

    def test_tenants_share_upstream_pages_not_views(self):
        st_a, h_a, body_a = self.gw.rest({"maxResults": 6}, key="team-a")
        st_b, h_b, body_b = self.gw.rest({"maxResults": 6}, key="team-b")
        self.assertEqual((st_a, st_b), (200, 200))
        self.assertEqual(self.upstream_calls(), 1)
        self.assertEqual(h_a["x-cache"], "miss")
        self.assertEqual(h_b["x-cache"], "hit")
        # unauthenticated callers learn nothing from the cache
        st, h, body = self.gw.rest({"maxResults": 6}, key=None)
        self.assertEqual(st, 401)
        self.assertNotIn("etag", h)


class TenantPolicies(CacheBase):
    def test_two_policies_share_upstream_pages_see_own_rows(self):
        from harness import KEYS, sha256_hex
        cfg = base_config(self.fake.url, cache=dict(CACHE))
        cfg["tenants"] = [
            {"id": "team-a", "api_keys": [sha256_hex(KEYS["team-a"])],
             "policy": {"job_name_prefixes": ["team-a-"]}},
            {"id": "team-b", "api_keys": [sha256_hex(KEYS["team-b"])],
             "policy": {"job_name_prefixes": ["team-b-"]}},
        ]
        gw = self.start_gateway(cfg=cfg)
        st, h, a = gw.rest({"maxResults": 5}, key="team-a")
        self.assertEqual(st, 200, a)
        calls_a = self.upstream_calls()
        self.assertGreaterEqual(calls_a, 1)
        st, h, b = gw.rest({"maxResults": 5}, key="team-b")
        self.assertEqual(st, 200, b)
        names_a = [j["jobName"] for j in a["modelImportJobSummaries"]]
        names_b = [j["jobName"] for j in b["modelImportJobSummaries"]]
        self.assertTrue(names_a and names_b)
        self.assertTrue(all(n.startswith("team-a-") for n in names_a), names_a)
        self.assertTrue(all(n.startswith("team-b-") for n in names_b), names_b)
        # team-b's walk reads the same upstream pages: from the cache, as far
        # as team-a's walk went (it may need more pages than team-a did)
        reqs = self.fake.api_requests()
        queries = [r["query_raw"] for r in reqs]
        self.assertEqual(len(queries), len(set(queries)), "no upstream page fetched twice")
        # and each tenant's own repeat is served without Bedrock
        before = self.upstream_calls()
        st, h, a2 = gw.rest({"maxResults": 5}, key="team-a")
        st, h, b2 = gw.rest({"maxResults": 5}, key="team-b")
        self.assertEqual((a2, b2), (a, b))
        self.assertEqual(self.upstream_calls(), before)
        resp, call = gw.grpc(pb.ListModelImportJobsRequest(max_results=5), key="team-b")
        self.assertEqual([j.job_name for j in resp.model_import_job_summaries], names_b)
        self.assertEqual(self.upstream_calls(), before)


class ClientControl(CacheBase):
    def test_no_cache_forces_an_upstream_read(self):
        q = {"maxResults": 5}
        self.gw.rest(q)
        self.gw.rest(q)
        self.assertEqual(self.upstream_calls(), 1)
        st, h, body = self.gw.rest(q, headers={"Cache-Control": "no-cache"})
        self.assertEqual(st, 200)
        self.assertEqual(h["x-cache"], "bypass")
        self.assertEqual(self.upstream_calls(), 2)
        req = pb.ListModelImportJobsRequest(max_results=5)
        resp, call = self.gw.grpc(req, metadata=[("cache-control", "no-cache")])
        self.assertEqual(self.upstream_calls(), 3)
        self.assertIn(("x-cache", "bypass"), call.trailing_metadata())
        resp, call = self.gw.grpc(req)
        self.assertEqual(self.upstream_calls(), 3)
        self.assertIn(("x-cache", "hit"), call.trailing_metadata())

    def test_max_age_bounds_the_answer(self):
        q = {"maxResults": 7}
        self.gw.rest(q)
        time.sleep(1.1)
        st, h, body = self.gw.rest(q, headers={"Cache-Control": "max-age=30"})
        self.assertEqual(h["x-cache"], "hit")
        self.assertGreaterEqual(int(h["age"]), 1)
        self.assertEqual(self.upstream_calls(), 1)
        st, h, body = self.gw.rest(q, headers={"Cache-Control": "max-age=1"})
        self.assertEqual(st, 200)
        self.assertEqual(h["x-cache"], "miss")
        self.assertEqual(self.upstream_calls(), 2)

    def test_etag_and_304(self):
        q = {"maxResults": 8}
        st, h, body = self.gw.rest(q)
        self.assertEqual(st, 200)
        etag = h["etag"]
        self.assertRegex(etag, r'^"[0-9a-f]{16}"$')
        self.assertRegex(h["cache-control"], r"^private, max-age=[0-5]$")
        st, h2, body2 = self.gw.rest(q, headers={"If-None-Match": etag})
        self.assertEqual(st, 304)
        self.assertIsNone(body2)
        self.assertEqual(h2["etag"], etag)
        st, h3, body3 = self.gw.rest(q, headers={"If-None-Match": '"0000000000000000", ' + etag})
        self.assertEqual(st, 304)
        st, h4, body4 = self.gw.rest(q, headers={"If-None-Match": '"0000000000000000"'})
        self.assertEqual(st, 200)
        self.assertEqual(body4, body)
        # another tenant's rendering is its own view (same bytes today, but
        # the validator is per view and must match its body)
        st, h5, _ = self.gw.rest(q, key="team-b", headers={"If-None-Match": etag})
        self.assertIn(st, (200, 304))
        self.assertEqual(self.upstream_calls(), 1)
        m = self.metrics()
        self.assertGreaterEqual(m["bedrockgw_not_modified_total"], 2)

    def test_errors_are_not_cached(self):
        self.fake.fault("internal")
        st, h, body = self.gw.rest({"maxResults": 9})
        self.assertEqual(st, 503)
        self.assertEqual(h.get("cache-control"), "no-store")
        st, h, body = self.gw.rest({"maxResults": 9})
        self.assertEqual(st, 200)
        self.assertEqual(self.upstream_calls(), 2)


class Expiry(CacheBase):
    def test_ttl_expiry_makes_a_new_call(self):
        gw = self.cache_gw(ttl_ms=300)
        q = {"maxResults": 3}
        gw.rest(q)
        gw.rest(q)
        self.assertEqual(self.upstream_calls(), 1)
        time.sleep(0.45)
        st, h, body = gw.rest(q)
        self.assertEqual(st, 200)
        self.assertEqual(h["x-cache"], "miss")
        self.assertEqual(self.upstream_calls(), 2)

    def test_stale_while_revalidate_refreshes_once(self):
        gw = self.cache_gw(ttl_ms=1000, swr_ms=3000)
        q = {"maxResults": 4}
        gw.rest(q)
        self.assertEqual(self.upstream_calls(), 1)
        time.sleep(1.1)
        self.fake.fault("delay", delay_ms=300)
        t0 = time.time()
        outs = [gw.rest(q) for _ in range(5)]
        self.assertLess(time.time() - t0, 0.28, "stale answers must not wait for the refresh")
        for st, h, body in outs:
            self.assertEqual(st, 200)
            self.assertEqual(h["x-cache"], "stale")
            self.assertEqual(h["warning"], '110 - "Response is Stale"')
            self.assertEqual(h["cache-control"], "private, max-age=0")
        resp, call = gw.grpc(pb.ListModelImportJobsRequest(max_results=4))
        md = dict(call.trailing_metadata())
        self.assertEqual(md.get("x-cache"), "stale")
        self.assertIn("110", md.get("warning", ""))
        time.sleep(0.5)
        self.assertEqual(self.upstream_calls(), 2, "one background refresh")
        st, h, body = gw.rest(q)
        self.assertEqual(h["x-cache"], "hit")
        self.assertEqual(self.upstream_calls(), 2)
        m = self.metrics(gw)
        self.assertGreaterEqual(m['bedrockgw_cache_stale_served_total{reason="revalidating"}'], 6)
        self.assertEqual(m["bedrockgw_cache_background_refreshes_total"], 1)

    def test_stale_if_error(self):
        gw = self.cache_gw(ttl_ms=300, sie_ms=1500)
        q = {"maxResults": 5}
        st, h, fresh = gw.rest(q)
        self.assertEqual(st, 200)
        time.sleep(0.4)
        for kind in ("throttle", "internal"):
            self.fake.fault(kind, retry_after_s=1)
            st, h, body = gw.rest(q)
            self.assertEqual(st, 200, body)
            self.assertEqual(body, fresh)
            self.assertEqual(h["x-cache"], "stale")
            self.assertEqual(h["warning"], '111 - "Revalidation Failed"')
        self.fake.fault("throttle")
        resp, call = gw.grpc(pb.ListModelImportJobsRequest(max_results=5))
        md = dict(call.trailing_metadata())
        self.assertEqual(md.get("x-cache"), "stale")
        self.assertIn("111", md.get("warning", ""))
        self.assertEqual(len(resp.model_import_job_summaries), 5)
        # a non-retryable error is not masked
        self.fake.fault("validation")
        st, h, body = gw.rest(q)
        self.assertEqual(st, 400)
        m = self.metrics(gw)
        self.assertGreaterEqual(m['bedrockgw_cache_stale_served_total{reason="error"}'], 3)
        self.assertGreaterEqual(m['bedrockgw_upstream_calls_total{outcome="throttled"}'], 1)
        self.assertGreaterEqual(m['bedrockgw_upstream_calls_total{outcome="server_error"}'], 1)
        # past the window, the error goes through
        time.sleep(1.5)
        self.fake.fault("throttle", retry_after_s=1)
        st, h, body = gw.rest(q)
        self.assertEqual(st, 429, body)
        self.fake.fault("internal")
        st, h, body = gw.rest(q)
        self.assertEqual(st, 503, body)

    def test_no_cache_is_never_answered_stale(self):
        gw = self.cache_gw(ttl_ms=5000, sie_ms=5000)
        q = {"maxResults": 6}
        gw.rest(q)
        self.fake.fault("throttle")
        st, h, body = gw.rest(q, headers={"Cache-Control": "no-cache"})
        self.assertEqual(st, 429)


class Budget(CacheBase):
    def test_byte_budget_under_many_keys(self):
        budget = 40000
        gw = self.cache_gw(max_bytes=budget, max_entry_bytes=20000)
        for i in range(1, 61):
            st, h, body = gw.rest({"maxResults": i % 12 + 1, "nameContains": "team-%s" % "ab"[i % 2],
                                   "creationTimeAfter": "2024-01-01T00:00:%02dZ" % (i // 2)})
            self.assertEqual(st, 200, body)
            if i % 10 == 0:
                m = self.metrics(gw)
                self.assertLessEqual(m["bedrockgw_cache_bytes"], budget)
        m = self.metrics(gw)
        self.assertGreater(m["bedrockgw_cache_evictions_total"], 0)
        self.assertGreater(m["bedrockgw_cache_entries"], 0)
        self.assertLessEqual(m["bedrockgw_cache_bytes"], budget)
        self.assertEqual(self.upstream_calls(), 60)

    def test_oversized_page_is_served_not_stored(self):
        gw = self.cache_gw(max_bytes=100000, max_entry_bytes=2048)
        q = {"maxResults": 40}
        st, h, body = gw.rest(q)
        self.assertEqual(st, 200)
        self.assertEqual(len(body["modelImportJobSummaries"]), 40)
        self.assertEqual(h.get("cache-control"), "no-store")
        gw.rest(q)
        self.assertEqual(self.upstream_calls(), 2)
        m = self.metrics(gw)
        self.assertGreaterEqual(m["bedrockgw_cache_rejected_total"], 2)


class MetricsAndDisabled(CacheBase):
    def test_metrics_by_transport_and_code(self):
        self.gw.rest({"maxResults": 2})
        self.gw.rest({"maxResults": 2})
        self.gw.rest({"maxResults": 0})
        self.gw.grpc(pb.ListModelImportJobsRequest(max_results=2))
        m = self.metrics()
        self.assertGreaterEqual(m['bedrockgw_requests_total{transport="rest",code="OK"}'], 2)
        self.assertGreaterEqual(m['bedrockgw_requests_total{transport="rest",code="INVALID_ARGUMENT"}'], 1)
        self.assertGreaterEqual(m['bedrockgw_requests_total{transport="grpc",code="OK"}'], 1)
        self.assertGreaterEqual(m["bedrockgw_cache_hits_total"], 2)
        self.assertGreaterEqual(m["bedrockgw_cache_misses_total"], 1)
        for k in ("bedrockgw_cache_entries", "bedrockgw_cache_bytes", "bedrockgw_cache_evictions_total",
                  'bedrockgw_cache_stale_served_total{reason="error"}',
                  'bedrockgw_upstream_calls_total{outcome="timeout"}'):
            self.assertIn(k, m)

    def test_disabled_cache_passes_through(self):
        gw = self.start_gateway(cache={"enabled": False})
        q = {"maxResults": 3}
        st, h, body = gw.rest(q)
        gw.rest(q)
        self.assertEqual(self.upstream_calls(), 2)
        self.assertEqual(h["cache-control"], "no-store")
        self.assertNotIn("x-cache", h)
        self.assertIn("etag", h)
        m = self.metrics(gw)
        self.assertEqual(m['bedrockgw_upstream_calls_total{outcome="ok"}'], 2)
        self.assertNotIn("bedrockgw_cache_bytes", m)


if __name__ == "__main__":
    unittest.main()
