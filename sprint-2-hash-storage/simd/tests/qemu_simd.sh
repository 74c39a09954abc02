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
# Static binaries need no aarch64 shared libraries at run time. common/'s
# files are compiled here with -w (common's own build holds them to
# -Werror); this lab's files with -Wall -Wextra -Wshadow -Werror.
#
# Environment (set by common/mk/rules.mk): BIN_DIR (binaries go to
# $BIN_DIR/qemu/), LAB_DIR, KVLABS_ROOT. Needs the packages
# gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user-static
# (scripts/install-deps.sh); when one is missing that is a failure.
set -u

FUNCS="dispatch crc32c xxh3_64 xxh3_64_seed key_eq key_cmp"
RUNS="aarch64-neon aarch64-portable x86_64-sse2 x86_64-sse42 x86_64-avx2"
# funcs RUN: the functions of RUN's cases.
funcs() {
    case $1 in
    x86_64-sse2) echo "$FUNCS" | sed 's/ crc32c//' ;;
    *) echo "$FUNCS" ;;
    esac
}
if [ "${1:-}" = --list ]; then
    for r in $RUNS; do
        for f in $(funcs "$r"); do echo "CASE $r/$f"; done
    done
    exit 0
fi

here=$(cd "$(dirname "$0")" && pwd)
LAB_DIR=${LAB_DIR:-$(dirname "$(dirname "$here")")}
KVLABS_ROOT=${KVLABS_ROOT:-$(dirname "$LAB_DIR")}
BIN_DIR=${BIN_DIR:-$KVLABS_ROOT/build/asan/bin/sprint-2-hash-storage}
out=$BIN_DIR/qemu
mkdir -p "$out"

passed=0 failed=0 n=0
ok() { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
}

for tool in gcc aarch64-linux-gnu-gcc qemu-aarch64-static qemu-x86_64-static; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        notok "$tool not found (install with scripts/install-deps.sh)"
        for r in $RUNS; do cases "$r" none /dev/null; done
        finish
    fi
done

C=$KVLABS_ROOT/common/src
COMMON="$C/hash_crc32c.c $C/hash_dispatch.c $C/hash_fnv.c $C/hash_xxh3.c $C/hash_xxh64.c
        $C/status.c $C/alloc.c $C/opts.c $C/env.c $C/env_fault.c $C/env_mem.c $C/env_mem_ns.c
        $C/env_posix.c $C/rng.c $C/kv.c"
LAB="$LAB_DIR/simd/neon_hash.c $LAB_DIR/simd/neon_hash_arm.c $LAB_DIR/simd/neon_hash_x86.c
     $LAB_DIR/simd/neon_hash_xxh3.c $LAB_DIR/simd/tests/simd_tests.c"
STD="-std=c11 -D_POSIX_C_SOURCE=200809L -O2 -pthread"
INC="-I$KVLABS_ROOT/common/include -I$LAB_DIR/include -I$LAB_DIR/simd -I$LAB_DIR/simd/tests"
WARN="-Wall -Wextra -Wshadow"

# The registry of these test programs: no engines, one start-up function.
sh "$KVLABS_ROOT/scripts/gen-registry.sh" "$out/registry.c" "" "kv_hash_simd_init"

# build NAME CC FLAGS...: one static binary in $out/NAME (objects in $out/NAME.o/).
build() {
    name=$1 cc=$2
    shift 2
    objs=$out/$name.o
    rm -rf "$objs" && mkdir -p "$objs" || return 1
    for f in $COMMON "$out/registry.c"; do
        $cc $STD -w "$@" $INC -c "$f" -o "$objs/common_$(basename "$f" .c).o" || return 1
    done
    for f in $LAB; do
        $cc $STD $WARN -Werror "$@" $INC -c "$f" -o "$objs/$(basename "$f" .c).o" || return 1
    done
    $cc -static -pthread "$@" "$objs"/*.o -o "$out/$name"
}

# cases RUN STATE LOG: the CASE lines of RUN from the ok/not ok lines of LOG.
# STATE: ran (summary seen, level right), badlevel (dispatch fails), or
# none (no summary, or not built: every case fails).
cases() {
    awk -v run="$1" -v state="$2" -v funcs="$(funcs "$1")" '
    BEGIN { k = split(funcs, F, " "); for (i = 1; i <= k; i++) known[F[i]] = 1 }
    /^(ok|not ok) [0-9]+ - / {
        d = $0
        sub(/^(ok|not ok) [0-9]+ - /, "", d)
        f = "dispatch"
        if (match(d, /^[^ ]+: [a-z0-9_]+/)) {
            split(substr(d, RSTART, RLENGTH), w, ": ")
            f = w[2]
        }
        if (!(f in known))
            f = "dispatch"
        n[f]++
        if ($1 == "not")
            bad[f]++
    }
    END {
        for (i = 1; i <= k; i++) {
            f = F[i]
            ok = state != "none" && n[f] > 0 && !bad[f] && !(f == "dispatch" && state == "badlevel")
            printf "CASE %s/%s: %s\n", run, f, ok ? "PASS" : "FAIL"
        }
    }' "$3"
}

# run LABEL CASE_RUN EXPECTED_LEVEL COMMAND...: one emulated run, its checks summed.
run() {
    label=$1 crun=$2 want=$3
    shift 3
    log=$out/$(echo "$label" | tr -c 'A-Za-z0-9_\n-' '_').log
    timeout 300 "$@" >"$log" 2>"$log.stderr"
    rc=$?
    grep -E '^(not ok|# active|# skip|# path)' "$log" | sed "s/^/    [$label] /"
    line=$(grep -aE '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        notok "$label: no summary line (exit $rc); stderr: $(tail -n 3 "$log.stderr" | tr '\n' ' ')"
        cases "$crun" none "$log"
        return
    fi
    p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    passed=$((passed + p)) failed=$((failed + f))
    echo "# $label: $line"
    if [ "$rc" = 0 ]; then ok "$label: exit status 0"; else notok "$label: exit status $rc"; fi
    got=$(sed -n 's/^# active level: //p' "$log")
    if [ "$got" = "$want" ]; then
        ok "$label: level $got selected"
        cases "$crun" ran "$log"
    else
        notok "$label: level '$got' selected, expected '$want'"
        cases "$crun" badlevel "$log"
    fi
}

# ---- aarch64 ------------------------------------------------------------------
if build simd_tests_aarch64 aarch64-linux-gnu-gcc -march=armv8-a+crc; then
    ok "aarch64 cross build (aarch64-linux-gnu-gcc -march=armv8-a+crc -static -O2)"
    A="qemu-aarch64-static -cpu cortex-a72 $out/simd_tests_aarch64"
    run "aarch64 cortex-a72" aarch64-neon neon env -u KVLABS_HASH $A
    run "aarch64 cortex-a72 KVLABS_HASH=portable" aarch64-portable portable \
        env KVLABS_HASH=portable $A
else
    notok "aarch64 cross build failed"
    cases aarch64-neon none /dev/null
    cases aarch64-portable none /dev/null
fi

# ---- x86-64 -------------------------------------------------------------------
if build simd_tests_x86_64 gcc; then
    ok "x86-64 static build (gcc -static -O2)"
    for spec in qemu64:sse2 Nehalem:sse42 Haswell:avx2; do
        cpu=${spec%%:*} level=${spec#*:}
        run "x86-64 $cpu" "x86_64-$level" "$level" env -u KVLABS_HASH \
            qemu-x86_64-static -cpu "$cpu" "$out/simd_tests_x86_64"
    done
else
    notok "x86-64 static build failed"
    for level in sse2 sse42 avx2; do cases "x86_64-$level" none /dev/null; done
fi

finish
