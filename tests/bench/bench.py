"""Cache-hit benchmarks for bedrockgw (issue 4). Run through run_bench.sh.

Side by side, in the same run, interleaved rounds, server pinned to CPU 0
and load generator to CPU 1, median of per-round ratios:
  REST: wrk -> gateway (auth + tenant view + cache hit) vs nginx (1 worker,
        proxy_cache HIT) serving the same body; plus server CPU-us/request.
  gRPC: h2load (h2c) -> gateway vs grpc_baseline (bare gRPC core, same reply
        bytes); response byte totals and server-side counters checked.
  Latency: h2load at a fixed rate, p50/p99 from its per-request log.
  callgrind: instructions per REST request for the gateway and nginx.
Both servers of a pair get byte-identical requests, API key included (the
baselines ignore it): the comparison measures the servers, not a header
only one of them has to parse (HPACK-decoding the authorization literal,
which nghttp2 never indexes, is ~7.7k instructions of gRPC core per call).
"""
import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
AKID = "AKIDBGWBENCH00000001"
SECRET = "bench-secret-key/0123456789+abcdef"
REGION = "us-west-2"
KEY = "bench-key-0123456789abcdef"
TENANT_KEY_SHA = None
QUERY = "/v1/model-import-jobs?maxResults=25&statusEquals=Completed"
METHOD = "/bedrockgw.v1.ModelImportJobs/ListModelImportJobs"
SERVER_CPU = "0"
CLIENT_CPU = "1"
CLK = os.sysconf("SC_CLK_TCK")


def sh(argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw).stdout


def wait_line(path, pred, timeout=60, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("%s exited:\n%s" % (proc.args, open(path).read()[-3000:]))
        try:
            for line in open(path):
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if pred(obj):
                    return obj
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    raise RuntimeError("timeout waiting in %s:\n%s" % (path, open(path).read()[-3000:]))


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return int(parts[11]) + int(parts[12])  # utime + stime


def http_get(port, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), body


class Env:
    def __init__(self, build, tmp):
        self.build = os.path.abspath(build)
        self.bin = os.path.join(self.build, "bin")
        self.tmp = tmp
        self.procs = []

    def spawn(self, name, argv, cpu=SERVER_CPU, env=None):
        log = os.path.join(self.tmp, name + ".log")
        full = (["taskset", "-c", cpu] if cpu else []) + argv
        p = subprocess.Popen(full, stdout=open(log, "w"), stderr=subprocess.STDOUT, env=env)
        self.procs.append(p)
        return p, log

    def stop_all(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()


def start_fake(env):
    p, log = env.spawn("fake", [os.path.join(env.bin, "fake-bedrock"), "--listen", "127.0.0.1:0",
                                "--region", REGION, "--access-key", AKID, "--secret-key", SECRET,
                                "--generate", "300", "--seed", "3"], cpu=CLIENT_CPU)
    return wait_line(log, lambda o: o.get("event") == "ready", proc=p)["port"]


def gateway_config(env, fake_port, name):
    import hashlib
    cfg = {
        "grpc": {"listen": "127.0.0.1:0"},
        "http": {"listen": "127.0.0.1:0"},
        "aws": {"region": REGION, "endpoint": "http://127.0.0.1:%d" % fake_port},
        "gateway": {"default_page_size": 25, "max_inflight": 4096, "shutdown_unready_ms": 0},
        "cache": {"enabled": True, "ttl_ms": 3600000, "swr_ms": 0, "sie_ms": 0},
        # authentication and a filtering tenant policy on the measured path
        "tenants": [{"id": "bench", "api_keys": [hashlib.sha256(KEY.encode()).hexdigest()],
                     "policy": {"job_name_prefixes": ["team-a-", "shared-"]}},
                    {"id": "other", "api_keys": [hashlib.sha256(b"other-key-0000000000").hexdigest()]}],
    }
    path = os.path.join(env.tmp, name + ".json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    return path


def gw_env():
    e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    e.update({"AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET, "GRPC_DNS_RESOLVER": "native"})
    return e


def start_gateway(env, fake_port, name="gateway", wrapper=(), cpu=SERVER_CPU, timeout=60):
    cfg = gateway_config(env, fake_port, name)
    p, log = env.spawn(name, list(wrapper) + [os.path.join(env.bin, "bedrockgw"), "--config", cfg],
                       cpu=cpu, env=gw_env())
    ready = wait_line(log, lambda o: o.get("event") == "ready", timeout=timeout, proc=p)
    return p, ready["http_port"], ready["grpc_port"]


def nginx_conf(env, name, gw_port, port, single_process=False):
    d = os.path.join(env.tmp, name)
    os.makedirs(os.path.join(d, "cache"), exist_ok=True)
    os.makedirs(os.path.join(d, "tmp"), exist_ok=True)
    conf = """
worker_processes 1;
%s
daemon off;
user root root;
pid %s/nginx.pid;
error_log %s/error.log warn;
events { worker_connections 4096; }
http {
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    access_log %s/access.log;
    client_body_temp_path %s/tmp/body; proxy_temp_path %s/tmp/proxy;
    fastcgi_temp_path %s/tmp/fcgi; uwsgi_temp_path %s/tmp/uwsgi; scgi_temp_path %s/tmp/scgi;
    proxy_cache_path %s/cache levels=1:2 keys_zone=bgw:10m inactive=1h;
    upstream gw { server 127.0.0.1:%d; keepalive 4; }
    server {
        listen 127.0.0.1:%d;
        location / {
            proxy_pass http://gw;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header x-api-key "%s";
            proxy_cache bgw;
            proxy_cache_key $request_uri;
            proxy_cache_valid 200 1h;
            proxy_ignore_headers Cache-Control Expires Set-Cookie;
            add_header X-Cache-Status $upstream_cache_status;
        }
    }
}
""" % ("master_process off;" if single_process else "", d, d, d, d, d, d, d, d, d, gw_port, port, KEY)
    path = os.path.join(d, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return path, d


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_nginx(env, gw_port, name="nginx", wrapper=(), single_process=False, cpu=SERVER_CPU):
    port = free_port()
    conf, d = nginx_conf(env, name, gw_port, port, single_process)
    p, log = env.spawn(name, list(wrapper) + ["nginx", "-p", d, "-e", os.path.join(d, "error.log"), "-c", conf],
                       cpu=cpu)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            st, h, body = http_get(port, "/healthz")
            break
        except OSError:
            time.sleep(0.1)
    else:
        raise RuntimeError("nginx did not start: " + open(log).read())
    # the worker (the process serving) is nginx's child unless single-process
    worker = p.pid
    if not single_process:
        for _ in range(50):
            kids = sh(["pgrep", "-P", str(p.pid)]).split() if subprocess.run(
                ["pgrep", "-P", str(p.pid)], capture_output=True).returncode == 0 else []
            # taskset execs nginx in place, so p.pid is nginx's master
            if kids:
                worker = int(kids[0])
                break
            time.sleep(0.1)
    return p, port, worker


def run_wrk(port, duration, conns, headers):
    argv = ["taskset", "-c", CLIENT_CPU, "wrk", "-t1", "-c%d" % conns, "-d%ds" % duration]
    for k, v in headers.items():
        argv += ["-H", "%s: %s" % (k, v)]
    argv.append("http://127.0.0.1:%d%s" % (port, QUERY))
    out = sh(argv)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    n = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "requests": n, "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1) if errors else "", "raw": out}


def run_h2load_grpc(port, duration, body_file, key=None, conns=4, streams=16, rps=None, log=None, n=None):
    argv = ["taskset", "-c", CLIENT_CPU, "h2load", "-t1", "-c%d" % conns, "-m%d" % streams,
            "-d", body_file, "-H", "content-type: application/grpc", "-H", "te: trailers"]
    if key:
        argv += ["-H", "authorization: Bearer " + key]
    if rps:
        argv += ["--rps", str(rps)]
    if n:
        argv += ["-n", str(n)]
    else:
        argv += ["-D", str(duration)]
    if log:
        argv += ["--log-file", log]
    argv.append("http://127.0.0.1:%d%s" % (port, METHOD))
    return parse_h2load(sh(argv))


def run_h2load_h1(port, n, conns, rps, log, headers):
    argv = ["taskset", "-c", CLIENT_CPU, "h2load", "--h1", "-t1", "-c%d" % conns, "-n", str(n),
            "--rps", str(rps), "--log-file", log]
    for k, v in headers.items():
        argv += ["-H", "%s: %s" % (k, v)]
    argv.append("http://127.0.0.1:%d%s" % (port, QUERY))
    return parse_h2load(sh(argv))


def parse_h2load(out):
    m = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", out)
    req = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored",
                    out)
    codes = re.search(r"status codes: (\d+) 2xx", out)
    traffic = re.search(r"traffic: .*?\((\d+)\) total, .*?\((\d+)\) headers .*?, .*?\((\d+)\) data", out)
    return {"rps": float(m.group(3)), "done": int(req.group(3)), "succeeded": int(req.group(4)),
            "failed": int(req.group(5)), "errored": int(req.group(6)),
            "status_2xx": int(codes.group(1)) if codes else None,
            "data_bytes": int(traffic.group(3)) if traffic else None, "raw": out}


def percentiles(log):
    lat = []
    with open(log) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                lat.append(int(parts[2]))
    lat.sort()
    if not lat:
        return None

    def p(q):
        return lat[min(len(lat) - 1, int(q * len(lat)))]
    return {"n": len(lat), "p50_us": p(0.50), "p99_us": p(0.99), "max_us": lat[-1]}


def metric(port, name):
    st, h, body = http_get(port, "/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def grpc_reply_bytes(grpc_port):
    sys.path.insert(0, os.environ["BGW_PY_GEN"])
    import grpc
    from bedrockgw.v1 import model_import_jobs_pb2 as pb
    req = pb.ListModelImportJobsRequest(max_results=25, status_equals=pb.MODEL_IMPORT_JOB_STATUS_COMPLETED)
    ch = grpc.insecure_channel("127.0.0.1:%d" % grpc_port)
    rpc = ch.unary_unary(METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b)
    raw = rpc(req.SerializeToString(), metadata=[("authorization", "Bearer " + KEY)], timeout=10)
    ch.close()
    return req.SerializeToString(), raw


def grpc_request_file(path, req_bytes):
    """Writes one framed gRPC request message (h2load -d) to path."""
    with open(path, "wb") as f:
        f.write(b"\x00" + len(req_bytes).to_bytes(4, "big") + req_bytes)
    return path


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def save_results(name, results, indent=2):
    """tests/bench/out/<name>.json (not committed; RESULTS.md keeps the tables)."""
    out_dir = os.path.join(ROOT, "tests", "bench", "out")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(results, f, indent=indent)


def callgrind_per_request(env, name, pid, port, n, headers, drive=None):
    """Zeroes the counters, sends n keep-alive requests (or calls drive()),
    dumps: Ir / n (all threads of the process)."""
    out_dir = env.tmp
    sh(["callgrind_control", "-z", str(pid)])
    if drive:
        drive()
    else:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(n):
            c.request("GET", QUERY, headers=headers)
            r = c.getresponse()
            r.read()
            assert r.status == 200, r.status
        c.close()
    time.sleep(0.5)
    sh(["callgrind_control", "-d", "bench-%s" % name, str(pid)])
    time.sleep(1.0)
    files = sorted((f for f in os.listdir(out_dir) if f.startswith("cg.%s." % name)),
                   key=lambda f: os.path.getmtime(os.path.join(out_dir, f)))
    total = 0
    dump = os.path.join(out_dir, files[-1])
    with open(dump) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                total = int(line.split()[1])
    return total / n, dump


def grpc_callgrind_drive(port, n, body_file, key, frame):
    """n sequential gRPC calls on one connection; every reply checked by size."""
    def drive():
        o = run_h2load_grpc(port, None, body_file, key, conns=1, streams=1, n=n)
        assert o["succeeded"] == n and o["data_bytes"] == n * frame, o["raw"]
    return drive


def run_callgrind(env, args, fake_port, gw_http, hdr, body_file, reply_file, frame, results):
    """Instructions per hit under callgrind (deterministic, unlike the
    throughput figures): gateway vs nginx for REST, gateway vs grpc_baseline
    for gRPC. The dumps stay in env.tmp for callgrind_annotate."""
    n = args.callgrind_requests
    vg = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s/cg.gwcg.%%p" % env.tmp]
    cg_gw, cg_http, cg_grpc = start_gateway(env, fake_port, name="gwcg", wrapper=vg, cpu=None, timeout=180)
    for _ in range(3):
        http_get(cg_http, QUERY, hdr)
    gw_ir, gw_dump = callgrind_per_request(env, "gwcg", cg_gw.pid, cg_http, n, hdr)
    grpc_callgrind_drive(cg_grpc, 20, body_file, KEY, frame)()  # warm-up: miss, then hits
    gwg_ir, gwg_dump = callgrind_per_request(env, "gwcg", cg_gw.pid, None, n, None,
                                             drive=grpc_callgrind_drive(cg_grpc, n, body_file, KEY, frame))
    vg = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s/cg.ngcg.%%p" % env.tmp]
    cg_ng, cg_ng_port, _ = start_nginx(env, gw_http, name="ngcg", wrapper=vg, single_process=True, cpu=None)
    for _ in range(3):
        http_get(cg_ng_port, QUERY)
    ng_ir, _ = callgrind_per_request(env, "ngcg", cg_ng.pid, cg_ng_port, n, hdr)
    vg = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s/cg.blcg.%%p" % env.tmp]
    bl, bl_log = env.spawn("blcg", vg + [os.path.join(env.bin, "grpc_baseline"), "--listen",
                                         "127.0.0.1:0", "--reply", reply_file], cpu=None)
    bl_port = wait_line(bl_log, lambda o: o.get("event") == "ready", timeout=180, proc=bl)["port"]
    grpc_callgrind_drive(bl_port, 20, body_file, KEY, frame)()
    bl_ir, _ = callgrind_per_request(env, "blcg", bl.pid, None, n, None,
                                     drive=grpc_callgrind_drive(bl_port, n, body_file, KEY, frame))
    results["callgrind"] = {"requests": n, "gateway_ir_per_req": gw_ir, "nginx_ir_per_req": ng_ir,
                            "ratio": gw_ir / ng_ir, "gateway_grpc_ir_per_call": gwg_ir,
                            "baseline_grpc_ir_per_call": bl_ir, "grpc_ratio": gwg_ir / bl_ir,
                            "gateway_rest_dump": gw_dump, "gateway_grpc_dump": gwg_dump}
    print("callgrind REST: gateway %.0f Ir/req, nginx %.0f Ir/req (x%.2f)" % (gw_ir, ng_ir, gw_ir / ng_ir),
          flush=True)
    print("callgrind gRPC: gateway %.0f Ir/call, baseline %.0f Ir/call (x%.2f)"
          % (gwg_ir, bl_ir, gwg_ir / bl_ir), flush=True)
    print("callgrind dumps: REST %s, gRPC %s" % (gw_dump, gwg_dump), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-bench")
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", "5")))
    ap.add_argument("--duration", type=int, default=int(os.environ.get("DURATION", "5")))
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--rate", type=int, default=int(os.environ.get("RATE", "2000")))
    ap.add_argument("--callgrind-requests", type=int, default=2000)
    ap.add_argument("--quick", action="store_true", default=bool(os.environ.get("QUICK")),
                    help="throughput only: 3 rounds of 3 s unless ROUNDS/DURATION say otherwise, "
                         "no latency, no callgrind")
    ap.add_argument("--callgrind-only", action="store_true", default=bool(os.environ.get("CALLGRIND_ONLY")),
                    help="instructions per hit only (REST and gRPC, gateway and baselines)")
    args = ap.parse_args()
    if args.quick:
        if "ROUNDS" not in os.environ:
            args.rounds = 3
        if "DURATION" not in os.environ:
            args.duration = 3
    do_tput = not args.callgrind_only
    do_latency = do_tput and not args.quick
    do_callgrind = not args.quick and not os.environ.get("SKIP_CALLGRIND")
    os.environ.setdefault("BGW_PY_GEN", os.path.join(os.path.abspath(args.build), "gen", "py"))
    tmp = tempfile.mkdtemp(prefix="bgw-bench-")
    env = Env(args.build, tmp)
    results = {"rounds": args.rounds, "duration_s": args.duration, "conns": args.conns, "tmp": tmp,
               "nproc": os.cpu_count()}
    try:
        fake_port = start_fake(env)
        gw, gw_http, gw_grpc = start_gateway(env, fake_port)
        hdr = {"x-api-key": KEY}
        st, h, gw_body = http_get(gw_http, QUERY, hdr)
        assert st == 200 and h.get("x-cache") == "miss", (st, h)
        st, h, _ = http_get(gw_http, QUERY, hdr)
        assert h.get("x-cache") == "hit", h
        ng, ng_port, ng_worker = start_nginx(env, gw_http)
        st, h, ng_body = http_get(ng_port, QUERY)
        st, h, ng_body = http_get(ng_port, QUERY)
        assert st == 200 and h.get("x-cache-status") == "HIT", (st, h)
        assert ng_body == gw_body, "nginx must serve the same body"
        results["rest_body_bytes"] = len(gw_body)

        # --- REST throughput, interleaved rounds --------------------------
        if do_tput:
            rest = []
            for r in range(args.rounds):
                order = [("gateway", gw.pid, gw_http, hdr), ("nginx", ng_worker, ng_port, hdr)]
                if r % 2:
                    order.reverse()
                row = {}
                for name, pid, port, headers in order:
                    c0 = cpu_ticks(pid)
                    w = run_wrk(port, args.duration, args.conns, headers)
                    c1 = cpu_ticks(pid)
                    w["cpu_us_per_req"] = (c1 - c0) * 1e6 / CLK / max(1, w["requests"])
                    assert w["non2xx"] == 0 and not w["socket_errors"], w["raw"]
                    del w["raw"]
                    row[name] = w
                row["ratio"] = row["gateway"]["rps"] / row["nginx"]["rps"]
                rest.append(row)
                print("REST round %d: gateway %.0f rps (%.1f cpu-us/req), nginx %.0f rps (%.1f cpu-us/req), ratio %.3f"
                      % (r + 1, row["gateway"]["rps"], row["gateway"]["cpu_us_per_req"], row["nginx"]["rps"],
                         row["nginx"]["cpu_us_per_req"], row["ratio"]), flush=True)
            results["rest"] = {"rounds": rest, "median_ratio": statistics.median(x["ratio"] for x in rest),
                               "median_gateway_rps": statistics.median(x["gateway"]["rps"] for x in rest),
                               "median_nginx_rps": statistics.median(x["nginx"]["rps"] for x in rest),
                               "median_gateway_cpu_us": statistics.median(x["gateway"]["cpu_us_per_req"] for x in rest),
                               "median_nginx_cpu_us": statistics.median(x["nginx"]["cpu_us_per_req"] for x in rest)}
            print("REST median ratio %.3f (target >= 0.8)" % results["rest"]["median_ratio"], flush=True)

        # --- REST latency at a fixed rate ----------------------------------
        if do_latency:
            lat = {}
            n = args.rate * args.duration
            for name, port, headers in (("gateway", gw_http, hdr), ("nginx", ng_port, hdr)):
                log = os.path.join(tmp, "lat-rest-%s.log" % name)
                o = run_h2load_h1(port, n, 8, max(1, args.rate // 8), log, headers)
                lat[name] = dict(percentiles(log), achieved_rps=o["rps"], succeeded=o["succeeded"])
            results["rest_latency"] = {"rate_rps": args.rate, **lat}
            print("REST latency @%d rps: gateway p50 %d us p99 %d us; nginx p50 %d us p99 %d us"
                  % (args.rate, lat["gateway"]["p50_us"], lat["gateway"]["p99_us"], lat["nginx"]["p50_us"],
                     lat["nginx"]["p99_us"]), flush=True)

        # --- gRPC ------------------------------------------------------------
        req_bytes, reply = grpc_reply_bytes(gw_grpc)
        body_file = grpc_request_file(os.path.join(tmp, "grpc-request.bin"), req_bytes)
        reply_file = os.path.join(tmp, "grpc-reply.bin")
        with open(reply_file, "wb") as f:
            f.write(reply)
        bl, bl_log = env.spawn("grpc_baseline", [os.path.join(env.bin, "grpc_baseline"), "--listen",
                                                 "127.0.0.1:0", "--reply", reply_file])
        bl_port = wait_line(bl_log, lambda o: o.get("event") == "ready", proc=bl)["port"]
        frame = 5 + len(reply)
        grpc_rows = []
        bl_total = 0
        if do_tput:
            for r in range(args.rounds):
                order = [("gateway", gw.pid, gw_grpc, KEY), ("baseline", bl.pid, bl_port, KEY)]
                if r % 2:
                    order.reverse()
                row = {}
                for name, pid, port, key in order:
                    before = metric(gw_http, 'bedrockgw_requests_total{transport="grpc",code="OK"}') \
                        if name == "gateway" else 0
                    c0 = cpu_ticks(pid)
                    o = run_h2load_grpc(port, args.duration, body_file, key)
                    c1 = cpu_ticks(pid)
                    del o["raw"]
                    o["cpu_us_per_req"] = (c1 - c0) * 1e6 / CLK / max(1, o["done"])
                    # every answer carried exactly the reply message; calls
                    # still in flight at the timer's end (at most conns x
                    # streams) may have received part of theirs
                    extra = o["data_bytes"] - o["succeeded"] * frame
                    o["bytes_ok"] = 0 <= extra <= 4 * 16 * frame
                    if name == "gateway":
                        after = metric(gw_http, 'bedrockgw_requests_total{transport="grpc",code="OK"}')
                        o["server_ok_calls"] = after - before
                    else:
                        bl_total += o["done"]
                    row[name] = o
                row["ratio"] = row["gateway"]["rps"] / row["baseline"]["rps"]
                grpc_rows.append(row)
                print("gRPC round %d: gateway %.0f rps (%.1f cpu-us/req, bytes ok %s, server OK %d/%d), "
                      "baseline %.0f rps (%.1f cpu-us/req, bytes ok %s), ratio %.3f"
                      % (r + 1, row["gateway"]["rps"], row["gateway"]["cpu_us_per_req"], row["gateway"]["bytes_ok"],
                         row["gateway"]["server_ok_calls"], row["gateway"]["done"], row["baseline"]["rps"],
                         row["baseline"]["cpu_us_per_req"], row["baseline"]["bytes_ok"], row["ratio"]), flush=True)
            results["grpc"] = {"rounds": grpc_rows, "reply_frame_bytes": frame,
                               "median_ratio": statistics.median(x["ratio"] for x in grpc_rows),
                               "median_gateway_rps": statistics.median(x["gateway"]["rps"] for x in grpc_rows),
                               "median_baseline_rps": statistics.median(x["baseline"]["rps"] for x in grpc_rows)}
            print("gRPC median ratio %.3f (target > 1)" % results["grpc"]["median_ratio"], flush=True)

        if do_latency:
            lat = {}
            for name, port, key in (("gateway", gw_grpc, KEY), ("baseline", bl_port, KEY)):
                log = os.path.join(tmp, "lat-grpc-%s.log" % name)
                o = run_h2load_grpc(port, None, body_file, key, conns=8, streams=1,
                                    rps=max(1, args.rate // 8), log=log, n=args.rate * args.duration)
                lat[name] = dict(percentiles(log), achieved_rps=o["rps"], succeeded=o["succeeded"])
            results["grpc_latency"] = {"rate_rps": args.rate, **lat}
            print("gRPC latency @%d rps: gateway p50 %d us p99 %d us; baseline p50 %d us p99 %d us"
                  % (args.rate, lat["gateway"]["p50_us"], lat["gateway"]["p99_us"], lat["baseline"]["p50_us"],
                     lat["baseline"]["p99_us"]), flush=True)
            bl_total += lat["baseline"]["succeeded"]
        bl.send_signal(signal.SIGTERM)
        bl.wait(20)
        stopped = wait_line(bl_log, lambda o: o.get("event") == "stopped")
        results.setdefault("grpc", {})["baseline_server_calls"] = stopped["calls"]
        results["grpc"]["baseline_client_done"] = bl_total
        print("baseline server counter %d calls; h2load done %d" % (stopped["calls"], bl_total), flush=True)

        # --- callgrind ---------------------------------------------------------
        if do_callgrind:
            run_callgrind(env, args, fake_port, gw_http, hdr, body_file, reply_file, frame, results)
    finally:
        env.stop_all()
    save_results("results", results, indent=1)
    print(json.dumps({k: v for k, v in results.items() if k not in ("rest", "grpc")}, indent=1))
    if do_tput:
        print("REST median ratio %.3f, gRPC median ratio %.3f" % (results["rest"]["median_ratio"],
                                                                  results["grpc"]["median_ratio"]))


if __name__ == "__main__":
    main()
