#!/usr/bin/env python3
"""Scale-out benchmarks (issue 13), all measured in one run:

1. local-tier hit cost with Redis configured against without: callgrind
   instructions per REST and per gRPC hit (a local hit must not touch Redis);
2. an L2 hit's added latency: p50/p99 of requests that miss the local tier
   and hit Redis, against local hits, on the same replica;
3. upstream calls per 1,000 client calls for 3 replicas polling a set of
   views, without Redis and with it.

Run through tests/bench/run_fleet_bench.sh (installs, builds). Figures to
stdout and tests/bench/out/fleet.json."""
import argparse
import hashlib
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
from bench import (AKID, KEY, QUERY, REGION, Env, callgrind_per_request,  # noqa: E402
                   grpc_callgrind_drive, grpc_reply_bytes, gw_env, http_get, start_fake, wait_line)

SECRET_TOKENS = "fleet-bench-token-secret-0123456789abcdef"


def start_redis(env):
    port = bench.free_port()
    p, log = env.spawn("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", env.tmp], cpu=bench.CLIENT_CPU)
    wait_line_plain(log, "Ready to accept connections", p)
    return port


def wait_line_plain(path, text, proc, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(open(path).read())
        if text in open(path).read():
            return
        time.sleep(0.05)
    raise RuntimeError("timeout: " + path)


def start_gw(env, fake_port, name, redis_port=None, ttl_ms=3600000, wrapper=(), cpu=bench.SERVER_CPU,
             timeout=60, rate_limit=None):
    cfg = {
        "grpc": {"listen": "127.0.0.1:0"},
        "http": {"listen": "127.0.0.1:0"},
        "aws": {"region": REGION, "endpoint": "http://127.0.0.1:%d" % fake_port},
        "gateway": {"default_page_size": 25, "max_inflight": 4096, "shutdown_unready_ms": 0},
        "cache": {"enabled": True, "ttl_ms": ttl_ms, "swr_ms": 0, "sie_ms": 0},
        "tokens": {"secret": SECRET_TOKENS},
        "tenants": [{"id": "bench", "api_keys": [hashlib.sha256(KEY.encode()).hexdigest()],
                     "policy": {"job_name_prefixes": ["team-a-", "shared-"]}}],
    }
    if redis_port:
        cfg["redis"] = {"url": "redis://127.0.0.1:%d" % redis_port, "timeout_ms": 50}
    if rate_limit:
        cfg["tenants"][0]["rate_limit"] = rate_limit
    path = os.path.join(env.tmp, name + ".json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    p, log = env.spawn(name, list(wrapper) + [os.path.join(env.bin, "bedrockgw"), "--config", path],
                       cpu=cpu, env=gw_env())
    ready = wait_line(log, lambda o: o.get("event") == "ready", timeout=timeout, proc=p)
    if redis_port:
        deadline = time.time() + timeout
        while bench.metric(ready["http_port"], "bedrockgw_redis_up") != 1:
            if time.time() > deadline:
                raise RuntimeError("%s: Redis not up" % name)
            time.sleep(0.05)
    return p, ready["http_port"], ready["grpc_port"]


def fake_calls(fake_port):
    st, _, body = http_get(fake_port, "/_fake/counters")
    return json.loads(body)["requests_total"]


def callgrind_hits(env, fake_port, redis_port, n):
    """Ir per local REST and gRPC hit, without and with redis.url."""
    hdr = {"x-api-key": KEY}
    out = {}
    for label, rp in (("without_redis", None), ("with_redis", redis_port)):
        name = "cg_" + label
        vg = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s/cg.%s.%%p" % (env.tmp, name)]
        p, hp, gp = start_gw(env, fake_port, name, rp, wrapper=vg, cpu=None, timeout=180)
        for _ in range(3):
            st, _, _ = http_get(hp, QUERY, hdr)
            assert st == 200
        rest_ir, _ = callgrind_per_request(env, name, p.pid, hp, n, hdr)
        req_bytes, reply = grpc_reply_bytes(gp)
        body_file = bench.grpc_request_file(os.path.join(env.tmp, "grpc-request-%s.bin" % label),
                                            req_bytes)
        frame = 5 + len(reply)
        grpc_callgrind_drive(gp, 20, body_file, KEY, frame)()
        grpc_ir, _ = callgrind_per_request(env, name, p.pid, None, n, None,
                                           drive=grpc_callgrind_drive(gp, n, body_file, KEY, frame))
        out[label] = {"rest_ir_per_hit": rest_ir, "grpc_ir_per_hit": grpc_ir}
        p.terminate()
        p.wait(30)
    out["rest_ratio"] = out["with_redis"]["rest_ir_per_hit"] / out["without_redis"]["rest_ir_per_hit"]
    out["grpc_ratio"] = out["with_redis"]["grpc_ir_per_hit"] / out["without_redis"]["grpc_ir_per_hit"]
    print("callgrind local hit, REST: %.0f Ir without Redis, %.0f with (x%.3f); gRPC: %.0f / %.0f (x%.3f)"
          % (out["without_redis"]["rest_ir_per_hit"], out["with_redis"]["rest_ir_per_hit"], out["rest_ratio"],
             out["without_redis"]["grpc_ir_per_hit"], out["with_redis"]["grpc_ir_per_hit"], out["grpc_ratio"]),
          flush=True)
    return out


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def timed_get(conn, path):
    t0 = time.perf_counter()
    conn.request("GET", path, headers={"x-api-key": KEY})
    r = conn.getresponse()
    r.read()
    dt = (time.perf_counter() - t0) * 1e6
    assert r.status == 200, r.status
    return dt


def l2_latency(env, fake_port, redis_port, n):
    """Replica A fetches n distinct views (into Redis); replica B then asks
    for each: n L2 hits; then again: n local hits. Interleaved in blocks so
    drift on the shared machine hits both alike."""
    _, a_http, _ = start_gw(env, fake_port, "lat_a", redis_port)
    _, b_http, _ = start_gw(env, fake_port, "lat_b", redis_port)
    paths = ["/v1/model-import-jobs?maxResults=%d&nameContains=%s" % (5 + i % 20, "x%d" % i)
             for i in range(n)]
    ca = http.client.HTTPConnection("127.0.0.1", a_http, timeout=30)
    for p in paths:
        timed_get(ca, p)
    ca.close()
    before = fake_calls(fake_port)
    cb = http.client.HTTPConnection("127.0.0.1", b_http, timeout=30)
    l2, local = [], []
    block = 100
    for i in range(0, n, block):
        chunk = paths[i:i + block]
        l2 += [timed_get(cb, p) for p in chunk]       # first time on B: Redis
        local += [timed_get(cb, p) for p in chunk]    # second time: local tier
    cb.close()
    upstream = fake_calls(fake_port) - before
    assert upstream == 0, "B made %d upstream calls: not L2 hits" % upstream
    out = {"n": n, "l2_p50_us": pct(l2, .5), "l2_p99_us": pct(l2, .99), "local_p50_us": pct(local, .5),
           "local_p99_us": pct(local, .99), "l2_hits": bench.metric(b_http, 'bedrockgw_cache_l2_total{result="hit"}')}
    out["added_p50_us"] = out["l2_p50_us"] - out["local_p50_us"]
    out["added_p99_us"] = out["l2_p99_us"] - out["local_p99_us"]
    print("L2 hit vs local hit (python client, keep-alive, %d each): p50 %.0f vs %.0f us (+%.0f), p99 %.0f vs %.0f us"
          " (+%.0f)" % (n, out["l2_p50_us"], out["local_p50_us"], out["added_p50_us"], out["l2_p99_us"],
                       out["local_p99_us"], out["added_p99_us"]), flush=True)
    return out


def limited_hits(env, fake_port, redis_port, n):
    """Local hits for a tenant with a rate limit: without Redis the bucket is
    local; with Redis every call takes its token from the fleet bucket (one
    Redis round trip). Interleaved blocks."""
    lim = {"rps": 1000000, "burst": 1000000}
    _, p0, _ = start_gw(env, fake_port, "lim_local", None, rate_limit=lim)
    _, p1, _ = start_gw(env, fake_port, "lim_redis", redis_port, rate_limit=lim)
    c0 = http.client.HTTPConnection("127.0.0.1", p0, timeout=30)
    c1 = http.client.HTTPConnection("127.0.0.1", p1, timeout=30)
    timed_get(c0, QUERY)
    timed_get(c1, QUERY)
    local, fleet = [], []
    for _ in range(0, n, 100):
        local += [timed_get(c0, QUERY) for _ in range(100)]
        fleet += [timed_get(c1, QUERY) for _ in range(100)]
    c0.close()
    c1.close()
    out = {"n": n, "local_bucket_p50_us": pct(local, .5), "local_bucket_p99_us": pct(local, .99),
           "fleet_bucket_p50_us": pct(fleet, .5), "fleet_bucket_p99_us": pct(fleet, .99)}
    print("hit for a rate-limited tenant: local bucket p50 %.0f p99 %.0f us; fleet bucket (Redis) p50 %.0f p99 %.0f us"
          % (out["local_bucket_p50_us"], out["local_bucket_p99_us"], out["fleet_bucket_p50_us"],
             out["fleet_bucket_p99_us"]), flush=True)
    return out


def polling(env, fake_port, redis_port, seconds, views, ttl_ms):
    """3 replicas, clients polling `views` views at random across them."""
    out = {}
    for label, rp in (("without_redis", None), ("with_redis", redis_port)):
        ports = [start_gw(env, fake_port, "poll_%s_%d" % (label, i), rp, ttl_ms=ttl_ms)[1] for i in range(3)]
        conns = [http.client.HTTPConnection("127.0.0.1", p, timeout=30) for p in ports]
        rnd = random.Random(5)
        before = fake_calls(fake_port)
        n = 0
        stop = time.time() + seconds
        while time.time() < stop:
            v = rnd.randrange(views)
            timed_get(conns[rnd.randrange(3)], "/v1/model-import-jobs?maxResults=%d&nameContains=p%d" % (3 + v, v))
            n += 1
        calls = fake_calls(fake_port) - before
        for c in conns:
            c.close()
        out[label] = {"client_calls": n, "upstream_calls": calls, "per_1000": calls * 1000.0 / n}
        print("polling %d views over 3 replicas for %ds (ttl %d ms), %s: %d client calls, %d upstream calls"
              " = %.1f per 1000" % (views, seconds, ttl_ms, label.replace("_", " "), n, calls,
                                    out[label]["per_1000"]), flush=True)
    out["ratio"] = out["with_redis"]["per_1000"] / out["without_redis"]["per_1000"]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-bench")
    ap.add_argument("--callgrind-requests", type=int, default=2000)
    ap.add_argument("--latency-requests", type=int, default=2000)
    ap.add_argument("--poll-seconds", type=int, default=10)
    args = ap.parse_args()
    os.environ.setdefault("BGW_PY_GEN", os.path.join(os.path.abspath(args.build), "gen", "py"))
    tmp = tempfile.mkdtemp(prefix="bgw-fleet-bench-")
    env = Env(args.build, tmp)
    results = {"tmp": tmp}
    try:
        fake_port = start_fake(env)
        redis_port = start_redis(env)
        results["l2_latency"] = l2_latency(env, fake_port, redis_port, args.latency_requests)
        results["limited_hits"] = limited_hits(env, fake_port, redis_port, args.latency_requests)
        results["polling"] = polling(env, fake_port, redis_port, args.poll_seconds, 20, 1000)
        if not os.environ.get("SKIP_CALLGRIND"):
            results["callgrind"] = callgrind_hits(env, fake_port, redis_port, args.callgrind_requests)
    finally:
        env.stop_all()
    bench.save_results("fleet", results)


if __name__ == "__main__":
    main()
