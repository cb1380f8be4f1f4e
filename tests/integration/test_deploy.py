"""deploy/ (issue 16): the artifacts are checked against the real thing.

- the container images' runtime package lists against the binaries' NEEDED
  libraries (no image can be built here: no container engine);
- every Kubernetes manifest against the Kubernetes / Prometheus Operator
  schemas with an independent validator (npm kubernetes-models, pinned in
  tests/deploy/package-lock.json), and the config each carries with
  bedrockgw --check-config;
- the systemd unit with systemd-analyze verify, and the gateway's own
  sd_notify messages on a real notify socket;
- the compose file by parsing (services, files, configs);
- the alert rules with promtool, and every metric the rules and the Grafana
  dashboard use against a live /metrics (promtool check metrics too);
- bedrockgw --probe against a live gateway (HTTP and gRPC, ready or not)."""
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import yaml

import harness
from harness import BIN, Fake, Gateway, base_config
import aws_fakes
import redisutil
import tlsutil

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(ROOT, "deploy")
NODE_DIR = os.path.join(ROOT, "tests", "deploy")


def read(path):
    with open(path) as f:
        return f.read()


def needed_packages(binary):
    """The Debian packages providing the binary's NEEDED libraries."""
    out = subprocess.run(["objdump", "-p", binary], capture_output=True, text=True, check=True).stdout
    pkgs = set()
    for lib in re.findall(r"^\s*NEEDED\s+(\S+)", out, re.M):
        if re.match(r"lib(a|ub|t|l)san\.", lib):
            continue  # a sanitizer build's runtime (BGW_SANITIZE=1), not the image's
        p = subprocess.run(["dpkg", "-S", "*/" + lib], capture_output=True, text=True)
        assert p.returncode == 0, "no package owns %s" % lib
        pkgs.add(p.stdout.split(":")[0].strip())
    return pkgs


def runtime_packages(dockerfile):
    text = read(dockerfile)
    block = text.split("FROM debian:12-slim", 1)[1]
    if "# BEGIN runtime packages" in block:
        block = block.split("# BEGIN runtime packages", 1)[1].split("# END runtime packages", 1)[0]
    block = block.split("--no-install-recommends", 1)[1].split("&&", 1)[0]
    return set(w for w in block.replace("\\", " ").split() if w)


def check_config(cfg, tmp):
    """bedrockgw --check-config on cfg, with every *_file secret pointed at a
    temporary file (the cluster's secrets are not here)."""
    def fix(o):
        if isinstance(o, dict):
            for k, v in list(o.items()):
                if k.endswith("_file") and isinstance(v, str) and "secret" in k or k == "password_file":
                    path = os.path.join(tmp, "secret-%d" % len(os.listdir(tmp)))
                    with open(path, "w") as f:
                        f.write("a-test-secret-for-check-config-0123456789\n")
                    o[k] = path
                else:
                    fix(v)
        elif isinstance(o, list):
            for v in o:
                fix(v)
    cfg = json.loads(json.dumps(cfg))
    fix(cfg)
    path = os.path.join(tmp, "config-%d.json" % len(os.listdir(tmp)))
    with open(path, "w") as f:
        json.dump(cfg, f)
    return subprocess.run([os.path.join(BIN, "bedrockgw"), "--check-config", path],
                          capture_output=True, text=True, timeout=20)


class Container(unittest.TestCase):
    def test_runtime_packages_are_exactly_what_the_binaries_link(self):
        for dockerfile, binary in (("Dockerfile", "bedrockgw"), ("Dockerfile.emulator", "fake-bedrock")):
            with self.subTest(dockerfile=dockerfile):
                listed = runtime_packages(os.path.join(DEPLOY, "container", dockerfile))
                want = needed_packages(os.path.join(BIN, binary)) - {"libc6"}
                self.assertEqual(listed - {"ca-certificates"}, want)

    def test_image_is_non_root_with_a_shell_free_healthcheck(self):
        text = read(os.path.join(DEPLOY, "container", "Dockerfile"))
        self.assertRegex(text, r"(?m)^USER 10001")
        self.assertRegex(text, r'(?m)^HEALTHCHECK .*\n\s*CMD \["/usr/local/bin/bedrockgw", "--probe"')
        self.assertRegex(text, r"(?m)^STOPSIGNAL SIGTERM")
        self.assertRegex(text, r"(?m)^EXPOSE 8080 50051")
        self.assertIn("BGW_DEPS=build ./deploy/install-deps.sh", text)
        ignore = read(os.path.join(ROOT, ".dockerignore")).split()
        self.assertIn(".git", ignore)
        tmp = tempfile.mkdtemp(prefix="bgw-deploy-")
        cfg = json.loads(read(os.path.join(DEPLOY, "config", "container.json")))
        p = check_config(cfg, tmp)
        self.assertEqual(p.returncode, 0, p.stderr)


class Kubernetes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "kubernetes-models")):
            raise AssertionError("run npm ci in tests/deploy (tests/run.sh does)")
        cls.files = sorted(glob.glob(os.path.join(DEPLOY, "k8s", "**", "*.yaml"), recursive=True))

    def validate(self, files):
        p = subprocess.run(["node", os.path.join(NODE_DIR, "validate_k8s.js")] + files,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout.strip().splitlines()[-1])

    def test_manifests_validate_against_the_schemas(self):
        res = self.validate(self.files)
        self.assertTrue(res["ok"], res["errors"])
        kinds = {o["kind"] for o in res["objects"]}
        for k in ("Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler",
                  "ServiceAccount", "NetworkPolicy", "ServiceMonitor", "Namespace"):
            self.assertIn(k, kinds)
        # the validator is not a rubber stamp
        bad = os.path.join(tempfile.mkdtemp(prefix="bgw-k8s-"), "bad.yaml")
        d = yaml.safe_load(read(os.path.join(DEPLOY, "k8s", "base", "deployment.yaml")))
        d["spec"]["replicas"] = "three"
        d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "http"
        with open(bad, "w") as f:
            yaml.safe_dump(d, f)
        self.assertFalse(self.validate([bad])["ok"])

    def test_kustomizations_and_the_configs_they_carry(self):
        tmp = tempfile.mkdtemp(prefix="bgw-k8s-")
        for kfile in glob.glob(os.path.join(DEPLOY, "k8s", "**", "kustomization.yaml"), recursive=True):
            k = yaml.safe_load(read(kfile))
            d = os.path.dirname(kfile)
            for r in k.get("resources", []):
                self.assertTrue(os.path.exists(os.path.join(d, r)), (kfile, r))
            for gen in k.get("configMapGenerator", []) + k.get("secretGenerator", []):
                for f in gen.get("files", []):
                    path = os.path.join(d, f.split("=", 1)[-1])
                    self.assertTrue(os.path.exists(path), (kfile, f))
                    if path.endswith("config.json"):
                        p = check_config(json.loads(read(path)), tmp)
                        self.assertEqual(p.returncode, 0, (path, p.stderr))

    def test_deployment_is_hardened_and_its_timing_matches_the_config(self):
        dep = yaml.safe_load(read(os.path.join(DEPLOY, "k8s", "base", "deployment.yaml")))
        cfg = json.loads(read(os.path.join(DEPLOY, "k8s", "base", "config.json")))
        spec = dep["spec"]["template"]["spec"]
        c = spec["containers"][0]
        self.assertEqual(dep["spec"]["replicas"], 3)
        self.assertTrue(spec["topologySpreadConstraints"])
        self.assertTrue(spec["securityContext"]["runAsNonRoot"])
        self.assertEqual(spec["securityContext"]["seccompProfile"]["type"], "RuntimeDefault")
        self.assertTrue(c["securityContext"]["readOnlyRootFilesystem"])
        self.assertFalse(c["securityContext"]["allowPrivilegeEscalation"])
        self.assertEqual(c["securityContext"]["capabilities"]["drop"], ["ALL"])
        self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/readyz")
        self.assertEqual(c["livenessProbe"]["httpGet"]["path"], "/healthz")
        self.assertEqual(c["startupProbe"]["httpGet"]["path"], "/readyz")
        g = cfg["gateway"]
        self.assertGreater(spec["terminationGracePeriodSeconds"] * 1000,
                           g["shutdown_unready_ms"] + g["shutdown_grace_ms"])
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        self.assertEqual(ports["http"], int(cfg["http"]["listen"].rsplit(":", 1)[1]))
        self.assertEqual(ports["grpc"], int(cfg["grpc"]["listen"].rsplit(":", 1)[1]))
        sa = yaml.safe_load(read(os.path.join(DEPLOY, "k8s", "base", "serviceaccount.yaml")))
        self.assertIn("eks.amazonaws.com/role-arn", sa["metadata"]["annotations"])


class Systemd(unittest.TestCase):
    def test_unit_verifies(self):
        tmp = tempfile.mkdtemp(prefix="bgw-systemd-")
        unit = read(os.path.join(DEPLOY, "systemd", "bedrockgw.service"))
        self.assertIn("Type=notify", unit)
        self.assertIn("ExecReload=/bin/kill -HUP $MAINPID", unit)
        for k in ("ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes",
                  "CapabilityBoundingSet=\n", "MemoryDenyWriteExecute=yes", "DynamicUser=yes",
                  "Restart=on-failure"):
            self.assertIn(k, unit)
        path = os.path.join(tmp, "bedrockgw.service")
        with open(path, "w") as f:  # the binary where the unit expects it is not installed here
            f.write(unit.replace("/usr/local/bin/bedrockgw", os.path.join(BIN, "bedrockgw")))
        p = subprocess.run(["systemd-analyze", "verify", path], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotIn("bedrockgw.service:", p.stdout + p.stderr)

    def test_gateway_notifies_ready_reloading_and_stopping(self):
        tmp = tempfile.mkdtemp(prefix="bgw-notify-")
        sock_path = os.path.join(tmp, "notify.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(sock_path)
        s.settimeout(10)
        fake = Fake(tmp)
        self.addCleanup(fake.stop)
        gw = Gateway(tmp, base_config(fake.url), env_extra={"NOTIFY_SOCKET": sock_path})
        msgs = [s.recv(4096).decode()]
        self.assertTrue(msgs[0].startswith("READY=1"), msgs)
        gw.proc.p.send_signal(signal.SIGHUP)
        msgs += [s.recv(4096).decode(), s.recv(4096).decode()]
        self.assertTrue(msgs[1].startswith("RELOADING=1"), msgs)
        self.assertTrue(msgs[2].startswith("READY=1"), msgs)
        self.assertEqual(gw.stop(), 0)
        msgs.append(s.recv(4096).decode())
        self.assertTrue(msgs[3].startswith("STOPPING=1"), msgs)
        s.close()


class Compose(unittest.TestCase):
    def test_compose_file_parses_and_its_configs_check(self):
        d = os.path.join(DEPLOY, "compose")
        c = yaml.safe_load(read(os.path.join(d, "docker-compose.yml")))
        self.assertEqual(set(c["services"]),
                         {"redis", "emulator", "gateway-1", "gateway-2", "prometheus"})
        for name in ("gateway-1", "gateway-2"):
            svc = c["services"][name]
            self.assertEqual(svc["image"], "bedrockgw")
            self.assertTrue(svc["read_only"])
            for v in svc["volumes"]:
                self.assertTrue(os.path.exists(os.path.join(d, v.split(":")[0])), v)
        for v in c["services"]["prometheus"]["volumes"]:
            self.assertTrue(os.path.exists(os.path.normpath(os.path.join(d, v.split(":")[0]))), v)
        prom = yaml.safe_load(read(os.path.join(d, "prometheus.yml")))
        self.assertEqual(sorted(prom["scrape_configs"][0]["static_configs"][0]["targets"]),
                         ["gateway-1:8080", "gateway-2:8080"])
        cfg = json.loads(read(os.path.join(d, "gateway.json")))
        self.assertTrue(cfg["redis"]["url"].startswith("redis://redis:"))
        p = check_config(cfg, tempfile.mkdtemp(prefix="bgw-compose-"))
        self.assertEqual(p.returncode, 0, p.stderr)


def metric_names(exposition):
    names = set()
    for line in exposition.splitlines():
        if line and not line.startswith("#"):
            n = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
            names.add(n)
            names.add(re.sub(r"_(bucket|sum|count)$", "", n))
    return names


def used_metrics(text):
    return set(re.findall(r"\b(bedrockgw_[a-z0-9_]+)", text))


class Monitoring(unittest.TestCase):
    """A gateway with everything the rules speak of switched on: expiring
    (container) credentials, a TLS listener, a real Redis."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="bgw-mon-")
        cls.fake = Fake(cls.tmp)
        cls.aws = aws_fakes.FakeAws(cls.tmp, bedrock_url=cls.fake.url, duration_s=3600)
        cls.redis = redisutil.RedisServer(cls.tmp)
        certs = os.path.join(cls.tmp, "certs")
        os.makedirs(certs)
        tlsutil.make_ca(certs)
        crt, key = tlsutil.make_cert(certs, "server", "gateway.test")
        cfg = base_config(cls.fake.url, grpc={"listen": "127.0.0.1:0",
                                              "tls": {"cert_file": crt, "key_file": key}})
        cfg["tokens"] = {"secret": "monitoring-test-secret-0123456789abcdef"}
        cfg["redis"] = {"url": cls.redis.url}
        cls.gw = Gateway(cls.tmp, cfg, creds=False,
                         env_extra={"AWS_CONTAINER_CREDENTIALS_FULL_URI": cls.aws.url + "/container/creds"})

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()
        cls.redis.stop()
        cls.aws.stop()
        cls.fake.stop()

    def live_metrics(self):
        for _ in range(3):
            st, _, _ = self.gw.rest({"maxResults": 2})
            self.assertEqual(st, 200)
        deadline = time.time() + 10
        while True:
            st, _, body = self.gw.rest(path="/metrics", key=None)
            text = body.decode() if isinstance(body, bytes) else body
            if "bedrockgw_redis_up 1" in text or time.time() > deadline:
                return text
            time.sleep(0.1)

    def test_rules_and_dashboard_use_only_live_metrics(self):
        text = self.live_metrics()
        p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        live = metric_names(text)
        rules = os.path.join(DEPLOY, "monitoring", "alerts.yml")
        p = subprocess.run(["promtool", "check", "rules", rules], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        dash = read(os.path.join(DEPLOY, "monitoring", "grafana-dashboard.json"))
        json.loads(dash)
        for what, used in (("alerts.yml", used_metrics(read(rules))),
                           ("grafana-dashboard.json", used_metrics(dash))):
            self.assertTrue(used)
            self.assertEqual(used - live, set(), "%s uses metrics /metrics does not have" % what)
        for m in ("bedrockgw_request_duration_seconds", "bedrockgw_upstream_breaker_state",
                  "bedrockgw_credentials_expiry_seconds", "bedrockgw_redis_up",
                  "bedrockgw_tenant_requests_total", "bedrockgw_tls_certificate_expiry_seconds"):
            self.assertIn(m, live)
        self.assertRegex(text, r'bedrockgw_tenant_requests_total\{tenant="team-a",code="OK"\} [1-9]')
        exp = float(re.search(r"^bedrockgw_credentials_expiry_seconds (\S+)$", text, re.M).group(1))
        self.assertTrue(3000 < exp <= 3600, exp)

    def test_probe(self):
        bgw = os.path.join(BIN, "bedrockgw")
        ok = subprocess.run([bgw, "--probe", "http://127.0.0.1:%d/readyz" % self.gw.http_port],
                            capture_output=True, text=True, timeout=10)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        ok = subprocess.run([bgw, "--probe", "grpcs://127.0.0.1:%d" % self.gw.grpc_port, "--insecure"],
                            capture_output=True, text=True, timeout=10)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        bad = subprocess.run([bgw, "--probe", "grpcs://127.0.0.1:%d" % self.gw.grpc_port],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(bad.returncode, 1, "the test CA is not trusted")
        bad = subprocess.run([bgw, "--probe", "grpc://127.0.0.1:%d" % harness.free_port()],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(bad.returncode, 1)
        bad = subprocess.run([bgw, "--probe", "http://127.0.0.1:%d/nowhere" % self.gw.http_port],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(bad.returncode, 1)
        use = subprocess.run([bgw, "--probe", "ftp://x"], capture_output=True, text=True, timeout=10)
        self.assertEqual(use.returncode, 2)


class ProbeNotReady(unittest.TestCase):
    def test_probe_fails_while_the_gateway_is_not_ready(self):
        tmp = tempfile.mkdtemp(prefix="bgw-probe-")
        fake = Fake(tmp)
        self.addCleanup(fake.stop)
        cfg = base_config(fake.url, gateway={"shutdown_unready_ms": 3000, "shutdown_grace_ms": 3000})
        gw = Gateway(tmp, cfg)
        bgw = os.path.join(BIN, "bedrockgw")
        self.assertEqual(subprocess.run([bgw, "--probe", "grpc://127.0.0.1:%d" % gw.grpc_port],
                                        capture_output=True, timeout=10).returncode, 0)
        gw.send_signal(signal.SIGTERM)  # unready for 3 s, still listening
        time.sleep(0.3)
        for url in ("http://127.0.0.1:%d/readyz" % gw.http_port, "grpc://127.0.0.1:%d" % gw.grpc_port):
            p = subprocess.run([bgw, "--probe", url], capture_output=True, text=True, timeout=10)
            self.assertEqual(p.returncode, 1, (url, p.stdout))
        self.assertEqual(gw.stop(), 0)


if __name__ == "__main__":
    unittest.main()
