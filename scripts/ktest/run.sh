#!/bin/sh
# run.sh - boot the test VM once with every staged module and print its result.
#
# Usage: run.sh STAGE_DIR [CACHE_DIR]
#   STAGE_DIR holds one folder per module (a lab's `make ktest-stage` fills
#   it: the .ko, static or packed test programs, step.sh). CACHE_DIR
#   (default: STAGE_DIR/../../cache/ktest, i.e. build/cache/ktest) keeps the
#   kernel image between runs.
#
# How it works:
#   1. fetch-kernel.sh puts vmlinux-<ver> in the cache (apt, once);
#   2. the initramfs gets busybox (static), init.sh as /init, lib.sh, the
#      stage as /ktest/, and every shared library the staged dynamic programs
#      need (ldd: the Criterion-based conformance binary and its libraries,
#      the dynamic loader included), packed with cpio;
#   3. qemu-system-x86_64 -accel tcg (TCG, never KVM: a nested /dev/kvm can
#      hang the guest) boots it under `timeout` (KTEST_TIMEOUT, default 240 s
#      plus 200 s per staged module: 440 s for one, 640 s for two; a loaded host (load 20) slows TCG several times)
#      with console=ttyS0 panic=-1 oops=panic slub_debug=FZPU: an oops ends
#      the run at once, slab overruns are reported; no_timer_check: under a
#      loaded host the emulated timer can fail the kernel's IO-APIC timer
#      check, which panics at boot (seen here at load 30);
#   4. the serial log (STAGE_DIR/../vm.log) is cleaned of \r, and the
#      "KTEST RESULT: N passed, N failed" line becomes this script's closing
#      line "ktest: N passed, N failed". No line (panic, hang): 1 failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
stage=$(cd "$1" && pwd)
cache=${2:-$stage/../../cache/ktest}
work="$stage.vm"
log="$stage.log"
fail() { echo "ktest: $*"; echo "ktest: 0 passed, 1 failed"; exit 1; }

for tool in qemu-system-x86_64 cpio busybox; do
    command -v $tool >/dev/null 2>&1 || fail "$tool missing: run scripts/install-deps.sh"
done
img=$(sh "$here/fetch-kernel.sh" "$cache") || fail "no kernel image"

rm -rf "$work"
mkdir -p "$work/root/bin" "$work/root/proc" "$work/root/sys" "$work/root/dev" "$work/root/tmp"
cp "$(command -v busybox)" "$work/root/bin/busybox"
cp "$here/init.sh" "$work/root/init"
cp "$here/lib.sh" "$work/root/lib.sh"
chmod +x "$work/root/init"
cp -a "$stage" "$work/root/ktest"
# shared libraries of every dynamic program in the stage
for f in $(find "$work/root/ktest" -type f -perm -u+x); do
    ldd "$f" 2>/dev/null | awk '/=>/ { print $3 } /^[ \t]*\// { print $1 }'
done | sort -u | while read -r lib; do
    [ -f "$lib" ] || continue
    mkdir -p "$work/root$(dirname "$lib")"
    cp -L "$lib" "$work/root$lib"
done
# the loader's usual paths, for binaries that ask for /lib64/ld-linux...
[ -d "$work/root/usr/lib64" ] && [ ! -e "$work/root/lib64" ] && ln -s usr/lib64 "$work/root/lib64"
[ -d "$work/root/usr/lib" ] && [ ! -e "$work/root/lib" ] && ln -s usr/lib "$work/root/lib"
# debug info is not needed in the VM: strip it from the copies (a smaller
# initramfs unpacks faster under emulation; symbols stay for backtraces)
find "$work/root/ktest" "$work/root/usr" "$work/root/lib" "$work/root/lib64" -type f \
    \( -name '*.so*' -o -name '*.ko' -o -perm -u+x \) 2>/dev/null |
    while read -r f; do strip --strip-debug "$f" 2>/dev/null || true; done
(cd "$work/root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$work/initramfs.gz" ||
    fail "cpio failed"

# the default budget grows with the staged modules (each step is one
# module's tests): 240 s for the boot and the checks, 200 s per module
nmods=$(ls -d "$stage"/*/ 2>/dev/null | wc -l)
timeout --kill-after=10 "${KTEST_TIMEOUT:-$((240 + 200 * nmods))}" \
    qemu-system-x86_64 -accel tcg -M q35 -smp 2 -m 512 -nographic -no-reboot -nic none \
    -kernel "$img" -initrd "$work/initramfs.gz" \
    -append "console=ttyS0 panic=-1 oops=panic slub_debug=FZPU quiet no_timer_check ${KTEST_APPEND:-}" \
    </dev/null 2>&1 | tr -d '\r' >"$log"
rc=$?
grep -av '^STEP ' "$log" | grep -aE '^(ok   |FAIL |\[FAIL\] |ktest: |\[ *[0-9.]+\] (kvhash|kvbtree|BUG|WARNING|Oops))' || true
line=$(sed -n 's/.*KTEST RESULT: \([0-9]* passed, [0-9]* failed\).*/\1/p' "$log" | tail -n 1)
[ -n "$line" ] || { tail -n 40 "$log"; fail "no result line from the VM (exit $rc; log: $log)"; }
echo "ktest: $line"
case $line in *" 0 failed") exit 0 ;; *) exit 1 ;; esac
