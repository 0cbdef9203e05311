#!/usr/bin/env bash
# Installs the pinned conformance packages into the build tree and exports
# the suite for the C++ runner. Nothing from the packages is committed.
#   tests/conformance/setup.sh BUILD_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$1"
prefix="$build/conformance/npm"
out="$build/conformance/data"
mkdir -p "$prefix"
[[ -f "$prefix/package.json" ]] || echo '{"private": true}' > "$prefix/package.json"
mapfile -t packages < "$here/versions.txt"
want="$(printf '%s\n' "${packages[@]}")"
if [[ ! -f "$prefix/.installed" || "$(cat "$prefix/.installed")" != "$want" ]]; then
  npm install --silent --no-audit --no-fund --prefix "$prefix" "${packages[@]}"
  printf '%s' "$want" > "$prefix/.installed"
fi
node "$here/export.mjs" "$prefix" "$out"
