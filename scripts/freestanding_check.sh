#!/bin/sh
# freestanding_check.sh — prove that a lab's core is kernel-portable (shared
# by sprint 2's hash-table core and sprint 3's B+ tree core: each lab's
# tests/freestanding_check.sh sets the variables below and runs this).
#
# What it checks. A core's files are compiled into the Linux kernel by the
# lab's kernel part, where there is no C library and no floating point. This
# script compiles each of them the way a kernel build would see them:
#
#   -ffreestanding -nostdinc -isystem <the compiler's own include dir>
#       no libc headers at all: only the compiler's freestanding headers
#       (<stddef.h>, <stdint.h>, <stdbool.h>) can be found;
#   FS_FLAGS (the lab's: include dirs, a port macro such as
#       -DHT_PORT_FREESTANDING, which makes ht_port.h use no SIMD headers);
#   -mgeneral-regs-only (x86-64, when the compiler has it)
#       any floating-point or vector code is a compile error, as in the kernel;
#   -Wall -Wextra -Werror -Wshadow -O2
#
# and then checks, per file:
#   1. its #include lines name only the core's own headers (FS_OWN);
#   2. it compiles to an object with the flags above;
#   3. every symbol the object needs from outside is defined by another core
#      object or is one of the port's functions (FS_PORT prefix), or memcpy,
#      memset, memcmp, memmove (which the compiler may emit for the port's
#      memory built-ins, and the kernel provides), or __stack_chk_fail;
# and per header of the chain (FS_HEADERS), that it includes only what its
# line allows. Two negative controls show that the checks can fail: a file
# including <stdio.h> must NOT compile with these flags, and (x86-64) a file
# using a double must NOT compile with -mgeneral-regs-only.
#
# Environment (the lab's wrapper sets them):
#   LAB_DIR     the lab folder; FS_CORE and FS_HEADERS paths are relative to it
#   FS_CORE     the core sources
#   FS_OWN      the core's own headers, by name (what a core .c may include)
#   FS_HEADERS  one line per header: "<path> <allowed includes, an ERE>"
#   FS_PORT     the prefix of the port's functions (ht_port_, bpt_port_)
#   FS_FLAGS    extra compiler flags (-I..., -D...)
#   CC (default cc), BIN_DIR (objects go to $BIN_DIR/freestanding/, else a
#   temporary directory).
# Output: "ok"/"FAIL" per check and a final "N passed, N failed"; exit status
# non-zero when a check failed.
set -u

: "${LAB_DIR:?LAB_DIR: the lab folder}" "${FS_CORE:?FS_CORE: the core sources}"
: "${FS_OWN:?FS_OWN: the core's own headers}" "${FS_PORT:?FS_PORT: the port's prefix}"
: "${FS_HEADERS:?FS_HEADERS: the header chain}"
CC=${CC:-cc}
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
FLAGS="-std=c11 -ffreestanding -nostdinc -isystem $inc ${FS_FLAGS:-} \
 -Wall -Wextra -Werror -Wshadow -O2"
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

# 1. includes, 2. compilation. (own: the core's headers, as a quoted-name regex)
own=$(for h in $FS_OWN; do printf '"%s"|' "$h"; done | sed 's/|$//; s/\./\\./g')
objs=""
for f in $FS_CORE; do
    src=$LAB_DIR/$f
    if [ ! -f "$src" ]; then
        fail "$f exists"
        continue
    fi
    bad=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\(.*\)/\1/p' "$src" |
        grep -v -x -E "$own")
    if [ -n "$bad" ]; then
        fail "$f includes only the core's headers (found: $(echo $bad))"
    else
        ok "$f includes only the core's headers"
    fi
    o=$out/$(basename "${f%.c}").o
    if $CC $FLAGS $regs -c "$src" -o "$o" 2>"$tmp/err"; then
        ok "$f compiles freestanding${regs:+ with $regs}"
        objs="$objs $o"
    else
        fail "$f compiles freestanding${regs:+ with $regs}"
        sed 's/^/    /' "$tmp/err" | head -n 20
    fi
done
echo "$FS_HEADERS" | while read -r h allowed; do
    [ -n "$h" ] || continue
    bad=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\(.*\)/\1/p' "$LAB_DIR/$h" |
        grep -v -x -E "$allowed")
    if [ -n "$bad" ]; then
        echo "FAIL $h includes only $allowed (found: $(echo $bad))"
    else
        echo "ok   $h includes only $allowed"
    fi
done >"$tmp/headers"
cat "$tmp/headers"
passed=$((passed + $(grep -c '^ok' "$tmp/headers")))
failed=$((failed + $(grep -c '^FAIL' "$tmp/headers")))

# 3. What the objects need from outside.
if [ -n "$objs" ]; then
    nm --defined-only $objs 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u >"$tmp/defined"
    for o in $objs; do
        f=$(basename "$o" .o).c
        nm -u "$o" | awk '{ print $2 }' | sort -u >"$tmp/undef"
        extra=$(grep -v -x -F -f "$tmp/defined" "$tmp/undef" |
            grep -v -E "^(${FS_PORT}[a-z_]+|memcpy|memset|memcmp|memmove|__stack_chk_fail)\$")
        if [ -n "$extra" ]; then
            fail "$f needs only the port and the core (also needs: $(echo $extra))"
        else
            ok "$f needs only the port and the core"
        fi
    done
    if grep -q "^$FS_PORT" "$tmp/defined"; then
        fail "the core does not implement the port itself"
    else
        ok "the core does not implement the port itself"
    fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
