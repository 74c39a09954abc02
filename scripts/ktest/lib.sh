# lib.sh - helpers for a module's step script inside the test VM (sourced;
# busybox sh). A step script (the lab's kernel/tests/ktest_step.sh, packed as
# /ktest/<module>/step.sh) loads its module, runs its programs and unloads
# it, recording every check with these functions; init.sh adds up the
# "STEP <name>: N passed, N failed" line that step_done prints.
P=0
F=0
ok() { P=$((P + 1)); echo "ok   $STEP/$1"; }
fail() { F=$((F + 1)); echo "FAIL $STEP/$1${2:+: $2}"; }
# check NAME COMMAND...: one case, passed when COMMAND exits 0.
check() {
    n=$1
    shift
    if "$@" >/tmp/check.out 2>&1; then ok "$n"; else fail "$n" "$(tail -n 3 /tmp/check.out | tr '\n' ' ')"; fi
}
# counts NAME COMMAND...: run a test program and add the counts of its
# closing line ("N passed, N failed" or Criterion's "Synthesis: Tested: ..
# Passing: P | Failing: F | Crashing: C"). No closing line: 1 failure.
# The program's output is framed by "KTEST BEGIN $STEP/NAME" and "KTEST END
# $STEP/NAME": the grader (scripts/ktest/cases.py) names the program's own
# case lines after the run they belong to (the same program may run twice).
counts() {
    n=$1
    shift
    echo "KTEST BEGIN $STEP/$n"
    { "$@"; echo $? >/tmp/counts.rc; } 2>&1 | tee /tmp/counts.out
    echo "KTEST END $STEP/$n"
    rc=$(cat /tmp/counts.rc)
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' /tmp/counts.out | tail -n 1)
    syn=$(grep -a 'Synthesis: Tested:' /tmp/counts.out | tail -n 1)
    if [ -n "$line" ]; then
        p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
        f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    elif [ -n "$syn" ]; then
        p=$(echo "$syn" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
        f=$(echo "$syn" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
    else
        p=0 f=1
        echo "FAIL $STEP/$n: no closing line (exit $rc)"
    fi
    [ "$f" = 0 ] && [ "$rc" != 0 ] && { f=1; echo "FAIL $STEP/$n: exit $rc with no failure counted"; }
    P=$((P + p))
    F=$((F + f))
}
step_done() { echo "STEP $STEP: $P passed, $F failed"; }
