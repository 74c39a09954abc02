/*
 * bitcask_scan.c — reading a data file record by record, and the torn-tail
 * rule.
 *
 * The scanner keeps a window of the file in memory (256 KiB, or one whole
 * record when a record is larger) and hands out records in file order.
 * A record is good when its header fits in the file, its sizes are
 * possible, its key and value fit in the file, and its CRC matches. The
 * first record that is not good stops the scan: BC_SCAN_BAD.
 *
 * **Torn tail or corruption?** (bc_scan_tail) A crash can only damage the
 * end of the file being appended to: the last write was cut short, or
 * (on a real disk) left garbage or zeros. So a bad record is a *torn tail*
 * when nothing valid follows it, and the file is cut back to the end of
 * the last good record; it is *corruption* when a valid record starts
 * somewhere after it, because then synced data lies behind the damage and
 * silently dropping it would lose acknowledged writes: KV_ECORRUPT. The
 * search tries every byte offset after the bad record (the bad record's
 * own sizes cannot be trusted to skip it). This is the rule the model
 * engine's log follows (engine_model.c), adapted to a record whose only
 * checksum covers the whole record. Only the newest data file may have a
 * torn tail: the caller treats any bad record in an older file (which was
 * synced whole before the next file was started) as corruption.
 */
#include <string.h>

#include "bitcask_format.h"
#include "kvlabs/alloc.h"
#include "kvlabs/error.h"

#define SCAN_WINDOW (256u * 1024)

void bc_scan_init(bc_scan *s, kv_file *f, uint64_t size)
{
    memset(s, 0, sizeof(*s));
    s->f = f;
    s->size = size;
}

void bc_scan_free(bc_scan *s)
{
    kv_free(s->buf);
    s->buf = NULL;
}

/*
 * Make bytes [off, off + n) of the file available at *p (the caller has
 * checked that they lie inside the file).
 */
static int window(bc_scan *s, uint64_t off, size_t n, const unsigned char **p)
{
    size_t want, got;
    int rc;

    if (off >= s->win_off && off + n <= s->win_off + s->win_len) {
        *p = s->buf + (off - s->win_off);
        return KV_OK;
    }
    want = n > SCAN_WINDOW ? n : SCAN_WINDOW;
    if (want > s->size - off)
        want = (size_t)(s->size - off);
    if (want > s->cap) {
        unsigned char *b = kv_realloc(s->buf, want);
        if (!b)
            return kv_fail(KV_ENOMEM, "bitcask: out of memory for a %zu-byte read", want);
        s->buf = b;
        s->cap = want;
    }
    rc = kv_file_pread(s->f, s->buf, want, off, &got);
    if (rc != KV_OK)
        return rc;
    if (got < n)
        return kv_fail(KV_EIO, "bitcask: short read of a data file at %llu",
                       (unsigned long long)off);
    s->win_off = off;
    s->win_len = got;
    *p = s->buf;
    return KV_OK;
}

/*
 * Is there a good record at @p off? BC_SCAN_REC with its header and bytes,
 * BC_SCAN_BAD, or an I/O status.
 */
static int good_at(bc_scan *s, uint64_t off, bc_rec *h, const unsigned char **rec)
{
    const unsigned char *p;
    uint64_t len;
    int rc;

    if (s->size - off < BC_HDR)
        return BC_SCAN_BAD;
    rc = window(s, off, BC_HDR, &p);
    if (rc != KV_OK)
        return rc;
    if (bc_rec_decode(p, h) != KV_OK)
        return BC_SCAN_BAD;
    len = bc_rec_size(h->ksize, h->vsize);
    if (len > s->size - off)
        return BC_SCAN_BAD;
    rc = window(s, off, (size_t)len, rec);
    if (rc != KV_OK)
        return rc;
    return bc_rec_crc_ok(*rec, h) ? BC_SCAN_REC : BC_SCAN_BAD;
}

int bc_scan_next(bc_scan *s, bc_rec *h, const unsigned char **rec, uint64_t *off)
{
    int rc;

    *off = s->off;
    if (s->off == s->size)
        return BC_SCAN_END;
    rc = good_at(s, s->off, h, rec);
    if (rc == BC_SCAN_REC)
        s->off += bc_rec_size(h->ksize, h->vsize);
    return rc;
}

int bc_scan_tail(bc_scan *s, uint64_t bad, uint64_t *cut)
{
    /* STUB: (void)s; (void)bad; (void)cut; return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__); */
    /* BEGIN SOLUTION */
    bc_rec h;
    const unsigned char *rec;

    for (uint64_t off = bad + 1; off + BC_HDR <= s->size; off++) {
        int rc = good_at(s, off, &h, &rec);
        if (rc == BC_SCAN_REC)
            return kv_fail(KV_ECORRUPT,
                           "bitcask: bad record at offset %llu with a valid one after it at %llu",
                           (unsigned long long)bad, (unsigned long long)off);
        if (rc != BC_SCAN_BAD)
            return rc;
    }
    *cut = bad;
    return KV_OK;
    /* END SOLUTION */
}

int bc_scan_each(bc_scan *s, uint32_t fid, bc_scan_fn fn, void *arg, uint64_t *off)
{
    bc_rec h;
    const unsigned char *rec;
    int rc;

    *off = 0;
    while ((rc = bc_scan_next(s, &h, &rec, off)) == BC_SCAN_REC) {
        rc = fn(arg, &h, rec, fid, *off);
        if (rc != KV_OK)
            return rc;
    }
    return rc == BC_SCAN_END ? KV_OK : rc;
}
