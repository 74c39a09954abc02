#!/bin/busybox sh
# init.sh - PID 1 of the test VM (packed as /init by run.sh).
#
# Mounts the pseudo file systems, runs every module's step script
# (/ktest/*/step.sh, in name order: each loads its module, tests it and
# unloads it; the uptime before and after each is printed, so a module's
# share of the VM time is known), then checks the kernel itself: the taint flags (only O, an
# out-of-tree module, and E, an unsigned one, are allowed) and dmesg
# (BUG, WARNING, Oops, "Redzone" from slub_debug, a lockup or a
# "Call Trace" fail the run). Prints one line the host parses:
#   KTEST RESULT: N passed, N failed
# and powers off. A panic (oops=panic panic=-1) ends the VM before the
# line is printed, which the host counts as a failure.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mkdir -p /dev/shm && mount -t tmpfs shm /dev/shm
[ -d /sys/kernel/debug ] && mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
export PATH=/bin:/sbin:/usr/bin TMPDIR=/tmp HOME=/tmp
echo 4 >/proc/sys/kernel/printk
P=0
F=0
t0=$(cut -d' ' -f1 /proc/uptime)
for s in /ktest/*/step.sh; do
    [ -f "$s" ] || continue
    ts=$(cut -d' ' -f1 /proc/uptime)
    sh "$s" 2>&1 | tee /tmp/step.out
    echo "ktest: $(basename "$(dirname "$s")") took ${ts}s..$(cut -d' ' -f1 /proc/uptime)s of uptime"
    line=$(grep '^STEP ' /tmp/step.out | tail -n 1)
    if [ -z "$line" ]; then
        echo "FAIL $s: no STEP line"
        F=$((F + 1))
        continue
    fi
    p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    P=$((P + p))
    F=$((F + f))
done
taint=$(cat /proc/sys/kernel/tainted)
# O = 4096 (out-of-tree), E = 8192 (unsigned module): allowed
if [ $((taint & ~(4096 | 8192))) -eq 0 ]; then
    P=$((P + 1)); echo "ok   kernel/taint_only_O_E ($taint)"
else
    F=$((F + 1)); echo "FAIL kernel/taint_only_O_E: tainted=$taint"
fi
if dmesg | grep -E 'BUG|WARNING|Oops|Redzone|Call Trace|soft lockup|hung_task' >/tmp/bad.txt; then
    F=$((F + 1)); echo "FAIL kernel/dmesg_clean:"; cat /tmp/bad.txt | head -n 40
    dmesg | tail -n 60
else
    P=$((P + 1)); echo "ok   kernel/dmesg_clean"
fi
t1=$(cut -d' ' -f1 /proc/uptime)
echo "ktest: tests took ${t0}s..${t1}s of uptime"
echo "KTEST RESULT: $P passed, $F failed"
poweroff -f
