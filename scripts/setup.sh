#!/usr/bin/env bash
# A newcomer's first command on a fresh Debian 12 machine: installs every dependency, builds gort,
# and runs `gort demo` (a small Go service with problems, traced live; q quits).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
exec "$root/build/gort" demo "$@"
