"""The pagination property: for any data set, tenant policy, filters, page
size and sort order, on either transport, walking all pages yields exactly
the visible jobs (computed here, independently, from the data set), in
order, each once; no page is larger than the page size (clamped by the
policy's cap).

Data sets are generated with adversarial shapes: long runs of hidden rows
between visible ones (so the gateway must read on through several upstream
pages, and hits its upstream-call budget), equal creation times (the jobArn
tie-break), prefixes that differ only in case, and empty upstream pages with
a token (the emulator's empty_page fault).

Fixed seed; BGW_PROPERTY_ITERATIONS (default 400, about 20 s) and BGW_PROPERTY_SEED run
it longer or differently."""
import os
import random
import unittest

from harness import GatewayTestCase, parse_ts
from policyutil import SECRET, Walker, expected_arns, tenant

ITERATIONS = int(os.environ.get("BGW_PROPERTY_ITERATIONS", "400"))
SEED = int(os.environ.get("BGW_PROPERTY_SEED", "20240601"))
N_TENANTS = 10
DEFAULT_PAGE = 6
MAX_CALLS = 3

NAME_STEMS = ["team-a-", "team-b-", "Team-a-", "shared-", "exp+", "team-ab", "other-"]
STATUSES = ["InProgress", "Completed", "Failed"]
# A small pool of instants (some shared by many jobs), inside 2024.
BASE = 1704067200  # 2024-01-01T00:00:00Z


def iso(sec, nanos=0):
    import datetime
    d = datetime.datetime.fromtimestamp(sec, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return d + (".%09dZ" % nanos if nanos else "Z")


def random_time(rng, pool):
    if pool and rng.random() < 0.5:
        return rng.choice(pool)
    return (BASE + rng.randrange(0, 3000), rng.choice([0, 0, 500000000, 123456789]))


def random_jobs(rng):
    shape = rng.choice(["uniform", "hidden_runs", "equal_times", "tiny", "empty"])
    n = {"uniform": rng.randrange(1, 120), "hidden_runs": rng.randrange(60, 260),
         "equal_times": rng.randrange(10, 80), "tiny": rng.randrange(1, 5), "empty": 0}[shape]
    pool = [(BASE + rng.randrange(0, 3000), 0) for _ in range(3 if shape == "equal_times" else 12)]
    jobs = []
    for i in range(n):
        if shape == "hidden_runs":
            # Mostly "other-" rows nobody's prefix policy shows, with a few
            # visible ones scattered between them.
            stem = "other-" if rng.random() < 0.9 else rng.choice(NAME_STEMS[:-1])
        else:
            stem = rng.choice(NAME_STEMS)
        sec, nanos = random_time(rng, pool)
        arn = "arn:aws:bedrock:us-west-2:123456789012:model-import-job/%012x" % rng.getrandbits(48)
        jobs.append({"jobArn": arn, "jobName": "%s%s-%d" % (stem, rng.choice(["x", "llama", "v2.1"]), i),
                     "status": rng.choice(STATUSES), "creationTime": iso(sec, nanos),
                     "lastModifiedTime": iso(sec + 5), "endTime": iso(sec + 9),
                     "importedModelArn": "arn:aws:bedrock:us-west-2:123456789012:imported-model/m%d" % i,
                     "importedModelName": "m%d" % i})
    return shape, jobs


def random_policy(rng):
    p = {}
    if rng.random() < 0.6:
        p["job_name_prefixes"] = rng.sample(NAME_STEMS[:-1], rng.choice([1, 1, 2, 3]))
    if rng.random() < 0.5:
        p["statuses"] = rng.sample(STATUSES, rng.choice([1, 2]))
    if rng.random() < 0.4:
        a = BASE + rng.randrange(0, 1500)
        p["created_after"] = iso(a)
        if rng.random() < 0.5:
            p["created_before"] = iso(a + rng.randrange(200, 2000))
    elif rng.random() < 0.3:
        p["created_before"] = iso(BASE + rng.randrange(500, 3000))
    if rng.random() < 0.5:
        p["max_results"] = rng.choice([1, 2, 3, 5, 8])
    if rng.random() < 0.3:
        p["redact"] = rng.sample(["importedModelArn", "importedModelName", "endTime", "lastModifiedTime"], 2)
    return p


def random_filters(rng, jobs):
    f = {}
    if rng.random() < 0.3:
        f["statusEquals"] = rng.choice(STATUSES)
    if rng.random() < 0.3:
        f["nameContains"] = rng.choice(["team", "a-", "llama", "x", "exp+", "v2.1", "b"])
    if rng.random() < 0.3:
        # Bounds that sometimes equal a job's creation time (strictness).
        if jobs and rng.random() < 0.5:
            f["creationTimeAfter"] = rng.choice(jobs)["creationTime"]
        else:
            f["creationTimeAfter"] = iso(BASE + rng.randrange(0, 2500))
    if rng.random() < 0.2:
        f["creationTimeBefore"] = iso(BASE + rng.randrange(1000, 3100))
        if f.get("creationTimeAfter") and parse_ts(f["creationTimeAfter"]) > parse_ts(f["creationTimeBefore"]):
            del f["creationTimeBefore"]
    if rng.random() < 0.7:
        f["maxResults"] = rng.choice([1, 2, 3, 4, 7, 10, 25])
    if rng.random() < 0.7:
        f["sortOrder"] = rng.choice(["Ascending", "Descending"])
    return f


_POLICY_RNG = random.Random(SEED)
POLICIES = [random_policy(_POLICY_RNG) for _ in range(N_TENANTS)]
POLICIES[0] = {}  # one tenant without any policy


class PaginationProperty(GatewayTestCase):
    fake_args = {"generate": 0}
    policies = POLICIES
    config_over = {
        "gateway": {"default_page_size": DEFAULT_PAGE, "max_upstream_calls_per_request": MAX_CALLS,
                    "shutdown_grace_ms": 3000},
        "tokens": {"secret": SECRET},
        "tenants": [tenant("t%d" % i, "key-prop-%d-0123456789" % i, p) for i, p in enumerate(POLICIES)],
    }

    def test_walks_yield_exactly_the_visible_jobs(self):
        rng = random.Random(SEED + 1)
        stats = {"walks": 0, "pages": 0, "rows": 0, "short_pages": 0, "empty_faults": 0}
        for it in range(ITERATIONS):
            if it % 4 == 0:
                shape, jobs = random_jobs(rng)
                self.fake.set_jobs(jobs)
            ti = rng.randrange(N_TENANTS)
            policy = self.policies[ti]
            filters = random_filters(rng, jobs)
            transport = rng.choice(["rest", "grpc"])
            want = expected_arns(jobs, policy, filters)
            page_size = filters.get("maxResults", DEFAULT_PAGE)
            if policy.get("max_results"):
                page_size = min(page_size, policy["max_results"])
            self.fake.reset()
            faults = rng.choice([0, 0, 0, 1, 2, 5])
            if faults:
                self.fake.fault("empty_page", count=faults)
                stats["empty_faults"] += faults
            ctx = dict(iteration=it, shape=shape, tenant=ti, policy=policy, filters=filters,
                       transport=transport, n_jobs=len(jobs))
            with self.subTest(**ctx):
                walker = Walker(self, self.gw, "key-prop-%d-0123456789" % ti)
                items, sizes = walker.walk(transport, filters)
                got = [j["jobArn"] for j in items]
                self.assertEqual(len(got), len(set(got)), "duplicates")
                self.assertEqual(got, want)
                self.assertTrue(all(s <= page_size for s in sizes), (sizes, page_size))
                for j in items:
                    for field in policy.get("redact", []):
                        self.assertNotIn(field, j)
                stats["walks"] += 1
                stats["pages"] += len(sizes)
                stats["rows"] += len(got)
                stats["short_pages"] += sum(1 for s in sizes[:-1] if s < page_size)
        # The adversarial shapes did exercise short pages (call budget).
        print("property stats (seed %d): %s" % (SEED, stats))
        if ITERATIONS >= 100:
            self.assertGreater(stats["short_pages"], 0)
            self.assertGreater(stats["empty_faults"], 0)


if __name__ == "__main__":
    unittest.main()
