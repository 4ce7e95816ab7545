#!/usr/bin/env python3
"""gort ps: lists the Go processes (with their Go version) and not the others.

Run: python3 tests/e2e/test_ps.py   (root; env GORT, GORT_SOURCE_DIR, GORT_BUILD_DIR)
"""

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gortlib  # noqa: E402


def ps_entries(doc):
    """`gort ps --json` as a list of process objects: a JSON array, an object with a
    "processes" array, or one object per line."""
    doc = doc.strip()
    try:
        v = json.loads(doc)
    except ValueError:
        return [json.loads(l) for l in doc.splitlines() if l.strip()]
    if isinstance(v, dict):
        return v.get("processes", [v])
    return v


class Ps(gortlib.GortTestCase):
    def setUp(self):
        super().setUp()
        gortlib.require_gort()
        gortlib.require_root()
        self.tc = gortlib.newest_toolchain()
        self.go = self.reaper.program(gortlib.workload(self.tc, "groundtruth"))
        self.sleep = self.reaper.proc(["sleep", "100"], stdin=subprocess.DEVNULL)

    def test_json(self):
        r = gortlib.run([gortlib.GORT, "ps", "--json"], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        entries = ps_entries(r.stdout)
        by_pid = {e.get("pid"): e for e in entries}
        self.assertIn(self.go.pid, by_pid, r.stdout)
        e = by_pid[self.go.pid]
        want = self.tc.full_version()  # what runtime.Version() says, e.g. go1.22.12
        self.assertEqual(e["go_version"].lstrip("go"), want.lstrip("go"), e)
        self.assertEqual(os.path.realpath(e["exe"]), os.path.realpath(self.go.argv[0]), e)
        self.assertEqual(e["comm"], os.path.basename(self.go.argv[0])[:15], e)
        self.assertIs(e["traceable"], True, e)
        self.assertNotIn(self.sleep.pid, by_pid, "sleep is not a Go program: " + r.stdout)
        self.assertNotIn(os.getpid(), by_pid, "python is not a Go program")

    def test_text(self):
        r = gortlib.run([gortlib.GORT, "ps"], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertTrue(lines, "no output")
        self.assertRegex(lines[0], r"(?i)\bpid\b", "header line: " + lines[0])
        mine = [l for l in lines[1:] if re.match(r"\s*%d\b" % self.go.pid, l)]
        self.assertEqual(len(mine), 1, r.stdout)
        self.assertIn(self.tc.full_version().lstrip("go"), mine[0])
        self.assertFalse([l for l in lines[1:] if re.match(r"\s*%d\b" % self.sleep.pid, l)], r.stdout)

    def test_verbose_shows_the_calibrated_trap_cost(self):
        # The figure auto mode's budget multiplies the trap rate by, measured on this machine:
        # a trap is an exception and a BPF program, between ~0.1 us (bare metal) and tens of us.
        r = gortlib.run([gortlib.GORT, "ps", "-v"], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.search(r"one goroutine-probe trap costs a target ([0-9.]+) us of CPU", r.stdout)
        self.assertTrue(m, r.stdout[-500:])
        self.assertTrue(0.05 < float(m.group(1)) < 50, m.group(0))
        r = gortlib.run([gortlib.GORT, "ps", "-v", "--json"], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        e = {e["pid"]: e for e in ps_entries(r.stdout)}[self.go.pid]
        self.assertTrue(50 < e["trap_ns"] < 50000, e["trap_ns"])


if __name__ == "__main__":
    gortlib.main()
