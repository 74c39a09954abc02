/*
 * env_mem_ns.c — the namespace of the in-memory file system: nodes,
 * directories with live and durable entries, paths, and the directory
 * operations (mkdir, sync_dir, rename, unlink, rmdir, stat, list).
 *
 * A directory is a sorted array of entries; an entry is a name with two
 * targets, `live` (what the name means now) and `dur` (what it meant at the
 * directory's last kv_env_sync_dir()). Creating, renaming and unlinking a
 * file change only `live`; sync_dir copies `live` to `dur` in each entry;
 * reboot copies `dur` back to `live`. An entry whose two targets are both
 * NULL is removed. Entries naming a directory always have live == dur:
 * directories are durable once created (mkdir, rmdir and directory renames
 * change both targets at once), so the directory tree is the same in the
 * live and the durable state and only files differ between them.
 *
 * Nodes are reference-counted, one reference per entry target and one per
 * open handle (taken in env_mem.c): an unlinked file stays alive while a
 * handle or a durable entry still names it. ent_set() takes its new
 * references before dropping the old ones, so moving a node from one entry
 * to another never frees it.
 *
 * Paths are normalised lexically into "a/b/c" form (the root is "") in a
 * KV_MEM_PATH_MAX stack buffer, then walked from the root, through live
 * entries, or through durable ones for flip's view of the durable image.
 *
 * Every public function takes fs->mu; the kv_mem_* helpers expect it held.
 *
 * Layers: this file is below env_mem.c (files and their content), which
 * calls it; it never calls env_mem.c. So the helpers that reset or free a
 * node's content (dirty range, torn write, buffers), which both files
 * need, live here.
 */
#include <assert.h>
#include <string.h>

#include "env_mem.h"
#include "kvlabs/alloc.h"
#include "kvlabs/error.h"

/* ---- node content (the lowest layer: env_mem.c calls these) ------------ */

void kv_mem_dirty_reset(struct kv_mem_node *n)
{
    n->dirty_lo = UINT64_MAX;
    n->dirty_hi = 0;
}

void kv_mem_torn_clear(struct kv_mem_node *n)
{
    kv_free(n->torn.old);
    memset(&n->torn, 0, sizeof(n->torn));
}

void kv_mem_content_free(kv_memfs *fs, struct kv_mem_node *n)
{
    assert(fs->bytes >= n->live.len);
    fs->bytes -= n->live.len;
    kv_free(n->live.p);
    kv_free(n->dur.p);
    kv_mem_torn_clear(n);
    memset(&n->live, 0, sizeof(n->live));
    memset(&n->dur, 0, sizeof(n->dur));
}

/* ---- nodes ------------------------------------------------------------ */

struct kv_mem_node *kv_mem_node_new(kv_memfs *fs, bool is_dir)
{
    struct kv_mem_node *n = kv_calloc(1, sizeof(*n));

    if (!n)
        return NULL;
    n->is_dir = is_dir;
    kv_mem_dirty_reset(n);
    n->next = fs->nodes;
    if (fs->nodes)
        fs->nodes->prev = n;
    fs->nodes = n;
    return n;
}

void kv_mem_node_destroy(kv_memfs *fs, struct kv_mem_node *n)
{
    assert(n->refs == 0 && !n->locker);
    if (n->prev)
        n->prev->next = n->next;
    else
        fs->nodes = n->next;
    if (n->next)
        n->next->prev = n->prev;
    for (size_t i = 0; i < n->nents; i++) {
        kv_mem_node_unref(fs, n->ents[i].live);
        kv_mem_node_unref(fs, n->ents[i].dur);
        kv_free(n->ents[i].name);
    }
    kv_free(n->ents);
    kv_mem_content_free(fs, n);
    kv_free(n);
}

void kv_mem_node_ref(struct kv_mem_node *n)
{
    if (n)
        n->refs++;
}

void kv_mem_node_unref(kv_memfs *fs, struct kv_mem_node *n)
{
    if (!n)
        return;
    assert(n->refs > 0);
    if (--n->refs == 0)
        kv_mem_node_destroy(fs, n);
}

/* ---- directory entries ------------------------------------------------ */

/* strcmp order between the string @p a and the bytes (b, blen). */
static int name_cmp(const char *a, const char *b, size_t blen)
{
    size_t alen = strlen(a);
    int c = memcmp(a, b, alen < blen ? alen : blen);

    return c ? c : (alen > blen) - (alen < blen);
}

/* Whether @p dir has an entry (name, len); *idx is its index or where it goes. */
static bool ent_find(const struct kv_mem_node *dir, const char *name, size_t len, size_t *idx)
{
    size_t lo = 0, hi = dir->nents;

    assert(dir->is_dir);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(dir->ents[mid].name, name, len);

        if (c == 0) {
            *idx = mid;
            return true;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *idx = lo;
    return false;
}

/* Insert an entry (name, len) with no targets at @p idx. */
static int ent_insert(struct kv_mem_node *dir, size_t idx, const char *name, size_t len)
{
    char *copy;

    assert(idx <= dir->nents);
    if (dir->nents == dir->cap_ents) {
        size_t cap = dir->cap_ents ? 2 * dir->cap_ents : 8;
        struct kv_mem_dirent *grown = kv_realloc(dir->ents, cap * sizeof(*grown));

        if (!grown)
            return KV_ENOMEM;
        dir->ents = grown;
        dir->cap_ents = cap;
    }
    copy = kv_memdup(name, len);
    if (!copy)
        return KV_ENOMEM;
    memmove(dir->ents + idx + 1, dir->ents + idx, (dir->nents - idx) * sizeof(*dir->ents));
    dir->ents[idx] = (struct kv_mem_dirent){.name = copy};
    dir->nents++;
    return KV_OK;
}

void kv_mem_ent_set(kv_memfs *fs, struct kv_mem_node *dir, size_t idx, struct kv_mem_node *live,
                    struct kv_mem_node *dur)
{
    struct kv_mem_dirent *e = &dir->ents[idx];
    struct kv_mem_node *old_live = e->live, *old_dur = e->dur;

    assert(idx < dir->nents);
    assert(!(live && live->is_dir) || live == dur);
    assert(!(dur && dur->is_dir) || live == dur);
    kv_mem_node_ref(live);
    kv_mem_node_ref(dur);
    e->live = live;
    e->dur = dur;
    if (!live && !dur) {
        kv_free(e->name);
        memmove(e, e + 1, (dir->nents - idx - 1) * sizeof(*e));
        dir->nents--;
    }
    kv_mem_node_unref(fs, old_live);
    kv_mem_node_unref(fs, old_dur);
}

static bool dir_is_empty(const struct kv_mem_node *dir)
{
    for (size_t i = 0; i < dir->nents; i++)
        if (dir->ents[i].live)
            return false;
    return true;
}

/* ---- paths ------------------------------------------------------------ */

int kv_mem_norm_path(const char *path, char *out, const char *call)
{
    size_t n = 0;

    for (const char *p = path; *p;) {
        const char *s;
        size_t len;

        while (*p == '/')
            p++;
        for (s = p; *p && *p != '/'; p++)
            ;
        len = (size_t)(p - s);
        if (len == 0 || (len == 1 && s[0] == '.'))
            continue;
        if (len == 2 && s[0] == '.' && s[1] == '.') {
            while (n > 0 && out[n - 1] != '/')
                n--;
            n -= n > 0;
            continue;
        }
        if (n + 1 + len + 1 > KV_MEM_PATH_MAX)
            return kv_fail(KV_EINVAL, "%s %s: File name too long", call, path);
        if (n)
            out[n++] = '/';
        memcpy(out + n, s, len);
        n += len;
    }
    out[n] = '\0';
    return KV_OK;
}

static struct kv_mem_node *target(const struct kv_mem_dirent *e, bool durable)
{
    return durable ? e->dur : e->live;
}

/*
 * Walk the directories of @p norm (through live or durable entries) up to
 * its last component: *parent holds it and *leaf is its name; for the root
 * itself *parent is NULL and *leaf "".
 */
static int walk(kv_memfs *fs, const char *norm, bool durable, struct kv_mem_node **parent,
                const char **leaf, const char *call, const char *path)
{
    struct kv_mem_node *cur = fs->root;
    const char *s = norm, *slash;

    *parent = NULL;
    *leaf = "";
    if (!*norm)
        return KV_OK;
    while ((slash = strchr(s, '/')) != NULL) {
        size_t idx;

        if (!ent_find(cur, s, (size_t)(slash - s), &idx) || !target(&cur->ents[idx], durable))
            return kv_fail(KV_ENOTFOUND, "%s %s: No such file or directory", call, path);
        cur = target(&cur->ents[idx], durable);
        if (!cur->is_dir)
            return kv_fail(KV_EIO, "%s %s: Not a directory", call, path);
        s = slash + 1;
    }
    *parent = cur;
    *leaf = s;
    return KV_OK;
}

int kv_mem_resolve(kv_memfs *fs, const char *norm, bool durable, struct kv_mem_node **node,
                   const char *call, const char *path)
{
    struct kv_mem_node *parent;
    const char *leaf;
    size_t idx;
    int rc = walk(fs, norm, durable, &parent, &leaf, call, path);

    if (rc != KV_OK)
        return rc;
    if (!parent) {
        *node = fs->root;
        return KV_OK;
    }
    if (!ent_find(parent, leaf, strlen(leaf), &idx) || !target(&parent->ents[idx], durable))
        return kv_fail(KV_ENOTFOUND, "%s %s: No such file or directory", call, path);
    *node = target(&parent->ents[idx], durable);
    return KV_OK;
}

int kv_mem_slot_of(kv_memfs *fs, const char *norm, struct kv_mem_slot *s, const char *call,
                   const char *path)
{
    int rc = walk(fs, norm, false, &s->dir, &s->leaf, call, path);

    if (rc != KV_OK)
        return rc;
    if (!s->dir)
        return kv_fail(KV_EBUSY, "%s %s: Device or resource busy (the root)", call, path);
    s->found = ent_find(s->dir, s->leaf, strlen(s->leaf), &s->idx);
    s->node = s->found ? s->dir->ents[s->idx].live : NULL;
    return KV_OK;
}

int kv_mem_slot_insert(struct kv_mem_slot *s, const char *call, const char *path)
{
    if (s->found)
        return KV_OK;
    if (ent_insert(s->dir, s->idx, s->leaf, strlen(s->leaf)) != KV_OK)
        return kv_fail(KV_ENOMEM, "%s %s: out of memory", call, path);
    s->found = true;
    return KV_OK;
}

/* ---- directory operations -------------------------------------------- */

static int do_mkdir(kv_memfs *fs, const char *norm, unsigned mode, const char *path)
{
    struct kv_mem_slot s;
    struct kv_mem_node *d;
    int rc;

    if (!*norm)
        return KV_OK; /* the root exists */
    rc = kv_mem_slot_of(fs, norm, &s, "mkdir", path);
    if (rc != KV_OK)
        return rc;
    if (s.node)
        return s.node->is_dir ? KV_OK : kv_fail(KV_EIO, "mkdir %s: File exists", path);
    d = kv_mem_node_new(fs, true);
    if (!d)
        return kv_fail(KV_ENOMEM, "mkdir %s: out of memory", path);
    d->mode = mode;
    rc = kv_mem_slot_insert(&s, "mkdir", path);
    if (rc != KV_OK) {
        kv_mem_node_destroy(fs, d);
        return rc;
    }
    kv_mem_ent_set(fs, s.dir, s.idx, d, d); /* durable at once, replacing any durable file */
    return KV_OK;
}

/* Make every entry's durable target its live one. Never allocates. */
static void dir_sync(kv_memfs *fs, struct kv_mem_node *dir)
{
    size_t w = 0;

    for (size_t i = 0; i < dir->nents; i++) {
        struct kv_mem_dirent e = dir->ents[i];

        if (e.live != e.dur) {
            assert(!(e.dur && e.dur->is_dir) && !(e.live && e.live->is_dir));
            kv_mem_node_ref(e.live);
            kv_mem_node_unref(fs, e.dur); /* a file: frees no entry of dir */
            e.dur = e.live;
        }
        if (!e.live) {
            kv_free(e.name);
            continue;
        }
        dir->ents[w++] = e;
    }
    dir->nents = w;
}

static int do_sync_dir(kv_memfs *fs, const char *norm, const char *path)
{
    struct kv_mem_node *d;
    int rc = kv_mem_resolve(fs, norm, false, &d, "fsync directory", path);

    if (rc != KV_OK)
        return rc;
    if (!d->is_dir)
        return kv_fail(KV_EIO, "fsync directory %s: Not a directory", path);
    dir_sync(fs, d);
    return KV_OK;
}

/* Whether directory @p src may replace the slot @p dst. */
static int check_dir_move(const char *nf, const char *nt, const struct kv_mem_slot *dst,
                          const char *from, const char *to)
{
    size_t len = strlen(nf);

    if (!strncmp(nf, nt, len) && nt[len] == '/')
        return kv_fail(KV_EINVAL, "rename %s -> %s: Invalid argument (into itself)", from, to);
    if (dst->node && !dst->node->is_dir)
        return kv_fail(KV_EIO, "rename %s -> %s: Not a directory", from, to);
    if (dst->node && !dir_is_empty(dst->node))
        return kv_fail(KV_EBUSY, "rename %s -> %s: Directory not empty", from, to);
    return KV_OK;
}

static int do_rename(kv_memfs *fs, const char *nf, const char *nt, const char *from, const char *to)
{
    struct kv_mem_slot src, dst;
    struct kv_mem_node *n;
    size_t idx;
    bool found;
    int rc = kv_mem_slot_of(fs, nf, &src, "rename", from);

    if (rc == KV_OK && !src.node)
        rc = kv_fail(KV_ENOTFOUND, "rename %s -> %s: No such file or directory", from, to);
    if (rc == KV_OK)
        rc = kv_mem_slot_of(fs, nt, &dst, "rename", to);
    if (rc != KV_OK || !strcmp(nf, nt))
        return rc;
    n = src.node;
    if (n->is_dir)
        rc = check_dir_move(nf, nt, &dst, from, to);
    else if (dst.node && dst.node->is_dir)
        rc = kv_fail(KV_EIO, "rename %s -> %s: Is a directory", from, to);
    if (rc == KV_OK)
        rc = kv_mem_slot_insert(&dst, "rename", to);
    if (rc != KV_OK)
        return rc;
    kv_mem_ent_set(fs, dst.dir, dst.idx, n, n->is_dir ? n : dst.dir->ents[dst.idx].dur);
    /* the insert may have moved the source entry: find it again */
    found = ent_find(src.dir, src.leaf, strlen(src.leaf), &idx);
    assert(found && src.dir->ents[idx].live == n);
    (void)found;
    kv_mem_ent_set(fs, src.dir, idx, NULL, n->is_dir ? NULL : src.dir->ents[idx].dur);
    return KV_OK;
}

static int do_unlink(kv_memfs *fs, const char *norm, const char *path)
{
    struct kv_mem_slot s;
    int rc;

    if (!*norm)
        return kv_fail(KV_EIO, "unlink %s: Is a directory", path);
    rc = kv_mem_slot_of(fs, norm, &s, "unlink", path);
    if (rc != KV_OK)
        return rc;
    if (!s.node)
        return kv_fail(KV_ENOTFOUND, "unlink %s: No such file or directory", path);
    if (s.node->is_dir)
        return kv_fail(KV_EIO, "unlink %s: Is a directory", path);
    kv_mem_ent_set(fs, s.dir, s.idx, NULL, s.dir->ents[s.idx].dur);
    return KV_OK;
}

static int do_rmdir(kv_memfs *fs, const char *norm, const char *path)
{
    struct kv_mem_slot s;
    int rc = kv_mem_slot_of(fs, norm, &s, "rmdir", path);

    if (rc != KV_OK)
        return rc;
    if (!s.node)
        return kv_fail(KV_ENOTFOUND, "rmdir %s: No such file or directory", path);
    if (!s.node->is_dir)
        return kv_fail(KV_EIO, "rmdir %s: Not a directory", path);
    if (!dir_is_empty(s.node))
        return kv_fail(KV_EBUSY, "rmdir %s: Directory not empty", path);
    kv_mem_ent_set(fs, s.dir, s.idx, NULL, NULL); /* durable at once */
    return KV_OK;
}

static int do_stat(kv_memfs *fs, const char *norm, const char *path, uint64_t *size, bool *is_dir,
                   unsigned *mode)
{
    struct kv_mem_node *n;
    int rc = kv_mem_resolve(fs, norm, false, &n, "stat", path);

    if (rc != KV_OK)
        return rc;
    *is_dir = n->is_dir;
    *size = n->is_dir ? 0 : n->live.len;
    *mode = n->mode;
    return KV_OK;
}

static int do_list(kv_memfs *fs, const char *norm, const char *path, char ***names, size_t *n)
{
    struct kv_mem_node *d;
    size_t count = 0, k = 0;
    char **v;
    int rc = kv_mem_resolve(fs, norm, false, &d, "opendir", path);

    if (rc != KV_OK)
        return rc;
    if (!d->is_dir)
        return kv_fail(KV_EIO, "opendir %s: Not a directory", path);
    for (size_t i = 0; i < d->nents; i++)
        count += d->ents[i].live != NULL;
    if (count == 0)
        return KV_OK;
    v = kv_calloc(count, sizeof(*v));
    if (!v)
        return kv_fail(KV_ENOMEM, "list %s: out of memory", path);
    for (size_t i = 0; i < d->nents; i++) {
        if (!d->ents[i].live)
            continue;
        v[k] = kv_strdup(d->ents[i].name);
        if (!v[k]) {
            kv_env_list_free(v, k);
            return kv_fail(KV_ENOMEM, "list %s: out of memory", path);
        }
        k++;
    }
    assert(k == count);
    *names = v; /* already sorted: entries are kept in strcmp order */
    *n = count;
    return KV_OK;
}

/* ---- the public functions: normalise, lock, do -------------------------- */

int kv_memfs_mkdir(kv_memfs *fs, const char *path, unsigned mode)
{
    char norm[KV_MEM_PATH_MAX];
    int rc = kv_mem_norm_path(path, norm, "mkdir");

    if (rc != KV_OK)
        return rc;
    pthread_mutex_lock(&fs->mu);
    rc = do_mkdir(fs, norm, mode, path);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

int kv_memfs_sync_dir(kv_memfs *fs, const char *path)
{
    char norm[KV_MEM_PATH_MAX];
    int rc = kv_mem_norm_path(path, norm, "fsync directory");

    if (rc != KV_OK)
        return rc;
    pthread_mutex_lock(&fs->mu);
    rc = do_sync_dir(fs, norm, path);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

int kv_memfs_rename(kv_memfs *fs, const char *from, const char *to)
{
    char nf[KV_MEM_PATH_MAX], nt[KV_MEM_PATH_MAX];
    int rc = kv_mem_norm_path(from, nf, "rename");

    if (rc == KV_OK)
        rc = kv_mem_norm_path(to, nt, "rename");
    if (rc != KV_OK)
        return rc;
    pthread_mutex_lock(&fs->mu);
    rc = do_rename(fs, nf, nt, from, to);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

int kv_memfs_unlink(kv_memfs *fs, const char *path)
{
    char norm[KV_MEM_PATH_MAX];
    int rc = kv_mem_norm_path(path, norm, "unlink");

    if (rc != KV_OK)
        return rc;
    pthread_mutex_lock(&fs->mu);
    rc = do_unlink(fs, norm, path);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

int kv_memfs_rmdir(kv_memfs *fs, const char *path)
{
    char norm[KV_MEM_PATH_MAX];
    int rc = kv_mem_norm_path(path, norm, "rmdir");

    if (rc != KV_OK)
        return rc;
    pthread_mutex_lock(&fs->mu);
    rc = do_rmdir(fs, norm, path);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

int kv_memfs_stat(kv_memfs *fs, const char *path, uint64_t *size, bool *is_dir,
                  unsigned *mode)
{
    char norm[KV_MEM_PATH_MAX];
    int rc = kv_mem_norm_path(path, norm, "stat");

    if (rc != KV_OK)
        return rc;
    pthread_mutex_lock(&fs->mu);
    rc = do_stat(fs, norm, path, size, is_dir, mode);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

int kv_memfs_list(kv_memfs *fs, const char *dir, char ***names, size_t *n)
{
    char norm[KV_MEM_PATH_MAX];
    int rc = kv_mem_norm_path(dir, norm, "opendir");

    if (rc != KV_OK)
        return rc;
    pthread_mutex_lock(&fs->mu);
    rc = do_list(fs, norm, dir, names, n);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

/* ---- reboot, creation ------------------------------------------------- */

/* live := dur in every entry; references dropped without freeing (see below). */
static void dir_reboot(struct kv_mem_node *dir)
{
    size_t w = 0;

    for (size_t i = 0; i < dir->nents; i++) {
        struct kv_mem_dirent e = dir->ents[i];

        if (e.live != e.dur) {
            assert(!(e.dur && e.dur->is_dir) && !(e.live && e.live->is_dir));
            kv_mem_node_ref(e.dur);
            if (e.live)
                e.live->refs--;
            e.live = e.dur;
        }
        if (!e.dur) {
            kv_free(e.name);
            continue;
        }
        dir->ents[w++] = e;
    }
    dir->nents = w;
}

/*
 * Reboot the namespace. Dropping a live target must not free its node
 * while fs->nodes is being walked, so the first pass only decrements and
 * a second pass frees what reached 0: files only (directories have
 * live == dur and are untouched), which own no entries, so freeing one
 * never frees another.
 */
void kv_mem_ns_reboot(kv_memfs *fs)
{
    struct kv_mem_node *n, *next;

    for (n = fs->nodes; n; n = n->next)
        if (n->is_dir)
            dir_reboot(n);
    for (n = fs->nodes; n; n = next) {
        next = n->next;
        if (n->refs == 0) {
            assert(!n->is_dir);
            kv_mem_node_destroy(fs, n);
        }
    }
}

kv_memfs *kv_memfs_new(bool track_torn)
{
    kv_memfs *fs = kv_calloc(1, sizeof(*fs));

    if (!fs)
        return NULL;
    if (pthread_mutex_init(&fs->mu, NULL) != 0)
        goto out_free_fs;
    fs->root = kv_mem_node_new(fs, true);
    if (!fs->root)
        goto out_destroy_mutex;
    fs->root->refs = 1; /* held by fs */
    fs->root->mode = 0755;
    fs->track_torn = track_torn;
    return fs;

out_destroy_mutex:
    pthread_mutex_destroy(&fs->mu);
out_free_fs:
    kv_free(fs);
    return NULL;
}

void kv_memfs_free(kv_memfs *fs)
{
    if (!fs)
        return;
    assert(fs->handles == 0 && "kv_env_free: every file must be closed");
    kv_mem_node_unref(fs, fs->root);
    assert(fs->nodes == NULL && fs->bytes == 0);
    pthread_mutex_destroy(&fs->mu);
    kv_free(fs);
}

void kv_memfs_set_quota(kv_memfs *fs, uint64_t bytes)
{
    pthread_mutex_lock(&fs->mu);
    fs->quota = bytes;
    pthread_mutex_unlock(&fs->mu);
}
