"""A small HTTP/2 client for the gRPC listener tests: a well-behaved one on
python3-h2 (to see exactly what the gateway sends: :status, headers, data,
trailers, GOAWAY) and raw frame writers for the attacks h2 would refuse to
produce (CONTINUATION floods, rapid resets)."""
import socket
import struct
import time

import h2.config
import h2.connection
import h2.events
import hpack

from harness import KEYS, METHOD

DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, CONTINUATION = 0, 1, 3, 4, 6, 7, 9
END_STREAM, END_HEADERS = 0x1, 0x4
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame(ftype, flags, stream_id, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream_id) + payload


def grpc_message(body):
    return b"\x00" + struct.pack(">I", len(body)) + body


def grpc_headers(port, path=METHOD, key="team-a", extra=()):
    h = [(":method", "POST"), (":scheme", "http"), (":path", path),
         (":authority", "127.0.0.1:%d" % port), ("content-type", "application/grpc"),
         ("te", "trailers")]
    if key:
        h.append(("authorization", "Bearer " + KEYS.get(key, key)))
    return h + list(extra)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def closed_within(sock, seconds):
    """True if the peer closes (or resets) sock within seconds; drains input."""
    sock.settimeout(0.2)
    end = time.time() + seconds
    while time.time() < end:
        try:
            if sock.recv(65536) == b"":
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


class Client:
    """One HTTP/2 connection; call() sends one request and reads its answer."""

    def __init__(self, port, settings=None):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        self.sock.sendall(self.conn.data_to_send())
        self.goaway = None
        self.closed = False
        self.streams = {}

    def close(self):
        self.sock.close()

    def pump(self, until, timeout=10):
        """Reads and handles events until until() holds; False on timeout."""
        end = time.time() + timeout
        while not until():
            if self.closed or time.time() > end:
                return until()
            self.sock.settimeout(max(0.01, end - time.time()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                self.closed = True
                continue
            if not data:
                self.closed = True
                continue
            for ev in self.conn.receive_data(data):
                self.handle(ev)
            out = self.conn.data_to_send()
            if out:
                try:
                    self.sock.sendall(out)
                except OSError:
                    self.closed = True
        return True

    def handle(self, ev):
        st = self.streams.get(getattr(ev, "stream_id", None))
        if isinstance(ev, h2.events.ResponseReceived):
            st["headers"] = dict(ev.headers)
        elif isinstance(ev, h2.events.TrailersReceived):
            st["trailers"] = dict(ev.headers)
        elif isinstance(ev, h2.events.DataReceived):
            st["data"] += ev.data
            self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset)):
            st["done"] = True
            if isinstance(ev, h2.events.StreamReset):
                st["reset"] = ev.error_code
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.goaway = ev.error_code
        elif isinstance(ev, h2.events.PingAckReceived):
            pass

    def send(self, headers, body=b"", end=True):
        sid = self.conn.get_next_available_stream_id()
        self.streams[sid] = {"headers": None, "trailers": None, "data": b"", "done": False}
        self.conn.send_headers(sid, headers, end_stream=end and not body)
        self.sock.sendall(self.conn.data_to_send())
        while body:  # within the flow-control windows the server grants
            room = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
            if room <= 0:
                before = self.conn.local_flow_control_window(sid)
                if not self.pump(lambda: self.conn.local_flow_control_window(sid) > before
                                 or self.streams[sid]["done"], 5) or self.streams[sid]["done"]:
                    return sid
                continue
            piece, body = body[:room], body[room:]
            self.conn.send_data(sid, piece, end_stream=end and not body)
            self.sock.sendall(self.conn.data_to_send())
        return sid

    def call(self, headers, body=b"", timeout=10):
        sid = self.send(headers, body)
        self.pump(lambda: self.streams[sid]["done"], timeout)
        return self.streams[sid]

    def wait_goaway(self, timeout):
        self.pump(lambda: self.goaway is not None, timeout)
        return self.goaway
