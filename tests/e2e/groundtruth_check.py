"""The comparison of gort's JSON for one process with the ground-truth program's own report
(tests/workloads/groundtruth), shared by every e2e test that traces it."""

# Per Go version tolerance for stw.gc.total_ns vs MemStats.PauseTotalNs: none is needed, gort
# reads the runtime's own pause boundaries; kept so a version that cannot be exact says why here.
PAUSE_TOLERANCE = {}


def sites_by_function(proc, field):
    out = {}
    for s in proc.get("sites", []):
        out[s["function"]] = out.get(s["function"], 0) + s[field]
    return out


def groundtruth_problems(version, report, status, p):
    """Every mismatch between gort's object `p` for the program and its `report` (and exit
    `status`), as lines; empty when gort's figures are exact."""
    assert report["nanosleeps"] == 3, "the program's own count (a signal interrupted a sleep?)"
    assert report["num_gc"] >= report["explicit_gc"], "the workload itself"
    # Every mismatch is collected, so that one run shows all that is wrong for a version.
    problems = []

    def expect(what, got, want, ok=None):
        if not (got == want if ok is None else ok):
            problems.append("%s: gort says %r, expected %s%r" % (
                what, got, "" if ok is None else "(see test) ", want))

    expect("program exit status under tracing", status, 0)
    expect("exited", p.get("exited"), True)
    expect("go_version", str(p.get("go_version")).lstrip("go"), report["go_version"].lstrip("go"))
    expect("lost_events", p.get("lost_events"), 0)

    # Goroutines per creation site (go wrappers resolved to the function they run, also when
    # that function was inlined into the wrapper, as main.leakWorker is from Go 1.22 on).
    created = sites_by_function(p, "created")
    exited = sites_by_function(p, "exited")
    for fn, n in sorted(report["created"].items()):
        expect("sites[%s].created" % fn, created.get(fn), n)
        expect("sites[%s].exited" % fn, exited.get(fn, 0), report["exited"].get(fn, 0))
    leak = [s for s in p["sites"] if s["function"] == "main.leakWorker"]
    expect("sites[main.leakWorker].live", sum(s["live"] for s in leak), report["created"]["main.leakWorker"])
    expect("sites[main.leakWorker].system", [s["system"] for s in leak], [False] * len(leak))

    # User goroutines: the program starts no others than those it reports.
    g = p["goroutines"]
    expect("goroutines.live_at_attach", g["live_at_attach"], report["num_goroutine_at_start"])
    expect("goroutines.created", g["created"], sum(report["created"].values()))
    expect("goroutines.exited", g["exited"], sum(report["exited"].values()))
    expect("goroutines.live", g["live"], report["num_goroutine"])
    expect("goroutines.live = live_at_attach + created - exited", g["live"],
           g["live_at_attach"] + g["created"] - g["exited"])
    expect("goroutines.peak >= live", g["peak"], g["live"], ok=g["peak"] >= g["live"])

    # GC cycles and GC stop-the-world pauses.
    expect("gc.cycles", p["gc"]["cycles"], report["num_gc"])
    stw = p["stw"]
    tol = PAUSE_TOLERANCE.get(version)
    got = stw["gc"]["total_ns"]
    want = report["pause_total_ns"]
    if tol is None:
        expect("stw.gc.total_ns (MemStats.PauseTotalNs)", got, want)
    else:
        expect("stw.gc.total_ns within %g%% of MemStats.PauseTotalNs" % (tol * 100), got, want,
               ok=abs(got - want) <= want * tol)
    by_reason = stw["by_reason"]
    # Every cycle has exactly one sweep-termination and one mark-termination STW.
    for reason in ("GC sweep termination", "GC mark termination"):
        expect("stw.by_reason[%s].count" % reason, by_reason.get(reason, {}).get("count"), report["num_gc"])
    expect("stw.gc.count", stw["gc"]["count"], 2 * report["num_gc"])

    # Non-GC STWs: the program's own GOMAXPROCS round trip and ReadMemStats calls.
    for reason, n in (("GOMAXPROCS", report["gomaxprocs_calls"]),
                      ("read mem stats", report["read_mem_stats_calls"])):
        c = by_reason.get(reason, {}).get("count")
        expect("stw.by_reason[%s].count >= %d" % (reason, n), c, n, ok=c is not None and c >= n)
    n = report["gomaxprocs_calls"] + report["read_mem_stats_calls"]
    expect("stw.other.count >= %d" % n, stw["other"]["count"], n, ok=stw["other"]["count"] >= n)

    # The deliberately slow syscalls (threshold 5 ms: each takes >= 30 ms).
    sc = {s["name"]: s for s in p["syscalls"]}
    ns = sc.get("nanosleep")
    if ns is None:
        problems.append("syscalls: no nanosleep entry (%s)" % sorted(sc))
    else:
        d = report["nanosleep_ns"]
        expect("syscalls[nanosleep].count", ns["count"], report["nanosleeps"])
        expect("syscalls[nanosleep].total_ns >= 3 x %d" % d, ns["total_ns"], 3 * d, ok=ns["total_ns"] >= 3 * d)
        expect("syscalls[nanosleep].max_ns in [%d, %d)" % (d, 10 * d), ns["max_ns"], d,
               ok=d <= ns["max_ns"] < 10 * d)
        expect("syscalls[nanosleep].by_function", ns["by_function"], {"main.sleeper": 3})

    # The figures the --all table sorts on come with the model, as the views show them.
    expect("stw.worst_ns = max(stw.gc.max_ns, stw.other.max_ns)", stw["worst_ns"],
           max(stw["gc"]["max_ns"], stw["other"]["max_ns"]))
    expect("slow_syscalls = the sum of syscalls[].count", p["slow_syscalls"], sum(s["count"] for s in p["syscalls"]))

    # The heap section: the runtime's own bookkeeping of its last cycle, which is the one its
    # ReadMemStats described at the gate (GC is off from there on, so no cycle follows).
    gate = report.get("gate")
    if gate is not None:
        heap = p.get("heap") or {}
        expect("heap.num_gc (MemStats.NumGC at the gate)", heap.get("num_gc"), gate["num_gc"])
        expect("heap.pause_total_ns (MemStats.PauseTotalNs)", heap.get("pause_total_ns"), gate["pause_total_ns"])
        expect("heap.goal_bytes (MemStats.NextGC)", heap.get("goal_bytes"), gate["next_gc"])
        expect("heap.gogc", heap.get("gogc"), gate["gogc"])
        expect("heap.gomaxprocs", heap.get("gomaxprocs"), gate["gomaxprocs"])
    return problems