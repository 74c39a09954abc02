/*
 * test_shm_multiproc.c — the shm engine across processes: visibility of
 * acknowledged writes, kill -9 of a process holding a lock at every hook
 * point, slot reuse over a million put/remove cycles, growth while readers
 * in other processes read, concurrent creation, and a mixed workload with
 * an exact final state.
 *
 * Children are forked from the test process and report through exit codes,
 * pipes and a MAP_SHARED anonymous region; they never call Criterion's
 * asserts and leave with _exit(). Every wait has a deadline, so a wedged
 * lock fails the test instead of hanging it.
 */
#define _DEFAULT_SOURCE
#include "shm_test_util.h"

#include <stdatomic.h>

TestSuite(shm_mp, .init = tu_setup, .fini = tu_teardown, .timeout = 120);

static kv_db *child_open(const char *opts)
{
    kv_db *db = NULL;

    if (kv_open("shm", tu_path(0, "db"), opts, &db) != KV_OK)
        _exit(90);
    return db;
}

/* ---- visibility ---------------------------------------------------------------- */

#define VW 2 /* writers */
#define VR 2 /* readers */

typedef struct ack {
    uint32_t kind; /* 1 put, 2 delete */
    uint32_t pad;
    uint64_t id, ver;
} ack;

static void vis_writer(int w, size_t n, int fds[VR])
{
    kv_db *db = child_open(NULL);
    unsigned char val[256];
    char key[32];

    for (uint64_t i = 0; i < n; i++) {
        uint64_t id = (uint64_t)w * 1000000 + i % 64, ver = i + 1;
        ack a = {.kind = 1, .id = id, .ver = ver};
        if (kv_put(db, key, tu_key(id, key), val, tu_val(id, ver, val, 16 + i % 200)) != KV_OK)
            _exit(10);
        for (int r = 0; r < VR; r++)
            if (write(fds[r], &a, sizeof(a)) != sizeof(a))
                _exit(11);
        if (i % 4 == 0) {
            uint64_t d = (uint64_t)w * 1000000 + 500000 + i;
            ack b = {.kind = 2, .id = d};
            if (kv_put(db, key, tu_key(d, key), val, tu_val(d, 1, val, 20)) != KV_OK ||
                kv_delete(db, key, tu_key(d, key)) != KV_OK)
                _exit(12);
            for (int r = 0; r < VR; r++)
                if (write(fds[r], &b, sizeof(b)) != sizeof(b))
                    _exit(11);
        }
    }
    kv_close(db);
    _exit(0);
}

/* Check each acknowledged write the moment its ack arrives. */
static void vis_reader(int fd, size_t want)
{
    kv_db *db = child_open(NULL);
    kv_buf v = {0};
    char key[32];
    size_t got = 0, bad = 0;
    ack a;

    while (read(fd, &a, sizeof(a)) == sizeof(a)) {
        int rc = kv_get(db, key, tu_key(a.id, key), &v);
        got++;
        if (a.kind == 1) {
            uint64_t ver = rc == KV_OK ? tu_val_ver(a.id, &v) : UINT64_MAX;
            bad += ver == UINT64_MAX || ver < a.ver; /* missing, garbled or older */
        } else {
            bad += rc != KV_ENOTFOUND;
        }
    }
    kv_buf_free(&v);
    kv_close(db);
    _exit(bad ? 20 : got != want ? 21 : 0);
}

Test(shm_mp, readers_see_every_acknowledged_write)
{
    size_t n = tu_scale(4000), per = n + (n + 3) / 4;
    int p[VR][2], fds[VR];
    pid_t pid[VW + VR];
    kv_db *db = tu_open(NULL);

    OK(kv_close(db)); /* created before the race starts */
    for (int r = 0; r < VR; r++) {
        cr_assert_eq(pipe(p[r]), 0);
        fds[r] = p[r][1];
    }
    for (int r = 0; r < VR; r++) {
        if ((pid[r] = fork()) == 0) {
            for (int k = 0; k < VR; k++) {
                close(p[k][1]);
                if (k != r)
                    close(p[k][0]);
            }
            vis_reader(p[r][0], VW * per);
        }
    }
    for (int w = 0; w < VW; w++)
        if ((pid[VR + w] = fork()) == 0)
            vis_writer(w, n, fds);
    for (int r = 0; r < VR; r++) {
        close(p[r][0]);
        close(p[r][1]);
    }
    for (int i = 0; i < VW + VR; i++) {
        int st = tu_wait_child(pid[i], 90000);
        cr_assert(st != -1 && WIFEXITED(st), "child %d timed out or died", i);
        cr_assert_eq(WEXITSTATUS(st), 0,
                     "%s %d exited %d (20: a reader missed an "
                     "acknowledged write)",
                     i < VR ? "reader" : "writer", i, WEXITSTATUS(st));
    }
    db = tu_open(NULL);
    tu_check(db);
    OK(kv_close(db));
}

/* ---- kill -9 of a lock holder ------------------------------------------------------ */

enum mode { OVERWRITE, DELETE, INSERT, INSERT_BIG };

typedef struct shared_progress {
    _Atomic uint64_t at; /* the operation in progress in the hanging child */
} shared_progress;

#define PREFILL 300
#define BIG     3000

static void hang_child(int point, enum mode m, int fd, shared_progress *sp)
{
    kv_db *db = child_open(NULL);
    unsigned char val[BIG];
    char key[32];

    kvshm_debug_hang_at(point, fd);
    for (uint64_t i = 0; i < 100000; i++) {
        uint64_t id = m == OVERWRITE || m == DELETE ? i % PREFILL : PREFILL + i;
        atomic_store(&sp->at, i);
        if (m == DELETE && i >= PREFILL)
            break;
        int rc = m == DELETE ? kv_delete(db, key, tu_key(id, key))
                             : kv_put(db, key, tu_key(id, key), val,
                                      tu_val(id, 2, val, m == INSERT_BIG ? BIG : 50));
        if (rc != KV_OK)
            _exit(30);
    }
    _exit(31); /* never reached the hook point */
}

/* A second process that needs the same lock: it must get through once the holder dies. */
static void waiter_child(int ready)
{
    kv_db *db = child_open(NULL);
    char key[32];

    if (write(ready, "r", 1) != 1)
        _exit(40);
    if (kv_put(db, "waiter", 6, "done", 4) != KV_OK)
        _exit(41);
    for (uint64_t i = 0; i < PREFILL; i++) {
        int rc = kv_get(db, key, tu_key(i, key), NULL);
        if (rc != KV_OK && rc != KV_ENOTFOUND)
            _exit(42);
    }
    kv_close(db);
    _exit(0);
}

/* What each key may read back, given the op the child was in when it died. */
static void verify_after_kill(kv_db *db, enum mode m, uint64_t at)
{
    kv_buf v = {0};
    char key[32];

    uint64_t end = m == OVERWRITE || m == DELETE ? PREFILL : PREFILL + at + 1;

    for (uint64_t i = 0; i < end; i++) {
        int rc = kv_get(db, key, tu_key(i, key), &v);
        uint64_t ver = rc == KV_OK ? tu_val_ver(i, &v) : 0;
        bool in_flight = (m == OVERWRITE || m == DELETE) ? i == at % PREFILL : i == PREFILL + at;
        cr_assert(rc == KV_OK || rc == KV_ENOTFOUND, "key %llu: %d", (unsigned long long)i, rc);
        cr_assert(rc != KV_OK || ver != UINT64_MAX, "key %llu reads back garbage",
                  (unsigned long long)i);
        if (in_flight)
            continue; /* old or new state: both allowed */
        if (m == OVERWRITE)
            cr_assert(rc == KV_OK && ver == (i < at ? 2u : 1u), "key %llu: rc %d version %llu",
                      (unsigned long long)i, rc, (unsigned long long)ver);
        else if (m == DELETE)
            cr_assert_eq(rc, i < at ? KV_ENOTFOUND : KV_OK, "key %llu", (unsigned long long)i);
        else if (i < PREFILL)
            cr_assert_eq(ver, 1);
        else
            cr_assert_eq(rc, KV_OK, "key %llu inserted before the kill", (unsigned long long)i);
    }
    kv_buf_free(&v);
}

static void kill_case(int point, enum mode m, const char *opts)
{
    shared_progress *sp = tu_shared(sizeof(*sp));
    int note[2], ready[2], st;
    unsigned char val[64];
    char key[32];
    pid_t hanger, waiter;
    kvshm_info in;
    kv_db *db = tu_open(opts);

    for (uint64_t i = 0; i < PREFILL; i++)
        OK(kv_put(db, key, tu_key(i, key), val, tu_val(i, 1, val, 50)));
    OK(kv_close(db));
    cr_assert_eq(pipe(note), 0);
    cr_assert_eq(pipe(ready), 0);
    if ((hanger = fork()) == 0)
        hang_child(point, m, note[1], sp);
    cr_assert(tu_wait_byte(note[0], 30000), "the child never reached hook point %d", point);
    if ((waiter = fork()) == 0)
        waiter_child(ready[1]);
    cr_assert(tu_wait_byte(ready[0], 10000), "waiter did not start");
    usleep(100 * 1000);
    cr_assert_eq(waitpid(waiter, &st, WNOHANG), 0, "the waiter got past a held lock");
    kill(hanger, SIGKILL);
    waitpid(hanger, &st, 0);
    st = tu_wait_child(waiter, 15000);
    cr_assert(st != -1, "the waiter is still stuck 15 s after the lock holder died");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "waiter exited %d", WEXITSTATUS(st));
    db = tu_open(NULL);
    OK(kv_get(db, "waiter", 6, NULL));
    verify_after_kill(db, m, atomic_load(&sp->at));
    OK(kvshm_get_info(kvshm_from(db), &in));
    cr_assert_geq(in.repairs, 1, "no repair ran");
    tu_check(db);
    for (uint64_t i = 0; i < 2000; i++) /* and it keeps working */
        OK(kv_put(db, key, tu_key(1000000 + i, key), val, tu_val(i, 3, val, 30 + i % 30)));
    for (uint64_t i = 0; i < 2000; i += 2)
        OK(kv_delete(db, key, tu_key(1000000 + i, key)));
    tu_check(db);
    OK(kv_close(db));
}

#define ONE_SHARD "shards=1,buckets=4,log_entries=64"
Test(shm_mp, kill9_holding_shard_lock)
{
    kill_case(KVSHM_HANG_LOCKED, OVERWRITE, ONE_SHARD);
}
Test(shm_mp, kill9_put_live_unlinked)
{
    kill_case(KVSHM_HANG_PUT_LIVE, OVERWRITE, ONE_SHARD);
}
Test(shm_mp, kill9_put_linked_old_not_freed)
{
    kill_case(KVSHM_HANG_PUT_LINKED, OVERWRITE, ONE_SHARD);
}
Test(shm_mp, kill9_delete_dead_still_linked)
{
    kill_case(KVSHM_HANG_DEL_DEAD, DELETE, ONE_SHARD);
}
Test(shm_mp, kill9_holding_alloc_lock)
{
    kill_case(KVSHM_HANG_ALLOC, OVERWRITE, ONE_SHARD);
}
Test(shm_mp, kill9_during_growth)
{
    kill_case(KVSHM_HANG_GROW, INSERT_BIG, ONE_SHARD ",initial_size=64K,max_value=4K");
}
Test(shm_mp, kill9_during_split)
{
    kill_case(KVSHM_HANG_SPLIT, INSERT, ONE_SHARD);
}

/* ---- slot reuse: a million put/remove cycles, the segment stays flat ------------------ */

static void cycle_child(int p, uint64_t from, uint64_t to)
{
    kv_db *db = child_open(NULL);
    unsigned char val[512];
    char key[32];

    for (uint64_t c = from; c < to; c++) {
        uint64_t id = (uint64_t)p * 1000 + c % 64;
        size_t len = 16 + (size_t)((c * 7 + id) % 384);
        if (kv_put(db, key, tu_key(id, key), val, tu_val(id, c, val, len)) != KV_OK ||
            kv_delete(db, key, tu_key(id, key)) != KV_OK)
            _exit(50);
        if (c % 3 == 0 && kv_put(db, key, tu_key(id + 500, key), val, tu_val(id, c, val, len)))
            _exit(51); /* some keys stay, overwritten in place */
    }
    kv_close(db);
    _exit(0);
}

static void run_cycles(uint64_t from, uint64_t to)
{
    pid_t pid[2];

    for (int p = 0; p < 2; p++)
        if ((pid[p] = fork()) == 0)
            cycle_child(p, from, to);
    for (int p = 0; p < 2; p++) {
        int st = tu_wait_child(pid[p], 100000);
        cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "cycle child %d: %d", p, st);
    }
}

Test(shm_mp, million_cycles_memory_flat)
{
    size_t total = tu_scale(1000000) / 2, warm = total / 20; /* cycles per process */
    kv_db *db = tu_open("log_entries=0");
    kvshm_info a, b;
    uint64_t size_a;

    OK(kv_close(db));
    run_cycles(0, warm);
    db = tu_open(NULL);
    OK(kvshm_get_info(kvshm_from(db), &a));
    size_a = tu_seg_size(tu_path(0, "db"));
    OK(kv_close(db));
    run_cycles(warm, total);
    db = tu_open(NULL);
    OK(kvshm_get_info(kvshm_from(db), &b));
    cr_log_info("%zu put/remove cycles in 2 processes: segment %llu bytes, %llu free blocks",
                2 * total, (unsigned long long)b.file_size, (unsigned long long)b.free_blocks);
    cr_assert_eq(tu_seg_size(tu_path(0, "db")), size_a, "the segment grew from %llu to %llu",
                 (unsigned long long)size_a, (unsigned long long)tu_seg_size(tu_path(0, "db")));
    cr_assert_eq(b.extents, a.extents);
    cr_assert_eq(b.keys, 128);
    cr_assert_leq(b.alloc_bytes, a.alloc_bytes + 128 * 512,
                  "blocks in use: %llu after warm-up, %llu at the end",
                  (unsigned long long)a.alloc_bytes, (unsigned long long)b.alloc_bytes);
    tu_check(db);
    OK(kv_close(db));
}

/* ---- growth while readers in other processes read -------------------------------------- */

typedef struct growth_shared {
    _Atomic uint64_t progress, done;
    _Atomic uint64_t checks[2], errors[2], mapped[2];
} growth_shared;

static void growth_reader(int r, growth_shared *g, int ready)
{
    kv_db *db = child_open(NULL);
    kv_buf v = {0};
    char key[32];
    uint64_t x = 88172645463325252ull + (uint64_t)r;

    if (write(ready, "r", 1) != 1)
        _exit(60);
    while (!atomic_load(&g->done)) {
        uint64_t n = atomic_load(&g->progress), id;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        id = (x & 1) || n == 0 ? x % 200 : 1000 + (x >> 1) % n;
        if (kv_get(db, key, tu_key(id, key), &v) != KV_OK ||
            tu_val_ver(id, &v) != (id < 1000 ? 1u : 2u))
            atomic_fetch_add(&g->errors[r], 1);
        atomic_fetch_add(&g->checks[r], 1);
    }
    /* A last pass over every written key (the newest are in the newest
     * extent, which this process then maps if it has not yet). */
    for (uint64_t i = 0, n = atomic_load(&g->progress); i < n; i++) {
        if (kv_get(db, key, tu_key(1000 + i, key), &v) != KV_OK || tu_val_ver(1000 + i, &v) != 2)
            atomic_fetch_add(&g->errors[r], 1);
        atomic_fetch_add(&g->checks[r], 1);
    }
    atomic_store(&g->mapped[r], atomic_load(&kvshm_from(db)->seg.mapped));
    kv_buf_free(&v);
    kv_close(db);
    _exit(0);
}

Test(shm_mp, growth_while_readers_run)
{
    growth_shared *g = tu_shared(sizeof(*g));
    kv_db *db = tu_open("initial_size=64K,log_entries=16,max_value=4K");
    unsigned char val[4000];
    char key[32];
    int ready[2];
    pid_t pid[2];
    kvshm_info in;
    uint64_t n = tu_scale(3000);

    for (uint64_t i = 0; i < 200; i++)
        OK(kv_put(db, key, tu_key(i, key), val, tu_val(i, 1, val, 100)));
    cr_assert_eq(pipe(ready), 0);
    for (int r = 0; r < 2; r++)
        if ((pid[r] = fork()) == 0)
            growth_reader(r, g, ready[1]);
    for (int r = 0; r < 2; r++)
        cr_assert(tu_wait_byte(ready[0], 10000));
    for (uint64_t i = 0; i < n; i++) {
        OK(kv_put(db, key, tu_key(1000 + i, key), val, tu_val(1000 + i, 2, val, 4000)));
        atomic_store(&g->progress, i + 1);
    }
    atomic_store(&g->done, 1);
    for (int r = 0; r < 2; r++) {
        int st = tu_wait_child(pid[r], 30000);
        cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    OK(kvshm_get_info(kvshm_from(db), &in));
    cr_assert_geq(in.extents, 4, "only %u extents", in.extents);
    for (int r = 0; r < 2; r++) {
        cr_assert_eq(atomic_load(&g->errors[r]), 0, "reader %d: %llu bad reads", r,
                     (unsigned long long)atomic_load(&g->errors[r]));
        cr_assert_gt(atomic_load(&g->checks[r]), 100);
        cr_assert_eq(atomic_load(&g->mapped[r]), in.extents, "reader %d mapped %llu of %u", r,
                     (unsigned long long)atomic_load(&g->mapped[r]), in.extents);
    }
    tu_check(db);
    OK(kv_close(db));
}

/* ---- concurrent creation ----------------------------------------------------------------- */

Test(shm_mp, concurrent_creation_has_one_creator)
{
    pid_t pid[4];
    kvshm_log_entry *v = NULL;
    size_t n = 0, creates = 0;
    kv_db *db;

    for (int p = 0; p < 4; p++) {
        if ((pid[p] = fork()) == 0) {
            kv_db *c = child_open("shards=8");
            char key[32];
            _exit(kv_put(c, key, tu_key((uint64_t)p, key), "v", 1) == KV_OK && kv_close(c) == KV_OK
                      ? 0
                      : 1);
        }
    }
    for (int p = 0; p < 4; p++) {
        int st = tu_wait_child(pid[p], 30000);
        cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    db = tu_open(NULL);
    OK(kvshm_log_read(&kvshm_from(db)->seg, &v, &n));
    for (size_t i = 0; i < n; i++)
        creates += v[i].op == KVSHM_OP_CREATE;
    cr_assert_eq(creates, 1);
    kv_free(v);
    for (uint64_t p = 0; p < 4; p++) {
        char key[32];
        OK(kv_get(db, key, tu_key(p, key), NULL));
    }
    tu_check(db);
    OK(kv_close(db));
}

/* ---- a mixed workload in three processes, with an exact final state -------------------- */

#define MIX_KEYS 600
typedef struct mix_shared {
    _Atomic uint64_t ver[MIX_KEYS]; /* final version of each key; 0 = absent */
    _Atomic uint64_t bad;
} mix_shared;

static void mix_child(int p, mix_shared *m, size_t ops)
{
    kv_db *db = child_open(NULL);
    unsigned char val[300];
    kv_buf v = {0};
    char key[32];
    uint64_t x = 0x9E3779B97F4A7C15ull * (uint64_t)(p + 1);

    for (uint64_t i = 1; i <= ops; i++) {
        uint64_t id;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        id = x % MIX_KEYS;
        if (id % 3 != (uint64_t)p) { /* someone else's key: read it, it must be well-formed */
            int rc = kv_get(db, key, tu_key(id, key), &v);
            if ((rc != KV_OK && rc != KV_ENOTFOUND) ||
                (rc == KV_OK && tu_val_ver(id, &v) == UINT64_MAX))
                atomic_fetch_add(&m->bad, 1);
        } else if (x % 5 == 0) {
            int rc = kv_delete(db, key, tu_key(id, key));
            if (rc != (atomic_load(&m->ver[id]) ? KV_OK : KV_ENOTFOUND))
                atomic_fetch_add(&m->bad, 1);
            atomic_store(&m->ver[id], 0);
        } else {
            if (kv_put(db, key, tu_key(id, key), val, tu_val(id, i, val, 16 + (size_t)(x % 280))))
                atomic_fetch_add(&m->bad, 1);
            atomic_store(&m->ver[id], i);
        }
    }
    kv_buf_free(&v);
    kv_close(db);
    _exit(0);
}

Test(shm_mp, mixed_workload_exact_final_state)
{
    mix_shared *m = tu_shared(sizeof(*m));
    kv_db *db = tu_open("shards=4,buckets=2,initial_size=64K");
    kv_buf v = {0};
    char key[32];
    pid_t pid[3];

    OK(kv_close(db));
    for (int p = 0; p < 3; p++)
        if ((pid[p] = fork()) == 0)
            mix_child(p, m, tu_scale(30000));
    for (int p = 0; p < 3; p++) {
        int st = tu_wait_child(pid[p], 90000);
        cr_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    cr_assert_eq(atomic_load(&m->bad), 0, "%llu wrong answers",
                 (unsigned long long)atomic_load(&m->bad));
    db = tu_open(NULL);
    for (uint64_t id = 0; id < MIX_KEYS; id++) {
        uint64_t want = atomic_load(&m->ver[id]);
        int rc = kv_get(db, key, tu_key(id, key), &v);
        if (!want)
            cr_assert_eq(rc, KV_ENOTFOUND, "key %llu", (unsigned long long)id);
        else
            cr_assert(rc == KV_OK && tu_val_ver(id, &v) == want, "key %llu",
                      (unsigned long long)id);
    }
    tu_check(db);
    kv_buf_free(&v);
    OK(kv_close(db));
}
