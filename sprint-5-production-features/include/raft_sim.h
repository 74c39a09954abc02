/**
 * @file raft_sim.h
 * @brief A deterministic simulator of a Raft cluster: seeded time, network,
 *        disks and crashes, with the Raft safety properties checked at
 *        every step.
 *
 * Everything happens on one thread in simulated milliseconds: the nodes tick
 * every 10 ms, messages are delivered from a priority queue ordered by
 * (delivery time, sequence number), and every random choice (delays, drops,
 * duplicates, long reorderings, election timeouts, torn writes) comes from
 * generators seeded by the one seed. The same seed replays the same run.
 *
 * The network: each message is delayed 0 to max_delay_ms ms (default 27);
 * when unreliable, 10% are dropped and 5% delivered twice; with long
 * reordering one in three is delayed 200 to 2200 ms. A node can be
 * disconnected (all its links down, as 6.5840's disconnect) and any single
 * direction of a link cut (one-way partitions); a link is checked when a
 * message is sent and when it would arrive. Each node's disk is a fault env
 * (env.h): a crash drops (or tears) every write not yet fsynced, and the
 * restart reopens the node from what survived. A slow disk delays every
 * message a node sends after it persisted something in the same round.
 *
 * The state machine of every node is the sequence of applied commands (a
 * 64-bit digest per index); snapshots serialize it.
 *
 * The checker (after every delivery and tick): election safety (one leader
 * per term), log matching (two logs holding an entry with the same index and
 * term hold the same command there and the same term before it), leader
 * completeness (a new leader holds every entry any node has applied) and
 * state-machine safety (no two nodes apply different commands at an index;
 * each applies in order), and membership (a leader is a voter of its
 * configuration when elected, and leads no longer once its removal is
 * committed). The first violation is kept (raft_sim_failure())
 * and the run goes on.
 *
 * **Thread safety.** None.
 */
#ifndef KVLABS_RAFT_SIM_H
#define KVLABS_RAFT_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvlabs/env.h"
#include "raft.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The digest a NOOP entry is applied as. */
#define RAFT_SIM_NOOP UINT64_MAX

/** @brief Simulator settings. */
typedef struct raft_sim_config {
    uint32_t n;              /**< nodes (1 .. RAFT_MAX_NODES), all running */
    uint32_t voters;         /**< the initial configuration: voters 0 .. voters-1 (0: n);
                                  nodes voters .. n-1 run empty, outside the cluster,
                                  until raft_sim_change_conf() adds them */
    uint64_t seed;           /**< the seed of everything */
    unsigned max_delay_ms;   /**< delivery delay drawn in [0, max_delay_ms] (default 27) */
    uint64_t snapshot_every; /**< a node snapshots every this many applied entries (0: never) */
    size_t snapshot_chunk;   /**< InstallSnapshot chunk size (0: the core's default) */
    size_t max_batch;        /**< entries per APPEND (0: the core's default); 1 makes a
                                  leader replicate old-term entries without its own */
    bool lease_read;         /**< every node's raft_config::lease_read (lease reads allowed) */
} raft_sim_config;

/** @brief Counters of what the network carried. */
typedef struct raft_sim_stats {
    uint64_t msgs[16];  /**< messages sent, by raft_msg_type (drops included) */
    uint64_t rpcs;      /**< requests sent (responses not counted, as 6.5840 counts RPCs) */
    uint64_t bytes;     /**< raft_msg_size() of every message sent */
    uint64_t delivered; /**< messages delivered */
    uint64_t steps;     /**< deliveries and ticks processed (each followed by a check) */
} raft_sim_stats;

/** @brief A simulated cluster (opaque). */
typedef struct raft_sim raft_sim;

/** @brief Create a cluster of fresh nodes, all connected, network reliable.
 *  @param[in] cfg  the settings. @return the cluster (out of memory aborts). */
raft_sim *raft_sim_new(const raft_sim_config *cfg);
/** @brief Free the cluster. @param[in] s  the cluster, or NULL. */
void raft_sim_free(raft_sim *s);

/** @brief Run for a while. @param[in,out] s the cluster. @param[in] ms simulated milliseconds. */
void raft_sim_run(raft_sim *s, uint64_t ms);
/** @brief Simulated time. @param[in] s the cluster. @return ms since the start. */
uint64_t raft_sim_now(const raft_sim *s);

/** @brief Drops and duplicates on or off. @param[in,out] s the cluster. @param[in] on on. */
void raft_sim_set_unreliable(raft_sim *s, bool on);
/** @brief Long reordering on or off. @param[in,out] s the cluster. @param[in] on on. */
void raft_sim_set_long_reordering(raft_sim *s, bool on);
/** @brief Reconnect a node (its links to every connected node).
 *  @param[in,out] s the cluster. @param[in] i the node. */
void raft_sim_connect(raft_sim *s, uint32_t i);
/** @brief Disconnect a node from everyone. @param[in,out] s the cluster. @param[in] i the node. */
void raft_sim_disconnect(raft_sim *s, uint32_t i);
/** @brief Whether a node is connected. @param[in] s the cluster. @param[in] i the node.
 *  @return true when connected. */
bool raft_sim_connected(const raft_sim *s, uint32_t i);
/** @brief Cut or restore one direction of a link.
 *  @param[in,out] s the cluster. @param[in] from sender. @param[in] to receiver.
 *  @param[in] up false cuts, true restores. */
void raft_sim_link(raft_sim *s, uint32_t from, uint32_t to, bool up);
/** @brief A node's disk delay. @param[in,out] s the cluster. @param[in] i the node.
 *  @param[in] ms the delay (0: fast). */
void raft_sim_set_disk_delay(raft_sim *s, uint32_t i, unsigned ms);

/** @brief Crash a node: its unsynced writes are lost (mode as env.h).
 *  @param[in,out] s the cluster. @param[in] i the node. @param[in] mode drop or tear. */
void raft_sim_crash(raft_sim *s, uint32_t i, kv_crash_mode mode);
/**
 * @brief Restart a crashed node from its disk.
 * @param[in,out] s the cluster. @param[in] i the node.
 * @return KV_OK, or the error of opening its storage (the checker records it).
 */
int raft_sim_restart(raft_sim *s, uint32_t i);
/** @brief Whether a node runs. @param[in] s the cluster. @param[in] i the node.
 *  @return true when up. */
bool raft_sim_up(const raft_sim *s, uint32_t i);

/**
 * @brief Propose a command at a node.
 * @param[in,out] s the cluster. @param[in] i the node. @param[in] cmd the command.
 * @param[in] len its length. @param[out] index its index. @param[out] term its term.
 * @return 0 with its index and term, or -1 (down, or not the leader).
 */
int raft_sim_propose(raft_sim *s, uint32_t i, const void *cmd, uint32_t len,
                     uint64_t *index, uint64_t *term);
/**
 * @brief Propose a membership change at a node (raft_change_conf()).
 * @param[in,out] s the cluster. @param[in] i the node. @param[in] op a raft_conf_op.
 * @param[in] node the node it concerns. @param[out] index the entry's index (may be NULL).
 * @return 0, a raft_conf_err, or RAFT_CONF_ENOTLEADER when the node is down.
 */
int raft_sim_change_conf(raft_sim *s, uint32_t i, int op, uint32_t node, uint64_t *index);
/** @brief The digest a command is applied as. @param[in] cmd the command.
 *  @param[in] len its length. @return its digest (never RAFT_SIM_NOOP). */
uint64_t raft_sim_digest(const void *cmd, uint32_t len);

/**
 * @brief How many nodes have applied an index.
 * @param[in,out] s the cluster. @param[in] index the index.
 * @param[out] digest the command's digest, when at least one has.
 * @return the number of nodes (a disagreement is a checker failure).
 */
unsigned raft_sim_n_committed(raft_sim *s, uint64_t index, uint64_t *digest);

/** @brief A node's core. @param[in] s the cluster. @param[in] i the node.
 *  @return the core, or NULL when the node is down. */
raft *raft_sim_core(raft_sim *s, uint32_t i);
/** @brief A node's applied index. @param[in] s the cluster. @param[in] i the node.
 *  @return the highest index it applied (0 when down). */
uint64_t raft_sim_applied(const raft_sim *s, uint32_t i);
/** @brief The network counters. @param[in] s the cluster. @return the counters. */
const raft_sim_stats *raft_sim_get_stats(const raft_sim *s);
/** @brief The first safety violation. @param[in] s the cluster. @return its text, or NULL. */
const char *raft_sim_failure(const raft_sim *s);
/** @brief Record a failure found by a scenario (kept if it is the first).
 *  @param[in,out] s the cluster. @param[in] fmt printf format, then its arguments. */
void raft_sim_fail(raft_sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif
#endif /* KVLABS_RAFT_SIM_H */
