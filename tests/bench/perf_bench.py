#!/usr/bin/env python3
"""Issue-17 benchmarks, all in one run (figures to stdout and
tests/bench/out/perf.json; RESULTS.md keeps dated tables):

1. REST cache hit against the floor: the gateway vs tests/bench/epoll_floor
   (one read + one write of the same answer bytes per request), wrk, servers
   pinned to one core, interleaved rounds;
2. the miss path: the gateway's own added latency for a 10-row page, cache
   off, one sequential client (h2load -c1), the emulator as upstream: p50/p99
   through the gateway minus the same request signed and sent straight to
   the emulator (the same client, so its own cost cancels);
3. the miss path's instructions (callgrind, deterministic) and where they go;
   a gRPC cache hit's syscalls and context switches per call;
4. memory: RSS idle, with 1,000 idle keep-alive REST connections, with 1,000
   idle gRPC (HTTP/2) connections, per connection; the cache filled past
   its budget.

Run through tests/bench/run_perf_bench.sh."""
import argparse
import datetime
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import awssig  # noqa: E402
import bench  # noqa: E402
from bench import (AKID, CLK, KEY, QUERY, REGION, SECRET, Env, cpu_ticks, http_get,  # noqa: E402
                   percentiles, rss_kb, run_h2load_h1, run_wrk, sh, start_fake, start_gateway, wait_line)


def raw_reply(port, headers):
    """The exact bytes the gateway answers a cache hit with."""
    s = socket.create_connection(("127.0.0.1", port))
    req = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n" % (
        QUERY, "".join("%s: %s\r\n" % kv for kv in headers.items()))
    s.sendall(req.encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
    while len(body) < n:
        body += s.recv(65536)
    s.close()
    return head + b"\r\n\r\n" + body[:n]


def floor_rounds(env, args, gw, gw_http, hdr):
    for _ in range(3):
        http_get(gw_http, QUERY, hdr)
    reply = raw_reply(gw_http, hdr)
    path = os.path.join(env.tmp, "floor-reply.bin")
    with open(path, "wb") as f:
        f.write(reply)
    fl, log = env.spawn("floor", [os.path.join(env.bin, "epoll_floor"), "--listen", "127.0.0.1:0",
                                  "--reply", path])
    fl_port = wait_line(log, lambda o: o.get("event") == "ready", proc=fl)["port"]
    rows = []
    for r in range(args.rounds):
        order = [("gateway", gw.pid, gw_http), ("floor", fl.pid, fl_port)]
        if r % 2:
            order.reverse()
        row = {}
        for name, pid, port in order:
            c0 = cpu_ticks(pid)
            w = run_wrk(port, args.duration, args.conns, hdr)
            c1 = cpu_ticks(pid)
            assert w["non2xx"] == 0 and not w["socket_errors"], w["raw"]
            row[name] = {"rps": w["rps"], "cpu_us_per_req": (c1 - c0) * 1e6 / CLK / max(1, w["requests"])}
        row["ratio"] = row["gateway"]["rps"] / row["floor"]["rps"]
        rows.append(row)
        print("REST hit round %d: gateway %.0f rps (%.1f cpu-us/req), floor %.0f rps (%.1f cpu-us/req), ratio %.3f"
              % (r + 1, row["gateway"]["rps"], row["gateway"]["cpu_us_per_req"], row["floor"]["rps"],
                 row["floor"]["cpu_us_per_req"], row["ratio"]), flush=True)
    med = statistics.median(x["ratio"] for x in rows)
    print("REST hit vs epoll floor: median ratio %.3f (target >= 0.8); reply %d bytes" % (med, len(reply)),
          flush=True)
    return {"rounds": rows, "median_ratio": med, "reply_bytes": len(reply)}


def sign_headers(host, path, query_pairs):
    """SigV4 headers for a GET to the emulator (valid for its 5-minute skew),
    from the integration tests' signer; h2load sends host itself."""
    query, headers = awssig.sign("GET", host, path, query_pairs, AKID, SECRET, REGION)
    headers.pop("host")
    return query, headers


def miss_path(env, args, fake_port):
    """Cache off: every call goes upstream. p50/p99 of 10-row pages through
    the gateway and straight to the emulator, interleaved."""
    p, gw_http, _ = start_gateway_nocache(env, fake_port)
    hdr = {"x-api-key": KEY}
    gw_path = "/v1/model-import-jobs?maxResults=10"
    q, fhdr = sign_headers("127.0.0.1:%d" % fake_port, "/model-import-jobs", [("maxResults", "10")])
    fake_path = "/model-import-jobs?" + q
    res = {"gateway": [], "direct": []}
    for r in range(args.rounds):
        for name, port, path, h in (("gateway", gw_http, gw_path, hdr), ("direct", fake_port, fake_path, fhdr)):
            log = os.path.join(env.tmp, "miss-%s-%d.log" % (name, r))
            argv = ["taskset", "-c", bench.CLIENT_CPU, "h2load", "--h1", "-t1", "-c1", "-n", str(args.miss_requests),
                    "--log-file", log]
            for k, v in h.items():
                argv += ["-H", "%s: %s" % (k, v)]
            argv.append("http://127.0.0.1:%d%s" % (port, path))
            o = bench.parse_h2load(sh(argv))
            assert o["succeeded"] == args.miss_requests, o["raw"]
            res[name].append(percentiles(log))
    out = {}
    for name in res:
        out[name] = {"p50_us": statistics.median(x["p50_us"] for x in res[name]),
                     "p99_us": statistics.median(x["p99_us"] for x in res[name])}
    out["added_p50_us"] = out["gateway"]["p50_us"] - out["direct"]["p50_us"]
    out["added_p99_us"] = out["gateway"]["p99_us"] - out["direct"]["p99_us"]
    print("miss path (10-row page, cache off, 1 client): gateway p50 %d us p99 %d us; direct p50 %d us p99 %d us;"
          " added p50 %d us (target <= 300), p99 %d us"
          % (out["gateway"]["p50_us"], out["gateway"]["p99_us"], out["direct"]["p50_us"], out["direct"]["p99_us"],
             out["added_p50_us"], out["added_p99_us"]), flush=True)
    p.terminate()
    p.wait(30)
    return out


def miss_callgrind(env, args, fake_port):
    """Instructions per miss (10-row page, cache off) under callgrind, all of
    the gateway's threads, and the top functions by inclusive cost (the
    dump stays in the run's temp dir for callgrind_annotate)."""
    vg = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s/cg.miss.%%p" % env.tmp]
    p, gw_http, _ = start_gateway_nocache(env, fake_port, wrapper=vg, name="miss-cg", timeout=180)
    hdr = {"x-api-key": KEY}
    path = "/v1/model-import-jobs?maxResults=10"
    def drive(n):
        for _ in range(n):
            st, _, _ = http_get(gw_http, path, hdr)
            assert st == 200, st
    drive(20)
    ir, dump = bench.callgrind_per_request(env, "miss", p.pid, gw_http, args.callgrind_misses, hdr,
                                           drive=lambda: drive(args.callgrind_misses))
    top = sh(["callgrind_annotate", "--threshold=100", dump])
    lines = []
    for line in top.splitlines():  # self cost by function, the library named
        m = re.match(r"\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(\S+)(?:\s+\[(\S+)\])?", line)
        if m and float(m.group(2)) < 99 and len(lines) < 15:  # (frames live at the dump: 100%)
            lib = os.path.basename(m.group(4) or "")
            lines.append("%5s%% %s %s" % (m.group(2), m.group(3).split(":")[-1], lib))
    print("callgrind miss: %.0f Ir per miss (%d misses); self cost:\n  %s"
          % (ir, args.callgrind_misses, "\n  ".join(lines)), flush=True)
    p.terminate()
    p.wait(60)
    return {"ir_per_miss": ir, "top_inclusive": lines}


def grpc_syscalls(env, args, fake_port):
    """Where a gRPC cache hit's time goes outside our instructions: syscalls
    per call (strace -c on the gateway) and context switches per call
    (/proc voluntary + involuntary), 8 connections x 8 streams, h2load."""
    gw, _, gp = start_gateway(env, fake_port, name="gw-grpc-sys")
    req, reply = bench.grpc_reply_bytes(gp)
    body_file = bench.grpc_request_file(os.path.join(env.tmp, "grpc-sys-request.bin"), req)
    n = args.syscall_calls
    bench.run_h2load_grpc(gp, None, body_file, KEY, conns=8, streams=8, n=2000)  # warm

    def switches():
        v = 0
        for line in open("/proc/%d/status" % gw.pid):
            if "ctxt_switches" in line:
                v += int(line.split()[1])
        return v
    sw0 = switches()
    o = bench.run_h2load_grpc(gp, None, body_file, KEY, conns=8, streams=8, n=n)
    sw = (switches() - sw0) / n
    trace = os.path.join(env.tmp, "grpc-sys.strace")
    st = subprocess.Popen(["strace", "-f", "-c", "-o", trace, "-p", str(gw.pid)],
                          stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    o2 = bench.run_h2load_grpc(gp, None, body_file, KEY, conns=8, streams=8, n=n)
    st.send_signal(signal.SIGINT)
    st.wait(30)
    calls = {}
    for line in open(trace):
        parts = line.split()
        if len(parts) >= 5 and parts[-1].isidentifier() and parts[3].isdigit() and parts[-1] != "total":
            calls[parts[-1]] = int(parts[3])
    per = {k: v / n for k, v in sorted(calls.items(), key=lambda kv: -kv[1]) if v / n >= 0.01}
    total = sum(calls.values()) / n
    print("gRPC hit, 8x8 streams, %d calls (%d and %d OK): %.2f syscalls per call (%s), %.3f context "
          "switches per call" % (n, o["succeeded"], o2["succeeded"], total,
                                 ", ".join("%s %.2f" % kv for kv in per.items()), sw), flush=True)
    gw.terminate()
    gw.wait(30)
    return {"calls": n, "syscalls_per_call": total, "by_syscall": per, "context_switches_per_call": sw}


def cache_fill(env, args, fake_port):
    """The cache filled past its budget (cache.max_bytes = args.cache_mib MiB,
    ttl long): distinct pages (every maxResults 1..1000 x status x sort
    order) until evictions start; RSS growth against the budget and against
    the bytes the cache says it holds."""
    cfg_path = bench.gateway_config(env, fake_port, "gw-cachefill")
    with open(cfg_path) as f:
        cfg = json.load(f)
    cfg["cache"] = {"enabled": True, "max_bytes": args.cache_mib << 20, "ttl_ms": 3600000}
    cfg["tenants"][0].pop("policy", None)
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    p, log = env.spawn("gw-cachefill", [os.path.join(env.bin, "bedrockgw"), "--config", cfg_path],
                       env=bench.gw_env())
    ready = wait_line(log, lambda o: o.get("event") == "ready", proc=p)
    port = ready["http_port"]
    time.sleep(0.3)
    idle = rss_kb(p.pid)
    hdr = {"x-api-key": KEY}

    def metric(name):
        _, _, body = http_get(port, "/metrics")
        for line in body.decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return 0.0
    n = 0
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for status in ("Completed", "InProgress", "Failed"):
        for order in ("Ascending", "Descending"):
            for m in range(1, 1001, 3):
                c.request("GET", "/v1/model-import-jobs?maxResults=%d&statusEquals=%s&sortOrder=%s"
                          % (m, status, order), headers=hdr)
                r = c.getresponse()
                r.read()
                n += 1
            if metric("bedrockgw_cache_evictions_total") > 0:
                break
        if metric("bedrockgw_cache_evictions_total") > 0:
            break
    c.close()
    held = metric("bedrockgw_cache_bytes")
    evictions = metric("bedrockgw_cache_evictions_total")
    rss = rss_kb(p.pid)
    out = {"budget_kb": args.cache_mib << 10, "requests": n, "cache_bytes_kb": held / 1024,
           "evictions": evictions, "idle_kb": idle, "rss_kb": rss, "growth_kb": rss - idle}
    print("cache filled: budget %d MiB, %d requests, %d evictions, cache holds %.1f MiB; RSS %.1f -> %.1f MB "
          "(+%.1f MB, x%.2f of the budget)"
          % (args.cache_mib, n, evictions, held / 2**20, idle / 1024, rss / 1024, (rss - idle) / 1024,
             (rss - idle) / (args.cache_mib << 10)), flush=True)
    p.terminate()
    p.wait(30)
    return out


def start_gateway_nocache(env, fake_port, wrapper=(), name="gw-nocache", timeout=15):
    cfg_path = bench.gateway_config(env, fake_port, name)
    with open(cfg_path) as f:
        cfg = json.load(f)
    cfg["cache"] = {"enabled": False}
    cfg["tenants"][0].pop("policy", None)
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    p, log = env.spawn(name, list(wrapper) + [os.path.join(env.bin, "bedrockgw"), "--config", cfg_path],
                       env=bench.gw_env())
    ready = wait_line(log, lambda o: o.get("event") == "ready", proc=p, timeout=timeout)
    return p, ready["http_port"], ready["grpc_port"]


def memory(env, args, fake_port):
    gw, gw_http, gw_grpc = start_gateway(env, fake_port, name="gw-mem")
    time.sleep(0.5)
    idle = rss_kb(gw.pid)
    n = args.connections
    socks = []
    req = ("GET %s HTTP/1.1\r\nHost: x\r\nx-api-key: %s\r\n\r\n" % (QUERY, KEY)).encode()
    for _ in range(n):  # keep-alive connections that have answered one request
        s = socket.create_connection(("127.0.0.1", gw_http))
        s.sendall(req)
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        socks.append(s)
    time.sleep(0.5)
    rest = rss_kb(gw.pid)
    for s in socks:
        s.close()
    gw.terminate()
    gw.wait(30)
    # HTTP/2 in a fresh process: memory the REST connections freed would
    # otherwise be reused and hide (or inflate) what these cost
    gw, gw_http, gw_grpc = start_gateway(env, fake_port, name="gw-mem-h2")
    time.sleep(0.5)
    idle_h2 = rss_kb(gw.pid)
    socks = []
    import h2.connection
    import h2.config
    import h2.events

    def h2_conns(call):
        """n HTTP/2 connections past the SETTINGS exchange (and, with call,
        after one answered gRPC Health/Check: HPACK tables filled), then the
        RSS they add."""
        socks = []
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", gw_grpc))
            c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
            c.initiate_connection()
            s.sendall(c.data_to_send())
            s.settimeout(5)
            c.receive_data(s.recv(65536))
            if call:
                c.send_headers(1, [(":method", "POST"), (":scheme", "http"),
                                   (":path", "/grpc.health.v1.Health/Check"),
                                   (":authority", "127.0.0.1:%d" % gw_grpc),
                                   ("content-type", "application/grpc"), ("te", "trailers"),
                                   ("user-agent", "grpc-python/1.51.1 grpc-c/29.0.0 (linux; chttp2)")])
                c.send_data(1, b"\x00\x00\x00\x00\x00", end_stream=True)
                s.sendall(c.data_to_send())
                done = False
                while not done:
                    for ev in c.receive_data(s.recv(65536)):
                        done |= isinstance(ev, h2.events.StreamEnded)
            s.sendall(c.data_to_send())
            socks.append(s)
        time.sleep(2.0)  # idle past grpc_frontend's trim (1 s)
        rss = rss_kb(gw.pid)
        for s in socks:
            s.close()
        return rss

    grpc_rss = h2_conns(False)
    gw.terminate()
    gw.wait(30)
    gw, gw_http, gw_grpc = start_gateway(env, fake_port, name="gw-mem-h2-call")
    time.sleep(0.5)
    idle_h2_call = rss_kb(gw.pid)
    grpc_call_rss = h2_conns(True)
    out = {"connections": n, "idle_kb": idle, "rest_kb": rest, "grpc_kb": grpc_rss,
           "rest_per_conn_kb": (rest - idle) / n, "grpc_per_conn_kb": (grpc_rss - idle_h2) / n,
           "grpc_after_call_per_conn_kb": (grpc_call_rss - idle_h2_call) / n}
    print("memory: idle %.1f MB; +%d idle REST keep-alive %.1f MB (%.1f KB each); +%d idle HTTP/2 %.1f MB"
          " (%.1f KB each; %.1f KB after one call each)"
          % (idle / 1024, n, rest / 1024, out["rest_per_conn_kb"], n, grpc_rss / 1024,
             out["grpc_per_conn_kb"], out["grpc_after_call_per_conn_kb"]), flush=True)
    gw.terminate()
    gw.wait(30)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-bench")
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", "5")))
    ap.add_argument("--duration", type=int, default=int(os.environ.get("DURATION", "5")))
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--miss-requests", type=int, default=2000)
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--callgrind-misses", type=int, default=300)
    ap.add_argument("--syscall-calls", type=int, default=50000)
    ap.add_argument("--cache-mib", type=int, default=16)
    ap.add_argument("--parts", default="floor,miss,misscg,grpcsys,memory,cachefill",
                    help="which parts, comma-separated")
    args = ap.parse_args()
    os.environ.setdefault("BGW_PY_GEN", os.path.join(os.path.abspath(args.build), "gen", "py"))
    env = Env(args.build, tempfile.mkdtemp(prefix="bgw-perf-"))
    results = {"date": datetime.date.today().isoformat()}
    try:
        parts = args.parts.split(",")
        fake_port = start_fake(env)
        if "floor" in parts:
            gw, gw_http, _ = start_gateway(env, fake_port)
            results["rest_floor"] = floor_rounds(env, args, gw, gw_http, {"x-api-key": KEY})
        if "miss" in parts:
            results["miss"] = miss_path(env, args, fake_port)
        if "misscg" in parts:
            results["miss_callgrind"] = miss_callgrind(env, args, fake_port)
        if "grpcsys" in parts:
            results["grpc_syscalls"] = grpc_syscalls(env, args, fake_port)
        if "memory" in parts:
            results["memory"] = memory(env, args, fake_port)
        if "cachefill" in parts:
            results["cache_fill"] = cache_fill(env, args, fake_port)
    finally:
        env.stop_all()
    bench.save_results("perf", results)


if __name__ == "__main__":
    main()
