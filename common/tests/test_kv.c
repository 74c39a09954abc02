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
 * the counters of kv_db_stats() (operations and the env's I/O since open),
 * the iterator bookkeeping, the open path on a failing env, and the
 * malloc-failure loop over kv_open and over kv_put/kv_get.
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

#include "test_util.h"

/* Size of one model log record (engine_model.c's format: 17-byte header). */
#define REC(klen, vlen) (17 + (klen) + (vlen))

extern const kv_engine_ops kv_engine_model;

/* A pointer that no function may write over on failure. */
#define SENTINEL ((kv_db *)(uintptr_t)0x5e171e1)

/* A fresh in-memory env (the model makes its directory); freed by the caller. */
static kv_env *mem_env(void)
{
    kv_env *env = kv_env_mem_new();

    cr_assert_not_null(env);
    return env;
}

static kv_db *open_mem(kv_env *env, const char *engine, const char *options)
{
    kv_db *db = NULL;

    OK(kv_open_env(engine, "/db", options, env, &db));
    cr_assert_not_null(db);
    return db;
}

static void expect_buf(const kv_buf *b, const void *want, size_t n)
{
    cr_assert_eq(b->len, n, "len %zu, want %zu", b->len, n);
    cr_assert_geq(b->cap, n + 1, "cap %zu leaves no room for the NUL", b->cap);
    cr_assert_eq(memcmp(b->data, want, n), 0, "content differs");
    cr_assert_eq(((const char *)b->data)[n], '\0', "not NUL-terminated");
}

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

    RC(KV_EINVAL, kv_open("nosuch", NULL, NULL, &db));
    cr_assert_eq(db, SENTINEL, "out written on failure");
    DETAIL_HAS("unknown engine 'nosuch'");
    RC(KV_EINVAL, kv_open("nosuch:durable=true", NULL, NULL, &db));
    cr_assert_str_eq(kv_last_error(), "unknown engine 'nosuch' (see kv_engine_names)");
    RC(KV_EINVAL, kv_open("", NULL, NULL, &db));
    DETAIL_HAS("unknown engine ''");
    RC(KV_EINVAL, kv_open(":durable=true", NULL, NULL, &db));
    DETAIL_HAS("unknown engine ''");
    RC(KV_EINVAL, kv_open("mode", NULL, NULL, &db));
    RC(KV_EINVAL, kv_open("model ", NULL, NULL, &db));
    cr_assert_eq(db, SENTINEL);
}

Test(kv, open_null_arguments)
{
    kv_env *env = mem_env();
    kv_db *db = SENTINEL;

    RC(KV_EINVAL, kv_open(NULL, NULL, NULL, &db));
    DETAIL_HAS("must not be NULL");
    RC(KV_EINVAL, kv_open("model", NULL, NULL, NULL));
    RC(KV_EINVAL, kv_open_env("model", NULL, NULL, NULL, &db));
    RC(KV_EINVAL, kv_open_env(NULL, NULL, NULL, env, &db));
    RC(KV_EINVAL, kv_open_env("model", NULL, NULL, env, NULL));
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

    RC(KV_EINVAL, kv_open_env("model:durable=true", "/db", "durable=false", env, &db));
    cr_assert_eq(db, SENTINEL);
    cr_assert_str_eq(kv_last_error(), "engine 'model': duplicate option 'durable'");
    RC(KV_EINVAL, kv_open_env("model:sync=none", "/db", "sync=none", env, &db));
    DETAIL_HAS("duplicate option 'sync'");
    RC(KV_EINVAL, kv_open_env("model:bogus=1", "/db", NULL, env, &db));
    DETAIL_HAS("engine 'model': unknown option 'bogus'; accepted: durable, sync, sync_ms, cache, "
               "max_key, max_value");
    RC(KV_EINVAL, kv_open_env("model", "/db", "durable=maybe", env, &db));
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
        RC(KV_EINVAL, kv_open_env("model:durable=true", "/db", bad[i], env, &db));
        DETAIL_HAS("engine 'model': option 'mode'");
        cr_assert_eq(db, SENTINEL);
        RC(KV_ENOTFOUND, kv_env_stat(env, "/db", NULL, NULL));
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
    RC(KV_EINVAL, kv_open("model", NULL, opt, &db));
    DETAIL_HAS("max_key=1073741825 exceeds the engine's limit 1073741824");
    snprintf(opt, sizeof(opt), "max_value=%zu", kv_engine_model.limit_max_value + 1);
    RC(KV_EINVAL, kv_open("model", NULL, opt, &db));
    DETAIL_HAS("max_value=1073741825 exceeds the engine's limit");
    RC(KV_EINVAL, kv_open("model", NULL, "max_value=2G", &db));
    RC(KV_EINVAL, kv_open("model:max_key=1G", NULL, "max_value=4G", &db));
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
    RC(KV_ETOOBIG, kv_put(db, key, 9, val, 1));
    cr_assert_str_eq(kv_last_error(), "key of 9 bytes exceeds max_key=8");
    RC(KV_ETOOBIG, kv_put(db, key, 1, val, 17));
    cr_assert_str_eq(kv_last_error(), "value of 17 bytes exceeds max_value=16");
    RC(KV_ETOOBIG, kv_get(db, key, 9, NULL));
    RC(KV_ETOOBIG, kv_delete(db, key, 9));
    OK(kv_get(db, key, 8, NULL));
    RC(KV_ENOTFOUND, kv_get(db, key, 1, NULL)); /* the refused put stored nothing */
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
    RC(KV_ETOOBIG, kv_put(db, big, 65537, "", 0));
    OK(kv_close(db));
    free(big);
}

Test(kv, explicit_zero_max_value_admits_only_empty_values)
{
    kv_db *db = NULL;

    OK(kv_open("model", NULL, "max_value=0", &db));
    cr_assert_eq(db->max_value, 0);
    OK(kv_put(db, "k", 1, "", 0));
    RC(KV_ETOOBIG, kv_put(db, "k", 1, "v", 1));
    cr_assert_str_eq(kv_last_error(), "value of 1 bytes exceeds max_value=0");
    OK(kv_close(db));
    RC(KV_EINVAL, kv_open("model", NULL, "max_key=0", &db)); /* max_key has a minimum of 1 */
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
    RC(KV_EINVAL, kv_put(NULL, "k", 1, "v", 1));
    DETAIL_HAS("NULL kv_db handle");
    RC(KV_EINVAL, kv_put(db, NULL, 3, "v", 1));
    DETAIL_HAS("NULL key with length 3");
    RC(KV_EINVAL, kv_put(db, "k", 0, "v", 1));
    DETAIL_HAS("empty key");
    RC(KV_EINVAL, kv_put(db, NULL, 0, "v", 1));
    DETAIL_HAS("empty key");
    RC(KV_EINVAL, kv_put(db, "k", 1, NULL, 5));
    cr_assert_str_eq(kv_last_error(), "NULL value with length 5");
    RC(KV_ENOTFOUND, kv_get(db, "k", 1, NULL)); /* refused puts stored nothing */

    RC(KV_EINVAL, kv_get(NULL, "k", 1, &v));
    RC(KV_EINVAL, kv_get(db, NULL, 1, &v));
    RC(KV_EINVAL, kv_get(db, "k", 0, &v));
    RC(KV_EINVAL, kv_delete(NULL, "k", 1));
    RC(KV_EINVAL, kv_delete(db, NULL, 1));
    RC(KV_EINVAL, kv_delete(db, "k", 0));
    RC(KV_EINVAL, kv_sync(NULL));
    RC(KV_EINVAL, kv_db_stats(NULL, &st));
    RC(KV_EINVAL, kv_db_stats(db, NULL));
    RC(KV_EINVAL, kv_iter_open(NULL, &it));
    RC(KV_EINVAL, kv_iter_open(db, NULL));
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
    RC(KV_ENOTFOUND, kv_get(db, "gone", 4, NULL));
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

    RC(KV_ENOTFOUND, kv_get(db, "x", 1, &v));
    cr_assert_eq(v.len, 0);
    cr_assert_eq(v.data, data, "the buffer keeps its memory");
    cr_assert_eq(v.cap, cap);
    v.len = 5;
    RC(KV_EINVAL, kv_get(db, "k", 0, &v));
    cr_assert_eq(v.len, 0, "argument errors too");
    v.len = 5;
    RC(KV_EINVAL, kv_get(NULL, "k", 1, &v));
    cr_assert_eq(v.len, 0);
    v.len = 5;
    RC(KV_ETOOBIG, kv_get(db, "kkkkk", 5, &v));
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
    RC(KV_ENOMEM, kv_buf_set(&b, blob, sizeof(blob)));
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
    RC(KV_ETOOBIG, kv_put(db, "c", 1, "123456789", 9)); /* refused */
    OK(kv_get(db, "a", 1, NULL));
    RC(KV_ENOTFOUND, kv_get(db, "zz", 2, NULL));
    RC(KV_EINVAL, kv_get(db, "", 0, NULL)); /* not counted */
    OK(kv_delete(db, "bb", 2));
    RC(KV_ENOTFOUND, kv_delete(db, "bb", 2)); /* not counted */

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

/* ---- iterators ---------------------------------------------------------------- */

Test(kv, iter_open_without_ordered_cap_is_enotsup)
{
    kv_db *db = NULL;
    kv_iter *it = (kv_iter *)SENTINEL;

    OK(kv_open("model", NULL, NULL, &db));
    cr_assert(kv_caps(db) & KV_CAP_ORDERED);
    db->caps &= ~(unsigned)KV_CAP_ORDERED; /* as an unordered engine would have it */
    RC(KV_ENOTSUP, kv_iter_open(db, &it));
    cr_assert_str_eq(kv_last_error(), "engine 'model' has no iterators (neither ordered nor scan)");
    cr_assert_eq((void *)it, (void *)SENTINEL);
    cr_assert_eq(atomic_load(&db->open_iters), 0);
    db->caps |= KV_CAP_ORDERED;
    OK(kv_iter_open(db, &it));
    kv_iter_close(it);
    OK(kv_close(db));
}

Test(kv, optional_engine_members_null)
{
    kv_engine_ops bare = kv_engine_model;
    kv_env *env = mem_env();
    kv_db *db = open_mem(env, "model:durable=true", NULL);
    kv_iter *it = NULL;
    kv_stats st;
    kv_env_counters c0, c1;

    bare.sync = NULL;
    bare.stats = NULL;
    bare.iter_open = NULL;
    bare.iter_status = NULL;
    db->ops = &bare;

    OK(kv_put(db, "k", 1, "v", 1));
    kv_env_get_counters(env, &c0);
    OK(kv_sync(db));
    kv_env_get_counters(env, &c1);
    cr_assert_eq(c1.syncs, c0.syncs, "no sync member: kv_sync is a no-op");
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, 0, "no stats member: engine counters stay 0");
    cr_assert_eq(st.puts, 1, "the front end's counters are filled all the same");
    cr_assert_eq(st.io_bytes_written, REC(1, 1));
    RC(KV_ENOTSUP, kv_iter_open(db, &it)); /* ordered, but no iter_open */

    bare.iter_open = kv_engine_model.iter_open;
    OK(kv_iter_open(db, &it));
    kv_iter_first(it);
    cr_assert(kv_iter_valid(it));
    cr_assert_eq(kv_iter_status(it), KV_OK, "no iter_status member: KV_OK");
    kv_iter_close(it);

    db->ops = &kv_engine_model;
    OK(kv_close(db));
    kv_env_free(env);
}

/* A sloppy engine: fills the buffer, then fails; or fails a put after doing nothing. */
static int sloppy_get(kv_db *db, const void *key, size_t klen, kv_buf *val)
{
    (void)db, (void)key, (void)klen;
    if (val)
        kv_buf_set(val, "junk", 4);
    return kv_fail(KV_EIO, "sloppy get");
}

/* An engine failure that sets no detail (as an untouched stub once did). */
static int silent_get(kv_db *db, const void *key, size_t klen, kv_buf *val)
{
    (void)db, (void)key, (void)klen, (void)val;
    return KV_ENOMEM;
}

Test(kv, detail_never_comes_from_an_earlier_call)
{
    kv_engine_ops silent = kv_engine_model;
    kv_db *db = NULL;

    OK(kv_open("model", NULL, NULL, &db));
    RC(KV_EINVAL, kv_put(db, "", 0, "v", 1)); /* sets "empty key" */
    cr_assert_str_eq(kv_last_error(), "empty key");
    silent.get = silent_get;
    db->ops = &silent;
    RC(KV_ENOMEM, kv_get(db, "k", 1, NULL));
    cr_assert_str_eq(kv_last_error(), "",
                     "a failure without its own detail showed an earlier call's: '%s'",
                     kv_last_error());
    db->ops = &kv_engine_model;
    OK(kv_close(db));
}

static int failing_put(kv_db *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    (void)db, (void)key, (void)klen, (void)val, (void)vlen;
    return kv_fail(KV_EIO, "failing put");
}

static int failing_del(kv_db *db, const void *key, size_t klen)
{
    (void)db, (void)key, (void)klen;
    return kv_fail(KV_EIO, "failing delete");
}

Test(kv, engine_failures_pass_through)
{
    kv_engine_ops sloppy = kv_engine_model;
    kv_db *db = NULL;
    kv_buf v = {0};
    kv_stats st;

    OK(kv_open("model", NULL, NULL, &db));
    OK(kv_put(db, "k", 1, "v", 1));
    sloppy.get = sloppy_get;
    sloppy.put = failing_put;
    sloppy.del = failing_del;
    db->ops = &sloppy;
    RC(KV_EIO, kv_get(db, "k", 1, &v));
    cr_assert_eq(v.len, 0, "the front end zeroes len after an engine's failure");
    cr_assert_str_eq(kv_last_error(), "sloppy get", "the engine's detail is kept");
    RC(KV_EIO, kv_get(db, "k", 1, NULL));
    RC(KV_EIO, kv_put(db, "k", 1, "w", 1));
    RC(KV_EIO, kv_delete(db, "k", 1));
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.puts, 1, "a failed put is not counted");
    cr_assert_eq(st.user_bytes_written, 2);
    cr_assert_eq(st.deletes, 0, "a failed delete is not counted");
    cr_assert_eq(st.gets, 2, "gets count whatever the outcome");
    db->ops = &kv_engine_model;
    kv_buf_free(&v);
    OK(kv_close(db));
}

Test(kv, iter_bookkeeping_and_seek)
{
    kv_db *db = NULL;
    kv_iter *a = NULL, *b = NULL;
    const void *k, *v;
    size_t kl, vl;

    OK(kv_open("model", NULL, NULL, &db));
    OK(kv_put(db, "b", 1, "2", 1));
    OK(kv_put(db, "d", 1, "4", 1));
    OK(kv_iter_open(db, &a));
    cr_assert_eq(a->db, db, "the front end sets the iterator's db");
    cr_assert_eq(atomic_load(&db->open_iters), 1);
    OK(kv_iter_open(db, &b));
    cr_assert_eq(atomic_load(&db->open_iters), 2);

    kv_iter_seek(a, NULL, 5); /* NULL key: klen is taken as 0, the first key */
    cr_assert(kv_iter_valid(a));
    kv_iter_key(a, &k, &kl);
    cr_assert_eq(kl, 1);
    cr_assert_eq(memcmp(k, "b", 1), 0);
    kv_iter_seek(b, "c", 1);
    cr_assert(kv_iter_valid(b));
    kv_iter_key(b, &k, &kl);
    kv_iter_value(b, &v, &vl);
    cr_assert_eq(memcmp(k, "d", 1), 0);
    cr_assert_eq(memcmp(v, "4", 1), 0);
    kv_iter_next(b);
    cr_assert_not(kv_iter_valid(b));
    cr_assert_eq(kv_iter_status(b), KV_OK, "the end is not an error");

    kv_iter_close(a);
    cr_assert_eq(atomic_load(&db->open_iters), 1);
    kv_iter_close(b);
    cr_assert_eq(atomic_load(&db->open_iters), 0);
    kv_iter_close(NULL);
    OK(kv_close(db));
}

/* ---- open on a failing env ---------------------------------------------------- */

Test(kv, open_env_fault_on_log_open)
{
    kv_env *env = kv_env_fault_new(1);
    kv_db *db = SENTINEL;

    cr_assert_not_null(env);
    kv_env_fault_fail(env, KV_FAULT_OPEN, 1, 1, KV_EIO);
    RC(KV_EIO, kv_open_env("model:durable=true", "/db", NULL, env, &db));
    cr_assert_eq(db, SENTINEL);
    DETAIL_HAS("model.log");
    /* The fault was one call: the next open works and finds an empty store. */
    db = NULL;
    OK(kv_open_env("model:durable=true", "/db", NULL, env, &db));
    RC(KV_ENOTFOUND, kv_get(db, "k", 1, NULL));
    OK(kv_close(db));
    kv_env_free(env);
    NO_LEAKS();
}

Test(kv, open_durable_without_path)
{
    kv_db *db = SENTINEL;

    RC(KV_EINVAL, kv_open("model:durable=true", NULL, NULL, &db));
    DETAIL_HAS("needs a directory path");
    cr_assert_eq(db, SENTINEL);
    NO_LEAKS();
}

/* ---- out of memory -------------------------------------------------------------- */

struct open_loop {
    kv_env *env;
    uint64_t enomem, ok;
};

static int open_under_failure(void *arg, uint64_t n)
{
    struct open_loop *l = arg;
    kv_db *db = SENTINEL;
    kv_buf v = {0};
    int rc = kv_open_env("model:durable=true", "/db", "sync=none", l->env, &db);
    bool hit = kv_alloc_fail_hit();

    if (rc == KV_ENOMEM) {
        cr_assert(kv_alloc_fail_hit(), "run %llu: KV_ENOMEM with no failed allocation",
                  (unsigned long long)n);
        cr_assert_eq(db, SENTINEL, "run %llu: out written on failure", (unsigned long long)n);
        l->enomem++;
        return 0;
    }
    cr_assert_eq(rc, KV_OK, "run %llu: %d (%s): %s", (unsigned long long)n, rc, kv_strerror(rc),
                 kv_last_error());
    l->ok++;
    /* The checks below allocate: when the failure was not reached (the last run), disarm it
     * (that ends the loop); when it was, it is spent (not sticky). */
    if (!hit)
        kv_alloc_fail_at(0, false);
    for (int i = 0; i < 20; i++) {
        char key[16];
        int kl = snprintf(key, sizeof(key), "k%02d", i);
        cr_assert_eq(kv_get(db, key, (size_t)kl, &v), i % 5 == 4 ? KV_ENOTFOUND : KV_OK,
                     "run %llu: %s", (unsigned long long)n, key);
        if (i % 5 != 4)
            cr_assert(v.len == 3 && !memcmp(v.data, key, 3), "run %llu: %s", (unsigned long long)n,
                      key);
    }
    kv_buf_free(&v);
    cr_assert_eq(kv_close(db), KV_OK);
    return 0;
}

Test(kv, malloc_failure_loop_over_open)
{
    struct open_loop l = {.env = mem_env()};
    kv_db *db = open_mem(l.env, "model:durable=true", NULL);
    uint64_t runs = 0;

    for (int i = 0; i < 20; i++) { /* a log with puts and deletes to replay */
        char key[16];
        int kl = snprintf(key, sizeof(key), "k%02d", i);
        OK(kv_put(db, key, (size_t)kl, key, 3));
        if (i % 5 == 4)
            OK(kv_delete(db, key, (size_t)kl));
    }
    OK(kv_close(db));

    cr_assert_eq(kv_alloc_fail_loop(open_under_failure, &l, 0, &runs), 0);
    cr_assert_geq(l.ok, 1, "the last run succeeds");
    cr_assert_eq(l.enomem + l.ok, runs);
    cr_assert_gt(runs, 10, "the replay allocates per record: %llu runs", (unsigned long long)runs);
    kv_env_free(l.env);
    NO_LEAKS();
}

struct op_loop {
    kv_db *db;
    kv_buf big; /* pre-grown: checking into it allocates nothing */
    int enomem;
};

/* Overwrite "k": done, or KV_ENOMEM with the old value still there. */
static int put_under_failure(void *arg, uint64_t n)
{
    struct op_loop *l = arg;
    int rc = kv_put(l->db, "k", 1, "a new and longer value", 22);
    bool hit = kv_alloc_fail_hit();

    if (!hit)
        kv_alloc_fail_at(0, false); /* the last run: the checks below may allocate */
    cr_assert(rc == KV_OK || rc == KV_ENOMEM, "run %llu: overwrite -> %d (%s)",
              (unsigned long long)n, rc, kv_last_error());
    cr_assert_eq(rc == KV_ENOMEM, hit, "run %llu: rc %d, hit %d", (unsigned long long)n, rc, hit);
    cr_assert_eq(kv_get(l->db, "k", 1, &l->big), KV_OK);
    if (rc == KV_OK) {
        expect_buf(&l->big, "a new and longer value", 22);
        cr_assert_eq(kv_put(l->db, "k", 1, "old", 3), KV_OK, "restore");
    } else {
        expect_buf(&l->big, "old", 3);
        l->enomem++;
    }
    return 0;
}

static int insert_under_failure(void *arg, uint64_t n)
{
    struct op_loop *l = arg;
    char fresh[24];
    int fl = snprintf(fresh, sizeof(fresh), "fresh%llu", (unsigned long long)n);
    int rc = kv_put(l->db, fresh, (size_t)fl, "x", 1);
    bool hit = kv_alloc_fail_hit();

    cr_assert(rc == KV_OK || rc == KV_ENOMEM, "run %llu: insert -> %d", (unsigned long long)n, rc);
    cr_assert_eq(rc == KV_ENOMEM, hit, "run %llu: rc %d, hit %d", (unsigned long long)n, rc, hit);
    cr_assert_eq(kv_get(l->db, fresh, (size_t)fl, NULL), rc == KV_OK ? KV_OK : KV_ENOTFOUND,
                 "run %llu: a refused insert must stay absent", (unsigned long long)n);
    if (rc == KV_ENOMEM)
        l->enomem++;
    return 0;
}

static int get_under_failure(void *arg, uint64_t n)
{
    struct op_loop *l = arg;
    kv_buf v = {0};
    int rc = kv_get(l->db, "k", 1, &v);

    if (rc == KV_ENOMEM) {
        cr_assert_eq(v.len, 0, "run %llu", (unsigned long long)n);
        l->enomem++;
    } else {
        cr_assert_eq(rc, KV_OK, "run %llu: %d", (unsigned long long)n, rc);
        expect_buf(&v, "old", 3);
    }
    kv_buf_free(&v);
    return 0;
}

Test(kv, malloc_failure_loop_over_put_and_get)
{
    kv_env *env = mem_env();
    struct op_loop l = {0};
    uint64_t runs = 0;

    l.db = open_mem(env, "model:durable=true", NULL);
    static const char pre[4000];
    OK(kv_buf_set(&l.big, pre, sizeof(pre))); /* grown once, so later gets allocate nothing */
    OK(kv_put(l.db, "k", 1, "old", 3));

    cr_assert_eq(kv_alloc_fail_loop(put_under_failure, &l, 0, &runs), 0);
    cr_assert_geq(l.enomem, 2, "an overwrite allocates the entry and the log record");
    cr_assert_eq((uint64_t)l.enomem, runs - 1);

    l.enomem = 0;
    cr_assert_eq(kv_alloc_fail_loop(insert_under_failure, &l, 0, &runs), 0);
    cr_assert_geq(l.enomem, 2);

    l.enomem = 0;
    cr_assert_eq(kv_alloc_fail_loop(get_under_failure, &l, 0, &runs), 0);
    cr_assert_eq(l.enomem, 1, "a get into an empty buffer allocates once");
    cr_assert_eq(runs, 2);

    /* Everything refused stayed out of the log too. */
    OK(kv_close(l.db));
    l.db = open_mem(env, "model:durable=true", NULL);
    OK(kv_get(l.db, "k", 1, &l.big));
    expect_buf(&l.big, "old", 3);
    kv_stats st;
    OK(kv_db_stats(l.db, &st));
    cr_assert_eq(st.keys, 2, "k and the insert of the clean run only");
    kv_buf_free(&l.big);
    OK(kv_close(l.db));
    kv_env_free(env);
    NO_LEAKS();
}
