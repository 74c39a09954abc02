#!/bin/sh
# qemu_simd.sh — run the SIMD hash tests on CPUs this machine is not:
# aarch64 (NEON, ARMv8 CRC32, PMULL) and three x86-64 generations.
#
# What it does:
#   1. cross-compiles neon_hash*.c, the hashing part of common/ and
#      tests/simd_tests.c with `aarch64-linux-gnu-gcc -march=armv8-a+crc
#      -static -O2`, and runs the binary under `qemu-aarch64-static -cpu
#      cortex-a72` twice: as it is (expects level "neon": the NEON, CRC32
#      and CRC32+PMULL paths all run) and with KVLABS_HASH=portable
#      (expects level "portable");
#   2. builds the same test for this x86-64 host with `gcc -static -O2`
#      and runs it under `qemu-x86_64-static` as three CPUs:
#        -cpu qemu64   SSE2 only           expects level "sse2"
#        -cpu Nehalem  + SSE4.2, no PCLMUL expects level "sse42"
#                                          (single-stream CRC32C)
#        -cpu Haswell  + PCLMUL, AVX2      expects level "avx2"
#      so the scalar CRC, both SSE4.2 CRCs, SSE2 and AVX2 XXH3 each run
#      on a CPU that has exactly the features the dispatcher tested for.
# Each run must pass all its checks, exit 0 and report ("# active level:
# ...") the level expected for its CPU. The last line sums every run:
# "N passed, N failed"; the exit status is 1 when anything failed.
#
# Graded case by case (GRADE_SCRIPT_CASES in lab.mk, docs/grading.md): after
# each run the script prints one line per function of that run,
#   CASE <run>/<function>: PASS|FAIL
# runs aarch64-neon, aarch64-portable, x86_64-sse2, x86_64-sse42,
# x86_64-avx2; functions crc32c, xxh3_64, xxh3_64_seed, key_eq, key_cmp (the
# checks of every path of that run, portable and dispatched included,
# grouped by the function they test) and dispatch (the level chosen, the
# kv_hash_simd_use() checks, and the functions no SIMD path replaces:
# fnv1a, xxh64). x86_64-sse2 has no crc32c case: no SIMD CRC runs on an
# SSE2-only CPU, its CRC checks count under dispatch. A case passes when
# its run ran to its summary and every one of its checks passed (a run that
# crashed fails all its cases; a wrong level fails its dispatch case; a
# failed build fails every case of its architecture), so a SIMD path wrong
# on one CPU costs that CPU's cases of that function, not the whole script.
# `qemu_simd.sh --list` prints the case names (CASE <name>) and runs nothing.
#
# Why qemu-user and a plain test: qemu-user runs one Linux program of
# another CPU, translating its instructions, with no VM to boot; the
# `-cpu` model decides which features CPUID or AT_HWCAP report, so the
# dispatcher sees exactly that CPU. Emulated timings mean nothing; these
# runs check correctness only. Criterion re-executes its binary per test,
# which would escape the emulator, and aarch64 has no libxxhash here, so
# simd_tests.c is a plain program with precomputed vectors.
#
# The scheme (builds, runs, CASE lines) is the course's, shared with sprint
# 4's qemu_lsm_simd.sh: scripts/qemu_simd.sh, which this script calls with
# this lab's program, sources, CPUs and cases. Static binaries need no
# aarch64 shared libraries at run time. common/'s files are compiled with
# -w (common's own build holds them to -Werror); this lab's files with
# -Wall -Wextra -Wshadow -Werror.
#
# Environment (set by common/mk/rules.mk): BIN_DIR (binaries go to
# $BIN_DIR/qemu/), LAB_DIR, KVLABS_ROOT. Needs the packages
# gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user-static
# (scripts/install-deps.sh); when one is missing that is a failure.
here=$(cd "$(dirname "$0")" && pwd)
LAB_DIR=${LAB_DIR:-$(dirname "$(dirname "$here")")}
KVLABS_ROOT=${KVLABS_ROOT:-$(dirname "$LAB_DIR")}
BIN_DIR=${BIN_DIR:-$KVLABS_ROOT/build/asan/bin/sprint-2-hash-storage}
export LAB_DIR KVLABS_ROOT BIN_DIR
S=$LAB_DIR/simd
exec sh "$KVLABS_ROOT/scripts/qemu_simd.sh" "$@" --name simd_tests --out qemu \
    --init kv_hash_simd_init --env KVLABS_HASH --march armv8-a+crc \
    --funcs "dispatch crc32c xxh3_64 xxh3_64_seed key_eq key_cmp" \
    --x86 "qemu64:sse2 Nehalem:sse42 Haswell:avx2" --skip x86_64-sse2/crc32c \
    --inc "$S" --inc "$S/tests" \
    "$S/neon_hash.c" "$S/neon_hash_arm.c" "$S/neon_hash_x86.c" "$S/neon_hash_xxh3.c" \
    "$S/tests/simd_tests.c"
