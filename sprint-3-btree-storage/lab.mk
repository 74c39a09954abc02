# lab.mk — the manifest of sprint-3-btree-storage, read by the lab's Makefile
# and by the course tooling (the starter-kit generator, the grader).
#
# LAB_ENGINES: the engines this lab defines (kv_engine_<name>).
# LAB_CONF_CONFIGS: the conformance suite runs once per configuration: the
#   default order (64), the smallest order (3: every few keys split or
#   merge, the tree is tall), a small even order (4: the asymmetric split
#   and minimum-fill arithmetic), and the largest tested order (256: one
#   leaf holds most of a test's keys). cowbtree (cow/): its defaults (16 KiB
#   pages: the suite's 4096-byte values need them). A second configuration
#   with 8 KiB pages and a checkpoint every 7 commits was tried and dropped:
#   8 KiB pages lower the default max_value below the suite's 4096 bytes, and
#   three fsyncs every 7 commits put many_keys and the iteration cases over
#   their timeouts. Frequent checkpoints are tested in cow/tests/test_cow.c.
# STUDENT_FILES: the files a student edits. Each holds solution regions fenced
#   /* BEGIN SOLUTION */ ... /* END SOLUTION */, each preceded by a
#   /* STUB: ... */ comment whose body replaces the region in the starter kit;
#   the starter compiles warning-free and its tests fail.
LAB_ENGINES      := btree cowbtree
LAB_CONF_CONFIGS := btree btree:order=3 btree:order=4 btree:order=256 cowbtree
# The student writes the tree's changes: splitting leaves and inner nodes,
# merging and borrowing (btree_operations.c), the bulk load
# (btree_bulk.c) and the invariant walk of bpt_check (btree_check.c). The
# searches, the node layout, the write paths that call those helpers, the
# dot printer and the engine are given.
STUDENT_FILES    := btree/btree_operations.c btree/btree_bulk.c btree/btree_check.c
# Grading (tools/grade.py; docs/grading.md describes every variable). Every
#   test is worth one point, except the tests an untouched starter kit
#   passes (they check given code: option and argument checks, the
#   front end, the port, the printer's error path; and, per configuration,
#   the conformance cases whose few keys fit in one leaf, which need no
#   split at that order): they run and are reported, worth 0, so the
#   starter scores 0 and every point is earned by the student's code.
#   The memcheck item runs the core's own suites under Valgrind. No
#   performance item yet (GRADE_BENCH unset): the lab's measurements are
#   kvbench's and btree_memory's, see benchmarks/README.md.
#   The mutants of `make grade-tests` are in btree/mutants/.
GRADE_POINTS          := \
    default:1 \
    conformance(*)/conf_basic/bad_boolean:0 \
    conformance(*)/conf_basic/bad_option_values:0 \
    conformance(*)/conf_basic/delete_semantics:0 \
    conformance(*)/conf_basic/duplicate_option:0 \
    conformance(*)/conf_basic/empty_key_is_einval:0 \
    conformance(*)/conf_basic/engine_names_lists_engine:0 \
    conformance(*)/conf_basic/last_error_after_failures:0 \
    conformance(*)/conf_basic/missing_key_is_enotfound:0 \
    conformance(*)/conf_basic/null_buffer_is_existence_test:0 \
    conformance(*)/conf_basic/null_key_is_einval:0 \
    conformance(*)/conf_basic/open_enomem:0 \
    conformance(*)/conf_basic/option_syntax_accepted:0 \
    conformance(*)/conf_basic/overwrite_longer_and_shorter:0 \
    conformance(*)/conf_basic/put_then_get:0 \
    conformance(*)/conf_basic/strerror_distinct:0 \
    conformance(*)/conf_basic/unknown_engine:0 \
    conformance(*)/conf_basic/unknown_option_named:0 \
    conformance(*)/conf_iter/empty_store:0 \
    conformance(*)/conf_limits/key_limit_exact:0 \
    conformance(*)/conf_limits/large_value_default_limits:0 \
    conformance(*)/conf_limits/limit_beyond_engine_is_einval:0 \
    conformance(*)/conf_limits/other_small_limits:0 \
    conformance(*)/conf_limits/raised_value_limit:0 \
    conformance(*)/conf_limits/value_limit_exact:0 \
    conformance(btree)/conf_basic/empty_value_allowed:0 \
    conformance(btree)/conf_basic/enomem_changes_nothing:0 \
    conformance(btree)/conf_basic/stats_after_known_sequence:0 \
    conformance(btree)/conf_binary/prefix_and_nul_keys_distinct:0 \
    conformance(btree)/conf_binary/values_with_nuls:0 \
    conformance(btree)/conf_iter/memcmp_order_shorter_first:0 \
    conformance(btree)/conf_limits/full_size_pairs_whole:0 \
    conformance(btree)/conf_threads/shared_keys:0 \
    conformance(btree:order=4)/conf_basic/empty_value_allowed:0 \
    conformance(btree:order=4)/conf_basic/stats_after_known_sequence:0 \
    conformance(btree:order=256)/conf_basic/buffer_reused_across_sizes:0 \
    conformance(btree:order=256)/conf_basic/empty_value_allowed:0 \
    conformance(btree:order=256)/conf_basic/enomem_changes_nothing:0 \
    conformance(btree:order=256)/conf_basic/stats_after_known_sequence:0 \
    conformance(btree:order=256)/conf_binary/long_binary_keys:0 \
    conformance(btree:order=256)/conf_binary/prefix_and_nul_keys_distinct:0 \
    conformance(btree:order=256)/conf_binary/values_with_nuls:0 \
    conformance(btree:order=256)/conf_iter/memcmp_order_shorter_first:0 \
    conformance(btree:order=256)/conf_iter/pointers_valid_until_next_move:0 \
    conformance(btree:order=256)/conf_iter/two_iterators_independent:0 \
    conformance(btree:order=256)/conf_limits/full_size_pairs_whole:0 \
    conformance(btree:order=256)/conf_threads/shared_keys:0 \
    bulk/only_into_an_empty_tree:0 \
    core/create_rejects_bad_order:0 \
    core/too_big_is_etoobig:0 \
    dot/writer_failure_is_reported:0 \
    enomem/create_cleans_up:0 \
    scan/visitor_error_is_returned:0 \
    freestanding_check.sh:0 \
    conformance(cowbtree)/*:0 \
    txn/*:0 snap/*:0 crash/*:0 meta/*:0 log/*:0 verify/*:0 golden/*:0 pages/*:0
# The cow/ part (engine cowbtree) is not fenced yet (its files are not in
# STUDENT_FILES), so a starter kit ships it whole and passes its tests:
# they are worth 0 until the part gets its fences.
GRADE_TIMEOUT         := 60
GRADE_SCRIPT_TIMEOUT  := 600
GRADE_MEMCHECK_POINTS := 10
GRADE_MEMCHECK_TESTS  := core/* split/* delete/* scan/* check/* dot/*
