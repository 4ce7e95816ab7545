#!/usr/bin/env bash
# A newcomer's first command on a fresh Debian 12 machine: installs every dependency, builds gort
# (only gort and its man page: the tests are built by scripts/test.sh) and the demo target, and
# runs `gort demo` (a small Go service with problems, traced live; q quits).
# Runs as root; re-executes itself with sudo when not root and sudo exists.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/as-root.sh" "$@"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" gort gort_man
"$root/scripts/build-demo.sh" "$root/build"
exec "$root/build/gort" demo "$@"
