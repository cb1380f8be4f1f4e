"""The fake AWS credential endpoints (tests/fake_aws/fake_aws.py: STS, IMDS,
container) as a test fixture, wired to register what it issues with the
Bedrock emulator."""
import http.client
import json
import os

from harness import Proc

FAKE_AWS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fake_aws", "fake_aws.py")


class FakeAws:
    def __init__(self, tmp, bedrock_url=None, source_key=None, container_token=None, duration_s=3600):
        argv = ["/usr/bin/python3", FAKE_AWS, "--duration-s", str(duration_s)]
        if bedrock_url:
            argv += ["--bedrock-control", bedrock_url]
        if source_key:
            argv += ["--source-key", source_key]
        if container_token is not None:
            argv += ["--container-token", container_token]
        self.proc = Proc(argv, dict(os.environ), os.path.join(tmp, "fake-aws-%d.log" % id(self)))
        self.port = self.proc.ready["port"]
        self.url = "http://127.0.0.1:%d" % self.port

    def _call(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request(method, path, body=json.dumps(body).encode() if body is not None else None)
        r = c.getresponse()
        data = r.read()
        c.close()
        return json.loads(data)

    def calls(self, service=None):
        cs = self._call("GET", "/_control/calls")["calls"]
        return [c for c in cs if service is None or c.get("service") == service]

    def issued(self):
        return [c["issued"] for c in self.calls() if "issued" in c]

    def secrets(self):
        return self._call("GET", "/_control/secrets")["secrets"]

    def configure(self, **kw):
        self._call("POST", "/_control/config", kw)

    def stop(self):
        return self.proc.stop()
