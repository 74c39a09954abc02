/*
 * cluster_manager.c — a Raft node: the core driven through its ready loop,
 * with its storage and its state machine (raft_node.h).
 *
 * This is the only place that knows the order raft.h demands:
 *
 *   [a leader: send its replication messages] → persist snapshot → persist
 *   hard state → persist entries (each fsynced) → send the other messages
 *   → restore snapshot into the state machine → apply committed entries →
 *   answer reads → raft_advance()
 *
 * The leader writes its own log in parallel with replicating it (Raft
 * thesis §10.2.1): in a ready of a leader whose hard state is unchanged,
 * the APPEND, HEARTBEAT and SNAPSHOT messages go out before the fsync, so
 * the followers write the entries while the leader writes them, instead of
 * one fsync after the other. Why this is safe:
 *   - those messages promise nothing about the leader's disk. An APPEND
 *     carries entries, the leader's term and its commit index; the term is
 *     durable (it was persisted with the vote for itself, before the vote
 *     requests went out, and an unchanged hard state means nothing of it is
 *     pending), and the commit index counts only durable copies (below);
 *   - the leader counts its own copy towards a quorum only in
 *     raft_advance(), from the index persisted (raft_log::stable), after
 *     the fsync: an entry commits only once a majority holds it durably,
 *     with or without the leader. If the leader dies before its fsync, the
 *     entry is on the followers only, and a restarted leader with a shorter
 *     log loses the election to any node holding a committed entry;
 *   - every other message still waits for the fsync: a vote or an append
 *     acknowledgement (a promise about this node's disk), a vote request
 *     (its term must be durable first), and anything in a ready that
 *     changes the hard state or carries a snapshot (then nothing goes
 *     early: the ready is not a steady leader's).
 *
 * and the only place that takes snapshots: after a round in which the
 * applied index has moved snapshot_every entries past the last snapshot, it
 * asks the state machine to serialize itself, persists the snapshot (the
 * storage rewrites the log without the covered entries) and then tells the
 * core (raft_compact()), which drops those entries from memory.
 *
 * The same node runs in the simulator (distributed/sim/), in the raftsim
 * engine and, later, in real processes: only the send callback and the env
 * differ. A node whose persist fails returns the error and must be closed:
 * it may not send what it could not make durable (a leader may already have
 * sent its replication messages: they promise nothing, see above).
 */
#include <stdlib.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "raft_node.h"

struct raft_node {
    raft *core;
    raft_storage *st;
    const raft_sm_ops *ops;
    void *sm;
    uint64_t snapshot_every;
    uint64_t applied;
    uint64_t persists;
};

int raft_node_open(const kv_env *env, const char *dir, const raft_config *cfg,
                   const raft_sm_ops *sm_ops, void *sm, uint64_t snapshot_every,
                   raft_node **out)
{
    return raft_node_open_mode(env, dir, 0600, cfg, sm_ops, sm, snapshot_every, out);
}

int raft_node_open_mode(const kv_env *env, const char *dir, unsigned mode,
                        const raft_config *cfg, const raft_sm_ops *sm_ops, void *sm,
                        uint64_t snapshot_every, raft_node **out)
{
    *out = NULL;
    raft_node *n = kv_calloc(1, sizeof *n);
    if (n == NULL)
        return KV_ENOMEM;
    raft_boot boot;
    int rc = raft_storage_open_mode(env, dir, mode, &n->st, &boot);
    if (rc)
        goto out_free_node;
    if (boot.snap.index &&
        sm_ops->restore(sm, boot.snap.data, boot.snap.len, boot.snap.index) != 0) {
        rc = kv_fail(KV_ECORRUPT, "raft node: the state machine refused the snapshot");
        goto out_close_storage;
    }
    n->applied = boot.snap.index;
    n->core = raft_new(cfg, &boot);
    raft_boot_free(&boot);
    n->ops = sm_ops;
    n->sm = sm;
    n->snapshot_every = snapshot_every;
    *out = n;
    return KV_OK;
out_close_storage:
    raft_boot_free(&boot);
    raft_storage_close(n->st);
out_free_node:
    kv_free(n);
    return rc;
}

static int maybe_snapshot(raft_node *n)
{
    raft *r = n->core;
    uint64_t si = raft_get_snap_index(r);
    if (n->snapshot_every == 0 || n->applied < si + n->snapshot_every)
        return KV_OK;
    uint8_t *data = NULL;
    size_t len = 0;
    if (n->ops->snapshot(n->sm, &data, &len) != 0)
        return KV_OK;
    raft_snapshot snap = { .index = n->applied, .term = raft_get_term_at(r, n->applied),
                           .len = len, .data = data };
    raft_get_membership_at(r, n->applied, &snap.conf); /* a restart restores it */
    /* The persisted entries after the snapshot stay in the rewritten log. */
    uint64_t last = raft_get_last_index(r);
    size_t n_rest = (size_t)(last - n->applied);
    raft_entry *rest = n_rest ? kv_calloc(n_rest, sizeof *rest) : NULL;
    int rc = KV_ENOMEM;
    if (n_rest && rest == NULL)
        goto out_free_data;
    for (size_t i = 0; i < n_rest; i++)
        rest[i] = *raft_get_entry(r, n->applied + 1 + i);
    rc = raft_storage_save_snapshot(n->st, &snap, rest, n_rest);
    if (rc == KV_OK)
        raft_compact(r, n->applied, data, len);
    kv_free(rest);
out_free_data:
    kv_free(data);
    return rc;
}

/* A message a leader may send before it persists its ready: it carries the
 * leader's entries or commit index and promises nothing about its disk. */
static bool replication_msg(const raft_msg *m)
{
    return m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT ||
           m->type == RAFT_MSG_SNAPSHOT;
}

int raft_node_process(raft_node *n, raft_send_fn send, void *ctx)
{
    raft *r = n->core;
    while (raft_has_ready(r)) {
        raft_ready rd;
        raft_ready_get(r, &rd);
        int rc;
        /* A steady leader replicates while it writes (see the file comment). */
        bool early = raft_get_role(r) == RAFT_LEADER && !rd.hs_changed && rd.snap == NULL;
        if (early)
            for (size_t i = 0; i < rd.n_msgs; i++)
                if (replication_msg(&rd.msgs[i]))
                    send(ctx, &rd.msgs[i]);
        if (rd.snap) {
            if ((rc = raft_storage_save_snapshot(n->st, rd.snap, NULL, 0)))
                return rc;
            n->persists++;
        }
        if (rd.hs_changed) {
            if ((rc = raft_storage_save_hs(n->st, &rd.hs)))
                return rc;
            n->persists++;
        }
        if (rd.n_entries) {
            if ((rc = raft_storage_append(n->st, rd.entries, rd.n_entries)))
                return rc;
            n->persists++;
        }
        for (size_t i = 0; i < rd.n_msgs; i++)
            if (!early || !replication_msg(&rd.msgs[i]))
                send(ctx, &rd.msgs[i]);
        if (rd.snap) {
            if (n->ops->restore(n->sm, rd.snap->data, rd.snap->len, rd.snap->index) != 0)
                return kv_fail(KV_ECORRUPT, "raft node: the state machine refused a snapshot");
            n->applied = rd.snap->index;
        }
        for (size_t i = 0; i < rd.n_committed; i++) {
            n->ops->apply(n->sm, &rd.committed[i]);
            n->applied = rd.committed[i].index;
        }
        if (n->ops->read_ready)
            for (size_t i = 0; i < rd.n_reads; i++)
                n->ops->read_ready(n->sm, rd.reads[i].ctx, rd.reads[i].index);
        raft_advance(r, &rd);
        if ((rc = maybe_snapshot(n)))
            return rc;
    }
    return KV_OK;
}

raft *raft_node_core(raft_node *n)
{
    return n->core;
}

raft_storage *raft_node_storage(raft_node *n)
{
    return n->st;
}

uint64_t raft_node_persists(const raft_node *n)
{
    return n->persists;
}

void raft_node_close(raft_node *n)
{
    if (n == NULL)
        return;
    raft_free(n->core);
    raft_storage_close(n->st);
    kv_free(n);
}
