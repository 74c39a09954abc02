/*
 * kv_fixture.h — what the front end's tests (test_kv.c, test_kv_engine.c)
 * share: a fresh in-memory env, opening an engine on it, the check of a
 * kv_buf's content, model's record size and a sentinel pointer.
 * Everything is static inline; include it once per test program.
 */
#ifndef KVLABS_KV_FIXTURE_H
#define KVLABS_KV_FIXTURE_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "kvlabs/engine.h"
#include "kvlabs/env.h"
#include "kvlabs/kv.h"
#include "kvtest.h"

/* Size of one model log record (engine_model.c's format: 17-byte header). */
#define REC(klen, vlen) (17 + (klen) + (vlen))

extern const kv_engine_ops kv_engine_model;

/* A pointer that no function may write over on failure. */
#define SENTINEL ((kv_db *)(uintptr_t)0x5e171e1)

/* A fresh in-memory env (the model makes its directory); freed by the caller. */
static inline kv_env *mem_env(void)
{
    kv_env *env = kv_env_mem_new();

    cr_assert_not_null(env);
    return env;
}

static inline kv_db *open_mem(kv_env *env, const char *engine, const char *options)
{
    kv_db *db = NULL;

    OK(kv_open_env(engine, "/db", options, env, &db));
    cr_assert_not_null(db);
    return db;
}

static inline void expect_buf(const kv_buf *b, const void *want, size_t n)
{
    cr_assert_eq(b->len, n, "len %zu, want %zu", b->len, n);
    cr_assert_geq(b->cap, n + 1, "cap %zu leaves no room for the NUL", b->cap);
    cr_assert_eq(memcmp(b->data, want, n), 0, "content differs");
    cr_assert_eq(((const char *)b->data)[n], '\0', "not NUL-terminated");
}


#endif /* KVLABS_KV_FIXTURE_H */
