/*
 * env_mem.c — an in-memory file system that knows what is durable: its
 * files, the crash image, and the mem env (kv_env_mem_new()).
 *
 * This is the mem env (a private file system with no disk) and the state
 * under the fault env (env_fault.c), which adds failures and crashes on
 * top. It keeps, for every file and directory, both what a process would
 * see now (the *live* state) and what a disk would hold after a power cut
 * (the *durable* state), so a crash can be simulated exactly as env.h's
 * crash model says. The namespace half (directories and their live and
 * durable entries, paths, reference counts) is env_mem_ns.c; this file is
 * the content half.
 *
 * How it works. A file node has two byte arrays: `live`, the content now,
 * and `dur`, the content at its last kv_file_sync(). A write changes
 * `live`; a sync copies `live` to `dur`; a reboot copies `dur` back to
 * `live` (after env_mem_ns.c has done the same with directory entries), so
 * everything written since the last sync, and every creation, rename and
 * unlink since the last sync of its directory, is gone.
 *
 * Cheap syncs: a file tracks the dirty range [dirty_lo, dirty_hi) of live
 * bytes changed since its last sync (writes, zero-filled gaps, growing
 * truncates; a byte past the size at the last sync is always inside it), so
 * a sync copies only that range: an append-only log synced after every
 * record costs O(record), not O(file). The durable buffer is always at
 * least as large as the live one (node_reserve() grows it first), and the
 * live one never shrinks, so sync, crash and reboot never allocate and
 * cannot fail for lack of memory.
 *
 * Torn writes (fault env only, `track_torn`): each write remembers its
 * offset, length, the file size before it and the bytes it overwrote. A
 * sync or a truncate forgets it (after a truncate, the truncate is the last
 * change and survives whole). A TORN crash restores the suffix of that
 * write from the saved bytes, keeping a prefix of random length in
 * [0, length], and freezes every file's live content (all other unsynced
 * writes included) as its durable content.
 *
 * Modes: a node records the permission bits it was created with (the
 * root: 0755), as given, with no umask (a test reads them back through
 * kv_env_stat_mode() to check what an engine asked for). They are never
 * enforced: the in-memory file system has one user. A node keeps its mode
 * across crash and reboot, like an inode.
 *
 * Locks belong to the node (`locker`, the handle holding it), like flock's
 * open-file-description locks: a second handle gets KV_EBUSY, the same
 * handle may lock again. Every handle carries the file system's `life` when
 * it was opened; reboot starts a new life, and a handle of an earlier one
 * fails with KV_EIO (it can still be closed).
 *
 * Thread safety: one mutex per file system, held by every kv_memfs_*
 * function. mmap is not supported (KV_ENOTSUP).
 */
#include <assert.h>
#include <string.h>

#include "env_mem.h"
#include "kvlabs/alloc.h"
#include "kvlabs/error.h"

/* ---- content ---------------------------------------------------------- */

static void dirty_add(struct kv_mem_node *n, uint64_t lo, uint64_t hi)
{
    if (lo >= hi)
        return;
    n->dirty_lo = lo < n->dirty_lo ? lo : n->dirty_lo;
    n->dirty_hi = hi > n->dirty_hi ? hi : n->dirty_hi;
}

static void set_len(kv_memfs *fs, struct kv_mem_node *n, size_t len)
{
    assert(!n->is_dir && len <= n->live.cap);
    assert(fs->bytes >= n->live.len);
    fs->bytes = fs->bytes - n->live.len + len;
    n->live.len = len;
}

/* Grow both buffers to hold @p len bytes, durable first, so dur.cap >= live.cap always. */
static int node_reserve(struct kv_mem_node *n, size_t len)
{
    size_t cap = n->live.cap ? n->live.cap : 64;
    uint8_t *p;

    if (len <= n->live.cap)
        return KV_OK;
    while (cap < len)
        cap = cap > SIZE_MAX / 2 ? len : 2 * cap;
    if (n->dur.cap < cap) {
        p = kv_realloc(n->dur.p, cap);
        if (!p)
            return KV_ENOMEM;
        n->dur.p = p;
        n->dur.cap = cap;
    }
    p = kv_realloc(n->live.p, cap);
    if (!p)
        return KV_ENOMEM;
    n->live.p = p;
    n->live.cap = cap;
    assert(n->dur.cap >= n->live.cap);
    return KV_OK;
}

/* ---- files ------------------------------------------------------------ */

static struct kv_mem_file *mf(kv_file *f)
{
    struct kv_mem_file *m = (struct kv_mem_file *)f;

    /* not node->refs: other threads change it under fs->mu, not held here */
    assert(m && m->fs && m->node && !m->node->is_dir);
    return m;
}

static int check_life(const struct kv_mem_file *m, const char *call)
{
    if (m->life != m->fs->life)
        return kv_fail(KV_EIO, "%s %s: file opened before the crash", call, m->path);
    return KV_OK;
}

static int check_quota(kv_memfs *fs, const struct kv_mem_node *n, uint64_t len, const char *call,
                       const char *path)
{
    if (len > SIZE_MAX)
        return kv_fail(KV_EFULL, "%s %s: file too large", call, path);
    if (fs->quota && len > n->live.len && fs->bytes + (len - n->live.len) > fs->quota)
        return kv_fail(KV_EFULL, "%s %s: No space left on device (quota %llu)", call, path,
                       (unsigned long long)fs->quota);
    return KV_OK;
}

/* Set a live file's size to @p len, zero-filling growth (capacity reserved). */
static void resize(kv_memfs *fs, struct kv_mem_node *n, size_t len)
{
    if (len > n->live.len) {
        memset(n->live.p + n->live.len, 0, len - n->live.len);
        dirty_add(n, n->live.len, len);
    }
    set_len(fs, n, len);
    kv_mem_torn_clear(n);
}

/* Find, or with KV_O_CREAT create, the file an open names. */
static int open_node(kv_memfs *fs, const char *norm, int flags, unsigned mode,
                     struct kv_mem_node **out, const char *path)
{
    struct kv_mem_slot s;
    struct kv_mem_node *n;
    int rc = kv_mem_slot_of(fs, norm, &s, "open", path);

    if (rc == KV_EBUSY)
        return kv_fail(KV_EIO, "open %s: Is a directory", path);
    if (rc != KV_OK)
        return rc;
    if (s.node && (flags & KV_O_EXCL))
        return kv_fail(KV_EBUSY, "open %s: File exists", path);
    if (s.node && s.node->is_dir)
        return kv_fail(KV_EIO, "open %s: Is a directory", path);
    if (s.node) {
        *out = s.node;
        return KV_OK;
    }
    if (!(flags & KV_O_CREAT))
        return kv_fail(KV_ENOTFOUND, "open %s: No such file or directory", path);
    n = kv_mem_node_new(fs, false);
    if (!n)
        return kv_fail(KV_ENOMEM, "open %s: out of memory", path);
    n->mode = mode;
    rc = kv_mem_slot_insert(&s, "open", path);
    if (rc != KV_OK) {
        kv_mem_node_destroy(fs, n);
        return rc;
    }
    kv_mem_ent_set(fs, s.dir, s.idx, n, s.dir->ents[s.idx].dur);
    *out = n;
    return KV_OK;
}

int kv_memfs_open(kv_memfs *fs, const char *path, int flags, unsigned mode, kv_file **out)
{
    char norm[KV_MEM_PATH_MAX];
    struct kv_mem_file *m;
    int rc = KV_ENOMEM;

    m = kv_calloc(1, sizeof(*m));
    if (!m)
        return kv_fail(KV_ENOMEM, "open %s: out of memory", path);
    m->path = kv_strdup(path);
    if (!m->path) {
        rc = kv_fail(KV_ENOMEM, "open %s: out of memory", path);
        goto out_free_file;
    }
    rc = kv_mem_norm_path(path, norm, "open");
    if (rc != KV_OK)
        goto out_free_path;
    pthread_mutex_lock(&fs->mu);
    rc = open_node(fs, norm, flags, mode, &m->node, path);
    if (rc == KV_OK) {
        if (flags & KV_O_TRUNC)
            resize(fs, m->node, 0);
        kv_mem_node_ref(m->node);
        m->fs = fs;
        m->life = fs->life;
        fs->handles++;
    }
    pthread_mutex_unlock(&fs->mu);
    if (rc != KV_OK)
        goto out_free_path;
    *out = &m->base;
    return KV_OK;

out_free_path:
    kv_free(m->path);
out_free_file:
    kv_free(m);
    return rc;
}

int kv_memfs_close(kv_file *f)
{
    struct kv_mem_file *m = mf(f);
    kv_memfs *fs = m->fs;

    pthread_mutex_lock(&fs->mu);
    if (m->node->locker == m)
        m->node->locker = NULL;
    assert(fs->handles > 0);
    fs->handles--;
    kv_mem_node_unref(fs, m->node);
    pthread_mutex_unlock(&fs->mu);
    kv_free(m->path);
    kv_free(m);
    return KV_OK;
}

int kv_memfs_pread(kv_file *f, void *buf, size_t n, uint64_t off, size_t *got)
{
    struct kv_mem_file *m = mf(f);
    struct kv_mem_node *node = m->node;
    int rc;

    pthread_mutex_lock(&m->fs->mu);
    rc = check_life(m, "pread");
    *got = 0;
    if (rc == KV_OK && off < node->live.len) {
        size_t avail = node->live.len - (size_t)off;

        *got = n < avail ? n : avail;
        if (*got)
            memcpy(buf, node->live.p + off, *got);
    }
    pthread_mutex_unlock(&m->fs->mu);
    return rc;
}

/* Remember the write about to happen at [off, off+n) as the last unsynced one. */
static int torn_record(struct kv_mem_node *node, uint64_t off, size_t n)
{
    size_t old_n = off < node->live.len ? node->live.len - (size_t)off : 0;
    uint8_t *old = NULL;

    old_n = old_n < n ? old_n : n;
    if (old_n) {
        old = kv_memdup(node->live.p + off, old_n);
        if (!old)
            return KV_ENOMEM;
    }
    kv_mem_torn_clear(node);
    node->torn = (struct kv_mem_torn){.valid = true, .off = off, .len = n,
                                   .old_len = node->live.len, .old = old, .old_n = old_n};
    return KV_OK;
}

static int do_pwrite(struct kv_mem_file *m, const void *buf, size_t n, uint64_t off)
{
    struct kv_mem_node *node = m->node;
    uint64_t end = off + n;
    int rc = check_life(m, "pwrite");

    if (rc != KV_OK || n == 0)
        return rc;
    rc = check_quota(m->fs, node, end, "pwrite", m->path);
    if (rc != KV_OK)
        return rc;
    if (node_reserve(node, end > node->live.len ? (size_t)end : node->live.len) != KV_OK)
        return kv_fail(KV_ENOMEM, "pwrite %s: out of memory", m->path);
    if (m->fs->track_torn && torn_record(node, off, n) != KV_OK)
        return kv_fail(KV_ENOMEM, "pwrite %s: out of memory", m->path);
    if (off > node->live.len) {
        memset(node->live.p + node->live.len, 0, (size_t)off - node->live.len);
        dirty_add(node, node->live.len, off);
    }
    memcpy(node->live.p + off, buf, n);
    dirty_add(node, off, end);
    if (end > node->live.len)
        set_len(m->fs, node, (size_t)end);
    return KV_OK;
}

int kv_memfs_pwrite(kv_file *f, const void *buf, size_t n, uint64_t off)
{
    struct kv_mem_file *m = mf(f);
    int rc;

    pthread_mutex_lock(&m->fs->mu);
    rc = do_pwrite(m, buf, n, off);
    pthread_mutex_unlock(&m->fs->mu);
    return rc;
}

/* Make a file's durable content equal its live content, copying the dirty range. */
static void node_sync(struct kv_mem_node *n)
{
    assert(!n->is_dir && n->dur.cap >= n->live.len);
    if (n->dirty_lo < n->dirty_hi && n->dirty_lo < n->live.len) {
        size_t hi = n->dirty_hi < n->live.len ? (size_t)n->dirty_hi : n->live.len;

        memcpy(n->dur.p + n->dirty_lo, n->live.p + n->dirty_lo, hi - (size_t)n->dirty_lo);
    }
    n->dur.len = n->live.len;
    kv_mem_dirty_reset(n);
    kv_mem_torn_clear(n);
    assert(n->dur.len == 0 || !memcmp(n->dur.p, n->live.p, n->dur.len));
}

int kv_memfs_sync(kv_file *f)
{
    struct kv_mem_file *m = mf(f);
    int rc;

    pthread_mutex_lock(&m->fs->mu);
    rc = check_life(m, "fsync");
    if (rc == KV_OK)
        node_sync(m->node);
    pthread_mutex_unlock(&m->fs->mu);
    return rc;
}

static int do_truncate(struct kv_mem_file *m, uint64_t size)
{
    int rc = check_life(m, "ftruncate");

    if (rc == KV_OK)
        rc = check_quota(m->fs, m->node, size, "ftruncate", m->path);
    if (rc != KV_OK)
        return rc;
    if (node_reserve(m->node, (size_t)size) != KV_OK)
        return kv_fail(KV_ENOMEM, "ftruncate %s: out of memory", m->path);
    resize(m->fs, m->node, (size_t)size);
    return KV_OK;
}

int kv_memfs_truncate(kv_file *f, uint64_t size)
{
    struct kv_mem_file *m = mf(f);
    int rc;

    pthread_mutex_lock(&m->fs->mu);
    rc = do_truncate(m, size);
    pthread_mutex_unlock(&m->fs->mu);
    return rc;
}

int kv_memfs_size(kv_file *f, uint64_t *size)
{
    struct kv_mem_file *m = mf(f);
    int rc;

    pthread_mutex_lock(&m->fs->mu);
    rc = check_life(m, "fstat");
    *size = rc == KV_OK ? m->node->live.len : 0;
    pthread_mutex_unlock(&m->fs->mu);
    return rc;
}

int kv_memfs_lock(kv_file *f)
{
    struct kv_mem_file *m = mf(f);
    int rc;

    pthread_mutex_lock(&m->fs->mu);
    rc = check_life(m, "flock");
    if (rc == KV_OK && m->node->locker && m->node->locker != m)
        rc = kv_fail(KV_EBUSY, "flock %s: Resource temporarily unavailable", m->path);
    if (rc == KV_OK)
        m->node->locker = m;
    pthread_mutex_unlock(&m->fs->mu);
    return rc;
}

int kv_memfs_mmap(kv_file *f, uint64_t off, size_t len, bool writable, void **addr)
{
    (void)off, (void)len, (void)writable, (void)addr;
    return kv_fail(KV_ENOTSUP, "mmap %s: not supported by the in-memory env", mf(f)->path);
}

int kv_memfs_munmap(kv_file *f, void *addr, size_t len)
{
    (void)addr, (void)len;
    return kv_fail(KV_ENOTSUP, "munmap %s: not supported by the in-memory env", mf(f)->path);
}

const char *kv_memfs_path(const kv_file *f)
{
    return ((const struct kv_mem_file *)f)->path;
}

/* ---- crash, reboot, flip ---------------------------------------------- */

/* Cut a file's last unsynced write to a random prefix: the rest goes back to what it overwrote. */
static void tear(kv_memfs *fs, struct kv_mem_node *n, kv_rng *rng)
{
    const struct kv_mem_torn *t = &n->torn;
    size_t keep = (size_t)kv_rng_below(rng, (uint64_t)t->len + 1);
    size_t off = (size_t)t->off, len;

    assert(t->valid && off + t->len <= n->live.len && t->old_len <= n->live.len);
    assert(t->old_n <= t->len);
    if (keep < t->old_n)
        memcpy(n->live.p + off + keep, t->old + keep, t->old_n - keep);
    /* nothing kept: the write never happened, nor did the gap before it */
    len = keep && off + keep > t->old_len ? off + keep : t->old_len;
    set_len(fs, n, len);
}

/* Freeze a file's live content (all of it) as its durable content. */
static void freeze_live(struct kv_mem_node *n)
{
    assert(n->dur.cap >= n->live.len);
    if (n->live.len)
        memcpy(n->dur.p, n->live.p, n->live.len);
    n->dur.len = n->live.len;
    kv_mem_dirty_reset(n);
    kv_mem_torn_clear(n);
}

void kv_memfs_crash(kv_memfs *fs, bool torn, kv_rng *rng)
{
    pthread_mutex_lock(&fs->mu);
    for (struct kv_mem_node *n = fs->nodes; torn && n; n = n->next) {
        if (n->is_dir)
            continue;
        if (n->torn.valid)
            tear(fs, n, rng);
        freeze_live(n);
    }
    pthread_mutex_unlock(&fs->mu);
}

void kv_memfs_reboot(kv_memfs *fs)
{
    pthread_mutex_lock(&fs->mu);
    kv_mem_ns_reboot(fs);
    for (struct kv_mem_node *n = fs->nodes; n; n = n->next) {
        if (n->is_dir)
            continue;
        assert(n->live.cap >= n->dur.len);
        if (n->dur.len)
            memcpy(n->live.p, n->dur.p, n->dur.len);
        set_len(fs, n, n->dur.len);
        kv_mem_dirty_reset(n);
        kv_mem_torn_clear(n);
        n->locker = NULL;
    }
    fs->life++;
    pthread_mutex_unlock(&fs->mu);
}

/* Flip the bit in both copies of a file's content that hold byte @p off. */
static bool flip_node(struct kv_mem_node *n, uint64_t off, unsigned bit)
{
    bool any = false;

    if (!n || n->is_dir)
        return false;
    if (off < n->live.len) {
        n->live.p[off] ^= (uint8_t)(1u << bit);
        any = true;
    }
    if (off < n->dur.len) {
        n->dur.p[off] ^= (uint8_t)(1u << bit);
        any = true;
    }
    return any;
}

int kv_memfs_flip(kv_memfs *fs, const char *path, uint64_t off, unsigned bit)
{
    char norm[KV_MEM_PATH_MAX];
    struct kv_mem_node *live = NULL, *dur = NULL;
    bool flipped;
    int rc = kv_mem_norm_path(path, norm, "flip");

    if (rc != KV_OK)
        return rc;
    if (bit > 7)
        return kv_fail(KV_EINVAL, "flip %s: bit %u is not in 0..7", path, bit);
    pthread_mutex_lock(&fs->mu);
    if (kv_mem_resolve(fs, norm, false, &live, "flip", path) != KV_OK)
        live = NULL;
    if (kv_mem_resolve(fs, norm, true, &dur, "flip", path) != KV_OK)
        dur = NULL;
    flipped = flip_node(live, off, bit);
    if (dur != live)
        flipped |= flip_node(dur, off, bit);
    pthread_mutex_unlock(&fs->mu);
    if (!live && !dur)
        return kv_fail(KV_ENOTFOUND, "flip %s: No such file or directory", path);
    if (!flipped)
        return kv_fail(KV_EINVAL, "flip %s: offset %llu is past the end (or not a file)", path,
                       (unsigned long long)off);
    kv_clear_error();
    return KV_OK;
}

/* ---- the mem env ------------------------------------------------------ */

static void mem_destroy(void *ctx)
{
    kv_memfs_free(ctx);
}

static int mem_open(void *ctx, const char *path, int flags, unsigned mode, kv_file **out)
{
    return kv_memfs_open(ctx, path, flags, mode, out);
}

static int mem_mkdir(void *ctx, const char *path, unsigned mode)
{
    return kv_memfs_mkdir(ctx, path, mode);
}

static int mem_sync_dir(void *ctx, const char *path)
{
    return kv_memfs_sync_dir(ctx, path);
}

static int mem_rename(void *ctx, const char *from, const char *to)
{
    return kv_memfs_rename(ctx, from, to);
}

static int mem_unlink(void *ctx, const char *path)
{
    return kv_memfs_unlink(ctx, path);
}

static int mem_rmdir(void *ctx, const char *path)
{
    return kv_memfs_rmdir(ctx, path);
}

static int mem_stat(void *ctx, const char *path, uint64_t *size, bool *is_dir, unsigned *mode)
{
    return kv_memfs_stat(ctx, path, size, is_dir, mode);
}

static int mem_list(void *ctx, const char *dir, char ***names, size_t *n)
{
    return kv_memfs_list(ctx, dir, names, n);
}

static const struct kv_env_ops mem_ops = {
    .name = "mem",
    .destroy = mem_destroy,
    .open = mem_open,
    .close = kv_memfs_close,
    .pread = kv_memfs_pread,
    .pwrite = kv_memfs_pwrite,
    .sync = kv_memfs_sync,
    .truncate = kv_memfs_truncate,
    .size = kv_memfs_size,
    .lock = kv_memfs_lock,
    .mmap = kv_memfs_mmap,
    .munmap = kv_memfs_munmap,
    .mkdir = mem_mkdir,
    .sync_dir = mem_sync_dir,
    .rename = mem_rename,
    .unlink = mem_unlink,
    .rmdir = mem_rmdir,
    .stat = mem_stat,
    .list = mem_list,
};

kv_env *kv_env_mem_new(void)
{
    kv_memfs *fs = kv_memfs_new(false);
    kv_env *env;

    if (!fs)
        return NULL;
    env = kv_env_create(&mem_ops, fs);
    if (!env)
        kv_memfs_free(fs);
    return env;
}
