#!/bin/sh
# ktest.sh - the kernel part's VM test as the grader runs it (LAB_VM_TESTS in
# lab.mk): builds the stage (make ktest-stage), boots it once and prints one
# "CASE <name>: PASS|FAIL" line per case of the VM run, then "N passed, N
# failed" (scripts/ktest/cases.py: how cases are named, what an oops or a
# hang does). Never part of the host `make test`; `make ktest` is the
# student's way to run the same VM test.
exec python3 "${KVLABS_ROOT:-$(dirname "$0")/../../..}/scripts/ktest/cases.py" "$@"
