"""Issue 3a x issue 3b: page tokens across a SIGHUP reload, and per-tenant
rate limits together with per-tenant policies, real gateway + emulator.

Tokens: a walk started before a reload continues after it (both
transports) and yields exactly the tenant's visible jobs, once each, in
order - with the random per-process secret (kept across the reload), when
the reload configures a secret for the first time (the random one stays
accepted), and across a rotation written in the file. Revoking a secret by
reload (new secret, no previous) and changing the tenant's policy end the
walk cleanly: INVALID_ARGUMENT naming nextToken, nothing sent to Bedrock.

Limits + policy: the bucket is checked right after authentication, before
validation and the policy; accepted calls are filtered by the policy (and
cost one token however many upstream pages they read); refused calls reach
neither the policy nor Bedrock; the audit line carries both sides' fields.
"""
import json
import os
import signal
import time
import unittest

import grpc

from harness import KEYS, GatewayTestCase, base_config, pb, sha256_hex
from policyutil import PREVIOUS, SECRET, Walker, expected_arns, grpc_request, tenant

POLICY_A = {"job_name_prefixes": ["team-a-", "shared-"], "statuses": ["Completed", "InProgress"]}
FILTERS = {"maxResults": 4}


def config(fake_url, policy_a=POLICY_A, tokens=None, extra_tenants=(), rate_limit_a=None):
    ta = tenant("team-a", KEYS["team-a"], policy_a)
    if rate_limit_a:
        ta["rate_limit"] = rate_limit_a
    cfg = base_config(fake_url, tenants=[ta, tenant("team-b", KEYS["team-b"])] + list(extra_tenants))
    if tokens is not None:
        cfg["tokens"] = tokens
    return cfg


class ReloadTokens(GatewayTestCase):
    fake_args = {"generate": 120, "seed": 11}

    def write_config(self, gw, cfg):
        tmp = gw.cfg_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(cfg, f)
        os.replace(tmp, gw.cfg_path)

    def reload(self, gw, cfg, event="reloaded"):
        self.write_config(gw, cfg)
        n = len(gw.proc.log_events(event))
        gw.proc.p.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while len(gw.proc.log_events(event)) <= n:
            self.assertLess(time.time(), deadline, "no %s event:\n%s" % (event, gw.proc.text()[-3000:]))
            time.sleep(0.02)
        return gw.proc.log_events(event)[-1]

    def start_walk(self, gw, transport, pages=2):
        """The first pages of a walk: (items so far, token to continue)."""
        w = Walker(self, gw, "team-a")
        items, token = [], None
        for _ in range(pages):
            got, token = w.page(transport, FILTERS, token)
            items += got
            self.assertTrue(token, "the data set is too small for this test")
        return items, token

    def finish_walk(self, gw, transport, items, token):
        w = Walker(self, gw, "team-a")
        while token:
            got, token = w.page(transport, FILTERS, token)
            items += got
        return items

    def assertWalkComplete(self, items, policy=POLICY_A):
        arns = [j["jobArn"] for j in items]
        self.assertEqual(arns, expected_arns(self.fake.jobs(), policy, FILTERS))
        self.assertEqual(len(arns), len(set(arns)))

    def assertTokenRejected(self, gw, token, transport):
        self.fake.reset()
        if transport == "rest":
            q = dict(FILTERS)
            q["nextToken"] = token
            st, _, body = gw.rest(q, key="team-a")
            self.assertStatusError(st, body, 400, 3, field="nextToken")
        else:
            with self.assertRaises(grpc.RpcError) as cm:
                gw.grpc(grpc_request(FILTERS, token), key="team-a")
            self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
            self.assertIn("nextToken", cm.exception.details())
        self.assertNoUpstream()

    def test_random_secret_survives_reloads(self):
        cfg = config(self.fake.url)
        gw = self.start_gateway(cfg=cfg)
        self.assertTrue(gw.proc.log_events("tokens_ephemeral"))
        walks = {t: self.start_walk(gw, t) for t in ("rest", "grpc")}
        # An unrelated change (a new tenant), then the same file again.
        cfg["tenants"].append(tenant("team-c", "key-team-c-5555555555"))
        ev = self.reload(gw, cfg)
        self.assertTrue(ev["tokens_ephemeral"])
        self.reload(gw, cfg)
        for t, (items, token) in walks.items():
            with self.subTest(transport=t):
                self.assertWalkComplete(self.finish_walk(gw, t, items, token))
        # A walk started after the reloads works too.
        self.assertWalkComplete(Walker(self, gw, "team-a").walk("rest", FILTERS)[0])

    def test_configured_secret_introduced_rotated_and_revoked(self):
        cfg = config(self.fake.url)
        gw = self.start_gateway(cfg=cfg, secrets=(SECRET, PREVIOUS))
        # Random secret -> configured secret: walks in progress continue.
        walks = {t: self.start_walk(gw, t) for t in ("rest", "grpc")}
        ev = self.reload(gw, config(self.fake.url, tokens={"secret": PREVIOUS}))
        self.assertFalse(ev["tokens_ephemeral"])
        for t, (items, token) in walks.items():
            with self.subTest(step="introduced", transport=t):
                self.assertWalkComplete(self.finish_walk(gw, t, items, token))
        # A rotation written in the file: the old secret as previous.
        walks = {t: self.start_walk(gw, t) for t in ("rest", "grpc")}
        self.reload(gw, config(self.fake.url, tokens={"secret": SECRET, "previous_secret": PREVIOUS}))
        for t, (items, token) in walks.items():
            with self.subTest(step="rotated", transport=t):
                self.assertWalkComplete(self.finish_walk(gw, t, items, token))
        # Revocation: a new secret without a previous one. Tokens signed with
        # the revoked secret stop working at once; nothing goes upstream.
        _, token = self.start_walk(gw, "rest")
        self.reload(gw, config(self.fake.url, tokens={"secret": PREVIOUS}))
        for t in ("rest", "grpc"):
            self.assertTokenRejected(gw, token, t)

    def test_policy_change_by_reload_ends_walks_cleanly(self):
        cfg = config(self.fake.url, tokens={"secret": SECRET})
        gw = self.start_gateway(cfg=cfg, secrets=(SECRET,))
        _, token = self.start_walk(gw, "rest")
        narrower = dict(POLICY_A, statuses=["Completed"])
        self.reload(gw, config(self.fake.url, policy_a=narrower, tokens={"secret": SECRET}))
        for t in ("rest", "grpc"):
            self.assertTokenRejected(gw, token, t)
        # Starting again gives the new policy's view.
        items, _ = Walker(self, gw, "team-a").walk("grpc", FILTERS)
        self.assertWalkComplete(items, narrower)
        by_arn = {j["jobArn"]: j for j in self.fake.jobs()}
        self.assertTrue(items)
        self.assertEqual({by_arn[j["jobArn"]]["status"] for j in items}, {"Completed"})


class LimitsAndPolicy(GatewayTestCase):
    fake_args = {"generate": 120, "seed": 11}
    # 0.01 rps: no refill during the test; a burst of 3 calls.
    config_over = {"tenants": [
        dict(tenant("team-a", KEYS["team-a"], dict(POLICY_A, max_results=4)),
             rate_limit={"rps": 0.01, "burst": 3}),
        tenant("team-b", KEYS["team-b"]),
    ]}

    def test_rate_limit_then_policy(self):
        policy = dict(POLICY_A, max_results=4)
        jobs = self.fake.jobs()
        filters = {"maxResults": 50}  # clamped to the policy's 4
        want = expected_arns(jobs, policy, filters)
        got, token = [], None
        for transport in ("rest", "grpc", "rest"):
            page, token = Walker(self, self.gw, "team-a").page(transport, filters, token)
            self.assertLessEqual(len(page), 4)
            got += page
        # The policy applied to every accepted call: the walk so far is a
        # prefix of the tenant's view, nothing outside it.
        arns = [j["jobArn"] for j in got]
        self.assertEqual(arns, want[:len(arns)])
        upstream_before = len(self.fake.api_requests())
        accesses = [e for e in self.gw.access_events() if e["tenant"] == "team-a"]
        self.assertEqual(len(accesses), 3)
        for e in accesses:
            self.assertEqual(e["auth"], "api_key")
            self.assertEqual(e["filters"]["pageSize"], 4)
            self.assertGreaterEqual(e["upstream_calls"], 1)
        # Post-filtered calls may read several upstream pages; each call
        # still cost one token: the 4th call is the one refused.
        self.assertGreaterEqual(upstream_before, 3)
        # Over the limit: refused before validation and before the policy
        # (an invalid request and a valid one get the same 429), nothing
        # reaches Bedrock.
        for q in ({"maxResults": 1}, {"maxResults": 0, "statusEquals": "Nope"}):
            st, h, body = self.gw.rest(q, key="team-a")
            self.assertEqual(st, 429, body)
            self.assertEqual(body["code"], 8)
            self.assertTrue(int(h["retry-after"]) >= 1)
        with self.assertRaises(grpc.RpcError) as cm:
            self.gw.grpc(grpc_request(filters, token), key="team-a")
        self.assertEqual(cm.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertEqual(len(self.fake.api_requests()), upstream_before)
        e = self.gw.wait_access(lambda e: e["tenant"] == "team-a" and e["code"] == "RESOURCE_EXHAUSTED")
        self.assertEqual(e["auth"], "api_key")
        self.assertNotIn("filters", e)  # the policy was never reached
        self.assertEqual(e["upstream_calls"], 0)
        # Another tenant (no limit, no policy) is unaffected and sees everything.
        items, _ = Walker(self, self.gw, "team-b").walk("rest", {"maxResults": 100})
        self.assertEqual(len(items), len(jobs))

    def test_unauthenticated_is_not_rate_limited_nor_counted(self):
        for _ in range(5):
            st, _, body = self.gw.rest({"maxResults": 1}, key="wrong-key-000000000000")
            self.assertEqual(st, 401, body)
        self.assertNoUpstream()


if __name__ == "__main__":
    unittest.main()
