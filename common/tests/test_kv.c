/*
 * test_kv.c — unit tests of the front end (kv.c): what kv.h's functions do
 * before and around the dispatch to an engine.
 *
 * The engine semantics (put/get/delete, order, durability) are the
 * conformance suite's; this file checks the front end's own work with the
 * one engine linked here, model: the registry and engine lookup, argument
 * checks (NULL pointers, empty keys, NULL values), the engine suffix and
 * its join with the option argument, the resolution of max_key/max_value
 * against the engine's limits and their enforcement, kv_buf handling,
 * and the counters of kv_db_stats() (operations and the env's I/O since
 * open). The iterator bookkeeping, the engines' optional members and
 * failures, the open path on a failing env and the malloc-failure loops
 * are in test_kv_engine.c; the helpers both use are in kv_fixture.h.
 *
 * The program's generated registry lists only model, which is ordered and
 * has every optional member, so the front end's paths for an engine
 * without KV_CAP_ORDERED or without sync/stats/iter_status are reached by
 * editing an open handle's header (struct kv_db is public in engine.h):
 * clearing its caps bit, or pointing it at a copy of model's table with
 * those members NULL.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/env.h"
#include "kvlabs/error.h"
#include "kvlabs/kv.h"

#include "kv_fixture.h"
#include "kvtest.h"

/* ---- registry --------------------------------------------------------------- */

Test(kv, engine_names_lists_model_null_terminated)
{
    const char *const *names = kv_engine_names();
    size_t n = 0;
    bool model = false;

    cr_assert_not_null(names);
    for (; names[n]; n++) {
        cr_assert_lt(n, 64, "no NULL terminator in sight");
        model |= !strcmp(names[n], "model");
        const kv_engine_ops *ops = kv_engine_find(names[n], strlen(names[n]));
        cr_assert_not_null(ops, "listed engine '%s' is not found", names[n]);
        cr_assert_str_eq(ops->name, names[n]);
        cr_assert_eq(kv_registry[n], ops, "names and registry in the same order");
    }
    cr_assert(model, "model is not listed");
    cr_assert_null(kv_registry[n], "registry and names have the same length");
    cr_assert_eq(kv_engine_names(), names, "a static array");
}

Test(kv, engine_find_by_length)
{
    cr_assert_eq(kv_engine_find("model", 5), &kv_engine_model);
    cr_assert_eq(kv_engine_find("model:durable=true", 5), &kv_engine_model, "not NUL-terminated");
    cr_assert_null(kv_engine_find("model", 4));
    cr_assert_null(kv_engine_find("models", 6));
    cr_assert_null(kv_engine_find("MODEL", 5));
    cr_assert_null(kv_engine_find("", 0));
}

/* ---- kv_open arguments -------------------------------------------------------- */

Test(kv, open_unknown_engine)
{
    kv_db *db = SENTINEL;

    RC(kv_open("nosuch", NULL, NULL, &db), KV_EINVAL);
    cr_assert_eq(db, SENTINEL, "out written on failure");
    DETAIL_HAS("unknown engine 'nosuch'");
    RC(kv_open("nosuch:durable=true", NULL, NULL, &db), KV_EINVAL);
    cr_assert_str_eq(kv_last_error(), "unknown engine 'nosuch' (see kv_engine_names)");
    RC(kv_open("", NULL, NULL, &db), KV_EINVAL);
    DETAIL_HAS("unknown engine ''");
    RC(kv_open(":durable=true", NULL, NULL, &db), KV_EINVAL);
    DETAIL_HAS("unknown engine ''");
    RC(kv_open("mode", NULL, NULL, &db), KV_EINVAL);
    RC(kv_open("model ", NULL, NULL, &db), KV_EINVAL);
    cr_assert_eq(db, SENTINEL);
}

Test(kv, open_null_arguments)
{
    kv_env *env = mem_env();
    kv_db *db = SENTINEL;

    RC(kv_open(NULL, NULL, NULL, &db), KV_EINVAL);
    DETAIL_HAS("must not be NULL");
    RC(kv_open("model", NULL, NULL, NULL), KV_EINVAL);
    RC(kv_open_env("model", NULL, NULL, NULL, &db), KV_EINVAL);
    RC(kv_open_env(NULL, NULL, NULL, env, &db), KV_EINVAL);
    RC(kv_open_env("model", NULL, NULL, env, NULL), KV_EINVAL);
    cr_assert_eq(db, SENTINEL);
    kv_env_free(env);
}

Test(kv, open_defaults_name_and_caps)
{
    static const char *const opts[] = {NULL, "", " , "};
    kv_db *db = NULL;

    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        OK(kv_open("model", NULL, opts[i], &db));
        cr_assert_str_eq(kv_engine_name(db), "model");
        cr_assert_eq(kv_caps(db), KV_CAP_ORDERED, "in-memory model: ordered only");
        cr_assert_eq(db->env, kv_env_posix(), "kv_open uses the posix env");
        cr_assert_eq(db->max_key, kv_engine_model.default_max_key);
        cr_assert_eq(db->max_value, kv_engine_model.default_max_value);
        OK(kv_close(db));
    }
    OK(kv_open("model:", NULL, NULL, &db)); /* an empty suffix */
    OK(kv_close(db));
    cr_assert_str_eq(kv_engine_name(NULL), "");
    cr_assert_eq(kv_caps(NULL), 0);
    OK(kv_close(NULL));
}

Test(kv, engine_suffix_options)
{
    kv_env *env = mem_env();
    kv_db *db = open_mem(env, "model:durable=true", NULL);
    kv_env_counters c0, c1;

    cr_assert_eq(kv_caps(db), KV_CAP_ORDERED | KV_CAP_DURABLE, "the suffix was applied");
    cr_assert_str_eq(kv_engine_name(db), "model", "the name has no suffix");
    cr_assert_eq(db->env, env);
    OK(kv_close(db));

    /* The suffix and the argument combine: durable from one, sync=always from the other. */
    db = open_mem(env, "model:durable=true", "sync=always");
    kv_env_get_counters(env, &c0);
    OK(kv_put(db, "k", 1, "v", 1));
    kv_env_get_counters(env, &c1);
    cr_assert_eq(c1.syncs - c0.syncs, 1, "sync=always from the argument");
    OK(kv_close(db));

    db = open_mem(env, "model: durable = true ,", " sync = none ");
    cr_assert(kv_caps(db) & KV_CAP_DURABLE);
    OK(kv_close(db));
    kv_env_free(env);
}

Test(kv, suffix_and_argument_duplicate)
{
    kv_env *env = mem_env();
    kv_db *db = SENTINEL;

    RC(kv_open_env("model:durable=true", "/db", "durable=false", env, &db), KV_EINVAL);
    cr_assert_eq(db, SENTINEL);
    cr_assert_str_eq(kv_last_error(), "engine 'model': duplicate option 'durable'");
    RC(kv_open_env("model:sync=none", "/db", "sync=none", env, &db), KV_EINVAL);
    DETAIL_HAS("duplicate option 'sync'");
    RC(kv_open_env("model:bogus=1", "/db", NULL, env, &db), KV_EINVAL);
    DETAIL_HAS("engine 'model': unknown option 'bogus'; accepted: durable, sync, sync_ms, cache, "
               "max_key, max_value");
    RC(kv_open_env("model", "/db", "durable=maybe", env, &db), KV_EINVAL);
    DETAIL_HAS("engine 'model': option 'durable': 'maybe' is not a boolean");
    cr_assert_eq(db, SENTINEL);
    kv_env_free(env);
    NO_LEAKS();
}

/* ---- mode= -------------------------------------------------------------------- */

/* The mode of @p path on @p env, asserting it exists. */
static unsigned mode_of(const kv_env *env, const char *path)
{
    unsigned m = 0;

    OK(kv_env_stat_mode(env, path, &m));
    return m;
}

/* The front end turns mode= into the modes the engine creates with: 0600/0700 by
 * default, the given file mode and kv_mode_dir_of() of it otherwise (the mem env
 * records exactly what was asked, no umask). */
Test(kv, mode_option_reaches_the_engine)
{
    kv_env *env = mem_env();
    kv_db *db = open_mem(env, "model:durable=true", NULL);

    OK(kv_close(db));
    cr_assert_eq(mode_of(env, "/db"), 0700, "default directory mode 0%o", mode_of(env, "/db"));
    cr_assert_eq(mode_of(env, "/db/model.log"), 0600, "default file mode 0%o",
                 mode_of(env, "/db/model.log"));

    OK(kv_open_env("model:durable=true", "/g", "mode=0640", env, &db));
    OK(kv_close(db));
    cr_assert_eq(mode_of(env, "/g"), 0750, "mode=0640: directory 0%o", mode_of(env, "/g"));
    cr_assert_eq(mode_of(env, "/g/model.log"), 0640);

    OK(kv_open_env("model:durable=true,mode=666", "/w", NULL, env, &db)); /* in the suffix */
    OK(kv_close(db));
    cr_assert_eq(mode_of(env, "/w"), 0777);
    cr_assert_eq(mode_of(env, "/w/model.log"), 0666);

    /* An existing store keeps its modes. */
    OK(kv_open_env("model:durable=true", "/g", "mode=0600", env, &db));
    OK(kv_close(db));
    cr_assert_eq(mode_of(env, "/g/model.log"), 0640, "reopening changed an existing file's mode");
    kv_env_free(env);
    NO_LEAKS();
}

Test(kv, bad_mode_is_einval_and_creates_nothing)
{
    static const char *const bad[] = {"mode=0800", "mode=01600", "mode=0400", "mode=0x180",
                                      "mode=", "mode=0o600"};
    kv_env *env = mem_env();
    kv_db *db = SENTINEL;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        RC(kv_open_env("model:durable=true", "/db", bad[i], env, &db), KV_EINVAL);
        DETAIL_HAS("engine 'model': option 'mode'");
        cr_assert_eq(db, SENTINEL);
        RC(kv_env_stat(env, "/db", NULL, NULL), KV_ENOTFOUND);
    }
    /* Engines without files accept and ignore a good mode. */
    OK(kv_open("model", NULL, "mode=0640", &db));
    OK(kv_put(db, "k", 1, "v", 1));
    OK(kv_close(db));
    kv_env_free(env);
    NO_LEAKS();
}

/* ---- limits ------------------------------------------------------------------- */

Test(kv, limits_beyond_engine_are_einval)
{
    kv_db *db = SENTINEL;
    char opt[64];

    snprintf(opt, sizeof(opt), "max_key=%zu", kv_engine_model.limit_max_key + 1);
    RC(kv_open("model", NULL, opt, &db), KV_EINVAL);
    DETAIL_HAS("max_key=1073741825 exceeds the engine's limit 1073741824");
    snprintf(opt, sizeof(opt), "max_value=%zu", kv_engine_model.limit_max_value + 1);
    RC(kv_open("model", NULL, opt, &db), KV_EINVAL);
    DETAIL_HAS("max_value=1073741825 exceeds the engine's limit");
    RC(kv_open("model", NULL, "max_value=2G", &db), KV_EINVAL);
    RC(kv_open("model:max_key=1G", NULL, "max_value=4G", &db), KV_EINVAL);
    cr_assert_eq(db, SENTINEL);

    /* Exactly the engine's limit is accepted (1G = 1 << 30 = model's limit). */
    OK(kv_open("model", NULL, "max_key=1G,max_value=1G", &db));
    cr_assert_eq(db->max_key, 1u << 30);
    cr_assert_eq(db->max_value, 1u << 30);
    OK(kv_close(db));
    NO_LEAKS();
}

Test(kv, effective_limits_enforced)
{
    kv_db *db = NULL;
    char key[16], val[32];
    kv_stats st;

    memset(key, 'k', sizeof(key));
    memset(val, 'v', sizeof(val));
    OK(kv_open("model", NULL, "max_key=8,max_value=16", &db));
    OK(kv_put(db, key, 8, val, 16));
    RC(kv_put(db, key, 9, val, 1), KV_ETOOBIG);
    cr_assert_str_eq(kv_last_error(), "key of 9 bytes exceeds max_key=8");
    RC(kv_put(db, key, 1, val, 17), KV_ETOOBIG);
    cr_assert_str_eq(kv_last_error(), "value of 17 bytes exceeds max_value=16");
    RC(kv_get(db, key, 9, NULL), KV_ETOOBIG);
    RC(kv_delete(db, key, 9), KV_ETOOBIG);
    OK(kv_get(db, key, 8, NULL));
    RC(kv_get(db, key, 1, NULL), KV_ENOTFOUND); /* the refused put stored nothing */
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, 1);
    cr_assert_eq(st.puts, 1, "refused puts are not counted");
    OK(kv_delete(db, key, 8));
    OK(kv_close(db));

    /* The defaults: model's own (64 KiB keys, 64 MiB values). */
    char *big = calloc(1, 65537);
    cr_assert_not_null(big);
    OK(kv_open("model", NULL, NULL, &db));
    OK(kv_put(db, big, 65536, "", 0));
    RC(kv_put(db, big, 65537, "", 0), KV_ETOOBIG);
    OK(kv_close(db));
    free(big);
}

Test(kv, explicit_zero_max_value_admits_only_empty_values)
{
    kv_db *db = NULL;

    OK(kv_open("model", NULL, "max_value=0", &db));
    cr_assert_eq(db->max_value, 0);
    OK(kv_put(db, "k", 1, "", 0));
    RC(kv_put(db, "k", 1, "v", 1), KV_ETOOBIG);
    cr_assert_str_eq(kv_last_error(), "value of 1 bytes exceeds max_value=0");
    OK(kv_close(db));
    RC(kv_open("model", NULL, "max_key=0", &db), KV_EINVAL); /* max_key has a minimum of 1 */
    DETAIL_HAS("below its minimum 1");
}

/* ---- argument checks of the operations ---------------------------------------- */

Test(kv, operation_argument_checks)
{
    kv_db *db = NULL;
    kv_stats st;
    kv_iter *it = (kv_iter *)SENTINEL;
    kv_buf v = {0};

    OK(kv_open("model", NULL, NULL, &db));
    RC(kv_put(NULL, "k", 1, "v", 1), KV_EINVAL);
    DETAIL_HAS("NULL kv_db handle");
    RC(kv_put(db, NULL, 3, "v", 1), KV_EINVAL);
    DETAIL_HAS("NULL key with length 3");
    RC(kv_put(db, "k", 0, "v", 1), KV_EINVAL);
    DETAIL_HAS("empty key");
    RC(kv_put(db, NULL, 0, "v", 1), KV_EINVAL);
    DETAIL_HAS("empty key");
    RC(kv_put(db, "k", 1, NULL, 5), KV_EINVAL);
    cr_assert_str_eq(kv_last_error(), "NULL value with length 5");
    RC(kv_get(db, "k", 1, NULL), KV_ENOTFOUND); /* refused puts stored nothing */

    RC(kv_get(NULL, "k", 1, &v), KV_EINVAL);
    RC(kv_get(db, NULL, 1, &v), KV_EINVAL);
    RC(kv_get(db, "k", 0, &v), KV_EINVAL);
    RC(kv_delete(NULL, "k", 1), KV_EINVAL);
    RC(kv_delete(db, NULL, 1), KV_EINVAL);
    RC(kv_delete(db, "k", 0), KV_EINVAL);
    RC(kv_sync(NULL), KV_EINVAL);
    RC(kv_db_stats(NULL, &st), KV_EINVAL);
    RC(kv_db_stats(db, NULL), KV_EINVAL);
    RC(kv_iter_open(NULL, &it), KV_EINVAL);
    RC(kv_iter_open(db, NULL), KV_EINVAL);
    cr_assert_eq((void *)it, (void *)SENTINEL);

    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.gets, 1, "only the get that reached the engine counts");
    cr_assert_eq(st.puts + st.deletes, 0);
    OK(kv_close(db));
}

Test(kv, null_value_with_zero_length_is_empty_value)
{
    kv_db *db = NULL;
    kv_buf v = {0};

    OK(kv_open("model", NULL, NULL, &db));
    OK(kv_put(db, "k", 1, NULL, 0));
    OK(kv_get(db, "k", 1, &v));
    cr_assert_eq(v.len, 0);
    cr_assert_not_null(v.data, "an empty value still gets a NUL-terminated buffer");
    cr_assert_eq(((char *)v.data)[0], '\0');
    OK(kv_get(db, "k", 1, NULL));
    kv_buf_free(&v);
    OK(kv_close(db));
}

/* ---- kv_buf -------------------------------------------------------------------- */

Test(kv, get_null_buf_is_existence_test)
{
    kv_db *db = NULL;
    kv_stats st;

    OK(kv_open("model", NULL, NULL, &db));
    OK(kv_put(db, "here", 4, "value", 5));
    OK(kv_get(db, "here", 4, NULL));
    RC(kv_get(db, "gone", 4, NULL), KV_ENOTFOUND);
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.gets, 2, "hits and misses count");
    OK(kv_close(db));
}

Test(kv, failure_leaves_len_zero)
{
    kv_db *db = NULL;
    kv_buf v = {0};
    void *data;
    size_t cap;

    OK(kv_open("model", NULL, "max_key=4", &db));
    OK(kv_put(db, "k", 1, "value", 5));
    OK(kv_get(db, "k", 1, &v));
    expect_buf(&v, "value", 5);
    data = v.data;
    cap = v.cap;

    RC(kv_get(db, "x", 1, &v), KV_ENOTFOUND);
    cr_assert_eq(v.len, 0);
    cr_assert_eq(v.data, data, "the buffer keeps its memory");
    cr_assert_eq(v.cap, cap);
    v.len = 5;
    RC(kv_get(db, "k", 0, &v), KV_EINVAL);
    cr_assert_eq(v.len, 0, "argument errors too");
    v.len = 5;
    RC(kv_get(NULL, "k", 1, &v), KV_EINVAL);
    cr_assert_eq(v.len, 0);
    v.len = 5;
    RC(kv_get(db, "kkkkk", 5, &v), KV_ETOOBIG);
    cr_assert_eq(v.len, 0);
    OK(kv_get(db, "k", 1, &v));
    expect_buf(&v, "value", 5);
    kv_buf_free(&v);
    OK(kv_close(db));
}

Test(kv, buf_reuse_and_growth)
{
    kv_db *db = NULL;
    kv_buf v = {0};
    char *big = malloc(5000);
    size_t cap;

    cr_assert_not_null(big);
    for (int i = 0; i < 5000; i++)
        big[i] = (char)(i * 7);
    OK(kv_open("model", NULL, NULL, &db));
    OK(kv_put(db, "small", 5, "0123456789", 10));
    OK(kv_put(db, "big", 3, big, 5000));
    OK(kv_put(db, "tiny", 4, "abc", 3));

    OK(kv_get(db, "small", 5, &v));
    expect_buf(&v, "0123456789", 10);
    cr_assert_eq(v.cap, 64, "first growth: 64 bytes");
    OK(kv_get(db, "big", 3, &v));
    expect_buf(&v, big, 5000);
    cr_assert_eq(v.cap, 8192, "doubled up from 64 to hold 5001 bytes");
    cap = v.cap;
    OK(kv_get(db, "tiny", 4, &v));
    expect_buf(&v, "abc", 3);
    cr_assert_eq(v.cap, cap, "never shrinks");
    OK(kv_get(db, "big", 3, &v));
    expect_buf(&v, big, 5000);
    cr_assert_eq(v.cap, cap);
    kv_buf_free(&v);
    free(big);
    OK(kv_close(db));
}

Test(kv, buf_set_direct)
{
    kv_buf b = {0};
    char blob[200];

    memset(blob, 'x', sizeof(blob));
    OK(kv_buf_set(&b, NULL, 0));
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.cap, 64);
    cr_assert_eq(((char *)b.data)[0], '\0');
    OK(kv_buf_set(&b, blob, 63));
    cr_assert_eq(b.cap, 64, "63 bytes and the NUL fit in 64");
    OK(kv_buf_set(&b, blob, 64));
    cr_assert_eq(b.cap, 128);
    expect_buf(&b, blob, 64);
    OK(kv_buf_set(&b, blob, 200));
    cr_assert_eq(b.cap, 256);
    expect_buf(&b, blob, 200);
    kv_buf_free(&b);
}

Test(kv, buf_set_enomem_keeps_old_data)
{
    kv_buf b = {0};
    char blob[100];
    void *data;

    memset(blob, 'y', sizeof(blob));
    OK(kv_buf_set(&b, "old", 3));
    data = b.data;
    kv_alloc_fail_at(1, false);
    RC(kv_buf_set(&b, blob, sizeof(blob)), KV_ENOMEM);
    kv_alloc_fail_at(0, false);
    DETAIL_HAS("out of memory growing a buffer to 128 bytes");
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.data, data, "the old block is kept");
    cr_assert_eq(b.cap, 64);
    cr_assert_eq(memcmp(b.data, "old", 4), 0, "and its bytes");
    /* A fitting copy needs no allocation: it works while allocations fail. */
    kv_alloc_fail_at(1, true);
    OK(kv_buf_set(&b, blob, 63));
    kv_alloc_fail_at(0, false);
    expect_buf(&b, blob, 63);
    kv_buf_free(&b);
}

Test(kv, buf_free_null_and_twice)
{
    kv_buf b = {0};

    kv_buf_free(NULL);
    kv_buf_free(&b); /* never used */
    OK(kv_buf_set(&b, "abc", 3));
    kv_buf_free(&b);
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.cap, 0);
    kv_buf_free(&b);
    cr_assert_null(b.data);
    /* A freed buffer is reusable. */
    OK(kv_buf_set(&b, "again", 5));
    expect_buf(&b, "again", 5);
    kv_buf_free(&b);
}

/* ---- stats -------------------------------------------------------------------- */

Test(kv, stats_operation_counters)
{
    kv_db *db = NULL;
    kv_stats st;

    OK(kv_open("model", NULL, "max_value=8", &db));
    memset(&st, 0xff, sizeof(st));
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.puts + st.gets + st.deletes + st.user_bytes_written, 0, "zeroed at open");
    cr_assert_eq(st.n_extra, 0);

    OK(kv_put(db, "a", 1, "12345", 5));                 /* 6 bytes */
    OK(kv_put(db, "bb", 2, "", 0));                     /* 2 bytes */
    OK(kv_put(db, "a", 1, "123", 3));                   /* overwrite: 4 bytes */
    RC(kv_put(db, "c", 1, "123456789", 9), KV_ETOOBIG); /* refused */
    OK(kv_get(db, "a", 1, NULL));
    RC(kv_get(db, "zz", 2, NULL), KV_ENOTFOUND);
    RC(kv_get(db, "", 0, NULL), KV_EINVAL); /* not counted */
    OK(kv_delete(db, "bb", 2));
    RC(kv_delete(db, "bb", 2), KV_ENOTFOUND); /* not counted */

    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.puts, 3);
    cr_assert_eq(st.gets, 2);
    cr_assert_eq(st.deletes, 1);
    cr_assert_eq(st.user_bytes_written, 12);
    cr_assert_eq(st.keys, 1, "from the engine");
    cr_assert_eq(st.bytes, 4);
    cr_assert_eq(st.disk_bytes, 0);
    cr_assert_eq(st.io_bytes_written, 0, "an in-memory model writes nothing");
    OK(kv_close(db));
}

Test(kv, stats_io_counters_on_mem_env)
{
    kv_env *env = mem_env();
    kv_db *db = open_mem(env, "model:durable=true", NULL);
    kv_stats st;

    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_bytes_written, 0, "counted from the open on");
    cr_assert_eq(st.io_syncs, 0, "the log's creation is before the open's snapshot");

    OK(kv_put(db, "key1", 4, "value1", 6));
    OK(kv_put(db, "k2", 2, "", 0));
    OK(kv_delete(db, "key1", 4));
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_bytes_written, REC(4, 6) + REC(2, 0) + REC(4, 0));
    cr_assert_eq(st.disk_bytes, st.io_bytes_written);
    cr_assert_eq(st.io_syncs, 0, "sync=none: no fsync per write");
    cr_assert_eq(st.io_bytes_read, 0);
    OK(kv_sync(db));
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_syncs, 1);
    OK(kv_sync(db));
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_syncs, 2);
    OK(kv_close(db));

    /* A reopen counts from its own open: the replay's read is before it. */
    db = open_mem(env, "model:durable=true", NULL);
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_bytes_written + st.io_bytes_read + st.io_syncs, 0);
    cr_assert_eq(st.keys, 1);
    cr_assert_eq(st.puts, 0, "operation counters are per handle");
    OK(kv_close(db));
    kv_env_free(env);
}
