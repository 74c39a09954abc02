/*
 * raft_membership.c — the cluster configuration: who votes, who only
 * learns, how the log and the snapshot carry it, and single-server changes
 * (raft.h "Membership", raft_int.h).
 *
 * How it works
 * ------------
 * The configuration is two bit masks (voters, learners) over node ids. It
 * lives in the log: a RAFT_ENTRY_CONF entry holds the whole new
 * configuration, and the configuration a node obeys is the one of the
 * latest CONF entry in its log, committed or not (the Raft dissertation,
 * §4.1): so a follower whose log is cut back (a conflict) or replaced (a
 * snapshot) falls back to the configuration before. Below the log, the
 * snapshot carries the configuration at its index (raft_snapshot::conf);
 * below that is the initial configuration, voters 0 .. n_nodes-1.
 *
 * raft_conf_refresh() keeps r->conf equal to that after every input (the
 * frame, raft.c, calls it, and tells raft_replication.c when a leader's
 * configuration changed: new members get their progress, and the commit
 * index is recounted). It
 * remembers how far it scanned (conf_scanned, and that entry's term): if
 * that entry is still in the log with the same term, the log up to it is
 * unchanged (log matching) and only the entries after it are scanned;
 * otherwise (a truncation, a restored snapshot) it rescans from the
 * snapshot. A local compaction changes nothing: raft_compact() stores the
 * configuration at its index in the snapshot first. A leader whose configuration gains a member
 * starts that member's progress in PROBE; a change of the voters may move
 * the commit index, so it re-counts.
 *
 * Changes go one server at a time: adding or removing one voter keeps
 * every majority of the old configuration overlapping every majority of
 * the new one, so no two leaders can be elected in a term even while nodes
 * disagree about which of the two is in force. That holds only if a change
 * starts after the previous one is committed, and (the 2015 correction to
 * the dissertation) after the leader has committed an entry of its own
 * term, so a leader never stacks its change on a change of an older leader
 * that a later leader could still overwrite.
 *
 * Learners: a new node joins as a learner (it receives appends and
 * snapshots, never votes, never counts). The catch-up rule for PROMOTE: its
 * match index has reached the leader's commit index at the time of the
 * request, and it was active in the current CheckQuorum round. A promoted
 * voter is then at most the entries proposed since behind, so adding it
 * does not stall commitment while it fetches a long log (§4.2.1).
 *
 * raft_conf_next() is the change's rules: it computes the configuration a
 * request leads to, or why it is refused; raft_change_conf() (raft.c)
 * appends it. A leader that removes itself (§4.2.2) keeps leading until the
 * change commits, without counting its own log in quorums; then it steps
 * down (raft_step_down_if_removed(), raft_election.c).
 *
 * This file calls nothing above the log (raft_log.c): the files of the
 * protocol and the frame call it.
 *
 * What callers must not do: read r->conf before raft_conf_refresh() ran
 * after an input that changed the log.
 */
#include "raft_int.h"

#define CONF_VERSION 1

static uint32_t bit(uint32_t i)
{
    return i < RAFT_MAX_NODES ? 1u << i : 0;
}

static unsigned popcount(uint32_t m)
{
    unsigned n = 0;
    for (; m; m &= m - 1)
        n++;
    return n;
}

bool raft_is_voter(const raft *r, uint32_t i)
{
    return (r->conf.voters & bit(i)) != 0;
}

bool raft_is_peer(const raft *r, uint32_t i)
{
    return i != r->cfg.id && ((r->conf.voters | r->conf.learners) & bit(i)) != 0;
}

unsigned raft_n_voters(const raft *r)
{
    return popcount(r->conf.voters);
}

void raft_conf_encode(const raft_membership *conf, uint8_t out[RAFT_CONF_LEN])
{
    out[0] = CONF_VERSION;
    out[1] = (uint8_t)conf->voters;
    out[2] = (uint8_t)(conf->voters >> 8);
    out[3] = (uint8_t)conf->learners;
    out[4] = (uint8_t)(conf->learners >> 8);
}

int raft_conf_decode(const uint8_t *data, size_t len, raft_membership *conf)
{
    if (len != RAFT_CONF_LEN || data[0] != CONF_VERSION)
        return -1;
    uint32_t v = (uint32_t)data[1] | (uint32_t)data[2] << 8;
    uint32_t l = (uint32_t)data[3] | (uint32_t)data[4] << 8;
    uint32_t all = (1u << RAFT_MAX_NODES) - 1;
    if (v == 0 || (v & l) || (v & ~all) || (l & ~all))
        return -1;
    conf->voters = v;
    conf->learners = l;
    return 0;
}

/* The configuration below the log: the snapshot's, else the initial one. */
static raft_membership base_conf(const raft *r)
{
    if (r->snap.index && r->snap.conf.voters)
        return r->snap.conf;
    return (raft_membership){ .voters = (1u << r->cfg.n_nodes) - 1, .learners = 0 };
}

/* Scan entries (from, to] for CONF entries: the latest wins. */
static void scan(const raft *r, uint64_t from, uint64_t to, raft_membership *conf, uint64_t *at)
{
    for (uint64_t i = from + 1; i <= to; i++) {
        const raft_entry *e = raft_log_at(&r->log, i);
        raft_membership c;
        if (e && e->type == RAFT_ENTRY_CONF && raft_conf_decode(e->data, e->len, &c) == 0) {
            *conf = c;
            *at = i;
        }
    }
}

void raft_get_membership_at(const raft *r, uint64_t index, raft_membership *conf)
{
    uint64_t last = raft_log_last_index(&r->log), at = 0;
    *conf = base_conf(r);
    scan(r, r->log.snap_index, index < last ? index : last, conf, &at);
}

uint64_t raft_get_membership(const raft *r, raft_membership *conf)
{
    *conf = r->conf;
    return r->conf_index;
}

bool raft_conf_refresh(raft *r, raft_membership *old)
{
    uint64_t last = raft_log_last_index(&r->log), t;
    *old = r->conf;
    bool same = r->conf_scanned >= r->log.snap_index && r->conf_scanned <= last &&
                raft_log_term(&r->log, r->conf_scanned, &t) && t == r->conf_scanned_term;
    if (same && r->conf_scanned == last)
        return false;
    if (!same) { /* cut back or replaced: rescan from the snapshot */
        r->conf = base_conf(r);
        r->conf_index = 0;
        r->conf_scanned = r->log.snap_index;
    }
    scan(r, r->conf_scanned, last, &r->conf, &r->conf_index);
    r->conf_scanned = last;
    raft_log_term(&r->log, last, &r->conf_scanned_term);
    return old->voters != r->conf.voters || old->learners != r->conf.learners;
}

int raft_conf_next(const raft *r, int op, uint32_t node, raft_membership *next)
{
    uint64_t t;
    if (node >= RAFT_MAX_NODES)
        return RAFT_CONF_EINVAL;
    raft_membership c = r->conf;
    uint32_t b = bit(node);
    /* STUB: (void)t; (void)c; (void)b; (void)op; (void)next; return RAFT_CONF_EBUSY; */
    /* BEGIN SOLUTION */
    if (r->conf_index > r->log.committed || !raft_log_term(&r->log, r->log.committed, &t) ||
        t != r->term)
        return RAFT_CONF_EBUSY;
    switch (op) {
    case RAFT_CONF_ADD_LEARNER:
        if ((c.voters | c.learners) & b)
            return RAFT_CONF_EINVAL;
        c.learners |= b;
        break;
    case RAFT_CONF_PROMOTE:
        if (!(c.learners & b))
            return RAFT_CONF_EINVAL;
        if (r->pr[node].match < r->log.committed || !r->pr[node].active)
            return RAFT_CONF_ENOTREADY;
        c.learners &= ~b;
        c.voters |= b;
        break;
    case RAFT_CONF_REMOVE:
        if (!((c.voters | c.learners) & b) || c.voters == b)
            return RAFT_CONF_EINVAL;
        c.voters &= ~b;
        c.learners &= ~b;
        break;
    default:
        return RAFT_CONF_EINVAL;
    }
    *next = c;
    return 0;
    /* END SOLUTION */
}
