/*
 * cow_int.h — private header of the copy-on-write B+ tree (engine `cowbtree`).
 *
 * What it is. A persistent B+ tree in one page file (`data.cow`) plus a
 * commit log (`commit.log`), in the style of LMDB (copy-on-write pages, two
 * meta pages, snapshot readers) with a redo log in front of it so a small
 * commit costs one appended record instead of a page-path write and two
 * fsyncs. docs/formats/cowbtree.md is the full specification; this comment
 * repeats its tables.
 *
 * The layers, lowest first (calls go only downward; no two files call each
 * other):
 *   cow_page.c      page bytes: header, CRC32C, slotted leaf and inner cells,
 *                   the structural validator (also the fuzz target's entry)
 *   cow_meta.c      meta pages A/B: encode, decode, choose the newest valid
 *   cow_freelist.c  free and pending page numbers (writer only)
 *   cow_snap.c      the snapshot registry: the published version, reader slots
 *   cow_log.c       commit records: encode, decode, append, group fsync
 *   cow_pager.c     the page table/cache: load with CRC check, pin/unpin,
 *                   write back at checkpoints
 *   cow_alloc.c     a write transaction's pages: allocate for a copy, free
 *                   the replaced page (spare, freelist, end of file)
 *   cow_tree.c      the B+ tree: search, COW put/delete with split and merge,
 *                   cursors
 *   cow_txn.c       transactions: begin/commit/abort, checkpoint
 *   cow_open.c      open, recovery (meta choice, freelist rebuild, replay), close
 *   cow_verify.c    whole-file verification and dumps (kvctl verify/dump/logdump)
 *   cow_engine.c    the kv.h engine table, and cow.h's cow_txn_begin (the
 *                   check that a kv_db is a cowbtree needs the table)
 *
 * Page header (every tree page; little-endian):
 *   off size field
 *     0   4  crc32c of bytes 4..page_size-1
 *     4   1  type: 1 leaf, 2 inner, 3 meta
 *     5   1  flags (0)
 *     6   2  nkeys: cells in the page
 *     8   8  pgno: the page's own number (a misdirected write is corrupt)
 *    16   8  txnid: the transaction that wrote this version of the page
 *    24   8  link: inner: child 0 (keys below cell 0's key); leaf: 0
 *    32   2  cell_start: offset of the lowest cell byte
 *    34   6  reserved (0)
 *    40      slot array: nkeys x u16 cell offsets, in key order
 * Leaf cell:  u16 klen, u32 vlen, key, value
 * Inner cell: u64 child (keys >= this key), u16 klen, key
 *
 * Meta page (pages 0 = A and 1 = B; the first 128 bytes are covered):
 *     0   4  crc32c of bytes 4..127
 *     4   1  type 3, 5..7 reserved
 *     8   8  magic "COWBTREE"
 *    16   4  format version (1)
 *    20   4  page size (4096, 8192 or 16384)
 *    24   8  txnid of the last transaction the tree contains
 *    32   8  root pgno (0: empty tree)
 *    40   8  next_pgno: pages in use by the file (high-water mark)
 *    48   8  log generation the checkpoint position refers to
 *    56   8  log position: replay starts here
 *    64   8  keys, 72 8 key+value bytes
 *    80  48  reserved (0)
 *
 * Commit log: a 24-byte header (u32 magic "CLOG", u32 version, u64 generation,
 * u32 reserved, u32 crc32c of bytes 0..19) then records:
 *     0   4  magic "CREC"
 *     4   4  crc32c of header bytes 8..31
 *     8   8  log generation
 *    16   8  txnid
 *    24   4  payload length
 *    28   4  number of operations
 *    32      payload: per op u8 kind (1 put, 2 delete), u16 klen, u32 vlen, key, value
 *     .   4  crc32c of the payload
 *     .   4  magic "CEND"
 *
 * What callers must not do: call writer-only functions (freelist, pager
 * allocation, tree writes) without holding the writer lock; keep a page
 * pointer after their snapshot ended; trust any byte read from a file
 * before cow_page_check()/cow_meta_decode()/cow_rec_decode() accepted it.
 */
#ifndef COW_INT_H
#define COW_INT_H

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvlabs/engine.h"
#include "cow.h"

enum {
    COW_PAGE_HDR = 40,
    COW_META_LEN = 128,
    COW_LOG_HDR = 24,
    COW_REC_HDR = 32,
    COW_REC_TRL = 8,
    COW_OP_HDR = 7,
    COW_LEAF_CELL = 6,
    COW_INNER_CELL = 10,
    COW_MAX_DEPTH = 32,
    COW_READERS = 256,
    COW_DIR_BITS = 12, /* page table chunk: 4096 pointers */
    COW_DIR_N = 1 << 16,
};
enum { COW_PT_LEAF = 1, COW_PT_INNER = 2, COW_PT_META = 3 };
enum { COW_OP_PUT = 1, COW_OP_DEL = 2 };
#define COW_MAGIC 0x4545525442574f43ULL /* the bytes "COWBTREE" as a little-endian u64 */
#define COW_LOG_MAGIC 0x474f4c43u       /* "CLOG" */
#define COW_REC_MAGIC 0x43455243u       /* "CREC" */
#define COW_END_MAGIC 0x444e4543u       /* "CEND" */
#define COW_VERSION 1u
#define COW_NO_TXN UINT64_MAX

/* ---- little-endian helpers ---- */
static inline uint16_t cow_ld16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t cow_ld32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t cow_ld64(const unsigned char *p)
{
    return (uint64_t)cow_ld32(p) | (uint64_t)cow_ld32(p + 4) << 32;
}
static inline void cow_st16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static inline void cow_st32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline void cow_st64(unsigned char *p, uint64_t v)
{
    cow_st32(p, (uint32_t)v);
    cow_st32(p + 4, (uint32_t)(v >> 32));
}

/* ---- cow_page.c ---- */
/** One cell, decoded: pointers into a page (or a caller's key). */
typedef struct cow_cell {
    const unsigned char *k;
    const unsigned char *v;
    uint32_t vl;
    uint16_t kl;
    uint64_t child;
} cow_cell;

static inline unsigned cow_pg_type(const unsigned char *p) { return p[4]; }
static inline unsigned cow_pg_n(const unsigned char *p) { return cow_ld16(p + 6); }
static inline uint64_t cow_pg_no(const unsigned char *p) { return cow_ld64(p + 8); }
static inline uint64_t cow_pg_txn(const unsigned char *p) { return cow_ld64(p + 16); }
static inline uint64_t cow_pg_link(const unsigned char *p) { return cow_ld64(p + 24); }

uint32_t cow_page_crc(const unsigned char *p, uint32_t psize);
void cow_page_seal(unsigned char *p, uint32_t psize);
int cow_page_check(const unsigned char *p, uint32_t psize, uint64_t pgno);
void cow_page_cell(const unsigned char *p, unsigned i, cow_cell *c);
size_t cow_cell_size(unsigned type, const cow_cell *c);
size_t cow_page_used(const unsigned char *p, uint32_t psize);
bool cow_page_build(unsigned char *p, uint32_t psize, unsigned type, uint64_t pgno, uint64_t txnid,
                    uint64_t link, const cow_cell *cells, unsigned n);
unsigned cow_page_search(const unsigned char *p, const void *key, size_t klen, bool *exact);
unsigned cow_inner_child_index(const unsigned char *p, const void *key, size_t klen);
uint64_t cow_inner_child(const unsigned char *p, unsigned idx);
int cow_key_cmp(const void *a, size_t na, const void *b, size_t nb);
/* The search index of a leaf in memory (never on disk): room for it follows
 * the page's bytes in every buffer of the pager (cow_pidx_size(psize)
 * bytes); inner pages keep ok = 0.
 * plen bytes pfx shared by every key of the page, then per cell a 4-byte
 * "hint": the key's next 4 bytes after the prefix, big-endian, zero-padded,
 * so hints ascend with the keys. A search compares hints in one compact
 * array and reads a cell only where hints tie (cow_page.c). */
enum { COW_PIDX_PFX = 58 };
typedef struct cow_pidx {
    uint16_t n;   /* hints (the page's nkeys); valid only when ok */
    uint8_t ok;   /* 0: no index (too many cells): plain search */
    uint8_t plen; /* bytes of pfx every key starts with */
    unsigned char pfx[COW_PIDX_PFX];
    uint32_t h[]; /* n hints, at most psize / 16 */
} cow_pidx;
static inline size_t cow_pidx_size(uint32_t psize) { return sizeof(cow_pidx) + psize / 4; }
void cow_page_index(unsigned char *p, uint32_t psize);
unsigned cow_page_find(const unsigned char *p, uint32_t psize, const void *key, size_t klen,
                       bool *exact);
unsigned cow_inner_child_find(const unsigned char *p, uint32_t psize, const void *key, size_t klen);

/* ---- cow_meta.c ---- */
typedef struct cow_meta {
    uint32_t page_size;
    uint64_t txnid, root, next_pgno, log_gen, log_pos, keys, bytes;
} cow_meta;
void cow_meta_encode(const cow_meta *m, unsigned char *buf);
int cow_meta_decode(const unsigned char *buf, size_t len, cow_meta *m);
int cow_meta_choose(const cow_meta *a, bool a_ok, const cow_meta *b, bool b_ok, int *which);

/* ---- cow_freelist.c (writer only) ---- */
typedef struct cow_pending {
    uint64_t pgno, txn;
} cow_pending;
typedef struct cow_fifo {
    cow_pending *e;
    size_t head, n, cap; /* e[head..n) live, sorted by txn */
} cow_fifo;
typedef struct cow_freelist {
    uint64_t *free;
    size_t nfree, capfree;
    cow_fifo mem;  /* pages never written to disk: wait for snapshots only */
    cow_fifo disk; /* pages the last checkpoint may name: wait for a newer checkpoint too */
} cow_freelist;
void cow_fl_init(cow_freelist *fl);
void cow_fl_destroy(cow_freelist *fl);
int cow_fl_reserve(cow_freelist *fl, size_t more_free, size_t more_pending);
bool cow_fl_pop(cow_freelist *fl, uint64_t *pgno);
void cow_fl_push(cow_freelist *fl, uint64_t pgno);
void cow_fl_defer(cow_freelist *fl, uint64_t pgno, uint64_t txn, bool on_disk);
size_t cow_fl_release(cow_freelist *fl, uint64_t oldest, uint64_t ckpt);
size_t cow_fl_pending(const cow_freelist *fl);

/* ---- cow_snap.c ---- */
typedef struct cow_version {
    uint64_t txnid, root, keys, bytes;
} cow_version;
typedef struct cow_snapreg {
    pthread_mutex_t lock;
    cow_version cur;
    atomic_uint_fast64_t slot[COW_READERS];
    atomic_int live;
    /* page-cache epochs (cow_pager.c, eviction): ep[i] = 1 + the epoch at which
       reader slot i (i = COW_READERS: the writer) began using pages, 0 = none */
    atomic_uint_fast64_t epoch;
    atomic_uint_fast64_t ep[COW_READERS + 1];
} cow_snapreg;
void cow_snap_init(cow_snapreg *r, const cow_version *v);
void cow_snap_destroy(cow_snapreg *r);
int cow_snap_acquire(cow_snapreg *r, cow_version *v, int *slot);
void cow_snap_release(cow_snapreg *r, int slot);
void cow_snap_publish(cow_snapreg *r, const cow_version *v);
void cow_snap_current(cow_snapreg *r, cow_version *v);
uint64_t cow_snap_oldest(cow_snapreg *r);
void cow_snap_enter(cow_snapreg *r, int idx);
void cow_snap_exit(cow_snapreg *r, int idx);
uint64_t cow_snap_min_epoch(cow_snapreg *r);

/* ---- cow_log.c ---- */
typedef struct cow_rec {
    uint64_t gen, txnid;
    const unsigned char *payload;
    uint32_t plen, nops;
} cow_rec;
typedef struct cow_op {
    unsigned kind;
    const unsigned char *k, *v;
    uint16_t kl;
    uint32_t vl;
} cow_op;
typedef struct cow_log {
    kv_file *f;
    uint64_t gen;
    uint64_t end;    /* append offset (writer lock) */
    uint64_t synced; /* durable offset (sync_lock) */
    bool syncing;
    pthread_mutex_t sync_lock;
    pthread_cond_t cv;
} cow_log;
void cow_log_header_encode(uint64_t gen, unsigned char *buf);
int cow_log_header_decode(const unsigned char *buf, size_t len, uint64_t *gen);
size_t cow_rec_decode(const unsigned char *buf, size_t len, cow_rec *r);
bool cow_rec_damaged(const unsigned char *buf, size_t len);
int cow_op_next(const cow_rec *r, size_t *pos, cow_op *op);
int cow_rec_op_append(unsigned char **buf, size_t *len, size_t *cap, unsigned kind,
                      const void *k, size_t kl, const void *v, size_t vl);
void cow_rec_frame(unsigned char *buf, size_t plen, uint64_t gen, uint64_t txnid, uint32_t nops);
int cow_log_reset(cow_log *l, uint64_t gen);
int cow_log_append(cow_log *l, const void *buf, size_t n);
int cow_log_sync_to(cow_log *l, uint64_t gen, uint64_t pos);
int cow_log_decode_ops(const cow_rec *r, size_t max_key, size_t max_value);

/* ---- cow_pager.c ---- */
typedef _Atomic(unsigned char *) cow_pslot;
/* A page's bytes follow this frame header in one allocation (cow_pager.c). */
typedef struct cow_frame {
    atomic_uint pins;   /* cow_pager_pin()s not yet unpinned: never evicted while > 0 */
    atomic_bool ondisk; /* the bytes equal the file's (loaded, or written by a checkpoint) */
    atomic_bool ref;    /* read since the clock hand last passed (second chance) */
    unsigned char pad[8];
} cow_frame;
typedef struct cow_retired {
    unsigned char *p;
    uint64_t epoch;
} cow_retired;
typedef struct cow_pager {
    const kv_env *env;
    kv_file *f;
    uint32_t psize;
    _Atomic(cow_pslot *) dir[COW_DIR_N];
    pthread_mutex_t load_lock;
    atomic_uint_fast64_t loaded, pins, loads, evictions;
    /* eviction (cow_pager_set_cache; 0 pages: none). Under load_lock: */
    uint64_t cap;
    cow_snapreg *snaps;
    atomic_uint_fast64_t hi; /* 1 + the highest page number installed */
    uint64_t hand;
    uint64_t retry_at; /* a sweep left more than cap: none until loaded passes this */
    cow_retired *ret;
    size_t nret, capret;
    /* writer only */
    uint8_t *dirty; /* per pgno: 1 = written in memory since the last checkpoint */
    size_t dirty_cap;
    uint64_t *dlist;
    size_t ndlist, capdlist;
} cow_pager;
void cow_pager_init(cow_pager *pg, const kv_env *env, kv_file *f, uint32_t psize);
void cow_pager_destroy(cow_pager *pg);
int cow_pager_get(cow_pager *pg, uint64_t pgno, const unsigned char **out);
int cow_pager_pin(cow_pager *pg, uint64_t pgno, const unsigned char **out);
void cow_pager_unpin(cow_pager *pg, const unsigned char *page);
void cow_pager_set_cache(cow_pager *pg, uint64_t pages, cow_snapreg *snaps);
int cow_pager_fresh(cow_pager *pg, uint64_t pgno, unsigned char **out);
int cow_pager_mark_dirty(cow_pager *pg, uint64_t pgno, bool dirty);
int cow_pager_flush(cow_pager *pg, uint64_t *written);
int cow_pager_read_raw(cow_pager *pg, uint64_t off, void *buf, size_t n);

/* ---- the database ---- */
typedef struct cow_db {
    kv_db base;
    const kv_env *env;
    char *dir;
    kv_file *lockf, *dataf, *logf;
    unsigned file_mode, dir_mode;
    int sync;
    uint64_t sync_ms, ckpt_commits, ckpt_bytes;
    size_t max_key, max_value;
    cow_pager pg;
    cow_snapreg snaps;
    cow_log log;
    pthread_mutex_t wlock; /* the single writer */
    /* writer only */
    cow_freelist fl;
    uint64_t next_pgno;
    uint64_t ckpt_txnid;  /* txnid of the last durable meta */
    int meta_slot;        /* slot of the last durable meta (0 A, 1 B) */
    uint64_t commits_since_ckpt, log_at_ckpt;
    uint64_t last_sync_ns;
    bool replaying;
    atomic_uint_fast64_t n_commits, n_ckpts, n_replayed;
    unsigned char *scratch; /* psize bytes, writer */
    cow_cell *cells_a, *cells_b; /* writer: decoded cells (psize/4 entries each) */
    unsigned char sepbuf[COW_MAX_DEPTH][1024 + 2]; /* writer: separators moving up */
    struct cow_txn *wtxn; /* writer: the write transaction, reused (its buffers kept) */
} cow_db;

struct cow_txn {
    cow_db *db;
    bool write, failed;
    int slot;
    cow_version v;
    /* write only */
    uint64_t *freed;
    size_t nfreed, capfreed;
    uint64_t *allocd;
    size_t nallocd, capallocd;
    uint64_t *spare;
    size_t nspare, capspare;
    unsigned char *rec;
    size_t reclen, reccap;
    uint32_t nops;
};

/* ---- cow_alloc.c (writer only) ---- */
/* Room in t's lists for every free one tree change can make. */
int cow_txn_reserve(cow_txn *t);
/* A fresh dirty page for a copy: *pgno, and its bytes in *page. */
int cow_txn_alloc_page(cow_txn *t, uint64_t *pgno, unsigned char **page);
/* Give back page pgno, written by transaction page_txn, that a copy replaced. */
int cow_txn_free_page(cow_txn *t, uint64_t pgno, uint64_t page_txn);

/* ---- cow_tree.c ---- */
int cow_tree_get(cow_db *db, uint64_t root, const void *k, size_t kl, const unsigned char **v,
                 uint32_t *vl);
int cow_tree_put(cow_txn *t, const void *k, size_t kl, const void *v, size_t vl, bool *existed,
                 size_t *oldlen);
int cow_tree_del(cow_txn *t, const void *k, size_t kl, size_t *oldlen);
struct cow_cursor {
    cow_db *db;
    uint64_t root;
    int depth; /* -1: invalid */
    uint64_t pg[COW_MAX_DEPTH];
    unsigned idx[COW_MAX_DEPTH];
    int status;
};
void cow_cursor_init(cow_cursor *c, cow_db *db, uint64_t root);

/* ---- cow_txn.c ---- */
int cow_txn_begin_db(cow_db *db, unsigned flags, cow_txn **out);
void cow_txn_release_buffers(cow_db *db);
int cow_checkpoint(cow_db *db, bool both_metas);
int cow_write_meta(cow_db *db, int slot, const cow_version *v);

/* ---- cow_open.c ---- */
int cow_db_open(cow_db *db);
int cow_db_close(cow_db *db);
int cow_walk(cow_db *db, uint64_t root, uint64_t maxtxn, uint64_t next_pgno, uint8_t *seen,
             int (*visit)(void *arg, uint64_t pgno, const unsigned char *page, int depth),
             void *arg, bool leaves);

#endif /* COW_INT_H */
