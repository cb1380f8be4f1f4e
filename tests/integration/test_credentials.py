"""The AWS credential provider chain against fake STS / IMDS / container
endpoints (tests/fake_aws) and the Bedrock emulator, which accepts what the
fakes issue: each provider alone, precedence, a profile role chain,
credential_source (Environment, Ec2InstanceMetadata, EcsContainer) and
web_identity_token_file in a profile,
web-identity token rotation, expiry-driven background refresh, static
stability when refresh fails, and the forced refresh after an expired-token
403. Secrets never reach the gateway's log."""
import os
import time
import unittest

import grpc

from aws_fakes import FakeAws
from harness import AKID, SECRET, GatewayTestCase, pb

SOURCE_AKID = "AKIDSOURCEPROFILE001"
SOURCE_SECRET = "source-profile-secret/abc+123"


def akid_of(r):
    return r["headers"]["authorization"].split("Credential=", 1)[1].split("/", 1)[0]


class Credentials(GatewayTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.aws = FakeAws(cls.tmp, bedrock_url=cls.fake.url, source_key=SOURCE_AKID,
                          container_token="container-auth-token-xyz")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.aws.stop()
        finally:
            super().tearDownClass()

    def home(self):
        d = os.path.join(self.tmp, "home-%s" % self._testMethodName)
        os.makedirs(os.path.join(d, ".aws"), exist_ok=True)
        return d

    def start(self, env, **over):
        env = dict(env)
        env.setdefault("HOME", self.home())
        env.setdefault("AWS_EC2_METADATA_DISABLED", "true")
        secrets = (SOURCE_SECRET, "container-auth-token-xyz")
        g = self.start_gateway(creds=False, env_extra=env, secrets=secrets, **over)
        self.addCleanup(self.check_no_secrets, g)
        return g

    def check_no_secrets(self, g):
        log = g.proc.text()
        for s in self.aws.secrets():
            self.assertNotIn(s, log, "a secret issued by the fake reached the gateway log")

    def source(self, g):
        ev = g.proc.log_events("credentials")
        self.assertEqual(len(ev), 1, g.proc.text()[-2000:])
        return ev[0]["source"]

    def ok_call(self, g):
        st, h, body = g.rest({"maxResults": 2})
        self.assertEqual(st, 200, (body, g.proc.text()[-3000:]))
        return akid_of(self.fake.api_requests()[-1])

    # -- each provider alone ------------------------------------------------
    def test_environment(self):
        g = self.start({"AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET})
        self.assertEqual(self.source(g), "environment")
        self.assertEqual(self.ok_call(g), AKID)

    def test_explicit_config_wins_over_environment(self):
        g = self.start({"AWS_ACCESS_KEY_ID": "AKIDWRONGWRONG", "AWS_SECRET_ACCESS_KEY": "wrong"},
                    credentials={"access_key_id": AKID, "secret_access_key": SECRET})
        self.assertEqual(self.source(g), "config")
        self.assertEqual(self.ok_call(g), AKID)

    def test_environment_wins_over_profile(self):
        home = self.home()
        with open(os.path.join(home, ".aws", "credentials"), "w") as f:
            f.write("[default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = nope\n")
        g = self.start({"HOME": home, "AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET})
        self.assertEqual(self.source(g), "environment")

    def test_profile_static_keys(self):
        home = self.home()
        with open(os.path.join(home, ".aws", "credentials"), "w") as f:
            f.write("[default]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = x\n\n"
                    "# the one we use\n[dev]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (AKID, SECRET))
        g = self.start({"HOME": home, "AWS_PROFILE": "dev"})
        self.assertEqual(self.source(g), "profile")
        self.assertEqual(self.ok_call(g), AKID)

    def test_profile_assume_role_chain(self):
        home = self.home()
        cfg = os.path.join(home, "aws-config")
        with open(cfg, "w") as f:
            f.write("[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\n"
                    "source_profile = middle\nrole_session_name = gw-app\nexternal_id = ext-1\n\n"
                    "[profile middle]\nrole_arn = arn:aws:iam::123456789012:role/middle\n"
                    "source_profile = base\n")
        with open(os.path.join(home, ".aws", "credentials"), "w") as f:
            f.write("[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (SOURCE_AKID, SOURCE_SECRET))
        n0 = len(self.aws.calls("sts"))
        g = self.start({"HOME": home, "AWS_CONFIG_FILE": cfg, "AWS_PROFILE": "app",
                     "AWS_ENDPOINT_URL_STS": self.aws.url})
        self.assertEqual(self.source(g), "assume_role")
        used = self.ok_call(g)
        calls = [c for c in self.aws.calls("sts")[n0:] if "action" in c]
        self.assertEqual([c["role_arn"] for c in calls],
                         ["arn:aws:iam::123456789012:role/middle", "arn:aws:iam::123456789012:role/app"])
        self.assertEqual(calls[0]["signer"], SOURCE_AKID)
        self.assertTrue(calls[0]["signed_service"])
        self.assertEqual(calls[1]["session_name"], "gw-app")
        self.assertEqual(calls[1]["external_id"], "ext-1")
        issued = [c["issued"] for c in self.aws.calls("sts")[n0:] if "issued" in c]
        self.assertEqual(calls[1]["signer"], issued[0])  # the middle role's key signs the next hop
        self.assertEqual(used, issued[1])

    # -- credential_source / web_identity_token_file in profiles ---------------
    def role_profile(self, home, body):
        cfg = os.path.join(home, "aws-config")
        with open(cfg, "w") as f:
            f.write("[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\n"
                    "role_session_name = gw-src\n" + body)
        return cfg

    def assert_assumed_from(self, g, n0, source_service, source_key=None):
        """One AssumeRole, signed with the source's key (issued by
        source_service, or source_key); Bedrock saw the assumed role's key."""
        used = self.ok_call(g)
        calls = self.aws.calls()[n0:]
        sts = [c for c in calls if c.get("service") == "sts" and c.get("action")]
        self.assertEqual([c["action"] for c in sts], ["AssumeRole"])
        self.assertEqual(sts[0]["role_arn"], "arn:aws:iam::123456789012:role/app")
        self.assertEqual(sts[0]["session_name"], "gw-src")
        self.assertTrue(sts[0]["signed_service"])
        if source_key is None:
            src = [c["issued"] for c in calls if c.get("service") == source_service and "issued" in c]
            self.assertEqual(len(src), 1, calls)
            source_key = src[0]
        self.assertEqual(sts[0]["signer"], source_key)
        assumed = [c["issued"] for c in calls if c.get("service") == "sts" and "issued" in c]
        self.assertEqual(len(assumed), 1)
        self.assertEqual(used, assumed[0])
        self.assertNotEqual(used, source_key)
        # every upstream request was signed with the assumed role's key
        self.assertTrue(all(akid_of(r) == assumed[0] for r in self.fake.api_requests()))
        return used

    def test_profile_credential_source_ec2_instance_metadata(self):
        home = self.home()
        cfg = self.role_profile(home, "credential_source = Ec2InstanceMetadata\n")
        n0 = len(self.aws.calls())
        self.fake.reset()
        g = self.start({"HOME": home, "AWS_CONFIG_FILE": cfg, "AWS_PROFILE": "app",
                        "AWS_EC2_METADATA_DISABLED": "false",
                        "AWS_EC2_METADATA_SERVICE_ENDPOINT": self.aws.url,
                        "AWS_ENDPOINT_URL_STS": self.aws.url})
        self.assertEqual(self.source(g), "assume_role")
        self.assertIn("Ec2InstanceMetadata", g.proc.log_events("credentials")[0]["detail"])
        self.assert_assumed_from(g, n0, "imds")
        imds = [c for c in self.aws.calls()[n0:] if c.get("service") == "imds"]
        self.assertIn("token", [c.get("action") for c in imds])
        self.assertTrue(all(c["token_ok"] for c in imds if c.get("action") == "get"))

    def test_profile_credential_source_refresh(self):
        """Each background refresh fetches the base again (IMDS) and assumes
        the role with it; no client call fails meanwhile."""
        home = self.home()
        cfg = self.role_profile(home, "credential_source = Ec2InstanceMetadata\n")
        self.aws.configure(duration_s=4)
        self.addCleanup(self.aws.configure, duration_s=3600)
        n0 = len(self.aws.calls())
        g = self.start({"HOME": home, "AWS_CONFIG_FILE": cfg, "AWS_PROFILE": "app",
                        "AWS_EC2_METADATA_DISABLED": "false",
                        "AWS_EC2_METADATA_SERVICE_ENDPOINT": self.aws.url,
                        "AWS_ENDPOINT_URL_STS": self.aws.url},
                       credentials={"refresh_margin_ms": 2500, "refresh_jitter_ms": 200})
        seen = {self.ok_call(g)}
        deadline = time.time() + 8
        while len(seen) < 3 and time.time() < deadline:
            seen.add(self.ok_call(g))
            time.sleep(0.2)
        self.assertGreaterEqual(len(seen), 3, "credentials were not refreshed before expiry")
        calls = self.aws.calls()[n0:]
        imds_keys = [c["issued"] for c in calls if c.get("service") == "imds" and "issued" in c]
        sts = [c for c in calls if c.get("service") == "sts" and c.get("action")]
        self.assertGreaterEqual(len(sts), 3)
        self.assertEqual([c["signer"] for c in sts], imds_keys[:len(sts)])

    def test_profile_credential_source_ecs_container(self):
        home = self.home()
        cfg = self.role_profile(home, "credential_source = EcsContainer\n")
        n0 = len(self.aws.calls())
        self.fake.reset()
        g = self.start({"HOME": home, "AWS_CONFIG_FILE": cfg, "AWS_PROFILE": "app",
                        "AWS_CONTAINER_CREDENTIALS_FULL_URI": self.aws.url + "/container/creds",
                        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-auth-token-xyz",
                        "AWS_ENDPOINT_URL_STS": self.aws.url})
        self.assertEqual(self.source(g), "assume_role")
        self.assert_assumed_from(g, n0, "container")
        self.assertTrue(all(c["authorization_ok"] for c in self.aws.calls("container")[-2:]
                            if "authorization_ok" in c))

    def test_profile_credential_source_environment(self):
        """The environment keys are the role's source, not the gateway's
        credentials: the named profile takes precedence over them."""
        home = self.home()
        cfg = self.role_profile(home, "credential_source = Environment\n")
        n0 = len(self.aws.calls())
        self.fake.reset()
        g = self.start({"HOME": home, "AWS_CONFIG_FILE": cfg, "AWS_PROFILE": "app",
                        "AWS_ACCESS_KEY_ID": SOURCE_AKID, "AWS_SECRET_ACCESS_KEY": SOURCE_SECRET,
                        "AWS_ENDPOINT_URL_STS": self.aws.url})
        self.assertEqual(self.source(g), "assume_role")
        self.assert_assumed_from(g, n0, None, source_key=SOURCE_AKID)

    def test_profile_web_identity_token_file(self):
        home = self.home()
        tf = os.path.join(home, "profile-web-token")
        with open(tf, "w") as f:
            f.write("profile-web-token-1\n")
        cfg = self.role_profile(home, "web_identity_token_file = %s\n" % tf)
        n0 = len(self.aws.calls("sts"))
        g = self.start({"HOME": home, "AWS_CONFIG_FILE": cfg, "AWS_PROFILE": "app",
                        "AWS_ENDPOINT_URL_STS": self.aws.url})
        self.assertEqual(self.source(g), "web_identity")
        used = self.ok_call(g)
        calls = [c for c in self.aws.calls("sts")[n0:] if c.get("action")]
        self.assertEqual([c["action"] for c in calls], ["AssumeRoleWithWebIdentity"])
        self.assertEqual(calls[0]["web_identity_token"], "profile-web-token-1")
        self.assertEqual(calls[0]["session_name"], "gw-src")
        self.assertIsNone(calls[0]["signer"])
        self.assertEqual(used, [c["issued"] for c in self.aws.calls("sts")[n0:] if "issued" in c][0])

    def test_profile_credential_source_errors(self):
        from harness import Gateway, base_config
        import tempfile
        cases = [
            ("source_profile = base\ncredential_source = Environment\n",
             ['"app"', "source_profile", "credential_source"]),
            ("credential_source = Ec2Metadata\n",
             ['"app"', 'credential_source "Ec2Metadata"', "Ec2InstanceMetadata"]),
            ("credential_source = EcsContainer\n",
             ['"app"', "EcsContainer", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]),
        ]
        for body, words in cases:
            with self.subTest(body=body):
                home = self.home()
                cfg = self.role_profile(home, body)
                d = tempfile.mkdtemp(dir=self.tmp)
                with self.assertRaises(RuntimeError) as cm:
                    Gateway(d, base_config(self.fake.url), creds=False,
                            env_extra={"HOME": home, "AWS_CONFIG_FILE": cfg, "AWS_PROFILE": "app",
                                       "AWS_EC2_METADATA_DISABLED": "true"})
                # the start failure is a JSON event: read its error text
                text = str(cm.exception).replace('\\"', '"')
                for w in words:
                    self.assertIn(w, text)

    def test_container_full_uri_with_token_file(self):
        tf = os.path.join(self.home(), "container-token")
        with open(tf, "w") as f:
            f.write("container-auth-token-xyz\n")
        g = self.start({"AWS_CONTAINER_CREDENTIALS_FULL_URI": self.aws.url + "/container/creds",
                     "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tf})
        self.assertEqual(self.source(g), "container")
        used = self.ok_call(g)
        self.assertEqual(used, self.aws.issued()[-1])
        self.assertTrue(self.aws.calls("container")[-2]["authorization_ok"])

    def test_container_relative_uri(self):
        g = self.start({"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/container/creds",
                     "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-auth-token-xyz"},
                    credentials={"container_host": self.aws.url})
        self.assertEqual(self.source(g), "container")
        self.assertEqual(self.ok_call(g), self.aws.issued()[-1])

    def test_imds_v2(self):
        g = self.start({"AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": self.aws.url})
        self.assertEqual(self.source(g), "imds")
        self.assertEqual(self.ok_call(g), self.aws.issued()[-1])
        imds = self.aws.calls("imds")
        self.assertIn("token", [c.get("action") for c in imds])
        self.assertTrue(all(c["token_ok"] for c in imds if c.get("action") == "get"))

    def test_web_identity_rotation_and_background_refresh(self):
        """Short-lived credentials are refreshed in the background: the key id
        the emulator sees changes while no client call fails, and each
        refresh reads the (rotated) token file again."""
        tf = os.path.join(self.home(), "web-token")
        with open(tf, "w") as f:
            f.write("web-token-one")
        self.aws.configure(duration_s=4)
        self.addCleanup(self.aws.configure, duration_s=3600)
        n0 = len(self.aws.calls("sts"))
        g = self.start({"AWS_WEB_IDENTITY_TOKEN_FILE": tf, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/web",
                     "AWS_ROLE_SESSION_NAME": "irsa", "AWS_ENDPOINT_URL_STS": self.aws.url},
                    credentials={"refresh_margin_ms": 2500, "refresh_jitter_ms": 200})
        self.assertEqual(self.source(g), "web_identity")
        first = self.ok_call(g)
        with open(tf, "w") as f:
            f.write("web-token-two")
        seen = {first}
        deadline = time.time() + 8
        while len(seen) < 3 and time.time() < deadline:
            seen.add(self.ok_call(g))  # every call succeeds
            time.sleep(0.2)
        self.assertGreaterEqual(len(seen), 3, "credentials were not refreshed before expiry")
        calls = [c for c in self.aws.calls("sts")[n0:] if c.get("action")]
        self.assertEqual(calls[0]["web_identity_token"], "web-token-one")
        self.assertEqual(calls[-1]["web_identity_token"], "web-token-two")
        self.assertEqual(calls[0]["session_name"], "irsa")
        self.assertIsNone(calls[0]["signer"])  # AssumeRoleWithWebIdentity is unsigned
        self.assertTrue(all(r["status"] == 200 for r in self.fake.api_requests()))
        self.assertGreaterEqual(len(g.proc.log_events("credentials_refreshed")), 3)

    def test_calls_before_the_first_credentials_wait_for_them(self):
        """The listeners accept only once the first credentials are in hand:
        calls made right after start (STS answering 1 s late) wait in the
        backlog and succeed, instead of 503."""
        import json
        import subprocess
        import threading
        from harness import BIN, KEYS, base_config, free_port
        tf = os.path.join(self.home(), "web-token")
        with open(tf, "w") as f:
            f.write("web-token-slow")
        self.aws.configure(delay_ms=1000)
        self.addCleanup(self.aws.configure, delay_ms=0)
        gport, hport = free_port(), free_port()
        cfg = base_config(self.fake.url, grpc={"listen": "127.0.0.1:%d" % gport},
                          http={"listen": "127.0.0.1:%d" % hport}, cache={"enabled": True})
        d = os.path.join(self.home(), "early")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "gw.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"HOME": self.home(), "AWS_EC2_METADATA_DISABLED": "true",
                    "AWS_WEB_IDENTITY_TOKEN_FILE": tf,
                    "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/web",
                    "AWS_ENDPOINT_URL_STS": self.aws.url, "GRPC_DNS_RESOLVER": "native"})
        log = open(os.path.join(d, "gw.log"), "wb")
        p = subprocess.Popen([os.path.join(BIN, "bedrockgw"), "--config", path], env=env,
                             stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: (p.poll() is None and p.terminate(), p.wait(10), log.close()))
        # bound as soon as the process is up: connect and call at once
        deadline = time.time() + 5
        while True:
            try:
                import socket
                socket.create_connection(("127.0.0.1", hport), timeout=0.2).close()
                break
            except OSError:
                self.assertLess(time.time(), deadline, "the REST port never opened")
                time.sleep(0.01)
        t0 = time.time()
        results = {}

        def rest():
            import http.client
            c = http.client.HTTPConnection("127.0.0.1", hport, timeout=10)
            c.request("GET", "/v1/model-import-jobs?maxResults=2", headers={"x-api-key": KEYS["team-a"]})
            r = c.getresponse()
            results["rest"] = (r.status, r.read())
            c.close()

        def grpc_call():
            ch = grpc.insecure_channel("127.0.0.1:%d" % gport)
            rpc = ch.unary_unary("/bedrockgw.v1.ModelImportJobs/ListModelImportJobs",
                                 request_serializer=pb.ListModelImportJobsRequest.SerializeToString,
                                 response_deserializer=pb.ListModelImportJobsResponse.FromString)
            try:
                resp = rpc(pb.ListModelImportJobsRequest(max_results=2), timeout=10,
                           metadata=[("authorization", "Bearer " + KEYS["team-a"])])
                results["grpc"] = len(resp.model_import_job_summaries)
            except grpc.RpcError as e:
                results["grpc"] = e.code()
            ch.close()
        ts = [threading.Thread(target=rest), threading.Thread(target=grpc_call)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(15)
        self.assertEqual(results["rest"][0], 200, results)
        self.assertEqual(results["grpc"], 2, results)
        self.assertGreater(time.time() - t0, 0.7, "the calls should have waited for STS")
        with open(os.path.join(d, "gw.log")) as f:
            text = f.read()
        self.assertNotIn("not available yet", text)

    def test_refresh_failure_keeps_credentials_until_expiry(self):
        tf = os.path.join(self.home(), "web-token")
        with open(tf, "w") as f:
            f.write("web-token-static")
        self.aws.configure(duration_s=5)
        self.addCleanup(self.aws.configure, duration_s=3600, fail=0)
        g = self.start({"AWS_WEB_IDENTITY_TOKEN_FILE": tf, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/web",
                     "AWS_ENDPOINT_URL_STS": self.aws.url},
                    credentials={"refresh_margin_ms": 4000, "refresh_jitter_ms": 0,
                                 "retry_base_ms": 300, "retry_max_ms": 600})
        first = self.ok_call(g)
        t_issued = time.time()
        self.aws.configure(fail=1000)
        # Refresh starts ~1 s in and fails; the current key keeps working.
        time.sleep(2.0)
        self.assertEqual(self.ok_call(g), first)
        self.assertTrue(g.proc.log_events("credentials_refresh_failed"))
        st, _, _ = g.rest(path="/readyz", key=None)
        self.assertEqual(st, 200)
        # After the real expiry: unavailable, and not ready.
        time.sleep(max(0, t_issued + 5.6 - time.time()))
        st, h, body = g.rest({"maxResults": 2})
        self.assertEqual(st, 503, body)
        self.assertIn("credentials", body["message"])
        time.sleep(0.4)
        st, _, body = g.rest(path="/readyz", key=None)
        self.assertEqual(st, 503, body)
        # STS recovers: the retry picks up new credentials.
        self.aws.configure(fail=0)
        deadline = time.time() + 5
        while True:
            st, _, _ = g.rest(path="/readyz", key=None)
            if st == 200:
                break
            self.assertLess(time.time(), deadline, "did not recover")
            time.sleep(0.1)
        self.assertNotEqual(self.ok_call(g), first)

    def test_forced_refresh_on_expired_token(self):
        tf = os.path.join(self.home(), "web-token")
        with open(tf, "w") as f:
            f.write("web-token-forced")
        g = self.start({"AWS_WEB_IDENTITY_TOKEN_FILE": tf, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/web",
                     "AWS_ENDPOINT_URL_STS": self.aws.url})
        first = self.ok_call(g)
        self.fake.reset()
        self.fake._call("POST", "/_fake/credentials", {"access_key_id": first, "expired": True})
        st, h, body = g.rest({"maxResults": 2})
        self.assertEqual(st, 200, body)
        reqs = self.fake.api_requests()
        self.assertEqual([r["status"] for r in reqs], [403, 200])
        self.assertEqual(akid_of(reqs[0]), first)
        self.assertNotEqual(akid_of(reqs[1]), first)
        # A gRPC call afterwards uses the new key directly.
        resp, _ = g.grpc(pb.ListModelImportJobsRequest(max_results=1))
        self.assertEqual(len(self.fake.api_requests()), 3)

    def test_forced_refresh_at_most_once_per_interval(self):
        """Every key rejected as expired (a skewed clock, a revoked role):
        one forced refresh, then none for 5 s, however many requests fail,
        instead of one STS call per request."""
        tf = os.path.join(self.home(), "web-token")
        with open(tf, "w") as f:
            f.write("web-token-reject")
        g = self.start({"AWS_WEB_IDENTITY_TOKEN_FILE": tf, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/web",
                     "AWS_ENDPOINT_URL_STS": self.aws.url})
        first = self.ok_call(g)
        n_sts = len([c for c in self.aws.calls("sts") if c.get("action")])
        # 1st request: 403, forced refresh, 403 again (2 faults); the next
        # five: 403 and no refresh (1 each); after the interval: 2 more.
        self.fake.fault("expired_token", count=9)
        t0 = time.time()
        for _ in range(6):
            st, _, body = g.rest({"maxResults": 2})
            self.assertNotEqual(st, 200, body)
        self.assertLess(time.time() - t0, 4.5, "too slow to test the interval")
        sts = [c for c in self.aws.calls("sts") if c.get("action")]
        self.assertEqual(len(sts), n_sts + 1)
        # six rejections: five lines, the rest counted (log_event_limited)
        rej = g.proc.log_events("credentials_rejected")
        self.assertEqual(len(rej), 5)
        time.sleep(max(0, t0 + 5.3 - time.time()))
        st, _, body = g.rest({"maxResults": 2})
        self.assertNotEqual(st, 200, body)
        self.assertEqual(len([c for c in self.aws.calls("sts") if c.get("action")]), n_sts + 2)
        second = self.ok_call(g)  # faults used up: the refreshed key works
        self.assertNotEqual(second, first)

    def direct_hits(self, g):
        """gRPC answers sent from a fresh entry's stored view (audit lines)."""
        time.sleep(0.05)
        return len([e for e in g.access_events()
                    if e.get("transport") == "grpc" and e.get("cache") == "hit" and e.get("view")])

    def test_cached_answers_follow_credential_rotation_and_expiry(self):
        """The cache key holds the credential principal. gRPC repeats answered
        from stored views must notice a refresh (new key id: a new upstream
        read, signed with it) and an expiry (no cached answer without usable
        credentials)."""
        tf = os.path.join(self.home(), "web-token")
        with open(tf, "w") as f:
            f.write("web-token-cache")
        self.aws.configure(duration_s=4)
        self.addCleanup(self.aws.configure, duration_s=3600, fail=0)
        g = self.start({"AWS_WEB_IDENTITY_TOKEN_FILE": tf, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/web",
                     "AWS_ENDPOINT_URL_STS": self.aws.url},
                    credentials={"refresh_margin_ms": 2500, "refresh_jitter_ms": 0,
                                 "retry_base_ms": 200, "retry_max_ms": 400},
                    cache={"enabled": True, "ttl_ms": 3600000, "swr_ms": 0, "sie_ms": 0})
        req = pb.ListModelImportJobsRequest(max_results=2)
        g.grpc(req)
        first = akid_of(self.fake.api_requests()[-1])
        _, call = g.grpc(req)
        self.assertIn(("x-cache", "hit"), call.trailing_metadata())
        self.assertEqual(self.direct_hits(g), 1)
        # Only gRPC repeats from now on: the refresh (~1.5 s in) must still
        # lead to a new upstream read with the new key id.
        deadline = time.time() + 6
        while akid_of(self.fake.api_requests()[-1]) == first:
            self.assertLess(time.time(), deadline, "answers stayed on the old principal's entry")
            g.grpc(req)
            time.sleep(0.1)
        second = akid_of(self.fake.api_requests()[-1])
        n = len(self.fake.api_requests())
        g.grpc(req)  # renders the view under the new identity, if the read above did not
        before = self.direct_hits(g)
        _, call = g.grpc(req)
        self.assertIn(("x-cache", "hit"), call.trailing_metadata())
        self.assertEqual(self.direct_hits(g), before + 1)
        self.assertLessEqual(len(self.fake.api_requests()), n + 1)
        # STS fails from now on: once the credentials expire, no cached answer.
        self.aws.configure(fail=1000)
        deadline = time.time() + 8
        while True:
            try:
                g.grpc(req)
            except grpc.RpcError as e:
                self.assertEqual(e.code(), grpc.StatusCode.UNAVAILABLE)
                self.assertIn("credentials", e.details())
                break
            self.assertLess(time.time(), deadline, "cached answers outlived the credentials")
            time.sleep(0.1)
        self.assertEqual(akid_of(self.fake.api_requests()[-1]), second)

    def test_no_source_fails_at_startup(self):
        from harness import Gateway, base_config
        import tempfile
        d = tempfile.mkdtemp(dir=self.tmp)
        with self.assertRaises(RuntimeError) as cm:
            Gateway(d, base_config(self.fake.url), creds=False,
                    env_extra={"HOME": self.home(), "AWS_EC2_METADATA_DISABLED": "true"})
        self.assertIn("no AWS credentials", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
