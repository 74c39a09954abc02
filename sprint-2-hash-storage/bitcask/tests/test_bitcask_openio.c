/*
 * test_bitcask_openio.c — read errors while a store is being opened.
 *
 * Opening a Bitcask store reads every data file (or its hint file), the
 * merge record and the clean-close record, and *decides* things from what
 * it reads: where a torn tail starts, whether a bad record is corruption.
 * A read that fails is not a bad record. If open took it for one, it
 * would cut the log there and silently drop every acknowledged write
 * behind it. So the rule these cases check: with any one read of open
 * failing (KV_FAULT_READ on the fault env, the nth read and only it), or
 * every read from the nth on (a disk that died), open either
 *   - fails with KV_EIO (or with the KV_ECORRUPT a fault-free open gives)
 *     and changes no file: a fault-free open afterwards finds every key, or
 *   - succeeds with every key, exactly as a fault-free open would.
 * It never succeeds on a store a fault-free open calls corrupt.
 *
 * The stores: a merged store of several files with hint files; one with
 * a torn tail (junk after the clean-close length, cut at open); one with a
 * damaged record below the clean-close length (KV_ECORRUPT: the read of
 * that record is what tells, so failing it must not make it a torn tail);
 * one with a damaged 300 KiB record followed by valid ones (KV_ECORRUPT
 * found by the tail search, which reads past the scanner's window). The
 * model engine's durable log gets the same treatment.
 */
/* every env and store is the test's (kvtest.h): a failed assertion in the
 * loop below leaks none of them */
#define KVT_OWN_STORES
#include "test_bitcask_util.h"

TestSuite(bitcask_openio, .timeout = 240, .fini = kvt_release_owned);

enum { VLEN = 40, NKEYS = 40, BIG = 300 * 1024 };

typedef kv_env *(*build_fn)(void);
typedef void (*check_fn)(kv_db *db, const char *what);

/* ---- the stores ------------------------------------------------------------------- */

/* Several 1 KiB files, merged (hint files), then written again; closed cleanly. */
static kv_env *merged_store(void)
{
    kv_env *env = kv_env_fault_new(41);
    kv_db *db = bt_open(env, "max_file_size=1K");

    for (uint32_t i = 0; i < 60; i++)
        OK(bt_put(db, i % NKEYS, 1 + i / NKEYS, VLEN));
    OK(bt_del(db, 5));
    OK(bc_merge(db));
    OK(bt_put(db, 7, 3, VLEN));
    OK(bt_del(db, 8));
    OK(kv_close(db));
    return env;
}

static void merged_check(kv_db *db, const char *what)
{
    for (uint32_t id = 0; id < NKEYS; id++) {
        uint64_t ver = id < 20 ? 2 : 1;
        if (id == 5 || id == 8)
            ver = 0;
        if (id == 7)
            ver = 3;
        bt_expect(db, id, ver, VLEN, what);
    }
}

/* The path and size of the newest data file of /db. */
static uint64_t newest_file(kv_env *env, char *path)
{
    kv_db *db = bt_open(env, "max_file_size=1K");
    bc_info info;
    uint64_t size;

    OK(bc_info_get(db, &info));
    OK(kv_close(db));
    OK(kv_env_stat(env, bt_data_path(info.active_id, path), &size, NULL));
    return size;
}

/* The merged store with junk after the clean-close length: a torn tail. */
static kv_env *torn_store(void)
{
    kv_env *env = merged_store();
    char path[64];
    unsigned char junk[37];
    uint64_t size = newest_file(env, path);
    kv_file *f;

    memset(junk, 0xa5, sizeof(junk));
    OK(kv_env_open(env, path, KV_O_RDWR, &f));
    OK(kv_file_pwrite(f, junk, sizeof(junk), size));
    OK(kv_file_sync(f));
    kv_file_close(f);
    return env;
}

/*
 * The merged store with the last record of its newest file damaged: below
 * the length the clean close recorded, so corruption, not a torn tail.
 */
static kv_env *damaged_store(void)
{
    kv_env *env = merged_store();
    char path[64];
    uint64_t size = newest_file(env, path);

    /* the newest file ends with the tombstone of key 8: its key size field */
    OK(kv_env_fault_flip(env, path, size - bc_rec_size(11, BC_TOMBSTONE) + 14, 3));
    return env;
}

/*
 * One data file: 20 small records, a BIG-byte value, 20 more, synced, then
 * a crash (no clean close). A bit of the big value is flipped: the valid
 * records after it make that corruption, and the tail search that finds
 * them must read beyond the window that held the big record.
 */
static kv_env *big_damaged_store(void)
{
    kv_env *env = kv_env_fault_new(42);
    kv_db *db = bt_open(env, NULL);
    unsigned char *v = kvt_own(malloc(BIG), free);
    char path[64];

    cr_assert_not_null(v);
    memset(v, 0x3c, BIG);
    for (uint32_t i = 0; i < 20; i++)
        OK(bt_put(db, i, 1, VLEN));
    OK(kv_put(db, "big", 3, v, BIG));
    for (uint32_t i = 20; i < NKEYS; i++)
        OK(bt_put(db, i, 1, VLEN));
    OK(kv_sync(db));
    kv_env_fault_crash(env, KV_CRASH_DROP);
    kv_close(db);
    kv_env_fault_reboot(env);
    OK(kv_env_fault_flip(env, bt_data_path(1, path), 20 * bc_rec_size(11, VLEN) + BC_HDR + 3 +
                                                            BIG / 2, 5));
    kvt_drop(v);
    return env;
}

/* The model engine's durable log: puts, overwrites and deletes, closed. */
static kv_env *model_store(void)
{
    kv_env *env = kv_env_fault_new(43);
    kv_db *db = NULL;

    OK(kv_open_env("model", "/db", "durable=true", env, &db));
    for (uint32_t i = 0; i < 60; i++)
        OK(bt_put(db, i % NKEYS, 1 + i / NKEYS, VLEN));
    OK(bt_del(db, 5));
    OK(bt_put(db, 7, 3, VLEN));
    OK(bt_del(db, 8));
    OK(kv_close(db));
    return env;
}

/* ---- the rule --------------------------------------------------------------------- */

/*
 * Build the store, count the reads of a fault-free open (which must give
 * @p want), then, for each of those reads, build it again and open it
 * with that read failing (once, or from there on): see the file comment.
 */
static void every_read_fails(const char *engine, const char *opts, build_fn build, int want,
                             check_fn check)
{
    kv_env *env = build();
    kv_env_counters c0, c1;
    kv_db *db = NULL;
    uint64_t reads, eio = 0;
    char what[128];
    int rc;

    kv_env_get_counters(env, &c0);
    rc = kv_open_env(engine, "/db", opts, env, &db);
    kv_env_get_counters(env, &c1);
    cr_assert_eq(rc, want, "fault-free open: %d (%s), want %d: %s", rc, kv_strerror(rc), want,
                 kv_last_error());
    if (rc == KV_OK) {
        check(db, "fault-free open");
        OK(kv_close(db));
    }
    kv_env_free(env);
    reads = c1.reads - c0.reads;
    cr_assert_gt(reads, 0);

    for (uint64_t n = 1; n <= reads; n++) {
        for (int forever = 0; forever < 2; forever++) {
            snprintf(what, sizeof(what), "read %llu of the %llu of open failing%s",
                     (unsigned long long)n, (unsigned long long)reads,
                     forever ? ", and every one after it" : "");
            env = build();
            db = NULL;
            kv_env_fault_fail(env, KV_FAULT_READ, n, forever ? 0 : 1, KV_EIO);
            rc = kv_open_env(engine, "/db", opts, env, &db);
            kv_env_fault_fail(env, KV_FAULT_READ, 0, 0, 0);
            if (rc == KV_OK) {
                cr_assert_eq(want, KV_OK,
                             "%s: open succeeded on a store a fault-free open calls %s "
                             "(was the failed read taken for a torn tail, and the log cut?)",
                             what, kv_strerror(want));
                check(db, what);
                OK(kv_close(db));
            } else {
                cr_assert(rc == KV_EIO || rc == want, "%s: open gave %d (%s), want KV_EIO: %s",
                          what, rc, kv_strerror(rc), kv_last_error());
                eio += rc == KV_EIO;
            }
            /* whatever it did, the files are whole: a fault-free open sees it all */
            db = NULL;
            rc = kv_open_env(engine, "/db", opts, env, &db);
            cr_assert_eq(rc, want,
                         "%s, then a fault-free open: %d (%s), want %d (%s): the open with "
                         "the failing read changed the files: %s",
                         what, rc, kv_strerror(rc), want, kv_strerror(want), kv_last_error());
            if (rc == KV_OK) {
                char again[160];
                snprintf(again, sizeof(again), "%s, then a fault-free open", what);
                check(db, again);
                OK(kv_close(db));
            }
            kv_env_free(env);
        }
    }
    cr_log_info("%s %s: %llu reads at open, %llu of the faulty opens gave KV_EIO", engine,
                opts ? opts : "", (unsigned long long)reads, (unsigned long long)eio);
    cr_assert_gt(eio, 0, "no failing read made open fail: were they ignored?");
}

static void no_check(kv_db *db, const char *what)
{
    (void)db;
    (void)what;
}

static void big_check(kv_db *db, const char *what)
{
    (void)db;
    cr_assert_fail("%s: the store with a damaged record is open", what);
}

Test(bitcask_openio, merged_store_with_hint_files)
{
    kv_env *env = merged_store();
    kv_db *db = bt_open(env, "max_file_size=1K");
    bc_info info;

    OK(bc_info_get(db, &info));
    cr_assert(info.hint_files > 0 && info.scanned_files > 0,
              "the store loads %llu files from hint files and scans %llu: want both",
              (unsigned long long)info.hint_files, (unsigned long long)info.scanned_files);
    OK(kv_close(db));
    kv_env_free(env);
    every_read_fails("bitcask", "max_file_size=1K", merged_store, KV_OK, merged_check);
}

Test(bitcask_openio, torn_tail_is_cut_only_when_read)
{
    every_read_fails("bitcask", "max_file_size=1K", torn_store, KV_OK, merged_check);
}

Test(bitcask_openio, damaged_record_below_clean_length_stays_corruption)
{
    every_read_fails("bitcask", "max_file_size=1K", damaged_store, KV_ECORRUPT, no_check);
}

Test(bitcask_openio, tail_search_read_errors_are_not_a_torn_tail)
{
    every_read_fails("bitcask", NULL, big_damaged_store, KV_ECORRUPT, big_check);
}

Test(bitcask_openio, model_log)
{
    every_read_fails("model", "durable=true", model_store, KV_OK, merged_check);
}
