#!/usr/bin/env bash
# Measures what gort costs a traced Go program per goroutine: tests/workloads/churn spawns N
# goroutines in batches of 1000 and times itself, interleaved REPS times (medians) in four ways:
#  - untraced;
#  - floor: plain kernel uprobes, no BPF program, at gort's own goroutine attach points (those
#    `gort ps -v --json` lists for the process), set by build/gort_trap_floor through the uprobe
#    PMU: a breakpoint and the kernel's own uprobe handler, what any uprobe-based exact count
#    pays (the perf handler fills a trace record when the event's thread is on the CPU, which a
#    BPF program returning 0 skips: gort can come in under this floor);
#  - exact: `gort top --exact` (a trap per goroutine created and one per goroutine ended);
#  - default: `gort top` (auto mode: sampled once the traps would cost more than --overhead).
# It also prints gort's calibrated cost of one trap (`gort ps -v`), for comparison with the
# floor's per-trap figure measured here.
# Synchronisation is by protocol, never by sleeping: churn prints "ready PID" and waits for a
# line on stdin; gort prints "gort: attached ..." on stderr once every probe is live;
# gort_trap_floor prints "armed N".
# Usage: scripts/bench-overhead.sh [BUILD_DIR]   (default: build; needs BUILD_DIR/gort and
# BUILD_DIR/gort_trap_floor, root)
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
floor_pid=
cleanup() {
  # Only the processes this script started (the floor's breakpoints are its fds: they go with it).
  [ -n "$floor_pid" ] && kill -KILL "$floor_pid" 2>/dev/null || true
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

# goroutine_offsets PID: the file offsets of gort's goroutine probes in the process's binary.
goroutine_offsets() {
  "$gort" ps -v --json | python3 -c '
import json, sys
pid = int(sys.argv[1])
for e in json.load(sys.stdin):
    if e["pid"] == pid:
        print(" ".join(str(p["file_offset"]) for p in e["attach_points"] if p["program"].startswith("goroutine_")))
' "$1"
}

# run_one untraced|floor|exact|default: sets RESULT to churn's ns_per_goroutine. (Not run in a
# subshell, so that the EXIT trap sees the pids to clean up.)
run_one() {
  local mode=$1 line result offsets args=()
  mkfifo "$tmp/in" "$tmp/out"
  "$churn" -n "$n" <"$tmp/in" >"$tmp/out" &
  churn_pid=$!
  exec 7>"$tmp/in" 8<"$tmp/out"
  rm -f "$tmp/in" "$tmp/out"
  IFS= read -r -t "$timeout_s" -u 8 line || die "churn did not print its ready line"
  [[ $line == "ready $churn_pid" ]] || die "unexpected line from churn: $line"
  if [ "$mode" = floor ]; then
    offsets=$(goroutine_offsets "$churn_pid")
    [ -n "$offsets" ] || die "gort ps -v lists no goroutine probe for churn"
    mkfifo "$tmp/fin" "$tmp/fout"
    # shellcheck disable=SC2086
    "$build/gort_trap_floor" "$churn_pid" $offsets <"$tmp/fin" >"$tmp/fout" &
    floor_pid=$!
    exec 6>"$tmp/fin" 5<"$tmp/fout"
    rm -f "$tmp/fin" "$tmp/fout"
    IFS= read -r -t "$timeout_s" -u 5 line || die "gort_trap_floor did not arm"
    [[ $line == "armed "* ]] || die "unexpected line from gort_trap_floor: $line"
    FLOOR_PROBES=${line#armed }
  fi
  if [ "$mode" = exact ] || [ "$mode" = default ]; then
    [ "$mode" = exact ] && args=(--exact)
    exec 9< <(exec "$gort" top -p "$churn_pid" --json --interval 1s "${args[@]}" 2>&1 >/dev/null)
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
  if [ -n "$floor_pid" ]; then
    exec 6>&- 5<&-
    wait "$floor_pid" || die "gort_trap_floor failed"
    floor_pid=
  fi
  if [ -n "$gort_pid" ]; then
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
  [ -x "$build/gort_trap_floor" ] || die "$build/gort_trap_floor not built (scripts/build.sh gort_trap_floor)"
  [ "$(id -u)" = 0 ] || die "the traced half needs root"
fi
echo "churn: $n goroutines in batches of 1000, Go $goversion, $reps repetitions each, interleaved"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
modes=(untraced floor exact default)
[ -n "${UNTRACED_ONLY:-}" ] && modes=(untraced)
declare -A runs
for ((r = 1; r <= reps; r++)); do
  for mode in "${modes[@]}"; do
    run_one "$mode"
    runs[$mode]+="$RESULT "
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

printf '%-10s %12s %16s   %s\n' mode "median ns" "added µs/gorout." "runs (ns/goroutine)"
# shellcheck disable=SC2086
mu=$(median ${runs[untraced]})
for mode in "${modes[@]}"; do
  # shellcheck disable=SC2086
  m=$(median ${runs[$mode]})
  awk -v m="$mode" -v t="$m" -v u="$mu" -v r="${runs[$mode]}" 'BEGIN {printf "%-10s %12.1f %16.2f   %s\n", m, t, (t - u) / 1000, r}'
done
[ -n "${UNTRACED_ONLY:-}" ] && exit 0
mf=$(median ${runs[floor]})
me=$(median ${runs[exact]})
calibrated=$("$gort" ps -v | sed -n 's/.*trap costs a target \([0-9.]*\) us.*/\1/p')
awk -v u="$mu" -v f="$mf" -v e="$me" -v c="${calibrated:-0}" -v np="$FLOOR_PROBES" 'BEGIN {
  printf "trap floor (%d plain uprobes, no BPF, at gort'"'"'s goroutine attach points): %.2f µs per goroutine = 2 traps of %.2f µs\n", np, (f - u) / 1000, (f - u) / 2000
  printf "gort --exact: %.2f µs per goroutine, %.2fx the floor (its BPF and user space: %+.2f µs)\n", (e - u) / 1000, (e - u) / (f - u), (e - f) / 1000
  printf "gort'"'"'s calibrated cost of one trap (gort ps -v): %.2f µs\n", c
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
