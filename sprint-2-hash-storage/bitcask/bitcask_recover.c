/*
 * bitcask_recover.c — opening a store: from the files in its directory to
 * a keydir and an active file.
 *
 * The steps, in order:
 *  1. Finish a committed merge: if DIR/MERGE exists, remove the files it
 *     lists (bc_merge_finish). A merge that did not commit left only
 *     *.tmp files: remove them.
 *  2. Load every data file, oldest (lowest id) first, into the keydir:
 *     from its hint file when that is present and valid, else by scanning
 *     its records. A put record points its key at itself, a tombstone
 *     removes the key (both only if at least as new: bitcask_keydir.c).
 *  3. Bad records. Every file but the newest was synced whole before the
 *     next one was started (rollover, merge), so a bad record in it is
 *     corruption: KV_ECORRUPT. In the newest file, a bad record with
 *     nothing valid after it is a torn tail and is cut off
 *     (bitcask_scan.c); one followed by valid data is KV_ECORRUPT.
 *  4. The newest file becomes the active file, unless it is a merge
 *     output (it has a hint file) or full: then a new one is started.
 *
 * **The clean-close record.** A torn tail looks like a complete record
 * whose size field was damaged so that it runs past the end of the file.
 * To tell a flipped bit in a synced store from a crash, kv_close() writes,
 * after its final sync, a record into DIR/LOCK: the active file's id and
 * length, with a CRC. Bytes below that length were synced whole, so a bad
 * record there is corruption even in the newest file. Files only grow
 * (and merge removes whole files, whose ids are never reused), so the
 * record stays true after the store is reopened and written; it is
 * ignored when damaged or when its file is gone.
 *
 * **Read errors.** A read that fails is neither a bad record nor a missing
 * clean-close record: open fails with its status (KV_EIO) before it cuts
 * or changes anything, and a later open with a working disk sees the whole
 * store (tests/test_bitcask_openio.c fails every read of open in turn).
 */
#include <stdlib.h>
#include <string.h>

#include "bitcask_format.h"
#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "kvlabs/hash.h"

/* ---- the clean-close record ------------------------------------------------ */

int bc_clean_read(bc_db *db, uint32_t *id, uint64_t *len)
{
    unsigned char r[BC_CLEAN_SIZE];
    size_t got = 0;
    int rc = kv_file_pread(db->lock, r, sizeof(r), 0, &got);

    if (rc != KV_OK) /* not "no record": a torn tail cut on that guess could be acknowledged data */
        return kv_fail(rc, "bitcask: cannot read the clean-close record: %s", kv_strerror(rc));
    if (got != sizeof(r))
        return KV_ENOTFOUND;
    if (kv_load_le32(r) != BC_CLEAN_MAGIC || kv_load_le32(r + 16) != kv_crc32c(0, r, 16))
        return KV_ENOTFOUND;
    *id = kv_load_le32(r + 4);
    *len = kv_load_le64(r + 8);
    return KV_OK;
}

int bc_clean_write(bc_db *db)
{
    unsigned char r[BC_CLEAN_SIZE];
    int rc;

    bc_put32(r, BC_CLEAN_MAGIC);
    bc_put32(r + 4, db->active->id);
    bc_put64(r + 8, db->active->size);
    bc_put32(r + 16, kv_crc32c(0, r, 16));
    rc = kv_file_pwrite(db->lock, r, sizeof(r), 0);
    if (rc == KV_OK)
        rc = kv_file_sync(db->lock);
    return rc;
}

/* ---- the directory ------------------------------------------------------------ */

/* "0000000042.data" -> 42; false for any other name. */
static bool data_name(const char *name, uint32_t *id)
{
    char *end;
    unsigned long v;

    if (strlen(name) != 15 || strcmp(name + 10, ".data") != 0)
        return false;
    for (int i = 0; i < 10; i++)
        if (name[i] < '0' || name[i] > '9')
            return false;
    v = strtoul(name, &end, 10);
    if (end != name + 10 || v == 0 || v > UINT32_MAX)
        return false;
    *id = (uint32_t)v;
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Is there a data file of the same id as hint file @p name? */
static bool has_data(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(names[i], name, 10) == 0 && strcmp(names[i] + 10, ".data") == 0)
            return true;
    return false;
}

/* Remove leftovers of a merge that did not commit: *.tmp, hint files without data. */
static int remove_tmp(bc_db *db, char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *path;
        int rc;
        if (!ends_with(names[i], ".tmp") &&
            !(ends_with(names[i], ".hint") && !has_data(names, n, names[i])))
            continue;
        path = bc_path_name(db, names[i]);
        if (!path)
            return kv_fail(KV_ENOMEM, "bitcask: out of memory");
        rc = kv_env_unlink(db->env, path);
        kv_free(path);
        if (rc != KV_OK && rc != KV_ENOTFOUND)
            return rc;
    }
    return KV_OK;
}

/* ---- loading one data file ----------------------------------------------------- */

static int apply_record(bc_db *db, const bc_rec *h, const unsigned char *rec, uint32_t fid,
                        uint64_t off)
{
    bc_loc loc = {.file_id = fid, .vsize = h->vsize, .offset = off, .ts = h->ts};

    if (h->ts > db->last_ts)
        db->last_ts = h->ts;
    if (h->vsize == BC_TOMBSTONE) {
        bc_keydir_del(&db->kd, rec + BC_HDR, h->ksize, h->ts);
        return KV_OK;
    }
    return bc_keydir_put(&db->kd, rec + BC_HDR, h->ksize, &loc, NULL);
}

/* What a bad record at @p bad means for file @p bf. */
static int bad_record(bc_db *db, bc_scan *s, bc_file *bf, uint64_t bad, bool newest)
{
    uint32_t cid;
    uint64_t clen, cut;
    int rc;

    if (!newest)
        return kv_fail(KV_ECORRUPT, "bitcask: bad record at offset %llu of immutable file %u",
                       (unsigned long long)bad, bf->id);
    rc = bc_clean_read(db, &cid, &clen);
    if (rc != KV_OK && rc != KV_ENOTFOUND)
        return rc;
    if (rc == KV_OK && cid == bf->id && bad < clen)
        return kv_fail(KV_ECORRUPT, "bitcask: bad record at offset %llu of file %u, "
                       "below its length %llu at the last clean close",
                       (unsigned long long)bad, bf->id, (unsigned long long)clen);
    rc = bc_scan_tail(s, bad, &cut);
    if (rc != KV_OK)
        return rc;
    rc = kv_file_truncate(bf->f, cut);
    if (rc == KV_OK) {
        db->torn_bytes += bf->size - cut;
        bf->size = cut;
    }
    return rc;
}

/* bc_scan_each's callback: apply_record over the store. */
static int apply_one(void *arg, const bc_rec *h, const unsigned char *rec, uint32_t fid,
                     uint64_t off)
{
    return apply_record(arg, h, rec, fid, off);
}

static int scan_file(bc_db *db, bc_file *bf, bool newest)
{
    bc_scan s;
    uint64_t off;
    int rc;

    bc_scan_init(&s, bf->f, bf->size);
    rc = bc_scan_each(&s, bf->id, apply_one, db, &off);
    if (rc == BC_SCAN_BAD)
        rc = bad_record(db, &s, bf, off, newest);
    bc_scan_free(&s);
    db->scanned_files++;
    return rc;
}

static int load_file(bc_db *db, uint32_t id, bool newest)
{
    bc_file *bf;
    bool hinted = false;
    int rc = bc_file_open(db, id, KV_O_RDWR, &bf);

    if (rc != KV_OK)
        return rc;
    rc = bc_file_add(db, bf);
    if (rc != KV_OK) {
        bc_file_free(bf);
        return rc;
    }
    rc = bc_hint_load(db, bf, &hinted);
    if (rc == KV_OK && hinted)
        db->hint_files++;
    else if (rc == KV_OK)
        rc = scan_file(db, bf, newest && !bf->hinted);
    db->disk_bytes += bf->size; /* after a torn tail was cut */
    return rc;
}

/* ---- the whole store -------------------------------------------------------------- */

static int choose_active(bc_db *db)
{
    bc_file *last = db->nfiles ? db->files[db->nfiles - 1] : NULL;

    if (last && !last->hinted && last->size < db->max_file_size) {
        db->active = last;
        db->flushed = last->size;
        return KV_OK;
    }
    return bc_log_new_active(db);
}

int bc_recover(bc_db *db)
{
    char **names = NULL;
    size_t n = 0, last = 0;
    uint32_t id;
    int rc = bc_merge_finish(db);

    if (rc == KV_OK)
        rc = kv_env_list(db->env, db->dir, &names, &n);
    if (rc == KV_OK)
        rc = remove_tmp(db, names, n);
    for (size_t i = 0; i < n; i++) /* names are sorted: the newest data file is the last */
        if (data_name(names[i], &id))
            last = i;
    for (size_t i = 0; rc == KV_OK && i < n; i++)
        if (data_name(names[i], &id))
            rc = load_file(db, id, i == last);
    kv_env_list_free(names, n);
    if (rc == KV_OK)
        rc = choose_active(db);
    if (rc == KV_OK && db->last_ts == 0)
        db->last_ts = 1;
    return rc;
}
