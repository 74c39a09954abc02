/*
 * raft.c — the Raft core's frame: roles, the message dispatch (raft_step),
 * ticks, the requests (propose, ReadIndex, transfer, membership change),
 * the ready hand-off and the life cycle, as a pure state machine (raft.h).
 * The protocol's pieces live in one file each: raft_election.c (campaigns
 * and votes), raft_replication.c (AppendEntries, commitment, ReadIndex
 * rounds), raft_snapshot.c (compaction and InstallSnapshot) and, below
 * them, raft_membership.c (the configuration); raft_int.h holds the state
 * they share.
 *
 * Every input (a tick, a message, a proposal) changes the state and queues
 * messages in an outbox; raft_ready_get() hands the outbox, the entries to
 * persist and the entries to apply to the caller, and raft_advance() moves
 * the stable and applied marks once the caller has done its part.
 *
 * How it works
 * ------------
 * Elections. Followers count ticks since they last heard from a leader; at
 * a randomised timeout in [election_tick, 2*election_tick) they campaign.
 * With PreVote they first become pre-candidates and ask PREVOTE at term+1
 * without raising their own term; only a quorum of "yes" makes them real
 * candidates. A voter grants a vote when it has not voted for another node
 * in the term and the candidate's log is at least as up to date as its own
 * (last term, then last index). With CheckQuorum a node that heard from a
 * leader less than election_tick ago ignores (pre)vote requests of higher
 * terms (the "lease"), and a leader that has not heard from a quorum in an
 * election timeout steps down. raft_leader_lost() is a timing knob for a
 * transport that knows the leader's process is gone: the follower forgets
 * the leader (and so its lease) and times out after the ticks it is given.
 *
 * Replication. The leader tracks, per follower, match (highest index known
 * replicated) and next (next index to send) in one of three states: PROBE
 * (one APPEND at a time, until the follower accepts one), REPLICATE (send
 * optimistically, next advancing at once, at most max_inflight unacked
 * messages of at most max_batch entries: pipelining and batching) and
 * SNAPSHOT (the entries it needs are compacted: send the snapshot in
 * chunks). A follower rejects an APPEND whose previous entry it lacks and
 * says why: the term it holds at that index and the first index of that
 * term (or its log length), so the leader skips a whole term per round
 * trip (fast backtracking). The leader commits index N once a quorum's
 * match is >= N and the entry at N has the current term (Figure 8); its
 * own match is the last entry the caller has made durable.
 *
 * What callers must not do: send messages before persisting the ready that
 * produced them; call into the core between raft_ready_get() and
 * raft_advance().
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/kv.h"
#include "raft_int.h"

static void step(raft *r, const raft_msg *m)
{
    if (m->type < RAFT_MSG_PREVOTE || m->type > RAFT_MSG_TIMEOUT_NOW ||
        m->from >= RAFT_MAX_NODES || m->from == r->cfg.id || m->to != r->cfg.id)
        return;
    bool vote_req = m->type == RAFT_MSG_PREVOTE || m->type == RAFT_MSG_VOTE;
    if (m->term > r->term) {
        if (vote_req && r->cfg.check_quorum && !m->force && r->leader != RAFT_NONE &&
            r->election_elapsed < r->cfg.election_tick)
            return; /* in lease: a leader is alive */
        if (vote_req && r->cfg.check_quorum && !m->force && r->cfg.lease_read &&
            r->now < r->cfg.election_tick)
            return; /* just (re)started: a leader with a lease may be alive */
        if (m->type == RAFT_MSG_PREVOTE || (m->type == RAFT_MSG_PREVOTE_RESP && !m->reject)) {
            /* a pre-vote never changes a term */
        } else {
            bool from_leader = m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT ||
                               m->type == RAFT_MSG_SNAPSHOT;
            raft_become_follower(r, m->term, from_leader ? m->from : RAFT_NONE);
        }
    } else if (m->term < r->term) {
        if ((r->cfg.check_quorum || r->cfg.pre_vote) &&
            (m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT)) {
            raft_new_msg(r, RAFT_MSG_APPEND_RESP, m->from); /* tell the old leader our term */
        } else if (m->type == RAFT_MSG_PREVOTE) {
            raft_msg *out = raft_new_msg(r, RAFT_MSG_PREVOTE_RESP, m->from);
            out->reject = true;
        }
        return;
    }
    switch (m->type) {
    case RAFT_MSG_PREVOTE:
    case RAFT_MSG_VOTE:
        raft_handle_vote(r, m);
        break;
    case RAFT_MSG_PREVOTE_RESP:
    case RAFT_MSG_VOTE_RESP:
        raft_handle_vote_resp(r, m);
        break;
    case RAFT_MSG_APPEND:
    case RAFT_MSG_HEARTBEAT:
    case RAFT_MSG_SNAPSHOT:
        if (r->role == RAFT_LEADER)
            return; /* two leaders in one term cannot happen; ignore garbage */
        if (r->role != RAFT_FOLLOWER)
            raft_become_follower(r, r->term, m->from);
        r->leader = m->from;
        r->election_elapsed = 0;
        if (m->type == RAFT_MSG_APPEND)
            raft_follower_append(r, m);
        else if (m->type == RAFT_MSG_HEARTBEAT)
            raft_follower_heartbeat(r, m);
        else
            raft_follower_snapshot(r, m);
        break;
    case RAFT_MSG_APPEND_RESP:
        if (r->role == RAFT_LEADER)
            raft_leader_append_resp(r, m);
        break;
    case RAFT_MSG_HEARTBEAT_RESP:
        if (r->role == RAFT_LEADER)
            raft_leader_heartbeat_resp(r, m);
        break;
    case RAFT_MSG_SNAPSHOT_RESP:
        if (r->role == RAFT_LEADER)
            raft_leader_snapshot_resp(r, m);
        break;
    case RAFT_MSG_TIMEOUT_NOW:
        if (r->role != RAFT_LEADER && raft_is_voter(r, r->cfg.id))
            raft_campaign(r, CAMPAIGN_TRANSFER);
        break;
    }
}

/* After an input that may have grown, cut or replaced the log: the
 * configuration follows it (raft_membership.c); a leader sets up new
 * members; a leader whose removal committed steps down. */
static void conf_sync(raft *r)
{
    raft_membership old;
    if (raft_conf_refresh(r, &old) && r->role == RAFT_LEADER)
        raft_leader_conf_changed(r, old);
    raft_step_down_if_removed(r);
}

void raft_step(raft *r, const raft_msg *m)
{
    step(r, m);
    conf_sync(r);
}

/* ---- tick and requests -------------------------------------------------- */

void raft_tick(raft *r)
{
    r->now++;
    if (r->role != RAFT_LEADER) {
        if (!raft_is_voter(r, r->cfg.id)) {
            r->election_elapsed = 0; /* a learner or a removed node never campaigns */
            return;
        }
        if (++r->election_elapsed >= r->rand_timeout)
            raft_campaign(r, r->cfg.pre_vote ? CAMPAIGN_PRE : CAMPAIGN_ELECTION);
        return;
    }
    r->heartbeat_elapsed++;
    if (++r->election_elapsed >= r->cfg.election_tick) {
        r->election_elapsed = 0;
        if (r->cfg.check_quorum) {
            unsigned act = raft_is_voter(r, r->cfg.id);
            for (uint32_t i = 0; i < RAFT_MAX_NODES; i++)
                if (i != r->cfg.id) {
                    act += r->pr[i].active && raft_is_voter(r, i);
                    r->pr[i].active = false;
                }
            if (act < raft_quorum(r)) {
                raft_become_follower(r, r->term, RAFT_NONE);
                return;
            }
        }
    }
    if (r->transfer_target != RAFT_NONE && ++r->transfer_elapsed >= r->cfg.election_tick)
        r->transfer_target = RAFT_NONE; /* gave up */
    if (r->heartbeat_elapsed >= r->cfg.heartbeat_tick) {
        r->heartbeat_elapsed = 0;
        raft_bcast_heartbeat(r);
    }
}

void raft_leader_lost(raft *r, uint32_t leader, unsigned ticks)
{
    if (r->role != RAFT_FOLLOWER || r->leader != leader || leader == RAFT_NONE ||
        r->cfg.lease_read)
        return;
    r->leader = RAFT_NONE;
    r->election_elapsed = 0;
    r->rand_timeout = ticks ? ticks : 1;
}

int raft_propose(raft *r, const void *data, uint32_t len, uint64_t *index, uint64_t *term)
{
    if (r->role != RAFT_LEADER || r->transfer_target != RAFT_NONE)
        return -1;
    raft_entry e = { .term = r->term, .index = raft_log_last_index(&r->log) + 1,
                     .type = RAFT_ENTRY_NORMAL, .len = len, .data = (uint8_t *)data };
    raft_log_append(&r->log, &e);
    for (uint32_t i = 0; i < RAFT_MAX_NODES; i++)
        if (raft_is_peer(r, i))
            raft_send_all(r, i);
    if (index)
        *index = e.index;
    if (term)
        *term = e.term;
    return 0;
}

int raft_read_index(raft *r, uint64_t ctx)
{
    uint64_t t;
    if (r->role != RAFT_LEADER || !raft_log_term(&r->log, r->log.committed, &t) || t != r->term)
        return -1;
    if (raft_n_voters(r) == 1 && raft_is_voter(r, r->cfg.id)) {
        raft_push_read_state(r, ctx, r->log.committed);
        return 0;
    }
    if (r->n_reads == r->cap_reads) {
        r->cap_reads = r->cap_reads ? 2 * r->cap_reads : 8;
        r->reads = raft_xrealloc(r->reads, r->cap_reads * sizeof *r->reads);
    }
    r->reads[r->n_reads++] = (pending_read){ .ctx = ctx, .index = r->log.committed,
                                             .round = r->read_round + 1 };
    raft_bcast_heartbeat(r);
    return 0;
}

int raft_change_conf(raft *r, int op, uint32_t node, uint64_t *index)
{
    if (r->role != RAFT_LEADER || r->transfer_target != RAFT_NONE)
        return RAFT_CONF_ENOTLEADER;
    raft_membership c;
    int rc = raft_conf_next(r, op, node, &c);
    if (rc)
        return rc;
    uint8_t data[RAFT_CONF_LEN];
    raft_conf_encode(&c, data);
    raft_entry e = { .term = r->term, .index = raft_log_last_index(&r->log) + 1,
                     .type = RAFT_ENTRY_CONF, .len = RAFT_CONF_LEN, .data = data };
    raft_log_append(&r->log, &e);
    conf_sync(r); /* in force at once: a new member gets its progress */
    for (uint32_t i = 0; i < RAFT_MAX_NODES; i++)
        if (raft_is_peer(r, i))
            raft_send_all(r, i);
    if (index)
        *index = e.index;
    return 0;
}

int raft_transfer_leader(raft *r, uint32_t target)
{
    if (r->role != RAFT_LEADER || !raft_is_peer(r, target) || !raft_is_voter(r, target))
        return -1;
    r->transfer_target = target;
    r->transfer_elapsed = 0;
    if (r->pr[target].match == raft_log_last_index(&r->log))
        raft_new_msg(r, RAFT_MSG_TIMEOUT_NOW, target);
    else
        raft_send_append(r, target, true);
    return 0;
}


/* ---- ready ---------------------------------------------------------------- */

bool raft_has_ready(const raft *r)
{
    return r->n_msgs || r->snap_pending || r->log.stable < raft_log_last_index(&r->log) ||
           r->log.applied < r->log.committed || r->term != r->prev_term ||
           r->vote != r->prev_vote || r->n_rs;
}

void raft_ready_get(raft *r, raft_ready *rd)
{
    memset(rd, 0, sizeof *rd);
    rd->hs = (raft_hard_state){ .term = r->term, .vote = r->vote, .commit = r->log.committed };
    rd->hs_changed = r->term != r->prev_term || r->vote != r->prev_vote;
    if (r->snap_pending)
        rd->snap = &r->snap;
    raft_log *l = &r->log;
    uint64_t last = raft_log_last_index(l);
    if (l->stable < last) {
        rd->entries = &l->ents[l->stable - l->snap_index];
        rd->n_entries = (size_t)(last - l->stable);
    }
    if (l->applied < l->committed) {
        rd->committed = &l->ents[l->applied - l->snap_index];
        rd->n_committed = (size_t)(l->committed - l->applied);
    }
    rd->msgs = r->msgs;
    rd->n_msgs = r->n_msgs;
    rd->reads = r->rs;
    rd->n_reads = r->n_rs;
}

void raft_advance(raft *r, const raft_ready *rd)
{
    r->prev_term = rd->hs.term;
    r->prev_vote = rd->hs.vote;
    if (rd->snap)
        r->snap_pending = false;
    if (rd->n_entries)
        r->log.stable = rd->entries[rd->n_entries - 1].index;
    if (rd->n_committed)
        r->log.applied = rd->committed[rd->n_committed - 1].index;
    for (size_t i = 0; i < rd->n_msgs; i++)
        raft_msg_free(&r->msgs[i]);
    if (rd->n_msgs && r->n_msgs > rd->n_msgs)
        memmove(r->msgs, r->msgs + rd->n_msgs, (r->n_msgs - rd->n_msgs) * sizeof *r->msgs);
    r->n_msgs -= rd->n_msgs;
    if (rd->n_reads && r->n_rs > rd->n_reads)
        memmove(r->rs, r->rs + rd->n_reads, (r->n_rs - rd->n_reads) * sizeof *r->rs);
    r->n_rs -= rd->n_reads;
    if (r->role == RAFT_LEADER) {
        r->pr[r->cfg.id].match = r->log.stable;
        raft_maybe_commit(r);
        raft_step_down_if_removed(r);
    }
}

/* ---- life cycle and observers -------------------------------------------- */

void raft_config_default(raft_config *cfg, uint32_t id, uint32_t n_nodes, uint64_t seed)
{
    *cfg = (raft_config){ .id = id, .n_nodes = n_nodes, .election_tick = 30,
                          .heartbeat_tick = 10, .pre_vote = true, .check_quorum = true,
                          .max_batch = 64, .max_inflight = 8, .snapshot_chunk = 16384,
                          .seed = seed, .lease_read = false, .lease_margin = 6 };
}

raft *raft_new(const raft_config *cfg, const raft_boot *boot)
{
    assert(cfg->n_nodes >= 1 && cfg->n_nodes <= RAFT_MAX_NODES && cfg->id < RAFT_MAX_NODES);
    assert(cfg->heartbeat_tick >= 1 && cfg->election_tick >= 2 * cfg->heartbeat_tick);
    assert(cfg->max_batch >= 1 && cfg->max_inflight >= 1 && cfg->max_inflight <= MAX_INFLIGHT);
    assert(cfg->snapshot_chunk >= 1);
    assert(!cfg->lease_read || cfg->lease_margin < cfg->election_tick);
    raft *r = kv_calloc(1, sizeof *r);
    if (r == NULL)
        abort();
    r->cfg = *cfg;
    kv_rng_seed(&r->rng, cfg->seed * 0x9E3779B97F4A7C15ull + cfg->id);
    raft_log_init(&r->log);
    r->vote = r->leader = r->transfer_target = RAFT_NONE;
    if (boot) {
        r->term = boot->hs.term;
        r->vote = boot->hs.vote;
        if (boot->snap.index) {
            raft_log_restore(&r->log, boot->snap.index, boot->snap.term);
            r->snap = boot->snap;
            r->snap.data = raft_xrealloc(NULL, boot->snap.len);
            if (boot->snap.len)
                memcpy(r->snap.data, boot->snap.data, boot->snap.len);
        }
        for (size_t i = 0; i < boot->n_entries; i++)
            raft_log_append(&r->log, &boot->entries[i]);
        r->log.stable = raft_log_last_index(&r->log);
        raft_commit_to(r, boot->hs.commit);
    }
    r->conf_scanned_term = UINT64_MAX; /* scan the whole log for its configuration */
    raft_membership old;
    raft_conf_refresh(r, &old);
    r->prev_term = r->term;
    r->prev_vote = r->vote;
    r->role = RAFT_FOLLOWER;
    raft_reset_timers(r);
    return r;
}

void raft_free(raft *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_msgs; i++)
        raft_msg_free(&r->msgs[i]);
    kv_free(r->msgs);
    raft_log_free(&r->log);
    kv_free(r->snap.data);
    kv_free(r->in_buf);
    kv_free(r->reads);
    kv_free(r->rs);
    kv_free(r);
}

raft_role raft_get_role(const raft *r) { return r->role; }
uint64_t raft_get_term(const raft *r) { return r->term; }
uint32_t raft_get_leader(const raft *r) { return r->leader; }
uint32_t raft_get_id(const raft *r) { return r->cfg.id; }
uint64_t raft_get_commit(const raft *r) { return r->log.committed; }
uint64_t raft_get_last_index(const raft *r) { return raft_log_last_index(&r->log); }
uint64_t raft_get_snap_index(const raft *r) { return r->log.snap_index; }

uint64_t raft_get_term_at(const raft *r, uint64_t index)
{
    uint64_t t;
    return raft_log_term(&r->log, index, &t) ? t : 0;
}

const raft_entry *raft_get_entry(const raft *r, uint64_t index)
{
    return raft_log_at(&r->log, index);
}
