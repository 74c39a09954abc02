/*
 * btree_bulk.c — build a B+ tree bottom-up from keys in ascending order.
 *
 * Why: inserting sorted keys one at a time splits every leaf in half and
 * leaves the tree about half full; a bulk load packs every leaf to
 * order-1 entries, makes one allocation per entry and no split, and runs
 * in O(n). It is how a database builds an index over existing data.
 *
 * How it works, in two phases, under the write lock:
 *   1. Leaves. Pull pairs from the caller's source, each key strictly
 *      greater than the one before (else BPT_EINVAL), filling one leaf
 *      after another to order-1 entries and linking them. When the input
 *      ends, a last leaf below its minimum takes entries from the one
 *      before it so both hold at least floor(order/2). Each leaf after
 *      the first gets a separator: a copy of its first key.
 *   2. Inner levels. The nodes of a level (an array) are handed to
 *      ceil(count/order) parents, as evenly as possible, so every parent has
 *      at least ceil(order/2) children; the separators between siblings
 *      move into their parent, and the separator of each parent's first
 *      child moves up with the parent. Repeat until one node is left: the
 *      root.
 * On any failure every block made so far is freed and the tree is the
 * empty tree it was. Kernel-portable (bpt_port.h only).
 */
#include "btree_int.h"

struct level {
    bpt_node **node;
    uint8_t **sep; /* sep[i]: the smallest key under node[i] (sep[0] unused) */
    size_t n, cap;
};

static int level_push(bpt_tree *t, struct level *lv, bpt_node *n, uint8_t *sep)
{
    if (lv->n == lv->cap) {
        size_t cap = lv->cap ? lv->cap * 2 : 64;
        bpt_node **nn = bpt_alloc(t, cap * sizeof(*nn));
        uint8_t **ns = nn ? bpt_alloc(t, cap * sizeof(*ns)) : NULL;
        if (!ns) {
            bpt_free(t, nn, cap * sizeof(*nn));
            return BPT_ENOMEM;
        }
        if (lv->n) {
            bpt_memcpy(nn, lv->node, lv->n * sizeof(*nn));
            bpt_memcpy(ns, lv->sep, lv->n * sizeof(*ns));
        }
        bpt_free(t, lv->node, lv->cap * sizeof(*nn));
        bpt_free(t, lv->sep, lv->cap * sizeof(*ns));
        lv->node = nn;
        lv->sep = ns;
        lv->cap = cap;
    }
    lv->node[lv->n] = n;
    lv->sep[lv->n] = sep;
    lv->n++;
    return BPT_OK;
}

/* free a level's arrays; with_nodes: its nodes (whole subtrees) and separators too */
static void level_free(bpt_tree *t, struct level *lv, bool with_nodes, unsigned height)
{
    if (with_nodes) {
        for (size_t i = 0; i < lv->n; i++) {
            bpt_free_subtree(t, lv->node[i], height);
            if (i > 0)
                bpt_sep_free(t, lv->sep[i]);
        }
    }
    bpt_free(t, lv->node, lv->cap * sizeof(*lv->node));
    bpt_free(t, lv->sep, lv->cap * sizeof(*lv->sep));
    lv->node = NULL;
    lv->sep = NULL;
    lv->n = lv->cap = 0;
}

/* the last leaf is short: even out entries between it and the one before */
static void rebalance_last(bpt_tree *t, struct level *lv)
{
    bpt_leaf *a = (bpt_leaf *)lv->node[lv->n - 2], *b = (bpt_leaf *)lv->node[lv->n - 1];
    unsigned total = a->h.n + b->h.n, keep = (total + 1) / 2, move = a->h.n - keep;

    bpt_memmove(&b->rec[move], b->rec, b->h.n * sizeof(b->rec[0]));
    bpt_memmove(leaf_tags(t, b) + move, leaf_tags(t, b), b->h.n);
    bpt_memcpy(b->rec, &a->rec[keep], move * sizeof(b->rec[0]));
    bpt_memcpy(leaf_tags(t, b), leaf_tags(t, a) + keep, move);
    a->h.n = (uint16_t)keep;
    b->h.n = (uint16_t)(b->h.n + move);
}

int bpt_bulk_load(bpt_tree *t, bpt_next_fn next, void *arg)
{
    /* STUB: (void)level_push; (void)level_free; (void)rebalance_last; (void)next; (void)arg; (void)t; bpt_port_not_implemented(__func__); return BPT_ENOTSUP; */
    /* BEGIN SOLUTION */
    struct level cur = {0}, up = {0};
    bpt_leaf *leaf = NULL;
    const uint8_t *prev = NULL;
    size_t prevl = 0;
    uint64_t count = 0, bytes = 0;
    unsigned height = 1;
    int rc = BPT_OK;

    bpt_port_write_lock(t->lock);
    if (t->count != 0 || !t->root->leaf) {
        rc = BPT_EINVAL;
        goto unlock;
    }
    /* phase 1: the leaves. The tree keeps its empty root leaf until the
     * end, so a failure only has to free what was built. */
    for (;;) {
        const void *k, *v;
        size_t kl, vl;
        uint8_t *rec;
        int r = next(arg, &k, &kl, &v, &vl);
        if (r < 0) {
            rc = r;
            goto free_levels;
        }
        if (r == 0)
            break;
        if (!k || kl == 0 || (!v && vl)) {
            rc = BPT_EINVAL;
            goto free_levels;
        }
        if (kl > BPT_MAX_KEY || vl > BPT_MAX_VALUE) {
            rc = BPT_ETOOBIG;
            goto free_levels;
        }
        if (prev && key_cmp(prev, prevl, k, kl) >= 0) {
            rc = BPT_EINVAL; /* not strictly ascending */
            goto free_levels;
        }
        rec = bpt_rec_new(t, k, kl, v ? v : "", vl);
        if (!rec) {
            rc = BPT_ENOMEM;
            goto free_levels;
        }
        if (!leaf || leaf->h.n == node_max(t)) {
            bpt_leaf *nl = bpt_leaf_new(t);
            if (!nl || level_push(t, &cur, &nl->h, NULL) != BPT_OK) {
                if (nl)
                    bpt_node_free(t, &nl->h);
                bpt_rec_free(t, rec);
                rc = BPT_ENOMEM;
                goto free_levels;
            }
            nl->prev = leaf;
            if (leaf)
                leaf->next = nl;
            leaf = nl;
        }
        leaf->rec[leaf->h.n] = rec;
        leaf_tags(t, leaf)[leaf->h.n] = key_tag(k, kl);
        leaf->h.n++;
        prev = rec_key(rec, &prevl);
        count++;
        bytes += kl + vl;
    }
    if (!leaf)
        goto unlock; /* no input: the tree stays empty */
    if (cur.n > 1 && leaf->h.n < leaf_min(t))
        rebalance_last(t, &cur);
    /* every leaf but the first gets its separator: a copy of its first key */
    for (size_t i = 1; i < cur.n; i++) {
        size_t kl;
        const uint8_t *k = rec_key(((bpt_leaf *)cur.node[i])->rec[0], &kl);
        cur.sep[i] = bpt_sep_new(t, k, kl);
        if (!cur.sep[i]) {
            rc = BPT_ENOMEM;
            for (size_t j = i; j < cur.n; j++)
                cur.sep[j] = NULL;
            goto free_levels;
        }
    }

    /* phase 2: inner levels until one node is left */
    while (cur.n > 1) {
        size_t parents = (cur.n + t->order - 1) / t->order, j = 0;
        for (size_t p = 0; p < parents; p++) {
            size_t take = cur.n / parents + (p < cur.n % parents);
            bpt_inner *in = bpt_inner_new(t);
            if (!in || level_push(t, &up, &in->h, cur.sep[j]) != BPT_OK) {
                if (in)
                    bpt_node_free(t, &in->h);
                rc = BPT_ENOMEM;
                goto free_up;
            }
            in->child[0] = cur.node[j];
            for (size_t c = 1; c < take; c++) {
                in->child[c] = cur.node[j + c];
                bpt_inner_set_key(t, in, (unsigned)(c - 1), cur.sep[j + c]);
            }
            in->h.n = (uint16_t)(take - 1);
            j += take;
        }
        level_free(t, &cur, false, 0);
        cur = up;
        up = (struct level){0};
        height++;
    }
    bpt_node_free(t, t->root); /* the empty root leaf */
    t->root = cur.node[0];
    t->height = height;
    t->count = count;
    t->bytes = bytes;
    level_free(t, &cur, false, 0);
    goto unlock;

free_up:
    /* the parents made so far are shells: their children and separators
     * are still owned by cur, which frees them below */
    for (size_t p = 0; p < up.n; p++)
        bpt_node_free(t, up.node[p]);
    level_free(t, &up, false, 0);
free_levels:
    level_free(t, &cur, true, height);
unlock:
    bpt_port_write_unlock(t->lock);
    return rc;
    /* END SOLUTION */
}
