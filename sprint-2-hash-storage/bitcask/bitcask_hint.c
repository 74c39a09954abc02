/*
 * bitcask_hint.c — hint files, small whole files, and finishing a merge.
 *
 * **Hint files.** A merge writes, beside each data file it produces, a
 * hint file DIR/<id>.hint: the keydir entries of that file, without the
 * values. Loading a store reads the hint file instead of the whole data
 * file, which for values much larger than keys is most of the start-up
 * time. Layout (little-endian):
 *
 *   0   8  magic "BCHINT01"
 *   8   8  size of the data file it describes
 *   16     entries, each: ts 8 | ksize 4 | vsize 4 | offset 8 | key (ksize)
 *   end-4  4  CRC32C of every byte before it
 *
 * A hint file is trusted only whole: a bad magic or CRC, a size that does
 * not match the data file, or an entry that points outside it, and the
 * loader scans the data file instead (hint files are an optimisation,
 * never the only copy of anything). Hint files are built in memory
 * (bc_bytes) and written at once by bc_write_file(): DIR/name.tmp, fsync,
 * rename. The merge applies the same in-memory bytes to the keydir after
 * it commits, with the same parser the loader uses.
 *
 * **The merge record** DIR/MERGE commits a merge (see bitcask_merge.c):
 *
 *   0   8  magic "BCMERGE1"
 *   8   4  n: how many data files the merge replaced
 *   12  4n their ids
 *   end-4  4  CRC32C of every byte before it
 *
 * bc_merge_finish() removes those files (and their hint files), then the
 * record; open and the next merge call it, so a merge interrupted after
 * its commit always completes.
 */
#include <string.h>

#include "bitcask_format.h"
#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "kvlabs/hash.h"

int bc_bytes_add(bc_bytes *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        unsigned char *q;
        while (cap < b->len + n)
            cap *= 2;
        q = kv_realloc(b->p, cap);
        if (!q)
            return kv_fail(KV_ENOMEM, "bitcask: out of memory building a %zu-byte file", cap);
        b->p = q;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    return KV_OK;
}

void bc_bytes_free(bc_bytes *b)
{
    kv_free(b->p);
    memset(b, 0, sizeof(*b));
}

/* ---- hint files ---------------------------------------------------------- */

int bc_hint_start(bc_bytes *hb)
{
    unsigned char hdr[BC_HINT_HDR] = {0};

    memcpy(hdr, BC_HINT_MAGIC, 8);
    return bc_bytes_add(hb, hdr, sizeof(hdr));
}

int bc_hint_add(bc_bytes *hb, const bc_rec *h, const void *key, uint64_t off)
{
    unsigned char e[BC_HINT_ENTRY];
    size_t old = hb->len;
    int rc;

    bc_put64(e, h->ts);
    bc_put32(e + 8, h->ksize);
    bc_put32(e + 12, h->vsize);
    bc_put64(e + 16, off);
    rc = bc_bytes_add(hb, e, sizeof(e));
    if (rc == KV_OK)
        rc = bc_bytes_add(hb, key, h->ksize);
    if (rc != KV_OK)
        hb->len = old;
    return rc;
}

int bc_hint_finish(bc_bytes *hb, uint64_t data_size)
{
    unsigned char crc[4];

    bc_put64(hb->p + 8, data_size);
    bc_put32(crc, kv_crc32c(0, hb->p, hb->len));
    return bc_bytes_add(hb, crc, sizeof(crc));
}

/* Check the frame of a hint file: magic, data size, CRC. */
static bool hint_frame_ok(const unsigned char *p, size_t n, uint64_t data_size)
{
    if (n < BC_HINT_HDR + 4 || memcmp(p, BC_HINT_MAGIC, 8) != 0)
        return false;
    if (kv_load_le64(p + 8) != data_size)
        return false;
    return kv_load_le32(p + n - 4) == kv_crc32c(0, p, n - 4);
}

int bc_hint_apply(bc_db *db, const unsigned char *p, size_t n, uint32_t file_id,
                  uint64_t data_size)
{
    size_t off = BC_HINT_HDR, end = n - 4;

    if (!hint_frame_ok(p, n, data_size))
        return KV_ECORRUPT;
    while (off < end) {
        const unsigned char *e = p + off;
        bc_loc loc = {.file_id = file_id};
        uint32_t ksize;
        int rc;

        if (end - off < BC_HINT_ENTRY)
            return KV_ECORRUPT;
        loc.ts = kv_load_le64(e);
        ksize = kv_load_le32(e + 8);
        loc.vsize = kv_load_le32(e + 12);
        loc.offset = kv_load_le64(e + 16);
        if (ksize == 0 || ksize > BC_MAX_KEY || end - off - BC_HINT_ENTRY < ksize ||
            (loc.vsize != BC_TOMBSTONE && loc.vsize > BC_MAX_VALUE) || loc.offset > data_size ||
            bc_rec_size(ksize, loc.vsize) > data_size - loc.offset)
            return KV_ECORRUPT;
        if (loc.ts > db->last_ts)
            db->last_ts = loc.ts;
        if (loc.vsize == BC_TOMBSTONE) {
            bc_keydir_del(&db->kd, e + BC_HINT_ENTRY, ksize, loc.ts);
        } else {
            rc = bc_keydir_put(&db->kd, e + BC_HINT_ENTRY, ksize, &loc, NULL);
            if (rc != KV_OK)
                return rc;
        }
        off += BC_HINT_ENTRY + ksize;
    }
    return KV_OK;
}

int bc_hint_load(bc_db *db, bc_file *bf, bool *loaded)
{
    char *path = bc_path(db, bf->id, ".hint");
    unsigned char *p = NULL;
    size_t n = 0;
    int rc;

    *loaded = false;
    if (!path)
        return kv_fail(KV_ENOMEM, "bitcask: out of memory");
    rc = bc_read_file(db, path, &p, &n);
    kv_free(path);
    if (rc == KV_ENOTFOUND)
        return KV_OK;
    if (rc != KV_OK)
        return rc;
    bf->hinted = true;
    rc = bc_hint_apply(db, p, n, bf->id, bf->size);
    kv_free(p);
    if (rc == KV_ECORRUPT)
        return KV_OK; /* not used: the caller scans the data file */
    *loaded = rc == KV_OK;
    return rc;
}

/* ---- small whole files ------------------------------------------------------ */

int bc_write_file(bc_db *db, const char *name, const void *p, size_t n)
{
    char *path = bc_path_name(db, name);
    size_t plen = path ? strlen(path) : 0;
    char *tmp = path ? kv_malloc(plen + 5) : NULL;
    kv_file *f = NULL;
    int rc;

    if (!tmp) {
        kv_free(path);
        return kv_fail(KV_ENOMEM, "bitcask: out of memory");
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    rc = kv_env_open_mode(db->env, tmp, KV_O_RDWR | KV_O_CREAT | KV_O_TRUNC, db->file_mode, &f);
    if (rc == KV_OK)
        rc = kv_file_pwrite(f, p, n, 0);
    if (rc == KV_OK)
        rc = kv_file_sync(f);
    kv_file_close(f);
    if (rc == KV_OK)
        rc = kv_env_rename(db->env, tmp, path);
    if (rc != KV_OK)
        kv_env_unlink(db->env, tmp);
    kv_free(tmp);
    kv_free(path);
    return rc;
}

int bc_read_file(bc_db *db, const char *path, unsigned char **out, size_t *n)
{
    kv_file *f;
    uint64_t size;
    size_t got = 0;
    unsigned char *p = NULL;
    int rc = kv_env_open(db->env, path, KV_O_RDONLY, &f);

    if (rc != KV_OK)
        return rc;
    rc = kv_file_size(f, &size);
    if (rc == KV_OK && size > (uint64_t)SIZE_MAX / 2)
        rc = kv_fail(KV_ECORRUPT, "bitcask: %s is implausibly large", path);
    if (rc == KV_OK && !(p = kv_malloc((size_t)size + 1)))
        rc = kv_fail(KV_ENOMEM, "bitcask: out of memory reading %s", path);
    if (rc == KV_OK)
        rc = kv_file_pread(f, p, (size_t)size, 0, &got);
    if (rc == KV_OK && got != size)
        rc = kv_fail(KV_EIO, "bitcask: short read of %s", path);
    kv_file_close(f);
    if (rc != KV_OK) {
        kv_free(p);
        return rc;
    }
    *out = p;
    *n = (size_t)size;
    return KV_OK;
}

/* ---- finishing a committed merge -------------------------------------------- */

/* Remove one file if it is there. */
static int remove_file(bc_db *db, uint32_t id, const char *suffix)
{
    char *path = bc_path(db, id, suffix);
    int rc;

    if (!path)
        return kv_fail(KV_ENOMEM, "bitcask: out of memory");
    rc = kv_env_unlink(db->env, path);
    kv_free(path);
    return rc == KV_ENOTFOUND ? KV_OK : rc;
}

int bc_merge_finish(bc_db *db)
{
    char *path = bc_path_name(db, "MERGE");
    unsigned char *p = NULL;
    size_t n = 0;
    uint32_t count;
    int rc;

    if (!path)
        return kv_fail(KV_ENOMEM, "bitcask: out of memory");
    rc = bc_read_file(db, path, &p, &n);
    if (rc == KV_OK) {
        count = n >= 16 ? kv_load_le32(p + 8) : 0;
        if (n < 16 || memcmp(p, BC_MERGE_MAGIC, 8) != 0 || (n - 16) / 4 != count ||
            (n - 16) % 4 != 0 || kv_load_le32(p + n - 4) != kv_crc32c(0, p, n - 4))
            rc = kv_fail(KV_ECORRUPT, "bitcask: damaged merge record %s", path);
        for (uint32_t i = 0; rc == KV_OK && i < count; i++) {
            rc = remove_file(db, kv_load_le32(p + 12 + 4 * i), ".data");
            if (rc == KV_OK)
                rc = remove_file(db, kv_load_le32(p + 12 + 4 * i), ".hint");
        }
        if (rc == KV_OK)
            rc = kv_env_sync_dir(db->env, db->dir);
        if (rc == KV_OK)
            rc = kv_env_unlink(db->env, path);
        if (rc == KV_OK)
            rc = kv_env_sync_dir(db->env, db->dir);
    } else if (rc == KV_ENOTFOUND) {
        rc = KV_OK;
    }
    kv_free(p);
    kv_free(path);
    return rc;
}
