/*
 * test_shm_snapshot.c — snapshot files of the shm engine: a round trip of
 * binary contents, an empty store, restore replacing (not merging), and
 * damaged files — every flipped byte, every truncation, trailing garbage,
 * a record over the store's limits — refused with the store unchanged.
 */
#define _DEFAULT_SOURCE
#include "shm_test_util.h"

#include <fcntl.h>

TestSuite(shm_snap, .init = tu_setup, .fini = tu_teardown, .timeout = 120);

typedef struct digest {
    uint64_t n, sum; /* order-independent digest of the contents */
} digest;

static int add(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    digest *d = arg;

    d->n++;
    d->sum += kv_xxh3_64(key, klen) * 3 + kv_xxh3_64(val, vlen) * 7 + klen * 11 + vlen;
    return 0;
}

static digest contents(kv_db *db)
{
    digest d = {0};

    OK(kvshm_scan(kvshm_from(db), NULL, 0, false, add, &d));
    return d;
}

static void fill(kv_db *db, uint64_t n, uint64_t ver)
{
    unsigned char key[40], val[700];

    for (uint64_t i = 0; i < n; i++) {
        size_t kl = 1 + i % 39, vl = (size_t)(i * 13 % 700);
        for (size_t j = 0; j < kl; j++)
            key[j] = (unsigned char)(i >> (8 * (j % 4)) ^ j * 0x5b); /* NULs and high bytes */
        key[0] = (unsigned char)i;
        tu_val(i, ver, val, vl < 16 ? 16 : vl);
        OK(kv_put(db, key, kl, val, vl < 16 ? 16 : vl));
    }
}

Test(shm_snap, round_trip)
{
    kv_db *db = tu_open(NULL);
    const char *file = tu_path(1, "snap");
    digest before, after;
    uint64_t saved = 0, restored = 0;
    struct stat st;

    umask(0); /* only the mode the store asks for counts */
    fill(db, 3000, 1);
    before = contents(db);
    OK(kvshm_snapshot(kvshm_from(db), file, &saved));
    cr_assert_eq(saved, before.n);
    cr_assert_eq(stat(file, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600, "a snapshot holds the store's data: mode 0%o, want 0600",
                 (unsigned)(st.st_mode & 07777));
    cr_assert_eq(access(tu_path(2, "snap.tmp"), F_OK), -1, "no temporary file left");
    fill(db, 500, 2); /* change some */
    OK(kv_put(db, "extra", 5, "x", 1));
    cr_assert_neq(contents(db).sum, before.sum);
    OK(kvshm_restore(kvshm_from(db), file, &restored));
    cr_assert_eq(restored, saved);
    after = contents(db);
    cr_assert_eq(after.n, before.n);
    cr_assert_eq(after.sum, before.sum);
    RC(kv_get(db, "extra", 5, NULL), KV_ENOTFOUND); /* replaced, not merged */
    tu_check(db);
    OK(kv_close(db));
    /* into another store, with another shard count */
    db = tu_open_at(tu_path(2, "other"), "shards=3");
    OK(kvshm_restore(kvshm_from(db), file, &restored));
    after = contents(db);
    cr_assert_eq(after.sum, before.sum);
    OK(kv_close(db));
}

Test(shm_snap, empty_store)
{
    kv_db *db = tu_open(NULL);
    uint64_t n = 99;

    OK(kvshm_snapshot(kvshm_from(db), tu_path(1, "snap"), &n));
    cr_assert_eq(n, 0);
    OK(kv_put(db, "k", 1, "v", 1));
    OK(kvshm_restore(kvshm_from(db), tu_path(1, "snap"), &n));
    cr_assert_eq(n, 0);
    cr_assert_eq(contents(db).n, 0);
    OK(kv_close(db));
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p;
    long len;

    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = malloc((size_t)len + 1);
    cr_assert_eq(fread(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return p;
}

static void spit(const char *path, const unsigned char *p, size_t n)
{
    FILE *f = fopen(path, "wb");

    cr_assert_not_null(f);
    cr_assert_eq(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* Every single-byte change and every truncation of a snapshot is refused. */
Test(shm_snap, damaged_files_refused_store_unchanged)
{
    kv_db *db = tu_open(NULL);
    const char *good = tu_path(1, "snap"), *bad = tu_path(2, "bad");
    unsigned char *img, *copy;
    size_t n, step;
    digest live;

    fill(db, 40, 1);
    OK(kvshm_snapshot(kvshm_from(db), good, NULL));
    img = slurp(good, &n);
    copy = malloc(n + 16);
    OK(kv_put(db, "live-only", 9, "v", 1));
    live = contents(db);
    step = n > 4000 ? n / 4000 : 1;
    for (size_t off = 0; off < n; off += step) {
        memcpy(copy, img, n);
        copy[off] ^= (unsigned char)(1u << (off % 8));
        spit(bad, copy, n);
        RC(kvshm_restore(kvshm_from(db), bad, NULL), KV_ECORRUPT);
    }
    for (size_t len = 0; len < n; len += step) {
        spit(bad, img, len);
        RC(kvshm_restore(kvshm_from(db), bad, NULL), KV_ECORRUPT);
    }
    memcpy(copy, img, n);
    memcpy(copy + n, "garbage!garbage!", 16);
    spit(bad, copy, n + 16);
    RC(kvshm_restore(kvshm_from(db), bad, NULL), KV_ECORRUPT);
    cr_assert_eq(contents(db).sum, live.sum, "a refused restore changed the store");
    RC(kvshm_restore(kvshm_from(db), tu_path(3, "missing"), NULL), KV_ENOTFOUND);
    OK(kvshm_restore(kvshm_from(db), good, NULL)); /* the good one still works */
    RC(kv_get(db, "live-only", 9, NULL), KV_ENOTFOUND);
    free(img);
    free(copy);
    OK(kv_close(db));
}

Test(shm_snap, entries_over_limits_refused)
{
    kv_db *big = tu_open(NULL), *small = tu_open_at(tu_path(2, "small"), "max_value=10");
    unsigned char val[100] = {0};
    const char *file = tu_path(1, "snap");

    OK(kv_put(big, "k", 1, val, 100));
    OK(kvshm_snapshot(kvshm_from(big), file, NULL));
    OK(kv_put(small, "mine", 4, "v", 1));
    RC(kvshm_restore(kvshm_from(small), file, NULL), KV_ETOOBIG);
    OK(kv_get(small, "mine", 4, NULL));
    OK(kv_close(big));
    OK(kv_close(small));
}

/* A snapshot taken while another process writes is still a valid file. */
Test(shm_snap, snapshot_while_writing)
{
    kv_db *db = tu_open(NULL);
    pid_t pid;
    uint64_t n = 0;

    fill(db, 1000, 1);
    if ((pid = fork()) == 0) {
        kv_db *c = NULL;
        unsigned char val[64];
        char key[32];
        if (kv_open("shm", tu_path(0, "db"), NULL, &c) != KV_OK)
            _exit(1);
        for (uint64_t i = 0; i < 20000; i++)
            if (kv_put(c, key, tu_key(5000 + i % 500, key), val, tu_val(i, i, val, 40)))
                _exit(2);
        kv_close(c);
        _exit(0);
    }
    for (int i = 0; i < 5; i++)
        OK(kvshm_snapshot(kvshm_from(db), tu_path(1, "snap"), &n));
    cr_assert_eq(tu_wait_child(pid, 60000), 0);
    cr_assert_geq(n, 1000);
    OK(kvshm_restore(kvshm_from(db), tu_path(1, "snap"), NULL));
    cr_assert_eq(contents(db).n, n);
    tu_check(db);
    OK(kv_close(db));
}
