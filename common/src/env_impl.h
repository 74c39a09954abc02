/*
 * env_impl.h — private: what an env implementation provides to env.c.
 *
 * env.c owns the members of `struct kv_env` (an ops table, the
 * implementation's context and the atomic I/O counters; the layout is here
 * only so that env_posix.c can define its static singleton) and every
 * public kv_env_* / kv_file_* function. Those functions check their arguments once, for every
 * implementation, dispatch through the ops table, and count what succeeded.
 * An implementation (env_posix.c, env_mem.c, env_fault.c) therefore only
 * does the work: it never sees a NULL argument, an unknown flag, a write
 * on a read-only file or an offset past INT64_MAX, and it never touches
 * the counters.
 *
 * Files: an implementation allocates its own file structure with a
 * `struct kv_file` as its first member and returns a pointer to that
 * member; env.c fills in `env` and `flags` after a successful open, and
 * dispatches every later kv_file_* call through `f->env->ops`. The close op
 * must free the structure even when it reports an error.
 *
 * Modes: open and mkdir receive the permission bits to create with (already
 * checked by env.c to lie within 0777); an implementation uses them only
 * when it creates, never changes the mode of what exists, and reports the
 * mode of a path through stat (the permission bits only, 07777 at most).
 *
 * Env-level ops take the `ctx` given to kv_env_create(). Every failing op
 * sets the error detail (kv_fail / kv_fail_errno) naming the call and path.
 */
#ifndef KVLABS_ENV_IMPL_H
#define KVLABS_ENV_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvlabs/env.h"

/** The header every implementation's file structure starts with. */
struct kv_file {
    struct kv_env *env; /* set by env.c after open */
    int flags;          /* the KV_O_* flags it was opened with, set by env.c */
};

/** The operations of one env implementation. Every member is required. */
struct kv_env_ops {
    const char *name;
    void (*destroy)(void *ctx);
    int (*open)(void *ctx, const char *path, int flags, unsigned mode, kv_file **out);
    int (*close)(kv_file *f);
    int (*pread)(kv_file *f, void *buf, size_t n, uint64_t off, size_t *got);
    int (*pwrite)(kv_file *f, const void *buf, size_t n, uint64_t off);
    int (*sync)(kv_file *f);
    int (*truncate)(kv_file *f, uint64_t size);
    int (*size)(kv_file *f, uint64_t *size);
    int (*lock)(kv_file *f);
    int (*mmap)(kv_file *f, uint64_t off, size_t len, bool writable, void **addr);
    int (*munmap)(kv_file *f, void *addr, size_t len);
    int (*mkdir)(void *ctx, const char *path, unsigned mode);
    int (*sync_dir)(void *ctx, const char *path);
    int (*rename)(void *ctx, const char *from, const char *to);
    int (*unlink)(void *ctx, const char *path);
    int (*rmdir)(void *ctx, const char *path);
    int (*stat)(void *ctx, const char *path, uint64_t *size, bool *is_dir, unsigned *mode);
    int (*list)(void *ctx, const char *dir, char ***names, size_t *n);
};

/**
 * An env: its operations, their context and its I/O counters. Only env.c
 * reads and updates the members; an implementation defines one only as a
 * static singleton (env_posix.c's, with is_static set so kv_env_free()
 * never frees it) or gets one from kv_env_create().
 */
struct kv_env {
    const struct kv_env_ops *ops;
    void *ctx;
    bool is_static; /* a singleton: kv_env_free() does nothing */
    _Atomic uint64_t bytes_read;
    _Atomic uint64_t bytes_written;
    _Atomic uint64_t reads;
    _Atomic uint64_t writes;
    _Atomic uint64_t syncs;
    _Atomic uint64_t opens;
};

/** A new env over @p ops and @p ctx (counters zero), or NULL when out of memory. */
kv_env *kv_env_create(const struct kv_env_ops *ops, void *ctx);

/** The ctx of @p env if it runs on @p ops, else NULL (how env_fault.c recognises its envs). */
void *kv_env_ctx(const kv_env *env, const struct kv_env_ops *ops);

/** Sort a name array as kv_env_list() returns it (shared by the implementations). */
void kv_env_sort_names(char **names, size_t n);

#endif /* KVLABS_ENV_IMPL_H */
