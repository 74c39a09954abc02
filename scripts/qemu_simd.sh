#!/bin/sh
# qemu_simd.sh — run a lab's plain SIMD test program on CPUs this machine is
# not: aarch64 (NEON) under qemu-aarch64-static and x86-64 generations under
# qemu-x86_64-static. One scheme for every lab with SIMD paths; each lab's
# simd/tests/qemu_*.sh names its program, its sources and its CPUs and
# calls this (sprint 2's qemu_simd.sh, sprint 4's qemu_lsm_simd.sh).
#
# Usage: qemu_simd.sh [--list] --name NAME --out DIR --init FUNC --env VAR
#                     --march MARCH --funcs "F..." --x86 "CPU:LEVEL..."
#                     [--skip RUN/FUNC]... [--inc DIR]... SOURCE...
#   --name   the test binary's name: $BIN_DIR/DIR/NAME_aarch64, NAME_x86_64
#   --out    the folder under $BIN_DIR for binaries, objects and logs
#   --init   the start-up function of the program's registry
#            (scripts/gen-registry.sh, no engines)
#   --env    the variable that forces the portable paths (its aarch64 run
#            with VAR=portable expects level "portable"; every other run
#            has it unset)
#   --march  aarch64-linux-gnu-gcc's -march (armv8-a+crc)
#   --funcs  the functions graded per run (the first is "dispatch": the
#            level chosen and every check naming no other function)
#   --x86    the x86-64 runs: qemu's -cpu model and the level it must
#            select (qemu64:sse2 Haswell:avx2)
#   --skip   RUN/FUNC: a function with no case in that run (no SIMD CRC on
#            an SSE2-only CPU: x86_64-sse2/crc32c)
#   --inc    an include folder of the lab's sources (beside common/include
#            and the lab's include/)
#   SOURCE   the lab's files: its SIMD paths and the test program
#   --list   print the case names (CASE <run>/<function>) and run nothing
#
# What it does:
#   1. cross-compiles the SOURCEs, the hashing and environment part of
#      common/ and a registry with `aarch64-linux-gnu-gcc -march=MARCH
#      -static -O2`, and runs the binary under `qemu-aarch64-static -cpu
#      cortex-a72` twice: as it is (run aarch64-neon, expects level "neon")
#      and with VAR=portable (run aarch64-portable, expects "portable");
#   2. builds the same program for this x86-64 host with `gcc -static -O2`
#      and runs it under `qemu-x86_64-static -cpu CPU` once per --x86 entry
#      (run x86_64-LEVEL), so every path runs on a CPU with exactly the
#      features the dispatcher tested for.
# Each run must pass all its checks, exit 0 and report ("# active level:
# ...") the level expected for its CPU. The last line sums every run:
# "N passed, N failed"; the exit status is 1 when anything failed.
#
# Graded case by case (GRADE_SCRIPT_CASES in the lab's lab.mk,
# docs/grading.md): after each run one line per function of that run,
#   CASE <run>/<function>: PASS|FAIL
# A case passes when its run reached its summary and every check of that
# function passed (a check's function is the word after "<who>: " in its
# "ok N - " line); a crash fails all of the run's cases, a wrong level fails
# its dispatch case, a failed build every case of its architecture.
#
# Why qemu-user and a plain test: qemu-user runs one Linux program of
# another CPU, translating its instructions, with no VM to boot; the `-cpu`
# model decides which features CPUID or AT_HWCAP report, so the dispatcher
# sees exactly that CPU. Emulated timings mean nothing; these runs check
# correctness only. Criterion re-executes its binary per test, which would
# escape the emulator, so the test is a plain program.
#
# Static binaries need no aarch64 shared libraries at run time. common/'s
# files are compiled with -w (common's own build holds them to -Werror);
# the lab's with -Wall -Wextra -Wshadow -Werror.
#
# Environment (set by common/mk/rules.mk, or by the lab's script): BIN_DIR,
# LAB_DIR, KVLABS_ROOT. Needs gcc-aarch64-linux-gnu, libc6-dev-arm64-cross
# and qemu-user-static (scripts/install-deps.sh); a missing tool is a
# failure, not a skip.
set -u

list=0 name= outdir= init= envvar= march= FUNCS= X86= SKIP= INCS= SRCS=
while [ $# -gt 0 ]; do
    case $1 in
    --list) list=1 ;;
    --name) name=$2; shift ;;
    --out) outdir=$2; shift ;;
    --init) init=$2; shift ;;
    --env) envvar=$2; shift ;;
    --march) march=$2; shift ;;
    --funcs) FUNCS=$2; shift ;;
    --x86) X86=$2; shift ;;
    --skip) SKIP="$SKIP $2"; shift ;;
    --inc) INCS="$INCS -I$2"; shift ;;
    -*) echo "qemu_simd.sh: unknown option $1" >&2; exit 2 ;;
    *) SRCS="$SRCS $1" ;;
    esac
    shift
done
if [ -z "$name" ] || [ -z "$outdir" ] || [ -z "$envvar" ] || [ -z "$FUNCS" ] || [ -z "$X86" ]; then
    echo "qemu_simd.sh: --name, --out, --env, --funcs and --x86 are required" >&2
    exit 2
fi

RUNS="aarch64-neon aarch64-portable"
for spec in $X86; do RUNS="$RUNS x86_64-${spec#*:}"; done
# funcs RUN: the functions of RUN's cases (--funcs less RUN's --skip).
funcs() {
    for f in $FUNCS; do
        case " $SKIP " in *" $1/$f "*) ;; *) printf '%s ' "$f" ;; esac
    done
}
if [ "$list" = 1 ]; then
    for r in $RUNS; do
        for f in $(funcs "$r"); do echo "CASE $r/$f"; done
    done
    exit 0
fi

out=$BIN_DIR/$outdir
mkdir -p "$out"

passed=0 failed=0 n=0
ok() { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
}

# cases RUN STATE LOG: the CASE lines of RUN from LOG's "ok N - <who>:
# <function>" lines. STATE: ran (summary seen, level right), badlevel
# (dispatch fails), or none (no summary, or not built: every case fails).
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
STD="-std=c11 -D_POSIX_C_SOURCE=200809L -O2 -pthread"
INC="-I$KVLABS_ROOT/common/include -I$LAB_DIR/include $INCS"
WARN="-Wall -Wextra -Wshadow"

# The registry of the test program: no engines, the lab's start-up function.
sh "$KVLABS_ROOT/scripts/gen-registry.sh" "$out/registry.c" "" "$init"

# build NAME CC FLAGS...: one static binary $out/NAME (objects in $out/NAME.o/).
build() {
    bname=$1 cc=$2
    shift 2
    objs=$out/$bname.o
    rm -rf "$objs" && mkdir -p "$objs" || return 1
    for f in $COMMON "$out/registry.c"; do
        $cc $STD -w "$@" $INC -c "$f" -o "$objs/common_$(basename "$f" .c).o" || return 1
    done
    for f in $SRCS; do
        $cc $STD $WARN -Werror "$@" $INC -c "$f" -o "$objs/$(basename "$f" .c).o" || return 1
    done
    $cc -static -pthread "$@" "$objs"/*.o -o "$out/$bname"
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
if build "${name}_aarch64" aarch64-linux-gnu-gcc -march="$march"; then
    ok "aarch64 cross build (aarch64-linux-gnu-gcc -march=$march -static -O2)"
    A="qemu-aarch64-static -cpu cortex-a72 $out/${name}_aarch64"
    run "aarch64 cortex-a72" aarch64-neon neon env -u "$envvar" $A
    run "aarch64 cortex-a72 $envvar=portable" aarch64-portable portable \
        env "$envvar=portable" $A
else
    notok "aarch64 cross build failed"
    cases aarch64-neon none /dev/null
    cases aarch64-portable none /dev/null
fi

# ---- x86-64 -------------------------------------------------------------------
if build "${name}_x86_64" gcc; then
    ok "x86-64 static build (gcc -static -O2)"
    for spec in $X86; do
        cpu=${spec%%:*} level=${spec#*:}
        run "x86-64 $cpu" "x86_64-$level" "$level" env -u "$envvar" \
            qemu-x86_64-static -cpu "$cpu" "$out/${name}_x86_64"
    done
else
    notok "x86-64 static build failed"
    for spec in $X86; do cases "x86_64-${spec#*:}" none /dev/null; done
fi

finish
