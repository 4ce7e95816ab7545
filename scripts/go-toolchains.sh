#!/usr/bin/env bash
# Lists the Go toolchains present for building test targets, one "VERSION GOROOT/bin/go" per line,
# oldest first: Debian's system packages (/usr/lib/go-1.N) and the ones install-deps.sh unpacked
# into .toolchains/goX.Y (from trixie/sid). Tests build their Go programs with every one listed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
{
  for go in /usr/lib/go-1.*/bin/go "$root"/.toolchains/go1.*/usr/lib/go-1.*/bin/go; do
    [ -x "$go" ] || continue
    v=$(basename "$(dirname "$(dirname "$go")")"); v=${v#go-}
    echo "$v $go"
  done
} | sort -t. -k2,2n -u
