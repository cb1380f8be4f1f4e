"""A real redis-server for the fleet tests: started on a free port (or a
unix socket) with no persistence, stopped, paused (SIGSTOP), restarted
empty; and a minimal RESP client to look inside it."""
import os
import shutil
import signal
import socket
import subprocess
import time

from harness import free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class RespError(Exception):
    pass


def _read_reply(f):
    line = f.readline()
    if not line:
        raise ConnectionError("redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RespError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2]
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise RespError("bad reply %r" % line)


class Client:
    def __init__(self, port=None, unix=None, password=None, timeout=5):
        if unix:
            self.s = socket.socket(socket.AF_UNIX)
            self.s.settimeout(timeout)
            try:
                self.s.connect(unix)
            except OSError:
                self.s.close()
                raise
        else:
            self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.f = self.s.makefile("rb")
        if password:
            self.call("AUTH", password)

    def call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode()
            elif isinstance(a, int):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))
        return _read_reply(self.f)

    def close(self):
        self.f.close()
        self.s.close()


class RedisServer:
    def __init__(self, tmp, password=None, unix=False, tls=None):
        """tls: (cert, key, ca) files: serve TLS only (port 0 for plaintext)."""
        self.tmp = tmp
        self.password = password
        self.port = free_port()
        self.unix = os.path.join(tmp, "redis.sock") if unix else None
        self.tls = tls
        self.proc = None
        self.start()

    def argv(self):
        a = [REDIS_SERVER, "--save", "", "--appendonly", "no", "--bind", "127.0.0.1",
             "--dir", self.tmp, "--logfile", os.path.join(self.tmp, "redis.log")]
        if self.tls:
            cert, key, ca = self.tls
            a += ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", cert,
                  "--tls-key-file", key, "--tls-ca-cert-file", ca, "--tls-auth-clients", "no"]
        else:
            a += ["--port", str(self.port)]
        if self.unix:
            a += ["--unixsocket", self.unix, "--unixsocketperm", "700"]
        if self.password:
            a += ["--requirepass", self.password]
        return a

    def start(self):
        self.proc = subprocess.Popen(self.argv(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited: %s" % self.log())
            try:
                if self.tls:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                else:
                    c = self.client()
                    try:
                        c.call("PING")
                    finally:
                        c.close()
                return
            except (OSError, RespError):
                time.sleep(0.05)
        raise RuntimeError("redis-server did not come up: %s" % self.log())

    def log(self):
        try:
            with open(os.path.join(self.tmp, "redis.log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    @property
    def url(self):
        if self.unix:
            return "unix://" + self.unix
        return "%s://127.0.0.1:%d" % ("rediss" if self.tls else "redis", self.port)

    def client(self):
        return Client(port=self.port, unix=self.unix, password=self.password)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart_empty(self):
        self.kill()
        self.start()

    def pause(self):
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
