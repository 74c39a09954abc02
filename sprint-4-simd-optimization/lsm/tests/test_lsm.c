/*
 * test_lsm.c — the lsm part's own tests, one concept per suite:
 *   levels/   after a random workload with small tables: L1+ sorted and
 *             disjoint, every file's range inside its keys, every key
 *             back; tombstones dropped where nothing deeper holds the key;
 *             size-tiered keeps the newest value
 *   fault/    an injected I/O error in a background flush surfaces as
 *             KV_EIO on the next writes, and reopening loses nothing
 *             that was synced
 *   kill/     kill -9 of a writer (during writes, flushes and compactions):
 *             the manifest opens and every synced key reads back
 *   corrupt/  a damaged SSTable is KV_ECORRUPT on read, never a wrong value
 *   stats/    exact_stats=false (blind puts), an exact reopen counts again;
 *             the block cache counters
 *   compress/ the engine with compression=lz4 and =zstd: data that went
 *             through flushes and compactions reads back after a reopen
 * Written as if a student had made the bug: a compaction that keeps an
 * overlapping file, drops a tombstone too early (the old value comes
 * back), installs a version before its table is synced, or swallows a
 * background error.
 *
 * Every env, store, iterator, version reference, buffer and directory a
 * test makes is owned (kvtest.h's kvt_own, KVT_OWN_STORES), so a failed
 * assertion leaks nothing.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kvlabs/kv.h"
#include "lsm_int.h"
#define KVT_OWN_STORES /* the envs and stores a test opens are owned */
#include "kvtest.h"

/* .fini of every suite: what a failed assertion left, newest first, then
 * the scratch directory of kill/ */
static void lsm_fini(void)
{
    kvt_release_owned();
    kvt_tmpdir_done();
}

TestSuite(levels, .fini = lsm_fini);
TestSuite(fault, .fini = lsm_fini);
TestSuite(kill, .fini = lsm_fini);
TestSuite(corrupt, .fini = lsm_fini);
TestSuite(stats, .fini = lsm_fini);
TestSuite(compress, .fini = lsm_fini);

static void version_unref_owned(void *v)
{
    lsm_version_unref(v);
}

#define SMALL "write_buffer=16K,block_size=512,target_file=16K,level1_bytes=64K"

static size_t key_of(char *k, unsigned id)
{
    return (size_t)snprintf(k, 32, "key%08u", id);
}

static size_t val_of(char *v, unsigned id, unsigned ver)
{
    return (size_t)snprintf(v, 64, "value-%u-%u-padding-padding", id, ver);
}

static double extra(kv_db *db, const char *name)
{
    kv_stats st;
    cr_assert_eq(kv_db_stats(db, &st), KV_OK);
    for (unsigned i = 0; i < st.n_extra; i++)
        if (strcmp(st.extra[i].name, name) == 0)
            return st.extra[i].value;
    cr_assert_fail("no statistic %s", name);
    return 0;
}

/* Wait until the background thread has nothing left to do. */
static void quiesce(kv_db *kdb)
{
    lsm_db *db = (lsm_db *)kdb;
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&db->mu);
        bool idle = !db->imm && !lsm_needs_compaction(db, db->current);
        pthread_mutex_unlock(&db->mu);
        if (idle)
            return;
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
    cr_assert_fail("background work never finished");
}

/* The invariants of a version: L1+ sorted by key and disjoint, each file's
 * smallest <= largest. */
static void check_levels(kv_db *kdb)
{
    lsm_db *db = (lsm_db *)kdb;
    pthread_mutex_lock(&db->mu);
    lsm_version *v = db->current;
    lsm_version_ref(v);
    kvt_own(v, version_unref_owned);
    pthread_mutex_unlock(&db->mu);
    for (int l = 0; l < LSM_LEVELS; l++) {
        for (size_t i = 0; i < v->n[l]; i++) {
            const lsm_file *f = v->files[l][i];
            cr_assert_leq(lsm_ikey_cmp(f->smallest.p, f->smallest.n, f->largest.p, f->largest.n), 0,
                          "L%d file %llu: smallest > largest", l, (unsigned long long)f->number);
            if (l == 0 || i == 0)
                continue;
            const lsm_file *p = v->files[l][i - 1];
            cr_assert_lt(lsm_ukey_cmp(p->largest.p, p->largest.n - LSM_TRAILER, f->smallest.p,
                                      f->smallest.n - LSM_TRAILER), 0,
                         "L%d: files %llu and %llu overlap or are out of order", l,
                         (unsigned long long)p->number, (unsigned long long)f->number);
        }
    }
    kvt_drop(v); /* lsm_version_unref() */
}

static uint64_t level_files(kv_db *kdb, int from)
{
    lsm_db *db = (lsm_db *)kdb;
    uint64_t n = 0;
    pthread_mutex_lock(&db->mu);
    for (int l = from; l < LSM_LEVELS; l++)
        n += db->current->n[l];
    pthread_mutex_unlock(&db->mu);
    return n;
}

/* ---- levels ------------------------------------------------------------------ */

static void random_workload(kv_db *db, unsigned nkeys, unsigned ops, unsigned *ver)
{
    char k[32], v[64];
    srand(7);
    for (unsigned i = 0; i < ops; i++) {
        unsigned id = (unsigned)rand() % nkeys;
        if (rand() % 5 == 0 && ver[id]) {
            cr_assert_eq(kv_delete(db, k, key_of(k, id)), KV_OK);
            ver[id] = 0;
        } else {
            ver[id] = i + 1;
            cr_assert_eq(kv_put(db, k, key_of(k, id), v, val_of(v, id, ver[id])), KV_OK);
        }
    }
}

static void check_all(kv_db *db, unsigned nkeys, const unsigned *ver)
{
    char k[32], v[64];
    static kv_buf b; /* owned: static, as a failed assertion leaves this frame */
    kvt_own(&b, kvt_buf_free_owned);
    for (unsigned id = 0; id < nkeys; id++) {
        int rc = kv_get(db, k, key_of(k, id), &b);
        if (!ver[id]) {
            cr_assert_eq(rc, KV_ENOTFOUND, "key %u was deleted: %d", id, rc);
            continue;
        }
        cr_assert_eq(rc, KV_OK, "key %u: %d (%s)", id, rc, kv_last_error());
        size_t n = val_of(v, id, ver[id]);
        cr_assert(b.len == n && memcmp(b.data, v, n) == 0, "key %u: wrong value", id);
    }
    kvt_drop(&b);
}

static void levels_run(const char *opts)
{
    kv_env *env = kv_env_mem_new();
    kv_db *db;
    unsigned nkeys = 3000, *ver = kvt_own(calloc(nkeys, sizeof *ver), free);
    char all[256];
    snprintf(all, sizeof all, "%s%s", SMALL, opts);
    cr_assert_eq(kv_open_env("lsm", "/db", all, env, &db), KV_OK, "%s", kv_last_error());
    random_workload(db, nkeys, 20000, ver);
    quiesce(db);
    check_levels(db);
    check_all(db, nkeys, ver);
    cr_assert_gt(extra(db, "flushes"), 10);
    cr_assert_gt(extra(db, "compactions"), 0);
    cr_assert_eq(kv_close(db), KV_OK);
    cr_assert_eq(kv_open_env("lsm", "/db", all, env, &db), KV_OK);
    check_levels(db);
    check_all(db, nkeys, ver);
    cr_assert_eq(kv_close(db), KV_OK);
    kvt_drop(ver);
    kv_env_free(env);
}

Test(levels, leveled_sorted_disjoint_and_complete, .timeout = 120)
{
    levels_run("");
}

Test(levels, tiered_keeps_the_newest_value, .timeout = 120)
{
    levels_run(",compaction=tiered");
}

/* Delete every key; compaction into the bottom must drop the tombstones
 * (no table holds anything), while a tombstone above live data must stay
 * (the old value must not come back). */
Test(levels, tombstones_dropped_at_the_bottom_only, .timeout = 120)
{
    kv_env *env = kv_env_mem_new();
    kv_db *db;
    char k[32], v[64];
    unsigned n = 2000;
    cr_assert_eq(kv_open_env("lsm", "/db", SMALL, env, &db), KV_OK);
    for (unsigned i = 0; i < n; i++)
        cr_assert_eq(kv_put(db, k, key_of(k, i), v, val_of(v, i, 1)), KV_OK);
    quiesce(db);
    cr_assert_gt(level_files(db, 1), 0, "the data reached L1+");
    for (unsigned i = 0; i < n; i++)
        cr_assert_eq(kv_delete(db, k, key_of(k, i)), KV_OK);
    /* churn on other keys pushes the tombstones down through compactions */
    for (unsigned r = 0; r < 6; r++)
        for (unsigned i = 0; i < n; i++)
            cr_assert_eq(kv_put(db, k, (size_t)snprintf(k, 32, "zzz%06u", i), v,
                                val_of(v, i, r + 2)), KV_OK);
    quiesce(db);
    for (unsigned i = 0; i < n; i++)
        cr_assert_eq(kv_get(db, k, key_of(k, i), NULL), KV_ENOTFOUND, "deleted key %u is back", i);
    kv_iter *it;
    cr_assert_eq(kv_iter_open(db, &it), KV_OK);
    kvt_own(it, kvt_iter_close_owned);
    kv_iter_seek(it, "key", 3);
    if (kv_iter_valid(it)) {
        const void *kk;
        size_t kn;
        kv_iter_key(it, &kk, &kn);
        cr_assert(kn >= 3 && memcmp(kk, "zzz", 3) == 0, "a deleted key is visible to a scan");
    }
    kvt_drop(it); /* kv_iter_close() */
    cr_assert_eq(kv_close(db), KV_OK);
    kv_env_free(env);
}

/* ---- fault ------------------------------------------------------------------- */

Test(fault, background_error_surfaces_as_eio, .timeout = 120)
{
    kv_env *env = kv_env_fault_new(1);
    kv_db *db;
    char k[32], v[64];
    unsigned i, synced = 0;
    int rc = KV_OK;
    cr_assert_eq(kv_open_env("lsm", "/db", SMALL, env, &db), KV_OK);
    for (i = 0; i < 300; i++)
        cr_assert_eq(kv_put(db, k, key_of(k, i), v, val_of(v, i, 1)), KV_OK);
    cr_assert_eq(kv_sync(db), KV_OK);
    synced = i;
    /* every sync fails from now on: the next flush cannot finish its table */
    kv_env_fault_fail(env, KV_FAULT_SYNC, 1, 0, KV_EIO);
    for (; i < 20000 && rc == KV_OK; i++)
        rc = kv_put(db, k, key_of(k, i), v, val_of(v, i, 1));
    cr_assert_eq(rc, KV_EIO, "a failed flush must stop the writers: %d after %u puts", rc, i);
    cr_assert_eq(kv_put(db, "x", 1, "y", 1), KV_EIO, "the error is sticky");
    static kv_buf b; /* owned: static, as a failed assertion leaves this frame */
    kvt_own(&b, kvt_buf_free_owned);
    cr_assert_eq(kv_get(db, k, key_of(k, 0), &b), KV_OK, "reads keep working");
    kv_buf_free(&b);
    kv_close(db);
    kv_env_fault_fail(env, KV_FAULT_SYNC, 0, 0, 0);
    cr_assert_eq(kv_open_env("lsm", "/db", SMALL, env, &db), KV_OK, "reopen: %s", kv_last_error());
    for (unsigned j = 0; j < synced; j++) {
        cr_assert_eq(kv_get(db, k, key_of(k, j), &b), KV_OK, "synced key %u lost", j);
        size_t n = val_of(v, j, 1);
        cr_assert(b.len == n && memcmp(b.data, v, n) == 0);
    }
    kvt_drop(&b);
    cr_assert_eq(kv_close(db), KV_OK);
    kv_env_free(env);
}

/* ---- kill -------------------------------------------------------------------- */

/* The child writes keys 0.. in order, syncing every 100 and reporting the
 * synced count through the pipe; the parent kills it after `ms`. */
static void kill_run(unsigned ms)
{
    char leaf[32], k[32], v[64];
    int fd[2];
    /* in the scratch directory (removed by the suite's .fini), one store a run */
    snprintf(leaf, sizeof leaf, "db-%u", ms);
    kvt_tmpdir("lsm-kill");
    const char *path = kvt_path(1, leaf);
    cr_assert_eq(pipe(fd), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        kv_db *db;
        close(fd[0]);
        if (kv_open("lsm", path, SMALL, &db))
            _exit(2);
        for (unsigned i = 0;; i++) {
            if (kv_put(db, k, key_of(k, i), v, val_of(v, i, 1)))
                _exit(3);
            if (i % 100 == 99) {
                if (kv_sync(db))
                    _exit(4);
                unsigned done = i + 1;
                if (write(fd[1], &done, sizeof done) != sizeof done)
                    _exit(5);
            }
        }
    }
    close(fd[1]);
    nanosleep(&(struct timespec){ms / 1000, (long)(ms % 1000) * 1000000}, NULL);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFSIGNALED(status), "the writer died by itself: status %d", status);
    unsigned synced = 0, x;
    while (read(fd[0], &x, sizeof x) == sizeof x)
        synced = x;
    close(fd[0]);
    kv_db *db;
    cr_assert_eq(kv_open("lsm", path, SMALL, &db), KV_OK, "reopen after kill -9: %s",
                 kv_last_error());
    check_levels(db);
    static kv_buf b; /* owned: static */
    kvt_own(&b, kvt_buf_free_owned);
    for (unsigned j = 0; j < synced; j++) {
        cr_assert_eq(kv_get(db, k, key_of(k, j), &b), KV_OK, "synced key %u of %u lost", j, synced);
        size_t n = val_of(v, j, 1);
        cr_assert(b.len == n && memcmp(b.data, v, n) == 0, "key %u: wrong value", j);
    }
    kvt_drop(&b);
    cr_assert_eq(kv_close(db), KV_OK);
    kvt_rmrf(path);
}

Test(kill, during_writes_flushes_and_compactions, .timeout = 120)
{
    /* early (first flushes), middle and later (compactions running) */
    kill_run(150);
    kill_run(600);
    kill_run(1500);
}

/* ---- corrupt ------------------------------------------------------------------ */

/* the count of the names list a test owns (corrupt/) */
static size_t names_n;

static void names_free_owned(void *names)
{
    kv_env_list_free(names, names_n);
}

Test(corrupt, damaged_table_is_ecorrupt_never_wrong, .timeout = 120)
{
    kv_env *env = kv_env_mem_new();
    kv_db *db;
    char k[32], v[64], **names;
    size_t nn;
    unsigned n = 2000;
    cr_assert_eq(kv_open_env("lsm", "/db", SMALL, env, &db), KV_OK);
    for (unsigned i = 0; i < n; i++)
        cr_assert_eq(kv_put(db, k, key_of(k, i), v, val_of(v, i, 1)), KV_OK);
    quiesce(db);
    cr_assert_eq(kv_close(db), KV_OK);
    /* flip a byte in the middle of every table */
    cr_assert_eq(kv_env_list(env, "/db", &names, &nn), KV_OK);
    names_n = nn;
    kvt_own(names, names_free_owned);
    unsigned tables = 0;
    for (size_t i = 0; i < nn; i++) {
        if (!strstr(names[i], ".sst"))
            continue;
        char p[64];
        kv_file *f;
        uint64_t size;
        uint8_t b;
        size_t got;
        snprintf(p, sizeof p, "/db/%s", names[i]);
        cr_assert_eq(kv_env_open(env, p, KV_O_RDWR, &f), KV_OK);
        kvt_own(f, kvt_file_close_owned);
        cr_assert_eq(kv_file_size(f, &size), KV_OK);
        cr_assert_eq(kv_file_pread(f, &b, 1, size / 3, &got), KV_OK);
        b ^= 0x10;
        cr_assert_eq(kv_file_pwrite(f, &b, 1, size / 3), KV_OK);
        kvt_drop(f); /* kv_file_close() */
        tables++;
    }
    kvt_drop(names); /* kv_env_list_free() */
    cr_assert_gt(tables, 0);
    int rc = kv_open_env("lsm", "/db", SMALL, env, &db);
    if (rc) {
        cr_assert_eq(rc, KV_ECORRUPT);
    } else {
        static kv_buf b; /* owned: static */
        kvt_own(&b, kvt_buf_free_owned);
        unsigned bad = 0;
        for (unsigned i = 0; i < n; i++) {
            rc = kv_get(db, k, key_of(k, i), &b);
            if (rc == KV_ECORRUPT) {
                bad++;
                continue;
            }
            cr_assert_eq(rc, KV_OK, "key %u: %d", i, rc);
            size_t vn = val_of(v, i, 1);
            cr_assert(b.len == vn && memcmp(b.data, v, vn) == 0, "key %u: wrong value", i);
        }
        cr_assert_gt(bad, 0, "no read noticed the damage");
        kvt_drop(&b);
        kv_close(db);
    }
    kv_env_free(env);
}

/* ---- stats ------------------------------------------------------------------- */

/* exact_stats=false: puts write blind (keys/bytes 0, as the peers), a delete
 * of an absent key is still KV_ENOTFOUND; a later open with exact_stats
 * counts the store again (by a scan once tables hold blind writes, by replay
 * while they are in the log); reads go through the block cache. */
Test(stats, blind_puts_then_exact_reopen_and_cache_counters, .timeout = 120)
{
    kv_env *env = kv_env_mem_new();
    kv_db *db;
    kv_stats st;
    char k[32], v[64];
    unsigned n = 3000;
    cr_assert_eq(kv_open_env("lsm", "/db", SMALL ",exact_stats=false", env, &db), KV_OK);
    for (unsigned r = 0; r < 2; r++)
        for (unsigned i = 0; i < n; i++)
            cr_assert_eq(kv_put(db, k, key_of(k, i), v, val_of(v, i, r)), KV_OK);
    cr_assert_eq(kv_delete(db, k, key_of(k, 0)), KV_OK);
    cr_assert_eq(kv_delete(db, k, key_of(k, 0)), KV_ENOTFOUND, "blind mode still answers deletes");
    cr_assert_eq(kv_db_stats(db, &st), KV_OK);
    cr_assert_eq(st.keys, 0, "counts not kept are 0");
    cr_assert_eq(st.bytes, 0);
    quiesce(db);
    cr_assert_gt(level_files(db, 1), 0, "the blind writes reached tables");
    cr_assert_eq(kv_close(db), KV_OK);
    cr_assert_eq(kv_open_env("lsm", "/db", SMALL, env, &db), KV_OK);
    cr_assert_eq(kv_db_stats(db, &st), KV_OK);
    uint64_t bytes = 0;
    for (unsigned i = 1; i < n; i++)
        bytes += key_of(k, i) + val_of(v, i, 1);
    cr_assert_eq(st.keys, n - 1, "keys after an exact reopen: %llu", (unsigned long long)st.keys);
    cr_assert_eq(st.bytes, bytes);
    /* exact from here on: an overwrite does not count twice */
    cr_assert_eq(kv_put(db, k, key_of(k, 5), v, val_of(v, 5, 1)), KV_OK);
    cr_assert_eq(kv_db_stats(db, &st), KV_OK);
    cr_assert_eq(st.keys, n - 1);
    double hits = extra(db, "cache_hits"), misses = extra(db, "cache_misses");
    static kv_buf b; /* owned: static, as a failed assertion leaves this frame */
    kvt_own(&b, kvt_buf_free_owned);
    for (unsigned r = 0; r < 2; r++)
        for (unsigned i = 1; i < n; i += 7)
            cr_assert_eq(kv_get(db, k, key_of(k, i), &b), KV_OK);
    kvt_drop(&b);
    /* (the recount's scan may have cached every block already) */
    cr_assert_geq(extra(db, "cache_hits") + extra(db, "cache_misses") - hits - misses,
                  2.0 * (n / 7), "gets of keys in tables go through the cache");
    cr_assert_geq(extra(db, "cache_hits") - hits, (double)(n / 7), "the second pass misses");
    cr_assert_gt(extra(db, "cache_bytes"), 0);
    cr_assert_eq(kv_close(db), KV_OK);
    kv_env_free(env);
}

/* ---- compress/ ----------------------------------------------------------- */

/* A compressible 100-byte value that names its key: text, so that lz4 and
 * zstd really shrink the blocks the flushes and compactions write. */
static void text_value(uint8_t *v, unsigned i)
{
    static const char words[] = "the quick brown fox jumps over the lazy dog 0123456789 ";
    for (size_t j = 0; j < 100; j++)
        v[j] = (uint8_t)words[(j * 7 + j / 13) % (sizeof words - 1)];
    snprintf((char *)v, 12, "v%010u", i);
}

Test(compress, options_round_trip)
{
    static const char *const codec[] = {"lz4", "zstd"};
    static kv_buf val; /* owned: static, as a failed assertion leaves this frame */
    kvt_own(&val, kvt_buf_free_owned);
    for (size_t c = 0; c < 2; c++) {
        char dir[4096], opts[160];
        snprintf(dir, sizeof dir, "%s/%s", kvt_tmpdir("lsm-compress"), codec[c]);
        snprintf(opts, sizeof opts,
                 "compression=%s,write_buffer=64K,block_size=1K,target_file=64K,level1_bytes=256K",
                 codec[c]);
        kv_db *db;
        OK(kv_open("lsm", dir, opts, &db));
        for (unsigned i = 0; i < 5000; i++) {
            uint8_t v[100];
            char k[17];
            snprintf(k, sizeof k, "key%013u", i);
            text_value(v, i);
            OK(kv_put(db, k, 16, v, sizeof v));
        }
        OK(kv_close(db));
        OK(kv_open("lsm", dir, opts, &db));
        for (unsigned i = 0; i < 5000; i++) {
            uint8_t v[100];
            char k[17];
            snprintf(k, sizeof k, "key%013u", i);
            text_value(v, i);
            OK(kv_get(db, k, 16, &val));
            cr_assert(val.len == 100 && memcmp(val.data, v, 100) == 0, "%s: key %u", codec[c], i);
        }
        OK(kv_close(db));
    }
    kvt_drop(&val);
}
