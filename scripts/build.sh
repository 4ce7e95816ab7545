#!/usr/bin/env bash
# Configures and builds gort into build/: by default everything (gort, its man page, the tests);
# with arguments only those ninja targets (setup.sh builds `gort gort_man`, so that the demo
# starts before the test suite is ever compiled).
# Usage: scripts/build.sh [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" > /dev/null
ninja -C "$root/build" "$@"
