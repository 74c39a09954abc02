#!/bin/sh
# build-module.sh - build one kernel module of a lab out of tree, against
# the installed Debian kernel headers, without writing beside the sources.
#
# Usage: build-module.sh OUT_DIR KBUILD_DIR [CORE_FILE...] [-- MAKE_VAR=...]
#
# Kbuild puts objects next to the sources it compiles, so OUT_DIR gets
# symbolic links to KBUILD_DIR's Kbuild, *.c, *.h and kinclude/, and to
# each CORE_FILE (a shared core's .c files, e.g. the hash core), and the
# module is built there: make -C /usr/src/linux-headers-<ver> M=OUT_DIR.
# Arguments after "--" go to that make (e.g. KV_HT_CORE_DIR=..., W=1, C=2).
# The kernel version is scripts/ktest/kver.sh's. Prints the .ko's path(s).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$1 kb=$2
shift 2
mkdir -p "$out"
out=$(cd "$out" && pwd)
kb=$(cd "$kb" && pwd)
for f in "$kb"/Kbuild "$kb"/*.c "$kb"/*.h "$kb"/kinclude; do
    [ -e "$f" ] && ln -sfn "$f" "$out/$(basename "$f")"
done
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    ln -sfn "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")" "$out/$(basename "$1")"
    shift
done
[ $# -gt 0 ] && shift
ver=$(sh "$here/kver.sh")
make -s -C "/usr/src/linux-headers-$ver" M="$out" "$@" modules >&2
ls "$out"/*.ko
