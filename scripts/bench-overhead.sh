#!/usr/bin/env bash
# Measures what gort costs a traced Go program per goroutine (gort probes every creation and
# exit): tests/workloads/churn spawns N goroutines in batches of 1000 and times itself, once
# untraced and once under `gort top -p PID --json --interval 1s`, 3 repetitions each (medians).
# Synchronisation is by protocol, never by sleeping: churn prints "ready PID" and waits for a
# line on stdin; gort prints "gort: attached ..." on stderr once every probe is live.
# Usage: scripts/bench-overhead.sh [BUILD_DIR]   (default: build; needs BUILD_DIR/gort, root)
# Env: N (goroutines, default 200000), REPS (default 3), UNTRACED_ONLY=1 (skip the traced half).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
mkdir -p "$build"
build=$(cd "$build" && pwd)
gort=$build/gort
n=${N:-200000}
reps=${REPS:-3}
timeout_s=60

die() { echo "bench-overhead.sh: $*" >&2; exit 1; }

read -r goversion go < <("$root/scripts/go-toolchains.sh" | tail -n 1) || true
[ -n "${go:-}" ] || die "no Go toolchain found (run scripts/install-deps.sh)"
churn=$build/workloads/go$goversion/churn
# built by the build (tests/workloads/CMakeLists.txt), like every workload
ninja -C "$build" "workloads/go$goversion/churn" > /dev/null

tmp=$(mktemp -d)
churn_pid=
gort_pid=
cleanup() {
  # Only the processes this script started.
  [ -n "$gort_pid" ] && kill -INT "$gort_pid" 2>/dev/null || true
  [ -n "$churn_pid" ] && kill -KILL "$churn_pid" 2>/dev/null || true
  if [ -n "$gort_pid" ]; then
    for _ in $(seq 50); do kill -0 "$gort_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$gort_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# wait_gone PID SECONDS: waits for a process that is not our child to end (polls: this waits
# for an end, it does not order two events).
wait_gone() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

# run_one traced|untraced: sets RESULT to churn's ns_per_goroutine. (Not run in a subshell, so
# that the EXIT trap sees the pids to clean up.)
run_one() {
  local mode=$1 line pid result
  mkfifo "$tmp/in" "$tmp/out"
  "$churn" -n "$n" <"$tmp/in" >"$tmp/out" &
  churn_pid=$!
  exec 7>"$tmp/in" 8<"$tmp/out"
  rm -f "$tmp/in" "$tmp/out"
  IFS= read -r -t "$timeout_s" -u 8 line || die "churn did not print its ready line"
  [[ $line == "ready $churn_pid" ]] || die "unexpected line from churn: $line"
  if [ "$mode" = traced ]; then
    exec 9< <(exec "$gort" top -p "$churn_pid" --json --interval 1s 2>&1 >/dev/null)
    gort_pid=$!
    local attached=
    while IFS= read -r -t "$timeout_s" -u 9 line; do
      echo "$line" >>"$tmp/gort.log"
      if [[ $line == "gort: attached"* ]]; then attached=1; break; fi
    done
    [ -n "$attached" ] || die "gort did not report attached (it exited, or ${timeout_s}s passed): $(cat "$tmp/gort.log" 2>/dev/null)"
    # Keep draining gort's stderr so that it never blocks on it.
    cat <&9 >>"$tmp/gort.log" &
    exec 9<&-
  fi
  echo go >&7
  IFS= read -r -t "$timeout_s" -u 8 result || die "churn did not report"
  exec 7>&- 8<&-
  wait "$churn_pid" || die "churn exited with status $?"
  churn_pid=
  if [ "$mode" = traced ]; then
    kill -INT "$gort_pid" 2>/dev/null || true
    wait_gone "$gort_pid" 10 || die "gort (pid $gort_pid) still running 10s after SIGINT"
    if [ -r /sys/kernel/tracing/uprobe_events ] && grep -q gort /sys/kernel/tracing/uprobe_events; then
      die "gort left uprobe events behind: $(grep gort /sys/kernel/tracing/uprobe_events | head -3)"
    fi
    gort_pid=
  fi
  result=${result#*\"ns_per_goroutine\":}
  RESULT=${result%%[,\}]*}
}

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

if [ -z "${UNTRACED_ONLY:-}" ]; then
  [ -x "$gort" ] || die "$gort not built (or set UNTRACED_ONLY=1)"
  [ "$(id -u)" = 0 ] || die "the traced half needs root"
fi
echo "churn: $n goroutines in batches of 1000, Go $goversion, $reps repetitions each"
untraced=()
for ((r = 1; r <= reps; r++)); do run_one untraced; untraced+=("$RESULT"); done
mu=$(median "${untraced[@]}")

if [ -n "${UNTRACED_ONLY:-}" ]; then
  printf '%-10s %12s   %s\n' mode "median ns" "runs (ns/goroutine)"
  printf '%-10s %12.1f   %s\n' untraced "$mu" "${untraced[*]}"
  exit 0
fi

traced=()
for ((r = 1; r <= reps; r++)); do run_one traced; traced+=("$RESULT"); done
mt=$(median "${traced[@]}")

printf '%-10s %12s   %s\n' mode "median ns" "runs (ns/goroutine)"
printf '%-10s %12.1f   %s\n' untraced "$mu" "${untraced[*]}"
printf '%-10s %12.1f   %s\n' traced "$mt" "${traced[*]}"
awk -v u="$mu" -v t="$mt" 'BEGIN {
  printf "added cost per goroutine (spawn+exit): %.2f µs\n", (t - u) / 1000
  printf "ratio traced/untraced: %.2fx\n", t / u
}'
# The per-GC-cycle read (gort gctrace, the heap figures): nothing per goroutine, one BPF run per
# cycle, measured by the kernel's own BPF run-time statistics.
if command -v bpftool >/dev/null 2>&1; then
  gt=$build/workloads/go$goversion/groundtruth
  # built by the build (tests/workloads/CMakeLists.txt), like every workload
  ninja -C "$build" "workloads/go$goversion/groundtruth" > /dev/null
  python3 "$root/scripts/bench-gc-cycle.py" "$gort" "$gt"
else
  echo "note: no bpftool: the per-GC-cycle read cost is not measured"
fi
if pgrep -x gort >/dev/null 2>&1; then
  echo "note: other gort processes are running (not started by this script): $(pgrep -x gort | tr '\n' ' ')"
fi
