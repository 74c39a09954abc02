#!/bin/sh
# freestanding_check.sh — prove that the hash-table core is kernel-portable.
#
# What it checks. The core files (ht_core.c, ht_resize.c and the four
# strategy files) are compiled into the Linux kernel by the kernel-device
# issue, where there is no C library and no floating point. This script
# compiles each of them the way a kernel build would see them:
#
#   -ffreestanding -nostdinc -isystem <the compiler's own include dir>
#       no libc headers at all: only the compiler's freestanding headers
#       (<stddef.h>, <stdint.h>, <stdbool.h>) can be found;
#   -DHT_PORT_FREESTANDING
#       ht_port.h declares the port functions and uses the SWAR group match
#       (no SIMD intrinsics headers, which are hosted headers);
#   -mgeneral-regs-only (x86-64, when the compiler has it)
#       any floating-point or vector code is a compile error, as in the kernel;
#   -Wall -Wextra -Werror -Wshadow -O2
#
# and then checks, per file:
#   1. its #include lines name only the core's own headers (hashtable_int.h, ht.h,
#      ht_port.h);
#   2. it compiles to an object with the flags above;
#   3. every symbol the object needs from outside is defined by another core
#      object or is one of the port's ht_port_* functions, or memcpy, memset,
#      memcmp, memmove (which the compiler may emit for the ht_mem* built-ins,
#      and the kernel provides), or __stack_chk_fail.
# Two negative controls show that the checks can fail: a file including
# <stdio.h> must NOT compile with these flags, and (x86-64) a file using a
# double must NOT compile with -mgeneral-regs-only.
#
# Output: "ok"/"FAIL" per check and a final "N passed, N failed"; exit status
# non-zero when a check failed. Environment: LAB_DIR (default: this script's
# parent), CC (default cc), BIN_DIR (objects go to $BIN_DIR/freestanding/,
# else a temporary directory).
set -u

LAB_DIR=${LAB_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CC=${CC:-cc}
CORE="ht_core.c ht_resize.c ht_chaining.c ht_linear.c ht_robinhood.c ht_swiss.c"
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/freestanding.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
out=${BIN_DIR:+$BIN_DIR/freestanding}
out=${out:-$tmp}
mkdir -p "$out"

inc=$($CC -print-file-name=include)
FLAGS="-std=c11 -ffreestanding -nostdinc -isystem $inc -DHT_PORT_FREESTANDING \
 -Wall -Wextra -Werror -Wshadow -O2 -I$LAB_DIR/include -I$LAB_DIR/hashtable"
regs=""
if [ "$(uname -m)" = x86_64 ]; then
    echo 'int f(int x) { return x + 1; }' >"$tmp/probe.c"
    if $CC -mgeneral-regs-only -c "$tmp/probe.c" -o "$tmp/probe.o" 2>/dev/null; then
        regs=-mgeneral-regs-only
    else
        echo "note: $CC lacks -mgeneral-regs-only; the floating-point check is skipped"
    fi
fi

# Negative controls first: the flags must really forbid libc and floating point.
printf '#include <stdio.h>\nint f(void) { return 0; }\n' >"$tmp/hosted.c"
if $CC $FLAGS $regs -c "$tmp/hosted.c" -o "$tmp/hosted.o" 2>/dev/null; then
    fail "control: a file including <stdio.h> compiled freestanding (-nostdinc ineffective)"
else
    ok "control: <stdio.h> is unreachable with these flags"
fi
if [ -n "$regs" ]; then
    printf 'double g(double x) { return x * 1.5; }\n' >"$tmp/fp.c"
    if $CC $FLAGS $regs -c "$tmp/fp.c" -o "$tmp/fp.o" 2>/dev/null; then
        fail "control: floating point compiled with $regs"
    else
        ok "control: floating point is rejected with $regs"
    fi
fi

# 1. includes, 2. compilation.
objs=""
for f in $CORE; do
    src=$LAB_DIR/hashtable/$f
    if [ ! -f "$src" ]; then
        fail "$f exists"
        continue
    fi
    bad=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\(.*\)/\1/p' "$src" |
        grep -v -x -e '"hashtable_int.h"' -e '"ht.h"' -e '"ht_port.h"')
    if [ -n "$bad" ]; then
        fail "$f includes only the core's headers (found: $(echo $bad))"
    else
        ok "$f includes only the core's headers"
    fi
    o=$out/${f%.c}.o
    if $CC $FLAGS $regs -c "$src" -o "$o" 2>"$tmp/err"; then
        ok "$f compiles freestanding${regs:+ with $regs}"
        objs="$objs $o"
    else
        fail "$f compiles freestanding${regs:+ with $regs}"
        sed 's/^/    /' "$tmp/err" | head -n 20
    fi
done
for h in hashtable/hashtable_int.h include/ht.h include/ht_port.h; do
    case $h in
    hashtable/hashtable_int.h) allowed='"ht.h"' ;;
    include/ht.h) allowed='"ht_port.h"' ;;
    *) allowed='<stddef.h>|<stdint.h>|<stdbool.h>|<emmintrin.h>|<arm_neon.h>' ;;
    esac
    bad=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\(.*\)/\1/p' "$LAB_DIR/$h" |
        grep -v -x -E "$allowed")
    if [ -n "$bad" ]; then
        fail "$h includes only $allowed (found: $(echo $bad))"
    else
        ok "$h includes only $allowed"
    fi
done

# 3. What the objects need from outside.
if [ -n "$objs" ]; then
    nm --defined-only $objs 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u >"$tmp/defined"
    for o in $objs; do
        f=$(basename "$o" .o).c
        nm -u "$o" | awk '{ print $2 }' | sort -u >"$tmp/undef"
        extra=$(grep -v -x -F -f "$tmp/defined" "$tmp/undef" |
            grep -v -E '^(ht_port_[a-z_]+|memcpy|memset|memcmp|memmove|__stack_chk_fail)$')
        if [ -n "$extra" ]; then
            fail "$f needs only the port and the core (also needs: $(echo $extra))"
        else
            ok "$f needs only the port and the core"
        fi
    done
    if grep -q '^ht_port_' "$tmp/defined"; then
        fail "the core does not implement the port itself"
    else
        ok "the core does not implement the port itself"
    fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
