#!/usr/bin/env bash
# Checks the layering of user/ (user/layers.txt): every #include "user/<folder>/..." of a folder's
# files names that folder or one it may use, every folder with sources is declared, and the
# declared graph has no cycle. Prints one line per violation; exit 1 if any.
# Usage: scripts/check-layering.sh [SOURCE_DIR]
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
layers=$root/user/layers.txt
declare -A allowed
edges=()
while IFS= read -r line; do
  line=${line%%#*}
  [[ $line == *:* ]] || continue
  folder=${line%%:*}
  deps=${line#*:}
  allowed[$folder]=" $folder ${deps//$'\t'/ } "
  edges+=("$folder $folder")
  for d in $deps; do
    edges+=("$d $folder")
  done
done < "$layers"

bad=0
# tsort reports a cycle on stderr; a declared edge to nothing is a typo.
cycle=$(printf '%s\n' "${edges[@]}" | tsort 2>&1 >/dev/null) || true
if [[ -n $cycle ]]; then
  echo "user/layers.txt: the graph has a cycle: $(echo "$cycle" | tr '\n' ' ')"
  bad=1
fi
for folder in "${!allowed[@]}"; do
  for d in ${allowed[$folder]}; do
    [[ -n ${allowed[$d]+x} ]] || { echo "user/layers.txt: $folder uses $d, which is not declared"; bad=1; }
  done
done

while IFS= read -r file; do
  rel=${file#"$root"/user/}
  folder=$(dirname "$rel")
  if [[ -z ${allowed[$folder]+x} ]]; then
    echo "user/$rel: folder user/$folder is not in user/layers.txt (declare what it may use)"
    bad=1
    continue
  fi
  while IFS=: read -r lineno target; do
    target_folder=$(dirname "${target#user/}")
    if [[ ${allowed[$folder]} != *" $target_folder "* ]]; then
      echo "user/$rel:$lineno: includes $target, but user/$folder may not use user/$target_folder (user/layers.txt)"
      bad=1
    fi
  done < <(grep -noE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"user/[^"]+"' "$file" |
           sed -E 's/^([0-9]+):.*"(user\/[^"]+)"/\1:\2/')
done < <(find "$root/user" -type f \( -name '*.h' -o -name '*.cpp' \) | sort)
exit $bad
