/*
 * test_model_io.c — unit tests of the reference engine "model" under I/O:
 * the lock (a second open is KV_EBUSY), write failures (a failed append
 * leaves no half record, a failed cut breaks the handle, a full disk loses
 * nothing, close and open report their I/O errors), the three sync modes
 * as counted by the env, the stats, and the iterator's KV_ENOMEM. (Split
 * from test_model.c, which tests the log format and recovery; the fixture
 * both use is model_fixture.h: a fresh fault env per test, the store at
 * "/db".)
 */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/env.h"
#include "kvlabs/error.h"
#include "kvlabs/kv.h"

#include "kvtest.h"
#include "model_fixture.h"

/* ---- the lock -------------------------------------------------------------------- */

Test(model, second_open_is_busy)
{
    kv_db *a = open_db(NULL), *b = (kv_db *)&b;

    RC(kv_open_env("model:durable=true", "/db", NULL, env, &b), KV_EBUSY);
    cr_assert_eq(b, (kv_db *)&b, "out untouched");
    cr_assert_str_eq(kv_last_error(), "model: /db is open in another handle or process");
    put_s(a, "k", "v"); /* the first handle is unaffected */
    expect_s(a, "k", "v");
    OK(kv_close(a));
    b = open_db(NULL);
    expect_s(b, "k", "v");
    OK(kv_close(b));
    NO_LEAKS();
}

/* ---- write failures ------------------------------------------------------------- */

Test(model, failed_append_leaves_no_record)
{
    kv_db *db = open_db(NULL);
    kv_stats st;
    uint64_t size;

    put_s(db, "a", "1");
    put_s(db, "b", "old");
    size = log_size();

    kv_env_fault_fail(env, KV_FAULT_WRITE, 1, 1, KV_EIO);
    RC(kv_put(db, "c", 1, "3", 1), KV_EIO);
    DETAIL_HAS("model: log append failed: ");
    DETAIL_HAS("injected write fault");
    expect_s(db, "c", NULL);
    cr_assert_eq(log_size(), size);

    kv_env_fault_fail(env, KV_FAULT_WRITE, 1, 1, KV_EIO);
    RC(kv_put(db, "b", 1, "new", 3), KV_EIO);
    expect_s(db, "b", "old");

    kv_env_fault_fail(env, KV_FAULT_WRITE, 1, 1, KV_EIO);
    RC(kv_delete(db, "a", 1), KV_EIO);
    expect_s(db, "a", "1");
    cr_assert_eq(log_size(), size);

    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.puts, 2, "failed puts are not counted");
    cr_assert_eq(st.deletes, 0);
    cr_assert_eq(st.disk_bytes, size);
    cr_assert_eq(st.keys, 2);

    put_s(db, "d", "4"); /* the handle still works */
    OK(kv_close(db));

    db = open_db(NULL);
    const struct pair want[] = {{"a", 1, "1", 1}, {"b", 1, "old", 3}, {"d", 1, "4", 1}};
    expect_exactly(db, want, 3);
    cr_assert_eq(log_size(), size + REC(1, 1));
    OK(kv_close(db));
}

Test(model, failed_cut_breaks_the_handle)
{
    kv_db *db = open_db(NULL);

    put_s(db, "a", "1");
    OK(kv_sync(db));
    put_s(db, "b", "2");
    kv_env_fault_fail(env, KV_FAULT_WRITE, 1, 1, KV_EIO);
    kv_env_fault_fail(env, KV_FAULT_TRUNCATE, 1, 1, KV_EIO);
    RC(kv_put(db, "c", 1, "3", 1), KV_EIO);
    /* The env works again, but the handle refuses every write. */
    RC(kv_put(db, "d", 1, "4", 1), KV_EIO);
    DETAIL_HAS("unusable");
    RC(kv_delete(db, "a", 1), KV_EIO);
    RC(kv_sync(db), KV_EIO);
    DETAIL_HAS("unusable");
    expect_s(db, "a", "1"); /* reads still work */
    expect_s(db, "b", "2");
    expect_s(db, "c", NULL);
    expect_s(db, "d", NULL);
    /* Its writes since the last sync were never flushed: close reports it. */
    RC(kv_close(db), KV_EIO);

    db = open_db(NULL);
    const struct pair want[] = {{"a", 1, "1", 1}, {"b", 1, "2", 1}};
    expect_exactly(db, want, 2);
    OK(kv_close(db));
    NO_LEAKS();
}

Test(model, full_disk_loses_nothing)
{
    kv_db *db = open_db(NULL);
    char big[256];
    uint64_t size;

    memset(big, 'B', sizeof(big));
    put_s(db, "a", "1");
    put_s(db, "b", "2");
    size = log_size();
    kv_env_fault_set_quota(env, size + REC(1, 8));
    RC(kv_put(db, "c", 1, big, sizeof(big)), KV_EFULL);
    DETAIL_HAS("log append failed");
    expect_s(db, "c", NULL);
    cr_assert_eq(log_size(), size);
    put_s(db, "d", "fits in!"); /* exactly up to the quota */
    RC(kv_put(db, "e", 1, "", 0), KV_EFULL);
    RC(kv_delete(db, "a", 1), KV_EFULL);
    expect_s(db, "a", "1");
    OK(kv_sync(db));
    OK(kv_close(db));

    db = open_db(NULL); /* still full: reading needs no space */
    const struct pair want[] = {{"a", 1, "1", 1}, {"b", 1, "2", 1}, {"d", 1, "fits in!", 8}};
    expect_exactly(db, want, 3);
    kv_env_fault_set_quota(env, 0);
    put_s(db, "c", "now");
    OK(kv_close(db));
}

Test(model, close_sync_failure_is_reported)
{
    kv_db *db = open_db(NULL);

    put_s(db, "a", "1");
    kv_env_fault_fail(env, KV_FAULT_SYNC, 1, 1, KV_EIO);
    RC(kv_close(db), KV_EIO); /* the handle is freed all the same (leak check) */
    db = open_db(NULL);
    expect_s(db, "a", "1");
    OK(kv_close(db));
    NO_LEAKS();
}

Test(model, open_io_failures)
{
    kv_db *db;

    /* Creating the store syncs directories; a failing sync fails the open. */
    kv_env_fault_fail(env, KV_FAULT_SYNC, 1, 0, KV_EIO);
    RC(open_rc(NULL, &db), KV_EIO);
    cr_assert_null(db);
    kv_env_fault_fail(env, KV_FAULT_SYNC, 0, 0, 0);
    db = open_db(NULL);
    put_s(db, "a", "1");
    OK(kv_close(db));
    /* Reading the log. */
    kv_env_fault_fail(env, KV_FAULT_READ, 1, 1, KV_EIO);
    RC(open_rc(NULL, &db), KV_EIO);
    DETAIL_HAS("injected read fault");
    cr_assert_null(db);
    db = open_db(NULL);
    expect_s(db, "a", "1");
    OK(kv_close(db));
    NO_LEAKS();
}

/* ---- sync modes ----------------------------------------------------------------- */

Test(model, sync_none_until_kv_sync)
{
    kv_db *db = open_db("sync=none");
    kv_stats st;
    uint64_t s0;

    for (int i = 0; i < 5; i++)
        put_s(db, (char[]){(char)('a' + i), 0}, "v");
    OK(kv_delete(db, "a", 1));
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_syncs, 0);
    OK(kv_sync(db));
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_syncs, 1);
    s0 = env_syncs();
    OK(kv_close(db));
    cr_assert_eq(env_syncs(), s0 + 1, "close syncs the log");
}

Test(model, sync_always_one_fsync_per_write)
{
    kv_db *db = open_db("sync=always");
    kv_stats st;

    for (int i = 0; i < 4; i++)
        put_s(db, (char[]){(char)('a' + i), 0}, "v");
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_syncs, 4);
    OK(kv_delete(db, "a", 1));
    RC(kv_delete(db, "a", 1), KV_ENOTFOUND);
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_syncs, 5, "a delete syncs too; a missing key writes nothing");
    kv_env_fault_fail(env, KV_FAULT_WRITE, 1, 1, KV_EIO);
    RC(kv_put(db, "z", 1, "v", 1), KV_EIO);
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_syncs, 5, "a failed write is not synced");
    OK(kv_close(db));
}

Test(model, sync_always_fsync_failure_undoes_the_write)
{
    kv_db *db = open_db("sync=always");
    uint64_t size;

    put_s(db, "a", "1");
    put_s(db, "b", "old");
    size = log_size();
    kv_env_fault_fail(env, KV_FAULT_SYNC, 1, 1, KV_EIO);
    RC(kv_put(db, "b", 1, "new", 3), KV_EIO);
    expect_s(db, "b", "old");
    cr_assert_eq(log_size(), size, "the record of the failed put is cut off again");
    kv_env_fault_fail(env, KV_FAULT_SYNC, 1, 1, KV_EIO);
    RC(kv_delete(db, "a", 1), KV_EIO);
    expect_s(db, "a", "1");
    cr_assert_eq(log_size(), size);
    put_s(db, "c", "3"); /* not broken: the cut worked */
    OK(kv_close(db));

    /* A clean reopen agrees with what the handle showed. */
    db = open_db(NULL);
    const struct pair want[] = {{"a", 1, "1", 1}, {"b", 1, "old", 3}, {"c", 1, "3", 1}};
    expect_exactly(db, want, 3);
    OK(kv_close(db));
}

Test(model, sync_batch_long_interval)
{
    kv_db *db = open_db("sync=batch,sync_ms=60000");
    kv_stats st;

    for (int i = 0; i < 10; i++)
        put_s(db, (char[]){(char)('a' + i), 0}, "v");
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_syncs, 0, "no interval has passed");
    OK(kv_sync(db));
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_syncs, 1);
    OK(kv_close(db));
}

Test(model, sync_batch_short_interval)
{
    kv_db *db = open_db("sync=batch,sync_ms=1");
    kv_stats st;

    for (int i = 0; i < 4; i++) {
        sleep_ms(3); /* more than sync_ms since the last sync (or the open) */
        put_s(db, (char[]){(char)('a' + i), 0}, "v");
    }
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_syncs, 4, "each write after the interval syncs");
    OK(kv_close(db));
}

/* ---- stats ----------------------------------------------------------------------- */

Test(model, stats_keys_bytes_disk)
{
    kv_db *db = open_db(NULL);
    kv_stats st;

    put_s(db, "k1", "12345");   /* 7 */
    put_s(db, "k2", "");        /* 2 */
    put_s(db, "k1", "1");       /* overwrite: 3 */
    put_s(db, "k3", "xyz");     /* 5 */
    OK(kv_delete(db, "k3", 2)); /* 0 */
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, 2);
    cr_assert_eq(st.bytes, 5);
    cr_assert_geq(st.mem_bytes, st.bytes);
    cr_assert_eq(st.disk_bytes, REC(2, 5) + REC(2, 0) + REC(2, 1) + REC(2, 3) + REC(2, 0));
    cr_assert_eq(st.disk_bytes, log_size());
    cr_assert_eq(st.user_bytes_written, 7 + 2 + 3 + 5);
    OK(kv_close(db));

    db = open_db(NULL);
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, 2);
    cr_assert_eq(st.bytes, 5);
    cr_assert_eq(st.disk_bytes, log_size());
    OK(kv_close(db));
}

/* ---- iterator out of memory ----------------------------------------------------- */

enum { NIT = 12 };

struct iter_loop {
    kv_db *db;
    unsigned full, partial, at_open;
};

static size_t val_len(int i)
{
    return (size_t)(1u << i) - 1; /* 0, 1, 3, ... 2047 bytes: the copies grow as it walks */
}

static int iterate_under_failure(void *arg, uint64_t n)
{
    struct iter_loop *l = arg;
    kv_iter *it = NULL;
    int rc = kv_iter_open(l->db, &it), i = 0;

    if (rc == KV_ENOMEM) {
        cr_assert_null(it);
        l->at_open++;
        return 0;
    }
    cr_assert_eq(rc, KV_OK);
    for (kv_iter_first(it); kv_iter_valid(it); kv_iter_next(it), i++) {
        const void *k, *v;
        size_t kl, vl;
        char want[16];
        kv_iter_key(it, &k, &kl);
        kv_iter_value(it, &v, &vl);
        snprintf(want, sizeof(want), "k%02d", i);
        cr_assert(kl == 3 && !memcmp(k, want, 3), "run %llu: key %d", (unsigned long long)n, i);
        cr_assert_eq(vl, val_len(i), "run %llu: value %d", (unsigned long long)n, i);
    }
    if (kv_alloc_fail_hit()) {
        cr_assert_eq(kv_iter_status(it), KV_ENOMEM,
                     "run %llu: stopped after %d keys with status %d", (unsigned long long)n, i,
                     kv_iter_status(it));
        cr_assert_lt(i, NIT);
        l->partial++;
    } else {
        cr_assert_eq(kv_iter_status(it), KV_OK);
        cr_assert_eq(i, NIT, "run %llu: %d keys", (unsigned long long)n, i);
        l->full++;
    }
    kv_iter_close(it);
    return 0;
}

Test(model, iterator_enomem_status)
{
    struct iter_loop l = {0};
    char *val = calloc(1, 4096);
    uint64_t runs = 0;

    cr_assert_not_null(val);
    l.db = open_db(NULL);
    for (int i = 0; i < NIT; i++) {
        char key[16];
        snprintf(key, sizeof(key), "k%02d", i);
        OK(kv_put(l.db, key, 3, val, val_len(i)));
    }
    cr_assert_eq(kv_alloc_fail_loop(iterate_under_failure, &l, 0, &runs), 0);
    cr_assert_eq(l.at_open, 1, "the iterator itself is one allocation");
    cr_assert_eq(l.full, 1);
    cr_assert_geq(l.partial, 6, "the key and value copies grow along the walk");
    cr_assert_eq(l.at_open + l.partial + l.full, runs);
    OK(kv_close(l.db));
    free(val);
    NO_LEAKS();
}

Test(model, iterator_recovers_after_enomem)
{
    kv_db *db = open_db(NULL);
    kv_iter *it;
    const void *k;
    size_t kl;

    put_s(db, "a", "1");
    put_s(db, "b", "2");
    OK(kv_iter_open(db, &it));
    kv_alloc_fail_at(1, false);
    kv_iter_first(it); /* the key copy fails */
    kv_alloc_fail_at(0, false);
    cr_assert_not(kv_iter_valid(it));
    RC(kv_iter_status(it), KV_ENOMEM);
    /* Positioned past the last key, it is at the end: no error any more. */
    kv_iter_seek(it, "z", 1);
    cr_assert_not(kv_iter_valid(it));
    RC(kv_iter_status(it), KV_OK);
    /* A move that succeeds clears the error too. */
    kv_alloc_fail_at(1, false);
    kv_iter_seek(it, "b", 1);
    kv_alloc_fail_at(0, false);
    RC(kv_iter_status(it), KV_ENOMEM);
    kv_iter_first(it);
    cr_assert(kv_iter_valid(it));
    RC(kv_iter_status(it), KV_OK);
    kv_iter_key(it, &k, &kl);
    cr_assert(kl == 1 && !memcmp(k, "a", 1));
    kv_iter_close(it);
    OK(kv_close(db));
}
