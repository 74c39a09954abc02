/*
 * kvbench_runner.c — one measured phase: a workload's operations on an
 * open store, split over T threads, timed.
 *
 * Interface: kvb_phase_run(phase, tally). The caller has the store open
 * (one kv_db shared by every thread: the contract makes every call but
 * kv_close thread-safe) and says how many operations to measure. The phase
 * goes through four steps:
 *
 *   1. start T threads; each prepares a worker (its own generator, buffer
 *      and, for readseq, its own cursor positioned on its share of keys);
 *   2. warm-up: each thread runs its share of --warmup-ops operations, and
 *      keeps going until --warmup-ns have passed, untimed and uncounted
 *      (only for workloads where that changes nothing measured: not the
 *      fills, readseq or deleterandom, whose operations are one per key);
 *   3. every thread waits at a gate; the coordinator (the calling
 *      thread) reads the env's I/O counters, lets the client processes'
 *      parent know it is ready (kvbench_procs.c), reads the clock, and opens the
 *      gate: all threads start measuring at once;
 *   4. each thread runs its contiguous slice of operation indices (for the
 *      per-key workloads, slice w of W covers indices [w*ops/W,
 *      (w+1)*ops/W)) and records latencies in its own kv_hist; the
 *      coordinator prints progress while it waits, then merges.
 *
 * Timing. The elapsed time runs from the opening of the gate to the moment the
 * last thread finished, so ops/s = all measured operations / that wall
 * time. Latency is sampled around single operations with kv_now_ns()
 * (two clock reads, ~20-40 ns each with the vDSO, which is included in the
 * latency). Every operation is sampled unless the phase is huge: with
 * --sample-every K (or automatically, above 2^26 operations), only every
 * K-th operation of each thread is timed; the histogram's count says how
 * many were.
 *
 * Callers must not close the store, or run another phase on it, while a
 * phase runs.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvbench_int.h"
#include "kvlabs/alloc.h"

#define PROGRESS_STEP 256    /* a thread publishes its progress every 256 operations */
#define POLL_NS 100000000ull /* the coordinator looks every 100 ms */

struct shared {
    const kvb_phase *ph;
    pthread_mutex_t mu;     /* guards warmed, go and finished */
    pthread_cond_t cv;
    unsigned warmed;        /* threads done with their warm-up */
    bool go;                /* the coordinator started the clock */
    unsigned finished;      /* threads done measuring */
    _Atomic uint64_t done;
    _Atomic int abort;
};

struct thr {
    struct shared *sh;
    unsigned idx;
    pthread_t tid;
    kvb_worker w;
    kv_hist hist;
    uint64_t first, count;
    uint64_t warm_done;
    uint64_t t_end;
};

static void warm_up(struct thr *t)
{
    const kvb_phase *ph = t->sh->ph;
    uint64_t ops = (ph->warmup_ops + ph->threads - 1) / ph->threads;
    uint64_t t0 = kv_now_ns();

    if (!ph->wl->warmup)
        return;
    for (uint64_t i = 0; i < ops || (ph->warmup_ns && kv_now_ns() - t0 < ph->warmup_ns); i++) {
        kvb_op(&t->w, i);
        t->warm_done++;
    }
    memset(&t->w.c, 0, sizeof t->w.c);
}

static void measure(struct thr *t)
{
    struct shared *sh = t->sh;
    uint64_t every = sh->ph->sample_every ? sh->ph->sample_every : 1;
    uint64_t countdown = 1, published = 0;

    for (uint64_t i = t->first, end = t->first + t->count; i < end; i++) {
        if (--countdown == 0) {
            uint64_t t0 = kv_now_ns();
            kvb_op(&t->w, i);
            kv_hist_record(&t->hist, kv_now_ns() - t0);
            countdown = every;
        } else {
            kvb_op(&t->w, i);
        }
        if (++published == PROGRESS_STEP) {
            atomic_fetch_add_explicit(&sh->done, published, memory_order_relaxed);
            published = 0;
        }
    }
    atomic_fetch_add_explicit(&sh->done, published, memory_order_relaxed);
}

static void *thread_main(void *arg)
{
    struct thr *t = arg;
    struct shared *sh = t->sh;
    const kvb_phase *ph = sh->ph;
    unsigned gw = ph->worker_base + t->idx;

    kvb_worker_init(&t->w, ph->db, ph->wl, ph->store, ph->seed, gw);
    t->first = ph->ops * gw / ph->workers;
    t->count = ph->ops * (gw + 1) / ph->workers - t->first;
    if (ph->wl->id == KVB_READSEQ && t->count && kvb_seq_start(&t->w, t->first) != KV_OK)
        t->w.c.errors++;
    warm_up(t);
    pthread_mutex_lock(&sh->mu);
    sh->warmed++;
    pthread_cond_broadcast(&sh->cv);
    while (!sh->go)
        pthread_cond_wait(&sh->cv, &sh->mu);
    pthread_mutex_unlock(&sh->mu);
    if (!atomic_load(&sh->abort))
        measure(t);
    t->t_end = kv_now_ns();
    kvb_worker_fini(&t->w);
    pthread_mutex_lock(&sh->mu);
    sh->finished++;
    pthread_cond_broadcast(&sh->cv);
    pthread_mutex_unlock(&sh->mu);
    return NULL;
}


void kvb_tally_merge(kvb_tally *dst, const kvb_tally *src)
{
    kv_hist_merge(&dst->hist, &src->hist);
    dst->c.ops += src->c.ops;
    dst->c.errors += src->c.errors;
    dst->c.found += src->c.found;
    dst->c.not_found += src->c.not_found;
    dst->c.scanned += src->c.scanned;
    dst->c.user_bytes += src->c.user_bytes;
    dst->c.inserts += src->c.inserts;
    dst->warmup_done += src->warmup_done;
    dst->io_read += src->io_read;
    dst->io_written += src->io_written;
    dst->io_syncs += src->io_syncs;
    if (src->elapsed_ns > dst->elapsed_ns)
        dst->elapsed_ns = src->elapsed_ns;
}

/* Start the threads; returns how many started. */
static unsigned start_threads(struct shared *sh, struct thr *t, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        t[i].sh = sh;
        t[i].idx = i;
        if (pthread_create(&t[i].tid, NULL, thread_main, &t[i]) != 0)
            return i;
    }
    return n;
}

/* Wait until every thread has finished, printing progress every 100 ms.
 * The threads signal as they finish, so a phase's end is seen at once
 * (the client processes of --procs report to their parent right away). */
static void wait_and_report(struct shared *sh, unsigned n, uint64_t t_start)
{
    const kvb_phase *ph = sh->ph;

    pthread_mutex_lock(&sh->mu);
    while (sh->finished < n) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)POLL_NS;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&sh->cv, &sh->mu, &ts);
        if (sh->finished < n && !ph->quiet && ph->label) {
            pthread_mutex_unlock(&sh->mu);
            kvb_progress_tick(ph->label, atomic_load_explicit(&sh->done, memory_order_relaxed),
                              ph->ops, kv_now_ns() - t_start);
            pthread_mutex_lock(&sh->mu);
        }
    }
    pthread_mutex_unlock(&sh->mu);
}

int kvb_phase_run(const kvb_phase *ph, kvb_tally *out)
{
    struct shared sh;
    struct thr *t;
    kv_stats before, after;
    uint64_t t_start, t_end = 0;
    unsigned n = ph->threads ? ph->threads : 1, started;
    int rc = KV_OK;

    memset(out, 0, sizeof *out);
    t = kv_calloc(n, sizeof *t);
    if (!t)
        return KV_ENOMEM;
    memset(&sh, 0, sizeof sh);
    sh.ph = ph;
    pthread_mutex_init(&sh.mu, NULL);
    pthread_cond_init(&sh.cv, NULL);
    started = start_threads(&sh, t, n);
    if (started < n) {
        atomic_store(&sh.abort, 1); /* the threads that did start measure nothing */
        rc = KV_ENOMEM;
    }
    /* Wait for every thread's warm-up, then start the clock for all. */
    pthread_mutex_lock(&sh.mu);
    while (sh.warmed < started)
        pthread_cond_wait(&sh.cv, &sh.mu);
    pthread_mutex_unlock(&sh.mu);
    kv_db_stats(ph->db, &before);
    if (rc == KV_OK && ph->ready && ph->ready(ph->ready_arg) != 0) {
        atomic_store(&sh.abort, 1);
        rc = KV_EIO;
    }
    t_start = kv_now_ns();
    pthread_mutex_lock(&sh.mu);
    sh.go = true;
    pthread_cond_broadcast(&sh.cv);
    pthread_mutex_unlock(&sh.mu);
    wait_and_report(&sh, started, t_start);
    for (unsigned i = 0; i < started; i++) {
        pthread_join(t[i].tid, NULL);
        if (t[i].t_end > t_end)
            t_end = t[i].t_end;
        kv_hist_merge(&out->hist, &t[i].hist);
        out->c.ops += t[i].w.c.ops;
        out->c.errors += t[i].w.c.errors;
        out->c.found += t[i].w.c.found;
        out->c.not_found += t[i].w.c.not_found;
        out->c.scanned += t[i].w.c.scanned;
        out->c.user_bytes += t[i].w.c.user_bytes;
        out->c.inserts += t[i].w.c.inserts;
        out->warmup_done += t[i].warm_done;
    }
    kv_db_stats(ph->db, &after);
    out->elapsed_ns = t_end > t_start ? t_end - t_start : 1;
    out->io_read = after.io_bytes_read - before.io_bytes_read;
    out->io_written = after.io_bytes_written - before.io_bytes_written;
    out->io_syncs = after.io_syncs - before.io_syncs;
    pthread_cond_destroy(&sh.cv);
    pthread_mutex_destroy(&sh.mu);
    kv_free(t);
    return rc;
}
