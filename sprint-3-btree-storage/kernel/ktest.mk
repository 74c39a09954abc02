# kernel/ktest.mk - the kernel part's make targets (included by the lab
# Makefile after rules.mk); the rules themselves are the harness's
# (scripts/ktest/module.mk, shared by every lab with a kernel module).
#
#   make ktest          boot a VM with kvbtree.ko alone and run its tests
#   make ktest-stage KTEST_STAGE=dir
#                       stage the module, its tests and its step script into
#                       dir/kvbtree/ (the top-level make test stages every
#                       lab's module into one dir and boots once)
#   make ktest-build    build the module only (Kbuild, W=1)
#   make ktest-sparse   the same build checked by sparse (C=2)
#   make ktest-mutants  one boot per mutant of kernel/vm-mutants/ (long)
#   make ktest-bench    kvbench on kbtree beside btree in one VM (not in make test)
#
# KV_BPT_CORE_DIR: where the B+ tree core's sources and btree_int.h are (the
# btree/ part); the variable to repoint if they move.
KV_BPT_CORE_DIR ?= $(LAB_DIR)/btree
KMOD            := kvbtree
KMOD_CORE       := $(addprefix $(KV_BPT_CORE_DIR)/,btree_core.c btree_operations.c \
                   btree_bulk.c btree_check.c btree_dot.c)
KMOD_DEPS       := $(KV_BPT_CORE_DIR)/btree_int.h $(LAB_DIR)/include/bpt.h \
                   $(LAB_DIR)/include/bpt_port.h $(LAB_DIR)/include/uapi/kvbtree.h
KBUILD_ARGS     := KV_BPT_CORE_DIR=$(KV_BPT_CORE_DIR) KV_LAB_DIR=$(LAB_DIR) W=1
KTEST_PROGS     := ktest_kvbtree
KTEST_PROG_LIBS := $(LAB_DIR)/kernel/tests/ktest_scan.c
KTEST_PROG_DEPS := $(LAB_DIR)/include/uapi/kvbtree.h $(wildcard $(LAB_DIR)/kernel/tests/*.h)
KBENCH_STEP     := $(LAB_DIR)/kernel/tests/kbench_step.sh
include $(ROOT)/scripts/ktest/module.mk
