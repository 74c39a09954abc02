/*
 * iter_snap.c — the copy iterator behind KV_CAP_SCAN (kvlabs/iter_snap.h).
 *
 * How it works. kv_iter_first() empties the copy and asks the engine's
 * fill function to add every entry: the key and value bytes go, one after
 * the other, into one growing byte arena, and an array of records gives
 * each entry's offset and lengths (offsets, not pointers, because the arena
 * moves when it grows). The cursor is an index into that array. With
 * values_by_get the arena holds keys only; landing on a key reads its value
 * with the engine's get into a kv_buf the iterator owns, and a key that is
 * gone (KV_ENOTFOUND) is skipped. Any other failure, of the fill function
 * or of a get, makes the iterator invalid with that status.
 *
 * Callers must not: call kv_snap_add() outside the fill function, or use
 * an iterator from two threads at once.
 */
#include <stdint.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "kvlabs/iter_snap.h"

struct snap_rec {
    size_t off;  /* the key's offset in the arena; the value follows it */
    size_t klen;
    size_t vlen;
};

struct kv_snap_iter {
    kv_iter base;
    kv_snap_fill_fn fill;
    bool values_by_get;
    unsigned char *arena;
    size_t used, cap;
    struct snap_rec *recs;
    size_t n, rcap;
    size_t pos;      /* index of the current entry; == n: past the end */
    bool positioned; /* kv_iter_first has run */
    int status;
    kv_buf val;      /* values_by_get: the current value */
};

int kv_snap_iter_open(kv_db *db, kv_snap_fill_fn fill, bool values_by_get, kv_iter **out)
{
    kv_snap_iter *s = kv_calloc(1, sizeof(*s));

    (void)db;
    if (!s)
        return kv_fail(KV_ENOMEM, "out of memory opening an iterator");
    s->fill = fill;
    s->values_by_get = values_by_get;
    *out = &s->base;
    return KV_OK;
}

/* Grow *p (elements of size sz, capacity *cap) to hold need elements. */
static int grow(void **p, size_t *cap, size_t need, size_t sz)
{
    size_t ncap = *cap ? *cap : 16;
    void *np;

    if (need <= *cap)
        return KV_OK;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / sz)
            return kv_fail(KV_ENOMEM, "iterator copy too large");
        ncap *= 2;
    }
    np = kv_realloc(*p, ncap * sz);
    if (!np)
        return kv_fail(KV_ENOMEM, "out of memory copying the store for an iterator");
    *p = np;
    *cap = ncap;
    return KV_OK;
}

int kv_snap_add(kv_snap_iter *s, const void *key, size_t klen, const void *val, size_t vlen)
{
    size_t stored = s->values_by_get ? 0 : vlen;
    int rc;

    if (klen > SIZE_MAX - stored || s->used > SIZE_MAX - klen - stored)
        return kv_fail(KV_ENOMEM, "iterator copy too large");
    rc = grow((void **)&s->arena, &s->cap, s->used + klen + stored, 1);
    if (rc == KV_OK)
        rc = grow((void **)&s->recs, &s->rcap, s->n + 1, sizeof(*s->recs));
    if (rc != KV_OK)
        return rc;
    memcpy(s->arena + s->used, key, klen);
    if (stored)
        memcpy(s->arena + s->used + klen, val, stored);
    s->recs[s->n++] = (struct snap_rec){.off = s->used, .klen = klen, .vlen = stored};
    s->used += klen + stored;
    return KV_OK;
}

/* values_by_get: from pos on, land on the first key that still exists. */
static void settle(kv_snap_iter *s)
{
    kv_db *db = s->base.db;

    if (!s->values_by_get)
        return;
    for (; s->pos < s->n; s->pos++) {
        const struct snap_rec *r = &s->recs[s->pos];
        int rc = db->ops->get(db, s->arena + r->off, r->klen, &s->val);

        if (rc == KV_OK)
            return;
        if (rc != KV_ENOTFOUND) {
            s->status = rc;
            return;
        }
    }
}

void kv_snap_iter_first(kv_iter *it)
{
    kv_snap_iter *s = (kv_snap_iter *)it;

    s->used = s->n = s->pos = 0;
    s->positioned = true;
    s->status = s->fill(it->db, s);
    if (s->status == KV_OK)
        settle(s);
}

bool kv_snap_iter_valid(const kv_iter *it)
{
    const kv_snap_iter *s = (const kv_snap_iter *)it;

    return s->positioned && s->status == KV_OK && s->pos < s->n;
}

void kv_snap_iter_next(kv_iter *it)
{
    kv_snap_iter *s = (kv_snap_iter *)it;

    s->pos++;
    settle(s);
}

void kv_snap_iter_key(const kv_iter *it, const void **k, size_t *n)
{
    const kv_snap_iter *s = (const kv_snap_iter *)it;
    const struct snap_rec *r = &s->recs[s->pos];

    *k = s->arena + r->off;
    *n = r->klen;
}

void kv_snap_iter_value(const kv_iter *it, const void **v, size_t *n)
{
    const kv_snap_iter *s = (const kv_snap_iter *)it;
    const struct snap_rec *r = &s->recs[s->pos];

    if (s->values_by_get) {
        *v = s->val.data ? s->val.data : (const void *)"";
        *n = s->val.len;
    } else {
        *v = s->arena + r->off + r->klen;
        *n = r->vlen;
    }
}

int kv_snap_iter_status(const kv_iter *it)
{
    return ((const kv_snap_iter *)it)->status;
}

void kv_snap_iter_close(kv_iter *it)
{
    kv_snap_iter *s = (kv_snap_iter *)it;

    kv_buf_free(&s->val);
    kv_free(s->arena);
    kv_free(s->recs);
    kv_free(s);
}
