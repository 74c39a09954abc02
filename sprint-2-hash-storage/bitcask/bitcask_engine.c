/*
 * bitcask_engine.c — engine "bitcask": the kv_engine_ops table, options,
 * open and close, and the five operations.
 *
 * What this layer is. The glue: kv_open() lands in bc_open, which creates
 * the directory, takes the lock file, and lets bitcask_recover.c load the
 * store; put and delete encode a record (bitcask_record.c), append it
 * (bitcask_log.c) and update the keydir (bitcask_keydir.c); get looks the
 * key up and reads the record back. Options and guarantees are documented
 * in include/bitcask.h; the formats in docs/formats/bitcask.md.
 *
 * Locking (see bitcask_format.h): writers take `wmu` for the whole
 * operation, so records, timestamps and keydir changes happen in one
 * order; gets take only `flk` shared (plus the keydir's shard lock inside
 * ht_get_copy), so they never wait for a write's I/O.
 *
 * Order of a put: append the record first, then point the keydir at it.
 * A get that finds the new entry can read the record; a crash between the
 * two loses only a write that was never acknowledged. If the keydir runs
 * out of memory after the append, the record is cut off again
 * (bc_log_undo) and the put fails with KV_ENOMEM, changing nothing.
 *
 * Iterators (KV_CAP_SCAN, unordered): kv_iter_first() copies the keydir's
 * keys shard by shard (ht_scan, each shard under its read lock) and each
 * value is read with bc_get when the cursor lands on its key; a key deleted
 * since the copy is skipped (kvlabs/iter_snap.h). No key order: seek is
 * KV_ENOTSUP.
 *
 * Timestamps: max(previous + 1, the clock in microseconds), so they are
 * strictly increasing even when the clock steps back; open starts from the
 * newest timestamp on disk.
 */
#include <stdio.h>
#include <string.h>

#include "bitcask.h"
#include "bitcask_format.h"
#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "kvlabs/iter_snap.h"

static const kv_opt_spec bc_options[] = {
    {"max_file_size", KV_OPT_SIZE, "64M", NULL, 256, 0,
     "roll over to a new data file before one grows past this"},
    {"write_buffer", KV_OPT_SIZE, "0", NULL, 0, 1073741824.0,
     "buffer appends, written this many bytes at a time (0: one write per put)"},
    {"auto_merge", KV_OPT_DOUBLE, "0", NULL, 0, 1,
     "merge when this fraction of the data files is dead (0: never)"},
    {"auto_merge_min", KV_OPT_SIZE, "1M", NULL, 0, 1099511627776.0,
     "... and the data files hold at least this many bytes"},
    {0},
};

/* ---- open and close -------------------------------------------------------------- */

static int take_lock(bc_db *db)
{
    char *path = bc_path_name(db, "LOCK");
    bool existed;
    int rc;

    if (!path)
        return kv_fail(KV_ENOMEM, "bitcask: out of memory");
    existed = kv_env_stat(db->env, path, NULL, NULL) == KV_OK;
    rc = kv_env_open_mode(db->env, path, KV_O_RDWR | KV_O_CREAT, db->file_mode, &db->lock);
    kv_free(path);
    if (rc != KV_OK)
        return rc;
    rc = kv_file_lock(db->lock);
    if (rc == KV_EBUSY)
        return kv_fail(KV_EBUSY, "bitcask: %s is open in another handle or process", db->dir);
    if (rc == KV_OK && !existed)
        rc = kv_env_sync_dir(db->env, db->dir);
    return rc;
}

static void bc_free(bc_db *db)
{
    for (size_t i = 0; i < db->nfiles; i++)
        bc_file_free(db->files[i]);
    kv_free(db->files);
    kv_file_close(db->lock);
    bc_keydir_free(&db->kd);
    kv_free(db->wbuf);
    kv_free(db->scratch);
    kv_free(db->dir);
    pthread_mutex_destroy(&db->wmu);
    pthread_mutex_destroy(&db->bmu);
    pthread_rwlock_destroy(&db->flk);
    kv_free(db);
}

static void read_options(bc_db *db, const kv_open_args *a)
{
    db->max_file_size = kv_opts_u64(a->opts, "max_file_size");
    db->wcap = (size_t)kv_opts_u64(a->opts, "write_buffer");
    db->auto_merge = kv_opts_double(a->opts, "auto_merge");
    db->auto_merge_min = kv_opts_u64(a->opts, "auto_merge_min");
    db->sync = a->common->sync;
    db->file_mode = a->file_mode;
    db->dir_mode = a->dir_mode;
    db->sync_ms = a->common->sync_ms;
    db->last_sync_ms = bc_now_ms();
}

static int bc_open(const kv_open_args *a, kv_db **out)
{
    bc_db *db;
    int rc;

    if (!a->path || !*a->path)
        return kv_fail(KV_EINVAL, "bitcask: needs a directory path");
    db = kv_calloc(1, sizeof(*db));
    if (!db)
        return kv_fail(KV_ENOMEM, "bitcask: out of memory");
    pthread_mutex_init(&db->wmu, NULL);
    pthread_mutex_init(&db->bmu, NULL);
    pthread_rwlock_init(&db->flk, NULL);
    db->env = a->env;
    read_options(db, a);
    db->dir = kv_strdup(a->path);
    rc = db->dir ? bc_keydir_init(&db->kd) : kv_fail(KV_ENOMEM, "bitcask: out of memory");
    if (rc == KV_OK && db->wcap && !(db->wbuf = kv_malloc(db->wcap)))
        rc = kv_fail(KV_ENOMEM, "bitcask: out of memory for the write buffer");
    if (rc == KV_OK)
        rc = kv_env_mkdir_durable_mode(db->env, db->dir, db->dir_mode);
    if (rc == KV_OK)
        rc = take_lock(db);
    if (rc == KV_OK)
        rc = bc_recover(db);
    if (rc != KV_OK) {
        bc_free(db);
        return rc;
    }
    db->base.caps = KV_CAP_DURABLE | KV_CAP_SCAN;
    *out = &db->base;
    return KV_OK;
}

static int bc_close(kv_db *kdb)
{
    bc_db *db = (bc_db *)kdb;
    int rc;

    pthread_mutex_lock(&db->wmu);
    rc = db->broken ? kv_fail(KV_EIO, "bitcask: the store is unusable; not flushed at close")
                    : bc_log_sync(db);
    if (rc == KV_OK)
        rc = bc_clean_write(db);
    pthread_mutex_unlock(&db->wmu);
    bc_free(db);
    return rc;
}

/* ---- writes ------------------------------------------------------------------------ */

static uint64_t next_ts(bc_db *db)
{
    uint64_t now = bc_now_us();

    db->last_ts = now > db->last_ts ? now : db->last_ts + 1;
    return db->last_ts;
}

/* Room for one encoded record in the scratch buffer. */
static int scratch(bc_db *db, uint64_t len)
{
    unsigned char *p;

    if (len <= db->scap)
        return KV_OK;
    p = kv_realloc(db->scratch, (size_t)len);
    if (!p)
        return kv_fail(KV_ENOMEM, "bitcask: out of memory for a %llu-byte record",
                       (unsigned long long)len);
    db->scratch = p;
    db->scap = (size_t)len;
    return KV_OK;
}

/* Encode and append one record; *loc says where it went. */
static int write_rec(bc_db *db, const void *key, size_t klen, const void *val, uint32_t vsize,
                     bc_loc *loc)
{
    uint64_t len = bc_rec_size((uint32_t)klen, vsize);
    int rc = scratch(db, len);

    if (rc != KV_OK)
        return rc;
    loc->ts = next_ts(db);
    loc->vsize = vsize;
    bc_rec_encode(db->scratch, loc->ts, key, (uint32_t)klen, val, vsize);
    rc = bc_log_append(db, db->scratch, (size_t)len, loc);
    if (db->scap > (1u << 20)) { /* do not keep a huge value's buffer */
        kv_free(db->scratch);
        db->scratch = NULL;
        db->scap = 0;
    }
    return rc;
}

/* After a write that started a new data file: merge if enough is dead. */
static void maybe_auto_merge(bc_db *db, uint32_t active_before)
{
    uint64_t total = db->disk_bytes;

    if (db->auto_merge <= 0 || db->active->id == active_before || total < db->auto_merge_min ||
        total == 0)
        return;
    if ((double)(total - db->kd.disk) / (double)total >= db->auto_merge)
        bc_merge_locked(db); /* a failure leaves the store as it was: the put stands */
}

static int bc_put(kv_db *kdb, const void *key, size_t klen, const void *val, size_t vlen)
{
    bc_db *db = (bc_db *)kdb;
    uint32_t active;
    bc_loc loc;
    int rc;

    pthread_mutex_lock(&db->wmu);
    active = db->active->id;
    rc = write_rec(db, key, klen, val, (uint32_t)vlen, &loc);
    if (rc == KV_OK) {
        rc = bc_keydir_put(&db->kd, key, klen, &loc, NULL);
        if (rc != KV_OK)
            bc_log_undo(db, &loc, bc_rec_size((uint32_t)klen, (uint32_t)vlen));
    }
    if (rc == KV_OK)
        maybe_auto_merge(db, active);
    pthread_mutex_unlock(&db->wmu);
    return rc;
}

static int bc_del(kv_db *kdb, const void *key, size_t klen)
{
    bc_db *db = (bc_db *)kdb;
    uint32_t active;
    bc_loc loc;
    int rc;

    pthread_mutex_lock(&db->wmu);
    active = db->active->id;
    rc = bc_keydir_get(&db->kd, key, klen, &loc);
    if (rc == KV_ENOTFOUND)
        rc = kv_fail(KV_ENOTFOUND, "bitcask: key not found");
    if (rc == KV_OK)
        rc = write_rec(db, key, klen, NULL, BC_TOMBSTONE, &loc);
    if (rc == KV_OK)
        rc = bc_keydir_del(&db->kd, key, klen, loc.ts);
    if (rc == KV_OK)
        maybe_auto_merge(db, active);
    pthread_mutex_unlock(&db->wmu);
    return rc;
}

static int bc_sync(kv_db *kdb)
{
    bc_db *db = (bc_db *)kdb;
    int rc;

    pthread_mutex_lock(&db->wmu);
    rc = db->broken ? kv_fail(KV_EIO, "bitcask: the store is unusable after a write failure")
                    : bc_log_sync(db);
    pthread_mutex_unlock(&db->wmu);
    return rc;
}

/* ---- reads ---------------------------------------------------------------------------- */

static int bc_get(kv_db *kdb, const void *key, size_t klen, kv_buf *val)
{
    bc_db *db = (bc_db *)kdb;
    bc_loc loc;
    int rc;

    pthread_rwlock_rdlock(&db->flk);
    rc = bc_keydir_get(&db->kd, key, klen, &loc);
    if (rc == KV_ENOTFOUND)
        rc = kv_fail(KV_ENOTFOUND, "bitcask: key not found");
    else if (rc == KV_OK)
        rc = bc_log_read(db, &loc, key, klen, val);
    pthread_rwlock_unlock(&db->flk);
    return rc;
}

/* ---- statistics ---------------------------------------------------------------------------- */

int bc_info_get(kv_db *kdb, bc_info *out)
{
    bc_db *db = (bc_db *)kdb;

    if (!kdb || !out || kdb->ops != &kv_engine_bitcask)
        return kv_fail(KV_EINVAL, "bc_info_get: not a bitcask store");
    pthread_mutex_lock(&db->wmu);
    *out = (bc_info){.data_files = db->nfiles, .disk_bytes = db->disk_bytes,
                     .live_bytes = db->kd.disk, .merges = db->merges,
                     .hint_files = db->hint_files, .scanned_files = db->scanned_files,
                     .torn_bytes = db->torn_bytes, .active_id = db->active->id};
    pthread_mutex_unlock(&db->wmu);
    return KV_OK;
}

static int bc_stats(kv_db *kdb, kv_stats *out)
{
    bc_db *db = (bc_db *)kdb;
    ht_stats hs;

    ht_get_stats(db->kd.t, &hs);
    pthread_mutex_lock(&db->wmu);
    out->keys = db->kd.keys;
    out->bytes = db->kd.bytes;
    out->mem_bytes = hs.mem_bytes + sizeof(*db) + db->cap * sizeof(*db->files) + db->wcap;
    out->disk_bytes = db->disk_bytes;
    kv_stats_add_extra(out, "data_files", (double)db->nfiles);
    kv_stats_add_extra(out, "dead_bytes", (double)(db->disk_bytes - db->kd.disk));
    kv_stats_add_extra(out, "merges", (double)db->merges);
    kv_stats_add_extra(out, "hint_files_loaded", (double)db->hint_files);
    pthread_mutex_unlock(&db->wmu);
    return KV_OK;
}

/* ---- unordered iteration (KV_CAP_SCAN) ------------------------------------------ */

/* ht_scan's visitor: the key alone (the value is read by bc_get later). */
static int copy_key(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    (void)val;
    (void)vlen;
    return kv_snap_add(arg, key, klen, NULL, 0);
}

static int bc_fill(kv_db *kdb, kv_snap_iter *s)
{
    return ht_scan(((bc_db *)kdb)->kd.t, copy_key, s);
}

static int bc_iter_open(kv_db *kdb, kv_iter **out)
{
    return kv_snap_iter_open(kdb, bc_fill, true, out);
}

const kv_engine_ops kv_engine_bitcask = {
    .name = "bitcask",
    .summary = "log-structured hash table: append-only data files, in-memory keydir, merge",
    .caps = KV_CAP_DURABLE | KV_CAP_SCAN,
    .options = bc_options,
    .default_max_key = 1024,
    .limit_max_key = BC_MAX_KEY,
    .default_max_value = 64u << 20,
    .limit_max_value = BC_MAX_VALUE,
    .open = bc_open,
    .close = bc_close,
    .put = bc_put,
    .get = bc_get,
    .del = bc_del,
    .sync = bc_sync,
    .stats = bc_stats,
    .iter_open = bc_iter_open,
    KV_SNAP_ITER_OPS,
};

/* The public merge (bitcask.h): here, at the top, so that bitcask_merge.c
 * never calls back into the engine (it recognises no kv_db, only a bc_db). */
int bc_merge(kv_db *kdb)
{
    bc_db *db = (bc_db *)kdb;
    int rc;

    if (!kdb || kdb->ops != &kv_engine_bitcask)
        return kv_fail(KV_EINVAL, "bc_merge: not a bitcask store");
    pthread_mutex_lock(&db->wmu);
    rc = bc_merge_locked(db);
    pthread_mutex_unlock(&db->wmu);
    return rc;
}
