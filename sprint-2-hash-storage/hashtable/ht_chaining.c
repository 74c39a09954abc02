/*
 * ht_chaining.c — collision strategy "chaining": separate chaining, an
 * array of buckets each heading a singly linked list of entries.
 *
 *   buckets        nodes (one allocation each: node header, then the entry)
 *   [0] ─► NULL
 *   [1] ─► [next|hash|A...] ─► [next|hash|C...] ─► NULL     A and C: hash & mask == 1
 *   [2] ─► NULL
 *   [3] ─► [next|hash|B...] ─► NULL
 *
 * A key lives in bucket `hash & mask`. Lookup walks that bucket's list,
 * comparing the stored hash first and the key only when the hashes agree.
 * Insert pushes onto the head of the list (O(1): the caller already knows
 * the key is absent). Delete unlinks the node: no tombstones, and nothing
 * else moves, so deletion needs no special care during a migration.
 *
 * The load factor here is entries per bucket and may exceed 1 (max_load up
 * to 16): a chain at load 2 is still short. The cost is memory and cache
 * misses: every node is its own allocation with a 16-byte header (next
 * pointer and hash), and walking a chain jumps between them. Open
 * addressing keeps the index in one array; that is why the other three
 * strategies exist.
 *
 * The node header is the strategy's entry prefix (hashtable_int.h): the core
 * allocates prefix + entry as one block and stores the hash in the
 * prefix's last 8 bytes, so a node is found from its entry by subtracting
 * the prefix size.
 *
 * Student exercise: find, insert and remove (fenced below).
 *
 * Kernel-portable: core file, includes only the core's headers.
 */
#include "hashtable_int.h"

/* The prefix of a chained entry. */
typedef struct ht_node {
    struct ht_node *next; /* next node of the bucket, or NULL */
    uint64_t hash;        /* written by the core when the entry is made */
} ht_node;

static ht_node *node_of(ht_entry *e)
{
    return (ht_node *)(void *)((unsigned char *)e - sizeof(ht_node));
}

static ht_entry *entry_of(ht_node *n)
{
    return (ht_entry *)(void *)((unsigned char *)n + sizeof(ht_node));
}

static ht_node **heads(const ht_tab *t)
{
    return (ht_node **)t->arr;
}

static int ch_alloc(ht_tab *t, size_t cap)
{
    return ht_tab_alloc_zeroed(t, cap, sizeof(ht_node *)); /* all zero: EMPTY */
}

static ht_entry *ch_find(const ht_tab *t, ht_eq_fn eq, uint64_t hash, const void *key,
                         size_t klen, ht_loc *loc)
{
    /* STUB: (void)t; (void)eq; (void)hash; (void)key; (void)klen; (void)loc; ht_port_not_implemented(__func__); return NULL; */
    /* BEGIN SOLUTION */
    ht_node **link = &heads(t)[hash & t->mask];

    for (ht_node *n = *link; n; link = &n->next, n = n->next) {
        if (n->hash == hash && ht_key_eq(eq, entry_of(n), key, klen)) {
            loc->pos = hash & t->mask;
            loc->link = link;
            return entry_of(n);
        }
    }
    return NULL;
    /* END SOLUTION */
}

static int ch_insert(ht_tab *t, uint64_t hash, ht_entry *e)
{
    /* STUB: (void)t; (void)hash; (void)e; ht_port_not_implemented(__func__); return HT_ENOTSUP; */
    /* BEGIN SOLUTION */
    ht_node *n = node_of(e), **head = &heads(t)[hash & t->mask];

    n->hash = hash;
    n->next = *head;
    *head = n;
    t->live++;
    return HT_OK;
    /* END SOLUTION */
}

static void ch_replace(ht_tab *t, const ht_loc *loc, ht_entry *e)
{
    ht_node **link = loc->link, *n = node_of(e);

    (void)t;
    n->next = (*link)->next;
    *link = n;
}

static void ch_remove(ht_tab *t, const ht_loc *loc, bool in_old)
{
    /* STUB: (void)t; (void)loc; (void)in_old; ht_port_not_implemented(__func__); */
    /* BEGIN SOLUTION */
    ht_node **link = loc->link;

    (void)in_old; /* unlinking moves no other entry */
    *link = (*link)->next;
    t->live--;
    /* END SOLUTION */
}

static ht_entry *ch_take(ht_tab *t, size_t pos, uint64_t *hash)
{
    ht_node *n = heads(t)[pos];

    if (!n)
        return NULL;
    heads(t)[pos] = n->next;
    *hash = n->hash;
    t->live--;
    return entry_of(n);
}

static void ch_walk(const ht_tab *t, ht_walk_fn fn, void *arg)
{
    for (size_t b = 0; b < t->cap; b++) {
        size_t depth = 0;
        for (ht_node *n = heads(t)[b], *next; n; n = next, depth++) {
            next = n->next; /* fn may free the node */
            fn(arg, n->hash, entry_of(n), depth);
        }
    }
}

/* Every node sits in the bucket of its hash. */
static const char *ch_check(const ht_tab *t, bool in_old)
{
    (void)in_old;
    if (t->tombs)
        return "chaining: tombstones counted";
    for (size_t b = 0; b < t->cap; b++)
        for (ht_node *n = heads(t)[b]; n; n = n->next)
            if ((n->hash & t->mask) != b)
                return "chaining: a node in the wrong bucket";
    return NULL;
}

const ht_strategy_ops ht_ops_chaining = {
    .name = "chaining",
    .prefix = sizeof(ht_node),
    .min_cap = 4,
    .default_load_pm = 1000,
    .max_load_pm = 16000,
    .tab_alloc = ch_alloc,
    .tab_free = ht_tab_free_arrays,
    .find = ch_find,
    .insert = ch_insert,
    .replace = ch_replace,
    .remove = ch_remove,
    .take = ch_take,
    .walk = ch_walk,
    .check = ch_check,
};
