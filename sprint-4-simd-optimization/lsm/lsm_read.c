/*
 * lsm_read.c — reads: point lookups and the kv.h iterator of engine "lsm".
 *
 * A lookup searches the sources from newest to oldest and stops at the
 * first entry of the key it finds (a value or a tombstone): the active
 * memtable, the immutable one, the L0 tables newest first (each one's key
 * range checked, then its bloom filter), then one table per deeper level
 * (a binary search over the level's disjoint files by largest key).
 *
 * The iterator pins what it reads: references on both memtables and on the
 * current version, taken under the engine's mutex, plus a sequence number
 * snapshot; each first and seek starts a new iteration, re-pinning the
 * store as it is then (the conformance suite's differential test expects a
 * seek to see every write made before it). It merges all sources (lsm_merge_iter) and shows the
 * user one entry per key: the newest with sequence <= the snapshot, hidden
 * when it is a tombstone. A key written after the open is not seen (its
 * sequence is newer), which is within kv.h's iteration guarantee; a
 * compaction meanwhile does not disturb it (the pinned version keeps its
 * files open and on disk).
 *
 * Callers must hold references on whatever they pass to lsm_lookup.
 */
#include "lsm_int.h"

static bool in_range(const lsm_file *f, const void *k, size_t kn)
{
    return lsm_ukey_cmp(f->smallest.p, f->smallest.n - LSM_TRAILER, k, kn) <= 0 &&
           lsm_ukey_cmp(f->largest.p, f->largest.n - LSM_TRAILER, k, kn) >= 0;
}

int lsm_lookup(lsm_mem *mem, lsm_mem *imm, const lsm_version *v, const void *k, size_t kn,
               uint64_t seq, unsigned *type, kv_buf *val)
{
    /* STUB:
    (void)mem; (void)imm; (void)v; (void)k; (void)kn; (void)seq; (void)type; (void)val;
    (void)in_range;
    return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__);
    */
    /* BEGIN SOLUTION */
    int rc;
    if (mem && (rc = lsm_mem_get(mem, k, kn, seq, type, val)) != KV_ENOTFOUND)
        return rc;
    if (imm && (rc = lsm_mem_get(imm, k, kn, seq, type, val)) != KV_ENOTFOUND)
        return rc;
    for (size_t i = 0; i < v->n[0]; i++) {
        lsm_file *f = v->files[0][i];
        if (in_range(f, k, kn) &&
            (rc = lsm_table_get(f->table, k, kn, seq, type, val)) != KV_ENOTFOUND)
            return rc;
    }
    for (int l = 1; l < LSM_LEVELS; l++) {
        size_t lo = 0, hi = v->n[l];
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            const lsm_file *f = v->files[l][mid];
            if (lsm_ukey_cmp(f->largest.p, f->largest.n - LSM_TRAILER, k, kn) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < v->n[l] && in_range(v->files[l][lo], k, kn) &&
            (rc = lsm_table_get(v->files[l][lo]->table, k, kn, seq, type, val)) != KV_ENOTFOUND)
            return rc;
    }
    return KV_ENOTFOUND;
    /* END SOLUTION */
}

/* ---- the kv.h iterator ------------------------------------------------------------ */

typedef struct lsm_kv_iter {
    kv_iter base;
    lsm_iter *m;
    lsm_mem *mem, *imm;
    lsm_version *v;
    uint64_t snap;
    lsm_bytes key;       /* the current user key */
    const void *val;
    size_t vn;
    bool valid;
    int status;
} lsm_kv_iter;

/* From the merge's position, find the next entry to show; skip entries of
 * the user key `skip` (when skip_n is set) */
static void find_visible(lsm_kv_iter *it, bool skipping)
{
    lsm_iter *m = it->m;
    it->valid = false;
    for (; m->ops->valid(m); m->ops->next(m)) {
        const void *k;
        size_t kn;
        m->ops->key(m, &k, &kn);
        uint64_t tr = kv_load_le64((const uint8_t *)k + kn - LSM_TRAILER);
        if ((tr >> 8) > it->snap)
            continue;
        if (skipping && lsm_ukey_cmp(it->key.p, it->key.n, k, kn - LSM_TRAILER) == 0)
            continue;
        it->key.n = 0;
        int rc = lsm_bytes_append(&it->key, k, kn - LSM_TRAILER);
        if (rc) {
            it->status = rc;
            return;
        }
        if ((tr & 0xff) == LSM_TYPE_DELETE) {
            skipping = true;
            continue;
        }
        m->ops->value(m, &it->val, &it->vn);
        it->valid = true;
        return;
    }
    if (!it->status)
        it->status = m->ops->status(m);
}

/* Merge the pinned sources into it->m. */
static int build(lsm_kv_iter *it)
{
    lsm_iter *kids[2 + 64 + LSM_LEVELS], **all = kids;
    size_t nk = 0, need = 2 + it->v->n[0] + LSM_LEVELS;
    int rc = KV_OK;
    if (need > sizeof kids / sizeof kids[0] && !(all = kv_malloc(need * sizeof *all)))
        return kv_fail(KV_ENOMEM, "lsm: out of memory for an iterator");
    if (!(rc = lsm_mem_iter(it->mem, &all[nk])))
        nk++;
    if (!rc && it->imm && !(rc = lsm_mem_iter(it->imm, &all[nk])))
        nk++;
    for (size_t i = 0; !rc && i < it->v->n[0]; i++)
        if (!(rc = lsm_table_iter(it->v->files[0][i]->table, &all[nk])))
            nk++;
    for (int l = 1; !rc && l < LSM_LEVELS; l++)
        if (it->v->n[l] && !(rc = lsm_level_iter(it->v->files[l], it->v->n[l], &all[nk])))
            nk++;
    if (rc) {
        for (size_t i = 0; i < nk; i++)
            all[i]->ops->close(all[i]);
    } else {
        rc = lsm_merge_iter(all, nk, &it->m);
    }
    if (all != kids)
        kv_free(all);
    return rc;
}

/* Pin the store's current sources and sequence number (mu held). */
static void pin(lsm_kv_iter *it, lsm_db *db)
{
    it->mem = db->mem;
    lsm_mem_ref(it->mem);
    if ((it->imm = db->imm))
        lsm_mem_ref(it->imm);
    it->v = db->current;
    lsm_version_ref(it->v);
    it->snap = db->st.last_seq;
}

static void unpin(lsm_kv_iter *it)
{
    if (it->m)
        it->m->ops->close(it->m);
    it->m = NULL;
    lsm_mem_unref(it->mem);
    lsm_mem_unref(it->imm);
    lsm_version_unref(it->v);
    it->mem = it->imm = NULL;
    it->v = NULL;
}

/* Every first and seek starts a new iteration over the store as it is now:
 * a new snapshot, and the current sources when they changed. */
static void refresh(lsm_kv_iter *it)
{
    lsm_db *db = (lsm_db *)it->base.db;
    pthread_mutex_lock(&db->mu);
    if (it->m && db->mem == it->mem && db->imm == it->imm && db->current == it->v) {
        it->snap = db->st.last_seq;
        pthread_mutex_unlock(&db->mu);
        return;
    }
    unpin(it);
    pin(it, db);
    pthread_mutex_unlock(&db->mu);
    int rc = build(it);
    if (rc) {
        it->status = rc;
        it->valid = false;
    }
}

int lsm_kv_iter_open(kv_db *kdb, kv_iter **out)
{
    lsm_db *db = (lsm_db *)kdb;
    lsm_kv_iter *it = kv_calloc(1, sizeof *it);
    int rc;
    *out = NULL;
    if (!it)
        return kv_fail(KV_ENOMEM, "lsm: out of memory for an iterator");
    it->base.db = kdb;
    pthread_mutex_lock(&db->mu);
    pin(it, db);
    pthread_mutex_unlock(&db->mu);
    if ((rc = build(it))) {
        unpin(it);
        kv_free(it);
        return rc;
    }
    *out = &it->base;
    return KV_OK;
}

void lsm_kv_iter_first(kv_iter *kit)
{
    lsm_kv_iter *it = (lsm_kv_iter *)kit;
    if (it->status)
        return;
    refresh(it);
    if (it->status)
        return;
    it->m->ops->first(it->m);
    find_visible(it, false);
}

void lsm_kv_iter_seek(kv_iter *kit, const void *k, size_t kn)
{
    lsm_kv_iter *it = (lsm_kv_iter *)kit;
    uint8_t stack[256], *target = stack;
    if (it->status)
        return;
    if (kn == 0) {
        lsm_kv_iter_first(kit);
        return;
    }
    if (kn + LSM_TRAILER > sizeof stack && !(target = kv_malloc(kn + LSM_TRAILER))) {
        it->valid = false;
        it->status = kv_fail(KV_ENOMEM, "lsm: out of memory for a seek key");
        return;
    }
    refresh(it);
    if (it->status) {
        if (target != stack)
            kv_free(target);
        return;
    }
    memcpy(target, k, kn);
    lsm_put_le64(target + kn, lsm_trailer(it->snap, LSM_TYPE_VALUE));
    it->m->ops->seek(it->m, target, kn + LSM_TRAILER);
    if (target != stack)
        kv_free(target);
    find_visible(it, false);
}

bool lsm_kv_iter_valid(const kv_iter *kit)
{
    const lsm_kv_iter *it = (const lsm_kv_iter *)kit;
    return it->valid && !it->status;
}

void lsm_kv_iter_next(kv_iter *kit)
{
    lsm_kv_iter *it = (lsm_kv_iter *)kit;
    if (!it->valid || it->status)
        return;
    it->m->ops->next(it->m);
    find_visible(it, true);
}

void lsm_kv_iter_key(const kv_iter *kit, const void **k, size_t *n)
{
    const lsm_kv_iter *it = (const lsm_kv_iter *)kit;
    *k = it->key.p;
    *n = it->key.n;
}

void lsm_kv_iter_value(const kv_iter *kit, const void **v, size_t *n)
{
    const lsm_kv_iter *it = (const lsm_kv_iter *)kit;
    *v = it->vn ? it->val : "";
    *n = it->vn;
}

int lsm_kv_iter_status(const kv_iter *kit)
{
    return ((const lsm_kv_iter *)kit)->status;
}

void lsm_kv_iter_close(kv_iter *kit)
{
    lsm_kv_iter *it = (lsm_kv_iter *)kit;
    unpin(it);
    kv_free(it->key.p);
    kv_free(it);
}
