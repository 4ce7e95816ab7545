#!/usr/bin/env bash
# Writes gort(1) from the built binary's own help (help2man), so the page never disagrees with
# `gort --help`: the synopsis and options from `gort --help`, then a COMMANDS section with each
# subcommand's `gort SUB --help`, the subcommands taken from `gort --help`'s own list.
# Usage: scripts/gen-man.sh GORT VERSION OUTPUT   (run by the build: the gort_man target)
set -euo pipefail
gort=$1 version=$2 out=$3
include=$(mktemp)
trap 'rm -f "$include" "$out.tmp"' EXIT

# Subcommands: the lines of the "Subcommands:" block of `gort --help` (CLI11: "  name  text").
subcommands=$("$gort" --help | awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
[ -n "$subcommands" ] || { echo "gen-man.sh: no subcommands in '$gort --help'" >&2; exit 1; }

roff() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }
{
  echo "[COMMANDS]"
  for sub in $subcommands; do
    echo ".SS \"gort $sub\""
    echo ".nf"
    "$gort" "$sub" --help | roff
    echo ".fi"
  done
  cat <<'ROFF'
[EXIT STATUS]
0 success (for \fBinfo\fR: gort can trace here), 1 gort failed, 2 usage, 3 no such process,
4 not a Go program or an unsupported binary (or, for \fBinfo\fR, a missing kernel feature),
5 missing privileges, 6 a recording that cannot be read.
[SEE ALSO]
\fBgort info\fR checks what this kernel and this process allow;
the README of the gort sources explains how it works.
ROFF
} > "$include"

help2man --no-info --no-discard-stderr --version-string="$version" \
  --name="trace the Go runtime of running processes with eBPF" \
  --include="$include" --output="$out.tmp" "$gort"
mv -f "$out.tmp" "$out"
