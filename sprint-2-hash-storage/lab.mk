# lab.mk — the manifest of sprint-2-hash-storage, read by the lab's Makefile
# and by the course tooling (the starter-kit generator, the grader).
#
# LAB_ENGINES: the engines this lab defines (kv_engine_<name>); the generated
#   registry of every program of the lab lists them, plus `model`, the oracle.
# LAB_INITS: start-up functions for the registry: kv_hash_simd_init installs
#   the SIMD hash paths of neon_hash.c into kvlabs/hash.h's dispatch table.
#   (A plain word list: the top-level Makefile reads it with sed.)
# LAB_CONF_CONFIGS: the conformance suite runs once per configuration: every
#   collision strategy, and one starting from 4 buckets with FNV-1a so that
#   every shard resizes many times from its smallest size, one with CRC32C and
#   stop-the-world resizing, and one with a single shard. Bitcask runs with
#   its defaults, with 8 KiB data files and automatic merges (so rollover,
#   merge and hint files run inside the crash cases), and with a write
#   buffer. (sync= cannot be fixed here: cases pass their own; the Bitcask
#   tests cover sync=always and batch.)
# STUDENT_FILES: the files a student edits. Each holds solution regions fenced
#   /* BEGIN SOLUTION */ ... /* END SOLUTION */, each preceded by a
#   /* STUB: ... */ comment whose body replaces the region in the starter kit;
#   the starter compiles warning-free and its tests fail.
LAB_ENGINES      := hash shm bitcask kdev
LAB_INITS        := kv_hash_simd_init
LAB_CONF_CONFIGS := hash:strategy=chaining hash:strategy=linear hash:strategy=robinhood \
                    hash:strategy=swiss hash:strategy=linear,hash=fnv1a,buckets=4 \
                    hash:strategy=robinhood,hash=crc32c,resize=all,buckets=16 \
                    hash:strategy=swiss,shards=1,buckets=16 \
                    shm shm:shards=1,buckets=1,initial_size=64K \
                    bitcask bitcask:max_file_size=8K,auto_merge=0.5,auto_merge_min=24K \
                    bitcask:write_buffer=4K,max_file_size=16K
# LAB_PARTS: the parts a student can be assigned, in teaching order, lowest
#   layer first (README.md is their map; docs/grading.md "Labs made of
#   parts"). Each part: PART_<p>_FILES, its STUDENT_FILES; PART_<p>_USES, the
#   parts it builds on (solved in its kit unless OWN_LOWER=1); PART_<p>_ENGINES,
#   its conformance configurations; its tests are those in <p>/ (or
#   PART_<p>_TESTS). `make test PART=bitcask`, `make starter|grade|grade-tests
#   ... PART=bitcask` work on one part. The benchmarks/ folder is not a part:
#   its programs belong to the parts they measure (GRADE_BENCH below).
LAB_PARTS        := hashtable simd bitcask shm kernel
PART_hashtable_FILES   := hashtable/ht_chaining.c hashtable/ht_linear.c \
                          hashtable/ht_robinhood.c hashtable/ht_swiss.c
PART_hashtable_ENGINES := hash
PART_simd_FILES        := simd/neon_hash.c simd/neon_hash_x86.c simd/neon_hash_arm.c
# Bitcask's keydir is a hash table (hashtable/): that part ships solved.
PART_bitcask_FILES     := bitcask/bitcask_record.c bitcask/bitcask_keydir.c \
                          bitcask/bitcask_scan.c bitcask/bitcask_log.c bitcask/bitcask_merge.c
PART_bitcask_USES      := hashtable
PART_bitcask_ENGINES   := bitcask
# tsan_storage.sh checks both stores (one CASE each); it runs the case of
# the part being tested (PART) or both.
PART_shm_FILES         := shm/shm_alloc.c shm/shm_index.c
PART_shm_ENGINES       := shm
PART_shm_TESTS         := $(filter shm/%,$(LAB_TESTS) $(LAB_PLAIN_TESTS) $(LAB_SCRIPT_TESTS)) \
                          bitcask/tests/tsan_storage.sh
# The kernel part (kernel/, its handout kernel/README.md): the device
#   /dev/kvhash, a loadable module over the hash table it builds on (shipped
#   solved in its kit). Its student file is kernel/hash_device.c, its ioctl
#   bodies fenced (the starter's device answers ENOSYS; the port, the UAPI
#   header and the harness are given). Its tests run only in the VM
#   (LAB_VM_TESTS: scripts that boot it; never in the host `make test`,
#   which the top-level `make test`'s one boot for every module covers, and
#   `make ktest` runs alone); graded case by case (docs/grading.md "Parts
#   tested in the VM"). Its mutants are kernel/vm-mutants/ (make
#   ktest-mutants: one boot each), not kernel/mutants/, so `make grade-tests
#   PART=kernel` is refused. LAB_ENGINES' kdev only runs in the VM.
PART_kernel_FILES      := kernel/hash_device.c
PART_kernel_USES       := hashtable
LAB_VM_TESTS           := kernel/tests/ktest.sh
STUDENT_FILES    := $(foreach p,$(LAB_PARTS),$(PART_$(p)_FILES))
# Grading (tools/grade.py; docs/grading.md describes every variable). Every
#   test is worth one point. Script tests (the qemu runs, the TSan build, the
#   freestanding check) build and run for minutes: 10 minutes each. Valgrind
#   (the memcheck item) runs the hash table's own suites, not the whole
#   conformance matrix, so that a grade takes minutes, not an hour. The
#   performance item (10 points) counts the instructions of ht_grade_bench
#   (every strategy through kv.h, then the SIMD hash paths) under callgrind
#   against the reference's: deterministic, unlike ht_bench's timings.
#   <part>/mutants/ hold the bugs of `make grade-tests`: 01-08 in the four
#   collision strategies, 09-16 in the SIMD hash paths (the x86-64 CRC32C,
#   XXH3 and key loops, and the dispatch), 30-37 in the shared-memory
#   store's free lists and index; 38 (a read error taken for a torn tail
#   at open), 39-40 (Robin Hood deletes in a run that wraps past the end of
#   the array, during a migration and after), 41 (the longest key refused
#   by the record decoder) close gaps buggy submissions slipped through.
# Script sub-cases: the scripts of GRADE_SCRIPT_CASES print one line
#   `CASE <sub>: PASS|FAIL` per independent check and are graded case by case
#   (`<script>/<sub>`, 1 point each, listed by `<script> --list`): the qemu
#   runs per ISA level and function (qemu_simd.sh/x86_64-sse42/crc32c, ...)
#   and per group-match path and strategy (swiss_group_qemu.sh/neon/swiss,
#   ...), the TSan runs per store (tsan_storage.sh/bitcask, .../shm). So a
#   SIMD path that is wrong on one CPU costs that CPU's cases of that
#   function, in proportion, not 1 point for all of them. The group-match
#   cases check the port's given code: worth 0, like group/*.
# Points: 1 for every test, except the tests an untouched starter kit passes
#   (they check code the course gives: the front end's argument and option
#   checks, the port's group match, the size-class arithmetic, the
#   freestanding build of the stubs, the model engine's log under read
#   errors): they run and are reported, worth 0, so
#   the starter scores 0 and every point is earned by the student's code.
#   `make grade-check` fails if a new test of this kind is left worth a point.
GRADE_POINTS          := default:1 \
    conformance(*)/conf_basic/bad_boolean:0 conformance(*)/conf_basic/bad_option_values:0 \
    conformance(*)/conf_basic/duplicate_option:0 conformance(*)/conf_basic/empty_key_is_einval:0 \
    conformance(*)/conf_basic/engine_names_lists_engine:0 \
    conformance(*)/conf_basic/last_error_after_failures:0 \
    conformance(*)/conf_basic/null_key_is_einval:0 conformance(*)/conf_basic/strerror_distinct:0 \
    conformance(*)/conf_basic/unknown_engine:0 conformance(*)/conf_basic/unknown_option_named:0 \
    conformance(*)/conf_durable/missing_parent_fails:0 \
    conformance(*)/conf_iter/not_ordered_is_enotsup:0 conformance(*)/conf_scan/empty_store:0 \
    conformance(*)/conf_limits/limit_beyond_engine_is_einval:0 \
    core/create_rejects_bad_config:0 engine/bad_options_are_einval_and_named:0 \
    enomem/create_cleans_up:0 group/*:0 shm/caps_not_ordered_not_durable:0 shm/chunk_math:0 \
    shm/path_rules:0 shm/size_classes:0 simd/env_portable_forces_the_portable_table:0 \
    simd/vectors_header_matches_libxxhash:0 \
    shm/segment_mode_follows_option:0 \
    bitcask/second_open_is_busy_here_and_in_another_process:0 freestanding_check.sh:0 \
    swiss_group_qemu.sh/*/group_match:0 bitcask_openio/model_log:0
GRADE_SCRIPT_CASES    := qemu_simd.sh swiss_group_qemu.sh tsan_storage.sh
GRADE_TIMEOUT         := 30
GRADE_SCRIPT_TIMEOUT  := 600
GRADE_MEMCHECK_POINTS := 20
GRADE_MEMCHECK_TESTS  := core/* engine/* strategies/* resize/*
GRADE_BENCH           := ht_grade_bench 20000
GRADE_BENCH_WEIGHT    := 10
# One part graded alone (PART=<p>; kvlab.py "Parts"): its own tests and these
#   settings. The hash table keeps the lab's memcheck and performance items
#   (ht_grade_bench runs the strategies through kv.h; its SIMD hash paths are
#   stubs in that part's tree, the reference's too, so the ratio is the
#   table's). The other parts run their own suites under Valgrind (not the
#   kill -9 and multi-process suites: minutes under Valgrind) and have no
#   performance item.
PART_simd_GRADE_MEMCHECK_POINTS    := 10
PART_simd_GRADE_MEMCHECK_TESTS     := simd/*
PART_simd_GRADE_BENCH              :=
PART_bitcask_GRADE_MEMCHECK_POINTS := 10
PART_bitcask_GRADE_MEMCHECK_TESTS  := bitcask/* bitcask_merge/* bitcask_recovery/*
PART_bitcask_GRADE_BENCH           :=
PART_shm_GRADE_MEMCHECK_POINTS     := 10
PART_shm_GRADE_MEMCHECK_TESTS      := shm/* shm_snap/*
PART_shm_GRADE_BENCH               :=
# The kernel part (PART=kernel) is graded by its VM test alone
#   (kernel/tests/ktest.sh; docs/grading.md "Parts tested in the VM"): one
#   boot, each case of it a test worth one point (ktest.sh/<step>/<run>/
#   <case>: the ioctl cases, the conformance suite on engine kdev, the load
#   cycles), except those that check code the course gives and that the
#   untouched starter passes (loading and unloading the module, its device
#   node, the module parameter check, the kernel's taint and dmesg, the
#   conformance front end's argument checks): worth 0, as above. No memcheck
#   (Valgrind does not see a kernel module: slub_debug and the dmesg check do
#   that work in the VM) and no performance item (ktest-bench is a report).
#   The script gets 15 minutes (the module and test programs build, then
#   the VM boots under TCG: about 2 minutes on an idle machine); run.sh's
#   own timeout (KTEST_TIMEOUT, 300 s) ends a hung VM first, so that the
#   cases it reached keep their results.
KTEST_CONF := ktest.sh/kvhash/conformance
PART_kernel_GRADE_POINTS           := default:1 ktest.sh/kvhash/load*:0 ktest.sh/kernel/*:0 \
    ktest.sh/kvhash/ioctl/bad/unknown_cmd_enotty:0 \
    $(KTEST_CONF)/conf_basic/bad_boolean:0 $(KTEST_CONF)/conf_basic/bad_option_values:0 \
    $(KTEST_CONF)/conf_basic/duplicate_option:0 $(KTEST_CONF)/conf_basic/null_key_is_einval:0 \
    $(KTEST_CONF)/conf_basic/engine_names_lists_engine:0 \
    $(KTEST_CONF)/conf_basic/last_error_after_failures:0 \
    $(KTEST_CONF)/conf_basic/strerror_distinct:0 $(KTEST_CONF)/conf_basic/unknown_engine:0 \
    $(KTEST_CONF)/conf_basic/unknown_option_named:0 \
    $(KTEST_CONF)/conf_iter/not_ordered_is_enotsup:0 \
    $(KTEST_CONF)/conf_limits/limit_beyond_engine_is_einval:0
PART_kernel_GRADE_MEMCHECK_POINTS  := 0
PART_kernel_GRADE_BENCH            :=
PART_kernel_GRADE_SCRIPT_TIMEOUT   := 900
