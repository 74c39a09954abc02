/*
 * env_fault.c — the fault env: the in-memory file system plus injected
 * failures, a space quota and simulated crashes (kv_env_fault_new()).
 *
 * It is a decorator: every op of its table takes the fault lock, decides
 * whether the call goes through, and if so hands it to the same
 * kv_memfs_* function the mem env uses (env_mem.c, env_mem_ns.c), which
 * keeps the live and the durable state. What it decides, in this order:
 *
 *   1. Crashed? Every call fails with KV_EIO, except kv_file_close, which
 *      always frees its handle (the dying engine must be able to clean up).
 *   2. A mutating call (write, file sync, directory sync, rename, unlink,
 *      rmdir, mkdir, truncate, open with KV_O_CREAT or KV_O_TRUNC) counts
 *      one mutation. If kv_env_fault_crash_after() armed this count, the
 *      env crashes now, before the call, which fails with KV_EIO.
 *   3. An injected fault: each kind (KV_FAULT_OPEN ... KV_FAULT_TRUNCATE)
 *      and KV_FAULT_ANY has one slot, "let `skip` calls pass, then fail
 *      `left` calls (or all, `forever`) with `status`". A call advances its
 *      kind's slot and the ANY slot; a failing call does nothing at all
 *      (a failing write writes nothing).
 *
 * The quota is enforced inside the file system (it knows the sizes).
 *
 * Crashing (kv_env_fault_crash(), or step 2) freezes the crash image
 * (kv_memfs_crash(): nothing to do for DROP; for TORN, every file's live
 * content with its last unsynced write cut to a prefix drawn from the
 * env's seeded generator). Reboot replaces the live state by that image
 * (kv_memfs_reboot()) and accepts calls again; files of the old life fail
 * with KV_EIO. Rebooting an env that has not crashed crashes it first
 * (DROP): a power cycle.
 *
 * Holding the fault lock across the file-system call makes "check, then
 * act" atomic: no call that passed the crash check can change the state
 * after the crash froze it. Lock order: fault lock, then the file system's.
 */
#include <assert.h>
#include <pthread.h>

#include "env_mem.h"
#include "kvlabs/alloc.h"
#include "kvlabs/error.h"

enum { NO_KIND = -1 };

struct fault_slot {
    bool armed;
    bool forever;
    uint64_t skip; /* calls still to let through */
    uint64_t left; /* failures still to make (unless forever) */
    int status;
};

struct fault {
    pthread_mutex_t mu;
    kv_memfs *fs;
    kv_rng rng;
    struct fault_slot slots[KV_FAULT_KINDS_];
    bool crashed;
    uint64_t mutations;
    uint64_t crash_at; /* mutation number to crash before; 0: disarmed */
    kv_crash_mode crash_mode;
};

static const struct kv_env_ops fault_ops;

static struct fault *fault_of_file(const kv_file *f)
{
    struct fault *ft = kv_env_ctx(f->env, &fault_ops);

    assert(ft);
    return ft;
}

static const char *kind_name(int kind)
{
    static const char *const names[] = {"open", "read", "write", "sync", "rename", "unlink",
                                        "truncate", "any"};

    return kind >= 0 && kind < KV_FAULT_KINDS_ ? names[kind] : "?";
}

/* ---- the decision ----------------------------------------------------- */

static void do_crash(struct fault *ft, kv_crash_mode mode)
{
    if (ft->crashed)
        return;
    kv_memfs_crash(ft->fs, mode == KV_CRASH_TORN, &ft->rng);
    ft->crashed = true;
    ft->crash_at = 0;
}

/* Advance a slot by one call; its status if this call fails. */
static int slot_hit(struct fault_slot *s)
{
    if (!s->armed)
        return KV_OK;
    if (s->skip > 0) {
        s->skip--;
        return KV_OK;
    }
    if (!s->forever && --s->left == 0)
        s->armed = false;
    return s->status;
}

/* Steps 1-3 of the opening comment, with ft->mu held. */
static int enter(struct fault *ft, int kind, bool mutating, const char *call, const char *path)
{
    int rc;

    if (ft->crashed)
        return kv_fail(KV_EIO, "%s %s: the env has crashed", call, path);
    if (mutating && ++ft->mutations == ft->crash_at) {
        do_crash(ft, ft->crash_mode);
        return kv_fail(KV_EIO, "%s %s: crashed before mutation %llu", call, path,
                       (unsigned long long)ft->mutations);
    }
    if (kind == NO_KIND)
        return KV_OK;
    rc = slot_hit(&ft->slots[kind]);
    if (slot_hit(&ft->slots[KV_FAULT_ANY]) != KV_OK && rc == KV_OK)
        rc = ft->slots[KV_FAULT_ANY].status;
    if (rc != KV_OK)
        return kv_fail(rc, "%s %s: injected %s fault (%s)", call, path, kind_name(kind),
                       kv_strerror(rc));
    return KV_OK;
}

/* ---- the ops: decide, then hand over to the file system ---------------- */

static int fault_open(void *ctx, const char *path, int flags, unsigned mode, kv_file **out)
{
    struct fault *ft = ctx;
    int rc;

    pthread_mutex_lock(&ft->mu);
    rc = enter(ft, KV_FAULT_OPEN, flags & (KV_O_CREAT | KV_O_TRUNC), "open", path);
    if (rc == KV_OK)
        rc = kv_memfs_open(ft->fs, path, flags, mode, out);
    pthread_mutex_unlock(&ft->mu);
    return rc;
}

static int fault_close(kv_file *f)
{
    return kv_memfs_close(f); /* even after a crash: it frees the handle */
}

static int fault_pread(kv_file *f, void *buf, size_t n, uint64_t off, size_t *got)
{
    struct fault *ft = fault_of_file(f);
    int rc;

    pthread_mutex_lock(&ft->mu);
    rc = enter(ft, KV_FAULT_READ, false, "pread", kv_memfs_path(f));
    if (rc == KV_OK)
        rc = kv_memfs_pread(f, buf, n, off, got);
    pthread_mutex_unlock(&ft->mu);
    return rc;
}

static int fault_pwrite(kv_file *f, const void *buf, size_t n, uint64_t off)
{
    struct fault *ft = fault_of_file(f);
    int rc;

    pthread_mutex_lock(&ft->mu);
    rc = enter(ft, KV_FAULT_WRITE, true, "pwrite", kv_memfs_path(f));
    if (rc == KV_OK)
        rc = kv_memfs_pwrite(f, buf, n, off);
    pthread_mutex_unlock(&ft->mu);
    return rc;
}

static int fault_sync(kv_file *f)
{
    struct fault *ft = fault_of_file(f);
    int rc;

    pthread_mutex_lock(&ft->mu);
    rc = enter(ft, KV_FAULT_SYNC, true, "fsync", kv_memfs_path(f));
    if (rc == KV_OK)
        rc = kv_memfs_sync(f);
    pthread_mutex_unlock(&ft->mu);
    return rc;
}

static int fault_truncate(kv_file *f, uint64_t size)
{
    struct fault *ft = fault_of_file(f);
    int rc;

    pthread_mutex_lock(&ft->mu);
    rc = enter(ft, KV_FAULT_TRUNCATE, true, "ftruncate", kv_memfs_path(f));
    if (rc == KV_OK)
        rc = kv_memfs_truncate(f, size);
    pthread_mutex_unlock(&ft->mu);
    return rc;
}

static int fault_size(kv_file *f, uint64_t *size)
{
    struct fault *ft = fault_of_file(f);
    int rc;

    pthread_mutex_lock(&ft->mu);
    rc = enter(ft, NO_KIND, false, "fstat", kv_memfs_path(f));
    if (rc == KV_OK)
        rc = kv_memfs_size(f, size);
    pthread_mutex_unlock(&ft->mu);
    return rc;
}

static int fault_lock(kv_file *f)
{
    struct fault *ft = fault_of_file(f);
    int rc;

    pthread_mutex_lock(&ft->mu);
    rc = enter(ft, NO_KIND, false, "flock", kv_memfs_path(f));
    if (rc == KV_OK)
        rc = kv_memfs_lock(f);
    pthread_mutex_unlock(&ft->mu);
    return rc;
}

static int fault_mmap(kv_file *f, uint64_t off, size_t len, bool writable, void **addr)
{
    struct fault *ft = fault_of_file(f);
    int rc;

    pthread_mutex_lock(&ft->mu);
    rc = enter(ft, NO_KIND, false, "mmap", kv_memfs_path(f));
    if (rc == KV_OK)
        rc = kv_memfs_mmap(f, off, len, writable, addr);
    pthread_mutex_unlock(&ft->mu);
    return rc;
}

static int fault_munmap(kv_file *f, void *addr, size_t len)
{
    struct fault *ft = fault_of_file(f);
    int rc;

    pthread_mutex_lock(&ft->mu);
    rc = enter(ft, NO_KIND, false, "munmap", kv_memfs_path(f));
    if (rc == KV_OK)
        rc = kv_memfs_munmap(f, addr, len);
    pthread_mutex_unlock(&ft->mu);
    return rc;
}

static int fault_mkdir(void *ctx, const char *path, unsigned mode)
{
    struct fault *ft = ctx;
    int rc;

    pthread_mutex_lock(&ft->mu);
    rc = enter(ft, NO_KIND, true, "mkdir", path);
    if (rc == KV_OK)
        rc = kv_memfs_mkdir(ft->fs, path, mode);
    pthread_mutex_unlock(&ft->mu);
    return rc;
}

static int fault_sync_dir(void *ctx, const char *path)
{
    struct fault *ft = ctx;
    int rc;

    pthread_mutex_lock(&ft->mu);
    rc = enter(ft, KV_FAULT_SYNC, true, "fsync directory", path);
    if (rc == KV_OK)
        rc = kv_memfs_sync_dir(ft->fs, path);
    pthread_mutex_unlock(&ft->mu);
    return rc;
}

static int fault_rename(void *ctx, const char *from, const char *to)
{
    struct fault *ft = ctx;
    int rc;

    pthread_mutex_lock(&ft->mu);
    rc = enter(ft, KV_FAULT_RENAME, true, "rename", from);
    if (rc == KV_OK)
        rc = kv_memfs_rename(ft->fs, from, to);
    pthread_mutex_unlock(&ft->mu);
    return rc;
}

static int fault_unlink(void *ctx, const char *path)
{
    struct fault *ft = ctx;
    int rc;

    pthread_mutex_lock(&ft->mu);
    rc = enter(ft, KV_FAULT_UNLINK, true, "unlink", path);
    if (rc == KV_OK)
        rc = kv_memfs_unlink(ft->fs, path);
    pthread_mutex_unlock(&ft->mu);
    return rc;
}

static int fault_rmdir(void *ctx, const char *path)
{
    struct fault *ft = ctx;
    int rc;

    pthread_mutex_lock(&ft->mu);
    rc = enter(ft, KV_FAULT_UNLINK, true, "rmdir", path);
    if (rc == KV_OK)
        rc = kv_memfs_rmdir(ft->fs, path);
    pthread_mutex_unlock(&ft->mu);
    return rc;
}

static int fault_stat(void *ctx, const char *path, uint64_t *size, bool *is_dir,
                      unsigned *mode)
{
    struct fault *ft = ctx;
    int rc;

    pthread_mutex_lock(&ft->mu);
    rc = enter(ft, NO_KIND, false, "stat", path);
    if (rc == KV_OK)
        rc = kv_memfs_stat(ft->fs, path, size, is_dir, mode);
    pthread_mutex_unlock(&ft->mu);
    return rc;
}

static int fault_list(void *ctx, const char *dir, char ***names, size_t *n)
{
    struct fault *ft = ctx;
    int rc;

    pthread_mutex_lock(&ft->mu);
    rc = enter(ft, NO_KIND, false, "opendir", dir);
    if (rc == KV_OK)
        rc = kv_memfs_list(ft->fs, dir, names, n);
    pthread_mutex_unlock(&ft->mu);
    return rc;
}

static void fault_destroy(void *ctx)
{
    struct fault *ft = ctx;

    kv_memfs_free(ft->fs);
    pthread_mutex_destroy(&ft->mu);
    kv_free(ft);
}

static const struct kv_env_ops fault_ops = {
    .name = "fault",
    .destroy = fault_destroy,
    .open = fault_open,
    .close = fault_close,
    .pread = fault_pread,
    .pwrite = fault_pwrite,
    .sync = fault_sync,
    .truncate = fault_truncate,
    .size = fault_size,
    .lock = fault_lock,
    .mmap = fault_mmap,
    .munmap = fault_munmap,
    .mkdir = fault_mkdir,
    .sync_dir = fault_sync_dir,
    .rename = fault_rename,
    .unlink = fault_unlink,
    .rmdir = fault_rmdir,
    .stat = fault_stat,
    .list = fault_list,
};

/* ---- the public control functions ------------------------------------- */

kv_env *kv_env_fault_new(uint64_t seed)
{
    struct fault *ft = kv_calloc(1, sizeof(*ft));
    kv_env *env;

    if (!ft)
        return NULL;
    if (pthread_mutex_init(&ft->mu, NULL) != 0)
        goto out_free_fault;
    ft->fs = kv_memfs_new(true);
    if (!ft->fs)
        goto out_destroy_mutex;
    kv_rng_seed(&ft->rng, seed);
    env = kv_env_create(&fault_ops, ft);
    if (!env)
        goto out_free_fs;
    return env;

out_free_fs:
    kv_memfs_free(ft->fs);
out_destroy_mutex:
    pthread_mutex_destroy(&ft->mu);
out_free_fault:
    kv_free(ft);
    return NULL;
}

void kv_env_fault_fail(kv_env *env, kv_fault_kind kind, uint64_t nth, uint64_t count, int status)
{
    struct fault *ft = kv_env_ctx(env, &fault_ops);
    struct fault_slot *s;

    if (!ft || (int)kind < 0 || kind >= KV_FAULT_KINDS_)
        return;
    pthread_mutex_lock(&ft->mu);
    s = &ft->slots[kind];
    *s = (struct fault_slot){.armed = nth != 0, .forever = count == 0, .skip = nth ? nth - 1 : 0,
                             .left = count, .status = status < 0 ? status : KV_EIO};
    pthread_mutex_unlock(&ft->mu);
}

void kv_env_fault_set_quota(kv_env *env, uint64_t bytes)
{
    struct fault *ft = kv_env_ctx(env, &fault_ops);

    if (ft)
        kv_memfs_set_quota(ft->fs, bytes);
}

void kv_env_fault_crash(kv_env *env, kv_crash_mode mode)
{
    struct fault *ft = kv_env_ctx(env, &fault_ops);

    if (!ft)
        return;
    pthread_mutex_lock(&ft->mu);
    do_crash(ft, mode);
    pthread_mutex_unlock(&ft->mu);
}

void kv_env_fault_crash_after(kv_env *env, uint64_t nth, kv_crash_mode mode)
{
    struct fault *ft = kv_env_ctx(env, &fault_ops);

    if (!ft)
        return;
    pthread_mutex_lock(&ft->mu);
    ft->crash_at = nth ? ft->mutations + nth : 0;
    ft->crash_mode = mode;
    pthread_mutex_unlock(&ft->mu);
}

bool kv_env_fault_crashed(const kv_env *env)
{
    struct fault *ft = kv_env_ctx(env, &fault_ops);
    bool crashed;

    if (!ft)
        return false;
    pthread_mutex_lock(&ft->mu);
    crashed = ft->crashed;
    pthread_mutex_unlock(&ft->mu);
    return crashed;
}

void kv_env_fault_reboot(kv_env *env)
{
    struct fault *ft = kv_env_ctx(env, &fault_ops);

    if (!ft)
        return;
    pthread_mutex_lock(&ft->mu);
    do_crash(ft, KV_CRASH_DROP); /* no-op when already crashed */
    kv_memfs_reboot(ft->fs);
    ft->crashed = false;
    pthread_mutex_unlock(&ft->mu);
}

uint64_t kv_env_fault_mutations(const kv_env *env)
{
    struct fault *ft = kv_env_ctx(env, &fault_ops);
    uint64_t n;

    if (!ft)
        return 0;
    pthread_mutex_lock(&ft->mu);
    n = ft->mutations;
    pthread_mutex_unlock(&ft->mu);
    return n;
}

int kv_env_fault_flip(kv_env *env, const char *path, uint64_t off, unsigned bit)
{
    struct fault *ft = kv_env_ctx(env, &fault_ops);
    int rc;

    if (!ft)
        return kv_fail(KV_ENOTSUP, "kv_env_fault_flip: not a fault env");
    if (!path || !path[0])
        return kv_fail(KV_EINVAL, "kv_env_fault_flip: empty or NULL path");
    pthread_mutex_lock(&ft->mu);
    rc = kv_memfs_flip(ft->fs, path, off, bit);
    pthread_mutex_unlock(&ft->mu);
    return rc;
}
