#!/bin/sh
# mutants.sh - prove the VM tests catch every mutant of a lab's kernel part.
#
# Usage: mutants.sh LAB_DIR BASE_STAGE OUT_DIR CACHE_DIR MODULE [-- KBUILD_ARGS...]
#   LAB_DIR      the lab (its kernel/vm-mutants/NN-name.patch: unified diffs
#                against the lab's tree, as the lab's other mutants are)
#   BASE_STAGE   a staged module folder (make ktest-stage) whose .ko each
#                mutant replaces; the conformance binary is left out, the
#                ioctl tests are what the mutants target
#   CACHE_DIR    the kernel image cache (build/cache/ktest)
#   MODULE       the module's name (kvhash)
#   KTEST_CORE_FILES (environment) the shared core's .c files to link in
#   KTEST_MUTANTS (environment) a glob of mutant names to run (default: all)
# For each mutant: copy the lab's kernel/ (mtimes kept) and the devices'
# shared code common/kernel/ (kvdev.h, kvdev_mem.h) into one tree, apply
# the patch there (mutants touch kernel/ or common/kernel/: a patch names
# kernel/hash_device.c or common/kernel/kvdev.h), build the module against
# that tree's common/kernel/ (copied, with fresh mtimes, to OUT_DIR/kdev/,
# the KV_KDEV_DIR of every mutant: the same command line, and the part's
# objects that include it always rebuild) (build-module.sh, the hash
# core from KTEST_CORE_FILES, include/ from KV_LAB_DIR in KBUILD_ARGS) in
# one build folder shared by all mutants, so only the part's own objects
# are rebuilt after the first (Kbuild rebuilds an object when its command
# line changes, and the folder is part of it), then boot (run.sh, KTEST_TIMEOUT default 240 s: a mutant that
# leaves a lock held hangs, and a hang counts as caught, once the VM has
# loaded the module: a boot that never got there is retried once). Prints
# "CASE <mutant>: PASS" when the VM run failed (the mutant is caught), FAIL
# when it passed or the mutant did not apply or build, then
# "N passed, N failed". Long: one boot per mutant; never in `make test`.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lab=$(cd "$1" && pwd)
base=$2 out=$3 cache=$4 mod=$5
shift 5
mkdir -p "$out"
out=$(cd "$out" && pwd) # KV_KDEV_DIR below must be absolute (Kbuild runs elsewhere)
[ $# -gt 0 ] && shift
passed=0 failed=0
for p in "$lab"/kernel/vm-mutants/${KTEST_MUTANTS:-*}.patch; do
    name=$(basename "$p" .patch)
    w="$out/$name"
    rm -rf "$w"
    mkdir -p "$w/tree/common" "$w/stage"
    cp -rp "$lab/kernel" "$w/tree/"
    cp -rp "$root/common/kernel" "$w/tree/common/"
    if ! patch -s -p1 -d "$w/tree" <"$p" >"$w/patch.log" 2>&1; then
        echo "CASE $name: FAIL (does not apply)"; failed=$((failed + 1)); continue
    fi
    # the part's own objects always rebuild (the previous mutant's are stale)
    for c in "$w/tree/kernel"/*.c; do rm -f "$out/build/$(basename "$c" .c).o"; done
    rm -f "$out/build/$mod.ko"
    rm -rf "$out/kdev"
    mkdir -p "$out/kdev"
    cp "$w/tree/common/kernel"/* "$out/kdev/"
    if ! sh "$here/build-module.sh" "$out/build" "$w/tree/kernel" ${KTEST_CORE_FILES:-} -- "$@" \
        KV_KDEV_DIR="$out/kdev" >"$w/build.log" 2>&1; then
        echo "CASE $name: FAIL (does not build: $w/build.log)"; failed=$((failed + 1)); continue
    fi
    cp -r "$base" "$w/stage/$mod"
    rm -f "$w/stage/$mod/conformance"
    cp "$out/build/$mod.ko" "$w/stage/$mod/$mod.ko"
    # A boot that never reached the tests proves nothing: boot again (once).
    # (No ^ in the greps: the first serial line comes glued to firmware codes.)
    for try in 1 2; do
        KTEST_TIMEOUT=${KTEST_TIMEOUT:-240} sh "$here/run.sh" "$w/stage" "$cache" >"$w/vm.out" 2>&1
        vm=$?
        grep -aq "ok   $mod/load1/insmod" "$w/stage.log" && break
    done
    if ! grep -aq "ok   $mod/load1/insmod" "$w/stage.log"; then
        echo "CASE $name: FAIL (the VM did not reach the tests: $w/stage.log)"; failed=$((failed + 1))
    elif [ "$vm" = 0 ]; then
        echo "CASE $name: FAIL (not caught: every VM test passed)"; failed=$((failed + 1))
    else
        echo "CASE $name: PASS (caught: $(grep -a '^FAIL\|^ktest:' "$w/vm.out" | head -n 2 | tr '\n' ' '))"
        passed=$((passed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
