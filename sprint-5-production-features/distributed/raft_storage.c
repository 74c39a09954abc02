/*
 * raft_storage.c — a Raft node's durable state through a kv_env: the hard
 * state, the log and the snapshot (raft_node.h; byte layouts in
 * docs/formats/raft.md).
 *
 * Hard state: two 64-byte slots; each write goes to the slot the previous
 * one did not use, with a sequence number and a CRC, then fsync. At open
 * the valid slot with the higher sequence wins, so a write torn by a crash
 * leaves the previous hard state.
 *
 * Log: records [len u32][crc u32][term u64][index u64][type u8][data],
 * len covering term..data and crc their CRC32C. The storage remembers each
 * record's file offset, so replacing a suffix (a follower's conflict) is
 * one truncate, then one pwrite of every new record, then one fsync.
 * At open a record that runs past the end of the file, or the last record
 * with a bad CRC, is a torn tail: cut off (truncate + fsync). A bad record
 * with more bytes after it cannot come from a crash: KV_ECORRUPT.
 *
 * Snapshot: [magic u32][crc u32][index u64][term u64][len u64]
 * [voters u32][learners u32][data] (magic "RSN2"; the older "RSNP" has no
 * configuration words and means the initial configuration),
 * written to snap.tmp, fsynced, renamed over snap, directory synced; then
 * the log is rewritten the same way (log.tmp) without the entries up to
 * the snapshot. A crash between the two renames leaves an old log that
 * still holds those entries; open skips them.
 *
 * Deferred sync (raft_storage_set_deferred()): the hard state and log
 * writes skip their fsync and only mark the file dirty; raft_storage_flush()
 * fsyncs what is dirty. The writes still reach the OS before the call
 * returns, so a process that reopens the files sees them, but a machine
 * crash may lose them: a node in this mode may have granted a vote or
 * acknowledged an append that its disk forgets. Only the raftsim engine's
 * sync=none and sync=batch use it (every replica lives in one process on one
 * disk there, and the engine flushes at kv_sync and close). Snapshots are
 * always written durably (they are rare and rename over the old files).
 *
 * Callers must not use a storage after a failed write: close and reopen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "kvlabs/hash.h"
#include "raft_node.h"

#define HS_SLOT 64
#define HS_LEN 36
#define REC_HDR 8
#define REC_FIXED 17
#define SNAP_MAGIC 0x52534e50u /* "RSNP" */
#define SNAP_HDR 32
#define SNAP2_MAGIC 0x52534e32u /* "RSN2": with the configuration */
#define SNAP2_HDR 40

struct raft_storage {
    const kv_env *env;
    char *dir;
    kv_file *hs, *log;
    uint64_t hs_seq;
    uint64_t first;      /* index of the log file's first record */
    uint64_t *offs;      /* offs[i]: offset of record first + i */
    size_t n, cap;
    uint64_t end;        /* file size */
    bool deferred;       /* skip the fsync of hs and log writes (see above) */
    bool hs_dirty, log_dirty; /* written since their last fsync */
    unsigned mode;       /* permission bits of the files it creates */
};

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}
static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static char *path_of(const raft_storage *st, const char *name)
{
    size_t n = strlen(st->dir) + strlen(name) + 2;
    char *p = kv_malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", st->dir, name);
    return p;
}

static int open_file(raft_storage *st, const char *name, int flags, kv_file **f)
{
    char *p = path_of(st, name);
    if (p == NULL)
        return KV_ENOMEM;
    int rc = kv_env_open_mode(st->env, p, flags, st->mode, f);
    kv_free(p);
    return rc;
}

/* Read a whole file into a kv_malloc'd buffer. */
static int read_all(kv_file *f, uint8_t **buf, uint64_t *size)
{
    int rc = kv_file_size(f, size);
    if (rc)
        return rc;
    *buf = kv_malloc(*size ? (size_t)*size : 1);
    if (*buf == NULL)
        return KV_ENOMEM;
    size_t got = 0;
    if (*size && (rc = kv_file_pread(f, *buf, (size_t)*size, 0, &got)) == KV_OK && got != *size)
        rc = kv_fail(KV_EIO, "raft storage: short read");
    if (rc) {
        kv_free(*buf);
        *buf = NULL;
    }
    return rc;
}

static int push_off(raft_storage *st, uint64_t off)
{
    if (st->n == st->cap) {
        size_t cap = st->cap ? 2 * st->cap : 256;
        uint64_t *o = kv_realloc(st->offs, cap * sizeof *o);
        if (o == NULL)
            return KV_ENOMEM;
        st->offs = o;
        st->cap = cap;
    }
    st->offs[st->n++] = off;
    return KV_OK;
}

/* ---- hard state ----------------------------------------------------------- */

static int load_hs(raft_storage *st, raft_hard_state *hs)
{
    uint8_t *buf;
    uint64_t size;
    int rc = read_all(st->hs, &buf, &size);
    if (rc)
        return rc;
    *hs = (raft_hard_state){ .vote = RAFT_NONE };
    bool any = false;
    for (uint64_t s = 0; s < 2; s++) {
        const uint8_t *p = buf + s * HS_SLOT;
        if (s * HS_SLOT + HS_LEN > size || get32(p + 32) != kv_crc32c(0, p, 32))
            continue;
        uint64_t seq = get64(p);
        if (any && seq < st->hs_seq)
            continue;
        any = true;
        st->hs_seq = seq;
        hs->term = get64(p + 8);
        uint32_t v = get32(p + 16);
        hs->vote = v;
        hs->commit = get64(p + 24);
    }
    /* No valid slot: nothing was ever synced (only the last write can be
     * torn, and the first write is the only one with no older slot). */
    kv_free(buf);
    return rc;
}

int raft_storage_save_hs(raft_storage *st, const raft_hard_state *hs)
{
    /* STUB: (void)st; (void)hs; return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__); */
    /* BEGIN SOLUTION */
    uint8_t p[HS_LEN];
    uint64_t seq = st->hs_seq + 1;
    put64(p, seq);
    put64(p + 8, hs->term);
    put32(p + 16, hs->vote);
    put32(p + 20, 0);
    put64(p + 24, hs->commit);
    put32(p + 32, kv_crc32c(0, p, 32));
    int rc = kv_file_pwrite(st->hs, p, HS_LEN, (seq & 1) * HS_SLOT);
    if (rc == KV_OK && st->deferred)
        st->hs_dirty = true;
    else if (rc == KV_OK)
        rc = kv_file_sync(st->hs);
    if (rc == KV_OK)
        st->hs_seq = seq;
    return rc;
    /* END SOLUTION */
}

/* ---- log ------------------------------------------------------------------ */

static size_t encode_entries(uint8_t *out, const raft_entry *e, size_t n)
{
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = out + off;
        uint32_t len = REC_FIXED + e[i].len;
        put32(p, len);
        put64(p + 8, e[i].term);
        put64(p + 16, e[i].index);
        p[24] = e[i].type;
        if (e[i].len)
            memcpy(p + 25, e[i].data, e[i].len);
        put32(p + 4, kv_crc32c(0, p + REC_HDR, len));
        off += REC_HDR + len;
    }
    return off;
}

static size_t encoded_size(const raft_entry *e, size_t n)
{
    size_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += REC_HDR + REC_FIXED + e[i].len;
    return s;
}

int raft_storage_append(raft_storage *st, const raft_entry *e, size_t n)
{
    if (n == 0)
        return KV_OK;
    uint64_t idx = e[0].index;
    if (st->n == 0)
        st->first = idx;
    if (idx < st->first || idx > st->first + st->n)
        return kv_fail(KV_EINVAL, "raft storage: append at %llu leaves a gap",
                       (unsigned long long)idx);
    int rc;
    if (idx < st->first + st->n) { /* replace a suffix */
        uint64_t cut = st->offs[idx - st->first];
        if ((rc = kv_file_truncate(st->log, cut)))
            return rc;
        st->n = (size_t)(idx - st->first);
        st->end = cut;
    }
    size_t size = encoded_size(e, n);
    uint8_t *buf = kv_malloc(size);
    if (buf == NULL)
        return KV_ENOMEM;
    encode_entries(buf, e, n);
    uint64_t off = st->end;
    for (size_t i = 0; i < n; i++) {
        if ((rc = push_off(st, off)))
            goto out_free_buf;
        off += REC_HDR + REC_FIXED + e[i].len;
    }
    if ((rc = kv_file_pwrite(st->log, buf, size, st->end)) == KV_OK && st->deferred)
        st->log_dirty = true;
    else if (rc == KV_OK)
        rc = kv_file_sync(st->log);
    if (rc == KV_OK)
        st->end += size;
    else
        st->n -= n;
out_free_buf:
    kv_free(buf);
    return rc;
}

/* Parse the log file; entries after skip_to are returned in boot. */
static int load_log(raft_storage *st, raft_boot *boot)
{
    uint8_t *buf;
    uint64_t size;
    int rc = read_all(st->log, &buf, &size);
    if (rc)
        return rc;
    uint64_t off = 0;
    while (off + REC_HDR <= size) {
        const uint8_t *p = buf + off;
        uint32_t len = get32(p);
        if (len > size - off - REC_HDR)
            break; /* runs past the end: torn */
        if (len < REC_FIXED || get32(p + 4) != kv_crc32c(0, p + REC_HDR, len)) {
            if (off + REC_HDR + len == size)
                break; /* the last record: torn */
            rc = kv_fail(KV_ECORRUPT, "raft log: bad record at offset %llu",
                         (unsigned long long)off);
            goto out_free_buf;
        }
        uint64_t index = get64(p + 16);
        if (st->n == 0)
            st->first = index;
        else if (index != st->first + st->n) {
            rc = kv_fail(KV_ECORRUPT, "raft log: index %llu out of sequence",
                         (unsigned long long)index);
            goto out_free_buf;
        }
        if ((rc = push_off(st, off)))
            goto out_free_buf;
        off += REC_HDR + len;
    }
    /* STUB: if (off != size) { rc = kv_fail(KV_ENOTSUP, "not implemented: %s cuts no torn tail", __func__); goto out_free_buf; } */
    /* BEGIN SOLUTION */
    if (off != size) { /* cut the torn tail */
        if ((rc = kv_file_truncate(st->log, off)) || (rc = kv_file_sync(st->log)))
            goto out_free_buf;
    }
    /* END SOLUTION */
    st->end = off;
    /* Entries after the snapshot go to boot. If the log holds the snapshot's
     * index with another term, or starts after it, the log is not a
     * continuation of the snapshot: keep none of it. */
    uint64_t si = boot->snap.index;
    bool keep = true;
    if (st->n && si) {
        if (st->first > si + 1)
            keep = false;
        else if (si >= st->first && si < st->first + st->n) {
            const uint8_t *p = buf + st->offs[si - st->first];
            keep = get64(p + 8) == boot->snap.term;
        }
    }
    if (!keep) {
        if ((rc = kv_file_truncate(st->log, 0)) || (rc = kv_file_sync(st->log)))
            goto out_free_buf;
        st->n = 0;
        st->end = 0;
    }
    size_t from = 0;
    if (st->n && si >= st->first)
        from = (size_t)(si + 1 - st->first);
    if (from < st->n) {
        boot->entries = kv_calloc(st->n - from, sizeof *boot->entries);
        if (boot->entries == NULL) {
            rc = KV_ENOMEM;
            goto out_free_buf;
        }
        for (size_t i = from; i < st->n; i++) {
            const uint8_t *p = buf + st->offs[i];
            raft_entry *e = &boot->entries[boot->n_entries++];
            e->len = get32(p) - REC_FIXED;
            e->term = get64(p + 8);
            e->index = get64(p + 16);
            e->type = p[24];
            e->data = kv_malloc(e->len ? e->len : 1);
            if (e->data == NULL) {
                rc = KV_ENOMEM;
                goto out_free_buf;
            }
            memcpy(e->data, p + 25, e->len);
        }
    }
out_free_buf:
    kv_free(buf);
    return rc;
}

/* ---- snapshot --------------------------------------------------------------- */

static int load_snap(raft_storage *st, raft_boot *boot)
{
    kv_file *f;
    int rc = open_file(st, "snap", KV_O_RDONLY, &f);
    if (rc == KV_ENOTFOUND)
        return KV_OK;
    if (rc)
        return rc;
    uint8_t *buf;
    uint64_t size;
    rc = read_all(f, &buf, &size);
    kv_file_close(f);
    if (rc)
        return rc;
    uint64_t hdr = size >= 4 && get32(buf) == SNAP2_MAGIC ? SNAP2_HDR : SNAP_HDR;
    if (size < hdr || (get32(buf) != SNAP_MAGIC && get32(buf) != SNAP2_MAGIC) ||
        get64(buf + 24) != size - hdr || get32(buf + 4) != kv_crc32c(0, buf + 8, (size_t)size - 8)) {
        kv_free(buf);
        return kv_fail(KV_ECORRUPT, "raft snapshot: bad header or checksum");
    }
    boot->snap.index = get64(buf + 8);
    boot->snap.term = get64(buf + 16);
    boot->snap.len = (size_t)(size - hdr);
    if (hdr == SNAP2_HDR) {
        boot->snap.conf.voters = get32(buf + 32);
        boot->snap.conf.learners = get32(buf + 36);
    }
    memmove(buf, buf + hdr, boot->snap.len);
    boot->snap.data = buf;
    return KV_OK;
}

/* Write name.tmp with bytes, fsync, rename over name, sync the directory. */
static int replace_file(raft_storage *st, const char *name, const uint8_t *bytes, size_t len,
                        kv_file **keep)
{
    char tmp[64], *tp = NULL, *np = NULL;
    snprintf(tmp, sizeof tmp, "%s.tmp", name);
    kv_file *f = NULL;
    int rc = open_file(st, tmp, KV_O_RDWR | KV_O_CREAT | KV_O_TRUNC, &f);
    if (rc)
        return rc;
    if (len && (rc = kv_file_pwrite(f, bytes, len, 0)))
        goto out_close;
    if ((rc = kv_file_sync(f)))
        goto out_close;
    tp = path_of(st, tmp);
    np = path_of(st, name);
    if (tp == NULL || np == NULL) {
        rc = KV_ENOMEM;
        goto out_close;
    }
    if ((rc = kv_env_rename(st->env, tp, np)) || (rc = kv_env_sync_dir(st->env, st->dir)))
        goto out_close;
    if (keep) {
        *keep = f;
        f = NULL;
    }
out_close:
    if (f)
        kv_file_close(f);
    kv_free(tp);
    kv_free(np);
    return rc;
}

int raft_storage_save_snapshot(raft_storage *st, const raft_snapshot *snap,
                               const raft_entry *rest, size_t n_rest)
{
    size_t size = SNAP2_HDR + snap->len;
    uint8_t *buf = kv_malloc(size);
    if (buf == NULL)
        return KV_ENOMEM;
    put32(buf, SNAP2_MAGIC);
    put64(buf + 8, snap->index);
    put64(buf + 16, snap->term);
    put64(buf + 24, snap->len);
    put32(buf + 32, snap->conf.voters);
    put32(buf + 36, snap->conf.learners);
    if (snap->len)
        memcpy(buf + SNAP2_HDR, snap->data, snap->len);
    put32(buf + 4, kv_crc32c(0, buf + 8, size - 8));
    int rc = replace_file(st, "snap", buf, size, NULL);
    kv_free(buf);
    if (rc)
        return rc;
    /* The log without the entries the snapshot covers. */
    size = encoded_size(rest, n_rest);
    buf = kv_malloc(size ? size : 1);
    if (buf == NULL)
        return KV_ENOMEM;
    encode_entries(buf, rest, n_rest);
    kv_file *nf = NULL;
    rc = replace_file(st, "log", buf, size, &nf);
    kv_free(buf);
    if (rc)
        return rc;
    kv_file_close(st->log);
    st->log = nf;
    st->log_dirty = false; /* replace_file synced the new log */
    st->n = 0;
    st->first = n_rest ? rest[0].index : snap->index + 1;
    uint64_t off = 0;
    for (size_t i = 0; i < n_rest; i++) {
        if ((rc = push_off(st, off)))
            return rc;
        off += REC_HDR + REC_FIXED + rest[i].len;
    }
    st->end = off;
    return KV_OK;
}

/* ---- open and close --------------------------------------------------------- */

void raft_boot_free(raft_boot *boot)
{
    for (size_t i = 0; i < boot->n_entries; i++)
        kv_free(boot->entries[i].data);
    kv_free(boot->entries);
    kv_free(boot->snap.data);
    memset(boot, 0, sizeof *boot);
}

int raft_storage_open(const kv_env *env, const char *dir, raft_storage **out, raft_boot *boot)
{
    return raft_storage_open_mode(env, dir, 0600, out, boot);
}

int raft_storage_open_mode(const kv_env *env, const char *dir, unsigned mode,
                           raft_storage **out, raft_boot *boot)
{
    *out = NULL;
    memset(boot, 0, sizeof *boot);
    boot->hs.vote = RAFT_NONE;
    raft_storage *st = kv_calloc(1, sizeof *st);
    if (st == NULL)
        return KV_ENOMEM;
    st->env = env;
    st->mode = mode;
    int rc = KV_ENOMEM;
    size_t dl = strlen(dir);
    if ((st->dir = kv_malloc(dl + 1)) == NULL)
        goto out_free_st;
    memcpy(st->dir, dir, dl + 1);
    if ((rc = kv_env_mkdir_durable_mode(env, dir, kv_mode_dir_of(mode))))
        goto out_free_st;
    const int fl = KV_O_RDWR | KV_O_CREAT;
    if ((rc = open_file(st, "hardstate", fl, &st->hs)) || (rc = open_file(st, "log", fl, &st->log)))
        goto out_close;
    if ((rc = kv_env_sync_dir(env, dir))) /* the files exist after a crash */
        goto out_close;
    if ((rc = load_hs(st, &boot->hs)) || (rc = load_snap(st, boot)) || (rc = load_log(st, boot)))
        goto out_close;
    if (st->n == 0)
        st->first = boot->snap.index + 1;
    if (boot->hs.commit < boot->snap.index)
        boot->hs.commit = boot->snap.index;
    *out = st;
    return KV_OK;
out_close:
    raft_boot_free(boot);
    boot->hs.vote = RAFT_NONE;
    if (st->hs)
        kv_file_close(st->hs);
    if (st->log)
        kv_file_close(st->log);
out_free_st:
    kv_free(st->offs);
    kv_free(st->dir);
    kv_free(st);
    return rc;
}

void raft_storage_set_deferred(raft_storage *st, bool deferred)
{
    st->deferred = deferred;
}

int raft_storage_flush(raft_storage *st)
{
    int rc;
    if (st->hs_dirty) {
        if ((rc = kv_file_sync(st->hs)))
            return rc;
        st->hs_dirty = false;
    }
    if (st->log_dirty) {
        if ((rc = kv_file_sync(st->log)))
            return rc;
        st->log_dirty = false;
    }
    return KV_OK;
}

void raft_storage_close(raft_storage *st)
{
    if (st == NULL)
        return;
    kv_file_close(st->hs);
    kv_file_close(st->log);
    kv_free(st->offs);
    kv_free(st->dir);
    kv_free(st);
}
