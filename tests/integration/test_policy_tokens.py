"""Gateway page tokens: opaque, authenticated and bound. Tampering (every
character, every byte region), replay by another tenant, changed filters,
expiry and garbage all give INVALID_ARGUMENT / 400 naming nextToken with
nothing sent to Bedrock; a changed maxResults is fine; the previous secret
is still accepted after a rotation; secrets come from a file or the
environment and never reach the log."""
import base64
import os
import time
import unittest

import grpc

from harness import GatewayTestCase, KEYS, base_config, pb
from policyutil import PREVIOUS, SECRET, Walker, grpc_request

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64d(t):
    return base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class Tokens(GatewayTestCase):
    fake_args = {"generate": 120, "seed": 5}
    config_over = {"tokens": {"secret": SECRET, "ttl_s": 600}}

    def first_token(self, filters=None, key="team-a", gw=None):
        got, tok = Walker(self, gw or self.gw, key).page("rest", dict(filters or {"maxResults": 3}))
        self.assertTrue(tok)
        return tok

    def assertRejected(self, token, filters=None, key="team-a", gw=None, transports=("rest", "grpc"),
                       message=None):
        gw = gw or self.gw
        filters = dict(filters or {"maxResults": 3})
        for transport in transports:
            self.fake.reset()
            if transport == "rest":
                q = dict(filters)
                q["nextToken"] = token
                st, h, body = gw.rest(q, key=key)
                self.assertStatusError(st, body, 400, 3, field="nextToken")
                if message:
                    self.assertIn(message, body["message"])
            else:
                with self.assertRaises(grpc.RpcError) as cm:
                    gw.grpc(grpc_request(filters, token), key=key)
                self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
                self.assertIn("nextToken", cm.exception.details())
            self.assertNoUpstream()

    def test_token_is_opaque(self):
        tok = self.first_token()
        self.assertRegex(tok, r"^[A-Za-z0-9_-]+$")
        up = self.fake.api_requests()
        self.fake.reset()
        got, tok2 = Walker(self, self.gw, "team-a").page("rest", {"maxResults": 3}, tok)
        upstream_tok = self.fake.api_requests()[0]["query"]["nextToken"]
        # Bedrock's token is nowhere in ours, not even base64-decoded.
        self.assertNotIn(upstream_tok, tok)
        self.assertNotIn(upstream_tok.encode(), b64d(tok))
        self.assertNotIn(b64d(upstream_tok)[:20], b64d(tok))
        self.assertTrue(up)

    def test_tampering_every_character(self):
        tok = self.first_token()
        for i in range(len(tok)):
            c = tok[i]
            repl = B64[(B64.index(c) + 1 + i % 63) % 64]
            bad = tok[:i] + repl + tok[i + 1:]
            with self.subTest(position=i):
                self.assertRejected(bad, transports=("rest",) if i % 8 else ("rest", "grpc"))

    def test_tampering_every_byte_region(self):
        tok = self.first_token()
        raw = bytearray(b64d(tok))
        # version | iv (16) | expiry (8) | position (4) | cursor | mac (32)
        regions = {"version": [0], "iv": [1, 8, 16], "expiry": [17, 24], "position": [25, 28],
                   "cursor": [29, len(raw) // 2, len(raw) - 33], "mac": [len(raw) - 32, len(raw) - 1]}
        for region, offsets in regions.items():
            for off in offsets:
                for bit in (0, 7):
                    with self.subTest(region=region, offset=off, bit=bit):
                        b = bytearray(raw)
                        b[off] ^= 1 << bit
                        self.assertRejected(b64e(bytes(b)), transports=("rest",))
        for bad in (b64e(bytes(raw[:-1])), b64e(bytes(raw) + b"\0"), b64e(bytes(raw[:40])), tok + "A",
                    tok[:-1], tok + "=", tok.replace("-", "+").replace("_", "/")):
            if bad != tok:
                with self.subTest(bad=bad[-12:]):
                    self.assertRejected(bad)

    def test_garbage(self):
        for bad in ("x", "abc", "AAAA", "!!!!", "t" * 2048, "%00", "null", "djF8Uw"):
            with self.subTest(bad=bad[:16]):
                self.assertRejected(bad)

    def test_replay_by_another_tenant(self):
        tok = self.first_token(key="team-a")
        self.assertRejected(tok, key="team-b")
        # The owner can still use it.
        self.fake.reset()
        got, _ = Walker(self, self.gw, "team-a").page("grpc", {"maxResults": 3}, tok)
        self.assertEqual(len(got), 3)

    def test_filters_are_bound(self):
        base = {"maxResults": 3, "statusEquals": "Completed", "sortOrder": "Ascending"}
        tok = self.first_token(base)
        for change in ({"statusEquals": "Failed"}, {"statusEquals": None}, {"sortOrder": "Descending"},
                       {"nameContains": "team"}, {"creationTimeAfter": "2024-01-01T00:00:00Z"},
                       {"creationTimeBefore": "2030-01-01T00:00:00Z"}):
            f = dict(base)
            f.update(change)
            f = {k: v for k, v in f.items() if v is not None}
            with self.subTest(change=change):
                self.assertRejected(tok, filters=f)
        # maxResults may change between pages; an absent sortOrder equals
        # Bedrock's default (Descending).
        self.fake.reset()
        f = dict(base, maxResults=7)
        got, _ = Walker(self, self.gw, "team-a").page("rest", f, tok)
        self.assertEqual(len(got), 7)
        tok_d = self.first_token({"maxResults": 3})
        got, _ = Walker(self, self.gw, "team-a").page("grpc", {"maxResults": 3, "sortOrder": "Descending"}, tok_d)
        self.assertEqual(len(got), 3)

    def test_expiry(self):
        g = self.start_gateway(tokens={"secret": SECRET, "ttl_s": 1})
        tok = self.first_token(gw=g)
        Walker(self, g, "team-a").page("rest", {"maxResults": 3}, tok)  # fresh: fine
        time.sleep(2.2)
        self.assertRejected(tok, gw=g, message="expired")

    def test_rotation_previous_secret_accepted(self):
        d = self.tmp
        path = os.path.join(d, "tok.secret")
        with open(path, "w") as f:
            f.write(PREVIOUS + "\n")
        old = self.start_gateway(tokens={"secret_file": path})
        tok = self.first_token(gw=old)
        # New secret (from the environment), old one as previous: accepted.
        new = self.start_gateway(tokens={"secret_env": "BGW_TEST_TOKEN_SECRET", "previous_secret_file": path},
                                 env_extra={"BGW_TEST_TOKEN_SECRET": SECRET}, secrets=(SECRET, PREVIOUS))
        self.fake.reset()
        got, tok2 = Walker(self, new, "team-a").page("rest", {"maxResults": 3}, tok)
        self.assertEqual(len(got), 3)
        self.assertEqual(len(self.fake.api_requests()), 1)
        # The new gateway signs with the new secret: the old one rejects it.
        self.assertRejected(tok2, gw=old)
        # Without the previous secret, the old token is rejected.
        self.assertRejected(tok)  # self.gw has SECRET only
        for g in (old, new):
            log = g.proc.text()
            self.assertNotIn(SECRET, log)
            self.assertNotIn(PREVIOUS, log)

    def test_no_secret_configured_uses_ephemeral_secret(self):
        g = self.start_gateway(cfg=base_config(self.fake.url))
        self.assertTrue([e for e in g.proc.log_events("tokens_ephemeral")])
        tok = self.first_token(gw=g)
        got, _ = Walker(self, g, "team-a").page("grpc", {"maxResults": 3}, tok)
        self.assertEqual(len(got), 3)
        self.assertRejected(tok)  # another process, another secret

    def test_bad_token_config_rejected(self):
        import json
        import subprocess
        from harness import BIN
        cases = [({"secret": "short"}, "tokens.secret"),
                 ({"secret": SECRET, "secret_env": "X"}, "tokens.secret"),
                 ({"secret_env": "BGW_NO_SUCH_VARIABLE_HERE"}, "tokens.secret_env"),
                 ({"secret_file": "/nonexistent/secret"}, "tokens.secret_file"),
                 ({"previous_secret": PREVIOUS}, "tokens.previous_secret"),
                 ({"secret": SECRET, "ttl_s": 0}, "tokens.ttl_s"),
                 ({"secret": SECRET, "bogus": 1}, "tokens.bogus")]
        for tokens, key in cases:
            with self.subTest(key=key):
                cfg = base_config(self.fake.url, tokens=tokens)
                path = os.path.join(self.tmp, "bad.json")
                with open(path, "w") as f:
                    json.dump(cfg, f)
                p = subprocess.run([os.path.join(BIN, "bedrockgw"), "--check-config", path],
                                   capture_output=True, text=True)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn(key, p.stderr)
                self.assertNotIn(SECRET, p.stderr + p.stdout)
                self.assertNotIn(PREVIOUS, p.stderr + p.stdout)


if __name__ == "__main__":
    unittest.main()
