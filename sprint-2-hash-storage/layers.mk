# layers.mk — sprint 2's parts and, in each part, its layers, lowest first:
# every file of the lab library calls only files of lower layers of its part
# or of lower parts (and common/). scripts/layering_check.py reads this (and
# lab.mk) in `make test` (tools/tests/layering_test.sh); DESIGN.md §1.
#
# A layer is one file or several comma-separated siblings (which may not call
# each other). Names are basenames, so the files may live in part folders.
# The part READMEs list the same layers in prose.
LAYER_PARTS     := hashtable simd bitcask shm
# the port, the arena and retired memory, resizing, the four strategies
# (siblings), the core, the engine
LAYERS_hashtable := ht_port_user.c ht_arena.c ht_resize.c \
                    ht_chaining.c,ht_linear.c,ht_robinhood.c,ht_swiss.c \
                    ht_core.c hash_engine.c
# XXH3's long-input kernels, the per-ISA paths, the dispatch
LAYERS_simd     := neon_hash_xxh3.c neon_hash_x86.c,neon_hash_arm.c neon_hash.c
# records; keydir, scan and the log over them; hint files; recovery and
# merge; the engine (which holds the public bc_merge())
LAYERS_bitcask  := bitcask_record.c bitcask_keydir.c,bitcask_scan.c,bitcask_log.c \
                   bitcask_hint.c bitcask_recover.c,bitcask_merge.c bitcask_engine.c
# the segment (with the size classes and the test hook) and the op log; the
# allocator (with growth); the index; recovery; the engine; snapshots
LAYERS_shm      := shm_segment.c,shm_oplog.c shm_alloc.c shm_index.c shm_recover.c \
                   shm_engine.c shm_snapshot.c
