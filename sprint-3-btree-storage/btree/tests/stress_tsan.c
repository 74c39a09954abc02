/*
 * stress_tsan.c — concurrent readers and one writer on one `btree`
 * instance; a plain program (ThreadSanitizer does not work under
 * Criterion's runner), run as a normal test and, built with
 * -fsanitize=thread, by btree/tests/tsan_stress.sh.
 *
 * Setup: keys "s00000".."s00999" (the stable set) are loaded first and never
 * changed. Then, at once:
 *   - one writer puts and deletes keys of a churn set ("c....") in random
 *     order (splits, borrows and merges all over the tree, including the
 *     leaves the stable keys live in);
 *   - three readers: random gets of stable keys (each must be found with
 *     its value), and iterator scans from a random stable key that must
 *     see the stable keys after it in order, each exactly once, with
 *     churn keys possibly in between;
 *   - one checker thread runs bpt_check over and over.
 * Cases (one line each): stable gets always hit; scans see the stable keys
 * in order; bpt_check never fails; the final tree passes bpt_check and
 * holds exactly what the writer left. Prints "N passed, N failed".
 * STRESS_OPS overrides the writer's operation count.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpt.h"
#include "btree.h"
#include "kvlabs/kv.h"
#include "kvlabs/rng.h"

#define STABLE 1000
#define CHURN 4000
#define READERS 3

static kv_db *db;
static atomic_int done;
static atomic_long bad_get, bad_scan, bad_check, n_reads, n_checks;
static unsigned writer_ops = 60000;

static size_t stable_key(char *k, unsigned i)
{
    return (size_t)snprintf(k, 16, "s%05u", i);
}

static void *writer(void *arg)
{
    kv_rng r;
    (void)arg;
    kv_rng_seed(&r, 7);
    for (unsigned op = 0; op < writer_ops; op++) {
        char k[16], v[64];
        unsigned i = (unsigned)kv_rng_below(&r, CHURN);
        /* churn keys sort among the stable ones: "s00042x..." */
        size_t kl = (size_t)snprintf(k, sizeof(k), "s%05ux%u", i % STABLE, i);
        if (kv_rng_below(&r, 2)) {
            memset(v, 'c', sizeof(v));
            if (kv_put(db, k, kl, v, 1 + i % sizeof(v)) != KV_OK)
                atomic_fetch_add(&bad_check, 1);
        } else {
            (void)kv_delete(db, k, kl);
        }
    }
    atomic_store(&done, 1);
    return NULL;
}

static void *reader(void *arg)
{
    kv_rng r;
    kv_buf v = {0};
    kv_rng_seed(&r, 100 + (uintptr_t)arg);
    while (!atomic_load(&done)) {
        char k[16];
        unsigned i = (unsigned)kv_rng_below(&r, STABLE);
        size_t kl = stable_key(k, i);
        if (kv_get(db, k, kl, &v) != KV_OK || v.len != 8 || memcmp(v.data, k, 6) != 0)
            atomic_fetch_add(&bad_get, 1);
        if (kv_rng_below(&r, 8) == 0) {
            kv_iter *it;
            unsigned want = i, seen = 0;
            if (kv_iter_open(db, &it) != KV_OK) {
                atomic_fetch_add(&bad_scan, 1);
                continue;
            }
            for (kv_iter_seek(it, k, kl); kv_iter_valid(it) && seen < 300; kv_iter_next(it)) {
                const void *ik;
                size_t ikl;
                char sk[16];
                kv_iter_key(it, &ik, &ikl);
                if (ikl != 6)
                    continue; /* a churn key */
                stable_key(sk, want);
                if (want >= STABLE || memcmp(ik, sk, 6) != 0) {
                    atomic_fetch_add(&bad_scan, 1);
                    break;
                }
                want++;
                seen++;
            }
            if (kv_iter_status(it) != KV_OK ||
                (seen < 300 && want != STABLE)) /* ended early without reaching the last */
                atomic_fetch_add(&bad_scan, 1);
            kv_iter_close(it);
        }
        atomic_fetch_add(&n_reads, 1);
    }
    kv_buf_free(&v);
    return NULL;
}

static void *checker(void *arg)
{
    (void)arg;
    while (!atomic_load(&done)) {
        if (bpt_check(btree_engine_tree(db), NULL) != BPT_OK)
            atomic_fetch_add(&bad_check, 1);
        atomic_fetch_add(&n_checks, 1);
    }
    return NULL;
}

static int passed, failed;
static void report(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (ok)
        passed++;
    else
        failed++;
}

int main(void)
{
    pthread_t w, c, rd[READERS];
    const char *env = getenv("STRESS_OPS");
    kv_stats st;

    if (env && atoi(env) > 0)
        writer_ops = (unsigned)atoi(env);
    if (kv_open("btree", NULL, "order=8", &db) != KV_OK) {
        printf("FAIL open: %s\n0 passed, 1 failed\n", kv_last_error());
        return 1;
    }
    for (unsigned i = 0; i < STABLE; i++) {
        char k[16], v[16];
        size_t kl = stable_key(k, i);
        memcpy(v, k, 6);
        memcpy(v + 6, "!!", 2);
        if (kv_put(db, k, kl, v, 8) != KV_OK)
            return 1;
    }
    pthread_create(&w, NULL, writer, NULL);
    pthread_create(&c, NULL, checker, NULL);
    for (uintptr_t i = 0; i < READERS; i++)
        pthread_create(&rd[i], NULL, reader, (void *)i);
    pthread_join(w, NULL);
    pthread_join(c, NULL);
    for (int i = 0; i < READERS; i++)
        pthread_join(rd[i], NULL);

    printf("writer ops %u, reads %ld, checks %ld\n", writer_ops, atomic_load(&n_reads),
           atomic_load(&n_checks));
    report(atomic_load(&bad_get) == 0, "stable keys are always found with their value");
    report(atomic_load(&bad_scan) == 0, "scans see the stable keys in order, each once");
    report(atomic_load(&bad_check) == 0, "bpt_check passes while the writer runs");
    report(bpt_check(btree_engine_tree(db), NULL) == BPT_OK && kv_db_stats(db, &st) == KV_OK &&
               st.keys >= STABLE,
           "the final tree passes bpt_check");
    kv_close(db);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
