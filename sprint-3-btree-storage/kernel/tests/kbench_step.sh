# kbench_step.sh - the in-VM benchmark (make ktest-bench; packed as
# /ktest/kvbtree/step.sh in place of ktest_step.sh): kvbench runs engine
# kbtree (the B+ tree in the kernel, one ioctl per operation, SCAN batches
# for range scans) beside engine btree (the same core in user space), in one
# process run inside the same VM, so their ratio is measured under the same
# emulated CPU. Never in make test. KTEST_BENCH_N (kernel command line) sets
# the number of keys, KTEST_BENCH_WORKLOADS the workloads.
STEP=kbench
. /lib.sh
d=$(dirname "$0")
check insmod insmod "$d/kvbtree.ko"
mkdir -p /tmp/kb
"$d/kvbench" -n "${KTEST_BENCH_N:-50000}" --engines kbtree,btree \
    --workloads "${KTEST_BENCH_WORKLOADS:-fillrandom,readrandom,scan}" --repeats 1 --out /tmp/kb 2>&1
rc=$?
[ $rc = 0 ] && ok kvbench || fail kvbench "exit $rc"
check rmmod rmmod kvbtree
step_done
