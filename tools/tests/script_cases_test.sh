#!/bin/sh
# script_cases_test.sh — run script_cases_test.py (see its docstring), a script test of the
# tools lab: it prints one ok/FAIL line per check and "N passed, N failed".
# The tools it tests are Python, so a coverage build (VARIANT=cov, for the C
# code's gcovr report) has nothing to learn from running it again.
if [ "${VARIANT:-}" = cov ]; then
    echo "script_cases_test: skipped in the cov variant (it tests Python tools, not C)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
exec python3 "$(dirname "$0")/script_cases_test.py"
