# tools/manifest.mk — print a lab's manifest variables, for the course tooling.
#
# Read after the lab's own Makefile (tools/kvlab.py runs
#   make -s -C LAB -f Makefile -f ../tools/manifest.mk kvlabs-manifest
# ), so every variable has the value the lab's build sees, $(wildcard ...)
# and `+=` included. Prints one `NAME=value` line per variable below, and
# one per PART_* variable (the parts' settings, kvlab.py "Parts").
KVLABS_MANIFEST_VARS := LAB LAB_SRCS LAB_PROGS LAB_TESTS LAB_PLAIN_TESTS LAB_SCRIPT_TESTS \
  LAB_CONF_CONFIGS LAB_ENGINES LAB_LINK_COMMON LAB_USES STUDENT_FILES SOLUTION_ONLY KIT_EXTRA \
  GRADE_POINTS GRADE_TIMEOUT GRADE_SCRIPT_TIMEOUT GRADE_MEM_MB GRADE_MEMCHECK_POINTS GRADE_MEMCHECK_TESTS GRADE_BENCH \
  GRADE_BENCH_WEIGHT GRADE_BENCH_FULL GRADE_BENCH_ZERO GRADE_SCRIPT_CASES LAB_PARTS PART LAB_VM_TESTS

.PHONY: kvlabs-manifest
kvlabs-manifest:
	@:$(foreach v,$(KVLABS_MANIFEST_VARS) $(sort $(filter PART_%,$(.VARIABLES))),$(info $(v)=$(strip $($(v)))))
