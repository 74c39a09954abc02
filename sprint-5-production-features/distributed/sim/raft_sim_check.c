/*
 * raft_sim_check.c — the simulator's safety checker: the four properties
 * of the Raft paper's Figure 3, checked after every step of the simulation.
 *
 * - Election safety: leader_of_term[t] records the first node seen leading
 *   term t; any other node leading t is a violation.
 * - State-machine safety: committed[i] records the first digest applied at
 *   index i (by any node, from an entry or a snapshot); a different digest
 *   at i is a violation.
 * - Log matching: seen[i] lists, for each term met at index i in any log,
 *   the digest there and the term of the entry before it. Meeting (i, t)
 *   again with another digest or another previous term is a violation; by
 *   induction on i that is the whole property (same index and term → same
 *   prefix).
 * - Leader completeness: when a node becomes leader, every index some node
 *   has applied must be in its log with the term it was applied with (or
 *   covered by its snapshot).
 *
 * The digests it compares are its own: raft_sim_digest() (raft_sim.h) of
 * a command, RAFT_SIM_NOOP for a leader's empty entry (sim_entry_digest);
 * the simulator's state machines apply the same ones.
 *
 * The checker only reads the cores (raft_get_*); it never changes a node.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/hash.h"
#include "raft_sim_int.h"

static void *xrealloc(void *p, size_t n)
{
    void *q = kv_realloc(p, n ? n : 1);
    if (q == NULL)
        abort();
    return q;
}

uint64_t raft_sim_digest(const void *cmd, uint32_t len)
{
    uint64_t d = kv_fnv1a64(cmd, len);
    return d == RAFT_SIM_NOOP ? d - 1 : d;
}

uint64_t sim_entry_digest(const raft_entry *e)
{
    return e->type == RAFT_ENTRY_NOOP ? RAFT_SIM_NOOP : raft_sim_digest(e->data, e->len);
}

void sim_check_init(sim_checker *c)
{
    memset(c, 0, sizeof *c);
}

void sim_check_free(sim_checker *c)
{
    kv_free(c->leader_of_term);
    kv_free(c->committed);
    kv_free(c->committed_term);
    kv_free(c->have);
    for (size_t i = 0; i < c->n_index; i++)
        kv_free(c->seen[i]);
    kv_free(c->seen);
    kv_free(c->n_seen);
    kv_free(c->cap_seen);
    memset(c, 0, sizeof *c);
}

void sim_check_fail(sim_checker *c, const char *fmt, ...)
{
    if (c->failed)
        return;
    c->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->failure, sizeof c->failure, fmt, ap);
    va_end(ap);
}

void sim_check_apply(sim_checker *c, uint32_t node, uint64_t index, uint64_t term, uint64_t digest)
{
    if (index > c->n_committed) {
        size_t n = (size_t)index * 2;
        c->committed = xrealloc(c->committed, n * sizeof *c->committed);
        c->committed_term = xrealloc(c->committed_term, n * sizeof *c->committed_term);
        c->have = xrealloc(c->have, n);
        memset(c->have + c->n_committed, 0, n - c->n_committed);
        c->n_committed = n;
    }
    size_t k = (size_t)index - 1;
    if (!c->have[k]) {
        c->have[k] = 1;
        c->committed[k] = digest;
        c->committed_term[k] = term; /* 0 when it came in a snapshot */
        if (index > c->max_applied)
            c->max_applied = index;
    } else if (c->committed[k] != digest) {
        sim_check_fail(c, "state-machine safety: node %u applied %016llx at index %llu, "
                       "another node applied %016llx", node, (unsigned long long)digest,
                       (unsigned long long)index, (unsigned long long)c->committed[k]);
    } else if (c->committed_term[k] == 0) {
        c->committed_term[k] = term;
    }
}


static void check_seen(sim_checker *c, uint32_t node, uint64_t index, uint64_t term,
                       uint64_t digest, uint64_t prev_term)
{
    if (index > c->n_index) {
        size_t n = (size_t)index * 2;
        c->seen = xrealloc(c->seen, n * sizeof *c->seen);
        c->n_seen = xrealloc(c->n_seen, n);
        c->cap_seen = xrealloc(c->cap_seen, n);
        for (size_t i = c->n_index; i < n; i++) {
            c->seen[i] = NULL;
            c->n_seen[i] = c->cap_seen[i] = 0;
        }
        c->n_index = n;
    }
    size_t k = (size_t)index - 1;
    for (unsigned j = 0; j < c->n_seen[k]; j++) {
        seen_entry *s = &c->seen[k][j];
        if (s->term != term)
            continue;
        if (s->digest != digest || s->prev_term != prev_term)
            sim_check_fail(c, "log matching: node %u holds (index %llu, term %llu) with "
                           "command %016llx after term %llu; another log had %016llx after "
                           "term %llu", node, (unsigned long long)index,
                           (unsigned long long)term, (unsigned long long)digest,
                           (unsigned long long)prev_term, (unsigned long long)s->digest,
                           (unsigned long long)s->prev_term);
        return;
    }
    if (c->n_seen[k] == c->cap_seen[k]) {
        if (c->cap_seen[k] >= 128)
            return; /* 128 terms at one index: stop recording, keep running */
        c->cap_seen[k] = (uint8_t)(c->cap_seen[k] ? 2 * c->cap_seen[k] : 2);
        c->seen[k] = xrealloc(c->seen[k], c->cap_seen[k] * sizeof *c->seen[k]);
    }
    c->seen[k][c->n_seen[k]++] = (seen_entry){ term, digest, prev_term };
}

void sim_check_node(sim_checker *c, const raft *r, bool new_leader, uint64_t from)
{
    uint32_t id = raft_get_id(r);
    uint64_t term = raft_get_term(r);
    if (raft_get_role(r) == RAFT_LEADER) {
        if (term >= c->n_terms) {
            size_t n = (size_t)term * 2 + 8;
            c->leader_of_term = xrealloc(c->leader_of_term, n * sizeof *c->leader_of_term);
            for (size_t i = c->n_terms; i < n; i++)
                c->leader_of_term[i] = RAFT_NONE;
            c->n_terms = n;
        }
        raft_membership conf;
        uint64_t ci = raft_get_membership(r, &conf);
        bool voter = (conf.voters >> id) & 1;
        if (!voter && ci <= raft_get_commit(r))
            sim_check_fail(c, "membership: node %u leads term %llu but is no voter of its "
                           "committed configuration (voters %#x, learners %#x)", id,
                           (unsigned long long)term, conf.voters, conf.learners);
        if (new_leader && !voter)
            sim_check_fail(c, "membership: node %u, not a voter (voters %#x), was elected in "
                           "term %llu", id, conf.voters, (unsigned long long)term);
        if (c->leader_of_term[term] == RAFT_NONE)
            c->leader_of_term[term] = id;
        else if (c->leader_of_term[term] != id)
            sim_check_fail(c, "election safety: nodes %u and %u both lead term %llu",
                           c->leader_of_term[term], id, (unsigned long long)term);
    }
    uint64_t si = raft_get_snap_index(r), last = raft_get_last_index(r);
    if (new_leader) {
        for (uint64_t i = si + 1; i <= c->max_applied; i++) {
            if (!c->have[i - 1] || c->committed_term[i - 1] == 0)
                continue;
            if (i > last) {
                sim_check_fail(c, "leader completeness: leader %u of term %llu lacks "
                               "applied index %llu", id, (unsigned long long)term,
                               (unsigned long long)i);
                break;
            }
            const raft_entry *e = raft_get_entry(r, i);
            if (e->term != c->committed_term[i - 1] || sim_entry_digest(e) != c->committed[i - 1]) {
                sim_check_fail(c, "leader completeness: leader %u of term %llu holds term "
                               "%llu at applied index %llu (applied with term %llu)", id,
                               (unsigned long long)term, (unsigned long long)e->term,
                               (unsigned long long)i,
                               (unsigned long long)c->committed_term[i - 1]);
                break;
            }
        }
    }
    if (from <= si)
        from = si + 1;
    for (uint64_t i = from; i <= last; i++) {
        const raft_entry *e = raft_get_entry(r, i);
        check_seen(c, id, i, e->term, sim_entry_digest(e), raft_get_term_at(r, i - 1));
    }
}
