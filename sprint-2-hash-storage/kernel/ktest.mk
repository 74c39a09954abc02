# kernel/ktest.mk - the kernel part's make targets (included by the lab
# Makefile after rules.mk). The harness is scripts/ktest/ (DESIGN §1:
# the kernel image lives in build/cache/, which `make clean` keeps).
#
#   make ktest        boot a VM with this lab's module alone and run its tests
#   make ktest-stage KTEST_STAGE=dir
#                     build the module, its test programs and its step script
#                     into dir/kvhash/ (the top-level `make test` stages every
#                     lab's modules into one dir and boots once)
#   make ktest-build  build the module only (Kbuild, W=1), into
#                     build/ktest/<lab>/kvhash/
#   make ktest-sparse the same build checked by sparse (C=2)
#
# KV_HT_CORE_DIR: where the hash core's sources (ht_core.c, ht_resize.c, the
# four strategies) and their header hashtable_int.h are (the hashtable/ part); the variable to repoint if they
# move again.
KV_HT_CORE_DIR ?= $(LAB_DIR)/hashtable
KV_HT_CORE     := $(addprefix $(KV_HT_CORE_DIR)/,ht_core.c ht_resize.c ht_chaining.c \
                  ht_linear.c ht_robinhood.c ht_swiss.c)
KTEST_DIR      := $(ROOT)/scripts/ktest
KMOD_OUT       := $(BUILD)/ktest/$(LAB)/kvhash
KTEST_STAGE    ?= $(BUILD)/ktest/stage-$(LAB)
KTEST_PROG     := $(BUILD)/ktest/$(LAB)/ktest_kvhash
KMOD_SRCS      := $(filter-out %/kdev_engine.c,$(wildcard $(LAB_DIR)/kernel/*.c)) \
                  $(wildcard $(LAB_DIR)/kernel/*.h $(LAB_DIR)/kernel/Kbuild) \
                  $(LAB_DIR)/include/uapi/kvhash.h $(LAB_DIR)/include/ht.h \
                  $(LAB_DIR)/include/ht_port.h $(KV_HT_CORE) $(KV_HT_CORE_DIR)/hashtable_int.h
KBUILD_ARGS    := KV_HT_CORE_DIR=$(KV_HT_CORE_DIR) KV_LAB_DIR=$(LAB_DIR) W=1

#   make ktest-bench  kvbench on kdev beside hash in one VM (release build of
#                     bench/; KTEST_BENCH_N keys, default 50000; not in make test)
#   make ktest-mutants  one boot per mutant of kernel/vm-mutants/: each must be
#                     caught by the VM tests (long: not in make test)
.PHONY: ktest ktest-stage ktest-build ktest-sparse ktest-mutants ktest-bench
$(KMOD_OUT)/kvhash.ko: $(KMOD_SRCS)
	@echo "  KBUILD  $(LAB)/kernel/kvhash.ko"
	$(Q)sh $(KTEST_DIR)/build-module.sh $(KMOD_OUT) $(LAB_DIR)/kernel $(KV_HT_CORE) -- \
	  $(KBUILD_ARGS) >/dev/null
ktest-build: $(KMOD_OUT)/kvhash.ko
ktest-sparse:
	rm -rf $(KMOD_OUT).sparse
	sh $(KTEST_DIR)/build-module.sh $(KMOD_OUT).sparse $(LAB_DIR)/kernel $(KV_HT_CORE) -- \
	  $(KBUILD_ARGS) C=2

# the ioctl tests: a static program, no kvlabs library
$(KTEST_PROG): $(LAB_DIR)/kernel/tests/ktest_kvhash.c $(LAB_DIR)/include/uapi/kvhash.h
	@mkdir -p $(@D)
	@echo "  CC      $(LAB)/kernel/tests/ktest_kvhash.c (static)"
	$(Q)$(CC) -std=c11 $(WARN) -O2 -static -pthread -I$(LAB_DIR)/include $< -o $@

# The conformance suite for the VM: the same sources, built against the
# Criterion-compatible shim of scripts/ktest/crshim/ (Criterion's own runner
# does not report inside the VM: see crshim/criterion/criterion.h), linked
# with this variant's libraries (dynamic: run.sh packs them, and the ASan
# runtime, into the initramfs). It runs on engine kdev.
KCONF_BIN  := $(BUILD)/ktest/$(LAB)/$(VARIANT)/ktest_conformance
KCONF_OBJS := $(patsubst $(ROOT)/common/tests/conformance/%.c,$(OBJDIR)/ktest-conf/%.o,\
              $(wildcard $(ROOT)/common/tests/conformance/*.c)) $(OBJDIR)/ktest-conf/crshim.o
KCONF_CFLAGS = -I$(KTEST_DIR)/crshim $(ALL_CFLAGS)
$(OBJDIR)/ktest-conf/%.o: $(ROOT)/common/tests/conformance/%.c
	@mkdir -p $(@D)
	@echo "  CC      $(subst $(ROOT)/,,$<) (crshim)"
	$(Q)$(CC) $(KCONF_CFLAGS) -c $< -o $@
$(OBJDIR)/ktest-conf/crshim.o: $(KTEST_DIR)/crshim/crshim.c $(KTEST_DIR)/crshim/criterion/criterion.h
	@mkdir -p $(@D)
	@echo "  CC      scripts/ktest/crshim/crshim.c"
	$(Q)$(CC) $(KCONF_CFLAGS) -c $< -o $@
$(KCONF_BIN): $(KCONF_OBJS) $(LINK_DEPS)
	@mkdir -p $(@D)
	@echo "  LD      $(subst $(BUILD)/,,$@)"
	$(Q)$(CC) $(LDFLAGS_ALL) $(KCONF_OBJS) $(REG_OBJ) $(LDLIBS_ALL) -o $@
.PHONY: ktest-conformance
ktest-conformance: $(KCONF_BIN)

ktest-stage: $(KMOD_OUT)/kvhash.ko $(KTEST_PROG) $(KCONF_BIN)
	@mkdir -p $(KTEST_STAGE)/kvhash
	@cp $(KMOD_OUT)/kvhash.ko $(KTEST_PROG) $(KTEST_STAGE)/kvhash/
	@cp $(KCONF_BIN) $(KTEST_STAGE)/kvhash/conformance
	@cp $(LAB_DIR)/kernel/tests/ktest_step.sh $(KTEST_STAGE)/kvhash/step.sh

ktest:
	@rm -rf $(KTEST_STAGE); $(MAKE) --no-print-directory ktest-stage KTEST_STAGE=$(KTEST_STAGE)
	@mkdir -p $(RESDIR)
	@$(RUN_TEST) plain $(RESDIR)/ktest.res sh $(KTEST_DIR)/run.sh $(KTEST_STAGE) $(BUILD)/cache/ktest

ktest-mutants: ktest-stage
	@KTEST_CORE_FILES="$(KV_HT_CORE)" TEST_TIMEOUT=7200 $(RUN_TEST) plain $(RESDIR)/ktest-mutants.res \
	  sh $(KTEST_DIR)/mutants.sh $(LAB_DIR) $(KTEST_STAGE)/kvhash $(BUILD)/ktest/mutants-$(LAB) \
	  $(BUILD)/cache/ktest kvhash -- $(KBUILD_ARGS)

KBENCH_STAGE := $(BUILD)/ktest/bench-$(LAB)
ktest-bench: $(KMOD_OUT)/kvhash.ko
	@$(MAKE) --no-print-directory -C $(ROOT)/bench VARIANT=release BUILD=$(BUILD) \
	  $(BUILD)/release/bin/bench/kvbench
	@rm -rf $(KBENCH_STAGE); mkdir -p $(KBENCH_STAGE)/kvhash
	@cp $(KMOD_OUT)/kvhash.ko $(BUILD)/release/bin/bench/kvbench $(KBENCH_STAGE)/kvhash/
	@cp $(LAB_DIR)/kernel/tests/kbench_step.sh $(KBENCH_STAGE)/kvhash/step.sh
	@KTEST_TIMEOUT=$${KTEST_TIMEOUT:-1200} \
	  KTEST_APPEND="$${KTEST_BENCH_N:+KTEST_BENCH_N=$$KTEST_BENCH_N}" \
	  sh $(KTEST_DIR)/run.sh $(KBENCH_STAGE) $(BUILD)/cache/ktest; \
	  grep -a -A40 'engine\|kdev\|ops/s' $(KBENCH_STAGE).log | grep -av '^\[' | head -n 80
