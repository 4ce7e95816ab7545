#!/usr/bin/env bash
# What gort costs an HTTP service (issue 9): tests/workloads/httpsvc (4 goroutines per request,
# loopback only) under wrk, untraced vs `gort top` (default: auto mode within --overhead) vs
# `gort top --exact`, interleaved in one run (REPS rounds of the three), printing each run's
# requests/s and the medians' ratios to untraced.
# Synchronisation by protocol: httpsvc prints "ready PID PORT"; gort prints "gort: attached".
# Besides throughput, each run prints what explains it: the service's CPU per request, gort's
# own CPU (on a 2-core box running wrk and the service, gort's CPU is the service's), the run
# time of gort's BPF programs (sched_switch runs on every context switch of the machine; the
# goroutine programs on every trap), the goroutine traps per second and their calibrated cost.
# Usage: scripts/bench-service.sh [BUILD_DIR]   (root; needs wrk)
# Env: REPS (default 3), SECS (wrk seconds per run, default 8), CONNS (default 16), VERB (top, the
# default, or record: `gort record` to a file instead, its figures from `gort report --json`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
build=$(cd "$build" && pwd)
gort=$build/gort
reps=${REPS:-3}
verb=${VERB:-top}
secs=${SECS:-8}
conns=${CONNS:-16}
die() { echo "bench-service.sh: $*" >&2; exit 1; }
[ "$verb" = top ] || [ "$verb" = record ] || die "VERB=$verb: use top or record"
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
stats_pid=
cleanup() {
  [ -n "$stats_pid" ] && kill "$stats_pid" 2>/dev/null || true
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

# The run time of BPF programs is counted while a BPF_ENABLE_STATS fd is open (refcounted by
# the kernel: nothing to restore, and it ends with this helper).
python3 - <<'PY' &
import ctypes, os, signal
libc = ctypes.CDLL(None, use_errno=True)
attr = (ctypes.c_uint32 * 32)()  # union bpf_attr: enable_stats.type = BPF_STATS_RUN_TIME (0)
fd = libc.syscall(321, 32, ctypes.byref(attr), ctypes.sizeof(attr))  # __NR_bpf, BPF_ENABLE_STATS
signal.pause() if fd >= 0 else None
PY
stats_pid=$!

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# Nanoseconds gort's BPF programs ran so far (from its own fds' fdinfo).
bpf_ns() {
  local n=0 f v
  for f in /proc/"$1"/fdinfo/*; do
    v=$(awk '/^run_time_ns:/ {print $2}' "$f" 2>/dev/null) || continue
    [ -n "$v" ] && n=$((n + v))
  done
  echo "$n"
}
hz=$(getconf CLK_TCK)

# run_one untraced|default|exact: sets RESULT to wrk's requests/s and FIGURES to what explains it.
run_one() {
  local mode=$1 args=() s0 s1 g0=0 g1=0 b0=0 b1=0
  gort_pid=
  if [ "$mode" != untraced ]; then
    [ "$mode" = exact ] && args=(--exact)
    if [ "$verb" = record ]; then
      "$gort" record -p "$svc_pid" -o "$tmp/gort.$mode.gort" --force --interval 1s "${args[@]}" 2>"$tmp/gort.err" &
    else
      "$gort" top -p "$svc_pid" --json --interval 1s "${args[@]}" >"$tmp/gort.$mode.json" 2>"$tmp/gort.err" &
    fi
    gort_pid=$!
    for _ in $(seq 300); do grep -qs '^gort: attached' "$tmp/gort.err" && break; sleep 0.1; done
    grep -q '^gort: attached' "$tmp/gort.err" || die "gort did not attach: $(cat "$tmp/gort.err")"
    g0=$(cpu_ticks "$gort_pid")
    b0=$(bpf_ns "$gort_pid")
  fi
  s0=$(cpu_ticks "$svc_pid")
  RESULT=$(wrk -t2 -c"$conns" -d"${secs}s" "http://127.0.0.1:$port/" | awk '/^Requests\/sec:/ {print $2}')
  s1=$(cpu_ticks "$svc_pid")
  CPUREQ=$(awk -v d=$((s1 - s0)) -v r="$RESULT" -v s="$secs" -v hz="$hz" 'BEGIN {printf "%.2f", d / hz * 1e6 / (r * s)}')
  FIGURES="svc $CPUREQ us CPU/req"
  TRAPS=0
  if [ -n "$gort_pid" ]; then
    g1=$(cpu_ticks "$gort_pid")
    b1=$(bpf_ns "$gort_pid")
    kill -INT "$gort_pid"
    wait "$gort_pid" || true
    gort_pid=
    # A recording's figures are its report's: the same JSON, once, at the end.
    [ "$verb" = record ] && "$gort" report "$tmp/gort.$mode.gort" --json >"$tmp/gort.$mode.json"
    # Traps and their cost over the whole run (the mean of gort's per-interval figures), and the
    # mode and sampling fraction it ended in.
    FIGURES+=$(python3 - "$tmp/gort.$mode.json" <<'PY' 2>/dev/null || echo " ?"
import json, sys
costs = [json.loads(l)["processes"][0]["probe_cost"] for l in open(sys.argv[1]) if l.strip()]
last = costs[-1]
traps = sum(c["traps_per_sec"] for c in costs) / len(costs)
print(", traps/s %.0f x %.0f ns = %.2f%% CPU (%s at the end, fraction %.3f, %d mode changes)" %
      (traps, last["trap_ns"], traps * last["trap_ns"] / 1e7, last["mode"], last["sample_fraction"], last["mode_changes"]))
PY
)
    TRAPS=$(sed -n 's/.*traps\/s \([0-9]*\) x.*/\1/p' <<<"$FIGURES")
    FIGURES+=$(awk -v g=$((g1 - g0)) -v b=$((b1 - b0)) -v s="$secs" -v hz="$hz" 'BEGIN {printf ", gort %.1f%% CPU, its BPF %.2f%% CPU", g / hz * 100 / s, b / 1e7 / s}')
  fi
}

declare -A all cpu
exact_traps_per_req=
printf 'load average at start: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= reps; r++)); do
  for mode in untraced default exact; do
    run_one "$mode"
    all[$mode]+="$RESULT "
    cpu[$mode]+="$CPUREQ "
    [ "$mode" = exact ] && exact_traps_per_req+="$(awk -v t="${TRAPS:-0}" -v r="$RESULT" 'BEGIN {printf "%.3f", t / r}') "
    printf 'round %d %-8s %10s req/s  load %s  %s\n' "$r" "$mode" "$RESULT" "$(cut -d' ' -f1 /proc/loadavg)" "$FIGURES"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
u=$(echo "${all[untraced]}" | median)
d=$(echo "${all[default]}" | median)
e=$(echo "${all[exact]}" | median)
printf 'median req/s: untraced %s, gort %s (default) %s, gort %s --exact %s\n' "$u" "$verb" "$d" "$verb" "$e"
awk -v u="$u" -v d="$d" -v e="$e" 'BEGIN {printf "ratio to untraced: default %.3f (target >= 0.95), --exact %.3f\n", d/u, e/u}'
# What a trap costs the service itself (its own CPU per request, exact minus untraced, over the
# traps per request), next to gort's calibration of an isolated trap: the service also pays in
# caches and TLB what the tight calibration loop does not.
cu=$(echo "${cpu[untraced]}" | median)
cd_=$(echo "${cpu[default]}" | median)
ce=$(echo "${cpu[exact]}" | median)
tpr=$(echo "$exact_traps_per_req" | median)
awk -v u="$cu" -v d="$cd_" -v e="$ce" -v t="$tpr" 'BEGIN {
  printf "median service CPU per request: untraced %.2f us, default %.2f us (%+.1f%%), --exact %.2f us (%+.1f%%)\n", u, d, (d / u - 1) * 100, e, (e / u - 1) * 100
  if (t > 0) printf "--exact: %.2f traps per request, so %.2f us of the service'"'"'s CPU per trap\n", t, (e - u) / t
}'
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
