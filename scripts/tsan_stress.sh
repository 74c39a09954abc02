#!/bin/sh
# tsan_stress.sh PROGRAM — a lab's concurrency stress test under
# ThreadSanitizer (shared by sprint 2's and sprint 3's tests/tsan_stress.sh,
# which set LAB_DIR and run this).
#
# Why a script: ThreadSanitizer does not work with Criterion's runner, so
# the stress test also exists as a plain program (PROGRAM, default
# stress_tsan: one of the lab's LAB_PLAIN_TESTS). This script builds it,
# with the lab library and common/, in the build system's `tsan` variant
# (-O1 -g -fsanitize=thread, its own tree build/tsan/, compiled
# incrementally like any variant), and runs it with halt_on_error: any data
# race or lock-order inversion TSan sees ends the run with a report and a
# non-zero status, which counts as a failure.
#
# Output: the program's lines, then "N passed, N failed" (its cases, plus
# one failure if the build fails or TSan stops the run). Environment (set
# by common/mk/rules.mk): BIN_DIR = <build>/<variant>/bin/<lab>, LAB_DIR,
# KVLABS_ROOT; STRESS_OPS overrides the operations per worker.
set -u
: "${LAB_DIR:?LAB_DIR: the lab folder}"
KVLABS_ROOT=${KVLABS_ROOT:-$LAB_DIR/..}
PROG=${1:-stress_tsan}
LAB=$(basename "$LAB_DIR")
if [ -n "${BIN_DIR:-}" ]; then
    BUILD=$(cd "$BIN_DIR/../../.." && pwd)
else
    BUILD=$KVLABS_ROOT/build
fi
BIN=$BUILD/tsan/bin/$LAB/$PROG
LOG=$BUILD/tsan/$PROG-build.log
mkdir -p "$BUILD/tsan"

echo "tsan_stress: building $BIN"
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -j2 -C "$LAB_DIR" \
    VARIANT=tsan BUILD="$BUILD" KVLABS_ROOT="$KVLABS_ROOT" "$BIN" >"$LOG" 2>&1
then
    tail -n 30 "$LOG"
    echo "FAIL the ThreadSanitizer build"
    echo "0 passed, 1 failed"
    exit 1
fi
out=$(mktemp "${TMPDIR:-/tmp}/tsan_stress.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" "$BIN" >"$out" 2>&1
rc=$?
grep -v -E '^[0-9]+ passed, [0-9]+ failed' "$out"
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
passed=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
failed=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
passed=${passed:-0}
failed=${failed:-0}
if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
    echo "FAIL ThreadSanitizer stopped the run (exit $rc): see its report above"
    failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
