#!/usr/bin/env python3
"""The Debian package: scripts/package.sh builds gort_<version>_amd64.deb from this build; unpacked,
its gort runs (--version, info, demo with the packaged demo service); its Depends are all satisfiable by stock Debian 12 — bookworm,
bookworm-updates, bookworm-security, never backports (libbpf 1.4 is linked statically); its man
page documents every subcommand and option `gort --help` lists; its bash completion offers them;
`cmake --install` installs the same files.

Run: python3 tests/e2e/test_package.py   (root for `gort info`; needs apt lists of bookworm —
apt-get update — for `apt-cache madison`; env GORT, GORT_SOURCE_DIR, GORT_BUILD_DIR)
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gortlib  # noqa: E402

# The suites of a stock Debian 12 (its point releases and security updates), not backports.
STOCK_SUITES = ("bookworm/", "bookworm-updates/", "bookworm-security/")


def project_version():
    """project(gort VERSION x.y.z) in CMakeLists.txt: where the version is set, once."""
    with open(os.path.join(gortlib.SOURCE_DIR, "CMakeLists.txt")) as f:
        m = re.search(r"project\(gort VERSION (\S+)", f.read())
    return m.group(1)


def newest_go_in_table():
    """The newest exact Go version in data/go_offsets.inc."""
    with open(os.path.join(gortlib.SOURCE_DIR, "data", "go_offsets.inc")) as f:
        versions = re.findall(r'^\{"go(\d+)\.(\d+)\.(\d+)"', f.read(), re.M)
    return "go%d.%d.%d" % max(tuple(int(x) for x in v) for v in versions)


def subcommands(help_text):
    """The subcommand names of `gort --help` (CLI11: a "Subcommands:" block of "  name  text")."""
    names, on = [], False
    for line in help_text.splitlines():
        if line.startswith("Subcommands:"):
            on = True
        elif on and re.match(r"^  [a-z]", line):
            names.append(line.split()[0])
        elif on and not line.strip():
            on = False
    return names


def options(help_text):
    """The long options of one `gort SUB --help`."""
    return sorted(set(re.findall(r"^  (?:-\w,)?(--[\w-]+)", help_text, re.M)))


def stock_versions(package):
    """The versions of `package` that stock Debian 12's suites carry (apt-cache madison)."""
    r = gortlib.run(["apt-cache", "madison", package])
    out = []
    for line in r.stdout.splitlines():
        fields = [f.strip() for f in line.split("|")]
        if len(fields) == 3 and fields[0] == package and "backports" not in fields[2] and \
                any(" " + s in fields[2] for s in STOCK_SUITES):
            out.append(fields[1])
    return out


def version_satisfies(version, op, wanted):
    ops = {">=": "ge", "<=": "le", ">>": "gt", "<<": "lt", "=": "eq"}
    return subprocess.run(["dpkg", "--compare-versions", version, ops[op], wanted]).returncode == 0


class Package(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        gortlib.require_gort()
        cls.tmp = tempfile.mkdtemp(prefix="gort-package-test-")
        r = gortlib.run([os.path.join(gortlib.SOURCE_DIR, "scripts", "package.sh"), gortlib.BUILD_DIR,
                         cls.tmp], timeout=900)
        if r.returncode != 0:
            shutil.rmtree(cls.tmp)
            raise AssertionError("scripts/package.sh failed:\n" + r.stdout + r.stderr)
        cls.deb = r.stdout.strip().splitlines()[-1]
        cls.root = os.path.join(cls.tmp, "root")
        subprocess.run(["dpkg-deb", "-x", cls.deb, cls.root], check=True)
        cls.gort = os.path.join(cls.root, "usr", "bin", "gort")
        cls.man = os.path.join(cls.root, "usr", "share", "man", "man1", "gort.1.gz")
        cls.completion = os.path.join(cls.root, "usr", "share", "bash-completion", "completions", "gort")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def field(self, name):
        return gortlib.run(["dpkg-deb", "-f", self.deb, name]).stdout.strip()

    def test_name_and_files(self):
        self.assertEqual(os.path.basename(self.deb), "gort_%s_amd64.deb" % project_version())
        self.assertEqual(self.field("Version"), project_version())
        for path in (self.gort, self.man, self.completion,
                     os.path.join(self.root, "usr", "lib", "gort", "gort-demo-target")):
            self.assertTrue(os.path.isfile(path), path)
        self.assertTrue(os.access(self.gort, os.X_OK))

    def test_packaged_version(self):
        r = gortlib.run([self.gort, "--version"])
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0], "gort " + project_version())
        head = gortlib.run(["git", "-C", gortlib.SOURCE_DIR, "rev-parse", "--short=12", "HEAD"])
        commit = head.stdout.strip() if head.returncode == 0 else "unknown"
        self.assertRegex(lines[1], r"^git commit: %s(-dirty)?$" % re.escape(commit))
        self.assertEqual(lines[2], "newest Go release known: " + newest_go_in_table())

    def test_packaged_info(self):
        gortlib.require_root()
        r = gortlib.run([self.gort, "info"], timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("uprobes", r.stdout)
        self.assertIn("gort can trace Go programs here", r.stdout)

    def test_packaged_demo(self):
        gortlib.require_root()
        self.assertTrue(os.access(os.path.join(self.root, "usr", "lib", "gort", "gort-demo-target"), os.X_OK))
        r = gortlib.run([self.gort, "demo", "--json", "--duration", "2s"], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stderr, r"(?m)^gort: attached to PID \d+ \(gort-demo-targe", r.stderr)
        self.assertIn('"processes"', r.stdout)

    def test_links_no_libbpf(self):
        needed = gortlib.run(["readelf", "-d", self.gort]).stdout
        self.assertNotIn("libbpf", needed)  # bookworm has only libbpf 1.1: linked statically

    def test_depends_satisfied_by_stock_bookworm(self):
        depends = self.field("Depends")
        self.assertTrue(depends)
        self.assertNotIn("libbpf", depends)
        if not stock_versions("libc6"):
            raise AssertionError("apt-cache madison knows no bookworm libc6: run apt-get update")
        for clause in depends.split(","):
            # "a (>= 1) | b": one alternative satisfied by a stock bookworm version is enough.
            ok, seen = False, []
            for alt in clause.split("|"):
                m = re.match(r"^\s*([\w.+-]+)(?::\w+)?\s*(?:\((>=|<=|>>|<<|=)\s*([^)\s]+)\))?\s*$", alt)
                self.assertTrue(m, "cannot parse Depends entry %r" % alt)
                name, op, wanted = m.groups()
                versions = stock_versions(name)
                seen.append("%s: %s" % (name, versions or "not in bookworm"))
                ok |= any(op is None or version_satisfies(v, op, wanted) for v in versions)
            self.assertTrue(ok, "%s is not satisfiable by stock Debian 12 (%s)" % (clause.strip(), "; ".join(seen)))

    def test_apt_installs_it_on_an_empty_stock_bookworm(self):
        # apt resolves the .deb and its whole dependency closure for a system with nothing
        # installed (an empty dpkg status) whose only sources are bookworm's own — the system's
        # source entries minus backports, so apt reuses the package lists already downloaded.
        parts = os.path.join(self.tmp, "apt-sources.d")
        os.makedirs(parts, exist_ok=True)
        kept = 0
        for path in ["/etc/apt/sources.list"] + sorted(
                os.path.join("/etc/apt/sources.list.d", n) for n in os.listdir("/etc/apt/sources.list.d")):
            if not os.path.isfile(path) or not path.endswith((".list", ".sources")):
                continue
            with open(path) as f:
                text = f.read()
            if "bookworm" not in text or "backports" in text:
                continue
            shutil.copy(path, os.path.join(parts, "%d-%s" % (kept, os.path.basename(path))))
            kept += 1
        self.assertGreater(kept, 0, "no bookworm apt sources outside backports in /etc/apt")
        status = os.path.join(self.tmp, "empty-dpkg-status")
        open(status, "w").close()
        r = gortlib.run(["apt-get", "-s", "-o", "Dir::Etc::SourceList=/dev/null",
                         "-o", "Dir::Etc::SourceParts=" + parts, "-o", "Dir::State::Status=" + status,
                         "-o", "Dir::Cache=" + os.path.join(self.tmp, "apt-cache"),
                         "-o", "APT::Sandbox::User=root", "install", self.deb], timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        installed = re.findall(r"^Inst (\S+) \((\S+) ([^)]*)\)", r.stdout, re.M)
        names = [n for n, _, _ in installed]
        self.assertIn("gort", names, r.stdout)
        for name in ("libc6", "libelf1", "zlib1g"):
            self.assertIn(name, names, r.stdout)
        self.assertFalse([n for n in names if n.startswith("libbpf")], r.stdout)
        for name, version, origin in installed:
            self.assertNotIn("backports", origin + version, "%s %s comes from backports" % (name, version))

    def test_man_page_documents_every_subcommand(self):
        help_text = gortlib.run([self.gort, "--help"]).stdout
        subs = subcommands(help_text)
        self.assertIn("info", subs)
        self.assertGreaterEqual(len(subs), 5, help_text)
        env = dict(os.environ, MANWIDTH="200", LC_ALL="C.UTF-8")
        page = gortlib.run(["man", "-P", "cat", "-l", self.man], env=env)
        self.assertEqual(page.returncode, 0, page.stderr)
        text = page.stdout
        self.assertIn("--version", text)
        for sub in subs:
            self.assertRegex(text, r"(?m)^\s*gort %s\s*$" % re.escape(sub), "no section for gort " + sub)
            sub_help = gortlib.run([self.gort, sub, "--help"]).stdout
            for opt in options(sub_help):
                self.assertIn(opt, text, "gort %s %s is not in the man page" % (sub, opt))

    def test_bash_completion_offers_every_subcommand(self):
        subs = subcommands(gortlib.run([self.gort, "--help"]).stdout)
        script = ('source "$1"; COMP_WORDS=(gort "$2"); COMP_CWORD=1; _gort; printf "%s\\n" "${COMPREPLY[@]}"')
        env = dict(os.environ, PATH=os.path.dirname(self.gort) + ":" + os.environ.get("PATH", ""))
        r = gortlib.run(["bash", "-c", script, "bash", self.completion, ""], env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(r.stdout.split()), sorted(subs))
        script = ('source "$1"; COMP_WORDS=(gort top --p); COMP_CWORD=2; _gort; printf "%s\\n" "${COMPREPLY[@]}"')
        r = gortlib.run(["bash", "-c", script, "bash", self.completion], env=env)
        self.assertEqual(r.stdout.split(), ["--pid"], r.stderr)

    def test_cmake_install_puts_the_same_files(self):
        prefix = os.path.join(self.tmp, "prefix")
        r = gortlib.run(["cmake", "--install", gortlib.BUILD_DIR, "--prefix", prefix], timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        def files(top):
            out = set()
            for d, _, names in os.walk(top):
                for n in names:
                    out.add(os.path.relpath(os.path.join(d, n), top).removesuffix(".gz"))
            return out

        self.assertEqual(files(prefix), files(os.path.join(self.root, "usr")))


if __name__ == "__main__":
    gortlib.main()
