#!/usr/bin/env python3
"""gort serve scraped by a real Prometheus server (Debian's `prometheus`): while gort traces the
ground-truth program, PromQL answers equal `gort top --json` (goroutines per site, GC cycles, STW
pause count and sum per reason) and the program's own report; a second copy of the program runs
as a Kubernetes container would (its own cgroup at a Kubernetes-shaped path, its own PID
namespace, a pod's environment) and its series carry the right container and pod labels; when the
first program ends its series go away; `promtool check metrics` accepts the endpoint. gort runs
with exactly the capabilities deploy/daemonset.yaml grants (setpriv).

Run: python3 tests/e2e/test_prometheus.py   (root; env GORT, GORT_SOURCE_DIR, GORT_BUILD_DIR)
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gortlib  # noqa: E402
from groundtruth_check import SYSCALL_THRESHOLD_NS, sites_by_function, slow_bounds  # noqa: E402
from test_container import only_child  # noqa: E402

DAEMONSET = os.path.join(gortlib.SOURCE_DIR, "deploy", "daemonset.yaml")
ALERTS = os.path.join(gortlib.SOURCE_DIR, "deploy", "gort-alerts.yml")
WAIT = 60.0


def daemonset_capabilities():
    import yaml
    with open(DAEMONSET) as f:
        ds = yaml.safe_load(f)
    c = ds["spec"]["template"]["spec"]["containers"][0]
    return c["securityContext"]["capabilities"]["add"]


def cgroup2_root():
    """The cgroup v2 tree: /sys/fs/cgroup/unified on hybrid hosts, else /sys/fs/cgroup."""
    with open("/proc/self/mounts") as f:
        mounts = [line.split() for line in f]
    for want in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
        if any(m[1] == want and m[2] == "cgroup2" for m in mounts):
            return want
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def until(what, fn, timeout=WAIT):
    """fn() until it returns something true (bounded); returns it."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except (OSError, ValueError, KeyError) as e:
            last = e
        time.sleep(0.2)
    raise AssertionError("no %s within %.0fs (last: %r)" % (what, timeout, last))


class SetprivGort(gortlib.Gort):
    """gort run by setpriv with a capability bounding set of exactly `caps` (setpriv execs gort:
    the PID is gort's, so the reaper's SIGINT reaches it)."""

    def __init__(self, caps, args):
        bounding = "-all," + ",".join("+" + c.lower() for c in caps)
        gortlib.Proc.__init__(self, ["setpriv", "--bounding-set=" + bounding, "--inh-caps=-all", gortlib.GORT] + list(args),
                              stdin=subprocess.DEVNULL, name="gort")


def serving_address(gort):
    line = gort.wait_line(lambda l: l.startswith("gort: serving metrics on "), which="err", what="serving line")
    m = re.search(r"http://(\S+)/metrics", line)
    if not m:
        raise AssertionError("no address in %r" % line)
    return m.group(1)


class KubeCgroup:
    """A cgroup at the path the kubelet's systemd driver gives a burstable pod's container."""

    def __init__(self, root):
        self.pod_uid = str(uuid.uuid4())
        self.container_id = uuid.uuid4().hex + uuid.uuid4().hex
        self.dirs = [os.path.join(root, "kubepods.slice")]
        self.dirs.append(os.path.join(self.dirs[-1], "kubepods-burstable.slice"))
        self.dirs.append(os.path.join(self.dirs[-1], "kubepods-burstable-pod%s.slice" % self.pod_uid.replace("-", "_")))
        self.dirs.append(os.path.join(self.dirs[-1], "cri-containerd-%s.scope" % self.container_id))
        self.created = []
        for d in self.dirs:
            if not os.path.isdir(d):
                os.mkdir(d)
                self.created.append(d)
        self.leaf = self.dirs[-1]

    def remove(self):
        """Ends whatever is left in it and removes what this test created, deepest first."""
        if os.path.isdir(self.leaf):
            try:
                with open(os.path.join(self.leaf, "cgroup.kill"), "w") as f:
                    f.write("1")
            except OSError:
                pass
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with open(os.path.join(self.leaf, "cgroup.procs")) as f:
                    if not f.read().strip():
                        break
                time.sleep(0.05)
        for d in reversed(self.created):
            try:
                os.rmdir(d)
            except OSError as e:
                sys.stderr.write("test_prometheus: cannot remove cgroup %s: %s\n" % (d, e))


class Prometheus:
    """A Prometheus server on loopback scraping one target every second, rules loaded."""

    def __init__(self, reaper, target, tmp):
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        config = os.path.join(tmp, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
                    "rule_files: [%s]\n"
                    "scrape_configs:\n  - job_name: gort\n    honor_labels: true\n"
                    "    static_configs:\n      - targets: ['%s']\n" % (json.dumps(ALERTS), target))
        self.proc = reaper.proc(["prometheus", "--config.file=" + config, "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                                 "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"], name="prometheus")
        until("ready Prometheus", lambda: http_get(self.base + "/-/ready")[0] == 200)

    def query(self, promql):
        """The instant vector of promql as {frozenset(labels): float}."""
        _, body = http_get(self.base + "/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
        r = json.loads(body)
        if r["status"] != "success":
            raise AssertionError("query %r: %s" % (promql, r))
        return {frozenset(s["metric"].items()): float(s["value"][1]) for s in r["data"]["result"]}

    def one(self, promql):
        v = self.query(promql)
        if len(v) != 1:
            raise AssertionError("query %r: expected one series, got %s" % (promql, v))
        return next(iter(v.values()))


@__import__("unittest").skipUnless(shutil.which("prometheus") and shutil.which("promtool"),
                                   "prometheus not installed: run scripts/install-deps.sh")
class PrometheusScrape(gortlib.GortTestCase):
    def setUp(self):
        gortlib.require_gort()
        gortlib.require_root()
        root = cgroup2_root()
        if root is None:
            self.skipTest("no cgroup v2 hierarchy mounted")
        self.tmp = tempfile.mkdtemp(prefix="gort-prom-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.cgroup = KubeCgroup(root)
        self.addCleanup(self.cgroup.remove)
        super().setUp()  # the reaper's cleanup runs first: processes end before the cgroup goes

    def start_pod_process(self, exe):
        """exe as a pod's container: PID 1 of its own PID namespace, in the kube-shaped cgroup,
        with the environment the downward API and the runtime give it. Returns its host PID."""
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOSTNAME": "web-7d9f8-hostname",
               "POD_NAME": "web-7d9f8-x2x4q", "POD_NAMESPACE": "shop", "KUBERNETES_SERVICE_HOST": "10.0.0.1"}
        box = self.reaper.proc(["sh", "-c", 'echo $$ > "$1/cgroup.procs" && exec unshare --pid --fork --mount-proc "$2"',
                                "sh", self.cgroup.leaf, exe], env=env, name="pod")
        box.wait_line(lambda l: l == "ready 1", what="ready line from PID 1 of the pod's namespace", timeout=30)
        return box, only_child(box.pid)

    def test_prometheus_scrapes_gort(self):
        tc = gortlib.newest_toolchain()
        exe = gortlib.workload(tc, "groundtruth")
        # The program runs from a path a hostile user could choose: a quote, a backslash, a
        # newline and a byte that is not UTF-8. Prometheus must still parse every line.
        hostile = os.path.join(self.tmp, os.fsdecode(b'ev"il\\dir\nx\xff'), "groundtruth")
        os.mkdir(os.path.dirname(hostile))
        shutil.copy2(exe, hostile)
        prog = self.reaper.program(hostile)
        pod, pod_pid = self.start_pod_process(exe)

        serve = self.reaper.add(SetprivGort(daemonset_capabilities(), [
            "serve", "-p", prog.pid, "-p", pod_pid, "--listen", "127.0.0.1:0", "--interval", "200ms",
            "--syscall-threshold", "5ms"]))
        target = serving_address(serve)
        serve.wait_attached()
        serve.wait_attached()
        top = self.reaper.gort(["top", "-p", prog.pid, "--json", "--interval", "200ms", "--syscall-threshold", "5ms"])
        top.wait_attached()
        prom = Prometheus(self.reaper, target, self.tmp)

        prog.go()
        report = prog.read_report()
        pid = 'pid="%d"' % prog.pid
        # top's figures once every GC cycle the program made is in them, then Prometheus's once a
        # scrape has the same (the program idles after its report, until its stdin closes).
        t = top.wait_json(lambda o: (gortlib.process_in(o, prog.pid) or {}).get("gc", {}).get("cycles") == report["num_gc"]
                          and gortlib.process_in(o, prog.pid)["goroutines"]["live"] == report["num_goroutine"],
                          timeout=WAIT)
        t = gortlib.process_in(top.wait_json(lambda o: True), prog.pid)
        until("scrape with every GC cycle", lambda: prom.query("gort_gc_cycles_total{%s} == %d" % (pid, report["num_gc"]))
              and prom.query("gort_goroutines{%s} == %d" % (pid, report["num_goroutine"])))
        until("scrape with every STW", lambda: prom.one('sum(gort_stw_pause_seconds_count{%s})' % pid)
              == sum(s["count"] for s in t["stw"]["by_reason"].values()))

        self.assertEqual(prom.one("gort_gc_cycles_total{%s}" % pid), t["gc"]["cycles"])
        self.assertEqual(t["gc"]["cycles"], report["num_gc"])
        g = t["goroutines"]
        self.assertEqual(prom.one("gort_goroutines{%s}" % pid), g["live"])
        self.assertEqual(prom.one("gort_goroutines_created_total{%s}" % pid), g["created"])
        self.assertEqual(prom.one("gort_goroutines_exited_total{%s}" % pid), g["exited"])
        self.assertEqual(prom.one("gort_goroutines_at_attach{%s}" % pid), g["live_at_attach"])
        self.assertEqual(prom.one("gort_lost_events_total{%s}" % pid), 0)

        # The runtime's GC bookkeeping: the same figures top --json shows, and the program's own
        # MemStats at its quiet gate (GC is off after it, so no later cycle moves them).
        h = t["heap"]
        self.assertEqual(prom.one("gort_heap_goal_bytes{%s}" % pid), h["goal_bytes"])
        self.assertEqual(prom.one("gort_gomaxprocs{%s}" % pid), h["gomaxprocs"])
        self.assertEqual(prom.one("gort_gogc{%s}" % pid), h["gogc"])
        self.assertAlmostEqual(prom.one("gort_gc_cpu_fraction{%s}" % pid), h["gc_cpu_fraction"], places=12)
        if report.get("gate"):
            self.assertEqual(h["goal_bytes"], report["gate"]["next_gc"])
            self.assertEqual(h["gomaxprocs"], report["gate"]["gomaxprocs"])

        # Goroutines per site (every groundtruth site fits under the default --max-sites 20).
        live = prom.query("sum by (function) (gort_site_goroutines{%s})" % pid)
        got = {dict(k)["function"]: v for k, v in live.items()}
        self.assertEqual(got, {k: float(v) for k, v in sites_by_function(t, "live").items()})
        self.assertEqual(got["main.leakWorker"], report["created"]["main.leakWorker"])

        # STW pauses per reason: count and sum equal top's; the histogram is whole.
        by_reason = t["stw"]["by_reason"]
        counts = {dict(k)["reason"]: v for k, v in prom.query("gort_stw_pause_seconds_count{%s}" % pid).items()}
        sums = {dict(k)["reason"]: v for k, v in prom.query("gort_stw_pause_seconds_sum{%s}" % pid).items()}
        self.assertEqual(counts, {r: float(s["count"]) for r, s in by_reason.items()})
        for reason, s in by_reason.items():
            self.assertLessEqual(abs(round(sums[reason] * 1e9) - s["total_ns"]), 1, reason)
            inf = prom.one('gort_stw_pause_seconds_bucket{%s,reason="%s",le="+Inf"}' % (pid, reason))
            self.assertEqual(inf, s["count"], reason)
        self.assertEqual(counts["GC mark termination"], report["num_gc"])
        self.assertEqual(round(sum(sums[r] for r in ("GC sweep termination", "GC mark termination")) * 1e9),
                         report["pause_total_ns"])
        # The slow nanosleeps, within what the program's timed calls allow (a signal may have cut
        # one short, then it slept the remainder): all of them, and those of 25 ms and more.
        ns = 'gort_slow_syscall_seconds_bucket{%s,syscall="nanosleep",le="%s"}'
        total, below = prom.one(ns % (pid, "+Inf")), prom.one(ns % (pid, "0.025"))
        for got, at_least in ((total, SYSCALL_THRESHOLD_NS), (total - below, 25000000)):
            lo, hi = slow_bounds(report, at_least)
            self.assertTrue(lo <= got <= hi, (at_least, got, report["nanosleep_calls"]))

        # The pod's process: its container and pod labels, from its cgroup and environment.
        pod_series = prom.query('gort_goroutines{pid="%d"}' % pod_pid)
        self.assertEqual(len(pod_series), 1, pod_series)
        labels = dict(next(iter(pod_series)))
        self.assertEqual(labels.get("container_id"), self.cgroup.container_id, labels)
        self.assertEqual(labels.get("pod_uid"), self.cgroup.pod_uid, labels)
        self.assertEqual(labels.get("pod_name"), "web-7d9f8-x2x4q", labels)
        self.assertEqual(labels.get("namespace"), "shop", labels)
        self.assertEqual(labels.get("comm"), "groundtruth", labels)
        plain = dict(next(iter(prom.query("gort_goroutines{%s}" % pid))))
        self.assertFalse({"container_id", "pod_uid", "pod_name", "namespace"} & set(plain), plain)
        self.assertEqual(plain["exe"], hostile.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
        self.assertEqual(prom.one('gort_info{mode="pids"}'), 1)
        sys.stderr.write("test_prometheus: PromQL = top --json: gc_cycles=%d live=%d created=%d sites=%s stw=%s; "
                         "pod labels %s\n" % (t["gc"]["cycles"], g["live"], g["created"], got,
                                               {r: (s["count"], s["total_ns"]) for r, s in by_reason.items()},
                                               {k: labels[k] for k in ("container_id", "pod_uid", "pod_name", "namespace")}))

        # promtool's lint of the endpoint as it is now.
        _, text = http_get("http://%s/metrics" % target)
        check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertEqual(check.stdout.strip() + check.stderr.strip(), "", "promtool lint")
        self.assertEqual(http_get("http://%s/ready" % target)[0], 200)

        # The first program ends: its series leave the endpoint and Prometheus (staleness), the
        # pod's stay.
        prog.close_stdin()
        self.assertEqual(prog.wait(timeout=30), 0)
        serve.wait_line(lambda l: l == "gort: PID %d exited" % prog.pid, which="err", what="exit line")
        until("endpoint without the ended process",
              lambda: pid not in http_get("http://%s/metrics" % target)[1])
        until("Prometheus without the ended process", lambda: not prom.query("gort_goroutines{%s}" % pid))
        self.assertEqual(len(prom.query('gort_goroutines{pid="%d"}' % pod_pid)), 1)
        self.assertEqual(prom.one("gort_traced_processes"), 1)


class ServeCli(gortlib.GortTestCase):
    def test_all_follows_processes_as_they_come_and_go(self):
        """--all: a program started after gort appears on the endpoint, and leaves it when it ends."""
        gortlib.require_gort()
        gortlib.require_root()
        exe = gortlib.workload(gortlib.newest_toolchain(), "groundtruth")
        serve = self.reaper.gort(["serve", "--all", "--comm", "^groundtruth$", "--listen", "127.0.0.1:0",
                                  "--interval", "200ms"])
        target = serving_address(serve)
        until("ready endpoint", lambda: http_get("http://%s/ready" % target)[0] == 200)
        prog = self.reaper.program(exe)
        serve.wait_line(lambda l: l.startswith("gort: attached to PID %d " % prog.pid), which="err", what="attach line")
        pid = 'pid="%d"' % prog.pid
        text = until("the new process on the endpoint",
                     lambda: (lambda t: pid in t and t)(http_get("http://%s/metrics" % target)[1]))
        self.assertIn('gort_info{mode="all"} 1', text)
        self.assertRegex(text, r'gort_goroutines\{%s,comm="groundtruth",[^}]*\} 1\n' % pid)
        prog.close_stdin()
        prog.wait(timeout=30)
        until("the ended process gone", lambda: pid not in http_get("http://%s/metrics" % target)[1])
        self.assertTrue(serve.running(), "serve --all goes on with nothing to trace")
        serve.signal(signal.SIGTERM)  # as Kubernetes and systemd stop it
        self.assertEqual(serve.wait(timeout=30), 0, serve.stderr_text()[-2000:])

    def test_bad_or_taken_address_attaches_nothing(self):
        gortlib.require_gort()
        gortlib.require_root()
        exe = gortlib.workload(gortlib.newest_toolchain(), "groundtruth")
        prog = self.reaper.program(exe)
        r = gortlib.run([gortlib.GORT, "serve", "-p", prog.pid, "--listen", "example.com:80"])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
        self.assertIn("--listen", r.stderr)
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            r = gortlib.run([gortlib.GORT, "serve", "-p", prog.pid, "--listen", "127.0.0.1:%d" % taken.getsockname()[1]])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertNotIn("attached", r.stderr)
        self.assertIn("Address already in use", r.stderr)


if __name__ == "__main__":
    gortlib.main()
