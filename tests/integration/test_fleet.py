"""Scale-out (issue 13): replicas share the cache tier, single flight, rate
limits and the upstream budget through a real redis-server; Redis failing
never fails a call.

Every test starts its own redis-server (no persistence) and three gateway
replicas sharing it and one tokens.secret, against the Bedrock emulator,
which counts the upstream calls."""
import concurrent.futures
import json
import os
import re
import signal
import tempfile
import threading
import time
import unittest

import harness
from harness import Fake, Gateway, base_config, sort_key
import redisutil
import tlsutil

SECRET = "fleet-test-secret-0123456789abcdef-XYZ"
PREFIX = "bgwtest:"


def fleet_config(fake_url, redis_url, **over):
    cfg = base_config(fake_url, **over)
    cfg.setdefault("cache", {})
    cfg["cache"] = dict({"enabled": True, "ttl_ms": 2000, "swr_ms": 0, "sie_ms": 60000},
                        **over.get("cache", {}))
    cfg["tokens"] = {"secret": SECRET}
    cfg["redis"] = dict({"url": redis_url, "key_prefix": PREFIX, "timeout_ms": 100},
                        **over.get("redis", {}))
    return cfg


def metric(gw, name, labels=""):
    st, _, body = gw.rest(path="/metrics", key=None)
    text = body.decode() if isinstance(body, bytes) else str(body)
    m = re.search(r"^%s%s (\S+)$" % (re.escape(name), re.escape(labels)), text, re.M)
    return float(m.group(1)) if m else None


def names(body):
    return [j["jobName"] for j in body["modelImportJobSummaries"]]


class FleetCase(unittest.TestCase):
    replicas = 3
    fake_args = {"generate": 60, "seed": 11}
    redis_args = {}
    over = {}

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="bgw-fleet-")
        self.fake = Fake(self.tmp, **self.fake_args)
        self.addCleanup(self.fake.stop)
        self.redis = self.make_redis()
        self.addCleanup(self.redis.stop)
        self.gws = [self.start_replica(i) for i in range(self.replicas)]

    def make_redis(self):
        return redisutil.RedisServer(self.tmp, **self.redis_args)

    def replica_config(self):
        return fleet_config(self.fake.url, self.redis.url, **self.over)

    def start_replica(self, i, cfg=None, env_extra=None, secrets=()):
        d = os.path.join(self.tmp, "gw%d-%d" % (i, int(time.time() * 1000) % 100000))
        os.makedirs(d)
        g = Gateway(d, cfg or self.replica_config(), env_extra=env_extra)

        def finish():
            rc = g.stop()
            self.assertEqual(rc, 0, g.proc.text()[-4000:])
            harness.assert_log_clean(g.proc.text(), secrets=secrets)
        self.addCleanup(finish)
        return g

    def wait_event(self, gw, event, timeout=10.0, pred=lambda e: True):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for e in gw.proc.log_events(event):
                if pred(e):
                    return e
            time.sleep(0.05)
        self.fail("no %s event:\n%s" % (event, gw.proc.text()[-3000:]))

    def wait_up(self, gws=None):
        for g in gws or self.gws:
            deadline = time.time() + 10
            while metric(g, "bedrockgw_redis_up") != 1:
                self.assertLess(time.time(), deadline, g.proc.text()[-3000:])
                time.sleep(0.05)

    def wait_keys(self, client, pattern, timeout=3.0):
        """The keys matching pattern, once there are any (a replica's write
        to Redis may land just after its answer to the client)."""
        deadline = time.time() + timeout
        while True:
            keys = client.call("KEYS", pattern)
            if keys or time.time() > deadline:
                return keys
            time.sleep(0.02)

    def expected_names(self):
        """Bedrock's default order: newest first."""
        jobs = sorted(self.fake.jobs(), key=sort_key, reverse=True)
        return [j["jobName"] for j in jobs]


class SharedState(FleetCase):
    def test_300_concurrent_identical_requests_make_one_upstream_call(self):
        self.wait_up()
        self.fake.fault("delay", delay_ms=700)
        q = {"maxResults": 10}

        def one(i):
            return self.gws[i % 3].rest(q)
        with concurrent.futures.ThreadPoolExecutor(max_workers=60) as ex:
            results = list(ex.map(one, range(300)))
        statuses = [r[0] for r in results]
        self.assertEqual(statuses, [200] * 300)
        bodies = {json.dumps(r[2], sort_keys=True) for r in results}
        self.assertEqual(len(bodies), 1, "every caller saw the same page")
        self.assertEqual(names(results[0][2]), self.expected_names()[:10])
        self.assertEqual(len(self.fake.api_requests()), 1, "upstream calls for the fleet")
        # the fleet's shared key space: prefixed, versioned, hashed names only
        c = self.redis.client()
        keys = [k.decode() for k in self.wait_keys(c, "*")]
        c.close()
        self.assertTrue(keys)
        for k in keys:
            self.assertRegex(k, r"^bgwtest:v1:(page|lease|rate:[a-z]+):[0-9a-f]{32}$")
            for secret in ("team-a", harness.AKID, "key-team-a"):
                self.assertNotIn(secret, k)

    def test_polling_one_view_across_replicas_costs_one_call_per_ttl(self):
        self.wait_up()
        start = time.time()
        n = 0
        while time.time() - start < 4.5:
            st, _, body = self.gws[n % 3].rest({"maxResults": 5})
            self.assertEqual(st, 200)
            self.assertEqual(names(body), self.expected_names()[:5])
            n += 1
            time.sleep(0.03)
        calls = len(self.fake.api_requests())
        # ttl 2 s over 4.5 s: at most one call per TTL period started
        self.assertLessEqual(calls, 3, "%d upstream calls for %d polls" % (calls, n))
        self.assertGreater(n, 60)
        hits = sum(metric(g, "bedrockgw_cache_l2_total", '{result="hit"}') for g in self.gws)
        self.assertGreaterEqual(hits, 2, "the other replicas read the page from Redis")

    def test_page_walk_alternating_replicas_returns_every_job_once_in_order(self):
        self.wait_up()
        seen, token, i = [], None, 0
        while True:
            q = {"maxResults": 7}
            if token:
                q["nextToken"] = token
            st, _, body = self.gws[i % 3].rest(q)
            self.assertEqual(st, 200, body)
            seen += names(body)
            token = body.get("nextToken")
            i += 1
            if not token:
                break
        self.assertEqual(seen, self.expected_names())
        self.assertGreater(i, 3)

    def test_stale_if_error_from_a_replica_that_never_fetched_the_page(self):
        self.wait_up()
        st, _, first = self.gws[0].rest({"maxResults": 4})
        self.assertEqual(st, 200)
        time.sleep(2.3)  # past ttl_ms (2 s), inside sie_ms
        self.fake.fault("internal", count=20)
        st, h, body = self.gws[1].rest({"maxResults": 4})
        self.assertEqual(st, 200, body)
        # the same rows (a page token is minted afresh for every answer)
        self.assertEqual(body["modelImportJobSummaries"], first["modelImportJobSummaries"])
        self.assertEqual(h.get("x-cache"), "stale", h)
        reqs = self.fake.api_requests()
        self.assertGreaterEqual(len(reqs), 2, "replica 1 tried Bedrock itself")
        self.assertEqual(reqs[-1]["status"], 500)

    def test_a_max_age_the_shared_page_does_not_meet_goes_upstream(self):
        self.wait_up()
        st, _, first = self.gws[0].rest({"maxResults": 3})
        self.assertEqual(st, 200)
        time.sleep(1.1)  # the shared page is fresh (ttl 2 s) but over a second old
        st, h, body = self.gws[1].rest({"maxResults": 3}, headers={"cache-control": "max-age=1"})
        self.assertEqual(st, 200, body)
        self.assertEqual(body["modelImportJobSummaries"], first["modelImportJobSummaries"])
        self.assertEqual(len(self.fake.api_requests()), 2, "its own upstream call")

    def test_tenant_rate_limit_holds_across_the_fleet(self):
        self.wait_up()
        # 5/s with a burst of 5, whoever's replica the calls land on
        accepted = refused = 0
        start = time.time()
        i = 0
        while time.time() - start < 2.0:
            st, h, _ = self.gws[i % 3].rest({"maxResults": 1}, key="team-b")
            if st == 200:
                accepted += 1
            else:
                self.assertEqual(st, 429)
                self.assertIn("retry-after", h)
                refused += 1
            i += 1
        elapsed = time.time() - start
        allowed = 5 + 5 * elapsed
        self.assertLessEqual(accepted, allowed + 2, (accepted, refused, elapsed))
        self.assertGreaterEqual(accepted, allowed - 3, (accepted, refused, elapsed))
        self.assertGreater(refused, 0)

    def replica_config(self):
        cfg = super().replica_config()
        for t in cfg["tenants"]:
            if t["id"] == "team-b":
                t["rate_limit"] = {"rps": 5, "burst": 5}
        return cfg


class Revalidation(FleetCase):
    over = {"cache": {"ttl_ms": 1500, "swr_ms": 30000, "sie_ms": 0}}

    def test_one_background_refresh_per_key_for_the_fleet(self):
        self.wait_up()
        q = {"maxResults": 8}
        for g in self.gws:  # every replica holds the page locally
            self.assertEqual(g.rest(q)[0], 200)
        self.assertEqual(len(self.fake.api_requests()), 1)
        time.sleep(1.6)  # stale now, inside stale-while-revalidate
        self.fake.fault("delay", delay_ms=400)  # the refresh overlaps the others
        for g in self.gws:
            st, h, body = g.rest(q)
            self.assertEqual(st, 200)
            self.assertEqual(h.get("x-cache"), "stale")
            self.assertEqual(names(body), self.expected_names()[:8])
        time.sleep(0.6)
        self.assertEqual(len(self.fake.api_requests()), 2, "one refresh for three stale replicas")
        # the others take the refreshed page from Redis (still stale once
        # locally, then fresh), with no further upstream call
        for g in self.gws:
            self.assertEqual(g.rest(q)[0], 200)
        time.sleep(0.1)
        for g in self.gws:
            st, h, _ = g.rest(q)
            self.assertEqual(st, 200)
            self.assertNotEqual(h.get("x-cache"), "stale")
        self.assertEqual(len(self.fake.api_requests()), 2)


class UpstreamBudget(FleetCase):
    over = {"upstream": {"rate_per_s": 4, "burst": 4, "queue_wait_ms": 0}}

    def test_upstream_budget_holds_across_the_fleet(self):
        self.wait_up()
        start = time.time()
        i = 0
        codes = {}
        while time.time() - start < 2.0:
            # distinct queries: every one is a miss
            st, _, _ = self.gws[i % 3].rest({"maxResults": 1 + i % 50, "nameContains": "j%d" % i})
            codes[st] = codes.get(st, 0) + 1
            i += 1
        elapsed = time.time() - start
        calls = len(self.fake.api_requests())
        allowed = 4 + 4 * elapsed
        self.assertLessEqual(calls, allowed + 2, (calls, codes))
        self.assertGreaterEqual(calls, allowed - 3, (calls, codes))
        self.assertIn(429, codes)


class Faults(FleetCase):
    over = {"cache": {"ttl_ms": 300, "sie_ms": 60000}, "redis": {"timeout_ms": 50}}

    def load(self, seconds, during=None):
        """Clients on every replica for `seconds`; `during` runs meanwhile.
        Returns (answers, failures)."""
        stop = time.time() + seconds
        out = {"ok": 0, "bad": []}
        lock = threading.Lock()
        expected = self.expected_names()

        def worker(i):
            n = 0
            while time.time() < stop:
                q = {"maxResults": 1 + (i + n) % 5}
                st, _, body = self.gws[(i + n) % 3].rest(q)
                with lock:
                    if st == 200 and names(body) == expected[:q["maxResults"]]:
                        out["ok"] += 1
                    else:
                        out["bad"].append((st, body))
                n += 1
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        if during:
            during()
        for t in threads:
            t.join()
        return out["ok"], out["bad"]

    def test_redis_killed_then_restarted_empty(self):
        self.wait_up()

        def kill():
            time.sleep(0.7)
            self.redis.kill()
        ok, bad = self.load(2.0, kill)
        self.assertEqual(bad, [])
        self.assertGreater(ok, 50)
        for g in self.gws:
            e = self.wait_event(g, "redis_down")
            self.assertTrue(e.get("reason"), e)
            self.assertEqual(metric(g, "bedrockgw_redis_up"), 0)
            st, _, _ = g.rest({"maxResults": 3})
            self.assertEqual(st, 200)
        self.redis.start()  # same port, empty
        self.wait_up()
        for g in self.gws:
            self.wait_event(g, "redis_up", pred=lambda e: True)
            self.assertEqual(len(g.proc.log_events("redis_down")), 1, "one event per change")
        ok, bad = self.load(1.0)
        self.assertEqual(bad, [])
        self.assertGreater(sum(metric(g, "bedrockgw_cache_l2_writes_total") for g in self.gws), 0)
        c = self.redis.client()
        self.assertTrue(self.wait_keys(c, PREFIX + "v1:page:*"), "pages are shared again")
        c.close()

    def test_redis_paused_is_treated_as_down_and_calls_go_on(self):
        self.wait_up()

        def pause():
            time.sleep(0.5)
            self.redis.pause()
            time.sleep(2.0)
            self.redis.resume()
        t0 = time.time()
        ok, bad = self.load(3.5, pause)
        self.assertEqual(bad, [])
        self.assertGreater(ok, 50)
        self.assertLess(time.time() - t0, 8)
        timeouts = sum(metric(g, "bedrockgw_redis_commands_total", '{outcome="timeout"}') or 0
                       for g in self.gws)
        self.assertGreater(timeouts, 0)
        for g in self.gws:  # the stopped server was found out and left
            e = self.wait_event(g, "redis_down")
            self.assertIn("timed out", e["reason"])
        self.wait_up()
        for g in self.gws:
            self.assertEqual(len(g.proc.log_events("redis_up")), 2)

    def test_scripts_flushed_from_redis_are_loaded_again(self):
        self.wait_up()
        c = self.redis.client()
        self.assertEqual(c.call("SCRIPT", "FLUSH"), "OK")
        c.close()
        st, _, _ = self.gws[0].rest({"maxResults": 2})  # NOSCRIPT: answered without Redis
        self.assertEqual(st, 200)
        self.assertGreaterEqual(
            metric(self.gws[0], "bedrockgw_redis_commands_total", '{outcome="error"}'), 1)
        deadline = time.time() + 5
        n = 0
        while True:  # the scripts are back: a page one replica fetched is the other's hit
            n += 1
            q = {"maxResults": 3, "nameContains": "a%d" % n}
            self.assertEqual(self.gws[0].rest(q)[0], 200)
            time.sleep(0.05)
            self.assertEqual(self.gws[1].rest(q)[0], 200)
            if (metric(self.gws[1], "bedrockgw_cache_l2_total", '{result="hit"}') or 0) >= 1:
                break
            self.assertLess(time.time(), deadline, self.gws[1].proc.text()[-2000:])

    def test_redis_settings_need_a_restart(self):
        self.wait_up()
        g = self.gws[0]
        cfg = self.replica_config()
        cfg["redis"]["timeout_ms"] = 75
        cfg["redis"]["url"] = self.redis.url + "/1"
        with open(g.cfg_path, "w") as f:
            json.dump(cfg, f)
        g.send_signal(signal.SIGHUP)
        e = self.wait_event(g, "reload_restart_required")
        self.assertIn("redis.timeout_ms", e["keys"])
        self.assertIn("redis.url", e["keys"])
        g.signalled = False
        st, _, _ = g.rest({"maxResults": 2})
        self.assertEqual(st, 200)
        self.assertEqual(metric(g, "bedrockgw_redis_up"), 1)

    def test_tampered_value_is_ignored_and_counted(self):
        self.wait_up()
        st, _, good = self.gws[0].rest({"maxResults": 6})
        self.assertEqual(st, 200)
        c = self.redis.client()
        keys = self.wait_keys(c, PREFIX + "v1:page:*")
        self.assertEqual(len(keys), 1)
        v = c.call("GET", keys[0])
        forged = v.replace(good["modelImportJobSummaries"][0]["jobName"].encode(), b"X" * len(
            good["modelImportJobSummaries"][0]["jobName"]))
        self.assertNotEqual(forged, v)
        c.call("SET", keys[0], forged, "PX", 60000)
        c.close()
        calls = len(self.fake.api_requests())
        st, _, body = self.gws[1].rest({"maxResults": 6})
        self.assertEqual(st, 200)
        self.assertEqual(body["modelImportJobSummaries"], good["modelImportJobSummaries"],
                         "no forged row reached the client")
        self.assertEqual(metric(self.gws[1], "bedrockgw_redis_mac_failures_total"), 1)
        self.assertEqual(len(self.fake.api_requests()), calls + 1, "replica 1 went upstream")
        self.wait_event(self.gws[1], "redis_value_rejected")


class WrongPassword(FleetCase):
    replicas = 0
    redis_args = {"password": "right-redis-password-123"}

    def test_wrong_password_starts_ready_and_serves_without_redis(self):
        pw = os.path.join(self.tmp, "redis.pw")
        with open(pw, "w") as f:
            f.write("wrong-redis-password-456\n")
        cfg = self.replica_config()
        cfg["redis"]["password_file"] = pw
        g = self.start_replica(0, cfg, secrets=("wrong-redis-password-456",))
        e = self.wait_event(g, "redis_down")
        self.assertIn("WRONGPASS", e["reason"])
        self.assertNotIn("wrong-redis-password-456", g.proc.text())
        for _ in range(3):
            st, _, body = g.rest({"maxResults": 2})
            self.assertEqual(st, 200)
        self.assertEqual(metric(g, "bedrockgw_redis_up"), 0)
        self.assertEqual(g.health(), b"\x08\x01")  # SERVING
        st, _, _ = g.rest(path="/readyz", key=None)
        self.assertEqual(st, 200, "ready without Redis")
        # and the right one, from the environment
        cfg = self.replica_config()
        cfg["redis"]["password_env"] = "BGW_TEST_REDIS_PW"
        g2 = self.start_replica(1, cfg, env_extra={"BGW_TEST_REDIS_PW": "right-redis-password-123"},
                                secrets=("right-redis-password-123",))
        self.wait_up([g2])
        self.wait_event(g2, "redis_up")


class AclUser(FleetCase):
    """A Redis 6+ ACL user allowed only the configured prefix: every key the
    gateway touches (scripts included) is inside it."""
    replicas = 0

    def test_acl_user_limited_to_the_prefix(self):
        c = self.redis.client()
        self.assertEqual(c.call("ACL", "SETUSER", "bgw", "on", ">acl-pass-789", "~" + PREFIX + "*",
                                "+@all", "-@dangerous", "+script|load"), "OK")
        c.close()
        cfg = self.replica_config()
        cfg["redis"]["url"] = self.redis.url.replace("redis://", "redis://bgw:acl-pass-789@")
        cfg["tenants"][0]["rate_limit"] = {"rps": 100, "burst": 100}
        a = self.start_replica(0, cfg, secrets=("acl-pass-789",))
        b = self.start_replica(1, cfg, secrets=("acl-pass-789",))
        self.wait_up([a, b])
        for g in (a, b):  # the tenant's fleet bucket, the page, the lease
            st, _, _ = g.rest({"maxResults": 3}, key="team-a")
            self.assertEqual(st, 200)
        self.assertEqual(len(self.fake.api_requests()), 1)
        self.assertEqual(metric(b, "bedrockgw_redis_commands_total", '{outcome="error"}'), 0)
        self.assertEqual(metric(b, "bedrockgw_redis_rate_limit_total", '{decision="local_fallback"}'), 0)


class LeaseholderDies(FleetCase):
    replicas = 0
    over = {"redis": {"lease_ms": 800}}

    def test_waiters_make_their_own_call_when_the_leaseholder_dies(self):
        d = os.path.join(self.tmp, "doomed")
        os.makedirs(d)
        doomed = Gateway(d, self.replica_config())  # not checked at the end: it is killed
        b = self.start_replica(1)
        self.wait_up([doomed, b])
        self.fake.fault("delay", delay_ms=3000)
        def doomed_call():
            try:
                doomed.rest({"maxResults": 5})
            except (ConnectionError, OSError):
                pass  # killed while the call waited: the point of the test
        t = threading.Thread(target=doomed_call)
        t.start()
        deadline = time.time() + 5
        while not self.fake.api_requests():  # the doomed replica holds the lease, its call is out
            self.assertLess(time.time(), deadline)
            time.sleep(0.02)
        doomed.proc.p.kill()
        doomed.proc.p.wait()
        t0 = time.time()
        st, _, body = b.rest({"maxResults": 5})
        waited = time.time() - t0
        self.assertEqual(st, 200)
        self.assertEqual(names(body), self.expected_names()[:5])
        self.assertEqual(len(self.fake.api_requests()), 2, "b's own call after the lease ran out")
        self.assertLess(waited, 2.5)
        self.assertGreaterEqual(metric(b, "bedrockgw_redis_lease_total", '{event="wait"}'), 1)
        t.join()
        doomed.channel.close()
        doomed.proc.log.close()


class NoRedis(FleetCase):
    replicas = 0

    def test_starts_ready_and_serves_when_redis_is_not_there(self):
        cfg = self.replica_config()
        cfg["redis"]["url"] = "redis://127.0.0.1:%d" % harness.free_port()
        cfg["tenants"][0]["rate_limit"] = {"rps": 1, "burst": 2}
        g = self.start_replica(0, cfg)
        e = self.wait_event(g, "redis_down")
        self.assertIn("refused", e["reason"].lower())
        codes = [g.rest({"maxResults": 2})[0] for _ in range(4)]
        self.assertEqual(codes[:2], [200, 200])
        self.assertIn(429, codes[2:], "the local bucket stands in")
        self.assertEqual(g.rest(path="/readyz", key=None)[0], 200)
        self.assertGreaterEqual(
            metric(g, "bedrockgw_redis_rate_limit_total", '{decision="local_fallback"}'), 3)
        # redis.fallback_replicas: each replica's share of the limit meanwhile
        cfg["redis"]["fallback_replicas"] = 2
        cfg["tenants"][0]["rate_limit"] = {"rps": 2, "burst": 4}
        g2 = self.start_replica(1, cfg)
        codes = [g2.rest({"maxResults": 2})[0] for _ in range(4)]
        self.assertEqual(codes[:2], [200, 200])
        self.assertIn(429, codes[2:], "burst 4 over 2 replicas: 2 each")


class UnixSocket(FleetCase):
    replicas = 2
    redis_args = {"unix": True}

    def test_replicas_share_through_a_unix_socket(self):
        self.assertTrue(self.redis.url.startswith("unix://"))
        self.wait_up()
        st, _, a = self.gws[0].rest({"maxResults": 3})
        st2, h, b = self.gws[1].rest({"maxResults": 3})
        self.assertEqual((st, st2), (200, 200))
        self.assertEqual(a["modelImportJobSummaries"], b["modelImportJobSummaries"])
        self.assertEqual(len(self.fake.api_requests()), 1)
        self.assertEqual(metric(self.gws[1], "bedrockgw_cache_l2_total", '{result="hit"}'), 1)


class Tls(FleetCase):
    replicas = 2

    def make_redis(self):
        d = os.path.join(self.tmp, "tls")
        os.makedirs(d)
        self.ca = tlsutil.make_ca(d)
        cert, key = tlsutil.make_cert(d, "redis", "127.0.0.1")
        return redisutil.RedisServer(self.tmp, tls=(cert, key, self.ca))

    def replica_config(self):
        cfg = super().replica_config()
        cfg["redis"]["ca_file"] = self.ca
        return cfg

    def test_replicas_share_over_tls_verified_against_the_ca(self):
        self.assertTrue(self.redis.url.startswith("rediss://"))
        self.wait_up()
        st, _, a = self.gws[0].rest({"maxResults": 3})
        st2, _, b = self.gws[1].rest({"maxResults": 3})
        self.assertEqual((st, st2), (200, 200))
        self.assertEqual(a["modelImportJobSummaries"], b["modelImportJobSummaries"])
        self.assertEqual(len(self.fake.api_requests()), 1)

    def test_an_unknown_ca_is_refused(self):
        other = os.path.join(self.tmp, "other")
        os.makedirs(other)
        cfg = super().replica_config()
        cfg["redis"]["ca_file"] = tlsutil.make_ca(other)
        g = self.start_replica(9, cfg)
        e = self.wait_event(g, "redis_down")
        self.assertIn("TLS", e["reason"])
        st, _, _ = g.rest({"maxResults": 3})
        self.assertEqual(st, 200)


if __name__ == "__main__":
    unittest.main()
