/*
 * test_shm.c — the shm engine in one process: several handles on one store,
 * limits fixed at creation, the size cap, growth by extents, linear
 * hashing, size classes and free-list reuse, overwrites in shared chains,
 * the operation log, destroy, and headers a buggy peer could leave behind.
 *
 * The multi-process cases (visibility across processes, kill -9 of a lock
 * holder, growth under readers, 1M-cycle reuse) are in
 * test_shm_multiproc.c; snapshots in test_shm_snapshot.c; corruption of
 * the live structures in test_shm_corrupt.c.
 */
#define _DEFAULT_SOURCE
#define KVT_OWN_STORES /* before limits_check.h includes kvtest.h (see the util header) */
#include "limits_check.h"
#include "shm_test_util.h"

#include <fcntl.h>

TestSuite(shm, .init = tu_setup, .fini = tu_teardown, .timeout = 60);

Test(shm, two_handles_see_each_other)
{
    kv_db *a = tu_open(NULL), *b = tu_open(NULL);
    kv_buf v = {0};

    OK(kv_put(a, "k", 1, "from a", 6));
    OK(kv_get(b, "k", 1, &v));
    cr_assert(v.len == 6 && !memcmp(v.data, "from a", 6));
    OK(kv_put(b, "k", 1, "b", 1));
    OK(kv_get(a, "k", 1, &v));
    cr_assert(v.len == 1 && !memcmp(v.data, "b", 1));
    OK(kv_delete(a, "k", 1));
    RC(kv_get(b, "k", 1, &v), KV_ENOTFOUND);
    cr_assert_eq(v.len, 0);
    RC(kv_delete(b, "k", 1), KV_ENOTFOUND);
    kv_buf_free(&v);
    OK(kv_close(a));
    OK(kv_close(b));
}

Test(shm, caps_not_ordered_not_durable)
{
    kv_db *db = tu_open(NULL);
    kv_iter *it = NULL;

    cr_assert_eq(kv_caps(db), KV_CAP_MULTIPROC | KV_CAP_SCAN, "multiproc and scannable");
    OK(kv_iter_open(db, &it)); /* unordered: KV_CAP_SCAN (conf_scan tests it) */
    kv_iter_seek(it, "k", 1);
    cr_assert_eq(kv_iter_status(it), KV_ENOTSUP, "seek on an unordered engine");
    kv_iter_close(it);
    OK(kv_sync(db));
    cr_assert_str_eq(kv_engine_name(db), "shm");
    cr_assert_not_null(kvshm_from(db));
    OK(kv_close(db));
}

Test(shm, data_outlives_handles)
{
    kv_db *db = tu_open(NULL);

    OK(kv_put(db, "stay", 4, "here", 4));
    OK(kv_close(db));
    db = tu_open("create=false");
    OK(kv_get(db, "stay", 4, NULL));
    OK(kv_close(db));
}

Test(shm, path_rules)
{
    kv_db *db = NULL;

    RC(kv_open("shm", NULL, NULL, &db), KV_EINVAL);
    RC(kv_open("shm", tu_path(0, "missing/parent/db"), NULL, &db), KV_ENOTFOUND);
    RC(kv_open("shm", tu_path(0, "nothing"), "create=false", &db), KV_ENOTFOUND);
    cr_assert_not_null(strstr(kv_last_error(), "no store"), "%s", kv_last_error());
    RC(kv_open("shm", tu_path(0, "db"), "shards=0", &db), KV_EINVAL);
    RC(kv_open("shm", tu_path(0, "db"), "log=loud", &db), KV_EINVAL);
    cr_assert_null(db);
}

/* Limits are fixed at creation; later opens get the stored ones. */
Test(shm, limits_fixed_at_creation)
{
    kv_db *db = tu_open("max_key=16,max_value=100");
    unsigned char key[17] = {0}, val[101] = {0};

    OK(kv_put(db, key, 16, val, 100));
    RC(kv_put(db, key, 17, val, 1), KV_ETOOBIG);
    RC(kv_put(db, key, 1, val, 101), KV_ETOOBIG);
    OK(kv_close(db));
    /* asking for more later changes nothing */
    db = tu_open("max_key=64,max_value=1000");
    RC(kv_put(db, key, 17, val, 1), KV_ETOOBIG);
    RC(kv_put(db, key, 1, val, 101), KV_ETOOBIG);
    OK(kv_put(db, key, 16, val, 100));
    RC(kv_get(db, key, 17, NULL), KV_ETOOBIG);
    RC(kv_delete(db, key, 17), KV_ETOOBIG);
    cr_assert_eq(kvshm_from(db)->seg.max_key, 16);
    OK(kv_close(db));
    db = tu_open(NULL); /* no options: still the stored limits */
    RC(kv_put(db, key, 17, val, 1), KV_ETOOBIG);
    RC(kv_put(db, key, 1, val, 101), KV_ETOOBIG);
    OK(kv_close(db));
}

Test(shm, default_and_maximum_limits)
{
    kv_db *db = tu_open(NULL);
    unsigned char *big = kvt_own(calloc(1, KVSHM_DEFAULT_VALUE + 1), free);

    cr_assert_not_null(big);
    OK(kv_put(db, big, KVSHM_DEFAULT_KEY, big, KVSHM_DEFAULT_VALUE));
    RC(kv_put(db, big, KVSHM_DEFAULT_KEY + 1, "", 0), KV_ETOOBIG);
    RC(kv_put(db, "k", 1, big, KVSHM_DEFAULT_VALUE + 1), KV_ETOOBIG);
    OK(kv_close(db));
    RC(kv_open("shm", tu_path(1, "db2"), "max_value=65M", &db), KV_EINVAL);
    RC(kv_open("shm", tu_path(1, "db2"), "max_key=65K", &db), KV_EINVAL);
    kvt_drop(big);
}

/* max_size caps the file: KV_EFULL, then deleting makes room again. */
Test(shm, full_then_room_after_delete)
{
    kv_db *db = tu_open("max_size=1M,initial_size=64K,max_value=64K,shards=2,log_entries=0");
    static unsigned char val[8000];
    char key[32];
    uint64_t n = 0;
    int rc;

    while ((rc = kv_put(db, key, tu_key(n, key), val, sizeof(val))) == KV_OK)
        n++;
    RC(rc, KV_EFULL);
    cr_assert_gt(n, 80, "only %llu values of 8000 bytes fit in 1 MiB", (unsigned long long)n);
    cr_assert_leq(tu_seg_size(tu_path(0, "db")), 1 << 20);
    RC(kv_get(db, key, tu_key(n, key), NULL), KV_ENOTFOUND);
    for (uint64_t i = 0; i < n; i += 2)
        OK(kv_delete(db, key, tu_key(i, key)));
    for (uint64_t i = 0; i < n; i += 2) /* reuse the freed blocks */
        OK(kv_put(db, key, tu_key(i + 1000000, key), val, sizeof(val)));
    OK(kv_put(db, "small", 5, "v", 1));
    tu_check(db);
    OK(kv_close(db));
}

Test(shm, size_classes)
{
    uint64_t prev = 0;

    for (uint32_t c = 0; c < KVSHM_NCLASSES; c++) {
        uint64_t s = kvshm_class_size(c);
        cr_assert_gt(s, prev, "class sizes increase");
        cr_assert_eq(s % 16, 0);
        cr_assert_eq(kvshm_class_of(s), c, "class_of(size(%u))", c);
        cr_assert_eq(kvshm_class_of(prev + 1), c, "class_of(size(%u-1)+1)", c);
        if (c > 16)
            cr_assert_leq(s, prev + prev / 4 + 16, "under 25%% waste at class %u", c);
        prev = s;
    }
    cr_assert_eq(kvshm_class_of(prev + 1), KVSHM_NCLASSES);
    cr_assert_eq(kvshm_class_of(1), 0);
    cr_assert_eq(kvshm_class_of(257), 16);
    cr_assert_eq(kvshm_class_size(16), 320);
}

Test(shm, chunk_math)
{
    for (uint64_t n0 = 1; n0 <= 64; n0 *= 4) {
        uint64_t b = 0;
        for (uint32_t k = 0; k < 12; k++) {
            for (uint64_t i = 0; i < kvshm_chunk_buckets(n0, k); i++, b++) {
                uint64_t idx;
                cr_assert_eq(kvshm_chunk_of(n0, b, &idx), k, "n0 %llu bucket %llu",
                             (unsigned long long)n0, (unsigned long long)b);
                cr_assert_eq(idx, i);
            }
        }
    }
}

/* Same-size put/delete cycles reuse blocks: the file and alloc_bytes stay flat. */
Test(shm, free_list_reuse)
{
    kv_db *db = tu_open("initial_size=64K,log_entries=16");
    unsigned char val[300];
    char key[32];
    kvshm_info a, b;

    for (uint64_t i = 0; i < 100; i++)
        OK(kv_put(db, key, tu_key(i, key), val, tu_val(i, 0, val, 100 + i % 200)));
    OK(kvshm_get_info(kvshm_from(db), &a));
    for (uint64_t round = 1; round < 200; round++)
        for (uint64_t i = 0; i < 100; i++) {
            OK(kv_delete(db, key, tu_key(i, key)));
            OK(kv_put(db, key, tu_key(i, key), val, tu_val(i, round, val, 100 + i % 200)));
        }
    OK(kvshm_get_info(kvshm_from(db), &b));
    cr_assert_eq(a.file_size, b.file_size);
    cr_assert_eq(a.alloc_bytes, b.alloc_bytes);
    cr_assert_eq(a.extents, b.extents);
    tu_check(db);
    OK(kv_close(db));
}

/* Linear hashing: buckets grow with the keys, the load stays near 1. */
Test(shm, index_grows_with_keys)
{
    kv_db *db = tu_open("shards=4,buckets=4,log_entries=0");
    kv_buf v = {0};
    unsigned char val[64];
    char key[32];
    kvshm_info in;
    size_t n = tu_scale(50000);

    for (uint64_t i = 0; i < n; i++)
        OK(kv_put(db, key, tu_key(i, key), val, tu_val(i, 1, val, 24)));
    OK(kvshm_get_info(kvshm_from(db), &in));
    cr_assert_eq(in.keys, n);
    cr_assert_geq(in.buckets, n / 2, "%llu buckets for %zu keys", (unsigned long long)in.buckets,
                  n);
    cr_assert_leq(in.buckets, n + 4 * 4);
    for (uint64_t i = 0; i < n; i++) {
        OK(kv_get(db, key, tu_key(i, key), &v));
        cr_assert_eq(tu_val_ver(i, &v), 1);
    }
    tu_check(db);
    kv_buf_free(&v);
    OK(kv_close(db));
}

/* Growth appends extents; a handle opened before sees every new key. */
Test(shm, growth_by_extents)
{
    kv_db *w = tu_open("initial_size=64K,max_value=8K,log_entries=16"), *r = tu_open(NULL);
    unsigned char val[4096];
    kv_buf v = {0};
    char key[32];
    kvshm_info in;
    uint64_t n = 600;

    for (uint64_t i = 0; i < n; i++) {
        OK(kv_put(w, key, tu_key(i, key), val, tu_val(i, 7, val, sizeof(val))));
        OK(kv_get(r, key, tu_key(i, key), &v));
        cr_assert_eq(tu_val_ver(i, &v), 7);
    }
    OK(kvshm_get_info(kvshm_from(w), &in));
    cr_assert_geq(in.extents, 5, "extents: %u", in.extents);
    cr_assert_eq(in.file_size, tu_seg_size(tu_path(0, "db")));
    cr_assert_eq(atomic_load(&kvshm_from(r)->seg.mapped), in.extents);
    tu_check(r);
    kv_buf_free(&v);
    OK(kv_close(w));
    OK(kv_close(r));
}

Test(shm, operation_log)
{
    kv_db *db = tu_open("log_entries=8");
    kvshm_log_entry *v = NULL;
    size_t n = 0;

    OK(kv_put(db, "a-key-longer-than-thirty-two-bytes!!", 36, "v", 1));
    OK(kv_delete(db, "a-key-longer-than-thirty-two-bytes!!", 36));
    RC(kv_delete(db, "zz", 2), KV_ENOTFOUND);
    OK(kvshm_log_read(&kvshm_from(db)->seg, &v, &n));
    cr_assert_eq(n, 5); /* create, open, put, del, failed del */
    cr_assert_eq(v[0].op, KVSHM_OP_CREATE);
    cr_assert_eq(v[2].op, KVSHM_OP_PUT);
    cr_assert_eq(v[2].pid, (uint32_t)getpid());
    cr_assert_eq(v[2].klen, 36);
    cr_assert_eq(v[2].vlen, 1);
    cr_assert(!memcmp(v[2].key, "a-key-longer-than-thirty-two-byt", 32));
    cr_assert_eq(v[3].op, KVSHM_OP_DEL);
    cr_assert_eq(v[4].status, KV_ENOTFOUND);
    cr_assert_str_eq(kvshm_op_name(v[4].op), "del");
    kv_free(v);
    /* the ring keeps the last 8, in order */
    for (int i = 0; i < 20; i++)
        OK(kv_put(db, "k", 1, "v", 1));
    OK(kvshm_log_read(&kvshm_from(db)->seg, &v, &n));
    cr_assert_eq(n, 8);
    for (size_t i = 1; i < n; i++)
        cr_assert_eq(v[i].seq, v[i - 1].seq + 1);
    cr_assert_eq(v[7].seq, 24);
    kv_free(v);
    OK(kv_close(db));
}

Test(shm, log_modes)
{
    kv_db *all = tu_open("log=all"), *none = tu_open("log=none"), *off;
    kvshm_log_entry *v = NULL;
    size_t n = 0, before;

    OK(kv_put(all, "k", 1, "v", 1));
    OK(kvshm_log_read(&kvshm_from(all)->seg, &v, &n));
    before = n;
    kv_free(v);
    OK(kv_get(all, "k", 1, NULL));
    OK(kv_get(none, "k", 1, NULL));
    OK(kv_put(none, "k", 1, "w", 1));
    OK(kvshm_log_read(&kvshm_from(all)->seg, &v, &n));
    cr_assert_eq(n, before + 1, "only the log=all get is recorded");
    cr_assert_eq(v[n - 1].op, KVSHM_OP_GET);
    kv_free(v);
    OK(kv_close(all));
    OK(kv_close(none));
    off = tu_open_at(tu_path(1, "nolog"), "log_entries=0");
    OK(kv_put(off, "k", 1, "v", 1));
    OK(kvshm_log_read(&kvshm_from(off)->seg, &v, &n));
    cr_assert_eq(n, 0);
    cr_assert_null(v);
    OK(kv_close(off));
}

/* Destroy: other handles fail with KV_EIO; the next open starts afresh. */
Test(shm, destroy)
{
    kv_db *a = tu_open(NULL), *b = tu_open(NULL);

    OK(kv_put(a, "k", 1, "v", 1));
    OK(kvshm_destroy(kvshm_from(b)));
    RC(kv_get(a, "k", 1, NULL), KV_EIO);
    RC(kv_put(a, "k", 1, "v", 1), KV_EIO);
    cr_assert_not_null(strstr(kv_last_error(), "destroyed"));
    OK(kv_close(b));
    OK(kv_close(a));
    cr_assert_eq(access(tu_path(0, "db"), F_OK), -1, "the directory is gone");
    a = tu_open(NULL);
    RC(kv_get(a, "k", 1, NULL), KV_ENOTFOUND);
    OK(kv_close(a));
}

Test(shm, stats_counters)
{
    kv_db *db = tu_open(NULL);
    kv_stats st;
    bool found = false;

    OK(kv_put(db, "ab", 2, "cde", 3));
    OK(kv_put(db, "x", 1, "", 0));
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, 2);
    cr_assert_eq(st.bytes, 6);
    cr_assert_eq(st.disk_bytes, tu_seg_size(tu_path(0, "db")));
    for (unsigned i = 0; i < st.n_extra; i++)
        found |= !strcmp(st.extra[i].name, "load_factor");
    cr_assert(found);
    OK(kv_close(db));
}

/* Overwrites in chains that hold several keys (one shard starting from one
 * bucket): every key keeps its newest value, the keys around it stay
 * linked, and the stats follow the new sizes. */
Test(shm, overwrite_in_shared_chains)
{
    kv_db *db = tu_open("shards=1,buckets=1,log_entries=0");
    unsigned char val[300];
    kv_buf v = {0};
    char key[32];
    kv_stats st;
    uint64_t n = 300, bytes = 0;

    for (uint64_t i = 0; i < n; i++)
        OK(kv_put(db, key, tu_key(i, key), val, tu_val(i, 1, val, 20 + i % 50)));
    for (uint64_t i = 0; i < n; i++)
        OK(kv_put(db, key, tu_key(i, key), val, tu_val(i, 2, val, 100 + i % 200)));
    for (uint64_t i = 0; i < n; i++) {
        OK(kv_get(db, key, tu_key(i, key), &v));
        cr_assert_eq(tu_val_ver(i, &v), 2, "key %llu", (unsigned long long)i);
        bytes += tu_key(i, key) + 100 + i % 200;
    }
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, n);
    cr_assert_eq(st.bytes, bytes, "stats bytes %llu, want %llu", (unsigned long long)st.bytes,
                 (unsigned long long)bytes);
    tu_check(db);
    kv_buf_free(&v);
    OK(kv_close(db));
}

/* Damage one header field of a closed store; the next open must refuse it. */
static void damage_and_open(size_t off, const void *bytes, size_t n, int want)
{
    kv_db *db = tu_open(NULL);
    int fd;

    OK(kv_put(db, "k", 1, "v", 1));
    OK(kv_close(db));
    fd = open(tu_path(1, "db/" KVSHM_SEG_FILE), O_RDWR);
    cr_assert_geq(fd, 0);
    cr_assert_eq(pwrite(fd, bytes, n, (off_t)off), (ssize_t)n);
    close(fd);
    db = NULL;
    RC(kv_open("shm", tu_path(0, "db"), NULL, &db), want);
    cr_assert_null(db);
    kvt_rmrf(tu_path(0, "db"));
}

Test(shm, bad_headers_refused)
{
    uint32_t u32;
    uint64_t u64;

    damage_and_open(0, "KVSHMSEX", 8, KV_ECORRUPT);
    u32 = 99;
    damage_and_open(offsetof(kvshm_hdr, version), &u32, 4, KV_ECORRUPT);
    damage_and_open(offsetof(kvshm_hdr, mutex_size), &u32, 4, KV_ECORRUPT);
    u32 = 100000;
    damage_and_open(offsetof(kvshm_hdr, n_shards), &u32, 4, KV_ECORRUPT);
    u64 = 1ull << 40;
    damage_and_open(offsetof(kvshm_hdr, max_key), &u64, 8, KV_ECORRUPT);
    damage_and_open(offsetof(kvshm_hdr, shards_off), &u64, 8, KV_ECORRUPT);
    damage_and_open(offsetof(kvshm_hdr, ext[0].len), &u64, 8, KV_ECORRUPT);
    u32 = 3;
    damage_and_open(offsetof(kvshm_hdr, init_buckets), &u32, 4, KV_ECORRUPT);
    u32 = 1000;
    damage_and_open(offsetof(kvshm_hdr, n_extents), &u32, 4, KV_ECORRUPT);
    u32 = 2; /* an extent the table does not describe */
    damage_and_open(offsetof(kvshm_hdr, n_extents), &u32, 4, KV_ECORRUPT);
}

/* A file without the magic is a creation that died: it is simply redone. */
Test(shm, half_created_store_is_recreated)
{
    int fd;
    kv_db *db;

    cr_assert_eq(mkdir(tu_path(0, "db"), 0755), 0);
    fd = open(tu_path(1, "db/" KVSHM_SEG_FILE), O_RDWR | O_CREAT, 0644);
    cr_assert_geq(fd, 0);
    cr_assert_eq(ftruncate(fd, 1 << 16), 0);
    close(fd);
    db = tu_open(NULL);
    OK(kv_put(db, "k", 1, "v", 1));
    tu_check(db);
    OK(kv_close(db));
}

/* The mode of @p path (permission bits), asserting it exists. */
static unsigned mode_of(const char *path)
{
    struct stat st;

    cr_assert_eq(stat(path, &st), 0, "stat %s", path);
    return (unsigned)(st.st_mode & 07777);
}

/*
 * Private by default: under umask 0 (so only the mode the engine asks for
 * counts) a new store's directory is 0700 and its segment 0600 — not 0666,
 * which let every user of the machine read and write the store. mode=0660
 * shares it with the group (directory 0770). An existing segment keeps its
 * mode, whatever a later opener asks; a bad mode is KV_EINVAL and creates
 * nothing.
 */
Test(shm, segment_mode_follows_option)
{
    kv_db *db, *again;
    int fd;

    umask(0);
    db = tu_open(NULL);
    cr_assert_eq(mode_of(tu_path(1, "db")), 0700, "directory 0%o", mode_of(tu_path(1, "db")));
    cr_assert_eq(mode_of(tu_path(1, "db/" KVSHM_SEG_FILE)), 0600, "segment 0%o",
                 mode_of(tu_path(1, "db/" KVSHM_SEG_FILE)));
    again = tu_open("mode=0666"); /* the store exists: its mode stays */
    cr_assert_eq(mode_of(tu_path(1, "db/" KVSHM_SEG_FILE)), 0600);
    OK(kv_close(again));
    OK(kv_close(db));

    db = tu_open_at(tu_path(0, "group"), "mode=0660");
    cr_assert_eq(mode_of(tu_path(1, "group")), 0770);
    cr_assert_eq(mode_of(tu_path(1, "group/" KVSHM_SEG_FILE)), 0660);
    OK(kv_close(db));

    /* A segment someone made world-readable stays so (kvshm warns about it). */
    cr_assert_eq(mkdir(tu_path(0, "old"), 0755), 0);
    fd = open(tu_path(1, "old/" KVSHM_SEG_FILE), O_RDWR | O_CREAT, 0644);
    cr_assert_geq(fd, 0);
    close(fd);
    db = tu_open_at(tu_path(0, "old"), NULL);
    cr_assert_eq(mode_of(tu_path(1, "old/" KVSHM_SEG_FILE)), 0644);
    OK(kv_close(db));

    db = NULL;
    RC(kv_open("shm", tu_path(0, "bad"), "mode=0666x", &db), KV_EINVAL);
    RC(kv_open("shm", tu_path(0, "bad"), "mode=01600", &db), KV_EINVAL);
    cr_assert_null(db);
    cr_assert_neq(access(tu_path(1, "bad"), F_OK), 0, "a refused open created its directory");
}

/* Many threads of one process on one handle (the locks are pthread mutexes). */
static kv_db *thr_db;
static void *thr_body(void *arg)
{
    uint64_t base = (uint64_t)(uintptr_t)arg * 100000;
    unsigned char val[64];
    char key[32];

    for (uint64_t i = 0; i < 3000; i++) {
        if (kv_put(thr_db, key, tu_key(base + i, key), val, tu_val(base + i, 1, val, 40)))
            return (void *)1;
        if (i % 3 == 0 && kv_delete(thr_db, key, tu_key(base + i, key)))
            return (void *)1;
    }
    return NULL;
}

Test(shm, threads_share_a_handle)
{
    pthread_t t[4];
    kvshm_info in;

    thr_db = tu_open("shards=2,buckets=1");
    for (uintptr_t i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, thr_body, (void *)i), 0);
    void *r[4];
    for (int i = 0; i < 4; i++) /* join every thread before any assertion */
        pthread_join(t[i], &r[i]);
    for (int i = 0; i < 4; i++)
        cr_assert_null(r[i], "thread %d failed", i);
    OK(kvshm_get_info(kvshm_from(thr_db), &in));
    cr_assert_eq(in.keys, 4 * 2000);
    tu_check(thr_db);
    OK(kv_close(thr_db));
}

/* Every limit at max - 1, max and max + 1 (tests/limits_check.h), stored limits after a reopen. */
Test(shm, limits_at_max_minus_one_max_and_max_plus_one)
{
    kv_db *db = tu_open("max_key=64K,max_value=100");

    lc_limits(db, KVSHM_LIMIT_KEY, 100, false, "max_key=64K (the largest)");
    OK(kv_close(db));
    db = tu_open(NULL); /* the stored limits, the stored pairs */
    lc_limits(db, KVSHM_LIMIT_KEY, 100, true, "after a reopen");
    OK(kv_close(db));
    db = tu_open_at(tu_path(1, "defkey"), "max_value=1");
    lc_limits(db, KVSHM_DEFAULT_KEY, 1, false, "the default max_key");
    OK(kv_close(db));
    db = tu_open_at(tu_path(1, "defval"), "max_key=2");
    lc_limits(db, 2, KVSHM_DEFAULT_VALUE, false, "the default max_value");
    OK(kv_close(db));
    db = NULL;
    RC(kv_open("shm", tu_path(1, "k1"), "max_key=65537", &db), KV_EINVAL);
    RC(kv_open("shm", tu_path(1, "v1"), "max_value=67108865", &db), KV_EINVAL);
    cr_assert_null(db);
    db = tu_open_at(tu_path(1, "v0"), "max_value=64M");
    OK(kv_close(db));
    /* the lock stripes: KVSHM_MAX_SHARDS of them work, one more is refused */
    db = NULL;
    RC(kv_open("shm", tu_path(1, "s1"), "shards=257", &db), KV_EINVAL);
    db = tu_open_at(tu_path(1, "s0"), "shards=256,max_key=4,max_value=4");
    for (unsigned i = 0; i < 2000; i++) { /* every stripe gets keys */
        unsigned char k[4] = {(unsigned char)i, (unsigned char)(i >> 8), 7, 9};
        OK(kv_put(db, k, 4, k, 4));
    }
    lc_limits(db, 4, 4, false, "shards=256");
    for (unsigned i = 0; i < 2000; i++) {
        unsigned char k[4] = {(unsigned char)i, (unsigned char)(i >> 8), 7, 9};
        lc_expect(db, k, 4, k, 4, "shards=256");
    }
    OK(kv_close(db));
}
