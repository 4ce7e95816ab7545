#!/usr/bin/env python3
"""gort gctrace against the runtime's own GODEBUG=gctrace=1: groundtruth runs with the variable
set (its GC is off until the start line, so every cycle runs while gort watches); gort's lines on
stdout must be the runtime's lines on the program's stderr, and --json the same cycles unrounded.

Run: python3 tests/e2e/test_gctrace.py   (root; env GORT, GORT_SOURCE_DIR, GORT_BUILD_DIR)
"""

import os
import json
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gortlib  # noqa: E402

LINE = re.compile(r"^gc (\d+) @[\d.]+s \d+%: .* ms clock, .* ms cpu, (\d+)->(\d+)->(\d+) MB, (\d+) MB goal, "
                  r"\d+ MB stacks, \d+ MB globals, (\d+) P( \(forced\))?$")


class Gctrace(gortlib.GortTestCase):
    def run_gctrace(self, tc, extra=()):
        gortlib.require_gort()
        gortlib.require_root()
        t = self.trace_to_end(gortlib.workload(tc, "groundtruth"), ["-alloc-mb", "64"], ["gctrace"] + list(extra),
                              env=dict(os.environ, GODEBUG="gctrace=1"))
        report, prog, gort = t.report, t.prog, t.gort
        self.assertEqual((t.status, t.gort_status), (0, 0), gort.stderr_text()[-2000:])
        self.go_minor = int(report["go_version"].split(".")[1])
        runtime = [l.rstrip("\n") for l in prog.err_lines if l.startswith("gc ")]
        self.assertEqual(len(runtime), report["num_gc"])
        return runtime, [l.rstrip("\n") for l in gort.out_lines if l.strip()]

    def test_lines_equal_the_runtimes(self):
        """Every line gort prints is the line the runtime printed for that cycle."""
        runtime, ours = self.run_gctrace(gortlib.newest_toolchain())
        self.assertTrue(ours, "gort printed no line")
        self.assertEqual(ours, runtime)

    def test_json_is_the_same_cycles_unrounded(self):
        """--json: cycle number and P count exact; heap bytes give the runtime's MB after >>20."""
        runtime, ours = self.run_gctrace(gortlib.toolchains()[0], ["--json"])
        by_num = {}
        for l in runtime:
            m = LINE.match(l)
            self.assertIsNotNone(m, l)
            by_num[int(m.group(1))] = m
        self.assertEqual(len(ours), len(runtime))
        cycles = [json.loads(text) for text in ours]
        forced = {c["gc"]: c["forced"] for c in cycles}
        for c in cycles:
            m = by_num[c["gc"]]
            self.assertEqual([c["heap_start_bytes"] >> 20, c["heap_end_bytes"] >> 20, c["heap_marked_bytes"] >> 20,
                              c["heap_goal_bytes"] >> 20, c["procs"]],
                             [int(m.group(i)) for i in range(2, 7)], m.group(0))
            # Go 1.19-1.20 set work.userForced before taking worldsema: a runtime.GC() queued
            # behind a cycle marks the runtime's line for it "(forced)" (see README).
            racy = self.go_minor < 21 and not c["forced"] and forced.get(c["gc"] + 1, False)
            if not racy:
                self.assertEqual(c["forced"], m.group(7) is not None, m.group(0))

    def test_recording_and_export_carry_every_cycle(self):
        """record + export: the heap counter track has the three heap figures of every cycle and
        the goal; the live goroutine counter follows the recorded creations and exits, so the
        churn burst shows and its last value is the program's NumGoroutine."""
        gortlib.require_gort()
        gortlib.require_root()
        d = tempfile.mkdtemp(prefix="gort-gctrace-test-")
        self.addCleanup(shutil.rmtree, d, True)
        out, trace = os.path.join(d, "s.gort"), os.path.join(d, "s.json")
        t = self.trace_to_end(gortlib.workload(gortlib.newest_toolchain(), "groundtruth"),
                              ["-alloc-mb", "32", "-churn", "400", "-churn-batch", "200"], ["record", "-o", out])
        report = t.report
        self.assertEqual((t.status, t.gort_status), (0, 0), t.gort.stderr_text()[-2000:])
        r = gortlib.run([gortlib.GORT, "export", out, "--format", "chrome", "-o", trace], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(trace) as f:
            events = json.load(f)["traceEvents"]
        heap = [e for e in events if e["name"] == "heap (bytes)"]
        goal = [e for e in events if e["name"] == "heap goal (bytes)"]
        self.assertEqual(len(heap), 3 * report["num_gc"])
        self.assertEqual(len(goal), report["num_gc"])
        self.assertEqual(goal[-1]["args"]["goal"], report["gate"]["next_gc"])
        live = [e["args"]["live"] for e in events if e["name"] == "live goroutines (from creations and exits)"]
        self.assertTrue(live, "no goroutine counter from the recorded creations and exits")
        self.assertEqual(live[-1], report["num_goroutine"])
        # 50 leakers, then a batch of 200 churn goroutines alive at once at most.
        self.assertGreater(max(live), report["num_goroutine"], "the churn burst is visible")
        # `report` of the recording shows what every counters record carries: OS threads, the
        # heap figures read from the process, GOMAXPROCS (replay had no threads before).
        r = gortlib.run([gortlib.GORT, "report", out, "--json"], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        p = gortlib.process_in(json.loads(r.stdout), t.prog.pid)
        self.assertIsNotNone(p, r.stdout[:2000])
        self.assertGreater(p["os_threads"], 0)
        self.assertGreater(p["heap"]["alloc_bytes"], 0)
        self.assertGreater(p["heap"]["objects"], 0)
        self.assertEqual(p["heap"]["gomaxprocs"], report["gate"]["gomaxprocs"])


if __name__ == "__main__":
    gortlib.main()
