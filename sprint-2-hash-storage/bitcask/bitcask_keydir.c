/*
 * bitcask_keydir.c — the key directory: for every live key, where its
 * newest record is.
 *
 * The keydir is the sprint-2 hash table (ht.h): key -> bc_loc, a fixed
 * 24-byte value (file id, value size, offset, timestamp). A get is one
 * lookup here and one read of the data file. The table's lookups take no
 * lock (a sequence counter per shard), so gets from many threads look keys
 * up in parallel; only the store's single writer changes it.
 *
 * The rule every change follows: **a record replaces the keydir's entry
 * only when it is at least as new** (timestamp >= the entry's). At open
 * the files are loaded oldest first, so this never refuses anything
 * there; it is the guard that makes the result independent of the order
 * records are applied in, and stops a stale record (a merge output loaded
 * next to the files it replaced, for example) from hiding a newer one.
 * A tombstone removes the key under the same rule.
 *
 * The keydir also keeps three totals of what it points to (live keys,
 * their key+value bytes, their record bytes on disk), which give kv_stats
 * and the dead-space ratio that triggers an automatic merge.
 *
 * ENOMEM: ht_put allocates a new entry even to overwrite, and leaves the
 * table unchanged when it cannot; the totals change only after success.
 */
#include <string.h>

#include "bitcask_format.h"
#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "kvlabs/hash.h"

static uint64_t kd_hash(const void *p, size_t n)
{
    return kv_xxh3_64(p, n);
}

int bc_keydir_init(bc_keydir *kd)
{
    ht_config cfg = {.strategy = HT_SWISS, .hash = kd_hash, .buckets = 4096};

    memset(kd, 0, sizeof(*kd));
    cfg.eq = kv_hash_active()->key_eq;
    if (ht_create(&cfg, &kd->t) != HT_OK)
        return kv_fail(KV_ENOMEM, "bitcask: out of memory for the keydir");
    return KV_OK;
}

void bc_keydir_free(bc_keydir *kd)
{
    ht_destroy(kd->t);
    kd->t = NULL;
}

int bc_keydir_get(bc_keydir *kd, const void *key, size_t klen, bc_loc *out)
{
    size_t vlen = 0;
    int rc = ht_get_copy(kd->t, key, klen, out, sizeof(*out), &vlen);

    if (rc == HT_OK && vlen != sizeof(*out))
        return kv_fail(KV_ECORRUPT, "bitcask: keydir entry of %zu bytes", vlen);
    return rc == HT_OK ? KV_OK : KV_ENOTFOUND;
}

/* Remove an entry's share of the totals. */
static void totals_sub(bc_keydir *kd, size_t klen, const bc_loc *old)
{
    kd->keys--;
    kd->bytes -= klen + old->vsize;
    kd->disk -= bc_rec_size((uint32_t)klen, old->vsize);
}

int bc_keydir_put(bc_keydir *kd, const void *key, size_t klen, const bc_loc *loc, bool *applied)
{
    /* STUB: (void)kd; (void)key; (void)klen; (void)loc; if (applied) *applied = false; return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__); */
    /* BEGIN SOLUTION */
    bc_loc old;
    bool had = bc_keydir_get(kd, key, klen, &old) == KV_OK;

    if (applied)
        *applied = false;
    if (had && old.ts > loc->ts)
        return KV_OK; /* the keydir already has a newer record */
    if (ht_put(kd->t, key, klen, loc, sizeof(*loc)) != HT_OK)
        return kv_fail(KV_ENOMEM, "bitcask: out of memory in the keydir");
    if (had)
        totals_sub(kd, klen, &old);
    kd->keys++;
    kd->bytes += klen + loc->vsize;
    kd->disk += bc_rec_size((uint32_t)klen, loc->vsize);
    if (applied)
        *applied = true;
    return KV_OK;
    /* END SOLUTION */
}

int bc_keydir_del(bc_keydir *kd, const void *key, size_t klen, uint64_t ts)
{
    /* STUB: (void)kd; (void)key; (void)klen; (void)ts; (void)totals_sub; return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__); */
    /* BEGIN SOLUTION */
    bc_loc old;

    if (bc_keydir_get(kd, key, klen, &old) != KV_OK)
        return KV_ENOTFOUND;
    if (old.ts > ts)
        return KV_OK; /* a newer put outlives this tombstone */
    ht_delete(kd->t, key, klen);
    totals_sub(kd, klen, &old);
    return KV_OK;
    /* END SOLUTION */
}
