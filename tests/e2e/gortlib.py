"""Helpers for gort's end-to-end tests (python3 standard library only).

- Go workloads are built by the build (tests/workloads/CMakeLists.txt), with every toolchain it
  lists in $GORT_BUILD_DIR/workloads/toolchains.txt, into
  $GORT_BUILD_DIR/workloads/go<version>/<name>[-<variant>]: tests only look them up (workload()).
- Every process a test starts goes through a Reaper, whose cleanup() (registered with
  TestCase.addCleanup) ends it even when the test fails: gort first with SIGINT (so that it
  detaches its probes itself), then SIGKILL; then the traced programs. Nothing else is ever
  signalled.
- Output of started processes is read by threads into queues, so that a test can wait for a line
  with a timeout and a process never blocks on a full pipe.

Environment: GORT (the gort binary), GORT_SOURCE_DIR, GORT_BUILD_DIR (defaults: this repository
and its build/ folder).
"""

import collections
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import unittest

SOURCE_DIR = os.environ.get("GORT_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD_DIR = os.environ.get("GORT_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
GORT = os.environ.get("GORT") or os.path.join(BUILD_DIR, "gort")

ATTACH_TIMEOUT = 60.0


class Toolchain:
    def __init__(self, version, go):
        self.version = version  # "1.22"
        self.go = go            # path of the go binary
        self.key = tuple(int(x) for x in version.split("."))

    def __repr__(self):
        return "Go " + self.version

    def full_version(self):
        """What runtime.Version() says in programs it builds, e.g. "go1.22.12"."""
        out = subprocess.run([self.go, "version"], capture_output=True, text=True, check=True,
                             env=_go_env()).stdout
        m = re.search(r"\bgo version (\S+)", out)
        if not m:
            raise RuntimeError("cannot parse `go version`: " + out)
        return m.group(1)


def toolchains(min_version=None):
    """The toolchains the build built the workloads with (those of tests/toolchains.txt present
    here, as the C++ tests read them too), oldest first."""
    try:
        with open(os.path.join(BUILD_DIR, "workloads", "toolchains.txt")) as f:
            tcs = [Toolchain(*line.split()) for line in f if line.strip()]
    except FileNotFoundError:
        tcs = []
    if min_version is not None:
        tcs = [t for t in tcs if t.key >= tuple(min_version)]
    return tcs


def newest_toolchain():
    tcs = toolchains()
    if not tcs:
        raise unittest.SkipTest("no Go toolchain built the workloads: run scripts/install-deps.sh, "
                                "then scripts/build.sh")
    return tcs[-1]


def _go_env():
    env = dict(os.environ)
    env.update({"GO111MODULE": "off", "GOTOOLCHAIN": "local", "GOFLAGS": "",
                "GOCACHE": os.path.join(BUILD_DIR, "go-cache")})
    return env


def workload_path(tc, program, variant=None):
    name = program if variant in (None, "", "plain") else "%s-%s" % (program, variant)
    return os.path.join(BUILD_DIR, "workloads", "go" + tc.version, name)


def workload(tc, program, variant=None):
    """The path of tests/workloads/<program> built by toolchain tc as `variant` (the names
    tests/workloads/CMakeLists.txt gives them: "stripped", "pie", ...)."""
    out = workload_path(tc, program, variant)
    if not os.path.exists(out):
        raise AssertionError("%s is not built: run scripts/build.sh gort_workloads" % out)
    return out


def require_gort():
    if not os.access(GORT, os.X_OK):
        raise AssertionError("gort is not built (or not executable): " + GORT)


def require_root():
    if os.geteuid() != 0:
        raise unittest.SkipTest("needs root")


def _pump(stream, q, sink):
    try:
        for line in iter(stream.readline, ""):
            sink.append(line)
            q.put(line)
    except (ValueError, OSError):
        pass
    finally:
        q.put(None)  # EOF


class Proc:
    """A started process whose stdout and stderr are read line by line by threads."""

    def __init__(self, argv, stdin=subprocess.PIPE, env=None, name=None):
        self.argv = [str(a) for a in argv]
        self.name = name or os.path.basename(self.argv[0])
        self.p = subprocess.Popen(self.argv, stdin=stdin, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, bufsize=1, env=env)
        self.pid = self.p.pid
        self.out_lines, self.err_lines = [], []
        self._out, self._err = queue.Queue(), queue.Queue()
        self._threads = [
            threading.Thread(target=_pump, args=(self.p.stdout, self._out, self.out_lines), daemon=True),
            threading.Thread(target=_pump, args=(self.p.stderr, self._err, self.err_lines), daemon=True),
        ]
        for t in self._threads:
            t.start()
        self._out_eof = self._err_eof = False

    def _next(self, which, timeout):
        q = self._out if which == "out" else self._err
        if (self._out_eof if which == "out" else self._err_eof):
            return None
        try:
            line = q.get(timeout=max(0.0, timeout))
        except queue.Empty:
            raise TimeoutError
        if line is None:
            if which == "out":
                self._out_eof = True
            else:
                self._err_eof = True
        return line

    def wait_line(self, pred, which="out", timeout=ATTACH_TIMEOUT, what="a line"):
        """Returns the first new line (stripped) of stdout/stderr for which pred is true."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._next(which, deadline - time.monotonic())
            except TimeoutError:
                raise AssertionError("%s (pid %d): no %s within %.0fs; stdout=%r stderr=%r" % (
                    self.name, self.pid, what, timeout, self.stdout_text()[-2000:], self.stderr_text()[-2000:]))
            if line is None:
                try:
                    self.p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
                raise AssertionError("%s (pid %d): ended (status %s) before %s; stdout=%r stderr=%r" % (
                    self.name, self.pid, self.p.poll(), what, self.stdout_text()[-2000:], self.stderr_text()[-2000:]))
            if pred(line.rstrip("\n")):
                return line.rstrip("\n")

    def send(self, text):
        self.p.stdin.write(text)
        self.p.stdin.flush()

    def close_stdin(self):
        if self.p.stdin and not self.p.stdin.closed:
            try:
                self.p.stdin.close()
            except OSError:
                pass

    def wait(self, timeout):
        """Waits for the process to end and for its output to be read in full; returns the status."""
        rc = self.p.wait(timeout=timeout)
        for t in self._threads:
            t.join(timeout=5)
        return rc

    def running(self):
        return self.p.poll() is None

    def signal(self, sig):
        if self.p.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def stdout_text(self):
        return "".join(self.out_lines)

    def stderr_text(self):
        return "".join(self.err_lines)


class GoProgram(Proc):
    """A test workload that prints "ready <pid>" and waits for a line on stdin."""

    def __init__(self, path, args=(), env=None):
        super().__init__([path] + list(args), env=env)
        line = self.wait_line(lambda l: l.startswith("ready "), what="ready line", timeout=30)
        if line != "ready %d" % self.pid:
            raise AssertionError("unexpected ready line %r from pid %d" % (line, self.pid))

    def go(self):
        self.send("go\n")

    def read_report(self, timeout=120):
        line = self.wait_line(lambda l: l.startswith("{"), what="JSON report", timeout=timeout)
        return json.loads(line)


class Gort(Proc):
    def __init__(self, args, env=None):
        super().__init__([GORT] + list(args), stdin=subprocess.DEVNULL, env=env, name="gort")

    def wait_attached(self, timeout=ATTACH_TIMEOUT):
        return self.wait_line(lambda l: l.startswith("gort: attached"), which="err",
                              what='"gort: attached" on stderr', timeout=timeout)

    def json_lines(self):
        """Every stdout line parsed as JSON (read so far)."""
        out = []
        for line in list(self.out_lines):
            line = line.strip()
            if line:
                out.append(json.loads(line))
        return out

    def wait_json(self, pred, timeout=30):
        """Returns the first new stdout JSON object for which pred is true."""
        line = self.wait_line(lambda l: l.strip().startswith("{") and pred(json.loads(l)),
                              what="matching JSON line", timeout=timeout)
        return json.loads(line)


class Reaper:
    """Ends every process a test started, gort first (SIGINT, then SIGKILL)."""

    def __init__(self):
        self.procs = []

    def add(self, proc):
        self.procs.append(proc)
        return proc

    def gort(self, args, **kw):
        return self.add(Gort(args, **kw))

    def program(self, path, args=(), **kw):
        return self.add(GoProgram(path, args, **kw))

    def proc(self, argv, **kw):
        return self.add(Proc(argv, **kw))

    def cleanup(self):
        gorts = [p for p in self.procs if isinstance(p, Gort)]
        others = [p for p in self.procs if not isinstance(p, Gort)]
        for g in gorts:
            g.signal(signal.SIGINT)
        for g in gorts:
            try:
                g.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sys.stderr.write("gortlib: gort pid %d ignored SIGINT for 10s: killing it\n" % g.pid)
                g.signal(signal.SIGKILL)
                g.p.wait(timeout=10)
        for p in others:
            p.signal(signal.SIGKILL)
            p.close_stdin()
            try:
                p.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for p in self.procs:
            for s in (p.p.stdout, p.p.stderr):
                try:
                    s.close()
                except Exception:
                    pass


TracedToEnd = collections.namedtuple("TracedToEnd", "report status gort_status prog gort")


class GortTestCase(unittest.TestCase):
    """A TestCase whose processes are all ended after each test, pass or fail."""

    def setUp(self):
        self.reaper = Reaper()
        self.addCleanup(self.reaper.cleanup)

    def trace_to_end(self, exe, args, gort_args, env=None):
        """A workload of the ground-truth protocol traced from start to end: starts `exe args`,
        then `gort GORT_ARGS -p PID`; once gort attached, lets the program run, report and exit,
        and waits for gort to end by itself (its only target is gone)."""
        prog = self.reaper.program(exe, args, env=env)
        gort = self.reaper.gort(list(gort_args) + ["-p", prog.pid])
        gort.wait_attached()
        prog.go()
        report = prog.read_report()
        prog.close_stdin()
        status = prog.wait(timeout=30)
        try:
            gort_status = gort.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.fail("gort did not end by itself within 60s after its only target (pid %d) exited; "
                      "stderr: %s" % (prog.pid, gort.stderr_text()[-2000:]))
        return TracedToEnd(report, status, gort_status, prog, gort)


def process_in(obj, pid):
    """The entry for pid in one `gort top --json` object."""
    for p in obj.get("processes", []):
        if p.get("pid") == pid:
            return p
    return None


def run(argv, timeout=30, **kw):
    """Runs a short command to completion (no signals needed: it must end by itself)."""
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, **kw)


def main():
    """unittest.main with a closing line that says what ran, whatever the outcome."""
    prog = unittest.main(exit=False, verbosity=2)
    r = prog.result
    ok = r.wasSuccessful()
    print("%s: %s (%d run, %d failures, %d errors, %d skipped)" % (
        os.path.basename(sys.argv[0]), "OK" if ok else "FAILED", r.testsRun, len(r.failures),
        len(r.errors), len(r.skipped)), flush=True)
    sys.exit(0 if ok else 1)
