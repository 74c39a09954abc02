/**
 * @file lsm.h
 * @brief Engine `lsm` (sprint 4): a log-structured merge tree.
 *
 * Open it through kv.h: `kv_open("lsm", dir, "write_buffer=4M,bloom_bits=10", &db)`.
 * Writes go to a write-ahead log and a skiplist memtable; full memtables
 * are flushed by a background thread into SSTables (docs/formats/sstable.md)
 * at level 0 and compacted down the levels by another (leveled, ratio 10, or
 * size-tiered with `compaction=tiered`). Reads merge the memtables and the
 * levels. The store's files and the manifest are described in
 * docs/formats/lsm.md.
 *
 * Options (besides the common ones of kv.h):
 * | option | default | meaning |
 * |--------|---------|---------|
 * | write_buffer | 4M | memtable size that triggers a flush |
 * | block_size | 4K | target data block size |
 * | restart_interval | 16 | entries between restart points |
 * | bloom_bits | 10 | bloom filter bits per key (0: no filter) |
 * | target_file | 2M | compaction output file size |
 * | level1_bytes | 10M | target size of L1 (each deeper level: x level_ratio) |
 * | level_ratio | 10 | size ratio between levels |
 * | l0_trigger, l0_slowdown, l0_stop | 4, 8, 12 | L0 files that start a compaction, slow writers by 1 ms, stop writers |
 * | compaction | leveled | leveled or tiered |
 * | compression | none | none (lz4, zstd: not implemented yet, KV_ENOTSUP) |
 *
 * Engine statistics (kv_db_stats extras): l0_files, files, flushes,
 * compactions, compact_bytes_in/out, stall_slowdowns, stall_stops,
 * stall_ms, stall_max_ms (stops by cause: stall_l0_stops, stall_l0_max_ms at
 * l0_stop files, stall_imm_max_ms waiting for the previous memtable's flush;
 * stall_slowdown_max_ms), compact_max_ms, blocks_read, bloom_checks,
 * bloom_negative; compact_ms (the total time of the compactions that
 * merged files) and their distribution by duration: compact_lt10ms,
 * compact_lt100ms, compact_lt1s, compact_ge1s (a trivial move, which
 * rewrites nothing, is counted in compactions only).
 *
 * Thread safety: as every engine (kv.h): any number of threads.
 */
#ifndef LSM_H
#define LSM_H

#include "kvlabs/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The engine table of `lsm`. */
extern const kv_engine_ops kv_engine_lsm;

#ifdef __cplusplus
}
#endif

#endif /* LSM_H */
