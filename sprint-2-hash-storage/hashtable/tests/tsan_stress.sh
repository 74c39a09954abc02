#!/bin/sh
# tsan_stress.sh — the sprint-2 table's concurrency tests under
# ThreadSanitizer: the stress test (tests/stress_tsan.c, tests/stress.h),
# then the lookup-safety test (tests/torn_tsan.c, tests/torn.h: torn reads,
# reused cells, resizes under readers).
#
# The build-and-run logic is shared by the labs: scripts/tsan_stress.sh
# (why a script, the tsan variant, halt_on_error, the output), run once per
# program. This script prints each run's lines and ONE final
# "N passed, N failed", the sum of both (a run that printed no summary
# counts as one failure). Environment (set by common/mk/rules.mk): BIN_DIR,
# LAB_DIR, KVLABS_ROOT; STRESS_OPS, TORN_OPS, TORN_SECS.
LAB_DIR=${LAB_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KVLABS_ROOT=${KVLABS_ROOT:-$LAB_DIR/..}
export LAB_DIR KVLABS_ROOT
out=$(mktemp "${TMPDIR:-/tmp}/tsan_stress_lab.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT
passed=0
failed=0
for prog in stress_tsan torn_tsan; do
    sh "$KVLABS_ROOT/scripts/tsan_stress.sh" "$prog" >"$out" 2>&1
    rc=$?
    grep -v -E '^[0-9]+ passed, [0-9]+ failed' "$out"
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    if [ -z "$line" ] || { [ "$rc" != 0 ] && [ "${f:-0}" = 0 ]; }; then
        echo "FAIL $prog: the run ended without a clean summary (exit $rc)"
        f=$((${f:-0} + 1))
    fi
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
