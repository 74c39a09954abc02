/*
 * model_fixture.h — what the model engine's tests (test_model.c,
 * test_model_io.c) share: a fresh fault env per test with the store at
 * "/db" (the suite `model`'s .init/.fini), opening model on it, reading,
 * cutting and appending to its log "/db/model.log" through the env, log
 * records built independently of engine_model.c, and content checks.
 * Everything is static inline; include it once per test program.
 */
#ifndef KVLABS_MODEL_FIXTURE_H
#define KVLABS_MODEL_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/env.h"
#include "kvlabs/error.h"
#include "kvlabs/hash.h"
#include "kvlabs/kv.h"
#include "kvtest.h"

enum { HDR = 17, OP_PUT = 1, OP_DEL = 2 };
#define LIMIT           (1u << 30) /* model's largest key and value */
#define LOG             "/db/model.log"
#define REC(klen, vlen) ((uint64_t)HDR + (klen) + (vlen))

static kv_env *env;

static inline void setup(void)
{
    env = kv_env_fault_new(7);
    cr_assert_not_null(env);
}

static inline void teardown(void)
{
    kv_env_free(env);
    env = NULL;
}

TestSuite(model, .init = setup, .fini = teardown);

/* ---- helpers ---------------------------------------------------------------- */

static inline int open_rc(const char *options, kv_db **db)
{
    *db = NULL;
    return kv_open_env("model:durable=true", "/db", options, env, db);
}

static inline kv_db *open_db(const char *options)
{
    kv_db *db;

    OK(open_rc(options, &db));
    cr_assert_not_null(db);
    return db;
}

static inline uint64_t log_size(void)
{
    uint64_t size = 0;

    OK(kv_env_stat(env, LOG, &size, NULL));
    return size;
}

/* The whole log, malloc'd (free it). */
static inline unsigned char *read_log(uint64_t *size)
{
    kv_file *f;
    size_t got;
    unsigned char *buf;

    *size = log_size();
    buf = malloc(*size + 1);
    cr_assert_not_null(buf);
    OK(kv_env_open(env, LOG, KV_O_RDONLY, &f));
    OK(kv_file_pread(f, buf, (size_t)*size, 0, &got));
    cr_assert_eq(got, *size);
    OK(kv_file_close(f));
    return buf;
}

/* Cut @p n bytes off the end of the log. */
static inline void cut_log(uint64_t n)
{
    kv_file *f;
    uint64_t size = log_size();

    cr_assert_leq(n, size);
    OK(kv_env_open(env, LOG, KV_O_RDWR, &f));
    OK(kv_file_truncate(f, size - n));
    OK(kv_file_close(f));
}

/* Append raw bytes to the log. */
static inline void append_log(const void *p, size_t n)
{
    kv_file *f;
    uint64_t size = log_size();

    OK(kv_env_open(env, LOG, KV_O_RDWR, &f));
    OK(kv_file_pwrite(f, p, n, size));
    OK(kv_file_close(f));
}

static inline void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A record header with the given fields and a valid header checksum. */
static inline void make_header(unsigned char *h, int op, uint32_t klen, uint32_t vlen,
                               uint32_t dcrc)
{
    h[4] = (unsigned char)op;
    put_le32(h + 5, klen);
    put_le32(h + 9, vlen);
    put_le32(h + 13, dcrc);
    put_le32(h, kv_crc32c(0, h + 4, HDR - 4));
}

/* Put @p key with @p val (NUL-terminated strings). */
static inline void put_s(kv_db *db, const char *key, const char *val)
{
    OK(kv_put(db, key, strlen(key), val, strlen(val)));
}

/* Assert @p key reads back as @p val (NULL: absent). */
static inline void expect_s(kv_db *db, const char *key, const char *val)
{
    kv_buf v = {0};
    int rc = kv_get(db, key, strlen(key), &v);

    if (!val) {
        cr_assert_eq(rc, KV_ENOTFOUND, "'%s' should be absent: %d", key, rc);
    } else {
        cr_assert_eq(rc, KV_OK, "'%s' should be present: %d (%s)", key, rc, kv_last_error());
        cr_assert(v.len == strlen(val) && !memcmp(v.data, val, v.len),
                  "'%s' reads '%.*s', want '%s'", key, (int)v.len, (char *)v.data, val);
    }
    kv_buf_free(&v);
}

struct pair {
    const void *k;
    size_t kl;
    const void *v;
    size_t vl;
};

/* The store holds exactly @p want (sorted), by iteration and by kv_get. */
static inline void expect_exactly(kv_db *db, const struct pair *want, size_t n)
{
    kv_iter *it;
    kv_buf v = {0};
    size_t i = 0;
    kv_stats st;
    uint64_t bytes = 0;

    OK(kv_iter_open(db, &it));
    for (kv_iter_first(it); kv_iter_valid(it); kv_iter_next(it), i++) {
        const void *k, *val;
        size_t kl, vl;
        cr_assert_lt(i, n, "more keys than expected");
        kv_iter_key(it, &k, &kl);
        kv_iter_value(it, &val, &vl);
        cr_assert(kl == want[i].kl && !memcmp(k, want[i].k, kl), "key %zu differs", i);
        cr_assert(vl == want[i].vl && !memcmp(val, want[i].v, vl), "value %zu differs", i);
    }
    OK(kv_iter_status(it));
    kv_iter_close(it);
    cr_assert_eq(i, n, "%zu keys, want %zu", i, n);
    for (i = 0; i < n; i++) {
        OK(kv_get(db, want[i].k, want[i].kl, &v));
        cr_assert(v.len == want[i].vl && !memcmp(v.data, want[i].v, v.len), "get %zu", i);
        bytes += want[i].kl + want[i].vl;
    }
    kv_buf_free(&v);
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, n);
    cr_assert_eq(st.bytes, bytes);
}

static inline void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0)
        ;
}

static inline uint64_t env_syncs(void)
{
    kv_env_counters c;

    kv_env_get_counters(env, &c);
    return c.syncs;
}

#endif /* KVLABS_MODEL_FIXTURE_H */
