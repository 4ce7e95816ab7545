"""gort as root on a machine shared with hostile users (issue 14): every test plays the attacker
as an unprivileged user (nobody, through setpriv) where the attack needs one, in a world-writable
sticky directory the test creates and removes.

- files: export and record --force never write through a planted symlink, never leave the output
  owned by the user who planted a file, never replace a device or /proc/self/fd/1; 0600, caller's;
- names: a process named with terminal escape sequences reaches ps/top/attached lines escaped;
- recordings: a decompression bomb reports within a stated memory bound; replay is linear;
- outputs: top, report and ps into /dev/full and into a closed pipe end with one line and exit 1;
- lower: report on a FIFO does not block, SIGHUP ends record cleanly, -p X -p X attaches once.
"""

import json
import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gortlib  # noqa: E402
import synthetic_recording  # noqa: E402

NOBODY = 65534
FAILURE, USAGE, BAD_FILE = 1, 2, 6
ESC = "\x1b"
# Memory bound stated in docs/file-format.md (Limits) for a crafted file of this size: the budget
# lets a 300 KB file decompress to 64 MiB + 100 x 300 KB; what that holds, with the buffers, is
# far under this.
BOMB_RSS_LIMIT_KB = 256 * 1024


def as_nobody(argv):
    return ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"] + [str(a) for a in argv]


def run_rusage(argv, timeout=120, **kw):
    """Runs argv; returns (returncode, stdout, stderr, max RSS in KiB, CPU seconds) of that child."""
    p = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL, stdout=kw.pop("stdout", subprocess.PIPE),
                         stderr=subprocess.PIPE, **kw)
    out, err = b"", b""
    if p.stdout:
        out = p.stdout.read()
        p.stdout.close()
    err = p.stderr.read()
    p.stderr.close()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace"), ru.ru_maxrss, \
        ru.ru_utime + ru.ru_stime


class HostileTestCase(gortlib.GortTestCase):
    def setUp(self):
        super().setUp()
        gortlib.require_gort()
        gortlib.require_root()
        # A private 0700 directory for root's victims, and a world-writable sticky one (as /tmp)
        # where the attacker plants things.
        self.private = tempfile.mkdtemp(prefix="gort-hostile-root-")
        self.addCleanup(shutil.rmtree, self.private, True)
        self.shared = tempfile.mkdtemp(prefix="gort-hostile-shared-")
        os.chmod(self.shared, 0o1777)
        self.addCleanup(shutil.rmtree, self.shared, True)
        self.victim = os.path.join(self.private, "victim")
        with open(self.victim, "w") as f:
            f.write("precious")
        os.chmod(self.victim, 0o600)
        self.recording = os.path.join(self.private, "small.gort")
        synthetic_recording.gc_day(self.recording, 30)

    def nobody(self, argv):
        r = subprocess.run(as_nobody(argv), capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, "as nobody: %s: %r" % (argv, r))

    def assert_victim_intact(self):
        with open(self.victim) as f:
            self.assertEqual(f.read(), "precious", "root's private file was overwritten")

    def assert_owned_by_root_0600(self, path):
        st = os.lstat(path)
        self.assertTrue(stat.S_ISREG(st.st_mode), path)
        self.assertEqual((st.st_uid, st.st_gid), (os.getuid(), os.getgid()), "owned by the caller: %s" % path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, path)
        r = subprocess.run(as_nobody(["cat", path]), capture_output=True, timeout=30)
        self.assertNotEqual(r.returncode, 0, "nobody can read root's output %s" % path)


class PlantedFiles(HostileTestCase):
    def test_export_through_planted_symlinks(self):
        out = os.path.join(self.shared, "trace.json")
        # The old attack: symlinks at the predictable temporary names of the next PIDs...
        last = int(open("/proc/sys/kernel/ns_last_pid").read())
        plant = "for i in $(seq %d %d); do ln -s %s %s.tmp-$i; done" % (last, last + 2000, self.victim, out)
        self.nobody(["sh", "-c", plant])
        r = gortlib.run([gortlib.GORT, "export", self.recording, "--format", "chrome", "-o", out], timeout=60)
        self.assertEqual(r.returncode, 0, r)
        self.assert_victim_intact()
        self.assert_owned_by_root_0600(out)
        with open(out) as f:
            json.load(f)
        # ... and a symlink at the name itself: refused, nothing written through it.
        os.unlink(out)
        self.nobody(["ln", "-s", self.victim, out])
        r = gortlib.run([gortlib.GORT, "export", self.recording, "--format", "chrome", "-o", out], timeout=60)
        self.assertEqual(r.returncode, USAGE, r)
        self.assertRegex(r.stderr, r"symbolic link")
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assert_victim_intact()
        self.assertTrue(os.path.islink(out))

    def test_export_over_a_planted_file_is_callers_0600(self):
        out = os.path.join(self.shared, "trace.json")
        self.nobody(["sh", "-c", "umask 0; echo mine > %s; chmod 666 %s" % (out, out)])
        r = gortlib.run([gortlib.GORT, "export", self.recording, "--format", "chrome", "-o", out], timeout=60)
        self.assertEqual(r.returncode, 0, r)
        self.assert_owned_by_root_0600(out)
        with open(out) as f:
            self.assertIn("traceEvents", f.read())
        # Nothing left behind: no temporary file in the directory.
        self.assertEqual(sorted(os.listdir(self.shared)), ["trace.json"])

    def test_export_never_replaces_a_device_or_stdout(self):
        for target in ["/dev/null", "/proc/self/fd/1"]:
            r = gortlib.run([gortlib.GORT, "export", self.recording, "--format", "chrome", "-o", target], timeout=60)
            self.assertEqual(r.returncode, USAGE, r)
            self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertTrue(stat.S_ISCHR(os.stat("/dev/null").st_mode), "/dev/null is still a device")
        fifo = os.path.join(self.shared, "fifo")
        os.mkfifo(fifo)
        r = gortlib.run([gortlib.GORT, "export", self.recording, "--format", "chrome", "-o", fifo], timeout=60)
        self.assertEqual(r.returncode, USAGE, r)
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode))

    def test_record_force_over_planted_files(self):
        out = os.path.join(self.shared, "rec.gort")
        # A symlink at the name: refused before anything is attached (pid 1 is not even Go).
        self.nobody(["ln", "-s", self.victim, out])
        r = gortlib.run([gortlib.GORT, "record", "-p", "1", "-o", out, "--force"], timeout=60)
        self.assertEqual(r.returncode, USAGE, r)
        self.assertRegex(r.stderr, "symbolic link")
        self.assert_victim_intact()
        os.unlink(out)
        # A file the attacker created: --force replaces it with root's own 0600 recording.
        self.nobody(["sh", "-c", "umask 0; echo mine > %s; chmod 666 %s" % (out, out)])
        exe = gortlib.workload(gortlib.newest_toolchain(), "groundtruth")
        prog = self.reaper.program(exe)
        gort = self.reaper.gort(["record", "-p", prog.pid, "-o", out, "--force", "--duration", "1s",
                                 "--interval", "200ms"])
        gort.wait_attached()
        self.assertEqual(gort.wait(timeout=60), 0, gort.stderr_text())
        self.assert_owned_by_root_0600(out)
        r = gortlib.run([gortlib.GORT, "report", out, "--json"], timeout=60)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stderr, "", "a clean recording")


class HostileNames(HostileTestCase):
    def test_escape_sequences_in_comm_and_exe(self):
        # The binary's name is the process's comm (its first 15 bytes) and its exe path.
        name = "x" + ESC + "]0;pwn\x07" + ESC + "[2J"
        exe = os.path.join(self.shared, name)
        shutil.copy(gortlib.workload(gortlib.newest_toolchain(), "groundtruth"), exe)
        os.chmod(exe, 0o755)
        prog = self.reaper.program(exe)
        with open("/proc/%d/comm" % prog.pid) as f:
            self.assertIn(ESC, f.read(), "the test process carries ESC in its comm")
        r = gortlib.run([gortlib.GORT, "ps"], timeout=120)
        self.assertEqual(r.returncode, 0, r)
        self.assertNotIn(ESC, r.stdout + r.stderr)
        self.assertNotIn("\x07", r.stdout + r.stderr)
        line = [l for l in r.stdout.splitlines() if l.split()[:1] == [str(prog.pid)]]
        self.assertEqual(len(line), 1, r.stdout)
        self.assertIn("x\\e]0;pwn\\x07\\e[2J", line[0])
        # JSON keeps the exact name (escaped by JSON itself).
        r = gortlib.run([gortlib.GORT, "ps", "--json"], timeout=120)
        self.assertEqual(r.returncode, 0, r)
        self.assertNotIn(ESC, r.stdout)
        entry = [p for p in json.loads(r.stdout) if p["pid"] == prog.pid][0]
        self.assertTrue(entry["exe"].endswith(name), entry)
        # top's text view and the attached line.
        gort = self.reaper.gort(["top", "-p", prog.pid, "--duration", "1s", "--interval", "300ms"])
        attached = gort.wait_attached()
        self.assertNotIn(ESC, attached)
        self.assertIn("x\\e]0;pwn\\x07", attached)
        self.assertEqual(gort.wait(timeout=60), 0, gort.stderr_text())
        self.assertNotIn(ESC, gort.stdout_text() + gort.stderr_text())
        self.assertIn("comm=x\\e]0;pwn\\x07", gort.stdout_text())

    def test_invalid_utf8_name(self):
        # ps --json refused the whole list (an internal error) over one name that is not UTF-8.
        exe = os.path.join(os.fsencode(self.shared), b"bad\xffname")
        shutil.copy(gortlib.workload(gortlib.newest_toolchain(), "groundtruth"), exe)
        prog = self.reaper.program(os.fsdecode(exe))
        r = subprocess.run([gortlib.GORT, "ps", "--json"], capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r)
        entry = [p for p in json.loads(r.stdout) if p["pid"] == prog.pid][0]
        self.assertEqual(entry["comm"], "bad\ufffdname")
        r = subprocess.run([gortlib.GORT, "ps"], capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r)
        self.assertIn(b"bad\\xffname", r.stdout)

    def test_escape_sequences_in_a_recording(self):
        # A crafted recording names its process and STW reasons with escape sequences.
        path = os.path.join(self.private, "names.gort")
        w = synthetic_recording.Writer(path)
        evil = ESC + "]0;owned\x07"
        w.chunk(synthetic_recording.process(7, 10**9, comm=evil, reasons=["r", evil + "reason"])
                + synthetic_recording.stw(7, 10**9 + 10, 1000, 1)
                + synthetic_recording.end(2 * 10**9, 0))
        w.close()
        r = gortlib.run([gortlib.GORT, "report", path], timeout=60)
        self.assertEqual(r.returncode, 0, r)
        self.assertNotIn(ESC, r.stdout + r.stderr)
        self.assertIn("\\e]0;owned\\x07reason", r.stdout)


class HostileRecordings(HostileTestCase):
    def test_compression_bomb_is_bounded(self):
        path = os.path.join(self.private, "bomb.gort")
        # 200 chunks of ~16 MiB of identical pauses, ~1.6 KB each: 3.3 GB claimed by ~300 KB.
        synthetic_recording.bomb(path, 200, 16 * 2**20 // 48 - 100)
        size = os.path.getsize(path)
        for args in (["report", path], ["report", path, "--json"],
                     ["export", path, "--format", "chrome", "-o", os.path.join(self.private, "bomb.json")]):
            rc, out, err, rss_kb, cpu = run_rusage([gortlib.GORT] + args)
            print("bomb (%d bytes): gort %s: max RSS %d KiB, %.2f s CPU" % (size, args[0], rss_kb, cpu))
            self.assertEqual(rc, 0, err)
            self.assertRegex(err, "decompress to over 100 times their size")
            self.assertLess(rss_kb, BOMB_RSS_LIMIT_KB, "memory bound for a %d-byte file" % size)

    def test_replay_is_linear(self):
        # Work counted as CPU time of the child, over two lengths 8x apart: linear stays near 8,
        # quadratic (every pause sorted at every tick) would be near 64.
        cpu = {}
        for seconds in (20000, 160000):
            path = os.path.join(self.private, "gc-%d.gort" % seconds)
            synthetic_recording.gc_day(path, seconds)
            rc, out, err, rss_kb, t = run_rusage([gortlib.GORT, "report", path, "--json"])
            self.assertEqual(rc, 0, err)
            proc = json.loads(out)["processes"][0]
            self.assertEqual(proc["stw"]["gc"]["count"] + proc["stw"]["other"]["count"], 2 * seconds, proc["stw"])
            cpu[seconds] = max(t, 0.01)
            print("replay of %d GC cycles: %.3f s CPU, max RSS %d KiB" % (seconds, t, rss_kb))
        self.assertLess(cpu[160000] / cpu[20000], 24, cpu)

    def test_report_on_a_fifo_does_not_block(self):
        fifo = os.path.join(self.private, "fifo")
        os.mkfifo(fifo)
        r = gortlib.run([gortlib.GORT, "report", fifo], timeout=30)
        self.assertEqual(r.returncode, BAD_FILE, r)
        self.assertRegex(r.stderr, "not a regular file")


class OutputErrors(HostileTestCase):
    def closed_pipe(self):
        rd, wr = os.pipe()
        os.close(rd)
        self.addCleanup(os.close, wr)
        return wr

    def assert_write_error(self, rc, err, what):
        self.assertEqual(rc, FAILURE, "%s: %s" % (what, err))
        lines = err.strip().splitlines()
        self.assertRegex(lines[-1], "^gort: cannot write to standard output", "%s: %s" % (what, err))

    def test_report_and_ps_into_dev_full_and_a_closed_pipe(self):
        for args in (["report", self.recording], ["report", self.recording, "--json"], ["ps"], ["ps", "--json"]):
            with open("/dev/full", "w") as full:
                r = subprocess.run([gortlib.GORT] + args, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
            self.assert_write_error(r.returncode, r.stderr, "%s > /dev/full" % args)
            wr = self.closed_pipe()
            r = subprocess.run([gortlib.GORT] + args, stdout=wr, stderr=subprocess.PIPE, text=True, timeout=120)
            self.assert_write_error(r.returncode, r.stderr, "%s | closed pipe" % args)

    def test_top_into_dev_full_and_a_closed_pipe(self):
        exe = gortlib.workload(gortlib.newest_toolchain(), "groundtruth")
        prog = self.reaper.program(exe)
        for json_flag in (["--json"], []):
            for target in ("full", "pipe"):
                out = open("/dev/full", "w") if target == "full" else None
                wr = None
                if out is None:
                    rd, wr = os.pipe()
                argv = [gortlib.GORT, "top", "-p", str(prog.pid), "--interval", "200ms"] + json_flag
                # SIGPIPE ignored, as a shell or a supervisor may leave it.
                p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out or wr, stderr=subprocess.PIPE,
                                     preexec_fn=lambda: signal.signal(signal.SIGPIPE, signal.SIG_IGN))
                try:
                    if wr is not None:
                        os.close(wr)
                        # The reader goes away after the first interval was written.
                        os.read(rd, 1)
                        os.close(rd)
                    err = p.stderr.read().decode()
                    rc = p.wait(timeout=60)
                finally:
                    if p.poll() is None:
                        p.kill()
                        p.wait()
                    p.stderr.close()
                    if out:
                        out.close()
                self.assertIn("gort: attached", err)
                self.assert_write_error(rc, err, "top %s into %s" % (json_flag, target))
        self.assertIsNone(prog.p.poll(), "the target runs on, detached")


class ExecUnderPid(HostileTestCase):
    """The traced PID execs: the old program ends there, the new one is followed if it is Go."""

    def start(self, args):
        tc = gortlib.newest_toolchain()
        self.groundtruth = gortlib.workload(tc, "groundtruth")
        prog = self.reaper.program(gortlib.workload(tc, "execer"))
        gort = self.reaper.gort(args + ["-p", prog.pid, "--interval", "200ms"])
        first = gort.wait_attached()
        self.assertIn("execer", first)
        return prog, gort

    def test_exec_into_a_go_program(self):
        prog, gort = self.start(["top", "--json"])
        gort.wait_json(lambda o: (gortlib.process_in(o, prog.pid) or {}).get("comm") == "execer")
        prog.send("exec %s\n" % self.groundtruth)
        second = gort.wait_attached()
        self.assertIn("PID %d (groundtruth" % prog.pid, second)
        note = gort.wait_line(lambda l: "exec'd" in l, which="err", what="the exec note")
        self.assertIn("execer ended, following groundtruth", note)
        prog.wait_line(lambda l: l == "ready %d" % prog.pid, what="groundtruth's ready line")
        obj = gort.wait_json(lambda o: (gortlib.process_in(o, prog.pid) or {}).get("comm") == "groundtruth")
        proc = gortlib.process_in(obj, prog.pid)
        self.assertFalse(proc["exited"], proc)
        # The new program's own goroutines, counted from its start: not execer's frozen figures.
        self.assertGreaterEqual(proc["goroutines"]["live"], 1, proc)
        self.assertTrue(all(not s["function"].startswith("main.ticker") for s in proc["sites"]), proc["sites"])

    def test_record_across_exec(self):
        out = os.path.join(self.private, "exec.gort")
        prog, gort = self.start(["record", "-o", out])
        prog.send("exec %s\n" % self.groundtruth)
        self.assertIn("groundtruth", gort.wait_attached())
        prog.wait_line(lambda l: l == "ready %d" % prog.pid, what="groundtruth's ready line")
        gort.signal(signal.SIGINT)
        self.assertEqual(gort.wait(timeout=60), 0, gort.stderr_text())
        r = gortlib.run([gortlib.GORT, "report", out, "--json"], timeout=60)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stderr, "")
        proc = gortlib.process_in(json.loads(r.stdout), prog.pid)
        self.assertEqual(proc["comm"], "groundtruth", proc)

    def test_exec_into_a_program_that_is_not_go(self):
        prog, gort = self.start(["top", "--json"])
        prog.send("exec /bin/sleep 30\n")
        note = gort.wait_line(lambda l: "exec'd" in l, which="err", what="the exec note")
        self.assertRegex(note, "execer ended; not following sleep: .*not a Go program")
        # Nothing left to trace: gort ends by itself, and its last figures mark execer ended.
        self.assertEqual(gort.wait(timeout=60), 0, gort.stderr_text())
        last = gort.json_lines()[-1]
        proc = gortlib.process_in(last, prog.pid)
        self.assertTrue(proc["exited"], proc)
        self.assertEqual(proc["comm"], "execer")


class LowerDefects(HostileTestCase):
    def test_sighup_ends_record_cleanly(self):
        exe = gortlib.workload(gortlib.newest_toolchain(), "groundtruth")
        prog = self.reaper.program(exe)
        out = os.path.join(self.private, "hup.gort")
        gort = self.reaper.gort(["record", "-p", prog.pid, "-o", out, "--interval", "200ms"])
        gort.wait_attached()
        time.sleep(0.5)  # not a synchronisation: lets a few intervals reach the file
        gort.signal(signal.SIGHUP)
        self.assertEqual(gort.wait(timeout=60), 0, gort.stderr_text())
        r = gortlib.run([gortlib.GORT, "report", out, "--json"], timeout=60)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stderr, "", "the end record and last chunk were written: %r" % r.stderr)

    def test_missing_capabilities_are_named(self):
        # Root with CAP_BPF and CAP_PERFMON only (a reduced bounding set): the uprobe attach would
        # fail with EPERM; gort says what is missing before trying.
        exe = gortlib.workload(gortlib.newest_toolchain(), "groundtruth")
        prog = self.reaper.program(exe)
        r = gortlib.run(["setpriv", "--bounding-set", "-all,+bpf,+perfmon", gortlib.GORT, "top", "-p", prog.pid,
                         "--duration", "1s"], timeout=60)
        self.assertEqual(r.returncode, 5, r)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertRegex(r.stderr, "missing CAP_SYS_ADMIN, CAP_SYS_PTRACE")

    def test_damaged_dwarf_is_traced_from_the_offsets_table(self):
        # A binary whose .debug_info was overwritten (a damaged copy): the DWARF answers nothing,
        # the offsets table row of its Go version does; no advice to "rebuild without -s -w".
        exe = os.path.join(self.private, "damaged")
        shutil.copy(gortlib.workload(gortlib.newest_toolchain(), "groundtruth"), exe)
        with open(exe, "r+b") as f:
            b = f.read()
            shoff = struct.unpack_from("<Q", b, 0x28)[0]
            shentsize, shnum, shstrndx = struct.unpack_from("<HHH", b, 0x3a)
            section = lambda i: struct.unpack_from("<IIQQQQIIQQ", b, shoff + i * shentsize)
            names = section(shstrndx)[4]
            damaged = 0
            for i in range(shnum):
                sh = section(i)
                name = b[names + sh[0]:b.index(b"\0", names + sh[0])]
                if name in (b".debug_info", b".zdebug_info"):
                    f.seek(sh[4])
                    f.write(b"\x5a" * sh[5])
                    damaged += 1
        self.assertEqual(damaged, 1)
        prog = self.reaper.program(exe)
        gort = self.reaper.gort(["top", "-p", prog.pid, "--json", "--duration", "1s", "--interval", "300ms"])
        gort.wait_attached()
        self.assertEqual(gort.wait(timeout=60), 0, gort.stderr_text())

    def test_unprivileged_ps_says_what_it_cannot_see(self):
        exe = gortlib.workload(gortlib.newest_toolchain(), "groundtruth")
        prog = self.reaper.program(exe)  # root's Go process: nobody may not read its binary
        r = subprocess.run(as_nobody([gortlib.GORT, "ps"]), capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r)
        self.assertNotIn(" %d " % prog.pid, r.stdout)
        self.assertRegex(r.stderr, r"^gort: \d+ process(es)? of other users not looked at .*run gort ps as root")

    def test_same_pid_twice_attaches_once(self):
        exe = gortlib.workload(gortlib.newest_toolchain(), "groundtruth")
        prog = self.reaper.program(exe)
        gort = self.reaper.gort(["top", "-p", prog.pid, "-p", prog.pid, "--json", "--duration", "1s",
                                 "--interval", "300ms"])
        gort.wait_attached()
        self.assertEqual(gort.wait(timeout=60), 0, gort.stderr_text())
        self.assertEqual(gort.stderr_text().count("gort: attached"), 1, gort.stderr_text())
        last = gort.json_lines()[-1]
        self.assertEqual([p["pid"] for p in last["processes"]], [prog.pid])


if __name__ == "__main__":
    gortlib.main()
