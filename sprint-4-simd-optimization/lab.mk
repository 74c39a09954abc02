# lab.mk — the manifest of sprint-4-simd-optimization, read by the lab's
# Makefile and by the course tooling (the starter-kit generator, the grader).
#
# LAB_ENGINES: the engines this lab defines (kv_engine_<name>).
# LAB_CONF_CONFIGS: the conformance suite runs once per configuration: the
#   defaults (4 MiB memtable: the suite's data stays in the memtable and the
#   log, so recovery is log replay), and small memtables, blocks and levels
#   (64 KiB: the suite's larger cases flush, compact into L1 and L2, and
#   crash in the middle of both).
LAB_ENGINES      := lsm
LAB_CONF_CONFIGS := lsm lsm:write_buffer=64K,block_size=1K,target_file=64K,level1_bytes=256K
