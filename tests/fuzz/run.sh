#!/usr/bin/env bash
# Runs one fuzz target.
#   run.sh replay TARGET BINARY SOURCE_DIR WORK_DIR
#       replays the seed corpus and every past crash (any build);
#   run.sh fuzz TARGET BINARY SOURCE_DIR WORK_DIR SECONDS
#       fuzzes for SECONDS with libFuzzer (the fuzz preset), then prints the
#       executions and crashes. A crash input is kept under WORK_DIR/crashes;
#       copy it into tests/fuzz/regressions/TARGET/ once fixed.
set -euo pipefail
mode=$1 target=$2 binary=$3 source_dir=$4 work_dir=$5 seconds=${6:-60}

# Seeds: expressions for the CEL targets; CDS Hooks requests for the FHIR
# translator; the bundled signatures.json for the signatures target; for the rule-set loader, each file
# of the active bundled rule set (1.1.0) as "path\ncontent", the input format it reads.
if [[ $target == ruleset ]]; then
  seeds=$work_dir/seeds/ruleset
  rm -rf "$seeds" && mkdir -p "$seeds"
  (cd "$source_dir/rules/reconnect/1.1.0" && find . -type f | sed 's|^\./||' | sort) |
    while read -r f; do
      { printf '%s\n' "$f"; cat "$source_dir/rules/reconnect/1.1.0/$f"; } \
        > "$seeds/$(echo "$f" | tr '/' '_')"
    done
elif [[ $target == signatures ]]; then
  seeds=$work_dir/seeds/signatures
  rm -rf "$seeds" && mkdir -p "$seeds"
  cp "$source_dir/rules/reconnect/1.1.0/signatures.json" "$seeds/"
elif [[ $target == fhir ]]; then
  seeds=$source_dir/examples/cds-hooks
else
  seeds=$source_dir/tests/fuzz/corpus/expr
fi
inputs=("$seeds")
regressions=$source_dir/tests/fuzz/regressions/$target
if [[ -d $regressions ]]; then inputs+=("$regressions"); fi

if [[ $mode == replay ]]; then
  exec "$binary" "${inputs[@]}"
fi

corpus=$work_dir/corpus/$target
crashes=$work_dir/crashes
log=$work_dir/logs/$target.log
mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
status=0
start=$SECONDS
"$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$crashes/$target-" \
  "$corpus" "${inputs[@]}" >"$log" 2>&1 || status=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
found=$(find "$crashes" -name "$target-*" -type f | wc -l)
echo "fuzz $target: ${runs:-?} executions in $((SECONDS - start)) s, corpus $(find "$corpus" -type f | wc -l) inputs, exit $status, $found crash file(s) in $crashes"
if [[ $status -ne 0 ]]; then
  tail -n 60 "$log"
  exit 1
fi
