#!/bin/sh
# tsan_storage.sh — Bitcask and the shared-memory store under ThreadSanitizer.
#
# Like tsan_stress.sh (the hash table's stress test), for the two stores
# with locks of their own: builds bitcask/tests/tsan_bitcask.c and
# shm/tests/tsan_shm.c,
# with the lab library and common/, in the build system's `tsan` variant
# (-O1 -g -fsanitize=thread, its own tree build/tsan/), and runs each with
# halt_on_error: any data race or lock-order inversion TSan sees ends that
# run with a report and a non-zero status, a failure. Each program's header
# says how it makes the race a missing lock would cause likely: gets racing
# with write-buffer flushes and merges (Bitcask), threads and a second
# process churning the shared free lists (shm).
#
# Graded case by case (GRADE_SCRIPT_CASES in lab.mk): one line per program,
#   CASE bitcask: PASS|FAIL     CASE shm: PASS|FAIL
# (a failed build fails both). `tsan_storage.sh --list` prints the case
# names and runs nothing. The last line sums the programs' checks:
# "N passed, N failed". Environment (set by common/mk/rules.mk): BIN_DIR =
# <build>/<variant>/bin/<lab>, LAB_DIR, KVLABS_ROOT; PART = bitcask or shm
# (`make test PART=...`, the grader of one part) checks that store alone;
# TSAN_BITCASK_PUTS and TSAN_SHM_OPS scale the programs.
set -u
PROGS="bitcask shm"
case ${PART:-} in
bitcask | shm) PROGS=$PART ;;
esac
if [ "${1:-}" = --list ]; then
    for p in $PROGS; do echo "CASE $p"; done
    exit 0
fi
LAB_DIR=${LAB_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KVLABS_ROOT=${KVLABS_ROOT:-$LAB_DIR/..}
LAB=$(basename "$LAB_DIR")
if [ -n "${BIN_DIR:-}" ]; then
    BUILD=$(cd "$BIN_DIR/../../.." && pwd)
else
    BUILD=$KVLABS_ROOT/build
fi
LOG=$BUILD/tsan/tsan_storage-build.log
mkdir -p "$BUILD/tsan"
passed=0
failed=0

bins=""
for p in $PROGS; do bins="$bins $BUILD/tsan/bin/$LAB/tsan_$p"; done
echo "tsan_storage: building$bins"
# common/ first, on its own: in one parallel make a program could be linked
# against the previous libkvlabs-common.a
if ! { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -j2 -C "$LAB_DIR" \
    VARIANT=tsan BUILD="$BUILD" KVLABS_ROOT="$KVLABS_ROOT" common-lib &&
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -j2 -C "$LAB_DIR" \
    VARIANT=tsan BUILD="$BUILD" KVLABS_ROOT="$KVLABS_ROOT" $bins; } >"$LOG" 2>&1
then
    tail -n 30 "$LOG"
    echo "FAIL the ThreadSanitizer build"
    for p in $PROGS; do echo "CASE $p: FAIL"; done
    echo "0 passed, 1 failed"
    exit 1
fi
out=$(mktemp "${TMPDIR:-/tmp}/tsan_storage.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT
for p in $PROGS; do
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
        "$BUILD/tsan/bin/$LAB/tsan_$p" >"$out" 2>&1
    rc=$?
    grep -v -E '^[0-9]+ passed, [0-9]+ failed' "$out" | sed "s/^/[$p] /"
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    pp=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    ff=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    pp=${pp:-0}
    ff=${ff:-0}
    if [ "$rc" != 0 ] && [ "$ff" = 0 ]; then
        echo "FAIL [$p] ThreadSanitizer stopped the run (exit $rc): see its report above"
        ff=1
    fi
    passed=$((passed + pp))
    failed=$((failed + ff))
    if [ "$ff" = 0 ] && [ "$pp" -gt 0 ]; then echo "CASE $p: PASS"; else echo "CASE $p: FAIL"; fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
