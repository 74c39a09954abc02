/*
 * test_bitcask_recovery.c — what open does with damaged files, and what
 * failing I/O calls do to a running store.
 *
 *   torn tails   the last record cut at every byte offset, or garbled from
 *                every offset on, after a crash: open cuts it off, keeps
 *                every record before it, and the store keeps working
 *   corruption   a bad record with valid records after it, a bad record in
 *                an older file, or in the part a clean close vouched for:
 *                KV_ECORRUPT; random bit flips (kv_env_fault_flip) in a
 *                rolled-over, merged store: KV_ECORRUPT or right data
 *   I/O errors   injected write and fsync failures surface as KV_EIO; the
 *                failed write changes nothing; nothing acknowledged is lost
 */
#include "test_bitcask_util.h"

TestSuite(bitcask_recovery, .timeout = 120, .fini = kvt_release_owned);

enum { NREC = 12, VLEN = 40 };

/*
 * A store of NREC records in one data file, synced, then a crash (so no
 * clean-close record vouches for its length). Returns the data file's
 * bytes and where the last record starts.
 */
static unsigned char *crashed_store(size_t *size, uint64_t *last)
{
    kv_env *env = kv_env_fault_new(21);
    kv_db *db = bt_open(env, NULL);
    kv_file *f;
    uint64_t sz;
    size_t got;
    unsigned char *p;
    char path[64];

    for (uint32_t i = 0; i < NREC; i++)
        OK(bt_put(db, i, 1, VLEN));
    OK(kv_sync(db));
    kv_env_fault_crash(env, KV_CRASH_DROP);
    kv_close(db);
    kv_env_fault_reboot(env);
    OK(kv_env_open(env, bt_data_path(1, path), KV_O_RDONLY, &f));
    OK(kv_file_size(f, &sz));
    p = malloc((size_t)sz);
    OK(kv_file_pread(f, p, (size_t)sz, 0, &got));
    kv_file_close(f);
    kv_env_free(env);
    *size = (size_t)sz;
    *last = sz - bc_rec_size(11, VLEN);
    cr_assert_eq(sz, NREC * bc_rec_size(11, VLEN));
    return p;
}

/* A fresh env whose /db holds one data file with these bytes. */
static kv_env *env_with(const unsigned char *p, size_t n)
{
    kv_env *env = kv_env_fault_new(22);
    kv_file *f;
    char path[64];

    OK(kv_env_mkdir(env, "/db"));
    OK(kv_env_open(env, bt_data_path(1, path), KV_O_RDWR | KV_O_CREAT, &f));
    OK(kv_file_pwrite(f, p, n, 0));
    OK(kv_file_sync(f));
    kv_file_close(f);
    OK(kv_env_sync_dir(env, "/db"));
    return env;
}

/* Open a store whose last record is damaged: it is cut, the rest is there. */
static void expect_cut(kv_env *env, uint64_t last, const char *what)
{
    kv_db *db = bt_open(env, NULL);
    bc_info info;
    uint64_t size;
    char path[64];

    for (uint32_t i = 0; i + 1 < NREC; i++)
        bt_expect(db, i, 1, VLEN, what);
    bt_expect(db, NREC - 1, 0, VLEN, what);
    OK(bc_info_get(db, &info));
    OK(kv_env_stat(env, bt_data_path(1, path), &size, NULL));
    cr_assert_eq(size, last, "%s: the file was cut to %llu, not %llu", what,
                 (unsigned long long)size, (unsigned long long)last);
    OK(bt_put(db, NREC - 1, 2, VLEN)); /* and it keeps working */
    OK(kv_close(db));
    db = bt_open(env, NULL);
    bt_expect(db, NREC - 1, 2, VLEN, what);
    OK(kv_close(db));
}

Test(bitcask_recovery, torn_tail_cut_at_every_offset)
{
    size_t size;
    uint64_t last;
    unsigned char *p = crashed_store(&size, &last);
    char what[64];

    for (uint64_t cut = last; cut < size; cut++) {
        kv_env *env = env_with(p, (size_t)cut);
        snprintf(what, sizeof(what), "cut at %llu", (unsigned long long)cut);
        expect_cut(env, last, what);
        kv_env_free(env);
    }
    cr_log_info("%llu cuts of the last record", (unsigned long long)(size - last));
    free(p);
}

Test(bitcask_recovery, garbled_tail_at_every_offset)
{
    size_t size;
    uint64_t last;
    unsigned char *p = crashed_store(&size, &last), *q = malloc(size);
    char what[64];

    for (uint64_t off = last; off < size; off++) {
        for (int kind = 0; kind < 3; kind++) {
            memcpy(q, p, size);
            if (kind == 0) /* one byte changed */
                q[off] ^= 0x5a;
            else /* zeros or junk from there to the end */
                for (uint64_t i = off; i < size; i++)
                    q[i] = kind == 1 ? 0 : (unsigned char)(i * 131 + 7);
            kv_env *env = env_with(q, size);
            snprintf(what, sizeof(what), "garbled (%d) from %llu", kind, (unsigned long long)off);
            expect_cut(env, last, what);
            kv_env_free(env);
        }
    }
    free(q);
    free(p);
}

Test(bitcask_recovery, bad_record_before_valid_ones_is_corruption)
{
    size_t size;
    uint64_t last, rec = bc_rec_size(11, VLEN);
    unsigned char *p = crashed_store(&size, &last), *q = malloc(size);
    kv_db *db = NULL;

    for (uint64_t off = 0; off < last; off += 7) { /* every record but the last */
        memcpy(q, p, size);
        q[off] ^= 0x01;
        kv_env *env = env_with(q, size);
        int rc = kv_open_env("bitcask", "/db", NULL, env, &db);
        cr_assert_eq(rc, KV_ECORRUPT, "byte %llu (record %llu) flipped: open gave %d (%s)",
                     (unsigned long long)off, (unsigned long long)(off / rec), rc,
                     kv_strerror(rc));
        kv_env_free(env);
    }
    free(q);
    free(p);
}

/* A store of several files, closed cleanly. */
static kv_env *closed_store(const char *opts, bool merge)
{
    kv_env *env = kv_env_fault_new(23);
    kv_db *db = bt_open(env, opts);

    for (uint32_t i = 0; i < 60; i++)
        OK(bt_put(db, i % 40, 1 + i / 40, VLEN));
    OK(bt_del(db, 5));
    if (merge) {
        OK(bc_merge(db));
        OK(bt_put(db, 7, 3, VLEN));
        OK(bt_del(db, 8));
    }
    OK(kv_close(db));
    return env;
}

static uint64_t expected_ver(uint32_t id, bool merge)
{
    if (id == 5 || (merge && id == 8))
        return 0;
    if (merge && id == 7)
        return 3;
    return id < 20 ? 2 : 1;
}

Test(bitcask_recovery, clean_close_makes_a_damaged_tail_corruption)
{
    kv_env *env = closed_store("max_file_size=1K", false);
    bc_info info;
    kv_db *db = bt_open(env, "max_file_size=1K");
    char path[64];
    uint64_t size;

    OK(bc_info_get(db, &info));
    OK(kv_close(db));
    OK(kv_env_stat(env, bt_data_path(info.active_id, path), &size, NULL));
    /* the size field of the last record: now it seems to run past the end */
    OK(kv_env_fault_flip(env, path, size - bc_rec_size(11, BC_TOMBSTONE) + 14, 3));
    RC(kv_open_env("bitcask", "/db", NULL, env, &db), KV_ECORRUPT);
    kv_env_free(env);
}

Test(bitcask_recovery, bad_record_in_an_older_file_is_corruption)
{
    kv_env *env = closed_store("max_file_size=1K", false);
    char path[64];
    kv_db *db = NULL;

    OK(kv_env_fault_flip(env, bt_data_path(1, path), 900, 0));
    RC(kv_open_env("bitcask", "/db", NULL, env, &db), KV_ECORRUPT);
    kv_env_free(env);
}

/* Every file of /db: name and size. */
static size_t list(kv_env *env, char names[][64], uint64_t *sizes)
{
    char **nm;
    size_t n, k = 0;

    OK(kv_env_list(env, "/db", &nm, &n));
    for (size_t i = 0; i < n && k < 64; i++) {
        snprintf(names[k], 64, "/db/%s", nm[i]);
        OK(kv_env_stat(env, names[k], &sizes[k], NULL));
        if (sizes[k] > 0)
            k++;
    }
    kv_env_list_free(nm, n);
    return k;
}

Test(bitcask_recovery, bit_flips_in_a_merged_store)
{
    size_t trials = 400, at_open = 0, later = 0, harmless = 0;
    uint64_t x = 99;

    for (size_t t = 0; t < trials; t++) {
        kv_env *env = closed_store("max_file_size=1K", true);
        char names[64][64];
        uint64_t sizes[64];
        size_t n = list(env, names, sizes), which;
        kv_db *db = NULL;
        bool reported = false;
        int rc;

        x = x * 6364136223846793005ull + 1442695040888963407ull;
        which = (size_t)(x >> 33) % n;
        OK(kv_env_fault_flip(env, names[which], (x >> 8) % sizes[which], (unsigned)(x % 8)));
        rc = kv_open_env("bitcask", "/db", "max_file_size=1K", env, &db);
        if (rc == KV_ECORRUPT) {
            at_open++;
            kv_env_free(env);
            continue;
        }
        OK(rc);
        for (uint32_t id = 0; id < 40; id++) {
            char k[32];
            kv_buf v = {0};
            rc = kv_get(db, k, bt_key(id, k), &v);
            kv_buf_free(&v);
            if (rc == KV_ECORRUPT)
                reported = true;
            else
                bt_expect(db, id, expected_ver(id, true), VLEN, names[which]);
        }
        reported ? later++ : harmless++;
        kv_close(db);
        kv_env_free(env);
    }
    cr_log_info("%zu flips: %zu detected at open, %zu later, %zu harmless", trials, at_open, later,
                harmless);
    cr_assert_gt(at_open + later, trials / 2);
}

/* ---- failing I/O calls --------------------------------------------------------------- */

static void io_errors(kv_fault_kind kind, const char *opts)
{
    kv_env *env = kv_env_fault_new(31);
    kv_db *db = bt_open(env, opts);
    uint64_t ver[50] = {0};
    size_t failed = 0;

    for (uint32_t i = 0; i < 400; i++) {
        uint32_t id = i * 7 % 50;
        if (i % 13 == 5) /* fail the next call of this kind */
            kv_env_fault_fail(env, kind, 1, 1, KV_EIO);
        int rc = bt_put(db, id, i + 1, 60);
        kv_env_fault_fail(env, kind, 0, 0, 0);
        if (rc == KV_OK) {
            ver[id] = i + 1;
        } else {
            cr_assert_eq(rc, KV_EIO, "put %u: %d (%s)", i, rc, kv_strerror(rc));
            failed++;
        }
        bt_expect(db, id, ver[id], 60, "right after the put");
    }
    cr_assert_gt(failed, 10, "only %zu puts failed", failed);
    OK(kv_sync(db));
    kv_env_fault_crash(env, KV_CRASH_DROP);
    kv_close(db);
    kv_env_fault_reboot(env);
    db = bt_open(env, opts);
    for (uint32_t id = 0; id < 50; id++)
        bt_expect(db, id, ver[id], 60, "after a crash");
    OK(kv_close(db));
    cr_log_info("%s: %zu of 400 puts failed", opts ? opts : "", failed);
    kv_env_free(env);
}

Test(bitcask_recovery, write_errors_are_eio_and_lose_nothing)
{
    io_errors(KV_FAULT_WRITE, "max_file_size=2K");
}

Test(bitcask_recovery, write_errors_with_a_buffer)
{
    io_errors(KV_FAULT_WRITE, "max_file_size=2K,write_buffer=512,sync=always");
}

Test(bitcask_recovery, fsync_errors_are_eio_and_lose_nothing)
{
    io_errors(KV_FAULT_SYNC, "max_file_size=2K,sync=always");
}

Test(bitcask_recovery, failed_sync_is_reported)
{
    kv_env *env = kv_env_fault_new(32);
    kv_db *db = bt_open(env, NULL);

    OK(bt_put(db, 1, 1, 10));
    kv_env_fault_fail(env, KV_FAULT_SYNC, 1, 1, KV_EIO);
    RC(kv_sync(db), KV_EIO);
    OK(kv_sync(db));
    OK(kv_close(db));
    db = bt_open(env, NULL);
    bt_expect(db, 1, 1, 10, "after a failed then a good sync");
    OK(kv_close(db));
    kv_env_free(env);
}
