#!/usr/bin/env bash
# Installs the pinned conformance packages into the build tree and exports
# the suite for the C++ runner. Nothing from the packages is committed.
#   tests/conformance/setup.sh BUILD_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$1"
prefix="$build/conformance/npm"
out="$build/conformance/data"
bash "$here/../testing/npm_pinned.sh" "$prefix" "$here/versions.txt"
node "$here/export.mjs" "$prefix" "$out"
