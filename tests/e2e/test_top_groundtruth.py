#!/usr/bin/env python3
"""gort top against ground truth: tests/workloads/groundtruth knows exactly what it did (goroutines
per function, GC cycles, GC pause total from runtime.MemStats, STWs, slow nanosleeps) and reports
it; gort's last JSON object, once the program has exited, must say the same. One test per Go
toolchain >= 1.21 present (go-toolchains.sh).

Run: python3 tests/e2e/test_top_groundtruth.py   (root; env GORT, GORT_SOURCE_DIR, GORT_BUILD_DIR)
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gortlib  # noqa: E402

MS = 1000 * 1000

# stw.gc.total_ns must equal MemStats.PauseTotalNs exactly: gort reads the runtime's own pause
# boundaries. A version for which that proves impossible gets a relative tolerance here, with
# the reason in a comment; none needs one so far.
PAUSE_TOLERANCE = {}


def sites_by_function(proc, field):
    out = {}
    for s in proc.get("sites", []):
        out[s["function"]] = out.get(s["function"], 0) + s[field]
    return out


class TopGroundTruth(gortlib.GortTestCase):
    def trace_groundtruth(self, tc, args=()):
        """Runs groundtruth under `gort top --json` to the end; returns (report, program status,
        gort's last JSON object, the program's entry in it)."""
        gortlib.require_gort()
        gortlib.require_root()
        exe = gortlib.build(tc, "groundtruth")
        prog = self.reaper.program(exe, args)
        gort = self.reaper.gort(["top", "-p", prog.pid, "--json", "--interval", "200ms",
                                 "--syscall-threshold", "5ms"])
        gort.wait_attached()
        prog.go()
        report = prog.read_report()
        prog.close_stdin()  # the program exits; gort must then end by itself
        status = prog.wait(timeout=30)
        try:
            gort_status = gort.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.fail("gort did not end by itself within 60s after its only target (pid %d) exited; "
                      "stderr: %s" % (prog.pid, gort.stderr_text()[-2000:]))
        self.assertEqual(gort_status, 0, "gort exit status; stderr: %s" % gort.stderr_text()[-2000:])
        objs = gort.json_lines()
        self.assertTrue(objs, "gort printed no JSON")
        last = objs[-1]
        proc = gortlib.process_in(last, prog.pid)
        self.assertIsNotNone(proc, "pid %d missing from gort's last object: %s" % (prog.pid, last))
        return report, status, last, proc

    def check_toolchain(self, tc):
        report, status, last, p = self.trace_groundtruth(tc)
        self.assertEqual(report["nanosleeps"], 3, "the program's own count (a signal interrupted a sleep?)")
        self.assertGreaterEqual(report["num_gc"], report["explicit_gc"], "the workload itself")
        # Every mismatch is collected, so that one run shows all that is wrong for a version.
        problems = []

        def expect(what, got, want, ok=None):
            if not (got == want if ok is None else ok):
                problems.append("%s: gort says %r, expected %s%r" % (
                    what, got, "" if ok is None else "(see test) ", want))

        expect("program exit status under tracing", status, 0)
        expect("exited", p.get("exited"), True)
        expect("go_version", str(p.get("go_version")).lstrip("go"), report["go_version"].lstrip("go"))
        expect("lost_events", p.get("lost_events"), 0)

        # Goroutines per creation site (go wrappers resolved to the function they run, also when
        # that function was inlined into the wrapper, as main.leakWorker is from Go 1.22 on).
        created = sites_by_function(p, "created")
        exited = sites_by_function(p, "exited")
        for fn, n in sorted(report["created"].items()):
            expect("sites[%s].created" % fn, created.get(fn), n)
            expect("sites[%s].exited" % fn, exited.get(fn, 0), report["exited"].get(fn, 0))
        leak = [s for s in p["sites"] if s["function"] == "main.leakWorker"]
        expect("sites[main.leakWorker].live", sum(s["live"] for s in leak), report["created"]["main.leakWorker"])
        expect("sites[main.leakWorker].system", [s["system"] for s in leak], [False] * len(leak))

        # User goroutines: the program starts no others than those it reports.
        g = p["goroutines"]
        expect("goroutines.live_at_attach", g["live_at_attach"], report["num_goroutine_at_start"])
        expect("goroutines.created", g["created"], sum(report["created"].values()))
        expect("goroutines.exited", g["exited"], sum(report["exited"].values()))
        expect("goroutines.live", g["live"], report["num_goroutine"])
        expect("goroutines.live = live_at_attach + created - exited", g["live"],
               g["live_at_attach"] + g["created"] - g["exited"])
        expect("goroutines.peak >= live", g["peak"], g["live"], ok=g["peak"] >= g["live"])

        # GC cycles and GC stop-the-world pauses.
        expect("gc.cycles", p["gc"]["cycles"], report["num_gc"])
        stw = p["stw"]
        tol = PAUSE_TOLERANCE.get(tc.version)
        got = stw["gc"]["total_ns"]
        want = report["pause_total_ns"]
        if tol is None:
            expect("stw.gc.total_ns (MemStats.PauseTotalNs)", got, want)
        else:
            expect("stw.gc.total_ns within %g%% of MemStats.PauseTotalNs" % (tol * 100), got, want,
                   ok=abs(got - want) <= want * tol)
        by_reason = stw["by_reason"]
        # Every cycle has exactly one sweep-termination and one mark-termination STW.
        for reason in ("GC sweep termination", "GC mark termination"):
            expect("stw.by_reason[%s].count" % reason, by_reason.get(reason, {}).get("count"), report["num_gc"])
        expect("stw.gc.count", stw["gc"]["count"], 2 * report["num_gc"])

        # Non-GC STWs: the program's own GOMAXPROCS round trip and ReadMemStats calls.
        for reason, n in (("GOMAXPROCS", report["gomaxprocs_calls"]),
                          ("read mem stats", report["read_mem_stats_calls"])):
            c = by_reason.get(reason, {}).get("count")
            expect("stw.by_reason[%s].count >= %d" % (reason, n), c, n, ok=c is not None and c >= n)
        n = report["gomaxprocs_calls"] + report["read_mem_stats_calls"]
        expect("stw.other.count >= %d" % n, stw["other"]["count"], n, ok=stw["other"]["count"] >= n)

        # The deliberately slow syscalls (threshold 5 ms: each takes >= 30 ms).
        sc = {s["name"]: s for s in p["syscalls"]}
        ns = sc.get("nanosleep")
        if ns is None:
            problems.append("syscalls: no nanosleep entry (%s)" % sorted(sc))
        else:
            d = report["nanosleep_ns"]
            expect("syscalls[nanosleep].count", ns["count"], report["nanosleeps"])
            expect("syscalls[nanosleep].total_ns >= 3 x %d" % d, ns["total_ns"], 3 * d, ok=ns["total_ns"] >= 3 * d)
            expect("syscalls[nanosleep].max_ns in [%d, %d)" % (d, 10 * d), ns["max_ns"], d,
                   ok=d <= ns["max_ns"] < 10 * d)
            expect("syscalls[nanosleep].by_function", ns["by_function"], {"main.sleeper": 3})

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
        self.assertEqual(sites_by_function(p, "created").get("main.churnWorker"), 20, last)


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
