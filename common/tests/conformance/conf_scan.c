/*
 * conf_scan.c — unordered engines with KV_CAP_SCAN (kv.h): an iterator
 * visits every key present and unchanged for the whole iteration exactly
 * once, with its value, in no particular order; kv_iter_first() starts
 * again on the current data; kv_iter_seek() is unsupported (the cursor
 * becomes invalid, kv_iter_status() KV_ENOTSUP); writes from the iterating
 * thread neither deadlock nor make a stable key appear twice or vanish.
 *
 * Each test runs on every configuration that has KV_CAP_SCAN and not
 * KV_CAP_ORDERED (ordered engines are held to the stronger conf_iter.c).
 * The keys are conf_key() ids, so a key seen twice, a key never written, a
 * value from another key and a missing key all name the id.
 */
#include <stdlib.h>
#include <string.h>

#include "conf.h"

CONF_SUITE(conf_scan);

static void need_scan(void)
{
    if (conf_caps() & KV_CAP_ORDERED)
        cr_skip_test("%s is ordered: conf_iter covers it", conf_engine());
    conf_need(KV_CAP_SCAN);
}

static void put_id(kv_db *db, uint32_t id, uint64_t ver)
{
    unsigned char k[CONF_KEY_MAX], v[CONF_VAL_MAX];

    OK(kv_put(db, k, conf_key(id, k), v, conf_val(id, ver, v)));
}

/*
 * Iterate from kv_iter_first to the end; count each id seen in seen[] (ids
 * below n), check each value belongs to its key. Returns the entries seen.
 * With writer set, every visited entry triggers that write (id, step).
 */
static size_t walk(kv_iter *it, unsigned *seen, size_t n, void (*writer)(kv_db *, size_t),
                   kv_db *db)
{
    size_t steps = 0;

    for (kv_iter_first(it); kv_iter_valid(it); kv_iter_next(it), steps++) {
        const void *k, *v;
        size_t klen, vlen;
        uint64_t ver;
        int64_t id;

        kv_iter_key(it, &k, &klen);
        kv_iter_value(it, &v, &vlen);
        id = conf_key_id(k, klen);
        cr_assert(id >= 0, "the iterator returned a key (%zu bytes) that was never written",
                  klen);
        cr_assert(conf_val_check((uint32_t)id, v, vlen, &ver),
                  "key %lld came back with a value (%zu bytes) that is not one of its own",
                  (long long)id, vlen);
        if ((size_t)id < n)
            seen[id]++;
        if (writer)
            writer(db, steps);
    }
    OK(kv_iter_status(it));
    return steps;
}

Test(conf_scan, empty_store)
{
    kv_db *db;
    kv_iter *it;

    need_scan();
    db = conf_open(NULL);
    OK(kv_iter_open(db, &it));
    kv_iter_first(it);
    cr_assert(!kv_iter_valid(it), "kv_iter_first on an empty store is valid");
    cr_assert_eq(kv_iter_status(it), KV_OK, "status %d on an empty store, expected KV_OK",
                 kv_iter_status(it));
    kv_iter_close(it);
    conf_close(db);
}

Test(conf_scan, every_key_once_with_its_value)
{
    size_t n = conf_scale(2000);
    unsigned *seen = calloc(n, sizeof(*seen));
    kv_db *db;
    kv_iter *it;

    need_scan();
    cr_assert_not_null(seen);
    db = conf_open(NULL);
    for (uint32_t i = 0; i < n; i++)
        put_id(db, i, 1);
    for (uint32_t i = 0; i < n; i += 7) /* overwrites: still one entry each */
        put_id(db, i, 2);
    for (uint32_t i = 3; i < n; i += 10) {
        unsigned char k[CONF_KEY_MAX];
        OK(kv_delete(db, k, conf_key(i, k)));
    }
    OK(kv_iter_open(db, &it));
    walk(it, seen, n, NULL, NULL);
    for (uint32_t i = 0; i < n; i++) {
        unsigned want = i % 10 == 3 ? 0 : 1;
        cr_assert_eq(seen[i], want, "key %u was visited %u times, expected %u (%s)", i, seen[i],
                     want, want ? "present" : "deleted");
    }
    /* kv_iter_first starts again, on the current data */
    put_id(db, (uint32_t)n, 1);
    memset(seen, 0, n * sizeof(*seen));
    cr_assert_eq(walk(it, seen, n, NULL, NULL), n - (n + 6) / 10 + 1,
                 "a second kv_iter_first did not see the key added since the first");
    kv_iter_close(it);
    conf_close(db);
    free(seen);
}

Test(conf_scan, seek_is_enotsup)
{
    kv_db *db;
    kv_iter *it;
    unsigned char k[CONF_KEY_MAX];

    need_scan();
    db = conf_open(NULL);
    put_id(db, 1, 1);
    OK(kv_iter_open(db, &it));
    kv_iter_seek(it, k, conf_key(1, k));
    cr_assert(!kv_iter_valid(it), "kv_iter_seek on an unordered engine left a valid cursor");
    cr_assert_eq(kv_iter_status(it), KV_ENOTSUP,
                 "kv_iter_seek on an unordered engine: status %d, expected KV_ENOTSUP (%d)",
                 kv_iter_status(it), KV_ENOTSUP);
    kv_iter_first(it); /* and first recovers */
    cr_assert(kv_iter_valid(it), "kv_iter_first after a refused seek is not valid");
    cr_assert_eq(kv_iter_status(it), KV_OK);
    kv_iter_close(it);
    conf_close(db);
}

/* The writer of writes_during_iteration: new keys above 100000, and deletes of odd keys. */
static void churn(kv_db *db, size_t step)
{
    unsigned char k[CONF_KEY_MAX];

    put_id(db, 100000 + (uint32_t)step, 1);
    if (step % 2 == 0) {
        int rc = kv_delete(db, k, conf_key((uint32_t)(2 * step + 1), k));
        cr_assert(rc == KV_OK || rc == KV_ENOTFOUND, "kv_delete during iteration: %d (%s)", rc,
                  kv_last_error());
    }
}

Test(conf_scan, writes_during_iteration)
{
    size_t n = conf_scale(600);
    unsigned *seen = calloc(n, sizeof(*seen));
    kv_db *db;
    kv_iter *it;

    need_scan();
    cr_assert_not_null(seen);
    db = conf_open(NULL);
    for (uint32_t i = 0; i < n; i++)
        put_id(db, i, 1);
    OK(kv_iter_open(db, &it));
    walk(it, seen, n, churn, db);
    /* even keys are never touched: exactly once each; odd ones at most once */
    for (uint32_t i = 0; i < n; i++)
        cr_assert(i % 2 ? seen[i] <= 1 : seen[i] == 1,
                  "key %u (%s) was visited %u times during writes", i,
                  i % 2 ? "deleted meanwhile: at most once" : "unchanged: exactly once", seen[i]);
    kv_iter_close(it);
    conf_close(db);
    free(seen);
}
