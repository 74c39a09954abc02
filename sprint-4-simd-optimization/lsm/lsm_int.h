/*
 * lsm_int.h — the private header of the lsm part: the memtable, the WAL,
 * versions and the manifest, compaction, iterators, and the engine's
 * instance struct they all share.
 *
 * Layers of the part, lowest first (calls go only downward; the sstable
 * part, below all of them, is include/sstable.h):
 *   lsm_memtable.c        the skiplist memtable (one writer, lock-free readers)
 *   lsm_wal.c             the write-ahead log: CRC-framed records, replay
 *   lsm_version.c         file metadata, versions (ref-counted), the manifest
 *   lsm_iter.c            merging and level iterators
 *   lsm_compaction.c      flush of an immutable memtable, compaction picking
 *                         and running (leveled, or size-tiered as an option)
 *   lsm_storage_engine.c  engine "lsm": open and recovery, the write path
 *                         with its stalls, reads, the background thread
 *
 * Locking. One mutex (lsm_db.mu) guards the structure: which memtable is
 * active, the immutable one, the current version, the WAL, the counters.
 * Writers hold it for a whole write (so the WAL is a single ordered log);
 * readers hold it only to take references (a memtable, a version) and read
 * without it. Memtables, versions and file metadata are reference-counted
 * with atomics, so the last user frees them, and an SSTable is deleted only
 * when no version lists it any more: a reader never loses a file under it.
 * Two background threads: the flush thread writes the immutable memtable
 * into L0 (and, with compaction=tiered, also merges runs), the compaction
 * thread runs leveled compactions; so a flush never waits behind a long
 * compaction. Both install versions, one at a time (db->installing), and
 * only they (and open, before they start) do.
 */
#ifndef LSM_INT_H
#define LSM_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/env.h"
#include "kvlabs/error.h"
#include "lsm.h"
#include "sstable.h"

/* sstable_int.h's byte helpers are the part's too (one definition) */
#include "sstable_int.h"

#define LSM_LEVELS 7

/* ---- memtable (lsm_memtable.c) -------------------------------------------- */

typedef struct lsm_mem lsm_mem;
typedef struct lsm_mem_node lsm_mem_node;

/* A new empty memtable, one reference held by the caller. */
int lsm_mem_new(lsm_mem **out);
void lsm_mem_ref(lsm_mem *m);
void lsm_mem_unref(lsm_mem *m);
/* Allocate an entry (not yet visible): KV_OK or KV_ENOMEM (nothing changed). */
int lsm_mem_prepare(lsm_mem *m, uint64_t seq, unsigned type, const void *k, size_t kn,
                    const void *v, size_t vn, lsm_mem_node **out);
/* Make a prepared entry visible (the single writer only; readers may run). */
void lsm_mem_link(lsm_mem *m, lsm_mem_node *node);
/* The newest entry of a user key with sequence <= seq: KV_OK (found, *type set,
 * value copied into val when a value and val != NULL), KV_ENOTFOUND, KV_ENOMEM. */
int lsm_mem_get(lsm_mem *m, const void *k, size_t kn, uint64_t seq, unsigned *type, kv_buf *val);
/* Bytes of entries (what fills a memtable), memory held (arena blocks), entries. */
size_t lsm_mem_bytes(const lsm_mem *m);
size_t lsm_mem_footprint(const lsm_mem *m);
uint64_t lsm_mem_entries(const lsm_mem *m);
/* An iterator over the memtable's internal keys; it holds a reference. */
int lsm_mem_iter(lsm_mem *m, lsm_iter **out);

/* ---- WAL (lsm_wal.c) ------------------------------------------------------ */

/* The bytes of the WAL record of one write appended to buf. */
int lsm_wal_encode(lsm_bytes *buf, uint64_t seq, unsigned type, const void *k, size_t kn,
                   const void *v, size_t vn);
/* Called for every record replayed, in order. */
typedef int (*lsm_wal_visit)(void *arg, uint64_t seq, unsigned type, const void *k, size_t kn,
                             const void *v, size_t vn);
/* Replay a log file: KV_OK (a torn tail is dropped); KV_ECORRUPT (a damaged
 * complete record); the visitor's error; env errors. */
int lsm_wal_replay(const kv_env *env, const char *path, lsm_wal_visit visit, void *arg);

/* ---- versions and the manifest (lsm_version.c) ---------------------------- */

/* An SSTable file of the store, shared by the versions that list it. */
typedef struct lsm_file {
    atomic_int refs;
    uint64_t number, size, entries;
    lsm_bytes smallest, largest;  /* internal keys */
    lsm_table *table;             /* open reader */
    char *path;                   /* to unlink it when obsolete */
    const kv_env *env;
    atomic_bool obsolete;         /* unlink when the last reference goes */
    bool compacting;              /* an input of the running compaction (under mu) */
} lsm_file;

void lsm_file_unref(lsm_file *f);

/* The set of files at each level: L0 newest first (overlapping), L1+
 * sorted by key and disjoint. Immutable once installed. */
typedef struct lsm_version {
    atomic_int refs;
    lsm_file **files[LSM_LEVELS];
    size_t n[LSM_LEVELS];
} lsm_version;

int lsm_version_new(lsm_version **out);
void lsm_version_ref(lsm_version *v);
void lsm_version_unref(lsm_version *v);
/* A copy of v minus the files in drop[] plus the files in add[] at level
 * add_level (kept sorted); every file listed gains a reference. */
int lsm_version_edit(const lsm_version *v, lsm_file *const *drop, size_t ndrop,
                     lsm_file *const *add, size_t nadd, int add_level, lsm_version **out);
uint64_t lsm_version_level_bytes(const lsm_version *v, int level);
/* Whether any file at a level > level overlaps user key k (tombstone rule). */
bool lsm_version_deeper_overlap(const lsm_version *v, int level, const void *k, size_t kn);

/* The durable state besides the files (docs/formats/lsm.md). */
typedef struct lsm_manifest_state {
    uint64_t next_file, last_seq, log_number, live_keys, live_bytes;
} lsm_manifest_state;

/* Write MANIFEST.tmp, sync it, rename it over MANIFEST, sync the directory. */
int lsm_manifest_write(const kv_env *env, const char *dir, unsigned mode, const lsm_version *v,
                       const lsm_manifest_state *st);
/* Read MANIFEST (KV_ENOTFOUND when none) and open its files. */
int lsm_manifest_read(const kv_env *env, const char *dir, lsm_read_stats *rs, lsm_version **v,
                      lsm_manifest_state *st);
/* Open an SSTable as a lsm_file (one reference). */
int lsm_file_open(const kv_env *env, const char *dir, uint64_t number, lsm_read_stats *rs,
                  lsm_file **out);
/* "<dir>/<number, 6+ digits>.<ext>" into buf. */
void lsm_file_name(char *buf, size_t n, const char *dir, uint64_t number, const char *ext);

/* ---- iterators (lsm_iter.c) ----------------------------------------------- */

/* A merging iterator over children (it owns and closes them); on ties the
 * child listed first wins (it is the newer). */
int lsm_merge_iter(lsm_iter **children, size_t n, lsm_iter **out);
/* An iterator over the files of one level >= 1 (sorted, disjoint). */
int lsm_level_iter(lsm_file *const *files, size_t n, lsm_iter **out);

/* ---- the instance ---------------------------------------------------------- */
typedef struct lsm_db lsm_db;

typedef struct lsm_config {
    size_t write_buffer, target_file, level1_bytes;
    lsm_table_opts table;
    unsigned l0_trigger, l0_slowdown, l0_stop, ratio;
    bool tiered;
    size_t block_cache; /* bytes; 0: no block cache */
    bool exact;         /* exact_stats: look every put's key up first */
} lsm_config;

/* lsm_manifest_state.live_keys when the counts are not kept (a put made
 * with exact_stats=false): stats report 0; an open with exact_stats=true
 * counts them again by a scan. */
#define LSM_COUNTS_UNKNOWN UINT64_MAX

struct lsm_db {
    kv_db base;
    const kv_env *env;
    char *dir;
    unsigned file_mode;
    kv_sync_mode sync;
    uint64_t sync_ms;
    lsm_config cfg;
    kv_file *lock;

    pthread_mutex_t mu;
    pthread_cond_t work_cv;  /* the compaction thread waits here */
    pthread_cond_t flush_cv; /* the flush thread waits here */
    pthread_cond_t done_cv;  /* stalled writers wait here */
    pthread_cond_t install_cv; /* installers wait here for db->installing */
    bool installing;         /* a version edit is being computed and written */
    lsm_mem *mem, *imm;
    lsm_version *current;
    lsm_manifest_state st;   /* next_file, last_seq, live counts (live: now) */
    lsm_manifest_state mf;   /* what the MANIFEST on disk says */
    uint64_t imm_keys, imm_bytes, imm_seq; /* live counts and last seq when imm was sealed */
    kv_file *wal, *imm_wal;
    uint64_t wal_number, imm_wal_number, wal_off;
    lsm_bytes wal_buf;
    int bg_error;
    bool shutting_down, bg_started, flush_started;
    pthread_t bg, flusher;
    unsigned char compact_ptr[LSM_LEVELS][64]; /* round-robin start per level (user key prefix) */
    size_t compact_ptr_n[LSM_LEVELS];

    /* group commit: the WAL bytes known durable */
    pthread_mutex_t sync_mu;
    uint64_t synced_off, synced_number;
    bool dir_dirty;          /* a log was created since the directory was synced (under mu) */

    /* counters for stats */
    lsm_read_stats rs;
    uint64_t n_flushes, n_compactions, compact_bytes_in, compact_bytes_out;
    uint64_t stall_slowdowns, stall_stops, stall_ns, stall_max_ns;
    uint64_t stall_l0_stops, stall_l0_max_ns, stall_imm_max_ns, stall_slow_max_ns; /* by cause */
    uint64_t compact_ns_max, compact_ns; /* the longest and the total compaction time */
    uint64_t compact_hist[4]; /* compactions that took < 10 ms, < 100 ms, < 1 s, >= 1 s */
    kv_buf scratch;          /* old values looked up by writers (under mu) */
};

/* The kinds of background work a thread does (lsm_bg_work's roles). */
#define LSM_BG_FLUSH 1u   /* write the immutable memtable into L0 */
#define LSM_BG_COMPACT 2u /* run a compaction */
/* lsm_compaction.c: one unit of background work of the given roles, a
 * flush before a compaction (called with mu held; may drop and retake it).
 * Returns whether it did anything. */
bool lsm_bg_work(lsm_db *db, unsigned roles);
/* Take and give back the right to edit and install a version (mu held;
 * lsm_install_begin waits while another thread holds it). */
void lsm_install_begin(lsm_db *db);
void lsm_install_end(lsm_db *db);
/* Whether a compaction is due in v. */
bool lsm_needs_compaction(const lsm_db *db, const lsm_version *v);
/* Write the entries of an iterator into new L0/Ln tables (used by flush,
 * recovery and compaction). bottom_level: tombstones may be dropped where
 * nothing deeper overlaps (v, level given); older versions are dropped. */
int lsm_write_tables(lsm_db *db, lsm_iter *it, const lsm_version *v, int out_level,
                     bool drop_obsolete, lsm_file ***out, size_t *nout);
/* Install a new current version and write the manifest (mu held; it is
 * dropped during the manifest write). */
int lsm_install(lsm_db *db, lsm_version *nv, const lsm_manifest_state *st);

/* ---- reads (lsm_read.c) --------------------------------------------------- */

/* The newest entry of a user key with sequence <= seq in mem, imm (either
 * may be NULL) and v: KV_OK (found, *type set, the value in val when a
 * value and val != NULL), KV_ENOTFOUND, or an error. The caller holds
 * references (or db->mu) on all three. */
int lsm_lookup(lsm_mem *mem, lsm_mem *imm, const lsm_version *v, const void *k, size_t kn,
               uint64_t seq, unsigned *type, kv_buf *val);
/* The kv.h iterator functions of engine "lsm". */
int lsm_kv_iter_open(kv_db *kdb, kv_iter **out);
void lsm_kv_iter_first(kv_iter *it);
void lsm_kv_iter_seek(kv_iter *it, const void *k, size_t kn);
bool lsm_kv_iter_valid(const kv_iter *it);
void lsm_kv_iter_next(kv_iter *it);
void lsm_kv_iter_key(const kv_iter *it, const void **k, size_t *n);
void lsm_kv_iter_value(const kv_iter *it, const void **v, size_t *n);
int lsm_kv_iter_status(const kv_iter *it);
void lsm_kv_iter_close(kv_iter *it);

/* ---- recovery (lsm_recover.c) ------------------------------------------------ */

/* Read the manifest, replay the logs into L0 tables, start a new log,
 * write the manifest, delete what is obsolete (db->dir locked, options set). */
int lsm_recover(lsm_db *db);

#endif /* LSM_INT_H */
