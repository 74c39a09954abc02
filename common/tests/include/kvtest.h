/*
 * kvtest.h — the test kit every lab's tests share (issue 12).
 *
 * What it is: the helpers the labs' tests used to copy, once:
 *
 *   OK(call)            the call returns KV_OK; on failure the message names
 *                       the call, the status and kv_last_error()
 *   RC(call, want)      the call returns status `want` (the call first, as in
 *                       cr_assert_eq(actual, expected); every lab uses this
 *                       one order)
 *   DETAIL_HAS(sub)     kv_last_error() contains `sub`
 *   NO_LEAKS()          under AddressSanitizer, fail the test now if memory
 *                       leaked (Criterion 2.4 does not fail a test whose
 *                       process leaks at exit); elsewhere nothing
 *   kvt_rmrf(path)      remove a file or a directory tree (no error if absent)
 *   kvt_tmpdir(tag)     this process's scratch directory, made on first use
 *                       under $TMPDIR (or /tmp) as <tag>-XXXXXX and removed
 *                       at exit; kvt_tmpdir_under(base, tag) picks the base
 *                       (shared memory: /dev/shm)
 *   kvt_path(slot, leaf) "<tmpdir>/<leaf>" in one of 4 static buffers
 *   kvt_crc32c_ref()    CRC32C bit by bit, straight from the definition: the
 *                       independent reference the fast paths are checked
 *                       against
 *   kvt_fill(buf, n, seed)  n pseudo-random bytes from kv_splitmix64 (the
 *                       generator of kvlabs/rng.h, not a copy of it)
 *   kvt_own(p, fn)      the test owns object p: kvt_release_owned() frees it
 *                       with fn(p) unless kvt_disown(p) or kvt_drop(p) (free
 *                       it now) came first. A suite
 *                       that declares TestSuite(name, .fini =
 *                       kvt_release_owned) frees what a failed assertion left
 *                       behind (Criterion runs a suite's .fini after each of
 *                       its tests, passed or failed), so a failing test
 *                       reports its failure and no leak
 *   KVT_OWN_STORES      defined before the include: every store kv_open()
 *                       or kv_open_env() opens is owned (kv_close() forgets
 *                       it), for suites with .fini = kvt_release_owned
 *   kvt_file_close_owned, kvt_iter_close_owned, kvt_buf_free_owned
 *                       kv_file_close(), kv_iter_close() and kv_buf_free()
 *                       as the fn of kvt_own(): an open file, an iterator,
 *                       the bytes of a kv_buf (a static one: see below)
 *
 * How it works: everything is a macro or a static inline function, so a
 * test binary (one .c file) takes what it uses and nothing more. The build
 * puts common/tests/include on every lab's include path
 * (common/mk/rules.mk). A plain test program (no Criterion) defines
 * KVTEST_PLAIN before including it and gets the helpers without the
 * Criterion assertions.
 *
 * What callers must not do: call kvt_tmpdir() with different tags in one
 * process (the first tag wins: there is one scratch directory a process),
 * or keep a kvt_path() result across four later calls (the buffers rotate).
 * Test file I/O that tests an engine goes through kv_env like the engines';
 * these helpers set up and clean up around it.
 */
#ifndef KVLABS_KVTEST_H
#define KVLABS_KVTEST_H

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvlabs/env.h"
#include "kvlabs/error.h"
#include "kvlabs/kv.h"
#include "kvlabs/rng.h"

#ifndef KVTEST_PLAIN
#include <criterion/criterion.h>
#include "kv_assert.h" /* cr_assert_eq/neq saying both values */
#endif

/* ---- leaks ---------------------------------------------------------------- */

#if defined(__SANITIZE_ADDRESS__)
#define KVTEST_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KVTEST_LSAN 1
#endif
#endif
#ifdef KVTEST_LSAN
#include <sanitizer/lsan_interface.h>
/** Nonzero when LeakSanitizer finds memory leaked so far (0 without ASan). */
#define KVT_LEAKED() __lsan_do_recoverable_leak_check()
#else
#define KVT_LEAKED() 0
#endif

#ifndef KVTEST_PLAIN
#define NO_LEAKS() cr_assert_eq(KVT_LEAKED(), 0, "memory leaked (LeakSanitizer report above)")

/* ---- statuses --------------------------------------------------------------- */

#define RC(call, want)                                                                             \
    do {                                                                                           \
        int kvt_rc_ = (call), kvt_want_ = (want);                                                  \
        cr_assert_eq(kvt_rc_, kvt_want_, "%s: got %d (%s), want %d (%s); detail: %s", #call,       \
                     kvt_rc_, kv_strerror(kvt_rc_), kvt_want_, kv_strerror(kvt_want_),             \
                     kv_last_error());                                                             \
    } while (0)
#define OK(call) RC(call, KV_OK)

#define DETAIL_HAS(sub)                                                                            \
    cr_assert(strstr(kv_last_error(), (sub)) != NULL, "detail '%s' lacks '%s'", kv_last_error(),   \
              (sub))
#endif /* KVTEST_PLAIN */

/* ---- files -------------------------------------------------------------------- */

/** Remove @p path: a file, or a directory and everything under it. Absent: nothing. */
static inline void kvt_rmrf(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;

    if (lstat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    d = opendir(path);
    if (d) {
        while ((e = readdir(d)) != NULL) {
            char sub[4096];
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) >= sizeof(sub))
                continue;
            kvt_rmrf(sub);
        }
        closedir(d);
    }
    rmdir(path);
}

static inline char *kvt_dir_buf_(void)
{
    static char dir[512];
    return dir;
}

static inline void kvt_dir_remove_(void)
{
    char *d = kvt_dir_buf_();

    if (d[0])
        kvt_rmrf(d);
    d[0] = '\0';
}

/**
 * This process's scratch directory: made on first use as
 * <base>/<tag>-XXXXXX (@p base NULL or empty: $TMPDIR, else /tmp), removed
 * at exit. Aborts the process when it cannot be made (a test cannot run).
 */
static inline const char *kvt_tmpdir_under(const char *base, const char *tag)
{
    char *d = kvt_dir_buf_();

    if (!d[0]) {
        const char *t = base && *base ? base : getenv("TMPDIR");
        snprintf(d, 512, "%s/%s-XXXXXX", t && *t ? t : "/tmp", tag);
        if (!mkdtemp(d)) {
            fprintf(stderr, "kvtest: mkdtemp %s: %s\n", d, strerror(errno));
            abort();
        }
        atexit(kvt_dir_remove_);
    }
    return d;
}

/** kvt_tmpdir_under(NULL, @p tag): the scratch directory under $TMPDIR or /tmp. */
static inline const char *kvt_tmpdir(const char *tag)
{
    return kvt_tmpdir_under(NULL, tag);
}

/** Remove the scratch directory now (the next kvt_tmpdir() makes a new one). */
static inline void kvt_tmpdir_done(void)
{
    kvt_dir_remove_();
}

/** "<scratch dir>/<leaf>" in static buffer @p slot (0..3); the dir must exist. */
static inline const char *kvt_path(int slot, const char *leaf)
{
    static char buf[4][1024];
    const char *d = kvt_dir_buf_();

    slot &= 3;
    snprintf(buf[slot], sizeof(buf[slot]), "%s/%s", d[0] ? d : ".", leaf);
    return buf[slot];
}

/* ---- references ------------------------------------------------------------ */

/** CRC32C (Castagnoli, reflected 0x82F63B78) bit by bit, continuing from @p crc. */
static inline uint32_t kvt_crc32c_ref(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *b = p;
    uint32_t c = ~crc;

    for (size_t i = 0; i < n; i++) {
        c ^= b[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
    }
    return ~c;
}

/** Fill @p buf with @p n bytes of kv_splitmix64 output seeded with @p seed. */
static inline void kvt_fill(void *buf, size_t n, uint64_t seed)
{
    unsigned char *b = buf;

    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)kv_splitmix64(&seed);
}

/* ---- objects a failed assertion must not leak --------------------------------- */

/** How many objects one test may own at a time (kvt_own() aborts beyond it). */
#define KVT_OWN_MAX 16

/** A function that frees an owned object (a wrapper of the lab's destroy). */
typedef void (*kvt_free_fn)(void *p);

struct kvt_owned_ {
    void *p;
    kvt_free_fn fn;
};

static inline struct kvt_owned_ *kvt_owned_tab_(void)
{
    static struct kvt_owned_ tab[KVT_OWN_MAX];
    return tab;
}

/**
 * Own @p p until the test ends: kvt_release_owned() calls @p fn on it
 * unless kvt_disown(p) came first. Returns @p p (NULL: nothing owned).
 * The usual pattern: t = kvt_own(make(), free_wrapper); ...; kvt_disown(t);
 * destroy(t); with TestSuite(suite, .fini = kvt_release_owned).
 */
static inline void *kvt_own(void *p, kvt_free_fn fn)
{
    struct kvt_owned_ *tab = kvt_owned_tab_();

    int top = KVT_OWN_MAX; /* one past the newest owned object */

    if (!p)
        return NULL;
    while (top > 0 && !tab[top - 1].p)
        top--;
    if (top == KVT_OWN_MAX) { /* full to the end: close the holes, in order */
        int n = 0;
        for (int i = 0; i < KVT_OWN_MAX; i++)
            if (tab[i].p)
                tab[n++] = tab[i];
        for (int i = n; i < KVT_OWN_MAX; i++)
            tab[i].p = NULL;
        top = n;
    }
    /* Always after the newest, never in an older hole: kvt_release_owned()
     * frees from the end, so an object made after another (a store on an
     * env, an iterator on a store) is freed before it. */
    if (top < KVT_OWN_MAX) {
        tab[top].p = p;
        tab[top].fn = fn;
        return p;
    }
    fprintf(stderr, "kvtest: kvt_own: more than %d objects owned at once\n", KVT_OWN_MAX);
    abort();
}

/** Forget @p p (the test frees it itself); no effect when it is not owned. */
static inline void kvt_disown(const void *p)
{
    struct kvt_owned_ *tab = kvt_owned_tab_();

    for (int i = 0; p && i < KVT_OWN_MAX; i++)
        if (tab[i].p == p)
            tab[i].p = NULL;
}

/**
 * Free owned object @p p now, with the function it was owned with, and
 * forget it. Returns 1, or 0 when @p p was not owned (nothing done).
 */
static inline int kvt_drop(void *p)
{
    struct kvt_owned_ *tab = kvt_owned_tab_();

    for (int i = 0; p && i < KVT_OWN_MAX; i++)
        if (tab[i].p == p) {
            tab[i].p = NULL;
            tab[i].fn(p);
            return 1;
        }
    return 0;
}

/*
 * KVT_OWN_STORES: a test file that defines it before including this kit
 * has every store and in-memory env it opens owned: kv_open() and
 * kv_open_env() own the store they open, kv_env_mem_new() and
 * kv_env_fault_new() the env they make, kv_close() and kv_env_free()
 * forget it first, so a suite's .fini = kvt_release_owned closes and frees
 * what a failed assertion left (stores before their envs: newest first).
 * A test must then not leave a store open on an env it frees.
 */
static inline void kvt_close_owned_(void *db)
{
    kv_close(db);
}

static inline int kvt_opened_(int rc, kv_db **db)
{
    if (rc == KV_OK && db && *db)
        kvt_own(*db, kvt_close_owned_);
    return rc;
}

static inline int kvt_close_(kv_db *db)
{
    kvt_disown(db);
    return kv_close(db);
}

static inline void kvt_env_free_owned_(void *env)
{
    kv_env_free(env);
}

static inline void kvt_env_free_(kv_env *env)
{
    kvt_disown(env);
    kv_env_free(env);
}

#ifdef KVT_OWN_STORES
#define kv_open(engine, path, opts, db) kvt_opened_(kv_open((engine), (path), (opts), (db)), (db))
#define kv_open_env(engine, path, opts, env, db)                                                   \
    kvt_opened_(kv_open_env((engine), (path), (opts), (env), (db)), (db))
#define kv_close(db) kvt_close_(db)
#define kv_env_mem_new() ((kv_env *)kvt_own(kv_env_mem_new(), kvt_env_free_owned_))
#define kv_env_fault_new(seed) ((kv_env *)kvt_own(kv_env_fault_new(seed), kvt_env_free_owned_))
#define kv_env_free(env) kvt_env_free_(env)
#endif

/*
 * Free functions of the common objects a test opens, for kvt_own(): an
 * open file (f = kvt_own(f, kvt_file_close_owned); close it with
 * kvt_drop(f), or kvt_disown(f) before a call that takes it), an iterator
 * of a store, and the bytes of a kv_buf. A kv_buf owned this way must not
 * live on the test's stack: a failed assertion leaves the test function
 * before the suite's .fini runs, so declare it static (kv_buf_free()
 * leaves it empty, so owning it again, or twice, is harmless).
 */
/** kv_file_close() as a kvt_free_fn. */
static inline void kvt_file_close_owned(void *f)
{
    kv_file_close(f);
}

/** kv_iter_close() as a kvt_free_fn. */
static inline void kvt_iter_close_owned(void *it)
{
    kv_iter_close(it);
}

/** kv_buf_free() as a kvt_free_fn (the kv_buf static, never on the test's stack). */
static inline void kvt_buf_free_owned(void *b)
{
    kv_buf_free(b);
}

/** Free every object still owned, newest first (a suite's .fini). */
static inline void kvt_release_owned(void)
{
    struct kvt_owned_ *tab = kvt_owned_tab_();

    for (int i = KVT_OWN_MAX - 1; i >= 0; i--)
        if (tab[i].p) {
            void *p = tab[i].p;
            tab[i].p = NULL;
            tab[i].fn(p);
        }
}

#endif /* KVLABS_KVTEST_H */
