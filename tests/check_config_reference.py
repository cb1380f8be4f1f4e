#!/usr/bin/env python3
"""docs/configuration.md carries the configuration reference exactly as
`bedrockgw --config-reference` prints it from config_table.c: exit 1 with
a diff when it is stale. Usage: check_config_reference.py BEDROCKGW"""
import difflib
import os
import subprocess
import sys

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "configuration.md")
BEGIN, END = "<!-- BEGIN generated", "<!-- END generated -->"


def main():
    want = subprocess.run([sys.argv[1], "--config-reference"], capture_output=True, text=True,
                          check=True).stdout.rstrip("\n").split("\n")
    lines = open(DOC).read().split("\n")
    try:
        a = next(i for i, l in enumerate(lines) if l.startswith(BEGIN))
        b = next(i for i, l in enumerate(lines) if l.startswith(END))
    except StopIteration:
        print("config reference: markers missing in docs/configuration.md")
        return 1
    got = lines[a + 1:b]
    if got != want:
        sys.stdout.writelines(l + "\n" for l in difflib.unified_diff(
            got, want, "docs/configuration.md", "bedrockgw --config-reference", lineterm=""))
        print("config reference: docs/configuration.md is stale; regenerate with "
              "bedrockgw --config-reference")
        return 1
    print("config reference: docs/configuration.md matches config_table (%d keys)" % (len(want) - 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
