"""The gRPC listener (gRPC over nghttp2 on the event loop) seen frame by
frame: the gRPC protocol details a client relies on, every limit with its
config key, and the attacks that took Debian's gRPC core server down
(CONTINUATION flood, rapid reset, descriptor exhaustion), each with the
gateway's memory bounded, the offending connection closed and well-behaved
clients served during and after."""
import base64
import socket
import time
import unittest
import urllib.parse

import grpc
import hpack

from h2raw import (CONTINUATION, END_HEADERS, END_STREAM, HEADERS, PREFACE, RST_STREAM, SETTINGS,
                   Client, closed_within, frame, grpc_headers, grpc_message, rss_kb)
from harness import GatewayTestCase, pb

RSS_BOUND_KB = 64 * 1024  # growth allowed during an attack


def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def fields(b):
    """{field number: [values]} of one protobuf message (varint / bytes)."""
    out, i = {}, 0
    while i < len(b):
        key, i = varint(b, i)
        if key & 7 == 0:
            v, i = varint(b, i)
        elif key & 7 == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        else:
            raise AssertionError("unexpected wire type %d" % (key & 7))
        out.setdefault(key >> 3, []).append(v)
    return out


def status_details(trailers):
    raw = trailers["grpc-status-details-bin"]
    st = fields(base64.b64decode(raw + "=" * (-len(raw) % 4)))
    details = {}
    for any_ in st.get(3, []):
        a = fields(any_)
        details[a[1][0].decode()] = fields(a[2][0])
    return st.get(1, [0])[0], st[2][0].decode(), details


class GrpcProtocol(GatewayTestCase):
    fake_args = {"generate": 40, "seed": 3}

    def client(self):
        c = Client(self.gw.grpc_port)
        self.addCleanup(c.close)
        return c

    def ok_body(self, n=3):
        return grpc_message(pb.ListModelImportJobsRequest(max_results=n).SerializeToString())

    def test_ok_call_headers_message_trailers(self):
        r = self.client().call(grpc_headers(self.gw.grpc_port), self.ok_body())
        self.assertEqual(r["headers"][":status"], "200")
        self.assertEqual(r["headers"]["content-type"], "application/grpc")
        self.assertRegex(r["headers"]["x-request-id"], r"^g")
        self.assertEqual(r["trailers"]["grpc-status"], "0")
        self.assertEqual(r["data"][0], 0)
        n = int.from_bytes(r["data"][1:5], "big")
        self.assertEqual(len(r["data"]), 5 + n)
        resp = pb.ListModelImportJobsResponse.FromString(r["data"][5:])
        self.assertEqual(len(resp.model_import_job_summaries), 3)
        self.assertEqual(len(self.fake.api_requests()), 1)

    def test_connection_idle_past_the_trim_then_busy_again(self):
        """An idle connection gives nghttp2's frame buffer and empty stream
        map pages back (after 1 s); the same connection then serves large
        answers, in sequence and concurrently, byte-exact, and the HPACK
        state survives (the client's indexed headers still decode)."""
        ch = grpc.insecure_channel("127.0.0.1:%d" % self.gw.grpc_port)
        self.addCleanup(ch.close)
        rpc = ch.unary_unary("/bedrockgw.v1.ModelImportJobs/ListModelImportJobs",
                             request_serializer=pb.ListModelImportJobsRequest.SerializeToString,
                             response_deserializer=pb.ListModelImportJobsResponse.FromString)
        md = [("x-api-key", "key-team-a-0123456789")]
        want = rpc(pb.ListModelImportJobsRequest(max_results=40), metadata=md, timeout=10)
        self.assertEqual(len(want.model_import_job_summaries), 40)
        for _ in range(3):
            time.sleep(1.4)  # past the 1 s trim, no stream open
            got = rpc(pb.ListModelImportJobsRequest(max_results=40), metadata=md, timeout=10)
            self.assertEqual(got, want)
            futures = [rpc.future(pb.ListModelImportJobsRequest(max_results=n), metadata=md,
                                  timeout=10) for n in (40, 7, 40, 1, 40)]
            for n, f in zip((40, 7, 40, 1, 40), futures):
                self.assertEqual(list(f.result().model_import_job_summaries),
                                 list(want.model_import_job_summaries[:n]))

    def test_not_post_is_405_and_wrong_type_is_415(self):
        c = self.client()
        h = [(k, "GET" if k == ":method" else v) for k, v in grpc_headers(self.gw.grpc_port)]
        r = c.call(h)
        self.assertEqual(r["headers"][":status"], "405")
        h = [(k, "application/json" if k == "content-type" else v)
             for k, v in grpc_headers(self.gw.grpc_port)]
        r = c.call(h, self.ok_body())
        self.assertEqual(r["headers"][":status"], "415")
        self.assertEqual(r["headers"]["grpc-status"], "13")
        # application/grpc+proto is gRPC too
        h = [(k, "application/grpc+proto" if k == "content-type" else v)
             for k, v in grpc_headers(self.gw.grpc_port)]
        r = c.call(h, self.ok_body())
        self.assertEqual(r["trailers"]["grpc-status"], "0")

    def test_framing_errors(self):
        c = self.client()
        port = self.gw.grpc_port
        # two messages on a unary call
        r = c.call(grpc_headers(port), self.ok_body() + self.ok_body())
        self.assertEqual(r["headers"]["grpc-status"], "13")
        self.assertIn("more than one", urllib.parse.unquote(r["headers"]["grpc-message"]))
        # a prefix cut short
        r = c.call(grpc_headers(port), self.ok_body()[:-1])
        self.assertEqual(r["headers"]["grpc-status"], "13")
        # compressed with an encoding we do not speak
        body = b"\x01" + self.ok_body()[1:]
        r = c.call(grpc_headers(port, extra=[("grpc-encoding", "gzip")]), body)
        self.assertEqual(r["headers"]["grpc-status"], "12")
        self.assertEqual(r["headers"]["grpc-accept-encoding"], "identity")
        # a message over grpc.max_message_bytes (64 KiB default)
        big = pb.ListModelImportJobsRequest(name_contains="x" * 70000).SerializeToString()
        r = c.call(grpc_headers(port), grpc_message(big))
        self.assertEqual(r["headers"]["grpc-status"], "8")
        self.assertIn("grpc.max_message_bytes", urllib.parse.unquote(r["headers"]["grpc-message"]))
        # an unknown method
        r = c.call(grpc_headers(port, path="/bedrockgw.v1.ModelImportJobs/Nope"), self.ok_body())
        self.assertEqual(r["headers"]["grpc-status"], "12")
        self.assertNoUpstream()

    def test_deadlines_in_every_unit(self):
        c = self.client()
        port = self.gw.grpc_port
        for t in ("1n", "999u", "0m"):
            r = c.call(grpc_headers(port, extra=[("grpc-timeout", t)]), self.ok_body())
            self.assertEqual(r["headers"]["grpc-status"], "4", t)
        self.assertNoUpstream()
        r = c.call(grpc_headers(port, extra=[("grpc-timeout", "12x")]), self.ok_body())
        self.assertEqual(r["headers"]["grpc-status"], "13")
        for t in ("5S", "3000m", "1M", "1H", "9000000u", "99999999n"):
            r = c.call(grpc_headers(port, extra=[("grpc-timeout", t)]), self.ok_body())
            self.assertEqual(r["trailers"]["grpc-status"], "0", t)

    def test_errors_carry_status_details_like_rest(self):
        c = self.client()
        body = grpc_message(pb.ListModelImportJobsRequest(max_results=5000).SerializeToString())
        r = c.call(grpc_headers(self.gw.grpc_port), body)
        h = r["headers"]
        self.assertEqual(h["grpc-status"], "3")
        code, message, details = status_details(h)
        self.assertEqual(code, 3)
        self.assertEqual(urllib.parse.unquote(h["grpc-message"]), message)
        bad = details["type.googleapis.com/google.rpc.BadRequest"]
        violation = fields(bad[1][0])
        self.assertEqual(violation[1][0].decode(), "maxResults")
        st, _, rest = self.gw.rest({"maxResults": 5000})
        self.assertEqual(st, 400)
        self.assertEqual(rest["message"], message)
        self.assertEqual(rest["details"][0]["fieldViolations"][0]["field"], "maxResults")
        # no key: UNAUTHENTICATED, trailers-only
        r = c.call(grpc_headers(self.gw.grpc_port, key=None), self.ok_body())
        self.assertEqual(r["headers"]["grpc-status"], "16")
        self.assertIsNone(r["trailers"])
        self.assertNoUpstream()

    def test_grpcio_sees_details_and_percent_decoded_message(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.gw.grpc(pb.ListModelImportJobsRequest(name_contains="%\u00e9" * 200))
        e = cm.exception
        self.assertEqual(e.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("nameContains", e.details())
        md = dict(e.trailing_metadata())
        self.assertIn("grpc-status-details-bin", md)
        self.assertIsInstance(md["grpc-status-details-bin"], bytes)


class GrpcLimits(GatewayTestCase):
    config_over = {"grpc": {"listen": "127.0.0.1:0", "max_concurrent_streams": 4,
                            "max_header_list_bytes": 4096, "idle_timeout_ms": 400,
                            "max_connections": 6, "max_pings_per_s": 5}}

    def test_settings_advertise_the_limits(self):
        c = Client(self.gw.grpc_port)
        self.addCleanup(c.close)
        c.pump(lambda: c.conn.remote_settings.max_concurrent_streams == 4, 5)
        self.assertEqual(c.conn.remote_settings.max_concurrent_streams, 4)
        self.assertEqual(c.conn.remote_settings.max_header_list_size, 4096)

    def test_header_list_over_the_limit(self):
        c = Client(self.gw.grpc_port)
        self.addCleanup(c.close)
        body = grpc_message(pb.ListModelImportJobsRequest(max_results=2).SerializeToString())
        r = c.call(grpc_headers(self.gw.grpc_port, extra=[("x-big", "v" * 5000)]), body)
        self.assertEqual(r["headers"]["grpc-status"], "8")
        self.assertIn("max_header_list_bytes", urllib.parse.unquote(r["headers"]["grpc-message"]))
        r = c.call(grpc_headers(self.gw.grpc_port), body)  # the connection is still good
        self.assertEqual(r["trailers"]["grpc-status"], "0")

    def test_idle_connection_gets_goaway_and_is_closed(self):
        c = Client(self.gw.grpc_port)
        self.addCleanup(c.close)
        t0 = time.time()
        self.assertEqual(c.wait_goaway(5), 0)  # NO_ERROR
        self.assertTrue(c.pump(lambda: c.closed, 3))
        self.assertLess(time.time() - t0, 3)
        self.assertGreater(time.time() - t0, 0.3)

    def test_max_connections(self):
        socks = [socket.create_connection(("127.0.0.1", self.gw.grpc_port)) for _ in range(6)]
        try:
            time.sleep(0.2)
            extra = socket.create_connection(("127.0.0.1", self.gw.grpc_port))
            self.assertTrue(closed_within(extra, 2), "a 7th connection must be closed at once")
            extra.close()
        finally:
            for s in socks:
                s.close()
        time.sleep(0.2)
        resp, _ = self.gw.grpc(pb.ListModelImportJobsRequest(max_results=1))
        self.assertEqual(len(resp.model_import_job_summaries), 1)
        self.assertTrue(self.gw.proc.log_events("grpc_connections_shed"))

    def test_ping_flood_is_cut_off(self):
        c = Client(self.gw.grpc_port)
        self.addCleanup(c.close)
        for i in range(50):
            c.conn.ping(i.to_bytes(8, "big"))
        c.sock.sendall(c.conn.data_to_send())
        self.assertEqual(c.wait_goaway(5), 11)  # ENHANCE_YOUR_CALM
        self.assertTrue(c.pump(lambda: c.closed, 3))


class GrpcHandshakeTimeout(GatewayTestCase):
    config_over = {"http": {"listen": "127.0.0.1:0", "timeout_ms": 500}}

    def test_silent_and_half_open_connections_are_closed(self):
        # nothing at all; a preface without SETTINGS; half a preface
        for first in (b"", PREFACE, PREFACE[:10]):
            s = socket.create_connection(("127.0.0.1", self.gw.grpc_port))
            self.addCleanup(s.close)
            if first:
                s.sendall(first)
            t0 = time.time()
            self.assertTrue(closed_within(s, 3), first)
            self.assertGreater(time.time() - t0, 0.3)
        resp, _ = self.gw.grpc(pb.ListModelImportJobsRequest(max_results=1))
        self.assertEqual(len(resp.model_import_job_summaries), 1)


class GrpcMaxAge(GatewayTestCase):
    config_over = {"grpc": {"listen": "127.0.0.1:0", "max_connection_age_ms": 500,
                            "max_connection_age_grace_ms": 400}}

    def test_goaway_at_max_age_then_grace(self):
        body = grpc_message(pb.ListModelImportJobsRequest(max_results=2).SerializeToString())
        # a quick call finishes; the connection gets GOAWAY at its age and
        # closes, its calls done
        c = Client(self.gw.grpc_port)
        self.addCleanup(c.close)
        t0 = time.time()
        self.assertEqual(c.call(grpc_headers(self.gw.grpc_port), body)["trailers"]["grpc-status"], "0")
        self.assertEqual(c.wait_goaway(3), 0)
        self.assertGreater(time.time() - t0, 0.4)
        self.assertTrue(c.pump(lambda: c.closed, 3))
        # a call still open at the age gets the grace period, then the
        # connection closes under it
        self.fake.fault("delay", count=1, delay_ms=3000)
        c2 = Client(self.gw.grpc_port)
        self.addCleanup(c2.close)
        t0 = time.time()
        sid = c2.send(grpc_headers(self.gw.grpc_port), body)
        self.assertEqual(c2.wait_goaway(3), 0)
        self.assertTrue(c2.pump(lambda: c2.closed, 3))
        self.assertLess(time.time() - t0, 2.0)
        self.assertFalse(c2.streams[sid]["done"] and c2.streams[sid]["trailers"])
        # new connections are served as usual
        resp, _ = self.gw.grpc(pb.ListModelImportJobsRequest(max_results=1))
        self.assertEqual(len(resp.model_import_job_summaries), 1)


class GrpcAttacks(GatewayTestCase):
    """The attacks of the security review, as raw frames, without a key."""

    def baseline(self):
        time.sleep(0.2)
        return rss_kb(self.gw.proc.p.pid)

    def assert_served(self):
        resp, _ = self.gw.grpc(pb.ListModelImportJobsRequest(max_results=2), timeout=5)
        self.assertEqual(len(resp.model_import_job_summaries), 2)
        self.assertEqual(self.gw.health(timeout=5), b"\x08\x01")

    def raw(self):
        s = socket.create_connection(("127.0.0.1", self.gw.grpc_port))
        s.sendall(PREFACE + frame(SETTINGS, 0, 0))
        self.addCleanup(s.close)
        return s

    def test_continuation_flood(self):
        before = self.baseline()
        s = self.raw()
        enc = hpack.Encoder()
        block = enc.encode(grpc_headers(self.gw.grpc_port, key=None))
        filler = hpack.Encoder().encode([("x-f", "a" * 8000)])
        sent = 0
        closed = False
        try:
            s.sendall(frame(HEADERS, 0, 1, block))
            for _ in range(20000):
                s.sendall(frame(CONTINUATION, 0, 1, filler))
                sent += 1
        except OSError:
            closed = True
        closed = closed or closed_within(s, 5)
        self.assertTrue(closed, "the flooding connection must be closed (sent %d frames)" % sent)
        self.assertLess(sent, 20000)
        self.assertLess(rss_kb(self.gw.proc.p.pid) - before, RSS_BOUND_KB)
        self.assert_served()

    def test_rapid_reset(self):
        before = self.baseline()
        s = self.raw()
        enc = hpack.Encoder()
        body = grpc_message(pb.ListModelImportJobsRequest(max_results=2).SerializeToString())
        sid, closed = 1, False
        t_end = time.time() + 4
        served_during = 0
        try:
            while time.time() < t_end:
                chunk = b""
                for _ in range(100):
                    chunk += frame(HEADERS, END_HEADERS, sid, enc.encode(grpc_headers(self.gw.grpc_port)))
                    chunk += frame(0, 0, sid, body)
                    chunk += frame(RST_STREAM, 0, sid, (8).to_bytes(4, "big"))
                    sid += 2
                s.sendall(chunk)
                if sid % 2001 < 200:
                    self.assert_served()
                    served_during += 1
        except OSError:
            closed = True
        closed = closed or closed_within(s, 5)
        self.assertTrue(closed, "rapid reset must end the connection (%d streams)" % (sid // 2))
        self.assertLess(rss_kb(self.gw.proc.p.pid) - before, RSS_BOUND_KB)
        self.assert_served()
        # nothing of it reached Bedrock or flooded the audit log
        self.assertLessEqual(len(self.gw.access_events()), 200)

    def test_descriptor_exhaustion_recovers(self):
        gw = self.start_gateway(wrapper=["prlimit", "--nofile=600:600", "--"])
        socks = []
        try:
            failures = 0
            for _ in range(700):
                try:
                    socks.append(socket.create_connection(("127.0.0.1", gw.grpc_port), timeout=0.3))
                except OSError:
                    failures += 1
                    if failures > 20:  # the backlog is full: the gateway stopped accepting
                        break
            time.sleep(0.5)
            # the process kept its reserve: REST on its own connection works or
            # refuses cleanly, and the gateway is alive
            self.assertIsNone(gw.proc.p.poll())
        finally:
            for s in socks:
                s.close()
        deadline = time.time() + 10
        while True:
            try:
                resp, _ = gw.grpc(pb.ListModelImportJobsRequest(max_results=1), timeout=2)
                break
            except grpc.RpcError:
                self.assertLess(time.time(), deadline, "the gRPC listener never accepted again")
                time.sleep(0.2)
        self.assertEqual(len(resp.model_import_job_summaries), 1)
        deadline = time.time() + 3
        while gw.health(timeout=5) != b"\x08\x01":
            self.assertLess(time.time(), deadline, "readiness did not come back")
            time.sleep(0.1)
        self.assertTrue(gw.proc.log_events("grpc_connections_shed"),
                        "%d connections, %d failures" % (len(socks), failures))


if __name__ == "__main__":
    unittest.main()
