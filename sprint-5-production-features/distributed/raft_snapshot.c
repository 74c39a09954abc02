/*
 * raft_snapshot.c — snapshots: compaction of the log under an applied
 * snapshot (raft_compact), and InstallSnapshot in chunks, leader and
 * follower side (raft_int.h, raft.h).
 *
 * How it works: a follower whose next entry is compacted away is put in
 * SNAPSHOT state and sent the leader's latest snapshot, snapshot_chunk bytes
 * per message; it answers each chunk with the offset it wants next, so a
 * lost or reordered chunk is sent again and a duplicate is ignored. The
 * follower assembles the chunks of one (index, term) in a buffer; when
 * complete, it either keeps its log (it already holds that entry with that
 * term: only the commit index moves) or replaces its log by the snapshot
 * and hands it to the caller in the next ready. The snapshot's last
 * included term is kept with it: the log check of the next APPEND needs it.
 *
 * The chunks are sent by raft_replication.c (raft_send_snapshot_chunk),
 * the layer below this one, which switches a follower to SNAPSHOT when it
 * finds the entries it needs compacted; this file handles the answers and
 * calls replication back down once the snapshot is installed.
 *
 * What callers must not do: compact above the applied index.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/kv.h"
#include "raft_int.h"

void raft_leader_snapshot_resp(raft *r, const raft_msg *m)
{
    progress *p = &r->pr[m->from];
    p->active = true;
    if (p->state != PR_SNAPSHOT)
        return;
    if (m->index != p->snap_index || p->snap_index != r->snap.index) {
        p->snap_offset = 0;
        raft_send_snapshot_chunk(r, m->from);
        return;
    }
    if (m->snap_offset >= r->snap.len) { /* installed */
        if (m->index > p->match)
            p->match = m->index;
        raft_become_probe(p, p->match + 1);
        raft_maybe_commit(r);
        raft_send_append(r, m->from, true);
        return;
    }
    if (m->snap_offset == p->snap_offset)
        return; /* a duplicate answer */
    p->snap_offset = m->snap_offset;
    raft_send_snapshot_chunk(r, m->from);
}
void raft_follower_snapshot(raft *r, const raft_msg *m)
{
    /* STUB: (void)r; (void)m; raft_not_implemented(__func__); */
    /* BEGIN SOLUTION */
    raft_msg *out = raft_new_msg(r, RAFT_MSG_SNAPSHOT_RESP, m->from);
    out->index = m->index;
    if (m->index <= r->log.committed) { /* already have all of it */
        out->snap_offset = m->snap_size;
        return;
    }
    if (m->snap_offset == 0) {
        kv_free(r->in_buf);
        r->in_buf = raft_xrealloc(NULL, (size_t)m->snap_size);
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
        raft_commit_to(r, m->index); /* the log already holds it: keep what follows */
    } else {
        raft_log_restore(&r->log, m->index, m->log_term);
        kv_free(r->snap.data);
        r->snap = (raft_snapshot){ .index = m->index, .term = m->log_term,
                                   .len = (size_t)r->in_size, .data = r->in_buf,
                                   .conf = { .voters = (uint32_t)m->ctx,
                                             .learners = (uint32_t)(m->ctx >> 32) } };
        r->in_buf = NULL;
        r->snap_pending = true;
    }
    kv_free(r->in_buf);
    r->in_buf = NULL;
    /* END SOLUTION */
}
int raft_compact(raft *r, uint64_t index, const void *data, size_t len)
{
    /* STUB: (void)r; (void)index; (void)data; (void)len; raft_not_implemented(__func__); return KV_ENOTSUP; */
    /* BEGIN SOLUTION */
    uint64_t t;
    if (index > r->log.applied || index <= r->log.snap_index || !raft_log_term(&r->log, index, &t))
        return -1;
    raft_membership conf;
    raft_get_membership_at(r, index, &conf); /* before the entries that say it go */
    raft_log_compact(&r->log, index, t);
    kv_free(r->snap.data);
    r->snap = (raft_snapshot){ .index = index, .term = t, .len = len, .data = raft_xrealloc(NULL, len),
                               .conf = conf };
    if (len)
        memcpy(r->snap.data, data, len);
    return 0;
    /* END SOLUTION */
}
