#!/usr/bin/env bash
# Measures gort's system-wide tax: what a process gort does NOT trace pays while gort traces
# another one. The bystander is syscall-bound and not Go: `dd if=/dev/zero of=/dev/null bs=1`
# (two syscalls per byte). It runs, interleaved, REPS times in each mode:
#   untraced   nothing of gort's running (a Go process is running, idle for gort);
#   gort       `gort top -p PID` traces that Go process (the demo target) meanwhile;
#   old-gort   the same with another gort binary, if OLD_GORT=/path/to/gort is given (e.g. a
#              build of the main branch, which used the sys_enter/sys_exit tracepoints).
# Figures are dd's CPU time (user+sys, from the shell's `time`): the tax is paid inside dd's own
# syscalls and context switches, and CPU time does not move when the machine's other tenants
# steal the CPU the way wall time does (wall time is printed too). Medians; ratio = mode/untraced.
# A second bystander, SWITCHES=1 (default when `perf` is installed), is context-switch-bound:
# `perf bench sched pipe` (two processes ping-ponging over pipes), since gort's slow-syscall
# program runs per context switch.
# Synchronisation is by protocol: the demo prints "demo: pid N"; gort prints "gort: attached".
# Usage: scripts/bench-syscall-tax.sh [BUILD_DIR]   (default: build; needs BUILD_DIR/gort,
#        BUILD_DIR/gort-demo-target from scripts/build-demo.sh, root)
# Env: COUNT (dd bytes, default 2M), REPS (default 5), OLD_GORT, SWITCHES (0/1), LOOPS (pipe
#      round trips, default 200000).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
build=$(cd "$build" && pwd)
gort=$build/gort
demo=$build/gort-demo-target
count=${COUNT:-2M}
reps=${REPS:-5}
loops=${LOOPS:-200000}
old_gort=${OLD_GORT:-}
timeout_s=60
if [ -z "${SWITCHES:-}" ]; then
  if command -v perf >/dev/null 2>&1; then switches=1; else switches=0; fi
else
  switches=$SWITCHES
fi

die() { echo "bench-syscall-tax.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (gort loads BPF programs)"
[ -x "$gort" ] || die "$gort not built (ninja -C $build)"
[ -x "$demo" ] || die "$demo not built (scripts/build-demo.sh $build)"
[ -z "$old_gort" ] || [ -x "$old_gort" ] || die "OLD_GORT=$old_gort is not an executable"

tmp=$(mktemp -d)
demo_pid=
gort_pid=
stop_gort() {
  [ -n "$gort_pid" ] || return 0
  kill -INT "$gort_pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do kill -0 "$gort_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$gort_pid" 2>/dev/null || true
  gort_pid=
}
cleanup() {
  # Only the processes this script started.
  stop_gort
  [ -n "$demo_pid" ] && kill -KILL "$demo_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# The Go process gort traces: the demo target (goroutines, GC, slow syscalls, all the time).
exec 8< <(exec "$demo")
demo_pid=$!
IFS= read -r -t "$timeout_s" -u 8 line || die "the demo target did not start"
[[ $line == "demo: pid $demo_pid" ]] || die "unexpected line from the demo target: $line"
cat <&8 >/dev/null &
exec 8<&-

# start_gort BINARY: `BINARY top -p demo` until it says it attached.
start_gort() {
  exec 9< <(exec "$1" top -p "$demo_pid" --json --interval 1s 2>&1 >/dev/null)
  gort_pid=$!
  local line attached=
  while IFS= read -r -t "$timeout_s" -u 9 line; do
    echo "$line" >>"$tmp/gort.log"
    if [[ $line == "gort: attached"* ]]; then attached=1; break; fi
  done
  [ -n "$attached" ] || die "$1 did not report attached: $(cat "$tmp/gort.log" 2>/dev/null)"
  cat <&9 >>"$tmp/gort.log" &  # keep draining gort's stderr
  exec 9<&-
}

# measure CMD...: sets WALL and CPU (seconds) of CMD (and its children).
measure() {
  local TIMEFORMAT='%3R %3U %3S' out
  out=$( { time "$@" >/dev/null 2>&1; } 2>&1 ) || die "$* failed"
  read -r WALL user sys <<<"$out"
  CPU=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')
}

modes=(untraced gort)
[ -n "$old_gort" ] && modes+=(old-gort)
benches=(dd)
[ "$switches" = 1 ] && benches+=(pipe)
declare -A cpu wall
for ((r = 1; r <= reps; r++)); do
  for mode in "${modes[@]}"; do
    case $mode in
      gort) start_gort "$gort" ;;
      old-gort) start_gort "$old_gort" ;;
    esac
    for b in "${benches[@]}"; do
      case $b in
        dd) measure dd if=/dev/zero of=/dev/null bs=1 count="$count" ;;
        pipe) measure perf bench sched pipe -l "$loops" ;;
      esac
      cpu[$b.$mode]+="$CPU "
      wall[$b.$mode]+="$WALL "
    done
    stop_gort
  done
done

median() { printf '%s\n' $1 | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
least() { printf '%s\n' $1 | sort -g | head -n 1; }
echo "bystanders: dd bs=1 count=$count$([ "$switches" = 1 ] && echo ", perf bench sched pipe -l $loops"); $reps interleaved repetitions; gort traces PID $demo_pid (demo target)"
# paired A B: the median over repetitions of A[r] / B[r]. Runs next to each other in time share
# the machine's load, so this ratio does not drift with what the other tenants do meanwhile.
paired() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    n = split(a, x, " "); split(b, y, " ")
    for (i = 1; i <= n; i++) r[i] = x[i] / y[i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
    printf "%.3f", r[int((n + 1) / 2)]
  }'
}
printf '%-5s %-9s %9s %9s %7s %7s %7s   %s\n' bench mode "cpu s" "wall s" paired median min "cpu runs (s)"
for b in "${benches[@]}"; do
  base=$(median "${cpu[$b.untraced]}")
  base_min=$(least "${cpu[$b.untraced]}")
  for mode in "${modes[@]}"; do
    m=$(median "${cpu[$b.$mode]}")
    w=$(median "${wall[$b.$mode]}")
    l=$(least "${cpu[$b.$mode]}")
    printf '%-5s %-9s %9.3f %9.3f %7s %7.3f %7.3f   %s\n' "$b" "$mode" "$m" "$w" \
      "$(paired "${cpu[$b.$mode]}" "${cpu[$b.untraced]}")" \
      "$(awk -v m="$m" -v b="$base" 'BEGIN { print m / b }')" \
      "$(awk -v m="$l" -v b="$base_min" 'BEGIN { print m / b }')" "${cpu[$b.$mode]}"
  done
done
echo "cpu s, wall s: medians. Ratios to untraced of the bystander's CPU time: paired = median of each"
echo "repetition's own ratio (the headline: immune to the load drifting during the run), then the"
echo "ratio of the medians and of the minima. Target for gort: <= 1.03"
