/*
 * hash_engine.c — engine "hash": the sprint-2 hash table behind kvlabs'
 * engine contract (kvlabs/kv.h).
 *
 * What this layer is. A thin adapter. The table itself — sharding, locks,
 * the four collision strategies, incremental resizing — is the
 * kernel-portable core (include/ht.h, ht_*.c). This file turns kv_open()
 * options into an ht_config, chooses the hash function, maps the core's
 * HT_* statuses to KV_* codes with a kv_last_error() detail, copies values
 * into the caller's kv_buf, and reports statistics.
 *
 * Options (all optional):
 *
 *   strategy=chaining|linear|robinhood|swiss   collision strategy (default swiss)
 *   hash=xxh3|crc32c|fnv1a                     hash function (default xxh3)
 *   buckets=N                                  initial capacity, K/M/G suffixes (default 1024)
 *   max_load=X                                 load limit; default per strategy:
 *                                              chaining 1.0, linear 0.75, robinhood and
 *                                              swiss 0.875; open addressing allows
 *                                              0.05..0.99, chaining 0.05..16
 *   shards=N                                   power of two 1..256 (default 64)
 *   resize=incremental|all|off                 growth policy (default incremental;
 *                                              off: a full shard refuses new keys, KV_EFULL)
 *
 * Hash functions come from kvlabs/hash.h's dispatch table, so the SIMD
 * paths of neon_hash.c, when linked, speed the table up without any change
 * here; the function is resolved once at open (kv_hash_active()). CRC32C
 * gives 32 bits; it is spread to 64 with ht_mix64() (the table takes
 * shard, tag and slot from different bits of the hash). Keys longer than
 * 16 bytes are compared with the same table's key_eq; shorter ones inline
 * by the core.
 *
 * Limits: keys up to 65535 bytes (default max_key 1024), values up to
 * 1 GiB (default max_value 64 MiB); larger is KV_ETOOBIG (checked by the
 * front end against max_key/max_value, and again by the core).
 *
 * Not ordered, but scannable (KV_CAP_SCAN): an iterator copies the table
 * shard by shard (ht_scan, each shard under its read lock) at
 * kv_iter_first() and walks the copy in no particular order
 * (kvlabs/iter_snap.h); seek is KV_ENOTSUP. Not durable: kv_sync() has nothing
 * to do. Thread-safe: the core locks per shard.
 *
 * Statistics: keys, bytes and mem_bytes (every allocation of the table,
 * allocator overhead included: see ht_port_user.c), and in `extra`:
 * load_factor, capacity, old_capacity, tombstones, resizes, migrating,
 * shards, max_probe, bytes_per_key, and the probe-length histogram
 * probe_len_0 .. probe_len_14, probe_len_15+ (live keys by probe length).
 */
#include <stdio.h>
#include <string.h>

#include "ht.h"
#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/error.h"
#include "kvlabs/hash.h"
#include "kvlabs/iter_snap.h"

_Static_assert((int)HT_OK == (int)KV_OK && (int)HT_ENOTFOUND == (int)KV_ENOTFOUND &&
                   (int)HT_EINVAL == (int)KV_EINVAL && (int)HT_ETOOBIG == (int)KV_ETOOBIG &&
                   (int)HT_ENOMEM == (int)KV_ENOMEM && (int)HT_EFULL == (int)KV_EFULL &&
                   (int)HT_ENOTSUP == (int)KV_ENOTSUP,
               "the core's status codes must equal kvlabs' codes");

struct hash_db {
    kv_db base;
    ht_table *t;
    size_t self_mem; /* footprint of this struct */
};

static const kv_opt_spec hash_options[] = {
    {"strategy", KV_OPT_ENUM, "swiss", "chaining|linear|robinhood|swiss", 0, 0,
     "collision strategy"},
    {"hash", KV_OPT_ENUM, "xxh3", "xxh3|crc32c|fnv1a", 0, 0, "hash function"},
    {"buckets", KV_OPT_SIZE, "1024", NULL, 1, 1099511627776.0,
     "initial capacity in slots (buckets for chaining), spread over the shards"},
    {"max_load", KV_OPT_DOUBLE, NULL, NULL, 0.05, 16,
     "load limit (default: chaining 1.0, linear 0.75, robinhood/swiss 0.875)"},
    {"shards", KV_OPT_UINT, "64", NULL, 1, 256, "independent sub-tables, a power of two"},
    {"resize", KV_OPT_ENUM, "incremental", "incremental|all|off", 0, 0,
     "growth: move entries a few per write, all at once, or never grow (KV_EFULL)"},
    {0},
};

/* ---- hash functions: kvlabs/hash.h, through its dispatch table ---------- */

static uint64_t hash_crc32c(const void *p, size_t n)
{
    return ht_mix64(kv_crc32c(0, p, n));
}

/*
 * The hash function of a table, resolved once at open through the active
 * dispatch table (so a lookup makes one indirect call, not two). Every
 * implementation in that table computes the same function, so resolving
 * early never changes a result, even if the table is replaced later.
 */
static ht_hash_fn hash_fn(int which)
{
    switch (which) {
    case 1: return hash_crc32c;
    case 2: return kv_hash_active()->fnv1a64;
    default: return kv_hash_active()->xxh3_64;
    }
}

/* ---- open and close ---------------------------------------------------- */

static int config_from_opts(const kv_opts *o, ht_config *cfg)
{
    static const ht_resize_mode modes[] = {HT_RESIZE_INCREMENTAL, HT_RESIZE_ALL, HT_RESIZE_OFF};
    int strategy = kv_opts_enum(o, "strategy");
    uint64_t shards = kv_opts_u64(o, "shards");

    memset(cfg, 0, sizeof(*cfg));
    cfg->strategy = (ht_strategy)strategy;
    cfg->hash = hash_fn(kv_opts_enum(o, "hash"));
    cfg->eq = kv_hash_active()->key_eq; /* keys above 16 bytes; shorter ones inline */
    cfg->buckets = (size_t)kv_opts_u64(o, "buckets");
    cfg->resize = modes[kv_opts_enum(o, "resize")];
    if (shards & (shards - 1))
        return kv_fail(KV_EINVAL, "engine 'hash': shards=%llu is not a power of two",
                       (unsigned long long)shards);
    cfg->shards = (unsigned)shards;
    if (kv_opts_given(o, "max_load")) {
        double ml = kv_opts_double(o, "max_load");
        double top = cfg->strategy == HT_CHAINING ? 16.0 : 0.99;
        if (ml > top)
            return kv_fail(KV_EINVAL,
                           "engine 'hash': max_load=%g is above %g, the limit of strategy=%s%s", ml,
                           top, ht_strategy_name(cfg->strategy),
                           cfg->strategy == HT_CHAINING
                               ? ""
                               : " (open addressing needs a free slot; chaining allows more)");
        cfg->max_load_pm = (unsigned)(ml * 1000 + 0.5);
        if (cfg->max_load_pm < 50)
            cfg->max_load_pm = 50;
    }
    return KV_OK;
}

static int hash_open(const kv_open_args *a, kv_db **out)
{
    struct hash_db *h;
    ht_config cfg;
    int rc = config_from_opts(a->opts, &cfg);

    if (rc != KV_OK)
        return rc;
    h = kv_calloc(1, sizeof(*h));
    if (!h)
        return kv_fail(KV_ENOMEM, "hash: out of memory");
    rc = ht_create(&cfg, &h->t);
    if (rc != HT_OK) {
        kv_free(h);
        return rc == HT_ENOMEM ? kv_fail(KV_ENOMEM, "hash: out of memory creating the table")
                               : kv_fail(KV_EINVAL, "hash: invalid table configuration");
    }
    h->self_mem = ht_port_alloc_size(h, sizeof(*h));
    h->base.caps = KV_CAP_SCAN;
    *out = &h->base;
    return KV_OK;
}

static int hash_close(kv_db *db)
{
    struct hash_db *h = (struct hash_db *)db;

    ht_destroy(h->t);
    kv_free(h);
    return KV_OK;
}

/* ---- operations ------------------------------------------------------------ */

static int fail(int rc, const char *op, size_t klen)
{
    switch (rc) {
    case HT_ENOTFOUND: return kv_fail(KV_ENOTFOUND, "hash: key not found");
    case HT_ENOTSUP: return KV_ENOTSUP; /* the stub named itself: "not implemented: FN" */
    case HT_ENOMEM:
        return kv_fail(KV_ENOMEM, "hash: out of memory (%s of a %zu-byte key); nothing changed",
                       op, klen);
    case HT_EFULL:
        return kv_fail(KV_EFULL, "hash: shard at its load limit and resize=off; key refused");
    case HT_ETOOBIG: return kv_fail(KV_ETOOBIG, "hash: key or value above the core's limit");
    default: return kv_fail(rc, "hash: %s failed", op);
    }
}

static int hash_put(kv_db *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    int rc = ht_put(((struct hash_db *)db)->t, key, klen, val, vlen);

    return rc == HT_OK ? KV_OK : fail(rc, "put", klen);
}

/* ht_get's callback: copy the value while the shard is locked. */
static int copy_value(void *arg, const void *val, size_t vlen)
{
    return kv_buf_set(arg, val, vlen);
}

static int hash_get(kv_db *db, const void *key, size_t klen, kv_buf *val)
{
    int rc = ht_get(((struct hash_db *)db)->t, key, klen, val ? copy_value : NULL, val);

    if (rc == HT_OK)
        return KV_OK;
    return rc == HT_ENOMEM ? rc /* kv_buf_set said why */ : fail(rc, "get", klen);
}

static int hash_del(kv_db *db, const void *key, size_t klen)
{
    int rc = ht_delete(((struct hash_db *)db)->t, key, klen);

    return rc == HT_OK ? KV_OK : fail(rc, "delete", klen);
}

/* ---- unordered iteration (KV_CAP_SCAN) ------------------------------------ */

static int copy_entry(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    return kv_snap_add(arg, key, klen, val, vlen);
}

static int hash_fill(kv_db *db, kv_snap_iter *s)
{
    return ht_scan(((struct hash_db *)db)->t, copy_entry, s);
}

static int hash_iter_open(kv_db *db, kv_iter **out)
{
    return kv_snap_iter_open(db, hash_fill, false, out);
}

/* ---- statistics ---------------------------------------------------------- */

static int hash_stats(kv_db *db, kv_stats *out)
{
    struct hash_db *h = (struct hash_db *)db;
    ht_stats st;

    ht_get_stats(h->t, &st);
    out->keys = st.keys;
    out->bytes = st.bytes;
    out->mem_bytes = st.mem_bytes + h->self_mem;
    kv_stats_add_extra(out, "load_factor", st.capacity ? (double)(st.keys) / (double)st.capacity : 0);
    kv_stats_add_extra(out, "capacity", (double)st.capacity);
    kv_stats_add_extra(out, "old_capacity", (double)st.old_capacity);
    kv_stats_add_extra(out, "tombstones", (double)st.tombstones);
    kv_stats_add_extra(out, "resizes", (double)st.resizes);
    kv_stats_add_extra(out, "migrating", (double)st.migrating);
    kv_stats_add_extra(out, "shards", (double)st.shards);
    kv_stats_add_extra(out, "max_probe", (double)st.max_probe);
    kv_stats_add_extra(out, "bytes_per_key",
              st.keys ? (double)out->mem_bytes / (double)st.keys : 0);
    for (int i = 0; i < HT_PROBE_HIST; i++) {
        char name[32];
        snprintf(name, sizeof(name), i == HT_PROBE_HIST - 1 ? "probe_len_%d+" : "probe_len_%d",
                 i);
        kv_stats_add_extra(out, name, (double)st.probe_hist[i]);
    }
    return KV_OK;
}

const kv_engine_ops kv_engine_hash = {
    .name = "hash",
    .summary = "in-memory sharded hash table: chaining, linear, robinhood or swiss (sprint 2)",
    .caps = KV_CAP_SCAN,
    .options = hash_options,
    .default_max_key = 1024,
    .limit_max_key = HT_MAX_KEY,
    .default_max_value = 64u << 20,
    .limit_max_value = HT_MAX_VALUE,
    .open = hash_open,
    .close = hash_close,
    .put = hash_put,
    .get = hash_get,
    .del = hash_del,
    .stats = hash_stats,
    .iter_open = hash_iter_open,
    KV_SNAP_ITER_OPS,
};
