# lab.mk — the manifest of sprint-3-btree-storage, read by the lab's Makefile
# and by the course tooling (the starter-kit generator, the grader).
#
# LAB_ENGINES: the engines this lab defines (kv_engine_<name>).
# LAB_CONF_CONFIGS: the conformance suite runs once per configuration: the
#   default order (64), the smallest order (3: every few keys split or
#   merge, the tree is tall), a small even order (4: the asymmetric split
#   and minimum-fill arithmetic), and the largest tested order (256: one
#   leaf holds most of a test's keys).
# STUDENT_FILES: the files a student edits. Each holds solution regions fenced
#   /* BEGIN SOLUTION */ ... /* END SOLUTION */, each preceded by a
#   /* STUB: ... */ comment whose body replaces the region in the starter kit;
#   the starter compiles warning-free and its tests fail.
LAB_ENGINES      := btree
LAB_CONF_CONFIGS := btree btree:order=3 btree:order=4 btree:order=256
