/*
 * lsm_storage_engine.c — engine "lsm": the kv.h adapter of the LSM tree:
 * open and close, the write path with group commit and write stalls, point
 * reads, statistics, and the background thread.
 *
 * A write (put or delete), under db->mu:
 *   1. make room: if L0 has l0_slowdown files, sleep 1 ms once (a
 *      slowdown); if the memtable is full and the previous one is still
 *      being flushed, or L0 has l0_stop files, wait (a stop); if it is
 *      full, seal it and start a new memtable and log (wake the flusher);
 *   2. look the key up (live key and byte counts; a delete of an absent
 *      key is KV_ENOTFOUND);
 *   3. allocate the memtable entry, encode the log record (both can fail
 *      with KV_ENOMEM, changing nothing), append it to the log;
 *   4. link the entry into the memtable (readers see it now).
 * Stalls are counted and timed (stats: stall_stops, stall_slowdowns,
 * stall_ms, stall_max_ms; by cause: stall_l0_stops and stall_l0_max_ms for
 * waits at l0_stop files, stall_imm_max_ms for waits on the flush of the
 * previous memtable, stall_slowdown_max_ms). Each is one wait: a write may
 * wait more than once.
 *
 * Durability. sync=none: the log reaches the OS at every write; kv_sync and
 * kv_close fsync it (and the directory first when a log was created since). sync=always: every write fsyncs before it returns,
 * through group commit: one writer's fsync covers every record appended
 * before it, so concurrent writers share fsyncs (sync_mu serialises them;
 * a writer whose record is already covered returns at once). sync=batch:
 * the background thread fsyncs every sync_ms.
 *
 * Background threads: a flush thread (it also does the sync=batch fsyncs,
 * and with compaction=tiered the merges) and a compaction thread (leveled
 * compaction only), so a full memtable waits for one flush, never for a
 * compaction (lsm_compaction.c).
 *
 * Errors from the background threads (a flush or a compaction failing) are
 * sticky: every later write returns that error (KV_EIO ...), reads keep
 * working, and nothing already durable is damaged; reopen to recover.
 *
 * Lock order: sync_mu before mu. Callers of kv.h: see kv.h.
 */
#include <stdio.h>
#include <time.h>

#include "lsm_int.h"

static const kv_opt_spec lsm_options[] = {
    {"write_buffer", KV_OPT_SIZE, "4M", NULL, 4096, 1073741824.0, "memtable size that triggers a flush"},
    {"block_size", KV_OPT_SIZE, "4K", NULL, 256, 16777216.0, "target data block size"},
    {"restart_interval", KV_OPT_UINT, "16", NULL, 1, 1024, "entries between restart points"},
    {"bloom_bits", KV_OPT_UINT, "10", NULL, 0, 64, "bloom filter bits per key (0: none)"},
    {"target_file", KV_OPT_SIZE, "2M", NULL, 4096, 1073741824.0, "compaction output file size"},
    {"level1_bytes", KV_OPT_SIZE, "10M", NULL, 4096, 1099511627776.0, "target size of level 1"},
    {"level_ratio", KV_OPT_UINT, "10", NULL, 2, 100, "size ratio between levels"},
    {"l0_trigger", KV_OPT_UINT, "4", NULL, 2, 100, "L0 files that start a compaction"},
    {"l0_slowdown", KV_OPT_UINT, "8", NULL, 2, 1000, "L0 files that slow writers down by 1 ms"},
    {"l0_stop", KV_OPT_UINT, "12", NULL, 2, 1000, "L0 files that stop writers"},
    {"compaction", KV_OPT_ENUM, "leveled", "leveled|tiered", 0, 0, "compaction style"},
    {"compression", KV_OPT_ENUM, "none", "none|lz4|zstd", 0, 0, "block compression"},
    {"block_cache", KV_OPT_SIZE, "8M", NULL, 0, 1099511627776.0, "block cache size (0: none)"},
    {"exact_stats", KV_OPT_BOOL, "true", NULL, 0, 0,
     "exact stats.keys/bytes: a lookup before every put (false: none, keys/bytes 0, as the peers)"},
    {0},
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- group commit -------------------------------------------------------------- */

/* Make the log durable up to (number, off); 0, 0: everything written so far. */
static int group_sync(lsm_db *db, uint64_t number, uint64_t off)
{
    int rc = KV_OK;
    pthread_mutex_lock(&db->sync_mu);
    if (number && db->synced_number == number && db->synced_off >= off)
        goto out_unlock; /* another writer's fsync covered this record */
    pthread_mutex_lock(&db->mu);
    kv_file *wal = db->wal, *imm_wal = db->imm_wal;
    uint64_t n = db->wal_number, o = db->wal_off;
    bool dir_dirty = db->dir_dirty; /* a log created since the last sync */
    db->dir_dirty = false;
    pthread_mutex_unlock(&db->mu);
    if (dir_dirty && (rc = kv_env_sync_dir(db->env, db->dir))) {
        pthread_mutex_lock(&db->mu);
        db->dir_dirty = true;
        pthread_mutex_unlock(&db->mu);
        goto out_unlock;
    }
    if (imm_wal && (rc = kv_file_sync(imm_wal)))
        goto out_unlock;
    if ((rc = kv_file_sync(wal)))
        goto out_unlock;
    db->synced_number = n;
    db->synced_off = o;
out_unlock:
    pthread_mutex_unlock(&db->sync_mu);
    return rc;
}

/* ---- the background threads ----------------------------------------------------- */

/* The loop of a background thread: work of its roles until there is none,
 * then wait on cv (the flush thread also syncs the log every sync_ms). */
static void bg_loop(lsm_db *db, unsigned roles, pthread_cond_t *cv, bool batch_sync)
{
    uint64_t last_sync = now_ns();
    pthread_mutex_lock(&db->mu);
    while (!db->shutting_down) {
        if (lsm_bg_work(db, roles))
            continue;
        if (db->shutting_down) /* set while lsm_bg_work had dropped the mutex */
            break;
        if (batch_sync && db->sync == KV_SYNC_BATCH) {
            uint64_t period = (db->sync_ms ? db->sync_ms : 1) * 1000000u;
            if (now_ns() - last_sync >= period) {
                pthread_mutex_unlock(&db->mu);
                int rc = group_sync(db, 0, 0);
                pthread_mutex_lock(&db->mu);
                if (rc && !db->bg_error)
                    db->bg_error = rc;
                last_sync = now_ns();
            }
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint64_t ns = (uint64_t)ts.tv_nsec + period;
            ts.tv_sec += (time_t)(ns / 1000000000u);
            ts.tv_nsec = (long)(ns % 1000000000u);
            pthread_cond_timedwait(cv, &db->mu, &ts);
        } else {
            pthread_cond_wait(cv, &db->mu);
        }
    }
    pthread_mutex_unlock(&db->mu);
}

static void *flush_main(void *arg)
{
    lsm_db *db = arg;
    bg_loop(db, LSM_BG_FLUSH | (db->cfg.tiered ? LSM_BG_COMPACT : 0), &db->flush_cv, true);
    return NULL;
}

static void *compact_main(void *arg)
{
    lsm_db *db = arg;
    bg_loop(db, LSM_BG_COMPACT, &db->work_cv, false);
    return NULL;
}

/* ---- open and close ---------------------------------------------------------------- */

static int take_lock(lsm_db *db)
{
    char path[4096];
    int rc;
    snprintf(path, sizeof path, "%s/LOCK", db->dir);
    if ((rc = kv_env_open_mode(db->env, path, KV_O_RDWR | KV_O_CREAT, db->file_mode, &db->lock)))
        return rc;
    rc = kv_file_lock(db->lock);
    if (rc == KV_EBUSY)
        return kv_fail(KV_EBUSY, "lsm: %s is open in another handle or process", db->dir);
    return rc;
}

static void lsm_free(lsm_db *db)
{
    lsm_mem_unref(db->mem);
    lsm_mem_unref(db->imm);
    lsm_version_unref(db->current);
    lsm_cache_free(db->rs.cache); /* after the tables: they release into it */
    kv_file_close(db->wal);
    kv_file_close(db->imm_wal);
    kv_file_close(db->lock);
    kv_free(db->wal_buf.p);
    kv_buf_free(&db->scratch);
    kv_free(db->dir);
    pthread_mutex_destroy(&db->mu);
    pthread_mutex_destroy(&db->sync_mu);
    pthread_cond_destroy(&db->work_cv);
    pthread_cond_destroy(&db->flush_cv);
    pthread_cond_destroy(&db->done_cv);
    pthread_cond_destroy(&db->install_cv);
    kv_free(db);
}

static int read_options(lsm_db *db, const kv_open_args *a)
{
    lsm_config *c = &db->cfg;
    c->write_buffer = (size_t)kv_opts_u64(a->opts, "write_buffer");
    c->table.block_size = (size_t)kv_opts_u64(a->opts, "block_size");
    c->table.restart_every = (unsigned)kv_opts_u64(a->opts, "restart_interval");
    c->table.bloom_bits = (unsigned)kv_opts_u64(a->opts, "bloom_bits");
    c->target_file = (size_t)kv_opts_u64(a->opts, "target_file");
    c->level1_bytes = (size_t)kv_opts_u64(a->opts, "level1_bytes");
    c->ratio = (unsigned)kv_opts_u64(a->opts, "level_ratio");
    c->l0_trigger = (unsigned)kv_opts_u64(a->opts, "l0_trigger");
    c->l0_slowdown = (unsigned)kv_opts_u64(a->opts, "l0_slowdown");
    c->l0_stop = (unsigned)kv_opts_u64(a->opts, "l0_stop");
    c->tiered = kv_opts_enum(a->opts, "compaction") == 1;
    c->table.compression = (lsm_compression)kv_opts_enum(a->opts, "compression");
    db->sync = a->common->sync;
    db->sync_ms = a->common->sync_ms;
    db->file_mode = a->file_mode;
    c->block_cache = (size_t)kv_opts_u64(a->opts, "block_cache");
    c->exact = kv_opts_bool(a->opts, "exact_stats");
    if (c->l0_trigger > c->l0_slowdown || c->l0_slowdown > c->l0_stop)
        return kv_fail(KV_EINVAL, "lsm: need l0_trigger <= l0_slowdown <= l0_stop");
    return KV_OK;
}

static int lsm_close(kv_db *kdb);

/* Count the live keys and bytes by a scan (open with exact_stats=true of a
 * store written without it). The counts are saved by the next flush. */
static int recount(lsm_db *db)
{
    kv_iter *it;
    uint64_t keys = 0, bytes = 0;
    int rc;
    if ((rc = lsm_kv_iter_open(&db->base, &it)))
        return rc;
    for (lsm_kv_iter_first(it); lsm_kv_iter_valid(it); lsm_kv_iter_next(it)) {
        const void *p;
        size_t kn, vn;
        lsm_kv_iter_key(it, &p, &kn);
        lsm_kv_iter_value(it, &p, &vn);
        keys++;
        bytes += kn + vn;
    }
    rc = lsm_kv_iter_status(it);
    lsm_kv_iter_close(it);
    if (rc)
        return rc;
    pthread_mutex_lock(&db->mu);
    db->st.live_keys = keys;
    db->st.live_bytes = bytes;
    pthread_mutex_unlock(&db->mu);
    return KV_OK;
}

static int lsm_open(const kv_open_args *a, kv_db **out)
{
    lsm_db *db;
    int rc;
    if (!a->path || !*a->path)
        return kv_fail(KV_EINVAL, "lsm: needs a directory path");
    if (!(db = kv_calloc(1, sizeof *db)))
        return kv_fail(KV_ENOMEM, "lsm: out of memory");
    pthread_mutex_init(&db->mu, NULL);
    pthread_mutex_init(&db->sync_mu, NULL);
    pthread_cond_init(&db->work_cv, NULL);
    pthread_cond_init(&db->flush_cv, NULL);
    pthread_cond_init(&db->done_cv, NULL);
    pthread_cond_init(&db->install_cv, NULL);
    db->env = a->env;
    if ((rc = read_options(db, a)))
        goto out_free;
    if (db->cfg.block_cache && (rc = lsm_cache_new(db->cfg.block_cache, &db->rs.cache)))
        goto out_free;
    if (!(db->dir = kv_strdup(a->path))) {
        rc = kv_fail(KV_ENOMEM, "lsm: out of memory");
        goto out_free;
    }
    if ((rc = kv_env_mkdir_durable_mode(db->env, db->dir, a->dir_mode)) || (rc = take_lock(db)) ||
        (rc = lsm_recover(db)))
        goto out_free;
    if (pthread_create(&db->flusher, NULL, flush_main, db) != 0) {
        rc = kv_fail(KV_ENOMEM, "lsm: cannot start the flush thread");
        goto out_free;
    }
    db->flush_started = true;
    if (!db->cfg.tiered) {
        if (pthread_create(&db->bg, NULL, compact_main, db) != 0) {
            rc = kv_fail(KV_ENOMEM, "lsm: cannot start the compaction thread");
            lsm_close(&db->base);
            return rc;
        }
        db->bg_started = true;
    }
    db->base.caps = KV_CAP_ORDERED | KV_CAP_DURABLE;
    if (db->cfg.exact && db->st.live_keys == LSM_COUNTS_UNKNOWN && (rc = recount(db))) {
        lsm_close(&db->base);
        return rc;
    }
    *out = &db->base;
    return KV_OK;
out_free:
    lsm_free(db);
    return rc;
}

static int lsm_close(kv_db *kdb)
{
    lsm_db *db = (lsm_db *)kdb;
    int rc;
    pthread_mutex_lock(&db->mu);
    db->shutting_down = true;
    pthread_cond_broadcast(&db->work_cv);
    pthread_cond_broadcast(&db->flush_cv);
    pthread_mutex_unlock(&db->mu);
    if (db->flush_started)
        pthread_join(db->flusher, NULL);
    if (db->bg_started)
        pthread_join(db->bg, NULL);
    rc = group_sync(db, 0, 0);
    if (!rc && db->bg_error)
        rc = db->bg_error;
    lsm_free(db);
    return rc;
}

/* ---- writes ---------------------------------------------------------------------- */

/* Seal the memtable and start a new one with a new log (mu held). */
static int switch_memtable(lsm_db *db)
{
    lsm_mem *fresh;
    kv_file *f;
    char path[4096];
    int rc;
    if ((rc = lsm_mem_new(&fresh)))
        return rc;
    uint64_t number = db->st.next_file++;
    lsm_file_name(path, sizeof path, db->dir, number, "log");
    if ((rc = kv_env_open_mode(db->env, path, KV_O_RDWR | KV_O_CREAT | KV_O_TRUNC, db->file_mode,
                               &f)))
        goto out_unref;
    /* the new log's directory entry is synced by the next group_sync, before
     * any record in it is reported durable (or by the flush's manifest
     * install): not here, under mu, where every writer would wait for it */
    db->dir_dirty = true;
    db->imm_wal = db->wal;
    db->imm_wal_number = db->wal_number;
    db->wal = f;
    db->wal_number = number;
    db->wal_off = 0;
    db->imm = db->mem;
    db->mem = fresh;
    db->imm_keys = db->st.live_keys;
    db->imm_bytes = db->st.live_bytes;
    db->imm_seq = db->st.last_seq;
    pthread_cond_signal(&db->flush_cv);
    return KV_OK;
out_unref:
    lsm_mem_unref(fresh);
    return rc;
}

/* Account one wait of a writer; *kind_max: the longest of its kind. */
static void stall_done(lsm_db *db, uint64_t t0, uint64_t *kind_max)
{
    uint64_t dt = now_ns() - t0;
    db->stall_ns += dt;
    if (dt > db->stall_max_ns)
        db->stall_max_ns = dt;
    if (dt > *kind_max)
        *kind_max = dt;
}

/* Make room in the memtable for a write (mu held; may wait). */
static int make_room(lsm_db *db)
{
    bool slowed = false;
    int rc;
    for (;;) {
        if (db->bg_error)
            return db->bg_error;
        if (!slowed && db->current->n[0] >= db->cfg.l0_slowdown) {
            uint64_t t0 = now_ns();
            pthread_mutex_unlock(&db->mu);
            nanosleep(&(struct timespec){0, 1000000}, NULL);
            pthread_mutex_lock(&db->mu);
            db->stall_slowdowns++;
            stall_done(db, t0, &db->stall_slow_max_ns);
            slowed = true;
            continue;
        }
        if (lsm_mem_bytes(db->mem) < db->cfg.write_buffer || lsm_mem_entries(db->mem) == 0)
            return KV_OK;
        if (db->imm || db->current->n[0] >= db->cfg.l0_stop) {
            uint64_t t0 = now_ns();
            bool l0 = db->current->n[0] >= db->cfg.l0_stop; /* else: imm still flushing */
            db->stall_stops++;
            db->stall_l0_stops += l0;
            pthread_cond_signal(&db->flush_cv);
            pthread_cond_signal(&db->work_cv);
            pthread_cond_wait(&db->done_cv, &db->mu);
            stall_done(db, t0, l0 ? &db->stall_l0_max_ns : &db->stall_imm_max_ns);
            continue;
        }
        if ((rc = switch_memtable(db)))
            return rc;
    }
}

static int write_op(lsm_db *db, unsigned type, const void *k, size_t kn, const void *v, size_t vn)
{
    lsm_mem_node *node;
    unsigned ot;
    int rc;
    pthread_mutex_lock(&db->mu);
    if ((rc = make_room(db)))
        goto out_unlock;
    /* without exact_stats a put writes blind (a delete still looks: an
     * absent key is KV_ENOTFOUND), and the counts become unknown */
    bool blind = !db->cfg.exact && type == LSM_TYPE_VALUE;
    if (blind)
        rc = KV_ENOTFOUND;
    else
        rc = lsm_lookup(db->mem, db->imm, db->current, k, kn, LSM_MAX_SEQ, &ot, &db->scratch);
    if (rc && rc != KV_ENOTFOUND)
        goto out_unlock;
    bool exists = rc == KV_OK && ot == LSM_TYPE_VALUE;
    size_t old = exists ? kn + db->scratch.len : 0;
    if (type == LSM_TYPE_DELETE && !exists) {
        rc = KV_ENOTFOUND;
        goto out_unlock;
    }
    uint64_t seq = db->st.last_seq + 1;
    if ((rc = lsm_mem_prepare(db->mem, seq, type, k, kn, v, vn, &node)))
        goto out_unlock;
    db->wal_buf.n = 0;
    if ((rc = lsm_wal_encode(&db->wal_buf, seq, type, k, kn, v, vn)))
        goto out_unlock;
    if ((rc = kv_file_pwrite(db->wal, db->wal_buf.p, db->wal_buf.n, db->wal_off)))
        goto out_unlock;
    db->wal_off += db->wal_buf.n;
    lsm_mem_link(db->mem, node);
    db->st.last_seq = seq;
    if (blind)
        db->st.live_keys = LSM_COUNTS_UNKNOWN;
    if (db->st.live_keys != LSM_COUNTS_UNKNOWN) {
        db->st.live_keys += (type == LSM_TYPE_VALUE) - exists;
        db->st.live_bytes += (type == LSM_TYPE_VALUE ? kn + vn : 0) - old;
    }
    uint64_t number = db->wal_number, off = db->wal_off;
    pthread_mutex_unlock(&db->mu);
    if (db->sync == KV_SYNC_ALWAYS)
        return group_sync(db, number, off);
    return KV_OK;
out_unlock:
    pthread_mutex_unlock(&db->mu);
    return rc;
}

static int lsm_put(kv_db *kdb, const void *k, size_t kn, const void *v, size_t vn)
{
    return write_op((lsm_db *)kdb, LSM_TYPE_VALUE, k, kn, v, vn);
}

static int lsm_del(kv_db *kdb, const void *k, size_t kn)
{
    return write_op((lsm_db *)kdb, LSM_TYPE_DELETE, k, kn, "", 0);
}

static int lsm_sync(kv_db *kdb)
{
    return group_sync((lsm_db *)kdb, 0, 0);
}

/* ---- reads and stats ----------------------------------------------------------------- */

static int lsm_get(kv_db *kdb, const void *k, size_t kn, kv_buf *val)
{
    lsm_db *db = (lsm_db *)kdb;
    unsigned type;
    pthread_mutex_lock(&db->mu);
    lsm_mem *mem = db->mem, *imm = db->imm;
    lsm_version *v = db->current;
    uint64_t seq = db->st.last_seq;
    lsm_mem_ref(mem);
    if (imm)
        lsm_mem_ref(imm);
    lsm_version_ref(v);
    pthread_mutex_unlock(&db->mu);
    int rc = lsm_lookup(mem, imm, v, k, kn, seq, &type, val);
    if (rc == KV_OK && type == LSM_TYPE_DELETE)
        rc = KV_ENOTFOUND;
    lsm_mem_unref(mem);
    lsm_mem_unref(imm);
    lsm_version_unref(v);
    return rc;
}

static int lsm_stats(kv_db *kdb, kv_stats *out)
{
    lsm_db *db = (lsm_db *)kdb;
    uint64_t files = 0, disk = 0;
    pthread_mutex_lock(&db->mu);
    bool known = db->st.live_keys != LSM_COUNTS_UNKNOWN;
    out->keys = known ? db->st.live_keys : 0;
    out->bytes = known ? db->st.live_bytes : 0;
    out->mem_bytes = lsm_mem_footprint(db->mem) + (db->imm ? lsm_mem_footprint(db->imm) : 0);
    for (int l = 0; l < LSM_LEVELS; l++) {
        files += db->current->n[l];
        disk += lsm_version_level_bytes(db->current, l);
    }
    out->disk_bytes = disk + db->wal_off;
    kv_stats_add_extra(out, "l0_files", (double)db->current->n[0]);
    kv_stats_add_extra(out, "files", (double)files);
    kv_stats_add_extra(out, "flushes", (double)db->n_flushes);
    kv_stats_add_extra(out, "compactions", (double)db->n_compactions);
    kv_stats_add_extra(out, "compact_bytes_in", (double)db->compact_bytes_in);
    kv_stats_add_extra(out, "compact_bytes_out", (double)db->compact_bytes_out);
    kv_stats_add_extra(out, "compact_max_ms", (double)db->compact_ns_max / 1e6);
    kv_stats_add_extra(out, "compact_ms", (double)db->compact_ns / 1e6);
    kv_stats_add_extra(out, "compact_lt10ms", (double)db->compact_hist[0]);
    kv_stats_add_extra(out, "compact_lt100ms", (double)db->compact_hist[1]);
    kv_stats_add_extra(out, "compact_lt1s", (double)db->compact_hist[2]);
    kv_stats_add_extra(out, "compact_ge1s", (double)db->compact_hist[3]);
    kv_stats_add_extra(out, "stall_slowdowns", (double)db->stall_slowdowns);
    kv_stats_add_extra(out, "stall_stops", (double)db->stall_stops);
    kv_stats_add_extra(out, "stall_ms", (double)db->stall_ns / 1e6);
    kv_stats_add_extra(out, "stall_max_ms", (double)db->stall_max_ns / 1e6);
    kv_stats_add_extra(out, "stall_l0_stops", (double)db->stall_l0_stops);
    kv_stats_add_extra(out, "stall_l0_max_ms", (double)db->stall_l0_max_ns / 1e6);
    kv_stats_add_extra(out, "stall_imm_max_ms", (double)db->stall_imm_max_ns / 1e6);
    kv_stats_add_extra(out, "stall_slowdown_max_ms", (double)db->stall_slow_max_ns / 1e6);
    pthread_mutex_unlock(&db->mu);
    kv_stats_add_extra(out, "blocks_read", (double)db->rs.blocks_read);
    kv_stats_add_extra(out, "bloom_checks", (double)db->rs.bloom_checks);
    kv_stats_add_extra(out, "bloom_negative", (double)db->rs.bloom_negative);
    kv_stats_add_extra(out, "cache_hits", (double)db->rs.cache_hits);
    kv_stats_add_extra(out, "cache_misses", (double)db->rs.cache_misses);
    kv_stats_add_extra(out, "cache_bytes", db->rs.cache ? (double)lsm_cache_used(db->rs.cache) : 0);
    return KV_OK;
}

const kv_engine_ops kv_engine_lsm = {
    .name = "lsm",
    .summary = "LSM tree: WAL, skiplist memtable, SSTables with bloom filters, leveled compaction",
    .caps = KV_CAP_ORDERED | KV_CAP_DURABLE,
    .options = lsm_options,
    .default_max_key = 1024,
    .limit_max_key = 65535,
    .default_max_value = 1u << 20,
    .limit_max_value = 16u << 20,
    .open = lsm_open,
    .close = lsm_close,
    .put = lsm_put,
    .get = lsm_get,
    .del = lsm_del,
    .sync = lsm_sync,
    .stats = lsm_stats,
    .iter_open = lsm_kv_iter_open,
    .iter_first = lsm_kv_iter_first,
    .iter_seek = lsm_kv_iter_seek,
    .iter_valid = lsm_kv_iter_valid,
    .iter_next = lsm_kv_iter_next,
    .iter_key = lsm_kv_iter_key,
    .iter_value = lsm_kv_iter_value,
    .iter_status = lsm_kv_iter_status,
    .iter_close = lsm_kv_iter_close,
};
