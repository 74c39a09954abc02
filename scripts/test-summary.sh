#!/bin/sh
# test-summary.sh — add up the *.res files of test runners (scripts/run-test.sh).
#
# Usage: test-summary.sh LABEL DIR [STATUS_FILE]
#
# Prints the failing runners, then one closing line
#   "N passed, N failed[, N skipped]"
# preceded by "LABEL: " unless LABEL is "-" (the top-level total prints the
# bare line that CI reads). When STATUS_FILE is given and holds a non-zero
# make status (a lab failed to build), that counts as one more failure.
# Exit status: 0 when nothing failed.
set -u
label=$1 dir=$2 status_file=${3:-}
passed=0 failed=0 skipped=0
for f in $(find "$dir" -name '*.res' 2>/dev/null | sort); do
    read -r p fl s n <"$f"
    passed=$((passed + p)); failed=$((failed + fl)); skipped=$((skipped + s))
    [ "$fl" -gt 0 ] && echo "FAILED: $(dirname "$f" | sed "s|^$dir/*||")${n:+/}$n ($fl)"
done
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
