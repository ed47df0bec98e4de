#!/usr/bin/env bash
# deps.sh build|test -- make sure this machine has what `make demo` (build)
# or `make test` (test) needs.  Missing Debian packages are installed with
# apt-get when run as root; otherwise it fails with a one-line instruction.
#
# `test` also fetches, without installing them system-wide, the two extra
# mbedTLS builds of the test matrix into build/deps/ (cached there):
#   build/deps/mbedtls-3.6   Debian trixie's libmbedtls-dev (mbedTLS 3.6)
#   build/deps/mbedtls-i386  Debian bookworm's libmbedtls-dev:i386 (for -m32)
# They come from the machine's own Debian mirror through a private apt
# state directory, so the system's apt configuration is not changed.
set -u
mode=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
deps="$here/build/deps"

build_pkgs="gcc make libmbedtls-dev"
# clang: the second compiler; valgrind; python3 for digest cross-checks;
# libosmocore-dev: the independent Milenage; python3-scapy: an independent
# ESP; tshark: decodes our headers and packets; gcc-multilib + qemu-user: the
# -m32 build and a way to run it (this kind of machine's kernel cannot exec
# i386 programs); user-mode-linux, busybox-static, iproute2, kmod:
# the Linux-kernel ESP peer; iptables: the guest's NAT for the XFRM adapter's
# Annex M runs (test/peer/sa-xfrm.sh).
test_pkgs="$build_pkgs clang libclang-rt-14-dev valgrind python3 libosmocore-dev tshark
  gcc-multilib qemu-user user-mode-linux busybox-static iproute2 kmod python3-scapy
  libsrtp2-dev python3-cryptography iptables"

case $mode in
build) want=$build_pkgs ;;
test) want=$test_pkgs ;;
*) echo "usage: deps.sh build|test" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
    s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
    [ "$s" = "install ok installed" ] || missing="$missing $p"
done

apt_get() {
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq "$@"
}

if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "error: missing Debian packages:$missing -- run: sudo apt-get install$missing" >&2
        exit 1
    fi
    echo "deps: installing$missing" >&2
    if ! apt_get install --no-install-recommends $missing >/dev/null 2>&1; then
        apt_get update >/dev/null 2>&1
        apt_get install --no-install-recommends $missing >/dev/null 2>&1 ||
            { echo "error: apt-get install failed for:$missing" >&2; exit 1; }
    fi
fi

[ "$mode" = test ] || exit 0

# fetch_deb NAME SUITE ARCH PKG... : download PKGs from SUITE/ARCH of the
# machine's Debian mirror and unpack them into $deps/NAME.
fetch_deb() {
    local name=$1 suite=$2 arch=$3
    shift 3
    local dir="$deps/$name" apt="$deps/apt-$suite-$arch"
    [ -f "$dir/.done" ] && return 0
    local mirror
    mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/*$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
    [ -n "$mirror" ] || mirror=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
    [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
    rm -rf "$dir" "$apt"
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$dir"
    echo "deb $mirror $suite main" > "$apt/sources.list"
    local o=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
        -o "APT::Architectures::=$arch" -o "APT::Architecture=$arch" -o Debug::NoLocking=1
        -o APT::Sandbox::User=root)
    apt-get "${o[@]}" -qq update >/dev/null 2>&1 || { echo "deps: apt update for $suite/$arch failed" >&2; return 1; }
    (cd "$apt" && apt-get "${o[@]}" -qq download "$@" >/dev/null 2>&1) ||
        { echo "deps: download of $* failed" >&2; return 1; }
    for f in "$apt"/*.deb; do dpkg-deb -x "$f" "$dir" || return 1; done
    rm -rf "$apt"
    touch "$dir/.done"
}

fetch_deb mbedtls-3.6 trixie amd64 libmbedtls-dev libmbedcrypto16 ||
    echo "deps: mbedTLS 3.6 unavailable; its matrix cells will be reported as failed" >&2
fetch_deb mbedtls-i386 bookworm i386 libmbedtls-dev:i386 libmbedcrypto7:i386 ||
    echo "deps: i386 mbedTLS unavailable; the -m32 cell will be reported as failed" >&2
exit 0
