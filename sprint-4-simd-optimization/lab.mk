# lab.mk — the manifest of sprint-4-simd-optimization, read by the lab's
# Makefile and by the course tooling (the starter-kit generator, the grader).
#
# LAB_ENGINES: the engines this lab defines (kv_engine_<name>).
# LAB_CONF_CONFIGS: the conformance suite runs once per configuration: the
#   defaults (4 MiB memtable: the suite's data stays in the memtable and the
#   log, so recovery is log replay), and small memtables, blocks and levels
#   (64 KiB: the suite's larger cases flush, compact into L1 and L2, and
#   crash in the middle of both; a 32 KiB block cache, 2 KiB a shard, so
#   blocks are evicted while readers hold them).
LAB_ENGINES      := lsm
# LAB_INITS: start-up functions for the registry: lsm_simd_init installs the
#   simd part's bloom probe and key compare for this CPU (KVLABS_LSM_SIMD caps).
LAB_INITS        := lsm_simd_init
LAB_CONF_CONFIGS := lsm lsm:write_buffer=64K,block_size=1K,target_file=64K,level1_bytes=256K,block_cache=32K
# STUDENT_FILES: the files a student edits, the solution regions fenced
#   /* BEGIN SOLUTION */ ... /* END SOLUTION */ behind a /* STUB: ... */ whose
#   body replaces them in the starter kit (every stub fails with KV_ENOTSUP,
#   "not implemented: FN"). Given, not fenced: the internal-key comparison
#   (sstable_key.c), the scalar bloom positions and key compare (simd/'s
#   reference), reading and checking a block (read_block, where compression
#   goes), the cache's shards and release, the merging and level iterators
#   (lsm_iter.c), the kv.h iterator and the engine (lsm_storage_engine.c:
#   options, group commit, stalls, the background thread).
# LAB_PARTS: the parts, lowest layer first (README.md is their map; docs/
#   grading.md "Labs made of parts"). simd/ is the lowest: sstable/ calls
#   its probe and key compare (calls go downward). sstable/ has no engine:
#   its tests build tables in the memory env. lsm/ uses sstable/ (both
#   shipped solved in its kit) and runs the conformance configurations.
LAB_PARTS            := simd sstable lsm
PART_simd_FILES      := simd/neon_lsm_ops.c simd/neon_lsm_ops_x86.c simd/neon_lsm_ops_arm.c
PART_sstable_FILES   := sstable/sstable_block.c sstable/sstable_bloom.c \
                        sstable/sstable_builder.c sstable/sstable_reader.c \
                        sstable/sstable_cache.c
PART_sstable_USES    := simd
PART_lsm_FILES       := lsm/lsm_memtable.c lsm/lsm_wal.c lsm/lsm_version.c \
                        lsm/lsm_compaction.c lsm/lsm_read.c lsm/lsm_recover.c
PART_lsm_USES        := sstable
PART_lsm_ENGINES     := lsm
STUDENT_FILES        := $(foreach p,$(LAB_PARTS),$(PART_$(p)_FILES))
# Grading (tools/grade.py; docs/grading.md). Every test is worth one point,
#   except those an untouched starter passes (they check the code the course
#   gives: the scalar reference of simd/, the codecs of per-block
#   compression (sstable_compress.c: codec/*), the front end's option checks, the
#   conformance suite's argument checks, lsm_block_iter's restart-count
#   check): they run, worth 0, so the starter scores 0. fuzz_block (the
#   block-decode fuzz driver) is one point: its seeds come from the
#   student's builder and decoder. The kill -9 and compaction suites run for
#   tens of seconds under ASan: 120 s each. qemu_lsm_simd.sh is graded case
#   by case (<run>/<function>); the aarch64 run with KVLABS_LSM_SIMD=portable
#   and the SSE2-only CPU's probe run only the scalar code: worth 0.
#   Valgrind (the memcheck item) runs the simd and sstable suites and the
#   lsm suites that do not fork (kill -9 children under Valgrind take
#   minutes). <part>/mutants/ hold the bugs of `make grade-tests`: 40-47 in
#   simd/ (the AVX2 probe's seed, lane and bit masks; the AVX2 and SSE2
#   compare's tail, lane index and signedness; the dispatcher's choice of
#   path and its cap), 50-57 in sstable/, 60-67 in lsm/.
GRADE_POINTS          := default:1 simd/positions_are_the_format:0 \
    simd/key_cmp_scalar_is_unsigned_bytewise_shorter_first:0 \
    qemu_lsm_simd.sh/aarch64-portable/*:0 qemu_lsm_simd.sh/x86_64-sse2/bloom_probe:0 \
    conformance(*)/conf_basic/bad_boolean:0 conformance(*)/conf_basic/bad_option_values:0 \
    conformance(*)/conf_basic/duplicate_option:0 conformance(*)/conf_basic/strerror_distinct:0 \
    conformance(*)/conf_basic/unknown_engine:0 conformance(*)/conf_basic/unknown_option_named:0 \
    conformance(*)/conf_limits/limit_beyond_engine_is_einval:0 \
    block/bad_restart_arrays_are_corrupt:0 codec/*:0
GRADE_SCRIPT_CASES    := qemu_lsm_simd.sh
GRADE_TIMEOUT         := 120
GRADE_SCRIPT_TIMEOUT  := 600
GRADE_MEMCHECK_POINTS := 10
GRADE_MEMCHECK_TESTS  := simd/* simd_table/* block/* bloom/* table/* corrupt/* levels/*
PART_simd_GRADE_MEMCHECK_POINTS := 10
PART_simd_GRADE_MEMCHECK_TESTS  := simd/* simd_table/*
PART_simd_GRADE_BENCH           :=
PART_sstable_GRADE_MEMCHECK_TESTS := block/* bloom/* table/* corrupt/*
PART_lsm_GRADE_MEMCHECK_TESTS     := levels/*
# Layers (scripts/layering_check.py, run by make test): calls go only
#   downward. simd/ is below sstable/; in simd/ the architecture files are
#   siblings below the dispatcher (which reads their path tables); in
#   sstable/ the order of sstable_int.h, the block cache below the reader.
#   (lsm/'s files are not declared yet: the check reports them as
#   undeclared and checks them for cycles only.)
LAYER_PARTS      := simd sstable
LAYERS_simd      := neon_lsm_ops_x86.c,neon_lsm_ops_arm.c neon_lsm_ops.c
LAYERS_sstable   := sstable_key.c sstable_bloom.c sstable_compress.c sstable_cache.c \
                    sstable_block.c sstable_builder.c sstable_reader.c
