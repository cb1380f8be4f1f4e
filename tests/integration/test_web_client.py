"""The example page (deploy/examples/web) with the browser client
(client-sdk/web) in a real browser: headless Debian Chromium driven by
playwright-core (tests/web/drive_example.mjs), the page served from another
origin than the gateway's, against the real gateway and the emulator.

Checked against what the emulator holds and the tenant's policy (computed
independently in policyutil): the rows (names, statuses, order) of every
page while walking Next to the end and Previous back; a filter; the CORS
preflight and the GET from an allowed origin; an origin the gateway does not
allow (the browser blocks the answer, the page shows the error, the gateway
answered without CORS headers); a stale page revalidated by the browser's
HTTP cache with If-None-Match and answered 304 by the gateway (its access
log), the rows still shown; times in the viewer's time zone. A screenshot
of the page is kept under the build directory (the path is printed)."""
import datetime
import functools
import http.client
import http.server
import json
import os
import shutil
import subprocess
import threading
import unittest

from harness import BIN, KEYS, GatewayTestCase
from policyutil import expected_arns, tenant

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
WEB_DIR = os.path.join(ROOT, "tests", "web")
SERVED = ("/deploy/examples/web/", "/client-sdk/web/")
POLICY = {"job_name_prefixes": ["team-a-"], "statuses": ["Completed", "Failed", "InProgress"]}
PAGE_SIZE = 4
TZ = "Asia/Tokyo"  # UTC+9, no daylight saving time


def web_ready():
    if not shutil.which("node"):
        raise AssertionError("node is not installed: deploy/install-deps.sh installs it")
    if not os.path.isdir(os.path.join(WEB_DIR, "node_modules", "playwright-core")):
        raise AssertionError("run npm ci in tests/web (tests/run.sh does)")
    if not shutil.which("chromium"):
        raise AssertionError("chromium is not installed: deploy/install-deps.sh installs it")


class StaticSite:
    """The example page and the client, from the repository as they are, on
    an origin of their own (only those two folders are served)."""

    def __init__(self):
        class H(http.server.SimpleHTTPRequestHandler):
            def send_head(self):
                if not self.path.split("?")[0].startswith(SERVED):
                    self.send_error(404)
                    return None
                return super().send_head()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(H, directory=ROOT))
        self.origin = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.page = self.origin + "/deploy/examples/web/index.html"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def artifact_dir():
    d = os.path.join(os.path.abspath(BIN), "..", "test-artifacts")
    os.makedirs(d, exist_ok=True)
    return os.path.abspath(d)


class WebClient(GatewayTestCase):
    fake_args = {"generate": 60, "seed": 19}

    @classmethod
    def setUpClass(cls):
        web_ready()
        super().setUpClass()

    def drive(self, cfg):
        p = subprocess.run(["node", os.path.join(WEB_DIR, "drive_example.mjs")], input=json.dumps(cfg),
                           capture_output=True, text=True, timeout=240, cwd=WEB_DIR)
        for k in KEYS.values():
            self.assertNotIn(k, p.stdout + p.stderr, "the driver printed an API key")
        if p.returncode != 0:
            self.fail("driver failed (%d): %s" % (p.returncode, p.stderr[-4000:]))
        return json.loads(p.stdout.strip().splitlines()[-1])

    def test_example_page_in_chromium(self):
        allowed, blocked = StaticSite(), StaticSite()
        self.addCleanup(allowed.close)
        self.addCleanup(blocked.close)
        g = self.start_gateway(
            http={"cors_allowed_origins": [allowed.origin]},
            # Short freshness, so the browser's copy goes stale and is revalidated.
            cache={"enabled": True, "ttl_ms": 2000},
            tenants=[tenant("team-a", KEYS["team-a"], POLICY),
                     dict(tenant("team-b", KEYS["team-b"], {"job_name_prefixes": ["team-b-"]}),
                          rate_limit={"rps": 0.01, "burst": 1})])
        gateway = "http://127.0.0.1:%d" % g.http_port
        jobs = {j["jobArn"]: j for j in self.fake.jobs()}
        want_all = expected_arns(list(jobs.values()), POLICY, {})
        self.assertGreater(len(want_all), 2 * PAGE_SIZE, "the data set must give several pages")
        # A filter that keeps some of the tenant's jobs, not all.
        filt = {"statusEquals": "Failed", "nameContains": "titan"}
        want_filtered = expected_arns(list(jobs.values()), POLICY, filt)
        self.assertTrue(0 < len(want_filtered) < len(want_all), want_filtered)
        shot = os.path.join(artifact_dir(), "web_client.png")
        report = self.drive({
            "allowedPage": allowed.page, "blockedPage": blocked.page, "gateway": gateway,
            "apiKey": KEYS["team-a"], "limitedKey": KEYS["team-b"], "pageSize": PAGE_SIZE, "timezone": TZ, "screenshot": shot,
            "filter": {"status": filt["statusEquals"], "name": filt["nameContains"]},
            "revalidateAfterMs": 2600, "chromium": shutil.which("chromium")})
        with open(os.path.join(artifact_dir(), "web_client_report.json"), "w") as f:
            json.dump(report, f, indent=1)
        print("\nscreenshot of the example page: %s" % shot)
        self.assertEqual(report["consoleErrors"], [])

        # Every page walking forward: the tenant's jobs, in order, in pages.
        fwd = report["forward"]
        for i, pg in enumerate(fwd):
            self.assertIsNone(pg["error"], pg)
            self.assertLessEqual(len(pg["rows"]), PAGE_SIZE)
            self.assertEqual(pg["prevDisabled"], i == 0)
            self.assertEqual(pg["nextDisabled"], i == len(fwd) - 1)
            self.assertTrue(pg["pageinfo"].startswith("page %d " % (i + 1)), pg["pageinfo"])
        shown = [r for pg in fwd for r in pg["rows"]]
        self.assertEqual([r["arn"] for r in shown], want_all)
        for r in shown:
            j = jobs[r["arn"]]
            self.assertEqual(r["name"], j["jobName"])
            self.assertEqual((r["status"], r["badge"]), (j["status"], j["status"]))
            self.assertIn(j["status"], r["badgeClass"])
        self.assertGreaterEqual(len(fwd), 3)
        # Previous walks back through the same pages.
        back = report["backward"]
        self.assertEqual(len(back), len(fwd) - 1)
        self.assertEqual([[r["arn"] for r in pg["rows"]] for pg in back],
                         [[r["arn"] for r in pg["rows"]] for pg in reversed(fwd[:-1])])
        self.assertTrue(back[-1]["prevDisabled"])
        # Times in the viewer's time zone (the browser context's), not UTC.
        self.assertIn(TZ, back[-1]["tz"])
        self.assertTrue(report["timeChecks"])
        tokyo = datetime.timezone(datetime.timedelta(hours=9))
        for t in report["timeChecks"]:
            local = datetime.datetime.fromisoformat(t["at"].replace("Z", "+00:00")[:19] + "+00:00").astimezone(tokyo)
            want = local.strftime("%b ") + str(local.day) + local.strftime(", %Y, %I:%M:%S %p") + " GMT+9"
            text = t["shown"].replace("\u202f", " ").replace("\u00a0", " ")
            self.assertEqual(text, want, t)

        net = report["network"]
        # The preflight (x-api-key is not a simple header) and the GET succeeded.
        pre = [e for e in net if e.get("method") == "OPTIONS" and e["step"] == "first"]
        self.assertTrue(pre, net)
        self.assertEqual(pre[0].get("rawStatus"), 204, pre)
        self.assertEqual(pre[0]["received"].get("access-control-allow-origin"), allowed.origin)
        self.assertIn("x-api-key", pre[0]["sent"].get("access-control-request-headers", ""))
        first = [e for e in net if e.get("method") == "GET" and e["step"] == "first"]
        self.assertEqual([e.get("rawStatus") for e in first], [200], first)
        self.assertEqual(first[0]["received"]["access-control-allow-origin"], allowed.origin)

        # Revalidation: the browser sent If-None-Match with the page's ETag,
        # the gateway answered 304 (its access log says so for that request
        # id), and the page still shows the same rows.
        self.assertEqual([[r["arn"] for r in pg["rows"]] for pg in report["toLast"]],
                         [[r["arn"] for r in pg["rows"]] for pg in fwd[1:]])
        reval = [e for e in net if e.get("method") == "GET" and e["step"] == "refresh"]
        self.assertEqual(len(reval), 1, net)
        self.assertRegex(reval[0]["sent"].get("if-none-match", ""), r'^"[^"]+"$', reval)
        self.assertEqual(reval[0]["rawStatus"], 304, reval)
        self.assertEqual(reval[0]["received"]["etag"], reval[0]["sent"]["if-none-match"])
        self.assertEqual(reval[0]["status"], 200, "the browser hands the cached body to the page")
        rid = reval[0]["received"]["x-request-id"]
        ev = g.wait_access(lambda e: e.get("request_id") == rid)
        self.assertEqual((ev["http_status"], ev["tenant"]), (304, "team-a"), ev)
        self.assertEqual([r["arn"] for r in report["refresh"]["rows"]], [r["arn"] for r in fwd[-1]["rows"]])
        self.assertTrue(report["refresh"]["rows"])
        self.assertIsNone(report["refresh"]["error"])

        # The filter changes the rows: exactly the filtered view, all pages.
        filtered = [r["arn"] for pg in report["filtered"] for r in pg["rows"]]
        self.assertEqual(filtered, want_filtered)
        self.assertNotEqual(filtered, want_all[:len(filtered)])
        for pg in report["filtered"]:
            for r in pg["rows"]:
                # enums=bedrock: the wire carried Bedrock's spelling
                self.assertEqual((r["status"], r["wireStatus"]), ("Failed", "Failed"))
        for r in shown:  # the default rendering: proto3 JSON enum names
            self.assertEqual(r["wireStatus"], "MODEL_IMPORT_JOB_STATUS_" + {
                "InProgress": "IN_PROGRESS", "Completed": "COMPLETED", "Failed": "FAILED"}[r["status"]])
        fget = [e for e in net if e.get("method") == "GET" and e["step"] == "filter"]
        self.assertTrue(fget)
        for e in fget:
            self.assertEqual(e["sent"].get("authScheme"), "Bearer", e)
            self.assertNotIn("xApiKey", e["sent"])
            self.assertIn("enums=bedrock", e["url"])
            self.assertIn("statusEquals=Failed", e["url"])
        for e in first:
            self.assertTrue(e["sent"].get("xApiKey"), e)

        # Errors: the page shows the Status the gateway sent, naming the field.
        bad = report["badRange"]
        self.assertEqual(bad["rows"], [])
        self.assertEqual((bad["error"]["kind"], bad["error"]["code"]), ("status", "3"), bad)
        self.assertIn("INVALID_ARGUMENT (HTTP 400)", bad["error"]["text"])
        self.assertIn("field creationTimeAfter:", bad["error"]["text"])
        # ... and the client hands them to code as typed objects.
        ce = report["clientErrors"]
        m = ce["maxResults"]
        self.assertEqual((m["typed"], m["kind"], m["httpStatus"], m["code"], m["codeName"]),
                         (True, "status", 400, 3, "INVALID_ARGUMENT"), m)
        self.assertEqual([v["field"] for v in m["fieldViolations"]], ["maxResults"])
        self.assertIn("between 1 and 1000", m["message"])
        self.assertFalse(m["retryable"])
        self.assertEqual((ce["unknownKey"]["typed"], ce["unknownKey"]["name"]), (False, "TypeError"))
        self.assertIn("pageSize", ce["unknownKey"]["message"])
        self.assertEqual(ce["limitedFirst"], {"ok": True})
        lim = ce["limitedSecond"]
        self.assertEqual((lim["httpStatus"], lim["code"], lim["codeName"], lim["retryable"]),
                         (429, 8, "RESOURCE_EXHAUSTED", True), lim)
        self.assertGreaterEqual(lim["retryAfterS"], 1)
        ev = g.wait_access(lambda e: e.get("request_id") == lim["requestId"])
        self.assertEqual((ev["http_status"], ev["tenant"]), (429, "team-b"), ev)
        self.assertNotIn("apiKey", ce["clientKeys"])

        # An origin the gateway does not allow: the browser blocks the
        # answer, the page shows the error and no rows.
        b = report["blocked"]
        self.assertEqual(b["rows"], [])
        self.assertIsNotNone(b["error"], b)
        self.assertEqual(b["error"]["kind"], "network")
        self.assertIn("cors_allowed_origins", b["error"]["text"])
        bnet = report["blockedNetwork"]
        bpre = [e for e in bnet if e.get("method") == "OPTIONS"]
        self.assertTrue(bpre, bnet)
        self.assertEqual(bpre[0].get("rawStatus"), 403, bpre)
        self.assertNotIn("access-control-allow-origin", bpre[0].get("received", {}))
        # The gateway itself answers that origin, without CORS headers.
        c = http.client.HTTPConnection("127.0.0.1", g.http_port, timeout=10)
        c.request("OPTIONS", "/v1/model-import-jobs", headers={
            "Origin": blocked.origin, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-api-key"})
        r = c.getresponse()
        r.read()
        c.close()
        self.assertEqual(r.status, 403)
        self.assertIsNone(r.getheader("access-control-allow-origin"))
        # The failed preflight kept the GET itself from being sent.
        self.assertEqual([e.get("corsError") for e in bnet if e.get("method") == "GET"],
                         ["PreflightMissingAllowOriginHeader"], bnet)
        self.assertGreater(os.path.getsize(shot), 10000)


if __name__ == "__main__":
    unittest.main()
