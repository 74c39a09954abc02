/*
 * raft.c — the Raft protocol: roles, elections, replication, snapshots,
 * ReadIndex and leadership transfer, as a pure state machine (raft.h).
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
 * election timeout steps down.
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
#include "kvlabs/rng.h"
#include "raft_int.h"

#define MAX_INFLIGHT 64

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
    uint64_t read_round;
};

static void *xrealloc(void *p, size_t n)
{
    void *q = kv_realloc(p, n ? n : 1);
    if (q == NULL)
        abort();
    return q;
}

static unsigned quorum(const raft *r)
{
    return r->cfg.n_nodes / 2 + 1;
}

/* ---- outbox ------------------------------------------------------------ */

static raft_msg *new_msg(raft *r, unsigned type, uint32_t to)
{
    if (r->n_msgs == r->cap_msgs) {
        r->cap_msgs = r->cap_msgs ? 2 * r->cap_msgs : 16;
        r->msgs = xrealloc(r->msgs, r->cap_msgs * sizeof *r->msgs);
    }
    raft_msg *m = &r->msgs[r->n_msgs++];
    memset(m, 0, sizeof *m);
    m->type = (uint8_t)type;
    m->from = r->cfg.id;
    m->to = to;
    m->term = r->term;
    return m;
}

/* ---- roles ------------------------------------------------------------- */

static void reset_timers(raft *r)
{
    r->election_elapsed = 0;
    r->heartbeat_elapsed = 0;
    r->rand_timeout = r->cfg.election_tick + (unsigned)kv_rng_below(&r->rng, r->cfg.election_tick);
}

static void reset_term(raft *r, uint64_t term)
{
    if (r->term != term) {
        r->term = term;
        r->vote = RAFT_NONE;
    }
    r->leader = RAFT_NONE;
    memset(r->votes, 0, sizeof r->votes);
    reset_timers(r);
    r->transfer_target = RAFT_NONE;
    r->n_reads = 0; /* a deposed leader's reads never complete: callers time out */
}

static void become_follower(raft *r, uint64_t term, uint32_t leader)
{
    reset_term(r, term);
    r->role = RAFT_FOLLOWER;
    r->leader = leader;
}

static void send_append(raft *r, uint32_t to, bool allow_empty);

static void become_leader(raft *r)
{
    assert(r->role == RAFT_CANDIDATE || r->cfg.n_nodes == 1);
    reset_term(r, r->term);
    r->role = RAFT_LEADER;
    r->leader = r->cfg.id;
    uint64_t last = raft_log_last_index(&r->log);
    for (uint32_t i = 0; i < r->cfg.n_nodes; i++) {
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
    for (uint32_t i = 0; i < r->cfg.n_nodes; i++)
        if (i != r->cfg.id)
            send_append(r, i, true);
}

static void campaign(raft *r, int kind);

static unsigned count_votes(const raft *r, int8_t v)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < r->cfg.n_nodes; i++)
        n += r->votes[i] == v;
    return n;
}

static void campaign(raft *r, int kind)
{
    uint64_t term;
    unsigned type;
    if (kind == CAMPAIGN_PRE) {
        reset_term(r, r->term);
        r->role = RAFT_PRECANDIDATE;
        term = r->term + 1;
        type = RAFT_MSG_PREVOTE;
    } else {
        reset_term(r, r->term + 1);
        r->role = RAFT_CANDIDATE;
        r->vote = r->cfg.id;
        term = r->term;
        type = RAFT_MSG_VOTE;
    }
    r->votes[r->cfg.id] = 1;
    if (count_votes(r, 1) >= quorum(r)) { /* a single node */
        if (kind == CAMPAIGN_PRE)
            campaign(r, CAMPAIGN_ELECTION);
        else
            become_leader(r);
        return;
    }
    for (uint32_t i = 0; i < r->cfg.n_nodes; i++) {
        if (i == r->cfg.id)
            continue;
        raft_msg *m = new_msg(r, type, i);
        m->term = term;
        m->index = raft_log_last_index(&r->log);
        m->log_term = raft_log_last_term(&r->log);
        m->force = kind == CAMPAIGN_TRANSFER;
    }
}

/* ---- leader: sending ---------------------------------------------------- */

static void send_snapshot_chunk(raft *r, uint32_t to)
{
    progress *p = &r->pr[to];
    if (p->snap_index != r->snap.index) { /* compacted again meanwhile: restart */
        p->snap_index = r->snap.index;
        p->snap_offset = 0;
    }
    raft_msg *m = new_msg(r, RAFT_MSG_SNAPSHOT, to);
    m->index = r->snap.index;
    m->log_term = r->snap.term;
    m->snap_offset = p->snap_offset;
    m->snap_size = r->snap.len;
    size_t left = r->snap.len - (size_t)p->snap_offset;
    m->snap_len = (uint32_t)(left < r->cfg.snapshot_chunk ? left : r->cfg.snapshot_chunk);
    m->snap_data = xrealloc(NULL, m->snap_len);
    if (m->snap_len)
        memcpy(m->snap_data, r->snap.data + p->snap_offset, m->snap_len);
}

static void send_append(raft *r, uint32_t to, bool allow_empty)
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
        send_snapshot_chunk(r, to);
        return;
    }
    uint64_t last = raft_log_last_index(&r->log);
    uint64_t n = last - prev;
    if (n > r->cfg.max_batch)
        n = r->cfg.max_batch;
    if (n == 0 && !allow_empty)
        return;
    raft_msg *m = new_msg(r, RAFT_MSG_APPEND, to);
    m->index = prev;
    m->log_term = prev_term;
    m->commit = r->log.committed;
    m->n_entries = (size_t)n;
    if (n) {
        m->entries = xrealloc(NULL, (size_t)n * sizeof *m->entries);
        for (uint64_t i = 0; i < n; i++) {
            const raft_entry *e = raft_log_at(&r->log, prev + 1 + i);
            m->entries[i] = *e;
            m->entries[i].data = xrealloc(NULL, e->len);
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
static void send_all(raft *r, uint32_t to)
{
    size_t before;
    do {
        before = r->n_msgs;
        send_append(r, to, false);
    } while (r->n_msgs != before && r->pr[to].state == PR_REPLICATE);
}

static void bcast_heartbeat(raft *r)
{
    for (uint32_t i = 0; i < r->cfg.n_nodes; i++) {
        if (i == r->cfg.id)
            continue;
        raft_msg *m = new_msg(r, RAFT_MSG_HEARTBEAT, i);
        uint64_t c = r->pr[i].match < r->log.committed ? r->pr[i].match : r->log.committed;
        m->commit = c;
        m->ctx = r->read_round;
    }
}

static void maybe_commit(raft *r)
{
    uint64_t m[RAFT_MAX_NODES];
    uint32_t n = r->cfg.n_nodes;
    for (uint32_t i = 0; i < n; i++)
        m[i] = r->pr[i].match;
    for (uint32_t i = 1; i < n; i++) /* sort descending */
        for (uint32_t j = i; j > 0 && m[j] > m[j - 1]; j--) {
            uint64_t t = m[j];
            m[j] = m[j - 1];
            m[j - 1] = t;
        }
    uint64_t idx = m[quorum(r) - 1], t;
    /* Figure 8: only an entry of the current term is committed by counting. */
    if (idx > r->log.committed && raft_log_term(&r->log, idx, &t) && t == r->term)
        r->log.committed = idx;
}

static void push_read_state(raft *r, uint64_t ctx, uint64_t index)
{
    if (r->n_rs == r->cap_rs) {
        r->cap_rs = r->cap_rs ? 2 * r->cap_rs : 8;
        r->rs = xrealloc(r->rs, r->cap_rs * sizeof *r->rs);
    }
    r->rs[r->n_rs++] = (raft_read_state){ .ctx = ctx, .index = index };
}

static void check_reads(raft *r)
{
    size_t done = 0;
    while (done < r->n_reads) {
        pending_read *pr = &r->reads[done];
        unsigned acks = 1;
        for (uint32_t i = 0; i < r->cfg.n_nodes; i++)
            if (i != r->cfg.id && r->pr[i].read_ack >= pr->round)
                acks++;
        if (acks < quorum(r))
            break;
        push_read_state(r, pr->ctx, pr->index);
        done++;
    }
    if (done && r->n_reads > done)
        memmove(r->reads, r->reads + done, (r->n_reads - done) * sizeof *r->reads);
    r->n_reads -= done;
}

/* ---- leader: receiving -------------------------------------------------- */

static void become_probe(progress *p, uint64_t next)
{
    p->state = PR_PROBE;
    p->next = next;
    p->probe_sent = false;
    p->infl_n = 0;
}

static void leader_append_resp(raft *r, const raft_msg *m)
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
        become_probe(p, nn);
        send_append(r, m->from, true);
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
        maybe_commit(r);
        if (r->role != RAFT_LEADER)
            return;
        if (m->from == r->transfer_target && p->match == raft_log_last_index(&r->log))
            new_msg(r, RAFT_MSG_TIMEOUT_NOW, m->from);
    }
    send_all(r, m->from);
}

static void leader_heartbeat_resp(raft *r, const raft_msg *m)
{
    progress *p = &r->pr[m->from];
    p->active = true;
    p->probe_sent = false;
    if (m->ctx > p->read_ack)
        p->read_ack = m->ctx;
    check_reads(r);
    if (p->state == PR_SNAPSHOT) {
        send_snapshot_chunk(r, m->from); /* the chunk may have been lost */
    } else if (p->match < raft_log_last_index(&r->log)) {
        /* An APPEND may have been lost: an empty one at next finds out. */
        if (p->state == PR_REPLICATE && p->infl_n >= r->cfg.max_inflight) {
            p->infl_start = (p->infl_start + 1) % MAX_INFLIGHT;
            p->infl_n--;
        }
        send_append(r, m->from, true);
    }
}

static void leader_snapshot_resp(raft *r, const raft_msg *m)
{
    progress *p = &r->pr[m->from];
    p->active = true;
    if (p->state != PR_SNAPSHOT)
        return;
    if (m->index != p->snap_index || p->snap_index != r->snap.index) {
        p->snap_offset = 0;
        send_snapshot_chunk(r, m->from);
        return;
    }
    if (m->snap_offset >= r->snap.len) { /* installed */
        if (m->index > p->match)
            p->match = m->index;
        become_probe(p, p->match + 1);
        maybe_commit(r);
        send_append(r, m->from, true);
        return;
    }
    if (m->snap_offset == p->snap_offset)
        return; /* a duplicate answer */
    p->snap_offset = m->snap_offset;
    send_snapshot_chunk(r, m->from);
}

/* ---- follower ----------------------------------------------------------- */

static void commit_to(raft *r, uint64_t c)
{
    uint64_t last = raft_log_last_index(&r->log);
    if (c > last)
        c = last;
    if (c > r->log.committed)
        r->log.committed = c;
}

static void follower_append(raft *r, const raft_msg *m)
{
    raft_msg *out;
    for (size_t i = 0; i < m->n_entries; i++)
        if (m->entries[i].index != m->index + 1 + i)
            return; /* malformed */
    if (m->index < r->log.committed) {
        out = new_msg(r, RAFT_MSG_APPEND_RESP, m->from);
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
        commit_to(r, m->commit < last_new ? m->commit : last_new);
        out = new_msg(r, RAFT_MSG_APPEND_RESP, m->from);
        out->index = last_new;
        return;
    }
    out = new_msg(r, RAFT_MSG_APPEND_RESP, m->from);
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
}

static void follower_heartbeat(raft *r, const raft_msg *m)
{
    commit_to(r, m->commit);
    raft_msg *out = new_msg(r, RAFT_MSG_HEARTBEAT_RESP, m->from);
    out->ctx = m->ctx;
}

static void follower_snapshot(raft *r, const raft_msg *m)
{
    raft_msg *out = new_msg(r, RAFT_MSG_SNAPSHOT_RESP, m->from);
    out->index = m->index;
    if (m->index <= r->log.committed) { /* already have all of it */
        out->snap_offset = m->snap_size;
        return;
    }
    if (m->snap_offset == 0) {
        kv_free(r->in_buf);
        r->in_buf = xrealloc(NULL, (size_t)m->snap_size);
        r->in_index = m->index;
        r->in_term = m->log_term;
        r->in_size = m->snap_size;
        r->in_got = 0;
    }
    if (r->in_buf == NULL || r->in_index != m->index || r->in_term != m->log_term ||
        r->in_size != m->snap_size) {
        out->snap_offset = 0; /* start again */
        return;
    }
    if (m->snap_offset != r->in_got || m->snap_len > r->in_size - r->in_got) {
        out->snap_offset = r->in_got; /* out of order: ask for what is next */
        return;
    }
    if (m->snap_len)
        memcpy(r->in_buf + r->in_got, m->snap_data, m->snap_len);
    r->in_got += m->snap_len;
    out->snap_offset = r->in_got;
    if (r->in_got < r->in_size)
        return;
    uint64_t t;
    if (raft_log_term(&r->log, m->index, &t) && t == m->log_term) {
        commit_to(r, m->index); /* the log already holds it: keep what follows */
    } else {
        raft_log_restore(&r->log, m->index, m->log_term);
        kv_free(r->snap.data);
        r->snap = (raft_snapshot){ .index = m->index, .term = m->log_term,
                                   .len = (size_t)r->in_size, .data = r->in_buf };
        r->in_buf = NULL;
        r->snap_pending = true;
    }
    kv_free(r->in_buf);
    r->in_buf = NULL;
}

/* ---- step ----------------------------------------------------------------- */

static bool log_up_to_date(const raft *r, uint64_t last_term, uint64_t last_index)
{
    uint64_t my_term = raft_log_last_term(&r->log);
    return last_term > my_term ||
           (last_term == my_term && last_index >= raft_log_last_index(&r->log));
}

static void handle_vote(raft *r, const raft_msg *m)
{
    bool pre = m->type == RAFT_MSG_PREVOTE;
    bool can = r->vote == m->from || (r->vote == RAFT_NONE && r->leader == RAFT_NONE) ||
               (pre && m->term > r->term);
    raft_msg *out = new_msg(r, pre ? RAFT_MSG_PREVOTE_RESP : RAFT_MSG_VOTE_RESP, m->from);
    if (can && log_up_to_date(r, m->log_term, m->index)) {
        out->term = m->term;
        if (!pre) {
            r->vote = m->from;
            r->election_elapsed = 0;
        }
    } else {
        out->reject = true;
    }
}

static void handle_vote_resp(raft *r, const raft_msg *m)
{
    bool pre = m->type == RAFT_MSG_PREVOTE_RESP;
    if (pre ? (r->role != RAFT_PRECANDIDATE || m->term != (m->reject ? r->term : r->term + 1))
            : (r->role != RAFT_CANDIDATE || m->term != r->term))
        return;
    if (r->votes[m->from] == 0)
        r->votes[m->from] = m->reject ? -1 : 1;
    if (count_votes(r, 1) >= quorum(r)) {
        if (pre)
            campaign(r, CAMPAIGN_ELECTION);
        else
            become_leader(r);
    } else if (count_votes(r, -1) >= quorum(r)) {
        become_follower(r, r->term, RAFT_NONE);
    }
}

void raft_step(raft *r, const raft_msg *m)
{
    if (m->type < RAFT_MSG_PREVOTE || m->type > RAFT_MSG_TIMEOUT_NOW ||
        m->from >= r->cfg.n_nodes || m->from == r->cfg.id || m->to != r->cfg.id)
        return;
    bool vote_req = m->type == RAFT_MSG_PREVOTE || m->type == RAFT_MSG_VOTE;
    if (m->term > r->term) {
        if (vote_req && r->cfg.check_quorum && !m->force && r->leader != RAFT_NONE &&
            r->election_elapsed < r->cfg.election_tick)
            return; /* in lease: a leader is alive */
        if (m->type == RAFT_MSG_PREVOTE || (m->type == RAFT_MSG_PREVOTE_RESP && !m->reject)) {
            /* a pre-vote never changes a term */
        } else {
            bool from_leader = m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT ||
                               m->type == RAFT_MSG_SNAPSHOT;
            become_follower(r, m->term, from_leader ? m->from : RAFT_NONE);
        }
    } else if (m->term < r->term) {
        if ((r->cfg.check_quorum || r->cfg.pre_vote) &&
            (m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT)) {
            new_msg(r, RAFT_MSG_APPEND_RESP, m->from); /* tell the old leader our term */
        } else if (m->type == RAFT_MSG_PREVOTE) {
            raft_msg *out = new_msg(r, RAFT_MSG_PREVOTE_RESP, m->from);
            out->reject = true;
        }
        return;
    }
    switch (m->type) {
    case RAFT_MSG_PREVOTE:
    case RAFT_MSG_VOTE:
        handle_vote(r, m);
        break;
    case RAFT_MSG_PREVOTE_RESP:
    case RAFT_MSG_VOTE_RESP:
        handle_vote_resp(r, m);
        break;
    case RAFT_MSG_APPEND:
    case RAFT_MSG_HEARTBEAT:
    case RAFT_MSG_SNAPSHOT:
        if (r->role == RAFT_LEADER)
            return; /* two leaders in one term cannot happen; ignore garbage */
        if (r->role != RAFT_FOLLOWER)
            become_follower(r, r->term, m->from);
        r->leader = m->from;
        r->election_elapsed = 0;
        if (m->type == RAFT_MSG_APPEND)
            follower_append(r, m);
        else if (m->type == RAFT_MSG_HEARTBEAT)
            follower_heartbeat(r, m);
        else
            follower_snapshot(r, m);
        break;
    case RAFT_MSG_APPEND_RESP:
        if (r->role == RAFT_LEADER)
            leader_append_resp(r, m);
        break;
    case RAFT_MSG_HEARTBEAT_RESP:
        if (r->role == RAFT_LEADER)
            leader_heartbeat_resp(r, m);
        break;
    case RAFT_MSG_SNAPSHOT_RESP:
        if (r->role == RAFT_LEADER)
            leader_snapshot_resp(r, m);
        break;
    case RAFT_MSG_TIMEOUT_NOW:
        if (r->role != RAFT_LEADER)
            campaign(r, CAMPAIGN_TRANSFER);
        break;
    }
}

/* ---- tick and requests -------------------------------------------------- */

void raft_tick(raft *r)
{
    if (r->role != RAFT_LEADER) {
        if (++r->election_elapsed >= r->rand_timeout)
            campaign(r, r->cfg.pre_vote ? CAMPAIGN_PRE : CAMPAIGN_ELECTION);
        return;
    }
    r->heartbeat_elapsed++;
    if (++r->election_elapsed >= r->cfg.election_tick) {
        r->election_elapsed = 0;
        if (r->cfg.check_quorum) {
            unsigned act = 1;
            for (uint32_t i = 0; i < r->cfg.n_nodes; i++)
                if (i != r->cfg.id) {
                    act += r->pr[i].active;
                    r->pr[i].active = false;
                }
            if (act < quorum(r)) {
                become_follower(r, r->term, RAFT_NONE);
                return;
            }
        }
    }
    if (r->transfer_target != RAFT_NONE && ++r->transfer_elapsed >= r->cfg.election_tick)
        r->transfer_target = RAFT_NONE; /* gave up */
    if (r->heartbeat_elapsed >= r->cfg.heartbeat_tick) {
        r->heartbeat_elapsed = 0;
        bcast_heartbeat(r);
    }
}

int raft_propose(raft *r, const void *data, uint32_t len, uint64_t *index, uint64_t *term)
{
    if (r->role != RAFT_LEADER || r->transfer_target != RAFT_NONE)
        return -1;
    raft_entry e = { .term = r->term, .index = raft_log_last_index(&r->log) + 1,
                     .type = RAFT_ENTRY_NORMAL, .len = len, .data = (uint8_t *)data };
    raft_log_append(&r->log, &e);
    for (uint32_t i = 0; i < r->cfg.n_nodes; i++)
        if (i != r->cfg.id)
            send_all(r, i);
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
    if (r->cfg.n_nodes == 1) {
        push_read_state(r, ctx, r->log.committed);
        return 0;
    }
    if (r->n_reads == r->cap_reads) {
        r->cap_reads = r->cap_reads ? 2 * r->cap_reads : 8;
        r->reads = xrealloc(r->reads, r->cap_reads * sizeof *r->reads);
    }
    r->reads[r->n_reads++] = (pending_read){ .ctx = ctx, .index = r->log.committed,
                                             .round = ++r->read_round };
    bcast_heartbeat(r);
    return 0;
}

int raft_transfer_leader(raft *r, uint32_t target)
{
    if (r->role != RAFT_LEADER || target >= r->cfg.n_nodes || target == r->cfg.id)
        return -1;
    r->transfer_target = target;
    r->transfer_elapsed = 0;
    if (r->pr[target].match == raft_log_last_index(&r->log))
        new_msg(r, RAFT_MSG_TIMEOUT_NOW, target);
    else
        send_append(r, target, true);
    return 0;
}

int raft_compact(raft *r, uint64_t index, const void *data, size_t len)
{
    uint64_t t;
    if (index > r->log.applied || index <= r->log.snap_index || !raft_log_term(&r->log, index, &t))
        return -1;
    raft_log_compact(&r->log, index, t);
    kv_free(r->snap.data);
    r->snap = (raft_snapshot){ .index = index, .term = t, .len = len, .data = xrealloc(NULL, len) };
    if (len)
        memcpy(r->snap.data, data, len);
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
        maybe_commit(r);
    }
}

/* ---- life cycle and observers -------------------------------------------- */

void raft_config_default(raft_config *cfg, uint32_t id, uint32_t n_nodes, uint64_t seed)
{
    *cfg = (raft_config){ .id = id, .n_nodes = n_nodes, .election_tick = 30,
                          .heartbeat_tick = 10, .pre_vote = true, .check_quorum = true,
                          .max_batch = 64, .max_inflight = 8, .snapshot_chunk = 16384,
                          .seed = seed };
}

raft *raft_new(const raft_config *cfg, const raft_boot *boot)
{
    assert(cfg->n_nodes >= 1 && cfg->n_nodes <= RAFT_MAX_NODES && cfg->id < cfg->n_nodes);
    assert(cfg->heartbeat_tick >= 1 && cfg->election_tick >= 2 * cfg->heartbeat_tick);
    assert(cfg->max_batch >= 1 && cfg->max_inflight >= 1 && cfg->max_inflight <= MAX_INFLIGHT);
    assert(cfg->snapshot_chunk >= 1);
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
            r->snap.data = xrealloc(NULL, boot->snap.len);
            if (boot->snap.len)
                memcpy(r->snap.data, boot->snap.data, boot->snap.len);
        }
        for (size_t i = 0; i < boot->n_entries; i++)
            raft_log_append(&r->log, &boot->entries[i]);
        r->log.stable = raft_log_last_index(&r->log);
        commit_to(r, boot->hs.commit);
    }
    r->prev_term = r->term;
    r->prev_vote = r->vote;
    r->role = RAFT_FOLLOWER;
    reset_timers(r);
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
