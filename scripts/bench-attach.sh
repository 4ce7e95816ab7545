#!/usr/bin/env bash
# What attaching costs gort on Go programs of different sizes: real programs built by Debian
# (stripped), fetched by scripts/install-deps.sh into .toolchains/apps/ (never installed):
# sid's prometheus (~100 MB, the issue's large stripped binary) and prometheus-node-exporter
# (~16 MB), plus bookworm's /usr/bin/prometheus (~50 MB) when installed.
# For each: attach time (gort started -> its "gort: attached" line) and gort's peak RSS
# (VmHWM of /proc/<gort>/status) at that line and after its first report. Goal for the
# ~100 MB binary (issue 8): peak RSS <= 64 MB, attach <= 500 ms. Figures, not assertions.
# Synchronisation is by protocol: each program's own ready line, gort's "attached" line, then
# its first JSON report on stdout.
# Usage: scripts/bench-attach.sh [BUILD_DIR]   (default: build; needs BUILD_DIR/gort, root)
# Env: REPS (default 3).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
gort=$build/gort
reps=${REPS:-3}
apps=$root/.toolchains/apps

die() { echo "bench-attach.sh: $*" >&2; exit 1; }
[ -x "$gort" ] || die "$gort missing: run scripts/build.sh gort"
[ "$(id -u)" = 0 ] || die "needs root (uprobes): run it with sudo"
large=$apps/prometheus/usr/bin/prometheus
[ -x "$large" ] || die "$large missing: run scripts/install-deps.sh (fetch_app sid prometheus)"

tmp=$(mktemp -d)
prog_pid=
cleanup() {
  # Only the processes this script started.
  if [ -n "${GORT_PID:-}" ]; then kill -INT "$GORT_PID" 2>/dev/null || true; fi
  if [ -n "$prog_pid" ]; then kill -KILL "$prog_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# start_program NAME PATH READY_PATTERN ARGS...: starts it (loopback only, its data in $tmp)
# and returns once it has logged READY_PATTERN; sets prog_pid.
start_program() {
  local name=$1 path=$2 ready=$3 log=$tmp/$1.log
  shift 3
  : > "$log"
  "$path" "$@" > "$log" 2>&1 &
  prog_pid=$!
  # tail -f follows the log as the program writes it; timeout bounds a program that fails.
  # (grep's early exit ends tail by SIGPIPE: only grep's status counts.)
  (set +o pipefail; timeout 60 tail -n +1 -f --pid="$prog_pid" "$log" | grep -q -m1 -- "$ready") ||
    die "$name did not log '$ready': $(tail -n 5 "$log")"
}

# measure NAME: attaches gort to $prog_pid once; prints attach ms, VmHWM at attach and after
# gort's first report, and VmRSS then (kB).
measure() {
  local line t0 t1 hwm_attach hwm_report rss_report
  t0=$(date +%s%N)
  coproc GORT { exec "$gort" top -p "$prog_pid" --json --interval 500ms 2>&1; }
  while IFS= read -r -t 60 -u "${GORT[0]}" line; do
    case $line in
      "gort: attached"*) break ;;
      gort:*error*|gort:*cannot*) die "$1: $line" ;;
    esac
  done
  t1=$(date +%s%N)
  hwm_attach=$(awk '/^VmHWM/ {print $2}' "/proc/$GORT_PID/status")
  # The first report: a JSON object on gort's stdout.
  while IFS= read -r -t 60 -u "${GORT[0]}" line; do
    case $line in "{"*) break ;; esac
  done
  hwm_report=$(awk '/^VmHWM/ {print $2}' "/proc/$GORT_PID/status")
  rss_report=$(awk '/^VmRSS/ {print $2}' "/proc/$GORT_PID/status")
  kill -INT "$GORT_PID"
  wait "$GORT_PID" || true
  echo "$(( (t1 - t0) / 1000000 )) $hwm_attach $hwm_report $rss_report"
}

# bench NAME PATH READY ARGS...
bench() {
  local name=$1 path=$2 size
  size=$(stat -c %s "$path")
  start_program "$@"
  local r attach=() hwm=0 hwm2=0 rss=0 a h1 h2 r1
  for ((r = 0; r < reps; r++)); do
    read -r a h1 h2 r1 < <(measure "$name")
    attach+=("$a")
    (( h1 > hwm )) && hwm=$h1
    (( h2 > hwm2 )) && hwm2=$h2
    (( r1 > rss )) && rss=$r1
  done
  kill -KILL "$prog_pid" 2>/dev/null || true
  wait "$prog_pid" 2>/dev/null || true
  prog_pid=
  local median
  median=$(printf '%s\n' "${attach[@]}" | sort -n | sed -n "$(( (reps + 1) / 2 ))p")
  printf '%-34s %6.1f MB  attach %5d ms (median of %d: %s)  peak RSS %5.1f MB at attach, %5.1f MB after first report (RSS then %5.1f MB)\n' \
    "$name" "$(echo "$size / 1048576" | bc -l)" "$median" "$reps" "${attach[*]}" \
    "$(echo "$hwm / 1024" | bc -l)" "$(echo "$hwm2 / 1024" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
}

cat > "$tmp/prometheus.yml" <<'YML'
global:
  scrape_interval: 1h
scrape_configs: []
YML
prom_args=(--config.file="$tmp/prometheus.yml" --web.listen-address=127.0.0.1:0)

echo "$("$gort" --version | head -n 2 | paste -sd ' ')"
node=$apps/prometheus-node-exporter/usr/bin/prometheus-node-exporter
if [ -x "$node" ]; then
  bench "node-exporter (sid, stripped)" "$node" "Listening on" \
    --web.listen-address=127.0.0.1:0 --collector.disable-defaults --collector.loadavg
fi
if [ -x /usr/bin/prometheus ]; then
  bench "prometheus (bookworm, stripped)" /usr/bin/prometheus "Server is ready" \
    "${prom_args[@]}" --storage.tsdb.path="$tmp/data-bookworm"
fi
bench "prometheus (sid, stripped)" "$large" "Server is ready" "${prom_args[@]}" --storage.tsdb.path="$tmp/data-sid"
echo "goal for the ~100 MB stripped binary: peak RSS <= 64 MB, attach <= 500 ms"
