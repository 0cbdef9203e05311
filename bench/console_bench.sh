#!/usr/bin/env bash
# The governance console on a large audit store: generates a store of
# DECISIONS decisions over 365 days (with MDT feedback on one in 20), starts
# `reconnect serve` on it, and times each console view as a person waits
# for it: the whole answer over loopback HTTP (curl's time to the last
# byte), REPEAT times after one warm-up, printing the median and the
# slowest. Then times a check of the whole trail from the trail page. Fails
# if any view does not answer 200. DESIGN target: under 300 ms per view on
# a store of 1,000,000 decisions. RECONNECT_BIN names the build directory.
#   bash bench/console_bench.sh [DECISIONS] [REPEAT]
set -euo pipefail
cd "$(dirname "$0")/.."
decisions="${1:-1000000}"
repeat="${2:-5}"
bin="${RECONNECT_BIN:-build/release}"
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
pid=""

"$bin/reconnect_console_store" --out "$work/audit.db" --decisions "$decisions" \
  --days 365

"$bin/reconnect" serve --rules rules/reconnect --listen 127.0.0.1:0 \
  --audit "$work/audit.db" --http_listen 127.0.0.1:0 2>"$work/serve.log" &
pid=$!
port=""
for _ in $(seq 1 600); do
  port="$(grep '"event":"http_serving"' "$work/serve.log" |
    grep -o '"port":[0-9]*' | head -1 | cut -d: -f2 || true)"
  [[ -n "$port" ]] && break
  sleep 0.1
done
if [[ -z "$port" ]]; then
  echo "console_bench: the server did not start" >&2
  cat "$work/serve.log" >&2
  exit 1
fi
base="http://127.0.0.1:$port"
today="$(date -u +%F)"
year_ago="$(date -u -d '364 days ago' +%F)"

# Times GET PATH: prints "PATH median_ms max_ms bytes".
view() {
  local path="$1" times=() code size
  code="$(curl -s -o /dev/null -w '%{http_code}' "$base$path")"  # warm-up
  if [[ "$code" != 200 ]]; then
    echo "console_bench: $path answered $code" >&2
    exit 1
  fi
  for _ in $(seq 1 "$repeat"); do
    read -r code size t < <(curl -s -o /dev/null \
      -w '%{http_code} %{size_download} %{time_total}\n' "$base$path")
    [[ "$code" == 200 ]] || { echo "console_bench: $path answered $code" >&2; exit 1; }
    times+=("$(awk -v t="$t" 'BEGIN { printf "%.1f", t * 1000 }')")
  done
  sorted="$(printf '%s\n' "${times[@]}" | sort -n)"
  printf '%-60s median %7s ms  max %7s ms  %8s bytes\n' "$path" \
    "$(sed -n "$(((repeat + 1) / 2))p" <<<"$sorted")" "$(tail -1 <<<"$sorted")" "$size"
}

echo "views of a store of $decisions decisions (ms, whole answer over loopback):"
view /governance/versions
view /governance/rules
view "/governance/rules?from=$year_ago&to=$today"
view "/governance/rules.csv?from=$year_ago&to=$today"
view /governance/diff
view /governance/trail
view /mdt

# The trail check, from the page's button to its result.
start="$(date +%s.%N)"
code="$(curl -s -o /dev/null -w '%{http_code}' -X POST \
  -H 'Content-Type: application/json' -d '{}' "$base/governance/trail/verify")"
[[ "$code" == 202 ]] || { echo "console_bench: verify answered $code" >&2; exit 1; }
while curl -s "$base/governance/trail/status" | grep -q '"running":true'; do
  sleep 0.2
done
end="$(date +%s.%N)"
curl -s "$base/governance/trail" | grep -q 'data-outcome="intact"' ||
  { echo "console_bench: the trail did not verify intact" >&2; exit 1; }
awk -v s="$start" -v e="$end" -v n="$decisions" \
  'BEGIN { printf "trail check: %d records intact in %.1f s\n", n, e - s }'
kill -TERM "$pid"
wait "$pid" || true
