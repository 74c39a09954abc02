/*
 * stress.h — the concurrency stress test of the sprint-2 table, shared by
 * the Criterion test (test_concurrency.c) and the plain program that runs
 * under ThreadSanitizer (stress_tsan.c, built by tests/tsan_stress.sh).
 *
 * What it does. STRESS_THREADS workers hammer one table, through the core
 * API or through the `hash` engine, with a mix of operations whose
 * outcome can be checked exactly:
 *
 *   - own keys: each worker owns a range of keys nobody else writes; it
 *     puts, overwrites, deletes and reads them at random against a private
 *     model, and every read must match the model exactly;
 *   - constant keys: loaded before the workers start, never written; every
 *     read by every worker must see them intact;
 *   - contended keys: every worker overwrites them; a read must return a
 *     well-formed value that some worker wrote (version = worker << 32 |
 *     sequence, and that worker had reached that sequence);
 *   - a checker thread runs ht_check() / kv_db_stats() in a loop meanwhile.
 *
 * The table starts tiny (64 slots in 4 shards), so dozens of incremental
 * resizes happen under contention. At the end: every own key equals its
 * model, every constant key is intact, every contended key holds a valid
 * value, the key count is exact, and the invariants hold.
 *
 * stress_run() returns NULL on success, else a static description of the
 * first failure (the workers stop at the first one).
 */
#ifndef STRESS_H
#define STRESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "ht_test.h"
#include "kvlabs/kv.h"

#define STRESS_THREADS 4
#define STRESS_OWN 1500         /* keys per worker */
#define STRESS_CONST_BASE 900000u
#define STRESS_CONST 500
#define STRESS_HOT_BASE 800000u
#define STRESS_HOT 32

/* What the stress test runs against: the core API or the engine. */
struct stress_target {
    ht_table *t; /* core API when set */
    kv_db *db;   /* else the engine */
};

struct stress_shared {
    struct stress_target tg;
    unsigned ops;                            /* operations per worker */
    _Atomic(const char *) failure;           /* the first failure */
    atomic_uint_fast64_t hot_seq[STRESS_THREADS]; /* last sequence each worker started */
    atomic_int running;                      /* workers still running */
    char detail[256];
};

struct stress_worker {
    struct stress_shared *sh;
    unsigned id;
    uint64_t ver[STRESS_OWN]; /* model: version of each own key, 0 = absent */
};

static int st_put(const struct stress_target *tg, uint32_t i, uint64_t ver)
{
    unsigned char k[TK_MAX], v[TV_MAX];
    size_t kl = tk_key(i, k), vl = tk_val(i, ver, v);

    return tg->t ? ht_put(tg->t, k, kl, v, vl) : kv_put(tg->db, k, kl, v, vl);
}

static int st_del(const struct stress_target *tg, uint32_t i)
{
    unsigned char k[TK_MAX];
    size_t kl = tk_key(i, k);

    return tg->t ? ht_delete(tg->t, k, kl) : kv_delete(tg->db, k, kl);
}

/* Read key i into *out; HT_OK / HT_ENOTFOUND (equal to the KV_ codes). */
static int st_get(const struct stress_target *tg, uint32_t i, struct tt_val *out, kv_buf *buf)
{
    unsigned char k[TK_MAX];
    size_t kl = tk_key(i, k);
    int rc;

    if (tg->t)
        return ht_get(tg->t, k, kl, tt_copy, out);
    rc = kv_get(tg->db, k, kl, buf);
    if (rc == KV_OK)
        tt_copy(out, buf->data, buf->len);
    return rc;
}

static void st_fail(struct stress_shared *sh, const char *what, uint32_t key, int rc)
{
    const char *none = NULL;

    if (atomic_compare_exchange_strong(&sh->failure, &none, what))
        snprintf(sh->detail, sizeof(sh->detail), "%s (key %u, status %d)", what, key, rc);
}

/* A contended key's value: well-formed, from a real worker, not from the future. */
static bool st_hot_ok(struct stress_shared *sh, uint32_t i, const struct tt_val *v)
{
    uint64_t ver, w;

    if (v->len < 16)
        return false;
    memcpy(&ver, v->buf + 8, 8);
    w = ver >> 32;
    return w < STRESS_THREADS && (ver & 0xFFFFFFFFu) <= atomic_load(&sh->hot_seq[w]) &&
           tk_val_is(i, ver, v->buf, v->len);
}

static void *st_worker(void *arg)
{
    struct stress_worker *w = arg;
    struct stress_shared *sh = w->sh;
    const struct stress_target *tg = &sh->tg;
    uint32_t base = w->id * STRESS_OWN;
    uint64_t rng = tk_mix(w->id + 1), seq = 0;
    kv_buf buf = {0};
    struct tt_val v;

    for (unsigned op = 0; op < sh->ops && !atomic_load(&sh->failure); op++) {
        rng = tk_mix(rng);
        unsigned what = (unsigned)(rng % 100);
        uint32_t k = (uint32_t)((rng >> 8) % STRESS_OWN);
        int rc;
        if (what < 30) { /* put or overwrite an own key */
            uint64_t nv = (uint64_t)op + 1;
            if ((rc = st_put(tg, base + k, nv)) != HT_OK)
                st_fail(sh, "put of an own key failed", base + k, rc);
            w->ver[k] = nv;
        } else if (what < 45) { /* delete an own key */
            rc = st_del(tg, base + k);
            if (rc != (w->ver[k] ? HT_OK : HT_ENOTFOUND))
                st_fail(sh, "delete of an own key returned the wrong status", base + k, rc);
            w->ver[k] = 0;
        } else if (what < 70) { /* read an own key: exactly the model */
            rc = st_get(tg, base + k, &v, &buf);
            if (w->ver[k] ? rc != HT_OK || !tk_val_is(base + k, w->ver[k], v.buf, v.len)
                          : rc != HT_ENOTFOUND)
                st_fail(sh, "an own key read back differently from the model", base + k, rc);
        } else if (what < 85) { /* read a constant key */
            uint32_t c = STRESS_CONST_BASE + (uint32_t)((rng >> 20) % STRESS_CONST);
            rc = st_get(tg, c, &v, &buf);
            if (rc != HT_OK || !tk_val_is(c, 7, v.buf, v.len))
                st_fail(sh, "a constant key changed or vanished", c, rc);
        } else if (what < 93) { /* overwrite a contended key */
            uint32_t h = STRESS_HOT_BASE + (uint32_t)((rng >> 20) % STRESS_HOT);
            atomic_store(&sh->hot_seq[w->id], ++seq);
            if ((rc = st_put(tg, h, (uint64_t)w->id << 32 | seq)) != HT_OK)
                st_fail(sh, "put of a contended key failed", h, rc);
        } else { /* read a contended key */
            uint32_t h = STRESS_HOT_BASE + (uint32_t)((rng >> 20) % STRESS_HOT);
            rc = st_get(tg, h, &v, &buf);
            if (rc != HT_OK || !st_hot_ok(sh, h, &v))
                st_fail(sh, "a contended key holds a value nobody wrote", h, rc);
        }
    }
    kv_buf_free(&buf);
    atomic_fetch_sub(&sh->running, 1);
    return NULL;
}

/* Checks the invariants (core) or reads the counters (engine) while workers run. */
static void *st_checker(void *arg)
{
    struct stress_shared *sh = arg;
    kv_stats ks;

    while (atomic_load(&sh->running) > 0 && !atomic_load(&sh->failure)) {
        const char *what;
        if (sh->tg.t) {
            if (ht_check(sh->tg.t, &what) != 0)
                st_fail(sh, what, 0, 0);
        } else if (kv_db_stats(sh->tg.db, &ks) != KV_OK) {
            st_fail(sh, "kv_db_stats failed", 0, 0);
        }
    }
    return NULL;
}

/* Run the stress test on a target; NULL on success. */
static const char *stress_run(struct stress_target tg, unsigned ops, char *detail, size_t dlen)
{
    static struct stress_worker workers[STRESS_THREADS];
    struct stress_shared *sh = calloc(1, sizeof(*sh));
    pthread_t th[STRESS_THREADS], checker;
    const char *failure;
    uint64_t live = 0;

    if (!sh)
        return "out of memory";
    sh->tg = tg;
    sh->ops = ops;
    for (uint32_t c = 0; c < STRESS_CONST; c++)
        if (st_put(&tg, STRESS_CONST_BASE + c, 7) != HT_OK)
            st_fail(sh, "loading a constant key failed", c, 0);
    for (unsigned t = 0; t < STRESS_THREADS; t++)
        for (uint32_t h = 0; h < STRESS_HOT; h++)
            if (st_put(&tg, STRESS_HOT_BASE + h, (uint64_t)t << 32) != HT_OK)
                st_fail(sh, "loading a contended key failed", h, 0);
    atomic_store(&sh->running, STRESS_THREADS);
    for (unsigned t = 0; t < STRESS_THREADS; t++) {
        memset(&workers[t], 0, sizeof(workers[t]));
        workers[t].sh = sh;
        workers[t].id = t;
        if (pthread_create(&th[t], NULL, st_worker, &workers[t]) != 0)
            abort();
    }
    if (pthread_create(&checker, NULL, st_checker, sh) != 0)
        abort();
    for (unsigned t = 0; t < STRESS_THREADS; t++)
        pthread_join(th[t], NULL);
    pthread_join(checker, NULL);

    /* The final state. */
    for (unsigned t = 0; t < STRESS_THREADS && !atomic_load(&sh->failure); t++) {
        for (uint32_t k = 0; k < STRESS_OWN; k++) {
            struct tt_val v;
            kv_buf buf = {0};
            uint64_t want = workers[t].ver[k];
            int rc = st_get(&tg, t * STRESS_OWN + k, &v, &buf);
            kv_buf_free(&buf);
            live += want != 0;
            if (want ? rc != HT_OK || !tk_val_is(t * STRESS_OWN + k, want, v.buf, v.len)
                     : rc != HT_ENOTFOUND)
                st_fail(sh, "final state: an own key differs from its model", t * STRESS_OWN + k,
                        rc);
        }
    }
    for (uint32_t h = 0; h < STRESS_HOT; h++) {
        struct tt_val v;
        kv_buf buf = {0};
        int rc = st_get(&tg, STRESS_HOT_BASE + h, &v, &buf);
        kv_buf_free(&buf);
        if (rc != HT_OK || !st_hot_ok(sh, STRESS_HOT_BASE + h, &v))
            st_fail(sh, "final state: a contended key is wrong", STRESS_HOT_BASE + h, rc);
    }
    if (!atomic_load(&sh->failure)) {
        uint64_t keys;
        if (tg.t) {
            keys = tt_stats(tg.t).keys;
            if (ht_check(tg.t, NULL) != 0)
                st_fail(sh, "final state: an invariant is broken", 0, 0);
        } else {
            kv_stats ks;
            kv_db_stats(tg.db, &ks);
            keys = ks.keys;
        }
        if (keys != live + STRESS_CONST + STRESS_HOT)
            st_fail(sh, "final state: the key count is wrong", (uint32_t)keys, 0);
    }
    failure = atomic_load(&sh->failure);
    snprintf(detail, dlen, "%s", failure ? sh->detail : "");
    free(sh);
    return failure;
}

#endif /* STRESS_H */
