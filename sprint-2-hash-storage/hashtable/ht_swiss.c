/*
 * ht_swiss.c — collision strategy "swiss": open addressing in groups of 16
 * slots, each slot described by one control byte, matched 16 at a time
 * with SIMD (the design of Google's SwissTable / Abseil's flat_hash_map,
 * and of Rust's hashbrown).
 *
 * Two arrays of `cap` entries (cap a multiple of 16):
 *
 *   ctrl  [ 0x80 0x15 0x80 0x7a 0xfe ... ]   one byte per slot:
 *                                             0x80 EMPTY, 0xFE DELETED,
 *                                             0x00..0x7F FULL + 7-bit tag of its hash
 *   ptrs  [  -   &e1   -   &e2   -   ... ]   the entry pointers
 *
 * The hash splits into parts: the top 8 bits choose the shard, the next 7
 * are the TAG (ht_tag()), the low bits choose the home GROUP. A lookup:
 *
 *   g = home group
 *   loop:
 *     m = match(ctrl[g*16 .. g*16+15], tag)      one SSE2 compare + movemask
 *     for each bit i in m:                        ~1 candidate in 128 is a false match
 *       if entry ptrs[g*16+i] has the hash and the key → found
 *     if the group has an EMPTY byte → absent     (the key would have gone there)
 *     g = next group in the probe sequence
 *
 * so a lookup touches one 16-byte line of control bytes per group and, in
 * the common case, exactly one entry: the one it is looking for. The probe
 * sequence over groups is triangular (g + 1, g + 3, g + 6, ...), which
 * visits every group once when the number of groups is a power of two.
 *
 * Each entry keeps its full 64-bit hash in an 8-byte prefix (the index
 * holds only a pointer per slot), so comparing it rules out the rare
 * false tag matches before the key is compared, and resizing never
 * rehashes a key.
 *
 * Deletion marks the byte DELETED (a tombstone), except when the group
 * already holds an EMPTY byte: then no lookup ever walked past this group
 * (it would have stopped there), so the slot can become EMPTY outright.
 * Tombstones count toward the load limit and vanish at the next rebuild.
 *
 * The group match itself is in ht_port.h: SSE2 on x86-64, NEON on AArch64,
 * SWAR (bit tricks on two 64-bit words) elsewhere and in the kernel; all
 * return the same mask (tests/test_group.c).
 *
 * Student exercise: find, insert and remove (fenced below).
 *
 * Kernel-portable: core file, includes only the core's headers.
 */
#include "hashtable_int.h"

static ht_entry **ptrs(const ht_tab *t)
{
    return (ht_entry **)t->arr;
}

/* Groups of the array minus one (the group mask). */
static size_t gmask(const ht_tab *t)
{
    return (t->cap / HT_GROUP) - 1;
}

/* The home group of a hash. */
static size_t home_group(const ht_tab *t, uint64_t hash)
{
    return (size_t)hash & gmask(t);
}

/* Lowest set bit's index; m must not be 0. (Marked unused: only the fenced
 * solution regions call it, and the starter kit must build warning-free.) */
static inline __attribute__((unused)) unsigned lowest(ht_mask m)
{
    return (unsigned)__builtin_ctz(m);
}

static int sw_alloc(ht_tab *t, size_t cap)
{
    size_t pbytes = cap * sizeof(ht_entry *);

    t->ctrl = ht_port_alloc(cap);
    t->arr = ht_port_zalloc(pbytes);
    if (!t->ctrl || !t->arr) {
        ht_port_free(t->ctrl);
        ht_port_free(t->arr);
        t->ctrl = NULL;
        t->arr = NULL;
        return HT_ENOMEM;
    }
    ht_memset(t->ctrl, HT_CTRL_EMPTY, cap);
    t->cap = cap;
    t->mask = cap - 1;
    t->live = t->tombs = 0;
    t->mem = ht_port_alloc_size(t->ctrl, cap) + ht_port_alloc_size(t->arr, pbytes);
    return HT_OK;
}

static ht_entry *sw_find(const ht_tab *t, ht_eq_fn eq, uint64_t hash, const void *key,
                         size_t klen, ht_loc *loc)
{
    /* STUB: (void)t; (void)eq; (void)hash; (void)key; (void)klen; (void)loc; ht_port_not_implemented(__func__); return NULL; */
    /* BEGIN SOLUTION */
    ht_entry *const *p = ptrs(t);
    uint8_t tag = ht_tag(hash);
    size_t g = home_group(t, hash), gm = gmask(t);

    for (size_t step = 0; step <= gm; step++) {
        const uint8_t *ctrl = t->ctrl + g * HT_GROUP;
        ht_prefetch(&p[g * HT_GROUP]); /* the group's pointers (two lines of 8), */
        ht_prefetch(&p[g * HT_GROUP + 8]); /* while its control bytes load */
        for (ht_mask m = ht_group_match(ctrl, tag); m; m &= m - 1) {
            size_t i = g * HT_GROUP + lowest(m);
            ht_entry *e = p[i];
            if (ht_unlikely(!e))
                continue; /* an optimistic reader saw a writer mid-way */
            ht_prefetch_entry(e); /* the value, while the key loads */
            if (ht_entry_hash(e) == hash && ht_key_eq(eq, e, key, klen)) {
                loc->pos = i;
                return e;
            }
        }
        if (ht_likely(ht_group_match_empty(ctrl)))
            return NULL;
        g = (g + step + 1) & gm; /* triangular: +1, +2, +3, ... */
    }
    return NULL; /* every group visited (no EMPTY byte left anywhere) */
    /* END SOLUTION */
}

static int sw_insert(ht_tab *t, uint64_t hash, ht_entry *e)
{
    /* STUB: (void)t; (void)hash; (void)e; ht_port_not_implemented(__func__); return HT_ENOTSUP; */
    /* BEGIN SOLUTION */
    size_t g = home_group(t, hash), gm = gmask(t);

    /* A free slot exists (load limit < 1) and the sequence visits every group. */
    for (size_t step = 0;; step++) {
        ht_mask m = ht_group_match_free(t->ctrl + g * HT_GROUP);
        if (m) {
            size_t i = g * HT_GROUP + lowest(m);
            if (t->ctrl[i] == HT_CTRL_DELETED)
                t->tombs--;
            t->ctrl[i] = ht_tag(hash);
            ptrs(t)[i] = e;
            t->live++;
            return HT_OK;
        }
        g = (g + step + 1) & gm;
    }
    /* END SOLUTION */
}

static void sw_replace(ht_tab *t, const ht_loc *loc, ht_entry *e)
{
    ptrs(t)[loc->pos] = e;
}

static void sw_remove(ht_tab *t, const ht_loc *loc, bool in_old)
{
    /* STUB: (void)t; (void)loc; (void)in_old; ht_port_not_implemented(__func__); */
    /* BEGIN SOLUTION */
    size_t i = loc->pos;

    (void)in_old; /* no slot moves: the same in the array being migrated from */
    t->live--;
    ptrs(t)[i] = NULL;
    if (ht_group_match_empty(t->ctrl + (i & ~(size_t)(HT_GROUP - 1)))) {
        t->ctrl[i] = HT_CTRL_EMPTY; /* no lookup ever walked past this group */
    } else {
        t->ctrl[i] = HT_CTRL_DELETED;
        t->tombs++;
    }
    /* END SOLUTION */
}

static ht_entry *sw_take(ht_tab *t, size_t pos, uint64_t *hash)
{
    ht_entry *e;

    if (t->ctrl[pos] & 0x80)
        return NULL;
    e = ptrs(t)[pos];
    *hash = ht_entry_hash(e);
    ptrs(t)[pos] = NULL;
    t->ctrl[pos] = HT_CTRL_DELETED;
    t->live--;
    t->tombs++;
    return e;
}

/* Probe length: how many groups past the home group the entry sits, in the
 * triangular sequence (found by walking the sequence). */
static size_t probe_groups(const ht_tab *t, size_t slot, uint64_t hash)
{
    size_t g = home_group(t, hash), gm = gmask(t), want = slot / HT_GROUP;

    for (size_t step = 0; step <= gm; step++) {
        if (g == want)
            return step;
        g = (g + step + 1) & gm;
    }
    return (size_t)-1; /* unreachable group: ht_check reports it */
}

static void sw_walk(const ht_tab *t, ht_walk_fn fn, void *arg)
{
    ht_entry *const *p = ptrs(t);

    for (size_t i = 0; i < t->cap; i++) {
        if (t->ctrl[i] & 0x80)
            continue;
        uint64_t h = ht_entry_hash(p[i]);
        fn(arg, h, p[i], probe_groups(t, i, h));
    }
}

/* Control bytes agree with the pointers and tags; the tombstone count is exact;
 * no group between a key's home group and its own group holds an EMPTY byte. */
static const char *sw_check(const ht_tab *t, bool in_old)
{
    ht_entry *const *p = ptrs(t);
    size_t tombs = 0;

    if (t->cap % HT_GROUP)
        return "swiss: capacity not a multiple of the group size";
    for (size_t i = 0; i < t->cap; i++) {
        uint8_t c = t->ctrl[i];
        if (c == HT_CTRL_EMPTY || c == HT_CTRL_DELETED) {
            tombs += c == HT_CTRL_DELETED;
            if (p[i])
                return "swiss: a free slot holds a pointer";
            continue;
        }
        if (c & 0x80)
            return "swiss: an invalid control byte";
        if (!p[i] || ht_tag(ht_entry_hash(p[i])) != c)
            return "swiss: a control byte does not match its entry's tag";
        size_t g = home_group(t, ht_entry_hash(p[i])), gm = gmask(t);
        for (size_t step = 0; g != i / HT_GROUP; step++) {
            if (step > gm || ht_group_match_empty(t->ctrl + g * HT_GROUP))
                return "swiss: an entry is unreachable from its home group";
            g = (g + step + 1) & gm;
        }
    }
    if (!in_old && tombs != t->tombs)
        return "swiss: tombstone count differs from the control bytes";
    return NULL;
}

const ht_strategy_ops ht_ops_swiss = {
    .name = "swiss",
    .prefix = 8,
    .min_cap = HT_GROUP,
    .default_load_pm = 875,
    .max_load_pm = 990,
    .tab_alloc = sw_alloc,
    .tab_free = ht_tab_free_arrays,
    .find = sw_find,
    .insert = sw_insert,
    .replace = sw_replace,
    .remove = sw_remove,
    .take = sw_take,
    .walk = sw_walk,
    .check = sw_check,
};
