#!/usr/bin/python3
"""fake-aws: a small fake of the AWS credential endpoints for tests, real
HTTP on loopback (one threaded http.server):

  STS       POST /                      Action=AssumeRole (SigV4 header
                                        required, signer's key id must be
                                        known) or AssumeRoleWithWebIdentity
                                        (WebIdentityToken required); XML reply
  IMDSv2    PUT  /latest/api/token      (x-aws-ec2-metadata-token-ttl-seconds)
            GET  /latest/meta-data/iam/security-credentials/[<role>]
                                        (x-aws-ec2-metadata-token required)
  container GET  /container/creds       (Authorization must equal --container-token
                                        when given); JSON reply

Issued credentials get a fresh key id (ASIAFAKE000001, ...), secret and
token, expire after --duration-s (or the request's DurationSeconds), and are
registered with the Bedrock emulator (--bedrock-control URL, POST
/_fake/credentials) so that the emulator accepts them.

Control (unsigned): GET /_control/calls (what was asked, in order),
GET /_control/secrets (every secret/token issued or received, for leak
checks), POST /_control/config {"duration_s":N,"fail":N,"fail_status":S,"delay_ms":M}
(fail the next N credential requests). Prints {"event":"ready","port":N}.
"""
import argparse
import datetime
import json
import time
import secrets
import sys
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"seq": 0, "calls": [], "secrets": [], "known": set(), "duration_s": 3600, "fail": 0,
         "fail_status": 500, "imds_tokens": set()}
ARGS = None


def issue(duration_s=None):
    with LOCK:
        STATE["seq"] += 1
        akid = "ASIAFAKE%06d" % STATE["seq"]
        d = duration_s or STATE["duration_s"]
    secret = "fake-secret-" + secrets.token_hex(12)
    token = "fake-token-" + secrets.token_hex(24)
    exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=d)
    with LOCK:
        STATE["known"].add(akid)
        STATE["secrets"] += [secret, token]
    if ARGS.bedrock_control:
        body = json.dumps({"access_key_id": akid, "secret_access_key": secret,
                           "session_token": token}).encode()
        req = urllib.request.Request(ARGS.bedrock_control + "/_fake/credentials", data=body,
                                     method="POST", headers={"content-type": "application/json"})
        urllib.request.urlopen(req, timeout=5).read()
    return akid, secret, token, exp.strftime("%Y-%m-%dT%H:%M:%SZ")


def take_failure():
    with LOCK:
        delay = STATE.get("delay_ms", 0)
    if delay:  # a slow credential source (answers every kind of request late)
        time.sleep(delay / 1000.0)
    with LOCK:
        if STATE["fail"] > 0:
            STATE["fail"] -= 1
            return STATE["fail_status"]
    return 0


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body, ctype="text/plain"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self, **kw):
        with LOCK:
            STATE["calls"].append(kw)

    def body(self):
        n = int(self.headers.get("content-length") or 0)
        return self.rfile.read(n).decode() if n else ""

    # -- STS ---------------------------------------------------------------
    def do_POST(self):
        if self.path == "/_control/config":
            cfg = json.loads(self.body() or "{}")
            with LOCK:
                for k in ("duration_s", "fail", "fail_status", "delay_ms"):
                    if k in cfg:
                        STATE[k] = cfg[k]
            return self.reply(200, "{}", "application/json")
        if self.path != "/":
            return self.reply(404, "no")
        form = dict(urllib.parse.parse_qsl(self.body(), keep_blank_values=True))
        action = form.get("Action")
        authz = self.headers.get("authorization", "")
        signer = authz.split("Credential=", 1)[1].split("/", 1)[0] if "Credential=" in authz else None
        token = form.get("WebIdentityToken")
        if token:
            with LOCK:
                STATE["secrets"].append(token)
        self.record(service="sts", action=action, role_arn=form.get("RoleArn"),
                    session_name=form.get("RoleSessionName"), external_id=form.get("ExternalId"),
                    web_identity_token=token, signer=signer,
                    signed_service="/sts/aws4_request" in authz)
        st = take_failure()
        if st:
            return self.reply(st, "<ErrorResponse><Error><Code>ServiceUnavailable</Code>"
                                  "<Message>injected</Message></Error></ErrorResponse>", "text/xml")
        if action == "AssumeRole":
            with LOCK:
                known = signer in STATE["known"] or signer == ARGS.source_key
            if not known or "/sts/aws4_request" not in authz:
                return self.reply(403, "<ErrorResponse><Error><Code>InvalidClientTokenId</Code>"
                                       "<Message>bad signer</Message></Error></ErrorResponse>", "text/xml")
        elif action == "AssumeRoleWithWebIdentity":
            if not token:
                return self.reply(400, "<ErrorResponse><Error><Code>InvalidIdentityToken</Code>"
                                       "<Message>no token</Message></Error></ErrorResponse>", "text/xml")
        else:
            return self.reply(400, "<ErrorResponse><Error><Code>InvalidAction</Code>"
                                   "</Error></ErrorResponse>", "text/xml")
        d = int(form["DurationSeconds"]) if form.get("DurationSeconds") else None
        akid, secret, tok, exp = issue(d)
        self.record(service="sts", issued=akid)
        xml = ("<{a}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{a}Result>"
               "<Credentials><AccessKeyId>{k}</AccessKeyId><SecretAccessKey>{s}</SecretAccessKey>"
               "<SessionToken>{t}</SessionToken><Expiration>{e}</Expiration></Credentials>"
               "</{a}Result></{a}Response>").format(a=action, k=akid, s=secret, t=tok, e=exp)
        self.reply(200, xml, "text/xml")

    # -- IMDS --------------------------------------------------------------
    def do_PUT(self):
        self.body()
        if self.path != "/latest/api/token" or not self.headers.get("x-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(400, "bad")
        tok = "imds-token-" + secrets.token_hex(16)
        with LOCK:
            STATE["imds_tokens"].add(tok)
            STATE["secrets"].append(tok)
        self.record(service="imds", action="token")
        self.reply(200, tok)

    def do_GET(self):
        if self.path == "/_control/calls":
            with LOCK:
                return self.reply(200, json.dumps({"calls": STATE["calls"]}), "application/json")
        if self.path == "/_control/secrets":
            with LOCK:
                return self.reply(200, json.dumps({"secrets": STATE["secrets"]}), "application/json")
        prefix = "/latest/meta-data/iam/security-credentials/"
        if self.path.startswith(prefix):
            tok = self.headers.get("x-aws-ec2-metadata-token")
            with LOCK:
                ok = tok in STATE["imds_tokens"]
            self.record(service="imds", action="get", path=self.path, token_ok=ok)
            if not ok:
                return self.reply(401, "")
            role = self.path[len(prefix):]
            if not role:
                return self.reply(200, "fake-instance-role\n")
            if role != "fake-instance-role":
                return self.reply(404, "")
            return self.creds_json(imds=True)
        if self.path == "/container/creds":
            auth = self.headers.get("authorization")
            self.record(service="container", authorization_ok=(ARGS.container_token is None or
                                                               auth == ARGS.container_token))
            if ARGS.container_token is not None and auth != ARGS.container_token:
                return self.reply(401, "{}")
            return self.creds_json(imds=False)
        self.reply(404, "no")

    def creds_json(self, imds):
        st = take_failure()
        if st:
            return self.reply(st, "{}")
        akid, secret, tok, exp = issue()
        self.record(service="imds" if imds else "container", issued=akid)
        d = {"AccessKeyId": akid, "SecretAccessKey": secret, "Token": tok, "Expiration": exp}
        if imds:
            d.update({"Code": "Success", "Type": "AWS-HMAC"})
        else:
            d["RoleArn"] = "arn:aws:iam::123456789012:role/fake-task"
        self.reply(200, json.dumps(d), "application/json")


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bedrock-control", default=None)
    ap.add_argument("--source-key", default=None, help="key id allowed to sign AssumeRole")
    ap.add_argument("--container-token", default=None)
    ap.add_argument("--duration-s", type=int, default=3600)
    ARGS = ap.parse_args()
    STATE["duration_s"] = ARGS.duration_s
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), H)
    srv.daemon_threads = True
    print(json.dumps({"event": "ready", "port": srv.server_address[1]}), flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    sys.exit(main())
