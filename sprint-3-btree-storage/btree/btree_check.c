/*
 * btree_check.c — bpt_check, the invariant checker of the B+ tree.
 *
 * What it verifies (the tests call it every few operations, so a bug shows
 * up at the operation that made it, not thousands of operations later):
 *   - order: keys strictly ascending inside every node, and every key of
 *     a subtree inside the bounds its ancestors' separators give
 *     (lo <= key < hi);
 *   - fill: every node holds at most order-1 keys; every non-root leaf at
 *     least floor(order/2) entries, every non-root inner node at least
 *     ceil(order/2) children; an inner root at least 2 children;
 *   - depth: every leaf at depth height-1;
 *   - the leaf chain: walking `next` from the leftmost leaf meets exactly
 *     the leaves a left-to-right walk of the tree meets, each `prev`
 *     points back, and both ends are NULL;
 *   - counts: the entries, their key and value bytes, and the numbers of
 *     leaves and inner nodes equal the tree's counters;
 *   - caches: each inner prefix equals its separator's first 16 bytes, each
 *     leaf tag equals its key's hash tag.
 * The first problem found is reported (which invariant, level, node
 * position, slot) and the walk stops.
 *
 * How: one recursive walk (depth at most BPT_MAX_HEIGHT), carrying the
 * bounds, under the read lock. Kernel-portable (bpt_port.h only).
 */
#include "btree_int.h"

struct walk {
    bpt_tree *t;
    bpt_check_report *rep;
    bpt_leaf *expect;           /* the leaf the chain should reach next */
    uint64_t count, bytes, leaves, inners;
    uint64_t pos[BPT_MAX_HEIGHT]; /* nodes seen per level, for the report */
};

static int bad(struct walk *w, const char *what, unsigned level, unsigned slot)
{
    if (w->rep) {
        w->rep->what = what;
        w->rep->level = level;
        w->rep->node = level < BPT_MAX_HEIGHT ? w->pos[level] : 0;
        w->rep->slot = slot;
    }
    return BPT_ECORRUPT;
}

/* k inside [lo, hi) (a NULL bound is open) */
static int in_bounds(const uint8_t *k, size_t kl, const uint8_t *lo, size_t lol,
                     const uint8_t *hi, size_t hil)
{
    if (lo && key_cmp(k, kl, lo, lol) < 0)
        return 0;
    if (hi && key_cmp(k, kl, hi, hil) >= 0)
        return 0;
    return 1;
}

static int walk(struct walk *w, bpt_node *n, unsigned level, const uint8_t *lo, size_t lol,
                const uint8_t *hi, size_t hil)
{
    /* STUB: (void)w; (void)n; (void)level; (void)lo; (void)lol; (void)hi; (void)hil; (void)in_bounds; (void)bad; bpt_port_not_implemented(__func__); return BPT_ENOTSUP; */
    /* BEGIN SOLUTION */
    bpt_tree *t = w->t;
    bool root = level == 0;
    const uint8_t *pk = NULL;
    size_t pl = 0;
    int rc;

    if (level >= BPT_MAX_HEIGHT || level >= t->height)
        return bad(w, "depth: a node below the height", level, 0);
    if (n->n > node_max(t))
        return bad(w, "fill: more than order-1 keys", level, n->n);
    if (n->leaf) {
        bpt_leaf *l = (bpt_leaf *)n;
        if (level != t->height - 1)
            return bad(w, "depth: a leaf above the leaf level", level, 0);
        if (!root && n->n < leaf_min(t))
            return bad(w, "fill: a leaf below floor(order/2) entries", level, n->n);
        if (l != w->expect)
            return bad(w, "chain: the leaf chain skips or repeats a leaf", level, 0);
        if (l->next && l->next->prev != l)
            return bad(w, "chain: next->prev does not point back", level, 0);
        w->expect = l->next;
        w->leaves++;
        for (unsigned i = 0; i < n->n; i++) {
            const uint8_t *k, *v;
            size_t kl, vl;
            rec_get(l->rec[i], &k, &kl, &v, &vl);
            if (kl == 0)
                return bad(w, "order: an empty key", level, i);
            if (pk && key_cmp(pk, pl, k, kl) >= 0)
                return bad(w, "order: keys not strictly ascending in a leaf", level, i);
            if (!in_bounds(k, kl, lo, lol, hi, hil))
                return bad(w, "order: a key outside its parent's separators", level, i);
            if (leaf_tags(t, l)[i] != key_tag(k, kl))
                return bad(w, "cache: a leaf tag does not match its key", level, i);
            pk = k;
            pl = kl;
            w->count++;
            w->bytes += kl + vl;
        }
    } else {
        bpt_inner *in = (bpt_inner *)n;
        uint8_t **keys = inner_keys(t, in);
        if (root ? n->n < 1 : n->n < inner_min(t))
            return bad(w, root ? "fill: an inner root with one child"
                               : "fill: an inner node below ceil(order/2) children",
                       level, n->n);
        w->inners++;
        for (unsigned i = 0; i < n->n; i++) {
            size_t kl;
            const uint8_t *k = blk_key(keys[i], &kl);
            if (kl == 0)
                return bad(w, "order: an empty separator", level, i);
            if (pk && key_cmp(pk, pl, k, kl) >= 0)
                return bad(w, "order: separators not strictly ascending", level, i);
            if (!in_bounds(k, kl, lo, lol, hi, hil) && !(lo && key_cmp(k, kl, lo, lol) == 0))
                return bad(w, "order: a separator outside its parent's separators", level, i);
            if (pfx_cmp(inner_pfx(t, in)[i], key_prefix(k, kl)) != 0)
                return bad(w, "cache: a prefix does not match its separator", level, i);
            pk = k;
            pl = kl;
        }
        for (unsigned i = 0; i <= n->n; i++) {
            const uint8_t *clo = lo, *chi = hi;
            size_t clol = lol, chil = hil;
            if (!in->child[i])
                return bad(w, "structure: a NULL child", level, i);
            if (i > 0)
                clo = blk_key(keys[i - 1], &clol);
            if (i < n->n)
                chi = blk_key(keys[i], &chil);
            rc = walk(w, in->child[i], level + 1, clo, clol, chi, chil);
            if (rc != BPT_OK)
                return rc;
        }
    }
    w->pos[level]++;
    return BPT_OK;
    /* END SOLUTION */
}

int bpt_check(bpt_tree *t, bpt_check_report *rep)
{
    struct walk w;
    bpt_node *n;
    int rc;

    if (rep) {
        rep->what = NULL;
        rep->level = 0;
        rep->node = 0;
        rep->slot = 0;
    }
    {
        static const struct walk zero;
        w = zero;
    }
    w.t = t;
    w.rep = rep;
    bpt_port_read_lock(t->lock);
    if (!t->root) {
        rc = bad(&w, "structure: no root", 0, 0);
        goto unlock;
    }
    for (n = t->root; !n->leaf; n = ((bpt_inner *)n)->child[0])
        if (!((bpt_inner *)n)->child[0])
            break;
    w.expect = n->leaf ? (bpt_leaf *)n : NULL;
    if (w.expect && w.expect->prev) {
        rc = bad(&w, "chain: the first leaf has a prev", t->height - 1, 0);
        goto unlock;
    }
    rc = walk(&w, t->root, 0, NULL, 0, NULL, 0);
    if (rc != BPT_OK)
        goto unlock;
    if (w.expect)
        rc = bad(&w, "chain: the last leaf has a next", t->height - 1, 0);
    else if (w.count != t->count)
        rc = bad(&w, "counts: entries differ from the tree's count", 0, 0);
    else if (w.bytes != t->bytes)
        rc = bad(&w, "counts: key and value bytes differ from the tree's total", 0, 0);
    else if (w.leaves != t->leaves || w.inners != t->inners)
        rc = bad(&w, "counts: node counts differ from the tree's", 0, 0);
unlock:
    bpt_port_read_unlock(t->lock);
    return rc;
}
