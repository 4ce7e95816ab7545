#!/usr/bin/env python3
"""Benchmark (not a test) of `gort goroutines` on a program with many parked goroutines.

Starts tests/workloads/parked (-n N, 100 000 by default, built with the newest toolchain), then
in the same run:
  1. `gort goroutines -p PID` (text, to a discarded pipe): its wall time, and over that window
     the program's longest heartbeat gap (a goroutine waking every 200µs: a stop-the-world shows
     as a gap), its MemStats.PauseTotalNs and NumGC deltas;
  2. the program's own pprof.Lookup("goroutine").WriteTo(w, 2): its duration and the same
     window figures (WriteTo at debug=2 stops the world while it prints every stack).
Each is repeated --runs times; figures are printed, nothing is asserted.

Run: sudo scripts/bench-goroutines.py [-n 100000] [--runs 3]   (after building gort)
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import gortlib  # noqa: E402


def window(prog, action):
    prog.send("mark\n")
    prog.wait_line(lambda l: l == "marked", what="marked", timeout=60)
    result = action()
    prog.send("report\n")
    line = prog.wait_line(lambda l: l.startswith('{"'), what="report", timeout=60)
    return result, json.loads(line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    gortlib.require_root()
    gortlib.require_gort()
    tc = gortlib.newest_toolchain()
    # built by the build (tests/workloads/CMakeLists.txt), like every workload
    target = os.path.relpath(gortlib.workload_path(tc, "parked"), gortlib.BUILD_DIR)
    subprocess.run(["ninja", "-C", gortlib.BUILD_DIR, target], check=True, stdout=subprocess.DEVNULL)
    exe = gortlib.workload(tc, "parked")
    reaper = gortlib.Reaper()
    try:
        prog = reaper.program(exe, ["-n", str(args.n)])
        print("parked goroutines: %d (%s, pid %d)" % (args.n, tc, prog.pid))
        for run in range(args.runs):
            def gort_dump():
                t = time.monotonic()
                r = gortlib.run([gortlib.GORT, "goroutines", "-p", prog.pid], timeout=300)
                dt = time.monotonic() - t
                if r.returncode != 0:
                    raise SystemExit("gort goroutines failed: " + r.stderr)
                return dt, r.stdout.count("\ngoroutine ") + 1

            (g_s, g_count), g_win = window(prog, gort_dump)

            def pprof_dump():
                prog.send("pprof\n")
                return json.loads(prog.wait_line(lambda l: l.startswith('{"'), what="pprof", timeout=300))

            p, p_win = window(prog, pprof_dump)
            print("run %d: gort goroutines %.3f s for %d goroutines; program's longest stall meanwhile %.2f ms, "
                  "PauseTotalNs +%d, NumGC +%d" % (run + 1, g_s, g_count, g_win["max_gap_ns"] / 1e6,
                                                   g_win["pause_total_ns_delta"], g_win["num_gc_delta"]))
            print("       pprof WriteTo(debug=2) %.3f s (%d bytes); program's longest stall meanwhile "
                  "%.2f ms, PauseTotalNs +%d" % (p["pprof_ns"] / 1e9, p["bytes"], p_win["max_gap_ns"] / 1e6,
                                                 p_win["pause_total_ns_delta"]))
    finally:
        reaper.cleanup()


if __name__ == "__main__":
    main()
