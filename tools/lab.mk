# tools/lab.mk — manifest of tools/, in the same form as a lab's.
#
# LAB_ENGINES: the engines linked into kvctl (its generated registry lists
#   them, so `kvctl engines` shows them and `kvctl -e NAME` opens them).
# LAB_USES: the labs whose libraries define those engines (built first).
# LAB_INITS: their start-up functions (the SIMD hash paths).
# Each later lab adds its engines, its folder and its start-up functions here,
# so kvctl reaches every engine.
LAB_ENGINES := model hash shm bitcask btree cowbtree raft
LAB_USES    := sprint-2-hash-storage sprint-3-btree-storage sprint-5-production-features
LAB_INITS   := kv_hash_simd_init
