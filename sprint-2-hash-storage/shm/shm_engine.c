/*
 * shm_engine.c — engine "shm": the multi-process shared-memory hash store
 * behind the kvlabs contract, and the calls `kvshm` uses on top of it.
 *
 * What this layer is. The kv_engine_ops table: open maps the segment
 * (shm_segment.c), put/get/delete run the index (shm_index.c) under the
 * key's shard lock, with blocks from the allocator (shm_alloc.c), and log
 * the operation (shm_oplog.c). Below the table: scanning, clearing,
 * statistics and destroying, for the `kvshm` tool.
 *
 * The contract, for this engine:
 *  - path: a directory, created if missing (its parent must exist); the
 *    segment is DIR/shm.seg. Use a directory on tmpfs (/dev/shm/...) for
 *    pure shared memory.
 *  - caps: KV_CAP_MULTIPROC and KV_CAP_SCAN. Many processes (and threads) may open the
 *    same directory at once; a put or delete acknowledged in one is seen by
 *    the next get in any other, since they all read the same memory under
 *    the same lock. Not ordered, but scannable (KV_CAP_SCAN): an iterator
 *    copies the entries at kv_iter_first() (kvshm_scan, shard by shard
 *    under each shard's lock) and walks the copy in no particular order;
 *    seek is KV_ENOTSUP. Not durable:
 *    kv_sync() does nothing; the segment outlives the processes (on tmpfs
 *    until reboot or `kvshm destroy`), but nothing is promised about power
 *    loss.
 *  - limits: max_key/max_value are fixed when the store is created and kept
 *    in its header; a later open gets the stored limits, whatever it asks
 *    (base.limits_set: the front end may still lower them for one handle).
 *    Larger keys or values are KV_ETOOBIG. A put that needs the file to
 *    grow past max_size is KV_EFULL.
 *  - memory: nothing per client is kept in the segment; a process's own
 *    memory is its handle and the table of its mappings.
 *
 * Options (creation-time ones are ignored when the store exists):
 *   max_size=SIZE      cap of the segment file (default 4G)           creation
 *   initial_size=SIZE  first extent (default 1M)                      creation
 *   shards=N           lock stripes, 1..256 (default 16)              creation
 *   buckets=N          initial buckets per shard (default 64)         creation
 *   log_entries=N      operation-log ring (default 4096; 0: none)     creation
 *   log=writes|all|none  what this handle logs (default writes)
 *   create=true|false  create the store when missing (default true)
 *   mode=OCTAL         (common) the segment file's permission, default 0600;
 *                      the directory gets x where r (0700); creation only:
 *                      an existing segment keeps its mode
 *
 * How an operation runs: hash the key (XXH3-64); its shard is fixed by the
 * hash; lock the shard (op_begin: when the previous owner died, or a
 * repair is pending, repair first and start again); find, change, unlock.
 * Every write takes the allocator lock too, briefly (shard, then
 * allocator: the lock order). A put writes the whole new entry and tags
 * it LIVE before one store links it; the replaced entry is then tagged
 * DEAD and freed (see shm_recover.c for why that order makes kill -9 safe).
 *
 * Test hook: kvshm_debug_hang_at() (or KVSHM_HANG=<n> in the environment at
 * open) makes the process stop for good at a chosen point while it holds
 * its locks, so tests can kill -9 a lock holder at a known place.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "kvlabs/hash.h"
#include "kvlabs/iter_snap.h"
#include "shm.h"

static const kv_opt_spec shm_options[] = {
    {"max_size", KV_OPT_SIZE, "4G", NULL, 1 << 20, 64.0 * (1 << 30),
     "cap of the segment file; a put that needs more is KV_EFULL (creation)"},
    {"initial_size", KV_OPT_SIZE, "1M", NULL, 64 << 10, 64.0 * (1 << 30),
     "size of the first extent (creation)"},
    {"shards", KV_OPT_UINT, "16", NULL, 1, KVSHM_MAX_SHARDS,
     "lock stripes, each an independent table (creation)"},
    {"buckets", KV_OPT_UINT, "64", NULL, 1, 1 << 20,
     "initial buckets per shard, rounded up to a power of two (creation)"},
    {"log_entries", KV_OPT_UINT, "4096", NULL, 0, 1 << 24,
     "operation-log ring length; 0 keeps no log (creation)"},
    {"log", KV_OPT_ENUM, "writes", "writes|all|none", 0, 0,
     "what this handle records in the operation log"},
    {"create", KV_OPT_BOOL, "true", NULL, 0, 0, "create the store when it does not exist"},
    {0},
};

/* ---- creation ---------------------------------------------------------------- */

/* kvshm_params.on_create: a new store's shards each get their first bucket
 * chunk (the segment layer calls this before it publishes the magic). */
static int first_chunks(kvshm_seg *s)
{
    int rc = KV_OK;

    for (uint32_t i = 0; i < s->n_shards && rc == KV_OK; i++)
        rc = kvshm_chunk_alloc(s, 0, true, &s->shards[i].chunk[0]);
    return rc;
}

/* ---- operations ----------------------------------------------------------------- */

/* Lock a shard for an operation: repaired, not destroyed. */
static int op_begin(kvshm_seg *s, kvshm_shard *sh)
{
    for (;;) {
        int rc = kvshm_lock(s, sh->lock);
        if (rc != KV_OK)
            return rc;
        if (kvshm_flag(s, KVSHM_F_DESTROYED)) {
            kvshm_unlock(sh->lock);
            return kv_fail(KV_EIO, "shm: %s was destroyed (kvshm destroy)", s->dir);
        }
        if (!kvshm_flag(s, KVSHM_F_REPAIR))
            return KV_OK;
        kvshm_unlock(sh->lock);
        rc = kvshm_repair(s);
        if (rc != KV_OK)
            return rc;
    }
}

static int shm_put(kv_db *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    kvshm_seg *s = &((kvshm_db *)db)->seg;
    uint64_t h = kv_xxh3_64(key, klen), size = KVSHM_ENTRY_HDR + (uint64_t)klen + vlen;
    kvshm_shard *sh = &s->shards[kvshm_shard_of(s, h)];
    kvshm_entry *e;
    kvshm_pos pos;
    kvshm_addr a;
    int rc;

retry:
    rc = op_begin(s, sh);
    if (rc != KV_OK)
        goto out;
    kvshm_debug_point(KVSHM_HANG_LOCKED);
    rc = kvshm_index_find(s, sh, h, key, klen, &pos);
    if (rc == KV_OK)
        rc = kvshm_alloc(s, size, &a);
    if (rc == KV_EBUSY) { /* a repair is due: nothing was changed yet */
        kvshm_unlock(sh->lock);
        goto retry;
    }
    if (rc != KV_OK)
        goto out_unlock;
    e = kvshm_ptr(s, a, size);
    if (!e) {
        rc = kvshm_corrupt(s, "a new block is out of bounds");
        goto out_unlock;
    }
    e->hash = h;
    e->seq = ++sh->seq;
    e->klen = (uint32_t)klen;
    e->vlen = (uint32_t)vlen;
    memcpy(e->data, key, klen);
    memcpy(e->data + klen, val, vlen);
    atomic_store_explicit(&e->b.tag, KVSHM_TAG_LIVE, memory_order_release);
    kvshm_debug_point(KVSHM_HANG_PUT_LIVE);
    rc = kvshm_index_insert(s, sh, &pos, a, e);
    if (rc != KV_OK) {
        atomic_store(&e->b.tag, KVSHM_TAG_DEAD);
        kvshm_free(s, a);
        goto out_unlock;
    }
    if (pos.e)
        kvshm_free(s, pos.addr);
    kvshm_index_maybe_split(s, sh); /* a failure leaves a fuller table, or a repair due */
out_unlock:
    kvshm_unlock(sh->lock);
out:
    if (s->log_mode != KVSHM_LOG_NONE)
        kvshm_log(s, KVSHM_OP_PUT, rc, key, klen, vlen);
    return rc;
}

static int shm_get(kv_db *db, const void *key, size_t klen, kv_buf *val)
{
    kvshm_seg *s = &((kvshm_db *)db)->seg;
    uint64_t h = kv_xxh3_64(key, klen);
    kvshm_shard *sh = &s->shards[kvshm_shard_of(s, h)];
    kvshm_pos pos;
    int rc = op_begin(s, sh);

    if (rc == KV_OK) {
        rc = kvshm_index_find(s, sh, h, key, klen, &pos);
        if (rc == KV_OK && !pos.e)
            rc = kv_fail(KV_ENOTFOUND, "shm: key not found");
        else if (rc == KV_OK && val)
            rc = kv_buf_set(val, pos.e->data + klen, pos.e->vlen);
        kvshm_unlock(sh->lock);
    }
    if (rc != KV_OK && val)
        val->len = 0;
    if (s->log_mode == KVSHM_LOG_ALL)
        kvshm_log(s, KVSHM_OP_GET, rc, key, klen, rc == KV_OK && val ? val->len : 0);
    return rc;
}

static int shm_del(kv_db *db, const void *key, size_t klen)
{
    kvshm_seg *s = &((kvshm_db *)db)->seg;
    uint64_t h = kv_xxh3_64(key, klen);
    kvshm_shard *sh = &s->shards[kvshm_shard_of(s, h)];
    kvshm_pos pos;
    int rc = op_begin(s, sh);

    if (rc == KV_OK) {
        rc = kvshm_index_find(s, sh, h, key, klen, &pos);
        if (rc == KV_OK && !pos.e)
            rc = kv_fail(KV_ENOTFOUND, "shm: key not found");
        else if (rc == KV_OK)
            rc = kvshm_index_unlink(s, sh, &pos);
        if (rc == KV_OK)
            kvshm_free(s, pos.addr);
        kvshm_unlock(sh->lock);
    }
    if (s->log_mode != KVSHM_LOG_NONE)
        kvshm_log(s, KVSHM_OP_DEL, rc, key, klen, 0);
    return rc;
}

static int shm_sync(kv_db *db)
{
    (void)db; /* not durable: there is nothing to make durable */
    return KV_OK;
}

static uint64_t file_size(kvshm_seg *s)
{
    uint64_t size = 0;

    kv_file_size(s->file, &size);
    return size;
}

int kvshm_get_info(kvshm_db *db, kvshm_info *out)
{
    kvshm_seg *s = &db->seg;
    kvshm_hdr *h = s->hdr;

    memset(out, 0, sizeof(*out));
    kvshm_seg_refresh(s);
    /* Each shard and the allocator under its own lock, one at a time: each
     * part is exact, the sum is approximate while writers run. */
    for (uint32_t i = 0; i < s->n_shards; i++) {
        kvshm_shard *sh = &s->shards[i];
        if (kvshm_lock(s, sh->lock) != KV_OK)
            return KV_EIO;
        out->keys += atomic_load_explicit(&sh->n_keys, memory_order_relaxed);
        out->bytes += atomic_load_explicit(&sh->bytes, memory_order_relaxed);
        if (sh->level < KVSHM_MAX_CHUNKS)
            out->buckets += kvshm_nbuckets(s, sh);
        kvshm_unlock(sh->lock);
    }
    if (kvshm_lock(s, h->alloc_lock) != KV_OK)
        return KV_EIO;
    for (uint32_t c = 0; c < KVSHM_NCLASSES; c++) {
        out->free_blocks += h->free_count[c];
        out->free_bytes += h->free_count[c] * kvshm_class_size(c);
    }
    out->alloc_bytes = h->alloc_bytes;
    kvshm_unlock(h->alloc_lock);
    out->file_size = file_size(s);
    out->max_key = s->max_key;
    out->max_value = s->max_value;
    out->max_size = s->max_size;
    out->shards = s->n_shards;
    out->extents = atomic_load(&h->n_extents);
    out->repairs = atomic_load(&h->repairs);
    out->corrupt = atomic_load(&h->corrupt);
    out->log_entries = s->log_entries;
    out->log_head = atomic_load(&h->log_head);
    out->flags = atomic_load(&h->flags);
    out->create_pid = h->create_pid;
    out->create_time = h->create_time;
    return KV_OK;
}

static int shm_stats(kv_db *db, kv_stats *out)
{
    kvshm_info in;
    int rc = kvshm_get_info((kvshm_db *)db, &in);

    if (rc != KV_OK)
        return rc;
    out->keys = in.keys;
    out->bytes = in.bytes;
    out->mem_bytes = in.file_size; /* the segment is memory (tmpfs) or a mapped file */
    out->disk_bytes = in.file_size;
    kv_stats_add_extra(out, "shards", in.shards);
    kv_stats_add_extra(out, "extents", in.extents);
    kv_stats_add_extra(out, "buckets", (double)in.buckets);
    kv_stats_add_extra(out, "load_factor", in.buckets ? (double)in.keys / (double)in.buckets : 0);
    kv_stats_add_extra(out, "alloc_bytes", (double)in.alloc_bytes);
    kv_stats_add_extra(out, "free_blocks", (double)in.free_blocks);
    kv_stats_add_extra(out, "free_bytes", (double)in.free_bytes);
    kv_stats_add_extra(out, "repairs", (double)in.repairs);
    kv_stats_add_extra(out, "corrupt", (double)in.corrupt);
    kv_stats_add_extra(out, "log_records", (double)in.log_head);
    return KV_OK;
}

/* ---- open and close ----------------------------------------------------------- */

static uint32_t pow2_up(uint64_t v)
{
    uint32_t p = 1;

    while (p < v)
        p <<= 1;
    return p;
}

static int shm_open(const kv_open_args *a, kv_db **out)
{
    kvshm_db *db = kv_calloc(1, sizeof(*db));
    const char *hang = getenv("KVSHM_HANG");
    kvshm_params p;
    bool created = false;
    int rc;

    if (!db)
        return kv_fail(KV_ENOMEM, "shm: out of memory");
    p = (kvshm_params){
        .max_key = kv_opts_given(a->opts, "max_key") ? a->common->max_key : KVSHM_DEFAULT_KEY,
        .max_value =
            kv_opts_given(a->opts, "max_value") ? a->common->max_value : KVSHM_DEFAULT_VALUE,
        .max_size = kv_opts_u64(a->opts, "max_size"),
        .initial_size = kv_opts_u64(a->opts, "initial_size"),
        .n_shards = (uint32_t)kv_opts_u64(a->opts, "shards"),
        .init_buckets = pow2_up(kv_opts_u64(a->opts, "buckets")),
        .log_entries = kv_opts_u64(a->opts, "log_entries"),
        .create = kv_opts_bool(a->opts, "create"),
        .file_mode = a->file_mode,
        .dir_mode = a->dir_mode,
        .on_create = first_chunks,
    };
    if (!a->path || !*a->path) {
        kv_free(db);
        return kv_fail(KV_EINVAL, "shm: the path must be a directory (e.g. under /dev/shm)");
    }
    rc = kvshm_seg_open(&db->seg, a->env, a->path, &p, &created);
    if (rc != KV_OK) {
        kv_free(db);
        return rc;
    }
    db->seg.log_mode = kv_opts_enum(a->opts, "log");
    db->base.caps = KV_CAP_MULTIPROC | KV_CAP_SCAN;
    db->base.max_key = (size_t)db->seg.max_key;
    db->base.max_value = (size_t)db->seg.max_value;
    db->base.limits_set = true;
    if (hang && *hang)
        kvshm_debug_hang_at(atoi(hang), -1);
    if (created)
        kvshm_log(&db->seg, KVSHM_OP_CREATE, KV_OK, NULL, 0, 0);
    kvshm_log(&db->seg, KVSHM_OP_OPEN, KV_OK, NULL, 0, 0);
    *out = &db->base;
    return KV_OK;
}

static int shm_close(kv_db *db)
{
    kvshm_db *d = (kvshm_db *)db;
    int rc;

    kvshm_log(&d->seg, KVSHM_OP_CLOSE, KV_OK, NULL, 0, 0);
    rc = kvshm_seg_close(&d->seg);
    kv_free(d);
    return rc;
}

kvshm_db *kvshm_from(kv_db *db)
{
    return db && db->ops == &kv_engine_shm ? (kvshm_db *)db : NULL;
}

/* ---- scanning, clearing, destroying ------------------------------------------- */

/* Visit the entries of one locked shard. */
static int scan_shard(kvshm_seg *s, kvshm_shard *sh, const void *prefix, size_t plen,
                      kvshm_scan_fn fn, void *arg)
{
    uint64_t nb = kvshm_nbuckets(s, sh), seen = 0, bound;

    if (sh->level >= KVSHM_MAX_CHUNKS - 1)
        return kvshm_corrupt(s, "bad shard level");
    bound = atomic_load(&sh->n_keys);
    for (uint64_t b = 0; b < nb; b++) {
        _Atomic uint64_t *slot = kvshm_bucket(s, sh, b);
        if (!slot)
            return kvshm_corrupt(s, "bad bucket chunk");
        for (kvshm_addr a = atomic_load(slot); a;) {
            kvshm_entry *e = kvshm_entry_at(s, a);
            int rc;
            if (!e || ++seen > bound)
                return kvshm_corrupt(s, "bad bucket chain");
            if (e->klen >= plen && (plen == 0 || memcmp(e->data, prefix, plen) == 0)) {
                rc = fn(arg, e->data, e->klen, e->data + e->klen, e->vlen);
                if (rc != 0)
                    return rc;
            }
            a = atomic_load(&e->b.next);
        }
    }
    return KV_OK;
}

int kvshm_scan(kvshm_db *db, const void *prefix, size_t plen, bool all_locked, kvshm_scan_fn fn,
               void *arg)
{
    kvshm_seg *s = &db->seg;
    int rc = KV_OK;

    if (all_locked) {
        rc = kvshm_repair(s);
        if (rc == KV_OK)
            rc = kvshm_lock_all(s);
        if (rc != KV_OK)
            return rc;
        for (uint32_t i = 0; i < s->n_shards && rc == KV_OK; i++)
            rc = scan_shard(s, &s->shards[i], prefix, plen, fn, arg);
        kvshm_unlock_all(s);
        return rc;
    }
    for (uint32_t i = 0; i < s->n_shards && rc == KV_OK; i++) {
        rc = op_begin(s, &s->shards[i]);
        if (rc != KV_OK)
            break;
        rc = scan_shard(s, &s->shards[i], prefix, plen, fn, arg);
        kvshm_unlock(s->shards[i].lock);
    }
    return rc;
}

/* The entries of one locked shard, in a kv_malloc'd array. */
static int collect(kvshm_seg *s, kvshm_shard *sh, kvshm_addr **out, size_t *n)
{
    uint64_t nb = kvshm_nbuckets(s, sh), bound = atomic_load(&sh->n_keys);
    size_t cap = 0;

    *out = NULL;
    *n = 0;
    for (uint64_t b = 0; b < nb; b++) {
        _Atomic uint64_t *slot = kvshm_bucket(s, sh, b);
        if (!slot)
            return kvshm_corrupt(s, "bad bucket chunk");
        for (kvshm_addr a = atomic_load(slot); a;) {
            kvshm_entry *e = kvshm_entry_at(s, a);
            if (!e || *n >= bound)
                return kvshm_corrupt(s, "bad bucket chain");
            if (*n == cap) {
                kvshm_addr *v = kv_realloc(*out, (cap = cap ? cap * 2 : 64) * sizeof(*v));
                if (!v)
                    return kv_fail(KV_ENOMEM, "shm: out of memory clearing a shard");
                *out = v;
            }
            (*out)[(*n)++] = a;
            a = atomic_load(&e->b.next);
        }
    }
    return KV_OK;
}

int kvshm_clear(kvshm_db *db)
{
    kvshm_seg *s = &db->seg;
    int rc = KV_OK;

    for (uint32_t i = 0; i < s->n_shards && rc == KV_OK; i++) {
        kvshm_shard *sh = &s->shards[i];
        kvshm_addr *dead = NULL;
        size_t n = 0;

        rc = op_begin(s, sh);
        if (rc != KV_OK)
            break;
        rc = collect(s, sh, &dead, &n);
        if (rc == KV_OK) {
            /* DEAD first, then empty the buckets, then free: a crash
             * anywhere in between never brings a cleared key back. */
            uint64_t nb = kvshm_nbuckets(s, sh);
            for (size_t k = 0; k < n; k++)
                atomic_store(&((kvshm_block *)kvshm_ptr(s, dead[k], 16))->tag, KVSHM_TAG_DEAD);
            for (uint64_t b = 0; b < nb; b++)
                atomic_store(kvshm_bucket(s, sh, b), 0);
            atomic_store(&sh->n_keys, 0);
            atomic_store(&sh->bytes, 0);
            for (size_t k = 0; k < n; k++)
                kvshm_free(s, dead[k]);
        }
        kv_free(dead);
        kvshm_unlock(sh->lock);
    }
    return rc;
}

int kvshm_destroy(kvshm_db *db)
{
    kvshm_seg *s = &db->seg;
    int rc;

    atomic_fetch_or(&s->hdr->flags, KVSHM_F_DESTROYED);
    kvshm_log(s, KVSHM_OP_DESTROY, KV_OK, NULL, 0, 0);
    rc = kv_env_unlink(s->env, s->path);
    if (rc == KV_ENOTFOUND)
        rc = KV_OK;
    if (rc == KV_OK)
        kv_env_rmdir(s->env, s->dir); /* only when nothing else is in it */
    return rc;
}

/* ---- unordered iteration (KV_CAP_SCAN) -------------------------------------- */

static int copy_entry(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    return kv_snap_add(arg, key, klen, val, vlen);
}

static int shm_fill(kv_db *db, kv_snap_iter *s)
{
    return kvshm_scan((kvshm_db *)db, NULL, 0, false, copy_entry, s);
}

static int shm_iter_open(kv_db *db, kv_iter **out)
{
    return kv_snap_iter_open(db, shm_fill, false, out);
}

const kv_engine_ops kv_engine_shm = {
    .name = "shm",
    .summary = "multi-process shared-memory hash store: robust locks, growth without copying",
    .caps = KV_CAP_MULTIPROC | KV_CAP_SCAN,
    .options = shm_options,
    .default_max_key = KVSHM_DEFAULT_KEY,
    .limit_max_key = KVSHM_LIMIT_KEY,
    .default_max_value = KVSHM_DEFAULT_VALUE,
    .limit_max_value = KVSHM_LIMIT_VALUE,
    .open = shm_open,
    .close = shm_close,
    .put = shm_put,
    .get = shm_get,
    .del = shm_del,
    .sync = shm_sync,
    .stats = shm_stats,
    .iter_open = shm_iter_open,
    KV_SNAP_ITER_OPS,
};
