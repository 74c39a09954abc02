/*
 * ht_linear.c — collision strategy "linear": open addressing with linear
 * probing and tombstone deletion.
 *
 * The array is `cap` slots of {hash, entry pointer}. A key's home slot is
 * `hash & mask`; if it is taken, the key goes to the next free slot after
 * it, wrapping around at the end. A lookup walks the same way from the home
 * slot until it finds the key or an EMPTY slot:
 *
 *     home(A)=2 home(B)=2 home(C)=3 home(D)=6          lookup(C): 3? B. 4? C. found
 *      0     1     2     3     4     5     6     7       lookup(E), home 3: 3, 4, 5=EMPTY: miss
 *    [   ] [   ] [ A ] [ B ] [ C ] [   ] [ D ] [   ]
 *                        \_ B probed 1 slot past its home; C too
 *
 * Deleting cannot just empty the slot: a lookup of C would then stop at the
 * hole left by B and miss C. So a delete leaves a TOMBSTONE (HT_MOVED): a
 * lookup walks past it, an insert may reuse it. Tombstones count toward the
 * load limit (they lengthen probes like live keys do) and are dropped when
 * the shard rebuilds its array (ht_resize.c). One cheap cleanup: when the
 * slot after a deleted one is EMPTY, no probe sequence can pass through the
 * deleted slot, so it becomes EMPTY, and so does every tombstone just
 * before it.
 *
 * Why keep the full hash in the slot: comparing 8 bytes in the slot array
 * rejects almost every non-matching slot without touching the entry (a
 * cache miss), and resizing needs no rehashing.
 *
 * Strengths: the simplest open addressing, and the most cache-friendly walk
 * (consecutive slots). Weakness: primary clustering — runs of full slots
 * merge, and the expected probes of a miss grow like 1/(1-load)^2 (about 8
 * at load 0.75, 50 at 0.9). The default max_load is therefore 0.75.
 *
 * Student exercise: find, insert and remove (fenced below); the helpers and
 * the array management are given.
 *
 * Kernel-portable: core file, includes only the core's headers.
 */
#include "hashtable_int.h"

static ht_slot *slots(const ht_tab *t)
{
    return (ht_slot *)t->arr;
}

static int lin_alloc(ht_tab *t, size_t cap)
{
    return ht_tab_alloc_zeroed(t, cap, sizeof(ht_slot)); /* all zero: EMPTY */
}

static ht_entry *lin_find(const ht_tab *t, ht_eq_fn eq, uint64_t hash, const void *key,
                          size_t klen, ht_loc *loc)
{
    /* STUB: (void)t; (void)eq; (void)hash; (void)key; (void)klen; (void)loc; ht_port_not_implemented(__func__); return NULL; */
    /* BEGIN SOLUTION */
    const ht_slot *sl = slots(t);
    size_t i = hash & t->mask;

    /* An EMPTY slot always exists (load limit < 1), so this terminates. */
    for (;;) {
        ht_entry *e = sl[i].e;
        if (!e)
            return NULL;
        if (sl[i].hash == hash && e != HT_MOVED) {
            ht_prefetch_entry(e); /* the value, while the key loads */
            if (ht_key_eq(eq, e, key, klen)) {
                loc->pos = i;
                return e;
            }
        }
        i = (i + 1) & t->mask;
    }
    /* END SOLUTION */
}

static int lin_insert(ht_tab *t, uint64_t hash, ht_entry *e)
{
    /* STUB: (void)t; (void)hash; (void)e; ht_port_not_implemented(__func__); return HT_ENOTSUP; */
    /* BEGIN SOLUTION */
    ht_slot *sl = slots(t);
    size_t i = hash & t->mask;

    /* The key is absent: take the first tombstone or empty slot of its run. */
    while (sl[i].e && sl[i].e != HT_MOVED)
        i = (i + 1) & t->mask;
    if (sl[i].e == HT_MOVED)
        t->tombs--;
    sl[i].hash = hash;
    sl[i].e = e;
    t->live++;
    return HT_OK;
    /* END SOLUTION */
}

static void lin_replace(ht_tab *t, const ht_loc *loc, ht_entry *e)
{
    slots(t)[loc->pos].e = e;
}

static void lin_remove(ht_tab *t, const ht_loc *loc, bool in_old)
{
    /* STUB: (void)t; (void)loc; (void)in_old; ht_port_not_implemented(__func__); */
    /* BEGIN SOLUTION */
    ht_slot *sl = slots(t);
    size_t i = loc->pos;

    (void)in_old; /* turning tombstones into EMPTY moves no entry: fine in old too */
    t->live--;
    if (sl[(i + 1) & t->mask].e) {
        sl[i].e = HT_MOVED; /* a probe may pass through here: leave a tombstone */
        t->tombs++;
        return;
    }
    /* The next slot is EMPTY: nothing probes past i, nor past tombstones before it. */
    sl[i].e = NULL;
    for (i = (i - 1) & t->mask; sl[i].e == HT_MOVED; i = (i - 1) & t->mask) {
        sl[i].e = NULL;
        t->tombs--;
    }
    /* END SOLUTION */
}

static ht_entry *lin_take(ht_tab *t, size_t pos, uint64_t *hash)
{
    ht_slot *sl = slots(t);
    ht_entry *e = sl[pos].e;

    if (!e || e == HT_MOVED)
        return NULL;
    *hash = sl[pos].hash;
    sl[pos].e = HT_MOVED;
    t->live--;
    t->tombs++;
    return e;
}

static void lin_walk(const ht_tab *t, ht_walk_fn fn, void *arg)
{
    const ht_slot *sl = slots(t);

    for (size_t i = 0; i < t->cap; i++) {
        ht_entry *e = sl[i].e;
        if (e && e != HT_MOVED)
            fn(arg, sl[i].hash, e, (i - (sl[i].hash & t->mask)) & t->mask);
    }
}

/* Every live key must be reachable from its home slot without crossing an EMPTY slot. */
static const char *lin_check(const ht_tab *t, bool in_old)
{
    const ht_slot *sl = slots(t);
    size_t tombs = 0;

    for (size_t i = 0; i < t->cap; i++) {
        if (sl[i].e == HT_MOVED) {
            tombs++;
            continue;
        }
        if (!sl[i].e)
            continue;
        for (size_t j = sl[i].hash & t->mask; j != i; j = (j + 1) & t->mask)
            if (!sl[j].e)
                return "linear: an EMPTY slot between a key's home and its slot";
    }
    if (!in_old && tombs != t->tombs)
        return "linear: tombstone count differs from the array";
    return NULL;
}

const ht_strategy_ops ht_ops_linear = {
    .name = "linear",
    .prefix = 0,
    .min_cap = 8,
    .default_load_pm = 750,
    .max_load_pm = 990,
    .tab_alloc = lin_alloc,
    .tab_free = ht_tab_free_arrays,
    .find = lin_find,
    .insert = lin_insert,
    .replace = lin_replace,
    .remove = lin_remove,
    .take = lin_take,
    .walk = lin_walk,
    .check = lin_check,
};
