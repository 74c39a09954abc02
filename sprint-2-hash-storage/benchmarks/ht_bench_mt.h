/*
 * ht_bench_mt.h — the thread harness of ht_bench.c's parallel hit phase:
 * run one body on T threads at once, released together by a barrier, and
 * time them from the first thread's start to the last thread's end.
 *
 * Header-only: the lab builds each program of LAB_PROGS from one .c file
 * (sprint-2-hash-storage/Makefile), so ht_bench.c includes this and is its
 * only user. It knows nothing of tables: the body is ht_bench.c's.
 */
#ifndef HT_BENCH_MT_H
#define HT_BENCH_MT_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "kvlabs/bench.h"
#include "kvlabs/hist.h"

#define MT_MAX_THREADS 64

/* The work of thread `id` (0..nthreads-1): record sampled latencies into h
 * (its own, empty at the start) and return the number of errors. */
typedef uint64_t (*mt_body_fn)(void *ctx, unsigned id, unsigned nthreads, kv_hist *h);

struct mt_worker {
    pthread_t tid;
    unsigned id, nthreads;
    mt_body_fn body;
    void *ctx;
    pthread_barrier_t *go;
    uint64_t t0, t1, errors; /* its start (after the barrier) and end */
    kv_hist hist;
};

static void *mt_worker_main(void *arg)
{
    struct mt_worker *w = arg;

    pthread_barrier_wait(w->go);
    w->t0 = kv_now_ns();
    w->errors = w->body(w->ctx, w->id, w->nthreads, &w->hist);
    w->t1 = kv_now_ns();
    return NULL;
}

/*
 * Run body on nthreads (1..MT_MAX_THREADS) threads at once. *elapsed_ns:
 * from the earliest start to the latest end; h: every thread's latencies
 * merged. Returns the errors of all threads. Exits when a thread cannot be
 * started (a benchmark has nothing better to do).
 */
static uint64_t mt_run(unsigned nthreads, mt_body_fn body, void *ctx, uint64_t *elapsed_ns,
                       kv_hist *h)
{
    struct mt_worker *w = calloc(nthreads, sizeof(*w)); /* ~15 KiB each: the histograms */
    pthread_barrier_t go;
    uint64_t t0 = UINT64_MAX, t1 = 0, errors = 0;

    if (!w || pthread_barrier_init(&go, NULL, nthreads) != 0) {
        fprintf(stderr, "ht_bench: cannot set up %u threads\n", nthreads);
        exit(1);
    }
    for (unsigned i = 0; i < nthreads; i++) {
        w[i].id = i;
        w[i].nthreads = nthreads;
        w[i].body = body;
        w[i].ctx = ctx;
        w[i].go = &go;
        if (pthread_create(&w[i].tid, NULL, mt_worker_main, &w[i]) != 0) {
            fprintf(stderr, "ht_bench: cannot start thread %u of %u\n", i + 1, nthreads);
            exit(1);
        }
    }
    kv_hist_init(h);
    for (unsigned i = 0; i < nthreads; i++) {
        pthread_join(w[i].tid, NULL);
        t0 = w[i].t0 < t0 ? w[i].t0 : t0;
        t1 = w[i].t1 > t1 ? w[i].t1 : t1;
        errors += w[i].errors;
        kv_hist_merge(h, &w[i].hist);
    }
    pthread_barrier_destroy(&go);
    free(w);
    *elapsed_ns = t1 - t0;
    return errors;
}

#endif /* HT_BENCH_MT_H */
