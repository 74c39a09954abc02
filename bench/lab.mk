# bench/lab.mk — manifest of bench/, in the same form as a lab's.
#
# LAB_ENGINES: the engines linked into kvbench (its generated registry lists
#   them; model is added automatically). Today: the four peers, whose
#   adapters are in peers/. Every later lab adds its engines here (e.g.
#   `LAB_ENGINES += hash bitcask`) and its library to LAB_LIBS in bench/Makefile
#   (e.g. `LAB_LIBS += $(LIBDIR)/libsprint-2-hash-storage.a`), so kvbench —
#   and with it `make report` — reaches every engine. kdev (sprint 2's
#   kernel device) is linked but only runs inside the test VM (kind "vm":
#   not in the default engine list; sprint-2-hash-storage make ktest-bench).
#   A lab whose engines need a start-up function (sprint 2's SIMD hash paths)
#   adds it to LAB_INITS here too.
# LAB_MICROS: micro-benchmarks (`const struct kv_micro_bench kv_micro_<name>`,
#   see kvlabs/micro.h) listed in kvbench's registry. A lab that defines its own
#   adds their names here and its library to LAB_LIBS, like an engine.
LAB_ENGINES := hash bitcask btree lsm leveldb shm lmdb rocksdb sqlite kdev cowbtree
# kbtree: sprint 3's kernel device /dev/kvbtree (kind "vm", like kdev:
#   sprint-3-btree-storage make ktest-bench)
LAB_ENGINES += kbtree
LAB_INITS   := kv_hash_simd_init lsm_simd_init
LAB_MICROS  := crc32c_4k xxh3_4k btree_get_1m btree_scan1000_1m btree_bulk_load_10k
# sprint 3's cowbtree (benchmarks/cow_benchmarks.c): the issue 17 roadmap's set
LAB_MICROS  += open_close_empty read_page_random_16k_hot read_page_random_16k_cold \
               commit_meta_fsync build_sequential_insert_1m point_get_hot_1m \
               range_scan_1k_rows_hot snapshot_open_close readers_N_point_get_hot \
               writer_commits_with_readers
# sprint 4's benchmarks/storage_benchmarks.c: lsm, cowbtree, btree, LevelDB and
#   RocksDB side by side, with write, read and space amplification (issue 18);
#   `kvbench --micros 'storage_*' --workloads none`, the report's storage section
LAB_MICROS  += storage_fillrandom_lsm storage_readrandom_lsm \
               storage_fillrandom_cowbtree storage_readrandom_cowbtree \
               storage_fillrandom_btree storage_readrandom_btree \
               storage_fillrandom_leveldb storage_readrandom_leveldb \
               storage_fillrandom_rocksdb storage_readrandom_rocksdb
