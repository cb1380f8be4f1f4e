"""The REST frontend's HTTP/1.1 layer (http_server.c, http1.c) over raw
sockets: pipelining answered in order, HTTP/1.0 with and without
keep-alive, Connection: close, the header-read deadline against a slowly
trickling client, idle keep-alive timeout, oversize heads, request bodies
(discarded, or 413), Transfer-Encoding, unknown methods and versions, and a
client that hangs up while its call waits on a slow upstream."""
import json
import socket
import time
import unittest

from harness import KEYS, GatewayTestCase

KEY = KEYS["team-a"]
LIST = "/v1/model-import-jobs"


class Conn:
    """A raw client connection that reads HTTP/1.1 responses."""

    def __init__(self, port, timeout=10):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def _fill(self):
        chunk = self.s.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def response(self, head_request=False):
        """(status, headers (lower-case names, first wins), raw header names in
        order, body)."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        version, status, _ = lines[0].split(" ", 2)
        assert version == "HTTP/1.1", lines[0]
        headers, names = {}, []
        for line in lines[1:]:
            k, v = line.split(":", 1)
            names.append(k)
            headers.setdefault(k.lower(), v.strip())
        n = 0 if head_request or status in ("204", "304") else int(headers["content-length"])
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return int(status), headers, names, body

    def closed(self, within=3.0):
        """True when the server closes the connection within the time (and
        sends nothing more)."""
        self.s.settimeout(within)
        try:
            data = self.s.recv(1)
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
        return data == b""

    def close(self):
        self.s.close()


def get(path, extra="", version="1.1", method="GET"):
    return "%s %s HTTP/%s\r\nHost: gw\r\nx-api-key: %s\r\n%s\r\n" % (method, path, version, KEY, extra)


class Http1(GatewayTestCase):

    def conn(self, gw=None):
        c = Conn((gw or self.gw).http_port)
        self.addCleanup(c.close)
        return c

    def assertJsonError(self, body, code):
        e = json.loads(body)
        self.assertEqual(e["code"], code, e)
        self.assertTrue(e["message"], e)

    def test_pipelined_requests_answered_in_order(self):
        # The first request waits on a slow upstream; the two behind it are
        # answerable at once but must come after it, in order.
        self.fake.fault("delay", count=1, delay_ms=400)
        c = self.conn()
        c.send(get(LIST + "?maxResults=1") + get("/healthz") + get("/nosuch") + get(LIST + "?maxResults=2"))
        st1, h1, _, b1 = c.response()
        st2, h2, _, b2 = c.response()
        st3, h3, _, b3 = c.response()
        st4, h4, _, b4 = c.response()
        self.assertEqual((st1, st2, st3, st4), (200, 200, 404, 200))
        self.assertEqual(len(json.loads(b1)["modelImportJobSummaries"]), 1)
        self.assertEqual(json.loads(b2), {"status": "SERVING"})
        self.assertJsonError(b3, 5)
        self.assertEqual(len(json.loads(b4)["modelImportJobSummaries"]), 2)
        self.assertNotIn("connection", h4)
        # still open for more
        c.send(get("/healthz"))
        self.assertEqual(c.response()[0], 200)

    def test_http10_without_keep_alive_closes(self):
        c = self.conn()
        c.send("GET /healthz HTTP/1.0\r\n\r\n")
        st, h, _, body = c.response()
        self.assertEqual(st, 200)
        self.assertEqual(h["connection"], "close")
        self.assertEqual(int(h["content-length"]), len(body))
        self.assertIn("date", h)
        self.assertTrue(c.closed())

    def test_http10_keep_alive(self):
        c = self.conn()
        for _ in range(3):
            c.send(get(LIST + "?maxResults=1", "Connection: keep-alive\r\n", version="1.0"))
            st, h, _, body = c.response()
            self.assertEqual(st, 200, body)
            self.assertEqual(h["connection"], "keep-alive")
            self.assertEqual(len(json.loads(body)["modelImportJobSummaries"]), 1)
        self.assertFalse(c.closed(within=0.3))

    def test_connection_close(self):
        c = self.conn()
        c.send(get(LIST + "?maxResults=1", "Connection: close\r\n"))
        st, h, _, body = c.response()
        self.assertEqual(st, 200)
        self.assertEqual(h["connection"], "close")
        self.assertTrue(c.closed())

    def test_head_has_the_get_length(self):
        c = self.conn()
        c.send(get(LIST + "?maxResults=3"))
        st, h, _, body = c.response()
        c.send(get(LIST + "?maxResults=3", method="HEAD"))
        st2, h2, _, body2 = c.response(head_request=True)
        self.assertEqual((st, st2), (200, 200))
        self.assertEqual(body2, b"")
        self.assertEqual(int(h2["content-length"]), len(body))
        # nothing else follows the HEAD answer: the next reply parses
        c.send(get("/healthz"))
        self.assertEqual(c.response()[0], 200)

    def test_absolute_form_and_fragment(self):
        c = self.conn()
        c.send(get("http://gw.example:80%s?maxResults=2#frag" % LIST))
        st, h, _, body = c.response()
        self.assertEqual(st, 200, body)
        self.assertEqual(len(json.loads(body)["modelImportJobSummaries"]), 2)

    def test_oversize_head_is_431(self):
        c = self.conn()
        c.send(get("/healthz", "X-Big: %s\r\n" % ("a" * 9000)))
        st, h, _, body = c.response()
        self.assertEqual(st, 431)
        self.assertJsonError(body, 3)
        self.assertEqual(h["connection"], "close")
        self.assertTrue(c.closed())

    def test_too_many_fields_is_431(self):
        c = self.conn()
        c.send(get("/healthz", "".join("X-%d: v\r\n" % i for i in range(120))))
        st, h, _, body = c.response()
        self.assertEqual(st, 431)
        self.assertTrue(c.closed())

    def test_transfer_encoding_refused(self):
        c = self.conn()
        c.send(get("/healthz", "Transfer-Encoding: chunked\r\n") + "5\r\nhello\r\n0\r\n\r\n")
        st, h, _, body = c.response()
        self.assertEqual(st, 501)
        self.assertJsonError(body, 12)
        self.assertIn("Transfer-Encoding", json.loads(body)["message"])
        self.assertTrue(c.closed())

    def test_conflicting_content_length_refused(self):
        c = self.conn()
        c.send(get("/healthz", "Content-Length: 3\r\nContent-Length: 4\r\n") + "abcd")
        st, h, _, body = c.response()
        self.assertEqual(st, 400)
        self.assertJsonError(body, 3)
        self.assertTrue(c.closed())

    def test_body_is_read_and_discarded(self):
        c = self.conn()
        body = "x" * 3000
        c.send(get("/healthz", "Content-Length: %d\r\n" % len(body)) + body + get("/healthz"))
        self.assertEqual(c.response()[0], 200)
        self.assertEqual(c.response()[0], 200)
        # a POST with a body: 405 naming the allowed methods, connection kept
        c.send("POST %s HTTP/1.1\r\nHost: gw\r\nContent-Length: 2\r\n\r\n{}" % LIST)
        st, h, _, b = c.response()
        self.assertEqual(st, 405)
        self.assertEqual(h["allow"], "GET, HEAD, OPTIONS")
        c.send(get(LIST + "?maxResults=1"))
        self.assertEqual(c.response()[0], 200)

    def test_body_over_limit_is_413(self):
        c = self.conn()
        c.send(get("/healthz", "Content-Length: 5000\r\n") + "y" * 5000)
        st, h, _, body = c.response()
        self.assertEqual(st, 413)
        self.assertJsonError(body, 3)
        self.assertTrue(c.closed())

    def test_unknown_method_and_bad_versions(self):
        for req, status, code in (("BREW /pot HTTP/1.1\r\nHost: gw\r\n\r\n", 501, 12),
                                  ("GET /healthz HTTP/2.0\r\nHost: gw\r\n\r\n", 505, 12),
                                  ("GET /healthz HTTP/1.1x\r\nHost: gw\r\n\r\n", 400, 3),
                                  ("GET /healthz HTTP/1.1\r\nBad Name: v\r\n\r\n", 400, 3),
                                  ("GET /healthz HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400, 3),
                                  ("GET healthz HTTP/1.1\r\n\r\n", 400, 3)):
            with self.subTest(req=req.split("\r\n")[0]):
                c = self.conn()
                c.send(req)
                st, h, _, body = c.response()
                self.assertEqual(st, status, body)
                self.assertJsonError(body, code)
                self.assertTrue(h["content-type"].startswith("application/json"))
                self.assertTrue(c.closed())

    def test_client_hangs_up_while_call_is_in_flight(self):
        """Clients that close while their call waits on a slow upstream: the
        replies are dropped quietly (the ASan build would see any use after
        free), other clients are served meanwhile, the gateway stays up."""
        n0 = len(self.gw.access_events())
        self.fake.fault("delay", count=4, delay_ms=600)
        gone = []
        for i in range(4):
            c = Conn(self.gw.http_port)
            c.send(get(LIST + "?maxResults=%d" % (i + 1)))
            gone.append(c)
        time.sleep(0.1)
        for i, c in enumerate(gone):
            if i % 2:
                c.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
            c.close()
        # others are served while those calls wait upstream
        c = self.conn()
        c.send(get("/healthz"))
        self.assertEqual(c.response()[0], 200)
        time.sleep(1.0)  # the delayed replies come back to closed connections
        st, h, body = self.gw.rest({"maxResults": 2})
        self.assertEqual(st, 200, body)
        # every call, answered or not, went through to the access log
        deadline = time.time() + 5
        while len(self.gw.access_events()) < n0 + 5:
            self.assertLess(time.time(), deadline, self.gw.proc.text()[-3000:])
            time.sleep(0.05)
        self.assertIsNone(self.gw.proc.p.poll())


class Http1Timeouts(GatewayTestCase):
    config_over = {"http": {"listen": "127.0.0.1:0", "timeout_ms": 700,
                            "cors_allowed_origins": ["https://app.example.com"]}}

    def test_slow_trickle_head_closed_after_deadline(self):
        c = Conn(self.gw.http_port)
        self.addCleanup(c.close)
        start = time.monotonic()
        c.send("GET /healthz HTTP/1.1\r\n")
        closed_at = None
        # one byte every 100 ms: never idle for the timeout, never complete
        for _ in range(40):
            try:
                c.send("X")
            except OSError:
                closed_at = time.monotonic()
                break
            c.s.settimeout(0.1)
            try:
                data = c.s.recv(1)
                if data == b"" or data:
                    closed_at = time.monotonic()
                    self.assertEqual(data, b"", "no answer to an incomplete head")
                    break
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed_at = time.monotonic()
                break
        self.assertIsNotNone(closed_at, "a trickling head must be cut off")
        self.assertLess(closed_at - start, 2.5)
        self.assertGreaterEqual(closed_at - start, 0.6)
        # others are still served
        st, h, body = self.gw.rest(path="/healthz", key=None)
        self.assertEqual(st, 200)

    def test_idle_keep_alive_closed(self):
        c = Conn(self.gw.http_port)
        self.addCleanup(c.close)
        c.send(get("/healthz"))
        self.assertEqual(c.response()[0], 200)
        start = time.monotonic()
        self.assertTrue(c.closed(within=3.0))
        self.assertGreaterEqual(time.monotonic() - start, 0.5)

    def test_slow_upstream_longer_than_timeout_still_answered(self):
        # The timeout bounds reading and writing, not the wait for Bedrock.
        self.fake.fault("delay", count=1, delay_ms=1200)
        c = Conn(self.gw.http_port)
        self.addCleanup(c.close)
        c.send(get(LIST + "?maxResults=1"))
        st, h, _, body = c.response()
        self.assertEqual(st, 200, body)


if __name__ == "__main__":
    unittest.main()
