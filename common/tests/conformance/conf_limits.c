/*
 * conf_limits.c — size limits: max_key and max_value are exact, larger is
 * KV_ETOOBIG for every call that takes a key or value, and nothing is ever
 * truncated (a too-long key must not reach the key it would truncate to).
 */
#include <stdlib.h>
#include <string.h>

#include "conf.h"

CONF_SUITE(conf_limits);

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed * 131 + i * 29 + (i >> 8));
}

Test(conf_limits, key_limit_exact)
{
    kv_db *db = conf_open("max_key=16,max_value=100");
    unsigned char key[17];
    kv_buf v = {0};

    fill(key, sizeof(key), 1);
    OK(kv_put(db, key, 16, "sixteen", 7));
    RC(kv_put(db, key, 17, "seventeen", 9), KV_ETOOBIG);
    RC(kv_get(db, key, 17, &v), KV_ETOOBIG);
    cr_assert_eq(v.len, 0);
    RC(kv_get(db, key, 17, NULL), KV_ETOOBIG);
    RC(kv_delete(db, key, 17), KV_ETOOBIG);
    /* the 16-byte key is intact: the 17-byte put did not truncate onto it */
    OK(kv_get(db, key, 16, &v));
    conf_expect_buf(&v, "sixteen", 7, "16-byte key after a rejected 17-byte put");
    RC(kv_get(db, key, 15, NULL), KV_ENOTFOUND);
    kv_buf_free(&v);
    conf_close(db);
}

Test(conf_limits, value_limit_exact)
{
    kv_db *db = conf_open("max_key=16,max_value=100");
    unsigned char val[101], other[101];
    kv_buf v = {0};
    kv_stats st;

    fill(val, sizeof(val), 2);
    fill(other, sizeof(other), 3);
    OK(kv_put(db, "k", 1, val, 100));
    OK(kv_get(db, "k", 1, &v));
    conf_expect_buf(&v, val, 100, "100-byte value");
    /* a failed oversize put leaves the previous value intact */
    RC(kv_put(db, "k", 1, other, 101), KV_ETOOBIG);
    OK(kv_get(db, "k", 1, &v));
    conf_expect_buf(&v, val, 100, "value after a rejected 101-byte overwrite");
    RC(kv_put(db, "new", 3, val, 101), KV_ETOOBIG);
    RC(kv_get(db, "new", 3, NULL), KV_ENOTFOUND);
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, 1);
    cr_assert_eq(st.puts, 1, "rejected puts must not count: puts=%llu",
                 (unsigned long long)st.puts);
    kv_buf_free(&v);
    conf_close(db);
}

/* Full-size key and value together, read back whole, also among neighbours. */
Test(conf_limits, full_size_pairs_whole)
{
    kv_db *db = conf_open("max_key=16,max_value=100");
    unsigned char key[16], val[100];
    kv_buf v = {0};

    for (unsigned i = 0; i < 20; i++) {
        fill(key, 16, i);
        fill(val, 100, i + 100);
        OK(kv_put(db, key, 16, val, 100));
        OK(kv_put(db, key, 1 + i % 15, val, i * 5)); /* prefix keys too */
    }
    for (unsigned i = 0; i < 20; i++) {
        fill(key, 16, i);
        fill(val, 100, i + 100);
        OK(kv_get(db, key, 16, &v));
        conf_expect_buf(&v, val, 100, "full-size pair");
    }
    kv_buf_free(&v);
    conf_close(db);
}

Test(conf_limits, limit_beyond_engine_is_einval)
{
    kv_db *db = NULL;

    /* 2^54 bytes: beyond any engine's limit */
    RC(conf_open_at(conf_path(0, "db"), "max_key=16777216G", &db), KV_EINVAL);
    cr_assert_not_null(strstr(kv_last_error(), "max_key"), "detail: '%s'", kv_last_error());
    RC(conf_open_at(conf_path(0, "db"), "max_value=16777216G", &db), KV_EINVAL);
    cr_assert_not_null(strstr(kv_last_error(), "max_value"), "detail: '%s'", kv_last_error());
    cr_assert_null(db);
}

/* Small limits other than 16/100, to catch a hard-coded limit. */
Test(conf_limits, other_small_limits)
{
    kv_db *db = conf_open("max_key=5,max_value=7");
    kv_buf v = {0};

    OK(kv_put(db, "abcde", 5, "1234567", 7));
    RC(kv_put(db, "abcdef", 6, "1", 1), KV_ETOOBIG);
    RC(kv_put(db, "abc", 3, "12345678", 8), KV_ETOOBIG);
    OK(kv_get(db, "abcde", 5, &v));
    conf_expect_buf(&v, "1234567", 7, "5/7 limits");
    kv_buf_free(&v);
    conf_close(db);
}

/*
 * 1 MiB value with the default limits: the default max_value is the
 * engine's to choose, so either it is accepted and read back exactly, or
 * it is KV_ETOOBIG (or KV_EFULL for a fixed-size store) and nothing is
 * stored.
 */
Test(conf_limits, large_value_default_limits)
{
    size_t n = (size_t)1 << 20;
    kv_db *db = conf_open(NULL);
    unsigned char *val = malloc(n);
    kv_buf v = {0};
    int rc;

    cr_assert_not_null(val);
    fill(val, n, 7);
    rc = kv_put(db, "big", 3, val, n);
    cr_assert(rc == KV_OK || rc == KV_ETOOBIG || rc == KV_EFULL, "1 MiB put: %d (%s): %s", rc,
              kv_strerror(rc), kv_last_error());
    if (rc == KV_OK) {
        OK(kv_get(db, "big", 3, &v));
        conf_expect_buf(&v, val, n, "1 MiB value");
        OK(kv_put(db, "big", 3, "s", 1));
        OK(kv_get(db, "big", 3, &v));
        conf_expect_buf(&v, "s", 1, "after shrinking the 1 MiB value");
    } else {
        RC(kv_get(db, "big", 3, NULL), KV_ENOTFOUND);
    }
    free(val);
    kv_buf_free(&v);
    conf_close(db);
}

/* A raised max_value (within the engine's limit, if 64 KiB is) works. */
Test(conf_limits, raised_value_limit)
{
    size_t n = 64 * 1024;
    kv_db *db = NULL;
    unsigned char *val = malloc(n + 1);
    kv_buf v = {0};
    int rc = conf_open_at(conf_path(0, "db"), "max_value=64K", &db);

    cr_assert(rc == KV_OK || rc == KV_EINVAL, "open with max_value=64K: %d: %s", rc,
              kv_last_error());
    if (rc == KV_EINVAL) {
        free(val);
        cr_skip_test("engine's max_value limit is below 64 KiB: %s", kv_last_error());
    }
    cr_assert_not_null(val);
    fill(val, n + 1, 9);
    OK(kv_put(db, "k", 1, val, n));
    RC(kv_put(db, "k", 1, val, n + 1), KV_ETOOBIG);
    OK(kv_get(db, "k", 1, &v));
    conf_expect_buf(&v, val, n, "64 KiB value");
    free(val);
    kv_buf_free(&v);
    conf_close(db);
}
