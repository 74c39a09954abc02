/*
 * kvbench_procs.c — one measured phase run by P client processes that
 * share one engine directory (--procs P).
 *
 * Some engines let several processes open the same store at once
 * (KV_CAP_MULTIPROC: LMDB's shared lock file, SQLite's file locks, the
 * shared-memory hash store of sprint 2). For them, "clients" can be
 * processes rather than threads, and the interesting cost is the
 * cross-process locking. kvbench measures it like this:
 *
 *   parent (holds no handle)          child p = 0..P-1 (fork)
 *   -------------------------------   -------------------------------------
 *   fork P children                   kv_open(engine, same path)
 *                                     start T threads, warm up
 *   read P "ready" bytes      <------ write 'R' to the ready pipe
 *   t0 = now; close the go pipe ----> read() returns 0: everyone starts
 *                                     run its slice of the operations
 *   read P tallies; t1 = now  <------ write its tally to its result pipe
 *   waitpid every child               kv_close, _exit
 *
 * The go pipe is a broadcast: closing its only write end wakes every
 * child at once. The parent's elapsed time (t1 - t0) covers every
 * process, so ops/s is the throughput of all of them together; latencies
 * are the children's histograms merged. Operation indices are split over
 * the P x T workers exactly as over threads, and YCSB inserts of child p
 * use indices base + k*P + p, so no two processes insert the same key.
 *
 * The caller must have closed its own handle on the path before the
 * phase (an engine may allow only one handle per process, and a handle
 * must not cross fork()), and reopens it afterwards.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kvbench_int.h"
#include "kvlabs/alloc.h"

#define MAX_PROCS 256

struct child_msg {
    int rc;
    kvb_tally t;
};

struct child_ctx {
    int ready_fd, go_fd;
};

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    char *c = p;

    while (n) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

/* In a child, between warm-up and measuring: report ready, wait for go. */
static int child_ready(void *arg)
{
    struct child_ctx *cc = arg;
    char b = 'R';
    ssize_t r;

    if (write_all(cc->ready_fd, &b, 1) != 0)
        return -1;
    do
        r = read(cc->go_fd, &b, 1);
    while (r < 0 && errno == EINTR);
    return r == 0 ? 0 : -1; /* EOF is the signal; anything else is a broken parent */
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* The body of child p; never returns. */
static void child_main(const kvb_phase *ph, unsigned p, unsigned procs, const char *spec,
                       const char *options, const char *path, int ready_fd, int go_fd,
                       int res_fd)
{
    struct child_msg *msg = kv_calloc(1, sizeof *msg);
    struct child_ctx cc = {ready_fd, go_fd};
    kvb_phase cph = *ph;
    kv_db *db;
    char b = 'F';

    if (!msg || kv_open(spec, path, options, &db) != KV_OK) {
        fprintf(stderr, "kvbench: client process %u: cannot open %s at %s: %s\n", p, spec, path,
                kv_last_error());
        write_all(ready_fd, &b, 1);
        _exit(1);
    }
    ph->store->ins_base = kvb_store_records(ph->store);
    atomic_store(&ph->store->ins_slots, 0);
    ph->store->ins_stride = procs;
    ph->store->ins_offset = p;
    cph.db = db;
    cph.worker_base = p * ph->threads;
    cph.workers = procs * ph->threads;
    cph.warmup_ops = ph->warmup_ops / procs;
    cph.ready = child_ready;
    cph.ready_arg = &cc;
    cph.quiet = true;
    msg->rc = kvb_phase_run(&cph, &msg->t);
    if (write_all(res_fd, msg, sizeof *msg) != 0)
        msg->rc = KV_EIO;
    if (kv_close(db) != KV_OK && msg->rc == KV_OK)
        msg->rc = KV_EIO;
    _exit(msg->rc == KV_OK ? 0 : 1);
}

int kvb_procs_run(const kvb_phase *ph, unsigned procs, const char *spec, const char *options,
                  const char *path, kvb_tally *out)
{
    int ready[2] = {-1, -1}, go[2] = {-1, -1}, res[MAX_PROCS][2];
    pid_t pid[MAX_PROCS];
    struct child_msg *msg = kv_calloc(1, sizeof *msg);
    uint64_t t0 = 0, t1, base = kvb_store_records(ph->store), max_ins = 0;
    unsigned forked = 0, ready_n = 0;
    int rc = KV_OK;

    memset(out, 0, sizeof *out);
    if (!msg)
        return KV_ENOMEM;
    if (procs > MAX_PROCS || pipe(ready) != 0 || pipe(go) != 0) {
        close_fd(&ready[0]), close_fd(&ready[1]), close_fd(&go[0]), close_fd(&go[1]);
        kv_free(msg);
        return KV_EINVAL;
    }
    fflush(stdout);
    fflush(stderr);
    for (; forked < procs; forked++) {
        if (pipe(res[forked]) != 0)
            break;
        pid[forked] = fork();
        if (pid[forked] < 0) {
            close_fd(&res[forked][0]), close_fd(&res[forked][1]);
            break;
        }
        if (pid[forked] == 0) {
            close(ready[0]);
            close(go[1]);
            for (unsigned q = 0; q < forked; q++)
                close(res[q][0]);
            close(res[forked][0]);
            child_main(ph, forked, procs, spec, options, path, ready[1], go[0], res[forked][1]);
        }
        close_fd(&res[forked][1]);
    }
    close_fd(&ready[1]);
    close_fd(&go[0]);
    if (forked < procs) {
        fprintf(stderr, "kvbench: could only start %u of %u client processes\n", forked, procs);
        rc = KV_ENOMEM;
    }
    /* Wait for every child to be ready (or to have failed), then go. */
    for (char b; ready_n < forked && read_all(ready[0], &b, 1) == 0; ready_n++)
        if (b != 'R')
            rc = KV_EIO;
    if (ready_n < forked)
        rc = KV_EIO;
    t0 = kv_now_ns();
    close_fd(&go[1]);
    for (unsigned p = 0; p < forked; p++) {
        if (read_all(res[p][0], msg, sizeof *msg) == 0) {
            if (msg->rc != KV_OK)
                rc = msg->rc;
            if (msg->t.c.inserts > max_ins)
                max_ins = msg->t.c.inserts;
            kvb_tally_merge(out, &msg->t);
        } else if (rc == KV_OK) {
            rc = KV_EIO;
        }
        close_fd(&res[p][0]);
    }
    t1 = kv_now_ns();
    for (unsigned p = 0; p < forked; p++) {
        int st;
        while (waitpid(pid[p], &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            rc = rc == KV_OK ? KV_EIO : rc;
    }
    close_fd(&ready[0]);
    out->elapsed_ns = t1 > t0 ? t1 - t0 : 1;
    /* The children's inserts now exist in the store: move the parent's
     * insert window past them (see the stride rule above). */
    ph->store->ins_base = base + max_ins * procs;
    atomic_store(&ph->store->ins_slots, 0);
    kv_free(msg);
    return rc;
}
