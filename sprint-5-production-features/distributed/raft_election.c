/*
 * raft_election.c — leader election: campaigns (PreVote, then a real
 * election, or a forced one after TIMEOUT_NOW), vote granting and counting,
 * and the new leader's first steps (raft_int.h, raft.h).
 *
 * How it works: a campaign resets the node's election state, votes for
 * itself and asks every peer (PREVOTE at term+1 without raising its own
 * term, or VOTE at a raised term). A voter grants at most one vote per term
 * and only to a candidate whose log is at least as up to date as its own
 * (last term, then last index): that check is what makes every elected
 * leader hold every committed entry (leader completeness). A quorum of
 * grants wins; a quorum of refusals ends the campaign. The new leader
 * resets every follower's progress to PROBE at its own last index + 1 and
 * appends an empty entry of its term, whose commitment commits everything
 * before it (Figure 8).
 *
 * What callers must not do: call these outside raft_step()/raft_tick(); the
 * caller (raft.c) has already handled the message's term.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "raft_int.h"

void raft_become_leader(raft *r)
{
    assert(r->role == RAFT_CANDIDATE || raft_n_voters(r) == 1);
    raft_reset_term(r, r->term);
    r->role = RAFT_LEADER;
    r->leader = r->cfg.id;
    r->lease_floor = r->read_round; /* acks of an earlier term give no lease */
    r->lease_off = false;
    uint64_t last = raft_log_last_index(&r->log);
    for (uint32_t i = 0; i < RAFT_MAX_NODES; i++) {
        progress *p = &r->pr[i];
        uint64_t ack = p->read_ack;
        memset(p, 0, sizeof *p);
        p->read_ack = ack;
        p->next = last + 1;
        p->state = PR_PROBE;
        p->active = true;
    }
    r->pr[r->cfg.id].match = r->log.stable;
    /* The empty entry of this term: it commits everything before it. */
    raft_entry e = { .term = r->term, .index = last + 1, .type = RAFT_ENTRY_NOOP };
    raft_log_append(&r->log, &e);
    for (uint32_t i = 0; i < RAFT_MAX_NODES; i++)
        if (raft_is_peer(r, i))
            raft_send_append(r, i, true);
}

static unsigned count_votes(const raft *r, int8_t v)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < RAFT_MAX_NODES; i++)
        n += r->votes[i] == v && raft_is_voter(r, i); /* a learner's answer never counts */
    return n;
}

void raft_campaign(raft *r, int kind)
{
    uint64_t term;
    unsigned type;
    if (kind == CAMPAIGN_PRE) {
        raft_reset_term(r, r->term);
        r->role = RAFT_PRECANDIDATE;
        term = r->term + 1;
        type = RAFT_MSG_PREVOTE;
    } else {
        raft_reset_term(r, r->term + 1);
        r->role = RAFT_CANDIDATE;
        r->vote = r->cfg.id;
        term = r->term;
        type = RAFT_MSG_VOTE;
    }
    r->votes[r->cfg.id] = 1;
    if (count_votes(r, 1) >= raft_quorum(r)) { /* a single node */
        if (kind == CAMPAIGN_PRE)
            raft_campaign(r, CAMPAIGN_ELECTION);
        else
            raft_become_leader(r);
        return;
    }
    for (uint32_t i = 0; i < RAFT_MAX_NODES; i++) {
        if (i == r->cfg.id || !raft_is_voter(r, i))
            continue;
        raft_msg *m = raft_new_msg(r, type, i);
        m->term = term;
        m->index = raft_log_last_index(&r->log);
        m->log_term = raft_log_last_term(&r->log);
        m->force = kind == CAMPAIGN_TRANSFER;
    }
}
/* ---- step ----------------------------------------------------------------- */

static bool log_up_to_date(const raft *r, uint64_t last_term, uint64_t last_index)
{
    /* STUB: (void)r; (void)last_term; (void)last_index; raft_not_implemented(__func__); return false; */
    /* BEGIN SOLUTION */
    uint64_t my_term = raft_log_last_term(&r->log);
    return last_term > my_term ||
           (last_term == my_term && last_index >= raft_log_last_index(&r->log));
    /* END SOLUTION */
}

void raft_handle_vote(raft *r, const raft_msg *m)
{
    /* STUB: (void)r; (void)m; (void)log_up_to_date; raft_not_implemented(__func__); */
    /* BEGIN SOLUTION */
    bool pre = m->type == RAFT_MSG_PREVOTE;
    bool can = r->vote == m->from || (r->vote == RAFT_NONE && r->leader == RAFT_NONE) ||
               (pre && m->term > r->term);
    raft_msg *out = raft_new_msg(r, pre ? RAFT_MSG_PREVOTE_RESP : RAFT_MSG_VOTE_RESP, m->from);
    if (can && log_up_to_date(r, m->log_term, m->index)) {
        out->term = m->term;
        if (!pre) {
            r->vote = m->from;
            r->election_elapsed = 0;
        }
    } else {
        out->reject = true;
    }
    /* END SOLUTION */
}

void raft_handle_vote_resp(raft *r, const raft_msg *m)
{
    /* STUB: (void)r; (void)m; raft_not_implemented(__func__); */
    /* BEGIN SOLUTION */
    bool pre = m->type == RAFT_MSG_PREVOTE_RESP;
    if (pre ? (r->role != RAFT_PRECANDIDATE || m->term != (m->reject ? r->term : r->term + 1))
            : (r->role != RAFT_CANDIDATE || m->term != r->term))
        return;
    if (r->votes[m->from] == 0)
        r->votes[m->from] = m->reject ? -1 : 1;
    if (count_votes(r, 1) >= raft_quorum(r)) {
        if (pre)
            raft_campaign(r, CAMPAIGN_ELECTION);
        else
            raft_become_leader(r);
    } else if (count_votes(r, -1) >= raft_quorum(r)) {
        raft_become_follower(r, r->term, RAFT_NONE);
    }
    /* END SOLUTION */
}

/* Membership (raft_membership.c): a leader that removed itself leads until
 * the removal commits, then steps down and sends TIMEOUT_NOW to the voter
 * with the highest match when that one holds its whole log. */
void raft_step_down_if_removed(raft *r)
{
    /* STUB: (void)r; */
    /* BEGIN SOLUTION */
    if (r->role != RAFT_LEADER || raft_is_voter(r, r->cfg.id) || r->conf_index > r->log.committed)
        return;
    /* Removed, and the removal is committed: hand over and step down. */
    uint32_t best = RAFT_NONE;
    for (uint32_t i = 0; i < RAFT_MAX_NODES; i++)
        if (raft_is_voter(r, i) && i != r->cfg.id &&
            (best == RAFT_NONE || r->pr[i].match > r->pr[best].match))
            best = i;
    bool handover = best != RAFT_NONE && r->pr[best].match == raft_log_last_index(&r->log);
    raft_become_follower(r, r->term, RAFT_NONE);
    if (handover)
        raft_new_msg(r, RAFT_MSG_TIMEOUT_NOW, best);
    /* END SOLUTION */
}
