/*
 * peers_smoke.c — a plain (non-Criterion) smoke test of the four peer
 * adapters: leveldb, rocksdb, lmdb and sqlite, each reached by name through
 * kv_open() like kvbench reaches them.
 *
 * For each engine: put/get/overwrite/delete/missing, the empty value,
 * binary keys with NUL bytes, ordered iteration with seeks over 1000 random
 * binary keys compared with the expected order, close and reopen, stats
 * (disk_bytes > 0; exact keys/bytes with exact_stats=true), a bad option
 * (KV_EINVAL naming it), a non-POSIX env (KV_ENOTSUP), a second opener
 * (KV_EBUSY, or shared for the KV_CAP_MULTIPROC peers), garbage in the
 * store's key file (KV_ECORRUPT at open), two threads writing disjoint keys,
 * the batch writers of lmdb and sqlite, sync=always, and mode= under umask 0:
 * every peer's new directory is 0700 (0750 with mode=0640); lmdb's and
 * sqlite's files are 0600 (0640), leveldb's and rocksdb's are not checked
 * (their libraries create files 0644 less the umask: see README.md).
 *
 * Prints "ok N - ..." or "not ok N - ..." per check and ends with exactly
 * one line "N passed, N failed"; exits non-zero when a check failed.
 * Usage: peers_smoke [engine...]   (default: all four)
 */
#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvlabs/env.h"
#include "kvlabs/kv.h"
#define KVTEST_PLAIN /* the helpers only: this is a plain program */
#include "kvtest.h"

static unsigned passed, failed;

static bool check(bool ok, const char *engine, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool check(bool ok, const char *engine, const char *fmt, ...)
{
    va_list ap;

    printf("%s %u - %s: ", ok ? "ok" : "not ok", passed + failed + 1, engine);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (!ok)
        printf(" (last error: %s)", kv_last_error());
    printf("\n");
    fflush(stdout);
    if (ok)
        passed++;
    else
        failed++;
    return ok;
}

static bool buf_is(const kv_buf *b, const void *p, size_t n)
{
    return b->len == n && (n == 0 || !memcmp(b->data, p, n));
}

/* ---- deterministic random keys -------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    return kv_splitmix64(&rng_state); /* kvlabs/rng.h, through kvtest.h */
}

struct key {
    unsigned char b[24];
    size_t n;
};

static int raw_cmp(const void *a, size_t na, const void *b, size_t nb)
{
    int c = memcmp(a, b, na < nb ? na : nb);

    return c ? c : na < nb ? -1 : na > nb;
}

static int key_cmp(const void *a, const void *b)
{
    const struct key *x = a, *y = b;

    return raw_cmp(x->b, x->n, y->b, y->n);
}

/* n distinct keys, sorted: 1..24 bytes, heavy on 0x00 and 0xff. */
static struct key *make_keys(size_t n)
{
    struct key *k = calloc(n, sizeof(*k));
    size_t have = 0;

    while (have < n) {
        struct key c = {.n = 1 + rnd() % 24};
        bool dup = false;
        for (size_t i = 0; i < c.n; i++) {
            uint64_t x = rnd() % 6;
            c.b[i] = x == 0 ? 0x00 : x == 1 ? 0xff : (unsigned char)rnd();
        }
        for (size_t i = 0; i < have && !dup; i++)
            dup = key_cmp(&k[i], &c) == 0;
        if (!dup)
            k[have++] = c;
    }
    qsort(k, n, sizeof(*k), key_cmp);
    return k;
}

static size_t val_of(const struct key *k, size_t i, unsigned char *out)
{
    size_t n = i % 7 == 0 ? 0 : 1 + (i * 13) % 100;

    for (size_t j = 0; j < n; j++)
        out[j] = (unsigned char)(k->b[j % k->n] + i + j);
    return n;
}

/* ---- the checks -------------------------------------------------------------- */

static void basic_ops(const char *e, kv_db *db)
{
    kv_buf v = {0};

    check(kv_put(db, "alpha", 5, "one", 3) == KV_OK, e, "put");
    check(kv_get(db, "alpha", 5, &v) == KV_OK && buf_is(&v, "one", 3), e, "get after put");
    check(kv_put(db, "alpha", 5, "two-longer", 10) == KV_OK, e, "overwrite");
    check(kv_get(db, "alpha", 5, &v) == KV_OK && buf_is(&v, "two-longer", 10), e,
          "get after overwrite");
    check(kv_put(db, "alpha", 5, "3", 1) == KV_OK && kv_get(db, "alpha", 5, &v) == KV_OK &&
              buf_is(&v, "3", 1),
          e, "overwrite with a shorter value");
    check(kv_get(db, "beta", 4, &v) == KV_ENOTFOUND && v.len == 0, e, "missing key: KV_ENOTFOUND");
    check(kv_get(db, "alph", 4, NULL) == KV_ENOTFOUND, e, "a prefix of a key is missing");
    check(kv_delete(db, "alpha", 5) == KV_OK, e, "delete");
    check(kv_get(db, "alpha", 5, &v) == KV_ENOTFOUND, e, "get after delete");
    check(kv_delete(db, "alpha", 5) == KV_ENOTFOUND, e, "delete again: KV_ENOTFOUND");
    check(kv_delete(db, "never", 5) == KV_ENOTFOUND, e, "delete of a never-written key");
    check(kv_put(db, "empty", 5, NULL, 0) == KV_OK, e, "put an empty value");
    check(kv_get(db, "empty", 5, &v) == KV_OK && v.len == 0, e, "empty value reads back empty");
    check(kv_get(db, "empty", 5, NULL) == KV_OK, e, "existence test of the empty value");
    check(kv_put(db, "", 0, "x", 1) == KV_EINVAL, e, "empty key: KV_EINVAL");
    kv_buf_free(&v);
}

static void binary_keys(const char *e, kv_db *db)
{
    static const struct {
        const char *k;
        size_t n;
    } keys[] = {{"a", 1},    {"a\0", 2},  {"a\0b", 3},  {"\0", 1},
                {"\0\0", 2}, {"\xff", 1}, {"a\xff", 2}, {"b\0\0\0", 4}};
    size_t n = sizeof(keys) / sizeof(keys[0]);
    kv_buf v = {0};
    bool ok = true;

    for (size_t i = 0; i < n; i++) {
        char val[8];
        snprintf(val, sizeof(val), "v%zu", i);
        ok &= kv_put(db, keys[i].k, keys[i].n, val, strlen(val)) == KV_OK;
    }
    check(ok, e, "put %zu binary keys with NUL and 0xff bytes", n);
    ok = true;
    for (size_t i = 0; i < n; i++) {
        char val[8];
        snprintf(val, sizeof(val), "v%zu", i);
        ok &= kv_get(db, keys[i].k, keys[i].n, &v) == KV_OK && buf_is(&v, val, strlen(val));
    }
    check(ok, e, "binary keys read back, each distinct from its prefixes");
    check(kv_get(db, "a\0c", 3, NULL) == KV_ENOTFOUND, e, "a\\0c is missing");
    kv_buf_free(&v);
}

/* Iterate from the current position: must give k[from..n) exactly. */
static bool iter_matches(kv_iter *it, const struct key *k, size_t from, size_t n, size_t steps)
{
    unsigned char want[128];

    for (size_t i = from; i < n && i < from + steps; i++) {
        const void *kp, *vp;
        size_t kl, vl, wl;
        if (!kv_iter_valid(it))
            return false;
        kv_iter_key(it, &kp, &kl);
        kv_iter_value(it, &vp, &vl);
        wl = val_of(&k[i], i, want);
        if (kl != k[i].n || memcmp(kp, k[i].b, kl) || vl != wl || (wl && memcmp(vp, want, wl)))
            return false;
        kv_iter_next(it);
    }
    return from + steps < n || (!kv_iter_valid(it) && kv_iter_status(it) == KV_OK);
}

static void ordered(const char *e, kv_db *db, const struct key *k, size_t n)
{
    size_t *perm = malloc(n * sizeof(*perm));
    unsigned char val[128];
    kv_iter *it;
    bool ok = true;
    size_t seeks = 0, seeks_ok = 0;

    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = rnd() % i, t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
    for (size_t i = 0; i < n && ok; i++)
        ok =
            kv_put(db, k[perm[i]].b, k[perm[i]].n, val, val_of(&k[perm[i]], perm[i], val)) == KV_OK;
    free(perm);
    check(ok, e, "put %zu random binary keys in random order", n);
    if (!check(kv_iter_open(db, &it) == KV_OK, e, "kv_iter_open"))
        return;
    kv_iter_first(it);
    check(iter_matches(it, k, 0, n, n), e, "iteration from first: all %zu keys in memcmp order", n);
    for (size_t t = 0; t < 100; t++) {
        size_t i = rnd() % n;
        struct key mid = k[i];
        seeks++;
        kv_iter_seek(it, k[i].b, k[i].n);
        seeks_ok += iter_matches(it, k, i, n, 3);
        /* k[i] + "\0" lies strictly between k[i] and k[i+1] unless it is k[i+1] */
        if (mid.n < sizeof(mid.b) && i + 1 < n) {
            mid.b[mid.n++] = 0;
            if (key_cmp(&mid, &k[i + 1]) < 0) {
                seeks++;
                kv_iter_seek(it, mid.b, mid.n);
                seeks_ok += iter_matches(it, k, i + 1, n, 3);
            }
        }
    }
    check(seeks_ok == seeks, e, "%zu of %zu seeks land on the first key >= the target", seeks_ok,
          seeks);
    /* seek keys longer than any stored key (and than lmdb's 511-byte max_key) */
    seeks = seeks_ok = 0;
    for (size_t t = 0; t < 20; t++) {
        unsigned char big[640];
        size_t i = rnd() % n, j = 0, bl = k[i].n + 600;
        memcpy(big, k[i].b, k[i].n);
        memset(big + k[i].n, t % 2 ? 0x00 : 0xff, 600);
        while (j < n && raw_cmp(k[j].b, k[j].n, big, bl) < 0)
            j++;
        seeks++;
        kv_iter_seek(it, big, bl);
        seeks_ok += iter_matches(it, k, j, n, 3);
    }
    check(seeks_ok == seeks, e, "%zu of %zu seeks with 600+-byte keys land right", seeks_ok, seeks);
    {
        struct key past = k[n - 1];
        past.b[past.n++] = 0;
        kv_iter_seek(it, past.b, past.n);
        check(!kv_iter_valid(it) && kv_iter_status(it) == KV_OK, e, "seek past the last key");
    }
    kv_iter_seek(it, NULL, 0);
    check(iter_matches(it, k, 0, n, n), e, "seek with klen 0 starts at the first key");
    kv_iter_close(it);
}

static void persisted(const char *e, kv_db *db, const struct key *k, size_t n)
{
    unsigned char want[128];
    kv_buf v = {0};
    kv_iter *it;
    bool ok = true;

    for (size_t i = 0; i < n && ok; i++) {
        size_t wl = val_of(&k[i], i, want);
        ok = kv_get(db, k[i].b, k[i].n, &v) == KV_OK && buf_is(&v, want, wl);
    }
    check(ok, e, "after close and reopen: all %zu keys read back", n);
    if (kv_iter_open(db, &it) == KV_OK) {
        kv_iter_first(it);
        check(iter_matches(it, k, 0, n, n), e, "after reopen: iteration still exact");
        kv_iter_close(it);
    }
    kv_buf_free(&v);
}

struct writer {
    kv_db *db;
    int id, n;
    bool ok;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;

    w->ok = true;
    for (int i = 0; i < w->n && w->ok; i++) {
        char key[32], val[32];
        int kl = snprintf(key, sizeof(key), "t%d-%06d", w->id, i);
        int vl = snprintf(val, sizeof(val), "value %d of thread %d", i, w->id);
        w->ok = kv_put(w->db, key, (size_t)kl, val, (size_t)vl) == KV_OK;
        if (w->ok && i % 10 == 0)
            w->ok = kv_get(w->db, key, (size_t)kl, NULL) == KV_OK;
        if (w->ok && i % 50 == 49) {
            kl = snprintf(key, sizeof(key), "t%d-%06d", w->id, i - 49);
            w->ok = kv_delete(w->db, key, (size_t)kl) == KV_OK;
        }
    }
    return NULL;
}

static void threads(const char *e, const char *path, const char *options)
{
    enum { NW = 2, PER = 2000 };
    struct writer w[NW];
    pthread_t th[NW];
    kv_db *db;
    kv_buf v = {0};
    bool ok = true;
    size_t count = 0;
    kv_iter *it;

    if (!check(kv_open(e, path, options, &db) == KV_OK, e, "open for threads (%s)", options))
        return;
    for (int t = 0; t < NW; t++) {
        w[t] = (struct writer){.db = db, .id = t, .n = PER};
        pthread_create(&th[t], NULL, writer_main, &w[t]);
    }
    for (int t = 0; t < NW; t++) {
        pthread_join(th[t], NULL);
        ok &= w[t].ok;
    }
    check(ok, e, "two threads wrote %d disjoint keys each (%s)", PER, options);
    ok = true;
    for (int t = 0; t < NW && ok; t++)
        for (int i = 0; i < PER && ok; i++) {
            char key[32], val[32];
            int kl = snprintf(key, sizeof(key), "t%d-%06d", t, i);
            int vl = snprintf(val, sizeof(val), "value %d of thread %d", i, t);
            int rc = kv_get(db, key, (size_t)kl, &v);
            ok = i % 50 == 0 ? rc == KV_ENOTFOUND : rc == KV_OK && buf_is(&v, val, (size_t)vl);
        }
    check(ok, e, "every thread's final state reads back (%s)", options);
    if (kv_iter_open(db, &it) == KV_OK) {
        for (kv_iter_first(it); kv_iter_valid(it); kv_iter_next(it))
            count++;
        kv_iter_close(it);
    }
    check(count == NW * (PER - PER / 50), e, "iteration counts %zu keys, want %d (%s)", count,
          NW * (PER - PER / 50), options);
    check(kv_close(db) == KV_OK, e, "close after threads");
    kv_buf_free(&v);
}

/* lmdb batch=N / sqlite batch=N: reads see the open batch; reopen keeps it. */
static void batched(const char *e, const char *path, const char *options)
{
    kv_db *db;
    kv_buf v = {0};
    kv_iter *it;
    size_t count = 0;
    bool ok = true;

    if (!check(kv_open(e, path, options, &db) == KV_OK, e, "open with %s", options))
        return;
    for (int i = 0; i < 100 && ok; i++) {
        char key[16];
        int kl = snprintf(key, sizeof(key), "b%03d", i);
        ok = kv_put(db, key, (size_t)kl, key, (size_t)kl) == KV_OK;
        if (ok && i % 9 == 0)
            ok = kv_get(db, key, (size_t)kl, &v) == KV_OK && buf_is(&v, key, (size_t)kl);
    }
    check(ok, e, "100 puts, each 9th read back at once (%s)", options);
    check(kv_delete(db, "b050", 4) == KV_OK && kv_delete(db, "b050", 4) == KV_ENOTFOUND, e,
          "delete inside a batch, then KV_ENOTFOUND (%s)", options);
    if (kv_iter_open(db, &it) == KV_OK) {
        for (kv_iter_first(it); kv_iter_valid(it); kv_iter_next(it))
            count++;
        kv_iter_close(it);
    }
    check(count == 99, e, "iteration sees the batch: %zu keys (%s)", count, options);
    check(kv_close(db) == KV_OK, e, "close (%s)", options);
    ok = kv_open(e, path, options, &db) == KV_OK;
    check(ok && kv_get(db, "b099", 4, NULL) == KV_OK && kv_get(db, "b050", 4, NULL) == KV_ENOTFOUND,
          e, "after reopen the batch is there (%s)", options);
    if (ok)
        kv_close(db);
    kv_buf_free(&v);
}

static void bad_options(const char *e, const char *path, const char *bad_value, const char *name)
{
    kv_db *db = NULL;
    int rc = kv_open(e, path, "no_such_option_q=1", &db);
    kv_env *mem;

    check(rc == KV_EINVAL && db == NULL && strstr(kv_last_error(), "no_such_option_q"), e,
          "unknown option: KV_EINVAL naming it (got %d)", rc);
    rc = kv_open(e, path, bad_value, &db);
    check(rc == KV_EINVAL && db == NULL && strstr(kv_last_error(), name), e,
          "bad value \"%s\": KV_EINVAL naming '%s' (got %d)", bad_value, name, rc);
    mem = kv_env_mem_new();
    rc = kv_open_env(e, "/db", NULL, mem, &db);
    check(rc == KV_ENOTSUP && db == NULL, e, "in-memory env: KV_ENOTSUP (got %d)", rc);
    kv_env_free(mem);
}

/* Overwrite the store's key file with garbage: open must say KV_ECORRUPT. */
static void corrupt(const char *e, const char *path, const char *file, size_t size)
{
    char p[700];
    unsigned char *junk = malloc(size);
    kv_db *db = NULL;
    FILE *f;
    int rc;

    if (!check(kv_open(e, path, NULL, &db) == KV_OK && kv_put(db, "k", 1, "v", 1) == KV_OK &&
                   kv_close(db) == KV_OK,
               e, "build a store to damage"))
        return;
    for (size_t i = 0; i < size; i++)
        junk[i] = (unsigned char)(rnd() | 1); /* odd bytes: never '\n' */
    snprintf(p, sizeof(p), "%s/%s", path, file);
    f = fopen(p, "r+b");
    if (f) {
        fwrite(junk, 1, size, f);
        fclose(f);
    }
    free(junk);
    db = NULL;
    rc = kv_open(e, path, NULL, &db);
    check(rc == KV_ECORRUPT && db == NULL, e, "garbage in %s: open gives KV_ECORRUPT (got %d)",
          file, rc);
    if (rc == KV_OK)
        kv_close(db);
}

/* Every regular file directly in @p dir has mode @p want; returns how many. */
static size_t files_with_mode(const char *dir, unsigned want, unsigned *bad)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;

    *bad = 0;
    while (d && (de = readdir(d)) != NULL) {
        char p[1024];
        struct stat st;

        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (lstat(p, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        n++;
        if ((st.st_mode & 07777) != want)
            *bad = (unsigned)(st.st_mode & 07777);
    }
    if (d)
        closedir(d);
    return n;
}

/* mode=: the directory always; the files where the library lets the adapter choose. */
static void modes(const char *e, const char *path, const char *options, unsigned want_file)
{
    unsigned want_dir = kv_mode_dir_of(want_file), bad = 0;
    bool files_follow = !strcmp(e, "lmdb") || !strcmp(e, "sqlite");
    mode_t old = umask(0);
    kv_db *db = NULL;
    struct stat st;
    unsigned got = 0;
    size_t n;

    if (check(kv_open(e, path, options, &db) == KV_OK, e, "open with \"%s\"", options ? options : "")) {
        kv_put(db, "k", 1, "v", 1);
        kv_sync(db);
        if (stat(path, &st) == 0)
            got = (unsigned)(st.st_mode & 07777);
        check(got == want_dir, e, "mode \"%s\": directory 0%o (want 0%o)",
              options ? options : "", got, want_dir);
        if (files_follow) {
            n = files_with_mode(path, want_file, &bad);
            check(n > 0 && bad == 0, e, "mode \"%s\": %zu files, all 0%o (a wrong one, if any: 0%o)",
                  options ? options : "", n, want_file, bad);
        }
        kv_close(db);
    }
    umask(old);
}

static void one_engine(const char *e, const char *base, const char *bad_value, const char *bad_name,
                       const char *key_file, size_t junk)
{
    char dir[512], p1[600], p2[600], p3[600], p4[600], p5[600], p6[600], p7[600], p8[600];
    size_t n = 1000;
    struct key *k;
    kv_db *db = NULL, *db2 = NULL;
    kv_stats st;
    unsigned caps;
    int rc;

    snprintf(dir, sizeof(dir), "%s/%s", base, e);
    mkdir(dir, 0777);
    snprintf(p1, sizeof(p1), "%s/basic", dir);
    snprintf(p2, sizeof(p2), "%s/iter", dir);
    snprintf(p3, sizeof(p3), "%s/threads", dir);
    snprintf(p4, sizeof(p4), "%s/batch", dir);
    snprintf(p5, sizeof(p5), "%s/always", dir);
    snprintf(p6, sizeof(p6), "%s/corrupt", dir);
    snprintf(p7, sizeof(p7), "%s/private", dir);
    snprintf(p8, sizeof(p8), "%s/group", dir);

    if (!check(kv_open(e, p1, NULL, &db) == KV_OK, e, "open %s", p1))
        return;
    caps = kv_caps(db);
    check((caps & (KV_CAP_ORDERED | KV_CAP_DURABLE)) == (KV_CAP_ORDERED | KV_CAP_DURABLE), e,
          "caps 0x%x include ORDERED|DURABLE", caps);
    basic_ops(e, db);
    binary_keys(e, db);
    check(kv_sync(db) == KV_OK, e, "kv_sync");
    rc = kv_open(e, p1, NULL, &db2);
    if (caps & KV_CAP_MULTIPROC) {
        check(rc == KV_OK && kv_get(db2, "empty", 5, NULL) == KV_OK, e,
              "second handle on an open store shares it (KV_CAP_MULTIPROC)");
        if (rc == KV_OK) {
            check(kv_put(db2, "from2", 5, "x", 1) == KV_OK, e, "the second handle writes");
            check(kv_close(db2) == KV_OK, e, "close the second handle");
            check(kv_get(db, "from2", 5, NULL) == KV_OK, e, "the first handle sees its write");
        }
    } else {
        check(rc == KV_EBUSY && db2 == NULL, e, "second open of an open store: KV_EBUSY (got %d)",
              rc);
    }
    check(kv_close(db) == KV_OK, e, "close");

    rng_state = 42;
    k = make_keys(n);
    if (check(kv_open(e, p2, NULL, &db) == KV_OK, e, "open %s", p2)) {
        ordered(e, db, k, n);
        check(kv_close(db) == KV_OK, e, "close after iteration");
    }
    if (check(kv_open(e, p2, NULL, &db) == KV_OK, e, "reopen %s", p2)) {
        persisted(e, db, k, n);
        check(kv_db_stats(db, &st) == KV_OK && st.disk_bytes > 0, e,
              "kv_db_stats: disk_bytes %llu > 0", (unsigned long long)st.disk_bytes);
        check(kv_close(db) == KV_OK, e, "close after reopen");
    }
    if (check(kv_open(e, p2, "exact_stats=true", &db) == KV_OK, e, "reopen with exact_stats")) {
        uint64_t bytes = 0;
        unsigned char val[128];
        for (size_t i = 0; i < n; i++)
            bytes += k[i].n + val_of(&k[i], i, val);
        kv_db_stats(db, &st);
        check(st.keys == n && st.bytes == bytes, e,
              "exact_stats: keys %llu bytes %llu (want %zu, %llu)", (unsigned long long)st.keys,
              (unsigned long long)st.bytes, n, (unsigned long long)bytes);
        kv_put(db, k[0].b, k[0].n, "12345", 5);
        kv_delete(db, k[1].b, k[1].n);
        kv_put(db, "brand-new", 9, "", 0);
        kv_db_stats(db, &st);
        bytes += 5 - val_of(&k[0], 0, val) - (k[1].n + val_of(&k[1], 1, val)) + 9;
        check(st.keys == n && st.bytes == bytes, e,
              "exact_stats after overwrite, delete, insert: keys %llu bytes %llu (want %zu, %llu)",
              (unsigned long long)st.keys, (unsigned long long)st.bytes, n,
              (unsigned long long)bytes);
        kv_close(db);
    }
    free(k);

    bad_options(e, p1, bad_value, bad_name);
    modes(e, p7, NULL, 0600);
    modes(e, p8, "mode=0640", 0640);
    corrupt(e, p6, key_file, junk);
    threads(e, p3, "");
    if (!strcmp(e, "lmdb")) {
        batched(e, p4, "batch=16");
        threads(e, p3, "batch=8");
    } else if (!strcmp(e, "sqlite")) {
        batched(e, p4, "batch=1000");
        batched(e, p5, "batch=1");
    }
    if (check(kv_open(e, p5, "sync=always", &db) == KV_OK, e, "open with sync=always")) {
        check(kv_put(db, "s", 1, "durable", 7) == KV_OK && kv_get(db, "s", 1, NULL) == KV_OK, e,
              "put/get with sync=always");
        check(kv_close(db) == KV_OK, e, "close with sync=always");
    }
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name, *bad_value, *bad_name, *key_file;
        size_t junk;
    } engines[] = {
        {"leveldb", "bloom_bits=many", "bloom_bits", "CURRENT", 16},
        {"rocksdb", "compression=zip", "compression", "CURRENT", 16},
        {"lmdb", "map_size=12Q", "map_size", "data.mdb", 8192},
        {"sqlite", "batch=0", "batch", "kv.sqlite", 100},
    };
    char base[] = "/tmp/kvpeers-smoke-XXXXXX";

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!mkdtemp(base)) {
        perror("mkdtemp");
        return 2;
    }
    for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
        bool wanted = argc < 2;
        for (int a = 1; a < argc; a++)
            wanted |= !strcmp(argv[a], engines[i].name);
        if (wanted)
            one_engine(engines[i].name, base, engines[i].bad_value, engines[i].bad_name,
                       engines[i].key_file, engines[i].junk);
    }
    kvt_rmrf(base);
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
