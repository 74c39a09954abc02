/*
 * raft_msg.c — messages as values: deep copy, free, wire size, names.
 *
 * The core hands out messages that it frees at raft_advance(); a transport
 * that keeps one longer (the simulator's network, which delays, reorders
 * and duplicates) takes a deep copy with raft_msg_copy() and frees it with
 * raft_msg_free(). raft_msg_size() is the size of the message in the
 * fixed-width encoding a real transport would use (every header field at
 * its C width, each entry's header and data): what RPCBytes measures.
 */
#include <stdlib.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "raft.h"

static void *dup_bytes(const void *p, size_t n)
{
    void *q = kv_malloc(n ? n : 1);
    if (q == NULL)
        abort();
    if (n)
        memcpy(q, p, n);
    return q;
}

void raft_msg_copy(raft_msg *dst, const raft_msg *src)
{
    *dst = *src;
    dst->entries = NULL;
    dst->snap_data = NULL;
    if (src->n_entries) {
        dst->entries = dup_bytes(src->entries, src->n_entries * sizeof *src->entries);
        for (size_t i = 0; i < src->n_entries; i++)
            dst->entries[i].data = dup_bytes(src->entries[i].data, src->entries[i].len);
    }
    if (src->snap_data)
        dst->snap_data = dup_bytes(src->snap_data, src->snap_len);
}

void raft_msg_free(raft_msg *m)
{
    for (size_t i = 0; i < m->n_entries; i++)
        kv_free(m->entries[i].data);
    kv_free(m->entries);
    kv_free(m->snap_data);
    m->entries = NULL;
    m->snap_data = NULL;
    m->n_entries = 0;
}

size_t raft_msg_size(const raft_msg *m)
{
    /* type 1, from 4, to 4, term/index/log_term/commit/hint_index/hint_term/ctx 7*8,
     * flags 1, n_entries 4, snap offset/size 16, snap_len 4 */
    size_t n = 1 + 4 + 4 + 56 + 1 + 4 + 16 + 4;
    for (size_t i = 0; i < m->n_entries; i++)
        n += 8 + 8 + 1 + 4 + m->entries[i].len;
    return n + m->snap_len;
}

const char *raft_msg_type_name(unsigned type)
{
    static const char *const names[] = { "?", "PREVOTE", "PREVOTE_RESP", "VOTE", "VOTE_RESP",
                                         "APPEND", "APPEND_RESP", "HEARTBEAT", "HEARTBEAT_RESP",
                                         "SNAPSHOT", "SNAPSHOT_RESP", "TIMEOUT_NOW" };
    return type < sizeof names / sizeof names[0] ? names[type] : "?";
}
