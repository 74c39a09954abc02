/**
 * @file peer_common.h
 * @brief What the four peer adapters (LevelDB, RocksDB, LMDB, SQLite) share.
 *
 * A peer adapter puts a real, widely used storage library behind the
 * kvlabs contract (kvlabs/kv.h), so kvbench can run it beside the course's
 * engines in one process and compare them by ratio. Unlike a course engine,
 * a peer does its own file I/O: the library opens, writes and fsyncs its
 * files itself and never calls the kv_env. Three consequences, shared by
 * all four adapters and handled here:
 *
 * - A peer runs only on the POSIX env: opened on an in-memory or fault env
 *   it returns KV_ENOTSUP (the library would write to the real disk behind
 *   the test's back), so the conformance suite skips its fault-env cases.
 * - The env's I/O counters (kv_stats.io_*) stay 0 for a peer: the library's
 *   reads, writes and fsyncs never pass through the env.
 * - kv_stats.disk_bytes is measured by listing the peer's directory through
 *   the POSIX env (kvpeer_dir_bytes), i.e. the sum of its file sizes.
 *
 * Thread safety: every function here is safe to call from several threads.
 */
#ifndef KVLABS_PEER_COMMON_H
#define KVLABS_PEER_COMMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "kvlabs/engine.h"

/**
 * @brief Check the open arguments of a peer and create its directory with
 *        the `mode=` option's directory mode (a->dir_mode, 0700 by default).
 * @param[in] a       the arguments kv_open handed to the engine.
 * @param[in] engine  the engine's name, for messages.
 * @return KV_OK; KV_ENOTSUP (not the POSIX env); KV_EINVAL (no path);
 *         KV_ENOTFOUND (the parent directory is missing); KV_EIO.
 */
int kvpeer_prepare_dir(const kv_open_args *a, const char *engine);

/**
 * @brief The sum of the sizes of every file under @p dir (recursively),
 *        listed through @p env.
 * @param[out] out  the byte count (what could be summed when an entry
 *                  vanished meanwhile: the peer's compactions delete files).
 * @return KV_OK, or the env's error for the directory itself.
 */
int kvpeer_dir_bytes(const kv_env *env, const char *dir, uint64_t *out);

/** @brief Monotonic milliseconds. */
uint64_t kvpeer_now_ms(void);

/**
 * @brief For sync=batch: whether @p sync_ms have passed since *last; if so,
 *        claims the sync by setting *last to now (one caller wins).
 */
bool kvpeer_sync_due(_Atomic uint64_t *last, uint64_t sync_ms);

/**
 * @brief Map a LevelDB/RocksDB status text ("Corruption: ...", "IO error:
 *        ...") to a KV_E* code and set the detail "<engine>: <what>: <text>".
 *
 * "Corruption:" → KV_ECORRUPT; a held LOCK file → KV_EBUSY; "No space left"
 * → KV_EFULL; "Invalid argument:" → KV_EINVAL; "Not implemented:" /
 * "Not supported:" → KV_ENOTSUP; "Not found:" → KV_ENOTFOUND; anything
 * else → KV_EIO.
 * @return the code.
 */
int kvpeer_fail_status(const char *engine, const char *what, const char *text);

/** @brief Append a named counter to out->extra (ignored when full). */
void kvpeer_extra(kv_stats *out, const char *name, double value);

/** @brief A kv_malloc'd "dir/leaf", or NULL. */
char *kvpeer_join(const char *dir, const char *leaf);

#endif /* KVLABS_PEER_COMMON_H */
