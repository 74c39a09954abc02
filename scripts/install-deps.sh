#!/bin/sh
# install-deps.sh — install every Debian package kvlabs needs to build, test,
# document and benchmark itself, and nothing that is already there.
#
# How it works: the package list below is checked with dpkg-query; only the
# packages that are not in state "install ok installed" are passed to
# apt-get. A second run therefore never touches apt. It runs as root, or
# through sudo when the caller is not root (CI and a fresh Debian 12 machine
# need nothing else). The top-level make calls it once, behind the stamp
# build/.deps-stamp, so `make test` twice does not run apt twice.
#
# Usage: scripts/install-deps.sh [--check]
#   --check   list the missing packages and exit 1 if any, install nothing.
set -eu

# One line per purpose, so a reader can see why each package is here.
# (gdbserver: the handouts' `--debug=gdb` route into a Criterion test;
#  chromium: `make docs` renders the study guide headless at 1280 px and checks it.)
# (The last line: the kernel modules' VM test, scripts/ktest/ - the headers
# to build against, qemu to boot, busybox for the initramfs, kmod for
# insmod, cpio and xz for packing and the image, sparse for C=2.)
PKGS="
build-essential make pkg-config python3 gdb
gdbserver
chromium
libcriterion-dev
valgrind gcovr
doxygen graphviz
libxxhash-dev
libleveldb-dev librocksdb-dev liblmdb-dev libsqlite3-dev
gnuplot-nox
libglib2.0-dev
liblz4-dev libzstd-dev
gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static
bubblewrap
iproute2 etcd-server etcd-client
clang
linux-headers-amd64 qemu-system-x86 busybox-static kmod cpio xz-utils sparse
"
# (sprint 5: iproute2 for the partition test's network namespaces, etcd for
#  make bench-cluster; clang for the libFuzzer targets of make fuzz)
# (sprint 4: liblz4-dev and libzstd-dev for the LSM tree's per-block compression)

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
    "install ok installed") ;;
    *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    echo "install-deps: all $(echo $PKGS | wc -w) packages present"
    exit 0
fi
if [ "${1:-}" = "--check" ]; then
    echo "install-deps: missing:$missing"
    exit 1
fi

echo "install-deps: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install-deps: not root and no sudo; install by hand:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
