#!/usr/bin/env python3
"""gort top --all: system-wide mode. Every test confines it with --comm to programs the test
itself starts (copies of the workloads under unique names), so it never attaches to anything else
on a shared machine.

Run: python3 tests/e2e/test_all.py   (root; env GORT, GORT_SOURCE_DIR, GORT_BUILD_DIR)
"""

import json
import os
import re
import signal
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gortlib  # noqa: E402
from groundtruth_check import groundtruth_problems  # noqa: E402


def bpf_fds(pid):
    """(links, maps, all fds) that process `pid` holds."""
    links = maps = total = 0
    fd_dir = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fd_dir):
        total += 1
        try:
            with open(os.path.join(fd_dir, fd)) as f:
                info = f.read()
        except OSError:
            continue
        links += "link_id:" in info
        maps += "map_id:" in info
    return links, maps, total


class AllMode(gortlib.GortTestCase):
    def setUp(self):
        super().setUp()
        gortlib.require_gort()
        gortlib.require_root()
        self.dir = tempfile.mkdtemp(prefix="gort-all-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.tag = "ga%d" % (os.getpid() % 10000)  # comm prefix unique to this run

    def named_copy(self, src, name):
        dst = os.path.join(self.dir, name)
        shutil.copy2(src, dst)
        return dst

    def test_follows_new_go_programs_of_every_version_and_ignores_others(self):
        # --exact: every figure equals the program's own, also for a process that ends between two
        # readings (sampled, it keeps its last reading's; test_each_process_is_sampled_on_its_own
        # covers auto mode under --all).
        gort = self.reaper.gort(["top", "--all", "--exact", "--comm", "^" + self.tag, "--json", "--interval", "300ms",
                                 "--syscall-threshold", "5ms"])
        gort.wait_line(lambda l: l.startswith("gort: following"), which="err", what="following line")
        # A non-Go program with a matching name: never traced.
        other = self.reaper.proc([self.named_copy("/bin/sleep", self.tag + "-sleep"), "30"])
        runs = []
        for tc in gortlib.toolchains(min_version=(1, 21)):
            exe = self.named_copy(gortlib.workload(tc, "groundtruth"), "%s-%s" % (self.tag, tc.version.replace(".", "")))
            prog = self.reaper.program(exe)
            # Synchronise on gort having attached this very process (exec tracepoint), never a sleep.
            gort.wait_line(lambda l, pid=prog.pid: l.startswith("gort: attached to PID %d " % pid), which="err",
                           what="attached line for pid %d" % prog.pid)
            runs.append((tc, prog))
        for tc, prog in runs:
            prog.go()
        results = []
        for tc, prog in runs:
            report = prog.read_report()
            prog.close_stdin()
            results.append((tc, prog, report, prog.wait(timeout=30)))
        for tc, prog, report, status in results:
            gort.wait_line(lambda l, pid=prog.pid: l == "gort: PID %d exited" % pid, which="err",
                           what="exit of pid %d" % prog.pid)
        # The exited object of each comes in the next interval's line.
        last_pid = results[-1][1].pid
        gort.wait_json(lambda o: any(p["pid"] == last_pid and p["exited"] for p in o["processes"]))

        latest = {}
        for obj in gort.json_lines():
            for p in obj["processes"]:
                latest[p["pid"]] = p
        self.assertNotIn(other.pid, latest, "a non-Go program was traced")
        self.assertNotIn("attached to PID %d " % other.pid, gort.stderr_text())
        failures = []
        for tc, prog, report, status in results:
            p = latest.get(prog.pid)
            if p is None:
                failures.append("Go %s: pid %d never reported" % (tc.version, prog.pid))
                continue
            problems = groundtruth_problems(tc.version, report, status, p)
            if problems:
                failures.append("Go %s: %s" % (tc.version, "; ".join(problems)))
        self.assertEqual(failures, [], "\n".join(failures))
        # Ended processes are reported once, then dropped from later objects.
        final = gort.wait_json(lambda o: True)
        self.assertEqual([p["pid"] for p in final["processes"] if p["pid"] != other.pid], [])

    def test_record_all_then_report_gives_each_programs_figures(self):
        out = os.path.join(self.dir, "all.gort")
        # --exact, as in test_follows_...: every figure must equal the program's own at its end.
        rec = self.reaper.gort(["record", "--all", "--exact", "--comm", "^" + self.tag, "-o", out, "--interval", "300ms",
                                "--syscall-threshold", "5ms"])
        rec.wait_line(lambda l: l.startswith("gort: recording every Go process"), which="err", what="recording line")
        runs = []
        for tc in (gortlib.toolchains(min_version=(1, 21))[0], gortlib.newest_toolchain()):
            exe = self.named_copy(gortlib.workload(tc, "groundtruth"), "%s-r%s" % (self.tag, tc.version.replace(".", "")))
            prog = self.reaper.program(exe)
            rec.wait_line(lambda l, pid=prog.pid: l.startswith("gort: attached to PID %d " % pid), which="err",
                          what="attached line for pid %d" % prog.pid)
            runs.append((tc, prog))
        results = []
        for tc, prog in runs:
            prog.go()
            report = prog.read_report()
            prog.close_stdin()
            results.append((tc, prog, report, prog.wait(timeout=30)))
        for tc, prog, report, status in results:
            rec.wait_line(lambda l, pid=prog.pid: l.endswith("gort: PID %d exited" % pid), which="err",
                          what="exit of pid %d" % prog.pid)
        rec.signal(signal.SIGINT)
        self.assertEqual(rec.wait(timeout=30), 0, rec.stderr_text())
        r = subprocess.run([gortlib.GORT, "report", out, "--json"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        by_pid = {p["pid"]: p for p in json.loads(r.stdout)["processes"]}
        failures = []
        for tc, prog, report, status in results:
            p = by_pid.get(prog.pid)
            problems = ["never reported"] if p is None else groundtruth_problems(tc.version, report, status, p)
            if problems:
                failures.append("Go %s: %s" % (tc.version, "; ".join(problems)))
        self.assertEqual(failures, [], "\n".join(failures))

    def test_filters_and_limits(self):
        exe = gortlib.workload(gortlib.newest_toolchain(), "groundtruth")
        a = self.reaper.program(self.named_copy(exe, self.tag + "-a"))
        b = self.reaper.program(self.named_copy(exe, self.tag + "-b"))
        c = self.reaper.program(self.named_copy(exe, self.tag + "-c"))
        gort = self.reaper.gort(["top", "--all", "--comm", "^" + self.tag, "--exclude-pid", str(b.pid),
                                 "--max-procs", "1", "--json", "--interval", "200ms"])
        gort.wait_line(lambda l: l.startswith("gort: following"), which="err", what="following line")
        err = gort.stderr_text()
        attached = [int(m) for m in re.findall(r"gort: attached to PID (\d+) ", err)]
        self.assertEqual(len(attached), 1, err)
        self.assertIn(attached[0], (a.pid, c.pid))
        self.assertNotIn("PID %d " % b.pid, err, "an excluded PID was looked at")
        refused = c.pid if attached[0] == a.pid else a.pid
        self.assertIn("gort: not tracing PID %d (%s-%s): --max-procs 1 reached" %
                      (refused, self.tag, "c" if refused == c.pid else "a"), err)

    def test_copies_of_one_binary_share_one_set_of_uprobes(self):
        exe = self.named_copy(gortlib.workload(gortlib.newest_toolchain(), "groundtruth"), self.tag + "-same")
        gort = self.reaper.gort(["top", "--all", "--comm", "^" + self.tag, "--json", "--interval", "1s"])
        gort.wait_line(lambda l: l.startswith("gort: following"), which="err", what="following line")
        links = [bpf_fds(gort.pid)[0]]
        uprobes = set()
        for _ in range(5):
            prog = self.reaper.program(exe)
            line = gort.wait_line(lambda l, pid=prog.pid: l.startswith("gort: attached to PID %d " % pid),
                                  which="err", what="attached line for pid %d" % prog.pid)
            uprobes.add(int(re.search(r"(\d+) uprobes", line).group(1)))
            links.append(bpf_fds(gort.pid)[0])
        self.assertEqual(len(uprobes), 1, uprobes)
        # Uprobes belong to the file: five processes of it cost one set of links, not five (the
        # programs wait for "go": all five stay exact, so they keep sharing the goroutine probes).
        self.assertEqual(links[1] - links[0], uprobes.pop(), links)
        self.assertEqual(links[1:], [links[1]] * 5, links)

    def test_each_process_is_sampled_on_its_own(self):
        """Auto mode under --all: a process whose goroutine rate is over the budget is sampled while
        a quiet one stays exact, and the sampled one's totals are still exact at its quiet point.
        (Two files: processes of one binary share their goroutine probes, and stay exact while
        they do.)"""
        tc = gortlib.newest_toolchain()
        gort = self.reaper.gort(["top", "--all", "--comm", "^" + self.tag, "--json", "--interval", "200ms",
                                 "--overhead", "0.01%"])
        gort.wait_line(lambda l: l.startswith("gort: following"), which="err", what="following line")
        busy = self.reaper.program(self.named_copy(gortlib.workload(tc, "groundtruth"), self.tag + "-busy"),
                                   ["-paced-churn", "3000", "-paced-for", "2s", "-alloc-mb", "32"])
        quiet = self.reaper.program(self.named_copy(gortlib.workload(tc, "groundtruth"), self.tag + "-quiet"))
        for prog in (busy, quiet):
            gort.wait_line(lambda l, pid=prog.pid: l.startswith("gort: attached to PID %d " % pid), which="err",
                           what="attached line for pid %d" % prog.pid)
        busy.go()
        # While the busy one churns it is sampled; the quiet one (waiting for "go") is not.
        o = gort.wait_json(lambda o: (gortlib.process_in(o, busy.pid) or {}).get("probe_cost", {}).get("mode") ==
                           "sampled")
        self.assertEqual(gortlib.process_in(o, quiet.pid)["probe_cost"]["mode"], "exact")
        report = busy.read_report()
        created, exited = sum(report["created"].values()), sum(report["exited"].values())
        # Its quiet point: the runtime's own state, read each interval, gives the exact totals.
        o = gort.wait_json(lambda o: (lambda p: p is not None and p["goroutines"]["created"] == created and
                                      p["goroutines"]["exited"] == exited and
                                      p["goroutines"]["live"] == report["num_goroutine"])(
                                          gortlib.process_in(o, busy.pid)), timeout=30)
        p = gortlib.process_in(o, busy.pid)
        self.assertGreaterEqual(p["probe_cost"]["mode_changes"], 1)
        leak = sum(s["live"] for s in p["sites"] if s["function"] == "main.leakWorker")
        self.assertEqual(leak, report["created"]["main.leakWorker"])
        for prog in (busy, quiet):
            prog.close_stdin()

    def test_bad_all_options(self):
        for args in (["--all", "-p", "1"], ["--comm", "x"], ["--all", "--comm", "("], ["--all", "--max-procs", "0"],
                     ["--all", "--max-procs", "99999"]):
            r = subprocess.run([gortlib.GORT, "top"] + args, capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, (args, r.stderr))
            self.assertEqual(r.stdout, "")

    def test_500_short_lived_processes_leave_no_links_maps_or_fds(self):
        exe = self.named_copy(gortlib.workload(gortlib.newest_toolchain(), "short"), self.tag + "-short")
        gort = self.reaper.gort(["top", "--all", "--comm", "^" + self.tag, "--json", "--interval", "1s"])
        gort.wait_line(lambda l: l.startswith("gort: following"), which="err", what="following line")
        before = bpf_fds(gort.pid)
        for batch in range(50):  # 500 processes, 10 at a time
            procs = [subprocess.Popen([exe]) for _ in range(10)]
            for p in procs:
                self.assertEqual(p.wait(timeout=30), 0)
        # Wait until gort has seen every process it attached end (each prints one line).
        deadline = time.time() + 120
        while True:
            err = gort.stderr_text()
            attached = len(re.findall(r"^gort: attached to PID", err, re.M))
            ended = len(re.findall(r"^gort: PID \d+ exited", err, re.M))
            if attached > 0 and ended >= attached:
                break
            self.assertLess(time.time(), deadline, "attached %d, ended %d" % (attached, ended))
            time.sleep(0.1)
        # Every process has ended; gort keeps a binary's links a few seconds for the next process
        # of it (Session::kBinaryLinger), then must be back where it started.
        deadline = time.time() + 30
        while bpf_fds(gort.pid) != before and time.time() < deadline:
            time.sleep(0.2)
        after = bpf_fds(gort.pid)
        sys.stderr.write("500 short-lived processes: %d attached; (links, maps, fds) before %s after %s\n"
                         % (attached, before, after))
        # Following from exec is best effort for programs this short on a loaded 2-core machine
        # (test_follows_... checks the one-second promise); what matters here is that nothing leaks.
        self.assertGreater(attached, 250, "short-lived processes should mostly be followed from their exec")
        self.assertEqual(after, before)


if __name__ == "__main__":
    gortlib.main()
