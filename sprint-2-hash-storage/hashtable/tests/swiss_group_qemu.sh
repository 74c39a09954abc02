#!/bin/sh
# swiss_group_qemu.sh — the Swiss-table group match on every path it has:
# NEON (AArch64, under qemu), SSE2 (this x86-64 host) and SWAR (the portable
# path the kernel build uses), each checked against the reference loop and
# running the whole table core (tests/swiss_group_plain.c).
#
# Builds:
#   neon  aarch64-linux-gnu-gcc -O2 -static, run with qemu-aarch64-static -cpu cortex-a72
#   sse2  the host compiler (cc) on x86-64
#   swar  the host compiler with -DHT_PORT_FREESTANDING (ht_port.h's portable path)
# Each run must print "group match: <path>" naming the path it was built
# for, and end with "N passed, N failed" with no failure. The counts of all
# runs are summed into this script's last line. A missing cross compiler or
# qemu is a failure, not a skip: scripts/install-deps.sh installs them.
# Emulated timings mean nothing; this checks correctness only.
#
# Graded case by case (GRADE_SCRIPT_CASES in lab.mk, docs/grading.md): for
# each path it prints
#   CASE <path>/group_match: PASS|FAIL   the group-match checks
#   CASE <path>/<strategy>: PASS|FAIL    the table check of each strategy
# (paths sse2 (x86-64 hosts only), swar, neon; strategies chaining, linear,
# robinhood, swiss). A build that fails, a run that prints no summary or
# runs another path than the one built fails every case of that path.
# `swiss_group_qemu.sh --list` prints the case names and runs nothing.
#
# Environment: LAB_DIR, KVLABS_ROOT (defaults from this script's place);
# BIN_DIR (binaries go to $BIN_DIR/group/, else a temporary directory).
set -u
PATHS="swar neon"
[ "$(uname -m)" = x86_64 ] && PATHS="sse2 $PATHS"
CASES="group_match chaining linear robinhood swiss"
if [ "${1:-}" = --list ]; then
    for p in $PATHS; do
        for c in $CASES; do echo "CASE $p/$c"; done
    done
    exit 0
fi
LAB_DIR=${LAB_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KVLABS_ROOT=${KVLABS_ROOT:-$LAB_DIR/..}
passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/swiss_group.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
out=${BIN_DIR:+$BIN_DIR/group}
out=${out:-$tmp}
mkdir -p "$out"

H=$LAB_DIR/hashtable
SRCS="$H/tests/swiss_group_plain.c $H/ht_core.c $H/ht_arena.c $H/ht_resize.c \
 $H/ht_chaining.c $H/ht_linear.c $H/ht_robinhood.c $H/ht_swiss.c \
 $H/ht_port_user.c $KVLABS_ROOT/common/src/alloc.c $KVLABS_ROOT/common/src/status.c"
CFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra -Werror -Wshadow -pthread \
 -I$LAB_DIR/include -I$H -I$KVLABS_ROOT/common/include"

# cases PATH GOOD FILE: the CASE lines of PATH from the ok/FAIL lines of FILE
# (GOOD = 0: every case fails).
cases() {
    for c in $CASES; do
        if [ "$c" = group_match ]; then pat='group match = '; else pat="table $c ("; fi
        okn=$(grep -cF "ok   $pat" "$3" 2>/dev/null)
        badn=$(grep -cF "FAIL $pat" "$3" 2>/dev/null)
        if [ "$2" = 1 ] && [ "${okn:-0}" -gt 0 ] && [ "${badn:-0}" = 0 ]; then
            echo "CASE $1/$c: PASS"
        else
            echo "CASE $1/$c: FAIL"
        fi
    done
}

# run NAME EXPECTED_PATH CMD...: run a build, check its path, add its counts.
run() {
    name=$1 want=$2
    shift 2
    "$@" >"$tmp/$name.out" 2>&1
    rc=$?
    sed "s/^/[$name] /" "$tmp/$name.out"
    got=$(sed -n 's/^group match: //p' "$tmp/$name.out" | head -n 1)
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$tmp/$name.out" | tail -n 1)
    p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    if [ "$got" != "$want" ]; then
        echo "FAIL [$name] ran the '$got' group match, not '$want'"
        failed=$((failed + 1))
        cases "$name" 0 /dev/null
    elif [ -z "$line" ] || { [ "$rc" != 0 ] && [ "${f:-0}" = 0 ]; }; then
        echo "FAIL [$name] exited $rc without a clean summary"
        failed=$((failed + 1))
        cases "$name" 0 /dev/null
    else
        cases "$name" 1 "$tmp/$name.out"
    fi
}

build() { # NAME CC EXTRA...
    name=$1 cc=$2
    shift 2
    if ! $cc $CFLAGS "$@" $SRCS -o "$out/swiss_group_$name" 2>"$tmp/$name.err"; then
        sed "s/^/[$name] /" "$tmp/$name.err" | head -n 20
        echo "FAIL [$name] build with $cc"
        failed=$((failed + 1))
        cases "$name" 0 /dev/null
        return 1
    fi
}

if [ "$(uname -m)" = x86_64 ]; then
    build sse2 "${CC:-cc}" && run sse2 sse2 "$out/swiss_group_sse2"
fi
build swar "${CC:-cc}" -DHT_PORT_FREESTANDING && run swar swar "$out/swiss_group_swar"

if ! command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 ||
    ! command -v qemu-aarch64-static >/dev/null 2>&1; then
    echo "FAIL [neon] aarch64-linux-gnu-gcc and qemu-aarch64-static are installed"
    failed=$((failed + 1))
    cases neon 0 /dev/null
else
    build neon aarch64-linux-gnu-gcc -static -march=armv8-a &&
        run neon neon qemu-aarch64-static -cpu cortex-a72 "$out/swiss_group_neon"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
