#!/usr/bin/env bash
# Installs the packages pinned in VERSIONS_FILE (one name@version a line)
# into PREFIX, a directory in the build tree; does nothing when PREFIX
# already holds exactly those. Nothing from the packages is committed.
#   tests/testing/npm_pinned.sh PREFIX VERSIONS_FILE
set -euo pipefail
prefix="$1"
mkdir -p "$prefix"
[[ -f "$prefix/package.json" ]] || echo '{"private": true}' > "$prefix/package.json"
mapfile -t packages < "$2"
want="$(printf '%s\n' "${packages[@]}")"
if [[ ! -f "$prefix/.installed" || "$(cat "$prefix/.installed")" != "$want" ]]; then
  npm install --silent --no-audit --no-fund --prefix "$prefix" "${packages[@]}"
  printf '%s' "$want" > "$prefix/.installed"
fi
