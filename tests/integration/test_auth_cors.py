"""Tenant authentication (API keys as Bearer or x-api-key) and the REST
frontend's CORS and routing behaviour."""
import json
import os
import subprocess
import tempfile
import unittest

import grpc

from harness import BIN, KEYS, GatewayTestCase, assert_log_clean, base_config

SC = grpc.StatusCode
ALLOWED = "https://app.example.com"
EVIL = "https://evil.example.net"


class Auth(GatewayTestCase):

    def test_no_key(self):
        st, h, body = self.gw.rest(key=None)
        self.assertStatusError(st, body, 401, 16)
        with self.assertRaises(grpc.RpcError) as cm:
            self.gw.grpc(key=None)
        self.assertRpcError(cm.exception, SC.UNAUTHENTICATED)
        self.assertNoUpstream()

    def test_wrong_key(self):
        for k in ("key-team-a-0123456788", "x", KEYS["team-a"] + "0", KEYS["team-a"][:-1], KEYS["team-a"].upper()):
            with self.subTest(k=k):
                st, h, body = self.gw.rest(key=k)
                self.assertStatusError(st, body, 401, 16)
                for bearer in (True, False):
                    with self.assertRaises(grpc.RpcError) as cm:
                        self.gw.grpc(key=k, bearer=bearer)
                    self.assertRpcError(cm.exception, SC.UNAUTHENTICATED)
                    self.assertNotIn(k, cm.exception.details())
                self.assertNotIn(k, body["message"])
        self.assertNoUpstream()

    def test_rest_bearer_and_x_api_key(self):
        st, h, body = self.gw.rest(key=None, headers={"Authorization": "Bearer " + KEYS["team-a"]})
        self.assertEqual(st, 200, body)
        st, h, body = self.gw.rest(key=None, headers={"authorization": "bearer  " + KEYS["team-b"]})
        self.assertEqual(st, 200, body)
        st, h, body = self.gw.rest(key="team-b")  # x-api-key
        self.assertEqual(st, 200, body)
        reqs = self.fake.api_requests()
        self.assertEqual(len(reqs), 3)
        for r in reqs:
            self.assertSigned(r)
            # The client's credential never travels upstream.
            for k in KEYS.values():
                self.assertNotIn(k, json.dumps(r))

    def test_grpc_bearer_and_x_api_key(self):
        for bearer in (True, False):
            for tenant in ("team-a", "team-b"):
                with self.subTest(bearer=bearer, tenant=tenant):
                    resp, call = self.gw.grpc(key=tenant, bearer=bearer)
                    self.assertEqual(call.code(), SC.OK)
                    self.assertEqual(len(resp.model_import_job_summaries), 25)
        self.assertEqual(len(self.fake.api_requests()), 4)

    def test_non_bearer_scheme(self):
        for value in ("Basic " + KEYS["team-a"], "Token " + KEYS["team-a"], KEYS["team-a"], "Bearer"):
            with self.subTest(value=value[:12]):
                st, h, body = self.gw.rest(key=None, headers={"Authorization": value})
                self.assertStatusError(st, body, 401, 16)
                with self.assertRaises(grpc.RpcError) as cm:
                    self.gw.grpc(key=None, metadata=[("authorization", value)])
                self.assertRpcError(cm.exception, SC.UNAUTHENTICATED)
        # A bad Authorization is not rescued by a good x-api-key.
        st, h, body = self.gw.rest(key="team-a", headers={"Authorization": "Basic Zm9vOmJhcg=="})
        self.assertStatusError(st, body, 401, 16)
        self.assertNoUpstream()

    def test_origin_scheme_and_host_ignore_case_port_does_not(self):
        # the configured origin is https://app.example.com (base_config)
        for given in ("https://APP.Example.COM", "HTTPS://app.example.com"):
            st, h, body = self.gw.rest({"maxResults": 1}, headers={"Origin": given})
            self.assertEqual(st, 200, body)
            self.assertEqual(h.get("access-control-allow-origin"), "https://app.example.com")
        for given in ("https://app.example.com:8443", "http://app.example.com",
                      "https://app.example.com.evil.test"):
            st, h, body = self.gw.rest({"maxResults": 1}, headers={"Origin": given})
            self.assertNotIn("access-control-allow-origin", h, given)

    def test_conflicting_and_repeated_key_headers_are_refused(self):
        import http.client
        a, b = KEYS["team-a"], KEYS["team-b"]
        # both headers with the same key: fine
        st, h, body = self.gw.rest(key="team-a", headers={"Authorization": "Bearer " + a})
        self.assertEqual(st, 200, body)
        # different keys: neither wins
        st, h, body = self.gw.rest(key="team-b", headers={"Authorization": "Bearer " + a})
        self.assertStatusError(st, body, 401, 16)
        self.assertIn("different API keys", body["message"])
        with self.assertRaises(grpc.RpcError) as cm:
            self.gw.grpc(key="team-a", metadata=[("x-api-key", b)])
        self.assertRpcError(cm.exception, SC.UNAUTHENTICATED)
        self.assertIn("different API keys", cm.exception.details())
        # a non-Bearer Authorization next to a good x-api-key: the message
        # names both headers
        st, h, body = self.gw.rest(key="team-a", headers={"Authorization": "Basic Zm9vOmJhcg=="})
        self.assertStatusError(st, body, 401, 16)
        self.assertIn("X-Api-Key", body["message"])
        self.assertIn("Authorization", body["message"])
        # the same header twice (even with one valid key): refused
        for name in ("X-Api-Key", "Authorization"):
            val = (lambda k: "Bearer " + k) if name == "Authorization" else (lambda k: k)
            c = http.client.HTTPConnection("127.0.0.1", self.gw.http_port, timeout=10)
            c.putrequest("GET", "/v1/model-import-jobs?maxResults=1")
            c.putheader(name, val(a))
            c.putheader(name, val(b))
            c.endheaders()
            r = c.getresponse()
            body = json.loads(r.read())
            c.close()
            self.assertEqual(r.status, 401, body)
            self.assertIn("more than one", body["message"])
        with self.assertRaises(grpc.RpcError) as cm:
            self.gw.grpc(key=None, metadata=[("x-api-key", a), ("x-api-key", a)])
        self.assertRpcError(cm.exception, SC.UNAUTHENTICATED)
        self.assertIn("more than one", cm.exception.details())
        self.assertEqual(len(self.fake.api_requests()), 1)

    def test_tenant_in_access_log_and_no_keys_in_log(self):
        st, h, body = self.gw.rest(key="team-b")
        self.assertEqual(st, 200)
        ev = self.gw.wait_access(lambda e: e.get("request_id") == h["x-request-id"])
        self.assertEqual(ev["event"], "access")
        self.assertEqual(ev["tenant"], "team-b")
        self.assertEqual(ev["transport"], "rest")
        self.assertEqual(ev["code"], "OK")
        resp, call = self.gw.grpc(key="team-a", bearer=False)
        rid = dict(call.initial_metadata())["x-request-id"]
        ev = self.gw.wait_access(lambda e: e.get("request_id") == rid)
        self.assertEqual(ev["tenant"], "team-a")
        self.assertEqual(ev["transport"], "grpc")
        st, h, body = self.gw.rest(key="not-a-key-123")
        ev = self.gw.wait_access(lambda e: e.get("request_id") == h["x-request-id"])
        self.assertEqual(ev["code"], "UNAUTHENTICATED")
        self.assertEqual(ev["tenant"], "")
        log = self.gw.proc.text()
        for k in list(KEYS.values()) + ["not-a-key-123"]:
            self.assertNotIn(k, log)


    def test_no_secrets_in_debug_log(self):
        g = self.start_gateway(gateway={"log_level": "debug"})
        self.assertEqual(g.rest(key="team-a")[0], 200)
        self.assertEqual(g.rest(key=None, headers={"Authorization": "Bearer " + KEYS["team-b"]})[0], 200)
        self.assertEqual(g.rest(key=None, headers={"Authorization": "Basic " + KEYS["team-b"]})[0], 401)
        g.grpc(key="team-b", bearer=False)
        with self.assertRaises(grpc.RpcError):
            g.grpc(key=KEYS["team-a"] + "x")
        self.assertEqual(len(g.access_events()), 5)
        # start_gateway's clean-up checks the log for keys, the AWS secret and
        # signatures once the process has exited.


class Cors(GatewayTestCase):

    def preflight(self, gw, origin, method="GET", req_headers="authorization, x-api-key"):
        h = {"Origin": origin, "Access-Control-Request-Method": method}
        if req_headers:
            h["Access-Control-Request-Headers"] = req_headers
        return gw.rest(method="OPTIONS", key=None, headers=h)

    def test_preflight_allowed_origin(self):
        st, h, body = self.preflight(self.gw, ALLOWED)
        self.assertEqual(st, 204, body)
        self.assertEqual(h.get("access-control-allow-origin"), ALLOWED)
        methods = [m.strip() for m in h.get("access-control-allow-methods", "").split(",")]
        self.assertIn("GET", methods)
        allow_h = [x.strip().lower() for x in h.get("access-control-allow-headers", "").split(",")]
        self.assertIn("authorization", allow_h)
        self.assertIn("x-api-key", allow_h)
        self.assertRegex(h.get("access-control-max-age", ""), r"^[0-9]+$")
        self.assertIn("origin", h.get("vary", "").lower())
        self.assertNotIn("access-control-allow-credentials", h)
        self.assertNoUpstream()

    def test_preflight_disallowed_origin(self):
        st, h, body = self.preflight(self.gw, EVIL)
        self.assertEqual(st, 403, body)
        self.assertNotIn("access-control-allow-origin", h)
        self.assertNotIn("access-control-allow-methods", h)
        self.assertNoUpstream()

    def test_preflight_for_other_method(self):
        st, h, body = self.preflight(self.gw, ALLOWED, method="DELETE")
        self.assertEqual(st, 403, body)
        self.assertNotIn("access-control-allow-origin", h)

    def test_get_from_allowed_origin(self):
        st, h, body = self.gw.rest({"maxResults": 2}, headers={"Origin": ALLOWED})
        self.assertEqual(st, 200, body)
        self.assertEqual(h.get("access-control-allow-origin"), ALLOWED)
        self.assertIn("origin", [v.strip().lower() for v in h.get("vary", "").split(",")])
        self.assertNotIn("access-control-allow-credentials", h)
        self.assertEqual(len(self.fake.api_requests()), 1)
        # Error replies carry CORS headers too, so a browser can read them.
        st, h, body = self.gw.rest({"maxResults": 0}, headers={"Origin": ALLOWED})
        self.assertEqual(st, 400)
        self.assertEqual(h.get("access-control-allow-origin"), ALLOWED)

    def test_get_from_disallowed_origin(self):
        st, h, body = self.gw.rest({"maxResults": 2}, headers={"Origin": EVIL})
        self.assertEqual(st, 200, body)
        self.assertNotIn("access-control-allow-origin", h)
        self.assertIn("origin", h.get("vary", "").lower())

    def test_wildcard_origin(self):
        g = self.start_gateway(http={"cors_allowed_origins": ["*"]})
        st, h, body = g.rest({"maxResults": 2}, headers={"Origin": EVIL})
        self.assertEqual(st, 200, body)
        self.assertEqual(h.get("access-control-allow-origin"), "*")
        self.assertNotIn("access-control-allow-credentials", h)
        st, h, body = self.preflight(g, "https://anything.example.org")
        self.assertEqual(st, 204, body)
        self.assertEqual(h.get("access-control-allow-origin"), "*")
        self.assertNotIn("access-control-allow-credentials", h)

    def test_credentials_with_explicit_origin(self):
        g = self.start_gateway(http={"cors_allowed_origins": [ALLOWED], "cors_allow_credentials": True})
        st, h, body = g.rest({"maxResults": 2}, headers={"Origin": ALLOWED})
        self.assertEqual(st, 200, body)
        self.assertEqual(h.get("access-control-allow-origin"), ALLOWED)
        self.assertEqual(h.get("access-control-allow-credentials"), "true")

    def test_wildcard_with_credentials_rejected_by_check_config(self):
        cfg = base_config("http://127.0.0.1:1", http={"cors_allowed_origins": ["*"], "cors_allow_credentials": True})
        path = os.path.join(tempfile.mkdtemp(dir=self.tmp), "cors.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        p = subprocess.run([os.path.join(BIN, "bedrockgw"), "--check-config", path], capture_output=True,
                           text=True, timeout=20)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        assert_log_clean(p.stdout + p.stderr)
        self.assertIn("http.cors_allowed_origins", p.stderr)
        self.assertIn(path, p.stderr)

    def test_unknown_path_404(self):
        # (/model-import-jobs itself is the AWS-compatible front: test_aws_front.py)
        for path in ("/v1/model-import-job", "/", "/v1/model-import-jobs/x", "/model-import-jobs/x"):
            with self.subTest(path=path):
                st, h, body = self.gw.rest(path=path)
                self.assertStatusError(st, body, 404, 5)
        self.assertNoUpstream()

    def test_post_405_with_allow(self):
        for method in ("POST", "PUT", "DELETE"):
            with self.subTest(method=method):
                st, h, body = self.gw.rest(method=method)
                self.assertEqual(st, 405, body)
                self.assertIsInstance(body, dict)
                self.assertIn("GET", [m.strip() for m in h.get("allow", "").split(",")])
        self.assertNoUpstream()


if __name__ == "__main__":
    unittest.main()
