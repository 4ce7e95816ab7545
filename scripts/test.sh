#!/usr/bin/env bash
# The whole test suite, from a fresh clone, as root: installs dependencies, builds, then runs the
# three tiers through ctest — unit (no root), bpf (real probes on Go programs built at test time
# with every toolchain present), e2e (the CLI as a user runs it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
cd "$root/build"
ctest --output-on-failure --timeout 900 "$@"
