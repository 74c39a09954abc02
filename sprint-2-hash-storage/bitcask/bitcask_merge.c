/*
 * bitcask_merge.c — merge: rewrite the live records of every data file
 * into new files, with hint files, and remove the old files.
 *
 * Overwrites and deletes leave dead records behind (older versions,
 * tombstones); merge reclaims that space. It runs with the writer lock
 * held (puts and deletes wait; gets go on, reading the old files until
 * the keydir is switched to the new ones).
 *
 * **What is copied.** The merge takes every data file, the active one
 * included (it is synced first and the merge starts a new active file),
 * and copies each record the keydir still points to (same file, same
 * offset) into new files numbered after every existing id, rolling over
 * at max_file_size, with the original timestamps. Records the keydir does
 * not point to are older versions: dropped. **Tombstones are dropped
 * too**, which is safe only because the merge replaces *every* file that
 * existed when it started: a tombstone must stay as long as any older
 * record of its key survives somewhere, and after this merge no older
 * file survives (the new active file holds only newer records). A merge
 * of a subset of the files would have to keep the tombstones whose keys
 * may still have records in the files it leaves alone.
 *
 * **Crash safety: the steps, and what a crash after each leaves.**
 *  1. Write each new file as <id>.data.tmp; fsync; rename to <id>.data;
 *     write its hint file the same way. (Crash: *.tmp files, removed at
 *     open, and maybe complete new files whose records duplicate live
 *     ones with the same timestamps: harmless, the keydir takes either
 *     copy, and the next merge drops the duplicate.)
 *  2. Create the new, empty active file after the new files.
 *  3. Commit: write DIR/MERGE (tmp, fsync, rename) listing the old files;
 *     fsync the directory. (Crash: open finds MERGE and removes the old
 *     files before loading anything, so either all the old files or none
 *     of them are loaded: a tombstone dropped by the merge can never be
 *     missing while an older record of its key is loaded.)
 *  4. Point the keydir at the new files (the in-memory hint files), mark
 *     the old files obsolete.
 *  5. Remove the old files and their hint files, fsync the directory,
 *     remove MERGE, fsync the directory (bc_merge_finish). A later merge
 *     first finishes a MERGE left by a failed step 5.
 * Until step 4 has pointed every key at the new files, the old files stay
 * open in the file table, so gets keep working even after they are
 * unlinked (and when step 4 runs out of memory half way).
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "bitcask.h"
#include "bitcask_format.h"
#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "kvlabs/hash.h"

#define OUT_CHUNK (1u << 20)

/* One file the merge writes. */
struct out_file {
    uint32_t id;
    kv_file *f;
    uint64_t size;   /* bytes written plus buffered */
    uint64_t done;   /* bytes written */
    bc_bytes buf;    /* records not yet written */
    bc_bytes hint;   /* the hint file, in memory */
};

struct merge {
    bc_db *db;
    bc_file **old;   /* the files being replaced (a copy of the table) */
    size_t nold;
    struct out_file *out;
    size_t nout, capout;
    uint32_t next_id;
    uint64_t copied; /* records copied */
    bool installed;  /* the new files are in the table */
};

/* ---- the new files ------------------------------------------------------------ */

static int out_flush(struct out_file *o)
{
    int rc = kv_file_pwrite(o->f, o->buf.p, o->buf.len, o->done);

    if (rc == KV_OK) {
        o->done += o->buf.len;
        o->buf.len = 0;
    }
    return rc;
}

static int out_new(struct merge *m)
{
    struct out_file *o;
    char *path;
    int rc;

    if (m->nout == m->capout) {
        size_t cap = m->capout ? m->capout * 2 : 4;
        o = kv_realloc(m->out, cap * sizeof(*o));
        if (!o)
            return kv_fail(KV_ENOMEM, "bitcask: out of memory in merge");
        m->out = o;
        m->capout = cap;
    }
    o = &m->out[m->nout];
    memset(o, 0, sizeof(*o));
    o->id = m->next_id;
    path = bc_path(m->db, o->id, ".data.tmp");
    if (!path)
        return kv_fail(KV_ENOMEM, "bitcask: out of memory in merge");
    rc = kv_env_open_mode(m->db->env, path, KV_O_RDWR | KV_O_CREAT | KV_O_TRUNC, m->db->file_mode,
                          &o->f);
    kv_free(path);
    if (rc == KV_OK)
        rc = bc_hint_start(&o->hint);
    if (rc != KV_OK) {
        kv_file_close(o->f);
        bc_bytes_free(&o->hint);
        return rc;
    }
    m->nout++;
    m->next_id++;
    return KV_OK;
}

/* Append one record (and its hint entry) to the current new file. */
static int out_add(struct merge *m, const bc_rec *h, const unsigned char *rec)
{
    uint64_t len = bc_rec_size(h->ksize, h->vsize);
    struct out_file *o = m->nout ? &m->out[m->nout - 1] : NULL;
    int rc;

    if (!o || (o->size > 0 && o->size + len > m->db->max_file_size)) {
        rc = out_new(m);
        if (rc != KV_OK)
            return rc;
        o = &m->out[m->nout - 1];
    }
    rc = bc_hint_add(&o->hint, h, rec + BC_HDR, o->size);
    if (rc == KV_OK)
        rc = bc_bytes_add(&o->buf, rec, (size_t)len);
    if (rc == KV_OK && o->buf.len >= OUT_CHUNK)
        rc = out_flush(o);
    if (rc == KV_OK)
        o->size += len;
    return rc;
}

/* ---- copying the live records ----------------------------------------------------- */

/* Copy one record if it is the one the keydir points to. */
static int copy_if_live(struct merge *m, const bc_rec *h, const unsigned char *rec,
                        uint32_t fid, uint64_t off)
{
    /* STUB: (void)m; (void)h; (void)rec; (void)fid; (void)off; (void)out_add; return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__); */
    /* BEGIN SOLUTION */
    bc_loc loc;

    if (h->vsize == BC_TOMBSTONE)
        return KV_OK; /* every older record of its key goes too: see the top of the file */
    if (bc_keydir_get(&m->db->kd, rec + BC_HDR, h->ksize, &loc) != KV_OK)
        return KV_OK; /* deleted since */
    if (loc.file_id != fid || loc.offset != off)
        return KV_OK; /* an older version */
    m->copied++;
    return out_add(m, h, rec);
    /* END SOLUTION */
}

/* bc_scan_each's callback: copy_if_live over the merge's state. */
static int copy_one(void *arg, const bc_rec *h, const unsigned char *rec, uint32_t fid,
                    uint64_t off)
{
    return copy_if_live(arg, h, rec, fid, off);
}

static int copy_file(struct merge *m, bc_file *bf)
{
    bc_scan s;
    uint64_t off;
    int rc;

    bc_scan_init(&s, bf->f, bf->size);
    rc = bc_scan_each(&s, bf->id, copy_one, m, &off);
    bc_scan_free(&s);
    if (rc == BC_SCAN_BAD)
        return kv_fail(KV_ECORRUPT, "bitcask: merge met a bad record at offset %llu of file %u",
                       (unsigned long long)off, bf->id);
    return rc;
}

/* ---- making the new files durable, then committing ---------------------------------- */

/* Step 1 for one new file: flush, fsync, rename, and its hint file. */
static int out_finish(struct merge *m, struct out_file *o)
{
    char *tmp = bc_path(m->db, o->id, ".data.tmp");
    char *path = bc_path(m->db, o->id, ".data");
    char name[32];
    int rc = tmp && path ? KV_OK : kv_fail(KV_ENOMEM, "bitcask: out of memory in merge");

    if (rc == KV_OK)
        rc = out_flush(o);
    if (rc == KV_OK)
        rc = kv_file_sync(o->f);
    if (rc == KV_OK)
        rc = kv_env_rename(m->db->env, tmp, path);
    if (rc == KV_OK)
        rc = bc_hint_finish(&o->hint, o->size);
    snprintf(name, sizeof(name), "%010u.hint", o->id);
    if (rc == KV_OK)
        rc = bc_write_file(m->db, name, o->hint.p, o->hint.len);
    kv_free(tmp);
    kv_free(path);
    return rc;
}

/* Put the new files in the table (not yet pointed to by the keydir). */
static int out_install(struct merge *m)
{
    int rc = KV_OK;

    pthread_rwlock_wrlock(&m->db->flk);
    for (size_t i = 0; rc == KV_OK && i < m->nout; i++) {
        bc_file *bf = kv_calloc(1, sizeof(*bf));
        if (!bf) {
            rc = kv_fail(KV_ENOMEM, "bitcask: out of memory in merge");
            break;
        }
        *bf = (bc_file){.id = m->out[i].id, .f = m->out[i].f, .size = m->out[i].size,
                        .hinted = true};
        rc = bc_file_add(m->db, bf);
        if (rc != KV_OK) {
            kv_free(bf);
            break;
        }
        m->out[i].f = NULL; /* the table owns the handle now */
        m->db->disk_bytes += bf->size;
    }
    m->installed = true;
    pthread_rwlock_unlock(&m->db->flk);
    return rc;
}

/* A merge that failed before its commit: take the new files out of the table and the directory. */
static void out_uninstall(struct merge *m)
{
    bc_db *db = m->db;
    size_t k = 0;

    pthread_rwlock_wrlock(&db->flk);
    for (size_t i = 0; i < db->nfiles; i++) {
        bc_file *bf = db->files[i];
        bool ours = false;
        for (size_t j = 0; j < m->nout && !ours; j++)
            ours = bf->id == m->out[j].id && bf != db->active;
        if (!ours) {
            db->files[k++] = bf;
            continue;
        }
        db->disk_bytes -= bf->size;
        bc_file_free(bf);
    }
    db->nfiles = k;
    pthread_rwlock_unlock(&db->flk);
    for (size_t j = 0; j < m->nout; j++) {
        char *p = bc_path(db, m->out[j].id, ".data"), *h = bc_path(db, m->out[j].id, ".hint");
        if (p)
            kv_env_unlink(db->env, p);
        if (h)
            kv_env_unlink(db->env, h);
        kv_free(p);
        kv_free(h);
    }
}

static int write_commit(struct merge *m)
{
    bc_bytes r = {0};
    unsigned char w[4];
    int rc = bc_bytes_add(&r, BC_MERGE_MAGIC, 8);

    bc_put32(w, (uint32_t)m->nold);
    if (rc == KV_OK)
        rc = bc_bytes_add(&r, w, 4);
    for (size_t i = 0; rc == KV_OK && i < m->nold; i++) {
        bc_put32(w, m->old[i]->id);
        rc = bc_bytes_add(&r, w, 4);
    }
    if (rc == KV_OK) {
        bc_put32(w, kv_crc32c(0, r.p, r.len));
        rc = bc_bytes_add(&r, w, 4);
    }
    if (rc == KV_OK)
        rc = bc_write_file(m->db, "MERGE", r.p, r.len);
    bc_bytes_free(&r);
    return rc;
}

/* Step 4: the keydir to the new files; the old ones out of the table. */
static int switch_keydir(struct merge *m)
{
    bc_db *db = m->db;
    int rc = KV_OK;

    pthread_rwlock_wrlock(&db->flk);
    for (size_t i = 0; rc == KV_OK && i < m->nout; i++)
        rc = bc_hint_apply(db, m->out[i].hint.p, m->out[i].hint.len, m->out[i].id,
                           m->out[i].size);
    for (size_t i = 0; i < m->nold; i++) {
        if (!m->old[i]->obsolete)
            db->disk_bytes -= m->old[i]->size;
        m->old[i]->obsolete = true;
    }
    if (rc == KV_OK) { /* nothing points into the old files any more */
        size_t k = 0;
        for (size_t i = 0; i < db->nfiles; i++) {
            if (db->files[i]->obsolete)
                bc_file_free(db->files[i]);
            else
                db->files[k++] = db->files[i];
        }
        db->nfiles = k;
    }
    pthread_rwlock_unlock(&db->flk);
    return rc;
}

/* A merge that failed before its commit: back to the old active file (synced, intact). */
static void drop_new_active(bc_db *db, bc_file *prev)
{
    bc_file *bf = db->active;
    char *p = bc_path(db, bf->id, ".data");

    pthread_rwlock_wrlock(&db->flk);
    db->nfiles--; /* the new active file is the last entry */
    assert(db->files[db->nfiles] == bf);
    db->active = prev;
    db->flushed = prev->size;
    pthread_rwlock_unlock(&db->flk);
    bc_file_free(bf);
    if (p)
        kv_env_unlink(db->env, p);
    kv_free(p);
}

static void merge_free(struct merge *m)
{
    for (size_t i = 0; i < m->nout; i++) {
        if (m->out[i].f) { /* not installed: remove it, whatever its name by now */
            static const char *const names[] = {".data.tmp", ".data", ".hint"};
            kv_file_close(m->out[i].f);
            for (int k = 0; k < 3; k++) {
                char *p = bc_path(m->db, m->out[i].id, names[k]);
                if (p)
                    kv_env_unlink(m->db->env, p);
                kv_free(p);
            }
        }
        bc_bytes_free(&m->out[i].buf);
        bc_bytes_free(&m->out[i].hint);
    }
    kv_free(m->out);
    kv_free(m->old);
}

int bc_merge_locked(bc_db *db)
{
    struct merge m = {.db = db};
    bc_file *prev = db->active;
    int rc;

    if (db->broken)
        return kv_fail(KV_EIO, "bitcask: the store is unusable after an earlier write failure");
    rc = bc_merge_finish(db); /* a merge whose clean-up failed */
    if (rc == KV_OK)
        rc = bc_log_sync(db);
    if (rc != KV_OK)
        return rc;
    m.nold = db->nfiles;
    m.old = kv_malloc(m.nold * sizeof(*m.old));
    if (!m.old)
        return kv_fail(KV_ENOMEM, "bitcask: out of memory in merge");
    memcpy(m.old, db->files, m.nold * sizeof(*m.old));
    m.next_id = db->files[db->nfiles - 1]->id + 1;
    for (size_t i = 0; rc == KV_OK && i < m.nold; i++)
        rc = copy_file(&m, m.old[i]);
    for (size_t i = 0; rc == KV_OK && i < m.nout; i++)
        rc = out_finish(&m, &m.out[i]);
    if (rc == KV_OK)
        rc = out_install(&m);
    if (rc == KV_OK)
        rc = bc_log_new_active(db);
    if (rc == KV_OK)
        rc = write_commit(&m);
    if (rc == KV_OK) { /* committed: from here on the merge happens */
        int rc2 = kv_env_sync_dir(db->env, db->dir);
        rc = switch_keydir(&m);
        if (rc == KV_OK)
            rc = rc2;
        if (rc == KV_OK)
            rc = bc_merge_finish(db);
        db->dir_dirty = db->dir_dirty || rc != KV_OK;
        db->merges++;
    } else {
        if (db->active != prev)
            drop_new_active(db, prev);
        if (m.installed)
            out_uninstall(&m);
    }
    merge_free(&m);
    return rc;
}
