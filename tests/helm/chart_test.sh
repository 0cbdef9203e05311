#!/usr/bin/env bash
# The Helm chart: lint --strict, render with the default values and the two
# value sets in helm/reconnect/ci, check every rendered manifest for the
# hardening a careful operator expects, and check that impossible settings
# are refused with a clear message.
#   tests/helm/chart_test.sh BUILD_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$1"
helm="$build/helm/bin/helm"
chart="$root/helm/reconnect"
out="$build/helm/rendered"
mkdir -p "$out"
export RECONNECT_HELM_NPM="$build/helm/npm"
export HELM_CACHE_HOME="$build/helm/cache" HELM_CONFIG_HOME="$build/helm/config" \
  HELM_DATA_HOME="$build/helm/data"

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

sets=(default "$chart/ci/mtls-jwt-values.yaml" "$chart/ci/scale-values.yaml"
      "$chart/ci/postgresql-values.yaml")
for set in "${sets[@]}"; do
  name="$(basename "$set" .yaml)"
  args=()
  [[ "$set" == default ]] || args=(-f "$set")
  echo "== $name"
  "$helm" lint --strict "$chart" "${args[@]}" || fail "helm lint --strict ($name)"
  "$helm" template reconnect-test "$chart" --namespace cds "${args[@]}" \
    > "$out/$name.yaml" || { fail "helm template ($name)"; continue; }
  node "$here/check_manifests.mjs" "$out/$name.yaml" "$name" || fail "manifests ($name)"
done

# Settings that cannot work are refused at render time, saying why.
refused() {
  local expect="$1"; shift
  local output
  if output="$("$helm" template reconnect-test "$chart" "$@" 2>&1)"; then
    fail "rendered, but should be refused: $*"
  elif ! grep -q -- "$expect" <<<"$output"; then
    fail "refused without '$expect': $* -> $output"
  else
    echo "refused as expected: $*"
  fi
}
refused "one SQLite audit store" --set replicaCount=2
refused "one SQLite audit store" --set autoscaling.enabled=true
refused "enable auth.jwt" --set tls.clientCertificates=none
refused "issuer and auth.jwt.audience" --set auth.jwt.enabled=true
refused "additional properties" --set unknownSetting=1
refused "clientCertificates" --set tls.clientCertificates=sometimes
refused "roles" --set 'auth.bindings[0].jwt_subject=a' --set 'auth.bindings[0].roles[0]=root'
refused "requests" --set resources.requests=null
refused "metrics.port and healthPort must differ" --set metrics.port=8081
refused "signOff.required needs signOff.signersSecretName" --set signOff.signersSecretName=
refused "signOff" --set 'signOff.required[0]=porter'
refused "needs audit.postgresql.secretName" --set audit.type=postgresql
refused "needs audit.postgresql.peers" --set audit.type=postgresql \
  --set audit.postgresql.secretName=reconnect-audit-db
refused "audit.type" --set audit.type=mysql
# PostgreSQL mode with the HPA turned off keeps replicaCount replicas.
pg_fixed="$("$helm" template reconnect-test "$chart" -f "$chart/ci/postgresql-values.yaml" \
  --set autoscaling.enabled=false --set replicaCount=3)" || fail "postgresql without the HPA"
grep -q "kind: HorizontalPodAutoscaler" <<<"$pg_fixed" && fail "an HPA with autoscaling.enabled=false"
grep -q "replicas: 3" <<<"$pg_fixed" || fail "replicaCount not kept without the HPA"

node "$here/check_dockerfile.mjs" "$root/Dockerfile" "$chart/values.yaml" || fail "Dockerfile"

if ((failures > 0)); then
  echo "$failures chart check(s) failed" >&2
  exit 1
fi
echo "chart checks passed"
