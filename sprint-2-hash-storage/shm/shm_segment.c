/*
 * shm_segment.c — the segment file of the shared-memory store: creating and
 * validating it, mapping its extents, addresses, growth, and the robust locks.
 *
 * What this layer is. Everything above it (allocator, index, engine) works
 * with shm addresses and asks kvshm_ptr() for pointers; this file is the
 * only one that knows a segment is a file of extents mapped into each
 * process at its own addresses. Its interface is in include/shm.h:
 * kvshm_seg_open()/kvshm_seg_close(), kvshm_ptr() and kvshm_seg_refresh(),
 * kvshm_lock()/kvshm_unlock(), the size-class arithmetic of its blocks
 * (kvshm_class_size/kvshm_class_of) and the test hook kvshm_debug_point().
 *
 * Layers (lowest first): shm_segment.c, shm_oplog.c, shm_alloc.c,
 * shm_index.c, shm_recover.c, shm_engine.c, shm_snapshot.c. Each calls
 * only the files before it; this one calls none of them (the engine fills
 * a new store through kvshm_params.on_create, and growth, which carves
 * free blocks, is the allocator's kvshm_seg_grow()).
 *
 * How it works.
 *
 *   file:  | extent 0                                  | extent 1    | extent 2 ...
 *          | header | shards | log ring | blocks ...  | blocks ...  | blocks ...
 *   addr:  (0 << 48) | offset             (1 << 48) | offset  ...
 *
 * Extent 0 holds the header (kvshm_hdr), the shard table and the log ring,
 * then blocks. Growth appends an extent at the end of the file (twice the
 * last one, up to KVSHM_EXT_CAP) and publishes it by bumping
 * hdr->n_extents after filling its table entry; no existing byte moves, so
 * every address stays valid forever. Each process maps extent i when it
 * first meets an address in it (kvshm_ptr_slow -> kvshm_seg_refresh), so a
 * reader in another process never has to stop for a writer's growth.
 *
 * Permissions. The directory and the segment file are created with the
 * `mode=` option's modes (kvshm_params: 0700 and 0600 by default), so the
 * store is private to its user unless asked (`mode=0660` shares it with
 * the group). An existing segment keeps its mode; `kvshm` warns when it
 * finds one that other users can read or write.
 *
 * Creation. The creator fills the header, initialises the mutexes, lets
 * the caller's on_create hook allocate each shard's first bucket chunk,
 * and only then writes the magic.
 * Creation runs under an flock on a second handle of the file; an opener
 * that finds no magic takes that lock and looks again, so two processes
 * opening a new store at once agree on one creator, and a creator that died
 * half way (no magic) is simply redone: nobody could have used the store.
 *
 * Validation. The header is read with pread and checked field by field
 * before anything is mapped; each extent is checked against the file size
 * before it is mapped (mapping past the end of a file would fault). The
 * checked creation-time fields are copied into the kvshm_seg, so a peer
 * scribbling on the header later cannot make this process index out of
 * bounds: kvshm_ptr() checks against this process's own mapping lengths.
 *
 * Callers must not: use a kvshm_seg after kvshm_seg_close().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "shm.h"

_Static_assert(sizeof(pthread_mutex_t) <= KVSHM_LOCK_SLOT, "a mutex must fit its slot");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && ATOMIC_INT_LOCK_FREE == 2,
               "shared-memory atomics must be lock-free (address-free)");
_Static_assert(sizeof(kvshm_block) == 16 && sizeof(kvshm_entry) == KVSHM_ENTRY_HDR, "block layout");
_Static_assert(sizeof(kvshm_logrec) == 64, "log record layout");
_Static_assert(sizeof(kvshm_shard) == 384, "shard layout");
_Static_assert(offsetof(kvshm_hdr, n_extents) == 96 && offsetof(kvshm_hdr, alloc_lock) == 128 &&
                   offsetof(kvshm_hdr, bump_ext) == 192 && offsetof(kvshm_hdr, free_head) == 224 &&
                   offsetof(kvshm_hdr, free_count) == 1248 && offsetof(kvshm_hdr, ext) == 2272 &&
                   sizeof(kvshm_hdr) == 6400,
               "header layout (docs/formats/shm.md)");

#define ALIGN_UP(x, a) (((x) + (a)-1) / (a) * (a))
#define CREATE_WAIT_MS 10000

/* ---- size classes (the block format every layer above uses) ------------------ */

uint64_t kvshm_class_size(uint32_t cls)
{
    uint32_t g, q;

    if (cls < 16)
        return 16ull * (cls + 1);
    g = (cls - 16) / 4;
    q = (cls - 16) % 4;
    return (64ull << g) * (5 + q);
}

uint32_t kvshm_class_of(uint64_t size)
{
    uint64_t unit, q;
    uint32_t g;

    if (size <= 256)
        return size ? (uint32_t)((size + 15) / 16 - 1) : 0;
    if (size > kvshm_class_size(KVSHM_NCLASSES - 1))
        return KVSHM_NCLASSES;
    /* 256 << g < size <= 512 << g: g is the position of the top bit of (size-1)/256. */
    g = (uint32_t)(63 - __builtin_clzll((size - 1) / 256));
    unit = 64ull << g;
    q = (size + unit - 1) / unit; /* 5..8 */
    return 16 + 4 * g + (uint32_t)(q - 5);
}

/* ---- the test hook ------------------------------------------------------------ */

static _Atomic int hang_point;
static _Atomic int hang_fd = -1;

void kvshm_debug_hang_at(int point, int notify_fd)
{
    atomic_store(&hang_fd, notify_fd);
    atomic_store(&hang_point, point);
}

void kvshm_debug_point(int point)
{
    int fd;

    if (atomic_load_explicit(&hang_point, memory_order_relaxed) != point || point == 0)
        return;
    fd = atomic_load(&hang_fd);
    if (fd >= 0) {
        ssize_t w = write(fd, "!", 1);
        (void)w;
    } else {
        fprintf(stderr, "kvshm: test hook: pid %d stops at point %d\n", (int)getpid(), point);
    }
    for (;;)
        pause();
}

/* ---- locks ---------------------------------------------------------------- */

int kvshm_lock_init(unsigned char *slot)
{
    pthread_mutexattr_t at;
    int rc;

    memset(slot, 0, KVSHM_LOCK_SLOT);
    if (pthread_mutexattr_init(&at) != 0)
        return kv_fail(KV_EIO, "shm: pthread_mutexattr_init failed");
    rc = pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
    if (rc == 0)
        rc = pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
    if (rc == 0)
        rc = pthread_mutex_init((pthread_mutex_t *)(void *)slot, &at);
    pthread_mutexattr_destroy(&at);
    if (rc != 0)
        return kv_fail_errno(KV_EIO, rc, "shm: cannot create a process-shared robust mutex");
    return KV_OK;
}

int kvshm_lock(kvshm_seg *s, unsigned char *slot)
{
    pthread_mutex_t *m = (pthread_mutex_t *)(void *)slot;
    int rc = pthread_mutex_lock(m);

    if (rc == 0)
        return KV_OK;
    if (rc == EOWNERDEAD) {
        /* The owner died inside its critical section: what the lock guards
         * may be half-changed. Say so before anyone trusts it, then make the
         * mutex usable again; the caller sees the flag and repairs. */
        atomic_fetch_or(&s->hdr->flags, KVSHM_F_REPAIR);
        if (pthread_mutex_consistent(m) != 0) {
            pthread_mutex_unlock(m);
            return kv_fail(KV_EIO, "shm: cannot make a dead owner's mutex consistent");
        }
        return KV_OK;
    }
    return kv_fail_errno(KV_EIO, rc, "shm: locking a segment mutex");
}

void kvshm_unlock(unsigned char *slot)
{
    pthread_mutex_unlock((pthread_mutex_t *)(void *)slot);
}

int kvshm_corrupt(kvshm_seg *s, const char *what)
{
    if (s->hdr) {
        atomic_fetch_add(&s->hdr->corrupt, 1);
        atomic_fetch_or(&s->hdr->flags, KVSHM_F_REPAIR);
    }
    return kv_fail(KV_ECORRUPT, "shm: %s: %s", s->path ? s->path : "segment", what);
}

/* ---- mapping ---------------------------------------------------------------- */

/* Map extent i (i == s->mapped), checking its table entry. Caller holds map_lock. */
static int map_extent(kvshm_seg *s, uint32_t i, uint64_t *end)
{
    uint64_t off = s->hdr->ext[i].off, len = s->hdr->ext[i].len, fsize;
    void *p;
    int rc;

    if (off != *end || len == 0 || len % KVSHM_EXT_ALIGN || len > 64 * KVSHM_EXT_CAP ||
        off + len > s->max_size + KVSHM_EXT_ALIGN)
        return kvshm_corrupt(s, "bad extent table entry");
    rc = kv_file_size(s->file, &fsize);
    if (rc != KV_OK)
        return rc;
    if (off + len > fsize)
        return kvshm_corrupt(s, "extent past the end of the file");
    rc = kv_file_mmap(s->file, off, (size_t)len, true, &p);
    if (rc != KV_OK)
        return rc;
    s->base[i] = p;
    s->len[i] = len;
    *end = off + len;
    atomic_store_explicit(&s->mapped, i + 1, memory_order_release);
    return KV_OK;
}

/* The file offset just past extent mapped-1 (this process's own record). */
uint64_t kvshm_seg_mapped_end(const kvshm_seg *s)
{
    uint32_t n = atomic_load_explicit(&s->mapped, memory_order_acquire);
    uint64_t end = 0;

    for (uint32_t i = 0; i < n; i++)
        end += s->len[i];
    return end;
}

int kvshm_seg_refresh(kvshm_seg *s)
{
    uint32_t n = atomic_load_explicit(&s->hdr->n_extents, memory_order_acquire);
    uint64_t end;
    int rc = KV_OK;

    if (n > KVSHM_MAX_EXTENTS || n == 0)
        return kvshm_corrupt(s, "bad extent count");
    if (n <= atomic_load_explicit(&s->mapped, memory_order_acquire))
        return KV_OK;
    pthread_mutex_lock(&s->map_lock);
    end = kvshm_seg_mapped_end(s);
    for (uint32_t i = atomic_load(&s->mapped); i < n && rc == KV_OK; i++)
        rc = map_extent(s, i, &end);
    pthread_mutex_unlock(&s->map_lock);
    return rc;
}

void *kvshm_ptr_slow(kvshm_seg *s, kvshm_addr a, uint64_t len)
{
    uint64_t ext = a >> KVSHM_ADDR_SHIFT, off = a & ((1ull << KVSHM_ADDR_SHIFT) - 1);

    if (ext >= KVSHM_MAX_EXTENTS || a == 0 || (off & 15))
        return NULL;
    if (ext >= atomic_load_explicit(&s->mapped, memory_order_acquire) &&
        kvshm_seg_refresh(s) != KV_OK)
        return NULL;
    if (ext >= atomic_load_explicit(&s->mapped, memory_order_acquire))
        return NULL;
    if (len > s->len[ext] || off > s->len[ext] - len)
        return NULL;
    return s->base[ext] + off;
}

int kvshm_seg_extent_range(kvshm_seg *s, uint32_t e, uint64_t *start, uint64_t *end)
{
    kvshm_hdr *h = s->hdr;
    uint64_t st = e == 0 ? s->data_off : 0;
    uint64_t en = e == h->bump_ext ? h->bump_off : h->ext[e].used;

    *start = *end = st;
    if (e >= atomic_load(&s->mapped) || en % 16 || en > s->len[e])
        return kvshm_corrupt(s, "bad extent end");
    if (en < st) /* an extent published but never used (a grower died) */
        en = st;
    *end = en;
    return KV_OK;
}

/* ---- creation and opening ------------------------------------------------------ */

static char *join(const char *dir, const char *leaf)
{
    size_t n = strlen(dir) + strlen(leaf) + 2;
    char *p = kv_malloc(n);

    if (p)
        snprintf(p, n, "%s/%s", dir, leaf);
    return p;
}

/* The layout a store with these parameters gets (offsets in extent 0). */
static void layout(uint32_t shards, uint64_t log_entries, uint64_t *shards_off, uint64_t *log_off,
                   uint64_t *data_off)
{
    *shards_off = ALIGN_UP(sizeof(kvshm_hdr), 64);
    *log_off = *shards_off + (uint64_t)shards * sizeof(kvshm_shard);
    *data_off = ALIGN_UP(*log_off + log_entries * sizeof(kvshm_logrec), 64);
}

/* Take the creation-time fields of a checked header as this process's own. */
static void adopt(kvshm_seg *s, const kvshm_hdr *h)
{
    s->n_shards = h->n_shards;
    s->n0 = h->init_buckets;
    s->max_key = h->max_key;
    s->max_value = h->max_value;
    s->max_size = h->max_size;
    s->log_entries = h->log_entries;
    s->data_off = h->data_off;
}

/* Check a header read from the file (not yet mapped). */
static int validate(kvshm_seg *s, const kvshm_hdr *h, uint64_t fsize)
{
    uint64_t so, lo, dof;
    uint32_t n = atomic_load(&h->n_extents);

    if (memcmp(h->magic, KVSHM_MAGIC, 8) != 0)
        return kvshm_corrupt(s, "bad magic");
    if (h->version != KVSHM_VERSION)
        return kv_fail(KV_ECORRUPT, "shm: %s: layout version %u, this build reads %u", s->path,
                       h->version, KVSHM_VERSION);
    if (h->hdr_size != sizeof(kvshm_hdr) || h->mutex_size != sizeof(pthread_mutex_t))
        return kv_fail(KV_ECORRUPT, "shm: %s: made by a build with another ABI", s->path);
    if (h->n_shards == 0 || h->n_shards > KVSHM_MAX_SHARDS || h->max_key == 0 ||
        h->max_key > KVSHM_LIMIT_KEY || h->max_value > KVSHM_LIMIT_VALUE ||
        h->log_entries > (1u << 24) || h->init_buckets == 0 || h->init_buckets > (1u << 20) ||
        (h->init_buckets & (h->init_buckets - 1)))
        return kvshm_corrupt(s, "bad parameters in the header");
    layout(h->n_shards, h->log_entries, &so, &lo, &dof);
    if (h->shards_off != so || h->log_off != lo || h->data_off != dof)
        return kvshm_corrupt(s, "bad layout offsets in the header");
    if (n == 0 || n > KVSHM_MAX_EXTENTS || h->ext[0].off != 0 || h->ext[0].len % KVSHM_EXT_ALIGN ||
        h->ext[0].len < dof || h->ext[0].len > fsize || h->max_size < h->ext[0].len)
        return kvshm_corrupt(s, "bad first extent");
    adopt(s, h);
    return KV_OK;
}

/* Initialise a fresh segment (caller holds the creation lock). */
static int create(kvshm_seg *s, const kvshm_params *p)
{
    uint64_t so, lo, dof, len0, magic, chunk = KVSHM_CHUNK_HDR + (uint64_t)p->init_buckets * 8;
    kvshm_hdr *h;
    void *m;
    int rc;

    layout(p->n_shards, p->log_entries, &so, &lo, &dof);
    len0 = dof + (uint64_t)p->n_shards * kvshm_class_size(kvshm_class_of(chunk)) + KVSHM_EXT_ALIGN;
    if (len0 < p->initial_size)
        len0 = p->initial_size;
    len0 = ALIGN_UP(len0, KVSHM_EXT_ALIGN);
    if (len0 > p->max_size)
        return kv_fail(KV_EFULL, "shm: max_size=%llu is below the %llu bytes the store needs",
                       (unsigned long long)p->max_size, (unsigned long long)len0);
    rc = kv_file_truncate(s->file, 0);
    if (rc == KV_OK)
        rc = kv_file_truncate(s->file, len0);
    if (rc == KV_OK)
        rc = kv_file_mmap(s->file, 0, (size_t)len0, true, &m);
    if (rc != KV_OK)
        return rc;
    h = m;
    s->hdr = h;
    s->base[0] = m;
    s->len[0] = len0;
    atomic_store(&s->mapped, 1);
    h->version = KVSHM_VERSION;
    h->hdr_size = sizeof(kvshm_hdr);
    h->mutex_size = sizeof(pthread_mutex_t);
    h->n_shards = p->n_shards;
    h->max_key = p->max_key;
    h->max_value = p->max_value;
    h->max_size = p->max_size;
    h->shards_off = so;
    h->log_off = lo;
    h->log_entries = p->log_entries;
    h->data_off = dof;
    h->init_buckets = p->init_buckets;
    h->create_pid = (uint32_t)getpid();
    h->create_time = (uint64_t)time(NULL);
    atomic_store(&h->n_extents, 1);
    h->ext[0] = (kvshm_extent){.off = 0, .len = len0};
    h->bump_ext = 0;
    h->bump_off = dof;
    adopt(s, h);
    s->shards = (kvshm_shard *)(void *)((unsigned char *)m + so);
    s->log = p->log_entries ? (kvshm_logrec *)(void *)((unsigned char *)m + lo) : NULL;
    rc = kvshm_lock_init(h->alloc_lock);
    for (uint32_t i = 0; i < p->n_shards && rc == KV_OK; i++)
        rc = kvshm_lock_init(s->shards[i].lock);
    /* The layers above fill the store (each shard's first bucket chunk)
     * through the caller's hook: this layer never calls up into them. */
    if (rc == KV_OK && p->on_create)
        rc = p->on_create(s);
    if (rc != KV_OK)
        return rc;
    memcpy(&magic, KVSHM_MAGIC, 8); /* published, after everything else: others may use it */
    atomic_store_explicit((_Atomic uint64_t *)(void *)h->magic, magic, memory_order_release);
    return KV_OK;
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Read the header; *have tells whether a complete (magic-bearing) one is there. */
static int read_header(kvshm_seg *s, kvshm_hdr *h, uint64_t *fsize, bool *have)
{
    size_t got = 0;
    int rc = kv_file_size(s->file, fsize);

    *have = false;
    if (rc != KV_OK)
        return rc;
    if (*fsize < sizeof(*h))
        return KV_OK;
    rc = kv_file_pread(s->file, h, sizeof(*h), 0, &got);
    if (rc != KV_OK)
        return rc;
    *have = got == sizeof(*h) && memcmp(h->magic, "\0\0\0\0\0\0\0\0", 8) != 0;
    return KV_OK;
}

/* Create the segment under the creation lock, or find that someone else did. */
static int create_locked(kvshm_seg *s, const kvshm_params *p, kvshm_hdr *h, uint64_t *fsize,
                         bool *created)
{
    uint64_t t0 = now_ms();
    kv_file *lk = NULL;
    bool have;
    int rc;

    for (;;) {
        rc = kv_env_open(s->env, s->path, KV_O_RDWR, &lk);
        if (rc == KV_OK)
            rc = kv_file_lock(lk);
        if (rc != KV_EBUSY)
            break;
        kv_file_close(lk);
        lk = NULL;
        if (now_ms() - t0 > CREATE_WAIT_MS)
            return kv_fail(KV_EBUSY, "shm: %s: another process is creating the store", s->path);
        sleep_ms(1);
    }
    if (rc == KV_OK)
        rc = read_header(s, h, fsize, &have);
    if (rc == KV_OK && !have) {
        rc = create(s, p);
        if (rc == KV_OK && created)
            *created = true;
        if (rc == KV_OK)
            rc = read_header(s, h, fsize, &have);
        if (s->base[0]) { /* validated and mapped again by the caller, like any opener */
            kv_file_munmap(s->file, s->base[0], (size_t)s->len[0]);
            s->base[0] = NULL;
            s->hdr = NULL;
            atomic_store(&s->mapped, 0);
        }
    }
    kv_file_close(lk);
    return rc;
}

/* One attempt at opening: create if needed, validate, map extent 0. */
static int open_once(kvshm_seg *s, const kvshm_params *p, bool *created)
{
    kvshm_hdr h;
    uint64_t fsize;
    bool have;
    void *m;
    int rc;

    if (!p->create && kv_env_stat(s->env, s->path, NULL, NULL) == KV_ENOTFOUND)
        return kv_fail(KV_ENOTFOUND, "shm: no store in %s", s->dir);
    rc = kv_env_open_mode(s->env, s->path, p->create ? KV_O_RDWR | KV_O_CREAT : KV_O_RDWR,
                          s->file_mode, &s->file);
    if (rc != KV_OK)
        return rc;
    rc = read_header(s, &h, &fsize, &have);
    if (rc == KV_OK && !have)
        rc = p->create ? create_locked(s, p, &h, &fsize, created)
                       : kv_fail(KV_ENOTFOUND, "shm: %s is not initialised", s->path);
    if (rc == KV_OK)
        rc = validate(s, &h, fsize);
    if (rc == KV_OK)
        rc = kv_file_mmap(s->file, 0, (size_t)h.ext[0].len, true, &m);
    if (rc != KV_OK)
        return rc;
    s->hdr = m;
    s->base[0] = m;
    s->len[0] = h.ext[0].len;
    atomic_store(&s->mapped, 1);
    s->shards = (kvshm_shard *)(void *)((unsigned char *)m + h.shards_off);
    s->log = s->log_entries ? (kvshm_logrec *)(void *)((unsigned char *)m + h.log_off) : NULL;
    return kvshm_seg_refresh(s);
}

static void unmap_all(kvshm_seg *s)
{
    uint32_t n = atomic_load(&s->mapped);

    for (uint32_t i = 0; i < n; i++)
        if (s->base[i])
            kv_file_munmap(s->file, s->base[i], (size_t)s->len[i]);
    memset(s->base, 0, sizeof(s->base));
    atomic_store(&s->mapped, 0);
    s->hdr = NULL;
}

int kvshm_seg_open(kvshm_seg *s, const kv_env *env, const char *dir, const kvshm_params *p,
                   bool *created)
{
    int rc;

    if (created)
        *created = false;
    if (!dir || !*dir)
        return kv_fail(KV_EINVAL, "shm: the path must be a directory");
    s->env = env;
    s->pid = (uint32_t)getpid();
    s->file_mode = p->file_mode ? p->file_mode : KV_MODE_FILE;
    s->dir_mode = p->dir_mode ? p->dir_mode : KV_MODE_DIR;
    if (pthread_mutex_init(&s->map_lock, NULL) != 0)
        return kv_fail(KV_ENOMEM, "shm: cannot create a mutex");
    s->dir = kv_strdup(dir);
    s->path = join(dir, KVSHM_SEG_FILE);
    if (!s->dir || !s->path) {
        rc = kv_fail(KV_ENOMEM, "shm: out of memory");
        goto out_fail;
    }
    rc = p->create ? kv_env_mkdir_mode(env, dir, s->dir_mode) : KV_OK;
    for (int attempt = 0; rc == KV_OK; attempt++) {
        rc = open_once(s, p, created);
        if (rc != KV_OK || !kvshm_flag(s, KVSHM_F_DESTROYED))
            break;
        /* Destroyed under us (its file already unlinked): start again. */
        unmap_all(s);
        kv_file_close(s->file);
        s->file = NULL;
        rc = attempt < 3 ? KV_OK
                         : kv_fail(KV_EIO, "shm: %s: store destroyed while opening", s->path);
    }
    if (rc == KV_OK)
        return KV_OK;
out_fail:
    kvshm_seg_close(s);
    return rc;
}

int kvshm_seg_close(kvshm_seg *s)
{
    int rc = KV_OK;

    if (s->file) {
        unmap_all(s);
        rc = kv_file_close(s->file);
        s->file = NULL;
    }
    kv_free(s->dir);
    kv_free(s->path);
    s->dir = s->path = NULL;
    pthread_mutex_destroy(&s->map_lock);
    return rc;
}
