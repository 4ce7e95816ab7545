#!/usr/bin/env python3
"""gort gctrace against the runtime's own GODEBUG=gctrace=1: groundtruth runs with the variable
set (its GC is off until the start line, so every cycle runs while gort watches); gort's lines on
stdout must be the runtime's lines on the program's stderr, and --json the same cycles unrounded.

Run: python3 tests/e2e/test_gctrace.py   (root; env GORT, GORT_SOURCE_DIR, GORT_BUILD_DIR)
"""

import os
import json
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gortlib  # noqa: E402

LINE = re.compile(r"^gc (\d+) @[\d.]+s \d+%: .* ms clock, .* ms cpu, (\d+)->(\d+)->(\d+) MB, (\d+) MB goal, "
                  r"\d+ MB stacks, \d+ MB globals, (\d+) P( \(forced\))?$")


class Gctrace(gortlib.GortTestCase):
    def run_gctrace(self, tc, extra=()):
        gortlib.require_gort()
        gortlib.require_root()
        exe = gortlib.build(tc, "groundtruth")
        env = dict(os.environ, GODEBUG="gctrace=1")
        prog = self.reaper.program(exe, ["-alloc-mb", "64"], env=env)
        gort = self.reaper.gort(["gctrace", "-p", prog.pid] + list(extra))
        gort.wait_attached()
        prog.go()
        report = prog.read_report()
        prog.close_stdin()
        self.assertEqual(prog.wait(timeout=30), 0)
        self.assertEqual(gort.wait(timeout=60), 0, gort.stderr_text()[-2000:])
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
        for text in ours:
            c = json.loads(text)
            m = by_num[c["gc"]]
            self.assertEqual([c["heap_start_bytes"] >> 20, c["heap_end_bytes"] >> 20, c["heap_marked_bytes"] >> 20,
                              c["heap_goal_bytes"] >> 20, c["procs"]],
                             [int(m.group(i)) for i in range(2, 7)], m.group(0))
            self.assertEqual(c["forced"], m.group(7) is not None)


if __name__ == "__main__":
    gortlib.main()
