#!/bin/sh
# gdbinit_test.sh — check the lab's .gdbinit commands against a live gdb_demo.
#
# What this is: the script test of sprint-1-c-core's gdb integration. It runs
# gdb_demo under gdb in batch mode with the lab's .gdbinit (-nx ignores any
# personal ~/.gdbinit, -x loads ours explicitly, so the auto-load safe-path
# does not matter), stops at gdb_demo_checkpoint, runs da_info, da_print and
# da_elem, lets the program finish, and compares the printed lines with the
# values main() stored: squares[i] == i*i, points[i] == {i+1, -10(i+1)}.
#
# How it works: before each command the script has gdb echo a marker line
# "@@ NAME"; section NAME extracts that command's output for the checks.
# Each check prints "ok"/"FAIL" and a name; the last line is exactly
# "N passed, N failed" and the exit status is non-zero when a check failed.
#
# Environment: BIN_DIR — the directory holding the gdb_demo binary (set by
# make); LAB_DIR — the lab directory holding .gdbinit (default: this
# script's parent). The binary needs debug information (-g).
set -u

LAB_DIR=${LAB_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
BIN_DIR=${BIN_DIR:-}
PROG=${BIN_DIR:+$BIN_DIR/}gdb_demo
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

# Preconditions: a missing tool or binary is a failure, not a silent pass.
if ! command -v gdb >/dev/null 2>&1; then
    fail "gdb is installed (scripts/install-deps.sh must install it)"
    finish
fi
if [ -z "$BIN_DIR" ] || [ ! -x "$PROG" ]; then
    fail "gdb_demo binary found (BIN_DIR='$BIN_DIR')"
    finish
fi
if [ ! -f "$LAB_DIR/.gdbinit" ]; then
    fail ".gdbinit found in LAB_DIR='$LAB_DIR'"
    finish
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gdbinit_test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
out=$tmp/gdb.out

# LeakSanitizer cannot run under ptrace and fails the exit of an ASan build
# (make VARIANT=asan): switch it off for this run only; ASan still checks.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export ASAN_OPTIONS

# Run each command after a marker line; no timeout(1) means no time limit.
TIMEOUT=""
command -v timeout >/dev/null 2>&1 && TIMEOUT="timeout 120"
$TIMEOUT gdb -q -batch -nx -x "$LAB_DIR/.gdbinit" \
    -ex 'break gdb_demo_checkpoint' -ex run \
    -ex 'echo @@ info\n' -ex 'da_info squares' \
    -ex 'echo @@ squares\n' -ex 'da_print squares int' \
    -ex 'echo @@ points\n' -ex 'da_print pts struct gdb_point' \
    -ex 'echo @@ elem\n' -ex 'da_elem points 2 struct gdb_point' \
    -ex 'echo @@ range\n' -ex 'da_elem sq 100 int' \
    -ex 'echo @@ mismatch\n' -ex 'da_print squares long' \
    -ex 'echo @@ help\n' -ex 'help da_print' \
    -ex 'echo @@ userdef\n' -ex 'help user-defined' \
    -ex 'echo @@ end\n' -ex continue \
    "$PROG" >"$out" 2>&1 </dev/null

# section NAME: the lines between "@@ NAME" and the next marker.
section() {
    awk -v name="$1" '/^@@ /{on = ($2 == name); next} on' "$out"
}

# check NAME PATTERN SECTION: some line of SECTION matches the extended regex.
check() {
    if section "$3" | grep -Eq -- "$2"; then ok "$1"; else fail "$1"; fi
}

if grep -q '^Breakpoint 1, gdb_demo_checkpoint' "$out"; then
    ok "stopped at gdb_demo_checkpoint"
else
    fail "stopped at gdb_demo_checkpoint"
    sed 's/^/    /' "$out" | head -20
fi

check "da_info prints len, cap, elem_size" \
    '^da_array squares: len=100 cap=128 elem_size=4 data=0x[0-9a-f]+$' info

section squares | grep '^\[' >"$tmp/got"
awk 'BEGIN { for (i = 0; i < 100; i++) printf "[%d] %d\n", i, i * i }' >"$tmp/want"
if cmp -s "$tmp/got" "$tmp/want"; then
    ok "da_print squares int: all 100 elements"
else
    fail "da_print squares int: all 100 elements"
    diff "$tmp/want" "$tmp/got" | head -5 | sed 's/^/    /'
fi

section points | grep '^\[' >"$tmp/got"
awk 'BEGIN { for (i = 0; i < 5; i++) printf "[%d] {x = %d, y = %d}\n", i, i + 1, -10 * (i + 1) }' >"$tmp/want"
if cmp -s "$tmp/got" "$tmp/want"; then
    ok "da_print through a pointer, struct type of two words"
else
    fail "da_print through a pointer, struct type of two words"
    diff "$tmp/want" "$tmp/got" | head -5 | sed 's/^/    /'
fi

check "da_elem prints one element" '^\[2\] \{x = 3, y = -30\}$' elem
check "da_elem checks bounds" '^index 100 out of range \(100 elements\)$' range
check "element size mismatch is reported" \
    '^warning: sizeof element type = 8 but elem_size = 4$' mismatch
n=$(section mismatch | grep -c '^\[')
if [ "$n" -eq 50 ]; then
    ok "mismatch shows only what fits (400 bytes = 50 longs)"
else
    fail "mismatch shows only what fits (400 bytes = 50 longs): got $n"
fi
check "commands are documented" '^Print a da_array' help
check "help user-defined lists da_print" '^da_print' userdef
if section userdef | grep -q 'da__'; then
    fail "help user-defined shows no internal helper (da__*)"
else
    ok "help user-defined shows no internal helper (da__*)"
fi
check "program finished normally" 'exited normally' end

finish
