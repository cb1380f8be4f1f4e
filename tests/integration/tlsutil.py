"""Certificates for TLS tests, generated with the openssl command line into a
directory: a CA, a server certificate for 127.0.0.1/localhost, and client
certificates with chosen subjects."""
import os
import subprocess


def _run(args, cwd):
    subprocess.run(["openssl"] + args, cwd=cwd, check=True, capture_output=True)


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
