#!/usr/bin/env python3
"""gort's error paths: each ends with one line on stderr, nothing on stdout, and its exit status
(2 usage, 3 no such process, 4 not a Go program / unsupported, 5 permission). The only processes
these tests signal are their own children; pid 2 (kthreadd) is only inspected by gort's error path.

Run: python3 tests/e2e/test_cli_errors.py   (root; env GORT, GORT_SOURCE_DIR, GORT_BUILD_DIR)
"""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gortlib  # noqa: E402

USAGE, NO_SUCH_PROCESS, NOT_GO, PERMISSION = 2, 3, 4, 5


def free_pid():
    """A pid no process has now (the top of the pid space is practically never in use)."""
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    for pid in range(pid_max - 1, pid_max - 1000, -1):
        if not os.path.exists("/proc/%d" % pid):
            return pid
    raise RuntimeError("no free pid found")


class CliErrors(gortlib.GortTestCase):
    def setUp(self):
        super().setUp()
        gortlib.require_gort()

    def go_child(self):
        """A Go program of our own to point gort at (it waits on stdin; never started)."""
        exe = gortlib.workload(gortlib.newest_toolchain(), "groundtruth")
        return self.reaper.program(exe)

    def assert_error(self, args, status, mention=None, env=None, argv_prefix=()):
        try:
            r = gortlib.run(list(argv_prefix) + [gortlib.GORT] + [str(a) for a in args], timeout=30, env=env)
        except subprocess.TimeoutExpired:
            self.fail("gort %s did not end within 30s (expected an error)" % " ".join(map(str, args)))
        what = "gort %s: status %d, stdout %r, stderr %r" % (" ".join(map(str, args)), r.returncode,
                                                              r.stdout, r.stderr)
        if status is None:
            self.assertNotEqual(r.returncode, 0, what)
        else:
            self.assertEqual(r.returncode, status, what)
        self.assertEqual(r.stdout, "", what)
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, "exactly one line on stderr: " + what)
        self.assertTrue(lines[0].strip(), what)
        if mention:
            self.assertRegex(lines[0], mention, what)
        return lines[0]

    def test_no_such_pid(self):
        self.assert_error(["top", "-p", free_pid()], NO_SUCH_PROCESS)

    def test_not_a_go_program(self):
        gortlib.require_root()
        sleep = self.reaper.proc(["sleep", "100"], stdin=subprocess.DEVNULL)
        self.assert_error(["top", "-p", sleep.pid], NOT_GO)
        self.assertTrue(sleep.running(), "gort must leave a process it refuses alone")

    def test_kernel_thread(self):
        gortlib.require_root()
        # Pid 2 is kthreadd: gort inspects it (no executable) and refuses; it never attaches.
        with open("/proc/2/comm") as f:
            if f.read().strip() != "kthreadd":
                self.skipTest("pid 2 is not kthreadd here")
        self.assert_error(["top", "-p", "2"], None)

    def test_bad_interval(self):
        prog = self.go_child()
        self.assert_error(["top", "-p", prog.pid, "--interval", "abc"], USAGE)

    def test_negative_duration(self):
        prog = self.go_child()
        self.assert_error(["top", "-p", prog.pid, "--duration", "-1s"], USAGE)

    def test_zero_interval(self):
        prog = self.go_child()
        self.assert_error(["top", "-p", prog.pid, "--interval", "0"], USAGE)

    def test_top_without_pid(self):
        self.assert_error(["top"], USAGE)

    def test_unknown_command(self):
        self.assert_error(["no-such-command"], USAGE)

    def test_not_root(self):
        gortlib.require_root()
        setpriv = shutil.which("setpriv")
        if not setpriv:
            self.skipTest("setpriv not installed")
        # nobody must be able to run gort at all for this to test gort's own check.
        probe = gortlib.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                             "test", "-x", gortlib.GORT])
        if probe.returncode != 0:
            self.skipTest("user nobody cannot execute %s (directory permissions)" % gortlib.GORT)
        prog = self.go_child()
        line = self.assert_error(["top", "-p", prog.pid], PERMISSION, mention=r"(?i)root|CAP_BPF",
                                 argv_prefix=[setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"])
        self.assertTrue(prog.running(), line)


if __name__ == "__main__":
    gortlib.main()
