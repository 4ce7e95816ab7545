#!/usr/bin/env python3
"""deploy/ checked by parsing it, not by eye: the DaemonSet has what gort needs and no more (host
PID namespace, the capabilities instead of privileged, the read-only mounts, a readiness probe on
the endpoint's /ready, resource limits, a --listen that matches the port); the Containerfile
builds from Debian packages and runs `gort serve`; the systemd unit runs `gort serve` with the same
capabilities; `promtool check rules` accepts the alerting rules and they use only metric names
gort serves (or the one documented as coming).

Run: python3 tests/e2e/test_prometheus_deploy.py   (no root needed)
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gortlib  # noqa: E402

DEPLOY = os.path.join(gortlib.SOURCE_DIR, "deploy")
CAPS = {"BPF", "PERFMON", "SYS_PTRACE", "SYS_ADMIN"}
# Every family gort serve writes (user/export/prometheus.cpp); none is announced ahead of its code.
COMING = set()


def served_families():
    with open(os.path.join(gortlib.SOURCE_DIR, "user", "export", "prometheus.cpp")) as f:
        src = f.read()
    return set(re.findall(r'"(gort_[a-z_]+)"', src))


class Deploy(unittest.TestCase):
    def setUp(self):
        import yaml  # python3-yaml (scripts/install-deps.sh)
        self.yaml = yaml

    def daemonset(self):
        with open(os.path.join(DEPLOY, "daemonset.yaml")) as f:
            docs = [d for d in self.yaml.safe_load_all(f) if d]
        ds = [d for d in docs if d.get("kind") == "DaemonSet"]
        self.assertEqual(len(ds), 1)
        return ds[0]

    def test_daemonset(self):
        ds = self.daemonset()
        self.assertEqual(ds["apiVersion"], "apps/v1")
        pod = ds["spec"]["template"]["spec"]
        self.assertLessEqual(ds["spec"]["selector"]["matchLabels"].items(),
                             ds["spec"]["template"]["metadata"]["labels"].items())
        self.assertIs(pod.get("hostPID"), True)
        self.assertFalse(pod.get("hostNetwork", False))
        self.assertIs(pod.get("automountServiceAccountToken"), False)
        self.assertEqual(len(pod["containers"]), 1)
        c = pod["containers"][0]
        args = c["args"]
        self.assertEqual(args[0], "serve")
        self.assertIn("--all", args)
        listen = args[args.index("--listen") + 1]
        port = int(listen.rsplit(":", 1)[1])
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        self.assertEqual(ports["metrics"], port)

        sc = c["securityContext"]
        self.assertIs(sc.get("privileged"), False)
        self.assertIs(sc.get("allowPrivilegeEscalation"), False)
        self.assertIs(sc.get("readOnlyRootFilesystem"), True)
        self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
        self.assertEqual(set(sc["capabilities"]["add"]), CAPS)
        self.assertEqual(sc["seccompProfile"]["type"], "RuntimeDefault")

        probe = c["readinessProbe"]["httpGet"]
        self.assertEqual(probe["path"], "/ready")
        self.assertIn(probe["port"], ("metrics", port))
        for kind in ("requests", "limits"):
            self.assertTrue({"cpu", "memory"} <= set(c["resources"][kind]), kind)

        mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        for path in ("/sys/kernel/btf", "/sys/fs/cgroup"):
            self.assertIn(path, mounts)
            self.assertIs(mounts[path].get("readOnly"), True, path)
            self.assertEqual(volumes[mounts[path]["name"]]["hostPath"]["path"], path)
        annotations = ds["spec"]["template"]["metadata"]["annotations"]
        self.assertEqual(annotations["prometheus.io/port"], str(port))
        self.assertEqual(annotations["prometheus.io/path"], "/metrics")

    def test_containerfile(self):
        with open(os.path.join(DEPLOY, "Containerfile")) as f:
            text = f.read()
        # Instructions, with continuation lines joined.
        lines = re.sub(r"\\\n", " ", text).splitlines()
        instr = [l.strip().split(None, 1) for l in lines if l.strip() and not l.strip().startswith("#")]
        froms = [rest for op, rest in instr if op == "FROM"]
        self.assertEqual(len(froms), 2)
        for f in froms:
            self.assertRegex(f.split()[0], r"^debian:bookworm(-slim)?$")
        runs = " ".join(rest for op, rest in instr if op == "RUN")
        self.assertNotRegex(runs, r"\b(curl|wget|pip|npm|go install)\b", "only Debian packages")
        for pkg in ("libbpf-dev", "bpftool", "libbpf1"):
            self.assertIn(pkg, runs)
        self.assertIn("COPY --from=build /build/gort /usr/local/bin/gort", text)
        entry = [rest for op, rest in instr if op == "ENTRYPOINT"]
        self.assertEqual(entry, ['["/usr/local/bin/gort"]'])
        cmd = [rest for op, rest in instr if op == "CMD"][0]
        self.assertTrue(cmd.startswith('["serve"'), cmd)
        self.assertEqual([rest for op, rest in instr if op == "EXPOSE"], ["9474"])

    def test_systemd_unit(self):
        unit = {}
        with open(os.path.join(DEPLOY, "gort.service")) as f:
            lines = f.read().splitlines()
        for line in lines:
            line = line.strip()
            if line and not line.startswith(("#", "[")) and "=" in line:
                k, v = line.split("=", 1)
                unit[k] = v
        argv = shlex.split(unit["ExecStart"])
        self.assertEqual(argv[1:3], ["serve", "--all"])
        self.assertTrue(argv[argv.index("--listen") + 1].startswith("127.0.0.1:"), "loopback on a plain host")
        self.assertEqual({c[len("CAP_"):] for c in unit["CapabilityBoundingSet"].split()}, CAPS)
        self.assertEqual(unit["KillSignal"], "SIGTERM")
        self.assertEqual(unit["NoNewPrivileges"], "yes")

    @unittest.skipUnless(shutil.which("promtool"), "promtool not installed: run scripts/install-deps.sh")
    def test_alert_rules(self):
        path = os.path.join(DEPLOY, "gort-alerts.yml")
        r = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS: 4 rules found", r.stdout)
        with open(path) as f:
            rules = {rule["alert"]: rule for g in self.yaml.safe_load(f)["groups"] for rule in g["rules"]}
        self.assertEqual(set(rules), {"GoroutinesRisingPerSite", "StwPauseOver10ms", "GcCpuFractionHigh", "GortLostEvents"})
        known = served_families()
        self.assertIn("gort_site_goroutines", known)
        for name, rule in rules.items():
            for metric in re.findall(r"\bgort_[a-z_]+", rule["expr"]):
                base = re.sub(r"_(bucket|count|sum)$", "", metric)
                self.assertTrue(metric in known or base in known or metric in COMING, "%s uses %s" % (name, metric))
        # 10 ms is a bucket bound of the pause histogram (user/session/model.h).
        self.assertIn('le="0.01"', rules["StwPauseOver10ms"]["expr"])


if __name__ == "__main__":
    gortlib.main()
