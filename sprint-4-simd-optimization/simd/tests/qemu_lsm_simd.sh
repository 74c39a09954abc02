#!/bin/sh
# qemu_lsm_simd.sh — run the simd part's plain test (simd_lsm_tests.c) on
# CPUs this machine is not: aarch64 (NEON) and two x86-64 generations.
#
# The same scheme as sprint 2's simd/tests/qemu_simd.sh (its handout
# explains qemu-user), run by the same script, scripts/qemu_simd.sh, which
# this one calls with this part's program, sources, CPUs and cases:
# cross-compile neon_lsm_ops*.c, the parts of common/
# the test needs and the test with `aarch64-linux-gnu-gcc -static -O2`,
# run it under `qemu-aarch64-static -cpu cortex-a72` as it is (expects
# level "neon") and with KVLABS_LSM_SIMD=portable (expects "portable");
# build it for x86-64 with `gcc -static -O2` and run it under
# `qemu-x86_64-static` as
#   -cpu qemu64   SSE2 only   expects "sse2"  (SSE2 compare, scalar probe)
#   -cpu Haswell  AVX2        expects "avx2"  (AVX2 probe and compare)
# so every path runs on a CPU with exactly the features the dispatcher
# tested for, and each path's answers are compared with the scalar code's
# on that CPU. Each run must pass all its checks, exit 0 and print the
# expected "# active level:". The last line sums every run: "N passed, N
# failed"; exit status 1 when anything failed.
#
# Graded case by case (GRADE_SCRIPT_CASES in lab.mk): after each run one
# line per function, `CASE <run>/<function>: PASS|FAIL`, runs
# aarch64-neon aarch64-portable x86_64-sse2 x86_64-avx2, functions
# dispatch, bloom_probe, key_cmp. A case passes when its run reached its
# summary and every check of that function passed (a crash fails all of
# the run's cases; a wrong level fails its dispatch case).
# `qemu_lsm_simd.sh --list` prints the case names and runs nothing.
#
# Environment (set by common/mk/rules.mk): BIN_DIR (binaries go to
# $BIN_DIR/qemu-simd/), LAB_DIR, KVLABS_ROOT. Needs gcc-aarch64-linux-gnu,
# libc6-dev-arm64-cross and qemu-user-static (scripts/install-deps.sh; they
# are sprint 2's too); a missing tool is a failure, not a skip.
here=$(cd "$(dirname "$0")" && pwd)
LAB_DIR=${LAB_DIR:-$(dirname "$(dirname "$here")")}
KVLABS_ROOT=${KVLABS_ROOT:-$(dirname "$LAB_DIR")}
BIN_DIR=${BIN_DIR:-$KVLABS_ROOT/build/asan/bin/sprint-4-simd-optimization}
export LAB_DIR KVLABS_ROOT BIN_DIR
S=$LAB_DIR/simd
exec sh "$KVLABS_ROOT/scripts/qemu_simd.sh" "$@" --name simd_lsm_tests --out qemu-simd \
    --init lsm_simd_init --env KVLABS_LSM_SIMD --march armv8-a \
    --funcs "dispatch bloom_probe key_cmp" --x86 "qemu64:sse2 Haswell:avx2" --inc "$S" \
    "$S/neon_lsm_ops.c" "$S/neon_lsm_ops_x86.c" "$S/neon_lsm_ops_arm.c" "$S/tests/simd_lsm_tests.c"
