"""A real browser (headless Debian Chromium) never shows one caller's cached
answer to another: a page on another origin fetches the same list URL with
tenant A's key, tenant B's key, a wrong key, then by bearer token, and each
answer must be that caller's own (the gateway sees every request)."""
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from harness import KEYS, GatewayTestCase
from policyutil import tenant

PAGE = """<!doctype html><html><body><pre id="out">running</pre><script>
const GW = %(gw)s, A = %(a)s, B = %(b)s;
async function get(headers) {
  const r = await fetch(GW + "/v1/model-import-jobs?maxResults=3", {headers, credentials: "omit"});
  return {status: r.status, cache: r.headers.get("x-cache"), body: await r.text()};
}
(async () => {
  const out = [];
  try {
    out.push(await get({"X-Api-Key": A}));
    out.push(await get({"X-Api-Key": A}));
    out.push(await get({"X-Api-Key": B}));
    out.push(await get({"X-Api-Key": "not-a-key-of-anyone"}));
    out.push(await get({"Authorization": "Bearer " + A}));
    out.push(await get({"Authorization": "Bearer " + B}));
  } catch (e) {
    out.push({error: String(e)});
  }
  document.getElementById("out").textContent = "done";
  await fetch("/result", {method: "POST", body: JSON.stringify(out)});
})();
</script></body></html>"""


def chromium_path():
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name)
        if p:
            return p
    raise AssertionError("chromium is not installed: deploy/install-deps.sh installs it")


class PageServer:
    """Serves the test page (set once the gateway's port is known) on its own
    origin and receives the page's result."""

    def __init__(self):
        self.page = ""
        self.result = None
        self.got = threading.Event()
        owner = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = owner.page.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                owner.result = json.loads(self.rfile.read(n))
                self.send_response(204)
                self.end_headers()
                owner.got.set()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        self.origin = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def statuses(answer):
    body = json.loads(answer["body"])
    return {j["status"] for j in body.get("modelImportJobSummaries", [])}


class BrowserCache(GatewayTestCase):
    fake_args = {"generate": 60, "seed": 11}

    def run_page(self, srv):
        profile = tempfile.mkdtemp(prefix="chromium-", dir=self.tmp)
        argv = [chromium_path(), "--headless=new", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--disable-extensions", "--disable-background-networking",
                "--user-data-dir=" + profile, srv.origin + "/"]
        log_path = os.path.join(self.tmp, "chromium.log")
        with open(log_path, "wb") as log:
            p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
            try:
                ok = srv.got.wait(90)
            finally:
                p.kill()
                p.wait()
        if not ok:
            with open(log_path, errors="replace") as f:
                self.fail("the page never reported its result; chromium said:\n" + f.read()[-3000:])
        return srv.result

    def test_each_caller_gets_its_own_answer_not_the_browser_cache(self):
        srv = PageServer()
        self.addCleanup(srv.close)
        # Two tenants with disjoint views, so any answer shows whose it is.
        g = self.start_gateway(
            http={"cors_allowed_origins": [srv.origin]},
            cache={"enabled": True, "ttl_ms": 60000},
            tenants=[tenant("team-a", KEYS["team-a"], {"statuses": ["Completed"]}),
                     tenant("team-b", KEYS["team-b"], {"statuses": ["Failed"]})])
        srv.page = PAGE % {"gw": json.dumps("http://127.0.0.1:%d" % g.http_port),
                           "a": json.dumps(KEYS["team-a"]), "b": json.dumps(KEYS["team-b"])}
        out = self.run_page(srv)
        self.assertEqual(len(out), 6, out)
        for a in out:
            self.assertNotIn("error", a, out)
        a1, a2, b1, wrong, bearer_a, bearer_b = out
        self.assertEqual(a1["status"], 200, a1)
        self.assertEqual(statuses(a1), {"MODEL_IMPORT_JOB_STATUS_COMPLETED"}, a1)
        # The same caller again may come from the browser's cache: same rows.
        self.assertEqual(a2["status"], 200, a2)
        self.assertEqual(a2["body"], a1["body"])
        self.assertEqual(b1["status"], 200, b1)
        self.assertEqual(statuses(b1), {"MODEL_IMPORT_JOB_STATUS_FAILED"}, b1)
        self.assertEqual(wrong["status"], 401, wrong)
        self.assertNotIn("modelImportJobSummaries", wrong["body"])
        self.assertEqual(bearer_a["status"], 200, bearer_a)
        self.assertEqual(statuses(bearer_a), {"MODEL_IMPORT_JOB_STATUS_COMPLETED"}, bearer_a)
        self.assertEqual(bearer_b["status"], 200, bearer_b)
        self.assertEqual(statuses(bearer_b), {"MODEL_IMPORT_JOB_STATUS_FAILED"}, bearer_b)
        # The gateway answered every caller other than the repeat itself.
        def listed(e):
            return e.get("transport") == "rest" and e.get("http_status") in (200, 401)
        deadline = time.time() + 3
        while len([e for e in g.access_events() if listed(e)]) < 5 and time.time() < deadline:
            time.sleep(0.05)
        seen = [e for e in g.access_events() if listed(e)]
        self.assertGreaterEqual(len(seen), 5, seen)
        self.assertEqual(len([e for e in seen if e["http_status"] == 401]), 1, seen)


if __name__ == "__main__":
    unittest.main()
