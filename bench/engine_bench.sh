#!/usr/bin/env bash
# The engine's figures beside the performance targets, in one command: runs
# reconnect_bench (conditions, evaluation, decision, audit append, load) and
# the same conditions with @marcbachmann/cel-js (bench/cel_js_bench.mjs,
# installed from npm into the build tree, checked to meet the same rules on
# every example), then prints each figure with its ratio to the target.
# RECONNECT_BIN names the build directory (build/release).
#   bash bench/engine_bench.sh [MIN_TIME_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
min_time="${1:-0.5}"
bin="${RECONNECT_BIN:-build/release}"
node_dir="$bin/bench/npm"
bash tests/testing/npm_pinned.sh "$node_dir" bench/cel_js_versions.txt
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$bin/reconnect_cel_js_export" rules/reconnect/1.0.5 examples >"$work/export.json"
node bench/cel_js_bench.mjs "$work/export.json" \
  "$node_dir/node_modules/@marcbachmann/cel-js" \
  --min_time="$min_time" --json="$work/cel_js.json"
echo
"$bin/reconnect_bench" \
  --benchmark_filter='^BM_(Conditions|EvaluateRuleSet|Decide|NewDecisionId|Load150Rules|AuditAppend)(/|$)' \
  --benchmark_min_time="$min_time" \
  --benchmark_out="$work/engine.json" --benchmark_out_format=json
echo
node bench/engine_report.mjs "$work/engine.json" "$work/cel_js.json"
