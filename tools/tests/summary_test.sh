#!/bin/sh
# summary_test.sh — the test runners' bookkeeping: scripts/run-test.sh and
# scripts/test-summary.sh, on fake runners (a second or less).
#
# Checks what a student reads at the end of `make test`: a failing runner
# is named by its path under the results directory with no stray leading
# slash ("FAILED: test_pointers", not "FAILED: /test_pointers"), and the
# breakdown line counts test cases, script checks, sanitizer reports and
# runners without a result apart, while the closing line stays
# "N passed, N failed". Prints "N passed, N failed".
set -u
ROOT=${KVLABS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/summary_test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
notok() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }
RUN="bash $ROOT/scripts/run-test.sh"

# A Criterion-like binary: 3 tests, 1 failing, and a LeakSanitizer report.
cat >"$T/crit" <<'EOS'
#!/bin/sh
echo "==12==ERROR: LeakSanitizer: detected memory leaks"
echo "[====] Synthesis: Tested: 3 | Passing: 2 | Failing: 1 | Crashing: 0 "
exit 1
EOS
# A script test: 4 checks, 1 failing.
printf 'echo "3 passed, 1 failed"\nexit 1\n' >"$T/script.sh"
# A runner that prints nothing.
printf '#!/bin/sh\nexit 3\n' >"$T/mute"
chmod +x "$T/crit" "$T/mute"
mkdir -p "$T/res/lab"
$RUN criterion "$T/res/test_pointers.res" "$T/crit" >/dev/null 2>&1
$RUN plain "$T/res/lab/script.sh.res" sh "$T/script.sh" >/dev/null 2>&1
$RUN plain "$T/res/lab/mute.res" "$T/mute" >/dev/null 2>&1
check "run-test.sh records a test binary: passed failed skipped name tests sanitizer harness" \
    grep -qx '2 2 0 test_pointers tests 1 0' "$T/res/test_pointers.res"
check "run-test.sh records a script as checks" grep -qx '3 1 0 script.sh checks 0 0' "$T/res/lab/script.sh.res"
check "run-test.sh records a runner without a result" grep -qx '0 1 0 mute tests 0 1' "$T/res/lab/mute.res"
sh "$ROOT/scripts/test-summary.sh" lab "$T/res" >"$T/out" 2>&1
check "a failing runner at the top of the results has no leading slash" grep -qx 'FAILED: test_pointers (2)' "$T/out"
check "a runner in a subdirectory is named by its relative path" grep -qx 'FAILED: lab/script.sh (1)' "$T/out"
check "no path starts with a slash" sh -c "! grep -q '^FAILED: /' '$T/out'"
check "the breakdown counts test cases, script checks, sanitizer reports and mute runners apart" \
    grep -q 'test cases: 2 passed, 1 failed; script checks: 3 passed, 1 failed; sanitizer reports: 1; runners without a result: 1' "$T/out"
check "the closing line is still N passed, N failed (all failures summed)" \
    sh -c "tail -n 1 '$T/out' | grep -qx 'lab: 5 passed, 4 failed'"
# Old four-field result files (another tree's) still add up.
mkdir -p "$T/old" && echo "5 0 0 x" >"$T/old/x.res"
sh "$ROOT/scripts/test-summary.sh" - "$T/old" >"$T/out" 2>&1
check "four-field result files still add up" sh -c "tail -n 1 '$T/out' | grep -qx '5 passed, 0 failed'"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
