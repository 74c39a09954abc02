/*
 * raft_core.c — the lowest layer of the Raft core's protocol files: what
 * the frame (raft.c) and its pieces (raft_election.c, raft_replication.c,
 * raft_snapshot.c) all use, so that each of them calls only downward
 * (raft_int.h lists the layers).
 *
 * What it holds: the starter kit's "not implemented" report; an allocation
 * that cannot fail (raft_xrealloc); the size of a majority of the voters
 * (raft_quorum); the outbox (raft_new_msg queues a zeroed message from
 * this node at its term); and the two state changes every piece makes: a
 * new term (raft_reset_term: the vote, the known leader, the votes, the
 * timers, a transfer and the pending reads) and becoming a follower.
 *
 * How it works: plain functions on struct raft (raft_int.h); they call
 * only raft_membership.c (who votes) and kvlabs' common library. The election timeout is drawn in
 * [election_tick, 2*election_tick) from the node's own seeded generator,
 * so a run is deterministic for a seed.
 *
 * What callers must not do: call these from outside the core's files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "kvlabs/kv.h"
#include "raft_int.h"

void raft_not_implemented(const char *fn)
{
    static const char *said[16]; /* __func__ strings already reported */
    size_t i;

    kv_fail(KV_ENOTSUP, "not implemented: %s", fn);
    for (i = 0; i < sizeof(said) / sizeof(said[0]) && said[i]; i++)
        if (said[i] == fn)
            return;
    if (i < sizeof(said) / sizeof(said[0]))
        said[i] = fn;
    fprintf(stderr, "raft: not implemented: %s\n", fn);
}

void *raft_xrealloc(void *p, size_t n)
{
    void *q = kv_realloc(p, n ? n : 1);
    if (q == NULL)
        abort();
    return q;
}

unsigned raft_quorum(const raft *r)
{
    return raft_n_voters(r) / 2 + 1;
}

/* ---- outbox ------------------------------------------------------------ */

raft_msg *raft_new_msg(raft *r, unsigned type, uint32_t to)
{
    if (r->n_msgs == r->cap_msgs) {
        r->cap_msgs = r->cap_msgs ? 2 * r->cap_msgs : 16;
        r->msgs = raft_xrealloc(r->msgs, r->cap_msgs * sizeof *r->msgs);
    }
    raft_msg *m = &r->msgs[r->n_msgs++];
    memset(m, 0, sizeof *m);
    if (type == RAFT_MSG_TIMEOUT_NOW)
        r->lease_off = true; /* a forced election ignores the followers' lease */
    m->type = (uint8_t)type;
    m->from = r->cfg.id;
    m->to = to;
    m->term = r->term;
    return m;
}

/* ---- terms and roles ----------------------------------------------------- */

void raft_reset_timers(raft *r)
{
    r->election_elapsed = 0;
    r->heartbeat_elapsed = 0;
    r->rand_timeout = r->cfg.election_tick + (unsigned)kv_rng_below(&r->rng, r->cfg.election_tick);
}

void raft_reset_term(raft *r, uint64_t term)
{
    if (r->term != term) {
        r->term = term;
        r->vote = RAFT_NONE;
    }
    r->leader = RAFT_NONE;
    memset(r->votes, 0, sizeof r->votes);
    raft_reset_timers(r);
    r->transfer_target = RAFT_NONE;
    r->n_reads = 0; /* a deposed leader's reads never complete: callers time out */
}

void raft_become_follower(raft *r, uint64_t term, uint32_t leader)
{
    raft_reset_term(r, term);
    r->role = RAFT_FOLLOWER;
    r->leader = leader;
}
