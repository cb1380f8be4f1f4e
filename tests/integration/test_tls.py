"""gRPC over TLS and mutual TLS, with certificates made by openssl for the
test: a TLS client gets answers, a plaintext client does not; with
require_client_cert, only a client holding a certificate from the configured
CA gets through; bad TLS configs stop the gateway with the key named."""
import os
import subprocess
import tempfile
import unittest

import grpc

from harness import METHOD, BIN, GatewayTestCase, base_config, pb
from tlsutil import make_ca, make_cert, read

GW = os.path.join(BIN, "bedrockgw")


class GrpcTls(GatewayTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.certs = tempfile.mkdtemp(prefix="certs-", dir=cls.tmp)
        cls.ca = make_ca(cls.certs, "ca")
        cls.srv_crt, cls.srv_key = make_cert(cls.certs, "server", "gateway.test")
        cls.cli_crt, cls.cli_key = make_cert(cls.certs, "client", "svc-a.internal", client=True,
                                             san="DNS:svc-a.internal")
        make_ca(cls.certs, "other")
        cls.bad_crt, cls.bad_key = make_cert(cls.certs, "rogue", "svc-a.internal", ca="other",
                                             client=True, san="DNS:svc-a.internal")

    def tls_gateway(self, **tls):
        t = {"cert_file": self.srv_crt, "key_file": self.srv_key}
        t.update(tls)
        return self.start_gateway(grpc={"listen": "127.0.0.1:0", "tls": t})

    def call(self, gw, creds, key="key-team-a-0123456789"):
        ch = grpc.secure_channel("127.0.0.1:%d" % gw.grpc_port, creds,
                                 options=[("grpc.ssl_target_name_override", "localhost")])
        try:
            rpc = ch.unary_unary(METHOD, request_serializer=pb.ListModelImportJobsRequest.SerializeToString,
                                 response_deserializer=pb.ListModelImportJobsResponse.FromString)
            return rpc(pb.ListModelImportJobsRequest(max_results=3), timeout=10,
                       metadata=[("authorization", "Bearer " + key)])
        finally:
            ch.close()

    def test_tls_answers_are_not_held_back_by_nagle(self):
        # Nagle plus the client's delayed ACK held each TLS answer ~40 ms.
        # Over one kept-alive connection per listener, the median call must
        # stay far below that (cache hits: no upstream in the time).
        import http.client
        import ssl
        import statistics
        import time
        t = {"cert_file": self.srv_crt, "key_file": self.srv_key}
        gw = self.start_gateway(grpc={"listen": "127.0.0.1:0", "tls": t},
                                http={"listen": "127.0.0.1:0", "tls": t},
                                cache={"enabled": True, "ttl_ms": 60000})
        ctx = ssl.create_default_context(cafile=self.ca)
        c = http.client.HTTPSConnection("127.0.0.1", gw.http_port, context=ctx, timeout=10)
        rest_ms = []
        for i in range(40):
            t0 = time.perf_counter()
            c.request("GET", "/v1/model-import-jobs?maxResults=3",
                      headers={"x-api-key": "key-team-a-0123456789"})
            r = c.getresponse()
            r.read()
            rest_ms.append((time.perf_counter() - t0) * 1000)
            self.assertEqual(r.status, 200)
        c.close()
        ch = grpc.secure_channel("127.0.0.1:%d" % gw.grpc_port,
                                 grpc.ssl_channel_credentials(root_certificates=read(self.ca)),
                                 options=[("grpc.ssl_target_name_override", "localhost")])
        rpc = ch.unary_unary(METHOD, request_serializer=pb.ListModelImportJobsRequest.SerializeToString,
                             response_deserializer=pb.ListModelImportJobsResponse.FromString)
        grpc_ms = []
        for i in range(40):
            t0 = time.perf_counter()
            rpc(pb.ListModelImportJobsRequest(max_results=3), timeout=10,
                metadata=[("authorization", "Bearer key-team-a-0123456789")])
            grpc_ms.append((time.perf_counter() - t0) * 1000)
        ch.close()
        # One upstream page serves both transports.
        self.assertEqual(len(self.fake.api_requests()), 1)
        self.assertLess(statistics.median(rest_ms[1:]), 5.0, rest_ms)
        self.assertLess(statistics.median(grpc_ms[1:]), 5.0, grpc_ms)

    def test_tls_client_gets_answers_plaintext_client_does_not(self):
        gw = self.tls_gateway()
        self.assertTrue(gw.proc.ready.get("grpc_tls"))
        resp = self.call(gw, grpc.ssl_channel_credentials(root_certificates=read(self.ca)))
        self.assertEqual(len(resp.model_import_job_summaries), 3)
        self.assertEqual(len(self.fake.api_requests()), 1)
        # A plaintext client cannot talk to the TLS port.
        with self.assertRaises(grpc.RpcError) as cm:
            gw.grpc(pb.ListModelImportJobsRequest(max_results=3), timeout=5)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAVAILABLE)
        # A client that does not trust the gateway's CA refuses it.
        other = read(os.path.join(self.certs, "other.crt"))
        with self.assertRaises(grpc.RpcError) as cm:
            self.call(gw, grpc.ssl_channel_credentials(root_certificates=other))
        self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAVAILABLE)
        self.assertEqual(len(self.fake.api_requests()), 1)

    def test_mtls_requires_a_certificate_from_the_configured_ca(self):
        gw = self.tls_gateway(client_ca_file=self.ca, require_client_cert=True)
        ca = read(self.ca)
        ok = grpc.ssl_channel_credentials(root_certificates=ca, private_key=read(self.cli_key),
                                          certificate_chain=read(self.cli_crt))
        resp = self.call(gw, ok)
        self.assertEqual(len(resp.model_import_job_summaries), 3)
        for creds in (grpc.ssl_channel_credentials(root_certificates=ca),
                      grpc.ssl_channel_credentials(root_certificates=ca, private_key=read(self.bad_key),
                                                   certificate_chain=read(self.bad_crt))):
            with self.assertRaises(grpc.RpcError) as cm:
                self.call(gw, creds)
            self.assertEqual(cm.exception.code(), grpc.StatusCode.UNAVAILABLE)
        self.assertEqual(len(self.fake.api_requests()), 1)

    def test_bad_tls_config_names_the_key(self):
        cases = [
            ({"cert_file": self.srv_crt}, "grpc.tls: cert_file and key_file are both required"),
            ({"cert_file": self.srv_crt, "key_file": self.srv_key, "require_client_cert": True},
             "grpc.tls.require_client_cert: requires client_ca_file"),
            ({"cert_file": self.srv_crt, "key_file": self.srv_key, "bogus": 1}, "grpc.tls.bogus: unknown key"),
        ]
        for i, (tls, msg) in enumerate(cases):
            path = os.path.join(self.tmp, "bad-tls-%d.json" % i)
            with open(path, "w") as f:
                import json
                json.dump(base_config(self.fake.url, grpc={"listen": "127.0.0.1:0", "tls": tls}), f)
            p = subprocess.run([GW, "--check-config", path], capture_output=True, text=True, timeout=10)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(path, p.stderr)
            self.assertIn(msg, p.stderr)
        # A file that cannot be read stops the start, naming the key.
        path = os.path.join(self.tmp, "missing-cert.json")
        with open(path, "w") as f:
            import json
            json.dump(base_config(self.fake.url, grpc={"listen": "127.0.0.1:0", "tls": {
                "cert_file": os.path.join(self.certs, "nope.crt"), "key_file": self.srv_key}}), f)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID="AKIDX", AWS_SECRET_ACCESS_KEY="x")
        p = subprocess.run([GW, "--config", path], capture_output=True, text=True, timeout=10, env=env)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("grpc.tls.cert_file: cannot load", p.stderr)
        self.assertIn("nope.crt", p.stderr)


if __name__ == "__main__":
    unittest.main()
