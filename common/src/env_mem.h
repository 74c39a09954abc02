/*
 * env_mem.h — private: the in-memory file system behind the mem and fault
 * envs, shared by its two halves and used by env_fault.c.
 *
 * - env_mem_ns.c, the namespace: nodes and their reference counts,
 *   directories and their live/durable entries, paths, mkdir, sync_dir,
 *   rename, unlink, rmdir, stat, list, and the namespace half of reboot.
 * - env_mem.c, the files: live/durable content, handles, open, pread,
 *   pwrite, sync, truncate, locks, crash, reboot, flip, and the mem env.
 *
 * See env_mem.c's opening comment for how the whole works. Every kv_memfs_*
 * function locks the file system's mutex for its whole duration, so each is
 * atomic with respect to the others; the kv_mem_* helpers expect it held.
 * Paths are taken lexically: "." is skipped, ".." drops the previous
 * component, repeated slashes collapse, and a relative path starts at the
 * root (the file system starts with an empty root directory).
 */
#ifndef KVLABS_ENV_MEM_H
#define KVLABS_ENV_MEM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env_impl.h"
#include "kvlabs/rng.h"

enum { KV_MEM_PATH_MAX = 4096 };

typedef struct kv_memfs kv_memfs;

/** A byte array: live or durable file content. */
struct kv_mem_bytes {
    uint8_t *p;
    size_t len, cap;
};

/** A file's last unsynced write (fault env: the one a TORN crash cuts). */
struct kv_mem_torn {
    bool valid;
    uint64_t off;   /**< its offset */
    size_t len;     /**< its length */
    size_t old_len; /**< the file size before it */
    uint8_t *old;   /**< the old_n bytes it overwrote at off */
    size_t old_n;
};

struct kv_mem_node;
struct kv_mem_file;

/** A directory entry: what its name means now and in the durable state. */
struct kv_mem_dirent {
    char *name;
    struct kv_mem_node *live; /**< NULL: absent now */
    struct kv_mem_node *dur;  /**< NULL: absent in the durable state */
};

/** An inode: a file or a directory. */
struct kv_mem_node {
    struct kv_mem_node *prev, *next; /**< fs->nodes */
    unsigned long refs;              /**< entry targets + open handles */
    bool is_dir;
    unsigned mode;                   /**< permission bits given at creation (0755: the root) */
    /* files */
    struct kv_mem_bytes live, dur;    /**< dur.cap >= live.cap always */
    uint64_t dirty_lo, dirty_hi;      /**< live bytes that may differ from dur */
    struct kv_mem_file *locker;       /**< the handle holding the lock */
    struct kv_mem_torn torn;
    /* directories: sorted by name */
    struct kv_mem_dirent *ents;
    size_t nents, cap_ents;
};

/** An open file. */
struct kv_mem_file {
    struct kv_file base;
    struct kv_memfs *fs;
    struct kv_mem_node *node;
    uint64_t life; /**< fs->life when opened */
    char *path;
};

struct kv_memfs {
    pthread_mutex_t mu;
    struct kv_mem_node *root;
    struct kv_mem_node *nodes; /**< every node, doubly linked */
    uint64_t life;             /**< incremented by reboot */
    uint64_t bytes;            /**< sum of live file sizes */
    uint64_t quota;            /**< 0: none */
    size_t handles;            /**< open files, of every life */
    bool track_torn;
};

/** The live entry a path names: its directory, its index, its node (NULL when absent). */
struct kv_mem_slot {
    struct kv_mem_node *dir;
    const char *leaf;
    size_t idx;
    bool found;
    struct kv_mem_node *node;
};

/* ---- the public side: env_mem.c and env_mem_ns.c ---------------------- */

/** A new empty file system, or NULL. @p track_torn: remember each file's last unsynced write. */
kv_memfs *kv_memfs_new(bool track_torn);
/** Free it; every file must be closed. */
void kv_memfs_free(kv_memfs *fs);

int kv_memfs_open(kv_memfs *fs, const char *path, int flags, unsigned mode, kv_file **out);
int kv_memfs_close(kv_file *f);
int kv_memfs_pread(kv_file *f, void *buf, size_t n, uint64_t off, size_t *got);
int kv_memfs_pwrite(kv_file *f, const void *buf, size_t n, uint64_t off);
int kv_memfs_sync(kv_file *f);
int kv_memfs_truncate(kv_file *f, uint64_t size);
int kv_memfs_size(kv_file *f, uint64_t *size);
int kv_memfs_lock(kv_file *f);
int kv_memfs_mmap(kv_file *f, uint64_t off, size_t len, bool writable, void **addr);
int kv_memfs_munmap(kv_file *f, void *addr, size_t len);

int kv_memfs_mkdir(kv_memfs *fs, const char *path, unsigned mode);
int kv_memfs_sync_dir(kv_memfs *fs, const char *path);
int kv_memfs_rename(kv_memfs *fs, const char *from, const char *to);
int kv_memfs_unlink(kv_memfs *fs, const char *path);
int kv_memfs_rmdir(kv_memfs *fs, const char *path);
int kv_memfs_stat(kv_memfs *fs, const char *path, uint64_t *size, bool *is_dir,
                  unsigned *mode);
int kv_memfs_list(kv_memfs *fs, const char *dir, char ***names, size_t *n);

/** The path a file was opened with (for error details). */
const char *kv_memfs_path(const kv_file *f);

/** Writes and growing truncates past @p bytes of live file data fail with KV_EFULL (0: none). */
void kv_memfs_set_quota(kv_memfs *fs, uint64_t bytes);

/**
 * Freeze the crash image into the durable state. DROP (@p torn false):
 * nothing to do, the durable state is the image. TORN: each file's live
 * content, its last unsynced write cut to a prefix drawn from @p rng,
 * becomes its durable content. The namespace image is the durable entries
 * either way.
 */
void kv_memfs_crash(kv_memfs *fs, bool torn, kv_rng *rng);

/** Replace the live state by the durable one; files opened before fail with KV_EIO from now on. */
void kv_memfs_reboot(kv_memfs *fs);

/** Flip a bit of the live and durable content of the file(s) @p path names, live or durable. */
int kv_memfs_flip(kv_memfs *fs, const char *path, uint64_t off, unsigned bit);

/* ---- helpers shared by the two halves (fs->mu held) -------------------- */

/** A new unlinked node (refs 0) on fs->nodes, or NULL. */
struct kv_mem_node *kv_mem_node_new(kv_memfs *fs, bool is_dir);
/** Free a node whose refs are 0, releasing its entries. */
void kv_mem_node_destroy(kv_memfs *fs, struct kv_mem_node *n);
void kv_mem_node_ref(struct kv_mem_node *n);   /**< NULL allowed */
void kv_mem_node_unref(kv_memfs *fs, struct kv_mem_node *n); /**< NULL allowed; frees at 0 */

/** Normalise @p path into @p out (KV_MEM_PATH_MAX bytes): "a/b/c", "" for the root. */
int kv_mem_norm_path(const char *path, char *out, const char *call);
/** The node the normalised @p norm names, through live or durable entries; KV_ENOTFOUND. */
int kv_mem_resolve(kv_memfs *fs, const char *norm, bool durable, struct kv_mem_node **node,
                   const char *call, const char *path);
/** The live slot @p norm names (KV_EBUSY for the root); missing directories: KV_ENOTFOUND. */
int kv_mem_slot_of(kv_memfs *fs, const char *norm, struct kv_mem_slot *s, const char *call,
                   const char *path);
/** Make sure the slot has an entry (KV_ENOMEM). */
int kv_mem_slot_insert(struct kv_mem_slot *s, const char *call, const char *path);
/** Point entry @p idx of @p dir at (live, dur); drops it when both are NULL. */
void kv_mem_ent_set(kv_memfs *fs, struct kv_mem_node *dir, size_t idx, struct kv_mem_node *live,
                    struct kv_mem_node *dur);

/** Reboot the namespace: every entry's live target becomes its durable one; unreachable files are freed. */
void kv_mem_ns_reboot(kv_memfs *fs);

/** Forget a file's dirty range (env_mem_ns.c, below env_mem.c). */
void kv_mem_dirty_reset(struct kv_mem_node *n);
/** Release a file node's content (env_mem_ns.c): buffers, torn record, its bytes in fs->bytes. */
void kv_mem_content_free(kv_memfs *fs, struct kv_mem_node *n);

/** Forget a node's recorded torn write, freeing the bytes it saved. */
void kv_mem_torn_clear(struct kv_mem_node *n);

#endif /* KVLABS_ENV_MEM_H */
