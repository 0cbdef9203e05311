#!/usr/bin/env bash
# Installs the pinned packages the browser tests use (puppeteer-core, which
# drives Debian's Chromium; the standard Node gRPC client, to make the
# decisions the pages show) into the build tree. Nothing is committed.
#   tests/browser/setup.sh BUILD_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/../testing/npm_pinned.sh" "$1/browser/npm" "$here/versions.txt"
