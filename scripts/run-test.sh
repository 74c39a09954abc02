#!/bin/bash
# run-test.sh — run one test runner and record its counts for the summary.
#
# Usage: run-test.sh criterion|plain RESULT_FILE COMMAND [ARGS...]
#
# The runner's output goes to the terminal unchanged. Its counts are taken
# from its own closing line: Criterion's "Synthesis: Tested: T | Passing: P |
# Failing: F | Crashing: C", or a plain runner's "N passed, N failed[, N
# skipped]". RESULT_FILE gets one line
#   "passed failed skipped name what sanitizer harness"
# where failed counts everything below, what is "tests" (a test binary) or
# "checks" (a script: `sh file`), sanitizer is the number of sanitizer
# reports and harness the runner failures (no closing line, or a non-zero
# exit with no failure), so the summary can count them apart. A
# runner that exits non-zero while reporting no failure, or prints no
# closing line at all (it crashed or hung), counts as one failure, so a
# broken harness can never pass silently. Exit status: 0 when nothing failed.
#
# TEST_TIMEOUT (seconds, default 900) bounds the whole runner. Its wall and
# CPU seconds go to RESULT_FILE with .time for .res ("wall cpu name"), which
# scripts/test-times.sh lists after a top-level `make test`.
set -u
kind=$1 res=$2
shift 2
name=$(basename "$res" .res)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

t0=$(date +%s.%N)
timeout --kill-after=10 "${TEST_TIMEOUT:-900}" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
wall=$(echo "$(date +%s.%N) $t0" | awk '{printf "%.1f", $1 - $2}')
# CPU seconds of everything this runner started (bash's `times`, children line).
# `times` must run in this shell, not in a $(...) subshell, to see them.
times >"$log.times"
cpu=$(tail -n 1 "$log.times" | awk '{ split($1,u,"m"); split($2,s,"m");
    printf "%.1f", u[1]*60 + u[2] + s[1]*60 + s[2] }')
rm -f "$log.times"

passed=0 failed=0 skipped=0 found=0 harness=0
what=tests
[ "$kind" = plain ] && [ "$(basename "$1")" = sh ] && what=checks
case $kind in
criterion)
    line=$(grep -a 'Synthesis: Tested:' "$log" | tail -n 1)
    if [ -n "$line" ]; then
        found=1
        passed=$(echo "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
        failed=$(echo "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
    fi
    ;;
plain)
    line=$(grep -aE '^([A-Za-z_-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -n "$line" ]; then
        found=1
        passed=$(echo "$line" | sed -E 's/^([A-Za-z_-]+: )?([0-9]+) passed.*/\2/')
        failed=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
        skipped=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
        skipped=${skipped:-0}
    fi
    ;;
*)
    echo "run-test.sh: unknown kind '$kind'" >&2
    exit 2
    ;;
esac

# Sanitizer reports in a test's own process do not always fail it: Criterion
# exits 0 when LeakSanitizer reports a leak at a test process's exit. Each
# report found in the output counts as one more failure.
san=$(grep -acE '^(==[0-9]+==)?ERROR: (LeakSanitizer|AddressSanitizer)|: runtime error: |^WARNING: ThreadSanitizer' "$log" || true)
if [ "${san:-0}" -gt 0 ]; then
    echo "run-test.sh: $name: $san sanitizer report(s) in the output: counted as failures" >&2
    failed=$((failed + san))
fi
san=${san:-0}

if [ "$found" = 0 ]; then
    echo "run-test.sh: $name printed no summary line (exit $rc): counted as 1 failure" >&2
    failed=$((failed + 1)) harness=1
elif [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
    echo "run-test.sh: $name exited $rc with no reported failure: counted as 1 failure" >&2
    failed=1 harness=1
fi
mkdir -p "$(dirname "$res")"
echo "$passed $failed $skipped $name $what $san $harness" >"$res"
echo "$wall $cpu $name" >"${res%.res}.time"
[ "$failed" = 0 ]
