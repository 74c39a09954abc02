/*
 * raft_replication.c — log replication: the leader's AppendEntries and
 * heartbeats, its answers' handling and commitment, the followers' side,
 * and the ReadIndex rounds carried by the heartbeats (raft_int.h, raft.h).
 *
 * How it works: the leader tracks, per follower, match (highest index known
 * replicated) and next (next index to send) in PROBE (one APPEND at a time,
 * until one is accepted), REPLICATE (optimistic: next advances at once, at
 * most max_inflight unacknowledged messages of at most max_batch entries:
 * pipelining and batching) or SNAPSHOT (the entries it needs are
 * compacted: this file sends the latest snapshot in chunks, and
 * raft_snapshot.c, one layer up, handles the answers). A follower
 * rejects an APPEND whose previous entry it lacks and says why: the term it
 * holds there and that term's first index, or its log length, so the
 * leader skips a whole term per round trip (fast backtracking). The leader
 * commits index N once a quorum's match is >= N and entry N has the current
 * term (Figure 8); a follower commits up to min(leader commit, last new
 * entry). A ReadIndex read is served once a quorum has answered a heartbeat
 * round started after it was asked.
 *
 * What callers must not do: step a follower's handler on a leader or the
 * reverse (raft_step() dispatches by role).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "raft_int.h"

/* The next chunk of the latest snapshot to a follower in SNAPSHOT state
 * (its answers are raft_snapshot.c's). */
void raft_send_snapshot_chunk(raft *r, uint32_t to)
{
    progress *p = &r->pr[to];
    if (p->snap_index != r->snap.index) { /* compacted again meanwhile: restart */
        p->snap_index = r->snap.index;
        p->snap_offset = 0;
    }
    raft_msg *m = raft_new_msg(r, RAFT_MSG_SNAPSHOT, to);
    m->index = r->snap.index;
    m->log_term = r->snap.term;
    m->ctx = (uint64_t)r->snap.conf.voters | (uint64_t)r->snap.conf.learners << 32;
    m->snap_offset = p->snap_offset;
    m->snap_size = r->snap.len;
    size_t left = r->snap.len - (size_t)p->snap_offset;
    m->snap_len = (uint32_t)(left < r->cfg.snapshot_chunk ? left : r->cfg.snapshot_chunk);
    m->snap_data = raft_xrealloc(NULL, m->snap_len);
    if (m->snap_len)
        memcpy(m->snap_data, r->snap.data + p->snap_offset, m->snap_len);
}

void raft_send_append(raft *r, uint32_t to, bool allow_empty)
{
    progress *p = &r->pr[to];
    if (p->state == PR_SNAPSHOT)
        return;
    if (p->state == PR_PROBE && p->probe_sent)
        return;
    if (p->state == PR_REPLICATE && p->infl_n >= r->cfg.max_inflight)
        return;
    uint64_t prev = p->next - 1, prev_term;
    if (!raft_log_term(&r->log, prev, &prev_term)) {
        /* The entries it needs are compacted: send the snapshot. */
        p->state = PR_SNAPSHOT;
        p->snap_index = r->snap.index;
        p->snap_offset = 0;
        raft_send_snapshot_chunk(r, to);
        return;
    }
    uint64_t last = raft_log_last_index(&r->log);
    uint64_t n = last - prev;
    if (n > r->cfg.max_batch)
        n = r->cfg.max_batch;
    if (n == 0 && !allow_empty)
        return;
    raft_msg *m = raft_new_msg(r, RAFT_MSG_APPEND, to);
    m->index = prev;
    m->log_term = prev_term;
    m->commit = r->log.committed;
    m->n_entries = (size_t)n;
    if (n) {
        m->entries = raft_xrealloc(NULL, (size_t)n * sizeof *m->entries);
        for (uint64_t i = 0; i < n; i++) {
            const raft_entry *e = raft_log_at(&r->log, prev + 1 + i);
            m->entries[i] = *e;
            m->entries[i].data = raft_xrealloc(NULL, e->len);
            if (e->len)
                memcpy(m->entries[i].data, e->data, e->len);
        }
    }
    if (p->state == PR_REPLICATE) {
        if (n) {
            p->next = prev + n + 1;
            p->infl[(p->infl_start + p->infl_n) % MAX_INFLIGHT] = prev + n;
            p->infl_n++;
        }
    } else {
        p->probe_sent = true;
    }
}

/* Send everything the follower can take now (pipelining). */
void raft_send_all(raft *r, uint32_t to)
{
    size_t before;
    do {
        before = r->n_msgs;
        raft_send_append(r, to, false);
    } while (r->n_msgs != before && r->pr[to].state == PR_REPLICATE);
}

void raft_bcast_heartbeat(raft *r)
{
    uint64_t round = ++r->read_round;
    r->round_id[round % LEASE_ROUNDS] = round;
    r->round_tick[round % LEASE_ROUNDS] = r->now;
    for (uint32_t i = 0; i < RAFT_MAX_NODES; i++) {
        if (!raft_is_peer(r, i))
            continue;
        raft_msg *m = raft_new_msg(r, RAFT_MSG_HEARTBEAT, i);
        uint64_t c = r->pr[i].match < r->log.committed ? r->pr[i].match : r->log.committed;
        m->commit = c;
        m->ctx = round;
    }
}

void raft_maybe_commit(raft *r)
{
    /* STUB: (void)r; raft_not_implemented(__func__); */
    /* BEGIN SOLUTION */
    uint64_t m[RAFT_MAX_NODES];
    uint32_t n = 0;
    for (uint32_t i = 0; i < RAFT_MAX_NODES; i++)
        if (raft_is_voter(r, i)) /* learners never count; a removed leader neither */
            m[n++] = r->pr[i].match;
    for (uint32_t i = 1; i < n; i++) /* sort descending */
        for (uint32_t j = i; j > 0 && m[j] > m[j - 1]; j--) {
            uint64_t t = m[j];
            m[j] = m[j - 1];
            m[j - 1] = t;
        }
    uint64_t idx = m[raft_quorum(r) - 1], t;
    /* Figure 8: only an entry of the current term is committed by counting. */
    if (idx > r->log.committed && raft_log_term(&r->log, idx, &t) && t == r->term)
        r->log.committed = idx;
    /* END SOLUTION */
}

void raft_push_read_state(raft *r, uint64_t ctx, uint64_t index)
{
    if (r->n_rs == r->cap_rs) {
        r->cap_rs = r->cap_rs ? 2 * r->cap_rs : 8;
        r->rs = raft_xrealloc(r->rs, r->cap_rs * sizeof *r->rs);
    }
    r->rs[r->n_rs++] = (raft_read_state){ .ctx = ctx, .index = index };
}

void raft_check_reads(raft *r)
{
    size_t done = 0;
    while (done < r->n_reads) {
        pending_read *pr = &r->reads[done];
        unsigned acks = raft_is_voter(r, r->cfg.id);
        for (uint32_t i = 0; i < RAFT_MAX_NODES; i++)
            if (i != r->cfg.id && raft_is_voter(r, i) && r->pr[i].read_ack >= pr->round)
                acks++;
        if (acks < raft_quorum(r))
            break;
        raft_push_read_state(r, pr->ctx, pr->index);
        done++;
    }
    if (done && r->n_reads > done)
        memmove(r->reads, r->reads + done, (r->n_reads - done) * sizeof *r->reads);
    r->n_reads -= done;
}
/* ---- leader: receiving -------------------------------------------------- */

void raft_become_probe(progress *p, uint64_t next)
{
    p->state = PR_PROBE;
    p->next = next;
    p->probe_sent = false;
    p->infl_n = 0;
}

void raft_leader_append_resp(raft *r, const raft_msg *m)
{
    progress *p = &r->pr[m->from];
    p->active = true;
    if (m->reject) {
        if (m->index <= p->match)
            return; /* stale */
        if (p->state == PR_PROBE && m->index != p->next - 1)
            return; /* an answer to an older probe */
        uint64_t nn;
        if (m->hint_term == 0) {
            nn = m->hint_index;
        } else {
            uint64_t l = raft_log_last_of_term(&r->log, m->hint_term);
            nn = l ? l + 1 : m->hint_index;
        }
        if (nn > m->index)
            nn = m->index;
        if (nn < p->match + 1)
            nn = p->match + 1;
        raft_become_probe(p, nn);
        raft_send_append(r, m->from, true);
        return;
    }
    p->probe_sent = false;
    if (m->index > p->match) {
        p->match = m->index;
        if (p->next < p->match + 1)
            p->next = p->match + 1;
        if (p->state == PR_PROBE) {
            p->state = PR_REPLICATE;
            p->infl_n = 0;
            p->next = p->match + 1;
        }
        while (p->infl_n && p->infl[p->infl_start] <= m->index) {
            p->infl_start = (p->infl_start + 1) % MAX_INFLIGHT;
            p->infl_n--;
        }
        raft_maybe_commit(r);
        if (r->role != RAFT_LEADER)
            return;
        if (m->from == r->transfer_target && p->match == raft_log_last_index(&r->log))
            raft_new_msg(r, RAFT_MSG_TIMEOUT_NOW, m->from);
    }
    raft_send_all(r, m->from);
}

void raft_leader_heartbeat_resp(raft *r, const raft_msg *m)
{
    progress *p = &r->pr[m->from];
    p->active = true;
    p->probe_sent = false;
    if (m->ctx > p->read_ack)
        p->read_ack = m->ctx;
    raft_check_reads(r);
    if (p->state == PR_SNAPSHOT) {
        raft_send_snapshot_chunk(r, m->from); /* the chunk may have been lost */
    } else if (p->match < raft_log_last_index(&r->log)) {
        /* An APPEND may have been lost: an empty one at next finds out. */
        if (p->state == PR_REPLICATE && p->infl_n >= r->cfg.max_inflight) {
            p->infl_start = (p->infl_start + 1) % MAX_INFLIGHT;
            p->infl_n--;
        }
        raft_send_append(r, m->from, true);
    }
}
/* ---- follower ----------------------------------------------------------- */

void raft_commit_to(raft *r, uint64_t c)
{
    uint64_t last = raft_log_last_index(&r->log);
    if (c > last)
        c = last;
    if (c > r->log.committed)
        r->log.committed = c;
}

void raft_follower_append(raft *r, const raft_msg *m)
{
    /* STUB: (void)r; (void)m; raft_not_implemented(__func__); */
    /* BEGIN SOLUTION */
    raft_msg *out;
    for (size_t i = 0; i < m->n_entries; i++)
        if (m->entries[i].index != m->index + 1 + i)
            return; /* malformed */
    if (m->index < r->log.committed) {
        out = raft_new_msg(r, RAFT_MSG_APPEND_RESP, m->from);
        out->index = r->log.committed;
        return;
    }
    uint64_t t;
    if (raft_log_term(&r->log, m->index, &t) && t == m->log_term) {
        for (size_t i = 0; i < m->n_entries; i++) {
            const raft_entry *e = &m->entries[i];
            uint64_t have;
            if (raft_log_term(&r->log, e->index, &have)) {
                if (have == e->term)
                    continue;
                raft_log_truncate(&r->log, e->index); /* conflict: drop the suffix */
            }
            raft_log_append(&r->log, e);
        }
        uint64_t last_new = m->index + m->n_entries;
        raft_commit_to(r, m->commit < last_new ? m->commit : last_new);
        out = raft_new_msg(r, RAFT_MSG_APPEND_RESP, m->from);
        out->index = last_new;
        return;
    }
    out = raft_new_msg(r, RAFT_MSG_APPEND_RESP, m->from);
    out->reject = true;
    out->index = m->index;
    uint64_t last = raft_log_last_index(&r->log);
    if (m->index > last) {
        out->hint_term = 0;
        out->hint_index = last + 1;
    } else {
        raft_log_term(&r->log, m->index, &t);
        out->hint_term = t;
        out->hint_index = raft_log_first_of_term(&r->log, m->index);
    }
    /* END SOLUTION */
}

void raft_follower_heartbeat(raft *r, const raft_msg *m)
{
    raft_commit_to(r, m->commit);
    raft_msg *out = raft_new_msg(r, RAFT_MSG_HEARTBEAT_RESP, m->from);
    out->ctx = m->ctx;
}

/* The lease: the newest round a quorum (this node included) has answered
 * was sent less than election_tick - lease_margin ticks ago (raft.h). */
int raft_lease_read(const raft *r, uint64_t *index)
{
    uint64_t t;
    if (r->role != RAFT_LEADER || !r->cfg.lease_read || !r->cfg.check_quorum || r->lease_off ||
        !raft_is_voter(r, r->cfg.id) ||
        r->transfer_target != RAFT_NONE || !raft_log_term(&r->log, r->log.committed, &t) ||
        t != r->term)
        return -1;
    uint64_t acks[RAFT_MAX_NODES];
    uint32_t n = 0;
    for (uint32_t i = 0; i < RAFT_MAX_NODES; i++)
        if (i != r->cfg.id && raft_is_voter(r, i))
            acks[n++] = r->pr[i].read_ack;
    if (n) {
        for (uint32_t i = 1; i < n; i++) /* sort descending */
            for (uint32_t j = i; j > 0 && acks[j] > acks[j - 1]; j--) {
                uint64_t x = acks[j];
                acks[j] = acks[j - 1];
                acks[j - 1] = x;
            }
        uint64_t round = acks[raft_quorum(r) - 2]; /* with this node: a quorum */
        const size_t slot = round % LEASE_ROUNDS;
        if (round <= r->lease_floor || r->round_id[slot] != round)
            return -1;
        if (r->now >= r->round_tick[slot] + r->cfg.election_tick - r->cfg.lease_margin)
            return -1; /* expired: another leader may be elected from now on */
    }
    *index = r->log.committed;
    return 0;
}

void raft_leader_conf_changed(raft *r, raft_membership old)
{
    uint32_t added = (r->conf.voters | r->conf.learners) & ~(old.voters | old.learners);
    uint64_t last = raft_log_last_index(&r->log);
    for (uint32_t i = 0; i < RAFT_MAX_NODES; i++) {
        if (!(added & (1u << i)) || i == r->cfg.id)
            continue;
        progress *p = &r->pr[i];
        memset(p, 0, sizeof *p);
        p->next = last + 1;
        p->state = PR_PROBE;
        p->active = true;
        raft_send_append(r, i, true);
    }
    if (old.voters != r->conf.voters)
        raft_maybe_commit(r);
}
