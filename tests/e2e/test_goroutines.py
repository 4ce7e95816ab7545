#!/usr/bin/env python3
"""`gort goroutines`: exactness against the runtime's own dump, and its bad inputs.

Exactness: the ground-truth program started with -stack-gate parks goroutines in known waits
(channel receive through an inlined call, select, mutex, WaitGroup, Cond, sleep, channel send,
a closure, a deep call chain) and prints its own runtime.Stack(buf, true) while they are all
parked, then waits on stdin. `gort goroutines -p PID` taken at that gate must list the same
goroutines, and for every parked one the same header (wait reason, minutes), the same frames
(function, file:line and +0x offset) and the same "created by" line; only the arguments differ
(gort prints "(...)"). Goroutine 1 is running when it prints the dump and is in its stdin read
when gort reads it, so it is only checked to be present. Every toolchain present, each as a
normal, a stripped (-ldflags='-s -w'), a PIE, a stripped PIE and a cgo (external linking) binary,
and on Go 1.26+ with the runtime's leak detection having marked two goroutines leaked.

Bad input: a PID that is not Go, that does not exist, that exits while gort reads it, a kernel
thread: one line on stderr, nothing on stdout, a non-zero status.

Run: python3 tests/e2e/test_goroutines.py   (root; env GORT, GORT_SOURCE_DIR, GORT_BUILD_DIR)
"""

import os
import re
import subprocess
import sys
import threading
import json

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gortlib  # noqa: E402

# variant: (program, its build in tests/workloads/CMakeLists.txt)
VARIANTS = {
    "default": ("groundtruth", None),
    "stripped": ("groundtruth", "stripped"),
    "pie": ("groundtruth", "pie"),
    "pie_stripped": ("groundtruth", "pie-stripped"),
    "cgo": ("groundtruth_cgo", None),
    # Go 1.26+: the runtime's own leak detection marks goroutines blocked on unreachable
    # channels _Gleaked; the dump shows "[chan send (leaked)]".
    "leakprofile": ("groundtruth", "leakprofile"),
}
VARIANT_ARGS = {"leakprofile": ["-leak-profile"]}


def build_variant(tc, variant):
    return gortlib.workload(tc, *VARIANTS[variant])


def built(tc, variant):
    """Whether the build made it (cgo needs gcc, leakprofile Go 1.26+)."""
    return os.path.exists(gortlib.workload_path(tc, *VARIANTS[variant]))


def parse_dump(text):
    """goid -> {header, frames: [(function, position)], created: (line, position) or None}.
    Arguments are dropped from function lines: gort does not read them."""
    out = {}
    for block in re.split(r"\n[ \t]*\n", text.strip("\n")):
        lines = [l for l in block.split("\n") if l.strip()]
        if not lines:
            continue
        m = re.match(r"goroutine (\d+) \[(.*)\]:$", lines[0])
        if not m:
            raise AssertionError("not a goroutine header: %r" % lines[0])
        g = {"header": m.group(2), "frames": [], "created": None, "lines": lines[1:]}
        i = 1
        while i < len(lines):
            line = lines[i]
            pos = lines[i + 1].strip() if i + 1 < len(lines) and lines[i + 1].startswith("\t") else None
            if line.startswith("..."):
                g["frames"].append((line, None))  # the runtime's "...N frames elided..."
                i += 1
            elif line.startswith("created by "):
                g["created"] = (line, pos)
                i += 2
            elif line.startswith("\t"):
                g["frames"].append(("", line.strip()))  # e.g. "stack unavailable"
                i += 1
            else:
                g["frames"].append((re.sub(r"\(.*\)$", "", line), pos))
                i += 2
        out[int(m.group(1))] = g
    return out


def start_at_gate(reaper, tc, variant):
    """Starts the ground-truth program with -stack-gate; returns it, parked at its gate, and its
    own runtime.Stack dump of that moment, parsed."""
    prog = reaper.program(build_variant(tc, variant), ["-stack-gate"] + VARIANT_ARGS.get(variant, []))
    prog.wait_line(lambda l: l == "stack-gate begin", what="stack-gate begin", timeout=60)
    lines = []
    while True:
        line = prog.wait_line(lambda l: True, what="the gate's dump", timeout=60)
        if line == "stack-gate end":
            break
        lines.append(line)
    return prog, parse_dump("\n".join(lines))


class GoroutinesExact(gortlib.GortTestCase):
    def setUp(self):
        super().setUp()
        gortlib.require_root()
        gortlib.require_gort()

    def check(self, tc, variant):
        prog, truth = start_at_gate(self.reaper, tc, variant)
        r = gortlib.run([gortlib.GORT, "goroutines", "-p", prog.pid], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        got = parse_dump(r.stdout)
        what = "%s %s" % (tc, variant)
        self.assertEqual(sorted(got), sorted(truth), what + ": the same goroutines")
        parked = 0
        for goid, t in truth.items():
            if t["header"].startswith("running"):
                continue  # the goroutine that called runtime.Stack
            parked += 1
            g = got[goid]
            ctx = "%s goroutine %d\nruntime:\n%s\ngort:\n%s" % (what, goid, "\n".join(t["lines"]), "\n".join(g["lines"]))
            self.assertEqual(g["header"], t["header"], ctx)
            self.assertEqual(g["frames"], t["frames"], ctx)
            self.assertEqual(g["created"], t["created"], ctx)
        self.assertEqual(parked, 12, what + ": the gate parks 12 goroutines")
        # gateVeryDeepWorker is 160 calls deep: the runtime leaves frames out (and says so from
        # Go 1.21 on), and gort left out the same ones.
        self.assertLess(max(len(t["frames"]) for t in truth.values()), 160, what + ": the runtime elided frames")
        if tc.key >= (1, 21):
            self.assertTrue(any(f[0].endswith("frames elided...") for t in truth.values() for f in t["frames"]), what)
        leaked = sum(1 for g in truth.values() if "(leaked)" in g["header"])
        self.assertEqual(leaked, 3 if variant == "leakprofile" else 0, what + ": goroutines the runtime marked leaked")
        # The JSON says the same: every gate goroutine's stack was read stably.
        r = gortlib.run([gortlib.GORT, "goroutines", "-p", prog.pid, "--json"], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        import json
        j = json.loads(r.stdout)
        states = {g["goid"]: g["state"] for g in j["goroutines"]}
        for goid in truth:
            self.assertEqual(states[goid], "ok", "%s goroutine %d" % (what, goid))
        self.assertEqual(j["changed"], 0)
        if variant == "leakprofile":
            r = gortlib.run([gortlib.GORT, "goroutines", "-p", prog.pid, "--leaks", "--min", "1", "--json"], timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(sum(g["leaked"] for g in json.loads(r.stdout)["groups"]), leaked, r.stdout)

    def test_every_toolchain_and_variant(self):
        tcs = gortlib.toolchains()
        if not tcs:
            self.skipTest("no Go toolchain")
        for tc in tcs:
            for variant in VARIANTS:
                if not built(tc, variant):
                    continue
                with self.subTest(toolchain=tc.version, variant=variant):
                    self.check(tc, variant)

    def test_group_and_leaks(self):
        tc = gortlib.newest_toolchain()
        prog = self.reaper.program(build_variant(tc, "default"), ["-stack-gate"])
        prog.wait_line(lambda l: l == "stack-gate end", what="stack-gate end", timeout=60)
        r = gortlib.run([gortlib.GORT, "goroutines", "-p", prog.pid, "--group"], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        # The three gateChanWorker goroutines share one stack.
        self.assertRegex(r.stdout, r"(?m)^3 @ .*\[chan receive\]")
        self.assertIn("main.gateRecv", r.stdout)
        r = gortlib.run([gortlib.GORT, "goroutines", "-p", prog.pid, "--leaks", "--json"], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        import json
        groups = json.loads(r.stdout)["groups"]
        self.assertEqual(len(groups), 1, groups)
        self.assertEqual(groups[0]["count"], 3)
        self.assertEqual(groups[0]["wait_reason"], "chan receive")
        r = gortlib.run([gortlib.GORT, "goroutines", "-p", prog.pid, "--leaks", "--min", "1", "--watch", "200ms"],
                        timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("3 goroutines [chan receive]", r.stdout)
        self.assertIn("stable at 3", r.stdout)


class TopWaits(gortlib.GortTestCase):
    """`top --json`: per creation site, what its live goroutines wait on, from the census. At the
    gate, the multiset of wait reasons over the user sites equals the runtime's own dump."""

    def setUp(self):
        super().setUp()
        gortlib.require_root()
        gortlib.require_gort()

    def test_site_waits_equal_runtime_dump(self):
        tcs = gortlib.toolchains()
        for tc in (tcs[0], tcs[-1]) if len(tcs) > 1 else tcs:
            with self.subTest(toolchain=tc.version):
                prog, truth = start_at_gate(self.reaper, tc, "default")
                want = sorted(g["header"] for goid, g in truth.items() if goid != 1)
                top = self.reaper.gort(["top", "-p", prog.pid, "--json", "--interval", "500ms"])
                top.wait_attached()
                snap = top.wait_json(lambda o: gortlib.process_in(o, prog.pid) is not None and any(
                    s["waits"] for s in gortlib.process_in(o, prog.pid)["sites"]))
                got = []
                for s in gortlib.process_in(snap, prog.pid)["sites"]:
                    if s["system"] or s["function"] == "runtime.main":  # goroutine 1
                        continue
                    for w in s["waits"]:
                        got += [w["reason"]] * w["count"]
                self.assertEqual(sorted(got), want)


class GoroutinesBadInput(gortlib.GortTestCase):
    def setUp(self):
        super().setUp()
        gortlib.require_root()
        gortlib.require_gort()

    def assert_one_line(self, args, status):
        r = gortlib.run([gortlib.GORT, "goroutines"] + [str(a) for a in args], timeout=60)
        what = "gort goroutines %s: status %d, stdout %r, stderr %r" % (args, r.returncode, r.stdout, r.stderr)
        self.assertEqual(r.returncode, status, what)
        self.assertEqual(r.stdout, "", what)
        self.assertEqual(len(r.stderr.splitlines()), 1, what)
        return r.stderr

    def test_not_go(self):
        sleeper = self.reaper.proc(["sleep", "600"])
        err = self.assert_one_line(["-p", sleeper.pid], 4)
        self.assertIn("not a Go program", err)

    def test_no_such_pid(self):
        with open("/proc/sys/kernel/pid_max") as f:
            pid_max = int(f.read())
        pid = next(p for p in range(pid_max - 1, pid_max - 1000, -1) if not os.path.exists("/proc/%d" % p))
        self.assert_one_line(["-p", pid], 3)

    def test_kernel_thread(self):
        self.assert_one_line(["-p", 2], 4)

    def test_usage(self):
        self.assert_one_line(["-p", 1, "--watch", "1s"], 2)
        self.assert_one_line(["-p", 1, "--group", "--json"], 2)

    def test_churning_program(self):
        """Goroutines created and ending all the time while gort reads: every run is a complete,
        well-formed dump; each goroutine has a stack that ends where it started (a created-by
        line or goroutine 1), is running, or is marked changed."""
        tc = gortlib.newest_toolchain()
        prog = self.reaper.program(gortlib.workload(tc, "groundtruth"), ["-attach-churn", "-pre-leakers", "200"])
        changed = 0
        for _ in range(10):
            r = gortlib.run([gortlib.GORT, "goroutines", "-p", prog.pid, "--runtime"], timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            dump = parse_dump(r.stdout)
            self.assertGreaterEqual(len(dump), 201)
            for goid, g in dump.items():
                body = "\n".join(g["lines"])
                if "stack unavailable" in body:
                    changed += "changed while gort read it" in body
                    continue
                self.assertNotIn("stack truncated", body, "goroutine %d:\n%s" % (goid, body))
                self.assertTrue(g["frames"], "goroutine %d has frames:\n%s" % (goid, body))
                self.assertTrue(g["created"] is not None or goid == 1 or
                                g["frames"][-1][0] in ("runtime.goexit", "runtime.main"),
                                "goroutine %d:\n%s" % (goid, body))
        print("churning: %d goroutines reported as changed over 10 dumps" % changed, file=sys.stderr)

    def test_exits_mid_read(self):
        """A program whose goroutines keep changing, killed while gort reads it, over and over:
        each run is either a complete dump (status 0) or one error line with nothing on stdout."""
        tc = gortlib.newest_toolchain()
        exe = gortlib.workload(tc, "groundtruth")
        outcomes = {"complete": 0, "refused": 0}
        messages = set()
        for i in range(20):
            prog = self.reaper.program(exe, ["-attach-churn", "-pre-leakers", "20000"])
            gort = subprocess.Popen([gortlib.GORT, "goroutines", "-p", str(prog.pid)], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            # Let gort start, then end the program while it reads (20000 goroutines take a while).
            threading.Timer(0.02 * (i % 10), prog.signal, args=(9,)).start()
            out, err = gort.communicate(timeout=60)
            what = "run %d: status %d, stdout %d bytes, stderr %r" % (i, gort.returncode, len(out), err)
            if gort.returncode == 0:
                outcomes["complete"] += 1
                self.assertIn("goroutine 1 [", out, what)
            else:
                outcomes["refused"] += 1
                messages.add(re.sub(r"\d+", "N", err.strip()))
                self.assertEqual(out, "", what)
                self.assertEqual(len(err.splitlines()), 1, what)
                self.assertIn(gort.returncode, (3, 1), what)
            prog.p.wait(timeout=30)
        print("exits mid-read: %s; %s" % (outcomes, sorted(messages)), file=sys.stderr)
        self.assertGreater(outcomes["refused"], 0, "at least one run must have seen the exit")


if __name__ == "__main__":
    gortlib.main()
