#!/bin/sh
# mutants.sh - prove the VM tests catch every mutant of a lab's kernel part.
#
# Usage: mutants.sh LAB_DIR BASE_STAGE OUT_DIR CACHE_DIR MODULE [-- KBUILD_ARGS...]
#   LAB_DIR      the lab (its kernel/mutants/NN-name.patch: unified diffs
#                against the lab's tree, as the lab's other mutants are)
#   BASE_STAGE   a staged module folder (make ktest-stage) whose .ko each
#                mutant replaces; the conformance binary is left out, the
#                ioctl tests are what the mutants target
#   CACHE_DIR    the kernel image cache (build/cache/ktest)
#   MODULE       the module's name (kvhash)
#   KTEST_CORE_FILES (environment) the shared core's .c files to link in
# For each mutant: copy kernel/ and include/ of the lab, apply the patch,
# build the module (build-module.sh, the hash core from KV_HT_CORE_DIR in
# KBUILD_ARGS), boot (run.sh, KTEST_TIMEOUT default 240 s: a mutant that
# leaves a lock held hangs, and a hang counts as caught). Prints
# "CASE <mutant>: PASS" when the VM run failed (the mutant is caught), FAIL
# when it passed or the mutant did not apply or build, then
# "N passed, N failed". Long: one boot per mutant; never in `make test`.
set -u
here=$(cd "$(dirname "$0")" && pwd)
lab=$(cd "$1" && pwd)
base=$2 out=$3 cache=$4 mod=$5
shift 5
[ $# -gt 0 ] && shift
passed=0 failed=0
for p in "$lab"/kernel/mutants/*.patch; do
    name=$(basename "$p" .patch)
    w="$out/$name"
    rm -rf "$w"
    mkdir -p "$w/tree" "$w/stage"
    cp -r "$lab/kernel" "$lab/include" "$w/tree/"
    if ! patch -s -p1 -d "$w/tree" <"$p" >"$w/patch.log" 2>&1; then
        echo "CASE $name: FAIL (does not apply)"; failed=$((failed + 1)); continue
    fi
    if ! sh "$here/build-module.sh" "$w/build" "$w/tree/kernel" ${KTEST_CORE_FILES:-} -- KV_LAB_DIR="$w/tree" "$@" \
        >"$w/build.log" 2>&1; then
        echo "CASE $name: FAIL (does not build: $w/build.log)"; failed=$((failed + 1)); continue
    fi
    cp -r "$base" "$w/stage/$mod"
    rm -f "$w/stage/$mod/conformance"
    cp "$w/build/$mod.ko" "$w/stage/$mod/$mod.ko"
    if KTEST_TIMEOUT=${KTEST_TIMEOUT:-240} sh "$here/run.sh" "$w/stage" "$cache" \
        >"$w/vm.out" 2>&1; then
        echo "CASE $name: FAIL (not caught: every VM test passed)"; failed=$((failed + 1))
    else
        echo "CASE $name: PASS (caught: $(grep -a '^FAIL\|^ktest:' "$w/vm.out" | head -n 2 | tr '\n' ' '))"
        passed=$((passed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
