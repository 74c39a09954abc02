#!/bin/sh
# test-summary.sh — add up the *.res files of test runners (scripts/run-test.sh).
#
# Usage: test-summary.sh LABEL DIR [STATUS_FILE]
#
# Prints the failing runners (their paths relative to DIR), a line that
# counts apart test cases, script checks, sanitizer reports and runners
# that gave no result, then one closing line
#   "N passed, N failed[, N skipped]"
# preceded by "LABEL: " unless LABEL is "-" (the top-level total prints the
# bare line that CI reads). When STATUS_FILE is given and holds a non-zero
# make status (a lab failed to build), that counts as one more failure.
# Exit status: 0 when nothing failed.
set -u
label=$1 dir=$2 status_file=${3:-}
passed=0 failed=0 skipped=0
tp=0 tf=0 cp=0 cf=0 sa=0 ha=0
for f in $(find "$dir" -name '*.res' 2>/dev/null | sort); do
    read -r p fl s n what san harness <"$f"
    passed=$((passed + p)); failed=$((failed + fl)); skipped=$((skipped + s))
    san=${san:-0} harness=${harness:-0}
    own=$((fl - san - harness))
    if [ "${what:-tests}" = checks ]; then
        cp=$((cp + p)) cf=$((cf + own))
    else
        tp=$((tp + p)) tf=$((tf + own))
    fi
    sa=$((sa + san)) ha=$((ha + harness))
    if [ "$fl" -gt 0 ]; then
        rel=$(dirname "$f" | sed "s|^$dir||; s|^/*||")
        echo "FAILED: ${rel:+$rel/}$n ($fl)"
    fi
done
echo "  test cases: $tp passed, $tf failed; script checks: $cp passed, $cf failed;" \
     "sanitizer reports: $sa; runners without a result: $ha"
if [ -n "$status_file" ] && [ -s "$status_file" ] && [ "$(cat "$status_file")" != 0 ]; then
    echo "FAILED: a build or test step exited $(cat "$status_file") (see above)"
    failed=$((failed + 1))
fi
if [ "$passed" = 0 ] && [ "$failed" = 0 ]; then
    echo "test-summary: no test ran: counted as 1 failure"
    failed=1
fi
tail=""
[ "$skipped" -gt 0 ] && tail=", $skipped skipped"
if [ "$label" = "-" ]; then
    echo "$passed passed, $failed failed$tail"
else
    echo "$label: $passed passed, $failed failed$tail"
fi
[ "$failed" = 0 ]
