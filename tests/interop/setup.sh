#!/usr/bin/env bash
# Installs the pinned packages the interoperability tests use (a JWT
# library, as EHRs use one; the FHIR R4 JSON schema and a validator) into
# the build tree. Nothing is committed.
#   tests/interop/setup.sh BUILD_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bash "$here/../testing/npm_pinned.sh" "$1/interop/npm" "$here/versions.txt"
