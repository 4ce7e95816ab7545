#!/usr/bin/env python3
"""A real Go server built by someone else: Debian's prometheus-node-exporter from sid, stripped and
built by whatever Go patch release sid had (go1.26.4 when this was written; gort's table has
other patch releases only), fetched by scripts/install-deps.sh into .toolchains/apps/ (never
installed). It reports its own runtime figures on /metrics (client_golang's Go collector:
go_gc_duration_seconds_count = MemStats.NumGC, its _sum = PauseTotalNs) and its goroutines in
its own SIGQUIT dump; `gort top` must say the same. It listens on loopback only; every request loop is bounded.

GC cycles happen when the server allocates, i.e. while it serves /metrics, so figures are
compared at quiescence: consecutive scrapes (and gort objects printed after them) that agree.

Run: python3 tests/e2e/test_debian_binary.py   (root; env GORT, GORT_SOURCE_DIR, GORT_BUILD_DIR;
GORT_DEBIAN_APPS overrides .toolchains/apps)
"""

import json
import os
import re
import signal
import socket
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gortlib  # noqa: E402

APPS = os.environ.get("GORT_DEBIAN_APPS") or os.path.join(gortlib.SOURCE_DIR, ".toolchains", "apps")
EXPORTER = os.path.join(APPS, "prometheus-node-exporter", "usr", "bin", "prometheus-node-exporter")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(go_gc_duration_seconds_count|go_gc_duration_seconds_sum|go_goroutines|go_info)"
                     r"(\{[^}]*\})? (\S+)$", line)
        if m:
            out[m.group(1)] = (m.group(2) or "", float(m.group(3)))
    return out


class DebianBinary(gortlib.GortTestCase):
    def test_node_exporter_figures_equal_its_own_metrics(self):
        gortlib.require_gort()
        gortlib.require_root()
        if not os.path.exists(EXPORTER):
            self.fail("%s missing: run scripts/install-deps.sh (fetch_app)" % EXPORTER)
        port = free_port()
        # Only loopback; the default collectors off (they read the host), the Go and process
        # collectors (go_*) stay.
        prog = self.reaper.proc([EXPORTER, "--web.listen-address=127.0.0.1:%d" % port,
                                 "--collector.disable-defaults", "--collector.loadavg"])
        deadline = time.monotonic() + 30
        while True:
            try:
                first = metrics(port)
                break
            except OSError:
                if time.monotonic() > deadline or not prog.running():
                    self.fail("node-exporter did not serve /metrics: %s" % prog.stderr_text()[-2000:])
                time.sleep(0.1)
        version = re.search(r'version="([^"]+)"', first["go_info"][0]).group(1)

        gort = self.reaper.gort(["top", "-p", str(prog.pid), "--json", "--interval", "100ms"])
        gort.wait_attached()
        base = metrics(port)

        # Allocation makes GC cycles: bounded scrapes over loopback.
        for _ in range(400):
            metrics(port)

        def gort_now():
            """gort's figures from an object it printed wholly after this call (two new lines)."""
            n = len(gort.out_lines)
            deadline = time.monotonic() + 10
            while len(gort.out_lines) < n + 2:
                if time.monotonic() > deadline or not gort.running():
                    self.fail("gort printed nothing for 10s: %s" % gort.stderr_text()[-2000:])
                time.sleep(0.02)
            return gortlib.process_in(json.loads(gort.out_lines[-1]), prog.pid)

        prev = None
        for _ in range(20):
            m = metrics(port)
            p = gort_now()
            now = (m["go_gc_duration_seconds_count"][1], m["go_gc_duration_seconds_sum"][1],
                   m["go_goroutines"][1], p["gc"]["cycles"], p["stw"]["gc"]["total_ns"])
            if prev == now:
                break
            prev = now
        cycles = int(now[0] - base["go_gc_duration_seconds_count"][1])
        pause_ns = round((now[1] - base["go_gc_duration_seconds_sum"][1]) * 1e9)
        print("node-exporter %s (%s): %d GC cycles, GC pauses %d ns, go_goroutines %d; gort: %d, %d ns"
              % (version, EXPORTER, cycles, pause_ns, now[2], now[3], now[4]))
        self.assertGreater(cycles, 0, "the scrapes made no GC cycle")
        self.assertEqual(now[3], cycles, "GC cycles: gort vs go_gc_duration_seconds_count")
        # PauseTotalNs arrives as float seconds: equal to the nanosecond up to float rounding.
        self.assertLessEqual(abs(now[4] - pause_ns), 2, "GC pause total: gort vs go_gc_duration_seconds_sum")
        # Its goroutines as its own dump shows them (SIGQUIT: every goroutine, runtime ones too,
        # with "created by" lines), against gort's sites at the same quiescent point; the main
        # goroutine (1) has no "created by" line there and none in gort either.
        ps = gortlib.run([gortlib.GORT, "ps", "-v", "--json"])
        prog.signal(signal.SIGQUIT)
        prog.wait(timeout=30)
        dump = "".join(prog.err_lines)
        ids = [int(i) for i in re.findall(r"^goroutine (\d+) gp=", dump, re.M)]
        ids = [i for i in ids if i != 0]  # goroutine 0: the crashing thread's g0, not in allgs
        live = sum(s["live"] for s in p["sites"])
        self.assertEqual(live, len(ids), "live goroutines: gort's sites %s vs the dump's %s" % (p["sites"], ids))
        main = [s for s in p["sites"] if s["function"] == "runtime.main"]
        self.assertEqual([(s["live"], s["created_by"], s["system"]) for s in main], [(1, "", False)], p["sites"])
        self.assertNotRegex(dump.split("\ngoroutine 1 ")[1].split("\n\n")[0], "created by")
        for s in p["sites"]:
            if s["live"] > 0 and s["created_by"]:
                self.assertIn("created by %s in goroutine" % s["created_by"], dump, s)
            if s["live"] > 0 and not s["system"]:
                self.assertIn("\n%s(" % s["function"], dump, s)

        self.assertEqual(ps.returncode, 0, ps.stderr)
        entry = [e for e in json.loads(ps.stdout) if e["pid"] == prog.pid][0]
        self.assertTrue(entry["traceable"], entry)
        self.assertIn("stripped", entry["build"])
        sources = {o["name"]: o["source"] for o in entry["offsets"]}
        self.assertTrue(sources["runtime.g.goid"].startswith("type descriptor"), sources)


if __name__ == "__main__":
    gortlib.main()
