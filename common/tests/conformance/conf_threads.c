/*
 * conf_threads.c — every engine is safe to call from several threads at
 * once (kv.h), and the outcome is checked, not just the absence of a crash:
 *
 *   disjoint_ranges      4 threads, each owning its keys: every read is exact
 *                        and the final state is exactly each thread's last writes
 *   shared_keys          4 writers and 2 readers on 32 shared keys: every value
 *                        read is whole (conf_val_check: header and body agree),
 *                        and each key ends as the last write of one of the threads
 *   iterate_while_writing (ordered) a thread iterating again and again sees
 *                        every stable key once per pass while others write
 *   sync_while_writing   writers plus a thread calling kv_sync; durable engines
 *                        must then reopen to exactly the final state
 *
 * Criterion's assertions belong to the test's main thread, so worker
 * threads record their first failure in their struct and the main thread
 * asserts after joining.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

CONF_SUITE(conf_threads);

enum { NT = 4 };

struct worker {
    pthread_t th;
    kv_db *db;
    unsigned idx;
    uint64_t seed;
    size_t ops;
    atomic_bool *stop;
    /* results */
    bool failed;
    char msg[320];
    uint64_t *last; /* per key: (seq << 1) | del of this thread's last op; 0 = none */
    uint64_t count;
};

static void wfail(struct worker *w, const char *fmt, ...)
{
    va_list ap;

    if (w->failed)
        return;
    w->failed = true;
    va_start(ap, fmt);
    vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
    va_end(ap);
}

/* Join threads without failing: a failed assertion leaves the test at
 * once, and threads still running would then use the test's stack (its
 * workers, its stop flag) after the test has left it. */
static void join_only(struct worker *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pthread_join(w[i].th, NULL);
}

/* Fail if one of the (joined) threads reported a failure. */
static void check_workers(const struct worker *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cr_assert(!w[i].failed, "thread %u: %s", w[i].idx, w[i].msg);
}

/* Join every thread, then check them. */
static void join_all(struct worker *w, size_t n)
{
    join_only(w, n);
    check_workers(w, n);
}

/* ---- disjoint ranges ---------------------------------------------------- */

enum { RANGE = 300 };

static void *disjoint_main(void *arg)
{
    struct worker *w = arg;
    unsigned char key[CONF_KEY_MAX], val[CONF_VAL_MAX];
    kv_buf v = {0};
    kv_rng r;
    uint64_t got = 0;

    kv_rng_seed(&r, w->seed);
    for (size_t op = 0; op < w->ops && !w->failed; op++) {
        uint32_t slot = (uint32_t)kv_rng_below(&r, RANGE), id = w->idx * RANGE + slot;
        size_t kl = conf_key(id, key);
        uint64_t dice = kv_rng_below(&r, 10), ver = (op + 1) << 1;
        int rc;

        if (dice < 5) {
            rc = kv_put(w->db, key, kl, val, conf_val(id, ver, val));
            if (rc != KV_OK)
                wfail(w, "put: %d (%s): %s", rc, kv_strerror(rc), kv_last_error());
            w->last[slot] = ver;
        } else if (dice < 7) {
            rc = kv_delete(w->db, key, kl);
            bool present = w->last[slot] && !(w->last[slot] & 1);
            if (rc != (present ? KV_OK : KV_ENOTFOUND))
                wfail(w, "delete of id %u (%s): %d (%s)", id, present ? "present" : "absent", rc,
                      kv_strerror(rc));
            if (w->last[slot])
                w->last[slot] |= 1;
        } else {
            rc = kv_get(w->db, key, kl, &v);
            bool present = w->last[slot] && !(w->last[slot] & 1);
            if (!present && rc != KV_ENOTFOUND)
                wfail(w, "get of absent id %u: %d (%s)", id, rc, kv_strerror(rc));
            if (present &&
                (rc != KV_OK || !conf_val_check(id, v.data, v.len, &got) || got != w->last[slot]))
                wfail(w, "get of id %u: %d (%s) or a wrong version", id, rc, kv_strerror(rc));
        }
    }
    kv_buf_free(&v);
    return NULL;
}

Test(conf_threads, disjoint_ranges)
{
    struct worker w[NT] = {0};
    kv_db *db = conf_open(NULL);
    unsigned char key[CONF_KEY_MAX];
    kv_buf v = {0};
    uint64_t present = 0, got;
    kv_stats st;

    for (unsigned t = 0; t < NT; t++) {
        w[t] = (struct worker){.db = db,
                               .idx = t,
                               .seed = conf_seed(100) + t,
                               .ops = conf_scale(8000),
                               .last = calloc(RANGE, sizeof(uint64_t))};
        cr_assert_not_null(w[t].last);
    }
    for (unsigned t = 0; t < NT; t++)
        cr_assert_eq(pthread_create(&w[t].th, NULL, disjoint_main, &w[t]), 0);
    join_all(w, NT);
    for (unsigned t = 0; t < NT; t++) {
        for (uint32_t s = 0; s < RANGE; s++) {
            uint32_t id = t * RANGE + s;
            size_t kl = conf_key(id, key);
            int rc = kv_get(db, key, kl, &v);
            if (w[t].last[s] && !(w[t].last[s] & 1)) {
                cr_assert(rc == KV_OK && conf_val_check(id, v.data, v.len, &got) &&
                              got == w[t].last[s],
                          "final state: id %u lost its last value (%d)", id, rc);
                present++;
            } else {
                cr_assert_eq(rc, KV_ENOTFOUND, "final state: id %u should be absent: %d", id, rc);
            }
        }
        free(w[t].last);
    }
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, present, "stats.keys %llu, want %llu", (unsigned long long)st.keys,
                 (unsigned long long)present);
    kv_buf_free(&v);
    conf_close(db);
}

/* ---- shared keys -------------------------------------------------------- */

enum { SHARED = 32 };

/* Version of (thread, seq): unique, and says who wrote it. */
static uint64_t tver(unsigned t, uint64_t seq)
{
    return (uint64_t)t << 40 | seq;
}

static void *shared_writer(void *arg)
{
    struct worker *w = arg;
    unsigned char key[CONF_KEY_MAX], val[CONF_VAL_MAX];
    kv_buf v = {0};
    kv_rng r;
    uint64_t got = 0;

    kv_rng_seed(&r, w->seed);
    for (uint64_t seq = 1; seq <= w->ops && !w->failed; seq++) {
        uint32_t id = (uint32_t)kv_rng_below(&r, SHARED);
        size_t kl = conf_key(id, key);
        uint64_t dice = kv_rng_below(&r, 10);
        int rc;

        if (dice < 6) {
            rc = kv_put(w->db, key, kl, val, conf_val(id, tver(w->idx, seq), val));
            if (rc != KV_OK)
                wfail(w, "put: %d (%s): %s", rc, kv_strerror(rc), kv_last_error());
            w->last[id] = seq << 1;
        } else if (dice < 8) {
            rc = kv_delete(w->db, key, kl);
            if (rc != KV_OK && rc != KV_ENOTFOUND)
                wfail(w, "delete: %d (%s)", rc, kv_strerror(rc));
            w->last[id] = seq << 1 | 1;
        } else {
            rc = kv_get(w->db, key, kl, &v);
            if (rc == KV_OK && !conf_val_check(id, v.data, v.len, &got))
                wfail(w, "writer read a torn or foreign value for id %u (%zu bytes)", id, v.len);
            else if (rc != KV_OK && rc != KV_ENOTFOUND)
                wfail(w, "get: %d (%s)", rc, kv_strerror(rc));
        }
    }
    kv_buf_free(&v);
    return NULL;
}

static void *shared_reader(void *arg)
{
    struct worker *w = arg;
    unsigned char key[CONF_KEY_MAX];
    kv_buf v = {0};
    kv_rng r;
    uint64_t got = 0;

    kv_rng_seed(&r, w->seed);
    while (!atomic_load(w->stop) && !w->failed) {
        uint32_t id = (uint32_t)kv_rng_below(&r, SHARED);
        size_t kl = conf_key(id, key);
        int rc = kv_get(w->db, key, kl, kv_rng_below(&r, 8) ? &v : NULL);

        if (rc == KV_OK && v.len && !conf_val_check(id, v.data, v.len, &got))
            wfail(w, "reader read a torn or foreign value for id %u (%zu bytes)", id, v.len);
        else if (rc == KV_OK && v.len && (got >> 40) >= NT)
            wfail(w, "reader read a version no writer made for id %u", id);
        else if (rc != KV_OK && rc != KV_ENOTFOUND)
            wfail(w, "get: %d (%s)", rc, kv_strerror(rc));
        v.len = 0;
        w->count++;
    }
    kv_buf_free(&v);
    return NULL;
}

Test(conf_threads, shared_keys)
{
    struct worker w[NT + 2] = {0};
    atomic_bool stop = false;
    kv_db *db = conf_open(NULL);
    unsigned char key[CONF_KEY_MAX];
    kv_buf v = {0};
    uint64_t got, present = 0;
    kv_stats st;

    for (unsigned t = 0; t < NT + 2; t++) {
        w[t] = (struct worker){.db = db,
                               .idx = t,
                               .seed = conf_seed(200) + t,
                               .ops = conf_scale(6000),
                               .stop = &stop,
                               .last = calloc(SHARED, sizeof(uint64_t))};
        cr_assert_not_null(w[t].last);
    }
    for (unsigned t = NT; t < NT + 2; t++)
        cr_assert_eq(pthread_create(&w[t].th, NULL, shared_reader, &w[t]), 0);
    for (unsigned t = 0; t < NT; t++)
        cr_assert_eq(pthread_create(&w[t].th, NULL, shared_writer, &w[t]), 0);
    join_only(w, NT);
    atomic_store(&stop, true);
    join_only(w + NT, 2);
    check_workers(w, NT + 2);
    cr_assert_gt(w[NT].count + w[NT + 1].count, 0);

    /* each key ends as the last write of one of the threads that wrote it */
    for (uint32_t id = 0; id < SHARED; id++) {
        size_t kl = conf_key(id, key);
        int rc = kv_get(db, key, kl, &v);
        bool touched = false, ok = false;
        for (unsigned t = 0; t < NT; t++)
            touched |= w[t].last[id] != 0;
        if (rc == KV_OK) {
            cr_assert(conf_val_check(id, v.data, v.len, &got), "final value of id %u is torn", id);
            unsigned t = (unsigned)(got >> 40);
            ok = t < NT && w[t].last[id] == (got & ((1ULL << 40) - 1)) << 1;
            cr_assert(ok,
                      "final value of id %u is thread %u's write %llu, not its last write to "
                      "that key",
                      id, t, (unsigned long long)(got & ((1ULL << 40) - 1)));
            present++;
        } else {
            cr_assert_eq(rc, KV_ENOTFOUND, "final get of id %u: %d", id, rc);
            for (unsigned t = 0; t < NT && !ok; t++)
                ok = w[t].last[id] & 1;
            cr_assert(ok || !touched, "id %u is absent, but no thread's last op on it was a delete",
                      id);
        }
    }
    for (unsigned t = 0; t < NT + 2; t++)
        free(w[t].last);
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, present);
    kv_buf_free(&v);
    conf_close(db);
}

/* ---- iteration while other threads write -------------------------------- */

enum { STABLE = 400 };

static void *volatile_writer(void *arg)
{
    struct worker *w = arg;
    unsigned char key[CONF_KEY_MAX], val[CONF_VAL_MAX];
    kv_rng r;
    uint64_t seq = 0;

    kv_rng_seed(&r, w->seed);
    while (!atomic_load(w->stop) && !w->failed) {
        /* odd ids only: the even ones are the reader's stable set */
        uint32_t id = 2 * (uint32_t)kv_rng_below(&r, STABLE + 50) + 1;
        size_t kl = conf_key(id, key);
        int rc;
        if (kv_rng_below(&r, 3) == 0) {
            rc = kv_delete(w->db, key, kl);
            if (rc != KV_OK && rc != KV_ENOTFOUND)
                wfail(w, "delete: %d (%s)", rc, kv_strerror(rc));
        } else {
            rc = kv_put(w->db, key, kl, val, conf_val(id, tver(w->idx, ++seq), val));
            if (rc != KV_OK)
                wfail(w, "put: %d (%s)", rc, kv_strerror(rc));
        }
        w->count++;
    }
    return NULL;
}

Test(conf_threads, iterate_while_writing)
{
    struct worker w[2] = {0};
    atomic_bool stop = false;
    unsigned char key[CONF_KEY_MAX], val[CONF_VAL_MAX], prev[CONF_KEY_MAX];
    size_t passes = conf_scale(20);
    kv_db *db;

    conf_need(KV_CAP_ORDERED);
    db = conf_open(NULL);
    for (uint32_t id = 0; id < 2 * STABLE; id += 2) {
        size_t kl = conf_key(id, key);
        OK(kv_put(db, key, kl, val, conf_val(id, 7, val)));
    }
    for (unsigned t = 0; t < 2; t++) {
        w[t] = (struct worker){.db = db, .idx = t, .seed = conf_seed(300) + t, .stop = &stop};
        cr_assert_eq(pthread_create(&w[t].th, NULL, volatile_writer, &w[t]), 0);
    }
    for (size_t pass = 0; pass < passes; pass++) {
        kv_iter *it;
        size_t prevlen = 0, stable = 0;
        bool first = true;
        int rc = kv_iter_open(db, &it);
        if (rc != KV_OK) {
            atomic_store(&stop, true);
            join_all(w, 2);
            OK(rc);
        }
        for (kv_iter_first(it); kv_iter_valid(it); kv_iter_next(it)) {
            const void *kp, *vp;
            size_t kl, vl;
            uint64_t got = 0;
            kv_iter_key(it, &kp, &kl);
            kv_iter_value(it, &vp, &vl);
            int64_t id = conf_key_id(kp, kl);
            bool ok = id >= 0 && (first || conf_key_cmp(prev, prevlen, kp, kl) < 0) &&
                      conf_val_check((uint32_t)id, vp, vl, &got) && (id % 2 || got == 7);
            if (!ok) {
                atomic_store(&stop, true);
                join_all(w, 2);
                cr_assert_fail("pass %zu: out of order, unknown key, or bad value (id %lld)", pass,
                               (long long)id);
            }
            memcpy(prev, kp, kl);
            prevlen = kl;
            first = false;
            stable += id % 2 == 0;
        }
        rc = kv_iter_status(it);
        kv_iter_close(it);
        if (rc != KV_OK || stable != STABLE) {
            atomic_store(&stop, true);
            join_all(w, 2);
            cr_assert_fail("pass %zu: %zu of %d stable keys returned, status %d", pass, stable,
                           STABLE, rc);
        }
    }
    atomic_store(&stop, true);
    join_all(w, 2);
    conf_close(db);
}

/* ---- kv_sync racing with writers ---------------------------------------- */

static void *syncer(void *arg)
{
    struct worker *w = arg;

    while (!atomic_load(w->stop) && !w->failed) {
        int rc = kv_sync(w->db);
        if (rc != KV_OK)
            wfail(w, "kv_sync: %d (%s): %s", rc, kv_strerror(rc), kv_last_error());
        w->count++;
        conf_sleep_ms(1);
    }
    return NULL;
}

Test(conf_threads, sync_while_writing)
{
    struct worker w[NT] = {0}, s = {0};
    atomic_bool stop = false;
    kv_db *db = conf_open(NULL);
    unsigned char key[CONF_KEY_MAX];
    kv_buf v = {0};
    uint64_t got = 0;

    s = (struct worker){.db = db, .idx = 99, .stop = &stop};
    cr_assert_eq(pthread_create(&s.th, NULL, syncer, &s), 0);
    for (unsigned t = 0; t < 3; t++) {
        w[t] = (struct worker){.db = db,
                               .idx = t,
                               .seed = conf_seed(400) + t,
                               .ops = conf_scale(4000),
                               .last = calloc(RANGE, sizeof(uint64_t))};
        cr_assert_not_null(w[t].last);
        cr_assert_eq(pthread_create(&w[t].th, NULL, disjoint_main, &w[t]), 0);
    }
    join_only(w, 3);
    atomic_store(&stop, true);
    join_only(&s, 1);
    check_workers(w, 3);
    check_workers(&s, 1);
    if (kv_caps(db) & KV_CAP_DURABLE) {
        conf_close(db);
        db = conf_open(NULL);
    }
    for (unsigned t = 0; t < 3; t++) {
        for (uint32_t sl = 0; sl < RANGE; sl++) {
            uint32_t id = t * RANGE + sl;
            size_t kl = conf_key(id, key);
            int rc = kv_get(db, key, kl, &v);
            if (w[t].last[sl] && !(w[t].last[sl] & 1))
                cr_assert(rc == KV_OK && conf_val_check(id, v.data, v.len, &got) &&
                              got == w[t].last[sl],
                          "id %u lost its last value (%d)", id, rc);
            else
                cr_assert_eq(rc, KV_ENOTFOUND, "id %u should be absent: %d", id, rc);
        }
        free(w[t].last);
    }
    kv_buf_free(&v);
    conf_close(db);
}
