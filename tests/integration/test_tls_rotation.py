"""TLS in production: certificates rotated by replacing the files and
sending SIGHUP (new handshakes get the new certificate on both listeners,
connections already made keep working, a bad set is refused and the old
one kept), --check-config and reload validating TLS material as the start
does, expiry warnings and the bedrockgw_tls_certificate_expiry_seconds
metric, ALPN h2 required on the gRPC port."""
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

from harness import BIN, GatewayTestCase, KEYS, base_config
from tlsutil import make_ca, make_cert, make_cert_dated, utc

GW = os.path.join(BIN, "bedrockgw")
DAY = 86400


def serial_of(port, alpn=None):
    """The serial (hex, upper case) of the certificate a new TLS handshake
    on port gets."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            der = s.getpeercert(binary_form=True)
    p = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-serial"], input=der,
                       capture_output=True, check=True)
    return p.stdout.decode().strip().split("=")[1].upper()


class TlsRotation(GatewayTestCase):

    def setUp(self):
        super().setUp()
        self.d = tempfile.mkdtemp(prefix="rot-", dir=self.tmp)
        self.ca = make_ca(self.d, "ca")
        # the served pair lives at fixed paths, replaced by copies on rotation
        self.crt = os.path.join(self.d, "served.crt")
        self.key = os.path.join(self.d, "served.key")

    def serve(self, crt, key):
        # replace the files the way cert-manager / ACME clients do: write
        # aside, then rename over
        for src, dst in ((crt, self.crt), (key, self.key)):
            shutil.copy(src, dst + ".tmp")
            os.replace(dst + ".tmp", dst)

    def gateway(self, **tls):
        t = {"cert_file": self.crt, "key_file": self.key}
        t.update(tls)
        return self.start_gateway(grpc={"listen": "127.0.0.1:0", "tls": t},
                                  http={"listen": "127.0.0.1:0", "tls": t})

    def https_ok(self, port, conn=None):
        ctx = ssl.create_default_context(cafile=self.ca)
        c = conn or http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
        c.request("GET", "/v1/model-import-jobs?maxResults=1", headers={"x-api-key": KEYS["team-a"]})
        r = c.getresponse()
        r.read()
        if not conn:
            c.close()
        return r.status

    def wait_event(self, g, name, n):
        deadline = time.time() + 5
        while len(g.proc.log_events(name)) < n:
            self.assertLess(time.time(), deadline, "no %s event:\n%s" % (name, g.proc.text()[-3000:]))
            time.sleep(0.02)
        return g.proc.log_events(name)[n - 1]

    def test_rotation_under_load(self):
        a = make_cert_dated(self.d, "a", "localhost", utc(-DAY), utc(30 * DAY), serial="A1A1")
        b = make_cert_dated(self.d, "b", "localhost", utc(-DAY), utc(60 * DAY), serial="B2B2")
        self.serve(*a)
        g = self.gateway()
        self.assertEqual(serial_of(g.http_port), "A1A1")
        self.assertEqual(serial_of(g.grpc_port, ["h2"]), "A1A1")
        ctx = ssl.create_default_context(cafile=self.ca)
        kept = http.client.HTTPSConnection("127.0.0.1", g.http_port, context=ctx, timeout=10)
        self.assertEqual(self.https_ok(g.http_port, kept), 200)
        failures, done = [], []
        stop = threading.Event()

        def load():
            while not stop.is_set():
                try:
                    st = self.https_ok(g.http_port)
                    if st != 200:
                        failures.append(st)
                    serial_of(g.grpc_port, ["h2"])
                    done.append(1)
                except Exception as e:  # a failed handshake is what must not happen
                    failures.append(repr(e))
        threads = [threading.Thread(target=load) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        self.serve(*b)
        g.send_signal(signal.SIGHUP)
        self.wait_event(g, "reloaded", 1)
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(10)
        self.assertEqual(failures, [])
        self.assertGreater(len(done), 10)
        self.assertEqual(serial_of(g.http_port), "B2B2")
        self.assertEqual(serial_of(g.grpc_port, ["h2"]), "B2B2")
        # the connection made before the rotation still works
        self.assertEqual(self.https_ok(g.http_port, kept), 200)
        kept.close()
        g.signalled = False

    def test_bad_sets_are_refused_and_the_old_one_kept(self):
        a = make_cert_dated(self.d, "a", "localhost", utc(-DAY), utc(30 * DAY), serial="A1A1")
        other = make_cert_dated(self.d, "o", "localhost", utc(-DAY), utc(30 * DAY), serial="C3C3")
        expired = make_cert_dated(self.d, "x", "localhost", "20200101000000Z", "20200201000000Z",
                                  serial="DEAD")
        self.serve(*a)
        g = self.gateway()
        n = 0
        for crt, key, why in ((a[0], other[1], "does not match"),
                              (expired[0], expired[1], "expired"),
                              (None, None, "cannot load")):
            if crt:
                self.serve(crt, key)
            else:
                os.remove(self.crt)
            g.send_signal(signal.SIGHUP)
            n += 1
            e = self.wait_event(g, "reload_failed", n)
            self.assertIn(why, e["error"])
            self.assertIn("tls", e["error"])
            self.assertEqual(serial_of(g.http_port), "A1A1")
            self.assertEqual(serial_of(g.grpc_port, ["h2"]), "A1A1")
            self.assertEqual(self.https_ok(g.http_port), 200)
        self.assertEqual(g.proc.log_events("reloaded"), [])
        self.serve(*a)  # stop cleanly with a loadable set in place
        g.signalled = False

    def test_check_config_validates_tls_like_the_start(self):
        good = make_cert_dated(self.d, "g", "localhost", utc(-DAY), utc(90 * DAY))
        soon = make_cert_dated(self.d, "s", "localhost", utc(-DAY), utc(3 * DAY))
        expired = make_cert_dated(self.d, "x", "localhost", "20200101000000Z", "20200201000000Z")
        other = make_cert_dated(self.d, "o", "localhost", utc(-DAY), utc(90 * DAY))

        def check(crt, key):
            cfg = base_config("http://127.0.0.1:1", http={"listen": "127.0.0.1:0",
                                                          "tls": {"cert_file": crt, "key_file": key}})
            path = os.path.join(self.d, "check.json")
            with open(path, "w") as f:
                json.dump(cfg, f)
            env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
            return subprocess.run([GW, "--check-config", path], capture_output=True, text=True,
                                  timeout=10, env=env)
        p = check(*good)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("warning", p.stderr)
        p = check(*soon)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("warning: http.tls certificate", p.stderr)
        self.assertIn("expires at", p.stderr)
        p = check(*expired)
        self.assertEqual(p.returncode, 1)
        self.assertIn("http.tls.cert_file: the certificate has expired", p.stderr)
        p = check(good[0], other[1])
        self.assertEqual(p.returncode, 1)
        self.assertIn("http.tls.key_file: does not match", p.stderr)
        p = check(os.path.join(self.d, "missing.crt"), good[1])
        self.assertEqual(p.returncode, 1)
        self.assertIn("http.tls.cert_file: cannot load", p.stderr)

    def test_expiry_warning_and_metric(self):
        soon = make_cert_dated(self.d, "s", "localhost", utc(-DAY), utc(3 * DAY))
        self.serve(*soon)
        g = self.gateway(expiry_warning_days=7)
        ev = [e for e in g.proc.log_events("tls_certificate_expiring") if e["certificate"] == "certificate"]
        self.assertEqual(sorted(e["listener"] for e in ev), ["grpc", "http"])
        self.assertTrue(all(2 * DAY < e["seconds_left"] <= 3 * DAY for e in ev), ev)
        ctx = ssl.create_default_context(cafile=self.ca)
        c = http.client.HTTPSConnection("127.0.0.1", g.http_port, context=ctx, timeout=10)
        c.request("GET", "/metrics")
        body = c.getresponse().read().decode()
        c.close()
        vals = {}
        for line in body.splitlines():
            if line.startswith("bedrockgw_tls_certificate_expiry_seconds{"):
                k, v = line.rsplit(" ", 1)
                vals[k] = float(v)
        for l in ("grpc", "http"):
            v = vals['bedrockgw_tls_certificate_expiry_seconds{listener="%s",certificate="server"}' % l]
            self.assertTrue(2 * DAY < v <= 3 * DAY, vals)
        # and a long-lived certificate with the default window says nothing
        good = make_cert_dated(self.d, "g", "localhost", utc(-DAY), utc(90 * DAY))
        self.serve(*good)
        g2 = self.gateway()
        self.assertEqual([e for e in g2.proc.log_events("tls_certificate_expiring")
                          if e["certificate"] == "certificate"], [])

    def test_grpc_port_requires_alpn_h2(self):
        good = make_cert_dated(self.d, "g", "localhost", utc(-DAY), utc(90 * DAY))
        self.serve(*good)
        g = self.gateway()
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.set_alpn_protocols(["http/1.1"])
        with self.assertRaises(ssl.SSLError):
            with socket.create_connection(("127.0.0.1", g.grpc_port), timeout=5) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                    s.sendall(b"GET / HTTP/1.1\r\n\r\n")
                    s.recv(10)
        # no ALPN at all: the handshake completes, then the connection closes
        ctx = ssl.create_default_context(cafile=self.ca)
        with socket.create_connection(("127.0.0.1", g.grpc_port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                try:
                    self.assertEqual(s.recv(10), b"")
                except (ConnectionResetError, ssl.SSLError):
                    pass


if __name__ == "__main__":
    unittest.main()
