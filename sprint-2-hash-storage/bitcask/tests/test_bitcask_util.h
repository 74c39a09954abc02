/*
 * test_bitcask_util.h — helpers shared by the Bitcask tests (header-only:
 * each test program includes it once).
 *
 * Most cases run on the fault env (in memory, kvlabs/env.h) at "/db", so
 * they can crash it, fail its calls and flip bits; the cases that need
 * real processes (the lock across fork, kill -9) use a fresh directory
 * under $TMPDIR or /tmp (bt_tmpdir), removed when the test's process
 * exits. Keys are "key%08u"; a value is a pure function of (key id,
 * version, length), so a wrong or stale value is always told apart
 * (bt_val, bt_expect).
 */
#ifndef TEST_BITCASK_UTIL_H
#define TEST_BITCASK_UTIL_H

#include <criterion/criterion.h>
#include "kv_assert.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bitcask.h"
#include "bitcask_format.h"
#include "kvlabs/env.h"
#include "kvlabs/kv.h"
#ifndef KVT_OWN_STORES
#define KVT_OWN_STORES /* stores and envs a test opens are freed by the suites' .fini */
#endif
#include "kvtest.h"


static inline size_t bt_key(uint32_t id, char *k)
{
    return (size_t)sprintf(k, "key%08u", id);
}

/* The value of version @p ver of key @p id: @p len bytes. */
static inline size_t bt_val(uint32_t id, uint64_t ver, unsigned char *v, size_t len)
{
    uint64_t x = (uint64_t)id * 0x9E3779B97F4A7C15ull ^ ver * 0xC2B2AE3D27D4EB4Full;

    for (size_t i = 0; i < len; i++) {
        x ^= x >> 29;
        x *= 0xBF58476D1CE4E5B9ull;
        v[i] = (unsigned char)(x >> 56);
    }
    return len;
}

static inline int bt_put(kv_db *db, uint32_t id, uint64_t ver, size_t len)
{
    char k[32];
    unsigned char v[8192];

    cr_assert_leq(len, sizeof(v));
    return kv_put(db, k, bt_key(id, k), v, bt_val(id, ver, v, len));
}

static inline int bt_del(kv_db *db, uint32_t id)
{
    char k[32];

    return kv_delete(db, k, bt_key(id, k));
}

/* Key @p id reads back version @p ver of length @p len (ver 0: absent). */
static inline void bt_expect(kv_db *db, uint32_t id, uint64_t ver, size_t len, const char *what)
{
    char k[32];
    unsigned char want[8192];
    kv_buf v = {0};
    int rc = kv_get(db, k, bt_key(id, k), &v);

    if (ver == 0) {
        cr_assert_eq(rc, KV_ENOTFOUND, "%s: key %u should be absent: %d (%s)", what, id, rc,
                     kv_strerror(rc));
    } else {
        cr_assert_eq(rc, KV_OK, "%s: key %u: %d (%s): %s", what, id, rc, kv_strerror(rc),
                     kv_last_error());
        bt_val(id, ver, want, len);
        cr_assert(v.len == len && memcmp(v.data, want, len) == 0,
                  "%s: key %u reads back a wrong value (%zu bytes, want version %llu of %zu)",
                  what, id, v.len, (unsigned long long)ver, len);
    }
    kv_buf_free(&v);
}

static inline kv_db *bt_open(kv_env *env, const char *opts)
{
    kv_db *db = NULL;

    OK(kv_open_env("bitcask", "/db", opts, env, &db));
    return db;
}

/* Files of /db ending in @p suffix: count, and total bytes in *bytes. */
static inline size_t bt_files(const kv_env *env, const char *dir, const char *suffix,
                              uint64_t *bytes)
{
    char **names;
    size_t n, count = 0, sl = strlen(suffix);

    if (bytes)
        *bytes = 0;
    OK(kv_env_list(env, dir, &names, &n));
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(names[i]);
        char p[512];
        uint64_t size = 0;
        if (l < sl || strcmp(names[i] + l - sl, suffix) != 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        OK(kv_env_stat(env, p, &size, NULL));
        count++;
        if (bytes)
            *bytes += size;
    }
    kv_env_list_free(names, n);
    return count;
}

/* The path of data file number @p id (1 = the first). */
static inline const char *bt_data_path(uint32_t id, char *buf)
{
    sprintf(buf, "/db/%010u.data", id);
    return buf;
}

/* ---- a real directory, for the cases with processes ------------------------------ */

static char bt_dir[256];
static pid_t bt_owner;

static inline void bt_cleanup(void)
{
    if (bt_dir[0] && getpid() == bt_owner)
        kvt_rmrf(bt_dir);
}

/* A fresh directory for this test; @return "<it>/<leaf>". */
static inline const char *bt_tmpdir(const char *leaf, char *out, size_t n)
{
    if (!bt_dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(bt_dir, sizeof(bt_dir), "%s/bitcask-test-XXXXXX", t && *t ? t : "/tmp");
        cr_assert_not_null(mkdtemp(bt_dir));
        bt_owner = getpid();
        atexit(bt_cleanup);
    }
    snprintf(out, n, "%s/%s", bt_dir, leaf);
    return out;
}

#endif /* TEST_BITCASK_UTIL_H */
