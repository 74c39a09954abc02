# kvlabs — top-level Makefile.
#
#   make test       install what is missing (once), build every lab, run every test
#   make all        build every lab (release), the archives and compile_commands.json
#   make docs       the Doxygen study guide and API reference (warnings are errors)
#   make coverage   line and branch coverage of every lab (build/coverage/)
#   make memcheck   every test suite under Valgrind (errors and definite leaks fail)
#   make install    headers, archives, pkg-config file and kvctl under PREFIX
#   make bench      kvbench, the cross-engine benchmark driver (release build)
#   make report     the cross-engine benchmark report in build/report/ (at most about 10 minutes;
#                   FULL=1 sweeps N over 1e4..1e7, hours; REPORT_N=, REPORT_REPEATS= override;
#                   REPORT_CLUSTER=0 leaves out sprint 5's cluster-against-etcd section)
#   make starter    starter kits: build/starter/kvlabs-<lab>/ and .tar.gz (LAB=... for one)
#   make grade      LAB=... SUBMISSION=DIR [OUT=DIR]: grade a submission (Gradescope results.json)
#   make grade-tests LAB=... TESTS="a.c b.c" [OUT=DIR]: grade a student's tests by the mutants they catch
#   make grade-check  every mutant through the full grader, and every part's starter and
#                     reference (slow; make test runs a sample)
#                     [LAB=...] [MUTANTS='01-*,2?-*']: one lab, some of its mutants
#                     [PARTS_ONLY=1]: only the per-part grades
#   PART=<part> (with LAB=): starter, grade, grade-tests and grade-check work on one part of
#                   a lab made of parts (docs/grading.md); OWN_LOWER=1 (starter, grade): the
#                   parts below it are the student's own, not shipped solved
#   make fuzz       the long libFuzzer runs (FUZZ_SECONDS= each): cowbtree's decoders
#                   (sprint 3), lsm's block decode (sprint 4), kvnode's wire decoders
#                   (sprint 5); make test runs short ones
#   make deps       scripts/install-deps.sh (normally run once, behind a stamp)
#   make clean      remove build output but keep build/cache/
#   make distclean  remove build/ entirely
#
# Every lab also builds alone: `make -C sprint-1-c-core test`.
# See README.md for the layout and common/mk/rules.mk for the per-lab rules.

BUILD   ?= $(CURDIR)/build
PREFIX  ?= /usr/local
JOBS    ?= 2
# The labs in build order; common/ first, every lab depends on it.
LABS    := common sprint-1-c-core sprint-2-hash-storage sprint-3-btree-storage \
           sprint-4-simd-optimization \
           sprint-5-production-features tools bench
# The labs whose engines go into libkvlabs.a: not bench, whose engines are the
# peer adapters (they need LevelDB, RocksDB, LMDB and SQLite to link).
ENGINE_LABS := $(filter-out bench,$(LABS))
# Every engine of every lab, for libkvlabs.a's registry (from each lab.mk).
ALL_ENGINES := $(sort $(foreach l,$(ENGINE_LABS),$(shell sed -n 's/^LAB_ENGINES *:= *//p' $(l)/lab.mk 2>/dev/null)))
ALL_INITS   := $(sort $(foreach l,$(ENGINE_LABS),$(shell sed -n 's/^LAB_INITS *:= *//p' $(l)/lab.mk 2>/dev/null)))
DEPS_STAMP  := $(BUILD)/.deps-stamp
SUB     := $(MAKE) --no-print-directory

.PHONY: all test docs coverage memcheck install deps clean distclean archives compdb bench report
.PHONY: starter grade grade-tests grade-check ktest fuzz

all: $(DEPS_STAMP)
	@for l in $(LABS); do $(SUB) -j$(JOBS) -C $$l all VARIANT=release BUILD=$(BUILD) || exit 1; done
	@$(SUB) archives compdb

# ---- dependencies, installed once --------------------------------------------
deps:
	sh scripts/install-deps.sh
	@mkdir -p $(BUILD) && touch $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps.sh
	sh scripts/install-deps.sh
	@mkdir -p $(BUILD) && touch $@

# ---- tests -------------------------------------------------------------------
# Every lab's tests run even when one fails (make -k); the labs' runners record
# their counts and scripts/test-summary.sh prints the closing line CI reads.
# KV_TEST_NOFAIL=1 lets a lab whose tests ran report failures through the
# summary only, so a non-zero make status here means a build broke.
# The labs build one at a time (later labs link earlier ones), then their test
# phases run TEST_SLOTS at a time (scripts/run-labs.sh: each lab's output is
# printed whole when it ends), the slowest labs first, the kernel modules' VM
# test (make ktest, below) among them. A lab that failed to build is not run;
# the status file makes that one more failure.
TEST_SLOTS ?= 2
TEST_FIRST := $(filter $(LABS),tools sprint-5-production-features sprint-2-hash-storage)
TEST_ORDER := $(TEST_FIRST) $(filter-out $(TEST_FIRST),$(LABS))
test: $(DEPS_STAMP)
	@rm -rf $(BUILD)/test-results/asan $(BUILD)/test-results/logs; mkdir -p $(BUILD)/test-results
	@st=0; built=""; for l in $(LABS); do \
	  if $(SUB) -j$(JOBS) -C $$l build-tests VARIANT=asan BUILD=$(BUILD); then built="$$built $$l"; else st=1; fi; \
	done; echo $$st > $(BUILD)/test-results/status; \
	run=""; for l in $(TEST_ORDER); do case " $$built " in *" $$l "*) run="$$run $$l";; esac; done; \
	bash scripts/run-labs.sh $(BUILD) $(TEST_SLOTS) $(BUILD)/test-results/status $$run \
	  $(if $(KTEST_LABS),"ktest KTEST_CONF_FILTER=$(KTEST_TEST_FILTER)")
	@sh scripts/test-times.sh $(BUILD)/test-results/asan 12
	@sh scripts/test-summary.sh - $(BUILD)/test-results/asan $(BUILD)/test-results/status

# The kernel modules' VM test (scripts/ktest/): every lab with a kernel part
# (<lab>/kernel/ktest.mk) stages its modules into one folder, and one boot of
# the Debian kernel under qemu runs them all. `make test` runs it with the
# conformance suite cut to KTEST_TEST_FILTER (a short VM run); `make ktest`
# alone runs the whole suite in the VM.
KTEST_LABS        := $(patsubst %/kernel/ktest.mk,%,$(wildcard sprint-*/kernel/ktest.mk))
KTEST_TEST_FILTER := conf_basic/*
KTEST_CONF_FILTER ?=
ktest: $(DEPS_STAMP)
	@rm -rf $(BUILD)/ktest/stage-all $(BUILD)/test-results/asan/ktest
	@for l in $(KTEST_LABS); do $(SUB) -C $$l ktest-stage KTEST_STAGE=$(BUILD)/ktest/stage-all \
	  VARIANT=asan BUILD=$(BUILD) || exit 1; done
	@mkdir -p $(BUILD)/test-results/asan/ktest
	@KTEST_APPEND='$(if $(KTEST_CONF_FILTER),KTEST_CONF_FILTER=$(KTEST_CONF_FILTER))' \
	  bash scripts/run-test.sh plain $(BUILD)/test-results/asan/ktest/ktest.res \
	  sh scripts/ktest/run.sh $(BUILD)/ktest/stage-all $(BUILD)/cache/ktest || [ -n "$$KV_TEST_NOFAIL" ]

memcheck: $(DEPS_STAMP)
	@st=0; for l in $(LABS); do \
	  $(SUB) -j$(JOBS) -C $$l memcheck BUILD=$(BUILD) || st=1; \
	done; \
	if [ $$st = 0 ]; then echo "memcheck: every lab clean"; else echo "memcheck: FAILED"; fi; exit $$st

coverage: $(DEPS_STAMP)
	@for l in $(LABS); do $(SUB) -C $$l coverage BUILD=$(BUILD) || exit 1; done
	@mkdir -p $(BUILD)/coverage
	@gcovr --root $(CURDIR) $(BUILD)/cov/obj $(foreach l,$(LABS),--filter '$(CURDIR)/$(l)/') \
	  --exclude '.*/tests/.*' --html-details $(BUILD)/coverage/index.html --print-summary \
	  | tee $(BUILD)/coverage/summary.txt
	@echo "coverage report: $(BUILD)/coverage/index.html (per lab: $(BUILD)/coverage/<lab>/)"

docs: $(DEPS_STAMP)
	@sh scripts/build-docs.sh $(BUILD)/docs

# ---- course tooling (tools/*.py, docs/grading.md) -------------------------------
# The fence check runs first: a bad fence would ship a solution in a kit.
starter: $(DEPS_STAMP)
	@python3 tools/check_fences.py $(LAB)
	@python3 tools/starter.py --measure --out $(BUILD)/starter $(if $(PART),--part $(PART)) \
	  $(if $(OWN_LOWER),--own-lower) $(LAB)

grade: $(DEPS_STAMP)
	@test -n "$(LAB)" -a -n "$(SUBMISSION)" || { echo "usage: make grade LAB=<lab> SUBMISSION=<dir> [OUT=<dir>]"; exit 2; }
	@python3 tools/grade.py --lab $(LAB) --submission $(SUBMISSION) --jobs $(JOBS) \
	  $(if $(PART),--part $(PART)) $(if $(OWN_LOWER),--own-lower) $(if $(OUT),--out $(OUT))

grade-tests: $(DEPS_STAMP)
	@test -n "$(LAB)" -a -n "$(TESTS)" || { echo "usage: make grade-tests LAB=<lab> TESTS=<file.c ...> [OUT=<dir>]"; exit 2; }
	@python3 tools/grade_tests.py --lab $(LAB) --tests $(TESTS) --jobs $(JOBS) \
	  $(if $(PART),--part $(PART)) $(if $(OUT),--out $(OUT))

grade-check: $(DEPS_STAMP)
	@python3 tools/grade_check.py --jobs $(JOBS) $(if $(MUTANTS),--mutants '$(MUTANTS)') \
	  $(if $(PART),--part $(PART)) $(if $(PARTS_ONLY),--parts-only) $(LAB)

# ---- archives, pkg-config, install ---------------------------------------------
# libkvlabs-common.a: common alone (what a single lab links, with its own registry).
# libkvlabs.a: common + every lab library + a registry listing every engine.
REL := $(BUILD)/release
archives:
	@mkdir -p $(BUILD)/lib/pkgconfig $(REL)/gen $(REL)/obj/all
	@cp $(REL)/lib/libkvlabs-common.a $(BUILD)/lib/libkvlabs-common.a
	@sh scripts/gen-registry.sh $(REL)/gen/registry_all.c "$(ALL_ENGINES)" "$(ALL_INITS)"
	@$(CC) -std=c11 -O2 -Icommon/include -c $(REL)/gen/registry_all.c -o $(REL)/obj/all/registry_all.o
	@{ echo "CREATE $(BUILD)/lib/libkvlabs.a"; \
	   for l in $(filter-out %/libbench.a,$(wildcard $(REL)/lib/lib*.a)); do echo "ADDLIB $$l"; done; \
	   echo "ADDMOD $(REL)/obj/all/registry_all.o"; echo SAVE; echo END; } | ar -M
	@sh scripts/gen-pkgconfig.sh $(PREFIX) > $(BUILD)/lib/pkgconfig/kvlabs.pc
	@echo "archives: $(BUILD)/lib/libkvlabs-common.a $(BUILD)/lib/libkvlabs.a (engines: $(ALL_ENGINES))"

compdb:
	@python3 scripts/gen-compdb.py $(BUILD) > $(BUILD)/compile_commands.json
	@ln -sf build/compile_commands.json compile_commands.json

install: all
	install -d $(DESTDIR)$(PREFIX)/include/kvlabs $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 common/include/kvlabs/*.h $(DESTDIR)$(PREFIX)/include/kvlabs/
	install -m 644 $(BUILD)/lib/libkvlabs.a $(BUILD)/lib/libkvlabs-common.a $(DESTDIR)$(PREFIX)/lib/
	sh scripts/gen-pkgconfig.sh $(PREFIX) > $(DESTDIR)$(PREFIX)/lib/pkgconfig/kvlabs.pc
	install -m 755 $(REL)/bin/tools/kvctl $(DESTDIR)$(PREFIX)/bin/

# ---- benchmarks ------------------------------------------------------------------
# kvbench links every engine bench/lab.mk lists (the peers and, as labs add
# them, the course's engines). `make report` builds it, then bench/report.py
# measures the machine (kvbench physical), chooses N with a pilot run so the
# whole target takes at most about 10 minutes on 2 cores, runs every kvlabs engine
# (not model, not the in-VM ones) and the four peers, and writes
# build/report/{index.html,report.md,charts/,results/}.
KVBENCH = $(REL)/bin/bench/kvbench
bench: $(DEPS_STAMP)
	@$(SUB) -j$(JOBS) -C bench all VARIANT=release BUILD=$(BUILD)

fuzz: $(DEPS_STAMP)
	@$(SUB) -C sprint-3-btree-storage fuzz
	@$(SUB) -C sprint-4-simd-optimization fuzz
	@$(SUB) -C sprint-5-production-features fuzz

# The cluster section (bench/report_cluster.py) runs sprint 5's release kvnode
# and cluster_load against etcd; REPORT_CLUSTER=0 leaves it out.
report: $(DEPS_STAMP)
	@t0=$$(date +%s); $(SUB) bench && \
	$(if $(filter 0,$(REPORT_CLUSTER)),,$(SUB) -j$(JOBS) -C sprint-5-production-features all VARIANT=release BUILD=$(BUILD) &&) \
	python3 bench/report.py run --kvbench $(KVBENCH) --out $(BUILD)/report --started $$t0 \
	  $(if $(FULL),--full) $(if $(REPORT_N),-n $(REPORT_N)) $(if $(REPORT_REPEATS),--repeats $(REPORT_REPEATS)) \
	  $(if $(filter 0,$(REPORT_CLUSTER)),--no-cluster,--cluster-bindir $(REL)/bin/sprint-5-production-features)

# ---- cleaning ------------------------------------------------------------------
clean:
	@if [ -d $(BUILD) ]; then find $(BUILD) -mindepth 1 -maxdepth 1 ! -name cache ! -name .deps-stamp -exec rm -rf {} +; fi
	rm -f compile_commands.json

distclean:
	rm -rf $(BUILD) compile_commands.json
