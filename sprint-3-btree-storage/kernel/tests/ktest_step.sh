# ktest_step.sh - the kvbtree module's step in the test VM (packed as
# /ktest/kvbtree/step.sh; sourced helpers from /lib.sh, see scripts/ktest/).
#
# Two load cycles: load with the defaults (order 64, a tree per open file),
# run the ioctl and SCAN tests (ktest_kvbtree) and the conformance suite on
# engine kbtree, unload; load again with shared=1 order=3 (every few keys
# split or merge), run the quick cases and the shared-tree case, unload.
# Then a bad parameter must be refused. Every insmod and rmmod is a case.
STEP=kvbtree
. /lib.sh
d=$(dirname "$0")
check load1/insmod insmod "$d/kvbtree.ko"
check load1/device_node test -c /dev/kvbtree
counts ioctl "$d/ktest_kvbtree"
if [ -x "$d/conformance" ]; then
    # the conformance suite (built on the Criterion shim, scripts/ktest/crshim)
    # on engine kbtree; KV_CONF_SCALE=valgrind (a tenth of the sizes) keeps it
    # within the VM's budget under TCG. KTEST_CONF_FILTER (a glob, from the
    # kernel command line: run.sh's KTEST_APPEND) runs a subset.
    counts conformance env KV_CONF_ENGINE=kbtree KV_CONF_SCALE=valgrind \
        "$d/conformance" --jobs 2 ${KTEST_CONF_FILTER:+--filter "$KTEST_CONF_FILTER"}
fi
check load1/rmmod rmmod kvbtree
check load1/device_gone test ! -e /dev/kvbtree
check load2/insmod_shared insmod "$d/kvbtree.ko" shared=1 order=3
counts ioctl_shared "$d/ktest_kvbtree" --quick
check load2/rmmod rmmod kvbtree
check load3/bad_param_refused sh -c "! insmod $d/kvbtree.ko order=2"
step_done
