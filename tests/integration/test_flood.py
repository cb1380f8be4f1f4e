"""A flood of idle REST connections (no API key needed to open one) must not
take the gateway down: REST stops accepting at a descriptor reserve line
instead of running out, so gRPC keeps answering during the flood while
readiness (gRPC health) says NOT_SERVING because a listener cannot accept,
the shedding is logged a bounded number of times, and REST accepts again
(and readiness returns) once the flood is gone."""
import socket
import time
import unittest

from harness import GatewayTestCase, pb

NOFILE = 700  # the gateway's descriptor limit for this test (reserve line at 350)


class ConnectionFlood(GatewayTestCase):

    def test_idle_connection_flood_leaves_grpc_and_recovers(self):
        gw = self.start_gateway(wrapper=["prlimit", "--nofile=%d:%d" % (NOFILE, NOFILE), "--"])
        socks = []
        try:
            failures = 0
            for _ in range(NOFILE + 100):
                s = socket.socket()
                s.settimeout(0.3)
                try:
                    s.connect(("127.0.0.1", gw.http_port))
                    s.sendall(b"GET /v1/model-import-jobs HTTP/1.1\r\nHost: x\r\n")  # never finished
                except OSError:
                    s.close()
                    failures += 1
                    if failures > 20:  # the backlog is full: the gateway stopped accepting
                        break
                    continue
                socks.append(s)
            time.sleep(0.5)
            # gRPC still answers while the REST flood holds its connections
            resp, _ = gw.grpc(pb.ListModelImportJobsRequest(max_results=2), timeout=10)
            self.assertEqual(len(resp.model_import_job_summaries), 2)
            deadline = time.time() + 3  # readiness is re-evaluated every 250 ms
            while gw.health(timeout=5) != b"\x08\x02" and time.time() < deadline:
                time.sleep(0.05)
            self.assertEqual(gw.health(timeout=5), b"\x08\x02")  # NOT_SERVING
        finally:
            for s in socks:
                s.close()
        # REST recovers once the flood is gone
        deadline = time.time() + 10
        while True:
            try:
                st, h, body = gw.rest({"maxResults": 1})
                if st == 200:
                    break
            except OSError:
                pass
            self.assertLess(time.time(), deadline, "REST did not recover")
            time.sleep(0.2)
        deadline = time.time() + 3
        while gw.health(timeout=5) != b"\x08\x01" and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(gw.health(timeout=5), b"\x08\x01")  # SERVING again
        shed = gw.proc.log_events("http_connections_shed")
        self.assertGreaterEqual(len(shed), 1)
        self.assertLessEqual(len(shed), 5, "shedding must be logged rate-limited")
        self.assertLess(len(gw.proc.text()), 200000, "no log flood")


if __name__ == "__main__":
    unittest.main()
