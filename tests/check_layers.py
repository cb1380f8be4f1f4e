#!/usr/bin/env python3
"""The include direction of service/src: each folder is a layer, and a file
may include headers of its own layer and of the layers below it only
(docs/architecture.md). Exit 1 naming every include that points upward, or
a header that is in no layer or in two."""
import os
import re
import sys

LAYERS = ["util", "core", "aws", "config", "credentials", "fleet", "upstream", "pipeline", "frontend", "app"]
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "service", "src")


def main():
    where = {}
    bad = []
    for layer in os.listdir(ROOT):
        d = os.path.join(ROOT, layer)
        if not os.path.isdir(d):
            bad.append("%s: a file outside the layer folders" % layer)
            continue
        if layer not in LAYERS:
            bad.append("%s/: not a known layer (add it to LAYERS in order)" % layer)
            continue
        for f in os.listdir(d):
            if f.endswith(".h"):
                if f in where:
                    bad.append("%s is in both %s/ and %s/" % (f, where[f], layer))
                where[f] = layer
    inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
    for layer in LAYERS:
        d = os.path.join(ROOT, layer)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if not f.endswith((".c", ".h")):
                continue
            with open(os.path.join(d, f)) as fh:
                for n, line in enumerate(fh, 1):
                    m = inc.match(line)
                    if not m:
                        continue
                    h = os.path.basename(m.group(1))
                    if h not in where:
                        continue  # generated (protobuf-c) or system-like
                    if LAYERS.index(where[h]) > LAYERS.index(layer):
                        bad.append("%s/%s:%d includes %s from the higher layer %s/" %
                                   (layer, f, n, h, where[h]))
    for b in bad:
        print("layers: " + b)
    if bad:
        return 1
    print("layers: %d headers in %d layers, every include points down or sideways" %
          (len(where), len(LAYERS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
