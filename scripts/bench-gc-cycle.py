#!/usr/bin/env python3
"""What gort's per-GC-cycle read costs (bpf/gc.bpf.c gc_cycle_read): the kernel's own run-time
statistics of that BPF program, over every GC cycle of tests/workloads/groundtruth traced by
`gort gctrace`. Statistics are switched on with BPF_ENABLE_STATS, which lasts only while this
script holds its file descriptor (the sysctl kernel.bpf_stats_enabled is left alone). The figure
excludes the uprobe's trap itself (the same for every gort probe: see the goroutine benchmark).

Usage: scripts/bench-gc-cycle.py GORT GROUNDTRUTH_BINARY   (root; bpftool)
Synchronisation by protocol: "ready PID" from the program, "gort: attached" from gort.
"""
import ctypes
import json
import os
import re
import subprocess
import sys

BPF_ENABLE_STATS, BPF_STATS_RUN_TIME, SYS_BPF = 32, 0, 321


def enable_stats():
    libc = ctypes.CDLL(None, use_errno=True)
    attr = (ctypes.c_uint32 * 32)()
    attr[0] = BPF_STATS_RUN_TIME
    fd = libc.syscall(SYS_BPF, BPF_ENABLE_STATS, ctypes.byref(attr), ctypes.sizeof(attr))
    if fd < 0:
        sys.exit("bench-gc-cycle: BPF_ENABLE_STATS failed (errno %d)" % ctypes.get_errno())
    return fd


def prog_stats(name):
    out = subprocess.run(["bpftool", "prog", "show", "name", name, "--json"], capture_output=True, text=True)
    progs = json.loads(out.stdout or "[]")
    if isinstance(progs, dict):
        progs = [progs]
    return sum(p.get("run_cnt", 0) for p in progs), sum(p.get("run_time_ns", 0) for p in progs)


def heap_read(gort, pid):
    """HeapAlloc/HeapObjects are not read per cycle but per refresh, from user space
    (user/goprocess/heap_reader.h): gort's GORT_DEBUG line times each read, over 20 refreshes of
    `top --json`."""
    r = subprocess.run([gort, "top", "-p", str(pid), "--json", "--interval", "100ms", "--duration", "2s"],
                       capture_output=True, text=True, env=dict(os.environ, GORT_DEBUG="1"), timeout=60)
    ns = sorted(int(m.group(1)) for m in re.finditer(r"heap figures read in (\d+) ns", r.stderr))
    if not ns:
        print("heap figures read: none timed (gort top status %d)" % r.returncode)
        return
    print("heap figures read (HeapAlloc/HeapObjects, per refresh, in gort, target not stopped): "
          "median %.1f µs, max %.1f µs over %d reads" % (ns[len(ns) // 2] / 1e3, ns[-1] / 1e3, len(ns)))


def main():
    gort, binary = sys.argv[1], sys.argv[2]
    fd = enable_stats()
    prog = subprocess.Popen([binary, "-alloc-mb", "4000", "-churn", "0"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    tracer = None
    try:
        if not prog.stdout.readline().startswith("ready "):
            sys.exit("bench-gc-cycle: no ready line")
        tracer = subprocess.Popen([gort, "gctrace", "-p", str(prog.pid)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        if not tracer.stderr.readline().startswith("gort: attached"):
            sys.exit("bench-gc-cycle: gort did not attach")
        prog.stdin.write("go\n")
        prog.stdin.flush()
        report = json.loads(prog.stdout.readline())
        cnt, ns = prog_stats("gc_cycle_read")  # gort still attached: the program waits on stdin
        print("GC cycles: %d (program's NumGC), gc_cycle_read runs: %d, BPF run time per cycle: %.0f ns"
              % (report["num_gc"], cnt, ns / cnt if cnt else float("nan")))
        heap_read(gort, prog.pid)
    finally:
        prog.kill()
        prog.wait()
        if tracer:
            tracer.wait(timeout=30)
        os.close(fd)


if __name__ == "__main__":
    main()
