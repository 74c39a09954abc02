#!/bin/bash
# run-labs.sh — run the test phase of several labs side by side (top-level `make test`).
#
# Usage: run-labs.sh BUILD SLOTS STATUS_FILE LAB...
#
# A LAB that is not a folder is a top-level make target with its variables
# (the kernel VM test: "ktest KTEST_CONF_FILTER=conf_basic/*").
#
# What it is: the scheduler behind the top-level `make test`. The labs' test
# binaries are already built (the Makefile builds them one lab at a time,
# because later labs link earlier ones). Running them is another matter:
# most runners are single-threaded, sleep on fsync or wait on a child, so one
# lab at a time leaves a 2-core machine half idle. This runs up to SLOTS labs
# at once (TEST_SLOTS in the Makefile, default 2).
#
# How it works: each lab's `make test` writes its whole output to
# BUILD/test-results/logs/LAB.log; when the lab finishes, the log is printed
# in one piece under a "==== LAB ====" header, so labs never interleave on the
# terminal. The labs start in the order given (put the longest first). Each
# lab's counts come from its runners' .res files as before (scripts/run-test.sh);
# this script only adds up exit statuses: a lab whose `make test` exits non-zero
# (KV_TEST_NOFAIL=1 makes that mean "the harness broke", not "a test failed")
# writes 1 to STATUS_FILE, which scripts/test-summary.sh counts.
#
# What callers must not do: run labs side by side whose tests share a fixed
# resource (a port, a /dev/shm name, a path outside their own temp directory).
# Every test in kvlabs takes its temp directory from mkdtemp and its ports from
# the kernel (port 0), which is what makes this safe.
set -u
build=$1 slots=$2 status_file=$3
shift 3
logs=$build/test-results/logs
mkdir -p "$logs"
: >"$status_file.labs"

run_one() {
    local lab=${1%% *} t0 rc
    t0=$(date +%s)
    if [ -d "$lab" ]; then
        KV_TEST_NOFAIL=1 make --no-print-directory -C "$lab" test VARIANT=asan BUILD="$build" \
            >"$logs/$lab.log" 2>&1 </dev/null
    else
        # a top-level target with its variables ("ktest KTEST_CONF_FILTER=conf_basic/*"):
        # split on spaces, never globbed
        set -f
        # shellcheck disable=SC2086
        KV_TEST_NOFAIL=1 make --no-print-directory $1 BUILD="$build" \
            >"$logs/$lab.log" 2>&1 </dev/null
        set +f
    fi
    rc=$?
    {
        echo "==== $lab ($(( $(date +%s) - t0 )) s) ===="
        cat "$logs/$lab.log"
    }
    [ "$rc" = 0 ] || echo "1 $lab" >>"$status_file.labs"
}

running=0
for lab in "$@"; do
    if [ "$running" -ge "$slots" ]; then
        wait -n
        running=$((running - 1))
    fi
    run_one "$lab" &
    running=$((running + 1))
done
wait

if [ -s "$status_file.labs" ]; then
    echo "run-labs.sh: make test exited non-zero in: $(cut -d' ' -f2 "$status_file.labs" | tr '\n' ' ')"
    echo 1 >"$status_file"
fi
rm -f "$status_file.labs"
