/*
 * cow_meta.c — the two meta pages, A (page 0) and B (page 1).
 *
 * A meta page names one durable version of the tree: its transaction id,
 * root page, the file's page high-water mark, and the commit-log position
 * (generation, offset) from which recovery replays. A checkpoint writes the
 * meta slot that does not hold the newest valid meta, so a torn meta write
 * can only damage the older one: open then picks the other (the previous
 * checkpoint) and replays the log from its position. Only the first 128
 * bytes of a meta page are used and checksummed (CRC32C of bytes 4..127).
 *
 * What callers must not do: use a meta that cow_meta_decode() rejected;
 * write both slots except at a clean close (cow_checkpoint(both_metas)).
 */
#include <string.h>

#include "kvlabs/error.h"
#include "kvlabs/hash.h"
#include "cow_int.h"

void cow_meta_encode(const cow_meta *m, unsigned char *buf)
{
    memset(buf, 0, COW_META_LEN);
    buf[4] = COW_PT_META;
    cow_st64(buf + 8, COW_MAGIC);
    cow_st32(buf + 16, COW_VERSION);
    cow_st32(buf + 20, m->page_size);
    cow_st64(buf + 24, m->txnid);
    cow_st64(buf + 32, m->root);
    cow_st64(buf + 40, m->next_pgno);
    cow_st64(buf + 48, m->log_gen);
    cow_st64(buf + 56, m->log_pos);
    cow_st64(buf + 64, m->keys);
    cow_st64(buf + 72, m->bytes);
    cow_st32(buf, kv_crc32c(0, buf + 4, COW_META_LEN - 4));
}

int cow_meta_decode(const unsigned char *buf, size_t len, cow_meta *m)
{
    /* STUB: (void)buf; (void)len; (void)m; return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__); */
    /* BEGIN SOLUTION */
    if (len < COW_META_LEN || cow_ld32(buf) != kv_crc32c(0, buf + 4, COW_META_LEN - 4))
        return KV_ECORRUPT;
    if (buf[4] != COW_PT_META || cow_ld64(buf + 8) != COW_MAGIC ||
        cow_ld32(buf + 16) != COW_VERSION)
        return KV_ECORRUPT;
    m->page_size = cow_ld32(buf + 20);
    m->txnid = cow_ld64(buf + 24);
    m->root = cow_ld64(buf + 32);
    m->next_pgno = cow_ld64(buf + 40);
    m->log_gen = cow_ld64(buf + 48);
    m->log_pos = cow_ld64(buf + 56);
    m->keys = cow_ld64(buf + 64);
    m->bytes = cow_ld64(buf + 72);
    if (m->page_size != 4096 && m->page_size != 8192 && m->page_size != 16384)
        return KV_ECORRUPT;
    if (m->next_pgno < 2 || (m->root != 0 && (m->root < 2 || m->root >= m->next_pgno)) ||
        m->log_pos < COW_LOG_HDR || m->log_gen == 0 || (m->root == 0 && m->keys != 0))
        return KV_ECORRUPT;
    return KV_OK;
    /* END SOLUTION */
}

int cow_meta_choose(const cow_meta *a, bool a_ok, const cow_meta *b, bool b_ok, int *which)
{
    /* STUB: (void)a; (void)a_ok; (void)b; (void)b_ok; (void)which; return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__); */
    /* BEGIN SOLUTION */
    if (!a_ok && !b_ok)
        return KV_ECORRUPT;
    if (a_ok && b_ok)
        *which = b->txnid > a->txnid ? 1 : 0; /* a tie (a clean close writes both): A */
    else
        *which = a_ok ? 0 : 1;
    return KV_OK;
    /* END SOLUTION */
}
