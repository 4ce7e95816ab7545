#!/usr/bin/env bash
# Builds the demo target (tests/workloads/demo, a Go "service with problems") with the newest Go
# toolchain that scripts/go-toolchains.sh lists, into BUILD_DIR/gort-demo-target: `gort demo`
# runs that binary and traces it.
# Usage: scripts/build-demo.sh [BUILD_DIR]   (default: build, relative to the repository root)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
mkdir -p "$build"
build=$(cd "$build" && pwd)
read -r version go < <("$root/scripts/go-toolchains.sh" | tail -n 1) || true
if [ -z "${go:-}" ]; then
  echo "build-demo.sh: no Go toolchain found (run scripts/install-deps.sh)" >&2
  exit 1
fi
cd "$root/tests/workloads/demo"
GO111MODULE=off GOTOOLCHAIN=local GOFLAGS= GOCACHE="$build/go-cache" \
  "$go" build -o "$build/gort-demo-target.tmp" main.go
mv -f "$build/gort-demo-target.tmp" "$build/gort-demo-target"
echo "build-demo.sh: built $build/gort-demo-target with Go $version"
