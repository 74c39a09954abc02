/*
 * shm_snapshot.c — snapshots of a shared-memory store to a file, and restore.
 *
 * What this layer is. `kvshm snapshot DIR FILE` saves every entry of a live
 * store; `kvshm restore DIR FILE` replaces a store's contents by a saved
 * one. The file is a plain stream of CRC32C-framed records, independent of
 * the segment's layout (so a snapshot can move to a store with another
 * shard count or to another machine). Format, little-endian (also in
 * docs/formats/shm.md):
 *
 *   header   16 bytes  "KVSHMSNP" | version u32 (1) | hcrc u32 = crc32c(bytes 0..11)
 *   record   12 + klen + vlen bytes, repeated:
 *                      rcrc u32 = crc32c(bytes 4..end of the record) | klen u32 | vlen u32
 *                      | key | value
 *   trailer  24 bytes  "KVSHMEND" | count u64 | fcrc u32 = crc32c(every byte before
 *                      the trailer) | tcrc u32 = crc32c(trailer bytes 0..19)
 *
 * How it works.
 *  - Snapshot: every shard is locked (in order) while the entries are
 *    copied out, so the file is one instant of the store — writers wait for
 *    the time it takes. The file is written as FILE.tmp, synced, renamed
 *    over FILE and its directory synced: a crash leaves the old snapshot or
 *    the new one, never half of one. FILE.tmp is created with the store's
 *    `mode=` file mode (0600 by default): a snapshot holds the store's data
 *    and is exactly as private as the store.
 *  - Restore: the whole file is read and checked first (header, every
 *    record's CRC and lengths, the trailer's count and whole-file CRC, the
 *    store's limits). Only a file that passes changes the store: it is
 *    cleared, then each record is put. Other processes may see the store
 *    half restored meanwhile (restore is not atomic across keys), and a
 *    KV_EFULL midway leaves it so.
 *
 * Nothing in the file is trusted: every length is checked against the file
 * and the limits before it is used; a bad file is KV_ECORRUPT.
 */
#include <stdio.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "kvlabs/hash.h"
#include "shm.h"

#define SNAP_MAGIC   "KVSHMSNP"
#define SNAP_END     "KVSHMEND"
#define SNAP_VERSION 1u
#define SNAP_HDR     16
#define SNAP_REC     12
#define SNAP_TRAILER 24
#define WBUF         (1u << 20)

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* ---- writing ------------------------------------------------------------------- */

typedef struct writer {
    kv_file *f;
    unsigned char *buf;
    size_t n;
    uint64_t off, count;
    uint32_t fcrc;
    int rc;
} writer;

static void w_flush(writer *w)
{
    if (w->rc == KV_OK && w->n)
        w->rc = kv_file_pwrite(w->f, w->buf, w->n, w->off);
    w->off += w->n;
    w->n = 0;
}

static void w_bytes(writer *w, const void *p, size_t n)
{
    const unsigned char *b = p;

    w->fcrc = kv_crc32c(w->fcrc, p, n);
    while (n && w->rc == KV_OK) {
        size_t k = WBUF - w->n < n ? WBUF - w->n : n;
        memcpy(w->buf + w->n, b, k);
        w->n += k;
        b += k;
        n -= k;
        if (w->n == WBUF)
            w_flush(w);
    }
}

static int w_record(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    writer *w = arg;
    unsigned char h[SNAP_REC];
    uint32_t crc;

    put32(h + 4, (uint32_t)klen);
    put32(h + 8, (uint32_t)vlen);
    crc = kv_crc32c(0, h + 4, 8);
    crc = kv_crc32c(crc, key, klen);
    crc = kv_crc32c(crc, val, vlen);
    put32(h, crc);
    w_bytes(w, h, sizeof(h));
    w_bytes(w, key, klen);
    w_bytes(w, val, vlen);
    w->count++;
    return w->rc;
}

/* The directory part of a path ("." for a bare name). */
static char *parent_of(const char *file)
{
    const char *slash = strrchr(file, '/');
    size_t n = slash ? (size_t)(slash - file) : 1;
    char *p = kv_malloc(n + 2);

    if (!p)
        return NULL;
    if (!slash)
        memcpy(p, ".", 2);
    else {
        memcpy(p, file, n ? n : 1); /* "/x" -> "/" */
        p[n ? n : 1] = '\0';
    }
    return p;
}

int kvshm_snapshot(kvshm_db *db, const char *file, uint64_t *count)
{
    const kv_env *env = db->seg.env;
    size_t tlen = strlen(file) + 5;
    char *tmp = kv_malloc(tlen), *dir = parent_of(file);
    unsigned char h[SNAP_TRAILER];
    writer w = {0};
    int rc;

    w.buf = kv_malloc(WBUF);
    if (!tmp || !dir || !w.buf) {
        rc = kv_fail(KV_ENOMEM, "shm: out of memory for a snapshot");
        goto out_free;
    }
    snprintf(tmp, tlen, "%s.tmp", file);
    rc = kv_env_open_mode(env, tmp, KV_O_RDWR | KV_O_CREAT | KV_O_TRUNC, db->seg.file_mode, &w.f);
    if (rc != KV_OK)
        goto out_free;
    memcpy(h, SNAP_MAGIC, 8);
    put32(h + 8, SNAP_VERSION);
    put32(h + 12, kv_crc32c(0, h, 12));
    w_bytes(&w, h, SNAP_HDR);
    rc = kvshm_scan(db, NULL, 0, true, w_record, &w);
    if (rc == KV_OK)
        rc = w.rc;
    memcpy(h, SNAP_END, 8);
    put64(h + 8, w.count);
    put32(h + 16, w.fcrc);
    put32(h + 20, kv_crc32c(0, h, 20));
    if (rc == KV_OK) {
        w_bytes(&w, h, SNAP_TRAILER);
        w_flush(&w);
        rc = w.rc;
    }
    if (rc == KV_OK)
        rc = kv_file_sync(w.f);
    kv_file_close(w.f);
    if (rc == KV_OK)
        rc = kv_env_rename(env, tmp, file);
    if (rc == KV_OK)
        rc = kv_env_sync_dir(env, dir);
    if (rc != KV_OK)
        kv_env_unlink(env, tmp);
    kvshm_log(&db->seg, KVSHM_OP_SNAPSHOT, rc, NULL, (size_t)w.count, 0);
    if (rc == KV_OK && count)
        *count = w.count;
out_free:
    kv_free(w.buf);
    kv_free(tmp);
    kv_free(dir);
    return rc;
}

/* ---- reading -------------------------------------------------------------------- */

typedef struct reader {
    kv_file *f;
    uint64_t off, size;
    unsigned char *buf;
    size_t cap;
} reader;

/* Read exactly n bytes at r->off into r->buf (grown); short is KV_ECORRUPT. */
static int r_read(reader *r, size_t n)
{
    size_t got = 0;
    int rc;

    if (n > r->size - r->off)
        return kv_fail(KV_ECORRUPT, "shm: snapshot truncated at offset %llu",
                       (unsigned long long)r->off);
    if (n > r->cap) {
        unsigned char *b = kv_realloc(r->buf, n);
        if (!b)
            return kv_fail(KV_ENOMEM, "shm: out of memory reading a snapshot");
        r->buf = b;
        r->cap = n;
    }
    rc = kv_file_pread(r->f, r->buf, n, r->off, &got);
    if (rc == KV_OK && got != n)
        rc = kv_fail(KV_ECORRUPT, "shm: snapshot shorter than its size");
    r->off += n;
    return rc;
}

/*
 * One pass over the file. Pass 0 checks everything (and the store's
 * limits: KV_ETOOBIG after a clean pass); pass 1 puts each record.
 */
static int r_pass(reader *r, kvshm_db *db, int pass, uint64_t *count)
{
    uint64_t n = 0, end = r->size - SNAP_TRAILER, toobig = 0;
    uint32_t fcrc = 0;
    int rc;

    r->off = 0;
    if (r->size < SNAP_HDR + SNAP_TRAILER)
        return kv_fail(KV_ECORRUPT, "shm: snapshot too short (%llu bytes)",
                       (unsigned long long)r->size);
    rc = r_read(r, SNAP_HDR);
    if (rc != KV_OK)
        return rc;
    if (memcmp(r->buf, SNAP_MAGIC, 8) || kv_load_le32(r->buf + 8) != SNAP_VERSION ||
        kv_load_le32(r->buf + 12) != kv_crc32c(0, r->buf, 12))
        return kv_fail(KV_ECORRUPT, "shm: not a kvshm snapshot (bad header)");
    fcrc = kv_crc32c(fcrc, r->buf, SNAP_HDR);
    while (r->off < end) {
        uint32_t klen, vlen;
        if (end - r->off < SNAP_REC)
            return kv_fail(KV_ECORRUPT, "shm: snapshot record cut short");
        rc = r_read(r, SNAP_REC);
        if (rc != KV_OK)
            return rc;
        klen = kv_load_le32(r->buf + 4);
        vlen = kv_load_le32(r->buf + 8);
        if (klen == 0 || klen > KVSHM_LIMIT_KEY || vlen > KVSHM_LIMIT_VALUE ||
            (uint64_t)klen + vlen > end - r->off)
            return kv_fail(KV_ECORRUPT, "shm: snapshot record %llu has impossible lengths",
                           (unsigned long long)n);
        r->off -= SNAP_REC; /* reread header and payload as one piece */
        rc = r_read(r, SNAP_REC + (size_t)klen + vlen);
        if (rc != KV_OK)
            return rc;
        if (kv_load_le32(r->buf) != kv_crc32c(0, r->buf + 4, 8 + (size_t)klen + vlen))
            return kv_fail(KV_ECORRUPT, "shm: snapshot record %llu fails its CRC",
                           (unsigned long long)n);
        fcrc = kv_crc32c(fcrc, r->buf, SNAP_REC + (size_t)klen + vlen);
        if (klen > db->seg.max_key || vlen > db->seg.max_value)
            toobig++;
        else if (pass == 1) {
            rc = kv_put(&db->base, r->buf + SNAP_REC, klen, r->buf + SNAP_REC + klen, vlen);
            if (rc != KV_OK)
                return rc;
        }
        n++;
    }
    rc = r_read(r, SNAP_TRAILER);
    if (rc != KV_OK)
        return rc;
    if (memcmp(r->buf, SNAP_END, 8) || kv_load_le32(r->buf + 20) != kv_crc32c(0, r->buf, 20) ||
        kv_load_le64(r->buf + 8) != n || kv_load_le32(r->buf + 16) != fcrc)
        return kv_fail(KV_ECORRUPT, "shm: snapshot trailer does not match its records");
    if (toobig)
        return kv_fail(KV_ETOOBIG,
                       "shm: %llu snapshot entries exceed the store's limits "
                       "(max_key=%llu, max_value=%llu)",
                       (unsigned long long)toobig, (unsigned long long)db->seg.max_key,
                       (unsigned long long)db->seg.max_value);
    *count = n;
    return KV_OK;
}

int kvshm_restore(kvshm_db *db, const char *file, uint64_t *count)
{
    reader r = {0};
    uint64_t n = 0;
    int rc = kv_env_open(db->seg.env, file, KV_O_RDONLY, &r.f);

    if (rc != KV_OK)
        return rc;
    rc = kv_file_size(r.f, &r.size);
    if (rc == KV_OK)
        rc = r_pass(&r, db, 0, &n);
    if (rc == KV_OK)
        rc = kvshm_clear(db);
    if (rc == KV_OK)
        rc = r_pass(&r, db, 1, &n);
    kv_file_close(r.f);
    kv_free(r.buf);
    kvshm_log(&db->seg, KVSHM_OP_RESTORE, rc, NULL, (size_t)n, 0);
    if (rc == KV_OK && count)
        *count = n;
    return rc;
}
