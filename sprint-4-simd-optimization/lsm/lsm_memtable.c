/*
 * lsm_memtable.c — the memtable: a skiplist of internal keys in an arena.
 *
 * Every write of the LSM tree lands here first (after the WAL). The
 * skiplist keeps entries sorted by internal key (user key, then sequence
 * descending), so a lookup seeks to (key, snapshot) and finds the newest
 * visible version, and a flush walks it in order into an SSTable.
 *
 * How it works (after LevelDB's db/skiplist.h). A node has a random height
 * h (P(h > i) = 4^-i, at most 12) and h forward pointers. Nodes, keys and
 * values are bump-allocated from 256 KiB arena blocks, freed all at once
 * with the memtable. Concurrency: one writer at a time (the engine's mutex)
 * and any number of lock-free readers. The writer fills a node completely
 * (lsm_mem_prepare), then links it bottom-up, publishing each pointer with
 * a release store; readers load pointers with acquire, so a reader that
 * sees a node sees its contents. Nodes are never unlinked or moved.
 *
 * The search (find_ge) compares user keys with the simd part's installed
 * comparison called directly, and does not compare a node again one level
 * down when it was already found >= the target a level up (it usually is:
 * a tall node is also the next node on the levels below).
 *
 * Callers must not link from two threads at once, must not link a node
 * twice, and must hold a reference (lsm_mem_ref) while reading.
 */
#include "lsm_int.h"
#include "lsm_simd.h"

#define MEM_MAX_HEIGHT 12
#define ARENA_BLOCK (256u << 10)

struct lsm_mem_node {
    uint32_t kn, vn;          /* internal key length, value length */
    uint8_t height;
    _Atomic(lsm_mem_node *) next[]; /* then key bytes, then value bytes */
};

typedef struct arena_block {
    struct arena_block *prev;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} arena_block;

struct lsm_mem {
    atomic_int refs;
    arena_block *blocks;
    atomic_size_t bytes;     /* arena blocks allocated */
    atomic_size_t used;      /* bytes handed out: what fills the memtable */
    atomic_uint_fast64_t entries;
    uint64_t rng;
    lsm_mem_node *head;
    atomic_int height;
};

static void *arena_alloc(lsm_mem *m, size_t n)
{
    arena_block *b = m->blocks;
    n = (n + 15) & ~(size_t)15;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
        arena_block *nb = kv_malloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        nb->cap = cap;
        nb->used = 0;
        if (n > ARENA_BLOCK / 4 && b) { /* a big entry gets its own block, behind the current */
            nb->prev = b->prev;
            b->prev = nb;
        } else {
            nb->prev = b;
            m->blocks = nb;
        }
        atomic_fetch_add(&m->bytes, sizeof *nb + cap);
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += n;
    atomic_fetch_add(&m->used, n);
    return p;
}

static unsigned char *node_key(lsm_mem_node *n)
{
    return (unsigned char *)&n->next[n->height];
}

int lsm_mem_new(lsm_mem **out)
{
    lsm_mem *m = kv_calloc(1, sizeof *m);
    *out = NULL;
    if (!m)
        return kv_fail(KV_ENOMEM, "lsm: out of memory for a memtable");
    atomic_init(&m->refs, 1);
    m->rng = 0x2545f4914f6cdd1dULL;
    m->head = arena_alloc(m, sizeof(lsm_mem_node) + MEM_MAX_HEIGHT * sizeof(lsm_mem_node *));
    if (!m->head) {
        kv_free(m);
        return kv_fail(KV_ENOMEM, "lsm: out of memory for a memtable");
    }
    m->head->height = MEM_MAX_HEIGHT;
    m->head->kn = m->head->vn = 0;
    for (int i = 0; i < MEM_MAX_HEIGHT; i++)
        atomic_init(&m->head->next[i], NULL);
    atomic_init(&m->height, 1);
    *out = m;
    return KV_OK;
}

void lsm_mem_ref(lsm_mem *m)
{
    atomic_fetch_add(&m->refs, 1);
}

void lsm_mem_unref(lsm_mem *m)
{
    if (!m || atomic_fetch_sub(&m->refs, 1) != 1)
        return;
    for (arena_block *b = m->blocks, *p; b; b = p) {
        p = b->prev;
        kv_free(b);
    }
    kv_free(m);
}

size_t lsm_mem_bytes(const lsm_mem *m)
{
    return atomic_load(&m->used);
}

size_t lsm_mem_footprint(const lsm_mem *m)
{
    return atomic_load(&m->bytes);
}

uint64_t lsm_mem_entries(const lsm_mem *m)
{
    return atomic_load(&m->entries);
}

static int random_height(lsm_mem *m)
{
    int h = 1;
    uint64_t x = m->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    m->rng = x;
    while (h < MEM_MAX_HEIGHT && (x & 3) == 0) {
        h++;
        x >>= 2;
    }
    return h;
}

int lsm_mem_prepare(lsm_mem *m, uint64_t seq, unsigned type, const void *k, size_t kn,
                    const void *v, size_t vn, lsm_mem_node **out)
{
    int h = random_height(m);
    size_t ikn = kn + LSM_TRAILER;
    if (ikn > UINT32_MAX || vn > UINT32_MAX)
        return kv_fail(KV_ETOOBIG, "lsm: entry too large for the memtable");
    lsm_mem_node *n = arena_alloc(m, sizeof *n + (size_t)h * sizeof(lsm_mem_node *) + ikn + vn);
    if (!n)
        return kv_fail(KV_ENOMEM, "lsm: out of memory for a memtable entry");
    n->kn = (uint32_t)ikn;
    n->vn = (uint32_t)vn;
    n->height = (uint8_t)h;
    for (int i = 0; i < h; i++)
        atomic_init(&n->next[i], NULL);
    unsigned char *p = node_key(n);
    memcpy(p, k, kn);
    lsm_put_le64(p + kn, lsm_trailer(seq, type));
    if (vn)
        memcpy(p + ikn, v, vn);
    *out = n;
    return KV_OK;
}

/* Internal-key order of a node's key against key (kn >= LSM_TRAILER):
 * lsm_ikey_cmp's, with the user-key comparison the simd part installed
 * called directly (ucmp) instead of through two more calls. */
static inline int node_cmp(lsm_simd_cmp_fn ucmp, lsm_mem_node *n, const uint8_t *key, size_t kn)
{
    const unsigned char *nk = node_key(n);
    int c = ucmp(nk, n->kn - LSM_TRAILER, key, kn - LSM_TRAILER);
    if (c)
        return c;
    uint64_t ta = kv_load_le64(nk + n->kn - LSM_TRAILER);
    uint64_t tb = kv_load_le64(key + kn - LSM_TRAILER);
    return ta > tb ? -1 : ta < tb;
}

/* The first node >= key, and (when prev != NULL) the last node < key at each
 * level. A node found >= key at one level is often the next one again a
 * level down: it is not compared twice (`bigger`). */
static lsm_mem_node *find_ge(lsm_mem *m, const void *key, size_t kn, lsm_mem_node **prev)
{
    lsm_simd_cmp_fn ucmp;
    lsm_simd_active(NULL, &ucmp);
    lsm_mem_node *x = m->head, *bigger = NULL;
    int level = atomic_load_explicit(&m->height, memory_order_relaxed) - 1;
    for (;;) {
        lsm_mem_node *nx = atomic_load_explicit(&x->next[level], memory_order_acquire);
        if (nx && nx != bigger) {
            /* start fetching the node after nx while nx's key is compared */
            __builtin_prefetch(atomic_load_explicit(&nx->next[level], memory_order_relaxed));
            if (node_cmp(ucmp, nx, key, kn) < 0) {
                x = nx;
                continue;
            }
        }
        bigger = nx;
        if (prev)
            prev[level] = x;
        if (level == 0)
            return nx;
        level--;
    }
}

void lsm_mem_link(lsm_mem *m, lsm_mem_node *n)
{
    /* STUB:
    (void)m; (void)n;
    kv_fail(KV_ENOTSUP, "not implemented: %s", __func__);
    */
    /* BEGIN SOLUTION */
    lsm_mem_node *prev[MEM_MAX_HEIGHT];
    int h = atomic_load_explicit(&m->height, memory_order_relaxed);
    find_ge(m, node_key(n), n->kn, prev);
    if (n->height > h) {
        for (int i = h; i < n->height; i++)
            prev[i] = m->head;
        atomic_store_explicit(&m->height, n->height, memory_order_relaxed);
    }
    for (int i = 0; i < n->height; i++) {
        atomic_store_explicit(&n->next[i],
                              atomic_load_explicit(&prev[i]->next[i], memory_order_relaxed),
                              memory_order_relaxed);
        atomic_store_explicit(&prev[i]->next[i], n, memory_order_release);
    }
    atomic_fetch_add(&m->entries, 1);
    /* END SOLUTION */
}

int lsm_mem_get(lsm_mem *m, const void *k, size_t kn, uint64_t seq, unsigned *type, kv_buf *val)
{
    /* STUB:
    (void)m; (void)k; (void)kn; (void)seq; (void)type; (void)val;
    return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__);
    */
    /* BEGIN SOLUTION */
    unsigned char stack[256], *target = stack;
    if (kn + LSM_TRAILER > sizeof stack && !(target = kv_malloc(kn + LSM_TRAILER)))
        return kv_fail(KV_ENOMEM, "lsm: out of memory for a lookup key");
    memcpy(target, k, kn);
    lsm_put_le64(target + kn, lsm_trailer(seq, LSM_TYPE_VALUE));
    lsm_mem_node *n = find_ge(m, target, kn + LSM_TRAILER, NULL);
    if (target != stack)
        kv_free(target);
    if (!n || lsm_ukey_cmp(node_key(n), n->kn - LSM_TRAILER, k, kn) != 0)
        return KV_ENOTFOUND;
    *type = node_key(n)[n->kn - LSM_TRAILER] & 0xff;
    if (*type == LSM_TYPE_VALUE && val)
        return kv_buf_set(val, node_key(n) + n->kn, n->vn);
    return KV_OK;
    /* END SOLUTION */
}

/* ---- iterator ---------------------------------------------------------------- */

typedef struct mem_iter {
    lsm_iter base;
    lsm_mem *m;
    lsm_mem_node *cur;
} mem_iter;

static void mi_first(lsm_iter *it)
{
    mem_iter *mi = (mem_iter *)it;
    mi->cur = atomic_load_explicit(&mi->m->head->next[0], memory_order_acquire);
}

static void mi_seek(lsm_iter *it, const void *k, size_t n)
{
    mem_iter *mi = (mem_iter *)it;
    mi->cur = find_ge(mi->m, k, n, NULL);
}

static void mi_next(lsm_iter *it)
{
    mem_iter *mi = (mem_iter *)it;
    if (mi->cur)
        mi->cur = atomic_load_explicit(&mi->cur->next[0], memory_order_acquire);
}

static bool mi_valid(const lsm_iter *it)
{
    return ((const mem_iter *)it)->cur != NULL;
}

static void mi_key(const lsm_iter *it, const void **k, size_t *n)
{
    lsm_mem_node *c = ((const mem_iter *)it)->cur;
    *k = node_key(c);
    *n = c->kn;
}

static void mi_value(const lsm_iter *it, const void **v, size_t *n)
{
    lsm_mem_node *c = ((const mem_iter *)it)->cur;
    *v = node_key(c) + c->kn;
    *n = c->vn;
}

static int mi_status(const lsm_iter *it)
{
    (void)it;
    return KV_OK;
}

static void mi_close(lsm_iter *it)
{
    mem_iter *mi = (mem_iter *)it;
    lsm_mem_unref(mi->m);
    kv_free(mi);
}

static const lsm_iter_ops mem_iter_ops = {
    .first = mi_first, .seek = mi_seek, .next = mi_next, .valid = mi_valid,
    .key = mi_key, .value = mi_value, .status = mi_status, .close = mi_close,
};

int lsm_mem_iter(lsm_mem *m, lsm_iter **out)
{
    mem_iter *mi = kv_calloc(1, sizeof *mi);
    *out = NULL;
    if (!mi)
        return kv_fail(KV_ENOMEM, "lsm: out of memory for a memtable iterator");
    mi->base.ops = &mem_iter_ops;
    mi->m = m;
    lsm_mem_ref(m);
    *out = &mi->base;
    return KV_OK;
}
