"""Per-tenant policy, each dimension on both transports: what the client sees
(exactly the visible jobs, redacted, clamped) and what Bedrock was asked
(the push-down); filters outside the policy give an empty result, not an
error and not an upstream call; the audit line."""
import unittest

from harness import GatewayTestCase, assert_log_clean
from policyutil import SECRET, Walker, expected_arns, tenant

WINDOW = {"created_after": "2024-06-01T00:00:00Z", "created_before": "2025-01-01T00:00:00Z"}
POLICIES = {
    "pfx": {"job_name_prefixes": ["team-a-"]},
    "pfx2": {"job_name_prefixes": ["team-a-", "shared-"]},
    "pfxbad": {"job_name_prefixes": ["team_a"]},  # not a legal nameContains: not pushed
    "st1": {"statuses": ["Completed"]},
    "st2": {"statuses": ["Completed", "Failed"]},
    "win": WINDOW,
    "cap": {"max_results": 5, "redact": ["importedModelArn", "endTime"]},
    "all": {},
}
KEY = {t: "key-%s-0123456789abcdef" % t for t in POLICIES}
TRANSPORTS = ("rest", "grpc")


class Policy(GatewayTestCase):
    fake_args = {"generate": 120, "seed": 7}
    config_over = {
        "gateway": {"default_page_size": 10, "shutdown_grace_ms": 3000},
        "tokens": {"secret": SECRET},
        "tenants": [tenant(t, KEY[t], p) for t, p in POLICIES.items()],
    }

    def setUp(self):
        super().setUp()
        self.fake.set_generated(120, 7)  # some tests replace the data set

    def walk(self, t, transport, filters):
        items, sizes = Walker(self, self.gw, KEY[t]).walk(transport, filters)
        return items, sizes

    def check_walk(self, t, filters, pushed=None, not_pushed=()):
        """Walks every page on both transports; returns the REST items."""
        jobs = self.fake.jobs()
        want = expected_arns(jobs, POLICIES[t], filters)
        out = None
        for transport in TRANSPORTS:
            with self.subTest(tenant=t, transport=transport, filters=filters):
                self.fake.reset()
                items, sizes = self.walk(t, transport, filters)
                self.assertEqual([j["jobArn"] for j in items], want)
                reqs = self.fake.api_requests()
                self.assertTrue(reqs)
                for r in reqs:
                    self.assertSigned(r)
                    for k, v in (pushed or {}).items():
                        self.assertEqual(r["query"].get(k), v, r["query"])
                    for k in not_pushed:
                        self.assertNotIn(k, r["query"])
                out = out or items
        return out, want

    # -- names --------------------------------------------------------------
    def test_single_prefix_is_pushed_as_name_contains(self):
        items, want = self.check_walk("pfx", {}, pushed={"nameContains": "team-a-"})
        self.assertTrue(want)
        self.assertTrue(all(j["jobName"].startswith("team-a-") for j in items))

    def test_callers_name_contains_wins_and_prefix_still_applies(self):
        items, want = self.check_walk("pfx", {"nameContains": "a"}, pushed={"nameContains": "a"})
        self.assertTrue(want)
        self.assertTrue(all(j["jobName"].startswith("team-a-") and "a" in j["jobName"] for j in items))
        self.assertLess(len(want), len(expected_arns(self.fake.jobs(), {}, {"nameContains": "a"})))

    def test_several_prefixes_post_filtered(self):
        items, want = self.check_walk("pfx2", {"sortOrder": "Ascending"}, not_pushed=("nameContains",))
        names = {j["jobName"].split("-")[0] for j in items}
        self.assertEqual(names, {"team", "shared"})

    def test_prefix_not_pushable_is_only_post_filtered(self):
        items, want = self.check_walk("pfxbad", {}, not_pushed=("nameContains",))
        self.assertEqual(want, [])

    def test_prefix_is_case_sensitive(self):
        arn = "arn:aws:bedrock:us-west-2:123456789012:model-import-job/"
        jobs = [{"jobArn": arn + "a%011d" % i, "jobName": n, "status": "Completed",
                 "creationTime": "2024-07-0%dT00:00:00Z" % (i + 1)}
                for i, n in enumerate(["team-a-1", "Team-a-2", "TEAM-A-3", "xteam-a-4", "team-a-5"])]
        self.fake.set_jobs(jobs)
        items, want = self.check_walk("pfx", {})
        self.assertEqual([j["jobName"] for j in items], ["team-a-5", "team-a-1"])

    # -- statuses -----------------------------------------------------------
    def test_single_status_is_pushed(self):
        items, want = self.check_walk("st1", {}, pushed={"statusEquals": "Completed"})
        self.assertTrue(want)
        self.assertTrue(all(j["status"] == "MODEL_IMPORT_JOB_STATUS_COMPLETED" for j in items))

    def test_two_statuses_post_filtered(self):
        items, want = self.check_walk("st2", {}, not_pushed=("statusEquals",))
        self.assertEqual({j["status"] for j in items},
                         {"MODEL_IMPORT_JOB_STATUS_COMPLETED", "MODEL_IMPORT_JOB_STATUS_FAILED"})
        self.check_walk("st2", {"statusEquals": "Failed"}, pushed={"statusEquals": "Failed"})

    def test_status_outside_policy_is_empty_not_error(self):
        for t, s in (("st1", "Failed"), ("st1", "InProgress"), ("st2", "InProgress")):
            for transport in TRANSPORTS:
                with self.subTest(tenant=t, status=s, transport=transport):
                    self.fake.reset()
                    items, sizes = self.walk(t, transport, {"statusEquals": s})
                    self.assertEqual((items, sizes), ([], [0]))
                    self.assertNoUpstream()

    # -- time window --------------------------------------------------------
    def test_window_is_pushed(self):
        _, want = self.check_walk("win", {}, pushed={"creationTimeAfter": WINDOW["created_after"],
                                                     "creationTimeBefore": WINDOW["created_before"]})
        self.assertTrue(want)

    def test_tighter_caller_bound_wins(self):
        f = {"creationTimeAfter": "2024-09-01T00:00:00Z", "creationTimeBefore": "2026-01-01T00:00:00Z"}
        self.check_walk("win", f, pushed={"creationTimeAfter": "2024-09-01T00:00:00Z",
                                          "creationTimeBefore": WINDOW["created_before"]})

    def test_window_outside_policy_is_empty_not_error(self):
        cases = [{"creationTimeBefore": "2024-05-01T00:00:00Z"},
                 {"creationTimeAfter": "2025-02-01T00:00:00Z"},
                 {"creationTimeAfter": "2025-01-01T00:00:00Z"},  # strict bounds meet
                 {"creationTimeBefore": "2024-06-01T00:00:00Z"}]
        for f in cases:
            for transport in TRANSPORTS:
                with self.subTest(filters=f, transport=transport):
                    self.fake.reset()
                    items, sizes = self.walk("win", transport, f)
                    self.assertEqual((items, sizes), ([], [0]))
                    self.assertNoUpstream()

    # -- page-size cap and redaction ----------------------------------------
    def test_cap_clamps_not_refuses(self):
        for transport in TRANSPORTS:
            with self.subTest(transport=transport):
                self.fake.reset()
                got, token = Walker(self, self.gw, KEY["cap"]).page(transport, {"maxResults": 1000})
                self.assertEqual(len(got), 5)
                self.assertTrue(token)
                self.assertEqual(self.one_upstream()["query"]["maxResults"], "5")
        # Without maxResults the default (10) is clamped too.
        got, _ = Walker(self, self.gw, KEY["cap"]).page("rest", {})
        self.assertEqual(len(got), 5)

    def test_redaction(self):
        jobs = self.fake.jobs()
        completed = [j for j in jobs if j["status"] == "Completed"]
        self.assertTrue(completed and all("importedModelArn" in j for j in completed))
        for transport in TRANSPORTS:
            with self.subTest(transport=transport):
                items, _ = self.walk("cap", transport, {"statusEquals": "Completed"})
                self.assertEqual(len(items), len(completed))
                for j in items:
                    self.assertNotIn("importedModelArn", j)
                    self.assertNotIn("endTime", j)
                    self.assertIn("importedModelName", j)
                    self.assertIn("lastModifiedTime", j)
        # Another tenant sees the fields.
        items, _ = self.walk("all", "rest", {"statusEquals": "Completed", "maxResults": 3})
        self.assertTrue(all("importedModelArn" in j and "endTime" in j for j in items))

    # -- audit --------------------------------------------------------------
    def test_audit_line(self):
        tok_seen = []
        for transport in TRANSPORTS:
            self.fake.reset()
            w = Walker(self, self.gw, KEY["pfx2"])
            got, tok = w.page(transport, {"maxResults": 3, "statusEquals": "Completed"})
            got2, tok2 = w.page(transport, {"maxResults": 3, "statusEquals": "Completed"}, tok)
            tok_seen += [tok, tok2]
            ev = self.gw.wait_access(lambda e: e.get("transport") == transport and e.get("tenant") == "pfx2"
                                     and e.get("params", {}).get("nextTokenLength"))
            for k in ("ts", "request_id", "tenant", "transport", "filters", "items", "upstream_calls",
                      "code", "http_status", "latency_ms"):
                self.assertIn(k, ev)
            self.assertEqual(ev["filters"]["statusEquals"], "Completed")
            self.assertEqual(ev["filters"]["pageSize"], 3)
            self.assertEqual(ev["items"], len(got2))
            self.assertGreaterEqual(ev["upstream_calls"], 1)
            self.assertEqual(ev["params"]["nextTokenLength"], len(tok))
        # Policy-empty requests are audited too, with no upstream call.
        self.walk("st1", "rest", {"statusEquals": "Failed"})
        ev = self.gw.wait_access(lambda e: e.get("tenant") == "st1" and e.get("policy_empty"))
        self.assertEqual(ev["upstream_calls"], 0)
        self.assertEqual(ev["items"], 0)
        log = self.gw.proc.text()
        assert_log_clean(log, secrets=[SECRET] + list(KEY.values()))
        for t in tok_seen:
            if t:
                self.assertNotIn(t, log)
        for r in self.fake.api_requests():
            if r["query"].get("nextToken"):
                self.assertNotIn(r["query"]["nextToken"], log)


if __name__ == "__main__":
    unittest.main()
