"""REST over TLS (http.tls) and mutual-TLS tenant identity (mtls_subjects) on
both transports, with certificates made by openssl for the test:

- an HTTPS client gets answers; a plaintext or TLS 1.1 client does not;
- a client certificate listed in a tenant's mtls_subjects stands in for an
  API key (the access log names that tenant, "auth":"mtls"); with a key of
  the same tenant too, "mtls+api_key"; a key of another tenant -> 401 /
  UNAUTHENTICATED; a verified certificate that maps to no tenant -> 401 /
  UNAUTHENTICATED, even with a valid key;
- require_client_cert: no certificate, or one from another CA -> the TLS
  handshake fails, nothing reaches Bedrock;
- a key that does not match its certificate stops the start, naming the key.
"""
import http.client
import json
import os
import ssl
import subprocess
import tempfile
import unittest

import grpc

from harness import BIN, KEYS, METHOD, GatewayTestCase, base_config, pb, sha256_hex
from tlsutil import make_ca, make_cert, read

GW = os.path.join(BIN, "bedrockgw")
SUBJ = {"team-a": ["CN=svc-a.internal"], "team-b": ["URI:spiffe://corp/ns/b/sa/svc-b"]}
HANDSHAKE_FAILED = (ssl.SSLError, ConnectionError, http.client.RemoteDisconnected, OSError)


class Mtls(GatewayTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        d = cls.certs = tempfile.mkdtemp(prefix="certs-", dir=cls.tmp)
        cls.ca = make_ca(d, "ca")
        cls.srv = make_cert(d, "server", "gateway.test")
        cls.cli_a = make_cert(d, "client-a", "svc-a.internal", client=True, san="DNS:svc-a.internal")
        cls.cli_b = make_cert(d, "client-b", "svc-b", client=True, san="URI:spiffe://corp/ns/b/sa/svc-b")
        cls.cli_z = make_cert(d, "client-z", "svc-z.internal", client=True, san="DNS:svc-z.internal")
        make_ca(d, "other")
        cls.rogue = make_cert(d, "rogue", "svc-a.internal", ca="other", client=True, san="DNS:svc-a.internal")

    # -- helpers ---------------------------------------------------------------
    def tls(self, **over):
        t = {"cert_file": self.srv[0], "key_file": self.srv[1]}
        t.update(over)
        return t

    def mtls_gateway(self, require=True, **over):
        tenants = [{"id": t, "api_keys": [sha256_hex(k)], "mtls_subjects": SUBJ[t]}
                   for t, k in sorted(KEYS.items())]
        t = self.tls(client_ca_file=self.ca, require_client_cert=require)
        return self.start_gateway(grpc={"listen": "127.0.0.1:0", "tls": t},
                                  http={"listen": "127.0.0.1:0", "tls": t}, tenants=tenants, **over)

    def ctx(self, cert=None, **kw):
        c = ssl.create_default_context(cafile=self.ca)
        for k, v in kw.items():
            setattr(c, k, v)
        if cert:
            c.load_cert_chain(cert[0], cert[1])
        return c

    def https(self, gw, ctx, key=None, query="maxResults=2"):
        c = http.client.HTTPSConnection("127.0.0.1", gw.http_port, context=ctx, timeout=10)
        try:
            h = {"x-api-key": KEYS.get(key, key)} if key else {}
            c.request("GET", "/v1/model-import-jobs?" + query, headers=h)
            r = c.getresponse()
            body = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, json.loads(body) if body else None
        finally:
            c.close()

    def grpc_call(self, gw, cert=None, key=None):
        creds = grpc.ssl_channel_credentials(
            root_certificates=read(self.ca), private_key=read(cert[1]) if cert else None,
            certificate_chain=read(cert[0]) if cert else None)
        ch = grpc.secure_channel("127.0.0.1:%d" % gw.grpc_port, creds,
                                 options=[("grpc.ssl_target_name_override", "localhost")])
        try:
            rpc = ch.unary_unary(METHOD, request_serializer=pb.ListModelImportJobsRequest.SerializeToString,
                                 response_deserializer=pb.ListModelImportJobsResponse.FromString)
            md = [("authorization", "Bearer " + KEYS.get(key, key))] if key else []
            return rpc(pb.ListModelImportJobsRequest(max_results=2), timeout=10, metadata=md)
        finally:
            ch.close()

    def access(self, gw, request_id):
        return gw.wait_access(lambda e: e["request_id"] == request_id)

    # -- REST over TLS -----------------------------------------------------------
    def test_rest_over_tls(self):
        gw = self.start_gateway(http={"listen": "127.0.0.1:0", "tls": self.tls()})
        self.assertTrue(gw.proc.ready.get("http_tls"))
        status, h, body = self.https(gw, self.ctx(), key="team-a")
        self.assertEqual(status, 200, body)
        self.assertEqual(len(body["modelImportJobSummaries"]), 2)
        e = self.access(gw, h["x-request-id"])
        self.assertEqual((e["tenant"], e["transport"], e["auth"]), ("team-a", "rest", "api_key"))
        # Without a key it is still 401: TLS alone names no tenant.
        status, _, body = self.https(gw, self.ctx())
        self.assertEqual(status, 401, body)
        # Plain HTTP on the TLS port gets no HTTP answer.
        with self.assertRaises(HANDSHAKE_FAILED + (http.client.BadStatusLine,)):
            gw.rest({"maxResults": 2})
        # TLS 1.1 and below are refused; TLS 1.2 and 1.3 both work.
        for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            status, _, _ = self.https(gw, self.ctx(minimum_version=v, maximum_version=v), key="team-a")
            self.assertEqual(status, 200)
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.load_verify_locations(self.ca)
        try:
            import warnings
            warnings.simplefilter("ignore", DeprecationWarning)
            old.minimum_version = ssl.TLSVersion.TLSv1
            old.maximum_version = ssl.TLSVersion.TLSv1_1
            old.set_ciphers("ALL:@SECLEVEL=0")
        except (ValueError, ssl.SSLError):
            self.skipTest("this OpenSSL cannot even offer TLS 1.1")
        with self.assertRaises(HANDSHAKE_FAILED):
            self.https(gw, old, key="team-a")
        # A client that does not trust the gateway's CA refuses it.
        other = ssl.create_default_context(cafile=os.path.join(self.certs, "other.crt"))
        with self.assertRaises(ssl.SSLError):
            self.https(gw, other, key="team-a")
        self.assertEqual(len(self.fake.api_requests()), 3)

    # -- mTLS identities ------------------------------------------------------------
    def test_rest_mtls_maps_certificates_to_tenants(self):
        gw = self.mtls_gateway()
        cases = [  # cert, key, status, tenant, auth
            (self.cli_a, None, 200, "team-a", "mtls"),
            (self.cli_b, None, 200, "team-b", "mtls"),
            (self.cli_a, "team-a", 200, "team-a", "mtls+api_key"),
            (self.cli_a, "team-b", 401, "", None),
            (self.cli_a, "not-a-key", 401, "", None),
            (self.cli_z, None, 401, "", None),
            (self.cli_z, "team-a", 401, "", None),
        ]
        for cert, key, want, tenant, auth in cases:
            status, h, body = self.https(gw, self.ctx(cert), key=key)
            self.assertEqual(status, want, (cert, key, body))
            e = self.access(gw, h["x-request-id"])
            self.assertEqual(e["tenant"], tenant, e)
            self.assertEqual(e.get("auth"), auth, e)
            if want == 401:
                self.assertEqual(body["code"], 16)
        _, _, body = self.https(gw, self.ctx(self.cli_z))
        self.assertIn("does not map to any tenant", body["message"])
        _, _, body = self.https(gw, self.ctx(self.cli_a), key="team-b")
        self.assertIn("API key and client certificate name different tenants", body["message"])
        self.assertEqual(len(self.fake.api_requests()), 3)
        # No certificate, or one from another CA: the handshake fails.
        for cert in (None, self.rogue):
            with self.assertRaises(HANDSHAKE_FAILED):
                self.https(gw, self.ctx(cert), key="team-a")
        self.assertEqual(len(self.fake.api_requests()), 3)

    def test_cached_answers_say_what_they_vary_on(self):
        # A browser cache cannot key on the client certificate: an answer to
        # a certificate-only caller must be revalidated every time; answers
        # to key holders vary on the key headers (and 304s say the same).
        gw = self.mtls_gateway(require=False, cache={"enabled": True, "ttl_ms": 60000})
        for cert, key, cc in ((self.cli_a, None, "private, no-cache"),
                              (self.cli_a, "team-a", None), (None, "team-b", None)):
            status, h, body = self.https(gw, self.ctx(cert), key=key)
            self.assertEqual(status, 200, body)
            self.assertEqual(h["vary"], "Authorization, X-Api-Key, Origin")
            if cc:
                self.assertEqual(h["cache-control"], cc)
            else:
                self.assertRegex(h["cache-control"], r"^private, max-age=\d+$")
            c = http.client.HTTPSConnection("127.0.0.1", gw.http_port, context=self.ctx(cert), timeout=10)
            hdrs = {"If-None-Match": h["etag"]}
            if key:
                hdrs["x-api-key"] = KEYS[key]
            c.request("GET", "/v1/model-import-jobs?maxResults=2", headers=hdrs)
            r = c.getresponse()
            r.read()
            c.close()
            self.assertEqual(r.status, 304)
            self.assertEqual(r.getheader("Vary"), "Authorization, X-Api-Key, Origin")
            if cc:
                self.assertEqual(r.getheader("Cache-Control"), cc)
            else:
                self.assertRegex(r.getheader("Cache-Control"), r"^private, max-age=\d+$")
        status, h, body = self.https(gw, self.ctx(), key="not-a-key")
        self.assertEqual(status, 401, body)
        self.assertEqual(h["vary"], "Authorization, X-Api-Key, Origin")

    def test_grpc_mtls_maps_certificates_to_tenants(self):
        gw = self.mtls_gateway()
        resp = self.grpc_call(gw, self.cli_a)
        self.assertEqual(len(resp.model_import_job_summaries), 2)
        gw.wait_access(lambda e: e["transport"] == "grpc" and e["tenant"] == "team-a" and e.get("auth") == "mtls")
        self.grpc_call(gw, self.cli_b)
        gw.wait_access(lambda e: e["transport"] == "grpc" and e["tenant"] == "team-b" and e.get("auth") == "mtls")
        self.grpc_call(gw, self.cli_b, key="team-b")
        gw.wait_access(lambda e: e["tenant"] == "team-b" and e.get("auth") == "mtls+api_key")
        for cert, key, text in ((self.cli_z, None, "does not map to any tenant"),
                                (self.cli_z, "team-a", "does not map to any tenant"),
                                (self.cli_a, "team-b", "name different tenants")):
            with self.assertRaises(grpc.RpcError) as cm:
                self.grpc_call(gw, cert, key=key)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
            self.assertIn(text, cm.exception.details())
        for cert in (None, self.rogue):
            with self.assertRaises(grpc.RpcError) as cm:
                self.grpc_call(gw, cert, key="team-a")
            self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAVAILABLE)
        self.assertEqual(len(self.fake.api_requests()), 3)

    def test_optional_client_certificate(self):
        """client_ca_file without require_client_cert: a key alone works, a
        mapped certificate alone works, an unmapped one is refused."""
        gw = self.mtls_gateway(require=False)
        self.assertEqual(self.https(gw, self.ctx(), key="team-b")[0], 200)
        self.assertEqual(self.https(gw, self.ctx(self.cli_b))[0], 200)
        self.assertEqual(self.https(gw, self.ctx(self.cli_z), key="team-a")[0], 401)
        self.assertEqual(self.https(gw, self.ctx())[0], 401)
        self.assertEqual(len(self.grpc_call(gw, key="team-a").model_import_job_summaries), 2)
        self.assertEqual(len(self.grpc_call(gw, self.cli_a).model_import_job_summaries), 2)

    # -- bad TLS configuration ----------------------------------------------------------
    def run_gateway(self, cfg):
        path = os.path.join(tempfile.mkdtemp(dir=self.tmp), "cfg.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID="AKIDX", AWS_SECRET_ACCESS_KEY="x", GRPC_DNS_RESOLVER="native")
        return subprocess.run([GW, "--config", path], capture_output=True, text=True, timeout=20, env=env)

    def test_key_that_does_not_match_the_certificate_stops_the_start(self):
        bad = self.tls(key_file=self.cli_a[1])
        for section in ("http", "grpc"):
            p = self.run_gateway(base_config(self.fake.url, **{section: {"listen": "127.0.0.1:0", "tls": bad}}))
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("%s.tls.key_file: does not match the certificate" % section, p.stderr)
        p = self.run_gateway(base_config(self.fake.url, http={"listen": "127.0.0.1:0", "tls": self.tls(
            cert_file=os.path.join(self.certs, "missing.crt"))}))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("http.tls.cert_file: cannot load", p.stderr)
        p = self.run_gateway(base_config(self.fake.url, http={"listen": "127.0.0.1:0", "tls": self.tls(
            client_ca_file=self.srv[1])}))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("http.tls.client_ca_file: cannot load", p.stderr)


if __name__ == "__main__":
    unittest.main()
