#!/usr/bin/env bash
# Evaluate throughput and latency over gRPC, in one run, for five servers of
# the same binary: the audit store on (a SQLite file), --audit=off, an empty
# handler (gRPC's own cost), the audit store on behind TLS with a bearer token
# on every call and roles checked, and the audit store on with one call at a
# time (the latency an EHR at triage sees); and beside them CDS Hooks service
# calls over HTTP/1.1 with the audit store on (32 keep-alive connections, the
# sample request in examples/cds-hooks/), also with a fresh ES384 bearer
# token on every call, as CDS Hooks defines. Prints each, with the CPU time per
# call of the server and of the generator (they share the machine), and the
# audit-on / empty-handler throughput ratio (DESIGN.md's target: at least 0.8)
# and the audit-on / audit-off one; and, with Prometheus metrics kept and
# served, the change in server CPU per call with the audit store on and off
# (the metrics' overhead). Then the PostgreSQL audit store against the
# SQLite one: a PostgreSQL 15 started here (initdb into the build tree,
# pg_ctl on a loopback port, fsync and synchronous commit on, as SQLite's
# synchronous=FULL), with one replica and with two replicas sharing it (a
# generator each, half the channels each), and PostgreSQL's own CPU per
# record beside the replicas' CPU per call; last, the performance targets
# (server CPU per call against the empty handler's, audit-on throughput
# against audit-off's, peak RSS under load), each beside its limit. Fails
# if any call fails or a server answers none. RECONNECT_BIN names the build
# directory (build/release); RECONNECT_PG_BINDIR PostgreSQL's binaries.
#   bash bench/service_bench.sh [SECONDS] [CHANNELS] [OUTSTANDING]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
channels="${2:-4}"
outstanding="${3:-16}"
bin="${RECONNECT_BIN:-build/release}"
work="$(mktemp -d)"
pg_data=""
cleanup() {
  if [[ -n "$pg_data" ]]; then pg_run pg_ctl stop -m fast -D "$pg_data" >/dev/null 2>&1 || true; fi
  [[ -n "$pg_data" ]] && rm -rf "$(dirname "$pg_data")"
  rm -rf "$work"
}
trap cleanup EXIT

# PostgreSQL's binaries, run as the postgres user when root (it refuses root).
pg_bin="${RECONNECT_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
pg_run() {  # BINARY ARGS...
  local b="$1"
  shift
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$pg_bin/$b" "$@"; else "$pg_bin/$b" "$@"; fi
}

# A PostgreSQL 15 cluster in the build tree on a free loopback port; sets
# pg_uri to a fresh database's URI (DB).
start_postgres() {
  local dir
  dir="$(realpath "$bin")/pg-bench-$$"
  rm -rf "$dir"
  mkdir -p "$dir/data"
  [[ $(id -u) -eq 0 ]] && chown -R postgres "$dir"
  pg_run initdb -D "$dir/data" -U reconnect --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1
  pg_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  pg_data="$dir/data"
  pg_run pg_ctl start -w -D "$pg_data" -l "$dir/server.log" \
    -o "-p $pg_port -c listen_addresses=127.0.0.1 -k $dir" >/dev/null
}
new_pg_database() {  # NAME
  "$pg_bin/psql" -q -h 127.0.0.1 -p "$pg_port" -U reconnect -d postgres -c "CREATE DATABASE $1"
  pg_uri="postgresql://reconnect@127.0.0.1:$pg_port/$1"
}
# CPU seconds (user + system) of every PostgreSQL process of the cluster.
pg_cpu_seconds() {
  local master
  master="$(head -1 "$pg_data/postmaster.pid")"
  awk -v tck="$(getconf CLK_TCK)" '{ t += $14 + $15 } END { printf "%.3f", t / tck }' \
    "/proc/$master/stat" $(for c in $(pgrep -P "$master"); do echo "/proc/$c/stat"; done) 2>/dev/null
}

# Starts `reconnect serve` with SERVE-FLAGS, logging to $work/NAME.log, and
# sets pid and address (from the log line of EVENT: "serving" for gRPC,
# "http_serving" for HTTP).
start_server() {  # NAME EVENT SERVE-FLAGS...
  local name="$1" event="$2"
  shift 2
  "$bin/reconnect" serve --rules rules/reconnect --listen 127.0.0.1:0 "$@" \
    2>"$work/$name.log" &
  pid=$!
  address=""
  for _ in $(seq 1 300); do
    address="$(grep "\"event\":\"$event\"" "$work/$name.log" |
      grep -o '"address":"[^"]*"' | head -1 | cut -d'"' -f4 || true)"
    [[ -n "$address" ]] && break
    sleep 0.1
  done
  if [[ -z "$address" ]]; then
    echo "service_bench: $name did not start" >&2
    cat "$work/$name.log" >&2
    kill "$pid" 2>/dev/null || true
    return 1
  fi
}

# Stops the server and keeps the generator's RESULT as NAME.
finish() {  # NAME RESULT
  # The server's peak resident set over the run, in KiB.
  awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" >"$work/$1.rss_kib" 2>/dev/null || true
  kill -TERM "$pid"
  wait "$pid" || true
  if ! grep -q '"calls":[1-9]' <<<"$2"; then
    echo "service_bench: $1 answered no calls: $2" >&2
    return 1
  fi
  echo "$1 $2"
  echo "$2" >"$work/$1.json"
}

run() {  # NAME [LOAD-FLAGS...] -- SERVE-FLAGS...
  local name="$1"
  shift
  local load=()
  while [[ "$1" != -- ]]; do load+=("$1"); shift; done
  shift
  start_server "$name" serving "$@"
  # The run's own load flags come last: of repeated flags, the last counts.
  finish "$name" "$("$bin/reconnect_load" --target "$address" --server_pid "$pid" \
    --assessment examples/catastrophising-performance-beliefs.json \
    --channels "$channels" --outstanding "$outstanding" --seconds "$seconds" "${load[@]}")"
}

# CDS Hooks service calls over HTTP/1.1, 32 keep-alive connections, the
# sample request (FHIR prefetch in, cards out).
run_cds_hooks() {  # NAME [LOAD-FLAGS...] -- SERVE-FLAGS...
  local name="$1"
  shift
  local load=()
  while [[ "$1" != -- ]]; do load+=("$1"); shift; done
  shift
  start_server "$name" http_serving --http_listen 127.0.0.1:0 "$@"
  finish "$name" "$("$bin/reconnect_http_load" --target "$address" --server_pid "$pid" \
    --body examples/cds-hooks/patient-view-catastrophising.json \
    --connections 32 --seconds "$seconds" "${load[@]}")"
}

"$bin/reconnect_make_test_pki" "$work"
run audit_on -- --audit "$work/audit.db"
# One call at a time, as an EHR at triage calls: the latency a user waits for.
run audit_on_1x1 --channels 1 --outstanding 1 -- --audit "$work/audit-1x1.db"
run audit_off -- --audit=off
# The metrics' overhead: servers with and without Prometheus metrics kept
# and served (--metrics_listen), audit on and off, in adjacent runs whose
# order alternates by round, so that drift on a shared machine falls on
# both sides (RECONNECT_METRICS_ROUNDS rounds, default 3).
rounds="${RECONNECT_METRICS_ROUNDS:-3}"
for r in $(seq 1 "$rounds"); do
  for audit in on off; do
    audit_flags=(--audit=off)
    [[ $audit == on ]] && audit_flags=(--audit "$work/audit-$audit-$r-plain.db")
    plain=("${audit_flags[@]}")
    [[ $audit == on ]] && audit_flags=(--audit "$work/audit-$audit-$r-metrics.db")
    metered=("${audit_flags[@]}" --metrics_listen 127.0.0.1:0)
    if ((r % 2 == 1)); then
      run "m_${audit}_plain_$r" -- "${plain[@]}" >/dev/null
      run "m_${audit}_metrics_$r" -- "${metered[@]}" >/dev/null
    else
      run "m_${audit}_metrics_$r" -- "${metered[@]}" >/dev/null
      run "m_${audit}_plain_$r" -- "${plain[@]}" >/dev/null
    fi
  done
done
run empty_handler -- --audit=off --empty_handler_for_benchmark
run_cds_hooks cds_hooks_audit -- --audit "$work/audit-cds.db"
# As CDS Hooks defines it: a fresh ES384 token on every call (signed by the
# generator), verified, its jti remembered, roles checked; audit on.
run_cds_hooks cds_hooks_jwt_audit --sign_key "$work/cds-key.pem" -- \
  --audit "$work/audit-cds-jwt.db" --policy "$work/policy.json" \
  --cds_clients "$work/cds-clients.json" --http_public_url https://cds.example.org
# As deployed: TLS, a bearer token on every call, roles, the audit store on.
run tls_jwt_audit --tls_ca "$work/ca.pem" --token_file "$work/token.jwt" -- \
  --audit "$work/audit-tls.db" --tls_cert "$work/server.pem" --tls_key "$work/server.key" \
  --policy "$work/policy.json" --jwks "$work/jwks.json" \
  --jwt_issuer https://ehr.example/auth --jwt_audience https://cds.example/reconnect
# The PostgreSQL audit store: REPLICAS servers sharing a fresh database,
# a generator each (the channels shared out), PostgreSQL's own CPU sampled
# while they are still connected. Keeps NAME_1, NAME_2, ... and NAME.pgcpu.
run_pg() {  # NAME REPLICAS
  local name="$1" replicas="$2" r
  new_pg_database "$name"
  local pids=() addresses=() generators=()
  for r in $(seq 1 "$replicas"); do
    start_server "${name}_server_$r" serving --audit "$pg_uri"
    pids+=("$pid")
    addresses+=("$address")
  done
  local share=$(((channels + replicas - 1) / replicas)) before after
  before="$(pg_cpu_seconds)"
  for r in $(seq 1 "$replicas"); do
    "$bin/reconnect_load" --target "${addresses[r - 1]}" --server_pid "${pids[r - 1]}" \
      --assessment examples/catastrophising-performance-beliefs.json \
      --channels "$share" --outstanding "$outstanding" --seconds "$seconds" \
      >"$work/${name}_$r.json" &
    generators+=($!)
  done
  for r in "${generators[@]}"; do wait "$r"; done
  after="$(pg_cpu_seconds)"
  echo "$before $after" >"$work/$name.pgcpu"
  kill -TERM "${pids[@]}"
  for r in "${pids[@]}"; do wait "$r" || true; done
  for r in $(seq 1 "$replicas"); do
    if ! grep -q '"calls":[1-9]' "$work/${name}_$r.json"; then
      echo "service_bench: $name replica $r answered no calls: $(cat "$work/${name}_$r.json")" >&2
      return 1
    fi
    echo "${name}_$r $(cat "$work/${name}_$r.json")"
  done
}
start_postgres
run_pg pg1 1
run_pg pg2 2

field() {  # NAME KEY
  grep -o "\"$2\":[0-9.e+-]*" "$work/$1.json" | cut -d: -f2
}
# CPU per call: the server's and the generator's (they share the machine).
for name in audit_on audit_off empty_handler tls_jwt_audit audit_on_1x1 cds_hooks_audit \
  cds_hooks_jwt_audit; do
  printf '%-14s %8.0f calls/s  p50 %7.0f us  p99 %7.0f us  errors %s  cpu/call server %4.0f us generator %4.0f us\n' \
    "$name" "$(field "$name" calls_per_second)" "$(field "$name" p50_us)" \
    "$(field "$name" p99_us)" "$(field "$name" errors)" \
    "$(field "$name" server_cpu_us_per_call)" "$(field "$name" generator_cpu_us_per_call)"
done
awk -v a="$(field audit_on calls_per_second)" -v o="$(field audit_off calls_per_second)" \
  -v e="$(field empty_handler calls_per_second)" 'BEGIN {
    printf "audit_on / empty_handler throughput: %.2f\n", a / e
    printf "audit_on / audit_off throughput: %.2f\n", a / o
  }'
# The metrics' cost: mean server CPU per call with them, against without
# (target: under 3%).
mean() {  # PREFIX KEY: the mean of KEY over the rounds' runs named PREFIX_N
  local total=0
  for r in $(seq 1 "$rounds"); do
    total="$(awk -v t="$total" -v v="$(field "${1}_$r" "$2")" 'BEGIN { print t + v }')"
  done
  awk -v t="$total" -v n="$rounds" 'BEGIN { print t / n }'
}
for audit in on off; do
  printf 'audit %-3s       plain %6.0f calls/s %4.0f us cpu/call;  metrics %6.0f calls/s %4.0f us cpu/call\n' \
    "$audit" "$(mean "m_${audit}_plain" calls_per_second)" \
    "$(mean "m_${audit}_plain" server_cpu_us_per_call)" \
    "$(mean "m_${audit}_metrics" calls_per_second)" \
    "$(mean "m_${audit}_metrics" server_cpu_us_per_call)"
done
awk -v on="$(mean m_on_plain server_cpu_us_per_call)" \
  -v onm="$(mean m_on_metrics server_cpu_us_per_call)" \
  -v off="$(mean m_off_plain server_cpu_us_per_call)" \
  -v offm="$(mean m_off_metrics server_cpu_us_per_call)" -v n="$rounds" 'BEGIN {
    printf "metrics overhead, server cpu/call, mean of %d alternated rounds: audit on %+.1f%%, audit off %+.1f%% (target < 3%%)\n",
      n, 100 * (onm / on - 1), 100 * (offm / off - 1)
  }'
# PostgreSQL against SQLite, with one replica and two. Over a run's
# replicas: calls/s summed; p50 and p99 the highest of the generators';
# server CPU per call weighted by calls. PostgreSQL's CPU per record: its
# processes' CPU over the run over the calls answered (a record each).
pg_summary() {  # NAME REPLICAS
  local files=() r
  for r in $(seq 1 "$2"); do files+=("$work/${1}_$r.json"); done
  awk -v pgcpu="$(cat "$work/$1.pgcpu")" -v label="postgresql, $2 replica(s)" '
    function num(key,   m) {
      return match($0, "\"" key "\":[0-9.e+-]*") ? substr($0, RSTART + length(key) + 3, RLENGTH - length(key) - 3) + 0 : 0
    }
    { calls += num("calls"); rate += num("calls_per_second")
      cpu += num("server_cpu_us_per_call") * num("calls")
      if (num("p50_us") > p50) p50 = num("p50_us")
      if (num("p99_us") > p99) p99 = num("p99_us") }
    END { split(pgcpu, t, " ")
      printf "%-24s %8.0f %9.0f %9.0f %13.0f us %17.0f us\n", label, rate, p50, p99, cpu / calls,
        1e6 * (t[2] - t[1]) / calls }' "${files[@]}"
}
printf '%-24s %8s %9s %9s %16s %20s\n' store calls/s "p50 us" "p99 us" "server cpu/call" "postgres cpu/record"
printf '%-24s %8.0f %9.0f %9.0f %13.0f us %20s\n' "sqlite, 1 replica" \
  "$(field audit_on calls_per_second)" "$(field audit_on p50_us)" "$(field audit_on p99_us)" \
  "$(field audit_on server_cpu_us_per_call)" "-"
pg_summary pg1 1
pg_summary pg2 2

# The performance targets: server CPU per call against the empty handler's
# (gRPC's own cost), audit-on throughput against audit-off's in the same run,
# and the peak resident set of the audit-on server under load.
echo
echo "Targets, each figure beside its limit:"
awk -v on="$(field audit_on server_cpu_us_per_call)" \
  -v off="$(field audit_off server_cpu_us_per_call)" \
  -v empty="$(field empty_handler server_cpu_us_per_call)" \
  -v ton="$(field audit_on calls_per_second)" -v toff="$(field audit_off calls_per_second)" \
  -v rss="$(cat "$work/audit_on.rss_kib" 2>/dev/null || echo 0)" '
  function report(figure, shown, value, limit, at_least) {
    printf "  %-46s %12s  target %s %s: %s\n", figure, shown, at_least ? "at least" : "at most",
      limit, (at_least ? value >= limit : value <= limit) ? "met" : "not met"
  }
  BEGIN {
    report("server cpu/call, --audit=off / empty handler", sprintf("%.2fx", off / empty), off / empty, 2, 0)
    report("server cpu/call, audit on / empty handler", sprintf("%.2fx", on / empty), on / empty, 3, 0)
    report("throughput, audit on / audit off", sprintf("%.2fx", ton / toff), ton / toff, 0.85, 1)
    report("peak RSS under load, audit on (MiB)", sprintf("%.1f", rss / 1024), rss / 1024, 64, 0)
  }'
