"""A small SigV4 signer for raw HTTP tests of the AWS-compatible front
(header and presigned forms). The unmodified AWS SDK is what the main tests
use; this one lets a test send what no SDK would (expired presigned URLs,
a tampered query)."""
import datetime
import hashlib
import hmac
import urllib.parse

EMPTY = hashlib.sha256(b"").hexdigest()


def _enc(s):
    return urllib.parse.quote(s, safe="-_.~")


def _key(secret, date, region, service):
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def _canonical(method, path, params, headers, payload):
    q = "&".join("%s=%s" % (_enc(k), _enc(v)) for k, v in sorted(params))
    names = sorted(headers)
    ch = "".join("%s:%s\n" % (n, headers[n].strip()) for n in names)
    return "\n".join([method, path, q, ch, ";".join(names), payload]), ";".join(names)


def sign(method, host, path, params, akid, secret, region, service="bedrock", when=None):
    """Header form: (query string, headers dict)."""
    t = when or datetime.datetime.now(datetime.timezone.utc)
    amz = t.strftime("%Y%m%dT%H%M%SZ")
    date = amz[:8]
    headers = {"host": host, "x-amz-date": amz}
    creq, signed = _canonical(method, path, params, headers, EMPTY)
    scope = "%s/%s/%s/aws4_request" % (date, region, service)
    sts = "AWS4-HMAC-SHA256\n%s\n%s\n%s" % (amz, scope, hashlib.sha256(creq.encode()).hexdigest())
    sig = hmac.new(_key(secret, date, region, service), sts.encode(), hashlib.sha256).hexdigest()
    out = dict(headers)
    out["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        akid, scope, signed, sig)
    return "&".join("%s=%s" % (_enc(k), _enc(v)) for k, v in params), out


def presign(method, host, path, params, akid, secret, region, expires=60, service="bedrock",
            when=None):
    """Query form: the whole query string (host is the only signed header)."""
    t = when or datetime.datetime.now(datetime.timezone.utc)
    amz = t.strftime("%Y%m%dT%H%M%SZ")
    date = amz[:8]
    scope = "%s/%s/%s/aws4_request" % (date, region, service)
    p = list(params) + [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
                        ("X-Amz-Credential", "%s/%s" % (akid, scope)), ("X-Amz-Date", amz),
                        ("X-Amz-Expires", str(expires)), ("X-Amz-SignedHeaders", "host")]
    creq, _ = _canonical(method, path, p, {"host": host}, "UNSIGNED-PAYLOAD")
    sts = "AWS4-HMAC-SHA256\n%s\n%s\n%s" % (amz, scope, hashlib.sha256(creq.encode()).hexdigest())
    sig = hmac.new(_key(secret, date, region, service), sts.encode(), hashlib.sha256).hexdigest()
    p.append(("X-Amz-Signature", sig))
    return "&".join("%s=%s" % (_enc(k), _enc(v)) for k, v in p)
