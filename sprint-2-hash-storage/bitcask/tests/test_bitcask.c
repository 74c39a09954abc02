/*
 * test_bitcask.c — the Bitcask engine's own cases, beyond the conformance
 * suite: the record codec, the keydir's rule, persistence of overwrites
 * and tombstones, rollover, the sync modes and the write buffer, the lock
 * file (in this process and from another), readers on threads while a
 * writer puts, and KV_ENOMEM changing nothing.
 */
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>

#include "kvlabs/alloc.h"
#define KVT_OWN_STORES /* before limits_check.h includes kvtest.h (see the util header) */
#include "limits_check.h"
#include "test_bitcask_util.h"

TestSuite(bitcask, .timeout = 60, .fini = kvt_release_owned);

/* ---- the record and the keydir ----------------------------------------------- */

Test(bitcask, record_roundtrip_and_every_byte_checked)
{
    unsigned char rec[64], bad[64];
    bc_rec h;
    uint64_t len = bc_rec_size(5, 7);

    cr_assert_eq(len, BC_HDR + 12);
    bc_rec_encode(rec, 123456789, "hello", 5, "world!!", 7);
    OK(bc_rec_decode(rec, &h));
    cr_assert(h.ts == 123456789 && h.ksize == 5 && h.vsize == 7);
    cr_assert(bc_rec_crc_ok(rec, &h));
    cr_assert(memcmp(rec + BC_HDR, "helloworld!!", 12) == 0);
    /* every bit of every byte (crc, timestamp, sizes, key, value) is covered */
    for (uint64_t i = 0; i < len; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            memcpy(bad, rec, (size_t)len);
            bad[i] ^= (unsigned char)(1u << bit);
            bool ok = bc_rec_decode(bad, &h) == KV_OK &&
                      bc_rec_size(h.ksize, h.vsize) == len && bc_rec_crc_ok(bad, &h);
            cr_assert(!ok, "a flip of bit %u of byte %llu goes unnoticed", bit,
                      (unsigned long long)i);
        }
    }
    bc_rec_encode(rec, 7, "k", 1, NULL, BC_TOMBSTONE);
    OK(bc_rec_decode(rec, &h));
    cr_assert(h.vsize == BC_TOMBSTONE && bc_rec_size(h.ksize, h.vsize) == BC_HDR + 1);
    cr_assert(bc_rec_crc_ok(rec, &h));
    bc_put32(rec + 12, 0); /* empty key */
    RC(bc_rec_decode(rec, &h), KV_ECORRUPT);
    bc_put32(rec + 12, BC_MAX_KEY + 1);
    RC(bc_rec_decode(rec, &h), KV_ECORRUPT);
    bc_put32(rec + 12, 1);
    bc_put32(rec + 16, BC_MAX_VALUE + 1);
    RC(bc_rec_decode(rec, &h), KV_ECORRUPT);
}

/* The keydir of keydir_keeps_the_newest: static, so the suite's .fini can
 * free it (kvt_own) when an assertion ends the test early. */
static bc_keydir owned_kd;

static void keydir_free_owned(void *kd)
{
    bc_keydir_free(kd);
}

Test(bitcask, keydir_keeps_the_newest)
{
    bc_keydir *const kdp = &owned_kd;
    bc_loc a = {.file_id = 1, .vsize = 10, .offset = 0, .ts = 100};
    bc_loc b = {.file_id = 2, .vsize = 20, .offset = 40, .ts = 50};
    bc_loc got;
    bool applied;

    OK(bc_keydir_init(kdp));
    kvt_own(kdp, keydir_free_owned);
    RC(bc_keydir_get(kdp, "k", 1, &got), KV_ENOTFOUND);
    OK(bc_keydir_put(kdp, "k", 1, &a, &applied));
    cr_assert(applied);
    OK(bc_keydir_put(kdp, "k", 1, &b, &applied)); /* older: ignored */
    cr_assert(!applied);
    OK(bc_keydir_get(kdp, "k", 1, &got));
    cr_assert(got.file_id == 1 && got.ts == 100 && got.vsize == 10);
    cr_assert(kdp->keys == 1 && kdp->bytes == 11 && kdp->disk == bc_rec_size(1, 10));
    b.ts = 150;
    OK(bc_keydir_put(kdp, "k", 1, &b, &applied)); /* newer: replaces */
    cr_assert(applied);
    OK(bc_keydir_get(kdp, "k", 1, &got));
    cr_assert(got.file_id == 2 && got.offset == 40 && got.ts == 150);
    cr_assert(kdp->keys == 1 && kdp->bytes == 21 && kdp->disk == bc_rec_size(1, 20));
    OK(bc_keydir_del(kdp, "k", 1, 120)); /* an older tombstone: the key stays */
    OK(bc_keydir_get(kdp, "k", 1, &got));
    OK(bc_keydir_del(kdp, "k", 1, 151));
    RC(bc_keydir_get(kdp, "k", 1, &got), KV_ENOTFOUND);
    RC(bc_keydir_del(kdp, "k", 1, 152), KV_ENOTFOUND);
    cr_assert(kdp->keys == 0 && kdp->bytes == 0 && kdp->disk == 0);
    kvt_drop(kdp);
}

/* ---- persistence -------------------------------------------------------------------- */

/* Versions written by apply_ops (0: deleted or never written). */
struct state {
    uint64_t ver[300];
    size_t len[300];
};

static void apply_ops(kv_db *db, struct state *st, uint32_t nkeys, int nops, uint64_t seed)
{
    uint64_t x = seed;

    for (int i = 0; i < nops; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t id = (uint32_t)(x >> 33) % nkeys;
        if ((x >> 20) % 5 == 0) {
            RC(bt_del(db, id), st->ver[id] ? KV_OK : KV_ENOTFOUND);
            st->ver[id] = 0;
        } else {
            st->ver[id] = (uint64_t)i + 1;
            st->len[id] = (x >> 40) % 300;
            OK(bt_put(db, id, st->ver[id], st->len[id]));
        }
    }
}

static void check_state(kv_db *db, const struct state *st, uint32_t nkeys, const char *what)
{
    for (uint32_t id = 0; id < nkeys; id++)
        bt_expect(db, id, st->ver[id], st->len[id], what);
}

Test(bitcask, overwrites_and_tombstones_persist)
{
    kv_env *env = kv_env_fault_new(1);
    struct state st = {0};
    kv_db *db = bt_open(env, NULL);

    apply_ops(db, &st, 200, 3000, 7);
    check_state(db, &st, 200, "before close");
    OK(kv_close(db));
    db = bt_open(env, NULL);
    check_state(db, &st, 200, "after reopen");
    apply_ops(db, &st, 200, 500, 8); /* appends to the same active file */
    OK(kv_close(db));
    db = bt_open(env, NULL);
    check_state(db, &st, 200, "after the second reopen");
    OK(kv_close(db));
    kv_env_free(env);
}

Test(bitcask, synced_survives_a_crash_unsynced_may_not)
{
    kv_env *env = kv_env_fault_new(2);
    struct state st = {0};
    kv_db *db = bt_open(env, NULL);

    apply_ops(db, &st, 100, 1000, 9);
    OK(kv_sync(db));
    kv_env_fault_crash(env, KV_CRASH_DROP);
    kv_close(db);
    kv_env_fault_reboot(env);
    db = bt_open(env, NULL);
    check_state(db, &st, 100, "after a crash");
    OK(kv_close(db));
    kv_env_free(env);
}

Test(bitcask, rollover_keeps_files_under_max_file_size)
{
    kv_env *env = kv_env_fault_new(3);
    struct state st = {0};
    kv_db *db = bt_open(env, "max_file_size=1K");
    char path[64];
    uint64_t size, total;
    bc_info info;

    apply_ops(db, &st, 100, 600, 10);
    OK(bc_info_get(db, &info));
    cr_assert_gt(info.data_files, 20, "only %llu data files", (unsigned long long)info.data_files);
    cr_assert_eq(bt_files(env, "/db", ".data", &total), info.data_files);
    for (uint32_t id = 1; id <= info.active_id; id++) {
        if (kv_env_stat(env, bt_data_path(id, path), &size, NULL) == KV_OK)
            cr_assert_leq(size, 1024, "%s has %llu bytes", path, (unsigned long long)size);
    }
    cr_assert_eq(total, info.disk_bytes);
    /* a record larger than max_file_size gets a file of its own */
    OK(bt_put(db, 5000, 1, 3000));
    OK(bt_put(db, 5001, 1, 10));
    OK(kv_close(db));
    db = bt_open(env, "max_file_size=1K");
    check_state(db, &st, 100, "after reopen");
    bt_expect(db, 5000, 1, 3000, "big record");
    bt_expect(db, 5001, 1, 10, "after the big record");
    OK(kv_close(db));
    kv_env_free(env);
}

/* ---- sync modes and the write buffer ------------------------------------------------ */

static uint64_t syncs(const kv_env *env)
{
    kv_env_counters c;

    kv_env_get_counters(env, &c);
    return c.syncs;
}

Test(bitcask, sync_always_fsyncs_each_write)
{
    kv_env *env = kv_env_fault_new(4);
    kv_db *db = bt_open(env, "sync=always");
    uint64_t s0 = syncs(env);

    for (uint32_t i = 0; i < 50; i++)
        OK(bt_put(db, i, 1, 100));
    OK(bt_del(db, 7));
    cr_assert_geq(syncs(env) - s0, 51);
    kv_env_fault_crash(env, KV_CRASH_DROP); /* no kv_sync: still all there */
    kv_close(db);
    kv_env_fault_reboot(env);
    db = bt_open(env, NULL);
    for (uint32_t i = 0; i < 50; i++)
        bt_expect(db, i, i == 7 ? 0 : 1, 100, "sync=always after a crash");
    OK(kv_close(db));
    kv_env_free(env);
}

Test(bitcask, sync_none_and_batch)
{
    kv_env *env = kv_env_fault_new(5);
    kv_db *db = bt_open(env, NULL);
    uint64_t s0 = syncs(env);

    for (uint32_t i = 0; i < 50; i++)
        OK(bt_put(db, i, 1, 100));
    cr_assert_eq(syncs(env), s0, "sync=none fsynced on its own");
    OK(kv_close(db));
    db = bt_open(env, "sync=batch,sync_ms=1");
    s0 = syncs(env);
    for (uint32_t i = 0; i < 5; i++) {
        nanosleep(&(struct timespec){.tv_nsec = 3000000}, NULL);
        OK(bt_put(db, i, 2, 100));
    }
    cr_assert_geq(syncs(env) - s0, 5, "sync=batch did not fsync after sync_ms");
    OK(kv_close(db));
    kv_env_free(env);
}

Test(bitcask, write_buffer_is_visible_and_flushed_by_sync)
{
    kv_env *env = kv_env_fault_new(6);
    kv_db *db = bt_open(env, "write_buffer=64K");
    kv_env_counters c0, c1;

    kv_env_get_counters(env, &c0);
    for (uint32_t i = 0; i < 100; i++)
        OK(bt_put(db, i, 1, 200));
    OK(bt_del(db, 3));
    kv_env_get_counters(env, &c1);
    cr_assert_eq(c1.writes, c0.writes, "the buffer wrote before it was full");
    for (uint32_t i = 0; i < 100; i++)
        bt_expect(db, i, i == 3 ? 0 : 1, 200, "from the buffer");
    for (uint32_t i = 0; i < 600; i++) /* more than the buffer holds */
        OK(bt_put(db, i % 100, 2 + i / 100, 200));
    kv_env_get_counters(env, &c1);
    cr_assert_gt(c1.writes, c0.writes);
    cr_assert_lt(c1.writes - c0.writes, 10, "%llu writes for 140 KB",
                 (unsigned long long)(c1.writes - c0.writes));
    OK(kv_sync(db));
    kv_env_fault_crash(env, KV_CRASH_DROP);
    kv_close(db);
    kv_env_fault_reboot(env);
    db = bt_open(env, "write_buffer=64K");
    for (uint32_t i = 0; i < 100; i++)
        bt_expect(db, i, 7, 200, "after sync and a crash");
    OK(kv_close(db));
    kv_env_free(env);
}

/* ---- the lock file ------------------------------------------------------------------------ */

Test(bitcask, second_open_is_busy_here_and_in_another_process)
{
    char path[400];
    kv_db *db, *db2 = NULL;
    pid_t pid;
    int status;

    bt_tmpdir("lock", path, sizeof(path));
    OK(kv_open("bitcask", path, NULL, &db));
    RC(kv_open("bitcask", path, NULL, &db2), KV_EBUSY);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        kv_db *other = NULL;
        _exit(kv_open("bitcask", path, NULL, &other) == KV_EBUSY ? 0 : 1);
    }
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "the other process could open the store too");
    OK(kv_close(db));
    OK(kv_open("bitcask", path, NULL, &db)); /* free again */
    OK(kv_close(db));
}

/* ---- readers on threads ------------------------------------------------------------------- */

enum { TKEYS = 64, TVERS = 300 };

struct tstate {
    kv_db *db;
    _Atomic int done;
    _Atomic long bad, reads;
};

static void *reader(void *arg)
{
    struct tstate *t = arg;
    unsigned char want[128];
    kv_buf v = {0};
    char k[32];

    for (uint32_t n = 0; !t->done; n++) {
        uint32_t id = n * 7 % TKEYS;
        int rc = kv_get(t->db, k, bt_key(id, k), &v);
        bool ok = rc == KV_ENOTFOUND;
        for (uint64_t ver = 1; rc == KV_OK && ver <= TVERS && !ok; ver++) /* some version */
            ok = v.len == 100 && memcmp(v.data, want, bt_val(id, ver, want, 100)) == 0;
        if (!ok)
            t->bad++;
        t->reads++;
    }
    kv_buf_free(&v);
    return NULL;
}

static void readers_while_writing(const char *opts, bool merge)
{
    kv_env *env = kv_env_mem_new();
    struct tstate t = {0};
    pthread_t th[3];
    kv_db *db;

    cr_assert_not_null(env);
    OK(kv_open_env("bitcask", "/db", opts, env, &db));
    t.db = db;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, reader, &t), 0);
    /* No assertion until the readers are joined: a failing test leaves at
     * once, and the readers would go on using `t` on its stack. */
    int rc = KV_OK;
    const char *what = "";
    for (uint64_t ver = 1; ver <= TVERS && rc == KV_OK; ver++) {
        for (uint32_t id = 0; id < TKEYS && rc == KV_OK; id += 1 + (uint32_t)(ver % 3))
            rc = bt_put(db, id, ver, 100), what = "put";
        if (rc == KV_OK && merge && ver % 50 == 0)
            rc = bc_merge(db), what = "bc_merge";
    }
    t.done = 1;
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(rc, KV_OK, "%s: %d (%s): %s", what, rc, kv_strerror(rc), kv_last_error());
    cr_log_info("%s: %ld reads while writing", opts, (long)t.reads);
    cr_assert_eq(t.bad, 0, "%ld reads returned an error or a value never written", (long)t.bad);
    OK(kv_close(db));
    kv_env_free(env);
}

Test(bitcask, readers_while_one_thread_writes)
{
    readers_while_writing("max_file_size=4K", false);
}

Test(bitcask, readers_while_writing_with_buffer_and_merges)
{
    readers_while_writing("max_file_size=4K,write_buffer=2K", true);
}

/* ---- out of memory -------------------------------------------------------------------------- */

struct enomem_arg {
    kv_env *env;
    kv_db *db;
    uint64_t ver;  /* key 1's version */
    uint32_t keys; /* new keys put so far (ids 100, 101, ...) */
};

/*
 * One put (an overwrite of key 1), then new keys until one needs memory:
 * a keydir entry is a cell of the hash table's arena, so most puts
 * allocate nothing and only every few dozenth takes a new slab. KV_ENOMEM
 * changes nothing: key 1 keeps its version, the key that failed is absent.
 */
static int enomem_body(void *arg, uint64_t n)
{
    struct enomem_arg *a = arg;
    int rc = bt_put(a->db, 1, a->ver + 1, 50);
    uint32_t added = 0;

    (void)n;
    if (rc == KV_OK) {
        a->ver++;
        while (added < 64 && (rc = bt_put(a->db, 100 + a->keys + added, 1, 50)) == KV_OK)
            added++;
    }
    if (!kv_alloc_fail_hit())
        kv_alloc_fail_at(0, false); /* not reached: the checks below must not fail */
    if (rc != KV_ENOMEM)
        cr_assert_eq(rc, KV_OK);
    bt_expect(a->db, 1, a->ver, 50, rc == KV_ENOMEM ? "after a put that ran out of memory"
                                                    : "after a put");
    for (uint32_t j = 0; j < added; j++)
        bt_expect(a->db, 100 + a->keys + j, 1, 50, "a new key");
    bt_expect(a->db, 100 + a->keys + added, 0, 0, "the new key whose put ran out of memory");
    a->keys += added;
    return 0;
}

Test(bitcask, enomem_changes_nothing)
{
    struct enomem_arg a = {.env = kv_env_fault_new(11), .ver = 1};
    uint64_t runs = 0;

    a.db = bt_open(a.env, "write_buffer=1K");
    OK(bt_put(a.db, 1, 1, 50));
    cr_assert_eq(kv_alloc_fail_loop(enomem_body, &a, 0, &runs), 0);
    cr_assert_gt(runs, 1);
    OK(kv_close(a.db));
    a.db = bt_open(a.env, NULL);
    bt_expect(a.db, 1, a.ver, 50, "after reopen");
    OK(kv_close(a.db));
    kv_env_free(a.env);
}

static int open_body(void *arg, uint64_t n)
{
    kv_env *env = arg;
    kv_db *db = NULL;
    int rc = kv_open_env("bitcask", "/db", "max_file_size=1K", env, &db);

    (void)n;
    if (!kv_alloc_fail_hit())
        kv_alloc_fail_at(0, false); /* not reached: the checks below must not fail */
    if (rc == KV_ENOMEM)
        return 0;
    cr_assert_eq(rc, KV_OK, "open: %d (%s): %s", rc, kv_strerror(rc), kv_last_error());
    for (uint32_t i = 0; i < 40; i++)
        bt_expect(db, i, 1, 100, "after an open that ran out of memory before");
    OK(kv_close(db));
    return 0;
}

Test(bitcask, open_enomem_loop)
{
    kv_env *env = kv_env_fault_new(12);
    kv_db *db = bt_open(env, "max_file_size=1K");
    uint64_t runs = 0;

    for (uint32_t i = 0; i < 40; i++)
        OK(bt_put(db, i, 1, 100));
    OK(bc_merge(db)); /* hint files too */
    for (uint32_t i = 30; i < 40; i++)
        OK(bt_put(db, i, 1, 100));
    OK(kv_close(db));
    cr_assert_eq(kv_alloc_fail_loop(open_body, env, 0, &runs), 0);
    cr_assert_gt(runs, 5);
    kv_env_free(env);
}

Test(bitcask, stats_count_live_and_dead)
{
    kv_env *env = kv_env_fault_new(13);
    kv_db *db = bt_open(env, NULL);
    kv_stats s;
    bc_info info;

    for (uint32_t i = 0; i < 10; i++)
        OK(bt_put(db, i, 1, 100));
    OK(bt_put(db, 0, 2, 100));
    OK(bt_del(db, 1));
    OK(kv_db_stats(db, &s));
    cr_assert_eq(s.keys, 9);
    cr_assert_eq(s.bytes, 9 * (11 + 100));
    cr_assert_eq(s.disk_bytes, 11 * bc_rec_size(11, 100) + bc_rec_size(11, BC_TOMBSTONE));
    OK(bc_info_get(db, &info));
    cr_assert_eq(info.live_bytes, 9 * bc_rec_size(11, 100));
    RC(bc_info_get(NULL, &info), KV_EINVAL);
    RC(bc_merge(NULL), KV_EINVAL);
    OK(kv_close(db));
    kv_env_free(env);
}

/*
 * Every limit at max - 1, max and max + 1 (tests/limits_check.h): through
 * the engine, after a reopen (recovery decodes the longest key) and after
 * a merge (its hint file holds it); the options' bounds; the codec.
 */
Test(bitcask, limits_at_max_minus_one_max_and_max_plus_one)
{
    kv_env *env = kv_env_fault_new(61);
    kv_db *db = bt_open(env, "max_key=65535,max_value=100");
    unsigned char rec[BC_HDR + 1];
    bc_rec h;

    lc_limits(db, BC_MAX_KEY, 100, false, "max_key=65535 (the format's limit)");
    OK(kv_close(db));
    db = bt_open(env, "max_key=65535,max_value=100");
    lc_limits(db, BC_MAX_KEY, 100, true, "after a reopen");
    OK(bc_merge(db));
    lc_limits(db, BC_MAX_KEY, 100, true, "after a merge");
    OK(kv_close(db));
    db = bt_open(env, "max_key=65535,max_value=100");
    lc_limits(db, BC_MAX_KEY, 100, true, "after a merge and a reopen");
    OK(kv_close(db));
    kv_env_free(env);

    env = kv_env_fault_new(62);
    db = bt_open(env, "max_value=1");
    lc_limits(db, 1024, 1, false, "the default max_key");
    OK(kv_close(db));
    db = NULL;
    RC(kv_open_env("bitcask", "/k1", "max_key=65536", env, &db), KV_EINVAL);
    RC(kv_open_env("bitcask", "/v1", "max_value=1073741825", env, &db), KV_EINVAL);
    cr_assert_null(db);
    OK(kv_open_env("bitcask", "/v0", "max_value=1G", env, &db));
    OK(kv_close(db));
    kv_env_free(env);

    /* the codec: the largest sizes a record may declare, and one more */
    bc_rec_encode(rec, 7, "k", 1, NULL, 0);
    for (uint32_t d = 0; d < 3; d++) {
        bc_put32(rec + 12, BC_MAX_KEY - 1 + d);
        bc_put32(rec + 16, 0);
        RC(bc_rec_decode(rec, &h), d < 2 ? KV_OK : KV_ECORRUPT);
        cr_assert(d == 2 || h.ksize == BC_MAX_KEY - 1 + d);
        bc_put32(rec + 12, 1);
        bc_put32(rec + 16, BC_MAX_VALUE - 1 + d);
        RC(bc_rec_decode(rec, &h), d < 2 ? KV_OK : KV_ECORRUPT);
        cr_assert(d == 2 || h.vsize == BC_MAX_VALUE - 1 + d);
    }
}
