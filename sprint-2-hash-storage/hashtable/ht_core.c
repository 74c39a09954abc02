/*
 * ht_core.c — the hash-table core: shards, locks, entries, and the public
 * operations of include/ht.h, independent of the collision strategy.
 *
 * What this layer is. A table is `nshards` shards; each shard is a lock and
 * one or two arrays managed by a collision strategy (ht_strategy_ops, one
 * file per strategy). This file does everything that is the same for every
 * strategy: validate arguments, hash the key, pick the shard, allocate and
 * free entries, take the lock, run the strategy's find/insert/replace/
 * remove on the current array and, during an incremental resize, on the
 * old one too, keep the byte and memory counters, and gather statistics.
 * ht_resize.c decides when and how arrays grow.
 *
 * How a write goes (ht_put):
 *
 *   1. hash the key; a LARGE entry (above HT_INLINE_MAX) is allocated and
 *      filled OUTSIDE the lock, the slow part; a failure changes nothing;
 *   2. lock the shard exclusive; a small entry gets a cell of the shard's
 *      arena and is filled (ht_arena.c);
 *   3. make the shard's sequence counter odd; if it is migrating, move
 *      HT_MIGRATE_STEP more slots from old to cur (this is what makes
 *      resizing incremental);
 *   4. find the key in cur, then in old: found → swap the entry pointer
 *      and release the old entry (its cell back to the arena, a large block
 *      retired); absent → ht_make_room() (may start a resize; its allocation
 *      failing is HT_ENOMEM with nothing changed) and insert into cur;
 *   5. make the counter even, free retired memory no reader can still see,
 *      unlock.
 *
 * Reads (ht_get, ht_get_copy) of a locked table are optimistic: no lock,
 * a check of the sequence counter instead, and the lock only after
 * HT_READ_TRIES attempts that a writer disturbed (the comment above
 * try_read() explains the scheme and why it is safe). A table without
 * locks is read directly. ht_get() hands the value to its callback after
 * the read, from a copy, so the callback runs outside any lock (values
 * above HT_INLINE_MAX: under the read lock).
 *
 * Callers must not: call into the table from an ht_read_fn (it may run
 * under the shard's read lock, and locks are not recursive), or use a
 * table after ht_destroy().
 *
 * Kernel-portable: includes only the core's own headers (ht_port.h below
 * them), uses no floating point and no libc.
 */
#include "hashtable_int.h"

static const ht_strategy_ops *const strategies[HT_NSTRATEGIES] = {
    [HT_CHAINING] = &ht_ops_chaining,
    [HT_LINEAR] = &ht_ops_linear,
    [HT_ROBINHOOD] = &ht_ops_robinhood,
    [HT_SWISS] = &ht_ops_swiss,
};

unsigned ht_default_max_load(ht_strategy s)
{
    return (unsigned)s < HT_NSTRATEGIES ? strategies[s]->default_load_pm : 0;
}

const char *ht_strategy_name(ht_strategy s)
{
    return (unsigned)s < HT_NSTRATEGIES ? strategies[s]->name : "?";
}

/* ---- locks (no-ops for a table created with no_lock) ---------------------- */

static inline void shard_read_lock(const ht_table *t, ht_shard *s)
{
    if (t->locked)
        ht_port_read_lock(s->lock);
}

static inline void shard_read_unlock(const ht_table *t, ht_shard *s)
{
    if (t->locked)
        ht_port_read_unlock(s->lock);
}

static inline void shard_write_lock(const ht_table *t, ht_shard *s)
{
    if (t->locked)
        ht_port_write_lock(s->lock);
}

static inline void shard_write_unlock(const ht_table *t, ht_shard *s)
{
    if (t->locked)
        ht_port_write_unlock(s->lock);
}

/* ---- entries ----------------------------------------------------------------
 *
 * An entry's block is a cell of the shard's arena when it is small
 * (ht_block_inline()), else an allocation of its own; ht_arena.c. */

static size_t entry_bytes(const ht_table *t, const ht_entry *e)
{
    return ht_block_bytes(t, e->klen, e->vlen);
}

static void *entry_block(const ht_table *t, ht_entry *e)
{
    return (unsigned char *)e - t->ops->prefix;
}

/* What an entry costs: its cell, or its block with the allocator's overhead. */
static size_t entry_mem(const ht_table *t, ht_entry *e)
{
    size_t bytes = entry_bytes(t, e);

    return ht_block_inline(bytes) ? ht_cell_size(bytes)
                                  : ht_port_alloc_size(entry_block(t, e), ht_large_bytes(bytes));
}

/* Fill a block with the prefix's hash, the lengths, the key and the value. */
static ht_entry *entry_fill(const ht_table *t, unsigned char *block, uint64_t hash,
                            const void *key, size_t klen, const void *val, size_t vlen)
{
    size_t prefix = t->ops->prefix;
    ht_entry *e = (ht_entry *)(void *)(block + prefix);

    if (prefix) {
        ht_memset(block, 0, prefix - sizeof(hash));
        ht_memcpy(block + prefix - sizeof(hash), &hash, sizeof(hash));
    }
    /* atomics: a reused cell's lengths are read by optimistic readers */
    ht_atomic_store(&e->klen, (uint32_t)klen);
    ht_atomic_store(&e->vlen, (uint32_t)vlen);
    ht_memcpy(e->kv, key, klen);
    if (vlen)
        ht_memcpy(e->kv + klen, val, vlen);
    return e;
}

/* Release an entry no array holds any more: a cell goes back to the arena
 * at once, a large block is retired (optimistic readers may hold it). */
static void entry_release(const ht_table *t, ht_shard *s, ht_entry *e)
{
    size_t bytes = entry_bytes(t, e);

    if (ht_block_inline(bytes)) {
        ht_cell_free(s, entry_block(t, e), bytes);
    } else {
        size_t mem = entry_mem(t, e);
        s->large_mem -= mem;
        ht_retire_block(t, s, entry_block(t, e), bytes, mem);
    }
}

/* Discard an entry no array ever held (a put that failed): no reader can
 * have seen it, so its cell goes back and its block is freed at once. */
static void entry_discard(const ht_table *t, ht_shard *s, ht_entry *e)
{
    size_t bytes = entry_bytes(t, e);

    if (ht_block_inline(bytes))
        ht_cell_free(s, entry_block(t, e), bytes);
    else
        ht_port_free(entry_block(t, e));
}

/* ---- creation and destruction --------------------------------------------- */

static bool is_pow2(size_t x)
{
    return x && !(x & (x - 1));
}

static int check_config(const ht_config *c, const ht_strategy_ops **ops)
{
    if (!c->hash || (unsigned)c->strategy >= HT_NSTRATEGIES || (unsigned)c->resize > 2)
        return HT_EINVAL;
    *ops = strategies[c->strategy];
    if (c->max_load_pm && (c->max_load_pm < 50 || c->max_load_pm > (*ops)->max_load_pm))
        return HT_EINVAL;
    if (c->shards && (!is_pow2(c->shards) || c->shards > HT_MAX_SHARDS))
        return HT_EINVAL;
    if (c->buckets > ((size_t)1 << 40))
        return HT_EINVAL;
    return HT_OK;
}

/* ht_destroy: a large entry's block is freed; cells go with their slabs. */
static void free_entry_cb(void *arg, uint64_t hash, ht_entry *e, size_t probe_len)
{
    const ht_table *t = arg;

    (void)hash;
    (void)probe_len;
    if (!ht_block_inline(entry_bytes(t, e)))
        ht_port_free(entry_block(t, e));
}

void ht_destroy(ht_table *t)
{
    if (!t)
        return;
    for (unsigned i = 0; i < t->nshards; i++) {
        ht_shard *s = &t->shards[i];
        if (s->cur.cap) {
            t->ops->walk(&s->cur, free_entry_cb, t);
            t->ops->tab_free(&s->cur);
        }
        if (s->old.cap) {
            t->ops->walk(&s->old, free_entry_cb, t);
            t->ops->tab_free(&s->old);
        }
        ht_reclaim(t, s, true); /* no reader can exist any more */
        ht_arena_destroy(&s->arena);
        ht_port_lock_destroy(s->lock);
    }
    ht_port_free(t->shard_block);
    ht_port_free(t);
}

/* Per-shard initial capacity: buckets spread over the shards, a power of two. */
static size_t shard_cap(const ht_strategy_ops *ops, size_t buckets, unsigned nshards)
{
    size_t want = (buckets + nshards - 1) / nshards, cap = ops->min_cap;

    while (cap < want)
        cap *= 2;
    return cap;
}

int ht_create(const ht_config *cfg, ht_table **out)
{
    const ht_strategy_ops *ops;
    ht_table *t;
    size_t cap, lock_mem = 0, bytes;
    int rc;

    if (!cfg || !out)
        return HT_EINVAL;
    rc = check_config(cfg, &ops);
    if (rc != HT_OK)
        return rc;
    t = ht_port_zalloc(sizeof(*t));
    if (!t)
        return HT_ENOMEM;
    t->ops = ops;
    t->hash = cfg->hash;
    t->eq = cfg->eq;
    t->load_pm = cfg->max_load_pm ? cfg->max_load_pm : ops->default_load_pm;
    t->resize = cfg->resize;
    t->nshards = cfg->shards ? cfg->shards : HT_DEFAULT_SHARDS;
    t->locked = !cfg->no_lock;
    t->fixed_mem = ht_port_alloc_size(t, sizeof(*t));
    bytes = t->nshards * sizeof(ht_shard) + 63;
    t->shard_block = ht_port_zalloc(bytes);
    if (!t->shard_block) {
        ht_port_free(t);
        return HT_ENOMEM;
    }
    t->fixed_mem += ht_port_alloc_size(t->shard_block, bytes);
    t->shards = (ht_shard *)(((uintptr_t)t->shard_block + 63) & ~(uintptr_t)63);
    cap = shard_cap(ops, cfg->buckets ? cfg->buckets : HT_DEFAULT_BUCKETS, t->nshards);
    for (unsigned i = 0; i < t->nshards; i++) {
        ht_shard *s = &t->shards[i];
        s->min_cap = cap;
        ht_seq_init(&s->seq);
        if (t->locked) {
            s->lock = ht_port_lock_create(&lock_mem);
            if (!s->lock)
                goto out_destroy;
            t->fixed_mem += lock_mem;
        }
        if (ops->tab_alloc(&s->cur, cap) != HT_OK)
            goto out_destroy;
    }
    *out = t;
    return HT_OK;

out_destroy:
    ht_destroy(t);
    return HT_ENOMEM;
}

/* ---- lookups ------------------------------------------------------------- */

static int check_key(const ht_table *t, const void *key, size_t klen)
{
    if (!t || !key || klen == 0)
        return HT_EINVAL;
    if (klen > HT_MAX_KEY)
        return HT_ETOOBIG;
    return HT_OK;
}

/* Find a key in cur, then in old; *in sets to the array it was found in. */
static ht_entry *find_any(const ht_table *t, ht_shard *s, uint64_t hash, const void *key,
                          size_t klen, ht_loc *loc, ht_tab **in)
{
    ht_entry *e = t->ops->find(&s->cur, t->eq, hash, key, klen, loc);

    *in = &s->cur;
    if (!e && ht_unlikely(s->old.cap != 0)) {
        e = t->ops->find(&s->old, t->eq, hash, key, klen, loc);
        *in = &s->old;
    }
    return e;
}

/*
 * Optimistic lookups. A reader of a locked table does not take the shard's
 * lock: it reads the shard between two looks at its sequence counter, which
 * a writer makes odd before changing the shard and even after, and keeps
 * the result only if the counter did not move:
 *
 *   enter a read section            (nothing this reader can reach is freed)
 *   repeat up to HT_READ_TRIES times:
 *     s0 = seq                      (odd: a writer is inside; try again)
 *     copy cur and old (ht_tab)     check seq: a torn copy would index an
 *                                   array with another array's mask
 *     e = find(cur), else find(old) on the copies
 *     read e's lengths; check seq   now e was a live entry with these lengths
 *     copy the value; check seq     no writer rewrote the cell meanwhile
 *   leave the section; if no attempt held, take the read lock
 *
 * Why it is safe while a writer runs beside it: every array and large entry
 * the reader can reach stays allocated until its grace period (ht_arena.c:
 * retired, not freed), a cell stays a cell of its class, and find() checks
 * every pointer it follows (hashtable_int.h). What it reads may be garbage,
 * and the counter throws garbage away. The reader's plain loads of a
 * shard's arrays and entries race with the writer's stores by design: they
 * run in a seqlock read region (ht_racy_begin()), and the counter, the
 * section and the lengths are atomics.
 *
 * Why it is faster: the lock's two atomic read-modify-writes per lookup are
 * full barriers on x86, which keep the next lookup's cache misses from
 * starting before this one's have finished, and they write the lock's line,
 * which two reading threads then pass back and forth. The counter is only
 * read, and entering a section is a store to the thread's own line.
 */

/* One optimistic attempt: HT_OK (copied), HT_ENOTFOUND, or 1 (a writer came by). */
static int try_read(const ht_table *t, ht_shard *s, uint64_t hash, const void *key,
                    size_t klen, void *buf, size_t cap, size_t *vlen)
{
    unsigned s0 = ht_seq_read_begin(&s->seq);
    ht_tab cur, old;
    ht_entry *e;
    ht_loc loc;
    uint32_t kl, vl;

    if (s0 & 1)
        return 1;
    ht_racy_begin();
    cur = s->cur;
    old = s->old;
    if (ht_seq_read_retry(&s->seq, s0))
        goto retry;
    e = t->ops->find(&cur, t->eq, hash, key, klen, &loc);
    if (!e && old.cap)
        e = t->ops->find(&old, t->eq, hash, key, klen, &loc);
    if (!e) {
        ht_racy_end();
        return ht_seq_read_retry(&s->seq, s0) ? 1 : HT_ENOTFOUND;
    }
    kl = ht_atomic_load(&e->klen);
    vl = ht_atomic_load(&e->vlen);
    if (ht_seq_read_retry(&s->seq, s0))
        goto retry;
    if (cap)
        ht_memcpy(buf, e->kv + kl, vl < cap ? vl : cap);
    ht_racy_end();
    if (ht_seq_read_retry(&s->seq, s0))
        return 1;
    *vlen = vl;
    return HT_OK;
retry:
    ht_racy_end();
    return 1;
}

/* The optimistic lookup: HT_OK, HT_ENOTFOUND, or 1 (take the lock instead). */
static int read_optimistic(const ht_table *t, ht_shard *s, uint64_t hash, const void *key,
                           size_t klen, void *buf, size_t cap, size_t *vlen)
{
    int rc = 1;

    if (!ht_port_read_enter())
        goto fallback;
    for (int i = 0; i < HT_READ_TRIES; i++) {
        rc = try_read(t, s, hash, key, klen, buf, cap, vlen);
        if (ht_likely(rc != 1))
            break;
        ht_atomic_add(&s->read_retries, 1);
    }
    ht_port_read_exit();
    if (ht_likely(rc != 1))
        return rc;
fallback:
    ht_atomic_add(&s->read_fallbacks, 1);
    return 1;
}

int ht_get(ht_table *t, const void *key, size_t klen, ht_read_fn fn, void *arg)
{
    int rc = check_key(t, key, klen);
    unsigned char copy[HT_INLINE_MAX];
    uint64_t hash;
    size_t vlen;
    ht_shard *s;
    ht_entry *e;
    ht_loc loc;
    ht_tab *in;

    if (rc != HT_OK)
        return rc;
    hash = t->hash(key, klen);
    s = ht_shard_of(t, hash);
    if (t->locked) {
        /* a value up to the copy's size is handed to fn after the section */
        rc = read_optimistic(t, s, hash, key, klen, copy, sizeof(copy), &vlen);
        if (rc == HT_OK && vlen <= sizeof(copy))
            return fn ? fn(arg, copy, vlen) : HT_OK;
        if (rc == HT_ENOTFOUND)
            return rc;
    }
    shard_read_lock(t, s);
    e = find_any(t, s, hash, key, klen, &loc, &in);
    if (!e)
        rc = HT_ENOTFOUND;
    else
        rc = fn ? fn(arg, ht_entry_val(e), e->vlen) : HT_OK;
    shard_read_unlock(t, s);
    return rc;
}

/* ht_get() with the copy written out: no callback on the hottest path. */
int ht_get_copy(ht_table *t, const void *key, size_t klen, void *buf, size_t cap, size_t *vlen)
{
    int rc = check_key(t, key, klen);
    uint64_t hash;
    size_t len;
    ht_shard *s;
    ht_entry *e;
    ht_loc loc;
    ht_tab *in;

    if (rc != HT_OK)
        return rc;
    if (!buf)
        cap = 0;
    hash = t->hash(key, klen);
    s = ht_shard_of(t, hash);
    if (t->locked) {
        rc = read_optimistic(t, s, hash, key, klen, buf, cap, &len);
        if (rc == HT_OK && vlen)
            *vlen = len;
        if (rc != 1)
            return rc;
    }
    shard_read_lock(t, s);
    e = find_any(t, s, hash, key, klen, &loc, &in);
    if (e) {
        if (cap)
            ht_memcpy(buf, ht_entry_val(e), e->vlen < cap ? e->vlen : cap);
        if (vlen)
            *vlen = e->vlen;
    }
    shard_read_unlock(t, s);
    return e ? HT_OK : HT_ENOTFOUND;
}

/* ---- writes ----------------------------------------------------------------
 *
 * A writer holds the shard's write lock and, while it changes anything an
 * optimistic reader may look at (arrays, entries, cells, the cur/old
 * pair), keeps the shard's sequence counter odd. Filling a new cell comes
 * before: no reader can reach a cell before an array points to it. */

/* Enter the writer's sequence section (after the lock). */
static void write_begin(ht_shard *s)
{
    ht_seq_write_begin(&s->seq);
}

/* Leave it, free what readers have left behind, and unlock. */
static void write_end(const ht_table *t, ht_shard *s)
{
    ht_seq_write_end(&s->seq);
    if (ht_unlikely(s->limbo != NULL))
        ht_reclaim(t, s, false);
    shard_write_unlock(t, s);
}

/* The new entry of a put: a cell (under the lock) or a large block (made
 * before it, by the caller). NULL: out of memory. */
static ht_entry *new_cell_entry(const ht_table *t, ht_shard *s, uint64_t hash, const void *key,
                                size_t klen, const void *val, size_t vlen)
{
    unsigned char *cell = ht_cell_alloc(s, ht_block_bytes(t, klen, vlen));

    return cell ? entry_fill(t, cell, hash, key, klen, val, vlen) : NULL;
}

int ht_put(ht_table *t, const void *key, size_t klen, const void *val, size_t vlen)
{
    int rc = check_key(t, key, klen);
    ht_entry *e = NULL, *old_e;
    size_t bytes, mem;
    unsigned char *block;
    uint64_t hash;
    ht_shard *s;
    ht_loc loc;
    ht_tab *in;

    if (rc != HT_OK)
        return rc;
    if (!val && vlen)
        return HT_EINVAL;
    if (vlen > HT_MAX_VALUE)
        return HT_ETOOBIG;
    hash = t->hash(key, klen);
    bytes = ht_block_bytes(t, klen, vlen);
    if (!ht_block_inline(bytes)) {
        /* allocate and copy a large entry OUTSIDE the lock: the slow part */
        block = ht_port_alloc(ht_large_bytes(bytes));
        if (!block)
            return HT_ENOMEM;
        e = entry_fill(t, block, hash, key, klen, val, vlen);
    }
    s = ht_shard_of(t, hash);
    shard_write_lock(t, s);
    if (!e && !(e = new_cell_entry(t, s, hash, key, klen, val, vlen))) {
        shard_write_unlock(t, s);
        return HT_ENOMEM;
    }
    mem = entry_mem(t, e);
    write_begin(s);
    if (s->old.cap)
        ht_migrate_step(t, s, HT_MIGRATE_STEP);
    old_e = find_any(t, s, hash, key, klen, &loc, &in);
    if (old_e) {
        t->ops->replace(in, &loc, e);
        s->bytes -= old_e->klen + (uint64_t)old_e->vlen;
        s->entry_mem -= entry_mem(t, old_e);
        entry_release(t, s, old_e);
    } else {
        rc = ht_make_room(t, s);
        if (rc == HT_OK)
            rc = t->ops->insert(&s->cur, hash, e);
        if (rc != HT_OK) {
            entry_discard(t, s, e);
            write_end(t, s);
            return rc;
        }
    }
    s->bytes += klen + (uint64_t)vlen;
    s->entry_mem += mem;
    if (!ht_block_inline(bytes))
        s->large_mem += mem;
    write_end(t, s);
    return HT_OK;
}

int ht_delete(ht_table *t, const void *key, size_t klen)
{
    int rc = check_key(t, key, klen);
    uint64_t hash;
    ht_shard *s;
    ht_entry *e;
    ht_loc loc;
    ht_tab *in;

    if (rc != HT_OK)
        return rc;
    hash = t->hash(key, klen);
    s = ht_shard_of(t, hash);
    shard_write_lock(t, s);
    write_begin(s);
    if (s->old.cap)
        ht_migrate_step(t, s, HT_MIGRATE_STEP);
    e = find_any(t, s, hash, key, klen, &loc, &in);
    if (e) {
        t->ops->remove(in, &loc, in == &s->old);
        s->bytes -= e->klen + (uint64_t)e->vlen;
        s->entry_mem -= entry_mem(t, e);
        entry_release(t, s, e);
    }
    write_end(t, s);
    return e ? HT_OK : HT_ENOTFOUND;
}

/* ---- statistics ----------------------------------------------------------- */

static void probe_cb(void *arg, uint64_t hash, ht_entry *e, size_t probe_len)
{
    ht_stats *st = arg;

    (void)hash;
    (void)e;
    st->probe_hist[probe_len < HT_PROBE_HIST ? probe_len : HT_PROBE_HIST - 1]++;
    if (probe_len > st->max_probe)
        st->max_probe = probe_len;
}

void ht_get_stats(ht_table *t, ht_stats *out)
{
    ht_memset(out, 0, sizeof(*out));
    out->shards = t->nshards;
    out->mem_bytes = t->fixed_mem;
    for (unsigned i = 0; i < t->nshards; i++) {
        ht_shard *s = &t->shards[i];
        shard_read_lock(t, s);
        out->keys += s->cur.live + s->old.live;
        out->bytes += s->bytes;
        out->entry_mem += s->entry_mem;
        out->arena_mem += s->arena.mem;
        out->retired_mem += s->limbo_mem;
        out->read_retries += ht_atomic_load(&s->read_retries);
        out->read_fallbacks += ht_atomic_load(&s->read_fallbacks);
        out->mem_bytes += s->arena.mem + s->large_mem + s->cur.mem + s->old.mem;
        out->capacity += s->cur.cap;
        out->old_capacity += s->old.cap;
        out->tombstones += s->cur.tombs;
        out->resizes += s->resizes;
        out->migrating += s->old.cap != 0;
        t->ops->walk(&s->cur, probe_cb, out);
        if (s->old.cap)
            t->ops->walk(&s->old, probe_cb, out);
        shard_read_unlock(t, s);
    }
}

/* ---- scan: every live entry, for the engines' unordered iterators -------- */

struct scan_arg {
    ht_visit_fn fn;
    void *arg;
    int status; /* the visitor's first non-zero return */
};

static void scan_cb(void *arg, uint64_t hash, ht_entry *e, size_t probe_len)
{
    struct scan_arg *a = arg;

    (void)hash;
    (void)probe_len;
    if (a->status == 0)
        a->status = a->fn(a->arg, e->kv, e->klen, e->kv + e->klen, e->vlen);
}

int ht_scan(ht_table *t, ht_visit_fn fn, void *arg)
{
    struct scan_arg a = {.fn = fn, .arg = arg, .status = 0};

    for (unsigned i = 0; i < t->nshards && a.status == 0; i++) {
        ht_shard *s = &t->shards[i];

        shard_read_lock(t, s);
        t->ops->walk(&s->cur, scan_cb, &a);
        if (s->old.cap)
            t->ops->walk(&s->old, scan_cb, &a);
        shard_read_unlock(t, s);
    }
    return a.status;
}

/* ---- invariant checker ---------------------------------------------------- */

struct check_arg {
    const ht_table *t;
    const ht_shard *s;
    const ht_tab *tab;
    size_t live;
    uint64_t bytes, mem;
    const char *what;
};

static void check_cb(void *arg, uint64_t hash, ht_entry *e, size_t probe_len)
{
    struct check_arg *c = arg;
    const ht_table *t = c->t;
    ht_tab *in;
    ht_loc loc;

    (void)probe_len;
    c->live++;
    c->bytes += e->klen + (uint64_t)e->vlen;
    c->mem += entry_mem(t, e);
    if (c->what)
        return;
    if (e->klen == 0 || e->klen > HT_MAX_KEY || e->vlen > HT_MAX_VALUE)
        c->what = "entry with an impossible length";
    else if (t->hash(ht_entry_key(e), e->klen) != hash)
        c->what = "stored hash differs from the hash of the key";
    else if (t->ops->prefix && ht_entry_hash(e) != hash)
        c->what = "hash in the entry prefix differs from the index's";
    else if (ht_shard_of(t, hash) != c->s)
        c->what = "entry in the wrong shard";
    else if (find_any(t, (ht_shard *)c->s, hash, ht_entry_key(e), e->klen, &loc, &in) != e)
        c->what = "lookup of a stored key does not find its entry";
}

static const char *check_tab(struct check_arg *c, const ht_tab *tab, bool in_old)
{
    const char *why;

    if (!tab->cap)
        return in_old ? NULL : "shard without an array";
    if (!is_pow2(tab->cap) || tab->mask != tab->cap - 1)
        return "capacity not a power of two";
    c->tab = tab;
    c->live = 0;
    c->t->ops->walk(tab, check_cb, c);
    if (c->what)
        return c->what;
    if (c->live != tab->live)
        return "live count differs from the entries found";
    why = c->t->ops->check(tab, in_old);
    return why;
}

int ht_check(ht_table *t, const char **what)
{
    const char *why = "";

    for (unsigned i = 0; i < t->nshards; i++) {
        ht_shard *s = &t->shards[i];
        struct check_arg c = {.t = t, .s = s};
        const char *w;

        shard_read_lock(t, s);
        w = check_tab(&c, &s->cur, false);
        if (!w)
            w = check_tab(&c, &s->old, true);
        if (!w && c.bytes != s->bytes)
            w = "byte count differs from the entries";
        if (!w && c.mem != s->entry_mem)
            w = "entry memory differs from the entries";
        if (!w && s->cur.live + s->cur.tombs + s->old.live > ht_limit(t, s->cur.cap))
            w = "load limit exceeded (used slots plus entries to migrate)";
        if (!w && s->cur.cap < s->min_cap)
            w = "array below the shard's minimum capacity";
        if (!w && s->old.cap && s->migrate_pos >= s->old.cap)
            w = "migration cursor past the old array";
        shard_read_unlock(t, s);
        if (w) {
            if (what)
                *what = w;
            return (int)i + 1;
        }
    }
    if (what)
        *what = why;
    return 0;
}
