#!/usr/bin/env python3
"""How a gort session ends: --duration, SIGINT, its targets exiting; and that nothing of it is
left in the kernel afterwards (no uprobe events, no BPF links).

Run: python3 tests/e2e/test_lifecycle.py   (root; env GORT, GORT_SOURCE_DIR, GORT_BUILD_DIR)
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gortlib  # noqa: E402

UPROBE_EVENTS = [p for p in ("/sys/kernel/tracing/uprobe_events",
                             "/sys/kernel/debug/tracing/uprobe_events") if os.path.exists(p)]


def uprobe_events():
    if not UPROBE_EVENTS:
        return None
    with open(UPROBE_EVENTS[0]) as f:
        return f.read().splitlines()


def bpf_links():
    """{id: link} from `bpftool link show --json`, or None without bpftool."""
    bpftool = shutil.which("bpftool")
    if not bpftool:
        return None
    r = subprocess.run([bpftool, "--json", "link", "show"], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        return None
    try:
        return {l["id"]: l for l in json.loads(r.stdout or "[]")}
    except (ValueError, KeyError, TypeError):
        return None


class Lifecycle(gortlib.GortTestCase):
    def setUp(self):
        super().setUp()
        gortlib.require_gort()
        gortlib.require_root()
        self.exe = gortlib.workload(gortlib.newest_toolchain(), "groundtruth")
        self.uprobes_before = uprobe_events()
        self.links_before = bpf_links()
        self.gort_pids = []

    def start_gort(self, args):
        g = self.reaper.gort(args)
        self.gort_pids.append(g.pid)
        return g

    def wait_end(self, gort, timeout, why):
        try:
            return gort.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail("gort did not end within %ds %s; stderr: %s" % (timeout, why, gort.stderr_text()[-2000:]))

    def assert_nothing_left(self, targets):
        """After every gort of this test has ended: no uprobe event and no BPF link of it remains.
        gort's uprobes are perf_event links on /proc/<target pid>/exe (or the exe's path)."""
        for pid in self.gort_pids:
            self.assertFalse(os.path.exists("/proc/%d" % pid), "gort pid %d still there" % pid)
        marks = ["/proc/%d/exe" % t.pid for t in targets] + [t.argv[0] for t in targets]
        after = uprobe_events()
        if after is not None:
            new = [l for l in after if l not in set(self.uprobes_before or [])]
            ours = [l for l in new if "gort" in l or any(m in l for m in marks)]
            self.assertEqual(ours, [], "uprobe events left behind")
        links = bpf_links()
        if links is not None and self.links_before is not None:
            new = {i: l for i, l in links.items() if i not in self.links_before}
            # Other sessions on this machine may create links of their own meanwhile (bpftool here
            # shows no owner pids): only links that name this test's targets count.
            ours = [l for l in new.values()
                    if any(p.get("pid") in self.gort_pids or p.get("comm") == "gort" for p in l.get("pids", []))
                    or any(m in str(l.get("file", "")) + str(l.get("path", "")) for m in marks)]
            self.assertEqual(ours, [], "BPF links left behind (links before: %d, after: %d)" % (
                len(self.links_before), len(links)))

    def test_duration_text_mode(self):
        prog = self.reaper.program(self.exe)
        g = self.start_gort(["top", "--exact", "-p", prog.pid, "--duration", "2s", "--interval", "500ms"])
        g.wait_attached()
        status = self.wait_end(g, 30, "with --duration 2s")
        self.assertEqual(status, 0, g.stderr_text())
        out = g.stdout_text()
        self.assertRegex(out, r"pid=%d\b" % prog.pid)
        self.assertNotIn("\x1b[", out, "text mode must not draw a screen when stdout is not a tty")
        self.assertTrue(prog.running(), "the target must outlive gort")
        self.assert_nothing_left([prog])
        # The target still behaves: it runs its workload after gort detached.
        prog.go()
        report = prog.read_report()
        self.assertEqual(report["num_goroutine"], report["num_goroutine_at_start"] + 50)

    def test_sigint(self):
        prog = self.reaper.program(self.exe)
        g = self.start_gort(["top", "--exact", "-p", prog.pid, "--json", "--interval", "200ms"])
        g.wait_attached()
        g.wait_json(lambda o: gortlib.process_in(o, prog.pid) is not None)
        # The leak check below must be able to see gort's links at all: while attached, some
        # link names the target (its /proc/PID/exe or its path).
        links = bpf_links()
        if links is not None:
            marks = ["/proc/%d/exe" % prog.pid, prog.argv[0]]
            self.assertTrue([l for l in links.values()
                             if any(m in str(l.get("file", "")) + str(l.get("path", "")) for m in marks)],
                            "no BPF link names the target while gort is attached: %s" % list(links.values()))
        g.signal(signal.SIGINT)
        status = self.wait_end(g, 15, "after SIGINT")
        self.assertEqual(status, 0, g.stderr_text())
        last = g.json_lines()[-1]
        p = gortlib.process_in(last, prog.pid)
        self.assertIsNotNone(p, last)
        self.assertIs(p["exited"], False, "the target is still running: %s" % last)
        self.assertTrue(prog.running())
        self.assert_nothing_left([prog])
        prog.go()
        prog.read_report()
        prog.close_stdin()
        self.assertEqual(prog.wait(timeout=30), 0)

    def test_sigterm(self):
        prog = self.reaper.program(self.exe)
        g = self.start_gort(["top", "--exact", "-p", prog.pid, "--json", "--interval", "200ms"])
        g.wait_attached()
        g.signal(signal.SIGTERM)
        self.assertEqual(self.wait_end(g, 15, "after SIGTERM"), 0, g.stderr_text())
        self.assert_nothing_left([prog])

    def test_target_killed_mid_session(self):
        a = self.reaper.program(self.exe)
        b = self.reaper.program(self.exe)
        g = self.start_gort(["top", "--exact", "-p", a.pid, "-p", b.pid, "--json", "--interval", "200ms"])
        g.wait_attached()
        a.go()
        a.read_report()
        a.signal(signal.SIGKILL)
        a.wait(timeout=10)
        # Reported as exited while gort goes on tracing b.
        obj = g.wait_json(lambda o: (gortlib.process_in(o, a.pid) or {}).get("exited") is True, timeout=30)
        self.assertIs(gortlib.process_in(obj, b.pid)["exited"], False, obj)
        self.assertTrue(g.running(), "gort must go on while b is alive")
        # b does some work, then exits on its own: gort ends by itself.
        b.go()
        rb = b.read_report()
        b.close_stdin()
        self.assertEqual(b.wait(timeout=30), 0)
        status = self.wait_end(g, 60, "after all its targets exited")
        self.assertEqual(status, 0, g.stderr_text())
        last = g.json_lines()[-1]
        pa, pb = gortlib.process_in(last, a.pid), gortlib.process_in(last, b.pid)
        self.assertIs(pa["exited"], True, last)
        self.assertIs(pb["exited"], True, last)
        created_b = sum(s["created"] for s in pb["sites"] if s["function"] == "main.churnWorker")
        self.assertEqual(created_b, rb["created"]["main.churnWorker"], last)
        self.assert_nothing_left([a, b])

    def test_target_exits_text_mode(self):
        prog = self.reaper.program(self.exe)
        g = self.start_gort(["top", "--exact", "-p", prog.pid, "--interval", "200ms"])
        g.wait_attached()
        prog.close_stdin()  # before "go": the program exits at once (status 1)
        prog.wait(timeout=10)
        self.assertEqual(self.wait_end(g, 60, "after its only target exited"), 0, g.stderr_text())
        self.assertRegex(g.stdout_text(), r"pid=%d\b" % prog.pid)
        self.assert_nothing_left([prog])


if __name__ == "__main__":
    gortlib.main()
