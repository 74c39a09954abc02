# scripts/ktest/module.mk - the make rules of one lab's kernel module and its
# VM tests, shared by every lab's kernel/ktest.mk (which sets the variables
# below and includes this file after rules.mk). The top-level `make ktest`
# (and make test's ktest job) runs `ktest-stage` in every lab that has a
# kernel/ktest.mk into one stage folder and boots once; `make -C <lab> ktest`
# boots with this lab's module alone.
#
# Variables the lab sets (before the include):
#   KMOD            the module's name (kvbtree): kernel/Kbuild builds KMOD.ko,
#                   the stage folder is KTEST_STAGE/KMOD/
#   KMOD_CORE       the shared core's .c files the module links (symlinked
#                   into the build folder by build-module.sh)
#   KMOD_DEPS       other files whose change rebuilds the module (headers)
#   KBUILD_ARGS     make variables for Kbuild (the core's folder, W=1)
#   KTEST_PROGS     the ioctl test programs: kernel/tests/<name>.c each, built
#                   static (no kvlabs library), staged as KMOD/<name>
#   KTEST_PROG_DEPS headers the test programs include (besides the
#                   harness's own kdevtest.h, on their include path: the
#                   helpers and common cases of every device's tests)
#   KTEST_PROG_LIBS other kernel/tests/*.c files linked into every test program
#   KBENCH_STEP     (optional) the step script of `make ktest-bench`
#
# Targets: ktest ktest-stage ktest-build ktest-sparse ktest-mutants
# ktest-conformance (and ktest-bench when KBENCH_STEP is set). The stage
# folder of the module holds KMOD.ko, the test programs, `conformance` (the
# conformance suite built against the Criterion shim crshim/, with this
# variant's libraries: the lab's registry lists the module's engine) and
# step.sh (kernel/tests/ktest_step.sh), which init.sh runs.
KTEST_DIR      := $(ROOT)/scripts/ktest
# common/kernel/: the code every device module shares (kvdev.h, kvdev_mem.h);
# Kbuild finds it through KV_KDEV_DIR
KDEV_DIR       := $(ROOT)/common/kernel
KBUILD_ARGS    += KV_KDEV_DIR=$(KDEV_DIR)
# the lab's engine over the device (kernel/<name>_engine.c, in the lab
# library) includes common/kernel/kvdev_client.h
$(OBJDIR)/kernel/%_engine.o: EXTRA_CFLAGS += -I$(KDEV_DIR)
KMOD_OUT       := $(BUILD)/ktest/$(LAB)/$(KMOD)
KTEST_STAGE    ?= $(BUILD)/ktest/stage-$(LAB)
KTEST_PROG_BIN := $(addprefix $(BUILD)/ktest/$(LAB)/,$(KTEST_PROGS))
KMOD_SRCS      := $(filter-out %_engine.c,$(wildcard $(LAB_DIR)/kernel/*.c)) \
                  $(wildcard $(LAB_DIR)/kernel/*.h $(LAB_DIR)/kernel/Kbuild) \
                  $(KMOD_CORE) $(KMOD_DEPS) $(wildcard $(KDEV_DIR)/*.h)

.PHONY: ktest ktest-stage ktest-build ktest-sparse ktest-mutants ktest-conformance
$(KMOD_OUT)/$(KMOD).ko: $(KMOD_SRCS)
	@echo "  KBUILD  $(LAB)/kernel/$(KMOD).ko"
	$(Q)sh $(KTEST_DIR)/build-module.sh $(KMOD_OUT) $(LAB_DIR)/kernel $(KMOD_CORE) -- \
	  $(KBUILD_ARGS) >/dev/null
ktest-build: $(KMOD_OUT)/$(KMOD).ko
ktest-sparse:
	rm -rf $(KMOD_OUT).sparse
	sh $(KTEST_DIR)/build-module.sh $(KMOD_OUT).sparse $(LAB_DIR)/kernel $(KMOD_CORE) -- \
	  $(KBUILD_ARGS) C=2

# the ioctl tests: static programs, no kvlabs library
# (they include the harness's kdevtest.h: scripts/ktest/ is on their path)
$(BUILD)/ktest/$(LAB)/%: $(LAB_DIR)/kernel/tests/%.c $(KTEST_PROG_LIBS) $(KTEST_PROG_DEPS) \
                         $(wildcard $(KTEST_DIR)/*.h)
	@mkdir -p $(@D)
	@echo "  CC      $(LAB)/kernel/tests/$*.c (static)"
	$(Q)$(CC) -std=c11 $(WARN) -O2 -static -pthread -I$(LAB_DIR)/include -I$(LAB_DIR)/kernel/tests \
	  -I$(KTEST_DIR) $< $(KTEST_PROG_LIBS) -o $@

# The conformance suite for the VM: the same sources, built against the
# Criterion-compatible shim of crshim/ (Criterion's own runner does not
# report inside the VM), linked with this variant's libraries.
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
ktest-conformance: $(KCONF_BIN)

ktest-stage: $(KMOD_OUT)/$(KMOD).ko $(KTEST_PROG_BIN) $(KCONF_BIN)
	@mkdir -p $(KTEST_STAGE)/$(KMOD)
	@cp $(KMOD_OUT)/$(KMOD).ko $(KTEST_PROG_BIN) $(KTEST_STAGE)/$(KMOD)/
	@cp $(KCONF_BIN) $(KTEST_STAGE)/$(KMOD)/conformance
	@cp $(LAB_DIR)/kernel/tests/ktest_step.sh $(KTEST_STAGE)/$(KMOD)/step.sh

ktest:
	@rm -rf $(KTEST_STAGE); $(MAKE) --no-print-directory ktest-stage KTEST_STAGE=$(KTEST_STAGE)
	@mkdir -p $(RESDIR)
	@$(RUN_TEST) plain $(RESDIR)/ktest.res sh $(KTEST_DIR)/run.sh $(KTEST_STAGE) $(BUILD)/cache/ktest

ktest-mutants: ktest-stage
	@KTEST_CORE_FILES="$(KMOD_CORE)" TEST_TIMEOUT=7200 $(RUN_TEST) plain $(RESDIR)/ktest-mutants.res \
	  sh $(KTEST_DIR)/mutants.sh $(LAB_DIR) $(KTEST_STAGE)/$(KMOD) $(BUILD)/ktest/mutants-$(LAB) \
	  $(BUILD)/cache/ktest $(KMOD) -- $(KBUILD_ARGS)

ifneq ($(KBENCH_STEP),)
# make ktest-bench: kvbench (release build of bench/) in the VM, on the
# engines KBENCH_STEP names; KTEST_BENCH_N keys. Never in make test.
.PHONY: ktest-bench
KBENCH_STAGE := $(BUILD)/ktest/bench-$(LAB)
ktest-bench: $(KMOD_OUT)/$(KMOD).ko
	@$(MAKE) --no-print-directory -C $(ROOT)/bench VARIANT=release BUILD=$(BUILD) \
	  $(BUILD)/release/bin/bench/kvbench
	@rm -rf $(KBENCH_STAGE); mkdir -p $(KBENCH_STAGE)/$(KMOD)
	@cp $(KMOD_OUT)/$(KMOD).ko $(BUILD)/release/bin/bench/kvbench $(KBENCH_STAGE)/$(KMOD)/
	@cp $(KBENCH_STEP) $(KBENCH_STAGE)/$(KMOD)/step.sh
	@KTEST_TIMEOUT=$${KTEST_TIMEOUT:-1200} \
	  KTEST_APPEND="$${KTEST_BENCH_N:+KTEST_BENCH_N=$$KTEST_BENCH_N}" \
	  sh $(KTEST_DIR)/run.sh $(KBENCH_STAGE) $(BUILD)/cache/ktest; \
	  grep -a -A40 'engine\|ops/s' $(KBENCH_STAGE).log | grep -av '^\[' | head -n 80
endif
