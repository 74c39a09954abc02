/*
 * shm_oplog.c — the shared-memory store's operation log: a bounded ring of
 * records in the segment, one per operation, each with the client's pid.
 *
 * What this layer is. Seed 003 asks for a log of client operations with a
 * client id. Here the log lives inside the segment (extent 0, after the
 * shard table), so it costs no file I/O on the hot path, every process
 * appends to the same log, and `kvshm log DIR` reads it from any process.
 * It is bounded: a ring of `log_entries` 64-byte records (option at
 * creation, default 4096; 0 turns it off), so it never grows with the
 * number of clients or operations; the oldest records are overwritten.
 *
 * What is recorded: puts and deletes (with their status), opens, closes,
 * creation, repairs, snapshots, restores, `kvshm host` and `kvshm destroy`;
 * gets too when a handle is opened with `log=all`; only the events with
 * `log=none`. A record keeps the key's first 32 bytes and its length.
 *
 * How it works (no lock). An appender takes a slot number with one atomic
 * fetch-add on hdr->log_head and writes record (slot mod N) as a seqlock:
 * seq := 0, the fields (release stores), then seq := slot + 1 (release). A
 * reader reads seq, the fields (acquire loads), then seq again, and keeps the record only when
 * both reads give slot + 1: a record being written, or overwritten by an
 * appender one lap later, is skipped rather than shown torn. Every field is
 * an atomic word, so a reader racing a writer is well-defined C.
 *
 * Callers must not: rely on the log for durability or completeness (two
 * appenders a full lap apart can clobber one slot; the ring forgets).
 */
#include <string.h>
#include <time.h>

#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "shm.h"

void kvshm_log(kvshm_seg *s, int op, int status, const void *key, size_t klen, size_t vlen)
{
    uint64_t slot, words[KVSHM_LOG_KEY / 8] = {0};
    struct timespec ts;
    kvshm_logrec *r;

    if (!s->log || !s->log_entries)
        return;
    if (key && klen)
        memcpy(words, key, klen < KVSHM_LOG_KEY ? klen : KVSHM_LOG_KEY);
    clock_gettime(CLOCK_REALTIME, &ts);
    slot = atomic_fetch_add_explicit(&s->hdr->log_head, 1, memory_order_relaxed);
    r = &s->log[slot % s->log_entries];
    atomic_store_explicit(&r->seq, 0, memory_order_relaxed);
    /* Release stores: a reader that sees any of them also sees seq == 0. */
    atomic_store_explicit(&r->time_ns, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec,
                          memory_order_release);
    atomic_store_explicit(&r->pid, s->pid, memory_order_release);
    atomic_store_explicit(&r->op, (uint32_t)(op & 0xff) | (uint32_t)((-status) & 0xff) << 8,
                          memory_order_release);
    atomic_store_explicit(&r->klen, klen > UINT32_MAX ? UINT32_MAX : (uint32_t)klen,
                          memory_order_release);
    atomic_store_explicit(&r->vlen, vlen > UINT32_MAX ? UINT32_MAX : (uint32_t)vlen,
                          memory_order_release);
    for (unsigned i = 0; i < KVSHM_LOG_KEY / 8; i++)
        atomic_store_explicit(&r->key[i], words[i], memory_order_release);
    atomic_store_explicit(&r->seq, slot + 1, memory_order_release);
}

/* Copy one slot if it holds record number `slot` completely. */
static bool read_slot(kvshm_seg *s, uint64_t slot, kvshm_log_entry *out)
{
    kvshm_logrec *r = &s->log[slot % s->log_entries];
    uint64_t words[KVSHM_LOG_KEY / 8];
    uint32_t op;

    if (atomic_load_explicit(&r->seq, memory_order_acquire) != slot + 1)
        return false;
    out->seq = slot;
    /* Acquire loads keep the second read of seq after them. */
    out->time_ns = atomic_load_explicit(&r->time_ns, memory_order_acquire);
    out->pid = atomic_load_explicit(&r->pid, memory_order_acquire);
    op = atomic_load_explicit(&r->op, memory_order_acquire);
    out->klen = atomic_load_explicit(&r->klen, memory_order_acquire);
    out->vlen = atomic_load_explicit(&r->vlen, memory_order_acquire);
    for (unsigned i = 0; i < KVSHM_LOG_KEY / 8; i++)
        words[i] = atomic_load_explicit(&r->key[i], memory_order_acquire);
    if (atomic_load_explicit(&r->seq, memory_order_relaxed) != slot + 1)
        return false;
    out->op = (int)(op & 0xff);
    out->status = -(int)((op >> 8) & 0xff);
    memcpy(out->key, words, sizeof(out->key));
    return true;
}

int kvshm_log_read(kvshm_seg *s, kvshm_log_entry **out, size_t *n)
{
    uint64_t head, first;
    kvshm_log_entry *v;
    size_t k = 0;

    *out = NULL;
    *n = 0;
    if (!s->log || !s->log_entries)
        return KV_OK;
    head = atomic_load_explicit(&s->hdr->log_head, memory_order_acquire);
    first = head > s->log_entries ? head - s->log_entries : 0;
    if (head == first)
        return KV_OK;
    v = kv_malloc((size_t)(head - first) * sizeof(*v));
    if (!v)
        return kv_fail(KV_ENOMEM, "shm: out of memory reading the log");
    for (uint64_t slot = first; slot < head; slot++)
        if (read_slot(s, slot, &v[k]))
            k++;
    *out = v;
    *n = k;
    return KV_OK;
}

const char *kvshm_op_name(int op)
{
    static const char *const names[] = {"?",        "put",     "del",    "get",
                                        "open",     "close",   "repair", "create",
                                        "snapshot", "restore", "host",   "destroy"};

    return op > 0 && op < (int)(sizeof(names) / sizeof(names[0])) ? names[op] : "?";
}
