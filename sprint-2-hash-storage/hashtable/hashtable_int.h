/*
 * hashtable_int.h — private header of the hash-table core: the structures shared
 * by ht_core.c, ht_resize.c and the four strategy files.
 *
 * Nothing here is part of the table's interface (that is include/ht.h); it
 * is how the core is put together, spelled out so that each strategy file
 * can be read, and written, on its own:
 *
 *   ht_entry          one key-value pair in ONE block:
 *                     [strategy prefix][klen u32][vlen u32][key][value];
 *                     up to HT_INLINE_MAX bytes a cell of the shard's arena,
 *                     above it an allocation of its own (ht_arena.c)
 *   ht_tab            one array of one shard: its capacity, counts, and the
 *                     strategy's arrays (slots, chain heads, control bytes)
 *   ht_shard          a lock, a sequence counter, two ht_tabs (`cur`, and
 *                     `old` while an incremental resize moves entries from
 *                     old to cur), the arena of its entries and the list of
 *                     what it retired
 *   ht_table          the shards, the strategy, the hash, the load limit
 *   ht_strategy_ops   what a collision strategy implements (below)
 *
 * Memory layout of an entry (prefix bytes per strategy: chaining 16 — the
 * next pointer and the hash; Swiss 8 — the hash; linear and Robin Hood 0,
 * since they keep the hash in the slot):
 *
 *      block ──► [ next | hash ][ klen | vlen ][ key bytes ... ][ value bytes ... ]
 *                 \__prefix__/   ^
 *                                └── ht_entry * (what the index points to)
 *
 * Who counts what: a strategy's insert/remove/take keep ht_tab::live and
 * ht_tab::tombs exact; the core keeps the shard's byte and memory counters.
 * Every function here runs with the shard's write lock held (find also
 * under the read lock); none of them allocates except tab_alloc.
 *
 * find() also runs WITHOUT any lock: the optimistic reads of ht_core.c call
 * it on a consistent copy of a shard's ht_tab while a writer may be
 * changing the arrays and entries it walks. Whatever it returns then is
 * thrown away unless the shard's sequence counter shows no writer came by,
 * and no memory it can reach is freed meanwhile (arrays and large entries
 * are retired by epoch, cells stay in the arena). So find must only be
 * safe against what it reads: check every entry pointer it loads (NULL,
 * HT_MOVED) before following it, never index outside the array it was
 * given, and end (each loop bounded by the array, or by an EMPTY slot,
 * which every array keeps). The four reference strategies do; a find that
 * trusts a control byte and follows its slot's pointer without checking it
 * crashes in tests/torn_tsan.c. Writers need no care: they hold the lock.
 *
 * Like the rest of the core, this header includes only ht.h (and through
 * it ht_port.h): it must compile freestanding.
 */
#ifndef HT_IMPL_H
#define HT_IMPL_H

#include "ht.h"

/* One key-value pair. The strategy's prefix, if any, sits just before it. */
typedef struct ht_entry {
    uint32_t klen;      /* key length, 1..HT_MAX_KEY */
    uint32_t vlen;      /* value length, 0..HT_MAX_VALUE */
    unsigned char kv[]; /* klen key bytes, then vlen value bytes */
} ht_entry;

/*
 * The entry pointer of an open-addressing slot that is a tombstone: a key
 * was deleted here (linear probing), or — in the array being migrated
 * from — the entry has moved to the new array or was deleted there
 * (all open-addressing strategies; the slot keeps its hash, so Robin Hood
 * distances stay valid). NULL marks a never-used slot.
 */
#define HT_MOVED ((ht_entry *)(uintptr_t)1)

/* A slot of linear probing and Robin Hood: the full hash and the entry. */
typedef struct ht_slot {
    uint64_t hash;
    ht_entry *e; /* NULL: empty; HT_MOVED: tombstone; else live */
} ht_slot;

/* One array of one shard. */
typedef struct ht_tab {
    size_t cap;     /* slots (buckets for chaining), a power of two; 0: none */
    size_t mask;    /* cap - 1 */
    size_t live;    /* live entries */
    size_t tombs;   /* tombstones (linear, Swiss) */
    void *arr;      /* ht_slot[cap], ht_entry *[cap] (Swiss), or chain heads */
    uint8_t *ctrl;  /* Swiss: cap control bytes; else NULL */
    size_t mem;     /* footprint of arr and ctrl */
} ht_tab;

/* Where find() found an entry, for replace() and remove(). */
typedef struct ht_loc {
    size_t pos;  /* slot index (open addressing) or bucket (chaining) */
    void *link;  /* chaining: the pointer that points at the entry's node */
} ht_loc;

/* Called by walk() for each live entry; may free the entry (destroy does). */
typedef void (*ht_walk_fn)(void *arg, uint64_t hash, ht_entry *e, size_t probe_len);

/*
 * A collision strategy. Every function gets arrays of one shard, under the
 * shard's lock. Preconditions the core guarantees: insert() is called only
 * for a key absent from both arrays and only while live + tombs < cap
 * (the load limit is below 1 for open addressing), so a free slot exists.
 */
typedef struct ht_strategy_ops {
    const char *name;
    size_t prefix;            /* bytes kept before each entry (its last 8: the hash) */
    size_t min_cap;           /* smallest array */
    unsigned default_load_pm; /* default max_load, per mille */
    unsigned max_load_pm;     /* largest max_load accepted */
    /* Allocate arrays of cap slots, all empty; set cap, mask, mem; counts 0. HT_ENOMEM. */
    int (*tab_alloc)(ht_tab *t, size_t cap);
    /* Free the arrays (not the entries); t becomes all zero. */
    void (*tab_free)(ht_tab *t);
    /* The live entry with this key, or NULL; fills *loc when found. */
    ht_entry *(*find)(const ht_tab *t, ht_eq_fn eq, uint64_t hash, const void *key, size_t klen,
                      ht_loc *loc);
    /* Add an entry whose key is absent. HT_OK, or HT_EINVAL if not implemented. */
    int (*insert)(ht_tab *t, uint64_t hash, ht_entry *e);
    /* Put e where find() found an entry with the same key (same hash). */
    void (*replace)(ht_tab *t, const ht_loc *loc, ht_entry *e);
    /* Remove the entry find() found. in_old: t is the array being migrated
     * from, where slots must not move (the migration cursor walks it). */
    void (*remove)(ht_tab *t, const ht_loc *loc, bool in_old);
    /* Migration: remove one live entry of slot/bucket pos of the old array
     * (marking the slot moved), or return NULL when pos holds none. */
    ht_entry *(*take)(ht_tab *t, size_t pos, uint64_t *hash);
    /* Call fn for every live entry with its hash and probe length. */
    void (*walk)(const ht_tab *t, ht_walk_fn fn, void *arg);
    /* The strategy's own invariants; NULL when they hold, else what broke. */
    const char *(*check)(const ht_tab *t, bool in_old);
} ht_strategy_ops;

extern const ht_strategy_ops ht_ops_chaining;
extern const ht_strategy_ops ht_ops_linear;
extern const ht_strategy_ops ht_ops_robinhood;
extern const ht_strategy_ops ht_ops_swiss;

/* Size classes of the arena: cells of 8, 16, ..., HT_INLINE_MAX bytes. */
#define HT_CELL_GRAIN 8u
#define HT_CELL_CLASSES (HT_INLINE_MAX / HT_CELL_GRAIN)

/* The arena of a shard's inline entries (ht_arena.c). */
typedef struct ht_arena {
    void *slabs;                   /* newest first; each begins with an ht_slab */
    unsigned char *bump, *end;     /* the newest slab's unused part */
    void *free[HT_CELL_CLASSES];   /* freed cells by class; a free cell's link is
                                      in its LAST 8 bytes (its lengths stay valid) */
    uint64_t mem;                  /* footprint of the slabs */
} ht_arena;

/* Something retired, waiting for its grace period (ht_arena.c). */
typedef struct ht_retired ht_retired;

/* One shard: a lock and its arrays, on cache lines of its own (no false
 * sharing between shards: the struct is aligned, so its size is a multiple of 64). */
typedef struct ht_shard {
    _Alignas(64) ht_lock *lock; /* NULL when the table has no locks */
    ht_seq seq;           /* odd while a writer changes the shard (optimistic reads) */
    ht_tab cur;           /* where inserts go */
    ht_tab old;           /* being migrated from (old.cap == 0: not migrating) */
    size_t migrate_pos;   /* next slot/bucket of old to migrate */
    size_t min_cap;       /* never rebuild below this */
    uint64_t bytes;       /* live key + value bytes */
    uint64_t entry_mem;   /* footprint of the live entries */
    uint64_t resizes;     /* resizes and rebuilds started */
    uint64_t large_mem;   /* footprint of the live entries above HT_INLINE_MAX */
    ht_arena arena;       /* the cells of the inline entries */
    ht_retired *limbo;    /* retired, oldest first, freed after their grace period */
    ht_retired **limbo_tail;
    uint64_t limbo_mem;   /* their footprint */
    unsigned limbo_n;     /* their number */
    ht_retired *spare;    /* reserved for the array the running resize leaves */
    uint64_t read_retries;   /* atomic: optimistic attempts that saw a writer */
    uint64_t read_fallbacks; /* atomic: lookups that took the lock */
} ht_shard;

struct ht_table {
    const ht_strategy_ops *ops;
    ht_hash_fn hash;
    ht_eq_fn eq;
    unsigned load_pm;      /* max load, per mille */
    ht_resize_mode resize;
    unsigned nshards;      /* power of two */
    bool locked;
    size_t fixed_mem;      /* footprint of this struct, the shard array and the locks */
    void *shard_block;     /* the allocation the shards live in (cache-line aligned inside) */
    ht_shard *shards;
};

/* Slots (or buckets) of old migrated per write while resizing incrementally. */
#define HT_MIGRATE_STEP 16

/* The shard of a hash: its top 8 bits. */
static inline ht_shard *ht_shard_of(const ht_table *t, uint64_t hash)
{
    return &t->shards[(hash >> 56) & (t->nshards - 1)];
}

/* The Swiss tag of a hash: 7 bits below the shard bits. */
static inline uint8_t ht_tag(uint64_t hash)
{
    return (uint8_t)((hash >> 49) & 0x7F);
}

/* The key and the value of an entry. */
static inline const unsigned char *ht_entry_key(const ht_entry *e)
{
    return e->kv;
}

static inline const unsigned char *ht_entry_val(const ht_entry *e)
{
    return e->kv + e->klen;
}

/* The hash kept in an entry's prefix (chaining and Swiss: the prefix's last 8 bytes). */
static inline uint64_t ht_entry_hash(const ht_entry *e)
{
    uint64_t h;

    ht_memcpy(&h, (const unsigned char *)e - sizeof(h), sizeof(h));
    return h;
}

/*
 * Start loading the rest of a candidate entry while its first line (hash,
 * lengths, key) is still on its way: the two following cache lines hold
 * the value of a small entry, and without this hint the value copy would
 * wait for them only after the key compare (a second round trip to RAM).
 * A hint: it never faults, and a wasted line costs only bandwidth.
 */
static inline void ht_prefetch_entry(const ht_entry *e)
{
    ht_prefetch((const unsigned char *)e + 64);
    ht_prefetch((const unsigned char *)e + 128);
}

/*
 * Whether n bytes are equal, inline for short keys: two overlapping 8-byte
 * (or 4-byte) loads per side cover any length from 4 to 16 without a loop
 * or a call. Most keys of a hash table are that short, and a call per
 * comparison is a measurable part of a lookup.
 */
static inline bool ht_short_eq(const unsigned char *a, const unsigned char *b, size_t n)
{
    if (n >= 8) {
        uint64_t a0, a1, b0, b1;
        ht_memcpy(&a0, a, 8);
        ht_memcpy(&b0, b, 8);
        ht_memcpy(&a1, a + n - 8, 8);
        ht_memcpy(&b1, b + n - 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    if (n >= 4) {
        uint32_t a0, a1, b0, b1;
        ht_memcpy(&a0, a, 4);
        ht_memcpy(&b0, b, 4);
        ht_memcpy(&a1, a + n - 4, 4);
        ht_memcpy(&b1, b + n - 4, 4);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* Whether entry e holds this key (hashes already compared by the caller):
 * short keys inline, longer ones with the table's eq (or memcmp). */
static inline bool ht_key_eq(ht_eq_fn eq, const ht_entry *e, const void *key, size_t klen)
{
    if (e->klen != klen)
        return false;
    if (klen <= 16)
        return ht_short_eq(e->kv, key, klen);
    return eq ? eq(e->kv, key, klen) : ht_memcmp(e->kv, key, klen) == 0;
}

/* ---- ht_arena.c: where entries live, and when memory is freed ------------- */

/* Bytes of an entry's block: prefix, lengths, key, value. */
static inline size_t ht_block_bytes(const ht_table *t, size_t klen, size_t vlen)
{
    return t->ops->prefix + sizeof(ht_entry) + klen + vlen;
}

/* Whether a block of this many bytes is a cell of the arena. */
static inline bool ht_block_inline(size_t bytes)
{
    return bytes <= HT_INLINE_MAX;
}

/* A cell for a block of `bytes` (<= HT_INLINE_MAX), or NULL (HT_ENOMEM);
 * under the shard's write lock. */
void *ht_cell_alloc(ht_shard *s, size_t bytes);
/* Give a cell back to its class (reused at once: readers are protected by
 * the sequence counter, and the slab stays). Under the write lock. */
void ht_cell_free(ht_shard *s, void *cell, size_t bytes);
/* What a cell of a block of `bytes` costs. */
static inline size_t ht_cell_size(size_t bytes)
{
    return (bytes + HT_CELL_GRAIN - 1) & ~(size_t)(HT_CELL_GRAIN - 1);
}
/* Free every slab (the table is being destroyed). */
void ht_arena_destroy(ht_arena *a);

/* Bytes to allocate for a large entry of `bytes`: room for its retire node. */
size_t ht_large_bytes(size_t bytes);
/* Free a large entry's block (of `bytes`, costing `mem`), or an array (the
 * strategy's tab_free; *tab becomes all zero), once no optimistic reader
 * can be looking at it: at once for a table without locks, else after a
 * grace period. Under the write lock, inside the writer's sequence
 * section. Never allocates, never fails. */
void ht_retire_block(const ht_table *t, ht_shard *s, void *block, size_t bytes, size_t mem);
void ht_retire_tab(const ht_table *t, ht_shard *s, ht_tab *tab);
/* Reserve the node ht_retire_tab() will use: HT_OK or HT_ENOMEM. */
int ht_retire_reserve(const ht_table *t, ht_shard *s);
/* Free what has waited long enough (all of it when `all`: only when no
 * reader can exist, at destroy). Cheap when nothing waits. */
void ht_reclaim(const ht_table *t, ht_shard *s, bool all);

/* ---- ht_resize.c ---------------------------------------------------------- */

/* Most live + tombstones (entries, for chaining) an array of cap may hold. */
size_t ht_limit(const ht_table *t, size_t cap);
/* Ensure one more entry fits in s->cur, resizing or rebuilding if needed:
 * HT_OK, HT_ENOMEM (unchanged), HT_EFULL (HT_RESIZE_OFF). */
int ht_make_room(ht_table *t, ht_shard *s);
/* Migrate up to `budget` slots of s->old into s->cur; frees old when done. */
void ht_migrate_step(ht_table *t, ht_shard *s, size_t budget);

/* ---- the strategies' table arrays ---------------------------------------------- */

/*
 * A table whose slot array is @p cap zeroed elements of @p elem bytes (no
 * control bytes): what chaining, linear probing and Robin Hood allocate (all
 * zero is their EMPTY). HT_OK, or HT_ENOMEM with @p t untouched.
 */
static inline int ht_tab_alloc_zeroed(ht_tab *t, size_t cap, size_t elem)
{
    size_t bytes = cap * elem;

    t->arr = ht_port_zalloc(bytes);
    if (!t->arr)
        return HT_ENOMEM;
    t->cap = cap;
    t->mask = cap - 1;
    t->live = t->tombs = 0;
    t->ctrl = NULL;
    t->mem = ht_port_alloc_size(t->arr, bytes);
    return HT_OK;
}

/* Free a table's arrays (control bytes, if any, and slots) and zero it: every
 * strategy's tab_free (ht_port_free(NULL) does nothing). */
static inline void ht_tab_free_arrays(ht_tab *t)
{
    ht_port_free(t->ctrl);
    ht_port_free(t->arr);
    ht_memset(t, 0, sizeof(*t));
}

#endif /* HT_IMPL_H */
