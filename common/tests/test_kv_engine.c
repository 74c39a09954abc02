/*
 * test_kv_engine.c — unit tests of the front end (kv.c) around the engine:
 * the iterator bookkeeping and seeks, engines without KV_CAP_ORDERED or
 * without the optional members (sync/stats/iter_status), engine failures
 * passed through, kv_open on a failing env, and the malloc-failure loops
 * over kv_open and over kv_put/kv_get. (Split from test_kv.c, which tests
 * the front end's own checks; the helpers both use are in kv_fixture.h.)
 *
 * The program's generated registry lists only model, which is ordered and
 * has every optional member, so the front end's paths for an engine
 * without KV_CAP_ORDERED or without sync/stats/iter_status are reached by
 * editing an open handle's header (struct kv_db is public in engine.h):
 * clearing its caps bit, or pointing it at a copy of model's table with
 * those members NULL.
 */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/env.h"
#include "kvlabs/error.h"
#include "kvlabs/kv.h"

#include "kv_fixture.h"
#include "kvtest.h"

/* ---- iterators ---------------------------------------------------------------- */

Test(kv, iter_open_without_ordered_cap_is_enotsup)
{
    kv_db *db = NULL;
    kv_iter *it = (kv_iter *)SENTINEL;

    OK(kv_open("model", NULL, NULL, &db));
    cr_assert(kv_caps(db) & KV_CAP_ORDERED);
    db->caps &= ~(unsigned)KV_CAP_ORDERED; /* as an unordered engine would have it */
    RC(kv_iter_open(db, &it), KV_ENOTSUP);
    cr_assert_str_eq(kv_last_error(), "engine 'model' has no iterators (neither ordered nor scan)");
    cr_assert_eq((void *)it, (void *)SENTINEL);
    cr_assert_eq(atomic_load(&db->open_iters), 0);
    db->caps |= KV_CAP_ORDERED;
    OK(kv_iter_open(db, &it));
    kv_iter_close(it);
    OK(kv_close(db));
}

Test(kv, optional_engine_members_null)
{
    kv_engine_ops bare = kv_engine_model;
    kv_env *env = mem_env();
    kv_db *db = open_mem(env, "model:durable=true", NULL);
    kv_iter *it = NULL;
    kv_stats st;
    kv_env_counters c0, c1;

    bare.sync = NULL;
    bare.stats = NULL;
    bare.iter_open = NULL;
    bare.iter_status = NULL;
    db->ops = &bare;

    OK(kv_put(db, "k", 1, "v", 1));
    kv_env_get_counters(env, &c0);
    OK(kv_sync(db));
    kv_env_get_counters(env, &c1);
    cr_assert_eq(c1.syncs, c0.syncs, "no sync member: kv_sync is a no-op");
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, 0, "no stats member: engine counters stay 0");
    cr_assert_eq(st.puts, 1, "the front end's counters are filled all the same");
    cr_assert_eq(st.io_bytes_written, REC(1, 1));
    RC(kv_iter_open(db, &it), KV_ENOTSUP); /* ordered, but no iter_open */

    bare.iter_open = kv_engine_model.iter_open;
    OK(kv_iter_open(db, &it));
    kv_iter_first(it);
    cr_assert(kv_iter_valid(it));
    cr_assert_eq(kv_iter_status(it), KV_OK, "no iter_status member: KV_OK");
    kv_iter_close(it);

    db->ops = &kv_engine_model;
    OK(kv_close(db));
    kv_env_free(env);
}

/* A sloppy engine: fills the buffer, then fails; or fails a put after doing nothing. */
static int sloppy_get(kv_db *db, const void *key, size_t klen, kv_buf *val)
{
    (void)db, (void)key, (void)klen;
    if (val)
        kv_buf_set(val, "junk", 4);
    return kv_fail(KV_EIO, "sloppy get");
}

/* An engine failure that sets no detail (as an untouched stub once did). */
static int silent_get(kv_db *db, const void *key, size_t klen, kv_buf *val)
{
    (void)db, (void)key, (void)klen, (void)val;
    return KV_ENOMEM;
}

Test(kv, detail_never_comes_from_an_earlier_call)
{
    kv_engine_ops silent = kv_engine_model;
    kv_db *db = NULL;

    OK(kv_open("model", NULL, NULL, &db));
    RC(kv_put(db, "", 0, "v", 1), KV_EINVAL); /* sets "empty key" */
    cr_assert_str_eq(kv_last_error(), "empty key");
    silent.get = silent_get;
    db->ops = &silent;
    RC(kv_get(db, "k", 1, NULL), KV_ENOMEM);
    cr_assert_str_eq(kv_last_error(), "",
                     "a failure without its own detail showed an earlier call's: '%s'",
                     kv_last_error());
    db->ops = &kv_engine_model;
    OK(kv_close(db));
}

static int failing_put(kv_db *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    (void)db, (void)key, (void)klen, (void)val, (void)vlen;
    return kv_fail(KV_EIO, "failing put");
}

static int failing_del(kv_db *db, const void *key, size_t klen)
{
    (void)db, (void)key, (void)klen;
    return kv_fail(KV_EIO, "failing delete");
}

Test(kv, engine_failures_pass_through)
{
    kv_engine_ops sloppy = kv_engine_model;
    kv_db *db = NULL;
    kv_buf v = {0};
    kv_stats st;

    OK(kv_open("model", NULL, NULL, &db));
    OK(kv_put(db, "k", 1, "v", 1));
    sloppy.get = sloppy_get;
    sloppy.put = failing_put;
    sloppy.del = failing_del;
    db->ops = &sloppy;
    RC(kv_get(db, "k", 1, &v), KV_EIO);
    cr_assert_eq(v.len, 0, "the front end zeroes len after an engine's failure");
    cr_assert_str_eq(kv_last_error(), "sloppy get", "the engine's detail is kept");
    RC(kv_get(db, "k", 1, NULL), KV_EIO);
    RC(kv_put(db, "k", 1, "w", 1), KV_EIO);
    RC(kv_delete(db, "k", 1), KV_EIO);
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.puts, 1, "a failed put is not counted");
    cr_assert_eq(st.user_bytes_written, 2);
    cr_assert_eq(st.deletes, 0, "a failed delete is not counted");
    cr_assert_eq(st.gets, 2, "gets count whatever the outcome");
    db->ops = &kv_engine_model;
    kv_buf_free(&v);
    OK(kv_close(db));
}

Test(kv, iter_bookkeeping_and_seek)
{
    kv_db *db = NULL;
    kv_iter *a = NULL, *b = NULL;
    const void *k, *v;
    size_t kl, vl;

    OK(kv_open("model", NULL, NULL, &db));
    OK(kv_put(db, "b", 1, "2", 1));
    OK(kv_put(db, "d", 1, "4", 1));
    OK(kv_iter_open(db, &a));
    cr_assert_eq(a->db, db, "the front end sets the iterator's db");
    cr_assert_eq(atomic_load(&db->open_iters), 1);
    OK(kv_iter_open(db, &b));
    cr_assert_eq(atomic_load(&db->open_iters), 2);

    kv_iter_seek(a, NULL, 5); /* NULL key: klen is taken as 0, the first key */
    cr_assert(kv_iter_valid(a));
    kv_iter_key(a, &k, &kl);
    cr_assert_eq(kl, 1);
    cr_assert_eq(memcmp(k, "b", 1), 0);
    kv_iter_seek(b, "c", 1);
    cr_assert(kv_iter_valid(b));
    kv_iter_key(b, &k, &kl);
    kv_iter_value(b, &v, &vl);
    cr_assert_eq(memcmp(k, "d", 1), 0);
    cr_assert_eq(memcmp(v, "4", 1), 0);
    kv_iter_next(b);
    cr_assert_not(kv_iter_valid(b));
    cr_assert_eq(kv_iter_status(b), KV_OK, "the end is not an error");

    kv_iter_close(a);
    cr_assert_eq(atomic_load(&db->open_iters), 1);
    kv_iter_close(b);
    cr_assert_eq(atomic_load(&db->open_iters), 0);
    kv_iter_close(NULL);
    OK(kv_close(db));
}

/* ---- open on a failing env ---------------------------------------------------- */

Test(kv, open_env_fault_on_log_open)
{
    kv_env *env = kv_env_fault_new(1);
    kv_db *db = SENTINEL;

    cr_assert_not_null(env);
    kv_env_fault_fail(env, KV_FAULT_OPEN, 1, 1, KV_EIO);
    RC(kv_open_env("model:durable=true", "/db", NULL, env, &db), KV_EIO);
    cr_assert_eq(db, SENTINEL);
    DETAIL_HAS("model.log");
    /* The fault was one call: the next open works and finds an empty store. */
    db = NULL;
    OK(kv_open_env("model:durable=true", "/db", NULL, env, &db));
    RC(kv_get(db, "k", 1, NULL), KV_ENOTFOUND);
    OK(kv_close(db));
    kv_env_free(env);
    NO_LEAKS();
}

Test(kv, open_durable_without_path)
{
    kv_db *db = SENTINEL;

    RC(kv_open("model:durable=true", NULL, NULL, &db), KV_EINVAL);
    DETAIL_HAS("needs a directory path");
    cr_assert_eq(db, SENTINEL);
    NO_LEAKS();
}

/* ---- out of memory -------------------------------------------------------------- */

struct open_loop {
    kv_env *env;
    uint64_t enomem, ok;
};

static int open_under_failure(void *arg, uint64_t n)
{
    struct open_loop *l = arg;
    kv_db *db = SENTINEL;
    kv_buf v = {0};
    int rc = kv_open_env("model:durable=true", "/db", "sync=none", l->env, &db);
    bool hit = kv_alloc_fail_hit();

    if (rc == KV_ENOMEM) {
        cr_assert(kv_alloc_fail_hit(), "run %llu: KV_ENOMEM with no failed allocation",
                  (unsigned long long)n);
        cr_assert_eq(db, SENTINEL, "run %llu: out written on failure", (unsigned long long)n);
        l->enomem++;
        return 0;
    }
    cr_assert_eq(rc, KV_OK, "run %llu: %d (%s): %s", (unsigned long long)n, rc, kv_strerror(rc),
                 kv_last_error());
    l->ok++;
    /* The checks below allocate: when the failure was not reached (the last run), disarm it
     * (that ends the loop); when it was, it is spent (not sticky). */
    if (!hit)
        kv_alloc_fail_at(0, false);
    for (int i = 0; i < 20; i++) {
        char key[16];
        int kl = snprintf(key, sizeof(key), "k%02d", i);
        cr_assert_eq(kv_get(db, key, (size_t)kl, &v), i % 5 == 4 ? KV_ENOTFOUND : KV_OK,
                     "run %llu: %s", (unsigned long long)n, key);
        if (i % 5 != 4)
            cr_assert(v.len == 3 && !memcmp(v.data, key, 3), "run %llu: %s", (unsigned long long)n,
                      key);
    }
    kv_buf_free(&v);
    cr_assert_eq(kv_close(db), KV_OK);
    return 0;
}

Test(kv, malloc_failure_loop_over_open)
{
    struct open_loop l = {.env = mem_env()};
    kv_db *db = open_mem(l.env, "model:durable=true", NULL);
    uint64_t runs = 0;

    for (int i = 0; i < 20; i++) { /* a log with puts and deletes to replay */
        char key[16];
        int kl = snprintf(key, sizeof(key), "k%02d", i);
        OK(kv_put(db, key, (size_t)kl, key, 3));
        if (i % 5 == 4)
            OK(kv_delete(db, key, (size_t)kl));
    }
    OK(kv_close(db));

    cr_assert_eq(kv_alloc_fail_loop(open_under_failure, &l, 0, &runs), 0);
    cr_assert_geq(l.ok, 1, "the last run succeeds");
    cr_assert_eq(l.enomem + l.ok, runs);
    cr_assert_gt(runs, 10, "the replay allocates per record: %llu runs", (unsigned long long)runs);
    kv_env_free(l.env);
    NO_LEAKS();
}

struct op_loop {
    kv_db *db;
    kv_buf big; /* pre-grown: checking into it allocates nothing */
    int enomem;
};

/* Overwrite "k": done, or KV_ENOMEM with the old value still there. */
static int put_under_failure(void *arg, uint64_t n)
{
    struct op_loop *l = arg;
    int rc = kv_put(l->db, "k", 1, "a new and longer value", 22);
    bool hit = kv_alloc_fail_hit();

    if (!hit)
        kv_alloc_fail_at(0, false); /* the last run: the checks below may allocate */
    cr_assert(rc == KV_OK || rc == KV_ENOMEM, "run %llu: overwrite -> %d (%s)",
              (unsigned long long)n, rc, kv_last_error());
    cr_assert_eq(rc == KV_ENOMEM, hit, "run %llu: rc %d, hit %d", (unsigned long long)n, rc, hit);
    cr_assert_eq(kv_get(l->db, "k", 1, &l->big), KV_OK);
    if (rc == KV_OK) {
        expect_buf(&l->big, "a new and longer value", 22);
        cr_assert_eq(kv_put(l->db, "k", 1, "old", 3), KV_OK, "restore");
    } else {
        expect_buf(&l->big, "old", 3);
        l->enomem++;
    }
    return 0;
}

static int insert_under_failure(void *arg, uint64_t n)
{
    struct op_loop *l = arg;
    char fresh[24];
    int fl = snprintf(fresh, sizeof(fresh), "fresh%llu", (unsigned long long)n);
    int rc = kv_put(l->db, fresh, (size_t)fl, "x", 1);
    bool hit = kv_alloc_fail_hit();

    cr_assert(rc == KV_OK || rc == KV_ENOMEM, "run %llu: insert -> %d", (unsigned long long)n, rc);
    cr_assert_eq(rc == KV_ENOMEM, hit, "run %llu: rc %d, hit %d", (unsigned long long)n, rc, hit);
    cr_assert_eq(kv_get(l->db, fresh, (size_t)fl, NULL), rc == KV_OK ? KV_OK : KV_ENOTFOUND,
                 "run %llu: a refused insert must stay absent", (unsigned long long)n);
    if (rc == KV_ENOMEM)
        l->enomem++;
    return 0;
}

static int get_under_failure(void *arg, uint64_t n)
{
    struct op_loop *l = arg;
    kv_buf v = {0};
    int rc = kv_get(l->db, "k", 1, &v);

    if (rc == KV_ENOMEM) {
        cr_assert_eq(v.len, 0, "run %llu", (unsigned long long)n);
        l->enomem++;
    } else {
        cr_assert_eq(rc, KV_OK, "run %llu: %d", (unsigned long long)n, rc);
        expect_buf(&v, "old", 3);
    }
    kv_buf_free(&v);
    return 0;
}

Test(kv, malloc_failure_loop_over_put_and_get)
{
    kv_env *env = mem_env();
    struct op_loop l = {0};
    uint64_t runs = 0;

    l.db = open_mem(env, "model:durable=true", NULL);
    static const char pre[4000];
    OK(kv_buf_set(&l.big, pre, sizeof(pre))); /* grown once, so later gets allocate nothing */
    OK(kv_put(l.db, "k", 1, "old", 3));

    cr_assert_eq(kv_alloc_fail_loop(put_under_failure, &l, 0, &runs), 0);
    cr_assert_geq(l.enomem, 2, "an overwrite allocates the entry and the log record");
    cr_assert_eq((uint64_t)l.enomem, runs - 1);

    l.enomem = 0;
    cr_assert_eq(kv_alloc_fail_loop(insert_under_failure, &l, 0, &runs), 0);
    cr_assert_geq(l.enomem, 2);

    l.enomem = 0;
    cr_assert_eq(kv_alloc_fail_loop(get_under_failure, &l, 0, &runs), 0);
    cr_assert_eq(l.enomem, 1, "a get into an empty buffer allocates once");
    cr_assert_eq(runs, 2);

    /* Everything refused stayed out of the log too. */
    OK(kv_close(l.db));
    l.db = open_mem(env, "model:durable=true", NULL);
    OK(kv_get(l.db, "k", 1, &l.big));
    expect_buf(&l.big, "old", 3);
    kv_stats st;
    OK(kv_db_stats(l.db, &st));
    cr_assert_eq(st.keys, 2, "k and the insert of the clean run only");
    kv_buf_free(&l.big);
    OK(kv_close(l.db));
    kv_env_free(env);
    NO_LEAKS();
}
