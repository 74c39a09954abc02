/*
 * cow_open.c — open, recovery and close of a store directory.
 *
 * A store is a directory holding `data.cow` (meta pages A and B, then tree
 * pages), `commit.log` and `LOCK` (flock: a second opener, in this process
 * or another, gets KV_EBUSY).
 *
 * Recovery, in this order:
 *   1. Read both meta pages. The page size comes from the store (meta A at
 *      offset 0; meta B at offset page_size, tried for each legal size):
 *      the `page_size=` option only chooses the size of a new store. No
 *      valid meta: a data file shorter than two pages is a creation that
 *      crashed, and is created again; anything else is KV_ECORRUPT.
 *   2. Rebuild the freelist: walk the inner pages of the chosen meta's tree
 *      (leaves are named by their parents, so they are not read); every
 *      page below next_pgno the walk does not reach is free. The walk
 *      checks each inner page (CRC, page number, structure, txnid not newer
 *      than the meta's) and rejects a page reached twice (a cycle).
 *   3. Replay the log. Its header's generation says where to start: the
 *      meta's generation, from the meta's position; the next generation
 *      (the checkpoint restarted the log after its meta was durable), from
 *      the first record. A missing log, a header torn before any record
 *      was written, or a log shorter than the meta's position (the
 *      checkpoint covered unsynced log bytes a crash dropped) starts a new
 *      generation: the checkpoint holds everything those bytes held. Records are applied in order as
 *      transactions with the same ids; the first record that is short,
 *      torn, of another generation or not the next txnid ends the replay,
 *      and the log is cut there so new records follow the last good one;
 *      a record whose header vouches for a length the file holds but which
 *      fails its payload check is damage, not a tear: KV_ECORRUPT.
 *      Replay is deterministic: the same files give the same tree.
 *
 * Close checkpoints (writing both meta slots, so a later bit flip in one
 * meta cannot roll the store back) and frees everything even on error.
 *
 * What callers must not do: close with transactions or iterators open.
 */
#include <stdio.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "cow_int.h"

static char *path_in(const cow_db *db, const char *name)
{
    size_t n = strlen(db->dir) + strlen(name) + 2;
    char *p = kv_malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", db->dir, name);
    return p;
}

static int open_file(cow_db *db, const char *name, kv_file **f, bool *created)
{
    char *p = path_in(db, name);
    int rc;
    if (!p)
        return kv_fail(KV_ENOMEM, "cowbtree: out of memory");
    *created = kv_env_stat(db->env, p, NULL, NULL) != KV_OK;
    rc = kv_env_open_mode(db->env, p, KV_O_RDWR | KV_O_CREAT, db->file_mode, f);
    kv_free(p);
    return rc;
}

int cow_walk(cow_db *db, uint64_t root, uint64_t maxtxn, uint64_t next_pgno, uint8_t *seen,
             int (*visit)(void *arg, uint64_t pgno, const unsigned char *page, int depth),
             void *arg, bool leaves)
{
    struct {
        uint64_t pg;
        int depth;
    } *stack;
    size_t top = 0, cap = 1024;
    int rc = KV_OK, leaf_depth = -1;

    if (root == 0)
        return KV_OK;
    stack = kv_malloc(cap * sizeof(*stack));
    if (!stack)
        return kv_fail(KV_ENOMEM, "cowbtree: out of memory for the tree walk");
    stack[top].pg = root;
    stack[top++].depth = 0;
    /* depth first, child 0 first: the first leaf met fixes the leaf depth */
    while (top > 0 && rc == KV_OK) {
        uint64_t pg = stack[--top].pg;
        int depth = stack[top].depth;
        const unsigned char *p;
        if (pg < 2 || pg >= next_pgno || seen[pg]) {
            rc = kv_fail(KV_ECORRUPT, "cowbtree: page %llu is out of range or reached twice",
                         (unsigned long long)pg);
            break;
        }
        seen[pg] = 1;
        if (depth >= COW_MAX_DEPTH) {
            rc = kv_fail(KV_ECORRUPT, "cowbtree: tree deeper than %d", COW_MAX_DEPTH);
            break;
        }
        if (!leaves && depth == leaf_depth)
            continue; /* a leaf: named by its parent, not read */
        rc = cow_pager_get(&db->pg, pg, &p);
        if (rc != KV_OK)
            break;
        if (cow_pg_txn(p) > maxtxn) {
            rc = kv_fail(KV_ECORRUPT, "cowbtree: page %llu is newer than its meta",
                         (unsigned long long)pg);
            break;
        }
        if (cow_pg_type(p) == COW_PT_LEAF) {
            if (leaf_depth < 0)
                leaf_depth = depth;
            if (depth != leaf_depth) {
                rc = kv_fail(KV_ECORRUPT, "cowbtree: leaf %llu at depth %d, others at %d",
                             (unsigned long long)pg, depth, leaf_depth);
                break;
            }
        } else if (depth == leaf_depth) {
            rc = kv_fail(KV_ECORRUPT, "cowbtree: inner page %llu at the leaf depth",
                         (unsigned long long)pg);
            break;
        }
        if (visit && (rc = visit(arg, pg, p, depth)) != KV_OK)
            break;
        if (cow_pg_type(p) != COW_PT_INNER)
            continue;
        unsigned n = cow_pg_n(p) + 1u;
        if (top + n > cap) {
            while (top + n > cap)
                cap *= 2;
            void *ns = kv_realloc(stack, cap * sizeof(*stack));
            if (!ns) {
                rc = kv_fail(KV_ENOMEM, "cowbtree: out of memory for the tree walk");
                break;
            }
            stack = ns;
        }
        for (unsigned i = n; i-- > 0;) {
            stack[top].pg = cow_inner_child(p, i);
            stack[top++].depth = depth + 1;
        }
    }
    kv_free(stack);
    return rc;
}

static int init_store(cow_db *db, uint32_t psize)
{
    unsigned char *z = kv_calloc(1, psize);
    cow_version v = {0};
    int rc;

    if (!z)
        return kv_fail(KV_ENOMEM, "cowbtree: out of memory");
    db->pg.psize = psize;
    db->next_pgno = 2;
    db->log.gen = 1;
    db->log.end = COW_LOG_HDR;
    rc = kv_file_truncate(db->dataf, 0);
    if (rc == KV_OK)
        rc = kv_file_pwrite(db->dataf, z, psize, 0);
    if (rc == KV_OK)
        rc = kv_file_pwrite(db->dataf, z, psize, psize);
    kv_free(z);
    if (rc == KV_OK)
        rc = cow_write_meta(db, 0, &v);
    if (rc == KV_OK)
        rc = cow_write_meta(db, 1, &v);
    if (rc == KV_OK)
        rc = kv_file_sync(db->dataf);
    return rc;
}

/* step 1: the metas */
static int read_metas(cow_db *db, uint32_t want_psize, cow_meta *out, bool *fresh)
{
    unsigned char buf[COW_META_LEN];
    cow_meta a = {0}, b = {0};
    bool a_ok = false, b_ok = false;
    uint64_t size;
    int which, rc;

    *fresh = false;
    rc = kv_file_size(db->dataf, &size);
    if (rc != KV_OK)
        return rc;
    if (size >= COW_META_LEN && cow_pager_read_raw(&db->pg, 0, buf, sizeof(buf)) == KV_OK)
        a_ok = cow_meta_decode(buf, sizeof(buf), &a) == KV_OK;
    for (uint32_t ps = 4096; ps <= 16384 && !b_ok; ps *= 2) {
        if (a_ok && ps != a.page_size)
            continue;
        if (size >= ps + COW_META_LEN && cow_pager_read_raw(&db->pg, ps, buf, sizeof(buf)) == KV_OK)
            b_ok = cow_meta_decode(buf, sizeof(buf), &b) == KV_OK && b.page_size == ps;
    }
    if (a_ok && b_ok && a.page_size != b.page_size)
        b_ok = false;
    if (cow_meta_choose(&a, a_ok, &b, b_ok, &which) != KV_OK) {
        if (size < 2u * 4096) {
            *fresh = true;
            return init_store(db, want_psize);
        }
        return kv_fail(KV_ECORRUPT, "cowbtree: neither meta page of %s is valid", db->dir);
    }
    *out = which ? b : a;
    db->meta_slot = which;
    return KV_OK;
}

/* step 3: replay */
static int apply_record(cow_db *db, const cow_rec *r)
{
    cow_txn *t;
    size_t pos = 0;
    cow_op op;
    int rc = cow_txn_begin_db(db, COW_TXN_WRITE, &t);

    if (rc != KV_OK)
        return rc;
    if (t->v.txnid != r->txnid) {
        cow_txn_abort(t);
        return KV_ENOTFOUND; /* not the next transaction: the end of the log */
    }
    for (uint32_t i = 0; i < r->nops && rc == KV_OK; i++) {
        rc = cow_op_next(r, &pos, &op);
        if (rc != KV_OK)
            break;
        if (op.kind == COW_OP_PUT)
            rc = cow_txn_put(t, op.k, op.kl, op.v, op.vl);
        else if ((rc = cow_txn_del(t, op.k, op.kl)) == KV_ENOTFOUND)
            rc = KV_OK; /* deterministic either way; a logged delete found its key */
    }
    if (rc != KV_OK) {
        cow_txn_abort(t);
        return rc;
    }
    return cow_txn_commit(t);
}

static int replay(cow_db *db, const cow_meta *m)
{
    uint64_t size, start, gen;
    unsigned char *buf = NULL;
    bool created;
    int rc = open_file(db, "commit.log", &db->logf, &created);

    if (rc != KV_OK)
        return rc;
    db->log.f = db->logf;
    rc = kv_file_size(db->logf, &size);
    if (rc != KV_OK)
        return rc;
    if (size > ((uint64_t)1 << 34))
        return kv_fail(KV_ECORRUPT, "cowbtree: commit log of %llu bytes", (unsigned long long)size);
    buf = kv_malloc(size ? size : 1);
    if (!buf)
        return kv_fail(KV_ENOMEM, "cowbtree: out of memory to read the log");
    {
        size_t got = 0;
        rc = size ? kv_file_pread(db->logf, buf, size, 0, &got) : KV_OK;
        if (rc == KV_OK && got != size)
            rc = kv_fail(KV_EIO, "cowbtree: short read of the log");
    }
    if (rc != KV_OK)
        goto out_free_buf;
    if (cow_log_header_decode(buf, size, &gen) != KV_OK) {
        if (size > COW_LOG_HDR) {
            rc = kv_fail(KV_ECORRUPT, "cowbtree: damaged commit log header");
            goto out_free_buf;
        }
        /* no log yet, or a restart torn before any record: a new generation */
        rc = cow_log_reset(&db->log, m->log_gen + 1);
        if (rc == KV_OK && created)
            rc = kv_env_sync_dir(db->env, db->dir);
        goto out_free_buf;
    }
    if (gen == m->log_gen) {
        start = m->log_pos;
    } else if (gen == m->log_gen + 1) {
        start = COW_LOG_HDR;
    } else {
        rc = kv_fail(KV_ECORRUPT, "cowbtree: log generation %llu does not follow meta's %llu",
                     (unsigned long long)gen, (unsigned long long)m->log_gen);
        goto out_free_buf;
    }
    if (start > size) {
        /* the checkpoint named unsynced log bytes that a crash dropped: every record
           before its position is in the checkpoint, so nothing is lost; restart the
           log so that new records are not written below that position */
        rc = cow_log_reset(&db->log, m->log_gen + 1);
        goto out_free_buf;
    }
    /* STUB: (void)apply_record; rc = kv_fail(KV_ENOTSUP, "not implemented: %s (replay)", __func__); */
    /* BEGIN SOLUTION */
    db->log.gen = gen;
    db->replaying = true;
    while (start < size) {
        cow_rec r;
        size_t n = cow_rec_decode(buf + start, size - start, &r);
        if (n == 0 && cow_rec_damaged(buf + start, size - start)) {
            rc = kv_fail(KV_ECORRUPT, "cowbtree: damaged commit record at log offset %llu",
                         (unsigned long long)start);
            break;
        }
        if (n == 0 || r.gen != gen ||
            cow_log_decode_ops(&r, db->max_key, db->max_value) != KV_OK)
            break;
        rc = apply_record(db, &r);
        if (rc == KV_ENOTFOUND) {
            rc = KV_OK;
            break;
        }
        if (rc != KV_OK)
            break;
        atomic_fetch_add(&db->n_replayed, 1);
        start += n;
    }
    db->replaying = false;
    if (rc != KV_OK)
        goto out_free_buf;
    db->log.end = db->log.synced = start;
    if (start < size) { /* cut the torn or stale tail so new records follow the last good one */
        rc = kv_file_truncate(db->logf, start);
        if (rc == KV_OK)
            rc = kv_file_sync(db->logf);
    }
    /* END SOLUTION */
out_free_buf:
    kv_free(buf);
    return rc;
}

int cow_db_open(cow_db *db)
{
    cow_meta m = {0};
    cow_version v;
    uint8_t *seen = NULL;
    bool created, fresh;
    char *lockp;
    int rc;

    rc = kv_env_mkdir_durable_mode(db->env, db->dir, db->dir_mode);
    if (rc != KV_OK)
        return rc;
    lockp = path_in(db, "LOCK");
    if (!lockp)
        return kv_fail(KV_ENOMEM, "cowbtree: out of memory");
    created = kv_env_stat(db->env, lockp, NULL, NULL) != KV_OK;
    rc = kv_env_open_mode(db->env, lockp, KV_O_RDWR | KV_O_CREAT, db->file_mode, &db->lockf);
    kv_free(lockp);
    if (rc != KV_OK)
        return rc;
    rc = kv_file_lock(db->lockf);
    if (rc == KV_EBUSY)
        return kv_fail(KV_EBUSY, "cowbtree: %s is open in another handle or process", db->dir);
    if (rc != KV_OK)
        return rc;
    rc = open_file(db, "data.cow", &db->dataf, &created);
    if (rc != KV_OK)
        return rc;
    db->pg.f = db->dataf;
    rc = read_metas(db, db->pg.psize, &m, &fresh);
    if (rc != KV_OK)
        return rc;
    if (fresh) {
        m = (cow_meta){.page_size = db->pg.psize, .next_pgno = 2, .log_gen = 1,
                       .log_pos = COW_LOG_HDR};
        created = true;
    }
    if (created && (rc = kv_env_sync_dir(db->env, db->dir)) != KV_OK)
        return rc;
    db->pg.psize = m.page_size;
    db->scratch = kv_calloc(1, m.page_size); /* zeroed: pages copied from it are sealed whole */
    db->cells_a = kv_malloc(m.page_size / 4 * sizeof(cow_cell));
    db->cells_b = kv_malloc(m.page_size / 4 * sizeof(cow_cell));
    if (!db->scratch || !db->cells_a || !db->cells_b)
        return kv_fail(KV_ENOMEM, "cowbtree: out of memory");
    db->next_pgno = m.next_pgno;
    db->ckpt_txnid = m.txnid;
    v = (cow_version){.txnid = m.txnid, .root = m.root, .keys = m.keys, .bytes = m.bytes};
    db->snaps.cur = v;
    /* step 2: the freelist */
    if (m.next_pgno > ((uint64_t)COW_DIR_N << COW_DIR_BITS))
        return kv_fail(KV_ECORRUPT, "cowbtree: next_pgno %llu out of range",
                       (unsigned long long)m.next_pgno);
    seen = kv_calloc(1, (size_t)m.next_pgno);
    if (!seen)
        return kv_fail(KV_ENOMEM, "cowbtree: out of memory for the freelist rebuild");
    rc = cow_walk(db, m.root, m.txnid, m.next_pgno, seen, NULL, NULL, false);
    if (rc == KV_OK)
        rc = cow_fl_reserve(&db->fl, (size_t)m.next_pgno, 0);
    for (uint64_t p = m.next_pgno; rc == KV_OK && p-- > 2;)
        if (!seen[p])
            cow_fl_push(&db->fl, p);
    kv_free(seen);
    if (rc != KV_OK)
        return rc;
    rc = replay(db, &m);
    return rc;
}

int cow_db_close(cow_db *db)
{
    int rc = KV_OK;
    if (db->logf && db->dataf && db->scratch) {
        pthread_mutex_lock(&db->wlock);
        rc = cow_checkpoint(db, true);
        pthread_mutex_unlock(&db->wlock);
    }
    return rc;
}
