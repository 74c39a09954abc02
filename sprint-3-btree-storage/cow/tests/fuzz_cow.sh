#!/bin/sh
# fuzz_cow.sh — make test's short, bounded libFuzzer run of cowbtree's
# decoders (cow/tests/fuzz_cow.c: page, meta page, commit record).
#
# What it does: builds the target with clang (-fsanitize=fuzzer,address,
# undefined; the lab's `fuzz-cow-bin` rule, which rebuilds only when a
# decoder's source changed), copies the seeded corpus of the repository
# (cow/tests/fuzz-corpus/) to a scratch directory, and fuzzes for
# FUZZ_SMOKE_SECONDS (default 10). libFuzzer stops at the first crash,
# sanitizer report, leak or failed check of the target, and exits non-zero:
# that is a failure, and the input that did it is kept in <build>/fuzz/.
# The long run is `make -C sprint-3-btree-storage fuzz` (FUZZ_SECONDS=600).
#
# Output: one "ok"/"FAIL" line with libFuzzer's execution count, then
# "N passed, N failed". Environment: LAB_DIR (default: this script's lab),
# FUZZ_SMOKE_SECONDS.
LAB_DIR=${LAB_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SECS=${FUZZ_SMOKE_SECONDS:-10}
ROOT=$(cd "$LAB_DIR/.." && pwd)
# the build tree: BIN_DIR is <build>/<variant>/bin/<lab> under make test and the graders
if [ -n "$BIN_DIR" ]; then
    FUZZ_BDIR=$(cd "$BIN_DIR/../../.." && pwd)/fuzz
else
    FUZZ_BDIR=$ROOT/build/fuzz
fi
BIN=$FUZZ_BDIR/fuzz_cow
if ! command -v clang >/dev/null 2>&1; then
    echo "FAIL: clang is not installed (scripts/install-deps.sh installs it)"
    echo "0 passed, 1 failed"
    exit 1
fi
if ! make -s --no-print-directory -C "$LAB_DIR" fuzz-cow-bin FUZZ_BDIR="$FUZZ_BDIR" >/dev/null; then
    echo "FAIL: the fuzz target does not build"
    echo "0 passed, 1 failed"
    exit 1
fi
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
cp "$LAB_DIR"/cow/tests/fuzz-corpus/* "$work/corpus/"
(cd "$FUZZ_BDIR" && "$BIN" -max_total_time="$SECS" -max_len=4200 -timeout=10 \
    -rss_limit_mb=1024 -print_final_stats=1 "$work/corpus") >"$work/log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
if [ $rc -eq 0 ] && [ -n "$runs" ] && [ "$runs" -gt 0 ]; then
    echo "ok: fuzz_cow: $runs inputs in ${SECS}s, no finding"
    echo "1 passed, 0 failed"
    exit 0
fi
tail -40 "$work/log"
echo "FAIL: fuzz_cow (libFuzzer exit $rc; a crashing input is kept in build/fuzz/)"
echo "0 passed, 1 failed"
exit 1
