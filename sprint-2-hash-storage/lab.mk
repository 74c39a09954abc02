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
LAB_ENGINES      := hash shm bitcask
LAB_INITS        := kv_hash_simd_init
LAB_CONF_CONFIGS := hash:strategy=chaining hash:strategy=linear hash:strategy=robinhood \
                    hash:strategy=swiss hash:strategy=linear,hash=fnv1a,buckets=4 \
                    hash:strategy=robinhood,hash=crc32c,resize=all,buckets=16 \
                    hash:strategy=swiss,shards=1,buckets=16 \
                    shm shm:shards=1,buckets=1,initial_size=64K \
                    bitcask bitcask:max_file_size=8K,auto_merge=0.5,auto_merge_min=24K \
                    bitcask:write_buffer=4K,max_file_size=16K
STUDENT_FILES    := ht_chaining.c ht_linear.c ht_robinhood.c ht_swiss.c \
                    neon_hash.c neon_hash_x86.c neon_hash_arm.c shm_alloc.c shm_index.c \
                    bitcask_record.c bitcask_keydir.c bitcask_scan.c bitcask_log.c \
                    bitcask_merge.c
# Grading (tools/grade.py; docs/grading.md describes every variable). Every
#   test is worth one point. Script tests (the qemu runs, the TSan build, the
#   freestanding check) build and run for minutes: 10 minutes each. Valgrind
#   (the memcheck item) runs the hash table's own suites, not the whole
#   conformance matrix, so that a grade takes minutes, not an hour. The
#   performance item (10 points) counts the instructions of ht_grade_bench
#   (every strategy through kv.h, then the SIMD hash paths) under callgrind
#   against the reference's: deterministic, unlike ht_bench's timings.
#   mutants/ holds the bugs of `make grade-tests`: 01-08 in the four
#   collision strategies, 09-16 in the SIMD hash paths (the x86-64 CRC32C,
#   XXH3 and key loops, and the dispatch), 30-37 in the shared-memory
#   store's free lists and index.
GRADE_POINTS          := default:1
GRADE_TIMEOUT         := 30
GRADE_SCRIPT_TIMEOUT  := 600
GRADE_MEMCHECK_POINTS := 20
GRADE_MEMCHECK_TESTS  := core/* engine/* strategies/* resize/*
GRADE_BENCH           := ht_grade_bench 20000
GRADE_BENCH_WEIGHT    := 10
