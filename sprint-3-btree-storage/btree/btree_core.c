/*
 * btree_core.c — the B+ tree's foundation: memory accounting, records and
 * separators, node allocation, the two searches (inside an inner node and
 * inside a leaf), and the read-only operations: create, destroy, get,
 * scan, stats.
 *
 * How it works. Every block the tree holds goes through bpt_alloc() and
 * bpt_free(), which keep `mem` equal to the sum of bpt_port_alloc_size()
 * of the live blocks: the engine's mem_bytes is the real heap footprint.
 * A lookup descends from the root with bpt_inner_find() (a binary search
 * on the inner node's 16-byte prefixes, comparing whole keys only on a
 * prefix tie) and then scans the leaf's one-byte hash tags, comparing only
 * the records whose tag matches: one record dereference per lookup in the
 * common case. bpt_scan() finds the first key >= start with
 * bpt_leaf_lower() (a binary search over the records) and then follows
 * the leaf chain.
 *
 * Locking: get, scan and stats take the tree's read lock and release it
 * before returning; callbacks run under it and must not call back into
 * the tree.
 *
 * Callers must not: pass keys longer than BPT_MAX_KEY (checked), or use a
 * tree after bpt_destroy(). This file is kernel-portable (bpt_port.h only).
 */
#include "btree_int.h"

/* ---- memory --------------------------------------------------------------- */

void *bpt_alloc(bpt_tree *t, size_t n)
{
    void *p = bpt_port_alloc(n);
    if (p)
        t->mem += bpt_port_alloc_size(n);
    return p;
}

void bpt_free(bpt_tree *t, void *p, size_t n)
{
    if (!p)
        return;
    t->mem -= bpt_port_alloc_size(n);
    bpt_port_free(p);
}

size_t bpt_node_size(const bpt_tree *t, int leaf)
{
    if (leaf)
        return sizeof(bpt_leaf) + t->order * (sizeof(uint8_t *) + 1);
    return sizeof(bpt_inner) + (t->order + 1) * sizeof(bpt_node *) +
           t->order * (sizeof(uint8_t *) + sizeof(bpt_pfx));
}

bpt_leaf *bpt_leaf_new(bpt_tree *t)
{
    bpt_leaf *l = bpt_alloc(t, bpt_node_size(t, 1));
    if (!l)
        return NULL;
    l->h.n = 0;
    l->h.leaf = 1;
    l->h.spare = 0;
    l->prev = l->next = NULL;
    t->leaves++;
    return l;
}

bpt_inner *bpt_inner_new(bpt_tree *t)
{
    bpt_inner *n = bpt_alloc(t, bpt_node_size(t, 0));
    if (!n)
        return NULL;
    n->h.n = 0;
    n->h.leaf = 0;
    n->h.spare = 0;
    t->inners++;
    return n;
}

void bpt_node_free(bpt_tree *t, bpt_node *n)
{
    if (!n)
        return;
    if (n->leaf)
        t->leaves--;
    else
        t->inners--;
    bpt_free(t, n, bpt_node_size(t, n->leaf));
}

uint8_t *bpt_rec_new(bpt_tree *t, const void *k, size_t kl, const void *v, size_t vl)
{
    uint8_t *r = bpt_alloc(t, rec_size(kl, vl));
    uint8_t *p;
    if (!r)
        return NULL;
    p = varint_put(r, kl);
    p = varint_put(p, vl);
    bpt_memcpy(p, k, kl);
    if (vl)
        bpt_memcpy(p + kl, v, vl);
    return r;
}

void bpt_rec_free(bpt_tree *t, uint8_t *r)
{
    if (r)
        bpt_free(t, r, rec_block_size(r));
}

uint8_t *bpt_sep_new(bpt_tree *t, const uint8_t *k, size_t kl)
{
    uint8_t *s = bpt_alloc(t, varint_len(kl) + kl);
    if (!s)
        return NULL;
    bpt_memcpy(varint_put(s, kl), k, kl);
    return s;
}

void bpt_sep_free(bpt_tree *t, uint8_t *s)
{
    size_t kl;
    if (!s)
        return;
    blk_key(s, &kl);
    bpt_free(t, s, varint_len(kl) + kl);
}

void bpt_inner_set_key(const bpt_tree *t, bpt_inner *n, unsigned i, uint8_t *sep)
{
    size_t kl;
    const uint8_t *k = blk_key(sep, &kl);
    inner_keys(t, n)[i] = sep;
    inner_pfx(t, n)[i] = key_prefix(k, kl);
}

/* Free a subtree: records and separators included. Recursion depth is the
 * height (at most BPT_MAX_HEIGHT). */
void bpt_free_subtree(bpt_tree *t, bpt_node *n, unsigned height)
{
    if (!n)
        return;
    if (n->leaf) {
        bpt_leaf *l = (bpt_leaf *)n;
        for (unsigned i = 0; i < n->n; i++)
            bpt_rec_free(t, l->rec[i]);
    } else {
        bpt_inner *in = (bpt_inner *)n;
        for (unsigned i = 0; i <= n->n; i++)
            bpt_free_subtree(t, in->child[i], height - 1);
        for (unsigned i = 0; i < n->n; i++)
            bpt_sep_free(t, inner_keys(t, in)[i]);
    }
    bpt_node_free(t, n);
}

/* ---- searches -------------------------------------------------------------- */

unsigned bpt_inner_find(const bpt_tree *t, bpt_inner *n, const uint8_t *k, size_t kl,
                        bpt_pfx pfx)
{
    const bpt_pfx *pf = inner_pfx(t, n);
    uint8_t **keys = inner_keys(t, n);
    unsigned lo = 0, hi = n->h.n;

    /* first separator > k: child lo holds k */
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        int c = pfx_cmp(pfx, pf[mid]);
        if (c == 0) {
            size_t sl;
            const uint8_t *s = blk_key(keys[mid], &sl);
            c = key_cmp(k, kl, s, sl);
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

unsigned bpt_leaf_lower(bpt_leaf *l, const uint8_t *k, size_t kl, bool *eq)
{
    unsigned lo = 0, hi = l->h.n;
    *eq = false;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        size_t rl;
        const uint8_t *rk = rec_key(l->rec[mid], &rl);
        int c = key_cmp(rk, rl, k, kl);
        if (c < 0) {
            lo = mid + 1;
        } else {
            if (c == 0)
                *eq = true;
            hi = mid;
        }
    }
    return lo;
}

/* the leaf that would hold k */
static bpt_leaf *find_leaf(const bpt_tree *t, const uint8_t *k, size_t kl)
{
    bpt_node *n = t->root;
    bpt_pfx pfx = key_prefix(k, kl);
    while (!n->leaf) {
        bpt_inner *in = (bpt_inner *)n;
        n = in->child[bpt_inner_find(t, in, k, kl, pfx)];
    }
    return (bpt_leaf *)n;
}

/* ---- create and destroy ------------------------------------------------------ */

int bpt_create(unsigned order, bpt_tree **out)
{
    bpt_tree *t;
    bpt_leaf *root;

    if (order < BPT_ORDER_MIN || order > BPT_ORDER_MAX || !out)
        return BPT_EINVAL;
    t = bpt_port_alloc(sizeof(*t));
    if (!t)
        return BPT_ENOMEM;
    {
        static const bpt_tree zero;
        *t = zero;
    }
    t->order = order;
    t->height = 1;
    t->mem = bpt_port_alloc_size(sizeof(*t));
    t->lock = bpt_port_lock_create();
    if (!t->lock)
        goto free_tree;
    root = bpt_leaf_new(t);
    if (!root)
        goto free_lock;
    t->root = &root->h;
    *out = t;
    return BPT_OK;

free_lock:
    bpt_port_lock_destroy(t->lock);
free_tree:
    bpt_port_free(t);
    return BPT_ENOMEM;
}

void bpt_destroy(bpt_tree *t)
{
    if (!t)
        return;
    bpt_free_subtree(t, t->root, t->height);
    bpt_port_lock_destroy(t->lock);
    bpt_port_free(t);
}

/* ---- get, scan, stats ---------------------------------------------------------- */

int bpt_get(bpt_tree *t, const void *key, size_t klen, bpt_value_fn fn, void *arg)
{
    const uint8_t *k = key;
    int rc = BPT_ENOTFOUND;
    bpt_leaf *l;
    uint8_t tag;
    const uint8_t *tags;

    if (!key || klen == 0)
        return BPT_EINVAL;
    if (klen > BPT_MAX_KEY)
        return BPT_ENOTFOUND;
    tag = key_tag(k, klen);
    bpt_port_read_lock(t->lock);
    l = find_leaf(t, k, klen);
    tags = leaf_tags(t, l);
    for (unsigned i = 0; i < l->h.n; i++) {
        const uint8_t *rk, *rv;
        size_t rl, vl;
        if (tags[i] != tag)
            continue;
        /* a 118-byte record spans two or three lines: ask for the others
         * now, not after its header says how long it is */
        bpt_prefetch(l->rec[i] + 64);
        bpt_prefetch(l->rec[i] + 127);
        rec_get(l->rec[i], &rk, &rl, &rv, &vl);
        if (rl != klen || bpt_memcmp(rk, k, klen) != 0)
            continue;
        rc = fn ? fn(arg, rv, vl) : BPT_OK;
        break;
    }
    bpt_port_read_unlock(t->lock);
    return rc;
}

/* Scan prefetching. Records live wherever the heap put them (in insertion
 * order: random after random inserts), so each costs a cache miss, and a
 * 118-byte record spans two or three 64-byte lines. The scan asks for the
 * first line of the record 2*SCAN_AHEAD places ahead; SCAN_AHEAD places
 * ahead, that line has had time to arrive, so it reads the record's size
 * and asks for its other lines. The misses of several records overlap
 * instead of coming one at a time. Places past a leaf's end continue in
 * the next leaf (requested when the scan entered this one). */
#define SCAN_AHEAD 8

/* the record `j` places from slot 0 of l, in l or its next leaf (or NULL) */
static inline const uint8_t *scan_rec_at(const bpt_leaf *l, unsigned j)
{
    if (j >= l->h.n) {
        j -= l->h.n;
        l = l->next;
        if (!l || j >= l->h.n)
            return NULL;
    }
    return l->rec[j];
}

static inline void scan_prefetch(const bpt_leaf *l, unsigned i)
{
    const uint8_t *r = scan_rec_at(l, i + 2 * SCAN_AHEAD);
    size_t size;

    if (r)
        bpt_prefetch(r);
    r = scan_rec_at(l, i + SCAN_AHEAD);
    if (!r)
        return;
    size = rec_block_size(r);
    for (size_t o = 64 - ((uintptr_t)r & 63); o < size && o < 4 * 64; o += 64)
        bpt_prefetch(r + o);
}

int bpt_scan(bpt_tree *t, const void *key, size_t klen, bool exclusive, bpt_visit_fn fn,
             void *arg)
{
    bpt_leaf *l;
    unsigned i = 0;
    int rc = BPT_OK;

    bpt_port_read_lock(t->lock);
    if (key && klen) {
        bool eq;
        l = find_leaf(t, key, klen);
        i = bpt_leaf_lower(l, key, klen, &eq);
        if (eq && exclusive)
            i++;
    } else {
        bpt_node *n = t->root;
        while (!n->leaf)
            n = ((bpt_inner *)n)->child[0];
        l = (bpt_leaf *)n;
    }
    for (unsigned j = 0; j < 2 * SCAN_AHEAD; j++) {
        const uint8_t *r = scan_rec_at(l, i + j);
        if (r)
            bpt_prefetch(r);
    }
    while (l) {
        if (l->next)
            bpt_prefetch(l->next);
        for (; i < l->h.n; i++) {
            const uint8_t *rk, *rv;
            size_t rl, vl;
            int r;
            scan_prefetch(l, i);
            rec_get(l->rec[i], &rk, &rl, &rv, &vl);
            r = fn(arg, rk, rl, rv, vl);
            if (r) {
                rc = r < 0 ? r : BPT_OK;
                goto unlock;
            }
        }
        l = l->next;
        i = 0;
    }
unlock:
    bpt_port_read_unlock(t->lock);
    return rc;
}

void bpt_stats_get(bpt_tree *t, bpt_stats *out)
{
    bpt_port_read_lock(t->lock);
    out->keys = t->count;
    out->bytes = t->bytes;
    out->mem_bytes = t->mem;
    out->leaves = t->leaves;
    out->inners = t->inners;
    out->leaf_slots = t->leaves * node_max(t);
    out->height = t->height;
    out->order = t->order;
    out->splits = t->splits;
    out->merges = t->merges;
    out->borrows = t->borrows;
    bpt_port_read_unlock(t->lock);
}
