#!/bin/sh
# qemu_lsm_simd.sh — run the simd part's plain test (simd_lsm_tests.c) on
# CPUs this machine is not: aarch64 (NEON) and two x86-64 generations.
#
# The same scheme as sprint 2's simd/tests/qemu_simd.sh (its handout
# explains qemu-user): cross-compile neon_lsm_ops*.c, the parts of common/
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
set -u

FUNCS="dispatch bloom_probe key_cmp"
RUNS="aarch64-neon aarch64-portable x86_64-sse2 x86_64-avx2"
if [ "${1:-}" = --list ]; then
    for r in $RUNS; do
        for f in $FUNCS; do echo "CASE $r/$f"; done
    done
    exit 0
fi

here=$(cd "$(dirname "$0")" && pwd)
LAB_DIR=${LAB_DIR:-$(dirname "$(dirname "$here")")}
KVLABS_ROOT=${KVLABS_ROOT:-$(dirname "$LAB_DIR")}
BIN_DIR=${BIN_DIR:-$KVLABS_ROOT/build/asan/bin/sprint-4-simd-optimization}
out=$BIN_DIR/qemu-simd
mkdir -p "$out"

passed=0 failed=0 n=0
ok() { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
}

# cases RUN STATE LOG: the CASE lines of RUN from LOG's "ok N - <who>: <function>" lines.
cases() {
    awk -v run="$1" -v state="$2" -v funcs="$FUNCS" '
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
        cnt[f]++
        if ($1 == "not")
            bad[f]++
    }
    END {
        for (i = 1; i <= k; i++) {
            f = F[i]
            good = state != "none" && cnt[f] > 0 && !bad[f] && !(f == "dispatch" && state == "badlevel")
            printf "CASE %s/%s: %s\n", run, f, good ? "PASS" : "FAIL"
        }
    }' "$3"
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
LAB="$LAB_DIR/simd/neon_lsm_ops.c $LAB_DIR/simd/neon_lsm_ops_x86.c $LAB_DIR/simd/neon_lsm_ops_arm.c
     $LAB_DIR/simd/tests/simd_lsm_tests.c"
STD="-std=c11 -D_POSIX_C_SOURCE=200809L -O2 -pthread"
INC="-I$KVLABS_ROOT/common/include -I$LAB_DIR/include -I$LAB_DIR/simd"
WARN="-Wall -Wextra -Wshadow"

# The registry of the test program: no engines, the part's start-up function.
sh "$KVLABS_ROOT/scripts/gen-registry.sh" "$out/registry.c" "" "lsm_simd_init"

# build NAME CC FLAGS...: one static binary $out/NAME (objects in $out/NAME.o/).
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

# run LABEL CASE_RUN EXPECTED_LEVEL COMMAND...: one emulated run, its checks summed.
run() {
    label=$1 crun=$2 want=$3
    shift 3
    log=$out/$crun.log
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
if build simd_lsm_tests_aarch64 aarch64-linux-gnu-gcc -march=armv8-a; then
    ok "aarch64 cross build (aarch64-linux-gnu-gcc -march=armv8-a -static -O2)"
    A="qemu-aarch64-static -cpu cortex-a72 $out/simd_lsm_tests_aarch64"
    run "aarch64 cortex-a72" aarch64-neon neon env -u KVLABS_LSM_SIMD $A
    run "aarch64 cortex-a72 KVLABS_LSM_SIMD=portable" aarch64-portable portable \
        env KVLABS_LSM_SIMD=portable $A
else
    notok "aarch64 cross build failed"
    cases aarch64-neon none /dev/null
    cases aarch64-portable none /dev/null
fi

# ---- x86-64 -------------------------------------------------------------------
if build simd_lsm_tests_x86_64 gcc; then
    ok "x86-64 static build (gcc -static -O2)"
    for spec in qemu64:sse2 Haswell:avx2; do
        cpu=${spec%%:*} level=${spec#*:}
        run "x86-64 $cpu" "x86_64-$level" "$level" env -u KVLABS_LSM_SIMD \
            qemu-x86_64-static -cpu "$cpu" "$out/simd_lsm_tests_x86_64"
    done
else
    notok "x86-64 static build failed"
    for level in sse2 avx2; do cases "x86_64-$level" none /dev/null; done
fi

finish
