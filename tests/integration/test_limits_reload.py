"""Per-tenant rate limits and live reload (SIGHUP), real gateway + emulator.

Rate limits: team-a floods (REST and gRPC, from several threads) and gets
429 / RESOURCE_EXHAUSTED with Retry-After computed from its bucket, while
team-b's requests in the same window all succeed. Assertions are on counts
bounded by the measured elapsed time, never on timings.

Reload: a background thread calls continuously (REST and gRPC) for an
unchanged tenant while the test rewrites the config (adds a tenant and key,
removes another) and sends SIGHUP; zero calls fail, the new key works, the
removed key stops working, a call in flight across the reload finishes on
the old config. An invalid new config is logged (file, key, problem) and the
old one stays.
"""
import json
import math
import os
import signal
import threading
import time
import unittest

import grpc

from harness import KEYS, GatewayTestCase, base_config, pb, sha256_hex

KEY_C = "key-team-c-5555555555"


def tenants(limits=None, extra=()):
    out = []
    for t, k in sorted(KEYS.items()):
        d = {"id": t, "api_keys": [sha256_hex(k)]}
        if limits and t in limits:
            d["rate_limit"] = limits[t]
        out.append(d)
    return out + list(extra)


class RateLimit(GatewayTestCase):
    config_over = {"tenants": tenants({"team-a": {"rps": 2, "burst": 5}, "team-b": {"rps": 2, "burst": 5}})}

    def test_flood_is_refused_for_its_tenant_only(self):
        rps, burst = 2, 5
        results = []  # (transport, ok, retry_after)
        lock = threading.Lock()

        def flood(n, use_grpc):
            for _ in range(n):
                if use_grpc:
                    try:
                        _, call = self.gw.grpc(pb.ListModelImportJobsRequest(max_results=1), key="team-a")
                        r = ("grpc", True, None)
                    except grpc.RpcError as e:
                        self.assertEqual(e.code(), grpc.StatusCode.RESOURCE_EXHAUSTED, e.details())
                        self.assertIn("rate limit exceeded for tenant team-a", e.details())
                        md = dict(e.trailing_metadata() or ())
                        r = ("grpc", False, md.get("retry-after"))
                else:
                    status, h, body = self.gw.rest({"maxResults": 1}, key="team-a")
                    if status != 200:
                        self.assertEqual(status, 429, body)
                        self.assertEqual(body["code"], 8)
                    r = ("rest", status == 200, h.get("retry-after"))
                with lock:
                    results.append(r)

        start = time.monotonic()
        threads = [threading.Thread(target=flood, args=(15, i % 2 == 1)) for i in range(6)]
        for t in threads:
            t.start()
        # team-b, in the same window, within its own burst: every call succeeds.
        b_results = []
        for i in range(burst - 1):
            if i % 2:
                resp, _ = self.gw.grpc(pb.ListModelImportJobsRequest(max_results=1), key="team-b")
                b_results.append(len(resp.model_import_job_summaries) == 1)
            else:
                status, _, body = self.gw.rest({"maxResults": 1}, key="team-b")
                b_results.append(status == 200)
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        self.assertEqual(b_results, [True] * (burst - 1))
        accepted = sum(1 for r in results if r[1])
        refused = [r for r in results if not r[1]]
        self.assertEqual(len(results), 90)
        # At most the burst plus what the rate refilled meanwhile.
        self.assertLessEqual(accepted, burst + math.ceil(rps * elapsed) + 1, (accepted, elapsed))
        self.assertGreaterEqual(accepted, burst)
        self.assertGreater(len(refused), 0)
        for transport, _, ra in refused:
            self.assertIsNotNone(ra, transport)
            self.assertTrue(1 <= int(ra) <= math.ceil(1 / rps), (transport, ra))
        self.assertIn("grpc", {r[0] for r in refused})
        self.assertIn("rest", {r[0] for r in refused})
        # Refused calls never reach Bedrock.
        self.assertEqual(len(self.fake.api_requests()), accepted + len(b_results))
        e = self.gw.wait_access(lambda e: e["tenant"] == "team-a" and e["code"] == "RESOURCE_EXHAUSTED")
        self.assertEqual(e["http_status"], 429)


class Reload(GatewayTestCase):

    def write_config(self, gw, cfg):
        tmp = gw.cfg_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(cfg, f)
        os.replace(tmp, gw.cfg_path)

    def reload(self, gw, expect_event):
        n = len(gw.proc.log_events(expect_event))
        gw.proc.p.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while len(gw.proc.log_events(expect_event)) <= n:
            self.assertLess(time.time(), deadline, "no %s event:\n%s" % (expect_event, gw.proc.text()[-3000:]))
            time.sleep(0.02)
        return gw.proc.log_events(expect_event)[-1]

    def test_reload_under_traffic(self):
        gw = self.start_gateway(secrets=(KEY_C,))
        # A call of team-b, which the reload removes, held upstream across it.
        self.fake.fault("delay", count=1, delay_ms=1500)
        held = gw.grpc_future(pb.ListModelImportJobsRequest(max_results=2), key="team-b")
        time.sleep(0.3)

        stop = threading.Event()
        failures, counts = [], {"before": 0, "after": 0}
        reloaded = threading.Event()

        def traffic():
            i = 0
            while not stop.is_set():
                phase = "after" if reloaded.is_set() else "before"
                try:
                    if i % 2:
                        gw.grpc(pb.ListModelImportJobsRequest(max_results=1), key="team-a")
                    else:
                        status, _, body = gw.rest({"maxResults": 1}, key="team-a")
                        if status != 200:
                            failures.append((status, body))
                except Exception as e:  # noqa: BLE001 - every failure counts
                    failures.append(repr(e))
                counts[phase] += 1
                i += 1

        th = threading.Thread(target=traffic)
        th.start()
        try:
            while counts["before"] < 20:
                time.sleep(0.01)
            cfg = base_config(self.fake.url, tenants=[
                {"id": "team-a", "api_keys": [sha256_hex(KEYS["team-a"])]},
                {"id": "team-c", "api_keys": [sha256_hex(KEY_C)], "rate_limit": {"rps": 100, "burst": 100}},
            ])
            self.write_config(gw, cfg)
            ev = self.reload(gw, "reloaded")
            self.assertEqual(ev["tenants"], 2)
            self.assertEqual(ev["generation"], 1)
            self.assertGreaterEqual(ev["inflight"], 1)  # the held team-b call
            reloaded.set()
            while counts["after"] < 20:
                time.sleep(0.01)
        finally:
            stop.set()
            th.join()
        self.assertEqual(failures, [])
        # The held call (team-b, removed meanwhile) finished on its config.
        resp = held.result(timeout=10)
        self.assertEqual(len(resp.model_import_job_summaries), 2)
        # The new key works on both transports; the removed one does not.
        status, _, _ = gw.rest({"maxResults": 1}, key=KEY_C)
        self.assertEqual(status, 200)
        gw.grpc(pb.ListModelImportJobsRequest(max_results=1), key=KEY_C)
        gw.wait_access(lambda e: e["tenant"] == "team-c")
        status, _, body = gw.rest({"maxResults": 1}, key="team-b")
        self.assertEqual(status, 401, body)
        with self.assertRaises(grpc.RpcError) as cm:
            gw.grpc(key="team-b")
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        # Listener settings are not reloaded: nothing asked for a restart here.
        self.assertEqual(gw.proc.log_events("reload_restart_required"), [])

    def test_invalid_reload_keeps_the_old_config(self):
        gw = self.start_gateway()
        with open(gw.cfg_path) as f:
            good = f.read()
        bad = base_config(self.fake.url)
        bad["tenants"][0]["rate_limit"] = {"rps": -1}
        self.write_config(gw, bad)
        ev = self.reload(gw, "reload_failed")
        self.assertIn(gw.cfg_path, ev["error"])
        self.assertIn("tenants[0].rate_limit.rps: must be between", ev["error"])
        with open(gw.cfg_path, "w") as f:
            f.write("{not json")
        ev = self.reload(gw, "reload_failed")
        self.assertIn(gw.cfg_path + ": line 1", ev["error"])
        # The old config stays: both keys still work, nothing was reloaded.
        for key in ("team-a", "team-b"):
            self.assertEqual(gw.rest({"maxResults": 1}, key=key)[0], 200)
        self.assertEqual(gw.proc.log_events("reloaded"), [])
        # A valid file that also changes a listener: the rest is applied, the
        # listener change is reported as needing a restart.
        cfg = json.loads(good)
        cfg["http"]["listen"] = "127.0.0.1:1"
        cfg["tenants"] = cfg["tenants"][:1]
        self.write_config(gw, cfg)
        self.reload(gw, "reloaded")
        ev = gw.proc.log_events("reload_restart_required")[-1]
        self.assertIn("http.listen", ev["keys"])
        self.assertEqual(gw.rest({"maxResults": 1}, key="team-a")[0], 200)
        self.assertEqual(gw.rest({"maxResults": 1}, key="team-b")[0], 401)

    def test_rate_limit_buckets_survive_reload(self):
        """An emptied bucket is not refilled by a reload (no fresh burst);
        a tenant added by the reload starts with a full one."""
        cfg = base_config(self.fake.url, tenants=tenants({"team-a": {"rps": 0.01, "burst": 2}}))
        gw = self.start_gateway(cfg=cfg)
        codes = [gw.rest({"maxResults": 1}, key="team-a")[0] for _ in range(3)]
        self.assertEqual(codes, [200, 200, 429])
        cfg["tenants"].append({"id": "team-c", "api_keys": [sha256_hex(KEY_C)],
                               "rate_limit": {"rps": 0.01, "burst": 2}})
        self.write_config(gw, cfg)
        self.reload(gw, "reloaded")
        status, h, _ = gw.rest({"maxResults": 1}, key="team-a")
        self.assertEqual(status, 429)
        # 0.01 rps: the next token is up to 100 s away, and says so.
        self.assertTrue(1 < int(h["retry-after"]) <= 100, h["retry-after"])
        self.assertEqual([gw.rest({"maxResults": 1}, key=KEY_C)[0] for _ in range(3)], [200, 200, 429])


if __name__ == "__main__":
    unittest.main()
