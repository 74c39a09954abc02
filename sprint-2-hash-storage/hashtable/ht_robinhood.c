/*
 * ht_robinhood.c — collision strategy "robinhood": open addressing with
 * Robin Hood insertion and backward-shift deletion.
 *
 * Same array as linear probing ({hash, entry} slots, walk to the right),
 * with one rule added. Every entry has a DISTANCE: how far it sits past its
 * home slot, (slot - (hash & mask)) & mask. While inserting, the new key
 * walks right carrying its own distance; when it meets an entry closer to
 * its home than the walker is to its own ("richer"), the walker takes that
 * slot and the evicted entry continues the walk ("take from the rich, give
 * to the poor"):
 *
 *   insert X (home 2):  slot   2    3    4    5
 *                             [A0] [B1] [C0] [  ]      C is at distance 0, X would be at 2
 *                             X1 > ... X2 > C0: X takes slot 4, C moves on
 *                             [A0] [B1] [X2] [C1]
 *
 * The result: distances along a run never drop by more than one from a
 * slot to the next (dist[i+1] <= dist[i] + 1), and the variance of probe
 * lengths is tiny, even at 0.9 load. A lookup can stop early: once the
 * distance of the slot it looks at is smaller than the distance it has
 * walked, its key would have evicted that entry, so the key is absent.
 * Misses cost about as much as hits.
 *
 * Deletion by BACKWARD SHIFT instead of tombstones: after removing the
 * entry at slot i, shift each following entry one slot left, until an
 * EMPTY slot or an entry at distance 0 (already home):
 *
 *   delete A:   [A0] [B1] [X2] [C1] [  ]   →   [B0] [X1] [C0] [  ] [  ]
 *
 * So the array never holds tombstones, and the invariant survives.
 *
 * In the array being migrated from (ht_resize.c), slots must not move: the
 * migration cursor walks it by position, and a backward shift could carry
 * an entry back behind the cursor, where it would never be migrated. There
 * a removal only marks the slot HT_MOVED, keeping its hash, so distances,
 * and the early stop of lookups, stay right.
 *
 * Student exercise: find, insert and remove (fenced below).
 *
 * Kernel-portable: core file, includes only the core's headers.
 */
#include "hashtable_int.h"

static ht_slot *slots(const ht_tab *t)
{
    return (ht_slot *)t->arr;
}

/* How far slot i's entry sits past its home slot. */
static size_t dist(const ht_tab *t, size_t i, uint64_t hash)
{
    return (i - (hash & t->mask)) & t->mask;
}

static int rh_alloc(ht_tab *t, size_t cap)
{
    return ht_tab_alloc_zeroed(t, cap, sizeof(ht_slot)); /* all zero: EMPTY */
}

static ht_entry *rh_find(const ht_tab *t, ht_eq_fn eq, uint64_t hash, const void *key,
                         size_t klen, ht_loc *loc)
{
    /* STUB: (void)t; (void)eq; (void)hash; (void)key; (void)klen; (void)loc; ht_port_not_implemented(__func__); return NULL; */
    /* BEGIN SOLUTION */
    const ht_slot *sl = slots(t);
    size_t i = hash & t->mask;

    for (size_t d = 0;; d++, i = (i + 1) & t->mask) {
        ht_entry *e = sl[i].e;
        if (!e || dist(t, i, sl[i].hash) < d)
            return NULL; /* the key would have been placed before this slot */
        if (sl[i].hash == hash && e != HT_MOVED) {
            ht_prefetch_entry(e); /* the value, while the key loads */
            if (ht_key_eq(eq, e, key, klen)) {
                loc->pos = i;
                return e;
            }
        }
    }
    /* END SOLUTION */
}

static int rh_insert(ht_tab *t, uint64_t hash, ht_entry *e)
{
    /* STUB: (void)t; (void)hash; (void)e; ht_port_not_implemented(__func__); return HT_ENOTSUP; */
    /* BEGIN SOLUTION */
    ht_slot *sl = slots(t);
    ht_slot carry = {hash, e};
    size_t i = hash & t->mask, d = 0;

    /* Never called on an array being migrated from, so there is no HT_MOVED here. */
    for (;; i = (i + 1) & t->mask, d++) {
        size_t di;
        if (!sl[i].e) {
            sl[i] = carry;
            t->live++;
            return HT_OK;
        }
        di = dist(t, i, sl[i].hash);
        if (di < d) { /* a richer entry: swap, and carry it on */
            ht_slot tmp = sl[i];
            sl[i] = carry;
            carry = tmp;
            d = di;
        }
    }
    /* END SOLUTION */
}

static void rh_replace(ht_tab *t, const ht_loc *loc, ht_entry *e)
{
    slots(t)[loc->pos].e = e;
}

static void rh_remove(ht_tab *t, const ht_loc *loc, bool in_old)
{
    /* STUB: (void)t; (void)loc; (void)in_old; ht_port_not_implemented(__func__); */
    /* BEGIN SOLUTION */
    ht_slot *sl = slots(t);
    size_t i = loc->pos, next;

    t->live--;
    if (in_old) {
        sl[i].e = HT_MOVED; /* keep the hash: distances stay valid */
        return;
    }
    for (;; i = next) {
        next = (i + 1) & t->mask;
        if (!sl[next].e || dist(t, next, sl[next].hash) == 0)
            break;
        sl[i] = sl[next];
    }
    sl[i].e = NULL;
    sl[i].hash = 0;
    /* END SOLUTION */
}

static ht_entry *rh_take(ht_tab *t, size_t pos, uint64_t *hash)
{
    ht_slot *sl = slots(t);
    ht_entry *e = sl[pos].e;

    if (!e || e == HT_MOVED)
        return NULL;
    *hash = sl[pos].hash;
    sl[pos].e = HT_MOVED;
    t->live--;
    return e;
}

static void rh_walk(const ht_tab *t, ht_walk_fn fn, void *arg)
{
    const ht_slot *sl = slots(t);

    for (size_t i = 0; i < t->cap; i++) {
        ht_entry *e = sl[i].e;
        if (e && e != HT_MOVED)
            fn(arg, sl[i].hash, e, dist(t, i, sl[i].hash));
    }
}

/* The Robin Hood invariant: along occupied slots, dist[i+1] <= dist[i] + 1;
 * an entry after an EMPTY slot is at home; the current array has no markers. */
static const char *rh_check(const ht_tab *t, bool in_old)
{
    const ht_slot *sl = slots(t);

    for (size_t i = 0; i < t->cap; i++) {
        size_t next = (i + 1) & t->mask;
        if (!sl[next].e)
            continue;
        if (!in_old && sl[next].e == HT_MOVED)
            return "robinhood: a tombstone in the current array";
        if (!sl[i].e) {
            if (dist(t, next, sl[next].hash) != 0)
                return "robinhood: an entry after an EMPTY slot is not at home";
        } else if (dist(t, next, sl[next].hash) > dist(t, i, sl[i].hash) + 1) {
            return "robinhood: distance grows by more than one";
        }
    }
    return NULL;
}

const ht_strategy_ops ht_ops_robinhood = {
    .name = "robinhood",
    .prefix = 0,
    .min_cap = 8,
    .default_load_pm = 875,
    .max_load_pm = 990,
    .tab_alloc = rh_alloc,
    .tab_free = ht_tab_free_arrays,
    .find = rh_find,
    .insert = rh_insert,
    .replace = rh_replace,
    .remove = rh_remove,
    .take = rh_take,
    .walk = rh_walk,
    .check = rh_check,
};
