/*
 * test_cow_cache.c — cowbtree's page cache with a bound (`cache=`):
 * eviction, pins, and readers that keep evicted pages alive.
 *
 * The bugs these target: a cache that ignores its bound (nothing is ever
 * evicted), eviction of a page only memory holds (written since the last
 * checkpoint: the store loses it), eviction of a pinned page, a freed
 * buffer a snapshot still reads (AddressSanitizer sees it), a store larger
 * than the cache that reads back wrong. Every check compares with a model:
 * an array of the value version each key should have (0: absent).
 *
 * Every store, snapshot, pin and buffer a test opens is owned
 * (cow_test.h), so a failed assertion leaks nothing.
 *
 * What callers must not do: run these without the ASan build (a
 * use-after-free of an evicted page would then go unseen).
 */
/* through the lab's -I cow, as in test_cow.c */
#include "tests/cow_test.h"
#include "cow_int.h"

COW_SUITE(cache);

static double stat_extra(kv_db *db, const char *nm)
{
    kv_stats st;
    OK(kv_db_stats(db, &st));
    for (size_t i = 0; i < st.n_extra; i++)
        if (strcmp(st.extra[i].name, nm) == 0)
            return st.extra[i].value;
    cr_assert_fail("no stats extra %s", nm);
    return 0;
}

static void check_key(kv_db *db, unsigned i, unsigned ver)
{
    char k[32], v[64];
    static kv_buf b; /* owned: static, as a failed assertion leaves this frame */
    kvt_own(&b, kvt_buf_free_owned);
    int rc = kv_get(db, k, key_of(i, k), &b);
    if (ver == 0) {
        cr_assert_eq(rc, KV_ENOTFOUND, "key %u should be absent: %s", i, kv_strerror(rc));
    } else {
        size_t vl = val_of(i, ver, v);
        cr_assert_eq(rc, KV_OK, "key %u: %s", i, kv_last_error());
        cr_assert(b.len == vl && memcmp(b.data, v, vl) == 0, "key %u: wrong value", i);
    }
    kvt_drop(&b);
}

enum { NKEYS = 3000 };

/* A store of ~60 4 KiB pages behind a one-page cache: nearly every read
 * evicts; puts, deletes, checkpoints and reopens, checked against the model. */
Test(cache, tiny_cache_against_model, .timeout = 120)
{
    static unsigned model[NKEYS];
    const char *opts = "page_size=4K,cache=4K,checkpoint_commits=200";
    kv_db *db = open_db(opts);
    uint64_t s = 42;
    char k[32], v[64];

    for (unsigned round = 0; round < 3; round++) {
        for (unsigned op = 0; op < 4000; op++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            unsigned i = (unsigned)(s >> 33) % NKEYS, what = (unsigned)(s >> 20) % 8;
            if (what < 4) {
                model[i]++;
                OK(kv_put(db, k, key_of(i, k), v, val_of(i, model[i], v)));
            } else if (what == 4) {
                int rc = kv_delete(db, k, key_of(i, k));
                cr_assert_eq(rc, model[i] ? KV_OK : KV_ENOTFOUND, "delete of key %u", i);
                model[i] = 0;
            } else {
                check_key(db, i, model[i]);
            }
        }
        for (unsigned i = 0; i < NKEYS; i++)
            check_key(db, i, model[i]);
        cr_assert_gt(stat_extra(db, "page_evictions"), 0, "a one-page cache evicts");
        OK(kv_close(db));
        db = open_db(opts);
        for (unsigned i = 0; i < NKEYS; i++)
            check_key(db, i, model[i]);
    }
    {
        /* after reads only (every page on disk), the bound holds: the
           leaves read above did not all stay */
        cow_db *c = (cow_db *)db;
        cr_assert_leq(atomic_load(&c->pg.loaded), 4, "%llu pages in a one-page cache",
                      (unsigned long long)atomic_load(&c->pg.loaded));
    }
    OK(kv_close(db));
}

/* A reader's snapshot keeps reading the right bytes while the writer
 * commits and the evictor drops the pages it read (ASan catches a buffer
 * freed under it). */
Test(cache, snapshot_reads_while_pages_are_evicted, .timeout = 120)
{
    kv_db *db = open_db("page_size=4K,cache=8K,checkpoint_commits=100");
    char k[32], v[64];
    cow_txn *r;

    for (unsigned i = 0; i < NKEYS; i++)
        OK(kv_put(db, k, key_of(i, k), v, val_of(i, 1, v)));
    OK(cow_txn_begin(db, COW_TXN_READ, &r));
    for (unsigned pass = 0; pass < 2; pass++)
        for (unsigned i = 0; i < NKEYS; i++) {
            const void *got;
            size_t gl, vl = val_of(i, 1, v);
            if (pass == 0 && i % 3 == 0)
                OK(kv_put(db, k, key_of(i, k), v, val_of(i, 2, v))); /* the writer goes on */
            vl = val_of(i, 1, v);
            OK(cow_txn_get(r, k, key_of(i, k), &got, &gl));
            cr_assert(gl == vl && memcmp(got, v, vl) == 0, "snapshot: key %u changed", i);
        }
    cow_txn_abort(r);
    cr_assert_gt(stat_extra(db, "page_evictions"), 0, "the pages read were evicted");
    OK(kv_close(db));
}

/* The pager of the page pinned_page_is_never_evicted pins (owned until unpinned). */
static cow_pager *pin_pg;

static void unpin_owned(void *page)
{
    cow_pager_unpin(pin_pg, page);
}

/* A pinned page stays in the cache, at the same address, whatever the
 * pressure; the pages around it go. */
Test(cache, pinned_page_is_never_evicted, .timeout = 120)
{
    kv_db *db = open_db("page_size=4K");
    char k[32], v[64];
    const unsigned char *pinned, *again;
    cow_version ver;
    cow_db *c;

    for (unsigned i = 0; i < NKEYS; i++)
        OK(kv_put(db, k, key_of(i, k), v, val_of(i, 1, v)));
    OK(kv_close(db)); /* every page on disk: all may be evicted */
    db = open_db("page_size=4K,cache=4K");
    c = (cow_db *)db;
    cow_snap_current(&c->snaps, &ver);
    OK(cow_pager_pin(&c->pg, ver.root, &pinned));
    pin_pg = &c->pg;
    kvt_own((void *)pinned, unpin_owned);
    for (unsigned i = 0; i < NKEYS; i++)
        check_key(db, i, 1);
    cr_assert_gt(stat_extra(db, "page_evictions"), 50, "every leaf read evicts");
    OK(cow_pager_get(&c->pg, ver.root, &again));
    cr_assert_eq(again, pinned, "the pinned root was evicted (reloaded at another address)");
    cr_assert_eq(atomic_load(&c->pg.pins), 1);
    kvt_disown(pinned);
    cow_pager_unpin(&c->pg, pinned);
    cr_assert_eq(atomic_load(&c->pg.pins), 0);
    for (unsigned i = 0; i < NKEYS; i++)
        check_key(db, i, 1);
    OK(kv_close(db));
}

/* Pages written since the last checkpoint exist only in memory: a bound
 * that evicted them would lose them. With checkpoints off, nothing the
 * writer made may go, and every key reads back. */
Test(cache, unwritten_pages_stay, .timeout = 120)
{
    kv_db *db = open_db("page_size=4K,cache=4K,checkpoint_commits=0,checkpoint_bytes=0");
    char k[32], v[64];

    for (unsigned i = 0; i < NKEYS; i++)
        OK(kv_put(db, k, key_of(i, k), v, val_of(i, 1, v)));
    for (unsigned i = 0; i < NKEYS; i++)
        check_key(db, i, 1);
    cr_assert_eq(stat_extra(db, "page_evictions"), 0, "a page only memory holds was evicted");
    OK(kv_close(db));
    db = open_db("page_size=4K,cache=4K");
    for (unsigned i = 0; i < NKEYS; i++)
        check_key(db, i, 1);
    OK(kv_close(db));
}
