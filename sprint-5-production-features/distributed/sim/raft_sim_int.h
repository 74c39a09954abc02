/*
 * raft_sim_int.h — private to the simulator (raft_sim.c drives the nodes
 * and the network; raft_sim_check.c checks the safety properties). Layers:
 * raft_sim_check.c (knows nothing of the network) below raft_sim.c.
 */
#ifndef KVLABS_RAFT_SIM_INT_H
#define KVLABS_RAFT_SIM_INT_H

#include "raft_node.h"
#include "raft_sim.h"

/* One node's applied commands: digest[i] for index base + 1 + i. */
typedef struct sim_sm {
    struct raft_sim *sim;
    uint32_t id;
    uint64_t *dig;
    size_t n, cap;
} sim_sm;

/* One entry seen in some log at (index, term). */
typedef struct seen_entry {
    uint64_t term, digest, prev_term;
} seen_entry;

typedef struct sim_checker {
    uint32_t *leader_of_term; /* RAFT_NONE if none seen */
    size_t n_terms;
    uint64_t *committed;      /* digest applied at index i (index 1 at [0]) */
    uint64_t *committed_term; /* its term (0: applied from a snapshot) */
    uint8_t *have;            /* committed[i] is set */
    size_t n_committed;       /* capacity of the three arrays */
    uint64_t max_applied;
    seen_entry **seen;        /* seen[i]: the (term, digest) pairs at index i+1 */
    uint8_t *n_seen, *cap_seen;
    size_t n_index;
    char failure[512];
    bool failed;
} sim_checker;

/* The digest of an entry: RAFT_SIM_NOOP for a leader's empty entry, else
 * raft_sim_digest() of its command (the checker's, used by the state
 * machines too, so both compare the same values). */
uint64_t sim_entry_digest(const raft_entry *e);
void sim_check_init(sim_checker *c);
void sim_check_free(sim_checker *c);
void sim_check_fail(sim_checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A node applied digest at index in term (state-machine safety). */
void sim_check_apply(sim_checker *c, uint32_t node, uint64_t index, uint64_t term, uint64_t digest);
/* Node r (running) after a step: election safety, leader completeness when
 * it just became leader, log matching of its entries from index from on. */
void sim_check_node(sim_checker *c, const raft *r, bool new_leader, uint64_t from);

#endif /* KVLABS_RAFT_SIM_INT_H */
