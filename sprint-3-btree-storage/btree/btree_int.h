/*
 * btree_int.h — the private header of the B+ tree part: node layout,
 * records, key comparison and the helpers every core file shares.
 *
 * Layers of the part, lowest first (calls go only downward):
 *   btree_port_user.c    the port (bpt_port.h) for user space
 *   btree_core.c         records, nodes, search; create/destroy, get, scan, stats
 *   btree_operations.c   put (insert with split) and delete (borrow and merge)
 *   btree_bulk.c         bulk load from sorted input
 *   btree_check.c        bpt_check, the invariant checker
 *   btree_dot.c          bpt_dot, the Graphviz printer
 *   btree_engine.c       engine "btree": the kv.h adapter (not kernel code)
 *
 * Layout. A node starts with a header (entry count and kind). A leaf then
 * has its prev/next links and, in one allocation, `order` record pointers
 * followed by `order` one-byte hash tags (one slot more than a full leaf
 * holds: an insert lands in the spare slot, then the leaf splits). An inner
 * node has `order+1` child pointers, `order` separator pointers and `order`
 * 16-byte prefixes, with the same one-spare-slot rule.
 *
 * A record (an entry of a leaf) and a separator (a key of an inner node)
 * are byte blocks: varint(klen) [varint(vlen) for a record] key [value].
 * Varints are 7 bits per byte, low group first (LEB128): 16-byte keys and
 * 100-byte values cost one byte each, so a 116-byte entry is a 118-byte
 * block, one 128-byte glibc chunk.
 *
 * Nothing here may include a libc header: this is kernel-portable code.
 */
#ifndef BTREE_INT_H
#define BTREE_INT_H

#include "bpt.h"

/* deepest tree the fixed-size paths allow: order 3 keeps >= 2 children
 * per inner node, so 64 levels are 2^63 leaves */
#define BPT_MAX_HEIGHT 64

typedef struct bpt_node {
    uint16_t n;    /* entries (leaf) or separators (inner) */
    uint8_t leaf;  /* 1 for a leaf */
    uint8_t spare;
} bpt_node;

typedef struct bpt_leaf {
    bpt_node h;
    struct bpt_leaf *prev, *next;
    uint8_t *rec[]; /* [order] records, then [order] tags */
} bpt_leaf;

typedef struct bpt_inner {
    bpt_node h;
    bpt_node *child[]; /* [order+1] children, [order] separators, [order] prefixes */
} bpt_inner;

/* a key's first 16 bytes as two big-endian words (bpt_key_prefix) */
typedef struct bpt_pfx {
    uint64_t hi, lo;
} bpt_pfx;

struct bpt_tree {
    bpt_port_lock *lock;
    bpt_node *root;
    unsigned order;
    unsigned height;   /* levels; 1 when the root is a leaf */
    uint64_t count;    /* live entries */
    uint64_t bytes;    /* sum of key and value lengths */
    uint64_t mem;      /* bpt_port_alloc_size of every block held */
    uint64_t leaves, inners;
    uint64_t splits, merges, borrows;
};

/* ---- node accessors ------------------------------------------------------ */

static inline uint8_t *leaf_tags(const bpt_tree *t, bpt_leaf *l)
{
    return (uint8_t *)(l->rec + t->order);
}
static inline uint8_t **inner_keys(const bpt_tree *t, bpt_inner *n)
{
    return (uint8_t **)(n->child + t->order + 1);
}
static inline bpt_pfx *inner_pfx(const bpt_tree *t, bpt_inner *n)
{
    return (bpt_pfx *)(inner_keys(t, n) + t->order);
}
/* fewest entries a non-root leaf / separators a non-root inner node holds */
static inline unsigned leaf_min(const bpt_tree *t)
{
    return t->order / 2;
}
static inline unsigned inner_min(const bpt_tree *t)
{
    return (t->order + 1) / 2 - 1;
}
static inline unsigned node_max(const bpt_tree *t)
{
    return t->order - 1;
}

/* ---- varints and blocks ----------------------------------------------------- */

static inline size_t varint_len(size_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}
static inline uint8_t *varint_put(uint8_t *p, size_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}
static inline const uint8_t *varint_get(const uint8_t *p, size_t *v)
{
    size_t r = 0;
    unsigned s = 0;
    while (*p & 0x80) {
        r |= (size_t)(*p++ & 0x7f) << s;
        s += 7;
    }
    *v = r | ((size_t)*p++ << s);
    return p;
}

/* a record's or separator's key: its bytes and length */
static inline const uint8_t *blk_key(const uint8_t *b, size_t *klen)
{
    return varint_get(b, klen);
}
/* a record: key, value */
static inline void rec_get(const uint8_t *r, const uint8_t **k, size_t *kl, const uint8_t **v,
                           size_t *vl)
{
    r = varint_get(r, kl);
    r = varint_get(r, vl);
    *k = r;
    *v = r + *kl;
}
static inline size_t rec_size(size_t kl, size_t vl)
{
    return varint_len(kl) + varint_len(vl) + kl + vl;
}
static inline size_t rec_block_size(const uint8_t *r)
{
    size_t kl, vl;
    r = varint_get(r, &kl);
    varint_get(r, &vl);
    return rec_size(kl, vl);
}
/* a record's key (skipping the value length) */
static inline const uint8_t *rec_key(const uint8_t *r, size_t *kl)
{
    size_t vl;
    r = varint_get(r, kl);
    return varint_get(r, &vl);
}

/* ---- keys ---------------------------------------------------------------- */

/* bytewise order, the shorter key first on a tie */
static inline int key_cmp(const void *a, size_t al, const void *b, size_t bl)
{
    int c = bpt_memcmp(a, b, al < bl ? al : bl);
    if (c)
        return c;
    return al < bl ? -1 : al > bl;
}

/* the first 16 bytes as two big-endian words, zero-padded: comparing two
 * prefixes (pfx_cmp) orders the keys, unless they are equal (then compare
 * the keys). Sixteen bytes, not eight: keys that share their first bytes
 * (a one-letter tag and a big-endian counter, as kvbench's) would tie on
 * eight and cost a separator dereference, a cache miss, per tie. */
static inline uint64_t key_word(const uint8_t *k, size_t kl, size_t from)
{
    uint64_t p = 0;
    if (kl >= from + 8) { /* the common case: one load */
        bpt_memcpy(&p, k + from, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        p = __builtin_bswap64(p);
#endif
        return p;
    }
    for (size_t i = from; i < from + 8; i++)
        p = (p << 8) | (i < kl ? k[i] : 0);
    return p;
}
static inline bpt_pfx key_prefix(const uint8_t *k, size_t kl)
{
    bpt_pfx p;
    p.hi = key_word(k, kl, 0);
    p.lo = key_word(k, kl, 8);
    return p;
}
/* -1, 0 or 1 as prefix a orders before, ties with or orders after b */
static inline int pfx_cmp(bpt_pfx a, bpt_pfx b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo)
        return a.lo < b.lo ? -1 : 1;
    return 0;
}

/* the one-byte hash tag of a leaf slot (never compared across trees) */
static inline uint8_t key_tag(const uint8_t *k, size_t kl)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ kl;
    size_t i = 0;
    for (; i + 8 <= kl; i += 8) {
        uint64_t w;
        bpt_memcpy(&w, k + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
    }
    for (; i < kl; i++)
        h = (h ^ k[i]) * 0x100000001b3ull;
    h ^= h >> 32;
    h *= 0xc4ceb9fe1a85ec53ull;
    return (uint8_t)(h >> 56);
}

/* ---- shared by the core files (btree_core.c) ------------------------------ */

void *bpt_alloc(bpt_tree *t, size_t n);
void bpt_free(bpt_tree *t, void *p, size_t n);
bpt_leaf *bpt_leaf_new(bpt_tree *t);
bpt_inner *bpt_inner_new(bpt_tree *t);
void bpt_node_free(bpt_tree *t, bpt_node *n);
size_t bpt_node_size(const bpt_tree *t, int leaf);
uint8_t *bpt_rec_new(bpt_tree *t, const void *k, size_t kl, const void *v, size_t vl);
void bpt_rec_free(bpt_tree *t, uint8_t *r);
uint8_t *bpt_sep_new(bpt_tree *t, const uint8_t *k, size_t kl);
void bpt_sep_free(bpt_tree *t, uint8_t *s);
void bpt_free_subtree(bpt_tree *t, bpt_node *n, unsigned height);
/* child index for key k in inner node n */
unsigned bpt_inner_find(const bpt_tree *t, bpt_inner *n, const uint8_t *k, size_t kl,
                        bpt_pfx pfx);
/* first slot of leaf l whose key is >= k (l->h.n if none); *eq when equal */
unsigned bpt_leaf_lower(bpt_leaf *l, const uint8_t *k, size_t kl, bool *eq);
/* set separator slot i of inner node n (pointer and prefix) */
void bpt_inner_set_key(const bpt_tree *t, bpt_inner *n, unsigned i, uint8_t *sep);

#endif /* BTREE_INT_H */
