#!/usr/bin/env bash
# Configures and builds gort (build/gort), its tests, and the demo target (build/gort-demo-target).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
ninja -C "$root/build"
"$root/scripts/build-demo.sh" "$root/build"
