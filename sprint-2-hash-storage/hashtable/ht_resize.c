/*
 * ht_resize.c — when a shard's array grows, and how its entries move:
 * incremental resizing.
 *
 * What this layer is. Every strategy has a load limit: for open addressing
 * the used slots (live entries plus tombstones) of an array may not exceed
 * max_load x capacity, for chaining the entries may not exceed max_load x
 * buckets. ht_make_room() is called before each insert of a new key and
 * keeps that promise, by starting a resize (a new, larger array), a
 * rebuild (a new array of the same or a smaller size, to drop tombstones),
 * or, with resizing off, by refusing the key (HT_EFULL).
 *
 * Why incremental. Doubling an array by moving every entry at once makes
 * one unlucky write pay O(n): at 10M keys in 64 shards, a write that
 * triggers a doubling copies ~150K entries, milliseconds of stall, while
 * every other write takes a few hundred nanoseconds. The p99.9 latency of
 * the table is then the doubling. Redis's dict does it incrementally, and
 * so does this table (the default, HT_RESIZE_INCREMENTAL):
 *
 *     before            start of resize                      during
 *   cur [#####-]   old [#####-]  cur [------------]    old [··###-]  cur [###--#-##---]
 *                  (the new array is allocated;        (the cursor has passed the first
 *                   nothing has moved yet)               slots of old: they are empty)
 *     done:  old freed, cur [#####-#-##---]
 *
 *   - the new array becomes `cur`, the full one becomes `old`;
 *   - every write to the shard (put or delete) first moves the entries of
 *     the next HT_MIGRATE_STEP slots of old into cur (ht_migrate_step),
 *     following a cursor (migrate_pos); when the cursor reaches the end,
 *     old is freed;
 *   - lookups search cur, then old; a key lives in exactly one of them;
 *   - new keys always go into cur; an overwrite or delete of a key still
 *     in old is done in old, without moving slots there (the cursor walks
 *     old by position, and a backward shift could move an entry behind it).
 *
 * The invariant that makes it safe: for every shard,
 *
 *     cur.live + cur.tombs + old.live  <=  limit(cur.cap)
 *
 * i.e. even if everything still in old moved now, cur would be within its
 * load limit. A new array is sized so that all live entries fill at most
 * half of its limit (a full array doubles), so there is room for as many
 * inserts as there are entries to move while the cursor walks old. An
 * insert that would break the invariant first finishes the migration
 * (everything fits, by the invariant), and then, if cur itself is at its
 * limit, starts the next resize. So no array ever exceeds its
 * load limit, and open-addressing arrays always keep an empty slot, which
 * their probe loops rely on to terminate.
 *
 * HT_RESIZE_ALL does the same but migrates everything at once (the classic
 * stop-the-world doubling, kept for comparison in the benchmark).
 * HT_RESIZE_OFF never grows an array: it only rebuilds at the same size when
 * tombstones fill it, and refuses a new key (HT_EFULL) when the live keys
 * themselves have reached the limit. That defines "the table is full".
 *
 * Optimistic readers (ht_core.c) may be walking an array while it is
 * replaced: the caller keeps the shard's sequence counter odd around every
 * change, and an array left behind is retired (ht_retire_tab()), freed
 * after the readers that could see it have gone.
 *
 * Allocation failure: the new array is allocated before anything changes;
 * if that fails, ht_make_room() returns HT_ENOMEM and the shard is exactly
 * as before. Migrating allocates nothing.
 *
 * Kernel-portable: core file, includes only the core's headers.
 */
#include "hashtable_int.h"

/* Largest array a shard may have (2^40 slots: more than any memory). */
#define HT_MAX_CAP ((size_t)1 << 40)

size_t ht_limit(const ht_table *t, size_t cap)
{
    return (size_t)((uint64_t)cap * t->load_pm / 1000);
}

/* Used slots of an array: live entries plus tombstones. */
static size_t used(const ht_tab *tab)
{
    return tab->live + tab->tombs;
}

/* Move the entries of one slot (or bucket) of old into cur. */
static void migrate_pos(ht_table *t, ht_shard *s, size_t pos)
{
    ht_entry *e;
    uint64_t hash;

    while ((e = t->ops->take(&s->old, pos, &hash)) != NULL) {
        int rc = t->ops->insert(&s->cur, hash, e);
        (void)rc; /* cannot fail: room was reserved when the resize started */
    }
}

void ht_migrate_step(ht_table *t, ht_shard *s, size_t budget)
{
    while (budget-- && s->migrate_pos < s->old.cap)
        migrate_pos(t, s, s->migrate_pos++);
    if (s->migrate_pos >= s->old.cap || s->old.live == 0) {
        /* done: nothing live is left in old (the rest is tombstones); an
         * optimistic reader may still be walking it, so it is retired */
        ht_retire_tab(t, s, &s->old);
        s->migrate_pos = 0;
    }
}

static void migrate_all(ht_table *t, ht_shard *s)
{
    ht_migrate_step(t, s, (size_t)-1);
}

/*
 * The capacity for a new array holding `live` entries: the smallest power
 * of two, not below the shard's minimum, whose limit is at least twice
 * live (so a full array doubles) and above live (room for the insert that
 * asked). It may be smaller than the current one (a rebuild after many
 * deletes shrinks back towards the initial size). 0 when too large.
 */
static size_t pick_cap(const ht_table *t, const ht_shard *s, size_t live)
{
    size_t cap = s->min_cap;

    while (2 * (uint64_t)live > ht_limit(t, cap) || live + 1 > ht_limit(t, cap)) {
        if (cap >= HT_MAX_CAP)
            return 0;
        cap *= 2;
    }
    return cap;
}

/* Replace cur with a new array of cap slots and start moving into it. */
static int start_resize(ht_table *t, ht_shard *s, size_t cap)
{
    ht_tab fresh = {0};

    /* the node that will retire the array left behind, then the new array */
    if (ht_retire_reserve(t, s) != HT_OK || t->ops->tab_alloc(&fresh, cap) != HT_OK)
        return HT_ENOMEM;
    s->old = s->cur;
    s->cur = fresh;
    s->migrate_pos = 0;
    s->resizes++;
    if (t->resize != HT_RESIZE_INCREMENTAL || s->old.live == 0)
        migrate_all(t, s);
    return HT_OK;
}

int ht_make_room(ht_table *t, ht_shard *s)
{
    for (;;) {
        size_t cap;

        if (used(&s->cur) + s->old.live + 1 <= ht_limit(t, s->cur.cap))
            return HT_OK;
        if (s->old.cap) {
            /* finish the running migration first: everything fits (invariant) */
            migrate_all(t, s);
            continue;
        }
        if (t->resize == HT_RESIZE_OFF) {
            if (s->cur.live + 1 > ht_limit(t, s->cur.cap))
                return HT_EFULL;
            cap = s->cur.cap; /* tombstones are the problem: rebuild in place */
        } else {
            cap = pick_cap(t, s, s->cur.live);
            if (!cap)
                return HT_ENOMEM;
        }
        if (start_resize(t, s, cap) != HT_OK)
            return HT_ENOMEM;
    }
}
