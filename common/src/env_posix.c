/*
 * env_posix.c — the env over the real file system (kv_env_posix()).
 *
 * Each operation is the POSIX call it names, made robust the way storage
 * code must be:
 *
 * - every call that can be interrupted is retried on EINTR (open, pread,
 *   pwrite, fdatasync, ftruncate, flock);
 * - pread and pwrite loop over short transfers: a read stops early only at
 *   end of file, a write writes everything or fails;
 * - files are opened O_CLOEXEC, so a forked-and-exec'd child never holds
 *   an engine's file (or its flock) open;
 * - files and directories are created with the mode the caller gives
 *   (kv_env_open_mode(), kv_env_mkdir_mode(); 0600 and 0700 by default),
 *   which the process umask can only narrow, as open(2) and mkdir(2) do;
 *   an existing file or directory keeps its mode;
 * - kv_file_sync() is fdatasync(): it flushes the data and the metadata
 *   needed to read it back (the size), not the timestamps;
 * - a directory is made durable by fsync() of a descriptor opened
 *   O_RDONLY|O_DIRECTORY, which is how creations, renames and unlinks in
 *   it reach the disk;
 * - the lock is flock(LOCK_EX|LOCK_NB): it belongs to the open file
 *   description, so two kv_files conflict even within one process, and it
 *   is released by close.
 *
 * Errors map as env.h says (status_of(): ENOENT -> KV_ENOTFOUND,
 * ENOSPC -> KV_EFULL, EEXIST from open(O_EXCL) and ENOTEMPTY from rmdir ->
 * KV_EBUSY, the rest KV_EIO; reads and syncs always KV_EIO). Every
 * failure's detail names the call, the path and the errno text.
 *
 * A file handle keeps a copy of its path only for those error messages.
 * The env has no state of its own (its ctx is NULL) and needs no lock; the
 * singleton kv_env_posix() returns is defined here, at the end, and only
 * calls down into env.c's helpers.
 */
#define _DEFAULT_SOURCE /* flock */

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "env_impl.h"
#include "kvlabs/alloc.h"
#include "kvlabs/error.h"

struct posix_file {
    struct kv_file base;
    int fd;
    char *path;
};

static struct posix_file *pf(kv_file *f)
{
    struct posix_file *p = (struct posix_file *)f;

    assert(p && p->fd >= 0 && p->path);
    return p;
}

/* The detail "<call> <path>: <strerror>" with @p status. */
static int fail_as(int status, int err, const char *call, const char *path)
{
    char what[KV_ERROR_MAX];

    snprintf(what, sizeof(what), "%s %s", call, path);
    return kv_fail_errno(status, err, what);
}

/*
 * The status of an errno: what the header promises (ENOENT -> KV_ENOTFOUND,
 * no space -> KV_EFULL, ENOMEM -> KV_ENOMEM, EEXIST and ENOTEMPTY ->
 * KV_EBUSY, the rest KV_EIO). Narrower than kv_status_from_errno(): an
 * EINVAL from the kernel here is an I/O failure, not the caller's mistake.
 */
static int status_of(int err)
{
    switch (err) {
    case ENOENT: return KV_ENOTFOUND;
    case ENOSPC:
    case EDQUOT:
    case EFBIG: return KV_EFULL;
    case ENOMEM: return KV_ENOMEM;
    case EEXIST:
    case ENOTEMPTY: return KV_EBUSY;
    default: return KV_EIO;
    }
}

static int fail(int err, const char *call, const char *path)
{
    return fail_as(status_of(err), err, call, path);
}

/* ---- files ------------------------------------------------------------ */

static int open_flags(int flags)
{
    int o = O_CLOEXEC | ((flags & KV_O_RDWR) ? O_RDWR : O_RDONLY);

    if (flags & KV_O_CREAT)
        o |= O_CREAT;
    if (flags & KV_O_TRUNC)
        o |= O_TRUNC;
    if (flags & KV_O_EXCL)
        o |= O_EXCL;
    return o;
}

static int posix_open(void *ctx, const char *path, int flags, unsigned mode, kv_file **out)
{
    struct posix_file *p;
    int fd, err;

    (void)ctx;
    p = kv_calloc(1, sizeof(*p));
    if (!p)
        return kv_fail(KV_ENOMEM, "open %s: out of memory", path);
    p->path = kv_strdup(path);
    if (!p->path) {
        err = kv_fail(KV_ENOMEM, "open %s: out of memory", path);
        goto out_free_file;
    }
    do
        fd = open(path, open_flags(flags), (mode_t)mode);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        err = fail(errno, "open", path);
        goto out_free_path;
    }
    p->fd = fd;
    *out = &p->base;
    return KV_OK;

out_free_path:
    kv_free(p->path);
out_free_file:
    kv_free(p);
    return err;
}

static int posix_close(kv_file *f)
{
    struct posix_file *p = pf(f);
    int rc = KV_OK;

    /* Linux closes the descriptor even when close() fails; never retry. */
    if (close(p->fd) != 0 && errno != EINTR)
        rc = fail(errno, "close", p->path);
    kv_free(p->path);
    kv_free(p);
    return rc;
}

static int posix_pread(kv_file *f, void *buf, size_t n, uint64_t off, size_t *got)
{
    struct posix_file *p = pf(f);
    size_t done = 0;

    while (done < n) {
        ssize_t r = pread(p->fd, (char *)buf + done, n - done, (off_t)(off + done));

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return fail_as(KV_EIO, errno, "pread", p->path);
        if (r == 0)
            break;
        done += (size_t)r;
    }
    *got = done;
    return KV_OK;
}

static int posix_pwrite(kv_file *f, const void *buf, size_t n, uint64_t off)
{
    struct posix_file *p = pf(f);
    size_t done = 0;

    while (done < n) {
        ssize_t r = pwrite(p->fd, (const char *)buf + done, n - done, (off_t)(off + done));

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return fail(errno, "pwrite", p->path);
        if (r == 0)
            return kv_fail(KV_EIO, "pwrite %s: wrote nothing", p->path);
        done += (size_t)r;
    }
    return KV_OK;
}

static int posix_sync(kv_file *f)
{
    struct posix_file *p = pf(f);
    int r;

    do
        r = fdatasync(p->fd);
    while (r != 0 && errno == EINTR);
    return r == 0 ? KV_OK : fail_as(KV_EIO, errno, "fdatasync", p->path);
}

static int posix_truncate(kv_file *f, uint64_t size)
{
    struct posix_file *p = pf(f);
    int r;

    do
        r = ftruncate(p->fd, (off_t)size);
    while (r != 0 && errno == EINTR);
    if (r == 0)
        return KV_OK;
    return fail(errno, "ftruncate", p->path);
}

static int posix_size(kv_file *f, uint64_t *size)
{
    struct posix_file *p = pf(f);
    struct stat st;

    if (fstat(p->fd, &st) != 0)
        return fail_as(KV_EIO, errno, "fstat", p->path);
    *size = (uint64_t)st.st_size;
    return KV_OK;
}

static int posix_lock(kv_file *f)
{
    struct posix_file *p = pf(f);
    int r;

    do
        r = flock(p->fd, LOCK_EX | LOCK_NB);
    while (r != 0 && errno == EINTR);
    if (r == 0)
        return KV_OK;
    return errno == EWOULDBLOCK ? fail_as(KV_EBUSY, errno, "flock", p->path)
                                : fail_as(KV_EIO, errno, "flock", p->path);
}

static int posix_mmap(kv_file *f, uint64_t off, size_t len, bool writable, void **addr)
{
    struct posix_file *p = pf(f);
    long page = sysconf(_SC_PAGESIZE);
    uint64_t size;
    void *a;
    int rc;

    if (page <= 0 || off % (uint64_t)page != 0)
        return kv_fail(KV_EINVAL, "mmap %s: offset %llu is not a multiple of the page size",
                       p->path, (unsigned long long)off);
    rc = posix_size(f, &size);
    if (rc != KV_OK)
        return rc;
    if (size < off + len)
        return kv_fail(KV_EINVAL, "mmap %s: %llu+%zu is past the end of the file (%llu bytes)",
                       p->path, (unsigned long long)off, len, (unsigned long long)size);
    a = mmap(NULL, len, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, p->fd, (off_t)off);
    if (a == MAP_FAILED)
        return fail_as(errno == ENOMEM ? KV_ENOMEM : KV_EIO, errno, "mmap", p->path);
    *addr = a;
    return KV_OK;
}

static int posix_munmap(kv_file *f, void *addr, size_t len)
{
    struct posix_file *p = pf(f);

    if (munmap(addr, len) != 0)
        return fail_as(KV_EINVAL, errno, "munmap", p->path);
    return KV_OK;
}

/* ---- the namespace ---------------------------------------------------- */

static int posix_mkdir(void *ctx, const char *path, unsigned mode)
{
    struct stat st;

    (void)ctx;
    if (mkdir(path, (mode_t)mode) == 0)
        return KV_OK;
    if (errno != EEXIST)
        return fail(errno, "mkdir", path);
    if (stat(path, &st) != 0)
        return fail_as(KV_EIO, errno, "stat", path);
    if (!S_ISDIR(st.st_mode))
        return kv_fail(KV_EIO, "mkdir %s: exists and is not a directory", path);
    return KV_OK;
}

static int posix_sync_dir(void *ctx, const char *path)
{
    int fd, r, err;

    (void)ctx;
    do
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return fail(errno, "open directory", path);
    do
        r = fsync(fd);
    while (r != 0 && errno == EINTR);
    err = errno;
    close(fd);
    return r == 0 ? KV_OK : fail_as(KV_EIO, err, "fsync directory", path);
}

static int posix_rename(void *ctx, const char *from, const char *to)
{
    char what[KV_ERROR_MAX];

    (void)ctx;
    if (rename(from, to) == 0)
        return KV_OK;
    snprintf(what, sizeof(what), "rename %s -> %s", from, to);
    return kv_fail_errno(status_of(errno), errno, what);
}

static int posix_unlink(void *ctx, const char *path)
{
    (void)ctx;
    if (unlink(path) == 0)
        return KV_OK;
    return fail(errno, "unlink", path);
}

static int posix_rmdir(void *ctx, const char *path)
{
    (void)ctx;
    if (rmdir(path) == 0)
        return KV_OK;
    return fail(errno, "rmdir", path);
}

static int posix_stat(void *ctx, const char *path, uint64_t *size, bool *is_dir, unsigned *mode)
{
    struct stat st;

    (void)ctx;
    if (stat(path, &st) != 0)
        return fail(errno, "stat", path);
    *is_dir = S_ISDIR(st.st_mode);
    *mode = (unsigned)(st.st_mode & 07777);
    *size = *is_dir ? 0 : (uint64_t)st.st_size;
    return KV_OK;
}

/* Append a copy of @p name to the growing array (*names, *n, *cap). */
static int list_push(char ***names, size_t *n, size_t *cap, const char *name)
{
    if (*n == *cap) {
        size_t ncap = *cap ? 2 * *cap : 16;
        char **grown = kv_realloc(*names, ncap * sizeof(*grown));

        if (!grown)
            return KV_ENOMEM;
        *names = grown;
        *cap = ncap;
    }
    (*names)[*n] = kv_strdup(name);
    if (!(*names)[*n])
        return KV_ENOMEM;
    (*n)++;
    return KV_OK;
}

static int posix_list(void *ctx, const char *dir, char ***names, size_t *n)
{
    char **v = NULL;
    size_t len = 0, cap = 0;
    struct dirent *e;
    DIR *d;
    int rc = KV_OK;

    (void)ctx;
    d = opendir(dir);
    if (!d)
        return fail(errno, "opendir", dir);
    for (errno = 0; (e = readdir(d)) != NULL; errno = 0) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (list_push(&v, &len, &cap, e->d_name) != KV_OK) {
            rc = kv_fail(KV_ENOMEM, "list %s: out of memory", dir);
            goto out_free_names;
        }
    }
    if (errno != 0) {
        rc = fail_as(KV_EIO, errno, "readdir", dir);
        goto out_free_names;
    }
    closedir(d);
    kv_env_sort_names(v, len);
    *names = v;
    *n = len;
    return KV_OK;

out_free_names:
    kv_env_list_free(v, len);
    closedir(d);
    return rc;
}

static void posix_destroy(void *ctx)
{
    (void)ctx;
}

static const struct kv_env_ops posix_ops = {
    .name = "posix",
    .destroy = posix_destroy,
    .open = posix_open,
    .close = posix_close,
    .pread = posix_pread,
    .pwrite = posix_pwrite,
    .sync = posix_sync,
    .truncate = posix_truncate,
    .size = posix_size,
    .lock = posix_lock,
    .mmap = posix_mmap,
    .munmap = posix_munmap,
    .mkdir = posix_mkdir,
    .sync_dir = posix_sync_dir,
    .rename = posix_rename,
    .unlink = posix_unlink,
    .rmdir = posix_rmdir,
    .stat = posix_stat,
    .list = posix_list,
};

/* The one posix env: static, so kv_env_free() of it does nothing. */
static struct kv_env posix_env = {.ops = &posix_ops, .is_static = true};

const kv_env *kv_env_posix(void)
{
    return &posix_env;
}
