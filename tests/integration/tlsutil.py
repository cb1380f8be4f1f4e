"""Certificates for TLS tests, generated with the openssl command line into a
directory: a CA, a server certificate for 127.0.0.1/localhost, and client
certificates with chosen subjects."""
import os
import subprocess


def _run(args, cwd):
    p = subprocess.run(["openssl"] + args, cwd=cwd, capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("openssl %s failed:\n%s" % (" ".join(args[:2]), p.stderr.decode(errors="replace")))


def make_ca(d, name="ca"):
    _run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=bgw-test-" + name,
          "-keyout", name + ".key", "-out", name + ".crt"], d)
    return os.path.join(d, name + ".crt")


def make_cert(d, name, cn, ca="ca", san="DNS:localhost,IP:127.0.0.1", client=False):
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=%s\n" % san)
        f.write("extendedKeyUsage=%s\n" % ("clientAuth" if client else "serverAuth"))
    _run(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn,
          "-keyout", name + ".key", "-out", name + ".csr"], d)
    _run(["x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
          "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", name + ".crt"], d)
    return os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def make_cert_dated(d, name, cn, start, end, ca="ca", serial=None, san="DNS:localhost,IP:127.0.0.1"):
    """A server certificate signed by ca with chosen validity dates
    (YYYYMMDDHHMMSSZ) and serial (hex), through `openssl ca` (x509 -req
    cannot set dates in the past)."""
    cnf = os.path.join(d, "ca-%s.cnf" % name)
    with open(cnf, "w") as f:
        f.write("[ca]\ndefault_ca=c\n[c]\ndatabase=index-%s.txt\nnew_certs_dir=.\nserial=serial-%s\n"
                "default_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n" % (name, name))
    open(os.path.join(d, "index-%s.txt" % name), "w").close()
    with open(os.path.join(d, "serial-%s" % name), "w") as f:
        f.write((serial or "%012X" % (int.from_bytes(os.urandom(6), "big") | 1 << 40)) + "\n")
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=%s\nextendedKeyUsage=serverAuth\n" % san)
    _run(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn,
          "-keyout", name + ".key", "-out", name + ".csr"], d)
    _run(["ca", "-batch", "-config", cnf, "-cert", ca + ".crt", "-keyfile", ca + ".key",
          "-startdate", start, "-enddate", end, "-extfile", ext, "-in", name + ".csr",
          "-out", name + ".crt"], d)
    return os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")


def utc(offset_s):
    """Now + offset_s as an openssl date (YYYYMMDDHHMMSSZ)."""
    import time
    return time.strftime("%Y%m%d%H%M%SZ", time.gmtime(time.time() + offset_s))
