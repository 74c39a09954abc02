/*
 * engine_model.c — engine "model": the simplest obviously-correct ordered engine.
 *
 * The model is the oracle of every differential test in kvlabs: a random
 * sequence of operations is applied to an engine under test and to the
 * model, and every answer must agree. So it is written to be checked by
 * eye, not to be fast: one sorted array of (key, value) pairs under one
 * read-write lock, binary search for lookups, memmove for inserts and
 * deletes (O(n) per write; fine for tests, and the report leaves it out).
 *
 * Options: `durable=true` keeps an append-only log, "model.log" in the
 * directory given as path, through the env, so the conformance suite's
 * durable cases (reopen, crash, bit flips) have a reference engine. Each
 * put or delete appends one record (format below) before it changes the
 * array; kv_sync() fsyncs the log; open replays it. `sync=always` fsyncs
 * after every record; `sync=batch` fsyncs when sync_ms have passed since
 * the last fsync (checked at each write: the model runs no thread). The
 * directory and the log are created with the `mode=` option's modes
 * (0700/0600 by default); without durable=true the model ignores it.
 *
 * Log record (all integers little-endian):
 *
 *   offset size field
 *   0      4    hcrc   CRC32C of bytes 4..16 (op, klen, vlen, dcrc)
 *   4      1    op     1 = put, 2 = delete
 *   5      4    klen   key length (>= 1)
 *   9      4    vlen   value length (0 for a delete)
 *   13     4    dcrc   CRC32C of key || value
 *   17     klen key, then vlen value
 *
 * Recovery tells a torn tail from corruption. A crash can only cut the
 * last append short (the fault env's torn write keeps a prefix), so a
 * record whose header or payload runs past the end of the file is a torn
 * tail: the log is truncated back to the last whole record. A complete
 * record with a bad checksum, an unknown op or an impossible length cannot
 * come from a crash: open fails with KV_ECORRUPT rather than silently drop
 * the synced records behind it.
 *
 * A second opener of the same directory gets KV_EBUSY (lock on the log).
 * A failed append (a failed write, or the failed fsync of sync=always or
 * batch) is cut off again (truncate to the old end) so the log never holds
 * a half record followed by good ones, nor a record of a write the caller
 * was told failed; if even that fails the instance refuses further writes
 * with KV_EIO (and kv_close() reports KV_EIO: it cannot flush).
 */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/env.h"
#include "kvlabs/error.h"
#include "kvlabs/hash.h"

#define MODEL_HDR 17
#define MODEL_OP_PUT 1
#define MODEL_OP_DEL 2
#define MODEL_LIMIT (1u << 30)

struct model_entry {
    unsigned char *key; /* key bytes then value bytes, one allocation */
    size_t klen, vlen;
};

struct model_db {
    kv_db base;
    pthread_rwlock_t lock;
    struct model_entry *e;
    size_t n, cap;
    uint64_t bytes;       /* live key+value bytes */
    /* durable mode */
    kv_file *log;
    char *log_path;
    uint64_t log_end;     /* where the next record goes */
    bool broken;          /* a failed append could not be cut off */
    kv_sync_mode sync;
    uint64_t sync_ms, last_sync_ms;
};

struct model_iter {
    kv_iter base;
    kv_buf key, val;
    bool valid;
};

static const kv_opt_spec model_options[] = {
    {"durable", KV_OPT_BOOL, "false", NULL, 0, 0,
     "keep an append-only log in the directory (the durable reference engine)"},
    {0},
};

static int entry_cmp(const struct model_entry *e, const void *key, size_t klen)
{
    return kv_key_cmp(e->key, e->klen, key, klen);
}

/* Index of the first entry >= key; *found tells whether it is equal. */
static size_t lower_bound(const struct model_db *m, const void *key, size_t klen, bool *found)
{
    size_t lo = 0, hi = m->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (entry_cmp(&m->e[mid], key, klen) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < m->n && entry_cmp(&m->e[lo], key, klen) == 0;
    return lo;
}

/* ---- in-memory array ----------------------------------------------------- */

/* Make room for one more entry; KV_ENOMEM leaves the array as it was. */
static int reserve_one(struct model_db *m)
{
    struct model_entry *e;
    size_t cap;

    if (m->n < m->cap)
        return KV_OK;
    cap = m->cap ? m->cap * 2 : 16;
    e = kv_realloc(m->e, cap * sizeof(*e));
    if (!e)
        return kv_fail(KV_ENOMEM, "model: out of memory growing the array to %zu entries", cap);
    m->e = e;
    m->cap = cap;
    return KV_OK;
}

/* Put a prepared entry (ownership passes to the array). */
static void apply_put(struct model_db *m, struct model_entry ne)
{
    bool found;
    size_t i = lower_bound(m, ne.key, ne.klen, &found);

    if (found) {
        m->bytes -= m->e[i].klen + m->e[i].vlen;
        kv_free(m->e[i].key);
        m->e[i] = ne;
    } else {
        assert(m->n < m->cap);
        memmove(&m->e[i + 1], &m->e[i], (m->n - i) * sizeof(*m->e));
        m->e[i] = ne;
        m->n++;
    }
    m->bytes += ne.klen + ne.vlen;
}

static bool apply_del(struct model_db *m, const void *key, size_t klen)
{
    bool found;
    size_t i = lower_bound(m, key, klen, &found);

    if (!found)
        return false;
    m->bytes -= m->e[i].klen + m->e[i].vlen;
    kv_free(m->e[i].key);
    memmove(&m->e[i], &m->e[i + 1], (m->n - i - 1) * sizeof(*m->e));
    m->n--;
    return true;
}

static int make_entry(const void *key, size_t klen, const void *val, size_t vlen,
                      struct model_entry *out)
{
    unsigned char *p = kv_malloc(klen + vlen);

    if (!p)
        return kv_fail(KV_ENOMEM, "model: out of memory for a %zu-byte entry", klen + vlen);
    memcpy(p, key, klen);
    if (vlen)
        memcpy(p + klen, val, vlen);
    *out = (struct model_entry){.key = p, .klen = klen, .vlen = vlen};
    return KV_OK;
}

/* ---- the log ------------------------------------------------------------- */

static void put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int log_sync(struct model_db *m)
{
    int rc = kv_file_sync(m->log);

    if (rc == KV_OK)
        m->last_sync_ms = now_ms();
    return rc;
}

/* Append one record; on failure cut the file back so no half record stays. */
static int log_append(struct model_db *m, int op, const void *key, size_t klen, const void *val,
                      size_t vlen)
{
    unsigned char *rec;
    size_t len = MODEL_HDR + klen + vlen;
    int rc;

    if (m->broken)
        return kv_fail(KV_EIO, "model: log is unusable after an earlier write failure");
    rec = kv_malloc(len);
    if (!rec)
        return kv_fail(KV_ENOMEM, "model: out of memory for a log record");
    rec[4] = (unsigned char)op;
    put_le32(rec + 5, (uint32_t)klen);
    put_le32(rec + 9, (uint32_t)vlen);
    memcpy(rec + MODEL_HDR, key, klen);
    if (vlen)
        memcpy(rec + MODEL_HDR + klen, val, vlen);
    put_le32(rec + 13, kv_crc32c(0, rec + MODEL_HDR, klen + vlen));
    put_le32(rec, kv_crc32c(0, rec + 4, MODEL_HDR - 4));
    rc = kv_file_pwrite(m->log, rec, len, m->log_end);
    kv_free(rec);
    if (rc == KV_OK && (m->sync == KV_SYNC_ALWAYS ||
                        (m->sync == KV_SYNC_BATCH && now_ms() - m->last_sync_ms >= m->sync_ms)))
        rc = log_sync(m);
    if (rc != KV_OK) {
        /* The caller is told the write failed and does not apply it, so the
         * record goes too (also after a failed fsync: else a reopen would
         * bring back a write this handle never showed). */
        char why[KV_ERROR_MAX];
        snprintf(why, sizeof(why), "%s", kv_last_error());
        if (kv_file_truncate(m->log, m->log_end) != KV_OK)
            m->broken = true;
        return kv_fail(rc, "model: log append failed: %s", why);
    }
    m->log_end += len;
    return KV_OK;
}

/* Read the whole log into memory (the model's logs are test-sized). */
static int read_all(kv_file *f, unsigned char **out, uint64_t *size)
{
    unsigned char *buf;
    size_t got;
    int rc = kv_file_size(f, size);

    if (rc != KV_OK)
        return rc;
    if (*size > (uint64_t)SIZE_MAX / 2)
        return kv_fail(KV_ECORRUPT, "model: log of %llu bytes is implausible",
                       (unsigned long long)*size);
    buf = kv_malloc((size_t)*size);
    if (!buf)
        return kv_fail(KV_ENOMEM, "model: out of memory reading the log");
    rc = kv_file_pread(f, buf, (size_t)*size, 0, &got);
    if (rc == KV_OK && got != *size)
        rc = kv_fail(KV_EIO, "model: short read of the log (%zu of %llu bytes)", got,
                     (unsigned long long)*size);
    if (rc != KV_OK) {
        kv_free(buf);
        return rc;
    }
    *out = buf;
    return KV_OK;
}

/* Apply one record found valid at buf[off..]. */
static int replay_record(struct model_db *m, const unsigned char *r, int op, size_t klen,
                         size_t vlen)
{
    struct model_entry ne;
    int rc;

    if (op == MODEL_OP_DEL) {
        apply_del(m, r + MODEL_HDR, klen);
        return KV_OK;
    }
    rc = reserve_one(m);
    if (rc == KV_OK)
        rc = make_entry(r + MODEL_HDR, klen, r + MODEL_HDR + klen, vlen, &ne);
    if (rc == KV_OK)
        apply_put(m, ne);
    return rc;
}

/*
 * Replay the log. Sets *valid_end to the end of the last whole record;
 * anything after it is a torn tail. Corruption is KV_ECORRUPT.
 */
static int replay(struct model_db *m, const unsigned char *buf, uint64_t size,
                  uint64_t *valid_end)
{
    uint64_t off = 0;

    while (size - off >= MODEL_HDR) {
        const unsigned char *r = buf + off;
        uint32_t klen = get_le32(r + 5), vlen = get_le32(r + 9);
        int op = r[4], rc;

        if (get_le32(r) != kv_crc32c(0, r + 4, MODEL_HDR - 4))
            return kv_fail(KV_ECORRUPT, "model: bad header checksum at log offset %llu",
                           (unsigned long long)off);
        if ((op != MODEL_OP_PUT && op != MODEL_OP_DEL) || klen == 0 || klen > MODEL_LIMIT ||
            vlen > MODEL_LIMIT || (op == MODEL_OP_DEL && vlen))
            return kv_fail(KV_ECORRUPT, "model: impossible record at log offset %llu",
                           (unsigned long long)off);
        if ((uint64_t)klen + vlen > size - off - MODEL_HDR)
            break; /* torn tail */
        if (get_le32(r + 13) != kv_crc32c(0, r + MODEL_HDR, (size_t)klen + vlen))
            return kv_fail(KV_ECORRUPT, "model: bad data checksum at log offset %llu",
                           (unsigned long long)off);
        rc = replay_record(m, r, op, klen, vlen);
        if (rc != KV_OK)
            return rc;
        off += MODEL_HDR + (uint64_t)klen + vlen;
    }
    *valid_end = off;
    return KV_OK;
}

static int open_log(struct model_db *m, const kv_open_args *a)
{
    unsigned char *buf = NULL;
    uint64_t size = 0, end = 0;
    const kv_env *env = a->env;
    const char *dir = a->path;
    bool existed;
    size_t plen;
    int rc;

    if (!dir || !*dir)
        return kv_fail(KV_EINVAL, "model: durable=true needs a directory path");
    rc = kv_env_mkdir_durable_mode(env, dir, a->dir_mode);
    if (rc != KV_OK)
        return rc;
    plen = strlen(dir) + sizeof("/model.log");
    m->log_path = kv_malloc(plen);
    if (!m->log_path)
        return kv_fail(KV_ENOMEM, "model: out of memory");
    snprintf(m->log_path, plen, "%s/model.log", dir);
    existed = kv_env_stat(env, m->log_path, NULL, NULL) == KV_OK;
    rc = kv_env_open_mode(env, m->log_path, KV_O_RDWR | KV_O_CREAT, a->file_mode, &m->log);
    if (rc != KV_OK)
        return rc;
    rc = kv_file_lock(m->log);
    if (rc == KV_EBUSY)
        return kv_fail(KV_EBUSY, "model: %s is open in another handle or process", dir);
    if (rc == KV_OK && !existed)
        rc = kv_env_sync_dir(env, dir); /* the log's creation is durable */
    if (rc == KV_OK)
        rc = read_all(m->log, &buf, &size);
    if (rc == KV_OK)
        rc = replay(m, buf, size, &end);
    kv_free(buf);
    if (rc == KV_OK && end < size)
        rc = kv_file_truncate(m->log, end); /* cut the torn tail */
    m->log_end = end;
    return rc;
}

/* ---- the engine operations ---------------------------------------------- */

static void model_free(struct model_db *m)
{
    for (size_t i = 0; i < m->n; i++)
        kv_free(m->e[i].key);
    kv_free(m->e);
    kv_free(m->log_path);
    pthread_rwlock_destroy(&m->lock);
    kv_free(m);
}

static int model_close(kv_db *db)
{
    struct model_db *m = (struct model_db *)db;
    int rc = KV_OK;

    if (m->log) {
        /* A broken log cannot be flushed: its acknowledged writes may not be durable. */
        rc = m->broken ? kv_fail(KV_EIO, "model: log is unusable; not flushed at close")
                       : kv_file_sync(m->log);
        int rc2 = kv_file_close(m->log);
        if (rc == KV_OK)
            rc = rc2;
    }
    model_free(m);
    return rc;
}

static int model_open(const kv_open_args *a, kv_db **out)
{
    struct model_db *m = kv_calloc(1, sizeof(*m));
    int rc;

    if (!m)
        return kv_fail(KV_ENOMEM, "model: out of memory");
    if (pthread_rwlock_init(&m->lock, NULL) != 0) {
        kv_free(m);
        return kv_fail(KV_ENOMEM, "model: cannot create a lock");
    }
    m->sync = a->common->sync;
    m->sync_ms = a->common->sync_ms;
    m->last_sync_ms = now_ms();
    if (kv_opts_bool(a->opts, "durable")) {
        m->base.caps = KV_CAP_ORDERED | KV_CAP_DURABLE;
        rc = open_log(m, a);
        if (rc != KV_OK) {
            if (m->log)
                kv_file_close(m->log);
            model_free(m);
            return rc;
        }
    } else {
        m->base.caps = KV_CAP_ORDERED;
    }
    *out = &m->base;
    return KV_OK;
}

static int model_put(kv_db *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct model_db *m = (struct model_db *)db;
    struct model_entry ne;
    int rc = make_entry(key, klen, val, vlen, &ne);

    if (rc != KV_OK)
        return rc;
    pthread_rwlock_wrlock(&m->lock);
    rc = reserve_one(m);
    if (rc == KV_OK && m->log)
        rc = log_append(m, MODEL_OP_PUT, key, klen, val, vlen);
    if (rc == KV_OK)
        apply_put(m, ne);
    pthread_rwlock_unlock(&m->lock);
    if (rc != KV_OK)
        kv_free(ne.key);
    return rc;
}

static int model_get(kv_db *db, const void *key, size_t klen, kv_buf *val)
{
    struct model_db *m = (struct model_db *)db;
    bool found;
    size_t i;
    int rc = KV_OK;

    pthread_rwlock_rdlock(&m->lock);
    i = lower_bound(m, key, klen, &found);
    if (!found)
        rc = kv_fail(KV_ENOTFOUND, "model: key not found");
    else if (val)
        rc = kv_buf_set(val, m->e[i].key + m->e[i].klen, m->e[i].vlen);
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

static int model_del(kv_db *db, const void *key, size_t klen)
{
    struct model_db *m = (struct model_db *)db;
    bool found;
    int rc = KV_OK;

    pthread_rwlock_wrlock(&m->lock);
    lower_bound(m, key, klen, &found);
    if (!found)
        rc = kv_fail(KV_ENOTFOUND, "model: key not found");
    else if (m->log)
        rc = log_append(m, MODEL_OP_DEL, key, klen, NULL, 0);
    if (rc == KV_OK)
        apply_del(m, key, klen);
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

static int model_sync(kv_db *db)
{
    struct model_db *m = (struct model_db *)db;
    int rc = KV_OK;

    pthread_rwlock_wrlock(&m->lock);
    if (m->log)
        rc = m->broken ? kv_fail(KV_EIO, "model: log is unusable") : log_sync(m);
    pthread_rwlock_unlock(&m->lock);
    return rc;
}

static int model_stats(kv_db *db, kv_stats *out)
{
    struct model_db *m = (struct model_db *)db;

    pthread_rwlock_rdlock(&m->lock);
    out->keys = m->n;
    out->bytes = m->bytes;
    out->mem_bytes = m->cap * sizeof(*m->e) + m->bytes;
    out->disk_bytes = m->log_end;
    pthread_rwlock_unlock(&m->lock);
    return KV_OK;
}

/* ---- iterators: a copy of the current pair, re-found on each move ------- */

static int model_iter_open(kv_db *db, kv_iter **out)
{
    struct model_iter *it = kv_calloc(1, sizeof(*it));

    (void)db;
    if (!it)
        return kv_fail(KV_ENOMEM, "model: out of memory for an iterator");
    *out = &it->base;
    return KV_OK;
}

/* Position on entry i (or invalid past the end), copying it out. */
static void iter_load(struct model_iter *it, const struct model_db *m, size_t i)
{
    it->valid = false;
    if (i >= m->n) {
        it->key.len = 0; /* at the end: clears an earlier ENOMEM mark */
        return;
    }
    if (kv_buf_set(&it->key, m->e[i].key, m->e[i].klen) != KV_OK ||
        kv_buf_set(&it->val, m->e[i].key + m->e[i].klen, m->e[i].vlen) != KV_OK) {
        it->key.len = SIZE_MAX; /* marks ENOMEM for iter_status */
        return;
    }
    it->valid = true;
}

static void model_iter_seek(kv_iter *base, const void *key, size_t klen)
{
    struct model_iter *it = (struct model_iter *)base;
    struct model_db *m = (struct model_db *)base->db;
    bool found;

    pthread_rwlock_rdlock(&m->lock);
    iter_load(it, m, klen ? lower_bound(m, key, klen, &found) : 0);
    pthread_rwlock_unlock(&m->lock);
}

static void model_iter_first(kv_iter *base)
{
    model_iter_seek(base, NULL, 0);
}

static void model_iter_next(kv_iter *base)
{
    struct model_iter *it = (struct model_iter *)base;
    struct model_db *m = (struct model_db *)base->db;
    bool found;
    size_t i;

    pthread_rwlock_rdlock(&m->lock);
    i = lower_bound(m, it->key.data, it->key.len, &found);
    iter_load(it, m, found ? i + 1 : i);
    pthread_rwlock_unlock(&m->lock);
}

static bool model_iter_valid(const kv_iter *base)
{
    return ((const struct model_iter *)base)->valid;
}

static void model_iter_key(const kv_iter *base, const void **k, size_t *n)
{
    const struct model_iter *it = (const struct model_iter *)base;

    *k = it->key.data;
    *n = it->key.len;
}

static void model_iter_value(const kv_iter *base, const void **v, size_t *n)
{
    const struct model_iter *it = (const struct model_iter *)base;

    *v = it->val.data;
    *n = it->val.len;
}

static int model_iter_status(const kv_iter *base)
{
    const struct model_iter *it = (const struct model_iter *)base;

    return !it->valid && it->key.len == SIZE_MAX ? KV_ENOMEM : KV_OK;
}

static void model_iter_close(kv_iter *base)
{
    struct model_iter *it = (struct model_iter *)base;

    kv_buf_free(&it->key);
    kv_buf_free(&it->val);
    kv_free(it);
}

const kv_engine_ops kv_engine_model = {
    .name = "model",
    .summary = "sorted array under one lock: the reference oracle (durable=true: with a log)",
    .caps = KV_CAP_ORDERED | KV_CAP_DURABLE,
    .options = model_options,
    .default_max_key = 65536,
    .limit_max_key = MODEL_LIMIT,
    .default_max_value = 64u << 20,
    .limit_max_value = MODEL_LIMIT,
    .open = model_open,
    .close = model_close,
    .put = model_put,
    .get = model_get,
    .del = model_del,
    .sync = model_sync,
    .stats = model_stats,
    .iter_open = model_iter_open,
    .iter_first = model_iter_first,
    .iter_seek = model_iter_seek,
    .iter_valid = model_iter_valid,
    .iter_next = model_iter_next,
    .iter_key = model_iter_key,
    .iter_value = model_iter_value,
    .iter_status = model_iter_status,
    .iter_close = model_iter_close,
};
