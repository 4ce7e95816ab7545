"""The comparison of gort's JSON for one process with the ground-truth program's own report
(tests/workloads/groundtruth), shared by every e2e test that traces it. The expectations are
tests/workloads/groundtruth/expect.json, which the BPF tier (tests/support/traced_run.h) checks
too; this file only evaluates them."""

import json
import os

import gortlib

with open(os.path.join(gortlib.SOURCE_DIR, "tests", "workloads", "groundtruth", "expect.json")) as _f:
    EXPECT = json.load(_f)

SYSCALL_THRESHOLD_NS = EXPECT["syscall_threshold_ns"]


def sites_by_function(proc, field):
    out = {}
    for s in proc.get("sites", []):
        out[s["function"]] = out.get(s["function"], 0) + s[field]
    return out


def _path(obj, path):
    for key in path.split("."):
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
    return obj


def _value(expr, gort, program):
    if not isinstance(expr, str):
        return expr
    if expr.startswith("sum:"):
        m = _value(expr[4:], gort, program)
        return None if m is None else sum(m.values())
    if expr.startswith("gort:"):
        return _path(gort, expr[5:])
    if expr.startswith("program:"):
        return _path(program, expr[8:])
    return expr


def slow_bounds(report, at_least_ns):
    """(lo, hi): how many stretches of at least at_least_ns gort may count in the program's timed
    nanosleep calls (expect.json's slow_syscall): at least one per call not interrupted that asked
    for at_least_ns + slack, at most as many as fit in each call's timed span."""
    s = EXPECT["slow_syscall"]
    calls = _value(s["calls"], {}, report)
    lo = sum(1 for c in calls if not c["interrupted"] and c["asked_ns"] >= at_least_ns + s["slack_ns"])
    hi = sum((c["took_ns"] + s["slack_ns"]) // at_least_ns for c in calls)
    return lo, hi


def groundtruth_problems(version, report, status, p):
    """Every mismatch between gort's object `p` for the program and its `report` (and exit
    `status`), as lines; empty when gort's figures are exact. `version`: the toolchain, for the
    message."""
    problems = []  # every mismatch, so that one run shows all that is wrong for a version

    def expect(what, ok, got, want):
        if not ok:
            problems.append("go%s %s: gort says %r, expected %r" % (version, what, got, want))

    expect("program exit status under tracing", status == 0, status, 0)
    for c in EXPECT["checks"]:
        got, want = _value(c["got"], p, report), _value(c["want"], p, report)
        if want is not None and "times" in c:
            want *= c["times"]
        ok = got is not None and want is not None and (got == want if c["op"] == "==" else got >= want)
        expect("%s %s %s%s" % (c["got"], c["op"], c["want"], " x %d" % c["times"] if "times" in c else ""),
               ok, got, want)

    for field, program_map in EXPECT["sites"]["fields"].items():
        got = sites_by_function(p, field)
        for fn, n in sorted(report[program_map].items()):
            expect("sites[%s].%s" % (fn, field), got.get(fn, 0) == n, got.get(fn), n)
    for fn in report["created"]:
        system = [s["system"] for s in p.get("sites", []) if s["function"] == fn]
        expect("sites[%s].system" % fn, not any(system), system, False)

    s = EXPECT["slow_syscall"]
    calls, slack = _value(s["calls"], p, report), s["slack_ns"]
    threshold = p.get("syscall_threshold_ns", SYSCALL_THRESHOLD_NS)
    lo, hi = slow_bounds(report, threshold)
    sc = {x["name"]: x for x in p.get("syscalls", [])}.get(s["name"], {"count": 0, "total_ns": 0, "max_ns": 0,
                                                                          "by_function": {}})
    n = sc["count"]
    # The runtime's own waits are shown beside, for a mismatch to say where a call went.
    waits = {x["name"]: x for x in p.get("runtime_waits", [])}.get(s["name"])
    expect("syscalls[%s].count in [%d, %d] from the program's timed calls %r (gort: %r, runtime waits: %r)" % (
        s["name"], lo, hi, calls, sc, waits), lo <= n <= hi, n, (lo, hi))
    expect("syscalls[%s].by_function" % s["name"], sc["by_function"] == ({s["function"]: n} if n else {}),
           sc["by_function"], {s["function"]: n})
    asked = [c["asked_ns"] - slack for c in calls if not c["interrupted"] and c["asked_ns"] >= threshold + slack]
    took = [c["took_ns"] + slack for c in calls]
    if n and calls:
        want = (max(asked) if asked else 0, max(took))
        expect("syscalls[%s].max_ns in %r" % (s["name"], want), want[0] <= sc["max_ns"] <= want[1], sc["max_ns"], want)
        want = (sum(asked), sum(took))
        expect("syscalls[%s].total_ns in %r" % (s["name"], want), want[0] <= sc["total_ns"] <= want[1],
               sc["total_ns"], want)
    # The figures the --all table sorts on come with the model, as the views show them.
    stw = p.get("stw", {})
    if stw:
        worst = max(stw["gc"]["max_ns"], stw["other"]["max_ns"])
        expect("stw.worst_ns = max(stw.gc.max_ns, stw.other.max_ns)", stw.get("worst_ns") == worst,
               stw.get("worst_ns"), worst)
    total = sum(x["count"] for x in p.get("syscalls", []))
    expect("slow_syscalls = the sum of syscalls[].count", p.get("slow_syscalls") == total, p.get("slow_syscalls"), total)
    return problems
