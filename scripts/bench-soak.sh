#!/usr/bin/env bash
# Soak: does gort's memory stay flat over a long system-wide session? Runs `gort top --all --json`
# and `gort record --all` side by side for MINUTES (default 10) over
#   - churning short-lived Go processes (tests/workloads/short, ~0.3 s each, JOBS at a time, a new
#     one as soon as one ends: thousands of PIDs that each get attached, traced and dropped), and
#   - a high stop-the-world rate (a Go program calling runtime.GC() every millisecond: two STW
#     pauses per cycle, each one a ring-buffer record and a pause for the percentile sketch),
# and prints both gorts' RSS after the warm-up and at the end, their peak, how many processes each
# traced, and the lost events (0 expected) from top's JSON and from `gort report` of the recording.
# Only processes this script starts are traced (--comm on a name unique to this run).
# Synchronisation is on gort's own lines ("following every Go process", "recording every Go
# process"); the sleeps below only pace the measurement (warm-up, duration).
# Usage: scripts/bench-soak.sh [MINUTES] [BUILD_DIR]   (needs BUILD_DIR/gort, root)
# Env: JOBS (concurrent short-lived processes, default 4), WARMUP (seconds, default: a tenth of
# the run, at least 10).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
minutes=${1:-10}
build=${2:-$root/build}
build=$(cd "$build" && pwd)
gort=$build/gort
jobs=${JOBS:-4}
[[ $minutes =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "bench-soak.sh: MINUTES must be a number, e.g. 10 or 0.5" >&2; exit 2; }
secs=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')
((secs >= 20)) || { echo "bench-soak.sh: run at least 20 s (MINUTES >= 0.34)" >&2; exit 2; }
warmup=${WARMUP:-$((secs / 10 > 10 ? secs / 10 : 10))}

die() { echo "bench-soak.sh: $*" >&2; exit 1; }
[ -x "$gort" ] || die "no $gort (build it: scripts/build.sh gort)"

read -r goversion go < <("$root/scripts/go-toolchains.sh" | tail -n 1) || true
[ -n "${go:-}" ] || die "no Go toolchain found (run scripts/install-deps.sh)"

tmp=$(mktemp -d)
tag=sk$$
pids=()
cleanup() {
  # Only the processes this script started (the spawner loop first, so it starts no more).
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

gobuild() { # gobuild SRC_DIR OUT
  (cd "$1" && GO111MODULE=off GOTOOLCHAIN=local GOFLAGS= GOCACHE="$build/go-cache" "$go" build -o "$2" .)
}
mkdir -p "$tmp/gcstorm"
cat >"$tmp/gcstorm/main.go" <<'EOF'
// A stop-the-world storm: a forced GC cycle (two STW pauses) every millisecond, with a little
// garbage so that each cycle has something to mark.
package main

import (
	"runtime"
	"time"
)

var sink [][]byte

func main() {
	for i := 0; ; i++ {
		sink = append(sink, make([]byte, 4096))
		if len(sink) > 256 {
			sink = sink[:0]
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}
EOF
gobuild "$tmp/gcstorm" "$tmp/$tag-gc"
gobuild "$root/tests/workloads/short" "$tmp/$tag-short"

# rss_kb PID [VmRSS|VmHWM]
rss_kb() { awk -v k="${2:-VmRSS}:" '$1 == k { print $2 }' "/proc/$1/status"; }

# start_gort NAME LINE_PREFIX ARGS...: starts gort (stdout to $tmp/NAME.out), waits for its line
# on stderr; sets GORT_PID.
start_gort() {
  local name=$1 prefix=$2 line= fd
  shift 2
  mkfifo "$tmp/$name.err"
  "$gort" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  GORT_PID=$!
  pids+=("$GORT_PID")
  exec {fd}<"$tmp/$name.err"
  while IFS= read -r -t 60 -u "$fd" line; do
    echo "$line" >>"$tmp/$name.log"
    [[ $line == "$prefix"* ]] && break
  done
  [[ $line == "$prefix"* ]] || die "gort $name did not start: $(cat "$tmp/$name.log" 2>/dev/null)"
  # Keep draining its stderr (attached/exited lines) so that it never blocks on it.
  cat <&"$fd" >>"$tmp/$name.log" &
  exec {fd}<&-
}

start_gort top "gort: following every Go process" \
  top --all --comm "^$tag-" --json --interval 1s --duration "${secs}s"
top_pid=$GORT_PID
start_gort record "gort: recording every Go process" \
  record --all --comm "^$tag-" -o "$tmp/soak.gort" --interval 1s --duration "${secs}s"
record_pid=$GORT_PID
t0=$(awk '{ printf "%d", $1 }' /proc/uptime)

"$tmp/$tag-gc" &
pids+=($!)
# The churn: JOBS loops, each starting the next short-lived process when its last one ended.
for ((j = 0; j < jobs; j++)); do
  (trap 'exit 0' TERM; while :; do "$tmp/$tag-short" || true; done) &
  pids+=($!)
done

echo "soak: ${minutes} min (${secs} s), warm-up ${warmup} s, Go $goversion, $jobs short-lived processes at a time + a runtime.GC() loop"
# sleep_until SECONDS_SINCE_START: also ends the run as soon as either gort is gone early.
sleep_until() {
  local now name
  while now=$(awk '{ printf "%d", $1 }' /proc/uptime); ((now < t0 + $1)); do
    for name in top record; do
      local pid=$top_pid
      [ "$name" = record ] && pid=$record_pid
      if ! kill -0 "$pid" 2>/dev/null; then
        local st=0
        wait "$pid" || st=$?
        die "gort $name ended early (status $st): $(tail -n 3 "$tmp/$name.log")"
      fi
    done
    sleep 1
  done
}
sleep_until "$warmup"
top_rss0=$(rss_kb "$top_pid")
rec_rss0=$(rss_kb "$record_pid")
echo "after warm-up: top --all RSS ${top_rss0} kB, record --all RSS ${rec_rss0} kB"
# Halfway, once more: flat means the end is where the middle was, not only where the start was.
sleep_until $(((secs + warmup) / 2))
echo "halfway:       top --all RSS $(rss_kb "$top_pid") kB, record --all RSS $(rss_kb "$record_pid") kB"
# Just before their --duration ends (they exit on their own then).
sleep_until $((secs - 3))
top_rss1=$(rss_kb "$top_pid")
rec_rss1=$(rss_kb "$record_pid")
echo "at the end:    top --all RSS ${top_rss1} kB, record --all RSS ${rec_rss1} kB" \
  "(peaks $(rss_kb "$top_pid" VmHWM) / $(rss_kb "$record_pid" VmHWM) kB)"
wait "$top_pid" || die "top exited with $?: $(tail -n 5 "$tmp/top.log")"
wait "$record_pid" || die "record exited with $?: $(tail -n 5 "$tmp/record.log")"

"$gort" report "$tmp/soak.gort" --json >"$tmp/report.json" || die "report failed"
python3 - "$tmp/top.out" "$tmp/report.json" "$tmp/top.log" "$tmp/record.log" "$tmp/soak.gort" \
  "$top_rss0" "$top_rss1" "$rec_rss0" "$rec_rss1" <<'EOF'
import json, os, sys
top_out, report, top_log, rec_log, rec_file = sys.argv[1:6]
top_rss0, top_rss1, rec_rss0, rec_rss1 = map(int, sys.argv[6:10])
# top --json: cumulative per process; a process's last object (exited: true) has its final figures.
# PIDs wrap during a long churn (pid_max is often 32768, and each Go process takes a few for its
# threads), so a process is one PID from its first object to its "exited" one.
ended, current, objects = [], {}, 0
with open(top_out) as f:
    for line in f:
        objects += 1
        for p in json.loads(line)["processes"]:
            current[p["pid"]] = p
            if p["exited"]:
                ended.append(current.pop(p["pid"]))
def summary(procs):
    gc = [p for p in procs if p["comm"].endswith("-gc")]
    stw = sum(p["stw"]["gc"]["count"] + p["stw"]["other"]["count"] for p in gc)
    return (len(procs), sum(p["lost_events"] for p in procs), stw,
            max((p["stw"]["gc"]["p99_ns"] for p in gc), default=0))
tn, tlost, tstw, tp99 = summary(ended + list(current.values()))
rn, rlost, rstw, rp99 = summary(json.load(open(report))["processes"])
attached = lambda log: sum(1 for l in open(log) if l.startswith("gort: attached to PID "))
print("top --all:    %d processes attached, %d in the JSON (%d objects), lost events %d, STW pauses %d (gc p99 %.1f us)"
      % (attached(top_log), tn, objects, tlost, tstw, tp99 / 1e3))
print("record --all: %d processes attached, %d PIDs in the report (one per PID), lost events %d, STW pauses %d (gc p99 %.1f us), file %.1f MB"
      % (attached(rec_log), rn, rlost, rstw, rp99 / 1e3, os.path.getsize(rec_file) / 1e6))
print("RSS after warm-up -> end: top --all %d -> %d kB (%+d), record --all %d -> %d kB (%+d)"
      % (top_rss0, top_rss1, top_rss1 - top_rss0, rec_rss0, rec_rss1, rec_rss1 - rec_rss0))
if tlost or rlost:
    print("LOST EVENTS: top %d, record %d (0 expected)" % (tlost, rlost))
EOF
