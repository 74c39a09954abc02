/*
 * raft_int.h — private to the Raft core (raft.c, raft_log.c): the in-memory
 * log and the core's state. Nothing outside distributed/raft*.c includes it.
 *
 * The log layers, lowest first:
 *   raft_log.c   the in-memory log: entries after the snapshot, and the
 *                indexes that walk along it (stable <= last, applied <=
 *                committed <= last);
 *   raft.c       the protocol: roles, elections, replication, reads,
 *                snapshots, transfer; builds the ready.
 */
#ifndef KVLABS_RAFT_INT_H
#define KVLABS_RAFT_INT_H

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

#endif /* KVLABS_RAFT_INT_H */
