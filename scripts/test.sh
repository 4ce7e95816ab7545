#!/usr/bin/env bash
# The whole test suite, from a fresh clone, as root (what CI runs, via .ci/run): installs
# dependencies, builds everything (gort, the tests, the demo target), then runs the three tiers
# through ctest — unit (no root), bpf (real probes on Go programs the build built with every
# toolchain present), e2e (the CLI as a user runs it, the .deb, gort info). Arguments go to ctest.
# Runs as root; re-executes itself with sudo when not root and sudo exists.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/as-root.sh" "$@"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
"$root/scripts/build-demo.sh" "$root/build"
cd "$root/build"
ctest --output-on-failure --timeout 900 "$@"
