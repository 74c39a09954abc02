/*
 * raft_log.c — the Raft core's in-memory log.
 *
 * The log is an array of entries that starts right after the snapshot:
 * ents[0] has index snap_index + 1. The snapshot stands for every entry up
 * to snap_index, and its term (snap_term) answers "the term at snap_index",
 * which the consistency check of the entry after it needs.
 *
 * Four indexes walk along it: stable (entries up to it are on disk),
 * applied <= committed <= last. A truncation (a follower's conflicting
 * suffix) may move stable back; it never goes below committed, which the
 * protocol guarantees and this file asserts. Compaction drops a prefix that
 * the application has applied and snapshotted.
 *
 * Entries own their data (a kv_malloc'd copy). Allocation failure aborts:
 * see raft.h.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "raft_int.h"

static void *xrealloc(void *p, size_t n)
{
    void *q = kv_realloc(p, n ? n : 1);
    if (q == NULL)
        abort();
    return q;
}

void raft_log_init(raft_log *l)
{
    memset(l, 0, sizeof *l);
}

void raft_log_free(raft_log *l)
{
    for (size_t i = 0; i < l->n; i++)
        kv_free(l->ents[i].data);
    kv_free(l->ents);
    memset(l, 0, sizeof *l);
}

uint64_t raft_log_last_index(const raft_log *l)
{
    return l->snap_index + l->n;
}

uint64_t raft_log_last_term(const raft_log *l)
{
    return l->n ? l->ents[l->n - 1].term : l->snap_term;
}

bool raft_log_term(const raft_log *l, uint64_t index, uint64_t *term)
{
    if (index == l->snap_index) {
        *term = l->snap_term;
        return true;
    }
    if (index < l->snap_index || index > raft_log_last_index(l))
        return false;
    *term = l->ents[index - l->snap_index - 1].term;
    return true;
}

const raft_entry *raft_log_at(const raft_log *l, uint64_t index)
{
    if (index <= l->snap_index || index > raft_log_last_index(l))
        return NULL;
    return &l->ents[index - l->snap_index - 1];
}

void raft_log_append(raft_log *l, const raft_entry *e)
{
    assert(e->index == raft_log_last_index(l) + 1);
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->ents = xrealloc(l->ents, l->cap * sizeof *l->ents);
    }
    raft_entry *d = &l->ents[l->n++];
    *d = *e;
    d->data = xrealloc(NULL, e->len);
    if (e->len)
        memcpy(d->data, e->data, e->len);
}

void raft_log_truncate(raft_log *l, uint64_t index)
{
    assert(index > l->committed && index > l->snap_index);
    while (raft_log_last_index(l) >= index) {
        l->n--;
        kv_free(l->ents[l->n].data);
    }
    if (l->stable >= index)
        l->stable = index - 1;
}

void raft_log_compact(raft_log *l, uint64_t index, uint64_t term)
{
    assert(index <= l->applied && index > l->snap_index && index <= raft_log_last_index(l));
    size_t drop = (size_t)(index - l->snap_index);
    for (size_t i = 0; i < drop; i++)
        kv_free(l->ents[i].data);
    memmove(l->ents, l->ents + drop, (l->n - drop) * sizeof *l->ents);
    l->n -= drop;
    l->snap_index = index;
    l->snap_term = term;
}

void raft_log_restore(raft_log *l, uint64_t index, uint64_t term)
{
    for (size_t i = 0; i < l->n; i++)
        kv_free(l->ents[i].data);
    l->n = 0;
    l->snap_index = index;
    l->snap_term = term;
    l->committed = l->applied = l->stable = index;
}

uint64_t raft_log_first_of_term(const raft_log *l, uint64_t index)
{
    uint64_t t;
    if (!raft_log_term(l, index, &t))
        return index;
    uint64_t i = index;
    uint64_t pt;
    while (i > l->snap_index + 1 && raft_log_term(l, i - 1, &pt) && pt == t)
        i--;
    return i;
}

uint64_t raft_log_last_of_term(const raft_log *l, uint64_t term)
{
    for (uint64_t i = raft_log_last_index(l); i > l->snap_index; i--) {
        uint64_t t = l->ents[i - l->snap_index - 1].term;
        if (t == term)
            return i;
        if (t < term)
            return 0;
    }
    return 0;
}
