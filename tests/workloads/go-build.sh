#!/usr/bin/env bash
# Builds one workload variant for the build (tests/workloads/CMakeLists.txt), atomically (a
# test never sees half a binary).
# Usage: go-build.sh GO OUT SRC_DIR GOCACHE [NAME=VALUE...] -- [go build flags...]
set -euo pipefail
go=$1 out=$2 src=$3 cache=$4
shift 4
envs=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
[ $# -gt 0 ] && shift
cd "$src"
build() {
  env GO111MODULE=off GOTOOLCHAIN=local GOFLAGS= GOCACHE="$cache" "$@" "$go" build "${flags[@]}" -o "$out.tmp" . 2>&1
}
flags=("$@")
if ! log=$(build "${envs[@]}"); then
  # An experiment that graduated (goroutineleakprofile in Go 1.27) is no longer accepted by
  # name: the toolchain has it built in, so the build without it is the same program.
  case "$log" in
    *"unknown GOEXPERIMENT"*)
      kept=()
      for e in "${envs[@]}"; do case "$e" in GOEXPERIMENT=*) ;; *) kept+=("$e") ;; esac; done
      log=$(build "${kept[@]}") || { echo "$log" >&2; exit 1; } ;;
    *) echo "$log" >&2; exit 1 ;;
  esac
fi
mv -f "$out.tmp" "$out"
