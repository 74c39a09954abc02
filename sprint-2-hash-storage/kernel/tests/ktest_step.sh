# ktest_step.sh - the kvhash module's step in the test VM (packed as
# /ktest/kvhash/step.sh; sourced helpers from /lib.sh, see scripts/ktest/).
#
# Two load cycles: load with the defaults (a table per open file), run the
# ioctl tests (ktest_kvhash) and the conformance suite on engine kdev,
# unload; load again with shared=1, run the quick cases and the shared-table
# case, unload. Every insmod and rmmod is a case of its own.
STEP=kvhash
. /lib.sh
d=$(dirname "$0")
check load1/insmod insmod "$d/kvhash.ko"
check load1/device_node test -c /dev/kvhash
counts ioctl "$d/ktest_kvhash"
if [ -x "$d/conformance" ]; then
    # the conformance suite (built on the Criterion shim, scripts/ktest/crshim)
    # on engine kdev; KV_CONF_SCALE=valgrind (a tenth of the sizes) keeps it
    # within the VM's budget under TCG. KTEST_CONF_FILTER (a glob, from the
    # kernel command line: run.sh's KTEST_APPEND) runs a subset.
    counts conformance env KV_CONF_ENGINE=kdev KV_CONF_SCALE=valgrind \
        "$d/conformance" --jobs 2 ${KTEST_CONF_FILTER:+--filter "$KTEST_CONF_FILTER"}
fi
check load1/rmmod rmmod kvhash
check load1/device_gone test ! -e /dev/kvhash
check load2/insmod_shared insmod "$d/kvhash.ko" shared=1
counts ioctl_shared "$d/ktest_kvhash" --quick
check load2/rmmod rmmod kvhash
check load3/bad_param_refused sh -c "! insmod $d/kvhash.ko strategy=9"
step_done
