/*
 * env.c — the env front end: argument checks, counters, dispatch.
 *
 * A kv_env is a table of file-system operations (struct kv_env_ops, in
 * env_impl.h) plus the implementation's context and the env's I/O
 * counters. Every public kv_env_* and kv_file_* function here does the
 * same three things:
 *
 *   1. check the arguments that every implementation would check alike
 *      (NULL pointers, empty paths, unknown or inconsistent open flags,
 *      creation modes with bits outside 0777,
 *      writes through a read-only file, offsets that do not fit an off_t),
 *      failing with KV_EINVAL and a detail;
 *   2. call the implementation through the table;
 *   3. on success, add to the counters (bytes read and written, reads,
 *      writes, syncs, opens). The counters are relaxed atomics: they are
 *      statistics, exact once the threads that did the I/O are joined.
 *
 * So an implementation only does the work, and the checks and the counting
 * are the same for the posix, mem and fault envs. The counters are updated
 * through `const kv_env *` (engines hold their env as const): no kv_env
 * object is ever defined const, so casting the qualifier away is sound.
 *
 * The calls without a mode (kv_env_open, kv_env_mkdir,
 * kv_env_mkdir_durable) are the _mode calls with the private defaults
 * KV_MODE_FILE (0600) and KV_MODE_DIR (0700).
 *
 * This file is the lowest layer of the envs: it calls no implementation.
 * The posix env is a static singleton defined in env_posix.c (marked
 * is_static, so kv_env_free() leaves it alone); the mem and fault envs are
 * made by kv_env_create() from env_mem.c and env_fault.c and freed by
 * kv_env_free(). The implementations call down into this file (the
 * counters, kv_env_sort_names()), never the other way.
 */
#include <assert.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env_impl.h"
#include "kvlabs/alloc.h"
#include "kvlabs/error.h"


enum { ALL_FLAGS = KV_O_RDWR | KV_O_CREAT | KV_O_TRUNC | KV_O_EXCL };

/* ---- helpers ---------------------------------------------------------- */

static void count(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static struct kv_env *mut(const kv_env *env)
{
    return (struct kv_env *)env;
}

static int check_env(const kv_env *env, const char *call)
{
    if (!env)
        return kv_fail(KV_EINVAL, "%s: env is NULL", call);
    assert(env->ops);
    return KV_OK;
}

static int check_path(const kv_env *env, const char *path, const char *call)
{
    int rc = check_env(env, call);

    if (rc != KV_OK)
        return rc;
    if (!path || !path[0])
        return kv_fail(KV_EINVAL, "%s: empty or NULL path", call);
    return KV_OK;
}

static int check_file(const kv_file *f, const char *call)
{
    if (!f)
        return kv_fail(KV_EINVAL, "%s: file is NULL", call);
    assert(f->env && f->env->ops);
    return KV_OK;
}

static int check_range(uint64_t off, uint64_t n, const char *call)
{
    if (off > INT64_MAX || n > INT64_MAX - off)
        return kv_fail(KV_EINVAL, "%s: range %llu+%llu does not fit a file offset", call,
                       (unsigned long long)off, (unsigned long long)n);
    return KV_OK;
}

static int check_writable(const kv_file *f, const char *call)
{
    if (!(f->flags & KV_O_RDWR))
        return kv_fail(KV_EINVAL, "%s: file opened read-only", call);
    return KV_OK;
}

static int check_mode(unsigned mode, const char *call)
{
    if (mode & ~0777u)
        return kv_fail(KV_EINVAL, "%s: mode 0%o has bits outside 0777", call, mode);
    return KV_OK;
}

static int check_flags(int flags)
{
    if (flags & ~ALL_FLAGS)
        return kv_fail(KV_EINVAL, "kv_env_open: unknown flags 0x%x", (unsigned)(flags & ~ALL_FLAGS));
    if ((flags & (KV_O_CREAT | KV_O_TRUNC)) && !(flags & KV_O_RDWR))
        return kv_fail(KV_EINVAL, "kv_env_open: KV_O_CREAT and KV_O_TRUNC need KV_O_RDWR");
    if ((flags & KV_O_EXCL) && !(flags & KV_O_CREAT))
        return kv_fail(KV_EINVAL, "kv_env_open: KV_O_EXCL needs KV_O_CREAT");
    return KV_OK;
}

/* ---- construction ----------------------------------------------------- */

kv_env *kv_env_create(const struct kv_env_ops *ops, void *ctx)
{
    struct kv_env *env = kv_calloc(1, sizeof(*env));

    assert(ops && ops->name && ops->destroy && ops->open && ops->close);
    if (!env)
        return NULL;
    env->ops = ops;
    env->ctx = ctx;
    return env;
}

void *kv_env_ctx(const kv_env *env, const struct kv_env_ops *ops)
{
    return env && env->ops == ops ? env->ctx : NULL;
}

void kv_env_free(kv_env *env)
{
    if (!env || env->is_static)
        return;
    env->ops->destroy(env->ctx);
    kv_free(env);
}

const char *kv_env_name(const kv_env *env)
{
    return env ? env->ops->name : "null";
}

void kv_env_get_counters(const kv_env *env, kv_env_counters *out)
{
    struct kv_env *e = mut(env);

    if (!out)
        return;
    memset(out, 0, sizeof(*out));
    if (!e)
        return;
    out->bytes_read = atomic_load_explicit(&e->bytes_read, memory_order_relaxed);
    out->bytes_written = atomic_load_explicit(&e->bytes_written, memory_order_relaxed);
    out->reads = atomic_load_explicit(&e->reads, memory_order_relaxed);
    out->writes = atomic_load_explicit(&e->writes, memory_order_relaxed);
    out->syncs = atomic_load_explicit(&e->syncs, memory_order_relaxed);
    out->opens = atomic_load_explicit(&e->opens, memory_order_relaxed);
}

/* ---- files ------------------------------------------------------------ */

int kv_env_open(const kv_env *env, const char *path, int flags, kv_file **out)
{
    return kv_env_open_mode(env, path, flags, KV_MODE_FILE, out);
}

int kv_env_open_mode(const kv_env *env, const char *path, int flags, unsigned mode, kv_file **out)
{
    kv_file *f = NULL;
    int rc;

    if (!out)
        return kv_fail(KV_EINVAL, "kv_env_open: out is NULL");
    *out = NULL;
    rc = check_path(env, path, "kv_env_open");
    if (rc == KV_OK)
        rc = check_flags(flags);
    if (rc == KV_OK)
        rc = check_mode(mode, "kv_env_open");
    if (rc == KV_OK)
        rc = env->ops->open(env->ctx, path, flags, mode, &f);
    if (rc != KV_OK)
        return rc;
    assert(f);
    f->env = mut(env);
    f->flags = flags;
    count(&f->env->opens, 1);
    *out = f;
    return KV_OK;
}

int kv_file_close(kv_file *f)
{
    if (!f)
        return KV_OK;
    return f->env->ops->close(f);
}

int kv_file_pread(kv_file *f, void *buf, size_t n, uint64_t off, size_t *got)
{
    size_t dummy;
    int rc;

    if (!got)
        got = &dummy;
    *got = 0;
    rc = check_file(f, "kv_file_pread");
    if (rc == KV_OK && !buf && n)
        rc = kv_fail(KV_EINVAL, "kv_file_pread: buf is NULL");
    if (rc == KV_OK)
        rc = check_range(off, n, "kv_file_pread");
    if (rc == KV_OK)
        rc = f->env->ops->pread(f, buf, n, off, got);
    if (rc != KV_OK) {
        *got = 0;
        return rc;
    }
    assert(*got <= n);
    count(&f->env->reads, 1);
    count(&f->env->bytes_read, *got);
    return KV_OK;
}

int kv_file_pwrite(kv_file *f, const void *buf, size_t n, uint64_t off)
{
    int rc = check_file(f, "kv_file_pwrite");

    if (rc == KV_OK)
        rc = check_writable(f, "kv_file_pwrite");
    if (rc == KV_OK && !buf && n)
        rc = kv_fail(KV_EINVAL, "kv_file_pwrite: buf is NULL");
    if (rc == KV_OK)
        rc = check_range(off, n, "kv_file_pwrite");
    if (rc == KV_OK)
        rc = f->env->ops->pwrite(f, buf, n, off);
    if (rc != KV_OK)
        return rc;
    count(&f->env->writes, 1);
    count(&f->env->bytes_written, n);
    return KV_OK;
}

int kv_file_sync(kv_file *f)
{
    int rc = check_file(f, "kv_file_sync");

    if (rc == KV_OK)
        rc = f->env->ops->sync(f);
    if (rc == KV_OK)
        count(&f->env->syncs, 1);
    return rc;
}

int kv_file_truncate(kv_file *f, uint64_t size)
{
    int rc = check_file(f, "kv_file_truncate");

    if (rc == KV_OK)
        rc = check_writable(f, "kv_file_truncate");
    if (rc == KV_OK)
        rc = check_range(size, 0, "kv_file_truncate");
    if (rc == KV_OK)
        rc = f->env->ops->truncate(f, size);
    return rc;
}

int kv_file_size(kv_file *f, uint64_t *size)
{
    int rc = check_file(f, "kv_file_size");

    if (rc == KV_OK && !size)
        rc = kv_fail(KV_EINVAL, "kv_file_size: size is NULL");
    if (rc == KV_OK)
        rc = f->env->ops->size(f, size);
    return rc;
}

int kv_file_lock(kv_file *f)
{
    int rc = check_file(f, "kv_file_lock");

    if (rc == KV_OK)
        rc = f->env->ops->lock(f);
    return rc;
}

int kv_file_mmap(kv_file *f, uint64_t off, size_t len, bool writable, void **addr)
{
    int rc;

    if (!addr)
        return kv_fail(KV_EINVAL, "kv_file_mmap: addr is NULL");
    *addr = NULL;
    rc = check_file(f, "kv_file_mmap");
    if (rc == KV_OK && writable)
        rc = check_writable(f, "kv_file_mmap");
    if (rc == KV_OK && len == 0)
        rc = kv_fail(KV_EINVAL, "kv_file_mmap: empty mapping");
    if (rc == KV_OK)
        rc = check_range(off, len, "kv_file_mmap");
    if (rc == KV_OK)
        rc = f->env->ops->mmap(f, off, len, writable, addr);
    return rc;
}

int kv_file_munmap(kv_file *f, void *addr, size_t len)
{
    int rc = check_file(f, "kv_file_munmap");

    if (rc == KV_OK && (!addr || len == 0))
        rc = kv_fail(KV_EINVAL, "kv_file_munmap: NULL address or empty length");
    if (rc == KV_OK)
        rc = f->env->ops->munmap(f, addr, len);
    return rc;
}

/* ---- the namespace ---------------------------------------------------- */

unsigned kv_mode_dir_of(unsigned file_mode)
{
    file_mode &= 0777u;
    return file_mode | ((file_mode & 0444u) >> 2);
}

int kv_env_mkdir(const kv_env *env, const char *path)
{
    return kv_env_mkdir_mode(env, path, KV_MODE_DIR);
}

int kv_env_mkdir_mode(const kv_env *env, const char *path, unsigned mode)
{
    int rc = check_path(env, path, "kv_env_mkdir");

    if (rc == KV_OK)
        rc = check_mode(mode, "kv_env_mkdir");
    return rc == KV_OK ? env->ops->mkdir(env->ctx, path, mode) : rc;
}

int kv_env_sync_dir(const kv_env *env, const char *path)
{
    int rc = check_path(env, path, "kv_env_sync_dir");

    if (rc == KV_OK)
        rc = env->ops->sync_dir(env->ctx, path);
    if (rc == KV_OK)
        count(&mut(env)->syncs, 1);
    return rc;
}

int kv_env_mkdir_durable(const kv_env *env, const char *path)
{
    return kv_env_mkdir_durable_mode(env, path, KV_MODE_DIR);
}

int kv_env_mkdir_durable_mode(const kv_env *env, const char *path, unsigned mode)
{
    char *parent, *slash;
    int rc = check_mode(mode, "kv_env_mkdir_durable");

    if (rc != KV_OK)
        return rc;
    if (kv_env_stat(env, path, NULL, NULL) == KV_OK)
        return KV_OK;
    rc = kv_env_mkdir_mode(env, path, mode);
    if (rc != KV_OK)
        return rc;
    parent = kv_strdup(path);
    if (!parent)
        return kv_fail(KV_ENOMEM, "kv_env_mkdir_durable: out of memory");
    slash = strrchr(parent, '/');
    while (slash && slash > parent && slash[1] == '\0') { /* "a/b/" */
        *slash = '\0';
        slash = strrchr(parent, '/');
    }
    if (!slash)
        rc = kv_env_sync_dir(env, ".");
    else {
        slash[slash == parent ? 1 : 0] = '\0'; /* "/a": the parent is "/" */
        rc = kv_env_sync_dir(env, parent);
    }
    kv_free(parent);
    return rc;
}

int kv_env_rename(const kv_env *env, const char *from, const char *to)
{
    int rc = check_path(env, from, "kv_env_rename");

    if (rc == KV_OK)
        rc = check_path(env, to, "kv_env_rename");
    return rc == KV_OK ? env->ops->rename(env->ctx, from, to) : rc;
}

int kv_env_unlink(const kv_env *env, const char *path)
{
    int rc = check_path(env, path, "kv_env_unlink");

    return rc == KV_OK ? env->ops->unlink(env->ctx, path) : rc;
}

int kv_env_rmdir(const kv_env *env, const char *path)
{
    int rc = check_path(env, path, "kv_env_rmdir");

    return rc == KV_OK ? env->ops->rmdir(env->ctx, path) : rc;
}

int kv_env_remove_dir(const kv_env *env, const char *path)
{
    char **names = NULL, *f;
    size_t n = 0, plen;
    bool is_dir = false;
    int rc = check_path(env, path, "kv_env_remove_dir");

    if (rc == KV_OK)
        rc = kv_env_stat(env, path, NULL, &is_dir);
    if (rc == KV_ENOTFOUND)
        return KV_OK;
    if (rc == KV_OK && !is_dir)
        rc = kv_fail(KV_EIO, "kv_env_remove_dir: %s is not a directory", path);
    if (rc == KV_OK)
        rc = kv_env_list(env, path, &names, &n);
    plen = strlen(path);
    for (size_t i = 0; i < n && rc == KV_OK; i++) {
        size_t len = plen + 1 + strlen(names[i]) + 1;
        if ((f = kv_malloc(len)) == NULL) {
            rc = kv_fail(KV_ENOMEM, "kv_env_remove_dir: out of memory");
            break;
        }
        snprintf(f, len, "%s/%s", path, names[i]);
        if (kv_env_stat(env, f, NULL, &is_dir) == KV_OK && is_dir)
            rc = kv_fail(KV_EBUSY, "kv_env_remove_dir: %s holds a directory", path);
        else
            rc = kv_env_unlink(env, f);
        kv_free(f);
    }
    kv_env_list_free(names, n);
    return rc == KV_OK ? kv_env_rmdir(env, path) : rc;
}

int kv_env_stat(const kv_env *env, const char *path, uint64_t *size, bool *is_dir)
{
    uint64_t s = 0;
    bool d = false;
    unsigned m = 0;
    int rc = check_path(env, path, "kv_env_stat");

    if (rc == KV_OK)
        rc = env->ops->stat(env->ctx, path, &s, &d, &m);
    if (size)
        *size = rc == KV_OK ? s : 0;
    if (is_dir)
        *is_dir = rc == KV_OK && d;
    return rc;
}

int kv_env_stat_mode(const kv_env *env, const char *path, unsigned *mode)
{
    uint64_t s = 0;
    bool d = false;
    unsigned m = 0;
    int rc;

    if (!mode)
        return kv_fail(KV_EINVAL, "kv_env_stat_mode: mode is NULL");
    *mode = 0;
    rc = check_path(env, path, "kv_env_stat_mode");
    if (rc == KV_OK)
        rc = env->ops->stat(env->ctx, path, &s, &d, &m);
    if (rc == KV_OK)
        *mode = m;
    return rc;
}

int kv_env_list(const kv_env *env, const char *dir, char ***names, size_t *n)
{
    int rc;

    if (!names || !n)
        return kv_fail(KV_EINVAL, "kv_env_list: names and n must not be NULL");
    *names = NULL;
    *n = 0;
    rc = check_path(env, dir, "kv_env_list");
    if (rc == KV_OK)
        rc = env->ops->list(env->ctx, dir, names, n);
    assert(rc == KV_OK || (*names == NULL && *n == 0));
    return rc;
}

void kv_env_list_free(char **names, size_t n)
{
    if (!names)
        return;
    for (size_t i = 0; i < n; i++)
        kv_free(names[i]);
    kv_free(names);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void kv_env_sort_names(char **names, size_t n)
{
    if (n > 1)
        qsort(names, n, sizeof(*names), compare_names);
}
