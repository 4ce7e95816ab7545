#!/usr/bin/env bash
# Lists the Go toolchains of tests/toolchains.txt that are present, one "VERSION GOROOT/bin/go" per
# line, oldest first: Debian's system packages (/usr/lib/go-1.N) or the ones install-deps.sh
# unpacked into .toolchains/goX.Y. The only place that decides which toolchain is present: the
# build runs it and writes its output to build/workloads/toolchains.txt, which the tests read.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
while read -r v _; do
  case "$v" in ''|'#'*) continue ;; esac
  for go in "/usr/lib/go-$v/bin/go" "$root/.toolchains/go$v/usr/lib/go-$v/bin/go"; do
    if [ -x "$go" ]; then echo "$v $go"; break; fi
  done
done < "$root/tests/toolchains.txt"
