#!/usr/bin/env bash
# Builds gort_<version>_amd64.deb: /usr/bin/gort, gort(1), its bash completion and the demo
# service (/usr/lib/gort/gort-demo-target, a static Go program) — exactly what
# `cmake --install` puts under a prefix, installed into a staging root with --prefix /usr.
# It installs and runs on a stock Debian 12: libbpf (1.4, only in bookworm-backports) is linked
# statically (GORT_STATIC_LIBBPF, the default), and Depends is computed the Debian way, by
# dpkg-shlibdeps from the shared libraries the binary really loads (libelf1, zlib1g, libdw1,
# libcapstone4, libzstd1, libfmt9, libstdc++6, libc6 ... all in bookworm itself).
# Usage: scripts/package.sh [BUILD_DIR] [OUTPUT_DIR]   (defaults: build, BUILD_DIR)
# Needs no root (dpkg-deb --root-owner-group); prints the .deb's path on stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
mkdir -p "$build"
build=$(cd "$build" && pwd)
out=${2:-$build}
mkdir -p "$out"

die() { echo "package.sh: $*" >&2; exit 1; }

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
fi
grep -q '^GORT_STATIC_LIBBPF:BOOL=ON' "$build/CMakeCache.txt" ||
  die "$build links libbpf dynamically (stock Debian 12 has no libbpf 1.4): reconfigure with -DGORT_STATIC_LIBBPF=ON"
ninja -C "$build" gort gort_man >&2
"$root/scripts/build-demo.sh" "$build" >&2  # for `gort demo`: /usr/lib/gort/gort-demo-target

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg=$stage/root
cmake --install "$build" --prefix "$pkg/usr" --strip > /dev/null
# Debian wants man pages compressed (gzip -n: no timestamp, so the package is reproducible).
gzip -9n "$pkg/usr/share/man/man1/gort.1"

version=$("$pkg/usr/bin/gort" --version | awk 'NR == 1 { print $2 }')
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || die "cannot read the version from gort --version: '$version'"
arch=$(dpkg --print-architecture)

# dpkg-shlibdeps reads debian/control of the source package: a minimal one in a scratch dir.
mkdir -p "$stage/src/debian"
printf 'Source: gort\n\nPackage: gort\nArchitecture: %s\n' "$arch" > "$stage/src/debian/control"
depends=$(cd "$stage/src" && dpkg-shlibdeps -O -e"$pkg/usr/bin/gort" -e"$pkg/usr/lib/gort/gort-demo-target" 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || die "dpkg-shlibdeps found no dependencies for $pkg/usr/bin/gort"
case ",$depends" in *libbpf*) die "gort links libbpf dynamically ($depends): stock Debian 12 cannot satisfy it" ;; esac

mkdir -p "$pkg/DEBIAN"
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: gort
Version: $version
Architecture: $arch
Maintainer: gort developers <dev@gort.invalid>
Installed-Size: $(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
Depends: $depends
Section: devel
Priority: optional
Description: trace the Go runtime of running processes with eBPF
 gort attaches eBPF uprobes to the Go runtime of processes that are already
 running and shows goroutines (created, exited, alive per creation site), GC
 cycles, stop-the-world pauses with their reasons and slow syscalls, live or
 recorded to a file; "gort info" says what this kernel allows.
CONTROL
deb=$out/gort_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb.tmp" >&2
mv -f "$deb.tmp" "$deb"
echo "$deb"
