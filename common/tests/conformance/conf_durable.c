/*
 * conf_durable.c — durable engines (KV_CAP_DURABLE) on the real file system:
 * what was written is there after kv_close() and reopen, overwrites and
 * deletes included, across many cycles; the directory is created; the
 * counters restart; a second handle on an open store is refused.
 *
 * Rule chosen where the contract leaves room: without KV_CAP_MULTIPROC a
 * second kv_open of a directory that is open must fail with KV_EBUSY
 * (two writers on one store corrupt it; kv.h names KV_EBUSY for this).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"

CONF_SUITE(conf_durable);

/* Random writes to keys 0..nkeys-1 recorded in @p h; versions from *ver. */
static void random_writes(kv_db *db, conf_hist *h, kv_rng *r, size_t nops, uint64_t *ver)
{
    unsigned char key[CONF_KEY_MAX], val[CONF_VAL_MAX];

    for (size_t i = 0; i < nops; i++) {
        uint32_t id = (uint32_t)kv_rng_below(r, h->nkeys);
        size_t kl = conf_key(id, key);
        if (kv_rng_below(r, 4) == 0) {
            bool present = conf_hist_present(h, id, NULL);
            RC(kv_delete(db, key, kl), present ? KV_OK : KV_ENOTFOUND);
            if (present)
                conf_hist_add(h, id, 0, true);
        } else {
            uint64_t v = (*ver)++;
            OK(kv_put(db, key, kl, val, conf_val(id, v, val)));
            conf_hist_add(h, id, v, false);
        }
    }
}

Test(conf_durable, reopen_keeps_everything)
{
    conf_hist h;
    kv_rng r;
    uint64_t ver = 1;
    kv_db *db;
    struct stat st;

    conf_need(KV_CAP_DURABLE);
    cr_assert_neq(stat(conf_path(0, "db"), &st), 0, "<tmp>/db exists before the first open");
    db = conf_open(NULL);
    if (!(conf_caps() & KV_CAP_REMOTE)) { /* a remote engine's path is a keyspace: no directory */
        cr_assert_eq(stat(conf_path(0, "db"), &st), 0, "the engine did not create its directory");
        cr_assert(S_ISDIR(st.st_mode), "<tmp>/db is not a directory");
    } else {
        cr_assert_neq(stat(conf_path(0, "db"), &st), 0, "a KV_CAP_REMOTE engine created <tmp>/db");
    }
    conf_hist_init(&h, 500);
    kv_rng_seed(&r, conf_seed(31));
    random_writes(db, &h, &r, conf_scale(3000), &ver);
    conf_hist_check(db, &h, true);
    conf_close(db); /* no kv_sync: kv_close flushes */
    db = conf_open(NULL);
    conf_hist_check(db, &h, true);
    conf_close(db);
    conf_hist_free(&h);
}

Test(conf_durable, sync_then_close)
{
    conf_hist h;
    kv_rng r;
    uint64_t ver = 1;
    kv_db *db;

    conf_need(KV_CAP_DURABLE);
    db = conf_open(NULL);
    conf_hist_init(&h, 200);
    kv_rng_seed(&r, conf_seed(32));
    random_writes(db, &h, &r, conf_scale(1000), &ver);
    OK(kv_sync(db));
    OK(kv_sync(db)); /* twice: nothing new to sync is fine */
    conf_close(db);
    db = conf_open(NULL);
    conf_hist_check(db, &h, true);
    conf_close(db);
    conf_hist_free(&h);
}

Test(conf_durable, overwrite_and_delete_survive)
{
    kv_db *db;
    kv_buf v = {0};

    conf_need(KV_CAP_DURABLE);
    db = conf_open(NULL);
    OK(kv_put(db, "keep", 4, "original", 8));
    OK(kv_put(db, "over", 4, "first", 5));
    OK(kv_put(db, "gone", 4, "doomed", 6));
    OK(kv_put(db, "back", 4, "v1", 2));
    conf_close(db);
    db = conf_open(NULL);
    OK(kv_put(db, "over", 4, "second, longer value", 20));
    OK(kv_delete(db, "gone", 4));
    OK(kv_delete(db, "back", 4));
    OK(kv_put(db, "back", 4, "v2", 2));
    OK(kv_put(db, "empty", 5, NULL, 0));
    conf_close(db);
    db = conf_open(NULL);
    OK(kv_get(db, "keep", 4, &v));
    conf_expect_buf(&v, "original", 8, "keep");
    OK(kv_get(db, "over", 4, &v));
    conf_expect_buf(&v, "second, longer value", 20, "over");
    RC(kv_get(db, "gone", 4, &v), KV_ENOTFOUND);
    OK(kv_get(db, "back", 4, &v));
    conf_expect_buf(&v, "v2", 2, "back");
    OK(kv_get(db, "empty", 5, &v));
    cr_assert_eq(v.len, 0);
    RC(kv_delete(db, "gone", 4), KV_ENOTFOUND);
    kv_buf_free(&v);
    conf_close(db);
}

Test(conf_durable, empty_store_reopens_empty)
{
    kv_db *db;
    kv_stats st;

    conf_need(KV_CAP_DURABLE);
    db = conf_open(NULL);
    conf_close(db);
    db = conf_open(NULL);
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, 0);
    RC(kv_get(db, "x", 1, NULL), KV_ENOTFOUND);
    if (kv_caps(db) & KV_CAP_ORDERED) {
        kv_iter *it;
        OK(kv_iter_open(db, &it));
        kv_iter_first(it);
        cr_assert(!kv_iter_valid(it));
        cr_assert_eq(kv_iter_status(it), KV_OK);
        kv_iter_close(it);
    }
    OK(kv_put(db, "x", 1, "1", 1));
    conf_close(db);
    db = conf_open(NULL);
    OK(kv_get(db, "x", 1, NULL));
    /* everything deleted: reopens empty again */
    OK(kv_delete(db, "x", 1));
    conf_close(db);
    db = conf_open(NULL);
    RC(kv_get(db, "x", 1, NULL), KV_ENOTFOUND);
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, 0);
    conf_close(db);
}

Test(conf_durable, many_reopen_cycles)
{
    size_t cycles = conf_valgrind() ? 8 : 40;
    conf_hist h;
    kv_rng r;
    uint64_t ver = 1;

    conf_need(KV_CAP_DURABLE);
    conf_hist_init(&h, 300);
    kv_rng_seed(&r, conf_seed(33));
    for (size_t c = 0; c < cycles; c++) {
        kv_db *db = conf_open(NULL);
        conf_hist_check(db, &h, true);
        random_writes(db, &h, &r, 20 + (size_t)kv_rng_below(&r, 200), &ver);
        if (kv_rng_below(&r, 2))
            OK(kv_sync(db));
        conf_close(db);
    }
    conf_hist_free(&h);
}

Test(conf_durable, stats_after_reopen)
{
    kv_db *db;
    kv_stats st;

    conf_need(KV_CAP_DURABLE);
    db = conf_open(NULL);
    OK(kv_put(db, "a", 1, "12345", 5));
    OK(kv_put(db, "bb", 2, "1", 1));
    OK(kv_put(db, "ccc", 3, "", 0));
    OK(kv_put(db, "bb", 2, "123", 3));
    OK(kv_delete(db, "ccc", 3));
    conf_close(db);
    db = conf_open(NULL);
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, 2, "stats.keys after reopen: %llu", (unsigned long long)st.keys);
    cr_assert_eq(st.bytes, 6 + 5, "stats.bytes after reopen: %llu", (unsigned long long)st.bytes);
    cr_assert_eq(st.puts, 0, "counters restart at open: puts %llu", (unsigned long long)st.puts);
    cr_assert_eq(st.gets, 0);
    cr_assert_eq(st.deletes, 0);
    cr_assert_eq(st.user_bytes_written, 0);
    conf_close(db);
}

Test(conf_durable, second_open_is_busy)
{
    kv_db *db, *db2 = NULL;
    int rc;

    conf_need(KV_CAP_DURABLE);
    db = conf_open(NULL);
    OK(kv_put(db, "k", 1, "v", 1));
    rc = conf_open_at(conf_path(0, "db"), NULL, &db2);
    if (kv_caps(db) & KV_CAP_MULTIPROC) {
        RC(rc, KV_OK);
        conf_close(db2);
    } else {
        cr_assert_eq(rc, KV_EBUSY, "second open of an open store: %d (%s), want KV_EBUSY", rc,
                     kv_strerror(rc));
        cr_assert_null(db2);
    }
    conf_close(db);
    db = conf_open(NULL); /* the lock went with the handle */
    OK(kv_get(db, "k", 1, NULL));
    conf_close(db);
}

Test(conf_durable, missing_parent_fails)
{
    kv_db *db = NULL;
    struct stat st;
    int rc;

    conf_need(KV_CAP_DURABLE);
    conf_need_local("a missing parent directory");
    rc = conf_open_at(conf_path(0, "no/such/db"), NULL, &db);
    cr_assert_neq(rc, KV_OK, "open under a missing parent directory succeeded");
    cr_assert_null(db);
    cr_assert_neq(stat(conf_path(0, "no"), &st), 0, "the engine created missing parents");
}

Test(conf_durable, large_values_persist)
{
    size_t n = 60, big = (size_t)1 << 20;
    unsigned char *val = malloc(big);
    kv_db *db;
    kv_buf v = {0};
    int rc;

    conf_need(KV_CAP_DURABLE);
    cr_assert_not_null(val);
    for (size_t i = 0; i < big; i++)
        val[i] = (unsigned char)(i * 7 + (i >> 12));
    db = conf_open(NULL);
    for (size_t i = 0; i < n; i++) {
        unsigned char key[CONF_KEY_MAX];
        size_t kl = conf_key((uint32_t)i, key);
        OK(kv_put(db, key, kl, val + i, 4000 + i));
    }
    rc = kv_put(db, "big", 3, val, big);
    cr_assert(rc == KV_OK || rc == KV_ETOOBIG || rc == KV_EFULL, "1 MiB put: %d: %s", rc,
              kv_last_error());
    conf_close(db);
    db = conf_open(NULL);
    for (size_t i = 0; i < n; i++) {
        unsigned char key[CONF_KEY_MAX];
        size_t kl = conf_key((uint32_t)i, key);
        OK(kv_get(db, key, kl, &v));
        conf_expect_buf(&v, val + i, 4000 + i, "4 KB value after reopen");
    }
    if (rc == KV_OK) {
        OK(kv_get(db, "big", 3, &v));
        conf_expect_buf(&v, val, big, "1 MiB value after reopen");
    }
    free(val);
    kv_buf_free(&v);
    conf_close(db);
}
