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
LAB_ENGINES      := btree cowbtree kbtree
LAB_CONF_CONFIGS := btree btree:order=3 btree:order=4 btree:order=256 cowbtree
# The student writes the tree's changes: splitting leaves and inner nodes,
# merging and borrowing (btree_operations.c), the bulk load
# (btree_bulk.c) and the invariant walk of bpt_check (btree_check.c). The
# searches, the node layout, the write paths that call those helpers, the
# dot printer and the engine are given.
# LAB_PARTS: the parts a student can be assigned (docs/grading.md, "Labs
#   made of parts"): btree/ (the in-memory tree above) and cow/ (the
#   copy-on-write B+ tree on disk, engine cowbtree; cow/README.md). Neither
#   builds on the other. In cow/ the student writes the checks that make a
#   crash or a damaged byte visible and the protocol that survives them:
#   the page check (cow_page.c), the meta decode and the A/B choice
#   (cow_meta.c), the freelist's release rule (cow_freelist.c), the commit
#   record and op decoders (cow_log.c), the replay at open (cow_open.c),
#   the checkpoint's write and fsync order (cow_txn.c), and the leaf and
#   inner splits and merges (cow_tree.c). The pager, the page layout, the
#   snapshot registry, the commit path, the engine and verify are given.
LAB_PARTS        := btree cow kernel
PART_btree_FILES   := btree/btree_operations.c btree/btree_bulk.c btree/btree_check.c
PART_btree_ENGINES := btree
PART_cow_FILES     := cow/cow_page.c cow/cow_meta.c cow/cow_freelist.c cow/cow_log.c \
                      cow/cow_open.c cow/cow_txn.c cow/cow_tree.c
PART_cow_ENGINES   := cowbtree
# The kernel part (kernel/, its handout kernel/README.md), as sprint 2's:
#   the device /dev/kvbtree, a loadable module over the B+ tree core it
#   builds on (btree/, shipped solved in its kit). Its student file is
#   kernel/kernel_btree.c, its ioctl bodies and the SCAN visitor fenced (the
#   starter's device answers ENOSYS; the port, the UAPI header, the engine
#   kbtree and the harness are given). Its tests run only in the VM
#   (LAB_VM_TESTS: never in the host `make test`; the top-level make test
#   boots once for every lab's module, `make ktest` boots this one alone),
#   graded case by case (docs/grading.md "Parts tested in the VM"). Its
#   mutants are kernel/vm-mutants/ (make ktest-mutants: one boot each), so
#   `make grade-tests PART=kernel` is refused. LAB_ENGINES' kbtree only runs
#   in the VM.
PART_kernel_FILES  := kernel/kernel_btree.c
PART_kernel_USES   := btree
LAB_VM_TESTS       := kernel/tests/ktest.sh
STUDENT_FILES    := $(foreach p,$(LAB_PARTS),$(PART_$(p)_FILES))
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
    fuzz_cow.sh:0
GRADE_TIMEOUT         := 60
GRADE_SCRIPT_TIMEOUT  := 600
GRADE_MEMCHECK_POINTS := 10
GRADE_MEMCHECK_TESTS  := core/* split/* delete/* scan/* check/* dot/*
# The cow part graded alone (PART=cow): Valgrind runs its own suites, not
#   the crash harness (crash/*: thousands of reopens, minutes under
#   Valgrind) nor the small-page split/merge run; no performance item (its
#   measurements are kvbench's: benchmarks/cow_benchmarks.c). fuzz_cow.sh,
#   the short libFuzzer run, is worth 0: an untouched starter's stubs
#   reject every input and pass it; its deterministic driver fuzz_cow
#   (which checks that the seeds pass and flipped bits do not) is worth 1.
PART_cow_GRADE_MEMCHECK_POINTS := 10
PART_cow_GRADE_MEMCHECK_TESTS  := txn/* snap/* meta/* log/* verify/* golden/*
PART_cow_GRADE_BENCH           :=
# The kernel part (PART=kernel) is graded by its VM test alone, as sprint
#   2's (kernel/tests/ktest.sh; docs/grading.md "Parts tested in the VM"):
#   each case of one boot a test worth one point, except the 20 that the
#   untouched starter passes (measured in a kit's `make ktest`: loading and
#   unloading the module, its device node, the module parameter check, the
#   unknown ioctl, the kernel's taint and dmesg, the conformance front end's
#   argument checks): worth 0. No memcheck (Valgrind does not see a module:
#   slub_debug and the dmesg check do that work) and no performance item.
KTEST_CONF := ktest.sh/kvbtree/conformance
PART_kernel_GRADE_POINTS           := default:1 ktest.sh/kvbtree/load*:0 ktest.sh/kernel/*:0 \
    ktest.sh/kvbtree/ioctl/bad/unknown_cmd_enotty:0 \
    $(KTEST_CONF)/conf_basic/bad_boolean:0 $(KTEST_CONF)/conf_basic/bad_option_values:0 \
    $(KTEST_CONF)/conf_basic/duplicate_option:0 $(KTEST_CONF)/conf_basic/null_key_is_einval:0 \
    $(KTEST_CONF)/conf_basic/engine_names_lists_engine:0 \
    $(KTEST_CONF)/conf_basic/last_error_after_failures:0 \
    $(KTEST_CONF)/conf_basic/strerror_distinct:0 $(KTEST_CONF)/conf_basic/unknown_engine:0 \
    $(KTEST_CONF)/conf_basic/unknown_option_named:0 \
    $(KTEST_CONF)/conf_limits/limit_beyond_engine_is_einval:0
PART_kernel_GRADE_MEMCHECK_POINTS  := 0
PART_kernel_GRADE_BENCH            :=
PART_kernel_GRADE_SCRIPT_TIMEOUT   := 900
