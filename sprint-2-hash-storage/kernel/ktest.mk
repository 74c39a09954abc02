# kernel/ktest.mk - the kernel part's make targets (included by the lab
# Makefile after rules.mk); the rules themselves are the harness's
# (scripts/ktest/module.mk, shared by every lab with a kernel module; the
# kernel image lives in build/cache/, which `make clean` keeps).
#
#   make ktest        boot a VM with this lab's module alone and run its tests
#   make ktest-stage KTEST_STAGE=dir
#                     build the module, its test programs and its step script
#                     into dir/kvhash/ (the top-level `make test` stages every
#                     lab's modules into one dir and boots once)
#   make ktest-build  build the module only (Kbuild, W=1), into
#                     build/ktest/<lab>/kvhash/
#   make ktest-sparse the same build checked by sparse (C=2)
#   make ktest-bench  kvbench on kdev beside hash in one VM (release build of
#                     bench/; KTEST_BENCH_N keys, default 50000; not in make test)
#   make ktest-mutants  one boot per mutant of kernel/vm-mutants/: each must be
#                     caught by the VM tests (long: not in make test)
#
# KV_HT_CORE_DIR: where the hash core's sources (ht_core.c, ht_resize.c, the
# four strategies) and their header hashtable_int.h are (the hashtable/ part); the variable to repoint if they
# move again.
KV_HT_CORE_DIR  ?= $(LAB_DIR)/hashtable
KMOD            := kvhash
KMOD_CORE       := $(addprefix $(KV_HT_CORE_DIR)/,ht_core.c ht_arena.c ht_resize.c ht_chaining.c \
                   ht_linear.c ht_robinhood.c ht_swiss.c)
KMOD_DEPS       := $(LAB_DIR)/include/uapi/kvhash.h $(LAB_DIR)/include/ht.h \
                   $(LAB_DIR)/include/ht_port.h $(KV_HT_CORE_DIR)/hashtable_int.h
KBUILD_ARGS     := KV_HT_CORE_DIR=$(KV_HT_CORE_DIR) KV_LAB_DIR=$(LAB_DIR) W=1
KTEST_PROGS     := ktest_kvhash
KTEST_PROG_DEPS := $(LAB_DIR)/include/uapi/kvhash.h
KBENCH_STEP     := $(LAB_DIR)/kernel/tests/kbench_step.sh
include $(ROOT)/scripts/ktest/module.mk
