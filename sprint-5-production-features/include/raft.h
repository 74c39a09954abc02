/**
 * @file raft.h
 * @brief The Raft consensus core: a deterministic state machine with no
 *        threads, sockets or clocks of its own (in the style of etcd's raft).
 *
 * The caller owns time, the network and the disk. It feeds the core three
 * kinds of input:
 *
 * - raft_tick(): one unit of logical time passed (the simulator and the
 *   engine use 10 ms per tick);
 * - raft_step(): a message arrived from a peer;
 * - raft_propose(), raft_read_index(), raft_transfer_leader(),
 *   raft_compact(): requests of the local application.
 *
 * After any input it asks raft_has_ready() and, while true, takes a
 * raft_ready: what the core needs done, in this order:
 *
 *   1. persist the snapshot (raft_ready::snap), the hard state
 *      (raft_ready::hs, when hs_changed) and the entries
 *      (raft_ready::entries: they replace every persisted entry from
 *      entries[0].index on) — durably (fsync) before step 2;
 *   2. send raft_ready::msgs (copy them: they are freed by raft_advance());
 *   3. apply the snapshot, then raft_ready::committed, in order, to the
 *      state machine, and answer the read states (raft_ready::reads);
 *   4. call raft_advance() with the same ready.
 *
 * Step 1 before step 2 is what makes a granted vote and an acknowledged
 * append durable before anyone hears of them. The leader counts its own
 * copy of an entry towards a quorum only after raft_advance() reports it
 * persisted (its match is the last index of the entries the readies it
 * advanced carried), so it needs no special case either.
 *
 * **One exception, for a leader** (Raft thesis §10.2.1: the leader may
 * write to its disk in parallel with replicating). When raft_get_role() is
 * RAFT_LEADER after raft_ready_get(), hs_changed is false and snap is NULL,
 * the caller may send the ready's RAFT_MSG_APPEND, RAFT_MSG_HEARTBEAT and
 * RAFT_MSG_SNAPSHOT messages before step 1 (and the rest after it). They
 * promise nothing about the leader's disk: its term is already durable, and
 * the commit index they carry counts only copies that were durable, since
 * the leader's own copy counts only from raft_advance(). If the leader then
 * fails to persist, it must stop as any node must; what it sent may be
 * committed by the followers alone, which is safe because it is on a
 * majority of disks. Every other message (votes, vote requests, the
 * acknowledgements of any node) waits for step 1. raft_node_process()
 * (raft_node.h) does this.
 *
 * **The protocol.** Leader election with randomised timeouts in
 * [election_tick, 2 * election_tick), PreVote (a node first asks whether
 * it could win before it raises its term, so a node cut off by a partition
 * does not depose a healthy leader when it returns) and CheckQuorum (a
 * leader that has not heard from a quorum within an election timeout steps
 * down; a node that heard from a leader within the timeout ignores vote
 * requests). Log replication with batching (up to max_batch entries per
 * message), pipelining (up to max_inflight unacknowledged messages per
 * follower) and fast backtracking (a rejection carries the conflicting term
 * and the first index of that term, or the follower's log length). Only an
 * entry of the leader's current term is committed by counting replicas
 * (Figure 8 of the Raft paper); a new leader appends an empty entry of its
 * term at once so that earlier entries commit. Snapshots (raft_compact()
 * on every node; InstallSnapshot in chunks of snapshot_chunk bytes for a
 * follower behind the compacted log), ReadIndex reads, and leadership
 * transfer (TimeoutNow).
 *
 * **Lease reads** (raft_lease_read(), with raft_config::lease_read and
 * CheckQuorum on every node). Every heartbeat broadcast is a numbered
 * round; a follower that receives one restarts its election timer, and
 * with CheckQuorum it then refuses (pre)votes for election_tick ticks. So
 * once a quorum has answered round R, sent at tick T, no other leader can
 * be elected before tick T + election_tick, and until then the leader may
 * serve a read from its own state machine at its commit index with no
 * message at all. The leader stops lease_margin ticks early:
 * `T + election_tick - lease_margin`. **The clock assumption:** ticks are
 * measured on each node's own clock, so the lease is safe only while no
 * node's clock runs faster than the leader's by more than a factor of
 * election_tick / (election_tick - lease_margin) (the default margin,
 * election_tick / 5, tolerates 25%: 30 against 24 ticks), and while a
 * tick is never skipped on a follower that stays up. A paused leader (GC,
 * swap) keeps no lease: it counts ticks, not wall time, so a pause makes its
 * lease look younger than it is. Also: a node that starts or restarts
 * refuses votes for its first election_tick ticks (it may have heard from a
 * leader just before it went down), a leader that sent TIMEOUT_NOW holds no
 * lease for the rest of its term (a forced vote ignores the lease), and
 * acknowledgements from an earlier term never count. When in doubt, use
 * raft_read_index(): it assumes nothing about clocks.
 *
 * **Membership** (raft_change_conf(), raft_membership.c). Node ids are
 * 0 .. RAFT_MAX_NODES-1; a fresh cluster's configuration is the voters
 * 0 .. n_nodes-1. The configuration changes one server at a time (the Raft
 * dissertation, §4.1-4.3): a change is a log entry of type RAFT_ENTRY_CONF
 * that every node obeys as soon as it is in its log (appended, not
 * committed), and the leader refuses a second change until the first is
 * committed and until an entry of its own term is committed. A new server
 * joins as a **learner**: it receives the log and snapshots but neither
 * votes nor counts in any quorum; raft_change_conf(RAFT_CONF_PROMOTE)
 * makes it a voter only once it is caught up (its match index has reached
 * the leader's commit index, and the leader heard from it in the current
 * CheckQuorum round). A leader that removes itself keeps replicating
 * without counting itself until the change commits, then steps down and
 * hands over with TIMEOUT_NOW to the most up-to-date voter. A node that is
 * not a voter in its latest configuration never campaigns. The
 * configuration is persisted with the log (the entry) and with every
 * snapshot (raft_snapshot::conf, carried in InstallSnapshot), so a restart
 * restores it.
 *
 * **Thread safety.** None: a raft instance is used by one thread at a time.
 * Memory is allocated with kv_malloc(); a failed allocation aborts the
 * process (the core has no way to undo half a state transition).
 */
#ifndef KVLABS_RAFT_H
#define KVLABS_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The largest cluster the core supports. */
#define RAFT_MAX_NODES 9
/** @brief "No node" (no vote, no known leader). */
#define RAFT_NONE UINT32_MAX

/** @brief The kinds of log entry. */
typedef enum raft_entry_type {
    RAFT_ENTRY_NORMAL = 0, /**< an application command */
    RAFT_ENTRY_NOOP = 1,   /**< the empty entry a new leader appends */
    RAFT_ENTRY_CONF = 2    /**< a configuration: RAFT_CONF_LEN bytes, see raft_conf_encode() */
} raft_entry_type;

/** @brief Length of a RAFT_ENTRY_CONF entry's data: [version 1][voters u16][learners u16],
 *         little-endian (docs/formats/raft.md). */
#define RAFT_CONF_LEN 5

/**
 * @brief A cluster configuration: bit i of a mask is node i. A node is in
 *        at most one mask. voters == 0 in a raft_snapshot means "not
 *        recorded": the initial configuration (voters 0 .. n_nodes-1).
 */
typedef struct raft_membership {
    uint32_t voters;   /**< the nodes that vote and count in quorums */
    uint32_t learners; /**< the nodes that only receive the log */
} raft_membership;

/** @brief One log entry. */
typedef struct raft_entry {
    uint64_t term;  /**< the term of the leader that created it */
    uint64_t index; /**< its position in the log, from 1 */
    uint8_t type;   /**< a raft_entry_type */
    uint32_t len;   /**< length of data */
    uint8_t *data;  /**< the command (owned by whoever holds the entry) */
} raft_entry;

/** @brief The kinds of message. */
typedef enum raft_msg_type {
    RAFT_MSG_PREVOTE = 1,   /**< may I win an election at term+1? */
    RAFT_MSG_PREVOTE_RESP,  /**< reject = no */
    RAFT_MSG_VOTE,          /**< RequestVote: index, log_term = last log entry */
    RAFT_MSG_VOTE_RESP,     /**< reject = vote not granted */
    RAFT_MSG_APPEND,        /**< AppendEntries: index, log_term = the entry before entries */
    RAFT_MSG_APPEND_RESP,   /**< index = last matching index, or on reject the rejected one */
    RAFT_MSG_HEARTBEAT,     /**< commit = min(commit, follower's match); ctx = ReadIndex round */
    RAFT_MSG_HEARTBEAT_RESP,/**< echoes ctx */
    RAFT_MSG_SNAPSHOT,      /**< InstallSnapshot chunk: index, log_term = the snapshot's;
                                 ctx = its configuration (voters | learners << 32) */
    RAFT_MSG_SNAPSHOT_RESP, /**< index = snapshot index accepted (or the offset wanted) */
    RAFT_MSG_TIMEOUT_NOW    /**< leadership transfer: campaign now */
} raft_msg_type;

/** @brief A message between two nodes. Fields unused by a type are 0. */
typedef struct raft_msg {
    uint8_t type;          /**< a raft_msg_type */
    uint32_t from;         /**< sender's node id */
    uint32_t to;           /**< receiver's node id */
    uint64_t term;         /**< the sender's term (for PREVOTE: the term it would campaign at) */
    uint64_t index;        /**< see raft_msg_type */
    uint64_t log_term;     /**< see raft_msg_type */
    uint64_t commit;       /**< the sender's commit index (APPEND, HEARTBEAT) */
    bool reject;           /**< the request was refused */
    bool force;            /**< VOTE after TIMEOUT_NOW: ignore the leader lease */
    uint64_t hint_index;   /**< APPEND_RESP reject: first index of hint_term, or log length + 1 */
    uint64_t hint_term;    /**< APPEND_RESP reject: term at the rejected index (0: log too short) */
    uint64_t ctx;          /**< HEARTBEAT(_RESP): ReadIndex round; SNAPSHOT: configuration */
    size_t n_entries;      /**< APPEND: number of entries */
    raft_entry *entries;   /**< APPEND: the entries */
    uint64_t snap_offset;  /**< SNAPSHOT: offset of this chunk; SNAPSHOT_RESP: next offset wanted */
    uint64_t snap_size;    /**< SNAPSHOT: total size of the snapshot */
    uint32_t snap_len;     /**< SNAPSHOT: length of this chunk */
    uint8_t *snap_data;    /**< SNAPSHOT: this chunk */
} raft_msg;

/** @brief What must be persisted before any message is sent. */
typedef struct raft_hard_state {
    uint64_t term;   /**< current term */
    uint32_t vote;   /**< voted for in term, or RAFT_NONE */
    uint64_t commit; /**< a commit index known (may lag; used to re-apply at start) */
} raft_hard_state;

/** @brief A snapshot of the state machine up to and including index. */
typedef struct raft_snapshot {
    uint64_t index;  /**< last index it includes (0: no snapshot) */
    uint64_t term;   /**< term of that entry */
    size_t len;      /**< length of data */
    uint8_t *data;   /**< the serialized state machine */
    raft_membership conf; /**< the configuration at index (voters 0: the initial one) */
} raft_snapshot;

/** @brief A ReadIndex request that may now be served. */
typedef struct raft_read_state {
    uint64_t ctx;   /**< the caller's request id given to raft_read_index() */
    uint64_t index; /**< serve the read once the state machine has applied this index */
} raft_read_state;

/** @brief The work handed to the caller; see the file comment for the order. */
typedef struct raft_ready {
    raft_hard_state hs;        /**< the hard state */
    bool hs_changed;           /**< term or vote changed since the last ready: persist hs */
    const raft_snapshot *snap; /**< a snapshot received from the leader to persist and apply, or NULL */
    const raft_entry *entries; /**< entries to persist (they replace the log from entries[0].index) */
    size_t n_entries;          /**< number of entries */
    const raft_entry *committed; /**< entries to apply, in order */
    size_t n_committed;        /**< number of committed entries */
    const raft_msg *msgs;      /**< messages to send after persisting */
    size_t n_msgs;             /**< number of messages */
    const raft_read_state *reads; /**< reads that may be served (after applying committed) */
    size_t n_reads;            /**< number of reads */
} raft_ready;

/** @brief Configuration of one node. */
typedef struct raft_config {
    uint32_t id;             /**< this node, in [0, RAFT_MAX_NODES); a node >= n_nodes
                                  starts outside the cluster and waits to be added */
    uint32_t n_nodes;        /**< the initial voters 0 .. n_nodes-1, 1 .. RAFT_MAX_NODES */
    unsigned election_tick;  /**< minimum election timeout in ticks (>= 2 * heartbeat_tick) */
    unsigned heartbeat_tick; /**< heartbeat interval in ticks (>= 1) */
    bool pre_vote;           /**< run a PreVote round before raising the term */
    bool check_quorum;       /**< leader steps down without a quorum; vote requests in lease ignored */
    size_t max_batch;        /**< most entries in one APPEND (>= 1) */
    size_t max_inflight;     /**< most unacknowledged APPENDs per follower (>= 1) */
    size_t snapshot_chunk;   /**< most snapshot bytes in one SNAPSHOT message (>= 1) */
    uint64_t seed;           /**< seeds the randomised election timeout */
    bool lease_read;         /**< allow raft_lease_read() (needs check_quorum); set it on every
                                  node: it also makes a (re)started node refuse votes for its
                                  first election_tick ticks */
    unsigned lease_margin;   /**< the lease ends this many ticks before election_tick
                                  (< election_tick): the clock-drift bound, see the file comment */
} raft_config;

/** @brief What a node restarts from (raft_storage_open() fills it). */
typedef struct raft_boot {
    raft_hard_state hs;  /**< persisted hard state */
    raft_snapshot snap;  /**< persisted snapshot (index 0: none); data owned by the boot */
    raft_entry *entries; /**< persisted entries after snap.index, consecutive; owned by the boot */
    size_t n_entries;    /**< number of entries */
} raft_boot;

/** @brief Node roles. */
typedef enum raft_role {
    RAFT_FOLLOWER = 0,
    RAFT_PRECANDIDATE,
    RAFT_CANDIDATE,
    RAFT_LEADER
} raft_role;

/** @brief A Raft node's core (opaque). */
typedef struct raft raft;

/**
 * @brief Fill @p cfg with the defaults: election_tick 30, heartbeat_tick 10,
 *        pre_vote and check_quorum on, max_batch 64, max_inflight 8,
 *        snapshot_chunk 16 KiB, lease_read off, lease_margin 6.
 * @param[out] cfg     the configuration.
 * @param[in]  id      this node.
 * @param[in]  n_nodes cluster size.
 * @param[in]  seed    seed of the election timeouts.
 */
void raft_config_default(raft_config *cfg, uint32_t id, uint32_t n_nodes, uint64_t seed);

/**
 * @brief Create a core.
 * @param[in] cfg   the configuration (copied); must be valid.
 * @param[in] boot  persisted state to start from, or NULL for a fresh node;
 *                  the core copies what it keeps (the caller frees the boot).
 * @return the core (never NULL: out of memory aborts). Free with raft_free().
 */
raft *raft_new(const raft_config *cfg, const raft_boot *boot);

/** @brief Free a core and everything it owns.
 *  @param[in] r  the core, or NULL. */
void raft_free(raft *r);

/** @brief One tick of logical time passed.
 *  @param[in,out] r  the core. */
void raft_tick(raft *r);

/**
 * @brief A timing knob for a transport that knows the leader is gone (its
 *        process refused a connection): a follower of @p leader forgets it,
 *        so its lease no longer makes it ignore (pre)votes, and times out
 *        after @p ticks ticks instead of a whole randomised election timeout.
 *        Liveness only: votes are still granted by the usual rules.
 *        Nothing happens when this node is not a follower of @p leader, or
 *        when lease_read is on (a leader's lease counts on every follower
 *        keeping the lease for election_tick ticks, whatever it believes).
 * @param[in,out] r  the core.
 * @param[in] leader  the node found dead.
 * @param[in] ticks   campaign after this many ticks (0 counts as 1); callers
 *                    stagger it by node so that two followers do not split
 *                    the vote.
 */
void raft_leader_lost(raft *r, uint32_t leader, unsigned ticks);

/**
 * @brief Deliver a message. Messages with a bad type or sender are ignored
 *        (they come from the network and are not trusted).
 * @param[in,out] r  the core.
 * @param[in] m  the message (not kept: the core copies what it needs).
 */
void raft_step(raft *r, const raft_msg *m);

/**
 * @brief Append a command to the leader's log.
 * @param[in,out] r  the core.
 * @param[in]  data  the command (copied).
 * @param[in]  len   its length.
 * @param[out] index      its log index (may be NULL).
 * @param[out] term       its term (may be NULL).
 * @return 0, or -1 when this node is not the leader or a transfer is under way.
 */
int raft_propose(raft *r, const void *data, uint32_t len, uint64_t *index, uint64_t *term);

/**
 * @brief Ask for a linearizable read (ReadIndex). The leader records its
 *        commit index and confirms with a heartbeat round that it is still
 *        leader; a raft_read_state with @p ctx then appears in a ready.
 * @param[in,out] r  the core.
 * @param[in] ctx  the caller's request id (non-zero).
 * @return 0, or -1 when not leader (the caller retries elsewhere).
 */
int raft_read_index(raft *r, uint64_t ctx);

/**
 * @brief A lease read: whether this leader may serve a read from its own
 *        state machine now, with no message (see "Lease reads" above for the
 *        clock assumption). Changes nothing.
 * @param[in] r  the core.
 * @param[out] index  on success: serve the read once the state machine has
 *                    applied this index (the commit index).
 * @return 0, or -1 when there is no valid lease (not leader, lease_read or
 *         check_quorum off, nothing of its term committed yet, no quorum
 *         heard within the lease, a transfer begun): use raft_read_index().
 */
int raft_lease_read(const raft *r, uint64_t *index);

/**
 * @brief Hand leadership to @p target: stop accepting proposals, bring the
 *        target up to date, then send it TIMEOUT_NOW. Abandoned after an
 *        election timeout.
 * @param[in,out] r  the core.
 * @param[in] target  the node to hand leadership to.
 * @return 0, or -1 when not leader or the target is not a peer.
 */
int raft_transfer_leader(raft *r, uint32_t target);

/**
 * @brief The application took a snapshot of its state machine covering the
 *        log up to @p index (which it has applied): the core keeps the
 *        snapshot (to send to slow followers) and drops the log up to index.
 * @param[in,out] r  the core.
 * @param[in] index  an applied index above the current snapshot's.
 * @param[in] data   the serialized state machine (copied).
 * @param[in] len    its length.
 * @return 0, or -1 when index is not applied or not above the snapshot
 *         (a starter kit's stub: KV_ENOTSUP, "not implemented: raft_compact").
 */
int raft_compact(raft *r, uint64_t index, const void *data, size_t len);

/** @brief The membership changes raft_change_conf() makes. */
typedef enum raft_conf_op {
    RAFT_CONF_ADD_LEARNER = 1, /**< add a node that is not a member, as a learner */
    RAFT_CONF_PROMOTE,         /**< make a caught-up learner a voter */
    RAFT_CONF_REMOVE           /**< remove a voter or a learner (the leader itself too) */
} raft_conf_op;

/** @brief Why raft_change_conf() refused (0 is success). */
typedef enum raft_conf_err {
    RAFT_CONF_ENOTLEADER = -1, /**< not the leader, or a transfer is under way */
    RAFT_CONF_EBUSY = -2,      /**< a change is not yet committed, or nothing of this term is */
    RAFT_CONF_EINVAL = -3,     /**< bad node or op for its state (the last voter cannot go) */
    RAFT_CONF_ENOTREADY = -4   /**< PROMOTE: the learner has not caught up yet: retry later */
} raft_conf_err;

/**
 * @brief Propose a single-server membership change (leader only). The
 *        change takes effect on every node when the entry reaches its log;
 *        the caller learns it is done when raft_get_membership() reports
 *        it committed.
 * @param[in,out] r  the core.
 * @param[in] op  a raft_conf_op.
 * @param[in] node  the node it concerns (< RAFT_MAX_NODES).
 * @param[out] index  the entry's index (may be NULL).
 * @return 0, or a raft_conf_err.
 */
int raft_change_conf(raft *r, int op, uint32_t node, uint64_t *index);

/**
 * @brief The latest configuration (in force from the moment it was appended).
 * @param[in] r  the core.
 * @param[out] conf  the configuration.
 * @return the index of the entry that set it (0: the initial configuration
 *         or a snapshot's); the change is committed when this is at most
 *         raft_get_commit().
 */
uint64_t raft_get_membership(const raft *r, raft_membership *conf);

/**
 * @brief The configuration in force at a log index (what a snapshot taken
 *        at that index must carry: raft_snapshot::conf).
 * @param[in] r  the core.
 * @param[in] index  an index at or above the snapshot's, at most the last.
 * @param[out] conf  the configuration.
 */
void raft_get_membership_at(const raft *r, uint64_t index, raft_membership *conf);

/**
 * @brief Encode a configuration as a RAFT_ENTRY_CONF entry's data.
 * @param[in] conf  the configuration.
 * @param[out] out  RAFT_CONF_LEN bytes.
 */
void raft_conf_encode(const raft_membership *conf, uint8_t out[RAFT_CONF_LEN]);

/**
 * @brief Decode a RAFT_ENTRY_CONF entry's data.
 * @param[in] data  the data.
 * @param[in] len   its length.
 * @param[out] conf  the configuration.
 * @return 0, or -1 when malformed (wrong length or version, no voter, a
 *         node in both masks, a node >= RAFT_MAX_NODES).
 */
int raft_conf_decode(const uint8_t *data, size_t len, raft_membership *conf);

/** @brief Whether raft_ready_get() has something to hand over.
 *  @param[in] r  the core.
 *  @return true when there is work for the caller. */
bool raft_has_ready(const raft *r);

/**
 * @brief Take the pending work. Pointers stay valid until raft_advance().
 * @param[in,out] r  the core.
 * @param[out] rd  the work.
 */
void raft_ready_get(raft *r, raft_ready *rd);

/**
 * @brief The caller did everything @p rd asked (persist, send, apply).
 * @param[in,out] r  the core.
 * @param[in] rd  the ready of the last raft_ready_get() call.
 */
void raft_advance(raft *r, const raft_ready *rd);

/** @name Observers (for the simulator's checker, tests and statistics)
 *  Each takes the core and returns what its name says.
 * @{ */
/** @brief The role. @param[in] r the core. @return its role. */
raft_role raft_get_role(const raft *r);
/** @brief The current term. @param[in] r the core. @return the term. */
uint64_t raft_get_term(const raft *r);
/** @brief The known leader. @param[in] r the core. @return its id, or RAFT_NONE. */
uint32_t raft_get_leader(const raft *r);
/** @brief This node's id. @param[in] r the core. @return the id. */
uint32_t raft_get_id(const raft *r);
/** @brief The commit index. @param[in] r the core. @return the index. */
uint64_t raft_get_commit(const raft *r);
/** @brief The last log index. @param[in] r the core. @return the index. */
uint64_t raft_get_last_index(const raft *r);
/** @brief The snapshot's index. @param[in] r the core. @return the index (0: none). */
uint64_t raft_get_snap_index(const raft *r);
/** @brief The term of an entry.
 *  @param[in] r the core. @param[in] index the entry.
 *  @return its term; the snapshot's term at the snapshot index; 0 when absent or compacted. */
uint64_t raft_get_term_at(const raft *r, uint64_t index);
/** @brief An entry of the log.
 *  @param[in] r the core. @param[in] index the entry.
 *  @return the entry (valid until the core changes), or NULL when absent or compacted. */
const raft_entry *raft_get_entry(const raft *r, uint64_t index);
/** @} */

/**
 * @brief Deep copy of a message (entries and snapshot chunk included).
 * @param[out] dst  the copy; free it with raft_msg_free().
 * @param[in]  src  the message.
 */
void raft_msg_copy(raft_msg *dst, const raft_msg *src);

/** @brief Free what raft_msg_copy() allocated inside a message.
 *  @param[in,out] m  the copy. */
void raft_msg_free(raft_msg *m);

/** @brief Size of a message on a wire (header plus payload bytes): what RPCBytes counts.
 *  @param[in] m  the message.
 *  @return its size in bytes. */
size_t raft_msg_size(const raft_msg *m);

/** @brief The name of a message type, for traces.
 *  @param[in] type  a raft_msg_type.
 *  @return its name ("APPEND"), or "?". */
const char *raft_msg_type_name(unsigned type);

#ifdef __cplusplus
}
#endif
#endif /* KVLABS_RAFT_H */
