#!/usr/bin/env bash
# What gort costs an HTTP service (issue 9): tests/workloads/httpsvc (4 goroutines per request,
# loopback only) under wrk, untraced vs `gort top` (default: auto mode within --overhead) vs
# `gort top --exact`, interleaved in one run (REPS rounds of the three), printing each run's
# requests/s and the medians' ratios to untraced.
# Synchronisation by protocol: httpsvc prints "ready PID PORT"; gort prints "gort: attached".
# Usage: scripts/bench-service.sh [BUILD_DIR]   (root; needs wrk)
# Env: REPS (default 3), SECS (wrk seconds per run, default 8), CONNS (default 16).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
build=$(cd "$build" && pwd)
gort=$build/gort
reps=${REPS:-3}
secs=${SECS:-8}
conns=${CONNS:-16}
die() { echo "bench-service.sh: $*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk not found (scripts/install-deps.sh installs it)"
[ -x "$gort" ] || die "$gort not built"

read -r goversion go < <("$root/scripts/go-toolchains.sh" | tail -n 1) || true
[ -n "${go:-}" ] || die "no Go toolchain found"
svc=$build/workloads/go$goversion/httpsvc
# built by the build (tests/workloads/CMakeLists.txt), like every workload
ninja -C "$build" "workloads/go$goversion/httpsvc" > /dev/null

tmp=$(mktemp -d)
svc_pid=
gort_pid=
cleanup() {
  [ -n "$gort_pid" ] && kill -INT "$gort_pid" 2>/dev/null || true
  [ -n "$gort_pid" ] && wait "$gort_pid" 2>/dev/null || true
  [ -n "$svc_pid" ] && kill -KILL "$svc_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# The service: one instance for the whole run (its goroutine rate is what matters).
mkfifo "$tmp/in"
"$svc" <"$tmp/in" >"$tmp/svc.out" 2>&1 &
exec 3>"$tmp/in"
for _ in $(seq 100); do grep -q '^ready ' "$tmp/svc.out" 2>/dev/null && break; sleep 0.1; done
read -r _ svc_pid port <"$tmp/svc.out" || die "httpsvc did not start"

# run_one untraced|default|exact: sets RESULT to wrk's requests/s.
run_one() {
  local mode=$1 args=()
  gort_pid=
  if [ "$mode" != untraced ]; then
    [ "$mode" = exact ] && args=(--exact)
    "$gort" top -p "$svc_pid" --json --interval 1s "${args[@]}" >"$tmp/gort.$mode.json" 2>"$tmp/gort.err" &
    gort_pid=$!
    for _ in $(seq 300); do grep -q '^gort: attached' "$tmp/gort.err" && break; sleep 0.1; done
    grep -q '^gort: attached' "$tmp/gort.err" || die "gort did not attach: $(cat "$tmp/gort.err")"
  fi
  RESULT=$(wrk -t2 -c"$conns" -d"${secs}s" "http://127.0.0.1:$port/" | awk '/^Requests\/sec:/ {print $2}')
  if [ -n "$gort_pid" ]; then
    kill -INT "$gort_pid"
    wait "$gort_pid" || true
    gort_pid=
    LAST_COST=$(tail -n 1 "$tmp/gort.$mode.json" | python3 -c 'import json,sys; p=json.load(sys.stdin)["processes"][0]["probe_cost"]; print("mode=%s traps/s=%.0f trap_ns=%.0f cpu=%.2f%% fraction=%.3f" % (p["mode"], p["traps_per_sec"], p["trap_ns"], p["cpu_percent"], p["sample_fraction"]))' 2>/dev/null || echo "?")
  else
    LAST_COST=-
  fi
}

declare -A all
for ((r = 1; r <= reps; r++)); do
  for mode in untraced default exact; do
    run_one "$mode"
    all[$mode]+="$RESULT "
    printf 'round %d %-8s %10s req/s   %s\n' "$r" "$mode" "$RESULT" "$LAST_COST"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
u=$(echo "${all[untraced]}" | median)
d=$(echo "${all[default]}" | median)
e=$(echo "${all[exact]}" | median)
printf 'median req/s: untraced %s, gort top (default) %s, gort top --exact %s\n' "$u" "$d" "$e"
awk -v u="$u" -v d="$d" -v e="$e" 'BEGIN {printf "ratio to untraced: default %.3f (target >= 0.95), --exact %.3f\n", d/u, e/u}'
