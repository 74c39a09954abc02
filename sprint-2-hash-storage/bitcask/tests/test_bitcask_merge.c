/*
 * test_bitcask_merge.c — merge and hint files.
 *
 *   reclaims_space           overwrites and deletes, then a merge: the data
 *                            files shrink to the live data, nothing is lost,
 *                            no deleted key comes back (also after reopen)
 *   hint_files_are_used      open after a merge reads the hint files, not the
 *                            data (bytes read through the env counters); the
 *                            timing ratio is printed; a damaged hint file is
 *                            ignored and the data file scanned instead
 *   crash_at_every_step      a fault-env crash before each mutating call of a
 *                            merge (drop and torn): the store reopens with
 *                            every key exact
 *   io_errors                each kind of call failing during a merge: an
 *                            error, and the store still exact, also reopened
 *   enomem                   every allocation of a merge failing in turn
 *   auto_merge               the option merges by itself and bounds the files
 */
#include <time.h>

#include "kvlabs/alloc.h"
#include "test_bitcask_util.h"

TestSuite(bitcask_merge, .timeout = 120, .fini = kvt_release_owned);

enum { MKEYS = 200, MLEN = 200 };

/* 20 versions of every key, then every third key deleted: the expected version. */
static uint64_t want(uint32_t id)
{
    return id % 3 == 0 ? 0 : 20;
}

static void churn(kv_db *db)
{
    for (uint64_t ver = 1; ver <= 20; ver++)
        for (uint32_t id = 0; id < MKEYS; id++)
            OK(bt_put(db, id, ver, MLEN));
    for (uint32_t id = 0; id < MKEYS; id += 3)
        OK(bt_del(db, id));
}

static void check_all(kv_db *db, const char *what)
{
    for (uint32_t id = 0; id < MKEYS; id++)
        bt_expect(db, id, want(id), MLEN, what);
}

Test(bitcask_merge, reclaims_space)
{
    kv_env *env = kv_env_fault_new(41);
    kv_db *db = bt_open(env, "max_file_size=64K");
    uint64_t before, after, live = 0;
    bc_info info;

    churn(db);
    OK(kv_sync(db));
    bt_files(env, "/db", ".data", &before);
    for (uint32_t id = 0; id < MKEYS; id++)
        live += want(id) ? bc_rec_size(11, MLEN) : 0;
    OK(bc_merge(db));
    OK(kv_sync(db));
    bt_files(env, "/db", ".data", &after);
    cr_log_info("merge: data files %llu -> %llu bytes (live data %llu)",
                (unsigned long long)before, (unsigned long long)after, (unsigned long long)live);
    fprintf(stderr, "bitcask merge: data files %llu -> %llu bytes (live records %llu)\n",
            (unsigned long long)before, (unsigned long long)after, (unsigned long long)live);
    cr_assert_eq(after, live, "after the merge the data files hold %llu bytes, live %llu",
                 (unsigned long long)after, (unsigned long long)live);
    cr_assert_lt(after * 10, before);
    OK(bc_info_get(db, &info));
    cr_assert_eq(info.disk_bytes, info.live_bytes);
    cr_assert_eq(bt_files(env, "/db", ".hint", NULL) + 1, bt_files(env, "/db", ".data", NULL));
    cr_assert_eq(bt_files(env, "/db", "MERGE", NULL), 0);
    check_all(db, "after the merge");
    OK(bt_put(db, 0, 21, MLEN)); /* a deleted key written again */
    OK(kv_close(db));
    db = bt_open(env, "max_file_size=64K");
    for (uint32_t id = 1; id < MKEYS; id++)
        bt_expect(db, id, want(id), MLEN, "reopened after the merge");
    bt_expect(db, 0, 21, MLEN, "rewritten after the merge");
    OK(bc_merge(db)); /* a second merge of merged files */
    OK(kv_close(db));
    db = bt_open(env, NULL);
    for (uint32_t id = 1; id < MKEYS; id++)
        bt_expect(db, id, want(id), MLEN, "after a second merge");
    OK(kv_close(db));
    kv_env_free(env);
}

/* Bytes read by an open of /db, and its time in ms. */
static uint64_t open_reads(kv_env *env, double *ms, bc_info *info)
{
    kv_env_counters c0, c1;
    struct timespec t0, t1;
    kv_db *db;

    kv_env_get_counters(env, &c0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    db = bt_open(env, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    kv_env_get_counters(env, &c1);
    *ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    OK(bc_info_get(db, info));
    bt_expect(db, 1, 1, 4000, "after open");
    OK(kv_close(db));
    return c1.bytes_read - c0.bytes_read;
}

Test(bitcask_merge, hint_files_are_used)
{
    kv_env *env = kv_env_mem_new();
    kv_db *db;
    uint64_t data, hints, with, without;
    double ms_with, ms_without;
    bc_info info;
    char **names;
    size_t n;

    OK(kv_open_env("bitcask", "/db", "max_file_size=1M", env, &db));
    for (uint32_t id = 0; id < 3000; id++)
        OK(bt_put(db, id, 1, 4000));
    OK(bc_merge(db));
    OK(kv_close(db));
    bt_files(env, "/db", ".data", &data);
    cr_assert_gt(bt_files(env, "/db", ".hint", &hints), 5);
    with = open_reads(env, &ms_with, &info);
    cr_assert_eq(info.scanned_files, 1, "only the empty active file is scanned");
    cr_assert_eq(info.hint_files, bt_files(env, "/db", ".hint", NULL));
    cr_assert_leq(with, hints + 64, "open read %llu bytes with %llu bytes of hint files",
                  (unsigned long long)with, (unsigned long long)hints);
    /* without the hint files, open reads every data file */
    OK(kv_env_list(env, "/db", &names, &n));
    for (size_t i = 0; i < n; i++) {
        char p[128];
        snprintf(p, sizeof(p), "/db/%s", names[i]);
        if (strstr(names[i], ".hint"))
            OK(kv_env_unlink(env, p));
    }
    kv_env_list_free(names, n);
    without = open_reads(env, &ms_without, &info);
    cr_assert_eq(info.hint_files, 0);
    cr_assert_geq(without, data);
    fprintf(stderr,
            "bitcask start-up, 3000 keys of 4000-byte values: with hint files %.2f ms "
            "(%llu bytes read), without %.2f ms (%llu bytes read): %.1fx\n",
            ms_with, (unsigned long long)with, ms_without, (unsigned long long)without,
            ms_with > 0 ? ms_without / ms_with : 0.0);
    kv_env_free(env);
}

Test(bitcask_merge, damaged_hint_file_is_ignored)
{
    kv_env *env = kv_env_fault_new(42);
    kv_db *db = bt_open(env, "max_file_size=16K");
    bc_info info;
    char path[64];

    churn(db);
    OK(bc_merge(db));
    OK(kv_close(db));
    sprintf(path, "/db/%010u.hint", 1u); /* the first hint file has some id; find it */
    {
        char **names;
        size_t n;
        OK(kv_env_list(env, "/db", &names, &n));
        for (size_t i = 0; i < n; i++)
            if (strstr(names[i], ".hint")) {
                snprintf(path, sizeof(path), "/db/%s", names[i]);
                break;
            }
        kv_env_list_free(names, n);
    }
    OK(kv_env_fault_flip(env, path, 40, 2));
    db = bt_open(env, "max_file_size=16K");
    OK(bc_info_get(db, &info));
    cr_assert_eq(info.scanned_files, 2, "the damaged hint file's data file and the active one");
    check_all(db, "with a damaged hint file");
    OK(kv_close(db));
    kv_env_free(env);
}

/* A store with overwrites and deletes, all synced, on a fresh fault env. */
static kv_env *merge_env(uint64_t seed, kv_db **dbp)
{
    kv_env *env = kv_env_fault_new(seed);
    kv_db *db = bt_open(env, "max_file_size=8K");

    for (uint64_t ver = 1; ver <= 3; ver++)
        for (uint32_t id = 0; id < 60; id++)
            OK(bt_put(db, id, ver, 100));
    for (uint32_t id = 0; id < 60; id += 4)
        OK(bt_del(db, id));
    OK(kv_sync(db));
    *dbp = db;
    return env;
}

static void check_merged(kv_db *db, const char *what)
{
    for (uint32_t id = 0; id < 60; id++)
        bt_expect(db, id, id % 4 == 0 ? 0 : 3, 100, what);
}

Test(bitcask_merge, crash_at_every_step)
{
    kv_db *db;
    kv_env *env = merge_env(43, &db);
    uint64_t m0 = kv_env_fault_mutations(env), steps;
    size_t rounds = 0;
    char what[96];

    OK(bc_merge(db));
    steps = kv_env_fault_mutations(env) - m0;
    OK(kv_close(db));
    kv_env_free(env);
    for (int mode = 0; mode < 2; mode++) {
        for (uint64_t k = 1; k <= steps + 1; k++) {
            env = merge_env(43, &db);
            kv_env_fault_crash_after(env, k, mode ? KV_CRASH_TORN : KV_CRASH_DROP);
            int rc = bc_merge(db);
            cr_assert(rc == KV_OK || kv_env_fault_crashed(env), "merge failed before the crash");
            if (!kv_env_fault_crashed(env))
                kv_env_fault_crash(env, mode ? KV_CRASH_TORN : KV_CRASH_DROP);
            kv_close(db);
            kv_env_fault_reboot(env);
            snprintf(what, sizeof(what), "%s crash at mutation %llu of %llu of a merge",
                     mode ? "torn" : "drop", (unsigned long long)k, (unsigned long long)steps);
            db = bt_open(env, "max_file_size=8K");
            check_merged(db, what);
            OK(bt_put(db, 0, 9, 100));
            OK(bc_merge(db)); /* a later merge works too */
            OK(kv_close(db));
            db = bt_open(env, NULL);
            bt_expect(db, 0, 9, 100, what);
            for (uint32_t id = 1; id < 60; id++)
                bt_expect(db, id, id % 4 == 0 ? 0 : 3, 100, what);
            OK(kv_close(db));
            kv_env_free(env);
            rounds++;
        }
    }
    fprintf(stderr, "bitcask merge: crashed at each of %llu mutations (drop and torn): %zu rounds\n",
            (unsigned long long)steps, rounds);
}

Test(bitcask_merge, io_errors)
{
    static const kv_fault_kind kinds[] = {KV_FAULT_OPEN, KV_FAULT_WRITE, KV_FAULT_SYNC,
                                          KV_FAULT_RENAME, KV_FAULT_UNLINK, KV_FAULT_READ};
    size_t failures = 0;

    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        for (uint64_t nth = 1; nth <= 12; nth++) {
            kv_db *db;
            kv_env *env = merge_env(44, &db);
            kv_env_fault_fail(env, kinds[k], nth, 1, KV_EIO);
            int rc = bc_merge(db);
            kv_env_fault_fail(env, kinds[k], 0, 0, 0);
            if (rc != KV_OK) {
                cr_assert_eq(rc, KV_EIO, "merge: %d (%s)", rc, kv_strerror(rc));
                failures++;
            }
            check_merged(db, "after a failed merge");
            OK(bt_put(db, 1, 3, 100)); /* still writable */
            OK(kv_close(db));
            db = bt_open(env, NULL);
            check_merged(db, "reopened after a failed merge");
            OK(bc_merge(db));
            check_merged(db, "after a good merge");
            OK(kv_close(db));
            kv_env_free(env);
        }
    }
    cr_assert_gt(failures, 20);
}

struct enomem_arg {
    kv_env *env;
    kv_db *db;
};

static int merge_body(void *arg, uint64_t n)
{
    struct enomem_arg *a = arg;
    int rc = bc_merge(a->db);

    (void)n;
    if (!kv_alloc_fail_hit())
        kv_alloc_fail_at(0, false);
    cr_assert(rc == KV_OK || rc == KV_ENOMEM, "merge: %d (%s)", rc, kv_strerror(rc));
    check_merged(a->db, "after a merge out of memory");
    OK(bt_put(a->db, 1, 3, 100));
    return 0;
}

Test(bitcask_merge, enomem)
{
    struct enomem_arg a;
    uint64_t runs = 0;

    a.env = merge_env(45, &a.db);
    cr_assert_eq(kv_alloc_fail_loop(merge_body, &a, 0, &runs), 0);
    cr_assert_gt(runs, 5);
    OK(kv_close(a.db));
    a.db = bt_open(a.env, NULL);
    check_merged(a.db, "reopened after merges out of memory");
    OK(kv_close(a.db));
    kv_env_free(a.env);
}

Test(bitcask_merge, auto_merge)
{
    kv_env *env = kv_env_fault_new(46);
    kv_db *db = bt_open(env, "max_file_size=4K,auto_merge=0.5,auto_merge_min=16K");
    bc_info info;
    uint64_t bytes;

    churn(db);
    OK(bc_info_get(db, &info));
    cr_assert_gt(info.merges, 5);
    bt_files(env, "/db", ".data", &bytes);
    cr_assert_lt(bytes, 3 * MKEYS * bc_rec_size(11, MLEN),
                 "%llu bytes of data files for %u live keys", (unsigned long long)bytes,
                 MKEYS);
    check_all(db, "with automatic merges");
    OK(kv_close(db));
    db = bt_open(env, NULL);
    check_all(db, "reopened");
    OK(kv_close(db));
    kv_env_free(env);
}
