/*
 * kvbench_workload.c — the workloads, and what one operation of each is.
 *
 * Two families, both over the same fixed-size keys (kvbench_keys.c):
 *
 * db_bench's (LevelDB's benchmark, also RocksDB's):
 *   fillseq      put keys 0..n-1 in ascending order into an empty store
 *   fillrandom   put keys 0..n-1 in a random order into an empty store
 *   overwrite    put new values to uniformly random loaded keys
 *   readrandom   get uniformly random loaded keys (every one must be found)
 *   readmissing  get keys that were never written (beside loaded ones)
 *   readseq      one cursor over every key in order        (ordered engines)
 *   scan         kv_iter_seek to a random key, read 100     (ordered engines)
 *   deleterandom delete every loaded key in a random order
 *
 * YCSB's core workloads (Cooper et al., SoCC 2010), request keys zipfian
 * with theta 0.99, scattered over the key space ("scrambled"):
 *   ycsb-a  50% read, 50% update                 (session store)
 *   ycsb-b  95% read,  5% update                 (photo tagging)
 *   ycsb-c  100% read                            (user profile cache)
 *   ycsb-d  95% read,  5% insert, reads favour the newest keys ("latest")
 *   ycsb-e  95% scan of 1..100 keys (uniform),  5% insert   (threads)
 *   ycsb-f  50% read, 50% read-modify-write (get, then put)
 *
 * One operation is one call of kvb_op(): a put, a get, a delete, one step
 * of the readseq cursor, or one whole scan (seek plus its next calls, on a
 * cursor of its own, opened and closed per scan as an application would).
 * kvb_op() counts what happened in the worker's kvb_counts: an unexpected
 * status is an error; a read that misses is an error only when the key
 * must exist (a loaded key, never deleted before deleterandom, which runs
 * last) and a hit is an error for readmissing. Keys inserted by YCSB
 * workloads in other threads may be read before their put completes: such
 * misses are counted as not_found, not as errors.
 *
 * The "latest" distribution uses a zipfian over the n loaded keys, shifted
 * to end at the newest insert (kv_zipf_next_latest): YCSB grows its zeta as
 * inserts arrive, which would need a lock shared by every thread; with 5%
 * inserts the difference is a fraction of a percent of the key space.
 *
 * Every thread draws with its own xoshiro generator seeded from (seed,
 * workload, worker), so a run is reproducible for a given --seed and
 * thread count.
 */
#include <string.h>

#include "kvbench_int.h"

#define SCAN_KEYS 100    /* keys per `scan` operation, unless --scan-len says otherwise */
#define YCSB_E_MAX 100   /* ycsb-e scans 1..100 keys */

const kvb_workload kvb_workloads[KVB_N_WORKLOADS + 1] = {
    {"fillseq", "put n keys in ascending order into an empty store", KVB_FILLSEQ, false, true,
     false, 1, KVB_DIST_SEQ, {0}},
    {"fillrandom", "put n keys in random order into an empty store (then the store is loaded)",
     KVB_FILLRANDOM, false, true, false, 1, KVB_DIST_PERM, {0}},
    {"overwrite", "put new values to uniformly random loaded keys", KVB_OVERWRITE, false, false,
     true, 1, KVB_DIST_UNIFORM, {0}},
    {"readrandom", "get uniformly random loaded keys", KVB_READRANDOM, false, false, true, 1,
     KVB_DIST_UNIFORM, {0}},
    {"readmissing", "get keys that do not exist (they sort beside loaded ones)", KVB_READMISSING,
     false, false, true, 1, KVB_DIST_UNIFORM, {0}},
    {"readseq", "read every key in order with one cursor per thread", KVB_READSEQ, true, true,
     false, 1, KVB_DIST_SEQ, {0}},
    {"scan", "seek to a uniformly random key and read 100 keys (ops = n/10 scans)", KVB_SCAN, true,
     false, true, 10, KVB_DIST_UNIFORM, {0}},
    {"ycsb-a", "YCSB A: 50% read, 50% update, zipfian 0.99 scrambled", KVB_YCSB_A, false, false,
     true, 1, KVB_DIST_ZIPF, {50, 50, 0, 0, 0}},
    {"ycsb-b", "YCSB B: 95% read, 5% update, zipfian 0.99 scrambled", KVB_YCSB_B, false, false,
     true, 1, KVB_DIST_ZIPF, {95, 5, 0, 0, 0}},
    {"ycsb-c", "YCSB C: 100% read, zipfian 0.99 scrambled", KVB_YCSB_C, false, false, true, 1,
     KVB_DIST_ZIPF, {100, 0, 0, 0, 0}},
    {"ycsb-f", "YCSB F: 50% read, 50% read-modify-write, zipfian 0.99 scrambled", KVB_YCSB_F,
     false, false, true, 1, KVB_DIST_ZIPF, {50, 0, 0, 0, 50}},
    {"ycsb-d", "YCSB D: 95% read of the latest keys, 5% insert", KVB_YCSB_D, false, false, true,
     1, KVB_DIST_LATEST, {95, 0, 5, 0, 0}},
    {"ycsb-e", "YCSB E: 95% scan of 1-100 keys (zipfian start), 5% insert (ops = n/10)",
     KVB_YCSB_E, true, false, true, 10, KVB_DIST_ZIPF, {0, 0, 5, 95, 0}},
    {"deleterandom", "delete every loaded key in random order (runs last)", KVB_DELETERANDOM,
     false, true, false, 1, KVB_DIST_PERM, {0}},
    {"load", "the untimed load: fillrandom's operations", KVB_LOAD, false, true, false, 1,
     KVB_DIST_PERM, {0}},
};

const kvb_workload *kvb_workload_find(const char *name)
{
    for (int i = 0; i < KVB_N_WORKLOADS; i++)
        if (!strcmp(kvb_workloads[i].name, name))
            return &kvb_workloads[i];
    return NULL;
}

kvb_op_kind kvb_mix_pick(const kvb_mix *m, kv_rng *r)
{
    unsigned u = (unsigned)kv_rng_below(r, 100);

    if (u < m->read)
        return KVB_OP_READ;
    u -= m->read;
    if (u < m->update)
        return KVB_OP_UPDATE;
    u -= m->update;
    if (u < m->insert)
        return KVB_OP_INSERT;
    u -= m->insert;
    if (u < m->scan)
        return KVB_OP_SCAN;
    return KVB_OP_RMW;
}

int kvb_store_init(kvb_store *s, uint64_t n, unsigned key_size, const kvb_values *values,
                   uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    s->ins_base = n;
    atomic_init(&s->ins_slots, 0);
    s->ins_stride = 1;
    s->key_size = key_size;
    s->scan_len = SCAN_KEYS;
    s->values = values;
    kvb_perm_init(&s->perm, n, seed);
    return kv_zipf_init(&s->zipf, n ? n : 1, KV_ZIPF_THETA);
}

uint64_t kvb_store_records(kvb_store *s)
{
    return s->ins_base + atomic_load_explicit(&s->ins_slots, memory_order_relaxed) * s->ins_stride;
}

void kvb_worker_init(kvb_worker *w, kv_db *db, const kvb_workload *wl, kvb_store *store,
                     uint64_t seed, unsigned worker)
{
    uint64_t s = seed ^ ((uint64_t)wl->id + 1) * 0x9e3779b97f4a7c15ULL ^
                 ((uint64_t)worker + 1) * 0xbf58476d1ce4e5b9ULL;

    memset(w, 0, sizeof *w);
    w->db = db;
    w->wl = wl;
    w->store = store;
    kv_rng_seed(&w->rng, kv_splitmix64(&s));
}

void kvb_worker_fini(kvb_worker *w)
{
    kv_iter_close(w->seq_it);
    w->seq_it = NULL;
    kv_buf_free(&w->buf);
}

/* ---- the elementary operations ----------------------------------------- */

static void op_put(kvb_worker *w, uint64_t idx)
{
    unsigned ks = w->store->key_size;
    const kvb_values *v = w->store->values;

    kvb_key_encode(w->key, ks, idx, false);
    if (kv_put(w->db, w->key, ks, kvb_value_pick(v, &w->rng), v->vsize) == KV_OK)
        w->c.user_bytes += ks + v->vsize;
    else
        w->c.errors++;
}

static void op_get(kvb_worker *w, uint64_t idx, bool missing, bool must_exist)
{
    unsigned ks = w->store->key_size;
    int rc;

    kvb_key_encode(w->key, ks, idx, missing);
    rc = kv_get(w->db, w->key, ks, &w->buf);
    if (rc == KV_OK) {
        w->c.found++;
        if (missing)
            w->c.errors++;
    } else if (rc == KV_ENOTFOUND) {
        w->c.not_found++;
        if (must_exist)
            w->c.errors++;
    } else {
        w->c.errors++;
    }
}

static void op_delete(kvb_worker *w, uint64_t idx)
{
    unsigned ks = w->store->key_size;
    int rc;

    kvb_key_encode(w->key, ks, idx, false);
    rc = kv_delete(w->db, w->key, ks);
    if (rc != KV_OK) {
        w->c.errors++;
        if (rc == KV_ENOTFOUND)
            w->c.not_found++;
    }
}

/* Read the cursor's key and value so that lazy engines (an mmap) really
 * fetch them; the sum goes to the worker's volatile sink, so it cannot be
 * optimised away. */
static void touch(kvb_worker *w, const kv_iter *it)
{
    const void *k, *v;
    size_t kl, vl;

    kv_iter_key(it, &k, &kl);
    kv_iter_value(it, &v, &vl);
    w->sink = (unsigned char)(w->sink + (kl ? *(const unsigned char *)k : 0) +
                              (vl ? *(const unsigned char *)v : 0));
    w->c.scanned++;
}

static void op_scan(kvb_worker *w, uint64_t start, unsigned len)
{
    unsigned ks = w->store->key_size;
    kv_iter *it;
    unsigned got = 0;

    if (kv_iter_open(w->db, &it) != KV_OK) {
        w->c.errors++;
        return;
    }
    kvb_key_encode(w->key, ks, start, false);
    for (kv_iter_seek(it, w->key, ks); got < len && kv_iter_valid(it); kv_iter_next(it), got++)
        touch(w, it);
    if (kv_iter_status(it) != KV_OK)
        w->c.errors++;
    kv_iter_close(it);
}

int kvb_seq_start(kvb_worker *w, uint64_t from)
{
    int rc = kv_iter_open(w->db, &w->seq_it);

    if (rc != KV_OK)
        return rc;
    if (from == 0) {
        kv_iter_first(w->seq_it);
    } else {
        kvb_key_encode(w->key, w->store->key_size, from, false);
        kv_iter_seek(w->seq_it, w->key, w->store->key_size);
    }
    return KV_OK;
}

static void op_seq_step(kvb_worker *w)
{
    if (!w->seq_it || !kv_iter_valid(w->seq_it)) {
        w->c.errors++; /* fewer keys than the store should hold, or a cursor error */
        return;
    }
    touch(w, w->seq_it);
    kv_iter_next(w->seq_it);
}

/* ---- YCSB ------------------------------------------------------------------ */

static uint64_t ycsb_key(kvb_worker *w)
{
    if (w->wl->dist == KVB_DIST_LATEST)
        return kv_zipf_next_latest(&w->store->zipf, &w->rng, kvb_store_records(w->store));
    return kv_zipf_next_scrambled(&w->store->zipf, &w->rng);
}

static void op_ycsb(kvb_worker *w)
{
    kvb_store *s = w->store;
    uint64_t idx, slot;

    switch (kvb_mix_pick(&w->wl->mix, &w->rng)) {
    case KVB_OP_READ:
        idx = ycsb_key(w);
        op_get(w, idx, false, idx < s->n);
        break;
    case KVB_OP_UPDATE:
        op_put(w, ycsb_key(w));
        break;
    case KVB_OP_INSERT:
        slot = atomic_fetch_add_explicit(&s->ins_slots, 1, memory_order_relaxed);
        op_put(w, s->ins_base + slot * s->ins_stride + s->ins_offset);
        w->c.inserts++;
        break;
    case KVB_OP_SCAN:
        op_scan(w, ycsb_key(w), 1 + (unsigned)kv_rng_below(&w->rng, YCSB_E_MAX));
        break;
    case KVB_OP_RMW:
        idx = ycsb_key(w);
        op_get(w, idx, false, idx < s->n);
        op_put(w, idx);
        break;
    }
}

void kvb_op(kvb_worker *w, uint64_t i)
{
    kvb_store *s = w->store;

    switch (w->wl->id) {
    case KVB_FILLSEQ:
        op_put(w, i);
        break;
    case KVB_FILLRANDOM:
    case KVB_LOAD:
        op_put(w, kvb_perm_at(&s->perm, i));
        break;
    case KVB_OVERWRITE:
        op_put(w, kv_rng_below(&w->rng, s->n));
        break;
    case KVB_READRANDOM:
        op_get(w, kv_rng_below(&w->rng, s->n), false, true);
        break;
    case KVB_READMISSING:
        op_get(w, kv_rng_below(&w->rng, s->n), true, false);
        break;
    case KVB_READSEQ:
        op_seq_step(w);
        break;
    case KVB_SCAN:
        op_scan(w, kv_rng_below(&w->rng, s->n), s->scan_len);
        break;
    case KVB_DELETERANDOM:
        op_delete(w, kvb_perm_at(&s->perm, i));
        break;
    default:
        op_ycsb(w);
        break;
    }
    w->c.ops++;
}
