/*
 * conf_basic.c — the semantics every engine shares: put, get, delete,
 * kv_buf reuse, empty and NULL arguments, status codes and their messages,
 * option parsing, the registry, and the counters of kv_db_stats().
 *
 * Rule chosen where the contract leaves room: kv_stats.keys and .bytes
 * must be exact for every engine (a store that cannot say how many keys it
 * holds cannot be checked); puts, gets and deletes are counted by the front
 * end and must be exact too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "kvlabs/alloc.h"

CONF_SUITE(conf_basic);

Test(conf_basic, missing_key_is_enotfound)
{
    kv_db *db = conf_open(NULL);
    kv_buf v = {0};

    OK(kv_put(db, "present", 7, "value", 5));
    OK(kv_get(db, "present", 7, &v));
    cr_assert_eq(v.len, 5);
    RC(kv_get(db, "absent", 6, &v), KV_ENOTFOUND);
    cr_assert_eq(v.len, 0, "a failed kv_get must leave len 0, got %zu", v.len);
    RC(kv_get(db, "presen", 6, &v), KV_ENOTFOUND);
    RC(kv_get(db, "presentt", 8, &v), KV_ENOTFOUND);
    cr_assert_eq(v.len, 0);
    kv_buf_free(&v);
    conf_close(db);
}

Test(conf_basic, put_then_get)
{
    kv_db *db = conf_open(NULL);
    kv_buf v = {0};

    OK(kv_put(db, "alpha", 5, "one", 3));
    OK(kv_put(db, "beta", 4, "two2", 4));
    OK(kv_get(db, "alpha", 5, &v));
    conf_expect_buf(&v, "one", 3, "alpha");
    cr_assert_eq(((char *)v.data)[v.len], '\0', "kv_buf data must be NUL-terminated");
    cr_assert_geq(v.cap, v.len + 1);
    OK(kv_get(db, "beta", 4, &v));
    conf_expect_buf(&v, "two2", 4, "beta");
    kv_buf_free(&v);
    cr_assert_null(v.data);
    cr_assert_eq(v.cap, 0);
    kv_buf_free(NULL);
    conf_close(db);
}

Test(conf_basic, overwrite_longer_and_shorter)
{
    static const size_t sizes[] = {10, 1000, 3, 0, 4096, 1, 2500, 2};
    kv_db *db = conf_open(NULL);
    unsigned char *val = malloc(4096);
    kv_buf v = {0};

    cr_assert_not_null(val);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        for (size_t j = 0; j < sizes[i]; j++)
            val[j] = (unsigned char)(i * 31 + j * 7);
        OK(kv_put(db, "key", 3, val, sizes[i]));
        OK(kv_get(db, "key", 3, &v));
        conf_expect_buf(&v, val, sizes[i], "overwritten value");
    }
    {
        kv_stats st;
        OK(kv_db_stats(db, &st));
        cr_assert_eq(st.keys, 1, "one key overwritten 8 times: stats.keys %llu",
                     (unsigned long long)st.keys);
        cr_assert_eq(st.bytes, 3 + 2);
    }
    free(val);
    kv_buf_free(&v);
    conf_close(db);
}

Test(conf_basic, delete_semantics)
{
    kv_db *db = conf_open(NULL);
    kv_buf v = {0};

    RC(kv_delete(db, "never", 5), KV_ENOTFOUND);
    OK(kv_put(db, "a", 1, "1", 1));
    OK(kv_put(db, "b", 1, "2", 1));
    OK(kv_delete(db, "a", 1));
    RC(kv_get(db, "a", 1, &v), KV_ENOTFOUND);
    RC(kv_get(db, "a", 1, NULL), KV_ENOTFOUND);
    RC(kv_delete(db, "a", 1), KV_ENOTFOUND);
    OK(kv_get(db, "b", 1, &v));
    conf_expect_buf(&v, "2", 1, "b survives the delete of a");
    /* re-put after delete */
    OK(kv_put(db, "a", 1, "again", 5));
    OK(kv_get(db, "a", 1, &v));
    conf_expect_buf(&v, "again", 5, "a after re-put");
    OK(kv_delete(db, "a", 1));
    OK(kv_delete(db, "b", 1));
    RC(kv_get(db, "b", 1, &v), KV_ENOTFOUND);
    OK(kv_put(db, "a", 1, "", 0));
    OK(kv_get(db, "a", 1, &v));
    cr_assert_eq(v.len, 0);
    kv_buf_free(&v);
    conf_close(db);
}

Test(conf_basic, null_buffer_is_existence_test)
{
    kv_db *db = conf_open(NULL);

    OK(kv_put(db, "here", 4, "x", 1));
    OK(kv_put(db, "empty", 5, NULL, 0));
    OK(kv_get(db, "here", 4, NULL));
    OK(kv_get(db, "empty", 5, NULL));
    RC(kv_get(db, "gone", 4, NULL), KV_ENOTFOUND);
    OK(kv_delete(db, "here", 4));
    RC(kv_get(db, "here", 4, NULL), KV_ENOTFOUND);
    conf_close(db);
}

/* One kv_buf for many gets of different sizes: it grows, len follows. */
Test(conf_basic, buffer_reused_across_sizes)
{
    enum { N = 64 };
    kv_db *db = conf_open(NULL);
    kv_rng r;
    kv_buf v = {0};
    size_t len[N];
    unsigned char *val = malloc(4096);

    cr_assert_not_null(val);
    kv_rng_seed(&r, conf_seed(11));
    for (unsigned i = 0; i < N; i++) {
        char key[16];
        int kl = snprintf(key, sizeof(key), "buf%u", i);
        len[i] = i % 7 == 0 ? 0 : (size_t)kv_rng_below(&r, i % 3 ? 300 : 4097);
        for (size_t j = 0; j < len[i]; j++)
            val[j] = (unsigned char)(i + j * 13);
        OK(kv_put(db, key, (size_t)kl, val, len[i]));
    }
    for (unsigned round = 0; round < 4 * N; round++) {
        unsigned i = (unsigned)kv_rng_below(&r, N);
        char key[16];
        int kl = snprintf(key, sizeof(key), "buf%u", i);
        for (size_t j = 0; j < len[i]; j++)
            val[j] = (unsigned char)(i + j * 13);
        OK(kv_get(db, key, (size_t)kl, &v));
        conf_expect_buf(&v, val, len[i], key);
        cr_assert_eq(((char *)v.data)[v.len], '\0', "kv_buf must stay NUL-terminated");
        if (round % 5 == 0) {
            RC(kv_get(db, "nope", 4, &v), KV_ENOTFOUND);
            cr_assert_eq(v.len, 0);
        }
    }
    free(val);
    kv_buf_free(&v);
    conf_close(db);
}

Test(conf_basic, empty_key_is_einval)
{
    kv_db *db = conf_open(NULL);
    kv_buf v = {0};

    RC(kv_put(db, "k", 0, "v", 1), KV_EINVAL);
    cr_assert_neq(kv_last_error()[0], '\0', "kv_last_error must explain a failure");
    RC(kv_put(db, NULL, 0, "v", 1), KV_EINVAL);
    RC(kv_get(db, "k", 0, &v), KV_EINVAL);
    cr_assert_eq(v.len, 0);
    RC(kv_get(db, "k", 0, NULL), KV_EINVAL);
    RC(kv_delete(db, "k", 0), KV_EINVAL);
    /* nothing was stored under the 1-byte prefix either */
    RC(kv_get(db, "k", 1, NULL), KV_ENOTFOUND);
    kv_buf_free(&v);
    conf_close(db);
}

Test(conf_basic, empty_value_allowed)
{
    kv_db *db = conf_open(NULL);
    kv_buf v = {0};

    OK(kv_put(db, "e1", 2, "ignored", 0));
    OK(kv_put(db, "e2", 2, NULL, 0));
    OK(kv_put(db, "full", 4, "abc", 3));
    OK(kv_get(db, "full", 4, &v)); /* len 3 first, so a stale len would show */
    OK(kv_get(db, "e1", 2, &v));
    cr_assert_eq(v.len, 0, "empty value reads back with len %zu", v.len);
    OK(kv_get(db, "e2", 2, &v));
    cr_assert_eq(v.len, 0);
    OK(kv_put(db, "full", 4, "", 0));
    OK(kv_get(db, "full", 4, &v));
    cr_assert_eq(v.len, 0, "overwrite with an empty value: len %zu", v.len);
    RC(kv_put(db, "e3", 2, NULL, 5), KV_EINVAL);
    RC(kv_get(db, "e3", 2, NULL), KV_ENOTFOUND);
    kv_buf_free(&v);
    conf_close(db);
}

Test(conf_basic, null_key_is_einval)
{
    kv_db *db = conf_open(NULL);
    kv_buf v = {0};

    RC(kv_put(db, NULL, 3, "v", 1), KV_EINVAL);
    RC(kv_get(db, NULL, 3, &v), KV_EINVAL);
    RC(kv_get(db, NULL, 3, NULL), KV_EINVAL);
    RC(kv_delete(db, NULL, 3), KV_EINVAL);
    RC(kv_put(NULL, "k", 1, "v", 1), KV_EINVAL);
    RC(kv_get(NULL, "k", 1, &v), KV_EINVAL);
    RC(kv_delete(NULL, "k", 1), KV_EINVAL);
    RC(kv_sync(NULL), KV_EINVAL);
    OK(kv_close(NULL));
    cr_assert_eq(kv_caps(NULL), 0);
    kv_buf_free(&v);
    conf_close(db);
}

Test(conf_basic, strerror_distinct)
{
    static const int codes[] = {KV_OK,  KV_ENOTFOUND, KV_EINVAL, KV_ETOOBIG, KV_ENOMEM,
                                KV_EIO, KV_ECORRUPT,  KV_EBUSY,  KV_EFULL,   KV_ENOTSUP};
    size_t n = sizeof(codes) / sizeof(codes[0]);

    /* the values are part of the contract */
    cr_assert(KV_OK == 0 && KV_ENOTFOUND == -1 && KV_EINVAL == -2 && KV_ETOOBIG == -3 &&
              KV_ENOMEM == -4 && KV_EIO == -5 && KV_ECORRUPT == -6 && KV_EBUSY == -7 &&
              KV_EFULL == -8 && KV_ENOTSUP == -9);
    for (size_t i = 0; i < n; i++) {
        const char *m = kv_strerror(codes[i]);
        cr_assert_not_null(m, "kv_strerror(%d) is NULL", codes[i]);
        cr_assert_neq(m[0], '\0', "kv_strerror(%d) is empty", codes[i]);
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(m, kv_strerror(codes[j]), "codes %d and %d share a message", codes[i],
                              codes[j]);
    }
    cr_assert_not_null(kv_strerror(-42));
    cr_assert_not_null(kv_strerror(7));
}

Test(conf_basic, last_error_after_failures)
{
    kv_db *db = conf_open("max_key=8");

    RC(kv_put(db, "123456789", 9, "v", 1), KV_ETOOBIG);
    cr_assert_neq(kv_last_error()[0], '\0', "no detail after KV_ETOOBIG");
    RC(kv_put(db, "", 0, "v", 1), KV_EINVAL);
    cr_assert_neq(kv_last_error()[0], '\0', "no detail after KV_EINVAL");
    cr_assert_not_null(kv_last_error());
    conf_close(db);
}

Test(conf_basic, unknown_option_named)
{
    kv_db *db = NULL;

    RC(conf_open_at(conf_path(0, "db"), "bogus_option_xyz=1", &db), KV_EINVAL);
    cr_assert_null(db, "out must not be set on failure");
    cr_assert_not_null(strstr(kv_last_error(), "bogus_option_xyz"),
                       "kv_last_error must name the unknown option: '%s'", kv_last_error());
}

Test(conf_basic, duplicate_option)
{
    kv_db *db = NULL;

    RC(conf_open_at(conf_path(0, "db"), "sync=none,sync=none", &db), KV_EINVAL);
    cr_assert_not_null(strstr(kv_last_error(), "sync"), "detail: '%s'", kv_last_error());
    RC(conf_open_at(conf_path(0, "db"), "max_value=10, max_value = 10", &db), KV_EINVAL);
    cr_assert_null(db);
}

Test(conf_basic, bad_option_values)
{
    static const char *bad[] = {
        "sync=sometimes", "sync_ms=abc",
        "sync_ms=-1",     "cache=12Q",
        "cache=",         "max_value=1X",
        "max_key=K",      "sync",
        "=none",          "max_value=99999999999999999999999",
        "mode=0800",      "mode=01600",
        "mode=0400",      "mode=0x180",
        "mode=",          "mode=rw-------",
    };
    kv_db *db = NULL;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = conf_open_at(conf_path(0, "db"), bad[i], &db);
        cr_assert_eq(rc, KV_EINVAL, "options \"%s\" gave %d (%s), want KV_EINVAL", bad[i], rc,
                     kv_strerror(rc));
        cr_assert_neq(kv_last_error()[0], '\0', "no detail for \"%s\"", bad[i]);
        cr_assert_null(db);
    }
}

/* Booleans: the common keys have none, so this uses the model engine's
 * `durable` (model is linked into every conformance binary): it checks the
 * front end's parser, which every engine shares. */
Test(conf_basic, bad_boolean)
{
    kv_db *db = NULL;

    RC(kv_open("model", conf_path(0, "m"), "durable=maybe", &db), KV_EINVAL);
    cr_assert_not_null(strstr(kv_last_error(), "durable"), "detail: '%s'", kv_last_error());
    RC(kv_open("model", conf_path(0, "m"), "durable=yes", &db), KV_EINVAL);
    RC(kv_open("model:durable=2", conf_path(0, "m"), NULL, &db), KV_EINVAL);
    OK(kv_open("model", conf_path(0, "m"), "durable=0", &db));
    cr_assert_eq(kv_caps(db) & KV_CAP_DURABLE, 0);
    OK(kv_close(db));
}

/* Whitespace around tokens is ignored; sizes take K/M/G; empty pairs are skipped. */
Test(conf_basic, option_syntax_accepted)
{
    kv_db *db = NULL;

    OK(conf_open_at(conf_path(0, "db"), " max_key = 16 ,, max_value = 1K ,", &db));
    OK(kv_put(db, "0123456789abcdef", 16, "v", 1));
    RC(kv_put(db, "0123456789abcdefg", 17, "v", 1), KV_ETOOBIG);
    {
        char *val = calloc(1, 1025);
        cr_assert_not_null(val);
        OK(kv_put(db, "k", 1, val, 1024));
        RC(kv_put(db, "k", 1, val, 1025), KV_ETOOBIG);
        free(val);
    }
    conf_close(db);
    OK(conf_open_at(conf_path(0, "db"), "sync=none,sync_ms=20,cache=1M", &db));
    conf_close(db);
    OK(conf_open_at(conf_path(0, "db"), "", &db));
    conf_close(db);
}

Test(conf_basic, unknown_engine)
{
    kv_db *db = NULL;

    RC(kv_open("no_such_engine_zz", conf_path(0, "db"), NULL, &db), KV_EINVAL);
    cr_assert_not_null(strstr(kv_last_error(), "no_such_engine_zz"), "detail: '%s'",
                       kv_last_error());
    RC(kv_open("no_such_engine_zz:x=1", conf_path(0, "db"), NULL, &db), KV_EINVAL);
    RC(kv_open("", conf_path(0, "db"), NULL, &db), KV_EINVAL);
    RC(kv_open(NULL, conf_path(0, "db"), NULL, &db), KV_EINVAL);
    RC(kv_open(conf_engine(), conf_path(0, "db"), NULL, NULL), KV_EINVAL);
    cr_assert_null(db);
}

Test(conf_basic, engine_names_lists_engine)
{
    const char *const *names = kv_engine_names();
    bool found = false, model = false;
    kv_db *db;

    cr_assert_not_null(names);
    for (size_t i = 0; names[i]; i++) {
        found |= !strcmp(names[i], conf_engine_name());
        model |= !strcmp(names[i], "model");
    }
    cr_assert(found, "kv_engine_names() lacks '%s'", conf_engine_name());
    cr_assert(model, "kv_engine_names() lacks the oracle 'model'");
    db = conf_open(NULL);
    cr_assert_str_eq(kv_engine_name(db), conf_engine_name());
    conf_close(db);
}

Test(conf_basic, stats_after_known_sequence)
{
    kv_db *db = conf_open(NULL);
    kv_stats st;
    kv_buf v = {0};

    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, 0);
    cr_assert_eq(st.bytes, 0);
    cr_assert_eq(st.puts + st.gets + st.deletes + st.user_bytes_written, 0);

    OK(kv_put(db, "a", 1, "xyz", 3));         /* a: 4 bytes */
    OK(kv_put(db, "bb", 2, "12345", 5));      /* bb: 7 bytes */
    OK(kv_put(db, "a", 1, "0123456789", 10)); /* a: 11 bytes */
    OK(kv_put(db, "ccc", 3, "", 0));          /* ccc: 3 bytes */
    OK(kv_delete(db, "bb", 2));
    RC(kv_delete(db, "bb", 2), KV_ENOTFOUND); /* not counted */
    RC(kv_put(db, "", 0, "x", 1), KV_EINVAL); /* not counted */
    OK(kv_get(db, "a", 1, &v));
    OK(kv_get(db, "ccc", 3, NULL));
    RC(kv_get(db, "bb", 2, &v), KV_ENOTFOUND); /* a miss is a get */
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, 2, "stats.keys %llu, want 2", (unsigned long long)st.keys);
    cr_assert_eq(st.bytes, 11 + 3, "stats.bytes %llu, want 14", (unsigned long long)st.bytes);
    cr_assert_eq(st.puts, 4, "stats.puts %llu, want 4", (unsigned long long)st.puts);
    cr_assert_eq(st.gets, 3, "stats.gets %llu, want 3", (unsigned long long)st.gets);
    cr_assert_eq(st.deletes, 1, "stats.deletes %llu, want 1", (unsigned long long)st.deletes);
    cr_assert_eq(st.user_bytes_written, 4 + 7 + 11 + 3, "stats.user_bytes_written %llu",
                 (unsigned long long)st.user_bytes_written);
    cr_assert_leq(st.n_extra, KV_STATS_EXTRA);
    for (unsigned i = 0; i < st.n_extra; i++)
        cr_assert(memchr(st.extra[i].name, '\0', sizeof(st.extra[i].name)) && st.extra[i].name[0],
                  "extra counter %u has no NUL-terminated name", i);
    RC(kv_db_stats(db, NULL), KV_EINVAL);
    RC(kv_db_stats(NULL, &st), KV_EINVAL);
    kv_buf_free(&v);
    conf_close(db);
}

/* Many keys: growth, rehashing, splits; half deleted, the rest intact. */
Test(conf_basic, many_keys)
{
    size_t n = conf_scale(20000);
    kv_db *db = conf_open(NULL);
    unsigned char key[CONF_KEY_MAX], val[CONF_VAL_MAX];
    kv_buf v = {0};
    kv_stats st;
    uint64_t bytes = 0, ver;

    for (uint32_t i = 0; i < n; i++) {
        size_t kl = conf_key(i, key), vl = conf_val(i, i, val);
        OK(kv_put(db, key, kl, val, vl));
    }
    for (uint32_t i = 0; i < n; i += 2) {
        size_t kl = conf_key(i, key);
        OK(kv_delete(db, key, kl));
    }
    for (uint32_t i = 0; i < n; i++) {
        size_t kl = conf_key(i, key);
        int rc = kv_get(db, key, kl, &v);
        if (i % 2 == 0) {
            cr_assert_eq(rc, KV_ENOTFOUND, "deleted key %u: %d", i, rc);
        } else {
            cr_assert_eq(rc, KV_OK, "key %u: %d (%s)", i, rc, kv_last_error());
            cr_assert(conf_val_check(i, v.data, v.len, &ver) && ver == i, "key %u: bad value", i);
            bytes += kl + v.len;
        }
    }
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, n / 2, "stats.keys %llu, want %zu", (unsigned long long)st.keys, n / 2);
    cr_assert_eq(st.bytes, bytes);
    kv_buf_free(&v);
    conf_close(db);
}

/*
 * Out of memory (kvlabs/alloc.h's hook fails the nth allocation): every
 * call either succeeds or returns KV_ENOMEM with nothing changed, for
 * every n until the call no longer reaches the failure. Durable engines
 * are then reopened: a failed put must not come back from the disk either.
 * Engines that allocate elsewhere (in a kernel) just never hit the hook.
 */
static int armed(int rc, bool *hit)
{
    *hit = kv_alloc_fail_hit();
    kv_alloc_fail_at(0, false);
    return rc;
}

Test(conf_basic, enomem_changes_nothing)
{
    kv_db *db = conf_open(NULL);
    kv_buf v = {0};
    char key[32], val[64];
    bool hit = true;
    size_t runs = 0;
    uint64_t inserted[40] = {0}; /* bit n of [round]: attempt n of that round succeeded */

    OK(kv_put(db, "stable", 6, "old value", 9));
    /* Insert new keys, a failure loop per key, at 40 fill levels (so table
     * growth, splits and flushes are among the failing allocations). Each
     * attempt uses its own key; failed ones must stay absent, also on disk. */
    for (unsigned round = 0; round < 40; round++) {
        hit = true;
        for (uint64_t n = 1; hit && n < 1000; n++, runs++) {
            int kl = snprintf(key, sizeof(key), "new%u.%llu", round, (unsigned long long)n), rc;
            kv_alloc_fail_at(n, false);
            rc = armed(kv_put(db, key, (size_t)kl, "fresh", 5), &hit);
            cr_assert(rc == KV_OK || rc == KV_ENOMEM, "put with allocation %llu failing: %d (%s)",
                      (unsigned long long)n, rc, kv_strerror(rc));
            cr_assert(rc == KV_OK || hit, "KV_ENOMEM although no allocation failed");
            RC(kv_get(db, key, (size_t)kl, NULL), rc == KV_OK ? KV_OK : KV_ENOTFOUND);
            if (n >= sizeof(inserted[0]) * 8)
                continue;
            if (rc == KV_OK)
                inserted[round] |= 1ULL << n;
        }
    }
    hit = true;
    for (uint64_t n = 1; hit && n < 1000; n++, runs++) { /* overwrite */
        int vl = snprintf(val, sizeof(val), "a longer value number %llu", (unsigned long long)n);
        kv_alloc_fail_at(n, false);
        int rc = armed(kv_put(db, "stable", 6, val, (size_t)vl), &hit);
        cr_assert(rc == KV_OK || rc == KV_ENOMEM, "overwrite, allocation %llu failing: %d",
                  (unsigned long long)n, rc);
        OK(kv_get(db, "stable", 6, &v));
        if (rc == KV_OK)
            conf_expect_buf(&v, val, (size_t)vl, "overwrite that succeeded");
        else
            conf_expect_buf(&v, "old value", 9, "overwrite that failed with KV_ENOMEM");
        OK(kv_put(db, "stable", 6, "old value", 9));
    }
    hit = true;
    for (uint64_t n = 1; hit && n < 1000; n++, runs++) { /* delete */
        OK(kv_put(db, "victim", 6, "v", 1));
        kv_alloc_fail_at(n, false);
        int rc = armed(kv_delete(db, "victim", 6), &hit);
        cr_assert(rc == KV_OK || rc == KV_ENOMEM, "delete, allocation %llu failing: %d",
                  (unsigned long long)n, rc);
        RC(kv_get(db, "victim", 6, NULL), rc == KV_OK ? KV_ENOTFOUND : KV_OK);
    }
    hit = true;
    for (uint64_t n = 1; hit && n < 1000; n++, runs++) { /* get into an empty buffer */
        kv_buf fresh = {0};
        kv_alloc_fail_at(n, false);
        int rc = armed(kv_get(db, "stable", 6, &fresh), &hit);
        cr_assert(rc == KV_OK || rc == KV_ENOMEM, "get, allocation %llu failing: %d",
                  (unsigned long long)n, rc);
        if (rc == KV_OK)
            conf_expect_buf(&fresh, "old value", 9, "get");
        else
            cr_assert_eq(fresh.len, 0, "failed get left len %zu", fresh.len);
        kv_buf_free(&fresh);
    }
    cr_log_info("%zu allocation-failure runs", runs);
    if (kv_caps(db) & KV_CAP_DURABLE) {
        conf_close(db);
        db = conf_open(NULL);
    }
    OK(kv_get(db, "stable", 6, &v));
    conf_expect_buf(&v, "old value", 9, "after the loops");
    RC(kv_get(db, "victim", 6, NULL), KV_ENOTFOUND);
    for (unsigned round = 0; round < 40; round++) {
        for (unsigned n = 1; n < 64; n++) {
            int kl = snprintf(key, sizeof(key), "new%u.%u", round, n);
            bool ok = inserted[round] >> n & 1;
            int rc = kv_get(db, key, (size_t)kl, NULL);
            cr_assert_eq(rc, ok ? KV_OK : KV_ENOTFOUND, "%s, %s with KV_%s, reads back %d", key,
                         ok ? "inserted" : "refused", ok ? "OK" : "ENOMEM", rc);
        }
    }
    kv_buf_free(&v);
    conf_close(db);
}

/* kv_open under allocation failures: KV_ENOMEM (no leak: ASan) or a working handle. */
Test(conf_basic, open_enomem)
{
    kv_db *db = conf_open(NULL);
    bool hit = true;

    OK(kv_put(db, "k", 1, "v", 1));
    conf_close(db);
    for (uint64_t n = 1; hit && n < 1000; n++) {
        db = NULL;
        kv_alloc_fail_at(n, false);
        int rc = armed(conf_open_at(conf_path(0, "db"), "sync=none", &db), &hit);
        cr_assert(rc == KV_OK || rc == KV_ENOMEM, "open, allocation %llu failing: %d (%s): %s",
                  (unsigned long long)n, rc, kv_strerror(rc), kv_last_error());
        if (rc == KV_OK)
            conf_close(db);
        else
            cr_assert_null(db);
    }
    db = conf_open(NULL);
    if (kv_caps(db) & KV_CAP_DURABLE)
        OK(kv_get(db, "k", 1, NULL));
    conf_close(db);
}
