/*
 * cow_log.c — the commit log: the durability point of every commit.
 *
 * A commit appends one record: a 32-byte header (magic, CRC32C of the rest
 * of the header, log generation, txnid, payload length, op count), the
 * payload (each op: u8 kind, u16 klen, u32 vlen, key, value) and an 8-byte
 * trailer (CRC32C of the payload, magic "CEND"). The header CRC lets a
 * reader trust the length before it reads the payload; the trailer proves
 * the whole record reached the disk. cow_rec_decode() returns 0 for any
 * record that is short, torn or damaged: replay stops there, cleanly when
 * the record is short (a crash), with KV_ECORRUPT when cow_rec_damaged()
 * says its header vouched for a length the file holds (a bit flip in bytes
 * that were written whole).
 *
 * Why the log makes small commits cheap. Without it, a durable commit
 * must write every page on the path from leaf to root, fsync, write the
 * meta page and fsync again (LMDB's protocol): two fsyncs and several pages
 * per commit. With it, a commit is one sequential append of the changed
 * keys and values, and sync=always costs one fsync, shared by every commit
 * waiting at that moment (group commit, cow_log_sync_to). The pages are
 * written later, many commits at once, by a checkpoint.
 *
 * Generations. A checkpoint, once its meta is durable, restarts the log
 * (truncate, new header with generation+1). Every record carries the
 * generation, so bytes of an older generation left behind by a crash
 * during the restart never replay.
 *
 * What callers must not do: append without the writer lock; trust a length
 * before cow_rec_decode() accepted the record.
 */
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "kvlabs/hash.h"
#include "cow_int.h"

void cow_log_header_encode(uint64_t gen, unsigned char *buf)
{
    memset(buf, 0, COW_LOG_HDR);
    cow_st32(buf, COW_LOG_MAGIC);
    cow_st32(buf + 4, COW_VERSION);
    cow_st64(buf + 8, gen);
    cow_st32(buf + 20, kv_crc32c(0, buf, 20));
}

int cow_log_header_decode(const unsigned char *buf, size_t len, uint64_t *gen)
{
    if (len < COW_LOG_HDR || cow_ld32(buf) != COW_LOG_MAGIC ||
        cow_ld32(buf + 20) != kv_crc32c(0, buf, 20) || cow_ld32(buf + 4) != COW_VERSION)
        return KV_ECORRUPT;
    *gen = cow_ld64(buf + 8);
    return *gen ? KV_OK : KV_ECORRUPT;
}

size_t cow_rec_decode(const unsigned char *buf, size_t len, cow_rec *r)
{
    /* STUB: (void)buf; (void)len; (void)r; kv_fail(KV_ENOTSUP, "not implemented: %s", __func__); return 0; */
    /* BEGIN SOLUTION */
    uint64_t plen;
    const unsigned char *t;

    if (len < COW_REC_HDR + COW_REC_TRL || cow_ld32(buf) != COW_REC_MAGIC ||
        cow_ld32(buf + 4) != kv_crc32c(0, buf + 8, COW_REC_HDR - 8))
        return 0;
    plen = cow_ld32(buf + 24);
    if (plen > len - COW_REC_HDR - COW_REC_TRL)
        return 0;
    t = buf + COW_REC_HDR + plen;
    if (cow_ld32(t + 4) != COW_END_MAGIC || cow_ld32(t) != kv_crc32c(0, buf + COW_REC_HDR, plen))
        return 0;
    r->gen = cow_ld64(buf + 8);
    r->txnid = cow_ld64(buf + 16);
    r->plen = (uint32_t)plen;
    r->nops = cow_ld32(buf + 28);
    r->payload = buf + COW_REC_HDR;
    return COW_REC_HDR + plen + COW_REC_TRL;
    /* END SOLUTION */
}

bool cow_rec_damaged(const unsigned char *buf, size_t len)
{
    /* the header vouches for a length the file holds, yet the record fails: not a tear
       (a crash leaves a record short), but damage to bytes that were written whole */
    return len >= COW_REC_HDR + COW_REC_TRL && cow_ld32(buf) == COW_REC_MAGIC &&
           cow_ld32(buf + 4) == kv_crc32c(0, buf + 8, COW_REC_HDR - 8) &&
           cow_ld32(buf + 24) <= len - COW_REC_HDR - COW_REC_TRL;
}

int cow_op_next(const cow_rec *r, size_t *pos, cow_op *op)
{
    /* STUB: (void)r; (void)pos; (void)op; return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__); */
    /* BEGIN SOLUTION */
    const unsigned char *p = r->payload + *pos;
    size_t left = r->plen - *pos;

    if (left < COW_OP_HDR)
        return KV_ECORRUPT;
    op->kind = p[0];
    op->kl = cow_ld16(p + 1);
    op->vl = cow_ld32(p + 3);
    if ((op->kind != COW_OP_PUT && op->kind != COW_OP_DEL) || op->kl == 0 ||
        (op->kind == COW_OP_DEL && op->vl != 0) || (uint64_t)op->kl + op->vl > left - COW_OP_HDR)
        return KV_ECORRUPT;
    op->k = p + COW_OP_HDR;
    op->v = op->k + op->kl;
    *pos += COW_OP_HDR + (size_t)op->kl + op->vl;
    return KV_OK;
    /* END SOLUTION */
}

int cow_log_decode_ops(const cow_rec *r, size_t max_key, size_t max_value)
{
    size_t pos = 0;
    cow_op op = {0}; /* the starter's stub of cow_op_next leaves it unset */
    for (uint32_t i = 0; i < r->nops; i++) {
        if (cow_op_next(r, &pos, &op) != KV_OK || op.kl > max_key || op.vl > max_value)
            return KV_ECORRUPT;
    }
    return pos == r->plen ? KV_OK : KV_ECORRUPT;
}

int cow_rec_op_append(unsigned char **buf, size_t *len, size_t *cap, unsigned kind, const void *k,
                      size_t kl, const void *v, size_t vl)
{
    size_t need = *len + COW_OP_HDR + kl + vl + COW_REC_TRL;
    unsigned char *p;

    if (need > UINT32_MAX)
        return kv_fail(KV_ETOOBIG, "cowbtree: transaction larger than 4 GiB");
    if (need > *cap) {
        size_t nc = *cap ? *cap : 256;
        while (nc < need)
            nc *= 2;
        p = kv_realloc(*buf, nc);
        if (!p)
            return kv_fail(KV_ENOMEM, "cowbtree: out of memory for the commit record");
        *buf = p;
        *cap = nc;
    }
    p = *buf + *len;
    p[0] = (unsigned char)kind;
    cow_st16(p + 1, (uint16_t)kl);
    cow_st32(p + 3, (uint32_t)vl);
    memcpy(p + COW_OP_HDR, k, kl);
    if (vl)
        memcpy(p + COW_OP_HDR + kl, v, vl);
    *len += COW_OP_HDR + kl + vl;
    return KV_OK;
}

/* buf: COW_REC_HDR bytes of room, then plen payload bytes, then room for the trailer */
void cow_rec_frame(unsigned char *buf, size_t plen, uint64_t gen, uint64_t txnid, uint32_t nops)
{
    unsigned char *t = buf + COW_REC_HDR + plen;
    cow_st32(buf, COW_REC_MAGIC);
    cow_st64(buf + 8, gen);
    cow_st64(buf + 16, txnid);
    cow_st32(buf + 24, (uint32_t)plen);
    cow_st32(buf + 28, nops);
    cow_st32(buf + 4, kv_crc32c(0, buf + 8, COW_REC_HDR - 8));
    cow_st32(t, kv_crc32c(0, buf + COW_REC_HDR, plen));
    cow_st32(t + 4, COW_END_MAGIC);
}

int cow_log_reset(cow_log *l, uint64_t gen)
{
    unsigned char h[COW_LOG_HDR];
    int rc;

    pthread_mutex_lock(&l->sync_lock);
    while (l->syncing)
        pthread_cond_wait(&l->cv, &l->sync_lock);
    cow_log_header_encode(gen, h);
    rc = kv_file_truncate(l->f, 0);
    if (rc == KV_OK)
        rc = kv_file_pwrite(l->f, h, sizeof(h), 0);
    if (rc == KV_OK)
        rc = kv_file_sync(l->f);
    if (rc == KV_OK) {
        l->gen = gen;
        l->end = l->synced = COW_LOG_HDR;
    }
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->sync_lock);
    return rc;
}

int cow_log_append(cow_log *l, const void *buf, size_t n)
{
    int rc = kv_file_pwrite(l->f, buf, n, l->end);
    if (rc == KV_OK) {
        pthread_mutex_lock(&l->sync_lock);
        l->end += n;
        pthread_mutex_unlock(&l->sync_lock);
    }
    return rc;
}

int cow_log_sync_to(cow_log *l, uint64_t gen, uint64_t pos)
{
    int rc = KV_OK;

    pthread_mutex_lock(&l->sync_lock);
    while (l->gen == gen && l->synced < pos) {
        if (l->syncing) {
            pthread_cond_wait(&l->cv, &l->sync_lock);
            continue;
        }
        uint64_t target = l->end; /* one fsync covers every record appended so far */
        l->syncing = true;
        pthread_mutex_unlock(&l->sync_lock);
        rc = kv_file_sync(l->f);
        pthread_mutex_lock(&l->sync_lock);
        l->syncing = false;
        if (rc == KV_OK && target > l->synced)
            l->synced = target;
        pthread_cond_broadcast(&l->cv);
        if (rc != KV_OK)
            break;
    }
    pthread_mutex_unlock(&l->sync_lock);
    return rc;
}
