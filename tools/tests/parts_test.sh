#!/bin/sh
# parts_test.sh — run parts_test.py (see its docstring), a script test of the
# tools lab: it prints one ok/FAIL line per check and "N passed, N failed".
# The tools it tests are Python, so a coverage build (VARIANT=cov) has
# nothing to learn from running it again.
if [ "${VARIANT:-}" = cov ]; then
    echo "parts_test: skipped in the cov variant (it tests Python tools, not C)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
exec python3 "$(dirname "$0")/parts_test.py"
