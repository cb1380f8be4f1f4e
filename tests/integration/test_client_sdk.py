"""client-sdk: libbedrockgw-client and bedrockgw-cli against the real gateway
and the real emulator. One page, every page, each filter, deadline, auth
failure, retry on UNAVAILABLE (counted at the emulator), several threads on
one client, the CLI's output formats and exit codes, and the installed
library + pkg-config building the example."""
import json
import os
import pty
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import (BIN, KEYS, KNOWN_JOBS, GatewayTestCase, assert_log_clean, expected_json, free_port,
                     sort_key)

CLI = os.path.join(BIN, "bedrockgw-cli")
THREADS = os.path.join(BIN, "bgw-client-threads")
BUILD_DIR = os.path.dirname(os.path.abspath(BIN))
SRC_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

EXIT_OK, EXIT_USAGE, EXIT_AUTH, EXIT_SERVER, EXIT_NETWORK = 0, 2, 3, 4, 5


def sanitized_build():
    try:
        with open(os.path.join(BUILD_DIR, "CMakeCache.txt")) as f:
            return "BGW_SANITIZE:BOOL=ON" in f.read()
    except OSError:
        return False


class ClientSdkBase(GatewayTestCase):
    fake_args = {"generate": 120, "seed": 7}

    def env(self, key="team-a", extra=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCKGW_")}
        env["GRPC_DNS_RESOLVER"] = "native"
        if key is not None:
            env["BEDROCKGW_API_KEY"] = KEYS.get(key, key)
        env.update(extra or {})
        return env

    def target(self):
        return "127.0.0.1:%d" % self.gw.grpc_port

    def cli(self, *args, key="team-a", target=None, env_extra=None, expect=EXIT_OK, timeout=60):
        argv = [CLI, "list", "--target", target or self.target()] + list(args)
        p = subprocess.run(argv, env=self.env(key, env_extra), capture_output=True, timeout=timeout)
        out, err = p.stdout.decode(), p.stderr.decode()
        assert_log_clean(err, "bedrockgw-cli", check_secrets=False)
        self.assertEqual(p.returncode, expect, "argv %s\nstdout:\n%s\nstderr:\n%s" % (argv, out[-3000:], err))
        return out, err

    def assertOneErrorLine(self, err, code=None):
        lines = err.splitlines()
        self.assertEqual(len(lines), 1, err)
        self.assertTrue(lines[0].startswith("bedrockgw-cli: error: "), err)
        if code:
            self.assertIn(": error: %s: " % code, lines[0])

    def all_jobs_desc(self):
        return sorted(self.fake.jobs(), key=sort_key, reverse=True)


class ClientSdkListing(ClientSdkBase):
    def test_one_page_json_equals_rest(self):
        out, err = self.cli("--max-results", "10", "--output", "json")
        self.assertEqual(err, "")
        status, _, body = self.gw.rest({"maxResults": 10})
        self.assertEqual(status, 200)
        # Byte for byte, but for the page token: gateway tokens carry their
        # own expiry, so two calls a second apart get different tokens.
        tok = re.compile(rb'"nextToken":"[A-Za-z0-9_-]+"')
        self.assertEqual(tok.sub(b'"nextToken":"T"', out.encode()),
                         tok.sub(b'"nextToken":"T"', self.gw.last_raw + b"\n"))
        self.assertEqual(len(tok.findall(out.encode())), 1)
        self.assertEqual(len(body["modelImportJobSummaries"]), 10)
        self.assertTrue(body["nextToken"])
        want = [expected_json(j) for j in self.all_jobs_desc()[:10]]
        self.assertEqual(json.loads(out)["modelImportJobSummaries"], want)

    def test_default_page_size(self):
        out, err = self.cli("--output", "ndjson")
        self.assertEqual(len(out.splitlines()), 25)  # the gateway's default_page_size
        self.assertRegex(err, r"^next-token: \S+\n$")

    def test_next_token_continues(self):
        first = json.loads(self.cli("--max-results", "50", "--output", "json")[0])
        second = json.loads(self.cli("--max-results", "50", "--output", "json",
                                     "--next-token", first["nextToken"])[0])
        got = [j["jobArn"] for j in first["modelImportJobSummaries"] + second["modelImportJobSummaries"]]
        self.assertEqual(got, [j["jobArn"] for j in self.all_jobs_desc()[:100]])

    def test_all_pages_counts_equal_emulator(self):
        jobs = self.all_jobs_desc()
        self.fake.reset()
        out, err = self.cli("--all", "--max-results", "7", "--output", "ndjson")
        self.assertEqual(err, "")  # no progress when stderr is not a terminal
        lines = out.splitlines()
        self.assertEqual(len(lines), len(jobs))
        self.assertEqual([json.loads(x) for x in lines], [expected_json(j) for j in jobs])
        self.assertEqual(len(self.fake.api_requests()), (len(jobs) + 6) // 7)

    def test_all_json_equals_rest_single_page(self):
        out, err = self.cli("--all", "--max-results", "9", "--output", "json")
        self.assertEqual(err, "")
        status, _, body = self.gw.rest({"maxResults": 1000})
        self.assertEqual(status, 200)
        self.assertNotIn("nextToken", body)
        self.assertEqual(out.encode(), self.gw.last_raw + b"\n")

    def test_all_table_streams_every_job(self):
        out, _ = self.cli("--all", "--max-results", "40")
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith("NAME"))
        self.assertEqual(len(lines), 1 + 120)

    def test_empty_page_with_token_does_not_stop(self):
        self.fake.fault("empty_page", count=2)
        out, _ = self.cli("--all", "--max-results", "50", "--output", "ndjson")
        self.assertEqual(len(out.splitlines()), 120)
        self.assertEqual(self.fake.counters()["faults_injected"], 2)

    def test_limit(self):
        self.fake.reset()
        out, _ = self.cli("--all", "--limit", "30", "--max-results", "7", "--output", "ndjson")
        self.assertEqual([json.loads(x)["jobArn"] for x in out.splitlines()],
                         [j["jobArn"] for j in self.all_jobs_desc()[:30]])
        reqs = self.fake.api_requests()
        self.assertEqual(len(reqs), 5)  # 4 pages of 7, then only the 2 still wanted
        self.assertEqual(reqs[-1]["query"]["maxResults"], "2")

    def test_every_filter(self):
        jobs = self.fake.jobs()
        after, before = "2024-06-01T00:00:00Z", "2025-06-01T00:00:00Z"
        from harness import parse_ts
        a, b = parse_ts(after), parse_ts(before)
        cases = [
            (["--status", "Completed"], {"statusEquals": "Completed"}, lambda j: j["status"] == "Completed"),
            (["--status", "in-progress"], {"statusEquals": "InProgress"}, lambda j: j["status"] == "InProgress"),
            (["--status", "MODEL_IMPORT_JOB_STATUS_FAILED"], {"statusEquals": "Failed"},
             lambda j: j["status"] == "Failed"),
            (["--name-contains", "team-a"], {"nameContains": "team-a"}, lambda j: "team-a" in j["jobName"]),
            (["--name-contains", "exp+"], {"nameContains": "exp+"}, lambda j: "exp+" in j["jobName"]),
            (["--created-after", after], {"creationTimeAfter": after},
             lambda j: parse_ts(j["creationTime"]) > a),
            (["--created-before", before], {"creationTimeBefore": before},
             lambda j: parse_ts(j["creationTime"]) < b),
            (["--created-after", "2024-06-01", "--created-before", "2025-06-01T05:30:00+05:30"],
             {"creationTimeAfter": after, "creationTimeBefore": before},
             lambda j: a < parse_ts(j["creationTime"]) < b),
        ]
        for args, rest_query, pred in cases:
            with self.subTest(args=args):
                want = sorted([j for j in jobs if pred(j)], key=sort_key, reverse=True)
                self.assertTrue(want)
                self.fake.reset()
                out, _ = self.cli(*(args + ["--all", "--max-results", "1000", "--output", "json"]))
                got = json.loads(out)["modelImportJobSummaries"]
                self.assertEqual(got, [expected_json(j) for j in want])
                # What reached Bedrock carries the filter.
                q = self.fake.api_requests()[0]["query"]
                for k, v in rest_query.items():
                    self.assertEqual(q[k], v)
                # And the CLI's JSON is the REST shim's, byte for byte.
                rq = dict(rest_query, maxResults=1000)
                status, _, _ = self.gw.rest(rq)
                self.assertEqual(status, 200)
                self.assertEqual(out.encode(), self.gw.last_raw + b"\n")

    def test_sort_order(self):
        jobs = sorted(self.fake.jobs(), key=sort_key)
        for flag, want in (("asc", jobs), ("desc", list(reversed(jobs)))):
            with self.subTest(order=flag):
                self.fake.reset()
                out, _ = self.cli("--sort-order", flag, "--all", "--max-results", "33", "--output", "ndjson")
                self.assertEqual([json.loads(x)["jobArn"] for x in out.splitlines()], [j["jobArn"] for j in want])
                q = self.fake.api_requests()[0]["query"]
                self.assertEqual(q["sortOrder"], "Ascending" if flag == "asc" else "Descending")
                self.assertEqual(q["sortBy"], "CreationTime")

    def test_table_is_aligned(self):
        self.fake.set_jobs(KNOWN_JOBS)
        try:
            out, _ = self.cli("--output", "table")
        finally:
            self.fake.set_generated(120, 7)
        lines = out.splitlines()
        self.assertEqual(len(lines), 1 + len(KNOWN_JOBS))
        header = lines[0]
        starts = [header.index(h) for h in ("NAME", "STATUS", "CREATED", "ENDED", "IMPORTED MODEL", "JOB ARN")]
        for line in lines[1:]:
            for s in starts[1:]:
                self.assertEqual(line[s - 2:s], "  ", (line, s))
                self.assertNotEqual(line[s], " ", (line, s))
        rows = {l.split()[0]: l for l in lines[1:]}
        self.assertIn("Completed", rows["alpha+v1.release"])
        self.assertIn("2024-05-01T10:00:00.500Z", rows["alpha+v1.release"])
        self.assertIn("alpha-imported", rows["alpha+v1.release"])
        self.assertTrue(rows["beta-2"].rstrip().endswith("model-import-job/beta00000002"))

    def test_progress_only_on_a_terminal(self):
        master, slave = pty.openpty()
        try:
            p = subprocess.run([CLI, "list", "--target", self.target(), "--all", "--max-results", "30",
                                "--output", "ndjson"], env=self.env(), stdout=subprocess.PIPE, stderr=slave,
                               timeout=60)
            os.close(slave)
            slave = None
            chunks = []
            while True:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    break
                if not data:
                    break
                chunks.append(data)
        finally:
            if slave is not None:
                os.close(slave)
            os.close(master)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(len(p.stdout.splitlines()), 120)
        tty = b"".join(chunks).decode()
        self.assertIn("4 pages, 120 jobs", tty)


class ClientSdkFailures(ClientSdkBase):
    # The client's own retries are under test: the gateway makes exactly one
    # upstream attempt per call and never opens its breaker, so each client
    # attempt is one emulator request.
    config_over = {"upstream": {"max_attempts": 1, "breaker_threshold": 0}}

    def test_auth_failure(self):
        out, err = self.cli(key="not-a-key", expect=EXIT_AUTH)
        self.assertEqual(out, "")
        self.assertOneErrorLine(err, "UNAUTHENTICATED")
        self.assertNotIn("not-a-key", err)
        self.assertNoUpstream()

    def test_api_key_from_file(self):
        d = tempfile.mkdtemp(dir=self.tmp)
        good, bad = os.path.join(d, "good"), os.path.join(d, "bad")
        with open(good, "w") as f:
            f.write(KEYS["team-b"] + "\n")
        with open(bad, "w") as f:
            f.write("wrong-key\n")
        out, _ = self.cli("--api-key-file", good, "--max-results", "3", "--output", "ndjson", key=None)
        self.assertEqual(len(out.splitlines()), 3)
        _, err = self.cli("--api-key-file", bad, key=None, expect=EXIT_AUTH)
        self.assertOneErrorLine(err, "UNAUTHENTICATED")
        _, err = self.cli("--api-key-file", os.path.join(d, "missing"), key=None, expect=EXIT_USAGE)
        self.assertIn("API key file", err)

    def test_no_key_on_argv(self):
        _, err = self.cli(key=None, expect=EXIT_USAGE)
        self.assertIn("BEDROCKGW_API_KEY", err)
        _, err = self.cli("--api-key", KEYS["team-a"], key=None, expect=EXIT_USAGE)
        self.assertIn("unknown option --api-key", err)

    def test_deadline_expiry(self):
        self.fake.fault("delay", delay_ms=3000)
        t0 = time.time()
        out, err = self.cli("--timeout-ms", "400", "--max-attempts", "1", expect=EXIT_NETWORK)
        self.assertLess(time.time() - t0, 2.5)
        self.assertEqual(out, "")
        self.assertOneErrorLine(err, "DEADLINE_EXCEEDED")

    def test_retry_on_unavailable(self):
        # The emulator's `internal` fault is UNAVAILABLE from the gateway.
        self.fake.fault("internal", count=2)
        out, err = self.cli("--max-results", "5", "--output", "ndjson", "--max-attempts", "3")
        self.assertEqual(len(out.splitlines()), 5)
        reqs = self.fake.api_requests()
        self.assertEqual([r["status"] for r in reqs], [500, 500, 200])
        self.assertEqual(self.fake.counters()["faults_injected"], 2)

    def test_retries_are_bounded(self):
        self.fake.fault("internal", count=10)
        out, err = self.cli("--max-attempts", "2", expect=EXIT_SERVER)
        self.assertEqual(out, "")
        self.assertOneErrorLine(err, "UNAVAILABLE")
        self.assertEqual(len(self.fake.api_requests()), 2)

    def test_no_retry_on_other_errors(self):
        self.fake.fault("validation")
        _, err = self.cli("--max-attempts", "3", expect=EXIT_SERVER)
        self.assertOneErrorLine(err, "INVALID_ARGUMENT")
        self.assertEqual(len(self.fake.api_requests()), 1)
        self.fake.reset()
        self.fake.fault("access_denied")
        _, err = self.cli(expect=EXIT_AUTH)
        self.assertOneErrorLine(err, "PERMISSION_DENIED")

    def test_exit_codes(self):
        # usage
        for args in (["--output", "yaml"], ["--bogus"], ["--limit", "3"], ["--max-results", "0"],
                     ["--max-results", "1001"], ["--status", "Done"], ["--sort-order", "up"],
                     ["--created-after", "yesterday"], ["--cert-file", "/x"], ["stray"]):
            with self.subTest(args=args):
                out, err = self.cli(*args, expect=EXIT_USAGE)
                self.assertEqual(out, "")
                self.assertTrue(err.startswith("bedrockgw-cli: error: "), err)
        p = subprocess.run([CLI, "frobnicate"], capture_output=True)
        self.assertEqual(p.returncode, EXIT_USAGE)
        # server-side validation error
        _, err = self.cli("--name-contains", "bad name!", expect=EXIT_SERVER)
        self.assertOneErrorLine(err, "INVALID_ARGUMENT")
        self.assertIn("nameContains", err)
        self.assertNoUpstream()
        # network: nothing listens there
        _, err = self.cli("--max-attempts", "1", target="127.0.0.1:%d" % free_port(), expect=EXIT_NETWORK)
        self.assertOneErrorLine(err, "UNAVAILABLE")
        # TLS handshake against a plaintext gateway
        _, err = self.cli("--tls", "--timeout-ms", "3000", "--max-attempts", "1", expect=EXIT_NETWORK)
        self.assertOneErrorLine(err)

    def test_help(self):
        for argv in ([CLI, "list", "--help"], [CLI, "help", "list"]):
            p = subprocess.run(argv, capture_output=True)
            self.assertEqual(p.returncode, 0)
            text = p.stdout.decode()
            for word in ("--status", "--all", "--api-key-file", "BEDROCKGW_API_KEY", "exit codes", "examples:",
                         "  5  network failure"):
                self.assertIn(word, text)
        p = subprocess.run([CLI, "--help"], capture_output=True)
        self.assertEqual(p.returncode, 0)
        self.assertIn("list", p.stdout.decode())


class ClientSdkThreads(ClientSdkBase):
    def test_threads_share_one_client(self):
        n = len(self.fake.jobs())
        p = subprocess.run([THREADS, self.target(), "8", "3", "9"], env=self.env(), capture_output=True,
                           timeout=240)
        err = p.stderr.decode()
        assert_log_clean(err, "bgw-client-threads", check_secrets=False)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + err)
        res = json.loads(p.stdout)
        self.assertEqual(res["errors"], 0, res)
        self.assertEqual(res["walks"], 24)
        self.assertEqual(res["counts"], [n] * 24)
        self.assertEqual(len(set(res["hashes"])), 1, res)
        calls = [e for e in self.gw.access_events() if e.get("transport") == "grpc"]
        self.assertGreaterEqual(len(calls), 24 * ((n + 8) // 9 + 1))


class ClientSdkInstall(ClientSdkBase):
    def test_install_and_build_example_with_pkg_config(self):
        prefix = tempfile.mkdtemp(prefix="bgw-prefix-")
        self.addCleanup(shutil.rmtree, prefix, True)
        subprocess.run(["cmake", "--install", BUILD_DIR, "--prefix", prefix], check=True, capture_output=True)
        pcs = [os.path.join(dp, f) for dp, _, fs in os.walk(prefix) for f in fs if f == "bedrockgw-client.pc"]
        self.assertEqual(len(pcs), 1, pcs)
        self.assertTrue(os.path.exists(os.path.join(prefix, "include", "bedrockgw", "client.h")))
        pc_dir = os.path.dirname(pcs[0])
        libdir = os.path.dirname(pc_dir)
        self.assertTrue(os.path.exists(os.path.join(libdir, "libbedrockgw-client.so")))
        env = dict(os.environ, PKG_CONFIG_PATH=pc_dir)
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "bedrockgw-client"], env=env, check=True,
                               capture_output=True).stdout.decode().split()
        self.assertIn("-lbedrockgw-client", flags)
        includes = [os.path.normpath(f[2:]) for f in flags if f.startswith("-I")]
        self.assertIn(os.path.join(prefix, "include"), includes)
        # Compile the example from the source tree, against the installed files only.
        exe = os.path.join(prefix, "list_jobs")
        extra = ["-fsanitize=address,undefined"] if sanitized_build() else []
        cc = subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror"] + extra +
                            [os.path.join(SRC_DIR, "client-sdk", "examples", "list_jobs.c"), "-o", exe] + flags,
                            env=env, capture_output=True)
        self.assertEqual(cc.returncode, 0, cc.stderr.decode())
        # ... and it works against the gateway.
        run_env = self.env(extra={"LD_LIBRARY_PATH": libdir})
        p = subprocess.run([exe, self.target()], env=run_env, capture_output=True, timeout=60)
        assert_log_clean(p.stderr.decode(), "list_jobs", check_secrets=False)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        completed = [j for j in self.fake.jobs() if j["status"] == "Completed"]
        lines = p.stdout.decode().splitlines()
        self.assertEqual(lines[-1], "total %d" % len(completed))
        self.assertEqual(sorted(lines[:-1]), sorted("%s Completed" % j["jobName"] for j in completed))
        # The library exports nothing but the bgw_ API.
        nm = subprocess.run(["nm", "-D", "--defined-only", os.path.join(libdir, "libbedrockgw-client.so")],
                            capture_output=True, check=True).stdout.decode()
        syms = [l.split()[-1] for l in nm.splitlines() if l.split()[1] in ("T", "D", "B", "R")]
        self.assertTrue(syms)
        self.assertEqual([s for s in syms if not re.match(r"bgw_", s)], [])


if __name__ == "__main__":
    unittest.main()


class ClientSdkTls(ClientSdkBase):
    """The client's TLS options against the gateway's grpc.tls, with
    certificates made by openssl for the test (tlsutil)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from tlsutil import make_ca, make_cert
        cls.certs = tempfile.mkdtemp(prefix="certs-", dir=cls.tmp)
        cls.ca = make_ca(cls.certs, "ca")
        cls.srv_crt, cls.srv_key = make_cert(cls.certs, "server", "gateway.test")
        cls.cli_crt, cls.cli_key = make_cert(cls.certs, "client", "svc-a.internal", client=True,
                                             san="DNS:svc-a.internal")
        cls.other_ca = make_ca(cls.certs, "other")
        cls.bad_crt, cls.bad_key = make_cert(cls.certs, "rogue", "svc-a.internal", ca="other", client=True,
                                             san="DNS:svc-a.internal")

    def tls_gateway(self, **tls):
        t = {"cert_file": self.srv_crt, "key_file": self.srv_key}
        t.update(tls)
        gw = self.start_gateway(grpc={"listen": "127.0.0.1:0", "tls": t})
        self.assertTrue(gw.proc.ready.get("grpc_tls"))
        return gw

    def test_tls(self):
        gw = self.tls_gateway()
        target = "127.0.0.1:%d" % gw.grpc_port
        out, _ = self.cli("--ca-file", self.ca, "--max-results", "3", "--output", "ndjson", target=target)
        self.assertEqual(len(out.splitlines()), 3)
        out, _ = self.cli("--ca-file", self.ca, "--server-name", "localhost", "--max-results", "2",
                          "--output", "ndjson", target=target)
        self.assertEqual(len(out.splitlines()), 2)
        self.assertEqual(len(self.fake.api_requests()), 2)
        # Plaintext against the TLS port, an untrusted CA, a wrong name: no call gets through.
        for args in ([], ["--ca-file", self.other_ca], ["--ca-file", self.ca, "--server-name", "other.test"]):
            with self.subTest(args=args):
                _, err = self.cli(*(args + ["--max-attempts", "1", "--timeout-ms", "5000"]), target=target,
                                  expect=EXIT_NETWORK)
                self.assertOneErrorLine(err, "UNAVAILABLE")
        self.assertEqual(len(self.fake.api_requests()), 2)
        # An unreadable CA file is a usage error, found before any call.
        _, err = self.cli("--ca-file", os.path.join(self.certs, "nope.pem"), target=target, expect=EXIT_USAGE)
        self.assertIn("nope.pem", err)

    def test_mutual_tls(self):
        gw = self.tls_gateway(client_ca_file=self.ca, require_client_cert=True)
        target = "127.0.0.1:%d" % gw.grpc_port
        out, _ = self.cli("--ca-file", self.ca, "--cert-file", self.cli_crt, "--key-file", self.cli_key,
                          "--all", "--max-results", "50", "--output", "ndjson", target=target)
        self.assertEqual(len(out.splitlines()), 120)
        n = len(self.fake.api_requests())
        for args in (["--ca-file", self.ca],
                     ["--ca-file", self.ca, "--cert-file", self.bad_crt, "--key-file", self.bad_key]):
            with self.subTest(args=args):
                _, err = self.cli(*(args + ["--max-attempts", "1", "--timeout-ms", "5000"]), target=target,
                                  expect=EXIT_NETWORK)
                self.assertOneErrorLine(err, "UNAVAILABLE")
        self.assertEqual(len(self.fake.api_requests()), n)
