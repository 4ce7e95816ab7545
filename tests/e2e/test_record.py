#!/usr/bin/env python3
"""gort record, report and export, as a user runs them:

- record + report --json against ground truth: every check of test_top_groundtruth.py, with the
  figures taken from `gort report --json` of a recording instead of `top --json` (one test per Go
  toolchain >= 1.21);
- a recorder killed with SIGKILL mid-session leaves a file that still reports (a warning for its
  tail, exit 0, the figures up to its last chunk);
- export --format chrome is valid trace-event JSON and holds the program's pauses and syscalls;
- bad files: one line on stderr, exit 6; an existing output is never overwritten without --force.

Run: python3 tests/e2e/test_record.py   (root; env GORT, GORT_SOURCE_DIR, GORT_BUILD_DIR)
"""

import json
import os
import shutil
import signal
import stat
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gortlib  # noqa: E402
import test_top_groundtruth  # noqa: E402
from groundtruth_check import EXPECT, SYSCALL_THRESHOLD_NS, slow_bounds  # noqa: E402

BAD_FILE, USAGE = 6, 2


def report_json(path):
    """(status, the one JSON object on stdout or None, stderr lines) of `gort report --json`."""
    r = gortlib.run([gortlib.GORT, "report", path, "--json"], timeout=60)
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    obj = json.loads(lines[0]) if r.returncode == 0 and len(lines) == 1 else None
    return r.returncode, obj, r.stderr.splitlines(), r


class RecordTestCase(gortlib.GortTestCase):
    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="gort-record-test-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def wait_in_file(self, out, pid, done, what, timeout=30):
        """Syncs on the recording while the recorder runs (chunks reach the file at least every
        second): `report --json` of it until `done(the process's entry)`; returns the entry."""
        deadline = time.monotonic() + timeout
        while True:
            rc, obj, err, r = report_json(out)
            p = gortlib.process_in(obj, pid) if obj else None
            if p and done(p):
                return p
            self.assertLess(time.monotonic(), deadline, "%s never reached %s: %r" % (what, out, r))
            time.sleep(0.2)


class RecordGroundTruth(test_top_groundtruth.TopGroundTruth, RecordTestCase):
    """The ground-truth checks of `top`, on `record` + `report --json` (the toolchain tests are
    inherited from TopGroundTruth: only where the figures come from differs)."""

    def trace_groundtruth(self, tc, args=()):
        gortlib.require_gort()
        gortlib.require_root()
        out = self.path("groundtruth.gort")
        t = self.trace_to_end(gortlib.workload(tc, "groundtruth"), args,
                              ["record", "--exact", "-o", out, "--interval", "200ms", "--syscall-threshold", "5ms"])
        report, status, gort_status, prog, gort = t
        self.assertEqual(gort_status, 0, "gort record status; stderr: %s" % gort.stderr_text()[-2000:])
        self.assertEqual(gort.stdout_text(), "", "record writes nothing on stdout")
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o600, "recordings are created 0600")
        rc, last, err, r = report_json(out)
        self.assertEqual(rc, 0, "gort report: %r" % (r,))
        self.assertEqual(err, [], "a clean recording reports without warnings")
        self.assertIsNotNone(last, "gort report --json printed one JSON object: %r" % r.stdout[:2000])
        proc = gortlib.process_in(last, prog.pid)
        self.assertIsNotNone(proc, "pid %d missing from the report: %s" % (prog.pid, last))
        return report, status, last, proc


class RecordKilled(RecordTestCase):
    def test_sigkill_mid_session_still_reports(self):
        """SIGKILL while the target runs: the file reports what its complete chunks hold, with a
        warning for the tail, and exit status 0."""
        gortlib.require_gort()
        gortlib.require_root()
        exe = gortlib.workload(gortlib.newest_toolchain(), "groundtruth")
        prog = self.reaper.program(exe)
        out = self.path("killed.gort")
        gort = self.reaper.gort(["record", "-p", prog.pid, "-o", out, "--syscall-threshold", "5ms"])
        gort.wait_attached()
        prog.go()
        report = prog.read_report()  # the workload is done; the program waits for EOF

        # The workload's figures appear in the file within a few seconds while the recorder runs.
        self.wait_in_file(out, prog.pid, lambda p: p["gc"]["cycles"] == report["num_gc"] and
                          p["goroutines"]["live"] == report["num_goroutine"], "the workload's figures")
        self.assertTrue(gort.running(), "the recorder ended by itself: %s" % gort.stderr_text())
        gort.signal(signal.SIGKILL)
        self.assertEqual(gort.wait(timeout=10), -signal.SIGKILL)

        rc, obj, err, r = report_json(out)
        self.assertEqual(rc, 0, r)
        self.assertEqual(len(err), 1, "one warning line for the tail: %r" % err)
        self.assertRegex(err[0], r"^gort: warning: .*(killed|truncated)", err)
        p = gortlib.process_in(obj, prog.pid)
        self.assertIsNotNone(p, obj)
        self.assertIs(p["exited"], False, "the target was still running when the recorder died")
        self.assertEqual(p["gc"]["cycles"], report["num_gc"])
        self.assertEqual(p["stw"]["gc"]["total_ns"], report["pause_total_ns"])
        self.assertEqual(p["goroutines"]["live"], report["num_goroutine"])
        self.assertEqual(p["goroutines"]["created"], sum(report["created"].values()))

        # Cut inside its last chunk, the file still reports (the chunk before it).
        with open(out, "rb") as f:
            data = f.read()
        cut = self.path("cut.gort")
        with open(cut, "wb") as f:
            f.write(data[:len(data) - 7])
        rc, obj, err, r = report_json(cut)
        self.assertEqual(rc, 0, r)
        self.assertTrue(err and "truncated" in err[0], err)
        self.assertIsNotNone(gortlib.process_in(obj, prog.pid), obj)


class RecordSampled(RecordTestCase):
    def test_auto_mode_changes_and_estimates_are_reported(self):
        """record in auto mode with a tiny --overhead: the churn makes it switch to sampled and the
        quiet after it back to exact. report --json gives the program's own totals and per-site
        live, lists the modes with their reasons, and marks per-site created/exited as estimates;
        the text report says the same."""
        gortlib.require_gort()
        gortlib.require_root()
        exe = gortlib.workload(gortlib.newest_toolchain(), "groundtruth")
        bad = gortlib.run([gortlib.GORT, "record", "-p", "1", "-o", self.path("x.gort"), "--exact", "--sampled"])
        self.assertEqual(bad.returncode, USAGE, bad)
        self.assertIn("--exact and --sampled", bad.stderr)

        prog = self.reaper.program(exe, ["-paced-churn", "3000", "-paced-for", "1s"])
        out = self.path("auto.gort")
        gort = self.reaper.gort(["record", "-p", prog.pid, "-o", out, "--interval", "100ms", "--overhead", "0.01%",
                                 "--syscall-threshold", "5ms"])
        gort.wait_attached()
        prog.go()
        report = prog.read_report()  # the workload is done; the program waits for EOF

        # The quiet program's reading is in the file, and auto mode is back to exact.
        self.wait_in_file(out, prog.pid, lambda p: p["goroutines"]["live"] == report["num_goroutine"] and
                          p["probe_cost"]["modes"][-1]["reason"] == "under_budget", "auto mode back to exact", 60)
        gort.signal(signal.SIGINT)
        self.assertEqual(gort.wait(timeout=30), 0, gort.stderr_text())

        rc, obj, err, r = report_json(out)
        self.assertEqual(rc, 0, r)
        self.assertEqual(err, [], "a clean recording reports without warnings")
        p = gortlib.process_in(obj, prog.pid)
        g = p["goroutines"]
        self.assertEqual(g["created"], sum(report["created"].values()))
        self.assertEqual(g["exited"], sum(report["exited"].values()))
        self.assertEqual(g["live"], report["num_goroutine"])
        self.assertEqual(g["live_at_attach"], report["num_goroutine_at_start"])
        live = {}
        for site in p["sites"]:
            live[site["function"]] = live.get(site["function"], 0) + site["live"]
        self.assertEqual(live.get("main.leakWorker"), report["created"]["main.leakWorker"])
        self.assertEqual(live.get("main.pacedWorker", 0), 0)
        self.assertEqual(p["gc"]["cycles"], report["num_gc"])
        self.assertEqual(p["stw"]["gc"]["total_ns"], report["pause_total_ns"])

        cost = p["probe_cost"]
        modes = cost["modes"]
        self.assertEqual((modes[0]["mode"], modes[0]["reason"]), ("exact", "start"), modes)
        over = [m for m in modes if m["reason"] == "over_budget"]
        self.assertTrue(over, modes)
        self.assertEqual(over[0]["mode"], "sampled")
        self.assertGreater(over[0]["exact_cost_percent"], 0.01, "switched because exact mode cost over 0.01%")
        self.assertIn("sample_fraction", over[0])
        self.assertEqual(modes[-1]["mode"], "exact")
        for a, b in zip(modes, modes[1:]):
            self.assertEqual(a["to_s"], b["from_s"], modes)
        self.assertEqual(cost["estimated"], ["sites.created", "sites.exited"])
        self.assertIn("sites.live", cost["exact"])
        self.assertIn("goroutines", cost["exact"])

        text = gortlib.run([gortlib.GORT, "report", out])
        self.assertEqual(text.returncode, 0, text)
        self.assertRegex(text.stdout, r"\n  mode sampled from=\S+ to=\S+ reason=over_budget exact_cost=\S+% probes_on=")
        self.assertIn("  estimated=sites.created,sites.exited exact=goroutines,sites.live,", text.stdout)

        # The Chrome export marks the switches and takes per-site live from the readings.
        trace = self.path("auto.json")
        r = gortlib.run([gortlib.GORT, "export", out, "--format", "chrome", "-o", trace], timeout=60)
        self.assertEqual(r.returncode, 0, r)
        with open(trace) as f:
            events = [e for e in json.load(f)["traceEvents"] if e.get("pid") == prog.pid]
        switches = [e["args"]["reason"] for e in events if e.get("cat") == "mode"]
        self.assertEqual(switches[0], "over_budget", switches)
        self.assertEqual(switches[-1], "under_budget", switches)
        by_site = [e for e in events if e["ph"] == "C" and e["name"] == "live goroutines by creation site"]
        self.assertEqual(by_site[-1]["args"].get("main.leakWorker"), report["created"]["main.leakWorker"])


# The trace-event format's phases (Trace Event Format document, "Event Descriptions").
PHASES = set("BEXiIC" "bne" "stf" "PONDM" "Rc" "()")


class ExportChrome(RecordTestCase):
    def validate_trace(self, doc):
        """The trace-event format's rules; returns the events."""
        if isinstance(doc, dict):
            self.assertIn("traceEvents", doc)
            events = doc["traceEvents"]
        else:
            events = doc
        self.assertIsInstance(events, list)
        for ev in events:
            for key in ("name", "ph", "ts", "pid", "tid"):
                self.assertIn(key, ev, ev)
            self.assertIn(ev["ph"], PHASES, ev)
            self.assertIsInstance(ev["ts"], (int, float), ev)
            self.assertIsInstance(ev["pid"], int, ev)
            self.assertIsInstance(ev["tid"], int, ev)
            if ev["ph"] == "X":
                self.assertIsInstance(ev["dur"], (int, float), ev)
                self.assertGreaterEqual(ev["dur"], 0, ev)
            if ev["ph"] == "C":
                self.assertTrue(ev.get("args"), ev)
                for v in ev["args"].values():
                    self.assertIsInstance(v, (int, float), ev)
            if ev["ph"] == "M":
                self.assertIn(ev["name"], ("thread_name", "process_name", "process_sort_index",
                                           "thread_sort_index", "process_labels"), ev)
                self.assertIsInstance(ev["args"]["name"], str, ev)
        return events

    def test_export_is_valid_trace_event_json(self):
        gortlib.require_gort()
        gortlib.require_root()
        out = self.path("export.gort")
        # --exact: the live track follows every creation and exit to the program's last moment
        # (auto mode may end sampled, its figures as of its last reading).
        t = self.trace_to_end(gortlib.workload(gortlib.newest_toolchain(), "groundtruth"), [],
                              ["record", "--exact", "-o", out, "--interval", "100ms", "--syscall-threshold", "5ms"])
        report, prog = t.report, t.prog
        self.assertEqual(t.gort_status, 0, t.gort.stderr_text())

        trace = self.path("trace.json")
        r = gortlib.run([gortlib.GORT, "export", out, "--format", "chrome", "-o", trace], timeout=60)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))
        with open(trace) as f:
            events = self.validate_trace(json.load(f))
        mine = [e for e in events if e["pid"] == prog.pid]

        gc = [e for e in mine if e["ph"] == "X" and e.get("cat") == "gc"]
        self.assertEqual(len(gc), report["num_gc"], "one GC cycle slice per cycle")
        stw = [e for e in mine if e["ph"] == "X" and e.get("cat") == "stw"]
        self.assertTrue(all("reason" in e["args"] for e in stw + gc))
        gc_pauses = [e for e in stw if e["args"]["reason"].startswith("GC ")]
        self.assertEqual(len(gc_pauses), 2 * report["num_gc"])
        self.assertEqual(sum(e["args"]["duration_ns"] for e in gc_pauses), report["pause_total_ns"])

        # The slow nanosleeps, within what the program's timed calls allow (a signal may have cut
        # one short): each slice inside the longest timed call (give or take expect.json's slack).
        sleeps = [e for e in mine if e["ph"] == "X" and e["name"] == "nanosleep"]
        lo, hi = slow_bounds(report, SYSCALL_THRESHOLD_NS)
        self.assertTrue(lo <= len(sleeps) <= hi, report["nanosleep_calls"])
        longest = max(c["took_ns"] for c in report["nanosleep_calls"]) + EXPECT["slow_syscall"]["slack_ns"]
        names = {e["tid"]: e["args"]["name"] for e in mine if e["ph"] == "M" and e["name"] == "thread_name"}
        for e in sleeps:
            self.assertLessEqual(e["dur"] * 1000, longest + 1000, e)  # dur: whole microseconds
            self.assertIn("main.sleeper", names.get(e["tid"], ""), "the syscall's goroutine track is named")
        live = [e for e in mine if e["ph"] == "C"]
        self.assertTrue(live, "a live-goroutines counter track")
        self.assertEqual(live[-1]["args"]["live"], report["num_goroutine"])
        self.assertTrue(any(e["ph"] == "M" and e["name"] == "process_name" for e in mine))


class BadFiles(RecordTestCase):
    def assert_bad(self, args, status, mention):
        r = gortlib.run([gortlib.GORT] + args, timeout=30)
        what = "gort %s: %r" % (" ".join(args), r)
        self.assertEqual(r.returncode, status, what)
        self.assertEqual(r.stdout, "", what)
        self.assertEqual(len(r.stderr.splitlines()), 1, what)
        self.assertRegex(r.stderr, mention, what)

    def test_missing_foreign_and_newer_files(self):
        gortlib.require_gort()
        self.assert_bad(["report", self.path("nope.gort")], BAD_FILE, "cannot open")
        foreign = self.path("foreign")
        with open(foreign, "wb") as f:
            f.write(b"\x7fELF" + b"\0" * 100)
        self.assert_bad(["report", foreign], BAD_FILE, "not a gort recording")
        self.assert_bad(["export", foreign, "--format", "chrome", "-o", self.path("x.json")], BAD_FILE,
                        "not a gort recording")
        self.assertFalse(os.path.exists(self.path("x.json")), "no output for a bad input")
        newer = self.path("newer.gort")
        with open(newer, "wb") as f:
            f.write(b"\x89GORT\r\n\x1a" + (99).to_bytes(4, "little") + (0).to_bytes(4, "little"))
        self.assert_bad(["report", newer, "--json"], BAD_FILE, "newer gort")

    def test_existing_output_is_not_overwritten(self):
        gortlib.require_gort()
        out = self.path("taken.gort")
        with open(out, "w") as f:
            f.write("precious")
        # Refused before anything is attached (pid 1 would not even be a Go program).
        self.assert_bad(["record", "-p", "1", "-o", out], USAGE, "already exists.*--force")
        with open(out) as f:
            self.assertEqual(f.read(), "precious")

    def test_failed_attach_leaves_no_file(self):
        gortlib.require_gort()
        gortlib.require_root()
        out = self.path("never.gort")
        r = gortlib.run([gortlib.GORT, "record", "-p", "1", "-o", out], timeout=30)
        self.assertNotEqual(r.returncode, 0, r)
        self.assertFalse(os.path.exists(out), "a recording that never started leaves no file: %r" % (r,))
        # --force over an existing file: it is left as it was (the new file takes its name only
        # once the recording has started).
        with open(out, "w") as f:
            f.write("old")
        r = gortlib.run([gortlib.GORT, "record", "-p", "1", "-o", out, "--force"], timeout=30)
        self.assertNotEqual(r.returncode, 0, r)
        with open(out) as f:
            self.assertEqual(f.read(), "old", r)


# The toolchain tests and test_exit_status_unchanged come with TopGroundTruth; only this module's
# classes are collected (test_top_groundtruth is imported as a module, so its own are not re-run).
if __name__ == "__main__":
    gortlib.main()
