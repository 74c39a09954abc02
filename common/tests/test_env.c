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
 */
#define _GNU_SOURCE /* nftw */

#include <criterion/criterion.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kvlabs/alloc.h"
#include "kvlabs/env.h"

#include "test_util.h"

enum { HDR = 16, REC = 32, NOLD = 5, NNEW = 7, PATH_LEN = 512 };

/* ---- fixtures: one env and one directory per test ---------------------- */

static struct {
    kv_env *owned;       /* mem and fault: freed at fini */
    const kv_env *env;   /* the env under test */
    char dir[128]; /* the test's directory */
    char root[64]; /* posix: the mkdtemp directory, removed at fini */
} fx;

static void init_posix(void)
{
    strcpy(fx.root, "/tmp/kvlabs-env-XXXXXX");
    cr_assert_not_null(mkdtemp(fx.root));
    fx.env = kv_env_posix();
    snprintf(fx.dir, sizeof(fx.dir), "%s/db", fx.root);
    OK(kv_env_mkdir(fx.env, fx.dir));
}

static void init_owned(kv_env *env)
{
    cr_assert_not_null(env);
    fx.owned = env;
    fx.env = env;
    strcpy(fx.dir, "/db");
    OK(kv_env_mkdir(fx.env, fx.dir));
}

static void init_mem(void)
{
    init_owned(kv_env_mem_new());
}

static void init_fault(void)
{
    init_owned(kv_env_fault_new(42));
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void fini_fx(void)
{
    kv_env_free(fx.owned);
    if (fx.root[0])
        nftw(fx.root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    memset(&fx, 0, sizeof(fx));
}

/* One test per env running the same body. */
#define ENV_TEST(name)                                                                           \
    static void body_##name(void);                                                               \
    Test(posix, name, .init = init_posix, .fini = fini_fx) { body_##name(); }                    \
    Test(mem, name, .init = init_mem, .fini = fini_fx) { body_##name(); }                        \
    Test(fault, name, .init = init_fault, .fini = fini_fx) { body_##name(); }                    \
    static void body_##name(void)

#define MEM_TEST(name)                                                                           \
    static void body_##name(void);                                                               \
    Test(mem, name, .init = init_mem, .fini = fini_fx) { body_##name(); }                        \
    Test(fault, name, .init = init_fault, .fini = fini_fx) { body_##name(); }                    \
    static void body_##name(void)

/* fx.dir/leaf, in one of a few rotating buffers. */
static const char *P(const char *leaf)
{
    static char bufs[8][PATH_LEN];
    static unsigned next;
    char *b = bufs[next++ % 8];

    snprintf(b, PATH_LEN, "%s/%s", fx.dir, leaf);
    return b;
}

/* ---- the routine under test -------------------------------------------- */

static void header_bytes(uint32_t version, uint32_t nrec, uint8_t *out)
{
    memcpy(out, "KVENVT01", 8);
    memcpy(out + 8, &version, 4);
    memcpy(out + 12, &nrec, 4);
}

static void record_bytes(uint32_t version, uint32_t i, uint8_t *out)
{
    for (uint32_t j = 0; j < REC; j++)
        out[j] = (uint8_t)(version * 131 + i * 7 + j);
}

/* Replace dir/data atomically by version @p version with @p nrec records. */
static int save(const kv_env *env, const char *dir, uint32_t version, uint32_t nrec)
{
    char tmp[PATH_LEN], fin[PATH_LEN];
    uint8_t buf[REC];
    kv_file *f;
    int rc;

    snprintf(tmp, sizeof(tmp), "%s/data.tmp", dir);
    snprintf(fin, sizeof(fin), "%s/data", dir);
    rc = kv_env_open(env, tmp, KV_O_RDWR | KV_O_CREAT | KV_O_TRUNC, &f);
    if (rc != KV_OK)
        return rc;
    header_bytes(version, nrec, buf);
    rc = kv_file_pwrite(f, buf, HDR, 0);
    for (uint32_t i = 0; rc == KV_OK && i < nrec; i++) {
        record_bytes(version, i, buf);
        rc = kv_file_pwrite(f, buf, REC, HDR + (uint64_t)i * REC);
    }
    if (rc == KV_OK)
        rc = kv_file_sync(f);
    if (rc != KV_OK)
        goto out_close;
    rc = kv_file_close(f);
    if (rc == KV_OK)
        rc = kv_env_sync_dir(env, dir);
    if (rc == KV_OK)
        rc = kv_env_rename(env, tmp, fin);
    if (rc == KV_OK)
        rc = kv_env_sync_dir(env, dir);
    return rc;

out_close:
    kv_file_close(f);
    return rc;
}

/* Read a whole file (malloc'd); KV status. */
static int slurp(const kv_env *env, const char *path, uint8_t **data, uint64_t *size)
{
    kv_file *f;
    size_t got;
    int rc = kv_env_open(env, path, KV_O_RDONLY, &f);

    *data = NULL;
    if (rc != KV_OK)
        return rc;
    rc = kv_file_size(f, size);
    if (rc == KV_OK) {
        *data = malloc(*size + 1);
        cr_assert_not_null(*data);
        rc = kv_file_pread(f, *data, *size, 0, &got);
        cr_assert(rc != KV_OK || got == *size, "short read %zu of %llu", got,
                  (unsigned long long)*size);
    }
    kv_file_close(f);
    if (rc != KV_OK) {
        free(*data);
        *data = NULL;
    }
    return rc;
}

/* The version a file made by save() holds: > 0; 0 when absent; KV_ECORRUPT; another error. */
static int load_file(const kv_env *env, const char *path, uint32_t *nrec_out)
{
    uint8_t *d, want[REC];
    uint64_t size;
    uint32_t version, nrec;
    int rc = slurp(env, path, &d, &size);

    if (rc == KV_ENOTFOUND)
        return 0;
    if (rc != KV_OK)
        return rc;
    rc = KV_ECORRUPT;
    if (size < HDR || memcmp(d, "KVENVT01", 8) != 0)
        goto out_free;
    memcpy(&version, d + 8, 4);
    memcpy(&nrec, d + 12, 4);
    if (version == 0 || size != HDR + (uint64_t)nrec * REC)
        goto out_free;
    for (uint32_t i = 0; i < nrec; i++) {
        record_bytes(version, i, want);
        if (memcmp(d + HDR + (size_t)i * REC, want, REC) != 0)
            goto out_free;
    }
    if (nrec_out)
        *nrec_out = nrec;
    rc = (int)version;
out_free:
    free(d);
    return rc;
}

static int load(const kv_env *env, const char *dir, uint32_t *nrec)
{
    char fin[PATH_LEN];

    snprintf(fin, sizeof(fin), "%s/data", dir);
    return load_file(env, fin, nrec);
}

static void write_file(const char *path, const char *text, bool sync)
{
    kv_file *f;

    OK(kv_env_open(fx.env, path, KV_O_RDWR | KV_O_CREAT | KV_O_TRUNC, &f));
    OK(kv_file_pwrite(f, text, strlen(text), 0));
    if (sync)
        OK(kv_file_sync(f));
    OK(kv_file_close(f));
}

/* Assert the file's content is exactly @p text (NULL: the file is absent). */
static void expect_file(const char *path, const char *text)
{
    uint8_t *d;
    uint64_t size;
    int rc = slurp(fx.env, path, &d, &size);

    if (!text) {
        cr_assert_eq(rc, KV_ENOTFOUND, "%s should be absent: %s", path, kv_strerror(rc));
        return;
    }
    cr_assert_eq(rc, KV_OK, "%s: %s (%s)", path, kv_strerror(rc), kv_last_error());
    d[size] = 0;
    cr_assert(size == strlen(text) && !memcmp(d, text, size), "%s holds '%s', want '%s'", path,
              (char *)d, text);
    free(d);
}

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

    RC(KV_ENOTFOUND, kv_env_open(fx.env, P("missing"), KV_O_RDONLY, &f));
    cr_assert_null(f);
    cr_assert_not_null(strstr(kv_last_error(), "missing"), "detail: %s", kv_last_error());
    RC(KV_ENOTFOUND, kv_env_open(fx.env, P("nodir/x"), KV_O_RDWR | KV_O_CREAT, &f));
    write_file(P("x"), "x", false);
    RC(KV_EBUSY, kv_env_open(fx.env, P("x"), KV_O_RDWR | KV_O_CREAT | KV_O_EXCL, &f));
    RC(KV_EINVAL, kv_env_open(fx.env, P("x"), KV_O_CREAT, &f));
    RC(KV_EINVAL, kv_env_open(fx.env, P("x"), KV_O_RDWR | KV_O_EXCL, &f));
    RC(KV_EINVAL, kv_env_open(fx.env, P("x"), 64, &f));
    RC(KV_EINVAL, kv_env_open(fx.env, "", KV_O_RDONLY, &f));
    RC(KV_EINVAL, kv_env_open(NULL, P("x"), KV_O_RDONLY, &f));
    RC(KV_EIO, kv_env_open(fx.env, fx.dir, KV_O_RDWR, &f));
    RC(KV_EIO, kv_env_open(fx.env, P("x/y"), KV_O_RDWR | KV_O_CREAT, &f));
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
    RC(KV_EINVAL, kv_file_pwrite(f, "x", 1, UINT64_MAX - 1));
    RC(KV_EINVAL, kv_file_pwrite(NULL, "x", 1, 0));
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
    RC(KV_EINVAL, kv_file_pwrite(r, "x", 1, 0));
    RC(KV_EINVAL, kv_file_truncate(r, 0));
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
    RC(KV_ENOTFOUND, kv_env_mkdir(fx.env, P("a/b")));
    OK(kv_env_mkdir(fx.env, P("sub")));
    OK(kv_env_stat(fx.env, P("sub"), &size, &is_dir));
    cr_assert(is_dir && size == 0);
    write_file(P("sub/f"), "12345", false);
    RC(KV_EIO, kv_env_mkdir(fx.env, P("sub/f")));
    RC(KV_EBUSY, kv_env_rmdir(fx.env, P("sub")));
    RC(KV_ENOTFOUND, kv_env_rmdir(fx.env, P("nope")));
    RC(KV_ENOTFOUND, kv_env_unlink(fx.env, P("nope")));
    RC(KV_ENOTFOUND, kv_env_rename(fx.env, P("nope"), P("x")));
    RC(KV_ENOTFOUND, kv_env_stat(fx.env, P("nope"), &size, &is_dir));
    cr_assert(size == 0 && !is_dir);
    write_file(P("other"), "old", false);
    OK(kv_env_rename(fx.env, P("sub/f"), P("other"))); /* replaces */
    expect_file(P("other"), "12345");
    expect_file(P("sub/f"), NULL);
    OK(kv_env_rmdir(fx.env, P("sub")));
    RC(KV_ENOTFOUND, kv_env_stat(fx.env, P("sub"), NULL, NULL));
    OK(kv_env_unlink(fx.env, P("other")));
    expect_file(P("other"), NULL);
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
    RC(KV_ENOTFOUND, kv_env_stat(fx.env, P("u"), NULL, NULL));
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
    RC(KV_ENOTFOUND, kv_env_list(fx.env, P("nope"), &names, &n));
    cr_assert(names == NULL && n == 0);
    RC(KV_EIO, kv_env_list(fx.env, P("a"), &names, &n));
}

ENV_TEST(lock_within_process)
{
    kv_file *a, *b;

    write_file(P("LOCK"), "", false);
    OK(kv_env_open(fx.env, P("LOCK"), KV_O_RDWR, &a));
    OK(kv_env_open(fx.env, P("LOCK"), KV_O_RDWR, &b));
    OK(kv_file_lock(a));
    OK(kv_file_lock(a)); /* the holder may lock again */
    RC(KV_EBUSY, kv_file_lock(b));
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
    RC(KV_EINVAL, kv_file_pread(f, NULL, 4, 0, &got)); /* rejected: not counted */
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
    RC(KV_EINVAL, kv_file_mmap(f, 1, page, false, &addr));
    RC(KV_EINVAL, kv_file_mmap(f, 2 * page, page, false, &addr));
    RC(KV_EINVAL, kv_file_mmap(f, 0, 0, false, &addr));
    OK(kv_file_close(f));
    OK(kv_env_open(fx.env, P("m"), KV_O_RDONLY, &f));
    RC(KV_EINVAL, kv_file_mmap(f, 0, page, true, &addr));
    OK(kv_file_mmap(f, 0, page, false, &addr));
    OK(kv_file_munmap(f, addr, page));
    OK(kv_file_close(f));
    cr_assert_str_eq(kv_env_name(fx.env), "posix");
}

Test(posix, error_detail_names_call_path_errno, .init = init_posix, .fini = fini_fx)
{
    RC(KV_ENOTFOUND, kv_env_rename(fx.env, P("absent"), P("b")));
    cr_assert_not_null(strstr(kv_last_error(), "rename"), "%s", kv_last_error());
    cr_assert_not_null(strstr(kv_last_error(), P("absent")), "%s", kv_last_error());
    cr_assert_not_null(strstr(kv_last_error(), "No such file"), "%s", kv_last_error());
    /* fault control calls are ignored by the posix env */
    kv_env_fault_crash((kv_env *)fx.env, KV_CRASH_DROP);
    cr_assert(!kv_env_fault_crashed(fx.env));
    RC(KV_ENOTSUP, kv_env_fault_flip((kv_env *)fx.env, P("x"), 0, 0));
}

/* ---- mem and fault ---------------------------------------------------- */

MEM_TEST(mmap_unsupported)
{
    kv_file *f;
    void *addr;

    write_file(P("m"), "0123456789", false);
    OK(kv_env_open(fx.env, P("m"), KV_O_RDWR, &f));
    RC(KV_ENOTSUP, kv_file_mmap(f, 0, 4096, false, &addr));
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
    RC(KV_EIO, kv_env_unlink(fx.env, "/"));
    RC(KV_EBUSY, kv_env_rmdir(fx.env, "/"));
}

MEM_TEST(rename_directory)
{
    OK(kv_env_mkdir(fx.env, P("d")));
    write_file(P("d/f"), "in d", false);
    RC(KV_EINVAL, kv_env_rename(fx.env, P("d"), P("d/e")));
    OK(kv_env_mkdir(fx.env, P("full")));
    write_file(P("full/x"), "", false);
    RC(KV_EBUSY, kv_env_rename(fx.env, P("d"), P("full")));
    OK(kv_env_mkdir(fx.env, P("empty")));
    OK(kv_env_rename(fx.env, P("d"), P("empty")));
    expect_file(P("empty/f"), "in d");
    RC(KV_ENOTFOUND, kv_env_stat(fx.env, P("d"), NULL, NULL));
    RC(KV_EIO, kv_env_rename(fx.env, P("full/x"), P("empty")));
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
    RC(KV_ENOTFOUND, kv_env_mkdir_durable(fx.env, P("nodir/store")));
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
        RC(KV_EIO, save(fx.env, fx.dir, 2, NNEW));
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
        RC(KV_EIO, save(fx.env, fx.dir, 2, NNEW));
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
    RC(KV_EFULL, save(fx.env, fx.dir, 2, NNEW));
    cr_assert_eq(load(fx.env, fx.dir, NULL), 1);
    OK(kv_env_stat(fx.env, P("data.tmp"), &size, NULL));
    cr_assert_eq(size, HDR + 2 * REC);
    OK(kv_env_open(fx.env, P("data.tmp"), KV_O_RDWR, &f));
    RC(KV_EFULL, kv_file_truncate(f, 1000));
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
    RC(KV_EIO, save(fx.env, fx.dir, 2, NNEW));
    RC(KV_ENOTFOUND, kv_env_stat(fx.env, P("data.tmp"), NULL, NULL));
    cr_assert_eq(load(fx.env, fx.dir, NULL), 1);
    kv_env_fault_fail(fx.owned, KV_FAULT_RENAME, 1, 1, KV_EIO);
    RC(KV_EIO, save(fx.env, fx.dir, 2, NNEW));
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
        RC(want[i], kv_file_pwrite(f, "x", 1, (uint64_t)i));
    kv_env_fault_fail(fx.owned, KV_FAULT_TRUNCATE, 1, 0, KV_EIO); /* forever */
    for (int i = 0; i < 3; i++)
        RC(KV_EIO, kv_file_truncate(f, 0));
    kv_env_fault_fail(fx.owned, KV_FAULT_TRUNCATE, 0, 0, 0); /* clears */
    OK(kv_file_truncate(f, 0));
    kv_env_fault_fail(fx.owned, KV_FAULT_ANY, 3, 1, KV_EIO); /* the third call of any kind */
    OK(kv_file_pwrite(f, "a", 1, 0));
    OK(kv_file_sync(f));
    RC(KV_EIO, kv_env_unlink(fx.env, P("nope")));
    RC(KV_ENOTFOUND, kv_env_unlink(fx.env, P("nope")));
    kv_env_fault_fail(fx.owned, KV_FAULT_UNLINK, 1, 1, KV_EIO);
    RC(KV_EIO, kv_env_rmdir(fx.env, P("nope")));
    kv_env_fault_fail(fx.owned, KV_FAULT_READ, 1, 1, KV_EIO);
    char c;
    size_t got;
    RC(KV_EIO, kv_file_pread(f, &c, 1, 0, &got));
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
    RC(KV_EIO, kv_file_pwrite(f, "abc", 3, 0));
    RC(KV_EIO, kv_file_sync(f));
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
    RC(KV_ENOTFOUND, kv_env_stat(fx.env, P("gone"), NULL, NULL));
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
    RC(KV_EIO, kv_file_pread(f, &c, 1, 0, &got));
    RC(KV_EIO, kv_file_pwrite(f, "x", 1, 0));
    RC(KV_EIO, kv_file_sync(f));
    RC(KV_EIO, kv_file_size(f, &size));
    RC(KV_EIO, kv_file_truncate(f, 0));
    RC(KV_EIO, kv_file_lock(f));
    RC(KV_EIO, kv_env_open(fx.env, P("f"), KV_O_RDONLY, &g));
    RC(KV_EIO, kv_env_stat(fx.env, P("f"), NULL, NULL));
    RC(KV_EIO, kv_env_list(fx.env, fx.dir, &names, &n));
    RC(KV_EIO, kv_env_mkdir(fx.env, P("d")));
    RC(KV_EIO, kv_env_sync_dir(fx.env, fx.dir));
    RC(KV_EIO, kv_env_rename(fx.env, P("f"), P("g")));
    RC(KV_EIO, kv_env_unlink(fx.env, P("f")));
    kv_env_fault_reboot(fx.owned);
    /* a handle of the old life still fails, but closes; the lock died with it */
    RC(KV_EIO, kv_file_pread(f, &c, 1, 0, &got));
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
    RC(KV_EINVAL, kv_env_fault_flip(fx.owned, P("f"), 5, 0));
    RC(KV_EINVAL, kv_env_fault_flip(fx.owned, P("f"), 0, 8));
    RC(KV_ENOTFOUND, kv_env_fault_flip(fx.owned, P("nope"), 0, 0));
    RC(KV_EINVAL, kv_env_fault_flip(fx.owned, fx.dir, 0, 0));
    cr_assert_str_eq(kv_env_name(fx.env), "fault");
}
