#!/bin/bash
# memcheck.sh — run test binaries under Valgrind and judge them by their logs.
#
# Usage: memcheck.sh OUTDIR "CONF_CONFIGS" "CRITERION_BINS" "PLAIN_BINS" [CONF_BIN]
#
# Why the logs: Criterion re-executes itself for every test, so Valgrind
# must follow children (--trace-children=yes), and an error or a leak found
# in a child is reported only in that child's log while the run still exits
# 0 (seen with Criterion 2.4.1). So every process writes its own log
# (--log-file=...%p), and this script reads them all: any "ERROR SUMMARY"
# above 0 or any "definitely lost" above 0 bytes fails the binary. Tests run
# one at a time (--jobs 1) and with no short timeouts, since a Criterion run
# with --log-file and a 1-second timeout was seen to hang.
#
# The conformance binary runs once per configuration (KV_CONF_ENGINE).
# Prints one line per run and a closing "N passed, N failed".
set -u
out=$1 configs=$2 crit=$3 plain=$4 conf=${5:-}
rm -rf "$out"; mkdir -p "$out"
pass=0 fail=0
VG=(valgrind --trace-children=yes --leak-check=full --show-leak-kinds=definite
    --errors-for-leak-kinds=definite --track-fds=no --num-callers=30)

judge() { # name logprefix
    local name=$1 pfx=$2 errs=0 lost=0 n=0 f e l
    for f in "$pfx".*.log; do
        [ -e "$f" ] || continue
        n=$((n + 1))
        e=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$f" | tr -d , | tail -n 1)
        l=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tr -d , | tail -n 1)
        errs=$((errs + ${e:-0})); lost=$((lost + ${l:-0}))
        if [ "${e:-0}" != 0 ] || [ "${l:-0}" != 0 ]; then
            echo "memcheck: --- $f ---"; grep -E '^==[0-9]+== ' "$f" | head -n 60
        fi
    done
    if [ "$n" -gt 0 ] && [ "$errs" = 0 ] && [ "$lost" = 0 ]; then
        echo "memcheck: $name: $n processes, 0 errors, 0 bytes definitely lost"
        pass=$((pass + 1))
    else
        echo "memcheck: $name: $n processes, $errs errors, $lost bytes definitely lost: FAILED"
        fail=$((fail + 1))
    fi
}

run() { # name env... -- cmd...
    local name=$1; shift
    echo "memcheck: running $name"
    env "$@" >"$out/$name.out" 2>&1 || echo "memcheck: $name exited non-zero (see $out/$name.out)"
    grep -aE 'Synthesis|passed, ' "$out/$name.out" | tail -n 1
}

for b in $crit; do
    n=$(basename "$b")
    run "$n" "${VG[@]}" --log-file="$out/$n.%p.log" "$b" --jobs 1 --timeout 600
    judge "$n" "$out/$n"
done
for b in $plain; do
    n=$(basename "$b")
    run "$n" "${VG[@]}" --log-file="$out/$n.%p.log" "$b"
    judge "$n" "$out/$n"
done
if [ -n "$conf" ]; then
    for c in $configs; do
        n="conformance.$(echo "$c" | tr -c 'A-Za-z0-9_.\n-' '_')"
        run "$n" KV_CONF_ENGINE="$c" KV_CONF_SCALE=valgrind "${VG[@]}" --log-file="$out/$n.%p.log" \
            "$conf" --jobs 1 --timeout 600
        judge "$n" "$out/$n"
    done
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
