/**
 * @file raft_node.h
 * @brief A Raft node: the core (raft.h) with its disk (raft_storage_*) and
 *        its state machine, driven one ready at a time (raft_node_*).
 *
 * **Storage.** Three files in the node's directory, all through a kv_env
 * (docs/formats/raft.md gives the byte layout):
 * - `hardstate`: term, vote and a commit index, in two CRC'd slots written
 *   alternately and fsynced, so a torn write leaves the other slot good;
 * - `log`: CRC-framed entries, appended and fsynced; an append that starts
 *   inside the file first truncates it there (a follower's conflict); at
 *   open a torn last record is cut off, a bad record followed by more data
 *   is KV_ECORRUPT;
 * - `snap`: the latest snapshot, written to `snap.tmp`, fsynced and renamed;
 *   the log is then rewritten (log.tmp, renamed) without the entries the
 *   snapshot covers.
 *
 * **The node.** raft_node_open() reads the disk, restores the state machine
 * from the snapshot and starts the core. raft_node_process() runs the ready
 * loop of raft.h: persist (fsync) → hand messages to a send callback →
 * apply → advance (a steady leader hands its replication messages to the
 * callback before it persists: raft.h's one exception), and takes a snapshot through the state machine's
 * callback when the log has grown by snapshot_every entries.
 *
 * **Thread safety.** None: one thread per node.
 */
#ifndef KVLABS_RAFT_NODE_H
#define KVLABS_RAFT_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvlabs/env.h"
#include "raft.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A node's persistent state (opaque). */
typedef struct raft_storage raft_storage;

/**
 * @brief Open (creating when missing) a node's storage in @p dir.
 * @param[in]  env   the env for every file operation.
 * @param[in]  dir   the node's directory (its parent must exist).
 * @param[out] out   the storage; close with raft_storage_close().
 * @param[out] boot  what was on disk; free with raft_boot_free().
 * @return KV_OK; KV_ECORRUPT (a bad snapshot or hard state, a bad record
 *         inside the log, entries that do not follow each other); KV_ENOMEM;
 *         an env error (KV_EIO ...). On failure nothing needs freeing.
 */
int raft_storage_open(const kv_env *env, const char *dir, raft_storage **out, raft_boot *boot);

/**
 * @brief raft_storage_open() creating files with permission bits @p mode
 *        and directories with kv_mode_dir_of(mode) (raft_storage_open():
 *        0600 and 0700).
 * @param[in]  env   the env of its files.
 * @param[in]  dir   its directory.
 * @param[in]  mode  permission bits of the files it creates (<= 0777).
 * @param[out] out   the storage.
 * @param[out] boot  what to start the core from.
 * @return as raft_storage_open().
 */
int raft_storage_open_mode(const kv_env *env, const char *dir, unsigned mode,
                           raft_storage **out, raft_boot *boot);

/** @brief Free what raft_storage_open() put in a boot.
 *  @param[in,out] boot  the boot. */
void raft_boot_free(raft_boot *boot);

/**
 * @brief Persist the hard state (write a slot, fsync).
 * @param[in,out] st  the storage.
 * @param[in] hs  the hard state.
 * @return KV_OK or an env error.
 */
int raft_storage_save_hs(raft_storage *st, const raft_hard_state *hs);

/**
 * @brief Persist entries (consecutive): every stored entry from
 *        entries[0].index on is replaced; then fsync.
 * @param[in,out] st  the storage.
 * @param[in] entries  the entries.
 * @param[in] n  their number.
 * @return KV_OK; KV_EINVAL (entries[0].index leaves a gap); an env error.
 */
int raft_storage_append(raft_storage *st, const raft_entry *entries, size_t n);

/**
 * @brief Persist a snapshot, then rewrite the log to hold only @p rest (the
 *        entries after the snapshot that are already persisted).
 * @param[in,out] st  the storage.
 * @param[in] snap  the snapshot.
 * @param[in] rest  the entries that stay.
 * @param[in] n_rest  their number.
 * @return KV_OK or an env error (the old snapshot stays valid on failure).
 */
int raft_storage_save_snapshot(raft_storage *st, const raft_snapshot *snap,
                               const raft_entry *rest, size_t n_rest);

/**
 * @brief Choose deferred sync: with @p deferred, raft_storage_save_hs() and
 *        raft_storage_append() write without fsync (the writes reach the OS,
 *        so a reopen in a running system sees them) and raft_storage_flush()
 *        makes them durable. A machine crash may then lose a granted vote or
 *        an acknowledged append, which Raft's safety argument forbids: only
 *        for replicas that share one process and one disk (engine raftsim,
 *        sync=none or batch). Snapshots are always synced. Off by default.
 * @param[in,out] st  the storage.
 * @param[in] deferred  true to defer the fsyncs.
 */
void raft_storage_set_deferred(raft_storage *st, bool deferred);

/**
 * @brief Fsync the hard state and the log if written since their last fsync.
 * @param[in,out] st  the storage.
 * @return KV_OK or an env error (then close the storage).
 */
int raft_storage_flush(raft_storage *st);

/** @brief Close the files and free the storage.
 *  @param[in] st  the storage, or NULL. */
void raft_storage_close(raft_storage *st);

/** @brief The replicated state machine, as callbacks. */
typedef struct raft_sm_ops {
    /** Apply a committed entry (NOOP entries are passed too). */
    void (*apply)(void *sm, const raft_entry *e);
    /** Serialize the whole state machine (as of the last applied entry) into
     *  a kv_malloc'd buffer; return 0, or non-zero to skip this snapshot. */
    int (*snapshot)(void *sm, uint8_t **data, size_t *len);
    /** Replace the state machine by a snapshot; return 0 or non-zero when
     *  the snapshot is malformed. */
    int (*restore)(void *sm, const uint8_t *data, size_t len, uint64_t index);
    /** A ReadIndex read may now be served (the state machine has applied
     *  index); may be NULL. */
    void (*read_ready)(void *sm, uint64_t ctx, uint64_t index);
} raft_sm_ops;

/** @brief Where a node sends messages: must copy what it keeps. */
typedef void (*raft_send_fn)(void *ctx, const raft_msg *m);

/** @brief A node (opaque). */
typedef struct raft_node raft_node;

/**
 * @brief Start a node from its directory.
 * @param[in]  env            the env of its files.
 * @param[in]  dir            its directory.
 * @param[in]  cfg            the core's configuration.
 * @param[in]  sm_ops         the state machine's callbacks.
 * @param[in]  sm             the state machine (empty: the node restores it).
 * @param[in]  snapshot_every take a snapshot every this many applied
 *                            entries (0: never).
 * @param[out] out            the node.
 * @return as raft_storage_open(), or the restore callback's failure as KV_ECORRUPT.
 */
int raft_node_open(const kv_env *env, const char *dir, const raft_config *cfg,
                   const raft_sm_ops *sm_ops, void *sm, uint64_t snapshot_every,
                   raft_node **out);

/**
 * @brief raft_node_open() whose storage creates files with permission bits
 *        @p mode (raft_storage_open_mode()); raft_node_open() uses 0600.
 * @param[in]  env            the env of its files.
 * @param[in]  dir            its directory.
 * @param[in]  mode           permission bits of the files it creates.
 * @param[in]  cfg            the core's configuration.
 * @param[in]  sm_ops         the state machine's callbacks.
 * @param[in]  sm             the state machine.
 * @param[in]  snapshot_every as raft_node_open().
 * @param[out] out            the node.
 * @return as raft_node_open().
 */
int raft_node_open_mode(const kv_env *env, const char *dir, unsigned mode,
                        const raft_config *cfg, const raft_sm_ops *sm_ops, void *sm,
                        uint64_t snapshot_every, raft_node **out);

/**
 * @brief Run ready loops until the core has nothing pending.
 * @param[in,out] n  the node.
 * @param[in] send  where messages go; a leader's APPEND, HEARTBEAT and
 *                  SNAPSHOT messages may reach it before the fsync of their
 *                  ready, so a caller that buffers should write them out at
 *                  once to overlap the followers' fsyncs with the leader's.
 * @param[in] ctx   passed to send.
 * @return KV_OK, or the env error of a failed persist (the node must then be
 *         closed: a node that cannot persist must not send anything else
 *         nor apply).
 */
int raft_node_process(raft_node *n, raft_send_fn send, void *ctx);

/** @brief The node's core, to tick, step and propose.
 *  @param[in] n  the node.
 *  @return its core. */
raft *raft_node_core(raft_node *n);

/** @brief Number of persist steps (hard state, entries, snapshot) so far.
 *  @param[in] n  the node.
 *  @return the count. */
uint64_t raft_node_persists(const raft_node *n);

/** @brief The node's storage (to choose deferred sync and to flush it).
 *  @param[in] n  the node.
 *  @return its storage. */
raft_storage *raft_node_storage(raft_node *n);

/** @brief Free the node (the state machine is the caller's).
 *  @param[in] n  the node, or NULL. */
void raft_node_close(raft_node *n);

#ifdef __cplusplus
}
#endif
#endif /* KVLABS_RAFT_NODE_H */
