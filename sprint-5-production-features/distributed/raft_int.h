/*
 * raft_int.h — private to the Raft core (raft.c, raft_election.c,
 * raft_replication.c, raft_snapshot.c, raft_membership.c, raft_core.c,
 * raft_log.c): the in-memory log, the core's state and the functions its
 * files share. Nothing outside distributed/raft*.c includes it.
 *
 * The layers, lowest first (calls go only downward; no two files call
 * each other; scripts/layering_check.py checks it):
 *   raft_log.c         the in-memory log: entries after the snapshot, and
 *                      the indexes that walk along it (stable <= last,
 *                      applied <= committed <= last);
 *   raft_membership.c  the configuration: who votes, who only learns,
 *                      what the log and the snapshot say it is, and
 *                      changes;
 *   raft_core.c        what every piece shares: the outbox, the quorum,
 *                      a new term, becoming a follower;
 *   raft_replication.c AppendEntries both sides, commitment, ReadIndex
 *                      rounds, and sending a snapshot in chunks;
 *   raft_snapshot.c    compaction, InstallSnapshot's answers, both sides;
 *   raft_election.c    campaigns and votes, the new leader's first
 *                      appends;
 *   raft.c             the frame: dispatch, ticks, requests, the ready,
 *                      the life cycle.
 */
#ifndef KVLABS_RAFT_INT_H
#define KVLABS_RAFT_INT_H

#include "kvlabs/rng.h"
#include "raft.h"

/*
 * The in-memory log. ents[i] has index snap_index + 1 + i. Invariants
 * (asserted): applied <= committed <= last index; snap_index <= applied;
 * stable <= last index (entries after stable are not yet on disk).
 */
typedef struct raft_log {
    raft_entry *ents;
    size_t n, cap;
    uint64_t snap_index, snap_term;
    uint64_t committed, applied, stable;
} raft_log;

void raft_log_init(raft_log *l);
void raft_log_free(raft_log *l);
uint64_t raft_log_last_index(const raft_log *l);
uint64_t raft_log_last_term(const raft_log *l);
/* The term of index: true and *term on success; false when the index is
 * compacted (below the snapshot) or past the end. */
bool raft_log_term(const raft_log *l, uint64_t index, uint64_t *term);
const raft_entry *raft_log_at(const raft_log *l, uint64_t index);
/* Append a copy of one entry; its index must be last_index + 1. */
void raft_log_append(raft_log *l, const raft_entry *e);
/* Drop entries from index on (index > committed, > snap_index). */
void raft_log_truncate(raft_log *l, uint64_t index);
/* Drop entries up to index (<= applied), remembering its term. */
void raft_log_compact(raft_log *l, uint64_t index, uint64_t term);
/* Replace everything by a snapshot at (index, term). */
void raft_log_restore(raft_log *l, uint64_t index, uint64_t term);
/* The first index of the run of entries of term that contains index. */
uint64_t raft_log_first_of_term(const raft_log *l, uint64_t index);
/* The last index holding term, or 0 if the log has no entry of term. */
uint64_t raft_log_last_of_term(const raft_log *l, uint64_t term);

/* ---- the core's state ---------------------------------------------------- */


#define MAX_INFLIGHT 64
#define LEASE_ROUNDS 64 /* heartbeat rounds whose send tick is remembered */

enum { PR_PROBE, PR_REPLICATE, PR_SNAPSHOT };
enum { CAMPAIGN_PRE, CAMPAIGN_ELECTION, CAMPAIGN_TRANSFER };

typedef struct progress {
    uint64_t match, next;
    int state;
    bool probe_sent;     /* PROBE: an APPEND is out, wait for its answer */
    bool active;         /* heard from since the last CheckQuorum round */
    uint64_t infl[MAX_INFLIGHT]; /* REPLICATE: last index of each unacked APPEND */
    size_t infl_start, infl_n;
    uint64_t snap_index; /* SNAPSHOT: the snapshot being sent */
    uint64_t snap_offset;/* SNAPSHOT: the chunk being sent */
    uint64_t read_ack;   /* highest ReadIndex round acknowledged */
} progress;

typedef struct pending_read {
    uint64_t ctx, index, round;
} pending_read;

struct raft {
    raft_config cfg;
    uint64_t term;
    uint32_t vote, leader;
    raft_role role;
    raft_log log;
    progress pr[RAFT_MAX_NODES];
    int8_t votes[RAFT_MAX_NODES]; /* 0 unknown, 1 granted, -1 refused */
    unsigned election_elapsed, heartbeat_elapsed, rand_timeout, transfer_elapsed;
    uint32_t transfer_target;
    kv_rng rng;
    raft_msg *msgs;
    size_t n_msgs, cap_msgs;
    uint64_t prev_term; /* the hard state last handed out */
    uint32_t prev_vote;
    raft_snapshot snap; /* the latest snapshot (own or received) */
    bool snap_pending;  /* received: hand it in the next ready */
    uint8_t *in_buf;    /* a snapshot being received */
    uint64_t in_index, in_term, in_size, in_got;
    pending_read *reads;
    size_t n_reads, cap_reads;
    raft_read_state *rs;
    size_t n_rs, cap_rs;
    uint64_t read_round;   /* the last heartbeat round sent */
    uint64_t now;          /* ticks since the core was created */
    uint64_t lease_floor;  /* the last round sent before this leader's term: older acks never count */
    uint64_t round_id[LEASE_ROUNDS], round_tick[LEASE_ROUNDS]; /* when each recent round was sent */
    bool lease_off;        /* TIMEOUT_NOW sent in this term: no lease until the next */
    raft_membership conf;  /* the latest configuration in the log (raft_membership.c) */
    uint64_t conf_index;   /* the entry that set it (0: the snapshot's or the initial one) */
    uint64_t conf_scanned, conf_scanned_term; /* the log was scanned for CONF entries to here */
};

/* ---- raft_core.c: shared by the core's files ------------------------------ */

/* A starter kit's stub was called: set kvlabs' error detail to "not
 * implemented: FN" (KV_ENOTSUP) and say it once per function on stderr
 * (a void handler has no status to return, and the tests print stderr).
 * The reference never calls it. */
void raft_not_implemented(const char *fn);
/* kv_realloc that aborts on failure (the core cannot undo half a step). */
void *raft_xrealloc(void *p, size_t n);
/* Votes or acknowledgements that make a majority. */
unsigned raft_quorum(const raft *r);
/* A zeroed message in the outbox, from this node at its term. */
raft_msg *raft_new_msg(raft *r, unsigned type, uint32_t to);
/* A new term (or the same): clears the vote if the term changed, the known
 * leader, the votes, the timers, a transfer and the pending reads. */
void raft_reset_term(raft *r, uint64_t term);
/* Restart the election and heartbeat timers, with a new random timeout. */
void raft_reset_timers(raft *r);
void raft_become_follower(raft *r, uint64_t term, uint32_t leader);

/* raft_membership.c */
/* Node i votes (is a voter of the latest configuration). */
bool raft_is_voter(const raft *r, uint32_t i);
/* Node i is another member (voter or learner) this node would replicate to. */
bool raft_is_peer(const raft *r, uint32_t i);
/* Number of voters. */
unsigned raft_n_voters(const raft *r);
/* Bring r->conf up to date with the log (after any input that may have
 * appended, truncated or restored it). Cheap: it scans only the entries
 * appended since the last call. Returns whether it changed (*old: before). */
bool raft_conf_refresh(raft *r, raft_membership *old);
/* The configuration a change request leads to (*next), or a raft_conf_err:
 * one change at a time, after a commit of this term; PROMOTE only once the
 * learner caught up. */
int raft_conf_next(const raft *r, int op, uint32_t node, raft_membership *next);

/* raft_election.c */
void raft_become_leader(raft *r);
/* A leader whose removal is committed steps down and hands over. */
void raft_step_down_if_removed(raft *r);
/* kind: CAMPAIGN_PRE, CAMPAIGN_ELECTION or CAMPAIGN_TRANSFER. */
void raft_campaign(raft *r, int kind);
void raft_handle_vote(raft *r, const raft_msg *m);
void raft_handle_vote_resp(raft *r, const raft_msg *m);

/* raft_replication.c */
/* The next chunk of the latest snapshot to a follower in SNAPSHOT state. */
void raft_send_snapshot_chunk(raft *r, uint32_t to);
void raft_send_append(raft *r, uint32_t to, bool allow_empty);
void raft_send_all(raft *r, uint32_t to);
void raft_bcast_heartbeat(raft *r);
void raft_maybe_commit(raft *r);
void raft_push_read_state(raft *r, uint64_t ctx, uint64_t index);
void raft_check_reads(raft *r);
void raft_become_probe(progress *p, uint64_t next);
/* The leader's configuration changed from old: new members start in PROBE,
 * and the commit index is recounted over the new voters. */
void raft_leader_conf_changed(raft *r, raft_membership old);
void raft_leader_append_resp(raft *r, const raft_msg *m);
void raft_leader_heartbeat_resp(raft *r, const raft_msg *m);
/* Raise the commit index to c, capped at the last index. */
void raft_commit_to(raft *r, uint64_t c);
void raft_follower_append(raft *r, const raft_msg *m);
void raft_follower_heartbeat(raft *r, const raft_msg *m);

/* raft_snapshot.c */
void raft_leader_snapshot_resp(raft *r, const raft_msg *m);
void raft_follower_snapshot(raft *r, const raft_msg *m);

#endif /* KVLABS_RAFT_INT_H */
