/*
 * test_env.c — unit tests of the env module (env.h): posix, mem and fault.
 *
 * The centre of the suite is save(), the way a storage engine replaces a
 * file atomically: write a header and N records to dir/data.tmp, fsync it,
 * fsync the directory, rename it over dir/data, fsync the directory again.
 * load() reads dir/data back and checks every byte. The same routine runs
 * on all three envs (ENV_TEST makes one Criterion test per env), and on the
 * fault env under each fault: the Nth write failing, fsync failures, the
 * quota, open and rename failures, and crashes (DROP and TORN) before every
 * one of its mutating calls, after which the file must hold exactly the old
 * version or the new one, never a mixture.
 *
 * The rest checks the contract call by call: error codes and details, the
 * durability model (what a crash keeps and loses), torn-write prefixes over
 * many seeds, bit flips, locks within a process and across fork(), exact
 * counters, sorted listings, threads, and the malloc-failure loop. Posix
 * tests work in a mkdtemp directory under /tmp, removed afterwards.
 *
 * The fault env's injected failures and crash model are in test_env_fault.c;
 * the fixture (env_fixture.h) and the routine (env_routine.h) are shared.
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

/* ---- the routine on every env ----------------------------------------- */

ENV_TEST(save_and_load)
{
    uint32_t nrec = 0;
    uint64_t size;
    bool is_dir;
    char **names;
    size_t n;

    cr_assert_eq(load(fx.env, fx.dir, NULL), 0);
    OK(save(fx.env, fx.dir, 1, NOLD));
    cr_assert_eq(load(fx.env, fx.dir, &nrec), 1);
    cr_assert_eq(nrec, NOLD);
    OK(save(fx.env, fx.dir, 2, NNEW));
    cr_assert_eq(load(fx.env, fx.dir, &nrec), 2);
    cr_assert_eq(nrec, NNEW);
    OK(kv_env_stat(fx.env, P("data"), &size, &is_dir));
    cr_assert(size == HDR + NNEW * REC && !is_dir);
    OK(kv_env_list(fx.env, fx.dir, &names, &n));
    cr_assert(n == 1 && !strcmp(names[0], "data"), "the tmp file must be renamed away");
    kv_env_list_free(names, n);
}

ENV_TEST(open_errors)
{
    kv_file *f = (kv_file *)1;

    RC(kv_env_open(fx.env, P("missing"), KV_O_RDONLY, &f), KV_ENOTFOUND);
    cr_assert_null(f);
    cr_assert_not_null(strstr(kv_last_error(), "missing"), "detail: %s", kv_last_error());
    RC(kv_env_open(fx.env, P("nodir/x"), KV_O_RDWR | KV_O_CREAT, &f), KV_ENOTFOUND);
    write_file(P("x"), "x", false);
    RC(kv_env_open(fx.env, P("x"), KV_O_RDWR | KV_O_CREAT | KV_O_EXCL, &f), KV_EBUSY);
    RC(kv_env_open(fx.env, P("x"), KV_O_CREAT, &f), KV_EINVAL);
    RC(kv_env_open(fx.env, P("x"), KV_O_RDWR | KV_O_EXCL, &f), KV_EINVAL);
    RC(kv_env_open(fx.env, P("x"), 64, &f), KV_EINVAL);
    RC(kv_env_open(fx.env, "", KV_O_RDONLY, &f), KV_EINVAL);
    RC(kv_env_open(NULL, P("x"), KV_O_RDONLY, &f), KV_EINVAL);
    RC(kv_env_open(fx.env, fx.dir, KV_O_RDWR, &f), KV_EIO);
    RC(kv_env_open(fx.env, P("x/y"), KV_O_RDWR | KV_O_CREAT, &f), KV_EIO);
    OK(kv_file_close(NULL));
}

ENV_TEST(read_write_semantics)
{
    kv_file *f;
    char buf[32];
    size_t got;
    uint64_t size;

    OK(kv_env_open(fx.env, P("f"), KV_O_RDWR | KV_O_CREAT, &f));
    OK(kv_file_pwrite(f, "hello", 5, 0));
    OK(kv_file_pwrite(f, "world", 5, 10)); /* a gap of 5 zero bytes */
    OK(kv_file_pwrite(f, "HE", 2, 0));
    OK(kv_file_pwrite(f, "", 0, 100)); /* an empty write changes nothing */
    OK(kv_file_size(f, &size));
    cr_assert_eq(size, 15);
    OK(kv_file_pread(f, buf, sizeof(buf), 0, &got));
    cr_assert_eq(got, 15, "short only at end of file");
    cr_assert(!memcmp(buf, "HEllo\0\0\0\0\0world", 15));
    OK(kv_file_pread(f, buf, 4, 11, &got));
    cr_assert(got == 4 && !memcmp(buf, "orld", 4));
    OK(kv_file_pread(f, buf, 4, 15, &got));
    cr_assert_eq(got, 0);
    OK(kv_file_pread(f, buf, 4, 1000, &got));
    cr_assert_eq(got, 0);
    RC(kv_file_pwrite(f, "x", 1, UINT64_MAX - 1), KV_EINVAL);
    RC(kv_file_pwrite(NULL, "x", 1, 0), KV_EINVAL);
    OK(kv_file_close(f));
}

ENV_TEST(truncate_and_readonly)
{
    kv_file *f, *r;
    char buf[16];
    size_t got;
    uint64_t size;

    OK(kv_env_open(fx.env, P("t"), KV_O_RDWR | KV_O_CREAT, &f));
    OK(kv_file_pwrite(f, "abcdef", 6, 0));
    OK(kv_file_truncate(f, 3));
    OK(kv_file_truncate(f, 8)); /* grows with zeros, not the old bytes */
    OK(kv_file_pread(f, buf, sizeof(buf), 0, &got));
    cr_assert(got == 8 && !memcmp(buf, "abc\0\0\0\0\0", 8));
    OK(kv_file_close(f));
    OK(kv_env_open(fx.env, P("t"), KV_O_RDONLY, &r));
    RC(kv_file_pwrite(r, "x", 1, 0), KV_EINVAL);
    RC(kv_file_truncate(r, 0), KV_EINVAL);
    OK(kv_file_size(r, &size));
    cr_assert_eq(size, 8);
    OK(kv_file_close(r));
    OK(kv_env_open(fx.env, P("t"), KV_O_RDWR | KV_O_TRUNC, &f));
    OK(kv_file_size(f, &size));
    cr_assert_eq(size, 0);
    OK(kv_file_close(f));
}

ENV_TEST(namespace_ops)
{
    uint64_t size = 1;
    bool is_dir = false;

    OK(kv_env_mkdir(fx.env, fx.dir)); /* exists: fine */
    RC(kv_env_mkdir(fx.env, P("a/b")), KV_ENOTFOUND);
    OK(kv_env_mkdir(fx.env, P("sub")));
    OK(kv_env_stat(fx.env, P("sub"), &size, &is_dir));
    cr_assert(is_dir && size == 0);
    write_file(P("sub/f"), "12345", false);
    RC(kv_env_mkdir(fx.env, P("sub/f")), KV_EIO);
    RC(kv_env_rmdir(fx.env, P("sub")), KV_EBUSY);
    RC(kv_env_rmdir(fx.env, P("nope")), KV_ENOTFOUND);
    RC(kv_env_unlink(fx.env, P("nope")), KV_ENOTFOUND);
    RC(kv_env_rename(fx.env, P("nope"), P("x")), KV_ENOTFOUND);
    RC(kv_env_stat(fx.env, P("nope"), &size, &is_dir), KV_ENOTFOUND);
    cr_assert(size == 0 && !is_dir);
    write_file(P("other"), "old", false);
    OK(kv_env_rename(fx.env, P("sub/f"), P("other"))); /* replaces */
    expect_file(P("other"), "12345");
    expect_file(P("sub/f"), NULL);
    OK(kv_env_rmdir(fx.env, P("sub")));
    RC(kv_env_stat(fx.env, P("sub"), NULL, NULL), KV_ENOTFOUND);
    OK(kv_env_unlink(fx.env, P("other")));
    expect_file(P("other"), NULL);
}

ENV_TEST(remove_dir_takes_its_files)
{
    OK(kv_env_remove_dir(fx.env, P("nope"))); /* nothing to remove */
    OK(kv_env_mkdir(fx.env, P("store")));
    OK(kv_env_remove_dir(fx.env, P("store"))); /* empty */
    RC(kv_env_stat(fx.env, P("store"), NULL, NULL), KV_ENOTFOUND);
    OK(kv_env_mkdir(fx.env, P("store")));
    write_file(P("store/a"), "1", false);
    write_file(P("store/b"), "22", false);
    write_file(P("keep"), "3", false);
    OK(kv_env_remove_dir(fx.env, P("store")));
    RC(kv_env_stat(fx.env, P("store"), NULL, NULL), KV_ENOTFOUND);
    expect_file(P("keep"), "3"); /* only what was inside */
    RC(kv_env_remove_dir(fx.env, P("keep")), KV_EIO); /* a file */
    expect_file(P("keep"), "3");
    OK(kv_env_mkdir(fx.env, P("store")));
    OK(kv_env_mkdir(fx.env, P("store/sub")));
    write_file(P("store/sub/x"), "4", false);
    RC(kv_env_remove_dir(fx.env, P("store")), KV_EBUSY); /* one level only */
    expect_file(P("store/sub/x"), "4");
    RC(kv_env_remove_dir(NULL, P("store")), KV_EINVAL);
    RC(kv_env_remove_dir(fx.env, ""), KV_EINVAL);
}

ENV_TEST(unlinked_open_file_keeps_working)
{
    kv_file *f;
    char buf[8];
    size_t got;
    char **names;
    size_t n;

    OK(kv_env_open(fx.env, P("u"), KV_O_RDWR | KV_O_CREAT, &f));
    OK(kv_file_pwrite(f, "abc", 3, 0));
    OK(kv_env_unlink(fx.env, P("u")));
    RC(kv_env_stat(fx.env, P("u"), NULL, NULL), KV_ENOTFOUND);
    OK(kv_file_pwrite(f, "def", 3, 3));
    OK(kv_file_sync(f));
    OK(kv_file_pread(f, buf, sizeof(buf), 0, &got));
    cr_assert(got == 6 && !memcmp(buf, "abcdef", 6));
    OK(kv_env_list(fx.env, fx.dir, &names, &n));
    cr_assert_eq(n, 0);
    kv_env_list_free(names, n);
    OK(kv_file_close(f));
}

ENV_TEST(list_sorted)
{
    const char *order[] = {"A", "a", "b", "c10", "c2", "sub"};
    char **names = (char **)1;
    size_t n = 7;

    write_file(P("c2"), "", false);
    write_file(P("b"), "", false);
    OK(kv_env_mkdir(fx.env, P("sub")));
    write_file(P("a"), "", false);
    write_file(P("c10"), "", false);
    write_file(P("A"), "", false);
    write_file(P("sub/inner"), "", false);
    OK(kv_env_list(fx.env, fx.dir, &names, &n));
    cr_assert_eq(n, 6);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(names[i], order[i]);
    kv_env_list_free(names, n);
    RC(kv_env_list(fx.env, P("nope"), &names, &n), KV_ENOTFOUND);
    cr_assert(names == NULL && n == 0);
    RC(kv_env_list(fx.env, P("a"), &names, &n), KV_EIO);
}

ENV_TEST(lock_within_process)
{
    kv_file *a, *b;

    write_file(P("LOCK"), "", false);
    OK(kv_env_open(fx.env, P("LOCK"), KV_O_RDWR, &a));
    OK(kv_env_open(fx.env, P("LOCK"), KV_O_RDWR, &b));
    OK(kv_file_lock(a));
    OK(kv_file_lock(a)); /* the holder may lock again */
    RC(kv_file_lock(b), KV_EBUSY);
    OK(kv_file_close(a)); /* releases */
    OK(kv_file_lock(b));
    OK(kv_file_close(b));
}

ENV_TEST(counters_exact)
{
    kv_env_counters c0, c1;
    kv_file *f;
    char buf[64];
    size_t got;

    kv_env_get_counters(fx.env, &c0);
    OK(kv_env_open(fx.env, P("c"), KV_O_RDWR | KV_O_CREAT, &f));
    OK(kv_file_pwrite(f, "0123456789", 10, 0));
    OK(kv_file_pwrite(f, "abcdefghijklmnopqrst", 20, 10));
    OK(kv_file_pread(f, buf, 15, 0, &got));
    OK(kv_file_pread(f, buf, 64, 25, &got)); /* 5 bytes left */
    RC(kv_file_pread(f, NULL, 4, 0, &got), KV_EINVAL); /* rejected: not counted */
    OK(kv_file_sync(f));
    OK(kv_env_sync_dir(fx.env, fx.dir));
    OK(kv_file_close(f));
    kv_env_get_counters(fx.env, &c1);
    cr_assert_eq(c1.opens - c0.opens, 1);
    cr_assert_eq(c1.writes - c0.writes, 2);
    cr_assert_eq(c1.bytes_written - c0.bytes_written, 30);
    cr_assert_eq(c1.reads - c0.reads, 2);
    cr_assert_eq(c1.bytes_read - c0.bytes_read, 20);
    cr_assert_eq(c1.syncs - c0.syncs, 2);
}

struct worker {
    const kv_env *env;
    kv_file *shared;
    int id;
    int rc;
};

enum { THREADS = 4, PER_THREAD = 300 };

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    char path[PATH_LEN];
    uint8_t rec[REC];
    kv_file *own;

    snprintf(path, sizeof(path), "%s/t%d", fx.dir, w->id);
    w->rc = kv_env_open(w->env, path, KV_O_RDWR | KV_O_CREAT, &own);
    for (uint32_t i = 0; w->rc == KV_OK && i < PER_THREAD; i++) {
        record_bytes((uint32_t)w->id + 1, i, rec);
        w->rc = kv_file_pwrite(own, rec, REC, (uint64_t)i * REC);
        if (w->rc == KV_OK)
            w->rc = kv_file_pwrite(w->shared, rec, REC,
                                   ((uint64_t)w->id * PER_THREAD + i) * REC);
    }
    if (w->rc == KV_OK)
        w->rc = kv_file_sync(own);
    if (own)
        kv_file_close(own);
    return NULL;
}

ENV_TEST(threads)
{
    struct worker w[THREADS];
    pthread_t t[THREADS];
    kv_env_counters c0, c1;
    uint8_t *d, want[REC];
    uint64_t size;

    kv_env_get_counters(fx.env, &c0);
    OK(kv_env_open(fx.env, P("shared"), KV_O_RDWR | KV_O_CREAT, &w[0].shared));
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.env = fx.env, .shared = w[0].shared, .id = i};
        cr_assert_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(w[i].rc, KV_OK, "thread %d: %s", i, kv_strerror(w[i].rc));
    }
    OK(kv_file_close(w[0].shared));
    kv_env_get_counters(fx.env, &c1);
    cr_assert_eq(c1.writes - c0.writes, 2 * THREADS * PER_THREAD);
    cr_assert_eq(c1.bytes_written - c0.bytes_written, 2 * THREADS * PER_THREAD * REC);
    cr_assert_eq(c1.opens - c0.opens, THREADS + 1);
    OK(slurp(fx.env, P("shared"), &d, &size));
    cr_assert_eq(size, (uint64_t)THREADS * PER_THREAD * REC);
    for (uint32_t i = 0; i < THREADS * PER_THREAD; i++) {
        record_bytes(i / PER_THREAD + 1, i % PER_THREAD, want);
        cr_assert(!memcmp(d + (size_t)i * REC, want, REC), "record %u", i);
    }
    free(d);
}

/* ---- posix only ------------------------------------------------------- */

static int child_lock_status(const char *path)
{
    pid_t pid = fork();
    int status;

    cr_assert_neq(pid, -1);
    if (pid == 0) {
        kv_file *f;
        int rc = kv_env_open(kv_env_posix(), path, KV_O_RDWR, &f);

        if (rc == KV_OK)
            rc = kv_file_lock(f);
        _exit(-rc); /* 0: locked; 7: KV_EBUSY */
    }
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status));
    return -WEXITSTATUS(status);
}

Test(posix, lock_across_fork, .init = init_posix, .fini = fini_fx)
{
    kv_file *f;

    write_file(P("LOCK"), "", false);
    OK(kv_env_open(fx.env, P("LOCK"), KV_O_RDWR, &f));
    OK(kv_file_lock(f));
    cr_assert_eq(child_lock_status(P("LOCK")), KV_EBUSY);
    OK(kv_file_close(f));
    cr_assert_eq(child_lock_status(P("LOCK")), KV_OK);
}

Test(posix, mmap_roundtrip, .init = init_posix, .fini = fini_fx)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    kv_file *f;
    void *addr;
    char buf[4];
    size_t got;

    OK(kv_env_open(fx.env, P("m"), KV_O_RDWR | KV_O_CREAT, &f));
    OK(kv_file_truncate(f, 2 * page));
    OK(kv_file_mmap(f, page, page, true, &addr));
    memcpy(addr, "mmap", 4);
    OK(kv_file_munmap(f, addr, page));
    OK(kv_file_pread(f, buf, 4, page, &got));
    cr_assert(got == 4 && !memcmp(buf, "mmap", 4));
    RC(kv_file_mmap(f, 1, page, false, &addr), KV_EINVAL);
    RC(kv_file_mmap(f, 2 * page, page, false, &addr), KV_EINVAL);
    RC(kv_file_mmap(f, 0, 0, false, &addr), KV_EINVAL);
    OK(kv_file_close(f));
    OK(kv_env_open(fx.env, P("m"), KV_O_RDONLY, &f));
    RC(kv_file_mmap(f, 0, page, true, &addr), KV_EINVAL);
    OK(kv_file_mmap(f, 0, page, false, &addr));
    OK(kv_file_munmap(f, addr, page));
    OK(kv_file_close(f));
    cr_assert_str_eq(kv_env_name(fx.env), "posix");
}

Test(posix, error_detail_names_call_path_errno, .init = init_posix, .fini = fini_fx)
{
    RC(kv_env_rename(fx.env, P("absent"), P("b")), KV_ENOTFOUND);
    cr_assert_not_null(strstr(kv_last_error(), "rename"), "%s", kv_last_error());
    cr_assert_not_null(strstr(kv_last_error(), P("absent")), "%s", kv_last_error());
    cr_assert_not_null(strstr(kv_last_error(), "No such file"), "%s", kv_last_error());
    /* fault control calls are ignored by the posix env */
    kv_env_fault_crash((kv_env *)fx.env, KV_CRASH_DROP);
    cr_assert(!kv_env_fault_crashed(fx.env));
    RC(kv_env_fault_flip((kv_env *)fx.env, P("x"), 0, 0), KV_ENOTSUP);
}

/* ---- mem and fault ---------------------------------------------------- */

MEM_TEST(mmap_unsupported)
{
    kv_file *f;
    void *addr;

    write_file(P("m"), "0123456789", false);
    OK(kv_env_open(fx.env, P("m"), KV_O_RDWR, &f));
    RC(kv_file_mmap(f, 0, 4096, false, &addr), KV_ENOTSUP);
    cr_assert_null(addr);
    OK(kv_file_close(f));
}

MEM_TEST(paths_are_lexical)
{
    OK(kv_env_mkdir(fx.env, "/db/sub"));
    write_file("/db//sub/./f", "x", false);
    expect_file("db/sub/f", "x");
    expect_file("/db/other/../sub/f", "x");
    OK(kv_env_mkdir(fx.env, "/"));
    OK(kv_env_sync_dir(fx.env, "/"));
    RC(kv_env_unlink(fx.env, "/"), KV_EIO);
    RC(kv_env_rmdir(fx.env, "/"), KV_EBUSY);
}

MEM_TEST(rename_directory)
{
    OK(kv_env_mkdir(fx.env, P("d")));
    write_file(P("d/f"), "in d", false);
    RC(kv_env_rename(fx.env, P("d"), P("d/e")), KV_EINVAL);
    OK(kv_env_mkdir(fx.env, P("full")));
    write_file(P("full/x"), "", false);
    RC(kv_env_rename(fx.env, P("d"), P("full")), KV_EBUSY);
    OK(kv_env_mkdir(fx.env, P("empty")));
    OK(kv_env_rename(fx.env, P("d"), P("empty")));
    expect_file(P("empty/f"), "in d");
    RC(kv_env_stat(fx.env, P("d"), NULL, NULL), KV_ENOTFOUND);
    RC(kv_env_rename(fx.env, P("full/x"), P("empty")), KV_EIO);
}

static int alloc_body(void *arg, uint64_t n)
{
    bool fault = *(bool *)arg;
    kv_env *env = fault ? kv_env_fault_new(n) : kv_env_mem_new();
    int rc, v;

    if (!env)
        return 0;
    rc = kv_env_mkdir(env, "/db");
    if (rc == KV_OK)
        rc = save(env, "/db", 1, NOLD);
    if (rc == KV_OK)
        rc = save(env, "/db", 2, NNEW);
    if (rc == KV_OK && fault) {
        kv_env_fault_crash(env, KV_CRASH_TORN);
        kv_env_fault_reboot(env);
    }
    v = rc == KV_OK ? load(env, "/db", NULL) : rc;
    kv_env_free(env);
    if (v == 2 || v == KV_ENOMEM)
        return 0;
    return 1000 + v; /* a failure other than out-of-memory, or wrong content */
}

Test(mem, malloc_failure_loop)
{
    uint64_t runs;
    bool fault = false;

    cr_assert_eq(kv_alloc_fail_loop(alloc_body, &fault, 0, &runs), 0);
    cr_assert_gt(runs, 10);
    fault = true;
    cr_assert_eq(kv_alloc_fail_loop(alloc_body, &fault, 0, &runs), 0);
    cr_assert_gt(runs, 10);
}

Test(mem, fault_calls_are_ignored, .init = init_mem, .fini = fini_fx)
{
    kv_env_fault_fail(fx.owned, KV_FAULT_ANY, 1, 0, KV_EIO);
    kv_env_fault_set_quota(fx.owned, 1);
    kv_env_fault_crash_after(fx.owned, 1, KV_CRASH_DROP);
    OK(save(fx.env, fx.dir, 1, NOLD));
    kv_env_fault_crash(fx.owned, KV_CRASH_DROP);
    kv_env_fault_reboot(fx.owned);
    cr_assert(!kv_env_fault_crashed(fx.env));
    cr_assert_eq(kv_env_fault_mutations(fx.env), 0);
    cr_assert_eq(load(fx.env, fx.dir, NULL), 1);
    cr_assert_str_eq(kv_env_name(fx.env), "mem");
}
