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


# One upstream attempt per page: these tests count upstream calls and pin
# how errors reach the cache; the fetcher's retries are test_resilience.py's.
ONE_ATTEMPT = {"max_attempts": 1}


class CacheBase(GatewayTestCase):
    fake_args = {"generate": 60, "seed": 5}
    config_over = {"cache": dict(CACHE), "upstream": dict(ONE_ATTEMPT)}

    def start_gateway(self, cfg=None, **kw):
        if cfg is not None:
            cfg.setdefault("upstream", dict(ONE_ATTEMPT))
        else:
            kw.setdefault("upstream", dict(ONE_ATTEMPT))
        return super().start_gateway(cfg=cfg, **kw)

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
        # The page came from the cache (no new upstream call), but this
        # caller's own view (gRPC) did not exist: clients are told "miss".
        self.assertIn(("x-cache", "miss"), call.trailing_metadata())
        resp, call = self.gw.grpc(req)
        self.assertEqual(self.upstream_calls(), 1)
        self.assertIn(("x-cache", "hit"), call.trailing_metadata())


class Keys(CacheBase):
    def test_share_across_tenants_false_keeps_tenants_pages_apart(self):
        q = {"maxResults": 7}
        # shared (the default): team-b's question is answered from the page
        # team-a's fetched, no second upstream call (only timing tells)
        g = self.cache_gw()
        self.assertEqual(g.rest(q, key="team-a")[0], 200)
        self.assertEqual(g.rest(q, key="team-b")[0], 200)
        self.assertEqual(self.upstream_calls(), 1)
        self.fake.reset()
        # apart: each tenant fetches its own page, and hits only its own
        g = self.start_gateway(cache=dict(CACHE, share_across_tenants=False))
        st, h, a1 = g.rest(q, key="team-a")
        self.assertEqual((st, h["x-cache"]), (200, "miss"))
        st, h, b1 = g.rest(q, key="team-b")
        self.assertEqual((st, h["x-cache"]), (200, "miss"))
        self.assertEqual(self.upstream_calls(), 2)
        st, h, b2 = g.rest(q, key="team-b")
        self.assertEqual((st, h["x-cache"], b2), (200, "hit", b1))
        self.assertEqual(self.upstream_calls(), 2)

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
        # team-b's answer came from team-a's cached page (one upstream call),
        # but its headers must not tell team-b that someone asked before.
        self.assertEqual(h_b["x-cache"], "miss")
        self.assertEqual(h_b.get("age", "0"), "0")
        rid = h_b["x-request-id"]
        e = self.gw.wait_access(lambda e: e.get("request_id") == rid)
        self.assertEqual(e["cache"], "hit")  # the audit line keeps the truth
        st_b2, h_b2, body_b2 = self.gw.rest({"maxResults": 6}, key="team-b")
        self.assertEqual((h_b2["x-cache"], body_b2), ("hit", body_b))
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
        # the audit line says what was sent: 304
        e = self.gw.wait_access(lambda e: e["request_id"] == h2["x-request-id"])
        self.assertEqual(e["http_status"], 304)
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
        # the refreshed page is served from the cache (no new upstream call);
        # its first view is rendered anew, so the client is told "miss" once
        st, h, body = gw.rest(q)
        self.assertEqual(h["x-cache"], "miss")
        self.assertEqual(self.upstream_calls(), 2)
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

    def test_stale_if_error_while_the_breaker_is_open_and_on_malformed_bodies(self):
        cfg = dict(CACHE)
        cfg.update(ttl_ms=300, swr_ms=0, sie_ms=60000)
        gw = self.start_gateway(cache=cfg, upstream={"breaker_threshold": 2,
                                                     "breaker_cooldown_ms": 30000})
        q = {"maxResults": 5}
        st, h, fresh = gw.rest(q)
        self.assertEqual(st, 200)
        time.sleep(0.4)
        # a malformed Bedrock body is an upstream failure: stale page
        self.fake.fault("malformed")
        st, h, body = gw.rest(q)
        self.assertEqual((st, h["x-cache"], body), (200, "stale", fresh))
        self.fake.fault("internal", count=50)
        for _ in range(2):  # these open the breaker
            st, h, body = gw.rest(q)
            self.assertEqual((st, h["x-cache"]), (200, "stale"), body)
        before = self.upstream_calls()
        for _ in range(10):  # breaker open: no upstream call, still the stale page
            st, h, body = gw.rest(q)
            self.assertEqual((st, h["x-cache"], body), (200, "stale", fresh))
            self.assertEqual(h["warning"], '111 - "Revalidation Failed"')
        resp, call = gw.grpc(pb.ListModelImportJobsRequest(max_results=5))
        self.assertEqual(dict(call.trailing_metadata()).get("x-cache"), "stale")
        self.assertEqual(self.upstream_calls(), before)
        # a question never cached gets the breaker's 503
        st, h, body = gw.rest({"maxResults": 6})
        self.assertEqual(st, 503, body)
        self.assertIn("circuit breaker", body["message"])
        self.fake.reset()

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


class ReloadAndAudit(CacheBase):
    """Issue 4 x issue 3b: stored views and config snapshots, the audit line
    of calls answered from the cache, /metrics hygiene."""
    LONG = {"enabled": True, "ttl_ms": 3600000, "swr_ms": 0, "sie_ms": 0}
    # Two prefixes or more are never pushed upstream (one would become
    # nameContains, a different upstream page): the tightened policy reads
    # the very same cached upstream pages, only the stored views differ.
    WIDE = {"job_name_prefixes": ["team-a-", "shared-", "team-b-"]}
    NARROW = {"job_name_prefixes": ["team-a-", "team-b-"]}

    def policy_config(self, policy, cache=None, tokens=None):
        from policyutil import tenant
        from harness import KEYS
        cfg = base_config(self.fake.url, cache=dict(cache or self.LONG))
        cfg["tenants"] = [tenant("team-a", KEYS["team-a"], policy), tenant("team-b", KEYS["team-b"])]
        if tokens:
            cfg["tokens"] = tokens
        return cfg

    def reload(self, gw, cfg, event="reloaded"):
        import json
        import os
        import signal
        tmp = gw.cfg_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(cfg, f)
        os.replace(tmp, gw.cfg_path)
        n = len(gw.proc.log_events(event))
        gw.proc.p.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while len(gw.proc.log_events(event)) <= n:
            self.assertLess(time.time(), deadline, gw.proc.text()[-3000:])
            time.sleep(0.02)
        return gw.proc.log_events(event)[-1]

    def access(self, gw, request_id):
        return gw.wait_access(lambda e: e.get("request_id") == request_id)

    def test_reload_tightening_policy_is_honoured_by_the_next_request(self):
        from policyutil import expected_arns
        gw = self.start_gateway(cfg=self.policy_config(self.WIDE))
        q = {"maxResults": 8}
        req = pb.ListModelImportJobsRequest(max_results=8)
        st, h, wide = gw.rest(q)
        self.assertEqual(st, 200, wide)
        st, h, again = gw.rest(q)
        self.assertEqual((h["x-cache"], again), ("hit", wide))  # served from the stored view
        resp, _ = gw.grpc(req)
        resp, _ = gw.grpc(req)
        names = [j["jobName"] for j in wide["modelImportJobSummaries"]]
        self.assertTrue(any(n.startswith("shared-") for n in names), "data set too small: %s" % names)
        self.reload(gw, self.policy_config(self.NARROW))
        jobs = self.fake.jobs()
        want = expected_arns(jobs, self.NARROW, q)[:8]
        # the very next identical request, both transports: only the rows the
        # new policy allows (the upstream pages may still come from the cache)
        st, h, narrow = gw.rest(q)
        self.assertEqual(st, 200, narrow)
        self.assertEqual([j["jobArn"] for j in narrow["modelImportJobSummaries"]], want)
        # the upstream page was reused; the view is new under the new config
        self.assertEqual(h["x-cache"], "miss")
        resp, _ = gw.grpc(req)
        self.assertEqual([j.job_arn for j in resp.model_import_job_summaries], want)
        # and its own view is kept from then on
        st, h, narrow2 = gw.rest(q)
        self.assertEqual(narrow2, narrow)
        # widening again by reload is honoured just as fast
        self.reload(gw, self.policy_config(self.WIDE))
        st, h, wide2 = gw.rest(q)
        self.assertEqual([j["jobArn"] for j in wide2["modelImportJobSummaries"]],
                         expected_arns(jobs, self.WIDE, q)[:8])

    def test_cache_settings_are_restart_only(self):
        gw = self.start_gateway(cfg=self.policy_config(self.WIDE))
        changed = dict(self.LONG, ttl_ms=1000)
        ev = self.reload(gw, self.policy_config(self.WIDE, cache=changed), event="reload_restart_required")
        self.assertIn("cache", ev["keys"])
        # the running cache keeps its long TTL
        gw.rest({"maxResults": 3})
        time.sleep(1.3)
        before = self.upstream_calls()
        st, h, _ = gw.rest({"maxResults": 3})
        self.assertEqual((st, h["x-cache"]), (200, "hit"))
        self.assertEqual(self.upstream_calls(), before)

    def test_audit_line_of_a_call_answered_from_a_view(self):
        gw = self.start_gateway(cfg=self.policy_config(self.WIDE))
        q = {"maxResults": 4}
        st, h1, first = gw.rest(q)
        st, h2, second = gw.rest(q)
        self.assertEqual((h1["x-cache"], h2["x-cache"]), ("miss", "hit"))
        e1 = self.access(gw, h1["x-request-id"])
        e2 = self.access(gw, h2["x-request-id"])
        items = len(first["modelImportJobSummaries"])
        more = bool(first.get("nextToken"))
        self.assertTrue(more, "data set too small for a next page")
        self.assertEqual((e1["cache"], e1["items"], e1["more"]), ("miss", items, more))
        self.assertGreaterEqual(e1["upstream_calls"], 1)
        self.assertNotIn("view", e1)
        self.assertEqual((e2["cache"], e2["items"], e2["more"], e2["upstream_calls"]),
                         ("hit", items, more, 0))
        self.assertTrue(e2["view"])
        self.assertEqual(e2["tenant"], "team-a")
        self.assertEqual(e2["filters"]["pageSize"], 4)
        # gRPC: the first gRPC call renders its own view, the second uses it
        req = pb.ListModelImportJobsRequest(max_results=4)
        for view in (False, True):
            resp, call = gw.grpc(req)
            md = dict(call.trailing_metadata())
            rid = md.get("x-request-id") or dict(call.initial_metadata()).get("x-request-id")
            self.assertEqual(md["x-cache"], "hit" if view else "miss")
            pred = (lambda e, rid=rid: e.get("request_id") == rid) if rid else \
                (lambda e: e.get("transport") == "grpc" and bool(e.get("view")) == view)
            e = gw.wait_access(pred)
            self.assertEqual((e["cache"], e["items"], e["more"], e["upstream_calls"]),
                             ("hit", len(resp.model_import_job_summaries), bool(resp.next_token), 0))
            self.assertEqual(bool(e.get("view")), view)

    def test_audit_line_of_coalesced_waiters(self):
        gw = self.start_gateway(cfg=self.policy_config(self.WIDE))
        self.fake.fault("delay", delay_ms=500)
        q = {"maxResults": 5, "statusEquals": "Completed"}
        threads = [threading.Thread(target=gw.rest, args=(q,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(self.upstream_calls(), 1)
        deadline = time.time() + 3
        while len([e for e in gw.access_events() if "cache" in e]) < 4 and time.time() < deadline:
            time.sleep(0.02)
        evs = [e for e in gw.access_events() if "cache" in e]
        self.assertEqual(sorted(e["cache"] for e in evs), ["coalesced"] * 3 + ["miss"])
        for e in evs:
            self.assertEqual(e["upstream_calls"], 1 if e["cache"] == "miss" else 0)
            self.assertIn("items", e)

    def test_metrics_never_show_keys_or_tokens(self):
        from harness import AKID, KEYS, SECRET, sha256_hex
        from policyutil import SECRET as TOKEN_SECRET
        gw = self.start_gateway(cfg=self.policy_config(self.WIDE, tokens={"secret": TOKEN_SECRET}),
                                secrets=(TOKEN_SECRET,))
        st, h, body = gw.rest({"maxResults": 2})
        token = body["nextToken"]
        gw.rest({"maxResults": 2, "nextToken": token})
        gw.rest({"maxResults": 2}, key="team-b")
        gw.rest({"maxResults": 2}, key="not-a-key-xyz-123456")
        gw.grpc(pb.ListModelImportJobsRequest(max_results=2))
        c = http.client.HTTPConnection("127.0.0.1", gw.http_port, timeout=10)
        c.request("GET", "/metrics", headers={"x-api-key": KEYS["team-a"]})
        r = c.getresponse()
        text = r.read().decode()
        c.close()
        self.assertEqual(r.status, 200)
        self.assertIn("bedrockgw_cache_hits_total", text)
        for secret in list(KEYS.values()) + [sha256_hex(k) for k in KEYS.values()] + [
                token, token[:16], TOKEN_SECRET, AKID, SECRET, "not-a-key-xyz-123456"]:
            self.assertNotIn(secret, text)
        self.assertNotIn("nextToken", text)

    def test_metrics_can_be_switched_off(self):
        cfg = self.policy_config(self.WIDE)
        cfg["http"]["metrics_enabled"] = False
        gw = self.start_gateway(cfg=cfg)
        c = http.client.HTTPConnection("127.0.0.1", gw.http_port, timeout=10)
        c.request("GET", "/metrics")
        r = c.getresponse()
        r.read()
        c.close()
        self.assertEqual(r.status, 404)
        st, h, body = gw.rest({"maxResults": 2})
        self.assertEqual(st, 200, body)


if __name__ == "__main__":
    unittest.main()


class GrpcViewHits(ReloadAndAudit):
    """gRPC cache hits answered from a stored view (by reference): same
    answer, metadata, audit line, counters and rate limit as REST; anything
    else (no-cache, max-age, another tenant) is not such a hit."""

    def direct(self, gw):
        """gRPC answers sent from a fresh entry's stored view (audit lines)."""
        time.sleep(0.05)
        return len([e for e in gw.access_events()
                    if e.get("transport") == "grpc" and e.get("cache") == "hit" and e.get("view")])

    def call(self, gw, req, **kw):
        resp, call = gw.grpc(req, **kw)
        md = dict(call.trailing_metadata())
        rid = dict(call.initial_metadata()).get("x-request-id")
        return resp, md, rid

    def test_repeated_call_is_answered_directly(self):
        gw = self.start_gateway(cfg=self.policy_config(self.WIDE))
        req = pb.ListModelImportJobsRequest(max_results=4)
        first, md1, rid1 = self.call(gw, req)
        self.assertEqual((md1["x-cache"], self.direct(gw)), ("miss", 0))  # renders the view
        calls = self.upstream_calls()
        second, md2, rid2 = self.call(gw, req)
        self.assertEqual(md2["x-cache"], "hit")
        self.assertEqual(second.SerializeToString(), first.SerializeToString())
        self.assertNotEqual(rid1, rid2)
        self.assertEqual(self.upstream_calls(), calls)
        m = self.metrics(gw)
        self.assertEqual(self.direct(gw), 1)
        self.assertEqual(m['bedrockgw_requests_total{transport="grpc",code="OK"}'], 2)
        self.assertEqual(m["bedrockgw_cache_hits_total"], 1)
        e = self.access(gw, rid2)
        self.assertEqual((e["cache"], e["items"], e["more"], e["upstream_calls"], e["tenant"]),
                         ("hit", len(first.model_import_job_summaries), bool(first.next_token), 0,
                          "team-a"))
        self.assertTrue(e["view"])
        self.assertEqual(e["grpc_code"], 0)
        # another tenant asking the same question is not served team-a's view
        other, md3, _ = self.call(gw, req, key="team-b")
        self.assertEqual(md3["x-cache"], "miss")
        self.assertNotEqual(other.SerializeToString(), first.SerializeToString())
        self.assertEqual(self.direct(gw), 1)

    def test_rate_limit_holds_for_direct_hits(self):
        cfg = self.policy_config(self.WIDE)
        cfg["tenants"][0]["rate_limit"] = {"rps": 0.01, "burst": 2}
        gw = self.start_gateway(cfg=cfg)
        req = pb.ListModelImportJobsRequest(max_results=3)
        self.call(gw, req)
        _, md, _ = self.call(gw, req)
        self.assertEqual((md["x-cache"], self.direct(gw)), ("hit", 1))
        with self.assertRaises(grpc.RpcError) as ctx:
            gw.grpc(req)
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertIn("rate limit", ctx.exception.details())
        self.assertIn("retry-after", dict(ctx.exception.trailing_metadata()))
        self.assertEqual(self.direct(gw), 1)
        # its audit line is the loop's, not a mix with the direct attempt
        e = gw.wait_access(lambda e: e.get("code") == "RESOURCE_EXHAUSTED")
        self.assertEqual(e["tenant"], "team-a")
        self.assertNotIn("filters", e)
        self.assertNotIn("cache", e)

    def test_no_cache_and_max_age_are_not_view_hits(self):
        gw = self.start_gateway(cfg=self.policy_config(self.WIDE))
        req = pb.ListModelImportJobsRequest(max_results=3)
        first, _, _ = self.call(gw, req)
        self.call(gw, req)
        self.assertEqual(self.direct(gw), 1)
        before = self.upstream_calls()
        _, md, _ = self.call(gw, req, metadata=[("cache-control", "no-cache")])
        self.assertEqual(md["x-cache"], "bypass")
        self.assertEqual(self.upstream_calls(), before + 1)
        # a next page (gateway page token): answered by the loop, from its view
        self.assertTrue(first.next_token)
        page2 = pb.ListModelImportJobsRequest(max_results=3, next_token=first.next_token)
        self.call(gw, page2)
        _, md, _ = self.call(gw, page2)
        self.assertEqual(md["x-cache"], "hit")
        self.assertEqual(self.direct(gw), 2)  # a next page is answered from its view too
        # the no-cache read stored a new entry and view: a plain repeat is a view hit
        _, md, _ = self.call(gw, req)
        self.assertEqual((md["x-cache"], self.direct(gw)), ("hit", 3))
        # max-age below the entry's age: the loop decides (here: a new read)
        time.sleep(1.1)
        before = self.upstream_calls()
        _, md, _ = self.call(gw, req, metadata=[("cache-control", "max-age=0")])
        self.assertEqual(md["x-cache"], "miss")
        self.assertEqual((self.upstream_calls(), self.direct(gw)), (before + 1, 3))

    def test_expiry_and_reloads_under_concurrent_direct_hits(self):
        """Entries expire and are replaced, and SIGHUP swaps the policy, while
        threads keep calling: every answer is exactly one policy's rows,
        never an error, and the gateway stays healthy (run under ASan in
        CI: use-after-free or a race on the shared state would show)."""
        from policyutil import expected_arns
        short = {"enabled": True, "ttl_ms": 150, "swr_ms": 0, "sie_ms": 0}
        gw = self.start_gateway(cfg=self.policy_config(self.WIDE, cache=short))
        jobs = self.fake.jobs()
        q = {"maxResults": 6}
        allowed = {tuple(expected_arns(jobs, self.WIDE, q)[:6]), tuple(expected_arns(jobs, self.NARROW, q)[:6])}
        self.assertEqual(len(allowed), 2)
        req = pb.ListModelImportJobsRequest(max_results=6)
        stop = time.time() + 3.0
        seen, errors = [], []

        def worker():
            while time.time() < stop:
                try:
                    resp, _ = gw.grpc(req)
                    seen.append(tuple(j.job_arn for j in resp.model_import_job_summaries))
                except grpc.RpcError as e:  # pragma: no cover - reported below
                    errors.append((e.code(), e.details()))

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        n = 0
        while time.time() < stop - 0.3:
            n += 1
            self.reload(gw, self.policy_config(self.NARROW if n % 2 else self.WIDE, cache=short))
            time.sleep(0.25)
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertGreater(len(seen), 50)
        self.assertLessEqual(set(seen), allowed)
        direct = self.direct(gw)
        self.assertGreater(direct, 0)
        self.assertEqual(self.metrics(gw)['bedrockgw_requests_total{transport="grpc",code="OK"}'], len(seen))
        # direct answers' audit lines are written in batches: none is lost,
        # none waits once the gateway is idle, and a drain writes the rest
        gw.wait_access(lambda e: len([x for x in gw.access_events() if x.get("transport") == "grpc"])
                       == len(seen), timeout=5)
        self.assertEqual(gw.stop(), 0)
        lines = [x for x in gw.proc.log_events("access") if x.get("transport") == "grpc"]
        self.assertEqual(len(lines), len(seen))
        self.assertGreaterEqual(len([x for x in lines if x.get("view") and x["upstream_calls"] == 0
                                     and x["cache"] == "hit"]), direct)
