#!/bin/sh
# Every C file of the tree is formatted with the project's .clang-format
# (Debian 12's clang-format 14). Prints the first differences and exits 1
# when one is not. Fix with:
#   git ls-files '*.c' '*.h' | grep -v ^tests/testdata | xargs clang-format -i
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' | grep -v '^tests/testdata/' || true)
# shellcheck disable=SC2086
if ! out=$(clang-format --dry-run --Werror $files 2>&1); then
    printf '%s\n' "$out" | head -40 >&2
    echo "format: files differ from .clang-format (see above)" >&2
    exit 1
fi
echo "format: $(printf '%s\n' $files | wc -l) files match .clang-format"
