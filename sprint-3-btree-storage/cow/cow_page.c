/*
 * cow_page.c — the bytes of one tree page: header, CRC32C, slotted cells.
 *
 * A page is page_size bytes (4, 8 or 16 KiB). It starts with a 40-byte
 * header (cow_int.h), then a slot array of u16 cell offsets in key order
 * growing upward, while the cells are packed from the end of the page
 * downward (cell_start is the lowest cell byte). A leaf cell is
 * `u16 klen, u32 vlen, key, value`; an inner cell is `u64 child, u16 klen,
 * key` and the header's link is the child left of the first key.
 *
 * How pages change. Pages are never edited in place: the tree decodes the
 * cells it keeps into a cow_cell array and cow_page_build() writes a whole
 * new page (into a fresh copy, which is what copy-on-write needs anyway).
 * So a page never has holes, and cow_page_used() is exact.
 *
 * What callers must not do: read a page from disk without cow_page_check()
 * (which checks the CRC, the page number, the type, every slot and cell
 * bound and the key order); build a page from cells that point into the
 * destination buffer.
 */
#include <string.h>

#include "kvlabs/error.h"
#include "kvlabs/hash.h"
#include "cow_int.h"

int cow_key_cmp(const void *a, size_t na, const void *b, size_t nb)
{
    size_t n = na < nb ? na : nb;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return na < nb ? -1 : na > nb;
}

uint32_t cow_page_crc(const unsigned char *p, uint32_t psize)
{
    return kv_crc32c(0, p + 4, psize - 4);
}

void cow_page_seal(unsigned char *p, uint32_t psize)
{
    cow_st32(p, cow_page_crc(p, psize));
}

void cow_page_cell(const unsigned char *p, unsigned i, cow_cell *c)
{
    const unsigned char *q = p + cow_ld16(p + COW_PAGE_HDR + 2 * i);
    if (cow_pg_type(p) == COW_PT_LEAF) {
        c->kl = cow_ld16(q);
        c->vl = cow_ld32(q + 2);
        c->k = q + COW_LEAF_CELL;
        c->v = c->k + c->kl;
        c->child = 0;
    } else {
        c->child = cow_ld64(q);
        c->kl = cow_ld16(q + 8);
        c->k = q + COW_INNER_CELL;
        c->v = NULL;
        c->vl = 0;
    }
}

size_t cow_cell_size(unsigned type, const cow_cell *c)
{
    return 2 + (type == COW_PT_LEAF ? COW_LEAF_CELL + (size_t)c->kl + c->vl
                                    : COW_INNER_CELL + (size_t)c->kl);
}

size_t cow_page_used(const unsigned char *p, uint32_t psize)
{
    return COW_PAGE_HDR + 2u * cow_pg_n(p) + (psize - cow_ld16(p + 32));
}

bool cow_page_build(unsigned char *p, uint32_t psize, unsigned type, uint64_t pgno, uint64_t txnid,
                    uint64_t link, const cow_cell *cells, unsigned n)
{
    size_t need = COW_PAGE_HDR;
    size_t top = psize;

    for (unsigned i = 0; i < n; i++)
        need += cow_cell_size(type, &cells[i]);
    if (need > psize || n > 0xffff)
        return false;
    memset(p, 0, COW_PAGE_HDR + 2u * n);
    p[4] = (unsigned char)type;
    cow_st16(p + 6, (uint16_t)n);
    cow_st64(p + 8, pgno);
    cow_st64(p + 16, txnid);
    cow_st64(p + 24, link);
    for (unsigned i = 0; i < n; i++) {
        const cow_cell *c = &cells[i];
        size_t sz = cow_cell_size(type, c) - 2;
        unsigned char *q;
        top -= sz;
        q = p + top;
        if (type == COW_PT_LEAF) {
            cow_st16(q, c->kl);
            cow_st32(q + 2, c->vl);
            memcpy(q + COW_LEAF_CELL, c->k, c->kl);
            if (c->vl)
                memcpy(q + COW_LEAF_CELL + c->kl, c->v, c->vl);
        } else {
            cow_st64(q, c->child);
            cow_st16(q + 8, c->kl);
            memcpy(q + COW_INNER_CELL, c->k, c->kl);
        }
        cow_st16(p + COW_PAGE_HDR + 2 * i, (uint16_t)top);
    }
    cow_st16(p + 32, (uint16_t)top); /* page sizes are <= 16 KiB: fits */
    return true;
}

int cow_page_check(const unsigned char *p, uint32_t psize, uint64_t pgno)
{
    /* STUB: (void)p; (void)psize; (void)pgno; return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__); */
    /* BEGIN SOLUTION */
    unsigned type = cow_pg_type(p), n = cow_pg_n(p);
    size_t cs = cow_ld16(p + 32);
    cow_cell prev = {0}, c;

    if (cow_ld32(p) != cow_page_crc(p, psize))
        return KV_ECORRUPT;
    if ((type != COW_PT_LEAF && type != COW_PT_INNER) || cow_pg_no(p) != pgno || p[5])
        return KV_ECORRUPT;
    if ((size_t)COW_PAGE_HDR + 2u * n > cs || cs > psize)
        return KV_ECORRUPT;
    if (type == COW_PT_LEAF ? cow_pg_link(p) != 0 : cow_pg_link(p) < 2)
        return KV_ECORRUPT;
    for (unsigned i = 0; i < n; i++) {
        size_t off = cow_ld16(p + COW_PAGE_HDR + 2 * i);
        size_t hdr = type == COW_PT_LEAF ? COW_LEAF_CELL : COW_INNER_CELL;
        if (off < cs || off + hdr > psize)
            return KV_ECORRUPT;
        cow_page_cell(p, i, &c);
        if (c.kl == 0 || off + cow_cell_size(type, &c) - 2 > psize)
            return KV_ECORRUPT;
        if (type == COW_PT_INNER && c.child < 2)
            return KV_ECORRUPT;
        if (i > 0 && cow_key_cmp(prev.k, prev.kl, c.k, c.kl) >= 0)
            return KV_ECORRUPT;
        prev = c;
    }
    return KV_OK;
    /* END SOLUTION */
}

unsigned cow_page_search(const unsigned char *p, const void *key, size_t klen, bool *exact)
{
    unsigned lo = 0, hi = cow_pg_n(p);
    bool leaf = cow_pg_type(p) == COW_PT_LEAF;

    *exact = false;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        const unsigned char *q = p + cow_ld16(p + COW_PAGE_HDR + 2 * mid);
        /* the cells sit anywhere in the page, a cache miss each: ask for
         * both cells the next step may probe while this one is compared */
        if (hi - lo > 2) {
            __builtin_prefetch(p + cow_ld16(p + COW_PAGE_HDR + 2 * ((lo + mid) / 2)));
            __builtin_prefetch(p + cow_ld16(p + COW_PAGE_HDR + 2 * ((mid + 1 + hi) / 2)));
        }
        size_t kl = leaf ? cow_ld16(q) : cow_ld16(q + 8);
        int c = cow_key_cmp(q + (leaf ? COW_LEAF_CELL : COW_INNER_CELL), kl, key, klen);
        if (c < 0) {
            lo = mid + 1;
        } else if (c == 0) {
            *exact = true;
            return mid;
        } else {
            hi = mid;
        }
    }
    return lo;
}

unsigned cow_inner_child_index(const unsigned char *p, const void *key, size_t klen)
{
    bool exact;
    unsigned i = cow_page_search(p, key, klen, &exact);
    /* child 0 is the link; child i+1 holds keys >= cell i's key */
    return exact ? i + 1 : i;
}

uint64_t cow_inner_child(const unsigned char *p, unsigned idx)
{
    cow_cell c;
    if (idx == 0)
        return cow_pg_link(p);
    cow_page_cell(p, idx - 1, &c);
    return c.child;
}

/* The search index (cow_pidx, cow_int.h). Why: a 16 KiB leaf holds ~130
 * kvbench pairs whose cells lie anywhere in the page, so a binary search
 * over cells costs a cache miss per probe (~7); over the 4-byte hints,
 * 130 of them in 520 contiguous bytes, most probes share cache lines and
 * one cell is read at the end (to confirm a match). */
static uint32_t hint_of(const unsigned char *k, size_t kl)
{
    uint32_t h = 0;
    if (kl >= 4)
        return (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3];
    for (unsigned i = 0; i < 4; i++)
        h = h << 8 | (i < kl ? k[i] : 0);
    return h;
}

void cow_page_index(unsigned char *p, uint32_t psize)
{
    cow_pidx *x = (cow_pidx *)(p + psize);
    unsigned n = cow_pg_n(p);
    cow_cell a, b;
    size_t l = 0;

    x->ok = 0;
    /* leaves only: an inner page is rebuilt by every commit below it (its
       ~580 hints cost fillrandom 15 %) and is hot in the CPU cache anyway */
    if (n > psize / 16 || cow_pg_type(p) != COW_PT_LEAF)
        return;
    if (n > 0) {
        cow_page_cell(p, 0, &a);
        cow_page_cell(p, n - 1, &b);
        /* keys sort between the first and the last: they share the prefix of those two */
        while (l < a.kl && l < b.kl && l < COW_PIDX_PFX && a.k[l] == b.k[l])
            l++;
        memcpy(x->pfx, a.k, l);
    }
    x->plen = (uint8_t)l;
    x->n = (uint16_t)n;
    for (unsigned i = 0; i < n; i++) {
        cow_page_cell(p, i, &a);
        x->h[i] = hint_of(a.k + l, a.kl - l);
    }
    x->ok = 1;
}

unsigned cow_page_find(const unsigned char *p, uint32_t psize, const void *key, size_t klen,
                       bool *exact)
{
    const cow_pidx *x = (const cow_pidx *)(p + psize);
    const unsigned char *k = key;
    unsigned n, lo, hi, end;
    size_t m;
    uint32_t kh;
    int c;

    if (!x->ok)
        return cow_page_search(p, key, klen, exact);
    *exact = false;
    n = x->n;
    m = klen < x->plen ? klen : x->plen;
    c = m ? memcmp(k, x->pfx, m) : 0;
    if (c < 0 || (c == 0 && klen < x->plen))
        return 0; /* below every key of the page */
    if (c > 0)
        return n; /* above every key */
    kh = hint_of(k + x->plen, klen - x->plen);
    lo = 0;
    hi = n;
    while (lo < hi) { /* first hint >= kh */
        unsigned mid = (lo + hi) / 2;
        if (x->h[mid] < kh)
            lo = mid + 1;
        else
            hi = mid;
    }
    end = lo;
    hi = n;
    while (end < hi) { /* first hint > kh */
        unsigned mid = (end + hi) / 2;
        if (x->h[mid] <= kh)
            end = mid + 1;
        else
            hi = mid;
    }
    while (lo < end) { /* the cells whose hint ties: compare whole keys */
        unsigned mid = (lo + end) / 2;
        cow_cell cc;
        cow_page_cell(p, mid, &cc);
        c = cow_key_cmp(cc.k, cc.kl, key, klen);
        if (c < 0) {
            lo = mid + 1;
        } else if (c == 0) {
            *exact = true;
            return mid;
        } else {
            end = mid;
        }
    }
    return lo;
}

unsigned cow_inner_child_find(const unsigned char *p, uint32_t psize, const void *key, size_t klen)
{
    bool exact;
    unsigned i = cow_page_find(p, psize, key, klen, &exact);
    return exact ? i + 1 : i;
}
