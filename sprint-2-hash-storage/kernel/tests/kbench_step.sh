# kbench_step.sh - the in-VM benchmark (make ktest-bench; packed as
# /ktest/kvhash/step.sh in place of ktest_step.sh): kvbench runs engine kdev
# (the hash table in the kernel, one ioctl per operation) beside engine hash
# (the same core in user space), in one process run inside the same VM, so
# their ratio is measured under the same emulated CPU. Never in make test.
# KTEST_BENCH_N (kernel command line) sets the number of keys.
STEP=kbench
. /lib.sh
d=$(dirname "$0")
check insmod insmod "$d/kvhash.ko"
mkdir -p /tmp/kb
"$d/kvbench" -n "${KTEST_BENCH_N:-50000}" --engines kdev,hash:strategy=swiss \
    --workloads "${KTEST_BENCH_WORKLOADS:-fillrandom,readrandom}" --repeats 1 --out /tmp/kb 2>&1
rc=$?
[ $rc = 0 ] && ok kvbench || fail kvbench "exit $rc"
check rmmod rmmod kvhash
step_done
