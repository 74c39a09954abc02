/*
 * env_routine.h — the routine the env tests run on every env: save(), the
 * way a storage engine replaces a file atomically (write dir/data.tmp, fsync
 * it, fsync the directory, rename it over dir/data, fsync the directory
 * again), load(), which reads dir/data back and checks every byte, and the
 * small file helpers around them (slurp, write_file, expect_file).
 *
 * Shared by test_env.c (the routine on every env) and test_env_fault.c
 * (the routine under injected failures and crashes). Include it after
 * env_fixture.h (write_file and expect_file use fx.env). Everything is
 * static inline: a test binary compiles what it calls.
 */
#ifndef KVLABS_ENV_ROUTINE_H
#define KVLABS_ENV_ROUTINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "env_fixture.h"

enum { HDR = 16, REC = 32, NOLD = 5, NNEW = 7, PATH_LEN = ENV_FX_PATH_LEN };

static inline void header_bytes(uint32_t version, uint32_t nrec, uint8_t *out)
{
    memcpy(out, "KVENVT01", 8);
    memcpy(out + 8, &version, 4);
    memcpy(out + 12, &nrec, 4);
}

static inline void record_bytes(uint32_t version, uint32_t i, uint8_t *out)
{
    for (uint32_t j = 0; j < REC; j++)
        out[j] = (uint8_t)(version * 131 + i * 7 + j);
}

/* Replace dir/data atomically by version @p version with @p nrec records. */
static inline int save(const kv_env *env, const char *dir, uint32_t version, uint32_t nrec)
{
    char tmp[PATH_LEN], fin[PATH_LEN];
    uint8_t buf[REC];
    kv_file *f;
    int rc;

    snprintf(tmp, sizeof(tmp), "%s/data.tmp", dir);
    snprintf(fin, sizeof(fin), "%s/data", dir);
    rc = kv_env_open(env, tmp, KV_O_RDWR | KV_O_CREAT | KV_O_TRUNC, &f);
    if (rc != KV_OK)
        return rc;
    header_bytes(version, nrec, buf);
    rc = kv_file_pwrite(f, buf, HDR, 0);
    for (uint32_t i = 0; rc == KV_OK && i < nrec; i++) {
        record_bytes(version, i, buf);
        rc = kv_file_pwrite(f, buf, REC, HDR + (uint64_t)i * REC);
    }
    if (rc == KV_OK)
        rc = kv_file_sync(f);
    if (rc != KV_OK)
        goto out_close;
    rc = kv_file_close(f);
    if (rc == KV_OK)
        rc = kv_env_sync_dir(env, dir);
    if (rc == KV_OK)
        rc = kv_env_rename(env, tmp, fin);
    if (rc == KV_OK)
        rc = kv_env_sync_dir(env, dir);
    return rc;

out_close:
    kv_file_close(f);
    return rc;
}

/* Read a whole file (malloc'd); KV status. */
static inline int slurp(const kv_env *env, const char *path, uint8_t **data, uint64_t *size)
{
    kv_file *f;
    size_t got;
    int rc = kv_env_open(env, path, KV_O_RDONLY, &f);

    *data = NULL;
    if (rc != KV_OK)
        return rc;
    rc = kv_file_size(f, size);
    if (rc == KV_OK) {
        *data = malloc(*size + 1);
        cr_assert_not_null(*data);
        rc = kv_file_pread(f, *data, *size, 0, &got);
        cr_assert(rc != KV_OK || got == *size, "short read %zu of %llu", got,
                  (unsigned long long)*size);
    }
    kv_file_close(f);
    if (rc != KV_OK) {
        free(*data);
        *data = NULL;
    }
    return rc;
}

/* The version a file made by save() holds: > 0; 0 when absent; KV_ECORRUPT; another error. */
static inline int load_file(const kv_env *env, const char *path, uint32_t *nrec_out)
{
    uint8_t *d, want[REC];
    uint64_t size;
    uint32_t version, nrec;
    int rc = slurp(env, path, &d, &size);

    if (rc == KV_ENOTFOUND)
        return 0;
    if (rc != KV_OK)
        return rc;
    rc = KV_ECORRUPT;
    if (size < HDR || memcmp(d, "KVENVT01", 8) != 0)
        goto out_free;
    memcpy(&version, d + 8, 4);
    memcpy(&nrec, d + 12, 4);
    if (version == 0 || size != HDR + (uint64_t)nrec * REC)
        goto out_free;
    for (uint32_t i = 0; i < nrec; i++) {
        record_bytes(version, i, want);
        if (memcmp(d + HDR + (size_t)i * REC, want, REC) != 0)
            goto out_free;
    }
    if (nrec_out)
        *nrec_out = nrec;
    rc = (int)version;
out_free:
    free(d);
    return rc;
}

static inline int load(const kv_env *env, const char *dir, uint32_t *nrec)
{
    char fin[PATH_LEN];

    snprintf(fin, sizeof(fin), "%s/data", dir);
    return load_file(env, fin, nrec);
}

static inline void write_file(const char *path, const char *text, bool sync)
{
    kv_file *f;

    OK(kv_env_open(fx.env, path, KV_O_RDWR | KV_O_CREAT | KV_O_TRUNC, &f));
    OK(kv_file_pwrite(f, text, strlen(text), 0));
    if (sync)
        OK(kv_file_sync(f));
    OK(kv_file_close(f));
}

/* Assert the file's content is exactly @p text (NULL: the file is absent). */
static inline void expect_file(const char *path, const char *text)
{
    uint8_t *d;
    uint64_t size;
    int rc = slurp(fx.env, path, &d, &size);

    if (!text) {
        cr_assert_eq(rc, KV_ENOTFOUND, "%s should be absent: %s", path, kv_strerror(rc));
        return;
    }
    cr_assert_eq(rc, KV_OK, "%s: %s (%s)", path, kv_strerror(rc), kv_last_error());
    d[size] = 0;
    cr_assert(size == strlen(text) && !memcmp(d, text, size), "%s holds '%s', want '%s'", path,
              (char *)d, text);
    free(d);
}
#endif /* KVLABS_ENV_ROUTINE_H */
