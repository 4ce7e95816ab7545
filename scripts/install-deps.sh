#!/usr/bin/env bash
# Installs everything gort needs to build and test on a fresh Debian 12 (bookworm) machine, as root.
#  - libbpf >= 1.4 and bpftool 7.5 come from bookworm-backports (bookworm's libbpf 1.1 lacks
#    uprobe_multi and the skeleton features we use), so that suite is added to apt's sources.
#  - Go toolchains for test targets, as tests/toolchains.txt lists them: bookworm's and
#    bookworm-backports' as system packages; newer suites' (trixie, sid) are fetched as .debs with
#    a private apt state and unpacked into .toolchains/ in the project, so trixie/sid never enter
#    the system's sources.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# go_versions SUITE: the versions tests/toolchains.txt takes from that suite.
go_versions() { awk -v s="$1" '$1 !~ /^#/ && $2 == s { print $1 }' "$here/tests/toolchains.txt"; }
go_packages() { for v in $(go_versions "$1"); do echo "golang-$v-go"; done; }
. "$here/scripts/as-root.sh" "$@"
export DEBIAN_FRONTEND=noninteractive

backports=/etc/apt/sources.list.d/bookworm-backports.sources
if [ ! -f "$backports" ]; then
  cat > "$backports" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  build-essential cmake ninja-build pkg-config clang llvm \
  libcli11-dev libfmt-dev libgtest-dev libgmock-dev libcapstone-dev libzstd-dev \
  nlohmann-json3-dev libelf-dev libdw-dev zlib1g-dev python3 procps file zstd util-linux \
  help2man man-db dpkg-dev libcap2-bin prometheus python3-yaml wrk \
  $(go_packages bookworm)
apt-get install -y -qq --no-install-recommends -t bookworm-backports \
  libbpf-dev bpftool $(go_packages bookworm-backports)

# Newer Go toolchains from trixie/sid: a private apt state dir (its own sources, lists and cache),
# `apt-get download`, then `dpkg -x` into .toolchains/. Nothing of it touches /etc/apt.
apt_private() { # suite: sets opts=(...) for apt-get on a private state dir of that suite
  local suite=$1
  local state="$here/.toolchains/apt-$suite"
  mkdir -p "$state/lists/partial" "$state/archives/partial" "$state/debs"
  cat > "$state/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main
SRC
  opts=(-o Dir::Etc::SourceList="$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o Dir::State::Lists="$state/lists" -o Dir::Cache::Archives="$state/archives"
        -o Dir::State::Status=/dev/null -o APT::Architecture=amd64
        -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update -qq
}
fetch_go() { # suite version...
  local suite=$1; shift
  local state="$here/.toolchains/apt-$suite"
  apt_private "$suite"
  for v in "$@"; do
    local dest="$here/.toolchains/go$v"
    if [ -x "$dest/usr/lib/go-$v/bin/go" ]; then continue; fi
    ( cd "$state/debs" && rm -f golang-"$v"-*.deb &&
      apt-get "${opts[@]}" download "golang-$v-go" "golang-$v-src" )
    rm -rf "$dest"; mkdir -p "$dest"
    for deb in "$state/debs"/golang-"$v"-*.deb; do dpkg -x "$deb" "$dest"; done
    "$dest/usr/lib/go-$v/bin/go" version
  done
}
# Go programs built by Debian (stripped, by whatever Go patch release sid had then), unpacked
# into .toolchains/apps/<package>/ and never installed: tests/e2e/test_debian_binary.py traces
# them against their own /metrics.
fetch_app() { # suite package...
  local suite=$1; shift
  local state="$here/.toolchains/apt-$suite"
  apt_private "$suite"
  for p in "$@"; do
    local dest="$here/.toolchains/apps/$p"
    if [ -d "$dest/usr/bin" ]; then continue; fi
    ( cd "$state/debs" && rm -f "$p"_*.deb && apt-get "${opts[@]}" download "$p" )
    rm -rf "$dest"; mkdir -p "$dest"
    dpkg -x "$state/debs/$p"_*.deb "$dest"
  done
}
for suite in $(awk '$1 !~ /^#/ && NF { print $2 }' "$here/tests/toolchains.txt" | sort -u); do
  case "$suite" in bookworm|bookworm-backports) ;; *) fetch_go "$suite" $(go_versions "$suite") ;; esac
done
fetch_app sid prometheus-node-exporter prometheus-pushgateway prometheus
echo "install-deps: done"
