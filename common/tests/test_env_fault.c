/*
 * test_env_fault.c — unit tests of the fault env (env.h): injected failures
 * and the crash model.
 *
 * The routine under test is save() (env_routine.h), the way a storage
 * engine replaces a file atomically. Under each fault — the Nth write
 * failing, fsync failures, the quota, open and rename failures — it must
 * fail with the right status and leave the old version; under crashes
 * (DROP and TORN) before every one of its mutating calls, the file must
 * hold exactly the old version or the new one, never a mixture. Then the
 * crash model call by call: what a crash keeps and loses, torn-write
 * prefixes over many seeds, bit flips. (Split from test_env.c, which tests
 * the contract on every env.)
 */

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kvlabs/alloc.h"
#include "kvlabs/env.h"

#include "env_fixture.h"
#include "env_routine.h"
#include "kvtest.h"

/* ---- the fault env: injected failures --------------------------------- */

#define FAULT_TEST(name) Test(fault, name, .init = init_fault, .fini = fini_fx)

/* kv_env_mkdir_durable: a creation syncs the parent directory (the
 * memory file system makes directories durable at once, so the sync is
 * what is checked); an existing directory syncs nothing; a missing parent
 * is KV_ENOTFOUND; the directory survives a crash. */
FAULT_TEST(mkdir_durable_syncs_the_parent)
{
    kv_env_counters c0, c1, c2;
    bool is_dir = false;

    kv_env_get_counters(fx.env, &c0);
    OK(kv_env_mkdir_durable(fx.env, P("store/")));
    kv_env_get_counters(fx.env, &c1);
    cr_assert_eq(c1.syncs, c0.syncs + 1, "a new directory syncs its parent once");
    OK(kv_env_mkdir_durable(fx.env, P("store")));
    kv_env_get_counters(fx.env, &c2);
    cr_assert_eq(c2.syncs, c1.syncs, "an existing directory syncs nothing");
    RC(kv_env_mkdir_durable(fx.env, P("nodir/store")), KV_ENOTFOUND);
    kv_env_fault_crash(fx.owned, KV_CRASH_DROP);
    kv_env_fault_reboot(fx.owned);
    OK(kv_env_stat(fx.env, P("store"), NULL, &is_dir));
    cr_assert(is_dir);
}

/* A fresh fault env holding a durable version 1. */
static void fresh_with_v1(uint64_t seed)
{
    kv_env_free(fx.owned);
    init_owned(kv_env_fault_new(seed));
    OK(save(fx.env, fx.dir, 1, NOLD));
}

static void crash_reboot(kv_crash_mode mode)
{
    kv_env_fault_crash(fx.owned, mode);
    cr_assert(kv_env_fault_crashed(fx.env));
    kv_env_fault_reboot(fx.owned);
    cr_assert(!kv_env_fault_crashed(fx.env));
}

FAULT_TEST(each_write_failing)
{
    for (uint64_t k = 1; k <= NNEW + 1; k++) {
        uint64_t size;
        uint8_t *d, want[HDR + NNEW * REC];

        fresh_with_v1(k);
        kv_env_fault_fail(fx.owned, KV_FAULT_WRITE, k, 1, KV_EIO);
        RC(save(fx.env, fx.dir, 2, NNEW), KV_EIO);
        cr_assert_eq(load(fx.env, fx.dir, NULL), 1, "write %llu failed: old version intact",
                     (unsigned long long)k);
        /* a failing write writes nothing: the tmp file holds exactly the writes before it */
        OK(slurp(fx.env, P("data.tmp"), &d, &size));
        cr_assert_eq(size, k == 1 ? 0 : HDR + (k - 2) * REC);
        header_bytes(2, NNEW, want);
        for (uint32_t i = 0; i < NNEW; i++)
            record_bytes(2, i, want + HDR + i * REC);
        cr_assert(size == 0 || !memcmp(d, want, size));
        free(d);
        crash_reboot(KV_CRASH_DROP);
        cr_assert_eq(load(fx.env, fx.dir, NULL), 1);
    }
}

FAULT_TEST(sync_failures)
{
    for (uint64_t k = 1; k <= 3; k++) { /* file sync, first dir sync, last dir sync */
        fresh_with_v1(k);
        kv_env_fault_fail(fx.owned, KV_FAULT_SYNC, k, 1, KV_EIO);
        RC(save(fx.env, fx.dir, 2, NNEW), KV_EIO);
        cr_assert_eq(load(fx.env, fx.dir, NULL), k == 3 ? 2 : 1, "live state, sync %llu",
                     (unsigned long long)k);
        crash_reboot(KV_CRASH_DROP);
        cr_assert_eq(load(fx.env, fx.dir, NULL), 1, "after the crash, sync %llu",
                     (unsigned long long)k);
        cr_assert_eq(load_file(fx.env, P("data.tmp"), NULL), k == 3 ? 2 : 0);
    }
}

FAULT_TEST(quota_is_full)
{
    uint64_t size;
    kv_file *f;

    fresh_with_v1(1);
    /* data holds 176 bytes; 100 more allow the header and two records (80) */
    kv_env_fault_set_quota(fx.owned, HDR + NOLD * REC + 100);
    RC(save(fx.env, fx.dir, 2, NNEW), KV_EFULL);
    cr_assert_eq(load(fx.env, fx.dir, NULL), 1);
    OK(kv_env_stat(fx.env, P("data.tmp"), &size, NULL));
    cr_assert_eq(size, HDR + 2 * REC);
    OK(kv_env_open(fx.env, P("data.tmp"), KV_O_RDWR, &f));
    RC(kv_file_truncate(f, 1000), KV_EFULL);
    OK(kv_file_truncate(f, 0)); /* shrinking always works */
    OK(kv_file_close(f));
    kv_env_fault_set_quota(fx.owned, 0);
    OK(save(fx.env, fx.dir, 2, NNEW));
    cr_assert_eq(load(fx.env, fx.dir, NULL), 2);
}

FAULT_TEST(open_and_rename_failures)
{
    fresh_with_v1(1);
    kv_env_fault_fail(fx.owned, KV_FAULT_OPEN, 1, 1, KV_EIO);
    RC(save(fx.env, fx.dir, 2, NNEW), KV_EIO);
    RC(kv_env_stat(fx.env, P("data.tmp"), NULL, NULL), KV_ENOTFOUND);
    cr_assert_eq(load(fx.env, fx.dir, NULL), 1);
    kv_env_fault_fail(fx.owned, KV_FAULT_RENAME, 1, 1, KV_EIO);
    RC(save(fx.env, fx.dir, 2, NNEW), KV_EIO);
    cr_assert_not_null(strstr(kv_last_error(), "injected rename fault"), "%s", kv_last_error());
    cr_assert_eq(load(fx.env, fx.dir, NULL), 1);
    cr_assert_eq(load_file(fx.env, P("data.tmp"), NULL), 2);
    OK(save(fx.env, fx.dir, 3, NNEW)); /* faults are spent */
    cr_assert_eq(load(fx.env, fx.dir, NULL), 3);
}

FAULT_TEST(fail_counts_any_and_clear)
{
    kv_file *f;
    int want[] = {KV_OK, KV_EFULL, KV_EFULL, KV_EFULL, KV_OK, KV_OK};

    OK(kv_env_open(fx.env, P("f"), KV_O_RDWR | KV_O_CREAT, &f));
    kv_env_fault_fail(fx.owned, KV_FAULT_WRITE, 2, 3, KV_EFULL); /* writes 2, 3, 4 */
    for (int i = 0; i < 6; i++)
        RC(kv_file_pwrite(f, "x", 1, (uint64_t)i), want[i]);
    kv_env_fault_fail(fx.owned, KV_FAULT_TRUNCATE, 1, 0, KV_EIO); /* forever */
    for (int i = 0; i < 3; i++)
        RC(kv_file_truncate(f, 0), KV_EIO);
    kv_env_fault_fail(fx.owned, KV_FAULT_TRUNCATE, 0, 0, 0); /* clears */
    OK(kv_file_truncate(f, 0));
    kv_env_fault_fail(fx.owned, KV_FAULT_ANY, 3, 1, KV_EIO); /* the third call of any kind */
    OK(kv_file_pwrite(f, "a", 1, 0));
    OK(kv_file_sync(f));
    RC(kv_env_unlink(fx.env, P("nope")), KV_EIO);
    RC(kv_env_unlink(fx.env, P("nope")), KV_ENOTFOUND);
    kv_env_fault_fail(fx.owned, KV_FAULT_UNLINK, 1, 1, KV_EIO);
    RC(kv_env_rmdir(fx.env, P("nope")), KV_EIO);
    kv_env_fault_fail(fx.owned, KV_FAULT_READ, 1, 1, KV_EIO);
    char c;
    size_t got;
    RC(kv_file_pread(f, &c, 1, 0, &got), KV_EIO);
    OK(kv_file_pread(f, &c, 1, 0, &got));
    cr_assert(got == 1 && c == 'a');
    OK(kv_file_close(f));
}

FAULT_TEST(failed_calls_are_not_counted)
{
    kv_env_counters c0, c1;
    kv_file *f;

    OK(kv_env_open(fx.env, P("f"), KV_O_RDWR | KV_O_CREAT, &f));
    kv_env_get_counters(fx.env, &c0);
    kv_env_fault_fail(fx.owned, KV_FAULT_WRITE, 1, 1, KV_EIO);
    kv_env_fault_fail(fx.owned, KV_FAULT_SYNC, 1, 1, KV_EIO);
    RC(kv_file_pwrite(f, "abc", 3, 0), KV_EIO);
    RC(kv_file_sync(f), KV_EIO);
    kv_env_get_counters(fx.env, &c1);
    cr_assert(!memcmp(&c0, &c1, sizeof(c0)));
    OK(kv_file_close(f));
}

/* ---- the fault env: the crash model ------------------------------------ */

FAULT_TEST(crash_drops_unsynced_writes)
{
    kv_file *f;

    write_file(P("f"), "abc", true);
    OK(kv_env_sync_dir(fx.env, fx.dir));
    OK(kv_env_open(fx.env, P("f"), KV_O_RDWR, &f));
    OK(kv_file_pwrite(f, "XYZ", 3, 1));
    OK(kv_file_truncate(f, 2));
    OK(kv_file_close(f));
    expect_file(P("f"), "aX");
    crash_reboot(KV_CRASH_DROP);
    expect_file(P("f"), "abc");
}

FAULT_TEST(crash_file_synced_dir_not)
{
    write_file(P("f"), "synced", true); /* the file is synced, its creation is not */
    crash_reboot(KV_CRASH_DROP);
    expect_file(P("f"), NULL);
    write_file(P("f"), "synced", true);
    OK(kv_env_sync_dir(fx.env, fx.dir));
    write_file(P("g"), "not synced", false);
    OK(kv_env_sync_dir(fx.env, fx.dir));
    crash_reboot(KV_CRASH_DROP);
    expect_file(P("f"), "synced");
    expect_file(P("g"), ""); /* its entry is durable, its data is not */
}

FAULT_TEST(crash_rename_and_unlink)
{
    write_file(P("a"), "A", true);
    write_file(P("b"), "B", true);
    OK(kv_env_sync_dir(fx.env, fx.dir));
    OK(kv_env_rename(fx.env, P("a"), P("b")));
    write_file(P("c"), "C", true);
    OK(kv_env_unlink(fx.env, P("c")));
    crash_reboot(KV_CRASH_DROP); /* nothing since the sync survives */
    expect_file(P("a"), "A");
    expect_file(P("b"), "B");
    expect_file(P("c"), NULL);
    OK(kv_env_rename(fx.env, P("a"), P("b")));
    OK(kv_env_sync_dir(fx.env, fx.dir)); /* now the rename is durable */
    crash_reboot(KV_CRASH_DROP);
    expect_file(P("a"), NULL);
    expect_file(P("b"), "A");
    OK(kv_env_unlink(fx.env, P("b")));
    OK(kv_env_sync_dir(fx.env, fx.dir)); /* and the unlink */
    crash_reboot(KV_CRASH_DROP);
    expect_file(P("b"), NULL);
}

FAULT_TEST(crash_unlink_then_recreate)
{
    write_file(P("f"), "old", true);
    OK(kv_env_sync_dir(fx.env, fx.dir));
    OK(kv_env_unlink(fx.env, P("f")));
    write_file(P("f"), "new", true); /* a new file under the old name, not dir-synced */
    expect_file(P("f"), "new");
    crash_reboot(KV_CRASH_DROP);
    expect_file(P("f"), "old");
}

FAULT_TEST(directories_are_durable_once_created)
{
    OK(kv_env_mkdir(fx.env, P("d")));
    OK(kv_env_mkdir(fx.env, P("gone")));
    OK(kv_env_rmdir(fx.env, P("gone")));
    crash_reboot(KV_CRASH_DROP);
    OK(kv_env_stat(fx.env, P("d"), NULL, NULL));
    RC(kv_env_stat(fx.env, P("gone"), NULL, NULL), KV_ENOTFOUND);
}

FAULT_TEST(crashed_env_fails_everything_but_close)
{
    kv_file *f, *g;
    char c;
    size_t got;
    uint64_t size;
    char **names;
    size_t n;

    write_file(P("f"), "abc", true);
    OK(kv_env_sync_dir(fx.env, fx.dir));
    OK(kv_env_open(fx.env, P("f"), KV_O_RDWR, &f));
    OK(kv_file_lock(f));
    kv_env_fault_crash(fx.owned, KV_CRASH_DROP);
    cr_assert(kv_env_fault_crashed(fx.env));
    RC(kv_file_pread(f, &c, 1, 0, &got), KV_EIO);
    RC(kv_file_pwrite(f, "x", 1, 0), KV_EIO);
    RC(kv_file_sync(f), KV_EIO);
    RC(kv_file_size(f, &size), KV_EIO);
    RC(kv_file_truncate(f, 0), KV_EIO);
    RC(kv_file_lock(f), KV_EIO);
    RC(kv_env_open(fx.env, P("f"), KV_O_RDONLY, &g), KV_EIO);
    RC(kv_env_stat(fx.env, P("f"), NULL, NULL), KV_EIO);
    RC(kv_env_list(fx.env, fx.dir, &names, &n), KV_EIO);
    RC(kv_env_mkdir(fx.env, P("d")), KV_EIO);
    RC(kv_env_sync_dir(fx.env, fx.dir), KV_EIO);
    RC(kv_env_rename(fx.env, P("f"), P("g")), KV_EIO);
    RC(kv_env_unlink(fx.env, P("f")), KV_EIO);
    kv_env_fault_reboot(fx.owned);
    /* a handle of the old life still fails, but closes; the lock died with it */
    RC(kv_file_pread(f, &c, 1, 0, &got), KV_EIO);
    OK(kv_env_open(fx.env, P("f"), KV_O_RDWR, &g));
    OK(kv_file_lock(g));
    OK(kv_file_close(f));
    OK(kv_file_pread(g, &c, 1, 0, &got));
    cr_assert(got == 1 && c == 'a');
    OK(kv_file_close(g));
}

FAULT_TEST(reboot_without_crash_is_a_power_cycle)
{
    write_file(P("f"), "x", true);
    kv_env_fault_reboot(fx.owned);
    cr_assert(!kv_env_fault_crashed(fx.env));
    expect_file(P("f"), NULL);
}

/* TORN: over many seeds, every prefix length of the last write shows up and nothing else changes. */
FAULT_TEST(torn_keeps_a_prefix_of_the_last_write)
{
    enum { SEEDS = 300 };
    int seen_empty = 0, seen_partial = 0, seen_full = 0;

    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        char a[256], c[64];
        uint8_t *d;
        uint64_t size;
        size_t p;
        kv_file *f;

        kv_env_free(fx.owned);
        init_owned(kv_env_fault_new(seed));
        memset(a, 'a', 100);
        a[100] = 0;
        write_file(P("a"), a, true);
        write_file(P("b"), "bbbb", true);
        write_file(P("c"), "cccccccccc", true);
        OK(kv_env_sync_dir(fx.env, fx.dir));
        OK(kv_env_open(fx.env, P("a"), KV_O_RDWR, &f));
        OK(kv_file_pwrite(f, "xxxxxxxxxxxxxxxxxxxx", 20, 100)); /* unsynced, survives */
        OK(kv_file_pwrite(f, "yyyyyyyyyyyyyyyy", 16, 110));     /* the last: torn */
        OK(kv_file_close(f));
        OK(kv_env_open(fx.env, P("c"), KV_O_RDWR, &f));
        OK(kv_file_pwrite(f, "zzzz", 4, 30)); /* past the end: a gap */
        OK(kv_file_close(f));
        write_file(P("new"), "never dir-synced", true);
        crash_reboot(KV_CRASH_TORN);

        OK(slurp(fx.env, P("a"), &d, &size));
        for (p = 0; p < 16 && 110 + p < size && d[110 + p] == 'y'; p++)
            ;
        memset(a + 100, 'x', 20);
        memset(a + 110, 'y', p);
        cr_assert_eq(size, 110 + p > 120 ? 110 + p : 120, "seed %llu", (unsigned long long)seed);
        cr_assert(!memcmp(d, a, size), "seed %llu: only a prefix of the last write may change",
                  (unsigned long long)seed);
        free(d);
        seen_empty += p == 0;
        seen_partial += p > 0 && p < 16;
        seen_full += p == 16;

        OK(slurp(fx.env, P("c"), &d, &size));
        memset(c, 'c', 10);
        memset(c + 10, 0, 20);
        memcpy(c + 30, "zzzz", 4);
        cr_assert(size == 10 || (size > 30 && size <= 34), "seed %llu: c has %llu bytes",
                  (unsigned long long)seed, (unsigned long long)size);
        cr_assert(!memcmp(d, c, size));
        free(d);
        expect_file(P("b"), "bbbb");
        expect_file(P("new"), NULL);
    }
    cr_assert(seen_empty && seen_partial && seen_full, "empty %d, partial %d, full %d",
              seen_empty, seen_partial, seen_full);
}

/* The atomic-rename pattern: a crash before any mutation leaves the old version or the new. */
static void crash_at_every_point(kv_crash_mode mode)
{
    uint64_t m0, m;

    fresh_with_v1(0);
    m0 = kv_env_fault_mutations(fx.env);
    OK(save(fx.env, fx.dir, 2, NNEW));
    m = kv_env_fault_mutations(fx.env) - m0;
    cr_assert_eq(m, NNEW + 6, "open, 1+N writes, fsync, dir sync, rename, dir sync");
    for (uint64_t i = 1; i <= m + 1; i++) {
        int rc;

        fresh_with_v1(i);
        kv_env_fault_crash_after(fx.owned, i, mode);
        rc = save(fx.env, fx.dir, 2, NNEW);
        cr_assert_eq(rc == KV_OK, i > m, "point %llu: %s", (unsigned long long)i, kv_strerror(rc));
        cr_assert_eq(kv_env_fault_crashed(fx.env), i <= m);
        if (i > m)
            kv_env_fault_crash(fx.owned, mode);
        kv_env_fault_reboot(fx.owned);
        /* the new version is durable only once the last directory sync completed */
        cr_assert_eq(load(fx.env, fx.dir, NULL), i > m ? 2 : 1, "point %llu",
                     (unsigned long long)i);
        /* the tmp file is durable from the first directory sync until the last one */
        cr_assert_eq(load_file(fx.env, P("data.tmp"), NULL), i == m || i == m - 1 ? 2 : 0,
                     "point %llu", (unsigned long long)i);
    }
}

FAULT_TEST(crash_after_every_mutation_drop)
{
    crash_at_every_point(KV_CRASH_DROP);
}

FAULT_TEST(crash_after_every_mutation_torn)
{
    crash_at_every_point(KV_CRASH_TORN);
}

FAULT_TEST(mutations_are_counted)
{
    kv_file *f;
    uint64_t m0 = kv_env_fault_mutations(fx.env);

    OK(kv_env_mkdir(fx.env, P("d")));                                    /* 1 */
    OK(kv_env_open(fx.env, P("f"), KV_O_RDWR | KV_O_CREAT, &f));         /* 2 */
    OK(kv_file_pwrite(f, "x", 1, 0));                                    /* 3 */
    OK(kv_file_truncate(f, 0));                                          /* 4 */
    OK(kv_file_sync(f));                                                 /* 5 */
    OK(kv_file_close(f));
    OK(kv_env_open(fx.env, P("f"), KV_O_RDONLY, &f)); /* not a mutation */
    OK(kv_file_close(f));
    OK(kv_env_stat(fx.env, P("f"), NULL, NULL));
    OK(kv_env_rename(fx.env, P("f"), P("g")));                           /* 6 */
    OK(kv_env_unlink(fx.env, P("g")));                                   /* 7 */
    OK(kv_env_rmdir(fx.env, P("d")));                                    /* 8 */
    OK(kv_env_sync_dir(fx.env, fx.dir));                                 /* 9 */
    cr_assert_eq(kv_env_fault_mutations(fx.env) - m0, 9);
}

FAULT_TEST(flip_corrupts_live_and_durable)
{
    write_file(P("f"), "hello", true);
    OK(kv_env_sync_dir(fx.env, fx.dir));
    OK(kv_env_fault_flip(fx.owned, P("f"), 1, 0)); /* 'e' ^ 1 = 'd' */
    expect_file(P("f"), "hdllo");
    crash_reboot(KV_CRASH_DROP);
    expect_file(P("f"), "hdllo");
    OK(kv_env_rename(fx.env, P("f"), P("g"))); /* now f names the file durably, g live */
    OK(kv_env_fault_flip(fx.owned, P("f"), 0, 7));
    crash_reboot(KV_CRASH_DROP);
    expect_file(P("f"), "\xe8" "dllo");
    RC(kv_env_fault_flip(fx.owned, P("f"), 5, 0), KV_EINVAL);
    RC(kv_env_fault_flip(fx.owned, P("f"), 0, 8), KV_EINVAL);
    RC(kv_env_fault_flip(fx.owned, P("nope"), 0, 0), KV_ENOTFOUND);
    RC(kv_env_fault_flip(fx.owned, fx.dir, 0, 0), KV_EINVAL);
    cr_assert_str_eq(kv_env_name(fx.env), "fault");
}
