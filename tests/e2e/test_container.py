#!/usr/bin/env python3
"""A Go process in its own PID namespace (as in a container): gort is given the PID the host sees,
reaches the binary through /proc/PID/exe and the memory through /proc/PID/mem, and reports the
program's own figures exactly; `gort ps` shows the PID inside the namespace beside the host's.

Run: python3 tests/e2e/test_container.py   (root; env GORT, GORT_SOURCE_DIR, GORT_BUILD_DIR)
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gortlib  # noqa: E402
from groundtruth_check import groundtruth_problems  # noqa: E402


def only_child(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        children = [int(c) for c in f.read().split()]
    if len(children) != 1:
        raise AssertionError("unshare (pid %d) has children %s" % (pid, children))
    return children[0]


class Container(gortlib.GortTestCase):
    def test_process_in_its_own_pid_namespace(self):
        gortlib.require_gort()
        gortlib.require_root()
        tc = gortlib.newest_toolchain()
        exe = gortlib.workload(tc, "groundtruth")
        # unshare forks: the program is PID 1 in the new namespace, its child's PID on the host.
        box = self.reaper.proc(["unshare", "--pid", "--fork", "--mount-proc", exe])
        box.wait_line(lambda l: l == "ready 1", what="ready line from PID 1 of the namespace", timeout=30)
        host_pid = only_child(box.pid)

        ps = subprocess.run([gortlib.GORT, "ps", "--json"], capture_output=True, text=True, timeout=120)
        self.assertEqual(ps.returncode, 0, ps.stderr)
        mine = [p for p in json.loads(ps.stdout) if p["pid"] == host_pid]
        self.assertEqual(len(mine), 1, ps.stdout[-2000:])
        self.assertEqual(mine[0].get("ns_pid"), 1, mine[0])

        gort = self.reaper.gort(["top", "-p", host_pid, "--exact", "--json", "--interval", "200ms", "--syscall-threshold", "5ms"])
        gort.wait_attached()
        box.send("go\n")
        report = json.loads(box.wait_line(lambda l: l.startswith("{"), what="JSON report", timeout=120))
        box.close_stdin()
        status = box.wait(timeout=30)
        self.assertEqual(gort.wait(timeout=60), 0, gort.stderr_text()[-2000:])
        last = gort.json_lines()[-1]
        p = gortlib.process_in(last, host_pid)
        self.assertIsNotNone(p, last)
        problems = groundtruth_problems(tc.version, report, status, p)
        self.assertEqual(problems, [], "\n".join(problems))


if __name__ == "__main__":
    gortlib.main()
