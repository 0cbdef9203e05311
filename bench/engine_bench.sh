#!/usr/bin/env bash
# The engine's figures beside the performance targets, in one command: runs
# reconnect_bench (conditions, evaluation, decision, audit append, load) and
# the same conditions with @marcbachmann/cel-js (bench/cel_js_bench.mjs,
# installed from npm into the build tree, checked to meet the same rules on
# every example), alternately for ROUNDS rounds, then prints each figure (the
# best of its rounds) with its ratio to the target. RECONNECT_BIN names the
# build directory (build/release).
#   bash bench/engine_bench.sh [MIN_TIME_SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
min_time="${1:-0.5}"
rounds="${2:-3}"
bin="${RECONNECT_BIN:-build/release}"
node_dir="$bin/bench/npm"
bash tests/testing/npm_pinned.sh "$node_dir" bench/cel_js_versions.txt
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$bin/reconnect_cel_js_export" rules/reconnect/1.0.5 examples >"$work/export.json"
engine_runs=()
cel_js_runs=()
for round in $(seq "$rounds"); do
  echo "Round $round of $rounds"
  node bench/cel_js_bench.mjs "$work/export.json" \
    "$node_dir/node_modules/@marcbachmann/cel-js" \
    --min_time="$min_time" --json="$work/cel_js_$round.json"
  "$bin/reconnect_bench" \
    --benchmark_filter='^BM_(Conditions|EvaluateRuleSet|Decide|NewDecisionId|Load150Rules|AuditAppend)(/|$)' \
    --benchmark_min_time="$min_time" \
    --benchmark_out="$work/engine_$round.json" --benchmark_out_format=json \
    >"$work/engine_$round.txt"
  engine_runs+=("$work/engine_$round.json")
  cel_js_runs+=("$work/cel_js_$round.json")
  echo
done
IFS=,
node bench/engine_report.mjs "${engine_runs[*]}" "${cel_js_runs[*]}"
