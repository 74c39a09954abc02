# common/mk/rules.mk — the make rules every kvlabs lab includes.
#
# A lab's Makefile sets a few variables and includes this file:
#
#   KVLABS_ROOT ?= ..                     # where the repository root is (relocatable)
#   LAB              := sprint-1-c-core   # the lab's name (its folder's name)
#   LAB_SRCS         := a.c b.c           # the lab library (engines, helpers)
#   LAB_PROGS        := demo              # programs: demo.c with main() (a part's: part/demo)
#   LAB_TESTS        := tests/test_a.c    # one Criterion test binary each (a part's own tests:
#                                         # part/tests/test_c.c; the binary is named test_c)
#   LAB_PLAIN_TESTS  := tests/plain_b.c   # plain test programs printing "N passed, N failed"
#   LAB_SCRIPT_TESTS := tests/x.sh        # scripts printing "N passed, N failed" (env: BIN_DIR, LAB_DIR)
#   LAB_GDB_PROG     := demo              # the program `make gdb` starts (default: the first LAB_PROGS)
#   LAB_LINK_COMMON  := yes|no            # link build/<variant>/lib/libkvlabs-common.a (default yes)
#   LAB_USES         := sprint-2-hash-storage  # earlier labs whose libraries this lab links (built first)
#   LAB_LIBS         := -lfoo             # extra libraries
#   LAB_GEN_SRCS     := x.c               # generated sources in build/<variant>/gen/ (the lab gives the rule)
# and, in lab.mk (the lab manifest):
#   LAB_ENGINES      := hash              # engines this lab defines (kv_engine_<name>)
#   LAB_INITS        := kv_hash_simd_init # start-up functions for the generated registry
#   LAB_MICROS       := ht_probe          # micro-benchmarks kv_micro_<name> for kvbench's registry
#   LAB_CONF_CONFIGS := hash:strategy=linear ...  # conformance suite configurations
#   STUDENT_FILES    := hash_engine.c     # files a student edits
#   LAB_PARTS        := hashtable bitcask # the parts a student can be assigned, in teaching
#                                         # order (docs/grading.md, "Labs made of parts"), each
#                                         # with PART_<p>_FILES (its STUDENT_FILES),
#                                         # PART_<p>_USES (the parts it builds on),
#                                         # PART_<p>_ENGINES (its conformance configurations) and
#                                         # PART_<p>_TESTS (its test sources; default: those in <p>/)
#   LAB_VM_TESTS     := kernel/tests/ktest.sh # scripts that boot the kernel VM (scripts/ktest/)
#                                         # and print one "CASE <name>: PASS|FAIL" per case:
#                                         # never run by the lab's `make test`; `make test
#                                         # PART=<p>` of a part that has some runs the lab's
#                                         # `make ktest` (which such a lab defines: the VM test,
#                                         # one boot); the grader runs the part's LAB_VM_TESTS
#
# PART=<p> (`make test PART=bitcask`) builds and runs only that part's tests and
# conformance configurations; without PART, everything.
#
# Targets: all (build), test, memcheck, coverage, gdb, clean.
#
# Variants (VARIANT=...), each built in its own tree build/<variant>/:
#   asan    -O1 -g, AddressSanitizer + UndefinedBehaviorSanitizer (default: what `make test` runs)
#   debug   -O0 -g3                  (what `make gdb` and `make memcheck` use)
#   release -O2 -DNDEBUG             (benchmarks)
#   cov     -O0 --coverage           (what `make coverage` uses)
#   tsan    -O1 -g ThreadSanitizer   (concurrency tests)
#
# Every test runner's result lands in build/test-results/<variant>/<lab>/*.res
# ("passed failed skipped" on one line); scripts/test-summary.sh adds them up
# into the final "N passed, N failed" line.

# One part's tests (PART=<p>): its test sources (PART_<p>_TESTS, else those
# under <p>/) and the conformance configurations of its engines. The part is
# this lab's: the makes of common/ and of LAB_USES get PART= (below).
ifneq ($(PART),)
ifeq ($(filter $(PART),$(LAB_PARTS)),)
$(error PART=$(PART): $(LAB) has no such part (its parts: $(or $(LAB_PARTS),none)))
endif
PART_RUNNERS     := $(or $(PART_$(PART)_TESTS),$(filter $(PART)/%,$(LAB_TESTS) \
                    $(LAB_PLAIN_TESTS) $(LAB_SCRIPT_TESTS) $(LAB_VM_TESTS)))
LAB_VM_TESTS     := $(filter $(PART_RUNNERS),$(LAB_VM_TESTS))
LAB_TESTS        := $(filter $(PART_RUNNERS),$(LAB_TESTS))
LAB_PLAIN_TESTS  := $(filter $(PART_RUNNERS),$(LAB_PLAIN_TESTS))
LAB_SCRIPT_TESTS := $(filter $(PART_RUNNERS),$(LAB_SCRIPT_TESTS))
LAB_CONF_CONFIGS := $(foreach c,$(LAB_CONF_CONFIGS),$(if $(filter \
                    $(PART_$(PART)_ENGINES),$(firstword $(subst :, ,$(c)))),$(c)))
endif

ROOT      := $(abspath $(KVLABS_ROOT))
LAB_DIR   := $(abspath $(CURDIR))
BUILD     ?= $(ROOT)/build
VARIANT   ?= asan
LAB_LINK_COMMON ?= yes
JOBS      ?= 2
# Quiet build lines ("  CC  file.c") unless V=1 asks for the full commands.
ifeq ($(V),1)
Q :=
else
Q := @
endif

BDIR      := $(BUILD)/$(VARIANT)
OBJDIR    := $(BDIR)/obj/$(LAB)
BINDIR    := $(BDIR)/bin/$(LAB)
LIBDIR    := $(BDIR)/lib
GENDIR    := $(BDIR)/gen
RESDIR    := $(BUILD)/test-results/$(VARIANT)/$(LAB)
COMMON_LIB := $(LIBDIR)/libkvlabs-common.a
ifeq ($(LAB),common)
LAB_LIB   := $(COMMON_LIB)
LAB_LINK_COMMON := no
else
LAB_LIB   := $(LIBDIR)/lib$(LAB).a
endif

CC        ?= cc
WARN      := -Wall -Wextra -Werror -Wshadow
STD       := -std=c11 -D_POSIX_C_SOURCE=200809L
CFLAGS_debug   := -O0 -g3
CFLAGS_release := -O2 -g -DNDEBUG
CFLAGS_asan    := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
CFLAGS_cov     := -O0 -g --coverage
CFLAGS_tsan    := -O1 -g -fsanitize=thread
ifeq ($(origin CFLAGS_$(VARIANT)),undefined)
$(error unknown VARIANT '$(VARIANT)': use debug, release, asan, cov or tsan)
endif
VFLAGS    := $(CFLAGS_$(VARIANT))
# common/tests/include: kvtest.h, the test kit every lab's tests share, and kv_assert.h
INCLUDES  := -I$(ROOT)/common/include -I$(LAB_DIR)/include $(LAB_INCLUDES) \
             -I$(ROOT)/common/tests/include
ALL_CFLAGS = $(STD) $(WARN) $(VFLAGS) -pthread -MMD -MP $(INCLUDES) $(LAB_CFLAGS) $(EXTRA_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(VFLAGS) -pthread $(LDFLAGS)
USED_LIBS   = $(foreach l,$(LAB_USES),$(LIBDIR)/lib$(l).a)
LDLIBS_ALL  = $(LAB_LIB) $(USED_LIBS) $(if $(filter yes,$(LAB_LINK_COMMON)),$(COMMON_LIB)) $(LAB_LIBS) -lm $(LDLIBS)

# ---- objects ---------------------------------------------------------------
obj = $(patsubst %.c,$(OBJDIR)/%.o,$(1))
LAB_OBJS   := $(call obj,$(LAB_SRCS)) $(patsubst %.c,$(OBJDIR)/gen/%.o,$(LAB_GEN_SRCS))
# a program is named after its file too: demo (demo.c) or part/demo (part/demo.c)
PROG_BINS  := $(addprefix $(BINDIR)/,$(notdir $(LAB_PROGS)))
# A test source's binary is named after its file, wherever it lives: the
# lab's tests/x.c or a part's <part>/tests/x.c both become $(BINDIR)/x.
bin_of     = $(addprefix $(BINDIR)/,$(basename $(notdir $(1))))
TEST_BINS  := $(call bin_of,$(LAB_TESTS))
PLAIN_BINS := $(call bin_of,$(LAB_PLAIN_TESTS))
CONF_SRCS  := $(if $(LAB_CONF_CONFIGS),$(wildcard $(ROOT)/common/tests/conformance/*.c))
CONF_BIN   := $(if $(LAB_CONF_CONFIGS),$(BINDIR)/conformance)
REGISTRY_C := $(GENDIR)/registry_$(LAB).c
REGISTRY_O := $(OBJDIR)/registry_$(LAB).o
# The registry names the lab's engines, plus model for the differential tests.
# common/ itself lists model in its LAB_ENGINES; a lab that links no common/
# (sprint 1) has no engines and no registry.
REG_ENGINES := $(sort $(LAB_ENGINES) $(if $(filter yes,$(LAB_LINK_COMMON)),model))
REG_OBJ    := $(if $(REG_ENGINES),$(REGISTRY_O))
ALL_BINS   := $(PROG_BINS) $(TEST_BINS) $(PLAIN_BINS) $(CONF_BIN)

.PHONY: all test memcheck coverage gdb clean common-lib build-tests
.DEFAULT_GOAL := all
all: $(ALL_BINS)

# Compile: the exact command is also saved beside the object (.cmd) for
# compile_commands.json (scripts/gen-compdb.py).
$(OBJDIR)/%.o: $(LAB_DIR)/%.c
	@mkdir -p $(@D)$(shell mkdir -p $(@D))
	$(file >$@.cmd,$(LAB_DIR) $(CC) $(ALL_CFLAGS) -c $< -o $@)
	@$(if $(Q),echo "  CC      $(subst $(ROOT)/,,$<)")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@
$(OBJDIR)/gen/%.o: $(GENDIR)/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $(subst $(ROOT)/,,$<)")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@
$(OBJDIR)/conformance/%.o: $(ROOT)/common/tests/conformance/%.c
	@mkdir -p $(@D)$(shell mkdir -p $(@D))
	$(file >$@.cmd,$(LAB_DIR) $(CC) $(ALL_CFLAGS) -c $< -o $@)
	@$(if $(Q),echo "  CC      $(subst $(ROOT)/,,$<)")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@
$(REGISTRY_O): $(REGISTRY_C)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $(subst $(ROOT)/,,$<)")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# The generated registry: rewritten only when the engine list changes.
$(REGISTRY_C): FORCE
	@mkdir -p $(@D)
	@sh $(ROOT)/scripts/gen-registry.sh $@ "$(REG_ENGINES)" "$(LAB_INITS)" "$(LAB_MICROS)"
FORCE:

$(LAB_LIB): $(LAB_OBJS)
	@mkdir -p $(@D)
	@rm -f $@
	@$(if $(Q),echo "  AR      $(subst $(BDIR)/,,$@)")
	$(Q)ar rcs $@ $^
# `make lib` builds just the lab's library (what other labs link through LAB_USES).
.PHONY: lib used-libs
lib: $(LAB_LIB)
ifneq ($(LAB),common)
# Earlier labs this one builds on are built by their own Makefiles.
# The `; @:` recipe matters: GNU make re-reads a target's time stamp only
# after running a recipe for it, so without one a library rebuilt by the
# sub-make keeps its old time here and the binaries linking it go stale.
$(USED_LIBS): used-libs ; @:
used-libs:
	@for l in $(LAB_USES); do $(MAKE) --no-print-directory -C $(ROOT)/$$l lib VARIANT=$(VARIANT) PART= \
	  BUILD=$(BUILD) KVLABS_ROOT=$(ROOT) || exit 1; done
endif
ifeq ($(LAB),common)
else
# common/ is built by its own Makefile, into the same variant tree.
$(COMMON_LIB): common-lib ; @:
common-lib:
ifeq ($(LAB_LINK_COMMON),yes)
	@$(MAKE) --no-print-directory -C $(ROOT)/common lib VARIANT=$(VARIANT) BUILD=$(BUILD) KVLABS_ROOT=$(ROOT) PART=
endif
endif

LINK_DEPS = $(LAB_LIB) $(USED_LIBS) $(if $(filter yes,$(LAB_LINK_COMMON)),$(COMMON_LIB)) $(REG_OBJ)

define prog_link_rule
$(BINDIR)/$(notdir $(1)): $(OBJDIR)/$(1).o $$(LINK_DEPS)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  LD      $$(subst $$(BDIR)/,,$$@)")
	$$(Q)$$(CC) $$(LDFLAGS_ALL) $$< $$(REG_OBJ) $$(LDLIBS_ALL) -o $$@
endef
$(foreach p,$(LAB_PROGS),$(eval $(call prog_link_rule,$(p))))
# One link rule per test source (its object is $(OBJDIR)/<its path>.o);
# $(2) is -lcriterion for Criterion binaries, empty for plain programs.
define test_link_rule
$(call bin_of,$(1)): $(call obj,$(1)) $$(LINK_DEPS)
	@mkdir -p $$(@D)
	@$$(if $$(Q),echo "  LD      $$(subst $$(BDIR)/,,$$@)")
	$$(Q)$$(CC) $$(LDFLAGS_ALL) $$< $$(REG_OBJ) $$(LDLIBS_ALL) $(2) -o $$@
endef
$(foreach t,$(LAB_TESTS),$(eval $(call test_link_rule,$(t),-lcriterion)))
$(foreach t,$(LAB_PLAIN_TESTS),$(eval $(call test_link_rule,$(t),)))
ifneq ($(CONF_BIN),)
CONF_OBJS := $(patsubst $(ROOT)/common/tests/conformance/%.c,$(OBJDIR)/conformance/%.o,$(CONF_SRCS))
$(CONF_BIN): $(CONF_OBJS) $(LINK_DEPS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $(subst $(BDIR)/,,$@)")
	$(Q)$(CC) $(LDFLAGS_ALL) $(CONF_OBJS) $(REG_OBJ) $(LDLIBS_ALL) -lcriterion -o $@
endif

# ---- tests -----------------------------------------------------------------
RUN_TEST := bash $(ROOT)/scripts/run-test.sh
CRITERION_ARGS ?= --jobs $(JOBS)

build-tests: $(ALL_BINS)

# Every runner is run even when an earlier one failed; the summary decides.
# A part tested in the VM (PART=<p> with LAB_VM_TESTS) runs the lab's `make
# ktest` too. (Through a variable: a recipe line naming $(MAKE) itself would
# run even under `make -n`, and this one runs every test.)
VM_PART_TEST = $(if $(and $(PART),$(LAB_VM_TESTS)),$(MAKE) --no-print-directory ktest || st=1;)
test: build-tests
	@rm -rf $(RESDIR); mkdir -p $(RESDIR)
	@st=0; \
	for t in $(TEST_BINS); do \
	  $(RUN_TEST) criterion $(RESDIR)/$$(basename $$t).res $$t $(CRITERION_ARGS) || st=1; \
	done; \
	for t in $(PLAIN_BINS); do \
	  $(RUN_TEST) plain $(RESDIR)/$$(basename $$t).res $$t || st=1; \
	done; \
	for s in $(LAB_SCRIPT_TESTS); do \
	  BIN_DIR=$(BINDIR) LAB_DIR=$(LAB_DIR) KVLABS_ROOT=$(ROOT) VARIANT=$(VARIANT) PART=$(PART) \
	    $(RUN_TEST) plain $(RESDIR)/$$(basename $$s).res sh $(LAB_DIR)/$$s || st=1; \
	done; \
	for c in $(LAB_CONF_CONFIGS); do \
	  KV_CONF_ENGINE="$$c" $(RUN_TEST) criterion $(RESDIR)/conformance.$$(echo "$$c" | tr -c 'A-Za-z0-9_.\n-' '_').res \
	    $(CONF_BIN) $(CRITERION_ARGS) || st=1; \
	done; \
	$(VM_PART_TEST) \
	sh $(ROOT)/scripts/test-summary.sh $(LAB) $(RESDIR) || st=1; \
	if [ -n "$$KV_TEST_NOFAIL" ]; then exit 0; else exit $$st; fi

# Valgrind over every test binary, in the debug variant. Criterion re-executes
# itself per test, so --trace-children=yes and one log per process; a run can
# exit 0 while a child's log reports a leak, so scripts/memcheck.sh reads the logs.
memcheck:
	@$(MAKE) --no-print-directory VARIANT=debug build-tests
	@bash $(ROOT)/scripts/memcheck.sh $(BUILD)/memcheck/$(LAB) "$(LAB_CONF_CONFIGS)" \
	  "$(subst $(BDIR)/,$(BUILD)/debug/,$(TEST_BINS))" "$(subst $(BDIR)/,$(BUILD)/debug/,$(PLAIN_BINS))" \
	  "$(subst $(BDIR)/,$(BUILD)/debug/,$(CONF_BIN))"

# Line and branch coverage of the lab's sources, from its test runs.
coverage:
	@$(MAKE) --no-print-directory VARIANT=cov test CRITERION_ARGS="--jobs 1" || true
	@mkdir -p $(BUILD)/coverage/$(LAB)
	@gcovr --root $(ROOT) $(BUILD)/cov/obj/$(LAB) $(COV_EXTRA_OBJS) \
	  --filter '$(LAB_DIR)/' --exclude '$(LAB_DIR)/(.*/)?tests/' $(COV_FILTERS) \
	  --html-details $(BUILD)/coverage/$(LAB)/index.html --print-summary \
	  | tee $(BUILD)/coverage/$(LAB)/summary.txt
	@echo "coverage report: $(BUILD)/coverage/$(LAB)/index.html"

# gdb on the lab's demo program (LAB_GDB_PROG, else the first of LAB_PROGS;
# `make gdb PROG=name` picks another), with the lab's .gdbinit loaded
# explicitly when there is one (-x): gdb's auto-load safe-path would
# otherwise refuse a .gdbinit found in the current directory.
GDB_PROG = $(notdir $(or $(PROG),$(LAB_GDB_PROG),$(firstword $(LAB_PROGS))))
GDB_INIT = $(wildcard $(LAB_DIR)/.gdbinit)
gdb:
	@test -n "$(GDB_PROG)" || { echo "make gdb: $(LAB) has no program to debug;" \
	  "name one with PROG=... (the test binaries are in $(BUILD)/debug/bin/$(LAB)/)" >&2; exit 2; }
	@$(MAKE) --no-print-directory VARIANT=debug all
	gdb -q $(if $(GDB_INIT),-x $(GDB_INIT)) $(BUILD)/debug/bin/$(LAB)/$(GDB_PROG)

clean:
	rm -rf $(BUILD)/*/obj/$(LAB) $(BUILD)/*/bin/$(LAB) $(BUILD)/*/lib/lib$(LAB).a \
	       $(BUILD)/test-results/*/$(LAB) $(BUILD)/coverage/$(LAB) $(BUILD)/memcheck/$(LAB)

-include $(shell find $(OBJDIR) -name '*.d' 2>/dev/null)
