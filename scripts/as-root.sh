# Sourced at the top of the scripts that need root (apt-get, loading BPF programs): when not root,
# re-executes the calling script with sudo if sudo exists, else says in one line what to do. So
# the README's commands work as printed both on a root-only machine (no sudo installed) and for
# a user with sudo.
# Usage: . "$(dirname "$0")/as-root.sh" "$@"
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo -- "$0" "$@"
  fi
  echo "$(basename "$0"): needs root (apt-get, BPF) and sudo is not installed: run it as root (su -c '$0')" >&2
  exit 1
fi
