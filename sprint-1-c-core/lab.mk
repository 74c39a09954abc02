# lab.mk — the manifest of sprint-1-c-core, read by the lab's Makefile and by
# the course tooling (the starter-kit generator, the grader).
#
# STUDENT_FILES lists the files a student edits. Each holds solution regions
# fenced /* BEGIN SOLUTION */ ... /* END SOLUTION */, each preceded by a
# /* STUB: ... */ comment whose body replaces the region in the starter kit
# (`make starter`); the starter compiles warning-free and its tests fail.
# Everything else (headers, tests, demos, .gdbinit) ships unchanged.
#
# Later issues add here: points per test for the grader, and the benchmark
# behind the performance score. This lab has no engine, so no conformance
# configurations.
STUDENT_FILES := pointers.c dynarray.c padding.c vec128.c dispatch.c
