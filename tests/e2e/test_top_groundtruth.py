#!/usr/bin/env python3
"""gort top against ground truth: tests/workloads/groundtruth knows exactly what it did (goroutines
per function, GC cycles, GC pause total from runtime.MemStats, STWs, slow nanosleeps) and reports
it; gort's last JSON object, once the program has exited, must say the same. One test per Go
toolchain >= 1.21 present (go-toolchains.sh).

Run: python3 tests/e2e/test_top_groundtruth.py   (root; env GORT, GORT_SOURCE_DIR, GORT_BUILD_DIR)
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gortlib  # noqa: E402

from groundtruth_check import groundtruth_problems, sites_by_function  # noqa: E402


class TopGroundTruth(gortlib.GortTestCase):
    def trace_groundtruth(self, tc, args=()):
        """Runs groundtruth under `gort top --json` to the end; returns (report, program status,
        gort's last JSON object, the program's entry in it)."""
        gortlib.require_gort()
        gortlib.require_root()
        t = self.trace_to_end(gortlib.workload(tc, "groundtruth"), args,
                              ["top", "--exact", "--json", "--interval", "200ms", "--syscall-threshold", "5ms"])
        report, status, gort_status, prog, gort = t
        self.assertEqual(gort_status, 0, "gort exit status; stderr: %s" % gort.stderr_text()[-2000:])
        objs = gort.json_lines()
        self.assertTrue(objs, "gort printed no JSON")
        last = objs[-1]
        proc = gortlib.process_in(last, prog.pid)
        self.assertIsNotNone(proc, "pid %d missing from gort's last object: %s" % (prog.pid, last))
        self.check_growth(objs, prog.pid)
        return report, status, last, proc

    def check_growth(self, objs, pid):
        """goroutines.growth is live at the newest point of the live history minus live at its
        first (60 points kept; one per interval, and one when the process ends). An interval
        that follows the one before by under 50 ms adds no point, so each object's growth is its
        live, or an earlier object's, minus the first object's."""
        procs = [p for p in (gortlib.process_in(o, pid) for o in objs) if p is not None][:50]
        self.assertTrue(procs, "pid %d in no object" % pid)
        first = procs[0]["goroutines"]["live"]
        self.assertEqual(procs[0]["goroutines"]["growth"], 0)
        for i, p in enumerate(procs):
            seen = {q["goroutines"]["live"] - first for q in procs[:i + 1]}
            self.assertIn(p["goroutines"]["growth"], seen, "object %d of %s" % (i, procs))
        # The program's goroutines change while it runs: then some object shows the change.
        if any(p["goroutines"]["live"] != first for p in procs):
            self.assertTrue(any(p["goroutines"]["growth"] != 0 for p in procs), procs)

    def check_toolchain(self, tc):
        report, status, last, p = self.trace_groundtruth(tc)
        problems = groundtruth_problems(tc.version, report, status, p)
        if problems:
            self.fail("Go %s (%s): %d mismatches with ground truth:\n  %s\nprogram's report: %s\n"
                      "gort's last object: %s" % (tc.version, report["go_version"], len(problems),
                                                 "\n  ".join(problems), report, last))

    def test_exit_status_unchanged(self):
        """A traced program's exit status is its own (-exit-code 7)."""
        tc = gortlib.newest_toolchain()
        report, status, last, p = self.trace_groundtruth(
            tc, ["-exit-code", "7", "-leakers", "5", "-churn", "20", "-alloc-mb", "16", "-gcs", "1"])
        self.assertEqual(status, 7)
        self.assertIs(p["exited"], True)
        self.assertEqual(sites_by_function(p, "created").get("main.churnWorker"),
                         report["created"]["main.churnWorker"], last)


def _add_toolchain_tests():
    try:
        tcs = gortlib.toolchains(min_version=(1, 21))
    except Exception as e:  # reported as a failing test rather than an import error
        def test_toolchains(self, e=e):
            self.fail("cannot list Go toolchains: %s" % e)
        TopGroundTruth.test_toolchains = test_toolchains
        return
    if not tcs:
        def test_toolchains(self):
            self.fail("no Go toolchain >= 1.21 found: run scripts/install-deps.sh")
        TopGroundTruth.test_toolchains = test_toolchains
    for tc in tcs:
        def test(self, tc=tc):
            self.check_toolchain(tc)
        test.__doc__ = "gort top matches groundtruth built with Go %s" % tc.version
        setattr(TopGroundTruth, "test_go" + tc.version.replace(".", "_"), test)


_add_toolchain_tests()

if __name__ == "__main__":
    gortlib.main()
