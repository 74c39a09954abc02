/*
 * lsm_compaction.c — the background work: flushing the immutable memtable
 * into an L0 table, and compacting levels.
 *
 * Flush. When the active memtable fills, the writer seals it (it becomes
 * `imm`, its log is kept) and starts a new one with a new log. The
 * background thread writes imm into one new L0 table, installs a version
 * with it, records in the manifest that logs older than the active one are
 * no longer needed, and deletes imm's log.
 *
 * Leveled compaction (after LevelDB's). Each level has a score: L0 its
 * file count / l0_trigger (4), L1..L5 their bytes / their target (L1:
 * level1_bytes, 10 MiB by default; each deeper level `ratio` = 10 times
 * more). The level with the highest score >= 1 is compacted: for L0, all
 * its files (their ranges overlap); for L1+, the next file round-robin
 * after the last compacted key. The inputs, plus every file of the next
 * level overlapping their key range, are merged into new files of the next
 * level, cut at target_file bytes. A file that overlaps nothing below is
 * moved down without rewriting (a trivial move).
 *
 * While merging, only the newest version of each user key is kept (no
 * reader needs an older one: iterators pin the version and memtables they
 * started on, and those keep the old files), and a tombstone is dropped
 * when no deeper level holds the key (then nothing older is left for it to
 * hide): "tombstones dropped at the bottom level".
 *
 * Size-tiered (option compaction=tiered): every table stays in L0 as a
 * run; when l0_trigger runs exist, the smallest l0_trigger runs of similar
 * age are merged into one. Fewer rewrites (less write amplification), more
 * runs to probe per read and more space for overwritten keys.
 *
 * Threads. Callers hold db->mu when calling lsm_bg_work; it drops the
 * mutex while it reads and writes files. Two background threads call it:
 * the flush thread (role LSM_BG_FLUSH; with compaction=tiered also
 * LSM_BG_COMPACT, since a tiered merge writes L0 runs, whose order is their
 * age) and, for leveled compaction, the compaction thread (LSM_BG_COMPACT).
 * So a flush runs while a long compaction merges, and writers wait for a
 * full memtable only as long as one flush takes. (Measured at 5M random
 * puts with one thread for both: writers waited up to 1075 ms at once
 * for a flush queued behind a compaction; compactions took up to 3.6 s.)
 * Concurrent flush and compaction are safe because a flush only adds L0
 * files, newer than anything a running compaction reads, and the
 * compaction's edit is made on the version current when it installs,
 * dropping its inputs by identity. Installs take turns (lsm_install_begin):
 * each computes its edit and manifest state from what the previous one
 * installed.
 */
#include <stdio.h>
#include <time.h>

#include "lsm_int.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int lsm_install(lsm_db *db, lsm_version *nv, const lsm_manifest_state *st)
{
    lsm_manifest_state copy = *st;
    pthread_mutex_unlock(&db->mu);
    int rc = lsm_manifest_write(db->env, db->dir, db->file_mode, nv, &copy);
    pthread_mutex_lock(&db->mu);
    if (rc) {
        lsm_version_unref(nv);
        return rc;
    }
    lsm_version *old = db->current;
    db->current = nv;
    lsm_version_unref(old);
    return KV_OK;
}

void lsm_install_begin(lsm_db *db)
{
    while (db->installing)
        pthread_cond_wait(&db->install_cv, &db->mu);
    db->installing = true;
}

void lsm_install_end(lsm_db *db)
{
    db->installing = false;
    pthread_cond_broadcast(&db->install_cv);
}

/* Finish a table being written: build, sync, close, reopen as a lsm_file. */
static int finish_table(lsm_db *db, lsm_table_builder *b, kv_file *f, uint64_t number,
                        const lsm_bytes *smallest, const lsm_bytes *largest, lsm_file **out)
{
    int rc = lsm_table_builder_finish(b, NULL);
    if (!rc)
        rc = kv_file_sync(f);
    int crc = kv_file_close(f);
    if (!rc)
        rc = crc;
    if (rc)
        return rc;
    if ((rc = lsm_file_open(db->env, db->dir, number, &db->rs, out)))
        return rc;
    if ((rc = lsm_bytes_append(&(*out)->smallest, smallest->p, smallest->n)) ||
        (rc = lsm_bytes_append(&(*out)->largest, largest->p, largest->n))) {
        lsm_file_unref(*out);
        *out = NULL;
    }
    return rc;
}

static uint64_t new_file_number(lsm_db *db)
{
    pthread_mutex_lock(&db->mu);
    uint64_t n = db->st.next_file++;
    pthread_mutex_unlock(&db->mu);
    return n;
}

static void discard(lsm_file **files, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        atomic_store(&files[i]->obsolete, true);
        lsm_file_unref(files[i]);
    }
    kv_free(files);
}

/* The table being written by lsm_write_tables, and the finished ones. */
typedef struct output {
    lsm_db *db;
    lsm_table_builder *b;
    kv_file *f;
    uint64_t number;
    lsm_bytes smallest, largest;
    lsm_file **files;
    size_t n;
} output;

static int out_start(output *o, const void *k, size_t kn)
{
    char path[4096];
    int rc;
    o->number = new_file_number(o->db);
    lsm_file_name(path, sizeof path, o->db->dir, o->number, "sst");
    if ((rc = kv_env_open_mode(o->db->env, path, KV_O_RDWR | KV_O_CREAT | KV_O_TRUNC,
                               o->db->file_mode, &o->f)))
        return rc;
    if ((rc = lsm_table_builder_new(o->f, &o->db->cfg.table, &o->b))) {
        kv_file_close(o->f);
        o->f = NULL;
        kv_env_unlink(o->db->env, path);
        return rc;
    }
    o->smallest.n = 0;
    return lsm_bytes_append(&o->smallest, k, kn);
}

/* Finish the current table and add it to the outputs. */
static int out_finish(output *o)
{
    lsm_file *nf = NULL, **grown;
    char path[4096];
    int rc;
    if (!(grown = kv_realloc(o->files, (o->n + 1) * sizeof *grown))) {
        rc = kv_fail(KV_ENOMEM, "lsm: out of memory for compaction outputs");
        goto out_abandon;
    }
    o->files = grown;
    rc = finish_table(o->db, o->b, o->f, o->number, &o->smallest, &o->largest, &nf);
    o->f = NULL;
    lsm_table_builder_free(o->b);
    o->b = NULL;
    if (rc) {
        lsm_file_name(path, sizeof path, o->db->dir, o->number, "sst");
        kv_env_unlink(o->db->env, path);
        return rc;
    }
    o->files[o->n++] = nf;
    return KV_OK;
out_abandon:
    lsm_table_builder_free(o->b);
    o->b = NULL;
    kv_file_close(o->f);
    o->f = NULL;
    lsm_file_name(path, sizeof path, o->db->dir, o->number, "sst");
    kv_env_unlink(o->db->env, path);
    return rc;
}

int lsm_write_tables(lsm_db *db, lsm_iter *it, const lsm_version *v, int out_level,
                     bool drop_tombstones, lsm_file ***out, size_t *nout)
{
    /* STUB:
    (void)db; (void)it; (void)v; (void)out_level; (void)drop_tombstones;
    (void)out_start; (void)out_finish;
    *out = NULL;
    *nout = 0;
    return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__);
    */
    /* BEGIN SOLUTION */
    output o = {.db = db};
    lsm_bytes last = {0};
    int rc = KV_OK;
    *out = NULL;
    *nout = 0;
    for (it->ops->first(it); it->ops->valid(it); it->ops->next(it)) {
        const void *k, *val;
        size_t kn, vn;
        it->ops->key(it, &k, &kn);
        it->ops->value(it, &val, &vn);
        if (last.n && lsm_ukey_cmp(last.p, last.n - LSM_TRAILER, k, kn - LSM_TRAILER) == 0)
            continue; /* an older version: no reader needs it */
        last.n = 0;
        if ((rc = lsm_bytes_append(&last, k, kn)))
            goto out_fail;
        unsigned type = ((const uint8_t *)k)[kn - LSM_TRAILER];
        if (type == LSM_TYPE_DELETE && drop_tombstones &&
            !lsm_version_deeper_overlap(v, out_level, k, kn - LSM_TRAILER))
            continue; /* nothing older below for it to hide */
        if (o.b && out_level > 0 && lsm_table_builder_size(o.b) >= db->cfg.target_file &&
            (rc = out_finish(&o)))
            goto out_fail;
        if (!o.b && (rc = out_start(&o, k, kn)))
            goto out_fail;
        if ((rc = lsm_table_builder_add(o.b, k, kn, val, vn)))
            goto out_fail;
        o.largest.n = 0;
        if ((rc = lsm_bytes_append(&o.largest, k, kn)))
            goto out_fail;
    }
    if ((rc = it->ops->status(it)))
        goto out_fail;
    if (o.b && (rc = out_finish(&o)))
        goto out_fail;
    *out = o.files;
    *nout = o.n;
    o.files = NULL;
    o.n = 0;
out_fail:
    if (o.b) {
        char path[4096];
        lsm_table_builder_free(o.b);
        kv_file_close(o.f);
        lsm_file_name(path, sizeof path, db->dir, o.number, "sst");
        kv_env_unlink(db->env, path);
    }
    discard(o.files, o.n);
    kv_free(last.p);
    kv_free(o.smallest.p);
    kv_free(o.largest.p);
    return rc;
    /* END SOLUTION */
}

/* ---- flush ------------------------------------------------------------------------ */

static int flush_imm(lsm_db *db)
{
    lsm_mem *imm = db->imm;
    lsm_version *v = db->current;
    lsm_iter *it;
    lsm_file **files = NULL;
    size_t n = 0;
    lsm_manifest_state st;
    char path[4096];
    int rc;
    lsm_version_ref(v);
    pthread_mutex_unlock(&db->mu);
    rc = lsm_mem_iter(imm, &it);
    if (!rc) {
        rc = lsm_write_tables(db, it, v, 0, false, &files, &n);
        it->ops->close(it);
    }
    pthread_mutex_lock(&db->mu);
    lsm_version_unref(v);
    if (rc)
        return rc;
    lsm_version *nv;
    lsm_install_begin(db);
    if ((rc = lsm_version_edit(db->current, NULL, 0, files, n, 0, &nv)))
        goto out_discard;
    st = db->st;
    st.log_number = db->wal_number;
    st.last_seq = db->imm_seq;
    st.live_keys = db->imm_keys;
    st.live_bytes = db->imm_bytes;
    if ((rc = lsm_install(db, nv, &st)))
        goto out_discard;
    db->mf = st;
    lsm_install_end(db);
    for (size_t i = 0; i < n; i++)
        lsm_file_unref(files[i]);
    kv_free(files);
    /* imm's log is no longer needed; a group commit may be syncing it: close
     * it under sync_mu (lock order: sync_mu before mu) */
    kv_file *old_wal = db->imm_wal;
    db->imm_wal = NULL;
    pthread_mutex_unlock(&db->mu);
    pthread_mutex_lock(&db->sync_mu);
    kv_file_close(old_wal);
    pthread_mutex_unlock(&db->sync_mu);
    pthread_mutex_lock(&db->mu);
    lsm_file_name(path, sizeof path, db->dir, db->imm_wal_number, "log");
    kv_env_unlink(db->env, path);
    db->imm = NULL;
    lsm_mem_unref(imm);
    db->n_flushes++;
    return KV_OK;
out_discard:
    lsm_install_end(db);
    discard(files, n);
    return rc;
}

/* ---- compaction ------------------------------------------------------------------- */

static double level_target(const lsm_db *db, int level)
{
    double t = (double)db->cfg.level1_bytes;
    for (int i = 1; i < level; i++)
        t *= db->cfg.ratio;
    return t;
}

/* Size-tiered: how many of the newest L0 runs to merge (0: none). Runs are
 * ordered by age (L0 is newest first, by file number), so the output, which
 * gets the newest number, must replace the newest runs: merge the newest
 * l0_trigger runs when their sizes are within 4x of each other, else (at
 * l0_slowdown runs) every run. */
static size_t tiered_window(const lsm_db *db, const lsm_version *v)
{
    size_t k = db->cfg.l0_trigger;
    uint64_t mn = UINT64_MAX, mx = 0;
    if (v->n[0] < k)
        return 0;
    for (size_t i = 0; i < k; i++) {
        uint64_t sz = v->files[0][i]->size;
        mn = sz < mn ? sz : mn;
        mx = sz > mx ? sz : mx;
    }
    if (mx <= 4 * mn)
        return k;
    return v->n[0] >= db->cfg.l0_slowdown ? v->n[0] : 0;
}

/* The level to compact, or -1. */
static int pick_level(const lsm_db *db, const lsm_version *v)
{
    /* STUB:
    (void)db; (void)v; (void)level_target; (void)tiered_window;
    kv_fail(KV_ENOTSUP, "not implemented: %s", __func__);
    return -1;
    */
    /* BEGIN SOLUTION */
    double best = 1.0;
    int level = -1;
    if (db->cfg.tiered)
        return tiered_window(db, v) ? 0 : -1;
    if ((double)v->n[0] / db->cfg.l0_trigger >= best) {
        best = (double)v->n[0] / db->cfg.l0_trigger;
        level = 0;
    }
    for (int l = 1; l < LSM_LEVELS - 1; l++) {
        double s = (double)lsm_version_level_bytes(v, l) / level_target(db, l);
        if (s > best) {
            best = s;
            level = l;
        }
    }
    return level;
    /* END SOLUTION */
}

bool lsm_needs_compaction(const lsm_db *db, const lsm_version *v)
{
    return pick_level(db, v) >= 0;
}

static bool overlaps(const lsm_file *f, const lsm_bytes *lo, const lsm_bytes *hi)
{
    return lsm_ukey_cmp(f->largest.p, f->largest.n - LSM_TRAILER, lo->p, lo->n - LSM_TRAILER) >= 0 &&
           lsm_ukey_cmp(f->smallest.p, f->smallest.n - LSM_TRAILER, hi->p, hi->n - LSM_TRAILER) <= 0;
}

typedef struct compaction {
    int level;
    lsm_file **in;      /* inputs at level, then at level + 1 */
    size_t nin, nlevel; /* nlevel: how many of in[] are at level */
} compaction;

/* Choose the inputs (mu held). */
static int pick_inputs(lsm_db *db, const lsm_version *v, int level, compaction *c)
{
    /* STUB:
    (void)db; (void)v; (void)overlaps;
    c->level = level;
    c->in = NULL;
    c->nin = c->nlevel = 0;
    return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__);
    */
    /* BEGIN SOLUTION */
    const lsm_bytes *lo, *hi;
    size_t cap = v->n[level] + (level + 1 < LSM_LEVELS ? v->n[level + 1] : 0);
    c->level = level;
    if (!(c->in = kv_malloc((cap ? cap : 1) * sizeof *c->in)))
        return kv_fail(KV_ENOMEM, "lsm: out of memory picking a compaction");
    c->nin = 0;
    if (level == 0 && db->cfg.tiered) {
        size_t k = tiered_window(db, v);
        for (size_t i = 0; i < k; i++)
            c->in[c->nin++] = v->files[0][i];
        c->nlevel = c->nin;
        return KV_OK;
    }
    if (level == 0) {
        for (size_t i = 0; i < v->n[0]; i++)
            c->in[c->nin++] = v->files[0][i];
    } else {
        size_t i = 0; /* the first file past the round-robin pointer */
        while (i < v->n[level] && db->compact_ptr_n[level] &&
               lsm_ukey_cmp(v->files[level][i]->largest.p,
                            v->files[level][i]->largest.n - LSM_TRAILER, db->compact_ptr[level],
                            db->compact_ptr_n[level]) <= 0)
            i++;
        if (i == v->n[level])
            i = 0;
        c->in[c->nin++] = v->files[level][i];
    }
    c->nlevel = c->nin;
    lo = &c->in[0]->smallest;
    hi = &c->in[0]->largest;
    for (size_t i = 1; i < c->nin; i++) {
        if (lsm_ikey_cmp(c->in[i]->smallest.p, c->in[i]->smallest.n, lo->p, lo->n) < 0)
            lo = &c->in[i]->smallest;
        if (lsm_ikey_cmp(c->in[i]->largest.p, c->in[i]->largest.n, hi->p, hi->n) > 0)
            hi = &c->in[i]->largest;
    }
    for (size_t i = 0; i < v->n[level + 1]; i++)
        if (overlaps(v->files[level + 1][i], lo, hi))
            c->in[c->nin++] = v->files[level + 1][i];
    /* remember where this level's compaction ended */
    size_t pn = hi->n - LSM_TRAILER < sizeof db->compact_ptr[level] ? hi->n - LSM_TRAILER
                                                                    : sizeof db->compact_ptr[level];
    memcpy(db->compact_ptr[level], hi->p, pn);
    db->compact_ptr_n[level] = pn;
    return KV_OK;
    /* END SOLUTION */
}

static int run_compaction(lsm_db *db)
{
    lsm_install_begin(db); /* pick from a settled version: no install under way */
    lsm_version *v = db->current;
    int level = pick_level(db, v), out_level, rc;
    compaction c = {0};
    lsm_iter **kids = NULL, *merged = NULL;
    lsm_file **files = NULL;
    size_t n = 0, nk = 0;
    lsm_version *nv;
    if (level < 0) {
        lsm_install_end(db);
        return KV_OK;
    }
    out_level = db->cfg.tiered ? 0 : level + 1;
    if ((rc = pick_inputs(db, v, level, &c))) {
        lsm_install_end(db);
        return rc;
    }
    if (c.nin == 0) { /* tiered: no runs of similar size yet */
        lsm_install_end(db);
        kv_free(c.in);
        return KV_OK;
    }
    uint64_t t0 = now_ns();
    if (!db->cfg.tiered && level > 0 && c.nin == 1) { /* trivial move */
        db->mf.next_file = db->st.next_file;
        rc = lsm_version_edit(v, c.in, 1, c.in, 1, out_level, &nv);
        if (!rc && !(rc = lsm_install(db, nv, &db->mf)))
            db->n_compactions++;
        lsm_install_end(db);
        kv_free(c.in);
        return rc;
    }
    lsm_install_end(db); /* flushes may install while this compaction merges */
    lsm_version_ref(v);
    pthread_mutex_unlock(&db->mu);
    if (!(kids = kv_calloc(c.nin, sizeof *kids))) {
        rc = kv_fail(KV_ENOMEM, "lsm: out of memory for compaction iterators");
        goto out_relock;
    }
    /* level-0 (and tiered) inputs one iterator each, newest first; a deeper
     * level's inputs as one level iterator */
    size_t per_file = (level == 0) ? c.nlevel : 0;
    for (size_t i = 0; i < per_file && !rc; i++)
        if (!(rc = lsm_table_iter(c.in[i]->table, &kids[nk])))
            nk++;
    if (!rc && per_file == 0 && !(rc = lsm_level_iter(c.in, c.nlevel, &kids[nk])))
        nk++;
    if (!rc && c.nin > c.nlevel && !(rc = lsm_level_iter(c.in + c.nlevel, c.nin - c.nlevel,
                                                         &kids[nk])))
        nk++;
    if (rc) {
        for (size_t i = 0; i < nk; i++)
            kids[i]->ops->close(kids[i]);
        goto out_relock;
    }
    if ((rc = lsm_merge_iter(kids, nk, &merged)))
        goto out_relock;
    /* tombstones go where nothing older is left: below the output level
     * (leveled), or when every run is an input (tiered) */
    rc = lsm_write_tables(db, merged, v, out_level, !db->cfg.tiered || c.nin == v->n[0], &files,
                          &n);
    merged->ops->close(merged);
out_relock:
    kv_free(kids);
    pthread_mutex_lock(&db->mu);
    lsm_version_unref(v);
    if (rc)
        goto out_free;
    lsm_install_begin(db);
    if ((rc = lsm_version_edit(db->current, c.in, c.nin, files, n, out_level, &nv))) {
        lsm_install_end(db);
        goto out_free;
    }
    db->mf.next_file = db->st.next_file;
    for (size_t i = 0; i < c.nin; i++) /* the old version may be the inputs' last holder */
        atomic_fetch_add(&c.in[i]->refs, 1);
    rc = lsm_install(db, nv, &db->mf);
    lsm_install_end(db);
    for (size_t i = 0; i < c.nin; i++) {
        if (!rc) {
            atomic_store(&c.in[i]->obsolete, true);
            db->compact_bytes_in += c.in[i]->size;
        }
        lsm_file_unref(c.in[i]);
    }
    if (rc)
        goto out_free;
    for (size_t i = 0; i < n; i++)
        db->compact_bytes_out += files[i]->size;
    db->n_compactions++;
    uint64_t dt = now_ns() - t0;
    if (dt > db->compact_ns_max)
        db->compact_ns_max = dt;
    db->compact_ns += dt;
    db->compact_hist[dt < 10000000 ? 0 : dt < 100000000 ? 1 : dt < 1000000000 ? 2 : 3]++;
out_free:
    if (rc) {
        discard(files, n);
    } else {
        for (size_t i = 0; i < n; i++)
            lsm_file_unref(files[i]);
        kv_free(files);
    }
    kv_free(c.in);
    return rc;
}

bool lsm_bg_work(lsm_db *db, unsigned roles)
{
    int rc;
    if (db->bg_error)
        return false;
    if ((roles & LSM_BG_FLUSH) && db->imm) {
        rc = flush_imm(db);
        pthread_cond_signal(&db->work_cv); /* a new L0 file: a compaction may be due */
    } else if ((roles & LSM_BG_COMPACT) && lsm_needs_compaction(db, db->current)) {
        rc = run_compaction(db);
    } else {
        return false;
    }
    if (rc)
        db->bg_error = rc;
    pthread_cond_broadcast(&db->done_cv);
    return rc == KV_OK;
}
