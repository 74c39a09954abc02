# lab.mk — the manifest of sprint-1-c-core, read by the lab's Makefile and by
# the course tooling (tools/starter.py, tools/grade.py, tools/grade_tests.py;
# docs/grading.md describes every variable).
#
# STUDENT_FILES lists the files a student edits. Each holds solution regions
# fenced /* BEGIN SOLUTION */ ... /* END SOLUTION */, each preceded by a
# /* STUB: ... */ comment whose body replaces the region in the starter kit
# (`make starter`); the starter compiles warning-free and its tests fail.
# Everything else (headers, tests, demos, .gdbinit) ships unchanged, except
# mutants/ (the buggy variants that grade students' tests, `make
# grade-tests`) and the files listed in SOLUTION_ONLY (none here).
# tools/check_fences.py fails `make test` when a fenced file is missing here.
#
# Grading (`make grade LAB=sprint-1-c-core SUBMISSION=dir`):
#   GRADE_POINTS           PATTERN:POINTS entries; the pattern is a shell glob
#                          on a test's name (suite/test for Criterion tests,
#                          the file name for a script test, which counts as one
#                          test); `default` matches every test; the last
#                          matching entry wins. Here: 77 Criterion tests (19
#                          of them dynarray/*, worth 2) and the gdb script (3),
#                          99 points.
#   GRADE_TIMEOUT          seconds per test (wall clock), GRADE_MEM_MB its memory.
#   GRADE_MEMCHECK_POINTS  the "memcheck" item: the passing tests run again under
#                          Valgrind; clean = these points times the fraction of
#                          test points earned; any error or definite leak = 0.
#   GRADE_BENCH            the benchmark program (one of LAB_PROGS) and its
#                          arguments; its instruction count under callgrind is
#                          compared with the reference's.
#   GRADE_BENCH_WEIGHT     points of the "performance" item: full up to 1.25x
#                          the reference's instructions (= 0.8x its speed),
#                          falling linearly to 0 at 3x; 0 if its output differs
#                          from the reference's.
# Total: 99 (tests) + 10 (memcheck) + 10 (performance) = 119.
#
# This lab has no engine, so no conformance configurations.
# The parts (docs/grading.md, "Labs made of parts"): the lab keeps its five
# exercises flat, but each is a part for grading, in teaching order, with its
# file (PART_<p>_FILES) and its tests (PART_<p>_TESTS); none builds on
# another. `make starter|grade|grade-tests LAB=sprint-1-c-core PART=dynarray`
# and `make -C sprint-1-c-core test PART=dynarray` work on one exercise.
# The gdb script (it walks a dynarray in gdb_demo) and the performance item
# (da_bench) belong to dynarray; every part has its memcheck item.
LAB_PARTS     := pointers dynarray padding vec128 dispatch
PART_pointers_FILES := pointers.c
PART_pointers_TESTS := tests/test_pointers.c
PART_dynarray_FILES := dynarray.c
PART_dynarray_TESTS := tests/test_dynarray.c tests/gdbinit_test.sh
PART_padding_FILES  := padding.c
PART_padding_TESTS  := tests/test_padding.c
PART_vec128_FILES   := vec128.c
PART_vec128_TESTS   := tests/test_vec128.c
PART_dispatch_FILES := dispatch.c
PART_dispatch_TESTS := tests/test_dispatch.c
$(foreach p,pointers padding vec128 dispatch,$(eval PART_$(p)_GRADE_BENCH :=))
STUDENT_FILES := $(foreach p,$(LAB_PARTS),$(PART_$(p)_FILES))
GRADE_POINTS  := default:1 dynarray/*:2 gdbinit_test.sh:3
GRADE_TIMEOUT := 10
GRADE_MEM_MB  := 1024
GRADE_MEMCHECK_POINTS := 10
GRADE_BENCH   := da_bench 20000
GRADE_BENCH_WEIGHT := 10
