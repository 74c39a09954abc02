/*
 * btree_operations.c — the two writes of the B+ tree: insert with split
 * and delete with borrow and merge.
 *
 * Insert. Descend from the root, remembering the path (each inner node and
 * the child index taken). In the leaf, an equal key has its record
 * replaced. Otherwise the new record goes into its sorted slot; a leaf
 * that now holds `order` entries (one more than it may) splits: the left
 * half keeps ceil(order/2) entries, the right half, a new leaf linked in
 * after it, gets the rest, and a copy of the right half's first key goes
 * up to the parent as the separator. An inner node that overflows in turn
 * splits around its median: the left keeps ceil((order+1)/2) children,
 * the median separator moves up (it is not copied: it leaves the node),
 * the right gets the rest. A split root gets a new root above it; that is
 * the only way the tree grows taller, so every leaf stays at one depth.
 *
 *   before (order 4, full leaf)      after inserting 25
 *        [ 10 | 20 | 30 ]               [ 10 | 20 ] -> [ 25 | 30 ]
 *                                      separator 25 goes up to the parent
 *
 * Delete. Remove the record from its leaf. A non-root node left below its
 * minimum (floor(order/2) entries for a leaf, ceil(order/2) children for an
 * inner node) first tries to borrow from its left sibling, then from its
 * right one (a sibling above its minimum gives one entry; for leaves the
 * parent's separator becomes a copy of the right node's new first key, for
 * inner nodes the separator rotates down and the sibling's edge key
 * rotates up). Without a rich sibling it merges with one: leaves
 * concatenate and drop their separator; inner nodes concatenate with the
 * separator pulled down between them. A merge removes one entry from the
 * parent, which may underflow in turn. A root left with no separator is
 * replaced by its only child: the tree shrinks by one level.
 *
 * Failure atomicity. Every allocation a write can need is made before the
 * tree is touched: the record, one new node per level that will split
 * (and a new root), the separator copy of a leaf split or of a leaf
 * borrow. So BPT_ENOMEM always leaves the tree exactly as it was.
 *
 * Locking: both writes hold the tree's write lock for their whole run.
 * Kernel-portable (bpt_port.h only).
 */
#include "btree_int.h"

struct path_step {
    bpt_inner *n;
    unsigned idx; /* child taken */
};

/* descend to the leaf for k, recording the inner nodes passed */
static bpt_leaf *descend(bpt_tree *t, const uint8_t *k, size_t kl, struct path_step *path,
                         unsigned *depth)
{
    bpt_node *n = t->root;
    bpt_pfx pfx = key_prefix(k, kl);
    unsigned d = 0;
    while (!n->leaf) {
        bpt_inner *in = (bpt_inner *)n;
        unsigned i = bpt_inner_find(t, in, k, kl, pfx);
        path[d].n = in;
        path[d].idx = i;
        d++;
        n = in->child[i];
    }
    *depth = d;
    return (bpt_leaf *)n;
}

static int check_args(const void *key, size_t klen, const void *val, size_t vlen)
{
    if (!key || klen == 0 || (!val && vlen))
        return BPT_EINVAL;
    if (klen > BPT_MAX_KEY || vlen > BPT_MAX_VALUE)
        return BPT_ETOOBIG;
    return BPT_OK;
}

/* ---- insert ------------------------------------------------------------------ */

/* put slot i of leaf l, shifting the slots at and after i right by one */
static void leaf_insert_at(bpt_tree *t, bpt_leaf *l, unsigned i, uint8_t *rec, uint8_t tag)
{
    uint8_t *tags = leaf_tags(t, l);
    bpt_memmove(&l->rec[i + 1], &l->rec[i], (l->h.n - i) * sizeof(l->rec[0]));
    bpt_memmove(&tags[i + 1], &tags[i], l->h.n - i);
    l->rec[i] = rec;
    tags[i] = tag;
    l->h.n++;
}

/* move slots [from, n) of leaf l to the empty leaf r, linking r after l */
static void leaf_split(bpt_tree *t, bpt_leaf *l, bpt_leaf *r, unsigned from)
{
    /* STUB: (void)t; (void)l; (void)r; (void)from; bpt_port_not_implemented(__func__); */
    /* BEGIN SOLUTION */
    unsigned cnt = l->h.n - from;
    bpt_memcpy(r->rec, &l->rec[from], cnt * sizeof(l->rec[0]));
    bpt_memcpy(leaf_tags(t, r), leaf_tags(t, l) + from, cnt);
    r->h.n = (uint16_t)cnt;
    l->h.n = (uint16_t)from;
    r->next = l->next;
    if (r->next)
        r->next->prev = r;
    r->prev = l;
    l->next = r;
    t->splits++;
    /* END SOLUTION */
}

/* put separator sep at key slot i and child c at child slot i+1 of n */
static void inner_insert_at(bpt_tree *t, bpt_inner *n, unsigned i, uint8_t *sep, bpt_node *c)
{
    uint8_t **keys = inner_keys(t, n);
    bpt_pfx *pfx = inner_pfx(t, n);
    bpt_memmove(&keys[i + 1], &keys[i], (n->h.n - i) * sizeof(keys[0]));
    bpt_memmove(&pfx[i + 1], &pfx[i], (n->h.n - i) * sizeof(pfx[0]));
    bpt_memmove(&n->child[i + 2], &n->child[i + 1], (n->h.n - i) * sizeof(n->child[0]));
    bpt_inner_set_key(t, n, i, sep);
    n->child[i + 1] = c;
    n->h.n++;
}

/* split the overflowing inner node n (order separators) into n and the
 * empty node r; returns the median separator, which leaves both */
static uint8_t *inner_split(bpt_tree *t, bpt_inner *n, bpt_inner *r)
{
    /* STUB: (void)t; (void)n; (void)r; bpt_port_not_implemented(__func__); return NULL; */
    /* BEGIN SOLUTION */
    unsigned left_children = (t->order + 2) / 2;  /* ceil((order+1)/2) */
    unsigned mid = left_children - 1;             /* the separator that goes up */
    unsigned rkeys = n->h.n - mid - 1;
    uint8_t *median = inner_keys(t, n)[mid];

    bpt_memcpy(inner_keys(t, r), inner_keys(t, n) + mid + 1, rkeys * sizeof(uint8_t *));
    bpt_memcpy(inner_pfx(t, r), inner_pfx(t, n) + mid + 1, rkeys * sizeof(bpt_pfx));
    bpt_memcpy(r->child, n->child + mid + 1, (rkeys + 1) * sizeof(bpt_node *));
    r->h.n = (uint16_t)rkeys;
    n->h.n = (uint16_t)mid;
    t->splits++;
    return median;
    /* END SOLUTION */
}

int bpt_put(bpt_tree *t, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct path_step path[BPT_MAX_HEIGHT];
    bpt_node *spare[BPT_MAX_HEIGHT + 1];
    unsigned depth, nspare = 0, need = 0, i;
    const uint8_t *k = key;
    uint8_t *rec, *sep = NULL;
    bpt_node *carry;
    bpt_leaf *l;
    bool eq;
    int rc = check_args(key, klen, val, vlen);

    if (rc != BPT_OK)
        return rc;
    bpt_port_write_lock(t->lock);
    l = descend(t, k, klen, path, &depth);
    i = bpt_leaf_lower(l, k, klen, &eq);
    rec = bpt_rec_new(t, k, klen, val ? val : "", vlen);
    if (!rec) {
        rc = BPT_ENOMEM;
        goto unlock;
    }
    if (eq) { /* overwrite: same key, same tag, new record */
        size_t ol, ovl;
        const uint8_t *ok, *ov;
        rec_get(l->rec[i], &ok, &ol, &ov, &ovl);
        t->bytes = t->bytes - ovl + vlen;
        bpt_rec_free(t, l->rec[i]);
        l->rec[i] = rec;
        goto unlock;
    }

    /* Count the splits: the leaf if full, then every full ancestor in a row;
     * a full root means a new root too. Allocate all of it first. */
    if (l->h.n == node_max(t)) {
        unsigned s = (t->order + 1) / 2; /* first slot of the right half after the insert */
        const uint8_t *sk;
        size_t sl;
        need = 1;
        for (unsigned d = depth; d > 0 && path[d - 1].n->h.n == node_max(t); d--)
            need++;
        if (need == depth + 1)
            need++; /* the root splits: a new root above it */
        if (s == i) {
            sk = k;
            sl = klen;
        } else {
            sk = rec_key(l->rec[s < i ? s : s - 1], &sl);
        }
        sep = bpt_sep_new(t, sk, sl);
        if (!sep)
            goto nomem;
        for (nspare = 0; nspare < need; nspare++) {
            /* level 0 of the spares is the leaf's new sibling, the rest inner nodes */
            spare[nspare] = nspare == 0 ? (bpt_node *)bpt_leaf_new(t)
                                        : (bpt_node *)bpt_inner_new(t);
            if (!spare[nspare])
                goto nomem;
        }
    }

    leaf_insert_at(t, l, i, rec, key_tag(k, klen));
    t->count++;
    t->bytes += klen + vlen;
    if (!need)
        goto unlock;

    /* split the leaf, then carry (sep, carry) up the path */
    leaf_split(t, l, (bpt_leaf *)spare[0], (t->order + 1) / 2);
    carry = spare[0];
    for (unsigned s = 1, d = depth; d > 0; d--) {
        bpt_inner *p = path[d - 1].n;
        inner_insert_at(t, p, path[d - 1].idx, sep, carry);
        if (p->h.n <= node_max(t)) {
            carry = NULL;
            break;
        }
        carry = spare[s++];
        sep = inner_split(t, p, (bpt_inner *)carry);
    }
    if (carry) { /* the root split: grow by one level */
        bpt_inner *root = (bpt_inner *)spare[need - 1];
        root->child[0] = t->root;
        root->child[1] = carry;
        bpt_inner_set_key(t, root, 0, sep);
        root->h.n = 1;
        t->root = &root->h;
        t->height++;
    }
    goto unlock;

nomem:
    while (nspare > 0) {
        nspare--;
        bpt_node_free(t, spare[nspare]);
    }
    bpt_sep_free(t, sep);
    bpt_rec_free(t, rec);
    rc = BPT_ENOMEM;
unlock:
    bpt_port_write_unlock(t->lock);
    return rc;
}

/* ---- delete ------------------------------------------------------------------ */

/* remove separator i and child i+1 of n */
static void inner_remove_at(bpt_tree *t, bpt_inner *n, unsigned i)
{
    uint8_t **keys = inner_keys(t, n);
    bpt_pfx *pfx = inner_pfx(t, n);
    unsigned after = n->h.n - i - 1;
    bpt_memmove(&keys[i], &keys[i + 1], after * sizeof(keys[0]));
    bpt_memmove(&pfx[i], &pfx[i + 1], after * sizeof(pfx[0]));
    bpt_memmove(&n->child[i + 1], &n->child[i + 2], after * sizeof(n->child[0]));
    n->h.n--;
}

static void leaf_remove_at(bpt_tree *t, bpt_leaf *l, unsigned i)
{
    uint8_t *tags = leaf_tags(t, l);
    unsigned after = l->h.n - i - 1;
    bpt_memmove(&l->rec[i], &l->rec[i + 1], after * sizeof(l->rec[0]));
    bpt_memmove(&tags[i], &tags[i + 1], after);
    l->h.n--;
}

/* merge child li+1 of p into child li (separator li between them) */
static void merge_children(bpt_tree *t, bpt_inner *p, unsigned li)
{
    /* STUB: (void)t; (void)p; (void)li; (void)inner_remove_at; bpt_port_not_implemented(__func__); */
    /* BEGIN SOLUTION */
    bpt_node *a = p->child[li], *b = p->child[li + 1];
    uint8_t *sep = inner_keys(t, p)[li];

    if (a->leaf) {
        bpt_leaf *la = (bpt_leaf *)a, *lb = (bpt_leaf *)b;
        bpt_memcpy(&la->rec[a->n], lb->rec, b->n * sizeof(la->rec[0]));
        bpt_memcpy(leaf_tags(t, la) + a->n, leaf_tags(t, lb), b->n);
        la->h.n = (uint16_t)(a->n + b->n);
        la->next = lb->next;
        if (la->next)
            la->next->prev = la;
        bpt_sep_free(t, sep); /* leaves need no separator between them */
    } else {
        bpt_inner *ia = (bpt_inner *)a, *ib = (bpt_inner *)b;
        unsigned n = a->n;
        bpt_inner_set_key(t, ia, n, sep); /* the separator comes down */
        bpt_memcpy(inner_keys(t, ia) + n + 1, inner_keys(t, ib), b->n * sizeof(uint8_t *));
        bpt_memcpy(inner_pfx(t, ia) + n + 1, inner_pfx(t, ib), b->n * sizeof(bpt_pfx));
        bpt_memcpy(&ia->child[n + 1], ib->child, (b->n + 1) * sizeof(bpt_node *));
        ia->h.n = (uint16_t)(n + 1 + b->n);
    }
    inner_remove_at(t, p, li);
    bpt_node_free(t, b);
    t->merges++;
    /* END SOLUTION */
}

/* inner node c (child idx of p) takes the last child of its left sibling */
static void inner_borrow_left(bpt_tree *t, bpt_inner *p, unsigned idx)
{
    /* STUB: (void)t; (void)p; (void)idx; bpt_port_not_implemented(__func__); */
    /* BEGIN SOLUTION */
    bpt_inner *c = (bpt_inner *)p->child[idx], *s = (bpt_inner *)p->child[idx - 1];
    uint8_t **ck = inner_keys(t, c);
    bpt_pfx *cp = inner_pfx(t, c);
    unsigned sn = s->h.n;

    bpt_memmove(&ck[1], &ck[0], c->h.n * sizeof(ck[0]));
    bpt_memmove(&cp[1], &cp[0], c->h.n * sizeof(cp[0]));
    bpt_memmove(&c->child[1], &c->child[0], (c->h.n + 1) * sizeof(c->child[0]));
    bpt_inner_set_key(t, c, 0, inner_keys(t, p)[idx - 1]);
    c->child[0] = s->child[sn];
    c->h.n++;
    bpt_inner_set_key(t, p, idx - 1, inner_keys(t, s)[sn - 1]);
    s->h.n--;
    t->borrows++;
    /* END SOLUTION */
}

/* inner node c (child idx of p) takes the first child of its right sibling */
static void inner_borrow_right(bpt_tree *t, bpt_inner *p, unsigned idx)
{
    /* STUB: (void)t; (void)p; (void)idx; bpt_port_not_implemented(__func__); */
    /* BEGIN SOLUTION */
    bpt_inner *c = (bpt_inner *)p->child[idx], *s = (bpt_inner *)p->child[idx + 1];
    uint8_t **sk = inner_keys(t, s);
    bpt_pfx *sp = inner_pfx(t, s);

    bpt_inner_set_key(t, c, c->h.n, inner_keys(t, p)[idx]);
    c->child[c->h.n + 1] = s->child[0];
    c->h.n++;
    bpt_inner_set_key(t, p, idx, sk[0]);
    bpt_memmove(&sk[0], &sk[1], (s->h.n - 1) * sizeof(sk[0]));
    bpt_memmove(&sp[0], &sp[1], (s->h.n - 1) * sizeof(sp[0]));
    bpt_memmove(&s->child[0], &s->child[1], s->h.n * sizeof(s->child[0]));
    s->h.n--;
    t->borrows++;
    /* END SOLUTION */
}

int bpt_delete(bpt_tree *t, const void *key, size_t klen)
{
    struct path_step path[BPT_MAX_HEIGHT];
    const uint8_t *k = key;
    uint8_t *newsep = NULL;
    int borrow = 0; /* leaf borrow: -1 from the left, 1 from the right */
    unsigned depth, i, d;
    bpt_leaf *l;
    bool eq;
    int rc = BPT_OK;

    if (!key || klen == 0)
        return BPT_EINVAL;
    if (klen > BPT_MAX_KEY)
        return BPT_ENOTFOUND;
    bpt_port_write_lock(t->lock);
    l = descend(t, k, klen, path, &depth);
    i = bpt_leaf_lower(l, k, klen, &eq);
    if (!eq) {
        rc = BPT_ENOTFOUND;
        goto unlock;
    }

    /* A leaf that will underflow and borrow needs a new separator: copy it
     * now, before anything changes. */
    if (depth > 0 && l->h.n - 1u < leaf_min(t)) {
        bpt_inner *p = path[depth - 1].n;
        unsigned idx = path[depth - 1].idx;
        bpt_leaf *left = idx > 0 ? (bpt_leaf *)p->child[idx - 1] : NULL;
        bpt_leaf *right = idx < p->h.n ? (bpt_leaf *)p->child[idx + 1] : NULL;
        const uint8_t *sk = NULL;
        size_t sl = 0;
        if (left && left->h.n > leaf_min(t)) {
            borrow = -1; /* left's last entry becomes our first */
            sk = rec_key(left->rec[left->h.n - 1], &sl);
        } else if (right && right->h.n > leaf_min(t)) {
            borrow = 1; /* right's second entry becomes its first */
            sk = rec_key(right->rec[1], &sl);
        }
        if (borrow) {
            newsep = bpt_sep_new(t, sk, sl);
            if (!newsep) {
                rc = BPT_ENOMEM;
                goto unlock;
            }
        }
    }

    {
        const uint8_t *rk, *rv;
        size_t rl, vl;
        rec_get(l->rec[i], &rk, &rl, &rv, &vl);
        t->bytes -= rl + vl;
        t->count--;
        bpt_rec_free(t, l->rec[i]);
        leaf_remove_at(t, l, i);
    }

    if (borrow) {
        bpt_inner *p = path[depth - 1].n;
        unsigned idx = path[depth - 1].idx;
        if (borrow < 0) {
            bpt_leaf *left = (bpt_leaf *)p->child[idx - 1];
            leaf_insert_at(t, l, 0, left->rec[left->h.n - 1],
                           leaf_tags(t, left)[left->h.n - 1]);
            left->h.n--;
            bpt_sep_free(t, inner_keys(t, p)[idx - 1]);
            bpt_inner_set_key(t, p, idx - 1, newsep);
        } else {
            bpt_leaf *right = (bpt_leaf *)p->child[idx + 1];
            leaf_insert_at(t, l, l->h.n, right->rec[0], leaf_tags(t, right)[0]);
            leaf_remove_at(t, right, 0);
            bpt_sep_free(t, inner_keys(t, p)[idx]);
            bpt_inner_set_key(t, p, idx, newsep);
        }
        t->borrows++;
        goto unlock;
    }

    /* merges, from the leaf upward, while a node is below its minimum */
    for (d = depth; d > 0; d--) {
        bpt_inner *p = path[d - 1].n;
        unsigned idx = path[d - 1].idx;
        bpt_node *c = p->child[idx];
        if (c->leaf ? c->n >= leaf_min(t) : c->n >= inner_min(t))
            break;
        if (!c->leaf) {
            if (idx > 0 && p->child[idx - 1]->n > inner_min(t)) {
                inner_borrow_left(t, p, idx);
                break;
            }
            if (idx < p->h.n && p->child[idx + 1]->n > inner_min(t)) {
                inner_borrow_right(t, p, idx);
                break;
            }
        }
        merge_children(t, p, idx > 0 ? idx - 1 : idx);
    }
    if (!t->root->leaf && t->root->n == 0) { /* shrink: the only child becomes the root */
        bpt_inner *old = (bpt_inner *)t->root;
        t->root = old->child[0];
        bpt_node_free(t, &old->h);
        t->height--;
    }
unlock:
    bpt_port_write_unlock(t->lock);
    return rc;
}
